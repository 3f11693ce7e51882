/* engine.c - the grading pipeline for one submission.
 * See also: engine.h.
 */
#define _GNU_SOURCE
#include "engine.h"

#include <dirent.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "judge.h"
#include "report.h" /* json_escape, for leaderboard entries */
#include "obsio.h"
#include "sandbox.h"

uint64_t rng_next(struct rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double rng_uniform(struct rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

int rng_below(struct rng *r, int n)
{
    return n > 0 ? (int)(rng_next(r) % (uint64_t)n) : 0;
}

int cpus_available(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* cgroup v2 quota ("max 100000" or "150000 100000"), then v1. */
    struct sbuf b = {0};
    long quota = -1, period = 0;
    if (read_file("/sys/fs/cgroup/cpu.max", &b, 256) && b.data) {
        if (sscanf(b.data, "%ld %ld", &quota, &period) != 2)
            quota = -1;
    } else {
        struct sbuf q = {0}, p = {0};
        if (read_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", &q, 64) && q.data &&
            read_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us", &p, 64) && p.data) {
            quota = atol(q.data);
            period = atol(p.data);
        }
        sbuf_free(&q);
        sbuf_free(&p);
    }
    sbuf_free(&b);
    if (quota > 0 && period > 0) {
        int q = (int)ceil((double)quota / (double)period);
        if (q < n)
            n = q;
    }
    return n > 0 ? n : 1;
}

bool tool_withheld(const char *name)
{
    const char *list = getenv("GRADE_WITHOUT");
    size_t n = strlen(name);
    for (const char *s = list; s && *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, name, n))
            return true;
        s += len + (s[len] == ',');
    }
    return false;
}

bool have_program(const char *name)
{
    if (tool_withheld(name))
        return false;
    const char *path = getenv("PATH");
    char *copy = xstrdup(path ? path : "/usr/bin:/bin");
    bool found = false;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        char *p = xasprintf("%s/%s", dir, name);
        found = access(p, X_OK) == 0;
        free(p);
    }
    free(copy);
    return found;
}

/* --- Runs ------------------------------------------------------------------- */

/* A new observation the grading owns. */
static struct observation *new_run(struct grading *g)
{
    g->runs = xrealloc(g->runs, (g->nruns + 1) * sizeof *g->runs);
    return g->runs[g->nruns++] = xcalloc(1, sizeof(struct observation));
}

/* A grading's scratch folder, as root (each part's owner in brackets):
 *   top/        [grader]  what only the grader writes
 *   top/src/    [sandbox while building, then grader] the copy and the build
 *   top/tsan/   [same]    the ThreadSanitizer build (lab 3)
 *   top/home/   [grader]  $HOME of every run: empty, and the program cannot write it
 *   top/run.N/  [sandbox] run N's working directory (and $TMPDIR), fresh and empty
 * A program can write only in its own run.N/, made for that run alone: it
 * cannot rewrite itself, its build, the probe, or leave anything (a
 * .valgrindrc, a suppression file) for a later run. valgrind's log comes
 * through a pipe (sandbox.h, SANDBOX_LOG_FD), never a file. */
struct engine {
    struct grading *g;
    struct rng rng;
    char *program;             /* top/src/<program> */
    char *home;                /* top/home */
    int nruns;                 /* run folders made so far */
    const char *visible[4];    /* what a private /tmp must still show: top, --exec's folders */
    char *exec_dirs[2];        /* folders of absolute paths --exec names (a program built in /tmp) */
    double start;              /* when the grading began */
    int failures;              /* the program's own runs that did not end well so far */
    int timeouts;              /* of those, stopped at their time limit */
    double given_back;         /* s of time limits given back for other programs' load (sandbox.c) */
    unsigned timed_out_plans;  /* 1 << plan for each plan a run of which timed out */
    double cap;                /* > 0: no run longer than this (the calibration of a C program) */
    double vg_startup;         /* s valgrind takes to run /bin/true here, 0: not measured yet */
    char *tsan_program;        /* top/tsan/<program>, once built */
    int tsan;                  /* ThreadSanitizer build: 0 not tried, 1 built, -1 unusable */
    double quiet_budget;       /* s this grading may wait for a quiet machine */
};

/* top/NAME, a folder the sandbox user owns. */
static char *sandbox_subdir(const char *top, const char *name)
{
    char *dir = xasprintf("%s/%s", top, name);
    if (mkdir(dir, 0755) < 0)
        die("mkdir %s", dir);
    sandbox_chown(dir);
    return dir;
}

/* Copies the student file into a fresh top/NAME and builds it there as the
 * sandbox user, then seals the folder. */
static void build_in(struct engine *e, const char *name, const char *const *flags, struct build_result *b)
{
    struct grading *g = e->g;
    char *dir = sandbox_subdir(g->dir, name);
    char *dst = xasprintf("%s/%s", dir, g->lab->student_file);
    char *why = NULL;
    const char *base = strrchr(g->student_file, '/');
    if (!copy_submission_file(NULL, g->student_file, base ? base + 1 : g->student_file, SUBMISSION_MAX_BYTES, dst,
                              &why))
        die("%s", why);
    sandbox_chown(dst);
    build_program(dir, g->lab->student_file, g->lab->program, flags, b);
    sandbox_seal(dir);
    free(dst);
    free(dir);
}

/* Runs spec for the program, within the grading's time: once one of the
 * program's own runs (counted: not a bad-arguments or race-detector run, whose
 * failures are verdicts) has not ended well (a time limit, a crash, an error
 * status), later runs share what is left of the lab's budget, and none
 * starts once it is spent: a program that never ends, or that valgrind takes
 * minutes over, costs at most the budget, not every run's limit. */
#define GIVE_BACK_MAX 10.0 /* s of time limits a grading gives back at most (a program that makes its own load) */

