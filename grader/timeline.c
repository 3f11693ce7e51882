/* timeline.c - bars over time, as text and as SVG.
 * See also: timeline.h.
 */
#define _GNU_SOURCE
#include "timeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

#define WIDTH 50 /* columns of the text chart's time axis */

bool timeline_of(const struct lab *lab, const struct observation *o, const struct params *p,
                 struct timeline *tl)
{
    *tl = (struct timeline){.total = o->wall, .cpu = obs_cpu(o)};
    if (!lab->bar_label || !o->started)
        return false;
    struct parsed out;
    parse_output(lab, o, &out);
    for (size_t i = 0; i < out.n && tl->n < MAX_BARS; i++) {
        const struct out_event *from = &out.ev[i];
        if (from->pattern != lab->bar_from || from->id < 0)
            continue;
        /* Its own end: the first bar_to line with the same number after it. */
        for (size_t j = i + 1; j < out.n; j++) {
            if (out.ev[j].pattern == lab->bar_to && out.ev[j].id == from->id) {
                tl->bars[tl->n++] = (struct bar){from->id, from->t, out.ev[j].t};
                break;
            }
        }
    }
    parsed_free(&out);
    for (int i = 0; i < tl->n; i++) {
        double d = tl->bars[i].to - tl->bars[i].from;
        tl->longest = fmax(tl->longest, d);
        tl->sum += d;
    }
    tl->bar_time = tl->sum;
    if (lab->bar_work && p)
        lab->bar_work(p, &tl->longest, &tl->sum);
    tl->running = tl->bar_time > 0 && tl->cpu >= 0.5 * tl->bar_time;
    return tl->n > 0;
}

bool terminal_utf8(void)
{
    if (getenv("NO_COLOR"))
        return false;
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
    }
    return false;
}

static int column(double t, double span)
{
    int c = (int)lround(t / span * WIDTH);
    return c < 0 ? 0 : c > WIDTH ? WIDTH : c;
}

void timeline_text(const struct lab *lab, const struct timeline *tl, bool utf8, struct sbuf *out)
{
    const char *fill = tl->running ? (utf8 ? "█" : "#") : (utf8 ? "░" : "=");
    const char *mark = utf8 ? "▲" : "^";
    double span = fmax(tl->total, tl->sum);
    if (span <= 0)
        return;
    sbuf_printf(out, "    timeline of this run (%s: %s; %.2f s of CPU in all):\n",
                tl->running ? "bars on a CPU" : "bars waiting", fill, tl->cpu);
    for (int i = 0; i < tl->n; i++) {
        const struct bar *b = &tl->bars[i];
        int c0 = column(b->from, span), c1 = column(b->to, span);
        if (c1 == c0 && c1 < WIDTH)
            c1++;
        sbuf_printf(out, "    %8s %-2d |", lab->bar_label, b->id);
        for (int c = 0; c < WIDTH; c++)
            sbuf_puts(out, c >= c0 && c < c1 ? fill : " ");
        sbuf_printf(out, "| %.2f s\n", b->to - b->from);
    }
    /* The marks under the axis: the longest bar (max), the total, the sum. */
    struct {
        const char *name;
        double t;
    } marks[] = {{"max", tl->longest}, {"total", tl->total}, {"sum", tl->sum}};
    sbuf_printf(out, "    %11s  ", "");
    for (int c = 0; c <= WIDTH; c++) {
        bool here = false;
        for (size_t m = 0; m < 3; m++)
            here = here || column(marks[m].t, span) == c;
        sbuf_puts(out, here ? mark : (c % 10 == 0 ? "|" : "-"));
    }
    sbuf_puts(out, "\n");
    sbuf_printf(out, "    %11s  0 s   max %.2f s   total %.2f s   sum %.2f s   (%s)\n", "", tl->longest,
                tl->total, tl->sum,
                tl->total <= tl->longest + 0.25 * (tl->sum - tl->longest) ? "total ≈ max: they overlapped"
                : tl->total >= tl->sum - 0.1 * tl->sum ? "total ≈ sum: one after another"
                                                       : "between max and sum");
}

void timeline_svg(const struct lab *lab, const struct timeline *tl, struct sbuf *out)
{
    const double left = 90, width = 520, row = 22;
    double span = fmax(tl->total, tl->sum);
    if (span <= 0)
        return;
    double height = row * tl->n + 60;
    sbuf_printf(out, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "role=\"img\" aria-label=\"timeline\">\n", left + width + 90, height);
    for (int i = 0; i < tl->n; i++) {
        const struct bar *b = &tl->bars[i];
        double y = 10 + row * i;
        double x0 = left + b->from / span * width, x1 = left + b->to / span * width;
        sbuf_printf(out, "<text x=\"4\" y=\"%.0f\" class=\"label\">%s %d</text>\n", y + 14, lab->bar_label, b->id);
        sbuf_printf(out, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"16\">"
                    "<title>%s %d: %.3f s to %.3f s</title></rect>\n",
                    tl->running ? "running" : "waiting", x0, y, fmax(x1 - x0, 1.0), lab->bar_label, b->id, b->from,
                    b->to);
        sbuf_printf(out, "<text x=\"%.1f\" y=\"%.0f\" class=\"dur\">%.2f s</text>\n", x1 + 4, y + 13, b->to - b->from);
    }
    double axis = 10 + row * tl->n + 6;
    sbuf_printf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", left, axis,
                left + width, axis);
    struct {
        const char *name, *cls;
        double t;
    } marks[] = {{"max", "max", tl->longest}, {"total", "total", tl->total}, {"sum", "sum", tl->sum}};
    for (size_t m = 0; m < 3; m++) {
        double x = left + marks[m].t / span * width;
        sbuf_printf(out, "<line class=\"mark %s\" x1=\"%.1f\" y1=\"6\" x2=\"%.1f\" y2=\"%.0f\"/>\n", marks[m].cls, x,
                    x, axis + 4);
        sbuf_printf(out, "<text class=\"mark-label %s\" x=\"%.1f\" y=\"%.0f\">%s %.2f s</text>\n", marks[m].cls,
                    x - 20, axis + 18 + 12 * (double)m, marks[m].name, marks[m].t);
    }
    sbuf_puts(out, "</svg>\n");
}
