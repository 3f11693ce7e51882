/* engine.h - grade one submission of one lab: build, then for each check
 * gather the evidence its plan asks for (sharing runs between checks, retrying
 * best-of-k checks with fresh runs), judge it, and hand each verdict to the
 * reporter as soon as it is known.
 *
 * See also: spec.h (what a lab is), sandbox.h (how runs happen), report.h.
 */
#ifndef GRADER_ENGINE_H
#define GRADER_ENGINE_H

#include <stdint.h>

#include "spec.h"

struct grade_options {
    const char *submission;    /* folder or .c file (not under --exec) */
    const char *exec_cmd;      /* --exec: a shell command, run instead of building */
    bool defaults;             /* --defaults: run with no arguments */
    const char *only;          /* --only: check names, comma-separated; NULL: all */
    const char *tag;           /* --tag: tags, comma-separated; NULL: all */
    uint64_t seed;             /* with seed_given: the runs' random parameters */
    bool seed_given;           /* false: the seed comes from the submission's bytes and the lab */
    const char *note;          /* --note: a line for the results' output (instructors), or NULL */
    bool keep;                 /* keep the scratch folder (--keep) */
    const char *record_dir;    /* --record DIR (or GRADE_RECORD): write each judged evidence there (obsio.h) */
};

struct check_result {
    const struct check *check;
    struct verdict verdict;
    double max;                /* points it counts for: always the check's points */
    const char *todo;          /* not judged: what to do about it (a static string), or NULL */
    double seconds;
    int attempts;              /* runs judged (best of k) */
    const struct observation *run; /* the run the verdict speaks of, or NULL */
    struct params params;
};

struct grading {
    const struct lab *lab;
    const struct grade_options *opt;
    char *dir;                 /* scratch folder */
    char *student_file;        /* what was graded (path), or the --exec command */
    struct build_result build;
    int cpus;
    long long calibrated;      /* labs 2, 3: iterations worth CALIBRATE_CPU s of CPU, 0: none */
    struct sbuf epilogue;      /* the lab's extra text after the checks (lab 3's table) */
    struct check_result *results;
    size_t nresults;
    struct observation **runs; /* every run made, owned here */
    size_t nruns;
    uint64_t seed;             /* the seed used (given, or from the submission's bytes) */
    int not_judged;            /* checks that could not be judged (status ST_SKIP): 0 of their points */
    int passed;                /* checks that passed */
    double quiet_waited;       /* seconds spent waiting for a quiet machine */
    struct sbuf leaderboard;   /* the lab's figures as Gradescope leaderboard entries, comma-separated */
    double score, max, seconds;
    char *source_findings;     /* build.h source_findings(), once the integrity check asked */
    char *integrity;           /* the integrity check failed: why, in one line (the score is then 0) */
};

/* The one policy for a check that could not be judged (one CPU, a busy
 * machine, a missing tool, --exec): the lab's total never changes, the check
 * scores 0 of its points, and its status says "not judged", why, and what to
 * do. Full marks mean every check was verified. */
#define NOT_JUDGED "not judged"

/* True if the check is selected by --only (names) and --tag (tags). */
bool check_wanted(const struct check *c, const char *only, const char *tag);
/* Checks a comma-separated list against the lab: NULL if every item names a
 * check (tags: a tag) of the lab, else the first item that does not. */
const char *unknown_item(const struct lab *lab, const char *list, bool tags);
/* The default seed: the lab's name and the submission's bytes (the student
 * file, or the --exec command and the files it names), so a regrade of the
 * same file draws the same arguments. */
uint64_t submission_seed(const struct lab *lab, const char *file, const char *exec_cmd);

/* Called once before the first check (r == NULL) and after each check. */
typedef void (*progress_fn)(const struct grading *g, const struct check_result *r, void *ctx);

/* Returns 0, or 2 with *why set when the submission cannot be graded at all. */
int grade(const struct lab *lab, const struct grade_options *opt, struct grading *g,
          progress_fn progress, void *ctx, char **why);
void grading_free(struct grading *g);
/* The grading's score: the points of the checks that passed, or 0 when the integrity check
 * failed (a program that tampers with the grader earns nothing). */
double grading_score(const struct check_result *results, size_t n);

/* Judges the evidence as the engine does (the check's judge, then the notes
 * every failure gets): what tests/check_judges.c runs on recorded evidence. */
void judge_evidence(const struct check *c, const struct evidence *ev, struct verdict *v);

/* CPUs this process may use: affinity mask and cgroup CPU quota. */
int cpus_available(void);
/* True if a program is on PATH (valgrind) and not withheld. */
bool have_program(const char *name);
/* GRADE_WITHOUT=valgrind,tsan makes the grader act as if those tools were
 * missing: how the kit's tests check that a missing tool means "not judged". */
bool tool_withheld(const char *name);

#endif
