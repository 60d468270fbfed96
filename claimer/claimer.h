/* The claimer's loop: wake on NOTIFY or a timer, claim a batch, publish it, repeat. */
#ifndef WF4_CLAIMER_H
#define WF4_CLAIMER_H

#include "budget.h"
#include "claim.h"
#include "service.h"

typedef struct claimer_settings {
    service_base base;
    char *claims_topic;
    char *listen_database_url; /* optional direct connection for LISTEN (behind a pooler) */
    long interval_ms, publish_timeout_ms;
    long tx_target_ms;           /* claim batches shrink while transactions take longer than this */
    long fault_publish_delay_ms; /* fault injection for tests: pause between commit and publish */
    long attempts_retention_days; /* domain_attempts rows older than this are pruned */
    claim_opts claim;
    budget_settings budget; /* the credit budget (WF4_CREDITS_*) */
} claimer_settings;

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int claimer_run(const claimer_settings *s);

#endif
