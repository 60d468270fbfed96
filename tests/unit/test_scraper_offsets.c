/* Unit tests of scraper/offsets.c: commit only up to the lowest claim not yet done. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "offsets.h"

#define T "wf4.domain.claims"

static void test_nothing_done_nothing_to_commit(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 0), 0);
    assert_int_equal(offsets_committable(o, T, 0), -1);
    assert_int_equal(offsets_take(o, T, 0, 10), 0);
    assert_int_equal(offsets_take(o, T, 0, 11), 0);
    assert_int_equal(offsets_committable(o, T, 0), -1);
    assert_null(offsets_commit_list(o, 1));
    offsets_free(o);
}

static void test_in_order_done(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 3), 0);
    for (int64_t i = 0; i < 5; i++)
        assert_int_equal(offsets_take(o, T, 3, i), 0);
    assert_int_equal(offsets_done(o, T, 3, 0), 0);
    assert_int_equal(offsets_committable(o, T, 3), 1);
    assert_int_equal(offsets_done(o, T, 3, 1), 0);
    assert_int_equal(offsets_committable(o, T, 3), 2);
    for (int64_t i = 2; i < 5; i++)
        assert_int_equal(offsets_done(o, T, 3, i), 0);
    assert_int_equal(offsets_committable(o, T, 3), 5); /* last done + 1 */
    assert_int_equal(offsets_pending(o, T, 3), 0);
    offsets_free(o);
}

/* The lowest pending claim holds the commit back however many later ones are done. */
static void test_out_of_order_done_waits_for_lowest(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 0), 0);
    for (int64_t i = 100; i < 110; i++)
        assert_int_equal(offsets_take(o, T, 0, i), 0);
    assert_int_equal(offsets_done(o, T, 0, 100), 0);
    for (int64_t i = 102; i < 110; i++)
        assert_int_equal(offsets_done(o, T, 0, i), 0);
    assert_int_equal(offsets_committable(o, T, 0), 101);
    assert_int_equal(offsets_pending(o, T, 0), 9);
    assert_int_equal(offsets_done(o, T, 0, 101), 0);
    assert_int_equal(offsets_committable(o, T, 0), 110);
    assert_int_equal(offsets_pending(o, T, 0), 0);
    offsets_free(o);
}

/* Gaps (transaction markers, compaction) do not hold the commit back. */
static void test_gaps(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 0), 0);
    assert_int_equal(offsets_take(o, T, 0, 5), 0);
    assert_int_equal(offsets_take(o, T, 0, 9), 0);
    assert_int_equal(offsets_done(o, T, 0, 5), 0);
    assert_int_equal(offsets_committable(o, T, 0), 9);
    assert_int_equal(offsets_done(o, T, 0, 9), 0);
    assert_int_equal(offsets_committable(o, T, 0), 10);
    offsets_free(o);
}

static void test_duplicates_and_unknown(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_take(o, T, 0, 1), 1); /* not assigned */
    assert_int_equal(offsets_assign(o, T, 0), 0);
    assert_int_equal(offsets_assign(o, T, 0), 0); /* idempotent */
    assert_int_equal(offsets_take(o, T, 0, 1), 0);
    assert_int_equal(offsets_take(o, T, 0, 1), 1); /* already pending */
    assert_int_equal(offsets_done(o, T, 0, 2), 1); /* never taken */
    assert_int_equal(offsets_done(o, T, 0, 1), 0);
    assert_int_equal(offsets_done(o, T, 0, 1), 1); /* duplicate report */
    assert_int_equal(offsets_done(o, T, 7, 1), 1); /* partition not ours */
    assert_int_equal(offsets_committable(o, T, 0), 2);
    offsets_free(o);
}

static void test_revoke_forgets(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 0), 0);
    assert_int_equal(offsets_assign(o, T, 1), 0);
    assert_int_equal(offsets_take(o, T, 0, 1), 0);
    assert_int_equal(offsets_take(o, T, 1, 1), 0);
    assert_int_equal(offsets_pending_total(o), 2);
    offsets_revoke(o, T, 0);
    assert_false(offsets_assigned(o, T, 0));
    assert_true(offsets_assigned(o, T, 1));
    assert_int_equal(offsets_pending_total(o), 1);
    assert_int_equal(offsets_done(o, T, 0, 1), 1); /* late report after revocation */
    assert_int_equal(offsets_done(o, T, 1, 1), 0);
    assert_int_equal(offsets_committable(o, T, 1), 2);
    offsets_free(o);
}

/* A commit list holds only partitions that moved since their last successful commit. */
static void test_commit_list(void **state)
{
    (void)state;
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 0), 0);
    assert_int_equal(offsets_assign(o, T, 1), 0);
    assert_int_equal(offsets_take(o, T, 0, 4), 0);
    assert_int_equal(offsets_take(o, T, 1, 8), 0);
    assert_int_equal(offsets_done(o, T, 0, 4), 0);
    rd_kafka_topic_partition_list_t *l = offsets_commit_list(o, 0);
    assert_non_null(l);
    assert_int_equal(l->cnt, 1);
    assert_int_equal(l->elems[0].partition, 0);
    assert_int_equal(l->elems[0].offset, 5);
    offsets_committed(o, l);
    rd_kafka_topic_partition_list_destroy(l);
    assert_null(offsets_commit_list(o, 0));
    l = offsets_commit_list(o, 1);
    assert_non_null(l);
    assert_int_equal(l->cnt, 1);
    /* a failed partition commit is not recorded: it is committed again */
    l->elems[0].err = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
    assert_int_equal(offsets_take(o, T, 0, 5), 0);
    assert_int_equal(offsets_done(o, T, 0, 5), 0);
    rd_kafka_topic_partition_list_destroy(l);
    l = offsets_commit_list(o, 0);
    assert_int_equal(l->elems[0].offset, 6);
    l->elems[0].err = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
    offsets_committed(o, l);
    rd_kafka_topic_partition_list_destroy(l);
    l = offsets_commit_list(o, 0);
    assert_non_null(l);
    assert_int_equal(l->elems[0].offset, 6);
    rd_kafka_topic_partition_list_destroy(l);
    offsets_free(o);
}

/* Many offsets with random completion order: the committable offset never passes a
 * pending one, and ends at last + 1. */
static void test_many_random(void **state)
{
    (void)state;
    enum { N = 5000 };
    static int64_t order[N];
    static unsigned char done[N];
    offsets *o = offsets_new();
    assert_int_equal(offsets_assign(o, T, 2), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(offsets_take(o, T, 2, i), 0);
        order[i] = i;
    }
    uint64_t r = 42;
    for (int i = N - 1; i > 0; i--) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((r >> 33) % (uint64_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int64_t low = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(offsets_done(o, T, 2, order[i]), 0);
        done[order[i]] = 1;
        while (low < N && done[low])
            low++;
        int64_t c = offsets_committable(o, T, 2);
        assert_int_equal(c, low == 0 ? -1 : low);
    }
    assert_int_equal(offsets_committable(o, T, 2), N);
    offsets_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_done_nothing_to_commit),
        cmocka_unit_test(test_in_order_done),
        cmocka_unit_test(test_out_of_order_done_waits_for_lowest),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_duplicates_and_unknown),
        cmocka_unit_test(test_revoke_forgets),
        cmocka_unit_test(test_commit_list),
        cmocka_unit_test(test_many_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
