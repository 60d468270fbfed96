/* Unit tests of phone numbers (scraper/extract_phone*.c, phone.cc): countries, clues, look-alikes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_pages.h"

#include "extract.h"
#include "extract_internal.h"
#include "phone.h"

#ifndef WF4_PAGES_DIR
#error "WF4_PAGES_DIR must name tests/data/pages"
#endif

/* One page: where it was fetched, its <html lang>, its body, the phones wanted. */
typedef struct phone_case {
    const char *name, *url, *lang, *body;
    const char *phones; /* '|'-joined E.164, in page order; "" = none */
} phone_case;

static void join(const strlist *l, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            strncat(out, "|", n - strlen(out) - 1);
        strncat(out, l->v[i], n - strlen(out) - 1);
    }
}

static void check_case(const phone_case *t)
{
    char html[8192], got[1024], err[128];
    meta_page m;
    snprintf(html, sizeof html,
             "<!DOCTYPE html><html%s%s%s><head><meta charset=utf-8><title>%s</title></head>"
             "<body>%s</body></html>",
             t->lang ? " lang=\"" : "", t->lang ? t->lang : "", t->lang ? "\"" : "", t->name,
             t->body);
    if (extract_page(html, strlen(html), "text/html", t->url, &m, err, sizeof err) != EXTRACT_OK)
        fail_msg("%s: extract_page: %s", t->name, err);
    join(&m.phone_numbers, got, sizeof got);
    if (strcmp(got, t->phones) != 0)
        fail_msg("%s: phones want '%s', got '%s'", t->name, t->phones, got);
    meta_page_free(&m);
}

static void check_cases(const phone_case *cases, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        check_case(&cases[i]);
    print_message("%s: %zu pages\n", what, n);
}

#define COM "https://www.example.com/"

/* Numbers as each country writes them: national with and without separators,
 * international, in tel: links, the same number several times (stored once). */
static const phone_case countries[] = {
    {"US: issue 22, tel: link and plain digits", COM, "en-US",
     "<a href='tel:+18285550131'>Call us</a> or text 8285550131 or (828) 555-0131, "
     "828.555.0131, +1 828-555-0131",
     "+18285550131"},
    {"US: toll-free with trunk 1", COM, "en-US", "Toll-free 1-800-555-0199, fax 206 555 0101",
     "+18005550199|+12065550101"},
    {"DE: issue 22, national and international", "https://www.example.de/", "de",
     "<p>Service 02211234567</p><p>International +492211234567</p>"
     "<p>+49 (0)221 1234567</p><p>0049 221 1234567</p><a href='tel:0221%20123%2045%2067'>Anruf</a>",
     "+492211234567"},
    {"DE: slashes and pairs", "https://www.example.de/", "de-DE",
     "Tel.: 030/1234567 · Fax 089 / 12 34 56 · mobil 0171 2345678",
     "+49301234567|+4989123456|+491712345678"},
    {"ES: issue 22, mobile in threes", COM, "es", "Llámanos al 600 123 456 o al 912345678",
     "+34600123456|+34912345678"},
    {"KR: issue 22, Seoul with hyphens", COM, "ko", "대표전화 02-1234-5678, 휴대폰 010-1234-5678",
     "+82212345678|+821012345678"},
    {"JP: full-width colon, tel: without country code", COM, "ja",
     "電話：03-1234-5678　<a href='tel:0312345678'>03 1234 5678</a>・0120-123-456",
     "+81312345678|+81120123456"},
    {"FR: pairs and +33", "https://www.example.fr/", "fr",
     "Téléphone : 01 23 45 67 89 — depuis l'étranger +33 1 23 45 67 89 — 0612345678",
     "+33123456789|+33612345678"},
    {"GB: London, international with (0)", "https://www.example.co.uk/", "en-GB",
     "Call 020 7946 0958 or +44 (0)20 7946 0958; mobile 07911 123456",
     "+442079460958|+447911123456"},
    {"IT: leading zero kept", COM, "it", "Prenotazioni 06 1234 5678 oppure +39 06 12345678",
     "+390612345678"},
    {"BR: area code in parentheses", COM, "pt-BR", "WhatsApp (11) 91234-5678", "+5511912345678"},
    {"AU: landline and mobile", "https://www.example.com.au/", "en-AU",
     "Phone (02) 9876 5432 · Mobile 0412 345 678", "+61298765432|+61412345678"},
    {"IN: mobile", COM, "en-IN", "+91 98765 43210 / 098765 43210", "+919876543210"},
    {"CH: tel: international, text national", COM, "de-CH",
     "<a href='tel:+41-44-123-45-67'>Zentrale</a> 044 123 45 67", "+41441234567"},
    {"NL: dash after area code", "https://www.example.nl/", "nl-NL", "Bel ons: 020-1234567",
     "+31201234567"},
};

