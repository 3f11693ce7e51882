/* check_hostile.c - the grader against hostile submissions (Check).
 *
 * Each program in tests/hostile/ is graded as a lab-1 submission (--only
 * format, --json). The grader must end by itself well under a minute, give a
 * failing grade (exit 1) whose output says what happened, and leave no
 * process of the submission behind (hostile programs name themselves
 * "hostile-*" so leftovers can be found). The gradings run side by side: each
 * grader claims its own sandbox uid.
 *
 * Run: make test (or tests/bin/check_hostile after make test-run's build).
 * See also: tests/hostile/ (the programs), grader/sandbox.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct hostile {
    const char *program;   /* tests/hostile/<program>.c */
    const char *says;      /* the format test's output must contain this */
    bool root_only;        /* needs the grader to run as root (another uid) */
};

static const struct hostile cases[] = {
    {"forkbomb", "processes before it was stopped", false},
    {"spin", "time limit", false},
    {"hang", "time limit", false},
    {"flood", "endless output", false},
    {"killparent", "printed 0 times", true},
    {"hog", "exited with status 1", false},
    {"escape", "printed 0 times", false},
    {"readstdin", "not in the contract: \\\"read 0 bytes\\\"", false},
    {"nohup", "time limit", false},
};
#define NCASES (sizeof cases / sizeof cases[0])

struct outcome {
    pid_t pid;
    int status;
    double seconds;
    char json[64];
};
static struct outcome outcomes[NCASES];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Number of processes whose name starts with "hostile-". */
static int hostile_left(void)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], comm[64] = "";
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f) && !strncmp(comm, "hostile-", 8)) {
            /* a zombie is gone already but for its entry; count only live ones */
            char stat[300], state = 0;
            snprintf(stat, sizeof stat, "/proc/%s/stat", e->d_name);
            FILE *s = fopen(stat, "r");
            if (s) {
                char line[512];
                if (fgets(line, sizeof line, s)) {
                    char *rp = strrchr(line, ')');
                    if (rp)
                        state = rp[2];
                }
                fclose(s);
            }
            n += state != 'Z';
        }
        fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/* Starts every grading at once (unchecked fixture: runs once, in the runner). */
static void grade_all(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        if (cases[i].root_only && geteuid() != 0)
            continue;
        char src[128];
        snprintf(src, sizeof src, "tests/hostile/%s.c", cases[i].program);
        snprintf(outcomes[i].json, sizeof outcomes[i].json, "/tmp/hostile-%d-%s.json", (int)getpid(),
                 cases[i].program);
        outcomes[i].seconds = now();
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            execl("./grader/grade", "grade", "lab1", src, "--only", "format", "--json", outcomes[i].json,
                  (char *)NULL);
            _exit(127);
        }
        outcomes[i].pid = pid;
    }
    /* Everything must end by itself; 90 s is the backstop of this test only. */
    double deadline = now() + 90;
    for (size_t i = 0; i < NCASES; i++) {
        if (!outcomes[i].pid)
            continue;
        int st;
        while (waitpid(outcomes[i].pid, &st, WNOHANG) == 0) {
            if (now() > deadline) {
                kill(outcomes[i].pid, SIGKILL);
                waitpid(outcomes[i].pid, &st, 0);
                st = -1;
                break;
            }
            usleep(20000);
        }
        outcomes[i].status = st;
        outcomes[i].seconds = now() - outcomes[i].seconds;
    }
}

START_TEST(test_hostile)
{
    const struct hostile *h = &cases[_i];
    const struct outcome *o = &outcomes[_i];
    if (h->root_only && geteuid() != 0) {
        printf("skipped: %s needs the grader to run as root (another uid)\n", h->program);
        return;
    }
    ck_assert_msg(o->status != -1, "%s: the grader did not end within 90 s", h->program);
    ck_assert_msg(WIFEXITED(o->status) && WEXITSTATUS(o->status) == 1,
                  "%s: expected a failing grade (exit 1), got status 0x%x", h->program, o->status);
    ck_assert_msg(o->seconds < 45, "%s: grading took %.1f s (should end well under a minute)", h->program,
                  o->seconds);
    char *json = slurp(o->json);
    ck_assert_msg(json != NULL, "%s: no JSON written", h->program);
    ck_assert_msg(strstr(json, h->says) != NULL, "%s: the report should say \"%s\"; it says:\n%s", h->program,
                  h->says, json);
    unlink(o->json);
}
END_TEST

/* The grader killed outright (kill -9) while a program that ignores SIGHUP
 * runs: the program must not outlive it. */
START_TEST(test_grader_killed)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl("./grader/grade", "grade", "lab1", "tests/hostile/nohup.c", "--only", "format", (char *)NULL);
        _exit(127);
    }
    /* Wait until the program runs, then kill the grader. */
    double until = now() + 20;
    while (hostile_left() == 0 && now() < until)
        usleep(20000);
    ck_assert_msg(hostile_left() > 0, "the nohup program never started");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    until = now() + 3;
    while (hostile_left() > 0 && now() < until)
        usleep(20000);
    ck_assert_msg(hostile_left() == 0, "a program outlived the grader that was killed");
}
END_TEST

START_TEST(test_nothing_left)
{
    ck_assert_int_eq(hostile_left(), 0);
}
END_TEST

int main(void)
{
    if (access("./grader/grade", X_OK) != 0) {
        fprintf(stderr, "check_hostile: build the grader first (make grader), run from the kit's top folder\n");
        return 1;
    }
    grade_all();
    Suite *s = suite_create("hostile submissions");
    TCase *tc = tcase_create("contained");
    tcase_add_loop_test(tc, test_hostile, 0, (int)NCASES);
    tcase_add_test(tc, test_nothing_left);
    tcase_add_test(tc, test_grader_killed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
