/* e2e.c - the end-to-end test kit: a pool of gradings, results.json, a row's assertions.
 *
 * The pool forks ./grader/grade once per table row (building the row's .c
 * first for --exec), max at a time, polls them every 20 ms and kills one that
 * runs past the watchdog; each writes its output and results.json into the
 * scratch folder. e2e_check_case() then judges one row inside a Check test.
 *
 * Use: through tests/e2e.h (the header says how); linked into tests/bin/check_*.
 * See also: tests/e2e.h, grader/report.c (report_json: the layout read below).
 */
#define _GNU_SOURCE
#include "e2e.h"
#include "hints.h"

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool listed(const char *list, const char *word);

bool e2e_ci(void)
{
    const char *ci = getenv("CI");
    return ci && *ci && strcmp(ci, "0") && strcmp(ci, "false");
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* In a child: stdout and stderr to path, then argv (PATH searched); never returns. */
static void exec_to(char *const argv[], const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
}

int e2e_run_to(char *const argv[], const char *out_path)
{
    pid_t pid = fork();
    if (pid == -1)
        return -1;
    if (pid == 0)
        exec_to(argv, out_path);
    int st;
    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            return -1;
    return st;
}

/* "lab2" + "_KEEP" -> "LAB2_KEEP". */
static const char *tag_env(const struct e2e_pool *p, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%s%s", p->tag, suffix);
    for (char *c = name; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    return getenv(name);
}

int e2e_jobs_wanted(const struct e2e_pool *p, int fallback)
{
    const char *s = tag_env(p, "_JOBS");
    int n = s ? atoi(s) : fallback;
    return n < 1 ? 1 : n > 8 ? 8 : n;
}

bool e2e_pool_open(struct e2e_pool *p)
{
    if (p->opened)
        return false;
    p->opened = true;
    snprintf(p->scratch, sizeof p->scratch, "/tmp/check_%s.XXXXXX", p->tag);
    p->jobs = calloc(p->n, sizeof *p->jobs);
    if (!p->jobs || !mkdtemp(p->scratch)) {
        fprintf(stderr, "check_%s: %s: %s\n", p->tag, p->jobs ? "mkdtemp" : "calloc", strerror(errno));
        exit(1);
    }
    chmod(p->scratch, 0755); /* --exec binaries run as the sandbox user */
    return true;
}

void e2e_pool_close(struct e2e_pool *p)
{
    if (p->busy_skips)
        printf("%s: NOTE: %d check%s not judged because the machine was busy (none of them a row's point): "
               "those verdicts were not tested this time\n", p->tag, p->busy_skips,
               p->busy_skips == 1 ? " was" : "s were");
    if (p->regradings)
        printf("%s: NOTE: %d grading%s made again because a row's point could not be judged (a busy machine)\n",
               p->tag, p->regradings, p->regradings == 1 ? " was" : "s were");
    if (p->escapes)
        printf("%s: NOTE: %d grading%s made again because a check a row must fail passed (a known false-pass "
               "rate of the grader's, README: What it cannot tell yet)\n", p->tag, p->escapes,
               p->escapes == 1 ? " was" : "s were");
    free(p->jobs);
    p->jobs = NULL;
    if (!p->opened || tag_env(p, "_KEEP"))
        return;
    char *argv[] = {"rm", "-rf", p->scratch, NULL};
    e2e_run_to(argv, "/dev/null");
}

/* Builds the row's .c into the scratch folder for --exec; false with why set. */
static bool build_for_exec(const struct e2e_pool *p, const struct e2e_case *e, struct e2e_job *j, char *bin,
                           size_t size)
{
    snprintf(bin, size, "%s/%s.bin", p->scratch, e->name);
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/%s.cc.txt", p->scratch, e->name);
    char *argv[] = {"cc", "-std=c11", "-O2", "-pthread", "-o", bin, (char *)e->source, "-lm", NULL};
    int st = e2e_run_to(argv, log);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(j->why, sizeof j->why, "cc could not build %s (see %s)", e->source, log);
        return false;
    }
    return true;
}

static void start_job(struct e2e_pool *p, size_t i)
{
    const struct e2e_case *e = &p->cases[i];
    struct e2e_job *j = &p->jobs[i];
    snprintf(j->json, sizeof j->json, "%s/%s.json", p->scratch, e->name);
    snprintf(j->out, sizeof j->out, "%s/%s.txt", p->scratch, e->name);
    if (access(e->source, F_OK) != 0) {
        if (e->optional && !e2e_ci())
            j->skipped = true;
        else
            snprintf(j->why, sizeof j->why, "%s does not exist%s", e->source,
                     e->optional ? " (CI is set: a row that cannot run fails; make test installs it)" : "");
        return;
    }
    char bin[PATH_MAX];
    if (e->exec && !build_for_exec(p, e, j, bin, sizeof bin))
        return;
    char *argv[20];
    int n = 0;
    if (e->one_cpu) {
        argv[n++] = "taskset";
        argv[n++] = "-c";
        argv[n++] = "0";
    }
    argv[n++] = E2E_GRADER;
    argv[n++] = (char *)p->lab;
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
    if (e->only) {
        argv[n++] = "--only";
        argv[n++] = (char *)e->only;
    }
    argv[n++] = "--json";
    argv[n++] = j->json;
    argv[n++] = "--no-color";
    argv[n] = NULL;
    /* The grader waits for a quiet machine before it gives a busy-machine check up (20 s a
     * grading by default): a few seconds here, where such a verdict is accepted anyway; none
     * while another suite runs beside (E2E_PHASE=together: no row there has a point that
     * needs quiet CPUs, and the moment would not come). */
    const char *phase = getenv("E2E_PHASE");
    setenv("GRADE_QUIET_WAIT", phase && !strcmp(phase, "together") ? "0" : "6", 0);
    j->started = mono();
    j->pid = fork();
    if (j->pid == -1) {
        snprintf(j->why, sizeof j->why, "fork: %s", strerror(errno));
        j->pid = 0;
        return;
    }
    if (j->pid == 0)
        exec_to(argv, j->out);
}

/* Reaps a finished job, or kills one past the watchdog; true when it is over. */
static bool poll_job(const struct e2e_pool *p, struct e2e_job *j)
{
    int st;
    struct rusage ru;
    pid_t r = wait4(j->pid, &st, WNOHANG, &ru);
    if (r == j->pid) {
        j->status = st;
        j->seconds = mono() - j->started;
        j->cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
        j->pid = 0;
        return true;
    }
    if (r == 0 && mono() - j->started > p->timeout && !j->timed_out) {
        j->timed_out = true;
        kill(j->pid, SIGKILL);
    }
    return false;
}

static bool runs_alone(const struct e2e_case *e)
{
    return e->alone || e->point;
}

/* E2E_PHASE=together or alone: only the gradings and rows of that phase (make test grades the
 * rows that need quiet CPUs apart, once nothing else runs: tools/testrun); unset: both. */
static bool phase_wanted(bool alone)
{
    const char *s = getenv("E2E_PHASE");
    if (!s || !*s)
        return true;
    if (strcmp(s, "together") && strcmp(s, "alone")) {
        fprintf(stderr, "E2E_PHASE=%s: together or alone (or unset: both)\n", s);
        exit(2);
    }
    return !strcmp(s, alone ? "alone" : "together");
}

/* After a grading (in the parent, so the counts survive Check's forked tests): the point checks
 * not judged, into j->not_judged, and the other checks of the busy list a busy machine skipped. */
static void read_back(struct e2e_pool *p, size_t i, bool count_busy)
{
    const struct e2e_case *e = &p->cases[i];
    struct e2e_job *j = &p->jobs[i];
    j->not_judged[0] = '\0';
    j->escaped[0] = '\0';
    struct e2e_results r;
    if (j->pid != 0 || j->why[0] || !e2e_load_results(j->json, &r))
        return;
    size_t len = 0;
    for (int k = 0; k < r.n; k++) {
        const struct e2e_test *t = &r.t[k];
        if (listed(e->point, t->name) && e2e_not_judged(t))
            len += (size_t)snprintf(j->not_judged + len, sizeof j->not_judged - len, "%s%s", len ? " " : "",
                                    t->name);
        else if (e->escapes && listed(e->point, t->name) && listed(e->fail, t->name) && !strcmp(t->status, "passed"))
            snprintf(j->escaped, sizeof j->escaped, "%s", t->name);
        else if (count_busy && listed(p->busy, t->name) && e2e_busy(t)) {
            p->busy_skips++;
            printf("%s: note: %s: %s not judged, the machine was busy\n", p->tag, e->name, t->name);
        }
        if (len >= sizeof j->not_judged)
            break;
    }
    e2e_free_results(&r);
}

static int retries_wanted(const struct e2e_pool *p)
{
    const char *s = tag_env(p, "_RETRIES");
    int n = s ? atoi(s) : 3;
    return n < 0 ? 0 : n > 10 ? 10 : n;
}

bool e2e_graded_here(const struct e2e_pool *p, size_t i)
{
    return phase_wanted(runs_alone(&p->cases[i]));
}

void e2e_pool_run(struct e2e_pool *p, bool alone, int max)
{
    if (!phase_wanted(alone)) {
        size_t left = 0;
        for (size_t i = 0; i < p->n; i++)
            left += runs_alone(&p->cases[i]) == alone;
        if (left)
            printf("%s: %zu row%s graded %s are left to E2E_PHASE=%s\n", p->tag, left, left == 1 ? "" : "s",
                   alone ? "alone" : "together", alone ? "alone" : "together");
        return;
    }
    size_t next = 0, count = 0;
    int running = 0, retries = retries_wanted(p);
    double t0 = mono();
    for (;;) {
        while (running < max && next < p->n) {
            if (runs_alone(&p->cases[next]) == alone) {
                start_job(p, next);
                p->jobs[next].gradings = 1;
                running += p->jobs[next].pid > 0;
                count++;
            }
            next++;
        }
        if (running == 0 && next >= p->n)
            break;
        for (size_t i = 0; i < next; i++) {
            struct e2e_job *j = &p->jobs[i];
            if (j->pid > 0 && poll_job(p, j)) {
                running--;
                printf("%s: %-15s %s in %5.1f s (CPU %4.1f s)\n", p->tag, p->cases[i].name,
                       WIFEXITED(j->status) ? (WEXITSTATUS(j->status) == 0 ? "exit 0" :
                       WEXITSTATUS(j->status) == 1 ? "exit 1" : "exit ?") : "killed", j->seconds, j->cpu);
                read_back(p, i, false);
                /* Its point not judged: grade it again, alone, after a pause for the load to pass. */
                if (j->not_judged[0] && j->gradings <= retries && !j->timed_out) {
                    printf("%s: %s: %s not judged (the machine was busy): grading it again (%d of %d more)\n",
                           p->tag, p->cases[i].name, j->not_judged, j->gradings, retries);
                    p->regradings++;
                    sleep(2);
                    int g = j->gradings + 1;
                    start_job(p, i);
                    j->gradings = g;
                    running += j->pid > 0;
                } else if (j->escaped[0] && j->gradings <= p->cases[i].escapes && !j->timed_out) {
                    printf("%s: %s: %s passed, which the grader misses now and then (a known gap): grading it "
                           "again (%d of %d more)\n", p->tag, p->cases[i].name, j->escaped, j->gradings,
                           p->cases[i].escapes);
                    p->escapes++;
                    int g = j->gradings + 1;
                    start_job(p, i);
                    j->gradings = g;
                    running += j->pid > 0;
                } else {
                    read_back(p, i, true);
                }
            }
        }
        usleep(20000);
    }
    printf("%s: %zu gradings, %d at a time, in %.1f s (results in %s)\n", p->tag, count, max, mono() - t0,
           p->scratch);
    fflush(stdout);
}

/* --- Reading results.json -------------------------------------------------------
 * report_json writes the top-level fields one per line (the total under extra_data:
 * Gradescope's specification has no top-level max_score) and each test on its own
 * line:  {"name": "timing", "score": 3, "max_score": 3, "status": "passed", "output": "...", "tags": [...]}
 * A check not judged is "failed", 0 of its points, its output beginning "not judged".
 */
/* Reads path into r; NULL, or what is wrong with it. */
static const char *load_results(const char *path, struct e2e_results *r)
{
    static char why[E2E_PATH + 64];
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, sizeof why, "cannot open %s: %s", path, strerror(errno));
        return why;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        struct e2e_test *t = &r->t[r->n];
        if (sscanf(line, "  \"score\": %lf", &r->score) == 1)
            r->have_score = true;
        else if (sscanf(line, "  \"extra_data\": {\"max_score\": %lf", &r->max) == 1)
            r->have_max = true;
        else if (r->n < 32 && sscanf(line, " {\"name\": \"%31[^\"]\", \"score\": %lf, \"max_score\": %lf, "
                                     "\"status\": \"%15[^\"]\"", t->name, &t->score, &t->max, t->status) == 4) {
            const char *o = strstr(line, "\"output\": \"");
            const char *tags = strstr(line, "\"tags\": [\"");
            if (!o || !tags) {
                snprintf(why, sizeof why, "%s: test '%s' has no output or no tags", path, t->name);
                free(line);
                fclose(f);
                e2e_free_results(r);
                return why;
            }
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
    if (!r->have_score || !r->have_max || r->n == 0) {
        snprintf(why, sizeof why, "%s: %s", path, r->n ? "no top-level score or extra_data max_score" : "no tests");
        e2e_free_results(r);
        return why;
    }
    return NULL;
}

bool e2e_load_results(const char *path, struct e2e_results *r)
{
    return load_results(path, r) == NULL;
}

void e2e_read_results(const char *path, struct e2e_results *r)
{
    const char *why = load_results(path, r);
    ck_assert_msg(why == NULL, "%s", why);
}

void e2e_free_results(struct e2e_results *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->t[i].output);
    r->n = 0;
}

