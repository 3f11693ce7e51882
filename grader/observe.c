/* observe.c - the observation record: adding lines and probe records, tallies,
 * and matching output lines against a lab's patterns.
 * See also: observe.h.
 */
#define _GNU_SOURCE
#include "observe.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
    free(o->trace_off);
    free(o->tasks);
    free(o->calls);
    free(o->samples);
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

/* --- The kernel's view (tracer) -------------------------------------------- */

const char *const sys_kind_name[SK_N] = {
    [SK_SELECT] = "select", [SK_PSELECT] = "pselect6", [SK_POLL] = "poll", [SK_PPOLL] = "ppoll",
    [SK_EPOLL] = "epoll_wait", [SK_NANOSLEEP] = "nanosleep", [SK_CLOCK_NANOSLEEP] = "clock_nanosleep",
    [SK_SIGWAIT] = "pause/sigsuspend/sigtimedwait", [SK_TIMER] = "alarm/setitimer/timerfd/signalfd",
    [SK_FUTEX_TIMED] = "futex wait with a time-out", [SK_OTHER_WAIT] = "io_uring/semtimedop/mq_timedreceive",
    [SK_WAIT] = "wait4/waitid", [SK_KILL] = "kill", [SK_SETSID] = "setsid", [SK_EXIT_GROUP] = "exit_group",
    [SK_PROBE_FD] = "dup/dup2/fcntl/close on the probe's descriptor", [SK_FOREIGN] = "a call through another ABI",
    [SK_PIPE_WRITE] = "pipe_write", [SK_PIPE_READ] = "pipe_unread",
};

const char *const stall_outcome_name[STALL_N] = {
    [STALL_NONE] = "none", [STALL_FINISHED] = "finished", [STALL_SPUN] = "spun", [STALL_SLEPT] = "slept",
    [STALL_LATE] = "late", [STALL_CUT] = "cut", [STALL_FAILED] = "failed",
    [STALL_LIBRARY] = "library", [STALL_HANDED] = "handed",
};

struct task *obs_task(struct observation *o, int tid, bool add)
{
    for (size_t i = o->ntasks; i-- > 0;)  /* the latest first: a tid can be reused */
        if (o->tasks[i].tid == tid)
            return &o->tasks[i];
    if (!add)
        return NULL;
    if ((o->ntasks & (o->ntasks - 1)) == 0)
        o->tasks = xrealloc(o->tasks, (o->ntasks ? o->ntasks * 2 : 16) * sizeof *o->tasks);
    struct task *t = &o->tasks[o->ntasks++];
    *t = (struct task){.tid = tid, .tgid = tid, .end = -1, .exit_group_t = -1};
    return t;
}

const struct task *obs_main_task(const struct observation *o)
{
    return o->ntasks > 0 ? &o->tasks[0] : NULL;
}

double obs_workers_cpu(const struct observation *o)
{
    if (!o->traced || o->ntasks < 2)
        return -1;
    double sum = 0;
    for (size_t i = 1; i < o->ntasks; i++) {
        if (o->tasks[i].cpu <= 0)
            return -1;
        sum += o->tasks[i].cpu;
    }
    return sum;
}

int obs_kernel_processes(const struct observation *o)
{
    int n = 0;
    for (size_t i = 0; i < o->ntasks; i++)
        n += !o->tasks[i].is_thread;
    return n;
}

int obs_kernel_threads(const struct observation *o)
{
    return (int)o->ntasks - obs_kernel_processes(o);
}

long obs_sys_calls(const struct observation *o, int tgid, enum sys_kind k)
{
    long n = 0;
    for (size_t i = 0; i < o->ntasks; i++)
        if (tgid == 0 || o->tasks[i].tgid == tgid)
            n += o->tasks[i].calls[k];
    return n;
}

/* The process a task belongs to, at its creation, as a tgid. */
static int creator_process(const struct observation *o, const struct task *t)
{
    for (size_t i = 0; i < o->ntasks; i++)
        if (o->tasks[i].tid == t->parent)
            return o->tasks[i].tgid;
    return 0;
}

int obs_children_of(const struct observation *o, int tgid, int *execd)
{
    int n = 0, e = 0;
    for (size_t i = 1; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (!t->is_thread && creator_process(o, t) == tgid) {
            n++;
            e += t->execs > 0;
        }
    }
    if (execd)
        *execd = e;
    return n;
}

int obs_threads_of(const struct observation *o, int tgid)
{
    int n = 0;
    for (size_t i = 1; i < o->ntasks; i++)
        n += o->tasks[i].is_thread && o->tasks[i].tgid == tgid;
    return n;
}

void obs_describe_sys(const struct observation *o, int tgid, const enum sys_kind *kinds, size_t n, char *out,
                      size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        long c = obs_sys_calls(o, tgid, kinds[i]);
        if (c > 0)
            used += (size_t)snprintf(out + used, size - used, "%s%s %ld time%s", used ? ", " : "",
                                     sys_kind_name[kinds[i]], c, c == 1 ? "" : "s");
    }
    if (used == 0)
        snprintf(out, size, "none of them");
}

