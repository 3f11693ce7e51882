/* check_lab2.c - lab 2 end to end: the real grader on real programs (Check).
 *
 * Grades the reference, the skeleton, the wrong programs and the right
 * alternative under tests/lab2/, the reference through --exec, and the
 * reference pinned to one CPU (taskset -c 0), each with
 *     ./grader/grade lab2 PROGRAM --json FILE
 * then asserts, per test NAME in the JSON, which checks must fail, which must
 * pass with full points, which must be skipped (0 of 0), the grader's exit
 * status, and that a failure's text names what was seen or the fix.
 *
 * The gradings run one at a time before the tests (LAB2_JOBS=N to change):
 * every grading has CPU-bound timing runs, and two at once on 2 cores would
 * starve each other's children. The parallel check may say "skipped: the
 * machine was busy" when other programs used the CPUs meanwhile (measured,
 * not guessed); that is accepted for it alone, and counted in the log.
 *
 * Run: make test   (or: make tests/bin/check_lab2 && tests/bin/check_lab2)
 * Env: LAB2_JOBS=N gradings at a time; LAB2_KEEP=1 keep the results folder.
 * See also: tests/lab2/ (each program says what is wrong with it),
 *           grader/labs/lab2.c, tests/check_e2e.c (lab 1).
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
#define JOB_TIMEOUT 80.0 /* s: a watchdog; a lab-2 grading takes 3-15 s */

#define ALL_CHECKS "build format order piped correctness structure parallel cpu memory errors"
#define BUT_BUILD "format order piped correctness structure parallel cpu memory errors"

enum how { DIRECT, EXEC, ONE_CPU };

struct expect {
    const char *name;     /* shown in messages; also the result files' name */
    const char *source;   /* SUBMISSION, or the .c built first for EXEC */
    enum how how;
    int exit_status;      /* 0 full marks, 1 not */
    const char *fail;     /* checks that must fail (0 points) */
    const char *pass;     /* checks that must pass with full points */
    const char *skipped;  /* checks that must be skipped: 0 of 0 points */
    const char *clues;    /* "check:words;..." that check's output must contain */
};

static const struct expect table[] = {
    {"reference", "solutions/lab2", DIRECT, 0, NULL, ALL_CHECKS, NULL, NULL},
    {"alternative", "tests/lab2/alternative.c", DIRECT, 0, NULL, ALL_CHECKS, NULL, NULL},
    {"skeleton", "labs/lab2/forkcount.c", DIRECT, 1, BUT_BUILD, "build", NULL,
     "structure:never called fork();format:children were started;errors:status"},
    {"sequential", "tests/lab2/sequential.c", DIRECT, 1, "structure parallel",
     "build format order piped correctness cpu memory errors", NULL,
     "structure:before the last fork;parallel:one after another"},
    {"nowait", "tests/lab2/nowait.c", DIRECT, 1, "structure",
     "build format order piped correctness parallel cpu memory errors", NULL, "structure:reaped 0 of"},
    {"zombie", "tests/lab2/zombie.c", DIRECT, 1, "structure",
     "build format order piped correctness parallel cpu memory errors", NULL, "structure:zombie"},
    {"globalcount", "tests/lab2/globalcount.c", DIRECT, 1, "correctness",
     "build format order piped structure parallel cpu memory errors", NULL,
     "correctness:Total count is 0;correctness:own copy of memory"},
    {"dupbuffer", "tests/lab2/dupbuffer.c", DIRECT, 1, "piped",
     "build format order correctness structure parallel cpu memory errors", NULL,
     "piped:printed again by a child;piped:fflush(stdout) before fork()"},
    {"threads", "tests/lab2/threads.c", DIRECT, 1, "structure",
     "build format order piped correctness parallel cpu memory errors", NULL,
     "structure:thread;structure:about processes"},
    /* --exec: the C-only checks (build, memory) are skipped. */
    {"exec_reference", "solutions/lab2/forkcount.c", EXEC, 0, NULL,
     "format order piped correctness structure parallel cpu errors", "build memory", NULL},
    /* make lab2 CPUS=1: parallelism cannot be judged, the rest still can. */
    {"one_cpu", "solutions/lab2", ONE_CPU, 0, NULL, "build format order piped correctness structure cpu memory errors",
     "parallel", "parallel:1 CPU;parallel:sum"},
};
#define NJOBS (sizeof table / sizeof table[0])

