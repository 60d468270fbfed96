/* wf4ctl select: insert domains if missing and mark them Selected, in set-based batches. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ops.h"

#define SELECT_BATCH 1000
#define SELECT_NAME_MAX 253

/* One statement per batch. The selection trigger on domains turns a newly Selected row
 * pending (unless it is processing or completed) and wakes the claimers. "old" is read
 * (and locked) before the changes, so every name falls in exactly one count. */
static const char select_sql[] =
    "WITH input AS (SELECT DISTINCT unnest($1::text[]) AS domain),"
    " old AS (SELECT d.id, d.sitemap_curation_status AS cur, d.status"
    "  FROM domains d JOIN input i ON d.domain = i.domain FOR UPDATE OF d),"
    " upd AS (UPDATE domains d SET sitemap_curation_status = 'Selected'"
    "  FROM old WHERE d.id = old.id AND old.cur <> 'Selected' RETURNING d.status),"
    " ins AS (INSERT INTO domains (domain, tenant_id, sitemap_curation_status)"
    "  SELECT domain, $2::uuid, 'Selected' FROM input"
    "  ON CONFLICT (domain) DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*) FROM input), (SELECT count(*) FROM ins),"
    "  (SELECT count(*) FROM upd WHERE status = 'pending'),"
    "  (SELECT count(*) FROM old WHERE cur = 'Selected' AND status = 'pending'),"
    "  (SELECT count(*) FROM old WHERE status = 'processing'),"
    "  (SELECT count(*) FROM old WHERE status = 'completed'),"
    "  (SELECT count(*) FROM old WHERE cur = 'Selected' AND status = 'error')";

enum {
    SEL_DISTINCT,
    SEL_INSERTED,
    SEL_NEW,
    SEL_ALREADY,
    SEL_IN_FLIGHT,
    SEL_COMPLETED,
    SEL_ERROR,
    SEL_NCOUNTS
};

typedef struct select_batch {
    char *const *names;
    size_t n;
    const char *tenant;       /* NULL = no tenant */
    long counts[SEL_NCOUNTS]; /* output of one attempt */
} select_batch;

static int select_tx(db_tx *tx, void *arg)
{
    select_batch *b = arg;
    memset(b->counts, 0, sizeof b->counts);
    char *array = db_text_array(b->names, b->n);
    if (!array) {
        fprintf(stderr, "wf4ctl select: out of memory\n");
        return -1;
    }
    const char *p[] = {array, b->tenant};
    PGresult *r = db_exec(tx, select_sql, 2, p);
    free(array);
    if (!r)
        return -1;
    for (int i = 0; i < SEL_NCOUNTS; i++)
        b->counts[i] = strtol(PQgetvalue(r, 0, i), NULL, 10);
    PQclear(r);
    return 0;
}

/* Lower-cases a domain name in place and checks it has no blanks or control characters.
 * Returns 0 when it can be used. */
static int select_normalize(char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SELECT_NAME_MAX)
        return -1;
    for (char *c = name; *c; c++) {
        if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c) || *c == '"' || *c == '\\' ||
            *c == '/')
            return -1;
        *c = (char)tolower((unsigned char)*c);
    }
    return 0;
}

/* Strips a '#' comment and surrounding blanks from line, in place; returns the name ("" for
 * a blank or comment line). */
static char *select_strip(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    return line;
}

/* Adds one name (from where, for the error) to l. Returns 0, or -1 (printed). */
static int select_add(ctl_strlist *l, char *name, const char *where, long line)
{
    if (select_normalize(name) != 0) {
        fprintf(stderr, "wf4ctl select: %s:%ld: \"%s\" is not a domain name\n", where, line, name);
        return -1;
    }
    if (ctl_strlist_add(l, name) != 0) {
        fprintf(stderr, "wf4ctl select: out of memory\n");
        return -1;
    }
    return 0;
}

