/* client.c - the grader as a TCP client on loopback; /proc task snapshots.
 * See also: client.h.
 */
#define _GNU_SOURCE
#include "client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

void session_init(struct session *s, struct drive *d, int port)
{
    *s = (struct session){.d = d, .o = drive_obs(d), .port = port};
    s->c = xcalloc(SESSION_MAX, sizeof *s->c);
    /* Room for SESSION_MAX sockets in the grader itself. */
    struct rlimit fds;
    if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max && fds.rlim_cur < 4096) {
        fds.rlim_cur = fds.rlim_max < 4096 ? fds.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &fds);
    }
}

void session_close(struct session *s, int i)
{
    if (i < 0 || i >= s->n || s->c[i].closed)
        return;
    if (s->c[i].fd >= 0)
        close(s->c[i].fd);
    s->c[i].fd = -1;
    s->c[i].closed = true;
}

void session_end(struct session *s)
{
    for (int i = 0; i < s->n; i++)
        session_close(s, i);
    free(s->c);
    s->c = NULL;
    s->n = 0;
}

int session_open(struct session *s, int phase)
{
    if (s->n >= SESSION_MAX)
        return -1;
    int i = s->n++;
    struct cconn *c = &s->c[i];
    *c = (struct cconn){.fd = -1, .phase = phase, .pending = -1};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        c->closed = true;
        return i;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(fd);
        c->eof = true;
        c->closed = true;
        return i;
    }
    c->fd = fd;
    return i;
}

static double wait_until(const struct session *s, double seconds);

/* Writes all of buf (waiting up to 1 s for room or for the connection, within
 * the session's deadline, and not once the run is over); false on failure. */
static bool write_all(const struct session *s, int fd, const char *buf, size_t len)
{
    double until = wait_until(s, 1.0);
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN || errno == EINTR)) {
            if (now_mono() > until || drive_over(s->d))
                return false;
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, 10);
            continue;
        }
        return false;
    }
    return true;
}

bool session_send_raw(struct session *s, int i, const char *bytes, size_t len)
{
    struct cconn *c = &s->c[i];
    return !c->closed && c->fd >= 0 && write_all(s, c->fd, bytes, len);
}

bool session_send(struct session *s, int i, const char *line)
{
    return session_send_part(s, i, line, 0);
}

bool session_send_part(struct session *s, int i, const char *line, size_t skip)
{
    struct cconn *c = &s->c[i];
    if (c->closed || c->fd < 0)
        return false;
    obs_add_exchange(s->o, i, c->phase, drive_now(s->d), line);
    c->pending = (long)s->o->nexchanges - 1;
    size_t len = strlen(line);
    char *buf = xasprintf("%s\n", line);
    bool ok = write_all(s, c->fd, buf + (skip < len ? skip : len), len + 1 - (skip < len ? skip : len));
    free(buf);
    return ok;
}

int session_owed(const struct session *s, int i)
{
    const struct cconn *c = &s->c[i];
    return !c->closed && !c->eof && c->pending >= 0;
}

/* Reads what connection i has; records whole reply lines. */
static void pump_conn(struct session *s, int i)
{
    struct cconn *cn = &s->c[i];
    for (;;) {
        if (cn->inlen == sizeof cn->in)
            cn->inlen = 0; /* an endless line: drop it */
        size_t room = sizeof cn->in - cn->inlen;
        ssize_t n = read(cn->fd, cn->in + cn->inlen, room);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            cn->eof = true;
            session_close(s, i);
            return;
        }
        double t = drive_now(s->d);
        cn->inlen += (size_t)n; /* the grader's buffer */
        char *eol;
        while ((eol = memchr(cn->in, '\n', cn->inlen))) {
            size_t len = (size_t)(eol - cn->in);
            if (len > 0 && cn->in[len - 1] == '\r') /* CRLF */
                len--;
            if (cn->pending >= 0) {
                struct exchange *x = &s->o->exchanges[cn->pending];
                x->reply = xstrndup(cn->in, len);
                x->replied = t;
                cn->pending = -1;
            } else {
                s->unrequested++;
            }
            size_t used = (size_t)(eol - cn->in) + 1;
            cn->inlen -= used;
            memmove(cn->in, eol + 1, cn->inlen);
        }
    }
}

