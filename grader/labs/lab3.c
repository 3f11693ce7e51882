/* lab3.c - Lab 3 as data: the pthread counter (threads share memory).
 *
 *   threadcount [NTHREADS [ITERATIONS [MODE]]]     default 2 10000000 local
 *   Thread t started / Thread t finished       (t = 1..NTHREADS, from each thread)
 *   Total count: C                              (after every thread is joined)
 *   Total time: T sec
 *   MODE: racy (given, broken), mutex, atomic, local.
 *
 * The mutex, atomic and local modes are each checked for the exact total and
 * with a race detector (a racy program fails even when its total is right, as
 * at -O2 it often is); mutex and atomic get 3 runs, each of which must be
 * exact (check.attempts = -3). The correctness checks also judge how a mode
 * locks (judge_locking): the probe counts lock calls per thread and per mutex
 * (mutex mode: a lock per increment on the one mutex all the threads share;
 * atomic mode: none per increment; local mode: one per thread), and mutex
 * mode's wall time and atomic mode's CPU time per increment must exceed a
 * local increment's (the calibration) several times. Atomic mode also gets
 * the stall test (judge_stalls): the tracer stops one of two counting
 * threads, and the other must still finish (a lock of the program's own,
 * which the probe cannot count, makes it wait). Race runs stop at
 * TSan's first report (status 66, which a silenced stderr cannot hide). The atomic runs are large
 * enough that a load-then-store "increment" loses updates on a busy machine. A check's mode is its run variant: the suffix
 * of its name ("race-atomic"), else local (lab->variant). The local run is sized on
 * this machine (calibration: one thread, CAL_ITERATIONS) so each thread burns
 * about CALIBRATE_CPU s of CPU; it is judged for structure (probe: creates,
 * joins, no processes), overlap of the threads' lines (timing) and CPU/wall
 * (cpu: parallel, on two CPUs or more). After the checks, the epilogue runs
 * all four modes and prints a table of wall, CPU and total.
 *
 * See also: handouts/lab3.md, solutions/lab3/threadcount.c, tests/lab3/, spec.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../judge.h"
#include "../turns.h"

enum { P_STARTED, P_FINISHED, P_COUNT, P_TIME };
static const char *const patterns[] = {
    [P_STARTED] = "Thread {i} started",
    [P_FINISHED] = "Thread {i} finished",
    [P_COUNT] = "Total count: {n}", /* {n}: a count may not fit an int; judged as a whole number below */
    [P_TIME] = "Total time: {n} sec",
};

#define DEFAULT_THREADS 2
#define DEFAULT_ITERATIONS 10000000LL
#define MIN_THREADS 2
#define MAX_THREADS 4
#define CAL_ITERATIONS 100000000LL  /* the calibration run: one thread, local mode */
#define CAL_MIN_CPU 0.010           /* less CPU than this for CAL_ITERATIONS: nothing was counted */
#define CAL_MIN 1000000LL
#define CAL_MAX 50000000000LL
#define FALLBACK_ITERATIONS 100000000LL /* when calibration could not tell */
#define FALLBACK_NS 2.0             /* ns per local increment assumed without calibration */
#define MUTEX_NS 500.0              /* generous ns per locked increment, for time limits */
#define ATOMIC_NS 200.0             /* generous ns per atomic increment, for time limits */
#define MUTEX_MIN 1000000           /* mutex runs: increments per thread, drawn */
#define MUTEX_SPAN 1000000
#define ATOMIC_MIN 8000000          /* atomic runs: more, so that a volatile ++ or a load then a store */
#define ATOMIC_SPAN 8000000         /* loses updates even on a busy machine (2 x 2M lost none at load 16) */
#define CORRECTNESS_RUNS 3          /* mutex and atomic: every one of these runs must be exact */
#define RACE_MIN 20000              /* race-detector runs (TSan ~10x, helgrind ~100x slower) */
#define RACE_SPAN 30000
#define MEMCHECK_MIN 50000
#define MEMCHECK_SPAN 50000
#define LOOP_REMOVED_SHARE 0.15     /* CPU below this share of the calibrated: the loop is gone */
#define LOOP_REMOVED_NS 0.05        /* without calibration: no real loop is this fast per increment */
#define MIN_JUDGEABLE_CPU 0.05      /* s per thread: less is too little work to judge parallelism */
#define MIN_SPAN 0.05               /* s: threads' work shorter than this cannot show overlap */
#define OVERLAP_MIN 1.3             /* sum of the threads' intervals / their span (serial: <= 1.0) */
#define PARALLEL_MIN 1.15           /* CPU/wall a parallel run must reach (serial: <= 1.00) */
#define BUSY_SHARE 0.25             /* others used more of our CPUs' time than this: a busy machine */
#define IDLE_ROOM 0.30              /* CPUs idle this long (x wall) were there to use: not too busy */
#define MUTEX_LOCK_SHARE 0.99      /* mutex mode: at least this many locks per increment */
#define MUTEX_MIN_RATIO 2.0         /* mutex mode: wall per increment >= this x a local increment's CPU */
#define ATOMIC_MIN_RATIO 4.0        /* atomic mode: wall per increment >= this x a local increment's CPU (measured 25-30x) */
#define ATOMIC_MAX_LOCK_SHARE 0.5   /* atomic mode: this many locks per increment is a lock each */
#define LOCAL_MAX_LOCKS_PER_THREAD 4 /* local mode: a lock to add the subtotal (and a few more) */
#define STALL_WORK 0.04            /* stall runs: s of CPU one thread's count takes (contended rate) */
#define STALL_AT_MIN 0.10           /* the stop: when each thread has used this share of that, */
#define STALL_AT_SPAN 0.20          /* plus up to this much more (drawn) */
#define STALL_BUDGET_MIN 0.25       /* s of CPU the watched thread may use without finishing: spinning */
#define STALL_BUDGET_WORKS 5        /* and at least this many times its whole count's CPU */
#define STALL_SLEEP 0.25            /* s the watched thread may sleep without finishing: blocked */
#define STALL_WALL 2.0              /* s a stop lasts at most (a thread kept off the CPUs: no verdict) */
#define STALL_DECIDED 10            /* tries that must finish (caught in 20 gradings: an atomic_flag spinlock in 40
                                     * of 64 tries; a futex lock in about half: it escapes 10 in 0.1%) */
#define STALL_MIN_DECIDED 6         /* fewer tries that could tell (all 16 made): not judged */
#define STALL_CAUGHT 1              /* a try that waited fails (a right program never waits): no more are made */
#define STALL_MISSED_MAX 5          /* a try that ended before its stop doubles the next ones' count, this often at most */
#define STALL_SERIAL_TRIES 3        /* this many tries with one thread after the other: no more */
#define STALL_TRIES 16              /* tries at most (some end before both threads counted: no verdict) */
#define TABLE_DIVISOR 40            /* table rows: calibrated / this increments per thread */
#define TABLE_MIN 1000000LL
#define TABLE_MAX 10000000LL

static const char *const modes[] = {"racy", "mutex", "atomic", "local"};

/* --- Parameters ---------------------------------------------------------------- */

static void set_args(struct params *p)
{
    p->nargs = 3;
    snprintf(p->arg[0], sizeof p->arg[0], "%d", p->count);
    snprintf(p->arg[1], sizeof p->arg[1], "%lld", p->iterations);
    snprintf(p->arg[2], sizeof p->arg[2], "%.31s", p->mode);
}

/* A check's mode: the suffix of its name ("race-atomic"), else local. */
static const char *check_mode(const struct check *c)
{
    const char *dash = strrchr(c->name, '-');
    for (size_t m = 0; dash && m < ARRAY_LEN(modes); m++)
        if (!strcmp(dash + 1, modes[m]))
            return modes[m];
    return "local";
}

static void draw(struct rng *r, struct params *p)
{
    if (p->defaults) {
        p->count = DEFAULT_THREADS;
        p->iterations = DEFAULT_ITERATIONS;
        snprintf(p->mode, sizeof p->mode, "local");
        p->nargs = 0;
        return;
    }
    snprintf(p->mode, sizeof p->mode, "%s", p->variant ? p->variant : "local");
    p->count = MIN_THREADS + rng_below(r, MAX_THREADS - MIN_THREADS + 1);
    if (p->plan == PLAN_RACE) {
        p->iterations = RACE_MIN + rng_below(r, RACE_SPAN);
    } else if (p->plan == PLAN_MEMCHECK) {
        p->count = MIN_THREADS + rng_below(r, 2);
        p->iterations = MEMCHECK_MIN + rng_below(r, MEMCHECK_SPAN);
    } else if (!strcmp(p->mode, "local")) {
        /* Sized so each thread has about CALIBRATE_CPU s of CPU: enough to see parallelism.
         * 3-4 threads: on a machine shared with other busy programs, more threads get a
         * bigger share of the CPUs, so a parallel program still shows CPU/wall above 1. */
        p->count = MIN_THREADS + 1 + rng_below(r, MAX_THREADS - MIN_THREADS);
        double base = p->calibrated > 0 ? (double)p->calibrated : (double)FALLBACK_ITERATIONS;
        p->iterations = (long long)(base * (1.0 + 0.3 * rng_uniform(r))) + rng_below(r, 1000);
    } else if (!strcmp(p->mode, "atomic")) {
        p->iterations = ATOMIC_MIN + rng_below(r, ATOMIC_SPAN);
    } else {
        p->iterations = MUTEX_MIN + rng_below(r, MUTEX_SPAN);
    }
    set_args(p);
}

