/* Stand-in HTTP server: ScraperAPI's GET /?api_key&url, /account, /stats, /healthz. */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "log.h"
#include "standin.h"

#define STANDIN_THREAD_STACK (512 * 1024)
#define STANDIN_BACKLOG 4096
#define STANDIN_IDLE_TIMEOUT_S 120
#define STANDIN_POLL_SLICE_MS 250
#define STANDIN_CORPUS_MAX (64L * 1024 * 1024)
/* What the request costs, on every answer past the URL check (charged on 200/404 only). */
#define STANDIN_COST_HEADER "sa-credit-cost"
/* Hosts named costly-* cost this many times the list price. */
#define STANDIN_COSTLY_FACTOR 25

typedef enum {
    OUT_OK,
    OUT_404,
    OUT_500,
    OUT_HANG,
    OUT_RESET,
    OUT_SLOW,
    OUT_HUGE,
    OUT_NONHTML,
    OUT_MALFORMED,
    OUT_WALL
} standin_outcome;

static const char *const standin_outcome_names[] = {
    "ok", "notfound", "error500", "hang", "reset", "slow", "huge", "nonhtml", "malformed", "wall"};

/* Per-request state (MHD's req_cls), freed when MHD reports the request completed. */
typedef struct standin_req {
    int scrape;      /* a GET / request */
    int slot;        /* holds a concurrency slot until completion */
    unsigned status; /* 0 while no response was queued (reset, abandoned) */
    standin_outcome outcome;
    standin_tier tier;
    long cost;    /* credits this request costs (charged on 200 and 404 only) */
    int reserved; /* its cost is held in stats->reserved */
    standin_wall wall;
    struct timespec start;
    char host[256];
} standin_req;

static const standin_config *standin_cfg;
static standin_stats *standin_st;
static struct MHD_Daemon *standin_daemon;
static atomic_int standin_stopping;
static atomic_ulong standin_seq;

static long standin_ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Sleeps up to `ms` in the connection's thread; returns -1 early when the client hung up or
 * the server is stopping, so an abandoned request frees its slot as soon as possible. */
static int standin_wait(struct MHD_Connection *conn, long ms)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
                                                                 MHD_CONNECTION_INFO_CONNECTION_FD);
    struct pollfd pfd = {.fd = ci ? ci->connect_fd : -1, .events = POLLRDHUP};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long left = ms - standin_ms_since(&t0);
        if (atomic_load(&standin_stopping))
            return -1;
        if (left <= 0)
            return 0;
        pfd.revents = 0;
        int rc = poll(&pfd, 1, (int)(left < STANDIN_POLL_SLICE_MS ? left : STANDIN_POLL_SLICE_MS));
        if (rc < 0 && errno != EINTR) {
            log_warn("poll: %s", strerror(errno));
            return -1;
        }
        if (rc > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
            return -1;
    }
}

/* Credits are spent, as ScraperAPI spends them, on 200 and 404 answers only: the request's
 * reservation becomes a charge, or is released when it completes. */
static void standin_count_status(standin_req *req, unsigned status)
{
    standin_stats *st = standin_st;
    static const struct {
        unsigned status;
        size_t offset;
    } map[] = {{200, offsetof(standin_stats, s200)}, {400, offsetof(standin_stats, s400)},
               {401, offsetof(standin_stats, s401)}, {403, offsetof(standin_stats, s403)},
               {404, offsetof(standin_stats, s404)}, {429, offsetof(standin_stats, s429)},
               {500, offsetof(standin_stats, s500)}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].status == status)
            atomic_fetch_add((atomic_long *)((char *)st + map[i].offset), 1);
    if ((status == 200 || status == 404) && req->cost > 0) {
        atomic_fetch_add(&st->request_count, req->cost);
        if (req->reserved)
            atomic_fetch_sub(&st->reserved, req->cost);
        req->reserved = 0;
    } else if (status >= 500)
        atomic_fetch_add(&st->failed, 1);
}

