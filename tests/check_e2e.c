/* check_e2e.c - lab 1 end to end: the real grader on real programs (Check).
 *
 * Grades the reference, the student skeleton, the wrong programs and the two
 * right alternatives under tests/lab1/, and a few --exec gradings, with
 *     ./grader/grade lab1 PROGRAM --json FILE
 * then asserts, per test NAME in the JSON, what the table below expects: which
 * checks must fail, which must pass (full points), which are skipped (0 of 0),
 * which may go either way; the exit status (0 full marks, 1 otherwise); that
 * the JSON is valid (python3 -m json.tool, when there is a python3) and adds
 * up; and that some failures name what was seen ("nanosleep", "thread").
 * A second tcase checks exit status 2 for what cannot be graded.
 *
 * The gradings run before the tests, E2E_JOBS at a time (default: 2 per CPU,
 * at most 4), each under a watchdog; the tests then read the results.
 * Measured on 2 cores (load 5-8 from other work): 4 at a time 25-33 s, the
 * right programs' lines at most 14 ms late (80 ms allowed), every verdict as
 * expected in 4 of 4 suite runs; 2 at a time 42-46 s; 1 at a time 86 s.
 *
 * Run: make test   (or: make tests/bin/check_e2e && tests/bin/check_e2e)
 * Env: E2E_JOBS=N parallel gradings (1-8); E2E_KEEP=1 keep the scratch folder.
 * See also: tests/lab1/ (each program says what is wrong with it), grader/report.c
 *           (report_json writes one test per line, which the parser relies on).
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h" /* cpus_available(): affinity and cgroup quota, as the grader sees them */

#define GRADER "./grader/grade"
#define JOB_TIMEOUT 100.0 /* s: a watchdog; a lab-1 grading takes 2-15 s */

/* --- The expectations -------------------------------------------------------- */

#define ALL_CHECKS "build format order timing cpu structure memory errors"

struct expect {
    const char *name;     /* shown in messages; also the result files' name */
    const char *source;   /* SUBMISSION, or with exec: the .c the test builds first */
    bool exec;            /* grade the built program with --exec */
    const char *command;  /* grade this --exec command as is (source: the file it needs) */
    bool defaults;        /* --defaults */
    bool optional;        /* skip (not fail) when source does not exist yet */
    int exit_status;      /* 0 full marks, 1 not */
    const char *fail;     /* checks that must fail (0 points) */
    const char *pass;     /* checks that must pass with full points */
    const char *skipped;  /* checks that must be skipped: 0 of 0 points */
    const char *either;   /* checks that may go either way ("*": all not named) */
    const char *clues;    /* "check:words;..." the failed check's output must contain */
    double at_most;       /* if > 0: the score is at most this share of the maximum */
};

