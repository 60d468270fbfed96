/* ScraperAPI request URLs: built with the key escaped, and redacted before they are shown. */
#include "api_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void api_url_redact(const char *url, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    for (const char *p = url; *p && o + 1 < outlen;) {
        if (strncmp(p, "api_key=", 8) == 0 && (p == url || p[-1] == '?' || p[-1] == '&')) {
            const char *rep = "api_key=***";
            for (const char *r = rep; *r && o + 1 < outlen; r++)
                out[o++] = *r;
            p += 8;
            while (*p && *p != '&')
                p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

char *api_url_build(CURL *easy, const char *base, const char *path, const char *key,
                    const char *target, const char *extra)
{
    char *k = curl_easy_escape(easy, key, 0);
    char *t = target ? curl_easy_escape(easy, target, 0) : NULL;
    char *url = NULL;
    if (k && (t || !target)) {
        size_t n = strlen(base) + strlen(path) + strlen(k) + (t ? strlen(t) : 0) + strlen(extra) +
                   32;
        url = malloc(n);
        if (url)
            snprintf(url, n, "%s%s%capi_key=%s%s%s%s", base, path, strchr(base, '?') ? '&' : '?', k,
                     t ? "&url=" : "", t ? t : "", extra);
        if (strcmp(k, key) != 0)
            log_add_secret(k); /* the escaped key is a secret too */
    }
    curl_free(k);
    curl_free(t);
    return url;
}