static int owed(const struct session *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += session_owed(s, i);
    return n;
}

/* One round of poll over every open connection, for at most ms. */
static void pump(struct session *s, int ms)
{
    struct pollfd pf[SESSION_MAX];
    int map[SESSION_MAX], np = 0;
    for (int i = 0; i < s->n; i++)
        if (!s->c[i].closed && s->c[i].fd >= 0) {
            pf[np] = (struct pollfd){.fd = s->c[i].fd, .events = POLLIN};
            map[np++] = i;
        }
    if (s->sample && s->sample_every > 0) {
        double now = now_mono();
        if (now - s->last_sample >= s->sample_every) {
            s->last_sample = now;
            s->sample(s, s->sample_arg);
        }
        int until_next = (int)((s->last_sample + s->sample_every - now) * 1000) + 1;
        if (until_next < ms)
            ms = until_next;
    }
    int rc = poll(pf, (nfds_t)np, ms < 0 ? 0 : ms);
    for (int k = 0; k < np && rc > 0; k++)
        if (pf[k].revents)
            pump_conn(s, map[k]);
}

/* The end of a wait of this many seconds, within the session's deadline. */
static double wait_until(const struct session *s, double seconds)
{
    double until = now_mono() + seconds;
    return s->deadline > 0 && s->deadline < until ? s->deadline : until;
}

int session_wait(struct session *s, double seconds)
{
    double until = wait_until(s, seconds);
    while (owed(s) > 0 && !drive_over(s->d)) {
        double left = until - now_mono();
        if (left <= 0)
            break;
        pump(s, left > 0.05 ? 50 : (int)(left * 1000) + 1);
    }
    return owed(s);
}

void session_idle(struct session *s, double seconds)
{
    double until = wait_until(s, seconds);
    while (!drive_over(s->d)) {
        double left = until - now_mono();
        if (left <= 0)
            break;
        pump(s, left > 0.05 ? 50 : (int)(left * 1000) + 1);
    }
}

/* --- /proc ----------------------------------------------------------------------- */

static bool read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return true;
}

bool proc_task_syscall(int pid, int tid, long *nr, long *arg0)
{
    char path[96], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", pid, tid);
    long n;
    unsigned long a0;
    if (!read_small(path, buf, sizeof buf) || sscanf(buf, "%ld 0x%lx", &n, &a0) != 2)
        return false; /* "running", gone, or not ours to read */
    *nr = n;
    if (arg0)
        *arg0 = (long)a0;
    return true;
}

static void task_of(int pid, int tid, struct task_info *t)
{
    char path[96], buf[512];
    *t = (struct task_info){.pid = pid, .tid = tid, .syscall = -1};
    unsigned long long on, waiting;
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", pid, tid);
    if (read_small(path, buf, sizeof buf) && sscanf(buf, "%llu %llu", &on, &waiting) == 2) {
        t->cpu = (double)on / 1e9;
        t->wait = (double)waiting / 1e9;
    }
    proc_task_syscall(pid, tid, &t->syscall, &t->arg0);
    snprintf(path, sizeof path, "/proc/%d/task/%d/io", pid, tid);
    if (read_small(path, buf, sizeof buf)) {
        /* Reads only: a thread that logs each request to stderr or a file writes as often as the
         * loop does, while the network I/O's reads are all the loop's (a right server). */
        const char *r = strstr(buf, "syscr: ");
        t->io_calls = r ? atoll(r + 7) : 0;
    }
}

/* Adds pid's tasks, then its children's, depth first. */
static size_t tasks_rec(int pid, struct task_info *out, size_t n, size_t max, int depth)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return n;
    int tids[1024], nt = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nt < 1024)
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
            tids[nt++] = atoi(e->d_name);
    closedir(d);
    for (int k = 0; k < nt && n < max; k++)
        task_of(pid, tids[k], &out[n++]);
    if (depth > 8)
        return n;
    for (int k = 0; k < nt; k++) {
        char cpath[96], buf[4096];
        snprintf(cpath, sizeof cpath, "/proc/%d/task/%d/children", pid, tids[k]);
        if (!read_small(cpath, buf, sizeof buf))
            continue;
        char *save = NULL;
        for (char *w = strtok_r(buf, " \n", &save); w && n < max; w = strtok_r(NULL, " \n", &save))
            n = tasks_rec(atoi(w), out, n, max, depth + 1);
    }
    return n;
}

