/* turns.c - the turns test: do a program's workers wait for each other? (turns.h)
 *
 * Pure: reads stall runs (observe.h, struct stall_test) and fills parameters
 * and verdicts. The stopping itself is the tracer's (trace.c, trace_stall).
 *
 * See also: turns.h, labs/lab2.c (parallel), labs/lab3.c (cpu).
 */
#include "turns.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TURNS_TRIES 8         /* stall runs at most */
#define TURNS_SERIAL_TRIES 3  /* this many tries whose workers never lived together: no more */
#define TURNS_AT_MIN 0.10     /* the stop: once the stopped worker has used this share of a count's CPU, */
#define TURNS_AT_SPAN 0.20    /* plus up to this much more (drawn), and half as much again */
#define TURNS_WATCH_AT 0.005  /* s of CPU the watched worker has used first (one waiting its turn
                               * may get a CPU only now and then) */
#define TURNS_BUDGET_MIN 0.25 /* s of CPU the watched worker may use without ending: spinning */
#define TURNS_BUDGET_WORKS 2.5 /* and at least this many times a count's CPU */
#define TURNS_SLEEP 0.25      /* s it may sleep without ending: blocked */
#define TURNS_WALL 4.0        /* s a stop lasts at most (a worker kept off the CPUs: no verdict) */

#define AFTER_LAST_LINE_CPU 0.02 /* s of CPU a worker uses after its finished line, at most (~1 ms) */
#define AFTER_WAIT_CPU 0.002 /* s of CPU a worker that waited at the end uses after the stop, at most (a barrier, its
                              * line, its exit: 0.1-0.5 ms measured; lock waiters counted on: 4-100 ms) */
#define COUNTED_SHARE 0.1   /* a watched worker that used this share of all its CPU during the stop, then slept, had counted */

typedef bool (*worker_fn)(const struct observation *o, const struct task *t);

/* The k-th worker of o in the order they were made (k from 1), or NULL. */
static const struct task *nth_worker(const struct observation *o, worker_fn is_worker, int k)
{
    for (size_t i = 0; i < o->ntasks; i++)
        if (is_worker(o, &o->tasks[i]) && --k == 0)
            return &o->tasks[i];
    return NULL;
}

bool workers_apart(const struct observation *o, worker_fn is_worker)
{
    const struct task *a = nth_worker(o, is_worker, 1), *b = nth_worker(o, is_worker, 2);
    return o->traced && o->ntasks > 0 && (!a || !b || (a->end >= 0 && b->start >= a->end));
}

/* The number (1: the first made) of o's worker with this tid, or 0. */
static int worker_number(const struct observation *o, worker_fn is_worker, int tid)
{
    for (int i = 1; nth_worker(o, is_worker, i); i++)
        if (nth_worker(o, is_worker, i)->tid == tid)
            return i;
    return 0;
}

/* Whether o printed worker k's finished line within [from, to] (s after the start). */
static bool finished_line(const struct observation *o, const char *finished, int k, double from, double to)
{
    for (size_t i = 0; i < o->nlines && k > 0; i++) {
        struct match m;
        if (o->lines[i].stream == STREAM_OUT && o->lines[i].t >= from && o->lines[i].t <= to &&
            match_output_line(finished, &o->lines[i], &m) && m.field[0] == k)
            return true;
    }
    return false;
}

enum stall_outcome stall_outcome_of(const struct observation *o, worker_fn is_worker, const char *finished)
{
    const struct stall_test *st = &o->stall;
    if (st->outcome != STALL_SLEPT && st->outcome != STALL_SPUN)
        return st->outcome;
    /* The stopped worker had printed its line, and ended with hardly any CPU more after the stop
     * (one that printed its line early and counted on gets no excuse). Only for a sleep: no
     * lock of the library's spins. */
    int k = worker_number(o, is_worker, st->stopped_tid);
    const struct task *stopped = k ? nth_worker(o, is_worker, k) : NULL;
    if (st->outcome == STALL_SLEPT && stopped && stopped->cpu > 0 &&
        stopped->cpu - st->stopped_cpu <= AFTER_LAST_LINE_CPU && finished_line(o, finished, k, 0, st->t_end))
        return STALL_LATE;
    /* The watched worker printed its finished line during the stop, then slept or spun: it had
     * counted, and waited for the others only after (a barrier at the end, an active one): no
     * wait for a turn. Lines are the program's, so this can only make a try tell nothing, never
     * make it pass. */
    int w = worker_number(o, is_worker, st->watched_tid);
    if (finished_line(o, finished, w, st->t, st->t_end))
        return STALL_LATE;
    /* The same when it printed its line only after the wait (a barrier, then the line): it used a
     * good share of all its CPU during the stop before it slept, so it was counting, not waiting
     * for a lock (a thread that waits for a lock the stopped one holds sleeps at once). */
    const struct task *watched = w ? nth_worker(o, is_worker, w) : NULL;
    if (st->outcome == STALL_SLEPT && watched && watched->cpu > 0 && st->cpu >= COUNTED_SHARE * watched->cpu)
        return STALL_LATE;
    /* Or it slept through the stop and used hardly any CPU after it: it had counted (before the
     * stop or during it) and waited at the end (a barrier, before its line or after it). A thread
     * that waits for a lock counts on once the stopped one goes on. */
    if (st->outcome == STALL_SLEPT && watched && watched->cpu > 0 && st->watched_cpu > 0 &&
        watched->cpu - st->watched_cpu - st->cpu <= AFTER_WAIT_CPU)
        return STALL_LATE;
    return st->outcome;
}

