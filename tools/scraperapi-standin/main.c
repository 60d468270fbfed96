/* scraperapi-standin: a local HTTP server that behaves like ScraperAPI, for tests and demos. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "standin.h"

#define STANDIN_RATE(var, field, what)                                                \
    {                                                                                 \
        .env = var, .type = CFG_DOUBLE, .def = "0", .min = 0, .max = 1,               \
        .dst = &standin_conf.field, .help = "probability (0..1) that a request " what \
    }

static standin_config standin_conf;
static standin_stats standin_counters;

static const cfg_entry standin_table[] = {
    {.env = "STANDIN_PORT",
     .type = CFG_INT,
     .def = "8099",
     .min = 0,
     .max = 65535,
     .dst = &standin_conf.port,
     .help = "TCP port (0: an ephemeral port, printed in the start-up log line)"},
    {.env = "STANDIN_API_KEY",
     .type = CFG_SECRET,
     .required = 1,
     .dst = &standin_conf.api_key,
     .help = "the API key requests must carry (api_key=...)"},
    {.env = "STANDIN_CONCURRENCY",
     .type = CFG_INT,
     .def = "200",
     .min = 1,
     .max = 1000000,
     .dst = &standin_conf.concurrency,
     .help = "plan concurrency limit: a request past it gets 429 at once"},
    {.env = "STANDIN_LATENCY_MIN_MS",
     .type = CFG_INT,
     .def = "2000",
     .min = 0,
     .max = 3600000,
     .dst = &standin_conf.latency_min_ms,
     .help = "shortest latency of a request, ms (uniform between min and max)"},
    {.env = "STANDIN_LATENCY_MAX_MS",
     .type = CFG_INT,
     .def = "3000",
     .min = 0,
     .max = 3600000,
     .dst = &standin_conf.latency_max_ms,
     .help = "longest latency of a request, ms"},
    STANDIN_RATE("STANDIN_RATE_500", rate_500, "answers 500"),
    STANDIN_RATE("STANDIN_RATE_HANG", rate_hang, "hangs for STANDIN_HANG_MS, then 500"),
    STANDIN_RATE("STANDIN_RATE_RESET", rate_reset, "has its connection reset, no response"),
    STANDIN_RATE("STANDIN_RATE_SLOW", rate_slow, "gets its body trickled at STANDIN_SLOW_BPS"),
    STANDIN_RATE("STANDIN_RATE_HUGE", rate_huge, "gets a STANDIN_HUGE_BYTES body"),
    STANDIN_RATE("STANDIN_RATE_NONHTML", rate_nonhtml, "gets a JSON, PNG or PDF body"),
    STANDIN_RATE("STANDIN_RATE_404", rate_404, "answers 404"),
    STANDIN_RATE("STANDIN_RATE_MALFORMED", rate_malformed, "gets badly broken HTML"),
    {.env = "STANDIN_HANG_MS",
     .type = CFG_INT,
     .def = "90000",
     .min = 0,
     .max = 86400000,
     .dst = &standin_conf.hang_ms,
     .help = "how long a hanging request sleeps, ms (past the client's 70 s timeout)"},
    {.env = "STANDIN_HUGE_BYTES",
     .type = CFG_INT,
     .def = "20971520",
     .min = 1,
     .max = 4294967296L,
     .dst = &standin_conf.huge_bytes,
     .help = "size of a huge body, bytes"},
    {.env = "STANDIN_SLOW_BPS",
     .type = CFG_INT,
     .def = "1024",
     .min = 4,
     .max = 100000000,
     .dst = &standin_conf.slow_bps,
     .help = "speed of a trickled body, bytes per second"},
    {.env = "STANDIN_SEED",
     .type = CFG_INT,
     .def = "-1",
     .min = -1,
     .max = 9223372036854775807L,
     .dst = &standin_conf.seed,
     .help = "seed of the random stream (-1: from the clock)"},
    {.env = "STANDIN_CORPUS_DIR",
     .type = CFG_STR,
     .dst = &standin_conf.corpus_dir,
     .help = "directory of pages: <dir>/<host>.html is served when it exists"},
    {.env = "STANDIN_REQUEST_LIMIT",
     .type = CFG_INT,
     .def = "1000000",
     .min = 0,
     .max = 9223372036854775807L,
     .dst = &standin_conf.request_limit,
     .help = "credits in the account (a plain call costs 1); past them a call gets 403"},
    {.env = "STANDIN_WALLS",
     .type = CFG_STR,
     .def = "",
     .dst = &standin_conf.walls,
     .help = "protected sites: PATTERN=KIND:TIER,... (host glob; KIND cloudflare, captcha, "
             "forbidden or empty; TIER render, premium, ultra_premium or never: the wall is "
             "served below it)"},
    {.env = "STANDIN_LOG_REQUESTS",
     .type = CFG_BOOL,
     .def = "0",
     .dst = &standin_conf.log_requests,
     .help = "log one line per scrape request"},
    {.env = "STANDIN_MAX_CONNECTIONS",
     .type = CFG_INT,
     .def = "4000",
     .min = 1,
     .max = 1000000,
     .dst = &standin_conf.max_connections,
     .help = "open connections accepted (one thread each)"},
    {.env = "STANDIN_LOG_LEVEL",
     .type = CFG_STR,
     .def = "info",
     .dst = &standin_conf.log_level,
     .help = "debug, info, warn or error"},
};
#define STANDIN_NTABLE (sizeof standin_table / sizeof standin_table[0])

/* One thread and one descriptor per connection: lift the soft descriptor limit. */
static void standin_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log_warn("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < standin_conf.max_connections + 64)
        log_warn("open file limit %ld is below STANDIN_MAX_CONNECTIONS=%ld", (long)rl.rlim_cur,
                 standin_conf.max_connections);
}

