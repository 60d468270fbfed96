/* wf4ctl migrate, topics and acls: set a database and a Kafka cluster up for the pipeline. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "db.h"
#include "kafka.h"
#include "log.h"

int ctl_migrate(const ctl_settings *s, int argc, char **argv)
{
    char err[512], dir[4096];
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: wf4ctl migrate\n");
        return 2;
    }
    if (!s->database_url) {
        fprintf(stderr,
                "WF4_ADMIN_DATABASE_URL or WF4_DATABASE_URL: required setting is missing\n");
        return 2;
    }
    db_settings ds = {
        .url = s->database_url, .app_name = "wf4ctl-migrate", .statement_timeout_ms = 600000};
    db *d = db_connect(&ds, err, sizeof err);
    if (!d) {
        fprintf(stderr, "wf4ctl migrate: cannot connect to PostgreSQL: %s\n", err);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/sql", s->schema_dir);
    int n = db_migrate(d, dir, err, sizeof err);
    db_close(d);
    if (n < 0) {
        fprintf(stderr, "wf4ctl migrate: %s\n", err);
        return 1;
    }
    log_info("migrations: %d applied, schema up to date", n);
    return 0;
}

int ctl_topics(const ctl_settings *s, int argc, char **argv)
{
    char err[512];
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: wf4ctl topics\n");
        return 2;
    }
    if (kafka_topics_create(s->kafka_brokers, s->schema_dir, 15000, err, sizeof err) != 0) {
        fprintf(stderr, "wf4ctl topics: %s\n", err);
        return 1;
    }
    return 0;
}

int ctl_acls(const ctl_settings *s, int argc, char **argv)
{
    char err[512];
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: wf4ctl acls\n");
        return 2;
    }
    if (kafka_acls_create(s->kafka_brokers, s->schema_dir, 30000, err, sizeof err) != 0) {
        fprintf(stderr, "wf4ctl acls: %s\n", err);
        return 1;
    }
    return 0;
}
