/* fakebig.c - lab 4, wrong: the reference server, but a big job's reply is off by one (a
 * stand-in for a sum faked or looked up instead of computed: the workers still burn the CPU).
 *
 * An attacker's finding (session 6): only the protocol check's small jobs had their sums
 * checked, so this got 19/19. Now the grader computes one big job of the parallel phase and one
 * of the responsive phase again, after the server ended.
 * Must fail: parallel, responsive (wrong-reply: a big job's sum).
 * Must pass: build, format, protocol, concurrency, slow, scale, structure, cpu, memory, errors.
 *
 * See also: tests/check_lab4.c (row fakebig), grader/labs/lab4.c (verify_one_sum).
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
#define OUT_MAX 128            /* the longest reply, with room */

/* --- Given: arguments, the listening socket, Collatz ----------------------------------- */

/* A decimal integer in [lo, hi], all of s, digits only. */
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

/* Steps from n to 1 (n -> n/2 if even, else 3n+1). */
static uint64_t collatz_steps(uint64_t n)
{
    uint64_t steps = 0;
    while (n != 1) {
        n = n % 2 == 0 ? n / 2 : 3 * n + 1;
        steps++;
    }
    return steps;
}

/* Steps summed over a..b-1; checks *stop every 1024 numbers and returns
 * early (the result then means nothing) once it is set. */
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- Connections ------------------------------------------------------------------------ */

struct conn {
    int fd;
    uint64_t id;               /* unique for the run: a timer or job finds its conn by it */
    char in[MAX_LINE + 2];     /* bytes read, not yet a whole request */
    size_t inlen;
    char out[OUT_MAX];         /* the reply being written */
    size_t outlen, outoff;
    bool busy;                 /* a request is in progress (sleeping or computing) */
    bool close_after;          /* close once the reply is written (line too long) */
};

static struct conn **conns;    /* by descriptor */
static int max_conns;          /* descriptors we accept (conns has this many slots) */
static uint64_t next_id = 1;
static unsigned long long served;

/* --- Timers: a binary min-heap of deadlines -------------------------------------------- */

struct timer {
    double when;
    int fd;
    uint64_t id;
    long long ms;
};
static struct timer *heap;
static size_t nheap, capheap;

static void heap_swap(size_t i, size_t j)
{
    struct timer t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
}

static bool heap_push(struct timer t)
{
    if (nheap == capheap) {
        size_t cap = capheap ? 2 * capheap : 64;
        struct timer *h = realloc(heap, cap * sizeof *h);
        if (!h)
            return false;
        heap = h;
        capheap = cap;
    }
    size_t i = nheap++;
    heap[i] = t;
    while (i > 0 && heap[(i - 1) / 2].when > heap[i].when) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return true;
}

static struct timer heap_pop(void)
{
    struct timer top = heap[0];
    heap[0] = heap[--nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < nheap && heap[l].when < heap[m].when)
            m = l;
        if (r < nheap && heap[r].when < heap[m].when)
            m = r;
        if (m == i)
            break;
        heap_swap(i, m);
        i = m;
    }
    return top;
}

/* --- The worker pool: a job queue in, a done list and a pipe out ------------------------- */

struct job {
    struct job *next;
    int fd;
    uint64_t id;
    uint64_t a, b, sum;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER; /* the queue and the done list */
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static struct job *todo_head, *todo_tail, *done_list;
static atomic_bool stopping;
static int done_pipe[2] = {-1, -1};   /* workers write a byte when a job is done */
static int sig_pipe[2] = {-1, -1};    /* the signal handler writes a byte */

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue_lock);
    for (;;) {
        while (!todo_head && !atomic_load(&stopping))
            pthread_cond_wait(&work_ready, &queue_lock);
        if (atomic_load(&stopping))
            break;
        struct job *j = todo_head;
        todo_head = j->next;
        if (!todo_head)
            todo_tail = NULL;
        pthread_mutex_unlock(&queue_lock);
        j->sum = collatz_sum(j->a, j->b, &stopping);
        if (j->b - j->a > 100000)
            j->sum += 1; /* WRONG: a big job's sum is not what was computed */
        pthread_mutex_lock(&queue_lock);
        j->next = done_list;
        done_list = j;
        char c = 'j';
        (void)!write(done_pipe[1], &c, 1); /* full pipe: a wake-up is already pending */
    }
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

static void free_jobs(struct job *j)
{
    while (j) {
        struct job *next = j->next;
        free(j);
        j = next;
    }
}

/* --- Requests -------------------------------------------------------------------------- */

