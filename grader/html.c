/* html.c - render a grading as a self-contained HTML page.
 * See also: html.h.
 */
#define _GNU_SOURCE
#include "html.h"

#include <string.h>

#include "report.h"
#include "sandbox.h"
#include "timeline.h"

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}"
    "h1{font-size:1.5em;margin-bottom:.2em}.meta{color:#555;font-size:.9em}"
    ".score{font-size:1.3em;margin:.8em 0}"
    "table.checks{border-collapse:collapse;width:100%}"
    "table.checks td,table.checks th{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;"
    "vertical-align:top}"
    "tr.fail td.status{color:#b00020;font-weight:bold}tr.pass td.status{color:#1b7f3a;font-weight:bold}"
    "tr.skip td.status{color:#8a6d00;font-weight:bold}tr.fail{background:#fff3f3}tr.skip{background:#fffbe6}"
    ".notjudged{color:#8a6d00;font-weight:bold}.note{border-left:4px solid #8a6d00;padding:.3em .6em}"
    "details{margin:.6em 0}pre{background:#f6f6f6;padding:.6em;overflow:auto;white-space:pre-wrap}"
    ".hint{background:#fff8e1;border-left:4px solid #f5b800;padding:.4em .6em;margin:.3em 0}"
    "svg.timeline{background:#fcfcfc;border:1px solid #ddd;margin:.4em 0}"
    "svg .bar.waiting{fill:#9ecae1}svg .bar.running{fill:#e6550d}svg .bar.life{fill:#eee}"
    "svg .req{fill:#555}svg .req.noreply{fill:#c92a2a}"
    "svg .slot.running{fill:#e6550d}svg .slot.turns{fill:#fd8d3c}svg .slot.ready{fill:#fdd0a2}"
    "svg .slot.asleep{fill:#9ecae1}svg .label,svg .dur,svg .mark-label"
    "{font:12px sans-serif;fill:#333}svg .axis{stroke:#333}svg .mark{stroke-width:1.5;stroke-dasharray:4 3}"
    "svg .mark.max{stroke:#2b8a3e}svg .mark.total{stroke:#000}svg .mark.sum{stroke:#c92a2a}"
    "svg .mark-label.max{fill:#2b8a3e}svg .mark-label.sum{fill:#c92a2a}";

void html_escape(struct sbuf *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    while (*s) {
        size_t n = utf8_char_len(s);
        if (n == 0) {
            sbuf_puts(out, "\xEF\xBF\xBD");
            s++;
            continue;
        }
        switch (*s) {
        case '&': sbuf_puts(out, "&amp;"); break;
        case '<': sbuf_puts(out, "&lt;"); break;
        case '>': sbuf_puts(out, "&gt;"); break;
        case '"': sbuf_puts(out, "&quot;"); break;
        default:
            if (*s < 0x20 && *s != '\n' && *s != '\t')
                sbuf_puts(out, "\xEF\xBF\xBD");
            else
                sbuf_add(out, (const char *)s, n);
        }
        s += n;
    }
}

static const char *status_class(enum status s)
{
    return s == ST_PASS ? "pass" : s == ST_FAIL ? "fail" : "skip";
}

static const char *status_text(enum status s)
{
    return s == ST_PASS ? "OK" : s == ST_FAIL ? "FAIL" : "NOT JUDGED";
}