/* Paired runs: the same work per thread, one thread. */
static void one_worker(struct params *p)
{
    p->count = 1;
    set_args(p);
}

static void calibration(struct params *p)
{
    p->count = 1;
    p->iterations = CAL_ITERATIONS;
    snprintf(p->mode, sizeof p->mode, "local");
    set_args(p);
}

static long long calibrate(const struct params *p, const struct observation *o)
{
    double cpu = obs_cpu(o);
    if (!ended_well(o) || cpu < CAL_MIN_CPU)
        return 0; /* crashed, or counted nothing (loop removed, mode not written): draw() falls back */
    double it = (double)p->iterations * CALIBRATE_CPU / cpu;
    return it < CAL_MIN ? CAL_MIN : it > CAL_MAX ? CAL_MAX : (long long)it;
}

/* Seconds one local increment should take here (an estimate). */
static double local_increment(const struct params *p)
{
    return p->calibrated > 0 ? CALIBRATE_CPU / (double)p->calibrated : FALLBACK_NS * 1e-9;
}

static double time_limit(const struct params *p)
{
    double each = !strcmp(p->mode, "mutex") ? MUTEX_NS * 1e-9 : !strcmp(p->mode, "atomic") ? ATOMIC_NS * 1e-9
                                                                                          : local_increment(p) * 4;
    int n = p->count > 0 ? p->count : DEFAULT_THREADS;
    return n * (double)p->iterations * each + 3;
}

/* --- Reading a run --------------------------------------------------------------- */

static double expected_total(const struct params *p)
{
    return (double)p->count * (double)p->iterations;
}

static void describe_params(const struct params *p, struct verdict *v)
{
    if (p->defaults)
        verdict_note(v, "  arguments: none (the defaults: %d threads, %lld iterations, local)", p->count,
                     p->iterations);
    else {
        struct sbuf a = {0};
        describe_argv(p, &a);
        verdict_note(v, "  arguments: %s", a.data);
        sbuf_free(&a);
    }
}

/* The first "Total count" line's value, or -1 if there is none. */
static double total_count(const struct parsed *out)
{
    const struct out_event *e = find_event(out, P_COUNT, -1);
    return e ? e->m.field[0] : -1;
}

/* For a judge of a mode other than local under --defaults: that mode never ran. */
static bool skip_if_defaults(const struct evidence *ev, struct verdict *v)
{
    const struct params *p = &ev->params[0];
    if (!p->defaults || !p->variant || !strcmp(p->variant, "local"))
        return false;
    v->status = ST_SKIP;
    sbuf_printf(&v->summary, "not judged with --defaults: the program then runs in local mode only, not %s",
                p->variant);
    return true;
}

/* A total short by the same one or two increments per thread is a loop's bounds (for (i = 1; i < n; i++)),
 * not lost updates: a race loses a random number, and rarely so few. */
static bool short_per_thread(const struct params *p, double missing)
{
    double each = p->count > 0 ? missing / p->count : 0;
    return each >= 1 && each <= 2 && each == floor(each);
}

/* Fails v unless the run's total is exactly NTHREADS x ITERATIONS; why says what is then not judged. */
static bool fail_if_total_wrong(const struct evidence *ev, const struct parsed *out, struct verdict *v,
                                const char *why)
{
    const struct params *p = &ev->params[0];
    double got = total_count(out), want = expected_total(p);
    if (got == want)
        return false;
    if (got < 0)
        verdict_fail(v, "format", "%sno \"Total count: C\" line", why);
    else if (got == 0)
        verdict_fail(v, "mode-missing", "%sTotal count is 0, expected %.0f: %s mode added nothing", why, want,
                     p->mode);
    else
        verdict_fail(v, got < want && !short_per_thread(p, want - got) ? "lost-updates" : "wrong-count",
                     "%sTotal count is %.0f, expected %.0f", why, got, want);
    describe_params(p, v);
    return true;
}

/* How the threads' started..finished intervals overlap: sum of their lengths over
 * the span from the first start to the last finish (serial: <= 1, parallel: ~N).
 * Returns -1 if some thread lacks a line. */
static double overlap(const struct parsed *out, int n, double *span, double *sum)
{
    double first = INFINITY, last = -INFINITY;
    *sum = 0;
    for (int t = 1; t <= n; t++) {
        const struct out_event *s = find_event(out, P_STARTED, t), *f = find_event(out, P_FINISHED, t);
        if (!s || !f)
            return -1;
        *sum += fmax(f->t - s->t, 0);
        first = fmin(first, s->t);
        last = fmax(last, f->t);
    }
    *span = last - first;
    /* Every line at one instant (a loop the compiler removed, read in one go under load): no span,
     * nothing overlapped; -1 is only for a missing line. */
    return *span > 0 ? *sum / *span : 0;
}

/* --- Judges ---------------------------------------------------------------------- */

/* format: exactly the contract's lines for this run's threads. */
static void judge_format(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    static const struct worker_lines threads = {P_STARTED, P_FINISHED, "Thread %d started", "Thread %d finished",
                                                "threads", "replayed-output"};
    expect_known_lines(&out, v);
    expect_worker_lines(&out, p->count, &threads, v);
    expect_once(&out, P_COUNT, "Total count: C", v);
    const struct out_event *c = find_event(&out, P_COUNT, -1);
    if (c && strpbrk(c->text, ".eE"))
        verdict_fail(v, "format", "\"%s\": the count is a whole number (%%lld)", c->text);
    expect_once(&out, P_TIME, "Total time: T.TT sec", v);
    if (v->status == ST_FAIL) {
        describe_params(p, v);
        quote_output(o, v, 12);
    } else {
        sbuf_printf(&v->summary, "%d threads: every line as the contract says", p->count);
    }
    parsed_free(&out);
}

