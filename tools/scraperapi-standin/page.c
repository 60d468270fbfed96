/* Stand-in pages: deterministic home pages generated from the host name, and odd bodies. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "standin.h"

typedef enum { ENC_UTF8, ENC_LATIN1, ENC_CP1252 } page_enc;

typedef enum { PLAT_STATIC, PLAT_WORDPRESS, PLAT_ELEMENTOR, PLAT_SHOPIFY, PLAT_REACT } page_plat;

/* Everything about a page that is drawn from the host's hash, drawn once, in this order. */
typedef struct page_profile {
    const char *host;
    const char *domain; /* host without "www." */
    char brand[64];
    char slug[64];
    page_enc enc;
    int charset; /* index into page_charsets */
    const char *lang;
    page_plat plat;
    int doctype, title, desc, og, favicon, logo, canonical;
    int jquery, bootstrap, ga, cloudflare;
    int email_text, email_link, email_free, tel_link, tel_text, phone_style;
    int fb, tw, x, li, ig, yt;
    int tagline;
    uint64_t digits;
} page_profile;

/* How a page declares its encoding: content type header, a meta tag, a BOM. */
static const struct {
    page_enc enc;
    const char *ctype;
    const char *meta; /* printed in <head>, or NULL */
    int bom;
    int weight;
} page_charsets[] = {
    {ENC_UTF8, "text/html; charset=utf-8", "<meta charset=\"utf-8\">", 0, 40},
    {ENC_UTF8, "text/html; charset=UTF-8", NULL, 0, 15},
    {ENC_UTF8, "text/html", "<meta charset=\"UTF-8\">", 1, 10},
    {ENC_LATIN1, "text/html", "<meta charset=\"iso-8859-1\">", 0, 10},
    {ENC_LATIN1, "text/html",
     "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">", 0, 5},
    {ENC_CP1252, "text/html; charset=windows-1252", NULL, 0, 10},
    {ENC_CP1252, "text/html", "<meta charset=\"windows-1252\">", 0, 5},
    {ENC_UTF8, "text/html", NULL, 0, 5},
};
#define PAGE_NCHARSETS (sizeof page_charsets / sizeof page_charsets[0])

static const char *const page_langs[] = {"en",    "en-US", "en-GB", "de", "de-DE", "fr-FR", "es",
                                         "it-IT", "nl",    "pt-BR", "sv", "pl",    NULL,    NULL};

static const char *const page_taglines[] = {
    "Handmade café furniture since 1998 – “built to last” in Zürich",
    "Ihr Partner für Qualität und Präzision – Über 25 Jahre Erfahrung",
    "Crêperie & pâtisserie — l’art du goût, depuis 1987",
    "Soluciones de diseño para pequeñas empresas. ¡Contáctanos!",
    "Fresh ideas for modern businesses",
    "Award‑winning plumbing services™ from São Paulo to Malmö",
    "Trusted accountants • Tax returns • Payroll",
    "Naïve art, façades and smörgåsbord: a curated collection",
};
#define PAGE_NTAGLINES (sizeof page_taglines / sizeof page_taglines[0])

static uint64_t page_next(uint64_t *s)
{
    *s += 0x632be59bd9b4e019ULL;
    return standin_mix(*s);
}

static int page_pick(uint64_t *s, unsigned n)
{
    return (int)(page_next(s) % n);
}

static int page_chance(uint64_t *s, unsigned pct)
{
    return page_next(s) % 100 < pct;
}

/* Brand "Acme Widgets" and slug "acmewidgets" from the first label that is not "www". */
static void page_names(page_profile *p)
{
    const char *label = p->domain;
    size_t n = strcspn(label, "."), b = 0, s = 0;
    int up = 1;
    for (size_t i = 0; i < n && b + 1 < sizeof p->brand && s + 1 < sizeof p->slug; i++) {
        unsigned char c = (unsigned char)label[i];
        if (c == '-' || c == '_') {
            p->brand[b++] = ' ';
            up = 1;
            continue;
        }
        p->brand[b++] = (char)(up ? toupper(c) : c);
        p->slug[s++] = (char)c;
        up = 0;
    }
    p->brand[b] = '\0';
    p->slug[s] = '\0';
}

static int page_pick_charset(uint64_t *s)
{
    int total = 0, r;
    for (size_t i = 0; i < PAGE_NCHARSETS; i++)
        total += page_charsets[i].weight;
    r = page_pick(s, (unsigned)total);
    for (size_t i = 0; i < PAGE_NCHARSETS; i++) {
        if (r < page_charsets[i].weight)
            return (int)i;
        r -= page_charsets[i].weight;
    }
    return 0;
}

static page_plat page_pick_platform(uint64_t *s)
{
    int r = page_pick(s, 100);
    if (r < 20)
        return PLAT_WORDPRESS;
    if (r < 35)
        return PLAT_ELEMENTOR;
    if (r < 45)
        return PLAT_SHOPIFY;
    if (r < 55)
        return PLAT_REACT;
    return PLAT_STATIC;
}

static void page_profile_draw(page_profile *p, const char *host)
{
    uint64_t s = standin_hash(host);
    memset(p, 0, sizeof *p);
    p->host = host;
    p->domain = strncmp(host, "www.", 4) == 0 && host[4] ? host + 4 : host;
    page_names(p);
    p->charset = page_pick_charset(&s);
    p->enc = page_charsets[p->charset].enc;
    p->lang = page_langs[page_pick(&s, sizeof page_langs / sizeof page_langs[0])];
    p->plat = page_pick_platform(&s);
    p->doctype = page_chance(&s, 90);
    p->title = page_chance(&s, 85);
    p->desc = page_chance(&s, 65);
    p->og = page_chance(&s, 40);
    p->favicon = page_chance(&s, 75);
    p->logo = page_chance(&s, 70);
    p->canonical = page_chance(&s, 50);
    int wp = p->plat == PLAT_WORDPRESS || p->plat == PLAT_ELEMENTOR;
    p->jquery = page_chance(&s, wp ? 80 : 30);
    p->bootstrap = page_chance(&s, 25);
    p->ga = page_chance(&s, 50);
    p->cloudflare = page_chance(&s, 30);
    p->email_text = page_chance(&s, 60);
    p->email_link = page_chance(&s, 55);
    p->email_free = page_chance(&s, 15);
    p->tel_link = page_chance(&s, 50);
    p->tel_text = page_chance(&s, 50);
    p->phone_style = page_pick(&s, 3);
    p->fb = page_chance(&s, 55);
    p->tw = page_chance(&s, 40);
    p->x = page_chance(&s, 50);
    p->li = page_chance(&s, 40);
    p->ig = page_chance(&s, 45);
    p->yt = page_chance(&s, 25);
    p->tagline = page_pick(&s, PAGE_NTAGLINES);
    p->digits = page_next(&s);
}

/* ---- text in the page's encoding ---- */

static unsigned page_cp1252(unsigned cp)
{
    static const unsigned map[][2] = {
        {0x20AC, 0x80}, {0x201A, 0x82}, {0x2018, 0x91}, {0x2019, 0x92}, {0x201C, 0x93},
        {0x201D, 0x94}, {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97}, {0x2122, 0x99}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i][0] == cp)
            return map[i][1];
    return 0;
}

