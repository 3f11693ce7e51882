/* obsio.c - records: the evidence a judge reads, as text and back.
 * See also: obsio.h (the format), tests/check_judges.c (its main reader).
 */
#define _GNU_SOURCE
#include "obsio.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* --- Escaping ------------------------------------------------------------------- */

void obsio_escape(struct sbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            sbuf_puts(out, "\\\\");
        else if (c == '\n')
            sbuf_puts(out, "\\n");
        else if (c == '\t')
            sbuf_puts(out, "\\t");
        else if (c < 0x20 || c >= 0x7f || (c == ' ' && i + 1 == n)) /* a last space: editors drop it */
            sbuf_printf(out, "\\x%02x", c);
        else
            sbuf_add(out, (const char *)&c, 1);
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                                                     : -1;
}

char *obsio_unescape(const char *s, size_t *len)
{
    struct sbuf b = {0};
    sbuf_puts(&b, "");
    for (; *s; s++) {
        if (*s != '\\') {
            sbuf_add(&b, s, 1);
            continue;
        }
        char c = *++s;
        if (c == '\\' || c == 'n' || c == 't') {
            sbuf_add(&b, c == 'n' ? "\n" : c == 't' ? "\t" : "\\", 1);
        } else if (c == 'x' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            char byte = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            sbuf_add(&b, &byte, 1);
            s += 2;
        } else {
            sbuf_free(&b);
            return NULL;
        }
    }
    if (len)
        *len = b.len;
    return sbuf_take(&b);
}

/* A text as one space-free word: spaces as \\x20; "=" stands for an empty text and "-" for
 * none (a text that is "=" or "-" itself is escaped). */
static void escape_word(struct sbuf *out, const char *s)
{
    if (!*s) {
        sbuf_puts(out, "=");
        return;
    }
    if (!strcmp(s, "-") || !strcmp(s, "=")) {
        sbuf_printf(out, "\\x%02x", (unsigned char)*s);
        return;
    }
    struct sbuf b = {0};
    obsio_escape(&b, s, strlen(s));
    for (const char *c = b.data ? b.data : ""; *c; c++)
        if (*c == ' ')
            sbuf_puts(out, "\\x20");
        else
            sbuf_add(out, c, 1);
    sbuf_free(&b);
}

/* Reads a word escape_word wrote: a malloc'd text, NULL for "-" (*bad set if malformed). */
static char *unescape_word(const char *w, bool *bad)
{
    if (!strcmp(w, "-"))
        return NULL;
    if (!strcmp(w, "="))
        return xstrdup("");
    char *s = obsio_unescape(w, NULL);
    if (!s)
        *bad = true;
    return s;
}

/* const char * fields (tool, variant) point at static strings: read ones are kept here. */
static const char *intern(const char *s)
{
    static char *table[32];
    for (size_t i = 0; i < ARRAY_LEN(table) && table[i]; i++)
        if (!strcmp(table[i], s))
            return table[i];
    for (size_t i = 0; i < ARRAY_LEN(table); i++)
        if (!table[i])
            return table[i] = xstrdup(s);
    return "(too many names)";
}

/* --- The fields ------------------------------------------------------------------
 * One line per field: adding a field to struct observation or struct params is
 * one more line here (arrays such as lines and events have their own keys). */
enum ftype { F_BOOL, F_INT, F_LLONG, F_DOUBLE, F_SIZE, F_TEXT, F_NAME, F_CHARS };
struct field {
    const char *key;
    enum ftype type;
    size_t off, size;
};
#define OBS(k, t, m) {k, t, offsetof(struct observation, m), sizeof(((struct observation *)0)->m)}
#define PAR(k, t, m) {"param." k, t, offsetof(struct params, m), sizeof(((struct params *)0)->m)}

