/* Unit tests for common/metrics.c (exact exposition text) and common/http.c (over libcurl). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "metrics.h"

/* Runs first, while the registry is empty, so the whole page can be compared. */
static void test_render_exact(void **state)
{
    (void)state;
    static const double b[] = {0.1, 0.5, 1};
    metric *ok = metrics_counter("t_results_total{outcome=\"ok\"}", "Results by outcome.");
    metric *g = metrics_gauge("t_in_flight", "Requests in flight.");
    metric *h = metrics_histogram("t_latency_seconds{op=\"get\"}", "Latency.", b, 3);
    metric *fail = metrics_counter("t_results_total{outcome=\"fail\"}", "ignored help");
    metric *plain = metrics_histogram("t_size_bytes", "Sizes, in \\ bytes\nsecond line.", b, 2);
    assert_non_null(ok);
    assert_non_null(g);
    assert_non_null(h);
    assert_non_null(fail);
    assert_non_null(plain);
    metrics_add(ok, 3);
    metrics_add(fail, 1);
    metrics_set(g, 1.5);
    metrics_add(g, -0.25);
    metrics_observe(h, 0.0625);
    metrics_observe(h, 0.25);
    metrics_observe(h, 0.25);
    metrics_observe(h, 2);
    metrics_observe(plain, 0.5);
    char *text = metrics_render();
    assert_non_null(text);
    assert_string_equal(text, "# HELP t_results_total Results by outcome.\n"
                              "# TYPE t_results_total counter\n"
                              "t_results_total{outcome=\"ok\"} 3\n"
                              "t_results_total{outcome=\"fail\"} 1\n"
                              "# HELP t_in_flight Requests in flight.\n"
                              "# TYPE t_in_flight gauge\n"
                              "t_in_flight 1.25\n"
                              "# HELP t_latency_seconds Latency.\n"
                              "# TYPE t_latency_seconds histogram\n"
                              "t_latency_seconds_bucket{op=\"get\",le=\"0.1\"} 1\n"
                              "t_latency_seconds_bucket{op=\"get\",le=\"0.5\"} 3\n"
                              "t_latency_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
                              "t_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
                              "t_latency_seconds_sum{op=\"get\"} 2.5625\n"
                              "t_latency_seconds_count{op=\"get\"} 4\n"
                              "# HELP t_size_bytes Sizes, in \\\\ bytes\\nsecond line.\n"
                              "# TYPE t_size_bytes histogram\n"
                              "t_size_bytes_bucket{le=\"0.1\"} 0\n"
                              "t_size_bytes_bucket{le=\"0.5\"} 1\n"
                              "t_size_bytes_bucket{le=\"+Inf\"} 1\n"
                              "t_size_bytes_sum 0.5\n"
                              "t_size_bytes_count 1\n");
    free(text);
}

static void assert_rendered(const char *block)
{
    char *text = metrics_render();
    assert_non_null(text);
    int found = strstr(text, block) != NULL;
    if (!found)
        fprintf(stderr, "missing block:\n%s\nin:\n%s\n", block, text);
    free(text);
    assert_true(found);
}

static void test_counter_rules(void **state)
{
    (void)state;
    metric *c = metrics_counter("t_events_total", "Events.");
    assert_ptr_equal(c, metrics_counter("t_events_total", "Events."));
    metrics_add(c, 2);
    metrics_add(c, -5); /* counters never go down */
    metrics_add(c, 0.5);
    assert_true(metrics_value(c) == 2.5);
    metrics_observe(c, 1); /* not a histogram: ignored */
    assert_rendered("# TYPE t_events_total counter\nt_events_total 2.5\n");
}

static void test_gauge_values(void **state)
{
    (void)state;
    metric *g = metrics_gauge("t_value{k=\"v\"}", "Values.");
    metrics_set(g, 0.001);
    assert_rendered("t_value{k=\"v\"} 0.001\n");
    metrics_set(g, 1e21);
    assert_rendered("t_value{k=\"v\"} 1e+21\n");
    metrics_set(g, -3);
    assert_rendered("t_value{k=\"v\"} -3\n");
    metrics_set(g, 1234567);
    assert_rendered("t_value{k=\"v\"} 1234567\n");
    metrics_set(g, 1234567.5);
    assert_rendered("t_value{k=\"v\"} 1234567.5\n");
    metrics_set(g, -0.0);
    assert_rendered("t_value{k=\"v\"} -0\n");
    metrics_set(g, 2.5e-7);
    assert_rendered("t_value{k=\"v\"} 2.5e-07\n");
    metrics_set(g, 1.0 / 0.0);
    assert_rendered("t_value{k=\"v\"} +Inf\n");
    metrics_set(g, 0.1 + 0.2);
    assert_rendered("t_value{k=\"v\"} 0.30000000000000004\n");
}

