/* Phone numbers of a page: its visible text and tel: links, read for the page's region. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract.h"
#include "extract_internal.h"
#include "phone.h"

/* Bounds on hostile pages: text searched, tel: links kept, candidates tried. */
#define EXT_PHONE_TEXT_MAX (512u * 1024u)
#define EXT_PHONE_TELS_MAX 200u
#define EXT_PHONE_FOUND_MAX 200u
#define EXT_PHONE_TRIES 20u   /* candidates per chunk */
#define EXT_PHONE_CHUNKS 128u /* chunks searched per page (after masking) */
#define EXT_PHONE_CHUNK 2048u
#define EXT_PHONE_MIN_DIGITS 7u

/* ---- collecting ---- */

void ext_phone_text(ext_ctx *c, const char *t)
{
    size_t len = strlen(t);
    if (c->oom || len == 0 || c->text_len + len + 1 > EXT_PHONE_TEXT_MAX)
        return;
    if (c->text_len + len + 2 > c->text_cap) {
        size_t cap = c->text_cap ? c->text_cap * 2 : 4096;
        while (cap < c->text_len + len + 2)
            cap *= 2;
        char *n = realloc(c->text, cap);
        if (!n) {
            c->oom = true;
            return;
        }
        c->text = n;
        c->text_cap = cap;
    }
    if (c->text_len > 0) /* nodes apart: "Fax" + "12" must not read as one number */
        c->text[c->text_len++] = '\n';
    memcpy(c->text + c->text_len, t, len + 1);
    c->text_len += len;
}

void ext_phone_tel(ext_ctx *c, const char *href)
{
    char raw[128];
    ext_url_unescape(href, ";?#,", raw, sizeof raw);
    if (c->oom || !raw[0] || c->ntels >= EXT_PHONE_TELS_MAX)
        return;
    if (c->ntels == c->tels_cap) {
        size_t cap = c->tels_cap ? c->tels_cap * 2 : 8;
        ext_tel *n = realloc(c->tels, cap * sizeof *n);
        if (!n) {
            c->oom = true;
            return;
        }
        c->tels = n;
        c->tels_cap = cap;
    }
    c->tels[c->ntels].at = c->text_len;
    c->tels[c->ntels].raw = strdup(raw);
    c->oom |= c->tels[c->ntels].raw == NULL;
    c->ntels += c->tels[c->ntels].raw != NULL;
}

/* Upper-cased two-letter region code at s[0..len), or false. */
static bool region_code(const char *s, size_t len, char region[3])
{
    if (len != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]))
        return false;
    region[0] = (char)toupper((unsigned char)s[0]);
    region[1] = (char)toupper((unsigned char)s[1]);
    region[2] = '\0';
    if (strcmp(region, "UK") == 0) /* the ccTLD and common usage; ISO says GB */
        strcpy(region, "GB");
    return phone_region_known(region);
}

void ext_phone_country(ext_ctx *c, const char *value)
{
    char r[3];
    while (value && isspace((unsigned char)*value))
        value++;
    if (value && !c->addr_country[0] && region_code(value, strcspn(value, " \t\r\n"), r))
        memcpy(c->addr_country, r, 3);
}

void ext_phone_free(ext_ctx *c)
{
    for (size_t i = 0; i < c->ntels; i++)
        free(c->tels[i].raw);
    free(c->tels);
    free(c->text);
    free(c->og_locale);
    c->tels = NULL;
    c->text = c->og_locale = NULL;
    c->ntels = c->tels_cap = c->text_len = c->text_cap = 0;
}

/* ---- the page's region ---- */

/* The region most tel: links in international form dial (the first on a tie). */
static bool region_from_tels(const ext_ctx *c, char region[3])
{
    char seen[16][3];
    unsigned n[16] = {0};
    size_t k = 0, best = 0;
    for (size_t i = 0; i < c->ntels; i++) {
        char r[3];
        size_t j = 0;
        if (!phone_region_of(c->tels[i].raw, r))
            continue;
        while (j < k && strcmp(seen[j], r) != 0)
            j++;
        if (j == k && k < 16)
            memcpy(seen[k++], r, 3);
        if (j < k && ++n[j] > n[best])
            best = j;
    }
    if (k > 0)
        memcpy(region, seen[best], 3);
    return k > 0;
}