static const struct field observation_fields[] = {
    OBS("started", F_BOOL, started),          OBS("wall", F_DOUBLE, wall),
    OBS("cpu_user", F_DOUBLE, cpu_user),      OBS("cpu_sys", F_DOUBLE, cpu_sys),
    OBS("run_delay", F_DOUBLE, run_delay),    OBS("others_cpu", F_DOUBLE, others_cpu),
    OBS("exited", F_BOOL, exited),            OBS("exit_code", F_INT, exit_code),
    OBS("term_signal", F_INT, term_signal),   OBS("timed_out", F_BOOL, timed_out),
    OBS("output_flood", F_BOOL, output_flood), OBS("time_limit", F_DOUBLE, time_limit),
    OBS("time_extra", F_DOUBLE, time_extra),
    OBS("out_bytes", F_SIZE, out_bytes),      OBS("dropped_lines", F_SIZE, dropped_lines),
    OBS("leftover_procs", F_INT, leftover_procs), OBS("zombies", F_INT, zombies),
    OBS("tool", F_NAME, tool),                OBS("tail", F_TEXT, tail),
    OBS("valgrind_log", F_TEXT, valgrind_log), OBS("protection", F_TEXT, protection),
    OBS("tampering", F_TEXT, tampering),      OBS("probe_on", F_BOOL, probe_on),
    OBS("probe_must_speak", F_BOOL, probe_must_speak), OBS("traced", F_BOOL, traced),
    OBS("trace_off", F_TEXT, trace_off),
};

static const struct field params_fields[] = {
    PAR("plan", F_INT, plan),             PAR("calibrated", F_LLONG, calibrated),
    PAR("count", F_INT, count),           PAR("iterations", F_LLONG, iterations),
    PAR("mode", F_CHARS, mode),           PAR("variant", F_NAME, variant),
    PAR("defaults", F_BOOL, defaults),    PAR("workers", F_INT, workers),
    PAR("retry_of", F_NAME, retry_of),    PAR("only", F_NAME, only),
    PAR("stall_at", F_DOUBLE, stall.at),  PAR("stall_budget", F_DOUBLE, stall.budget),
    PAR("stall_sleep", F_DOUBLE, stall.sleep), PAR("stall_wall", F_DOUBLE, stall.wall),
    PAR("stall_swap", F_BOOL, stall.swap), PAR("stall_watch_at", F_DOUBLE, stall.watch_at),
    PAR("stall_processes", F_BOOL, stall.processes), PAR("stall_continuous", F_BOOL, stall.continuous),
};

/* A double that reads back the same, as short as it can be. */
static void put_double(FILE *f, double d)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, sizeof buf, "%.17g", d);
    fputs(buf, f);
}

static void put_text(FILE *f, const char *key, const char *s, size_t n)
{
    struct sbuf b = {0};
    obsio_escape(&b, s, n);
    fprintf(f, "%s %s\n", key, b.data ? b.data : "");
    sbuf_free(&b);
}

static void write_fields(FILE *f, const struct field *fields, size_t n, const void *base)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)base + fields[i].off;
        switch (fields[i].type) {
        case F_BOOL:
            fprintf(f, "%s %d\n", fields[i].key, *(const bool *)p);
            break;
        case F_INT:
            fprintf(f, "%s %d\n", fields[i].key, *(const int *)p);
            break;
        case F_LLONG:
            fprintf(f, "%s %lld\n", fields[i].key, *(const long long *)p);
            break;
        case F_SIZE:
            fprintf(f, "%s %zu\n", fields[i].key, *(const size_t *)p);
            break;
        case F_DOUBLE:
            fprintf(f, "%s ", fields[i].key);
            put_double(f, *(const double *)p);
            fputc('\n', f);
            break;
        case F_TEXT:
        case F_NAME: {
            const char *s = *(const char *const *)p;
            if (s)
                put_text(f, fields[i].key, s, strlen(s));
            break;
        }
        case F_CHARS:
            put_text(f, fields[i].key, p, strnlen(p, fields[i].size));
            break;
        }
    }
}

