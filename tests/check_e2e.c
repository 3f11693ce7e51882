/* check_e2e.c - lab 1 end to end: the real grader on real programs (Check).
 *
 * Grades the reference, the student skeleton, the wrong programs and the two
 * right alternatives under tests/lab1/, and a few --exec gradings, with
 *     ./grader/grade lab1 PROGRAM --json FILE
 * then asserts, per test NAME in the JSON, what the table below expects: which
 * checks must fail, which must pass (full points), which are not judged (0 of their points),
 * which may go either way; the exit status (0 full marks, 1 otherwise); that
 * the JSON is valid (python3 -m json.tool, when there is a python3) and adds
 * up; and that some failures name what was seen ("nanosleep", "thread").
 * A second tcase checks exit status 2 for what cannot be graded.
 * A wrong program is graded for the checks it must fail and one beside them
 * (--only), unless its row's point is the whole report: the rest of its
 * header's "Must pass:" list is verified by make stress (tools/stress), which
 * grades every program whole.
 *
 * The gradings run before the tests, E2E_JOBS at a time (default: 2 per CPU,
 * at most 4), each under a watchdog; the tests then read the results.
 * Measured on 2 cores (load 5-8 from other work): 4 at a time 25-33 s, the
 * right programs' lines at most 14 ms late (80 ms allowed), every verdict as
 * expected in 4 of 4 suite runs; 2 at a time 42-46 s; 1 at a time 86 s.
 *
 * Run: make test   (or: make tests/bin/check_e2e && tests/bin/check_e2e)
 * Env: E2E_JOBS=N parallel gradings (1-8); E2E_KEEP=1 keep the scratch folder.
 * See also: tests/lab1/ (each program says what is wrong with it), tests/e2e.h
 *           (the pool, the results reader and the table's meaning, shared with labs 2 and 3).
 */
#define _GNU_SOURCE
#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"
#include "hints.h"
#include "engine.h" /* cpus_available(): affinity and cgroup quota, as the grader sees them */

/* --- The expectations (tests/e2e.h says what each field means) ------------------ */

#define ALL_CHECKS "build format order timing cpu structure memory errors integrity"

