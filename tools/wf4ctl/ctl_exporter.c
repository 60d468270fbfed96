/* wf4ctl exporter: the doctor's and status's detection queries as Prometheus gauges (/metrics). */
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_ops.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

#define EXPORTER_PORT 9104
#define EXPORTER_INTERVAL_S 15

typedef struct exporter_opts {
    long port, interval_s, once;
} exporter_opts;

/* One gauge per column of exporter_sql, in order. */
static const struct {
    const char *name, *help;
} exporter_gauges[] = {
    {"wf4_pg_idle_in_transaction_sessions", "Sessions idle in a transaction"},
    {"wf4_pg_idle_in_transaction_max_seconds",
     "Longest time a session has been idle in a transaction"},
    {"wf4_pg_transaction_max_seconds", "Age of the oldest open transaction not idle"},
    {"wf4_pg_update_max_seconds", "Longest running statement that updates"},
    {"wf4_pg_lock_wait_max_seconds", "Longest running statement waiting for a lock"},
    {"wf4_pg_connections", "Client connections to the server"},
    {"wf4_pg_connections_limit", "max_connections less superuser_reserved_connections"},
    {"wf4_domains_processing", "Domains in processing"},
    {"wf4_domains_past_lease", "Domains in processing past their lease"},
    {"wf4_domains_pending_due", "Pending domains due to be claimed now"},
    {"wf4_domains_oldest_pending_seconds", "How long the oldest due pending domain has waited"},
    {"wf4_domains_oldest_selection_seconds", "Age of the oldest selection not handed off yet"},
    {"wf4_outbox_events", "WF5 handoff events in the outbox"},
    {"wf4_outbox_oldest_seconds", "Age of the oldest outbox row"},
};
#define EXPORTER_NGAUGES (sizeof exporter_gauges / sizeof *exporter_gauges)

/* The session columns see other roles' sessions only with pg_monitor (or as a superuser). */
static const char exporter_sql[] =
    "WITH a AS (SELECT state, state_change, xact_start, query_start, wait_event_type, query"
    "  FROM pg_stat_activity WHERE datname = current_database()"
    "   AND backend_type = 'client backend' AND pid <> pg_backend_pid())"
    " SELECT (SELECT count(*) FROM a WHERE state LIKE 'idle in transaction%'),"
    " (SELECT coalesce(max(extract(epoch FROM now() - state_change)), 0) FROM a"
    "   WHERE state LIKE 'idle in transaction%'),"
    " (SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) FROM a"
    "   WHERE state NOT LIKE 'idle in transaction%'),"
    " (SELECT coalesce(max(extract(epoch FROM now() - query_start)), 0) FROM a"
    "   WHERE state = 'active' AND query ~* '\\mupdate\\M'),"
    " (SELECT coalesce(max(extract(epoch FROM now() - query_start)), 0) FROM a"
    "   WHERE wait_event_type = 'Lock'),"
    " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
    " current_setting('max_connections')::int"
    "   - current_setting('superuser_reserved_connections')::int,"
    " (SELECT count(*) FROM domains WHERE status = 'processing'),"
    " (SELECT count(*) FROM domains WHERE status = 'processing' AND lease_expires_at < now()),"
    " (SELECT count(*) FROM domains WHERE status = 'pending' AND next_attempt_at <= now()),"
    " (SELECT coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0) FROM domains"
    "   WHERE status = 'pending' AND next_attempt_at <= now()),"
    " (SELECT coalesce(extract(epoch FROM now() - min(selected_at)), 0) FROM domains"
    "   WHERE status IN ('pending', 'processing')),"
    " (SELECT coalesce(sum(cardinality(event_ids)), 0) FROM wf5_outbox),"
    " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM wf5_outbox)";

static volatile sig_atomic_t exporter_stop;
static atomic_int exporter_ready; /* read by the HTTP thread (/readyz) */
static metric *exporter_m[EXPORTER_NGAUGES];
static metric *exporter_m_db_ok, *exporter_m_kafka_ok, *exporter_m_seconds;

static void exporter_on_signal(int sig)
{
    (void)sig;
    exporter_stop = 1;
}

static int exporter_ready_fn(void *arg)
{
    (void)arg;
    return atomic_load(&exporter_ready);
}

static void exporter_metrics_init(void)
{
    for (size_t i = 0; i < EXPORTER_NGAUGES; i++)
        exporter_m[i] = metrics_gauge(exporter_gauges[i].name, exporter_gauges[i].help);
    const char *h = "1 when the last collection of this part succeeded";
    exporter_m_db_ok = metrics_gauge("wf4_exporter_collect_ok{part=\"database\"}", h);
    exporter_m_kafka_ok = metrics_gauge("wf4_exporter_collect_ok{part=\"kafka\"}", h);
    exporter_m_seconds = metrics_gauge("wf4_exporter_collect_seconds",
                                       "Duration of the last collection");
}

/* Runs exporter_sql on *d (connected on first use, kept). Returns 0 or -1 (logged). */
static int exporter_database(const ctl_settings *s, db **d)
{
    if (!*d && !(*d = ctl_db_open(s, "wf4ctl-exporter")))
        return -1;
    PGresult *r = db_query(*d, exporter_sql, 0, NULL);
    if (!r) {
        log_warn("exporter: database query failed (SQLSTATE %s)", db_last_sqlstate(*d));
        return -1;
    }
    for (size_t i = 0; i < EXPORTER_NGAUGES && i < (size_t)PQnfields(r); i++)
        metrics_set(exporter_m[i], strtod(PQgetvalue(r, 0, (int)i), NULL));
    PQclear(r);
    return 0;
}

