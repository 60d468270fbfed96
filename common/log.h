/* JSON logger: one object a line on stderr, secrets redacted. */
#ifndef WF4_LOG_H
#define WF4_LOG_H

#include <stdarg.h>
#include <stddef.h>

typedef enum { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR } log_level;

/* Sets the service name and instance id written on every line and the minimum level.
 * Strings are copied. Call once at start-up, before threads start. */
void log_init(const char *service, const char *instance, log_level min_level);

/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int log_level_parse(const char *s);

/* Registers a secret (API key, password): every later log line replaces each occurrence
 * with "***". Copied; empty strings are ignored. Up to 8 secrets. */
void log_add_secret(const char *secret);

/* Writes one line {"ts","level","service","instance","msg"[,"domain_id","claim_id",
 * "trace_id"]}; trace_id (trace.h) comes with a claim_id.
 * domain_id/claim_id may be NULL. Thread-safe. */
void log_write(log_level level, const char *domain_id, const char *claim_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void log_vwrite(log_level level, const char *domain_id, const char *claim_id, const char *fmt,
                va_list ap);

/* Copies s into out (size n) with every registered secret replaced by "***". */
void log_redact(const char *s, char *out, size_t n);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, NULL, NULL, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, NULL, NULL, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, NULL, NULL, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, NULL, NULL, __VA_ARGS__)

#endif
