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

#include "build.h"
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
    else if (o->timed_out && o->time_extra >= 0.5)
        sbuf_printf(out, "was stopped at the %.3g s time limit (%.3g s, and %.2g s more for the CPU time other "
                    "programs took meanwhile)", o->time_limit, o->time_limit - o->time_extra, o->time_extra);
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

/* The shell of an --exec command said it could not run it: "sh: 1: exec: ./x: not found", status 127
 * (126: not executable). The program never started: that is no exit status of the student's. */
static bool shell_could_not_start(const struct observation *o)
{
    if (!o->exited || (o->exit_code != 126 && o->exit_code != 127))
        return false;
    for (size_t i = 0; i < o->nlines; i++)
        if (o->lines[i].stream == STREAM_ERR && !strncmp(o->lines[i].text, "sh: ", 4) &&
            (strstr(o->lines[i].text, "not found") || strstr(o->lines[i].text, "Permission denied")))
            return true;
    return false;
}

bool fail_if_crashed(const struct observation *o, struct verdict *v)
{
    if (ended_well(o))
        return false;
    struct sbuf s = {0};
    describe_end(o, &s);
    const char *hint = o->timed_out || not_run_reason(o) ? "time-limit" : o->output_flood ? "output-flood"
                       : o->term_signal ? "crash" : !o->started || shell_could_not_start(o) ? "cannot-start"
                       : "exit-status";
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

/* Beside other programs a right program's workers wait for a CPU: a make test step that shared the
 * machine failed a right lab-2 program (speed-up 1.08, each child 25% more CPU than alone). */
#define CROWDED_OTHERS 0.10 /* other programs used at least this share of the CPUs... */
#define CROWDED_WAIT 0.10   /* ...and the workers waited this share of their time beyond N > CPUs' own */

bool parallel_crowded_out(const struct evidence *ev, const struct observation *o, int n,
                          bool (*is_worker)(const struct observation *o, const struct task *t), double *waited)
{
    *waited = o->traced ? obs_workers_cpu_wait(o, is_worker) : 0;
    if (!o->traced || n < 1 || o->wall <= 0 || ev->cpus < 1)
        return false;
    double own = n > ev->cpus ? (double)(n - ev->cpus) / n : 0; /* N workers on fewer CPUs take turns anyway */
    return o->others_cpu > CROWDED_OTHERS * ev->cpus * o->wall && *waited > (own + CROWDED_WAIT) * n * o->wall;
}

#define QUIET_WAIT 0.02 /* the workers waited for a CPU at most this share of their time beyond their own turns */
#define QUIET_SPEED 1.3 /* and their CPU per iteration was at most this x one worker's alone */

bool parallel_quiet(const struct evidence *ev, const struct observation *o, int n,
                    bool (*is_worker)(const struct observation *o, const struct task *t))
{
    if (!o->traced || n < 1 || o->wall <= 0 || ev->cpus < 2)
        return false;
    double waited = obs_workers_cpu_wait(o, is_worker);
    double own = n > ev->cpus ? (double)(n - ev->cpus) / n : 0;
    if (waited > (own + QUIET_WAIT) * n * o->wall)
        return false; /* others' CPU that kept no worker waiting did no harm */
    /* CPUs that ran slower than in the one-worker runs (a slow mode: the same loop here took 0.13 s
     * or 0.35 s from run to run; a core shared with another program's thread) are noise too, which
     * the run delay does not show. (So is the CPU spinning workers burn: such a program gets all
     * its attempts.) */
    const struct params *p = &ev->params[0];
    if (ev->npairs > 0 && ev->pair_one > 0 && p->count > 0 && p->iterations > 0) {
        double cpu = 0;
        for (size_t i = 0; i < o->ntasks; i++)
            if (is_worker(o, &o->tasks[i]) && o->tasks[i].cpu > 0)
                cpu += o->tasks[i].cpu;
        if (cpu / ((double)p->count * (double)p->iterations) > QUIET_SPEED * ev->pair_one)
            return false;
    }
    return true; /* quiet: another attempt would measure the same */
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

/* --- the build ------------------------------------------------------------------ */

/* Where a function the compiler did not know is declared, and the feature
 * macro that -std=c11 needs before it shows it. */
static const struct {
    const char *fn, *where;
} declared_in[] = {
    {"usleep", "<unistd.h>, and only with #define _DEFAULT_SOURCE before the first #include "
               "(-std=c11 hides it; better: nanosleep, or in lab 1 select())"},
    {"nanosleep", "<time.h>, with #define _POSIX_C_SOURCE 200809L before the first #include"},
    {"clock_gettime", "<time.h>, with #define _POSIX_C_SOURCE 200809L before the first #include"},
    {"pselect", "<sys/select.h>, with #define _POSIX_C_SOURCE 200809L before the first #include"},
    {"select", "<sys/select.h>, with #define _POSIX_C_SOURCE 200809L before the first #include"},
    {"sigaction", "<signal.h>, with #define _POSIX_C_SOURCE 200809L before the first #include"},
    {"strdup", "<string.h>, with #define _POSIX_C_SOURCE 200809L before the first #include"},
    {"fork", "<unistd.h>"}, {"pipe", "<unistd.h>"}, {"read", "<unistd.h>"}, {"write", "<unistd.h>"},
    {"close", "<unistd.h>"}, {"_exit", "<unistd.h>"}, {"getpid", "<unistd.h>"}, {"sleep", "<unistd.h>"},
    {"wait", "<sys/wait.h>"}, {"waitpid", "<sys/wait.h>"},
    {"malloc", "<stdlib.h>"}, {"calloc", "<stdlib.h>"}, {"free", "<stdlib.h>"}, {"exit", "<stdlib.h>"},
    {"abs", "<stdlib.h>"}, {"labs", "<stdlib.h>"}, {"strtod", "<stdlib.h>"}, {"strtol", "<stdlib.h>"}, {"strtoll", "<stdlib.h>"}, {"atoi", "<stdlib.h>"},
    {"printf", "<stdio.h>"}, {"fprintf", "<stdio.h>"}, {"perror", "<stdio.h>"}, {"fflush", "<stdio.h>"},
    {"strcmp", "<string.h>"}, {"strlen", "<string.h>"}, {"memset", "<string.h>"}, {"strerror", "<string.h>"},
    {"ceil", "<math.h>"}, {"floor", "<math.h>"}, {"round", "<math.h>"}, {"isfinite", "<math.h>"},
    {"pthread_create", "<pthread.h>"}, {"pthread_join", "<pthread.h>"},
    {"pthread_mutex_lock", "<pthread.h>"}, {"pthread_mutex_unlock", "<pthread.h>"},
};

/* The warning kinds a hint explains: the compiler's -W option, and the hint. */
static const struct {
    const char *flag, *hint;
} warning_hints[] = {
    {"-Wimplicit-function-declaration", "implicit-declaration"},
    {"-Wunused-variable", "unused"}, {"-Wunused-parameter", "unused"}, {"-Wunused-function", "unused"},
    {"-Wunused-but-set-variable", "unused"},
    {"-Wuninitialized", "uninitialized"}, {"-Wmaybe-uninitialized", "uninitialized"},
    {"-Wformat=", "format-string"}, {"-Wformat", "format-string"},
    {"-Wreturn-type", "return-type"}, {"-Wsign-compare", "sign-compare"},
    {"-Wunused-result", "unused-result"},
};

int parse_compiler_warnings(const char *log, struct cc_warning *w, int max)
{
    int n = 0;
    for (const char *s = log; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[600];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), s);
        s = nl ? nl + 1 : s + len;
        /* file:line:col: warning: text [-Wflag]   (gcc and clang) */
        char *tag = strstr(line, ": warning: ");
        if (!tag)
            continue;
        *tag = '\0';
        char *colon = strchr(line, ':');
        long ln = colon ? strtol(colon + 1, NULL, 10) : 0;
        if (colon)
            *colon = '\0';
        if (n < max) {
            struct cc_warning *x = &w[n];
            *x = (struct cc_warning){.line = (int)ln};
            snprintf(x->file, sizeof x->file, "%.127s", line);
            snprintf(x->text, sizeof x->text, "%s", tag + 11);
            /* The option names the kind; the first 'quoted' word names the thing. */
            char *br = strrchr(x->text, '[');
            if (br && strchr(br, ']'))
                snprintf(x->flag, sizeof x->flag, "%.*s", (int)(strchr(br, ']') - br - 1), br + 1);
            const char *q = x->text;
            while (*q && *q != '\'' && strncmp(q, "\xE2\x80\x98", 3)) /* ' or U+2018 */
                q++;
            if (*q) {
                q += *q == '\'' ? 1 : 3;
                size_t k = 0;
                while (q[k] && q[k] != '\'' && strncmp(q + k, "\xE2\x80\x99", 3) && k < sizeof x->name - 1)
                    k++;
                snprintf(x->name, sizeof x->name, "%.*s", (int)k, q);
            }
        }
        n++;
    }
    return n;
}

