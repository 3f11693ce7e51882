/* report.h - render a grading; never decide anything.
 *
 * report_progress() streams one block per check to the terminal as it ends:
 *     timing: OK (0.9s)
 *         total 0.52 s ≈ max 0.50 s, not sum 1.40 s
 * report_summary() prints "Score: x/y". report_json() writes Gradescope's
 * results.json. json_escape() makes any bytes valid JSON in UTF-8.
 *
 * See also: engine.h, hints.h.
 */
#ifndef GRADER_REPORT_H
#define GRADER_REPORT_H

#include <stdio.h>

#include "engine.h"

struct report_style {
    FILE *out;
    bool color;
    bool verbose;  /* details under passing checks too */
    bool utf8;     /* the timeline may use block characters */
};

void report_header(const struct grading *g, const struct report_style *st);
void report_progress(const struct grading *g, const struct check_result *r, void *style);
void report_summary(const struct grading *g, const struct report_style *st);
/* Returns false if the file could not be written. */
bool report_json(const struct grading *g, const char *path);
/* Gradescope's extras: checks shown only after the due date, a leaderboard. */
struct json_options {
    const char *hidden;            /* check names, comma-separated: "visibility": "after_due_date" */
    const struct sbuf *leaderboard; /* the leaderboard array's entries, or NULL */
};
bool report_json_ex(const struct grading *g, const char *path, const struct json_options *jo);
/* Appends s as a quoted JSON string: invalid UTF-8 becomes U+FFFD. */
void json_escape(struct sbuf *out, const char *s);
/* The text of a check's Gradescope "output": what went wrong and the hint. */
void check_output_text(const struct check_result *r, struct sbuf *out);

#endif
