/* ScraperAPI client: many calls in flight on one curl multi handle, with retries. */
#include "fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "api_url.h"
#include "credits.h"
#include "log.h"
#include "metrics.h"
#include "retry.h"
#include "service.h"
#include "tier.h"

#define FETCH_MAX_REDIRS 3
#define FETCH_CONNECT_TIMEOUT_MS 15000
#define FETCH_AUTH_PROBE_MS 60000
#define FETCH_MAX_THROTTLES 50 /* 429s per claim before it fails as retryable */
#define FETCH_ACCOUNT_TIMEOUT_MS 10000
#define FETCH_COST_HEADER "sa-credit-cost:"

typedef enum { XFER_WAITING, XFER_RUNNING, XFER_PARKED } xfer_state;

/* Whether the budget lets the next call start; else the first limit it fails, which names
 * the pause. */
typedef enum {
    FETCH_BUDGET_OK,
    FETCH_BUDGET_UNKNOWN, /* a floor or a ceiling is set and /account has not answered */
    FETCH_BUDGET_FLOOR,   /* WF4_CREDITS_FLOOR */
    FETCH_BUDGET_DAILY    /* the daily budget's ceiling, from the claims */
} fetch_budget_verdict;

/* One claim's fetch across its attempts; CURLOPT_PRIVATE of its easy handle. */
typedef struct fetch_xfer {
    struct fetch_xfer *prev, *next;
    fetch *f;
    void *opaque;
    char *page_url; /* https://<domain>/ */
    xfer_state state;
    CURL *easy; /* set while running */
    char errbuf[CURL_ERROR_SIZE];
    char *body;
    size_t len, cap;
    int truncated;
    int attempts, retries, throttles;
    int tier;         /* tier of the next or running attempt */
    long credits;     /* charged so far, all attempts */
    long reserved;    /* list price of the running attempt, held in f->reserved */
    long cost_header; /* this attempt's sa-credit-cost, -1 when the answer had none */
    int64_t due_ms, started_ms, api_ms;
    long last_status;
    char reason[256];
} fetch_xfer;

struct fetch {
    fetch_config cfg;
    char *api_url, *api_key;
    fetch_done_fn done;
    void *done_arg;
    CURLM *multi;
    fetch_xfer *head, *tail;
    size_t count, running;
    retry_limiter limiter;
    uint64_t rnd;
    fetch_pause pause;
    int64_t next_probe_ms, next_poll_ms;
    long credits_spent;
    long acct_left;     /* credits left at the last /account answer, -1: unknown */
    long acct_count;    /* requestCount at that answer, -1: unknown */
    long spent_at_poll; /* credits_spent when that read started (charges since count) */
    long spent_at_read;
    long reserved; /* list prices of the attempts running */

    credits_ceiling ceiling;             /* the daily budget's, from the newest claim */
    long paused_ceiling;                 /* the ceiling in force when the budget pause began */
    fetch_budget_verdict budget_verdict; /* why the budget pause holds */
    char max_cost_param[32];
    CURL *acct_easy; /* the /account read in flight (credits exhausted, a floor or a ceiling) */
    account_buf acct_body;
    char acct_errbuf[CURL_ERROR_SIZE];
    metric *m_api_seconds, *m_retries, *m_in_flight, *m_code_other, *m_escalations;
    metric *m_paused_key, *m_paused_credits, *m_paused_budget, *m_credits[3];
    metric *m_codes[600];
};

static int64_t fetch_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t fetch_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    fetch_xfer *x = userp;
    size_t n = size * nmemb, room = (size_t)x->f->cfg.max_body - x->len;
    if (n > room) {
        n = room;
        x->truncated = 1;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *b = realloc(x->body, cap);
        if (!b)
            return 0;
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    x->body[x->len] = '\0';
    /* Past the limit: keep what we have and stop the transfer (returning less than given
     * aborts it with CURLE_WRITE_ERROR, which fetch_finish turns back into success). */
    return x->truncated ? 0 : size * nmemb;
}

/* Reads ScraperAPI's cost header; every other header is ignored. */
static size_t fetch_header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    fetch_xfer *x = userp;
    size_t n = size * nmemb, hl = strlen(FETCH_COST_HEADER);
    if (n > hl && n < 64 && strncasecmp(data, FETCH_COST_HEADER, hl) == 0) {
        char v[64];
        memcpy(v, data + hl, n - hl);
        v[n - hl] = '\0';
        char *end;
        long cost = strtol(v, &end, 10);
        if (end != v && cost >= 0)
            x->cost_header = cost;
    }
    return n;
}

