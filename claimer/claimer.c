/* The claimer's loop: wake on NOTIFY or a timer, claim a batch, publish it, repeat. */
#include "claimer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "service.h"
#include "service_open.h"

static atomic_int claimer_ready;

static int claimer_ready_fn(void *arg)
{
    (void)arg;
    return atomic_load(&claimer_ready);
}

typedef struct claimer_ctx {
    const claimer_settings *s;
    service_handles h;
    db *listen; /* the LISTEN connection: h.d itself, or a direct one (WF4_LISTEN_DATABASE_URL) */
    claim_inflight inflight;
    budget credits; /* the credit budget's verdict, refreshed each round */
    long limit;     /* claims per transaction now: WF4_CLAIM_BATCH, less while slow */
} claimer_ctx;

/* Start-up: every part is checked with a clear message naming what failed. */
static int claimer_open(claimer_ctx *c)
{
    char err[512];
    const claimer_settings *s = c->s;
    const service_open_spec o = {"claimer", WIRE_CLAIM, s->claims_topic, claim_delivery_cb, NULL};
    if (service_open(&s->base, &o, &c->h) != 0)
        return -1;
    c->listen = c->h.d;
    /* Behind a transaction-mode pooler NOTIFY never arrives: LISTEN on a direct connection
     * when one is configured (the fallback timer covers the rest). */
    if (s->listen_database_url) {
        db_settings ds = service_db_settings(&s->base, s->listen_database_url, c->h.app);
        if (!(c->listen = db_connect(&ds, err, sizeof err))) {
            log_error("WF4_LISTEN_DATABASE_URL: cannot connect to PostgreSQL: %s", err);
            return -1;
        }
    }
    if (db_listen(c->listen, "wf4_domains_pending") != 0)
        return -1;
    return 0;
}

static void claimer_close(claimer_ctx *c)
{
    if (c->listen && c->listen != c->h.d)
        db_close(c->listen);
    service_close(&c->h);
}

/* Claims and publishes batches until one comes back short. Each batch is queued in the
 * producer as soon as its transaction commits and the next transaction follows at once:
 * Kafka acknowledges earlier batches meanwhile, up to CLAIMER_UNACKED_BATCHES batches
 * behind. The round ends when every claim has its delivery report (or the publish timeout
 * passed). Returns -1 on a failed transaction (the loop backs off), else 0. */
#define CLAIMER_UNACKED_BATCHES 4

static int claimer_drain_due(claimer_ctx *c)
{
    const claimer_settings *s = c->s;
    size_t claimed = 0, acked0, failed0, acked, failed;
    int txs = 0, rc = 0;
    int64_t t0 = service_mono_ms();
    claim_publish_counts(&acked0, &failed0);
    /* Paused by the credit budget: nothing is claimed, expired leases included (a scraper
     * holding them is paused too, and each reclaim would count an attempt). */
    const credits_view *v = budget_refresh(&c->credits, c->h.d);
    if (v->state != CREDITS_OK)
        return 0;
    for (;;) {
        claim_publish_wait(c->h.producer, (size_t)(CLAIMER_UNACKED_BATCHES * s->claim.batch),
                           (int)s->publish_timeout_ms);
        claim_set set;
        claim_opts o = s->claim;
        o.batch = c->limit;
        o.instance = s->base.instance;
        o.credit_room = v->room;
        o.credit_since_ms = budget_uncounted_since_ms(&c->credits);
        o.credit_ceiling = budget_ceiling(&c->credits, &o.credit_ceiling_until_ms);
        if (claim_batch(c->h.d, &o, &c->inflight, &set) != 0) {
            rc = -1;
            break;
        }
        txs++;
        /* A full batch tells the pace; a short one ends the round. */
        if ((long)set.n == o.batch)
            c->limit = db_batch_fit(c->limit, s->claim.batch, s->tx_target_ms, set.n,
                                    db_last_tx_ms(c->h.d));
        size_t n = set.n;
        if (n > 0 && s->fault_publish_delay_ms > 0) {
            log_warn("fault injection: pausing %ld ms between commit and publish",
                     s->fault_publish_delay_ms);
            db_wait_notify(c->listen, (int)s->fault_publish_delay_ms);
        }
        if (n > 0)
            claim_publish_start(c->h.producer, c->h.w, s->claims_topic, &set);
        claimed += n;
        claim_set_clear(&set);
        if ((long)n < o.batch || !service_running)
            break;
    }
    claim_publish_wait(c->h.producer, 0, (int)s->publish_timeout_ms);
    claim_publish_counts(&acked, &failed);
    if (claimed > 0)
        log_write(failed > failed0 ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, NULL, NULL,
                  "claimed %zu domains in %d transactions over %lld ms; %zu claims "
                  "acknowledged by Kafka, %zu failed",
                  claimed, txs, (long long)(service_mono_ms() - t0), acked - acked0,
                  failed - failed0);
    return rc;
}

/* Attempt history is pruned in batches of CLAIMER_PRUNE_BATCH, again at once while a batch
 * comes back full, else every CLAIMER_PRUNE_EVERY_MS. */
#define CLAIMER_PRUNE_BATCH 1000
#define CLAIMER_PRUNE_EVERY_MS 60000

static void claimer_prune(claimer_ctx *c, int64_t *next_ms)
{
    if (service_mono_ms() < *next_ms)
        return;
    long n = claim_prune_attempts(c->h.d, c->s->attempts_retention_days, CLAIMER_PRUNE_BATCH);
    if (n > 0)
        log_info("pruned %ld attempt records older than %ld days", n,
                 c->s->attempts_retention_days);
    *next_ms = service_mono_ms() + (n == CLAIMER_PRUNE_BATCH ? 0 : CLAIMER_PRUNE_EVERY_MS);
}

int claimer_run(const claimer_settings *s)
{
    /* The first batches are small: the pace is unknown until a full batch was timed. */
    claimer_ctx c = {.s = s, .limit = s->claim.batch < 50 ? s->claim.batch : 50};
    int rc = 1;
    if (budget_init(&c.credits, &s->budget) != 0 || claimer_open(&c) != 0 ||
        service_endpoint_start(&s->base, claimer_ready_fn, NULL) != 0)
        goto out;
    log_info("claimer started: batch %ld, lease %ld s, max in flight %ld, max attempts %ld, "
             "topic %s",
             s->claim.batch, s->claim.lease_s, s->claim.max_in_flight, s->claim.max_attempts,
             s->claims_topic);
    int backoff_ms = 0;
    int64_t next_prune_ms = 0;
    while (service_running) {
        int ok = claimer_drain_due(&c) == 0;
        claimer_prune(&c, &next_prune_ms);
        atomic_store(&claimer_ready, ok && db_ok(c.h.d));
        backoff_ms = ok ? 0 : (backoff_ms ? (backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2) : 100);
        /* Wait for a NOTIFY (a selection) or the fallback timer (leases, retries due). */
        int n = db_wait_notify(c.listen, backoff_ms ? backoff_ms : (int)s->interval_ms);
        if (n < 0)
            log_warn("LISTEN connection lost; falling back to the timer until it is back");
        rd_kafka_poll(c.h.producer, 0);
    }
    log_info("claimer stopping: batch in hand finished, flushing");
    rc = 0;
out:
    atomic_store(&claimer_ready, 0);
    http_stop();
    claimer_close(&c);
    log_info("claimer stopped");
    return rc;
}
