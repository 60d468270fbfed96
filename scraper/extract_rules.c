/* Technology detection rules: which evidence in a page names which technology. */
#include <string.h>
#include <strings.h>

#include "extract_internal.h"

/* Order here is the order of tech_stack in the output. */
enum {
    T_WORDPRESS,
    T_ELEMENTOR,
    T_WOOCOMMERCE,
    T_SHOPIFY,
    T_WIX,
    T_SQUARESPACE,
    T_WEBFLOW,
    T_DRUPAL,
    T_JOOMLA,
    T_JQUERY,
    T_REACT,
    T_NEXTJS,
    T_VUE,
    T_NUXT,
    T_ANGULAR,
    T_BOOTSTRAP,
    T_TAILWIND,
    T_FONTAWESOME,
    T_GOOGLE_FONTS,
    T_GA,
    T_GTM,
    T_FB_PIXEL,
    T_HOTJAR,
    T_HUBSPOT,
    T_CLOUDFLARE,
    T_COUNT
};

static const char *const tech_names[T_COUNT] = {
    [T_WORDPRESS] = "WordPress",
    [T_ELEMENTOR] = "Elementor",
    [T_WOOCOMMERCE] = "WooCommerce",
    [T_SHOPIFY] = "Shopify",
    [T_WIX] = "Wix",
    [T_SQUARESPACE] = "Squarespace",
    [T_WEBFLOW] = "Webflow",
    [T_DRUPAL] = "Drupal",
    [T_JOOMLA] = "Joomla",
    [T_JQUERY] = "jQuery",
    [T_REACT] = "React",
    [T_NEXTJS] = "Next.js",
    [T_VUE] = "Vue.js",
    [T_NUXT] = "Nuxt.js",
    [T_ANGULAR] = "Angular",
    [T_BOOTSTRAP] = "Bootstrap",
    [T_TAILWIND] = "Tailwind CSS",
    [T_FONTAWESOME] = "Font Awesome",
    [T_GOOGLE_FONTS] = "Google Fonts",
    [T_GA] = "Google Analytics",
    [T_GTM] = "Google Tag Manager",
    [T_FB_PIXEL] = "Facebook Pixel",
    [T_HOTJAR] = "Hotjar",
    [T_HUBSPOT] = "HubSpot",
    [T_CLOUDFLARE] = "Cloudflare",
};

typedef struct ext_rule {
    int tech;
    ext_evidence kind;
    const char *needle; /* matched case-insensitively */
} ext_rule;

/* Substring rules unless the kind says otherwise (EXT_EV_ID and EXT_EV_META_NAME:
 * whole value; EXT_EV_ATTR_NAME, EXT_EV_HEADER, EXT_EV_COOKIE: prefix). */
