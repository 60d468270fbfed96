/* ScraperAPI client: many calls in flight on one curl multi handle, with retries. */
#ifndef WF4_SCRAPER_FETCH_H
#define WF4_SCRAPER_FETCH_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fetch fetch;

typedef struct fetch_config {
    const char *api_url; /* e.g. "https://api.scraperapi.com/" */
    const char *api_key;
    long concurrency; /* transfers in flight at most (also the connection pool size) */
    long timeout_ms;  /* CURLOPT_TIMEOUT_MS per attempt */
    long max_body;    /* bytes kept of a page; a larger page is truncated and parsed */
    long retry_base_ms, retry_cap_ms, max_retries;
    long max_cost;        /* sent as max_cost=N on every call */
    int max_tier;         /* a blocked page climbs the tiers up to this one (tier.h) */
    long account_poll_ms; /* /account is read this often while credits are exhausted, or a
                           * floor or a daily budget ceiling is in force */
    long credits_floor;   /* WF4_CREDITS_FLOOR: no call may take the account's credits below
                           * it (0: none); /account is then read every account_poll_ms */
} fetch_config;

typedef enum { FETCH_OK, FETCH_FAILED, FETCH_CANCELLED } fetch_status;

/* What a finished fetch hands to the done callback; every pointer is valid only during the
 * callback. */
typedef struct fetch_result {
    fetch_status status;
    int retryable;      /* FETCH_FAILED: 1 when retries ran out (try again later) */
    long http_status;   /* last HTTP status, 0 = no answer */
    const char *reason; /* FETCH_FAILED: why, never containing the API key */
    const char *body;   /* FETCH_OK: the page (NUL-terminated), body_len bytes */
    size_t body_len;
    int truncated;            /* FETCH_OK: the page was longer than max_body */
    const char *content_type; /* may be NULL */
    const char *page_url;     /* https://<domain>/ */
    int64_t api_ms;           /* time spent in all attempts */
    int attempts;
    long credits; /* credits charged for all attempts (200 and 404 answers) */
    int tier;     /* tier of the last attempt (tier.h) */
} fetch_result;

/* Called once per submitted fetch, from fetch_run or fetch_cancel_if. */
typedef void (*fetch_done_fn)(void *opaque, const fetch_result *r, void *arg);

/* Returns NULL with err. curl_global_init must have run. */
fetch *fetch_new(const fetch_config *cfg, fetch_done_fn done, void *arg, char *err, size_t errlen);
/* Cancels everything still pending (done is called with FETCH_CANCELLED), then frees. */
void fetch_free(fetch *f);

/* Queues a fetch of https://<ascii_domain>/, its first call at tier (tier.h; lowered to the
 * configured cap). Returns 0 or -1 (out of memory). */
int fetch_submit(fetch *f, const char *ascii_domain, int tier, void *opaque)
    __attribute__((warn_unused_result));

/* One pass: starts due transfers within the limits, waits up to timeout_ms in
 * curl_multi_poll, and completes finished transfers (retrying or calling done).
 * Returns 0, or -1 when the multi handle failed (logged). */
int fetch_run(fetch *f, int timeout_ms);

/* Cancels every pending fetch whose opaque matches (done gets FETCH_CANCELLED). */
size_t fetch_cancel_if(fetch *f, int (*match)(void *opaque, void *arg), void *arg);
/* Cancels, as fetch_cancel_if, only the matching fetches never started: they cost nothing,
 * so a claim handed back this way is replayed for free. */
size_t fetch_release_if(fetch *f, int (*match)(void *opaque, void *arg), void *arg);

size_t fetch_count(const fetch *f);     /* queued, backing off, in flight or parked */
size_t fetch_in_flight(const fetch *f); /* transfers running now */
long fetch_limit(const fetch *f);       /* current AIMD limit */
/* Calls in flight at most from now on (this scraper's share of the account; calls already
 * running finish). */
void fetch_set_max(fetch *f, long max);

/* Why calls are parked (not failed, their claims kept uncommitted) and none is started. */
typedef enum {
    FETCH_RUNNING,
    FETCH_PAUSED_KEY,     /* 401 or an unexplained 403: one parked call is retried a minute
                           * as a probe; all resume when it is accepted */
    FETCH_PAUSED_CREDITS, /* 403 "exhausted the API Credits": /account is read every
                           * account_poll_ms; all resume when it shows credits left */
    FETCH_PAUSED_BUDGET   /* the next call would take the account below credits_floor or
                           * past the daily budget's ceiling (or /account is unknown): calls
                           * running finish, none starts; all resume when /account shows
                           * room for the next call, or a newer ceiling (or a new UTC day)
                           * gives it */
} fetch_pause;

fetch_pause fetch_paused(const fetch *f);
/* Hands over a claim's daily budget ceiling (credits_ceiling, 0: none) and its end
 * (credits_ceiling_until, epoch ms). The newest claim's (by claimed_at_ms) applies to every
 * call from now on, a past day's is ignored, a claim without one clears it (credits.h). */
void fetch_set_ceiling(fetch *f, long ceiling, int64_t until_ms, int64_t claimed_at_ms);
/* 1 while calls are held by the daily budget's ceiling alone: a newer claim's ceiling may
 * lift it, so taking claims (without calling) is how the scraper learns of a raise. */
int fetch_awaits_ceiling(const fetch *f);
/* 1 while the key is refused (FETCH_PAUSED_KEY). */
int fetch_auth_blocked(const fetch *f);
/* 1 while calls are parked for any reason and none runs to its answer (a credit budget pause
 * lets the calls running finish): waiting for them is pointless. */
int fetch_parked(const fetch *f);
/* Credits charged since start (what the answers said, else the tier's list price). */
long fetch_credits_spent(const fetch *f);

#endif
