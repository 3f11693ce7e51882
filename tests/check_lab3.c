/* check_lab3.c - lab 3 end to end: the real grader on real programs (Check).
 *
 * Grades the reference, the skeleton, the wrong programs and the right
 * alternative under tests/lab3/, the reference through --exec (with and
 * without --defaults) and pinned to one CPU (taskset -c 0), each with
 *     ./grader/grade lab3 PROGRAM --json FILE [--only CHECK|TAG]
 * then asserts, per test NAME in the JSON, which checks must fail, which must
 * pass with full points, which must be skipped (0 of 0), the grader's exit
 * status, and that a failure's text names what was seen.
 *
 * Two phases, before the tests: first the gradings whose verdicts do not
 * depend on CPU time, LAB3_JOBS at a time (default 2); then the ones whose
 * cpu check must pass, one at a time (two at once on 2 cores would starve
 * each other's threads). A cpu check may say "skipped: the machine was busy"
 * when other programs used the CPUs meanwhile (measured by the sandbox);
 * that is accepted for cpu alone (the CPUTIME lists), and logged.
 * The wrong programs whose fault is a race are graded with --only race:
 * their other verdicts are those of the reference (tools/stress covers them).
 *
 * Run: make test   (or: make tests/bin/check_lab3 && tests/bin/check_lab3)
 * Env: LAB3_JOBS=N gradings at a time in the first phase; LAB3_KEEP=1 keep
 *      the results folder.
 * See also: tests/lab3/ (each program says what is wrong with it),
 *           grader/labs/lab3.c, tests/check_lab2.c (lab 2).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRADER "./grader/grade"
#define JOB_TIMEOUT 100.0 /* s: a watchdog; a lab-3 grading takes 4-20 s */

#define ALL_CHECKS "build format order correctness-mutex correctness-atomic correctness-local race-mutex " \
                   "race-atomic race-local structure timing memory errors"
#define RIGHT_BUT_TIMED "build format order correctness-mutex correctness-atomic correctness-local race-mutex " \
                        "race-atomic race-local memory errors"

enum how { DIRECT, EXEC, EXEC_DEFAULTS, ONE_CPU };

struct expect {
    const char *name;     /* shown in messages; also the result files' name */
    const char *source;   /* SUBMISSION, or the .c built first for EXEC */
    enum how how;
    const char *only;     /* --only, or NULL */
    bool alone;           /* second phase: one grading at a time */
    int exit_status;      /* 0 full marks, 1 not; -1: 0 or 1 (a busy machine may skip cpu) */
    const char *fail;     /* checks that must fail (0 points) */
    const char *pass;     /* checks that must pass with full points */
    const char *skipped;  /* checks that must be skipped: 0 of 0 points */
    const char *cputime;  /* must pass (right programs) or fail (wrong ones), or be skipped for a busy machine */
    const char *clues;    /* "check:words;..." that check's output must contain */
    const char *passskip; /* must pass, or be skipped for any reason */
};

