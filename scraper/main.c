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
    const cfg_entry own[] = {
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
    };
    const service_spec spec = {"scraper",
                               "Consumes domain claims, fetches each home page through ScraperAPI, "
                               "extracts its metadata and publishes one result per claim.",
                               "9102", 0};
    cfg_entry *table = NULL;
    size_t n = 0;
    int rc = service_config(&spec, &s.base, own, sizeof own / sizeof *own, argc, argv, &table, &n);
    if (rc != 0) {
        service_config_free(table, n);
        return rc < 0 ? 2 : 0;
    }
    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK) {
        log_error("curl_global_init: %s", curl_easy_strerror(cc));
        service_config_free(table, n);
        return 1;
    }
    rc = scrape_run(&s);
    curl_global_cleanup();
    service_config_free(table, n);
    return rc;
}
