/* decoy.c - lab 4, wrong: the event-loop thread computes COLLATZ itself, behind a decoy.
 *
 * It starts only WORKERS-1 workers; the loop thread computes jobs in slices of
 * 2048 numbers between poll(..., 0) calls (so PINGs stay fast). A decoy thread,
 * poked when 300 clients are connected, makes 60000 one-byte read()s of
 * /dev/zero so that it, not the loop, has the most read/write calls.
 * (An attacker's finding: it got 19/19 while the grader took the decoy for the loop.)
 * Must fail: structure (the task that waits in poll() computed: "the event-loop
 *            thread ... computed"; and 1 task computed, not WORKERS).
 * Must pass: build, format, protocol, concurrency, slow, scale, cpu, memory, errors.
 *
 * See also: tests/check_lab4.c (the verdicts it must get).
 */
/* server.c - Lab 4, your copy: a TCP server with one event loop and a pool of workers.
 *
 * The C form of an asyncio server that hands CPU work to run_in_executor:
 * one thread waits in poll() (or select/epoll) for every socket and for the
 * nearest timer; it answers PING at once, answers SLEEP from a timer, and
 * queues COLLATZ for WORKERS workers started once, which compute and hand
 * the result back through a pipe the loop also watches.
 *
 * Usage: server [PORT [WORKERS]]      (defaults: 0, a port the kernel picks; 2)
 *   stdout: "Listening on port P" once it accepts connections, then
 *           "Served R requests" after SIGTERM or SIGINT (R: replies written).
 *   Protocol, one line per request, one reply per line:
 *     PING -> PONG       SLEEP MS -> SLEPT MS (after MS ms, from a timer)
 *     COLLATZ A B -> COLLATZ A B S (S: Collatz steps summed over A..B-1, by a worker)
 *     anything else -> ERR <reason>   (the connection stays usable)
 *
 * What is given: argument parsing, the listening socket, the Collatz sum, the
 * clock, main(). What you write: the functions marked TODO(lab4), each under
 * a comment that says what it must do. As handed out the program compiles,
 * listens, and then stops with a message: nothing is served.
 *
 * Grade it:              make lab4          (or ./grader/grade lab4)
 * Try it by hand:        ./server 5000 2 &   then   nc 127.0.0.1 5000   and type PING
 * See also: handouts/lab4.md (read it first), handouts/hints.md.
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

#define LOOP_HELPS 1

static unsigned long long served;
#ifndef LOOP_HELPS
#define LOOP_HELPS 0
#endif
struct job { struct job *next; int fd; unsigned gen; uint64_t a, b, s; };
static struct job *qhead, *qtail;
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qc = PTHREAD_COND_INITIALIZER;
static atomic_bool stopping;
static pthread_t wt[MAX_WORKERS];
static int nworkers, donep[2] = {-1, -1}, sigp[2] = {-1, -1};

static struct job *pop_job(bool wait)
{
    pthread_mutex_lock(&qm);
    while (wait && !qhead && !atomic_load(&stopping)) pthread_cond_wait(&qc, &qm);
    struct job *j = NULL;
    if (!atomic_load(&stopping) && qhead) { j = qhead; qhead = j->next; if (!qhead) qtail = NULL; }
    pthread_mutex_unlock(&qm);
    return j;
}
static void *worker(void *arg)
{
    (void)arg;
    struct job *j;
    while ((j = pop_job(true))) {
        j->s = collatz_sum(j->a, j->b, &stopping);
        if (atomic_load(&stopping)) { free(j); break; }
        if (write(donep[1], &j, sizeof j) != sizeof j) free(j);
    }
    return NULL;
}
/* The decoy: a thread that, when the loop pokes it (many clients at once), makes
 * 60000 one-byte read()s of /dev/zero, so that it, not the loop, looks like the
 * thread doing the I/O. Otherwise it sleeps in read() on its pipe (not a sleep call). */
static int decoyp[2] = {-1, -1}; static pthread_t decoy_t; static int open_conns;
static void *decoy(void *arg)
{
    (void)arg;
    int z = open("/dev/zero", O_RDONLY | O_CLOEXEC); char c;
    while (read(decoyp[0], &c, 1) == 1 && c == 'g')
        for (int i = 0; i < 60000; i++) (void)!read(z, &c, 1);
    close(z);
    return NULL;
}
static bool start_workers(int n)
{
    if (pipe2(decoyp, O_CLOEXEC) < 0 || pthread_create(&decoy_t, NULL, decoy, NULL)) return false;
    if (pipe2(donep, O_CLOEXEC) < 0 || pipe2(sigp, O_CLOEXEC | O_NONBLOCK) < 0) return false;
    int k = n - LOOP_HELPS; /* LOOP_HELPS: the event loop itself is one of the "workers" */
    for (int i = 0; i < k; i++) { if (pthread_create(&wt[i], NULL, worker, NULL)) return false; nworkers++; }
    return true;
}

