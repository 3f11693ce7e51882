/* check_unit.c - unit tests of the grader's pieces, with Check.
 *
 * One suite per grader module, tested through its header only:
 *   observe   line patterns (match_line, match_any) and probe records (obs_*)
 *   judge     the partial-order checker (check_order)
 *   lab1      lab 1's judges on hand-made observations: right, sequential,
 *             busy, noisy, early, replayed, nanosleep, out-of-order runs
 *   sandbox   line timestamps (pipe and pty), the time limit, endless output
 *   report    json_escape fed odd bytes, report_json's Gradescope fields
 *   rng       the random source and lab 1's draw()
 *
 * Run: make test (builds tests/bin/check_unit), or tests/bin/check_unit.
 * Check's variables apply: CK_FORK=no (for valgrind/gdb), CK_RUN_SUITE=lab1,
 * CK_RUN_CASE=..., CK_EXCLUDE_TAGS=slow, CK_VERBOSITY=verbose.
 *
 * The JSON checks use a small strict JSON parser below (RFC 8259, UTF-8 per
 * RFC 3629), written apart from report.c so they do not share its mistakes.
 *
 * See also: tests/check_e2e.c (the grader on whole programs), the grader headers,
 *           Makefile (test, test-run).
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "hints.h"
#include "judge.h"
#include "observe.h"
#include "report.h"
#include "sandbox.h"
#include "spec.h"
#include "timeline.h"

/* An assertion for hot loops: Check's ck_assert* record a mark point (a write
 * to Check's message file) on every call, which is slow under valgrind. */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* ============================================================================
 * observe: line patterns
 * ========================================================================== */

static const char *const lab1_patterns[] = {
    "Task {i} started",
    "Task {i} finished after {n} sec",
    "Total time: {t2} sec",
};

START_TEST(test_match_placeholders)
{
    struct match m;
    ck_assert(match_line("Task {i} started", "Task 3 started", &m));
    ck_assert_int_eq(m.nfields, 1);
    ck_assert_double_eq(m.field[0], 3);

    ck_assert(match_line("Task {i} finished after {n} sec", "Task 12 finished after 0.25 sec", &m));
    ck_assert_int_eq(m.nfields, 2);
    ck_assert_double_eq(m.field[0], 12);
    ck_assert_double_eq_tol(m.field[1], 0.25, 1e-12);

    /* {n}: an integer or any number of decimals. */
    ck_assert(match_line("Task {i} finished after {n} sec", "Task 2 finished after 3 sec", &m));
    ck_assert_double_eq(m.field[1], 3);
    ck_assert(match_line("Task {i} finished after {n} sec", "Task 2 finished after 1.500 sec", &m));
    ck_assert_double_eq_tol(m.field[1], 1.5, 1e-12);

    /* {t2}: exactly two decimals. */
    ck_assert(match_line("Total time: {t2} sec", "Total time: 1.50 sec", &m));
    ck_assert_int_eq(m.nfields, 1);
    ck_assert_double_eq_tol(m.field[0], 1.5, 1e-12);
    ck_assert(match_line("Total time: {t2} sec", "Total time: 12.05 sec", &m));
    ck_assert_double_eq_tol(m.field[0], 12.05, 1e-12);
}
END_TEST

START_TEST(test_match_trailing_space)
{
    struct match m;
    /* Byte for byte: a trailing '\r', space or tab is another line. */
    ck_assert(!match_line("Task {i} started", "Task 3 started\r", &m));
    ck_assert(!match_line("Task {i} started", "Task 3 started   ", &m));
    ck_assert(!match_line("Task {i} started", "Task 3 started \r", &m));
    ck_assert(!match_line("Task {i} started", "Task 3 started\t", &m));
    ck_assert(!match_line("Total time: {t2} sec", "Total time: 0.52 sec\r", &m));
    ck_assert(match_line("Total time: {t2} sec", "Total time: 0.52 sec", &m));
    ck_assert_double_eq_tol(m.field[0], 0.52, 1e-12);
    ck_assert(!match_line("Task {i} started", " Task 3 started", &m));
    ck_assert(!match_line("Task {i} started", "\rTask 3 started", &m));
    /* A NUL ends a C string, not a line: "Task 3 started\0junk" is no "Task 3 started". */
    struct observation o = {0};
    obs_add_line(&o, 0, STREAM_OUT, "Task 3 started\0junk\n", 20);
    ck_assert_uint_eq(o.lines[0].len, 19);
    ck_assert(!match_output_line("Task {i} started", &o.lines[0], &m));
    char *shown = line_printable(&o.lines[0]);
    ck_assert_str_eq(shown, "Task 3 started\\x00junk");
    free(shown);
    obs_add_line(&o, 0, STREAM_OUT, "Task 3 started", 14);
    ck_assert(match_output_line("Task {i} started", &o.lines[1], &m));
    obs_free(&o);
    /* What reaches a report: escape codes, C1 controls (CSI U+009B) and stray bytes quoted; UTF-8 kept. */
    struct sbuf b = {0};
    const char forged[] = "\033[2Kok \xc2\x9b" "2K \x9b \xe2\x89\x88 a\tb\nc";
    sbuf_add_printable(&b, forged, sizeof forged - 1, false);
    ck_assert_str_eq(b.data, "\\x1b[2Kok \\xc2\\x9b2K \\x9b \xe2\x89\x88 a\\x09b\\x0ac");
    sbuf_free(&b);
    sbuf_add_printable(&b, forged, sizeof forged - 1, true); /* a report: its newlines and tabs stay */
    ck_assert_str_eq(b.data, "\\x1b[2Kok \\xc2\\x9b2K \\x9b \xe2\x89\x88 a\tb\nc");
    sbuf_free(&b);
}
END_TEST

START_TEST(test_match_near_misses)
{
    struct match m;
    /* A number must start with a digit. */
    ck_assert(!match_line("Task {i} finished after {n} sec", "Task 1 finished after .5 sec", &m));
    ck_assert(!match_line("Task {i} finished after {n} sec", "Task 1 finished after  sec", &m));
    ck_assert(!match_line("Task {i} finished after {n} sec", "Task 1 finished after 0.5sec", &m));
    /* {t2} wants two decimals, no more, no fewer. */
    ck_assert(!match_line("Total time: {t2} sec", "Total time: 1.5 sec", &m));
    ck_assert(!match_line("Total time: {t2} sec", "Total time: 1.500 sec", &m));
    ck_assert(!match_line("Total time: {t2} sec", "Total time: 1 sec", &m));
    ck_assert(!match_line("Total time: {t2} sec", "Total time: 1. sec", &m));
    /* {i} is a non-negative integer. */
    ck_assert(!match_line("Task {i} started", "Task -1 started", &m));
    ck_assert(!match_line("Task {i} started", "Task 1.5 started", &m));
    ck_assert(!match_line("Task {i} started", "Task x started", &m));
    /* The whole line must match. */
    ck_assert(!match_line("Task {i} started", "Task 3 started!", &m));
    ck_assert(!match_line("Task {i} started", "Task 3 started now", &m));
    ck_assert(!match_line("Task {i} started", "xTask 3 started", &m));
    ck_assert(!match_line("Task {i} started", "Task 3 starte", &m));
    ck_assert(!match_line("Task {i} started", "task 3 started", &m));
    ck_assert(!match_line("Task {i} started", "", &m));
    ck_assert(!match_line("Total time: {t2} sec", "", &m));
}
END_TEST

START_TEST(test_match_any)
{
    struct match m;
    ck_assert_int_eq(match_any(lab1_patterns, 3, "Task 2 started", &m), 0);
    ck_assert_int_eq(m.pattern, 0);
    ck_assert_int_eq(match_any(lab1_patterns, 3, "Task 2 finished after 0.4 sec", &m), 1);
    ck_assert_int_eq(m.pattern, 1);
    ck_assert_double_eq_tol(m.field[1], 0.4, 1e-12);
    ck_assert_int_eq(match_any(lab1_patterns, 3, "Total time: 0.40 sec", &m), 2);
    ck_assert_int_eq(m.pattern, 2);
    /* No match: -1, and no stale fields from a previous line. */
    ck_assert_int_eq(match_any(lab1_patterns, 3, "Total time: 0.4 sec", &m), -1);
    ck_assert_int_eq(m.pattern, -1);
    ck_assert_int_eq(m.nfields, 0);
    ck_assert_int_eq(match_any(lab1_patterns, 3, "", &m), -1);
    ck_assert_int_eq(match_any(lab1_patterns, 3, "debug: Task 2 started", &m), -1);
    ck_assert_int_eq(match_any(lab1_patterns, 0, "Task 2 started", &m), -1);
}
END_TEST

/* ============================================================================
 * observe: probe records
 * ========================================================================== */

static void add_record(struct observation *o, int pid, int tid, long long ns, const char *call, long count)
{
    char rec[160];
    snprintf(rec, sizeof rec, "P %d %d %lld %s %ld 0", pid, tid, ns, call, count);
    ck_assert_msg(obs_add_probe_record(o, rec, 0), "record refused: %s", rec);
}

START_TEST(test_probe_record_fields)
{
    struct observation o = {0};
    ck_assert(obs_add_probe_record(&o, "P 100 101 3500000000 select 7 -1", 1.25));
    ck_assert_uint_eq(o.nevents, 1);
    ck_assert_int_eq(o.events[0].pid, 100);
    ck_assert_int_eq(o.events[0].tid, 101);
    ck_assert_str_eq(o.events[0].call, "select");
    ck_assert_int_eq(o.events[0].count, 7);
    ck_assert_int_eq(o.events[0].arg, -1);
    ck_assert_double_eq_tol(o.events[0].t, 3.5 - 1.25, 1e-9);
    obs_free(&o);
}
END_TEST

