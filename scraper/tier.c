/* ScraperAPI tiers: the escalation ladder, its prices, and pages recognised as bot walls. */
#include "tier.h"

#include <string.h>

static const struct {
    const char *name;
    long price;
    const char *params;
} tier_table[TIER_COUNT] = {
    [TIER_PLAIN] = {"plain", 1, ""},
    [TIER_RENDER] = {"render", 10, "&render=true"},
    [TIER_PREMIUM] = {"premium", 10, "&premium=true"},
    [TIER_ULTRA_PREMIUM] = {"ultra_premium", 30, "&ultra_premium=true"},
};

const char *tier_name(int tier)
{
    return tier >= 0 && tier < TIER_COUNT ? tier_table[tier].name : "?";
}

int tier_from_name(const char *s)
{
    for (int t = 0; s && t < TIER_COUNT; t++)
        if (strcmp(s, tier_table[t].name) == 0)
            return t;
    return -1;
}

long tier_price(int tier)
{
    return tier >= 0 && tier < TIER_COUNT ? tier_table[tier].price : 0;
}

const char *tier_params(int tier)
{
    return tier >= 0 && tier < TIER_COUNT ? tier_table[tier].params : "";
}

static int tier_has_any(const char *body, const char *const *markers)
{
    for (; *markers; markers++)
        if (strcasestr(body, *markers))
            return 1;
    return 0;
}

static int tier_blank(const char *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n\f\v", body[i]) || body[i] == '\0')
            return 0;
    return 1;
}

const char *tier_blocked(long http_status, const char *body, size_t len)
{
    static const char *const cloudflare[] = {
        "/cdn-cgi/challenge-platform/", "_cf_chl_opt", "<title>Just a moment...</title>",
        "<title>Attention Required! | Cloudflare</title>", NULL};
    static const char *const captcha[] = {
        "g-recaptcha", "h-captcha", "captcha-delivery.com", "px-captcha", "<title>Are you a robot",
        NULL};
    if (http_status == 403)
        return tier_has_any(body, (const char *const[]){"<html", "<!doctype", NULL})
                   ? "403 from the target"
                   : NULL;
    if (http_status < 200 || http_status >= 300)
        return NULL;
    if (tier_blank(body, len))
        return "empty body";
    if (len > TIER_WALL_MAX_BYTES)
        return NULL;
    if (tier_has_any(body, cloudflare))
        return "Cloudflare challenge";
    if (tier_has_any(body, captcha))
        return "captcha page";
    return NULL;
}
