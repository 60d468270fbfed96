/* wf4ctl: the operator command of the WF4 pipeline (thin dispatcher). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "log.h"

static const ctl_command ctl_setup_commands[] = {
    {"migrate", ctl_migrate, "apply schemas/sql migrations (as an admin role)"},
    {"topics", ctl_topics, "create the topics of schemas/topics.json"},
    {NULL, NULL, NULL},
};

static void ctl_usage(void)
{
    printf("Usage: wf4ctl [--help] COMMAND [ARGS]\n\nCommands:\n");
    for (const ctl_command *c = ctl_setup_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->usage);
    for (const ctl_command *c = ctl_ops_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->usage);
    printf("\nRun 'wf4ctl --help-settings' for the environment variables.\n");
}

static const ctl_command *ctl_find(const char *name)
{
    for (const ctl_command *c = ctl_setup_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    for (const ctl_command *c = ctl_ops_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int main(int argc, char **argv)
{
    ctl_settings s = {0};
    const cfg_entry table[] = {
        {"WF4_DATABASE_URL", CFG_SECRET, NULL, 0, 0, -1, &s.app_database_url,
         "PostgreSQL URL of the services' role"},
        {"WF4_ADMIN_DATABASE_URL", CFG_SECRET, NULL, 0, 0, -1, &s.admin_database_url,
         "PostgreSQL URL of an admin role (migrations, doctor --fix); default WF4_DATABASE_URL"},
        {"WF4_KAFKA_BROKERS", CFG_STR, "127.0.0.1:9092", 0, 0, -1, &s.kafka_brokers,
         "Kafka bootstrap servers"},
        {"WF4_SCHEMA_DIR", CFG_STR, WF4_SCHEMA_DIR_DEFAULT, 0, 0, -1, &s.schema_dir,
         "directory of the Avro schemas, migrations and topic catalogue"},
        {"WF4_SCHEMA_REGISTRY_URL", CFG_STR, NULL, 0, 0, -1, &s.registry_url,
         "schema registry (Confluent API); empty = single-object encoding"},
        {"WF4_LEASE_SECONDS", CFG_INT, "300", 0, 1, 86400, &s.lease_seconds,
         "claim lease used by the claimers (for reports)"},
        {"WF4_IDLE_THRESHOLD_S", CFG_INT, "60", 0, 1, 86400, &s.idle_threshold_s,
         "idle-in-transaction age that doctor reports and --fix terminates"},
    };
    size_t n = sizeof table / sizeof *table;
    log_init("wf4ctl", NULL, LOG_INFO);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ctl_usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--help-settings") == 0) {
        char *hargv[] = {argv[0], "--help", NULL};
        config_load(table, n, 2, hargv, "wf4ctl", "Settings of wf4ctl.");
        return 0;
    }
    const ctl_command *cmd = ctl_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "wf4ctl: unknown command \"%s\" (try --help)\n", argv[1]);
        return 2;
    }
    int rc = config_load(table, n, 1, argv, "wf4ctl", "WF4 operator command.");
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    s.database_url = s.admin_database_url ? s.admin_database_url : s.app_database_url;
    rc = cmd->fn(&s, argc - 1, argv + 1);
    config_free(table, n);
    return rc;
}
