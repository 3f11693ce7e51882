/* timeline.c - bars over time, as text and as SVG.
 * See also: timeline.h.
 */
#define _GNU_SOURCE
#include "timeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "judge.h"

#define WIDTH TIMELINE_WIDTH

/* The k-th task (1-based) the program's first task made: worker k of labs 2 and 3. */
static const struct task *worker_task(const struct observation *o, int k)
{
    int seen = 0;
    for (size_t i = 1; i < o->ntasks; i++)
        if (o->tasks[i].parent == o->tasks[0].tid && ++seen == k)
            return &o->tasks[i];
    return NULL;
}

/* One task's samples, in time order (the sampler reads every task once a round). */
struct series {
    const struct cpu_sample **s;
    size_t n;
};

static void series_of(const struct observation *o, int tid, struct series *ser)
{
    *ser = (struct series){0};
    for (size_t i = 0; i < o->nsamples; i++) {
        if (o->samples[i].tid != tid)
            continue;
        if ((ser->n & (ser->n - 1)) == 0)
            ser->s = xrealloc(ser->s, (ser->n ? ser->n * 2 : 16) * sizeof *ser->s);
        ser->s[ser->n++] = &o->samples[i];
    }
}

/* The task's CPU and wait figures at time t, interpolated between its samples; false if none. */
static bool figures_at(const struct series *ser, double t, double *cpu, double *wait)
{
    if (ser->n == 0)
        return false;
    size_t lo = 0, hi = ser->n; /* the first sample after t: lo */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ser->s[mid]->t <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct cpu_sample *before = lo > 0 ? ser->s[lo - 1] : NULL, *after = lo < ser->n ? ser->s[lo] : NULL;
    if (!before || !after) {
        const struct cpu_sample *s = before ? before : after;
        *cpu = s->cpu;
        *wait = s->wait;
        return true;
    }
    double f = after->t > before->t ? (t - before->t) / (after->t - before->t) : 0;
    *cpu = before->cpu + f * (after->cpu - before->cpu);
    *wait = before->wait + f * (after->wait - before->wait);
    return true;
}

/* Fills a bar's columns (the chart from t0, span s wide) from its task's samples; true if any. */
static bool fill_row(const struct series *ser, double t0, double span, struct bar *b)
{
    bool any = false;
    for (int c = 0; c < WIDTH; c++) {
        double ta = t0 + span * c / WIDTH, tb = t0 + span * (c + 1) / WIDTH, cpu0, wait0, cpu1, wait1;
        if (tb <= b->from || ta >= b->to || !figures_at(ser, ta, &cpu0, &wait0) ||
            !figures_at(ser, tb, &cpu1, &wait1))
            continue;
        double dt = tb - ta, on = (cpu1 - cpu0) / dt, ready = (wait1 - wait0) / dt;
        b->slot[c] = on >= 0.75 ? SLOT_RUNNING : on >= 0.25 ? SLOT_TURNS : ready >= 0.25 ? SLOT_READY : SLOT_ASLEEP;
        any = true;
    }
    return any;
}

/* Fills each bar's columns from its task's samples. */
static void sample_bars(const struct observation *o, struct timeline *tl, double span)
{
    for (int i = 0; i < tl->n; i++) {
        struct bar *b = &tl->bars[i];
        const struct task *t = worker_task(o, b->id);
        if (!t)
            continue;
        struct series ser;
        series_of(o, t->tid, &ser);
        tl->sampled = fill_row(&ser, 0, span, b) || tl->sampled;
        free(ser.s);
    }
}

double timeline_sample_row(const struct observation *o, struct timeline *tl, struct bar *b, int tid)
{
    struct series ser;
    series_of(o, tid, &ser);
    tl->sampled = fill_row(&ser, tl->t0, tl->span, b) || tl->sampled;
    double c0, c1, w;
    double used = figures_at(&ser, b->from, &c0, &w) && figures_at(&ser, b->to, &c1, &w) ? c1 - c0 : 0;
    free(ser.s);
    return used;
}