/* The probe's records against the tracer's: agreeing records are no tampering; forged ones are. */
START_TEST(test_probe_cross_check)
{
    struct observation o = {.started = true, .exited = true, .traced = true, .probe_on = true};
    struct task *m = obs_task(&o, 100, true);
    m->execs = 1;
    m->calls[SK_PSELECT] = 3;
    add_record(&o, 100, 100, 1, "exec", 1);
    add_record(&o, 100, 100, 2, "select", 3);
    obs_cross_check(&o);
    ck_assert_ptr_null(o.tampering);
    /* Forged: fork records the kernel never saw, and a record from a task it never ran. */
    add_record(&o, 100, 100, 3, "fork", 2);
    add_record(&o, 777, 777, 4, "wait", 1);
    obs_cross_check(&o);
    ck_assert_ptr_nonnull(o.tampering);
    ck_assert_ptr_nonnull(strstr(o.tampering, "2 processes created, the kernel saw 0"));
    ck_assert_ptr_nonnull(strstr(o.tampering, "task 777"));
    obs_free(&o);
    /* Silenced: the kernel saw the program run and exit, the probe said nothing. */
    o = (struct observation){.started = true, .exited = true, .traced = true, .probe_on = true,
                             .probe_must_speak = true};
    obs_task(&o, 100, true)->execs = 1;
    obs_cross_check(&o);
    ck_assert_ptr_nonnull(o.tampering);
    ck_assert_ptr_nonnull(strstr(o.tampering, "sent nothing"));
    obs_free(&o);
    /* The probe's descriptor replaced (dup2 onto it, seen by the filter). */
    o = (struct observation){.started = true, .exited = true, .traced = true};
    obs_task(&o, 100, true)->calls[SK_PROBE_FD] = 1;
    obs_cross_check(&o);
    ck_assert_ptr_nonnull(o.tampering);
    obs_free(&o);
}
END_TEST

/* Workers' concurrency from CPU samples: side by side ~2, one after another 1, a spinning parent
 * is no worker. */
static bool unit_worker(const struct observation *o, const struct task *t)
{
    return t != &o->tasks[0];
}

static void sample(struct observation *o, int round, int tid, double cpu)
{
    o->samples = realloc(o->samples, (o->nsamples + 1) * sizeof *o->samples);
    o->samples[o->nsamples++] = (struct cpu_sample){.t = 0.005 * round, .tid = tid, .round = round, .cpu = cpu};
}

START_TEST(test_worker_concurrency)
{
    for (int serial = 0; serial < 2; serial++) {
        struct observation o = {.traced = true};
        obs_task(&o, 100, true);                 /* the parent: spins all along */
        obs_task(&o, 101, true)->parent = 100;
        obs_task(&o, 102, true)->parent = 100;
        double a = 0, b = 0;
        for (int r = 0; r <= 100; r++) {
            sample(&o, r, 100, 0.005 * r);
            sample(&o, r, 101, a);
            sample(&o, r, 102, b);
            if (!serial || r < 50)
                a += 0.005;
            if (!serial || r >= 50)
                b += 0.005;
        }
        double cpu, busy, c = obs_worker_concurrency(&o, unit_worker, &cpu, &busy);
        ck_assert_double_eq_tol(c, serial ? 1.0 : 2.0, 0.05);
        obs_free(&o);
    }
    struct observation none = {0};
    double cpu, busy;
    ck_assert(obs_worker_concurrency(&none, unit_worker, &cpu, &busy) < 0);
}
END_TEST

START_TEST(test_probe_malformed)
{
    struct observation o = {0};
    static const char *const bad[] = {
        "",
        "P",
        "P 100 100 5 select",            /* fields missing */
        "P 100 100 5 select 1",
        "Q 100 100 5 select 1 0",        /* not a record */
        "P x 100 5 select 1 0",
        "P 100 100 abc select 1 0",
        "garbage from the program",
        "P 100 100 5 select one 0",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        ck_assert_msg(!obs_add_probe_record(&o, bad[i], 0), "accepted \"%s\"", bad[i]);
    ck_assert_uint_eq(o.nevents, 0);
    ck_assert_int_eq(obs_calls(&o, "select"), 0);
    ck_assert_int_eq(obs_processes(&o), 0);
    /* A good one after the bad ones still counts. */
    add_record(&o, 100, 100, 5, "select", 1);
    ck_assert_int_eq(obs_calls(&o, "select"), 1);
    obs_free(&o);
}
END_TEST

START_TEST(test_probe_counts)
{
    struct observation o = {0};
    /* Counts are running counts per process: the largest per pid is summed. */
    add_record(&o, 100, 100, 1, "exec", 1);
    add_record(&o, 100, 100, 2, "select", 1);
    add_record(&o, 100, 100, 3, "select", 2);
    add_record(&o, 200, 200, 4, "exec", 1);
    add_record(&o, 100, 100, 5, "select", 3);
    add_record(&o, 200, 200, 6, "select", 1);
    add_record(&o, 200, 200, 7, "select", 2);
    add_record(&o, 200, 200, 8, "pselect", 1);
    add_record(&o, 100, 100, 9, "fork", 1);
    add_record(&o, 300, 300, 10, "exec", 1);
    ck_assert_int_eq(obs_calls(&o, "select"), 3 + 2);
    ck_assert_int_eq(obs_calls(&o, "pselect"), 1);
    ck_assert_int_eq(obs_calls(&o, "fork"), 1);
    ck_assert_int_eq(obs_calls(&o, "nanosleep"), 0);
    ck_assert_int_eq(obs_calls(&o, "sel"), 0);
    ck_assert_int_eq(obs_processes(&o), 3);
    /* The n-th select across processes, in arrival order. */
    ck_assert_double_eq_tol(obs_call_time(&o, "select", 1), 2e-9, 1e-12);
    ck_assert_double_eq_tol(obs_call_time(&o, "select", 4), 6e-9, 1e-12);
    ck_assert_double_eq(obs_call_time(&o, "select", 6), -1);
    obs_free(&o);
}
END_TEST

START_TEST(test_probe_counts_out_of_order)
{
    /* Two threads of one process: records may reach the pipe out of order, and
     * the probe's exit tally (count 1000) follows sparse power-of-two records. */
    struct observation o = {0};
    add_record(&o, 100, 100, 1, "exec", 1);
    add_record(&o, 100, 101, 2, "select", 1);
    add_record(&o, 100, 102, 3, "select", 3);
    add_record(&o, 100, 101, 4, "select", 2);
    ck_assert_int_eq(obs_calls(&o, "select"), 3);
    add_record(&o, 100, 100, 5, "select", 64);
    add_record(&o, 100, 100, 6, "select", 512);
    add_record(&o, 100, 100, 7, "select", 1000);
    ck_assert_int_eq(obs_calls(&o, "select"), 1000);
    /* The same process announcing itself twice is one process. */
    add_record(&o, 100, 100, 8, "exec", 1);
    ck_assert_int_eq(obs_processes(&o), 1);
    obs_free(&o);
}
END_TEST

START_TEST(test_obs_lines)
{
    struct observation o = {0};
    const char text[] = "Task 1 started\r\n";
    obs_add_line(&o, 0.5, STREAM_OUT, text, strlen(text));
    obs_add_line(&o, 0.6, STREAM_ERR, "", 0);
    for (int i = 0; i < 40; i++) /* past the first growth */
        obs_add_line(&o, 1 + i, STREAM_OUT, "x", 1);
    ck_assert_uint_eq(o.nlines, 42);
    ck_assert_str_eq(o.lines[0].text, "Task 1 started\r"); /* the program's '\r' stays */
    ck_assert_uint_eq(o.lines[0].len, 15);
    ck_assert_double_eq(o.lines[0].t, 0.5);
    ck_assert_int_eq(o.lines[1].stream, STREAM_ERR);
    ck_assert_str_eq(o.lines[1].text, "");
    ck_assert_double_eq(o.lines[41].t, 40);
    obs_free(&o);
    ck_assert_uint_eq(o.nlines, 0);
    ck_assert_ptr_null(o.lines);
}
END_TEST

/* ============================================================================
 * judge: the partial order
 * ========================================================================== */

enum { S, F, T }; /* pattern indices: started, finished, total */

/* Builds a parsed output from "S1 S2 F2 x T" (x: a line matching nothing). */
static void make_parsed(struct parsed *p, const char *spec)
{
    *p = (struct parsed){0};
    p->ev = calloc(64, sizeof *p->ev);
    ck_assert_ptr_nonnull(p->ev);
    char *copy = strdup(spec), *save = NULL;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        struct out_event *e = &p->ev[p->n];
        e->line = p->n;
        e->t = 0.1 * (double)p->n;
        e->text = strdup(""); /* parsed_free frees it */
        e->id = w[1] ? atoi(w + 1) : -1;
        e->pattern = w[0] == 'S' ? S : w[0] == 'F' ? F : w[0] == 'T' ? T : -1;
        e->m.pattern = e->pattern;
        if (e->pattern < 0)
            p->unknown++;
        p->n++;
    }
    free(copy);
}

/* Lab 1's rules for delays d[0..n-1]. */
static size_t lab1_rules(struct order_rule *r, const double *d, int n)
{
    size_t k = 0;
    r[k++] = (struct order_rule){{S, -1}, {F, -1}, "started before finished"};
    r[k++] = (struct order_rule){{-1, -1}, {T, -1}, "total last"};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (d[i] < d[j])
                r[k++] = (struct order_rule){{F, i + 1}, {F, j + 1}, "by delay"};
    return k;
}

static const double order_delays[] = {0.30, 0.50, 0.20};

/* Returns the broken rule and which lines (indices) it names. */
static int order_of(const char *spec, size_t *late, size_t *early)
{
    struct parsed p;
    make_parsed(&p, spec);
    struct order_rule rules[16];
    size_t n = lab1_rules(rules, order_delays, 3);
    const struct out_event *a = NULL, *b = NULL;
    int broken = check_order(&p, rules, n, &a, &b);
    *late = *early = (size_t)-1;
    if (broken >= 0) {
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        *late = a->line;
        *early = b->line;
    }
    parsed_free(&p);
    return broken;
}

START_TEST(test_order_correct)
{
    size_t late, early;
    ck_assert_int_eq(order_of("S1 S2 S3 F3 F1 F2 T", &late, &early), -1);
    /* Started lines in any order, unknown lines anywhere. */
    ck_assert_int_eq(order_of("S3 S1 x S2 F3 F1 x F2 T x", &late, &early), -1);
    ck_assert_int_eq(order_of("", &late, &early), -1);
    /* Missing lines are format's business, not order's. */
    ck_assert_int_eq(order_of("S1 S2 F3 F2", &late, &early), -1);
}
END_TEST