/* order: each thread starts before it finishes; the totals come last, count then time. */
static void judge_order(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (fail_if_crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    struct order_rule rules[3 + 64];
    size_t n = 0;
    rules[n++] = (struct order_rule){{P_STARTED, -1}, {P_COUNT, -1},
                                     "every thread's lines come before the total: join them all first"};
    rules[n++] = (struct order_rule){{P_FINISHED, -1}, {P_COUNT, -1},
                                     "every thread's lines come before the total: join them all first"};
    rules[n++] = (struct order_rule){{P_COUNT, -1}, {P_TIME, -1}, "'Total count' comes before 'Total time'"};
    for (int t = 1; t <= p->count && t <= 64; t++)
        rules[n++] = (struct order_rule){{P_STARTED, t}, {P_FINISHED, t}, "a thread starts before it finishes"};
    const struct out_event *late, *early;
    int broken = check_order(&out, rules, n, &late, &early);
    if (count_events(&out, P_FINISHED, -1) == 0 || count_events(&out, P_COUNT, -1) == 0) {
        verdict_fail(v, "format", "no 'Thread t finished' or 'Total count' lines to put in order");
        quote_output(o, v, 12);
    } else if (broken >= 0) {
        verdict_fail(v, broken < 2 ? "total-before-join" : "format", "\"%s\" came before \"%s\": %s", early->text,
                     late->text, rules[broken].why);
        describe_params(p, v);
        quote_output(o, v, 12);
    } else {
        sbuf_printf(&v->summary, "each thread started before it finished; totals last (%zu rules)", n);
    }
    parsed_free(&out);
}

/* The probe's lock tallies (grader/probe/probe.c): each thread writes, as its
 * start routine returns, one "locktally" record and one "lockon <n> <address>"
 * per lock it took. The counting threads are the threads the kernel saw
 * besides the first (the main thread's locks are not counting, unless it
 * made no thread). */
struct lock_view {
    bool known;          /* the run was traced and watched by the probe: the tallies can be judged */
    int workers;         /* counting threads the kernel saw */
    int missing_tid;     /* a counting thread without a tally (0: none) */
    long shared, others; /* worker locks on the mutex every worker took; on any other */
    int shared_threads;  /* how many workers took the shared one */
};

/* A counting thread: a thread of the program's process other than its first,
 * or, in a program that made none (it fails structure), the first. */
static bool is_worker_tid(const struct observation *o, int tid)
{
    bool any = false;
    for (size_t i = 1; i < o->ntasks; i++) {
        bool worker = o->tasks[i].is_thread && o->tasks[i].tgid == o->tasks[0].tgid;
        if (o->tasks[i].tid == tid)
            return worker;
        any = any || worker;
    }
    return !any && o->ntasks > 0 && tid == o->tasks[0].tid;
}

static bool has_tally(const struct observation *o, int tid)
{
    for (size_t i = 0; i < o->nevents; i++)
        if (o->events[i].tid == tid && !strcmp(o->events[i].call, "locktally"))
            return true;
    return false;
}

static void lock_view(const struct observation *o, struct lock_view *lv)
{
    *lv = (struct lock_view){0};
    lv->known = o->traced && o->probe_must_speak && o->ntasks > 0;
    if (!lv->known)
        return;
    for (size_t i = 1; i < o->ntasks; i++)
        if (o->tasks[i].is_thread && o->tasks[i].tgid == o->tasks[0].tgid) {
            lv->workers++;
            if (!lv->missing_tid && !has_tally(o, o->tasks[i].tid))
                lv->missing_tid = o->tasks[i].tid;
        }
    long total = 0, best = 0;
    for (size_t i = 0; i < o->nevents; i++) {
        const struct call_event *e = &o->events[i];
        if (strcmp(e->call, "lockon") || !is_worker_tid(o, e->tid))
            continue;
        total += e->count;
        bool first = true; /* each address once: sum it over the workers, count them */
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(o->events[j].call, "lockon") || o->events[j].arg != e->arg || !is_worker_tid(o, o->events[j].tid);
        if (!first || e->arg == 0)
            continue;
        long sum = 0;
        int threads = 0;
        for (size_t j = i; j < o->nevents; j++) {
            const struct call_event *f = &o->events[j];
            if (strcmp(f->call, "lockon") || f->arg != e->arg || !is_worker_tid(o, f->tid))
                continue;
            sum += f->count;
            bool new_tid = true;
            for (size_t k = i; k < j && new_tid; k++)
                new_tid = strcmp(o->events[k].call, "lockon") || o->events[k].arg != e->arg || o->events[k].tid != f->tid;
            threads += new_tid;
        }
        if (threads >= (lv->workers > 0 ? lv->workers : 1) && sum > best) {
            best = sum;
            lv->shared_threads = threads;
        }
    }
    lv->shared = best;
    lv->others = total - best;
}

/* The counting threads' CPU time, from the kernel (the tracer's per-task
 * figures), else the whole run's: CPU, not wall time, so that neither the
 * start-up of the process nor a busy machine's waiting counts as work. */
static double atomic_cpu(const struct observation *o)
{
    double sum = 0;
    int n = 0;
    for (size_t i = 1; i < o->ntasks; i++)
        if (o->tasks[i].is_thread && o->tasks[i].tgid == o->tasks[0].tgid) {
            if (o->tasks[i].cpu <= 0)
                return obs_cpu(o);
            sum += o->tasks[i].cpu;
            n++;
        }
    return n > 0 ? sum : obs_cpu(o);
}

/* How each mode locks, from the probe's per-thread, per-mutex lock tallies
 * and from the time an increment took beside this grading's calibration
 * (local mode, one thread; CPU time, which a busy machine barely changes,
 * while it only lengthens the judged run's wall time: noise helps a right
 * program here, never hurts it):
 *   mutex:  every increment under ONE mutex that all the counting threads
 *           lock (a private mutex per thread is no lock at all), and a locked
 *           increment costs several times a local one (measured 10-20x here);
 *   atomic: no lock per increment, and an increment costs the counting
 *           threads several times a local one's CPU (an atomic read-modify-
 *           write: 6-10 ns of CPU here, alone or contended, beside 0.3-0.9 ns
 *           for a local one): one atomic_fetch_add(n) per thread, or local
 *           sums, are not atomic mode. (A lock of the program's own around a
 *           load and a store, which the probe cannot count and which costs
 *           about an atomic's time, is caught by the stall test: judge_stalls.)
 *   local:  a lock only to add the subtotal.
 * Every mode: each counting thread the kernel saw left its tally (written as
 * its start routine returns: a raw exit_group cannot skip it).
 * Fails v and returns true if not. */
static bool judge_locking(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    double increments = expected_total(p);
    struct lock_view lv;
    lock_view(o, &lv);
    long locks = lv.known ? lv.shared + lv.others : obs_calls(o, "lock");
    bool counted = o->nevents > 0; /* the probe watched the run (not a static binary) */
    double each = o->wall / increments, local = p->calibrated > 0 ? CALIBRATE_CPU / (double)p->calibrated : 0;
    if (lv.known && lv.missing_tid) {
        verdict_fail(v, "lock-tally-missing", "%s mode: the lock tally of thread %d is missing: the probe writes it "
                     "when the thread's function returns (or it calls pthread_exit), and the kernel saw that thread "
                     "run, so it ended some other way", p->mode, lv.missing_tid);
    } else if (!strcmp(p->mode, "mutex")) {
        if (lv.known && lv.shared < MUTEX_LOCK_SHARE * increments) {
            verdict_fail(v, "lock-around-loop", "mutex mode: the total is right, but %ld lock%s on the shared mutex, "
                         "%ld on others, for %.0f increments: each increment must be under the one mutex all the "
                         "threads share, one lock each (a mutex only one thread locks protects nothing)", lv.shared,
                         lv.shared == 1 ? "" : "s", lv.others, increments);
        } else if (!lv.known && counted && locks < MUTEX_LOCK_SHARE * increments) {
            verdict_fail(v, "lock-around-loop", "mutex mode: the total is right, but locks were taken %ld time%s for "
                         "%.0f increments: each increment must be under the mutex, one lock each", locks,
                         locks == 1 ? "" : "s", increments);
        } else if (local > 0 && each < MUTEX_MIN_RATIO * local) {
            verdict_fail(v, "lock-around-loop", "mutex mode: %.2f ns per increment, where a local increment "
                         "takes %.2f ns here: a lock and an unlock per increment cost more than that (%.0fx "
                         "at least); the mutex was not taken for each increment", each * 1e9, local * 1e9,
                         MUTEX_MIN_RATIO);
        }
    } else if (!strcmp(p->mode, "atomic")) {
        if (counted && locks >= ATOMIC_MAX_LOCK_SHARE * increments)
            verdict_fail(v, "atomic-not-lock", "atomic mode: locks were taken %ld times for %.0f increments: that is "
                         "mutex mode again, not one atomic read-modify-write", locks, increments);
        else if (local > 0 && atomic_cpu(o) / increments < ATOMIC_MIN_RATIO * local)
            verdict_fail(v, "atomic-per-increment", "atomic mode: %.2f ns of the threads' CPU per increment, where "
                         "a local increment takes %.2f ns here: an atomic read-modify-write on a counter the "
                         "threads share costs several times that (%.0fx at least); the increments were not each "
                         "one atomic operation (one atomic add of a subtotal is local mode)",
                         atomic_cpu(o) / increments * 1e9, local * 1e9, ATOMIC_MIN_RATIO);
    } else if (!strcmp(p->mode, "local") && counted && locks > LOCAL_MAX_LOCKS_PER_THREAD * p->count + 16) {
        verdict_fail(v, "lock-per-increment", "local mode: locks were taken %ld times by %d threads: a thread "
                     "counts in its own variable and locks only to add its subtotal, once", locks, p->count);
    }
    if (v->status == ST_FAIL)
        describe_params(p, v);
    return v->status == ST_FAIL;
}

/* --- The stall test (atomic mode) ------------------------------------------------------
 * A lock-free increment never makes one thread wait for another: the tracer
 * stops the first counting thread in the middle of its count and keeps it
 * stopped, and the second must still finish its whole count (its exit, seen
 * by the tracer). With a lock of the program's own (an atomic_flag spinlock,
 * a compare-and-swap loop, a futex), a stop that lands while the first holds
 * the lock leaves the second spinning (its CPU grows well past its count's)
 * or asleep. Judged from the watched thread's CPU and its time asleep (the
 * schedstat run delay, time waiting for a CPU, is not the program's doing):
 * a right program always finishes, so repeating cannot hurt it; a stop lands
 * inside a lock only part of the time, so the test is repeated. */

static bool is_thread_worker(const struct observation *o, const struct task *t);

/* A stall run whose first two counting threads never lived at the same time (the second
 * made after the first ended, or fewer than two: the program joins each thread before it
 * makes the next): no thread could wait for another, and structure and timing judge that. */
static bool threads_apart(const struct observation *o)
{
    return workers_apart(o, is_thread_worker);
}

/* A stall run's outcome as the judges read it (turns.h: stall_outcome_of). */
static enum stall_outcome thread_stall_outcome(const struct observation *o)
{
    return stall_outcome_of(o, is_thread_worker, patterns[P_FINISHED]);
}

/* cpu's turns test (turns.h): in local mode each thread counts alone. */
static const struct turns turns = {.is_worker = is_thread_worker, .finished = "Thread {i} finished", .worker = "counting thread", .workers = "counting threads",
                                   .hint = "lock-around-loop"};

/* s of CPU per increment of the first atomic run's counting threads (contended: >= a lone thread's). */
static double atomic_cost(const struct params *p, const struct observation *o)
{
    double c = atomic_cpu(o) / expected_total(p);
    return c < 2e-9 ? 2e-9 : c > 2e-7 ? 2e-7 : c;
}

/* s of CPU per increment a stall try is sized by, after `missed` tries that ended before their
 * stop. The first run's rate can be far above two threads' (3-4 threads spinning for a lock on 2
 * CPUs: one descheduled while it holds the lock, the others spin out their time slices), so the
 * count can end before the stop: each try that ended so makes the next ones count twice as much. */
static double stall_cost(const struct params *first, const struct observation *first_run, int missed)
{
    return atomic_cost(first, first_run) / (double)(1 << (missed < STALL_MISSED_MAX ? missed : STALL_MISSED_MAX));
}

/* A try that ended before the tracer could stop a thread. */
static bool stall_missed(const struct observation *o)
{
    return thread_stall_outcome(o) == STALL_LATE && o->stall.t < 0;
}

extern const struct lab lab3;

static bool stall(const struct check *c, struct rng *r, const struct params *first,
                  const struct observation *first_run, const struct observation *const *stalls, size_t n,
                  struct params *p)
{
    if (!first_run->probe_must_speak || first->defaults)
        return false; /* --exec: an interpreter's own lock (Python's GIL) makes its threads wait */
    if (!strcmp(c->name, "cpu"))
        return turns_next(&turns, &lab3, r, first, first_run, stalls, n, p);
    if (n == 0) {
        /* Only for a run the rest of the check passes: an exact total and no lock per increment. */
        struct parsed out;
        parse_output(&lab3, first_run, &out);
        bool exact = total_count(&out) == expected_total(first);
        parsed_free(&out);
        if (!exact || obs_calls(first_run, "lock") >= ATOMIC_MAX_LOCK_SHARE * expected_total(first))
            return false;
    }
    int decided = 0, caught = 0, serial = 0, missed = 0;
    for (size_t i = 0; i < n; i++) {
        enum stall_outcome s = thread_stall_outcome(stalls[i]);
        serial += s == STALL_LATE && threads_apart(stalls[i]);
        missed += stall_missed(stalls[i]);
        decided += s == STALL_FINISHED || s == STALL_SPUN || s == STALL_SLEPT;
        caught += s == STALL_SPUN || s == STALL_SLEPT;
        if (!stalls[i]->traced || s == STALL_FAILED || s == STALL_NONE)
            return false; /* the tracer cannot do it here */
    }
    if (caught >= STALL_CAUGHT || decided - caught >= STALL_DECIDED || n >= STALL_TRIES)
        return false;
    if (decided + (int)(STALL_TRIES - n) < STALL_MIN_DECIDED)
        return false; /* too few tries left to tell enough: not judged already (a try can still only catch) */
    if (n >= STALL_SERIAL_TRIES && serial == (int)n)
        return false; /* one thread after another, every time: the test cannot apply */
    double each = stall_cost(first, first_run, missed);
    long long it = (long long)(STALL_WORK / each);
    *p = (struct params){.plan = PLAN_RUN, .calibrated = first->calibrated, .count = 2,
                         .iterations = it < 200000 ? 200000 : it > 20000000 ? 20000000 : it};
    snprintf(p->mode, sizeof p->mode, "atomic");
    double work = each * (double)p->iterations;
    p->stall.at = work * (STALL_AT_MIN + STALL_AT_SPAN * rng_uniform(r));
    p->stall.budget = fmax(STALL_BUDGET_MIN, STALL_BUDGET_WORKS * work);
    p->stall.sleep = STALL_SLEEP;
    p->stall.wall = STALL_WALL;
    set_args(p);
    return true;
}

/* Fails v if a stall run shows a thread that waited for the stopped one;
 * notes what the stall runs showed otherwise. */
static void judge_stalls(const struct evidence *ev, struct verdict *v)
{
    int decided = 0, tries = 0, serial = 0, library = 0, after_count = 0, missed = 0, caught_missed = 0;
    const struct observation *first_caught = NULL;
    const struct params *caught_p = NULL;
    int caught = 0;
    double most_cpu = 0, most_delay = 0;
    for (size_t i = 1; i < ev->nruns; i++) {
        const struct observation *o = &ev->runs[i];
        if (ev->params[i].stall.at <= 0)
            continue;
        tries++;
        const struct stall_test *st = &o->stall;
        enum stall_outcome s = thread_stall_outcome(o);
        serial += s == STALL_LATE && threads_apart(o);
        library += s == STALL_LIBRARY;
        after_count += s == STALL_LATE && (st->outcome == STALL_SLEPT || st->outcome == STALL_SPUN);
        if (s == STALL_FINISHED) {
            decided++;
            most_cpu = fmax(most_cpu, st->cpu);
            most_delay = fmax(most_delay, st->delay);
        } else if (s == STALL_SPUN || s == STALL_SLEPT) {
            decided++;
            caught++;
            if (!first_caught) {
                first_caught = o;
                caught_p = &ev->params[i];
                caught_missed = missed;
            }
        }
        missed += stall_missed(o);
    }
    if (tries == 0) {
        if (ev->exec_mode)
            verdict_note(v, "  not judged under --exec: whether a thread ever waits for another (an "
                         "interpreter's own lock, such as Python's GIL, makes its threads wait)");
        else if (!ev->runs[0].traced)
            verdict_note(v, "  not judged: whether a thread ever waits for another (the tracer stops one thread; "
                         "%s)", ev->runs[0].trace_off ? ev->runs[0].trace_off : "the run was not traced");
        return;
    }
    if (first_caught) {
        const struct stall_test *st = &first_caught->stall;
        double work = stall_cost(&ev->params[0], &ev->runs[0], caught_missed) * (double)caught_p->iterations;
        if (st->outcome == STALL_SPUN)
            verdict_fail(v, "atomic-waited", "atomic mode made a thread wait for another: with one counting thread "
                         "stopped, the other ran %.2f s of CPU and did not finish its %lld increments (about %.3f s "
                         "of CPU at this program's atomic rate): it spun, waiting for the stopped thread (in %d of %d "
                         "tries)", st->cpu,
                         caught_p->iterations, work, caught, decided);
        else
            verdict_fail(v, "atomic-waited", "atomic mode made a thread wait for another: with one counting thread "
                         "stopped, the other slept %.2f s and did not finish its %lld increments (about %.3f s of "
                         "CPU at this program's atomic rate): it was blocked, waiting for the stopped thread (in %d of "
                         "%d tries)",
                         st->t_end - st->t - st->cpu - st->delay, caught_p->iterations, work, caught, decided);
        verdict_note(v, "  a lock of the program's own (a spinlock on an atomic_flag, a compare-and-swap loop, a "
                     "futex): a thread stopped while it held the lock kept the other from counting. One atomic "
                     "read-modify-write per increment (atomic_fetch_add) never waits");
        verdict_note(v, "  (the grader stopped the first counting thread, tid %d, with ptrace %.3f s into the run, "
                     "after %.3f s of its CPU, and watched the second, tid %d, for %.2f s: %.2f s on a CPU, %.2f s "
                     "waiting for one; then let the first go on)", st->stopped_tid,
                     st->t, st->stopped_cpu, st->watched_tid, st->t_end - st->t, st->cpu, st->delay);
        describe_params(caught_p, v);
    } else if (decided == 0 && serial == tries && threads_apart(&ev->runs[0])) {
        /* (Only when the judged run's threads did not overlap either: a program that ran its
         * threads one after another only in the short stall runs would dodge the test.) */
        verdict_note(v, "  not judged: whether a thread ever waits for another (the tracer stops one thread, the "
                     "other must finish): in %d tries the threads never lived at the same time (structure and "
                     "timing judge that)", tries);
    } else if (decided < STALL_MIN_DECIDED && 2 * after_count >= tries - decided) {
        /* Not the machine: a thread waited for the stopped one after its count (or the stopped one
         * was inside its last printf): a wait that cannot be told from a lock's. */
        v->status = ST_SKIP;
        sbuf_free(&v->summary);
        sbuf_printf(&v->summary, "not judged: whether a thread ever waits for another (the tracer stops one thread, "
                    "the other must finish) could be told in only %d of %d tries, at least %d needed: in %d a thread "
                    "had counted and then waited (asleep or spinning) until the stopped one went on (a barrier after "
                    "the count?). "
                    "Atomic mode needs no wait between threads: each one counts, then ends",
                    decided, tries, STALL_MIN_DECIDED, after_count);
    } else if (decided < STALL_MIN_DECIDED && 2 * library >= tries - decided) {
        /* Not the machine: the stopped thread was inside a library call holding that library's lock. */
        v->status = ST_SKIP;
        sbuf_free(&v->summary);
        sbuf_printf(&v->summary, "not judged: whether a thread ever waits for another (the tracer stops one thread, "
                    "the other must finish) could be told in only %d of %d tries, at least %d needed: in %d the "
                    "stopped thread was inside a library call and the other waited on that library's lock (stdio, "
                    "malloc). Atomic mode needs no library call per increment: one atomic_fetch_add",
                    decided, tries, STALL_MIN_DECIDED, library);
    } else if (decided < STALL_MIN_DECIDED) {
        /* Too few tries could tell: a lock would slip through too often to call it passed. */
        v->status = ST_SKIP;
        sbuf_free(&v->summary);
        sbuf_printf(&v->summary, "skipped: the machine was busy: whether a thread ever waits for another (the "
                    "tracer stops one thread, the other must finish) could be told in only %d of %d tries, at "
                    "least %d needed: the threads did not count at the same time", decided, tries,
                    STALL_MIN_DECIDED);
    } else {
        sbuf_printf(&v->summary, "; with one thread stopped the other always finished (%d of %d tries; at most "
                    "%.3f s of CPU)", decided, tries, most_cpu);
    }
}

/* Locks the probe saw the program's threads take: per thread its tally, or
 * before that its last "lockprogress" record (at each power of two): a lower
 * bound for a run stopped before its threads ended. */
static long locks_at_least(const struct observation *o)
{
    long sum = 0;
    for (size_t t = 0; t < o->ntasks; t++) {
        long most = 0;
        for (size_t i = 0; i < o->nevents; i++) {
            const struct call_event *e = &o->events[i];
            if (e->tid == o->tasks[t].tid && (!strcmp(e->call, "locktally") || !strcmp(e->call, "lockprogress")))
                most = e->count > most ? e->count : most;
        }
        sum += most;
    }
    return sum;
}

/* correctness-MODE: exactly NTHREADS x ITERATIONS. */
static void judge_correctness(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (skip_if_defaults(ev, v))
        return;
    /* Local mode with a lock per increment can run into its time limit (a contended lock costs
     * 30-200 ns, the limit allows 4 local increments' time): the locks taken until then say why. */
    long taken = locks_at_least(o);
    if (!strcmp(p->mode, "local") && !ended_well(o) && taken > LOCAL_MAX_LOCKS_PER_THREAD * p->count + 16) {
        struct sbuf end = {0};
        describe_end(o, &end);
        verdict_fail(v, "lock-per-increment", "local mode: the program %s, and by then its threads had taken "
                     "%ld locks or more (%d threads): a thread counts in its own variable and locks only to add "
                     "its subtotal, once", end.data, taken, p->count);
        sbuf_free(&end);
        quote_output(o, v, 12);
        describe_params(p, v);
        return;
    }
    if (fail_if_crashed(o, v)) {
        describe_params(p, v);
        return;
    }
    struct parsed out;
    parse_output(ev->lab, o, &out);
    if (fail_if_total_wrong(ev, &out, v, "")) {
        double got = total_count(&out), want = expected_total(p);
        if (got > 0 && got < want)
            verdict_note(v, "  %.0f increments (%.2f%%) were lost", want - got, 100 * (want - got) / want);
        if (!strcmp(p->mode, "atomic") && got > 0 && got < want) {
            verdict_hint(v, "load-then-store"); /* volatile-not-atomic comes with the race it makes (race-atomic) */
        }
    } else if (!judge_locking(ev, v)) {
        sbuf_printf(&v->summary, "%s: %d threads × %lld = %.0f, exact", p->mode, p->count, p->iterations,
                    expected_total(p));
        struct lock_view lv;
        lock_view(o, &lv);
        long locks = obs_calls(o, "lock");
        if (lv.known)
            sbuf_printf(&v->summary, "; %ld lock%s on the shared mutex, %ld on others", lv.shared,
                        lv.shared == 1 ? "" : "s", lv.others);
        else if (o->nevents > 0)
            sbuf_printf(&v->summary, "; %ld lock%s taken", locks, locks == 1 ? "" : "s");
        if (!strcmp(p->mode, "mutex") && p->calibrated > 0)
            sbuf_printf(&v->summary, "; %.1f ns per increment (a local one: %.2f ns)",
                        o->wall / expected_total(p) * 1e9, CALIBRATE_CPU / (double)p->calibrated * 1e9);
        else if (!strcmp(p->mode, "atomic") && p->calibrated > 0)
            sbuf_printf(&v->summary, "; %.1f ns of CPU per increment (a local one: %.2f ns)",
                        atomic_cpu(o) / expected_total(p) * 1e9, CALIBRATE_CPU / (double)p->calibrated * 1e9);
        if (!strcmp(p->mode, "atomic"))
            judge_stalls(ev, v);
    }
    parsed_free(&out);
}

/* Quotes one line of a race report (at most 200 bytes), without the grader's
 * scratch folder: "/tmp/grade.X/threadcount.c:69" becomes "threadcount.c:69". */
static void quote_report_line(struct verdict *v, const char *line, size_t len)
{
    struct sbuf q = {0};
    const char *pid = len > 2 && !strncmp(line, "==", 2) ? strstr(line + 2, "== ") : NULL;
    if (pid && (size_t)(pid + 3 - line) <= len) { /* valgrind's "==123== " */
        len -= (size_t)(pid + 3 - line);
        line = pid + 3;
    }
    if (len > 200)
        len = 200;
    for (size_t i = 0; i < len;) {
        if (line[i] == '/' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '(')) {
            size_t end = i, last = i;
            while (end < len && line[end] != ' ' && line[end] != ':' && line[end] != ')')
                if (line[end++] == '/')
                    last = end;
            if (strncmp(line + last, "prog", 4) != 0 && end > last && line[end] == ':') {
                i = last; /* a source file: keep only its name */
                continue;
            }
            sbuf_add(&q, line + i, end - i);
            i = end;
            continue;
        }
        sbuf_add(&q, line + i, 1);
        i++;
    }
    verdict_note(v, "  | %s", q.data ? q.data : "");
    sbuf_free(&q);
}