size_t proc_tasks(pid_t root, struct task_info *out, size_t max)
{
    return tasks_rec((int)root, out, 0, max, 0);
}

int proc_fds(pid_t root)
{
    static struct task_info t[512];
    size_t n = proc_tasks(root, t, 512);
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].pid != t[i].tid)
            continue; /* threads share their process's table */
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", t[i].pid);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)))
            total += e->d_name[0] >= '0' && e->d_name[0] <= '9';
        if (d)
            closedir(d);
    }
    return total;
}

/* True if the socket inode is in /proc/net/tcp or tcp6. */
static bool inode_is_tcp(unsigned long inode)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (size_t f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "re");
        char line[512];
        while (fp && fgets(line, sizeof line, fp)) {
            unsigned long ino;
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &ino) == 1 && ino == inode) {
                fclose(fp);
                return true;
            }
        }
        if (fp)
            fclose(fp);
    }
    return false;
}

bool proc_fd_is_tcp(pid_t pid, long fd)
{
    char path[96], link[128];
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)pid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return false;
    link[n] = '\0';
    unsigned long inode;
    return sscanf(link, "socket:[%lu]", &inode) == 1 && inode_is_tcp(inode);
}

const char *fd_call_name(long nr)
{
    switch (nr) {
    case SYS_read: return "read";
    case SYS_write: return "write";
    case SYS_readv: return "readv";
    case SYS_writev: return "writev";
    case SYS_recvfrom: return "recv";
    case SYS_sendto: return "send";
    case SYS_recvmsg: return "recvmsg";
    case SYS_sendmsg: return "sendmsg";
    case SYS_accept: return "accept";
    case SYS_accept4: return "accept4";
    case SYS_recvmmsg: return "recvmmsg";
    case SYS_sendmmsg: return "sendmmsg";
    case SYS_preadv2: return "preadv2";    /* offset -1: a read from a socket too */
    case SYS_pwritev2: return "pwritev2";
    case SYS_splice: return "splice";
    case SYS_sendfile: return "sendfile";
    default: return NULL;
    }
}

const char *blocking_call_name(long nr)
{
    const char *name = fd_call_name(nr);
    if (!name)
        name = loop_call_name(nr);
    if (name)
        return name;
    switch (nr) {
    case SYS_pread64: return "pread";
    case SYS_futex: return "futex";
    case SYS_nanosleep: return "nanosleep";
    case SYS_clock_nanosleep: return "clock_nanosleep";
    case SYS_wait4: return "wait4";
    case SYS_waitid: return "waitid";
    case SYS_rt_sigsuspend: return "sigsuspend";
    case SYS_rt_sigtimedwait: return "sigtimedwait";
#ifdef SYS_pause
    case SYS_pause: return "pause";
#endif
    case SYS_semtimedop: return "semtimedop";
    case SYS_mq_timedreceive: return "mq_timedreceive";
    case SYS_io_uring_enter: return "io_uring_enter";
    case SYS_io_getevents: return "io_getevents";
    case SYS_msgrcv: return "msgrcv";
    case SYS_connect: return "connect";
    case SYS_openat: return "openat";
    case SYS_flock: return "flock";
    case SYS_fcntl: return "fcntl";
    default: return NULL;
    }
}

const char *loop_call_name(long nr)
{
    switch (nr) {
#ifdef SYS_select
    case SYS_select: return "select";
#endif
#ifdef SYS_poll
    case SYS_poll: return "poll";
#endif
#ifdef SYS_epoll_wait
    case SYS_epoll_wait: return "epoll_wait";
#endif
    case SYS_pselect6: return "pselect";
    case SYS_ppoll: return "ppoll";
    case SYS_epoll_pwait: return "epoll_pwait";
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2: return "epoll_pwait2";
#endif
    default: return NULL;
    }
}
