/* lab2.c - Lab 2 as data: the fork/wait counter (parallelism).
 *
 *   forkcount [NPROCS [ITERATIONS]]   defaults 2 10000000
 *   Process k started      (child k, 1-based)
 *   Process k finished     (child k, after counting to ITERATIONS)
 *   Total count: C         (the parent: the sum the children sent through a pipe)
 *   Total time: T sec      (the parent: wall time, two decimals)
 *
 * NPROCS processes made with fork(), all running before the first is reaped,
 * each reaped by the parent. ITERATIONS is sized on this machine (calibration:
 * one child, 1e8 iterations) so each child burns about CALIBRATE_CPU s of CPU;
 * then CPU/wall of the whole tree shows whether the children ran on several
 * CPUs at once. A serial run never exceeds 1.0, so the bar is PARALLEL_MIN.
 *
 * The same run is also made with stdout a pipe: stdio buffers copied by
 * fork() duplicate lines there but not on a terminal.
 *
 * See also: handouts/lab2.md, solutions/lab2/forkcount.c, spec.h, lab1.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../judge.h"
#include "../turns.h"
#include "../trace.h"

enum { P_STARTED, P_FINISHED, P_COUNT, P_TIME };
static const char *const patterns[] = {
    [P_STARTED] = "Process {i} started",
    [P_FINISHED] = "Process {i} finished",
    [P_COUNT] = "Total count: {i}",
    [P_TIME] = "Total time: {t2} sec",
};

#define DEFAULT_PROCS 2
#define DEFAULT_ITERATIONS 10000000LL
#define MIN_PROCS 2
#define MAX_PROCS 4
#define CAL_ITERATIONS 100000000LL  /* the calibration run: one child */
#define CAL_MIN_CPU 0.010           /* less than this for CAL_ITERATIONS: nothing was counted */
#define CAL_MIN 1000000LL
#define CAL_MAX 20000000000LL
#define FALLBACK_ITERATIONS 500000000LL /* when calibration could not tell */
#define FALLBACK_NS 2.0             /* assumed ns per iteration without calibration (time limits) */
#define LOOP_REMOVED_SHARE 0.15     /* CPU below this share of the expected: the loop is gone */
#define MIN_JUDGEABLE_CPU 0.05      /* s per child: less is too little work to judge parallelism */
#define PARALLEL_MIN 1.15           /* CPU/wall a parallel run must reach (serial: <= 1.00) */
#define BUSY_SHARE 0.25            /* others used more of our CPUs' time than this: a busy machine */
#define IDLE_ROOM 0.30             /* CPUs idle this long (x wall) were there to use: not too busy */
#define MEMCHECK_ITERATIONS 100000

/* --- Parameters ---------------------------------------------------------------- */

static void set_args(struct params *p)
{
    p->nargs = 2;
    snprintf(p->arg[0], sizeof p->arg[0], "%d", p->count);
    snprintf(p->arg[1], sizeof p->arg[1], "%lld", p->iterations);
}

static void draw(struct rng *r, struct params *p)
{
    if (p->defaults) {
        p->count = DEFAULT_PROCS;
        p->iterations = DEFAULT_ITERATIONS;
        p->nargs = 0;
        return;
    }
    p->count = MIN_PROCS + rng_below(r, MAX_PROCS - MIN_PROCS + 1);
    if (p->plan == PLAN_MEMCHECK) {
        /* valgrind runs the loop ~50x slower: a small count says as much about memory. */
        p->count = MIN_PROCS + rng_below(r, 2);
        p->iterations = MEMCHECK_ITERATIONS + rng_below(r, 2 * MEMCHECK_ITERATIONS);
    } else {
        /* 1.4-1.8 x CALIBRATE_CPU s of CPU per child: the calibration run is short and often sees
         * a CPU still raising its clock, so it overestimates; measured children got 0.7x of it.
         * Never a round, replayable number. */
        double base = p->calibrated > 0 ? (double)p->calibrated : (double)FALLBACK_ITERATIONS;
        p->iterations = (long long)(base * (1.4 + 0.4 * rng_uniform(r))) + rng_below(r, 1000);
    }
    set_args(p);
}

/* Paired runs: the same work per child, one child. */
static void one_worker(struct params *p)
{
    p->count = 1;
    set_args(p);
}

static void calibration(struct params *p)
{
    p->count = 1;
    p->iterations = CAL_ITERATIONS;
    set_args(p);
}