static int standin_check(void)
{
    int level = log_level_parse(standin_conf.log_level);
    if (level < 0) {
        fprintf(stderr, "STANDIN_LOG_LEVEL: \"%s\" is not debug, info, warn or error\n",
                standin_conf.log_level);
        return -1;
    }
    log_init("scraperapi-standin", NULL, (log_level)level);
    char err[512];
    if (tier_walls_init(standin_conf.walls, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (standin_conf.latency_max_ms < standin_conf.latency_min_ms) {
        fprintf(stderr, "STANDIN_LATENCY_MAX_MS (%ld) is below STANDIN_LATENCY_MIN_MS (%ld)\n",
                standin_conf.latency_max_ms, standin_conf.latency_min_ms);
        return -1;
    }
    if (standin_conf.seed < 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        standin_conf.seed = (long)(standin_mix((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec ^
                                               ((uint64_t)getpid() << 32)) >>
                                   1);
    }
    return 0;
}

/* Blocks SIGINT/SIGTERM in every thread (MHD's inherit the mask) and ignores SIGPIPE. */
static int standin_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, set, NULL);
    if (rc != 0) {
        log_error("pthread_sigmask: %s", strerror(rc));
        return -1;
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_error("signal(SIGPIPE): %s", strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int status = EXIT_FAILURE, sig = 0;
    sigset_t set;
    int rc = config_load(
        standin_table, STANDIN_NTABLE, argc, argv, "scraperapi-standin",
        "A local stand-in for ScraperAPI: GET /?api_key=K&url=U answers after "
        "a latency with a page generated from U's host (or failures, at the "
        "configured rates).\nTiers: render=true 10 credits, premium=true 10 (25 with "
        "render), ultra_premium=true 30 (75 with render), else 1; max_cost=N "
        "refuses a costlier call (403); the cost is in the sa-credit-cost "
        "header.\nAlso GET /account, /stats, /stats/reset, /healthz, and "
        "/control/credits?limit=N|add=N to change the account's credits."
        "\nHosts named notfound-*, error500-*, hang-*, reset-*, slow-*, huge-*, "
        "nonhtml-*, malformed-* always get that behaviour; wall-KIND-TIER-* "
        "(e.g. wall-captcha-premium-x.test) show a bot wall below TIER; "
        "costly-* cost 25 times the list price; flaky-* gets a 500 the first "
        "time, then pages.");
    if (rc != 0) {
        status = rc > 0 ? EXIT_SUCCESS : 2;
        goto done;
    }
    if (standin_check() != 0) {
        status = 2;
        goto done;
    }
    standin_raise_nofile();
    if (standin_signals(&set) != 0)
        goto done;
    int port = standin_server_start(&standin_conf, &standin_counters);
    if (port < 0)
        goto done;
    log_info("listening on port %d (concurrency %ld, latency %ld-%ld ms, request limit %ld, "
             "seed %ld)",
             port, standin_conf.concurrency, standin_conf.latency_min_ms,
             standin_conf.latency_max_ms, standin_conf.request_limit, standin_conf.seed);
    rc = sigwait(&set, &sig);
    if (rc != 0)
        log_error("sigwait: %s", strerror(rc));
    log_info("stopping (signal %d)", sig);
    standin_server_stop();
    status = EXIT_SUCCESS;
done:
    config_free(standin_table, STANDIN_NTABLE);
    return status;
}