/* Quotes up to max lines of text from the line holding at. */
static void quote_from(struct verdict *v, const char *at, int max)
{
    for (int k = 0; k < max && at && *at; k++) {
        const char *nl = strchr(at, '\n');
        size_t len = nl ? (size_t)(nl - at) : strlen(at);
        if (len > 0)
            quote_report_line(v, at, len);
        at = nl ? nl + 1 : NULL;
    }
}

/* race-MODE: ThreadSanitizer (or helgrind) reports nothing, and the total is right. */
static void judge_race(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    if (skip_if_defaults(ev, v))
        return;
    bool tsan = o->tool && !strcmp(o->tool, "tsan");
    int races = 0, others = 0;
    const char *first_other = NULL;
    struct sbuf where = {0};
    if (tsan) {
        for (size_t i = 0; i < o->nlines; i++) {
            const char *s = o->lines[i].text;
            if (o->lines[i].stream != STREAM_ERR)
                continue;
            if (strstr(s, "WARNING: ThreadSanitizer: data race"))
                races++;
            else if (strstr(s, "WARNING: ThreadSanitizer:") && !others++)
                first_other = strstr(s, "ThreadSanitizer:") + 17;
            if (strstr(s, "SUMMARY: ThreadSanitizer:") && where.len < 600)
                sbuf_printf(&where, "%s\n", s);
        }
    } else if (o->valgrind_log) {
        for (const char *s = o->valgrind_log; (s = strstr(s, "Possible data race")); s++)
            races++;
    }
    const char *tool = tsan ? "TSan" : "helgrind";
    if (races > 0) {
        verdict_fail(v, "data-race", "%s saw %d data race%s in %s mode", tool, races, races == 1 ? "" : "s",
                     p->mode);
        if (!strcmp(p->mode, "atomic"))
            verdict_hint(v, "volatile-not-atomic");
        quote_from(v, where.data, 4);
        if (tsan) {
            for (size_t i = 0; i < o->nlines; i++)
                if (strstr(o->lines[i].text, "WARNING: ThreadSanitizer: data race")) {
                    for (size_t k = i; k < o->nlines && k < i + 8; k++)
                        quote_report_line(v, o->lines[k].text, strlen(o->lines[k].text));
                    /* Which variable: "Location is global 'total' of size 8 ..." */
                    for (size_t k = i + 8; k < o->nlines && k < i + 40; k++)
                        if (strstr(o->lines[k].text, "Location is")) {
                            quote_report_line(v, o->lines[k].text, strlen(o->lines[k].text));
                            break;
                        }
                    break;
                }
        } else {
            const char *at = strstr(o->valgrind_log, "Possible data race");
            while (at > o->valgrind_log && at[-1] != '\n')
                at--;
            quote_from(v, at, 8);
        }
    } else if (others > 0) {
        verdict_fail(v, strstr(first_other, "thread leak") ? "not-joined" : NULL, "TSan warned: %s",
                     first_other);
        quote_from(v, where.data, 4);
    }
    if (v->status == ST_FAIL) {
        verdict_note(v, "  (a race fails even when the total comes out right: the next run, another machine "
                     "or -O0 can lose updates)");
        describe_params(p, v);
        sbuf_free(&where);
        return;
    }
    sbuf_free(&where);
    if (tsan && o->exited && o->exit_code == 66) {
        verdict_fail(v, "data-race", "ThreadSanitizer stopped %s mode at its first report (exit status 66), and "
                     "that report never reached stderr: a race, hidden", p->mode);
        describe_params(p, v);
        return;
    }
    if (fail_if_crashed(o, v))
        return;
    struct parsed out;
    parse_output(ev->lab, o, &out);
    if (!fail_if_total_wrong(ev, &out, v, "no race seen, but that says nothing of a mode that is not right: "))
        sbuf_printf(&v->summary, "%s saw no data race: %d threads × %lld increments, total right", tool, p->count,
                    p->iterations);
    parsed_free(&out);
}