static long long calibrate(const struct params *p, const struct observation *o)
{
    double cpu = obs_cpu(o);
    if (!ended_well(o) || cpu < CAL_MIN_CPU)
        return 0; /* crashed, or counted nothing (loop removed, no child): draw() falls back */
    double it = (double)p->iterations * CALIBRATE_CPU / cpu;
    return it < CAL_MIN ? CAL_MIN : it > CAL_MAX ? CAL_MAX : (long long)it;
}

/* Seconds of CPU one child should need for p's iterations (an estimate). */
static double expected_child_cpu(const struct params *p)
{
    if (p->calibrated > 0)
        return (double)p->iterations * CALIBRATE_CPU / (double)p->calibrated;
    return (double)p->iterations * FALLBACK_NS * 1e-9 / 4; /* FALLBACK_NS is pessimistic: ~4x */
}

static double time_limit(const struct params *p)
{
    if (p->calibrated == 0 && p->count == 1 && p->iterations == CAL_ITERATIONS)
        return 20; /* the calibration run: C takes ~0.05 s (the engine gives it 5), --exec python3 seconds */
    double per_iter = p->calibrated > 0 ? CALIBRATE_CPU / (double)p->calibrated : FALLBACK_NS * 1e-9;
    int n = p->count > 0 ? p->count : DEFAULT_PROCS;
    /* All children's counting one after another (a serial program finishes), x4 for a busy machine
     * (x3 + 3 s stopped a right program at a load average of 20 on 2 CPUs). */
    return n * (double)p->iterations * per_iter * 4 + 5;
}

/* --- Helpers ---------------------------------------------------------------------- */

static void describe_params(const struct params *p, struct verdict *v)
{
    if (p->defaults)
        verdict_note(v, "  arguments: none (the defaults: %d processes, %lld iterations)", p->count,
                     p->iterations);
    else {
        struct sbuf a = {0};
        describe_argv(p, &a);
        verdict_note(v, "  arguments: %s (NPROCS %d, ITERATIONS %lld)", a.data, p->count, p->iterations);
        sbuf_free(&a);
    }
}

/* Children the program made, however (fork, vfork, clone, posix_spawn, system): the kernel's
 * count when the run was traced, else the probe's. */
static long spawns_of(const struct observation *o)
{
    if (o->traced)
        return obs_kernel_processes(o) - 1;
    return obs_calls(o, "fork") + obs_calls(o, "posix_spawn") + obs_calls(o, "system");
}

/* Threads the program started: the kernel's count when traced, else the probe's. */
static long threads_of(const struct observation *o)
{
    return o->traced ? obs_kernel_threads(o) : obs_calls(o, "pthread_create");
}

/* Whether anything at all was seen of the program's calls. */
static bool seen_anything(const struct observation *o)
{
    return o->traced || o->nevents > 0;
}

/* Time the last fork returned in the parent and the first wait returned, or -1. */
static void fork_wait_times(const struct observation *o, double *last_fork, double *first_wait)
{
    *last_fork = *first_wait = -1;
    for (size_t i = 0; i < o->nevents; i++) {
        const struct call_event *e = &o->events[i];
        if (!strcmp(e->call, "fork") && e->t > *last_fork)
            *last_fork = e->t;
        if (!strcmp(e->call, "wait") && (*first_wait < 0 || e->t < *first_wait))
            *first_wait = e->t;
    }
}

/* Kernel view (tracer): the program's children, the time the last of them was
 * created, and when its first successful wait returned (a reaped child), or -1. */
static void kernel_fork_wait_times(const struct observation *o, int main_tgid, double *last_fork,
                                   double *first_reap)
{
    *last_fork = *first_reap = -1;
    for (size_t i = 1; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (!t->is_thread && t->parent == main_tgid && t->start > *last_fork)
            *last_fork = t->start;
    }
    for (size_t i = 0; i < o->ncalls; i++) {
        const struct sys_call *c = &o->calls[i];
        /* The pid it reaped (wait4's result; for waitid the tracer reads it from its siginfo). */
        bool reaped = c->kind == SK_WAIT && c->tgid == main_tgid && c->t_end >= 0 && c->ret > 0;
        if (reaped && (*first_reap < 0 || c->t_end < *first_reap))
            *first_reap = c->t_end;
    }
}

