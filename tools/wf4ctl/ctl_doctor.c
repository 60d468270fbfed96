/* wf4ctl doctor: the incident reports' detection queries, and their recovery on --fix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ops.h"
#include "log.h"

#define DOCTOR_FIX_BATCH 5000
#define DOCTOR_CONN_WARN_PCT 80

typedef struct doctor_opts {
    long idle_s;      /* idle in transaction longer than this is a finding */
    long long_tx_s;   /* a transaction open longer than this is a finding */
    long lock_wait_s; /* a lock wait longer than this is a finding */
    long stall_s;     /* no claim or no completion for this long while work waits */
    int fix;
} doctor_opts;

/* Sessions idle in a transaction (AP-20250731-003's primary detection query), oldest first. */
static const char doctor_idle_sql[] =
    "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''),"
    " round(extract(epoch FROM now() - state_change)::numeric, 1),"
    " round(extract(epoch FROM now() - xact_start)::numeric, 1),"
    " left(regexp_replace(coalesce(query, ''), '\\s+', ' ', 'g'), 200),"
    " coalesce(application_name LIKE 'wf4-%', false)"
    " FROM pg_stat_activity"
    " WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')"
    "  AND datname = current_database() AND pid <> pg_backend_pid()"
    "  AND now() - state_change > make_interval(secs => $1::float8)"
    " ORDER BY state_change";

/* Re-checks the conditions at the moment of the kill: only this pipeline's own backends, and
 * only while they are still idle in a transaction. Waits up to 5 s for the backend to exit. */
static const char doctor_terminate_sql[] =
    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
    " WHERE pid = $1::int AND application_name LIKE 'wf4-%'"
    "  AND state IN ('idle in transaction', 'idle in transaction (aborted)')"
    "  AND datname = current_database()";

static const char doctor_long_tx_sql[] =
    "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), coalesce(state, ''),"
    " round(extract(epoch FROM now() - xact_start)::numeric, 1),"
    " left(regexp_replace(coalesce(query, ''), '\\s+', ' ', 'g'), 200)"
    " FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    "  AND backend_type = 'client backend' AND xact_start IS NOT NULL"
    "  AND state NOT LIKE 'idle in transaction%'"
    "  AND now() - xact_start > make_interval(secs => $1::float8)"
    " ORDER BY xact_start";

static const char doctor_locks_sql[] =
    "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''),"
    " round(extract(epoch FROM now() - query_start)::numeric, 1),"
    " pg_blocking_pids(pid)::text,"
    " left(regexp_replace(coalesce(query, ''), '\\s+', ' ', 'g'), 200)"
    " FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    "  AND now() - query_start > make_interval(secs => $1::float8)"
    " ORDER BY query_start";

static const char doctor_conns_sql[] =
    "SELECT count(*), current_setting('max_connections')::int,"
    " current_setting('superuser_reserved_connections')::int,"
    " count(*) FILTER (WHERE application_name LIKE 'wf4-%'),"
    " count(*) FILTER (WHERE state LIKE 'idle in transaction%')"
    " FROM pg_stat_activity WHERE backend_type = 'client backend'";

static const char doctor_stuck_sql[] =
    "SELECT domain, coalesce(claim_id::text, ''), attempts,"
    " round(extract(epoch FROM now() - lease_expires_at)::numeric, 1),"
    " count(*) OVER ()"
    " FROM domains WHERE status = 'processing' AND lease_expires_at < now()"
    " ORDER BY lease_expires_at LIMIT 10";

/* Expired claims back to pending, a batch at a time; rows a claimer holds are skipped. */
static const char doctor_release_sql[] =
    "WITH picked AS ("
    "  SELECT id FROM domains WHERE status = 'processing' AND lease_expires_at < now()"
    "  ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " UPDATE domains d SET status = 'pending', next_attempt_at = now(),"
    "  lease_expires_at = NULL, updated_at = now()"
    " FROM picked WHERE d.id = picked.id";

