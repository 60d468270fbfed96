/* The credit budget: a daily budget and a floor of remaining credits, from /account. */
#ifndef WF4_CREDITS_H
#define WF4_CREDITS_H

#include <stdint.h>

#include "account.h"

/* WF4_CREDITS_DAILY_BUDGET and WF4_CREDITS_FLOOR; 0 turns each off. */
typedef struct credits_budget {
    long daily; /* credits per UTC day */
    long floor; /* no new work while the account has this many credits left or fewer */
} credits_budget;

typedef enum {
    CREDITS_OK,
    CREDITS_PAUSED_DAILY,  /* today's spend reached the daily budget */
    CREDITS_PAUSED_FLOOR,  /* the account's credits left reached the floor */
    CREDITS_PAUSED_UNKNOWN /* a budget is set and /account gave no usable answer */
} credits_state;

#define CREDITS_NSTATES 4

/* What the budget allows now. */
typedef struct credits_view {
    credits_state state;
    long spent_today; /* -1: unknown (no daily budget or no day start) */
    long left;        /* the account's credits left, -1: unknown */
    long room;        /* credits that may still be committed to new calls (0 when paused),
                       * -1: no budget set (unlimited) */
} credits_view;

/* 1 when either limit is set. */
int credits_budget_set(const credits_budget *b);

/* Credits used since the day started at count_at_start. ScraperAPI's requestCount restarts
 * with each billing cycle: a count below the day's start means the cycle restarted today,
 * and all of it was spent today. -1 when either count is unknown (< 0). */
long credits_spent_since(long count_now, long count_at_start);

/* The budget's verdict. a is NULL when /account did not answer; day_start is requestCount
 * at the start of the UTC day (-1: unknown, then the daily budget is taken as unknown). */
credits_view credits_evaluate(const credits_budget *b, const account_info *a, long day_start);

/* New domains that may be claimed: room divided by the credits reserved per domain, less
 * the domains already in flight (each holds its reservation until its result is applied).
 * -1 when room is -1 (no budget), never below 0. */
long credits_claims_allowed(long room, long per_claim, long in_flight);

/* "daily budget", "floor", "account unknown", or "" for CREDITS_OK: the metric's label. */
const char *credits_reason(credits_state s);

/* One line for logs and wf4ctl status: "paused: credit budget (daily budget: 100 of 100
 * credits spent today)" or "running: 400 credits of the budget left". */
void credits_describe(const credits_budget *b, const credits_view *v, char *out, size_t outlen);

/* The daily budget as the scrapers see it (the claim message's credits_ceiling): the
 * account's requestCount at which today's budget is spent, day_start + daily, or daily alone
 * when the count is below the day's start (the billing cycle restarted today: counted from
 * 0, as credits_spent_since does). 0 (none) without a daily budget or either count. */
long credits_ceiling_for(long daily, long count_now, long day_start);

/* Unix epoch ms at which the UTC day "YYYY-MM-DD" ends (its next midnight), or -1 when day
 * is not such a date. */
int64_t credits_day_end_ms(const char *day);

/* The ceiling a scraper holds: the newest of the claims it took, while its day lasts. */
typedef struct credits_ceiling {
    long count;            /* requestCount the day's budget ends at; 0: none */
    int64_t until_ms;      /* epoch ms it stops applying (the end of its UTC day) */
    int64_t claimed_at_ms; /* claimed_at of the claim that brought it (or cleared it) */
} credits_ceiling;

/* Takes a claim's ceiling (count 0: the claim has none, which clears it) unless the claim
 * is older than the one that set the current ceiling or its ceiling's day is over at
 * now_ms. Returns 1 when the ceiling in force at now_ms changed. */
int credits_ceiling_take(credits_ceiling *c, long count, int64_t until_ms, int64_t claimed_at_ms,
                         int64_t now_ms);

/* The ceiling in force at now_ms; 0 when none (never set, cleared, or its day is over). */
long credits_ceiling_now(const credits_ceiling *c, int64_t now_ms);

/* 1 when a call costing price keeps the account within ceiling: count (requestCount, -1
 * unknown: never) + held (the list price of the calls running) + price <= ceiling. Always
 * 1 without a ceiling (0). */
int credits_ceiling_allows(long ceiling, long count, long held, long price);

#endif
