/* Prometheus metrics: a process-wide registry rendered in text exposition format 0.0.4. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define METRICS_NAME_MAX 512

typedef enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type;

struct metric {
    metric_type type;
    char *name;   /* full series name as registered, labels included */
    char *base;   /* name without labels */
    char *labels; /* text between the braces, "" when none */
    char *help;
    double value; /* counter/gauge value; histogram sum */
    double *bounds;
    uint64_t *counts; /* per bucket (not cumulative), nbuckets entries */
    size_t nbuckets;
    uint64_t count;
};

/* One lock for registration, updates and rendering: updates are a few instructions, and a
 * single lock keeps a rendered page consistent with no lock ordering to get wrong. */
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static metric **metrics_list;
static size_t metrics_len, metrics_cap;

const double metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                          0.5,   1,      2.5,   5,    10,    30,   60,  120};
const size_t metrics_latency_nbuckets = sizeof metrics_latency_buckets /
                                        sizeof metrics_latency_buckets[0];

static const char *const metrics_type_names[] = {"counter", "gauge", "histogram"};

static int metrics_name_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':')
        return 1;
    return !first && c >= '0' && c <= '9';
}

/* Splits "base{labels}" into its parts; returns -1 (logged) when the name is malformed. */
static int metrics_split(const char *name, char **base, char **labels)
{
    size_t n = 0, len = strlen(name);
    while (n < len && name[n] != '{') {
        if (!metrics_name_char(name[n], n == 0))
            break;
        n++;
    }
    int ok = n > 0 && len < METRICS_NAME_MAX &&
             (n == len || (name[n] == '{' && name[len - 1] == '}'));
    if (!ok) {
        log_error("metrics: invalid series name \"%s\"", name);
        return -1;
    }
    *base = strndup(name, n);
    *labels = n == len ? strdup("") : strndup(name + n + 1, len - n - 2);
    if (!*base || !*labels) {
        log_error("metrics: out of memory registering \"%s\"", name);
        free(*base);
        free(*labels);
        return -1;
    }
    return 0;
}

static void metrics_free_one(metric *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->base);
    free(m->labels);
    free(m->help);
    free(m->bounds);
    free(m->counts);
    free(m);
}

static int metrics_check_buckets(const char *name, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(b[i]) || (i > 0 && b[i] <= b[i - 1])) {
            log_error("metrics: buckets of \"%s\" are not strictly ascending", name);
            return -1;
        }
    }
    return 0;
}

static metric *metrics_new(metric_type type, const char *name, const char *help,
                           const double *buckets, size_t nbuckets)
{
    metric *m = calloc(1, sizeof *m);
    if (!m) {
        log_error("metrics: out of memory registering \"%s\"", name);
        return NULL;
    }
    m->type = type;
    m->nbuckets = nbuckets;
    if (metrics_split(name, &m->base, &m->labels) != 0)
        goto failed;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    if (nbuckets > 0) {
        m->bounds = malloc(nbuckets * sizeof *m->bounds);
        m->counts = calloc(nbuckets, sizeof *m->counts);
    }
    if (!m->name || !m->help || (nbuckets > 0 && (!m->bounds || !m->counts))) {
        log_error("metrics: out of memory registering \"%s\"", name);
        goto failed;
    }
    if (nbuckets > 0)
        memcpy(m->bounds, buckets, nbuckets * sizeof *m->bounds);
    return m;
failed:
    metrics_free_one(m);
    return NULL;
}

/* Caller holds metrics_lock. Returns the series with this exact name, or NULL. */
static metric *metrics_find_locked(const char *name)
{
    for (size_t i = 0; i < metrics_len; i++)
        if (strcmp(metrics_list[i]->name, name) == 0)
            return metrics_list[i];
    return NULL;
}

/* Caller holds metrics_lock. A base name has one type: all its series must agree. */
static int metrics_type_clash_locked(const metric *m)
{
    for (size_t i = 0; i < metrics_len; i++)
        if (strcmp(metrics_list[i]->base, m->base) == 0 && metrics_list[i]->type != m->type)
            return 1;
    return 0;
}

