/* Unit tests of common/account.c and api_url.c: reading /account, redacting the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "account.h"
#include "api_url.h"

static void test_parse(void **state)
{
    (void)state;
    char err[256];
    account_info a;
    assert_int_equal(account_parse("{\"concurrentRequests\":553,\"requestCount\":6655888,"
                                   "\"failedRequestCount\":1118,\"requestLimit\":10000000,"
                                   "\"concurrencyLimit\":1000}",
                                   &a, err, sizeof err),
                     0);
    assert_int_equal(a.concurrent, 553);
    assert_int_equal(a.request_count, 6655888);
    assert_int_equal(a.failed, 1118);
    assert_int_equal(a.request_limit, 10000000);
    assert_int_equal(a.concurrency_limit, 1000);
    assert_int_equal(account_credits_left(&a), 10000000 - 6655888);
}

static void test_left(void **state)
{
    (void)state;
    char err[256];
    account_info a;
    /* ScraperAPI's requestCount can run past the limit: nothing is left, not a negative. */
    assert_int_equal(
        account_parse("{\"requestCount\":105,\"requestLimit\":100}", &a, err, sizeof err), 0);
    assert_int_equal(account_credits_left(&a), 0);
    assert_int_equal(a.concurrency_limit, -1);
    assert_int_equal(
        account_parse("{\"requestCount\":\"5\",\"requestLimit\":100}", &a, err, sizeof err), 0);
    assert_int_equal(account_credits_left(&a), -1); /* unknown, not "credits left" */
}

static void test_not_json(void **state)
{
    (void)state;
    char err[256];
    account_info a;
    assert_int_equal(account_parse("<html>Unauthorized</html>", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a JSON object"));
    assert_int_equal(account_parse("[1,2]", &a, err, sizeof err), -1);
}

static void test_redact_url(void **state)
{
    (void)state;
    char out[256];
    api_url_redact("http://h:1/?api_key=SECRET123&url=https%3A%2F%2Fa.com%2F", out, sizeof out);
    assert_string_equal(out, "http://h:1/?api_key=***&url=https%3A%2F%2Fa.com%2F");
    api_url_redact("http://h/account?x=1&api_key=SECRET", out, sizeof out);
    assert_string_equal(out, "http://h/account?x=1&api_key=***");
    api_url_redact("no key here", out, sizeof out);
    assert_string_equal(out, "no key here");
    api_url_redact("http://h/?api_key=SECRET", out, 12);
    assert_null(strstr(out, "SECRET"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_left),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_redact_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