bool timeline_of(const struct lab *lab, const struct observation *o, const struct params *p,
                 struct timeline *tl)
{
    *tl = (struct timeline){.total = o->wall, .cpu = obs_cpu(o)};
    if (lab->timeline)
        return o->started && lab->timeline(o, p, tl) && tl->own && tl->span > 0 && tl->n > 0;
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
                tl->bars[tl->n++] = (struct bar){.id = from->id, .from = from->t, .to = out.ev[j].t};
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
    if (o->nsamples > 0 && o->ntasks > 1)
        sample_bars(o, tl, fmax(tl->total, tl->sum));
    return tl->n > 0;
}

bool timeline_under(const struct lab *lab, const struct check *c)
{
    return lab->timeline_check ? !strcmp(c->name, lab->timeline_check) : (c->tags & TAG_TIMING) != 0;
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

/* A lab's own timeline: the column of time t in its window. */
static int own_column(const struct timeline *tl, double t)
{
    int c = (int)floor((t - tl->t0) / tl->span * WIDTH);
    return c < 0 ? 0 : c >= WIDTH ? WIDTH - 1 : c;
}

static const char *slot_glyph(char slot, bool utf8)
{
    switch (slot) {
    case SLOT_RUNNING: return utf8 ? "█" : "#";
    case SLOT_TURNS: return utf8 ? "▓" : "%";
    case SLOT_READY: return utf8 ? "▒" : "+";
    case SLOT_ASLEEP: return utf8 ? "░" : "=";
    default: return " ";
    }
}

/* Rows of tasks (their samples) and rows of requests (├──┤ from send to reply, │ within a column). */
static void text_own(const struct timeline *tl, bool utf8, struct sbuf *out)
{
    const char *tick = utf8 ? "│" : "|", *open = utf8 ? "├" : "[", *wait = utf8 ? "─" : "-",
               *close = utf8 ? "┤" : "]";
    sbuf_printf(out, "    %s:\n", tl->title);
    if (tl->sampled)
        sbuf_printf(out, "    (sampled every 5 ms: %s on a CPU, %s taking turns for one, %s ready, waiting for one, %s "
                    "asleep;\n     %s%s%s%s a request from its send to its reply, %s one answered within a column's time)\n",
                    slot_glyph(SLOT_RUNNING, utf8), slot_glyph(SLOT_TURNS, utf8), slot_glyph(SLOT_READY, utf8),
                    slot_glyph(SLOT_ASLEEP, utf8), open, wait, wait, close, tick);
    else
        sbuf_printf(out, "    (%s%s%s%s a request from its send to its reply, %s one answered within a column's time; no CPU "
                    "samples of the tasks)\n", open, wait, wait, close, tick);
    for (int i = 0; i < tl->n; i++) {
        const struct bar *b = &tl->bars[i];
        const char *cell[WIDTH];
        for (int c = 0; c < WIDTH; c++)
            cell[c] = b->kind == ROW_TASK ? slot_glyph(b->slot[c], utf8) : " ";
        for (int k = 0; k < tl->nspans && b->kind == ROW_REQUESTS; k++) {
            const struct span *sp = &tl->spans[k];
            if (sp->row != i)
                continue;
            int c0 = own_column(tl, sp->sent), c1 = sp->replied < 0 ? WIDTH - 1 : own_column(tl, sp->replied);
            /* Shorter than a column: a tick where it was sent (even across a column's edge). */
            if (sp->replied >= 0 && (c1 == c0 || sp->replied - sp->sent < tl->span / WIDTH)) {
                if (cell[c0][0] == ' ')
                    cell[c0] = tick;
                continue;
            }
            cell[c0] = open;
            for (int c = c0 + 1; c < c1; c++)
                cell[c] = wait;
            cell[c1] = sp->replied < 0 ? wait : close;
        }
        sbuf_printf(out, "    %11s |", b->label);
        for (int c = 0; c < WIDTH; c++)
            sbuf_puts(out, cell[c]);
        sbuf_printf(out, "| %s\n", b->note);
    }
    sbuf_printf(out, "    %11s  ", "");
    for (int c = 0; c <= WIDTH; c++)
        sbuf_puts(out, c % 10 == 0 ? "|" : "-");
    /* Under the axis: 0 s, the column's width, the window's end. */
    char scale[WIDTH + 16], mid[40], end[24];
    memset(scale, ' ', sizeof scale);
    int nm = snprintf(mid, sizeof mid, "a column: %.0f ms", tl->span / WIDTH * 1000);
    int ne = snprintf(end, sizeof end, "%.2f s", tl->span);
    memcpy(scale, "0 s", 3);
    memcpy(scale + (WIDTH + 1 - nm) / 2, mid, (size_t)nm);
    memcpy(scale + WIDTH + 1 - ne, end, (size_t)ne);
    scale[WIDTH + 1] = '\0';
    sbuf_printf(out, "\n    %11s  %s\n", "", scale);
    for (int w = 0; w < tl->nwords; w++)
        sbuf_printf(out, "    %s\n", tl->words[w]);
}

void timeline_text(const struct lab *lab, const struct timeline *tl, bool utf8, struct sbuf *out)
{
    const char *fill = slot_glyph(tl->running ? SLOT_RUNNING : SLOT_ASLEEP, utf8);
    const char *on = slot_glyph(SLOT_RUNNING, utf8), *turns = slot_glyph(SLOT_TURNS, utf8),
               *ready = slot_glyph(SLOT_READY, utf8), *asleep = slot_glyph(SLOT_ASLEEP, utf8);
    const char *mark = utf8 ? "▲" : "^";
    if (tl->own) {
        text_own(tl, utf8, out);
        return;
    }
    double span = fmax(tl->total, tl->sum);
    if (span <= 0)
        return;
    if (tl->sampled)
        sbuf_printf(out, "    timeline of this run (sampled every 5 ms: %s on a CPU, %s taking turns for one, %s ready, "
                    "waiting for one, %s asleep; %.2f s of CPU in all):\n", on, turns, ready, asleep, tl->cpu);
    else
        sbuf_printf(out, "    timeline of this run (%s: %s; %.2f s of CPU in all):\n",
                    tl->running ? "bars on a CPU" : "bars waiting", fill, tl->cpu);
    for (int i = 0; i < tl->n; i++) {
        const struct bar *b = &tl->bars[i];
        int c0 = column(b->from, span), c1 = column(b->to, span);
        if (c1 == c0 && c1 < WIDTH)
            c1++;
        sbuf_printf(out, "    %8s %-2d |", lab->bar_label, b->id);
        for (int c = 0; c < WIDTH; c++) {
            const char *cell = c >= c0 && c < c1 ? fill : " ";
            if (tl->sampled && b->slot[c])
                cell = slot_glyph(b->slot[c], utf8);
            sbuf_puts(out, cell);
        }
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
    /* Sampled: how often two workers really were on CPUs at once. */
    int together = 0, any = 0;
    for (int c = 0; tl->sampled && c < WIDTH; c++) {
        int running = 0, alive = 0;
        for (int i = 0; i < tl->n; i++) {
            running += tl->bars[i].slot[c] == SLOT_RUNNING;
            alive += tl->bars[i].slot[c] != SLOT_NONE;
        }
        together += running >= 2;
        any += alive >= 2;
    }
    if (tl->sampled && any > 0)
        sbuf_printf(out, "    %11s  two or more on a CPU at once in %d of the %d columns where two or more lived%s\n",
                    "", together, any, together == 0 ? ": they took turns" : "");
    /* The words come from what was measured: lives that overlap on one CPU are turns, not parallel work. */
    bool took_turns = tl->sampled && any > 0 && together * 10 < any;
    const char *words = took_turns ? "alive at the same time, but they took turns on the CPUs"
                        : tl->total <= tl->longest + 0.25 * (tl->sum - tl->longest)
                            ? (tl->sampled ? "total ≈ max: they ran at the same time" : "total ≈ max: they overlapped")
                        : tl->total >= tl->sum - 0.1 * tl->sum ? "total ≈ sum: one after another"
                                                               : "between max and sum";
    sbuf_printf(out, "    %11s  0 s   max %.2f s   total %.2f s   sum %.2f s   (%s)\n", "", tl->longest,
                tl->total, tl->sum, words);
}

/* A row's sampled columns as SVG rects (the chart from left, width wide, the row at y). */
static void svg_slots(const struct bar *b, double left, double width, double y, struct sbuf *out)
{
    for (int c = 0; c < WIDTH; c++)
        if (b->slot[c])
            sbuf_printf(out, "<rect class=\"slot %s\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"16\"/>\n",
                        b->slot[c] == SLOT_RUNNING ? "running" : b->slot[c] == SLOT_TURNS ? "turns"
                        : b->slot[c] == SLOT_READY ? "ready" : "asleep",
                        left + width * c / WIDTH, y, width / WIDTH);
}

/* A lab's own timeline in SVG: the same rows; request spans as thin bars with their times. */
static void svg_own(const struct timeline *tl, struct sbuf *out)
{
    const double left = 90, width = 520, row = 22;
    double axis = 10 + row * tl->n + 6;
    sbuf_printf(out, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                "role=\"img\" aria-label=\"timeline\">\n", left + width + 170, axis + 24);
    for (int i = 0; i < tl->n; i++) {
        const struct bar *b = &tl->bars[i];
        double y = 10 + row * i;
        sbuf_printf(out, "<text x=\"4\" y=\"%.0f\" class=\"label\">", y + 14);
        html_escape(out, b->label);
        sbuf_puts(out, "</text>\n");
        if (b->kind == ROW_TASK) {
            double x0 = left + (fmax(b->from, tl->t0) - tl->t0) / tl->span * width,
                   x1 = left + (fmin(b->to, tl->t0 + tl->span) - tl->t0) / tl->span * width;
            sbuf_printf(out, "<rect class=\"bar life\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"16\"/>\n", x0, y,
                        fmax(x1 - x0, 1.0));
            svg_slots(b, left, width, y, out);
        }
        for (int k = 0; k < tl->nspans && b->kind == ROW_REQUESTS; k++) {
            const struct span *sp = &tl->spans[k];
            if (sp->row != i)
                continue;
            double x0 = left + (sp->sent - tl->t0) / tl->span * width,
                   x1 = sp->replied < 0 ? left + width : left + (fmin(sp->replied, tl->t0 + tl->span) - tl->t0) /
                                                                 tl->span * width;
            sbuf_printf(out, "<rect class=\"req%s\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"8\"><title>",
                        sp->replied < 0 ? " noreply" : "", x0, y + 4, fmax(x1 - x0, 1.5));
            html_escape(out, b->label);
            if (sp->replied < 0)
                sbuf_printf(out, ": sent at %.3f s, no reply</title></rect>\n", sp->sent - tl->t0);
            else
                sbuf_printf(out, ": sent at %.3f s, reply after %.1f ms</title></rect>\n", sp->sent - tl->t0,
                            (sp->replied - sp->sent) * 1000);
        }
        sbuf_printf(out, "<text x=\"%.1f\" y=\"%.0f\" class=\"dur\">", left + width + 6, y + 13);
        html_escape(out, b->note);
        sbuf_puts(out, "</text>\n");
    }
    sbuf_printf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", left, axis,
                left + width, axis);
    sbuf_printf(out, "<text class=\"mark-label\" x=\"%.0f\" y=\"%.0f\">0 s</text>\n", left, axis + 16);
    sbuf_printf(out, "<text class=\"mark-label\" x=\"%.0f\" y=\"%.0f\">%.2f s</text>\n", left + width - 36,
                axis + 16, tl->span);
    sbuf_puts(out, "</svg>\n");
}

void timeline_svg(const struct lab *lab, const struct timeline *tl, struct sbuf *out)
{
    const double left = 90, width = 520, row = 22;
    if (tl->own) {
        svg_own(tl, out);
        return;
    }
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
        /* Sampled: what the worker did, column by column, over its bar. */
        if (tl->sampled)
            svg_slots(b, left, width, y, out);
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
