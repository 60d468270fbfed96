/* committer: applies scrape results in short, batched, fenced transactions; hands off to WF5. */
#include <stdio.h>

#include "committer.h"
#include "config.h"
#include "log.h"

int main(int argc, char **argv)
{
    committer_settings s = {0};
    const cfg_entry table[] = {
        {"WF4_DATABASE_URL", CFG_SECRET, NULL, 1, 0, -1, &s.database_url,
         "PostgreSQL URL (libpq), e.g. postgresql://wf4:PASSWORD@db:5432/wf4"},
        {"WF4_KAFKA_BROKERS", CFG_STR, NULL, 1, 0, -1, &s.kafka_brokers,
         "Kafka bootstrap servers, e.g. kafka:9092"},
        {"WF4_SCHEMA_DIR", CFG_STR, WF4_SCHEMA_DIR_DEFAULT, 0, 0, -1, &s.schema_dir,
         "directory of the Avro schemas and topic catalogue"},
        {"WF4_SCHEMA_REGISTRY_URL", CFG_STR, NULL, 0, 0, -1, &s.registry_url,
         "schema registry (Confluent API); empty = Avro single-object encoding"},
        {"WF4_RESULTS_TOPIC", CFG_STR, "wf4.domain.results", 0, 0, -1, &s.results_topic,
         "topic the results are consumed from"},
        {"WF4_HANDOFF_TOPIC", CFG_STR, "wf5.domain.handoffs", 0, 0, -1, &s.handoff_topic,
         "topic the WF5 handoff events are published to"},
        {"WF4_COMMITTER_GROUP", CFG_STR, "wf4-committer", 0, 0, -1, &s.group,
         "consumer group of the committers"},
        {"WF4_COMMIT_BATCH", CFG_INT, "1000", 0, 1, 100000, &s.batch,
         "results applied per transaction (at most)"},
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
        {"WF4_DB_STATEMENT_TIMEOUT_MS", CFG_INT, "10000", 0, 1, 3600000, &s.stmt_timeout_ms,
         "statement_timeout of every transaction"},
        {"WF4_DB_LOCK_TIMEOUT_MS", CFG_INT, "2000", 0, 1, 3600000, &s.lock_timeout_ms,
         "lock_timeout of every transaction"},
        {"WF4_DB_IDLE_TX_TIMEOUT_MS", CFG_INT, "5000", 0, 1, 3600000, &s.idle_tx_timeout_ms,
         "idle_in_transaction_session_timeout of every transaction"},
        {"WF4_METRICS_PORT", CFG_INT, "9103", 0, 0, 65535, &s.metrics_port,
         "port of /metrics, /healthz, /readyz (0 = any free port)"},
        {"WF4_INSTANCE_ID", CFG_STR, NULL, 0, 0, -1, &s.instance_id,
         "instance name in logs and application_name (default host-pid)"},
        {"WF4_LOG_LEVEL", CFG_STR, "info", 0, 0, -1, &s.log_level, "debug, info, warn, error"},
    };
    size_t n = sizeof table / sizeof *table;
    int rc = config_load(table, n, argc, argv, "committer",
                         "Applies scrape results to PostgreSQL in batched, fenced transactions "
                         "and publishes the WF5 handoff events.");
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    if (log_level_parse(s.log_level) < 0) {
        fprintf(stderr, "WF4_LOG_LEVEL: \"%s\" is not one of debug, info, warn, error\n",
                s.log_level);
        return 2;
    }
    rc = committer_run(&s);
    config_free(table, n);
    return rc;
}
