/* The applier thread: runs one job at a time off the loop's thread (the committer's
 * database transactions), so that the loop consumes the next batch meanwhile. */
#ifndef WF4_APPLIER_H
#define WF4_APPLIER_H

/* The work: runs in the applier thread; its return value is the job's outcome. */
typedef int (*applier_fn)(void *arg, void *job);

typedef struct applier applier;

/* Starts the thread. Returns NULL (logged) on failure. */
applier *applier_new(applier_fn fn, void *arg);

/* Hands job to the idle thread (the caller owns job and leaves it alone until
 * applier_take returns 1). Returns 0, or -1 when a job is still handed. */
int applier_hand(applier *a, void *job) __attribute__((warn_unused_result));

/* Takes the outcome of the handed job: 1 with *rc set once it is done (waiting for it when
 * wait), 0 while it runs (wait 0) or when nothing is handed. */
int applier_take(applier *a, int wait, int *rc);

/* 1 while a job is handed and its outcome not yet taken. */
int applier_holds(const applier *a);

/* Stops the thread once the job in hand, if any, is done (its outcome is dropped). */
void applier_free(applier *a);

#endif
