/* build.c - find, copy and compile a submission.
 * See also: build.h.
 */
#define _GNU_SOURCE
#include "build.h"

#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

char *find_student_file(const struct lab *lab, const char *submission, char **why)
{
    if (is_dir(submission)) {
        char *path = xasprintf("%s/%s", submission, lab->student_file);
        if (is_file(path))
            return path;
        *why = xasprintf("%s has no %s (the %s submission is that one file)", submission,
                         lab->student_file, lab->name);
        free(path);
        return NULL;
    }
    if (is_file(submission)) {
        size_t n = strlen(submission);
        if (n > 2 && !strcmp(submission + n - 2, ".c"))
            return xstrdup(submission);
        *why = xasprintf("%s is not a .c file", submission);
        return NULL;
    }
    *why = xasprintf("no such file or folder: %s", submission);
    return NULL;
}

void build_program(const char *dir, const char *src, const char *out, const char *const *extra,
                   struct build_result *b)
{
    const char *argv[32] = {"cc", CFLAGS_CONTRACT};
    size_t n = 0;
    while (argv[n])
        n++;
    for (const char *const *e = extra; e && *e && n < 24; e++)
        argv[n++] = *e;
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n++] = src;
    argv[n++] = "-lm";
    argv[n] = NULL;

    struct run_spec spec = {
        .argv = (char *const *)argv,
        .dir = dir,
        .time_limit = 60,
        .max_procs = 64,
        .max_data = -1,
    };
    struct observation o;
    sandbox_run(&spec, &o);
    struct sbuf log = {0};
    *b = (struct build_result){.attempted = true};
    for (size_t i = 0; i < o.nlines; i++) {
        sbuf_printf(&log, "%s\n", o.lines[i].text);
        if (strstr(o.lines[i].text, "warning:"))
            b->warnings++;
    }
    char *exe = xasprintf("%s/%s", dir, out);
    b->ok = o.exited && o.exit_code == 0 && is_file(exe);
    if (o.timed_out)
        sbuf_puts(&log, "(the compiler was stopped after 60 s)\n");
    b->log = sbuf_take(&log);
    free(exe);
    obs_free(&o);
}

void build_result_free(struct build_result *b)
{
    free(b->log);
    *b = (struct build_result){0};
}
