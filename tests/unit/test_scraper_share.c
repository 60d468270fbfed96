/* Unit tests of scraper/share.c and the limiter's moving ceiling: shares never add up past
 * the account's limit, and what AIMD learnt carries over to a new share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "retry.h"
#include "share.h"

static void test_share_of(void **state)
{
    (void)state;
    assert_int_equal(share_of(30, 4, 12), 10);
    assert_int_equal(share_of(30, 6, 12), 15);
    assert_int_equal(share_of(30, 12, 12), 30);
    assert_int_equal(share_of(30, 0, 12), 0);  /* holds nothing */
    assert_int_equal(share_of(30, 3, -1), 30); /* partitions unknown: the whole limit */
    assert_int_equal(share_of(30, 13, 12), 30);
    assert_int_equal(share_of(5, 1, 12), 1); /* at least one call while it holds a partition */
}

static void test_shares_add_up(void **state)
{
    (void)state;
    /* every split of 12 partitions between 1..12 scrapers, as the range assignor deals them */
    for (int members = 1; members <= 12; members++)
        for (long limit = 12; limit <= 100; limit++) {
            long sum = 0;
            for (int m = 0; m < members; m++)
                sum += share_of(limit, 12 / members + (m < 12 % members), 12);
            assert_true(sum <= limit);
            assert_true(sum >= limit - members); /* rounding loses less than one a member */
        }
}

static void test_limiter_follows_share(void **state)
{
    (void)state;
    retry_limiter l;
    retry_limiter_init(&l, 30);
    retry_limiter_set_max(&l, 10); /* first assignment: a third of the partitions */
    assert_int_equal(retry_limiter_limit(&l), 10);
    assert_false(retry_limiter_allow(&l, 10, 0));
    for (int i = 0; i < 1000; i++)
        retry_limiter_ok(&l);
    assert_int_equal(retry_limiter_limit(&l), 10); /* never above the share */
    retry_limiter_throttled(&l, 5000);             /* a 429: 7.5 */
    retry_limiter_set_max(&l, 15);                 /* a member left: keeps its fraction */
    assert_int_equal(retry_limiter_limit(&l), 11);
    retry_limiter_set_max(&l, 0);
    assert_int_equal(retry_limiter_limit(&l), 1); /* never below one */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_of),
        cmocka_unit_test(test_shares_add_up),
        cmocka_unit_test(test_limiter_follows_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