static void test_rejects(void **state)
{
    (void)state;
    static const double bad[] = {1, 0.5};
    assert_null(metrics_counter("1bad", "x"));
    assert_null(metrics_counter("bad name", "x"));
    assert_null(metrics_counter("t_unclosed{a=\"b\"", "x"));
    assert_null(metrics_histogram("t_bad_buckets", "x", bad, 2));
    assert_non_null(metrics_counter("t_kind_total", "x"));
    assert_null(metrics_gauge("t_kind_total", "x"));          /* same name, other type */
    assert_null(metrics_gauge("t_kind_total{a=\"1\"}", "x")); /* same base, other type */
    metrics_add(NULL, 1);                                     /* NULL is a no-op */
    metrics_set(NULL, 1);
    metrics_observe(NULL, 1);
    assert_true(metrics_value(NULL) == 0);
}

static void test_latency_buckets(void **state)
{
    (void)state;
    assert_true(metrics_latency_nbuckets > 2);
    assert_true(metrics_latency_buckets[0] == 0.001);
    assert_true(metrics_latency_buckets[metrics_latency_nbuckets - 1] == 120);
    metric *h = metrics_histogram("t_wait_seconds", "Wait.", metrics_latency_buckets,
                                  metrics_latency_nbuckets);
    metrics_observe(h, 200);
    assert_rendered("t_wait_seconds_bucket{le=\"120\"} 0\n"
                    "t_wait_seconds_bucket{le=\"+Inf\"} 1\n"
                    "t_wait_seconds_sum 200\n"
                    "t_wait_seconds_count 1\n");
}

static void *adder(void *arg)
{
    metric **m = arg;
    for (int i = 0; i < 10000; i++) {
        metrics_add(m[0], 1);
        metrics_observe(m[1], 0.01);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    static const double b[] = {0.1};
    metric *m[2] = {metrics_counter("t_par_total", "Parallel."),
                    metrics_histogram("t_par_seconds", "Parallel.", b, 1)};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adder, m), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_true(metrics_value(m[0]) == 40000);
    assert_rendered("t_par_seconds_bucket{le=\"0.1\"} 40000\n");
}

/* ---- http ---- */

typedef struct fetched {
    long status;
    char type[128];
    char body[65536];
    size_t len;
} fetched;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    fetched *f = arg;
    size_t k = size * n;
    if (f->len + k >= sizeof f->body)
        return 0;
    memcpy(f->body + f->len, p, k);
    f->len += k;
    f->body[f->len] = '\0';
    return k;
}

static void get(int port, const char *path, fetched *f)
{
    char url[256];
    char *type = NULL;
    memset(f, 0, sizeof *f);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    if (type)
        snprintf(f->type, sizeof f->type, "%s", type);
    curl_easy_cleanup(c);
}

static int ready_flag(void *arg)
{
    return *(int *)arg;
}

static void test_http_endpoints(void **state)
{
    (void)state;
    int ready = 1;
    fetched f;
    metrics_add(metrics_counter("t_http_total", "Seen over HTTP."), 7);
    int port = http_start(0, ready_flag, &ready);
    assert_true(port > 0);
    assert_int_equal(http_start(0, ready_flag, &ready), -1); /* one server per process */

    get(port, "/metrics", &f);
    assert_int_equal(f.status, 200);
    assert_non_null(strstr(f.type, "text/plain"));
    assert_non_null(strstr(f.type, "version=0.0.4"));
    assert_non_null(strstr(f.body, "# TYPE t_http_total counter\nt_http_total 7\n"));

    get(port, "/healthz", &f);
    assert_int_equal(f.status, 200);
    assert_string_equal(f.body, "ok");

    get(port, "/readyz", &f);
    assert_int_equal(f.status, 200);
    ready = 0;
    get(port, "/readyz", &f);
    assert_int_equal(f.status, 503);

    get(port, "/nothing-here", &f);
    assert_int_equal(f.status, 404);
    http_stop();
    http_stop(); /* idempotent */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),    cmocka_unit_test(test_counter_rules),
        cmocka_unit_test(test_gauge_values),    cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_latency_buckets), cmocka_unit_test(test_threads),
        cmocka_unit_test(test_http_endpoints),
    };
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
