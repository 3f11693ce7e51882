/* check_lesson.c - unit tests of what the reports teach with (Check): warnings,
 * argv as the program got it, and memcheck reports per process. Pure, fast.
 *
 *   warnings  parse_compiler_warnings on gcc's and clang's lines; judge_build
 *             shows them on a passing build, with "and N more" and hints
 *   argv      describe_argv/shell_quote: 0.60 stays 0.60, '' and spaces quoted
 *   memory    judge_memory on hand-made logs, as one joined stream whose lines
 *             from different processes interleave: the parent and child k named,
 *             a pipe's read or write end from its neighbour, a child's inherited
 *             block not its leak, the parent's and a child's own leaks still are,
 *             and a forged record cannot hide a real one
 *
 * Run: make test, or make tests/bin/check_lesson && tests/bin/check_lesson.
 * See also: grader/judge.c, tests/lab2/mallocpids.c, tests/lab2/childleak.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"
#include "judge.h"
#include "observe.h"
#include "spec.h"

/* --- warnings ------------------------------------------------------------------ */

START_TEST(test_parse_warnings)
{
    const char *log =
        "sleeper.c: In function \xE2\x80\x98main\xE2\x80\x99:\n"
        "sleeper.c:92:5: warning: implicit declaration of function \xE2\x80\x98usleep\xE2\x80\x99 "
        "[-Wimplicit-function-declaration]\n"
        "   92 |     usleep(0);\n"
        "      |     ^~~~~~\n"
        "sleeper.c:7:12: warning: call to undeclared function 'nanosleep'; ISO C99 and later do not support "
        "implicit function declarations [-Wimplicit-function-declaration]\n"
        "sleeper.c:3:1: error: something else\n";
    struct cc_warning w[4];
    int n = parse_compiler_warnings(log, w, 4);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(w[0].file, "sleeper.c");
    ck_assert_int_eq(w[0].line, 92);
    ck_assert_str_eq(w[0].flag, "-Wimplicit-function-declaration");
    ck_assert_str_eq(w[0].name, "usleep");
    ck_assert_str_eq(w[1].name, "nanosleep"); /* clang's wording, ASCII quotes */
    ck_assert_int_eq(w[1].line, 7);
    ck_assert_int_eq(parse_compiler_warnings(log, w, 1), 2); /* counts past max */
}
END_TEST

START_TEST(test_build_shows_warnings)
{
    struct sbuf log = {0};
    for (int i = 1; i <= 7; i++)
        sbuf_printf(&log, "sleeper.c:%d:1: warning: unused variable 'v%d' [-Wunused-variable]\n", i, i);
    extern const struct lab lab1;
    struct build_result b = {.attempted = true, .ok = true, .log = log.data, .warnings = 7};
    struct evidence ev = {.lab = &lab1, .build = &b};
    struct verdict v = {0};
    judge_build(&ev, &v);
    ck_assert_int_eq(v.status, ST_PASS);
    ck_assert(v.shown);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "7 warnings"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "sleeper.c:5: warning: unused variable 'v5'"));
    ck_assert_ptr_null(strstr(v.detail.data, "'v6'"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "and 2 more"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "-o sleeper sleeper.c -lm"));
    ck_assert_int_eq(v.nhints, 1);
    ck_assert_str_eq(v.hints[0], "unused");
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    sbuf_free(&log);
}
END_TEST

/* --- argv ------------------------------------------------------------------------- */

START_TEST(test_describe_argv)
{
    struct params p = {.nargs = 5};
    strcpy(p.arg[0], "0.60");
    strcpy(p.arg[1], "");
    strcpy(p.arg[2], "0.5 ");
    strcpy(p.arg[3], "it's");
    strcpy(p.arg[4], "nan(1)");
    struct sbuf s = {0};
    describe_argv(&p, &s);
    ck_assert_str_eq(s.data, "0.60 '' '0.5 ' 'it'\\''s' 'nan(1)'");
    sbuf_free(&s);
    struct params none = {0};
    describe_argv(&none, &s);
    ck_assert_str_eq(s.data, "none");
    sbuf_free(&s);
}
END_TEST

/* --- memory ------------------------------------------------------------------------ */

extern const struct lab lab2;

/* Judges a joined log; returns the verdict (caller frees). */
static struct verdict judge_log(const char *log)
{
    static struct observation o;
    o = (struct observation){.started = true, .exited = true, .valgrind_log = (char *)log};
    struct params p = {0};
    struct evidence ev = {.lab = &lab2, .nruns = 1, .runs = &o, .params = &p};
    struct verdict v = {0};
    judge_memory(&ev, &v);
    return v;
}

static void verdict_free(struct verdict *v)
{
    sbuf_free(&v->summary);
    sbuf_free(&v->detail);
}

/* One stream, as the grader reads it: the parent (100) prints valgrind's
 * preamble, its forked children (101, 102) do not; their lines interleave. */
