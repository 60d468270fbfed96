/* wf4-inspect: command-line options (offset, time, partition, count, follow). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inspect.h"

void inspect_usage(void)
{
    printf("usage: wf4-inspect [options] TOPIC   (or -t TOPIC)\n"
           "  -o beginning|end|N|-N  start offset: first, end, absolute N, or N before the end\n"
           "                         (default beginning)\n"
           "  --since TIME           start at the first message at or after TIME\n"
           "                         (RFC 3339, e.g. 2026-11-23T10:00:00Z)\n"
           "  -p PARTITION           read one partition (default: all)\n"
           "  -c COUNT               stop after COUNT messages\n"
           "  -f, --follow           keep reading at the end (otherwise stop there)\n"
           "  -X name=value          librdkafka property\n"
           "Each message is one JSON line: topic, partition, offset, timestamp, key, headers,\n"
           "value (decoded, or {\"undecodable\": reason, \"hex\": ...}).\n\n");
}

static int args_long(const char *s, long long *out)
{
    char *end;
    *out = strtoll(s, &end, 10);
    return *s && !*end ? 0 : -1;
}

int inspect_parse_time(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int msec = 0, oh = 0, om = 0, n = 0;
    char sign = 'Z';
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    s += n;
    if (*s == '.') {
        int digits = 0;
        for (s++; *s >= '0' && *s <= '9'; s++, digits++)
            if (digits < 3)
                msec = msec * 10 + (*s - '0');
        for (; digits < 3; digits++)
            msec *= 10;
    }
    if (*s == 'Z' && s[1] == '\0') {
        sign = 'Z';
    } else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
               s[1 + n] == '\0') {
        sign = *s;
    } else {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    int64_t off = (int64_t)(oh * 3600 + om * 60) * (sign == '-' ? -1 : sign == '+' ? 1 : 0);
    *ms = ((int64_t)t - off) * 1000 + msec;
    return 0;
}

static int args_offset(const char *s, inspect_opts *o)
{
    long long v;
    if (strcmp(s, "beginning") == 0) {
        o->from = INSPECT_BEGINNING;
    } else if (strcmp(s, "end") == 0) {
        o->from = INSPECT_END;
    } else if (args_long(s, &v) == 0) {
        o->from = v < 0 ? INSPECT_TAIL : INSPECT_ABS;
        o->offset = v < 0 ? -v : v;
    } else {
        return -1;
    }
    return 0;
}

/* One option with its value; returns the number of argv slots used, or -1. */
static int args_one(int argc, char **argv, int i, inspect_opts *o)
{
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long long n;
    if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
        o->follow = 1;
        return 1;
    }
    if (!v)
        return -1;
    if (strcmp(a, "-o") == 0)
        return args_offset(v, o) == 0 ? 2 : -1;
    if (strcmp(a, "-t") == 0 && !o->topic) { /* kcat's spelling, beside the positional TOPIC */
        o->topic = v;
        return 2;
    }
    if (strcmp(a, "--since") == 0) {
        o->from = INSPECT_TIME;
        return inspect_parse_time(v, &o->offset) == 0 ? 2 : -1;
    }
    if (strcmp(a, "-p") == 0 && args_long(v, &n) == 0 && n >= 0 && n <= INT32_MAX) {
        o->partition = (int32_t)n;
        return 2;
    }
    if (strcmp(a, "-c") == 0 && args_long(v, &n) == 0 && n > 0) {
        o->count = (long)n;
        return 2;
    }
    return -1;
}

int inspect_args(int argc, char **argv, inspect_opts *o, int *cfg_argc, char **cfg_argv)
{
    *o = (inspect_opts){.from = INSPECT_BEGINNING, .partition = -1};
    *cfg_argc = 1;
    cfg_argv[0] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "--print-config") == 0) {
            cfg_argv[(*cfg_argc)++] = argv[i];
        } else if (strcmp(a, "-X") == 0 && i + 1 < argc) {
            cfg_argv[(*cfg_argc)++] = argv[i++];
            cfg_argv[(*cfg_argc)++] = argv[i];
        } else if (a[0] == '-' && a[1] != '\0') {
            int used = args_one(argc, argv, i, o);
            if (used < 0) {
                fprintf(stderr, "wf4-inspect: bad option or value at \"%s\" (try --help)\n", a);
                return -1;
            }
            i += used - 1;
        } else if (!o->topic) {
            o->topic = a;
        } else {
            fprintf(stderr, "wf4-inspect: one topic only (\"%s\")\n", a);
            return -1;
        }
    }
    cfg_argv[*cfg_argc] = NULL;
    return 0;
}