#define SHOWN_WARNINGS 5
#define MAX_WARNINGS 64 /* read for their hints; the first SHOWN_WARNINGS are shown */

void judge_build(const struct evidence *ev, struct verdict *v)
{
    const struct build_result *b = ev->build;
    struct cc_warning *w = xcalloc(MAX_WARNINGS, sizeof *w);
    int nw = parse_compiler_warnings(b->log, w, MAX_WARNINGS);
    if (!b->ok) {
        verdict_fail(v, "build-failed", "the program did not compile");
    } else if (nw) {
        sbuf_printf(&v->summary, "compiled, with %d warning%s (read them: most are bugs)", nw, nw == 1 ? "" : "s");
        for (int i = 0; i < nw && i < MAX_WARNINGS; i++) {
            if (i < SHOWN_WARNINGS) {
                verdict_note(v, "  %s:%d: warning: %s", w[i].file, w[i].line, w[i].text);
                if (!strcmp(w[i].flag, "-Wimplicit-function-declaration"))
                    for (size_t k = 0; k < ARRAY_LEN(declared_in); k++)
                        if (!strcmp(w[i].name, declared_in[k].fn))
                            verdict_note(v, "    %s is declared in %s", w[i].name, declared_in[k].where);
            }
            for (size_t k = 0; k < ARRAY_LEN(warning_hints); k++)
                if (!strncmp(w[i].flag, warning_hints[k].flag, strlen(warning_hints[k].flag))) {
                    verdict_hint(v, warning_hints[k].hint);
                    break;
                }
        }
        if (nw > SHOWN_WARNINGS)
            verdict_note(v, "  and %d more: see them all with the grader's own command,", nw - SHOWN_WARNINGS);
        if (nw > SHOWN_WARNINGS && ev->lab) {
            struct sbuf cmd = {0};
            build_command(ev->lab, &cmd);
            verdict_note(v, "    %s", cmd.data);
            sbuf_free(&cmd);
        }
        v->shown = true;
        free(w);
        return;
    } else {
        sbuf_puts(&v->summary, "compiled with no warnings");
    }
    free(w);
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

/* Reads "1,234" (commas allowed), saturating: never overflows. */
static long leak_bytes(const char *s)
{
    long n = 0;
    for (; *s && *s != ' '; s++)
        if (*s >= '0' && *s <= '9' && n < 1000000000000L)
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

/* valgrind's log with one message per line. Processes share one log pipe, and
 * --trace-malloc writes "--PID-- malloc(8)" and its " = 0x4A44080\n" in two
 * writes, so another process's message can land between them, glued to the
 * line: a newline goes before every "==PID== " or "--PID-- " that does not
 * start a line (caller frees). Splitting can only make more lines. */
static char *vg_split(const char *log)
{
    struct sbuf b = {0};
    sbuf_puts(&b, "");
    for (const char *s = log ? log : ""; *s; s++) {
        int pid, n = 0;
        if (s > log && s[-1] != '\n' && (*s == '=' || *s == '-') && s[1] == s[0] &&
            (sscanf(s, "==%d== %n", &pid, &n) == 1 || sscanf(s, "--%d-- %n", &pid, &n) == 1) && n > 3 &&
            s[n - 3] == s[0])
            sbuf_add(&b, "\n", 1);
        sbuf_add(&b, s, 1);
    }
    return sbuf_take(&b);
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
    char *lines = vg_split(log);
    size_t n = vg_processes(lines, &ps);
    free(lines);
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

/* One process's records, for the report: which process it is (the parent, child k),
 * what it left open and lost, and where each came from (its ==PID== lines). */
#define VG_MAX_PROCS 64
#define VG_MAX_RECORDS 32
#define VG_MAX_SIZES 64 /* distinct sizes kept per process; past that, any size counts as its own */
struct vg_site {
    char fn[64];        /* the frame in the program nearest the call: "main" */
    char at[160];       /* its "forkcount.c:24", or "" */
    char call[32];      /* the innermost frame: "malloc", "pipe", "open" */
};
struct vg_record {
    bool is_fd;
    long bytes;         /* leak: bytes definitely lost */
    long direct;        /* leak: of which in the record's own blocks ("(16 direct, 8 indirect)") */
    int blocks;         /* leak: how many blocks */
    int fd;             /* descriptor: its number under valgrind */
    char what[160];     /* descriptor: valgrind's description (a path, a socket), or "" */
    struct vg_site site;
};
struct vg_detail {
    int pid, ppid;      /* ppid: from "Parent PID:" (valgrind's preamble), 0 if none */
    bool command;       /* a "Command:" line: valgrind started here (not a fork() copy) */
    unsigned long long inherited_fds; /* fds 0-63 it inherited from valgrind's parent */
    int child;          /* 0: the first process (the parent), k: its k-th child by pid, -1: deeper */
    int says;           /* k of the "Process k" lines it wrote (the kernel's word), 0: none, -1: several */
    int errors;         /* ERROR SUMMARY, leak records taken out */
    bool traced;        /* valgrind's --trace-malloc spoke for it ("--PID-- malloc(8) = 0x...") */
    int nsizes;         /* the sizes of the blocks it allocated itself, after its fork() */
    long sizes[VG_MAX_SIZES];
    const char *first_error; /* first line of its first invalid-access error */
    int nrec;
    struct vg_record rec[VG_MAX_RECORDS];
};

/* "   by 0x1091DD: main (forkcount.c:134)" -> fn "main", file:line "forkcount.c:134". */
static bool parse_frame(const char *body, char *fn, size_t fnlen, char *at, size_t atlen)
{
    while (*body == ' ')
        body++;
    if (strncmp(body, "at ", 3) && strncmp(body, "by ", 3))
        return false;
    const char *c = strstr(body, ": ");
    if (!c)
        return false;
    c += 2;
    const char *paren = strstr(c, " (");
    size_t n = paren ? (size_t)(paren - c) : strlen(c);
    snprintf(fn, fnlen, "%.*s", (int)(n < fnlen ? n : fnlen - 1), c);
    at[0] = '\0';
    if (paren && strncmp(paren + 2, "in ", 3)) {
        const char *end = strchr(paren + 2, ')');
        if (end)
            snprintf(at, atlen, "%.*s", (int)(end - paren - 2 < (long)atlen ? end - paren - 2 : (long)atlen - 1),
                     paren + 2);
    }
    return true;
}

/* "malloc(8)", "calloc(2,8)", "realloc(0x0,16)", "memalign(al 16, size 40)",
 * "_Znwm(24)" (each followed by " = 0x..." when the line was not cut): the
 * size of a block allocated, from valgrind's --trace-malloc lines ("--PID--
 * ..."); -1 for a free, a delete or any other line. */
static long traced_alloc(const char *body)
{
    size_t name = strspn(body, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    const char *open = body + name, *close = strchr(body, ')');
    if (name == 0 || *open != '(' || !close || strstr(body, "free") == body || strstr(body, "cfree") == body ||
        strstr(body, "delete") || !strncmp(body, "_Zd", 3) || !strncmp(body, "malloc_usable_size", 18))
        return -1;
    const char *size = strstr(open, "size ");
    if (size && size < close)
        return leak_bytes(size + 5);
    long n, m;
    if (!strncmp(body, "calloc(", 7) && sscanf(open + 1, "%ld,%ld", &n, &m) == 2)
        return n > 0 && m > 0 && n < 1000000000000L / m ? n * m : 1000000000000L;
    const char *last = close;
    while (last > open && last[-1] != ',' && last[-1] != '(')
        last--;
    return *last >= '0' && *last <= '9' ? leak_bytes(last) : -1;
}

static void add_size(struct vg_detail *p, long size)
{
    for (int i = 0; i < p->nsizes && i < VG_MAX_SIZES; i++)
        if (p->sizes[i] == size)
            return;
    if (p->nsizes < VG_MAX_SIZES)
        p->sizes[p->nsizes] = size;
    p->nsizes += p->nsizes <= VG_MAX_SIZES; /* VG_MAX_SIZES + 1: too many to keep, any size fits */
}

static void vg_details(const char *log, const char *student_file, struct vg_detail *ps, int *nps)
{
    *nps = 0;
    struct vg_record *open_rec[VG_MAX_PROCS] = {0}; /* the record whose frames come next, per process */
    bool frames_done[VG_MAX_PROCS] = {0};
    for (const char *s = log; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[600];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), s);
        const char *this_line = s;
        s = nl ? nl + 1 : NULL;
        int pid, at = 0;
        const char *body = vg_line(line, &pid);
        bool trace = !body && sscanf(line, "--%d-- %n", &pid, &at) == 1 && at > 0;
        if (!body && !trace)
            continue;
        int k = 0;
        while (k < *nps && ps[k].pid != pid)
            k++;
        if (k == *nps) {
            if (*nps == VG_MAX_PROCS)
                continue;
            ps[(*nps)++] = (struct vg_detail){.pid = pid, .child = -1};
        }
        struct vg_detail *p = &ps[k];
        int n, fd;
        long bytes;
        if (trace) {
            /* Every block this process allocated itself: in a forked child, only what
             * it allocated after fork() (what it inherited was traced in its parent). */
            long size = traced_alloc(line + at);
            p->traced = true;
            if (size >= 0)
                add_size(p, size);
            continue;
        }
        if (!strncmp(body, "Command: ", 9)) {
            p->command = true;
        } else if (sscanf(body, "Parent PID: %d", &n) == 1) {
            p->ppid = n;
        } else if (sscanf(body, "ERROR SUMMARY: %d", &n) == 1) {
            p->errors += n;
        } else if (sscanf(body, "Open file descriptor %d", &fd) == 1) {
            open_rec[k] = NULL;
            if (fd > 2 && p->nrec < VG_MAX_RECORDS) {
                struct vg_record *r = &p->rec[p->nrec++];
                *r = (struct vg_record){.is_fd = true, .fd = fd};
                const char *desc = strchr(body, ':');
                snprintf(r->what, sizeof r->what, "%s", desc && desc[1] ? desc + 2 : "");
                open_rec[k] = r;
                frames_done[k] = false;
            }
        } else if (strstr(body, "<inherited from parent>") && open_rec[k] && open_rec[k]->is_fd) {
            if (open_rec[k]->fd < 64)
                p->inherited_fds |= 1ULL << open_rec[k]->fd;
            p->nrec--; /* inherited descriptors are the parent's to close */
            open_rec[k] = NULL;
        } else if (strstr(body, "are definitely lost in loss record")) {
            open_rec[k] = NULL;
            bytes = leak_bytes(body);
            if (p->nrec < VG_MAX_RECORDS) {
                struct vg_record *r = &p->rec[p->nrec++];
                const char *direct = strstr(body, " direct, "), *in = strstr(body, " bytes in ");
                *r = (struct vg_record){.bytes = bytes, .direct = direct ? leak_bytes(strchr(body, '(') + 1) : bytes,
                                        .blocks = in ? (int)leak_bytes(in + 10) : 1};
                open_rec[k] = r;
                frames_done[k] = false;
            }
            p->errors--; /* --errors-for-leak-kinds=definite counts each record as an error */
        } else if (open_rec[k] && !frames_done[k]) {
            char fn[64], at[160];
            if (!parse_frame(body, fn, sizeof fn, at, sizeof at)) {
                frames_done[k] = true;
            } else {
                struct vg_site *site = &open_rec[k]->site;
                if (!site->call[0])
                    snprintf(site->call, sizeof site->call, "%.31s", fn);
                /* The program's frame nearest the call: its own file first, else any file:line. */
                size_t sl = strlen(student_file);
                bool own = !strncmp(at, student_file, sl) && at[sl] == ':';
                bool own_before = site->at[0] && !strncmp(site->at, student_file, sl) && site->at[sl] == ':';
                if (at[0] && !own_before && (own || !site->at[0]) && !strstr(at, "vg_replace")) {
                    snprintf(site->fn, sizeof site->fn, "%s", fn);
                    snprintf(site->at, sizeof site->at, "%s", at);
                }
            }
        } else if (!p->first_error &&
                   (strstr(body, "Invalid ") == body || strstr(body, "Conditional jump") == body ||
                    strstr(body, "Use of uninitialised") == body || strstr(body, "Syscall param") == body ||
                    strstr(body, "Mismatched free") == body)) {
            p->first_error = this_line;
        }
    }
    /* Forked copies print no preamble in one log stream: a process without a
     * "Command:" line is a child of the one that has it (the first such), and a
     * "Parent PID:" line, where there is one, says whose. The parent is the
     * process whose parent is not in the log; its children are numbered in
     * fork order (pids grow). */
    int first_command = 0;
    for (int i = 0; i < *nps; i++)
        if (ps[i].command && (!first_command || ps[i].pid < first_command))
            first_command = ps[i].pid;
    for (int i = 0; i < *nps; i++)
        if (!ps[i].ppid && !ps[i].command && first_command)
            ps[i].ppid = first_command;
    for (int i = 0; i < *nps; i++) {
        bool root = true;
        for (int j = 0; j < *nps; j++)
            root = root && ps[j].pid != ps[i].ppid;
        if (root)
            ps[i].child = 0;
    }
    for (int i = 0; i < *nps; i++) {
        if (ps[i].child == 0)
            continue;
        for (int j = 0; j < *nps; j++)
            if (ps[j].child == 0 && ps[i].ppid == ps[j].pid) {
                int before = 0;
                for (int m = 0; m < *nps; m++)
                    before += ps[m].ppid == ps[j].pid && ps[m].pid < ps[i].pid;
                ps[i].child = before + 1;
            }
    }
}

static int proc_order(const void *a, const void *b)
{
    /* The parent, then the children by the Process k they printed, then the others in fork order. */
    const struct vg_detail *x = a, *y = b;
    int kx = x->child == 0 ? 0 : x->says > 0 ? x->says : x->child < 0 ? 1 << 21 : (1 << 20) + x->child;
    int ky = y->child == 0 ? 0 : y->says > 0 ? y->says : y->child < 0 ? 1 << 21 : (1 << 20) + y->child;
    return kx != ky ? (kx < ky ? -1 : 1) : (x->pid > y->pid) - (x->pid < y->pid);
}

/* Which worker each forked process is by the lines it printed ("Process 2
 * started": the lab's bar_from pattern), when the run knew who wrote each
 * line (run_spec.line_pids): the name the student knows it by, whatever
 * the order the children were forked in. */
static void name_by_lines(const struct lab *lab, const struct observation *o, struct vg_detail *ps, int nps)
{
    if (!lab || !lab->bar_label || !lab->patterns || lab->bar_from < 0 || (size_t)lab->bar_from >= lab->npatterns)
        return;
    for (size_t i = 0; i < o->nlines; i++) {
        struct match m;
        const struct line *l = &o->lines[i];
        if (l->pid <= 0 || !match_output_line(lab->patterns[lab->bar_from], l, &m) || m.nfields < 1 ||
            m.field[0] < 1 || m.field[0] > 1e6)
            continue;
        for (int k = 0; k < nps; k++)
            if (ps[k].pid == l->pid && ps[k].child != 0)
                ps[k].says = ps[k].says == 0 || ps[k].says == (int)m.field[0] ? (int)m.field[0] : -1;
    }
}

static const char *ordinal(int k)
{
    return k % 100 / 10 == 1 ? "th" : k % 10 == 1 ? "st" : k % 10 == 2 ? "nd" : k % 10 == 3 ? "rd" : "th";
}

/* "the parent (pid 100)", "Process 2 (pid 102, the 1st child forked)" when it
 * printed Process 2's lines, else "the 1st child forked (pid 102)". */
static void proc_name(const struct vg_detail *p, int nps, const char *label, char *buf, size_t n)
{
    char forked[64];
    if (p->child > 0)
        snprintf(forked, sizeof forked, "the %d%s child forked", p->child, ordinal(p->child));
    else
        snprintf(forked, sizeof forked, "a child of pid %d", p->ppid);
    if (nps == 1)
        snprintf(buf, n, "the program");
    else if (p->child == 0)
        snprintf(buf, n, "the parent (pid %d)", p->pid);
    else if (p->says > 0 && label)
        snprintf(buf, n, "%s %d (pid %d, %s)", label, p->says, p->pid, forked);
    else if (p->child > 0)
        snprintf(buf, n, "%s (pid %d)", forked, p->pid);
    else
        snprintf(buf, n, "process %d (%s)", p->pid, forked);
}

/* "the read end of the pipe made at forkcount.c:24": a pipe's two ends come
 * from one call, read end first, so a neighbour from the same call (in any
 * process) tells which end this is. */
static void describe_fd(const struct vg_detail *ps, int nps, const struct vg_detail *owner,
                        const struct vg_record *r, struct sbuf *out)
{
    const char *where = r->site.at[0] ? r->site.at : "an unknown place";
    if (!strcmp(r->site.call, "pipe") || !strcmp(r->site.call, "pipe2")) {
        bool below = false, above = false;
        for (int i = 0; i < nps; i++)
            for (int k = 0; k < ps[i].nrec; k++) {
                const struct vg_record *o = &ps[i].rec[k];
                if (o->is_fd && !strcmp(o->site.at, r->site.at) && !strcmp(o->site.call, r->site.call)) {
                    below = below || o->fd == r->fd - 1;
                    above = above || o->fd == r->fd + 1;
                }
            }
        /* No neighbour: guess from the layout. pipe() takes the two lowest free
         * numbers, read end first: pipes made before any other descriptor get
         * (base, base+1), (base+2, base+3), ... above what the process inherited. */
        int base = 3;
        while (base < 63 && (owner->inherited_fds >> base & 1))
            base++;
        const char *end = above && !below ? "the read end" : below && !above ? "the write end"
                          : r->fd >= base && (r->fd - base) % 2 == 0 ? "probably the read end (fds[0])"
                          : r->fd >= base ? "probably the write end (fds[1])" : "one end";
        sbuf_printf(out, "%s of the pipe made at %s", end, where);
    } else if (r->site.call[0]) {
        sbuf_printf(out, "made by %s() at %s", r->site.call, where);
    } else {
        sbuf_printf(out, "made at %s", where);
    }
    if (r->what[0])
        sbuf_printf(out, " (%s)", r->what);
}

/* True if some block the process allocated itself could be in record r: one
 * of r's size (one block), or no larger than r (several). */
static bool own_block_fits(const struct vg_detail *p, const struct vg_record *r)
{
    if (p->nsizes > VG_MAX_SIZES)
        return true;
    long size = r->direct > 0 ? r->direct : r->bytes;
    for (int i = 0; i < p->nsizes; i++)
        if (r->blocks <= 1 ? p->sizes[i] == size : p->sizes[i] <= size)
            return true;
    return false;
}

/* A forked child's lost block is its parent's, copied at fork(), when the
 * child itself allocated nothing that could be that block: the child that
 * ends with _exit() holds its copy to the end and frees nothing it did not
 * allocate. valgrind's malloc trace says, per process, what each allocated
 * after its fork() (a child's own malloc in main's child branch has the
 * same backtrace as the parent's, but not the same pid). A line written into
 * the log can only add a process's allocations, never hide one: without the
 * trace, nothing is inherited. */
static bool inherited_block(const struct vg_detail *p, const struct vg_record *r)
{
    return p->child != 0 && !r->is_fd && p->traced && !own_block_fits(p, r);
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
    /* The verdict's figures: per process, the worst any line gave (monotonic). */
    char *split = vg_split(log);
    log = split;
    struct vg_proc *ps;
    size_t nprocs = vg_processes(log, &ps);
    /* The report's records: who, what, where from. */
    struct vg_detail *ds = xcalloc(VG_MAX_PROCS, sizeof *ds); /* large: not on the stack */
    int nds;
    vg_details(log, ev->lab ? ev->lab->student_file : "", ds, &nds);
    name_by_lines(ev->lab, o, ds, nds);
    const char *label = ev->lab ? ev->lab->bar_label : NULL;
    qsort(ds, (size_t)nds, sizeof *ds, proc_order); /* the parent first, then children in fork order */

    int procs = 0, errors = 0, open_fds = 0, unfinished = 0, first_unfinished = 0, inherited_procs = 0;
    long lost = 0, inherited = 0;
    const struct vg_record *inherited_at = NULL;
    for (size_t i = 0; i < nprocs; i++) {
        const struct vg_detail *d = NULL;
        for (int k = 0; k < nds && !d; k++)
            d = ds[k].pid == ps[i].pid ? &ds[k] : NULL;
        /* Blocks a child inherited at fork() and held until it ended are the
         * parent's (judged there): taken off its figures, but never below what
         * its own records add up to, so a line written into the log cannot
         * hide a real leak. */
        long own = 0, theirs = 0;
        int theirs_records = 0;
        for (int k = 0; d && k < d->nrec; k++) {
            const struct vg_record *r = &d->rec[k];
            if (r->is_fd)
                continue;
            if (inherited_block(d, r)) {
                theirs += r->bytes;
                theirs_records++;
                inherited_at = inherited_at ? inherited_at : r;
            } else {
                own += r->bytes;
            }
        }
        long mine = ps[i].lost - theirs > own ? ps[i].lost - theirs : own;
        inherited += ps[i].lost - mine > 0 ? ps[i].lost - mine : 0;
        inherited_procs += ps[i].lost > mine;
        lost += mine;
        /* --errors-for-leak-kinds=definite: each definitely-lost record is an error too. */
        errors += (int)(ps[i].errors - theirs_records > 0 ? ps[i].errors - theirs_records : 0);
        procs += ps[i].command || ps[i].summaries > 0;
        open_fds += ps[i].open_fds;
        if (ps[i].command && ps[i].summaries == 0 && !unfinished++)
            first_unfinished = ps[i].pid;
    }
    free(ps);
    const char *crashed = NULL;
    int quoted = 0;
    for (const char *s = log; s && *s;) {
        const char *nl = strchr(s, '\n');
        /* valgrind's own fatal messages: what it says after that is not a clean report. */
        if (!crashed && (!strncmp(s, "valgrind: ", 10) || !strncmp(s, "host stacktrace:", 16)))
            crashed = s;
        /* Sockets say "Open AF_INET socket N: a <-> b" (lab 4); a server may leave
         * hundreds: five are quoted. Files are described from the records below. */
        int pid, fd;
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(strcspn(s, "\n") < 511 ? strcspn(s, "\n") : 511), s);
        const char *body = vg_line(line, &pid);
        if (body && sscanf(body, "Open AF_%*s socket %d", &fd) == 1 && fd > 2 && quoted++ < 5)
            verdict_note(v, "  left open: %s", body);
        s = nl ? nl + 1 : NULL;
    }
    char who[96];
    const struct vg_detail *first_error = NULL;
    struct sbuf leaks = {0}, fds = {0};
    for (int i = 0; i < nds; i++) {
        const struct vg_detail *d = &ds[i];
        proc_name(d, nds, label, who, sizeof who);
        if (d->first_error && !first_error)
            first_error = d;
        for (int k = 0; k < d->nrec; k++) {
            const struct vg_record *r = &d->rec[k];
            if (r->is_fd) {
                struct sbuf what = {0};
                describe_fd(ds, nds, d, r, &what);
                sbuf_printf(&fds, "  %s left fd %d open: %s\n", who, r->fd, what.data);
                sbuf_free(&what);
            } else if (!inherited_block(d, r)) {
                sbuf_printf(&leaks, "  %s lost %ld byte%s allocated by %s at %s%s%s\n", who, r->bytes,
                            r->bytes == 1 ? "" : "s", r->site.call[0] ? r->site.call : "?",
                            r->site.at[0] ? r->site.at : "an unknown place", r->site.fn[0] ? " in " : "",
                            r->site.fn);
            }
        }
    }
    if (first_error) {
        proc_name(first_error, nds, label, who, sizeof who);
        verdict_fail(v, "invalid-access", "valgrind found invalid memory use in %s", who);
        const char *s = first_error->first_error;
        for (int k = 0; k < 6 && s && *s; k++) {
            const char *nl = strchr(s, '\n');
            verdict_note(v, "  %.*s", (int)(nl ? nl - s : (long)strlen(s)), s);
            s = nl ? nl + 1 : NULL;
        }
    }
    if (lost > 0) {
        verdict_fail(v, "leak", "%ld byte%s definitely lost (memory never freed)", lost, lost == 1 ? "" : "s");
        if (leaks.len)
            sbuf_puts(&v->detail, leaks.data);
    }
    if (open_fds > 0) {
        verdict_fail(v, "fd-leak", "%d file descriptor%s left open at exit", open_fds, open_fds == 1 ? "" : "s");
        if (fds.len)
            sbuf_puts(&v->detail, fds.data);
    }
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
    if (inherited > 0)
        verdict_note(v, "  not counted: %ld byte%s that %d child%s inherited from the parent at fork() and held "
                     "until _exit() (allocated at %s%s%s before the fork, by the parent; the parent's own copy is "
                     "judged in the parent)",
                     inherited, inherited == 1 ? "" : "s", inherited_procs, inherited_procs == 1 ? "" : "ren",
                     inherited_at && inherited_at->site.at[0] ? inherited_at->site.at : "?",
                     inherited_at && inherited_at->site.fn[0] ? " in " : "",
                     inherited_at ? inherited_at->site.fn : "");
    sbuf_free(&leaks);
    sbuf_free(&fds);
    free(ds);
    free(split);
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

void shell_quote(const char *arg, struct sbuf *out)
{
    bool plain = *arg != '\0';
    for (const char *c = arg; *c; c++)
        plain = plain && (strchr("_-+./:=,@%^", *c) || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                          (*c >= 'A' && *c <= 'Z'));
    if (plain) {
        sbuf_puts(out, arg);
        return;
    }
    sbuf_puts(out, "'");
    for (const char *c = arg; *c; c++)
        if (*c == '\'')
            sbuf_puts(out, "'\\''");
        else
            sbuf_add(out, c, 1);
    sbuf_puts(out, "'");
}

void describe_argv(const struct params *p, struct sbuf *out)
{
    for (int a = 0; a < p->nargs; a++) {
        if (a)
            sbuf_puts(out, " ");
        shell_quote(p->arg[a], out);
    }
    if (p->nargs == 0)
        sbuf_puts(out, "none");
}

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
        describe_argv(p, &args);
        if (p->refused)
            sbuf_printf(&args, " (%s)", p->refused);
        struct parsed out;
        parse_output(ev->lab, o, &out);
        size_t err_lines = 0;
        for (size_t l = 0; l < o->nlines; l++)
            err_lines += o->lines[l].stream == STREAM_ERR && o->lines[l].len > 0;
        struct sbuf end = {0};
        describe_end(o, &end);
        size_t normal = out.n - out.unknown;
        if (!o->exited || o->exit_code != 2) {
            verdict_fail(v, "bad-args", "with arguments %s the program %s (expected exit status 2)", args.data,
                         end.data);
            if (o->timed_out || o->term_signal)
                verdict_hint(v, o->timed_out ? "time-limit" : "crash");
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
    if (v->status != ST_FAIL) {
        sbuf_printf(&v->summary, "%d bad argument list%s", good, good == 1 ? "" : "s");
        for (size_t i = 0, k = 0; i < ev->nruns; i++)
            if (ev->params[i].refused)
                sbuf_printf(&v->summary, "%s%s", k++ ? ", " : " (", ev->params[i].refused);
        if (ev->nruns && ev->params[ev->nruns - 1].refused)
            sbuf_puts(&v->summary, ")");
        sbuf_puts(&v->summary, ": each got a message and exit status 2");
    }
}
