/* scraper: claims in, ScraperAPI calls, metadata results out; links no database library. */
#include <curl/curl.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "scrape.h"
#include "service.h"

int main(int argc, char **argv)
{
    scrape_settings s = {0};
    const cfg_entry table[] = {
        {"WF4_KAFKA_BROKERS", CFG_STR, NULL, 1, 0, -1, &s.kafka_brokers,
         "Kafka bootstrap servers, e.g. kafka:9092"},
        {"WF4_SCHEMA_DIR", CFG_STR, WF4_SCHEMA_DIR_DEFAULT, 0, 0, -1, &s.schema_dir,
         "directory of the Avro schemas and topic catalogue"},
        {"WF4_SCHEMA_REGISTRY_URL", CFG_STR, NULL, 0, 0, -1, &s.registry_url,
         "schema registry (Confluent API); empty = Avro single-object encoding"},
        {"WF4_CLAIMS_TOPIC", CFG_STR, "wf4.domain.claims", 0, 0, -1, &s.claims_topic,
         "topic the claims are consumed from"},
        {"WF4_RESULTS_TOPIC", CFG_STR, "wf4.domain.results", 0, 0, -1, &s.results_topic,
         "topic the results are published to"},
        {"WF4_SCRAPER_GROUP", CFG_STR, "wf4-scraper", 0, 0, -1, &s.group,
         "consumer group of the scrapers"},
        {"SCRAPERAPI_KEY", CFG_SECRET, NULL, 1, 0, -1, &s.api_key, "ScraperAPI key"},
        {"SCRAPERAPI_URL", CFG_STR, "https://api.scraperapi.com/", 0, 0, -1, &s.api_url,
         "ScraperAPI endpoint (the account is read from <url>/account)"},
        {"WF4_SCRAPER_CONCURRENCY", CFG_INT, "0", 0, 0, 10000, &s.concurrency,
         "ScraperAPI calls in flight; 0 = the account's concurrencyLimit (10 if unknown)"},
        {"WF4_SCRAPER_BACKLOG_FACTOR", CFG_INT, "2", 0, 1, 100, &s.backlog_factor,
         "claims in hand at most = concurrency x this; intake pauses above"},
        {"WF4_SCRAPER_TIMEOUT_MS", CFG_INT, "70000", 0, 1000, 600000, &s.timeout_ms,
         "time limit of one ScraperAPI call"},
        {"WF4_SCRAPER_MAX_BODY", CFG_INT, "5242880", 0, 1024, 104857600, &s.max_body,
         "bytes kept of a page; a longer page is cut there and the first part parsed"},
        {"WF4_SCRAPER_RETRY_BASE_MS", CFG_INT, "500", 0, 0, 600000, &s.retry_base_ms,
         "first retry delay (exponential backoff with full jitter)"},
        {"WF4_SCRAPER_RETRY_CAP_MS", CFG_INT, "30000", 0, 0, 3600000, &s.retry_cap_ms,
         "longest retry delay"},
        {"WF4_SCRAPER_MAX_RETRIES", CFG_INT, "5", 0, 0, 100, &s.max_retries,
         "retries after 5xx, timeouts and network errors (429s are not counted)"},
        {"WF4_SCRAPER_GRACE_MS", CFG_INT, "10000", 0, 0, 600000, &s.grace_ms,
         "on shutdown or revocation, how long calls in flight may finish"},
        {"WF4_METRICS_PORT", CFG_INT, "9102", 0, 0, 65535, &s.metrics_port,
         "port of /metrics, /healthz, /readyz (0 = any free port)"},
        {"WF4_INSTANCE_ID", CFG_STR, NULL, 0, 0, -1, &s.instance_id,
         "instance name in logs, client.id and DLQ headers (default host-pid)"},
        {"WF4_LOG_LEVEL", CFG_STR, "info", 0, 0, -1, &s.log_level, "debug, info, warn, error"},
    };
    size_t n = sizeof table / sizeof *table;
    char instance[256];
    int rc = config_load(table, n, argc, argv, "scraper",
                         "Consumes domain claims, fetches each home page through ScraperAPI, "
                         "extracts its metadata and publishes one result per claim.");
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    int level = log_level_parse(s.log_level);
    if (level < 0) {
        fprintf(stderr, "WF4_LOG_LEVEL: \"%s\" is not one of debug, info, warn, error\n",
                s.log_level);
        config_free(table, n);
        return 2;
    }
    service_instance_id(s.instance_id, instance, sizeof instance);
    log_init("scraper", instance, (log_level)level);
    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK) {
        log_error("curl_global_init: %s", curl_easy_strerror(cc));
        config_free(table, n);
        return 1;
    }
    char *configured_id = s.instance_id;
    s.instance_id = instance;
    service_signals();
    rc = scrape_run(&s);
    s.instance_id = configured_id;
    curl_global_cleanup();
    config_free(table, n);
    return rc;
}