/* Reads names from path ("-" = stdin), one a line. Returns 0, or -1 (printed). */
static int select_read_file(const char *path, ctl_strlist *l)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    if (!f) {
        perror(path);
        return -1;
    }
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        char *name = select_strip(line);
        lineno++;
        if (*name)
            rc = select_add(l, name, path, lineno);
    }
    if (rc == 0 && ferror(f)) {
        perror(path);
        rc = -1;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int select_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts l and drops duplicates, so that the batches never overlap. */
static void select_unique(ctl_strlist *l)
{
    size_t out = 0;
    qsort(l->v, l->n, sizeof *l->v, select_cmp);
    for (size_t i = 0; i < l->n; i++) {
        if (out > 0 && strcmp(l->v[out - 1], l->v[i]) == 0)
            free(l->v[i]);
        else
            l->v[out++] = l->v[i];
    }
    l->n = out;
}

static int select_usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "Usage: wf4ctl select [--tenant UUID] (--file F | NAME...)\n"
            "Inserts the domains that are missing and sets sitemap_curation_status to\n"
            "Selected, which makes them pending for the claimers (unless already in flight\n"
            "or completed), in batches of %d, one transaction each.\n"
            "  --file F       one domain a line ('#' comments and blank lines ignored;\n"
            "                 '-' reads stdin)\n"
            "  --tenant UUID  tenant_id of the domains inserted\n"
            "Names are lower-cased; a name with blanks or control characters stops the\n"
            "command before anything is written.\n"
            "Exit status: 0, 1 when a batch failed, 2 on a usage error.\n",
            SELECT_BATCH);
    return rc;
}

/* Fills names from argv. Returns 0, -1 after --help, 2 on a usage error (printed). */
static int select_parse(int argc, char **argv, ctl_strlist *names, const char **tenant)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            select_usage(0);
            return -1;
        } else if ((strcmp(a, "--file") == 0 || strcmp(a, "--tenant") == 0) && i + 1 >= argc) {
            return select_usage(2);
        } else if (strcmp(a, "--file") == 0) {
            if (select_read_file(argv[++i], names) != 0)
                return 2;
        } else if (strcmp(a, "--tenant") == 0) {
            *tenant = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return select_usage(2);
        } else {
            char *copy = strdup(a);
            int rc = copy ? select_add(names, select_strip(copy), "argument", i) : -1;
            free(copy);
            if (rc != 0)
                return 2;
        }
    }
    if (names->n == 0) {
        fprintf(stderr, "wf4ctl select: no domain names given\n");
        return 2;
    }
    return 0;
}

static int select_run(db *d, const ctl_strlist *names, const char *tenant, long *total)
{
    for (size_t off = 0; off < names->n; off += SELECT_BATCH) {
        select_batch b = {names->v + off, names->n - off, tenant, {0}};
        if (b.n > SELECT_BATCH)
            b.n = SELECT_BATCH;
        if (db_transaction(d, "select_domains", 10000, select_tx, &b) != 0) {
            fprintf(stderr, "wf4ctl select: batch of %zu name(s) from #%zu rolled back\n", b.n,
                    off + 1);
            return -1;
        }
        for (int i = 0; i < SEL_NCOUNTS; i++)
            total[i] += b.counts[i];
    }
    return 0;
}

int ctl_select(const ctl_settings *s, int argc, char **argv)
{
    ctl_strlist names = {0};
    const char *tenant = NULL;
    long total[SEL_NCOUNTS] = {0};
    int rc = select_parse(argc, argv, &names, &tenant);
    if (rc != 0)
        goto cleanup;
    select_unique(&names);
    db *d = ctl_db_open(s, "wf4ctl-select");
    if (!d) {
        rc = 2;
        goto cleanup;
    }
    rc = select_run(d, &names, tenant, total) == 0 ? 0 : 1;
    db_close(d);
    printf("select: %ld distinct domain(s): inserted %ld, newly selected %ld, already selected "
           "%ld, in flight %ld, completed %ld, in error %ld%s\n",
           total[SEL_DISTINCT], total[SEL_INSERTED], total[SEL_NEW], total[SEL_ALREADY],
           total[SEL_IN_FLIGHT], total[SEL_COMPLETED], total[SEL_ERROR],
           total[SEL_ERROR] ? " (wf4ctl requeue --errors re-drives those)" : "");
cleanup:
    ctl_strlist_free(&names);
    return rc < 0 ? 0 : rc;
}
