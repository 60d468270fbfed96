/* The anti-pattern of incident AP-20250730-002, reproduced on purpose for the benchmarks.
 *
 * DO NOT COPY THIS CODE. Each worker opens ONE transaction per domain, claims the domain
 * (SELECT ... FOR UPDATE), calls ScraperAPI while that transaction stays open ("idle in
 * transaction" for the whole call), updates the row and only then commits: the database
 * connection is held for the length of the slow API call, exactly what the pipeline's
 * design forbids. It runs through a pooler (PgBouncer, transaction mode, a small pool) so
 * that the pooler's limits (pool size, query_wait_timeout, idle_transaction_timeout) act
 * on it as they did in production. bench/antipattern/ is exempted from
 * scripts/check-tx-control.sh for this file alone.
 *
 * It prints one JSON object: throughput, transaction time per domain, API time, failures
 * by kind (killed connections, pool wait timeouts, refused connections), API calls whose
 * result was lost. */
#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct ap_opts {
    const char *db_url, *api_url, *api_key;
    int workers;
    double seconds;
} ap_opts;

/* Figures shared by the workers (atomics: the workers run in parallel). */
typedef struct ap_stats {
    atomic_long done, api_calls, api_errors, wasted_api, killed, wait_timeout, refused,
        other_errors, empty;
    atomic_llong tx_us, api_us, max_tx_us;
} ap_stats;

static ap_opts ap_o;
static ap_stats ap_s;
static double ap_deadline;

static double ap_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ap_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sorts a failure into the pooler's and the server's ways of ending a transaction. */
static void ap_count_error(PGconn *c, const char *what)
{
    const char *msg = PQerrorMessage(c);
    if (strstr(msg, "query_wait_timeout"))
        ap_s.wait_timeout++;
    else if (PQstatus(c) != CONNECTION_OK || strstr(msg, "idle_transaction_timeout") ||
             strstr(msg, "idle-in-transaction") || strstr(msg, "server closed") ||
             strstr(msg, "terminating connection"))
        ap_s.killed++;
    else
        ap_s.other_errors++;
    fprintf(stderr, "antipattern: %s failed: %s", what, msg);
}

static size_t ap_body(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    *(size_t *)arg += size * n;
    return size * n;
}

/* The slow call, made while the caller's transaction is open. Returns the HTTP status. */
static long ap_scrape(CURL *h, const char *domain)
{
    char url[1024];
    size_t got = 0;
    long code = 0;
    snprintf(url, sizeof url, "%s%capi_key=%s&url=https://%s/", ap_o.api_url,
             strchr(ap_o.api_url, '?') ? '&' : '?', ap_o.api_key, domain);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ap_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 70000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    double t0 = ap_now();
    CURLcode rc = curl_easy_perform(h);
    ap_s.api_us += (long long)((ap_now() - t0) * 1e6);
    ap_s.api_calls++;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200)
        ap_s.api_errors++;
    return code;
}

static int ap_ok(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
    int ok = r && PQresultStatus(r) == want;
    if (!ok)
        ap_count_error(c, what);
    PQclear(r);
    return ok;
}

/* One domain, the wrong way: BEGIN, claim, call the API, update, COMMIT. Returns 1 done,
 * 0 nothing to claim, -1 failed (the connection may be gone). */
