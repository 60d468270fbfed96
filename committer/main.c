/* committer: applies scrape results in short, batched, fenced transactions; hands off to WF5. */
#include "committer.h"
#include "config.h"
#include "service.h"

int main(int argc, char **argv)
{
    committer_settings s = {0};
    const cfg_entry own[] = {
        {"WF4_RESULTS_TOPIC", CFG_STR, "wf4.domain.results", 0, 0, -1, &s.results_topic,
         "topic the results are consumed from"},
        {"WF4_HANDOFF_TOPIC", CFG_STR, "wf5.domain.handoffs", 0, 0, -1, &s.handoff_topic,
         "topic the WF5 handoff events are published to"},
        {"WF4_COMMITTER_GROUP", CFG_STR, "wf4-committer", 0, 0, -1, &s.group,
         "consumer group of the committers"},
        {"WF4_COMMIT_BATCH", CFG_INT, "1000", 0, 1, 100000, &s.batch,
         "results applied per transaction (at most)"},
        {"WF4_TX_TARGET_MS", CFG_INT, "50", 0, 1, 600000, &s.tx_target_ms,
         "batches shrink (down to 10 results) while transactions take longer than this, "
         "and grow back to WF4_COMMIT_BATCH"},
        {"WF4_COMMIT_LINGER_MS", CFG_INT, "200", 0, 0, 600000, &s.linger_ms,
         "how long a batch may wait to fill up"},
        {"WF4_MAX_ATTEMPTS", CFG_INT, "5", 0, 1, 1000, &s.result.max_attempts,
         "a retryable failure at this many attempts becomes error"},
        {"WF4_RETRY_BASE_S", CFG_INT, "30", 0, 0, 86400, &s.result.retry_base_s,
         "backoff of a retryable failure: base * 2^(attempts-1), jittered"},
        {"WF4_RETRY_CAP_S", CFG_INT, "3600", 0, 0, 604800, &s.result.retry_cap_s,
         "longest backoff of a retryable failure"},
        {"WF4_TX_BUDGET_MS", CFG_INT, "200", 0, 1, 600000, &s.result.budget_ms,
         "a transaction longer than this logs a warning"},
        {"WF4_PUBLISH_TIMEOUT_MS", CFG_INT, "30000", 0, 100, 600000, &s.publish_timeout_ms,
         "how long to wait for Kafka to acknowledge handoffs"},
        {"WF4_OUTBOX_SWEEP_S", CFG_INT, "30", 0, 1, 86400, &s.sweep_interval_s,
         "outbox rows older than this are published again by the sweep"},
    };
    const service_spec spec = {"committer",
                               "Applies scrape results to PostgreSQL in batched, fenced "
                               "transactions and publishes the WF5 handoff events.",
                               "9103", 1};
    cfg_entry *table = NULL;
    size_t n = 0;
    int rc = service_config(&spec, &s.base, own, sizeof own / sizeof *own, argc, argv, &table, &n);
    if (rc == 0)
        rc = committer_run(&s);
    else
        rc = rc < 0 ? 2 : 0;
    service_config_free(table, n);
    return rc;
}
