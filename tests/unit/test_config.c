/* Unit tests for common/config.c: secrets from <VAR>_FILE (Docker secrets), never printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char *t_url, *t_name;
static const cfg_entry t_table[] = {
    {.env = "T_DATABASE_URL", .type = CFG_SECRET, .required = 1, .dst = &t_url, .help = "a secret"},
    {.env = "T_NAME", .type = CFG_STR, .def = "n", .dst = &t_name, .help = "not a secret"},
};
#define T_N (sizeof t_table / sizeof t_table[0])

/* Writes text to a new temporary file; returns its path (static buffer). */
static const char *t_file(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/wf4-test-config.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int t_load(int argc, char **argv)
{
    return config_load(t_table, T_N, argc, argv, "t", "test");
}

static void t_clear(void)
{
    unsetenv("T_DATABASE_URL");
    unsetenv("T_DATABASE_URL_FILE");
    unsetenv("WF4_KAFKA_PASSWORD");
    unsetenv("WF4_KAFKA_PASSWORD_FILE");
    unsetenv("WF4_KAFKA_PROPS");
}

static void test_secret_from_file(void **state)
{
    (void)state;
    char *argv[] = {"t"};
    t_clear();
    const char *p = t_file("postgresql://u:s3cret@h/db\n");
    setenv("T_DATABASE_URL_FILE", p, 1);
    assert_int_equal(t_load(1, argv), 0);
    assert_string_equal(t_url, "postgresql://u:s3cret@h/db"); /* trailing newline dropped */
    config_free(t_table, T_N);
    unlink(p);
}

static void test_secret_file_errors(void **state)
{
    (void)state;
    char *argv[] = {"t"};
    t_clear();
    setenv("T_DATABASE_URL_FILE", "/nonexistent/wf4-secret", 1);
    assert_int_equal(t_load(1, argv), -1); /* unreadable file */
    const char *p = t_file("x");
    setenv("T_DATABASE_URL_FILE", p, 1);
    setenv("T_DATABASE_URL", "y", 1);
    assert_int_equal(t_load(1, argv), -1); /* both set: ambiguous */
    unsetenv("T_DATABASE_URL");
    assert_int_equal(t_load(1, argv), 0);
    assert_string_equal(t_url, "x");
    config_free(t_table, T_N);
    unlink(p);
}

/* --print-config output into a string (stdout redirected to a temporary file). */
static char *t_print_config(void)
{
    static char out[4096];
    char *argv[] = {"t", "--print-config"};
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stdout);
    int saved = dup(1);
    dup2(fileno(f), 1);
    int rc = t_load(2, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(rc, 1);
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static void test_kafka_password_file(void **state)
{
    (void)state;
    const char *const *names, *const *values;
    char *argv[] = {"t"};
    t_clear();
    setenv("T_DATABASE_URL", "postgresql://u:dbpw-visible@h/db", 1);
    const char *p = t_file("kafka-pw-42\n");
    setenv("WF4_KAFKA_PASSWORD_FILE", p, 1);
    assert_int_equal(t_load(1, argv), 0);
    size_t n = config_kafka_props(&names, &values);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "sasl.password");
    assert_string_equal(values[0], "kafka-pw-42");
    config_free(t_table, T_N);
    const char *out = t_print_config();
    assert_non_null(strstr(out, "kafka: sasl.password=***"));
    assert_non_null(strstr(out, "T_DATABASE_URL=***"));
    assert_null(strstr(out, "kafka-pw-42"));
    assert_null(strstr(out, "dbpw-visible"));
    unlink(p);
}

/* A password passed through WF4_KAFKA_PROPS is masked too, and wins over WF4_KAFKA_PASSWORD. */
static void test_kafka_props_password_masked(void **state)
{
    (void)state;
    const char *const *names, *const *values;
    char *argv[] = {"t"};
    t_clear();
    setenv("T_DATABASE_URL", "u", 1);
    setenv("WF4_KAFKA_PROPS", "sasl.username=a,sasl.password=props-pw", 1);
    setenv("WF4_KAFKA_PASSWORD", "ignored-pw", 1);
    assert_int_equal(t_load(1, argv), 0);
    size_t n = config_kafka_props(&names, &values);
    assert_int_equal(n, 2);
    assert_string_equal(values[1], "props-pw");
    config_free(t_table, T_N);
    const char *out = t_print_config();
    assert_non_null(strstr(out, "kafka: sasl.username=a"));
    assert_non_null(strstr(out, "kafka: sasl.password=***"));
    assert_null(strstr(out, "props-pw"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_from_file),
        cmocka_unit_test(test_secret_file_errors),
        cmocka_unit_test(test_kafka_password_file),
        cmocka_unit_test(test_kafka_props_password_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
