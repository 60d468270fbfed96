/* db module against the real PostgreSQL: commit, rollback, refusal, budgets, reconnect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "netproxy.h"

static db *test_db;

static int test_setup(void **state)
{
    char err[512];
    (void)state;
    const char *url = getenv("WF4_DATABASE_URL");
    assert_non_null(url);
    db_settings s = {.url = url,
                     .app_name = "wf4-test-db/1",
                     .statement_timeout_ms = 3000,
                     .lock_timeout_ms = 1000,
                     .idle_in_tx_timeout_ms = 2000,
                     .connect_timeout_s = 5};
    test_db = db_connect(&s, err, sizeof err);
    if (!test_db)
        fprintf(stderr, "connect: %s\n", err);
    assert_non_null(test_db);
    PGresult *r = db_query(test_db,
                           "INSERT INTO domains (domain) VALUES ('txtest.com') ON CONFLICT "
                           "(domain) DO UPDATE SET title = NULL",
                           0, NULL);
    assert_non_null(r);
    PQclear(r);
    return 0;
}

static int test_teardown(void **state)
{
    (void)state;
    db_close(test_db);
    return 0;
}

static char *test_title(void)
{
    PGresult *r = db_query(test_db,
                           "SELECT coalesce(title, '') FROM domains WHERE domain = "
                           "'txtest.com'",
                           0, NULL);
    assert_non_null(r);
    char *t = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return t;
}

static int set_title(db_tx *tx, void *arg)
{
    const char *p[] = {arg};
    PGresult *r = db_exec(tx, "UPDATE domains SET title = $1 WHERE domain = 'txtest.com'", 1, p);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int set_title_then_fail(db_tx *tx, void *arg)
{
    return set_title(tx, arg) == 0 ? -1 : -1;
}

static void test_commit_and_rollback(void **state)
{
    (void)state;
    assert_int_equal(db_transaction(test_db, "t", 1000, set_title, "one"), 0);
    char *t = test_title();
    assert_string_equal(t, "one");
    free(t);
    assert_int_equal(db_transaction(test_db, "t", 1000, set_title_then_fail, "two"), -1);
    t = test_title();
    assert_string_equal(t, "one");
    free(t);
}

static int try_commit(db_tx *tx, void *arg)
{
    int *refused = arg;
    if (set_title(tx, "three") != 0)
        return -1;
    PGresult *r = db_exec(tx, "  commit", 0, NULL);
    *refused = r == NULL;
    PQclear(r);
    return 0;
}

/* A callback cannot commit: the statement is refused and the whole unit rolls back. */
static void test_callback_cannot_commit(void **state)
{
    int refused = 0;
    (void)state;
    assert_int_equal(db_transaction(test_db, "t", 1000, try_commit, &refused), -1);
    assert_true(refused);
    char *t = test_title();
    assert_string_equal(t, "one");
    free(t);
    assert_null(db_query(test_db, "ROLLBACK", 0, NULL));
}

static int read_settings(db_tx *tx, void *arg)
{
    char *out = arg;
    PGresult *r = db_exec(tx,
                          "SELECT current_setting('statement_timeout'), "
                          "current_setting('lock_timeout'), "
                          "current_setting('idle_in_transaction_session_timeout'), "
                          "current_setting('application_name')",
                          0, NULL);
    if (!r)
        return -1;
    snprintf(out, 256, "%s|%s|%s|%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
             PQgetvalue(r, 0, 3));
    PQclear(r);
    return 0;
}

static void test_session_settings(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(db_transaction(test_db, "t", 1000, read_settings, out), 0);
    assert_string_equal(out, "3s|1s|2s|wf4-test-db/1");
}

/* BEGIN travels with the first statement (one pipeline): that statement must run inside the
 * transaction, not in an implicit one of its own. */
static int txids(db_tx *tx, void *arg)
{
    char *out = arg;
    PGresult *a = db_exec(tx, "SELECT txid_current()::text", 0, NULL);
    if (!a)
        return -1;
    PGresult *b = db_exec(tx, "SELECT txid_current()::text", 0, NULL);
    if (!b) {
        PQclear(a);
        return -1;
    }
    snprintf(out, 64, "%s",
             strcmp(PQgetvalue(a, 0, 0), PQgetvalue(b, 0, 0)) == 0 ? "same" : "different");
    PQclear(a);
    PQclear(b);
    return 0;
}

