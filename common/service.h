/* Service plumbing shared by the three executables: instance id, signals, clock, endpoint. */
#ifndef WF4_SERVICE_H
#define WF4_SERVICE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"

/* Settings every service shares; loaded by service_config with the service's own table. */
typedef struct service_base {
    char *database_url, *kafka_brokers, *schema_dir, *registry_url, *instance_id, *log_level;
    long metrics_port, stmt_timeout_ms, lock_timeout_ms, idle_tx_timeout_ms;
    long db_deadline_margin_ms, db_connect_timeout_s, db_keepalive_s, db_tcp_user_timeout_ms;
    char instance[128]; /* resolved: WF4_INSTANCE_ID or host-pid */
} service_base;

typedef struct service_spec {
    const char *name;         /* "claimer": logs, --help */
    const char *summary;      /* one paragraph for --help */
    const char *metrics_port; /* default port of /metrics as text */
    int with_db;              /* 1: WF4_DATABASE_URL (required) and the session timeouts */
} service_spec;

/* Loads the shared settings followed by own[] (one table, one --help), checks the log level,
 * resolves the instance id, starts the logger and the signal handlers.
 * Returns 0 to run, 1 when the program should exit 0 (--help, --print-config), -1 on bad
 * configuration (already reported on stderr: exit 2). *table is malloc'ed: release it with
 * service_config_free. */
int service_config(const service_spec *spec, service_base *b, const cfg_entry *own, size_t nown,
                   int argc, char **argv, cfg_entry **table, size_t *n);
void service_config_free(cfg_entry *table, size_t n);

/* Set to 0 by SIGTERM/SIGINT once service_signals() has been called. */
extern volatile sig_atomic_t service_running;

/* Installs SIGTERM/SIGINT handlers that clear service_running; ignores SIGPIPE. */
void service_signals(void);

/* Writes "<hostname>-<pid>" into buf when id is NULL or empty, else copies id. */
void service_instance_id(const char *id, char *buf, size_t n);

/* Serves /metrics, /healthz and /readyz on b->metrics_port. A service nobody can see is
 * not started: a failure is a start-up error, the same in every service. Returns 0 or -1
 * (logged, naming WF4_METRICS_PORT). */
int service_endpoint_start(const service_base *b, http_ready_fn ready, void *arg)
    __attribute__((warn_unused_result));

/* Wall clock in Unix epoch milliseconds; monotonic clock in milliseconds. */
int64_t service_now_ms(void);
int64_t service_mono_ms(void);

#endif
