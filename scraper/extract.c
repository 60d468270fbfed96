/* Page metadata extraction: decode, parse with gumbo, walk, pick the field winners. */
#include "extract.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "extract_internal.h"

#define SNIFF_BYTES 1024u

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- gumbo allocations ----
 * Why: gumbo 0.10.1 frees its tree recursively, and HTML allows any nesting depth,
 * so gumbo_destroy_output on 5 MB of "<div>" overflows the stack. Every gumbo block
 * is kept on a list instead, and the whole list is freed in one loop. */

typedef union arena_hdr {
    struct {
        union arena_hdr *prev, *next;
    } l;
    max_align_t align;
} arena_hdr;

typedef struct arena {
    arena_hdr head; /* circular list sentinel */
} arena;

static void *arena_alloc(void *ud, size_t size)
{
    arena *a = ud;
    arena_hdr *h = malloc(sizeof *h + size);
    if (!h) /* gumbo 0.10.1 does not check its allocations: stop here, loudly */
        abort();
    h->l.next = a->head.l.next;
    h->l.prev = &a->head;
    a->head.l.next->l.prev = h;
    a->head.l.next = h;
    return h + 1;
}

static void arena_free(void *ud, void *ptr)
{
    (void)ud;
    if (!ptr)
        return;
    arena_hdr *h = (arena_hdr *)ptr - 1;
    h->l.prev->l.next = h->l.next;
    h->l.next->l.prev = h->l.prev;
    free(h);
}

static void arena_release(arena *a)
{
    arena_hdr *h = a->head.l.next;
    while (h != &a->head) {
        arena_hdr *next = h->l.next;
        free(h);
        h = next;
    }
    a->head.l.next = a->head.l.prev = &a->head;
}

/* ---- non-HTML bodies ---- */

static const char *const not_html_types[] = {
    "application/json",
    "application/javascript",
    "text/javascript",
    "text/css",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "image/",
    "audio/",
    "video/",
    "font/",
};

/* Why the body is not HTML worth parsing, or NULL. */
static const char *sniff_not_html(const char *body, size_t len, const char *ct)
{
    if (ct) {
        size_t tl = strcspn(ct, ";");
        for (size_t i = 0; i < sizeof not_html_types / sizeof not_html_types[0]; i++)
            if (strncasecmp(ct, not_html_types[i], strlen(not_html_types[i])) == 0)
                return "non-HTML content type";
        if (tl >= 5 && strncasecmp(ct + tl - 5, "+json", 5) == 0)
            return "non-HTML content type";
    }
    const unsigned char *u = (const unsigned char *)body;
    size_t i = 0, n, ctl = 0;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return NULL; /* UTF-16: NUL bytes are expected */
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        i = 3;
    while (i < len && (u[i] == ' ' || u[i] == '\t' || u[i] == '\n' || u[i] == '\r' || u[i] == '\f'))
        i++;
    if (i == len)
        return "empty body";
    n = len - i < SNIFF_BYTES ? len : i + SNIFF_BYTES;
    if (u[i] == '{' || u[i] == '[')
        return "JSON body";
    if (len - i >= 5 && memcmp(u + i, "%PDF-", 5) == 0)
        return "PDF body";
    for (size_t k = i; k < n; k++)
        if (u[k] == 0 || (u[k] < 0x20 && u[k] != '\t' && u[k] != '\n' && u[k] != '\r' &&
                          u[k] != '\f' && u[k] != 0x1B))
            ctl++;
    return ctl * 20 > n - i || memchr(u + i, 0, n - i) ? "binary body" : NULL;
}

/* ---- picking the winners ---- */

static char *take(char **a, char **b)
{
    char **src = *a || !b ? a : b;
    char *v = *src;
    *src = NULL;
    return v;
}

static void ctx_free(ext_ctx *c)
{
    char **f[] = {&c->base_owned,  &c->title,     &c->og_title,  &c->desc,       &c->og_desc,
                  &c->lang,        &c->lang_meta, &c->icon,      &c->apple_icon, &c->og_logo,
                  &c->schema_logo, &c->img_logo,  &c->wp_version};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
    ext_phone_free(c);
}

static char *wp_version_guess(ext_ctx *c)
{
    size_t best = EXT_WP_VERSIONS;
    for (size_t i = 0; i < EXT_WP_VERSIONS && c->wp_ver_n[i]; i++)
        if (best == EXT_WP_VERSIONS || c->wp_ver_n[i] > c->wp_ver_n[best])
            best = i;
    if (c->wp_version)
        return take(&c->wp_version, NULL);
    if (best == EXT_WP_VERSIONS)
        return NULL;
    char *v = strdup(c->wp_ver[best]);
    c->oom |= v == NULL;
    return v;
}

static int finish_tech(ext_ctx *c, meta_page *m)
{
    size_t n = 0;
    const char *const *names = ext_tech_names(&n);
    ext_rules_imply(c->found);
    for (size_t i = 0; i < n; i++)
        if (c->found[i] && ext_list_add(&m->tech_stack, names[i], EXTRACT_MAX_TECH) != 0)
            return -1;
    m->is_wordpress = c->found[ext_tech_id("WordPress")];
    m->has_elementor = c->found[ext_tech_id("Elementor")];
    if (m->is_wordpress)
        m->wordpress_version = wp_version_guess(c);
    return c->oom ? -1 : 0;
}

