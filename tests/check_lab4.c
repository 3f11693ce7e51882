/* check_lab4.c - lab 4 end to end: the real grader on real servers (Check).
 *
 * Grades the reference, the skeleton and the wrong servers under tests/lab4/,
 * each with
 *     ./grader/grade lab4 PROGRAM --json FILE [--only CHECK|TAG]
 * then asserts, per check, which must fail, which must pass with full
 * points, the grader's exit status, and that a failure's text names what was
 * seen (integrity is graded in every grading, --only too). The grader is each server's client (grader/labs/lab4.c); a wrong
 * server is graded with --only the checks its fault is about, so that the
 * suite stays within ~40 s (its other verdicts are the reference's).
 *
 * Two phases, before the tests: the wrong servers and the reference whole,
 * LAB4_JOBS at a time (default 2); then the reference's parallel check
 * alone (it needs the CPUs). parallel is that row's point (tests/e2e.h): when
 * the grader says "the machine was busy" it is graded again (LAB4_RETRIES),
 * and if it never could be judged the row FAILS: it was not tested.
 *
 * Run: make tests/bin/check_lab4 && tests/bin/check_lab4   (also part of make test)
 * Env: LAB4_JOBS=N gradings at a time in the first phase; LAB4_KEEP=1 keep
 *      the results folder.
 * See also: tests/lab4/ (each server says what is wrong with it),
 *           grader/labs/lab4.c, tests/e2e.h (the pool and the table's meaning).
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define ALL_CHECKS "build format protocol concurrency slow scale responsive structure cpu memory errors integrity"

static const struct e2e_case table[] = {
    /* First phase, LAB4_JOBS at a time. */
    {.name = "skeleton", .source = "labs/lab4/server.c", .exit_status = 1,
     .fail = "format protocol concurrency slow scale parallel responsive structure cpu memory errors",
     .pass = "build integrity", .clues = "format:exited with status 1;structure:could not be observed"},
    {.name = "sequential", .source = "tests/lab4/sequential.c", .only = "concurrency", .exit_status = 1,
     .fail = "concurrency", .pass = "build integrity", .clues = "concurrency:#blocked-loop;concurrency:#sequential-server;concurrency:got no reply"},
    {.name = "blockread", .source = "tests/lab4/blockread.c", .only = "slow", .exit_status = 1, .fail = "slow",
     .pass = "build integrity", .clues = "slow:#late-reply;slow:late"},
    {.name = "blockread_structure", .source = "tests/lab4/blockread.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#blocking-socket;structure:blocked in read() on a TCP socket"},
    {.name = "inloop", .source = "tests/lab4/inloop.c", .only = "responsive", .exit_status = 1,
     .fail = "responsive", .pass = "build integrity", .clues = "responsive:#compute-in-loop;responsive:the event loop was not there"},
    {.name = "threadper", .source = "tests/lab4/threadper.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#task-per-request;structure:#io-outside-loop;structure:appeared after start-up"},
    /* Right servers in other styles (an attacker's, session 6): each failed structure once. */
    {.name = "logger", .source = "tests/lab4/logger.c", .only = "structure", .exit_status = 0,
     .pass = "build structure integrity"},
    {.name = "loopthread", .source = "tests/lab4/loopthread.c", .only = "structure", .exit_status = 0,
     .pass = "build structure integrity"},
    {.name = "timedjoin", .source = "tests/lab4/timedjoin.c", .only = "structure", .exit_status = 0,
     .pass = "build structure integrity"},
    {.name = "fakebig", .source = "tests/lab4/fakebig.c", .only = "parallel,responsive", .exit_status = 1,
     .fail = "parallel responsive", .pass = "build integrity",
     .clues = "parallel:#wrong-reply;parallel:where the grader computed;responsive:#wrong-reply"},
    {.name = "sigioloop", .source = "tests/lab4/sigioloop.c", .only = "structure", .exit_status = 1, .fail = "structure",
     .pass = "build integrity", .clues = "structure:#io-thread-not-loop;structure:never waited in select(), poll() or epoll_wait()"},
    {.name = "forgedpool", .source = "tests/lab4/forgedpool.c", .only = "structure", .exit_status = 1,
     .fail = "structure integrity", .pass = "build", .clues = "integrity:#integrity;integrity:forged probe records"},
    {.name = "oneworker", .source = "tests/lab4/oneworker.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#too-few-workers;structure:1 task computed"},
    {.name = "fdleak", .source = "tests/lab4/fdleak.c", .only = "scale", .exit_status = 1, .fail = "scale",
     .pass = "build integrity", .clues = "scale:#fd-leak-loop;scale:descriptors open before"},
    {.name = "nostop", .source = "tests/lab4/nostop.c", .only = "format", .exit_status = 1, .fail = "format",
     .pass = "build integrity", .clues = "format:#slow-shutdown;format:after SIGTERM"},
    {.name = "atoi", .source = "tests/lab4/atoi.c", .only = "protocol", .exit_status = 1, .fail = "protocol",
     .pass = "build integrity", .clues = "protocol:#malformed-accepted;protocol:is malformed"},
    {.name = "atoi_errors", .source = "tests/lab4/atoi.c", .only = "errors", .exit_status = 1, .fail = "errors",
     .pass = "build integrity", .clues = "errors:exited with status 0"},
    {.name = "busypoll", .source = "tests/lab4/busypoll.c", .only = "cpu", .exit_status = 1, .fail = "cpu",
     .pass = "build integrity", .clues = "cpu:sleeping requests: busy"},
    {.name = "decoy", .source = "tests/lab4/decoy.c", .only = "structure", .exit_status = 1, .fail = "structure",
     .pass = "build integrity", .clues = "structure:#compute-in-loop;structure:#too-few-workers;structure:the event-loop thread (task;structure:computed: it used"},
    /* A program per hint (handouts/hints.md) that no row above gets, graded for the check that gives it. */
    {.name = "replycount", .source = "tests/lab4/replycount.c", .only = "format,protocol", .exit_status = 1,
     .fail = "format protocol", .pass = "build integrity",
     .clues = "format:#served-count;format:the grader received;protocol:#wrong-reply;protocol:expected"},
    {.name = "sleepsec", .source = "tests/lab4/sleepsec.c", .only = "concurrency", .exit_status = 1,
     .fail = "concurrency", .pass = "build integrity", .clues = "concurrency:#early-reply;concurrency:before its time"},
    {.name = "exitoneof", .source = "tests/lab4/exitoneof.c", .only = "slow", .exit_status = 1, .fail = "slow",
     .pass = "build integrity", .clues = "slow:#server-died;slow:before the grader's SIGTERM"},
    {.name = "wholeread", .source = "tests/lab4/wholeread.c", .only = "slow", .exit_status = 1, .fail = "slow",
     .pass = "build integrity", .clues = "slow:#partial-line;slow:stalled, then"},
    {.name = "fewconns", .source = "tests/lab4/fewconns.c", .only = "scale", .exit_status = 1, .fail = "scale",
     .pass = "build integrity", .clues = "scale:#scale;scale:500 clients connected"},
    {.name = "lastclient", .source = "tests/lab4/lastclient.c", .only = "structure", .exit_status = 1,
     .fail = "structure", .pass = "build integrity", .clues = "structure:#protocol;structure:jobs sent at once were answered"},
    /* A right server under --only lists: each check runs the phases it needs (a phase not run is not
     * evidence); parallel may be not judged on a busy machine (the pool's busy list). */
    {.name = "honest_parallel_structure", .source = "tests/lab4/honest.c", .only = "parallel,structure",
     .exit_status = 0, .pass = "build parallel structure integrity", .point = "structure"},
    {.name = "honest_scale_structure", .source = "tests/lab4/honest.c", .only = "scale,structure", .exit_status = 0,
     .pass = "build scale structure integrity"},
    /* The Python counterpart through --exec: one loop thread, WORKERS processes made at start-up
     * (build is not judged under --exec, so the grading is not full marks: exit status 1). */
    /* Graded alone: an interpreted server answers 500 clients at once slowly beside other gradings. */
    {.name = "python_server", .source = "/usr/bin/python3", .optional = true, .only = "structure", .exit_status = 1,
     .command = "/usr/bin/python3 handouts/python/asyncio_server.py", .pass = "structure integrity", .skipped = "build",
     .point = "structure"},
    /* Second phase, alone: parallel is its point: graded again while the machine was busy, and the
     * row fails if it never could be judged. The reference whole beside the other steps (first
     * phase): everything passes, parallel may be left not judged by the load (the busy list). */
    {.name = "fakeserial", .source = "tests/lab4/fakeserial.c", .only = "parallel", .exit_status = 1, .fail = "parallel",
     .pass = "build integrity", .point = "parallel", .clues = "parallel:#not-parallel;parallel:the reply was held back"},
    {.name = "reference_parallel", .source = "solutions/lab4", .only = "parallel", .pass = "build parallel integrity",
     .point = "parallel"},
    {.name = "reference", .source = "solutions/lab4", .pass = ALL_CHECKS " parallel"},
};
#define NJOBS (sizeof table / sizeof table[0])