/* Sets one field from its text; false if the value is malformed. */
static bool read_field(const struct field *fl, void *base, const char *value)
{
    char *p = (char *)base + fl->off, *end;
    errno = 0;
    switch (fl->type) {
    case F_BOOL:
    case F_INT:
    case F_LLONG:
    case F_SIZE: {
        long long v = strtoll(value, &end, 10);
        if (end == value || *end || errno)
            return false;
        if (fl->type == F_BOOL)
            *(bool *)p = v != 0;
        else if (fl->type == F_INT)
            *(int *)p = (int)v;
        else if (fl->type == F_LLONG)
            *(long long *)p = v;
        else
            *(size_t *)p = (size_t)v;
        return true;
    }
    case F_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end)
            return false;
        *(double *)p = v;
        return true;
    }
    case F_TEXT:
    case F_NAME:
    case F_CHARS: {
        char *s = obsio_unescape(value, NULL);
        if (!s)
            return false;
        if (fl->type == F_TEXT) {
            free(*(char **)p);
            *(char **)p = s;
        } else if (fl->type == F_NAME) {
            *(const char **)p = intern(s);
            free(s);
        } else {
            snprintf(p, fl->size, "%s", s);
            free(s);
        }
        return true;
    }
    }
    return false;
}

static const struct field *find_field(const struct field *fields, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(fields[i].key, key))
            return &fields[i];
    return NULL;
}

/* --- Writing ------------------------------------------------------------------- */

void obsio_write_observation(FILE *f, const struct observation *o)
{
    write_fields(f, observation_fields, ARRAY_LEN(observation_fields), o);
    for (size_t i = 0; i < o->nlines; i++) {
        char key[64];
        int n = snprintf(key, sizeof key, "line ");
        char t[40];
        snprintf(t, sizeof t, "%.6f", o->lines[i].t);
        snprintf(key + n, sizeof key - (size_t)n, "%s %s", t, o->lines[i].stream == STREAM_ERR ? "err" : "out");
        put_text(f, key, o->lines[i].text, o->lines[i].len); /* byte for byte, NULs too */
    }
    for (size_t i = 0; i < o->nlines; i++) /* who wrote which line, where the run knew it (line_pids) */
        if (o->lines[i].pid)
            fprintf(f, "line_pid %zu %d\n", i, o->lines[i].pid);
    for (size_t i = 0; i < o->nevents; i++) {
        const struct call_event *e = &o->events[i];
        fprintf(f, "event %.6f %d %d %s %ld %ld\n", e->t, e->pid, e->tid, e->call, e->count, e->arg);
    }
    /* A driver's exchanges: conn phase sent replied request reply ("-": no reply), the texts
     * escaped with their spaces too, so that the fields split on spaces. */
    for (size_t i = 0; i < o->nexchanges; i++) {
        const struct exchange *x = &o->exchanges[i];
        struct sbuf q = {0}, r = {0};
        escape_word(&q, x->request ? x->request : "");
        if (x->reply)
            escape_word(&r, x->reply);
        fprintf(f, "exchange %d %d %.6f %.6f %s %s\n", x->conn, x->phase, x->sent, x->replied,
                q.data ? q.data : "", x->reply ? (r.data ? r.data : "") : "-");
        sbuf_free(&q);
        sbuf_free(&r);
    }
    for (size_t i = 0; i < o->nmetrics; i++) {
        fprintf(f, "metric %s ", o->metrics[i].name);
        put_double(f, o->metrics[i].value);
        fputc('\n', f);
    }
    /* The tracer's view: tasks (their watched calls by kind name), calls, CPU samples. */
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        struct sbuf c = {0};
        escape_word(&c, t->comm);
        fprintf(f, "task %d %d %d %d %.6f %.6f %.6f %d %d %.9g %s", t->tid, t->tgid, t->parent, t->is_thread,
                t->start, t->end, t->exit_group_t, t->execs, t->wait_status, t->cpu, c.data ? c.data : "=");
        sbuf_free(&c);
        for (int k = 0; k < SK_N; k++)
            if (t->calls[k]) {
                struct sbuf kind = {0};
                escape_word(&kind, sys_kind_name[k]); /* some names have spaces */
                fprintf(f, " %s=%ld", kind.data, t->calls[k]);
                sbuf_free(&kind);
            }
        fputc('\n', f);
    }
    for (size_t i = 0; i < o->ncalls; i++) {
        const struct sys_call *c = &o->calls[i];
        struct sbuf kind = {0};
        escape_word(&kind, c->kind < SK_N ? sys_kind_name[c->kind] : "?");
        fprintf(f, "syscall %.6f %.6f %d %d %s %ld %ld\n", c->t, c->t_end, c->tid, c->tgid, kind.data, c->arg,
                c->ret);
        sbuf_free(&kind);
    }
    for (size_t i = 0; i < o->nsamples; i++) {
        const struct cpu_sample *c = &o->samples[i];
        fprintf(f, "sample %.6f %d %d %.9g %.9g %ld\n", c->t, c->tid, c->round, c->cpu, c->wait, c->syscall);
    }
    /* The stall test: outcome stopped watched t t_end cpu delay stopped_cpu probes watched_cpu. */
    const struct stall_test *st = &o->stall;
    if (st->outcome != STALL_NONE)
        fprintf(f, "stall %s %d %d %.6f %.6f %.9g %.9g %.9g %d %.9g\n", stall_outcome_name[st->outcome],
                st->stopped_tid, st->watched_tid, st->t, st->t_end, st->cpu, st->delay, st->stopped_cpu, st->probes,
                st->watched_cpu);
}