static int metrics_append_locked(metric *m)
{
    if (metrics_len == metrics_cap) {
        size_t cap = metrics_cap ? metrics_cap * 2 : 32;
        metric **list = realloc(metrics_list, cap * sizeof *list);
        if (!list) {
            log_error("metrics: out of memory growing the registry");
            return -1;
        }
        metrics_list = list;
        metrics_cap = cap;
    }
    metrics_list[metrics_len++] = m;
    return 0;
}

static metric *metrics_register(metric_type type, const char *name, const char *help,
                                const double *buckets, size_t nbuckets)
{
    if (!name || (nbuckets > 0 && !buckets) || metrics_check_buckets(name, buckets, nbuckets))
        return NULL;
    pthread_mutex_lock(&metrics_lock);
    metric *m = metrics_find_locked(name);
    if (m) {
        if (m->type != type) {
            log_error("metrics: \"%s\" already registered as a %s", name,
                      metrics_type_names[m->type]);
            m = NULL;
        }
        goto done;
    }
    m = metrics_new(type, name, help, buckets, nbuckets);
    if (!m)
        goto done;
    if (metrics_type_clash_locked(m)) {
        log_error("metrics: \"%s\" clashes with a series of another type", name);
        goto discard;
    }
    if (metrics_append_locked(m) == 0)
        goto done;
discard:
    metrics_free_one(m);
    m = NULL;
done:
    pthread_mutex_unlock(&metrics_lock);
    return m;
}

metric *metrics_counter(const char *name, const char *help)
{
    return metrics_register(METRIC_COUNTER, name, help, NULL, 0);
}

metric *metrics_gauge(const char *name, const char *help)
{
    return metrics_register(METRIC_GAUGE, name, help, NULL, 0);
}

metric *metrics_histogram(const char *name, const char *help, const double *buckets,
                          size_t nbuckets)
{
    return metrics_register(METRIC_HISTOGRAM, name, help, buckets, nbuckets);
}

/* Counters only go up: a negative increment is ignored, as Prometheus requires. */
void metrics_add(metric *m, double v)
{
    if (!m || m->type == METRIC_HISTOGRAM || (m->type == METRIC_COUNTER && !(v >= 0)))
        return;
    pthread_mutex_lock(&metrics_lock);
    m->value += v;
    pthread_mutex_unlock(&metrics_lock);
}

void metrics_set(metric *m, double v)
{
    if (!m || m->type == METRIC_HISTOGRAM)
        return;
    pthread_mutex_lock(&metrics_lock);
    m->value = v;
    pthread_mutex_unlock(&metrics_lock);
}

void metrics_observe(metric *m, double v)
{
    if (!m || m->type != METRIC_HISTOGRAM)
        return;
    pthread_mutex_lock(&metrics_lock);
    for (size_t i = 0; i < m->nbuckets; i++) {
        if (v <= m->bounds[i]) {
            m->counts[i]++;
            break;
        }
    }
    m->count++;
    m->value += v;
    pthread_mutex_unlock(&metrics_lock);
}

double metrics_value(const metric *m)
{
    if (!m)
        return 0;
    pthread_mutex_lock(&metrics_lock);
    double v = m->value;
    pthread_mutex_unlock(&metrics_lock);
    return v;
}

/* ---- rendering ---- */

typedef struct metrics_buf {
    char *data;
    size_t len, cap;
    int failed;
} metrics_buf;

static void metrics_printf(metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void metrics_printf(metrics_buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->failed = 1;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
}

/* Shortest text that reads back as the same double; whole numbers below 1e15 without an
 * exponent, so that counters read naturally ("1234567", not "1.234567e+06"). */
static void metrics_format(double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
    } else if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, n, "%.0f", v);
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(out, n, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                return;
        }
    }
}

