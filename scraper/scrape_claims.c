/* Claims to results: decode, validate, fetch, extract, publish, acknowledge. */
#include <stdlib.h>
#include <string.h>

#include "domain_check.h"
#include "extract.h"
#include "kafka.h"
#include "log.h"
#include "scrape_internal.h"
#include "service.h"
#include "tier.h"
#include "trace.h"

#define SCRAPE_INTAKE_BATCH 256

static scrape_job *scrape_job_new(scrape *s, const rd_kafka_message_t *rkm)
{
    scrape_job *job = calloc(1, sizeof *job);
    if (!job || !(job->topic = strdup(rd_kafka_topic_name(rkm->rkt)))) {
        free(job);
        return NULL;
    }
    job->partition = rkm->partition;
    job->offset = rkm->offset;
    job->state = JOB_FETCHING;
    job->prev = s->tail;
    if (s->tail)
        s->tail->next = job;
    else
        s->head = job;
    s->tail = job;
    s->njobs++;
    return job;
}

void scrape_job_free(scrape *s, scrape_job *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        s->head = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        s->tail = job->prev;
    s->njobs--;
    if (job->state == JOB_PUBLISHING)
        s->npublish--;
    msg_claim_free(&job->claim);
    if (job->dlq_rkm)
        rd_kafka_message_destroy(job->dlq_rkm);
    free(job->payload);
    free(job->topic);
    free(job);
}

/* Hands a job to the producer: its result, or its message to the dead-letter topic.
 * Returns 0 when accepted (a delivery report will follow), -1 to try again later. */
static int scrape_publish(scrape *s, scrape_job *job)
{
    if (job->dlq_rkm) {
        if (kafka_dlq_send(s->producer, job->dlq_rkm, s->dlq_consumer, job->dlq_reason, job) != 0)
            return -1;
    } else {
        /* The claim's trace goes on: a child span of the claim's traceparent (or, from a
         * claimer that sent none, the claim's own trace). */
        char tp[MSG_TRACEPARENT_LEN], retries[16];
        trace_child(job->claim.traceparent, tp);
        if (!tp[0])
            trace_from_claim(job->claim.claim_id, tp);
        snprintf(retries, sizeof retries, "%d", job->retries);
        const char *inst = s->cfg->base.instance;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->producer, RD_KAFKA_V_TOPIC(s->cfg->results_topic),
            RD_KAFKA_V_KEY(job->claim.domain_id, strlen(job->claim.domain_id)),
            RD_KAFKA_V_VALUE(job->payload, job->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADER(TRACE_HEADER, tp, (ssize_t)strlen(tp)),
            RD_KAFKA_V_HEADER(TRACE_HEADER_SCRAPER, inst, (ssize_t)strlen(inst)),
            RD_KAFKA_V_HEADER(TRACE_HEADER_RETRIES, retries, (ssize_t)strlen(retries)),
            RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                log_write(LOG_LEVEL_ERROR, job->claim.domain_id, job->claim.claim_id,
                          "cannot publish result to %s: %s", s->cfg->results_topic,
                          rd_kafka_err2str(e));
            return -1;
        }
    }
    job->state = JOB_AWAIT_DR;
    s->npublish--;
    return 0;
}

void scrape_publish_pending(scrape *s)
{
    for (scrape_job *job = s->head; job && s->npublish > 0; job = job->next)
        if (job->state == JOB_PUBLISHING && scrape_publish(s, job) != 0)
            break; /* queue full or broken: the next pass tries again */
}

static void scrape_ready_to_publish(scrape *s, scrape_job *job)
{
    job->state = JOB_PUBLISHING;
    s->npublish++;
    scrape_publish(s, job);
}

/* Encodes r into the job; a result that cannot be encoded is replaced by a failure that
 * says so (no metadata). Returns 0, or -1 when not even that encodes (logged). */
static int scrape_encode(scrape *s, scrape_job *job, msg_result *r)
{
    char err[256];
    if (msg_result_encode(s->w, r, &job->payload, &job->len, err, sizeof err) == 0)
        return 0;
    log_write(LOG_LEVEL_ERROR, r->domain_id, r->claim_id, "cannot encode result: %s", err);
    meta_page_free(&r->meta);
    r->has_meta = false;
    r->outcome = RESULT_FAILURE;
    r->retryable = true;
    free(r->error);
    r->error = strdup("scraper could not encode the result");
    if (r->error && msg_result_encode(s->w, r, &job->payload, &job->len, err, sizeof err) == 0)
        return 0;
    log_write(LOG_LEVEL_ERROR, r->domain_id, r->claim_id,
              "cannot encode failure result either: %s; partition stalls here", err);
    return -1;
}

