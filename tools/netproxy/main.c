/* wf4-netproxy: a fault-injecting TCP proxy, driven by one-line commands on a control port. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netproxy.h"

static volatile int np_stop;

static void np_on_signal(int sig)
{
    (void)sig;
    np_stop = 1;
}

static void np_usage(FILE *f)
{
    fprintf(f, "Usage: wf4-netproxy LISTEN_PORT TARGET_HOST TARGET_PORT CONTROL_PORT\n"
               "  Forwards 127.0.0.1:LISTEN_PORT to TARGET_HOST:TARGET_PORT (0: any free port)\n"
               "  and takes one command a connection on 127.0.0.1:CONTROL_PORT, e.g.\n"
               "  echo 'blackhole_all 20' >/dev/tcp/127.0.0.1/CONTROL_PORT. Commands:\n"
               "  blackhole | blackhole_all S | reset | cut_after_commit [WORD] | latency MS |\n"
               "  bandwidth BYTES_PER_S | clear | stats. Prints \"listening on port P control C\"\n"
               "  once ready; SIGTERM stops it.\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        np_usage(stdout);
        return 0;
    }
    if (argc != 5) {
        np_usage(stderr);
        return 2;
    }
    char err[256];
    np *p = np_new(atoi(argv[1]), argv[2], atoi(argv[3]), atoi(argv[4]), err, sizeof err);
    if (!p) {
        fprintf(stderr, "wf4-netproxy: %s\n", err);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = np_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("listening on port %d control %d\n", np_port(p), np_ctl_port(p));
    fflush(stdout);
    np_serve(p, &np_stop);
    np_free(p);
    return 0;
}
