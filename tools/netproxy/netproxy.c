/* A TCP proxy that injects network faults: blackholes, resets, a cut after COMMIT, latency. */
#include "netproxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NP_CHUNK 16384
#define NP_QUEUE_MAX (1 << 20) /* bytes queued one way before reading stops */
#define NP_POLL_MAX 1024

typedef struct np_chunk {
    struct np_chunk *next;
    size_t len, off;
    double release; /* monotonic seconds: not written before (latency) */
    int cut;        /* holds a COMMIT: the connection ends once it is written */
    char data[];
} np_chunk;

typedef struct np_dir { /* one way: read from fd[from], written to fd[1 - from] */
    np_chunk *head, *tail;
    size_t queued;
    double tokens, filled; /* bandwidth bucket */
} np_dir;

typedef struct np_conn {
    struct np_conn *next;
    int fd[2];      /* 0 client, 1 server */
    np_dir dir[2];  /* dir[0] client to server, dir[1] server to client */
    int connecting; /* the server side's connect is under way */
    int dead;       /* blackholed for good: never read or written again */
    int saw_word;   /* sent the armed cut's word: its next COMMIT is cut */
    int done;       /* to be closed */
} np_conn;

struct np {
    pthread_mutex_t mu;
    int lfd, cfd, port, ctl_port;
    struct sockaddr_storage target;
    socklen_t target_len;
    np_conn *conns;
    double latency_s, stall_until;
    long bandwidth;
    int cut_armed;
    char cut_word[64]; /* "": any COMMIT is cut; else only one after this word */
    unsigned long accepted, bytes, cuts, resets;
};