/* Sets `base{k1="v1",k2="v2"}` (k2 may be NULL) to v. */
static void exporter_labelled(const char *base, const char *help, const char *k1, const char *v1,
                              const char *k2, const char *v2, double v)
{
    char name[512];
    if (k2)
        snprintf(name, sizeof name, "%s{%s=\"%s\",%s=\"%s\"}", base, k1, v1, k2, v2);
    else
        snprintf(name, sizeof name, "%s{%s=\"%s\"}", base, k1, v1);
    metrics_set(metrics_gauge(name, help), v);
}

/* Consumer lag and DLQ sizes, through wf4ctl status's Kafka reader. Returns 0 or -1. */
static int exporter_kafka(const ctl_settings *s)
{
    json_t *root = json_pack("{s:[], s:[]}", "errors", "consumer_lag");
    if (!root)
        return -1;
    int rc = ctl_status_kafka(s, root);
    size_t i;
    json_t *v;
    const char *k;
    json_array_foreach(json_object_get(root, "consumer_lag"), i, v)
        exporter_labelled("wf4_kafka_consumer_lag", "Messages past the group's committed offset",
                          "group", json_string_value(json_object_get(v, "group")), "topic",
                          json_string_value(json_object_get(v, "topic")),
                          (double)json_integer_value(json_object_get(v, "lag")));
    json_object_foreach(json_object_get(root, "dlq"), k, v)
        exporter_labelled("wf4_kafka_dlq_messages", "Messages retained in a dead-letter topic",
                          "topic", k, NULL, NULL, (double)json_integer_value(v));
    json_array_foreach(json_object_get(root, "errors"), i, v)
        log_warn("exporter: %s", json_string_value(v));
    json_decref(root);
    return rc;
}

static double exporter_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exporter_collect(const ctl_settings *s, db **d)
{
    double t0 = exporter_now();
    int db_ok = exporter_database(s, d) == 0;
    int kafka_ok = exporter_kafka(s) == 0;
    metrics_set(exporter_m_db_ok, db_ok);
    metrics_set(exporter_m_kafka_ok, kafka_ok);
    metrics_set(exporter_m_seconds, exporter_now() - t0);
    atomic_store(&exporter_ready, db_ok && kafka_ok);
}

static int exporter_usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "Usage: wf4ctl exporter [--port N] [--interval S] [--once]\n"
            "Serves /metrics, /healthz and /readyz on port N (default %d): the database-side\n"
            "signals (sessions idle in a transaction, the oldest transaction, long UPDATEs,\n"
            "lock waits, connections), domain ages (past lease, oldest pending, oldest\n"
            "selection not handed off), the WF5 outbox, consumer lag and DLQ sizes, read\n"
            "every S seconds (default %d). --once: collect once, print /metrics and exit.\n"
            "Connect with WF4_ADMIN_DATABASE_URL (a role with pg_monitor) to see every\n"
            "role's sessions.\n",
            EXPORTER_PORT, EXPORTER_INTERVAL_S);
    return rc;
}

static int exporter_parse(int argc, char **argv, exporter_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--port") == 0) {
            if (ctl_parse_long("--port", next, 0, 65535, &o->port) != 0)
                return 2;
            i++;
        } else if (strcmp(argv[i], "--interval") == 0) {
            if (ctl_parse_long("--interval", next, 1, 3600, &o->interval_s) != 0)
                return 2;
            i++;
        } else if (strcmp(argv[i], "--once") == 0) {
            o->once = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            exporter_usage(0);
            return 1;
        } else {
            return exporter_usage(2);
        }
    }
    return 0;
}

/* --once: one collection printed in the exposition format. Returns the exit status. */
static int exporter_print_once(const ctl_settings *s)
{
    db *d = NULL;
    exporter_collect(s, &d);
    db_close(d);
    char *text = metrics_render();
    if (!text) {
        fprintf(stderr, "wf4ctl exporter: out of memory rendering the metrics\n");
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return atomic_load(&exporter_ready) ? 0 : 1;
}

static void exporter_sleep(long seconds)
{
    struct timespec step = {0, 100 * 1000 * 1000};
    for (long i = 0; i < seconds * 10 && !exporter_stop; i++)
        nanosleep(&step, NULL);
}

int ctl_exporter(const ctl_settings *s, int argc, char **argv)
{
    exporter_opts o = {.port = EXPORTER_PORT, .interval_s = EXPORTER_INTERVAL_S};
    int rc = exporter_parse(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    exporter_metrics_init();
    if (o.once)
        return exporter_print_once(s);
    struct sigaction sa = {.sa_handler = exporter_on_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        perror("wf4ctl exporter: sigaction");
        return 1;
    }
    int port = http_start((int)o.port, exporter_ready_fn, NULL);
    if (port < 0)
        return 1;
    log_info("exporter listening on port %d, collecting every %ld s", port, o.interval_s);
    db *d = NULL;
    while (!exporter_stop) {
        exporter_collect(s, &d);
        exporter_sleep(o.interval_s);
    }
    http_stop();
    db_close(d);
    log_info("exporter stopped");
    return 0;
}