/* structure: NTHREADS threads made, all ended before the process did, one process. From the
 * kernel (the tracer): it sees every thread and process however made; joins are futex waits it
 * does not stop at, so the probe's pthread_join count is used too, cross-checked
 * (obs_cross_check: the probe may not say more than the kernel saw). */
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
    int n = p->count, procs = obs_kernel_processes(o) - 1, creates = obs_threads_of(o, m->tgid);
    long joins = obs_calls(o, "pthread_join");
    if (procs > 0)
        verdict_fail(v, "processes-not-threads", "the kernel saw %d more process%s (fork, vfork, clone or "
                     "posix_spawn): this lab runs its work in threads, one process", procs, procs == 1 ? "" : "es");
    if (creates == 0)
        verdict_fail(v, "no-threads", "the kernel saw no thread started, for NTHREADS = %d", n);
    else if (creates != n)
        verdict_fail(v, "no-threads", "the kernel saw %d thread%s started for NTHREADS = %d", creates,
                     creates == 1 ? "" : "s", n);
    /* A thread still running when the process called exit_group was never joined: exit killed it. */
    int unjoined = 0;
    double last_start = -1, first_end = -1, group_exit = -1;
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (t->tgid == m->tgid && t->exit_group_t >= 0 && (group_exit < 0 || t->exit_group_t < group_exit))
            group_exit = t->exit_group_t;
    }
    for (size_t i = 1; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (!t->is_thread || t->tgid != m->tgid)
            continue;
        if (t->end < 0 || (group_exit >= 0 && t->end >= group_exit))
            unjoined++;
        if (t->start > last_start)
            last_start = t->start;
        if (t->end >= 0 && (first_end < 0 || t->end < first_end))
            first_end = t->end;
    }
    if (unjoined > 0)
        verdict_fail(v, "not-joined", "%d thread%s still running when the process exited: never joined",
                     unjoined, unjoined == 1 ? " was" : "s were");
    else if (creates > 0 && o->probe_on && joins < creates && !o->tampering)
        verdict_fail(v, "not-joined", "pthread_join returned %ld time%s for %d thread%s (the probe's count)", joins,
                     joins == 1 ? "" : "s", creates, creates == 1 ? "" : "s");
    /* The kernel: a thread ended before the last one started. A busy machine can delay the main
     * thread's next create past a short thread's end, so when the probe saw joins, the first of
     * them must also have returned before the last create (a correct program joins only after). */
    double probe_last_create = obs_call_time(o, "pthread_create", obs_calls(o, "pthread_create"));
    double probe_first_join = obs_call_time(o, "pthread_join", 1);
    bool probe_agrees = joins == 0 || (probe_first_join >= 0 && probe_first_join < probe_last_create);
    if (creates > 1 && first_end >= 0 && first_end < last_start && probe_agrees)
        verdict_fail(v, "sequential-join", "a thread ended (at %.4f s) before the last one was started (at %.4f s): "
                     "a thread was waited for before the others were started", first_end, last_start);
    if (v->status == ST_FAIL) {
        describe_params(p, v);
        note_kernel_view(o, v);
    } else {
        sbuf_printf(&v->summary, "the kernel saw one process and %d threads, all started before any ended, all "
                    "ended before the process (%ld joined)", n, joins);
    }
}

