/* PostgreSQL access: the ONLY module that issues BEGIN, COMMIT or ROLLBACK. */
#include "db.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

#define DB_TX_ATTEMPTS 5
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
#define DB_CANCELS_MAX 4     /* PQcancel threads alive at once */
#define DB_LISTEN_PING_S 5.0 /* a silent LISTEN connection is probed this often */
#define DB_LISTEN_RETRY_S 5.0

struct db {
    PGconn *conn;
    char *url, *app_name;
    int statement_timeout_ms, lock_timeout_ms, idle_in_tx_timeout_ms, connect_timeout_s;
    int deadline_margin_ms, keepalive_s, tcp_user_timeout_ms;
    const char *what; /* the transaction or query in progress, named in the logs */
    char listen_channel[64];
    char sqlstate[6];
    char xid[24];    /* the open transaction's id: what a lost COMMIT is resolved by */
    int up;          /* 0: counted in db_down */
    long last_tx_ms; /* duration of the last committed transaction */
    double last_io, listen_retry_at;
};

struct db_tx {
    db *d;
    int failed;
    int begun; /* BEGIN sent: it travels with the first statement (db_begin) */
};

static metric *db_m_tx_seconds, *db_m_over_budget, *db_m_tx_failed, *db_m_reconnects,
    *db_m_deadline, *db_m_commit_committed, *db_m_commit_aborted, *db_m_commit_unresolved;
static atomic_int db_down;    /* handles whose connection is down, process-wide */
static atomic_int db_cancels; /* cancel requests still running */

static void db_metrics_init(void)
{
    if (db_m_tx_seconds)
        return;
    db_m_tx_seconds = metrics_histogram("wf4_db_transaction_seconds",
                                        "Duration of database transactions",
                                        metrics_latency_buckets, metrics_latency_nbuckets);
    db_m_over_budget = metrics_counter("wf4_db_transaction_over_budget_total",
                                       "Transactions that took longer than their budget");
    db_m_tx_failed = metrics_counter("wf4_db_transaction_failed_total",
                                     "Transactions rolled back or failed");
    db_m_reconnects = metrics_counter("wf4_db_reconnects_total", "Database reconnections");
    db_m_deadline = metrics_counter("wf4_db_deadline_exceeded_total",
                                    "Round trips PostgreSQL did not answer within the deadline "
                                    "(the connection was dropped)");
    const char *h = "COMMITs whose answer was lost, by what the server said became of them";
    db_m_commit_committed = metrics_counter("wf4_db_commit_unknown_total{outcome=\"committed\"}",
                                            h);
    db_m_commit_aborted = metrics_counter("wf4_db_commit_unknown_total{outcome=\"aborted\"}", h);
    db_m_commit_unresolved = metrics_counter("wf4_db_commit_unknown_total{outcome=\"unresolved\"}",
                                             h);
}

static double db_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void db_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Marks d reachable or not; wf4_dependency_up{dependency="postgresql"} is 1 only while no
 * handle of the process is down. */
static void db_set_up(db *d, int up)
{
    if (d->up == up)
        return;
    d->up = up;
    int down = atomic_fetch_add(&db_down, up ? -1 : 1) + (up ? -1 : 1);
    metrics_dependency_set("postgresql", down == 0);
}

static void db_notice(void *arg, const char *message)
{
    char msg[512];
    (void)arg;
    snprintf(msg, sizeof msg, "%s", message);
    msg[strcspn(msg, "\n")] = '\0';
    log_debug("server notice: %s", msg);
}

static void *db_cancel_main(void *arg)
{
    PGcancel *c = arg;
    char err[256];
    if (!PQcancel(c, err, sizeof err)) {
        err[strcspn(err, "\n")] = '\0';
        log_warn("cancel request: %s", err);
    }
    PQfreeCancel(c);
    atomic_fetch_sub(&db_cancels, 1);
    return NULL;
}

/* Asks the server to cancel what conn runs, from a detached thread: PQcancel blocks on a
 * connection of its own that a dead network may never answer. */