static bool forked_after_wait(const struct observation *o)
{
    double last_fork, first_wait;
    if (o->traced && o->ntasks > 0)
        kernel_fork_wait_times(o, o->tasks[0].tgid, &last_fork, &first_wait);
    else
        fork_wait_times(o, &last_fork, &first_wait);
    return last_fork >= 0 && first_wait >= 0 && first_wait < last_fork;
}

/* Each child's started..finished interval from the output, as detail lines. */
static void note_intervals(const struct evidence *ev, const struct observation *o, int n, struct verdict *v)
{
    struct parsed out;
    parse_output(ev->lab, o, &out);
    for (int k = 1; k <= n; k++) {
        const struct out_event *s = find_event(&out, P_STARTED, k), *f = find_event(&out, P_FINISHED, k);
        if (s && f)
            verdict_note(v, "  process %d: started at %.3f s, finished at %.3f s", k, s->t, f->t);
    }
    parsed_free(&out);
}

/* fail_if_crashed, naming the likely cause first when no child was ever created. */
static bool crashed(const struct observation *o, struct verdict *v)
{
    if (ended_well(o))
        return false;
    if (o->started && seen_anything(o) && spawns_of(o) + threads_of(o) == 0 &&
        !o->timed_out && !o->term_signal)
        verdict_hint(v, "no-fork");
    return fail_if_crashed(o, v);
}

/* --- format, order, piped ------------------------------------------------------ */

/* Every line in the contract, each child's two lines exactly once, one of each total.
 * piped: stdout was a pipe (duplicates then point at stdio buffers copied by fork). */
static void check_lines(const struct evidence *ev, struct verdict *v, const struct parsed *out, bool piped)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    size_t counts = count_events(out, P_COUNT, -1), times = count_events(out, P_TIME, -1);
    bool dup = counts > 1 || times > 1;
    for (int k = 1; k <= p->count; k++)
        dup = dup || count_events(out, P_STARTED, k) > 1 || count_events(out, P_FINISHED, k) > 1;
    /* Repeated lines: more processes than asked, or (through a pipe) stdio buffers copied by fork. */
    if (dup) {
        long forks = spawns_of(o);
        if (forks > p->count)
            verdict_fail(v, "child-continues", "%ld processes were created for NPROCS = %d, and lines were "
                         "repeated", forks, p->count);
        else if (piped)
            verdict_fail(v, "fork-duplicates", "lines were repeated with stdout a pipe (block-buffered): "
                         "text still in the stdio buffer at fork() was printed again by a child");
    }
    static const struct worker_lines procs = {P_STARTED, P_FINISHED, "Process %d started", "Process %d finished",
                                              "processes", "format"};
    expect_known_lines(out, v);
    expect_worker_lines(out, p->count, &procs, v);
    expect_once(out, P_COUNT, "Total count: C", v);
    expect_once(out, P_TIME, "Total time: T.TT sec", v);
}

static void judge_format(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    check_lines(ev, v, &out, false);
    /* Total time: no longer than the grader saw, no shorter than first 'started' to last 'finished'
     * (an interpreter's start-up comes before the program's own clock starts). */
    const struct out_event *tot = find_event(&out, P_TIME, -1);
    double first = -1, last = -1, tol = 0.05 + 0.05 * o->wall;
    for (size_t i = 0; i < out.n; i++) {
        if (out.ev[i].pattern == P_STARTED && first < 0)
            first = out.ev[i].t;
        if (out.ev[i].pattern == P_FINISHED)
            last = out.ev[i].t;
    }
    double span = first >= 0 && last > first ? last - first : 0;
    if (tot && (tot->m.field[0] > o->wall + tol || tot->m.field[0] < span - tol))
        verdict_fail(v, "wrong-total", "the program says \"%s\", the grader measured %.2f s (%.2f s from the "
                     "first 'started' line to the last 'finished' line)", tot->text, o->wall, span);
    if (v->status == ST_FAIL) {
        describe_params(p, v);
        quote_output(o, v, 14);
    } else {
        sbuf_printf(&v->summary, "%d processes: every line once, as the contract says (stdout a terminal)",
                    p->count);
    }
    parsed_free(&out);
}

