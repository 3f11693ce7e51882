/* check_lab2.c - lab 2 end to end: the real grader on real programs (Check).
 *
 * Grades the reference, the skeleton, the wrong programs and the right
 * alternative under tests/lab2/, the reference through --exec, and the
 * reference pinned to one CPU (taskset -c 0), each with
 *     ./grader/grade lab2 PROGRAM --json FILE
 * then asserts, per test NAME in the JSON, which checks must fail, which must
 * pass with full points, which must be skipped (0 of 0), the grader's exit
 * status, and that a failure's text names what was seen or the fix.
 * A wrong program is graded for the checks it must fail and one or two beside
 * them (--only): the rest of its header's "Must pass:" list is verified by
 * make stress, which grades every program whole (tools/stress).
 *
 * The gradings run two at a time before the tests (LAB2_JOBS=N to change):
 * their parallel verdicts may then say "the machine was busy", which these
 * rows accept (measured: 28 gradings in 76 s beside lab 3's suite, 102-118 s
 * one at a time). The rows whose point is the parallel verdict (the
 * reference, the alternative, sequential) run apart, alone, and are graded
 * again (LAB2_RETRIES, default 3) while the grader says "the machine was busy";
 * if it still could not judge, the row FAILS. In the other rows a busy skip of
 * parallel is accepted and counted in the log.
 *
 * Run: make test   (or: make tests/bin/check_lab2 && tests/bin/check_lab2)
 * Env: LAB2_JOBS=N gradings at a time; LAB2_KEEP=1 keep the results folder.
 * See also: tests/lab2/ (each program says what is wrong with it),
 *           grader/labs/lab2.c, tests/e2e.h (the pool, the results reader and
 *           the table's meaning), tests/check_e2e.c (lab 1).
 */
#define _GNU_SOURCE
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e.h"

#define ALL_CHECKS "build format order piped correctness structure parallel cpu memory errors integrity"
#define BUT_BUILD "format order piped correctness structure parallel cpu memory errors"

