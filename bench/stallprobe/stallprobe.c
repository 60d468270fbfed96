/* stallprobe: how long this machine leaves a runnable thread without a CPU.
 *
 * One thread per CPU, pinned to it, at real-time priority when allowed (SCHED_FIFO, so no
 * ordinary task can delay it): each sleeps 1 ms in a loop and records how late it woke.
 * Lateness of a real-time thread is time the CPU itself was not available (the hypervisor
 * ran something else, or the kernel did not preempt), which every transaction running at
 * that moment suffers too. Runs for the given seconds, or until SIGTERM/SIGINT, then prints
 * one JSON object: per-CPU and overall max and p99 lateness and counts over 10/30/50 ms. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np */
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX_SAMPLES 2000000

typedef struct probe_cpu {
    pthread_t t;
    int cpu;
    double *late; /* ms, one per wake-up */
    size_t n;
    int realtime;
} probe_cpu;

static atomic_int probe_stop;
static double probe_end_ms;

static double probe_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void probe_on_signal(int sig)
{
    (void)sig;
    atomic_store(&probe_stop, 1);
}

static void *probe_run(void *arg)
{
    probe_cpu *p = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p->cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        fprintf(stderr, "stallprobe: cannot pin to cpu %d\n", p->cpu);
    struct sched_param sp = {.sched_priority = 50};
    p->realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
    while (!atomic_load(&probe_stop) && probe_now_ms() < probe_end_ms && p->n < PROBE_MAX_SAMPLES) {
        double t = probe_now_ms();
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
        double late = probe_now_ms() - t - 1.0;
        p->late[p->n++] = late > 0 ? late : 0;
    }
    return NULL;
}

static int probe_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints the figures of n sorted samples as JSON members. */
static void probe_print(const double *v, size_t n)
{
    size_t over10 = 0, over30 = 0, over50 = 0;
    for (size_t i = 0; i < n; i++) {
        over10 += v[i] > 10;
        over30 += v[i] > 30;
        over50 += v[i] > 50;
    }
    printf("\"samples\": %zu, \"max_ms\": %.1f, \"p99_ms\": %.2f, \"p999_ms\": %.2f, "
           "\"over_10ms\": %zu, \"over_30ms\": %zu, \"over_50ms\": %zu",
           n, n ? v[n - 1] : 0.0, n ? v[(size_t)(0.99 * (double)(n - 1))] : 0.0,
           n ? v[(size_t)(0.999 * (double)(n - 1))] : 0.0, over10, over30, over50);
}

int main(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0 || atof(argv[1]) <= 0) {
        fprintf(stderr, "usage: stallprobe SECONDS\n"
                        "Measures how late a pinned real-time thread per CPU wakes from 1 ms "
                        "sleeps; prints JSON. Stops early on SIGTERM or SIGINT.\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1 || ncpu > 256) {
        fprintf(stderr, "stallprobe: cannot count the CPUs\n");
        return 1;
    }
    signal(SIGTERM, probe_on_signal);
    signal(SIGINT, probe_on_signal);
    probe_end_ms = probe_now_ms() + atof(argv[1]) * 1000.0;
    size_t cap = (size_t)(atof(argv[1]) * 1000.0) + 16;
    if (cap > PROBE_MAX_SAMPLES)
        cap = PROBE_MAX_SAMPLES;
    probe_cpu *cpus = calloc((size_t)ncpu, sizeof *cpus);
    if (!cpus)
        return 1;
    for (long i = 0; i < ncpu; i++) {
        cpus[i].cpu = (int)i;
        cpus[i].late = malloc(cap * sizeof(double));
        if (!cpus[i].late) {
            fprintf(stderr, "stallprobe: out of memory\n");
            return 1;
        }
        int e = pthread_create(&cpus[i].t, NULL, probe_run, &cpus[i]);
        if (e != 0) {
            fprintf(stderr, "stallprobe: pthread_create: %s\n", strerror(e));
            return 1;
        }
    }
    size_t total = 0;
    int realtime = 1;
    for (long i = 0; i < ncpu; i++) {
        pthread_join(cpus[i].t, NULL);
        total += cpus[i].n;
        realtime &= cpus[i].realtime;
    }
    double *all = malloc((total ? total : 1) * sizeof(double));
    if (!all)
        return 1;
    size_t k = 0;
    printf("{\"realtime\": %s, \"cpus\": [", realtime ? "true" : "false");
    for (long i = 0; i < ncpu; i++) {
        qsort(cpus[i].late, cpus[i].n, sizeof(double), probe_cmp);
        memcpy(all + k, cpus[i].late, cpus[i].n * sizeof(double));
        k += cpus[i].n;
        printf("%s{\"cpu\": %d, ", i ? ", " : "", cpus[i].cpu);
        probe_print(cpus[i].late, cpus[i].n);
        printf("}");
        free(cpus[i].late);
    }
    qsort(all, total, sizeof(double), probe_cmp);
    printf("], ");
    probe_print(all, total);
    printf("}\n");
    free(all);
    free(cpus);
    return 0;
}