/* The probe's largest running count of any of calls by process pid. */
static long probe_count(const struct observation *o, int pid, const char *const *calls)
{
    long total = 0;
    for (const char *const *c = calls; *c; c++) {
        long most = 0;
        for (size_t i = 0; i < o->nevents; i++)
            if (o->events[i].pid == pid && !strcmp(o->events[i].call, *c) && o->events[i].count > most)
                most = o->events[i].count;
        total += most;
    }
    return total;
}

void obs_cross_check(struct observation *o)
{
    if (!o->traced || !o->started)
        return;
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (t->calls[SK_PROBE_FD])
            obs_tamper(o, "process %d closed or replaced the grader's probe descriptor (fd %d) %ld time%s "
                       "(dup/dup2/dup3/fcntl F_DUPFD/pidfd_getfd/close on it, seen by the kernel)", t->tgid, 1023, t->calls[SK_PROBE_FD],
                       t->calls[SK_PROBE_FD] == 1 ? "" : "s");
        if (t->calls[SK_FOREIGN])
            obs_tamper(o, "task %d made %ld system call%s through another ABI (int 0x80 or x32), where the "
                       "grader's filter sees them all", t->tid, t->calls[SK_FOREIGN],
                       t->calls[SK_FOREIGN] == 1 ? "" : "s");
    }
    if (!o->probe_on)
        return;
    const struct task *m = obs_main_task(o);
    bool main_heard = false;
    for (size_t i = 0; i < o->nevents; i++)
        main_heard = main_heard || (m && o->events[i].pid == m->tgid);
    if (m && m->execs > 0 && !main_heard && o->exited && o->probe_must_speak)
        obs_tamper(o, "the probe sent nothing from the program (pid %d), yet the kernel saw it run and exit: "
                   "its records were cut off (a statically linked program cannot be watched either)", m->tgid);
    /* Every probe record must come from a task the kernel ran, and say no more than the kernel saw. */
    static const char *const forks[] = {"fork", "vfork", "posix_spawn", "system", NULL};
    static const char *const threads[] = {"pthread_create", NULL};
    static const char *const waits[] = {"wait", NULL};
    static const char *const selects[] = {"select", "pselect", NULL};
    static const char *const polls[] = {"poll", "ppoll", NULL};
    static const char *const epolls[] = {"epoll_wait", NULL};
    static const char *const sleeps[] = {"sleep", "usleep", "nanosleep", "clock_nanosleep", NULL};
    int bad_tid = 0, nbad = 0;
    for (size_t i = 0; i < o->nevents; i++) {
        const struct call_event *e = &o->events[i];
        const struct task *t = obs_task(o, e->tid, false);
        if (!t || t->tgid != e->pid) {
            if (!nbad++)
                bad_tid = e->tid;
            continue;
        }
        bool first = true; /* each process once */
        for (size_t j = 0; j < i && first; j++)
            first = o->events[j].pid != e->pid;
        if (!first)
            continue;
        int pid = e->pid, execd;
        /* A process killed by a signal may have been stopped between its record and its call. */
        const struct task *leader = obs_task(o, pid, false);
        long slack = leader && leader->end >= 0 && !WIFEXITED(leader->wait_status) ? 1 : 0;
        struct {
            const char *what;
            long probe, kernel;
        } pairs[] = {
            {"processes created", probe_count(o, pid, forks), obs_children_of(o, pid, &execd)},
            {"threads created", probe_count(o, pid, threads), obs_threads_of(o, pid)},
            {"wait calls", probe_count(o, pid, waits), obs_sys_calls(o, pid, SK_WAIT)},
            {"select/pselect calls", probe_count(o, pid, selects),
             obs_sys_calls(o, pid, SK_SELECT) + obs_sys_calls(o, pid, SK_PSELECT)},
            {"poll calls", probe_count(o, pid, polls), obs_sys_calls(o, pid, SK_POLL) + obs_sys_calls(o, pid, SK_PPOLL)},
            {"epoll_wait calls", probe_count(o, pid, epolls), obs_sys_calls(o, pid, SK_EPOLL)},
            {"sleep calls", probe_count(o, pid, sleeps),
             obs_sys_calls(o, pid, SK_NANOSLEEP) + obs_sys_calls(o, pid, SK_CLOCK_NANOSLEEP)},
        };
        /* glibc refuses some arguments (select's infinite time-out: EINVAL) without a
         * system call: the probe saw a call the kernel never did. */
        long refused = 0;
        for (size_t j = 0; j < o->nevents; j++)
            refused += o->events[j].pid == pid && !strcmp(o->events[j].call, "wait_failed") &&
                       o->events[j].arg == EINVAL;
        for (size_t k = 0; k < ARRAY_LEN(pairs); k++)
            if (pairs[k].probe > pairs[k].kernel + slack + (k >= 3 && k <= 5 ? refused : 0))
                obs_tamper(o, "forged probe records: process %d reported %ld %s, the kernel saw %ld", pid,
                           pairs[k].probe, pairs[k].what, pairs[k].kernel);
    }
    /* Lock tallies: the probe writes one per thread as the thread ends, and the process's "lock" total
     * at exit is their sum (grader/probe/probe.c). */
    for (size_t i = 0; i < o->nevents; i++) {
        const struct call_event *e = &o->events[i];
        if (!strcmp(e->call, "locktally"))
            for (size_t j = 0; j < i; j++)
                if (o->events[j].tid == e->tid && o->events[j].pid == e->pid && !strcmp(o->events[j].call, "locktally")) {
                    obs_tamper(o, "forged probe records: two lock tallies from thread %d (the probe writes one, "
                               "as the thread ends)", e->tid);
                    i = o->nevents - 1;
                    break;
                }
        if (!strcmp(e->call, "lock") && e->arg == -1) {
            long sum = 0, tallies = 0;
            for (size_t j = 0; j < o->nevents; j++)
                if (o->events[j].pid == e->pid && !strcmp(o->events[j].call, "locktally")) {
                    sum += o->events[j].count;
                    tallies++;
                }
            if (tallies > 0 && e->count != sum) {
                obs_tamper(o, "forged probe records: process %d reported %ld locks in all, its threads' tallies "
                           "add up to %ld", e->pid, e->count, sum);
                break;
            }
        }
    }
    if (nbad)
        obs_tamper(o, "forged probe records: %d record%s from task %d, which the kernel never ran for this "
                   "program", nbad, nbad == 1 ? "" : "s", bad_tid);
}