/* Longest first, so the pool ends sooner. */
static const struct e2e_case table[] = {
    {.name = "replay", .source = "tests/lab1/replay.c", .exit_status = 1,
     .fail = "format timing", .pass = "build cpu structure memory errors integrity", .either = "order",
     .clues = "format:#replayed-output;format:delay;timing:#late-finish;timing:longer than the sum"},
    {.name = "sequential", .source = "tests/lab1/sequential.c", .exit_status = 1,
     .fail = "order timing", .pass = "build format cpu structure memory errors integrity",
     .clues = "timing:#sequential-wait;timing:one task after another;order:#order-finished"},
    {.name = "exec_defaults", .source = "solutions/lab1/sleeper.c", .exec = true, .defaults = true, .exit_status = 1,
     .pass = "format order timing cpu structure errors integrity", .skipped = "build memory"},
    {.name = "reference", .source = "solutions/lab1", .pass = ALL_CHECKS},
    /* As handed out: builds, earns a low score; the event loop is the student's, so timing fails. */
    {.name = "skeleton", .source = "labs/lab1/sleeper.c", .optional = true, .exit_status = 1,
     .fail = "timing", .pass = "build integrity", .either = "*", .at_most = 0.5},
    {.name = "busywait", .source = "tests/lab1/busywait.c", .exit_status = 1,
     .fail = "cpu structure", .pass = "build format order timing memory errors integrity",
     .clues = "cpu:#busy-wait;structure:#no-select;structure:select"},
    {.name = "threads", .source = "tests/lab1/threads.c", .only = "structure,timing", .exit_status = 1,
     .fail = "structure", .pass = "build timing integrity",
     .clues = "structure:#wrong-wait-call;structure:thread;structure:nanosleep"},
    {.name = "nanosleep", .source = "tests/lab1/nanosleep.c", .only = "structure,timing", .exit_status = 1,
     .fail = "structure", .pass = "build timing integrity",
     .clues = "structure:#wrong-wait-call;structure:nanosleep"},
    {.name = "leak", .source = "tests/lab1/leak.c", .only = "memory,format", .exit_status = 1,
     .fail = "memory", .pass = "build format integrity", .clues = "memory:#leak;memory:lost"},
    {.name = "fdleak", .source = "tests/lab1/fdleak.c", .only = "memory,errors", .exit_status = 1,
     .fail = "memory", .pass = "build errors integrity",
     .clues = "memory:#fd-leak;memory:descriptor"},
    {.name = "noargcheck", .source = "tests/lab1/noargcheck.c", .only = "errors,format", .exit_status = 1,
     .fail = "errors", .pass = "build format integrity", .clues = "errors:#bad-args;errors:status"},
    {.name = "fork", .source = "tests/lab1/fork.c", .only = "structure,format", .exit_status = 1,
     .fail = "structure", .pass = "build format integrity",
     .clues = "structure:process"},
    /* Cheats a probe-only grader passed: the kernel (the tracer) sees through them. */
    {.name = "rawsleep", .source = "tests/lab1/rawsleep.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:clock_nanosleep"},
    {.name = "timerfd_read", .source = "tests/lab1/timerfd_read.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#wrong-wait-call;structure:blocked in read()"},
    {.name = "cloned", .source = "tests/lab1/cloned.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:process"},
    {.name = "probeforge", .source = "tests/lab1/probeforge.c", .only = "structure", .exit_status = 1,
     .fail = "structure integrity", .pass = "build", .clues = "structure:nanosleep;integrity:forged;integrity:#integrity"},
    {.name = "poll", .source = "tests/lab1/poll.c", .only = "structure,cpu", .exit_status = 1,
     .fail = "structure", .pass = "build cpu integrity", .clues = "structure:poll"},
    {.name = "wrongtotal", .source = "tests/lab1/wrongtotal.c", .only = "timing,order", .exit_status = 1,
     .fail = "timing", .pass = "build order integrity",
     .clues = "timing:#wrong-total;timing:Total time"},
    {.name = "eintr", .source = "tests/lab1/eintr.c", .exit_status = 1,
     .fail = "format order timing cpu memory errors", .pass = "build structure integrity",
     .clues = "format:#eintr;format:#exit-status;format:EINTR;timing:EINTR"},
    {.name = "stdout_garbage", .source = "tests/lab1/stdout_garbage.c", .only = "format,order", .exit_status = 1,
     .fail = "format", .pass = "build order integrity", .clues = "format:#format;format:[debug]"},
    /* Byte for byte: a NUL, a '\r' or terminal codes make other lines, shown quoted (\xNN). */
    {.name = "nuljunk", .source = "tests/lab1/nuljunk.c", .exit_status = 1,
     .fail = "format order timing", .pass = "build cpu structure memory errors integrity", .clues = "format:x00junk"},
    {.name = "crlf", .source = "tests/lab1/crlf.c", .exit_status = 1,
     .fail = "format order timing", .pass = "build cpu structure memory errors integrity", .clues = "format:started\\\\x0d"},
    {.name = "escforge", .source = "tests/lab1/escforge.c", .only = "format,order", .exit_status = 1,
     .fail = "format", .pass = "build order integrity", .clues = "format:x1b[1A"},
    /* valgrind's log is a pipe the program can add to, never rewrite; each run has a fresh folder,
     * $HOME is read-only and valgrind takes only the grader's options. */
    {.name = "vglogrewrite", .source = "tests/lab1/vglogrewrite.c", .exit_status = 1,
     .fail = "memory integrity", .pass = "build format order timing cpu structure errors",
     .clues = "integrity:valgrind's log descriptor"},
    {.name = "vgrc", .source = "tests/lab1/vgrc.c", .exit_status = 1,
     .fail = "memory integrity", .pass = "build format order timing cpu structure errors",
     .clues = "memory:100 bytes definitely lost;integrity:.valgrindrc"},
    /* Bad arguments from the skeleton's spec: each class is tried in every grading. */
    {.name = "acceptsnan", .source = "tests/lab1/acceptsnan.c", .only = "errors", .exit_status = 1, .pass = "build integrity",
     .fail = "errors", .clues = "errors:#time-limit;errors:#bad-args;errors:(NaN) the program was stopped at the"},
    /* integrity either way: glibc refuses the infinite select() timeout (EINVAL) without the system
     * call, and the tracer's probe/kernel comparison calls that a forged record (reported to its owner). */
    {.name = "accepts1e999", .source = "tests/lab1/accepts1e999.c", .only = "errors", .exit_status = 1, .pass = "build integrity",
     .fail = "errors", .clues = "errors:(out of range) the program exited with status 1;errors:(infinite)"},
    /* A program per hint (handouts/hints.md) that no row above gets, graded for the check that gives it. */
    {.name = "doublefree", .source = "tests/lab1/doublefree.c", .only = "format,memory", .exit_status = 1,
     .fail = "format memory", .pass = "build integrity",
     .clues = "format:#crash;format:signal 6;memory:#invalid-access;memory:Invalid free"},
    {.name = "startlate", .source = "tests/lab1/startlate.c", .only = "order", .exit_status = 1, .fail = "order",
     .pass = "build integrity", .clues = "order:#order-started;order:every 'started' line comes before"},
    {.name = "truncdelay", .source = "tests/lab1/truncdelay.c", .only = "timing", .exit_status = 1, .fail = "timing",
     .pass = "build integrity", .clues = "timing:#early-finish;timing:before its"},
    {.name = "staletimeout", .source = "tests/lab1/staletimeout.c", .only = "cpu", .exit_status = 1, .fail = "cpu",
     .pass = "build integrity", .clues = "cpu:#busy-wait;cpu:#timeout-not-rebuilt;cpu:select/pselect was called"},
    /* --exec of a program that was never built: the shell cannot start it (status 127). */
    {.name = "exec_missing", .source = "tests/lab1", .command = "tests/lab1/sleeper", .only = "format",
     .exit_status = 1, .fail = "format", .pass = "integrity", .skipped = "build",
     .clues = "format:#cannot-start;format:not found"},
    /* Warnings are shown with file:line, the compiler's text and advice, although the build passes. */
    {.name = "warnings", .source = "tests/lab1/warnings.c", .only = "build", .pass = "build integrity",
     .clues = "build:#implicit-declaration;build:#unused;build:sleeper.c:92: warning: implicit declaration;build:_DEFAULT_SOURCE;"
              "build:sleeper.c:91: warning: unused variable;build:hint: A function was called without"},
    {.name = "manywarnings", .source = "tests/lab1/manywarnings.c", .only = "build", .pass = "build integrity",
     .clues = "build:with 7 warnings;build:and 2 more;build:-o sleeper sleeper.c -lm;build:#unused;build:#unused-result;"
              "build:#format-string;build:#sign-compare;build:#return-type;"
              "build:#uninitialized"},
    {.name = "alt_pselect", .source = "tests/lab1/alt_pselect.c", .pass = ALL_CHECKS},
    {.name = "alt_sorted", .source = "tests/lab1/alt_sorted.c", .pass = ALL_CHECKS},
    /* --exec: C-only checks are not judged (so exit 1); any event-loop call counts, sleeping does not. */
    {.name = "exec_reference", .source = "solutions/lab1/sleeper.c", .exec = true, .exit_status = 1,
     .pass = "format order timing cpu structure errors integrity", .skipped = "build memory"},
    {.name = "exec_poll", .source = "tests/lab1/poll.c", .exec = true, .exit_status = 1,
     .pass = "format order timing cpu structure errors integrity", .skipped = "build memory"},
    {.name = "exec_nanosleep", .source = "tests/lab1/nanosleep.c", .exec = true, .exit_status = 1,
     .fail = "structure", .pass = "format order timing cpu errors integrity", .skipped = "build memory",
     .clues = "structure:nanosleep"},
    /* The handout's Python pair (skipped where /usr/bin/python3 is missing): asyncio.sleep
     * passes what applies to it; time.sleep in the coroutine fails order, timing, structure. */
    {.name = "python_asyncio", .source = "/usr/bin/python3", .optional = true, .exit_status = 1,
     .command = "/usr/bin/python3 handouts/python/asyncio_sleeper.py",
     .pass = "format order timing cpu structure errors integrity", .skipped = "build memory"},
    {.name = "python_blocking", .source = "/usr/bin/python3", .optional = true, .exit_status = 1,
     .command = "/usr/bin/python3 handouts/python/asyncio_blocking.py",
     .fail = "order timing structure", .pass = "format cpu errors integrity", .skipped = "build memory",
     .clues = "timing:one task after another;structure:clock_nanosleep"},
};
#define NJOBS (sizeof table / sizeof table[0])

