/* Health and metrics endpoint: GET /metrics, /healthz, /readyz (libmicrohttpd). */
#ifndef WF4_HTTP_H
#define WF4_HTTP_H

/* Returns 1 when the service is ready by its own account; /readyz also requires every
 * dependency of metrics_dependency_set (PostgreSQL, Kafka) to be up. /healthz is the
 * process alone. */
typedef int (*http_ready_fn)(void *arg);

/* Starts the server on 0.0.0.0:port in its own thread (port 0: an ephemeral port).
 * Returns the bound port, or -1 (logged) on failure. One server per process. */
int http_start(int port, http_ready_fn ready, void *arg);
void http_stop(void);

#endif