#define FETCH_SETOPT(h, opt, val)               \
    do {                                        \
        if (cc == CURLE_OK)                     \
            cc = curl_easy_setopt(h, opt, val); \
    } while (0)

/* Creates and configures the easy handle of one attempt. Returns 0 or -1 (logged). */
static int fetch_easy_setup(fetch_xfer *x, CURL *easy, const char *url)
{
    fetch *f = x->f;
    CURLcode cc = CURLE_OK;
    FETCH_SETOPT(easy, CURLOPT_URL, url);
    FETCH_SETOPT(easy, CURLOPT_PRIVATE, x);
    FETCH_SETOPT(easy, CURLOPT_ERRORBUFFER, x->errbuf);
    FETCH_SETOPT(easy, CURLOPT_WRITEFUNCTION, fetch_write_cb);
    FETCH_SETOPT(easy, CURLOPT_WRITEDATA, x);
    FETCH_SETOPT(easy, CURLOPT_HEADERFUNCTION, fetch_header_cb);
    FETCH_SETOPT(easy, CURLOPT_HEADERDATA, x);
    FETCH_SETOPT(easy, CURLOPT_TIMEOUT_MS, f->cfg.timeout_ms);
    FETCH_SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)FETCH_CONNECT_TIMEOUT_MS);
    FETCH_SETOPT(easy, CURLOPT_FOLLOWLOCATION, 1L);
    FETCH_SETOPT(easy, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
    FETCH_SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    FETCH_SETOPT(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    FETCH_SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
    FETCH_SETOPT(easy, CURLOPT_ACCEPT_ENCODING, "");
    FETCH_SETOPT(easy, CURLOPT_USERAGENT, "wf4-scraper/1");
    if (cc != CURLE_OK) {
        log_error("curl_easy_setopt: %s", curl_easy_strerror(cc));
        return -1;
    }
    return 0;
}

/* Starts one attempt of x. On failure x stays waiting and is retried later. */
static int fetch_start(fetch *f, fetch_xfer *x, int64_t now)
{
    CURL *easy = curl_easy_init();
    char *url = NULL;
    if (!easy) {
        log_error("curl_easy_init failed");
        goto fail;
    }
    char extra[96];
    snprintf(extra, sizeof extra, "%s%s", tier_params(x->tier), f->max_cost_param);
    url = api_url_build(easy, f->api_url, "", f->api_key, x->page_url, extra);
    if (!url || fetch_easy_setup(x, easy, url) != 0)
        goto fail;
    x->len = 0;
    x->truncated = 0;
    x->cost_header = -1;
    x->errbuf[0] = '\0';
    CURLMcode mc = curl_multi_add_handle(f->multi, easy);
    if (mc != CURLM_OK) {
        log_error("curl_multi_add_handle: %s", curl_multi_strerror(mc));
        goto fail;
    }
    free(url);
    x->easy = easy;
    x->state = XFER_RUNNING;
    x->started_ms = now;
    x->attempts++;
    x->reserved = tier_price(x->tier);
    f->reserved += x->reserved;
    f->running++;
    return 0;
fail:
    free(url);
    if (easy)
        curl_easy_cleanup(easy);
    x->due_ms = now + 1000;
    return -1;
}

static void fetch_unlink(fetch *f, fetch_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        f->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        f->tail = x->prev;
    f->count--;
}

/* Reports x to the owner and frees it. */
static void fetch_complete(fetch *f, fetch_xfer *x, fetch_status st, int retryable,
                           const char *content_type)
{
    fetch_result r = {
        .status = st,
        .retryable = retryable,
        .http_status = x->last_status,
        .reason = x->reason,
        .body = x->body ? x->body : "",
        .body_len = x->len,
        .truncated = x->truncated,
        .content_type = content_type,
        .page_url = x->page_url,
        .api_ms = x->api_ms,
        .attempts = x->attempts,
        .credits = x->credits,
        .tier = x->tier,
    };
    metrics_add(f->m_credits[st], (double)x->credits);
    fetch_unlink(f, x);
    f->done(x->opaque, &r, f->done_arg);
    free(x->body);
    free(x->page_url);
    free(x);
}

int fetch_submit(fetch *f, const char *ascii_domain, int tier, void *opaque)
{
    fetch_xfer *x = calloc(1, sizeof *x);
    size_t n = strlen(ascii_domain) + 16;
    if (!x || !(x->page_url = malloc(n))) {
        free(x);
        return -1;
    }
    snprintf(x->page_url, n, "https://%s/", ascii_domain);
    x->f = f;
    x->opaque = opaque;
    x->tier = tier < 0 ? TIER_PLAIN : tier > f->cfg.max_tier ? f->cfg.max_tier : tier;
    x->state = XFER_WAITING;
    x->prev = f->tail;
    if (f->tail)
        f->tail->next = x;
    else
        f->head = x;
    f->tail = x;
    f->count++;
    return 0;
}

static metric *fetch_code_metric(fetch *f, long code)
{
    if (code < 100 || code >= 600)
        return f->m_code_other;
    if (!f->m_codes[code]) {
        char name[96];
        snprintf(name, sizeof name, "wf4_scraper_api_responses_total{code=\"%ld\"}", code);
        f->m_codes[code] = metrics_counter(name, "ScraperAPI answers by HTTP status");
    }
    return f->m_codes[code];
}

/* Schedules another attempt after a backoff, or fails x when its budget is spent. */
static void fetch_retry(fetch *f, fetch_xfer *x, retry_verdict v, int64_t now)
{
    int *count = v == RETRY_THROTTLED ? &x->throttles : &x->retries;
    long budget = v == RETRY_THROTTLED ? FETCH_MAX_THROTTLES : f->cfg.max_retries;
    if (++*count > budget) {
        char why[sizeof x->reason + 64];
        snprintf(why, sizeof why, "gave up after %d attempts: %s", x->attempts, x->reason);
        size_t n = strlen(why) < sizeof x->reason ? strlen(why) : sizeof x->reason - 1;
        memcpy(x->reason, why, n);
        x->reason[n] = '\0';
        fetch_complete(f, x, FETCH_FAILED, 1, NULL);
        return;
    }
    metrics_add(f->m_retries, 1);
    x->state = XFER_WAITING;
    x->due_ms = now + retry_backoff_ms((unsigned)(*count - 1), f->cfg.retry_base_ms,
                                       f->cfg.retry_cap_ms, retry_random(&f->rnd));
}

static void fetch_set_pause(fetch *f, fetch_pause p)
{
    f->pause = p;
    metrics_set(f->m_paused_key, p == FETCH_PAUSED_KEY);
    metrics_set(f->m_paused_credits, p == FETCH_PAUSED_CREDITS);
    metrics_set(f->m_paused_budget, p == FETCH_PAUSED_BUDGET);
}

/* A refused key: park x (no result: its claim stays uncommitted) and stop starting calls. */
static void fetch_park(fetch *f, fetch_xfer *x, int64_t now)
{
    x->state = XFER_PARKED;
    if (f->pause == FETCH_RUNNING) {
        fetch_set_pause(f, FETCH_PAUSED_KEY);
        log_error("ScraperAPI refused the API key (HTTP %ld): no claims are taken until it is "
                  "accepted again; probing once a minute",
                  x->last_status);
    }
    if (f->pause == FETCH_PAUSED_KEY)
        f->next_probe_ms = now + FETCH_AUTH_PROBE_MS;
}

/* Exhausted credits: park x without counting the refused call as an attempt, and start no
 * call until /account shows credits again. */
static void fetch_park_credits(fetch *f, fetch_xfer *x, int64_t now)
{
    x->state = XFER_PARKED;
    x->attempts--;
    if (f->pause == FETCH_PAUSED_CREDITS)
        return;
    fetch_set_pause(f, FETCH_PAUSED_CREDITS);
    f->next_poll_ms = now + f->cfg.account_poll_ms;
    log_warn("paused: credits exhausted (ScraperAPI answered 403: %s): no new calls, claims "
             "in hand kept, /account read every %ld ms; %ld credits spent by this scraper",
             x->reason, f->cfg.account_poll_ms, f->credits_spent);
}

static void fetch_unpark_all(fetch *f, int64_t now, const char *why)
{
    size_t n = 0;
    fetch_set_pause(f, FETCH_RUNNING);
    for (fetch_xfer *x = f->head; x; x = x->next)
        if (x->state == XFER_PARKED) {
            x->state = XFER_WAITING;
            x->due_ms = now;
            n++;
        }
    log_info("resumed: %s; %zu parked calls restart", why, n);
}

/* Credits charged for an answer: what ScraperAPI's header says, else the tier's list price,
 * on 200 and 404 only (the answers ScraperAPI charges). */
static void fetch_charge(fetch *f, fetch_xfer *x, CURLcode cc, long status)
{
    if (cc != CURLE_OK || (status != 200 && status != 404))
        return;
    long cost = x->cost_header >= 0 ? x->cost_header : tier_price(x->tier);
    x->credits += cost;
    f->credits_spent += cost;
}

/* A bot wall: the next tier up, or a final failure at the cap (or past max_cost). */
static void fetch_escalate(fetch *f, fetch_xfer *x, const char *wall, int64_t now)
{
    int next = x->tier + 1;
    if (next > f->cfg.max_tier || tier_price(next) > f->cfg.max_cost) {
        snprintf(x->reason, sizeof x->reason, "blocked at tier %s (%s)", tier_name(x->tier), wall);
        fetch_complete(f, x, FETCH_FAILED, 0, NULL);
        return;
    }
    log_info("%s: %s at tier %s, trying %s", x->page_url, wall, tier_name(x->tier),
             tier_name(next));
    metrics_add(f->m_escalations, 1);
    x->tier = next;
    x->state = XFER_WAITING;
    x->due_ms = now;
}

/* Acts on a classified answer: done, escalate, retry, park. */
static void fetch_decide(fetch *f, fetch_xfer *x, retry_verdict v, const char *ct, int64_t now)
{
    const char *wall = v == RETRY_SUCCESS
                           ? tier_blocked(x->last_status, x->body ? x->body : "", x->len)
                           : NULL;
    if (wall || v == RETRY_BLOCKED) {
        fetch_escalate(f, x, wall ? wall : "403 from the target", now);
        return;
    }
    switch (v) {
    case RETRY_SUCCESS: fetch_complete(f, x, FETCH_OK, 0, ct); break;
    case RETRY_FINAL:
    case RETRY_COST: fetch_complete(f, x, FETCH_FAILED, 0, NULL); break;
    case RETRY_AUTH: fetch_park(f, x, now); break;
    case RETRY_CREDITS: fetch_park_credits(f, x, now); break;
    default: fetch_retry(f, x, v, now);
    }
}

/* Appends curl's error detail (redacted) to the reason of a transport failure. */
static void fetch_reason_detail(fetch_xfer *x, CURLcode cc)
{
    if (cc == CURLE_OK || !x->errbuf[0])
        return;
    char detail[CURL_ERROR_SIZE], clean[CURL_ERROR_SIZE];
    api_url_redact(x->errbuf, detail, sizeof detail);
    log_redact(detail, clean, sizeof clean);
    size_t l = strlen(x->reason);
    snprintf(x->reason + l, sizeof x->reason - l, ": %s", clean);
}

/* Decides what a finished attempt means. Frees the easy handle. */
static void fetch_finish(fetch *f, CURLMsg *msg, int64_t now)
{
    CURL *easy = msg->easy_handle;
    CURLcode cc = msg->data.result;
    fetch_xfer *x = NULL;
    long status = 0;
    char *ct = NULL, *ctcopy = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    CURLcode ic = curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (ic != CURLE_OK)
        log_warn("CURLINFO_RESPONSE_CODE: %s", curl_easy_strerror(ic));
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        ctcopy = strdup(ct);
    CURLMcode mc = curl_multi_remove_handle(f->multi, easy);
    if (mc != CURLM_OK)
        log_error("curl_multi_remove_handle: %s", curl_multi_strerror(mc));
    curl_easy_cleanup(easy);
    x->easy = NULL;
    f->running--;
    f->reserved -= x->reserved;
    x->reserved = 0;
    x->api_ms += now - x->started_ms;
    x->last_status = status;
    metrics_observe(f->m_api_seconds, (double)(now - x->started_ms) / 1000.0);
    metrics_add(fetch_code_metric(f, cc == CURLE_OK ? status : 0), 1);
    if (x->truncated && cc == CURLE_WRITE_ERROR)
        cc = CURLE_OK; /* our own stop at max_body: parse what arrived */
    fetch_charge(f, x, cc, status);
    retry_verdict v = retry_classify(cc, status, x->body, x->reason, sizeof x->reason);
    fetch_reason_detail(x, cc);
    if (v != RETRY_AUTH && f->pause == FETCH_PAUSED_KEY)
        fetch_unpark_all(f, now, "ScraperAPI accepts the API key again");
    if (v == RETRY_THROTTLED)
        retry_limiter_throttled(&f->limiter, now);
    else if (cc == CURLE_OK)
        retry_limiter_ok(&f->limiter);
    fetch_decide(f, x, v, ctcopy, now);
    free(ctcopy);
}

/* Credits left as this scraper sees them: the last /account answer, less what it was
 * charged since that read began, less the list price of its attempts running. */
static long fetch_budget_left(const fetch *f)
{
    if (f->acct_left < 0)
        return -1;
    return f->acct_left - (f->credits_spent - f->spent_at_read) - f->reserved;
}

/* requestCount as this scraper sees it: the last /account answer plus what it was charged
 * since that read began; -1 unknown. */
static long fetch_count_now(const fetch *f)
{
    if (f->acct_count < 0)
        return -1;
    return f->acct_count + (f->credits_spent - f->spent_at_read);
}

/* The ceiling in force now: it ends at an instant of the calendar, hence the wall clock. */
static long fetch_ceiling_now(const fetch *f)
{
    return credits_ceiling_now(&f->ceiling, service_now_ms());
}

/* Whether an attempt costing price keeps the account at or above the floor and, its calls
 * running counted at their list price, within the daily budget's ceiling. */
static fetch_budget_verdict fetch_budget_check(const fetch *f, long price)
{
    if (f->cfg.credits_floor > 0) {
        long left = fetch_budget_left(f);
        if (left < 0)
            return FETCH_BUDGET_UNKNOWN;
        if (left - price < f->cfg.credits_floor)
            return FETCH_BUDGET_FLOOR;
    }
    long ceiling = fetch_ceiling_now(f);
    if (ceiling > 0 && f->acct_count < 0)
        return FETCH_BUDGET_UNKNOWN;
    if (!credits_ceiling_allows(ceiling, fetch_count_now(f), f->reserved, price))
        return FETCH_BUDGET_DAILY;
    return FETCH_BUDGET_OK;
}

/* The list price of the call that starts next (the first waiting, in submission order as
 * fetch_start_due goes): a pause ends only when that one fits, or it would start again at
 * once. A plain call's when none waits. */
static long fetch_next_price(const fetch *f)
{
    for (const fetch_xfer *x = f->head; x; x = x->next)
        if (x->state == XFER_WAITING)
            return tier_price(x->tier);
    return tier_price(TIER_PLAIN);
}

/* /account is read while running too when a limit depends on it: other scrapers spend. */
static int fetch_watches_account(const fetch *f)
{
    return f->cfg.credits_floor > 0 || fetch_ceiling_now(f) > 0;
}

/* "2026-12-05 00:00 UTC" for an epoch ms, or "?" when it has no calendar date. */
static void fetch_utc(int64_t ms, char *out, size_t outlen)
{
    struct tm tm;
    time_t t = (time_t)(ms / 1000);
    if (!gmtime_r(&t, &tm) || strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, outlen, "?");
}

/* The reason of a budget pause, for its log line. */
static void fetch_budget_why(const fetch *f, fetch_budget_verdict v, char *why, size_t n)
{
    char until[40];
    if (v == FETCH_BUDGET_UNKNOWN) {
        snprintf(why, n, "account unknown: /account gave no usable answer");
    } else if (v == FETCH_BUDGET_FLOOR) {
        snprintf(why, n, "floor: %ld credits left less %ld held by calls running, floor %ld",
                 f->acct_left - (f->credits_spent - f->spent_at_read), f->reserved,
                 f->cfg.credits_floor);
    } else {
        fetch_utc(f->ceiling.until_ms, until, sizeof until);
        snprintf(why, n,
                 "daily budget: the account at %ld credits used and %ld held by calls running, "
                 "today's ceiling %ld until %s",
                 fetch_count_now(f), f->reserved, f->paused_ceiling, until);
    }
}

/* A limit reached (or the account unknown): start nothing until /account shows room, or a
 * newer ceiling (or a new UTC day) gives it. */
static void fetch_pause_budget(fetch *f, int64_t now, fetch_budget_verdict v)
{
    fetch_set_pause(f, FETCH_PAUSED_BUDGET);
    f->budget_verdict = v;
    f->paused_ceiling = fetch_ceiling_now(f);
    if (f->next_poll_ms < now)
        f->next_poll_ms = now + f->cfg.account_poll_ms;
    char why[256];
    fetch_budget_why(f, v, why, sizeof why);
    log_warn("paused: credit budget (%s): no new calls, claims in hand kept%s, /account read "
             "every %ld ms; %ld credits spent by this scraper",
             why, v == FETCH_BUDGET_DAILY ? " (and still taken: a newer ceiling comes in one)" : "",
             f->cfg.account_poll_ms, f->credits_spent);
}

/* Starts the /account read on the multi handle (credits exhausted, a floor or a ceiling). */
static void fetch_account_poll(fetch *f, int64_t now)
{
    char err[256];
    f->next_poll_ms = now + f->cfg.account_poll_ms;
    f->spent_at_poll = f->credits_spent;
    f->acct_easy = account_easy(f->api_url, f->api_key, FETCH_ACCOUNT_TIMEOUT_MS, &f->acct_body,
                                f->acct_errbuf, err, sizeof err);
    if (!f->acct_easy) {
        log_warn("cannot read the account: %s", err);
        return;
    }
    CURLMcode mc = curl_multi_add_handle(f->multi, f->acct_easy);
    if (mc != CURLM_OK) {
        log_error("curl_multi_add_handle: %s", curl_multi_strerror(mc));
        curl_easy_cleanup(f->acct_easy);
        f->acct_easy = NULL;
    }
}

/* Resumes when the account shows credits left, or room above the floor; otherwise waits for
 * the next read. */
static void fetch_account_done(fetch *f, CURLMsg *msg, int64_t now)
{
    char err[512];
    account_info a;
    CURLMcode mc = curl_multi_remove_handle(f->multi, f->acct_easy);
    if (mc != CURLM_OK)
        log_error("curl_multi_remove_handle: %s", curl_multi_strerror(mc));
    int rc = account_finish(f->acct_easy, msg->data.result, &f->acct_body, f->acct_errbuf, &a, err,
                            sizeof err);
    curl_easy_cleanup(f->acct_easy);
    f->acct_easy = NULL;
    if (rc != 0) {
        log_warn("%s; %s",
                 f->pause == FETCH_PAUSED_CREDITS ? "paused: credits exhausted"
                                                  : "cannot read the account",
                 err);
        return;
    }
    long left = account_credits_left(&a);
    log_debug("account: %ld of %ld credits used, %ld left", a.request_count, a.request_limit, left);
    f->acct_left = left;
    f->acct_count = a.request_count;
    f->spent_at_read = f->spent_at_poll;
    snprintf(err, sizeof err, "the account has %ld credits left (%ld of %ld used)", left,
             a.request_count, a.request_limit);
    fetch_budget_verdict v = fetch_budget_check(f, fetch_next_price(f));
    if (f->pause == FETCH_PAUSED_CREDITS && left > 0)
        fetch_unpark_all(f, now, err);
    else if (f->pause == FETCH_PAUSED_BUDGET && v == FETCH_BUDGET_OK)
        fetch_unpark_all(f, now, err);
    else if (f->pause == FETCH_PAUSED_BUDGET)
        f->budget_verdict = v;
    else if (f->pause == FETCH_RUNNING && v != FETCH_BUDGET_OK)
        fetch_pause_budget(f, now, v); /* at a limit already: take no claim it cannot serve */
}

/* A budget pause whose ceiling changed (a newer claim's, or its UTC day ended) ends here
 * when the next call fits now; otherwise the /account reads end it. */
static void fetch_ceiling_recheck(fetch *f, int64_t now)
{
    long ceiling = fetch_ceiling_now(f);
    if (ceiling == f->paused_ceiling)
        return;
    char why[160];
    if (ceiling > 0)
        snprintf(why, sizeof why,
                 "credit budget: today's ceiling is now %ld credits used (was %ld)", ceiling,
                 f->paused_ceiling);
    else
        snprintf(why, sizeof why,
                 "credit budget: no daily ceiling in force any more (a new UTC day, or claims "
                 "without one)");
    f->paused_ceiling = ceiling;
    fetch_budget_verdict v = fetch_budget_check(f, fetch_next_price(f));
    if (v == FETCH_BUDGET_OK)
        fetch_unpark_all(f, now, why);
    else
        f->budget_verdict = v;
}

/* While paused: the key probe (one parked call a minute) or the account read. */
static void fetch_start_paused(fetch *f, int64_t now)
{
    if (f->pause == FETCH_PAUSED_BUDGET)
        fetch_ceiling_recheck(f, now);
    if (f->pause == FETCH_RUNNING)
        return;
    if (f->pause == FETCH_PAUSED_CREDITS || f->pause == FETCH_PAUSED_BUDGET) {
        if (!f->acct_easy && now >= f->next_poll_ms)
            fetch_account_poll(f, now);
        return;
    }
    if (now < f->next_probe_ms || f->running > 0)
        return;
    for (fetch_xfer *x = f->head; x; x = x->next)
        if (x->state == XFER_PARKED) {
            log_info("probing ScraperAPI with one parked call");
            f->next_probe_ms = now + FETCH_AUTH_PROBE_MS;
            fetch_start(f, x, now);
            return;
        }
}

/* Starts due transfers in submission order while the limits allow. */
#define FETCH_REFILL_EVERY 16

static void fetch_start_due(fetch *f, int64_t now)
{
    if (f->pause != FETCH_RUNNING) {
        fetch_start_paused(f, now);
        return;
    }
    /* With a floor or a ceiling the account is read as often while running: other scrapers
     * spend too. */
    if (fetch_watches_account(f) && !f->acct_easy && now >= f->next_poll_ms)
        fetch_account_poll(f, now);
    for (fetch_xfer *x = f->head; x; x = x->next) {
        if (!retry_limiter_allow(&f->limiter, f->running, now))
            break;
        if (x->state != XFER_WAITING || x->due_ms > now)
            continue;
        fetch_budget_verdict v = fetch_budget_check(f, tier_price(x->tier));
        if (v == FETCH_BUDGET_UNKNOWN && f->acct_easy)
            break; /* the first /account answer is on its way */
        if (v != FETCH_BUDGET_OK) {
            fetch_pause_budget(f, now, v);
            break;
        }
        fetch_start(f, x, now);
    }
}

int fetch_run(fetch *f, int timeout_ms)
{
    int64_t now = fetch_now_ms();
    fetch_start_due(f, now);
    int still = 0, numfds = 0, left = 0;
    CURLMcode mc = curl_multi_perform(f->multi, &still);
    if (mc == CURLM_OK)
        mc = curl_multi_poll(f->multi, NULL, 0, timeout_ms, &numfds);
    if (mc == CURLM_OK)
        mc = curl_multi_perform(f->multi, &still);
    if (mc != CURLM_OK) {
        log_error("curl multi: %s", curl_multi_strerror(mc));
        return -1;
    }
    now = fetch_now_ms();
    CURLMsg *msg;
    int done = 0;
    while ((msg = curl_multi_info_read(f->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        if (msg->easy_handle == f->acct_easy) {
            fetch_account_done(f, msg, now);
            continue;
        }
        fetch_finish(f, msg, now);
        /* Refill freed slots while the rest of a wave is still being parsed, so calls
         * finishing together do not leave the plan's concurrency idle meanwhile. */
        if (++done % FETCH_REFILL_EVERY == 0) {
            now = fetch_now_ms();
            fetch_start_due(f, now);
            (void)curl_multi_perform(f->multi, &still);
        }
    }
    metrics_set(f->m_in_flight, (double)f->running);
    return 0;
}

/* Cancels the matching fetches, or only those never started when unstarted is set. */
static size_t fetch_cancel_where(fetch *f, int (*match)(void *opaque, void *arg), void *arg,
                                 int unstarted)
{
    size_t n = 0;
    fetch_xfer *next;
    for (fetch_xfer *x = f->head; x; x = next) {
        next = x->next;
        if (unstarted && (x->state != XFER_WAITING || x->attempts > 0))
            continue;
        if (match && !match(x->opaque, arg))
            continue;
        if (x->easy) {
            CURLMcode mc = curl_multi_remove_handle(f->multi, x->easy);
            if (mc != CURLM_OK)
                log_error("curl_multi_remove_handle: %s", curl_multi_strerror(mc));
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
            f->running--;
            f->reserved -= x->reserved;
            x->reserved = 0;
        }
        snprintf(x->reason, sizeof x->reason, "cancelled");
        fetch_complete(f, x, FETCH_CANCELLED, 0, NULL);
        n++;
    }
    return n;
}

size_t fetch_cancel_if(fetch *f, int (*match)(void *opaque, void *arg), void *arg)
{
    return fetch_cancel_where(f, match, arg, 0);
}

size_t fetch_release_if(fetch *f, int (*match)(void *opaque, void *arg), void *arg)
{
    return fetch_cancel_where(f, match, arg, 1);
}

/* Creates the multi handle with connection sharing bounded by the concurrency. */
static int fetch_multi_setup(fetch *f, char *err, size_t errlen)
{
    f->multi = curl_multi_init();
    if (!f->multi) {
        snprintf(err, errlen, "curl_multi_init failed");
        return -1;
    }
    CURLMcode mc = curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, f->cfg.concurrency);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, f->cfg.concurrency);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, f->cfg.concurrency);
    if (mc != CURLM_OK) {
        snprintf(err, errlen, "curl_multi_setopt: %s", curl_multi_strerror(mc));
        return -1;
    }
    return 0;
}