const struct e2e_test *e2e_find_test(const struct e2e_results *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->t[i].name, name))
            return &r->t[i];
    return NULL;
}

static const char *python3(void)
{
    if (access("/usr/bin/python3", X_OK) == 0) /* not a slow pyenv shim */
        return "/usr/bin/python3";
    return system("command -v python3 >/dev/null 2>&1") == 0 ? "python3" : NULL;
}

void e2e_assert_valid_json(const char *path)
{
    const char *py = python3();
    ck_assert_msg(py || !e2e_ci(), "no python3 to check %s with json.tool (CI is set: a check that cannot run "
                  "fails; make test installs python3)", path);
    if (!py) {
        printf("e2e: no python3: %s not checked with json.tool\n", path);
        return;
    }
    char *argv[] = {(char *)py, "-m", "json.tool", (char *)path, NULL};
    int st = e2e_run_to(argv, "/dev/null");
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s is not valid JSON (json.tool)", path);
}

/* --- A row's assertions ------------------------------------------------------------- */

/* True if word is one of the space-separated words of list. */
static bool listed(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = list; s && (s = strstr(s, word)); s += n)
        if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
            return true;
    return false;
}

/* Not judged (grader/engine.h): failed, 0 of its points (the total never changes), and says so. */
bool e2e_not_judged(const struct e2e_test *t)
{
    return !strcmp(t->status, "failed") && t->max > 0 && t->score == 0 && !strncmp(t->output, "not judged", 10);
}

