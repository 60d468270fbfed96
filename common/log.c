/* JSON logger: one object a line on stderr, secrets redacted. */
#include "log.h"

#include "trace.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MAX_SECRETS 8
#define LOG_LINE_MAX 8192

static char log_service[64] = "wf4";
static char log_instance[128] = "";
static log_level log_min = LOG_LEVEL_INFO;
static char *log_secrets[LOG_MAX_SECRETS];
static size_t log_nsecrets;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, const char *instance, log_level min_level)
{
    snprintf(log_service, sizeof log_service, "%s", service ? service : "wf4");
    snprintf(log_instance, sizeof log_instance, "%s", instance ? instance : "");
    log_min = min_level;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i <= LOG_LEVEL_ERROR; i++)
        if (s && strcmp(s, log_names[i]) == 0)
            return i;
    return -1;
}

void log_add_secret(const char *secret)
{
    if (!secret || !*secret)
        return;
    pthread_mutex_lock(&log_lock);
    if (log_nsecrets < LOG_MAX_SECRETS) {
        char *copy = strdup(secret);
        if (copy)
            log_secrets[log_nsecrets++] = copy;
    }
    pthread_mutex_unlock(&log_lock);
}

/* Caller holds log_lock (or runs before threads). */
static void log_redact_locked(const char *s, char *out, size_t n)
{
    size_t o = 0;
    if (n == 0)
        return;
    while (*s && o + 1 < n) {
        size_t hit = 0;
        for (size_t i = 0; i < log_nsecrets; i++) {
            size_t sl = strlen(log_secrets[i]);
            if (strncmp(s, log_secrets[i], sl) == 0) {
                hit = sl;
                break;
            }
        }
        if (hit) {
            for (const char *m = "***"; *m && o + 1 < n; m++)
                out[o++] = *m;
            s += hit;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
}

void log_redact(const char *s, char *out, size_t n)
{
    pthread_mutex_lock(&log_lock);
    log_redact_locked(s ? s : "", out, n);
    pthread_mutex_unlock(&log_lock);
}

static void log_timestamp(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000L);
}

void log_vwrite(log_level level, const char *domain_id, const char *claim_id, const char *fmt,
                va_list ap)
{
    char raw[LOG_LINE_MAX], msg[LOG_LINE_MAX], ts[40];
    if (level < log_min)
        return;
    vsnprintf(raw, sizeof raw, fmt, ap);
    log_timestamp(ts, sizeof ts);

    pthread_mutex_lock(&log_lock);
    log_redact_locked(raw, msg, sizeof msg);
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "ts", json_string(ts));
        json_object_set_new(o, "level", json_string(log_names[level]));
        json_object_set_new(o, "service", json_string(log_service));
        if (log_instance[0])
            json_object_set_new(o, "instance", json_string(log_instance));
        /* json_string rejects invalid UTF-8: fall back to a marker rather than dropping. */
        json_t *m = json_string(msg);
        json_object_set_new(o, "msg", m ? m : json_string("(message not valid UTF-8)"));
        if (domain_id && *domain_id)
            json_object_set_new(o, "domain_id", json_string(domain_id));
        if (claim_id && *claim_id) {
            char trace_id[33];
            json_object_set_new(o, "claim_id", json_string(claim_id));
            /* A claim's trace id is its claim_id's hex digits (trace.h): any line about a
             * claim joins the W3C trace its Kafka messages carry. */
            trace_id_of_claim(claim_id, trace_id);
            if (trace_id[0])
                json_object_set_new(o, "trace_id", json_string(trace_id));
        }
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (line) {
            fputs(line, stderr);
            fputc('\n', stderr);
            free(line);
        }
        json_decref(o);
    }
    pthread_mutex_unlock(&log_lock);
}

void log_write(log_level level, const char *domain_id, const char *claim_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, domain_id, claim_id, fmt, ap);
    va_end(ap);
}