static void fetch_metrics_setup(fetch *f)
{
    f->m_api_seconds = metrics_histogram("wf4_scraper_api_seconds",
                                         "Duration of one ScraperAPI call attempt",
                                         metrics_latency_buckets, metrics_latency_nbuckets);
    f->m_retries = metrics_counter("wf4_scraper_retries_total",
                                   "ScraperAPI calls retried (429, 5xx, timeouts, network)");
    f->m_in_flight = metrics_gauge("wf4_scraper_in_flight", "ScraperAPI calls in flight");
    f->m_code_other = metrics_counter("wf4_scraper_api_responses_total{code=\"error\"}",
                                      "ScraperAPI answers by HTTP status");
    f->m_escalations = metrics_counter("wf4_scraper_tier_escalations_total",
                                       "Calls retried at the next tier after a bot wall");
    f->m_paused_key = metrics_gauge("wf4_scraper_paused{reason=\"api key refused\"}",
                                    "1 while no ScraperAPI call is started, by reason");
    f->m_paused_credits = metrics_gauge("wf4_scraper_paused{reason=\"credits exhausted\"}",
                                        "1 while no ScraperAPI call is started, by reason");
    f->m_paused_budget = metrics_gauge("wf4_scraper_paused{reason=\"credit budget\"}",
                                       "1 while no ScraperAPI call is started, by reason");
    const char *outcomes[] = {"success", "failure", "abandoned"};
    for (int i = 0; i < 3; i++) {
        char name[96];
        snprintf(name, sizeof name, "wf4_scraper_credits_total{outcome=\"%s\"}", outcomes[i]);
        f->m_credits[i] = metrics_counter(name, "ScraperAPI credits charged, by the outcome of "
                                                "the claim's fetch (abandoned: cancelled)");
    }
}

