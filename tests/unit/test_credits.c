/* Unit tests of common/credits.c: the budget's arithmetic (day rollover, floor, unknown). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "credits.h"

static account_info acct(long used, long limit)
{
    account_info a = {used, limit, 0, 10, 0};
    return a;
}

static void test_daily(void **state)
{
    (void)state;
    credits_budget b = {100, 0};
    account_info a = acct(1040, 5000);
    credits_view v = credits_evaluate(&b, &a, 1000); /* 40 spent today */
    assert_int_equal(v.state, CREDITS_OK);
    assert_int_equal(v.spent_today, 40);
    assert_int_equal(v.room, 60);
    assert_int_equal(v.left, 3960);
    a = acct(1100, 5000);
    v = credits_evaluate(&b, &a, 1000);
    assert_int_equal(v.state, CREDITS_PAUSED_DAILY);
    assert_int_equal(v.room, 0);
    a = acct(1130, 5000); /* overspent (calls in flight): still paused, room not negative */
    v = credits_evaluate(&b, &a, 1000);
    assert_int_equal(v.state, CREDITS_PAUSED_DAILY);
    assert_int_equal(v.spent_today, 130);
    assert_int_equal(v.room, 0);
    char line[160];
    credits_describe(&b, &v, line, sizeof line);
    assert_string_equal(line,
                        "paused: credit budget (daily budget: 130 of 100 credits spent today)");
}

/* A new UTC day starts from the count read then; a billing cycle that restarts counts
 * everything since the restart as today's. */
static void test_rollover(void **state)
{
    (void)state;
    credits_budget b = {100, 0};
    account_info a = acct(1100, 5000);
    assert_int_equal(credits_evaluate(&b, &a, 1000).state, CREDITS_PAUSED_DAILY);
    assert_int_equal(credits_evaluate(&b, &a, 1100).state, CREDITS_OK); /* the next day */
    assert_int_equal(credits_evaluate(&b, &a, 1100).room, 100);
    assert_int_equal(credits_spent_since(30, 1100), 30); /* the cycle restarted today */
    a = acct(30, 5000);
    credits_view v = credits_evaluate(&b, &a, 1100);
    assert_int_equal(v.spent_today, 30);
    assert_int_equal(v.room, 70);
    assert_int_equal(credits_spent_since(-1, 10), -1);
    assert_int_equal(credits_spent_since(10, -1), -1);
}

static void test_floor(void **state)
{
    (void)state;
    credits_budget b = {0, 850};
    account_info a = acct(100, 1000); /* 900 left */
    credits_view v = credits_evaluate(&b, &a, -1);
    assert_int_equal(v.state, CREDITS_OK);
    assert_int_equal(v.room, 50);
    assert_int_equal(v.spent_today, -1); /* no daily budget: no day start needed */
    a = acct(150, 1000);
    v = credits_evaluate(&b, &a, -1);
    assert_int_equal(v.state, CREDITS_PAUSED_FLOOR);
    char line[160];
    credits_describe(&b, &v, line, sizeof line);
    assert_string_equal(line, "paused: credit budget (floor: 850 credits left, floor 850)");
    a = acct(150, 2000); /* credits added */
    v = credits_evaluate(&b, &a, -1);
    assert_int_equal(v.state, CREDITS_OK);
    assert_int_equal(v.room, 1000);
    /* both limits: the tighter one wins, and names the pause */
    b.daily = 100;
    a = acct(1050, 2000); /* 950 left: floor room 100; 50 spent today: daily room 50 */
    v = credits_evaluate(&b, &a, 1000);
    assert_int_equal(v.room, 50);
    a = acct(1100, 1960); /* 860 left, floor room 10; daily room 0 */
    assert_int_equal(credits_evaluate(&b, &a, 1000).state, CREDITS_PAUSED_DAILY);
    a = acct(1060, 1900); /* 840 left: under the floor; daily room 40 */
    assert_int_equal(credits_evaluate(&b, &a, 1000).state, CREDITS_PAUSED_FLOOR);
}

/* No answer, or an answer without the counts: nothing new starts while a budget is set. */
static void test_unknown(void **state)
{
    (void)state;
    credits_budget b = {0, 10};
    credits_view v = credits_evaluate(&b, NULL, 0);
    assert_int_equal(v.state, CREDITS_PAUSED_UNKNOWN);
    assert_int_equal(v.room, 0);
    assert_string_equal(credits_reason(v.state), "account unknown");
    account_info a = acct(-1, 1000);
    assert_int_equal(credits_evaluate(&b, &a, 0).state, CREDITS_PAUSED_UNKNOWN);
    b = (credits_budget){100, 0};
    a = acct(50, 1000);
    assert_int_equal(credits_evaluate(&b, &a, -1).state, CREDITS_PAUSED_UNKNOWN); /* no day start */
    /* no budget: never paused, room unlimited, even without an answer */
    b = (credits_budget){0, 0};
    v = credits_evaluate(&b, NULL, -1);
    assert_int_equal(v.state, CREDITS_OK);
    assert_int_equal(v.room, -1);
    assert_int_equal(v.left, -1);
}

static void test_claims_allowed(void **state)
{
    (void)state;
    assert_int_equal(credits_claims_allowed(100, 1, 0), 100);
    assert_int_equal(credits_claims_allowed(100, 1, 30), 70); /* in flight hold their credit */
    assert_int_equal(credits_claims_allowed(100, 10, 3), 7);
    assert_int_equal(credits_claims_allowed(5, 10, 0), 0); /* not even one whole claim */
    assert_int_equal(credits_claims_allowed(10, 1, 40), 0);
    assert_int_equal(credits_claims_allowed(-1, 1, 40), -1);
    assert_int_equal(credits_claims_allowed(0, 1, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily),          cmocka_unit_test(test_rollover),
        cmocka_unit_test(test_floor),          cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_claims_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