/* The partial order of the contract; returns false (and fails v) if broken. */
static bool check_order_rules(const struct parsed *out, const struct params *p, struct verdict *v)
{
    struct order_rule rules[2 + MAX_PROCS * 4];
    size_t n = 0;
    int nprocs = p->count < MAX_PROCS * 4 ? p->count : MAX_PROCS * 4;
    for (int k = 1; k <= nprocs; k++)
        rules[n++] = (struct order_rule){{P_STARTED, k}, {P_FINISHED, k},
                                         "each process prints 'started' before its 'finished'"};
    size_t totals = n;
    rules[n++] = (struct order_rule){{P_FINISHED, -1}, {P_COUNT, -1},
                                     "every 'finished' line comes before the totals"};
    rules[n++] = (struct order_rule){{P_FINISHED, -1}, {P_TIME, -1},
                                     "every 'finished' line comes before the totals"};
    rules[n++] = (struct order_rule){{P_COUNT, -1}, {P_TIME, -1}, "'Total count' comes before 'Total time'"};
    const struct out_event *late, *early;
    int broken = check_order(out, rules, n, &late, &early);
    if (broken < 0)
        return true;
    verdict_fail(v, (size_t)broken == totals || (size_t)broken == totals + 1 ? "lines-after-total" : "format",
                 "\"%s\" came before \"%s\": %s", early->text, late->text, rules[broken].why);
    return false;
}

static void judge_order(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    if (count_events(&out, P_STARTED, -1) + count_events(&out, P_FINISHED, -1) == 0) {
        verdict_fail(v, "format", "no 'Process k started/finished' lines to put in order");
        quote_output(o, v, 8);
    } else if (!check_order_rules(&out, p, v)) {
        describe_params(p, v);
        quote_output(o, v, 14);
    } else {
        sbuf_printf(&v->summary, "each started before its finished, all finished before the totals");
    }
    parsed_free(&out);
}

/* piped: format and order again with stdout a pipe (block-buffered stdio). */
static void judge_piped(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    check_lines(ev, v, &out, true);
    if (v->status != ST_FAIL && check_order_rules(&out, p, v))
        sbuf_printf(&v->summary, "%d processes: every line once and in order with stdout a pipe", p->count);
    if (v->status == ST_FAIL) {
        describe_params(p, v);
        quote_output(o, v, 14);
    }
    parsed_free(&out);
}

/* --- correctness ------------------------------------------------------------------ */

/* The kernel's evidence that the total came from the children: the tracer saw
 * every read and write on a pipe (lab2.watch_pipes). Every child process must
 * have written to a pipe whose read end the main process held; returns how many did
 * not (0: all did, or the run was not traced), *children how many there were.
 * A child whose one write there says one number (4 or 8 bytes, or decimal
 * text: trace.c, written_value) other than its count is counted in *wrong,
 * the first such number in *wrong_value; any other shape is not judged. */
static int children_silent(const struct observation *o, long long iterations, int *children, int *wrong,
                           long *wrong_value)
{
    *children = *wrong = 0;
    if (!o->traced)
        return 0;
    int main_tgid = 0;
    for (size_t i = 0; i < o->ntasks && !main_tgid; i++)
        if (o->tasks[i].parent == 0 && !o->tasks[i].is_thread)
            main_tgid = o->tasks[i].tgid;
    int silent = 0;
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *c = &o->tasks[i];
        if (c->is_thread || c->tgid == main_tgid || c->tid != c->tgid)
            continue;
        ++*children;
        int sent = 0;
        long value = PIPE_VALUE_UNKNOWN;
        for (size_t w = 0; w < o->ncalls; w++) {
            if (o->calls[w].kind != SK_PIPE_WRITE || o->calls[w].tgid != c->tgid)
                continue;
            bool read_there = o->calls[w].arg > 0; /* the main process held its read end */
            if (read_there && ++sent == 1)
                value = o->calls[w].ret;
        }
        silent += !sent;
        if (sent == 1 && value != PIPE_VALUE_UNKNOWN && value != iterations && ++*wrong == 1)
            *wrong_value = value;
    }
    return silent;
}

/* Bytes the children wrote into a pipe that were all still in it when the main process
 * closed its last descriptor on it or ended (trace.c, report_unread): 0 none. */
static long pipe_left_unread(const struct observation *o)
{
    long bytes = 0;
    for (size_t i = 0; o->traced && i < o->ncalls; i++)
        if (o->calls[i].kind == SK_PIPE_READ)
            bytes += o->calls[i].ret;
    return bytes;
}