#define MAXFD 4096
struct conn { bool open, busy, skipping; unsigned gen; char in[MAX_LINE + 2]; size_t inlen; char *out; size_t outlen, outcap; };
static struct conn cs[MAXFD];
static unsigned gens;
struct timer { int fd; unsigned gen; double due; long long ms; };
static struct timer *tm; static size_t ntm, captm;

static void reply(int fd, const char *fmt, ...)
{
    struct conn *c = &cs[fd];
    char b[256]; va_list ap; va_start(ap, fmt); int n = vsnprintf(b, sizeof b, fmt, ap); va_end(ap);
    if (c->outlen + n > c->outcap) { c->outcap = (c->outlen + n) * 2; c->out = realloc(c->out, c->outcap); }
    memcpy(c->out + c->outlen, b, n); c->outlen += n; c->busy = false;
}
static void closec(int fd)
{
    close(fd); free(cs[fd].out); memset(&cs[fd], 0, sizeof cs[fd]); open_conns--;
}
static void handle(int fd, char *line)
{
    long long a, b; char *sp;
    if (!strcmp(line, "PING")) { reply(fd, "PONG\n"); return; }
    if (!strncmp(line, "SLEEP ", 6) && parse_int(line + 6, 0, MAX_SLEEP_MS, &a)) {
        if (ntm == captm) { captm = captm ? captm * 2 : 64; tm = realloc(tm, captm * sizeof *tm); }
        tm[ntm++] = (struct timer){fd, cs[fd].gen, now() + a / 1000.0, a}; cs[fd].busy = true; return;
    }
    if (!strncmp(line, "COLLATZ ", 8) && (sp = strchr(line + 8, ' '))) {
        *sp = 0;
        if (parse_int(line + 8, 1, MAX_COLLATZ, &a) && parse_int(sp + 1, 1, MAX_COLLATZ, &b) && a < b && b - a <= MAX_SPAN) {
            struct job *j = calloc(1, sizeof *j); j->fd = fd; j->gen = cs[fd].gen; j->a = a; j->b = b;
            pthread_mutex_lock(&qm); if (qtail) qtail->next = j; else qhead = j; qtail = j;
            pthread_cond_signal(&qc); pthread_mutex_unlock(&qm); cs[fd].busy = true; return;
        }
    }
    reply(fd, "ERR bad request\n");
}
static void process(int fd)
{
    struct conn *c = &cs[fd];
    while (!c->busy) {
        char *nl = memchr(c->in, '\n', c->inlen);
        if (!nl) {
            if (c->inlen > MAX_LINE) { if (!c->skipping) reply(fd, "ERR line too long\n"); c->skipping = true; c->inlen = 0; }
            return;
        }
        *nl = 0; size_t used = nl - c->in + 1;
        if (nl > c->in && nl[-1] == '\r') nl[-1] = 0;
        if (c->skipping) c->skipping = false; else handle(fd, c->in);
        memmove(c->in, c->in + used, c->inlen - used); c->inlen -= used;
    }
}
static void on_sig(int s) { (void)s; int e = errno; (void)!write(sigp[1], "x", 1); errno = e; }

