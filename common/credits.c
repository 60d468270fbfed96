/* The credit budget: a daily budget and a floor of remaining credits, from /account. */
#include "credits.h"

#include <stdio.h>

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