/* Fails v for a run that cannot be timed: crashed, wrong total, or a thread's lines missing. */
static bool untimeable(const struct evidence *ev, const struct parsed *out, struct verdict *v)
{
    if (fail_if_crashed(&ev->runs[0], v))
        return true;
    return fail_if_total_wrong(ev, out, v, "not timed, the answer is wrong: ");
}

/* timing: the threads ran at the same time (their lines overlap), and Total time is wall time. */
static void judge_timing(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    struct parsed out;
    parse_output(ev->lab, o, &out);
    if (untimeable(ev, &out, v)) {
        parsed_free(&out);
        return;
    }
    double span, sum, ratio = overlap(&out, p->count, &span, &sum);
    if (ratio < 0) {
        verdict_fail(v, "format", "some thread has no 'started' or 'finished' line to time");
    } else if (span < MIN_SPAN && p->defaults) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "too little work to time at the defaults (%.3f s): run with arguments",
                    span);
    } else if (span < MIN_SPAN || sum < MIN_SPAN) {
        /* By the threads' own time too: created far apart on a busy machine, empty threads span more. */
        verdict_fail(v, "thread-loop-removed", "the threads' work took only %.3f s for %lld increments each: there is "
                     "nothing to overlap (did the compiler remove the counting loop?)", sum < span ? sum : span,
                     p->iterations);
    } else if (p->count >= 2 && ratio < OVERLAP_MIN) {
        verdict_fail(v, "sequential-join", "the threads ran one after another: their work adds up to %.2f s "
                     "within a span of %.2f s (×%.2f; at the same time it would be ×%d)", sum, span, ratio,
                     p->count);
        for (int t = 1; t <= p->count; t++)
            verdict_note(v, "  thread %d: started at %.3f s, finished at %.3f s", t,
                         find_event(&out, P_STARTED, t)->t, find_event(&out, P_FINISHED, t)->t);
    }
    const struct out_event *tt = find_event(&out, P_TIME, -1);
    if (v->status != ST_SKIP && tt && (tt->m.field[0] > o->wall + 0.05 || tt->m.field[0] < 0.8 * o->wall - 0.03))
        verdict_fail(v, "total-time", "the program says \"%s\", the grader measured %.3f s of wall time "
                     "(and %.3f s of CPU)", tt->text, o->wall, obs_cpu(o));
    if (v->status == ST_FAIL)
        describe_params(p, v);
    else if (v->status == ST_PASS)
        sbuf_printf(&v->summary, "%d threads at the same time: %.2f s of work within %.2f s (×%.2f); "
                    "Total time ≈ %.2f s measured", p->count, sum, span, ratio, o->wall);
    parsed_free(&out);
}

/* cpu: the threads ran on several CPUs at once: CPU/wall well above 1. */
/* A worker: a thread of the program's process other than its first. */
static bool is_thread_worker(const struct observation *o, const struct task *t)
{
    return o->ntasks > 0 && t->is_thread && t->tgid == o->tasks[0].tgid;
}

/* The verdict from the workers' side: both figures that are known must reach the bar. */
/* How far apart the counting threads ended, as a share of their whole span (the kernel's
 * exit times): threads that share the CPUs fairly end together (near 0) whatever the load;
 * N equal counts done one at a time end evenly spread, (N-1)/N. -1: not known. */
static double finish_spread(const struct observation *o, int *nworkers)
{
    double first_start = INFINITY, first_end = INFINITY, last_end = -INFINITY;
    *nworkers = 0;
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (!is_thread_worker(o, t) || t->end < 0)
            continue;
        (*nworkers)++;
        first_start = fmin(first_start, t->start);
        first_end = fmin(first_end, t->end);
        last_end = fmax(last_end, t->end);
    }
    return *nworkers >= 2 && last_end > first_start ? (last_end - first_end) / (last_end - first_start) : -1;
}

/* Ended this far apart (serial: 0.67 for 3 threads, 0.75 for 4), the threads took turns at the count. */
#define SERIAL_SPREAD 0.45
/* Threads that spin while another counts burn (N+1)/2 counts' CPU each on average (2x for 3
 * threads); parallel ones burn about one count's worth, a little more beside other programs. */
#define SPIN_WASTE 1.6

/* The workers' CPU in run o over the CPU their counts need (one worker's, from the paired runs):
 * about 1 when they only counted, well above when they spun waiting. -1: not known. */
static double cpu_waste(const struct evidence *ev, const struct observation *o, const struct params *p)
{
    double need = ev->npairs > 0 && ev->pair_one > 0 ? ev->pair_one * (double)p->iterations * p->count : 0;
    double used = need > 0 ? obs_workers_cpu(o) : 0;
    return need > 0 && used > 0 ? used / need : -1;
}

