/* Charset detection and conversion of page bytes to valid UTF-8 for the parser. */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uchardet/uchardet.h>

#include "extract_internal.h"

#define CHARSET_PRESCAN 4096u
#define CHARSET_NAME_MAX 40u

/* WHATWG Encoding label mapping for the labels that matter in practice; anything
 * else is passed to iconv as written (after a character check). */
static const struct {
    const char *label, *iconv_name;
} charset_aliases[] = {
    {"iso-8859-1", "WINDOWS-1252"},
    {"iso8859-1", "WINDOWS-1252"},
    {"latin1", "WINDOWS-1252"},
    {"l1", "WINDOWS-1252"},
    {"us-ascii", "WINDOWS-1252"},
    {"ascii", "WINDOWS-1252"},
    {"ansi_x3.4-1968", "WINDOWS-1252"},
    {"cp1252", "WINDOWS-1252"},
    {"windows-1252", "WINDOWS-1252"},
    {"x-cp1252", "WINDOWS-1252"},
    {"iso-8859-9", "WINDOWS-1254"},
    {"latin5", "WINDOWS-1254"},
    {"shift_jis", "CP932"},
    {"shift-jis", "CP932"},
    {"sjis", "CP932"},
    {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"},
    {"windows-31j", "CP932"},
    {"gb2312", "GB18030"},
    {"gbk", "GB18030"},
    {"x-gbk", "GB18030"},
    {"euc-kr", "CP949"},
    {"ks_c_5601-1987", "CP949"},
    {"tis-620", "CP874"},
    {"utf8", "UTF-8"},
    {"unicode-1-1-utf-8", "UTF-8"},
    /* A <meta> claiming UTF-16 in an ASCII-compatible file is wrong (WHATWG). */
    {"utf-16", "UTF-8"},
    {"utf-16le", "UTF-8"},
    {"utf-16be", "UTF-8"},
};

/* Maps a label to an iconv name iconv accepts; 0 on success, -1 when unusable. */
static int charset_resolve(const char *label, size_t len, char *name, size_t n)
{
    char buf[CHARSET_NAME_MAX + 1];
    if (len == 0 || len > CHARSET_NAME_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = label[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return -1;
        buf[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    buf[len] = '\0';
    const char *use = buf;
    for (size_t i = 0; i < sizeof charset_aliases / sizeof charset_aliases[0]; i++) {
        if (strcmp(buf, charset_aliases[i].label) == 0) {
            use = charset_aliases[i].iconv_name;
            break;
        }
    }
    iconv_t cd = iconv_open("UTF-8", use);
    if (cd == (iconv_t)-1)
        return -1;
    iconv_close(cd);
    if (strlen(use) >= n)
        return -1;
    strcpy(name, use);
    return 0;
}

static const char *mem_casefind(const char *hay, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; nl <= len && i <= len - nl; i++)
        if (strncasecmp(hay + i, needle, nl) == 0)
            return hay + i;
    return NULL;
}

/* Reads the value after "charset" at p (within end): skips blanks, '=', an
 * optional quote. Returns 0 and the label in name when iconv knows it. */
static int charset_param(const char *p, const char *end, char *name, size_t n)
{
    p += 7;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '=')
        return -1;
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\''))
        p++;
    const char *s = p;
    while (p < end && *p != '"' && *p != '\'' && *p != ';' && *p != ' ' && *p != '>' && *p != '/' &&
           *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return charset_resolve(s, (size_t)(p - s), name, n);
}

/* Scans the <meta> tags of the first bytes for charset= (covers both
 * <meta charset> and <meta http-equiv content="...; charset=...">), skipping comments. */
static int charset_from_meta(const char *body, size_t len, char *name, size_t n)
{
    const char *p = body, *end = body + (len < CHARSET_PRESCAN ? len : CHARSET_PRESCAN);
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            break;
        if ((size_t)(end - lt) >= 4 && memcmp(lt, "<!--", 4) == 0) {
            const char *close = mem_casefind(lt + 4, (size_t)(end - lt - 4), "-->");
            if (!close)
                break;
            p = close + 3;
            continue;
        }
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        const char *tag_end = gt ? gt : end;
        if ((size_t)(tag_end - lt) > 5 && strncasecmp(lt, "<meta", 5) == 0) {
            const char *cs = mem_casefind(lt + 5, (size_t)(tag_end - lt - 5), "charset");
            if (cs && charset_param(cs, tag_end, name, n) == 0)
                return 0;
        }
        p = lt + 1;
    }
    return -1;
}