/* --- Running the gradings ---------------------------------------------------------- */

struct job {
    char why[2 * PATH_MAX]; /* set when the job could not be run */
    pid_t pid;
    double started, seconds;
    bool timed_out;
    int status;           /* wait status */
    char json[PATH_MAX], out[PATH_MAX];
};

static char scratch[] = "/tmp/check_lab2.XXXXXX";
static struct job jobs[NJOBS];
static bool pool_done;
static int busy_skips; /* parallel checks skipped because the machine was busy */

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
    if (e->how == EXEC) {
        snprintf(bin, sizeof bin, "%s/%s.bin", scratch, e->name);
        char log[PATH_MAX];
        snprintf(log, sizeof log, "%s/%s.cc.txt", scratch, e->name);
        char *cc[] = {"cc", "-std=c11", "-O2", "-o", bin, (char *)e->source, NULL};
        int st = run_to(cc, log);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            snprintf(j->why, sizeof j->why, "cc could not build %s (see %s)", e->source, log);
            return;
        }
    }
    char *argv[16];
    int n = 0;
    if (e->how == ONE_CPU) {
        argv[n++] = "taskset";
        argv[n++] = "-c";
        argv[n++] = "0";
    }
    argv[n++] = GRADER;
    argv[n++] = "lab2";
    if (e->how == EXEC) {
        argv[n++] = "--exec";
        argv[n++] = bin;
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
    const char *s = getenv("LAB2_JOBS");
    int n = s ? atoi(s) : 1;
    return n < 1 ? 1 : n > 8 ? 8 : n;
}

/* The unchecked fixture: every grading, LAB2_JOBS at a time, before the tests. */
static void run_all_gradings(void)
{
    if (pool_done)
        return;
    pool_done = true;
    if (!mkdtemp(scratch)) {
        perror("check_lab2: mkdtemp");
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
                printf("lab2: %-15s %s in %5.1f s\n", table[i].name,
                       WIFEXITED(jobs[i].status) ? (WEXITSTATUS(jobs[i].status) == 0 ? "exit 0" :
                       WEXITSTATUS(jobs[i].status) == 1 ? "exit 1" : "exit ?") : "killed",
                       jobs[i].seconds);
            }
        usleep(20000);
    }
    printf("lab2: %zu gradings, %d at a time, in %.1f s (results in %s)\n", NJOBS, max, mono() - t0, scratch);
    fflush(stdout);
}

static void remove_scratch(void)
{
    if (busy_skips)
        printf("lab2: NOTE: %d parallel check%s skipped because the machine was busy: those verdicts were "
               "not tested this time\n", busy_skips, busy_skips == 1 ? " was" : "s were");
    if (getenv("LAB2_KEEP") || !pool_done)
        return;
    char *argv[] = {"rm", "-rf", scratch, NULL};
    run_to(argv, "/dev/null");
}

/* --- Reading results.json ------------------------------------------------------------
 * report_json writes the top-level numbers one per line and each test on its own line:
 *   {"name": "parallel", "score": 3, "max_score": 3, "status": "passed", "output": "...", ...}
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

/* A parallel check skipped because others used the CPUs: not the program's doing. */
static bool busy_skip(const struct json_test *t)
{
    return !strcmp(t->name, "parallel") && t->max == 0 && strstr(t->output, "machine was busy");
}