/* Decodes one UTF-8 sequence of our own (valid) literals; advances *s. */
static unsigned page_utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    unsigned cp;
    int extra;
    if (p[0] < 0x80)
        cp = p[0], extra = 0;
    else if (p[0] < 0xE0)
        cp = p[0] & 0x1F, extra = 1;
    else if (p[0] < 0xF0)
        cp = p[0] & 0x0F, extra = 2;
    else
        cp = p[0] & 0x07, extra = 3;
    for (int i = 1; i <= extra && p[i]; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    *s = p + 1 + extra;
    return cp;
}

/* Writes UTF-8 text in the page's encoding; what the encoding lacks becomes &#N;. */
static void page_text(standin_buf *b, page_enc enc, const char *utf8)
{
    if (enc == ENC_UTF8) {
        buf_puts(b, utf8);
        return;
    }
    const unsigned char *s = (const unsigned char *)utf8;
    while (*s) {
        unsigned cp = page_utf8_next(&s), byte = 0;
        if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
            byte = cp;
        else if (enc == ENC_CP1252)
            byte = page_cp1252(cp);
        if (byte) {
            char c = (char)byte;
            buf_append(b, &c, 1);
        } else {
            buf_printf(b, "&#%u;", cp);
        }
    }
}

/* ---- the home page, part by part ---- */

