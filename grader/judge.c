/* judge.c - shared, pure judges: output parsing, partial order, memcheck logs,
 * bad arguments, and the words used to describe a run.
 * See also: judge.h.
 */
#define _GNU_SOURCE
#include "judge.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"
#include "sandbox.h" /* SANDBOX_LOG_FD: valgrind's log descriptor */

const char *const tag_names[NTAGS] = {"build", "format", "order", "timing", "cpu",
                                      "structure", "correctness", "memory", "race", "errors", "integrity"};

void verdict_note(struct verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(&v->detail, fmt, ap);
    va_end(ap);
    sbuf_puts(&v->detail, "\n");
}

void verdict_hint(struct verdict *v, const char *hint)
{
    for (int i = 0; i < v->nhints; i++)
        if (!strcmp(v->hints[i], hint))
            return;
    if (hint && v->nhints < (int)ARRAY_LEN(v->hints))
        v->hints[v->nhints++] = hint;
}

void verdict_fail(struct verdict *v, const char *hint, const char *fmt, ...)
{
    /* The first failure gives the summary; later ones become detail lines. */
    struct sbuf *to = v->status == ST_FAIL ? &v->detail : &v->summary;
    if (v->status == ST_FAIL)
        sbuf_puts(to, "also: ");
    else
        sbuf_free(&v->summary);
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(to, fmt, ap);
    va_end(ap);
    if (to == &v->detail)
        sbuf_puts(to, "\n");
    v->status = ST_FAIL;
    if (hint)
        verdict_hint(v, hint);
}

void parse_output(const struct lab *lab, const struct observation *o, struct parsed *out)
{
    *out = (struct parsed){0};
    out->ev = xcalloc(o->nlines + 1, sizeof *out->ev);
    for (size_t i = 0; i < o->nlines; i++) {
        const struct line *l = &o->lines[i];
        if (l->stream != STREAM_OUT)
            continue;
        struct out_event *e = &out->ev[out->n++];
        e->line = i;
        e->t = l->t;
        e->text = line_printable(l);
        /* Byte for byte: a NUL (and what follows it) makes it another line. */
        if (strlen(l->text) == l->len)
            e->pattern = match_any(lab->patterns, lab->npatterns, l->text, &e->m);
        else
            e->pattern = e->m.pattern = -1;
        e->id = e->pattern >= 0 && e->m.nfields > 0 && strstr(lab->patterns[e->pattern], "{i}")
                    ? (e->m.field[0] > INT_MAX ? INT_MAX : (int)e->m.field[0]) /* huge: no worker has it */
                    : -1;
        if (e->pattern < 0)
            out->unknown++;
    }
}

void parsed_free(struct parsed *p)
{
    for (size_t i = 0; i < p->n; i++)
        free((char *)p->ev[i].text);
    free(p->ev);
    *p = (struct parsed){0};
}

void expect_known_lines(const struct parsed *out, struct verdict *v)
{
    for (size_t i = 0; i < out->n; i++)
        if (out->ev[i].pattern < 0) {
            verdict_fail(v, "format", "line %zu is not in the contract: \"%s\"", i + 1, out->ev[i].text);
            return;
        }
}

void expect_worker_lines(const struct parsed *out, int count, const struct worker_lines *w, struct verdict *v)
{
    char shown[128];
    for (int k = 1; k <= count; k++) {
        size_t s = count_events(out, w->started, k), f = count_events(out, w->finished, k);
        if (s != 1) {
            snprintf(shown, sizeof shown, w->started_shown, k);
            verdict_fail(v, "format", "\"%s\" printed %zu times (expected once)", shown, s);
        }
        if (f != 1) {
            snprintf(shown, sizeof shown, w->finished_shown, k);
            verdict_fail(v, "format", "\"%s\" printed %zu times (expected once)", shown, f);
        }
    }
    for (size_t i = 0; i < out->n; i++) {
        const struct out_event *e = &out->ev[i];
        if ((e->pattern == w->started || e->pattern == w->finished) && (e->id < 1 || e->id > count)) {
            verdict_fail(v, w->stray_hint, "\"%s\": there are only %d %s in this run (numbered from 1)", e->text,
                         count, w->workers);
            return;
        }
    }
}

void expect_once(const struct parsed *out, int pattern, const char *shown, struct verdict *v)
{
    size_t n = count_events(out, pattern, -1);
    if (n != 1)
        verdict_fail(v, "format", "\"%s\" printed %zu times (expected once)", shown, n);
}