static void db_cancel(PGconn *conn)
{
    if (atomic_fetch_add(&db_cancels, 1) >= DB_CANCELS_MAX) {
        atomic_fetch_sub(&db_cancels, 1);
        log_warn("no cancel request sent: %d earlier ones still wait for an answer",
                 DB_CANCELS_MAX);
        return;
    }
    PGcancel *c = PQgetCancel(conn);
    pthread_attr_t a;
    pthread_t t;
    int e = c ? pthread_attr_init(&a) : ENOMEM;
    if (e == 0) {
        (void)pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        e = pthread_create(&t, &a, db_cancel_main, c);
        pthread_attr_destroy(&a);
    }
    if (e != 0) {
        log_warn("no cancel request sent: %s", c ? strerror(e) : "PQgetCancel failed");
        PQfreeCancel(c);
        atomic_fetch_sub(&db_cancels, 1);
    }
}

/* Drops d's connection after a round trip failed: why -2 is the deadline (counted, the
 * statement cancelled), -1 a broken connection. The next transaction reconnects. */
static void db_drop(db *d, int why, double waited)
{
    if (why == -2) {
        metrics_add(db_m_deadline, 1);
        log_error("%s: no answer from PostgreSQL after %.1f s (deadline: statement timeout "
                  "%d ms + %d ms); cancelling and dropping the connection",
                  d->what ? d->what : "query", waited, d->statement_timeout_ms,
                  d->deadline_margin_ms);
        db_cancel(d->conn);
    } else {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(d->conn));
        msg[strcspn(msg, "\n")] = '\0';
        log_error("%s: connection to PostgreSQL lost after %.1f s: %s", d->what ? d->what : "query",
                  waited, msg);
    }
    snprintf(d->sqlstate, sizeof d->sqlstate, "08006");
    PQfinish(d->conn);
    d->conn = NULL;
    db_set_up(d, 0);
}

/* Waits until libpq has sent all it holds and has a result ready, or the deadline passes.
 * Returns 0, -1 (connection broken) or -2 (deadline). */
static int db_wait(db *d, double deadline)
{
    for (;;) {
        int fl = PQflush(d->conn);
        if (fl < 0)
            return -1;
        if (!PQconsumeInput(d->conn))
            return -1;
        if (fl == 0 && !PQisBusy(d->conn))
            return 0;
        int left = (int)((deadline - db_now()) * 1000.0);
        if (left <= 0)
            return -2;
        struct pollfd p = {PQsocket(d->conn), (short)(POLLIN | (fl ? POLLOUT : 0)), 0};
        if (poll(&p, 1, left) < 0 && errno != EINTR)
            return -1;
    }
}

/* The next result of the round trip started at t0, within its deadline (the statement
 * timeout plus the margin). NULL at the end of its results, or when the connection is gone
 * (then d->conn is NULL: dropped here). */
static PGresult *db_next(db *d, double t0)
{
    if (!d->conn)
        return NULL;
    double deadline = t0 + (d->statement_timeout_ms + d->deadline_margin_ms) / 1000.0;
    int w = db_wait(d, deadline);
    if (w != 0) {
        db_drop(d, w, db_now() - t0);
        return NULL;
    }
    d->last_io = db_now();
    return PQgetResult(d->conn);
}

/* Waits for a connection being made, until the deadline; returns 0, -1 or -2 (deadline). */
static int db_connect_wait(PGconn *c, double deadline)
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED)
            return -1;
        int left = (int)((deadline - db_now()) * 1000.0);
        if (left <= 0)
            return -2;
        struct pollfd p = {PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        int pr = poll(&p, 1, left);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr > 0)
            st = PQconnectPoll(c);
    }
    return 0;
}

/* Opens a new PGconn from d's settings within the connect timeout, non-blocking, with TCP
 * keepalives and tcp_user_timeout (the URL may override them); returns 0 or -1 with err. */
