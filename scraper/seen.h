/* The claim ids whose results Kafka acknowledged lately: a replayed claim among them is not
 * fetched again (its result is on the topic already). */
#ifndef WF4_SCRAPER_SEEN_H
#define WF4_SCRAPER_SEEN_H

#include <stddef.h>

typedef struct seen seen;

/* Remembers at least the last cap ids and at most 2 x cap (two generations; the older is
 * dropped whole when the newer fills). cap 0: remembers nothing. NULL when out of memory. */
seen *seen_new(size_t cap);
void seen_free(seen *s);

/* Adds a claim id (a UUID's 36 characters; anything else is not remembered). */
void seen_add(seen *s, const char *claim_id);

/* 1 when claim_id was added and is still remembered. */
int seen_has(const seen *s, const char *claim_id);

#endif
