/* The claim ids whose results Kafka acknowledged lately, in two open-addressing generations. */
#include "seen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen_key {
    uint64_t hi, lo; /* the UUID's 128 bits; 0, 0 marks an empty slot */
} seen_key;

typedef struct seen_gen {
    seen_key *slots;
    size_t n; /* keys held */
} seen_gen;

struct seen {
    seen_gen gen[2]; /* gen[0] takes new keys; gen[1] is the older */
    size_t cap;      /* keys a generation holds before it ages */
    size_t mask;     /* slots - 1 (slots: a power of two, at least 2 x cap) */
};

/* The UUID's 32 hex digits as 128 bits. Returns -1 when it is not a UUID. */
static int seen_parse(const char *id, seen_key *k)
{
    uint64_t w[2] = {0, 0};
    int digits = 0;
    if (!id || strlen(id) != 36)
        return -1;
    for (const char *p = id; *p; p++) {
        int v;
        if (*p == '-')
            continue;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            return -1;
        w[digits / 16] = w[digits / 16] << 4 | (uint64_t)v;
        digits++;
    }
    if (digits != 32 || (w[0] == 0 && w[1] == 0))
        return -1;
    k->hi = w[0];
    k->lo = w[1];
    return 0;
}

static size_t seen_slot(const seen *s, const seen_gen *g, seen_key k)
{
    uint64_t h = (k.hi ^ k.lo * 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
    size_t i = (size_t)(h >> 17) & s->mask;
    while ((g->slots[i].hi || g->slots[i].lo) && (g->slots[i].hi != k.hi || g->slots[i].lo != k.lo))
        i = (i + 1) & s->mask;
    return i;
}

seen *seen_new(size_t cap)
{
    seen *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cap = cap;
    size_t slots = 2;
    while (slots < 2 * cap)
        slots *= 2;
    s->mask = slots - 1;
    for (int i = 0; i < 2 && cap > 0; i++)
        if (!(s->gen[i].slots = calloc(slots, sizeof(seen_key)))) {
            seen_free(s);
            return NULL;
        }
    return s;
}

void seen_free(seen *s)
{
    if (!s)
        return;
    free(s->gen[0].slots);
    free(s->gen[1].slots);
    free(s);
}

void seen_add(seen *s, const char *claim_id)
{
    seen_key k;
    if (s->cap == 0 || seen_parse(claim_id, &k) != 0 || seen_has(s, claim_id))
        return;
    if (s->gen[0].n >= s->cap) {
        seen_gen older = s->gen[1];
        s->gen[1] = s->gen[0];
        memset(older.slots, 0, (s->mask + 1) * sizeof(seen_key));
        older.n = 0;
        s->gen[0] = older;
    }
    seen_gen *g = &s->gen[0];
    g->slots[seen_slot(s, g, k)] = k;
    g->n++;
}

int seen_has(const seen *s, const char *claim_id)
{
    seen_key k;
    if (s->cap == 0 || seen_parse(claim_id, &k) != 0)
        return 0;
    for (int i = 0; i < 2; i++) {
        const seen_gen *g = &s->gen[i];
        seen_key at = g->slots[seen_slot(s, g, k)];
        if (at.hi == k.hi && at.lo == k.lo)
            return 1;
    }
    return 0;
}