static int db_open_conn(db *d, char *err, size_t errlen)
{
    char timeout[16], ka[16], utmo[16];
    snprintf(timeout, sizeof timeout, "%d", d->connect_timeout_s);
    snprintf(ka, sizeof ka, "%d", d->keepalive_s);
    snprintf(utmo, sizeof utmo, "%d", d->tcp_user_timeout_ms);
    const char *keys[] = {"keepalives",       "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname",
                          "application_name", "connect_timeout",  NULL};
    const char *vals[] = {"1", ka, ka, "3", utmo, d->url, d->app_name, timeout, NULL};
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    int rc = !c || PQstatus(c) == CONNECTION_BAD
                 ? -1
                 : db_connect_wait(c, db_now() + d->connect_timeout_s);
    if (rc == 0 && PQsetnonblocking(c, 1) != 0)
        rc = -1;
    if (rc != 0) {
        char msg[512];
        if (rc == -2)
            snprintf(msg, sizeof msg, "no answer within the connect timeout of %d s",
                     d->connect_timeout_s);
        else
            snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        log_redact(msg, err, errlen);
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, db_notice, NULL);
    d->conn = c;
    d->last_io = db_now();
    db_set_up(d, 1);
    return 0;
}

db *db_connect(const db_settings *s, char *err, size_t errlen)
{
    db_metrics_init();
    db *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->up = 1;
    d->url = strdup(s->url ? s->url : "");
    d->app_name = strdup(s->app_name ? s->app_name : "wf4");
    d->statement_timeout_ms = s->statement_timeout_ms > 0 ? s->statement_timeout_ms : 10000;
    d->lock_timeout_ms = s->lock_timeout_ms > 0 ? s->lock_timeout_ms : 5000;
    d->idle_in_tx_timeout_ms = s->idle_in_tx_timeout_ms > 0 ? s->idle_in_tx_timeout_ms : 10000;
    d->connect_timeout_s = s->connect_timeout_s > 0 ? s->connect_timeout_s : 5;
    d->deadline_margin_ms = s->deadline_margin_ms > 0 ? s->deadline_margin_ms : 2000;
    d->keepalive_s = s->keepalive_s > 0 ? s->keepalive_s : 5;
    d->tcp_user_timeout_ms = s->tcp_user_timeout_ms > 0 ? s->tcp_user_timeout_ms : 15000;
    if (!d->url || !d->app_name || db_open_conn(d, err, errlen) != 0) {
        if (!d->url || !d->app_name)
            snprintf(err, errlen, "out of memory");
        db_close(d);
        return NULL;
    }
    metrics_dependency_set("postgresql", atomic_load(&db_down) == 0);
    return d;
}

void db_close(db *d)
{
    if (!d)
        return;
    db_set_up(d, 1); /* a closed handle is no longer down */
    PQfinish(d->conn);
    free(d->url);
    free(d->app_name);
    free(d);
}

int db_ok(const db *d)
{
    return d && d->conn && PQstatus(d->conn) == CONNECTION_OK;
}

const char *db_last_sqlstate(const db *d)
{
    return d->sqlstate;
}

/* Re-establishes a lost connection with exponential backoff; returns 0 or -1. */
static int db_reconnect(db *d, int attempts)
{
    long backoff = DB_BACKOFF_MIN_MS;
    for (int i = 0; i < attempts; i++) {
        char err[512];
        PQfinish(d->conn);
        d->conn = NULL;
        db_set_up(d, 0);
        if (db_open_conn(d, err, sizeof err) == 0) {
            metrics_add(db_m_reconnects, 1);
            log_warn("database connection re-established after %d attempt(s)", i + 1);
            if (d->listen_channel[0] && db_listen(d, d->listen_channel) != 0)
                continue;
            return 0;
        }
        log_warn("database reconnect attempt %d failed: %s", i + 1, err);
        db_sleep_ms(backoff + rand() % (backoff / 2 + 1));
        backoff = backoff * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : backoff * 2;
    }
    return -1;
}

/* Records the SQLSTATE and logs the failure of one statement (a dropped connection was
 * logged by db_drop). */
