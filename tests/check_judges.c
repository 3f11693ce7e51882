/* check_judges.c - every judge on recorded evidence (Check); no program runs.
 *
 * tests/observations/labN/NAME.obs are records (grader/obsio.h): the evidence
 * one check judged in a real grading (grade --record DIR), or a hand-made
 * edge case, each with the verdict it must get:
 *     expect status pass|fail|skip      (skip: not judged, 0 of 0 points)
 *     expect hint HINT                  (among the verdict's hints; "-": none)
 *     expect says WORDS                 (in its summary or detail)
 *     expect retry                      (a skip that asks for a fresh run)
 *     expect final                      (a failure measured on quiet CPUs: best of k stops)
 *     expect conclusive                 (a failure the stall runs showed: best of k stops at once)
 * One test per file feeds it to its lab's check through judge_evidence(), the
 * engine's own path. A coverage test asserts that every check of every lab
 * has a record it must pass and one it must fail. The verdicts depend only on
 * the files, never on this machine's load: that is the point.
 * Lab 4's timeline (timeline.h, lab->timeline) is drawn from its recorded
 * responsive runs: the reference, a server computing in its loop, one worker,
 * and the decoy whose loop computes in slices (fast PINGs, busy loop row).
 * The integrity check's records hold every run of a grading ("watched") and the
 * source's findings; a test asserts that its failure sets the score to 0.
 * The obsio tests check the format itself: a round trip of every field and
 * every byte, unknown keys ignored, bad files refused; and that grade --record
 * writes records that, judged again, give the grader's own verdict.
 *
 * Run: make tests/bin/check_judges && tests/bin/check_judges
 *      JUDGES_ONLY=substring runs only the records whose path contains it.
 * See also: grader/obsio.h, tests/observations/README.md, tools/mutate.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "judge.h"
#include "obsio.h"
#include "spec.h"
#include "timeline.h"

#define OBS_DIR "tests/observations"

static char **files;
static size_t nfiles;
/* Per file, read once for the coverage test: its lab, check and expected status. */
struct summary {
    const struct lab *lab;
    char check[40], status[16];
};
static struct summary *summaries;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every OBS_DIR/<lab>/<name>.obs, sorted. */
static void find_records(void)
{
    const char *only = getenv("JUDGES_ONLY");
    DIR *top = opendir(OBS_DIR);
    struct dirent *d;
    while (top && (d = readdir(top))) {
        if (d->d_name[0] == '.')
            continue;
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", OBS_DIR, d->d_name);
        DIR *sub = opendir(dir);
        struct dirent *f;
        while (sub && (f = readdir(sub))) {
            size_t n = strlen(f->d_name);
            if (n < 5 || strcmp(f->d_name + n - 4, ".obs"))
                continue;
            char *path;
            if (asprintf(&path, "%s/%s", dir, f->d_name) < 0)
                abort();
            if (only && !strstr(path, only)) {
                free(path);
                continue;
            }
            files = realloc(files, (nfiles + 1) * sizeof *files);
            files[nfiles++] = path;
        }
        if (sub)
            closedir(sub);
    }
    if (top)
        closedir(top);
    if (nfiles)
        qsort(files, nfiles, sizeof *files, by_name);
}

/* The one place that names statuses as records do ("not-judged" is skip's other name). */
static const char *status_name(enum status s)
{
    return s == ST_PASS ? "pass" : s == ST_FAIL ? "fail" : "skip";
}

static bool status_is(enum status s, const char *name)
{
    return !strcmp(status_name(s), name) || (s == ST_SKIP && !strcmp(name, "not-judged"));
}

static bool has_hint(const struct verdict *v, const char *hint)
{
    for (int i = 0; i < v->nhints; i++)
        if (!strcmp(v->hints[i], hint))
            return true;
    return false;
}

static void hints_text(const struct verdict *v, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < v->nhints && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", v->hints[i]);
    if (!v->nhints)
        snprintf(buf, size, "(none)");
}

/* Judges one record as the engine would; the caller frees v's buffers. */
static const struct check *judge_record(const char *path, struct record *r, struct verdict *v)
{
    char *why = NULL;
    ck_assert_msg(record_read(path, r, &why), "%s: %s", path, why ? why : "?");
    const struct check *c = record_check(r);
    ck_assert_msg(c != NULL, "%s: lab %s has no check '%s'", path, r->lab->name, r->check);
    ck_assert_msg(c->plan == PLAN_BUILD || r->nruns > 0 || (c->plan == PLAN_INTEGRITY && r->nwatched > 0),
                  "%s: no run in the record", path);
    struct evidence ev;
    record_evidence(r, &ev);
    *v = (struct verdict){0};
    judge_evidence(c, &ev, v);
    return c;
}