static void judge_correctness(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    const struct out_event *tot = find_event(&out, P_COUNT, -1);
    double want = (double)p->count * (double)p->iterations;
    if (!tot) {
        verdict_fail(v, "format", "no \"Total count: C\" line");
        quote_output(o, v, 8);
    } else if (tot->m.field[0] == want) {
        int children, wrong;
        long wrong_value = 0, unread;
        int silent = children_silent(o, p->iterations, &children, &wrong, &wrong_value);
        if (silent > 0 && silent == children)
            verdict_fail(v, "no-pipe", "the children sent nothing through a pipe: the total did not come from them "
                         "(the kernel saw no child write to a pipe whose read end the parent held)");
        else if (silent > 0)
            verdict_fail(v, "no-pipe", "%d of %d children sent nothing through a pipe the parent could read: the total "
                         "did not come from them", silent, children);
        else if (wrong > 0)
            verdict_fail(v, "no-pipe", "%d of %d children sent %ld through the pipe, not their count %lld: the "
                         "total did not come from them", wrong, children, wrong_value, p->iterations);
        else if ((unread = pipe_left_unread(o)) > 0)
            verdict_fail(v, "no-pipe", "the parent never read the pipe: the %ld bytes the children sent were all "
                         "still in it when the parent closed it or ended (the kernel's count): the total did not "
                         "come from them", unread);
        else
            sbuf_printf(&v->summary, "Total count %.0f = %d processes × %lld iterations%s", want, p->count,
                        p->iterations, o->traced ? ", sent by the children through a pipe" : "");
    } else if (tot->m.field[0] == 0) {
        if (spawns_of(o) + threads_of(o) == 0 && seen_anything(o))
            verdict_fail(v, "no-fork", "Total count is 0 (expected %.0f): no child process was ever created",
                         want);
        else
            verdict_fail(v, "global-counter", "Total count is 0, expected %d × %lld = %.0f: the children's "
                         "counts never reached the parent", p->count, p->iterations, want);
    } else {
        double got = tot->m.field[0], k = got / (double)p->iterations;
        verdict_fail(v, "partial-total", "Total count is %.0f, expected %d × %lld = %.0f", got, p->count,
                     p->iterations, want);
        if (k == floor(k))
            verdict_note(v, "  that is the count of %.0f process%s, not %d", k, k == 1 ? "" : "es", p->count);
    }
    if (v->status == ST_FAIL)
        describe_params(p, v);
    parsed_free(&out);
}

/* --- structure ---------------------------------------------------------------------- */

/* structure: from the kernel's view (the tracer), which sees every task however it was made and
 * cannot be told otherwise by the program; the probe's records are only cross-checked. */
static void judge_structure(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (!o->started) {
        fail_if_crashed(o, v);
        return;
    }
    if (!o->traced) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "not judged: %s", o->trace_off ? o->trace_off : "the run was not traced");
        return;
    }
    const struct task *m = obs_main_task(o);
    int execd = 0, forks = obs_children_of(o, m->tgid, &execd);
    int threads = obs_kernel_threads(o), procs = obs_kernel_processes(o) - 1;
    long waits = obs_sys_calls(o, m->tgid, SK_WAIT);
    if (threads > 0 && !ev->exec_mode)
        verdict_fail(v, "threads-not-processes", "the kernel saw %d thread%s: this lab runs the work in processes",
                     threads, threads == 1 ? "" : "s");
    if (forks == 0)
        verdict_fail(v, threads > 0 ? "threads-not-processes" : "no-fork", "the kernel saw no child process made "
                     "(fork, vfork or clone)");
    else if (forks != p->count)
        verdict_fail(v, forks > p->count ? "child-continues" : NULL, "the parent made %d child process%s for "
                     "NPROCS = %d", forks, forks == 1 ? "" : "es", p->count);
    if (procs > forks)
        verdict_fail(v, "child-continues", "%d process%s made by the children themselves: only the parent forks",
                     procs - forks, procs - forks == 1 ? " was" : "es were");
    if (execd > 0)
        verdict_fail(v, NULL, "%d child%s ran another program (exec: posix_spawn/system): make children with "
                     "fork()", execd, execd == 1 ? "" : "ren");
    double last_fork, first_reap;
    kernel_fork_wait_times(o, m->tgid, &last_fork, &first_reap);
    if (last_fork >= 0 && first_reap >= 0 && first_reap < last_fork)
        verdict_fail(v, "sequential-fork", "a child was reaped (at %.4f s) before the last fork (at %.4f s): "
                     "the children ran one after another", first_reap, last_fork);
    if (forks > 0 && waits < forks)
        verdict_fail(v, o->zombies > 0 ? "zombie" : o->leftover_procs > 0 ? "orphan" : "zombie",
                     "the parent called wait4/waitid %ld time%s for %d children", waits, waits == 1 ? "" : "s",
                     forks);
    if (o->zombies > 0)
        verdict_fail(v, "zombie", "%d child%s exited but never reaped: left a zombie when the parent "
                     "exited", o->zombies, o->zombies == 1 ? " was" : "ren were");
    if (o->leftover_procs > 0)
        verdict_fail(v, "orphan", "%d process%s still running when the parent exited (an orphan)",
                     o->leftover_procs, o->leftover_procs == 1 ? " was" : "es were");
    if (v->status == ST_FAIL) {
        verdict_note(v, "  NPROCS = %d", p->count);
        note_kernel_view(o, v);
    } else {
        sbuf_printf(&v->summary, "the kernel saw %d children forked%s, all before the first wait; all reaped "
                    "(%ld wait call%s); no zombie, no orphan", forks, threads ? "" : ", no threads", waits,
                    waits == 1 ? "" : "s");
    }
}