/* --- Tests --------------------------------------------------------------------------- */

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
    ck_assert_msg(code == e->exit_status, "%s: grader exit status %d, expected %d (output: %s)", e->name, code,
                  e->exit_status, j->out);

    struct results r;
    read_results(j->json, &r);
    double sum = 0, max = 0;
    for (int i = 0; i < r.n; i++) {
        const struct json_test *t = &r.t[i];
        sum += t->score;
        max += t->max;
        bool busy = busy_skip(t);
        busy_skips += busy;
        if (busy)
            printf("lab2: %s: parallel skipped, the machine was busy\n", e->name);
        if (listed(e->fail, t->name))
            ck_assert_msg(busy || (t->score == 0 && t->max > 0 && !strcmp(t->status, "failed")),
                          "%s: '%s' should fail, got %g/%g %s: %s", e->name, t->name, t->score, t->max,
                          t->status, t->output);
        else if (listed(e->pass, t->name))
            ck_assert_msg(busy || (t->max > 0 && t->score == t->max && !strcmp(t->status, "passed")),
                          "%s: '%s' should pass, got %g/%g %s: %s", e->name, t->name, t->score, t->max,
                          t->status, t->output);
        else if (listed(e->skipped, t->name))
            ck_assert_msg(t->max == 0 && t->score == 0, "%s: '%s' should be skipped (0 of 0), got %g/%g: %s",
                          e->name, t->name, t->score, t->max, t->output);
        else
            ck_abort_msg("%s: the grader reported '%s', which the table does not expect", e->name, t->name);
    }
    ck_assert_msg(sum == r.score && max == r.max, "%s: tests add up to %g/%g, the total says %g/%g", e->name,
                  sum, max, r.score, r.max);
    /* Every check named in the table was reported. */
    const char *lists[] = {e->fail, e->pass, e->skipped};
    for (size_t l = 0; l < 3; l++) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", lists[l] ? lists[l] : "");
        for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
            ck_assert_msg(find_test(&r, w) != NULL, "%s: the grader did not report '%s'", e->name, w);
    }
    /* Clues: "check:words;check:words". */
    char clues[512];
    snprintf(clues, sizeof clues, "%s", e->clues ? e->clues : "");
    for (char *save, *c = strtok_r(clues, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
        char *colon = strchr(c, ':');
        ck_assert_msg(colon != NULL, "bad clue '%s'", c);
        *colon = '\0';
        const struct json_test *t = find_test(&r, c);
        ck_assert_msg(t != NULL, "%s: no test '%s' for a clue", e->name, c);
        if (busy_skip(t))
            continue;
        ck_assert_msg(strstr(t->output, colon + 1) != NULL, "%s: '%s' should say \"%s\": %s", e->name, c,
                      colon + 1, t->output);
    }
    free_results(&r);
}
END_TEST

/* The grader's exit status 2 for what it cannot grade, and the lab's listing. */
START_TEST(test_cannot_grade)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/cannot.txt", scratch);
    char *missing[] = {GRADER, "lab2", "/nonexistent/forkcount.c", NULL};
    int st = run_to(missing, out);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 2, "a missing submission: exit status %d, "
                  "expected 2", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    char *list[] = {GRADER, "--list", NULL};
    st = run_to(list, out);
    ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    FILE *f = fopen(out, "r");
    ck_assert(f != NULL);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(buf, "lab2: fork/wait counter") && strstr(buf, "forkcount [NPROCS [ITERATIONS]]"),
                  "grade --list does not show lab 2: %s", buf);
}
END_TEST

int main(void)
{
    if (access(GRADER, X_OK) != 0) {
        fprintf(stderr, "check_lab2: %s is missing: run 'make grader' first (from the kit's top folder)\n",
                GRADER);
        return 1;
    }
    run_all_gradings();
    Suite *s = suite_create("lab2");
    TCase *tc = tcase_create("gradings");
    tcase_add_loop_test(tc, test_grading, 0, (int)NJOBS);
    tcase_add_test(tc, test_cannot_grade);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* busy_skips is counted across tests */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_scratch();
    return failed == 0 ? 0 : 1;
}
