/* batch.c - grade every submission in a folder, a process per submission.
 * See also: batch.h.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "judge.h"
#include "sandbox.h"


struct entry {
    char *student;   /* the entry's name without its extension */
    char *name, *sid, *email; /* from a Gradescope export's submission_metadata.yml, or NULL */
    char *path;      /* DIR/entry */
    char *row;       /* the CSV row, once graded */
    char *shown;     /* "12/14" or "not graded: why", for the progress line */
    pid_t pid;
    double started, seconds;
    double score, max;
};

static const char *const archive_ext[] = {".tar.gz", ".tgz", ".zip", ".c"};

static char *student_name(const char *entry)
{
    size_t n = strlen(entry);
    for (size_t i = 0; i < ARRAY_LEN(archive_ext); i++) {
        size_t k = strlen(archive_ext[i]);
        if (n > k && !strcmp(entry + n - k, archive_ext[i]))
            return xstrndup(entry, n - k);
    }
    return xstrdup(entry);
}

static void csv_quoted(struct sbuf *out, const char *s);

static int by_student(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->student, ((const struct entry *)b)->student);
}

/* CSV field: quoted when it holds a comma, a quote or a newline; control
 * bytes (a name or a message from a submission) as \xNN. */
static void csv_field(struct sbuf *out, const char *raw)
{
    struct sbuf clean = {0};
    sbuf_add_printable(&clean, raw, strlen(raw), false);
    csv_quoted(out, clean.data ? clean.data : "");
    sbuf_free(&clean);
}

static void csv_quoted(struct sbuf *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        sbuf_puts(out, s);
        return;
    }
    sbuf_puts(out, "\"");
    for (; *s; s++) {
        if (*s == '"')
            sbuf_puts(out, "\"\"");
        else if (*s == '\n' || *s == '\r')
            sbuf_puts(out, " ");
        else
            sbuf_add(out, s, 1);
    }
    sbuf_puts(out, "\"");
}

/* --- A Gradescope export: submission_metadata.yml ----------------------------------
 * "Export Submissions" gives a folder per submission (submission_101/) and one YAML
 * file naming who made each, written by Ruby (symbol keys):
 *     submission_101:
 *       :submitters:
 *       - :name: Alice Doe
 *         :sid: '12345'
 *         :email: alice@example.edu
 *       :created_at: ...
 * Only the submitters are read, line by line; the rest (scores, results) is skipped. */

/* A scalar as YAML writes it: plain, 'single' ('' is a quote) or "double" (\x escapes kept). */
static char *yaml_scalar(const char *v)
{
    while (*v == ' ')
        v++;
    struct sbuf b = {0};
    sbuf_puts(&b, "");
    if (*v == '\'' || *v == '"') {
        char q = *v++;
        for (; *v && !(*v == q && !(q == '\'' && v[1] == '\'')); v++) {
            if (q == '\'' && *v == '\'' && v[1] == '\'')
                v++;
            else if (q == '"' && *v == '\\' && v[1])
                v++;
            sbuf_add(&b, v, 1);
        }
    } else {
        size_t n = strcspn(v, "\r\n");
        while (n > 0 && v[n - 1] == ' ')
            n--;
        if (n >= 2 && v[n - 2] == ' ' && v[n - 1] == '#')
            n -= 2;
        sbuf_add(&b, v, n);
    }
    return sbuf_take(&b);
}

/* Appends value to *field ("; " between the members of a group). */
static void add_member(char **field, const char *value)
{
    char *old = *field;
    *field = old ? xasprintf("%s; %s", old, value) : xstrdup(value);
    free(old);
}

