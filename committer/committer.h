/* The committer's loop: consume results, apply them in batches, publish the outbox. */
#ifndef WF4_COMMITTER_H
#define WF4_COMMITTER_H

#include "result.h"
#include "service.h"

typedef struct committer_settings {
    service_base base;
    char *results_topic, *handoff_topic, *group;
    long batch, linger_ms, publish_timeout_ms, sweep_interval_s;
    long tx_target_ms; /* batches are sized so that a transaction takes about this long */
    result_opts result;
} committer_settings;

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int committer_run(const committer_settings *s);

#endif
