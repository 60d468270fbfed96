/* Unit tests of scraper/extract*.c: a corpus of pages with exact expected fields, plus edge cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_pages.h"

#include "extract.h"
#include "extract_internal.h"

#ifndef WF4_PAGES_DIR
#error "WF4_PAGES_DIR must name tests/data/pages"
#endif

#define BASE "https://www.example.com/"

/* One corpus page and every field it must give; lists are '|'-joined, NULL = none. */
typedef struct page_case {
    const char *file, *content_type;
    int rc;
    const char *title, *description, *favicon, *logo, *language;
    bool wp;
    const char *wp_version;
    bool elementor;
    const char *tech, *emails, *phones;
    const char *facebook, *twitter, *linkedin, *instagram, *youtube;
} page_case;

static const page_case pages[] = {
    {"01_utf8_basic.html", "text/html; charset=UTF-8", EXTRACT_OK,
     "Acme & Söhne – Präzisionswerkzeuge",
     "Werkzeuge aus Stuttgart seit 1921 – Qualität \"made in Germany\".",
     BASE "static/favicon-32.png", "https://cdn.acme-soehne.de/brand/logo.svg", "de-DE", false,
     NULL, false, "jQuery|Bootstrap|Font Awesome|Google Fonts",
     "info@acme-soehne.de|vertrieb@acme-soehne.de", "+497111234560",
     "https://www.facebook.com/AcmeSoehne/", "https://x.com/acmesoehne",
     "https://www.linkedin.com/company/acme-soehne", "https://www.instagram.com/acme.soehne/",
     "https://www.youtube.com/@AcmeSoehne"},
    {"02_latin1_meta.html", "text/html", EXTRACT_OK, "Café Müller · Bäckerei & Konditorei",
     "Frische Brötchen, Kuchen und Torten – täglich ab 6 Uhr.", BASE "favicon.gif", NULL, NULL,
     false, NULL, false, NULL, "bestellung@cafe-mueller.de", "+4989123456", NULL, NULL, NULL, NULL,
     NULL},
    {"03_cp1252_ctype.html", "text/html; charset=windows-1252", EXTRACT_OK,
     "“Smart” quotes — €5 deals", "Prices from €5 · Don’t miss out", BASE "favicon.ico",
     "https://smartdeals.co.uk/i/brand-logo.png", "en-GB", false, NULL, false, NULL,
     "sales@smartdeals.co.uk", "+442079460958", NULL, NULL, NULL, NULL, NULL},
    /* A BOM wins over a stale Content-Type charset, as in browsers. */
    {"04_bom_utf8.html", "text/html; charset=iso-8859-1", EXTRACT_OK, "Zürich Immobilien AG",
     "Wohnungen in Zürich, Winterthur und Zug.", BASE "favicon.ico", NULL, "de-CH", false, NULL,
     false, NULL, "info@zuerich-immo.ch", "+41441234567", NULL, NULL, NULL, NULL, NULL},
    {"05_shift_jis.html", NULL, EXTRACT_OK, "株式会社テスト商事 ｜ 公式サイト",
     "東京都千代田区の総合商社です。", BASE "favicon.ico", NULL, "ja", false, NULL, false, NULL,
     "contact@test-shoji.co.jp", "+81312345678", NULL, NULL, NULL, NULL, NULL},
    /* No declaration anywhere: uchardet's guess. */
    {"06_nodecl_latin1.html", "text/html", EXTRACT_OK, "Boulangerie Pâtisserie Lefèvre à Montréal",
     NULL, BASE "favicon.ico", NULL, NULL, false, NULL, false, NULL, "commandes@lefevre.ca",
     "+15145550199", NULL, NULL, NULL, NULL, NULL},
    {"07_broken.html", NULL, EXTRACT_OK, "Broken <b>markup</b> & co", "unquoted-description",
     BASE "favicon.ico", BASE "img/brand.png", NULL, false, NULL, false, NULL,
     "hello@broken-markup.net", "+14155550142", "https://www.facebook.com/brokenmarkup",
     "https://twitter.com/brokenmarkup", NULL, NULL, NULL},
    {"08_no_title.html", "text/html", EXTRACT_OK, "Loja Verde – Produtos Naturais",
     "Chás, grãos e suplementos.", "https://www.lojaverde.com.br/favicon.ico",
     "https://www.lojaverde.com.br/loja/imagens/logo-loja.png", "pt-BR", false, NULL, false, NULL,
     NULL, NULL, NULL, NULL, "https://br.linkedin.com/company/loja-verde", NULL, NULL},
    {"09_contacts.html", "text/html", EXTRACT_OK, "Contact – Northwind Traders", NULL,
     BASE "favicon.ico", BASE "img/logo@2x.png", "en", false, NULL, false, NULL,
     "sales@northwind.com|support@northwind.com|press@northwind.com|"
     "pr.agency@mediahouse.co.uk|careers@northwind.com",
     "+12065550100|+18005550199|+12065550101|+442079460958", NULL, NULL, NULL, NULL, NULL},
    {"11_wordpress_elementor.html", "text/html; charset=UTF-8", EXTRACT_OK,
     "Bright Dental Clinic – Family Dentistry in Austin", NULL,
     "https://brightdental.com/wp-content/uploads/2023/05/cropped-icon-32x32.png",
     "https://brightdental.com/wp-content/uploads/2023/05/bright-logo.png", "en-US", true, "6.4.2",
     true,
     "WordPress|Elementor|WooCommerce|jQuery|Google Analytics|Google Tag Manager|"
     "Facebook Pixel|Hotjar",
     "smile@brightdental.com", "+15125550147", "https://www.facebook.com/brightdentalaustin", NULL,
     NULL, "https://instagram.com/brightdentalatx", NULL},
    /* No generator: the version comes from core assets' ver=, not jQuery's. */
    {"12_wordpress_nover.html", NULL, EXTRACT_OK, "Fietsenmaker Jansen", NULL, BASE "favicon.ico",
     NULL, "nl-NL", true, "6.2.1", false, "WordPress|jQuery", "info@fietsenjansen.nl",
     "+31201234567", NULL, NULL, NULL, NULL, NULL},
    {"13_shopify.html", "text/html", EXTRACT_OK, "Maple & Oak Candles",
     "Hand-poured soy candles from Vermont.",
     "https://mapleoak.com/cdn/shop/files/favicon_32x32.png?v=1",
     "https://mapleoak.com/cdn/shop/files/Maple_Oak_Logo.png?v=2", "en", false, NULL, false,
     "Shopify|HubSpot|Cloudflare", NULL, NULL, NULL, NULL, NULL, NULL,
     "https://www.youtube.com/channel/UC123abc"},
    {"14_wix.html", "text/html", EXTRACT_OK, "Estudio Yoga Sol | Clases en Madrid",
     "Clases de yoga para todos los niveles en el centro de Madrid.",
     "https://static.wixstatic.com/media/abc~mv2.png/v1/fill/w_192,h_192/abc~mv2.png",
     "https://static.wixstatic.com/media/sol_logo~mv2.png", "es", false, NULL, false, "Wix",
     "hola@yogasol.es", "+34912345678", NULL, NULL, NULL, NULL, NULL},
    {"15_squarespace.html", "text/html", EXTRACT_OK, "Hazel Photography", NULL, BASE "favicon.ico",
     "https://images.squarespace-cdn.com/content/hazel-logo.png", "en-US", false, NULL, false,
     "Squarespace", NULL, NULL, NULL, NULL, NULL, "https://www.instagram.com/hazelphoto/", NULL},
    {"16_drupal.html", "text/html", EXTRACT_OK, "Mairie de Saint-Honoré | Site officiel",
     "Démarches, agenda et actualités de la commune.", BASE "themes/custom/mairie/favicon.ico",
     NULL, "fr", false, NULL, false, "Drupal", "mairie@saint-honore.fr", "+33476123456", NULL, NULL,
     NULL, NULL, NULL},
    {"17_joomla.html", "text/html", EXTRACT_OK, "Trattoria da Mario", NULL, BASE "favicon.ico",
     NULL, "it-it", false, NULL, false, "Joomla|jQuery", NULL, "+390612345678",
     "https://www.facebook.com/trattoriadamario", NULL, NULL, NULL, NULL},
    {"18_nextjs.html", "text/html; charset=utf-8", EXTRACT_OK, "Orbit — Analytics for teams",
     "Ship dashboards in minutes.", BASE "favicon.svg", BASE "orbit-logo.svg", "en", false, NULL,
     false, "React|Next.js|Tailwind CSS|Cloudflare", "hello@orbit.dev", NULL, NULL,
     "https://x.com/orbitdev", NULL, NULL, NULL},
    {"19_vue_nuxt.html", "text/html", EXTRACT_OK, "Pinecone Co-working", NULL, BASE "favicon.ico",
     NULL, "en", false, NULL, false, "Vue.js|Nuxt.js|Tailwind CSS", NULL, "+13035550123", NULL,
     NULL, NULL, NULL, NULL},
    {"20_angular_react.html", "text/html", EXTRACT_OK, "Ledgerly", NULL, BASE "app/favicon.ico",
     NULL, "en", false, NULL, false, "React|Vue.js|Angular", NULL, NULL, NULL, NULL, NULL, NULL,
     "https://www.youtube.com/user/ledgerly"},
    {"21_webflow.html", "text/html", EXTRACT_OK, "Kiteworks Studio",
     "Brand and web design studio in Lisbon.", "https://assets.website-files.com/64f19/favicon.png",
     NULL, "en", false, NULL, false, "Webflow", NULL, NULL, NULL, NULL,
     "https://www.linkedin.com/company/kiteworks/", NULL, NULL},
    {"22_whitespace.html", "text/html", EXTRACT_OK, "Stora Mellanrum AB", "Rum med luft",
     BASE "favicon.ico", NULL, "sv", false, NULL, false, NULL, NULL, "+46812345678", NULL, NULL,
     NULL, NULL, NULL},
    {"23_data.json", NULL, EXTRACT_NOT_HTML, NULL, NULL, NULL, NULL, NULL, false, NULL, false, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"23_data.json", "application/json", EXTRACT_NOT_HTML, NULL, NULL, NULL, NULL, NULL, false,
     NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"24_binary.bin", "application/octet-stream", EXTRACT_NOT_HTML, NULL, NULL, NULL, NULL, NULL,
     false, NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"25_empty.html", "text/html", EXTRACT_NOT_HTML, NULL, NULL, NULL, NULL, NULL, false, NULL,
     false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"01_utf8_basic.html", "image/png", EXTRACT_NOT_HTML, NULL, NULL, NULL, NULL, NULL, false, NULL,
     false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"27_invalid_utf8.html", NULL, EXTRACT_OK,
     "Bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD( and "
     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end",
     NULL, BASE "favicon.ico", NULL, NULL, false, NULL, false, NULL, "ok@valid-bytes.com", NULL,
     NULL, NULL, NULL, NULL, NULL},
};

