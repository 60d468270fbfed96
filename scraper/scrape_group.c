/* Consumer group side: assignment, revocation with a grace period, pausing, commits. */
#include <string.h>

#include "log.h"
#include "scrape_internal.h"
#include "service.h"
#include "share.h"

/* Pauses or resumes parts (none: nothing to do). Returns 0, or -1 logged. */
static int scrape_pause_parts(scrape *s, rd_kafka_topic_partition_list_t *parts, int paused)
{
    if (parts->cnt == 0)
        return 0;
    rd_kafka_resp_err_t e = paused ? rd_kafka_pause_partitions(s->consumer, parts)
                                   : rd_kafka_resume_partitions(s->consumer, parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("%s partitions: %s", paused ? "pause" : "resume", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

void scrape_set_paused(scrape *s, int paused)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->consumer, &parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("rd_kafka_assignment: %s", rd_kafka_err2str(e));
        return;
    }
    if (scrape_pause_parts(s, parts, paused) != 0) {
        rd_kafka_topic_partition_list_destroy(parts);
        return;
    }
    log_debug("%s intake (%d partitions, %zu claims in hand)", paused ? "paused" : "resumed",
              parts->cnt, s->njobs);
    rd_kafka_topic_partition_list_destroy(parts);
    s->paused = paused;
}

/* Commits every partition whose committable offset moved: asynchronously in the loop,
 * synchronously on revocation and shutdown. */
void scrape_commit(scrape *s, int sync)
{
    rd_kafka_topic_partition_list_t *list = offsets_commit_list(s->off, 0);
    if (!list)
        return;
    rd_kafka_resp_err_t e = rd_kafka_commit(s->consumer, list, !sync);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("offset commit: %s", rd_kafka_err2str(e));
    else if (sync)
        offsets_committed(s->off, list);
    rd_kafka_topic_partition_list_destroy(list);
}

void scrape_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    const kafka_rebalance *r = opaque;
    scrape *s = r->arg;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("offset commit: %s", rd_kafka_err2str(err));
        return;
    }
    offsets_committed(s->off, offsets);
}

static int scrape_in_parts(const scrape_job *job, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition == job->partition &&
            strcmp(parts->elems[i].topic, job->topic) == 0)
            return 1;
    return 0;
}

static int scrape_match_parts(void *opaque, void *arg)
{
    return scrape_in_parts(opaque, arg);
}

static size_t scrape_jobs_in(const scrape *s, const rd_kafka_topic_partition_list_t *parts)
{
    size_t n = 0;
    for (const scrape_job *job = s->head; job; job = job->next)
        n += !job->orphan && scrape_in_parts(job, parts);
    return n;
}

void scrape_share_partitions(scrape *s)
{
    char err[512];
    s->partitions = kafka_partition_count(s->consumer, s->cfg->claims_topic, 10000, err,
                                          sizeof err);
    if (s->partitions < 0)
        log_warn("cannot count the partitions of %s (%s): each scraper takes the whole "
                 "account's concurrency until it can",
                 s->cfg->claims_topic, err);
}

/* After a rebalance: this scraper holds mine partitions; its calls in flight and claims in
 * hand follow its share of the account (nothing changes while it holds none). */
static void scrape_share_update(scrape *s, int mine)
{
    if (!s->sharing || mine <= 0)
        return;
    if (s->partitions < 0 || mine > s->partitions)
        scrape_share_partitions(s);
    long share = share_of(s->account_limit, mine, s->partitions);
    fetch_set_max(s->f, share);
    s->cap = (size_t)(share * s->cfg->backlog_factor);
    metrics_set(s->m_share, (double)share);
    log_info("share of the account's %ld calls in flight: %ld (%d of %d partitions), %zu "
             "claims in hand at most",
             s->account_limit, share, mine, s->partitions, s->cap);
}

/* The number of partitions assigned now, or -1 logged. */
static int scrape_assigned_count(scrape *s)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->consumer, &parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("rd_kafka_assignment: %s", rd_kafka_err2str(e));
        return -1;
    }
    int n = parts->cnt;
    rd_kafka_topic_partition_list_destroy(parts);
    return n;
}

/* Hands back at once the claims of revoked partitions never started, lets the rest finish
 * within the grace period, commits what is done, and drops what is left (the partitions'
 * next owner replays them). */
void scrape_revoked(void *arg, rd_kafka_topic_partition_list_t *parts, int lost)
{
    scrape *s = arg;
    int64_t deadline = service_mono_ms() + s->cfg->grace_ms;
    atomic_store(&s->ready_joined, 1);
    size_t in_hand = scrape_jobs_in(s, parts);
    size_t released = lost ? 0 : fetch_release_if(s->f, scrape_match_parts, parts);
    log_info("%zu claims of the %s partitions in hand; %zu not started handed back", in_hand,
             lost ? "lost" : "revoked", released);
    while (!lost && s->stopping < 2 && !s->fatal && scrape_jobs_in(s, parts) > 0 &&
           !fetch_parked(s->f) && service_mono_ms() < deadline)
        scrape_drive(s, 20);
    if (!lost)
        scrape_commit(s, 1);
    size_t cancelled = fetch_cancel_if(s->f, scrape_match_parts, parts);
    scrape_job *next;
    for (scrape_job *job = s->head; job; job = next) {
        next = job->next;
        if (!scrape_in_parts(job, parts))
            continue;
        if (job->state == JOB_AWAIT_DR)
            job->orphan = 1; /* its delivery report frees it */
        else
            scrape_job_free(s, job);
    }
    for (int i = 0; i < parts->cnt; i++)
        offsets_revoke(s->off, parts->elems[i].topic, parts->elems[i].partition);
    if (cancelled || scrape_jobs_in(s, parts))
        log_warn("abandoned %zu claims of revoked partitions: their next owner replays them",
                 cancelled);
    /* Still assigned until the callback returns: what remains is the rest. */
    int n = scrape_assigned_count(s);
    if (n >= 0)
        scrape_share_update(s, n - parts->cnt);
}

void scrape_assigned(void *arg, rd_kafka_topic_partition_list_t *parts, int cooperative)
{
    scrape *s = arg;
    (void)cooperative;
    atomic_store(&s->ready_joined, 1);
    for (int i = 0; i < parts->cnt; i++)
        if (offsets_assign(s->off, parts->elems[i].topic, parts->elems[i].partition) != 0) {
            log_error("out of memory tracking partitions");
            s->fatal = 1;
        }
    /* librdkafka keeps a partition's pause across revocation and re-assignment (its issue
     * #1849), so new partitions get the intake's state explicitly, both ways (bench/README.md,
     * "Incidents behind comments"). */
    (void)scrape_pause_parts(s, parts, s->paused);
    scrape_share_update(s, scrape_assigned_count(s));
}
