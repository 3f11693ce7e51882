/* judge.h - judges and judging helpers shared by every lab. All pure.
 *
 * parse_output()  matches a run's stdout lines against the lab's patterns.
 * check_order()   a partial order over those events ("every A before every B").
 * judge_memory()  reads valgrind memcheck logs.
 * judge_bad_args() exit status 2, a message, no normal output, no crash.
 * describe_calls() "called nanosleep 4 times, select 3 times".
 *
 * See also: spec.h, labs/lab1.c (a lab's own judges), tests/check_judge.c.
 */
#ifndef GRADER_JUDGE_H
#define GRADER_JUDGE_H

#include "spec.h"

/* One stdout line, matched. */
struct out_event {
    size_t line;        /* index into obs->lines */
    int pattern;        /* -1: the line matched no pattern */
    int id;             /* the first field as an integer (task number), or -1 */
    struct match m;
    double t;
    const char *text;   /* the line as a report may show it: control bytes as \xNN */
};
struct parsed {
    struct out_event *ev;
    size_t n;
    size_t unknown;     /* lines that matched no pattern */
};
void parse_output(const struct lab *lab, const struct observation *o, struct parsed *out);
void parsed_free(struct parsed *p);
/* Events of one pattern (and id, or -1 for any id). */
size_t count_events(const struct parsed *p, int pattern, int id);
const struct out_event *find_event(const struct parsed *p, int pattern, int id);

/* The part of a format check every lab shares. Workers are numbered 1..count
 * and each prints a 'started' and a 'finished' line. */
struct worker_lines {
    int started, finished;             /* the two patterns */
    const char *started_shown;         /* "Task %d started": how the report names them */
    const char *finished_shown;        /* "Task %d finished after ..." */
    const char *workers;               /* "tasks", for "there are only 3 tasks in this run" */
    const char *stray_hint;            /* the hint for a line naming a worker that does not exist */
};
/* Fails v at the first stdout line that matches no pattern of the lab. */
void expect_known_lines(const struct parsed *out, struct verdict *v);
/* Fails v for each worker's line not printed exactly once, and at the first
 * line that names a worker outside 1..count. */
void expect_worker_lines(const struct parsed *out, int count, const struct worker_lines *w, struct verdict *v);
/* Fails v unless the pattern's line is printed exactly once ("shown" names it). */
void expect_once(const struct parsed *out, int pattern, const char *shown, struct verdict *v);

/* Partial order: every event selected by a comes before every event selected by b. */
struct selector {
    int pattern;        /* -1: any matched line */
    int id;             /* -1: any id */
};
struct order_rule {
    struct selector a, b;
    const char *why;    /* shown when broken: "every started line comes before any finished line" */
};
/* Returns the index of the first broken rule, or -1; late_a/early_b say which lines. */
int check_order(const struct parsed *p, const struct order_rule *rules, size_t nrules,
                const struct out_event **late_a, const struct out_event **early_b);

/* One compiler warning: "sleeper.c:92:5: warning: implicit declaration of
 * function 'usleep' [-Wimplicit-function-declaration]" gives file, line, text
 * (after "warning: "), flag ("-Wimplicit-function-declaration") and name
 * (the first quoted word: "usleep"). */
struct cc_warning {
    char file[128];
    int line;
    char text[300];
    char flag[64];
    char name[64];
};
/* Fills up to max warnings from a compiler's output; returns how many there were in all. */
int parse_compiler_warnings(const char *log, struct cc_warning *w, int max);

/* The run's argv as a shell takes it back: 0.60 'a b' '' (quoted only when
 * needed), "none" for no arguments. Copying it reproduces the run. */
void describe_argv(const struct params *p, struct sbuf *out);
void shell_quote(const char *arg, struct sbuf *out);

/* Generic judges a lab can list directly in its checks. */
void judge_build(const struct evidence *ev, struct verdict *v);
void judge_memory(const struct evidence *ev, struct verdict *v);
void judge_bad_args(const struct evidence *ev, struct verdict *v);
/* integrity (PLAN_INTEGRITY, every lab's last check): fails with the evidence
 * when any run saw tampering (o->tampering, valgrind's log written into) or
 * the source depends on the grader's instruments (ev->source_findings). The
 * engine then sets the whole score to 0. INTEGRITY_CHECK is its table entry:
 * worth 0 points (it earns nothing, it can only take everything away). */
