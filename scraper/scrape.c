/* The scraper's loop: claims in from Kafka, ScraperAPI calls, results out, offsets last. */
#include "scrape.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "scrape_internal.h"
#include "service.h"
#include "tier.h"

#define SCRAPE_POLL_MS 20
#define SCRAPE_COMMIT_MS 1000
#define SCRAPE_SUMMARY_MS 60000
#define SCRAPE_AUTH_LOG_MS 60000
#define SCRAPE_FLUSH_MS 10000
#define SCRAPE_DEFAULT_CONCURRENCY 10

/* /readyz: joined the group, not stopped by a refused API key, not shutting down. */
static int scrape_ready(void *arg)
{
    scrape *s = arg;
    return atomic_load(&s->ready_joined) && !atomic_load(&s->ready_blocked) &&
           !atomic_load(&s->ready_stopping);
}

/* One pass of the work that does not take new claims: ScraperAPI transfers (waiting up to
 * timeout_ms), results to publish, delivery reports. Also used inside the grace periods. */
void scrape_drive(scrape *s, int timeout_ms)
{
    if (fetch_run(s->f, timeout_ms) != 0)
        s->fatal = 1;
    scrape_publish_pending(s);
    rd_kafka_poll(s->producer, 0);
}

static void scrape_summary(scrape *s, int64_t now)
{
    double secs = (double)(now - s->summary_start_ms) / 1000.0;
    log_info("last %.0f s: %llu claims, %llu successes, %llu failures, %llu dead letters "
             "(%.1f results/s); %zu claims in hand, %zu calls in flight, limit %ld, %ld "
             "credits spent since start%s",
             secs, (unsigned long long)s->n_claims, (unsigned long long)s->n_success,
             (unsigned long long)s->n_failure, (unsigned long long)s->n_dlq,
             secs > 0 ? (double)(s->n_success + s->n_failure) / secs : 0.0, s->njobs,
             fetch_in_flight(s->f), fetch_limit(s->f), fetch_credits_spent(s->f),
             fetch_paused(s->f) == FETCH_PAUSED_CREDITS  ? "; paused: credits exhausted"
             : fetch_paused(s->f) == FETCH_PAUSED_BUDGET ? "; paused: credit budget"
                                                         : "");
    s->n_claims = s->n_success = s->n_failure = s->n_dlq = 0;
    s->summary_start_ms = now;
    s->next_summary_ms = now + SCRAPE_SUMMARY_MS;
}

/* Named periodic work: commits, gauges, summary, the refused-key alarm, fatal errors. */
static void scrape_periodic(scrape *s)
{
    int64_t now = service_mono_ms();
    char why[512];
    if (now >= s->next_commit_ms) {
        scrape_commit(s, 0);
        s->next_commit_ms = now + SCRAPE_COMMIT_MS;
    }
    metrics_set(s->m_jobs, (double)s->njobs);
    metrics_set(s->m_limit, (double)fetch_limit(s->f));
    fetch_pause pause = fetch_paused(s->f);
    atomic_store(&s->ready_blocked, pause == FETCH_PAUSED_KEY);
    if (pause == FETCH_PAUSED_KEY && now >= s->next_auth_log_ms) {
        log_error("ScraperAPI rejects the API key (401/403): intake stopped, %zu claims held "
                  "uncommitted; fix the key or the account",
                  s->njobs);
        s->next_auth_log_ms = now + SCRAPE_AUTH_LOG_MS;
    } else if (pause == FETCH_PAUSED_CREDITS && now >= s->next_auth_log_ms) {
        log_warn("paused: credits exhausted: intake stopped, %zu claims held uncommitted "
                 "until /account shows credits again",
                 s->njobs);
        s->next_auth_log_ms = now + SCRAPE_AUTH_LOG_MS;
    } else if (pause == FETCH_PAUSED_BUDGET && now >= s->next_auth_log_ms) {
        log_warn("paused: credit budget: no call starts, %zu claims held uncommitted until "
                 "/account shows room above WF4_CREDITS_FLOOR and below today's ceiling",
                 s->njobs);
        s->next_auth_log_ms = now + SCRAPE_AUTH_LOG_MS;
    } else if (pause == FETCH_RUNNING) {
        s->next_auth_log_ms = now + SCRAPE_AUTH_LOG_MS;
    }
    if (now >= s->next_summary_ms)
        scrape_summary(s, now);
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(s->producer, why, sizeof why);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("fatal producer error: %s: %s", rd_kafka_err2str(e), why);
        s->fatal = 1;
    }
}

static rd_kafka_t *scrape_producer_new(scrape *s, const char *client_id, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = kafka_conf_new(s->cfg->base.kafka_brokers, client_id, err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, scrape_dr_cb);
    rd_kafka_conf_set_opaque(conf, s);
    return kafka_producer_new(conf, err, errlen);
}

