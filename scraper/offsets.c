/* Offset tracking: commit a partition only up to its lowest claim not yet done. */
#include "offsets.h"

#include <stdlib.h>
#include <string.h>

/* Pending offsets of one partition, ascending, in v[head .. head+len). A done offset stays
 * in place until every offset below it is done too, then the prefix is dropped. */
typedef struct offsets_part {
    char *topic;
    int32_t partition;
    int64_t *v;
    unsigned char *done;
    size_t head, len, cap;
    int64_t last_done; /* highest offset dropped from the done prefix, -1 = none */
    int64_t committed; /* offset last committed, -1 = none */
} offsets_part;

struct offsets {
    offsets_part *p;
    size_t n, cap;
};

offsets *offsets_new(void)
{
    return calloc(1, sizeof(offsets));
}

static void offsets_part_clear(offsets_part *p)
{
    free(p->topic);
    free(p->v);
    free(p->done);
}

void offsets_free(offsets *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        offsets_part_clear(&o->p[i]);
    free(o->p);
    free(o);
}

static offsets_part *offsets_find(const offsets *o, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->p[i].partition == partition && strcmp(o->p[i].topic, topic) == 0)
            return &o->p[i];
    return NULL;
}

int offsets_assign(offsets *o, const char *topic, int32_t partition)
{
    if (offsets_find(o, topic, partition))
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        offsets_part *np = realloc(o->p, cap * sizeof *np);
        if (!np)
            return -1;
        o->p = np;
        o->cap = cap;
    }
    offsets_part *p = &o->p[o->n];
    memset(p, 0, sizeof *p);
    p->topic = strdup(topic);
    if (!p->topic)
        return -1;
    p->partition = partition;
    p->last_done = -1;
    p->committed = -1;
    o->n++;
    return 0;
}

void offsets_revoke(offsets *o, const char *topic, int32_t partition)
{
    offsets_part *p = offsets_find(o, topic, partition);
    if (!p)
        return;
    offsets_part_clear(p);
    *p = o->p[--o->n];
}

int offsets_assigned(const offsets *o, const char *topic, int32_t partition)
{
    return offsets_find(o, topic, partition) != NULL;
}

/* Index (absolute) of the first pending entry >= offset. */
static size_t offsets_lower_bound(const offsets_part *p, int64_t offset)
{
    size_t lo = p->head, hi = p->head + p->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->v[mid] < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Makes room for one more entry at the end, compacting or growing. */
static int offsets_reserve(offsets_part *p)
{
    if (p->head + p->len < p->cap)
        return 0;
    if (p->head > 0) {
        memmove(p->v, p->v + p->head, p->len * sizeof *p->v);
        memmove(p->done, p->done + p->head, p->len);
        p->head = 0;
        if (p->len < p->cap)
            return 0;
    }
    size_t cap = p->cap ? p->cap * 2 : 64;
    int64_t *v = realloc(p->v, cap * sizeof *v);
    if (!v)
        return -1;
    p->v = v;
    unsigned char *d = realloc(p->done, cap);
    if (!d)
        return -1;
    p->done = d;
    p->cap = cap;
    return 0;
}

int offsets_take(offsets *o, const char *topic, int32_t partition, int64_t offset)
{
    offsets_part *p = offsets_find(o, topic, partition);
    if (!p)
        return 1;
    size_t at = offsets_lower_bound(p, offset);
    if (at < p->head + p->len && p->v[at] == offset)
        return 1;
    if (offsets_reserve(p) != 0)
        return -1;
    at = offsets_lower_bound(p, offset); /* the buffer may have moved */
    size_t end = p->head + p->len;
    memmove(p->v + at + 1, p->v + at, (end - at) * sizeof *p->v);
    memmove(p->done + at + 1, p->done + at, end - at);
    p->v[at] = offset;
    p->done[at] = 0;
    p->len++;
    return 0;
}

int offsets_done(offsets *o, const char *topic, int32_t partition, int64_t offset)
{
    offsets_part *p = offsets_find(o, topic, partition);
    if (!p)
        return 1;
    size_t at = offsets_lower_bound(p, offset);
    if (at >= p->head + p->len || p->v[at] != offset || p->done[at])
        return 1;
    p->done[at] = 1;
    while (p->len > 0 && p->done[p->head]) {
        if (p->v[p->head] > p->last_done)
            p->last_done = p->v[p->head];
        p->head++;
        p->len--;
    }
    if (p->len == 0)
        p->head = 0;
    return 0;
}

static int64_t offsets_part_committable(const offsets_part *p)
{
    if (p->last_done < 0)
        return -1; /* nothing done yet: nothing worth committing */
    return p->len > 0 ? p->v[p->head] : p->last_done + 1;
}

int64_t offsets_committable(const offsets *o, const char *topic, int32_t partition)
{
    const offsets_part *p = offsets_find(o, topic, partition);
    return p ? offsets_part_committable(p) : -1;
}

size_t offsets_pending(const offsets *o, const char *topic, int32_t partition)
{
    const offsets_part *p = offsets_find(o, topic, partition);
    return p ? p->len : 0;
}

size_t offsets_pending_total(const offsets *o)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n; i++)
        n += o->p[i].len;
    return n;
}

rd_kafka_topic_partition_list_t *offsets_commit_list(const offsets *o, int all)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (size_t i = 0; i < o->n; i++) {
        const offsets_part *p = &o->p[i];
        int64_t c = offsets_part_committable(p);
        if (c < 0 || (!all && c == p->committed))
            continue;
        if (!list && !(list = rd_kafka_topic_partition_list_new((int)o->n)))
            return NULL;
        rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = c;
    }
    return list;
}

void offsets_committed(offsets *o, const rd_kafka_topic_partition_list_t *list)
{
    for (int i = 0; list && i < list->cnt; i++) {
        const rd_kafka_topic_partition_t *t = &list->elems[i];
        offsets_part *p = offsets_find(o, t->topic, t->partition);
        if (p && !t->err && t->offset >= 0)
            p->committed = t->offset;
    }
}