static const ext_rule rules[] = {
    {T_WORDPRESS, EXT_EV_GENERATOR, "wordpress"},
    {T_WORDPRESS, EXT_EV_SCRIPT_SRC, "/wp-content/"},
    {T_WORDPRESS, EXT_EV_SCRIPT_SRC, "/wp-includes/"},
    {T_WORDPRESS, EXT_EV_LINK_HREF, "/wp-content/"},
    {T_WORDPRESS, EXT_EV_LINK_HREF, "/wp-includes/"},
    {T_WORDPRESS, EXT_EV_LINK_HREF, "/wp-json/"},
    {T_WORDPRESS, EXT_EV_ASSET_SRC, "/wp-content/"},
    {T_WORDPRESS, EXT_EV_HEADER, "x-pingback"},
    {T_ELEMENTOR, EXT_EV_GENERATOR, "elementor"},
    {T_ELEMENTOR, EXT_EV_SCRIPT_SRC, "/plugins/elementor"},
    {T_ELEMENTOR, EXT_EV_LINK_HREF, "/plugins/elementor"},
    {T_ELEMENTOR, EXT_EV_CLASS, "elementor"},
    {T_WOOCOMMERCE, EXT_EV_GENERATOR, "woocommerce"},
    {T_WOOCOMMERCE, EXT_EV_SCRIPT_SRC, "/plugins/woocommerce/"},
    {T_WOOCOMMERCE, EXT_EV_LINK_HREF, "/plugins/woocommerce/"},
    {T_WOOCOMMERCE, EXT_EV_CLASS, "woocommerce"},
    {T_SHOPIFY, EXT_EV_SCRIPT_SRC, "cdn.shopify.com"},
    {T_SHOPIFY, EXT_EV_LINK_HREF, "cdn.shopify.com"},
    {T_SHOPIFY, EXT_EV_INLINE, "Shopify.shop"},
    {T_SHOPIFY, EXT_EV_META_NAME, "shopify-checkout-api-token"},
    {T_SHOPIFY, EXT_EV_HEADER, "x-shopid"},
    {T_SHOPIFY, EXT_EV_COOKIE, "_shopify_"},
    {T_WIX, EXT_EV_GENERATOR, "wix.com"},
    {T_WIX, EXT_EV_SCRIPT_SRC, "static.parastorage.com"},
    {T_WIX, EXT_EV_ASSET_SRC, "static.wixstatic.com"},
    {T_WIX, EXT_EV_HEADER, "x-wix-request-id"},
    {T_SQUARESPACE, EXT_EV_GENERATOR, "squarespace"},
    {T_SQUARESPACE, EXT_EV_COMMENT, "this is squarespace"},
    {T_SQUARESPACE, EXT_EV_SCRIPT_SRC, "squarespace.com"},
    {T_SQUARESPACE, EXT_EV_LINK_HREF, "squarespace.com"},
    {T_SQUARESPACE, EXT_EV_INLINE, "SQUARESPACE_CONTEXT"},
    {T_WEBFLOW, EXT_EV_GENERATOR, "webflow"},
    {T_WEBFLOW, EXT_EV_ATTR_NAME, "data-wf-page"},
    {T_DRUPAL, EXT_EV_GENERATOR, "drupal"},
    {T_DRUPAL, EXT_EV_SCRIPT_SRC, "/misc/drupal.js"},
    {T_DRUPAL, EXT_EV_SCRIPT_SRC, "/sites/all/"},
    {T_DRUPAL, EXT_EV_INLINE, "drupalSettings"},
    {T_DRUPAL, EXT_EV_INLINE, "Drupal.settings"},
    {T_DRUPAL, EXT_EV_ATTR_NAME, "data-drupal-"},
    {T_DRUPAL, EXT_EV_HEADER, "x-drupal-"},
    {T_JOOMLA, EXT_EV_GENERATOR, "joomla"},
    {T_JOOMLA, EXT_EV_SCRIPT_SRC, "/media/jui/"},
    {T_JOOMLA, EXT_EV_SCRIPT_SRC, "/media/system/js/"},
    {T_JOOMLA, EXT_EV_INLINE, "Joomla.options"},
    {T_JQUERY, EXT_EV_SCRIPT_SRC, "jquery"},
    {T_REACT, EXT_EV_SCRIPT_SRC, "react.production"},
    {T_REACT, EXT_EV_SCRIPT_SRC, "react-dom"},
    {T_REACT, EXT_EV_ATTR_NAME, "data-reactroot"},
    {T_NEXTJS, EXT_EV_ID, "__next"},
    {T_NEXTJS, EXT_EV_ID, "__NEXT_DATA__"},
    {T_NEXTJS, EXT_EV_SCRIPT_SRC, "/_next/static/"},
    {T_NEXTJS, EXT_EV_HEADER, "x-nextjs-"},
    {T_VUE, EXT_EV_SCRIPT_SRC, "vue.min.js"},
    {T_VUE, EXT_EV_SCRIPT_SRC, "vue.global"},
    {T_VUE, EXT_EV_SCRIPT_SRC, "/vue@"},
    {T_VUE, EXT_EV_SCRIPT_SRC, "/vue.js"},
    {T_VUE, EXT_EV_ATTR_NAME, "data-v-"},
    {T_NUXT, EXT_EV_ID, "__nuxt"},
    {T_NUXT, EXT_EV_SCRIPT_SRC, "/_nuxt/"},
    {T_ANGULAR, EXT_EV_ATTR_NAME, "ng-version"},
    {T_ANGULAR, EXT_EV_ATTR_NAME, "ng-app"},
    {T_ANGULAR, EXT_EV_SCRIPT_SRC, "angular.min.js"},
    {T_ANGULAR, EXT_EV_SCRIPT_SRC, "angular.js"},
    {T_BOOTSTRAP, EXT_EV_LINK_HREF, "bootstrap"},
    {T_BOOTSTRAP, EXT_EV_SCRIPT_SRC, "bootstrap"},
    {T_TAILWIND, EXT_EV_SCRIPT_SRC, "cdn.tailwindcss.com"},
    {T_TAILWIND, EXT_EV_LINK_HREF, "tailwind"},
    {T_TAILWIND, EXT_EV_CLASS, "md:"},
    {T_TAILWIND, EXT_EV_CLASS, "lg:"},
    {T_TAILWIND, EXT_EV_CLASS, "hover:"},
    {T_FONTAWESOME, EXT_EV_LINK_HREF, "font-awesome"},
    {T_FONTAWESOME, EXT_EV_LINK_HREF, "fontawesome"},
    {T_FONTAWESOME, EXT_EV_SCRIPT_SRC, "kit.fontawesome.com"},
    {T_GOOGLE_FONTS, EXT_EV_LINK_HREF, "fonts.googleapis.com"},
    {T_GA, EXT_EV_SCRIPT_SRC, "google-analytics.com/"},
    {T_GA, EXT_EV_SCRIPT_SRC, "googletagmanager.com/gtag/js"},
    {T_GA, EXT_EV_INLINE, "GoogleAnalyticsObject"},
    {T_GA, EXT_EV_INLINE, "gtag('config'"},
    {T_GTM, EXT_EV_SCRIPT_SRC, "googletagmanager.com/gtm.js"},
    {T_GTM, EXT_EV_INLINE, "googletagmanager.com/gtm.js"},
    {T_GTM, EXT_EV_ASSET_SRC, "googletagmanager.com/ns.html"},
    {T_FB_PIXEL, EXT_EV_SCRIPT_SRC, "connect.facebook.net"},
    {T_FB_PIXEL, EXT_EV_INLINE, "fbq('init'"},
    {T_HOTJAR, EXT_EV_SCRIPT_SRC, "static.hotjar.com"},
    {T_HOTJAR, EXT_EV_INLINE, "static.hotjar.com"},
    {T_HUBSPOT, EXT_EV_SCRIPT_SRC, "js.hs-scripts.com"},
    {T_HUBSPOT, EXT_EV_SCRIPT_SRC, "js.hsforms.net"},
    {T_HUBSPOT, EXT_EV_SCRIPT_SRC, "js.hs-analytics.net"},
    {T_HUBSPOT, EXT_EV_INLINE, "_hsq"},
    {T_HUBSPOT, EXT_EV_COOKIE, "hubspotutk"},
    {T_CLOUDFLARE, EXT_EV_SCRIPT_SRC, "/cdn-cgi/"},
    {T_CLOUDFLARE, EXT_EV_SCRIPT_SRC, "static.cloudflareinsights.com"},
    {T_CLOUDFLARE, EXT_EV_A_HREF, "/cdn-cgi/l/email-protection"},
    {T_CLOUDFLARE, EXT_EV_HEADER, "cf-ray"},
    {T_CLOUDFLARE, EXT_EV_COOKIE, "__cf_bm"},
    {T_CLOUDFLARE, EXT_EV_COOKIE, "__cfduid"},
};

