/* ScraperAPI stand-in: settings, counters and the modules' internal interfaces. */
#ifndef WF4_STANDIN_H
#define WF4_STANDIN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct standin_config {
    long port;
    char *api_key;
    long concurrency;
    long latency_min_ms, latency_max_ms;
    double rate_500, rate_hang, rate_reset, rate_slow, rate_huge, rate_nonhtml, rate_404,
        rate_malformed;
    long hang_ms;
    long huge_bytes;
    long slow_bps;
    long seed; /* -1: from the clock */
    char *corpus_dir;
    long request_limit;
    int log_requests;
    long max_connections;
    char *log_level;
} standin_config;

/* Counters shown by /account and /stats; all updated atomically from connection threads. */
typedef struct standin_stats {
    atomic_long requests;      /* scrape requests received (GET /) */
    atomic_long in_flight;     /* scrape requests holding a concurrency slot */
    atomic_long max_in_flight; /* highest in_flight seen since start or /stats/reset */
    atomic_long request_count; /* credits used: 200 and 404 responses */
    atomic_long failed;        /* 500s (hangs included) and resets */
    atomic_long s200, s400, s401, s403, s404, s429, s500;
    atomic_long hangs, resets, slow, huge, nonhtml, malformed, corpus, abandoned;
} standin_stats;

/* Growable byte buffer; `failed` is set (and sticks) when an allocation fails. */
typedef struct standin_buf {
    char *data;
    size_t len, cap;
    int failed;
} standin_buf;

void buf_append(standin_buf *b, const void *p, size_t n);
void buf_puts(standin_buf *b, const char *s);
void buf_printf(standin_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* splitmix64: one step of a deterministic stream; also used as a hash finisher. */
uint64_t standin_mix(uint64_t x);
/* FNV-1a 64 of a string, mixed. */
uint64_t standin_hash(const char *s);

/* page.c: bodies. Each fills `out` (appending) and returns 0, or -1 when out of memory.
 * Content types are static strings. */
int page_home(const char *host, standin_buf *out, const char **ctype);
int page_malformed(const char *host, uint64_t rnd, standin_buf *out);
int page_nonhtml(const char *host, uint64_t rnd, standin_buf *out, const char **ctype);
int page_not_found(const char *host, standin_buf *out);
/* The huge page, produced in pieces: copies bytes [pos, pos+max) of a `total`-byte body
 * into buf and returns how many (0 at the end). */
size_t page_huge_read(const char *host, uint64_t pos, char *buf, size_t max, uint64_t total);

/* server.c */
int standin_server_start(const standin_config *cfg, standin_stats *stats);
void standin_server_stop(void);

#endif
