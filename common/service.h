/* Service plumbing shared by the three executables: instance id, signals, clock. */
#ifndef WF4_SERVICE_H
#define WF4_SERVICE_H

#include <signal.h>
#include <stdint.h>

/* Set to 0 by SIGTERM/SIGINT once service_signals() has been called. */
extern volatile sig_atomic_t service_running;

/* Installs SIGTERM/SIGINT handlers that clear service_running; ignores SIGPIPE. */
void service_signals(void);

/* Writes "<hostname>-<pid>" into buf when id is NULL or empty, else copies id. */
void service_instance_id(const char *id, char *buf, size_t n);

/* Wall clock in Unix epoch milliseconds; monotonic clock in milliseconds. */
int64_t service_now_ms(void);
int64_t service_mono_ms(void);

#endif
