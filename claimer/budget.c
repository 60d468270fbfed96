/* The claimer's side of the credit budget: /account read through a cache, the UTC day's
 * starting count kept in credits_days, the verdict logged and exported. */
#include "budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "service.h"

#define BUDGET_ACCOUNT_TIMEOUT_MS 5000
#define BUDGET_LOG_EVERY_MS 60000

static metric *budget_m_paused[CREDITS_NSTATES], *budget_m_left, *budget_m_limit, *budget_m_spent,
    *budget_m_room;

static void budget_metrics_init(void)
{
    for (int i = 1; i < CREDITS_NSTATES; i++) {
        char name[96];
        snprintf(name, sizeof name, "wf4_credits_paused{reason=\"%s\"}",
                 credits_reason((credits_state)i));
        budget_m_paused[i] = metrics_gauge(
            name, "1 while the credit budget allows no new claim (paused: credit budget)");
    }
    budget_m_left = metrics_gauge("wf4_credits_remaining",
                                  "Credits left on the ScraperAPI account (/account)");
    budget_m_limit = metrics_gauge("wf4_credits_limit",
                                   "Credits of the ScraperAPI plan's cycle (/account)");
    budget_m_spent = metrics_gauge("wf4_credits_spent_today",
                                   "Credits used since the UTC day began (/account)");
    budget_m_room = metrics_gauge("wf4_credits_budget_room",
                                  "Credits the budget still allows (-1: no budget set)");
}

int budget_init(budget *g, const budget_settings *s)
{
    memset(g, 0, sizeof *g);
    g->s = s;
    g->day_start = -1;
    g->view = (credits_view){CREDITS_OK, -1, -1, -1};
    if (credits_budget_set(&s->limits) && (!s->api_key || !*s->api_key)) {
        log_error("WF4_CREDITS_DAILY_BUDGET / WF4_CREDITS_FLOOR need SCRAPERAPI_KEY (or "
                  "SCRAPERAPI_KEY_FILE): the claimer reads the account's credits");
        return -1;
    }
    if (s->api_key && *s->api_key)
        budget_metrics_init();
    return 0;
}

/* The UTC day and its starting count: recorded by the first claimer to read the account
 * that day, read back by the others. Returns 0, or -1 (logged by db). */
static int budget_day_start(budget *g, db *d, const char *instance)
{
    char count[24];
    snprintf(count, sizeof count, "%ld", g->acct.request_count);
    const char *p[] = {count, instance};
    PGresult *r = db_query(d,
                           "WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day),"
                           " ins AS (INSERT INTO credits_days (day, request_count_at_start,"
                           "  recorded_by) SELECT day, $1, $2 FROM today"
                           "  ON CONFLICT (day) DO NOTHING RETURNING day, request_count_at_start)"
                           " SELECT to_char(day, 'YYYY-MM-DD'), request_count_at_start"
                           "  FROM ins UNION ALL"
                           " SELECT to_char(c.day, 'YYYY-MM-DD'), c.request_count_at_start"
                           "  FROM credits_days c JOIN today t ON c.day = t.day LIMIT 1",
                           2, p);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        if (strcmp(g->day, PQgetvalue(r, 0, 0)) != 0)
            log_info("credit budget: UTC day %s started at %s credits used", PQgetvalue(r, 0, 0),
                     PQgetvalue(r, 0, 1));
        snprintf(g->day, sizeof g->day, "%s", PQgetvalue(r, 0, 0));
        g->day_start = atol(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return 0;
}

static void budget_read(budget *g, db *d)
{
    char err[512];
    const budget_settings *s = g->s;
    g->read_ms = service_mono_ms();
    g->read_wall_ms = service_now_ms();
    g->have = account_get(s->api_url, s->api_key, BUDGET_ACCOUNT_TIMEOUT_MS, &g->acct, err,
                          sizeof err) == 0;
    if (!g->have) {
        log_warn("credit budget: cannot read the account: %s", err);
        return;
    }
    if (s->limits.daily > 0 && g->acct.request_count >= 0 &&
        budget_day_start(g, d, s->instance) != 0)
        g->day_start = -1; /* unknown until the next read: nothing new starts */
}

static void budget_export(const budget *g)
{
    for (int i = 1; i < CREDITS_NSTATES; i++)
        metrics_set(budget_m_paused[i], g->view.state == (credits_state)i);
    if (g->view.left >= 0)
        metrics_set(budget_m_left, (double)g->view.left);
    if (g->have && g->acct.request_limit >= 0)
        metrics_set(budget_m_limit, (double)g->acct.request_limit);
    if (g->view.spent_today >= 0)
        metrics_set(budget_m_spent, (double)g->view.spent_today);
    metrics_set(budget_m_room, (double)g->view.room);
}

/* A pause is logged when it starts or changes reason, and again every
 * BUDGET_LOG_EVERY_MS; the end of a pause once. */
static void budget_log(budget *g, credits_state was)
{
    int64_t now = service_mono_ms();
    char line[256];
    credits_describe(&g->s->limits, &g->view, line, sizeof line);
    if (g->view.state != CREDITS_OK &&
        (g->view.state != was || !g->logged || now >= g->next_log_ms)) {
        log_warn("%s: no domain is claimed, expired leases included, until the budget allows",
                 line);
        g->logged = 1;
        g->next_log_ms = now + BUDGET_LOG_EVERY_MS;
    } else if (g->view.state == CREDITS_OK && g->logged) {
        log_info("resumed: credit budget: %s", line);
        g->logged = 0;
    }
}

const credits_view *budget_refresh(budget *g, db *d)
{
    const budget_settings *s = g->s;
    if (!s->api_key || !*s->api_key)
        return &g->view;
    if (g->read_ms == 0 || service_mono_ms() - g->read_ms >= s->cache_ms)
        budget_read(g, d);
    credits_state was = g->view.state;
    g->view = credits_evaluate(&s->limits, g->have ? &g->acct : NULL, g->day_start);
    budget_export(g);
    budget_log(g, was);
    return &g->view;
}

int64_t budget_uncounted_since_ms(const budget *g)
{
    if (!credits_budget_set(&g->s->limits) || !g->have)
        return 0;
    return g->read_wall_ms - g->s->lag_ms;
}

long budget_ceiling(const budget *g, int64_t *until_ms)
{
    *until_ms = 0;
    if (g->s->limits.daily <= 0 || !g->have)
        return 0;
    long ceiling = credits_ceiling_for(g->s->limits.daily, g->acct.request_count, g->day_start);
    int64_t end = credits_day_end_ms(g->day);
    if (ceiling <= 0 || end < 0)
        return 0;
    *until_ms = end;
    return ceiling;
}
