/* check_platforms.c - the instructors' workflow, end to end (Check).
 *
 *   batch:      grade lab1 --batch over a class folder with every kind of
 *               entry (a .c file, a nested folder, .zip, .tar.gz, a broken
 *               archive, a folder without the file): a gradebook row each.
 *   dist:       the students' tarball has no solutions and no tests, the leak
 *               check catches a reference copied in, and 'make lab1' works in
 *               the unpacked copy.
 *   gradescope: the autograder zip's run_autograder, on a fake /autograder
 *               root (AUTOGRADER_ROOT), for a right, a missing and a broken
 *               submission.
 *   classroom:  the generated workflow has one step per check, worth its points.
 *
 * The slow parts run side by side in a fixture before the tests look at them.
 * Run from the kit's top folder (make test).
 * See also: grader/batch.c, tools/dist, tools/gradescope/, tools/classroom/.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char work[] = "/tmp/check-platforms.XXXXXX";

/* Runs a shell command; returns its exit status (-1 if it did not exit). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *slurp(const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int status_of(const char *name)
{
    char *s = slurp("%s/%s.rc", work, name);
    int rc = s ? atoi(s) : -1;
    free(s);
    return rc;
}

/* Everything slow, at once: each job writes NAME.out and NAME.rc. */
static void run_jobs(void)
{
    if (!mkdtemp(work))
        abort();
    /* The class folder. */
    sh("set -e; cd %s; mkdir class zips; cp %s/solutions/lab1/sleeper.c class/alice.c;"
       "mkdir -p class/bob/hw; cp %s/tests/lab1/sequential.c class/bob/hw/sleeper.c;"
       "mkdir -p zips/carol-lab1; cp %s/tests/lab1/nanosleep.c zips/carol-lab1/sleeper.c;"
       "(cd zips && zip -qr ../class/carol.zip carol-lab1 && tar -czf ../class/dave.tar.gz carol-lab1);"
       "echo 'not a zip' >class/eve.zip; mkdir class/frank; echo hello >class/frank/README",
       work, getenv("PWD"), getenv("PWD"), getenv("PWD"));
    /* Gradescope fake roots: right, missing, broken. */
    sh("set -e; cd %s; for r in right missing broken; do mkdir -p gs-$r/submission gs-$r/source; done;"
       "cp %s/solutions/lab1/sleeper.c gs-right/submission/;"
       "echo 'int main(void) { return oops; }' >gs-broken/submission/sleeper.c",
       work, getenv("PWD"));
    const char *jobs[][2] = {
        {"batch", "./grader/grade lab1 --batch $W/class --csv $W/class.csv --json-dir $W/reports"},
        {"dist", "./tools/dist $W/kit.tar.gz && mkdir $W/unpacked && tar -xzf $W/kit.tar.gz -C $W/unpacked"
                 " && make -C $W/unpacked/kit lab1 </dev/null; test -d $W/unpacked/kit"},
        /* The first run builds the grader (as setup.sh would); the others reuse that source folder. */
        {"gradescope", "./tools/gradescope/make-zip lab1 $W/gs.zip && (cd $W/gs-right/source && unzip -q $W/gs.zip)"
                       " && for r in right missing broken; do"
                       " { [ $r = right ] || cp -a $W/gs-right/source/. $W/gs-$r/source/; } &&"
                       " AUTOGRADER_ROOT=$W/gs-$r $W/gs-$r/source/run_autograder || exit 1; done"},
    };
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd, "W=%s; (%s) >%s/%s.out 2>&1; echo $? >%s/%s.rc", work, jobs[i][1], work,
                     jobs[i][0], work, jobs[i][0]);
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
    }
    for (int i = 0; i < 3; i++)
        waitpid(pids[i], NULL, 0);
}

START_TEST(test_batch_gradebook)
{
    ck_assert_int_eq(status_of("batch"), 1); /* graded, not everyone has full marks */
    char *csv = slurp("%s/class.csv", work);
    ck_assert_ptr_nonnull(csv);
    ck_assert_msg(strncmp(csv, "student,score,max_score,build,format,order,timing,cpu,structure,memory,errors,"
                          "integrity,note\n", 90) == 0, "gradebook header: %s", csv);
    /* One row per entry, sorted by student. */
    const char *names[] = {"alice,", "bob,", "carol,", "dave,", "eve,", "frank,"};
    const char *at = csv;
    for (size_t i = 0; i < 6; i++) {
        const char *row = strstr(at, names[i]);
        ck_assert_msg(row != NULL, "no row for %s in\n%s", names[i], csv);
        at = row;
    }
    ck_assert_msg(strstr(csv, "alice,14,14,1,2,2,3,1,2,2,1,0,\n") != NULL, "alice has full marks:\n%s", csv);
    ck_assert_msg(strstr(csv, "bob,") && !strstr(csv, "bob,14,"), "bob (sequential) is not full marks");
    ck_assert_msg(strstr(csv, "could not unpack eve.zip") != NULL, "eve's row says why:\n%s", csv);
    ck_assert_msg(strstr(csv, "frank,0,14,,,,,,,,,,no sleeper.c in the submission") != NULL, "frank:\n%s", csv);
    /* The zip and the tar.gz of the same program (nanosleep: it sleeps, so load cannot change its
     * timing, and only structure fails): the same verdicts, the same gradebook row. */
    const char *carol = strstr(csv, "carol,"), *dave = strstr(csv, "dave,");
    ck_assert_msg(!strncmp(carol + 6, dave + 5, strcspn(dave + 5, "\n")), "carol and dave differ:\n%s", csv);
    ck_assert_msg(strstr(csv, "dave,12,14,1,2,2,3,1,0,2,1,0,\n") != NULL, "dave fails structure only:\n%s", csv);
    char *json = slurp("%s/reports/alice.json", work);
    ck_assert_msg(json && strstr(json, "\"score\": 14"), "alice.json");
    char *out = slurp("%s/batch.out", work);
    ck_assert_msg(out && strstr(out, "[  6/6]") && strstr(out, "left"), "progress lines:\n%s", out);
    free(csv);
    free(json);
    free(out);
}
END_TEST

