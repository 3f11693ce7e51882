/* obsio.h - the evidence a judge reads, written as text and read back.
 *
 * A record is one judged piece of evidence: the lab and check, the CPUs, the
 * build, and each run's parameters and observation (plus the control run of
 * a bad-args check). The text is line-oriented:
 *
 *     grader-observation 1             the version line, always first
 *     lab lab1                         header keys
 *     check timing
 *     run                              a run: its params, then its observation
 *     param.count 3
 *     wall 0.512
 *     line 0.3012 out Task 3 finished after 0.3 sec
 *     event 0.0011 812 812 select 1 0
 *     control                          the bad-args check's run with good arguments
 *     watched                          the integrity check: one run of the grading (every
 *                                      run it watched, in order; no params)
 *     source_findings TEXT             the integrity check: what the source showed ("" none)
 *     expect status fail               what tests/check_judges.c asserts
 *
 * Text values are escaped byte for byte (\\, \n, \t, \xNN for any other
 * byte below 0x20, 0x7f and above, and a last space), so any output survives.
 * Unknown keys are ignored: a record written before a field existed still
 * reads, and a field added to struct observation needs one line in obsio.c's
 * tables (observation_fields) to be written and read.
 *
 * grade --record DIR (or GRADE_RECORD=DIR) writes every judged evidence of a
 * grading there; tests/observations/ keeps recorded runs, reviewed, as tests.
 *
 * See also: observe.h, spec.h (struct evidence), tests/check_judges.c,
 *           tests/observations/README.md.
 */
#ifndef GRADER_OBSIO_H
#define GRADER_OBSIO_H

#include <stdio.h>

#include "spec.h"

#define OBSIO_VERSION 1
#define OBSIO_MAX_EXPECT 8

struct record {
    const struct lab *lab;
    char check[40];              /* the check it was recorded for, "" if not said */
    int cpus;
    bool exec_mode;
    int npairs;                  /* the paired runs (lab 2 parallel, lab 3 cpu): 0 none recorded */
    double pair_one, pair_many;
    struct build_result build;
    size_t nruns;
    struct params *params;       /* [nruns] */
    struct observation *runs;    /* [nruns] */
    bool has_control;
    struct observation control;
    /* The integrity check's evidence: every run of the grading and the source's findings
     * (NULL: not looked at). all_runs points into watched once the record is read. */
    size_t nwatched;
    struct observation *watched;       /* [nwatched] */
    const struct observation **all_runs; /* [nwatched] */
    char *source_findings;
    /* What a test expects of the check's verdict (expect status/hint/says). */
    char expect_status[16];      /* "pass", "fail", "skip", "" */
    char *expect_hints[OBSIO_MAX_EXPECT];  /* each must be among the verdict's hints; "-": none at all */
    int nexpect_hints;
    char *expect_says[OBSIO_MAX_EXPECT];   /* each must be in the summary or the detail */
    int nexpect_says;
    bool expect_retry;           /* expect retry: a skip that asks for a fresh run */
    bool expect_final;           /* expect final: a failure measured on quiet CPUs (no more attempts) */
    bool expect_conclusive;      /* expect conclusive: a failure shown by the stall runs (no more attempts) */
};

/* Writes the evidence the check c was judged on (and its verdict, as the
 * expectation lines a test would assert) to path. False on an I/O error. */
bool record_write(const char *path, const struct check *c, const struct evidence *ev, const struct verdict *v);
/* Writes one observation's keys (no header). */
void obsio_write_observation(FILE *f, const struct observation *o);
/* Reads a record; false with *why (malloc'd) for a missing file, a wrong
 * version line, an unknown lab or a malformed line. */
bool record_read(const char *path, struct record *r, char **why);
bool record_parse(const char *text, struct record *r, char **why);
void record_free(struct record *r);
/* The record as the evidence a judge reads (pointers into r). */
void record_evidence(const struct record *r, struct evidence *ev);
/* The record's check in its lab, or NULL. */
const struct check *record_check(const struct record *r);

/* Escapes bytes as described above (appends to out); unescape returns a
 * malloc'd string and its length in *len (NULL for a bad escape). */
void obsio_escape(struct sbuf *out, const char *s, size_t n);
char *obsio_unescape(const char *s, size_t *len);

#endif