/* Two-letter ccTLDs sold to all comers (.io, .co, .me, .tv, ...): no country. */
static const char *const generic_cctlds[] = {"ac", "ai", "am", "cc", "co", "fm", "gg",
                                             "io", "la", "ly", "me", "nu", "sh", "so",
                                             "tk", "to", "tv", "vc", "ws"};

/* The ccTLD of the domain host[0..hl) as a region, unless sold to all comers. */
static bool region_from_domain(const char *h, size_t hl, char region[3])
{
    while (hl > 0 && h[hl - 1] == '.')
        hl--;
    size_t dot = hl;
    while (dot > 0 && h[dot - 1] != '.')
        dot--;
    for (size_t i = 0; i < sizeof generic_cctlds / sizeof generic_cctlds[0]; i++)
        if (hl - dot == 2 && strncasecmp(h + dot, generic_cctlds[i], 2) == 0)
            return false;
    return dot > 0 && region_code(h + dot, hl - dot, region);
}

static bool region_from_host(const char *page_url, char region[3])
{
    const char *h = page_url ? strstr(page_url, "://") : NULL;
    return h && region_from_domain(h + 3, strcspn(h + 3, "/?#:"), region);
}

/* The first e-mail address on the page at a country's domain (info@cafe-mueller.de). */
static bool region_from_emails(const strlist *l, char region[3])
{
    for (size_t i = 0; i < l->n; i++) {
        const char *at = strchr(l->v[i], '@');
        if (at && region_from_domain(at + 1, strlen(at + 1), region))
            return true;
    }
    return false;
}

/* The region subtag of a language tag ("de-CH", "en_GB", "zh-Hant-TW"). */
static bool region_from_tag(const char *tag, char region[3])
{
    if (!tag)
        return false;
    for (const char *p = tag + strcspn(tag, "-_"); *p; p += strcspn(p, "-_")) {
        p++;
        if (region_code(p, strcspn(p, "-_"), region))
            return true;
    }
    return false;
}

/* Languages spoken mainly in one country: its numbers are the likely ones. */
static const char lang_regions[][2][3] = {
    {"bg", "BG"}, {"cs", "CZ"}, {"da", "DK"}, {"de", "DE"}, {"el", "GR"}, {"es", "ES"},
    {"et", "EE"}, {"fi", "FI"}, {"fr", "FR"}, {"he", "IL"}, {"hr", "HR"}, {"hu", "HU"},
    {"is", "IS"}, {"it", "IT"}, {"ja", "JP"}, {"ko", "KR"}, {"lt", "LT"}, {"lv", "LV"},
    {"nb", "NO"}, {"nl", "NL"}, {"nn", "NO"}, {"no", "NO"}, {"pl", "PL"}, {"pt", "PT"},
    {"ro", "RO"}, {"sk", "SK"}, {"sl", "SI"}, {"sv", "SE"}, {"th", "TH"}, {"tr", "TR"},
    {"uk", "UA"}, {"vi", "VN"},
};

static bool region_from_language(const char *tag, char region[3])
{
    if (!tag || strcspn(tag, "-_") != 2)
        return false;
    for (size_t i = 0; i < sizeof lang_regions / sizeof lang_regions[0]; i++)
        if (strncasecmp(tag, lang_regions[i][0], 2) == 0) {
            memcpy(region, lang_regions[i][1], 3);
            return true;
        }
    return false;
}

/* Clues, strongest first: the country code the site's own tel: links dial; the
 * schema.org address; the domain's ccTLD; the ccTLD of an e-mail address on the page;
 * the language tag's region (after the ccTLDs: CMSs default to "en-US" everywhere);
 * a language spoken mainly in one country. */
bool ext_phone_region(const ext_ctx *c, const char *page_url, char region[3])
{
    const char *tags[] = {c->m->language ? c->m->language : c->lang, c->lang_meta, c->og_locale};
    if (region_from_tels(c, region))
        return true;
    if (c->addr_country[0]) {
        memcpy(region, c->addr_country, 3);
        return true;
    }
    if (region_from_host(page_url, region) || region_from_emails(&c->m->email_addresses, region))
        return true;
    for (size_t i = 0; i < 3; i++)
        if (region_from_tag(tags[i], region))
            return true;
    for (size_t i = 0; i < 3; i++)
        if (region_from_language(tags[i], region))
            return true;
    return false;
}

/* ---- the numbers ---- */

typedef struct found {
    size_t at, seq;
    char e164[PHONE_E164_MAX];
} found;