static bool selected(const struct out_event *e, struct selector s)
{
    if (e->pattern < 0)
        return false;
    return (s.pattern < 0 || e->pattern == s.pattern) && (s.id < 0 || e->id == s.id);
}

size_t count_events(const struct parsed *p, int pattern, int id)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += selected(&p->ev[i], (struct selector){pattern, id});
    return n;
}

const struct out_event *find_event(const struct parsed *p, int pattern, int id)
{
    for (size_t i = 0; i < p->n; i++)
        if (selected(&p->ev[i], (struct selector){pattern, id}))
            return &p->ev[i];
    return NULL;
}

int check_order(const struct parsed *p, const struct order_rule *rules, size_t nrules,
                const struct out_event **late_a, const struct out_event **early_b)
{
    for (size_t r = 0; r < nrules; r++) {
        /* Broken when some b-line comes before the last a-line. */
        const struct out_event *first_b = NULL, *last_a = NULL;
        for (size_t i = 0; i < p->n; i++) {
            const struct out_event *e = &p->ev[i];
            if (selected(e, rules[r].a))
                last_a = e;
            if (!first_b && selected(e, rules[r].b))
                first_b = e;
        }
        if (first_b && last_a && first_b->line < last_a->line && first_b != last_a) {
            *late_a = last_a;
            *early_b = first_b;
            return (int)r;
        }
    }
    return -1;
}

/* The engine's reason for a run it did not start (its time budget was spent), or NULL. */
static const char *not_run_reason(const struct observation *o)
{
    if (o->started || o->nlines == 0 || strncmp(o->lines[0].text, "not run: ", 9) != 0)
        return NULL;
    return o->lines[0].text + 9;
}

void describe_end(const struct observation *o, struct sbuf *out)
{
    if (not_run_reason(o))
        sbuf_printf(out, "was not run this time: %s", not_run_reason(o));
    else if (!o->started)
        sbuf_puts(out, "could not be started");
    else if (o->timed_out)
        sbuf_printf(out, "was stopped at the %.0f s time limit", o->time_limit);
    else if (o->output_flood)
        sbuf_printf(out, "was stopped after printing %zu bytes (endless output?)", o->out_bytes);
    else if (o->term_signal)
        sbuf_printf(out, "was killed by signal %d (%s)", o->term_signal, sigabbrev_np(o->term_signal)
                    ? sigabbrev_np(o->term_signal) : "?");
    else
        sbuf_printf(out, "exited with status %d", o->exit_code);
}

void note_failed_waits(const struct observation *o, struct verdict *v)
{
    long eintr = 0, other = 0, other_errno = 0;
    for (size_t i = 0; i < o->nevents; i++) {
        if (strcmp(o->events[i].call, "wait_failed") != 0)
            continue;
        if (o->events[i].arg == EINTR)
            eintr++;
        else {
            other++;
            other_errno = o->events[i].arg;
        }
    }
    if (eintr) {
        verdict_note(v, "  the probe saw select()/poll() return -1 with errno EINTR %ld time%s (a signal)", eintr,
                     eintr == 1 ? "" : "s");
        verdict_hint(v, "eintr");
    }
    if (other)
        verdict_note(v, "  the probe saw select()/poll() fail %ld time%s (%s)", other, other == 1 ? "" : "s",
                     strerror((int)other_errno));
}

bool ended_well(const struct observation *o)
{
    return o->started && o->exited && o->exit_code == 0 && !o->timed_out && !o->output_flood;
}

bool fail_if_crashed(const struct observation *o, struct verdict *v)
{
    if (ended_well(o))
        return false;
    struct sbuf s = {0};
    describe_end(o, &s);
    const char *hint = o->timed_out || not_run_reason(o) ? "time-limit" : o->output_flood ? "output-flood"
                       : o->term_signal ? "crash" : !o->started ? "cannot-start" : "exit-status";
    verdict_fail(v, hint, "the program %s", s.data);
    sbuf_free(&s);
    int procs = obs_processes(o);
    if (procs >= 32)
        verdict_fail(v, "fork-bomb", "it started %d processes before it was stopped", procs);
    quote_output(o, v, 12);
    return true;
}

void describe_calls(const struct observation *o, const char *const *calls, size_t ncalls,
                    struct sbuf *out)
{
    bool any = false;
    for (size_t i = 0; i < ncalls; i++) {
        long n = obs_calls(o, calls[i]);
        if (n == 0)
            continue;
        sbuf_printf(out, "%s%s %ld time%s", any ? ", " : "", calls[i], n, n == 1 ? "" : "s");
        any = true;
    }
    if (!any)
        sbuf_puts(out, "none of them");
}