static void page_head_stack(standin_buf *b, const page_profile *p)
{
    if (p->plat == PLAT_WORDPRESS || p->plat == PLAT_ELEMENTOR) {
        buf_puts(b, "<meta name=\"generator\" content=\"WordPress 6.4.2\">\n");
        buf_printf(b, "<link rel=\"https://api.w.org/\" href=\"https://%s/wp-json/\">\n", p->host);
        buf_printf(b,
                   "<link rel='stylesheet' id='wp-block-library-css' href='https://%s/wp-includes/"
                   "css/dist/block-library/style.min.css?ver=6.4.2' media='all' />\n"
                   "<link rel='stylesheet' id='astra-theme-css-css' href='https://%s/wp-content/"
                   "themes/astra/assets/css/minified/main.min.css?ver=4.5.2' media='all' />\n",
                   p->host, p->host);
    }
    if (p->plat == PLAT_ELEMENTOR)
        buf_printf(b,
                   "<meta name=\"generator\" content=\"Elementor 3.18.3; features: "
                   "e_dom_optimization, e_optimized_assets_loading; settings: "
                   "css_print_method-external, google_font-enabled\">\n"
                   "<link rel='stylesheet' id='elementor-frontend-css' href='https://%s/"
                   "wp-content/plugins/elementor/assets/css/frontend-lite.min.css?ver=3.18.3' "
                   "media='all' />\n",
                   p->host);
    if (p->plat == PLAT_SHOPIFY)
        buf_printf(b,
                   "<link rel=\"preconnect\" href=\"https://cdn.shopify.com\" crossorigin>\n"
                   "<script>var Shopify = Shopify || {};\nShopify.shop = \"%s.myshopify.com\";\n"
                   "Shopify.theme = {\"name\":\"Dawn\",\"id\":1234567890};</script>\n"
                   "<script src=\"//%s/cdn/shop/t/3/assets/global.js?v=1234\" defer></script>\n",
                   p->slug, p->host);
    if (p->bootstrap)
        buf_puts(b, "<link href=\"https://cdn.jsdelivr.net/npm/bootstrap@5.3.2/dist/css/"
                    "bootstrap.min.css\" rel=\"stylesheet\">\n");
    if (p->jquery)
        buf_puts(b,
                 p->plat == PLAT_WORDPRESS || p->plat == PLAT_ELEMENTOR
                     ? "<script src=\"/wp-includes/js/jquery/jquery.min.js?ver=3.7.1\" "
                       "id=\"jquery-core-js\"></script>\n"
                     : "<script src=\"https://code.jquery.com/jquery-3.7.1.min.js\"></script>\n");
    if (p->cloudflare)
        buf_puts(b, "<script src=\"https://cdnjs.cloudflare.com/ajax/libs/lodash.js/4.17.21/"
                    "lodash.min.js\"></script>\n");
    if (p->ga)
        buf_printf(b,
                   "<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-%08llX\">"
                   "</script>\n<script>window.dataLayer = window.dataLayer || [];\nfunction gtag()"
                   "{dataLayer.push(arguments);}\ngtag('js', new Date());\ngtag('config', "
                   "'G-%08llX');</script>\n",
                   (unsigned long long)(p->digits & 0xFFFFFFFF),
                   (unsigned long long)(p->digits & 0xFFFFFFFF));
}