#define PARENT "==100== Command: ./forkcount 2 1000\n==100== Parent PID: 50\n"
#define LOG_INHERITED                                                                              \
    PARENT                                                                                         \
    "--100-- malloc(24) = 0x4A43040\n"                                                              \
    "--101-- malloc(4096) = 0x4A430A0\n--102-- malloc(4096) = 0x4A430A0\n--101-- free(0x0)\n"      \
    "==101== 24 bytes in 1 blocks are definitely lost in loss record 2 of 2\n"                     \
    "==102== 24 bytes in 1 blocks are definitely lost in loss record 2 of 2\n"                     \
    "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n" \
    "==102==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n" \
    "==101==    by 0x1091DD: main (forkcount.c:134)\n"                                         \
    "==102==    by 0x1091DD: main (forkcount.c:134)\n"                                         \
    "==101== \n==102== \n"                                                                         \
    "==101==    definitely lost: 24 bytes in 1 blocks\n"                                           \
    "==102==    definitely lost: 24 bytes in 1 blocks\n"                                           \
    "==101== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"                     \
    "==102== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"                     \
    "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n"

START_TEST(test_inherited_block_is_not_the_childs)
{
    struct verdict v = judge_log(LOG_INHERITED);
    ck_assert_msg(v.status == ST_PASS, "%s", v.summary.data);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "3 processes"));
    ck_assert_ptr_nonnull(v.detail.data);
    ck_assert_ptr_nonnull(strstr(v.detail.data, "not counted: 48 bytes that 2 children inherited"));
    verdict_free(&v);
}
END_TEST

/* Without valgrind's malloc trace nothing is known to be inherited: the child's record stays its own. */
START_TEST(test_untraced_block_is_the_childs)
{
    const char *log = PARENT
        "==101== 24 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x1091DD: main (forkcount.c:134)\n"
        "==101==    definitely lost: 24 bytes in 1 blocks\n"
        "==101== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"
        "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n";
    struct verdict v = judge_log(log);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "24 bytes definitely lost"));
    verdict_free(&v);
}
END_TEST

/* A block malloc'd in main's child branch has the parent's backtrace, but the
 * trace says the child allocated it (tests/lab2/childmainleak.c); the parent's
 * inherited 16-byte block beside it is still not the child's. */
START_TEST(test_childs_own_block_in_main_is_its_leak)
{
    const char *log = PARENT
        "--100-- malloc(16) = 0x4A43040\n"
        "--101-- malloc(8) = 0x4A430A0\n"
        "--101-- calloc(2,2048) = 0x4A43100\n"
        "==101== 8 bytes in 1 blocks are definitely lost in loss record 1 of 2\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x1091DD: main (forkcount.c:162)\n"
        "==101== 16 bytes in 1 blocks are definitely lost in loss record 2 of 2\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x1091DD: main (forkcount.c:133)\n"
        "==101==    definitely lost: 24 bytes in 2 blocks\n"
        "==101== ERROR SUMMARY: 2 errors from 2 contexts (suppressed: 0 from 0)\n"
        "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n";
    struct verdict v = judge_log(log);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_msg(strstr(v.summary.data, "8 bytes definitely lost"), "%s", v.summary.data);
    ck_assert_ptr_nonnull(strstr(v.detail.data, "the 1st child forked (pid 101) lost 8 bytes allocated by malloc at "
                                                "forkcount.c:162 in main"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "not counted: 16 bytes that 1 child inherited"));
    verdict_free(&v);
}
END_TEST

/* Processes share the log pipe and valgrind writes "--PID-- malloc(8)" and its
 * " = 0x..." apart: another message can land between them, glued to the line
 * (tests/observations/lab2/edge-childleak-cut-trace-memory.obs). Each part is
 * still read as its own process's. */
START_TEST(test_cut_trace_lines)
{
    const char *log = PARENT
        "--101-- malloc(4096)--102-- malloc(8) = 0x4A44080\n"
        " = 0x4A43040\n"
        "--101-- malloc(8)==102== 8 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        " = 0x4A44080\n"
        "==101== 8 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==102==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x109300: child (forkcount.c:87)\n"
        "==102==    by 0x109300: child (forkcount.c:87)\n"
        "--102-- free(0x0)==101==    definitely lost: 8 bytes in 1 blocks\n"
        "==102==    definitely lost: 8 bytes in 1 blocks\n"
        "==101== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"
        "==102== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"
        "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n";
    struct verdict v = judge_log(log);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_msg(strstr(v.summary.data, "16 bytes definitely lost"), "%s", v.summary.data);
    ck_assert_ptr_null(strstr(v.detail.data, "not counted"));
    verdict_free(&v);
}
END_TEST

/* Children forked in the other order: each is named by the "Process k" lines
 * it wrote (the run's socket said who wrote each line), not by fork order. */