static int assertions;

static void expect_str(const char *file, const char *what, const char *want, const char *got)
{
    assertions++;
    if (!want && !got)
        return;
    if (!want || !got || strcmp(want, got) != 0)
        fail_msg("%s: %s: want '%s', got '%s'", file, what, want ? want : "(null)",
                 got ? got : "(null)");
    if (!ext_utf8_valid(got, strlen(got)))
        fail_msg("%s: %s: invalid UTF-8", file, what);
}

static void expect_list(const char *file, const char *what, const char *want, const strlist *l)
{
    char got[4096] = "";
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            strcat(got, "|");
        strcat(got, l->v[i]);
    }
    expect_str(file, what, want ? want : "", got);
}

static void check_page(const page_case *t)
{
    size_t len = 0;
    char *body = read_page(t->file, &len), err[128];
    meta_page m;
    int rc = extract_page(body, len, t->content_type, BASE, &m, err, sizeof err);
    if (rc != t->rc)
        fail_msg("%s: rc %d (%s), want %d", t->file, rc, err, t->rc);
    expect_str(t->file, "title", t->title, m.title);
    expect_str(t->file, "description", t->description, m.description);
    expect_str(t->file, "favicon_url", t->favicon, m.favicon_url);
    expect_str(t->file, "logo_url", t->logo, m.logo_url);
    expect_str(t->file, "language", t->language, m.language);
    expect_str(t->file, "wordpress_version", t->wp_version, m.wordpress_version);
    assert_int_equal(m.is_wordpress, t->wp);
    assert_int_equal(m.has_elementor, t->elementor);
    assertions += 2;
    expect_list(t->file, "tech_stack", t->tech, &m.tech_stack);
    expect_list(t->file, "email_addresses", t->emails, &m.email_addresses);
    expect_list(t->file, "phone_numbers", t->phones, &m.phone_numbers);
    expect_str(t->file, "facebook_url", t->facebook, m.facebook_url);
    expect_str(t->file, "twitter_url", t->twitter, m.twitter_url);
    expect_str(t->file, "linkedin_url", t->linkedin, m.linkedin_url);
    expect_str(t->file, "instagram_url", t->instagram, m.instagram_url);
    expect_str(t->file, "youtube_url", t->youtube, m.youtube_url);
    meta_page_free(&m);
    free(body);
}

