/* The credit budget: a daily budget and a floor of remaining credits, from /account. */
#include "credits.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int credits_budget_set(const credits_budget *b)
{
    return b->daily > 0 || b->floor > 0;
}

long credits_spent_since(long count_now, long count_at_start)
{
    if (count_now < 0 || count_at_start < 0)
        return -1;
    return count_now >= count_at_start ? count_now - count_at_start : count_now;
}

static long credits_min(long a, long b)
{
    return a < b ? a : b;
}

credits_view credits_evaluate(const credits_budget *b, const account_info *a, long day_start)
{
    credits_view v = {CREDITS_OK, -1, a ? account_credits_left(a) : -1, -1};
    if (a && b->daily > 0)
        v.spent_today = credits_spent_since(a->request_count, day_start);
    if (!credits_budget_set(b))
        return v;
    /* Money is at stake: without a usable answer nothing new starts. */
    if ((b->floor > 0 && v.left < 0) || (b->daily > 0 && v.spent_today < 0)) {
        v.state = CREDITS_PAUSED_UNKNOWN;
        v.room = 0;
        return v;
    }
    long daily_room = b->daily > 0 ? b->daily - v.spent_today : -1;
    long floor_room = b->floor > 0 ? v.left - b->floor : -1;
    if (b->daily > 0 && daily_room <= 0)
        v.state = CREDITS_PAUSED_DAILY;
    else if (b->floor > 0 && floor_room <= 0)
        v.state = CREDITS_PAUSED_FLOOR;
    if (v.state != CREDITS_OK)
        v.room = 0;
    else if (daily_room >= 0 && floor_room >= 0)
        v.room = credits_min(daily_room, floor_room);
    else
        v.room = daily_room >= 0 ? daily_room : floor_room;
    return v;
}

long credits_claims_allowed(long room, long per_claim, long in_flight)
{
    if (room < 0)
        return -1;
    long n = room / (per_claim > 0 ? per_claim : 1) - in_flight;
    return n > 0 ? n : 0;
}

const char *credits_reason(credits_state s)
{
    switch (s) {
    case CREDITS_PAUSED_DAILY: return "daily budget";
    case CREDITS_PAUSED_FLOOR: return "floor";
    case CREDITS_PAUSED_UNKNOWN: return "account unknown";
    default: return "";
    }
}

void credits_describe(const credits_budget *b, const credits_view *v, char *out, size_t outlen)
{
    switch (v->state) {
    case CREDITS_PAUSED_DAILY:
        snprintf(out, outlen,
                 "paused: credit budget (daily budget: %ld of %ld credits spent today)",
                 v->spent_today, b->daily);
        break;
    case CREDITS_PAUSED_FLOOR:
        snprintf(out, outlen, "paused: credit budget (floor: %ld credits left, floor %ld)", v->left,
                 b->floor);
        break;
    case CREDITS_PAUSED_UNKNOWN:
        snprintf(out, outlen,
                 "paused: credit budget (account unknown: /account gave no usable "
                 "answer)");
        break;
    default:
        if (v->room < 0)
            snprintf(out, outlen, "no credit budget set");
        else
            snprintf(out, outlen, "running: %ld credits of the budget left", v->room);
    }
}

long credits_ceiling_for(long daily, long count_now, long day_start)
{
    if (daily <= 0 || count_now < 0 || day_start < 0)
        return 0;
    return (count_now >= day_start ? day_start : 0) + daily;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil): no timegm, which C11 lacks. */
static int64_t credits_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The value of n decimal digits (checked by the caller). */
static int credits_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int credits_month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

int64_t credits_day_end_ms(const char *day)
{
    if (!day || strlen(day) != 10 || day[4] != '-' || day[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)day[i]))
            return -1;
    int y = credits_digits(day, 4), m = credits_digits(day + 5, 2), d = credits_digits(day + 8, 2);
    if (m < 1 || m > 12 || d < 1 || d > credits_month_days(y, m))
        return -1;
    return (credits_days_from_civil(y, m, d) + 1) * 86400000;
}

long credits_ceiling_now(const credits_ceiling *c, int64_t now_ms)
{
    return c->count > 0 && now_ms < c->until_ms ? c->count : 0;
}

int credits_ceiling_take(credits_ceiling *c, long count, int64_t until_ms, int64_t claimed_at_ms,
                         int64_t now_ms)
{
    if (claimed_at_ms < c->claimed_at_ms)
        return 0; /* an older claim (a backlog, another partition) says nothing new */
    if (count > 0 && until_ms <= now_ms)
        return 0; /* a past day's ceiling */
    long before = credits_ceiling_now(c, now_ms);
    c->count = count > 0 ? count : 0;
    c->until_ms = count > 0 ? until_ms : 0;
    c->claimed_at_ms = claimed_at_ms;
    return credits_ceiling_now(c, now_ms) != before;
}

int credits_ceiling_allows(long ceiling, long count, long held, long price)
{
    if (ceiling <= 0)
        return 1;
    return count >= 0 && count + held + price <= ceiling;
}
