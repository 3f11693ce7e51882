/* report.c - terminal and JSON renderings of a grading.
 * See also: report.h.
 */
#define _GNU_SOURCE
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hints.h"
#include "sandbox.h"
#include "timeline.h"

static const char *status_word(enum status s)
{
    return s == ST_PASS ? "OK" : s == ST_FAIL ? "FAIL" : "NOT JUDGED";
}

static const char *status_color(enum status s)
{
    return s == ST_PASS ? "\033[32m" : s == ST_FAIL ? "\033[31m" : "\033[33m";
}

/* Writes text with every byte that could act on a terminal quoted (\xNN):
 * judges quote program output already; this is the last line of defence for
 * what they quote raw (compiler messages, race reports, file names). */
static void put_printable(FILE *out, const char *text, size_t len)
{
    struct sbuf b = {0};
    sbuf_add_printable(&b, text, len, true);
    if (b.len)
        fwrite(b.data, 1, b.len, out);
    sbuf_free(&b);
}

void report_header(const struct grading *g, const struct report_style *st)
{
    fprintf(st->out, "== %s: %s\n", g->lab->name, g->lab->title);
    fputs("   graded: ", st->out);
    put_printable(st->out, g->student_file, strlen(g->student_file));
    fprintf(st->out, "   (seed %llu%s, %d CPU%s)\n", (unsigned long long)g->seed,
            g->opt->seed_given ? "" : ", from the submission", g->cpus, g->cpus == 1 ? "" : "s");
    fprintf(st->out, "   sandbox: %s\n", sandbox_protection());
    if (g->source_findings && *g->source_findings) { /* the integrity check will fail: say so first */
        fputs("   INTEGRITY: ", st->out);
        put_printable(st->out, g->source_findings, strcspn(g->source_findings, "\n"));
        fputs(" (the score will be 0)\n", st->out);
    }
    if (g->lab->calibrate && g->calibrated > 0)
        fprintf(st->out, "   calibrated: %lld iterations take about %.2f s of CPU here\n", g->calibrated,
                CALIBRATE_CPU);
    else if (g->lab->calibrate)
        fprintf(st->out, "   calibrated: could not tell (the calibration run failed or used no CPU): "
                "the lab's default sizes are used\n");
}

void check_output_text(const struct check_result *r, struct sbuf *out)
{
    const struct verdict *v = &r->verdict;
    if (v->summary.len)
        sbuf_printf(out, "%s\n", v->summary.data);
    if (v->status == ST_SKIP)
        sbuf_printf(out, "0 of %g points: the check was not verified.%s%s\n", r->max,
                    r->todo ? " What to do: " : "", r->todo ? r->todo : "");
    if (v->detail.len && (v->status == ST_FAIL || v->shown))
        sbuf_puts(out, v->detail.data);
    if (r->check && r->check->attempts < 0)
        if (v->status == ST_FAIL)
            sbuf_printf(out, "(%d runs, every one must pass: run %d failed)\n", -r->check->attempts,
                        r->attempts);
        else
            sbuf_printf(out, "(%d runs, every one must pass: all did)\n", -r->check->attempts);
    else if (r->check && v->status == ST_FAIL && v->conclusive && r->attempts < r->check->attempts)
        sbuf_printf(out, "(best of %d, stopped after %d run%s: the stall test's evidence, which every run shares, "
                    "settled it)\n", r->check->attempts, r->attempts, r->attempts == 1 ? "" : "s");
    else if (r->check && v->status == ST_FAIL && v->final && r->attempts < r->check->attempts)
        sbuf_printf(out, "(best of %d, stopped after %d runs: each failed while its workers never waited for a "
                    "CPU and counted at one worker's speed, so noise did not cause it)\n", r->check->attempts, r->attempts);
    else if (r->attempts > 1)
        sbuf_printf(out, "(best of %d runs: %s)\n", r->attempts,
                    v->status == ST_PASS ? "the earlier runs failed"
                    : v->status == ST_SKIP ? "none could be judged" : "every run failed");
    for (int i = 0; i < v->nhints && (v->status == ST_FAIL || v->shown); i++) {
        const struct hint *h = hint_find(v->hints[i]);
        if (h)
            sbuf_printf(out, "hint: %s\n", h->text);
    }
}

