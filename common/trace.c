/* W3C trace context: a traceparent per claim, carried as a Kafka header through the topics. */
#include "trace.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* 16 hex digits, never all zero (W3C: an all-zero span id is invalid). */
static void trace_span_id(char out[17])
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        struct timespec ts; /* getrandom cannot fail short for 8 bytes; a fallback anyway */
        clock_gettime(CLOCK_REALTIME, &ts);
        v = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)rand();
    }
    if (v == 0)
        v = 1;
    snprintf(out, 17, "%016llx", (unsigned long long)v);
}

static int trace_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

void trace_id_of_claim(const char *claim_id, char *out)
{
    size_t k = 0;
    out[0] = '\0';
    if (!claim_id || strlen(claim_id) != 36)
        return;
    for (size_t i = 0; i < 36; i++) {
        char c = (char)tolower((unsigned char)claim_id[i]);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                goto bad;
            continue;
        }
        if (!trace_is_hex(&c, 1))
            goto bad;
        out[k++] = c;
    }
    out[k] = '\0';
    if (strspn(out, "0") == 32)
        goto bad;
    return;
bad:
    out[0] = '\0';
}

void trace_from_claim(const char *claim_id, char *out)
{
    char id[33], span[17];
    trace_id_of_claim(claim_id, id);
    out[0] = '\0';
    if (!id[0])
        return;
    trace_span_id(span);
    snprintf(out, MSG_TRACEPARENT_LEN, "00-%s-%s-01", id, span);
}

/* 00-<32>-<16>-<2>: 55 characters, lower-case hex. */
static int trace_parent_valid(const char *p)
{
    return p && strlen(p) == 55 && strncmp(p, "00-", 3) == 0 && p[35] == '-' && p[52] == '-' &&
           trace_is_hex(p + 3, 32) && trace_is_hex(p + 36, 16) && trace_is_hex(p + 53, 2);
}

void trace_child(const char *parent, char *out)
{
    char span[17];
    out[0] = '\0';
    if (!trace_parent_valid(parent))
        return;
    trace_span_id(span);
    snprintf(out, MSG_TRACEPARENT_LEN, "00-%.32s-%s-%.2s", parent + 3, span, parent + 53);
}

int trace_header_get(const rd_kafka_message_t *rkm, const char *name, char *out, size_t n)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (rd_kafka_message_headers(rkm, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || !v || len >= n)
        return -1;
    memcpy(out, v, len);
    out[len] = '\0';
    return 0;
}

void trace_result_headers(const rd_kafka_message_t *rkm, msg_result *r)
{
    char buf[24];
    (void)trace_header_get(rkm, TRACE_HEADER_SCRAPER, r->scraper_instance,
                           sizeof r->scraper_instance);
    r->retries = -1;
    if (trace_header_get(rkm, TRACE_HEADER_RETRIES, buf, sizeof buf) == 0) {
        char *end = NULL;
        long v = strtol(buf, &end, 10);
        if (end != buf && *end == '\0' && v >= 0 && v < 1000000)
            r->retries = (int32_t)v;
    }
}

void trace_claim_of_parent(const char *parent, char *out)
{
    out[0] = '\0';
    if (!trace_parent_valid(parent))
        return;
    const char *id = parent + 3;
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12, id + 16, id + 20);
}

void trace_claim_of_message(const rd_kafka_message_t *rkm, char *out)
{
    char tp[MSG_TRACEPARENT_LEN];
    out[0] = '\0';
    if (trace_header_get(rkm, TRACE_HEADER, tp, sizeof tp) == 0)
        trace_claim_of_parent(tp, out);
}
