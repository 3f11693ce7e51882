/* observe.h - what one run of a program was seen to do, before any judging.
 *
 * The sandbox fills a struct observation; judges only read it. It holds the
 * output lines with the time each arrived, how the program ended, its CPU
 * time, and the probe's records of the calls it made. Nothing here decides.
 *
 * Output lines are matched against a lab's line patterns (match_line), which
 * turn "Task 3 finished after 0.25 sec" into a typed event the judges use.
 *
 * See also: sandbox.c (fills it), judge.h (reads it), probe/probe.c.
 */
#ifndef GRADER_OBSERVE_H
#define GRADER_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum stream { STREAM_OUT = 1, STREAM_ERR = 2 };

struct line {
    double t;         /* seconds after the program started */
    enum stream stream;
    char *text;       /* without the newline; never NULL; may hold NULs (then len > strlen) */
    size_t len;       /* bytes in text, exactly as printed: a '\r' or a NUL stays */
    int pid;          /* the process that wrote it, as the kernel tells (run_spec.line_pids):
                       * 0 unknown, -1 written by several */
};

/* One probe record: a watched call, by process pid / thread tid. */
struct call_event {
    double t;
    int pid, tid;
    char call[20];
    long count;       /* calls of this kind by this process so far */
    long arg;
};

/* One request and its reply as a driver (the grader acting as the program's
 * client, lab 4) saw them, on the lines' clock. */
struct exchange {
    int conn;                /* the client connection, numbered by the driver */
    int phase;               /* which part of the driver's session (lab-defined) */
    double sent, replied;    /* s after the program started; replied < 0: no reply */
    char *request, *reply;   /* without the newline; reply NULL when none came */
};

/* A named number a driver measured (a descriptor count, a task's CPU, ...). */
struct metric {
    char name[40];
    double value;
};

/* What the kernel saw (grader/trace.c): the calls the seccomp filter stops at. */
enum sys_kind {
    SK_SELECT, SK_PSELECT, SK_POLL, SK_PPOLL, SK_EPOLL, SK_NANOSLEEP, SK_CLOCK_NANOSLEEP,
    SK_SIGWAIT,     /* pause, rt_sigsuspend, rt_sigtimedwait */
    SK_TIMER,       /* alarm, setitimer, timer_create, timerfd_create/settime, signalfd */
    SK_FUTEX_TIMED, /* a futex wait with a time-out (pthread_cond_timedwait, sem_timedwait) */
    SK_OTHER_WAIT,  /* io_uring, semtimedop, mq_timedreceive, io_getevents */
    SK_WAIT,        /* wait4, waitid */
    SK_KILL,        /* kill, tkill, tgkill */
    SK_SETSID, SK_EXIT_GROUP,
    SK_PROBE_FD,    /* dup/dup2/dup3/fcntl F_DUPFD/pidfd_getfd/close/close_range on the probe's descriptor */
    SK_FOREIGN,     /* a call through another ABI (int 0x80, x32) */
    SK_PIPE_WRITE,  /* write/writev on a pipe (runs with run_spec.watch_pipes): arg its inode, negative when
                     * the main process held no read end of it then; ret the number its bytes say (4 or 8
                     * bytes binary, or decimal text), LONG_MIN if not one number */
    SK_PIPE_READ,   /* (reads are not traced) at the main process's exit, a pipe the other processes wrote
                     * into that still held every byte they wrote: nobody read it (runs with
                     * run_spec.watch_pipes): arg its inode, ret the bytes left in it */
    SK_N
};
extern const char *const sys_kind_name[SK_N];

/* One task (process or thread) the kernel ran for the program. */
struct task {
    int tid, tgid;
    int parent;              /* the task that created it; 0: the program itself */
    bool is_thread;          /* shares its creator's process (CLONE_THREAD) */
    double start, end;       /* s after the run started; end -1: never seen to end */
    double exit_group_t;     /* when it called exit_group, or -1 */
    int execs;
    char comm[17];           /* its name after its last exec */
    int wait_status;         /* as wait() gives it, when end >= 0 */
    double cpu;              /* s it was on a CPU in all (read as it ended), 0: unknown */
    long calls[SK_N];        /* watched calls it made */
};

/* One watched call (the first TRACE_KEEP of each kind per task). */
struct sys_call {
    double t, t_end;         /* entry, return (-1: never returned) */
    int tid, tgid;
    enum sys_kind kind;
    long arg, ret;           /* first argument; result (-errno on failure) */
};

/* One reading of a task's scheduler figures (/proc/PID/task/TID/schedstat),
 * taken by the grader every few ms while a traced run goes on. */
struct cpu_sample {
    double t;                /* s after the run started */
    int tid, round;          /* round: the sampling pass it belongs to */
    double cpu, wait;        /* s on a CPU, s ready and waiting for one, so far */
    long syscall;            /* the call it was blocked in (/proc/PID/task/TID/syscall), -1: none */
};

