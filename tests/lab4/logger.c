/* logger.c - lab 4, RIGHT, in another style: an access-log thread, started at start-up, writes one
 * line per request to stderr (no socket I/O outside the loop).
 *
 * Written by a session's attacker (session 6), who found the grader failed structure (io-outside-
 * loop: /proc counted the log's writes with the loop's).
 * Must pass every check.
 *
 * See also: tests/check_lab4.c (row logger), solutions/lab4/server.c.
 */
#define _GNU_SOURCE


#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 1024          /* bytes before the '\n' */
#define MAX_WORKERS 64
#define MAX_SLEEP_MS 60000
#define MAX_COLLATZ 2000000000LL
#define MAX_SPAN 100000000LL

/* --- GIVEN: arguments, the listening socket, Collatz, the clock ------------------------ */

/* A decimal integer in [lo, hi], all of s, digits only ("12", not "+12", "1x", "-1", ""). */
static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
    long long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
        if (v > hi)
            return false;
    }
    if (v < lo)
        return false;
    *out = v;
    return true;
}

static void usage(const char *why)
{
    fprintf(stderr, "server: %s\nusage: server [PORT [WORKERS]]  (0 <= PORT <= 65535, 1 <= WORKERS <= %d)\n",
            why, MAX_WORKERS);
    exit(2);
}

/* Listens on 127.0.0.1:port; returns the socket (non-blocking) and the real port. */
static int listen_on(int port, int *real)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    *real = ntohs(a.sin_port);
    return fd;
}

/* Steps from n to 1 (n -> n/2 if even, else 3n+1); steps(1) = 0. */
static uint64_t collatz_steps(uint64_t n)
{
    uint64_t steps = 0;
    while (n != 1) {
        n = n % 2 == 0 ? n / 2 : 3 * n + 1;
        steps++;
    }
    return steps;
}

/* Steps summed over a..b-1: the COLLATZ reply's S. CPU-bound (about 0.25 s
 * for a million numbers near 10^8). Checks *stop every 1024 numbers and
 * returns early (the result then means nothing) once it is set, so that a
 * worker thread can be stopped within a second; stop may be NULL. */
static uint64_t collatz_sum(uint64_t a, uint64_t b, const atomic_bool *stop)
{
    uint64_t sum = 0;
    for (uint64_t n = a; n < b; n++) {
        if (n % 1024 == 0 && stop && atomic_load_explicit(stop, memory_order_relaxed))
            break;
        sum += collatz_steps(n);
    }
    return sum;
}

/* Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options (set before this file):
 *  SIGIO_LOOP  1: no select/poll/epoll at all: O_ASYNC sockets, the loop waits in sigtimedwait
 *  INLOOP      1: the loop thread computes COLLATZ jobs itself in 2 ms slices; WORKERS-1 threads
 */
#ifndef SIGIO_LOOP
#define SIGIO_LOOP 0
#endif
#ifndef INLOOP
#define INLOOP 0
#endif
#include <sys/syscall.h>
#ifndef FAKE_SERIAL
#define FAKE_SERIAL 0
#endif
#ifndef PROC_WORKERS
#define PROC_WORKERS 0
#endif
#include <sys/wait.h>
#ifndef WRONG_BIG
#define WRONG_BIG 0
#endif

#define MAXC 2048
#define OUTSZ 256

static unsigned long long served;

struct conn {
    int fd;
    unsigned gen;
    char in[MAX_LINE + 8];
    size_t inlen;
    bool skipping;      /* discarding an over-long line until its '\n' */
    bool waiting;       /* a reply is owed (timer or job) */
    char out[OUTSZ];
    size_t outlen, outoff;
};
static struct conn *conns[MAXC];
static int nconns;

struct timer {
    double due;
    int ci;
    unsigned gen;
    long long ms;
};
static struct timer *timers;
static size_t ntimers, captimers;

