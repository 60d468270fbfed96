/* Retry policy for ScraperAPI calls: what an answer means, how long to wait, how fast to go. */
#ifndef WF4_SCRAPER_RETRY_H
#define WF4_SCRAPER_RETRY_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RETRY_SUCCESS,   /* 2xx: extract the page */
    RETRY_AGAIN,     /* 5xx, 408, timeout, network error: back off, uses the retry budget */
    RETRY_THROTTLED, /* 429: back off and slow down; does not use the retry budget */
    RETRY_FINAL,     /* 404, other 3xx/4xx, unusable request: final failure */
    RETRY_AUTH,      /* 401, or a 403 not explained below: the key is refused, stop calls */
    RETRY_CREDITS,   /* 403 "exhausted the API Credits": pause calls until credits are back */
    RETRY_COST,      /* 403 "would cost more than your max_cost": final for this claim */
    RETRY_BLOCKED    /* 403 with the target's HTML page: a bot wall, try the next tier */
} retry_verdict;

/* Classifies one attempt from its transport result, HTTP status (0 = no response) and
 * body (NUL-terminated, may be NULL): ScraperAPI says why it refused a call (403) only in
 * the body. Writes a short human reason (no URL) into reason. */
retry_verdict retry_classify(CURLcode cc, long http_status, const char *body, char *reason,
                             size_t reasonlen);

/* Exponential backoff with full jitter: a delay drawn uniformly from
 * [0, min(cap_ms, base_ms * 2^attempt)] using the random value rnd. attempt counts from 0. */
long retry_backoff_ms(unsigned attempt, long base_ms, long cap_ms, uint64_t rnd);

/* Next value of a splitmix64 generator (state advanced in place). */
uint64_t retry_random(uint64_t *state);

/* AIMD limit on transfers in flight: a 429 cuts the limit (at most once a second) and
 * pauses new starts for a moment; each answered call that is not a 429 raises it a bit. */
typedef struct retry_limiter {
    double limit, max;
    int64_t last_cut_ms;
    int64_t pause_until_ms;
} retry_limiter;

#define RETRY_CUT_FACTOR 0.75
#define RETRY_CUT_INTERVAL_MS 1000
#define RETRY_PAUSE_MS 200
#define RETRY_STEP 0.1

void retry_limiter_init(retry_limiter *l, long max);
void retry_limiter_throttled(retry_limiter *l, int64_t now_ms);
void retry_limiter_ok(retry_limiter *l);
/* 1 when one more transfer may start with in_flight already running. */
int retry_limiter_allow(const retry_limiter *l, size_t in_flight, int64_t now_ms);
long retry_limiter_limit(const retry_limiter *l);
/* A new maximum (at least 1): the limit keeps its fraction of the old maximum, so what AIMD
 * learnt from 429s carries over to the new share. */
void retry_limiter_set_max(retry_limiter *l, long max);

#endif