/* Progress of each stage while work waits: the newest claim against domains due for longer
 * than the stall (the
 * claimer), the newest completion against the oldest claim still processing (the scraper
 * and the committer: only the committer writes completions). */
static const char doctor_progress_sql[] =
    "SELECT count(*) FILTER (WHERE status = 'pending'"
    "  AND next_attempt_at <= now() - make_interval(secs => $1::float8)),"
    " count(*) FILTER (WHERE status = 'processing'),"
    " coalesce(round(extract(epoch FROM now() - max(claimed_at))::numeric, 1), -1),"
    " coalesce(round(extract(epoch FROM now() - max(updated_at) FILTER (WHERE status IN"
    "  ('completed', 'error')))::numeric, 1), -1),"
    " coalesce(round(extract(epoch FROM now() - min(claimed_at) FILTER (WHERE status ="
    "  'processing'))::numeric, 1), -1)"
    " FROM domains";

static void doctor_verdict(int bad, const char *what, const char *detail)
{
    printf("[%s] %s: %s\n", bad ? "FAIL" : " OK ", what, detail);
}

static void doctor_todo(const char *text)
{
    printf("       what to do: %s\n", text);
}

static PGresult *doctor_query(db *d, const char *sql, long secs)
{
    char arg[24];
    snprintf(arg, sizeof arg, "%ld", secs);
    const char *p[] = {arg};
    PGresult *r = db_query(d, sql, secs >= 0 ? 1 : 0, secs >= 0 ? p : NULL);
    if (!r)
        printf("[ERR ] query failed: %s\n", db_last_sqlstate(d));
    return r;
}

/* Terminates one of this pipeline's backends; returns 1 terminated, 0 no longer idle,
 * -1 failed (printed). */
static int doctor_terminate(db *d, const char *pid)
{
    const char *p[] = {pid};
    PGresult *r = db_query(d, doctor_terminate_sql, 1, p);
    if (!r) {
        printf("       FAILED to terminate pid %s (SQLSTATE %s; doctor --fix needs "
               "WF4_ADMIN_DATABASE_URL or the backend's own role)\n",
               pid, db_last_sqlstate(d));
        return -1;
    }
    int rc = PQntuples(r) == 0 ? 0 : strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 1 : -1;
    PQclear(r);
    if (rc == 1)
        printf("       fixed: terminated pid %s\n", pid);
    else if (rc == 0)
        printf("       pid %s is no longer idle in a transaction: left alone\n", pid);
    else
        printf("       FAILED to terminate pid %s (still running after 5 s?)\n", pid);
    return rc;
}

/* One idle session: printed, and terminated on --fix when it is the pipeline's own.
 * Returns 1 when it is still a problem afterwards, 0 otherwise. */
