/* Unit tests of the committer's batch state machine (committer/batch.c) in a fake world: a
 * fake apply (a database of applied results and outbox rows), a fake producer (handoffs and
 * dead letters) and a fake consumer (positions, committed offsets), with a failure injected
 * at each step. No PostgreSQL, no Kafka. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

#define NPART 2
#define PER_PART 120
#define NMSG (NPART * PER_PART)
#define MAX_ROWS 4096

/* Which step fails, by the ordinal of its call (0: never). */
typedef struct fake_faults {
    int apply, handoffs, dlq, commit;
} fake_faults;

typedef struct fake {
    pthread_mutex_t mu; /* apply runs in the applier thread */
    fake_faults fail;
    int napply, nsettle, ndlq, ncommit, nrewind, ndelete;
    /* The database: results applied, outbox rows (their events, deleted or not). */
    int applied[NMSG];
    int row_of[NMSG]; /* the outbox row of a success's latest handoff, -1 none */
    int nrows, row_deleted[MAX_ROWS], row_events[MAX_ROWS];
    /* The producer: handoff reports (1 acknowledged, 2 failed), dead letters. */
    int handoff[NMSG], dlq_pending[NMSG], dlq_acked[NMSG];
    /* The consumer. */
    int64_t pos[NPART], committed[NPART];
    int rr;
    /* Invariants broken, each counted where it happened. */
    int commit_before_ack, commit_before_apply, commit_before_dlq, deleted_unacked;
} fake;

static int fake_is_dlq(int idx)
{
    return idx % 17 == 5;
}

static int fake_is_success(int idx)
{
    return idx % 3 != 0;
}

static int fake_idx(const char *uuid)
{
    return atoi(uuid + 24);
}

/* A row is deleted: every event of it must have been acknowledged. */
static void fake_delete_row(fake *f, const char *id)
{
    int row = atoi(id + 24);
    assert_true(row >= 0 && row < f->nrows);
    for (int i = 0; i < NMSG; i++)
        if (f->row_of[i] == row && f->handoff[i] != 1)
            f->deleted_unacked++;
    f->row_deleted[row] = 1;
}

static void fake_handoff_of(fake *f, batch *b, int idx, int row, size_t k)
{
    msg_handoff *h = &b->st.handoffs[k];
    snprintf(h->domain_id, sizeof h->domain_id, "00000000-0000-0000-0000-%012d", idx);
    snprintf(h->event_id, sizeof h->event_id, "%s", h->domain_id);
    h->domain = strdup("example.com");
    f->row_of[idx] = row;
    f->handoff[idx] = 0;
}

/* batch_ops.apply, in the applier thread: one transaction. */
static int fake_apply(void *env, batch *b, const outbox_ids *done)
{
    fake *f = env;
    pthread_mutex_lock(&f->mu);
    int fail = ++f->napply == f->fail.apply;
    if (!fail) {
        for (size_t i = 0; done && i < done->n; i++)
            fake_delete_row(f, done->v[i]);
        int row = f->nrows++;
        b->st.handoffs = calloc(b->n ? b->n : 1, sizeof *b->st.handoffs);
        for (size_t i = 0; i < b->n; i++) {
            int idx = fake_idx(b->v[i].domain_id);
            f->applied[idx]++;
            if (b->v[i].outcome == RESULT_SUCCESS)
                fake_handoff_of(f, b, idx, row, b->st.nhandoffs++);
        }
        f->row_events[row] = (int)b->st.nhandoffs;
        snprintf(b->st.outbox_batch, MSG_UUID_LEN, "00000000-0000-0000-0000-%012d", row);
        b->st.completed = (long)b->st.nhandoffs;
        b->tx_ms = 5;
    }
    pthread_mutex_unlock(&f->mu);
    return fail ? -1 : 0;
}

static void fake_applied(void *env, const batch *b)
{
    (void)env;
    (void)b;
}

static void fake_publish(void *env, batch *b)
{
    (void)env;
    b->flight.v = b->st.handoffs; /* the flight holds them until their reports */
    b->flight.n = b->st.nhandoffs;
    b->st.handoffs = NULL;
    b->st.nhandoffs = 0;
}

/* Every report arrives: acknowledged, or (the injected step) failed. */
static void fake_settle(void *env, batch *b, outbox_ids *done)
{
    fake *f = env;
    pthread_mutex_lock(&f->mu);
    int fail = b->flight.n && ++f->nsettle == f->fail.handoffs;
    int row = -1;
    for (size_t i = 0; i < b->flight.n; i++) {
        int idx = fake_idx(b->flight.v[i].domain_id);
        f->handoff[idx] = fail ? 2 : 1;
        row = f->row_of[idx];
        msg_handoff_free(&b->flight.v[i]);
    }
    if (row >= 0 && !fail) { /* the row's every event acknowledged */
        char id[MSG_UUID_LEN];
        snprintf(id, sizeof id, "00000000-0000-0000-0000-%012d", row);
        assert_int_equal(outbox_ids_add(done, id), 0);
    }
    free(b->flight.v);
    memset(&b->flight, 0, sizeof b->flight);
    pthread_mutex_unlock(&f->mu);
}