START_TEST(test_order_started_after_finished)
{
    size_t late, early;
    /* F3 (line 2) came before S3 (line 3): rule 0. */
    ck_assert_int_eq(order_of("S1 S2 F3 S3 F1 F2 T", &late, &early), 0);
    ck_assert_uint_eq(late, 3);
    ck_assert_uint_eq(early, 2);
}
END_TEST

START_TEST(test_order_total_not_last)
{
    size_t late, early;
    /* T (line 5) came before F2 (line 6): rule 1. */
    ck_assert_int_eq(order_of("S1 S2 S3 F3 F1 T F2", &late, &early), 1);
    ck_assert_uint_eq(late, 6);
    ck_assert_uint_eq(early, 5);
    /* Two totals: the first is not last. */
    ck_assert_int_eq(order_of("S1 S2 S3 F3 T F1 F2 T", &late, &early), 1);
    ck_assert_uint_eq(early, 4);
}
END_TEST

START_TEST(test_order_finished_by_delay)
{
    size_t late, early;
    struct order_rule rules[16];
    size_t n = lab1_rules(rules, order_delays, 3);
    /* In argument order: F3 (0.20 s) after F1 (0.30 s). */
    int broken = order_of("S1 S2 S3 F1 F2 F3 T", &late, &early);
    ck_assert_int_ge(broken, 2);
    ck_assert_int_lt(broken, (int)n);
    ck_assert_int_eq(rules[broken].a.id, 3);
    ck_assert_int_eq(rules[broken].b.id, 1);
    ck_assert_uint_eq(late, 5);  /* F3 */
    ck_assert_uint_eq(early, 3); /* F1 */
    /* Only the last two swapped: F2 (0.50 s) before F1 (0.30 s). */
    broken = order_of("S1 S2 S3 F3 F2 F1 T", &late, &early);
    ck_assert_int_ge(broken, 2);
    ck_assert_int_eq(rules[broken].a.id, 1);
    ck_assert_int_eq(rules[broken].b.id, 2);
    ck_assert_uint_eq(late, 5);
    ck_assert_uint_eq(early, 4);
}
END_TEST

START_TEST(test_order_first_broken_rule)
{
    /* Everything wrong at once: the first rule in the list is reported. */
    size_t late, early;
    ck_assert_int_eq(order_of("T F1 S1 F3 S2 S3 F2", &late, &early), 0);
    ck_assert_uint_eq(late, 5);  /* the last S */
    ck_assert_uint_eq(early, 1); /* the first F */
}
END_TEST

/* ============================================================================
 * lab1: the judges on hand-made observations
 * ========================================================================== */

struct fake {
    struct params p;
    struct observation o;
    struct build_result build;
    bool exec_mode;
    long long probe_ns;
};

static void fake_init(struct fake *f, int count, const double *delays)
{
    memset(f, 0, sizeof *f);
    f->p.count = count;
    f->p.nargs = count;
    for (int i = 0; i < count; i++) {
        f->p.value[i] = delays[i];
        snprintf(f->p.arg[i], sizeof f->p.arg[i], "%.2f", delays[i]);
    }
    f->o.started = true;
    f->o.exited = true;
    f->o.exit_code = 0;
    f->o.time_limit = 10;
    f->build = (struct build_result){.attempted = true, .ok = true, .log = ""};
}

static void fake_free(struct fake *f)
{
    obs_free(&f->o);
}

static void out_line(struct fake *f, double t, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    obs_add_line(&f->o, t, STREAM_OUT, text, strlen(text));
}

static void probe(struct fake *f, const char *call, long count)
{
    char rec[128];
    snprintf(rec, sizeof rec, "P 4242 4242 %lld %s %ld 0", ++f->probe_ns, call, count);
    ck_assert(obs_add_probe_record(&f->o, rec, 0));
}

/* The tracer's view: task tid of process tgid, made by parent (0: the program itself). */
static struct task *kernel_task(struct fake *f, int tid, int tgid, int parent)
{
    f->o.traced = true;
    struct task *t = obs_task(&f->o, tid, true);
    t->tgid = tgid;
    t->parent = parent;
    t->is_thread = tid != tgid;
    t->start = 0.001 * (double)f->o.ntasks;
    return t;
}

/* The kernel saw the program's main task make count calls of kind k. */
static void kernel(struct fake *f, enum sys_kind k, long count)
{
    struct task *t = f->o.ntasks ? &f->o.tasks[0] : kernel_task(f, 4242, 4242, 0);
    t->calls[k] += count;
}

/* A program that does it right: started lines at once, each finished line
 * late[i] s after its delay (in time order), total = wall, a few selects. */
static void right_run(struct fake *f, const double *late, double wall)
{
    int n = f->p.count;
    for (int i = 0; i < n; i++)
        out_line(f, 0.0005 * (i + 1), "Task %d started", i + 1);
    bool done[MAX_VALUES] = {false};
    for (int k = 0; k < n; k++) {
        int next = -1;
        for (int i = 0; i < n; i++)
            if (!done[i] && (next < 0 || f->p.value[i] + late[i] < f->p.value[next] + late[next]))
                next = i;
        done[next] = true;
        out_line(f, f->p.value[next] + late[next], "Task %d finished after %s sec", next + 1, f->p.arg[next]);
    }
    out_line(f, wall - 0.0002, "Total time: %.2f sec", wall);
    f->o.wall = wall;
    f->o.cpu_user = 0.002;
    f->o.cpu_sys = 0.003;
    probe(f, "exec", 1);
    for (int i = 1; i <= n + 1; i++)
        probe(f, "select", i);
    kernel(f, SK_PSELECT, n + 1);
}

static const struct check *lab1_check(const char *name)
{
    const struct lab *lab = lab_find("lab1");
    ck_assert_ptr_nonnull(lab);
    for (size_t i = 0; i < lab->nchecks; i++)
        if (!strcmp(lab->checks[i].name, name))
            return &lab->checks[i];
    ck_abort_msg("lab1 has no check named %s", name);
    return NULL;
}

/* Judges f with lab 1's check NAME; asserts the status and, if hint is not
 * NULL, that it is the first (most likely) hint. */
static void expect(struct fake *f, const char *name, enum status want, const char *hint)
{
    const struct check *c = lab1_check(name);
    struct evidence ev = {.lab = lab_find("lab1"), .build = &f->build, .exec_mode = f->exec_mode,
                          .nruns = 1, .params = &f->p, .runs = &f->o, .cpus = 2};
    struct verdict v = {0};
    c->judge(&ev, &v);
    static const char *const words[] = {"pass", "fail", "skip"};
    char summary[512];
    snprintf(summary, sizeof summary, "%s", v.summary.data ? v.summary.data : "");
    const char *first = v.nhints > 0 ? v.hints[0] : "(none)";
    char first_copy[64];
    snprintf(first_copy, sizeof first_copy, "%s", first);
    enum status got = v.status;
    int nhints = v.nhints;
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    ck_assert_msg(got == want, "%s: expected %s, got %s: %s", name, words[want], words[got], summary);
    if (want == ST_PASS)
        ck_assert_msg(summary[0] != '\0', "%s passed without saying what it saw", name);
    if (hint) {
        ck_assert_msg(nhints > 0 && !strcmp(first_copy, hint), "%s: expected hint %s, got %s (%s)", name,
                      hint, first_copy, summary);
        ck_assert_msg(hint_find(hint) != NULL, "hint %s is not in the catalogue", hint);
    }
}

static const double d3[] = {0.30, 0.50, 0.20};
static const double on_time[] = {0.003, 0.004, 0.002};

/* A memcheck run stopped at its time limit never passes memory, even with a
 * clean log: leaks are counted at exit, and a program that never ends has none. */
START_TEST(test_memory_timed_out_fails)
{
    struct fake f;
    fake_init(&f, 3, d3);
    f.o.exited = false;
    f.o.timed_out = true;
    f.o.valgrind_log = xstrdup("==1== Command: ./sleeper\n==1== ERROR SUMMARY: 0 errors from 0 contexts\n");
    expect(&f, "memory", ST_FAIL, "time-limit");
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_right_run)
{
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    expect(&f, "format", ST_PASS, NULL);
    expect(&f, "order", ST_PASS, NULL);
    expect(&f, "timing", ST_PASS, NULL);
    expect(&f, "cpu", ST_PASS, NULL);
    expect(&f, "structure", ST_PASS, NULL);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_right_run_five)
{
    static const double d5[] = {0.45, 0.10, 0.60, 0.25, 0.35};
    static const double late5[] = {0.010, 0.002, 0.020, 0.001, 0.015};
    struct fake f;
    fake_init(&f, 5, d5);
    right_run(&f, late5, 0.63);
    expect(&f, "format", ST_PASS, NULL);
    expect(&f, "order", ST_PASS, NULL);
    expect(&f, "timing", ST_PASS, NULL);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_sequential)
{
    /* One task after another: finished lines at 0.30, 0.80, 1.00; wall = sum. */
    struct fake f;
    fake_init(&f, 3, d3);
    for (int i = 0; i < 3; i++)
        out_line(&f, 0.001, "Task %d started", i + 1);
    double t = 0;
    for (int i = 0; i < 3; i++) {
        t += d3[i];
        out_line(&f, t + 0.001, "Task %d finished after %s sec", i + 1, f.p.arg[i]);
    }
    out_line(&f, 1.005, "Total time: 1.01 sec");
    f.o.wall = 1.01;
    f.o.cpu_user = 0.003;
    probe(&f, "exec", 1);
    probe(&f, "select", 1);
    probe(&f, "select", 2);
    probe(&f, "select", 3);
    expect(&f, "timing", ST_FAIL, "sequential-wait");
    expect(&f, "cpu", ST_PASS, NULL);
    expect(&f, "format", ST_PASS, NULL);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_slow_not_sequential)
{
    /* Lines on time but the run 0.3 s past the longest delay: late, not sequential. */
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.80);
    expect(&f, "timing", ST_FAIL, "late-finish");
    fake_free(&f);
    /* One line 200 ms late, the run itself short enough. */
    static const double one_late[] = {0.003, 0.004, 0.200};
    fake_init(&f, 3, (const double[]){0.30, 0.50, 0.10});
    right_run(&f, one_late, 0.52);
    expect(&f, "timing", ST_FAIL, "late-finish");
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_busy)
{
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    f.o.cpu_user = 0.46;
    f.o.cpu_sys = 0.03;
    expect(&f, "cpu", ST_FAIL, "busy-wait");
    expect(&f, "timing", ST_PASS, NULL);
    fake_free(&f);
    /* Spinning on a crowded machine: little CPU time, but never asleep. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    f.o.cpu_user = 0.08;
    f.o.run_delay = 0.40;
    expect(&f, "cpu", ST_FAIL, "busy-wait");
    f.o.run_delay = 0.01; /* the same CPU time, asleep the rest of the run */
    expect(&f, "cpu", ST_PASS, NULL);
    fake_free(&f);
    /* Spinning on select() with a zero timeout: the second hint says why. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    probe(&f, "select", 1 << 20);
    kernel(&f, SK_PSELECT, 1 << 20);
    f.o.cpu_user = 0.30;
    f.o.cpu_sys = 0.20;
    const struct check *c = lab1_check("cpu");
    struct evidence ev = {.lab = lab_find("lab1"), .build = &f.build, .nruns = 1, .params = &f.p,
                          .runs = &f.o, .cpus = 2};
    struct verdict v = {0};
    c->judge(&ev, &v);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_int_eq(v.nhints, 2);
    ck_assert_str_eq(v.hints[0], "busy-wait");
    ck_assert_str_eq(v.hints[1], "timeout-not-rebuilt");
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_noisy_but_right)
{
    /* A loaded machine: every line 30-60 ms late, the run 80 ms past the max. */
    static const double noisy[] = {0.030, 0.060, 0.045};
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, noisy, 0.50 + 0.08);
    f.o.cpu_user = 0.01;
    expect(&f, "timing", ST_PASS, NULL);
    expect(&f, "order", ST_PASS, NULL);
    expect(&f, "cpu", ST_PASS, NULL);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_slow_start)
{
    /* An interpreter that starts up for 0.2 s: lines and wall timed from the first 'started'. */
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    for (size_t i = 0; i < f.o.nlines; i++)
        f.o.lines[i].t += 0.2;
    f.o.wall += 0.2;
    expect(&f, "timing", ST_PASS, NULL);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_early_line)
{
    /* Task 2 (0.50 s) reported at 0.44 s. */
    static const double early[] = {0.003, -0.060, 0.002};
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, early, 0.51);
    expect(&f, "timing", ST_FAIL, "early-finish");
    expect(&f, "order", ST_PASS, NULL);
    fake_free(&f);
}
END_TEST