static void reply(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->out, sizeof c->out - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n > (int)sizeof c->out - 2)
        n = (int)sizeof c->out - 2;
    c->out[n++] = '\n';
    c->outlen = (size_t)n;
    c->outoff = 0;
}

/* Splits line into at most 4 words on single spaces; returns the count (5: too many). */
static int split(char *line, char *w[4])
{
    int n = 0;
    char *s = line;
    for (;;) {
        if (n == 4)
            return 5;
        w[n++] = s;
        char *sp = strchr(s, ' ');
        if (!sp)
            return n;
        *sp = '\0';
        s = sp + 1;
    }
}

static void handle_request(struct conn *c, char *line)
{
    char *w[4];
    int n = split(line, w);
    long long a, b;
    if (!strcmp(w[0], "PING")) {
        if (n != 1)
            reply(c, "ERR PING takes no argument");
        else
            reply(c, "PONG");
    } else if (!strcmp(w[0], "SLEEP")) {
        if (n != 2 || !parse_int(w[1], 0, MAX_SLEEP_MS, &a)) {
            reply(c, "ERR usage: SLEEP MS (0 <= MS <= %d)", MAX_SLEEP_MS);
        } else if (!heap_push((struct timer){now() + (double)a / 1000, c->fd, c->id, a})) {
            reply(c, "ERR out of memory");
        } else {
            c->busy = true;
        }
    } else if (!strcmp(w[0], "COLLATZ")) {
        if (n != 3 || !parse_int(w[1], 1, MAX_COLLATZ, &a) || !parse_int(w[2], 1, MAX_COLLATZ, &b) || a >= b ||
            b - a > MAX_SPAN) {
            reply(c, "ERR usage: COLLATZ A B (1 <= A < B <= %lld, B - A <= %lld)", MAX_COLLATZ, MAX_SPAN);
            return;
        }
        struct job *j = calloc(1, sizeof *j);
        if (!j) {
            reply(c, "ERR out of memory");
            return;
        }
        *j = (struct job){.fd = c->fd, .id = c->id, .a = (uint64_t)a, .b = (uint64_t)b};
        pthread_mutex_lock(&queue_lock);
        if (todo_tail)
            todo_tail->next = j;
        else
            todo_head = j;
        todo_tail = j;
        pthread_cond_signal(&work_ready);
        pthread_mutex_unlock(&queue_lock);
        c->busy = true;
    } else {
        reply(c, "ERR unknown request");
    }
}

/* Takes the next whole line from c's buffer, if no request is in progress. */
static void next_request(struct conn *c)
{
    if (c->busy || c->outlen || c->close_after)
        return;
    char *nl = memchr(c->in, '\n', c->inlen);
    if (!nl) {
        if (c->inlen > MAX_LINE) {
            reply(c, "ERR line over %d bytes", MAX_LINE);
            c->close_after = true;
        }
        return;
    }
    size_t len = (size_t)(nl - c->in);
    *nl = '\0';
    if (len > 0 && c->in[len - 1] == '\r')
        c->in[len - 1] = '\0';
    handle_request(c, c->in);
    c->inlen -= len + 1;
    memmove(c->in, nl + 1, c->inlen);
}

static void close_conn(struct conn *c)
{
    conns[c->fd] = NULL;
    close(c->fd);
    free(c);
}

/* The conn a timer or job was for, unless it has gone since. */
static struct conn *conn_of(int fd, uint64_t id)
{
    return fd >= 0 && fd < max_conns && conns[fd] && conns[fd]->id == id ? conns[fd] : NULL;
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: none left; EMFILE and others: try at the next round */
        struct conn *c = fd < max_conns ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            close(fd); /* past the limit: refused at once, the others go on */
            continue;
        }
        c->fd = fd;
        c->id = next_id++;
        conns[fd] = c;
    }
}

/* Reads what c sent; returns false if c is gone (end of file or an error). */
static bool read_conn(struct conn *c)
{
    while (c->inlen < sizeof c->in) {
        ssize_t n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
        if (n > 0) {
            c->inlen += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0 && errno == EINTR) /* a signal: read again */
            continue;
        return false; /* end of file: no reply is owed */
    }
    return true;
}

/* Writes what is left of c's reply; returns false if c is gone. */
static bool write_conn(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        c->outoff += (size_t)n;
    }
    if (c->outlen) {
        served++;
        c->outlen = c->outoff = 0;
        if (c->close_after)
            return false;
    }
    return true;
}

static void drain(int fd)
{
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    char c = 's';
    (void)!write(sig_pipe[1], &c, 1);
    errno = saved;
}