void report_progress(const struct grading *g, const struct check_result *r, void *style)
{
    const struct report_style *st = style;
    if (!r) {
        report_header(g, st);
        return;
    }
    const struct verdict *v = &r->verdict;
    if (st->color)
        fprintf(st->out, "%s: %s%s\033[0m (%.1fs)\n", r->check->name, status_color(v->status),
                status_word(v->status), r->seconds);
    else
        fprintf(st->out, "%s: %s (%.1fs)\n", r->check->name, status_word(v->status), r->seconds);
    struct sbuf text = {0};
    if (v->status != ST_PASS || v->shown || st->verbose) {
        check_output_text(r, &text);
    } else if (v->summary.len) {
        sbuf_printf(&text, "%s\n", v->summary.data);
    }
    /* Indent every line under the check's name. */
    for (const char *s = text.data; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        fputs("    ", st->out);
        put_printable(st->out, s, len);
        fputs("\n", st->out);
        s = nl ? nl + 1 : s + len;
    }
    sbuf_free(&text);
    /* After a timing check, the picture of the run it judged. */
    struct timeline tl;
    if (timeline_under(g->lab, r->check) && r->run && timeline_of(g->lab, r->run, &r->params, &tl)) {
        struct sbuf chart = {0};
        timeline_text(g->lab, &tl, st->utf8, &chart);
        fputs(chart.data, st->out);
        sbuf_free(&chart);
    }
    fflush(st->out);
}

void report_summary(const struct grading *g, const struct report_style *st)
{
    if (g->epilogue.len)
        put_printable(st->out, g->epilogue.data, g->epilogue.len);
    if (g->integrity) {
        fputs("INTEGRITY FAILED, score 0: ", st->out);
        put_printable(st->out, g->integrity, strlen(g->integrity));
        fputs("\n", st->out);
    }
    fprintf(st->out, "Score: %g/%g", g->score, g->max);
    if (g->not_judged) {
        fprintf(st->out, "  (%d check%s NOT JUDGED, 0 points:", g->not_judged, g->not_judged == 1 ? "" : "s");
        for (size_t i = 0; i < g->nresults; i++)
            if (g->results[i].verdict.status == ST_SKIP)
                fprintf(st->out, " %s", g->results[i].check->name);
        fprintf(st->out, ")");
    }
    fprintf(st->out, "  [%.1fs]\n", g->seconds);
    if (g->not_judged)
        fprintf(st->out, "Not every check could be judged here, so this is not full marks yet: see what to do "
                "under each NOT JUDGED check.\n");
    fflush(st->out);
}

void json_escape(struct sbuf *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    sbuf_puts(out, "\"");
    while (*s) {
        size_t n = utf8_char_len(s);
        if (n == 0) {
            sbuf_puts(out, "\xEF\xBF\xBD"); /* U+FFFD */
            s++;
        } else if (*s == '"' || *s == '\\') {
            sbuf_printf(out, "\\%c", *s);
            s++;
        } else if (*s == '\n') {
            sbuf_puts(out, "\\n");
            s++;
        } else if (*s == '\t') {
            sbuf_puts(out, "\\t");
            s++;
        } else if (*s < 0x20 || *s == 0x7F) {
            sbuf_printf(out, "\\u%04x", *s);
            s++;
        } else if (n == 2 && *s == 0xC2 && s[1] < 0xA0) { /* C1 controls: U+0080..U+009F */
            sbuf_printf(out, "\\u%04x", s[1]);
            s += 2;
        } else {
            sbuf_add(out, (const char *)s, n);
            s += n;
        }
    }
    sbuf_puts(out, "\"");
}

/* Gradescope's results.json, by its specification (gradescope-autograders.readthedocs.io,
 * "Autograder Specifications"): only its documented fields at the top level and in each
 * test; the rest (the total, the seed, the checks not judged) under extra_data. The
 * top-level output is Markdown so that lab 3's aligned table stays a table (in a code
 * block); test outputs are text, shown in a <pre>. One test per line: tests/e2e.c reads it. */
