/* main.c - the grader's command line: grade LAB [SUBMISSION] [options].
 *
 * Reads the options, grades one submission through the engine, streams the
 * report, writes results.json if asked. Exit status: 0 full marks, 1 graded
 * but not full marks, 2 could not grade.
 *
 * See also: grade --help, engine.h, report.h, README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "engine.h"
#include "hints.h"
#include "html.h"
#include "report.h"
#include "sandbox.h"
#include "timeline.h"

static const char usage_text[] =
    "usage: grade LAB [SUBMISSION] [--json FILE] [--html FILE] [--exec CMD [--defaults]] [options]\n"
    "Try 'grade --help' for more.\n";

static void print_help(void)
{
    printf(
        "NAME\n"
        "    grade - build, run and judge a lab submission of the concurrency/parallelism kit\n"
        "\n"
        "SYNOPSIS\n"
        "    grade LAB [SUBMISSION] [--json FILE] [--html FILE] [--exec CMD [--defaults]]\n"
        "          [--only CHECK[,CHECK...]] [--tag TAG[,TAG...]] [--seed N] [--repeat N]\n"
        "          [--note TEXT] [--keep] [--record DIR] [--verbose] [--no-color]\n"
        "    grade LAB --batch DIR [--csv FILE] [--json-dir DIR] [--jobs N]\n"
        "    grade --list [LAB] | --list-hints | --cpus | --help\n"
        "\n"
        "DESCRIPTION\n"
        "    Copies the submission into a scratch folder, compiles it there with\n"
        "    cc -std=c11 -Wall -Wextra -O2 -g -pthread, then runs it in a sandbox with\n"
        "    fresh random arguments and watches what really happens: when each line\n"
        "    arrives, CPU and wall time (per task every 5 ms in labs 2-4), the processes\n"
        "    and threads it creates and the calls it waits in (reported by the kernel\n"
        "    to the grader's ptrace tracer; a preloaded probe's records are checked\n"
        "    against it), valgrind's logs through a pipe the program cannot write to.\n"
        "    The integrity check fails a program that tampers with any of it. Each\n"
        "    check judges that evidence and prints a line as it finishes, e.g.\n"
        "    'timing: OK (0.9s)', or FAIL with what was seen and a hint. The report\n"
        "    ends with 'Score: x/y'.\n"
        "\n"
        "    Timing checks are best of 3 runs: noise can make a right program look\n"
        "    slow, never a wrong one look right.\n"
        "\n"
        "    A check that cannot be judged here (one CPU, a machine busy with other\n"
        "    programs even after waiting for a quiet moment and measuring again, a\n"
        "    missing tool, a C-only check under --exec) says 'NOT JUDGED', why, and\n"
        "    what to do; it scores 0 of its points. The lab's total never changes:\n"
        "    full marks mean every check was verified.\n"
        "\n"
        "ARGUMENTS\n"
        "    LAB           lab1 (select() sleeper: concurrency), lab2 (fork/wait counter:\n"
        "                  parallelism), lab3 (pthread counter: racy, mutex, atomic,\n"
        "                  local), lab4 (TCP server: an event loop and a pool of\n"
        "                  workers). --list shows each lab's checks, points and tags.\n"
        "    SUBMISSION    a folder holding the lab's student file (default labs/LAB),\n"
        "                  or that .c file itself.\n"
        "\n"
        "OPTIONS\n"
        "    --json FILE   also write the results as Gradescope's results.json.\n"
        "    --html FILE   also write a self-contained web page: the checks, their\n"
        "                  output and hints, and an SVG timeline of each run.\n"
        "    --exec CMD    grade an already-built program in any language instead of\n"
        "                  building one (e.g. 'python3 sleeper.py'); the arguments are\n"
        "                  appended. Checks that only apply to C are not judged.\n"
        "    --defaults    run the program with no arguments and judge it against the\n"
        "                  lab's default parameters (lab1: tasks of 2 3 1 s; lab2: 2\n"
        "                  processes of 10^7; lab3: 2 threads of 10^7, local).\n"
        "    --only NAMES  run only these checks, by name (--only build,format), plus\n"
        "                  the build they need.\n"
        "    --tag TAGS    run only the checks with one of these tags (--tag cpu).\n"
        "    --seed N      the random seed for the runs' parameters, to replay a\n"
        "                  grading. Default: derived from the lab and the submission's\n"
        "                  bytes, so the same file always gets the same arguments.\n"
        "                  The report shows it.\n"
        "    --note TEXT   a line for the results' output (JSON, HTML), e.g. from the\n"
        "                  Gradescope script about the machine it ran on.\n"
        "    --hidden NAMES  in results.json, show these checks to students only after\n"
        "                  the due date (Gradescope's \"visibility\": \"after_due_date\").\n"
        "    --leaderboard in results.json, the lab's leaderboard figure (lab 3: local\n"
        "                  mode's speedup over one thread), for Gradescope.\n"
        "    --repeat N    grade N times (seeds N+1...), one line a run, then say which\n"
        "                  checks changed verdict: a flickering verdict is a grader bug.\n"
        "    --keep        keep the scratch folder and print where it is.\n"
        "    --record DIR  write the evidence each check judged, and its verdict, to\n"
        "                  DIR/LAB-CHECK-PID-N.obs (also GRADE_RECORD=DIR): how the\n"
        "                  kit's judge tests (tests/observations/) are made.\n"
        "\n"
        "BATCH GRADING (instructors)\n"
        "    --batch DIR   grade every entry of DIR: a folder, a .c file, or a .tar.gz,\n"
        "                  .tgz or .zip of a folder, named by the entry (alice.zip is\n"
        "                  alice). A broken submission is a row with its reason; the\n"
        "                  batch always goes on. Progress: done/total, rate, time left.\n"
        "    --csv FILE    the gradebook: student, score, max_score, one column per\n"
        "                  check, note.\n"
        "    --json-dir D  D/STUDENT.json (results.json format) and D/STUDENT.txt.\n"
        "    --jobs N      gradings at a time. Default: 4 for wait-bound labs (lab1),\n"
        "                  1 for CPU-bound ones (lab2, lab3), whose timing checks need\n"
        "                  the CPUs to themselves.\n"
        "    --verbose     show the evidence under passing checks too.\n"
        "    --no-color    plain output (also when NO_COLOR is set or not a terminal).\n"
        "    --list [LAB]  list the labs (or one) and their checks: name, points, what\n"
        "                  it checks, [tags], and the minutes a step of it may take.\n"
        "    --cpus        print how many CPUs a grading here may use (affinity and\n"
        "                  cgroup quota): parallelism needs 2.\n"
        "    --list-hints  print the catalogue of hints, keyed by failure signature.\n"
        "\n"
        "SANDBOX\n"
        "    Each run has a wall-clock limit, CPU, memory, process and file-size limits,\n"
        "    stdin from /dev/null and its whole process tree killed after it. When the\n"
        "    grader runs as root, student code runs as uid %d instead.\n"
        "\n"
        "EXIT STATUS\n"
        "    0  every check passed   1  graded, not every check passed (a failure, a\n"
        "       check not judged, a build failure)\n"
        "    2  could not grade (unknown lab, missing submission, bad option)\n"
        "\n"
        "EXAMPLES\n"
        "    grade lab1                              grade labs/lab1/sleeper.c\n"
        "    grade lab1 solutions/lab1               the reference, for comparison\n"
        "    grade lab1 ~/hw/sleeper.c --json results.json\n"
        "    grade lab1 --only timing\n"
        "    grade lab2 solutions/lab2 --only build,parallel\n"
        "    grade lab3 --tag race\n"
        "    grade lab1 --exec 'python3 handouts/python/asyncio_sleeper.py' --defaults\n"
        "    grade lab2 solutions/lab2 --html report.html   a page with timelines\n"
        "    grade lab3 --batch submissions/ --csv gradebook.csv\n"
        "\n"
        "SEE ALSO\n"
        "    README.md, handouts/lab1.md, make help\n",
        SANDBOX_UID_BASE);
}

/* Minutes a Classroom step running this one check may take (build included). */
static int step_minutes(const struct check *k)
{
    switch (k->plan) {
    case PLAN_BUILD:
    case PLAN_BAD_ARGS:
    case PLAN_INTEGRITY: /* the source preprocessed twice */
        return 2;
    case PLAN_RUN:
    case PLAN_RUN_PIPE:
        return 4;
    case PLAN_MEMCHECK:
        return 6;
    case PLAN_RACE:
        return 15; /* a ThreadSanitizer build, or helgrind at 50-350x */
    }
    return 5;
}

