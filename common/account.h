/* ScraperAPI's /account: the plan's concurrency and the credits used and left. */
#ifndef WF4_ACCOUNT_H
#define WF4_ACCOUNT_H

#include <curl/curl.h>
#include <stddef.h>

/* The fields of an /account answer; -1 where the answer has no such integer. */
typedef struct account_info {
    long request_count;     /* credits used this cycle (ScraperAPI refreshes it every 15 s) */
    long request_limit;     /* credits of the plan */
    long concurrent;        /* concurrentRequests, live */
    long concurrency_limit; /* concurrencyLimit */
    long failed;            /* failedRequestCount */
} account_info;

/* request_limit - request_count (0 when negative), or -1 when either is unknown. */
long account_credits_left(const account_info *a);

/* Parses an /account answer. Returns 0, or -1 with err when it is not a JSON object. */
int account_parse(const char *body, account_info *a, char *err, size_t errlen);

/* An answer being read: the body grows here (at most 1 MiB). */
typedef struct account_buf {
    char *p;
    size_t len;
} account_buf;

/* A configured easy handle for GET <api_url>/account?api_key=, writing into b and errbuf
 * (CURL_ERROR_SIZE bytes). Returns NULL with err. The caller performs and cleans it up. */
CURL *account_easy(const char *api_url, const char *api_key, long timeout_ms, account_buf *b,
                   char *errbuf, char *err, size_t errlen);

/* Completes a finished GET: checks the transport result and status, parses the body, frees
 * it. Returns 0, or -1 with err (the URL and key never in it). */
int account_finish(CURL *easy, CURLcode cc, account_buf *b, const char *errbuf, account_info *a,
                   char *err, size_t errlen);

/* Blocking GET /account, for start-up. Returns 0, or -1 with err. */
int account_get(const char *api_url, const char *api_key, long timeout_ms, account_info *a,
                char *err, size_t errlen);

#endif