static const struct expect table[] = {
    /* First phase, LAB3_JOBS at a time, the longest first. */
    {"seqjoin", "tests/lab3/seqjoin.c", DIRECT, NULL, false, 1, "structure timing", RIGHT_BUT_TIMED, NULL,
     "cpu", "structure:before the last pthread_create;timing:one after another", NULL},
    {"nothreads", "tests/lab3/nothreads.c", DIRECT, NULL, false, 1, "structure timing", RIGHT_BUT_TIMED, NULL,
     "cpu", "structure:pthread_create was never called;timing:one after another", NULL},
    {"skeleton", "labs/lab3/threadcount.c", DIRECT, NULL, false, 1,
     "correctness-mutex correctness-atomic correctness-local race-mutex race-atomic race-local timing cpu",
     "build format order structure memory errors", NULL, NULL,
     "correctness-mutex:mutex mode added nothing;race-atomic:not right;timing:not timed", NULL},
    /* One CPU: the threads still overlap (timing), but parallelism cannot be judged. */
    {"one_cpu", "solutions/lab3", ONE_CPU, NULL, false, 0, NULL, ALL_CHECKS, "cpu", NULL, "cpu:only 1 CPU",
     NULL},
    {"nolock", "tests/lab3/nolock.c", DIRECT, "race", false, 1, "race-mutex", "build race-atomic race-local",
     NULL, NULL, "race-mutex:data race;race-mutex:count_mutex", NULL},
    {"localrace", "tests/lab3/localrace.c", DIRECT, "race", false, 1, "race-local", "build race-mutex race-atomic",
     NULL, NULL, "race-local:data race;race-local:count_local", NULL},
    {"volatile", "tests/lab3/volatile.c", DIRECT, "race", false, 1, "race-atomic", "build race-mutex race-local",
     NULL, NULL, "race-atomic:data race;race-atomic:count_atomic", NULL},
    /* --defaults: only local mode runs, with little work (2 x 10^7 increments: a few ms, unless the
     * machine is busy); C-only checks are skipped. */
    {"exec_defaults", "solutions/lab3/threadcount.c", EXEC_DEFAULTS, NULL, false, 0, NULL,
     "format order correctness-local structure errors",
     "build memory race-mutex race-atomic race-local correctness-mutex correctness-atomic cpu", NULL, NULL,
     "timing"},
    /* Second phase, one at a time: cpu must pass (or say the machine was busy). */
    {"reference", "solutions/lab3", DIRECT, NULL, true, -1, NULL, ALL_CHECKS, NULL, "cpu", NULL, NULL},
    {"padded", "tests/lab3/padded.c", DIRECT, NULL, true, -1, NULL, ALL_CHECKS, NULL, "cpu", NULL, NULL},
    {"exec_reference", "solutions/lab3/threadcount.c", EXEC, NULL, true, -1, NULL,
     "format order correctness-mutex correctness-atomic correctness-local structure timing errors",
     "build memory race-mutex race-atomic race-local", "cpu", NULL, NULL},
};
#define NJOBS (sizeof table / sizeof table[0])

/* --- Running the gradings ------------------------------------------------------ */

struct job {
    char why[2 * PATH_MAX]; /* set when the job could not be run */
    pid_t pid;
    double started, seconds;
    bool timed_out;
    int status;             /* wait status */
    char json[PATH_MAX], out[PATH_MAX];
};

static char scratch[] = "/tmp/check_lab3.XXXXXX";
static struct job jobs[NJOBS];
static bool pool_done;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv with stdout+stderr to out_path; returns the wait status, or -1. */
static int run_to(char *const argv[], const char *out_path)
{
    pid_t pid = fork();
    if (pid == -1)
        return -1;
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            return -1;
    return st;
}