double obs_worker_concurrency(const struct observation *o, bool (*is_worker)(const struct observation *o,
                                                                             const struct task *t),
                              double *worker_cpu, double *busy)
{
    double total = 0, single = 0;
    size_t prev = 0, cur = 0; /* first sample of the previous round, of this round */
    int intervals = 0;
    while (cur < o->nsamples) {
        size_t end = cur;
        while (end < o->nsamples && o->samples[end].round == o->samples[cur].round)
            end++;
        if (cur > 0) {
            double dt = o->samples[cur].t - o->samples[prev].t, load = 0;
            for (size_t i = cur; i < end && dt > 0; i++) {
                const struct task *t = obs_task((struct observation *)o, o->samples[i].tid, false);
                if (!t || !is_worker(o, t))
                    continue;
                for (size_t j = prev; j < cur; j++)
                    if (o->samples[j].tid == o->samples[i].tid) {
                        double d = (o->samples[i].cpu - o->samples[j].cpu) / dt;
                        load += d < 0 ? 0 : d > 1 ? 1 : d;
                        break;
                    }
            }
            if (dt > 0) {
                total += load * dt;
                single += (load < 1 ? load : 1) * dt;
                intervals++;
            }
        }
        prev = cur;
        cur = end;
    }
    *worker_cpu = total;
    *busy = single;
    return intervals >= 5 && single > 0.01 ? total / single : -1;
}

double obs_workers_cpu_wait(const struct observation *o,
                            bool (*is_worker)(const struct observation *o, const struct task *t))
{
    double sum = 0;
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        if (!is_worker(o, t))
            continue;
        double last = 0; /* schedstat's run delay only grows: the task's last sample */
        for (size_t k = 0; k < o->nsamples; k++)
            if (o->samples[k].tid == t->tid && o->samples[k].wait > last)
                last = o->samples[k].wait;
        sum += last;
    }
    return sum;
}

void obs_dump_trace(const struct observation *o, FILE *f)
{
    fprintf(f, "trace: %s%s (%ld stops)\n", o->traced ? "traced" : "not traced: ",
            o->traced ? "" : o->trace_off ? o->trace_off : "?", o->trace_stops);
    for (size_t i = 0; i < o->ntasks; i++) {
        const struct task *t = &o->tasks[i];
        fprintf(f, "  task %d tgid %d parent %d %s %.4f..%.4f execs %d %s status %#x calls:", t->tid, t->tgid, t->parent,
                t->is_thread ? "thread" : "process", t->start, t->end, t->execs, t->comm, t->wait_status);
        for (int k = 0; k < SK_N; k++)
            if (t->calls[k])
                fprintf(f, " %s=%ld", sys_kind_name[k], t->calls[k]);
        fprintf(f, "\n");
    }
    for (size_t i = 0; i < o->ncalls && i < 40; i++)
        fprintf(f, "  call %.4f..%.4f tid %d %s arg %ld ret %ld\n", o->calls[i].t, o->calls[i].t_end, o->calls[i].tid,
                sys_kind_name[o->calls[i].kind], o->calls[i].arg, o->calls[i].ret);
    if (o->tampering)
        fprintf(f, "tampering:\n%s", o->tampering);
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
