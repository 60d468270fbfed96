/* claimer: marks due domains processing in one short transaction and publishes claims. */
#include "claimer.h"
#include "config.h"
#include "service.h"

int main(int argc, char **argv)
{
    claimer_settings s = {0};
    const cfg_entry own[] = {
        {.env = "WF4_CLAIMS_TOPIC",
         .type = CFG_STR,
         .def = "wf4.domain.claims",
         .dst = &s.claims_topic,
         .help = "topic the claims are published to"},
        {.env = "WF4_LISTEN_DATABASE_URL",
         .type = CFG_SECRET,
         .dst = &s.listen_database_url,
         .help = "direct PostgreSQL URL for LISTEN when WF4_DATABASE_URL is a transaction pooler "
                 "(default: LISTEN on WF4_DATABASE_URL)"},
        {.env = "WF4_CLAIM_BATCH",
         .type = CFG_INT,
         .def = "500",
         .min = 1,
         .max = 100000,
         .dst = &s.claim.batch,
         .help = "domains claimed per transaction"},
        {.env = "WF4_TX_TARGET_MS",
         .type = CFG_INT,
         .def = "20",
         .min = 1,
         .max = 600000,
         .dst = &s.tx_target_ms,
         .help = "claim batches shrink (down to 10) while transactions take longer than this, and "
                 "grow back to WF4_CLAIM_BATCH"},
        {.env = "WF4_LEASE_SECONDS",
         .type = CFG_INT,
         .def = "300",
         .min = 1,
         .max = 86400,
         .dst = &s.claim.lease_s,
         .help = "claim lease; an expired claim is claimed again"},
        {.env = "WF4_MAX_ATTEMPTS",
         .type = CFG_INT,
         .def = "5",
         .min = 1,
         .max = 1000,
         .dst = &s.claim.max_attempts,
         .help = "claims per domain before it is marked error"},
        {.env = "WF4_MAX_IN_FLIGHT",
         .type = CFG_INT,
         .def = "5000",
         .min = 1,
         .max = 10000000,
         .dst = &s.claim.max_in_flight,
         .help = "claim no new domain while this many are processing (expired leases are still "
                 "claimed again)"},
        {.env = "WF4_CLAIM_INTERVAL_MS",
         .type = CFG_INT,
         .def = "1000",
         .min = 10,
         .max = 3600000,
         .dst = &s.interval_ms,
         .help = "fallback timer when no NOTIFY arrives"},
        {.env = "WF4_PUBLISH_TIMEOUT_MS",
         .type = CFG_INT,
         .def = "30000",
         .min = 100,
         .max = 600000,
         .dst = &s.publish_timeout_ms,
         .help = "how long to wait for Kafka to acknowledge a batch of claims"},
        {.env = "WF4_TX_BUDGET_MS",
         .type = CFG_INT,
         .def = "200",
         .min = 1,
         .max = 600000,
         .dst = &s.claim.budget_ms,
         .help = "a claim transaction longer than this logs a warning"},
        {.env = "WF4_ATTEMPTS_RETENTION_DAYS",
         .type = CFG_INT,
         .def = "30",
         .min = 1,
         .max = 36500,
         .dst = &s.attempts_retention_days,
         .help = "attempt history (domain_attempts, wf4ctl trace) older than this is pruned"},
        {.env = "WF4_CREDITS_DAILY_BUDGET",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 1000000000000L,
         .dst = &s.budget.limits.daily,
         .help = "ScraperAPI credits per UTC day; once spent (or reserved by domains in flight) "
                 "no domain is claimed until the next day (0: no daily budget)"},
        {.env = "WF4_CREDITS_FLOOR",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 1000000000000L,
         .dst = &s.budget.limits.floor,
         .help = "no domain is claimed while the account has this many credits left or fewer "
                 "(0: no floor)"},
        {.env = "WF4_CREDITS_ACCOUNT_CACHE_MS",
         .type = CFG_INT,
         .def = "5000",
         .min = 100,
         .max = 3600000,
         .dst = &s.budget.cache_ms,
         .help = "an /account answer is used this long before it is read again"},
        {.env = "WF4_CREDITS_ACCOUNT_LAG_MS",
         .type = CFG_INT,
         .def = "15000",
         .min = 0,
         .max = 3600000,
         .dst = &s.budget.lag_ms,
         .help = "how long after a call /account may still not count it (ScraperAPI: 15 s); "
                 "results applied within it still hold their credits (0: /account is live)"},
        {.env = "WF4_CREDITS_PER_CLAIM",
         .type = CFG_INT,
         .def = "1",
         .min = 1,
         .max = 1000,
         .dst = &s.budget.per_claim,
         .help = "credits the budget reserves for each domain in flight (1: a plain call; "
                 "raise it when escalations to dearer tiers are common)"},
        {.env = "SCRAPERAPI_URL",
         .type = CFG_STR,
         .def = "https://api.scraperapi.com/",
         .dst = &s.budget.api_url,
         .help = "ScraperAPI endpoint, for <url>/account (the credit budget and its metrics)"},
        {.env = "SCRAPERAPI_KEY",
         .type = CFG_SECRET,
         .dst = &s.budget.api_key,
         .help = "ScraperAPI key: when set, the claimer reads /account for the credit budget and "
                 "exports the credits left (required by WF4_CREDITS_DAILY_BUDGET / _FLOOR)"},
        {.env = "WF4_FAULT_PUBLISH_DELAY_MS",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 3600000,
         .dst = &s.fault_publish_delay_ms,
         .help = "tests only: pause between the claim commit and the publish (crash window)"},
    };
    const service_spec spec = {"claimer",
                               "Claims selected domains in short transactions and publishes one "
                               "claim per domain to Kafka.",
                               "9101", 1};
    cfg_entry *table = NULL;
    size_t n = 0;
    int rc = service_config(&spec, &s.base, own, sizeof own / sizeof *own, argc, argv, &table, &n);
    if (rc == 0) {
        s.budget.instance = s.base.instance;
        s.claim.credit_per_claim = s.budget.per_claim;
        rc = claimer_run(&s);
    } else
        rc = rc < 0 ? 2 : 0;
    service_config_free(table, n);
    return rc;
}