static void page_head(standin_buf *b, const page_profile *p)
{
    const char *meta = page_charsets[p->charset].meta;
    buf_puts(b, "<head>\n");
    if (meta)
        buf_printf(b, "%s\n", meta);
    buf_puts(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (p->title) {
        buf_printf(b, "<title>%s | ", p->brand);
        page_text(b, p->enc, page_taglines[p->tagline]);
        buf_puts(b, "</title>\n");
    }
    if (p->desc) {
        buf_printf(b, "<meta name=\"description\" content=\"%s (%s): ", p->brand, p->host);
        page_text(b, p->enc, page_taglines[p->tagline]);
        buf_puts(b, "\">\n");
    }
    if (p->og)
        buf_printf(b,
                   "<meta property=\"og:title\" content=\"%s\">\n<meta property=\"og:site_name\" "
                   "content=\"%s\">\n<meta property=\"og:url\" content=\"https://%s/\">\n",
                   p->brand, p->brand, p->host);
    if (p->favicon)
        buf_puts(b, p->plat == PLAT_WORDPRESS || p->plat == PLAT_ELEMENTOR
                        ? "<link rel=\"icon\" href=\"/wp-content/uploads/2023/05/"
                          "cropped-favicon-32x32.png\" sizes=\"32x32\">\n"
                        : (p->digits & 1 ? "<link rel=\"shortcut icon\" href=\"/favicon.ico\" "
                                           "type=\"image/x-icon\">\n"
                                         : "<link rel=\"icon\" type=\"image/png\" "
                                           "href=\"/static/favicon.png\">\n"
                                           "<link rel=\"apple-touch-icon\" "
                                           "href=\"/apple-touch-icon.png\">\n"));
    if (p->canonical)
        buf_printf(b, "<link rel=\"canonical\" href=\"https://%s/\">\n", p->host);
    page_head_stack(b, p);
    buf_puts(b, "</head>\n");
}

static void page_header(standin_buf *b, const page_profile *p)
{
    buf_puts(b, "<header class=\"site-header\">\n");
    if (p->logo) {
        const char *src = p->plat == PLAT_WORDPRESS || p->plat == PLAT_ELEMENTOR
                              ? "/wp-content/uploads/2023/05/logo.png"
                          : p->plat == PLAT_SHOPIFY ? "//cdn.shopify.com/s/files/1/0000/0001/"
                                                      "files/logo.png?v=1"
                                                    : "/images/logo.svg";
        buf_printf(b,
                   "<a href=\"/\" class=\"logo\"><img src=\"%s\" alt=\"%s logo\" "
                   "class=\"custom-logo\" width=\"180\" height=\"60\"></a>\n",
                   src, p->brand);
    }
    buf_puts(b, "<nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/about/\">About</a>"
                "</li><li><a href=\"/services/\">Services</a></li><li><a href=\"/contact/\">"
                "Contact</a></li></ul></nav>\n</header>\n");
}

static void page_phone(standin_buf *b, const page_profile *p, int link)
{
    unsigned long long d = p->digits % 10000000ULL;
    static const char *const text_fmt[] = {"+1 (555) %03llu-%04llu", "+44 20 7946 %03llu%04llu",
                                           "+49 30 %03llu %04llu"};
    static const char *const tel_fmt[] = {"+1555%03llu%04llu", "+44207946%03llu%04llu",
                                          "+4930%03llu%04llu"};
    char text[64], tel[64];
    snprintf(text, sizeof text, text_fmt[p->phone_style], d / 10000 % 1000, d % 10000);
    snprintf(tel, sizeof tel, tel_fmt[p->phone_style], d / 10000 % 1000, d % 10000);
    if (link)
        buf_printf(b, "<p class=\"phone\"><a href=\"tel:%s\">%s</a></p>\n", tel, text);
    else
        buf_printf(b, "<p>Call us on %s, Monday to Friday.</p>\n", text);
}

static void page_socials(standin_buf *b, const page_profile *p)
{
    buf_puts(b, "<ul class=\"social\">\n");
    if (p->fb)
        buf_printf(b,
                   "<li><a href=\"https://www.facebook.com/%s\" target=\"_blank\">Facebook"
                   "</a></li>\n",
                   p->slug);
    if (p->tw)
        buf_printf(b, "<li><a href=\"https://%s/%s\">%s</a></li>\n", p->x ? "x.com" : "twitter.com",
                   p->slug, p->x ? "X" : "Twitter");
    if (p->li)
        buf_printf(b, "<li><a href=\"https://www.linkedin.com/company/%s/\">LinkedIn</a></li>\n",
                   p->slug);
    if (p->ig)
        buf_printf(b, "<li><a href=\"https://www.instagram.com/%s/\">Instagram</a></li>\n",
                   p->slug);
    if (p->yt)
        buf_printf(b, "<li><a href=\"https://www.youtube.com/@%s\">YouTube</a></li>\n", p->slug);
    buf_puts(b, "</ul>\n");
}

static void page_footer(standin_buf *b, const page_profile *p)
{
    buf_puts(b, "<footer>\n");
    if (p->email_text)
        buf_printf(b, "<p>Write to info@%s for a quote.</p>\n", p->domain);
    if (p->email_link)
        buf_printf(b, "<p><a href=\"mailto:contact@%s?subject=Hello\">contact@%s</a></p>\n",
                   p->domain, p->domain);
    if (p->email_free)
        buf_printf(b, "<p>Bookings: %s.office@gmail.com</p>\n", p->slug);
    if (p->tel_link)
        page_phone(b, p, 1);
    if (p->tel_text)
        page_phone(b, p, 0);
    page_socials(b, p);
    page_text(b, p->enc, "<p>© 2024 ");
    buf_printf(b, "%s. All rights reserved.</p>\n</footer>\n", p->brand);
}

static void page_main(standin_buf *b, const page_profile *p)
{
    int elementor = p->plat == PLAT_ELEMENTOR;
    if (p->plat == PLAT_REACT)
        buf_puts(b, "<div id=\"root\" data-reactroot=\"\">\n");
    if (elementor)
        buf_puts(b, "<div data-elementor-type=\"wp-page\" data-elementor-id=\"12\" "
                    "class=\"elementor elementor-12\">\n<section class=\"elementor-section "
                    "elementor-top-section elementor-element elementor-section-boxed\">\n"
                    "<div class=\"elementor-widget-container\">\n");
    buf_printf(b, "<main>\n<h1>Welcome to %s</h1>\n<p>%s (%s): ", p->brand, p->brand, p->host);
    page_text(b, p->enc, page_taglines[p->tagline]);
    buf_puts(b, ".</p>\n<p>We serve customers across the region with care, speed and honest "
                "prices. Ask about our seasonal offers.</p>\n</main>\n");
    if (elementor)
        buf_puts(b, "</div>\n</section>\n</div>\n");
    if (p->plat == PLAT_REACT)
        buf_puts(b, "</div>\n<script src=\"/static/js/main.3f2a1b9c.js\"></script>\n");
}

int page_home(const char *host, standin_buf *out, const char **ctype)
{
    page_profile p;
    page_profile_draw(&p, host);
    *ctype = page_charsets[p.charset].ctype;
    if (page_charsets[p.charset].bom)
        buf_puts(out, "\xEF\xBB\xBF");
    if (p.doctype)
        buf_puts(out, "<!DOCTYPE html>\n");
    if (p.lang)
        buf_printf(out, "<html lang=\"%s\">\n", p.lang);
    else
        buf_puts(out, "<html>\n");
    page_head(out, &p);
    buf_printf(out, "<body class=\"home page-template-default%s\">\n<!-- standin host: %s -->\n",
               p.plat == PLAT_ELEMENTOR ? " elementor-default elementor-kit-7" : "", host);
    page_header(out, &p);
    page_main(out, &p);
    page_footer(out, &p);
    if (p.plat == PLAT_ELEMENTOR)
        buf_puts(out, "<script src=\"/wp-content/plugins/elementor/assets/js/frontend.min.js"
                      "?ver=3.18.3\" id=\"elementor-frontend-js\"></script>\n");
    buf_puts(out, "</body>\n</html>\n");
    return out->failed ? -1 : 0;
}

/* ---- odd bodies ---- */

int page_not_found(const char *host, standin_buf *out)
{
    buf_printf(out,
               "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
               "<body><h1>Not Found</h1><p>The requested URL was not found on %s.</p>"
               "</body></html>\n",
               host);
    return out->failed ? -1 : 0;
}

/* Broken on purpose: bad nesting, unterminated quotes/comments/tags, invalid UTF-8, a NUL
 * byte, bogus entities, and a body cut off in the middle of a tag. */
int page_malformed(const char *host, uint64_t rnd, standin_buf *out)
{
    static const char nul_piece[] = "<p>nul\0byte</p>\n";
    buf_printf(out,
               "<html><head><title>Broken %s page<title><meta name=description "
               "content=\"unterminated>\n<body><!-- standin host: %s -->\n",
               host, host);
    buf_puts(out, "<div><p>text <b><i>misnested</b></i></p></div></div></span>\n");
    if (rnd & 1)
        buf_printf(out, "<a href=\"mailto:info@%s>mail us</a>\n", host);
    if (rnd & 2)
        buf_puts(out, "<table><tr><td>cell<td>cell</table></table><tr>\n");
    if (rnd & 4)
        buf_puts(out, "bad utf-8: \xff\xfe \xc3\x28 \xe2\x82 \xf0\x28\x8c\xbc\n");
    if (rnd & 8)
        buf_append(out, nul_piece, sizeof nul_piece - 1);
    if (rnd & 16)
        buf_puts(out, "entities: & &amp &#xZZ; &#99999999; &nbsp &lt;<<<>>>\n");
    if (rnd & 32)
        buf_puts(out, "<script>document.write('<p>'</script <style>p{color:red</style>\n");
    if (rnd & 64)
        buf_puts(out, "<!-- an unterminated comment swallows the rest\n");
    buf_puts(out, "<img src=\"logo.png alt=logo>\n<div class=\"foot");
    return out->failed ? -1 : 0;
}

int page_nonhtml(const char *host, uint64_t rnd, standin_buf *out, const char **ctype)
{
    switch (rnd % 3) {
    case 0:
        *ctype = "application/json";
        buf_printf(out,
                   "{\"host\":\"%s\",\"status\":\"ok\",\"items\":[1,2,3],"
                   "\"message\":\"this endpoint returns JSON\"}\n",
                   host);
        break;
    case 1: {
        static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                            0,    0,   0,   13,  'I',  'H',  'D',  'R'};
        *ctype = "image/png";
        buf_append(out, png, sizeof png);
        for (uint64_t s = rnd, i = 0; i < 512; i++) {
            unsigned char c = (unsigned char)page_next(&s);
            buf_append(out, &c, 1);
        }
        break;
    }
    default:
        *ctype = "application/pdf";
        buf_printf(out,
                   "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj << /Title (%s) >> endobj\n"
                   "trailer << /Root 1 0 R >>\n%%%%EOF\n",
                   host);
        break;
    }
    return out->failed ? -1 : 0;
}