/* Longest first, so the pool ends sooner. */
static const struct expect table[] = {
    {.name = "replay", .source = "tests/lab1/replay.c", .exit_status = 1,
     .fail = "format timing", .pass = "build cpu structure memory errors", .either = "order",
     .clues = "format:delay;timing:longer than the sum"},
    {.name = "sequential", .source = "tests/lab1/sequential.c", .exit_status = 1,
     .fail = "order timing", .pass = "build format cpu structure memory errors",
     .clues = "timing:one task after another"},
    {.name = "exec_defaults", .source = "solutions/lab1/sleeper.c", .exec = true, .defaults = true,
     .pass = "format order timing cpu structure errors", .skipped = "build memory"},
    {.name = "reference", .source = "solutions/lab1", .pass = ALL_CHECKS},
    /* As handed out: builds, earns a low score; the event loop is the student's, so timing fails. */
    {.name = "skeleton", .source = "labs/lab1/sleeper.c", .optional = true, .exit_status = 1,
     .fail = "timing", .pass = "build", .either = "*", .at_most = 0.5},
    {.name = "busywait", .source = "tests/lab1/busywait.c", .exit_status = 1,
     .fail = "cpu structure", .pass = "build format order timing memory errors",
     .clues = "structure:select"},
    {.name = "threads", .source = "tests/lab1/threads.c", .exit_status = 1,
     .fail = "structure", .pass = "build format order timing cpu memory errors",
     .clues = "structure:thread;structure:nanosleep"},
    {.name = "nanosleep", .source = "tests/lab1/nanosleep.c", .exit_status = 1,
     .fail = "structure", .pass = "build format order timing cpu memory errors",
     .clues = "structure:nanosleep"},
    {.name = "leak", .source = "tests/lab1/leak.c", .exit_status = 1,
     .fail = "memory", .pass = "build format order timing cpu structure errors", .clues = "memory:lost"},
    {.name = "fdleak", .source = "tests/lab1/fdleak.c", .exit_status = 1,
     .fail = "memory", .pass = "build format order timing cpu structure errors",
     .clues = "memory:descriptor"},
    {.name = "noargcheck", .source = "tests/lab1/noargcheck.c", .exit_status = 1,
     .fail = "errors", .pass = "build format order timing cpu structure memory", .clues = "errors:status"},
    {.name = "fork", .source = "tests/lab1/fork.c", .exit_status = 1,
     .fail = "structure", .pass = "build format order timing cpu memory errors",
     .clues = "structure:process"},
    {.name = "poll", .source = "tests/lab1/poll.c", .exit_status = 1,
     .fail = "structure", .pass = "build format order timing cpu memory errors", .clues = "structure:poll"},
    {.name = "wrongtotal", .source = "tests/lab1/wrongtotal.c", .exit_status = 1,
     .fail = "timing", .pass = "build format order cpu structure memory errors",
     .clues = "timing:Total time"},
    {.name = "stdout_garbage", .source = "tests/lab1/stdout_garbage.c", .exit_status = 1,
     .fail = "format", .pass = "build order timing cpu structure memory errors", .clues = "format:[debug]"},
    {.name = "alt_pselect", .source = "tests/lab1/alt_pselect.c", .pass = ALL_CHECKS},
    {.name = "alt_sorted", .source = "tests/lab1/alt_sorted.c", .pass = ALL_CHECKS},
    /* --exec: C-only checks are skipped; any event-loop call counts, sleeping does not. */
    {.name = "exec_reference", .source = "solutions/lab1/sleeper.c", .exec = true,
     .pass = "format order timing cpu structure errors", .skipped = "build memory"},
    {.name = "exec_poll", .source = "tests/lab1/poll.c", .exec = true,
     .pass = "format order timing cpu structure errors", .skipped = "build memory"},
    {.name = "exec_nanosleep", .source = "tests/lab1/nanosleep.c", .exec = true, .exit_status = 1,
     .fail = "structure", .pass = "format order timing cpu errors", .skipped = "build memory",
     .clues = "structure:nanosleep"},
    /* The handout's Python pair (skipped where /usr/bin/python3 is missing): asyncio.sleep
     * passes what applies to it; time.sleep in the coroutine fails order, timing, structure. */
    {.name = "python_asyncio", .source = "/usr/bin/python3", .optional = true,
     .command = "/usr/bin/python3 handouts/python/asyncio_sleeper.py",
     .pass = "format order timing cpu structure errors", .skipped = "build memory"},
    {.name = "python_blocking", .source = "/usr/bin/python3", .optional = true, .exit_status = 1,
     .command = "/usr/bin/python3 handouts/python/asyncio_blocking.py",
     .fail = "order timing structure", .pass = "format cpu errors", .skipped = "build memory",
     .clues = "timing:one task after another;structure:clock_nanosleep"},
};
#define NJOBS (sizeof table / sizeof table[0])

/* --- Running the gradings ------------------------------------------------------ */

struct job {
    bool skipped;         /* optional source missing */
    char why[2 * PATH_MAX]; /* set when the job could not be run */
    pid_t pid;
    double started, seconds;
    bool timed_out;
    int status;           /* wait status */
    char json[PATH_MAX], out[PATH_MAX];
};

static char scratch[] = "/tmp/check_e2e.XXXXXX";
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

/* Builds a .c file into the scratch folder for --exec; returns false with why set. */
static bool build_for_exec(const struct expect *e, struct job *j, char *bin, size_t size)
{
    snprintf(bin, size, "%s/%s.bin", scratch, e->name);
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/%s.cc.txt", scratch, e->name);
    char *argv[] = {"cc", "-std=c11", "-O2", "-pthread", "-o", bin, (char *)e->source, "-lm", NULL};
    int st = run_to(argv, log);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(j->why, sizeof j->why, "cc could not build %s (see %s)", e->source, log);
        return false;
    }
    return true;
}

