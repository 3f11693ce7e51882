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
#define TIMELINE_WIDTH 50 /* columns of the text chart's time axis */

/* What a sampled worker did in one column of the chart (labs 2 and 3: the
 * grader read its schedstat every 5 ms): the same legend in every lab. */
enum slot { SLOT_NONE, SLOT_RUNNING = 'R', SLOT_TURNS = 'T', SLOT_READY = 'W', SLOT_ASLEEP = 'S' };

struct bar {
    int id;           /* the worker's number */
    double from, to;  /* seconds after the program started */
    char slot[TIMELINE_WIDTH]; /* sampled: enum slot per column, else all SLOT_NONE */
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
};

/* False when the lab draws no timeline or the run has no complete bar. */
bool timeline_of(const struct lab *lab, const struct observation *o, const struct params *p,
                 struct timeline *tl);
/* Appends the chart, indented by four spaces, ending in a newline. */
void timeline_text(const struct lab *lab, const struct timeline *tl, bool utf8, struct sbuf *out);
void timeline_svg(const struct lab *lab, const struct timeline *tl, struct sbuf *out);
/* True when the terminal can take UTF-8 (LC_ALL/LC_CTYPE/LANG) and NO_COLOR is unset. */
bool terminal_utf8(void);

#endif