START_TEST(test_dist_has_no_solutions)
{
    ck_assert_msg(status_of("dist") == 0, "dist job failed:\n%s", slurp("%s/dist.out", work));
    char path[1200];
    const char *absent[] = {"solutions", "tests", ".ci"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/unpacked/kit/%s", work, absent[i]);
        ck_assert_msg(access(path, F_OK) != 0, "%s is in the students' tarball", absent[i]);
    }
    const char *present[] = {"labs/lab1/sleeper.c", "handouts/lab1.md", "grader/main.c", "tools/need", "Makefile"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/unpacked/kit/%s", work, present[i]);
        ck_assert_msg(access(path, F_OK) == 0, "%s is missing from the students' tarball", present[i]);
    }
    ck_assert_int_eq(sh("tools/leakcheck %s/unpacked/kit solutions >/dev/null 2>&1", work), 0);
    /* The check can fail: a reference copied in is caught. */
    ck_assert_int_eq(sh("cp solutions/lab1/sleeper.c %s/unpacked/kit/handouts/x.c && "
                        "tools/leakcheck %s/unpacked/kit solutions >/dev/null 2>&1", work, work), 1);
}
END_TEST

START_TEST(test_dist_make_lab1)
{
    /* 'make lab1' in the unpacked copy built the grader and graded the skeleton. */
    char *out = slurp("%s/dist.out", work);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "== lab1:") && strstr(out, "Score: "), "make lab1 in the dist:\n%s", out);
    ck_assert_msg(!strstr(out, "Score: 14/14"), "the skeleton should not get full marks:\n%s", out);
    free(out);
}
END_TEST

START_TEST(test_gradescope)
{
    ck_assert_msg(status_of("gradescope") == 0, "gradescope job:\n%s", slurp("%s/gradescope.out", work));
    char *right = slurp("%s/gs-right/results/results.json", work);
    ck_assert_msg(right && strstr(right, "\"score\": 14,") && strstr(right, "\"max_score\": 14,"),
                  "the reference gets full marks:\n%s", right);
    char *missing = slurp("%s/gs-missing/results/results.json", work);
    ck_assert_msg(missing && strstr(missing, "\"score\": 0") && strstr(missing, "No sleeper.c"),
                  "a missing file says so:\n%s", missing);
    char *broken = slurp("%s/gs-broken/results/results.json", work);
    ck_assert_msg(broken && strstr(broken, "\"name\": \"build\", \"score\": 0") &&
                  strstr(broken, "did not compile"), "a build failure is graded:\n%s", broken);
    free(right);
    free(missing);
    free(broken);
}
END_TEST

START_TEST(test_classroom_workflow)
{
    ck_assert_int_eq(sh("tools/classroom/workflow lab1 >%s/classroom.yml", work), 0);
    char *yml = slurp("%s/classroom.yml", work);
    ck_assert_ptr_nonnull(yml);
    /* One step per check, each worth its points: 1+2+2+3+1+2+2+1 = 14, and integrity's 0. */
    int steps = 0, points = 0;
    for (const char *s = yml; (s = strstr(s, "max-score: ")); s++) {
        points += atoi(s + 11);
        steps++;
    }
    ck_assert_int_eq(steps, 9);
    ck_assert_int_eq(points, 14);
    ck_assert_msg(strstr(yml, "command: sudo ./grader/grade lab1 --only timing --no-color"), "timing step");
    ck_assert_msg(strstr(yml, "runners: lab1-build,lab1-format,"), "reporter runners");
    ck_assert_int_ne(sh("tools/classroom/workflow lab9 >/dev/null 2>&1"), 0);
    free(yml);
}
END_TEST

int main(void)
{
    if (access("./grader/grade", X_OK) != 0 || access("solutions/lab1/sleeper.c", R_OK) != 0) {
        fprintf(stderr, "check_platforms: run from the kit's top folder after make grader\n");
        return 1;
    }
    run_jobs();
    Suite *s = suite_create("instructors' platforms");
    TCase *tc = tcase_create("workflow");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_batch_gradebook);
    tcase_add_test(tc, test_dist_has_no_solutions);
    tcase_add_test(tc, test_dist_make_lab1);
    tcase_add_test(tc, test_gradescope);
    tcase_add_test(tc, test_classroom_workflow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char rm[200];
    snprintf(rm, sizeof rm, "rm -rf %s", work);
    if (system(rm) != 0)
        fprintf(stderr, "check_platforms: could not remove %s\n", work);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