/* Queues `r` (consumed) with a content type; scrape responses are counted. */
static enum MHD_Result standin_queue(struct MHD_Connection *conn, standin_req *req, unsigned status,
                                     struct MHD_Response *r, const char *ctype)
{
    if (!r) {
        log_error("MHD_create_response failed (status %u)", status);
        return MHD_NO;
    }
    char cost[32];
    snprintf(cost, sizeof cost, "%ld", req->cost);
    enum MHD_Result ret = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ret == MHD_YES && req->cost > 0)
        ret = MHD_add_response_header(r, STANDIN_COST_HEADER, cost);
    if (ret != MHD_YES)
        log_error("MHD_add_response_header failed");
    else if ((ret = MHD_queue_response(conn, status, r)) != MHD_YES)
        log_error("MHD_queue_response failed (status %u)", status);
    MHD_destroy_response(r);
    if (ret == MHD_YES && req->scrape) {
        req->status = status;
        standin_count_status(req, status);
    }
    return ret;
}

static enum MHD_Result standin_text(struct MHD_Connection *conn, standin_req *req, unsigned status,
                                    const char *ctype, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    return standin_queue(conn, req, status, r, ctype);
}

/* Takes ownership of b->data. */
static enum MHD_Result standin_buffer(struct MHD_Connection *conn, standin_req *req,
                                      unsigned status, standin_buf *b, const char *ctype)
{
    if (b->failed) {
        free(b->data);
        log_error("out of memory building a %u body for %s", status, req->host);
        return MHD_NO;
    }
    struct MHD_Response *r = b->data ? MHD_create_response_from_buffer(b->len, b->data,
                                                                       MHD_RESPMEM_MUST_FREE)
                                     : MHD_create_response_from_buffer(0, (void *)"",
                                                                       MHD_RESPMEM_PERSISTENT);
    if (!r)
        free(b->data);
    return standin_queue(conn, req, status, r, ctype);
}

static enum MHD_Result standin_json(struct MHD_Connection *conn, standin_req *req, json_t *o)
{
    standin_buf b = {0};
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) {
        log_error("json_dumps failed");
        return standin_text(conn, req, 500, "text/plain", "internal error\n");
    }
    buf_puts(&b, text);
    buf_puts(&b, "\n");
    free(text);
    return standin_buffer(conn, req, 200, &b, "application/json");
}

/* ---- bodies served in pieces: slow trickle, huge page ---- */

typedef struct standin_slow {
    struct MHD_Connection *conn;
    standin_buf body;
    size_t chunk;
} standin_slow;

static ssize_t standin_slow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    standin_slow *s = cls;
    if (pos >= s->body.len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (pos > 0 && standin_wait(s->conn, STANDIN_POLL_SLICE_MS) != 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = s->body.len - (size_t)pos;
    n = n < s->chunk ? n : s->chunk;
    n = n < max ? n : max;
    memcpy(buf, s->body.data + pos, n);
    return (ssize_t)n;
}

static void standin_slow_free(void *cls)
{
    standin_slow *s = cls;
    free(s->body.data);
    free(s);
}

static enum MHD_Result standin_slow_reply(struct MHD_Connection *conn, standin_req *req)
{
    const char *ctype = "text/html";
    standin_slow *s = calloc(1, sizeof *s);
    if (!s || page_home(req->host, &s->body, &ctype) != 0) {
        log_error("out of memory building a slow body for %s", req->host);
        if (s)
            standin_slow_free(s);
        return MHD_NO;
    }
    s->conn = conn;
    s->chunk = (size_t)(standin_cfg->slow_bps * STANDIN_POLL_SLICE_MS / 1000);
    s->chunk = s->chunk ? s->chunk : 1;
    struct MHD_Response *r = MHD_create_response_from_callback(
        s->body.len, s->chunk, standin_slow_read, s, standin_slow_free);
    if (!r)
        standin_slow_free(s);
    return standin_queue(conn, req, 200, r, ctype);
}

typedef struct standin_huge {
    char host[256];
    uint64_t total;
} standin_huge;

static ssize_t standin_huge_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    standin_huge *h = cls;
    size_t n = page_huge_read(h->host, pos, buf, max, h->total);
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result standin_huge_reply(struct MHD_Connection *conn, standin_req *req)
{
    standin_huge *h = calloc(1, sizeof *h);
    if (!h) {
        log_error("out of memory building a huge body for %s", req->host);
        return MHD_NO;
    }
    snprintf(h->host, sizeof h->host, "%s", req->host);
    h->total = (uint64_t)standin_cfg->huge_bytes;
    struct MHD_Response *r = MHD_create_response_from_callback(h->total, 64 * 1024,
                                                               standin_huge_read, h, free);
    if (!r)
        free(h);
    return standin_queue(conn, req, 200, r, "text/html; charset=utf-8");
}

/* ---- the scrape request ---- */

/* Reads <corpus>/<host>.html into b. Returns 0 when served from the corpus, 1 when the file
 * does not exist (or cannot be read: logged), -1 when out of memory. */
static int standin_corpus(const char *host, standin_buf *b)
{
    char path[4096], chunk[65536];
    const char *dir = standin_cfg->corpus_dir;
    if (!dir || !*dir)
        return 1;
    snprintf(path, sizeof path, "%s/%s.html", dir, host);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT)
            log_warn("corpus: cannot open %s: %s", path, strerror(errno));
        return 1;
    }
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b->len < STANDIN_CORPUS_MAX)
        buf_append(b, chunk, n);
    int rc = ferror(f) ? 1 : 0;
    if (rc)
        log_warn("corpus: cannot read %s: %s", path, strerror(errno));
    if (fclose(f) != 0)
        log_warn("corpus: close %s: %s", path, strerror(errno));
    if (b->failed)
        return -1;
    if (rc)
        b->len = 0;
    return rc;
}

