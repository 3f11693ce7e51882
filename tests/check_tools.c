/* check_tools.c - a missing tool makes its check say "not judged: why" (Check).
 *
 * GRADE_WITHOUT=valgrind,tsan makes the grader act as if those tools were not
 * installed (grader/engine.c tool_withheld). Then:
 *   - lab 1's memory check is not judged (0 of its 2 points) and says valgrind is missing;
 *   - lab 3's race checks fall back from ThreadSanitizer to helgrind, which still
 *     passes the reference and still catches mutex mode without the lock;
 *   - with neither, the race check is not judged and says why.
 * A check not judged never passes: it scores 0 of its points, says why and what
 * to do, and the grader's exit status is 1 (the lab's total never changes).
 *
 * Run from the kit's top folder (make test).
 * See also: grader/engine.c (run_race, have_program), tests/lab3/nolock.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Grades with GRADE_WITHOUT set; returns the JSON (static) and the exit status. */
static const char *grade(const char *without, const char *lab, const char *sub, const char *only, int *status)
{
    static char json[1 << 16];
    char path[] = "/tmp/check-tools.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "GRADE_WITHOUT=%s ./grader/grade %s %s --only %s --json %s >/dev/null 2>&1", without,
             lab, sub, only, path);
    int st = system(cmd);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(json, 1, sizeof json - 1, f) : 0;
    json[n] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    return json;
}

START_TEST(test_no_valgrind_skips_memory)
{
    int st;
    const char *j = grade("valgrind", "lab1", "solutions/lab1", "memory", &st);
    ck_assert_msg(strstr(j, "\"name\": \"memory\", \"score\": 0, \"max_score\": 2, \"status\": \"failed\""),
                  "memory 0 of 2, failed:\n%s", j);
    ck_assert_msg(strstr(j, "not judged: valgrind is not installed") && strstr(j, "apt-get install valgrind"),
                  "says why and what to do:\n%s", j);
    ck_assert_msg(strstr(j, "\"not_judged\": [{\"name\": \"memory\""), "listed under extra_data:\n%s", j);
    ck_assert_int_eq(st, 1); /* not full marks: memory was never verified */
}
END_TEST

START_TEST(test_no_tsan_falls_back_to_helgrind)
{
    int st;
    const char *j = grade("tsan", "lab3", "solutions/lab3", "race-local", &st);
    ck_assert_msg(strstr(j, "helgrind saw no data race"), "the reference passes under helgrind:\n%s", j);
    ck_assert_int_eq(st, 0);
    j = grade("tsan", "lab3", "tests/lab3/nolock.c", "race-mutex", &st);
    ck_assert_msg(strstr(j, "\"name\": \"race-mutex\", \"score\": 0, \"max_score\": 2, \"status\": \"failed\""),
                  "helgrind still catches mutex mode without the lock:\n%s", j);
    ck_assert_int_eq(st, 1);
}
END_TEST

START_TEST(test_no_detector_skips_race)
{
    int st;
    const char *j = grade("tsan,valgrind", "lab3", "solutions/lab3", "race-local", &st);
    ck_assert_msg(strstr(j, "\"name\": \"race-local\", \"score\": 0, \"max_score\": 2, \"status\": \"failed\""),
                  "race 0 of 2, failed:\n%s", j);
    ck_assert_msg(strstr(j, "not judged: no race detector here"), "says why:\n%s", j);
    ck_assert_int_eq(st, 1);
}
END_TEST

int main(void)
{
    if (access("./grader/grade", X_OK) != 0) {
        fprintf(stderr, "check_tools: run from the kit's top folder after make grader\n");
        return 1;
    }
    Suite *s = suite_create("missing tools");
    TCase *tc = tcase_create("not judged, not passed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_no_valgrind_skips_memory);
    tcase_add_test(tc, test_no_tsan_falls_back_to_helgrind);
    tcase_add_test(tc, test_no_detector_skips_race);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