static void test_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        check_page(&pages[i]);
    print_message("corpus: %zu cases, %d field assertions\n", sizeof pages / sizeof pages[0],
                  assertions);
}

static void test_list_caps(void **state)
{
    (void)state;
    size_t len = 0;
    char *body = read_page("10_many_contacts.html", &len);
    meta_page m;
    assert_int_equal(extract_page(body, len, "text/html", BASE, &m, NULL, 0), EXTRACT_OK);
    assert_int_equal(m.email_addresses.n, EXTRACT_MAX_EMAILS);
    assert_string_equal(m.email_addresses.v[0], "person00@bigteam.org");
    assert_string_equal(m.email_addresses.v[19], "person19@bigteam.org");
    assert_int_equal(m.phone_numbers.n, EXTRACT_MAX_PHONES);
    assert_string_equal(m.phone_numbers.v[0], "+12065550000");
    assert_string_equal(m.phone_numbers.v[19], "+12065550019");
    meta_page_free(&m);
    free(body);
}

/* Title and description cut at their caps on a UTF-8 boundary; a 2 KB URL skipped. */
static void test_field_caps(void **state)
{
    (void)state;
    size_t len = 0;
    char *body = read_page("26_long_fields.html", &len), want[4096] = "";
    meta_page m;
    assert_int_equal(extract_page(body, len, NULL, BASE, &m, NULL, 0), EXTRACT_OK);
    for (int i = 0; i < 64; i++) /* "Ñandú " is 8 bytes: 64 fill 512, less the last space */
        strcat(want, i ? " Ñandú" : "Ñandú");
    assert_string_equal(m.title, want);
    assert_int_equal(strlen(m.title), 511);
    want[0] = '\0';
    for (int i = 0; i < 256; i++)
        strcat(want, i ? " Größe" : "Größe");
    assert_string_equal(m.description, want);
    assert_true(strlen(m.description) <= EXTRACT_MAX_DESCRIPTION);
    assert_string_equal(m.facebook_url, "https://facebook.com/shortname");
    meta_page_free(&m);
    free(body);
}

