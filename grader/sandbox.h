/* sandbox.h - run one program safely and watch it.
 *
 * sandbox_run() starts a program in a scratch folder, in its own session,
 * with stdin from /dev/null, stdout on a pseudo-terminal or a pipe, stderr on
 * a pipe, and (optionally) the probe preloaded. It timestamps each output line
 * as it arrives, enforces a wall-clock limit and resource limits, caps the
 * output it keeps, measures the CPU time of the whole process tree, and kills
 * and reaps everything the program started before it returns. It knows
 * nothing about labs.
 *
 * When the grader runs as root the program runs as an unprivileged uid
 * (SANDBOX_UID_BASE + slot), which also makes the process limit bite and
 * lets the grader kill every process of that uid at the end. Where root may
 * also make mount and IPC namespaces, each run gets empty /tmp, /var/tmp,
 * /dev/shm and System V IPC of its own (the folders it needs bound back in)
 * and the kit's solutions/ and tests/ are hidden; otherwise sandbox_clean_up()
 * empties what the uid left after each grading. No PID namespace (lab 2).
 * The address-space limit (RLIMIT_AS) counts every mapping, shared ones too.
 *
 * See also: observe.h (what it fills), build.c (compiles through it).
 */
#ifndef GRADER_SANDBOX_H
#define GRADER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "observe.h"
#include "util.h"

#define SANDBOX_UID_BASE 61000
#define SANDBOX_DEFAULT_AS (512LL << 20)   /* a program's address space: stops a 640 MiB shared mapping */
#define SANDBOX_MEMCHECK_AS (640LL << 20)  /* under valgrind, which keeps its own tables there too (its
                                            * runs of the labs need < 128 MiB); a 640 MiB mapping still fails */

/* A driver is grader code that talks to the program while it runs (lab 4:
 * the grader is the server's client). sandbox_run starts it in a thread of
 * its own as soon as the program's first stdout line arrives, keeps reading
 * the program's output meanwhile, and joins it before it kills the program's
 * tree. It records what it sees in the observation (drive_obs: exchanges and
 * metrics only; the sandbox owns the rest) and must return soon after
 * drive_over() says so. It may talk to the program only over loopback. A
 * driven program that prints no stdout line within 15 s is stopped there
 * (timed_out): there is nothing to drive. */
struct drive;
typedef void (*driver_fn)(struct drive *d, void *arg);

struct run_spec {
    char *const *argv;        /* argv[0] is looked up in PATH when it has no '/' */
    const char *dir;          /* working directory */
    bool pty;                 /* stdout on a pseudo-terminal, else a pipe */
    bool line_pids;           /* (not pty) stdout on a socket that says which process wrote each
                               * line (SO_PASSCRED): struct line.pid */
    bool probe;               /* preload the probe and collect its records */
    bool probe_must_speak;    /* the program surely loads it (built by the grader): silence is tampering */
    double time_limit;        /* wall seconds */
    bool extend_limit;        /* a CPU-bound program gets back the time others took (up to half the limit) */
    double extend_max;        /* ...and at most this many seconds (> 0) */
    int max_procs;            /* processes and threads (RLIMIT_NPROC), 0: default */
    long long max_data;       /* bytes of data memory (RLIMIT_DATA), 0: default, -1: none */
    long long max_as;         /* bytes of address space, every mapping, shared ones too
                               * (RLIMIT_AS), 0: default, -1: none (ThreadSanitizer) */
    char *const *env;         /* extra NAME=value settings, NULL-terminated, or NULL */
    const char *home;         /* $HOME (an empty folder the program cannot write), NULL: dir */
    bool valgrind_log;        /* a pipe at SANDBOX_LOG_FD, read into obs->valgrind_log */
    driver_fn driver;         /* NULL: none (see struct drive above) */
    void *driver_arg;
    bool trace;               /* run under the grader's tracer (trace.h): the kernel's view */
    bool sample;              /* with trace: sample every task's CPU every few ms (cpu_sample) */
    bool watch_pipes;         /* with trace: every read/write on a pipe too (SK_PIPE_*): lab 2's data flow */
    struct stall_plan stall;  /* with trace, stall.at > 0: the stall test (trace.h: trace_stall); its result in obs->stall */
    long long max_file;       /* bytes a file may grow to (RLIMIT_FSIZE), 0: default */
    const char *tmpdir;       /* TMPDIR for the run (NULL: dir) */
    const char *const *visible; /* folders under /tmp the run needs, NULL-terminated (NULL:
                               * dir): kept when the run gets a private /tmp */
};