START_TEST(test_record)
{
    const char *path = files[_i];
    struct record r;
    struct verdict v;
    judge_record(path, &r, &v);
    char hints[256];
    hints_text(&v, hints, sizeof hints);
    const char *summary = v.summary.data ? v.summary.data : "", *detail = v.detail.data ? v.detail.data : "";
    ck_assert_msg(r.expect_status[0], "%s: no 'expect status' line", path);
    ck_assert_msg(status_is(v.status, r.expect_status), "%s: %s should be '%s', the judge said '%s': %s [hints: %s]",
                  path, r.check, r.expect_status, status_name(v.status), summary, hints);
    ck_assert_msg(summary[0], "%s: the verdict has no summary", path);
    for (int i = 0; i < r.nexpect_hints; i++) {
        if (!strcmp(r.expect_hints[i], "-"))
            ck_assert_msg(v.nhints == 0, "%s: expected no hint, got: %s", path, hints);
        else
            ck_assert_msg(has_hint(&v, r.expect_hints[i]), "%s: hint '%s' expected, got: %s (%s)", path,
                          r.expect_hints[i], hints, summary);
    }
    for (int i = 0; i < r.nexpect_says; i++)
        ck_assert_msg(strstr(summary, r.expect_says[i]) || strstr(detail, r.expect_says[i]),
                      "%s: the verdict should say \"%s\"; it says: %s\n%s", path, r.expect_says[i], summary, detail);
    ck_assert_msg(v.retry == r.expect_retry, "%s: retry is %d, expected %d (%s)", path, v.retry, r.expect_retry,
                  summary);
    ck_assert_msg(v.final == r.expect_final, "%s: final is %d, expected %d (%s)", path, v.final, r.expect_final,
                  summary);
    ck_assert_msg(v.conclusive == r.expect_conclusive, "%s: conclusive is %d, expected %d", path, v.conclusive,
                  r.expect_conclusive);
    sbuf_free(&v.summary);
    sbuf_free(&v.detail);
    record_free(&r);
}
END_TEST

/* The integrity check on recorded evidence, and what its verdict does to the score: a grading
 * whose every other check passed scores 0 when integrity failed, full marks when it passed. */
static double score_beside(const struct lab *lab, const struct check *integrity, const struct verdict *v)
{
    struct check_result res[32] = {{0}};
    size_t n = 0;
    double full = 0;
    for (size_t i = 0; i < lab->nchecks && n < 32; i++, n++) {
        res[n] = (struct check_result){.check = &lab->checks[i], .max = lab->checks[i].points};
        res[n].verdict.status = &lab->checks[i] == integrity ? v->status : ST_PASS;
        full += lab->checks[i].points;
    }
    ck_assert_msg(full > 0, "%s: no points", lab->name);
    return grading_score(res, n);
}

START_TEST(test_integrity_score)
{
    static const struct {
        const char *path, *status;
    } records[] = {
        {OBS_DIR "/lab3/forgedlock-integrity.obs", "fail"},  /* forged probe records (the tracer's count) */
        {OBS_DIR "/lab1/vglogrewrite-integrity.obs", "fail"}, /* a write to valgrind's log */
        {OBS_DIR "/lab2/threadforge-integrity.obs", "fail"}, /* the probe's descriptor replaced */
        {OBS_DIR "/lab3/nosanitize-integrity.obs", "fail"},  /* the source hides from the race detector */
        {OBS_DIR "/lab3/reference-integrity.obs", "pass"},
        {OBS_DIR "/lab1/reference-integrity.obs", "pass"},
        {OBS_DIR "/lab2/reference-integrity.obs", "pass"},
        {OBS_DIR "/lab4/reference-integrity.obs", "pass"},
    };
    for (size_t k = 0; k < sizeof records / sizeof records[0]; k++) {
        struct record r;
        struct verdict v;
        const struct check *c = judge_record(records[k].path, &r, &v);
        ck_assert_msg(c->plan == PLAN_INTEGRITY, "%s: a record of %s, not of integrity", records[k].path, c->name);
        ck_assert_msg(r.nwatched > 0, "%s: no watched run", records[k].path);
        ck_assert_msg(status_is(v.status, records[k].status), "%s: integrity should be '%s', the judge said '%s': %s",
                      records[k].path, records[k].status, status_name(v.status), v.summary.data ? v.summary.data : "");
        double full = 0;
        for (size_t i = 0; i < r.lab->nchecks; i++)
            full += r.lab->checks[i].points;
        double score = score_beside(r.lab, c, &v);
        if (v.status == ST_FAIL)
            ck_assert_msg(score == 0 && has_hint(&v, "integrity"), "%s: integrity failed, yet the score is %g/%g "
                          "(it must be 0) or no integrity hint", records[k].path, score, full);
        else
            ck_assert_msg(score == full, "%s: integrity passed and so did every other check, yet the score is %g/%g",
                          records[k].path, score, full);
        sbuf_free(&v.summary);
        sbuf_free(&v.detail);
        record_free(&r);
    }
}
END_TEST

/* Every check of every lab: at least one record it must pass and one it must fail. Known gaps
 * are said, not hidden: a record the machine never let us make (no idle moment for lab 4's
 * parallel pass while it was recorded; no tampering lab-4 server under tests/lab4/ yet). Remove an
 * entry once its record is here. */
static const char *const known_gaps[] = {""}; /* none today: a check named here may lack a record */

