/* lab1.c - Lab 1 as data: the select()-based sleeper (concurrency).
 *
 *   sleeper [SECONDS...]     one task per argument; default 2 3 1
 *   Task i started                 (every task, before waiting for any)
 *   Task i finished after S sec    (when task i's delay has passed)
 *   Total time: T sec              (measured wall time, two decimals)
 *
 * One process, one thread, one event loop that waits only in select() or
 * pselect(). Each run gets fresh random delays, so replayed output fails.
 *
 * See also: handouts/lab1.md, solutions/lab1/sleeper.c, spec.h.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../client.h"
#include "../judge.h"

enum { P_STARTED, P_FINISHED, P_TOTAL };
static const char *const patterns[] = {
    [P_STARTED] = "Task {i} started",
    [P_FINISHED] = "Task {i} finished after {n} sec",
    [P_TOTAL] = "Total time: {t2} sec",
};

#define MIN_TASKS 3
#define MAX_TASKS 5
#define LATE_PER_LINE 0.080   /* s a finished line may come after its deadline */
#define EARLY_PER_LINE 0.025  /* s before it: the first line can reach the grader ~20 ms late under load */
#define OVER_MAX 0.120        /* s the whole run may exceed the longest delay */
#define CPU_SHARE_MAX 0.35    /* busy/wall above this is spinning (a spinner is ~1, a sleeper ~0.01) */

static void draw(struct rng *r, struct params *p)
{
    if (p->defaults) {
        static const double example[] = {2, 3, 1};
        p->count = 3;
        memcpy(p->value, example, sizeof example);
        p->nargs = 0;
        return;
    }
    /* 3-5 distinct delays on a 50 ms grid in [0.10, 0.60], at least 0.1 s apart,
     * never in ascending order (a program that waits in argument order must fail). */
    p->count = MIN_TASKS + rng_below(r, MAX_TASKS - MIN_TASKS + 1);
    for (;;) {
        for (int i = 0; i < p->count; i++)
            p->value[i] = 0.10 + 0.05 * rng_below(r, 11);
        bool ok = true, ascending = true;
        for (int i = 0; i < p->count && ok; i++)
            for (int j = i + 1; j < p->count && ok; j++)
                ok = fabs(p->value[i] - p->value[j]) >= 0.099;
        for (int i = 1; i < p->count; i++)
            ascending = ascending && p->value[i - 1] < p->value[i];
        if (ok && !ascending)
            break;
    }
    p->nargs = p->count;
    for (int i = 0; i < p->count; i++)
        snprintf(p->arg[i], sizeof p->arg[i], "%.2f", p->value[i]);
}

static double sum_of(const struct params *p)
{
    double s = 0;
    for (int i = 0; i < p->count; i++)
        s += p->value[i];
    return s;
}

static double max_of(const struct params *p)
{
    double m = 0;
    for (int i = 0; i < p->count; i++)
        m = fmax(m, p->value[i]);
    return m;
}

/* The timeline's marks: the work is the delays themselves. */
static void delays_work(const struct params *p, double *longest, double *sum)
{
    *longest = max_of(p);
    *sum = sum_of(p);
}

/* Every task's delay one after another (never more than the number of tasks
 * times the longest), plus 3 s to start and print on a busy machine: a program
 * that waits for them in turn still finishes and is judged for it. */
static double time_limit(const struct params *p)
{
    return p->count * max_of(p) + 3.0;
}

/* argv exactly as the program received it (the defaults' delays when it had none). */
static void describe_delays(const struct params *p, struct sbuf *out)
{
    describe_argv(p, out);
    if (p->defaults)
        for (int i = 0; i < p->count; i++)
            sbuf_printf(out, "%s%g%s", i ? " " : " (the defaults: ", p->value[i], i == p->count - 1 ? ")" : "");
}