static void judge_cpu_view(const struct evidence *ev, const struct observation *o, const struct parallel_view *pv,
                           double ratio, double lines, struct verdict *v)
{
    const struct params *p = &ev->params[0];
    bool conc_ok = parallel_conc_ok(pv), speed_ok = parallel_speed_ok(pv);
    /* A lock around each whole count passes both figures when the waiters spin and the one-worker
     * runs measure slow; the threads' exit times still show one count after another. */
    int nworkers;
    double spread = finish_spread(o, &nworkers), waste = cpu_waste(ev, o, p);
    /* Uneven ends alone are no proof: beside other programs the CPUs are not shared fairly (a
     * reference ended 50% apart with a speed-up of 1.90 under load); spinning also burns CPU. */
    bool serial_ends = nworkers >= 3 && spread >= SERIAL_SPREAD && (waste < 0 || waste >= SPIN_WASTE);
    struct sbuf d = {0};
    describe_parallel(pv, "threads", &d);
    double cpu = obs_cpu(o), idle = ev->cpus * o->wall - cpu - o->others_cpu, waited = 0;
    bool crowded = !(conc_ok && speed_ok) && parallel_crowded_out(ev, o, p->count, is_thread_worker, &waited);
    if (conc_ok && speed_ok && serial_ends) {
        verdict_fail(v, "lock-around-loop", "the %d threads ended one after another (%.0f%% of their span between "
                     "the first end and the last; threads that share the CPUs end together): only one counted at "
                     "a time: %s", nworkers, spread * 100, d.data);
        if (waste > 0)
            verdict_note(v, "  their CPU: %.1f times what their counts need (one thread alone, same count): the "
                         "rest was spent waiting on CPUs", waste);
        verdict_note(v, "  the threads were on CPUs together (spinning while they waited), yet took turns at the "
                     "count: a lock held around the whole count");
        describe_params(p, v);
    } else if (conc_ok && speed_ok) {
        sbuf_printf(&v->summary, "%d threads in parallel on %d CPUs: %s", p->count, ev->cpus, d.data);
    } else if (o->others_cpu > BUSY_SHARE * ev->cpus * o->wall && idle < IDLE_ROOM * o->wall) {
        v->status = ST_SKIP;
        v->retry = true;
        sbuf_printf(&v->summary, "skipped: the machine was busy: other programs used %.2f of the %.2f CPU-seconds "
                    "of this run, so parallelism cannot be judged (%s)", o->others_cpu, ev->cpus * o->wall, d.data);
    } else if (crowded) {
        v->status = ST_SKIP;
        v->retry = true;
        sbuf_printf(&v->summary, "skipped: the machine was busy: the threads waited %.2f s for a CPU while other "
                    "programs used %.2f CPU-seconds of this run, so parallelism cannot be judged (%s)", waited,
                    o->others_cpu, d.data);
    } else {
        /* On CPUs together but no faster than one: they spun or waited for each other (a lock). */
        const char *hint = conc_ok && !speed_ok ? "lock-around-loop" : lines >= OVERLAP_MIN ? "lock-around-loop"
                           : lines >= 0 ? "sequential-join" : "not-parallel";
        verdict_fail(v, hint, "%s%s%s: %s", conc_ok ? "" : "the threads were not on CPUs at the same time",
                     conc_ok || speed_ok ? "" : ", and ",
                     speed_ok ? "" : "N threads took about as long as N counts one after another", d.data);
        if (conc_ok && !speed_ok)
            verdict_note(v, "  the threads were on CPUs together, yet no faster than one: only one made progress "
                         "at a time (a lock held around the whole count, spinning while waiting)");
        else if (!conc_ok && lines >= OVERLAP_MIN)
            verdict_note(v, "  the threads' lines overlap (×%.2f), so they were alive together, yet only one used "
                         "a CPU at a time: they waited for each other", lines);
        verdict_note(v, "  CPU/wall %.2f (spinning threads raise it without doing the work)", ratio);
        describe_params(p, v);
    }
    if (v->status == ST_FAIL)
        v->final = parallel_quiet(ev, o, p->count, is_thread_worker);
    sbuf_free(&d);
}

/* Any task of the program (a run whose threads the tracer did not see as workers). */
static bool is_any_task(const struct observation *o, const struct task *t)
{
    (void)o;
    (void)t;
    return true;
}

static void judge_cpu_checks(const struct evidence *ev, struct verdict *v);

static void judge_cpu(const struct evidence *ev, struct verdict *v)
{
    judge_cpu_checks(ev, v);
    judge_turns(&turns, ev, v);
}

static void judge_cpu_checks(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const struct params *p = &ev->params[0];
    struct parsed out;
    parse_output(ev->lab, o, &out);
    if (untimeable(ev, &out, v)) {
        parsed_free(&out);
        return;
    }
    double cpu = obs_cpu(o), work = expected_total(p);
    double want = p->calibrated > 0 ? work * CALIBRATE_CPU / (double)p->calibrated : 0;
    bool removed = want > 0 ? cpu < LOOP_REMOVED_SHARE * want : cpu < work * LOOP_REMOVED_NS * 1e-9;
    double span, sum, lines = overlap(&out, p->count, &span, &sum);
    if (removed && !p->defaults) {
        verdict_fail(v, "thread-loop-removed", "%d threads used %.3f s of CPU for %lld increments each (%.3f ns per "
                     "increment): the counting loop did not run", p->count, cpu, p->iterations, cpu / work * 1e9);
        if (want > 0)
            verdict_note(v, "  calibrated: about %.2f s of CPU expected", want);
    } else if (ev->cpus < 2) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "cannot judge: only 1 CPU here, so threads cannot run in parallel (CPU %.2f s, "
                    "wall %.2f s)", cpu, o->wall); /* the engine says what to do (a skip shows no hint) */
    } else if (cpu / p->count < MIN_JUDGEABLE_CPU) {
        v->status = ST_SKIP;
        sbuf_printf(&v->summary, "cannot judge: %.3f s of CPU per thread is too little work%s", cpu / p->count,
                    p->defaults ? " (the defaults): run with arguments" : "");
    } else {
        int k = p->count < ev->cpus ? p->count : ev->cpus;
        double ratio = o->wall > 0 ? cpu / o->wall : 0;
        /* From the workers' side when the run was traced: the threads' sampled CPU and the paired runs. */
        struct parallel_view pv;
        parallel_view(ev, o, p->count, is_thread_worker, &pv);
        if (pv.conc_known || pv.speed_known) {
            judge_cpu_view(ev, o, &pv, ratio, lines, v);
            parsed_free(&out);
            return;
        }
        /* Others took a good share of our CPUs and left none idle: the run could not show parallelism,
         * not the program's fault (a CPU left idle while one thread ran at a time is). The engine
         * tries a fresh run, and skips only if every one is like this. */
        double idle = ev->cpus * o->wall - cpu - o->others_cpu;
        if (ratio < PARALLEL_MIN && o->others_cpu > BUSY_SHARE * ev->cpus * o->wall && idle < IDLE_ROOM * o->wall) {
            v->status = ST_SKIP;
            v->retry = true;
            sbuf_printf(&v->summary, "skipped: the machine was busy: other programs used %.2f of the %.2f "
                        "CPU-seconds of this run, the threads %.2f, so parallelism cannot be judged (CPU/wall "
                        "×%.2f)", o->others_cpu, ev->cpus * o->wall, cpu, ratio);
        } else if (ratio < PARALLEL_MIN) {
            const char *hint = ratio < 0.8 ? "not-parallel" : lines >= OVERLAP_MIN ? "lock-around-loop"
                               : lines >= 0 ? "sequential-join" : "not-parallel";
            verdict_fail(v, hint, "CPU %.2f s over wall %.2f s = ×%.2f: one thread ran at a time (at least ×%.2f "
                         "expected; up to ×%d with %d threads on %d CPUs)", cpu, o->wall, ratio, PARALLEL_MIN, k,
                         p->count, ev->cpus);
            if (ratio < 0.8)
                verdict_note(v, "  below ×1: one busy thread alone reaches ×1, so the program slept or waited "
                             "for a CPU. If the machine was busy with other programs, grade again when it is idle");
            else if (lines >= OVERLAP_MIN)
                verdict_note(v, "  the threads' lines overlap (×%.2f), so they were alive together, yet "
                             "only one used a CPU: they waited for each other", lines);
            describe_params(p, v);
            if (o->others_cpu > 0.05)
                verdict_note(v, "  other programs used %.2f CPU-seconds meanwhile; %.2f were left idle",
                             o->others_cpu, idle > 0 ? idle : 0);
            v->final = parallel_quiet(ev, o, 1, is_any_task); /* no worker threads: the program's own wait */
        } else {
            sbuf_printf(&v->summary, "CPU %.2f s over wall %.2f s = ×%.2f: %d threads in parallel on %d CPUs", cpu,
                        o->wall, ratio, p->count, ev->cpus);
        }
    }
    parsed_free(&out);
}

