/* Service plumbing shared by the three executables: instance id, signals, clock, endpoint. */
#include "service.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t service_running = 1;

static void service_on_signal(int sig)
{
    (void)sig;
    service_running = 0;
}

void service_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = service_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void service_instance_id(const char *id, char *buf, size_t n)
{
    char host[256] = "host";
    if (id && *id) {
        snprintf(buf, n, "%s", id);
        return;
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    snprintf(buf, n, "%s-%ld", host, (long)getpid());
}

int service_endpoint_start(const service_base *b, http_ready_fn ready, void *arg)
{
    if (http_start((int)b->metrics_port, ready, arg) >= 0)
        return 0;
    log_error("WF4_METRICS_PORT: cannot serve /metrics on port %ld; not starting", b->metrics_port);
    return -1;
}

int64_t service_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t service_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define SERVICE_BASE_ENTRIES 15

/* The shared entries, database ones only when the service uses PostgreSQL. */
static size_t service_base_entries(cfg_entry *t, service_base *b, const service_spec *spec)
{
    size_t n = 0;
    if (spec->with_db)
        t[n++] = (cfg_entry){.env = "WF4_DATABASE_URL",
                             .type = CFG_SECRET,
                             .required = 1,
                             .dst = &b->database_url,
                             .help = "PostgreSQL URL (libpq), e.g. "
                                     "postgresql://wf4:PASSWORD@db:5432/wf4"};
    t[n++] = (cfg_entry){.env = "WF4_KAFKA_BROKERS",
                         .type = CFG_STR,
                         .required = 1,
                         .dst = &b->kafka_brokers,
                         .help = "Kafka bootstrap servers, e.g. kafka:9092"};
    t[n++] = (cfg_entry){.env = "WF4_SCHEMA_DIR",
                         .type = CFG_STR,
                         .def = WF4_SCHEMA_DIR_DEFAULT,
                         .dst = &b->schema_dir,
                         .help = "directory of the Avro schemas and topic catalogue"};
    t[n++] = (cfg_entry){.env = "WF4_SCHEMA_REGISTRY_URL",
                         .type = CFG_STR,
                         .dst = &b->registry_url,
                         .help = "schema registry (Confluent API); empty = Avro single-object "
                                 "encoding"};
    t[n++] = (cfg_entry){.env = "WF4_METRICS_PORT",
                         .type = CFG_INT,
                         .def = spec->metrics_port,
                         .min = 0,
                         .max = 65535,
                         .dst = &b->metrics_port,
                         .help = "port of /metrics, /healthz, /readyz (0 = any free)"};
    t[n++] = (cfg_entry){.env = "WF4_INSTANCE_ID",
                         .type = CFG_STR,
                         .dst = &b->instance_id,
                         .help = "instance name in logs, client.id, application_name (default "
                                 "host-pid)"};
    t[n++] = (cfg_entry){.env = "WF4_LOG_LEVEL",
                         .type = CFG_STR,
                         .def = "info",
                         .dst = &b->log_level,
                         .help = "debug, info, warn, error"};
    if (!spec->with_db)
        return n;
    t[n++] = (cfg_entry){.env = "WF4_DB_STATEMENT_TIMEOUT_MS",
                         .type = CFG_INT,
                         .def = "10000",
                         .min = 1,
                         .max = 3600000,
                         .dst = &b->stmt_timeout_ms,
                         .help = "statement_timeout of every transaction"};
    t[n++] = (cfg_entry){.env = "WF4_DB_LOCK_TIMEOUT_MS",
                         .type = CFG_INT,
                         .def = "2000",
                         .min = 1,
                         .max = 3600000,
                         .dst = &b->lock_timeout_ms,
                         .help = "lock_timeout of every transaction"};
    t[n++] = (cfg_entry){.env = "WF4_DB_IDLE_TX_TIMEOUT_MS",
                         .type = CFG_INT,
                         .def = "5000",
                         .min = 1,
                         .max = 3600000,
                         .dst = &b->idle_tx_timeout_ms,
                         .help = "idle_in_transaction_session_timeout of every transaction"};
    t[n++] = (cfg_entry){.env = "WF4_DB_DEADLINE_MARGIN_MS",
                         .type = CFG_INT,
                         .def = "2000",
                         .min = 100,
                         .max = 600000,
                         .dst = &b->db_deadline_margin_ms,
                         .help = "a round trip PostgreSQL leaves unanswered for the statement "
                                 "timeout plus this is cancelled, its connection dropped and "
                                 "the transaction retried on a new one"};
    t[n++] = (cfg_entry){.env = "WF4_DB_CONNECT_TIMEOUT_S",
                         .type = CFG_INT,
                         .def = "5",
                         .min = 1,
                         .max = 600,
                         .dst = &b->db_connect_timeout_s,
                         .help = "deadline of a connection attempt"};
    t[n++] = (cfg_entry){.env = "WF4_DB_KEEPALIVE_S",
                         .type = CFG_INT,
                         .def = "5",
                         .min = 1,
                         .max = 3600,
                         .dst = &b->db_keepalive_s,
                         .help = "TCP keepalives_idle and keepalives_interval (count 3) of "
                                 "every connection"};
    t[n++] = (cfg_entry){.env = "WF4_DB_TCP_USER_TIMEOUT_MS",
                         .type = CFG_INT,
                         .def = "15000",
                         .min = 1000,
                         .max = 3600000,
                         .dst = &b->db_tcp_user_timeout_ms,
                         .help = "tcp_user_timeout of every connection: unacknowledged data "
                                 "fails it"};
    return n;
}

int service_config(const service_spec *spec, service_base *b, const cfg_entry *own, size_t nown,
                   int argc, char **argv, cfg_entry **table, size_t *n)
{
    cfg_entry *t = calloc(SERVICE_BASE_ENTRIES + nown, sizeof *t);
    if (!t) {
        fprintf(stderr, "%s: out of memory\n", spec->name);
        return -1;
    }
    size_t k = service_base_entries(t, b, spec);
    memcpy(t + k, own, nown * sizeof *own);
    *table = t;
    *n = k + nown;
    int rc = config_load(t, *n, argc, argv, spec->name, spec->summary);
    if (rc != 0)
        return rc;
    int level = log_level_parse(b->log_level);
    if (level < 0) {
        fprintf(stderr, "WF4_LOG_LEVEL: \"%s\" is not one of debug, info, warn, error\n",
                b->log_level);
        return -1;
    }
    service_instance_id(b->instance_id, b->instance, sizeof b->instance);
    log_init(spec->name, b->instance, (log_level)level);
    service_signals();
    return 0;
}

void service_config_free(cfg_entry *table, size_t n)
{
    if (!table)
        return;
    config_free(table, n);
    free(table);
}
