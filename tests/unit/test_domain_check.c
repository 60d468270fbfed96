/* Unit tests of scraper/domain_check.c: accepted names, IDN, every rejection class. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain_check.h"

typedef struct dc_case {
    const char *input;
    const char *want;        /* ASCII form, or NULL when rejected */
    const char *reason_part; /* substring of the reason when rejected */
} dc_case;

static const dc_case dc_cases[] = {
    /* accepted */
    {"example.de", "example.de", NULL},
    {"  Shop.Example-Store.CO.UK \n", "shop.example-store.co.uk", NULL},
    {"www.google.com.", "www.google.com", NULL},
    {"https://Acme.io/about?x=1#top", "acme.io", NULL},
    {"http://acme.io:8080", "acme.io", NULL},
    {"acme.io/contact", "acme.io", NULL},
    {"//cdn.acme.io/x", "cdn.acme.io", NULL},
    {"a1-b2.c3.org", "a1-b2.c3.org", NULL},
    {"xn--bcher-kva.de", "xn--bcher-kva.de", NULL},
    {"bücher.de", "xn--bcher-kva.de", NULL},
    {"BÜCHER.de", "xn--bcher-kva.de", NULL},
    {"faß.de", "xn--fa-hia.de", NULL},
    {"münchen.bayern", "xn--mnchen-3ya.bayern", NULL},
    {"例え.jp", "xn--r8jz45g.jp", NULL},
    {"123.com", "123.com", NULL},
    {"a.io", "a.io", NULL},
    /* empty and syntax */
    {"", NULL, "empty"},
    {"   ", NULL, "empty"},
    {".", NULL, "empty"},
    {"com", NULL, "one label"},
    {"example..com", NULL, "empty label"},
    {".example.com", NULL, "empty label"},
    {"-bad.com", NULL, "hyphen"},
    {"bad-.com", NULL, "hyphen"},
    {"under_score.com", NULL, "character"},
    {"sp ace.com", NULL, "character"},
    {"a.b.c.d.e-f.123x-.com", NULL, "hyphen"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL, "63"},
    /* numeric TLD and IP literals */
    {"example.123", NULL, "numeric"},
    {"127.0.0.1", NULL, "IPv4"},
    {"http://10.0.0.1:8080/admin", NULL, "IPv4"},
    {"127.1", NULL, "IPv4"},
    {"2130706433", NULL, "IPv4"},
    {"0x7f.0.0.1", NULL, "IPv4"},
    {"0x7f000001", NULL, "IPv4"},
    {"0177.0.0.1", NULL, "IPv4"},
    {"[::1]", NULL, "IPv6"},
    {"http://[2001:db8::1]:80/", NULL, "IPv6"},
    {"2001:db8::1", NULL, "IPv6"},
    /* localhost and internal names */
    {"localhost", NULL, "localhost"},
    {"LOCALHOST.", NULL, "localhost"},
    {"app.localhost", NULL, ".localhost"},
    {"printer.local", NULL, ".local"},
    {"db.internal", NULL, ".internal"},
    {"wiki.intranet", NULL, ".intranet"},
    {"nas.lan", NULL, ".lan"},
    {"router.home.arpa", NULL, ".home.arpa"},
    {"1.0.0.127.in-addr.arpa", NULL, ".arpa"},
    {"mail.corp", NULL, ".corp"},
    {"foo.test", NULL, ".test"},
    {"foo.invalid", NULL, ".invalid"},
    {"foo.example", NULL, ".example"},
    {"hidden.onion", NULL, ".onion"},
    {"example.com", NULL, "documentation"},
    {"www.example.org", NULL, NULL}, /* a subdomain of a reserved name is allowed */
    /* URL forms we refuse */
    {"ftp://files.acme.io/", NULL, "scheme"},
    {"https://user:pw@acme.io/", NULL, "password"},
    {"acme.io:80x", NULL, "port"},
    /* IDN errors */
    {"\xff\xfe.com", NULL, "internationalized"},
};

static void test_domain_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dc_cases / sizeof dc_cases[0]; i++) {
        const dc_case *t = &dc_cases[i];
        char out[256], reason[160];
        int rc = domain_check(t->input, out, sizeof out, reason, sizeof reason);
        if (t->want || (!t->reason_part && rc == 0)) {
            if (rc != 0)
                fail_msg("case %zu '%s': rejected: %s", i, t->input, reason);
            assert_string_equal(out, t->want ? t->want : "www.example.org");
            assert_string_equal(reason, "");
        } else {
            if (rc != -1)
                fail_msg("case %zu '%s': accepted as %s", i, t->input, out);
            assert_string_equal(out, "");
            if (!strstr(reason, t->reason_part))
                fail_msg("case %zu '%s': reason '%s' lacks '%s'", i, t->input, reason,
                         t->reason_part);
        }
    }
}

static void test_domain_lengths(void **state)
{
    (void)state;
    char name[300], out[300], reason[160];
    /* 4 labels of 63 + 3 dots = 255 > 253 */
    memset(name, 'a', sizeof name);
    for (int i = 0; i < 3; i++)
        name[63 * (i + 1) + i] = '.';
    name[255] = '\0';
    assert_int_equal(domain_check(name, out, sizeof out, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "253"));
    /* 253 exactly passes: 63.63.63.61 */
    name[253] = '\0';
    name[252] = 'm';
    assert_int_equal(domain_check(name, out, sizeof out, reason, sizeof reason), 0);
    assert_int_equal(strlen(out), 253);
    /* a too-small output buffer is an error, not a cut name */
    assert_int_equal(domain_check("acme.io", out, 5, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "buffer"));
    /* NULL input and NULL reason are handled */
    assert_int_equal(domain_check(NULL, out, sizeof out, NULL, 0), -1);
    char huge[DOMAIN_CHECK_MAX_INPUT + 10];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(domain_check(huge, out, sizeof out, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_table),
        cmocka_unit_test(test_domain_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
