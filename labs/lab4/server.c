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

/* --- Yours ----------------------------------------------------------------------------- */

static unsigned long long served;   /* replies fully written: the "Served R requests" line */

/*
 * start_workers - starts the pool, once, before the loop runs.
 *
 * Starts exactly n workers (threads or processes) that take COLLATZ jobs
 * from a queue, compute collatz_sum() and hand each result back to the event
 * loop in a way poll() can see (a pipe or an eventfd the loop watches).
 * Never start a worker per request: more jobs than workers wait in the queue.
 * Returns false if they could not all be started.
 */
static bool start_workers(int n)
{
    /* TODO(lab4): a job queue (mutex + condition variable), n threads, a wake-up pipe back to the loop. */
    (void)n;
    return true;
}

/*
 * serve - the event loop; returns when SIGTERM or SIGINT arrives.
 *
 * One thread, waiting only in poll() (or select/epoll_wait), with every
 * socket non-blocking:
 *  - the listening socket lfd: accept every waiting client (500 and more);
 *  - each client: a buffer of what it sent; a whole line ('\n') is a
 *    request, handled when the previous one was answered: PING -> PONG,
 *    SLEEP MS -> a timer (the poll timeout is the nearest deadline),
 *    COLLATZ A B -> the workers' queue, anything else -> ERR <reason>.
 *    A line over MAX_LINE bytes gets ERR (and may be closed). Replies are
 *    written when the socket can take them; served counts each one written.
 *  - end of file or an error: close the socket, free its state, forget its
 *    timers and jobs (their results go nowhere);
 *  - a signal: through a pipe the handler writes to (the self-pipe trick).
 * Never read or write a socket that poll() did not say is ready, never
 * sleep, never compute COLLATZ here: every client waits while you do.
 */
static void serve(int lfd)
{
    /* TODO(lab4): the loop: pollfd array, accept, read into per-connection buffers, timers, replies. */
    (void)lfd;
    (void)collatz_sum;
    (void)now;
    fprintf(stderr, "server: serve() is not written yet (TODO(lab4) in labs/lab4/server.c)\n");
    exit(1);
}

/*
 * stop_workers - ends the pool and frees everything, after serve() returns.
 *
 * Tells every worker to stop (also one in the middle of a sum: see
 * collatz_sum's stop flag), joins (or reaps) them all, frees the queue and
 * what is left in it, and closes every descriptor but stdout. The program
 * must exit within 1 s of the signal.
 */
static void stop_workers(void)
{
    /* TODO(lab4): set the stop flag, wake and join every worker, free the jobs, close the pipes and sockets. */
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