void parallel_view(const struct evidence *ev, const struct observation *o, int n,
                   bool (*is_worker)(const struct observation *o, const struct task *t), struct parallel_view *pv)
{
    *pv = (struct parallel_view){.n = n, .k = n < ev->cpus ? n : ev->cpus};
    pv->bar = 1 + PAIR_MARGIN * (pv->k - 1);
    pv->conc = o->traced ? obs_worker_concurrency(o, is_worker, &pv->worker_cpu, &pv->busy) : -1;
    pv->conc_known = pv->conc > 0;
    pv->npairs = ev->npairs;
    pv->speed_known = ev->npairs > 0 && ev->pair_many > 0;
    pv->speedup = pv->speed_known ? n * ev->pair_one / ev->pair_many : 0;
}

bool parallel_conc_ok(const struct parallel_view *pv)
{
    return !pv->conc_known || pv->conc >= pv->bar;
}

bool parallel_speed_ok(const struct parallel_view *pv)
{
    return !pv->speed_known || pv->speedup >= pv->bar;
}

void describe_parallel(const struct parallel_view *pv, const char *workers, struct sbuf *out)
{
    if (pv->conc_known)
        sbuf_printf(out, "%s on a CPU at once ×%.2f (sampled every 5 ms: %.2f s of their CPU over %.2f s with "
                    "one or more running)", workers, pv->conc, pv->worker_cpu, pv->busy);
    if (pv->speed_known)
        sbuf_printf(out, "%spaired runs: speed-up ×%.2f (N × one worker's CPU time / N workers' wall time, 1 "
                    "worker vs %d, same work each, best of %d)",
                    pv->conc_known ? "; " : "", pv->speedup, pv->n, pv->npairs);
    if (pv->conc_known || pv->speed_known)
        sbuf_printf(out, "; at least ×%.2f expected", pv->bar);
}

void note_kernel_view(const struct observation *o, struct verdict *v)
{
    size_t shown = 0;
    for (size_t i = 0; i < o->ntasks && shown < 8; i++, shown++) {
        const struct task *t = &o->tasks[i];
        struct sbuf calls = {0};
        for (int k = 0; k < SK_N; k++)
            if (t->calls[k] && k != SK_EXIT_GROUP)
                sbuf_printf(&calls, "%s%s %ld", calls.len ? ", " : "", sys_kind_name[k], t->calls[k]);
        const char *parent = t->parent == 0 ? "started by the grader" : t->is_thread ? "thread of" : "child of";
        char who[48] = "";
        if (t->parent)
            snprintf(who, sizeof who, " %d", t->is_thread ? t->tgid : t->parent);
        char end[24] = "?";
        if (t->end >= 0)
            snprintf(end, sizeof end, "%.3f", t->end);
        verdict_note(v, "  kernel: %s %d (%s%s), %.3f to %s s%s%s", t->is_thread ? "thread" : "process", t->tid,
                     parent, who, t->start, end, calls.len ? ": " : "", calls.len ? calls.data : "");
        sbuf_free(&calls);
    }
    if (o->ntasks > shown)
        verdict_note(v, "  kernel: ... and %zu more tasks", o->ntasks - shown);
    if (o->tampering)
        verdict_note(v, "  the probe's records disagree with the kernel's (see the integrity check)");
}

void quote_output(const struct observation *o, struct verdict *v, size_t max)
{
    size_t shown = 0;
    for (size_t i = 0; i < o->nlines && shown < max; i++, shown++) {
        char *text = line_printable(&o->lines[i]); /* a program cannot repaint the report */
        verdict_note(v, "  %6.3fs %s| %s", o->lines[i].t, o->lines[i].stream == STREAM_ERR ? "err" : "out", text);
        free(text);
    }
    if (o->nlines > max)
        verdict_note(v, "  ... %zu more line(s)", o->nlines - max);
    if (o->dropped_lines)
        verdict_note(v, "  ... %zu line(s) not kept (%zu bytes printed in all)", o->dropped_lines,
                     o->out_bytes);
    if (o->nlines == 0)
        verdict_note(v, "  (no output)");
}

