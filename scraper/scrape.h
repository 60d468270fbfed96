/* The scraper's loop: claims in from Kafka, ScraperAPI calls, results out, offsets last. */
#ifndef WF4_SCRAPER_SCRAPE_H
#define WF4_SCRAPER_SCRAPE_H

#include "service.h"

/* Settings of one scraper process, filled by main.c's config table. */
typedef struct scrape_settings {
    service_base base; /* brokers, schemas, registry, metrics port, instance, log level */
    char *claims_topic, *results_topic, *group;
    char *api_key, *api_url;
    long concurrency;         /* > 0: this process's own fixed limit; 0: its share */
    long account_concurrency; /* the group's shared limit; 0 = /account's, 10 unknown */
    long timeout_ms, max_body, retry_base_ms, retry_cap_ms, max_retries;
    long grace_ms, backlog_factor;
    long replay_memory;   /* claim ids with acknowledged results remembered (0: none) */
    long max_cost;        /* max_cost=N on every ScraperAPI call */
    char *max_tier;       /* highest tier a blocked page escalates to (tier.h names) */
    long account_poll_ms; /* /account read interval while credits are exhausted */
    long credits_floor;   /* WF4_CREDITS_FLOOR: no call takes the account below it */
} scrape_settings;

/* Runs until SIGTERM/SIGINT (service_running) or a fatal Kafka error, then shuts down in
 * stages: stop intake, finish or abandon calls within grace_ms, flush results, commit done
 * offsets, close the consumer. Returns the process exit code (0 on a clean stop). */
int scrape_run(scrape_settings *cfg);

#endif