static void test_countries(void **state)
{
    (void)state;
    check_cases(countries, sizeof countries / sizeof countries[0], "countries");
}

/* Where a number written nationally is read from, strongest clue first. */
static const phone_case clues[] = {
    {"tel: country code beats the ccTLD", "https://www.example.de/", "de",
     "<a href='tel:+41441234567'>Tel</a> 044 123 45 67", "+41441234567"},
    {"schema.org address (JSON-LD) beats the ccTLD", "https://www.example.de/", "en",
     "<script type='application/ld+json'>{\"address\":{\"@type\":\"PostalAddress\","
     "\"addressCountry\":\"FR\"}}</script>Tél. 01 23 45 67 89",
     "+33123456789"},
    {"schema.org address (microdata)", COM, "en",
     "<div itemscope><span itemprop=addressCountry>fr</span></div>Tél. 01 23 45 67 89",
     "+33123456789"},
    {"ccTLD beats the language's region", "https://www.example.fr/", "en-US", "Call 01 23 45 67 89",
     "+33123456789"},
    {".co.uk is GB", "https://shop.example.co.uk/", "en", "Call 020 7946 0958", "+442079460958"},
    {".io says nothing: the language's region", "https://acme.io/", "de-DE", "Telefon 030 1234567",
     "+49301234567"},
    {"e-mail address at a ccTLD", COM, NULL,
     "<p>Telefon: 089 / 12 34 56</p><p>bestellung@cafe-mueller.de</p>", "+4989123456"},
    {"og:locale", COM, NULL, "<meta property='og:locale' content='en_AU'>Phone (02) 9876 5432",
     "+61298765432"},
    {"language alone", COM, "it", "Tel. 06 1234 5678", "+390612345678"},
    {"no clue: international and North American grouping only", COM, NULL,
     "Berlin 030 1234567 · Montréal (514) 555-0199 · Zürich +41 44 123 45 67",
     "+15145550199|+41441234567"},
};

static void test_region_clues(void **state)
{
    (void)state;
    check_cases(clues, sizeof clues / sizeof clues[0], "region clues");
}

/* Prices, ids, dates and postal codes beside one real number each. */
static const phone_case lookalikes[] = {
    {"DE look-alikes", "https://www.example.de/", "de",
     "<p>Preis 1.234,56 € · € 1.299.000 · lieferbar ab 08.02.2026 · 2023-11-05</p>"
     "<p>PLZ 50667 Köln · USt-IdNr.: DE 123 456 789 · HRB 98765 · "
     "Steuernummer 215/5810/1234 · EAN 4006381333931 · Art.-Nr. 35307123</p>"
     "<p>Bestell-Nr. 0221987654 · Kundennummer 02219876543 · Version 1.2.3456789</p>"
     "<p>Tel.-Nr.: 0221 1234567</p>",
     "+492211234567"},
    {"US look-alikes", COM, "en-US",
     "<p>EIN 12-3456789 · license 2023-0012345 · ZIP 98101 · $1,299.00 · "
     "$ 2065550100.00 · Order no. 20231105 · SKU 8473625190 · "
     "ISBN 978-3-16-148410-0 · 12/05/2023 · 1998-2026 · 9-17</p><p>Phone (206) 555-0100</p>",
     "+12065550100"},
    {"JP look-alikes", COM, "ja",
     "〒100-0005 東京都 · 法人番号 1234567890123 · 型番 0312345678 · 2026/12/03 · "
     "電話 03-1234-5678",
     "+81312345678"},
    {"invalid numbers", COM, "en-US",
     "555-0100 · (123) 456-7890 · +1 000 000 0000 · +999 1234 5678 · 12345678901234567890", ""},
};

