/* URL helpers of the extractor: RFC 3986 reference resolution, social profile links. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract_internal.h"

/* Length of an http/https scheme with "://" at s ("https://" -> 8), else 0. */
static size_t url_http_prefix(const char *s)
{
    if (strncasecmp(s, "http://", 7) == 0)
        return 7;
    if (strncasecmp(s, "https://", 8) == 0)
        return 8;
    return 0;
}

/* True when ref starts with a scheme ("javascript:", "data:", "HTTP:"). */
static bool url_has_scheme(const char *ref)
{
    if (!isalpha((unsigned char)ref[0]))
        return false;
    size_t i = 1;
    while (isalnum((unsigned char)ref[i]) || ref[i] == '+' || ref[i] == '-' || ref[i] == '.')
        i++;
    return ref[i] == ':';
}

/* Copy of ref without surrounding blanks and embedded tabs/newlines (as browsers
 * do), backslashes as slashes, spaces as %20. Caller frees. */
static char *url_clean_ref(const char *ref)
{
    size_t len = strlen(ref), o = 0;
    while (len > 0 && (unsigned char)ref[len - 1] <= 0x20)
        len--;
    while (len > 0 && (unsigned char)*ref <= 0x20) {
        ref++;
        len--;
    }
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)ref[i];
        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c < 0x20 || c == ' ' || c == 0x7F) {
            o += (size_t)sprintf(out + o, "%%%02X", c);
            continue;
        }
        out[o++] = c == '\\' ? '/' : (char)c;
    }
    out[o] = '\0';
    return out;
}

/* RFC 3986 5.2.4 on path (which starts with '/'), in place. */
static void url_remove_dots(char *path)
{
    const char *in = path;
    size_t o = 0;
    while (*in) {
        const char *seg = in + 1, *next = strchr(seg, '/');
        size_t sl = next ? (size_t)(next - seg) : strlen(seg);
        if (sl == 1 && seg[0] == '.') {
            if (!next)
                path[o++] = '/';
        } else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && path[--o] != '/')
                ;
            if (!next)
                path[o++] = '/';
        } else {
            path[o++] = '/';
            memmove(path + o, seg, sl);
            o += sl;
        }
        in = seg + sl;
    }
    if (o == 0)
        path[o++] = '/';
    path[o] = '\0';
}

/* Joins origin + path + rest, removing dot segments from path (which starts with '/'
 * and ends at the first '?' or '#'). Caller frees. */
static char *url_join(const char *origin, size_t olen, const char *path)
{
    size_t plen = strcspn(path, "?#"), rlen = strlen(path + plen);
    char *out = malloc(olen + plen + rlen + 2);
    if (!out)
        return NULL;
    memcpy(out, origin, olen);
    memcpy(out + olen, path, plen);
    out[olen + plen] = '\0';
    url_remove_dots(out + olen);
    strcat(out, path + plen);
    return out;
}

/* Resolves a relative reference r (no scheme) against base. Caller frees. */
static char *url_relative(const char *base, const char *r)
{
    size_t pre = url_http_prefix(base);
    size_t olen = pre + strcspn(base + pre, "/?#"), blen = strcspn(base, "#");
    const char *bpath = base + olen;
    size_t bplen = strcspn(bpath, "?#");
    char *tmp = NULL, *out = NULL;
    if (r[0] == '/' && r[1] == '/') {
        if (asprintf(&out, "%.*s%s", (int)(pre - 2), base, r) < 0)
            return NULL;
        return out;
    }
    if (r[0] == '?' || r[0] == '#' || r[0] == '\0') {
        size_t keep = r[0] == '?' ? olen + bplen : blen;
        return asprintf(&out, "%.*s%s", (int)keep, base, r) < 0 ? NULL : out;
    }
    if (r[0] == '/')
        return url_join(base, olen, r);
    size_t dir = bplen;
    while (dir > 0 && bpath[dir - 1] != '/')
        dir--;
    if (asprintf(&tmp, "%s%.*s%s", dir == 0 ? "/" : "", (int)dir, bpath, r) < 0)
        return NULL;
    out = url_join(base, olen, tmp);
    free(tmp);
    return out;
}

/* Normalizes an absolute http(s) reference: dot segments removed, "/" added to a
 * bare host. Returns 0 with *out (caller frees), 1 when unusable, -1 when out of memory. */
static int url_absolute(const char *r, char **out)
{
    size_t pre = url_http_prefix(r);
    if (pre == 0)
        return 1;
    size_t alen = pre + strcspn(r + pre, "/?#");
    if (alen == pre)
        return 1;
    const char *rest = r + alen;
    if (*rest == '/')
        *out = url_join(r, alen, rest);
    else if (asprintf(out, "%.*s/%s", (int)alen, r, rest) < 0)
        *out = NULL;
    return *out ? 0 : -1;
}

char *ext_url_resolve(const char *base, const char *ref, size_t cap, bool *oom)
{
    char *r = url_clean_ref(ref), *out = NULL;
    int rc = 1;
    *oom = false;
    if (!r) {
        *oom = true;
        return NULL;
    }
    size_t bpre = base ? url_http_prefix(base) : 0;
    bool base_ok = bpre > 0 && strcspn(base + bpre, "/?#") > 0;
    if (url_has_scheme(r)) {
        rc = url_absolute(r, &out);
    } else if (r[0] != '\0' && base_ok) {
        out = url_relative(base, r);
        rc = out ? 0 : -1;
    }
    free(r);
    *oom = rc < 0;
    if (out && strlen(out) > cap) {
        free(out);
        out = NULL;
    }
    return out;
}