static void run_in_sandbox(struct engine *e, struct run_spec *spec, struct observation *o, bool counted)
{
    double budget = e->g->lab->time_budget > 0 ? e->g->lab->time_budget : 30;
    double left = e->start + budget - now_mono();
    if (e->cap > 0 && spec->time_limit > e->cap)
        spec->time_limit = e->cap;
    if (e->failures > 0 && left < 1) {
        *o = (struct observation){.time_limit = spec->time_limit, .run_delay = -1};
        char *msg = e->timeouts
            ? xasprintf("not run: it had already run into its time limit %d time%s and the grading's %.0f s were "
                        "spent", e->timeouts, e->timeouts == 1 ? "" : "s", budget)
            : xasprintf("not run: it had already failed %d run%s and the grading's %.0f s were spent", e->failures,
                        e->failures == 1 ? "" : "s", budget);
        obs_add_line(o, 0, STREAM_ERR, msg, strlen(msg));
        free(msg);
        return;
    }
    if (e->failures > 0 && spec->time_limit > left)
        spec->time_limit = left;
    /* Time other programs took is given back only until the program has failed a run: after that
     * the grading's budget bounds what it costs (a fork bomb's spinning children, say). Never to a
     * run that does no work (bad arguments: a message and exit, whatever the load). */
    spec->extend_limit = counted && e->failures == 0 && e->given_back < GIVE_BACK_MAX;
    spec->extend_max = GIVE_BACK_MAX - e->given_back;
    sandbox_run(spec, o);
    e->given_back += o->time_extra;
    e->timeouts += o->timed_out;
    e->failures += counted && !ended_well(o);
}

#define VG_STARTUP_FILE "valgrind-startup" /* in sandbox_state_dir() */
#define VG_STARTUP_AGE 600                  /* s a measure is reused by the next gradings */

/* Seconds valgrind needs to start and end a program that does nothing on this
 * machine: memcheck's time limit scales with it. Measured at most every 10
 * minutes (as root: kept for the next gradings), else once per grading. */
static char *fresh_run_dir(struct engine *e);

static double valgrind_startup(struct engine *e)
{
    double budget = e->g->lab->time_budget > 0 ? e->g->lab->time_budget : 30;
    if (e->vg_startup > 0 || (e->failures > 0 && e->start + budget - now_mono() < 1))
        return e->vg_startup; /* measured, or no time left to run memcheck at all */
    char *cache = sandbox_state_dir() ? xasprintf("%s/%s", sandbox_state_dir(), VG_STARTUP_FILE) : NULL;
    struct stat st;
    struct sbuf b = {0};
    if (cache && stat(cache, &st) == 0 && time(NULL) - st.st_mtime < VG_STARTUP_AGE && read_file(cache, &b, 64) &&
        b.data && (e->vg_startup = atof(b.data)) > 0) {
        sbuf_free(&b);
        free(cache);
        return e->vg_startup;
    }
    sbuf_free(&b);
    char *argv[] = {"valgrind", "--tool=memcheck", "-q", "/bin/true", NULL};
    char *dir = fresh_run_dir(e);
    struct run_spec spec = {.argv = argv, .dir = dir, .home = e->home, .time_limit = 30,
                            .max_as = SANDBOX_MEMCHECK_AS, .max_data = -1, .visible = e->visible};
    struct observation o;
    sandbox_run(&spec, &o);
    remove_tree(dir);
    free(dir);
    e->vg_startup = o.wall > 0.2 ? o.wall : 0.2;
    obs_free(&o);
    if (cache) {
        char *tmp = xasprintf("%s.%d", cache, (int)getpid()), *text = xasprintf("%.3f\n", e->vg_startup);
        if (write_file(tmp, text, strlen(text), 0644))
            rename(tmp, cache);
        unlink(tmp);
        free(tmp);
        free(text);
        free(cache);
    }
    return e->vg_startup;
}

#define TSAN_DIR "tsan"
/* Every valgrind run: its log through the sandbox's pipe, every process
 * followed (exec too), and no options but ours (no .valgrindrc, no
 * VALGRIND_OPTS: a program cannot hand its own children a suppression file). */
#define VALGRIND_COMMON "--trace-children=yes", "--command-line-only=yes", SANDBOX_LOG_FD_ARG
/* halt_on_error: TSan's first report ends the run at once with exitcode 66 (its Die is a raw
 * exit, before the program can redirect stderr around it or exit_group past the exit-time
 * status): a race fails even when its report was sent nowhere: the status is the kernel's, and
 * status 66 with no report on stderr is tampering (run_race). A program that exits 66 itself
 * breaks the contract (0 when it worked) anyway. */
#define TSAN_OPTIONS "TSAN_OPTIONS=halt_on_error=1 exitcode=66 report_signal_unsafe=0 history_size=3"
#define TSAN_EXITCODE 66


/* True if cmd can follow "exec": no shell operators, no leading NAME=value,
 * no keyword or exec of its own as the first word. */
static bool simple_command(const char *cmd)
{
    static const char *const keywords[] = {"if", "while", "until", "for", "case", "{", "!", "exec"};
    if (strpbrk(cmd, ";&|()<>`\n"))
        return false;
    const char *first = cmd + strspn(cmd, " \t");
    size_t len = strcspn(first, " \t");
    if (len == 0 || memchr(first, '=', len))
        return false;
    for (size_t i = 0; i < ARRAY_LEN(keywords); i++)
        if (strlen(keywords[i]) == len && !strncmp(first, keywords[i], len))
            return false;
    return true;
}

static void argv_for(const struct engine *e, const struct params *p, const char **argv, size_t max,
                     const char *const *prefix)
{
    size_t n = 0;
    for (const char *const *s = prefix; s && *s && n < max - 1; s++)
        argv[n++] = *s;
    if (e->g->opt->exec_cmd) {
        /* sh -c 'CMD "$@"' sh ARGS...: the arguments reach the program untouched.
         * "exec CMD" when CMD is a simple command: dash forks (vfork) to run even
         * the last command, and the probe would blame that process on the program. */
        static char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s%s \"$@\"", simple_command(e->g->opt->exec_cmd) ? "exec " : "",
                 e->g->opt->exec_cmd);
        argv[n++] = "/bin/sh";
        argv[n++] = "-c";
        argv[n++] = cmd;
        argv[n++] = "sh";
    } else {
        argv[n++] = e->program;
    }
    for (int i = 0; i < p->nargs && n < max - 1; i++)
        argv[n++] = p->arg[i];
    argv[n] = NULL;
}