static enum MHD_Result standin_page_reply(struct MHD_Connection *conn, standin_req *req,
                                          standin_outcome o, uint64_t rnd)
{
    standin_buf b = {0};
    const char *ctype = "text/html";
    unsigned status = 200;
    int rc = 0;
    if (o == OUT_WALL) {
        atomic_fetch_add(&standin_st->walls, 1);
        rc = page_wall(req->wall, req->host, &b, &ctype, &status);
    } else if (o == OUT_404) {
        status = 404;
        rc = page_not_found(req->host, &b);
    } else if (o == OUT_NONHTML) {
        atomic_fetch_add(&standin_st->nonhtml, 1);
        rc = page_nonhtml(req->host, rnd, &b, &ctype);
    } else if (o == OUT_MALFORMED) {
        atomic_fetch_add(&standin_st->malformed, 1);
        rc = page_malformed(req->host, rnd, &b);
    } else if ((rc = standin_corpus(req->host, &b)) == 0) {
        atomic_fetch_add(&standin_st->corpus, 1);
    } else if (rc == 1) {
        rc = page_home(req->host, &b, &ctype);
    }
    if (rc != 0)
        b.failed = 1;
    return standin_buffer(conn, req, status, &b, ctype);
}

/* Drops the connection with a TCP reset and no response at all. */
static enum MHD_Result standin_reset(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
                                                                 MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    atomic_fetch_add(&standin_st->resets, 1);
    atomic_fetch_add(&standin_st->failed, 1);
    if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
        log_warn("setsockopt(SO_LINGER): %s", strerror(errno));
    return MHD_NO;
}

static enum MHD_Result standin_serve(struct MHD_Connection *conn, standin_req *req, uint64_t rnd)
{
    const standin_config *c = standin_cfg;
    long span = c->latency_max_ms - c->latency_min_ms + 1;
    long wait = c->latency_min_ms + (long)(standin_mix(rnd ^ 1) % (uint64_t)span);
    if (req->outcome == OUT_HANG) {
        wait = c->hang_ms;
        atomic_fetch_add(&standin_st->hangs, 1);
    }
    if (standin_wait(conn, wait) != 0) {
        atomic_fetch_add(&standin_st->abandoned, 1);
        return MHD_NO;
    }
    switch (req->outcome) {
    case OUT_RESET: return standin_reset(conn);
    case OUT_HANG:
    case OUT_500:
        return standin_text(conn, req, 500, "text/plain; charset=utf-8",
                            "Request failed. You will not be charged for this request. Please "
                            "make sure your url is correct and try the request again. If this "
                            "continues to happen, please try again with the premium=true "
                            "parameter.\n");
    case OUT_SLOW: atomic_fetch_add(&standin_st->slow, 1); return standin_slow_reply(conn, req);
    case OUT_HUGE: atomic_fetch_add(&standin_st->huge, 1); return standin_huge_reply(conn, req);
    default: return standin_page_reply(conn, req, req->outcome, rnd);
    }
}

