/* claimer: marks due domains processing in one short transaction and publishes claims. */
#include "claimer.h"
#include "config.h"
#include "service.h"

int main(int argc, char **argv)
{
    claimer_settings s = {0};
    const cfg_entry own[] = {
        {"WF4_CLAIMS_TOPIC", CFG_STR, "wf4.domain.claims", 0, 0, -1, &s.claims_topic,
         "topic the claims are published to"},
        {"WF4_LISTEN_DATABASE_URL", CFG_SECRET, NULL, 0, 0, -1, &s.listen_database_url,
         "direct PostgreSQL URL for LISTEN when WF4_DATABASE_URL is a transaction pooler "
         "(default: LISTEN on WF4_DATABASE_URL)"},
        {"WF4_CLAIM_BATCH", CFG_INT, "500", 0, 1, 100000, &s.claim.batch,
         "domains claimed per transaction"},
        {"WF4_TX_TARGET_MS", CFG_INT, "20", 0, 1, 600000, &s.tx_target_ms,
         "claim batches shrink (down to 10) while transactions take longer than this, and "
         "grow back to WF4_CLAIM_BATCH"},
        {"WF4_LEASE_SECONDS", CFG_INT, "300", 0, 1, 86400, &s.claim.lease_s,
         "claim lease; an expired claim is claimed again"},
        {"WF4_MAX_ATTEMPTS", CFG_INT, "5", 0, 1, 1000, &s.claim.max_attempts,
         "claims per domain before it is marked error"},
        {"WF4_MAX_IN_FLIGHT", CFG_INT, "5000", 0, 1, 10000000, &s.claim.max_in_flight,
         "claim no new domain while this many are processing (expired leases are still "
         "claimed again)"},
        {"WF4_CLAIM_INTERVAL_MS", CFG_INT, "1000", 0, 10, 3600000, &s.interval_ms,
         "fallback timer when no NOTIFY arrives"},
        {"WF4_PUBLISH_TIMEOUT_MS", CFG_INT, "30000", 0, 100, 600000, &s.publish_timeout_ms,
         "how long to wait for Kafka to acknowledge a batch of claims"},
        {"WF4_TX_BUDGET_MS", CFG_INT, "200", 0, 1, 600000, &s.claim.budget_ms,
         "a claim transaction longer than this logs a warning"},
        {"WF4_FAULT_PUBLISH_DELAY_MS", CFG_INT, "0", 0, 0, 3600000, &s.fault_publish_delay_ms,
         "tests only: pause between the claim commit and the publish (crash window)"},
    };
    const service_spec spec = {"claimer",
                               "Claims selected domains in short transactions and publishes one "
                               "claim per domain to Kafka.",
                               "9101", 1};
    cfg_entry *table = NULL;
    size_t n = 0;
    int rc = service_config(&spec, &s.base, own, sizeof own / sizeof *own, argc, argv, &table, &n);
    if (rc == 0)
        rc = claimer_run(&s);
    else
        rc = rc < 0 ? 2 : 0;
    service_config_free(table, n);
    return rc;
}