START_TEST(test_coverage)
{
    if (getenv("JUDGES_ONLY"))
        return; /* a subset cannot cover everything */
    char missing[4096] = "";
    size_t len = 0;
    for (size_t l = 0; l < nlabs; l++) {
        const struct lab *lab = all_labs[l];
        for (size_t c = 0; c < lab->nchecks; c++) {
            bool pass = false, fail = false;
            for (size_t f = 0; f < nfiles; f++) {
                const struct summary *m = &summaries[f];
                if (m->lab == lab && !strcmp(m->check, lab->checks[c].name)) {
                    pass = pass || !strcmp(m->status, "pass");
                    fail = fail || !strcmp(m->status, "fail");
                }
            }
            char gap[128];
            snprintf(gap, sizeof gap, "%s/%s(%s%s)", lab->name, lab->checks[c].name, pass ? "" : "no pass",
                     fail ? "" : pass ? "no fail" : ", no fail");
            bool known = false;
            for (size_t k = 0; k < sizeof known_gaps / sizeof known_gaps[0]; k++)
                known = known || !strcmp(known_gaps[k], gap);
            if (known && (!pass || !fail))
                printf("check_judges: KNOWN GAP: %s: that verdict is not tested on recorded evidence\n", gap);
            else if ((!pass || !fail) && len < sizeof missing - 100)
                len += (size_t)snprintf(missing + len, sizeof missing - len, " %s", gap);
        }
    }
    ck_assert_msg(len == 0, "checks without a recorded pass and fail in %s:%s", OBS_DIR, missing);
}
END_TEST

/* --- The format ------------------------------------------------------------------- */

static char *tmp_path(void)
{
    char *p = strdup("/tmp/check_judges.XXXXXX");
    int fd = mkstemp(p);
    ck_assert(fd >= 0);
    close(fd);
    return p;
}

/* A run with every field set, odd bytes in its lines and logs. */
static void odd_run(struct observation *o, struct params *p)
{
    *o = (struct observation){.started = true, .wall = 0.1 + 0.2, .cpu_user = 1.0 / 3, .cpu_sys = 1e-9,
                              .run_delay = -1, .others_cpu = 0.75, .exited = true, .exit_code = 3, .term_signal = 0,
                              .timed_out = true, .output_flood = true, .time_limit = 4.5, .out_bytes = 123456789,
                              .dropped_lines = 7, .leftover_procs = 2, .zombies = 1, .tool = "memcheck"};
    o->tail = strdup("tail \\ with\nnewline ");
    o->valgrind_log = strdup("==1== Command: x\n==1== ERROR SUMMARY: 0 errors\n\t\x01\xff end");
    o->protection = strdup("uid 61000");
    o->tampering = strdup("a forged record\n");
    char bytes[255];
    for (int i = 0; i < 254; i++)
        bytes[i] = (char)(i + 1); /* every byte but NUL */
    bytes[254] = '\0';
    obs_add_line(o, 0.000001, STREAM_OUT, bytes, 254);
    obs_add_line(o, 1.5, STREAM_ERR, "", 0);
    obs_add_line(o, 2.25, STREAM_OUT, "  two leading spaces, a trailing one ", 37);
    obs_add_line(o, 2.5, STREAM_OUT, "a NUL\0inside\r", 14);
    struct exchange *x = obs_add_exchange(o, 3, 1, 0.25, "SLEEP 100");
    x->replied = 0.351;
    x->reply = strdup("OK slept 100");
    obs_add_exchange(o, 4, 2, 0.5, "");             /* no reply */
    x = obs_add_exchange(o, 5, 2, 0.6, "-");
    x->reply = strdup("=");
    obs_metric(o, "fds_after", 7);
    obs_metric(o, "task_cpu", 0.125);
    struct call_event e = {.t = 0.123456, .pid = 10, .tid = 11, .call = "select", .count = 5, .arg = -4};
    o->events = calloc(16, sizeof *o->events);
    o->events[0] = e;
    o->nevents = 1;
    /* The tracer's view, with a kind whose name has spaces (the probe's descriptor replaced). */
    o->tasks = calloc(16, sizeof *o->tasks);
    o->tasks[0] = (struct task){.tid = 12, .tgid = 12, .start = 0.5, .end = -1, .exit_group_t = -1, .comm = "odd name",
                                .calls = {[SK_PROBE_FD] = 2, [SK_N - 1] = 1}};
    o->ntasks = 1;
    o->calls = calloc(16, sizeof *o->calls);
    o->calls[0] = (struct sys_call){.t = 0.25, .t_end = -1, .tid = 12, .tgid = 12, .kind = SK_PROBE_FD, .arg = 3};
    o->ncalls = 1;
    o->stall = (struct stall_test){.outcome = STALL_SLEPT, .stopped_tid = 13, .watched_tid = 14, .t = 0.25, .t_end = 0.5,
                                   .cpu = 0.125, .delay = 0.0625, .stopped_cpu = 0.03125, .probes = 2,
                                   .watched_cpu = 0.015625};
    *p = (struct params){.plan = PLAN_RUN, .calibrated = 123456789012LL, .count = 3, .value = {0.3, 0.15, 0.6},
                         .iterations = 9876543210LL, .mode = "atomic", .variant = "atomic", .defaults = false,
                         .nargs = 2, .arg = {"0.30", "we'ird \\ arg"}, .workers = 3};
}

