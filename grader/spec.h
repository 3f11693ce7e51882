/* spec.h - what a lab is, as data the engine reads.
 *
 * A lab file (grader/labs/labN.c) fills one struct lab: the student file and
 * program, how to draw fresh parameters for a run and turn them into argv, the
 * output line patterns, and the checks with their points, tags, the evidence
 * each needs (its plan) and its judge. Adding a lab is one file plus one line
 * in grader/labs.c.
 *
 * Judges are pure: evidence in, verdict out. No I/O, no clocks.
 *
 * See also: engine.c (runs the plans), judge.h (shared judges), hints.h.
 */
#ifndef GRADER_SPEC_H
#define GRADER_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "observe.h"
#include "util.h"

/* Test tags (grader contract). */
enum tag {
    TAG_BUILD = 1 << 0, TAG_FORMAT = 1 << 1, TAG_ORDER = 1 << 2, TAG_TIMING = 1 << 3,
    TAG_CPU = 1 << 4, TAG_STRUCTURE = 1 << 5, TAG_CORRECTNESS = 1 << 6, TAG_MEMORY = 1 << 7,
    TAG_RACE = 1 << 8, TAG_ERRORS = 1 << 9, TAG_INTEGRITY = 1 << 10,
};
#define NTAGS 11
extern const char *const tag_names[NTAGS];

enum plan;

/* One run's parameters, drawn fresh for every run so a replayed output fails. */
#define MAX_VALUES 16
#define MAX_ARGS 8
struct params {
    int plan;                   /* the plan this run is for (enum plan), set before draw() */
    long long calibrated;       /* iterations worth about CALIBRATE_CPU s of CPU here, 0: unknown */
    int count;                  /* tasks, processes or threads */
    double value[MAX_VALUES];   /* lab 1: each task's delay in seconds */
    long long iterations;       /* labs 2 and 3 */
    char mode[64];              /* lab 3: the mode; lab 4: the driver's phases */
    const char *variant;        /* the check's run variant (lab->variant), set before draw(); NULL: none */
    const char *retry_of;       /* a fresh run for a retry of this check (its name), set before
                                 * draw(); NULL: a first run, shared by every check of its plan
                                 * and variant (a lab may then draw only what that check needs) */
    const char *only;           /* grade --only (a check or a tag), NULL: every check; a lab may
                                 * then gather only the evidence those checks need */
    int workers;                /* lab 4: WORKERS */
    bool defaults;              /* the program runs with no arguments */
    int nargs;
    char arg[MAX_ARGS][32];     /* the command-line arguments built from the above */
    const char *refused;        /* bad-args runs: why the skeleton's spec refuses them ("not a number") */
    /* A stall run (lab->stall): stall.at > 0, the tracer's stall test (trace.h, trace_stall). */
    struct stall_plan stall;
};

/* A small deterministic random source (seeded per grading, printed in the report). */
struct rng {
    uint64_t state;
};
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r);        /* [0, 1) */
int rng_below(struct rng *r, int n);      /* [0, n) */

/* The evidence a check needs. */
enum plan {
    PLAN_BUILD,      /* the build result only */
    PLAN_RUN,        /* one run under a pty with the probe */
    PLAN_RUN_PIPE,   /* one run with stdout a pipe, with the probe */
    PLAN_MEMCHECK,   /* one run under valgrind memcheck, a log per process */
    PLAN_BAD_ARGS,   /* one run per entry of the lab's bad_args */
    PLAN_RACE,       /* one run of a ThreadSanitizer build (helgrind where TSan cannot run) */
    PLAN_INTEGRITY,  /* no run: every run made so far, and the source preprocessed two ways
                      * (list the check last, after the checks whose runs it reads) */
};
#define NPLANS (PLAN_INTEGRITY + 1)

/* Labs that size their work on this machine aim for this much CPU per worker. */
#define CALIBRATE_CPU 0.25

