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
        {.env = "WF4_CLAIMS_TOPIC",
         .type = CFG_STR,
         .def = "wf4.domain.claims",
         .dst = &s.claims_topic,
         .help = "topic the claims are consumed from"},
        {.env = "WF4_RESULTS_TOPIC",
         .type = CFG_STR,
         .def = "wf4.domain.results",
         .dst = &s.results_topic,
         .help = "topic the results are published to"},
        {.env = "WF4_SCRAPER_GROUP",
         .type = CFG_STR,
         .def = "wf4-scraper",
         .dst = &s.group,
         .help = "consumer group of the scrapers"},
        {.env = "SCRAPERAPI_KEY",
         .type = CFG_SECRET,
         .required = 1,
         .dst = &s.api_key,
         .help = "ScraperAPI key"},
        {.env = "SCRAPERAPI_URL",
         .type = CFG_STR,
         .def = "https://api.scraperapi.com/",
         .dst = &s.api_url,
         .help = "ScraperAPI endpoint (the account is read from <url>/account)"},
        {.env = "WF4_SCRAPER_CONCURRENCY",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 10000,
         .dst = &s.concurrency,
         .help = "ScraperAPI calls in flight by this process alone; 0 = its share of "
                 "WF4_SCRAPER_ACCOUNT_CONCURRENCY by the claim partitions it holds"},
        {.env = "WF4_SCRAPER_ACCOUNT_CONCURRENCY",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 100000,
         .dst = &s.account_concurrency,
         .help = "ScraperAPI calls in flight for all scrapers of the group together; 0 = the "
                 "account's concurrencyLimit (10 if unknown)"},
        {.env = "WF4_SCRAPER_BACKLOG_FACTOR",
         .type = CFG_INT,
         .def = "2",
         .min = 1,
         .max = 100,
         .dst = &s.backlog_factor,
         .help = "claims in hand at most = calls in flight allowed x this; intake pauses above"},
        {.env = "WF4_SCRAPER_REPLAY_MEMORY",
         .type = CFG_INT,
         .def = "20000",
         .min = 0,
         .max = 10000000,
         .dst = &s.replay_memory,
         .help = "claim ids whose results were acknowledged, remembered (32 bytes each) so a "
                 "replayed claim among them is not fetched again; 0 = off"},
        {.env = "WF4_SCRAPER_TIMEOUT_MS",
         .type = CFG_INT,
         .def = "70000",
         .min = 1000,
         .max = 600000,
         .dst = &s.timeout_ms,
         .help = "time limit of one ScraperAPI call"},
        {.env = "WF4_SCRAPER_MAX_BODY",
         .type = CFG_INT,
         .def = "5242880",
         .min = 1024,
         .max = 104857600,
         .dst = &s.max_body,
         .help = "bytes kept of a page; a longer page is cut there and the first part parsed"},
        {.env = "WF4_SCRAPER_RETRY_BASE_MS",
         .type = CFG_INT,
         .def = "500",
         .min = 0,
         .max = 600000,
         .dst = &s.retry_base_ms,
         .help = "first retry delay (exponential backoff with full jitter)"},
        {.env = "WF4_SCRAPER_RETRY_CAP_MS",
         .type = CFG_INT,
         .def = "30000",
         .min = 0,
         .max = 3600000,
         .dst = &s.retry_cap_ms,
         .help = "longest retry delay"},
        {.env = "WF4_SCRAPER_MAX_RETRIES",
         .type = CFG_INT,
         .def = "5",
         .min = 0,
         .max = 100,
         .dst = &s.max_retries,
         .help = "retries after 5xx, timeouts and network errors (429s are not counted)"},
        {.env = "WF4_SCRAPER_GRACE_MS",
         .type = CFG_INT,
         .def = "10000",
         .min = 0,
         .max = 600000,
         .dst = &s.grace_ms,
         .help = "on shutdown or revocation, how long calls in flight may finish"},
        {.env = "WF4_SCRAPER_MAX_COST",
         .type = CFG_INT,
         .def = "10",
         .min = 1,
         .max = 1000000,
         .dst = &s.max_cost,
         .help = "max_cost sent with every ScraperAPI call: credits one call may cost at most"},
        {.env = "WF4_SCRAPER_MAX_TIER",
         .type = CFG_STR,
         .def = "premium",
         .dst = &s.max_tier,
         .help = "a blocked page is retried at the next tier up to this one: plain, render (10 "
                 "credits), premium (10) or ultra_premium (30)"},
        {.env = "WF4_SCRAPER_ACCOUNT_POLL_MS",
         .type = CFG_INT,
         .def = "30000",
         .min = 100,
         .max = 3600000,
         .dst = &s.account_poll_ms,
         .help = "while the account's credits are exhausted (or, with WF4_CREDITS_FLOOR or a "
                 "daily budget ceiling from the claims, always), /account is read this often"},
        {.env = "WF4_CREDITS_FLOOR",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 1000000000000L,
         .dst = &s.credits_floor,
         .help = "no call is started that would take the account's credits left below this "
                 "(0: no floor); the claimer stops claiming at the same floor"},
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