static int fake_dlq_settle(void *env, batch *b)
{
    fake *f = env;
    int fail = ++f->ndlq == f->fail.dlq;
    for (int i = 0; i < NMSG; i++) {
        if (f->dlq_pending[i] && !fail) {
            f->dlq_acked[i] = 1;
            b->dlq.acked++;
        }
        f->dlq_pending[i] = 0;
    }
    if (fail)
        b->dlq.failed++;
    return fail ? -1 : 0;
}

/* Everything below a committed offset must be applied, its handoff reported, its dead
 * letter delivered. */
static void fake_commit(void *env, const rd_kafka_topic_partition_list_t *next, int sync)
{
    fake *f = env;
    (void)sync;
    pthread_mutex_lock(&f->mu);
    int fail = ++f->ncommit == f->fail.commit;
    for (int k = 0; k < next->cnt && !fail; k++) {
        int p = next->elems[k].partition;
        for (int64_t o = 0; o < next->elems[k].offset; o++) {
            int idx = p * PER_PART + (int)o;
            if (fake_is_dlq(idx))
                f->commit_before_dlq += !f->dlq_acked[idx];
            else
                f->commit_before_apply += !f->applied[idx];
            if (!fake_is_dlq(idx) && fake_is_success(idx))
                f->commit_before_ack += f->handoff[idx] == 0;
        }
        if (next->elems[k].offset > f->committed[p])
            f->committed[p] = next->elems[k].offset;
    }
    pthread_mutex_unlock(&f->mu);
}

static void fake_rewind(void *env, const rd_kafka_topic_partition_list_t *first)
{
    fake *f = env;
    f->nrewind++;
    for (int k = 0; k < first->cnt; k++)
        f->pos[first->elems[k].partition] = first->elems[k].offset;
}

static void fake_delete_done(void *env, outbox_ids *done)
{
    fake *f = env;
    pthread_mutex_lock(&f->mu);
    f->ndelete++;
    for (size_t i = 0; i < done->n; i++)
        fake_delete_row(f, done->v[i]);
    pthread_mutex_unlock(&f->mu);
    outbox_ids_clear(done);
}

static const batch_ops fake_ops = {fake_apply,      fake_applied, fake_publish, fake_settle,
                                   fake_dlq_settle, fake_commit,  fake_rewind,  fake_delete_done};

/* The consumer: the next message, round robin over the partitions. Returns 0 when none. */
static int fake_take(fake *f, batch_line *l)
{
    int p = f->rr++ % NPART;
    if (f->pos[p] >= PER_PART)
        p = (p + 1) % NPART;
    if (f->pos[p] >= PER_PART)
        return 0;
    int64_t o = f->pos[p]++;
    int idx = p * PER_PART + (int)o;
    batch *b = batch_filling(l);
    batch_track(b, "wf4.domain.results", p, o);
    if (fake_is_dlq(idx)) { /* undecodable: a dead letter */
        f->dlq_pending[idx] = 1;
        b->dlq.sent++;
        return 1;
    }
    msg_result *r = &b->v[b->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->domain_id, sizeof r->domain_id, "00000000-0000-0000-0000-%012d", idx);
    snprintf(r->claim_id, sizeof r->claim_id, "%s", r->domain_id);
    r->domain = strdup("example.com");
    r->outcome = fake_is_success(idx) ? RESULT_SUCCESS : RESULT_FAILURE;
    if (r->outcome == RESULT_FAILURE) {
        r->error = strdup("HTTP 500");
        r->retryable = true;
    }
    return 1;
}

/* The committer's loop on a fake clock until every message was taken, then the end. */
static void fake_run(fake *f, fake_faults fail)
{
    batch_line l;
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->fail = fail;
    for (int i = 0; i < NMSG; i++)
        f->row_of[i] = -1;
    assert_int_equal(batch_line_init(&l, &fake_ops, f, 16, 30, 1000), 0);
    int64_t now = 1000;
    for (int steps = 0; steps < 100000; steps++) {
        now += 10;
        int took = fake_take(f, &l);
        batch_step(&l, now);
        if (!took && !batch_applying(&l) && batch_due_ms(&l) == INT64_MAX)
            break;
    }
    batch_drain(&l);
    batch_line_free(&l);
    print_message("      %d transactions, %d settles, %d commits, %d rewinds, %d outbox rows "
                  "(%d deleted alone)\n",
                  f->napply, f->nsettle, f->ncommit, f->nrewind, f->nrows, f->ndelete);
    pthread_mutex_destroy(&f->mu);
}

