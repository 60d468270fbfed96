/* wf4-claimgen: test tool publishing N claims to a topic and listing them in a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka.h"
#include "log.h"
#include "msg.h"

typedef struct claimgen_opts {
    long n, notfound, invalid, garbage;
    const char *topic, *out, *tag, *replay;
} claimgen_opts;

static int claimgen_failed;

static void claimgen_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "wf4-claimgen: delivery failed: %s\n", rd_kafka_err2str(m->err));
        claimgen_failed = 1;
    }
}

static void claimgen_uuid(FILE *rnd, char out[MSG_UUID_LEN])
{
    unsigned char b[16];
    if (fread(b, 1, sizeof b, rnd) != sizeof b) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, MSG_UUID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

static void claimgen_domain(const claimgen_opts *o, long i, char *buf, size_t n)
{
    static const char *const tlds[] = {"com", "de", "net", "co.uk", "fr", "io"};
    const char *tld = tlds[i % 6];
    if (i < o->notfound)
        snprintf(buf, n, "notfound-%s-%ld.webshop-%ld.%s", o->tag, i, i % 97, tld);
    else if (i < o->notfound + o->invalid)
        snprintf(buf, n, "bad_name..%s-%ld.%s", o->tag, i, tld);
    else
        snprintf(buf, n, "shop-%s-%ld.example-store-%ld.%s", o->tag, i, i % 89, tld);
}

static int claimgen_usage(void)
{
    printf("usage: wf4-claimgen -n N -t TOPIC -o FILE [-g TAG] [--notfound K] [--invalid K] "
           "[--garbage K]\n"
           "       wf4-claimgen --replay FILE -t TOPIC -o FILE\n"
           "Publishes N claims (random UUIDs) to TOPIC and writes 'domain_id claim_id domain'\n"
           "lines to FILE. K of them are notfound-* hosts, K have invalid names; --garbage\n"
           "adds K undecodable messages (not listed). Env: WF4_KAFKA_BROKERS, WF4_SCHEMA_DIR,\n"
           "WF4_SCHEMA_REGISTRY_URL. --replay publishes the claims a FILE of an earlier run\n"
           "lists again, with the same ids (a replay, as after a partition moved).\n");
    return 0;
}

static int claimgen_args(int argc, char **argv, claimgen_opts *o)
{
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (!v)
            return -1;
        if (strcmp(a, "-n") == 0)
            o->n = atol(v);
        else if (strcmp(a, "-t") == 0)
            o->topic = v;
        else if (strcmp(a, "-o") == 0)
            o->out = v;
        else if (strcmp(a, "-g") == 0)
            o->tag = v;
        else if (strcmp(a, "--notfound") == 0)
            o->notfound = atol(v);
        else if (strcmp(a, "--invalid") == 0)
            o->invalid = atol(v);
        else if (strcmp(a, "--garbage") == 0)
            o->garbage = atol(v);
        else if (strcmp(a, "--replay") == 0)
            o->replay = v;
        else
            return -1;
    }
    return (o->n > 0 || o->replay) && o->topic && o->out ? 0 : -1;
}

static int claimgen_send(rd_kafka_t *rk, const char *topic, const char *key, void *buf, size_t len)
{
    rd_kafka_resp_err_t e;
    do {
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 50);
    } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (e)
        fprintf(stderr, "wf4-claimgen: produce: %s\n", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

/* Publishes claim c (attempt 1, a 10-minute lease) and lists it in out. */
static int claimgen_claim(rd_kafka_t *rk, wire *w, const char *topic, msg_claim *c, FILE *out)
{
    char err[512];
    void *buf = NULL;
    size_t len = 0;
    c->attempt = 1;
    c->claimed_at_ms = (int64_t)time(NULL) * 1000;
    c->lease_expires_at_ms = c->claimed_at_ms + 600000;
    if (msg_claim_encode(w, c, &buf, &len, err, sizeof err) != 0) {
        fprintf(stderr, "wf4-claimgen: encode: %s\n", err);
        return -1;
    }
    int rc = claimgen_send(rk, topic, c->domain_id, buf, len);
    free(buf);
    if (rc == 0)
        fprintf(out, "%s %s %s\n", c->domain_id, c->claim_id, c->domain);
    rd_kafka_poll(rk, 0);
    return rc;
}