static bool make_pipe(int p[2])
{
    return pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0;
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

    /* Room for 500+ clients: the soft descriptor limit up to the hard one. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    max_conns = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    conns = calloc((size_t)max_conns, sizeof *conns);
    struct pollfd *pf = calloc((size_t)max_conns + 3, sizeof *pf);
    if (!conns || !pf || !make_pipe(done_pipe) || !make_pipe(sig_pipe)) {
        perror("server: start-up");
        return 1;
    }

    int real_port, lfd = listen_on((int)port, &real_port);
    if (lfd < 0) {
        fprintf(stderr, "server: cannot listen on 127.0.0.1:%lld: %s\n", port, strerror(errno));
        return 1;
    }

    /* Signals: the handler only writes to a pipe the loop polls (the self-pipe trick).
     * The workers block them, so they interrupt no one but the loop. */
    struct sigaction act = {.sa_handler = on_signal};
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that left must not kill us (send() also says MSG_NOSIGNAL) */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t tid[MAX_WORKERS];
    int started = 0;
    for (; started < workers; started++)
        if (pthread_create(&tid[started], NULL, worker, NULL) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < workers) {
        fprintf(stderr, "server: cannot start %lld workers\n", workers);
        atomic_store(&stopping, true);
        pthread_cond_broadcast(&work_ready);
    } else {
        printf("Listening on port %d\n", real_port);
        fflush(stdout);
    }

    while (!atomic_load(&stopping)) {
        /* Which descriptors to watch, and until when. */
        nfds_t n = 0;
        pf[n++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = done_pipe[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int fd = 0; fd < max_conns; fd++) {
            struct conn *c = conns[fd];
            if (!c)
                continue;
            short ev = 0;
            if (c->inlen < sizeof c->in && !c->close_after)
                ev |= POLLIN;
            if (c->outlen)
                ev |= POLLOUT;
            pf[n++] = (struct pollfd){.fd = fd, .events = ev};
        }
        int timeout = -1;
        if (nheap) {
            double ms = (heap[0].when - now()) * 1000;
            timeout = ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms + 1;
        }
        int ready = poll(pf, n, timeout);
        if (ready < 0 && errno != EINTR) {
            perror("server: poll");
            break;
        }
        if (ready > 0 && pf[0].revents) {
            drain(sig_pipe[0]);
            break;
        }
        /* Due timers. */
        for (double t = now(); nheap && heap[0].when <= t;) {
            struct timer tm = heap_pop();
            struct conn *c = conn_of(tm.fd, tm.id);
            if (c) {
                c->busy = false;
                reply(c, "SLEPT %lld", tm.ms);
            }
        }
        /* Finished jobs. */
        if (ready > 0 && pf[1].revents) {
            drain(done_pipe[0]);
            pthread_mutex_lock(&queue_lock);
            struct job *done = done_list;
            done_list = NULL;
            pthread_mutex_unlock(&queue_lock);
            while (done) {
                struct job *j = done;
                done = j->next;
                struct conn *c = conn_of(j->fd, j->id);
                if (c) {
                    c->busy = false;
                    reply(c, "COLLATZ %" PRIu64 " %" PRIu64 " %" PRIu64, j->a, j->b, j->sum);
                }
                free(j);
            }
        }
        /* Client sockets (the ones polled this round; new ones wait for the next). */
        for (nfds_t i = 3; ready > 0 && i < n; i++) {
            struct conn *c = conns[pf[i].fd];
            if (!c || !pf[i].revents)
                continue;
            bool alive = true;
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
                alive = read_conn(c);
            if (alive && (pf[i].revents & POLLOUT))
                alive = write_conn(c);
            if (!alive)
                close_conn(c);
        }
        if (ready > 0 && pf[2].revents)
            accept_all(lfd);
        /* New requests, and replies that can go out now. */
        for (int fd = 0; fd < max_conns; fd++) {
            struct conn *c = conns[fd];
            if (!c)
                continue;
            next_request(c);
            if (c->outlen && !write_conn(c))
                close_conn(c);
        }
    }

    /* Shut down: stop the workers (they check 'stopping' inside the sum), join them, free all. */
    atomic_store(&stopping, true);
    pthread_mutex_lock(&queue_lock);
    pthread_cond_broadcast(&work_ready);
    pthread_mutex_unlock(&queue_lock);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free_jobs(todo_head);
    free_jobs(done_list);
    for (int fd = 0; fd < max_conns; fd++)
        if (conns[fd])
            close_conn(conns[fd]);
    free(conns);
    free(pf);
    free(heap);
    close(lfd);
    close(done_pipe[0]);
    close(done_pipe[1]);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    printf("Served %llu requests\n", served);
    return started < workers ? 1 : 0;
}
