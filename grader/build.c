/* build.c - find, copy and compile a submission.
 * See also: build.h.
 */
#define _GNU_SOURCE
#include "build.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

/* The compiler's limits: the references build in 0.3 s and < 256 MiB. */
#define BUILD_SECONDS 20
#define BUILD_MEMORY (512LL << 20)
#define BUILD_FILE (64LL << 20)

char *find_student_file(const struct lab *lab, const char *submission, char **why)
{
    struct stat st;
    if (lstat(submission, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* The file and every folder between: no symbolic link, no device, no FIFO. */
        int fd = open_submission_file(submission, lab->student_file, lab->student_file, SUBMISSION_MAX_BYTES, why);
        if (fd >= 0) {
            close(fd);
            return xasprintf("%s/%s", submission, lab->student_file);
        }
        if (!*why || errno != ENOENT)
            return NULL;
        free(*why);
        *why = xasprintf("%s has no %s (the %s submission is that one file)", submission,
                         lab->student_file, lab->name);
        return NULL;
    }
    if (lstat(submission, &st) == 0) {
        size_t n = strlen(submission);
        if (n <= 2 || strcmp(submission + n - 2, ".c") != 0) {
            *why = xasprintf("%s is not a .c file", submission);
            return NULL;
        }
        const char *base = strrchr(submission, '/');
        int fd = open_submission_file(NULL, submission, base ? base + 1 : submission, SUBMISSION_MAX_BYTES, why);
        if (fd < 0)
            return NULL;
        close(fd);
        return xstrdup(submission);
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
        .time_limit = BUILD_SECONDS,
        .max_procs = 64,
        .max_data = BUILD_MEMORY,
        .max_as = BUILD_MEMORY,
        .max_file = BUILD_FILE,
    };
    struct observation o;
    sandbox_run(&spec, &o);
    struct sbuf log = {0};
    *b = (struct build_result){.attempted = true};
    bool out_of_memory = false;
    for (size_t i = 0; i < o.nlines; i++) {
        sbuf_printf(&log, "%s\n", o.lines[i].text);
        if (strstr(o.lines[i].text, "warning:"))
            b->warnings++;
        /* cc1 under RLIMIT_AS: "out of memory allocating"; the driver: "Killed signal". */
        if (strstr(o.lines[i].text, "out of memory") || strstr(o.lines[i].text, "virtual memory exhausted") ||
            strstr(o.lines[i].text, "Cannot allocate memory"))
            out_of_memory = true;
    }
    char *exe = xasprintf("%s/%s", dir, out);
    b->ok = o.exited && o.exit_code == 0 && is_file(exe);
    /* A compiler stopped by a limit is a build failure that says which. */
    if (o.timed_out)
        sbuf_printf(&log, "(the compiler was stopped at the build's %d s time limit)\n", BUILD_SECONDS);
    else if (o.term_signal == SIGXCPU)
        sbuf_printf(&log, "(the compiler was stopped at the build's CPU time limit)\n");
    else if (o.term_signal == SIGXFSZ)
        sbuf_printf(&log, "(the compiler was stopped: it wrote a file past the build's %lld MiB limit)\n",
                    BUILD_FILE >> 20);
    else if (o.output_flood)
        sbuf_printf(&log, "(the compiler was stopped: it printed %zu bytes of messages)\n", o.out_bytes);
    else if (!b->ok && out_of_memory)
        sbuf_printf(&log, "(the compiler ran out of the build's %lld MiB memory limit: does the program "
                    "#include something that is not a header, or a file without end such as /dev/zero?)\n",
                    BUILD_MEMORY >> 20);
    b->log = sbuf_take(&log);
    free(exe);
    obs_free(&o);
}

void build_result_free(struct build_result *b)
{
    free(b->log);
    *b = (struct build_result){0};
}

/* cc -E of src with the contract's flags and extra ones into dir/out, with line markers (which file
 * each line came from) or without (-P); NULL if it failed. */
static char *preprocessed_as(const char *dir, const char *src, const char *extra, const char *out, bool markers)
{
    const char *argv[32] = {"cc", CFLAGS_CONTRACT};
    size_t n = 0;
    while (argv[n])
        n++;
    /* The same text both times: the clock's macros fixed. */
    argv[n++] = "-Wno-builtin-macro-redefined";
    argv[n++] = "-D__DATE__=\"Jan  1 2000\"";
    argv[n++] = "-D__TIME__=\"00:00:00\"";
    argv[n++] = "-D__TIMESTAMP__=\"Sat Jan  1 00:00:00 2000\"";
    if (extra)
        argv[n++] = extra;
    argv[n++] = "-E";
    if (!markers)
        argv[n++] = "-P";
    argv[n++] = "-o";
    argv[n++] = out;
    argv[n++] = src;
    argv[n] = NULL;
    /* The compiler's own limits (#include "/dev/zero" stops here too). */
    struct run_spec spec = {.argv = (char *const *)argv, .dir = dir, .time_limit = BUILD_SECONDS,
                            .max_data = BUILD_MEMORY, .max_as = BUILD_MEMORY, .max_file = BUILD_FILE};
    struct observation o;
    sandbox_run(&spec, &o);
    bool ok = o.exited && o.exit_code == 0;
    obs_free(&o);
    char *path = xasprintf("%s/%s", dir, out);
    struct sbuf text = {0};
    if (!ok || !read_file(path, &text, (size_t)16 << 20))
        sbuf_free(&text);
    free(path);
    return text.data ? sbuf_take(&text) : NULL;
}

static char *preprocessed(const char *dir, const char *src, const char *extra, const char *out)
{
    return preprocessed_as(dir, src, extra, out, false);
}

char *source_findings(const char *dir, const char *src)
{
    struct sbuf why = {0};
    char *plain = preprocessed(dir, src, NULL, "plain.i");
    char *tsan = preprocessed(dir, src, "-fsanitize=thread", "tsan.i");
    if (plain && tsan && strcmp(plain, tsan) != 0) {
        /* The first line that differs, to show. */
        const char *a = plain, *b = tsan;
        int line = 1;
        while (*a && *a == *b) {
            line += *a == '\n';
            a++;
            b++;
        }
        while (a > plain && a[-1] != '\n')
            a--, b--;
        sbuf_printf(&why, "the source reads differently under the race detector (__SANITIZE_THREAD__ or "
                    "__has_feature): preprocessed, line %d is \"%.*s\" in the normal build, \"%.*s\" in the "
                    "ThreadSanitizer build\n", line, (int)(strcspn(a, "\n") < 80 ? strcspn(a, "\n") : 80), a,
                    (int)(strcspn(b, "\n") < 80 ? strcspn(b, "\n") : 80), b);
    }
    static const struct {
        const char *text, *what;
    } hooks[] = {
        {"no_sanitize", "a no_sanitize attribute (it hides code from the race detector)"},
        {"__tsan_", "a call into ThreadSanitizer's runtime"},
        {"__sanitizer_", "a call into the sanitizers' runtime"},
        {"rolq $61", "a valgrind client request (valgrind.h: RUNNING_ON_VALGRIND and friends)"},
        {"RUNNING_ON_VALGRIND", "RUNNING_ON_VALGRIND"},
        {"GRADE_", "one of the grader's environment variables (GRADE_...)"},
        {"LD_PRELOAD", "LD_PRELOAD, how the grader loads its probe"},
        {"TSAN_OPTIONS", "TSAN_OPTIONS, the race detector's settings"},
        {"VALGRIND", "valgrind's names (VALGRIND_...)"},
        {"probe.so", "the grader's probe"},
        {"vgpreload", "valgrind's preloaded library"},
        {"libtsan", "ThreadSanitizer's library"},
    };
    /* Both texts: a hook may be there only in one build. Only the system
     * headers' own text is left out: a line the program wrote is its. */
    for (size_t i = 0; i < ARRAY_LEN(hooks); i++) {
        const char *texts[] = {plain, tsan};
        for (int k = 0; k < 2; k++) {
            const char *at = texts[k] ? strstr(texts[k], hooks[i].text) : NULL;
            if (at) {
                const char *start = at;
                while (start > texts[k] && start[-1] != '\n')
                    start--;
                int len = (int)strcspn(start, "\n");
                sbuf_printf(&why, "the source uses %s: \"%.*s\"\n", hooks[i].what, len < 100 ? len : 100, start);
                break;
            }
        }
    }
    free(plain);
    free(tsan);
    /* Inline assembly in the program's own lines (macros expanded, comments gone; the system headers'
     * declarations use it, so only lines the markers give to src): a system call instruction of its
     * own can write "the probe's" records from wherever it likes (grader/trace.c). */
    char *marked = preprocessed_as(dir, src, NULL, "marked.i", true);
    bool mine = false;
    for (char *line = marked; line && *line;) {
        size_t len = strcspn(line, "\n");
        if (line[0] == '#' && line[1] == ' ') {
            const char *q = strchr(line, '"');
            mine = q && (size_t)(q - line) < len && !strncmp(q + 1, src, strlen(src)) && q[1 + strlen(src)] == '"';
        } else if (mine && memmem(line, len, "__asm", 5)) {
            sbuf_printf(&why, "the source uses inline assembly (a system call of its own can forge the grader's "
                        "records; no lab needs it): \"%.*s\"\n", (int)(len < 100 ? len : 100), line);
            break;
        }
        line += len + (line[len] == '\n');
    }
    free(marked);
    return why.data ? sbuf_take(&why) : xstrdup("");
}

void build_command(const struct lab *lab, struct sbuf *out)
{
    static const char *const flags[] = {CFLAGS_CONTRACT};
    sbuf_puts(out, "cc");
    for (size_t i = 0; i < ARRAY_LEN(flags); i++)
        sbuf_printf(out, " %s", flags[i]);
    sbuf_printf(out, " -o %s %s -lm", lab->program, lab->student_file);
}