static void assert_same_run(const struct observation *a, const struct observation *b)
{
    ck_assert(a->started == b->started && a->exited == b->exited && a->timed_out == b->timed_out &&
              a->output_flood == b->output_flood);
    ck_assert(a->wall == b->wall && a->cpu_user == b->cpu_user && a->cpu_sys == b->cpu_sys);
    ck_assert(a->run_delay == b->run_delay && a->others_cpu == b->others_cpu && a->time_limit == b->time_limit);
    ck_assert(a->exit_code == b->exit_code && a->term_signal == b->term_signal);
    ck_assert(a->out_bytes == b->out_bytes && a->dropped_lines == b->dropped_lines);
    ck_assert(a->leftover_procs == b->leftover_procs && a->zombies == b->zombies);
    ck_assert_str_eq(a->tool, b->tool);
    ck_assert_str_eq(a->tail, b->tail);
    ck_assert_str_eq(a->valgrind_log, b->valgrind_log);
    ck_assert_str_eq(a->protection, b->protection);
    ck_assert_str_eq(a->tampering, b->tampering);
    ck_assert_uint_eq(a->nlines, b->nlines);
    for (size_t i = 0; i < a->nlines; i++) {
        ck_assert_uint_eq(a->lines[i].len, b->lines[i].len);
        ck_assert(memcmp(a->lines[i].text, b->lines[i].text, a->lines[i].len) == 0);
        ck_assert(a->lines[i].stream == b->lines[i].stream);
        ck_assert(fabs(a->lines[i].t - b->lines[i].t) < 1e-6);
    }
    ck_assert_uint_eq(a->nexchanges, b->nexchanges);
    for (size_t i = 0; i < a->nexchanges; i++) {
        const struct exchange *x = &a->exchanges[i], *y = &b->exchanges[i];
        ck_assert(x->conn == y->conn && x->phase == y->phase && fabs(x->sent - y->sent) < 1e-6 &&
                  fabs(x->replied - y->replied) < 1e-6);
        ck_assert_str_eq(x->request, y->request);
        ck_assert((x->reply == NULL) == (y->reply == NULL));
        if (x->reply)
            ck_assert_str_eq(x->reply, y->reply);
    }
    ck_assert_uint_eq(a->nmetrics, b->nmetrics);
    for (size_t i = 0; i < a->nmetrics; i++)
        ck_assert(!strcmp(a->metrics[i].name, b->metrics[i].name) && a->metrics[i].value == b->metrics[i].value);
    ck_assert_uint_eq(a->ntasks, b->ntasks);
    for (size_t i = 0; i < a->ntasks; i++) {
        ck_assert_str_eq(a->tasks[i].comm, b->tasks[i].comm);
        ck_assert(a->tasks[i].tid == b->tasks[i].tid && memcmp(a->tasks[i].calls, b->tasks[i].calls,
                                                                 sizeof a->tasks[i].calls) == 0);
    }
    ck_assert_uint_eq(a->ncalls, b->ncalls);
    for (size_t i = 0; i < a->ncalls; i++)
        ck_assert(a->calls[i].kind == b->calls[i].kind && a->calls[i].arg == b->calls[i].arg &&
                  a->calls[i].tid == b->calls[i].tid);
    ck_assert_uint_eq(a->nevents, b->nevents);
    for (size_t i = 0; i < a->nevents; i++) {
        ck_assert_str_eq(a->events[i].call, b->events[i].call);
        ck_assert(a->events[i].pid == b->events[i].pid && a->events[i].tid == b->events[i].tid &&
                  a->events[i].count == b->events[i].count && a->events[i].arg == b->events[i].arg);
        ck_assert(fabs(a->events[i].t - b->events[i].t) < 1e-6);
    }
    const struct stall_test *x = &a->stall, *y = &b->stall;
    ck_assert(x->outcome == y->outcome && x->stopped_tid == y->stopped_tid && x->watched_tid == y->watched_tid &&
              x->probes == y->probes);
    ck_assert(x->t == y->t && x->t_end == y->t_end && x->cpu == y->cpu && x->delay == y->delay &&
              x->stopped_cpu == y->stopped_cpu && x->watched_cpu == y->watched_cpu);
}