static const struct e2e_case table[] = {
    /* The rows whose point is a timing verdict run alone, graded again while the machine was busy;
     * the right programs are also graded whole beside the other steps (noise may leave parallel
     * not judged, never fail it or any other check). */
    {.name = "reference_parallel", .source = "solutions/lab2", .only = "parallel", .pass = "build parallel integrity",
     .point = "parallel"},
    {.name = "alternative_parallel", .source = "tests/lab2/alternative.c", .only = "parallel",
     .pass = "build parallel integrity", .point = "parallel"},
    {.name = "reference", .source = "solutions/lab2", .pass = ALL_CHECKS},
    {.name = "alternative", .source = "tests/lab2/alternative.c", .pass = ALL_CHECKS},
    {.name = "acceptsoverflow", .source = "tests/lab2/acceptsoverflow.c", .only = "errors", .exit_status = 1, .pass = "build integrity",
     .fail = "errors", .clues = "errors:#bad-args;errors:(out of range) the program was stopped at the"},
    /* Memory per process: the parent's heap a child inherited is not the child's leak; a child's own is. */
    {.name = "mallocpids", .source = "tests/lab2/mallocpids.c", .only = "memory", .pass = "build memory integrity"},
    {.name = "childleak", .source = "tests/lab2/childleak.c", .only = "memory", .exit_status = 1, .pass = "build integrity",
     .fail = "memory", .clues = "memory:#leak;memory:#fd-leak;memory:Process 1 (pid;memory:the 1st child forked);memory:in child;memory:left fd 3 open;memory:read end"},
    /* A malloc in main's child branch has the parent's backtrace: valgrind's malloc trace says whose it is. */
    {.name = "childmainleak", .source = "tests/lab2/childmainleak.c", .only = "memory", .exit_status = 1,
     .pass = "build integrity", .fail = "memory",
     .clues = "memory:#leak;memory:lost 8 bytes allocated by malloc at forkcount.c:162 in main;memory:Process 2 (pid"},
    {.name = "skeleton", .source = "labs/lab2/forkcount.c", .exit_status = 1, .fail = BUT_BUILD, .pass = "build integrity",
     .clues = "structure:#no-fork;structure:no child process made;format:children were started;errors:status"},
    /* Children one after another: the row's point (parallel) graded alone, the rest side by side. */
    {.name = "sequential", .source = "tests/lab2/sequential.c", .only = "parallel", .exit_status = 1,
     .fail = "parallel", .pass = "build integrity", .point = "parallel", .clues = "parallel:one after another"},
    {.name = "sequential_rest", .source = "tests/lab2/sequential.c",
     .only = "format,order,piped,correctness,structure,cpu,memory,errors", .exit_status = 1, .fail = "structure",
     .pass = "build format order piped correctness cpu memory errors integrity",
     .clues = "structure:#sequential-fork;structure:before the last fork"},
    {.name = "nowait", .source = "tests/lab2/nowait.c", .only = "structure,memory", .exit_status = 1, .fail = "structure",
     .pass = "build memory integrity", .clues = "structure:wait4/waitid 0 times"},
    {.name = "zombie", .source = "tests/lab2/zombie.c", .only = "structure,correctness", .exit_status = 1, .fail = "structure",
     .pass = "build correctness integrity", .clues = "structure:#zombie;structure:zombie"},
    {.name = "globalcount", .source = "tests/lab2/globalcount.c", .only = "correctness,cpu", .exit_status = 1,
     .fail = "correctness", .pass = "build cpu integrity",
     .clues = "correctness:#global-counter;correctness:Total count is 0;correctness:own copy of memory"},
    {.name = "hardcoded_total", .source = "tests/lab2/hardcoded_total.c", .only = "correctness", .exit_status = 1,
     .fail = "correctness", .pass = "build integrity", .clues = "correctness:#no-pipe;correctness:sent nothing through a pipe"},
    {.name = "dummy_send", .source = "tests/lab2/dummy_send.c", .only = "correctness", .exit_status = 1,
     .fail = "correctness", .pass = "build integrity", .clues = "correctness:#no-pipe;correctness:not their count"},
    {.name = "unread_total", .source = "tests/lab2/unread_total.c", .only = "correctness", .exit_status = 1,
     .fail = "correctness", .pass = "build integrity", .clues = "correctness:#no-pipe;correctness:never read the pipe"},
    {.name = "dupbuffer", .source = "tests/lab2/dupbuffer.c", .only = "format,order,piped", .exit_status = 1,
     .fail = "piped", .pass = "build format order integrity",
     .clues = "piped:#fork-duplicates;piped:printed again by a child;piped:fflush(stdout) before fork()"},
    {.name = "threads", .source = "tests/lab2/threads.c", .only = "structure,correctness", .exit_status = 1,
     .fail = "structure", .pass = "build correctness integrity",
     .clues = "structure:#threads-not-processes;structure:thread;structure:about processes"},
    /* Threads behind forged fork/wait records and a silenced probe: the kernel sees threads, and the
     * forged records are tampering. */
    {.name = "threadforge", .source = "tests/lab2/threadforge.c", .only = "structure", .exit_status = 1,
     .fail = "structure integrity", .pass = "build", .clues = "structure:thread;integrity:forged"},
    /* Children that count one after another while the parent spins: CPU/wall of the tree ~2, but the
     * children's own samples and the paired runs show no parallelism; the row's point, graded again while the machine was busy. */
    {.name = "spinparent", .source = "tests/lab2/spinparent.c", .only = "parallel", .exit_status = 1,
     .fail = "parallel", .pass = "build integrity", .point = "parallel", .clues = "parallel:#not-parallel;parallel:speed-up"},
    /* Children that take turns (a shared turn number) while the waiting ones spin, and a program that
     * slows its one-child runs: CPU/wall, the samples and the paired speed-up all look parallel; the
     * turns test (grader/turns.c) stops the child whose turn it is. */
    {.name = "turnfork", .source = "tests/lab2/turnfork.c", .only = "parallel", .exit_status = 1,
     .fail = "parallel", .pass = "build integrity", .point = "parallel", .clues = "parallel:took turns"},
    /* A right program whose children close every inherited descriptor, the probe's among them:
     * the tracer keeps that one open, and it is no tampering. */
    {.name = "closeall", .source = "tests/lab2/closeall.c", .only = "correctness,structure",
     .pass = "build correctness structure integrity"},
    /* A right program whose children wait for the parent's release after sending their counts: the
     * turns test sees them sleep, not spin. */
    {.name = "releaseack", .source = "tests/lab2/releaseack.c", .only = "parallel", .pass = "build parallel integrity",
     .point = "parallel"},
    /* A program for each check that no other row fails, graded for that check's tag only
     * (tools/stress grades them whole; tests/observations/ holds their other verdicts). */
    /* A program per hint (handouts/hints.md) that no row above gets: a child that goes on round the
     * fork loop, a parent that reads one count ("if" for "while"). */
    {.name = "nochildexit", .source = "tests/lab2/nochildexit.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#child-continues;structure:only the parent forks"},
    {.name = "readonce", .source = "tests/lab2/readonce.c", .only = "correctness", .exit_status = 1,
     .fail = "correctness", .pass = "build integrity", .clues = "correctness:#partial-total;correctness:the count of 1 process"},
    {.name = "nobuild", .source = "tests/lab2/nobuild.c", .exit_status = 1, .fail = "build " BUT_BUILD, .pass = "integrity",
     .clues = "build:undeclared;format:did not build;format:#not-built;parallel:#not-built"},
    {.name = "extraline", .source = "tests/lab2/extraline.c", .only = "format,piped", .exit_status = 1,
     .fail = "format piped", .pass = "build integrity", .clues = "format:not in the contract;piped:Forking"},
    {.name = "earlytotal", .source = "tests/lab2/earlytotal.c", .only = "order,piped", .exit_status = 1,
     .fail = "order piped", .pass = "build integrity", .clues = "order:#lines-after-total;piped:#lines-after-total;order:before the totals"},
    {.name = "nocount", .source = "tests/lab2/nocount.c", .only = "cpu", .exit_status = 1, .fail = "cpu",
     .pass = "build integrity", .clues = "cpu:#loop-removed;cpu:nothing was really counted"},
    {.name = "leak", .source = "tests/lab2/leak.c", .only = "memory", .exit_status = 1, .fail = "memory",
     .pass = "build integrity", .clues = "memory:definitely lost"},
    {.name = "noargcheck", .source = "tests/lab2/noargcheck.c", .only = "errors", .exit_status = 1,
     .fail = "errors", .pass = "build integrity", .clues = "errors:expected exit status 2"},
    /* --exec: the C-only checks (build, memory) are not judged: exit 1. */
    {.name = "exec_reference", .source = "solutions/lab2/forkcount.c", .exec = true, .exit_status = 1,
     .only = "build,memory,format,correctness,structure,errors",
     .pass = "format correctness structure errors integrity", .skipped = "build memory"},
    /* make lab2 CPUS=1: parallelism cannot be judged, the rest still can. */
    {.name = "one_cpu", .source = "solutions/lab2", .one_cpu = true, .exit_status = 1,
     .only = "parallel,cpu,structure,format", .pass = "build format structure cpu integrity", .skipped = "parallel",
     .clues = "parallel:1 CPU;parallel:sum"},
};
#define NJOBS (sizeof table / sizeof table[0])