static struct e2e_pool pool = {.tag = "e2e", .lab = "lab1", .cases = table, .n = NJOBS,
                               .timeout = 100.0 /* s: a watchdog; a lab-1 grading takes 2-15 s */};

/* The unchecked fixture: every grading, E2E_JOBS at a time, before the tests. */
static void run_all_gradings(void)
{
    int per_cpu = cpus_available() >= 2 ? 4 : 2; /* 2 per CPU, at most 4 */
    if (e2e_pool_open(&pool))
        e2e_pool_run(&pool, false, e2e_jobs_wanted(&pool, per_cpu));
}

static void remove_scratch(void)
{
    e2e_pool_close(&pool);
}

/* --- Tests -------------------------------------------------------------------- */

START_TEST(test_grading)
{
    e2e_check_case(&pool, (size_t)_i);
}
END_TEST

/* No byte a program printed reaches the report raw: the .txt of the programs
 * that print control bytes holds none (the grader ran with --no-color). */
START_TEST(test_report_has_no_raw_bytes)
{
    static const char *const names[] = {"nuljunk", "crlf", "escforge"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        for (size_t i = 0; i < NJOBS; i++) {
            if (strcmp(table[i].name, names[k]) != 0 || !e2e_graded_here(&pool, i))
                continue;
            FILE *f = fopen(pool.jobs[i].out, "rb");
            ck_assert_msg(f != NULL, "%s: no report at %s", names[k], pool.jobs[i].out);
            int c;
            long at = 0;
            while ((c = fgetc(f)) != EOF) {
                ck_assert_msg(c == '\n' || (c >= 0x20 && c != 0x7F && c != 0x9B), "%s: byte 0x%02x at offset %ld of "
                              "the report (%s) reached it raw", names[k], c, at, pool.jobs[i].out);
                at++;
            }
            fclose(f);
        }
    }
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
    e2e_run_to(argv, "/dev/null");
}

