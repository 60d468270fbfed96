/* Unit tests for db_batch_fit (common/db.c): batch sizing for short transactions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db.h"

/* 500 rows in 100 ms at a 50 ms target: 250 fit. */
static void test_shrinks_to_what_fits(void **state)
{
    (void)state;
    assert_int_equal(db_batch_fit(500, 1000, 50, 500, 100), 250);
    assert_int_equal(db_batch_fit(1000, 1000, 25, 1000, 400), 62);
}

/* A fast batch grows the next by half at most, never past the maximum. */
static void test_grows_by_half_up_to_max(void **state)
{
    (void)state;
    assert_int_equal(db_batch_fit(50, 1000, 50, 50, 1), 75);
    assert_int_equal(db_batch_fit(75, 1000, 50, 75, 2), 113);
    assert_int_equal(db_batch_fit(800, 1000, 50, 800, 5), 1000);
    /* What fits is less than 1.5 times: exactly what fits. */
    assert_int_equal(db_batch_fit(100, 1000, 50, 100, 40), 125);
}

/* Never below 10 (or the maximum when smaller); a batch under 10 rows says nothing. */
static void test_floor_and_small_batches(void **state)
{
    (void)state;
    assert_int_equal(db_batch_fit(100, 1000, 50, 100, 100000), 10);
    assert_int_equal(db_batch_fit(5, 5, 50, 5, 100000), 5);
    assert_int_equal(db_batch_fit(300, 1000, 50, 9, 100000), 300);
    /* A 0 ms transaction counts as 1 ms. */
    assert_int_equal(db_batch_fit(200, 1000, 50, 20, 0), 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shrinks_to_what_fits),
        cmocka_unit_test(test_grows_by_half_up_to_max),
        cmocka_unit_test(test_floor_and_small_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