/* format: exactly the contract's lines for this run's tasks. */
static void judge_format(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    static const struct worker_lines tasks = {P_STARTED, P_FINISHED, "Task %d started",
                                              "Task %d finished after ...", "tasks", "replayed-output"};
    expect_known_lines(&out, v);
    /* Wrong delays first: they say "replayed", the likelier mistake. */
    for (int t = 1; t <= p->count; t++) {
        const struct out_event *e = find_event(&out, P_FINISHED, t);
        if (e && count_events(&out, P_FINISHED, t) == 1 && fabs(e->m.field[1] - p->value[t - 1]) > 1e-9)
            verdict_fail(v, "replayed-output", "task %d's delay is %g s, but the line says \"%s\"", t,
                         p->value[t - 1], e->text);
    }
    expect_worker_lines(&out, p->count, &tasks, v);
    expect_once(&out, P_TOTAL, "Total time: T.TT sec", v);
    if (v->status == ST_FAIL) {
        struct sbuf d = {0};
        describe_delays(p, &d);
        verdict_note(v, "  arguments: %s", d.data);
        sbuf_free(&d);
        quote_output(o, v, 12);
    } else {
        sbuf_printf(&v->summary, "%d tasks: every line as the contract says", p->count);
    }
    parsed_free(&out);
}

/* order: a partial order, not one fixed sequence. */
static void judge_order(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    struct order_rule rules[2 + MAX_VALUES * MAX_VALUES];
    size_t n = 0;
    rules[n++] = (struct order_rule){{P_STARTED, -1}, {P_FINISHED, -1},
                                     "every 'started' line comes before any 'finished' line"};
    rules[n++] = (struct order_rule){{-1, -1}, {P_TOTAL, -1}, "'Total time' comes last"};
    for (int i = 0; i < p->count; i++)
        for (int j = 0; j < p->count; j++)
            if (p->value[i] < p->value[j])
                rules[n++] = (struct order_rule){{P_FINISHED, i + 1}, {P_FINISHED, j + 1},
                                                 "tasks finish in order of their delays, shortest first"};
    const struct out_event *late, *early;
    int broken = check_order(&out, rules, n, &late, &early);
    if (count_events(&out, P_FINISHED, -1) == 0) {
        verdict_fail(v, "format", "no 'finished' lines to put in order");
    } else if (broken >= 0) {
        verdict_fail(v, broken == 0 ? "order-started" : broken == 1 ? "format" : "order-finished",
                     "\"%s\" came before \"%s\": %s", early->text, late->text, rules[broken].why);
        struct sbuf d = {0};
        describe_delays(p, &d);
        verdict_note(v, "  arguments: %s", d.data);
        sbuf_free(&d);
        quote_output(o, v, 12);
    } else {
        sbuf_printf(&v->summary, "started lines first, finished by delay, total last (%zu rules)", n);
    }
    parsed_free(&out);
}