/* A kind's name as escape_word wrote it (spaces as \\x20): its index, or -1. */
static int sys_kind_of(const char *word)
{
    bool bad = false;
    char *name = unescape_word(word, &bad);
    int found = -1;
    for (int k = 0; name && k < SK_N && found < 0; k++)
        if (!strcmp(sys_kind_name[k], name))
            found = k;
    free(name);
    return found;
}

/* One more element at the end of an array grown at powers of two, as observe.c grows its own. */
static void *grow(void *arr, size_t n, size_t size)
{
    return (n & (n - 1)) == 0 ? xrealloc(arr, (n ? n * 2 : 16) * size) : arr;
}

static void write_params(FILE *f, const struct params *p)
{
    write_fields(f, params_fields, ARRAY_LEN(params_fields), p);
    if (p->count > 0 && p->value[0] != 0) {
        fputs("param.value", f);
        for (int i = 0; i < p->count && i < MAX_VALUES; i++) {
            fputc(' ', f);
            put_double(f, p->value[i]);
        }
        fputc('\n', f);
    }
    for (int i = 0; i < p->nargs && i < MAX_ARGS; i++)
        put_text(f, "param.arg", p->arg[i], strlen(p->arg[i]));
}

bool record_write(const char *path, const struct check *c, const struct evidence *ev, const struct verdict *v)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "grader-observation %d\n", OBSIO_VERSION);
    fprintf(f, "# written by grade --record; the expect lines are the verdict the grader gave then:\n"
               "# review them before keeping this file as a test (tests/observations/README.md)\n");
    fprintf(f, "lab %s\ncheck %s\ncpus %d\nexec_mode %d\n", ev->lab->name, c->name, ev->cpus, ev->exec_mode);
    if (ev->npairs > 0) /* the paired runs' figures: one worker's CPU and N workers' wall, per iteration */
        fprintf(f, "pairs %d %.17g %.17g\n", ev->npairs, ev->pair_one, ev->pair_many);
    if (ev->build) {
        fprintf(f, "build.attempted %d\nbuild.ok %d\nbuild.warnings %d\n", ev->build->attempted, ev->build->ok,
                ev->build->warnings);
        if (ev->build->log)
            put_text(f, "build.log", ev->build->log, strlen(ev->build->log));
    }
    for (size_t i = 0; i < ev->nruns; i++) {
        fputs("run\n", f);
        write_params(f, &ev->params[i]);
        obsio_write_observation(f, &ev->runs[i]);
    }
    if (ev->control) {
        fputs("control\n", f);
        obsio_write_observation(f, ev->control);
    }
    /* The integrity check: what the source showed, then every run of the grading. */
    if (ev->source_findings)
        put_text(f, "source_findings", ev->source_findings, strlen(ev->source_findings));
    for (size_t i = 0; i < ev->nall; i++) {
        fputs("watched\n", f);
        obsio_write_observation(f, ev->all_runs[i]);
    }
    if (v) {
        if (v->summary.data) {
            struct sbuf s = {0};
            obsio_escape(&s, v->summary.data, v->summary.len);
            fprintf(f, "# summary: %s\n", s.data ? s.data : "");
            sbuf_free(&s);
        }
        fprintf(f, "expect status %s\n", v->status == ST_PASS ? "pass" : v->status == ST_FAIL ? "fail" : "skip");
        for (int i = 0; i < v->nhints; i++)
            fprintf(f, "expect hint %s\n", v->hints[i]);
        if (v->retry)
            fputs("expect retry\n", f);
        if (v->final)
            fputs("expect final\n", f);
        if (v->conclusive)
            fputs("expect conclusive\n", f);
    }
    return fclose(f) == 0;
}