struct build_result {
    bool attempted;  /* false under --exec */
    bool ok;
    char *log;       /* compiler output */
    int warnings;
    double seconds;
};

struct lab;
struct drive;    /* sandbox.h */
struct timeline; /* timeline.h */
struct evidence {
    const struct lab *lab;
    const struct build_result *build;
    bool exec_mode;              /* --exec: not built from C by the grader */
    size_t nruns;
    const struct params *params; /* [nruns] */
    const struct observation *runs; /* [nruns] */
    const struct observation *control; /* bad-args checks: a run with good arguments */
    int cpus;                    /* CPUs this grading may use */
    /* PLAN_INTEGRITY: every run of the grading, and what the source shows
     * (one line per finding, "" none, NULL: not looked at: --exec or no build). */
    const struct observation *const *all_runs;
    size_t nall;
    const char *source_findings;
    /* Paired checks, over npairs pairs of runs made side by side (0: none): the best CPU time
     * per iteration (s) of the run with one worker (its work, whatever the machine's load) and
     * the best wall time per iteration with N. speedup = N * one / many: <= 1 when the N workers
     * ran one at a time, up to min(N, CPUs) when they ran side by side. */
    int npairs;
    double pair_one, pair_many;
};

enum status { ST_PASS, ST_FAIL, ST_SKIP };