/* The handout's example output, 2 3 1 seconds, printed whatever the arguments. */
static void replayed_example(struct fake *f)
{
    out_line(f, 0.001, "Task 1 started");
    out_line(f, 0.001, "Task 2 started");
    out_line(f, 0.001, "Task 3 started");
    out_line(f, 0.002, "Task 3 finished after 1 sec");
    out_line(f, 0.002, "Task 1 finished after 2 sec");
    out_line(f, 0.002, "Task 2 finished after 3 sec");
    out_line(f, 0.002, "Total time: 3.00 sec");
    f->o.wall = 0.003;
    probe(f, "exec", 1);
}

START_TEST(test_lab1_replayed)
{
    struct fake f;
    fake_init(&f, 3, d3);
    replayed_example(&f);
    expect(&f, "format", ST_FAIL, "replayed-output");
    fake_free(&f);
    /* Control: the same lines are right when the arguments are 2 3 1. */
    fake_init(&f, 3, (const double[]){2, 3, 1});
    replayed_example(&f);
    expect(&f, "format", ST_PASS, NULL);
    fake_free(&f);
    /* A replayed run with 4 tasks misses task 4's lines. */
    fake_init(&f, 4, (const double[]){0.30, 0.50, 0.20, 0.40});
    replayed_example(&f);
    expect(&f, "format", ST_FAIL, "replayed-output");
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_format_extra_line)
{
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    out_line(&f, 0.52, "debug: done");
    expect(&f, "format", ST_FAIL, "format");
    fake_free(&f);
    /* The same line on stderr is fine. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    obs_add_line(&f.o, 0.52, STREAM_ERR, "debug: done", 11);
    expect(&f, "format", ST_PASS, NULL);
    fake_free(&f);
    /* "Total time: 0.5 sec" is not two decimals. */
    fake_init(&f, 3, d3);
    for (int i = 0; i < 3; i++)
        out_line(&f, 0.001, "Task %d started", i + 1);
    out_line(&f, 0.201, "Task 3 finished after 0.20 sec");
    out_line(&f, 0.301, "Task 1 finished after 0.30 sec");
    out_line(&f, 0.501, "Task 2 finished after 0.50 sec");
    out_line(&f, 0.502, "Total time: 0.5 sec");
    f.o.wall = 0.502;
    expect(&f, "format", ST_FAIL, "format");
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_nanosleep)
{
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    kernel(&f, SK_NANOSLEEP, 3);
    expect(&f, "structure", ST_FAIL, "wrong-wait-call");
    fake_free(&f);
    /* Only clock_nanosleep, no select at all. */
    fake_init(&f, 3, d3);
    probe(&f, "exec", 1);
    kernel(&f, SK_CLOCK_NANOSLEEP, 2);
    expect(&f, "structure", ST_FAIL, "wrong-wait-call");
    fake_free(&f);
    /* A raw syscall(SYS_clock_nanosleep) and a decoy select: the probe saw only the select. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    kernel(&f, SK_CLOCK_NANOSLEEP, 3);
    expect(&f, "structure", ST_FAIL, "wrong-wait-call");
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_structure_other)
{
    struct fake f;
    /* Threads or processes. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    kernel_task(&f, 4243, 4242, 4242);
    expect(&f, "structure", ST_FAIL, "wrong-wait-call");
    fake_free(&f);
    /* A child process, made by fork or by glibc's clone(): the kernel sees both alike. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    kernel_task(&f, 4250, 4250, 4242);
    expect(&f, "structure", ST_FAIL, "wrong-wait-call");
    fake_free(&f);
    /* poll() instead of select(): wrong for C, fine under --exec. */
    fake_init(&f, 3, d3);
    probe(&f, "exec", 1);
    kernel(&f, SK_POLL, 4);
    expect(&f, "structure", ST_FAIL, "wrong-wait-call");
    f.exec_mode = true;
    expect(&f, "structure", ST_PASS, NULL);
    fake_free(&f);
    /* Not traced (ptrace not allowed here): not judged, and it says why. */
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    f.o.traced = false;
    f.o.trace_off = strdup("ptrace is not allowed here (Operation not permitted)");
    expect(&f, "structure", ST_SKIP, NULL);
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_out_of_order)
{
    struct fake f;
    /* Finished in argument order, not by delay (times do not matter to order). */
    fake_init(&f, 3, d3);
    for (int i = 0; i < 3; i++)
        out_line(&f, 0.001, "Task %d started", i + 1);
    for (int i = 0; i < 3; i++)
        out_line(&f, 0.2 + 0.1 * i, "Task %d finished after %s sec", i + 1, f.p.arg[i]);
    out_line(&f, 0.51, "Total time: 0.51 sec");
    f.o.wall = 0.51;
    expect(&f, "order", ST_FAIL, "order-finished");
    fake_free(&f);
    /* A started line after a finished one. */
    fake_init(&f, 3, d3);
    out_line(&f, 0.001, "Task 1 started");
    out_line(&f, 0.001, "Task 3 started");
    out_line(&f, 0.201, "Task 3 finished after 0.20 sec");
    out_line(&f, 0.202, "Task 2 started");
    out_line(&f, 0.301, "Task 1 finished after 0.30 sec");
    out_line(&f, 0.501, "Task 2 finished after 0.50 sec");
    out_line(&f, 0.502, "Total time: 0.50 sec");
    f.o.wall = 0.502;
    expect(&f, "order", ST_FAIL, "order-started");
    fake_free(&f);
}
END_TEST

START_TEST(test_lab1_crash)
{
    struct fake f;
    fake_init(&f, 3, d3);
    right_run(&f, on_time, 0.51);
    f.o.exited = false;
    f.o.term_signal = SIGSEGV;
    expect(&f, "format", ST_FAIL, "crash");
    expect(&f, "timing", ST_FAIL, "crash");
    expect(&f, "cpu", ST_FAIL, "crash");
    f.o.term_signal = 0;
    f.o.timed_out = true;
    expect(&f, "order", ST_FAIL, "time-limit");
    f.o.timed_out = false;
    f.o.exited = true;
    f.o.exit_code = 1;
    expect(&f, "format", ST_FAIL, "exit-status");
    fake_free(&f);
}
END_TEST

/* ============================================================================
 * sandbox: timestamps, time limit, endless output
 * ========================================================================== */

static char *sbx_dir;

static void sandbox_setup(void)
{
    /* main() called sandbox_init(); the subreaper setting is not inherited by
     * the process Check forks for each test, so set it again here. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        ck_abort_msg("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
    sbx_dir = sandbox_make_dir();
}

static void sandbox_teardown(void)
{
    remove_tree(sbx_dir);
    free(sbx_dir);
    sbx_dir = NULL;
}

static void run_sh(const char *script, bool pty, double limit, struct observation *o)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    struct run_spec spec = {.argv = argv, .dir = sbx_dir, .pty = pty, .time_limit = limit};
    sandbox_run(&spec, o);
}

START_TEST(test_sandbox_timestamps)
{
    bool pty = _i == 1;
    struct observation o;
    run_sh("echo a; sleep 0.3; echo b", pty, 5, &o);
    ck_assert(o.started);
    ck_assert(o.exited);
    ck_assert_int_eq(o.exit_code, 0);
    ck_assert(!o.timed_out);
    ck_assert_uint_eq(o.nlines, 2);
    ck_assert_str_eq(o.lines[0].text, "a");
    ck_assert_str_eq(o.lines[1].text, "b");
    ck_assert_int_eq(o.lines[0].stream, STREAM_OUT);
    double gap = o.lines[1].t - o.lines[0].t;
    ck_assert_msg(gap >= 0.25 && gap <= 0.6, "%s: b came %.3f s after a", pty ? "pty" : "pipe", gap);
    ck_assert_msg(o.lines[0].t < 0.25, "a came at %.3f s", o.lines[0].t);
    ck_assert_msg(o.wall >= 0.29 && o.wall < 1.0, "wall %.3f s", o.wall);
    obs_free(&o);
}
END_TEST

START_TEST(test_sandbox_streams_and_status)
{
    bool pty = _i == 1;
    struct observation o;
    run_sh("echo out; echo err >&2; printf 'no newline'; exit 3", pty, 5, &o);
    ck_assert(o.started);
    ck_assert(o.exited);
    ck_assert_int_eq(o.exit_code, 3);
    ck_assert_uint_eq(o.nlines, 3);
    int out = 0, err = 0;
    for (size_t i = 0; i < o.nlines; i++) {
        if (o.lines[i].stream == STREAM_ERR) {
            ck_assert_str_eq(o.lines[i].text, "err");
            err++;
        } else {
            ck_assert(!strcmp(o.lines[i].text, "out") || !strcmp(o.lines[i].text, "no newline"));
            out++;
        }
    }
    ck_assert_int_eq(out, 2);
    ck_assert_int_eq(err, 1);
    obs_free(&o);
    /* Killed by a signal. */
    run_sh("kill -SEGV $$", pty, 5, &o);
    ck_assert(!o.exited);
    ck_assert_int_eq(o.term_signal, SIGSEGV);
    obs_free(&o);
}
END_TEST

