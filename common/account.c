/* ScraperAPI's /account: the plan's concurrency and the credits used and left. */
#include "account.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_url.h"

#define ACCOUNT_MAX_BODY (1 << 20)

long account_credits_left(const account_info *a)
{
    if (a->request_count < 0 || a->request_limit < 0)
        return -1;
    return a->request_limit > a->request_count ? a->request_limit - a->request_count : 0;
}

static long account_field(json_t *root, const char *name)
{
    json_t *v = json_object_get(root, name);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : -1;
}

int account_parse(const char *body, account_info *a, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(body, 0, &je);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "account answer is not a JSON object%s%s", root ? "" : ": ",
                 root ? "" : je.text);
        json_decref(root);
        return -1;
    }
    a->request_count = account_field(root, "requestCount");
    a->request_limit = account_field(root, "requestLimit");
    a->concurrent = account_field(root, "concurrentRequests");
    a->concurrency_limit = account_field(root, "concurrencyLimit");
    a->failed = account_field(root, "failedRequestCount");
    json_decref(root);
    return 0;
}

static size_t account_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    account_buf *b = userp;
    size_t n = size * nmemb;
    if (b->len + n > ACCOUNT_MAX_BODY)
        return 0;
    char *p = realloc(b->p, b->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, data, n);
    b->p = p;
    b->len += n;
    p[b->len] = '\0';
    return n;
}

#define ACCOUNT_SETOPT(h, opt, val)             \
    do {                                        \
        if (cc == CURLE_OK)                     \
            cc = curl_easy_setopt(h, opt, val); \
    } while (0)

CURL *account_easy(const char *api_url, const char *api_key, long timeout_ms, account_buf *b,
                   char *errbuf, char *err, size_t errlen)
{
    CURL *easy = curl_easy_init();
    if (!easy) {
        snprintf(err, errlen, "curl_easy_init failed");
        return NULL;
    }
    size_t l = strlen(api_url);
    char *url = api_url_build(easy, api_url, l && api_url[l - 1] == '/' ? "account" : "/account",
                              api_key, NULL, "");
    CURLcode cc = url ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    errbuf[0] = '\0';
    ACCOUNT_SETOPT(easy, CURLOPT_URL, url);
    ACCOUNT_SETOPT(easy, CURLOPT_ERRORBUFFER, errbuf);
    ACCOUNT_SETOPT(easy, CURLOPT_WRITEFUNCTION, account_write_cb);
    ACCOUNT_SETOPT(easy, CURLOPT_WRITEDATA, b);
    ACCOUNT_SETOPT(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    ACCOUNT_SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
    free(url);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "GET account: %s", curl_easy_strerror(cc));
        curl_easy_cleanup(easy);
        return NULL;
    }
    return easy;
}

int account_finish(CURL *easy, CURLcode cc, account_buf *b, const char *errbuf, account_info *a,
                   char *err, size_t errlen)
{
    char clean[CURL_ERROR_SIZE];
    long status = 0;
    int rc = -1;
    if (cc != CURLE_OK) {
        api_url_redact(errbuf, clean, sizeof clean);
        snprintf(err, errlen, "GET account: %s%s%s", curl_easy_strerror(cc), *clean ? ": " : "",
                 clean);
        goto done;
    }
    cc = curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status != 200) {
        snprintf(err, errlen, "GET account: HTTP %ld", status);
        goto done;
    }
    rc = account_parse(b->p ? b->p : "", a, err, errlen);
done:
    free(b->p);
    b->p = NULL;
    b->len = 0;
    return rc;
}

int account_get(const char *api_url, const char *api_key, long timeout_ms, account_info *a,
                char *err, size_t errlen)
{
    char errbuf[CURL_ERROR_SIZE];
    account_buf b = {0};
    CURL *easy = account_easy(api_url, api_key, timeout_ms, &b, errbuf, err, errlen);
    if (!easy)
        return -1;
    int rc = account_finish(easy, curl_easy_perform(easy), &b, errbuf, a, err, errlen);
    curl_easy_cleanup(easy);
    return rc;
}
