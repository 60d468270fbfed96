/* ScraperAPI request URLs: built with the key escaped, and redacted before they are shown. */
#ifndef WF4_API_URL_H
#define WF4_API_URL_H

#include <curl/curl.h>
#include <stddef.h>

/* Builds "<base><path>?api_key=<key>[&url=<escaped target>]<extra>" (or "&api_key=" when
 * base already has a query). Returns a malloc'ed string the caller frees, or NULL. */
char *api_url_build(CURL *easy, const char *base, const char *path, const char *key,
                    const char *target, const char *extra);

/* Writes url with the value of every api_key= parameter replaced by "***". */
void api_url_redact(const char *url, char *out, size_t outlen);

#endif
