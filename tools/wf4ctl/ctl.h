/* wf4ctl: shared settings and the subcommand table. */
#ifndef WF4CTL_CTL_H
#define WF4CTL_CTL_H

typedef struct ctl_settings {
    char *database_url; /* WF4_ADMIN_DATABASE_URL, else WF4_DATABASE_URL */
    char *app_database_url;
    char *admin_database_url;
    char *kafka_brokers;
    char *schema_dir;
    char *registry_url;
    char *claims_topic, *results_topic, *handoff_topic; /* as the services name them */
    long lease_seconds;
    long idle_threshold_s;
    char *api_url, *api_key;           /* SCRAPERAPI_URL, SCRAPERAPI_KEY: status reads /account */
    long credits_daily, credits_floor; /* the claimers' credit budget, for status */
} ctl_settings;

typedef int (*ctl_fn)(const ctl_settings *s, int argc, char **argv);

typedef struct ctl_command {
    const char *name;
    ctl_fn fn;
    const char *usage;
} ctl_command;

/* Subcommands; each returns the process exit status. */
int ctl_migrate(const ctl_settings *s, int argc, char **argv);
int ctl_topics(const ctl_settings *s, int argc, char **argv);
int ctl_acls(const ctl_settings *s, int argc, char **argv);

/* Optional subcommands registered by other files (NULL-terminated table in ctl_ops.c). */
extern const ctl_command ctl_ops_commands[];

#endif
