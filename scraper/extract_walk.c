/* Walk over the parsed page: each node offers candidates for the meta_page fields. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "extract.h"
#include "extract_internal.h"

static const char *attr(const GumboNode *n, const char *name)
{
    const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, name);
    return a ? a->value : NULL;
}

/* Stores a cleaned copy of s in *dst unless *dst is set or nothing is left. */
static void set_text(ext_ctx *c, char **dst, const char *s, size_t cap)
{
    if (*dst || !s || c->oom)
        return;
    char *t = ext_clean_text(s, cap);
    if (!t) {
        c->oom = true;
        return;
    }
    if (*t)
        *dst = t;
    else
        free(t);
}

/* Stores ref resolved against the base in *dst unless *dst is set or it is unusable. */
static void set_url(ext_ctx *c, char **dst, const char *ref)
{
    bool oom = false;
    if (*dst || !ref || c->oom)
        return;
    *dst = ext_url_resolve(c->base, ref, EXTRACT_MAX_URL, &oom);
    c->oom |= oom;
}

/* Language tag: first of a comma list, letters/digits/hyphens only. */
static void set_lang(ext_ctx *c, char **dst, const char *s)
{
    char buf[EXTRACT_MAX_LANGUAGE + 1];
    size_t o = 0;
    if (!s)
        return;
    while (isspace((unsigned char)*s))
        s++;
    for (; *s && *s != ',' && !isspace((unsigned char)*s); s++) {
        if (o >= EXTRACT_MAX_LANGUAGE || !(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
            return;
        buf[o++] = *s;
    }
    buf[o] = '\0';
    if (o > 0)
        set_text(c, dst, buf, EXTRACT_MAX_LANGUAGE);
}

/* Copies the version "6.4.2" at s (digits and dots) into out; false when none. */
static bool parse_version(const char *s, char *out, size_t n)
{
    size_t o = 0;
    while (*s == ' ')
        s++;
    while ((isdigit((unsigned char)*s) || *s == '.') && o + 1 < n)
        out[o++] = *s++;
    while (o > 0 && out[o - 1] == '.')
        o--;
    out[o] = '\0';
    return o > 0 && isdigit((unsigned char)out[0]);
}

/* ver= of a core asset (/wp-includes/, not bundled jQuery) is weak evidence of the
 * WordPress version; the most frequent one is used when no generator says it. */
static void note_wp_ver(ext_ctx *c, const char *url)
{
    char v[33];
    const char *q = strchr(url, '?');
    if (!q || !strstr(url, "/wp-includes/") || strstr(url, "/jquery/"))
        return;
    const char *p = strstr(q, "ver=");
    if (!p || (p[-1] != '?' && p[-1] != '&') || !parse_version(p + 4, v, sizeof v))
        return;
    for (size_t i = 0; i < EXT_WP_VERSIONS; i++) {
        if (c->wp_ver_n[i] == 0) {
            strcpy(c->wp_ver[i], v);
            c->wp_ver_n[i] = 1;
            return;
        }
        if (strcmp(c->wp_ver[i], v) == 0) {
            c->wp_ver_n[i]++;
            return;
        }
    }
}

static void on_generator(ext_ctx *c, const char *content)
{
    char v[33];
    ext_rules_match(EXT_EV_GENERATOR, content, c->found);
    if (strncasecmp(content, "WordPress ", 10) == 0 && !c->wp_version &&
        parse_version(content + 10, v, sizeof v))
        set_text(c, &c->wp_version, v, EXTRACT_MAX_VERSION);
}

static void on_meta(ext_ctx *c, const GumboNode *n)
{
    const char *name = attr(n, "name"), *prop = attr(n, "property");
    const char *content = attr(n, "content"), *equiv = attr(n, "http-equiv");
    const char *key = name ? name : prop, *itemprop = attr(n, "itemprop");
    if (key)
        ext_rules_match(EXT_EV_META_NAME, key, c->found);
    if (!content)
        return;
    if (equiv && strcasecmp(equiv, "content-language") == 0)
        set_lang(c, &c->lang_meta, content);
    if (itemprop && strcasecmp(itemprop, "logo") == 0)
        set_url(c, &c->schema_logo, content);
    if (itemprop && strcasecmp(itemprop, "addressCountry") == 0)
        ext_phone_country(c, content);
    for (int i = 0; i < 2; i++) { /* og: tags come as property= or, wrongly, name= */
        const char *k = i == 0 ? name : prop;
        if (!k)
            continue;
        if (strcasecmp(k, "description") == 0)
            set_text(c, &c->desc, content, EXTRACT_MAX_DESCRIPTION);
        else if (strcasecmp(k, "og:description") == 0)
            set_text(c, &c->og_desc, content, EXTRACT_MAX_DESCRIPTION);
        else if (strcasecmp(k, "og:title") == 0)
            set_text(c, &c->og_title, content, EXTRACT_MAX_TITLE);
        else if (strcasecmp(k, "og:logo") == 0)
            set_url(c, &c->og_logo, content);
        else if (strcasecmp(k, "og:locale") == 0)
            set_lang(c, &c->og_locale, content);
        else if (strcasecmp(k, "generator") == 0)
            on_generator(c, content);
    }
}

/* True when the space-separated list rel holds token. */
static bool rel_has(const char *rel, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = rel; *p;) {
        while (isspace((unsigned char)*p))
            p++;
        size_t l = 0;
        while (p[l] && !isspace((unsigned char)p[l]))
            l++;
        if (l == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p += l;
    }
    return false;
}

static void on_link(ext_ctx *c, const GumboNode *n)
{
    const char *rel = attr(n, "rel"), *href = attr(n, "href");
    if (!href)
        return;
    ext_rules_match(EXT_EV_LINK_HREF, href, c->found);
    note_wp_ver(c, href);
    if (!rel)
        return;
    if (rel_has(rel, "icon"))
        set_url(c, &c->icon, href);
    else if (rel_has(rel, "apple-touch-icon") || rel_has(rel, "apple-touch-icon-precomposed"))
        set_url(c, &c->apple_icon, href);
    else if (rel_has(rel, "https://api.w.org/"))
        c->found[ext_tech_id("WordPress")] = true;
}

/* A JSON-LD string value after key at p ("addressCountry": "DE"), into out. */
static bool json_string_after(const char *p, size_t keylen, char *out, size_t n)
{
    size_t o = 0;
    p += keylen;
    while (isspace((unsigned char)*p) || *p == ':')
        p++;
    if (*p != '"')
        return false;
    for (p++; *p && *p != '"' && o + 1 < n; p++)
        out[o++] = *p;
    out[o] = '\0';
    return *p == '"';
}

/* The schema.org addressCountry of JSON-LD, when written as a code. */
static void on_json_ld_country(ext_ctx *c, const char *json)
{
    char v[8];
    const char *p = strstr(json, "\"addressCountry\"");
    if (p && json_string_after(p, 16, v, sizeof v))
        ext_phone_country(c, v);
}

/* The URL of "logo" in JSON-LD: "logo": "url" or "logo": {"url": "..."}. */
static void on_json_ld(ext_ctx *c, const char *json)
{
    char buf[EXTRACT_MAX_URL + 1];
    const char *p = strstr(json, "\"logo\"");
    on_json_ld_country(c, json);
    if (!p)
        return;
    p += 6;
    while (isspace((unsigned char)*p) || *p == ':')
        p++;
    if (*p == '{') {
        const char *u = strstr(p, "\"url\"");
        const char *close = strchr(p, '}');
        if (!u || (close && close < u))
            return;
        p = u + 5;
        while (isspace((unsigned char)*p) || *p == ':')
            p++;
    }
    if (*p != '"')
        return;
    size_t o = 0;
    for (p++; *p && *p != '"' && o < EXTRACT_MAX_URL; p++) {
        if (*p == '\\' && p[1]) /* \/ and \" are all a URL needs */
            p++;
        buf[o++] = *p;
    }
    buf[o] = '\0';
    if (*p == '"')
        set_url(c, &c->schema_logo, buf);
}

static void on_script_text(ext_ctx *c, const GumboNode *script, const char *text)
{
    const char *type = attr(script, "type");
    if (attr(script, "src"))
        return;
    if (type && strcasecmp(type, "application/ld+json") == 0)
        on_json_ld(c, text);
    else
        ext_rules_match(EXT_EV_INLINE, text, c->found);
}

/* An <img> is a logo when "logo" is in its class, id, alt or src, or in the class
 * or id of its parent or grandparent (<a class="logo"><img></a>). */
static bool img_is_logo(const GumboNode *n)
{
    static const char *const attrs[] = {"class", "id", "alt", "src"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = attr(n, attrs[i]);
        if (v && strcasestr(v, "logo"))
            return true;
    }
    for (int up = 0; up < 2 && n->parent && n->parent->type == GUMBO_NODE_ELEMENT; up++) {
        n = n->parent;
        const char *cl = attr(n, "class"), *id = attr(n, "id");
        if ((cl && strcasestr(cl, "logo")) || (id && strcasestr(id, "logo")))
            return true;
    }
    return false;
}

static void on_img(ext_ctx *c, const GumboNode *n)
{
    const char *src = attr(n, "src");
    const char *itemprop = attr(n, "itemprop");
    if (!src || strncasecmp(src, "data:", 5) == 0)
        src = attr(n, "data-src");
    if (!src)
        return;
    ext_rules_match(EXT_EV_ASSET_SRC, src, c->found);
    if (itemprop && strcasecmp(itemprop, "logo") == 0)
        set_url(c, &c->schema_logo, src);
    if (!c->img_logo && img_is_logo(n))
        set_url(c, &c->img_logo, src);
}

/* A link to a social network replaces the one kept when it ranks better (an
 * organisation's profile, then a person's, then a post's author); the first on a tie. */
static void on_social(ext_ctx *c, const char *href)
{
    meta_page *m = c->m;
    char **slot[EXT_SOCIAL_COUNT] = {&m->facebook_url, &m->twitter_url, &m->linkedin_url,
                                     &m->instagram_url, &m->youtube_url};
    bool oom = false;
    ext_social_rank rank = EXT_RANK_NONE;
    size_t keep = 0;
    char *url = ext_url_resolve(c->base, href, EXTRACT_MAX_URL, &oom);
    c->oom |= oom;
    if (!url)
        return;
    ext_social net = ext_social_classify(url, &rank, &keep);
    if (net != EXT_SOCIAL_NONE && (!*slot[net] || rank < c->social_rank[net])) {
        url[keep] = '\0';
        free(*slot[net]);
        *slot[net] = url;
        c->social_rank[net] = rank;
        return;
    }
    free(url);
}

static void on_a(ext_ctx *c, const GumboNode *n)
{
    const char *href = attr(n, "href");
    meta_page *m = c->m;
    if (!href)
        return;
    while (isspace((unsigned char)*href))
        href++;
    ext_rules_match(EXT_EV_A_HREF, href, c->found);
    if (strncasecmp(href, "mailto:", 7) == 0) {
        c->oom |= ext_mailto(href + 7, &m->email_addresses, EXTRACT_MAX_EMAILS) != 0;
        return;
    }
    if (strncasecmp(href, "tel:", 4) == 0) {
        ext_phone_tel(c, href + 4);
        return;
    }
    on_social(c, href);
}

/* Rules on any element: class, id, attribute names. */
static void on_any_element(ext_ctx *c, const GumboNode *n)
{
    const GumboVector *attrs = &n->v.element.attributes;
    for (unsigned i = 0; i < attrs->length; i++) {
        const GumboAttribute *a = attrs->data[i];
        if (strcmp(a->name, "class") == 0)
            ext_rules_match(EXT_EV_CLASS, a->value, c->found);
        else if (strcmp(a->name, "id") == 0)
            ext_rules_match(EXT_EV_ID, a->value, c->found);
        ext_rules_match(EXT_EV_ATTR_NAME, a->name, c->found);
    }
}

static void on_title(ext_ctx *c, const GumboNode *n)
{
    const GumboVector *kids = &n->v.element.children;
    if (c->title || n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML || kids->length == 0)
        return;
    const GumboNode *t = kids->data[0];
    if (t->type == GUMBO_NODE_TEXT || t->type == GUMBO_NODE_WHITESPACE)
        set_text(c, &c->title, t->v.text.text, EXTRACT_MAX_TITLE);
}

/* <span itemprop="addressCountry">DE</span> (or a content attribute, on_meta's). */
static void on_itemprop_country(ext_ctx *c, const GumboNode *n)
{
    const char *ip = attr(n, "itemprop");
    const GumboVector *kids = &n->v.element.children;
    if (!ip || strcasecmp(ip, "addressCountry") != 0 || n->v.element.tag == GUMBO_TAG_META)
        return;
    if (attr(n, "content"))
        ext_phone_country(c, attr(n, "content"));
    else if (kids->length > 0 && ((const GumboNode *)kids->data[0])->type == GUMBO_NODE_TEXT)
        ext_phone_country(c, ((const GumboNode *)kids->data[0])->v.text.text);
}

static void on_element(ext_ctx *c, const GumboNode *n)
{
    const char *src;
    on_any_element(c, n);
    on_itemprop_country(c, n);
    switch (n->v.element.tag) {
    case GUMBO_TAG_HTML: set_lang(c, &c->lang, attr(n, "lang")); break;
    case GUMBO_TAG_TITLE: on_title(c, n); break;
    case GUMBO_TAG_META: on_meta(c, n); break;
    case GUMBO_TAG_LINK: on_link(c, n); break;
    case GUMBO_TAG_SCRIPT:
        if ((src = attr(n, "src")) != NULL) {
            ext_rules_match(EXT_EV_SCRIPT_SRC, src, c->found);
            note_wp_ver(c, src);
        }
        break;
    case GUMBO_TAG_IMG: on_img(c, n); break;
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_EMBED: ext_rules_match(EXT_EV_ASSET_SRC, attr(n, "src"), c->found); break;
    case GUMBO_TAG_A: on_a(c, n); break;
    default: break;
    }
}

/* Visible text: e-mail addresses now, phone numbers once the region is known. */
static void on_text(ext_ctx *c, const char *raw)
{
    char *t = ext_clean_text(raw, EXTRACT_MAX_BODY);
    if (!t) {
        c->oom = true;
        return;
    }
    if (*t) {
        c->oom |= ext_find_emails(t, &c->m->email_addresses, EXTRACT_MAX_EMAILS) != 0;
        ext_phone_text(c, t);
    }
    free(t);
}

static void visit(ext_ctx *c, const GumboNode *n)
{
    const GumboNode *p = n->parent;
    GumboTag ptag = p && p->type == GUMBO_NODE_ELEMENT ? p->v.element.tag : GUMBO_TAG_UNKNOWN;
    switch (n->type) {
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE: on_element(c, n); break;
    case GUMBO_NODE_TEXT:
    case GUMBO_NODE_CDATA:
        if (ptag == GUMBO_TAG_SCRIPT)
            on_script_text(c, p, n->v.text.text);
        else if (ptag != GUMBO_TAG_STYLE && ptag != GUMBO_TAG_TITLE && ptag != GUMBO_TAG_TEXTAREA &&
                 ptag != GUMBO_TAG_NOSCRIPT)
            on_text(c, n->v.text.text);
        break;
    case GUMBO_NODE_COMMENT: ext_rules_match(EXT_EV_COMMENT, n->v.text.text, c->found); break;
    default: break;
    }
}

static const GumboVector *children(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
        return &n->v.element.children;
    return NULL;
}

/* The node after n in document order, not descending into n; NULL past root. */
static GumboNode *next_after(GumboNode *n, const GumboNode *root)
{
    while (n != root && n->parent) {
        const GumboVector *kids = children(n->parent);
        size_t i = n->index_within_parent;
        if (!kids || i >= kids->length || kids->data[i] != n)
            return NULL; /* not expected from gumbo; stop rather than loop */
        if (i + 1 < kids->length)
            return kids->data[i + 1];
        n = n->parent;
    }
    return NULL;
}

void ext_walk(ext_ctx *c, GumboNode *root)
{
    GumboNode *n = root;
    while (n && !c->oom) {
        visit(c, n);
        const GumboVector *kids = children(n);
        if (kids && kids->length > 0)
            n = kids->data[0];
        else
            n = next_after(n, root);
    }
}

void ext_find_base(ext_ctx *c, GumboNode *root, const char *page_url)
{
    c->base = page_url;
    for (GumboNode *n = root; n && !c->oom;) {
        if (n->type == GUMBO_NODE_ELEMENT && n->v.element.tag == GUMBO_TAG_BASE &&
            attr(n, "href")) {
            bool oom = false;
            c->base_owned = ext_url_resolve(page_url, attr(n, "href"), EXTRACT_MAX_URL, &oom);
            c->oom |= oom;
            if (c->base_owned)
                c->base = c->base_owned;
            return;
        }
        const GumboVector *kids = children(n);
        /* <base> belongs in <head>: do not descend into <body>. */
        if (kids && kids->length > 0 &&
            !(n->type == GUMBO_NODE_ELEMENT && n->v.element.tag == GUMBO_TAG_BODY))
            n = kids->data[0];
        else
            n = next_after(n, root);
    }
}