/* The stall test (trace.h, trace_stall; lab 3's atomic mode, the turns test of
 * lab 2's parallel and lab 3's cpu: judge.h): the tracer stops one of the
 * program's first two workers (threads of its first process, or processes it
 * forked) and watches the other. What to do: */
struct stall_plan {
    double at;               /* > 0: the test is on; s of CPU the stopped worker has used first */
    double watch_at;         /* s of CPU the watched one has used first (0: at) */
    double budget;           /* s of CPU the watched one may use without ending: it spins */
    double sleep;            /* s it may sleep without ending: it is blocked */
    double wall;             /* s a stop lasts at most */
    bool swap;               /* stop the second worker and watch the first */
    bool processes;          /* the workers are the processes the first one forks, not its threads */
    bool continuous;         /* a sleep counts only in one stretch (a waiter that naps and spins by turns sleeps none) */
};
/* What it saw: */
enum stall_outcome {
    STALL_NONE,     /* not asked for, or no record came */
    STALL_FINISHED, /* the watched thread ended while the other stayed stopped: it did not wait for it */
    STALL_SPUN,     /* it used the CPU budget without ending: spinning, waiting for the stopped one */
    STALL_SLEPT,    /* it slept without ending: blocked, waiting for the stopped one */
    STALL_LATE,     /* a thread ended (or was missing) before both had counted: no test */
    STALL_CUT,      /* neither within the wall-clock limit (it was kept off the CPUs): no verdict */
    STALL_FAILED,   /* the tracer could not stop the thread */
    STALL_LIBRARY,  /* it slept, not on a lock of the program's own (printf's stdout lock, no futex): no verdict */
    STALL_HANDED,   /* it made a new task while the other was stopped: it handed its wait on */
    STALL_N
};
extern const char *const stall_outcome_name[STALL_N];
struct stall_test {
    enum stall_outcome outcome;
    int stopped_tid, watched_tid;
    double t, t_end;         /* the stop and its end (the thread resumed), s after the run started */
    double cpu, delay;       /* the watched thread's CPU s and s waiting for a CPU, during the stop */
    double stopped_cpu;      /* the stopped thread's CPU s when it was stopped */
    double watched_cpu;      /* the watched thread's CPU s then (0: not stopped, or an older record) */
    int probes;              /* short stops before it (each when the watched thread was seen asleep) */
};

struct observation {
    bool started;            /* false: the program could not be run at all */
    double wall;             /* start to exit of the main process, seconds */
    double cpu_user, cpu_sys;/* whole process tree */
    double run_delay;        /* main process: s ready to run but waiting for a CPU; -1 unknown */
    double others_cpu;       /* CPU s the rest of the machine used on our CPUs while the
                              * program ran (a busy machine skews timing); 0: none or unknown */
    bool exited;
    int exit_code;           /* when exited */
    int term_signal;         /* when killed by a signal, else 0 */
    bool timed_out;          /* the grader stopped it at the time limit */
    bool output_flood;       /* the grader stopped it for endless output */
    double time_limit;
    double time_extra;       /* s of it given back because other programs took the CPUs (sandbox.c) */

    struct line *lines;      /* stdout and stderr, in arrival order */
    size_t nlines;
    size_t out_bytes;        /* everything printed, kept or not */
    size_t dropped_lines;    /* lines past the cap, counted but not kept */
    char *tail;              /* the last bytes printed when lines were dropped */

    struct call_event *events;
    size_t nevents;
    bool probe_on;           /* the probe was loaded into this run */
    bool probe_must_speak;   /* and the program is one the grader built (dynamically linked C):
                              * a probe that says nothing was silenced (--exec may run static code) */

    int leftover_procs;      /* still running after the main process exited */
    int zombies;             /* exited but never reaped by their parent */
    char *valgrind_log;      /* memcheck/helgrind runs: all per-process logs, joined */
    const char *tool;        /* what watched the run: NULL, "memcheck", "tsan", "helgrind" */
    char *protection;        /* what the sandbox enforced, for the report */
    /* Evidence that the program tampered with the grader's instruments (its
     * probe pipe, a log, forged records, ...), one line each; any line fails
     * the 'integrity' check. Filled by whichever stage saw it (obs_tamper). */
    char *tampering;
    /* What a driver (sandbox.h: run_spec.driver) did and measured while the
     * program ran; empty for programs that are not driven. */
    struct exchange *exchanges;
    size_t nexchanges;
    struct metric *metrics;
    size_t nmetrics;

