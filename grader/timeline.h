/* timeline.h - a run drawn as bars over time, the picture of concurrency.
 *
 * One bar per task, process or thread, from its 'started' line to its
 * 'finished' line (the lab says which patterns: lab->bar_*). The axis runs to
 * the larger of the run's total and the sum of the bars, so a concurrent run
 * shows its total near the longest bar (≈ max) and far from the sum, and a
 * sequential one shows its total at the sum. When the grader sampled each
 * task's CPU (labs 2 and 3), bar k is the k-th task the program made and each
 * column says what it did then: on a CPU (█, 75% of the column or more),
 * part of the time, taking turns for a CPU (▓), ready but waiting for one
 * (▒), asleep (░); so CPUS=1 draws turns, not overlap. Otherwise a bar is drawn as
 * on a CPU when the run's CPU time covers most of the bars' time, else asleep.
 *
 * A lab may build its own timeline instead (lab->timeline; lab 4: one phase
 * of a server's run): rows of tasks drawn from their samples (the event loop,
 * the workers) and rows of requests, each a span from its send to its reply
 * (├───┤; one answered within its column is a │), under a title and words
 * of the lab's; the same renderers draw it.
 *
 *   timeline_text()  for terminals: UTF-8 blocks, or plain ASCII
 *   timeline_svg()   for the HTML report
 *
 * See also: timeline.c, report.c, html.c.
 */
#ifndef GRADER_TIMELINE_H
#define GRADER_TIMELINE_H

#include <stdbool.h>

#include "spec.h"

#define MAX_BARS 64
#define MAX_SPANS 160     /* requests drawn in a lab's own timeline */
#define TIMELINE_WIDTH 50 /* columns of the text chart's time axis */

/* What a sampled worker did in one column of the chart (labs 2-4: the
 * grader read its schedstat every 5 ms): the same legend in every lab. */
enum slot { SLOT_NONE, SLOT_RUNNING = 'R', SLOT_TURNS = 'T', SLOT_READY = 'W', SLOT_ASLEEP = 'S' };

/* A row: a task's life (drawn from its samples when there are some), or, in
 * a lab's own timeline, a line of requests (the spans whose row it is). */
enum row_kind { ROW_TASK, ROW_REQUESTS };

struct bar {
    int id;           /* the worker's number */
    double from, to;  /* seconds after the program started */
    char slot[TIMELINE_WIDTH]; /* sampled: enum slot per column, else all SLOT_NONE */
    /* A lab's own timeline (lab->timeline) only: */
    enum row_kind kind;
    char label[16];   /* the row's name ("event loop", "PING"); "": bar_label and id */
    char note[48];    /* right of the row ("0.31 s of CPU"); "": the bar's length */
};

/* A client's request from its send to its reply (lab 4), drawn on row `row`. */
struct span {
    int row;
    double sent, replied;  /* replied < 0: no reply */
};

struct timeline {
    struct bar bars[MAX_BARS];
    int n;
    double total;     /* the run's wall time */
    double longest;   /* the longest piece of work (bar, or the lab's own figure) */
    double sum;       /* all of it end to end: the run done one at a time */
    double bar_time;  /* the bars' lengths added up */
    double cpu;       /* the run's CPU time */
    bool running;     /* bars mostly on a CPU (else mostly waiting) */
    bool sampled;     /* bars drawn column by column from the CPU samples */
    /* A lab's own timeline (lab->timeline): a window of the run, from t0 for
     * span seconds, its title and closing words, no max/total/sum marks. */
    bool own;
    double t0, span;
    char title[200];  /* one line, no final colon */
    char words[3][240];
    int nwords;
    struct span spans[MAX_SPANS];
    int nspans;
};

/* False when the lab draws no timeline or the run has no complete bar. */
bool timeline_of(const struct lab *lab, const struct observation *o, const struct params *p,
                 struct timeline *tl);
/* True when the report draws the timeline of check c's run under it: the lab's
 * timeline_check, else every timing check. */
bool timeline_under(const struct lab *lab, const struct check *c);
/* A lab's own timeline: fills b->slot over [b->from, b->to] from
 * task tid's CPU samples, on the columns of tl's window (tl->t0, tl->span);
 * returns the CPU seconds the task used in that time (0: no samples). */
double timeline_sample_row(const struct observation *o, struct timeline *tl, struct bar *b, int tid);
/* Appends the chart, indented by four spaces, ending in a newline. */
void timeline_text(const struct lab *lab, const struct timeline *tl, bool utf8, struct sbuf *out);
void timeline_svg(const struct lab *lab, const struct timeline *tl, struct sbuf *out);
/* True when the terminal can take UTF-8 (LC_ALL/LC_CTYPE/LANG) and NO_COLOR is unset. */
bool terminal_utf8(void);

#endif
