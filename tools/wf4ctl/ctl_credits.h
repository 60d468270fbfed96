/* wf4ctl status: what ScraperAPI's /account says is left, and the credit budget's state. */
#ifndef WF4CTL_CTL_CREDITS_H
#define WF4CTL_CTL_CREDITS_H

#include <jansson.h>

#include "ctl.h"

/* Adds "credit_budget" to root: /account's credits and the budget's verdict, as the claimer
 * reaches it (today's start from credits_days, read on a connection of its own). Nothing
 * when SCRAPERAPI_KEY is unset. Returns 0, or -1 when /account or the database did not
 * answer (noted in root's errors). */
int ctl_status_credits(const ctl_settings *s, json_t *root);

/* Prints the "CREDITS" section of root, when there is one. */
void ctl_status_credits_print(json_t *root);

#endif
