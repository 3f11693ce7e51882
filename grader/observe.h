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
#include <sys/types.h>

enum stream { STREAM_OUT = 1, STREAM_ERR = 2 };

struct line {
    double t;         /* seconds after the program started */
    enum stream stream;
    char *text;       /* without the newline; never NULL; may hold NULs (then len > strlen) */
    size_t len;       /* bytes in text, exactly as printed: a '\r' or a NUL stays */
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

    struct line *lines;      /* stdout and stderr, in arrival order */
    size_t nlines;
    size_t out_bytes;        /* everything printed, kept or not */
    size_t dropped_lines;    /* lines past the cap, counted but not kept */
    char *tail;              /* the last bytes printed when lines were dropped */

    struct call_event *events;
    size_t nevents;

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
