/* Page metadata: string lists and freeing. */
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

void meta_page_free(meta_page *m)
{
    free(m->title);
    free(m->description);
    free(m->favicon_url);
    free(m->logo_url);
    free(m->language);
    free(m->wordpress_version);
    strlist_free(&m->tech_stack);
    strlist_free(&m->email_addresses);
    strlist_free(&m->phone_numbers);
    free(m->facebook_url);
    free(m->twitter_url);
    free(m->linkedin_url);
    free(m->instagram_url);
    free(m->youtube_url);
    memset(m, 0, sizeof *m);
}