static struct e2e_pool pool = {.tag = "lab4", .lab = "lab4", .cases = table, .n = NJOBS, .busy = "parallel",
                               .timeout = 120.0 /* s: a watchdog; a lab-4 grading takes 5-15 s */};

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

START_TEST(test_grading)
{
    e2e_check_case(&pool, (size_t)_i);
}
END_TEST

/* The reference's table of requests per second: a row per WORKERS, numbers in every column. */
START_TEST(test_table)
{
    for (size_t i = 0; i < NJOBS; i++) {
        if (strcmp(table[i].name, "reference") || !e2e_graded_here(&pool, i))
            continue;
        FILE *f = fopen(pool.jobs[i].out, "r");
        ck_assert_msg(f != NULL, "no report at %s", pool.jobs[i].out);
        char line[512];
        int rows = 0;
        bool header = false;
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, "Requests per second on this machine"))
                header = true;
            int w;
            double ping, sleep, collatz;
            if (header && sscanf(line, " %d %lf %lf %lf", &w, &ping, &sleep, &collatz) == 4 && ping > 0 &&
                sleep > 0 && collatz > 0)
                rows++;
        }
        fclose(f);
        ck_assert_msg(header && rows >= 2, "the table of requests per second should have 2+ full rows, has %d (%s)",
                      rows, pool.jobs[i].out);
    }
}
END_TEST