struct verdict {
    enum status status;
    double score;            /* points earned; the engine fills full/zero if left < 0 */
    struct sbuf summary;     /* one line: what was seen */
    struct sbuf detail;      /* more lines: evidence, quoted output */
    const char *hints[6];    /* hint ids (hints.h), most likely first */
    int nhints;
    bool shown;              /* detail and hints are shown even when the check passes
                              * (the build's warnings) */
    bool retry;              /* with ST_SKIP: this run could not tell (a busy machine); a
                              * best-of-k check tries a fresh run, and skips only if all say so */
    bool final;              /* with ST_FAIL: measured where noise could not have caused it (quiet
                              * CPUs); a best-of-k check stops after two such attempts */
    bool conclusive;         /* with ST_FAIL: shown by evidence every attempt shares (the stall
                              * runs), which no fresh run can change: a best-of-k check stops */
};
void verdict_fail(struct verdict *v, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void verdict_note(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void verdict_hint(struct verdict *v, const char *hint);

typedef void (*judge_fn)(const struct evidence *ev, struct verdict *v);

/* What a lab's epilogue may ask of the engine: more runs, owned by the grading. */
struct runner {
    void *engine;
    const struct observation *(*run)(void *engine, enum plan plan, const struct params *p);
    /* A figure for a leaderboard (Gradescope's, when asked for): its name, its value,
     * and whether lower ranks first. */
    void (*figure)(void *engine, const char *name, double value, bool lower_first);
};

struct check {
    const char *name;        /* short, shown in the report: "timing" */
    const char *what;        /* one sentence: what it checks */
    unsigned tags;
    int points;
    enum plan plan;
    int attempts;            /* best of k: retried only while failing; -k: k runs, every one
                              * must pass (a wrong total is never noise) */
    bool c_only;             /* cannot apply to a program given with --exec */
    judge_fn judge;
};

struct lab {
    const char *name;          /* "lab1" */
    const char *title;
    const char *student_file;  /* "sleeper.c" */
    const char *program;       /* "sleeper" */
    const char *usage;         /* the program's command line, for reports */
    /* Fills p for one run (p->defaults: the program's own defaults). */
    void (*draw)(struct rng *r, struct params *p);
    double (*time_limit)(const struct params *p);
    /* Seconds a whole grading may take once the program has run into a time
     * limit: later runs share what is left, then are not run (0: 30). */
    double time_budget;
    const char *const *patterns; /* output line patterns (observe.h) */
    size_t npatterns;
    const char *const (*bad_args)[MAX_ARGS + 1]; /* NULL-terminated argument lists, all tried */
    size_t nbad;
    /* Optional: what the skeleton's comment refuses, one class per kind of
     * mistake; each grading tries one list of every class, drawn with its rng. */
    const struct bad_args_class *bad_classes;
    size_t nbad_classes;
    const struct check *checks;
    size_t nchecks;
    /* Optional: size the work on this machine, once per grading. calibration()
     * fills the arguments of one timing run; calibrate() turns what it saw into
     * iterations worth CALIBRATE_CPU s of CPU (0: could not tell). */
    void (*calibration)(struct params *p);
    long long (*calibrate)(const struct params *p, const struct observation *o);
    /* Sample every task of the traced runs (CPU and the call it is blocked in,
     * cpu_sample) even without calibration: lab 1 judges where it waited. */
    bool sample_calls;
    /* Trace every read and write on a pipe in the traced runs (SK_PIPE_*): lab 2
     * judges that the children's counts really went through a pipe. */
    bool watch_pipes;
    /* Optional: extra runs after the checks, rendered as text under the report
     * (lab 3's table of modes). base holds the calibrated iterations. */
    void (*epilogue)(const struct runner *rn, const struct params *base, int cpus, struct sbuf *out);
    /* Optional: the run variant a check needs (lab 3: its mode), a static
     * string or NULL. It reaches draw() as params.variant; checks share a run
     * only when both their plan and their variant are the same. */
    const char *(*variant)(const struct check *c);
    /* Optional: paired runs for the check named paired_check: each of its attempts also
     * runs the program with one worker and the same work per worker (one_worker turns p
     * into that run), right after the N-worker run; the judge gets the best times per
     * iteration of both (evidence.pair_*). */
    const char *paired_check;
    void (*one_worker)(struct params *p);
    /* Optional: stall runs for the checks named in stall_checks, comma-separated (lab 3's
     * atomic mode and cpu: the tracer stops one thread and watches whether the other still
     * finishes: trace.h, trace_stall). After the check's first run (if it ended well and was
     * traced), stall() fills the parameters of one more run from that run and the stall runs
     * made so far (false: no more); every attempt's judge then gets them as runs[1..] of its
     * evidence. */
    const char *stall_checks;
    bool (*stall)(const struct check *c, struct rng *r, const struct params *first,
                  const struct observation *first_run, const struct observation *const *stalls, size_t nstalls,
                  struct params *p);
    /* Optional: the timeline (timeline.h) draws one bar per worker, from its
     * bar_from line to its bar_to line with the same number ("Task 2 started"
     * to "Task 2 finished"); bar_label names the rows. NULL: no timeline. */
    const char *bar_label;
    int bar_from, bar_to;
    /* Optional: the work behind the bars when the lab knows it better than
     * the bars' lengths (lab 1: the delays): the longest and the sum. */
    void (*bar_work)(const struct params *p, double *longest, double *sum);
    /* Optional, instead of the bars: the lab builds the timeline of a run
     * itself (lab 4: the responsive phase, its tasks' CPU and its requests);
     * false: nothing to draw. timeline_check names the check whose run it
     * is drawn under (NULL: every timing check's, as bars). */
    bool (*timeline)(const struct observation *o, const struct params *p, struct timeline *tl);
    const char *timeline_check;
    /* Optional: the grader talks to the program while it runs (lab 4: it is
     * the server's client). Called in a thread of its own once the program's
     * first stdout line arrives, for every run but builds and race runs (bad-
     * argument runs too: p->plan says which); see sandbox.h, struct drive. */
    void (*driver)(struct drive *d, const struct params *p);
};

/* Bad arguments of one kind ("not a number"): some lists, one drawn per grading. */
#define MAX_BAD_LISTS 6
struct bad_args_class {
    const char *why;
    const char *const lists[MAX_BAD_LISTS][MAX_ARGS + 1]; /* NULL-terminated; unused ones empty */
};

/* The lab table (labs.c). */
const struct lab *lab_find(const char *name);
extern const struct lab *const all_labs[];
extern const size_t nlabs;

#endif