/* Fills the entries' name, sid and email from DIR/submission_metadata.yml, if there is one. */
static void read_gradescope_metadata(const char *dir, struct entry *ens, size_t n)
{
    char *path = xasprintf("%s/submission_metadata.yml", dir);
    FILE *f = fopen(path, "re");
    free(path);
    if (!f)
        return;
    char line[4096];
    struct entry *cur = NULL;
    int key_indent = -1; /* the ":submitters:" key's indentation, while inside its list */
    while (fgets(line, sizeof line, f)) {
        int indent = (int)strspn(line, " ");
        const char *s = line + indent;
        if (*s == '\n' || *s == '\r' || *s == '#' || !*s)
            continue;
        if (indent == 0) { /* a submission: "submission_101:" (or ":submission_101:", or quoted) */
            key_indent = -1;
            cur = NULL;
            char key[256];
            const char *k = s + (*s == ':');
            size_t len = strcspn(k, ":\r\n");
            snprintf(key, sizeof key, "%.*s", (int)(len < sizeof key ? len : sizeof key - 1), k);
            char *plain = yaml_scalar(key);
            for (size_t i = 0; i < n && !cur; i++)
                if (!strcmp(ens[i].student, plain))
                    cur = &ens[i];
            free(plain);
            continue;
        }
        if (!cur)
            continue;
        if (!strncmp(s, ":submitters:", 12)) {
            key_indent = indent;
            continue;
        }
        if (key_indent < 0)
            continue;
        if (indent < key_indent || (indent == key_indent && *s != '-')) {
            key_indent = -1; /* the list ended */
            continue;
        }
        if (*s == '-')
            s += 1 + strspn(s + 1, " ");
        static const char *const keys[] = {":name:", ":sid:", ":email:"};
        char **fields[] = {&cur->name, &cur->sid, &cur->email};
        for (size_t k = 0; k < 3; k++)
            if (!strncmp(s, keys[k], strlen(keys[k]))) {
                char *v = yaml_scalar(s + strlen(keys[k]));
                add_member(fields[k], v);
                free(v);
            }
    }
    fclose(f);
}

/* Files a platform puts beside the submissions: never a student's row. */
static bool is_metadata(const char *name)
{
    return !strcmp(name, "submission_metadata.yml") || !strcmp(name, "submission_metadata.json") ||
           !strcmp(name, "__MACOSX");
}

/* Finds the lab's student file at most three folders deep, without entering a
 * folder through a symbolic link. Returns it even when it is a link, a FIFO or
 * a device: the caller refuses those with a message. */
static char *find_deep(const char *dir, const char *file, int depth)
{
    char *here = xasprintf("%s/%s", dir, file);
    struct stat st;
    if (lstat(here, &st) == 0 && !S_ISDIR(st.st_mode))
        return here;
    free(here);
    if (depth == 0)
        return NULL;
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    while (d && !found && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "__MACOSX"))
            continue;
        char *sub = xasprintf("%s/%s", dir, e->d_name);
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            found = find_deep(sub, file, depth - 1);
        free(sub);
    }
    if (d)
        closedir(d);
    return found;
}

#define UNPACK_MAX_FILES 2000
#define UNPACK_MAX_BYTES (64LL << 20)
#define UNPACK_MAX_FILE (16LL << 20) /* RLIMIT_FSIZE of the unpacking tool */

/* Counts what an archive unpacked to (without following links). */
static void tally(const char *path, long long *files, long long *bytes)
{
    struct stat st;
    if (lstat(path, &st) < 0 || *files > UNPACK_MAX_FILES)
        return;
    ++*files;
    *bytes += S_ISREG(st.st_mode) ? (long long)st.st_size : 0;
    if (!S_ISDIR(st.st_mode))
        return;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = xasprintf("%s/%s", path, e->d_name);
        tally(sub, files, bytes);
        free(sub);
    }
    if (d)
        closedir(d);
}

/* Unpacks an archive into a fresh folder, as the sandbox user, under limits. */
static char *unpack(const char *archive, char **why)
{
    char *dir = sandbox_make_dir();
    const char *base = strrchr(archive, '/');
    base = base ? base + 1 : archive;
    char *copy = xasprintf("%s/%s", dir, base);
    char *cannot = NULL;
    if (!copy_submission_file(NULL, archive, base, UNPACK_MAX_BYTES, copy, &cannot)) {
        *why = cannot;
        free(copy);
        return dir;
    }
    sandbox_chown(copy);
    size_t n = strlen(base);
    bool zip = n > 4 && !strcmp(base + n - 4, ".zip");
    char *unpacked = xasprintf("%s/unpacked", dir);
    mkdir_p(unpacked, 0755);
    sandbox_chown(unpacked);
    const char *zip_argv[] = {"unzip", "-q", "-o", base, "-d", "unpacked", NULL};
    const char *tar_argv[] = {"tar", "-xzf", base, "-C", "unpacked", "--no-same-owner", NULL};
    struct run_spec spec = {.argv = (char *const *)(zip ? zip_argv : tar_argv), .dir = dir, .time_limit = 20,
                            .max_file = UNPACK_MAX_FILE};
    struct observation o;
    sandbox_run(&spec, &o);
    if (!ended_well(&o)) {
        /* The tool's last line says why (unzip's first is just "[name]"). */
        const char *said = o.nlines ? o.lines[o.nlines - 1].text : "";
        while (*said == ' ')
            said++;
        *why = xasprintf("could not unpack %s: %s", base,
                         *said ? said : o.started ? "not a valid archive" : "no unzip or tar here");
    } else {
        long long files = 0, bytes = 0;
        tally(unpacked, &files, &bytes);
        if (files > UNPACK_MAX_FILES || bytes > UNPACK_MAX_BYTES)
            *why = xasprintf("%s unpacks to more than %d files or %lld MiB: upload only your source files", base,
                             UNPACK_MAX_FILES, UNPACK_MAX_BYTES >> 20);
    }
    obs_free(&o);
    free(copy);
    free(unpacked);
    return dir;
}

