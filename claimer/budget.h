/* The claimer's side of the credit budget: /account read through a cache, the UTC day's
 * starting count kept in credits_days, the verdict logged and exported. */
#ifndef WF4_CLAIMER_BUDGET_H
#define WF4_CLAIMER_BUDGET_H

#include <stdint.h>

#include "credits.h"
#include "db.h"

typedef struct budget_settings {
    credits_budget limits;
    char *api_url, *api_key; /* SCRAPERAPI_URL, SCRAPERAPI_KEY: /account is read when set */
    long cache_ms;           /* an /account answer is used this long */
    long lag_ms;             /* /account counts a call this long after it was answered */
    long per_claim;          /* credits reserved for each domain in flight */
    const char *instance;    /* recorded in credits_days */
} budget_settings;

typedef struct budget {
    const budget_settings *s;
    int64_t read_ms;      /* monotonic time of the last /account read; 0 = never */
    int64_t read_wall_ms; /* its wall-clock time (epoch ms) */
    int have;             /* the last read answered */
    account_info acct;
    char day[16]; /* the UTC day of day_start ("" = none) */
    long day_start;
    credits_view view;
    int logged; /* the view's state was logged */
    int64_t next_log_ms;
} budget;

/* Checks the settings (a budget needs SCRAPERAPI_KEY). Returns 0, or -1 (logged). */
int budget_init(budget *g, const budget_settings *s);

/* The verdict now: /account is read again once the cache expired, the day's start recorded
 * or looked up on a new UTC day. Logs a change of state and sets the metrics. */
const credits_view *budget_refresh(budget *g, db *d);

/* Epoch ms from which applied results may be missing from the last /account answer (its
 * time less lag_ms): their domains no longer hold credits and the account does not count
 * them yet. 0 when no budget applies. */
int64_t budget_uncounted_since_ms(const budget *g);

/* The daily budget's ceiling for the claims (credits_ceiling_for: the day's starting count
 * + the budget) and in *until_ms the end of its UTC day (epoch ms); 0 and 0 when no daily
 * budget applies or the day's start is unknown. */
long budget_ceiling(const budget *g, int64_t *until_ms);

#endif
