/* Domain validation before a scrape spends an API credit. */
#ifndef WF4_DOMAIN_CHECK_H
#define WF4_DOMAIN_CHECK_H

#include <stddef.h>

/* Longest input looked at; longer input is rejected without parsing. */
#define DOMAIN_CHECK_MAX_INPUT 1024u

/*
 * Checks that input names a public Internet host worth fetching, and writes its
 * lower-case ASCII (punycode) form into ascii_out (size outlen; 254 bytes always fit).
 *
 * Accepted and reduced to the host: surrounding blanks, upper case, one trailing dot,
 * a pasted URL ("https://Example.com:8443/about?x" -> "example.com"; only http and
 * https schemes, no user:password@), Unicode names (UTS #46 non-transitional via
 * idn2_to_ascii_8z: "bücher.de" -> "xn--bcher-kva.de").
 *
 * Rejected: empty, longer than 253 bytes, a label of 0 or more than 63 bytes, a
 * character other than letter/digit/hyphen, a label starting or ending with '-',
 * a single label, an all-numeric top-level domain, IP literals (IPv4 dotted,
 * shortened "127.1", decimal "2130706433", hex "0x7f.1", octal; IPv6 with or
 * without brackets), "localhost", and names under reserved or internal suffixes:
 * .localhost .local .localdomain .internal .intranet .lan .home .home.arpa .arpa
 * .corp .private .test .invalid .example .onion, plus example.com/.net/.org.
 *
 * Returns 0, or -1 with a human-readable reason in reason (size reasonlen, may be
 * NULL/0); ascii_out is "" on failure. Thread-safe.
 */
int domain_check(const char *input, char *ascii_out, size_t outlen, char *reason, size_t reasonlen)
    __attribute__((warn_unused_result));

#endif