/* --- Reading ------------------------------------------------------------------- */

static void add_event(struct observation *o, const struct call_event *e)
{
    if ((o->nevents & (o->nevents - 1)) == 0) /* grow at powers of two, as observe.c does */
        o->events = xrealloc(o->events, (o->nevents ? o->nevents * 2 : 16) * sizeof *o->events);
    o->events[o->nevents++] = *e;
}

static bool read_line_key(struct observation *o, const char *value)
{
    double t;
    char stream[4];
    if (sscanf(value, "%lf %3s", &t, stream) < 2)
        return false;
    /* The text starts after exactly one space following the stream. */
    const char *text = value;
    for (int spaces = 0; *text && spaces < 2; text++)
        spaces += *text == ' ';
    size_t len;
    char *s = obsio_unescape(text, &len);
    if (!s || (strcmp(stream, "out") && strcmp(stream, "err"))) {
        free(s);
        return false;
    }
    obs_add_line(o, t, !strcmp(stream, "err") ? STREAM_ERR : STREAM_OUT, s, len);
    free(s);
    return true;
}

static bool read_params_key(struct params *p, const char *key, const char *value)
{
    if (!strcmp(key, "param.value")) {
        int n = 0;
        char *end;
        for (const char *s = value; *s && n < MAX_VALUES; s = end) {
            p->value[n] = strtod(s, &end);
            if (end == s)
                return false;
            n++;
            while (*end == ' ')
                end++;
        }
        return true;
    }
    if (!strcmp(key, "param.arg")) {
        char *s = obsio_unescape(value, NULL);
        if (!s || p->nargs >= MAX_ARGS) {
            free(s);
            return false;
        }
        snprintf(p->arg[p->nargs++], sizeof p->arg[0], "%s", s);
        free(s);
        return true;
    }
    const struct field *fl = find_field(params_fields, ARRAY_LEN(params_fields), key);
    return !fl || read_field(fl, p, value);
}