/* The claims an earlier run listed in path, published again with the same ids. */
static int claimgen_replay(const char *path, rd_kafka_t *rk, wire *w, const char *topic, FILE *out)
{
    char domain[256];
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "wf4-claimgen: cannot open %s\n", path);
        return -1;
    }
    msg_claim c = {.domain = domain};
    int rc = 0;
    while (rc == 0 && fscanf(in, "%36s %36s %255s", c.domain_id, c.claim_id, domain) == 3)
        rc = claimgen_claim(rk, w, topic, &c, out);
    fclose(in);
    return rc;
}

static int claimgen_run(const claimgen_opts *o, rd_kafka_t *rk, wire *w, FILE *out, FILE *rnd)
{
    char domain[256];
    if (o->replay)
        return claimgen_replay(o->replay, rk, w, o->topic, out);
    for (long i = 0; i < o->n; i++) {
        msg_claim c = {.domain = domain};
        claimgen_uuid(rnd, c.domain_id);
        claimgen_uuid(rnd, c.claim_id);
        claimgen_domain(o, i, domain, sizeof domain);
        if (claimgen_claim(rk, w, o->topic, &c, out) != 0)
            return -1;
    }
    for (long i = 0; i < o->garbage; i++) {
        char key[MSG_UUID_LEN], junk[] = "\xff\xfe not an avro message";
        claimgen_uuid(rnd, key);
        if (claimgen_send(rk, o->topic, key, junk, sizeof junk - 1) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    claimgen_opts o = {.tag = "t"};
    char err[512];
    int rc = claimgen_args(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? claimgen_usage() : (claimgen_usage(), 2);
    const char *brokers = getenv("WF4_KAFKA_BROKERS"), *dir = getenv("WF4_SCHEMA_DIR");
    log_init("claimgen", NULL, LOG_LEVEL_WARN);
    if (!brokers) {
        fprintf(stderr, "wf4-claimgen: WF4_KAFKA_BROKERS is not set\n");
        return 2;
    }
    wire *w = wire_new(dir && *dir ? dir : WF4_SCHEMA_DIR_DEFAULT,
                       getenv("WF4_SCHEMA_REGISTRY_URL"), err, sizeof err);
    if (!w || wire_register(w, WIRE_CLAIM, o.topic, err, sizeof err) != 0) {
        fprintf(stderr, "wf4-claimgen: %s\n", err);
        wire_free(w);
        return 1;
    }
    rd_kafka_conf_t *conf = kafka_conf_new(brokers, "wf4-claimgen", err, sizeof err);
    rd_kafka_t *rk = NULL;
    if (conf) {
        rd_kafka_conf_set_dr_msg_cb(conf, claimgen_dr);
        rk = kafka_producer_new(conf, err, sizeof err);
    }
    FILE *out = fopen(o.out, "w"), *rnd = fopen("/dev/urandom", "rb");
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    rc = 1;
    if (!rk || !out || !rnd)
        fprintf(stderr, "wf4-claimgen: %s\n", !rk ? err : "cannot open the output file");
    else if (claimgen_run(&o, rk, w, out, rnd) == 0 && kafka_drain(rk, 60000) == 0 &&
             !claimgen_failed)
        rc = 0;
    if (out && fclose(out) != 0)
        rc = 1;
    if (rnd)
        fclose(rnd);
    if (rk)
        rd_kafka_destroy(rk);
    wire_free(w);
    if (rc == 0 && o.replay)
        printf("published the claims of %s again to %s\n", o.replay, o.topic);
    else if (rc == 0)
        printf("published %ld claims (+%ld undecodable) to %s\n", o.n, o.garbage, o.topic);
    return rc;
}