static int finish(ext_ctx *c, const char *page_url, meta_page *m)
{
    m->title = take(&c->title, &c->og_title);
    m->description = take(&c->desc, &c->og_desc);
    m->favicon_url = take(&c->icon, &c->apple_icon);
    if (!m->favicon_url) {
        bool oom = false;
        m->favicon_url = ext_url_resolve(c->base, "/favicon.ico", EXTRACT_MAX_URL, &oom);
        if (oom)
            return -1;
    }
    m->logo_url = take(&c->og_logo, &c->schema_logo);
    if (!m->logo_url)
        m->logo_url = take(&c->img_logo, NULL);
    m->language = take(&c->lang, &c->lang_meta);
    if (ext_phone_finish(c, page_url, m) != 0)
        return -1;
    return finish_tech(c, m);
}

/* Last line of defence: any field that is not valid UTF-8 is repaired. */
static int check_utf8(meta_page *m)
{
    char **f[] = {&m->title,        &m->description,       &m->favicon_url,  &m->logo_url,
                  &m->language,     &m->wordpress_version, &m->facebook_url, &m->twitter_url,
                  &m->linkedin_url, &m->instagram_url,     &m->youtube_url};
    strlist *lists[] = {&m->tech_stack, &m->email_addresses, &m->phone_numbers};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        for (size_t k = 0; k < lists[i]->n; k++)
            if (!ext_utf8_valid(lists[i]->v[k], strlen(lists[i]->v[k])))
                return -1; /* lists hold ASCII only: a bug, not input */
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!*f[i] || ext_utf8_valid(*f[i], strlen(*f[i])))
            continue;
        char *fixed = ext_utf8_sanitize(*f[i], strlen(*f[i]), NULL);
        if (!fixed)
            return -1;
        free(*f[i]);
        *f[i] = fixed;
    }
    return 0;
}

/* Parses the UTF-8 page and fills m. 0, or -1 when out of memory. */
static int extract_utf8(const char *html, size_t len, const char *page_url, meta_page *m)
{
    arena a = {.head = {.l = {&a.head, &a.head}}};
    GumboOptions opt = kGumboDefaultOptions;
    opt.allocator = arena_alloc;
    opt.deallocator = arena_free;
    opt.userdata = &a;
    opt.max_errors = 0; /* we never read parse errors: do not keep them */
    ext_ctx c = {.m = m};
    int rc = -1;
    len = ext_markup_limit(html, len, EXTRACT_MAX_DEPTH, EXTRACT_MAX_TAGS);
    GumboOutput *g = gumbo_parse_with_options(&opt, html, len);
    if (!g)
        goto cleanup;
    ext_find_base(&c, g->document, page_url);
    ext_walk(&c, g->document);
    if (c.oom || finish(&c, page_url, m) != 0 || check_utf8(m) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    ctx_free(&c);
    arena_release(&a); /* instead of gumbo_destroy_output: see arena_alloc */
    return rc;
}

int extract_page(const char *body, size_t len, const char *content_type, const char *page_url,
                 meta_page *out, char *err, size_t errlen)
{
    char charset[48];
    size_t skip = 0, ulen = 0;
    set_err(err, errlen, "%s", "");
    if (!out || (!body && len > 0)) {
        set_err(err, errlen, "invalid arguments");
        return EXTRACT_ERROR;
    }
    memset(out, 0, sizeof *out);
    if (len > EXTRACT_MAX_BODY)
        len = EXTRACT_MAX_BODY;
    const char *why = len == 0 ? "empty body" : sniff_not_html(body, len, content_type);
    if (why) {
        set_err(err, errlen, "%s", why);
        return EXTRACT_NOT_HTML;
    }
    ext_charset_detect(body, len, content_type, charset, sizeof charset, &skip);
    char *html = ext_to_utf8(body + skip, len - skip, charset, &ulen);
    if (!html || extract_utf8(html, ulen, page_url, out) != 0) {
        free(html);
        meta_page_free(out);
        set_err(err, errlen, "out of memory");
        return EXTRACT_ERROR;
    }
    free(html);
    return EXTRACT_OK;
}

int extract_header_tech(meta_page *m, const char *name, const char *value)
{
    bool found[EXT_TECH_SLOTS] = {false};
    char cookie[64];
    size_t n = 0;
    if (!m || !name)
        return 0;
    ext_rules_match(EXT_EV_HEADER, name, found);
    if (value && strcasecmp(name, "set-cookie") == 0) {
        snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(value, "="), value);
        ext_rules_match(EXT_EV_COOKIE, cookie, found);
    }
    const char *const *names = ext_tech_names(&n);
    for (size_t i = 0; i < n; i++)
        if (found[i] && ext_list_add(&m->tech_stack, names[i], EXTRACT_MAX_TECH) != 0)
            return -1;
    m->is_wordpress |= found[ext_tech_id("WordPress")];
    return 0;
}