START_TEST(test_round_trip)
{
    struct observation o, ctl;
    struct params p, pc;
    odd_run(&o, &p);
    odd_run(&ctl, &pc);
    ctl.exit_code = 0;
    struct build_result b = {.attempted = true, .ok = true, .warnings = 2, .log = "x.c:1: warning: \"odd\"\n"};
    const struct lab *lab = lab_find("lab3");
    const struct check *c = &lab->checks[3];
    const struct observation *all[] = {&o, &ctl}; /* the integrity check's: every run, the source's findings */
    struct evidence ev = {.lab = lab, .build = &b, .exec_mode = true, .nruns = 1, .params = &p, .runs = &o,
                          .control = &ctl, .cpus = 3, .all_runs = all, .nall = 2,
                          .source_findings = "uses no_sanitize\nand \\ odd\tbytes "};
    struct verdict v = {.status = ST_SKIP, .retry = true};
    sbuf_puts(&v.summary, "skipped: busy\nmachine");
    verdict_hint(&v, "not-parallel");
    char *path = tmp_path();
    ck_assert(record_write(path, c, &ev, &v));
    struct record r;
    char *why = NULL;
    ck_assert_msg(record_read(path, &r, &why), "%s", why ? why : "");
    ck_assert_ptr_eq(r.lab, lab);
    ck_assert_ptr_eq(record_check(&r), c);
    ck_assert(r.cpus == 3 && r.exec_mode && r.build.attempted && r.build.ok && r.build.warnings == 2);
    ck_assert_str_eq(r.build.log, b.log);
    ck_assert_uint_eq(r.nruns, 1);
    assert_same_run(&o, &r.runs[0]);
    ck_assert(r.has_control);
    assert_same_run(&ctl, &r.control);
    ck_assert_uint_eq(r.nwatched, 2);
    assert_same_run(&o, r.all_runs[0]);
    assert_same_run(&ctl, r.all_runs[1]);
    ck_assert_str_eq(r.source_findings, ev.source_findings);
    struct evidence back;
    record_evidence(&r, &back);
    ck_assert(back.nall == 2 && back.all_runs[1] == &r.watched[1] && back.source_findings == r.source_findings);
    const struct params *q = &r.params[0];
    ck_assert(q->plan == p.plan && q->calibrated == p.calibrated && q->count == p.count &&
              q->iterations == p.iterations && q->defaults == p.defaults && q->nargs == 2 && q->workers == 3);
    for (int i = 0; i < 3; i++)
        ck_assert(q->value[i] == p.value[i]);
    ck_assert_str_eq(q->mode, "atomic");
    ck_assert_str_eq(q->variant, "atomic");
    ck_assert_str_eq(q->arg[1], p.arg[1]);
    ck_assert_str_eq(r.expect_status, "skip");
    ck_assert(r.expect_retry && r.nexpect_hints == 1);
    ck_assert_str_eq(r.expect_hints[0], "not-parallel");
    /* Nothing in the file is a raw control byte or a byte above 0x7e. */
    struct sbuf text = {0};
    ck_assert(read_file(path, &text, 1 << 20));
    for (size_t i = 0; i < text.len; i++)
        ck_assert_msg(text.data[i] == '\n' || ((unsigned char)text.data[i] >= 0x20 && (unsigned char)text.data[i] < 0x7f),
                      "raw byte 0x%02x at %zu", (unsigned char)text.data[i], i);
    sbuf_free(&text);
    record_free(&r);
    obs_free(&o);
    obs_free(&ctl);
    sbuf_free(&v.summary);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_unknown_keys_ignored)
{
    const char *text = "grader-observation 1\nlab lab1\ncheck cpu\nfuture_header 1 2 3\nrun\n"
                       "param.count 1\nparam.value 0.2\nparam.future 7\nstarted 1\nexited 1\nwall 0.25\n"
                       "tracer.tasks 4 with words\nsampler.overlap 0.9\nline 0.2 out Task 1 finished after 0.2 sec\n"
                       "expect status pass\n";
    struct record r;
    char *why = NULL;
    ck_assert_msg(record_parse(text, &r, &why), "%s", why ? why : "");
    ck_assert_uint_eq(r.nruns, 1);
    ck_assert(r.runs[0].wall == 0.25 && r.runs[0].nlines == 1 && r.params[0].count == 1);
    ck_assert_str_eq(r.runs[0].lines[0].text, "Task 1 finished after 0.2 sec");
    record_free(&r);
}
END_TEST

START_TEST(test_bad_records_refused)
{
    static const char *const bad[] = {
        "",                                             /* empty */
        "grader-observation 99\nlab lab1\n",             /* another version */
        "lab lab1\ngrader-observation 1\n",              /* no version line first */
        "grader-observation 1\nlab lab9\n",              /* unknown lab */
        "grader-observation 1\ncheck cpu\n",             /* no lab */
        "grader-observation 1\nlab lab1\nrun\nwall fast\n", /* a malformed number */
        "grader-observation 1\nlab lab1\nrun\nline x out text\n",
        "grader-observation 1\nlab lab1\nrun\nline 0.1 sideways text\n",
        "grader-observation 1\nlab lab1\nrun\nline 0.1 out bad \\q escape\n",
        "grader-observation 1\nlab lab1\nrun\nevent 0.1 1 2 select\n", /* too few fields */
        "grader-observation 1\nlab lab1\nwall 0.2\n",    /* an observation key before any run */
        "grader-observation 1\nlab lab1\nexpect sometimes\n",
        "grader-observation 1\nlab lab1\nwatched\nparam.count 1\n", /* a watched run has no params */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct record r;
        char *why = NULL;
        ck_assert_msg(!record_parse(bad[i], &r, &why), "accepted bad record %zu: %s", i, bad[i]);
        ck_assert_msg(why && *why, "refused record %zu without saying why", i);
        free(why);
    }
    struct record r;
    char *why = NULL;
    ck_assert(!record_read("/nonexistent/x.obs", &r, &why));
    ck_assert(why && strstr(why, "/nonexistent/x.obs"));
    free(why);
}
END_TEST