/* Runs the grader with args; returns its exit code (-1 if it did not exit) and its output. */
static int grade_with(char *const *args, char *out, size_t size)
{
    char *argv[16] = {E2E_GRADER};
    int n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/out.txt", exit2_dir);
    int st = e2e_run_to(argv, path);
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
    e2e_assert_valid_json(json);
    struct e2e_results r;
    e2e_read_results(json, &r);
    const struct e2e_test *b = e2e_find_test(&r, "build");
    ck_assert_msg(b && !strcmp(b->status, "failed"), "build should fail");
    ck_assert_msg(strstr(b->output, "missing_name"), "the build output should quote the compiler: %s",
                  b->output);
    ck_assert_msg(strstr(b->output, hint_find("build-failed")->text), "the build-failed hint is missing: %s",
                  b->output);
    for (int i = 0; i < r.n; i++)
        ck_assert_msg(r.t[i].score == 0, "%s scored %g although nothing was built", r.t[i].name, r.t[i].score);
    ck_assert(r.score == 0 && r.max > 0);
    e2e_free_results(&r);
}
END_TEST

static Suite *e2e_suite(void)
{
    Suite *s = suite_create("lab1 end to end");
    TCase *g = tcase_create("gradings");
    tcase_add_unchecked_fixture(g, run_all_gradings, remove_scratch);
    tcase_set_timeout(g, 20); /* per test: reading results; the gradings ran in the fixture */
    tcase_add_loop_test(g, test_grading, 0, (int)NJOBS);
    tcase_add_test(g, test_report_has_no_raw_bytes);
    suite_add_tcase(s, g);

    TCase *x = tcase_create("cannot grade");
    tcase_add_checked_fixture(x, exit2_setup, exit2_teardown);
    tcase_set_timeout(x, 30);
    tcase_add_loop_test(x, test_exit2, 0, (int)(sizeof exit2_cases / sizeof exit2_cases[0]));
    tcase_add_test(x, test_build_failure_is_graded);
    suite_add_tcase(s, x);
    return s;
}

int main(int argc, char *argv[])
{
    (void)argc;
    e2e_chdir_to_root(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(e2e_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