/* timing: each finished line near its deadline, and the whole run ~ max, not ~ sum. */
static void judge_timing(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    double sum = sum_of(p), max = max_of(p), worst_late = -1;
    int worst = 0;
    /* The tasks start when the program says so: time from the first 'started'
     * line, so an interpreter's start-up (python3: 0.1-0.3 s) is not counted
     * as lateness. A program that prints 'started' late still fails: its
     * finished lines come too early after it, or out of order. */
    const struct out_event *first = find_event(&out, P_STARTED, -1);
    double origin = first ? first->t : 0, wall = o->wall - origin;
    for (int t = 1; t <= p->count; t++) {
        const struct out_event *e = find_event(&out, P_FINISHED, t);
        if (!e) {
            verdict_fail(v, "format", "no \"Task %d finished\" line to time", t);
            continue;
        }
        double late = e->t - origin - p->value[t - 1];
        if (late < -EARLY_PER_LINE)
            verdict_fail(v, "early-finish", "task %d finished %.3f s after the tasks started, before its %g s delay",
                         t, e->t - origin, p->value[t - 1]);
        if (late > worst_late) {
            worst_late = late;
            worst = t;
        }
    }
    if (wall > max + OVER_MAX) {
        /* ≈ sum only when near it: a run far longer than the sum is not "one after another". */
        bool near_sum = wall > sum - 0.05 && wall <= sum + 0.1 + 0.1 * sum;
        verdict_fail(v, near_sum ? "sequential-wait" : "late-finish",
                     "the run took %.2f s: the longest delay is %.2f s, the sum %.2f s (%s)", wall, max, sum,
                     near_sum ? "≈ sum: one task after another" : wall > sum ? "longer than the sum" : "too slow");
    } else if (worst_late > LATE_PER_LINE) {
        verdict_fail(v, "late-finish", "task %d finished %.0f ms after its deadline (at most %.0f ms)",
                     worst, worst_late * 1000, LATE_PER_LINE * 1000);
    }
    const struct out_event *tot = find_event(&out, P_TOTAL, -1);
    /* The program's own clock starts between fork and its first line. */
    if (tot && (tot->m.field[0] < wall - 0.05 - 0.05 * wall || tot->m.field[0] > o->wall + 0.05 + 0.05 * o->wall))
        verdict_fail(v, "wrong-total", "the program says \"%s\", the grader measured %.2f s", tot->text, wall);
    if (v->status == ST_FAIL) {
        for (int t = 1; t <= p->count; t++) {
            const struct out_event *e = find_event(&out, P_FINISHED, t);
            if (e)
                verdict_note(v, "  task %d: delay %5.2f s, line at %6.3f s (%+.0f ms)", t, p->value[t - 1],
                             e->t - origin, (e->t - origin - p->value[t - 1]) * 1000);
        }
    } else {
        sbuf_printf(&v->summary, "total %.2f s ≈ max %.2f s, not sum %.2f s; lines at most %.0f ms late",
                    wall, max, sum, fmax(worst_late, 0) * 1000);
        if (origin > 0.05)
            sbuf_printf(&v->summary, " (timed from the first 'started' line, %.2f s after start)", origin);
    }
    parsed_free(&out);
}

/* cpu: a sleeper sleeps. */
/* The CPU and the wait for a CPU from the program's first line to its end: the whole run's
 * totals less what every task had used at its last sample before that line. False (totals
 * unchanged) when no task was sampled before it. */
static bool start_of_waiting(const struct observation *o, double *t0, double *cpu, double *delay)
{
    if (o->nlines == 0 || o->nsamples == 0)
        return false;
    *t0 = o->lines[0].t;
    double cpu0 = 0, wait0 = 0;
    bool seen = false;
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct cpu_sample *last = NULL;
        for (size_t k = 0; k < o->nsamples && o->samples[k].t <= *t0; k++)
            if (o->samples[k].tid == o->tasks[i].tid)
                last = &o->samples[k];
        if (last) {
            cpu0 += last->cpu;
            wait0 += last->wait;
            seen = true;
        }
    }
    if (!seen || *t0 >= o->wall)
        return false;
    *cpu = *cpu > cpu0 ? *cpu - cpu0 : 0;
    *delay = *delay > wait0 ? *delay - wait0 : 0;
    return true;
}

/* Busy seconds (on a CPU, or ready and waiting for one) of every task between times ta and tb,
 * from the grader's samples; -1 when they do not cover both ends. */
static double busy_between(const struct observation *o, double ta, double tb)
{
    double at[2] = {0, 0};
    bool seen[2] = {false, false};
    const double t[2] = {ta, tb};
    for (int e = 0; e < 2; e++)
        for (size_t i = 0; i < o->ntasks; i++) {
            const struct cpu_sample *last = NULL;
            for (size_t k = 0; k < o->nsamples && o->samples[k].t <= t[e]; k++)
                if (o->samples[k].tid == o->tasks[i].tid)
                    last = &o->samples[k];
            if (last) {
                at[e] += last->cpu + last->wait;
                seen[e] = true;
            }
        }
    return seen[0] && seen[1] ? at[1] - at[0] : -1;
}

#define SPIN_WINDOW_MIN 0.15 /* s: the time from the first finished line to the last line judged alone */

