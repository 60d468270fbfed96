/* Page metadata extracted by the scraper and stored by the committer. */
#ifndef WF4_META_H
#define WF4_META_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strlist {
    char **v; /* owned strings */
    size_t n;
} strlist;

/* Every char * is owned by the struct, NULL when absent, always valid UTF-8. */
typedef struct meta_page {
    char *title, *description, *favicon_url, *logo_url, *language;
    bool is_wordpress;
    char *wordpress_version;
    bool has_elementor;
    strlist tech_stack, email_addresses, phone_numbers;
    char *facebook_url, *twitter_url, *linkedin_url, *instagram_url, *youtube_url;
} meta_page;

/* Appends a copy of s; returns 0, or -1 when out of memory. */
int strlist_push(strlist *l, const char *s);
void strlist_free(strlist *l);
/* Frees every field and zeroes the struct. */
void meta_page_free(meta_page *m);

#endif
