/* e2e.h - the end-to-end test kit: the real grader on real programs, for Check.
 *
 * What the end-to-end tests (tests/check_e2e.c for lab 1, check_lab2.c,
 * check_lab3.c) share, so that each keeps only its table and its own tests:
 *   - struct e2e_case, a table row: how to grade one program and what to expect;
 *   - struct e2e_pool, which runs every row's
 *         ./grader/grade LAB PROGRAM --json FILE --no-color
 *     before the tests, N at a time, each under a watchdog, into a scratch
 *     folder /tmp/check_TAG.XXXXXX;
 *   - e2e_check_case(), the test of one row: the grader's exit status, a valid
 *     results.json that adds up, and per check the verdict the row expects
 *     (fail, pass, not judged, either, ...) and the words its text must contain;
 *   - a reader of results.json as report_json writes it: one test per line.
 *
 * How to use it (see tests/check_lab2.c for a whole one):
 *     static const struct e2e_case table[] = {
 *         {.name = "reference", .source = "solutions/lab2", .pass = "build format ..."}, ...};
 *     static struct e2e_pool pool = {.tag = "lab2", .lab = "lab2", .cases = table,
 *                                    .n = sizeof table / sizeof table[0], .timeout = 80};
 *     static void gradings(void)   // an unchecked fixture: the tests only read results
 *     {
 *         if (e2e_pool_open(&pool))
 *             e2e_pool_run(&pool, false, e2e_jobs_wanted(&pool, 1));
 *     }
 *     static void cleanup(void) { e2e_pool_close(&pool); }
 *     START_TEST(test_grading) { e2e_check_case(&pool, _i); } END_TEST
 *     ... tcase_add_unchecked_fixture(tc, gradings, cleanup);
 *         tcase_add_loop_test(tc, test_grading, 0, (int)pool.n);
 * and in main, e2e_chdir_to_root(argv[0]) first.
 * Env: TAG_JOBS=N (E2E_JOBS, LAB2_JOBS, ...) gradings at a time, 1-8;
 *      TAG_KEEP=1 keeps the scratch folder (results, outputs, built binaries);
 *      TAG_RETRIES=N gradings more for a row whose point check was not judged (default 3);
 *      CI=true: a row whose source (python3) is missing fails instead of skipping.
 *      E2E_PHASE=together|alone: only the rows graded together (N at a time) or alone, and
 *      only their tests (make test runs each suite twice, the alone rows once nothing else
 *      runs); unset: both phases.
 * The Makefile compiles tests/e2e.c into every tests/bin/check_* program.
 *
 * See also: tests/e2e.c, tests/check_e2e.c, tests/check_lab2.c, tests/check_lab3.c,
 *           grader/report.c (report_json writes one test per line; the reader needs it).
 */
#ifndef E2E_H
#define E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define E2E_GRADER "./grader/grade"
#define E2E_PATH 4096 /* PATH_MAX on Linux, without asking for POSIX */

/* One grading and what it must give. Lists are check names separated by spaces. */
struct e2e_case {
    const char *name;     /* shown in messages; also the result files' name */
    /* How: ./grader/grade LAB SOURCE, or cc SOURCE then --exec the binary, or --exec COMMAND. */
    const char *source;   /* SUBMISSION; with exec: the .c built first; with command: the file it needs */
    bool exec;            /* build source (cc -std=c11 -O2 -pthread ... -lm), grade it with --exec */
    bool defaults;        /* with exec: --defaults */
    const char *command;  /* grade this --exec command as is */
    bool one_cpu;         /* under taskset -c 0 */
    const char *only;     /* --only this, or NULL */
    bool optional;        /* skip (not fail) when source does not exist yet */
    bool alone;           /* graded by e2e_pool_run(pool, true, ...), not by (pool, false, ...) */
    /* The checks whose verdict is why this row exists (in its fail or pass list). They must be
     * judged: the row is graded alone (as if .alone), graded again while one of them was "not
     * judged: the machine was busy" (TAG_RETRIES, default 3), and if none could judge it the test
     * FAILS naming the row: a point not tested is not a pass. */
    const char *point;
    int escapes;          /* a must-fail point the grader misses now and then (a known false-pass rate, named
                           * in README): while it passes, graded again up to this many times; the row
                           * fails only if every grading passed it (counted and said at the end) */
    /* What it must give. */
    int exit_status;      /* 0 every check passed, 1 not (exact; a row expecting 0 also takes 1 only when
                           * a check of the pool's busy list, not the row's point, was not judged for a
                           * busy machine) */
    const char *fail;     /* checks that must fail: 0 points of more than 0, and say something */
    const char *pass;     /* checks that must pass with full points */
    const char *skipped;  /* checks that must be not judged: failed, 0 of their points, "not judged: why" */
    const char *either;   /* checks that may go either way ("*": all not named) */
    const char *passskip; /* checks that must pass, or be not judged for any reason */
    const char *clues;    /* "check:words;..." that check's output must contain; "check:#id": hint id's text */
    double at_most;       /* if > 0: the score is at most this share of the maximum */
};

