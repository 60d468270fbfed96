/* wf4ctl operations subcommands (status, doctor, select, requeue, exporter, trace): table and
 * shared helpers. */
#include "ctl_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const ctl_command ctl_ops_commands[] = {
    {"status", ctl_status, "pipeline counts, oldest claim, consumer lag, outbox, DLQs [--json]"},
    {"doctor", ctl_doctor, "incident checks (idle in transaction, stuck claims...) [--fix]"},
    {"select", ctl_select, "select domains for metadata extraction [--file F | NAME...]"},
    {"trace", ctl_trace, "one domain's timeline: claims, scrapes, outcome, handoff [--json]"},
    {"requeue", ctl_requeue, "re-drive error domains (--errors) or a DLQ topic (--dlq T)"},
    {"exporter", ctl_exporter, "serve the detection signals as Prometheus gauges [--port N]"},
    {NULL, NULL, NULL},
};

db *ctl_db_open(const ctl_settings *s, const char *app_name)
{
    char err[512];
    if (!s->database_url || !s->database_url[0]) {
        fprintf(stderr, "WF4_ADMIN_DATABASE_URL or WF4_DATABASE_URL: required setting is "
                        "missing\n");
        return NULL;
    }
    db_settings ds = {.url = s->database_url,
                      .app_name = app_name,
                      .statement_timeout_ms = 60000,
                      .connect_timeout_s = 10};
    db *d = db_connect(&ds, err, sizeof err);
    if (!d)
        fprintf(stderr, "%s: %s: cannot connect to PostgreSQL: %s\n", app_name,
                s->admin_database_url ? "WF4_ADMIN_DATABASE_URL" : "WF4_DATABASE_URL", err);
    return d;
}

int ctl_parse_long(const char *opt, const char *value, long min, long max, long *out)
{
    char *end;
    if (!value) {
        fprintf(stderr, "%s: a value is required\n", opt);
        return -1;
    }
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: \"%s\" is not a number between %ld and %ld\n", opt, value, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int ctl_strlist_add(ctl_strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return -1;
    l->v[l->n++] = copy;
    return 0;
}

void ctl_strlist_free(ctl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