static struct job *mine; static uint64_t mine_at, mine_sum;
static void serve(int lfd)
{
    struct sigaction sa = {0}; sa.sa_handler = on_sig; sigaction(SIGTERM, &sa, NULL); sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    static struct pollfd pf[MAXFD + 3]; static int who[MAXFD + 3];
    for (;;) {
        int n = 0;
        pf[n++] = (struct pollfd){lfd, POLLIN, 0}; pf[n++] = (struct pollfd){donep[0], POLLIN, 0}; pf[n++] = (struct pollfd){sigp[0], POLLIN, 0};
        for (int fd = 0; fd < MAXFD; fd++) if (cs[fd].open) { who[n] = fd; pf[n++] = (struct pollfd){fd, (short)(POLLIN | (cs[fd].outlen ? POLLOUT : 0)), 0}; }
        int timeout = -1; double t = now();
        for (size_t i = 0; i < ntm; i++) { int ms = (int)((tm[i].due - t) * 1000 + 0.999); if (ms < 0) ms = 0; if (timeout < 0 || ms < timeout) timeout = ms; }
        if (LOOP_HELPS && !mine && (mine = pop_job(false))) { mine_at = mine->a; mine_sum = 0; }
        if (mine) timeout = 0;
        int r = poll(pf, n, timeout);
        if (r < 0 && errno != EINTR) break;
        if (mine) { /* hidden: the loop computes a slice of a job between polls */
            uint64_t end = mine_at + 2048 < mine->b ? mine_at + 2048 : mine->b;
            mine_sum += collatz_sum(mine_at, end, NULL); mine_at = end;
            if (mine_at == mine->b) { mine->s = mine_sum; if (write(donep[1], &mine, sizeof mine) != sizeof mine) free(mine); mine = NULL; }
        }
        if (r <= 0 && !ntm) continue;
        if (pf[2].revents) break;
        if (pf[0].revents & POLLIN) for (;;) {
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) break;
            if (fd >= MAXFD) { close(fd); continue; }
            cs[fd].open = true; cs[fd].gen = ++gens;
            if (++open_conns == 300) (void)!write(decoyp[1], "g", 1);
        }
        if (pf[1].revents & POLLIN) {
            struct job *j;
            if (read(donep[0], &j, sizeof j) == sizeof j) {
                if (cs[j->fd].open && cs[j->fd].gen == j->gen) { reply(j->fd, "COLLATZ %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", j->a, j->b, j->s); process(j->fd); }
                free(j);
            }
        }
        t = now();
        for (size_t i = 0; i < ntm;) {
            if (tm[i].due <= t) { struct timer x = tm[i]; tm[i] = tm[--ntm];
                if (cs[x.fd].open && cs[x.fd].gen == x.gen) { reply(x.fd, "SLEPT %lld\n", x.ms); process(x.fd); } }
            else i++;
        }
        for (int i = 3; i < n; i++) {
            int fd = who[i]; struct conn *c = &cs[fd];
            if (!c->open || c->gen == 0) continue;
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t k = read(fd, c->in + c->inlen, sizeof c->in - 1 - c->inlen);
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) { closec(fd); continue; }
                if (k > 0) { c->inlen += k; process(fd); }
            }
            if (c->outlen && (pf[i].revents & POLLOUT)) {
                ssize_t k = send(fd, c->out, c->outlen, MSG_NOSIGNAL);
                if (k < 0 && errno != EAGAIN) { closec(fd); continue; }
                if (k > 0) { for (ssize_t q = 0; q < k; q++) served += c->out[q] == '\n'; memmove(c->out, c->out + k, c->outlen - k); c->outlen -= k; }
            }
        }
    }
}
static void stop_workers(void)
{
    atomic_store(&stopping, true);
    pthread_mutex_lock(&qm); pthread_cond_broadcast(&qc); pthread_mutex_unlock(&qm);
    for (int i = 0; i < nworkers; i++) pthread_join(wt[i], NULL);
    (void)!write(decoyp[1], "q", 1); pthread_join(decoy_t, NULL); close(decoyp[0]); close(decoyp[1]);
    while (qhead) { struct job *j = qhead; qhead = j->next; free(j); }
    free(mine);
    struct job *j; int fl = fcntl(donep[0], F_GETFL); fcntl(donep[0], F_SETFL, fl | O_NONBLOCK);
    while (read(donep[0], &j, sizeof j) == sizeof j) free(j);
    for (int fd = 0; fd < MAXFD; fd++) if (cs[fd].open) closec(fd);
    free(tm);
    close(donep[0]); close(donep[1]); close(sigp[0]); close(sigp[1]);
}

int main(int argc, char *argv[])
{
    long long port = 0, workers = 2;
    if (argc > 3)
        usage("too many arguments");
    if (argc > 1 && !parse_int(argv[1], 0, 65535, &port))
        usage("PORT must be an integer from 0 to 65535");
    if (argc > 2 && !parse_int(argv[2], 1, MAX_WORKERS, &workers))
        usage("WORKERS must be an integer from 1 to 64");

    int real_port, lfd = listen_on((int)port, &real_port);
    if (lfd < 0) {
        fprintf(stderr, "server: cannot listen on 127.0.0.1:%lld: %s\n", port, strerror(errno));
        return 1;
    }
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