static void db_note_failure(db *d, PGresult *r, const char *what)
{
    if (!r && !d->conn)
        return;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(d->sqlstate, sizeof d->sqlstate, "%s", st ? st : "");
    char msg[512];
    snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(d->conn));
    msg[strcspn(msg, "\n")] = '\0';
    log_error("%s failed (SQLSTATE %s): %s", what, d->sqlstate[0] ? d->sqlstate : "none", msg);
}

/* Control statements the callbacks may not issue: they belong to db_transaction alone. */
static int db_is_tx_control(const char *sql)
{
    static const char *const words[] = {"BEGIN",     "COMMIT",  "ROLLBACK", "END",    "START",
                                        "SAVEPOINT", "RELEASE", "ABORT",    "PREPARE"};
    while (isspace((unsigned char)*sql))
        sql++;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(sql, words[i], n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_')
            return 1;
    }
    return 0;
}

/* Reads every result of the round trip started at t0: returns the last one when all
 * succeeded (the caller PQclears it), else NULL with the first failure noted. */
static PGresult *db_collect(db *d, double t0, const char *what)
{
    PGresult *r, *keep = NULL, *bad = NULL;
    while ((r = db_next(d, t0)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (!bad && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
            PQclear(keep);
            keep = r;
        } else if (!bad) {
            bad = r;
        } else {
            PQclear(r);
        }
    }
    if (!bad && keep && d->conn)
        return keep;
    PQclear(keep);
    db_note_failure(d, bad, what);
    PQclear(bad);
    return NULL;
}

static PGresult *db_run(db *d, const char *sql, int nparams, const char *const *values,
                        const int *lengths, const int *formats, const char *what)
{
    double t0 = db_now();
    if (!d->conn)
        return NULL;
    if (PQsendQueryParams(d->conn, sql, nparams, NULL, values, lengths, formats, 0) != 1) {
        db_note_failure(d, NULL, what);
        return NULL;
    }
    PGresult *r = db_collect(d, t0, what);
    if (r)
        d->sqlstate[0] = '\0';
    return r;
}

/* A simple-protocol command or script (BEGIN/COMMIT/ROLLBACK, LISTEN, a migration). */
static PGresult *db_simple(db *d, const char *sql, const char *what)
{
    double t0 = db_now();
    if (!d->conn)
        return NULL;
    if (PQsendQuery(d->conn, sql) != 1) {
        db_note_failure(d, NULL, what);
        return NULL;
    }
    return db_collect(d, t0, what);
}

/* Consumes one pipelined query's results up to its terminating NULL: returns its result if
 * it succeeded (the caller PQclears it), else NULL with the first failure noted. */
static PGresult *db_pipeline_take(db *d, double t0, const char *what, int *ok)
{
    PGresult *r = db_next(d, t0), *extra;
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    while (r && (extra = db_next(d, t0)) != NULL)
        PQclear(extra);
    if (d->conn && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
        return r;
    if (*ok && st != PGRES_PIPELINE_ABORTED)
        db_note_failure(d, r, what);
    *ok = 0;
    PQclear(r);
    return NULL;
}

/* Sends BEGIN, the settings and the first statement (if any) as one pipeline. */
static int db_begin_send(db *d, const char *sql, int nparams, const char *const *values,
                         const int *lengths, const int *formats)
{
    char st[16], lk[16], idle[16];
    snprintf(st, sizeof st, "%d", d->statement_timeout_ms);
    snprintf(lk, sizeof lk, "%d", d->lock_timeout_ms);
    snprintf(idle, sizeof idle, "%d", d->idle_in_tx_timeout_ms);
    const char *cfg[] = {st, lk, idle};
    return PQsendQueryParams(d->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) == 1 &&
           PQsendQueryParams(d->conn,
                             "SELECT set_config('statement_timeout', $1, true), "
                             "set_config('lock_timeout', $2, true), "
                             "set_config('idle_in_transaction_session_timeout', $3, true), "
                             "pg_current_xact_id()::text",
                             3, NULL, cfg, NULL, NULL, 0) == 1 &&
           (!sql ||
            PQsendQueryParams(d->conn, sql, nparams, NULL, values, lengths, formats, 0) == 1) &&
           PQpipelineSync(d->conn) == 1;
}

/* Begins a transaction: BEGIN, its settings (set_config(..., true) is SET LOCAL, not a
 * session setting: it works behind PgBouncer/Supavisor transaction pooling), the
 * transaction's id (to resolve a COMMIT whose answer is lost) and, when sql is given, its
 * first statement, whose result goes to *out (the caller PQclears it), all in one libpq
 * pipeline: one round trip instead of two. The Sync that ends the pipeline leaves the
 * explicit transaction open. Returns 0, or -1 with the failure noted. */
static int db_begin(db *d, const char *sql, int nparams, const char *const *values,
                    const int *lengths, const int *formats, PGresult **out)
{
    double t0 = db_now();
    if (PQenterPipelineMode(d->conn) != 1) {
        db_note_failure(d, NULL, "entering pipeline mode");
        return -1;
    }
    int ok = db_begin_send(d, sql, nparams, values, lengths, formats);
    PGresult *r = NULL;
    if (!ok) {
        db_note_failure(d, NULL, "sending BEGIN");
    } else {
        PQclear(db_pipeline_take(d, t0, "BEGIN", &ok));
        PGresult *cfg = db_pipeline_take(d, t0, "SET LOCAL", &ok);
        snprintf(d->xid, sizeof d->xid, "%s", cfg ? PQgetvalue(cfg, 0, 3) : "");
        PQclear(cfg);
        if (sql)
            r = db_pipeline_take(d, t0, "statement", &ok);
        PGresult *sync = db_next(d, t0);
        if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
            if (ok)
                db_note_failure(d, sync, "pipeline sync");
            ok = 0;
        }
        PQclear(sync);
    }
    if (d->conn && PQexitPipelineMode(d->conn) != 1) {
        /* Results left unread on a broken connection: drop it, the retry reconnects. */
        log_error("leaving pipeline mode: %s", PQerrorMessage(d->conn));
        db_drop(d, -1, db_now() - t0);
    }
    if (!ok || !d->conn) {
        PQclear(r);
        return -1;
    }
    d->sqlstate[0] = '\0';
    if (out)
        *out = r;
    return 0;
}

PGresult *db_exec(db_tx *tx, const char *sql, int nparams, const char *const *values)
{
    return db_exec_params(tx, sql, nparams, values, NULL, NULL);
}

PGresult *db_exec_params(db_tx *tx, const char *sql, int nparams, const char *const *values,
                         const int *lengths, const int *formats)
{
    if (tx->failed)
        return NULL;
    if (db_is_tx_control(sql)) {
        log_error("db_exec refused a transaction control statement; db_transaction owns them");
        tx->failed = 1;
        return NULL;
    }
    PGresult *r = NULL;
    if (!tx->begun) {
        tx->begun = 1;
        (void)db_begin(tx->d, sql, nparams, values, lengths, formats, &r);
    } else {
        r = db_run(tx->d, sql, nparams, values, lengths, formats, "statement");
    }
    if (!r)
        tx->failed = 1;
    return r;
}

int db_exec_script(db_tx *tx, const char *script)
{
    if (tx->failed)
        return -1;
    if (!tx->begun) {
        tx->begun = 1;
        if (db_begin(tx->d, NULL, 0, NULL, NULL, NULL, NULL) != 0) {
            tx->failed = 1;
            return -1;
        }
    }
    PGresult *r = db_simple(tx->d, script, "script");
    if (!r)
        tx->failed = 1;
    PQclear(r);
    return r ? 0 : -1;
}

PGresult *db_query(db *d, const char *sql, int nparams, const char *const *values)
{
    if (db_is_tx_control(sql)) {
        log_error("db_query refused a transaction control statement");
        return NULL;
    }
    d->what = "query";
    if (!db_ok(d) && db_reconnect(d, 3) != 0)
        return NULL;
    PGresult *r = db_run(d, sql, nparams, values, NULL, NULL, "query");
    if (!r && !db_ok(d) && db_reconnect(d, 3) == 0)
        r = db_run(d, sql, nparams, values, NULL, NULL, "query");
    return r;
}

/* Simple-protocol command owned by this module (BEGIN/COMMIT/ROLLBACK). */
static int db_control(db *d, const char *sql)
{
    PGresult *r = db_simple(d, sql, sql);
    PQclear(r);
    return r ? 0 : -1;
}

static int db_retryable(const db *d)
{
    if (!db_ok(d))
        return 1;
    return strcmp(d->sqlstate, "40001") == 0 || strcmp(d->sqlstate, "40P01") == 0 ||
           strcmp(d->sqlstate, "55P03") == 0 || strncmp(d->sqlstate, "08", 2) == 0 ||
           strcmp(d->sqlstate, "57P01") == 0;
}

/* Asks the server once what became of transaction xid: 1 committed, 0 aborted, -1 not
 * known yet (still in progress, or no connection). */
static int db_xact_status(db *d, const char *xid)
{
    const char *p[] = {xid};
    if (!db_ok(d) && db_reconnect(d, 1) != 0)
        return -1;
    PGresult *r = db_run(d, "SELECT coalesce(pg_xact_status($1::xid8), 'unknown')", 1, p, NULL,
                         NULL, "commit status");
    if (!r)
        return -1;
    const char *st = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "";
    int rc = strcmp(st, "committed") == 0 ? 1 : strcmp(st, "aborted") == 0 ? 0 : -1;
    PQclear(r);
    return rc;
}

/* The connection went while COMMIT was on its way: this side cannot know whether it
 * committed. The server can: pg_xact_status of the transaction's id, asked on a new
 * connection until it is no longer in progress (idle_in_transaction_session_timeout ends a
 * transaction whose COMMIT never arrived). Returns 0 committed (the body's outputs stand),
 * -1 not committed or unresolved (retry whole: the fences make that harmless). */
static int db_commit_resolve(db *d, const char *name)
{
    char xid[sizeof d->xid];
    snprintf(xid, sizeof xid, "%s", d->xid);
    double t0 = db_now(), until = t0 + (d->idle_in_tx_timeout_ms + d->statement_timeout_ms +
                                        2 * d->deadline_margin_ms) /
                                           1000.0;
    int st;
    while ((st = xid[0] ? db_xact_status(d, xid) : 0) < 0 && db_now() < until)
        db_sleep_ms(500);
    metrics_add(st == 1   ? db_m_commit_committed
                : st == 0 ? db_m_commit_aborted
                          : db_m_commit_unresolved,
                1);
    log_warn("transaction %s (xid %s): the answer to COMMIT was lost; the server says it %s "
             "(asked for %.1f s)",
             name, xid[0] ? xid : "none",
             st == 1   ? "committed"
             : st == 0 ? "did not commit"
                       : "is still unresolved",
             db_now() - t0);
    return st == 1 ? 0 : -1;
}

/* One attempt: 0 committed, -1 failed. BEGIN goes with the first statement (db_exec_params,
 * db_exec_script); a body that issued none has nothing to commit or roll back. */
static int db_attempt(db *d, const char *name, db_tx_fn fn, void *arg)
{
    db_tx tx = {d, 0, 0};
    d->xid[0] = '\0';
    if (fn(&tx, arg) != 0 || tx.failed)
        goto rollback;
    if (!tx.begun || db_control(d, "COMMIT") == 0)
        return 0;
    return db_ok(d) ? -1 : db_commit_resolve(d, name);
rollback:
    if (db_ok(d) && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
        (void)db_control(d, "ROLLBACK");
    return -1;
}

int db_transaction(db *d, const char *name, int budget_ms, db_tx_fn fn, void *arg)
{
    long backoff = DB_BACKOFF_MIN_MS;
    d->what = name;
    for (int attempt = 1; attempt <= DB_TX_ATTEMPTS; attempt++) {
        if (!db_ok(d) && db_reconnect(d, 5) != 0)
            break;
        d->sqlstate[0] = '\0';
        double t0 = db_now();
        int rc = db_attempt(d, name, fn, arg);
        double secs = db_now() - t0;
        metrics_observe(db_m_tx_seconds, secs);
        if (secs * 1000.0 > budget_ms) {
            metrics_add(db_m_over_budget, 1);
            log_warn("transaction %s took %.1f ms, over its budget of %d ms", name, secs * 1000.0,
                     budget_ms);
        }
        if (rc == 0) {
            d->last_tx_ms = (long)(secs * 1000.0);
            return 0;
        }
        if (!db_retryable(d))
            break;
        log_warn("transaction %s failed (SQLSTATE %s), retrying whole (attempt %d of %d)", name,
                 d->sqlstate[0] ? d->sqlstate : "connection lost", attempt, DB_TX_ATTEMPTS);
        db_sleep_ms(backoff);
        backoff = backoff * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS : backoff * 2;
    }
    metrics_add(db_m_tx_failed, 1);
    log_error("transaction %s rolled back", name);
    return -1;
}

int db_listen(db *d, const char *channel)
{
    char *ident = d->conn ? PQescapeIdentifier(d->conn, channel, strlen(channel)) : NULL;
    if (!ident) {
        log_error("LISTEN %s: %s", channel, d->conn ? PQerrorMessage(d->conn) : "no connection");
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "LISTEN %s", ident);
    PQfreemem(ident);
    d->what = "LISTEN";
    PGresult *r = db_simple(d, sql, "LISTEN");
    PQclear(r);
    if (r)
        snprintf(d->listen_channel, sizeof d->listen_channel, "%s", channel);
    return r ? 0 : -1;
}

static int db_drain_notifies(db *d)
{
    int n = 0;
    PGnotify *nt;
    if (!PQconsumeInput(d->conn))
        return -1;
    while ((nt = PQnotifies(d->conn)) != NULL) {
        n++;
        PQfreemem(nt);
    }
    return n;
}

/* A LISTEN connection that hears nothing cannot tell a quiet database from a dead network:
 * a round trip under the deadline every DB_LISTEN_PING_S tells. Returns 0 or -1 (dropped). */
static int db_listen_ping(db *d)
{
    if (db_now() - d->last_io < DB_LISTEN_PING_S)
        return 0;
    d->what = "LISTEN keepalive";
    PGresult *r = db_simple(d, "SELECT 1", "LISTEN keepalive");
    PQclear(r);
    if (!r && d->conn)
        db_drop(d, -1, 0);
    return r ? 0 : -1;
}

/* While the LISTEN connection is down the caller's timer goes on: a reconnect is tried at
 * most every DB_LISTEN_RETRY_S, and the rest of the wait is slept. */
static int db_wait_down(db *d, double end)
{
    if (db_now() >= d->listen_retry_at) {
        if (db_reconnect(d, 1) == 0) {
            log_info("LISTEN connection back");
            return 0;
        }
        d->listen_retry_at = db_now() + DB_LISTEN_RETRY_S;
    }
    double left = end - db_now();
    if (left > 0)
        db_sleep_ms((long)(left * 1000.0));
    return -1;
}

int db_wait_notify(db *d, int timeout_ms)
{
    double end = db_now() + timeout_ms / 1000.0;
    if (!db_ok(d))
        return db_wait_down(d, end);
    int n = db_drain_notifies(d);
    if (n == 0 && db_listen_ping(d) != 0)
        return -1;
    if (n == 0)
        n = db_drain_notifies(d); /* any that came with the probe's answer */
    if (n != 0)
        return n;
    int left = (int)((end - db_now()) * 1000.0);
    struct pollfd pfd = {PQsocket(d->conn), POLLIN, 0};
    int pr = left > 0 ? poll(&pfd, 1, left) : 0;
    if (pr < 0)
        return errno == EINTR ? 0 : -1;
    if (pr == 0)
        return 0;
    n = db_drain_notifies(d);
    if (n < 0) {
        log_warn("LISTEN connection lost: %s", PQerrorMessage(d->conn));
        db_drop(d, -1, 0);
        return -1;
    }
    d->last_io = db_now();
    return n;
}

long db_last_tx_ms(const db *d)
{
    return d->last_tx_ms;
}

long db_batch_fit(long current, long max, long target_ms, size_t n, long took_ms)
{
    if (n < 10)
        return current;
    double fit = (double)target_ms * (double)n / (double)(took_ms > 0 ? took_ms : 1);
    long limit = fit > 1.5 * (double)current ? current + (current + 1) / 2 : (long)fit;
    long floor = max < 10 ? max : 10;
    if (limit > max)
        limit = max;
    if (limit < floor)
        limit = floor;
    return limit;
}

char *db_text_array(char *const *items, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(items[i]) + 3;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        *p++ = '"';
        for (const char *c = items[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* ---- binary array parameters ----
 * array_send's format: int32 ndim, int32 has-null flag, uint32 element type, then per
 * dimension int32 size and int32 lower bound, then per element int32 length (-1: NULL)
 * and that many bytes. All integers in network order. */
#define DB_ARRAY_HEADER 20

static void db_array_reserve(db_array *a, size_t more)
{
    if (a->failed || a->len + more <= a->cap)
        return;
    size_t cap = a->cap ? a->cap : 1024;
    while (cap < a->len + more)
        cap *= 2;
    char *b = realloc(a->buf, cap);
    if (!b) {
        a->failed = 1;
        return;
    }
    a->buf = b;
    a->cap = cap;
}

static void db_array_put32(db_array *a, uint32_t v)
{
    db_array_reserve(a, 4);
    if (a->failed)
        return;
    v = htonl(v);
    memcpy(a->buf + a->len, &v, 4);
    a->len += 4;
}

void db_array_init(db_array *a, uint32_t elem_oid)
{
    memset(a, 0, sizeof *a);
    a->elem_oid = elem_oid;
    db_array_reserve(a, DB_ARRAY_HEADER);
    a->len = a->failed ? 0 : DB_ARRAY_HEADER;
}

void db_array_add(db_array *a, const void *p, size_t len)
{
    if (!p) {
        db_array_put32(a, UINT32_MAX); /* -1 */
        a->has_null = 1;
    } else if (len > INT32_MAX) {
        a->failed = 1;
    } else {
        db_array_put32(a, (uint32_t)len);
        db_array_reserve(a, len);
        if (a->failed)
            return;
        memcpy(a->buf + a->len, p, len);
        a->len += len;
    }
    a->n++;
}

void db_array_add_text(db_array *a, const char *s)
{
    db_array_add(a, s, s ? strlen(s) : 0);
}

void db_array_add_int4(db_array *a, int32_t v)
{
    uint32_t be = htonl((uint32_t)v);
    db_array_add(a, &be, 4);
}

void db_array_add_bool(db_array *a, int v)
{
    unsigned char b = v ? 1 : 0;
    db_array_add(a, &b, 1);
}

static int db_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void db_array_add_uuid(db_array *a, const char *s)
{
    unsigned char u[16];
    size_t k = 0;
    for (size_t i = 0; s && i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                break;
            continue;
        }
        int hi = db_hex(s[i]), lo = hi < 0 ? -1 : db_hex(s[i + 1]);
        if (lo < 0)
            break;
        u[k++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    if (!s || k != 16 || s[36] != '\0') {
        a->failed = 1;
        return;
    }
    db_array_add(a, u, 16);
}

int db_array_finish(db_array *a)
{
    if (a->failed || a->len < DB_ARRAY_HEADER)
        return -1;
    uint32_t h[5] = {htonl(1), htonl(a->has_null ? 1 : 0), htonl(a->elem_oid),
                     htonl((uint32_t)a->n), htonl(1)};
    memcpy(a->buf, h, sizeof h);
    return 0;
}

void db_array_free(db_array *a)
{
    free(a->buf);
    memset(a, 0, sizeof *a);
}