size_t page_huge_read(const char *host, uint64_t pos, char *buf, size_t max, uint64_t total)
{
    char head[512], fill[512];
    int hn = snprintf(head, sizeof head,
                      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s huge page"
                      "</title></head>\n<body>\n<!-- standin host: %s -->\n",
                      host, host);
    int fn = snprintf(fill, sizeof fill,
                      "<p>%s filler text, repeated until the body is very large.</p>\n", host);
    size_t n = 0;
    if (hn < 0 || fn <= 0)
        return 0;
    hn = hn < (int)sizeof head ? hn : (int)sizeof head - 1;
    fn = fn < (int)sizeof fill ? fn : (int)sizeof fill - 1;
    while (n < max && pos < total) {
        if (pos < (uint64_t)hn)
            buf[n] = head[pos];
        else
            buf[n] = fill[(pos - (uint64_t)hn) % (uint64_t)fn];
        n++;
        pos++;
    }
    return n;
}

/* ---- bot walls: what a protected site answers below the tier it needs ---- */

int page_wall(standin_wall wall, const char *host, standin_buf *out, const char **ctype,
              unsigned *status)
{
    *ctype = "text/html; charset=UTF-8";
    *status = 200;
    switch (wall) {
    case WALL_CLOUDFLARE:
        buf_printf(out,
                   "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment..."
                   "</title><meta http-equiv=\"refresh\" content=\"390\"></head><body>"
                   "<div class=\"main-wrapper\"><h1>%s</h1><p>Checking if the site "
                   "connection is secure</p></div><script>window._cf_chl_opt={cvId:'3',"
                   "cType:'managed'};</script><script src=\"/cdn-cgi/challenge-platform/h/"
                   "b/orchestrate/chl_page/v1\"></script></body></html>\n",
                   host);
        break;
    case WALL_CAPTCHA:
        buf_printf(out,
                   "<html><head><title>Are you a robot?</title><script src=\"https://"
                   "www.google.com/recaptcha/api.js\" async defer></script></head><body>"
                   "<p>%s needs to make sure you are not a robot.</p><form method=\"post\">"
                   "<div class=\"g-recaptcha\" data-sitekey=\"6LdStandin\"></div></form>"
                   "</body></html>\n",
                   host);
        break;
    case WALL_FORBIDDEN:
        *status = 403;
        buf_printf(out,
                   "<html><head><title>403 Forbidden</title></head><body><h1>Access "
                   "Denied</h1><p>You don't have permission to access \"http://%s/\" on "
                   "this server.</p></body></html>\n",
                   host);
        break;
    default: /* WALL_EMPTY: a 200 with nothing in it */ break;
    }
    return out->failed ? -1 : 0;
}