    /* The kernel's view (grader/trace.c); traced false: not traced, trace_off says why. */
    bool traced;
    char *trace_off;
    struct task *tasks;
    size_t ntasks;
    struct sys_call *calls;
    size_t ncalls;
    long trace_stops;        /* times the tracer stopped the program (its cost; not recorded by obsio) */
    struct cpu_sample *samples; /* per task, in rounds, while the program ran */
    size_t nsamples;
    struct stall_test stall;    /* runs with run_spec.stall.at > 0 */
};

void obs_free(struct observation *o);
/* Adds one line of tampering evidence (printf-style). */
void obs_tamper(struct observation *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A driver's records: one exchange (returned for the reply to be filled in
 * later), one metric (a later one of the same name is added, not replaced). */
struct exchange *obs_add_exchange(struct observation *o, int conn, int phase, double sent, const char *request);
void obs_metric(struct observation *o, const char *name, double value);
/* The first metric of that name, or dflt. */
double obs_get_metric(const struct observation *o, const char *name, double dflt);
void obs_add_line(struct observation *o, double t, enum stream s, const char *text, size_t len);
/* Parses one probe record; returns false for a malformed one (ignored). */
bool obs_add_probe_record(struct observation *o, const char *rec, double t0);

/* Probe tallies. */
long obs_calls(const struct observation *o, const char *call);  /* summed over processes */
int obs_processes(const struct observation *o);                /* distinct pids seen */
int obs_threads_started(const struct observation *o);
/* Time of the n-th (1-based) event of a call across all processes, or -1. */
double obs_call_time(const struct observation *o, const char *call, long nth);
double obs_cpu(const struct observation *o);

/* Tracer tallies (the kernel's view). */
/* CPU time of every task but the program's first (its workers: children, threads), as each
 * ended; -1 when the run was not traced or a task's figure is missing. */
double obs_workers_cpu(const struct observation *o);
struct task *obs_task(struct observation *o, int tid, bool add);
const struct task *obs_main_task(const struct observation *o);      /* the program's first task */
int obs_kernel_processes(const struct observation *o);              /* processes, the program's included */
int obs_kernel_threads(const struct observation *o);                /* threads beyond each process's first */
long obs_sys_calls(const struct observation *o, int tgid, enum sys_kind k); /* tgid 0: every process */
/* Children (processes) created by process tgid, and how many of them ran exec. */
int obs_children_of(const struct observation *o, int tgid, int *execd);
/* Threads created in process tgid. */
int obs_threads_of(const struct observation *o, int tgid);
/* Calls of kind k by process tgid (0: any) as "select 3 times, poll 1 time". */
void obs_describe_sys(const struct observation *o, int tgid, const enum sys_kind *kinds, size_t n,
                      char *out, size_t size);
/* Compares the probe's records with the tracer's and records tampering for
 * anything the probe says that the kernel did not see (forged records) or a
 * probe that said nothing while the kernel saw the program run. */
void obs_cross_check(struct observation *o);
/* Workers' concurrency from the CPU samples: over the sampling intervals, the
 * CPU time the workers (tasks for which is_worker says true) used, divided by
 * the time at least one of them was on a CPU: 1.0 one at a time, up to the
 * number of CPUs when they ran side by side. A spinning non-worker (a parent
 * polling) does not count. Returns -1 when there are too few samples; fills
 * *worker_cpu (s, sampled) and *busy (s with a worker on a CPU). */
double obs_worker_concurrency(const struct observation *o, bool (*is_worker)(const struct observation *o,
                                                                             const struct task *t),
                              double *worker_cpu, double *busy);
/* The kernel's view as text, for debugging (GRADE_DEBUG_TRACE=1). */
/* Seconds the workers spent ready to run but waiting for a CPU (their sampled schedstat run delay). */
double obs_workers_cpu_wait(const struct observation *o,
                            bool (*is_worker)(const struct observation *o, const struct task *t));
void obs_dump_trace(const struct observation *o, FILE *f);

/* --- Output line patterns --------------------------------------------------
 * A pattern is the line's text with placeholders:
 *   {i}  a non-negative decimal integer     {n}  a decimal number (0.25, 3, 1.500)
 *   {t2} a decimal number with exactly two decimals
 * The whole line must match, byte for byte: a trailing space, a '\r' or any
 * other control byte makes it another line.                                  */
#define MAX_FIELDS 4
struct match {
    int pattern;              /* index into the lab's patterns, -1: none */
    int nfields;
    double field[MAX_FIELDS]; /* values of the placeholders, in order */
};
bool match_line(const char *pattern, const char *line, struct match *m);
/* match_line for an output line: one holding a NUL never matches. */
bool match_output_line(const char *pattern, const struct line *l, struct match *m);
/* The line as it may be shown in a report (caller frees): control bytes as \xNN. */
char *line_printable(const struct line *l);
/* Tries every pattern; returns the index that matched, or -1. */
int match_any(const char *const *patterns, size_t npatterns, const char *line, struct match *m);

#endif
