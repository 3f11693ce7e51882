/* observe.c - the observation record: adding lines and probe records, tallies,
 * and matching output lines against a lab's patterns.
 * See also: observe.h.
 */
#define _GNU_SOURCE
#include "observe.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void obs_free(struct observation *o)
{
    for (size_t i = 0; i < o->nlines; i++)
        free(o->lines[i].text);
    free(o->lines);
    free(o->events);
    free(o->tail);
    free(o->valgrind_log);
    free(o->protection);
    free(o->tampering);
    for (size_t i = 0; i < o->nexchanges; i++) {
        free(o->exchanges[i].request);
        free(o->exchanges[i].reply);
    }
    free(o->exchanges);
    free(o->metrics);
    *o = (struct observation){0};
}

struct exchange *obs_add_exchange(struct observation *o, int conn, int phase, double sent, const char *request)
{
    if ((o->nexchanges & (o->nexchanges - 1)) == 0)
        o->exchanges = xrealloc(o->exchanges, (o->nexchanges ? o->nexchanges * 2 : 16) * sizeof *o->exchanges);
    struct exchange *x = &o->exchanges[o->nexchanges++];
    *x = (struct exchange){.conn = conn, .phase = phase, .sent = sent, .replied = -1,
                           .request = xstrdup(request)};
    return x;
}

void obs_metric(struct observation *o, const char *name, double value)
{
    if ((o->nmetrics & (o->nmetrics - 1)) == 0)
        o->metrics = xrealloc(o->metrics, (o->nmetrics ? o->nmetrics * 2 : 16) * sizeof *o->metrics);
    struct metric *m = &o->metrics[o->nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = value;
}

double obs_get_metric(const struct observation *o, const char *name, double dflt)
{
    for (size_t i = 0; i < o->nmetrics; i++)
        if (!strcmp(o->metrics[i].name, name))
            return o->metrics[i].value;
    return dflt;
}

void obs_tamper(struct observation *o, const char *fmt, ...)
{
    struct sbuf b = {0};
    if (o->tampering)
        sbuf_puts(&b, o->tampering);
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    sbuf_printf(&b, "%s\n", line ? line : "(tampering)");
    free(line);
    free(o->tampering);
    o->tampering = sbuf_take(&b);
}

void obs_add_line(struct observation *o, double t, enum stream s, const char *text, size_t len)
{
    /* Exactly as printed, but for the newline that ended it: a '\r' before
     * it is the program's (the pty does not add one: OPOST is off). */
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if ((o->nlines & (o->nlines - 1)) == 0) /* grow at powers of two */
        o->lines = xrealloc(o->lines, (o->nlines ? o->nlines * 2 : 16) * sizeof *o->lines);
    o->lines[o->nlines++] = (struct line){.t = t, .stream = s, .text = xstrndup(text, len), .len = len};
}

bool obs_add_probe_record(struct observation *o, const char *rec, double t0)
{
    struct call_event e = {0};
    long long ns;
    if (sscanf(rec, "P %d %d %lld %19s %ld %ld", &e.pid, &e.tid, &ns, e.call, &e.count, &e.arg) != 6)
        return false;
    e.t = (double)ns / 1e9 - t0;
    if ((o->nevents & (o->nevents - 1)) == 0)
        o->events = xrealloc(o->events, (o->nevents ? o->nevents * 2 : 16) * sizeof *o->events);
    o->events[o->nevents++] = e;
    return true;
}

long obs_calls(const struct observation *o, const char *call)
{
    /* Each process's records carry its running count: take the largest per pid. */
    long total = 0;
    for (size_t i = 0; i < o->nevents; i++) {
        const struct call_event *e = &o->events[i];
        if (strcmp(e->call, call) != 0)
            continue;
        /* Counted once, at the pid's first record; records of two threads can
         * reach the pipe out of order, so the latest is not always the largest. */
        bool first = true;
        long largest = e->count;
        for (size_t j = 0; j < o->nevents && first; j++) {
            const struct call_event *f = &o->events[j];
            if (j == i || f->pid != e->pid || strcmp(f->call, call) != 0)
                continue;
            if (j < i)
                first = false;
            else if (f->count > largest)
                largest = f->count;
        }
        if (first)
            total += largest;
    }
    return total;
}

int obs_processes(const struct observation *o)
{
    int n = 0;
    for (size_t i = 0; i < o->nevents; i++) {
        if (strcmp(o->events[i].call, "exec") != 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(o->events[j].call, "exec") && o->events[j].pid == o->events[i].pid;
        n += !seen;
    }
    return n;
}

int obs_threads_started(const struct observation *o)
{
    return (int)obs_calls(o, "thread_start");
}

double obs_call_time(const struct observation *o, const char *call, long nth)
{
    long seen = 0;
    for (size_t i = 0; i < o->nevents; i++)
        if (!strcmp(o->events[i].call, call) && ++seen == nth)
            return o->events[i].t;
    return -1;
}

double obs_cpu(const struct observation *o)
{
    return o->cpu_user + o->cpu_sys;
}

/* --- Patterns ------------------------------------------------------------- */

/* Reads a decimal number at s: digits, optionally '.' and digits. Returns the
 * number of characters used (0: none) and the count of decimals. */
static size_t scan_decimal(const char *s, bool integer_only, int *decimals, double *value)
{
    size_t i = 0;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (i == 0)
        return 0;
    *decimals = 0;
    if (!integer_only && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        i++;
        while (isdigit((unsigned char)s[i])) {
            i++;
            (*decimals)++;
        }
    }
    char buf[64];
    if (i >= sizeof buf)
        return 0;
    memcpy(buf, s, i);
    buf[i] = '\0';
    *value = strtod(buf, NULL);
    return i;
}

bool match_line(const char *pattern, const char *line, struct match *m)
{
    const char *p = pattern, *s = line;
    m->nfields = 0;
    while (*p) {
        if (p[0] == '{') {
            bool integer = !strncmp(p, "{i}", 3), any = !strncmp(p, "{n}", 3), two = !strncmp(p, "{t2}", 4);
            if (integer || any || two) {
                int decimals;
                double v;
                size_t used = scan_decimal(s, integer, &decimals, &v);
                if (used == 0 || (two && decimals != 2) || m->nfields == MAX_FIELDS)
                    return false;
                m->field[m->nfields++] = v;
                s += used;
                p += two ? 4 : 3;
                continue;
            }
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *s == '\0';
}

bool match_output_line(const char *pattern, const struct line *l, struct match *m)
{
    m->nfields = 0;
    return strlen(l->text) == l->len && match_line(pattern, l->text, m);
}

char *line_printable(const struct line *l)
{
    struct sbuf b = {0};
    sbuf_add_printable(&b, l->text, l->len, false);
    return sbuf_take(&b);
}

int match_any(const char *const *patterns, size_t npatterns, const char *line, struct match *m)
{
    for (size_t i = 0; i < npatterns; i++) {
        if (match_line(patterns[i], line, m)) {
            m->pattern = (int)i;
            return (int)i;
        }
    }
    m->pattern = -1;
    m->nfields = 0;
    return -1;
}
