/* The committer's loop: consume results, apply them in batches, publish the outbox. */
#ifndef WF4_COMMITTER_H
#define WF4_COMMITTER_H

#include "result.h"

typedef struct committer_settings {
    char *database_url, *kafka_brokers, *schema_dir, *registry_url;
    char *results_topic, *handoff_topic, *group, *instance_id, *log_level;
    long batch, linger_ms, metrics_port, publish_timeout_ms, sweep_interval_s;
    long stmt_timeout_ms, lock_timeout_ms, idle_tx_timeout_ms;
    result_opts result;
} committer_settings;

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int committer_run(const committer_settings *s);

#endif
