/* check_hostile.c - the grader against hostile submissions (Check).
 *
 * Each program in tests/hostile/ is graded as a lab-1 submission (--only
 * format, --json); a few get a whole grading (lab 1: <= 30 s, labs 2-3:
 * <= 45 s, the goals). The grader must end by itself in time, give a
 * failing grade (exit 1) whose output says what happened, and leave no
 * process or file of the submission behind (hostile programs name themselves
 * "hostile-*" so leftovers can be found). The gradings run side by side: each
 * grader claims its own sandbox uid. Submissions that are symbolic links
 * (folder and archive forms) must be refused without a byte of the target
 * reaching any report; a program including a file of the kit must not build.
 *
 * Run: make test (or tests/bin/check_hostile after make test-run's build).
 * See also: tests/hostile/ (the programs), grader/sandbox.c.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hints.h"

struct hostile {
    const char *program;   /* tests/hostile/<program>.c, or a path of a generated one */
    const char *says;      /* the test's output (JSON) must contain this (or one of "A|B") */
    bool root_only;        /* needs the grader to run as root (another uid) */
    const char *lab;       /* NULL: lab1 */
    bool whole;            /* a whole grading, not --only format */
    double max_seconds;    /* 0: 45 */
    const char *hint;      /* "#HINT-ID": the report must also give this hint of the catalogue (its text) */
};

static char kit_include[64]; /* a generated program that #includes a file of the kit */

static const struct hostile cases[] = {
    {"forkbomb", "processes before it was stopped", false, NULL, false, 0, "#fork-bomb"},
    {"spin", "time limit", false, NULL, false, 0, NULL},
    {"hang", "time limit", false, NULL, false, 0, NULL},
    /* Stopped for its output or at the time limit (a loaded machine); its output-flood verdict: the record
     * tests/observations/lab1/flood-format.obs. */
    {"flood", "not kept", false, NULL, false, 0, NULL},
    {"killparent", "printed 0 times", true, NULL, false, 0, NULL},
    /* Touching 256 MiB takes ~5 s on some VMs: stopped at the time limit is contained too. */
    {"hog", "exited with status 1|time limit", false, NULL, false, 0, NULL},
    {"escape", "printed 0 times", false, NULL, false, 0, NULL},
    {"readstdin", "not in the contract: \\\"read 0 bytes\\\"", false, NULL, false, 0, NULL},
    {"nohup", "time limit", false, NULL, false, 0, NULL},
    {"bigshared", "640 MiB shared: Cannot allocate memory", false, NULL, false, 0, NULL},
    {"devzero", "out of the build's 512 MiB memory limit", false, NULL, false, 0, NULL},
    {"peek", "read 0 files of other gradings", true, NULL, false, 0, NULL},
    {"threadbomb", "time limit", false, NULL, false, 0, NULL},
    {"fdbomb", "then: Too many open files", false, NULL, false, 0, NULL},
    {"sigstop", "time limit", false, NULL, false, 0, NULL},
    {"ignoreterm", "time limit", false, NULL, false, 0, NULL},
    {"tmpfiles", "tmpfiles: left", false, NULL, false, 0, NULL},
    {"worldwritable", "worldwritable: left", true, NULL, false, 0, NULL},
    {kit_include, "No such file or directory", true, NULL, false, 0, NULL},
    /* The goals: a whole grading of a program that never ends. */
    {"hang", "the program did not finish", false, "lab1", true, 30, NULL},
    {"forkbomb", "processes before it was stopped", false, "lab2", true, 45, NULL},
};
#define NCASES (sizeof cases / sizeof cases[0])