/* TSan could not run this program: its memory layout (setarch -R helps), or
 * a crash of TSan itself, as with C11 threads, whose thrd_create it does not
 * see in this glibc. Then helgrind judges instead; a program that really
 * crashes crashes under helgrind too. */
static bool tsan_failed_to_start(const struct observation *o)
{
    for (size_t i = 0; i < o->nlines; i++)
        if (strstr(o->lines[i].text, "FATAL: ThreadSanitizer") ||
            strstr(o->lines[i].text, "ThreadSanitizer: unexpected memory mapping") ||
            strstr(o->lines[i].text, "ThreadSanitizer:DEADLYSIGNAL"))
            return true;
    return false;
}

/* True if a ThreadSanitizer report (or warning) reached the run's stderr. */
static bool tsan_spoke(const struct observation *o)
{
    for (size_t i = 0; i < o->nlines; i++)
        if (o->lines[i].stream == STREAM_ERR && strstr(o->lines[i].text, "ThreadSanitizer"))
            return true;
    return false;
}

/* A race-detector run: a ThreadSanitizer build of the program, under
 * 'setarch -R' if this kernel's address layout stops TSan, else helgrind. */
static void run_race(struct engine *e, const struct params *p, struct run_spec *spec, const char **argv,
                     size_t max, struct observation *o)
{
    struct grading *g = e->g;
    static char *const tsan_env[] = {TSAN_OPTIONS, NULL};
    double limit = spec->time_limit;
    spec->max_data = -1; /* TSan maps terabytes of shadow memory: RLIMIT_DATA and RLIMIT_AS stop it */
    spec->max_as = -1;
    spec->pty = false;
    if (tool_withheld("tsan"))
        e->tsan = -1;
    if (!g->opt->exec_cmd && e->tsan == 0) {
        struct build_result b;
        static const char *const flags[] = {"-fsanitize=thread", NULL};
        build_in(e, TSAN_DIR, flags, &b);
        e->tsan = b.ok ? 1 : -1;
        e->tsan_program = xasprintf("%s/%s/%s", g->dir, TSAN_DIR, g->lab->program);
        build_result_free(&b);
    }
    if (e->tsan == 1) {
        const char *const direct[] = {e->tsan_program, NULL};
        const char *const norand[] = {"setarch", "-R", e->tsan_program, NULL};
        for (int way = 0; way < 2; way++) {
            const char *const *prefix = way == 0 ? direct : norand;
            size_t n = 0;
            for (; prefix[n]; n++)
                argv[n] = prefix[n];
            for (int i = 0; i < p->nargs && n < max - 1; i++)
                argv[n++] = p->arg[i];
            argv[n] = NULL;
            spec->env = tsan_env;
            spec->time_limit = limit * 8 + 10; /* TSan ~10x native; the lab's limit is already ~4x the work */
            run_in_sandbox(e, spec, o, false);
            o->tool = "tsan";
            if (!tsan_failed_to_start(o)) {
                if (o->exited && o->exit_code == TSAN_EXITCODE && !tsan_spoke(o))
                    obs_tamper(o, "under the race detector the program ended with its status %d (a report: "
                               "halt_on_error) but no report reached stderr: the program sent it elsewhere",
                               TSAN_EXITCODE);
                return;
            }
            obs_free(o);
            if (!have_program("setarch"))
                break;
        }
    }
    if (!have_program("valgrind")) {
        *o = (struct observation){0};
        return; /* tool == NULL: no race detector here */
    }
    const char *const helgrind[] = {"valgrind", "--tool=helgrind", VALGRIND_COMMON, NULL};
    spec->env = NULL;
    spec->max_as = SANDBOX_MEMCHECK_AS;
    spec->time_limit = limit * 30 + 20; /* helgrind 50-350x; race runs are sized small */
    spec->valgrind_log = true;
    argv_for(e, p, argv, max, helgrind);
    run_in_sandbox(e, spec, o, false);
    o->tool = "helgrind";
}

static bool copy_exec_files(const char *dir, const char *cmd, char **why);

/* A fresh, empty working folder for one run (with --exec, the command's files). */
static char *fresh_run_dir(struct engine *e)
{
    char *name = xasprintf("run.%d", ++e->nruns);
    char *dir = sandbox_subdir(e->g->dir, name);
    free(name);
    char *why = NULL;
    if (e->g->opt->exec_cmd && !copy_exec_files(dir, e->g->opt->exec_cmd, &why))
        free(why); /* copied once already when the grading began: this cannot fail for long */
    return dir;
}

/* Evidence a run left for later runs or for valgrind: files no lab needs. */
static void note_planted_files(const char *dir, struct observation *o)
{
    static const char *const planted[] = {".valgrindrc"}; /* (not vgcore.*: a crash under valgrind leaves one) */
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        for (size_t i = 0; i < ARRAY_LEN(planted); i++)
            if (!strncmp(ent->d_name, planted[i], strlen(planted[i])))
                obs_tamper(o, "the program wrote %s in its working folder (a file for the grader's tools)",
                           planted[i]);
        size_t n = strlen(ent->d_name);
        if (n > 5 && !strcmp(ent->d_name + n - 5, ".supp"))
            obs_tamper(o, "the program wrote a valgrind suppression file in its working folder");
    }
    if (d)
        closedir(d);
}

/* The lab's driver, with the run's parameters (sandbox.h: run_spec.driver). */
struct driven {
    const struct lab *lab;
    const struct params *p;
};

static void run_driver(struct drive *d, void *arg)
{
    const struct driven *dv = arg;
    dv->lab->driver(d, dv->p);
}

