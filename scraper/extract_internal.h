/* Helpers shared by the extract_*.c files; not part of the scraper's API. */
#ifndef WF4_EXTRACT_INTERNAL_H
#define WF4_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "meta.h"

/* ---- extract_charset.c ---- */

/* Picks the charset of body (BOM, content_type charset, <meta>, UTF-8, uchardet,
 * windows-1252) and writes an iconv name into name (size n). *skip receives the
 * BOM length to drop. Never fails: the last resort is windows-1252. */
void ext_charset_detect(const char *body, size_t len, const char *content_type, char *name,
                        size_t n, size_t *skip);

/* Converts len bytes from charset to valid UTF-8 (invalid sequences become U+FFFD,
 * NUL becomes U+FFFD). Returns a malloc'd, NUL-terminated string owned by the caller
 * and its length in *outlen, or NULL when out of memory. */
char *ext_to_utf8(const char *in, size_t len, const char *charset, size_t *outlen);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates, > U+10FFFF). */
bool ext_utf8_valid(const char *s, size_t len);

/* Copies s[0..len) to a new string with each ill-formed sequence replaced by U+FFFD.
 * Caller frees; NULL when out of memory. */
char *ext_utf8_sanitize(const char *s, size_t len, size_t *outlen);

/* ---- extract_limit.c ---- */

/* Length of the prefix of the UTF-8 page s that stays within max_depth nested
 * elements (estimated from tags, never below the real depth for ordinary markup)
 * and max_tags start tags; len when the whole page does. */
size_t ext_markup_limit(const char *s, size_t len, size_t max_depth, size_t max_tags);

/* ---- extract_text.c ---- */

/* New string: s with whitespace runs (ASCII, NBSP, controls) collapsed to one space,
 * trimmed, cut to at most cap bytes at a UTF-8 boundary. "" when nothing is left.
 * Caller frees; NULL when out of memory. */
char *ext_clean_text(const char *s, size_t cap);

/* Cuts s in place to at most cap bytes without splitting a UTF-8 sequence. */
void ext_utf8_cut(char *s, size_t cap);

/* Appends s to l unless present (case-sensitive) or l already holds max entries.
 * Returns 0 or -1 when out of memory. */
int ext_list_add(strlist *l, const char *s, size_t max);

/* Finds e-mail addresses in text and adds them (lower-cased) to l. */
int ext_find_emails(const char *text, strlist *l, size_t max);

/* Adds the addresses of a mailto: URL (after "mailto:") to l. */
int ext_mailto(const char *href, strlist *l, size_t max);

/* Percent-decodes src into dst (size n), stopping at any character of stops. */
void ext_url_unescape(const char *src, const char *stops, char *dst, size_t n);

/* ---- extract_url.c ---- */

/* Resolves ref against the absolute http(s) URL base. Returns a malloc'd absolute
 * http(s) URL (caller frees), or NULL when ref is empty, of another scheme
 * (javascript:, data:, mailto:), unresolvable, or longer than cap. *oom is set
 * when NULL is due to out of memory. */
char *ext_url_resolve(const char *base, const char *ref, size_t cap, bool *oom);

typedef enum {
    EXT_SOCIAL_NONE = -1,
    EXT_SOCIAL_FACEBOOK = 0,
    EXT_SOCIAL_TWITTER,
    EXT_SOCIAL_LINKEDIN,
    EXT_SOCIAL_INSTAGRAM,
    EXT_SOCIAL_YOUTUBE,
    EXT_SOCIAL_COUNT
} ext_social;

/* How good a link is as a site's profile on its network: lower is better. */
typedef enum {
    EXT_RANK_ORG = 0, /* a profile; on LinkedIn an organisation's (/company/, /school/) */
    EXT_RANK_PERSON,  /* a person's LinkedIn profile (/in/): the founder, not the firm */
    EXT_RANK_POST,    /* a post's author (twitter.com/brand/status/1 -> twitter.com/brand) */
    EXT_RANK_NONE
} ext_social_rank;

/* Classifies an absolute URL as a link to a network's profile, or EXT_SOCIAL_NONE
 * (other hosts, share/intent links, posts without an author, bare home pages).
 * *rank receives its rank and *keep the length of the profile URL at the start of
 * url (strlen(url), or less for a post: the author's profile). */
ext_social ext_social_classify(const char *url, ext_social_rank *rank, size_t *keep);

/* ---- extract_rules.c ---- */