/* Where valgrind writes its log (--log-fd): a pipe at a descriptor inside
 * valgrind's reserved range, just below the RLIMIT_NOFILE hard limit (1024)
 * the sandbox sets, which valgrind refuses to the program (EBADF). The
 * program may still reopen it through /proc/self/fd and add lines, never
 * remove or rewrite any: judge_memory counts only what makes a verdict worse. */
#define SANDBOX_LOG_FD 1020
#define SANDBOX_LOG_FD_ARG "--log-fd=1020"

/* For a driver. */
const char *drive_first_line(const struct drive *d); /* the program's first stdout line */
int drive_pid(const struct drive *d);                /* the program's main process */
double drive_now(const struct drive *d);             /* s since the program started (the lines' clock) */
bool drive_over(const struct drive *d);              /* it ended, or the run is being stopped */
struct observation *drive_obs(struct drive *d);
/* Sends sig to the main process if it is still running (never to anything else). */
void drive_signal(struct drive *d, int sig);
/* Waits up to seconds for the main process to end; true if it did. */
bool drive_wait_exit(struct drive *d, double seconds);

/* Once per grader process: become a subreaper and choose the sandbox user,
 * uid SANDBOX_UID_BASE + slot (slot -1: the first one no other grader holds). */
void sandbox_init(int slot);
/* The uid student code runs as (-1: the grader's own, when not root). */
int sandbox_uid(void);
/* A folder the sandbox user owns (0700), for one grading. Caller removes it. */
char *sandbox_make_dir(void);
/* A fresh folder of the grader's own that this grader's sandbox user may
 * read (0750, its group) and no other grading's may (root); 0755 otherwise. */
char *make_scratch_dir(void);
/* Gives a file or folder to the sandbox user (no-op when not root). */
void sandbox_chown(const char *path);
/* Takes a folder tree back from the sandbox user and makes it read-only to
 * it (no-op when not root): a built program cannot rewrite itself for later runs. */
void sandbox_seal(const char *path);
/* True once SIGINT, SIGTERM or SIGHUP reached the grader: the run in progress
 * was stopped; the caller should clean up and exit. */
bool sandbox_interrupted(void);
/* Kills and reaps every process below this one (batch grading's clean-up). */
void sandbox_kill_strays(void);
/* One line on what protection is in force, for reports. */
const char *sandbox_protection(void);
/* True when each run gets a private /tmp, /var/tmp, /dev/shm and System V
 * IPC, and the kit's solutions/ and tests/ are hidden (mount and IPC
 * namespaces: root with CAP_SYS_ADMIN). */
bool sandbox_private_tmp(void);
/* A folder only root may write where graders keep small shared facts (the
 * slots' locks, measured tool costs), or NULL when not root. */
const char *sandbox_state_dir(void);
/* Without private mounts, as root: removes every file the sandbox uid owns
 * in /tmp, /var/tmp and /dev/shm and its System V IPC objects, and appends a
 * line saying what it removed to *said (nothing when there was nothing). */
void sandbox_clean_up(struct sbuf *said);

/* Runs spec; fills *obs (obs_free it). Never fails: a program that cannot be
 * started is an observation with started == false and the reason on stderr. */
void sandbox_run(const struct run_spec *spec, struct observation *obs);

/* Busy seconds so far of the CPUs this process may run on (/proc/stat), -1 if
 * unknown: sampled twice, what everyone used in between (engine.c waits for a
 * quiet moment with it). */
double cpus_busy(void);

#endif