/* flaky-* hosts: the first request for a host answers 500, every later one a page (a
 * retry that succeeds). Hosts are remembered by a 64-bit FNV-1a hash, up to
 * STANDIN_FLAKY_MAX of them (then the oldest is forgotten). */
#define STANDIN_FLAKY_MAX 1024
static uint64_t standin_flaky_seen[STANDIN_FLAKY_MAX];
static size_t standin_flaky_next;
static pthread_mutex_t standin_flaky_lock = PTHREAD_MUTEX_INITIALIZER;

static standin_outcome standin_flaky(const char *host)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = host; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    standin_outcome o = OUT_500;
    pthread_mutex_lock(&standin_flaky_lock);
    for (size_t i = 0; i < STANDIN_FLAKY_MAX && o == OUT_500; i++)
        if (standin_flaky_seen[i] == h)
            o = OUT_OK;
    if (o == OUT_500)
        standin_flaky_seen[standin_flaky_next++ % STANDIN_FLAKY_MAX] = h;
    pthread_mutex_unlock(&standin_flaky_lock);
    return o;
}

/* Host-name hooks first (deterministic, for tests), then the configured rates. */
static standin_outcome standin_choose(const char *host, uint64_t rnd)
{
    if (strncmp(host, "flaky-", 6) == 0)
        return standin_flaky(host);
    static const struct {
        const char *prefix;
        standin_outcome o;
    } hooks[] = {{"notfound-", OUT_404},    {"error500-", OUT_500},       {"hang-", OUT_HANG},
                 {"reset-", OUT_RESET},     {"slow-", OUT_SLOW},          {"huge-", OUT_HUGE},
                 {"nonhtml-", OUT_NONHTML}, {"malformed-", OUT_MALFORMED}};
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
        if (strncmp(host, hooks[i].prefix, strlen(hooks[i].prefix)) == 0)
            return hooks[i].o;
    const standin_config *c = standin_cfg;
    const double rates[] = {c->rate_reset,   c->rate_hang, c->rate_500,  c->rate_404,
                            c->rate_nonhtml, c->rate_huge, c->rate_slow, c->rate_malformed};
    const standin_outcome outs[] = {OUT_RESET,   OUT_HANG, OUT_500,  OUT_404,
                                    OUT_NONHTML, OUT_HUGE, OUT_SLOW, OUT_MALFORMED};
    double u = (double)(standin_mix(rnd ^ 2) >> 11) * 0x1.0p-53, acc = 0;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        acc += rates[i];
        if (u < acc)
            return outs[i];
    }
    return OUT_OK;
}