static void start_job(size_t i)
{
    const struct expect *e = &table[i];
    struct job *j = &jobs[i];
    snprintf(j->json, sizeof j->json, "%s/%s.json", scratch, e->name);
    snprintf(j->out, sizeof j->out, "%s/%s.txt", scratch, e->name);
    if (access(e->source, F_OK) != 0) {
        if (e->optional)
            j->skipped = true;
        else
            snprintf(j->why, sizeof j->why, "%s does not exist", e->source);
        return;
    }
    char bin[PATH_MAX];
    if (e->exec && !build_for_exec(e, j, bin, sizeof bin))
        return;
    char *argv[16];
    int n = 0;
    argv[n++] = GRADER;
    argv[n++] = "lab1";
    if (e->command) {
        argv[n++] = "--exec";
        argv[n++] = (char *)e->command;
    } else if (e->exec) {
        argv[n++] = "--exec";
        argv[n++] = bin;
        if (e->defaults)
            argv[n++] = "--defaults";
    } else {
        argv[n++] = (char *)e->source;
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
        execv(argv[0], argv);
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
    const char *s = getenv("E2E_JOBS");
    int n = s ? atoi(s) : cpus_available() >= 2 ? 4 : 2; /* 2 per CPU, at most 4 */
    return n < 1 ? 1 : n > 8 ? 8 : n;
}

/* The unchecked fixture: every grading, E2E_JOBS at a time, before the tests. */
static void run_all_gradings(void)
{
    if (pool_done)
        return;
    pool_done = true;
    if (!mkdtemp(scratch)) {
        perror("check_e2e: mkdtemp");
        exit(1);
    }
    chmod(scratch, 0755); /* --exec binaries run as the sandbox user */
    int max = jobs_wanted(), running = 0;
    size_t next = 0;
    double t0 = mono();
    while (next < NJOBS || running > 0) {
        while (running < max && next < NJOBS) {
            start_job(next);
            running += jobs[next].pid > 0;
            next++;
        }
        for (size_t i = 0; i < next; i++)
            if (jobs[i].pid > 0 && poll_job(&jobs[i])) {
                running--;
                printf("e2e: %-15s %s in %5.1f s\n", table[i].name,
                       WIFEXITED(jobs[i].status) ? (WEXITSTATUS(jobs[i].status) == 0 ? "exit 0" :
                       WEXITSTATUS(jobs[i].status) == 1 ? "exit 1" : "exit ?") : "killed",
                       jobs[i].seconds);
            }
        usleep(20000);
    }
    printf("e2e: %zu gradings, %d at a time, in %.1f s (results in %s)\n", NJOBS, max, mono() - t0,
           scratch);
    fflush(stdout);
}

static void remove_scratch(void)
{
    if (getenv("E2E_KEEP") || !pool_done)
        return;
    char *argv[] = {"rm", "-rf", scratch, NULL};
    run_to(argv, "/dev/null");
}

/* --- Reading results.json -------------------------------------------------------
 * report_json writes the top-level numbers one per line and each test on its own
 * line:  {"name": "timing", "score": 3, "max_score": 3, "status": "passed", "output": "...", ...}
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
            const char *tags = strstr(line, "\"tags\": [\"");
            ck_assert_msg(o && tags, "%s: test '%s' has no output or no tags", path, t->name);
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

static const char *python3(void)
{
    if (access("/usr/bin/python3", X_OK) == 0) /* not a slow pyenv shim */
        return "/usr/bin/python3";
    return system("command -v python3 >/dev/null 2>&1") == 0 ? "python3" : NULL;
}

static void assert_valid_json(const char *path)
{
    const char *py = python3();
    if (!py) {
        printf("e2e: no python3: %s not checked with json.tool\n", path);
        return;
    }
    char *argv[] = {(char *)py, "-m", "json.tool", (char *)path, NULL};
    int st = run_to(argv, "/dev/null");
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s is not valid JSON (json.tool)", path);
}

/* Each word of list must name a test in r. */
static void assert_known(const char *who, const char *what, const char *list, const struct results *r)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        ck_assert_msg(!strcmp(w, "*") || find_test(r, w), "%s: the table's %s list names '%s', which the "
                      "grader did not report", who, what, w);
}

/* --- Tests -------------------------------------------------------------------- */

