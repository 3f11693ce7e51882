/* html.h - the grading as one self-contained web page (grade --html FILE).
 *
 * No network, no scripts: a checks table (failing rows marked), each check's
 * output and hints, and an SVG timeline of every run that has bars.
 *
 * See also: html.c, timeline.h, report.h (the terminal and JSON renderings).
 */
#ifndef GRADER_HTML_H
#define GRADER_HTML_H

#include "engine.h"

/* Returns false if the file could not be written. */
bool report_html(const struct grading *g, const char *path);
/* Appends s with &, <, >, " escaped and invalid UTF-8 replaced by U+FFFD. */
void html_escape(struct sbuf *out, const char *s);

#endif
