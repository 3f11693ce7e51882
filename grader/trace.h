/* trace.h - the grader's kernel-level tracer: what a program really did.
 *
 * A run the grader traces has one more process of the grader's own between
 * the grader and the program: the tracer. It forks the program, attaches to
 * it with ptrace (PTRACE_SEIZE, following every fork, vfork, clone and
 * clone3), and the program installs, just before exec, a seccomp-BPF filter
 * that stops it only at the calls the labs judge (as `strace -f --seccomp-bpf`
 * does): every way of waiting for time, wait4/waitid, kill, setsid,
 * exit_group, and touching the probe's descriptor (a write into it counts
 * only from the probe's own code). Its other calls (write,
 * futex locks, its counting loop) run at full speed. The tracer streams
 * fixed-size binary records to the grader on a pipe the program never sees;
 * sandbox.c reads them into the observation (struct task, struct sys_call).
 *
 * Usage (sandbox.c): in the tracer process, trace_program() (it forks, calls
 * child() in the child, which must call trace_wait_attach() just before exec);
 * in the grader, trace_take() on the bytes read from the tracer's pipe.
 *
 * See also: trace.c, observe.h (struct task, struct sys_call), sandbox.c.
 */
#ifndef GRADER_TRACE_H
#define GRADER_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "observe.h"

#define PROBE_FD 1023 /* where the program finds the probe's pipe */

/* One record on the tracer's pipe (shorter than PIPE_BUF: written whole). */
enum trace_rec_kind {
    TR_INFO,   /* tid: the program's pid; a[0]: 0 traced, else errno why not; a[1]: TI_* */
    TR_START,  /* task tid of process tgid created by task 'other' (0: the program itself) */
    TR_EXEC,   /* task tid ran execve; a[0], a[1]: its new name (16 bytes of comm) */
    TR_CALL,   /* a watched call: other = enum sys_kind, t..t2, a[0] its first argument, a[1] result
                * (waitid: the pid it reaped, 0 none), a[2] its number */
    TR_COUNT,  /* at a task's end: other = kind, a[0] = calls made (records stop at TRACE_KEEP) */
    TR_EXIT,   /* task tid ended: a[0] wait status, a[1] ns it was on a CPU, a[2] ns it waited for one */
    TR_MAIN,   /* the program (main pid) was reaped: a[0] status, a[1] user us, a[2] sys us, t2 run delay ns */
    TR_PEEK,   /* task tid opened /proc/self/NAME (maps, status, ...): a[0..1] NAME (16 bytes) */
    TR_FORGED, /* task tid wrote into the probe's pipe from code not the probe's, or got another descriptor
                * of it: a[0] the instruction pointer (PF_REOPENED: the new fd), a[1] the call, a[2] PF_* */
    TR_END,    /* the tracer is done: nothing follows; a[0]: how many times it stopped the program */
    TR_STALL,  /* the stall test's result (trace_stall): other = enum stall_outcome | short stops << 8, t..t2 the stop,
                * tid the watched thread, tgid the stopped one, a[0] watched's CPU ns and a[1] its ns
                * waiting for a CPU during the stop, a[2] the stopped one's CPU ns at the stop */
};
enum { TI_SEIZED, TI_NO_PTRACE, TI_NO_SECCOMP };

struct trace_rec {
    int64_t t, t2;       /* CLOCK_MONOTONIC ns; t2: a call's return (0: it never returned) */
    int32_t kind, tid, tgid, other;
    int64_t a[4];
};

/* SK_PIPE_WRITE's result field: the number the bytes written say (trace.c,
 * written_value), or this when they are not one number. */
#define PIPE_VALUE_UNKNOWN INT64_MIN

#define TRACE_KEEP 2000 /* call records per task and kind; past this only counted */

/* In the tracer process: forks; the child runs child(arg) (which must end in
 * exec, see below); the tracer traces it and every task
 * it makes, writing records to out_fd, and exits when all are gone.
 * close_fds: descriptors the tracer closes once the child has them. */
_Noreturn void trace_program(int out_fd, void (*child)(void *arg, int sync_fd), void *arg, const int *close_fds,
                             size_t nclose);
/* In the program's child, before it drops privileges (a tracer without
 * CAP_SYS_PTRACE, as root in Docker, may attach only to its own uid): waits
 * until the tracer is attached; false if it could not attach. Then, just
 * before exec (after PR_SET_NO_NEW_PRIVS), trace_install_filter() installs the
 * seccomp filter; it returns 0 or an errno (then the run is not traced: the
 * tracer sees no filter and says so). Both async-signal-safe. */
bool trace_wait_attach(int sync_fd);
/* In the tracer process, before trace_program(): also stop at read/readv/
 * write/writev and record those on a pipe (SK_PIPE_WRITE/READ, with its inode). */
void trace_watch_pipes(bool on);
/* Also stop at open/openat/openat2 (on by default) to see /proc/self/maps read
 * (TR_PEEK); off under --exec, where an interpreter opens hundreds of files
 * and may read them for its own reasons. */
void trace_watch_opens(bool on);
int trace_install_filter(void);
/* In the tracer process, before trace_program(): the probe's library (its path as passed in
 * LD_PRELOAD; NULL: no probe). Every write into PROBE_FD then stops, and is the probe's only if
 * the probe's own code made it; any other is a TR_FORGED record, and so is a new descriptor of
 * the probe's pipe (an open of /proc/self/fd/N, SCM_RIGHTS). */
void trace_set_probe(const char *path);
/* In the tracer process, before trace_program(): the stall test (lab 3's
 * atomic mode: a lock-free increment never makes a thread wait for another;
 * lab 2's parallel and lab 3's cpu: workers that count in parallel never wait
 * for each other). The workers: the program's first two threads beyond its
 * first, or (sp->processes) the first two processes its first one forks.
 * Once they have used sp->at and sp->watch_at (0: at too) s of CPU, and the
 * first half as much again, the tracer stops the first (PTRACE_INTERRUPT;
 * sp->swap: the second) and keeps it stopped while the other runs, until
 * that one ends (it did not wait), has used sp->budget s more CPU (it
 * spins), has slept sp->sleep s (it is blocked), or sp->wall s passed; then
 * it lets the stopped one go on, and the run ends as it would have. One
 * TR_STALL record says which. sp->at 0: off. */
void trace_stall(const struct stall_plan *sp);

/* In the grader: applies whole records from buf[0..n) to o (t0: the run's
 * start, CLOCK_MONOTONIC seconds); returns the bytes used. Sets *main_pid
 * from TR_INFO, *main_status / *main_done from TR_MAIN, *ended at TR_END. */
struct trace_state {
    pid_t main_pid;
    int main_status;
    double user, sys, run_delay;
    int main_done, ended;
    double main_exit_t;  /* seconds after t0 when the main process was reaped */
    bool peek_told;      /* a TR_PEEK is already in o->tampering */
    int forged_told;     /* TR_FORGED records in o->tampering (the first few are told) */
};
size_t trace_take(struct observation *o, struct trace_state *st, const char *buf, size_t n, double t0);

#endif