/* Processes still alive whose command line holds arg. */
static int alive_with_arg(const char *arg)
{
    int n = 0;
    DIR *d = opendir("/proc");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (atoi(e->d_name) <= 0)
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0'; /* a long command line is cut: end its last argument */
        for (size_t i = 0; i < len;) { /* NUL-separated arguments */
            if (!strcmp(buf + i, arg))
                n++;
            i += strlen(buf + i) + 1;
        }
    }
    closedir(d);
    return n;
}

/* A submitted file is read only when it is a regular file reached without a
 * link: links (last component or a folder on the way), FIFOs and files over
 * the cap are refused by name, never by their target. */
START_TEST(test_submission_file_refusals)
{
    char *top = xasprintf("%s/sub", sbx_dir);
    ck_assert(mkdir_p(top, 0755));
    char *real = xasprintf("%s/real.c", top), *link = xasprintf("%s/link.c", top), *fifo = xasprintf("%s/fifo.c", top);
    char *big = xasprintf("%s/big.c", top), *dir = xasprintf("%s/dir", top), *via = xasprintf("%s/via", top);
    ck_assert(write_file(real, "int x;\n", 7, 0644));
    ck_assert(symlink("/etc/passwd", link) == 0);
    ck_assert(mkfifo(fifo, 0644) == 0);
    ck_assert(write_file(big, "0123456789", 10, 0644));
    ck_assert(mkdir_p(dir, 0755));
    ck_assert(symlink(dir, via) == 0);
    char *d2 = xasprintf("%s/real.c", dir);
    ck_assert(write_file(d2, "int y;\n", 7, 0644));
    char *why = NULL;
    int fd = open_submission_file(NULL, real, "real.c", 1 << 20, &why);
    ck_assert_msg(fd >= 0, "a regular file was refused: %s", why ? why : "");
    close(fd);
    static const struct {
        const char *path, *says;
        bool under;
        long long max;
    } refused[] = {
        {"link.c", "link.c is a symbolic link: upload the file itself", false, 1 << 20},
        {"link.c", "link.c is a symbolic link", true, 1 << 20},
        {"fifo.c", "a FIFO", false, 1 << 20},
        {"big.c", "over the", false, 4},
        {"via/real.c", "lies in a folder that is a symbolic link", true, 1 << 20},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        why = NULL;
        char *full = xasprintf("%s/%s", top, refused[i].path);
        fd = refused[i].under ? open_submission_file(top, refused[i].path, refused[i].path, refused[i].max, &why)
                              : open_submission_file(NULL, full, refused[i].path, refused[i].max, &why);
        ck_assert_msg(fd < 0, "%s was not refused", refused[i].path);
        ck_assert_msg(why && strstr(why, refused[i].says), "%s: expected \"%s\", got \"%s\"", refused[i].path,
                      refused[i].says, why ? why : "");
        ck_assert_msg(!strstr(why, "passwd") && !strstr(why, "/dir"), "the message names the target: %s", why);
        free(why);
        free(full);
    }
    free(top), free(real), free(link), free(fifo), free(big), free(dir), free(via), free(d2);
}
END_TEST

START_TEST(test_sandbox_time_limit)
{
    /* A child in the session and one in a session of its own (setsid), then wait forever. */
    struct observation o;
    double t0 = now_mono();
    run_sh("sleep 41.37 & setsid sleep 41.37 & sleep 41.37", false, 0.5, &o);
    double took = now_mono() - t0;
    ck_assert(o.started);
    ck_assert(o.timed_out);
    ck_assert(!o.exited);
    ck_assert_msg(took >= 0.45 && took < 2.5, "sandbox_run took %.2f s for a 0.5 s limit", took);
    obs_free(&o);
    ck_assert_int_eq(alive_with_arg("41.37"), 0);
    /* None of ours left, not even a zombie. */
    errno = 0;
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

/* A CPU-bound program beside busy loops gets back the time they took (up to half its limit),
 * even when it ran under half the time: 4 loops in sessions of their own (each its own
 * scheduler autogroup, as other gradings' programs are) leave it about 2/5 of a CPU. One that
 * sleeps gets nothing back, and neither does one whose spec does not ask for it. */
START_TEST(test_sandbox_time_given_back)
{
    pid_t busy[4];
    for (int i = 0; i < 4; i++) {
        busy[i] = fork();
        if (busy[i] == 0) {
            setsid();
            alarm(30);
            for (volatile unsigned long x = 0;; x++)
                ;
        }
    }
    char *spin[] = {"sh", "-c", "while :; do :; done", NULL}, *nap[] = {"sh", "-c", "sleep 41.38", NULL};
    struct run_spec spec = {.argv = spin, .dir = sbx_dir, .time_limit = 1, .extend_limit = true, .extend_max = 5};
    struct observation o;
    sandbox_run(&spec, &o);
    ck_assert(o.timed_out);
    ck_assert_msg(o.time_extra > 0.1 && o.time_extra <= 0.5 + 1e-9 && o.time_limit == 1 + o.time_extra,
                  "a spinning program beside 4 busy loops: limit %.2f s, given back %.2f s", o.time_limit,
                  o.time_extra);
    obs_free(&o);
    spec.argv = nap;
    sandbox_run(&spec, &o);
    ck_assert_msg(o.timed_out && o.time_extra == 0, "a sleeping program was given back %.2f s", o.time_extra);
    obs_free(&o);
    spec.argv = spin;
    spec.extend_limit = false;
    sandbox_run(&spec, &o);
    ck_assert_msg(o.timed_out && o.time_extra == 0 && o.time_limit == 1, "not asked, yet given back %.2f s",
                  o.time_extra);
    obs_free(&o);
    for (int i = 0; i < 4; i++) {
        kill(busy[i], SIGKILL);
        waitpid(busy[i], NULL, 0);
    }
}
END_TEST

START_TEST(test_sandbox_leftovers_after_exit)
{
    /* The program exits at once, leaving a background child: it is counted and killed. */
    struct observation o;
    run_sh("setsid sleep 42.71 & exit 0", false, 5, &o);
    ck_assert(o.exited);
    ck_assert_int_eq(o.exit_code, 0);
    ck_assert_int_ge(o.leftover_procs, 1);
    obs_free(&o);
    ck_assert_int_eq(alive_with_arg("42.71"), 0);
}
END_TEST

START_TEST(test_sandbox_flood)
{
    struct observation o;
    double t0 = now_mono();
    char *argv[] = {"yes", "flood flood flood flood flood flood flood", NULL};
    struct run_spec spec = {.argv = argv, .dir = sbx_dir, .time_limit = 20};
    sandbox_run(&spec, &o);
    double took = now_mono() - t0;
    ck_assert(o.started);
    ck_assert_msg(o.output_flood, "endless output not stopped (timed out: %d, %zu bytes)", o.timed_out,
                  o.out_bytes);
    ck_assert(!o.timed_out);
    ck_assert_msg(took < 10, "took %.1f s", took);
    ck_assert_uint_ge(o.out_bytes, 1u << 20);
    ck_assert_uint_le(o.nlines, 10000);
    ck_assert_uint_gt(o.dropped_lines, 0);
    ck_assert_ptr_nonnull(o.tail);
    ck_assert_ptr_nonnull(strstr(o.tail, "flood flood"));
    ck_assert_str_eq(o.lines[0].text, "flood flood flood flood flood flood flood");
    obs_free(&o);
    ck_assert_int_eq(alive_with_arg("flood flood flood flood flood flood flood"), 0);
}
END_TEST

START_TEST(test_sandbox_cannot_start)
{
    struct observation o;
    char *argv[] = {"./no-such-program-here", NULL};
    struct run_spec spec = {.argv = argv, .dir = sbx_dir, .time_limit = 5};
    sandbox_run(&spec, &o);
    ck_assert(!o.started);
    ck_assert_uint_ge(o.nlines, 1);
    ck_assert_int_eq(o.lines[0].stream, STREAM_ERR);
    ck_assert_ptr_nonnull(strstr(o.lines[0].text, "no-such-program-here"));
    obs_free(&o);
}
END_TEST

/* ============================================================================
 * A small strict JSON parser (for the report tests)
 * ========================================================================== */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
struct jval {
    enum jtype type;
    double num;
    char *str;             /* J_STR: decoded UTF-8 (no NUL inside) */
    size_t n;              /* J_ARR, J_OBJ: items */
    struct jval *items;
    char **keys;           /* J_OBJ */
};

/* Length of one valid UTF-8 sequence at s (RFC 3629 table 3-7), or 0. */
static size_t utf8_valid_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c == 0xE0)
        n = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        n = 3;
    else if (c == 0xED)
        n = 3, hi = 0x9F;
    else if (c == 0xF0)
        n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        n = 4;
    else if (c == 0xF4)
        n = 4, hi = 0x8F;
    else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

static bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] == 0)
            return false;
        size_t n = utf8_valid_len(u + i);
        if (n == 0 || i + n > len)
            return false;
        i += n;
    }
    return true;
}

struct jparser {
    const char *s;
    int depth;
};

static void jws(struct jparser *p)
{
    while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
        p->s++;
}

static void put_utf8(struct sbuf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    sbuf_add(b, u, n);
}

static bool hex4(const char *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
        if (d == 16)
            return false;
        *v = *v * 16 + d;
    }
    return true;
}