typedef struct found_list {
    found v[EXT_PHONE_FOUND_MAX];
    size_t n;
    const char *text; /* the chunk searched (masked), for found_text */
    size_t base;      /* its offset in the page text */
    size_t chunks;    /* chunks searched so far */
} found_list;

static int found_add(size_t at, const char *e164, found_list *l)
{
    if (l->n >= EXT_PHONE_FOUND_MAX)
        return 1;
    l->v[l->n].at = at;
    l->v[l->n].seq = l->n;
    memcpy(l->v[l->n].e164, e164, strlen(e164) + 1);
    l->n++;
    return 0;
}

/* A number written nationally needs EXT_PHONE_MIN_DIGITS digits: the library takes
 * some 5- and 6-digit article and customer numbers for valid short numbers. */
static int found_text(size_t start, size_t len, const char *e164, void *arg)
{
    found_list *l = arg;
    const char *raw = l->text + start;
    size_t digits = 0;
    for (size_t i = 0; i < len; i++)
        digits += isdigit((unsigned char)raw[i]) != 0;
    if (raw[0] != '+' && digits < EXT_PHONE_MIN_DIGITS)
        return 0;
    return found_add(l->base + start, e164, l);
}

static int found_cmp(const void *a, const void *b)
{
    const found *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Length of the chunk at s: up to the end of its text node, at most EXT_PHONE_CHUNK
 * bytes, cut after a word rather than inside a number. */
static size_t chunk_len(const char *s, size_t left)
{
    size_t n = strcspn(s, "\n");
    if (n > left)
        n = left;
    if (n > EXT_PHONE_CHUNK) {
        size_t cut = EXT_PHONE_CHUNK;
        while (cut > EXT_PHONE_CHUNK / 2 && !(s[cut] == ' ' && isalpha((unsigned char)s[cut - 1])))
            cut--;
        n = cut > EXT_PHONE_CHUNK / 2 ? cut : EXT_PHONE_CHUNK;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

/* Searches one chunk, look-alikes masked. Without a region, two searches: numbers in
 * international form are found anywhere, and the North American grouping
 * ("(514) 555-0199") is distinctive enough on its own. */
static int search_chunk(const char *region, const char *s, size_t n, found_list *l)
{
    char buf[EXT_PHONE_CHUNK + 1];
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (ext_phone_mask(buf, n) == 0 || l->chunks++ >= EXT_PHONE_CHUNKS)
        return 0;
    l->text = buf;
    if (region)
        return phone_find(buf, n, region, PHONE_VALID, EXT_PHONE_TRIES, found_text, l);
    if (phone_find(buf, n, "ZZ", PHONE_VALID, EXT_PHONE_TRIES, found_text, l) != 0)
        return -1;
    return phone_find(buf, n, "US", PHONE_EXACT, EXT_PHONE_TRIES, found_text, l);
}

/* Why chunks (text nodes, cut to EXT_PHONE_CHUNK): the matcher copies the rest of
 * its text for every candidate, so one search over a whole page would cost its
 * length times the number of digit runs on it. */
static int search_text(const ext_ctx *c, const char *region, found_list *l)
{
    for (size_t at = 0; at < c->text_len && l->n < EXT_PHONE_FOUND_MAX;) {
        size_t n = chunk_len(c->text + at, c->text_len - at);
        l->base = at;
        if (search_chunk(region, c->text + at, n, l) != 0)
            return -1;
        at += n + (c->text[at + n] == '\n');
    }
    return 0;
}

int ext_phone_finish(ext_ctx *c, const char *page_url, meta_page *m)
{
    char region[3], e164[PHONE_E164_MAX];
    bool have = ext_phone_region(c, page_url, region);
    found_list *l = calloc(1, sizeof *l);
    int rc = -1;
    if (!l)
        return -1;
    for (size_t i = 0; i < c->ntels; i++)
        if (phone_parse(c->tels[i].raw, have ? region : NULL, e164))
            (void)found_add(c->tels[i].at, e164, l);
    if (search_text(c, have ? region : NULL, l) != 0)
        goto out;
    qsort(l->v, l->n, sizeof l->v[0], found_cmp);
    for (size_t i = 0; i < l->n; i++)
        if (ext_list_add(&m->phone_numbers, l->v[i].e164, EXTRACT_MAX_PHONES) != 0)
            goto out;
    rc = 0;
out:
    free(l);
    return rc;
}
