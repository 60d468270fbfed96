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
    char *walls; /* STANDIN_WALLS: PATTERN=KIND:TIER,... */
} standin_config;

/* Counters shown by /account and /stats; all updated atomically from connection threads. */
typedef struct standin_stats {
    atomic_long requests;      /* scrape requests received (GET /) */
    atomic_long in_flight;     /* scrape requests holding a concurrency slot */
    atomic_long max_in_flight; /* highest in_flight seen since start or /stats/reset */
    atomic_long request_count; /* credits used: charged on 200 and 404 responses */
    atomic_long request_limit; /* credits in the account (STANDIN_REQUEST_LIMIT, /control) */
    atomic_long reserved;      /* credits held by requests in flight, charged or released */
    atomic_long failed;        /* 500s (hangs included) and resets */
    atomic_long s200, s400, s401, s403, s404, s429, s500;
    atomic_long hangs, resets, slow, huge, nonhtml, malformed, corpus, abandoned;
    atomic_long exhausted, over_cost, walls; /* 403 out of credits, 403 max_cost, bot walls */
    atomic_long by_tier[4];                  /* requests served, by tier (plain..ultra) */
} standin_stats;

/* tier.c: ScraperAPI's price list, and sites that only answer at a given tier. */
typedef enum { WALL_NONE, WALL_CLOUDFLARE, WALL_CAPTCHA, WALL_FORBIDDEN, WALL_EMPTY } standin_wall;

typedef struct standin_tier {
    int render, premium, ultra;
    long max_cost; /* -1: not given */
} standin_tier;

/* Reads the request's render/premium/ultra_premium ("true"/"false") and max_cost (NULL:
 * absent). Returns 0, or -1 when one is not a valid value. */
int tier_parse(const char *render, const char *premium, const char *ultra, const char *max_cost,
               standin_tier *t);
long tier_cost(const standin_tier *t);  /* credits: 1, render 10, premium 10 (25), ultra 30 (75) */
int tier_level(const standin_tier *t);  /* 0 plain, 1 render, 2 premium, 3 ultra_premium */
const char *tier_level_name(int level); /* 4: "never" */
const char *tier_wall_name(standin_wall w);
/* Parses STANDIN_WALLS. Returns 0, or -1 with err. */
int tier_walls_init(const char *spec, char *err, size_t errlen);
/* The wall `host` shows to requests below level *need (4: every level), or WALL_NONE. */
standin_wall tier_wall_for(const char *host, int *need);

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
/* A bot wall's answer: its status (200, or 403 for WALL_FORBIDDEN) and body. */
int page_wall(standin_wall wall, const char *host, standin_buf *out, const char **ctype,
              unsigned *status);
/* The huge page, produced in pieces: copies bytes [pos, pos+max) of a `total`-byte body
 * into buf and returns how many (0 at the end). */
size_t page_huge_read(const char *host, uint64_t pos, char *buf, size_t max, uint64_t total);

/* server.c */
int standin_server_start(const standin_config *cfg, standin_stats *stats);
void standin_server_stop(void);

#endif
