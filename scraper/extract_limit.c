/* Bounds on markup before gumbo sees it: nesting depth and tag count. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "extract_internal.h"

/* Why: gumbo's tree builder checks "element in scope" by walking the stack of open
 * elements on most start tags, so its time grows with tags x depth: 400,000 nested
 * <div> take minutes. A cheap tokenizer estimates the depth (at least the real one)
 * and the page is cut where the estimate or the tag count passes the limit. */

static const char *const limit_void[] = {"area", "base",  "br",     "col",      "embed",   "hr",
                                         "img",  "input", "link",   "meta",     "source",  "track",
                                         "wbr",  "param", "keygen", "basefont", "bgsound", "frame"};
/* Closed implicitly by their next sibling: counting them would only overestimate. */
static const char *const limit_implied[] = {"p",  "li",     "dt",       "dd", "tr", "td",
                                            "th", "option", "optgroup", "rb", "rt", "rp"};
/* Their content is text up to the matching end tag. */
static const char *const limit_raw[] = {"script", "style",   "textarea", "title",   "xmp",
                                        "iframe", "noembed", "noframes", "noscript"};
/* HTML tags that end SVG/MathML content (a subset of the spec's list). */
static const char *const limit_breakout[] = {
    "div",  "p",    "span", "b",      "i",  "table", "ul", "ol",     "li",  "pre",
    "body", "head", "em",   "strong", "h1", "h2",    "h3", "center", "font"};

static bool name_in(const char *name, size_t nl, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(set[i]) == nl && strncasecmp(name, set[i], nl) == 0)
            return true;
    return false;
}

#define IN(set) name_in(name, nl, set, sizeof set / sizeof set[0])

static const char *find_ci(const char *s, const char *end, const char *needle, size_t nl)
{
    for (const char *p = s; p + nl <= end; p++)
        if (strncasecmp(p, needle, nl) == 0)
            return p;
    return NULL;
}

/* Depth change of one non-raw-text tag (+1 opens, -1 closes, 0 neither). */
static long tag_effect(const char *name, size_t nl, bool close, bool self_closing,
                       unsigned *foreign)
{
    bool is_foreign_root = (nl == 3 && strncasecmp(name, "svg", 3) == 0) ||
                           (nl == 4 && strncasecmp(name, "math", 4) == 0);
    if (IN(limit_void) || IN(limit_implied))
        return 0;
    if (close) {
        if (is_foreign_root && *foreign > 0)
            (*foreign)--;
        return -1;
    }
    if (*foreign > 0 && IN(limit_breakout))
        *foreign = 0;
    if (is_foreign_root && !self_closing)
        (*foreign)++;
    return self_closing && *foreign > 0 ? 0 : 1;
}

size_t ext_markup_limit(const char *s, size_t len, size_t max_depth, size_t max_tags)
{
    const char *end = s + len, *p = s;
    size_t depth = 0, tags = 0;
    unsigned foreign = 0;
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            const char *c = find_ci(p + 4, end, "-->", 3);
            if (!c)
                break;
            p = c + 3;
            continue;
        }
        bool close = p + 1 < end && p[1] == '/';
        const char *name = p + 1 + close, *ne = name;
        while (ne < end && isalnum((unsigned char)*ne))
            ne++;
        size_t nl = (size_t)(ne - name);
        const char *gt = nl ? memchr(ne, '>', (size_t)(end - ne)) : NULL;
        if (!gt || !isalpha((unsigned char)*name)) {
            p++;
            continue;
        }
        if (!close && ++tags > max_tags)
            return (size_t)(p - s);
        if (!close && IN(limit_raw)) {
            char endtag[16];
            size_t el = (size_t)snprintf(endtag, sizeof endtag, "</%.*s", (int)nl, name);
            const char *c = find_ci(gt + 1, end, endtag, el);
            if (!c)
                break;
            p = c + el;
            continue;
        }
        long d = tag_effect(name, nl, close, gt[-1] == '/', &foreign);
        if (d < 0 && depth > 0)
            depth--;
        else if (d > 0 && ++depth > max_depth)
            return (size_t)(p - s);
        p = gt + 1;
    }
    return len;
}