START_TEST(test_child_named_by_its_lines)
{
    const char *log = PARENT
        "==101== 8 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x109300: child (forkcount.c:87)\n"
        "==101==    definitely lost: 8 bytes in 1 blocks\n"
        "==101== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"
        "==102== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n"
        "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n";
    static struct observation o;
    o = (struct observation){.started = true, .exited = true, .valgrind_log = (char *)log};
    obs_add_line(&o, 0.1, STREAM_OUT, "Process 1 started", 17);
    o.lines[o.nlines - 1].pid = 102;
    obs_add_line(&o, 0.1, STREAM_OUT, "Process 2 started", 17);
    o.lines[o.nlines - 1].pid = 101;
    struct params p = {0};
    struct evidence ev = {.lab = &lab2, .nruns = 1, .runs = &o, .params = &p};
    struct verdict v = {0};
    judge_memory(&ev, &v);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_msg(strstr(v.detail.data, "Process 2 (pid 101, the 1st child forked) lost 8 bytes"), "%s",
                  v.detail.data);
    verdict_free(&v);
    for (size_t i = 0; i < o.nlines; i++)
        free(o.lines[i].text);
    free(o.lines);
}
END_TEST

START_TEST(test_parent_and_child_leaks_stay)
{
    const char *log = PARENT
        "==100== 40 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        "==100==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101== 8 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
        "==100==    by 0x1091DD: main (forkcount.c:130)\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x109300: child (forkcount.c:87)\n"
        "==101==    by 0x1091DD: main (forkcount.c:150)\n"
        "==101==    definitely lost: 8 bytes in 1 blocks\n"
        "==101== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"
        "==100==    definitely lost: 40 bytes in 1 blocks\n"
        "==100== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n";
    struct verdict v = judge_log(log);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "48 bytes definitely lost"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "the parent (pid 100) lost 40 bytes allocated by malloc at "
                                                "forkcount.c:130 in main"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "the 1st child forked (pid 101) lost 8 bytes allocated by "
                                                "malloc at forkcount.c:87 in child"));
    verdict_free(&v);
}
END_TEST

/* A line written into the log cannot hide a real leak: the child's own record stays. */
START_TEST(test_forged_inherited_record_hides_nothing)
{
    const char *log = PARENT
        "==101== 8 bytes in 1 blocks are definitely lost in loss record 1 of 2\n"
        "==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
        "==101==    by 0x109300: child (forkcount.c:87)\n"
        "==101== 8 bytes in 1 blocks are definitely lost in loss record 2 of 2\n" /* forged */
        "==101==    by 0x1091DD: main (forkcount.c:134)\n"
        "==101==    definitely lost: 8 bytes in 1 blocks\n"
        "==101== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)\n"
        "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n";
    struct verdict v = judge_log(log);
    ck_assert_int_eq(v.status, ST_FAIL);
    /* The forged record is counted too (no malloc trace says the child did not make it): worse, never better. */
    ck_assert_msg(strstr(v.summary.data, "16 bytes definitely lost"), "%s", v.summary.data);
    verdict_free(&v);
}
END_TEST

START_TEST(test_pipe_ends_by_process)
{
    const char *log = PARENT
        "==102== Open file descriptor 4:\n"
        "==100== Open file descriptor 3:\n"
        "==102==    at 0x4956B09: pipe (pipe.c:29)\n"
        "==100==    at 0x4956B09: pipe (pipe.c:29)\n"
        "==102==    by 0x1090AD: main (forkcount.c:24)\n"
        "==100==    by 0x1090AD: main (forkcount.c:24)\n"
        "==101== Open file descriptor 1020:\n"
        "==101==    <inherited from parent>\n"
        "==102== FILE DESCRIPTORS: 4 open (3 std) at exit.\n"
        "==101== FILE DESCRIPTORS: 3 open (3 std) at exit.\n"
        "==100== FILE DESCRIPTORS: 4 open (3 std) at exit.\n"
        "==101== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n"
        "==102== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n"
        "==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n";
    struct verdict v = judge_log(log);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_msg(strstr(v.summary.data, "2 file descriptors left open"), "%s", v.summary.data);
    ck_assert_ptr_nonnull(strstr(v.detail.data, "the parent (pid 100) left fd 3 open: the read end of the pipe "
                                                "made at forkcount.c:24"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "the 2nd child forked (pid 102) left fd 4 open: the write end"));
    ck_assert_ptr_null(strstr(v.detail.data, "left fd 1020"));
    /* The parent's line comes first whatever the log's order. */
    ck_assert(strstr(v.detail.data, "the parent") < strstr(v.detail.data, "the 2nd child"));
    verdict_free(&v);
}
END_TEST

static Suite *lesson_suite(void)
{
    Suite *s = suite_create("lesson");
    TCase *t = tcase_create("reports");
    tcase_add_test(t, test_parse_warnings);
    tcase_add_test(t, test_build_shows_warnings);
    tcase_add_test(t, test_describe_argv);
    tcase_add_test(t, test_inherited_block_is_not_the_childs);
    tcase_add_test(t, test_untraced_block_is_the_childs);
    tcase_add_test(t, test_childs_own_block_in_main_is_its_leak);
    tcase_add_test(t, test_child_named_by_its_lines);
    tcase_add_test(t, test_cut_trace_lines);
    tcase_add_test(t, test_parent_and_child_leaks_stay);
    tcase_add_test(t, test_forged_inherited_record_hides_nothing);
    tcase_add_test(t, test_pipe_ends_by_process);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lesson_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