/* Whether the row called name was graded in this phase (E2E_PHASE). */
static bool phase_graded_here(const char *name)
{
    for (size_t i = 0; i < NJOBS; i++)
        if (!strcmp(table[i].name, name))
            return e2e_graded_here(&pool, i);
    return false;
}

/* The responsive check's run, drawn under it (grader/labs/lab4.c, responsive_timeline): the event
 * loop's row and a row per worker from their CPU samples, the requests from send to reply; a server
 * computing in its loop is told so in words. It replaced the epilogue's job-queue drawing. */
START_TEST(test_timeline)
{
    int seen = 0;
    for (size_t i = 0; i < NJOBS; i++) {
        bool inloop = !strcmp(table[i].name, "inloop");
        if ((strcmp(table[i].name, "reference") && !inloop) || !e2e_graded_here(&pool, i))
            continue;
        FILE *f = fopen(pool.jobs[i].out, "r");
        ck_assert_msg(f != NULL, "no report at %s", pool.jobs[i].out);
        static char text[1 << 20];
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        ck_assert_msg(strstr(text, "timeline of the responsive phase (WORKERS = ") && strstr(text, " event loop |") &&
                      strstr(text, "   worker 1 |") && strstr(text, "  COLLATZ 1 |") && strstr(text, "       PING |"),
                      "%s: no timeline of the responsive phase with its rows (%s)", table[i].name, pool.jobs[i].out);
        ck_assert_msg(!strstr(text, "The job queue, drawn"), "the epilogue's job queue is drawn again");
        if (inloop)
            ck_assert_msg(strstr(text, "it computed the jobs itself"), "inloop's timeline should say its loop "
                          "computed (%s)", pool.jobs[i].out);
        seen++;
    }
    /* Both rows, in the first phase (E2E_PHASE=together or unset); none in the second. */
    if (phase_graded_here("reference"))
        ck_assert_int_eq(seen, 2);
}
END_TEST

static Suite *lab4_suite(void)
{
    Suite *s = suite_create("lab4 end to end");
    TCase *g = tcase_create("gradings");
    tcase_add_unchecked_fixture(g, run_all_gradings, remove_scratch);
    tcase_set_timeout(g, 20);
    tcase_add_loop_test(g, test_grading, 0, (int)NJOBS);
    tcase_add_test(g, test_table);
    tcase_add_test(g, test_timeline);
    suite_add_tcase(s, g);
    return s;
}

int main(int argc, char *argv[])
{
    (void)argc;
    e2e_chdir_to_root(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(lab4_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