fetch *fetch_new(const fetch_config *cfg, fetch_done_fn done, void *arg, char *err, size_t errlen)
{
    fetch *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->cfg = *cfg;
    f->api_url = strdup(cfg->api_url);
    f->api_key = strdup(cfg->api_key);
    f->done = done;
    f->done_arg = arg;
    f->rnd = (uint64_t)fetch_now_ms() ^ ((uint64_t)getpid() << 32);
    snprintf(f->max_cost_param, sizeof f->max_cost_param, "&max_cost=%ld", cfg->max_cost);
    f->acct_left = -1;
    f->acct_count = -1;
    if (!f->api_url || !f->api_key) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (fetch_multi_setup(f, err, errlen) != 0)
        goto fail;
    retry_limiter_init(&f->limiter, cfg->concurrency);
    fetch_metrics_setup(f);
    return f;
fail:
    fetch_free(f);
    return NULL;
}

void fetch_free(fetch *f)
{
    if (!f)
        return;
    fetch_cancel_if(f, NULL, NULL);
    if (f->acct_easy) {
        CURLMcode rc = curl_multi_remove_handle(f->multi, f->acct_easy);
        if (rc != CURLM_OK)
            log_error("curl_multi_remove_handle: %s", curl_multi_strerror(rc));
        curl_easy_cleanup(f->acct_easy);
        free(f->acct_body.p);
    }
    if (f->multi) {
        CURLMcode mc = curl_multi_cleanup(f->multi);
        if (mc != CURLM_OK)
            log_error("curl_multi_cleanup: %s", curl_multi_strerror(mc));
    }
    free(f->api_url);
    free(f->api_key);
    free(f);
}

