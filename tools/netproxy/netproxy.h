/* A TCP proxy that injects network faults: blackholes, resets, a cut after COMMIT, latency. */
#ifndef WF4_NETPROXY_H
#define WF4_NETPROXY_H

#include <stddef.h>

typedef struct np np;

/* A proxy from 127.0.0.1:listen_port (0: any free port) to target_host:target_port, with a
 * control port (ctl_port; 0: any free, -1: none) taking one command line per connection.
 * Returns NULL with err. */
np *np_new(int listen_port, const char *target_host, int target_port, int ctl_port, char *err,
           size_t errlen);
int np_port(const np *p);
int np_ctl_port(const np *p);

/* Runs one command and writes its answer ("ok ..." or "error ...") into out:
 *   blackhole          live connections stop forwarding (no FIN, no RST); new ones work
 *   blackhole_all S    every connection, new ones included, stops forwarding for S seconds
 *   reset              every live connection is reset (RST both ways)
 *   cut_after_commit [WORD]  the next client packet holding a COMMIT (with WORD: on a
 *                      connection that sent WORD since) is forwarded, then the
 *                      connection is closed before any answer goes back
 *   latency MS         MS of added delay each way (0: none)
 *   bandwidth B        at most B bytes/s each way per connection (0: unlimited)
 *   clear              latency, bandwidth, blackhole_all and an armed cut off
 *   stats              connections and bytes forwarded
 * Thread-safe against np_serve. Returns 0, or -1 for an unknown command. */
int np_command(np *p, const char *line, char *out, size_t outlen);

/* Serves until *stop becomes non-zero (checked every 100 ms). */
void np_serve(np *p, volatile int *stop);
void np_free(np *p);

#endif