/* The Content-Type charset beats <meta>: latin-1 bytes read as UTF-8 become U+FFFD. */
static void test_content_type_wins(void **state)
{
    (void)state;
    size_t len = 0;
    char *body = read_page("02_latin1_meta.html", &len);
    meta_page m;
    assert_int_equal(extract_page(body, len, "text/html; charset=\"utf-8\"", BASE, &m, NULL, 0),
                     EXTRACT_OK);
    assert_string_equal(m.title, "Caf\xEF\xBF\xBD M\xEF\xBF\xBDller \xEF\xBF\xBD B\xEF\xBF\xBD"
                                 "ckerei & Konditorei");
    meta_page_free(&m);
    /* an unknown charset label is ignored, the <meta> one is used */
    assert_int_equal(extract_page(body, len, "text/html; charset=x-bogus", BASE, &m, NULL, 0),
                     EXTRACT_OK);
    assert_string_equal(m.title, "Café Müller · Bäckerei & Konditorei");
    meta_page_free(&m);
    free(body);
}

static void test_utf16_bom(void **state)
{
    (void)state;
    static const char page[] =
        "\xFF\xFE<\0t\0i\0t\0l\0e\0>\0\xE9\0t\0\xE9\0<\0/\0t\0i\0t\0l\0e\0>\0";
    meta_page m;
    assert_int_equal(extract_page(page, sizeof page - 1, NULL, BASE, &m, NULL, 0), EXTRACT_OK);
    assert_string_equal(m.title, "été");
    meta_page_free(&m);
}