bool e2e_busy(const struct e2e_test *t)
{
    return e2e_not_judged(t) && strstr(t->output, "machine was busy");
}

static bool is_skipped(const struct e2e_test *t)
{
    return e2e_not_judged(t);
}

/* A check of the pool's busy list skipped because others used the CPUs, in a row whose point it
 * is not: not the program's doing, and not what the row tests (the pool counted it). */
static bool busy_skip(const struct e2e_pool *p, const struct e2e_case *e, const struct e2e_test *t)
{
    return listed(p->busy, t->name) && !listed(e->point, t->name) && e2e_busy(t);
}

/* Each word of list must name a test in r ("*" aside). */
static void assert_known(const char *who, const char *what, const char *list, const struct e2e_results *r)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list ? list : "");
    for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        ck_assert_msg(!strcmp(w, "*") || e2e_find_test(r, w), "%s: the table's %s list names '%s', which the "
                      "grader did not report", who, what, w);
}

/* Checks worth no points: they pass with 0 of 0 (integrity can only take the score away). */
#define ZERO_POINT_CHECKS "integrity"

/* One reported check against the row's lists. */
static void assert_verdict(struct e2e_pool *p, const struct e2e_case *e, const struct e2e_test *t)
{
    bool zero = listed(ZERO_POINT_CHECKS, t->name) && t->max == 0;
    bool failed = !strcmp(t->status, "failed"), skipped = is_skipped(t) && !zero, busy = busy_skip(p, e, t);
    ck_assert_msg(failed || !strcmp(t->status, "passed"), "%s: %s has status '%s'", e->name, t->name, t->status);
    const struct e2e_job *j = &p->jobs[e - p->cases];
    ck_assert_msg(!(listed(e->point, t->name) && skipped),
                  "%s: '%s' is why this row exists, and it could not be judged in %d grading%s (%s): the point "
                  "was NOT tested. Run it again on an idle machine (%s)", e->name, t->name, j->gradings,
                  j->gradings == 1 ? "" : "s", t->output, j->out);
    if (listed(e->fail, t->name)) {
        /* A check the row expects to fail must be judged: a busy machine's skip is no failure. */
        ck_assert_msg(failed && !skipped && t->score == 0 && (t->max > 0 || zero), "%s: '%s' should FAIL "
                      "but is %s (%g/%g): %s",
                      e->name, t->name, t->status, t->score, t->max, t->output);
        ck_assert_msg(t->output[0] != '\0', "%s: failed '%s' says nothing", e->name, t->name);
    } else if (listed(e->pass, t->name)) {
        ck_assert_msg(busy || (!failed && (t->max > 0 || zero) && t->score == t->max),
                      "%s: '%s' should PASS but is %s (%g/%g): %s", e->name, t->name, t->status, t->score, t->max,
                      t->output);
    } else if (listed(e->skipped, t->name)) {
        ck_assert_msg(skipped, "%s: '%s' should be not judged (0 of its points) but is %s (%g/%g): %s", e->name,
                      t->name, t->status, t->score, t->max, t->output);
    } else if (listed(e->passskip, t->name)) {
        ck_assert_msg(skipped || (!failed && t->score == t->max), "%s: '%s' should pass or be not judged but is "
                      "%s: %s", e->name, t->name, t->status, t->output);
    } else {
        ck_assert_msg(listed(e->either, t->name) || listed(e->either, "*"),
                      "%s: the grader reported '%s', which the expectations table does not mention: add it",
                      e->name, t->name);
    }
}

