/*
 * kafka.h — what the Kafka source and sink share: making a librdkafka
 * client from the brokers, Wire's settings and the user's pass-through, with
 * librdkafka's log in Wire's.
 */
#ifndef WIRE_CONNECTORS_KAFKA_H
#define WIRE_CONNECTORS_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "core/config.h"

typedef struct wire_kafka_setting {
    const char *key, *value; /* a NULL key ends a list */
} wire_kafka_setting;

/*
 * A client of `type`: bootstrap.servers from `brokers`, then `settings`
 * (Wire's), then the `tls:` block as librdkafka's ssl.* (security.protocol
 * ssl; may be NULL), then `user` (the `librdkafka:` option, which wins,
 * e.g. security.protocol sasl_ssl); `opaque` for
 * the callbacks, which `callbacks` (may be NULL) sets on the configuration.
 * NULL with `err` set when a setting is refused or the client cannot start.
 */
rd_kafka_t *wire_kafka_new(rd_kafka_type_t type, const wire_strlist *brokers,
                           const wire_kafka_setting *settings, const wire_tls_opts *tls,
                           const wire_strmap *user, void *opaque,
                           void (*callbacks)(rd_kafka_conf_t *conf), wire_err *err);

#endif