static void start_job(size_t i)
{
    const struct expect *e = &table[i];
    struct job *j = &jobs[i];
    snprintf(j->json, sizeof j->json, "%s/%s.json", scratch, e->name);
    snprintf(j->out, sizeof j->out, "%s/%s.txt", scratch, e->name);
    if (access(e->source, F_OK) != 0) {
        snprintf(j->why, sizeof j->why, "%s does not exist", e->source);
        return;
    }
    char bin[PATH_MAX];
    if (e->how == EXEC || e->how == EXEC_DEFAULTS) {
        snprintf(bin, sizeof bin, "%s/%s.bin", scratch, e->name);
        char log[PATH_MAX];
        snprintf(log, sizeof log, "%s/%s.cc.txt", scratch, e->name);
        char *cc[] = {"cc", "-std=c11", "-O2", "-pthread", "-o", bin, (char *)e->source, NULL};
        int st = run_to(cc, log);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            snprintf(j->why, sizeof j->why, "cc could not build %s (see %s)", e->source, log);
            return;
        }
    }
    char *argv[20];
    int n = 0;
    if (e->how == ONE_CPU) {
        argv[n++] = "taskset";
        argv[n++] = "-c";
        argv[n++] = "0";
    }
    argv[n++] = GRADER;
    argv[n++] = "lab3";
    if (e->how == EXEC || e->how == EXEC_DEFAULTS) {
        argv[n++] = "--exec";
        argv[n++] = bin;
        if (e->how == EXEC_DEFAULTS)
            argv[n++] = "--defaults";
    } else {
        argv[n++] = (char *)e->source;
    }
    if (e->only) {
        argv[n++] = "--only";
        argv[n++] = (char *)e->only;
    }
    argv[n++] = "--json";
    argv[n++] = j->json;
    argv[n++] = "--no-color";
    argv[n] = NULL;
    j->started = mono();
    j->pid = fork();
    if (j->pid == -1) {
        snprintf(j->why, sizeof j->why, "fork: %s", strerror(errno));
        j->pid = 0;
        return;
    }
    if (j->pid == 0) {
        int fd = open(j->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
}

/* Reaps a finished job, or kills one past the watchdog; true when it is over. */
static bool poll_job(struct job *j)
{
    int st;
    pid_t r = waitpid(j->pid, &st, WNOHANG);
    if (r == j->pid) {
        j->status = st;
        j->seconds = mono() - j->started;
        j->pid = 0;
        return true;
    }
    if (r == 0 && mono() - j->started > JOB_TIMEOUT && !j->timed_out) {
        j->timed_out = true;
        kill(j->pid, SIGKILL);
    }
    return false;
}

static int jobs_wanted(void)
{
    const char *s = getenv("LAB3_JOBS");
    int n = s ? atoi(s) : 2;
    return n < 1 ? 1 : n > 8 ? 8 : n;
}

/* Runs the jobs of one phase, max at a time. */
static void run_phase(bool alone, int max)
{
    size_t next = 0;
    int running = 0;
    for (;;) {
        while (running < max && next < NJOBS) {
            if (table[next].alone == alone) {
                start_job(next);
                running += jobs[next].pid > 0;
            }
            next++;
        }
        if (running == 0 && next >= NJOBS)
            break;
        for (size_t i = 0; i < next; i++)
            if (jobs[i].pid > 0 && poll_job(&jobs[i])) {
                running--;
                printf("lab3: %-15s %s in %5.1f s\n", table[i].name,
                       WIFEXITED(jobs[i].status) ? (WEXITSTATUS(jobs[i].status) == 0 ? "exit 0" :
                       WEXITSTATUS(jobs[i].status) == 1 ? "exit 1" : "exit ?") : "killed", jobs[i].seconds);
            }
        usleep(20000);
    }
}

/* The unchecked fixture: every grading, before the tests. */
static void run_all_gradings(void)
{
    if (pool_done)
        return;
    pool_done = true;
    if (!mkdtemp(scratch)) {
        perror("check_lab3: mkdtemp");
        exit(1);
    }
    chmod(scratch, 0755); /* --exec binaries run as the sandbox user */
    double t0 = mono();
    run_phase(false, jobs_wanted());
    run_phase(true, 1);
    printf("lab3: %zu gradings in %.1f s (results in %s)\n", NJOBS, mono() - t0, scratch);
    fflush(stdout);
}

static void remove_scratch(void)
{
    if (getenv("LAB3_KEEP") || !pool_done)
        return;
    char *argv[] = {"rm", "-rf", scratch, NULL};
    run_to(argv, "/dev/null");
}

/* --- Reading results.json -------------------------------------------------------
 * report_json writes the top-level numbers one per line and each test on its own
 * line:  {"name": "timing", "score": 2, "max_score": 2, "status": "passed", "output": "...", ...}
 */
struct json_test {
    char name[32], status[16];
    double score, max;
    char *output; /* the escaped JSON string's contents */
};
struct results {
    double score, max;
    bool have_score, have_max;
    struct json_test t[32];
    int n;
};

static void read_results(const char *path, struct results *r)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        struct json_test *t = &r->t[r->n];
        if (sscanf(line, "  \"score\": %lf", &r->score) == 1)
            r->have_score = true;
        else if (sscanf(line, "  \"max_score\": %lf", &r->max) == 1)
            r->have_max = true;
        else if (r->n < 32 && sscanf(line, " {\"name\": \"%31[^\"]\", \"score\": %lf, \"max_score\": %lf, "
                                     "\"status\": \"%15[^\"]\"", t->name, &t->score, &t->max, t->status) == 4) {
            const char *o = strstr(line, "\"output\": \"");
            ck_assert_msg(o != NULL, "%s: test '%s' has no output", path, t->name);
            o += 11;
            size_t len = 0;
            while (o[len] && !(o[len] == '"' && o[len - 1] != '\\'))
                len++;
            t->output = strndup(o, len);
            r->n++;
        }
    }
    free(line);
    fclose(f);
    ck_assert_msg(r->have_score && r->have_max, "%s: no top-level score/max_score", path);
    ck_assert_msg(r->n > 0, "%s: no tests", path);
}