/* --- parallel (timing) and cpu ---------------------------------------------------------- */

/* Fails v and returns true if the run had no children or they did no work. */
static bool fail_if_no_work(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (crashed(o, v))
        return true;
    if (seen_anything(o) && spawns_of(o) + threads_of(o) == 0) {
        verdict_fail(v, "no-fork", "no child process ran: there is nothing to measure");
        return true;
    }
    double cpu = obs_cpu(o), expected = expected_child_cpu(p) * p->count;
    if (cpu < LOOP_REMOVED_SHARE * expected) {
        verdict_fail(v, "loop-removed", "all %d processes used %.3f s of CPU for %lld iterations each "
                     "(about %.2f s expected): nothing was really counted", p->count, cpu, p->iterations, expected);
        describe_params(p, v);
        return true;
    }
    return false;
}

/* A worker: a child process of the program's main process. */
static bool is_child_worker(const struct observation *o, const struct task *t)
{
    return o->ntasks > 0 && t != &o->tasks[0] && !t->is_thread && t->parent == o->tasks[0].tid;
}

/* The verdict from the workers' side: both figures that are known must reach the bar. */
static void judge_parallel_view(const struct evidence *ev, const struct observation *o,
                                const struct parallel_view *pv, double ratio, struct verdict *v)
{
    const struct params *p = &ev->params[0];
    bool conc_ok = parallel_conc_ok(pv), speed_ok = parallel_speed_ok(pv);
    struct sbuf d = {0};
    describe_parallel(pv, "children", &d);
    double cpu = obs_cpu(o), idle = ev->cpus * o->wall - cpu - o->others_cpu, waited;
    if (conc_ok && speed_ok) {
        sbuf_printf(&v->summary, "the children ran in parallel: %s", d.data);
    } else if (o->others_cpu > BUSY_SHARE * ev->cpus * o->wall && idle < IDLE_ROOM * o->wall) {
        v->status = ST_SKIP;
        v->retry = true;
        sbuf_printf(&v->summary, "skipped: the machine was busy: other programs used %.2f of the %.2f CPU-seconds "
                    "of this run, so parallelism cannot be judged (%s)", o->others_cpu, ev->cpus * o->wall, d.data);
    } else if (parallel_crowded_out(ev, o, p->count, is_child_worker, &waited)) {
        v->status = ST_SKIP;
        v->retry = true;
        sbuf_printf(&v->summary, "skipped: the machine was busy: the children waited %.2f s for a CPU while other "
                    "programs used %.2f CPU-seconds of this run, so parallelism cannot be judged (%s)", waited,
                    o->others_cpu, d.data);
    } else {
        verdict_fail(v, forked_after_wait(o) ? "sequential-fork" : "not-parallel", "%s%s%s: %s",
                     conc_ok ? "" : "the children were not on CPUs at the same time",
                     conc_ok || speed_ok ? "" : ", and ",
                     speed_ok ? "" : "N children took about as long as N one after another", d.data);
        v->final = parallel_quiet(ev, o, p->count, is_child_worker);
        verdict_note(v, "  CPU/wall of the whole tree %.2f (a parent that spins adds to it, and is no worker)",
                     ratio);
        describe_params(p, v);
        note_intervals(ev, o, p->count, v);
    }
    sbuf_free(&d);
}