struct job {
    struct job *next;
    int ci;
    unsigned gen;
    unsigned long long a, b, s;
    double arrived;
};
#if FAKE_SERIAL
static atomic_int outstanding;
static double arrivals[64];
static unsigned narr;
#endif
static struct job *qhead, *qtail, *done_head;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static atomic_bool stop_flag;
static pthread_t tids[MAX_WORKERS];
static int nworkers;
static int donep[2] = {-1, -1}, sigp[2] = {-1, -1};
static unsigned gen_counter = 1;
struct logent {
    struct logent *next;
    char text[80];
};
static struct logent *lhead, *ltail;
static pthread_mutex_t llock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lcond = PTHREAD_COND_INITIALIZER;
static bool lstop;
static pthread_t ltid;
static void *logger(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&llock);
        while (!lhead && !lstop)
            pthread_cond_wait(&lcond, &llock);
        struct logent *e = lhead;
        if (!e) {
            pthread_mutex_unlock(&llock);
            return NULL;
        }
        lhead = e->next;
        if (!lhead)
            ltail = NULL;
        pthread_mutex_unlock(&llock);
        ssize_t r = write(2, e->text, strlen(e->text));
        (void)r;
        free(e);
    }
}
static void log_line(const char *line)
{
    struct logent *e = malloc(sizeof *e);
    e->next = NULL;
    snprintf(e->text, sizeof e->text, "server: request \"%.50s\"\n", line);
    pthread_mutex_lock(&llock);
    if (ltail)
        ltail->next = e;
    else
        lhead = e;
    ltail = e;
    pthread_cond_signal(&lcond);
    pthread_mutex_unlock(&llock);
}

#if SIGIO_LOOP
static void set_async(int fd)
{
    fcntl(fd, F_SETOWN, getpid());
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK | O_ASYNC);
}
#endif

static void post_done(struct job *j)
{
    pthread_mutex_lock(&qlock);
    j->next = done_head;
    done_head = j;
    pthread_mutex_unlock(&qlock);
    char c = 1;
    ssize_t r = write(donep[1], &c, 1);
    (void)r;
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (!qhead && !atomic_load(&stop_flag))
            pthread_cond_wait(&qcond, &qlock);
        if (atomic_load(&stop_flag)) {
            pthread_mutex_unlock(&qlock);
            return NULL;
        }
        struct job *j = qhead;
        qhead = j->next;
        if (!qhead)
            qtail = NULL;
        pthread_mutex_unlock(&qlock);
#if FAKE_SERIAL
        double t0 = now();
#endif
        j->s = collatz_sum(j->a, j->b, &stop_flag);
#if WRONG_BIG
        if (j->b - j->a > 100000)
            j->s += 1;
#endif
#if FAKE_SERIAL
        {
            double t1 = now();
            int near = 0;
            pthread_mutex_lock(&qlock);
            for (unsigned k = 0; k < 64 && k < narr; k++)
                near += arrivals[k] >= j->arrived - 0.2 && arrivals[k] <= t1;
            pthread_mutex_unlock(&qlock);
            if (near <= 1 && t1 - t0 > 0.02) { /* alone: look slow */
                double d = t1 - t0;
                struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
                nanosleep(&ts, NULL);
            }
            atomic_fetch_sub(&outstanding, 1);
        }
#endif
        if (atomic_load(&stop_flag)) {
            free(j);
            return NULL;
        }
        post_done(j);
    }
}