/* "http(s)://[user@]host[:port][/...]" -> lower-case host. Returns -1 when invalid. */
static int standin_parse_host(const char *url, char *host, size_t n)
{
    const char *p = url;
    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    else
        return -1;
    size_t alen = strcspn(p, "/?#");
    const char *at = memchr(p, '@', alen);
    if (at) {
        alen -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t hlen = strcspn(p, ":/?#");
    if (hlen == 0 || hlen >= n || hlen > 253 || p[0] == '.' || p[0] == '-')
        return -1;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char ch = (unsigned char)p[i];
        int ok = ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                 (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '.' || ch == '_';
        if (!ok || (ch == '.' && p[i + 1] == '.'))
            return -1;
        host[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    host[hlen] = '\0';
    return 0;
}

/* Counts the request in flight; past the plan's limit it is refused (429) at once. */
static int standin_take_slot(standin_req *req)
{
    long now = atomic_fetch_add(&standin_st->in_flight, 1) + 1;
    if (now > standin_cfg->concurrency) {
        atomic_fetch_sub(&standin_st->in_flight, 1);
        return -1;
    }
    req->slot = 1;
    long max = atomic_load(&standin_st->max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&standin_st->max_in_flight, &max, now))
        ;
    return 0;
}

/* Holds the request's cost against the account while it runs, so that calls in flight can
 * never spend more than the credits left (checking first and charging at the answer let
 * 299 of 300 concurrent calls through an account of 100). Returns 0, or -1 when exhausted. */
static int standin_reserve(standin_req *req)
{
    standin_stats *st = standin_st;
    long held = atomic_fetch_add(&st->reserved, req->cost) + req->cost;
    if (atomic_load(&st->request_count) + held > atomic_load(&st->request_limit)) {
        atomic_fetch_sub(&st->reserved, req->cost);
        return -1;
    }
    req->reserved = 1;
    return 0;
}

/* Reads the tier parameters and prices the request. Returns 0, or -1 when invalid. */
static int standin_price(struct MHD_Connection *conn, standin_req *req)
{
    enum MHD_ValueKind k = MHD_GET_ARGUMENT_KIND;
    if (tier_parse(MHD_lookup_connection_value(conn, k, "render"),
                   MHD_lookup_connection_value(conn, k, "premium"),
                   MHD_lookup_connection_value(conn, k, "ultra_premium"),
                   MHD_lookup_connection_value(conn, k, "max_cost"), &req->tier) != 0)
        return -1;
    req->cost = tier_cost(&req->tier);
    if (strncmp(req->host, "costly-", 7) == 0)
        req->cost *= STANDIN_COSTLY_FACTOR; /* like ScraperAPI's SERP domains */
    return 0;
}

#define STANDIN_TEXT "text/plain; charset=utf-8"

/* Refusals that cost nothing, in ScraperAPI's order: price, concurrency, credits. Returns
 * 1 when the request may be served, else queues the refusal and returns 0 (or -1). */
static int standin_admit(struct MHD_Connection *conn, standin_req *req, enum MHD_Result *ret)
{
    if (req->tier.max_cost >= 0 && req->cost > req->tier.max_cost) {
        atomic_fetch_add(&standin_st->over_cost, 1);
        *ret = standin_text(conn, req, 403, STANDIN_TEXT,
                            "This request would cost more than your max_cost. You can see the "
                            "cost per request in your response header or in API Playground in "
                            "the dashboard.\n");
        return 0;
    }
    if (standin_take_slot(req) != 0) {
        *ret = standin_text(conn, req, 429, STANDIN_TEXT,
                            "You've exceeded your concurrency limit, please slow down or "
                            "contact support@scraperapi.com to increase your concurrency "
                            "limit.\n");
        return 0;
    }
    if (standin_reserve(req) != 0) {
        atomic_fetch_add(&standin_st->exhausted, 1);
        *ret = standin_text(conn, req, 403, STANDIN_TEXT,
                            "You have exhausted the API Credits available in this monthly "
                            "cycle. You can upgrade your subscription to get more credits.\n");
        return 0;
    }
    return 1;
}

static enum MHD_Result standin_scrape(struct MHD_Connection *conn, standin_req *req)
{
    const char *key = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "api_key");
    const char *url = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "url");
    enum MHD_Result ret = MHD_NO;
    int need = 0;
    req->scrape = 1;
    atomic_fetch_add(&standin_st->requests, 1);
    if (!key || strcmp(key, standin_cfg->api_key) != 0)
        return standin_text(conn, req, 401, STANDIN_TEXT,
                            "Unauthorized request, please make sure your API key is valid.\n");
    if (!url || standin_parse_host(url, req->host, sizeof req->host) != 0)
        return standin_text(conn, req, 400, STANDIN_TEXT, "Invalid or missing url parameter.\n");
    if (standin_price(conn, req) != 0)
        return standin_text(conn, req, 400, STANDIN_TEXT,
                            "Invalid render, premium, ultra_premium or max_cost parameter.\n");
    if (standin_admit(conn, req, &ret) != 1)
        return ret;
    uint64_t rnd = standin_mix((uint64_t)standin_cfg->seed ^
                               standin_mix(atomic_fetch_add(&standin_seq, 1)));
    int level = tier_level(&req->tier);
    atomic_fetch_add(&standin_st->by_tier[level], 1);
    req->wall = tier_wall_for(req->host, &need);
    req->outcome = req->wall != WALL_NONE && level < need ? OUT_WALL
                                                          : standin_choose(req->host, rnd);
    return standin_serve(conn, req, rnd);
}