static void test_no_page_url(void **state)
{
    (void)state;
    static const char page[] = "<link rel=icon href=/i.png><a href='https://x.com/abc'>x</a>"
                               "<img class=logo src='https://cdn.io/l.png'>";
    meta_page m;
    assert_int_equal(extract_page(page, strlen(page), NULL, NULL, &m, NULL, 0), EXTRACT_OK);
    assert_null(m.favicon_url); /* relative, nothing to resolve against */
    assert_string_equal(m.twitter_url, "https://x.com/abc");
    assert_string_equal(m.logo_url, "https://cdn.io/l.png");
    meta_page_free(&m);
}

static void test_bad_args(void **state)
{
    (void)state;
    meta_page m;
    char err[64];
    assert_int_equal(extract_page(NULL, 10, NULL, BASE, &m, err, sizeof err), EXTRACT_ERROR);
    assert_string_equal(err, "invalid arguments");
    assert_int_equal(extract_page("x", 1, NULL, BASE, NULL, err, sizeof err), EXTRACT_ERROR);
    assert_int_equal(extract_page(NULL, 0, NULL, BASE, &m, err, sizeof err), EXTRACT_NOT_HTML);
    assert_string_equal(err, "empty body");
    meta_page_free(&m);
    assert_int_equal(extract_page("  \n\t ", 5, NULL, BASE, &m, err, sizeof err), EXTRACT_NOT_HTML);
    meta_page_free(&m);
}

/* Past EXTRACT_MAX_BODY the page is cut: a title after the cut is not seen. */
static void test_body_cap(void **state)
{
    (void)state;
    size_t n = EXTRACT_MAX_BODY + 4096;
    char *body = malloc(n);
    assert_non_null(body);
    memset(body, ' ', n);
    memcpy(body, "<html><body><p>x", 16);
    memcpy(body + n - 100, "<title>late</title>", 19);
    meta_page m;
    assert_int_equal(extract_page(body, n, NULL, BASE, &m, NULL, 0), EXTRACT_OK);
    assert_null(m.title);
    meta_page_free(&m);
    memcpy(body + EXTRACT_MAX_BODY - 100, "<title>early</title>", 20);
    assert_int_equal(extract_page(body, n, NULL, BASE, &m, NULL, 0), EXTRACT_OK);
    assert_string_equal(m.title, "early");
    meta_page_free(&m);
    free(body);
}