static void judge_cpu(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    if (fail_if_crashed(o, v))
        return;
    /* A run that ended before its longest delay never slept: its CPU share says nothing. */
    double max = max_of(&ev->params[0]);
    if (o->wall < max - EARLY_PER_LINE) {
        verdict_fail(v, NULL, "the run ended after %.2f s, before the longest delay (%.2f s): it never "
                     "waited, so there is no sleeping to measure", o->wall, max);
        return;
    }
    /* Busy = on a CPU, or ready and waiting for one: a spinning program on a
     * crowded machine gets little CPU time but is never asleep. Counted from the
     * first line on when the samples allow: the waiting is judged, not an
     * interpreter's start-up (python3 --exec: 0.21 s of CPU before its first
     * line failed a right asyncio program on a busy machine). */
    double delay = o->run_delay > 0 ? o->run_delay : 0, cpu = obs_cpu(o), wall = o->wall, t0;
    if (start_of_waiting(o, &t0, &cpu, &delay))
        wall -= t0;
    double share = wall > 0 ? (cpu + delay) / wall : 0;
    /* A timeout not rebuilt spins only once the first task is done: with tasks close together that
     * is a small part of the whole run, yet all of the time after it. */
    double t_first = -1, t_last = o->nlines ? o->lines[o->nlines - 1].t : -1;
    for (size_t i = 0; i < o->nlines && t_first < 0; i++)
        if (strstr(o->lines[i].text, " finished"))
            t_first = o->lines[i].t;
    double late = t_first >= 0 && t_last - t_first >= SPIN_WINDOW_MIN ? busy_between(o, t_first, t_last) : -1;
    double late_share = late >= 0 ? late / (t_last - t_first) : 0;
    const char *from = wall < o->wall ? " from the first line on" : "";
    if (share <= CPU_SHARE_MAX && late_share > 2 * CPU_SHARE_MAX) {
        cpu = late;
        delay = 0;
        wall = t_last - t_first;
        share = late_share;
        from = " after the first task finished";
    }
    if (share > CPU_SHARE_MAX) {
        verdict_fail(v, "busy-wait", "busy %.2f s of %.2f s wall%s (%.0f%%; at most %.0f%%): on a CPU %.2f s, "
                     "ready and waiting for one %.2f s", cpu + delay, wall, from, share * 100, CPU_SHARE_MAX * 100,
                     cpu, delay);
        long selects = obs_sys_calls(o, 0, SK_SELECT) + obs_sys_calls(o, 0, SK_PSELECT);
        if (selects > 100) { /* a sleeper calls it about once per deadline */
            verdict_note(v, "  select/pselect was called %ld times", selects);
            verdict_hint(v, "timeout-not-rebuilt");
        }
    } else {
        sbuf_printf(&v->summary, "CPU %.3f s (+%.3f s waiting for a CPU) over %.2f s wall%s (%.1f%%): it slept",
                    cpu, delay, wall, wall < o->wall ? " from the first line on" : "", share * 100);
    }
}

/* Waiting calls as the kernel saw them (the tracer, grader/trace.c). Setting a timer
 * (alarm, setitimer, timerfd) is no wait by itself: waiting for its signal is (pause,
 * sigsuspend, sigtimedwait), and a timerfd may be watched by select(). */
static const enum sys_kind loop_kinds[] = {SK_SELECT, SK_PSELECT, SK_POLL, SK_PPOLL, SK_EPOLL};
static const enum sys_kind other_waits[] = {SK_NANOSLEEP, SK_CLOCK_NANOSLEEP, SK_SIGWAIT, SK_FUTEX_TIMED,
                                            SK_OTHER_WAIT};

static long kernel_calls(const struct observation *o, const enum sys_kind *kinds, size_t n)
{
    long t = 0;
    for (size_t i = 0; i < n; i++)
        t += obs_sys_calls(o, 0, kinds[i]);
    return t;
}

