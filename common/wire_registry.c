/* Schema registry client (Confluent-compatible REST API) over libcurl easy handles. */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire_internal.h"

#define REG_TIMEOUT_MS 5000L
#define REG_CONNECT_TIMEOUT_MS 2000L
#define REG_MAX_BODY (4 * 1024 * 1024)
#define REG_TRANSPORT_TRIES 5 /* 5 s timeouts with 0.5-4 s pauses: about 30 s in all */

typedef struct reg_body {
    char *data;
    size_t len;
    int overflow;
} reg_body;

static size_t reg_write(char *p, size_t size, size_t n, void *arg)
{
    reg_body *b = arg;
    size_t add = size * n;
    if (b->len + add > REG_MAX_BODY) {
        b->overflow = 1;
        return 0;
    }
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->data = d;
    b->len += add;
    d[b->len] = '\0';
    return add;
}

/* One request: body NULL = GET. On success *status is the HTTP code and *resp holds the
 * parsed JSON body (or NULL when it is not JSON). */
static int reg_request(const char *url, const char *body, long *status, json_t **resp, char *err,
                       size_t errlen)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    reg_body b = {0};
    struct curl_slist *hdrs = NULL;
    int rc = -1;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "registry: curl_easy_init failed");
        return -1;
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
    struct curl_slist *h2 =
        hdrs ? curl_slist_append(hdrs,
                                 "Accept: application/vnd.schemaregistry.v1+json, application/json")
             : NULL;
    if (!h2) {
        snprintf(err, errlen, "registry: out of memory");
        goto cleanup;
    }
    hdrs = h2;
    CURLcode cc;
    if ((cc = curl_easy_setopt(h, CURLOPT_URL, url)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REG_TIMEOUT_MS)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, REG_CONNECT_TIMEOUT_MS)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reg_write)) != CURLE_OK ||
        (cc = curl_easy_setopt(h, CURLOPT_WRITEDATA, &b)) != CURLE_OK ||
        (body && (cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body)) != CURLE_OK)) {
        snprintf(err, errlen, "registry: curl_easy_setopt: %s", curl_easy_strerror(cc));
        goto cleanup;
    }
    if ((cc = curl_easy_perform(h)) != CURLE_OK) {
        snprintf(err, errlen, "registry %s: %s", url,
                 b.overflow ? "response too large" : (*ebuf ? ebuf : curl_easy_strerror(cc)));
        goto cleanup;
    }
    if ((cc = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status)) != CURLE_OK) {
        snprintf(err, errlen, "registry: curl_easy_getinfo: %s", curl_easy_strerror(cc));
        goto cleanup;
    }
    *resp = b.data ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    rc = 0;
cleanup:
    free(b.data);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

static void reg_error(const char *what, long status, json_t *resp, char *err, size_t errlen)
{
    const char *msg = json_string_value(json_object_get(resp, "message"));
    snprintf(err, errlen, "registry %s: HTTP %ld%s%s", what, status, msg ? ": " : "",
             msg ? msg : "");
}

static int reg_already_exists(json_t *resp)
{
    const char *msg = json_string_value(json_object_get(resp, "message"));
    return msg && strstr(msg, "already exists") != NULL;
}

int wire_registry_post(const char *url, const char *subject, const char *schema_json, int32_t *id,
                       char *err, size_t errlen)
{
    char target[1024];
    json_t *resp = NULL;
    long status = 0;
    int rc = -1;
    json_t *req = json_pack("{s:s}", "schema", schema_json);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!body) {
        snprintf(err, errlen, "registry: cannot build request body");
        goto cleanup;
    }
    snprintf(target, sizeof target, "%s/subjects/%s/versions", url, subject);
    /* Several instances starting at once race to create the subject: the losers get a 409
     * "already exists" and, asked again, the id of the same schema. A registry that is still
     * starting or slowed down times out: asked again after a pause, it answers. */
    for (int attempt = 0;; attempt++) {
        int failed = reg_request(target, body, &status, &resp, err, errlen) != 0;
        if (failed && attempt >= REG_TRANSPORT_TRIES - 1)
            goto cleanup;
        if (!failed && (status != 409 || attempt >= 5 || !reg_already_exists(resp)))
            break;
        json_decref(resp);
        resp = NULL;
        long pause_ms = failed ? 500L << attempt : 100L * (attempt + 1);
        struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    json_t *jid = json_object_get(resp, "id");
    if (status != 200 || !json_is_integer(jid) || json_integer_value(jid) < 0 ||
        json_integer_value(jid) > INT32_MAX) {
        reg_error(subject, status, resp, err, errlen);
        goto cleanup;
    }
    *id = (int32_t)json_integer_value(jid);
    rc = 0;
cleanup:
    json_decref(resp);
    free(body);
    json_decref(req);
    return rc;
}

int wire_registry_get(const char *url, int32_t id, char **schema_json, char *err, size_t errlen)
{
    char target[1024], what[64];
    json_t *resp = NULL;
    long status = 0;
    int rc = -1;
    snprintf(target, sizeof target, "%s/schemas/ids/%" PRId32, url, id);
    snprintf(what, sizeof what, "schema id %" PRId32, id);
    if (reg_request(target, NULL, &status, &resp, err, errlen) != 0)
        return -1;
    const char *s = json_string_value(json_object_get(resp, "schema"));
    if (status == 404) {
        snprintf(err, errlen, "unknown schema id %" PRId32 " (registry answered 404)", id);
        rc = 1;
    } else if (status != 200 || !s) {
        reg_error(what, status, resp, err, errlen);
    } else if (!(*schema_json = strdup(s))) {
        snprintf(err, errlen, "registry: out of memory");
    } else {
        rc = 0;
    }
    json_decref(resp);
    return rc;
}
