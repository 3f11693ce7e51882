/* check_browser.c - the HTML report, as a real browser shows it (Check).
 *
 * Grades a right and a wrong lab-1 program with --html, opens each page in
 * headless Chromium (Debian's package; tools/need installs it as root), and
 * checks the DOM the browser built: a bar per task in the SVG timeline, the
 * failing checks' rows marked, the score shown, odd bytes from the program
 * turned into U+FFFD. A screenshot must come out too. A lab-4 server that
 * computes in its loop (--only responsive): its own timeline, under responsive.
 *
 * Without Chromium (and not root to install it) the tests say "skipped";
 * with CI set (CI=true) they fail instead.
 * See also: grader/html.c, grader/timeline.c.
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

static char work[] = "/tmp/check-browser.XXXXXX";
static bool have_browser;

/* Without Chromium the tests say "skipped", unless CI is set: then a test that
 * cannot run its point fails (HTML escaping is tested nowhere else). */
static bool browser_or_ci_failure(void)
{
    const char *ci = getenv("CI");
    ck_assert_msg(have_browser || !ci || !*ci || !strcmp(ci, "false") || !strcmp(ci, "0"),
                  "no chromium, and CI is set: the page is not tested (make test installs chromium)");
    return have_browser;
}

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

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 21);
    size_t n = fread(buf, 1, (1 << 21) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
        n++;
    return n;
}

#define CHROMIUM "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run " \
                 "--disable-background-networking --disable-component-update --disable-sync"

/* Grades each program (a lab and its grade arguments) into NAME.html side by side,
 * then has Chromium dump each page's DOM (and screenshot the first), again side by side. */
static void render_all(const char *const names[], const char *const programs[], int n)
{
    char cmd[8192] = "";
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(cmd + len, sizeof cmd - len,
                                "./grader/grade %s --html %s/%s.html >/dev/null 2>&1 & ", programs[i], work,
                                names[i]);
    snprintf(cmd + len, sizeof cmd - len, "wait");
    sh("%s", cmd);
    len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(cmd + len, sizeof cmd - len,
                                "timeout 120 " CHROMIUM " --user-data-dir=%s/profile-%s --dump-dom file://%s/%s.html "
                                ">%s/%s.dom 2>/dev/null & ",
                                work, names[i], work, names[i], work, names[i]);
    snprintf(cmd + len, sizeof cmd - len,
             "timeout 120 " CHROMIUM " --user-data-dir=%s/profile-shot --window-size=1000,1400 "
             "--screenshot=%s/%s.png file://%s/%s.html >/dev/null 2>&1 & wait",
             work, work, names[0], work, names[0]);
    sh("cd %s && %s", work, cmd);
}

START_TEST(test_right_program_page)
{
    if (!browser_or_ci_failure())
        return;
    char path[1100];
    snprintf(path, sizeof path, "%s/right.dom", work);
    char *dom = slurp(path);
    ck_assert_msg(dom && strstr(dom, "</html>"), "Chromium built no DOM for the page");
    ck_assert_msg(strstr(dom, "Score: <b>14/14</b>"), "the score is shown");
    ck_assert_int_eq(count(dom, "<tr class=\"fail\""), 0);
    /* seed 7 draws this run's tasks; every one has a bar, all of them waiting. */
    int bars = count(dom, "class=\"bar waiting\"");
    ck_assert_msg(bars >= 3 && bars <= 5, "a bar per task (3-5), got %d", bars);
    ck_assert_int_eq(count(dom, "class=\"bar running\""), 0);
    ck_assert_msg(strstr(dom, "class=\"mark total\"") && strstr(dom, "class=\"mark sum\""), "marks");
    struct stat st;
    snprintf(path, sizeof path, "%s/right.png", work);
    ck_assert_msg(stat(path, &st) == 0 && st.st_size > 10000, "a screenshot of the page");
    free(dom);
}
END_TEST

START_TEST(test_wrong_program_page)
{
    if (!browser_or_ci_failure())
        return;
    char path[1100];
    snprintf(path, sizeof path, "%s/wrong.dom", work);
    char *dom = slurp(path);
    ck_assert_msg(dom && strstr(dom, "</html>"), "Chromium built no DOM for the page");
    /* sequential.c fails order and timing: both rows are marked, and only those. */
    ck_assert_msg(strstr(dom, "<tr class=\"fail\" id=\"row-order\""), "order row marked failing");
    ck_assert_msg(strstr(dom, "<tr class=\"fail\" id=\"row-timing\""), "timing row marked failing");
    ck_assert_int_eq(count(dom, "<tr class=\"fail\""), 2);
    ck_assert_msg(strstr(dom, "hint: "), "the failing checks show their hints");
    ck_assert_msg(strstr(dom, "one task after another"), "the timing failure says why");
    free(dom);
}
END_TEST