static rd_kafka_t *scrape_consumer_new(scrape *s, const char *client_id, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = kafka_conf_new(s->cfg->base.kafka_brokers, client_id, err, errlen);
    if (!conf)
        return NULL;
    s->rebalance = (kafka_rebalance){scrape_assigned, scrape_revoked, s};
    rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, scrape_commit_cb);
    rd_kafka_conf_set_opaque(conf, &s->rebalance);
    rd_kafka_t *rk = kafka_consumer_new(conf, s->cfg->group, err, errlen);
    if (!rk)
        return NULL;
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, s->cfg->claims_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "subscribe to %s: %s", s->cfg->claims_topic, rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* The group's concurrency when not configured: ScraperAPI's /account, else a safe 10. */
static long scrape_concurrency(const scrape_settings *cfg)
{
    char err[512];
    account_info a;
    if (cfg->concurrency > 0)
        return cfg->concurrency;
    if (cfg->account_concurrency > 0)
        return cfg->account_concurrency;
    if (account_get(cfg->api_url, cfg->api_key, 10000, &a, err, sizeof err) == 0) {
        if (a.concurrency_limit > 0) {
            log_info("ScraperAPI account allows %ld concurrent calls (%ld of %ld credits used)",
                     a.concurrency_limit, a.request_count, a.request_limit);
            return a.concurrency_limit;
        }
        snprintf(err, sizeof err, "the answer has no positive concurrencyLimit");
    }
    log_warn("cannot read the account's concurrency (%s): using %d", err,
             SCRAPE_DEFAULT_CONCURRENCY);
    return SCRAPE_DEFAULT_CONCURRENCY;
}

static void scrape_metrics_setup(scrape *s)
{
    s->m_claims = metrics_counter("wf4_scraper_claims_total", "Claims taken from Kafka");
    s->m_success = metrics_counter("wf4_scraper_results_total{outcome=\"success\"}",
                                   "Results acknowledged by Kafka, by outcome");
    s->m_failure = metrics_counter("wf4_scraper_results_total{outcome=\"failure\"}",
                                   "Results acknowledged by Kafka, by outcome");
    s->m_dlq = metrics_counter("wf4_scraper_dlq_total",
                               "Undecodable claims sent to the dead-letter topic");
    s->m_replayed = metrics_counter("wf4_scraper_replays_skipped_total",
                                    "Replayed claims whose result this scraper had published "
                                    "already: not fetched again");
    s->m_jobs = metrics_gauge("wf4_scraper_claims_in_hand",
                              "Claims taken and not yet acknowledged as results");
    s->m_limit = metrics_gauge("wf4_scraper_concurrency_limit",
                               "Current limit of ScraperAPI calls in flight (AIMD)");
    s->m_share = metrics_gauge("wf4_scraper_concurrency_share",
                               "This scraper's share of the account's concurrency (AIMD's "
                               "ceiling)");
}

/* WF4_SCRAPER_MAX_TIER as a tier, or -1 with err when unknown or dearer than max_cost
 * (every escalation to it would be refused). */
static int scrape_max_tier(const scrape_settings *cfg, char *err, size_t errlen)
{
    int max_tier = tier_from_name(cfg->max_tier);
    if (max_tier < 0) {
        snprintf(err, errlen,
                 "WF4_SCRAPER_MAX_TIER: \"%s\" is not plain, render, premium or "
                 "ultra_premium",
                 cfg->max_tier);
        return -1;
    }
    if (cfg->max_cost < tier_price(max_tier)) {
        snprintf(err, errlen,
                 "WF4_SCRAPER_MAX_COST (%ld) is below the price of "
                 "WF4_SCRAPER_MAX_TIER=%s (%ld credits)",
                 cfg->max_cost, cfg->max_tier, tier_price(max_tier));
        return -1;
    }
    return max_tier;
}