START_TEST(test_escape_every_byte)
{
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    struct sbuf b = {0};
    obsio_escape(&b, all, 256);
    ck_assert(!strchr(b.data, '\n'));
    size_t len;
    char *back = obsio_unescape(b.data, &len);
    ck_assert_uint_eq(len, 256);
    ck_assert(memcmp(back, all, 256) == 0);
    free(back);
    sbuf_free(&b);
}
END_TEST

/* grade --record DIR writes what the engine judged; read back, it gets the same verdict. */
START_TEST(test_grade_records)
{
    char dir[] = "/tmp/check_judges_rec.XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "./grader/grade lab1 tests/lab1/nanosleep.c --only structure --record %s "
             "--no-color >/dev/null 2>&1", dir);
    int st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "grade exit status %d, expected 1", WEXITSTATUS(st));
    int found = 0, integrity = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strstr(e->d_name, ".obs"))
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct record r;
        struct verdict v;
        const struct check *c = judge_record(path, &r, &v);
        ck_assert_msg(status_is(v.status, r.expect_status), "%s: recorded '%s', judged again '%s'", path,
                      r.expect_status, status_name(v.status));
        if (!strcmp(c->name, "structure")) {
            ck_assert_msg(v.status == ST_FAIL && has_hint(&v, "wrong-wait-call"), "%s: nanosleep.c's structure "
                          "should fail with wrong-wait-call", path);
            found++;
        }
        integrity += c->plan == PLAN_INTEGRITY && v.status == ST_PASS && r.nwatched > 0;
        sbuf_free(&v.summary);
        sbuf_free(&v.detail);
        record_free(&r);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    ck_assert_msg(found == 1, "%d structure records written, expected 1", found);
    ck_assert_msg(integrity == 1, "%d integrity records (passed, with the grading's runs) written, expected 1",
                  integrity);
}
END_TEST

/* --- Lab 4's timeline, drawn from recorded runs ------------------------------------ */

/* The responsive phase of a recorded lab-4 run, as the report draws it (ASCII and SVG). */
struct drawn {
    struct record r;
    struct timeline tl;
    struct sbuf text, svg;
};

static void draw_record(const char *name, struct drawn *d)
{
    char path[256], *why = NULL;
    snprintf(path, sizeof path, OBS_DIR "/lab4/%s-responsive.obs", name);
    ck_assert_msg(record_read(path, &d->r, &why), "%s: %s", path, why ? why : "?");
    ck_assert_msg(d->r.nruns == 1 && d->r.runs[0].nsamples > 0 && d->r.runs[0].ntasks > 0,
                  "%s: the record holds no tracer tasks or CPU samples", path);
    ck_assert_msg(timeline_of(d->r.lab, &d->r.runs[0], &d->r.params[0], &d->tl), "%s: no timeline drawn", path);
    d->text = (struct sbuf){0};
    d->svg = (struct sbuf){0};
    timeline_text(d->r.lab, &d->tl, false, &d->text);
    timeline_svg(d->r.lab, &d->tl, &d->svg);
}

static void drawn_free(struct drawn *d)
{
    sbuf_free(&d->text);
    sbuf_free(&d->svg);
    record_free(&d->r);
}

static const struct bar *row_named(const struct timeline *tl, const char *label)
{
    for (int i = 0; i < tl->n; i++)
        if (!strcmp(tl->bars[i].label, label))
            return &tl->bars[i];
    return NULL;
}

/* Columns where the task was at work: on a CPU, or ready for one. */
static int busy_columns(const struct bar *b)
{
    int n = 0;
    for (int c = 0; c < TIMELINE_WIDTH; c++)
        n += b->slot[c] == SLOT_RUNNING || b->slot[c] == SLOT_TURNS || b->slot[c] == SLOT_READY;
    return n;
}

static int rows_starting(const struct timeline *tl, const char *prefix)
{
    int n = 0;
    for (int i = 0; i < tl->n; i++)
        n += !strncmp(tl->bars[i].label, prefix, strlen(prefix));
    return n;
}

/* The reference (WORKERS = 3, 5 jobs): the event loop stays asleep, three workers compute side by
 * side, each job is a bar, PINGs are ticks (answered within a column), the words say so. */
/* parallel_crowded_out (grader/judge.c): workers that waited for a CPU while other programs ran
 * make a slow parallel run "not judged" in labs 2 and 3, never a failure; alone they do not. */
static bool any_process_worker(const struct observation *o, const struct task *t)
{
    return t != &o->tasks[0];
}

