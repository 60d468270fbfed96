/* The account's concurrency split between the scrapers of one group by the claim partitions
 * each holds. */
#ifndef WF4_SCRAPER_SHARE_H
#define WF4_SCRAPER_SHARE_H

/* This scraper's calls in flight at most: account_limit x mine / partitions, rounded down so
 * the shares never add up past the account's limit, and at least 1 while it holds a partition.
 * Returns 0 when it holds none, or when partitions is unknown (<= 0) the whole limit. */
long share_of(long account_limit, int mine, int partitions);

#endif
