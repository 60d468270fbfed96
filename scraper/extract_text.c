/* Text helpers of the extractor: whitespace, UTF-8 cuts, e-mail finding. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract_internal.h"

#define EMAIL_MAX 254u
#define EMAIL_LOCAL_MAX 64u

void ext_utf8_cut(char *s, size_t cap)
{
    size_t len = strlen(s);
    if (len <= cap)
        return;
    while (cap > 0 && ((unsigned char)s[cap] & 0xC0) == 0x80)
        cap--;
    s[cap] = '\0';
}

/* Width of a whitespace-like character at s (ASCII space/controls, NBSP, C1
 * controls, BOM), 0 when s starts with something else. */
static size_t text_space(const unsigned char *s)
{
    if (s[0] <= 0x20 || s[0] == 0x7F)
        return s[0] ? 1 : 0;
    if (s[0] == 0xC2 && (s[1] == 0xA0 || (s[1] >= 0x80 && s[1] <= 0x9F)))
        return 2;
    if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    return 0;
}

char *ext_clean_text(const char *s, size_t cap)
{
    size_t len = strlen(s), o = 0;
    char *out = malloc(len + 1);
    bool pending = false;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t w = text_space(p);
        if (w > 0) {
            pending = o > 0;
            p += w;
            continue;
        }
        if (pending)
            out[o++] = ' ';
        pending = false;
        out[o++] = (char)*p++;
    }
    out[o] = '\0';
    ext_utf8_cut(out, cap);
    o = strlen(out);
    while (o > 0 && out[o - 1] == ' ') /* the cut may end on a space */
        out[--o] = '\0';
    return out;
}

int ext_list_add(strlist *l, const char *s, size_t max)
{
    if (l->n >= max)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 0;
    return strlist_push(l, s);
}

/* ---- e-mail ---- */

static bool email_local_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool email_domain_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-';
}

/* Extensions that show up as "TLDs" in file names like logo@2x.png. */
static const char *const email_fake_tlds[] = {"png", "jpg",  "jpeg", "gif",  "webp", "svg",
                                              "bmp", "ico",  "avif", "tif",  "tiff", "css",
                                              "js",  "json", "mp4",  "webm", "pdf",  "woff"};

static bool email_domain_ok(const char *d, size_t len)
{
    size_t labels = 0, start = 0;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != '.')
            continue;
        size_t ll = i - start;
        if (ll == 0 || ll > 63 || d[start] == '-' || d[i - 1] == '-')
            return false;
        labels++;
        if (i == len) { /* TLD: letters only, not a file extension */
            if (ll < 2 || ll > 24)
                return false;
            for (size_t k = start; k < i; k++)
                if (!isalpha((unsigned char)d[k]))
                    return false;
            for (size_t k = 0; k < sizeof email_fake_tlds / sizeof email_fake_tlds[0]; k++)
                if (strlen(email_fake_tlds[k]) == ll &&
                    strncasecmp(d + start, email_fake_tlds[k], ll) == 0)
                    return false;
        }
        start = i + 1;
    }
    return labels >= 2;
}

static bool email_local_ok(const char *l, size_t len)
{
    if (len == 0 || len > EMAIL_LOCAL_MAX || l[0] == '.' || l[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!email_local_char((unsigned char)l[i]) || (l[i] == '.' && l[i + 1] == '.'))
            return false;
    return true;
}

/* Validates local@domain given as two ranges and adds it lower-cased. */
static int email_add(const char *local, size_t ll, const char *dom, size_t dl, strlist *l,
                     size_t max)
{
    char buf[EMAIL_MAX + 1];
    if (ll + 1 + dl > EMAIL_MAX || !email_local_ok(local, ll) || !email_domain_ok(dom, dl))
        return 0;
    for (size_t i = 0; i < ll; i++)
        buf[i] = (char)tolower((unsigned char)local[i]);
    buf[ll] = '@';
    for (size_t i = 0; i < dl; i++)
        buf[ll + 1 + i] = (char)tolower((unsigned char)dom[i]);
    buf[ll + 1 + dl] = '\0';
    return ext_list_add(l, buf, max);
}

int ext_find_emails(const char *text, strlist *l, size_t max)
{
    for (const char *at = strchr(text, '@'); at && l->n < max; at = strchr(at + 1, '@')) {
        const char *s = at, *e = at + 1;
        while (s > text && email_local_char((unsigned char)s[-1]))
            s--;
        while (*s == '.')
            s++;
        while (email_domain_char((unsigned char)*e))
            e++;
        while (e > at + 1 && (e[-1] == '.' || e[-1] == '-'))
            e--;
        if (s < at && email_add(s, (size_t)(at - s), at + 1, (size_t)(e - at - 1), l, max) != 0)
            return -1;
    }
    return 0;
}

void ext_url_unescape(const char *src, const char *stops, char *dst, size_t n)
{
    size_t o = 0;
    for (const char *p = src; *p && !strchr(stops, *p) && o + 1 < n; p++) {
        if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], '\0'};
            dst[o++] = (char)strtol(hex, NULL, 16);
            p += 2;
        } else {
            dst[o++] = *p;
        }
    }
    dst[o] = '\0';
}

int ext_mailto(const char *href, strlist *l, size_t max)
{
    char buf[1024];
    ext_url_unescape(href, "?#", buf, sizeof buf);
    for (char *save = NULL, *tok = strtok_r(buf, ",;", &save); tok;
         tok = strtok_r(NULL, ",;", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len > 0 && tok[len - 1] == ' ')
            len--;
        const char *at = memchr(tok, '@', len);
        if (!at || memchr(at + 1, '@', len - (size_t)(at - tok) - 1))
            continue;
        size_t dl = len - (size_t)(at - tok) - 1;
        for (size_t i = 0; i < dl; i++)
            if (!email_domain_char((unsigned char)at[1 + i]))
                dl = 0;
        if (dl && email_add(tok, (size_t)(at - tok), at + 1, dl, l, max) != 0)
            return -1;
    }
    return 0;
}
