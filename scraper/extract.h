/* Page metadata extraction: bytes of a home page in, a meta_page out. */
#ifndef WF4_EXTRACT_H
#define WF4_EXTRACT_H

#include <stddef.h>

#include "meta.h"

/* Bodies longer than this are cut to this many bytes before decoding and parsing. */
#define EXTRACT_MAX_BODY (5u * 1024u * 1024u)

/* Markup past this estimated nesting depth or number of start tags is cut before
 * parsing: gumbo's time grows with tags x depth (see extract_limit.c). */
#define EXTRACT_MAX_DEPTH 512u
#define EXTRACT_MAX_TAGS 100000u

/* Field caps, in bytes; text is cut at a UTF-8 boundary, a longer URL is skipped
 * (a cut URL points nowhere) and the next candidate is tried. */
#define EXTRACT_MAX_TITLE 512u
#define EXTRACT_MAX_DESCRIPTION 2048u
#define EXTRACT_MAX_URL 2048u
#define EXTRACT_MAX_LANGUAGE 35u
#define EXTRACT_MAX_VERSION 32u
#define EXTRACT_MAX_EMAILS 20u
#define EXTRACT_MAX_PHONES 20u
#define EXTRACT_MAX_TECH 40u

/* Return values of extract_page. */
#define EXTRACT_OK 0       /* parsed as HTML; fields filled as found */
#define EXTRACT_NOT_HTML 1 /* success with every field empty: empty, JSON or binary body */
#define EXTRACT_ERROR (-1) /* bad arguments or out of memory; out is left empty */

/*
 * Extracts title, description, icons, language, WordPress/Elementor, technologies,
 * e-mail addresses, phone numbers and social profile links from a fetched page.
 *
 * body/len: the raw bytes as received (need not be NUL-terminated; may be NULL when
 * len is 0). content_type: the HTTP Content-Type or NULL; its charset parameter is
 * used, and an explicitly non-HTML media type (JSON, images, PDF, ...) gives
 * EXTRACT_NOT_HTML. page_url: the absolute URL fetched (e.g. "https://example.com/"),
 * against which relative links are resolved; NULL leaves relative URLs out.
 *
 * Charset order: a byte-order mark (as browsers do: a BOM is proof of the encoding,
 * and servers often send a stale "charset=iso-8859-1"), then the Content-Type
 * charset, then <meta charset> / http-equiv in the first 4 KB, then valid UTF-8, then
 * uchardet's guess, then windows-1252. Labels follow the WHATWG mapping
 * (iso-8859-1 and us-ascii decode as windows-1252, shift_jis as CP932).
 * Invalid sequences become U+FFFD; every output string is valid UTF-8.
 *
 * out is overwritten (not freed first: pass a zeroed or freed struct). On EXTRACT_OK
 * and EXTRACT_NOT_HTML the caller owns out and frees it with meta_page_free(); on
 * EXTRACT_ERROR out is already freed and zeroed. err (may be NULL) receives a short
 * reason for EXTRACT_NOT_HTML and EXTRACT_ERROR and "" for EXTRACT_OK.
 *
 * Lists keep document order, deduplicated: tech_stack in rule-table order (see
 * extract_rules.c); phone_numbers in E.164, validated by libphonenumber for the
 * page's region (extract_phone.c says which clues decide it, in which order). Social
 * links: an organisation's profile before a person's, a profile before a post's
 * author (extract_url.c). Thread-safe: no global state but libphonenumber's
 * read-only metadata, loaded on first use.
 */
int extract_page(const char *body, size_t len, const char *content_type, const char *page_url,
                 meta_page *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Adds technologies shown by one HTTP response header (name, value) to m->tech_stack:
 * e.g. "cf-ray" (Cloudflare), "x-shopid" (Shopify), "x-drupal-cache" (Drupal), and
 * cookie names in "set-cookie" values. Call after extract_page when the fetch returned
 * the origin's headers. Returns 0, or -1 when out of memory.
 */
int extract_header_tech(meta_page *m, const char *name, const char *value)
    __attribute__((warn_unused_result));

#endif