static void free_results(struct results *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->t[i].output);
}

static const struct json_test *find_test(const struct results *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->t[i].name, name))
            return &r->t[i];
    return NULL;
}

/* True if word is one of the space-separated words of list. */
static bool listed(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = list; s && (s = strstr(s, word)); s += n)
        if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
            return true;
    return false;
}

/* --- Tests -------------------------------------------------------------------- */

START_TEST(test_grading)
{
    const struct expect *e = &table[_i];
    const struct job *j = &jobs[_i];
    ck_assert_msg(j->why[0] == '\0', "%s: %s", e->name, j->why);
    ck_assert_msg(!j->timed_out, "%s: the grader ran past the %.0f s watchdog (output: %s)", e->name,
                  JOB_TIMEOUT, j->out);
    ck_assert_msg(WIFEXITED(j->status), "%s: the grader was killed by signal %d (output: %s)", e->name,
                  WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0, j->out);
    int code = WEXITSTATUS(j->status);
    ck_assert_msg(code == e->exit_status || (e->exit_status == -1 && (code == 0 || code == 1)),
                  "%s: grader exit status %d, expected %d (output: %s)", e->name, code, e->exit_status, j->out);

    struct results r;
    read_results(j->json, &r);
    /* Every test is named by the table, and every named test was reported. */
    const char *lists[] = {e->fail, e->pass, e->skipped, e->cputime, e->passskip};
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", lists[k] ? lists[k] : "");
        for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
            ck_assert_msg(find_test(&r, w), "%s: the table names '%s', which the grader did not report", e->name,
                          w);
    }
    double score = 0, max = 0;
    for (int i = 0; i < r.n; i++) {
        const struct json_test *t = &r.t[i];
        score += t->score;
        max += t->max;
        bool failed = !strcmp(t->status, "failed");
        bool skipped = !failed && t->max == 0 && t->score == 0;
        if (listed(e->fail, t->name)) {
            ck_assert_msg(failed && t->score == 0 && t->max > 0, "%s: '%s' should FAIL but is %s (%g/%g): %s",
                          e->name, t->name, t->status, t->score, t->max, t->output);
        } else if (listed(e->pass, t->name)) {
            ck_assert_msg(!failed && t->max > 0 && t->score == t->max, "%s: '%s' should PASS but is %s (%g/%g): %s",
                          e->name, t->name, t->status, t->score, t->max, t->output);
        } else if (listed(e->skipped, t->name)) {
            ck_assert_msg(skipped, "%s: '%s' should be skipped (0 of 0 points) but is %s (%g/%g): %s", e->name,
                          t->name, t->status, t->score, t->max, t->output);
        } else if (listed(e->passskip, t->name)) {
            ck_assert_msg(skipped || (!failed && t->score == t->max), "%s: '%s' should pass or be skipped but is "
                          "%s: %s", e->name, t->name, t->status, t->output);
        } else if (listed(e->cputime, t->name)) {
            /* Right programs pass it and wrong ones fail it, unless the machine was busy. */
            bool right = e->fail == NULL;
            if (skipped) {
                ck_assert_msg(strstr(t->output, "machine was busy"), "%s: '%s' was skipped, but not for a busy "
                              "machine: %s", e->name, t->name, t->output);
                printf("lab3: note: %s: %s skipped, the machine was busy\n", e->name, t->name);
            } else if (right) {
                ck_assert_msg(!failed && t->score == t->max, "%s: '%s' should PASS (or be skipped on a busy "
                              "machine) but is %s: %s", e->name, t->name, t->status, t->output);
            } else {
                ck_assert_msg(failed, "%s: '%s' should FAIL (or be skipped on a busy machine) but is %s: %s",
                              e->name, t->name, t->status, t->output);
            }
        } else {
            ck_abort_msg("%s: the grader reported '%s', which the expectations table does not mention", e->name,
                         t->name);
        }
    }
    ck_assert_msg(score == r.score && max == r.max, "%s: top-level score %g/%g, but the tests add up to %g/%g",
                  e->name, r.score, r.max, score, max);
    ck_assert_msg((r.score >= r.max) == (code == 0), "%s: score %g/%g with exit status %d", e->name, r.score,
                  r.max, code);

    /* The failure says what was seen. */
    char clues[512];
    snprintf(clues, sizeof clues, "%s", e->clues ? e->clues : "");
    for (char *save, *c = strtok_r(clues, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
        char *words = strchr(c, ':');
        ck_assert_ptr_nonnull(words);
        *words++ = '\0';
        const struct json_test *t = find_test(&r, c);
        ck_assert_msg(t && strcasestr(t->output, words), "%s: '%s' should say \"%s\"; it says: %s", e->name, c,
                      words, t ? t->output : "(no such test)");
    }
    free_results(&r);
}
END_TEST

