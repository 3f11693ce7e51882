/* client.h - the grader as a program's TCP client on loopback, and what
 * /proc says about the program's tasks meanwhile (lab 4's driver).
 *
 * A struct session holds the driver's connections to 127.0.0.1:port. Each
 * request sent is an exchange in the observation (observe.h), timestamped
 * on the lines' clock when sent and when its reply line arrives; session_wait
 * pumps every connection until every request has its reply or time is up.
 * Only loopback, only as many connections as asked (at most SESSION_MAX).
 *
 * proc_tasks() lists the tasks (threads) of a process and its descendants
 * with their CPU time, the system call each is blocked in, and its read and
 * write call counts; proc_fds() counts their open descriptors. Read from
 * /proc by the grader, not from anything the program writes. (The tracer's
 * per-task sampler can replace these later; the judges read only metrics.)
 *
 * See also: sandbox.h (struct drive), grader/labs/lab4.c (the driver).
 */
#ifndef GRADER_CLIENT_H
#define GRADER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "observe.h"
#include "sandbox.h"

#define SESSION_MAX 1200

struct cconn {
    int fd;
    int phase;
    char in[2048];
    size_t inlen;
    long pending;       /* index of the exchange awaiting its reply, -1: none */
    bool closed;        /* by us */
    bool eof;           /* by the server */
};

struct session {
    struct drive *d;
    struct observation *o;
    int port;
    struct cconn *c;
    int n;
    long unrequested;   /* reply lines no request was waiting for */
    double deadline;    /* now_mono() after which waits return at once; 0: none */
    /* Sampling while waiting (proc_sample), every sample_every s; 0: off. */
    double sample_every, last_sample;
    void (*sample)(struct session *s, void *arg);
    void *sample_arg;
};

void session_init(struct session *s, struct drive *d, int port);
/* Closes every connection and frees them. */
void session_end(struct session *s);
/* A new connection (non-blocking connect); returns its index, or -1. */
int session_open(struct session *s, int phase);
/* Sends line + '\n' as a request (an exchange); false if it could not be written. */
bool session_send(struct session *s, int i, const char *line);
/* Records line as a request but sends only its bytes from skip on (the
 * rest of a half line sent before with session_send_raw). */
bool session_send_part(struct session *s, int i, const char *line, size_t skip);
/* Sends bytes that are not a whole request (a half line); no exchange. */
bool session_send_raw(struct session *s, int i, const char *bytes, size_t len);
void session_close(struct session *s, int i);
/* Pumps until no open connection awaits a reply, or for at most seconds;
 * returns how many replies are still owed. */
int session_wait(struct session *s, double seconds);
/* Pumps for exactly this long (replies are recorded meanwhile). */
void session_idle(struct session *s, double seconds);
/* Replies still owed on connection i's request (0 or 1). */
int session_owed(const struct session *s, int i);

/* --- /proc --------------------------------------------------------------------- */

struct task_info {
    int pid, tid;
    double cpu;              /* s on a CPU (schedstat) */
    double wait;             /* s ready but waiting for a CPU */
    long syscall;            /* the call it is blocked in, -1: running or unknown */
    long arg0;               /* its first argument (a descriptor for read/write/accept) */
    long long io_calls;      /* read family calls so far (syscr: read, readv, pread; not recv) */
};
/* The call task tid of pid is blocked in (/proc/PID/task/TID/syscall: its
 * number, its first argument if arg0 is not NULL); false: running, gone or
 * unreadable. Also the grader's sampler (sandbox.c) for lab 1's structure. */
bool proc_task_syscall(int pid, int tid, long *nr, long *arg0);
/* Tasks of root and its descendants; returns how many (at most max). */
size_t proc_tasks(pid_t root, struct task_info *out, size_t max);
/* Open descriptors of root and its descendants. */
int proc_fds(pid_t root);
/* True if fd of pid is a TCP socket. */
bool proc_fd_is_tcp(pid_t pid, long fd);
/* The name of a blocking call that works on one descriptor (read, accept, ...), or NULL. */
const char *fd_call_name(long nr);
/* The name of a call a task may sleep in (the two above, sleeps, waits, ...), or NULL. */
const char *blocking_call_name(long nr);
/* The name of an event-loop call (poll, select, epoll_wait, ...), or NULL. */
const char *loop_call_name(long nr);

#endif
