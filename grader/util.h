/* util.h - small helpers shared by every grader module.
 *
 * Error reporting in the TLPI style: die() for errno failures, die_en() for
 * functions that return an error number (pthread_*), both exit non-zero.
 * A growable string buffer (sbuf) and a monotonic clock.
 *
 * See also: util.c.
 */
#ifndef GRADER_UTIL_H
#define GRADER_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exit status for "could not grade" (grader contract). */
#define EXIT_CANNOT_GRADE 2

_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_en(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seconds on CLOCK_MONOTONIC. */
double now_mono(void);

/* A growable, always NUL-terminated byte buffer. */
struct sbuf {
    char *data;
    size_t len, cap;
};
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap);
void sbuf_free(struct sbuf *b);
/* Returns the text ("" if empty) and hands ownership to the caller. */
char *sbuf_take(struct sbuf *b);

/* Length of the valid UTF-8 character at s (1-4), or 0 if the bytes there are not one. */
size_t utf8_char_len(const unsigned char *s);
/* Adds len bytes of s (NULs included) so that no byte can act on a terminal:
 * control bytes (C0, DEL, C1 such as U+009B) and bytes that are not UTF-8
 * become \xNN. text: a report of many lines, whose newlines and tabs stay;
 * else one output line, where they are quoted too. */
void sbuf_add_printable(struct sbuf *b, const char *s, size_t len, bool text);

/* Files and folders. */
bool read_file(const char *path, struct sbuf *out, size_t max);
bool write_file(const char *path, const char *data, size_t len, int mode);
bool copy_file(const char *from, const char *to, int mode);
/* A student's file, opened without following a symbolic link in its last
 * component (and, under a folder, in any component below it): a link, a
 * device, a FIFO, a folder or a file over max bytes is refused. Returns an open
 * descriptor, or -1 with a message naming only NAME (never a link's target)
 * in *why. dir: the submission folder the path is relative to, or NULL. */
int open_submission_file(const char *dir, const char *path, const char *name, long long max, char **why);
/* Copies what open_submission_file opens to a new file at `to`. */
bool copy_submission_file(const char *dir, const char *path, const char *name, long long max, const char *to,
                          char **why);
#define SUBMISSION_MAX_BYTES (1LL << 20) /* a source file larger than this is refused */
bool mkdir_p(const char *path, int mode);
void remove_tree(const char *path);
bool is_dir(const char *path);
bool is_file(const char *path);
/* The folder holding the running executable (for probe.so and friends). */
const char *self_dir(void);

#endif