/* Deep nesting: gumbo's own recursive free would overflow the stack here. */
static void test_deep_nesting(void **state)
{
    (void)state;
    size_t depth = 1000000, n = depth * 5 + 64;
    char *body = malloc(n), *p = body;
    assert_non_null(body);
    p += sprintf(p, "<title>deep</title>");
    for (size_t i = 0; i < depth; i++, p += 5)
        memcpy(p, "<div>", 5);
    meta_page m;
    assert_int_equal(extract_page(body, (size_t)(p - body), NULL, BASE, &m, NULL, 0), EXTRACT_OK);
    assert_string_equal(m.title, "deep");
    meta_page_free(&m);
    free(body);
}

static void test_url_resolve(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"https://a.com/x/y/z.html", "img.png", "https://a.com/x/y/img.png"},
        {"https://a.com/x/y/z.html", "../img.png", "https://a.com/x/img.png"},
        {"https://a.com/x/y/z.html", "../../../../img.png", "https://a.com/img.png"},
        {"https://a.com/x/y/z.html", "/./p/./q/../r", "https://a.com/p/r"},
        {"https://a.com/x/y/z.html", "//cdn.b.com/s.js", "https://cdn.b.com/s.js"},
        {"http://a.com/x", "?q=1", "http://a.com/x?q=1"},
        {"http://a.com/x?old#f", "#top", "http://a.com/x?old#top"},
        {"https://a.com", "logo.png", "https://a.com/logo.png"},
        {"https://a.com/", "  \n/p q\t.png ", "https://a.com/p%20q.png"},
        {"https://a.com/", "HTTPS://B.com", "HTTPS://B.com/"},
        {"https://a.com/", "https://b.com/a/../c?x=../y", "https://b.com/c?x=../y"},
        {"https://a.com/", "\\\\evil.com\\x", "https://evil.com/x"},
        {"https://a.com/", "javascript:alert(1)", NULL},
        {"https://a.com/", "data:image/png;base64,AAAA", NULL},
        {"https://a.com/", "mailto:x@y.z", NULL},
        {"https://a.com/", "", NULL},
        {"https://a.com/", "https://", NULL},
        {NULL, "rel.png", NULL},
        {"ftp://a.com/", "rel.png", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool oom = true;
        char *u = ext_url_resolve(cases[i][0], cases[i][1], EXTRACT_MAX_URL, &oom);
        assert_false(oom);
        if (!cases[i][2]) {
            if (u)
                fail_msg("case %zu: want NULL, got %s", i, u);
            continue;
        }
        if (!u || strcmp(u, cases[i][2]) != 0)
            fail_msg("case %zu: want %s, got %s", i, cases[i][2], u ? u : "(null)");
        free(u);
    }
}