/* parallel's turns test (turns.h): each child counts on its own. */
static const struct turns turns = {.is_worker = is_child_worker, .finished = "Process {i} finished", .worker = "child", .workers = "children", .hint = "children-took-turns",
                                   .processes = true};

extern const struct lab lab2;

static bool stall(const struct check *c, struct rng *r, const struct params *first,
                  const struct observation *first_run, const struct observation *const *stalls, size_t n,
                  struct params *p)
{
    (void)c; /* parallel, the one stall check */
    if (!first_run->probe_must_speak || first->defaults)
        return false; /* --exec: an interpreter's helper processes are children too */
    return turns_next(&turns, &lab2, r, first, first_run, stalls, n, p);
}

static void judge_parallel_checks(const struct evidence *ev, struct verdict *v);

static void judge_parallel(const struct evidence *ev, struct verdict *v)
{
    judge_parallel_checks(ev, v);
    judge_turns(&turns, ev, v);
}

static void judge_parallel_checks(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_no_work(ev, v))
        return;
    int n = p->count, k = n < ev->cpus ? n : ev->cpus;
    double cpu = obs_cpu(o), wall = o->wall, one = cpu / n, ratio = wall > 0 ? cpu / wall : 0;
    if (one < MIN_JUDGEABLE_CPU) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "skipped: each child used only %.3f s of CPU, too little to judge "
                    "parallelism (wall %.2f s, CPU %.2f s)", one, wall, cpu);
        return;
    }
    if (ev->cpus < 2) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "skipped: 1 CPU here, so parallelism cannot be judged; the %d children took "
                    "turns: wall %.2f s ≥ the sum of their CPU, %.2f s (one child %.2f s); CPU/wall %.2f", n,
                    wall, cpu, one, ratio);
        if (o->others_cpu > 0.05)
            sbuf_printf(&v->summary, "; other programs used %.2f s of this CPU meanwhile", o->others_cpu);
        return;
    }
    /* From the workers' side (the children's sampled CPU, paired runs), when the run was traced. */
    struct parallel_view pv;
    parallel_view(ev, o, n, is_child_worker, &pv);
    if (pv.conc_known || pv.speed_known) {
        judge_parallel_view(ev, o, &pv, ratio, v);
        return;
    }
    if (ratio >= PARALLEL_MIN) {
        sbuf_printf(&v->summary, "CPU/wall %.2f on %d CPUs: the children ran in parallel (wall %.2f s; %s "
                    "%.2f s of CPU, all %d together %.2f s)", ratio, ev->cpus, wall,
                    n <= k ? "one child" : "their share per CPU", n <= k ? one : cpu / k, n, cpu);
        return;
    }
    /* Others took a good share of our CPUs and left none idle: the run could not show parallelism,
     * not the program's fault. (A CPU left idle while the children ran one at a time is.) The
     * engine tries a fresh run, and skips only if every one is like this. */
    double idle = ev->cpus * wall - cpu - o->others_cpu;
    if (o->others_cpu > BUSY_SHARE * ev->cpus * wall && idle < IDLE_ROOM * wall) {
        v->status = ST_SKIP;
        v->retry = true;
        sbuf_printf(&v->summary, "skipped: the machine was busy: other programs used %.2f of the %.2f "
                    "CPU-seconds of this run, the children %.2f, so parallelism cannot be judged (CPU/wall "
                    "%.2f)", o->others_cpu, ev->cpus * wall, cpu, ratio);
        return;
    }
    const char *hint = forked_after_wait(o) ? "sequential-fork" : "not-parallel";
    verdict_fail(v, hint, "wall %.2f s ≈ the sum of the children (%.2f s of CPU), not %s (%.2f s): "
                 "CPU/wall %.2f, at least %.2f expected on %d CPUs", wall, cpu,
                 n <= k ? "one child" : "their share per CPU", n <= k ? one : cpu / k, ratio, PARALLEL_MIN,
                 ev->cpus);
    if (threads_of(o) > 0 && spawns_of(o) == 0)
        verdict_hint(v, "threads-not-processes");
    describe_params(p, v);
    note_intervals(ev, o, n, v);
    if (o->others_cpu > 0.05)
        verdict_note(v, "  other programs used %.2f CPU-seconds meanwhile; %.2f were left idle", o->others_cpu,
                     idle > 0 ? idle : 0);
}