static void list_labs(const char *only_lab)
{
    for (size_t i = 0; i < nlabs; i++) {
        const struct lab *l = all_labs[i];
        if (only_lab && strcmp(only_lab, l->name))
            continue;
        int total = 0;
        for (size_t c = 0; c < l->nchecks; c++)
            total += l->checks[c].points;
        printf("%s: %s\n    student file: labs/%s/%s    program: %s    total: %d points\n", l->name, l->title,
               l->name, l->student_file, l->usage, total);
        for (size_t c = 0; c < l->nchecks; c++) {
            const struct check *k = &l->checks[c];
            printf("    %-18s %d pt%s  %s  [", k->name, k->points, k->points == 1 ? " " : "s", k->what);
            int n = 0;
            for (int t = 0; t < NTAGS; t++)
                if (k->tags & (1u << t))
                    printf("%s%s", n++ ? " " : "", tag_names[t]);
            printf("]  (%d min)\n", step_minutes(k));
        }
    }
}

static void list_hints(void)
{
    for (size_t i = 0; i < nhints; i++)
        printf("%s\n    %s\n", hint_catalogue[i].id, hint_catalogue[i].text);
}

/* --repeat N: grade N times, one line a run, then which checks changed verdict. */
static int repeat_grading(const struct lab *lab, struct grade_options *opt, int times,
                          const struct report_style *st)
{
    size_t n = lab->nchecks;
    int (*count)[3] = xcalloc(n, sizeof *count); /* [check][status] */
    int full = 0;
    /* Each run needs a seed of its own (the same file would always draw the same arguments). */
    uint64_t seed = opt->seed_given ? opt->seed : (uint64_t)time(NULL) % 1000000000;
    for (int i = 1; i <= times; i++) {
        opt->seed = seed + (uint64_t)i;
        opt->seed_given = true;
        struct grading g;
        char *why = NULL;
        if (grade(lab, opt, &g, NULL, NULL, &why) != 0) {
            fprintf(stderr, "grade: cannot grade %s: %s\n", lab->name, why);
            free(why);
            grading_free(&g);
            free(count);
            return EXIT_CANNOT_GRADE;
        }
        fprintf(st->out, "run %d/%d: %g/%g ", i, times, g.score, g.max);
        for (size_t r = 0; r < g.nresults; r++) {
            const struct check_result *cr = &g.results[r];
            count[cr->check - lab->checks][cr->verdict.status]++;
            fprintf(st->out, " %s:%s", cr->check->name,
                    cr->verdict.status == ST_PASS ? "OK" : cr->verdict.status == ST_FAIL ? "FAIL" : "NOT-JUDGED");
        }
        fprintf(st->out, "  [%.1fs]\n", g.seconds);
        fflush(st->out);
        full += g.passed == (int)g.nresults && !g.integrity;
        grading_free(&g);
    }
    int changed = 0;
    for (size_t c = 0; c < n; c++) {
        int kinds = (count[c][ST_PASS] > 0) + (count[c][ST_FAIL] > 0) + (count[c][ST_SKIP] > 0);
        if (kinds > 1) {
            fprintf(st->out, "changed verdict: %s (OK %d, FAIL %d, NOT JUDGED %d)\n", lab->checks[c].name,
                    count[c][ST_PASS], count[c][ST_FAIL], count[c][ST_SKIP]);
            changed++;
        }
    }
    if (!changed)
        fprintf(st->out, "no check changed verdict over %d runs\n", times);
    fprintf(st->out, "full marks in %d of %d runs\n", full, times);
    free(count);
    return full == times ? 0 : 1;
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "grade: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    exit(EXIT_CANNOT_GRADE);
}