/* The parallel check may be "skipped: the machine was busy" in a row whose point it is not. */
static struct e2e_pool pool = {.tag = "lab2", .lab = "lab2", .cases = table, .n = NJOBS, .busy = "parallel",
                               .timeout = 80.0 /* s: a watchdog; a lab-2 grading takes 3-15 s */};

/* The unchecked fixture: every grading, LAB2_JOBS at a time, before the tests. */
static void run_all_gradings(void)
{
    if (!e2e_pool_open(&pool))
        return;
    e2e_pool_run(&pool, false, e2e_jobs_wanted(&pool, 2));
    e2e_pool_run(&pool, true, 1);
}

/* Also says how many parallel checks a busy machine skipped. */
static void remove_scratch(void)
{
    e2e_pool_close(&pool);
}

/* --- Tests --------------------------------------------------------------------------- */

START_TEST(test_grading)
{
    e2e_check_case(&pool, (size_t)_i);
}
END_TEST

/* The grader's exit status 2 for what it cannot grade, and the lab's listing. */
START_TEST(test_cannot_grade)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/cannot.txt", pool.scratch);
    char *missing[] = {E2E_GRADER, "lab2", "/nonexistent/forkcount.c", NULL};
    int st = e2e_run_to(missing, out);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 2, "a missing submission: exit status %d, "
                  "expected 2", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    char *list[] = {E2E_GRADER, "--list", NULL};
    st = e2e_run_to(list, out);
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

static Suite *lab2_suite(void)
{
    Suite *s = suite_create("lab2");
    TCase *tc = tcase_create("gradings");
    tcase_set_timeout(tc, 20); /* per test: reading results (python3 checks the JSON); the gradings ran in the fixture */
    tcase_add_unchecked_fixture(tc, run_all_gradings, remove_scratch);
    tcase_add_loop_test(tc, test_grading, 0, (int)NJOBS);
    tcase_add_test(tc, test_cannot_grade);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char *argv[])
{
    (void)argc;
    e2e_chdir_to_root(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(lab2_suite());

    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