static void judge_cpu(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_no_work(ev, v))
        return;
    double cpu = obs_cpu(o);
    sbuf_printf(&v->summary, "the %d processes used %.2f s of CPU (%.2f s each; about %.2f s expected): "
                "they really counted", p->count, cpu, cpu / p->count, expected_child_cpu(p));
}

/* --- The lab ---------------------------------------------------------------------------------- */

/* What parse_positive's and main's comments in labs/lab2/forkcount.c refuse,
 * one class per kind; each grading tries one list of every class (its rng
 * picks which). Overflow is past LLONG_MAX (strtoll's ERANGE): a huge count
 * that fits is a valid, if long, run. */
static const struct bad_args_class bad_classes[] = {
    {"empty", {{"", NULL}, {"2", "", NULL}}},
    {"not a number", {{"abc", NULL}, {"2", "many", NULL}}},
    {"zero", {{"0", NULL}, {"2", "0", NULL}}},
    {"negative", {{"-2", NULL}, {"2", "-5", NULL}, {"-1", "1000", NULL}}},
    {"trailing junk", {{"2x", NULL}, {"2.5", NULL}, {"2", "1x", NULL}, {"2", "1000 ", NULL}}},
    {"out of range", {{"2", "99999999999999999999", NULL}, {"2", "9223372036854775808", NULL},
                      {"3", "18446744073709551616", NULL}}},
    {"extra arguments", {{"2", "1000", "3", NULL}, {"2", "1000", "extra", NULL}}},
};

static const struct check checks[] = {
    {"build", "compiles with -Wall -Wextra", TAG_BUILD, 1, PLAN_BUILD, 1, true, judge_build},
    {"format", "each process's two lines and the two totals, each exactly once (stdout a terminal)",
     TAG_FORMAT, 2, PLAN_RUN, 1, false, judge_format},
    {"order", "each process started before it finished; every finished line before the totals", TAG_ORDER, 2,
     PLAN_RUN, 1, false, judge_order},
    {"piped", "the same lines, once each and in order, with stdout a pipe (stdio buffers across fork)",
     TAG_FORMAT | TAG_ORDER, 2, PLAN_RUN_PIPE, 1, false, judge_piped},
    {"correctness", "Total count = NPROCS × ITERATIONS, sent back by the children", TAG_CORRECTNESS, 2,
     PLAN_RUN, 1, false, judge_correctness},
    {"structure", "NPROCS children by fork(), no threads, all forked before the first wait, each reaped",
     TAG_STRUCTURE, 3, PLAN_RUN, 1, false, judge_structure},
    {"parallel", "the children count at the same time on several CPUs: wall ≈ one child, not the sum (best of 5)",
     TAG_TIMING, 3, PLAN_RUN, 5, false, judge_parallel},
    {"cpu", "each child really counts: CPU time as calibrated on this machine", TAG_CPU, 1, PLAN_RUN, 1, false,
     judge_cpu},
    {"memory", "valgrind on the parent and every child: no invalid access, no leak, no descriptor left open",
     TAG_MEMORY, 2, PLAN_MEMCHECK, 1, true, judge_memory},
    {"errors", "bad arguments: a message, exit status 2, no normal output", TAG_ERRORS, 1, PLAN_BAD_ARGS, 1,
     false, judge_bad_args},    INTEGRITY_CHECK, /* last: it reads every run the checks above made */
};

const struct lab lab2 = {
    .name = "lab2",
    .title = "fork/wait counter (parallelism)",
    .student_file = "forkcount.c",
    .program = "forkcount",
    .usage = "forkcount [NPROCS [ITERATIONS]]",
    .draw = draw,
    .time_limit = time_limit,
    .time_budget = 35,
    .watch_pipes = true,
    .patterns = patterns,
    .npatterns = ARRAY_LEN(patterns),
    .bad_classes = bad_classes,
    .nbad_classes = ARRAY_LEN(bad_classes),
    .checks = checks,
    .nchecks = ARRAY_LEN(checks),
    .calibration = calibration,
    .calibrate = calibrate,
    .paired_check = "parallel",
    .one_worker = one_worker,
    .stall_checks = "parallel",
    .stall = stall,
    .bar_label = "Process",
    .bar_from = P_STARTED,
    .bar_to = P_FINISHED,
};
