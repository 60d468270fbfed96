/* Consumer group side: assignment, revocation with a grace period, pausing, commits. */
#include <string.h>

#include "log.h"
#include "scrape_internal.h"
#include "service.h"

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
    scrape *s = opaque;
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

/* Lets the claims of revoked partitions finish within the grace period, commits what is
 * done, and drops the rest (the partition's next owner replays them). */
static void scrape_revoke(scrape *s, rd_kafka_topic_partition_list_t *parts, int lost)
{
    int64_t deadline = service_mono_ms() + s->cfg->grace_ms;
    size_t n = scrape_jobs_in(s, parts);
    log_info("%d partitions %s, %zu claims of them in hand", parts->cnt,
             lost ? "lost" : "revoked", n);
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
}

static void scrape_assign(scrape *s, rd_kafka_topic_partition_list_t *parts, int cooperative)
{
    for (int i = 0; i < parts->cnt; i++)
        if (offsets_assign(s->off, parts->elems[i].topic, parts->elems[i].partition) != 0) {
            log_error("out of memory tracking partitions");
            s->fatal = 1;
        }
    if (cooperative) {
        rd_kafka_error_t *error = rd_kafka_incremental_assign(s->consumer, parts);
        if (error) {
            log_error("incremental assign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(s->consumer, parts);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_error("assign: %s", rd_kafka_err2str(e));
    }
    /* librdkafka keeps a partition's pause across revocation and re-assignment (its
     * issue #1849): a partition paused here, revoked, and assigned back while intake runs
     * would stay paused for good (chaos: 4 partitions, 800 claims never fetched). New
     * partitions get the intake's state explicitly, both ways. */
    (void)scrape_pause_parts(s, parts, s->paused);
    log_info("%d partitions assigned (%s)", parts->cnt, cooperative ? "cooperative" : "eager");
}

static void scrape_unassign(scrape *s, rd_kafka_topic_partition_list_t *parts, int cooperative)
{
    if (cooperative) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(s->consumer, parts);
        if (error) {
            log_error("incremental unassign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(s->consumer, NULL);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_error("unassign: %s", rd_kafka_err2str(e));
    }
}

void scrape_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    scrape *s = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    atomic_store(&s->ready_joined, 1);
    switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        scrape_assign(s, parts, cooperative);
        break;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        scrape_revoke(s, parts, rd_kafka_assignment_lost(rk));
        scrape_unassign(s, parts, cooperative);
        break;
    default:
        log_error("rebalance failed: %s", rd_kafka_err2str(err));
        scrape_revoke(s, parts, 1);
        scrape_unassign(s, parts, cooperative);
    }
}
