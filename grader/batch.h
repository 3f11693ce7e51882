/* batch.h - grade a whole class: every entry of a folder is one submission.
 *
 *   grade LAB --batch DIR [--csv FILE] [--json-dir DIR] [--jobs N]
 *
 * An entry is a folder, a .c file, or a .tar.gz/.tgz/.zip of a folder, named
 * by the entry (alice.zip is alice). Archives are unpacked by the sandbox
 * user under limits. Each submission is graded in a process of its own, so a
 * broken one is a row with its reason, never the end of the batch.
 * Wait-bound labs are graded several at a time; labs whose timing checks are
 * CPU-bound (they calibrate) one at a time, each with the CPUs to itself.
 *
 * See also: batch.c, engine.h, README.md (instructors).
 */
#ifndef GRADER_BATCH_H
#define GRADER_BATCH_H

#include "engine.h"
#include "report.h"

struct batch_options {
    const char *dir;       /* --batch */
    const char *csv;       /* --csv FILE, or NULL */
    const char *json_dir;  /* --json-dir DIR: results.json and report.txt per student, or NULL */
    int jobs;              /* --jobs N, 0: the lab decides */
};

/* Returns 0 if every submission got full marks, 1 if graded, 2 if the batch
 * could not start (no such folder, cannot write the CSV). */
int batch_grade(const struct lab *lab, const struct grade_options *opt, const struct batch_options *bo,
                const struct report_style *st);

#endif