/* A string at p->s (at the quote); returns its decoded text or NULL. */
static char *jstring(struct jparser *p)
{
    if (*p->s != '"')
        return NULL;
    p->s++;
    struct sbuf b = {0};
    for (;;) {
        unsigned char c = (unsigned char)*p->s;
        if (c == '"') {
            p->s++;
            return sbuf_take(&b);
        }
        if (c < 0x20) /* raw control characters (and the end of input) are not allowed */
            goto bad;
        if (c == '\\') {
            char e = p->s[1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char out[] = "\"\\/\b\f\n\r\t";
                sbuf_add(&b, &out[simple - "\"\\/bfnrt"], 1);
                p->s += 2;
                continue;
            }
            unsigned cp, lo;
            if (e != 'u' || !hex4(p->s + 2, &cp))
                goto bad;
            p->s += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                goto bad; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->s[0] != '\\' || p->s[1] != 'u' || !hex4(p->s + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                p->s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0)
                goto bad; /* our strings never hold NUL */
            put_utf8(&b, cp);
            continue;
        }
        size_t n = utf8_valid_len((const unsigned char *)p->s);
        if (n == 0)
            goto bad;
        sbuf_add(&b, p->s, n);
        p->s += n;
    }
bad:
    sbuf_free(&b);
    return NULL;
}

static void jfree(struct jval *v);

static bool jvalue(struct jparser *p, struct jval *v)
{
    memset(v, 0, sizeof *v);
    jws(p);
    if (++p->depth > 32)
        return false;
    bool ok = false;
    if (*p->s == '{' || *p->s == '[') {
        bool obj = *p->s == '{';
        v->type = obj ? J_OBJ : J_ARR;
        p->s++;
        jws(p);
        if (*p->s == (obj ? '}' : ']')) {
            p->s++;
            ok = true;
        } else {
            for (;;) {
                v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
                v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
                REQUIRE(v->items && v->keys, "out of memory");
                v->keys[v->n] = NULL;
                memset(&v->items[v->n], 0, sizeof v->items[v->n]);
                v->n++;
                if (obj) {
                    jws(p);
                    if (!(v->keys[v->n - 1] = jstring(p)))
                        break;
                    jws(p);
                    if (*p->s++ != ':')
                        break;
                }
                if (!jvalue(p, &v->items[v->n - 1]))
                    break;
                jws(p);
                if (*p->s == ',') {
                    p->s++;
                    continue;
                }
                if (*p->s == (obj ? '}' : ']')) {
                    p->s++;
                    ok = true;
                }
                break;
            }
        }
    } else if (*p->s == '"') {
        v->type = J_STR;
        ok = (v->str = jstring(p)) != NULL;
    } else if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "null", 4)) {
        v->type = p->s[0] == 't' ? J_BOOL : J_NULL;
        v->num = p->s[0] == 't';
        p->s += 4;
        ok = true;
    } else if (!strncmp(p->s, "false", 5)) {
        v->type = J_BOOL;
        p->s += 5;
        ok = true;
    } else {
        /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
        const char *s = p->s;
        if (*s == '-')
            s++;
        if (*s == '0')
            s++;
        else if (*s >= '1' && *s <= '9')
            while (*s >= '0' && *s <= '9')
                s++;
        else
            return false;
        if (*s == '.') {
            if (!(*++s >= '0' && *s <= '9'))
                return false;
            while (*s >= '0' && *s <= '9')
                s++;
        }
        if (*s == 'e' || *s == 'E') {
            s++;
            if (*s == '+' || *s == '-')
                s++;
            if (!(*s >= '0' && *s <= '9'))
                return false;
            while (*s >= '0' && *s <= '9')
                s++;
        }
        v->type = J_NUM;
        v->num = strtod(p->s, NULL);
        p->s = s;
        ok = true;
    }
    p->depth--;
    return ok;
}

static void jfree(struct jval *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        jfree(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

/* Parses all of s (one value, whitespace around it); false if it is not JSON. */
static bool jparse(const char *s, struct jval *v)
{
    struct jparser p = {s, 0};
    bool ok = jvalue(&p, v);
    jws(&p);
    if (!ok || *p.s) {
        jfree(v);
        return false;
    }
    return true;
}

static const struct jval *jget(const struct jval *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

START_TEST(test_jparser_self)
{
    /* The checker must itself reject bad JSON, or the report tests prove nothing. */
    static const char *const bad[] = {
        "", "\"", "\"abc", "\"a\x01\"", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xe2\x82\"", "{\"a\":}", "{\"a\" 1}", "[1,]",
        "[1 2]", "01", "1.", "-", "{\"a\":1}}", "nul", "'a'",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct jval v;
        ck_assert_msg(!jparse(bad[i], &v), "accepted bad JSON #%zu: %s", i, bad[i]);
    }
    struct jval v;
    ck_assert(jparse(" {\"a\": [1, 2.5e1, -0.5, \"\\u00e9\\ud83d\\ude00\\n\", true, null], \"b\": {}} ", &v));
    const struct jval *a = jget(&v, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->n, 6);
    ck_assert_double_eq(a->items[1].num, 25);
    ck_assert_str_eq(a->items[3].str, "\xc3\xa9\xf0\x9f\x98\x80\n");
    jfree(&v);
}
END_TEST

/* ============================================================================
 * report: json_escape and report_json
 * ========================================================================== */

static char *escaped(const char *s)
{
    struct sbuf b = {0};
    json_escape(&b, s);
    return sbuf_take(&b);
}

/* json_escape(s) must be one valid JSON string of valid UTF-8; returns it decoded. */
static char *escape_and_decode(const char *s)
{
    char *e = escaped(s);
    REQUIRE(utf8_valid(e, strlen(e)), "json_escape output is not UTF-8 for input of %zu bytes",
                  strlen(s));
    struct jval v;
    REQUIRE(jparse(e, &v), "json_escape output is not JSON: %s", e);
    REQUIRE(v.type == J_STR, "json_escape output is not a string: %s", e);
    char *decoded = v.str;
    v.str = NULL;
    jfree(&v);
    free(e);
    return decoded;
}

START_TEST(test_json_escape_exact)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "\"\""},
        {"plain", "\"plain\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"line\nnext\ttab", "\"line\\nnext\\ttab\""},
        {"\x01\x1f", "\"\\u0001\\u001f\""},
        {"\xff", "\"\xef\xbf\xbd\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *e = escaped(cases[i].in);
        ck_assert_msg(!strcmp(e, cases[i].out), "case %zu: got %s, want %s", i, e, cases[i].out);
        free(e);
    }
    char *e = escaped(NULL);
    ck_assert_str_eq(e, "\"\"");
    free(e);
}
END_TEST

START_TEST(test_json_escape_invalid_utf8)
{
    static const char *const odd[] = {
        "\xff", "\xfe\xff", "\x80", "\xbf\x80",           /* stray bytes, continuation bytes */
        "\xe2\x82", "\xf0\x9f\x98", "\xc3",               /* truncated sequences */
        "a\xe2\x82z", "\xf0\x9f\x98 x",
        "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", /* overlong forms */
        "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\x80\xed\xb0\x80", /* UTF-16 surrogates */
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", /* past U+10FFFF, 5 bytes */
        "\x7f\x1b[31mred\x1b[0m\r\b\f", "\"\\\"\\\\", "\\u0000",
    };
    for (size_t i = 0; i < ARRAY_LEN(odd); i++) {
        char *d = escape_and_decode(odd[i]);
        ck_assert_msg(utf8_valid(d, strlen(d)), "case %zu decodes to invalid UTF-8", i);
        free(d);
    }
    /* Valid characters around junk survive; each bad byte is one U+FFFD. */
    char *d = escape_and_decode("\xff\xe2\x82\xac\xff");
    ck_assert_str_eq(d, "\xef\xbf\xbd\xe2\x82\xac\xef\xbf\xbd");
    free(d);
    d = escape_and_decode("x\xed\xa0\x80y");
    ck_assert_ptr_null(strstr(d, "\xed"));
    ck_assert_ptr_nonnull(strstr(d, "\xef\xbf\xbd"));
    ck_assert(d[0] == 'x' && d[strlen(d) - 1] == 'y');
    free(d);
}
END_TEST

START_TEST(test_json_escape_random)
{
    /* Random byte strings, weighted towards the awkward ones: always valid JSON
     * and UTF-8; and a valid UTF-8 input comes back unchanged. */
    struct rng r = {20240601};
    static const unsigned char awkward[] = {0x01, 0x08, 0x0a, 0x0d, 0x1f, 0x7f, '"', '\\', '/',
                                            0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0,
                                            0xf4, 0xf5, 0xff};
    static const char *const good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\x9f\xbf",
                                       "\xee\x80\x80", "\xf4\x8f\xbf\xbf"};
    int valid_inputs = 0;
    for (int k = 0; k < 3000; k++) {
        char in[128];
        size_t n = 0, len = (size_t)rng_below(&r, 40);
        while (n < len) {
            int kind = rng_below(&r, 4);
            if (kind == 0) {
                in[n++] = (char)awkward[rng_below(&r, ARRAY_LEN(awkward))];
            } else if (kind == 1) {
                const char *g = good[rng_below(&r, ARRAY_LEN(good))];
                memcpy(in + n, g, strlen(g));
                n += strlen(g);
            } else if (kind == 2) {
                in[n++] = (char)(1 + rng_below(&r, 255));
            } else {
                in[n++] = (char)(' ' + rng_below(&r, 95));
            }
        }
        in[n] = '\0';
        char *d = escape_and_decode(in);
        REQUIRE(utf8_valid(d, strlen(d)), "input #%d decodes to invalid UTF-8", k);
        if (utf8_valid(in, n)) {
            valid_inputs++;
            REQUIRE(!strcmp(d, in), "valid UTF-8 input #%d changed", k);
        }
        free(d);
    }
    ck_assert_int_gt(valid_inputs, 50);
}
END_TEST

static char *json_tmp;

static void json_teardown(void)
{
    if (json_tmp) {
        unlink(json_tmp);
        free(json_tmp);
        json_tmp = NULL;
    }
}

