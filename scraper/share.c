/* The account's concurrency split between the scrapers of one group. */
#include "share.h"

long share_of(long account_limit, int mine, int partitions)
{
    if (mine <= 0)
        return 0;
    if (partitions <= 0 || mine >= partitions)
        return account_limit;
    long share = (long)((long long)account_limit * mine / partitions);
    return share > 0 ? share : 1;
}
