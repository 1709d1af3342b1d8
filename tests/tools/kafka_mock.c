/*
 * kafka_mock — a librdkafka mock cluster for tests that drive the real
 * `wire` binary (no Kafka broker is installable here; see
 * ../shared/CONNECTORS.md 3.1). The mock runs in this process:
 *
 *   kafka_mock [-b BROKERS] TOPIC:PARTITIONS...
 *
 * prints its bootstrap list ("127.0.0.1:P1,127.0.0.1:P2,...") as the first
 * line of stdout, then reads commands from stdin, one per line, answering
 * "ok" or "error: ..." on stdout:
 *
 *   down ID        the broker with that id (1..BROKERS) stops answering
 *   up ID          and answers again
 *   topic T:N      create another topic with N partitions
 *
 * It exits on end of input or SIGTERM. The mock keeps only the newest 5 MiB
 * of each partition: tests must stay under that.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
    char name[256];
    const char *colon = strrchr(spec, ':');
    int parts = colon ? atoi(colon + 1) : 1;
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0 || n >= sizeof(name) || parts <= 0) {
        fprintf(stderr, "kafka_mock: bad topic '%s' (want NAME:PARTITIONS)\n", spec);
        return -1;
    }
    memcpy(name, spec, n);
    name[n] = 0;
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, parts, 1);
    if (err) {
        fprintf(stderr, "kafka_mock: topic %s: %s\n", name, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 3, i = 1;
    if (argc > 2 && strcmp(argv[1], "-b") == 0) {
        brokers = atoi(argv[2]);
        i = 3;
    }
    if (brokers <= 0 || i >= argc) {
        fprintf(stderr, "usage: kafka_mock [-b BROKERS] TOPIC:PARTITIONS...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: could not create the mock cluster\n");
        return 1;
    }
    for (; i < argc; i++)
        if (create_topic(mc, argv[i]) != 0)
            return 1;
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    char line[512];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        int id;
        char arg[300];
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (sscanf(line, "down %d", &id) == 1)
            err = rd_kafka_mock_broker_set_down(mc, id);
        else if (sscanf(line, "up %d", &id) == 1)
            err = rd_kafka_mock_broker_set_up(mc, id);
        else if (sscanf(line, "topic %299s", arg) == 1)
            err = create_topic(mc, arg) ? RD_KAFKA_RESP_ERR__INVALID_ARG : 0;
        else if (line[0])
            err = RD_KAFKA_RESP_ERR__INVALID_ARG;
        if (err)
            printf("error: %s: %s\n", line, rd_kafka_err2str(err));
        else
            printf("ok\n");
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
