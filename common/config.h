/* Configuration: one table per executable, read from the environment, drives --help. */
#ifndef WF4_CONFIG_H
#define WF4_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CFG_STR,    /* char **: strdup'ed value (NULL when unset and no default) */
    CFG_SECRET, /* char **: like CFG_STR, masked in dumps and registered with log_add_secret */
    CFG_INT,    /* long *: decimal, checked against [min, max] */
    CFG_BOOL,   /* int *: 1/0, true/false, yes/no, on/off */
    CFG_DOUBLE  /* double *: checked against [min, max] */
} cfg_type;

typedef struct cfg_entry {
    const char *env; /* environment variable, e.g. "WF4_DATABASE_URL" */
    cfg_type type;
    const char *def;  /* default as text; NULL = no default */
    int required;     /* 1: missing or empty is a start-up error */
    long min, max;    /* bounds for CFG_INT / CFG_DOUBLE (ignored when min > max) */
    void *dst;        /* where the parsed value goes */
    const char *help; /* one line for --help */
} cfg_entry;

/* Fills every dst from the environment. Handles argv: "--help"/"-h" prints usage (summary,
 * then one line per entry with its default) and returns 1; "--print-config" prints the
 * effective settings (secrets masked) and returns 1; "-X name=value" adds a librdkafka
 * property (see config_kafka_props). Any error (unknown option, bad number, missing required
 * variable) is printed to stderr as one line naming the variable, and returns -1.
 * Returns 0 when the program should run. Also reads WF4_KAFKA_PROPS="a=b,c=d".
 * On any return but 0 everything it allocated is already freed (config_free is harmless). */
int config_load(const cfg_entry *table, size_t n, int argc, char **argv, const char *prog,
                const char *summary);

/* librdkafka pass-through properties collected by config_load (-X and WF4_KAFKA_PROPS).
 * Returns the count; names and values point to internal arrays valid until config_free. */
size_t config_kafka_props(const char *const **names, const char *const **values);

/* Frees strings allocated by config_load for this table and the pass-through list. */
void config_free(const cfg_entry *table, size_t n);

#endif
