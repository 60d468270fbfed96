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
    {"acls", ctl_acls, "allow each service exactly its topics and group (as an administrator)"},
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
        {.env = "WF4_DATABASE_URL",
         .type = CFG_SECRET,
         .dst = &s.app_database_url,
         .help = "PostgreSQL URL of the services' role"},
        {.env = "WF4_ADMIN_DATABASE_URL",
         .type = CFG_SECRET,
         .dst = &s.admin_database_url,
         .help = "PostgreSQL URL of an admin role (migrations, doctor --fix); default "
                 "WF4_DATABASE_URL"},
        {.env = "WF4_KAFKA_BROKERS",
         .type = CFG_STR,
         .def = "127.0.0.1:9092",
         .dst = &s.kafka_brokers,
         .help = "Kafka bootstrap servers"},
        {.env = "WF4_SCHEMA_DIR",
         .type = CFG_STR,
         .def = WF4_SCHEMA_DIR_DEFAULT,
         .dst = &s.schema_dir,
         .help = "directory of the Avro schemas, migrations and topic catalogue"},
        {.env = "WF4_SCHEMA_REGISTRY_URL",
         .type = CFG_STR,
         .dst = &s.registry_url,
         .help = "schema registry (Confluent API); empty = single-object encoding"},
        {.env = "WF4_CLAIMS_TOPIC",
         .type = CFG_STR,
         .def = "wf4.domain.claims",
         .dst = &s.claims_topic,
         .help = "claims topic (trace)"},
        {.env = "WF4_RESULTS_TOPIC",
         .type = CFG_STR,
         .def = "wf4.domain.results",
         .dst = &s.results_topic,
         .help = "results topic (trace)"},
        {.env = "WF4_HANDOFF_TOPIC",
         .type = CFG_STR,
         .def = "wf5.domain.handoffs",
         .dst = &s.handoff_topic,
         .help = "WF5 handoff topic (trace)"},
        {.env = "WF4_LEASE_SECONDS",
         .type = CFG_INT,
         .def = "300",
         .min = 1,
         .max = 86400,
         .dst = &s.lease_seconds,
         .help = "claim lease used by the claimers (for reports)"},
        {.env = "WF4_IDLE_THRESHOLD_S",
         .type = CFG_INT,
         .def = "60",
         .min = 1,
         .max = 86400,
         .dst = &s.idle_threshold_s,
         .help = "idle-in-transaction age that doctor reports and --fix terminates"},
        {.env = "SCRAPERAPI_URL",
         .type = CFG_STR,
         .def = "https://api.scraperapi.com/",
         .dst = &s.api_url,
         .help = "ScraperAPI endpoint (status reads <url>/account)"},
        {.env = "SCRAPERAPI_KEY",
         .type = CFG_SECRET,
         .dst = &s.api_key,
         .help = "ScraperAPI key: when set, status shows the credits left and the budget"},
        {.env = "WF4_CREDITS_DAILY_BUDGET",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 1000000000000L,
         .dst = &s.credits_daily,
         .help = "the claimers' daily credit budget, for status (0: none)"},
        {.env = "WF4_CREDITS_FLOOR",
         .type = CFG_INT,
         .def = "0",
         .min = 0,
         .max = 1000000000000L,
         .dst = &s.credits_floor,
         .help = "the claimers' credit floor, for status (0: none)"},
    };
    size_t n = sizeof table / sizeof *table;
    log_init("wf4ctl", NULL, LOG_LEVEL_INFO);
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