/* A technology that is only ever found on top of another one. */
static const struct {
    int tech, implies;
} implications[] = {
    {T_NEXTJS, T_REACT},
    {T_NUXT, T_VUE},
    {T_WOOCOMMERCE, T_WORDPRESS},
    {T_ELEMENTOR, T_WORDPRESS},
};

_Static_assert(T_COUNT <= EXT_TECH_SLOTS, "raise EXT_TECH_SLOTS");

const char *const *ext_tech_names(size_t *n)
{
    *n = T_COUNT;
    return tech_names;
}

int ext_tech_id(const char *name)
{
    for (int i = 0; i < T_COUNT; i++)
        if (strcmp(tech_names[i], name) == 0)
            return i;
    return -1;
}

static bool rule_matches(const ext_rule *r, const char *value)
{
    switch (r->kind) {
    case EXT_EV_ID:
    case EXT_EV_META_NAME: return strcasecmp(value, r->needle) == 0;
    case EXT_EV_ATTR_NAME:
    case EXT_EV_HEADER: return strncasecmp(value, r->needle, strlen(r->needle)) == 0;
    default: return strcasestr(value, r->needle) != NULL;
    }
}

void ext_rules_match(ext_evidence kind, const char *value, bool found[EXT_TECH_SLOTS])
{
    if (!value || !*value)
        return;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].kind == kind && !found[rules[i].tech] && rule_matches(&rules[i], value))
            found[rules[i].tech] = true;
}

void ext_rules_imply(bool found[EXT_TECH_SLOTS])
{
    for (size_t i = 0; i < sizeof implications / sizeof implications[0]; i++)
        if (found[implications[i].tech])
            found[implications[i].implies] = true;
}
