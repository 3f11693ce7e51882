/* build.h - copy a submission into the scratch folder and compile it there,
 * as the sandbox user, never in the student's own folder.
 * See also: build.c, sandbox.h.
 */
#ifndef GRADER_BUILD_H
#define GRADER_BUILD_H

#include "spec.h"

#define CFLAGS_CONTRACT "-std=c11", "-Wall", "-Wextra", "-O2", "-g", "-pthread"

/* Finds the lab's student file in SUBMISSION (a folder or the .c file itself).
 * Returns a malloc'd path, or NULL with a message in *why. */
char *find_student_file(const struct lab *lab, const char *submission, char **why);

/* Compiles dir/<src> into dir/<out> with the contract's flags plus extra
 * (NULL-terminated, may be NULL). Fills *b. */
void build_program(const char *dir, const char *src, const char *out, const char *const *extra,
                   struct build_result *b);
/* The command line build_program() runs, as a student types it by hand:
 * "cc -std=c11 ... -o sleeper sleeper.c -lm". */
void build_command(const struct lab *lab, struct sbuf *out);
void build_result_free(struct build_result *b);
/* What in the source depends on the grader's instruments, one line each ("" if
 * nothing): it preprocesses src (in dir, a fresh folder the sandbox user owns)
 * as the grader builds it and as the ThreadSanitizer build does; any
 * difference means the code changes under the race detector. It then looks in
 * the preprocessed text, where no macro can hide them, for no_sanitize
 * attributes, sanitizer and valgrind hooks, and the grader's names. */
char *source_findings(const char *dir, const char *src);

#endif
