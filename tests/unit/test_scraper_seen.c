/* Unit tests of scraper/seen.c: remembered ids, the two generations' ageing, bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "seen.h"

static void uuid_of(unsigned i, char out[37])
{
    snprintf(out, 37, "%08x-0000-4000-8000-%012x", i * 2654435761u, i);
}

static void test_remembers(void **state)
{
    (void)state;
    char id[37];
    seen *s = seen_new(100);
    assert_non_null(s);
    for (unsigned i = 1; i <= 100; i++) {
        uuid_of(i, id);
        seen_add(s, id);
    }
    for (unsigned i = 1; i <= 100; i++) {
        uuid_of(i, id);
        assert_true(seen_has(s, id));
    }
    uuid_of(101, id);
    assert_false(seen_has(s, id));
    uuid_of(7, id);
    id[0] = id[0] == 'f' ? 'e' : 'f'; /* one digit off */
    assert_false(seen_has(s, id));
    seen_free(s);
}

static void test_ageing(void **state)
{
    (void)state;
    char id[37];
    seen *s = seen_new(100);
    for (unsigned i = 1; i <= 250; i++) {
        uuid_of(i, id);
        seen_add(s, id);
        seen_add(s, id); /* twice: counted once */
    }
    /* generations of 100: 201-250 in the newer, 101-200 in the older, 1-100 dropped */
    for (unsigned i = 1; i <= 250; i++) {
        uuid_of(i, id);
        assert_int_equal(seen_has(s, id), i > 100);
    }
    seen_free(s);
}

static void test_case_and_junk(void **state)
{
    (void)state;
    seen *s = seen_new(10);
    seen_add(s, "6F9619FF-8B86-D011-B42D-00CF4FC964FF");
    assert_true(seen_has(s, "6f9619ff-8b86-d011-b42d-00cf4fc964ff"));
    seen_add(s, "not a uuid at all, but 36 chars....");
    seen_add(s, NULL);
    seen_add(s, "");
    assert_false(seen_has(s, "not a uuid at all, but 36 chars...."));
    assert_false(seen_has(s, NULL));
    seen_free(s);
    s = seen_new(0); /* off */
    seen_add(s, "6f9619ff-8b86-d011-b42d-00cf4fc964ff");
    assert_false(seen_has(s, "6f9619ff-8b86-d011-b42d-00cf4fc964ff"));
    seen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remembers),
        cmocka_unit_test(test_ageing),
        cmocka_unit_test(test_case_and_junk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