static void run_plan(struct engine *e, enum plan plan, const struct params *p, struct observation *o)
{
    if (plan == PLAN_BUILD || plan == PLAN_INTEGRITY)
        return;
    const struct lab *lab = e->g->lab;
    const char *argv[64];
    char *dir = fresh_run_dir(e);
    struct run_spec spec = {.argv = (char *const *)argv, .dir = dir, .home = e->home,
                            .time_limit = lab->time_limit(p), .visible = e->visible};
    const char *const memcheck[] = {
        /* --trace-malloc: which process allocated what (a forked child's copy of its
         * parent's heap is not its own leak; judge_memory). */
        "valgrind", "--tool=memcheck", "--leak-check=full", "--errors-for-leak-kinds=definite",
        "--track-fds=yes", "--trace-malloc=yes", VALGRIND_COMMON, NULL};
    switch (plan) {
    case PLAN_RUN:
        spec.pty = true;
        spec.probe = true;
        spec.trace = true;
        spec.sample = lab->calibration != NULL || lab->sample_calls;
        spec.watch_pipes = lab->watch_pipes;
        spec.stall = p->stall;
        argv_for(e, p, argv, ARRAY_LEN(argv), NULL);
        break;
    case PLAN_RUN_PIPE:
        spec.probe = true;
        spec.trace = true;
        spec.sample = lab->calibration != NULL || lab->sample_calls;
        spec.watch_pipes = lab->watch_pipes;
        argv_for(e, p, argv, ARRAY_LEN(argv), NULL);
        break;
    case PLAN_MEMCHECK:
        /* valgrind's start here, and the program's own limit (sleeps do not slow down). */
        spec.time_limit = spec.time_limit * 3 + valgrind_startup(e) * 4 + 5;
        spec.max_data = -1;
        spec.valgrind_log = true;
        spec.line_pids = true; /* the report names a child by its own "Process k" line */
        spec.max_as = SANDBOX_MEMCHECK_AS;
        argv_for(e, p, argv, ARRAY_LEN(argv), memcheck);
        break;
    case PLAN_BAD_ARGS:
        spec.probe = true;
        spec.trace = true;
        spec.time_limit = 3; /* a message and exit: a C program needs ms, python3 ~0.1 s */
        argv_for(e, p, argv, ARRAY_LEN(argv), NULL);
        break;
    case PLAN_RACE:
        run_race(e, p, &spec, argv, ARRAY_LEN(argv), o);
        break;
    case PLAN_BUILD:
    case PLAN_INTEGRITY:
        break;
    }
    struct driven dv = {lab, p};
    if (lab->driver) {
        spec.driver = run_driver;
        spec.driver_arg = &dv;
    }
    spec.probe_must_speak = !e->g->opt->exec_cmd;
    /* Valgrind and TSan runs are never traced: they are judged by their tools. */
    bool withheld = spec.trace && tool_withheld("tracer");
    if (withheld)
        spec.trace = false;
    if (plan != PLAN_RACE)
        run_in_sandbox(e, &spec, o, plan != PLAN_BAD_ARGS);
    if (withheld)
        o->trace_off = xstrdup("the tracer was withheld (GRADE_WITHOUT=tracer)");
    if (spec.trace && getenv("GRADE_DEBUG_TRACE"))
        obs_dump_trace(o, stderr);
    if (o->timed_out)
        e->timed_out_plans |= 1u << plan;
    if (plan == PLAN_MEMCHECK)
        o->tool = "memcheck";
    note_planted_files(dir, o);
    if (!e->g->opt->keep)
        remove_tree(dir);
    free(dir);
}

static void fresh_params(struct engine *e, enum plan plan, const char *variant, const char *retry_of,
                         struct params *p)
{
    *p = (struct params){.defaults = e->g->opt->defaults, .plan = plan, .calibrated = e->g->calibrated,
                         .variant = variant, .retry_of = retry_of, .only = e->g->opt->only};
    e->g->lab->draw(&e->rng, p);
}

/* For a lab's epilogue: one more run of the given plan. */
static const struct observation *epilogue_run(void *engine, enum plan plan, const struct params *p)
{
    struct engine *e = engine;
    struct observation *o = new_run(e->g);
    run_plan(e, plan, p, o);
    return o;
}

/* For a lab's epilogue: a leaderboard figure, as a Gradescope "leaderboard" entry. */
static void epilogue_figure(void *engine, const char *name, double value, bool lower_first)
{
    struct engine *e = engine;
    struct sbuf *lb = &e->g->leaderboard;
    if (lb->len)
        sbuf_puts(lb, ", ");
    sbuf_puts(lb, "{\"name\": ");
    json_escape(lb, name);
    sbuf_printf(lb, ", \"value\": %.3f%s}", value, lower_first ? ", \"order\": \"asc\"" : "");
}

/* Sizes the lab's work on this machine (labs 2 and 3): one short timing run. */
static void calibrate(struct engine *e)
{
    struct grading *g = e->g;
    const struct lab *lab = g->lab;
    if (!lab->calibration || !lab->calibrate || (!g->opt->exec_cmd && !g->build.ok))
        return;
    struct params p = {.plan = PLAN_RUN_PIPE};
    lab->calibration(&p);
    struct observation *o = new_run(g);
    e->cap = g->opt->exec_cmd ? 0 : 10; /* a C program counts it in ~0.1 s; an interpreter needs the lab's */
    run_plan(e, PLAN_RUN_PIPE, &p, o);
    e->cap = 0;
    g->calibrated = lab->calibrate(&p, o);
}

/* --- Checks ------------------------------------------------------------------ */

/* One-worker runs behind each paired run's figure (the least CPU time counts). */
#define ONE_WORKER_RUNS 3

/* At most this many stall runs per check (lab->stall decides how many it wants). */
#define MAX_STALL_RUNS 16

