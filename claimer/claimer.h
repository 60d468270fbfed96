/* The claimer's loop: wake on NOTIFY or a timer, claim a batch, publish it, repeat. */
#ifndef WF4_CLAIMER_H
#define WF4_CLAIMER_H

#include "claim.h"

typedef struct claimer_settings {
    char *database_url, *kafka_brokers, *schema_dir, *registry_url, *claims_topic;
    char *instance_id, *log_level;
    long metrics_port, interval_ms, publish_timeout_ms;
    long fault_publish_delay_ms; /* fault injection for tests: pause between commit and publish */
    long stmt_timeout_ms, lock_timeout_ms, idle_tx_timeout_ms;
    claim_opts claim;
} claimer_settings;

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int claimer_run(const claimer_settings *s);

#endif