int main(int argc, char **argv)
{
    struct grade_options opt = {0};
    const char *lab_name = NULL, *json = NULL, *html = NULL;
    bool color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR"), verbose = false, have_seed = false;
    int repeat = 0;
    const char *hidden = NULL; /* --hidden: results.json shows these checks after the due date */
    bool leaderboard = false;  /* --leaderboard: results.json carries the lab's figures */
    struct batch_options bo = {0}; /* 0: one plain grading; N: --repeat N */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help();
            return 0;
        } else if (!strcmp(a, "--list")) {
            const char *one = has_value && argv[i + 1][0] != '-' ? argv[i + 1] : NULL;
            if (one && !lab_find(one))
                bad_usage("unknown lab '%s' (grade --list shows the labs)", one);
            list_labs(one);
            return 0;
        } else if (!strcmp(a, "--cpus")) {
            printf("%d\n", cpus_available());
            return 0;
        } else if (!strcmp(a, "--list-hints")) {
            list_hints();
            return 0;
        } else if (!strcmp(a, "--json") || !strcmp(a, "--html") || !strcmp(a, "--exec") || !strcmp(a, "--only") ||
                   !strcmp(a, "--tag") || !strcmp(a, "--note") || !strcmp(a, "--hidden") ||
                   !strcmp(a, "--seed") || !strcmp(a, "--repeat") || !strcmp(a, "--batch") ||
                   !strcmp(a, "--csv") || !strcmp(a, "--json-dir") || !strcmp(a, "--jobs") ||
                   !strcmp(a, "--record")) {
            if (!has_value)
                bad_usage("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--json"))
                json = v;
            else if (!strcmp(a, "--html"))
                html = v;
            else if (!strcmp(a, "--exec"))
                opt.exec_cmd = v;
            else if (!strcmp(a, "--only"))
                opt.only = v;
            else if (!strcmp(a, "--tag"))
                opt.tag = v;
            else if (!strcmp(a, "--note"))
                opt.note = v;
            else if (!strcmp(a, "--hidden"))
                hidden = v;
            else if (!strcmp(a, "--record"))
                opt.record_dir = v;
            else if (!strcmp(a, "--batch"))
                bo.dir = v;
            else if (!strcmp(a, "--csv"))
                bo.csv = v;
            else if (!strcmp(a, "--json-dir"))
                bo.json_dir = v;
            else if (!strcmp(a, "--jobs")) {
                char *end;
                long j = strtol(v, &end, 10);
                if (end == v || *end || j < 1 || j > 64)
                    bad_usage("--jobs takes a count from 1 to 64, not '%s'", v);
                bo.jobs = (int)j;
            }
            else if (!strcmp(a, "--repeat")) {
                char *end;
                long r = strtol(v, &end, 10);
                if (end == v || *end || r < 1 || r > 1000)
                    bad_usage("--repeat takes a count from 1 to 1000, not '%s'", v);
                repeat = (int)r;
            } else {
                char *end;
                errno = 0;
                opt.seed = strtoull(v, &end, 10);
                if (errno || end == v || *end)
                    bad_usage("--seed takes a number, not '%s'", v);
                have_seed = true;
            }
        } else if (!strcmp(a, "--leaderboard")) {
            leaderboard = true;
        } else if (!strcmp(a, "--defaults")) {
            opt.defaults = true;
        } else if (!strcmp(a, "--keep")) {
            opt.keep = true;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            verbose = true;
        } else if (!strcmp(a, "--no-color")) {
            color = false;
        } else if (a[0] == '-' && a[1]) {
            bad_usage("unknown option '%s'", a);
        } else if (!lab_name) {
            lab_name = a;
        } else if (!opt.submission) {
            opt.submission = a;
        } else {
            bad_usage("unexpected argument '%s'", a);
        }
    }
    if (!lab_name)
        bad_usage("%s", "which lab? (grade --list shows them)");
    const struct lab *lab = lab_find(lab_name);
    if (!lab)
        bad_usage("unknown lab '%s' (grade --list shows the labs)", lab_name);
    if (opt.exec_cmd && opt.submission)
        bad_usage("give either a SUBMISSION or --exec, not both (%s)", opt.submission);
    if (bo.dir && (opt.submission || opt.exec_cmd || repeat))
        bad_usage("%s", "--batch grades a folder of submissions: no SUBMISSION, --exec or --repeat with it");
    if ((bo.csv || bo.json_dir || bo.jobs) && !bo.dir)
        bad_usage("%s", "--csv, --json-dir and --jobs go with --batch DIR");
    if (bo.dir && json)
        bad_usage("%s", "with --batch, use --json-dir DIR (one results file per student)");
    const char *bad;
    if (opt.only && (bad = unknown_item(lab, opt.only, false)))
        bad_usage("--only takes check names (grade --list); this lab has no check named '%s'", bad);
    if (opt.tag && (bad = unknown_item(lab, opt.tag, true)))
        bad_usage("--tag: no check of this lab has the tag '%s' (grade --list)", bad);
    if (hidden && (bad = unknown_item(lab, hidden, false)))
        bad_usage("--hidden takes check names (grade --list); this lab has no check named '%s'", bad);
    if ((hidden || leaderboard) && !json)
        bad_usage("%s", "--hidden and --leaderboard shape results.json: give --json FILE too");
    if (!opt.record_dir && getenv("GRADE_RECORD") && *getenv("GRADE_RECORD"))
        opt.record_dir = getenv("GRADE_RECORD");
    if (opt.record_dir && !is_dir(opt.record_dir))
        bad_usage("--record: '%s' is not a folder", opt.record_dir);
    char *default_sub = xasprintf("labs/%s", lab->name);
    if (!opt.submission && !opt.exec_cmd)
        opt.submission = default_sub;
    opt.seed_given = have_seed; /* else each grading derives it from the submission */

    struct report_style st = {.out = stdout, .color = color, .verbose = verbose, .utf8 = terminal_utf8()};
    if (bo.dir) {
        free(default_sub);
        return batch_grade(lab, &opt, &bo, &st); /* each grading claims its own sandbox */
    }
    sandbox_init(-1);
    if (repeat > 0) {
        int status = repeat_grading(lab, &opt, repeat, &st);
        free(default_sub);
        return status;
    }
    struct grading g;
    char *why = NULL;
    if (grade(lab, &opt, &g, report_progress, &st, &why) != 0) {
        fprintf(stderr, "grade: cannot grade %s: %s\n", lab->name, why);
        free(why);
        free(default_sub);
        grading_free(&g);
        return EXIT_CANNOT_GRADE;
    }
    if (sandbox_interrupted()) {
        fprintf(stderr, "grade: interrupted: the run in progress was stopped and its processes killed\n");
        grading_free(&g);
        free(default_sub);
        return 130;
    }
    report_summary(&g, &st);
    int status = g.passed == (int)g.nresults && !g.integrity ? 0 : 1; /* every check passed: none merely
                                                                       * not judged, no tampering */
    struct json_options jo = {.hidden = hidden, .leaderboard = leaderboard ? &g.leaderboard : NULL};
    if (json && !report_json_ex(&g, json, &jo)) {
        fprintf(stderr, "grade: cannot write %s: %s\n", json, strerror(errno));
        status = EXIT_CANNOT_GRADE;
    }
    if (html && !report_html(&g, html)) {
        fprintf(stderr, "grade: cannot write %s: %s\n", html, strerror(errno));
        status = EXIT_CANNOT_GRADE;
    }
    if (opt.keep && g.dir) {
        /* Renamed out of the "grade-PID." pattern: the next grading sweeps those once their grader is gone. */
        char *slash = strrchr(g.dir, '/'), *dot = strrchr(g.dir, '.');
        char *kept = slash && dot ? xasprintf("%.*s/grade-kept%s", (int)(slash - g.dir), g.dir, dot) : NULL;
        if (kept && rename(g.dir, kept) == 0) {
            free(g.dir);
            g.dir = kept;
        } else {
            free(kept);
        }
        printf("scratch folder kept: %s\n", g.dir);
    }
    grading_free(&g);
    free(default_sub);
    return status;
}