/* The row's first columns: student (the entry), name, sid, email (empty where unknown). */
static void csv_identity(struct sbuf *row, const struct entry *en)
{
    csv_field(row, en->student);
    const char *const ids[] = {en->name, en->sid, en->email};
    for (size_t i = 0; i < 3; i++) {
        sbuf_puts(row, ",");
        csv_field(row, ids[i] ? ids[i] : "");
    }
}

/* not_judged: the checks not judged, by name; integrity: "failed: NAMES" if a check
 * tagged integrity failed, "ok" if they all passed, "not checked" without one. */
/* A check with a score column in the gradebook: integrity has its own, after not_judged. */
static bool csv_scored(const struct check *c)
{
    return !(c->tags & TAG_INTEGRITY);
}

static void csv_judgement(struct sbuf *row, const struct lab *lab, const struct grading *g)
{
    struct sbuf nj = {0}, bad = {0};
    sbuf_puts(&nj, "");
    sbuf_puts(&bad, "");
    int integrity = 0;
    for (size_t k = 0; k < g->nresults; k++) {
        const struct check_result *r = &g->results[k];
        if (r->verdict.status == ST_SKIP)
            sbuf_printf(&nj, "%s%s", nj.len ? " " : "", r->check->name);
        if (r->check->tags & TAG_INTEGRITY) {
            integrity++;
            if (r->verdict.status != ST_PASS)
                sbuf_printf(&bad, "%s%s%s", bad.len ? " " : "", r->check->name,
                            r->verdict.status == ST_SKIP ? " (not judged)" : "");
        }
    }
    (void)lab;
    sbuf_puts(row, ",");
    csv_field(row, nj.data);
    sbuf_puts(row, ",");
    if (!integrity)
        sbuf_puts(row, "not checked");
    else if (bad.len) {
        char *s = xasprintf("failed: %s", bad.data);
        csv_field(row, s);
        free(s);
    } else
        sbuf_puts(row, "ok");
    sbuf_free(&nj);
    sbuf_free(&bad);
}