START_TEST(test_grading)
{
    const struct expect *e = &table[_i];
    const struct job *j = &jobs[_i];
    if (j->skipped) {
        printf("e2e: SKIP %s: %s does not exist yet\n", e->name, e->source);
        return;
    }
    ck_assert_msg(j->why[0] == '\0', "%s: %s", e->name, j->why);
    ck_assert_msg(!j->timed_out, "%s: the grader ran past the %.0f s watchdog (output: %s)", e->name,
                  JOB_TIMEOUT, j->out);
    ck_assert_msg(WIFEXITED(j->status), "%s: the grader was killed by signal %d (output: %s)", e->name,
                  WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0, j->out);
    int code = WEXITSTATUS(j->status);
    ck_assert_msg(code == e->exit_status, "%s: grader exit status %d, expected %d (output: %s)", e->name, code,
                  e->exit_status, j->out);

    assert_valid_json(j->json);
    struct results r;
    read_results(j->json, &r);
    assert_known(e->name, "fail", e->fail, &r);
    assert_known(e->name, "pass", e->pass, &r);
    assert_known(e->name, "skipped", e->skipped, &r);
    assert_known(e->name, "either", e->either, &r);

    double score = 0, max = 0;
    int failed = 0;
    for (int i = 0; i < r.n; i++) {
        const struct json_test *t = &r.t[i];
        score += t->score;
        max += t->max;
        bool is_failed = !strcmp(t->status, "failed");
        ck_assert_msg(is_failed || !strcmp(t->status, "passed"), "%s: %s has status '%s'", e->name, t->name,
                      t->status);
        failed += is_failed;
        if (listed(e->fail, t->name)) {
            ck_assert_msg(is_failed && t->score == 0 && t->max > 0,
                          "%s: '%s' should FAIL but is %s (%g/%g): %s", e->name, t->name, t->status, t->score,
                          t->max, t->output);
            ck_assert_msg(t->output[0] != '\0', "%s: failed '%s' says nothing", e->name, t->name);
        } else if (listed(e->pass, t->name)) {
            ck_assert_msg(!is_failed && t->max > 0 && t->score == t->max,
                          "%s: '%s' should PASS but is %s (%g/%g): %s", e->name, t->name, t->status, t->score,
                          t->max, t->output);
        } else if (listed(e->skipped, t->name)) {
            ck_assert_msg(!is_failed && t->score == 0 && t->max == 0,
                          "%s: '%s' should be skipped (0 of 0 points) but is %s (%g/%g)", e->name, t->name,
                          t->status, t->score, t->max);
        } else {
            ck_assert_msg(listed(e->either, t->name) || listed(e->either, "*"),
                          "%s: the grader reported '%s', which the expectations table does not mention: add it",
                          e->name, t->name);
        }
    }
    ck_assert_msg(fabs(score - r.score) < 1e-6 && fabs(max - r.max) < 1e-6,
                  "%s: top-level score %g/%g, but the tests add up to %g/%g", e->name, r.score, r.max, score,
                  max);
    ck_assert_msg((r.score >= r.max) == (e->exit_status == 0), "%s: score %g/%g with exit status %d", e->name,
                  r.score, r.max, code);
    if (e->exit_status == 1)
        ck_assert_msg(failed > 0, "%s: not full marks, yet no test failed", e->name);
    if (e->at_most > 0)
        ck_assert_msg(r.score <= e->at_most * r.max, "%s: %g/%g is more than %.0f%% of the points", e->name,
                      r.score, r.max, e->at_most * 100);

    /* The failure says what was seen. */
    char clues[256];
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

/* --- Exit status 2: what cannot be graded -------------------------------------------- */

static char exit2_dir[] = "/tmp/check_e2e_x2.XXXXXX";

static void exit2_setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(exit2_dir));
}

static void exit2_teardown(void)
{
    char *argv[] = {"rm", "-rf", exit2_dir, NULL};
    run_to(argv, "/dev/null");
}

