/* wf4ctl status: what ScraperAPI's /account says is left, and the credit budget's state. */
#include "ctl_credits.h"

#include <stdio.h>
#include <stdlib.h>

#include "credits.h"
#include "ctl_ops.h"
#include "db.h"

#define CTL_CREDITS_TIMEOUT_MS 5000

/* requestCount at the start of today (UTC) as credits_days has it; with no row yet, the
 * count now (what the claimer records at its next read). -1 when the database fails. */
static long ctl_credits_day_start(const ctl_settings *s, const account_info *a, json_t *root)
{
    db *d = ctl_db_open(s, "wf4ctl-status");
    PGresult *r = d ? db_query(d,
                               "SELECT request_count_at_start FROM credits_days"
                               " WHERE day = (now() AT TIME ZONE 'UTC')::date",
                               0, NULL)
                    : NULL;
    long start = !r ? -1 : PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : a->request_count;
    if (!r)
        json_array_append_new(json_object_get(root, "errors"),
                              json_string("cannot read credits_days (see log)"));
    PQclear(r);
    if (d)
        db_close(d);
    return start;
}

int ctl_status_credits(const ctl_settings *s, json_t *root)
{
    char err[512], line[256];
    account_info a;
    if (!s->api_key || !*s->api_key)
        return 0;
    credits_budget b = {s->credits_daily, s->credits_floor};
    int ok = account_get(s->api_url, s->api_key, CTL_CREDITS_TIMEOUT_MS, &a, err, sizeof err) == 0;
    if (!ok)
        json_array_append_new(json_object_get(root, "errors"), json_string(err));
    long start = ok && b.daily > 0 ? ctl_credits_day_start(s, &a, root) : -1;
    credits_view v = credits_evaluate(&b, ok ? &a : NULL, start);
    credits_describe(&b, &v, line, sizeof line);
    json_object_set_new(
        root, "credit_budget",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:s}", "left", (json_int_t)v.left,
                  "limit", (json_int_t)(ok ? a.request_limit : -1), "spent_today",
                  (json_int_t)v.spent_today, "daily_budget", (json_int_t)b.daily, "floor",
                  (json_int_t)b.floor, "room", (json_int_t)v.room, "paused", v.state != CREDITS_OK,
                  "reason", credits_reason(v.state), "state", line));
    return ok && (b.daily <= 0 || start >= 0) ? 0 : -1;
}

void ctl_status_credits_print(json_t *root)
{
    json_t *c = json_object_get(root, "credit_budget");
    if (!c)
        return;
    long long left = json_integer_value(json_object_get(c, "left"));
    printf("CREDITS (ScraperAPI /account)\n");
    if (left >= 0)
        printf("  %-24s %12lld of %lld\n", "left", left,
               (long long)json_integer_value(json_object_get(c, "limit")));
    else
        printf("  %-24s %12s\n", "left", "unknown");
    printf("  %-24s %s\n", "budget", json_string_value(json_object_get(c, "state")));
}
