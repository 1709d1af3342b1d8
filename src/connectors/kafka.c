/*
 * kafka.c — the librdkafka client the Kafka source and sink share (kafka.h).
 */
#include <stdio.h>

#include "connectors/kafka.h"
#include "engine/engine.h"

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (level <= 3)
        wire_warn("kafka: %s: %s", fac, buf);
    else if (level <= 5)
        wire_info("kafka: %s: %s", fac, buf);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, wire_err *err)
{
    char e[512];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
        return wire_errf(err, WIRE_EINVAL, "kafka: %s=%s: %s", k, wire_secret_key(k) ? "***" : v,
                         e);
    return 0;
}

rd_kafka_t *wire_kafka_new(rd_kafka_type_t type, const wire_strlist *brokers,
                           const wire_kafka_setting *settings, const wire_tls_opts *tls,
                           const wire_strmap *user, void *opaque,
                           void (*callbacks)(rd_kafka_conf_t *conf), wire_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    wire_buf list;
    wire_buf_init(&list);
    for (size_t i = 0; i < brokers->n; i++)
        wire_buf_printf(&list, "%s%s", i ? "," : "", brokers->v[i]);
    int rc = set(conf, "bootstrap.servers", list.p ? list.p : "", err);
    wire_buf_free(&list);
    for (const wire_kafka_setting *s = settings; !rc && s && s->key; s++)
        rc = set(conf, s->key, s->value, err);
    if (!rc && tls && tls->enabled && (tls->server_name || tls->min_version != WIRE_TLS_MIN_12))
        rc = wire_errf(err, WIRE_EINVAL,
                       "kafka: tls.%s has no librdkafka setting here: leave it out (the broker "
                       "address's host is verified; TLS 1.2 or newer is negotiated)",
                       tls->server_name ? "server_name" : "min_version");
    if (!rc && tls && tls->enabled) {
        bool verify = tls->verify_certificate != WIRE_TLS_VERIFY_FALSE;
        const wire_kafka_setting ssl[] = {
            {"security.protocol", "ssl"},
            {tls->ca_file ? "ssl.ca.location" : NULL, tls->ca_file},
            {tls->crt_file ? "ssl.certificate.location" : NULL, tls->crt_file},
            {tls->key_file ? "ssl.key.location" : NULL, tls->key_file},
            {tls->key_pass ? "ssl.key.password" : NULL, tls->key_pass},
            {"enable.ssl.certificate.verification", verify ? "true" : "false"},
            {"ssl.endpoint.identification.algorithm", tls->verify_hostname ? "https" : "none"},
        };
        for (size_t i = 0; !rc && i < sizeof(ssl) / sizeof(ssl[0]); i++)
            if (ssl[i].key)
                rc = set(conf, ssl[i].key, ssl[i].value, err);
    }
    for (size_t i = 0; !rc && i < user->n; i++)
        rc = set(conf, user->keys[i], user->vals[i], err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (callbacks)
        callbacks(conf);
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, e, sizeof(e));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        wire_errf(err, WIRE_EINVAL, "kafka: %s", e);
    }
    return rk;
}