/* The table of modes under the report: every mode, right or wrong as it should be. */
START_TEST(test_table_of_modes)
{
    for (size_t i = 0; i < NJOBS; i++) {
        const struct expect *e = &table[i];
        if (strcmp(e->name, "reference") && strcmp(e->name, "skeleton"))
            continue;
        FILE *f = fopen(jobs[i].out, "r");
        ck_assert_msg(f != NULL, "%s: no report at %s", e->name, jobs[i].out);
        char line[512];
        int rows = 0, right = 0, nothing = 0;
        bool header = false;
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, "The four modes on this machine"))
                header = true;
            char mode[16];
            int threads;
            if (header && sscanf(line, " %15s %d ", mode, &threads) == 2 &&
                (!strcmp(mode, "racy") || !strcmp(mode, "mutex") || !strcmp(mode, "atomic") ||
                 !strcmp(mode, "local"))) {
                rows++;
                right += strstr(line, " right ") != NULL;
                nothing += strstr(line, "counted nothing") != NULL;
            }
        }
        fclose(f);
        ck_assert_msg(header && rows == 5, "%s: the table of modes should have 5 rows, has %d (%s)", e->name, rows,
                      jobs[i].out);
        if (!strcmp(e->name, "reference"))
            ck_assert_msg(right >= 4, "%s: only %d rows are right (%s)", e->name, right, jobs[i].out);
        else
            ck_assert_msg(nothing == 4, "%s: %d rows counted nothing, expected 4 (%s)", e->name, nothing,
                          jobs[i].out);
    }
}
END_TEST

static Suite *lab3_suite(void)
{
    Suite *s = suite_create("lab3 end to end");
    TCase *g = tcase_create("gradings");
    tcase_add_unchecked_fixture(g, run_all_gradings, remove_scratch);
    tcase_set_timeout(g, 20); /* per test: reading results; the gradings ran in the fixture */
    tcase_add_loop_test(g, test_grading, 0, (int)NJOBS);
    tcase_add_test(g, test_table_of_modes);
    suite_add_tcase(s, g);
    return s;
}

int main(int argc, char *argv[])
{
    (void)argc;
    if (access(GRADER, X_OK) != 0) {
        fprintf(stderr, "%s: cannot find %s: run from the repository root after 'make grader'\n", argv[0], GRADER);
        return EXIT_FAILURE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(lab3_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