static double np_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int np_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Listens on 127.0.0.1:port; returns the fd, the bound port in *bound, or -1 with err. */
static int np_listen(int port, int *bound, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        np_nonblock(fd) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        snprintf(err, errlen, "listen on 127.0.0.1:%d: %s", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

np *np_new(int listen_port, const char *target_host, int target_port, int ctl_port, char *err,
           size_t errlen)
{
    np *p = calloc(1, sizeof *p);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", target_port);
    int e = p ? getaddrinfo(target_host, service, &hints, &ai) : EAI_MEMORY;
    if (e != 0) {
        snprintf(err, errlen, "target %s:%d: %s", target_host, target_port, gai_strerror(e));
        free(p);
        return NULL;
    }
    memcpy(&p->target, ai->ai_addr, ai->ai_addrlen);
    p->target_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    pthread_mutex_init(&p->mu, NULL);
    p->cfd = -1;
    p->lfd = np_listen(listen_port, &p->port, err, errlen);
    if (p->lfd >= 0 && ctl_port >= 0)
        p->cfd = np_listen(ctl_port, &p->ctl_port, err, errlen);
    if (p->lfd < 0 || (ctl_port >= 0 && p->cfd < 0)) {
        np_free(p);
        return NULL;
    }
    return p;
}

int np_port(const np *p)
{
    return p->port;
}

int np_ctl_port(const np *p)
{
    return p->ctl_port;
}

static void np_dir_free(np_dir *d)
{
    while (d->head) {
        np_chunk *c = d->head;
        d->head = c->next;
        free(c);
    }
    d->tail = NULL;
    d->queued = 0;
}

/* Closes a connection: with rst, SO_LINGER 0 makes both closes a reset. */
static void np_conn_close(np_conn *c, int rst)
{
    struct linger lg = {1, 0};
    for (int i = 0; i < 2; i++) {
        if (c->fd[i] < 0)
            continue;
        if (rst)
            (void)setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c->fd[i]);
        c->fd[i] = -1;
    }
    np_dir_free(&c->dir[0]);
    np_dir_free(&c->dir[1]);
}

static void np_accept(np *p)
{
    int cfd = accept(p->lfd, NULL, NULL);
    if (cfd < 0)
        return;
    np_conn *c = calloc(1, sizeof *c);
    int sfd = socket(p->target.ss_family, SOCK_STREAM, 0), one = 1;
    if (!c || sfd < 0 || np_nonblock(cfd) != 0 || np_nonblock(sfd) != 0) {
        close(cfd);
        if (sfd >= 0)
            close(sfd);
        free(c);
        return;
    }
    (void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd[0] = cfd;
    c->fd[1] = sfd;
    if (connect(sfd, (struct sockaddr *)&p->target, p->target_len) != 0) {
        if (errno != EINPROGRESS) {
            np_conn_close(c, 1);
            free(c);
            return;
        }
        c->connecting = 1;
    }
    c->next = p->conns;
    p->conns = c;
    p->accepted++;
}

/* Marks k to end its connection once written when it holds a COMMIT (the 7 bytes include
 * the NUL ending a simple query's text) and, with a word armed, the connection sent it. */
static void np_arm_check(np *p, np_conn *c, np_chunk *k)
{
    char *word = p->cut_word[0] ? memmem(k->data, k->len, p->cut_word, strlen(p->cut_word)) : NULL;
    char *commit = memmem(k->data, k->len, "COMMIT", 7);
    if (word)
        c->saw_word = 1;
    if (commit && (!p->cut_word[0] || (c->saw_word && (!word || word < commit)))) {
        k->cut = 1;
        p->cut_armed = 0;
    }
}

/* Reads what fd[from] has into a chunk of dir[from]. */
static void np_read(np *p, np_conn *c, int from)
{
    np_chunk *k = malloc(sizeof *k + NP_CHUNK);
    ssize_t n = k ? read(c->fd[from], k->data, NP_CHUNK) : -1;
    if (n <= 0) {
        free(k);
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            c->done = 1;
        return;
    }
    k->next = NULL;
    k->len = (size_t)n;
    k->off = 0;
    k->release = np_now() + p->latency_s;
    k->cut = 0;
    if (from == 0 && p->cut_armed)
        np_arm_check(p, c, k);
    np_dir *d = &c->dir[from];
    if (d->tail)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    d->queued += k->len;
}

/* Bytes dir may write now (bandwidth bucket, refilled at p->bandwidth per second). */
static size_t np_allowance(np *p, np_dir *d, size_t want)
{
    if (p->bandwidth <= 0)
        return want;
    double now = np_now();
    d->tokens += (now - d->filled) * (double)p->bandwidth;
    d->filled = now;
    if (d->tokens > (double)p->bandwidth / 10.0)
        d->tokens = (double)p->bandwidth / 10.0;
    return d->tokens < 1 ? 0 : (size_t)d->tokens < want ? (size_t)d->tokens : want;
}

/* Writes dir[from]'s released chunks to the other side; a written cut chunk ends it. */
static void np_write(np *p, np_conn *c, int from)
{
    np_dir *d = &c->dir[from];
    while (d->head && d->head->release <= np_now()) {
        np_chunk *k = d->head;
        size_t n = np_allowance(p, d, k->len - k->off);
        ssize_t w = n ? write(c->fd[1 - from], k->data + k->off, n) : 0;
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            c->done = 1;
        if (w <= 0)
            return;
        if (p->bandwidth > 0)
            d->tokens -= (double)w;
        p->bytes += (size_t)w;
        k->off += (size_t)w;
        d->queued -= (size_t)w;
        if (k->off < k->len)
            return;
        d->head = k->next;
        if (!d->head)
            d->tail = NULL;
        if (k->cut) {
            p->cuts++;
            c->done = 2; /* the answer to this COMMIT never goes back */
        }
        free(k);
        if (c->done)
            return;
    }
}

static int np_stalled(const np *p, const np_conn *c, double now)
{
    return c->dead || now < p->stall_until;
}

/* The poll set: the listeners, then two slots per connection that is not stalled. */
static int np_fill(np *p, struct pollfd *fds, np_conn **who, int *busy)
{
    int n = 2;
    double now = np_now();
    fds[0] = (struct pollfd){p->lfd, POLLIN, 0};
    fds[1] = (struct pollfd){p->cfd, POLLIN, 0};
    for (np_conn *c = p->conns; c && n + 2 <= NP_POLL_MAX; c = c->next) {
        if (np_stalled(p, c, now) || c->done)
            continue;
        *busy |= c->dir[0].queued > 0 || c->dir[1].queued > 0;
        for (int i = 0; i < 2; i++) {
            short ev = c->dir[i].queued < NP_QUEUE_MAX ? POLLIN : 0;
            if (c->dir[1 - i].head && c->dir[1 - i].head->release <= now)
                ev |= POLLOUT;
            if (i == 1 && c->connecting)
                ev = POLLOUT;
            fds[n] = (struct pollfd){c->fd[i], ev, 0};
            who[n++] = c;
        }
    }
    return n;
}

static void np_connected(np_conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &e, &len) != 0 || e != 0)
        c->done = 1;
    c->connecting = 0;
}

static void np_conn_events(np *p, np_conn *c, short ev0, short ev1)
{
    if (c->connecting && (ev1 & (POLLOUT | POLLERR | POLLHUP)))
        np_connected(c);
    if (ev0 & (POLLIN | POLLHUP | POLLERR))
        np_read(p, c, 0);
    if (!c->connecting && (ev1 & (POLLIN | POLLHUP | POLLERR)))
        np_read(p, c, 1);
    if (!c->connecting && !c->done)
        np_write(p, c, 0);
    if (!c->connecting && !c->done)
        np_write(p, c, 1);
}

/* Closes the connections marked done: 1 normally, 2 cut (the client gets a reset, the
 * server an orderly close after the COMMIT), 3 reset both ways. */
