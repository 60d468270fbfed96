/* Configuration: one table per executable, read from the environment, drives --help. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define CONFIG_MAX_PROPS 64
#define CONFIG_MAX_SECRET_FILE (64 * 1024) /* bytes read from a <VAR>_FILE */

static char *config_prop_names[CONFIG_MAX_PROPS];
static char *config_prop_values[CONFIG_MAX_PROPS];
static size_t config_nprops;

static const char *const config_type_names[] = {"string", "secret", "integer", "boolean", "number"};

static void config_usage(const cfg_entry *t, size_t n, const char *prog, const char *summary)
{
    printf("Usage: %s [--help] [--print-config] [-X kafka.property=value ...]\n\n%s\n\n"
           "Settings (environment variables):\n",
           prog, summary);
    for (size_t i = 0; i < n; i++) {
        printf("  %-32s %s%s\n", t[i].env, t[i].help, t[i].required ? " (required)" : "");
        printf("  %-32s   %s, default: %s\n", "", config_type_names[t[i].type],
               t[i].def ? (t[i].type == CFG_SECRET && *t[i].def ? "***" : t[i].def) : "(none)");
    }
    printf("  %-32s %s\n", "WF4_KAFKA_PROPS",
           "extra librdkafka properties, \"name=value,name=value\" (same as -X)");
    printf("  %-32s %s\n", "WF4_KAFKA_PASSWORD",
           "the SASL password (librdkafka sasl.password), masked in every dump");
    printf("\nEvery secret (and WF4_KAFKA_PASSWORD) can come from a file instead: <VAR>_FILE=path "
           "(Docker secrets; one trailing newline dropped).\n");
}

/* A Kafka property whose value must never be shown (passwords, keys, secrets). */
static int config_prop_is_secret(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret") || strcmp(name, "ssl.key.pem") == 0 ||
           strcmp(name, "sasl.oauthbearer.config") == 0;
}

static int config_add_prop(const char *spec, const char *origin)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) {
        fprintf(stderr, "%s: expected name=value, got \"%s\"\n", origin, spec);
        return -1;
    }
    if (config_nprops >= CONFIG_MAX_PROPS) {
        fprintf(stderr, "%s: too many Kafka properties (max %d)\n", origin, CONFIG_MAX_PROPS);
        return -1;
    }
    config_prop_names[config_nprops] = strndup(spec, (size_t)(eq - spec));
    config_prop_values[config_nprops] = strdup(eq + 1);
    if (!config_prop_names[config_nprops] || !config_prop_values[config_nprops])
        return -1;
    if (config_prop_is_secret(config_prop_names[config_nprops]) && eq[1])
        log_add_secret(eq + 1);
    config_nprops++;
    return 0;
}

/* Reads a secret from path into a new string (one trailing newline, or CRLF, dropped);
 * NULL after printing the error naming var. */
static char *config_read_secret_file(const char *var, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open \"%s\": %s\n", var, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CONFIG_MAX_SECRET_FILE + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_MAX_SECRET_FILE + 1, f) : 0;
    int bad = !buf || ferror(f) || n > CONFIG_MAX_SECRET_FILE;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read \"%s\" (%s)\n", var, path,
                n > CONFIG_MAX_SECRET_FILE ? "larger than 64 KiB" : "read error");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return buf;
}

/* The value of a secret: $var, or the contents of the file named by $var_FILE (both set is
 * an error). *out is NULL when neither is set; *owned is the string to free. */
static int config_secret_value(const char *var, const char **out, char **owned)
{
    char fvar[256];
    const char *v = getenv(var), *path;
    *out = v && *v ? v : NULL;
    *owned = NULL;
    snprintf(fvar, sizeof fvar, "%s_FILE", var);
    path = getenv(fvar);
    if (!path || !*path)
        return 0;
    if (*out) {
        fprintf(stderr, "%s and %s are both set: give one\n", var, fvar);
        return -1;
    }
    if (!(*owned = config_read_secret_file(fvar, path)))
        return -1;
    *out = *owned;
    return 0;
}

/* WF4_KAFKA_PASSWORD (or its _FILE) becomes sasl.password, unless -X or WF4_KAFKA_PROPS set it. */
static int config_kafka_password(void)
{
    const char *v;
    char *owned, *spec;
    if (config_secret_value("WF4_KAFKA_PASSWORD", &v, &owned) != 0)
        return -1;
    for (size_t i = 0; v && i < config_nprops; i++)
        if (strcmp(config_prop_names[i], "sasl.password") == 0)
            v = NULL;
    int rc = 0;
    if (v) {
        rc = -1;
        if ((spec = malloc(strlen(v) + sizeof "sasl.password="))) {
            strcpy(spec, "sasl.password=");
            strcat(spec, v);
            rc = config_add_prop(spec, "WF4_KAFKA_PASSWORD");
            free(spec);
        }
    }
    free(owned);
    return rc;
}

static int config_parse_props_env(void)
{
    const char *env = getenv("WF4_KAFKA_PROPS");
    if (!env || !*env)
        return 0;
    char *copy = strdup(env), *save = NULL;
    int rc = 0;
    if (!copy)
        return -1;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (*tok && config_add_prop(tok, "WF4_KAFKA_PROPS") != 0)
            rc = -1;
    free(copy);
    return rc;
}