static int doctor_idle_row(db *d, const PGresult *r, int i, const doctor_opts *o)
{
    int own = strcmp(PQgetvalue(r, i, 6), "t") == 0;
    printf("       pid %s app \"%s\" user %s: idle %s s, transaction open %s s; last query: %s\n",
           PQgetvalue(r, i, 0), PQgetvalue(r, i, 2), PQgetvalue(r, i, 1), PQgetvalue(r, i, 3),
           PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    if (!o->fix)
        return 1;
    if (!own) {
        printf("       left alone: pid %s is not this pipeline's (application_name not wf4-*)\n",
               PQgetvalue(r, i, 0));
        return 1;
    }
    return doctor_terminate(d, PQgetvalue(r, i, 0)) < 0;
}

static int doctor_idle(db *d, const doctor_opts *o)
{
    char detail[128];
    PGresult *r = doctor_query(d, doctor_idle_sql, o->idle_s);
    if (!r)
        return 1;
    int n = PQntuples(r), left = 0;
    snprintf(detail, sizeof detail, "%d connection(s) idle in transaction for more than %ld s", n,
             o->idle_s);
    doctor_verdict(n > 0, "idle in transaction", n ? detail : "none");
    for (int i = 0; i < n; i++)
        left += doctor_idle_row(d, r, i, o);
    if (n > 0 && !o->fix)
        doctor_todo("they hold locks and block UPDATEs on domains (AP-20250731-003). Find the "
                    "code path that left the transaction open (a manual commit inside a managed "
                    "transaction, a slow call inside one); 'wf4ctl doctor --fix' terminates the "
                    "wf4-* ones, others: SELECT pg_terminate_backend(PID) once their owner agrees");
    else if (left > 0)
        doctor_todo("the connections left are another application's: ask its owner, or "
                    "SELECT pg_terminate_backend(PID)");
    PQclear(r);
    return left;
}

static int doctor_long_tx(db *d, const doctor_opts *o)
{
    char detail[128];
    PGresult *r = doctor_query(d, doctor_long_tx_sql, o->long_tx_s);
    if (!r)
        return 1;
    int n = PQntuples(r);
    snprintf(detail, sizeof detail, "%d transaction(s) open for more than %ld s", n, o->long_tx_s);
    doctor_verdict(n > 0, "long-running transactions", n ? detail : "none");
    for (int i = 0; i < n; i++)
        printf("       pid %s app \"%s\" user %s (%s): transaction open %s s: %s\n",
               PQgetvalue(r, i, 0), PQgetvalue(r, i, 2), PQgetvalue(r, i, 1), PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    if (n > 0)
        doctor_todo("a long transaction holds its locks and its snapshot (bloat); the "
                    "pipeline's own keep under their budgets, so look for a report, a migration "
                    "or a session holding a connection across slow work (AP-20250730-002); "
                    "SELECT pg_cancel_backend(PID) stops its current query");
    PQclear(r);
    return n;
}

static int doctor_locks(db *d, const doctor_opts *o)
{
    char detail[128];
    PGresult *r = doctor_query(d, doctor_locks_sql, o->lock_wait_s);
    if (!r)
        return 1;
    int n = PQntuples(r);
    snprintf(detail, sizeof detail, "%d session(s) waiting for a lock for more than %ld s", n,
             o->lock_wait_s);
    doctor_verdict(n > 0, "blocked lock waits", n ? detail : "none");
    for (int i = 0; i < n; i++)
        printf("       pid %s app \"%s\" user %s: waiting %s s, blocked by pids %s: %s\n",
               PQgetvalue(r, i, 0), PQgetvalue(r, i, 2), PQgetvalue(r, i, 1), PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    if (n > 0)
        doctor_todo("look up the blocking pids above (usually idle in transaction or a long "
                    "transaction) and deal with them first");
    PQclear(r);
    return n;
}

static int doctor_connections(db *d)
{
    char detail[256];
    PGresult *r = doctor_query(d, doctor_conns_sql, -1);
    if (!r)
        return 1;
    long used = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    long max = strtol(PQgetvalue(r, 0, 1), NULL, 10);
    long reserved = strtol(PQgetvalue(r, 0, 2), NULL, 10);
    long avail = max - reserved > 0 ? max - reserved : 1;
    int bad = used * 100 >= avail * DOCTOR_CONN_WARN_PCT;
    snprintf(detail, sizeof detail,
             "%ld of %ld client connections in use (%ld%%; max_connections %ld, %ld reserved); "
             "%s of this pipeline, %s idle in transaction",
             used, avail, used * 100 / avail, max, reserved, PQgetvalue(r, 0, 3),
             PQgetvalue(r, 0, 4));
    doctor_verdict(bad, "connection use", detail);
    if (bad)
        doctor_todo("connections are nearly exhausted: check idle in transaction above, the "
                    "services' pool sizes, and put PgBouncer in front when many clients share "
                    "the server");
    PQclear(r);
    return bad;
}

typedef struct doctor_release {
    long batch;
    long released; /* output of one attempt, reset on retry */
} doctor_release;

static int doctor_release_tx(db_tx *tx, void *arg)
{
    doctor_release *a = arg;
    char batch[24];
    a->released = 0;
    snprintf(batch, sizeof batch, "%ld", a->batch);
    const char *p[] = {batch};
    PGresult *r = db_exec(tx, doctor_release_sql, 1, p);
    if (!r)
        return -1;
    a->released = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (a->released == 0)
        return 0;
    /* Wake the claimers now rather than at their fallback timer (sent at commit). */
    r = db_exec(tx, "SELECT pg_notify('wf4_domains_pending', '')", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* Returns the number of expired claims released, or -1 when a transaction failed. */
static long doctor_release_expired(db *d)
{
    doctor_release a = {DOCTOR_FIX_BATCH, 0};
    long total = 0;
    do {
        if (db_transaction(d, "doctor_release_expired", 10000, doctor_release_tx, &a) != 0)
            return -1;
        total += a.released;
    } while (a.released == a.batch);
    return total;
}

static int doctor_stuck(db *d, const doctor_opts *o)
{
    char detail[128];
    PGresult *r = doctor_query(d, doctor_stuck_sql, -1);
    if (!r)
        return 1;
    long n = PQntuples(r) ? strtol(PQgetvalue(r, 0, 4), NULL, 10) : 0;
    snprintf(detail, sizeof detail, "%ld domain(s) in processing past their lease", n);
    doctor_verdict(n > 0, "domains stuck in processing", n ? detail : "none past their lease");
    for (int i = 0; i < PQntuples(r); i++)
        printf("       %s claim %s attempts %s: lease expired %s s ago\n", PQgetvalue(r, i, 0),
               PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    if (n > PQntuples(r))
        printf("       ... and %ld more\n", n - PQntuples(r));
    PQclear(r);
    if (n == 0)
        return 0;
    if (!o->fix) {
        doctor_todo("a running claimer re-claims them by itself; if none is running, start "
                    "one or run 'wf4ctl doctor --fix' to put them back to pending now");
        return 1;
    }
    long released = doctor_release_expired(d);
    if (released < 0) {
        printf("       FAILED to release the expired claims (see the log)\n");
        return 1;
    }
    printf("       fixed: %ld expired claim(s) back to pending (due now)\n", released);
    log_info("doctor --fix: %ld expired claims back to pending", released);
    return 0; /* any not released were locked: a claimer is re-claiming them right now */
}

static int doctor_stalled(double since, long stall_s)
{
    return since < 0 || since > (double)stall_s;
}

static int doctor_progress(db *d, const doctor_opts *o)
{
    char detail[256];
    PGresult *r = doctor_query(d, doctor_progress_sql, o->stall_s);
    if (!r)
        return 1;
    long due = atol(PQgetvalue(r, 0, 0)), proc = atol(PQgetvalue(r, 0, 1));
    double claim = atof(PQgetvalue(r, 0, 2)), done = atof(PQgetvalue(r, 0, 3)),
           oldest = atof(PQgetvalue(r, 0, 4));
    PQclear(r);
    int claimer = due > 0 && doctor_stalled(claim, o->stall_s);
    int committer = proc > 0 && oldest > (double)o->stall_s && doctor_stalled(done, o->stall_s);
    snprintf(detail, sizeof detail,
             "no claim for %.0f s while %ld domain(s) wait, due for over "
             "%ld s",
             claim, due, o->stall_s);
    doctor_verdict(claimer, "claimer progress", claimer ? detail : "claiming, or nothing due");
    if (claimer)
        doctor_todo("the claimer makes no progress: check its /readyz, its log and "
                    "wf4_dependency_up / wf4_db_deadline_exceeded_total (database or Kafka "
                    "unreachable?); restart it if it hangs");
    snprintf(detail, sizeof detail,
             "no domain completed for %.0f s while %ld are processing (oldest claim %.0f s)", done,
             proc, oldest);
    doctor_verdict(committer, "committer progress",
                   committer ? detail : "completing, or nothing processing");
    if (committer)
        doctor_todo("the committer (or the scrapers feeding it) makes no progress: check the "
                    "committer's /readyz and log, then the scrapers' and the results topic's "
                    "lag ('wf4ctl status')");
    return claimer + committer;
}

static int doctor_usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "Usage: wf4ctl doctor [--idle-threshold S] [--long-tx S] [--lock-wait S]\n"
            "                     [--stall S] [--fix]\n"
            "Runs the incident reports' detection queries against the current database:\n"
            "connections idle in transaction, domains stuck in processing past their lease,\n"
            "connection use against max_connections, long-running transactions and blocked\n"
            "lock waits. Each finding is printed with what to do.\n"
            "  --idle-threshold S  idle in transaction longer than S s (default\n"
            "                      WF4_IDLE_THRESHOLD_S)\n"
            "  --long-tx S         transactions open longer than S s (default 300)\n"
            "  --lock-wait S       lock waits longer than S s (default 5)\n"
            "  --stall S           a stage without progress for S s while work waits: no\n"
            "                      claim while domains are due (the claimer), no completion\n"
            "                      while domains process (the committer) (default 60)\n"
            "  --fix               carry out the recovery: expired claims back to pending (in\n"
            "                      one transaction per batch), and this pipeline's own backends\n"
            "                      (application_name wf4-*) idle in transaction past the\n"
            "                      threshold terminated; other applications' are only reported\n"
            "Use WF4_ADMIN_DATABASE_URL: other roles' sessions are hidden from the app role.\n"
            "Exit status: 0 healthy, 1 unhealthy (with --fix: something is left after the\n"
            "fixes), 2 usage or connection error.\n");
    return rc;
}

/* Options taking a number of seconds: name and where the value goes. */
static long *doctor_secs_opt(const char *a, doctor_opts *o)
{
    if (strcmp(a, "--idle-threshold") == 0)
        return &o->idle_s;
    if (strcmp(a, "--long-tx") == 0)
        return &o->long_tx_s;
    if (strcmp(a, "--lock-wait") == 0)
        return &o->lock_wait_s;
    if (strcmp(a, "--stall") == 0)
        return &o->stall_s;
    return NULL;
}

/* Returns 0 to run, -1 after --help, 2 on a usage error (printed). */
static int doctor_parse(int argc, char **argv, doctor_opts *o)
{
    for (int i = 1; i < argc; i++) {
        long *secs = doctor_secs_opt(argv[i], o);
        if (secs) {
            if (ctl_parse_long(argv[i], i + 1 < argc ? argv[i + 1] : NULL, 0, 7 * 86400, secs) != 0)
                return 2;
            i++;
        } else if (strcmp(argv[i], "--fix") == 0) {
            o->fix = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            doctor_usage(0);
            return -1;
        } else {
            return doctor_usage(2);
        }
    }
    return 0;
}

int ctl_doctor(const ctl_settings *s, int argc, char **argv)
{
    doctor_opts o = {s->idle_threshold_s, 300, 5, 60, 0};
    int rc = doctor_parse(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    db *d = ctl_db_open(s, o.fix ? "wf4ctl-doctor-fix" : "wf4ctl-doctor");
    if (!d)
        return 2;
    int bad = 0;
    bad += doctor_idle(d, &o);
    bad += doctor_stuck(d, &o);
    bad += doctor_connections(d);
    bad += doctor_long_tx(d, &o);
    bad += doctor_locks(d, &o);
    bad += doctor_progress(d, &o);
    db_close(d);
    printf("%s\n", bad ? "UNHEALTHY" : "HEALTHY");
    return bad ? 1 : 0;
}
