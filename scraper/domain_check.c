/* Domain validation before a scrape: normalize, punycode, reject what cannot be public. */
#include "domain_check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#define DOMAIN_MAX 253u
#define LABEL_MAX 63u

/* Names under these suffixes never resolve on the public Internet (RFC 6761,
 * RFC 8375, RFC 7686) or are common private conventions. */
static const char *const domain_internal_suffixes[] = {
    "localhost", "local", "localdomain", "internal", "intranet", "lan",     "home",  "home.arpa",
    "arpa",      "corp",  "private",     "test",     "invalid",  "example", "onion",
};

/* Reserved for documentation (RFC 2606): resolve, but never a real business. */
static const char *const domain_reserved_names[] = {"example.com", "example.net", "example.org"};

static int fail(char *reason, size_t reasonlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *reason, size_t reasonlen, const char *fmt, ...)
{
    va_list ap;
    if (reason && reasonlen > 0) {
        va_start(ap, fmt);
        vsnprintf(reason, reasonlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reduces a pasted URL or host[:port][/path] in buf to the host, in place. */
static int strip_url(char *buf, char *reason, size_t reasonlen)
{
    char *host = buf, *sep = strstr(buf, "://");
    if (sep) {
        size_t sl = (size_t)(sep - buf);
        if (!((sl == 4 && strncasecmp(buf, "http", 4) == 0) ||
              (sl == 5 && strncasecmp(buf, "https", 5) == 0)))
            return fail(reason, reasonlen, "unsupported URL scheme (only http and https)");
        host = sep + 3;
    } else if (buf[0] == '/' && buf[1] == '/') {
        host = buf + 2;
    }
    size_t hl = strcspn(host, "/?#");
    host[hl] = '\0';
    if (strchr(host, '@'))
        return fail(reason, reasonlen, "URL with user name or password");
    if (host[0] == '[' || strchr(host, ':') != strrchr(host, ':'))
        return fail(reason, reasonlen, "IP address literal (IPv6)");
    char *colon = strchr(host, ':');
    if (colon) {
        for (char *p = colon + 1; *p; p++)
            if (!isdigit((unsigned char)*p))
                return fail(reason, reasonlen, "invalid port");
        *colon = '\0';
    }
    memmove(buf, host, strlen(host) + 1);
    return 0;
}

/* WHATWG "ends in a number": the last label is decimal digits or 0x-hex, so a
 * browser (and curl) would treat the whole name as an IPv4 address. */
static bool label_is_number(const char *s, size_t len)
{
    size_t i = 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (i = 2; i < len; i++)
            if (!isxdigit((unsigned char)s[i]))
                return false;
        return true;
    }
    for (; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return len > 0;
}

static int check_labels(const char *name, char *reason, size_t reasonlen)
{
    size_t labels = 0, start = 0, len = strlen(name);
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            unsigned char c = (unsigned char)name[i];
            if (!(isalnum(c) || c == '-'))
                return fail(reason, reasonlen, "invalid character '%c' in name",
                            isprint(c) ? c : '?');
            continue;
        }
        size_t ll = i - start;
        if (ll == 0)
            return fail(reason, reasonlen, "empty label");
        if (ll > LABEL_MAX)
            return fail(reason, reasonlen, "label longer than 63 characters");
        if (name[start] == '-' || name[i - 1] == '-')
            return fail(reason, reasonlen, "label starts or ends with a hyphen");
        labels++;
        start = i + 1;
    }
    if (labels < 2)
        return fail(reason, reasonlen, "not a fully qualified domain (one label)");
    return 0;
}

static bool has_suffix(const char *name, const char *suffix)
{
    size_t nl = strlen(name), sl = strlen(suffix);
    if (nl == sl)
        return strcmp(name, suffix) == 0;
    return nl > sl && name[nl - sl - 1] == '.' && strcmp(name + nl - sl, suffix) == 0;
}

/* Rules on the ASCII form: IP literals, syntax, reserved names. */
static int check_ascii(const char *name, char *reason, size_t reasonlen)
{
    const char *last = strrchr(name, '.');
    last = last ? last + 1 : name;
    if (label_is_number(last, strlen(last))) {
        bool all = true;
        for (const char *p = name; *p; p += strcspn(p, ".") + (p[strcspn(p, ".")] != '\0'))
            all &= label_is_number(p, strcspn(p, "."));
        return fail(reason, reasonlen,
                    all ? "IP address literal (IPv4)" : "top-level domain is numeric");
    }
    if (strlen(name) > DOMAIN_MAX)
        return fail(reason, reasonlen, "name longer than 253 characters");
    if (check_labels(name, reason, reasonlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof domain_internal_suffixes / sizeof domain_internal_suffixes[0];
         i++)
        if (has_suffix(name, domain_internal_suffixes[i]))
            return fail(reason, reasonlen, "reserved or internal name (.%s)",
                        domain_internal_suffixes[i]);
    for (size_t i = 0; i < sizeof domain_reserved_names / sizeof domain_reserved_names[0]; i++)
        if (strcmp(name, domain_reserved_names[i]) == 0)
            return fail(reason, reasonlen, "reserved documentation domain");
    return 0;
}

/* Trims, strips a URL, lower-cases ASCII and drops one trailing dot into buf. */
static int normalize(const char *input, char *buf, size_t n, char *reason, size_t reasonlen)
{
    while (isspace((unsigned char)*input))
        input++;
    size_t len = strnlen(input, DOMAIN_CHECK_MAX_INPUT + 1);
    if (len > DOMAIN_CHECK_MAX_INPUT || len >= n)
        return fail(reason, reasonlen, "input too long");
    while (len > 0 && isspace((unsigned char)input[len - 1]))
        len--;
    memcpy(buf, input, len);
    buf[len] = '\0';
    if (strip_url(buf, reason, reasonlen) != 0)
        return -1;
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '.')
        buf[--len] = '\0';
    if (len == 0)
        return fail(reason, reasonlen, "empty name");
    return 0;
}

int domain_check(const char *input, char *ascii_out, size_t outlen, char *reason, size_t reasonlen)
{
    char buf[DOMAIN_CHECK_MAX_INPUT + 1];
    char *ascii = NULL;
    int rc = -1;
    if (reason && reasonlen > 0)
        reason[0] = '\0';
    if (!ascii_out || outlen == 0)
        return fail(reason, reasonlen, "no output buffer");
    ascii_out[0] = '\0';
    if (!input)
        return fail(reason, reasonlen, "empty name");
    if (normalize(input, buf, sizeof buf, reason, reasonlen) != 0)
        return -1;
    if (strcmp(buf, "localhost") == 0)
        return fail(reason, reasonlen, "localhost");
    if (strlen(buf) > DOMAIN_MAX) {
        bool ascii_only = true;
        for (const char *p = buf; *p; p++)
            ascii_only &= (unsigned char)*p < 0x80;
        if (ascii_only)
            return fail(reason, reasonlen, "name longer than 253 characters");
    }
    int irc = idn2_to_ascii_8z(buf, &ascii, IDN2_NONTRANSITIONAL);
    if (irc != IDN2_OK) {
        fail(reason, reasonlen, "invalid internationalized name: %s", idn2_strerror(irc));
        goto cleanup;
    }
    if (check_ascii(ascii, reason, reasonlen) != 0)
        goto cleanup;
    if (strlen(ascii) >= outlen) {
        fail(reason, reasonlen, "output buffer too small");
        goto cleanup;
    }
    strcpy(ascii_out, ascii);
    rc = 0;
cleanup:
    idn2_free(ascii);
    return rc;
}