START_TEST(test_crowded_out)
{
    struct task tasks[3] = {{.tid = 10}, {.tid = 11, .parent = 10}, {.tid = 12, .parent = 10}};
    struct cpu_sample samples[4] = {{.t = 0.1, .tid = 11, .wait = 0.01}, {.t = 0.1, .tid = 12, .wait = 0.02},
                                    {.t = 0.3, .tid = 11, .wait = 0.06}, {.t = 0.3, .tid = 12, .wait = 0.07}};
    struct observation o = {.traced = true, .wall = 0.30, .tasks = tasks, .ntasks = 3, .samples = samples,
                            .nsamples = 4, .others_cpu = 0.20};
    struct evidence ev = {.cpus = 2};
    double waited;
    /* 0.13 s of the children's 0.60 s waited for a CPU, others used 0.20 of 0.60 CPU-seconds. */
    ck_assert(parallel_crowded_out(&ev, &o, 2, any_process_worker, &waited));
    ck_assert_msg(waited > 0.129 && waited < 0.131, "waited %.3f s", waited);
    /* Nobody else ran: the same waits are the program's own doing (judged). */
    o.others_cpu = 0.01;
    ck_assert(!parallel_crowded_out(&ev, &o, 2, any_process_worker, &waited));
    /* Others ran, but the children hardly waited. */
    o.others_cpu = 0.20;
    samples[2].wait = samples[3].wait = 0.02;
    ck_assert(!parallel_crowded_out(&ev, &o, 2, any_process_worker, &waited));
    /* Three children on two CPUs wait a third of the time anyway. */
    struct task three[4] = {{.tid = 10}, {.tid = 11}, {.tid = 12}, {.tid = 13}};
    struct cpu_sample w[3] = {{.t = 0.3, .tid = 11, .wait = 0.1}, {.t = 0.3, .tid = 12, .wait = 0.1},
                              {.t = 0.3, .tid = 13, .wait = 0.1}};
    o.tasks = three;
    o.ntasks = 4;
    o.samples = w;
    o.nsamples = 3;
    ck_assert(!parallel_crowded_out(&ev, &o, 3, any_process_worker, &waited));
    /* Untraced: no samples to believe. */
    o.traced = false;
    ck_assert(!parallel_crowded_out(&ev, &o, 3, any_process_worker, &waited));
}
END_TEST

/* Lab 3's stall planner: a try that ended before the tracer could stop a thread (the first run's
 * rate, spinning 3-4 threads on 2 CPUs, sized the count too short) makes the next tries count
 * twice as much each time, and stops them after the same CPU, so the stop lands inside the count. */
START_TEST(test_stall_missed_sizes_up)
{
    const char *path = OBS_DIR "/lab3/spinatomic-correctness-atomic.obs";
    struct record r;
    char *why = NULL;
    ck_assert_msg(record_read(path, &r, &why), "%s: %s", path, why ? why : "?");
    const struct check *c = record_check(&r);
    ck_assert(c && r.lab->stall && r.nruns >= 2);
    struct observation missed = r.runs[1];
    missed.stall.outcome = STALL_LATE;
    missed.stall.t = -1;
    const struct observation *before[2] = {&missed, &missed};
    struct params p[3];
    for (size_t n = 0; n < 3; n++) {
        struct rng g = {.state = 42};
        ck_assert_msg(r.lab->stall(c, &g, &r.params[0], &r.runs[0], before, n, &p[n]), "no try after %zu missed", n);
    }
    for (size_t n = 1; n < 3; n++) {
        double ratio = (double)p[n].iterations / (double)p[0].iterations;
        ck_assert_msg(fabs(ratio - (double)(1 << n)) < 0.01, "after %zu missed tries: %lld increments, %.2f x the first "
                      "try's %lld", n, p[n].iterations, ratio, p[0].iterations);
        ck_assert_msg(fabs(p[n].stall.at / p[0].stall.at - 1) < 0.01, "the stop moved: %.4f s of CPU, was %.4f",
                      p[n].stall.at, p[0].stall.at);
    }
    record_free(&r);
}
END_TEST

START_TEST(test_lab4_timeline_reference)
{
    struct drawn d;
    draw_record("reference", &d);
    const struct timeline *tl = &d.tl;
    const struct bar *loop = row_named(tl, "event loop");
    ck_assert_msg(loop && loop->kind == ROW_TASK, "no event-loop row:\n%s", d.text.data);
    ck_assert_msg(busy_columns(loop) <= 5, "the reference's loop looks busy:\n%s", d.text.data);
    ck_assert_int_eq(rows_starting(tl, "worker "), 3);
    for (int k = 1; k <= 3; k++) {
        char name[16];
        snprintf(name, sizeof name, "worker %d", k);
        ck_assert_msg(busy_columns(row_named(tl, name)) >= 15, "%s did not compute:\n%s", name, d.text.data);
    }
    ck_assert_int_eq(rows_starting(tl, "COLLATZ "), 5);
    ck_assert_msg(strstr(d.text.data, "      PING |  |||"), "PINGs as ticks:\n%s", d.text.data);
    ck_assert_msg(strstr(d.text.data, "    COLLATZ 1 |[--"), "a job from its send:\n%s", d.text.data);
    ck_assert_msg(strstr(d.text.data, "3 workers were busy at the same time") &&
                  strstr(d.text.data, "the event loop thread used 0.00 s of CPU") &&
                  strstr(d.text.data, "PING answered within 3.6 ms (median 0.3 ms) while jobs waited"),
                  "the words:\n%s", d.text.data);
    /* The SVG: a thin bar per request (5 jobs, 14 PINGs, 1 SLEEP), a column per sampled slot. */
    int reqs = 0;
    for (const char *s = d.svg.data; (s = strstr(s, "<rect class=\"req")); s++)
        reqs++;
    ck_assert_int_eq(reqs, 5 + 14 + 1);
    ck_assert_msg(strstr(d.svg.data, ">event loop</text>") && strstr(d.svg.data, "class=\"slot turns\"") &&
                  !strstr(d.svg.data, "class=\"mark "), "the SVG's rows:\n%s", d.svg.data);
    drawn_free(&d);
}
END_TEST