static void test_lookalikes(void **state)
{
    (void)state;
    check_cases(lookalikes, sizeof lookalikes / sizeof lookalikes[0], "look-alikes");
}

static void test_phone_api(void **state)
{
    (void)state;
    char e[PHONE_E164_MAX], r[3];
    assert_true(phone_parse("+49 (0)221 1234567", NULL, e));
    assert_string_equal(e, "+492211234567");
    assert_false(phone_parse("0221 1234567", NULL, e)); /* national: needs a region */
    assert_true(phone_parse("0221 1234567", "DE", e));
    assert_string_equal(e, "+492211234567");
    assert_false(phone_parse("12345", "DE", e));
    assert_false(phone_parse("", "US", e));
    assert_true(phone_region_of("+1 514 555 0199", r));
    assert_string_equal(r, "CA");
    assert_true(phone_region_of("+82 2-1234-5678", r));
    assert_string_equal(r, "KR");
    assert_false(phone_region_of("0221 1234567", r));
    assert_true(phone_region_known("DE"));
    assert_false(phone_region_known("XX"));
    assert_false(phone_region_known("ZZ"));
}

/* The three pages of realistic size (tests/data/gen_pages.py): product grids full of
 * prices, article numbers, EANs, SKUs, dates and postal codes around the contacts. */
static void test_large_pages(void **state)
{
    (void)state;
    static const struct {
        const char *file, *phones;
    } pages[] = {
        {"40_large_wordpress_de.html", "+492211234567|+492211234568|+491712345678"},
        {"41_large_shop_us.html", "+18285550131|+18285550132|+18005550199"},
        {"42_large_news_jp.html", "+81312345678|+81312345679|+81120123456"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        size_t len = 0;
        char *body = read_page(pages[i].file, &len), got[1024], err[128];
        meta_page m;
        assert_int_equal(extract_page(body, len, "text/html", COM, &m, err, sizeof err),
                         EXTRACT_OK);
        join(&m.phone_numbers, got, sizeof got);
        if (strcmp(got, pages[i].phones) != 0)
            fail_msg("%s: phones want '%s', got '%s'", pages[i].file, pages[i].phones, got);
        print_message("%s: %zu bytes, %zu phones\n", pages[i].file, len, m.phone_numbers.n);
        meta_page_free(&m);
        free(body);
    }
}

/* Text made only of candidates: the search stays bounded (128 chunks of 2 KB, 20
 * failed candidates each), the list capped, and what it holds are North American
 * numbers (the page says en-US). */
static void test_hostile_text(void **state)
{
    (void)state;
    size_t n = 400000;
    char *html = malloc(n + 64), err[128];
    meta_page m;
    assert_non_null(html);
    size_t o = (size_t)sprintf(html, "<html lang=en-US><body><p>");
    for (unsigned k = 0; o + 40 < n; k++)
        o += (size_t)sprintf(html + o, "(206) 555-%04u 1 2 3 4 5 6 7 8 9 ", k % 10000);
    clock_t t0 = clock();
    assert_int_equal(extract_page(html, o, "text/html", COM, &m, err, sizeof err), EXTRACT_OK);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_in_range(m.phone_numbers.n, 1, EXTRACT_MAX_PHONES);
    for (size_t i = 0; i < m.phone_numbers.n; i++)
        if (strncmp(m.phone_numbers.v[i], "+1", 2) != 0 || strlen(m.phone_numbers.v[i]) != 12)
            fail_msg("hostile text: phone %zu is '%s'", i, m.phone_numbers.v[i]);
    print_message("hostile text: %zu bytes in %.2f s CPU, %zu phones\n", o, s, m.phone_numbers.n);
    assert_true(s < 20.0); /* sanitizers and a shared machine: an honest bound, not a race */
    meta_page_free(&m);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone_api),    cmocka_unit_test(test_countries),
        cmocka_unit_test(test_region_clues), cmocka_unit_test(test_lookalikes),
        cmocka_unit_test(test_large_pages),  cmocka_unit_test(test_hostile_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