/* ---- social profile links ---- */

static const struct {
    ext_social net;
    const char *host;
} social_hosts[] = {
    {EXT_SOCIAL_FACEBOOK, "facebook.com"}, {EXT_SOCIAL_FACEBOOK, "fb.com"},
    {EXT_SOCIAL_TWITTER, "twitter.com"},   {EXT_SOCIAL_TWITTER, "x.com"},
    {EXT_SOCIAL_LINKEDIN, "linkedin.com"}, {EXT_SOCIAL_INSTAGRAM, "instagram.com"},
    {EXT_SOCIAL_YOUTUBE, "youtube.com"},
};

/* First path segments that are share buttons, posts or site pages, not profiles. */
static const char *const social_skip[EXT_SOCIAL_COUNT][16] = {
    [EXT_SOCIAL_FACEBOOK] = {"sharer", "sharer.php", "share", "share.php", "dialog", "plugins",
                             "tr", "login", "login.php", "home.php", "policy", "policies",
                             "privacy", "help", "legal", NULL},
    [EXT_SOCIAL_TWITTER] = {"intent", "share", "home", "search", "hashtag", "i", "login", "signup",
                            "privacy", "tos", NULL},
    [EXT_SOCIAL_LINKEDIN] = {NULL}, /* only the kinds of linkedin_kinds count */
    [EXT_SOCIAL_INSTAGRAM] = {"p", "reel", "reels", "tv", "explore", "accounts", "share", "stories",
                              "about", "legal", NULL},
    [EXT_SOCIAL_YOUTUBE] = {"watch", "embed", "results", "playlist", "shorts", "share", "redirect",
                            "feed", "t", "about", "premium", "live", NULL},
};

/* LinkedIn's first path segment says whose page it is. */
static const struct {
    const char *seg;
    ext_social_rank rank;
} linkedin_kinds[] = {
    {"company", EXT_RANK_ORG}, {"school", EXT_RANK_ORG}, {"showcase", EXT_RANK_ORG},
    {"in", EXT_RANK_PERSON},   {"pub", EXT_RANK_PERSON},
};

/* Second path segments of a post under its author's profile: "/brand/status/123". */
static const char *const social_post[EXT_SOCIAL_COUNT][6] = {
    [EXT_SOCIAL_FACEBOOK] = {"posts", "videos", "photos", "events", NULL},
    [EXT_SOCIAL_TWITTER] = {"status", "statuses", NULL},
};

static bool social_host_is(const char *host, size_t hlen, const char *want)
{
    size_t wl = strlen(want);
    if (hlen == wl)
        return strncasecmp(host, want, wl) == 0;
    return hlen > wl && host[hlen - wl - 1] == '.' && strncasecmp(host + hlen - wl, want, wl) == 0;
}

static bool seg_is(const char *seg, size_t sl, const char *want)
{
    return strlen(want) == sl && strncasecmp(seg, want, sl) == 0;
}

static ext_social social_network(const char *host, size_t hlen)
{
    ext_social net = EXT_SOCIAL_NONE;
    for (size_t i = 0; i < sizeof social_hosts / sizeof social_hosts[0]; i++)
        if (social_host_is(host, hlen, social_hosts[i].host))
            net = social_hosts[i].net;
    return net;
}

/* Rank of the link whose path starts at seg (past the first '/'), for net. */
static ext_social_rank social_rank_of(ext_social net, const char *seg)
{
    size_t sl = strcspn(seg, "/?#");
    if (sl == 0)
        return EXT_RANK_NONE;
    if (net == EXT_SOCIAL_LINKEDIN) {
        for (size_t i = 0; i < sizeof linkedin_kinds / sizeof linkedin_kinds[0]; i++)
            if (seg_is(seg, sl, linkedin_kinds[i].seg) && seg[sl] == '/' &&
                strcspn(seg + sl + 1, "/?#") > 0)
                return linkedin_kinds[i].rank;
        return EXT_RANK_NONE;
    }
    for (size_t i = 0; social_skip[net][i]; i++)
        if (seg_is(seg, sl, social_skip[net][i]))
            return EXT_RANK_NONE;
    const char *seg2 = seg[sl] == '/' ? seg + sl + 1 : NULL;
    size_t sl2 = seg2 ? strcspn(seg2, "/?#") : 0;
    for (size_t i = 0; seg2 && social_post[net][i]; i++)
        if (seg_is(seg2, sl2, social_post[net][i]))
            return EXT_RANK_POST;
    return EXT_RANK_ORG;
}

ext_social ext_social_classify(const char *url, ext_social_rank *rank, size_t *keep)
{
    size_t pre = url_http_prefix(url);
    *rank = EXT_RANK_NONE;
    *keep = 0;
    if (pre == 0)
        return EXT_SOCIAL_NONE;
    const char *host = url + pre;
    size_t hlen = strcspn(host, "/?#:");
    ext_social net = social_network(host, hlen);
    const char *path = host + strcspn(host, "/?#");
    if (net == EXT_SOCIAL_NONE || *path != '/')
        return EXT_SOCIAL_NONE;
    ext_social_rank r = social_rank_of(net, path + 1);
    if (r == EXT_RANK_NONE)
        return EXT_SOCIAL_NONE;
    *rank = r;
    *keep = r == EXT_RANK_POST ? (size_t)(path + 1 - url) + strcspn(path + 1, "/?#") : strlen(url);
    return net;
}