/* One grading as it ran. */
struct e2e_job {
    bool skipped;           /* an optional source is missing */
    char why[2 * E2E_PATH]; /* set when the grading could not be run */
    pid_t pid;
    double started, seconds, cpu; /* cpu: CPU s of the grading and all it ran */
    int gradings;           /* 1, or more when a point check could not be judged and it was graded again */
    char not_judged[128];   /* point checks still not judged after the last grading */
    char escaped[128];      /* with e2e_case.escapes: must-fail point checks the last grading passed */
    bool timed_out;         /* killed by the watchdog */
    int status;             /* wait status */
    char json[E2E_PATH], out[E2E_PATH]; /* its results.json, its output (stdout and stderr) */
};

struct e2e_pool {
    /* Set by the caller. */
    const char *tag;               /* "lab2": log prefix, /tmp/check_lab2.XXXXXX, LAB2_JOBS, LAB2_KEEP */
    const char *lab;               /* graded as ./grader/grade LAB */
    const struct e2e_case *cases;
    size_t n;
    double timeout;                /* s: the watchdog of one grading */
    const char *busy;              /* checks that, in the fail or pass lists of a row whose point they
                                      are not, may instead say "not judged: the machine was busy" (then their
                                      clues are not asked); counted and said by e2e_pool_close */
    /* Set by e2e_pool_open. */
    struct e2e_job *jobs;          /* n of them, in the order of cases */
    char scratch[64];
    bool opened;
    int busy_skips;                /* checks not judged for a busy machine, counted by the pool (the parent) */
    int regradings;                /* gradings made again because a point check was not judged */
    int escapes;                   /* gradings made again because a must-fail point passed (e2e_case.escapes) */
};

/* Makes the scratch folder (exits on failure); false when the pool was already opened. */
bool e2e_pool_open(struct e2e_pool *p);
/* Runs the gradings of the rows whose .alone is alone (a row with a .point runs alone), max at
 * a time, logs each, and grades a row again while a point check could not be judged. */
void e2e_pool_run(struct e2e_pool *p, bool alone, int max);
/* True if row i is graded in this run's phase (E2E_PHASE): a test that reads a row's output
 * looks only at those. */
bool e2e_graded_here(const struct e2e_pool *p, size_t i);
/* Says how many checks a busy machine skipped, removes the scratch folder unless TAG_KEEP. */
void e2e_pool_close(struct e2e_pool *p);
/* TAG_JOBS, or fallback, within 1-8. */
int e2e_jobs_wanted(const struct e2e_pool *p, int fallback);

/* Inside a test: asserts everything row i of the pool expects of its grading. */
void e2e_check_case(struct e2e_pool *p, size_t i);

/* results.json as report_json writes it. */
struct e2e_test {
    char name[32], status[16];
    double score, max;
    char *output; /* the escaped JSON string's contents */
};
struct e2e_results {
    double score, max;
    bool have_score, have_max;
    struct e2e_test t[32];
    int n;
};
/* Inside a test: reads path into r (asserts it has a total and tests); then e2e_free_results. */
void e2e_read_results(const char *path, struct e2e_results *r);
/* The same outside a test: false (and nothing to free) if the file is missing or incomplete. */
bool e2e_load_results(const char *path, struct e2e_results *r);
/* A check that was not judged (skipped: 0 of 0 points); the one place that reads the status. */
bool e2e_not_judged(const struct e2e_test *t);
/* Not judged because other programs used the CPUs (the grader measured it). */
bool e2e_busy(const struct e2e_test *t);
/* True with CI set (CI=true, as CI services set it): a test that cannot run its point fails. */
bool e2e_ci(void);
void e2e_free_results(struct e2e_results *r);
const struct e2e_test *e2e_find_test(const struct e2e_results *r, const char *name);
/* Inside a test: python3 -m json.tool accepts path (without python3: said, or a failure under CI). */
void e2e_assert_valid_json(const char *path);

/* Runs argv (PATH searched) with stdout+stderr to out_path; returns the wait status, or -1. */
int e2e_run_to(char *const argv[], const char *out_path);
/* Goes to the repository root (from ROOT/tests/bin/PROGRAM) unless already there; exits if no grader. */
void e2e_chdir_to_root(const char *argv0);

#endif