#if FAKE_SERIAL
static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_flag)) {
        if (atomic_load(&outstanding) >= 2) {
            double t0 = now();
            while (now() - t0 < 0.001)
                ;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}
#endif
static void reply(int i, const char *fmt, ...);
#if PROC_WORKERS
struct rec {
    int ci;
    unsigned gen;
    unsigned long long a, b, s;
};
static int jobp[2] = {-1, -1}, g_lfd = -1;
static pid_t kids[MAX_WORKERS];
static int nkids;
static void kid_term(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, true);
}
static void kid_main(void)
{
    struct sigaction sa = {.sa_handler = kid_term};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    int fl = fcntl(jobp[0], F_GETFL);
    fcntl(jobp[0], F_SETFL, fl & ~O_NONBLOCK);
    for (;;) {
        struct rec r;
        ssize_t n = read(jobp[0], &r, sizeof r);
        if (n != (ssize_t)sizeof r || atomic_load(&stop_flag))
            break;
        r.s = collatz_sum(r.a, r.b, &stop_flag);
        if (atomic_load(&stop_flag))
            break;
        if (write(donep[1], &r, sizeof r) < 0)
            break;
    }
    close(jobp[0]);
    close(donep[1]);
    _exit(0);
}
static bool start_workers(int n)
{
    if (pipe2(jobp, O_CLOEXEC) < 0 || pipe2(donep, O_CLOEXEC) < 0)
        return false;
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0)
            return false;
        if (p == 0) {
            if (g_lfd >= 0)
                close(g_lfd);
            close(jobp[1]);
            close(donep[0]);
            kid_main();
        }
        kids[nkids++] = p;
    }
    close(jobp[0]);
    close(donep[1]);
    jobp[0] = donep[1] = -1;
    fcntl(jobp[1], F_SETFL, O_NONBLOCK);
    fcntl(donep[0], F_SETFL, O_NONBLOCK);
    return true;
}
static void enqueue(int ci, long long a, long long b)
{
    struct rec r = {ci, conns[ci]->gen, (unsigned long long)a, (unsigned long long)b, 0};
    conns[ci]->waiting = true;
    if (write(jobp[1], &r, sizeof r) != (ssize_t)sizeof r) {
        conns[ci]->waiting = false;
        reply(ci, "ERR busy");
    }
}
#else
static bool start_workers(int n)
{
    if (pipe2(donep, O_CLOEXEC | O_NONBLOCK) < 0)
        return false;
#if SIGIO_LOOP
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    set_async(donep[0]);
#endif
    if (pthread_create(&ltid, NULL, logger, NULL) != 0)
        return false;
    int make = INLOOP ? n - 1 : n;
    for (int i = 0; i < make; i++) {
#if FAKE_SERIAL
        if (pthread_create(&tids[i], NULL, i > 0 ? spinner : worker, NULL) != 0)
#else
        if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
#endif
            return false;
        nworkers++;
    }
    return true;
}
#endif

static void conn_close(int i)
{
    close(conns[i]->fd);
    free(conns[i]);
    conns[i] = NULL;
}

static void reply(int i, const char *fmt, ...)
{
    struct conn *c = conns[i];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->out + c->outlen, OUTSZ - c->outlen - 1, fmt, ap);
    va_end(ap);
    c->outlen += (size_t)n;
    c->out[c->outlen++] = '\n';
}

static void add_timer(int ci, long long ms)
{
    if (ntimers == captimers) {
        captimers = captimers ? captimers * 2 : 64;
        timers = realloc(timers, captimers * sizeof *timers);
    }
    timers[ntimers++] = (struct timer){now() + ms / 1000.0, ci, conns[ci]->gen, ms};
}

static bool split(char *line, char **w, int max, int *n)
{
    *n = 0;
    char *s = line;
    for (;;) {
        if (*n == max)
            return false;
        w[(*n)++] = s;
        char *sp = strchr(s, ' ');
        if (!sp)
            return true;
        *sp = '\0';
        s = sp + 1;
    }
}