static int scrape_setup(scrape *s, char *err, size_t errlen)
{
    scrape_settings *cfg = s->cfg;
    char client_id[300];
    snprintf(client_id, sizeof client_id, "wf4-scraper-%s", cfg->base.instance);
    snprintf(s->dlq_consumer, sizeof s->dlq_consumer, "scraper/%s", cfg->base.instance);
    scrape_metrics_setup(s);
    if (!(s->w = wire_new(cfg->base.schema_dir, cfg->base.registry_url, err, errlen)))
        return -1;
    if (wire_register(s->w, WIRE_RESULT, cfg->results_topic, err, errlen) != 0)
        return -1;
    if (!(s->off = offsets_new()) || !(s->published = seen_new((size_t)cfg->replay_memory))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int max_tier = scrape_max_tier(cfg, err, errlen);
    if (max_tier < 0)
        return -1;
    fetch_config fc = {
        .api_url = cfg->api_url,
        .api_key = cfg->api_key,
        .timeout_ms = cfg->timeout_ms,
        .concurrency = scrape_concurrency(cfg),
        .max_body = cfg->max_body,
        .retry_base_ms = cfg->retry_base_ms,
        .retry_cap_ms = cfg->retry_cap_ms,
        .max_retries = cfg->max_retries,
        .max_cost = cfg->max_cost,
        .max_tier = max_tier,
        .account_poll_ms = cfg->account_poll_ms,
        .credits_floor = cfg->credits_floor,
    };
    s->cap = (size_t)(fc.concurrency * cfg->backlog_factor);
    s->account_limit = fc.concurrency;
    s->sharing = cfg->concurrency == 0;
    s->partitions = -1;
    metrics_set(s->m_share, s->sharing ? 0.0 : (double)fc.concurrency);
    if (!(s->f = fetch_new(&fc, scrape_fetched, s, err, errlen)))
        return -1;
    if (s->sharing)
        log_info("the group shares %ld ScraperAPI calls in flight: this scraper takes its "
                 "share by the claim partitions it holds",
                 fc.concurrency);
    else
        log_info("up to %ld ScraperAPI calls in flight, %zu claims in hand", fc.concurrency,
                 s->cap);
    if (!(s->producer = scrape_producer_new(s, client_id, err, errlen)))
        return -1;
    /* As in the claimer and committer: an unreachable broker is a start-up error (logged
     * there, once: err stays empty). */
    if (kafka_check_reachable(s->producer, cfg->base.kafka_brokers, 10000) != 0) {
        err[0] = '\0';
        return -1;
    }
    if (!(s->consumer = scrape_consumer_new(s, client_id, err, errlen)))
        return -1;
    if (s->sharing)
        scrape_share_partitions(s);
    return 0;
}

/* Stop intake, hand back the claims never started, let calls finish within the grace
 * period, abandon the rest, flush. */
static void scrape_wind_down(scrape *s)
{
    s->stopping = 1;
    atomic_store(&s->ready_stopping, 1);
    scrape_set_paused(s, 1);
    int64_t deadline = service_mono_ms() + s->cfg->grace_ms;
    size_t in_hand = s->njobs;
    size_t released = fetch_release_if(s->f, NULL, NULL);
    log_info("stopping: %zu claims in hand, %zu not started handed back (replayed by the "
             "partitions' next owner), grace %ld ms",
             in_hand, released, s->cfg->grace_ms);
    while (s->njobs > 0 && !s->fatal && !fetch_parked(s->f) && service_mono_ms() < deadline)
        scrape_drive(s, SCRAPE_POLL_MS);
    size_t abandoned = fetch_cancel_if(s->f, NULL, NULL);
    if (abandoned)
        log_warn("abandoned %zu claims in flight: they stay uncommitted and are replayed",
                 abandoned);
    scrape_publish_pending(s);
    s->stopping = 2;
    int left = kafka_drain(s->producer, SCRAPE_FLUSH_MS);
    if (left > 0)
        log_warn("%d messages not acknowledged at shutdown: their claims are replayed", left);
}

/* Staged shutdown after the loop: wind down, commit, close, destroy. */
static void scrape_shutdown(scrape *s)
{
    if (s->consumer && s->producer && s->f)
        scrape_wind_down(s);
    if (s->consumer) {
        scrape_commit(s, 1);
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(s->consumer);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_error("consumer close: %s", rd_kafka_err2str(e));
        rd_kafka_destroy(s->consumer);
    }
    if (s->producer)
        rd_kafka_destroy(s->producer);
    fetch_free(s->f);
    while (s->head)
        scrape_job_free(s, s->head);
    offsets_free(s->off);
    seen_free(s->published);
    wire_free(s->w);
}

int scrape_run(scrape_settings *cfg)
{
    scrape s = {.cfg = cfg};
    char err[512];
    int64_t now = service_mono_ms();
    s.next_summary_ms = now + SCRAPE_SUMMARY_MS;
    s.summary_start_ms = now;
    if (scrape_setup(&s, err, sizeof err) != 0) {
        if (err[0])
            log_error("start-up failed: %s", err);
        scrape_shutdown(&s);
        return 1;
    }
    if (service_endpoint_start(&cfg->base, scrape_ready, &s) != 0) {
        scrape_shutdown(&s);
        return 1;
    }
    log_info("consuming %s as group %s, publishing to %s", cfg->claims_topic, cfg->group,
             cfg->results_topic);
    while (service_running && !s.fatal) {
        scrape_intake(&s);
        scrape_drive(&s, SCRAPE_POLL_MS);
        scrape_periodic(&s);
    }
    int rc = s.fatal ? 1 : 0;
    scrape_shutdown(&s);
    http_stop();
    log_info("stopped%s", rc ? " after a fatal error" : "");
    return rc;
}
