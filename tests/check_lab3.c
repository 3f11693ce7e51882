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
 * depend on CPU time, LAB3_JOBS at a time (default 2); then the rows whose
 * point is the cpu verdict (.point), one at a time (two at once on 2 cores
 * would starve each other's threads), each graded again (LAB3_RETRIES,
 * default 3) while the grader says "the machine was busy". A point still not
 * judged FAILS its row: it was not tested. Elsewhere a busy skip of cpu is
 * accepted and counted in the log.
 * A wrong program is graded with --only the checks it must fail and one or two beside
 * them (those whose fault is a race: the race checks): the rest of its header's
 * "Must pass:" list is verified by make stress, which grades it whole (tools/stress).
 *
 * Run: make test   (or: make tests/bin/check_lab3 && tests/bin/check_lab3)
 * Env: LAB3_JOBS=N gradings at a time in the first phase; LAB3_KEEP=1 keep
 *      the results folder.
 * See also: tests/lab3/ (each program says what is wrong with it),
 *           grader/labs/lab3.c, tests/e2e.h (the pool, the results reader and
 *           the table's meaning), tests/check_lab2.c (lab 2).
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define ALL_CHECKS "build format order correctness-mutex correctness-atomic correctness-local race-mutex " \
                   "race-atomic race-local structure timing memory errors integrity" /* and cpu */

/* --only takes check names (a tag is --tag race): the three race checks. */
#define RACE_CHECKS "race-mutex,race-atomic,race-local"
#define CORRECTNESS_CHECKS "correctness-mutex,correctness-atomic,correctness-local"
#define ALL_BUT_CPU "build format order correctness-mutex correctness-atomic correctness-local race-mutex " \
                    "race-atomic race-local structure timing memory errors"

static const struct e2e_case table[] = {
    /* First phase, LAB3_JOBS at a time, the longest first. */
    /* The reference whole, beside the other steps: noise may leave cpu (the busy list) and the
     * stall test (correctness-atomic) not judged, never fail them or any other check; both are
     * judged on quiet CPUs by reference_cpu, below. */
    {.name = "reference", .source = "solutions/lab3",
     .pass = "build format order correctness-mutex correctness-local race-mutex race-atomic race-local structure "
             "timing memory errors integrity cpu",
     .passskip = "correctness-atomic"},
    {.name = "skeleton", .source = "labs/lab3/threadcount.c", .exit_status = 1,
     .fail = "correctness-mutex correctness-atomic correctness-local race-mutex race-atomic race-local timing cpu",
     .pass = "build format order structure memory errors integrity",
     .clues = "correctness-mutex:#mode-missing;correctness-mutex:mutex mode added nothing;race-atomic:not right;timing:not timed"},
    /* The wrong programs of the second phase, but their cpu check (graded alone, below). */
    {.name = "seqjoin_rest", .source = "tests/lab3/seqjoin.c", .only = "structure,timing,correctness-local", .exit_status = 1,
     .fail = "structure timing", .pass = "build correctness-local integrity",
     .clues = "structure:#sequential-join;structure:before the last one was started;timing:one after another"},
    {.name = "nothreads_rest", .source = "tests/lab3/nothreads.c", .only = "structure,timing,format", .exit_status = 1,
     .fail = "structure timing", .pass = "build format integrity",
     .clues = "structure:#no-threads;structure:no thread started;timing:one after another"},
    /* C11 threads (TSan cannot follow thrd_create here: helgrind judges the races), and local mode
     * holding one lock around each whole count: everything right but cpu. */
    {.name = "biglock_rest", .source = "tests/lab3/biglock.c", .only = RACE_CHECKS ",structure,timing", .exit_status = 0,
     .pass = "build race-mutex race-atomic race-local structure timing integrity", .clues = "race-local:helgrind"},
    /* One CPU: the threads still overlap (timing), but parallelism cannot be judged. */
    {.name = "one_cpu", .source = "solutions/lab3", .one_cpu = true, .only = "timing,cpu,structure,correctness-local",
     .exit_status = 1, .pass = "build timing structure correctness-local integrity", .skipped = "cpu",
     .clues = "cpu:only 1 CPU"},
    {.name = "nolock", .source = "tests/lab3/nolock.c", .only = RACE_CHECKS, .exit_status = 1, .fail = "race-mutex",
     .pass = "build race-atomic race-local integrity", .clues = "race-mutex:#data-race;race-mutex:data race;race-mutex:count_mutex"},
    {.name = "localrace", .source = "tests/lab3/localrace.c", .only = RACE_CHECKS, .exit_status = 1,
     .fail = "race-local", .pass = "build race-mutex race-atomic integrity",
     .clues = "race-local:#data-race;race-local:data race;race-local:count_local"},
    {.name = "volatile", .source = "tests/lab3/volatile.c", .only = RACE_CHECKS, .exit_status = 1,
     .fail = "race-atomic", .pass = "build race-mutex race-local integrity",
     .clues = "race-atomic:#volatile-not-atomic;race-atomic:data race;race-atomic:count_atomic"},
    /* How each mode locks (the probe counts lock calls; an increment's time beside the calibration):
     * mutex around the whole loop, a mutex in atomic mode, an atomic load then a store. */
    {.name = "mutexloop", .source = "tests/lab3/mutexloop.c", .only = CORRECTNESS_CHECKS, .exit_status = 1,
     .fail = "correctness-mutex", .pass = "build correctness-atomic correctness-local integrity",
     .clues = "correctness-mutex:locks on the shared mutex;correctness-mutex:lock and unlock around each increment"},
    {.name = "atomicmutex", .source = "tests/lab3/atomicmutex.c", .only = CORRECTNESS_CHECKS, .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build correctness-mutex correctness-local integrity",
     .clues = "correctness-atomic:mutex mode again"},
    {.name = "loadstore", .source = "tests/lab3/loadstore.c", .only = CORRECTNESS_CHECKS, .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build correctness-mutex correctness-local integrity",
     .clues = "correctness-atomic:#load-then-store;correctness-atomic:#lost-updates"},
    /* Locks that protect nothing (a private mutex per thread; atomic mode one fetch_add of n), a forged
     * lock count, a spinlock of its own in atomic mode (caught by the stall test), and a
     * program that silences TSan (stderr to /dev/null) and skips the exit-time tally (raw exit_group). */
    {.name = "dummylock", .source = "tests/lab3/dummylock.c", .only = CORRECTNESS_CHECKS, .exit_status = 1,
     .fail = "correctness-mutex correctness-atomic", .pass = "build correctness-local integrity",
     .clues = "correctness-mutex:#lock-around-loop;correctness-mutex:on the shared mutex;"
              "correctness-atomic:#atomic-per-increment;correctness-atomic:CPU per increment"},
    {.name = "forgedlock", .source = "tests/lab3/forgedlock.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "correctness-mutex integrity", .pass = "build",
     .clues = "correctness-mutex:locks on the shared mutex;integrity:forged probe records"},
    /* Forged per-thread tallies, each thread then ended by a raw exit (its real tally never written):
     * only the kernel's word on who wrote into the probe's pipe, and how, tells (grader/trace.c). */
    {.name = "forgetally", .source = "tests/lab3/forgetally.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "integrity", .pass = "build", .either = "correctness-mutex",
     .clues = "integrity:by the program's own code at"},
    {.name = "procfdwrite", .source = "tests/lab3/procfdwrite.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "integrity", .pass = "build", .either = "correctness-mutex",
     .clues = "integrity:the grader's probe pipe"},
    {.name = "splicewrite", .source = "tests/lab3/splicewrite.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "integrity", .pass = "build", .either = "correctness-mutex",
     .clues = "integrity:with splice"},
    {.name = "jumpprobe", .source = "tests/lab3/jumpprobe.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "integrity", .pass = "build", .either = "correctness-mutex",
     .clues = "integrity:called into the probe's write"},
    {.name = "jitwrite", .source = "tests/lab3/jitwrite.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "integrity", .pass = "build", .either = "correctness-mutex",
     .clues = "integrity:made memory executable with mmap"},
    {.name = "asmwrite", .source = "tests/lab3/asmwrite.c", .only = "correctness-mutex,integrity",
     .exit_status = 1, .fail = "integrity", .pass = "build", .either = "correctness-mutex",
     .clues = "integrity:inline assembly;integrity:by the program's own code at"},
    /* Spinning locks in atomic mode: the stall test needs the watched thread to get CPU while the
     * other is stopped (beside make test's other steps it could tell in only 3 of 16 tries once):
     * their point is graded alone, again while not judged. */
    {.name = "spinatomic", .source = "tests/lab3/spinatomic.c", .only = "correctness-mutex,correctness-atomic",
     .exit_status = 1, .fail = "correctness-mutex correctness-atomic", .pass = "build integrity",
     .clues = "correctness-mutex:on the shared mutex;correctness-atomic:#atomic-waited;"
              "correctness-atomic:did not finish", .point = "correctness-atomic"},
    /* More locks of the program's own in atomic mode, for the stall test (the tracer stops one
     * thread; the other must still finish): a compare-and-swap loop, a spinlock that yields, a
     * futex lock; and a pthread_spinlock_t, which the probe counts. */
    {.name = "casatomic", .source = "tests/lab3/casatomic.c", .only = "correctness-atomic", .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build integrity",
     .clues = "correctness-atomic:#atomic-waited;correctness-atomic:it spun", .point = "correctness-atomic"},
    {.name = "yieldatomic", .source = "tests/lab3/yieldatomic.c", .only = "correctness-atomic", .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build integrity", .clues = "correctness-atomic:#atomic-waited",
     .point = "correctness-atomic"},
    {.name = "eventfdlock", .source = "tests/lab3/eventfdlock.c", .only = "correctness-atomic", .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build integrity", .clues = "correctness-atomic:#atomic-waited", .point = "correctness-atomic",
     .escapes = 3 /* the stall test misses an eventfd lock in about half the gradings (README) */},
    {.name = "rwlockatomic", .source = "tests/lab3/rwlockatomic.c", .only = "correctness-atomic", .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build integrity", .clues = "correctness-atomic:#atomic-waited", .point = "correctness-atomic",
     .escapes = 3 /* like eventfdlock: the stall test misses it now and then (README) */},
    {.name = "mmapfutex", .source = "tests/lab3/mmapfutex.c", .only = "correctness-atomic", .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build integrity", .clues = "correctness-atomic:#atomic-waited", .point = "correctness-atomic"},
    {.name = "futexatomic", .source = "tests/lab3/futexatomic.c", .only = "correctness-atomic", .exit_status = 1,
     .fail = "correctness-atomic", .pass = "build integrity",
     .clues = "correctness-atomic:#atomic-waited;correctness-atomic:it was blocked", .point = "correctness-atomic"},
    {.name = "spinlockatomic", .source = "tests/lab3/spinlockatomic.c", .only = "correctness-atomic",
     .exit_status = 1, .fail = "correctness-atomic", .pass = "build integrity",
     .clues = "correctness-atomic:#atomic-not-lock"},
    {.name = "silencetsan", .source = "tests/lab3/silencetsan.c", .only = "correctness-atomic,race-local,integrity",
     .exit_status = 1, .fail = "correctness-atomic race-local integrity", .pass = "build",
     .clues = "correctness-atomic:#atomic-not-lock;race-local:#data-race;race-local:never reached stderr;"
              "integrity:no report reached stderr"},
    /* Code that changes under the race detector, or hides from it: integrity fails, the score is 0. */
    {.name = "sanitize_ifdef", .source = "tests/lab3/sanitize_ifdef.c", .only = "integrity", .exit_status = 1,
     .fail = "integrity", .pass = "build", .clues = "integrity:under the race detector"},
    {.name = "sanitizer_maps", .source = "tests/lab3/sanitizer_maps.c", .only = "format,integrity", .exit_status = 1,
     .fail = "integrity", .pass = "build format", .clues = "integrity:read /proc/self/maps"},
    {.name = "nosanitize", .source = "tests/lab3/nosanitize.c", .only = "integrity", .exit_status = 1,
     .fail = "integrity", .pass = "build", .clues = "integrity:no_sanitize"},
    /* A program for each check that no other row fails, graded for that check's tag only
     * (tools/stress grades them whole; tests/observations/ holds their other verdicts). */
    /* A program per hint (handouts/hints.md) that no row above gets, graded for the check that gives it:
     * lab 2's fork() for threads, totals printed before the joins, local mode's loop folded away (not
     * volatile), local mode locking per increment, a pool whose threads never end (no tally, no join). */
    {.name = "forkworkers", .source = "tests/lab3/forkworkers.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#processes-not-threads;structure:more process"},
    {.name = "printfirst", .source = "tests/lab3/printfirst.c", .only = "order", .exit_status = 1, .fail = "order",
     .pass = "build integrity", .clues = "order:#total-before-join;order:join them all first"},
    {.name = "loopgone", .source = "tests/lab3/loopgone.c", .only = "timing", .exit_status = 1, .fail = "timing",
     .pass = "build integrity", .clues = "timing:#thread-loop-removed;timing:nothing to overlap"},
    {.name = "locallock", .source = "tests/lab3/locallock.c", .only = "correctness-local", .exit_status = 1,
     .fail = "correctness-local", .pass = "build integrity", .clues = "correctness-local:#lock-per-increment"},
    {.name = "idlepool", .source = "tests/lab3/idlepool.c", .only = "correctness-local,structure", .exit_status = 1,
     .fail = "correctness-local structure", .pass = "build integrity",
     .clues = "correctness-local:#lock-tally-missing;structure:#not-joined;structure:never joined"},
    {.name = "nobuild", .source = "tests/lab3/nobuild.c", .exit_status = 1, .fail = ALL_BUT_CPU " cpu", .pass = "integrity",
     .clues = "build:undeclared;format:did not build"},
    {.name = "extraline", .source = "tests/lab3/extraline.c", .only = "format", .exit_status = 1,
     .fail = "format", .pass = "build integrity", .clues = "format:not in the contract"},
    {.name = "timefirst", .source = "tests/lab3/timefirst.c", .only = "order", .exit_status = 1,
     .fail = "order", .pass = "build integrity", .clues = "order:'Total count' comes before 'Total time'"},
    {.name = "offbyone", .source = "tests/lab3/offbyone.c", .only = CORRECTNESS_CHECKS, .exit_status = 1,
     .fail = "correctness-mutex", .pass = "build correctness-atomic correctness-local integrity",
     .clues = "correctness-mutex:#wrong-count;correctness-mutex:expected"},
    {.name = "fdleak", .source = "tests/lab3/fdleak.c", .only = "memory", .exit_status = 1, .fail = "memory",
     .pass = "build integrity", .clues = "memory:descriptor"},
    {.name = "noargcheck", .source = "tests/lab3/noargcheck.c", .only = "errors", .exit_status = 1,
     .fail = "errors", .pass = "build integrity", .clues = "errors:expected exit status 2"},
    /* --defaults: only local mode runs, with little work (2 x 10^7 increments: a few ms, unless the
     * machine is busy); C-only checks are skipped. */
    /* --exec: the checks that need no quiet CPUs (cpu: exec_reference, below, alone). */
    {.name = "exec_reference_rest", .source = "solutions/lab3/threadcount.c", .exec = true, .exit_status = 1,
     .only = "format,order,correctness-mutex,correctness-atomic,correctness-local,structure,timing,errors",
     .pass = "format order correctness-mutex correctness-local structure timing errors integrity",
     .passskip = "correctness-atomic", .skipped = "build"},
    {.name = "exec_defaults", .source = "solutions/lab3/threadcount.c", .exec = true, .defaults = true, .exit_status = 1,
     .pass = "format order correctness-local structure errors integrity",
     .skipped = "build memory race-mutex race-atomic race-local correctness-mutex correctness-atomic cpu",
     .passskip = "timing"},
    /* Second phase, one at a time: the rows whose point is the cpu verdict, each graded again
     * while the machine was busy; a cpu check still not judged fails the row. seqjoin and nothreads
     * must not be graded side by side: each would see the other as "busy". The wrong programs are
     * graded --only cpu here (their other checks above, side by side: the quiet CPUs are for cpu);
     * the reference and padded whole. */
    {.name = "seqjoin", .source = "tests/lab3/seqjoin.c", .only = "cpu", .exit_status = 1, .fail = "cpu",
     .pass = "build integrity", .point = "cpu"},
    {.name = "nothreads", .source = "tests/lab3/nothreads.c", .only = "cpu", .exit_status = 1, .fail = "cpu",
     .pass = "build integrity", .point = "cpu"},
    {.name = "reference_cpu", .source = "solutions/lab3", .only = "cpu,correctness-atomic",
     .pass = "build cpu correctness-atomic integrity", .point = "cpu"},
    {.name = "padded", .source = "tests/lab3/padded.c", .only = "cpu,timing,correctness-local,race-local", .point = "cpu",
     .pass = "build cpu timing correctness-local race-local integrity"},
    {.name = "biglock", .source = "tests/lab3/biglock.c", .only = "cpu", .exit_status = 1, .fail = "cpu",
     .pass = "build integrity", .point = "cpu", .clues = "cpu:waited for each other"},
    /* Local mode holding a spinlock around each whole count: the threads are on CPUs together
     * (spinning), but the paired runs show no speed-up. */
    {.name = "spinlocal", .source = "tests/lab3/spinlocal.c", .only = "cpu", .exit_status = 1,
     .fail = "cpu", .pass = "build integrity", .point = "cpu"},
    /* Local mode taking turns (a spinning turn variable) and slowing only its one-thread runs:
     * CPU/wall, the samples and the paired speed-up all look parallel; the stall test does not. */
    {.name = "turnslow", .source = "tests/lab3/turnslow.c", .only = "cpu", .exit_status = 1,
     .fail = "cpu", .pass = "build integrity", .point = "cpu", .clues = "cpu:took turns at the count"},
    /* Turns again, the waiters napping and spinning by turns (an attacker's): a sleep counts only
     * in one stretch, so with one thread stopped the waiter spins past the budget. */
    {.name = "dutywait", .source = "tests/lab3/dutywait.c", .only = "cpu", .exit_status = 1,
     .fail = "cpu", .pass = "build integrity", .point = "cpu"},
    /* A right program whose threads wait at a barrier after their counts: the turns test sees them
     * sleep, not spin (cpu passes); atomic mode's stall test cannot tell that sleep from a lock's
     * and says so (not judged, never atomic-waited). */
    {.name = "endbarrier", .source = "tests/lab3/endbarrier.c", .only = "cpu,correctness-atomic", .exit_status = 1,
     .pass = "build cpu integrity", .skipped = "correctness-atomic", .point = "cpu",
     .clues = "correctness-atomic:a barrier after the count"},
    {.name = "exec_reference", .source = "solutions/lab3/threadcount.c", .exec = true, .exit_status = 1,
     .only = "cpu,build,memory,race-mutex,race-atomic,race-local", .pass = "cpu integrity",
     .skipped = "build memory race-mutex race-atomic race-local", .point = "cpu"},
};
#define NJOBS (sizeof table / sizeof table[0])

/* cpu and the stall test (correctness-atomic) need CPUs: beside make test's other steps either may
 * be "not judged, the machine was busy" in a row that expects it to pass (a row that expects it to
 * fail grades it alone: its point). */
static struct e2e_pool pool = {.tag = "lab3", .lab = "lab3", .cases = table, .n = NJOBS, .busy = "cpu correctness-atomic",
                               .timeout = 100.0 /* s: a watchdog; a lab-3 grading takes 4-20 s */};

/* The unchecked fixture: every grading, before the tests, in two phases. */
static void run_all_gradings(void)
{
    if (!e2e_pool_open(&pool))
        return;
    e2e_pool_run(&pool, false, e2e_jobs_wanted(&pool, 2));
    e2e_pool_run(&pool, true, 1);
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

/* The table of modes under the report: every mode, right or wrong as it should be. */
START_TEST(test_table_of_modes)
{
    for (size_t i = 0; i < NJOBS; i++) {
        const struct e2e_case *e = &table[i];
        if ((strcmp(e->name, "reference") && strcmp(e->name, "skeleton")) || !e2e_graded_here(&pool, i))
            continue;
        FILE *f = fopen(pool.jobs[i].out, "r");
        ck_assert_msg(f != NULL, "%s: no report at %s", e->name, pool.jobs[i].out);
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
                      pool.jobs[i].out);
        if (!strcmp(e->name, "reference"))
            ck_assert_msg(right >= 4, "%s: only %d rows are right (%s)", e->name, right, pool.jobs[i].out);
        else
            ck_assert_msg(nothing == 4, "%s: %d rows counted nothing, expected 4 (%s)", e->name, nothing,
                          pool.jobs[i].out);
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
    e2e_chdir_to_root(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(lab3_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