static bool read_expect(struct record *r, const char *value)
{
    char word[16];
    int used = 0;
    if (sscanf(value, "%15s %n", word, &used) < 1)
        return false;
    const char *rest = value + used;
    if (!strcmp(word, "status"))
        snprintf(r->expect_status, sizeof r->expect_status, "%s", rest);
    else if (!strcmp(word, "hint") && r->nexpect_hints < OBSIO_MAX_EXPECT)
        r->expect_hints[r->nexpect_hints++] = xstrdup(rest);
    else if (!strcmp(word, "says") && r->nexpect_says < OBSIO_MAX_EXPECT)
        r->expect_says[r->nexpect_says++] = obsio_unescape(rest, NULL);
    else if (!strcmp(word, "retry"))
        r->expect_retry = true;
    else if (!strcmp(word, "final"))
        r->expect_final = true;
    else if (!strcmp(word, "conclusive"))
        r->expect_conclusive = true;
    else
        return false;
    return true;
}

static bool parse_line(struct record *r, struct observation **cur, char *line, char **why)
{
    char *value = strchr(line, ' ');
    if (value)
        *value++ = '\0';
    else
        value = line + strlen(line);
    const char *key = line;
    struct params *p = *cur && r->nruns && *cur == &r->runs[r->nruns - 1] ? &r->params[r->nruns - 1] : NULL;
    bool ok = true;
    if (!strcmp(key, "lab")) {
        r->lab = lab_find(value);
        if (!r->lab) {
            *why = xasprintf("unknown lab '%s'", value);
            return false;
        }
    } else if (!strcmp(key, "check")) {
        snprintf(r->check, sizeof r->check, "%s", value);
    } else if (!strcmp(key, "cpus")) {
        r->cpus = atoi(value);
    } else if (!strcmp(key, "exec_mode")) {
        r->exec_mode = atoi(value) != 0;
    } else if (!strcmp(key, "pairs")) {
        if (sscanf(value, "%d %lf %lf", &r->npairs, &r->pair_one, &r->pair_many) != 3 || r->npairs < 0) {
            *why = xasprintf("bad pairs line '%s'", value);
            return false;
        }
    } else if (!strcmp(key, "build.attempted")) {
        r->build.attempted = atoi(value) != 0;
    } else if (!strcmp(key, "build.ok")) {
        r->build.ok = atoi(value) != 0;
    } else if (!strcmp(key, "build.warnings")) {
        r->build.warnings = atoi(value);
    } else if (!strcmp(key, "build.log")) {
        free(r->build.log);
        ok = (r->build.log = obsio_unescape(value, NULL)) != NULL;
    } else if (!strcmp(key, "run")) {
        r->params = xrealloc(r->params, (r->nruns + 1) * sizeof *r->params);
        r->runs = xrealloc(r->runs, (r->nruns + 1) * sizeof *r->runs);
        r->params[r->nruns] = (struct params){0};
        r->runs[r->nruns] = (struct observation){0};
        *cur = &r->runs[r->nruns++];
    } else if (!strcmp(key, "control")) {
        r->has_control = true;
        *cur = &r->control;
    } else if (!strcmp(key, "watched")) {
        r->watched = xrealloc(r->watched, (r->nwatched + 1) * sizeof *r->watched);
        r->watched[r->nwatched] = (struct observation){0};
        *cur = &r->watched[r->nwatched++];
    } else if (!strcmp(key, "source_findings")) {
        free(r->source_findings);
        ok = (r->source_findings = obsio_unescape(value, NULL)) != NULL;
    } else if (!strcmp(key, "expect")) {
        ok = read_expect(r, value);
    } else if (!strncmp(key, "param.", 6)) {
        ok = p && read_params_key(p, key, value);
    } else if (!strcmp(key, "line")) {
        ok = *cur && read_line_key(*cur, value);
    } else if (!strcmp(key, "line_pid")) {
        size_t i;
        int pid;
        ok = *cur && sscanf(value, "%zu %d", &i, &pid) == 2 && i < (*cur)->nlines;
        if (ok)
            (*cur)->lines[i].pid = pid;
    } else if (!strcmp(key, "exchange")) {
        int conn, phase;
        double sent, replied;
        char req[8192], rep[8192];
        ok = *cur && sscanf(value, "%d %d %lf %lf %8191s %8191s", &conn, &phase, &sent, &replied, req, rep) == 6;
        if (ok) {
            bool bad = false;
            char *request = unescape_word(req, &bad), *reply = unescape_word(rep, &bad);
            ok = !bad && request;
            if (ok) {
                struct exchange *x = obs_add_exchange(*cur, conn, phase, sent, request);
                x->replied = replied;
                x->reply = reply;
                reply = NULL;
            }
            free(request);
            free(reply);
        }
    } else if (!strcmp(key, "task")) {
        struct task t = {0};
        int thread, used = 0;
        char comm[80];
        ok = *cur && sscanf(value, "%d %d %d %d %lf %lf %lf %d %d %lf %79s%n", &t.tid, &t.tgid, &t.parent, &thread,
                            &t.start, &t.end, &t.exit_group_t, &t.execs, &t.wait_status, &t.cpu, comm, &used) == 11;
        if (ok) {
            bool bad = false;
            char *c = unescape_word(comm, &bad);
            snprintf(t.comm, sizeof t.comm, "%s", c ? c : "");
            free(c);
            t.is_thread = thread != 0;
            char kind[160];
            long n;
            int more;
            for (const char *s = value + used; ok && sscanf(s, " %159[^= ]=%ld%n", kind, &n, &more) == 2; s += more) {
                int k = sys_kind_of(kind);
                if (k >= 0) /* a kind this grader does not know: ignored, as unknown keys are */
                    t.calls[k] = n;
            }
            ok = !bad;
            (*cur)->tasks = grow((*cur)->tasks, (*cur)->ntasks, sizeof t);
            (*cur)->tasks[(*cur)->ntasks++] = t;
        }
    } else if (!strcmp(key, "syscall")) {
        struct sys_call c = {0};
        char kind[160]; /* "alarm/setitimer/timerfd/signalfd" is 32; spaces are \\x20 (escape_word) */
        ok = *cur && sscanf(value, "%lf %lf %d %d %159s %ld %ld", &c.t, &c.t_end, &c.tid, &c.tgid, kind, &c.arg,
                            &c.ret) == 7;
        if (ok && sys_kind_of(kind) >= 0) {
            c.kind = (enum sys_kind)sys_kind_of(kind);
            (*cur)->calls = grow((*cur)->calls, (*cur)->ncalls, sizeof c);
            (*cur)->calls[(*cur)->ncalls++] = c;
        }
    } else if (!strcmp(key, "sample")) {
        struct cpu_sample c = {.syscall = -1};
        ok = *cur && sscanf(value, "%lf %d %d %lf %lf %ld", &c.t, &c.tid, &c.round, &c.cpu, &c.wait, &c.syscall) >= 5;
        if (ok) {
            (*cur)->samples = grow((*cur)->samples, (*cur)->nsamples, sizeof c);
            (*cur)->samples[(*cur)->nsamples++] = c;
        }
    } else if (!strcmp(key, "stall")) {
        struct stall_test st = {0};
        char name[16];
        ok = *cur && sscanf(value, "%15s %d %d %lf %lf %lf %lf %lf %d %lf", name, &st.stopped_tid, &st.watched_tid,
                            &st.t, &st.t_end, &st.cpu, &st.delay, &st.stopped_cpu, &st.probes, &st.watched_cpu) >= 8;
        for (int k = 0; ok && k < STALL_N; k++)
            if (!strcmp(name, stall_outcome_name[k]))
                st.outcome = (enum stall_outcome)k;
        if (ok)
            (*cur)->stall = st;
    } else if (!strcmp(key, "metric")) {
        char name[40];
        double v;
        ok = *cur && sscanf(value, "%39s %lf", name, &v) == 2;
        if (ok)
            obs_metric(*cur, name, v);
    } else if (!strcmp(key, "event")) {
        struct call_event e = {0};
        ok = *cur && sscanf(value, "%lf %d %d %19s %ld %ld", &e.t, &e.pid, &e.tid, e.call, &e.count, &e.arg) == 6;
        if (ok)
            add_event(*cur, &e);
    } else {
        const struct field *fl = find_field(observation_fields, ARRAY_LEN(observation_fields), key);
        if (fl) /* unknown keys are ignored: a newer grader's fields */
            ok = *cur && read_field(fl, *cur, value);
    }
    if (!ok)
        *why = xasprintf("malformed '%s' line%s", key, *cur ? "" : " (before any 'run')");
    return ok;
}