/* In the child: grade one submission, write its report, JSON and CSV row. */
static _Noreturn void grade_one(const struct lab *lab, const struct grade_options *base,
                                const struct batch_options *bo, struct entry *en, const char *rows)
{
    sandbox_init(-1); /* a sandbox uid of its own */
    struct grade_options opt = *base;
    /* By default each submission's seed comes from its own bytes (a regrade draws the same
     * arguments); a --seed given is mixed with the name (FNV-1a): parameters of their own. */
    if (base->seed_given) {
        uint64_t h = 1469598103934665603ull;
        for (const char *c = en->student; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
        opt.seed = (base->seed ^ h) >> 1;
    }
    char *report = bo->json_dir ? xasprintf("%s/%s.txt", bo->json_dir, en->student) : xstrdup("/dev/null");
    FILE *out = fopen(report, "w");
    if (!out)
        out = fopen("/dev/null", "w");
    struct report_style st = {.out = out, .color = false};
    struct sbuf row = {0};
    csv_identity(&row, en);

    char *why = NULL, *tmp = NULL, *file = NULL;
    size_t n = strlen(en->path);
    bool archive = (n > 7 && !strcmp(en->path + n - 7, ".tar.gz")) || (n > 4 && !strcmp(en->path + n - 4, ".tgz")) ||
                   (n > 4 && !strcmp(en->path + n - 4, ".zip"));
    struct stat est;
    if (lstat(en->path, &est) == 0 && S_ISLNK(est.st_mode)) {
        const char *base = strrchr(en->path, '/');
        why = xasprintf("%s is a symbolic link: upload the submission itself", base ? base + 1 : en->path);
    } else if (archive) {
        tmp = unpack(en->path, &why);
        if (!why) {
            char *where = xasprintf("%s/unpacked", tmp);
            file = find_deep(where, lab->student_file, 3);
            free(where);
        }
    } else if (S_ISDIR(est.st_mode)) {
        file = find_deep(en->path, lab->student_file, 3);
    } else {
        file = xstrdup(en->path);
    }
    if (!why && !file)
        why = xasprintf("no %s in the submission", lab->student_file);
    /* A link, FIFO, device or hard link where the file should be: say so, never read it. */
    if (!why && file) {
        const char *base = strrchr(file, '/');
        int fd = open_submission_file(NULL, file, base ? base + 1 : file, SUBMISSION_MAX_BYTES, &why);
        struct stat fst;
        if (fd >= 0 && archive && fstat(fd, &fst) == 0 && fst.st_nlink > 1)
            why = xasprintf("%s is a hard link: upload the file itself", lab->student_file);
        if (fd >= 0)
            close(fd);
    }

    int status = 1;
    struct grading g = {0};
    if (!why) {
        opt.submission = file;
        if (grade(lab, &opt, &g, report_progress, &st, &why) == 0) {
            report_summary(&g, &st);
            sbuf_printf(&row, ",%g,%g", g.score, g.max);
            for (size_t c = 0; c < lab->nchecks; c++) {
                if (!csv_scored(&lab->checks[c]))
                    continue;
                const struct check_result *r = NULL;
                for (size_t k = 0; k < g.nresults; k++)
                    if (g.results[k].check == &lab->checks[c])
                        r = &g.results[k];
                if (r)
                    sbuf_printf(&row, ",%g", r->verdict.score);
                else
                    sbuf_puts(&row, ",");
            }
            csv_judgement(&row, lab, &g);
            sbuf_puts(&row, ",");
            if (g.integrity) { /* the note: why the score is 0 */
                char *note = xasprintf("integrity: %s", g.integrity);
                csv_field(&row, note);
                free(note);
            }
            if (bo->json_dir) {
                char *json = xasprintf("%s/%s.json", bo->json_dir, en->student);
                report_json(&g, json);
                free(json);
            }
            status = g.passed == (int)g.nresults && !g.integrity ? 0 : 1;
        }
    }
    if (why) {
        double max = 0;
        for (size_t c = 0; c < lab->nchecks; c++)
            max += lab->checks[c].points;
        sbuf_printf(&row, ",0,%g", max);
        for (size_t c = 0; c < lab->nchecks; c++)
            if (csv_scored(&lab->checks[c]))
                sbuf_puts(&row, ",");
        sbuf_puts(&row, ",,,");
        csv_field(&row, why);
        fprintf(out, "%s: not graded: %s\n", en->student, why);
    }
    /* Line 1: the CSV row; line 2: what the progress line shows. */
    sbuf_puts(&row, "\n");
    if (why)
        sbuf_printf(&row, "not graded: %s\n", why);
    else
        sbuf_printf(&row, "%g/%g\n", g.score, g.max);
    char *row_file = xasprintf("%s/%s", rows, en->student);
    write_file(row_file, row.data, row.len, 0644);
    fclose(out);
    if (g.lab)
        grading_free(&g);
    if (tmp)
        remove_tree(tmp);
    _exit(status);
}

static void progress_line(const struct report_style *st, const struct entry *en, size_t done, size_t total,
                          double t0)
{
    double elapsed = now_mono() - t0, rate = done / (elapsed > 0 ? elapsed : 1);
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    struct sbuf who = {0}, shown = {0}; /* names and messages from submissions: quoted */
    sbuf_add_printable(&who, en->student, strlen(en->student), false);
    sbuf_add_printable(&shown, en->shown ? en->shown : "?", strlen(en->shown ? en->shown : "?"), false);
    fprintf(st->out, "[%3zu/%zu] %-20s %s  (%.1fs)   %.2f/s, about %.0fs left\n", done, total, who.data ? who.data : "",
            shown.data ? shown.data : "", en->seconds, rate, left);
    sbuf_free(&who);
    sbuf_free(&shown);
    fflush(st->out);
}

int batch_grade(const struct lab *lab, const struct grade_options *opt, const struct batch_options *bo,
                const struct report_style *st)
{
    DIR *d = opendir(bo->dir);
    if (!d) {
        fprintf(stderr, "grade: --batch %s: %s\n", bo->dir, strerror(errno));
        return EXIT_CANNOT_GRADE;
    }
    struct entry *ens = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || is_metadata(e->d_name))
            continue;
        ens = xrealloc(ens, (n + 1) * sizeof *ens);
        ens[n++] = (struct entry){.student = student_name(e->d_name),
                                  .path = xasprintf("%s/%s", bo->dir, e->d_name)};
    }
    closedir(d);
    qsort(ens, n, sizeof *ens, by_student);
    /* bob.zip and bob/ are two entries: name them by the whole entry then. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (strcmp(ens[i].student, ens[i + 1].student) != 0)
            continue;
        for (size_t k = i; k < n && !strcmp(ens[k].student, ens[i].student); k++) {
            const char *base = strrchr(ens[k].path, '/');
            char *whole = xstrdup(base ? base + 1 : ens[k].path);
            free(ens[k].student);
            ens[k].student = whole;
        }
    }
    qsort(ens, n, sizeof *ens, by_student);
    read_gradescope_metadata(bo->dir, ens, n);
    /* A grading process that dies leaves its programs to us, not to init. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (bo->json_dir && !mkdir_p(bo->json_dir, 0755)) {
        fprintf(stderr, "grade: --json-dir %s: %s\n", bo->json_dir, strerror(errno));
        return EXIT_CANNOT_GRADE;
    }
    /* CPU-bound labs (they calibrate) get the machine to themselves. */
    int jobs = bo->jobs > 0 ? bo->jobs : lab->calibrate ? 1 : 4;
    char *rows = xasprintf("%s/grade-rows.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(rows))
        die("mkdtemp %s", rows);
    fprintf(st->out, "== %s: %zu submission%s in %s, %d at a time\n", lab->name, n, n == 1 ? "" : "s", bo->dir,
            jobs);
    fflush(st->out);

    double t0 = now_mono();
    size_t next = 0, done = 0, running = 0, full = 0;
    while (done < n) {
        while (running < (size_t)jobs && next < n) {
            struct entry *en = &ens[next++];
            en->started = now_mono();
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0)
                die("fork");
            if (pid == 0)
                grade_one(lab, opt, bo, en, rows);
            en->pid = pid;
            running++;
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            struct entry *en = &ens[i];
            if (en->pid != pid)
                continue;
            en->pid = 0;
            en->seconds = now_mono() - en->started;
            running--;
            done++;
            char *row_file = xasprintf("%s/%s", rows, en->student);
            struct sbuf row = {0};
            if (read_file(row_file, &row, 1 << 16) && row.len) {
                en->row = sbuf_take(&row);
            } else {
                /* The grading process itself died: still a row, with the reason. */
                struct sbuf r = {0};
                csv_identity(&r, en);
                sbuf_printf(&r, ",0,0");
                for (size_t c = 0; c < lab->nchecks; c++)
                    if (csv_scored(&lab->checks[c]))
                        sbuf_puts(&r, ",");
                sbuf_puts(&r, ",,");
                sbuf_printf(&r, ",grader process ended with status %d\nnot graded: the grading process "
                            "ended with status %d\n", status, status);
                en->row = sbuf_take(&r);
                sbuf_free(&row);
            }
            char *nl = strchr(en->row, '\n');
            en->shown = xstrdup(nl ? nl + 1 : "");
            if (nl)
                nl[1] = '\0';
            en->shown[strcspn(en->shown, "\n")] = '\0';
            full += WIFEXITED(status) && WEXITSTATUS(status) == 0;
            unlink(row_file);
            free(row_file);
            progress_line(st, en, done, n, t0);
        }
    }
    rmdir(rows);
    free(rows);
    sandbox_kill_strays(); /* anything a dead grading process left behind */

    int rc = full == n ? 0 : 1;
    if (bo->csv) {
        struct sbuf csv = {0};
        sbuf_puts(&csv, "student,name,sid,email,score,max_score");
        for (size_t c = 0; c < lab->nchecks; c++)
            if (csv_scored(&lab->checks[c]))
                sbuf_printf(&csv, ",%s", lab->checks[c].name);
        sbuf_puts(&csv, ",not_judged,integrity,note\n");
        for (size_t i = 0; i < n; i++)
            sbuf_puts(&csv, ens[i].row ? ens[i].row : "");
        if (!write_file(bo->csv, csv.data, csv.len, 0644)) {
            fprintf(stderr, "grade: cannot write %s: %s\n", bo->csv, strerror(errno));
            rc = EXIT_CANNOT_GRADE;
        }
        sbuf_free(&csv);
    }
    fprintf(st->out, "== %zu graded in %.1fs: %zu with full marks%s%s\n", n, now_mono() - t0, full,
            bo->csv ? "; gradebook: " : "", bo->csv ? bo->csv : "");
    for (size_t i = 0; i < n; i++) {
        free(ens[i].student);
        free(ens[i].name);
        free(ens[i].sid);
        free(ens[i].email);
        free(ens[i].path);
        free(ens[i].row);
        free(ens[i].shown);
    }
    free(ens);
    return rc;
}