/* Nothing lost: every offset committed, every result applied, every dead letter delivered,
 * every success's handoff acknowledged or its outbox row kept for the sweep; no offset was
 * committed ahead of any of them and no row deleted with an event unacknowledged. */
static void fake_check(const fake *f)
{
    for (int p = 0; p < NPART; p++)
        assert_int_equal(f->committed[p], PER_PART);
    for (int i = 0; i < NMSG; i++) {
        if (fake_is_dlq(i)) {
            assert_true(f->dlq_acked[i]);
            continue;
        }
        assert_true(f->applied[i] >= 1);
        if (fake_is_success(i) && f->handoff[i] != 1) {
            assert_int_equal(f->handoff[i], 2);
            assert_false(f->row_deleted[f->row_of[i]]);
        }
    }
    assert_int_equal(f->commit_before_ack, 0);
    assert_int_equal(f->commit_before_apply, 0);
    assert_int_equal(f->commit_before_dlq, 0);
    assert_int_equal(f->deleted_unacked, 0);
}

static void test_no_failure(void **state)
{
    (void)state;
    fake f;
    fake_run(&f, (fake_faults){0});
    fake_check(&f);
    assert_int_equal(f.nrewind, 0);
    for (int i = 0; i < NMSG; i++)
        if (!fake_is_dlq(i))
            assert_int_equal(f.applied[i], 1);
    /* Every row but the last ones went with a later transaction or alone at the end. */
    for (int r = 0; r < f.nrows; r++)
        assert_true(f.row_deleted[r] || f.row_events[r] == 0);
}

/* A transaction given up: that batch and the one filled after it are consumed again. */
static void test_apply_fails(void **state)
{
    (void)state;
    fake f;
    fake_run(&f, (fake_faults){.apply = 3});
    fake_check(&f);
    assert_true(f.nrewind >= 1);
}

/* The handoffs' reports fail: offsets still committed (the outbox row is the durable
 * copy), the row kept for the sweep, its events not acknowledged. */
static void test_handoffs_fail(void **state)
{
    (void)state;
    fake f;
    fake_run(&f, (fake_faults){.handoffs = 2});
    fake_check(&f);
    int failed = 0;
    for (int i = 0; i < NMSG; i++)
        failed += f.handoff[i] == 2;
    assert_true(failed > 0);
    assert_int_equal(f.nrewind, 0);
}

/* A dead letter not delivered: its batch is consumed again, its offsets not committed
 * until the dead letter is. */
static void test_dlq_fails(void **state)
{
    (void)state;
    fake f;
    fake_run(&f, (fake_faults){.dlq = 1});
    fake_check(&f);
    assert_true(f.nrewind >= 1);
}

/* A failed offset commit: a later one covers it. */
static void test_commit_fails(void **state)
{
    (void)state;
    fake f;
    fake_run(&f, (fake_faults){.commit = 2});
    fake_check(&f);
}

/* Everything at once, at other steps. */
static void test_all_fail(void **state)
{
    (void)state;
    fake f;
    fake_run(&f, (fake_faults){.apply = 5, .handoffs = 4, .dlq = 3, .commit = 6});
    fake_check(&f);
}

/* The typed outbox id list: moved, sent as a binary uuid[] (1-dim, uuid oid, n elements). */
static void test_outbox_ids(void **state)
{
    (void)state;
    outbox_ids a = {0}, b = {0};
    db_array arr;
    assert_int_equal(outbox_ids_add(&a, "0b0e8a55-6c1d-4c3b-9f4e-1a2b3c4d5e6f"), 0);
    assert_int_equal(outbox_ids_add(&b, "1b0e8a55-6c1d-4c3b-9f4e-1a2b3c4d5e6f"), 0);
    outbox_ids_move(&a, &b);
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, 0);
    assert_string_equal(a.v[1], "1b0e8a55-6c1d-4c3b-9f4e-1a2b3c4d5e6f");
    assert_int_equal(outbox_ids_array(&a, &arr), 0);
    assert_int_equal(arr.n, 2);
    assert_int_equal(arr.elem_oid, DB_OID_UUID);
    assert_int_equal(arr.len, 20 + 2 * (4 + 16));
    db_array_free(&arr);
    assert_int_equal(outbox_ids_array(NULL, &arr), 0); /* empty: '{}' */
    assert_int_equal(arr.n, 0);
    db_array_free(&arr);
    assert_int_equal(outbox_ids_add(&a, "not-a-uuid"), 0);
    assert_int_equal(outbox_ids_array(&a, &arr), -1);
    outbox_ids_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_failure),    cmocka_unit_test(test_apply_fails),
        cmocka_unit_test(test_handoffs_fail), cmocka_unit_test(test_dlq_fails),
        cmocka_unit_test(test_commit_fails),  cmocka_unit_test(test_all_fail),
        cmocka_unit_test(test_outbox_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