typedef enum {
    EXT_EV_GENERATOR,  /* <meta name=generator content> substring */
    EXT_EV_SCRIPT_SRC, /* <script src> substring */
    EXT_EV_LINK_HREF,  /* <link href> substring */
    EXT_EV_ASSET_SRC,  /* src of img/iframe/source/embed substring */
    EXT_EV_A_HREF,     /* <a href> substring */
    EXT_EV_INLINE,     /* inline <script> text substring */
    EXT_EV_CLASS,      /* class attribute substring */
    EXT_EV_ID,         /* id attribute, whole value */
    EXT_EV_ATTR_NAME,  /* attribute name prefix (data-v-, ng-version) */
    EXT_EV_META_NAME,  /* <meta name> whole value */
    EXT_EV_COMMENT,    /* HTML comment substring */
    EXT_EV_HEADER,     /* HTTP response header name */
    EXT_EV_COOKIE,     /* cookie name prefix in set-cookie */
    EXT_EV_COUNT
} ext_evidence;

#define EXT_TECH_SLOTS 64

/* Names of the technologies, indexed by tech id; count in *n. */
const char *const *ext_tech_names(size_t *n);

/* Marks in found[] every technology whose rule of this kind matches value. */
void ext_rules_match(ext_evidence kind, const char *value, bool found[EXT_TECH_SLOTS]);

/* Adds technologies implied by others (Next.js -> React, WooCommerce -> WordPress). */
void ext_rules_imply(bool found[EXT_TECH_SLOTS]);

/* Tech id of a name, or -1. */
int ext_tech_id(const char *name);

/* ---- extract_walk.c ---- */

#define EXT_WP_VERSIONS 8

/* The number of a tel: link, and the length of the page text before it. */
typedef struct ext_tel {
    size_t at;
    char *raw;
} ext_tel;

/* State of one extraction: candidates per field, first one found wins. Every
 * char * is owned; extract.c moves the winners into the meta_page. */
typedef struct ext_ctx {
    meta_page *m;     /* lists and social links are filled in place */
    const char *base; /* page URL, or the <base href> resolved against it */
    char *base_owned;
    char *title, *og_title, *desc, *og_desc, *lang, *lang_meta;
    char *icon, *apple_icon, *og_logo, *schema_logo, *img_logo;
    char *wp_version;                 /* from the generator meta */
    char wp_ver[EXT_WP_VERSIONS][33]; /* ver= of /wp-includes/ assets, with counts */
    unsigned wp_ver_n[EXT_WP_VERSIONS];
    bool found[EXT_TECH_SLOTS];
    ext_social_rank social_rank[EXT_SOCIAL_COUNT]; /* of the links in the meta_page */
    char *og_locale;                               /* <meta property=og:locale>, e.g. "de_DE" */
    char addr_country[3]; /* schema.org addressCountry, when a region code */
    char *text;           /* visible text, '\n' between nodes, for phone numbers */
    size_t text_len, text_cap;
    struct ext_tel *tels; /* numbers of tel: links, with their place in text */
    size_t ntels, tels_cap;
    bool oom;
} ext_ctx;

struct GumboInternalNode;
/* Visits every node below root (iteratively: nesting depth is unbounded). */
void ext_walk(ext_ctx *c, struct GumboInternalNode *root);
/* Sets c->base from the first <base href> of the document. */
void ext_find_base(ext_ctx *c, struct GumboInternalNode *root, const char *page_url);

/* ---- extract_phone.c ---- */

/* Appends a cleaned text node to c->text (up to EXT_PHONE_TEXT_MAX bytes in all). */
void ext_phone_text(ext_ctx *c, const char *t);

/* Notes the number of a tel: URL (after "tel:", still percent-encoded). */
void ext_phone_tel(ext_ctx *c, const char *href);

/* Notes the value of a schema.org addressCountry when it is a region code ("DE"). */
void ext_phone_country(ext_ctx *c, const char *value);

/* The region numbers written nationally are read for (see extract_phone.c for the
 * order of the clues), written into region (3 bytes); false when nothing says. */
bool ext_phone_region(const ext_ctx *c, const char *page_url, char region[3]);

/* Fills m->phone_numbers from c->text and c->tels: valid numbers in E.164, each once,
 * in page order. Returns 0, or -1 when out of memory. */
int ext_phone_finish(ext_ctx *c, const char *page_url, meta_page *m);

/* Masks (overwrites with '_') each digit run of s[0..n) that is plainly not a phone
 * number: too few or too many digits, a date, a price, or labelled as another kind
 * of number ("EAN", "USt-IdNr.", "SKU") and not as a phone's. Returns how many runs
 * are left (extract_phone_mask.c). */
size_t ext_phone_mask(char *s, size_t n);

/* Frees what ext_phone_* keep in c. */
void ext_phone_free(ext_ctx *c);

#endif
