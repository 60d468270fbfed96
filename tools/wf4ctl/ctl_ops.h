/* wf4ctl operations subcommands: entry points and the helpers they share. */
#ifndef WF4CTL_CTL_OPS_H
#define WF4CTL_CTL_OPS_H

#include <jansson.h>
#include <stddef.h>

#include "ctl.h"
#include "db.h"

/* Subcommands; each returns the process exit status (0 ok, 1 unhealthy/failed, 2 usage). */
int ctl_status(const ctl_settings *s, int argc, char **argv);
int ctl_doctor(const ctl_settings *s, int argc, char **argv);
int ctl_select(const ctl_settings *s, int argc, char **argv);
int ctl_requeue(const ctl_settings *s, int argc, char **argv);
int ctl_trace(const ctl_settings *s, int argc, char **argv);
int ctl_exporter(const ctl_settings *s, int argc, char **argv);

/* Consumer lag of the pipeline's groups and the size of every *.dlq topic, appended to
 * root["consumer_lag"] and root["dlq"]; problems go to root["errors"] (both arrays must
 * exist). Returns 0, or -1 when part could not be read. */
int ctl_status_kafka(const ctl_settings *s, json_t *root);

/* Connects to s->database_url (the admin URL when set) as application_name app_name
 * ("wf4ctl-..." never matches the pipeline's own 'wf4-%'). Prints the error and returns NULL
 * on failure. The caller closes the result with db_close. */
db *ctl_db_open(const ctl_settings *s, const char *app_name);

/* Parses a non-negative integer option value; prints an error naming opt and returns -1. */
int ctl_parse_long(const char *opt, const char *value, long min, long max, long *out);

/* A growable list of strings that owns its items. */
typedef struct ctl_strlist {
    char **v;
    size_t n, cap;
} ctl_strlist;

/* Appends a copy of s; returns 0 or -1 (out of memory). */
int ctl_strlist_add(ctl_strlist *l, const char *s);
void ctl_strlist_free(ctl_strlist *l);

#endif