size_t fetch_count(const fetch *f)
{
    return f->count;
}

size_t fetch_in_flight(const fetch *f)
{
    return f->running;
}

long fetch_limit(const fetch *f)
{
    return retry_limiter_limit(&f->limiter);
}

void fetch_set_max(fetch *f, long max)
{
    retry_limiter_set_max(&f->limiter, max);
}

fetch_pause fetch_paused(const fetch *f)
{
    return f->pause;
}

int fetch_auth_blocked(const fetch *f)
{
    return f->pause == FETCH_PAUSED_KEY;
}

int fetch_parked(const fetch *f)
{
    return f->pause != FETCH_RUNNING && !(f->pause == FETCH_PAUSED_BUDGET && f->running > 0);
}

long fetch_credits_spent(const fetch *f)
{
    return f->credits_spent;
}

void fetch_set_ceiling(fetch *f, long ceiling, int64_t until_ms, int64_t claimed_at_ms)
{
    int64_t wall = service_now_ms();
    long before = credits_ceiling_now(&f->ceiling, wall);
    if (!credits_ceiling_take(&f->ceiling, ceiling, until_ms, claimed_at_ms, wall))
        return;
    long after = credits_ceiling_now(&f->ceiling, wall);
    char until[40];
    fetch_utc(f->ceiling.until_ms, until, sizeof until);
    if (after > 0)
        log_info("credit budget: no call may take the account past %ld credits used until %s "
                 "(the daily budget's ceiling, from the claims; was %ld, 0: none)",
                 after, until, before);
    else
        log_info("credit budget: no daily ceiling any more (the claims carry none)");
    /* Without a floor nothing kept the account's counts fresh: the first call under a new
     * ceiling waits for a read of its own. */
    if (before == 0 && f->cfg.credits_floor <= 0) {
        f->acct_left = f->acct_count = -1;
        f->next_poll_ms = 0;
    }
}

int fetch_awaits_ceiling(const fetch *f)
{
    return f->pause == FETCH_PAUSED_BUDGET && f->budget_verdict == FETCH_BUDGET_DAILY;
}