/* The stall runs of a check (lab->stall), after its first run o with parameters p. */
static size_t stall_runs(struct engine *e, const struct check *c, const struct params *p,
                         const struct observation *o, struct observation **runs, struct params *params)
{
    const struct lab *lab = e->g->lab;
    size_t n = 0;
    while (n < MAX_STALL_RUNS && !sandbox_interrupted()) {
        struct params sp = {0};
        if (!lab->stall(c, &e->rng, p, o, (const struct observation *const *)runs, n, &sp))
            break;
        params[n] = sp;
        runs[n] = new_run(e->g);
        run_plan(e, PLAN_RUN, &params[n], runs[n]);
        n++;
    }
    return n;
}

/* A run shared by every check of the same plan and variant (the first attempt). */
struct shared_run {
    enum plan plan;
    const char *variant;
    struct params params;
    struct observation *obs;
};


/* The shared first run of (plan, variant), made now if no check made it yet. */
static struct shared_run *shared_for(struct engine *e, struct shared_run *shared, enum plan plan,
                                     const char *variant)
{
    struct shared_run *sh = shared;
    while (sh->obs && !(sh->plan == plan && (sh->variant == variant ||
                                              (sh->variant && variant && !strcmp(sh->variant, variant)))))
        sh++; /* the table has a free entry per check, plus one */
    if (!sh->obs) {
        *sh = (struct shared_run){.plan = plan, .variant = variant};
        fresh_params(e, plan, variant, NULL, &sh->params);
        sh->obs = new_run(e->g);
        run_plan(e, plan, &sh->params, sh->obs);
    }
    return sh;
}

/* True if item is one of the comma-separated words of list. */
static bool in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, item, n))
            return true;
        s += len + (s[len] == ',');
    }
    return false;
}

void judge_evidence(const struct check *c, const struct evidence *ev, struct verdict *v)
{
    c->judge(ev, v);
    /* A driven lab's driver ends the program with a signal: an interrupted poll() is expected. */
    if (v->status == ST_FAIL && ev->nruns == 1 && !ev->lab->driver)
        note_failed_waits(&ev->runs[0], v);
}

/* --record DIR: the evidence and its verdict, as LAB-CHECK-PID-N.obs (obsio.h). */
static void record_judged(const struct grading *g, const struct check *c, const struct evidence *ev,
                          const struct verdict *v)
{
    static int n;
    if (!g->opt->record_dir)
        return;
    char *path = xasprintf("%s/%s-%s-%d-%d.obs", g->opt->record_dir, g->lab->name, c->name, (int)getpid(), ++n);
    if (!record_write(path, c, ev, v))
        fprintf(stderr, "grade: cannot write %s\n", path);
    free(path);
}

bool check_wanted(const struct check *c, const char *only, const char *tag)
{
    if (only && !in_list(only, c->name))
        return false;
    if (tag) {
        bool any = false;
        for (int t = 0; t < NTAGS && !any; t++)
            any = (c->tags & (1u << t)) && in_list(tag, tag_names[t]);
        if (!any)
            return false;
    }
    return true;
}

const char *unknown_item(const struct lab *lab, const char *list, bool tags)
{
    static char item[64];
    for (const char *s = list; ;) {
        size_t len = strcspn(s, ",");
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), s);
        bool found = false;
        for (size_t c = 0; c < lab->nchecks && !found; c++) {
            if (!tags)
                found = !strcmp(lab->checks[c].name, item);
            for (int t = 0; t < NTAGS && tags && !found; t++)
                found = (lab->checks[c].tags & (1u << t)) && !strcmp(tag_names[t], item);
        }
        if (!found)
            return item;
        if (!s[len])
            return NULL;
        s += len + 1;
    }
}

/* FNV-1a, 64 bits, then splitmix64's finaliser. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t fnv_file(uint64_t h, const char *path)
{
    struct sbuf b = {0};
    if (read_file(path, &b, 1 << 24) && b.data)
        h = fnv(h, b.data, b.len);
    sbuf_free(&b);
    return h;
}

/* A student cannot aim a program at "its" arguments: they hang on every byte
 * of the file, so changing the file to fit them draws others. */
