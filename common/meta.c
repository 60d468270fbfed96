/* Page metadata: string lists, the field table as data, and freeing. */
#include "meta.h"

#include <stdlib.h>
#include <string.h>

int strlist_push(strlist *l, const char *s)
{
    char *copy = strdup(s ? s : "");
    if (!copy)
        return -1;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v) {
        free(copy);
        return -1;
    }
    v[l->n++] = copy;
    l->v = v;
    return 0;
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

const meta_field meta_fields[META_NFIELDS] = {
#define META_ROW(member, kind, avro, column) {#member, avro, column, kind},
    META_FIELDS(META_ROW)
#undef META_ROW
};

static void meta_free_text(char **s)
{
    free(*s);
}

static void meta_free_bool(bool *b)
{
    (void)b;
}

void meta_page_free(meta_page *m)
{
#define META_FREE(member, kind, avro, column) \
    _Generic(&m->member, char **: meta_free_text, bool *: meta_free_bool,                  \
             strlist *: strlist_free)(&m->member);
    META_FIELDS(META_FREE)
#undef META_FREE
    memset(m, 0, sizeof *m);
}
