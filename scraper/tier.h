/* ScraperAPI tiers: the escalation ladder, its prices, and pages recognised as bot walls. */
#ifndef WF4_SCRAPER_TIER_H
#define WF4_SCRAPER_TIER_H

#include <stddef.h>

/* The ladder a blocked page climbs: each tier sends one more costly parameter. */
typedef enum { TIER_PLAIN, TIER_RENDER, TIER_PREMIUM, TIER_ULTRA_PREMIUM, TIER_COUNT } tier_level;

/* "plain", "render", "premium", "ultra_premium" ("?" out of range). */
const char *tier_name(int tier);
/* The tier named s, or -1. */
int tier_from_name(const char *s);
/* ScraperAPI's list price of one call at this tier: 1, 10, 10, 30 credits. */
long tier_price(int tier);
/* Query parameters the tier adds to a call ("" for plain, "&render=true", ...). */
const char *tier_params(int tier);

/* Page size above which a captcha marker is taken for a form on a real page, not a wall. */
#define TIER_WALL_MAX_BYTES 16384

/* Whether an answer is a bot wall rather than the site: the target's 403 (an HTML body),
 * a Cloudflare challenge, a captcha page or an empty body. Returns what it is ("empty
 * body", "Cloudflare challenge", "captcha page", "403 from the target"), or NULL.
 * body is NUL-terminated, len bytes. */
const char *tier_blocked(long http_status, const char *body, size_t len);

#endif
