/* libFuzzer target: extract_page on arbitrary bytes must not crash, leak or emit bad UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "extract_internal.h"

static const char *const fuzz_content_types[] = {
    NULL,
    "text/html",
    "text/html; charset=utf-8",
    "text/html; charset=iso-8859-1",
    "text/html; charset=shift_jis",
    "text/html; charset=\"windows-1251\"",
    "application/json",
    "text/html; charset=utf-16le",
};

static void fuzz_check(const char *s)
{
    if (s && !ext_utf8_valid(s, strlen(s)))
        abort();
}

static void fuzz_check_page(const meta_page *m)
{
    const char *f[] = {m->title,        m->description,       m->favicon_url,  m->logo_url,
                       m->language,     m->wordpress_version, m->facebook_url, m->twitter_url,
                       m->linkedin_url, m->instagram_url,     m->youtube_url};
    const strlist *lists[] = {&m->tech_stack, &m->email_addresses, &m->phone_numbers};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        fuzz_check(f[i]);
    for (size_t i = 0; i < 3; i++) {
        if (lists[i]->n > 40)
            abort();
        for (size_t k = 0; k < lists[i]->n; k++)
            fuzz_check(lists[i]->v[k]);
    }
    if (m->title && strlen(m->title) > EXTRACT_MAX_TITLE)
        abort();
    if (m->description && strlen(m->description) > EXTRACT_MAX_DESCRIPTION)
        abort();
}

/* The first byte picks the Content-Type; the rest is the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    meta_page m;
    char err[128];
    const char *ct = NULL;
    if (size > 0) {
        ct = fuzz_content_types[data[0] %
                                (sizeof fuzz_content_types / sizeof fuzz_content_types[0])];
        data++;
        size--;
    }
    int rc = extract_page((const char *)data, size, ct, "https://fuzz.example.com/a/b", &m, err,
                          sizeof err);
    if (rc == EXTRACT_ERROR)
        abort(); /* only out of memory may fail, and the fuzzer does not cause that */
    fuzz_check_page(&m);
    meta_page_free(&m);
    return 0;
}