START_TEST(test_odd_bytes_are_safe)
{
    if (!browser_or_ci_failure())
        return;
    char path[1100];
    snprintf(path, sizeof path, "%s/odd.dom", work);
    char *dom = slurp(path);
    ck_assert_msg(dom && strstr(dom, "</html>"), "Chromium built no DOM for the page");
    ck_assert_msg(strstr(dom, "\\xff\\xfe"), "invalid bytes are shown quoted (\\xff\\xfe), as in every report");
    ck_assert_msg(!strstr(dom, "<script>alert"), "program output is escaped, never markup");
    ck_assert_msg(strstr(dom, "&lt;script&gt;"), "the text is still shown");
    free(dom);
}
END_TEST

/* Lab 4 draws its own timeline under responsive: the event loop and the workers from their CPU
 * samples, each request a thin bar; a server computing in its loop shows the loop's row on a CPU. */
START_TEST(test_server_timeline)
{
    if (!browser_or_ci_failure())
        return;
    char path[1100];
    snprintf(path, sizeof path, "%s/server.dom", work);
    char *dom = slurp(path);
    ck_assert_msg(dom && strstr(dom, "</html>"), "Chromium built no DOM for the page");
    char *section = strstr(dom, "<section id=\"check-responsive\"");
    ck_assert_msg(section != NULL, "a responsive section");
    ck_assert_int_eq(count(dom, "<svg class=\"timeline\""), 1); /* once, under responsive */
    ck_assert_msg(strstr(section, "<svg class=\"timeline\""), "the timeline is under responsive");
    ck_assert_msg(strstr(section, ">event loop</text>") && strstr(section, ">worker 1</text>") &&
                  strstr(section, ">COLLATZ 1</text>") && strstr(section, ">PING</text>"), "its rows are named");
    ck_assert_msg(count(section, "<rect class=\"req") >= 5, "a bar per request (4 jobs, PING, SLEEP)");
    ck_assert_msg(count(section, "class=\"slot running\"") + count(section, "class=\"slot turns\"") >= 10,
                  "the loop's row on a CPU");
    ck_assert_msg(strstr(section, "it computed the jobs itself"), "the caption says what the rows show");
    ck_assert_msg(!strstr(dom, "class=\"mark "), "no max/total/sum marks: lab 4 has no bars of work to add up");
    free(dom);
}
END_TEST

int main(void)
{
    if (access("./grader/grade", X_OK) != 0) {
        fprintf(stderr, "check_browser: run from the kit's top folder after make grader\n");
        return 1;
    }
    if (!mkdtemp(work))
        return 1;
    have_browser = sh("command -v chromium >/dev/null || ./tools/need chromium") == 0;
    if (have_browser) {
        /* A program whose output is markup and broken UTF-8. */
        sh("printf '#include <stdio.h>\\nint main(void){puts(\"<script>alert(1)</script> \\\\377\\\\376\");return 0;}\\n'"
           " >%s/odd.c", work);
        char odd[1100];
        snprintf(odd, sizeof odd, "%s/odd.c", work);
        char odd_args[1200];
        snprintf(odd_args, sizeof odd_args, "lab1 %s --seed 7", odd);
        const char *const names[] = {"right", "wrong", "odd", "server"};
        const char *const programs[] = {"lab1 solutions/lab1 --seed 7", "lab1 tests/lab1/sequential.c --seed 7",
                                        odd_args, "lab4 tests/lab4/inloop.c --seed 7 --only responsive"};
        render_all(names, programs, 4);
    } else {
        printf("check_browser: skipped: no chromium (install it: sudo apt-get install chromium)\n");
    }
    Suite *s = suite_create("html report in a browser");
    TCase *tc = tcase_create("chromium");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_right_program_page);
    tcase_add_test(tc, test_wrong_program_page);
    tcase_add_test(tc, test_odd_bytes_are_safe);
    tcase_add_test(tc, test_server_timeline);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sh("rm -rf %s", work);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