/* Where the program slept, from the grader's samples of
 * /proc/PID/task/TID/syscall (every few ms): a call that is not select,
 * pselect (or, under --exec, another event-loop call) and held the program
 * for BLOCKED_NOTICE s in all fails structure: the kernel's answer to a
 * program that waits in read() on a timerfd, a pipe or a terminal, which the
 * tracer's filter does not stop at. Each sample counts until the task's next
 * one (at most BLOCKED_GAP s: a late pass does not inflate it). */
#define BLOCKED_NOTICE 0.2
#define BLOCKED_GAP 0.05

static void judge_blocked(const struct observation *o, bool exec_mode, struct verdict *v)
{
    long nrs[16];
    double secs[16];
    size_t n = 0;
    for (size_t i = 0; i < o->nsamples; i++) {
        const struct cpu_sample *s = &o->samples[i];
        if (s->syscall < 0)
            continue;
        const char *loop = loop_call_name(s->syscall);
        if (loop && (exec_mode || !strcmp(loop, "select") || !strcmp(loop, "pselect")))
            continue;
        double dt = -1;
        for (size_t j = i + 1; j < o->nsamples && dt < 0; j++)
            if (o->samples[j].tid == s->tid)
                dt = o->samples[j].t - s->t;
        if (dt < 0 || dt > BLOCKED_GAP)
            dt = BLOCKED_GAP / 10;
        size_t k = 0;
        while (k < n && nrs[k] != s->syscall)
            k++;
        if (k == n) {
            if (n == ARRAY_LEN(nrs))
                continue;
            nrs[n] = s->syscall;
            secs[n++] = 0;
        }
        secs[k] += dt;
    }
    for (size_t k = 0; k < n; k++) {
        if (secs[k] < BLOCKED_NOTICE)
            continue;
        const char *name = blocking_call_name(nrs[k]);
        char other[40];
        if (!name) {
            snprintf(other, sizeof other, "system call %ld", nrs[k]);
            name = other;
        }
        verdict_fail(v, "wrong-wait-call", "blocked in %s() for %.2f s (the grader's samples of "
                     "/proc/PID/task/TID/syscall): wait only in select/pselect", name, secs[k]);
    }
}

/* structure: one process, one thread, waits in select/pselect only: from the
 * kernel (the tracer), so a raw syscall(), a clone() child or a silenced probe
 * cannot hide. The probe's view is only cross-checked (obs_cross_check). */
static void judge_structure(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    if (!o->started) {
        fail_if_crashed(o, v);
        return;
    }
    if (!o->traced) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "not judged: %s", o->trace_off ? o->trace_off : "the run was not traced");
        return;
    }
    int procs = obs_kernel_processes(o) - 1, threads = obs_kernel_threads(o);
    long sleeps = kernel_calls(o, other_waits, ARRAY_LEN(other_waits));
    long selects = obs_sys_calls(o, 0, SK_SELECT) + obs_sys_calls(o, 0, SK_PSELECT);
    long others = kernel_calls(o, loop_kinds, ARRAY_LEN(loop_kinds)) - selects;
    char seen[256], waits[256];
    obs_describe_sys(o, 0, loop_kinds, ARRAY_LEN(loop_kinds), seen, sizeof seen);
    obs_describe_sys(o, 0, other_waits, ARRAY_LEN(other_waits), waits, sizeof waits);
    if (procs > 0)
        verdict_fail(v, "wrong-wait-call", "the kernel saw %d more process%s (fork, vfork, clone or posix_spawn): "
                     "one process only", procs, procs == 1 ? "" : "es");
    if (threads > 0)
        verdict_fail(v, "wrong-wait-call", "the kernel saw %d thread%s started: one thread only", threads,
                     threads == 1 ? "" : "s");
    if (sleeps > 0)
        verdict_fail(v, "wrong-wait-call", "waited in %s (wait only in select/pselect; the kernel sees a raw "
                     "syscall() too)", waits);
    judge_blocked(o, ev->exec_mode, v);
    if (ev->exec_mode) {
        if (selects + others == 0)
            verdict_fail(v, "wrong-wait-call", "never waited in an event loop (select, poll or epoll)");
        else if (v->status != ST_FAIL)
            sbuf_printf(&v->summary, "the kernel saw 1 process, no threads, no other waiting call; waited in %s "
                        "(--exec: any event-loop call counts; the select-only rule is for C)", seen);
    } else {
        if (others > 0)
            verdict_fail(v, "wrong-wait-call", "waited in %s: this lab waits in select() or pselect()", seen);
        else if (selects == 0)
            verdict_fail(v, "no-select", "never called select() or pselect()");
        if (v->status != ST_FAIL)
            sbuf_printf(&v->summary, "the kernel saw 1 process, 1 thread; it waited in %s and nothing else", seen);
    }
    if (v->status == ST_FAIL)
        note_kernel_view(o, v);
}

