/* Retry policy for ScraperAPI calls: what an answer means, how long to wait, how fast to go. */
#include "retry.h"

#include <stdio.h>
#include <string.h>

#include "tier.h"

/* Transport errors that no retry can fix: the request itself is wrong. */
static int retry_curl_final(CURLcode cc)
{
    return cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ||
           cc == CURLE_TOO_MANY_REDIRECTS || cc == CURLE_OUT_OF_MEMORY ||
           cc == CURLE_BAD_FUNCTION_ARGUMENT;
}

/* ScraperAPI answers 403 for an exhausted account, a call over max_cost and (passed
 * through) a target that forbids the request; anything else is taken as a refused key. */
static retry_verdict retry_classify_403(const char *body, char *reason, size_t reasonlen)
{
    body = body ? body : "";
    if (strcasestr(body, "exhausted") && strcasestr(body, "credits")) {
        snprintf(reason, reasonlen, "ScraperAPI credits exhausted (403)");
        return RETRY_CREDITS;
    }
    if (strstr(body, "max_cost")) {
        snprintf(reason, reasonlen,
                 "ScraperAPI refused the call: it would cost more than "
                 "max_cost (403)");
        return RETRY_COST;
    }
    if (tier_blocked(403, body, strlen(body))) {
        snprintf(reason, reasonlen, "the site refused the call (403)");
        return RETRY_BLOCKED;
    }
    snprintf(reason, reasonlen, "ScraperAPI refused the key (403)");
    return RETRY_AUTH;
}

retry_verdict retry_classify(CURLcode cc, long http_status, const char *body, char *reason,
                             size_t reasonlen)
{
    if (cc != CURLE_OK) {
        snprintf(reason, reasonlen, "%s", curl_easy_strerror(cc));
        return retry_curl_final(cc) ? RETRY_FINAL : RETRY_AGAIN;
    }
    if (http_status >= 200 && http_status < 300) {
        snprintf(reason, reasonlen, "ok (%ld)", http_status);
        return RETRY_SUCCESS;
    }
    if (http_status == 404) {
        snprintf(reason, reasonlen, "not found (404)");
        return RETRY_FINAL;
    }
    if (http_status == 429) {
        snprintf(reason, reasonlen, "too many requests (429)");
        return RETRY_THROTTLED;
    }
    if (http_status == 403)
        return retry_classify_403(body, reason, reasonlen);
    if (http_status == 401) {
        snprintf(reason, reasonlen, "ScraperAPI refused the key (401)");
        return RETRY_AUTH;
    }
    if (http_status >= 500 || http_status == 408) {
        snprintf(reason, reasonlen, "server error (%ld)", http_status);
        return RETRY_AGAIN;
    }
    snprintf(reason, reasonlen, "unexpected HTTP status %ld", http_status);
    return RETRY_FINAL;
}

long retry_backoff_ms(unsigned attempt, long base_ms, long cap_ms, uint64_t rnd)
{
    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    long ceiling = base_ms;
    for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++)
        ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    return (long)(rnd % ((uint64_t)ceiling + 1));
}

uint64_t retry_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void retry_limiter_init(retry_limiter *l, long max)
{
    l->max = max > 0 ? (double)max : 1.0;
    l->limit = l->max;
    l->last_cut_ms = -RETRY_CUT_INTERVAL_MS;
    l->pause_until_ms = 0;
}

void retry_limiter_throttled(retry_limiter *l, int64_t now_ms)
{
    /* One burst of 429s (all the calls started in the same window) counts as one signal. */
    if (now_ms - l->last_cut_ms < RETRY_CUT_INTERVAL_MS)
        return;
    l->last_cut_ms = now_ms;
    l->limit *= RETRY_CUT_FACTOR;
    if (l->limit < 1.0)
        l->limit = 1.0;
    l->pause_until_ms = now_ms + RETRY_PAUSE_MS;
}

void retry_limiter_ok(retry_limiter *l)
{
    l->limit += RETRY_STEP;
    if (l->limit > l->max)
        l->limit = l->max;
}

int retry_limiter_allow(const retry_limiter *l, size_t in_flight, int64_t now_ms)
{
    if (now_ms < l->pause_until_ms)
        return 0;
    return (double)in_flight < l->limit - 1e-9 || in_flight == 0;
}

long retry_limiter_limit(const retry_limiter *l)
{
    return (long)l->limit;
}

void retry_limiter_set_max(retry_limiter *l, long max)
{
    double m = max > 0 ? (double)max : 1.0;
    l->limit = l->limit * m / l->max;
    if (l->limit < 1.0)
        l->limit = 1.0;
    l->max = m;
}
