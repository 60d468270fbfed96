/* wf4-inspect: options and the pieces of the reading loop. */
#ifndef WF4_INSPECT_H
#define WF4_INSPECT_H

#include <stdint.h>

typedef enum {
    INSPECT_BEGINNING,
    INSPECT_END,
    INSPECT_ABS,
    INSPECT_TAIL,
    INSPECT_TIME
} inspect_from;

typedef struct inspect_opts {
    const char *topic;
    inspect_from from;
    int64_t offset;    /* INSPECT_ABS: offset; INSPECT_TAIL: count; INSPECT_TIME: epoch ms */
    int32_t partition; /* -1 = all */
    long count;        /* 0 = no limit */
    int follow;
} inspect_opts;

/* Parses the tool's own options out of argv; everything config_load understands (-h,
 * --help, --print-config, -X name=value) is copied to cfg_argv (cfg_argc). Returns 0, or
 * -1 after printing the error to stderr. */
int inspect_args(int argc, char **argv, inspect_opts *o, int *cfg_argc, char **cfg_argv);

/* Prints the tool's own usage (options) on stdout. */
void inspect_usage(void);

/* Parses "2026-11-23T10:00:00Z" (or with .mmm, or a +hh:mm offset) into epoch ms. */
int inspect_parse_time(const char *s, int64_t *ms);

#endif