static int fail_first(db_tx *tx, void *arg)
{
    (void)arg;
    PGresult *r = db_exec(tx, "SELECT 1/0", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int no_statement(db_tx *tx, void *arg)
{
    (void)tx;
    (void)arg;
    return 0;
}

static void test_first_statement_pipelined(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(db_transaction(test_db, "t", 1000, txids, out), 0);
    assert_string_equal(out, "same");
    /* A failing first statement: rolled back with its SQLSTATE, the connection left neither
     * in pipeline mode nor in a transaction. */
    assert_int_equal(db_transaction(test_db, "t", 1000, fail_first, NULL), -1);
    assert_string_equal(db_last_sqlstate(test_db), "22012");
    assert_int_equal(db_transaction(test_db, "t", 1000, read_settings, out), 0);
    assert_string_equal(out, "3s|1s|2s|wf4-test-db/1");
    assert_int_equal(db_transaction(test_db, "t", 1000, set_title_then_fail, "gone"), -1);
    char *t = test_title();
    assert_string_not_equal(t, "gone");
    free(t);
    /* Nothing issued: nothing to commit. */
    assert_int_equal(db_transaction(test_db, "t", 1000, no_statement, NULL), 0);
}

static int slow(db_tx *tx, void *arg)
{
    (void)arg;
    PGresult *r = db_exec(tx, "SELECT pg_sleep(0.05)", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static void test_budget_counted(void **state)
{
    (void)state;
    metric *m = metrics_counter("wf4_db_transaction_over_budget_total", "");
    double before = metrics_value(m);
    assert_int_equal(db_transaction(test_db, "slow", 10, slow, NULL), 0);
    assert_true(metrics_value(m) == before + 1);
}

typedef struct kill_arg {
    int calls;
} kill_arg;

/* The first attempt loses its connection mid-transaction (terminated by the server);
 * the module reconnects and retries the whole unit. */
static int killed_once(db_tx *tx, void *arg)
{
    kill_arg *k = arg;
    k->calls++;
    if (k->calls == 1) {
        PGresult *r = db_exec(tx, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL);
        PQclear(r);
        return -1;
    }
    return set_title(tx, "after-reconnect");
}

static void test_reconnect_retries_whole(void **state)
{
    kill_arg k = {0};
    (void)state;
    assert_int_equal(db_transaction(test_db, "killed", 1000, killed_once, &k), 0);
    assert_int_equal(k.calls, 2);
    char *t = test_title();
    assert_string_equal(t, "after-reconnect");
    free(t);
}

typedef struct array_check {
    db_array *cols;
    char out[1024];
} array_check;

/* Reads the arrays back, one row per element, as the server's text forms. */
static int read_arrays(db_tx *tx, void *arg)
{
    array_check *c = arg;
    const char *v[5];
    int len[5], fmt[5];
    for (int i = 0; i < 4; i++) {
        v[i] = c->cols[i].buf;
        len[i] = (int)c->cols[i].len;
        fmt[i] = 1;
    }
    v[4] = "{\"x\",\"y \\\"z\\\"\"}"; /* a text parameter next to binary ones */
    len[4] = 0;
    fmt[4] = 0;
    PGresult *r = db_exec_params(
        tx,
        "SELECT string_agg(coalesce(i::text, 'NULL') || '|' || coalesce(u::text, 'NULL') || '|' ||"
        " coalesce(t, 'NULL') || '|' || coalesce(b::text, 'NULL'), ';' ORDER BY n)"
        " || ';' || array_length($5::text[], 1) || (($5::text[])[2])"
        " FROM unnest($1::int4[], $2::uuid[], $3::text[], $4::bool[]) WITH ORDINALITY"
        " AS x(i, u, t, b, n)",
        5, v, len, fmt);
    if (!r)
        return -1;
    snprintf(c->out, sizeof c->out, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* db_array: binary array parameters read back by the server exactly, NULLs included. */
static void test_array_params(void **state)
{
    (void)state;
    db_array cols[4];
    db_array_init(&cols[0], DB_OID_INT4);
    db_array_init(&cols[1], DB_OID_UUID);
    db_array_init(&cols[2], DB_OID_TEXT);
    db_array_init(&cols[3], DB_OID_BOOL);
    db_array_add_int4(&cols[0], 7);
    db_array_add_uuid(&cols[1], "0A1B2C3D-4E5F-6789-abcd-ef0123456789");
    db_array_add_text(&cols[2], "caf\xc3\xa9 \"{q}\" \\ ,");
    db_array_add_bool(&cols[3], 1);
    db_array_add_int4(&cols[0], -2147483647 - 1);
    db_array_add(&cols[1], NULL, 0);
    db_array_add_text(&cols[2], NULL);
    db_array_add_bool(&cols[3], 0);
    db_array_add(&cols[0], NULL, 0);
    db_array_add_uuid(&cols[1], "ffffffff-ffff-ffff-ffff-ffffffffffff");
    db_array_add_text(&cols[2], "");
    db_array_add(&cols[3], NULL, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(db_array_finish(&cols[i]), 0);
    array_check c = {cols, ""};
    assert_int_equal(db_transaction(test_db, "t", 1000, read_arrays, &c), 0);
    assert_string_equal(c.out,
                        "7|0a1b2c3d-4e5f-6789-abcd-ef0123456789|caf\xc3\xa9 \"{q}\" \\ ,|true;"
                        "-2147483648|NULL|NULL|false;"
                        "NULL|ffffffff-ffff-ffff-ffff-ffffffffffff||NULL;"
                        "2y \"z\"");
    for (int i = 0; i < 4; i++)
        db_array_free(&cols[i]);
}

/* A value that is not a uuid fails the array instead of sending something else. */
static void test_array_rejects_bad_uuid(void **state)
{
    (void)state;
    const char *bad[] = {"0a1b2c3d-4e5f-6789-abcd-ef012345678",   /* short */
                         "0a1b2c3d-4e5f-6789-abcd-ef01234567890", /* long */
                         "0a1b2c3d_4e5f-6789-abcd-ef0123456789",  /* separator */
                         "0a1b2c3d-4e5f-6789-abcd-ef012345678g",  /* not hex */
                         "",
                         NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        db_array a;
        db_array_init(&a, DB_OID_UUID);
        db_array_add_uuid(&a, "0a1b2c3d-4e5f-6789-abcd-ef0123456789");
        assert_int_equal(a.failed, 0);
        db_array_add_uuid(&a, bad[i]);
        assert_int_equal(db_array_finish(&a), -1);
        db_array_free(&a);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double counter(const char *series)
{
    return metrics_value(metrics_counter(series, "x"));
}

/* A listening socket nobody accepts from: the kernel completes the handshake, then silence. */
static void test_connect_deadline_silent_server(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char url[128], err[512];
    snprintf(url, sizeof url, "postgresql://wf4@127.0.0.1:%d/wf4", ntohs(a.sin_port));
    db_settings s = {.url = url, .app_name = "wf4-test-silent", .connect_timeout_s = 1};
    double t0 = now_s();
    db *d = db_connect(&s, err, sizeof err);
    double took = now_s() - t0;
    close(fd);
    print_message("connect to a silent server: NULL after %.2f s: %s\n", took, err);
    assert_null(d);
    assert_true(took >= 0.9 && took < 3.0);
    assert_non_null(strstr(err, "connect timeout"));
}

typedef struct proxied {
    np *p;
    pthread_t t;
    volatile int stop;
    db *d;
} proxied;

static void *proxy_main(void *arg)
{
    proxied *x = arg;
    np_serve(x->p, &x->stop);
    return NULL;
}

/* A connection to the test database through a netproxy (statement timeout 1 s + 500 ms). */
static void proxied_open(proxied *x)
{
    char err[512], url[1024], *host = NULL, *port = NULL;
    PQconninfoOption *o = PQconninfoParse(getenv("WF4_DATABASE_URL"), NULL);
    assert_non_null(o);
    for (PQconninfoOption *i = o; i->keyword; i++) {
        if (strcmp(i->keyword, "host") == 0)
            host = i->val;
        else if (strcmp(i->keyword, "port") == 0)
            port = i->val;
    }
    x->p = np_new(0, host && host[0] != '/' ? host : "127.0.0.1", port ? atoi(port) : 5432, -1, err,
                  sizeof err);
    PQconninfoFree(o);
    assert_non_null(x->p);
    x->stop = 0;
    assert_int_equal(pthread_create(&x->t, NULL, proxy_main, x), 0);
    snprintf(url, sizeof url, "%s%shost=127.0.0.1&port=%d", getenv("WF4_DATABASE_URL"),
             strchr(getenv("WF4_DATABASE_URL"), '?') ? "&" : "?", np_port(x->p));
    db_settings s = {.url = url,
                     .app_name = "wf4-test-proxied",
                     .statement_timeout_ms = 1000,
                     .lock_timeout_ms = 500,
                     .idle_in_tx_timeout_ms = 1000,
                     .connect_timeout_s = 2,
                     .deadline_margin_ms = 500};
    x->d = db_connect(&s, err, sizeof err);
    if (!x->d)
        fprintf(stderr, "proxied connect: %s\n", err);
    assert_non_null(x->d);
}

static void proxied_close(proxied *x)
{
    db_close(x->d);
    x->stop = 1;
    pthread_join(x->t, NULL);
    np_free(x->p);
}

static void proxy_cmd(proxied *x, const char *cmd)
{
    char out[256];
    assert_int_equal(np_command(x->p, cmd, out, sizeof out), 0);
}

typedef struct bump_arg {
    int calls;
} bump_arg;

static int bump(db_tx *tx, void *arg)
{
    bump_arg *b = arg;
    b->calls++;
    PGresult *r = db_exec(tx,
                          "UPDATE domains SET attempts = attempts + 1 WHERE domain = "
                          "'txtest.com'",
                          0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static long attempts_now(void)
{
    PGresult *r = db_query(test_db, "SELECT attempts FROM domains WHERE domain = 'txtest.com'", 0,
                           NULL);
    assert_non_null(r);
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Live connection blackholed (no FIN, no RST): the round trip ends at its deadline, the
 * connection is dropped and the whole transaction runs again on a new one. */
static void test_deadline_blackholed_connection(void **state)
{
    (void)state;
    proxied x;
    proxied_open(&x);
    bump_arg b = {0};
    assert_int_equal(db_transaction(x.d, "warm", 1000, bump, &b), 0);
    double dl0 = counter("wf4_db_deadline_exceeded_total");
    long a0 = attempts_now();
    proxy_cmd(&x, "blackhole");
    b.calls = 0;
    double t0 = now_s();
    int rc = db_transaction(x.d, "blackholed", 1000, bump, &b);
    double took = now_s() - t0;
    print_message("blackholed: rc %d after %.2f s, %d calls, deadline count +%.0f\n", rc, took,
                  b.calls, counter("wf4_db_deadline_exceeded_total") - dl0);
    assert_int_equal(rc, 0);
    assert_int_equal(b.calls, 2);
    assert_true(took >= 1.4 && took < 5.0);
    assert_true(counter("wf4_db_deadline_exceeded_total") - dl0 == 1);
    assert_int_equal(attempts_now(), a0 + 1);
    proxied_close(&x);
}

/* The connection is cut right after COMMIT reached the server, before its answer: the
 * server says the transaction committed, so it is not run again (applied once). */
static void test_commit_answer_lost(void **state)
{
    (void)state;
    proxied x;
    proxied_open(&x);
    bump_arg b = {0};
    double c0 = counter("wf4_db_commit_unknown_total{outcome=\"committed\"}");
    long a0 = attempts_now();
    proxy_cmd(&x, "cut_after_commit");
    int rc = db_transaction(x.d, "cut", 1000, bump, &b);
    double c1 = counter("wf4_db_commit_unknown_total{outcome=\"committed\"}");
    print_message("cut after COMMIT: rc %d, %d calls, attempts %ld -> %ld, resolved committed "
                  "+%.0f\n",
                  rc, b.calls, a0, attempts_now(), c1 - c0);
    assert_int_equal(rc, 0);
    assert_int_equal(b.calls, 1);
    assert_true(c1 - c0 == 1);
    assert_int_equal(attempts_now(), a0 + 1);
    proxied_close(&x);
}

int main(void)
{
    log_init("test_db", NULL, LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_and_rollback),
        cmocka_unit_test(test_callback_cannot_commit),
        cmocka_unit_test(test_session_settings),
        cmocka_unit_test(test_first_statement_pipelined),
        cmocka_unit_test(test_budget_counted),
        cmocka_unit_test(test_reconnect_retries_whole),
        cmocka_unit_test(test_array_params),
        cmocka_unit_test(test_array_rejects_bad_uuid),
        cmocka_unit_test(test_connect_deadline_silent_server),
        cmocka_unit_test(test_deadline_blackholed_connection),
        cmocka_unit_test(test_commit_answer_lost),
    };
    return cmocka_run_group_tests(tests, test_setup, test_teardown);
}