struct outcome {
    pid_t pid;
    int status;
    double seconds;
    char json[64];
    char out[64];
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
        if (cases[i].program[0] == '/')
            snprintf(src, sizeof src, "%s", cases[i].program);
        else
            snprintf(src, sizeof src, "tests/hostile/%s.c", cases[i].program);
        snprintf(outcomes[i].json, sizeof outcomes[i].json, "/tmp/hostile-%d-%zu.json", (int)getpid(), i);
        snprintf(outcomes[i].out, sizeof outcomes[i].out, "/tmp/hostile-%d-%zu.txt", (int)getpid(), i);
        outcomes[i].seconds = now();
        pid_t pid = fork();
        if (pid == 0) {
            int out = open(outcomes[i].out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(out, 1);
            const char *lab = cases[i].lab ? cases[i].lab : "lab1";
            if (cases[i].whole)
                execl("./grader/grade", "grade", lab, src, "--json", outcomes[i].json, "--no-color", (char *)NULL);
            else
                execl("./grader/grade", "grade", lab, src, "--only", "format", "--json", outcomes[i].json,
                      "--no-color", (char *)NULL);
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
        const char *ci = getenv("CI");
        /* Under CI a test that cannot run its point fails: it would otherwise pass unseen. */
        ck_assert_msg(!ci || !*ci || !strcmp(ci, "false") || !strcmp(ci, "0"), "%s needs the grader to run as "
                      "root (another uid), and CI is set: run the tests as root", h->program);
        printf("skipped: %s needs the grader to run as root (another uid)\n", h->program);
        return;
    }
    /* Read both outputs first (slurp keeps a copy), so a failing assertion leaves no file behind. */
    char *text = slurp(o->out) ? strdup(slurp(o->out)) : NULL;
    char *json = slurp(o->json);
    unlink(o->out);
    unlink(o->json);
    ck_assert_msg(o->status != -1, "%s: the grader did not end within 90 s", h->program);
    ck_assert_msg(WIFEXITED(o->status) && WEXITSTATUS(o->status) == 1,
                  "%s: expected a failing grade (exit 1), got status 0x%x", h->program, o->status);
    double max = h->max_seconds > 0 ? h->max_seconds : 45;
    printf("%s %s%s: %.1f s (at most %.0f)\n", h->lab ? h->lab : "lab1", h->program, h->whole ? " (whole grading)" : "",
           o->seconds, max);
    ck_assert_msg(o->seconds <= max, "%s: grading took %.1f s (at most %.0f s)", h->program, o->seconds, max);
    if (h->program == kit_include && (!text || !strstr(text, "mount namespace"))) {
        printf("skipped: the kit can be hidden only with a mount namespace (root with CAP_SYS_ADMIN)\n");
        free(text);
        return;
    }
    free(text);
    ck_assert_msg(json != NULL, "%s: no JSON written", h->program);
    bool said = false;
    for (const char *s = h->says; s && !said;) {
        const char *bar = strchr(s, '|');
        size_t n = bar ? (size_t)(bar - s) : strlen(s);
        char one[128];
        snprintf(one, sizeof one, "%.*s", (int)n, s);
        said = strstr(json, one) != NULL;
        s = bar ? bar + 1 : NULL;
    }
    ck_assert_msg(said, "%s: the report should say \"%s\"; it says:\n%s", h->program, h->says, json);
    if (h->hint) {
        const struct hint *hint = hint_find(h->hint + 1);
        ck_assert_msg(hint != NULL, "%s: no hint '%s' in the catalogue", h->program, h->hint + 1);
        ck_assert_msg(strstr(json, hint->text), "%s: the report should give the hint %s (\"%s\"); it says:\n%s",
                      h->program, h->hint + 1, hint->text, json);
    }
}
END_TEST

/* How many folders in /tmp the grader with this pid made (grade-PID.*, grade-probe-PID.*). */
static int grader_dirs_of(pid_t pid)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "grade-%d.", (int)pid);
    snprintf(b, sizeof b, "grade-probe-%d.", (int)pid);
    DIR *d = opendir("/tmp");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += !strncmp(e->d_name, a, strlen(a)) || !strncmp(e->d_name, b, strlen(b));
    if (d)
        closedir(d);
    return n;
}

/* Runs the grader with its output thrown away; its wait status. */
static int run_grader_quietly(const char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    return st;
}

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
    /* Its scratch and probe folders stay behind (nothing runs after kill -9): the next
     * grading (this one's, or any other's started meanwhile) removes them. One of each is
     * made here too, so that the sweep has something to remove however the race went. */
    char mine[64], made[2][96];
    snprintf(mine, sizeof mine, "grade-%d.", (int)pid);
    snprintf(made[0], sizeof made[0], "/tmp/grade-%d.Kill9a", (int)pid);
    snprintf(made[1], sizeof made[1], "/tmp/grade-probe-%d.Kill9b", (int)pid);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(mkdir(made[i], 0755) == 0 || errno == EEXIST, "mkdir %s: %s", made[i], strerror(errno));
    ck_assert_int_gt(grader_dirs_of(pid), 0);
    int st = run_grader_quietly((const char *[]){"./grader/grade", "lab1", "solutions/lab1", "--only", "build", NULL});
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the grading after the kill failed (status %d)", st);
    ck_assert_msg(grader_dirs_of(pid) == 0, "the next grading did not remove the killed grader's folders (/tmp/%s*)",
                  mine);
}
END_TEST

START_TEST(test_nothing_left)
{
    ck_assert_int_eq(hostile_left(), 0);
    /* tmpfiles.c's files: a private /tmp per run, or the clean-up after grading. */
    static const char *const left[] = {"/tmp/hostile-left", "/var/tmp/hostile-left", "/dev/shm/hostile-left",
                                       /* worldwritable.c's: every other world-writable folder too */
                                       "/run/lock/hostile-left", "/dev/mqueue/hostile-left", "/var/crash/hostile-left",
                                       "/var/lock/hostile-left"};
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        ck_assert_msg(access(left[i], F_OK) != 0, "%s outlived the grading", left[i]);
}
END_TEST