/* COLLATZ in the loop: the loop's row is on a CPU, the workers' rows asleep, PING and SLEEP wait. */
START_TEST(test_lab4_timeline_inloop)
{
    struct drawn d;
    draw_record("inloop", &d);
    const struct timeline *tl = &d.tl;
    const struct bar *loop = row_named(tl, "event loop");
    ck_assert_msg(loop && busy_columns(loop) >= 30, "the loop computed, its row should say so:\n%s", d.text.data);
    ck_assert_int_eq(rows_starting(tl, "worker "), 2);
    ck_assert_int_eq(busy_columns(row_named(tl, "worker 1")) + busy_columns(row_named(tl, "worker 2")), 0);
    ck_assert_msg(strstr(d.text.data, "      PING |  [-----"), "PING waits:\n%s", d.text.data);
    ck_assert_msg(strstr(d.text.data, "no worker computed while the jobs were queued") &&
                  strstr(d.text.data, "the event loop thread was busy") &&
                  strstr(d.text.data, "it computed the jobs itself") &&
                  strstr(d.text.data, "PING waited up to 603 ms") && strstr(d.text.data, "the loop was not there"),
                  "the words:\n%s", d.text.data);
    drawn_free(&d);
}
END_TEST

/* One worker whatever WORKERS (3) says: one worker row computes, one job after another. */
START_TEST(test_lab4_timeline_oneworker)
{
    struct drawn d;
    draw_record("oneworker", &d);
    ck_assert_int_eq(rows_starting(&d.tl, "worker "), 1);
    ck_assert_msg(busy_columns(row_named(&d.tl, "worker 1")) >= 40, "%s", d.text.data);
    ck_assert_msg(strstr(d.text.data, "(WORKERS = 3;") && strstr(d.text.data, "never two workers busy at once"),
                  "the words:\n%s", d.text.data);
    drawn_free(&d);
}
END_TEST

/* The decoy computes in its loop between polls, so PING stays fast and responsive passes; its
 * timeline still shows the loop busy beside its workers, and says it computed. */
START_TEST(test_lab4_timeline_decoy)
{
    struct drawn d;
    draw_record("decoy", &d);
    const struct bar *loop = row_named(&d.tl, "event loop");
    ck_assert_msg(loop && busy_columns(loop) >= 25, "the decoy's loop computed:\n%s", d.text.data);
    ck_assert_msg(strstr(d.text.data, "it computed the jobs itself") &&
                  strstr(d.text.data, "PING answered within"), "the words:\n%s", d.text.data);
    drawn_free(&d);
}
END_TEST

static Suite *judges_suite(void)
{
    Suite *s = suite_create("judges on recorded evidence");
    TCase *f = tcase_create("format");
    tcase_add_test(f, test_round_trip);
    tcase_add_test(f, test_unknown_keys_ignored);
    tcase_add_test(f, test_bad_records_refused);
    tcase_add_test(f, test_escape_every_byte);
    tcase_add_test(f, test_grade_records);
    tcase_add_test(f, test_crowded_out);
    tcase_add_test(f, test_stall_missed_sizes_up);
    tcase_set_timeout(f, 60);
    suite_add_tcase(s, f);
    TCase *t = tcase_create("timeline");
    tcase_add_test(t, test_lab4_timeline_reference);
    tcase_add_test(t, test_lab4_timeline_inloop);
    tcase_add_test(t, test_lab4_timeline_oneworker);
    tcase_add_test(t, test_lab4_timeline_decoy);
    suite_add_tcase(s, t);
    TCase *r = tcase_create("records");
    tcase_add_loop_test(r, test_record, 0, (int)nfiles);
    tcase_add_test(r, test_coverage);
    tcase_add_test(r, test_integrity_score);
    suite_add_tcase(s, r);
    return s;
}

int main(int argc, char *argv[])
{
    (void)argc;
    if (access(OBS_DIR, R_OK) != 0) {
        /* Run from ROOT/tests/bin/check_judges: go to ROOT. */
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            for (int up = 0; up < 3; up++)
                *strrchr(exe, '/') = '\0';
            if (chdir(exe) != 0)
                perror(exe);
        }
    }
    find_records();
    if (nfiles == 0 && !getenv("JUDGES_ONLY")) {
        fprintf(stderr, "%s: no records under %s\n", argv[0], OBS_DIR);
        return 1;
    }
    summaries = calloc(nfiles + 1, sizeof *summaries);
    for (size_t f = 0; f < nfiles; f++) {
        struct record r;
        char *why = NULL;
        if (!record_read(files[f], &r, &why)) {
            free(why); /* its own test says why */
            continue;
        }
        summaries[f].lab = r.lab;
        snprintf(summaries[f].check, sizeof summaries[f].check, "%s", r.check);
        snprintf(summaries[f].status, sizeof summaries[f].status, "%s", r.expect_status);
        record_free(&r);
    }
    printf("check_judges: %zu recorded evidence files\n", nfiles);
    SRunner *sr = srunner_create(judges_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(summaries);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
