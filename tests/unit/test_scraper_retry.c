/* Unit tests of scraper/retry.c: answer classification, backoff with jitter, AIMD limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "retry.h"

static void test_classify(void **state)
{
    (void)state;
    char r[128];
    assert_int_equal(retry_classify(CURLE_OK, 200, "", r, sizeof r), RETRY_SUCCESS);
    assert_int_equal(retry_classify(CURLE_OK, 404, "", r, sizeof r), RETRY_FINAL);
    assert_string_equal(r, "not found (404)");
    assert_int_equal(retry_classify(CURLE_OK, 429, "", r, sizeof r), RETRY_THROTTLED);
    assert_int_equal(retry_classify(CURLE_OK, 401, "", r, sizeof r), RETRY_AUTH);
    assert_int_equal(retry_classify(CURLE_OK, 403, "", r, sizeof r), RETRY_AUTH);
    assert_int_equal(retry_classify(CURLE_OK, 500, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_OK, 503, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_OK, 408, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_OK, 400, "", r, sizeof r), RETRY_FINAL);
    assert_int_equal(retry_classify(CURLE_OK, 410, "", r, sizeof r), RETRY_FINAL);
    assert_int_equal(retry_classify(CURLE_OPERATION_TIMEDOUT, 0, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_COULDNT_CONNECT, 0, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_RECV_ERROR, 0, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_GOT_NOTHING, 0, "", r, sizeof r), RETRY_AGAIN);
    assert_int_equal(retry_classify(CURLE_TOO_MANY_REDIRECTS, 302, "", r, sizeof r), RETRY_FINAL);
    assert_int_equal(retry_classify(CURLE_OK, 403, NULL, r, sizeof r), RETRY_AUTH);
}

/* ScraperAPI's 403 bodies: exhausted credits, max_cost, the target's page, anything else. */
static void test_classify_403(void **state)
{
    (void)state;
    char r[128];
    const char *credits = "You have exhausted the API Credits available in this monthly "
                          "cycle. You can upgrade your subscription to get more credits.\n";
    const char *cost = "This request would cost more than your max_cost. You can see the cost "
                       "per request in your response header or in API Playground.";
    assert_int_equal(retry_classify(CURLE_OK, 403, credits, r, sizeof r), RETRY_CREDITS);
    assert_string_equal(r, "ScraperAPI credits exhausted (403)");
    assert_int_equal(retry_classify(CURLE_OK, 403, cost, r, sizeof r), RETRY_COST);
    assert_int_equal(retry_classify(CURLE_OK, 403,
                                    "<html><head><title>403 Forbidden</title></head></html>", r,
                                    sizeof r),
                     RETRY_BLOCKED);
    assert_int_equal(retry_classify(CURLE_OK, 403, "Forbidden", r, sizeof r), RETRY_AUTH);
    /* The credits body on another status is not a pause. */
    assert_int_equal(retry_classify(CURLE_OK, 500, credits, r, sizeof r), RETRY_AGAIN);
}

/* Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
static void test_backoff_bounds(void **state)
{
    (void)state;
    uint64_t st = 7;
    for (unsigned a = 0; a < 12; a++) {
        long ceiling = 500L << a;
        if (ceiling > 30000)
            ceiling = 30000;
        long max_seen = 0;
        for (int i = 0; i < 2000; i++) {
            long d = retry_backoff_ms(a, 500, 30000, retry_random(&st));
            assert_true(d >= 0 && d <= ceiling);
            if (d > max_seen)
                max_seen = d;
        }
        assert_true(max_seen > ceiling * 9 / 10); /* the whole range is used */
    }
    assert_int_equal(retry_backoff_ms(0, 500, 30000, 500), 500);
    assert_int_equal(retry_backoff_ms(0, 500, 30000, 501), 0);
    assert_int_equal(retry_backoff_ms(200, 500, 30000, 30000), 30000); /* no overflow */
    assert_int_equal(retry_backoff_ms(3, 0, 30000, 12345), 0);
}

static void test_limiter_aimd(void **state)
{
    (void)state;
    retry_limiter l;
    retry_limiter_init(&l, 200);
    assert_int_equal(retry_limiter_limit(&l), 200);
    assert_true(retry_limiter_allow(&l, 199, 0));
    assert_false(retry_limiter_allow(&l, 200, 0));
    retry_limiter_throttled(&l, 10000);
    assert_int_equal(retry_limiter_limit(&l), 150);
    /* a short pause after a cut, and a burst of 429s counts once */
    assert_false(retry_limiter_allow(&l, 0 + 1, 10000 + RETRY_PAUSE_MS - 1));
    retry_limiter_throttled(&l, 10500);
    assert_int_equal(retry_limiter_limit(&l), 150);
    assert_true(retry_limiter_allow(&l, 149, 10000 + RETRY_PAUSE_MS));
    assert_false(retry_limiter_allow(&l, 150, 10000 + RETRY_PAUSE_MS));
    retry_limiter_throttled(&l, 11000);
    assert_int_equal(retry_limiter_limit(&l), 112);
    for (int i = 0; i < 100; i++)
        retry_limiter_ok(&l);
    assert_int_equal(retry_limiter_limit(&l), 122);
    for (int i = 0; i < 10000; i++)
        retry_limiter_ok(&l);
    assert_int_equal(retry_limiter_limit(&l), 200); /* never above the plan */
    for (int i = 0; i < 100; i++)
        retry_limiter_throttled(&l, 20000 + i * 1000);
    assert_int_equal(retry_limiter_limit(&l), 1); /* never below one */
    assert_true(retry_limiter_allow(&l, 0, 1000000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_classify_403),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_limiter_aimd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
