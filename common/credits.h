/* The credit budget: a daily budget and a floor of remaining credits, from /account. */
#ifndef WF4_CREDITS_H
#define WF4_CREDITS_H

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

#endif
