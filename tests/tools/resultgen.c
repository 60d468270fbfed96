/* wf4-resultgen: test tool publishing scrape results read from stdin (one per line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "msg.h"

/* Line: DOMAIN_ID CLAIM_ID DOMAIN success|fail|retry [COPIES [CREDITS [TIER]]] */
static int resultgen_line(char *line, msg_result *r, int *copies)
{
    char *save = NULL, *f[7] = {0};
    int n = 0;
    for (char *t = strtok_r(line, " \t\n", &save); t && n < 7; t = strtok_r(NULL, " \t\n", &save))
        f[n++] = t;
    if (n < 4)
        return -1;
    memset(r, 0, sizeof *r);
    snprintf(r->domain_id, sizeof r->domain_id, "%s", f[0]);
    snprintf(r->claim_id, sizeof r->claim_id, "%s", f[1]);
    r->domain = f[2];
    r->attempt = 1;
    r->scraped_at_ms = 1700000000000LL;
    *copies = f[4] ? atoi(f[4]) : 1;
    r->credits = f[5] ? atol(f[5]) : 0;
    snprintf(r->tier, sizeof r->tier, "%s", f[6] ? f[6] : f[5] ? "plain" : "");
    if (strcmp(f[3], "success") == 0) {
        r->outcome = RESULT_SUCCESS;
        r->has_meta = true;
        r->http_status = 200;
        r->meta.title = f[2];
        r->meta.language = "en";
    } else {
        r->outcome = RESULT_FAILURE;
        r->retryable = strcmp(f[3], "retry") == 0;
        r->http_status = r->retryable ? 500 : 404;
        r->error = r->retryable ? "HTTP 500 from ScraperAPI" : "not found (404)";
    }
    return 0;
}

static void resultgen_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    char err[512], line[1024];
    const char *brokers = getenv("WF4_KAFKA_BROKERS"), *dir = getenv("WF4_SCHEMA_DIR");
    const char *topic = argc > 1 ? argv[1] : "wf4.domain.results";
    log_init("resultgen", NULL, LOG_LEVEL_WARN);
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("usage: wf4-resultgen [TOPIC] < lines 'DOMAIN_ID CLAIM_ID DOMAIN "
               "success|fail|retry [COPIES [CREDITS [TIER]]]'\n");
        return 0;
    }
    wire *w = wire_new(dir ? dir : WF4_SCHEMA_DIR_DEFAULT, getenv("WF4_SCHEMA_REGISTRY_URL"), err,
                       sizeof err);
    rd_kafka_conf_t *conf = brokers ? kafka_conf_new(brokers, "wf4-resultgen", err, sizeof err)
                                    : NULL;
    if (!w || !conf || wire_register(w, WIRE_RESULT, topic, err, sizeof err) != 0) {
        fprintf(stderr, "wf4-resultgen: %s\n", brokers ? err : "WF4_KAFKA_BROKERS is missing");
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, resultgen_dr);
    rd_kafka_t *rk = kafka_producer_new(conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "wf4-resultgen: %s\n", err);
        return 2;
    }
    long sent = 0;
    while (fgets(line, sizeof line, stdin)) {
        msg_result r;
        int copies;
        void *buf;
        size_t len;
        if (resultgen_line(line, &r, &copies) != 0)
            continue;
        if (msg_result_encode(w, &r, &buf, &len, err, sizeof err) != 0) {
            fprintf(stderr, "encode: %s\n", err);
            return 1;
        }
        for (int i = 0; i < copies; i++) {
            rd_kafka_resp_err_t e;
            while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                          RD_KAFKA_V_KEY(r.domain_id, strlen(r.domain_id)),
                                          RD_KAFKA_V_VALUE(buf, len),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 50);
            if (e) {
                fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            sent++;
        }
        free(buf);
        rd_kafka_poll(rk, 0);
    }
    int left = kafka_drain(rk, 30000);
    rd_kafka_destroy(rk);
    wire_free(w);
    printf("%ld results sent\n", sent);
    return left ? 1 : 0;
}
