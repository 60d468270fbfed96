/* The applier thread: runs one job at a time off the loop's thread. */
#include "applier.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct applier {
    applier_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *job;    /* handed, outcome not taken (loop thread only) */
    int running;  /* under mu: the thread works on job */
    int stop, rc; /* under mu */
};

static void *applier_main(void *p)
{
    applier *a = p;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->running && !a->stop)
            pthread_cond_wait(&a->cv, &a->mu);
        if (!a->running)
            break;
        void *job = a->job;
        pthread_mutex_unlock(&a->mu);
        int rc = a->fn(a->arg, job);
        pthread_mutex_lock(&a->mu);
        a->rc = rc;
        a->running = 0;
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

applier *applier_new(applier_fn fn, void *arg)
{
    applier *a = calloc(1, sizeof *a);
    if (!a) {
        log_error("out of memory for the applier");
        return NULL;
    }
    a->fn = fn;
    a->arg = arg;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    int e = pthread_create(&a->thread, NULL, applier_main, a);
    if (e != 0) {
        log_error("cannot start the applier thread: %s", strerror(e));
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return NULL;
    }
    return a;
}

int applier_hand(applier *a, void *job)
{
    if (a->job)
        return -1;
    pthread_mutex_lock(&a->mu);
    a->job = job;
    a->running = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

int applier_take(applier *a, int wait, int *rc)
{
    if (!a->job)
        return 0;
    pthread_mutex_lock(&a->mu);
    while (a->running && wait)
        pthread_cond_wait(&a->cv, &a->mu);
    int done = !a->running;
    if (done) {
        *rc = a->rc;
        a->job = NULL;
    }
    pthread_mutex_unlock(&a->mu);
    return done;
}

int applier_holds(const applier *a)
{
    return a->job != NULL;
}

void applier_free(applier *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