static int ap_one(PGconn *c, CURL *h)
{
    char id[64], domain[512], title[600];
    double t0 = ap_now();
    if (!ap_ok(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "BEGIN"))
        return -1;
    PGresult *r = PQexecParams(c,
                               "SELECT id, domain FROM domains WHERE status = 'pending'"
                               " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                               0, NULL, NULL, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        ap_ok(c, r, PGRES_TUPLES_OK, "SELECT ... FOR UPDATE");
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        ap_ok(c, PQexec(c, "ROLLBACK"), PGRES_COMMAND_OK, "ROLLBACK");
        return 0;
    }
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    snprintf(domain, sizeof domain, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    const char *p1[] = {id};
    if (!ap_ok(c,
               PQexecParams(c,
                            "UPDATE domains SET status = 'processing', claim_id ="
                            " gen_random_uuid(), claimed_at = now(), lease_expires_at = now() +"
                            " interval '1 hour', attempts = attempts + 1 WHERE id = $1",
                            1, NULL, p1, NULL, NULL, 0),
               PGRES_COMMAND_OK, "UPDATE processing"))
        return -1;
    long code = ap_scrape(h, domain); /* <-- the transaction stays open across this call */
    snprintf(title, sizeof title, "%s (HTTP %ld)", domain, code);
    const char *p2[] = {id, title};
    int ok = ap_ok(c,
                   PQexecParams(c,
                                "UPDATE domains SET status = 'completed', title = $2,"
                                " sitemap_analysis_status = 'queued', handoff_event_id ="
                                " gen_random_uuid(), handed_off_at = now(), completed_at ="
                                " now(), lease_expires_at = NULL WHERE id = $1",
                                2, NULL, p2, NULL, NULL, 0),
                   PGRES_COMMAND_OK, "UPDATE completed") &&
             ap_ok(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "COMMIT");
    long long us = (long long)((ap_now() - t0) * 1e6);
    if (!ok) {
        ap_s.wasted_api++;
        return -1;
    }
    ap_s.tx_us += us;
    long long m = ap_s.max_tx_us;
    while (us > m && !atomic_compare_exchange_weak(&ap_s.max_tx_us, &m, us))
        ;
    ap_s.done++;
    return 1;
}

static PGconn *ap_connect(void)
{
    PGconn *c = PQconnectdb(ap_o.db_url);
    if (PQstatus(c) == CONNECTION_OK)
        return c;
    ap_s.refused++;
    fprintf(stderr, "antipattern: connect failed: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
}

static void *ap_worker(void *arg)
{
    (void)arg;
    CURL *h = curl_easy_init();
    PGconn *c = NULL;
    while (h && ap_now() < ap_deadline) {
        if (!c && !(c = ap_connect())) {
            ap_sleep_ms(200);
            continue;
        }
        int rc = ap_one(c, h);
        if (rc == 0) {
            ap_s.empty++;
            ap_sleep_ms(100);
        } else if (rc < 0) {
            if (PQstatus(c) != CONNECTION_OK) {
                PQfinish(c);
                c = NULL;
            } else if (PQtransactionStatus(c) != PQTRANS_IDLE) {
                PQclear(PQexec(c, "ROLLBACK"));
            }
            ap_sleep_ms(100);
        }
    }
    PQfinish(c);
    curl_easy_cleanup(h);
    return NULL;
}

static int ap_args(int argc, char **argv)
{
    ap_o = (ap_opts){getenv("AP_DATABASE_URL"), getenv("SCRAPERAPI_URL"), getenv("SCRAPERAPI_KEY"),
                     8, 20};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--workers") == 0)
            ap_o.workers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            ap_o.seconds = atof(argv[i + 1]);
        else
            return -1;
    }
    if (argc % 2 == 0 || !ap_o.db_url || !ap_o.api_url || !ap_o.api_key || ap_o.workers < 1 ||
        ap_o.workers > 1000 || ap_o.seconds <= 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (ap_args(argc, argv) != 0) {
        fprintf(stderr, "usage: antipattern [--workers N] [--seconds S]\n"
                        "Env: AP_DATABASE_URL (through the pooler), SCRAPERAPI_URL, "
                        "SCRAPERAPI_KEY.\nThe incident's anti-pattern, for the benchmarks "
                        "only: one transaction held open across each API call.\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t *t = calloc((size_t)ap_o.workers, sizeof *t);
    if (!t)
        return 1;
    double t0 = ap_now();
    ap_deadline = t0 + ap_o.seconds;
    int started = 0;
    for (; started < ap_o.workers; started++)
        if (pthread_create(&t[started], NULL, ap_worker, NULL) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    double secs = ap_now() - t0;
    long done = ap_s.done;
    printf("{\"workers\": %d, \"seconds\": %.3f, \"done\": %ld, \"per_s\": %.3f,"
           " \"tx_ms_per_domain\": %.1f, \"max_tx_ms\": %.1f, \"api_calls\": %ld,"
           " \"api_ms_mean\": %.1f, \"api_errors\": %ld, \"wasted_api_calls\": %ld,"
           " \"killed\": %ld, \"wait_timeout\": %ld, \"refused\": %ld, \"other_errors\": %ld,"
           " \"empty_polls\": %ld}\n",
           started, secs, done, (double)done / secs,
           done ? (double)ap_s.tx_us / 1000.0 / (double)done : 0.0, (double)ap_s.max_tx_us / 1000.0,
           (long)ap_s.api_calls,
           ap_s.api_calls ? (double)ap_s.api_us / 1000.0 / (double)ap_s.api_calls : 0.0,
           (long)ap_s.api_errors, (long)ap_s.wasted_api, (long)ap_s.killed, (long)ap_s.wait_timeout,
           (long)ap_s.refused, (long)ap_s.other_errors, (long)ap_s.empty);
    free(t);
    curl_global_cleanup();
    return started == ap_o.workers ? 0 : 1;
}