/* Two checks of lab 1: format passed, timing failed with odd bytes in its summary. */
static void fake_grading(struct grading *g, struct grade_options *opt, struct check_result res[2])
{
    const struct lab *lab = lab_find("lab1");
    ck_assert_ptr_nonnull(lab);
    *opt = (struct grade_options){.submission = "labs/lab1", .seed = 42, .seed_given = true};
    memset(res, 0, 2 * sizeof *res);
    res[0].check = lab1_check("format");
    res[0].max = 2;
    res[0].verdict.status = ST_PASS;
    res[0].verdict.score = 2;
    sbuf_puts(&res[0].verdict.summary, "3 tasks: every line as the contract says");
    res[0].attempts = 1;
    res[1].check = lab1_check("timing");
    res[1].max = 3;
    res[1].verdict.status = ST_FAIL;
    res[1].verdict.score = 0;
    sbuf_puts(&res[1].verdict.summary, "the run took 1.01 s \xff\"quoted\" back\\slash \x01");
    sbuf_puts(&res[1].verdict.detail, "  task 1: delay 0.30 s\n");
    verdict_hint(&res[1].verdict, "sequential-wait");
    res[1].attempts = 3;
    *g = (struct grading){.lab = lab, .opt = opt, .student_file = "labs/lab1/sleeper.c",
                          .results = res, .nresults = 2, .score = 2, .max = 5, .seconds = 1.234, .cpus = 2,
                          .seed = 42};
}

static void free_fake_grading(struct check_result res[2])
{
    for (int i = 0; i < 2; i++) {
        sbuf_free(&res[i].verdict.summary);
        sbuf_free(&res[i].verdict.detail);
    }
}

static const char *tag_of(const struct jval *t, size_t i)
{
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->type, J_ARR);
    ck_assert_uint_gt(t->n, i);
    ck_assert_int_eq(t->items[i].type, J_STR);
    return t->items[i].str;
}

START_TEST(test_report_json)
{
    struct grading g;
    struct grade_options opt;
    struct check_result res[2];
    fake_grading(&g, &opt, res);
    const char *tmp = getenv("TMPDIR");
    json_tmp = xasprintf("%s/check_unit.%d.json", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    ck_assert(report_json(&g, json_tmp));
    free_fake_grading(res);

    struct sbuf text = {0};
    ck_assert(read_file(json_tmp, &text, 1 << 20));
    ck_assert(utf8_valid(text.data, text.len));
    struct jval root;
    ck_assert_msg(jparse(text.data, &root), "results.json is not JSON:\n%s", text.data);
    sbuf_free(&text);

    ck_assert_int_eq(root.type, J_OBJ);
    const struct jval *v;
    ck_assert((v = jget(&root, "score")) && v->type == J_NUM);
    ck_assert_double_eq(v->num, 2);
    /* Gradescope's specification has no top-level max_score: the total is under extra_data. */
    ck_assert_ptr_null(jget(&root, "max_score"));
    const struct jval *extra = jget(&root, "extra_data");
    ck_assert(extra && extra->type == J_OBJ);
    ck_assert((v = jget(extra, "max_score")) && v->type == J_NUM);
    ck_assert_double_eq(v->num, 5);
    ck_assert((v = jget(extra, "seed")) && v->type == J_NUM);
    ck_assert((v = jget(&root, "output_format")) && v->type == J_STR);
    ck_assert((v = jget(&root, "execution_time")) && v->type == J_NUM);
    ck_assert_double_eq_tol(v->num, 1.234, 0.006);
    const struct jval *tests = jget(&root, "tests");
    ck_assert(tests && tests->type == J_ARR);
    ck_assert_uint_eq(tests->n, 2);

    const struct jval *t0 = &tests->items[0], *t1 = &tests->items[1];
    static const char *const fields[] = {"name", "score", "max_score", "status", "output", "tags"};
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        ck_assert_msg(jget(t0, fields[i]), "tests[0] has no %s", fields[i]);
        ck_assert_msg(jget(t1, fields[i]), "tests[1] has no %s", fields[i]);
    }
    ck_assert_str_eq(jget(t0, "name")->str, "format");
    ck_assert_double_eq(jget(t0, "score")->num, 2);
    ck_assert_double_eq(jget(t0, "max_score")->num, 2);
    ck_assert_str_eq(jget(t0, "status")->str, "passed");
    ck_assert_str_eq(tag_of(jget(t0, "tags"), 0), "format");
    ck_assert_uint_eq(jget(t0, "tags")->n, 1);

    ck_assert_str_eq(jget(t1, "name")->str, "timing");
    ck_assert_double_eq(jget(t1, "score")->num, 0);
    ck_assert_double_eq(jget(t1, "max_score")->num, 3);
    ck_assert_str_eq(jget(t1, "status")->str, "failed");
    ck_assert_str_eq(tag_of(jget(t1, "tags"), 0), "timing");
    const struct jval *o1 = jget(t1, "output");
    ck_assert_int_eq(o1->type, J_STR);
    /* The failing check's text: its summary (odd bytes made safe), detail, runs and hint. */
    ck_assert_ptr_nonnull(strstr(o1->str, "\xef\xbf\xbd\"quoted\" back\\slash \x01"));
    ck_assert_ptr_nonnull(strstr(o1->str, "task 1: delay 0.30 s"));
    ck_assert_ptr_nonnull(strstr(o1->str, "best of 3"));
    ck_assert_ptr_nonnull(strstr(o1->str, hint_find("sequential-wait")->text));
    jfree(&root);

    /* Cross-check with Python's parser when there is one (under CI there must be). */
    bool python = system("command -v python3 >/dev/null 2>&1") == 0;
    const char *ci = getenv("CI");
    ck_assert_msg(python || !ci || !*ci || !strcmp(ci, "false") || !strcmp(ci, "0"),
                  "no python3 to cross-check the JSON, and CI is set (make test installs python3)");
    if (python) {
        char *cmd = xasprintf("python3 -m json.tool '%s' >/dev/null", json_tmp);
        ck_assert_msg(system(cmd) == 0, "python3 -m json.tool rejects %s", json_tmp);
        free(cmd);
    }
}
END_TEST

START_TEST(test_report_json_unwritable)
{
    struct grading g;
    struct grade_options opt;
    struct check_result res[2];
    fake_grading(&g, &opt, res);
    ck_assert(!report_json(&g, "/nonexistent-dir/for/sure/results.json"));
    free_fake_grading(res);
}
END_TEST

/* ============================================================================
 * rng and lab 1's draw()
 * ========================================================================== */

START_TEST(test_rng_deterministic)
{
    struct rng a = {12345}, b = {12345}, c = {12346};
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);
        REQUIRE(x == y, "same seed, different values at %d", i);
        differ += x != z;
    }
    ck_assert_int_gt(differ, 990);
    /* rng_below covers [0, n) and nothing else; rng_uniform is in [0, 1). */
    struct rng r = {7};
    int seen[11] = {0};
    double lo = 1, hi = 0;
    for (int i = 0; i < 5000; i++) {
        int k = rng_below(&r, 11);
        REQUIRE(k >= 0 && k < 11, "rng_below(11) gave %d", k);
        seen[k]++;
        double u = rng_uniform(&r);
        REQUIRE(u >= 0 && u < 1, "rng_uniform gave %g", u);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    for (int k = 0; k < 11; k++)
        ck_assert_msg(seen[k] > 300, "rng_below(11) gave %d only %d times in 5000", k, seen[k]);
    ck_assert(lo < 0.01 && hi > 0.99);
    ck_assert_int_eq(rng_below(&r, 1), 0);
}
END_TEST

START_TEST(test_lab1_draw)
{
    const struct lab *lab = lab_find("lab1");
    ck_assert_ptr_nonnull(lab);
    int counts[MAX_VALUES + 1] = {0};
    for (uint64_t seed = 1; seed <= 3000; seed++) {
        struct rng r = {seed * 0x9E3779B97F4A7C15ull};
        struct params p = {0};
        lab->draw(&r, &p);
        REQUIRE(p.count >= 3 && p.count <= 5, "seed %llu: %d tasks", (unsigned long long)seed, p.count);
        counts[p.count]++;
        REQUIRE(p.nargs == p.count, "%d arguments for %d tasks", p.nargs, p.count);
        bool ascending = true;
        for (int i = 0; i < p.count; i++) {
            REQUIRE(p.value[i] >= 0.10 - 1e-9 && p.value[i] <= 0.60 + 1e-9, "seed %llu: delay %g",
                          (unsigned long long)seed, p.value[i]);
            /* The argument is the delay, as text the program can parse. */
            char *end;
            double parsed = strtod(p.arg[i], &end);
            REQUIRE(*end == '\0' && end != p.arg[i], "argument '%s'", p.arg[i]);
            REQUIRE(fabs(parsed - p.value[i]) < 1e-9, "argument '%s' for a delay of %g", p.arg[i], p.value[i]);
            for (int j = 0; j < i; j++)
                REQUIRE(fabs(p.value[i] - p.value[j]) >= 0.1 - 1e-9, "seed %llu: %g and %g too close",
                              (unsigned long long)seed, p.value[i], p.value[j]);
            if (i > 0)
                ascending = ascending && p.value[i - 1] < p.value[i];
        }
        REQUIRE(!ascending, "seed %llu: delays in ascending order", (unsigned long long)seed);
        /* Same seed, same run. */
        struct rng r2 = {seed * 0x9E3779B97F4A7C15ull};
        struct params q = {0};
        lab->draw(&r2, &q);
        REQUIRE(q.count == p.count, "seed %llu drew %d, then %d tasks", (unsigned long long)seed, p.count, q.count);
        for (int i = 0; i < p.count; i++)
            REQUIRE(!strcmp(q.arg[i], p.arg[i]), "seed %llu drew %s, then %s", (unsigned long long)seed, p.arg[i],
                    q.arg[i]);
    }
    for (int n = 3; n <= 5; n++)
        ck_assert_msg(counts[n] > 300, "%d tasks drawn only %d times in 3000", n, counts[n]);
}
END_TEST

START_TEST(test_lab1_draw_defaults)
{
    const struct lab *lab = lab_find("lab1");
    struct rng r = {99};
    struct params p = {.defaults = true};
    lab->draw(&r, &p);
    ck_assert_int_eq(p.count, 3);
    ck_assert_int_eq(p.nargs, 0);
    ck_assert_double_eq(p.value[0], 2);
    ck_assert_double_eq(p.value[1], 3);
    ck_assert_double_eq(p.value[2], 1);
}
END_TEST