/* The least CPU s any worker of o used (0: none known): one worker's count, in a run whose
 * workers counted it (spinning while waiting lifts the others, never the least). */
static double least_worker_cpu(const struct observation *o, worker_fn is_worker)
{
    double least = 0;
    for (size_t i = 0; i < o->ntasks; i++)
        if (is_worker(o, &o->tasks[i]) && o->tasks[i].cpu > 0 && (least == 0 || o->tasks[i].cpu < least))
            least = o->tasks[i].cpu;
    return least;
}

/* Whether a stall run stopped the second worker (stall.swap), not the first. */
static bool stopped_second(const struct observation *o, worker_fn is_worker)
{
    const struct task *b = nth_worker(o, is_worker, 2);
    return b && b->tid == o->stall.stopped_tid;
}

/* A try that caught a worker waiting its turn: it spun while the other was stopped (a worker
 * asleep is no worker on a CPU: the samples judge those), or handed its wait to a new task. */
static bool turns_caught(enum stall_outcome s)
{
    return s == STALL_SPUN || s == STALL_HANDED;
}

/* A try that told something: the other worker was caught, ended, or slept on something of the
 * program's (a right program may wait after its count: a barrier at the end, a reply from the
 * parent). Not a sleep the tracer could not place (STALL_LIBRARY): beside a busy loop a spinning
 * waiter was once seen so, and a try that tells nothing only makes another. */
static bool turns_told(enum stall_outcome s)
{
    return turns_caught(s) || s == STALL_FINISHED || s == STALL_SLEPT;
}

/* A try's outcome for the turns test: a sleep as it is (it tells, and catches nothing); else
 * stall_outcome_of (a spin after the watched worker's finished line tells nothing), and a finish that came while the stopped
 * worker had nothing left to count (it used under a tenth of its CPU so far after the stop: the
 * stop came after its count, so the other had no reason to wait) tells nothing either. */
static enum stall_outcome turns_outcome(const struct turns *tu, const struct observation *o)
{
    if (o->stall.outcome == STALL_SLEPT)
        return STALL_SLEPT; /* told, whatever came before it: a sleep is no spin */
    enum stall_outcome s = stall_outcome_of(o, tu->is_worker, tu->finished);
    if (s != STALL_FINISHED)
        return s;
    int k = worker_number(o, tu->is_worker, o->stall.stopped_tid);
    const struct task *stopped = k ? nth_worker(o, tu->is_worker, k) : NULL;
    if (stopped && stopped->cpu > 0 && stopped->cpu - o->stall.stopped_cpu < 0.1 * o->stall.stopped_cpu)
        return STALL_LATE;
    return s;
}

bool turns_next(const struct turns *tu, const struct lab *lab, struct rng *r, const struct params *first,
                const struct observation *first_run, const struct observation *const *stalls, size_t n,
                struct params *p)
{
    if (n == 0 && workers_apart(first_run, tu->is_worker))
        return false; /* its workers never lived together: the other figures judge that */
    int decided[2] = {0, 0}, apart = 0;
    for (size_t i = 0; i < n; i++) {
        enum stall_outcome s = turns_outcome(tu, stalls[i]);
        if (!stalls[i]->traced || s == STALL_FAILED || s == STALL_NONE)
            return false; /* the tracer cannot do it here */
        if (turns_caught(s))
            return false; /* caught: a right program never waits */
        decided[stopped_second(stalls[i], tu->is_worker)] += turns_told(s);
        apart += s == STALL_LATE && workers_apart(stalls[i], tu->is_worker);
    }
    if ((decided[0] && decided[1]) || n >= TURNS_TRIES || (n >= TURNS_SERIAL_TRIES && apart == (int)n))
        return false;
    /* One worker's count, s of CPU: what the judged run's least busy worker used, at this run's
     * count (not the calibration's figure: that is a one-worker run, which a program may slow on
     * purpose). */
    double least = least_worker_cpu(first_run, tu->is_worker);
    if (least <= 0 || first->iterations <= 0)
        return false;
    *p = (struct params){.plan = first->plan, .calibrated = first->calibrated, .variant = first->variant};
    lab->draw(r, p);
    double work = least * (double)p->iterations / (double)first->iterations;
    p->stall = (struct stall_plan){.at = work * (TURNS_AT_MIN + TURNS_AT_SPAN * rng_uniform(r)),
                                   .watch_at = TURNS_WATCH_AT,
                                   .budget = fmax(TURNS_BUDGET_MIN, TURNS_BUDGET_WORKS * work),
                                   .sleep = TURNS_SLEEP,
                                   .wall = TURNS_WALL,
                                   .swap = decided[0] > 0,
                                   .processes = tu->processes,
                                   .continuous = true};
    return true;
}

