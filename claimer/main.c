/* claimer: marks due domains processing in one short transaction and publishes claims. */
#include <stdio.h>
#include <stdlib.h>

#include "claimer.h"
#include "config.h"
#include "log.h"

int main(int argc, char **argv)
{
    claimer_settings s = {0};
    const cfg_entry table[] = {
        {"WF4_DATABASE_URL", CFG_SECRET, NULL, 1, 0, -1, &s.database_url,
         "PostgreSQL URL (libpq), e.g. postgresql://wf4:PASSWORD@db:5432/wf4"},
        {"WF4_KAFKA_BROKERS", CFG_STR, NULL, 1, 0, -1, &s.kafka_brokers,
         "Kafka bootstrap servers, e.g. kafka:9092"},
        {"WF4_SCHEMA_DIR", CFG_STR, WF4_SCHEMA_DIR_DEFAULT, 0, 0, -1, &s.schema_dir,
         "directory of the Avro schemas and topic catalogue"},
        {"WF4_SCHEMA_REGISTRY_URL", CFG_STR, NULL, 0, 0, -1, &s.registry_url,
         "schema registry (Confluent API); empty = Avro single-object encoding"},
        {"WF4_CLAIMS_TOPIC", CFG_STR, "wf4.domain.claims", 0, 0, -1, &s.claims_topic,
         "topic the claims are published to"},
        {"WF4_CLAIM_BATCH", CFG_INT, "500", 0, 1, 100000, &s.claim.batch,
         "domains claimed per transaction"},
        {"WF4_LEASE_SECONDS", CFG_INT, "300", 0, 1, 86400, &s.claim.lease_s,
         "claim lease; an expired claim is claimed again"},
        {"WF4_MAX_ATTEMPTS", CFG_INT, "5", 0, 1, 1000, &s.claim.max_attempts,
         "claims per domain before it is marked error"},
        {"WF4_MAX_IN_FLIGHT", CFG_INT, "5000", 0, 1, 10000000, &s.claim.max_in_flight,
         "claim nothing while this many domains are processing"},
        {"WF4_CLAIM_INTERVAL_MS", CFG_INT, "1000", 0, 10, 3600000, &s.interval_ms,
         "fallback timer when no NOTIFY arrives"},
        {"WF4_PUBLISH_TIMEOUT_MS", CFG_INT, "30000", 0, 100, 600000, &s.publish_timeout_ms,
         "how long to wait for Kafka to acknowledge a batch of claims"},
        {"WF4_TX_BUDGET_MS", CFG_INT, "200", 0, 1, 600000, &s.claim.budget_ms,
         "a claim transaction longer than this logs a warning"},
        {"WF4_DB_STATEMENT_TIMEOUT_MS", CFG_INT, "10000", 0, 1, 3600000, &s.stmt_timeout_ms,
         "statement_timeout of every transaction"},
        {"WF4_DB_LOCK_TIMEOUT_MS", CFG_INT, "2000", 0, 1, 3600000, &s.lock_timeout_ms,
         "lock_timeout of every transaction"},
        {"WF4_DB_IDLE_TX_TIMEOUT_MS", CFG_INT, "5000", 0, 1, 3600000, &s.idle_tx_timeout_ms,
         "idle_in_transaction_session_timeout of every transaction"},
        {"WF4_FAULT_PUBLISH_DELAY_MS", CFG_INT, "0", 0, 0, 3600000, &s.fault_publish_delay_ms,
         "tests only: pause between the claim commit and the publish (crash window)"},
        {"WF4_METRICS_PORT", CFG_INT, "9101", 0, 0, 65535, &s.metrics_port,
         "port of /metrics, /healthz, /readyz (0 = any free port)"},
        {"WF4_INSTANCE_ID", CFG_STR, NULL, 0, 0, -1, &s.instance_id,
         "instance name in logs and application_name (default host-pid)"},
        {"WF4_LOG_LEVEL", CFG_STR, "info", 0, 0, -1, &s.log_level, "debug, info, warn, error"},
    };
    size_t n = sizeof table / sizeof *table;
    int rc = config_load(table, n, argc, argv, "claimer",
                         "Claims selected domains in short transactions and publishes one "
                         "claim per domain to Kafka.");
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    if (log_level_parse(s.log_level) < 0) {
        fprintf(stderr, "WF4_LOG_LEVEL: \"%s\" is not one of debug, info, warn, error\n",
                s.log_level);
        return 2;
    }
    rc = claimer_run(&s);
    config_free(table, n);
    return rc;
}