/* Runs the grader with argv; its stdout and stderr go to out. Returns the status. */
static int grade_to(char *const argv[], const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv("./grader/grade", argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return st;
}

#define SECRET_MARK "HOSTILE_SECRET_7f3a"

/* A submission whose sleeper.c is a symbolic link to a file only root may
 * read: as a folder, and in --batch as a folder, a .tar.gz and a .zip. Each is
 * refused by name; no byte of the target appears in any output. */
START_TEST(test_symlinked_submission)
{
    if (geteuid() != 0) {
        printf("skipped: the symbolic-link test needs root (a file only root may read)\n");
        return;
    }
    char top[64], cmd[2048], path[256];
    snprintf(top, sizeof top, "/tmp/hostile-sym-%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "set -e; rm -rf %1$s; mkdir -p %1$s/one %1$s/batch/alice %1$s/pack %1$s/reports; "
             "printf 'int " SECRET_MARK " = 1;\\n' > %1$s/secret; chmod 600 %1$s/secret; "
             "ln -s %1$s/secret %1$s/one/sleeper.c; ln -s %1$s/secret %1$s/batch/alice/sleeper.c; "
             "cd %1$s/pack; ln -s %1$s/secret sleeper.c; tar czf %1$s/batch/bob.tar.gz sleeper.c; "
             "zip -qy %1$s/batch/carol.zip sleeper.c",
             top);
    ck_assert_msg(system(cmd) == 0, "could not make the linked submissions: %s", cmd);

    snprintf(path, sizeof path, "%s/one", top);
    char out[128], json[128];
    snprintf(out, sizeof out, "%s/one.txt", top);
    snprintf(json, sizeof json, "%s/one.json", top);
    char *one[] = {"grade", "lab1", path, "--json", json, NULL};
    int st = grade_to(one, out);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "a linked sleeper.c: expected exit 2, got 0x%x", st);
    char *text = slurp(out);
    ck_assert_msg(text && strstr(text, "sleeper.c is a symbolic link: upload the file itself"),
                  "the refusal should name the link; it says:\n%s", text ? text : "");

    char dir[128], csv[128], reports[128];
    snprintf(dir, sizeof dir, "%s/batch", top);
    snprintf(csv, sizeof csv, "%s/gradebook.csv", top);
    snprintf(reports, sizeof reports, "%s/reports", top);
    snprintf(out, sizeof out, "%s/batch.txt", top);
    char *batch[] = {"grade", "lab1", "--batch", dir, "--csv", csv, "--json-dir", reports, NULL};
    grade_to(batch, out);
    text = slurp(csv);
    ck_assert_msg(text != NULL, "no gradebook written");
    static const char *const who[] = {"alice,", "bob,", "carol,"};
    for (size_t i = 0; i < 3; i++) {
        const char *row = strstr(text, who[i]);
        ck_assert_msg(row && strstr(row, "symbolic link"), "%s's linked sleeper.c should be refused:\n%s", who[i],
                      text);
    }
    /* Not one byte of the secret, anywhere the grader wrote. */
    snprintf(cmd, sizeof cmd, "grep -rl " SECRET_MARK " %1$s/one.txt %1$s/batch.txt %1$s/gradebook.csv %1$s/reports "
             "%1$s/one.json 2>/dev/null", top);
    ck_assert_msg(system(cmd) != 0, "the link's target reached a report: %s", cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", top);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    if (access("./grader/grade", X_OK) != 0) {
        fprintf(stderr, "check_hostile: build the grader first (make grader), run from the kit's top folder\n");
        return 1;
    }
    /* A program that includes the reference solution by its path in this kit. */
    char cwd[4096];
    snprintf(kit_include, sizeof kit_include, "/tmp/hostile-kit-%d.c", (int)getpid());
    FILE *k = fopen(kit_include, "w");
    if (!k || !getcwd(cwd, sizeof cwd))
        return 1;
    fprintf(k, "/* hostile: reads the kit's answer at build time */\n#include \"%s/solutions/lab1/sleeper.c\"\n", cwd);
    fclose(k);
    grade_all();
    unlink(kit_include);
    Suite *s = suite_create("hostile submissions");
    TCase *tc = tcase_create("contained");
    tcase_add_loop_test(tc, test_hostile, 0, (int)NCASES);
    tcase_add_test(tc, test_nothing_left);
    tcase_add_test(tc, test_grader_killed);
    tcase_add_test(tc, test_symlinked_submission);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