/* --- The table of modes (epilogue) --------------------------------------------------- */

struct row {
    const char *mode;
    int threads;
    long long iterations;
};

/* One row of the table; returns its wall time if its total was right, else -1. */
static double table_row(const struct runner *rn, const struct params *base, const struct row *r, double *baseline,
                        struct sbuf *out)
{
    struct params p = {.plan = PLAN_RUN_PIPE, .calibrated = base->calibrated, .count = r->threads,
                       .iterations = r->iterations};
    snprintf(p.mode, sizeof p.mode, "%s", r->mode);
    set_args(&p);
    const struct observation *o = rn->run(rn->engine, PLAN_RUN_PIPE, &p);
    double want = expected_total(&p), got = -1;
    for (size_t i = 0; i < o->nlines; i++) {
        struct match m;
        if (o->lines[i].stream == STREAM_OUT && match_output_line(patterns[P_COUNT], &o->lines[i], &m)) {
            got = m.field[0];
            break;
        }
    }
    sbuf_printf(out, "  %-7s %7d %8.3f s %8.3f s  %7.1f ns  ", r->mode, r->threads, o->wall, obs_cpu(o),
                o->wall / want * 1e9);
    if (!ended_well(o)) {
        struct sbuf end = {0};
        describe_end(o, &end);
        sbuf_printf(out, "%12s  -      it %s\n", "-", end.data);
        sbuf_free(&end);
        return -1;
    }
    if (got < 0) {
        sbuf_printf(out, "%12s  -      no 'Total count' line\n", "-");
        return -1;
    }
    sbuf_printf(out, "%12.0f  %-6s ", got, got == want ? "right" : "WRONG");
    if (got == 0 && want > 0)
        sbuf_puts(out, "counted nothing: this mode is not written yet?");
    else if (got < want)
        sbuf_printf(out, "%.0f increments lost", want - got);
    else if (got > want)
        sbuf_printf(out, "%.0f too many", got - want);
    else if (!strcmp(r->mode, "racy"))
        sbuf_puts(out, "by luck: nothing was lost this time (a race is still a bug)");
    else if (r->threads == 1)
        sbuf_puts(out, "one thread doing all the work: the baseline");
    else if (*baseline > 0)
        sbuf_printf(out, "%.1f× the baseline's wall time", o->wall / *baseline);
    if (r->threads == 1 && got == want)
        *baseline = o->wall;
    sbuf_puts(out, "\n");
    return got == want ? o->wall : -1;
}

static void epilogue(const struct runner *rn, const struct params *base, int cpus, struct sbuf *out)
{
    if (base->defaults) {
        sbuf_puts(out, "\n(no table of modes with --defaults: it needs NTHREADS, ITERATIONS and MODE)\n");
        return;
    }
    long long it = base->calibrated > 0 ? base->calibrated / TABLE_DIVISOR : TABLE_MIN;
    it = it < TABLE_MIN ? TABLE_MIN : it > TABLE_MAX ? TABLE_MAX : it;
    int n = cpus < 2 ? 2 : cpus > MAX_THREADS ? MAX_THREADS : cpus;
    sbuf_printf(out, "\nThe four modes on this machine (%d CPU%s; %d threads × %lld increments, and one thread "
                "doing all %lld):\n", cpus, cpus == 1 ? "" : "s", n, it, n * it);
    sbuf_printf(out, "  %-7s %7s %10s %10s  %10s  %12s  %s\n", "mode", "threads", "wall", "CPU", "wall/inc",
                "total", "right?");
    const struct row rows[] = {
        {"local", 1, n * it}, {"racy", n, it}, {"mutex", n, it}, {"atomic", n, it}, {"local", n, it},
    };
    double baseline = -1, local = -1;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++)
        local = table_row(rn, base, &rows[i], &baseline, out);
    /* The leaderboard's figure: local mode's speedup over one thread doing all the work. */
    if (rn->figure && baseline > 0 && local > 0)
        rn->figure(rn->engine, "local-mode speedup", baseline / local, false);
    sbuf_printf(out, "  (wall/inc: wall time over all the increments. A lock per increment makes the threads take "
                "turns,\n   each turn costing a lock and an unlock%s;\n   local mode touches shared memory once "
                "per thread.)\n", cpus > 1 ? ", and the counter's cache line bounces between CPUs" : "");
}

/* --- The lab ------------------------------------------------------------------------ */

/* What main() in labs/lab3/threadcount.c refuses (NTHREADS 1-256, ITERATIONS
 * 0-10^12, one of four modes, at most three arguments), one class per kind;
 * each grading tries one list of every class (its rng picks which). */
static const struct bad_args_class bad_classes[] = {
    {"empty", {{"", NULL}, {"2", "", NULL}}},
    {"not a number", {{"abc", NULL}, {"2", "many", NULL}}},
    {"zero threads", {{"0", NULL}, {"0", "1000", NULL}}},
    {"negative", {{"-2", NULL}, {"2", "-5", NULL}}},
    {"trailing junk", {{"2x", NULL}, {"2", "1000x", NULL}, {"2.5", NULL}}},
    {"out of range", {{"99999999999999999999", NULL}, {"2", "99999999999999999999", NULL}, {"257", NULL},
                      {"2", "1000000000001", NULL}}},
    {"extra arguments", {{"2", "1000", "local", "extra", NULL}}},
    {"unknown mode", {{"2", "1000", "fast", NULL}, {"2", "1000", "LOCAL", NULL}, {"2", "1000", "", NULL}}},
};

static const struct check checks[] = {
    {"build", "compiles with -Wall -Wextra -pthread", TAG_BUILD, 1, PLAN_BUILD, 1, true, judge_build},
    {"format", "prints exactly the contract's lines for fresh random arguments", TAG_FORMAT, 1, PLAN_RUN, 1, false,
     judge_format},
    {"order", "each thread's started line before its finished line; the totals last", TAG_ORDER, 1, PLAN_RUN, 1,
     false, judge_order},
    {"correctness-mutex", "mutex mode: the exact total, NTHREADS × ITERATIONS, in each of 3 runs", TAG_CORRECTNESS,
     2, PLAN_RUN, -CORRECTNESS_RUNS, false, judge_correctness},
    {"correctness-atomic", "atomic mode: the exact total in each of 3 runs", TAG_CORRECTNESS, 2, PLAN_RUN,
     -CORRECTNESS_RUNS, false, judge_correctness},
    {"correctness-local", "local mode: the exact total", TAG_CORRECTNESS, 2, PLAN_RUN, 1, false, judge_correctness},
    {"race-mutex", "mutex mode: a race detector (TSan, or helgrind) reports nothing", TAG_RACE, 2,
     PLAN_RACE, 1, true, judge_race},
    {"race-atomic", "atomic mode: the race detector reports nothing", TAG_RACE, 2, PLAN_RACE, 1, true, judge_race},
    {"race-local", "local mode: the race detector reports nothing", TAG_RACE, 2, PLAN_RACE, 1, true, judge_race},
    {"structure", "NTHREADS threads created, then all joined; one process (local mode)", TAG_STRUCTURE, 2,
     PLAN_RUN, 1, false, judge_structure},
    {"timing", "local mode: the threads run at the same time; Total time is the wall time (best of 3)",
     TAG_TIMING, 2, PLAN_RUN, 3, false, judge_timing},
    {"cpu", "local mode: CPU/wall well above 1, the threads run in parallel (best of 5)", TAG_CPU, 2, PLAN_RUN, 5,
     false, judge_cpu},
    {"memory", "valgrind: no invalid access, no leak, no descriptor left open", TAG_MEMORY, 1, PLAN_MEMCHECK, 1,
     true, judge_memory},
    {"errors", "bad arguments or an unknown mode: a message, exit status 2, no normal output", TAG_ERRORS, 1,
     PLAN_BAD_ARGS, 1, false, judge_bad_args},    INTEGRITY_CHECK, /* last: it reads every run the checks above made */
};

const struct lab lab3 = {
    .name = "lab3",
    .title = "pthread counter: racy, mutex, atomic, local (threads share memory)",
    .student_file = "threadcount.c",
    .program = "threadcount",
    .usage = "threadcount [NTHREADS [ITERATIONS [racy|mutex|atomic|local]]]",
    .draw = draw,
    .time_limit = time_limit,
    .time_budget = 35,
    .patterns = patterns,
    .npatterns = ARRAY_LEN(patterns),
    .bad_classes = bad_classes,
    .nbad_classes = ARRAY_LEN(bad_classes),
    .checks = checks,
    .nchecks = ARRAY_LEN(checks),
    .calibration = calibration,
    .calibrate = calibrate,
    .epilogue = epilogue,
    .variant = check_mode,
    .paired_check = "cpu",
    .one_worker = one_worker,
    .stall_checks = "correctness-atomic,cpu",
    .stall = stall,
    .bar_label = "Thread",
    .bar_from = P_STARTED,
    .bar_to = P_FINISHED,
};
