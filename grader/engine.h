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
    const char *only;          /* --only: a check name or tag, NULL: all */
    uint64_t seed;
    bool keep;                 /* keep the scratch folder (--keep) */
};

struct check_result {
    const struct check *check;
    struct verdict verdict;
    double max;                /* points it counts for (0 when skipped) */
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
    double score, max, seconds;
    char *source_findings;     /* build.h source_findings(), once the integrity check asked */
    char *integrity;           /* the integrity check failed: why, in one line (the score is then 0) */
};

/* Called once before the first check (r == NULL) and after each check. */
typedef void (*progress_fn)(const struct grading *g, const struct check_result *r, void *ctx);

/* Returns 0, or 2 with *why set when the submission cannot be graded at all. */
int grade(const struct lab *lab, const struct grade_options *opt, struct grading *g,
          progress_fn progress, void *ctx, char **why);
void grading_free(struct grading *g);

/* CPUs this process may use: affinity mask and cgroup CPU quota. */
int cpus_available(void);
/* True if a program is on PATH (valgrind) and not withheld. */
bool have_program(const char *name);
/* GRADE_WITHOUT=valgrind,tsan makes the grader act as if those tools were
 * missing: how the kit's tests check that a missing tool means "skipped". */
bool tool_withheld(const char *name);

#endif
