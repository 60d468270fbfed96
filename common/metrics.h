/* Prometheus metrics: counters, gauges and histograms in one process-wide registry. */
#ifndef WF4_METRICS_H
#define WF4_METRICS_H

#include <stddef.h>

typedef struct metric metric;

/* Registers (or returns the existing) series. `name` may carry labels in Prometheus syntax,
 * e.g. "wf4_results_total{outcome=\"success\"}"; HELP/TYPE are written once per base name.
 * The registry owns the returned pointer; it lives until the process ends. Thread-safe. */
metric *metrics_counter(const char *name, const char *help);
metric *metrics_gauge(const char *name, const char *help);
/* buckets: ascending upper bounds (seconds or whatever unit the name says), copied. */
metric *metrics_histogram(const char *name, const char *help, const double *buckets,
                          size_t nbuckets);

void metrics_add(metric *m, double v);     /* counter/gauge += v */
void metrics_set(metric *m, double v);     /* gauge = v */
void metrics_observe(metric *m, double v); /* histogram */
double metrics_value(const metric *m);     /* counter/gauge value; histogram sum */

/* wf4_dependency_up{dependency="NAME"} (e.g. "postgresql", "kafka"): 1 reachable, 0 not.
 * The first call registers the dependency; /readyz answers not ready while any is 0. */
void metrics_dependency_set(const char *dependency, int up);
/* 1 when every dependency registered through metrics_dependency_set is up (or none is). */
int metrics_dependencies_up(void);

/* Renders the text exposition format. Returns a malloc'ed string the caller frees, or NULL. */
char *metrics_render(void);

/* Default latency buckets in seconds (0.001 .. 120). */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_nbuckets;

#endif