void judge_integrity(const struct evidence *ev, struct verdict *v);
#define INTEGRITY_CHECK                                                                                          \
    {"integrity", "does not tamper with the grader: its probe, logs and tools, or code that detects them",      \
     TAG_INTEGRITY, 0, PLAN_INTEGRITY, 1, false, judge_integrity}
/* Appends a line to why for each sign that a program wrote into valgrind's
 * log (two summaries for one process; a write to the log's descriptor). */
void valgrind_tampering(const char *log, struct sbuf *why);

/* How the run ended, in words ("exited with status 0", "killed by SIGSEGV"). */
void describe_end(const struct observation *o, struct sbuf *out);
/* Notes event-loop calls that failed (the probe's "wait_failed"), with the
 * EINTR hint when a signal interrupted them. The engine adds it to failures. */
void note_failed_waits(const struct observation *o, struct verdict *v);
/* True for a run that ended normally with status 0. */
bool ended_well(const struct observation *o);
/* A verdict for a run that did not end well; returns true if it failed v. */
bool fail_if_crashed(const struct observation *o, struct verdict *v);
/* The probe's tallies in words; only nonzero calls from the list. */
void describe_calls(const struct observation *o, const char *const *calls, size_t ncalls,
                    struct sbuf *out);
/* Quotes up to max stdout/stderr lines into v's detail. */
/* Detail lines: the tasks the kernel saw (tracer), with their watched calls,
 * and any tampering evidence. */
void note_kernel_view(const struct observation *o, struct verdict *v);
/* Parallelism seen from the workers (children in lab 2, threads in lab 3):
 *  - conc: the workers' CPU over the time at least one was on a CPU, from the
 *    grader's samples of each task (obs_worker_concurrency; a spinning parent
 *    is no worker);
 *  - speedup: N x CPU(1 worker) / wall(N workers), same work per worker, from
 *    the paired runs (evidence.pair_*; a lock held around the work gives ~1,
 *    and noise only lowers it).
 * A known figure below its bar (1 + PAIR_MARGIN x (min(N, CPUs) - 1)) fails;
 * these 2-CPU machines may be two hyperthreads of one core: a right program
 * measured 1.17-1.98, a serial one never above 1.00. */
struct parallel_view {
    int n, k;                     /* workers; min(N, CPUs): the most that can run at once */
    double bar;                   /* what each figure must reach */
    bool conc_known, speed_known;
    double conc, worker_cpu, busy;
    double speedup;
    int npairs;
};
#define PAIR_MARGIN 0.15
void parallel_view(const struct evidence *ev, const struct observation *o, int n,
                   bool (*is_worker)(const struct observation *o, const struct task *t), struct parallel_view *pv);
/* Whether the workers waited for a CPU while other programs held them, well beyond what N
 * workers on fewer CPUs wait anyway: their slowness was the machine's, not proof of the program's.
 * *waited: their run delay in s. */
bool parallel_crowded_out(const struct evidence *ev, const struct observation *o, int n,
                          bool (*is_worker)(const struct observation *o, const struct task *t), double *waited);
/* Whether a failed run was measured on quiet CPUs: the workers hardly waited for one beyond
 * what N workers on fewer CPUs wait anyway (their run delay, from the kernel), whatever else
 * ran, and their CPU per iteration was in line with one worker's alone (the paired runs: no
 * slower CPUs). Another attempt would measure the same: the verdict's final (struct verdict). */
bool parallel_quiet(const struct evidence *ev, const struct observation *o, int n,
                    bool (*is_worker)(const struct observation *o, const struct task *t));
bool parallel_conc_ok(const struct parallel_view *pv);
bool parallel_speed_ok(const struct parallel_view *pv);
/* "workers on a CPU at once ×1.9 (sampled); paired runs: speed-up ×1.8 (1 vs 3 workers)". */
void describe_parallel(const struct parallel_view *pv, const char *workers, struct sbuf *out);
void quote_output(const struct observation *o, struct verdict *v, size_t max);

#endif
