/* Page metadata extracted by the scraper and stored by the committer. */
#ifndef WF4_META_H
#define WF4_META_H

#include <stdbool.h>
#include <stddef.h>

#include "meta_fields.h"

typedef struct strlist {
    char **v; /* owned strings */
    size_t n;
} strlist;

/* Every char * is owned by the struct, NULL when absent, always valid UTF-8. The members
 * are META_FIELDS (meta_fields.h), in its order. */
#define META_MEMBER(member, kind, avro, column) META_CTYPE_##kind member;
typedef struct meta_page {
    META_FIELDS(META_MEMBER)
} meta_page;
#undef META_MEMBER

/* Appends a copy of s; returns 0, or -1 when out of memory. */
int strlist_push(strlist *l, const char *s);
void strlist_free(strlist *l);
/* Frees every field and zeroes the struct. */
void meta_page_free(meta_page *m);

#endif
