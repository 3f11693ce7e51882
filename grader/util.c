/* util.c - error exits, allocation, string buffers and file helpers.
 * See also: util.h.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Noreturn void vdie(int errnum, const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("grade: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (errnum)
        fprintf(stderr, ": %s", strerror(errnum));
    fputc('\n', stderr);
    exit(EXIT_CANNOT_GRADE);
}

void die(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vdie(saved, fmt, ap);
}

void die_en(int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(errnum, fmt, ap);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("malloc(%zu)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("calloc(%zu, %zu)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("realloc(%zu)", n);
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct sbuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    return sbuf_take(&b);
}

double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sbuf_reserve(struct sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    sbuf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    sbuf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sbuf_free(struct sbuf *b)
{
    free(b->data);
    *b = (struct sbuf){0};
}

char *sbuf_take(struct sbuf *b)
{
    char *s = b->data ? b->data : xstrdup("");
    *b = (struct sbuf){0};
    return s;
}

bool read_file(const char *path, struct sbuf *out, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        size_t room = max > out->len ? max - out->len : 0;
        sbuf_add(out, buf, (size_t)n < room ? (size_t)n : room);
    }
    close(fd);
    return n == 0;
}

bool write_file(const char *path, const char *data, size_t len, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return false;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return false;
        }
        off += (size_t)n;
    }
    return close(fd) == 0;
}

bool copy_file(const char *from, const char *to, int mode)
{
    struct sbuf b = {0};
    bool ok = read_file(from, &b, (size_t)64 << 20) && write_file(to, b.data ? b.data : "", b.len, mode);
    sbuf_free(&b);
    return ok;
}

/* openat2's RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH by hand: each folder on the way
 * opened without following a link (ELOOP), no "..", no absolute path (EXDEV). */
static int open_beneath_by_hand(int dfd, const char *path)
{
    if (path[0] == '/') {
        errno = EXDEV;
        return -1;
    }
    char *copy = xstrdup(path), *save = NULL;
    int cur = fcntl(dfd, F_DUPFD_CLOEXEC, 0), fd = -1;
    char *comp = strtok_r(copy, "/", &save);
    while (comp && cur >= 0) {
        char *next = strtok_r(NULL, "/", &save);
        if (!strcmp(comp, "..")) {
            errno = EXDEV;
            break;
        }
        if (!next) { /* the file itself */
            fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            break;
        }
        int sub = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (sub >= 0 && (fstat(sub, &st) < 0 || !S_ISDIR(st.st_mode))) {
            bool link = S_ISLNK(st.st_mode);
            close(sub);
            sub = -1;
            errno = link ? ELOOP : ENOTDIR;
        }
        int e = errno;
        close(cur);
        errno = e;
        cur = sub;
        comp = next;
    }
    int e = errno;
    if (cur >= 0)
        close(cur);
    free(copy);
    errno = e;
    return fd;
}

int open_submission_file(const char *dir, const char *path, const char *name, long long max, char **why)
{
    int fd = -1;
    if (dir) {
        /* Every component below dir: no link may lead out of it (openat2, Linux 5.6). */
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                                   .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
            fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof how);
            if (fd < 0 && errno == ENOSYS) /* an older kernel (or valgrind): one component at a time */
                fd = open_beneath_by_hand(dfd, path);
            close(dfd);
        }
    } else {
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    }
    struct stat st;
    if (fd < 0) {
        int e = errno;
        if (errno == ELOOP || errno == EXDEV) {
            /* Only the link's name is ever shown, never where it points. */
            char *full = dir ? xasprintf("%s/%s", dir, path) : xstrdup(path);
            struct stat lst;
            bool last = lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode);
            free(full);
            *why = last ? xasprintf("%s is a symbolic link: upload the file itself", name)
                        : xasprintf("%s lies in a folder that is a symbolic link: upload the files themselves", name);
        }
        else
            *why = xasprintf("cannot read %s: %s", name, strerror(errno));
        errno = e; /* for the caller: ENOENT is "no such file" */
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *why = xasprintf("%s is not a regular file (%s): upload the file itself", name,
                         S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO"
                         : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "a special file");
        close(fd);
        return -1;
    }
    if (st.st_size > max) {
        *why = xasprintf("%s is %lld bytes: over the %lld KiB a submitted file may have", name,
                         (long long)st.st_size, max >> 10);
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, 0); /* a regular file: blocking reads from here */
    return fd;
}

bool copy_submission_file(const char *dir, const char *path, const char *name, long long max, const char *to,
                          char **why)
{
    int fd = open_submission_file(dir, path, name, max, why);
    if (fd < 0)
        return false;
    struct sbuf b = {0};
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 && b.len <= (size_t)max)
        sbuf_add(&b, buf, (size_t)n);
    close(fd);
    bool ok = n >= 0 && b.len <= (size_t)max;
    if (!ok)
        *why = xasprintf("cannot read %s", name);
    else if (!write_file(to, b.data ? b.data : "", b.len, 0644)) {
        *why = xasprintf("cannot write %s", to);
        ok = false;
    }
    sbuf_free(&b);
    return ok;
}

bool mkdir_p(const char *path, int mode)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            free(p);
            return false;
        }
        *s = '/';
    }
    bool ok = mkdir(p, mode) == 0 || errno == EEXIST;
    free(p);
    return ok;
}

void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char *sub = xasprintf("%s/%s", path, e->d_name);
                remove_tree(sub);
                free(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *self_dir(void)
{
    static char dir[4096];
    if (dir[0])
        return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0)
        die("readlink /proc/self/exe");
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    return dir;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
size_t utf8_char_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && s[0] < 0xC2) || (n == 4 && s[0] > 0xF4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    unsigned cp = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void sbuf_add_printable(struct sbuf *b, const char *s, size_t len, bool text)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        size_t n = c == 0 ? 0 : utf8_char_len(u + i);
        if (n > len - i)
            n = 0; /* a character cut by the end of the text */
        bool c1 = n == 2 && c == 0xC2 && u[i + 1] < 0xA0; /* U+0080..U+009F: C1 controls (CSI is U+009B) */
        if (text && (c == '\n' || c == '\t')) {
            sbuf_add(b, s + i, 1);
            i++;
        } else if (n == 0 || c < 0x20 || c == 0x7F || c1) {
            size_t k = c1 ? 2 : 1;
            for (size_t j = 0; j < k; j++)
                sbuf_printf(b, "\\x%02x", u[i + j]);
            i += k;
        } else {
            sbuf_add(b, s + i, n);
            i += n;
        }
    }
}
