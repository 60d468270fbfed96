/* Schema migrations: the .sql files of schemas/sql applied in name order, each once. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

typedef struct migrate_step {
    const char *name;
    const char *sql;
    int applied; /* out: 1 when this run applied it */
} migrate_step;

static int migrate_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *migrate_read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        goto fail;
    buf[n] = '\0';
    fclose(f);
    return buf;
fail:
    snprintf(err, errlen, "cannot read %s", path);
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}

/* Runs inside db_transaction: skips the step if recorded, else applies and records it.
 * The migration text is trusted (it ships with the code) and may hold several statements,
 * so it goes through db_exec_script, the one multi-statement path. */
static int migrate_apply(db_tx *tx, void *arg)
{
    migrate_step *st = arg;
    const char *p[] = {st->name};
    st->applied = 0;
    PGresult *r = db_exec(tx, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, p);
    if (!r)
        return -1;
    int done = PQntuples(r) > 0;
    PQclear(r);
    if (done)
        return 0;
    if (db_exec_script(tx, st->sql) != 0)
        return -1;
    r = db_exec(tx, "INSERT INTO schema_migrations(name) VALUES ($1)", 1, p);
    if (!r)
        return -1;
    PQclear(r);
    st->applied = 1;
    return 0;
}

static int migrate_list(const char *dir, char ***names, size_t *n, char *err, size_t errlen)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!dh) {
        snprintf(err, errlen, "cannot open migrations directory %s", dir);
        return -1;
    }
    while ((e = readdir(dh)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".sql") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, cap * sizeof *nn);
            if (!nn)
                break;
            *names = nn;
        }
        (*names)[(*n)++] = strdup(e->d_name);
    }
    closedir(dh);
    qsort(*names, *n, sizeof **names, migrate_cmp);
    return 0;
}

int db_migrate(db *d, const char *dir, char *err, size_t errlen)
{
    char **names;
    size_t n;
    int applied = 0;
    PGresult *r = db_query(d,
                           "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY "
                           "KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                           0, NULL);
    if (!r) {
        snprintf(err, errlen, "cannot create schema_migrations");
        return -1;
    }
    PQclear(r);
    if (migrate_list(dir, &names, &n, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n && applied >= 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *sql = migrate_read(path, err, errlen);
        migrate_step st = {names[i], sql, 0};
        if (!sql || db_transaction(d, "migrate", 60000, migrate_apply, &st) != 0) {
            if (sql)
                snprintf(err, errlen, "migration %s failed", names[i]);
            applied = -1;
        } else if (st.applied) {
            log_info("migration %s applied", names[i]);
            applied++;
        }
        free(sql);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return applied;
}