bool record_parse(const char *text, struct record *r, char **why)
{
    *r = (struct record){.cpus = 2};
    *why = NULL;
    struct observation *cur = NULL;
    char *copy = xstrdup(text), *save = NULL;
    int lineno = 0;
    bool ok = true;
    for (char *line = strtok_r(copy, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (lineno == 1) {
            int version;
            if (sscanf(line, "grader-observation %d", &version) != 1 || version != OBSIO_VERSION) {
                *why = xasprintf("not a version %d record (first line: '%.40s')", OBSIO_VERSION, line);
                ok = false;
            }
            continue;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *inner = NULL;
        ok = parse_line(r, &cur, line, &inner);
        if (!ok) {
            *why = xasprintf("line %d: %s", lineno, inner);
            free(inner);
        }
    }
    free(copy);
    if (ok && r->nwatched) { /* the watched runs are all read: point at them */
        r->all_runs = xcalloc(r->nwatched, sizeof *r->all_runs);
        for (size_t i = 0; i < r->nwatched; i++)
            r->all_runs[i] = &r->watched[i];
    }
    if (ok && lineno == 0) {
        *why = xstrdup("empty record");
        ok = false;
    }
    if (ok && !r->lab) {
        *why = xstrdup("no 'lab' line");
        ok = false;
    }
    if (!ok)
        record_free(r);
    return ok;
}

bool record_read(const char *path, struct record *r, char **why)
{
    struct sbuf b = {0};
    if (!read_file(path, &b, (size_t)64 << 20)) {
        *why = xasprintf("cannot read %s: %s", path, strerror(errno));
        *r = (struct record){0};
        return false;
    }
    bool ok = record_parse(b.data ? b.data : "", r, why);
    sbuf_free(&b);
    return ok;
}

void record_free(struct record *r)
{
    for (size_t i = 0; i < r->nruns; i++)
        obs_free(&r->runs[i]);
    free(r->runs);
    free(r->params);
    obs_free(&r->control);
    for (size_t i = 0; i < r->nwatched; i++)
        obs_free(&r->watched[i]);
    free(r->watched);
    free(r->all_runs);
    free(r->source_findings);
    free(r->build.log);
    for (int i = 0; i < r->nexpect_hints; i++)
        free(r->expect_hints[i]);
    for (int i = 0; i < r->nexpect_says; i++)
        free(r->expect_says[i]);
    *r = (struct record){0};
}

void record_evidence(const struct record *r, struct evidence *ev)
{
    *ev = (struct evidence){.lab = r->lab, .build = &r->build, .exec_mode = r->exec_mode, .nruns = r->nruns,
                            .params = r->params, .runs = r->runs, .control = r->has_control ? &r->control : NULL,
                            .cpus = r->cpus, .all_runs = r->all_runs, .nall = r->nwatched,
                            .source_findings = r->source_findings, .npairs = r->npairs,
                            .pair_one = r->pair_one, .pair_many = r->pair_many};
}

const struct check *record_check(const struct record *r)
{
    for (size_t i = 0; r->lab && i < r->lab->nchecks; i++)
        if (!strcmp(r->lab->checks[i].name, r->check))
            return &r->lab->checks[i];
    return NULL;
}