/* HELP text escapes backslash and newline. */
static void metrics_print_help(metrics_buf *b, const metric *m)
{
    metrics_printf(b, "# HELP %s ", m->base);
    for (const char *p = m->help; *p; p++) {
        if (*p == '\\')
            metrics_printf(b, "\\\\");
        else if (*p == '\n')
            metrics_printf(b, "\\n");
        else
            metrics_printf(b, "%c", *p);
    }
    metrics_printf(b, "\n# TYPE %s %s\n", m->base, metrics_type_names[m->type]);
}

static void metrics_print_histogram(metrics_buf *b, const metric *m)
{
    char num[64];
    const char *sep = m->labels[0] ? "," : "";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < m->nbuckets; i++) {
        cumulative += m->counts[i];
        metrics_format(m->bounds[i], num, sizeof num);
        metrics_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", m->base, m->labels, sep, num,
                       (unsigned long long)cumulative);
    }
    metrics_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", m->base, m->labels, sep,
                   (unsigned long long)m->count);
    metrics_format(m->value, num, sizeof num);
    if (m->labels[0]) {
        metrics_printf(b, "%s_sum{%s} %s\n", m->base, m->labels, num);
        metrics_printf(b, "%s_count{%s} %llu\n", m->base, m->labels, (unsigned long long)m->count);
    } else {
        metrics_printf(b, "%s_sum %s\n", m->base, num);
        metrics_printf(b, "%s_count %llu\n", m->base, (unsigned long long)m->count);
    }
}

static void metrics_print_series(metrics_buf *b, const metric *m)
{
    char num[64];
    if (m->type == METRIC_HISTOGRAM) {
        metrics_print_histogram(b, m);
        return;
    }
    metrics_format(m->value, num, sizeof num);
    metrics_printf(b, "%s %s\n", m->name, num);
}

/* Caller holds metrics_lock. Series sharing a base name are written together, under one
 * HELP/TYPE pair, in registration order (the first registration's help text wins). */
static void metrics_render_locked(metrics_buf *b)
{
    for (size_t i = 0; i < metrics_len; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(metrics_list[j]->base, metrics_list[i]->base) == 0;
        if (seen)
            continue;
        metrics_print_help(b, metrics_list[i]);
        for (size_t j = i; j < metrics_len; j++)
            if (strcmp(metrics_list[j]->base, metrics_list[i]->base) == 0)
                metrics_print_series(b, metrics_list[j]);
    }
}

#define METRICS_DEPS_MAX 8

static metric *metrics_deps[METRICS_DEPS_MAX];
static size_t metrics_ndeps;
static pthread_mutex_t metrics_deps_lock = PTHREAD_MUTEX_INITIALIZER;

void metrics_dependency_set(const char *dependency, int up)
{
    char name[128];
    snprintf(name, sizeof name, "wf4_dependency_up{dependency=\"%s\"}", dependency);
    metric *m = metrics_gauge(name, "1 while the service can reach the dependency, else 0");
    if (!m)
        return;
    pthread_mutex_lock(&metrics_deps_lock);
    size_t i = 0;
    while (i < metrics_ndeps && metrics_deps[i] != m)
        i++;
    if (i == metrics_ndeps && metrics_ndeps < METRICS_DEPS_MAX)
        metrics_deps[metrics_ndeps++] = m;
    pthread_mutex_unlock(&metrics_deps_lock);
    metrics_set(m, up ? 1 : 0);
}

int metrics_dependencies_up(void)
{
    int up = 1;
    pthread_mutex_lock(&metrics_deps_lock);
    for (size_t i = 0; i < metrics_ndeps; i++)
        up &= metrics_value(metrics_deps[i]) > 0.5;
    pthread_mutex_unlock(&metrics_deps_lock);
    return up;
}

char *metrics_render(void)
{
    metrics_buf b = {.data = malloc(4096), .cap = 4096};
    if (!b.data) {
        log_error("metrics: out of memory rendering");
        return NULL;
    }
    b.data[0] = '\0';
    pthread_mutex_lock(&metrics_lock);
    metrics_render_locked(&b);
    pthread_mutex_unlock(&metrics_lock);
    if (b.failed) {
        log_error("metrics: out of memory rendering");
        free(b.data);
        return NULL;
    }
    return b.data;
}
