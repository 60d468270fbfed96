/* Unit tests of scraper/tier.c: the ladder's names and prices, and bot-wall recognition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tier.h"

static void test_ladder(void **state)
{
    (void)state;
    const char *names[] = {"plain", "render", "premium", "ultra_premium"};
    const long prices[] = {1, 10, 10, 30};
    for (int t = 0; t < TIER_COUNT; t++) {
        assert_string_equal(tier_name(t), names[t]);
        assert_int_equal(tier_from_name(names[t]), t);
        assert_int_equal(tier_price(t), prices[t]);
    }
    assert_int_equal(tier_from_name("ultra"), -1);
    assert_int_equal(tier_from_name(NULL), -1);
    assert_string_equal(tier_name(TIER_COUNT), "?");
    assert_string_equal(tier_params(TIER_PLAIN), "");
    assert_string_equal(tier_params(TIER_PREMIUM), "&premium=true");
}

static const char *blocked(long status, const char *body)
{
    return tier_blocked(status, body, strlen(body));
}

static void test_walls(void **state)
{
    (void)state;
    assert_string_equal(blocked(200, ""), "empty body");
    assert_string_equal(blocked(200, " \r\n\t "), "empty body");
    assert_string_equal(blocked(200, "<html><head><title>Just a moment...</title></head>"),
                        "Cloudflare challenge");
    assert_string_equal(blocked(200, "<script src=\"/cdn-cgi/challenge-platform/h/b\">"),
                        "Cloudflare challenge");
    assert_string_equal(blocked(200, "<div class=\"g-recaptcha\" data-sitekey=x></div>"),
                        "captcha page");
    assert_string_equal(blocked(403, "<HTML><title>403 Forbidden</title></HTML>"),
                        "403 from the target");
    assert_null(blocked(403, "Forbidden"));
    assert_null(blocked(200, "<html><title>Acme</title><p>Welcome</p></html>"));
    assert_null(blocked(404, ""));
    assert_null(blocked(500, "<title>Just a moment...</title>"));
}

/* A real home page with a captcha-protected contact form is not a wall. */
static void test_big_page_with_captcha(void **state)
{
    (void)state;
    static char page[TIER_WALL_MAX_BYTES + 200];
    memset(page, 'x', sizeof page - 1);
    memcpy(page, "<div class=\"g-recaptcha\"></div>", 31);
    assert_null(blocked(200, page));
    page[TIER_WALL_MAX_BYTES - 1] = '\0';
    assert_string_equal(blocked(200, page), "captcha page");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ladder),
        cmocka_unit_test(test_walls),
        cmocka_unit_test(test_big_page_with_captcha),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