void e2e_check_case(struct e2e_pool *p, size_t i)
{
    const struct e2e_case *e = &p->cases[i];
    const struct e2e_job *j = &p->jobs[i];
    if (!phase_wanted(runs_alone(e)))
        return; /* graded and checked in the other phase (E2E_PHASE) */
    if (j->skipped) {
        printf("%s: SKIP %s: %s does not exist here (with CI set this fails)\n", p->tag, e->name, e->source);
        return;
    }
    char point[512];
    snprintf(point, sizeof point, "%s", e->point ? e->point : "");
    for (char *save, *w = strtok_r(point, " ", &save); w; w = strtok_r(NULL, " ", &save))
        ck_assert_msg(listed(e->fail, w) || listed(e->pass, w), "%s: the table's point '%s' is in neither its fail "
                      "nor its pass list", e->name, w);
    ck_assert_msg(j->why[0] == '\0', "%s: %s", e->name, j->why);
    ck_assert_msg(!j->timed_out, "%s: the grader ran past the %.0f s watchdog (output: %s)", e->name, p->timeout,
                  j->out);
    ck_assert_msg(WIFEXITED(j->status), "%s: the grader was killed by signal %d (output: %s)", e->name,
                  WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0, j->out);
    int code = WEXITSTATUS(j->status);

    e2e_assert_valid_json(j->json);
    struct e2e_results r;
    e2e_read_results(j->json, &r);
    /* The row's point first: not judged, nothing else this row says is worth reading. */
    for (int k = 0; k < r.n; k++)
        ck_assert_msg(!(listed(e->point, r.t[k].name) && is_skipped(&r.t[k])),
                      "%s: '%s' is why this row exists, and it could not be judged in %d grading%s (%s): the point "
                      "was NOT tested. Run it again on an idle machine (%s)", e->name, r.t[k].name, j->gradings,
                      j->gradings == 1 ? "" : "s", r.t[k].output, j->out);
    /* Exit status 1 unless every check passed: a row expecting 0 also takes 1 when all that kept it
     * from 0 is a check of the busy list, not the row's point, the machine's load left not judged
     * (or one of its passskip list, not judged). */
    bool only_busy = code == 1;
    for (int k = 0; k < r.n && only_busy; k++)
        only_busy = !strcmp(r.t[k].status, "passed") || busy_skip(p, e, &r.t[k]) ||
                    (listed(e->passskip, r.t[k].name) && is_skipped(&r.t[k]));
    ck_assert_msg(code == e->exit_status || (e->exit_status == 0 && only_busy),
                  "%s: grader exit status %d, expected %d (output: %s)", e->name, code, e->exit_status, j->out);
    /* Every check the table names was reported... */
    assert_known(e->name, "fail", e->fail, &r);
    assert_known(e->name, "pass", e->pass, &r);
    assert_known(e->name, "skipped", e->skipped, &r);
    assert_known(e->name, "either", e->either, &r);
    assert_known(e->name, "passskip", e->passskip, &r);
    assert_known(e->name, "point", e->point, &r);

    /* ...and every reported check is as the table says. */
    double score = 0, max = 0;
    int failed = 0;
    for (int k = 0; k < r.n; k++) {
        score += r.t[k].score;
        max += r.t[k].max;
        failed += !strcmp(r.t[k].status, "failed");
        assert_verdict(p, e, &r.t[k]);
    }
    /* A failed integrity check sets the whole score to 0; otherwise the tests add up. */
    const struct e2e_test *integrity = e2e_find_test(&r, "integrity");
    bool tampered = integrity && !strcmp(integrity->status, "failed");
    ck_assert_msg((tampered ? r.score == 0 : score == r.score) && max == r.max, "%s: top-level score %g/%g, but the "
                  "tests add up to %g/%g%s", e->name, r.score, r.max, score, max,
                  tampered ? " (integrity failed: the score should be 0)" : "");
    ck_assert_msg((r.score >= r.max) == (code == 0), "%s: score %g/%g with exit status %d", e->name, r.score,
                  r.max, code);
    if (code == 1)
        ck_assert_msg(failed > 0, "%s: not full marks, yet no test failed", e->name);
    if (e->at_most > 0)
        ck_assert_msg(r.score <= e->at_most * r.max, "%s: %g/%g is more than %.0f%% of the points", e->name,
                      r.score, r.max, e->at_most * 100);

    /* The failure says what was seen: "check:words;check:words". */
    char clues[512];
    snprintf(clues, sizeof clues, "%s", e->clues ? e->clues : "");
    for (char *save, *c = strtok_r(clues, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
        char *words = strchr(c, ':');
        ck_assert_msg(words != NULL, "%s: bad clue '%s'", e->name, c);
        *words++ = '\0';
        const struct e2e_test *t = e2e_find_test(&r, c);
        ck_assert_msg(t != NULL, "%s: no test '%s' for a clue", e->name, c);
        if (busy_skip(p, e, t))
            continue;
        char escaped[1024];
        if (words[0] == '#') { /* "check:#hint-id": that hint's text, from the catalogue, as JSON writes it */
            const struct hint *h = hint_find(words + 1);
            ck_assert_msg(h != NULL, "%s: no hint '%s' in the catalogue", e->name, words + 1);
            size_t n = 0;
            for (const char *t = h->text; *t && n + 2 < sizeof escaped; t++) {
                if (*t == '"' || *t == '\\')
                    escaped[n++] = '\\';
                escaped[n++] = *t;
            }
            escaped[n] = '\0';
            words = escaped;
        }
        ck_assert_msg(strstr(t->output, words), "%s: '%s' should say \"%s\"; it says: %s", e->name, c, words,
                      t->output);
    }
    e2e_free_results(&r);
}

void e2e_chdir_to_root(const char *argv0)
{
    if (access(E2E_GRADER, X_OK) == 0)
        return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *root = dirname(dirname(dirname(exe))); /* ROOT/tests/bin/check_x */
        if (chdir(root) == 0 && access(E2E_GRADER, X_OK) == 0)
            return;
    }
    fprintf(stderr, "%s: cannot find %s: run from the repository root after 'make grader'\n", argv0, E2E_GRADER);
    exit(1);
}
