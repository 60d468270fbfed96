/* committer: applies scrape results in short, batched, fenced transactions; hands off to WF5. */
#include "committer.h"
#include "config.h"
#include "service.h"

int main(int argc, char **argv)
{
    committer_settings s = {0};
    const cfg_entry own[] = {
        {.env = "WF4_RESULTS_TOPIC",
         .type = CFG_STR,
         .def = "wf4.domain.results",
         .dst = &s.results_topic,
         .help = "topic the results are consumed from"},
        {.env = "WF4_HANDOFF_TOPIC",
         .type = CFG_STR,
         .def = "wf5.domain.handoffs",
         .dst = &s.handoff_topic,
         .help = "topic the WF5 handoff events are published to"},
        {.env = "WF4_COMMITTER_GROUP",
         .type = CFG_STR,
         .def = "wf4-committer",
         .dst = &s.group,
         .help = "consumer group of the committers"},
        {.env = "WF4_COMMIT_BATCH",
         .type = CFG_INT,
         .def = "1000",
         .min = 1,
         .max = 100000,
         .dst = &s.batch,
         .help = "results applied per transaction (at most)"},
        {.env = "WF4_TX_TARGET_MS",
         .type = CFG_INT,
         .def = "50",
         .min = 1,
         .max = 600000,
         .dst = &s.tx_target_ms,
         .help = "batches shrink (down to 10 results) while transactions take longer than this, "
                 "and grow back to WF4_COMMIT_BATCH"},
        {.env = "WF4_COMMIT_LINGER_MS",
         .type = CFG_INT,
         .def = "200",
         .min = 0,
         .max = 600000,
         .dst = &s.linger_ms,
         .help = "how long a batch may wait to fill up"},
        {.env = "WF4_MAX_ATTEMPTS",
         .type = CFG_INT,
         .def = "5",
         .min = 1,
         .max = 1000,
         .dst = &s.result.max_attempts,
         .help = "a retryable failure at this many attempts becomes error"},
        {.env = "WF4_RETRY_BASE_S",
         .type = CFG_INT,
         .def = "30",
         .min = 0,
         .max = 86400,
         .dst = &s.result.retry_base_s,
         .help = "backoff of a retryable failure: base * 2^(attempts-1), jittered"},
        {.env = "WF4_RETRY_CAP_S",
         .type = CFG_INT,
         .def = "3600",
         .min = 0,
         .max = 604800,
         .dst = &s.result.retry_cap_s,
         .help = "longest backoff of a retryable failure"},
        {.env = "WF4_TX_BUDGET_MS",
         .type = CFG_INT,
         .def = "200",
         .min = 1,
         .max = 600000,
         .dst = &s.result.budget_ms,
         .help = "a transaction longer than this logs a warning"},
        {.env = "WF4_PUBLISH_TIMEOUT_MS",
         .type = CFG_INT,
         .def = "30000",
         .min = 100,
         .max = 600000,
         .dst = &s.publish_timeout_ms,
         .help = "how long to wait for Kafka to acknowledge handoffs"},
        {.env = "WF4_OUTBOX_SWEEP_S",
         .type = CFG_INT,
         .def = "30",
         .min = 1,
         .max = 86400,
         .dst = &s.sweep_interval_s,
         .help = "outbox rows older than this are published again by the sweep"},
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