static void handle_line(int ci, char *line)
{
    log_line(line);
    char *w[4];
    int n;
    if (!split(line, w, 4, &n)) {
        reply(ci, "ERR too many words");
        return;
    }
    long long a, b;
    if (!strcmp(w[0], "PING")) {
        if (n != 1)
            reply(ci, "ERR PING takes no argument");
        else
            reply(ci, "PONG");
    } else if (!strcmp(w[0], "SLEEP")) {
        if (n != 2 || !parse_int(w[1], 0, MAX_SLEEP_MS, &a))
            reply(ci, "ERR usage: SLEEP MS");
        else {
            conns[ci]->waiting = true;
            add_timer(ci, a);
        }
    } else if (!strcmp(w[0], "COLLATZ")) {
        if (n != 3 || !parse_int(w[1], 1, MAX_COLLATZ, &a) || !parse_int(w[2], 1, MAX_COLLATZ, &b) || a >= b ||
            b - a > MAX_SPAN)
            reply(ci, "ERR usage: COLLATZ A B");
#if PROC_WORKERS
        else
            enqueue(ci, a, b);
#else
        else {
            struct job *j = calloc(1, sizeof *j);
            j->ci = ci;
            j->gen = conns[ci]->gen;
            j->a = (unsigned long long)a;
            j->b = (unsigned long long)b;
            conns[ci]->waiting = true;
            j->arrived = now();
            pthread_mutex_lock(&qlock);
#if FAKE_SERIAL
            arrivals[narr++ % 64] = j->arrived;
            atomic_fetch_add(&outstanding, 1);
#endif
            if (qtail)
                qtail->next = j;
            else
                qhead = j;
            qtail = j;
            pthread_cond_signal(&qcond);
            pthread_mutex_unlock(&qlock);
        }
#endif
    } else {
        reply(ci, "ERR unknown request");
    }
}

/* Lines in the buffer, while no reply is owed. */
static void process(int ci)
{
    struct conn *c = conns[ci];
    while (!c->waiting && c->outlen == 0) {
        char *nl = memchr(c->in, '\n', c->inlen);
        if (!nl) {
            if (c->inlen > MAX_LINE) {
                if (!c->skipping)
                    reply(ci, "ERR line too long");
                c->skipping = true;
                c->inlen = 0;
            }
            return;
        }
        *nl = '\0';
        size_t len = (size_t)(nl - c->in);
        if (c->skipping || len > MAX_LINE) {
            if (!c->skipping)
                reply(ci, "ERR line too long");
            c->skipping = false;
        } else {
            handle_line(ci, c->in);
        }
        memmove(c->in, nl + 1, c->inlen - len - 1);
        c->inlen -= len + 1;
    }
}

/* Writes what is owed; false if the connection is gone. */
static bool flush(int ci)
{
    struct conn *c = conns[ci];
    while (c->outoff < c->outlen) {
        ssize_t r = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        c->outoff += (size_t)r;
    }
    if (c->outlen) {
        served++;
        c->outlen = c->outoff = 0;
    }
    return true;
}

/* Reads what is there; false if the connection is gone. */
static bool readin(int ci)
{
    struct conn *c = conns[ci];
    for (;;) {
        size_t room = sizeof c->in - 1 - c->inlen;
        if (room == 0) {
            process(ci);
            room = sizeof c->in - 1 - c->inlen;
            if (room == 0)
                return true; /* owed a reply: wait */
        }
        ssize_t r = read(c->fd, c->in + c->inlen, room);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        c->inlen += (size_t)r;
        process(ci);
    }
}

static void service(int ci)
{
    if (!readin(ci) || (process(ci), !flush(ci))) {
        conn_close(ci);
        return;
    }
    process(ci);
    if (!flush(ci))
        conn_close(ci);
}

static void do_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int i = 0;
        while (i < MAXC && conns[i])
            i++;
        if (i == MAXC) {
            close(fd);
            continue;
        }
#if SIGIO_LOOP
        set_async(fd);
#endif
        conns[i] = calloc(1, sizeof *conns[i]);
        conns[i]->fd = fd;
        conns[i]->gen = gen_counter++;
        if (i >= nconns)
            nconns = i + 1;
        service(i); /* data may already be there (SIGIO before F_SETOWN) */
    }
}