/* Takes ownership of r's fields: encodes, logs, frees, and publishes the job. */
static void scrape_emit(scrape *s, scrape_job *job, msg_result *r)
{
    const msg_claim *c = &job->claim;
    memcpy(r->domain_id, c->domain_id, sizeof r->domain_id);
    memcpy(r->claim_id, c->claim_id, sizeof r->claim_id);
    r->domain = strdup(c->domain ? c->domain : "");
    r->attempt = c->attempt;
    r->scraped_at_ms = service_now_ms();
    int rc = r->domain ? scrape_encode(s, job, r) : -1;
    job->outcome = r->outcome;
    if (r->outcome == RESULT_SUCCESS)
        log_write(LOG_LEVEL_DEBUG, c->domain_id, c->claim_id,
                  "scraped %s (HTTP %d, %lld ms, tier %s, %lld credits)", c->domain, r->http_status,
                  (long long)r->api_ms, r->tier, (long long)r->credits);
    else
        log_write(LOG_LEVEL_INFO, c->domain_id, c->claim_id,
                  "failed %s: %s (HTTP %d, %s, %lld credits)", c->domain, r->error ? r->error : "?",
                  r->http_status, r->retryable ? "retryable" : "final", (long long)r->credits);
    msg_result_free(r);
    if (rc == 0)
        scrape_ready_to_publish(s, job);
}

/* What the calls of a fetch cost and the tier of its last call (none when no call). */
static void scrape_cost(msg_result *r, const fetch_result *fr)
{
    if (!fr || fr->attempts == 0)
        return;
    r->http_status = (int32_t)fr->http_status;
    r->api_ms = fr->api_ms;
    r->credits = fr->credits;
    snprintf(r->tier, sizeof r->tier, "%s", tier_name(fr->tier));
}

/* A failure result; fr is NULL when no call was made (an invalid domain). */
static void scrape_fail(scrape *s, scrape_job *job, const char *reason, int retryable,
                        const fetch_result *fr)
{
    msg_result r = {0};
    r.outcome = RESULT_FAILURE;
    r.error = strdup(reason);
    r.retryable = retryable;
    scrape_cost(&r, fr);
    scrape_emit(s, job, &r);
}

void scrape_fetched(void *opaque, const fetch_result *fr, void *arg)
{
    scrape *s = arg;
    scrape_job *job = opaque;
    char err[256] = "";
    if (fr->status == FETCH_CANCELLED) {
        scrape_job_free(s, job); /* not done: its offset stays uncommitted, replayed later */
        return;
    }
    job->retries = fr->attempts > 1 ? fr->attempts - 1 : 0;
    if (fr->status == FETCH_FAILED) {
        scrape_fail(s, job, fr->reason, fr->retryable, fr);
        return;
    }
    msg_result r = {0};
    int rc = extract_page(fr->body, fr->body_len, fr->content_type, fr->page_url, &r.meta, err,
                          sizeof err);
    if (rc == EXTRACT_ERROR) {
        char reason[300];
        snprintf(reason, sizeof reason, "extract: %s", err);
        scrape_fail(s, job, reason, 0, fr);
        return;
    }
    r.outcome = RESULT_SUCCESS;
    r.has_meta = true;
    scrape_cost(&r, fr);
    if (fr->truncated)
        log_write(LOG_LEVEL_INFO, job->claim.domain_id, job->claim.claim_id,
                  "page of %s longer than %ld bytes: parsed the first part", job->claim.domain,
                  s->cfg->max_body);
    scrape_emit(s, job, &r);
}

/* An undecodable claim goes to the dead-letter topic; done once that is acknowledged. */
static void scrape_dead_letter(scrape *s, scrape_job *job, rd_kafka_message_t *rkm,
                               const char *reason)
{
    job->dlq_rkm = rkm;
    snprintf(job->dlq_reason, sizeof job->dlq_reason, "%s", reason);
    scrape_ready_to_publish(s, job);
}

/* Validates and starts one decoded claim. */
static void scrape_start(scrape *s, scrape_job *job)
{
    char ascii[300], reason[256] = "";
    msg_claim *c = &job->claim;
    if (domain_check(c->domain ? c->domain : "", ascii, sizeof ascii, reason, sizeof reason) != 0) {
        scrape_fail(s, job, reason[0] ? reason : "invalid domain", 0, NULL);
        return;
    }
    if (fetch_submit(s->f, ascii, tier_from_name(c->tier), job) != 0) {
        log_write(LOG_LEVEL_ERROR, c->domain_id, c->claim_id, "out of memory queueing a fetch");
        s->fatal = 1;
        scrape_job_free(s, job);
    }
}

