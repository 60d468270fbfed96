/* Unit tests of common/credits.c: the budget's arithmetic (day rollover, floor, unknown)
 * and the daily ceiling the claims carry to the scrapers. */
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

/* The claimer's ceiling: the day's start + the budget; a cycle restarted today counts from
 * 0; none without a daily budget or a count. */
static void test_ceiling_for(void **state)
{
    (void)state;
    assert_int_equal(credits_ceiling_for(100, 1040, 1000), 1100);
    assert_int_equal(credits_ceiling_for(100, 1000, 1000), 1100);
    assert_int_equal(credits_ceiling_for(100, 1130, 1000), 1100); /* overspent: same ceiling */
    assert_int_equal(credits_ceiling_for(100, 30, 1100), 100);    /* the cycle restarted today */
    assert_int_equal(credits_ceiling_for(0, 1040, 1000), 0);
    assert_int_equal(credits_ceiling_for(100, -1, 1000), 0);
    assert_int_equal(credits_ceiling_for(100, 1040, -1), 0);
}

/* The end of a UTC day, leap years included; anything but YYYY-MM-DD is refused. */
static void test_day_end(void **state)
{
    (void)state;
    assert_int_equal(credits_day_end_ms("1970-01-01"), 86400000LL);
    assert_int_equal(credits_day_end_ms("2026-12-04"), 1796428800000LL); /* 2026-12-05T00:00Z */
    assert_int_equal(credits_day_end_ms("2026-12-31"), 1798761600000LL); /* 2027-01-01 */
    assert_int_equal(credits_day_end_ms("2024-02-28"), 1709164800000LL); /* 2024-02-29 */
    assert_int_equal(credits_day_end_ms("2024-02-29"), 1709251200000LL); /* 2024-03-01 */
    assert_int_equal(credits_day_end_ms("2000-02-29"), 951868800000LL);  /* 2000-03-01 */
    assert_int_equal(credits_day_end_ms("2100-02-29"), -1);              /* not a leap year */
    assert_int_equal(credits_day_end_ms("2023-02-29"), -1);
    assert_int_equal(credits_day_end_ms("2026-13-01"), -1);
    assert_int_equal(credits_day_end_ms("2026-04-31"), -1);
    assert_int_equal(credits_day_end_ms("2026-12-00"), -1);
    assert_int_equal(credits_day_end_ms("04/12/2026"), -1);
    assert_int_equal(credits_day_end_ms("2026-12-4"), -1);
    assert_int_equal(credits_day_end_ms("2026-12-04 "), -1);
    assert_int_equal(credits_day_end_ms("2026-1a-04"), -1);
    assert_int_equal(credits_day_end_ms(""), -1);
    assert_int_equal(credits_day_end_ms(NULL), -1);
}

#define DAY 86400000LL
#define T0 (20426 * DAY) /* 2025-12-04T00:00Z */

/* The scraper's ceiling: the newest claim's, for its day; a past day's ignored, a claim
 * without one clears it; the day's end lifts it. */
static void test_ceiling_take(void **state)
{
    (void)state;
    credits_ceiling c = {0, 0, 0};
    int64_t now = T0 + 3600000, end = T0 + DAY;
    assert_int_equal(credits_ceiling_now(&c, now), 0);
    assert_int_equal(credits_ceiling_take(&c, 1100, end, now - 5000, now), 1);
    assert_int_equal(credits_ceiling_now(&c, now), 1100);
    assert_int_equal(credits_ceiling_take(&c, 1100, end, now - 4000, now), 0); /* the same */
    assert_int_equal(credits_ceiling_take(&c, 1050, end, now - 9000, now), 0); /* older claim */
    assert_int_equal(credits_ceiling_now(&c, now), 1100);
    assert_int_equal(credits_ceiling_take(&c, 1300, end, now - 1000, now), 1); /* raised */
    assert_int_equal(credits_ceiling_now(&c, now), 1300);
    /* a newer claim of yesterday's (a claimer before its day's first read): ignored */
    assert_int_equal(credits_ceiling_take(&c, 900, T0, now, now), 0);
    assert_int_equal(credits_ceiling_now(&c, now), 1300);
    /* the day ends: no ceiling, until a claim of the new day brings one */
    assert_int_equal(credits_ceiling_now(&c, end - 1), 1300);
    assert_int_equal(credits_ceiling_now(&c, end), 0);
    assert_int_equal(credits_ceiling_take(&c, 1450, end + DAY, end + 10, end + 20), 1);
    assert_int_equal(credits_ceiling_now(&c, end + 20), 1450);
    /* a newer claim without one clears it; an older one with one does not bring it back */
    assert_int_equal(credits_ceiling_take(&c, 0, 0, end + 30, end + 40), 1);
    assert_int_equal(credits_ceiling_now(&c, end + 40), 0);
    assert_int_equal(credits_ceiling_take(&c, 1450, end + DAY, end + 10, end + 50), 0);
    assert_int_equal(credits_ceiling_now(&c, end + 50), 0);
    assert_int_equal(credits_ceiling_take(&c, 0, 0, end + 60, end + 60), 0); /* still none */
}

/* requestCount + the calls running at list price + this call's price <= the ceiling. */
static void test_ceiling_allows(void **state)
{
    (void)state;
    assert_true(credits_ceiling_allows(1100, 1080, 19, 1));
    assert_false(credits_ceiling_allows(1100, 1080, 20, 1)); /* 1101: one past */
    assert_false(credits_ceiling_allows(1100, 1095, 0, 10)); /* a render call does not fit */
    assert_true(credits_ceiling_allows(1100, 1095, 0, 5));
    assert_false(credits_ceiling_allows(1100, 1100, 0, 1)); /* spent */
    assert_false(credits_ceiling_allows(1100, 1130, 0, 1)); /* overspent by others */
    assert_false(credits_ceiling_allows(1100, -1, 0, 1));   /* the account unknown */
    assert_true(credits_ceiling_allows(0, -1, 500, 75));    /* no ceiling */
    assert_true(credits_ceiling_allows(0, 99999, 0, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daily),          cmocka_unit_test(test_rollover),
        cmocka_unit_test(test_floor),          cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_claims_allowed), cmocka_unit_test(test_ceiling_for),
        cmocka_unit_test(test_day_end),        cmocka_unit_test(test_ceiling_take),
        cmocka_unit_test(test_ceiling_allows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