bool judge_turns(const struct turns *tu, const struct evidence *ev, struct verdict *v)
{
    int tries = 0, decided = 0, told[2] = {0, 0};
    const struct observation *caught = NULL;
    const struct params *caught_p = NULL;
    for (size_t i = 1; i < ev->nruns; i++) {
        if (ev->params[i].stall.at <= 0)
            continue;
        tries++;
        enum stall_outcome s = turns_outcome(tu, &ev->runs[i]);
        decided += turns_told(s);
        told[stopped_second(&ev->runs[i], tu->is_worker)] += turns_told(s);
        if (turns_caught(s) && !caught) {
            caught = &ev->runs[i];
            caught_p = &ev->params[i];
        }
    }
    if (caught) {
        const struct stall_test *st = &caught->stall;
        double work = ev->params[0].iterations > 0 ? least_worker_cpu(&ev->runs[0], tu->is_worker) *
                                                         (double)caught_p->iterations /
                                                         (double)ev->params[0].iterations
                                                   : 0;
        if (v->status != ST_FAIL) {
            /* A skip (a busy machine) is no excuse: this evidence is the program's own. */
            v->status = ST_PASS;
            sbuf_free(&v->summary);
            sbuf_free(&v->detail);
            v->nhints = 0;
            v->retry = false;
        }
        struct sbuf what = {0};
        if (st->outcome == STALL_SPUN)
            sbuf_printf(&what, "ran %.2f s of CPU without ending (about %.2f s of CPU is one count in the judged "
                        "run): it spun", st->cpu, work);
        else
            sbuf_printf(&what, "made a new task %.2f s into the stop instead of counting on: it handed its wait "
                        "on", st->t_end - st->t);
        verdict_fail(v, tu->hint, "the %s took turns at the count: with one %s stopped, another %s, waiting for the "
                     "stopped one (each must count on its own: a worker of a right program never spins waiting for another)", tu->workers, tu->worker,
                     what.data);
        sbuf_free(&what);
        verdict_note(v, "  (the grader stopped %s %d with ptrace %.3f s into the run, after %.3f s of its CPU, and "
                     "watched %d for %.2f s: %.2f s on a CPU, %.2f s waiting for one; then let the first go on)",
                     tu->worker, st->stopped_tid, st->t, st->stopped_cpu, st->watched_tid, st->t_end - st->t,
                     st->cpu, st->delay);
        verdict_note(v, "  a lock held around each whole count, or workers that wait for their turn: only one "
                     "counts at a time, whatever CPU/wall and the one-worker runs show");
        sbuf_printf(&v->detail, "  arguments of that run: ");
        describe_argv(caught_p, &v->detail);
        sbuf_puts(&v->detail, "\n");
        v->final = true;
        v->conclusive = true;
        return true;
    }
    if (tries > 0 && v->status == ST_PASS && told[0] && told[1]) {
        sbuf_printf(&v->summary, "; with one %s stopped, none spun waiting for it (%d of %d tries)", tu->worker,
                    decided, tries);
    } else if (tries > 0 && v->status == ST_PASS) {
        /* Not judged is not passed: every other figure can be had by workers that take turns. */
        struct sbuf seen = v->summary;
        v->summary = (struct sbuf){0};
        v->status = ST_SKIP;
        v->retry = true;
        sbuf_printf(&v->summary, "not judged: whether the %s count without waiting for each other (the grader stops "
                    "the first %s, then the second; the others must not spin waiting) could not be told in %d "
                    "tries: a stop came after a count, a worker waited after its finished line (a barrier), or no "
                    "CPU was free for the others (the rest: %s)",
                    tu->workers, tu->worker, tries, seen.data);
        sbuf_free(&seen);
    }
    return false;
}