static void scrape_consumer_error(scrape *s, rd_kafka_message_t *rkm)
{
    if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(s->consumer, why, sizeof why);
        log_error("fatal consumer error: %s", why);
        s->fatal = 1;
        return;
    }
    log_warn("consumer: %s", rd_kafka_message_errstr(rkm));
}

/* A claim whose result Kafka acknowledged already (its offset was not committed before the
 * partition came back): done without a call, its result stands. */
static void scrape_skip_replay(scrape *s, scrape_job *job)
{
    log_write(LOG_LEVEL_DEBUG, job->claim.domain_id, job->claim.claim_id,
              "replayed claim: its result was published already, not fetched again");
    metrics_add(s->m_replayed, 1);
    offsets_done(s->off, job->topic, job->partition, job->offset);
    scrape_job_free(s, job);
}

/* Takes one message from the consumer. Takes ownership of rkm. */
static void scrape_on_message(scrape *s, rd_kafka_message_t *rkm)
{
    char err[256];
    if (rkm->err) {
        scrape_consumer_error(s, rkm);
        goto destroy;
    }
    int rc = offsets_take(s->off, rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset);
    if (rc != 0) {
        if (rc < 0) {
            log_error("out of memory tracking offsets");
            s->fatal = 1;
        }
        goto destroy; /* not ours any more, or already taken */
    }
    scrape_job *job = scrape_job_new(s, rkm);
    if (!job) {
        log_error("out of memory taking a claim");
        s->fatal = 1;
        goto destroy;
    }
    metrics_add(s->m_claims, 1);
    s->n_claims++;
    if (msg_claim_decode(s->w, rkm->payload, rkm->len, &job->claim, err, sizeof err) != 0) {
        scrape_dead_letter(s, job, rkm, err);
        return;
    }
    (void)trace_header_get(rkm, TRACE_HEADER, job->claim.traceparent,
                           sizeof job->claim.traceparent);
    rd_kafka_message_destroy(rkm);
    fetch_set_ceiling(s->f, (long)job->claim.credits_ceiling, job->claim.credits_ceiling_until_ms,
                      job->claim.claimed_at_ms);
    if (seen_has(s->published, job->claim.claim_id))
        scrape_skip_replay(s, job);
    else
        scrape_start(s, job);
    return;
destroy:
    rd_kafka_message_destroy(rkm);
}

/* 1 while the claims in hand fill the cap. Held by the daily budget's ceiling alone, claims
 * are still taken past it (no call starts for them): a raised budget reaches this scraper
 * only as a newer claim's ceiling, and the claimer hands out no more claims than the
 * budget's room. */
static int scrape_intake_full(scrape *s)
{
    return s->njobs >= s->cap && !fetch_awaits_ceiling(s->f);
}

void scrape_intake(scrape *s)
{
    int budget_wait = fetch_awaits_ceiling(s->f);
    int want = s->stopping || (fetch_paused(s->f) != FETCH_RUNNING && !budget_wait) ||
               scrape_intake_full(s);
    if (want != s->paused)
        scrape_set_paused(s, want);
    /* Polled even while paused: rebalances and the poll interval are served here. */
    for (int i = 0; i < SCRAPE_INTAKE_BATCH && !s->fatal; i++) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(s->consumer, 0);
        if (!rkm)
            break;
        scrape_on_message(s, rkm);
        if (scrape_intake_full(s))
            break;
    }
}

static void scrape_count_done(scrape *s, const scrape_job *job)
{
    if (job->dlq_rkm) {
        metrics_add(s->m_dlq, 1);
        s->n_dlq++;
    } else if (job->outcome == RESULT_SUCCESS) {
        metrics_add(s->m_success, 1);
        s->n_success++;
    } else {
        metrics_add(s->m_failure, 1);
        s->n_failure++;
    }
}

void scrape_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    scrape *s = opaque;
    (void)rk;
    scrape_job *job = m->_private; /* results and dead letters alike carry their job */
    if (!job) {
        if (m->err)
            log_error("delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
                      rd_kafka_err2str(m->err));
        return;
    }
    if (m->err) {
        log_write(LOG_LEVEL_WARN, job->claim.domain_id, job->claim.claim_id,
                  "delivery to %s failed: %s%s", rd_kafka_topic_name(m->rkt),
                  rd_kafka_err2str(m->err),
                  job->orphan || s->stopping > 1 ? "; dropped, it will be replayed"
                                                 : "; publishing again");
        if (job->orphan || s->stopping > 1) {
            scrape_job_free(s, job);
        } else {
            job->state = JOB_PUBLISHING;
            s->npublish++;
        }
        return;
    }
    if (!job->orphan)
        offsets_done(s->off, job->topic, job->partition, job->offset);
    if (!job->dlq_rkm)
        seen_add(s->published, job->claim.claim_id);
    scrape_count_done(s, job);
    scrape_job_free(s, job);
}