/* ============================================================================ */

static Suite *observe_suite(void)
{
    Suite *s = suite_create("observe");
    TCase *tc = tcase_create("patterns");
    tcase_add_test(tc, test_match_placeholders);
    tcase_add_test(tc, test_match_trailing_space);
    tcase_add_test(tc, test_match_near_misses);
    tcase_add_test(tc, test_match_any);
    suite_add_tcase(s, tc);
    tc = tcase_create("probe");
    tcase_add_test(tc, test_probe_record_fields);
    tcase_add_test(tc, test_probe_malformed);
    tcase_add_test(tc, test_probe_cross_check);
    tcase_add_test(tc, test_worker_concurrency);
    tcase_add_test(tc, test_probe_counts);
    tcase_add_test(tc, test_probe_counts_out_of_order);
    tcase_add_test(tc, test_obs_lines);
    suite_add_tcase(s, tc);
    return s;
}

/* ============================================================================
 * judge: valgrind's log (monotonic: lines a program adds can only hurt) and integrity
 * ========================================================================== */

/* judge_memory on a run that ended well with this log; returns the verdict's status. */
static enum status memory_verdict(const char *log, struct verdict *v)
{
    struct observation o = {.started = true, .exited = true, .exit_code = 0, .wall = 1};
    o.valgrind_log = (char *)log;
    struct params p = {0};
    struct evidence ev = {.nruns = 1, .runs = &o, .params = &p};
    *v = (struct verdict){0};
    judge_memory(&ev, v);
    return v->status;
}

#define VG_CLEAN(pid) "==" pid "== Command: ./sleeper 1\n==" pid "== FILE DESCRIPTORS: 3 open (3 std) at exit.\n" \
    "==" pid "== HEAP SUMMARY:\n==" pid "==     in use at exit: 0 bytes in 0 blocks\n" \
    "==" pid "== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n"

START_TEST(test_memory_log_monotonic)
{
    struct verdict v;
    ck_assert_int_eq(memory_verdict(VG_CLEAN("100") VG_CLEAN("101"), &v), ST_PASS);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "2 processes"));
    sbuf_free(&v.summary);
    /* A forged clean summary before the real one: the leak still counts, and two summaries are evidence. */
    const char *forged = "==100== Command: ./sleeper 1\n==100== ERROR SUMMARY: 0 errors from 0 contexts\n"
                         "==100==    definitely lost: 64 bytes in 1 blocks\n==100== ERROR SUMMARY: 1 errors from 1 contexts\n";
    ck_assert_int_eq(memory_verdict(forged, &v), ST_FAIL);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "64 bytes"));
    ck_assert_ptr_nonnull(strstr(v.detail.data, "2 summaries"));
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    /* A process whose summary never came is not a clean one. */
    ck_assert_int_eq(memory_verdict(VG_CLEAN("100") "==102== Command: ./sleeper 1\n", &v), ST_FAIL);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "summary is missing"));
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    /* valgrind itself crashed (a program wrote into its pipes): not clean either. */
    ck_assert_int_eq(memory_verdict(VG_CLEAN("100") "valgrind: m_scheduler/sema.c:118: Assertion failed.\n", &v),
                     ST_FAIL);
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    /* A descriptor left open, and a write to the log's descriptor. */
    ck_assert_int_eq(memory_verdict("==100== Command: x\n==100== FILE DESCRIPTORS: 4 open (3 std) at exit.\n"
                                    "==100== Open file descriptor 3: /tmp/x\n==100== ERROR SUMMARY: 0 errors\n", &v),
                     ST_FAIL);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "1 file descriptor"));
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    struct sbuf why = {0};
    valgrind_tampering(VG_CLEAN("100") "==100== Warning: invalid file descriptor 1020 in syscall write()\n", &why);
    ck_assert_ptr_nonnull(why.data);
    ck_assert_ptr_nonnull(strstr(why.data, "log descriptor"));
    sbuf_free(&why);
    valgrind_tampering(VG_CLEAN("100") "==100== Warning: invalid file descriptor 1020 in syscall close()\n", &why);
    ck_assert_ptr_null(why.data); /* closing every descriptor in a loop is no attack */
}
END_TEST

START_TEST(test_integrity)
{
    struct observation a = {.started = true}, b = {.started = true};
    const struct observation *runs[] = {&a, &b};
    struct evidence ev = {.all_runs = runs, .nall = 2, .source_findings = ""};
    struct verdict v = {0};
    judge_integrity(&ev, &v);
    ck_assert_int_eq(v.status, ST_PASS);
    sbuf_free(&v.summary);
    obs_tamper(&b, "the program wrote .valgrindrc in its working folder");
    v = (struct verdict){0};
    judge_integrity(&ev, &v);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_str_eq(v.summary.data, "the program wrote .valgrindrc in its working folder");
    ck_assert_str_eq(v.hints[0], "integrity");
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    obs_free(&b);
    ev.source_findings = "the source uses a no_sanitize attribute\n";
    v = (struct verdict){0};
    judge_integrity(&ev, &v);
    ck_assert_int_eq(v.status, ST_FAIL);
    ck_assert_ptr_nonnull(strstr(v.summary.data, "no_sanitize"));
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
}
END_TEST

static Suite *judge_suite(void)
{
    Suite *s = suite_create("judge");
    TCase *tc = tcase_create("order");
    tcase_add_test(tc, test_order_correct);
    tcase_add_test(tc, test_order_started_after_finished);
    tcase_add_test(tc, test_order_total_not_last);
    tcase_add_test(tc, test_order_finished_by_delay);
    tcase_add_test(tc, test_order_first_broken_rule);
    suite_add_tcase(s, tc);
    tc = tcase_create("evidence");
    tcase_add_test(tc, test_memory_log_monotonic);
    tcase_add_test(tc, test_integrity);
    suite_add_tcase(s, tc);
    return s;
}

static Suite *lab1_suite(void)
{
    Suite *s = suite_create("lab1");
    TCase *tc = tcase_create("judges");
    tcase_add_test(tc, test_lab1_right_run);
    tcase_add_test(tc, test_memory_timed_out_fails);
    tcase_add_test(tc, test_lab1_right_run_five);
    tcase_add_test(tc, test_lab1_sequential);
    tcase_add_test(tc, test_lab1_slow_not_sequential);
    tcase_add_test(tc, test_lab1_busy);
    tcase_add_test(tc, test_lab1_noisy_but_right);
    tcase_add_test(tc, test_lab1_slow_start);
    tcase_add_test(tc, test_lab1_early_line);
    tcase_add_test(tc, test_lab1_replayed);
    tcase_add_test(tc, test_lab1_format_extra_line);
    tcase_add_test(tc, test_lab1_nanosleep);
    tcase_add_test(tc, test_lab1_structure_other);
    tcase_add_test(tc, test_lab1_out_of_order);
    tcase_add_test(tc, test_lab1_crash);
    suite_add_tcase(s, tc);
    tc = tcase_create("draw");
    tcase_add_test(tc, test_rng_deterministic);
    tcase_add_test(tc, test_lab1_draw);
    tcase_add_test(tc, test_lab1_draw_defaults);
    tcase_set_timeout(tc, 20);
    suite_add_tcase(s, tc);
    return s;
}

static Suite *sandbox_suite(void)
{
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("runs");
    tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
    tcase_add_loop_test(tc, test_sandbox_timestamps, 0, 2);       /* 0: pipe, 1: pty */
    tcase_add_loop_test(tc, test_sandbox_streams_and_status, 0, 2);
    tcase_add_test(tc, test_sandbox_time_limit);
    tcase_add_test(tc, test_sandbox_time_given_back);
    tcase_add_test(tc, test_submission_file_refusals);
    tcase_add_test(tc, test_sandbox_leftovers_after_exit);
    tcase_add_test(tc, test_sandbox_cannot_start);
    tcase_set_timeout(tc, 15);
    suite_add_tcase(s, tc);
    tc = tcase_create("flood");
    tcase_set_tags(tc, "slow");
    tcase_add_checked_fixture(tc, sandbox_setup, sandbox_teardown);
    tcase_add_test(tc, test_sandbox_flood);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

/* The timeline's closing words come from the samples: workers alive at once that never
 * ran on two CPUs together took turns (make lab2 CPUS=1), whatever their bars' lengths. */
static void sampled_timeline(char a, char b, struct sbuf *out)
{
    struct timeline tl = {.n = 2, .total = 1.3, .longest = 1.28, .sum = 3.77, .cpu = 1.2, .sampled = true};
    for (int i = 0; i < 2; i++) {
        tl.bars[i] = (struct bar){.id = i + 1, .from = 0.01, .to = 1.28};
        for (int c = 0; c < TIMELINE_WIDTH; c++)
            tl.bars[i].slot[c] = c < 48 ? (i == 0 ? a : b) : SLOT_NONE;
    }
    timeline_text(lab_find("lab2"), &tl, false, out);
}

START_TEST(test_timeline_words_from_samples)
{
    struct sbuf turns = {0}, together = {0};
    sampled_timeline(SLOT_TURNS, SLOT_READY, &turns);
    sampled_timeline(SLOT_RUNNING, SLOT_RUNNING, &together);
    ck_assert_msg(strstr(turns.data, "took turns on the CPUs") && !strstr(turns.data, "overlapped"), "%s", turns.data);
    ck_assert_msg(strstr(together.data, "they ran at the same time") && !strstr(together.data, "took turns"), "%s",
                  together.data);
    sbuf_free(&turns);
    sbuf_free(&together);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, NULL, json_teardown);
    tcase_add_test(tc, test_jparser_self);
    tcase_add_test(tc, test_json_escape_exact);
    tcase_add_test(tc, test_json_escape_invalid_utf8);
    tcase_add_test(tc, test_json_escape_random);
    tcase_add_test(tc, test_report_json);
    tcase_add_test(tc, test_report_json_unwritable);
    tcase_add_test(tc, test_timeline_words_from_samples);
    tcase_set_timeout(tc, 20);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    sandbox_init(-1); /* a sandbox uid of its own when root (see sandbox.h) */
    SRunner *sr = srunner_create(observe_suite());
    srunner_add_suite(sr, judge_suite());
    srunner_add_suite(sr, lab1_suite());
    srunner_add_suite(sr, report_suite());
    srunner_add_suite(sr, sandbox_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
