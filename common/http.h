/* Health and metrics endpoint: GET /metrics, /healthz, /readyz (libmicrohttpd). */
#ifndef WF4_HTTP_H
#define WF4_HTTP_H

/* Returns 1 when the service is ready (connected to Kafka and, where used, PostgreSQL). */
typedef int (*http_ready_fn)(void *arg);

/* Starts the server on 0.0.0.0:port in its own thread (port 0: an ephemeral port).
 * Returns the bound port, or -1 (logged) on failure. One server per process. */
int http_start(int port, http_ready_fn ready, void *arg);
void http_stop(void);

#endif