/* What parse_delay's comment in labs/lab1/sleeper.c refuses, one class per
 * kind; each grading tries one list of every class (its rng picks which, and
 * where among good delays the bad one sits). */
static const struct bad_args_class bad_classes[] = {
    {"empty", {{"", NULL}, {"0.2", "", NULL}}},
    {"not a number", {{"abc", NULL}, {"0.2", "x", NULL}, {"two", NULL}}},
    {"trailing junk", {{"1x", NULL}, {"0.2", "1x", NULL}, {"0.5 ", NULL}, {"0.25s", NULL}, {"0.3abc", "0.2", NULL}}},
    {"negative", {{"-1", NULL}, {"0.2", "-0.5", NULL}, {"-0.25", NULL}}},
    {"out of range", {{"1e999", NULL}, {"0.2", "1e999", NULL}, {"1e400", NULL}}},
    {"infinite", {{"inf", NULL}, {"0.2", "infinity", NULL}, {"INF", NULL}}},
    {"NaN", {{"nan", NULL}, {"0.2", "NAN", NULL}, {"nan(1)", NULL}}},
};

static const struct check checks[] = {
    {"build", "compiles with -Wall -Wextra", TAG_BUILD, 1, PLAN_BUILD, 1, true, judge_build},
    {"format", "prints exactly the contract's lines for fresh random delays", TAG_FORMAT, 2, PLAN_RUN, 1,
     false, judge_format},
    {"order", "started lines first, finished lines by delay, total last", TAG_ORDER, 2, PLAN_RUN, 3, false,
     judge_order},
    {"timing", "each task finishes on time; total ≈ max, not sum (best of 3)", TAG_TIMING, 3, PLAN_RUN, 3,
     false, judge_timing},
    {"cpu", "sleeps instead of spinning: CPU a small share of wall time", TAG_CPU, 1, PLAN_RUN, 3, false,
     judge_cpu},
    {"structure", "one process, one thread, waits in select()/pselect() only", TAG_STRUCTURE, 2, PLAN_RUN, 1,
     false, judge_structure},
    {"memory", "valgrind: no invalid access, no leak, no descriptor left open", TAG_MEMORY, 2, PLAN_MEMCHECK,
     1, true, judge_memory},
    {"errors", "bad arguments: a message, exit status 2, no task lines", TAG_ERRORS, 1, PLAN_BAD_ARGS, 1,
     false, judge_bad_args},    INTEGRITY_CHECK, /* last: it reads every run the checks above made */
};

const struct lab lab1 = {
    .name = "lab1",
    .title = "select()-based sleeper (concurrency)",
    .student_file = "sleeper.c",
    .program = "sleeper",
    .usage = "sleeper [SECONDS...]",
    .draw = draw,
    .time_limit = time_limit,
    .time_budget = 20,
    .patterns = patterns,
    .npatterns = ARRAY_LEN(patterns),
    .bad_classes = bad_classes,
    .nbad_classes = ARRAY_LEN(bad_classes),
    .checks = checks,
    .nchecks = ARRAY_LEN(checks),
    .bar_label = "Task",
    .bar_from = P_STARTED,
    .bar_to = P_FINISHED,
    .bar_work = delays_work,
    .sample_calls = true,
};