/* ---- the other endpoints ---- */

#define STANDIN_LOAD(f) ((json_int_t)atomic_load(&standin_st->f))

/* ScraperAPI's /account fields, plus creditsRemaining (the stand-in's own). */
static json_t *standin_account_json(void)
{
    json_int_t used = STANDIN_LOAD(request_count), limit = STANDIN_LOAD(request_limit);
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "concurrencyLimit",
                     (json_int_t)standin_cfg->concurrency, "concurrentRequests",
                     STANDIN_LOAD(in_flight), "requestCount", used, "requestLimit", limit,
                     "failedRequestCount", STANDIN_LOAD(failed), "creditsRemaining",
                     limit > used ? limit - used : 0);
}

static enum MHD_Result standin_account(struct MHD_Connection *conn, standin_req *req)
{
    return standin_json(conn, req, standin_account_json());
}

/* Test control: /control/credits?limit=N sets the account's credits, ?add=N adds to them. */
static enum MHD_Result standin_control_credits(struct MHD_Connection *conn, standin_req *req)
{
    const char *limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
    const char *add = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "add");
    const char *v = limit ? limit : add;
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || n < 0 || (limit && add))
        return standin_text(conn, req, 400, "text/plain", "give limit=N or add=N\n");
    if (limit)
        atomic_store(&standin_st->request_limit, n);
    else
        atomic_fetch_add(&standin_st->request_limit, n);
    log_info("credits: the account's limit is now %ld (%ld used)",
             atomic_load(&standin_st->request_limit), atomic_load(&standin_st->request_count));
    return standin_json(conn, req, standin_account_json());
}

static json_t *standin_stats_statuses(void)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "200", STANDIN_LOAD(s200), "400",
                     STANDIN_LOAD(s400), "401", STANDIN_LOAD(s401), "403", STANDIN_LOAD(s403),
                     "404", STANDIN_LOAD(s404), "429", STANDIN_LOAD(s429), "500",
                     STANDIN_LOAD(s500));
}

/* Adds the credit figures to the /stats object o (NULL stays NULL). */
static json_t *standin_stats_add_credits(json_t *o)
{
    json_t *extra = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I}}", "credits", STANDIN_LOAD(request_count),
        "requestLimit", STANDIN_LOAD(request_limit), "reserved", STANDIN_LOAD(reserved),
        "exhausted", STANDIN_LOAD(exhausted), "overCost", STANDIN_LOAD(over_cost), "walls",
        STANDIN_LOAD(walls), "tiers", "plain", STANDIN_LOAD(by_tier[0]), "render",
        STANDIN_LOAD(by_tier[1]), "premium", STANDIN_LOAD(by_tier[2]), "ultra_premium",
        STANDIN_LOAD(by_tier[3]));
    if (o && (!extra || json_object_update(o, extra) != 0)) {
        json_decref(o);
        o = NULL;
    }
    json_decref(extra);
    return o;
}

static enum MHD_Result standin_stats_reply(struct MHD_Connection *conn, standin_req *req)
{
    return standin_json(
        conn, req,
        standin_stats_add_credits(json_pack(
            "{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "requests",
            STANDIN_LOAD(requests), "inFlight", STANDIN_LOAD(in_flight), "maxInFlight",
            STANDIN_LOAD(max_in_flight), "concurrencyLimit", (json_int_t)standin_cfg->concurrency,
            "requestCount", STANDIN_LOAD(request_count), "failedRequestCount", STANDIN_LOAD(failed),
            "status", standin_stats_statuses(), "status429", STANDIN_LOAD(s429), "status500",
            STANDIN_LOAD(s500), "hangs", STANDIN_LOAD(hangs), "resets", STANDIN_LOAD(resets),
            "slow", STANDIN_LOAD(slow), "huge", STANDIN_LOAD(huge), "nonhtml",
            STANDIN_LOAD(nonhtml), "malformed", STANDIN_LOAD(malformed), "corpus",
            STANDIN_LOAD(corpus), "abandoned", STANDIN_LOAD(abandoned))));
}