static void test_social_classify(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        ext_social want;
        ext_social_rank rank;
        const char *profile; /* NULL: the URL itself */
    } cases[] = {
        {"https://www.facebook.com/acme", EXT_SOCIAL_FACEBOOK, EXT_RANK_ORG, NULL},
        {"https://m.facebook.com/acme?ref=x", EXT_SOCIAL_FACEBOOK, EXT_RANK_ORG, NULL},
        {"https://www.facebook.com/acme/posts/123", EXT_SOCIAL_FACEBOOK, EXT_RANK_POST,
         "https://www.facebook.com/acme"},
        {"https://www.facebook.com/sharer/sharer.php?u=x", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://www.facebook.com/", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://notfacebook.com/acme", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://x.com/acme", EXT_SOCIAL_TWITTER, EXT_RANK_ORG, NULL},
        {"https://twitter.com/acme/status/1789012345678901234", EXT_SOCIAL_TWITTER, EXT_RANK_POST,
         "https://twitter.com/acme"},
        {"https://x.com/acme/status/17?s=20", EXT_SOCIAL_TWITTER, EXT_RANK_POST,
         "https://x.com/acme"},
        {"https://twitter.com/intent/tweet?text=x", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://x.com/i/web/status/17", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://mobile.twitter.com/acme", EXT_SOCIAL_TWITTER, EXT_RANK_ORG, NULL},
        {"https://x.com.evil.io/acme", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://de.linkedin.com/company/acme", EXT_SOCIAL_LINKEDIN, EXT_RANK_ORG, NULL},
        {"https://www.linkedin.com/school/acme-academy/", EXT_SOCIAL_LINKEDIN, EXT_RANK_ORG, NULL},
        {"https://www.linkedin.com/in/jane-founder", EXT_SOCIAL_LINKEDIN, EXT_RANK_PERSON, NULL},
        {"https://www.linkedin.com/company/", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://www.linkedin.com/posts/acme_launch-activity-71", EXT_SOCIAL_NONE, EXT_RANK_NONE,
         NULL},
        {"https://www.linkedin.com/sharing/share-offsite/?url=x", EXT_SOCIAL_NONE, EXT_RANK_NONE,
         NULL},
        {"https://instagram.com/acme", EXT_SOCIAL_INSTAGRAM, EXT_RANK_ORG, NULL},
        {"https://www.instagram.com/reel/abc/", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://www.youtube.com/@acme", EXT_SOCIAL_YOUTUBE, EXT_RANK_ORG, NULL},
        {"https://www.youtube.com/embed/abc", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"https://youtu.be/abc", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
        {"mailto:a@facebook.com", EXT_SOCIAL_NONE, EXT_RANK_NONE, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ext_social_rank rank = EXT_RANK_ORG;
        size_t keep = 99;
        const char *url = cases[i].url, *want = cases[i].profile ? cases[i].profile : url;
        if (ext_social_classify(url, &rank, &keep) != cases[i].want || rank != cases[i].rank)
            fail_msg("%s: want network %d rank %d, got rank %d", url, (int)cases[i].want,
                     (int)cases[i].rank, (int)rank);
        if (cases[i].want != EXT_SOCIAL_NONE &&
            (keep != strlen(want) || strncmp(url, want, keep) != 0))
            fail_msg("%s: profile '%.*s', want '%s'", url, (int)keep, url, want);
    }
}

static void test_emails(void **state)
{
    (void)state;
    strlist l = {0};
    assert_int_equal(ext_find_emails("a.b+tag@Sub.Example.ORG, x@y.png, @x.com, me@host", &l, 20),
                     0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0], "a.b+tag@sub.example.org");
    strlist_free(&l);
    assert_int_equal(ext_mailto("A%40b.de%2C%20c@d.io?cc=e@f.io", &l, 20), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0], "a@b.de");
    assert_string_equal(l.v[1], "c@d.io");
    strlist_free(&l);
}

static void test_header_tech(void **state)
{
    (void)state;
    meta_page m = {0};
    assert_int_equal(extract_header_tech(&m, "CF-RAY", "8a1b2c-FRA"), 0);
    assert_int_equal(extract_header_tech(&m, "set-cookie", "_shopify_y=abc; path=/"), 0);
    assert_int_equal(extract_header_tech(&m, "X-Pingback", "https://a.com/xmlrpc.php"), 0);
    assert_int_equal(extract_header_tech(&m, "set-cookie", "__cf_bm=x"), 0); /* already there */
    assert_int_equal(extract_header_tech(&m, "server", "nginx"), 0);
    assert_int_equal(m.tech_stack.n, 3);
    assert_string_equal(m.tech_stack.v[0], "Cloudflare");
    assert_string_equal(m.tech_stack.v[1], "Shopify");
    assert_string_equal(m.tech_stack.v[2], "WordPress");
    assert_true(m.is_wordpress);
    meta_page_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),          cmocka_unit_test(test_list_caps),
        cmocka_unit_test(test_field_caps),      cmocka_unit_test(test_content_type_wins),
        cmocka_unit_test(test_utf16_bom),       cmocka_unit_test(test_no_page_url),
        cmocka_unit_test(test_bad_args),        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_deep_nesting),    cmocka_unit_test(test_url_resolve),
        cmocka_unit_test(test_social_classify), cmocka_unit_test(test_emails),
        cmocka_unit_test(test_header_tech),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