static void deliver(int ci, unsigned gen, void (*fill)(int, void *), void *arg)
{
    if (ci < 0 || ci >= nconns || !conns[ci] || conns[ci]->gen != gen)
        return;
    conns[ci]->waiting = false;
    fill(ci, arg);
    service(ci);
}
static void fill_timer(int ci, void *arg)
{
    reply(ci, "SLEPT %lld", *(long long *)arg);
}
static void fill_job(int ci, void *arg)
{
    struct job *j = arg;
    reply(ci, "COLLATZ %llu %llu %llu", j->a, j->b, j->s);
}

#if PROC_WORKERS
static void take_done(void)
{
    struct rec r;
    while (read(donep[0], &r, sizeof r) == (ssize_t)sizeof r) {
        struct job j = {.a = r.a, .b = r.b, .s = r.s};
        deliver(r.ci, r.gen, fill_job, &j);
    }
}
#else
static void take_done(void)
{
    char buf[256];
    while (read(donep[0], buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&qlock);
    struct job *d = done_head;
    done_head = NULL;
    pthread_mutex_unlock(&qlock);
    while (d) {
        struct job *next = d->next;
        deliver(d->ci, d->gen, fill_job, d);
        free(d);
        d = next;
    }
}
#endif

static double fire_timers(void)
{
    double t = now(), nearest = -1;
    for (size_t i = 0; i < ntimers;) {
        if (timers[i].due <= t) {
            struct timer tm = timers[i];
            timers[i] = timers[--ntimers];
            deliver(tm.ci, tm.gen, fill_timer, &tm.ms);
            t = now();
            continue;
        }
        if (nearest < 0 || timers[i].due < nearest)
            nearest = timers[i].due;
        i++;
    }
    return nearest;
}

#if INLOOP
static struct job *mine;         /* the job the loop computes itself */
static unsigned long long mine_n, mine_sum;
/* Computes ~2 ms of the loop's own job; true while work remains. */
static bool compute_slice(void)
{
    if (!mine) {
        pthread_mutex_lock(&qlock);
        mine = qhead;
        if (mine) {
            qhead = mine->next;
            if (!qhead)
                qtail = NULL;
        }
        pthread_mutex_unlock(&qlock);
        if (!mine)
            return false;
        mine_n = mine->a;
        mine_sum = 0;
    }
    double t0 = now();
    while (mine_n < mine->b) {
        unsigned long long e = mine_n + 1024 < mine->b ? mine_n + 1024 : mine->b;
        mine_sum += collatz_sum(mine_n, e, NULL);
        mine_n = e;
        if (now() - t0 > 0.002)
            break;
    }
    if (mine_n >= mine->b) {
        mine->s = mine_sum;
        deliver(mine->ci, mine->gen, fill_job, mine);
        free(mine);
        mine = NULL;
    }
    return true;
}
#endif

#if SIGIO_LOOP
static void scan_all(int lfd)
{
    do_accept(lfd);
    for (int i = 0; i < nconns; i++)
        if (conns[i])
            service(i);
}
#endif

#if !SIGIO_LOOP
static void on_signal(int sig)
{
    (void)sig;
    int e = errno;
    char c = 1;
    ssize_t r = write(sigp[1], &c, 1);
    (void)r;
    errno = e;
}
#endif

static void serve(int lfd)
{
#if SIGIO_LOOP
    set_async(lfd);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    scan_all(lfd);
    for (;;) {
        double nearest = fire_timers();
        take_done();
        bool busy = false;
#if INLOOP
        busy = compute_slice();
#endif
        struct timespec ts = {0, 0};
        if (!busy) {
            double wait = nearest < 0 ? 1.0 : nearest - now();
            if (wait < 0)
                wait = 0;
            ts.tv_sec = (time_t)wait;
            ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
        }
        siginfo_t si;
        int sig = sigtimedwait(&s, &si, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (sig == SIGIO) {
            /* drain other queued SIGIOs (real-time-less SIGIO coalesces anyway) */
            scan_all(lfd);
        }
    }
#else
    if (pipe2(sigp, O_CLOEXEC | O_NONBLOCK) < 0)
        return;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    static struct pollfd pf[MAXC + 3];
    static int map[MAXC + 3];
    for (;;) {
        double nearest = fire_timers();
        bool busy = false;
#if INLOOP
        busy = compute_slice();
#endif
        int n = 0;
        pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = sigp[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = donep[0], .events = POLLIN};
        for (int i = 0; i < nconns; i++)
            if (conns[i]) {
                map[n] = i;
                pf[n++] = (struct pollfd){.fd = conns[i]->fd,
                                          .events = (short)(POLLIN | (conns[i]->outlen ? POLLOUT : 0))};
            }
        int timeout = -1;
        if (busy)
            timeout = 0;
        else if (nearest >= 0) {
            double w = nearest - now();
            timeout = w <= 0 ? 0 : (int)(w * 1000) + 1;
        }
        int r = poll(pf, (nfds_t)n, timeout);
        if (r < 0)
            continue;
        if (pf[1].revents)
            return;
        if (pf[0].revents)
            do_accept(lfd);
        if (pf[2].revents)
            take_done();
        for (int k = 3; k < n; k++)
            if (pf[k].revents && conns[map[k]] && conns[map[k]]->fd == pf[k].fd)
                service(map[k]);
    }
#endif
}

#if PROC_WORKERS
static void stop_workers(void)
{
    close(jobp[1]);
    for (int i = 0; i < nkids; i++)
        kill(kids[i], SIGTERM);
    for (int i = 0; i < nkids; i++)
        waitpid(kids[i], NULL, 0);
    for (int i = 0; i < nconns; i++)
        if (conns[i])
            conn_close(i);
    free(timers);
    close(donep[0]);
    if (sigp[0] >= 0) {
        close(sigp[0]);
        close(sigp[1]);
    }
}
#else
static void stop_workers(void)
{
    atomic_store(&stop_flag, true);
    pthread_mutex_lock(&qlock);
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < nworkers; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_lock(&llock);
    lstop = true;
    pthread_cond_signal(&lcond);
    pthread_mutex_unlock(&llock);
    pthread_join(ltid, NULL);
    for (struct job *j = qhead, *n; j; j = n) {
        n = j->next;
        free(j);
    }
    for (struct job *j = done_head, *n; j; j = n) {
        n = j->next;
        free(j);
    }
#if INLOOP
    free(mine);
#endif
    for (int i = 0; i < nconns; i++)
        if (conns[i])
            conn_close(i);
    free(timers);
    close(donep[0]);
    close(donep[1]);
    if (sigp[0] >= 0) {
        close(sigp[0]);
        close(sigp[1]);
    }
}
#endif

int main(int argc, char *argv[])
{
    long long port = 0, workers = 2;
    if (argc > 3)
        usage("too many arguments");
    if (argc > 1 && !parse_int(argv[1], 0, 65535, &port))
        usage("PORT must be an integer from 0 to 65535");
    if (argc > 2 && !parse_int(argv[2], 1, MAX_WORKERS, &workers))
        usage("WORKERS must be an integer from 1 to 64");
    signal(SIGPIPE, SIG_IGN);
    int real_port, lfd = listen_on((int)port, &real_port);
    if (lfd < 0) {
        fprintf(stderr, "server: cannot listen on 127.0.0.1:%lld: %s\n", port, strerror(errno));
        return 1;
    }
#if PROC_WORKERS
    g_lfd = lfd;
#endif
    if (!start_workers((int)workers)) {
        fprintf(stderr, "server: cannot start %lld workers\n", workers);
        close(lfd);
        return 1;
    }
    printf("Listening on port %d\n", real_port);
    fflush(stdout);
    serve(lfd);
    stop_workers();
    close(lfd);
    printf("Served %llu requests\n", served);
    return 0;
}