static void np_sweep(np *p)
{
    np_conn **pp = &p->conns;
    while (*pp) {
        np_conn *c = *pp;
        if (!c->done) {
            pp = &c->next;
            continue;
        }
        if (c->done == 2) {
            struct linger lg = {1, 0};
            (void)setsockopt(c->fd[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        np_conn_close(c, c->done == 3);
        *pp = c->next;
        free(c);
    }
}

static int np_command_locked(np *p, const char *line, char *out, size_t outlen);

/* One control connection: one command line in, one answer line out. */
static void np_control(np *p)
{
    int fd = accept(p->cfd, NULL, NULL);
    if (fd < 0)
        return;
    struct timeval tv = {1, 0};
    char line[256], out[256];
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = read(fd, line, sizeof line - 1);
    line[n > 0 ? n : 0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    (void)np_command_locked(p, line, out, sizeof out);
    size_t len = strlen(out);
    if (write(fd, out, len) != (ssize_t)len)
        fprintf(stderr, "netproxy: answer to \"%s\" not written: %s\n", line, strerror(errno));
    close(fd);
}

static void np_handle(np *p, struct pollfd *fds, np_conn **who, int n)
{
    if (fds[0].revents & POLLIN)
        np_accept(p);
    if (p->cfd >= 0 && (fds[1].revents & POLLIN))
        np_control(p);
    for (int i = 2; i + 1 < n; i += 2)
        np_conn_events(p, who[i], fds[i].revents, fds[i + 1].revents);
    np_sweep(p);
}

void np_serve(np *p, volatile int *stop)
{
    static struct pollfd fds[NP_POLL_MAX];
    static np_conn *who[NP_POLL_MAX];
    while (!*stop) {
        int busy = 0;
        pthread_mutex_lock(&p->mu);
        int n = np_fill(p, fds, who, &busy);
        pthread_mutex_unlock(&p->mu);
        if (poll(fds, (nfds_t)n, busy ? 5 : 100) < 0 && errno != EINTR) {
            fprintf(stderr, "netproxy: poll: %s\n", strerror(errno));
            return;
        }
        pthread_mutex_lock(&p->mu);
        np_handle(p, fds, who, n);
        pthread_mutex_unlock(&p->mu);
    }
}

static int np_command_locked(np *p, const char *line, char *out, size_t outlen)
{
    long v = 0;
    int count = 0;
    for (np_conn *c = p->conns; c; c = c->next)
        count += !c->done && !c->dead;
    if (strcmp(line, "blackhole") == 0) {
        for (np_conn *c = p->conns; c; c = c->next)
            c->dead = 1;
        snprintf(out, outlen, "ok blackholed %d connections\n", count);
    } else if (sscanf(line, "blackhole_all %ld", &v) == 1 && v >= 0) {
        p->stall_until = np_now() + (double)v;
        snprintf(out, outlen, "ok everything blackholed for %ld s\n", v);
    } else if (strcmp(line, "reset") == 0) {
        for (np_conn *c = p->conns; c; c = c->next)
            c->done = 3; /* closed by the serving thread: it may hold pointers to them */
        p->resets += (unsigned long)count;
        snprintf(out, outlen, "ok reset %d connections\n", count);
    } else if (strncmp(line, "cut_after_commit", 16) == 0 && (!line[16] || line[16] == ' ')) {
        snprintf(p->cut_word, sizeof p->cut_word, "%s", line[16] ? line + 17 : "");
        for (np_conn *c = p->conns; c; c = c->next)
            c->saw_word = 0;
        p->cut_armed = 1;
        snprintf(out, outlen, "ok armed%s%s\n", p->cut_word[0] ? " after " : "", p->cut_word);
    } else if (sscanf(line, "latency %ld", &v) == 1 && v >= 0) {
        p->latency_s = (double)v / 1000.0;
        snprintf(out, outlen, "ok latency %ld ms\n", v);
    } else if (sscanf(line, "bandwidth %ld", &v) == 1 && v >= 0) {
        p->bandwidth = v;
        snprintf(out, outlen, "ok bandwidth %ld B/s\n", v);
    } else if (strcmp(line, "clear") == 0) {
        p->latency_s = 0;
        p->bandwidth = 0;
        p->stall_until = 0;
        p->cut_armed = 0;
        snprintf(out, outlen, "ok cleared\n");
    } else if (strcmp(line, "stats") == 0) {
        snprintf(out, outlen, "ok connections %d accepted %lu bytes %lu cuts %lu resets %lu\n",
                 count, p->accepted, p->bytes, p->cuts, p->resets);
    } else {
        snprintf(out, outlen, "error unknown command \"%.64s\"\n", line);
        return -1;
    }
    return 0;
}

int np_command(np *p, const char *line, char *out, size_t outlen)
{
    pthread_mutex_lock(&p->mu);
    int rc = np_command_locked(p, line, out, outlen);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void np_free(np *p)
{
    if (!p)
        return;
    while (p->conns) {
        np_conn *c = p->conns;
        p->conns = c->next;
        np_conn_close(c, 1);
        free(c);
    }
    if (p->lfd >= 0)
        close(p->lfd);
    if (p->cfd >= 0)
        close(p->cfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