/* Zeroes the observation counters (not the account's credits) between test phases. */
static enum MHD_Result standin_stats_reset(struct MHD_Connection *conn, standin_req *req)
{
    standin_stats *st = standin_st;
    atomic_long *zero[] = {&st->requests,   &st->s200,       &st->s400,      &st->s401,
                           &st->s403,       &st->s404,       &st->s429,      &st->s500,
                           &st->hangs,      &st->resets,     &st->slow,      &st->huge,
                           &st->nonhtml,    &st->malformed,  &st->corpus,    &st->abandoned,
                           &st->exhausted,  &st->over_cost,  &st->walls,     &st->by_tier[0],
                           &st->by_tier[1], &st->by_tier[2], &st->by_tier[3]};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        atomic_store(zero[i], 0);
    atomic_store(&st->max_in_flight, atomic_load(&st->in_flight));
    return standin_text(conn, req, 200, "text/plain", "reset\n");
}

static enum MHD_Result standin_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)cls, (void)version, (void)upload_data;
    standin_req *req = *req_cls;
    if (!req) {
        if (!(req = calloc(1, sizeof *req))) {
            log_error("out of memory for a request");
            return MHD_NO;
        }
        clock_gettime(CLOCK_MONOTONIC, &req->start);
        *req_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a body is not expected: discard it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/stats/reset") == 0)
        return standin_stats_reset(conn, req);
    if (strcmp(url, "/control/credits") == 0)
        return standin_control_credits(conn, req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return standin_text(conn, req, 405, "text/plain", "method not allowed\n");
    if (strcmp(url, "/") == 0)
        return standin_scrape(conn, req);
    if (strcmp(url, "/account") == 0)
        return standin_account(conn, req);
    if (strcmp(url, "/stats") == 0)
        return standin_stats_reply(conn, req);
    if (strcmp(url, "/healthz") == 0)
        return standin_text(conn, req, 200, "text/plain", "ok\n");
    return standin_text(conn, req, 404, "text/plain", "not found\n");
}

static void standin_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn;
    standin_req *req = *req_cls;
    if (!req)
        return;
    if (req->slot)
        atomic_fetch_sub(&standin_st->in_flight, 1);
    if (req->reserved)
        atomic_fetch_sub(&standin_st->reserved, req->cost);
    if (req->scrape && standin_cfg->log_requests)
        log_info("GET host=%s status=%u outcome=%s tier=%s cost=%ld max_cost=%ld ms=%ld%s",
                 req->host[0] ? req->host : "-", req->status,
                 req->slot ? standin_outcome_names[req->outcome] : "-",
                 tier_level_name(tier_level(&req->tier)), req->cost, req->tier.max_cost,
                 standin_ms_since(&req->start),
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed)");
    free(req);
    *req_cls = NULL;
}

static void standin_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    /* Resets and abandoned requests end that way on purpose. */
    if (strncmp(msg, "Application reported internal error", 35) == 0)
        log_debug("microhttpd: %s", msg);
    else
        log_warn("microhttpd: %s", msg);
}

int standin_server_start(const standin_config *cfg, standin_stats *stats)
{
    standin_cfg = cfg;
    standin_st = stats;
    atomic_store(&stats->request_limit, cfg->request_limit);
    standin_daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, standin_handle, NULL, MHD_OPTION_EXTERNAL_LOGGER,
        standin_mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, standin_completed, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)STANDIN_THREAD_STACK, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)STANDIN_BACKLOG,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)STANDIN_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!standin_daemon) {
        log_error("STANDIN_PORT: cannot listen on port %ld (MHD_start_daemon failed)", cfg->port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(standin_daemon,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        log_error("MHD_get_daemon_info(MHD_DAEMON_INFO_BIND_PORT) failed");
        standin_server_stop();
        return -1;
    }
    return info->port;
}

/* Wakes every waiting request (they give up), then lets MHD close and join the threads. */
void standin_server_stop(void)
{
    if (!standin_daemon)
        return;
    atomic_store(&standin_stopping, 1);
    MHD_stop_daemon(standin_daemon);
    standin_daemon = NULL;
}