bool report_html(const struct grading *g, const char *path)
{
    struct sbuf h = {0};
    sbuf_puts(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    html_escape(&h, g->lab->name);
    sbuf_printf(&h, ": %g/%g</title>\n<style>%s</style></head><body>\n<h1>", g->score, g->max, style);
    html_escape(&h, g->lab->name);
    sbuf_puts(&h, ": ");
    html_escape(&h, g->lab->title);
    sbuf_puts(&h, "</h1>\n<p class=\"meta\">graded: <code>");
    html_escape(&h, g->student_file);
    sbuf_printf(&h, "</code> &middot; seed %llu &middot; %d CPU%s &middot; %.1f s<br>sandbox: ",
                (unsigned long long)g->seed, g->cpus, g->cpus == 1 ? "" : "s", g->seconds);
    html_escape(&h, sandbox_protection());
    sbuf_printf(&h, "</p>\n<p class=\"score\" id=\"score\">Score: <b>%g/%g</b>", g->score, g->max);
    if (g->not_judged)
        sbuf_printf(&h, " <span class=\"notjudged\" id=\"not-judged\">(%d check%s NOT JUDGED: 0 of %s points, so "
                    "not full marks yet)</span>", g->not_judged, g->not_judged == 1 ? "" : "s",
                    g->not_judged == 1 ? "its" : "their");
    sbuf_puts(&h, "</p>\n");
    if (g->integrity) {
        sbuf_puts(&h, "<p class=\"hint\" id=\"integrity\"><b>Integrity failed, score 0:</b> ");
        html_escape(&h, g->integrity);
        sbuf_puts(&h, "</p>\n");
    }
    if (g->opt->note) {
        sbuf_puts(&h, "<p class=\"note\">");
        html_escape(&h, g->opt->note);
        sbuf_puts(&h, "</p>\n");
    }

    /* The table: one row per check. */
    sbuf_puts(&h, "<table class=\"checks\"><thead><tr><th>check</th><th>result</th><th>points</th>"
                  "<th>what was seen</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < g->nresults; i++) {
        const struct check_result *r = &g->results[i];
        sbuf_printf(&h, "<tr class=\"%s\" id=\"row-%s\"><td><a href=\"#check-%s\">%s</a></td>"
                    "<td class=\"status\">%s</td><td>%g/%g</td><td>",
                    status_class(r->verdict.status), r->check->name, r->check->name, r->check->name,
                    status_text(r->verdict.status), r->verdict.score, r->max);
        html_escape(&h, r->verdict.summary.data ? r->verdict.summary.data : "");
        sbuf_puts(&h, "</td></tr>\n");
    }
    sbuf_puts(&h, "</tbody></table>\n");

    /* Each check in detail, and the timeline of each run once. */
    const struct observation *drawn[64];
    size_t ndrawn = 0;
    for (size_t i = 0; i < g->nresults; i++) {
        const struct check_result *r = &g->results[i];
        sbuf_printf(&h, "<section id=\"check-%s\" class=\"%s\"><h2>%s: %s</h2>\n<p>", r->check->name,
                    status_class(r->verdict.status), r->check->name, status_text(r->verdict.status));
        html_escape(&h, r->check->what);
        sbuf_puts(&h, "</p>\n");
        if (r->verdict.status != ST_PASS || r->verdict.shown) {
            struct sbuf text = {0};
            check_output_text(r, &text);
            sbuf_puts(&h, "<pre class=\"output\">");
            html_escape(&h, text.data ? text.data : "");
            sbuf_puts(&h, "</pre>\n");
            sbuf_free(&text);
        } else {
            sbuf_puts(&h, "<p>");
            html_escape(&h, r->verdict.summary.data ? r->verdict.summary.data : "");
            sbuf_puts(&h, "</p>\n");
        }
        bool seen = false;
        for (size_t k = 0; k < ndrawn; k++)
            seen = seen || drawn[k] == r->run;
        struct timeline tl;
        /* Plain runs only: a valgrind run's timing says nothing about the program. */
        bool plain = r->check->plan == PLAN_RUN || r->check->plan == PLAN_RUN_PIPE;
        /* A lab that names the check its timeline belongs to draws it there only (lab 4: responsive). */
        bool here = !g->lab->timeline_check || timeline_under(g->lab, r->check);
        if (r->run && plain && here && !seen && ndrawn < 64 && timeline_of(g->lab, r->run, &r->params, &tl)) {
            drawn[ndrawn++] = r->run;
            sbuf_puts(&h, "<figure>\n");
            timeline_svg(g->lab, &tl, &h);
            if (tl.own) { /* the lab's title and words, then the legend */
                sbuf_puts(&h, "<figcaption>");
                html_escape(&h, tl.title);
                for (int w = 0; w < tl.nwords; w++) {
                    sbuf_puts(&h, "<br>");
                    html_escape(&h, tl.words[w]);
                }
                sbuf_printf(&h, "<br>(%sthin bars: a request from its send to its reply)</figcaption>\n</figure>\n",
                            tl.sampled ? "sampled every 5 ms: dark orange on a CPU, orange taking turns for one, "
                                         "pale ready, waiting for one, blue asleep; " : "");
            } else {
                sbuf_printf(&h, "<figcaption>the run this check judged: total %.2f s, longest %.2f s, sum %.2f s"
                            " (%s)</figcaption>\n</figure>\n", tl.total, tl.longest, tl.sum,
                            tl.sampled ? "sampled every 5 ms: dark orange on a CPU, orange taking turns for one, "
                                         "pale ready, waiting for one, blue asleep"
                            : tl.running ? "bars on a CPU" : "bars waiting");
            }
        }
        sbuf_puts(&h, "</section>\n");
    }
    if (g->epilogue.len) {
        sbuf_puts(&h, "<h2>More about this run</h2>\n<pre>");
        html_escape(&h, g->epilogue.data);
        sbuf_puts(&h, "</pre>\n");
    }
    sbuf_puts(&h, "</body></html>\n");
    bool ok = write_file(path, h.data, h.len, 0644);
    sbuf_free(&h);
    return ok;
}
