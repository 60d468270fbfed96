/* Phone numbers through Google's libphonenumber (phone.cc), behind a C interface. */
#ifndef WF4_PHONE_H
#define WF4_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* '+', at most 15 digits (E.164's limit), NUL. */
#define PHONE_E164_MAX 17u

/* How strict phone_find is about the grouping of a number written nationally. */
typedef enum {
    PHONE_VALID,  /* any valid number, however it is grouped */
    PHONE_STRICT, /* valid and grouped in a possible way for its region: no dates */
    PHONE_EXACT   /* grouped as the region writes it ("(828) 555-0131"), or one block */
} phone_leniency;

/* Called by phone_find for each valid number, in text order: text[start..start+len)
 * is the number as written, e164 its E.164 form. A non-zero return stops the search. */
typedef int (*phone_found_fn)(size_t start, size_t len, const char *e164, void *arg);

/*
 * Finds the valid phone numbers in the UTF-8 text[0..len) with libphonenumber's
 * PhoneNumberMatcher: numbers written in international form are found whatever the
 * region; numbers written nationally only for region (ISO 3166 alpha-2, e.g. "DE";
 * NULL or "ZZ" when unknown). At most max_tries candidates are tried (a bound on the
 * cost of hostile text). Returns 0, or -1 when libphonenumber failed (out of memory).
 */
int phone_find(const char *text, size_t len, const char *region, phone_leniency leniency,
               size_t max_tries, phone_found_fn fn, void *arg) __attribute__((warn_unused_result));

/* Parses one number as written in a tel: link for region (NULL or "ZZ": international
 * form only) and writes its E.164 form into e164 (PHONE_E164_MAX bytes) when it is a
 * valid number. Returns true then, false otherwise. */
bool phone_parse(const char *raw, const char *region, char e164[PHONE_E164_MAX]);

/* The region ("CA", "GB") of a valid number written in international form
 * ("+1 514 555 0199"), written into region (3 bytes); false when raw is not one. */
bool phone_region_of(const char *raw, char region[3]);

/* True when region (two upper-case letters) is a region libphonenumber has metadata for. */
bool phone_region_known(const char *region);

#ifdef __cplusplus
}
#endif

#endif
