/* turns.h - the turns test: do a program's workers wait for each other?
 *
 * Lab 2's parallel and lab 3's cpu ask whether N workers (child processes,
 * threads) counted at the same time. CPU/wall, the grader's samples and the
 * paired speed-up can all be had by workers that take turns while the
 * waiting ones spin, in a program that also slows its one-worker runs. So
 * the tracer stops one of the first two workers in the middle of its count
 * (trace.h, trace_stall) and watches the other: workers that count in
 * parallel never wait for each other, so none spins while one is stopped;
 * one that spins past 2.5 counts' CPU, or hands its wait to a new task,
 * was waiting its turn. A sleep fails nothing here (a sleeping worker is on
 * no CPU, which the samples judge; right programs sleep after their count:
 * a barrier, the parent's reply), and counts only in one stretch (a waiter
 * that naps and spins by turns is a spinner).
 *
 * The stall runs are drawn as the judged run is (lab->draw), so a program
 * cannot tell them apart; they stop the first worker until a try tells,
 * then the second (whichever a program puts first, the other spins while
 * that one is stopped). A caught spin fails the check whatever the load; a
 * try that tells nothing (a stop after the stopped worker's count, a spin
 * after the watched one's finished line, no CPU free) makes another, and
 * with no try that told in each direction the check is "not judged".
 *
 * Usage: a lab's stall() calls turns_next() for its check, and the check's
 * judge calls judge_turns() after its own figures.
 * See also: trace.h (trace_stall), labs/lab2.c, labs/lab3.c (its atomic mode's own stall test).
 */
#ifndef TURNS_H
#define TURNS_H

#include "judge.h"

struct turns {
    bool (*is_worker)(const struct observation *o, const struct task *t);
    const char *finished;    /* a worker's last line, "{i}" its number (1: the first made) */
    const char *worker, *workers; /* "counting thread", "counting threads": for the report */
    const char *hint;        /* the hint of a program caught waiting */
    bool processes;          /* the workers are processes (stall_plan.processes) */
};

/* The first two workers of o never lived at the same time (or o had fewer than two). */
bool workers_apart(const struct observation *o, bool (*is_worker)(const struct observation *o, const struct task *t));

/* A stall run's outcome as lab 3's atomic test reads it (a sleep there is a lock): STALL_LATE,
 * a try that tells nothing, for a sleep after the stopped worker's count (its finished line
 * arrived before the stop ended, and it then ended with hardly any CPU more: it may have been
 * stopped inside that printf, holding the stdout lock the other then waits for) or after the
 * watched worker's (its finished line came during the stop, then it slept or spun: a barrier at
 * the end). finished: the pattern of a worker's last line, "{i}" its number (1: the first made). */
enum stall_outcome stall_outcome_of(const struct observation *o,
                                    bool (*is_worker)(const struct observation *o, const struct task *t),
                                    const char *finished);

/* The next stall run of the turns test, after the judged run (first, first_run) and the n made
 * so far: fills p and returns true, or false when no more are needed. */
bool turns_next(const struct turns *tu, const struct lab *lab, struct rng *r, const struct params *first,
                const struct observation *first_run, const struct observation *const *stalls, size_t n,
                struct params *p);

/* After a check's own figures: fails v (and returns true) if a stall run caught a worker
 * waiting for the stopped one (verdict.conclusive); else adds the tries to a passing summary,
 * or makes it "not judged" if none could tell. */
bool judge_turns(const struct turns *tu, const struct evidence *ev, struct verdict *v);

#endif
