/* Unit tests of common/trace.c: traceparent from a claim id, child spans, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trace.h"

static const char claim[] = "9E352BD3-e259-4e07-9d99-b459fb5e3d79";

static void test_trace_id_of_claim(void **state)
{
    (void)state;
    char id[33];
    trace_id_of_claim(claim, id);
    assert_string_equal(id, "9e352bd3e2594e079d99b459fb5e3d79");
    const char *bad[] = {"",
                         "9e352bd3e2594e079d99b459fb5e3d79",
                         "9e352bd3-e259-4e07-9d99-b459fb5e3d7",
                         "9e352bd3-e259-4e07-9d99-b459fb5e3d7g",
                         "9e352bd3xe259-4e07-9d99-b459fb5e3d79",
                         "00000000-0000-0000-0000-000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        trace_id_of_claim(bad[i], id);
        assert_string_equal(id, "");
    }
    trace_id_of_claim(NULL, id);
    assert_string_equal(id, "");
}

static int trace_well_formed(const char *tp)
{
    if (strlen(tp) != 55 || strncmp(tp, "00-", 3) != 0 || tp[35] != '-' || tp[52] != '-')
        return 0;
    for (int i = 3; i < 55; i++)
        if (i != 35 && i != 52 && !strchr("0123456789abcdef", tp[i]))
            return 0;
    return strncmp(tp + 36, "0000000000000000", 16) != 0;
}

static void test_trace_from_claim_and_child(void **state)
{
    (void)state;
    char a[MSG_TRACEPARENT_LEN], b[MSG_TRACEPARENT_LEN], c[MSG_TRACEPARENT_LEN];
    trace_from_claim(claim, a);
    assert_true(trace_well_formed(a));
    assert_memory_equal(a + 3, "9e352bd3e2594e079d99b459fb5e3d79", 32);
    assert_string_equal(a + 52, "-01");
    trace_child(a, b);
    assert_true(trace_well_formed(b));
    assert_memory_equal(a, b, 36);               /* same version and trace id */
    assert_memory_not_equal(a + 36, b + 36, 16); /* a new span id */
    trace_from_claim(claim, c);
    assert_memory_not_equal(a + 36, c + 36, 16); /* every claim message its own span */
    trace_from_claim("not a uuid", c);
    assert_string_equal(c, "");
}

static void test_trace_child_rejects(void **state)
{
    (void)state;
    char out[MSG_TRACEPARENT_LEN];
    const char *bad[] = {NULL,
                         "",
                         "01-9e352bd3e2594e079d99b459fb5e3d79-0123456789abcdef-01",
                         "00-9E352BD3E2594E079D99B459FB5E3D79-0123456789abcdef-01",
                         "00-9e352bd3e2594e079d99b459fb5e3d79-0123456789abcdef-01-extra",
                         "00-9e352bd3e2594e079d99b459fb5e3d79_0123456789abcdef-01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        strcpy(out, "x");
        trace_child(bad[i], out);
        assert_string_equal(out, "");
    }
}

static void test_trace_claim_of_parent(void **state)
{
    (void)state;
    char tp[MSG_TRACEPARENT_LEN], back[37];
    trace_from_claim(claim, tp);
    trace_claim_of_parent(tp, back);
    assert_string_equal(back, "9e352bd3-e259-4e07-9d99-b459fb5e3d79");
    trace_claim_of_parent("00-9E352BD3E2594E079D99B459FB5E3D79-0123456789abcdef-01", back);
    assert_string_equal(back, "");
    trace_claim_of_parent(NULL, back);
    assert_string_equal(back, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_claim_of_parent),
        cmocka_unit_test(test_trace_id_of_claim),
        cmocka_unit_test(test_trace_from_claim_and_child),
        cmocka_unit_test(test_trace_child_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