void judge_build(const struct evidence *ev, struct verdict *v)
{
    const struct build_result *b = ev->build;
    if (!b->ok) {
        verdict_fail(v, "build-failed", "the program did not compile");
    } else if (b->warnings) {
        sbuf_printf(&v->summary, "compiled, with %d warning%s (read them: most are bugs)",
                    b->warnings, b->warnings == 1 ? "" : "s");
    } else {
        sbuf_puts(&v->summary, "compiled with no warnings");
    }
    if (b->log && *b->log) {
        /* At most 30 lines of the compiler's output. */
        const char *s = b->log;
        for (int n = 0; *s && n < 30; n++) {
            const char *nl = strchr(s, '\n');
            size_t len = nl ? (size_t)(nl - s) : strlen(s);
            verdict_note(v, "  %.*s", (int)len, s);
            s = nl ? nl + 1 : s + len;
        }
        if (*s)
            verdict_note(v, "  ...");
    }
}

/* --- valgrind memcheck --------------------------------------------------------- */

/* Sums a "definitely lost: 1,234 bytes" figure (commas allowed). */
static long leak_bytes(const char *s)
{
    long n = 0;
    for (; *s && *s != ' '; s++)
        if (*s >= '0' && *s <= '9' && n < 1000000000000L) /* saturate: never overflow */
            n = n * 10 + (*s - '0');
    return n;
}

/* One process as valgrind's log tells of it ("==PID== ..." lines). */
struct vg_proc {
    int pid;
    bool command;            /* its "Command:" line: valgrind started on it */
    int summaries;           /* "ERROR SUMMARY" lines: 1 when it ended under valgrind */
    long errors, lost;       /* the largest figures any of its lines gave */
    int open_fds;
};

/* The process of one log line, and the text after "==PID== "; NULL: not a valgrind line. */
static const char *vg_line(const char *line, int *pid)
{
    int n = 0;
    if (sscanf(line, "==%d==%n", pid, &n) != 1 || n == 0)
        return NULL;
    return line[n] == ' ' ? line + n + 1 : line + n;
}

static struct vg_proc *vg_proc_of(struct vg_proc **ps, size_t *n, int pid)
{
    for (size_t i = 0; i < *n; i++)
        if ((*ps)[i].pid == pid)
            return &(*ps)[i];
    *ps = xrealloc(*ps, (*n + 1) * sizeof **ps);
    (*ps)[*n] = (struct vg_proc){.pid = pid};
    return &(*ps)[(*n)++];
}

/* Reads valgrind's log, process by process. The program can add lines to it
 * (by reopening its pipe), never remove one: every figure is the worst any
 * line gave, so whatever a program adds can only make its verdict worse. */
static size_t vg_processes(const char *log, struct vg_proc **out)
{
    struct vg_proc *ps = NULL;
    size_t n = 0;
    for (const char *s = log; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < 511 ? len : 511), s);
        int pid, a, b;
        const char *body = vg_line(line, &pid);
        s = nl ? nl + 1 : NULL;
        if (!body)
            continue;
        struct vg_proc *p = vg_proc_of(&ps, &n, pid);
        const char *at;
        if (!strncmp(body, "Command: ", 9))
            p->command = true;
        if (sscanf(body, "ERROR SUMMARY: %d", &a) == 1) {
            p->summaries++;
            if (a > p->errors)
                p->errors = a;
        }
        if ((at = strstr(body, "definitely lost: ")) && leak_bytes(at + 17) > p->lost)
            p->lost = leak_bytes(at + 17);
        if (sscanf(body, "FILE DESCRIPTORS: %d open (%d std)", &a, &b) == 2 && a - b > p->open_fds)
            p->open_fds = a - b;
    }
    *out = ps;
    return n;
}

void valgrind_tampering(const char *log, struct sbuf *why)
{
    struct vg_proc *ps;
    size_t n = vg_processes(log ? log : "", &ps);
    for (size_t i = 0; i < n; i++)
        if (ps[i].summaries > 1)
            sbuf_printf(why, "valgrind's log holds %d summaries for process %d, which ends once: lines were "
                        "written into the log\n", ps[i].summaries, ps[i].pid);
    free(ps);
    /* valgrind refuses the program its log's descriptor, and says so when it tries. */
    char warning[64];
    snprintf(warning, sizeof warning, "invalid file descriptor %d in syscall", SANDBOX_LOG_FD);
    for (const char *s = log; s && (s = strstr(s, warning)); s++) {
        const char *call = s + strlen(warning);
        if (strncmp(call, " close", 6) != 0) { /* a loop closing every descriptor is no attack */
            sbuf_printf(why, "the program used valgrind's log descriptor (%d): %.*s\n", SANDBOX_LOG_FD,
                        (int)strcspn(s, "\n"), s);
            break;
        }
    }
}