/* Runs the grader with args; returns its exit code (-1 if it did not exit) and its output. */
static int grade_with(char *const *args, char *out, size_t size)
{
    char *argv[16] = {GRADER};
    int n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/out.txt", exit2_dir);
    int st = run_to(argv, path);
    FILE *f = fopen(path, "r");
    size_t len = f ? fread(out, 1, size - 1, f) : 0;
    out[len] = '\0';
    if (f)
        fclose(f);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct exit2_case {
    const char *what;
    char *args[8];      /* "@" is replaced by the case's scratch folder */
    const char *says;   /* the message must contain this (case-insensitive) */
};
static const struct exit2_case exit2_cases[] = {
    {"no lab", {NULL}, "lab"},
    {"unknown lab", {"lab9", "solutions/lab1", NULL}, "unknown lab"},
    {"missing submission", {"lab1", "/nonexistent/sleeper.c", NULL}, "nonexistent"},
    {"folder without sleeper.c", {"lab1", "@", NULL}, "sleeper.c"},
    {"unknown option", {"lab1", "solutions/lab1", "--bogus", NULL}, "--bogus"},
    {"--json without a file", {"lab1", "solutions/lab1", "--json", NULL}, "--json"},
    {"SUBMISSION and --exec", {"lab1", "solutions/lab1", "--exec", "true", NULL}, "--exec"},
    {"--only an unknown check", {"lab1", "solutions/lab1", "--only", "nosuch", NULL}, "nosuch"},
    {"--seed not a number", {"lab1", "solutions/lab1", "--seed", "abc", NULL}, "abc"},
    {"--json into a missing folder", {"lab1", "solutions/lab1", "--only", "build", "--json",
                                      "/nonexistent/dir/r.json", NULL}, "/nonexistent/dir/r.json"},
};

START_TEST(test_exit2)
{
    const struct exit2_case *c = &exit2_cases[_i];
    char *args[10], json[PATH_MAX];
    int n = 0;
    for (; c->args[n]; n++)
        args[n] = !strcmp(c->args[n], "@") ? exit2_dir : c->args[n];
    /* Where it makes sense, also ask for JSON: none may be written. */
    bool ask_json = !strstr(c->what, "json") && n > 0;
    snprintf(json, sizeof json, "%s/r.json", exit2_dir);
    if (ask_json) {
        args[n++] = "--json";
        args[n++] = json;
    }
    args[n] = NULL;
    char out[4096];
    int code = grade_with(args, out, sizeof out);
    ck_assert_msg(code == 2, "%s: exit status %d, expected 2; output:\n%s", c->what, code, out);
    ck_assert_msg(strcasestr(out, c->says), "%s: the message should mention \"%s\":\n%s", c->what, c->says, out);
    if (!strstr(c->what, "missing folder")) /* that one grades, then cannot write */
        ck_assert_msg(!strstr(out, "Score:"), "%s: it graded something:\n%s", c->what, out);
    if (ask_json)
        ck_assert_msg(access(json, F_OK) != 0, "%s: a results.json was written", c->what);
}
END_TEST

/* A build failure is a graded result: exit 1, build failed, nothing else run. */
START_TEST(test_build_failure_is_graded)
{
    char src[PATH_MAX], json[PATH_MAX], out[8192];
    snprintf(src, sizeof src, "%s/sleeper.c", exit2_dir);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs("/* does not compile */\nint main(void) { return missing_name; }\n", f);
    fclose(f);
    snprintf(json, sizeof json, "%s/r.json", exit2_dir);
    char *args[] = {"lab1", src, "--json", json, "--no-color", NULL};
    int code = grade_with(args, out, sizeof out);
    ck_assert_msg(code == 1, "exit status %d, expected 1; output:\n%s", code, out);
    assert_valid_json(json);
    struct results r;
    read_results(json, &r);
    const struct json_test *b = find_test(&r, "build");
    ck_assert_msg(b && !strcmp(b->status, "failed"), "build should fail");
    ck_assert_msg(strstr(b->output, "missing_name"), "the build output should quote the compiler: %s",
                  b->output);
    for (int i = 0; i < r.n; i++)
        ck_assert_msg(r.t[i].score == 0, "%s scored %g although nothing was built", r.t[i].name, r.t[i].score);
    ck_assert(r.score == 0 && r.max > 0);
    free_results(&r);
}
END_TEST

static Suite *e2e_suite(void)
{
    Suite *s = suite_create("lab1 end to end");
    TCase *g = tcase_create("gradings");
    tcase_add_unchecked_fixture(g, run_all_gradings, remove_scratch);
    tcase_set_timeout(g, 20); /* per test: reading results; the gradings ran in the fixture */
    tcase_add_loop_test(g, test_grading, 0, (int)NJOBS);
    suite_add_tcase(s, g);

    TCase *x = tcase_create("cannot grade");
    tcase_add_checked_fixture(x, exit2_setup, exit2_teardown);
    tcase_set_timeout(x, 30);
    tcase_add_loop_test(x, test_exit2, 0, (int)(sizeof exit2_cases / sizeof exit2_cases[0]));
    tcase_add_test(x, test_build_failure_is_graded);
    suite_add_tcase(s, x);
    return s;
}

/* Runs from the repository root, wherever it was started from. */
static void chdir_to_root(const char *argv0)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (access(GRADER, X_OK) == 0)
        return;
    if (n > 0) {
        exe[n] = '\0';
        char *root = dirname(dirname(dirname(exe))); /* ROOT/tests/bin/check_e2e */
        if (chdir(root) == 0 && access(GRADER, X_OK) == 0)
            return;
    }
    fprintf(stderr, "%s: cannot find %s: run from the repository root after 'make grader'\n", argv0, GRADER);
    exit(1);
}

int main(int argc, char *argv[])
{
    (void)argc;
    chdir_to_root(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(e2e_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