bool report_json_ex(const struct grading *g, const char *path, const struct json_options *jo)
{
    struct sbuf j = {0};
    sbuf_printf(&j, "{\n  \"score\": %g,\n  \"execution_time\": %.2f,\n", g->score, g->seconds);
    struct sbuf head = {0};
    if (g->integrity)
        sbuf_printf(&head, "**INTEGRITY FAILED, score 0:** %s\n\n", g->integrity);
    sbuf_printf(&head, "**%s**: %s  \ngraded: `%s` (seed %llu, %d CPU%s)\n\n", g->lab->name, g->lab->title,
                g->student_file, (unsigned long long)g->seed, g->cpus, g->cpus == 1 ? "" : "s");
    if (g->not_judged) {
        sbuf_printf(&head, "**Not judged: %d check%s** (0 of their points, so not full marks yet):", g->not_judged,
                    g->not_judged == 1 ? "" : "s");
        for (size_t i = 0; i < g->nresults; i++)
            if (g->results[i].verdict.status == ST_SKIP)
                sbuf_printf(&head, " %s", g->results[i].check->name);
        sbuf_puts(&head, ". Each says why and what to do.\n\n");
    }
    if (g->opt->note)
        sbuf_printf(&head, "%s\n\n", g->opt->note);
    if (g->epilogue.len)
        sbuf_printf(&head, "```\n%s```\n", g->epilogue.data);
    sbuf_puts(&j, "  \"output\": ");
    json_escape(&j, head.data);
    sbuf_free(&head);
    sbuf_puts(&j, ",\n  \"output_format\": \"md\",\n  \"test_output_format\": \"text\",\n");
    if (jo && jo->leaderboard && jo->leaderboard->len)
        sbuf_printf(&j, "  \"leaderboard\": [%s],\n", jo->leaderboard->data);
    sbuf_printf(&j, "  \"extra_data\": {\"max_score\": %g, \"seed\": %llu, \"cpus\": %d, ",
                g->max, (unsigned long long)g->seed, g->cpus);
    if (g->integrity) {
        sbuf_puts(&j, "\"integrity\": ");
        json_escape(&j, g->integrity);
        sbuf_puts(&j, ", ");
    }
    sbuf_puts(&j, "\"not_judged\": [");
    int k = 0;
    for (size_t i = 0; i < g->nresults; i++) {
        const struct check_result *r = &g->results[i];
        if (r->verdict.status != ST_SKIP)
            continue;
        sbuf_printf(&j, "%s{\"name\": ", k++ ? ", " : "");
        json_escape(&j, r->check->name);
        sbuf_puts(&j, ", \"why\": ");
        json_escape(&j, r->verdict.summary.data ? r->verdict.summary.data : "");
        sbuf_puts(&j, ", \"todo\": ");
        json_escape(&j, r->todo ? r->todo : "");
        sbuf_puts(&j, "}");
    }
    sbuf_puts(&j, "]},\n  \"tests\": [");
    for (size_t i = 0; i < g->nresults; i++) {
        const struct check_result *r = &g->results[i];
        struct sbuf text = {0};
        check_output_text(r, &text);
        sbuf_printf(&j, "%s\n    {\"name\": ", i ? "," : "");
        json_escape(&j, r->check->name);
        sbuf_printf(&j, ", \"score\": %g, \"max_score\": %g, \"status\": \"%s\", \"output\": ",
                    r->verdict.score, r->max, r->verdict.status == ST_PASS ? "passed" : "failed");
        json_escape(&j, text.data ? text.data : "");
        sbuf_puts(&j, ", \"tags\": [");
        int n = 0;
        for (int t = 0; t < NTAGS; t++)
            if (r->check->tags & (1u << t))
                sbuf_printf(&j, "%s\"%s\"", n++ ? ", " : "", tag_names[t]);
        sbuf_puts(&j, "]");
        if (jo && jo->hidden && check_wanted(r->check, jo->hidden, NULL))
            sbuf_puts(&j, ", \"visibility\": \"after_due_date\"");
        sbuf_printf(&j, ", \"extra_data\": {\"verdict\": \"%s\"}}",
                    r->verdict.status == ST_PASS ? "passed" : r->verdict.status == ST_FAIL ? "failed" : "not judged");
        sbuf_free(&text);
    }
    sbuf_puts(&j, "\n  ]\n}\n");
    bool ok = write_file(path, j.data, j.len, 0644);
    sbuf_free(&j);
    return ok;
}

bool report_json(const struct grading *g, const char *path)
{
    return report_json_ex(g, path, NULL);
}
