/* Offset tracking: commit a partition only up to its lowest claim not yet done. */
#ifndef WF4_SCRAPER_OFFSETS_H
#define WF4_SCRAPER_OFFSETS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* Per assigned partition: the offsets taken from Kafka and not yet done (done = the
 * result's or dead letter's delivery report succeeded), the last done offset, and the
 * offset last committed. Not thread-safe: the scraper loop owns it. */
typedef struct offsets offsets;

offsets *offsets_new(void); /* NULL when out of memory; caller frees with offsets_free */
void offsets_free(offsets *o);

/* Starts tracking a partition (on assignment). Idempotent. Returns 0 or -1 (out of memory). */
int offsets_assign(offsets *o, const char *topic, int32_t partition)
    __attribute__((warn_unused_result));
/* Stops tracking a partition and forgets its pending offsets (on revocation). */
void offsets_revoke(offsets *o, const char *topic, int32_t partition);
int offsets_assigned(const offsets *o, const char *topic, int32_t partition);

/* A claim at `offset` was taken. Returns 0; 1 when the partition is not tracked or the
 * offset is already pending; -1 when out of memory. */
int offsets_take(offsets *o, const char *topic, int32_t partition, int64_t offset)
    __attribute__((warn_unused_result));
/* The claim at `offset` is done. Returns 0, or 1 when it was not pending (partition revoked
 * meanwhile, or a duplicate report): a harmless no-op. */
int offsets_done(offsets *o, const char *topic, int32_t partition, int64_t offset);

/* The offset to commit for a partition: the lowest pending offset, or the last done + 1
 * when none is pending; -1 when nothing was done yet (or the partition is not tracked). */
int64_t offsets_committable(const offsets *o, const char *topic, int32_t partition);
size_t offsets_pending(const offsets *o, const char *topic, int32_t partition);
size_t offsets_pending_total(const offsets *o);

/* Builds the list of partitions whose committable offset moved past the last commit
 * (all committable partitions when `all` is set). Returns NULL when there is nothing to
 * commit; the caller destroys the list. Call offsets_committed once the commit succeeded. */
rd_kafka_topic_partition_list_t *offsets_commit_list(const offsets *o, int all);
/* Records a successful commit of `list` (entries with an error are skipped). */
void offsets_committed(offsets *o, const rd_kafka_topic_partition_list_t *list);

#endif
