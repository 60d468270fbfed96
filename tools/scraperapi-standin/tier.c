/* Stand-in tiers: ScraperAPI's price list, and the protected sites that answer only at a tier. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "standin.h"

#define TIER_MAX_WALLS 64

static const char *const tier_names[] = {"plain", "render", "premium", "ultra_premium", "never"};
static const char *const wall_names[] = {"none", "cloudflare", "captcha", "forbidden", "empty"};

/* One STANDIN_WALLS entry: hosts matching pattern get wall below level need. */
typedef struct tier_wall_rule {
    char pattern[256];
    standin_wall wall;
    int need;
} tier_wall_rule;

static tier_wall_rule tier_rules[TIER_MAX_WALLS];
static size_t tier_nrules;

static int tier_flag(const char *v, int *out)
{
    if (!v || strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = 1;
        return 0;
    }
    return -1;
}

int tier_parse(const char *render, const char *premium, const char *ultra, const char *max_cost,
               standin_tier *t)
{
    char *end = NULL;
    if (tier_flag(render, &t->render) || tier_flag(premium, &t->premium) ||
        tier_flag(ultra, &t->ultra))
        return -1;
    t->max_cost = -1;
    if (max_cost) {
        t->max_cost = strtol(max_cost, &end, 10);
        if (!*max_cost || *end || t->max_cost < 0)
            return -1;
    }
    return 0;
}

long tier_cost(const standin_tier *t)
{
    if (t->ultra)
        return t->render ? 75 : 30;
    if (t->premium)
        return t->render ? 25 : 10;
    return t->render ? 10 : 1;
}

int tier_level(const standin_tier *t)
{
    return t->ultra ? 3 : t->premium ? 2 : t->render ? 1 : 0;
}

const char *tier_level_name(int level)
{
    return level >= 0 && level <= 4 ? tier_names[level] : "?";
}

const char *tier_wall_name(standin_wall w)
{
    return (unsigned)w < sizeof wall_names / sizeof wall_names[0] ? wall_names[w] : "?";
}

static int tier_lookup(const char *s, size_t n, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0)
            return (int)i;
    return -1;
}

/* "KIND:TIER" -> wall and level (tier "never": blocked at every tier; "ultra" is accepted
 * for "ultra_premium"). Returns 0 or -1. */
static int tier_parse_rule(const char *s, size_t n, standin_wall *wall, int *need)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return -1;
    int w = tier_lookup(s, (size_t)(colon - s), wall_names, 5);
    size_t tn = n - (size_t)(colon + 1 - s);
    int lvl = tier_lookup(colon + 1, tn, tier_names, 5);
    if (lvl < 0 && tn == 5 && strncmp(colon + 1, "ultra", 5) == 0)
        lvl = 3;
    if (w <= 0 || lvl <= 0)
        return -1;
    *wall = (standin_wall)w;
    *need = lvl;
    return 0;
}

int tier_walls_init(const char *spec, char *err, size_t errlen)
{
    tier_nrules = 0;
    for (const char *p = spec; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        tier_wall_rule *r = &tier_rules[tier_nrules];
        if (tier_nrules == TIER_MAX_WALLS || !eq || eq == p ||
            (size_t)(eq - p) >= sizeof r->pattern ||
            tier_parse_rule(eq + 1, n - (size_t)(eq + 1 - p), &r->wall, &r->need) != 0) {
            snprintf(err, errlen,
                     "STANDIN_WALLS: \"%.*s\" is not PATTERN=KIND:TIER (KIND: "
                     "cloudflare, captcha, forbidden, empty; TIER: render, premium, "
                     "ultra_premium, never; at most %d entries)",
                     (int)n, p, TIER_MAX_WALLS);
            return -1;
        }
        memcpy(r->pattern, p, (size_t)(eq - p));
        r->pattern[eq - p] = '\0';
        tier_nrules++;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Host hooks "wall-KIND-TIER-..." first (deterministic, for tests), then STANDIN_WALLS. */
standin_wall tier_wall_for(const char *host, int *need)
{
    standin_wall wall;
    if (strncmp(host, "wall-", 5) == 0) {
        const char *kind = host + 5, *dash = strchr(kind, '-');
        const char *tier = dash ? dash + 1 : NULL, *dash2 = tier ? strchr(tier, '-') : NULL;
        if (dash2) {
            char rule[64];
            snprintf(rule, sizeof rule, "%.*s:%.*s", (int)(dash - kind), kind, (int)(dash2 - tier),
                     tier);
            if (tier_parse_rule(rule, strlen(rule), &wall, need) == 0)
                return wall;
        }
    }
    for (size_t i = 0; i < tier_nrules; i++)
        if (fnmatch(tier_rules[i].pattern, host, 0) == 0) {
            *need = tier_rules[i].need;
            return tier_rules[i].wall;
        }
    *need = 0;
    return WALL_NONE;
}
