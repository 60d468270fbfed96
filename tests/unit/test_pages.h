/* Test pages of tests/data/pages read whole, for the extractor's unit tests (cmocka). */
#ifndef WF4_TEST_PAGES_H
#define WF4_TEST_PAGES_H

#include <stdio.h>
#include <stdlib.h>

/* Reads WF4_PAGES_DIR/file; fails the test when it cannot. The caller frees the result. */
static char *read_page(const char *file, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", WF4_PAGES_DIR, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

#endif