static int config_parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* Parses one entry's text value into dst; prints the error naming the variable. */
static int config_set(const cfg_entry *e, const char *v)
{
    char *end = NULL;
    switch (e->type) {
    case CFG_STR:
    case CFG_SECRET: {
        char **dst = e->dst;
        free(*dst);
        *dst = v ? strdup(v) : NULL;
        if (v && !*dst)
            return -1;
        if (e->type == CFG_SECRET && v)
            log_add_secret(v);
        return 0;
    }
    case CFG_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || (e->min <= e->max && (x < e->min || x > e->max))) {
            fprintf(stderr, "%s: \"%s\" is not an integer in [%ld, %ld]\n", e->env, v, e->min,
                    e->max);
            return -1;
        }
        *(long *)e->dst = x;
        return 0;
    }
    case CFG_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end ||
            (e->min <= e->max && (x < (double)e->min || x > (double)e->max))) {
            fprintf(stderr, "%s: \"%s\" is not a number in [%ld, %ld]\n", e->env, v, e->min,
                    e->max);
            return -1;
        }
        *(double *)e->dst = x;
        return 0;
    }
    case CFG_BOOL:
        if (config_parse_bool(v, e->dst) != 0) {
            fprintf(stderr, "%s: \"%s\" is not a boolean (true/false, 1/0, yes/no)\n", e->env, v);
            return -1;
        }
        return 0;
    }
    return -1;
}

static void config_print(const cfg_entry *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cfg_entry *e = &t[i];
        switch (e->type) {
        case CFG_STR: printf("%s=%s\n", e->env, *(char **)e->dst ? *(char **)e->dst : ""); break;
        case CFG_SECRET:
            printf("%s=%s\n", e->env, *(char **)e->dst && **(char **)e->dst ? "***" : "");
            break;
        case CFG_INT: printf("%s=%ld\n", e->env, *(long *)e->dst); break;
        case CFG_DOUBLE: printf("%s=%g\n", e->env, *(double *)e->dst); break;
        case CFG_BOOL: printf("%s=%s\n", e->env, *(int *)e->dst ? "true" : "false"); break;
        }
    }
    for (size_t i = 0; i < config_nprops; i++)
        printf("kafka: %s=%s\n", config_prop_names[i],
               config_prop_is_secret(config_prop_names[i]) ? "***" : config_prop_values[i]);
}

static int config_fill(const cfg_entry *t, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(t[i].env);
        char *owned = NULL;
        if (v && !*v)
            v = NULL;
        if (t[i].type == CFG_SECRET && config_secret_value(t[i].env, &v, &owned) != 0) {
            rc = -1;
            continue;
        }
        if (!v && t[i].required && !t[i].def) {
            fprintf(stderr, "%s: required setting is missing\n", t[i].env);
            rc = -1;
            continue;
        }
        if (!v)
            v = t[i].def;
        if (!v && (t[i].type == CFG_STR || t[i].type == CFG_SECRET)) {
            *(char **)t[i].dst = NULL;
            continue;
        }
        if (v && config_set(&t[i], v) != 0)
            rc = -1;
        free(owned);
    }
    return rc;
}

/* The command line: 1 after --help, -1 on a bad option, else 0 (*print set by
 * --print-config). */
static int config_args(const cfg_entry *table, size_t n, int argc, char **argv, const char *prog,
                       const char *summary, int *print)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_usage(table, n, prog, summary);
            return 1;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            *print = 1;
        } else if (strcmp(argv[i], "-X") == 0 && i + 1 < argc) {
            if (config_add_prop(argv[++i], "-X") != 0)
                return -1;
        } else {
            fprintf(stderr, "%s: unknown option \"%s\" (try --help)\n", prog, argv[i]);
            return -1;
        }
    }
    return 0;
}

int config_load(const cfg_entry *table, size_t n, int argc, char **argv, const char *prog,
                const char *summary)
{
    int print = 0, rc = config_args(table, n, argc, argv, prog, summary, &print);
    if (rc == 0 && (config_parse_props_env() != 0 || config_kafka_password() != 0 ||
                    config_fill(table, n) != 0))
        rc = -1;
    if (rc == 0 && print) {
        config_print(table, n);
        rc = 1;
    }
    /* The caller exits at once on anything but 0: nothing parsed may be left behind. */
    if (rc != 0)
        config_free(table, n);
    return rc;
}

size_t config_kafka_props(const char *const **names, const char *const **values)
{
    *names = (const char *const *)config_prop_names;
    *values = (const char *const *)config_prop_values;
    return config_nprops;
}

void config_free(const cfg_entry *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].type == CFG_STR || table[i].type == CFG_SECRET) {
            free(*(char **)table[i].dst);
            *(char **)table[i].dst = NULL;
        }
    for (size_t i = 0; i < config_nprops; i++) {
        free(config_prop_names[i]);
        free(config_prop_values[i]);
    }
    config_nprops = 0;
}