static int charset_from_content_type(const char *ct, char *name, size_t n)
{
    if (!ct)
        return -1;
    size_t len = strlen(ct);
    const char *cs = mem_casefind(ct, len, "charset");
    if (!cs)
        return -1;
    return charset_param(cs, ct + len, name, n);
}

static int charset_from_uchardet(const char *body, size_t len, char *name, size_t n)
{
    uchardet_t ud = uchardet_new();
    int rc = -1;
    if (!ud)
        return -1;
    if (uchardet_handle_data(ud, body, len < 65536 ? len : 65536) != 0)
        goto cleanup;
    uchardet_data_end(ud);
    const char *guess = uchardet_get_charset(ud);
    if (guess && *guess && strcasecmp(guess, "ASCII") != 0)
        rc = charset_resolve(guess, strlen(guess), name, n);
cleanup:
    uchardet_delete(ud);
    return rc;
}

void ext_charset_detect(const char *body, size_t len, const char *content_type, char *name,
                        size_t n, size_t *skip)
{
    const unsigned char *u = (const unsigned char *)body;
    *skip = 0;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        *skip = 3;
        snprintf(name, n, "UTF-8");
        return;
    }
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        *skip = 2;
        snprintf(name, n, u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE");
        return;
    }
    if (charset_from_content_type(content_type, name, n) == 0)
        return;
    if (charset_from_meta(body, len, name, n) == 0)
        return;
    if (ext_utf8_valid(body, len)) {
        snprintf(name, n, "UTF-8");
        return;
    }
    if (charset_from_uchardet(body, len, name, n) == 0)
        return;
    snprintf(name, n, "WINDOWS-1252");
}

/* Length of the well-formed UTF-8 sequence at s, or 0 when ill-formed. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        return 0;
    if (need == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        return 0;
    return need;
}

bool ext_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t k = utf8_seq(u + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

char *ext_utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    size_t o = 0, i = 0;
    if (!out)
        return NULL;
    while (i < len) {
        size_t k = utf8_seq(u + i, len - i);
        if (k == 0 || u[i] == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

/* Makes room for at least want more bytes in the iconv output buffer. */
static int iconv_grow(char **buf, size_t *cap, char **op, size_t *ol, size_t want)
{
    if (*ol >= want)
        return 0;
    size_t used = (size_t)(*op - *buf), ncap = *cap * 2 + want;
    char *nb = realloc(*buf, ncap);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = ncap;
    *op = nb + used;
    *ol = ncap - used - 1;
    return 0;
}

/* Why the loop: glibc iconv stops at the first bad byte (EILSEQ) or a sequence cut
 * by the end (EINVAL); we write U+FFFD, step over one code unit and go on. */
static char *iconv_convert(iconv_t cd, const char *in, size_t len, size_t unit, size_t *outlen)
{
    size_t cap = len * 2 + 16;
    char *buf = malloc(cap), *ip = (char *)in, *op = buf;
    size_t il = len, ol = cap - 1;
    if (!buf)
        return NULL;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
            break;
        int e = errno;
        if (iconv_grow(&buf, &cap, &op, &ol, e == E2BIG ? ol + 64 : 8) != 0)
            goto fail;
        if (e == E2BIG)
            continue;
        memcpy(op, "\xEF\xBF\xBD", 3);
        op += 3;
        ol -= 3;
        size_t step = il < unit ? il : unit;
        ip += step;
        il -= step;
    }
    if (iconv_grow(&buf, &cap, &op, &ol, 16) != 0)
        goto fail;
    if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) { /* flush shift state */
        memcpy(op, "\xEF\xBF\xBD", 3);
        op += 3;
    }
    *op = '\0';
    *outlen = (size_t)(op - buf);
    return buf;
fail:
    free(buf);
    return NULL;
}

char *ext_to_utf8(const char *in, size_t len, const char *charset, size_t *outlen)
{
    if (strcasecmp(charset, "UTF-8") == 0)
        return ext_utf8_sanitize(in, len, outlen);
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) /* detected names are checked, so this is unexpected */
        return ext_utf8_sanitize(in, len, outlen);
    size_t unit = strncasecmp(charset, "UTF-16", 6) == 0 ? 2 : 1, mid = 0;
    char *tmp = iconv_convert(cd, in, len, unit, &mid);
    iconv_close(cd);
    if (!tmp)
        return NULL;
    /* Re-check: the result is what the parser and every field are cut from. */
    char *out = ext_utf8_sanitize(tmp, mid, outlen);
    free(tmp);
    return out;
}