void judge_memory(const struct evidence *ev, struct verdict *v)
{
    const struct observation *o = &ev->runs[0];
    const char *log = o->valgrind_log;
    if (o->timed_out) {
        /* Leaks are counted at exit: a program stopped by force has no verdict to give. */
        verdict_fail(v, "time-limit", "the program did not finish (it was stopped at the %.0f s time limit), so "
                     "its memory could not be checked", o->time_limit);
        return;
    }
    if (!log || !*log) {
        if (fail_if_crashed(o, v))
            return;
        verdict_fail(v, "exit-status", "valgrind wrote no report (did the program run?)");
        return;
    }
    struct vg_proc *ps;
    size_t nprocs = vg_processes(log, &ps);
    int procs = 0, errors = 0, open_fds = 0, unfinished = 0, first_unfinished = 0;
    long lost = 0;
    for (size_t i = 0; i < nprocs; i++) {
        procs += ps[i].command || ps[i].summaries > 0;
        errors += (int)ps[i].errors;
        lost += ps[i].lost;
        open_fds += ps[i].open_fds;
        if (ps[i].command && ps[i].summaries == 0 && !unfinished++)
            first_unfinished = ps[i].pid;
    }
    free(ps);
    const char *first_error = NULL, *crashed = NULL;
    int quoted = 0;
    for (const char *s = log; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < 511 ? len : 511), s);
        int pid, fd;
        const char *body = vg_line(line, &pid);
        /* valgrind's own fatal messages: what it says after that is not a clean report. */
        if (!body && (!strncmp(line, "valgrind: ", 10) || !strncmp(line, "host stacktrace:", 16)) && !crashed)
            crashed = s;
        /* Files say "Open file descriptor N:", sockets "Open AF_INET socket N: a <-> b" (lab 4);
         * a server may leave hundreds: five are quoted. */
        if (body && (sscanf(body, "Open file descriptor %d", &fd) == 1 || sscanf(body, "Open AF_%*s socket %d", &fd) == 1) &&
            fd > 2 && quoted++ < 5)
            verdict_note(v, "  left open: %s", body);
        if (body && !first_error && (strstr(body, "Invalid ") == body || strstr(body, "Conditional jump") == body ||
                                     strstr(body, "Use of uninitialised") == body ||
                                     strstr(body, "Syscall param") == body || strstr(body, "Mismatched free") == body))
            first_error = s;
        s = nl ? nl + 1 : NULL;
    }
    if (first_error) {
        verdict_fail(v, "invalid-access", "valgrind found invalid memory use");
        const char *s = first_error;
        for (int k = 0; k < 6 && s && *s; k++) {
            const char *nl = strchr(s, '\n');
            verdict_note(v, "  %.*s", (int)(nl ? nl - s : (long)strlen(s)), s);
            s = nl ? nl + 1 : NULL;
        }
    }
    if (lost > 0)
        verdict_fail(v, "leak", "%ld byte%s definitely lost (memory never freed)", lost, lost == 1 ? "" : "s");
    if (open_fds > 0)
        verdict_fail(v, "fd-leak", "%d file descriptor%s left open at exit", open_fds, open_fds == 1 ? "" : "s");
    if (v->status != ST_FAIL && errors > 0)
        verdict_fail(v, "invalid-access", "valgrind counted %d error%s", errors, errors == 1 ? "" : "s");
    if (unfinished > 0)
        verdict_fail(v, NULL, "valgrind's summary is missing for %d process%s (process %d): one that ends out of "
                     "valgrind's sight is not a clean one", unfinished, unfinished == 1 ? "" : "es", first_unfinished);
    if (crashed)
        verdict_fail(v, NULL, "valgrind itself failed (\"%.*s\"): its report is cut short, so it is not a clean one",
                     (int)(strcspn(crashed, "\n") < 120 ? strcspn(crashed, "\n") : 120), crashed);
    struct sbuf forged = {0};
    valgrind_tampering(log, &forged);
    if (forged.len)
        verdict_fail(v, NULL, "%.*s", (int)strcspn(forged.data, "\n"), forged.data);
    sbuf_free(&forged);
    if (v->status != ST_FAIL && !ended_well(o))
        fail_if_crashed(o, v);
    if (v->status != ST_FAIL && procs == 0)
        verdict_fail(v, "exit-status", "valgrind's log names no process (did the program run?)");
    if (v->status != ST_FAIL)
        sbuf_printf(&v->summary, "valgrind memcheck: no errors, no leaks, no open descriptors (%d process%s)",
                    procs, procs == 1 ? "" : "es");
}

