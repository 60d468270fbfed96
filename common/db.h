/* PostgreSQL access: the ONLY module that issues BEGIN, COMMIT or ROLLBACK. */
#ifndef WF4_DB_H
#define WF4_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db db;       /* one connection, with reconnect */
typedef struct db_tx db_tx; /* a transaction in progress; opaque so callbacks cannot commit */

typedef struct db_settings {
    const char *url;           /* libpq URL or conninfo */
    const char *app_name;      /* application_name, e.g. "wf4-claimer/host-123" */
    int statement_timeout_ms;  /* SET LOCAL in every transaction */
    int lock_timeout_ms;       /* SET LOCAL in every transaction */
    int idle_in_tx_timeout_ms; /* SET LOCAL idle_in_transaction_session_timeout */
    int connect_timeout_s;     /* deadline of a connection attempt (0: 5) */
    int deadline_margin_ms;    /* a round trip unanswered for statement timeout + this is
                                  cancelled and its connection dropped (0: 2000) */
    int keepalive_s;           /* keepalives_idle and _interval (count 3) (0: 5) */
    int tcp_user_timeout_ms;   /* tcp_user_timeout (0: 15000) */
} db_settings;

/* Connects (one attempt). Returns NULL with err (no password in it) on failure. Strings in
 * s are copied. */
db *db_connect(const db_settings *s, char *err, size_t errlen);
void db_close(db *d);
/* 1 when the connection is up (for /readyz). */
int db_ok(const db *d);

/* How long the last committed transaction of d took, from BEGIN to the end of COMMIT (the
 * attempt that committed), in ms. */
long db_last_tx_ms(const db *d);

/* Batch sizing for short transactions: the last one did n rows in took_ms; returns the rows
 * that fit in target_ms at that pace, at most 1.5 times current, between min(10, max) and max.
 * Below 10 rows the pace says little: current is kept. */
long db_batch_fit(long current, long max, long target_ms, size_t n, long took_ms);

/* A unit of work. Runs inside a transaction; returns 0 to commit, -1 to roll back.
 * It may be called more than once (the whole transaction is retried after a lost
 * connection, a serialization failure or a deadlock), so it must reset its outputs. */
typedef int (*db_tx_fn)(db_tx *tx, void *arg);

/* Begins, runs fn, commits if fn returned 0, rolls back otherwise. A transaction that takes
 * longer than budget_ms logs a warning with its duration and is counted in the metrics.
 * Every round trip has a deadline (statement timeout + margin): past it the statement is
 * cancelled and the connection dropped (wf4_db_deadline_exceeded_total). A lost connection
 * is re-established with backoff and the whole transaction retried (up to a few attempts).
 * A COMMIT whose answer was lost is resolved by asking the server (pg_xact_status): when it
 * committed, this returns 0 and fn's outputs from that attempt stand; otherwise the whole
 * transaction is retried. Returns 0 when committed, -1 when rolled back or failed (logged). */
int db_transaction(db *d, const char *name, int budget_ms, db_tx_fn fn, void *arg)
    __attribute__((warn_unused_result));

/* Runs one parameterized, unnamed statement (PQexecParams, text parameters, NULL = SQL
 * NULL) inside tx. Transaction control statements are refused. Returns the result (caller
 * PQclears) when its status is PGRES_COMMAND_OK or PGRES_TUPLES_OK; otherwise logs the
 * server's message, marks the transaction failed and returns NULL. */
PGresult *db_exec(db_tx *tx, const char *sql, int nparams, const char *const *values)
    __attribute__((warn_unused_result));

/* db_exec with binary parameters: lengths[i] and formats[i] as in PQexecParams (formats[i]
 * 1: values[i] is lengths[i] bytes in the type's binary format, e.g. a db_array; 0: text).
 * lengths and formats may be NULL (all text). Same contract as db_exec. */
PGresult *db_exec_params(db_tx *tx, const char *sql, int nparams, const char *const *values,
                         const int *lengths, const int *formats)
    __attribute__((warn_unused_result));

/* A PostgreSQL array literal ("{\"a\",\"b\"}") of n strings, each quoted with '"' and '\'
 * escaped, for a text[] parameter. Returns a malloc'd string the caller frees, or NULL when
 * out of memory. */
char *db_text_array(char *const *items, size_t n);

/* A one-dimensional array parameter in PostgreSQL's binary array format (what array_send
 * writes), so that a batch travels as one array per column and the server parses no text:
 * pass buf/len with format 1 to a statement that casts it, e.g. unnest($1::uuid[]). */
typedef struct db_array {
    char *buf;
    size_t len, cap;
    int32_t n;
    uint32_t elem_oid;
    int has_null, failed; /* failed: out of memory, or a value not of the element type */
} db_array;

enum { DB_OID_BOOL = 16, DB_OID_INT4 = 23, DB_OID_TEXT = 25, DB_OID_UUID = 2950 };

void db_array_init(db_array *a, uint32_t elem_oid);
/* Appends len bytes of the element's binary form; p NULL appends SQL NULL. */
void db_array_add(db_array *a, const void *p, size_t len);
void db_array_add_text(db_array *a, const char *s); /* NULL: SQL NULL */
void db_array_add_int4(db_array *a, int32_t v);
void db_array_add_bool(db_array *a, int v);
/* s in the canonical 8-4-4-4-12 hex form (either case); anything else fails the array. */
void db_array_add_uuid(db_array *a, const char *s);
/* Writes the header; returns 0, or -1 when an add failed (the array is then unusable). */
int db_array_finish(db_array *a);
void db_array_free(db_array *a);

/* Runs a trusted multi-statement script shipped with the code (a migration) inside tx,
 * through the simple protocol. Never for data. Returns 0 or -1 (logged, tx failed). */
int db_exec_script(db_tx *tx, const char *script) __attribute__((warn_unused_result));

/* Runs one statement outside any transaction (autocommit): LISTEN, read-only reports,
 * admin commands. Same contract as db_exec; reconnects once if the connection was lost. */
PGresult *db_query(db *d, const char *sql, int nparams, const char *const *values)
    __attribute__((warn_unused_result));

/* LISTEN on channel (re-issued after a reconnect). Returns 0 or -1. */
int db_listen(db *d, const char *channel);
/* Waits up to timeout_ms for a notification; drains all pending ones. A connection silent
 * for 5 s is probed by a round trip under the deadline; a lost one is reconnected (and
 * LISTEN re-issued) at most every 5 s, the rest of the wait slept, so the caller's timer
 * goes on. Returns the number received (0 on timeout), or -1 while the connection is down. */
int db_wait_notify(db *d, int timeout_ms);

/* Applies the .sql files of dir in name order, each once, recorded in schema_migrations, each in
 * its own transaction. Returns the number applied, or -1 with err. */
int db_migrate(db *d, const char *dir, char *err, size_t errlen);

/* SQLSTATE of the last failed statement on this connection ("" when none). */
const char *db_last_sqlstate(const db *d);

#endif