uint64_t submission_seed(const struct lab *lab, const char *file, const char *exec_cmd)
{
    uint64_t h = fnv(1469598103934665603ull, lab->name, strlen(lab->name) + 1);
    if (exec_cmd) {
        h = fnv(h, exec_cmd, strlen(exec_cmd));
        char *words = xstrdup(exec_cmd), *save = NULL;
        for (char *w = strtok_r(words, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
            if (is_file(w))
                h = fnv_file(h, w);
        free(words);
    } else if (file) {
        h = fnv_file(h, file);
    }
    struct rng r = {h};
    return rng_next(&r) >> 1; /* below 2^63: any reader of --seed takes it */
}

/* The one policy (engine.h): 0 of the check's points, "not judged: why", and what to do. */
static void not_judged(struct check_result *r, const char *why, const char *todo)
{
    r->verdict.status = ST_SKIP;
    sbuf_free(&r->verdict.summary);
    sbuf_printf(&r->verdict.summary, NOT_JUDGED ": %s", why);
    r->todo = todo;
}

/* A judge that could not judge says why in its summary ("skipped: ...", "cannot judge: ..."):
 * the engine words it the one way, and says what to do when the reason is the machine's. */
static void word_not_judged(const struct grading *g, struct check_result *r)
{
    struct verdict *v = &r->verdict;
    const char *s = v->summary.data ? v->summary.data : "";
    if (strncmp(s, NOT_JUDGED ": ", strlen(NOT_JUDGED) + 2) == 0)
        return;
    static const char *const prefixes[] = {"skipped: ", "cannot judge: ", "not judged "};
    for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
        if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
            s += strlen(prefixes[i]);
    char *why = xstrdup(*s ? s : "the evidence could not tell");
    if (!r->todo && v->retry)
        r->todo = "run it again when the machine is idle (the grader waited for a quiet moment and re-measured)";
    else if (!r->todo && g->cpus < 2)
        r->todo = "grade it on 2 CPUs or more (instructors: give the autograder 2 CPUs)";
    not_judged(r, why, r->todo);
    free(why);
}

/* Waits until the CPUs this grading may use were mostly idle for one half
 * second (others used under a quarter of them), at most budget seconds.
 * Adds the seconds waited to *waited; true if such a quiet moment came. */
static bool wait_for_quiet(int cpus, double budget, double *waited)
{
    double t0 = now_mono();
    double before = cpus_busy();
    bool quiet = false;
    while (before >= 0 && now_mono() - t0 < budget && !sandbox_interrupted()) {
        usleep(500 * 1000);
        double after = cpus_busy(), t = 0.5;
        if (after < 0)
            break;
        if (after - before < 0.25 * cpus * t) {
            quiet = true;
            break;
        }
        before = after;
    }
    *waited += now_mono() - t0;
    return quiet;
}

/* Seconds a grading may spend waiting for a quiet machine (GRADE_QUIET_WAIT). */
static double quiet_budget(void)
{
    const char *s = getenv("GRADE_QUIET_WAIT");
    double b = s && *s ? atof(s) : 20;
    return b < 0 ? 0 : b > 300 ? 300 : b;
}

static void run_check(struct engine *e, const struct check *c, struct check_result *r,
                      struct shared_run *shared)
{
    struct grading *g = e->g;
    const struct lab *lab = g->lab;
    struct evidence ev = {.lab = lab, .build = &g->build, .exec_mode = g->opt->exec_cmd != NULL,
                          .cpus = g->cpus};
    r->max = c->points;

    if (ev.exec_mode && c->c_only) {
        not_judged(r, "this check applies to C programs the grader builds, not to --exec",
                   "grade the C source itself to judge it");
        return;
    }
    if (c->plan == PLAN_BUILD) {
        judge_evidence(c, &ev, &r->verdict);
        record_judged(g, c, &ev, &r->verdict);
        return;
    }
    if (c->plan == PLAN_INTEGRITY) {
        ev.all_runs = (const struct observation *const *)g->runs;
        ev.nall = g->nruns;
        ev.source_findings = g->source_findings;
        judge_evidence(c, &ev, &r->verdict);
        record_judged(g, c, &ev, &r->verdict);
        return;
    }
    if (!ev.exec_mode && !g->build.ok) {
        verdict_fail(&r->verdict, "not-built", "not run: the program did not build");
        return;
    }
    if (c->plan == PLAN_MEMCHECK && !have_program("valgrind")) {
        not_judged(r, "valgrind is not installed", "install it (apt-get install valgrind) and grade again");
        return;
    }
    if (c->plan == PLAN_BAD_ARGS) {
        /* Every fixed list, then one drawn list of each class the skeleton refuses
         * (all drawn before any runs, so the seed alone decides them). */
        size_t nbad = lab->nbad + lab->nbad_classes;
        struct params *ps = xcalloc(nbad, sizeof *ps);
        struct observation *os = xcalloc(nbad, sizeof *os);
        for (size_t i = 0; i < nbad; i++) {
            const char *const *list;
            if (i < lab->nbad) {
                list = lab->bad_args[i];
            } else {
                const struct bad_args_class *k = &lab->bad_classes[i - lab->nbad];
                int n = 0;
                while (n < MAX_BAD_LISTS && k->lists[n][0])
                    n++;
                list = k->lists[rng_below(&e->rng, n)];
                ps[i].refused = k->why;
            }
            for (int a = 0; list[a] && a < MAX_ARGS; a++)
                snprintf(ps[i].arg[ps[i].nargs++], sizeof ps[i].arg[0], "%s", list[a]);
            ps[i].count = -1;
            ps[i].plan = c->plan;
        }
        /* The control first: the same program with good arguments. If it did not end
         * well the judge needs nothing more; after a bad-args run timed out, no more
         * (the judge names the argument it hung on). */
        struct shared_run *ctl = shared_for(e, shared, PLAN_RUN, lab->variant ? lab->variant(c) : NULL);
        ev.control = ctl->obs;
        size_t ran = 0;
        for (size_t i = 0; i < nbad && ended_well(ctl->obs); i++) {
            run_plan(e, c->plan, &ps[i], &os[i]);
            ran = i + 1;
            if (os[i].timed_out)
                break;
        }
        ev.nruns = ran;
        ev.params = ps;
        ev.runs = os;
        judge_evidence(c, &ev, &r->verdict);
        record_judged(g, c, &ev, &r->verdict);
        r->attempts = 1;
        for (size_t i = 0; i < nbad; i++) {
            if (os[i].tampering)
                *new_run(g) = os[i]; /* kept for the integrity check */
            else
                obs_free(&os[i]);
        }
        free(os);
        free(ps);
        return;
    }
    /* Best of k: the first attempt shares the plan's run; retries get fresh ones. */
    const char *variant = lab->variant ? lab->variant(c) : NULL;
    bool every = c->attempts < 0; /* k runs, every one must pass */
    int attempts = every ? -c->attempts : c->attempts > 0 ? c->attempts : 1, extra = 0, quiet_failures = 0;
    bool paired = lab->paired_check && !strcmp(lab->paired_check, c->name) && lab->one_worker && g->cpus >= 2;
    bool stalled = lab->stall_checks && lab->stall && in_list(lab->stall_checks, c->name);
    struct observation *stall_obs[MAX_STALL_RUNS];
    struct params stall_params[MAX_STALL_RUNS], ev_params[1 + MAX_STALL_RUNS];
    struct observation ev_runs[1 + MAX_STALL_RUNS]; /* shallow copies, read by the judge */
    size_t nstall = 0;
    for (int a = 0; a < attempts; a++) {
        struct params p;
        struct observation *o;
        if (a == 0) {
            struct shared_run *sh = shared_for(e, shared, c->plan, variant);
            p = sh->params;
            o = sh->obs;
        } else {
            /* A plan that ran into its time limit once is not tried again, for any check. */
            if (!every && (e->timed_out_plans & (1u << c->plan)))
                break;
            fresh_params(e, c->plan, variant, c->name, &p);
            o = new_run(g);
            run_plan(e, c->plan, &p, o);
        }
        if (c->plan == PLAN_RACE && !o->tool) {
            not_judged(r, "no race detector here: no ThreadSanitizer runtime (libtsan) and no valgrind",
                       "install valgrind or gcc's libtsan and grade again");
            return;
        }
        if (paired && ended_well(o) && p.iterations > 0 && p.count > 1) {
            /* The same work per worker with one worker, right after: noise hits both alike. */
            struct params p1 = p;
            lab->one_worker(&p1);
            /* One worker's work is its own CPU time, not the run's wall time (noise that slows the
             * one-worker run must not make N workers look faster: noise may only hurt), nor the whole
             * tree's CPU (a parent that spins beside its one child is no work). The same CPU work
             * can take 2.5x longer on a cold or shared core (measured here): the least of a few
             * one-worker runs, so that such noise cannot lift a serial program's speed-up. Once an
             * attempt has its figure, each later one adds a single run: the least is taken over
             * every attempt's runs (ev.pair_one), so a later attempt never has fewer than the first. */
            double work = 0;
            int one_runs = ev.npairs == 0 ? ONE_WORKER_RUNS : 1;
            for (int k = 0; k < one_runs && !sandbox_interrupted(); k++) {
                struct observation *o1 = new_run(g);
                run_plan(e, c->plan, &p1, o1);
                double w = ended_well(o1) ? obs_workers_cpu(o1) : 0;
                if (w > 0 && (work == 0 || w < work))
                    work = w;
            }
            if (work > 0) {
                double one = work / (double)p1.iterations, many = o->wall / (double)p.iterations;
                ev.pair_one = ev.npairs == 0 || one < ev.pair_one ? one : ev.pair_one;
                ev.pair_many = ev.npairs == 0 || many < ev.pair_many ? many : ev.pair_many;
                ev.npairs++;
            }
        }
        if (stalled && a == 0 && ended_well(o) && o->traced)
            nstall = stall_runs(e, c, &p, o, stall_obs, stall_params);
        struct verdict v = {0};
        ev.nruns = 1;
        ev.params = &p;
        ev.runs = o;
        if (nstall) {
            ev_params[0] = p;
            ev_runs[0] = *o;
            for (size_t i = 0; i < nstall; i++) {
                ev_params[1 + i] = stall_params[i];
                ev_runs[1 + i] = *stall_obs[i];
            }
            ev.nruns = 1 + nstall;
            ev.params = ev_params;
            ev.runs = ev_runs;
        }
        judge_evidence(c, &ev, &v);
        record_judged(g, c, &ev, &v);
        r->attempts = a + 1;
        /* Keep this attempt's verdict and run. */
        sbuf_free(&r->verdict.summary);
        sbuf_free(&r->verdict.detail);
        r->verdict = v;
        r->run = o;
        r->params = p;
        if (every && v.status == ST_PASS)
            continue;
        if (every || v.status == ST_PASS || (v.status == ST_SKIP && !v.retry))
            break;
        /* Best of k is there because noise can hurt a right program: two failures measured
         * without noise (v.final) are the program's; more attempts would only cost time. */
        if (v.status == ST_FAIL && ((v.final && ++quiet_failures >= 2) || v.conclusive))
            break;
        /* A crash or a stop at the time limit is not noise: no retry. */
        if (!o->started || o->timed_out || o->output_flood || o->term_signal)
            break;
        /* Every run so far found the machine busy: wait for a quiet moment, then
         * re-measure (at most twice more, within the grading's waiting budget).
         * No quiet moment came: another run under that load would tell nothing. */
        if (a == attempts - 1 && v.status == ST_SKIP && v.retry && extra < 2 && !every) {
            double left = e->quiet_budget - g->quiet_waited;
            if (left <= 0 || !wait_for_quiet(g->cpus, left, &g->quiet_waited))
                break;
            extra++;
            attempts++;
        }
    }
}

/* --exec runs in the scratch folder: every word of the command that names a
 * file under the current folder is copied there, at the same relative path,
 * so 'python3 handouts/python/x.py' works as typed (and, as root, the sandbox
 * user can read it). Returns false with *why if a named file cannot be copied. */
static bool copy_exec_files(const char *dir, const char *cmd, char **why)
{
    char *words = xstrdup(cmd), *save = NULL;
    bool ok = true;
    for (char *w = strtok_r(words, " \t", &save); w && ok; w = strtok_r(NULL, " \t", &save)) {
        if (w[0] == '/' || w[0] == '-' || strstr(w, "..") || !is_file(w))
            continue;
        char *dst = xasprintf("%s/%s", dir, w);
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        ok = mkdir_p(dst, 0755);
        *slash = '/';
        ok = ok && copy_file(w, dst, 0755);
        if (!ok)
            *why = xasprintf("cannot copy %s into the scratch folder", w);
        free(dst);
    }
    free(words);
    return ok;
}

static void engine_free(struct engine *e)
{
    free(e->program);
    free(e->home);
    for (size_t i = 0; i < ARRAY_LEN(e->exec_dirs); i++)
        free(e->exec_dirs[i]);
    free(e->tsan_program);
}

int grade(const struct lab *lab, const struct grade_options *opt, struct grading *g,
          progress_fn progress, void *ctx, char **why)
{
    *g = (struct grading){.lab = lab, .opt = opt, .cpus = cpus_available()};
    double t_start = now_mono();
    if (opt->exec_cmd) {
        g->student_file = xasprintf("--exec %s", opt->exec_cmd);
    } else {
        g->student_file = find_student_file(lab, opt->submission, why);
        if (!g->student_file)
            return 2;
    }
    g->seed = opt->seed_given ? opt->seed : submission_seed(lab, opt->exec_cmd ? NULL : g->student_file,
                                                                 opt->exec_cmd);
    g->dir = make_scratch_dir(); /* the top: ours, readable by the sandbox user */
    struct engine e = {.g = g, .rng = {g->seed}, .quiet_budget = quiet_budget(), .start = t_start,
                       .program = xasprintf("%s/src/%s", g->dir, lab->program),
                       .home = xasprintf("%s/home", g->dir)};
    if (mkdir(e.home, 0555) < 0 || chmod(e.home, 0555) < 0) /* empty; the sandbox user may not write */
        die("mkdir %s", e.home);
    e.visible[0] = g->dir;
    if (opt->exec_cmd) {
        /* --exec /tmp/x/prog: a private /tmp must still show prog's folder. */
        char *words = xstrdup(opt->exec_cmd), *save = NULL;
        size_t n = 0;
        for (char *w = strtok_r(words, " \t", &save); w && n < ARRAY_LEN(e.exec_dirs); w = strtok_r(NULL, " \t", &save)) {
            char *slash = strrchr(w, '/');
            if (w[0] != '/' || !is_file(w) || slash == w)
                continue;
            e.exec_dirs[n] = xstrndup(w, (size_t)(slash - w));
            e.visible[1 + n] = e.exec_dirs[n];
            n++;
        }
        free(words);
    }
    if (opt->exec_cmd) { /* the command's files can be copied: each run gets a copy */
        char *probe_dir = sandbox_subdir(g->dir, "exec");
        bool ok = copy_exec_files(probe_dir, opt->exec_cmd, why);
        remove_tree(probe_dir);
        free(probe_dir);
        if (!ok) {
            engine_free(&e);
            return 2;
        }
    }
    if (!opt->exec_cmd) {
        double t0 = now_mono();
        build_in(&e, "src", NULL, &g->build);
        g->build.seconds = now_mono() - t0;
    }

    /* What the source shows of the instruments: known before any run, so the
     * report's header can say it (the integrity check judges it at the end). */
    bool integrity_wanted = false;
    for (size_t i = 0; i < lab->nchecks; i++)
        integrity_wanted |= lab->checks[i].plan == PLAN_INTEGRITY;
    if (!opt->exec_cmd && g->build.ok && integrity_wanted) {
        char *dir = sandbox_subdir(g->dir, "pp");
        char *dst = xasprintf("%s/%s", dir, lab->student_file);
        if (copy_file(g->student_file, dst, 0644)) {
            sandbox_chown(dst);
            g->source_findings = source_findings(dir, lab->student_file);
        }
        free(dst);
        free(dir);
    }

    calibrate(&e);
    if (progress)
        progress(g, NULL, ctx); /* the start: a header */

    struct shared_run *shared = xcalloc(lab->nchecks + 2, sizeof *shared); /* + control + end */
    g->results = xcalloc(lab->nchecks, sizeof *g->results);
    for (size_t i = 0; i < lab->nchecks && !sandbox_interrupted(); i++) {
        const struct check *c = &lab->checks[i];
        /* The build and the integrity check always run: a step of a per-check platform
         * (Classroom's --only) is never full marks for a program that tampers. */
        if (!check_wanted(c, opt->only, opt->tag) && c->plan != PLAN_BUILD && c->plan != PLAN_INTEGRITY)
            continue;
        struct check_result *r = &g->results[g->nresults++];
        r->check = c;
        double t0 = now_mono();
        run_check(&e, c, r, shared);
        if (sandbox_interrupted()) { /* judged from a run we stopped: say nothing */
            g->nresults--;
            break;
        }
        r->seconds = now_mono() - t0 + (c->plan == PLAN_BUILD ? g->build.seconds : 0);
        r->max = c->points; /* whatever happened: the lab's total never changes */
        if (r->verdict.status == ST_SKIP) {
            word_not_judged(g, r);
            g->not_judged++;
        }
        g->passed += r->verdict.status == ST_PASS;
        r->verdict.score = r->verdict.status == ST_PASS ? r->max : 0;
        g->score += r->verdict.score;
        g->max += r->max;
        if (c->plan == PLAN_INTEGRITY && r->verdict.status == ST_FAIL && !g->integrity)
            g->integrity = xstrdup(r->verdict.summary.data ? r->verdict.summary.data : "tampering");
        if (progress)
            progress(g, r, ctx);
    }
    g->score = grading_score(g->results, g->nresults);
    if (lab->epilogue && (opt->exec_cmd || g->build.ok) && !opt->only && !opt->tag && !sandbox_interrupted()) {
        struct runner rn = {.engine = &e, .run = epilogue_run, .figure = epilogue_figure};
        struct params base = {.calibrated = g->calibrated, .defaults = opt->defaults};
        lab->epilogue(&rn, &base, g->cpus, &g->epilogue);
    }
    free(shared);
    sandbox_clean_up(&g->epilogue);
    engine_free(&e);
    g->seconds = now_mono() - t_start;
    return 0;
}

double grading_score(const struct check_result *results, size_t n)
{
    double score = 0;
    for (size_t i = 0; i < n; i++) {
        if (results[i].check->plan == PLAN_INTEGRITY && results[i].verdict.status == ST_FAIL)
            return 0; /* a program that tampers with the grader earns nothing */
        score += results[i].verdict.status == ST_PASS ? results[i].max : 0;
    }
    return score;
}

void grading_free(struct grading *g)
{
    for (size_t i = 0; i < g->nresults; i++) {
        sbuf_free(&g->results[i].verdict.summary);
        sbuf_free(&g->results[i].verdict.detail);
    }
    free(g->results);
    for (size_t i = 0; i < g->nruns; i++) {
        obs_free(g->runs[i]);
        free(g->runs[i]);
    }
    free(g->runs);
    sbuf_free(&g->epilogue);
    sbuf_free(&g->leaderboard);
    build_result_free(&g->build);
    if (g->dir) {
        if (!g->opt || !g->opt->keep)
            remove_tree(g->dir);
        free(g->dir);
    }
    free(g->student_file);
    free(g->source_findings);
    free(g->integrity);
    *g = (struct grading){0};
}