/* --- integrity ---------------------------------------------------------------- */

void judge_integrity(const struct evidence *ev, struct verdict *v)
{
    struct sbuf why = {0};
    size_t runs_with = 0;
    for (size_t i = 0; i < ev->nall; i++) {
        const struct observation *o = ev->all_runs[i];
        size_t before = why.len;
        if (o->tampering)
            sbuf_puts(&why, o->tampering);
        if (o->valgrind_log)
            valgrind_tampering(o->valgrind_log, &why);
        runs_with += why.len > before;
    }
    if (ev->source_findings)
        sbuf_puts(&why, ev->source_findings);
    if (why.len) {
        size_t first = strcspn(why.data, "\n");
        verdict_fail(v, "integrity", "%.*s", (int)first, why.data);
        /* The rest, once each (a run after run may say the same). */
        for (const char *s = why.data + first + (why.data[first] == '\n'); *s;) {
            size_t len = strcspn(s, "\n");
            bool seen = false;
            for (const char *t = why.data; t < s && !seen;) {
                size_t tl = strcspn(t, "\n");
                seen = tl == len && !strncmp(t, s, len);
                t += tl + (t[tl] == '\n');
            }
            if (!seen)
                verdict_note(v, "  also: %.*s", (int)len, s);
            s += len + (s[len] == '\n');
        }
        if (runs_with > 0)
            verdict_note(v, "  (seen in %zu of the grading's %zu runs)", runs_with, ev->nall);
        verdict_note(v, "  an integrity failure sets the whole score to 0");
    } else {
        sbuf_printf(&v->summary, "%zu run%s watched, nothing tampered with%s", ev->nall, ev->nall == 1 ? "" : "s",
                    ev->source_findings ? "; the source reads the same under the race detector and uses none "
                    "of its hooks" : "");
    }
    sbuf_free(&why);
}

/* --- bad arguments ---------------------------------------------------------- */

void judge_bad_args(const struct evidence *ev, struct verdict *v)
{
    int good = 0;
    const struct observation *ctl = ev->control;
    if (ctl && !ended_well(ctl)) {
        /* Exit status 2 means "bad arguments" only from a program that succeeds with good ones. */
        struct sbuf end = {0};
        describe_end(ctl, &end);
        verdict_fail(v, "exit-status", "with good arguments the program %s too, so its answer to bad "
                     "ones proves nothing", end.data);
        sbuf_free(&end);
        return;
    }
    for (size_t i = 0; i < ev->nruns; i++) {
        const struct observation *o = &ev->runs[i];
        const struct params *p = &ev->params[i];
        struct sbuf args = {0};
        for (int a = 0; a < p->nargs; a++)
            sbuf_printf(&args, "%s'%s'", a ? " " : "", p->arg[a]);
        struct parsed out;
        parse_output(ev->lab, o, &out);
        size_t err_lines = 0;
        for (size_t l = 0; l < o->nlines; l++)
            err_lines += o->lines[l].stream == STREAM_ERR && o->lines[l].len > 0;
        struct sbuf end = {0};
        describe_end(o, &end);
        size_t normal = out.n - out.unknown;
        if (!o->exited || o->exit_code != 2) {
            verdict_fail(v, o->timed_out ? "time-limit" : o->term_signal ? "crash" : "bad-args", "with arguments %s the program %s (expected exit status 2)",
                         args.data, end.data);
        } else if (err_lines == 0) {
            verdict_fail(v, "bad-args", "with arguments %s there was no message on stderr", args.data);
        } else if (normal > 0) {
            const struct out_event *first = find_event(&out, -1, -1); /* the first contract line */
            verdict_fail(v, "bad-args", "with arguments %s the program still printed %zu normal line%s (\"%s\")",
                         args.data, normal, normal == 1 ? "" : "s", first ? first->text : "");
        } else {
            good++;
        }
        parsed_free(&out);
        sbuf_free(&args);
        sbuf_free(&end);
    }
    if (v->status != ST_FAIL)
        sbuf_printf(&v->summary, "%d bad argument list%s: each got a message and exit status 2", good,
                    good == 1 ? "" : "s");
}
