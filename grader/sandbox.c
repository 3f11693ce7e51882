/* sandbox.c - start a program under limits, watch its output and calls, and
 * leave nothing of it behind.
 * See also: sandbox.h.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"
#include "trace.h"
#include "util.h"

#define MAX_KEPT_LINES 4000         /* lines kept with their times */
#define MAX_LINE 4096               /* a longer line is cut */
#define FLOOD_BYTES (16u << 20)     /* output past this stops the program */
#define TAIL_BYTES 2048
#define MAX_LOG_BYTES (4u << 20)    /* valgrind's log: kept up to this */
#define MAX_EVENTS 20000
#define SAMPLE_EVERY 0.005          /* s between CPU samples of a traced run's tasks */
#define MAX_SAMPLES 200000
#define EXIT_GRACE 0.5              /* seconds to drain output after the main process exits */
#define DRIVER_START_LIMIT 15.0     /* a driven program silent this long is stopped (timed out) */
#define DEFAULT_PROCS 64
#define DEFAULT_DATA (512LL << 20)
#define DEFAULT_FILE (64LL << 20)
#define SLOT_DIR "/run/grade-slots"   /* root only: which sandbox uids are in use */
#define MAX_SLOTS 256

static int sbx_uid = -1;
static volatile sig_atomic_t interrupted; /* SIGINT/SIGTERM/SIGHUP reached the grader */
static int own_procs;          /* processes (and threads) of our uid, when not root */
static char protection[640];
static pid_t tracer_pid;       /* the run's tracer (trace.c), 0: none; not the program's */
static bool tracer_reaped;
static bool private_tmp;       /* runs get their own /tmp, /dev/shm, IPC (mount+IPC namespaces) */
#define MAX_VISIBLE 8
#define MAX_HIDDEN 4
/* Folders every user may write in (o+w): a run gets them fresh and empty (or,
 * without namespaces, what its uid left there is removed), so nothing a
 * program plants outlives its run. The usual three, then the others found at
 * start (find_fresh_dirs: /run/lock, /dev/mqueue, ...). */
#define MAX_FRESH 24
static const char *fresh_dirs[MAX_FRESH] = {"/tmp", "/var/tmp", "/dev/shm"};
static size_t nfresh = 3;
static char *hidden[MAX_HIDDEN]; /* the kit's folders a program must not read */
static size_t nhidden;

/* Tasks (processes and threads) owned by uid, as RLIMIT_NPROC counts them. */
static int count_tasks_of(uid_t uid)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300];
        struct stat st;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/task", e->d_name);
        if (stat(path, &st) == 0 && st.st_uid == uid)
            n += (int)st.st_nlink - 2;
    }
    if (d)
        closedir(d);
    return n;
}

/* Claims a free slot: an flock held on SLOT_DIR/N for the life of this
 * process, so graders running side by side never share a sandbox uid (the
 * clean-up kills every process of that uid). */
static int claim_slot(void)
{
    mkdir(SLOT_DIR, 0700);
    for (int n = 0; n < MAX_SLOTS; n++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%d", SLOT_DIR, n);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return n; /* fd stays open: the lock lasts as long as we do */
        close(fd);
    }
    die("no free sandbox slot in %s (%d graders running?)", SLOT_DIR, MAX_SLOTS);
}

/* GRADE_WITHOUT=namespaces: act as if mount namespaces were refused (tests). */
static bool withheld(const char *what)
{
    const char *list = getenv("GRADE_WITHOUT");
    size_t n = strlen(what);
    for (const char *s = list; s && *s;) {
        size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, what, n))
            return true;
        s += len + (s[len] == ',');
    }
    return false;
}

static bool is_under(const char *path, const char *dir);
static void sweep_stale_dirs(void);

/* Adds dir to fresh_dirs if every user may write in it (o+w, a real folder,
 * not a link), it is not there yet and it does not hold the grader's kit. */
static void add_fresh_dir(const char *dir)
{
    struct stat st;
    if (nfresh >= MAX_FRESH || !strcmp(dir, "/") || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
        !(st.st_mode & S_IWOTH))
        return;
    for (size_t i = 0; i < nfresh; i++)
        if (!strcmp(fresh_dirs[i], dir))
            return;
    if (is_under(self_dir(), dir))
        return; /* covering it would hide the grader itself */
    fresh_dirs[nfresh++] = xstrdup(dir);
}

/* Finds the world-writable folders once: the children of /run, /var and /dev,
 * and every mount point (/proc/self/mountinfo, field 5). */
static void find_fresh_dirs(void)
{
    static const char *const parents[] = {"/run", "/var", "/dev"};
    for (size_t p = 0; p < ARRAY_LEN(parents); p++) {
        DIR *d = opendir(parents[p]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char *sub = xasprintf("%s/%s", parents[p], e->d_name);
            add_fresh_dir(sub);
            free(sub);
        }
        if (d)
            closedir(d);
    }
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096], mnt[PATH_MAX];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && !strchr(mnt, '\\') &&
            strncmp(mnt, "/proc", 5) && strncmp(mnt, "/sys", 4))
            add_fresh_dir(mnt);
    if (f)
        fclose(f);
}

/* Whether this process may make mount and IPC namespaces and mount a tmpfs
 * (root with CAP_SYS_ADMIN; not in Docker's default profile): tried once, in a child. */
static bool can_make_private_mounts(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        bool ok = unshare(CLONE_NEWNS | CLONE_NEWIPC) == 0 && mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0 &&
                  mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=1m") == 0;
        _exit(ok ? 0 : 1);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

const char *sandbox_state_dir(void)
{
    return sbx_uid >= 0 ? SLOT_DIR : NULL;
}

/* True if other users may read the kit's solutions/ (without namespaces, the sandbox user is one). */
static bool kit_readable(void)
{
    char *dir = xasprintf("%s/../solutions", self_dir());
    struct stat st;
    bool readable = stat(dir, &st) == 0 && (st.st_mode & S_IROTH) && (st.st_mode & S_IXOTH);
    free(dir);
    return readable;
}

bool sandbox_private_tmp(void)
{
    return private_tmp;
}

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

bool sandbox_interrupted(void)
{
    return interrupted;
}

void sandbox_init(int slot)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        die("prctl(PR_SET_CHILD_SUBREAPER)");
    signal(SIGPIPE, SIG_IGN);
    /* Ctrl-C or a CI time-out: stop the run in progress, clean up, then exit. */
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (geteuid() == 0)
        sbx_uid = SANDBOX_UID_BASE + (slot >= 0 ? slot : claim_slot());
    else
        own_procs = count_tasks_of(getuid());
    sweep_stale_dirs();
    if (sbx_uid >= 0)
        find_fresh_dirs();
    private_tmp = sbx_uid >= 0 && !withheld("namespaces") && can_make_private_mounts();
    if (private_tmp) {
        /* The kit is the folder above the grader's: its answers and its tests. */
        static const char *const secret[] = {"solutions", "tests"};
        char *kit = xstrdup(self_dir());
        char *slash = strrchr(kit, '/');
        if (slash)
            *slash = '\0';
        for (size_t i = 0; i < ARRAY_LEN(secret) && nhidden < MAX_HIDDEN; i++) {
            char *dir = xasprintf("%s/%s", kit, secret[i]);
            if (is_dir(dir))
                hidden[nhidden++] = dir;
            else
                free(dir);
        }
        free(kit);
    }
    char who[96];
    if (sbx_uid >= 0)
        snprintf(who, sizeof who, "runs as uid %d, not root", sbx_uid);
    else
        snprintf(who, sizeof who, "runs as you (grader not root: no separate uid)");
    snprintf(protection, sizeof protection,
             "%s; own session, whole tree killed after each run; limits: wall time (a busy run gets back what other "
             "programs took), CPU, "
             "%d processes, %lld MiB address space (every mapping; %lld MiB under valgrind, none under "
             "ThreadSanitizer), %lld MiB files; stdin /dev/null; %s",
             who, DEFAULT_PROCS, SANDBOX_DEFAULT_AS >> 20, SANDBOX_MEMCHECK_AS >> 20, DEFAULT_FILE >> 20,
             private_tmp ? "private /tmp, /var/tmp, /dev/shm (every world-writable folder) and IPC per run, "
                           "the kit's solutions/ and tests/ hidden (mount namespace)"
             : sbx_uid >= 0 ? "own TMPDIR; /tmp, /var/tmp, /dev/shm (every world-writable folder) and IPC of its "
                              "uid emptied after grading (no mount namespace here)"
                            : "own TMPDIR only (not root: /tmp and /dev/shm are shared)");
    if (!private_tmp && sbx_uid >= 0 && kit_readable()) {
        size_t len = strlen(protection);
        snprintf(protection + len, sizeof protection - len,
                 "; the kit's solutions/ is readable by it (chmod -R o-rwx solutions tests)");
    }
}

int sandbox_uid(void)
{
    return sbx_uid;
}

const char *sandbox_protection(void)
{
    return protection;
}

/* The folders this grader made (not what a program left), for sandbox_clean_up. */
static char *made[16];
static size_t nmade;

char *sandbox_make_dir(void)
{
    char *dir = make_scratch_dir();
    sandbox_chown(dir);
    if (sbx_uid >= 0)
        chmod(dir, 0700); /* another grading's sandbox user must not read a submission */
    return dir;
}

/* A grader killed outright (kill -9, a CI time-out) cannot remove what it
 * made; the next one does: its scratch and probe folders carry its pid
 * ("grade-PID.XXXXXX", "grade-probe-PID.XXXXXX"), and a folder whose grader
 * is gone, owned by us (or, as root, by a sandbox uid), is removed. */
static bool stale_grader_dir(const char *parent, const char *name)
{
    int pid = 0, end = 0;
    if ((sscanf(name, "grade-probe-%d.%*6[A-Za-z0-9]%n", &pid, &end) != 1 || name[end]) &&
        (sscanf(name, "grade-%d.%*6[A-Za-z0-9]%n", &pid, &end) != 1 || name[end]))
        return false;
    if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
        return false; /* its grader still runs (or the pid is someone else's now: left for later) */
    char *path = xasprintf("%s/%s", parent, name);
    struct stat st;
    bool ours = lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
                (st.st_uid == getuid() ||
                 (geteuid() == 0 && st.st_uid >= SANDBOX_UID_BASE && st.st_uid < SANDBOX_UID_BASE + MAX_SLOTS));
    if (ours)
        remove_tree(path);
    free(path);
    return ours;
}

static void sweep_stale_dirs(void)
{
    const char *tmp = getenv("TMPDIR");
    const char *parents[] = {"/tmp", tmp && *tmp && strcmp(tmp, "/tmp") ? tmp : NULL};
    for (size_t i = 0; i < ARRAY_LEN(parents) && parents[i]; i++) {
        DIR *d = opendir(parents[i]);
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (!strncmp(e->d_name, "grade-", 6))
                stale_grader_dir(parents[i], e->d_name);
        if (d)
            closedir(d);
    }
}

char *make_scratch_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = xasprintf("%s/grade-%d.XXXXXX", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (!mkdtemp(dir))
        die("mkdtemp %s", dir);
    /* As root: only this grader's sandbox user (its group) may enter. */
    if (sbx_uid >= 0 ? chown(dir, getuid(), (gid_t)sbx_uid) < 0 || chmod(dir, 0750) < 0 : chmod(dir, 0755) < 0)
        die("chmod %s", dir);
    if (nmade < ARRAY_LEN(made))
        made[nmade++] = xstrdup(dir);
    return dir;
}

void sandbox_seal(const char *path)
{
    if (sbx_uid < 0)
        return;
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (lchown(path, getuid(), getgid()) < 0)
        die("chown %s", path);
    if (S_ISLNK(st.st_mode))
        return;
    chmod(path, st.st_mode & ~(mode_t)022);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *sub = xasprintf("%s/%s", path, e->d_name);
            sandbox_seal(sub);
            free(sub);
        }
        if (d)
            closedir(d);
    }
}

void sandbox_chown(const char *path)
{
    if (sbx_uid >= 0 && chown(path, (uid_t)sbx_uid, (gid_t)sbx_uid) < 0)
        die("chown %s", path);
}

/* --- The child side ------------------------------------------------------- */

static void set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = {soft, hard};
    setrlimit(resource, &rl);
}

/* Only async-signal-safe work after fork: report failures through err_fd. */
/* Writes "<errno> <what>" with plain write(): snprintf and strerror are not
 * async-signal-safe. The parent turns it into "what: reason". */
static _Noreturn void child_fail(int err_fd, const char *what)
{
    int e = errno;
    char buf[256], digits[12];
    size_t n = 0, k = 0;
    do
        digits[k++] = (char)('0' + e % 10);
    while ((e /= 10) > 0 && k < sizeof digits);
    while (k > 0)
        buf[n++] = digits[--k];
    buf[n++] = ' ';
    for (const char *w = what; *w && n < sizeof buf; w++)
        buf[n++] = *w;
    (void)!write(err_fd, buf, n);
    _exit(127);
}

/* True if path is dir or lies below it. */
static bool is_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* In the child, as root, before the uid change (async-signal-safe calls only):
 * new mount and IPC namespaces where /tmp, /var/tmp and /dev/shm are empty
 * tmpfs, the folders the run needs (keep) are bound back at the same paths,
 * and the kit's secret folders are covered by an empty read-only tmpfs. The
 * namespaces end with the run: nothing it left there outlives it. No PID
 * namespace: lab 2 judges zombies and orphans as the real system shows them. */
static bool enter_private_mounts(const char *const *keep)
{
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        return false;
    /* Opened in the new namespace (a bind's source must be one of its mounts), before /tmp is covered. */
    int fds[MAX_VISIBLE + 2];
    size_t n = 0;
    for (; keep[n] && n < MAX_VISIBLE + 2; n++)
        if ((fds[n] = open(keep[n], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            return false;
    for (size_t i = 0; i < nfresh; i++) {
        struct stat st;
        if (stat(fresh_dirs[i], &st) == 0 && S_ISDIR(st.st_mode) &&
            mount("tmpfs", fresh_dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
            return false;
    }
    for (size_t k = 0; k < n; k++) {
        bool covered = false;
        for (size_t i = 0; i < nfresh; i++)
            covered = covered || is_under(keep[k], fresh_dirs[i]);
        if (!covered)
            continue;
        /* mkdir -p the path in the new tmpfs, then bind the old folder there. */
        char path[PATH_MAX];
        size_t len = strlen(keep[k]);
        if (len >= sizeof path)
            return false;
        memcpy(path, keep[k], len + 1);
        for (size_t c = 1; c <= len; c++) {
            if (path[c] != '/' && path[c] != '\0')
                continue;
            char was = path[c];
            path[c] = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return false;
            path[c] = was;
        }
        char from[40] = "/proc/self/fd/", digits[12];
        size_t d = 0, f = strlen(from);
        int fd = fds[k];
        do
            digits[d++] = (char)('0' + fd % 10);
        while ((fd /= 10) > 0);
        while (d > 0)
            from[f++] = digits[--d];
        from[f] = '\0';
        if (mount(from, keep[k], "none", MS_BIND | MS_REC, NULL) < 0)
            return false;
    }
    for (size_t k = 0; k < n; k++)
        close(fds[k]);
    for (size_t h = 0; h < nhidden; h++) {
        struct stat st;
        /* A kit under /tmp (a CI clone) is gone with the fresh /tmp already: nothing to hide. */
        if (stat(hidden[h], &st) < 0 && errno == ENOENT)
            continue;
        if (mount("tmpfs", hidden[h], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555,size=4k") < 0)
            return false;
    }
    return true;
}

static _Noreturn void exec_child(const struct run_spec *spec, int out_fd, int err_fd, int probe_fd,
                                 int log_fd, int status_fd, char **envp, pid_t parent, int sync_fd,
                                 const char *const *keep)
{
    if (setsid() < 0)
        child_fail(status_fd, "setsid");
    if (spec->pty) {
        /* out_fd is the pty's slave: make it our controlling terminal. */
        ioctl(out_fd, TIOCSCTTY, 0);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        child_fail(status_fd, "redirect");
    if (probe_fd >= 0 && dup2(probe_fd, PROBE_FD) < 0)
        child_fail(status_fd, "probe pipe");
    if (log_fd >= 0 && dup2(log_fd, SANDBOX_LOG_FD) < 0)
        child_fail(status_fd, "log pipe");
    /* Close every inherited descriptor but 0-2, the probe's, the log's and the status pipe. */
    int keep_status = status_fd;
    for (int fd = 3; fd < 1024; fd++)
        if (fd != keep_status && fd != sync_fd && !(probe_fd >= 0 && fd == PROBE_FD) &&
            !(log_fd >= 0 && fd == SANDBOX_LOG_FD))
            close(fd);
    syscall(SYS_close_range, 1024, ~0U, 0);
    /* Traced: the tracer attaches now, while we still have the grader's uid. */
    bool traced = sync_fd >= 0 && trace_wait_attach(sync_fd);

    rlim_t cpu = (rlim_t)(1.5 * spec->time_limit) + 2; /* the wall limit may grow by half (others' load) */
    set_limit(RLIMIT_CPU, cpu, cpu + 1);
    set_limit(RLIMIT_CORE, 0, 0);
    rlim_t fsize = spec->max_file > 0 ? (rlim_t)spec->max_file : DEFAULT_FILE;
    set_limit(RLIMIT_FSIZE, fsize, fsize);
    set_limit(RLIMIT_NOFILE, 1024, 1024);
    long long data = spec->max_data ? spec->max_data : DEFAULT_DATA;
    if (data > 0)
        set_limit(RLIMIT_DATA, (rlim_t)data, (rlim_t)data);
    /* RLIMIT_DATA does not count MAP_SHARED mappings; the address space does. */
    long long as = spec->max_as ? spec->max_as : SANDBOX_DEFAULT_AS;
    if (as > 0)
        set_limit(RLIMIT_AS, (rlim_t)as, (rlim_t)as);
    if (private_tmp && !enter_private_mounts(keep))
        child_fail(status_fd, "private /tmp (mount namespace)");
    int procs = spec->max_procs ? spec->max_procs : DEFAULT_PROCS;
    if (sbx_uid < 0) {
        /* Our own uid: the limit counts every process we already have too (and the tracer). */
        int mine = own_procs + (sync_fd >= 0);
        set_limit(RLIMIT_NPROC, (rlim_t)(procs + mine), (rlim_t)(procs + mine));
    } else {
        set_limit(RLIMIT_NPROC, (rlim_t)procs, (rlim_t)procs);
        if (setgroups(0, NULL) < 0 || setresgid((gid_t)sbx_uid, (gid_t)sbx_uid, (gid_t)sbx_uid) < 0 ||
            setresuid((uid_t)sbx_uid, (uid_t)sbx_uid, (uid_t)sbx_uid) < 0)
            child_fail(status_fd, "drop privileges");
    }
    /* After the uid change, which clears it: die with the grader. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127); /* the grader died before the death signal was armed */
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (chdir(spec->dir) < 0)
        child_fail(status_fd, "chdir");
    if (traced)
        trace_install_filter(); /* if it fails, the tracer sees no filter and says so */
    execvpe(spec->argv[0], spec->argv, envp);
    child_fail(status_fd, spec->argv[0]);
}

static char **make_env(const struct run_spec *spec, char *probe_path)
{
    size_t n = 0;
    for (char *const *e = spec->env; e && *e; e++)
        n++;
    char **env = xcalloc(n + 8, sizeof *env);
    size_t i = 0;
    env[i++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
    env[i++] = xasprintf("HOME=%s", spec->home ? spec->home : spec->dir);
    env[i++] = xasprintf("TMPDIR=%s", spec->tmpdir ? spec->tmpdir : spec->dir);
    env[i++] = xstrdup("LC_ALL=C.UTF-8");
    env[i++] = xstrdup("TERM=dumb");
    if (probe_path) {
        env[i++] = xasprintf("LD_PRELOAD=%s", probe_path);
        env[i++] = xasprintf("GRADE_PROBE_FD=%d", PROBE_FD);
    }
    for (char *const *e = spec->env; e && *e; e++)
        env[i++] = xstrdup(*e);
    env[i] = NULL;
    return env;
}

static void free_env(char **env)
{
    for (char **e = env; *e; e++)
        free(*e);
    free(env);
}

/* --- Process tree ----------------------------------------------------------- */

#define PF_EXITING 0x4 /* linux/sched.h: the task is in exit(), not yet a zombie */

/* Parent pid and state of a process, from /proc; false if it is gone. A
 * process already in exit() counts as a zombie ('Z'): it has ended, it is
 * only not yet reaped (so a child that exits as its parent does is steady). */
static bool proc_stat(pid_t pid, pid_t *ppid, char *state)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
    int pp;
    unsigned flags;
    if (!rp || sscanf(rp + 1, " %c %d %*d %*d %*d %*d %u", state, &pp, &flags) != 3)
        return false;
    if (flags & PF_EXITING)
        *state = 'Z';
    *ppid = pp;
    return true;
}

/* Lists our descendants (we are a subreaper, so escaped orphans are ours too).
 * Returns how many; alive/zombie counts go to *alive and *zombies. */
static size_t descendants(pid_t *out, size_t max, int *alive, int *zombies)
{
    pid_t self = getpid();
    size_t n = 0;
    *alive = *zombies = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0 || pid == self || pid == tracer_pid)
            continue;
        pid_t p = pid, pp;
        char state, first_state = 0;
        int hops = 0;
        bool mine = false;
        while (p > 1 && hops++ < 64 && proc_stat(p, &pp, &state)) {
            if (!first_state)
                first_state = state;
            if (pp == self) {
                mine = true;
                break;
            }
            p = pp;
        }
        if (!mine)
            continue;
        if (first_state == 'Z')
            (*zombies)++;
        else
            (*alive)++;
        if (n < max)
            out[n++] = pid;
    }
    closedir(d);
    return n;
}

/* Kills the program's session, every process of the sandbox uid, and any
 * other descendant; then reaps them all, adding their CPU time to obs. */
static void kill_and_reap(pid_t pgid, struct observation *obs)
{
    double deadline = now_mono() + 3.0;
    pid_t pids[1024];
    for (int round = 0;; round++) {
        kill(-pgid, SIGKILL);
        if (sbx_uid >= 0) {
            pid_t k = fork();
            if (k == 0) {
                if (setresgid((gid_t)sbx_uid, (gid_t)sbx_uid, (gid_t)sbx_uid) == 0 &&
                    setresuid((uid_t)sbx_uid, (uid_t)sbx_uid, (uid_t)sbx_uid) == 0)
                    kill(-1, SIGKILL);
                _exit(0);
            }
            if (k > 0)
                waitpid(k, NULL, 0);
        }
        int alive, zombies;
        size_t n = descendants(pids, ARRAY_LEN(pids), &alive, &zombies);
        for (size_t i = 0; i < n; i++)
            kill(pids[i], SIGKILL);
        int status;
        struct rusage ru;
        pid_t r;
        while ((r = wait4(-1, &status, WNOHANG, &ru)) > 0) {
            if (r == tracer_pid) {
                tracer_reaped = true; /* the grader's own: its CPU is not the program's */
                continue;
            }
            obs->cpu_user += (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
            obs->cpu_sys += (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        }
        if (n == 0 || now_mono() > deadline)
            break;
        if (round > 0)
            usleep(2000);
    }
}

void sandbox_kill_strays(void)
{
    pid_t pids[1024];
    for (int round = 0; round < 50; round++) {
        int alive, zombies;
        size_t n = descendants(pids, ARRAY_LEN(pids), &alive, &zombies);
        for (size_t i = 0; i < n; i++)
            kill(pids[i], SIGKILL);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (n == 0)
            return;
        usleep(2000);
    }
}

/* --- Reading output ------------------------------------------------------------ */

struct reader {
    int fd;
    enum stream stream;     /* 0: the probe pipe, or raw bytes (below) */
    struct sbuf *raw;       /* valgrind's log: bytes kept as they come, not lines */
    struct sbuf partial;    /* an unfinished line */
    bool eof;
    bool creds;             /* a socket with SO_PASSCRED: every read says who wrote it */
    int partial_pid;        /* who wrote the unfinished line: 0 nobody yet, -1 several */
};

static void keep_tail(struct observation *obs, const char *data, size_t n)
{
    if (!obs->tail)
        obs->tail = xcalloc(1, TAIL_BYTES + 1);
    size_t have = strlen(obs->tail);
    if (n >= TAIL_BYTES) {
        memcpy(obs->tail, data + n - TAIL_BYTES, TAIL_BYTES);
        obs->tail[TAIL_BYTES] = '\0';
        return;
    }
    size_t drop = have + n > TAIL_BYTES ? have + n - TAIL_BYTES : 0;
    memmove(obs->tail, obs->tail + drop, have - drop);
    memcpy(obs->tail + have - drop, data, n);
    obs->tail[have - drop + n] = '\0';
}

static void take_line(struct reader *r, struct observation *obs, double t, double t0)
{
    if (r->stream == 0) {
        if (obs->nevents < MAX_EVENTS)
            obs_add_probe_record(obs, r->partial.data ? r->partial.data : "", t0);
    } else if (obs->nlines < MAX_KEPT_LINES) {
        obs_add_line(obs, t, r->stream, r->partial.data ? r->partial.data : "", r->partial.len);
        obs->lines[obs->nlines - 1].pid = r->partial_pid;
    } else {
        obs->dropped_lines++;
    }
    r->partial.len = 0;
    r->partial_pid = 0;
    if (r->partial.data)
        r->partial.data[0] = '\0';
}

/* read(), or on a socket with SO_PASSCRED the same bytes and the pid of the
 * process that wrote them (the kernel never joins two writers' bytes in one
 * read); *pid 0 when unknown. */
static ssize_t read_from(const struct reader *r, char *buf, size_t len, int *pid)
{
    *pid = 0;
    if (!r->creds)
        return read(r->fd, buf, len);
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                         .msg_controllen = sizeof control};
    ssize_t n = recvmsg(r->fd, &msg, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            *pid = (int)cred.pid;
        }
    return n;
}

/* Reads what is there: 1 data, 0 end of file (or pty hang-up), -1 nothing yet. */
static int pump(struct reader *r, struct observation *obs, double t0)
{
    char buf[8192];
    int writer;
    ssize_t n = read_from(r, buf, sizeof buf, &writer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return -1;
    if (n <= 0) {
        r->eof = true;
        return 0;
    }
    double t = now_mono() - t0;
    if (r->raw) {
        if (r->raw->len < MAX_LOG_BYTES)
            sbuf_add(r->raw, buf, (size_t)n);
        return 1;
    }
    if (r->stream != 0) {
        obs->out_bytes += (size_t)n;
        if (obs->nlines >= MAX_KEPT_LINES)
            keep_tail(obs, buf, (size_t)n);
    }
    for (ssize_t i = 0; i < n; i++) {
        if (r->creds) /* the line's writer: whoever wrote all of its bytes */
            r->partial_pid = r->partial_pid == 0 || r->partial_pid == writer ? writer : -1;
        if (buf[i] == '\n') {
            take_line(r, obs, t, t0);
        } else if (r->partial.len < MAX_LINE) {
            sbuf_add(&r->partial, &buf[i], 1);
        }
    }
    return 1;
}

static void flush_partial(struct reader *r, struct observation *obs, double t0)
{
    if (r->partial.len > 0 && !r->raw)
        take_line(r, obs, now_mono() - t0, t0);
    sbuf_free(&r->partial);
}

/* --- Machine load ------------------------------------------------------------------ */

/* Busy seconds so far of the CPUs this process may run on (user, nice,
 * system, irq, softirq and steal from /proc/stat); -1 if unknown. The
 * difference over a run, less the run's own CPU, is what others used. */
/* Seconds the process spent ready to run but waiting for a CPU
 * (/proc/PID/schedstat, second field), or -1 if unknown. On a crowded machine
 * a busy-waiting program gets little CPU time but waits for it all the rest:
 * CPU + this delay ≈ wall, however many others share the CPUs. */
static double run_delay_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    struct sbuf b = {0};
    unsigned long long on_cpu, waiting;
    double d = -1;
    if (read_file(path, &b, 128) && b.data && sscanf(b.data, "%llu %llu", &on_cpu, &waiting) == 2)
        d = (double)waiting / 1e9;
    sbuf_free(&b);
    return d;
}

double cpus_busy(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return -1;
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    char line[512];
    unsigned long long busy = 0;
    bool any = false;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal = 0;
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
            continue;
        if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idle,
                   &iowait, &irq, &softirq, &steal) < 8 || cpu < 0 || cpu >= CPU_SETSIZE ||
            !CPU_ISSET(cpu, &set))
            continue;
        busy += user + nice + sys + irq + softirq + steal;
        any = true;
    }
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return any && hz > 0 ? (double)busy / (double)hz : -1;
}

/* CPU seconds used so far by the processes of session sid: the program's tree (it runs in a
 * session of its own), children it reaped included, and every process of the sandbox's uid (a
 * child that left the session with setsid is still the program's). */
/* Seconds a task waited for a CPU while runnable (schedstat), summed over a process's tasks. */
static double tasks_waiting(const char *pid)
{
    char path[600];
    snprintf(path, sizeof path, "/proc/%s/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    double waited = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char buf[128];
        snprintf(path, sizeof path, "/proc/%s/task/%s/schedstat", pid, de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        unsigned long long on_cpu, waiting;
        if (n > 0 && (buf[n] = '\0', sscanf(buf, "%llu %llu", &on_cpu, &waiting) == 2))
            waited += (double)waiting / 1e9;
    }
    closedir(d);
    return waited;
}

/* What a program's tree (session sid, and whatever runs as the sandbox user) has used: CPU
 * seconds (its reaped children's too) and seconds its live tasks waited for a CPU. */
struct tree_use {
    double cpu, waiting;
};

static struct tree_use session_use(pid_t sid)
{
    struct tree_use use = {0, 0};
    DIR *d = opendir("/proc");
    if (!d)
        return use;
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long ticks = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        const char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
        int session;
        unsigned long long ut, st, cut, cst;
        struct stat pst;
        snprintf(path, sizeof path, "/proc/%s", de->d_name);
        bool sandbox_user = sbx_uid >= 0 && stat(path, &pst) == 0 && (int)pst.st_uid == sbx_uid;
        if (p && sscanf(p + 2, "%*c %*d %*d %d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &session, &ut, &st,
                        &cut, &cst) == 5 && (session == sid || sandbox_user)) {
            ticks += ut + st + cut + cst;
            use.waiting += tasks_waiting(de->d_name);
        }
    }
    closedir(d);
    use.cpu = hz > 0 ? (double)ticks / (double)hz : 0;
    return use;
}

/* Seconds other programs took from a CPU-bound program (its tree: session sid) since busy0
 * (cpus_busy() at its start), elapsed s ago: their CPU time spread over our CPUs. CPU-bound
 * means it ran or waited for a CPU at least half the time (on a crowded machine a spinning
 * program may run a quarter of it); one that sleeps or hangs lost nothing to others: 0. */
static double time_taken_by_others(pid_t sid, double busy0, double elapsed)
{
    cpu_set_t set;
    double busy = cpus_busy();
    if (busy0 < 0 || busy < 0 || elapsed <= 0 || sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) < 1)
        return 0;
    struct tree_use ours = session_use(sid);
    double others = busy - busy0 - ours.cpu;
    if (ours.cpu + ours.waiting < 0.5 * elapsed || others <= 0)
        return 0;
    return others / CPU_COUNT(&set);
}

/* --- Drivers (sandbox.h) --------------------------------------------------------------- */

struct drive {
    pthread_t thread;
    bool started;
    atomic_bool over;        /* the program ended, or the run is being stopped */
    pid_t pid;
    int pidfd;               /* our own copy, for signals that cannot hit a reused pid */
    double t0;
    char *first_line;
    struct observation *obs;
    const struct run_spec *spec;
};

const char *drive_first_line(const struct drive *d) { return d->first_line; }
int drive_pid(const struct drive *d) { return (int)d->pid; }
double drive_now(const struct drive *d) { return now_mono() - d->t0; }
struct observation *drive_obs(struct drive *d) { return d->obs; }

bool drive_over(const struct drive *d)
{
    return atomic_load(&((struct drive *)d)->over) || interrupted;
}

void drive_signal(struct drive *d, int sig)
{
    if (d->pidfd >= 0)
        syscall(SYS_pidfd_send_signal, d->pidfd, sig, NULL, 0);
}

bool drive_wait_exit(struct drive *d, double seconds)
{
    double until = now_mono() + seconds;
    while (!interrupted) {
        if (d->pidfd >= 0) {
            struct pollfd pf = {.fd = d->pidfd, .events = POLLIN};
            if (poll(&pf, 1, 10) > 0)
                return true;
        } else if (atomic_load(&d->over)) {
            return true;
        } else {
            usleep(10000);
        }
        if (now_mono() >= until)
            return false;
    }
    return false;
}

static void *drive_main(void *arg)
{
    struct drive *d = arg;
    d->spec->driver(d, d->spec->driver_arg);
    return NULL;
}

/* Starts the driver once the first stdout line is there. */
static void drive_start(struct drive *d, struct observation *obs)
{
    for (size_t i = 0; i < obs->nlines && !d->started; i++) {
        if (obs->lines[i].stream != STREAM_OUT)
            continue;
        d->first_line = xstrdup(obs->lines[i].text);
        d->started = pthread_create(&d->thread, NULL, drive_main, d) == 0;
        if (!d->started) {
            free(d->first_line);
            d->first_line = NULL;
            return;
        }
    }
}

static void drive_end(struct drive *d)
{
    atomic_store(&d->over, true);
    if (d->started)
        pthread_join(d->thread, NULL);
    if (d->pidfd >= 0)
        close(d->pidfd);
    free(d->first_line);
}

/* --- Running ------------------------------------------------------------------- */

static int open_pty(int *slave)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
        die("posix_openpt");
    char *name = ptsname(master);
    if (!name)
        die("ptsname");
    *slave = open(name, O_RDWR | O_NOCTTY);
    if (*slave < 0)
        die("open %s", name);
    /* Raw mode: no echo, no \n -> \r\n; still a terminal, so stdout stays line-buffered. */
    struct termios tio;
    if (tcgetattr(*slave, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(*slave, TCSANOW, &tio);
    }
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    ioctl(*slave, TIOCSWINSZ, &ws);
    return master;
}

/* The probe the programs load: as root, a copy in a folder of our own that
 * the sandbox user can read but not change (the kit's folder may be private
 * to root, and a program must not swap the probe for later runs). */
static char probe_dir[64];
static pid_t probe_owner;

static void remove_probe_copy(void)
{
    if (probe_dir[0] && getpid() == probe_owner)
        remove_tree(probe_dir);
}

static char *probe_path_for_runs(void)
{
    char *src = xasprintf("%s/probe.so", self_dir());
    if (sbx_uid < 0)
        return src;
    if (!probe_dir[0]) {
        snprintf(probe_dir, sizeof probe_dir, "/tmp/grade-probe-%d.XXXXXX", (int)getpid());
        if (!mkdtemp(probe_dir) || chmod(probe_dir, 0755) < 0)
            die("mkdtemp %s", probe_dir);
        probe_owner = getpid();
        atexit(remove_probe_copy);
    }
    char *dst = xasprintf("%s/probe.so", probe_dir);
    if (!is_file(dst) && !copy_file(src, dst, 0755))
        die("cannot copy the probe %s (run 'make grader')", src);
    free(src);
    return dst;
}

/* One sampling pass: every task the tracer knows that has not ended: its CPU
 * so far and the call it is blocked in (lab 1 judges where it waited). */
static void sample_tasks(struct observation *obs, double t0, int round)
{
    for (size_t i = 0; i < obs->ntasks && obs->nsamples < MAX_SAMPLES; i++) {
        const struct task *t = &obs->tasks[i];
        if (t->end >= 0)
            continue;
        char path[80], buf[128];
        snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", t->tgid, t->tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        unsigned long long on, wait;
        if (n <= 0)
            continue;
        buf[n] = '\0';
        if (sscanf(buf, "%llu %llu", &on, &wait) != 2)
            continue;
        if ((obs->nsamples & (obs->nsamples - 1)) == 0)
            obs->samples = xrealloc(obs->samples, (obs->nsamples ? obs->nsamples * 2 : 256) * sizeof *obs->samples);
        long nr = -1;
        if (!proc_task_syscall(t->tgid, t->tid, &nr, NULL))
            nr = -1;
        obs->samples[obs->nsamples++] = (struct cpu_sample){.t = now_mono() - t0, .tid = t->tid, .round = round,
                                                            .cpu = (double)on / 1e9, .wait = (double)wait / 1e9,
                                                            .syscall = nr};
    }
}

/* What the program's child needs, for the tracer to start it (traced runs). */
struct child_args {
    const struct run_spec *spec;
    int out_w, err_w, probe_w, log_w, status_w;
    char **envp;
    const char *const *keep;
};

static void traced_child(void *arg, int sync_fd)
{
    const struct child_args *a = arg;
    exec_child(a->spec, a->out_w, a->err_w, a->probe_w, a->log_w, a->status_w, a->envp, getppid(), sync_fd, a->keep);
}

/* The tracer's records, read as they come (a record may arrive in pieces). */
struct trace_reader {
    int fd;
    bool eof;
    char buf[64 * 1024];
    size_t len;
    struct trace_state st;
};

static void trace_pump(struct trace_reader *tr, struct observation *obs, double t0)
{
    ssize_t n = read(tr->fd, tr->buf + tr->len, sizeof tr->buf - tr->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        tr->eof = true;
        return;
    }
    tr->len += (size_t)n;
    size_t used = trace_take(obs, &tr->st, tr->buf, tr->len, t0);
    memmove(tr->buf, tr->buf + used, tr->len - used);
    tr->len -= used;
}

/* Reads the tracer's records until cond holds, its pipe ends, or `seconds` pass. */
static void trace_read_until(struct trace_reader *tr, struct observation *obs, double t0, const int *cond,
                             double seconds)
{
    double until = now_mono() + seconds;
    while (!tr->eof && !*cond) {
        double left = until - now_mono();
        if (left <= 0)
            break;
        struct pollfd pf = {.fd = tr->fd, .events = POLLIN};
        if (poll(&pf, 1, (int)(left * 1000) + 1) > 0)
            trace_pump(tr, obs, t0);
    }
}

void sandbox_run(const struct run_spec *spec, struct observation *obs)
{
    *obs = (struct observation){.time_limit = spec->time_limit, .run_delay = -1, .probe_on = spec->probe,
                                .probe_must_speak = spec->probe && spec->probe_must_speak};
    obs->protection = xstrdup(protection);
    int out_r, out_w, err_p[2], probe_p[2] = {-1, -1}, log_p[2] = {-1, -1}, status_p[2];
    if (spec->pty) {
        out_r = open_pty(&out_w);
    } else if (spec->line_pids) {
        /* A socket, not a pipe: the reader learns which process wrote each line. */
        int p[2], on = 1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0 ||
            setsockopt(p[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 || shutdown(p[0], SHUT_WR) < 0)
            die("socketpair");
        out_r = p[0];
        out_w = p[1];
    } else {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            die("pipe");
        out_r = p[0];
        out_w = p[1];
    }
    if (pipe2(err_p, O_CLOEXEC) < 0 || pipe2(status_p, O_CLOEXEC) < 0)
        die("pipe");
    char *probe_path = NULL;
    if (spec->probe) {
        if (pipe2(probe_p, O_CLOEXEC) < 0)
            die("pipe");
        probe_path = probe_path_for_runs();
    }
    if (spec->valgrind_log && pipe2(log_p, O_CLOEXEC) < 0)
        die("pipe");
    /* Kept in a static too: a child whose exec fails exits with it still reachable. */
    static char **envp;
    envp = make_env(spec, probe_path);
    /* What a private /tmp must still show: the run's folders and the probe's. */
    const char *keep[MAX_VISIBLE + 2];
    size_t nkeep = 0;
    for (const char *const *v = spec->visible; v && *v && nkeep < MAX_VISIBLE; v++)
        keep[nkeep++] = *v;
    if (!spec->visible)
        keep[nkeep++] = spec->dir;
    if (probe_dir[0] && spec->probe)
        keep[nkeep++] = probe_dir;
    keep[nkeep] = NULL;
    fflush(NULL);

    static struct trace_reader tr; /* 64 KiB: not on the stack */
    tr = (struct trace_reader){.fd = -1, .eof = true};
    tracer_pid = 0;
    tracer_reaped = false;
    double busy0 = cpus_busy(), busy1 = -1;
    double t0 = now_mono();
    pid_t parent = getpid(), pid;
    if (spec->trace) {
        /* A tracer of our own forks the program (trace.c says why a process). */
        int tp[2];
        if (pipe2(tp, O_CLOEXEC) < 0)
            die("pipe");
        tracer_pid = fork();
        if (tracer_pid < 0)
            die("fork");
        if (tracer_pid == 0) {
            close(tp[0]);
            close(out_r);
            close(err_p[0]);
            close(status_p[0]);
            if (probe_p[0] >= 0)
                close(probe_p[0]);
            if (log_p[0] >= 0)
                close(log_p[0]);
            static struct child_args ca;
            ca = (struct child_args){spec, out_w, err_p[1], probe_p[1], log_p[1], status_p[1], envp, keep};
            const int mine[] = {out_w, err_p[1], probe_p[1], log_p[1], status_p[1]};
            trace_watch_pipes(spec->watch_pipes);
            trace_watch_opens(spec->probe_must_speak);
            trace_set_probe(spec->probe ? probe_path : NULL);
            trace_stall(&spec->stall);
            trace_program(tp[1], traced_child, &ca, mine, ARRAY_LEN(mine));
        }
        close(tp[1]);
        tr.fd = tp[0];
        tr.eof = false;
        /* Its first record names the program's pid. */
        trace_read_until(&tr, obs, t0, &tr.st.main_pid, 10.0);
        pid = tr.st.main_pid > 0 ? tr.st.main_pid : -1;
        if (pid < 0) {
            kill(tracer_pid, SIGKILL);
            waitpid(tracer_pid, NULL, 0);
            tracer_pid = 0;
            die("the grader's tracer did not start the program");
        }
    } else {
        pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            /* dup2 clears close-on-exec on the copies the program keeps. */
            exec_child(spec, out_w, err_p[1], probe_p[1], log_p[1], status_p[1], envp, parent, -1, keep);
        }
    }
    free_env(envp);
    envp = NULL;
    free(probe_path);
    close(out_w);
    close(err_p[1]);
    close(status_p[1]);
    if (probe_p[1] >= 0)
        close(probe_p[1]);
    if (log_p[1] >= 0)
        close(log_p[1]);

    /* An exec failure arrives on the status pipe; success closes it. */
    char why[256];
    ssize_t wn;
    while ((wn = read(status_p[0], why, sizeof why - 1)) < 0 && errno == EINTR)
        ;
    close(status_p[0]);
    if (wn > 0) {
        why[wn] = '\0';
        char *what = strchr(why, ' ');
        char *msg = xasprintf("%s: %s", what ? what + 1 : why, strerror(atoi(why)));
        obs_add_line(obs, 0, STREAM_ERR, msg, strlen(msg));
        free(msg);
    } else {
        obs->started = true;
    }

    /* Not traced: the grader is the parent and waits for the pid itself. */
    int pidfd = spec->trace ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
    /* The driver's own handle on the program (pidfds are close-on-exec and work on
     * a process that is not our child, as a traced one is not). */
    struct drive drive = {.pid = pid, .t0 = t0, .obs = obs, .spec = spec,
                          .pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1};
    struct sbuf log = {0};
    struct reader rd[4] = {{.fd = out_r, .stream = STREAM_OUT, .creds = spec->line_pids && !spec->pty},
                           {.fd = err_p[0], .stream = STREAM_ERR},
                           {.fd = probe_p[0], .stream = 0, .eof = probe_p[0] < 0},
                           {.fd = log_p[0], .stream = 0, .raw = &log, .eof = log_p[0] < 0}};
    double deadline = t0 + spec->time_limit, exit_time = 0, next_sample = now_mono();
    int round = 0;
    bool main_done = false;
    int status = 0;
    struct rusage ru = {0};
    for (;;) {
        struct pollfd pf[6];
        int map[6], np = 0;
        for (int i = 0; i < 4; i++)
            if (!rd[i].eof) {
                pf[np] = (struct pollfd){.fd = rd[i].fd, .events = POLLIN};
                map[np++] = i;
            }
        if (!main_done && pidfd >= 0) {
            pf[np] = (struct pollfd){.fd = pidfd, .events = POLLIN};
            map[np++] = -1;
        }
        if (!tr.eof) {
            pf[np] = (struct pollfd){.fd = tr.fd, .events = POLLIN};
            map[np++] = -2;
        }
        double now = now_mono();
        double until = main_done ? exit_time + EXIT_GRACE : deadline;
        if (!main_done && pidfd < 0 && !spec->trace && until > now + 0.01)
            until = now + 0.01; /* no pidfd: look at the child often */
        bool silent = spec->driver && !drive.started && !main_done && until > t0 + DRIVER_START_LIMIT;
        if (silent)
            until = t0 + DRIVER_START_LIMIT; /* nothing to drive yet: wait no longer than this */
        if (now >= until && !main_done && !silent && pid > 0 && spec->extend_limit) {
            /* A time limit counts the time the program could run: when other programs took CPUs
             * from a CPU-bound one, it gets that time back (at most half the limit more). */
            double most = fmin(0.5 * spec->time_limit, spec->extend_max > 0 ? spec->extend_max : 0);
            double limit = spec->time_limit + fmin(most, time_taken_by_others(pid, busy0, now - t0));
            if (t0 + limit > now + 0.02) {
                deadline = t0 + limit;
                obs->time_limit = limit;
                obs->time_extra = limit - spec->time_limit;
                continue;
            }
        }
        if (now >= until) {
            if (!main_done)
                obs->timed_out = true;
            if (silent)
                obs->time_limit = DRIVER_START_LIMIT;
            break;
        }
        if (interrupted)
            break; /* the grader was asked to stop: kill the tree below */
        if (main_done && rd[0].eof && rd[1].eof && rd[3].eof) /* valgrind's last summaries too */
            break;
        int ms = (int)((until - now) * 1000) + 1;
        if (spec->trace && spec->sample && !main_done) {
            if (now >= next_sample) {
                sample_tasks(obs, t0, round++);
                next_sample = now + SAMPLE_EVERY;
            }
            int to_sample = (int)((next_sample - now) * 1000) + 1;
            if (to_sample < ms)
                ms = to_sample;
        }
        int rc = poll(pf, (nfds_t)np, ms);
        if (rc < 0 && errno != EINTR)
            die("poll");
        for (int i = 0; i < np && rc > 0; i++) {
            if (!pf[i].revents || map[i] == -1)
                continue;
            if (map[i] == -2)
                trace_pump(&tr, obs, t0);
            else
                pump(&rd[map[i]], obs, t0);
        }
        if (spec->driver && !drive.started && obs->started)
            drive_start(&drive, obs);
        if (obs->out_bytes > FLOOD_BYTES) {
            obs->output_flood = true;
            break;
        }
        bool ended = false;
        if (spec->trace) {
            if (!main_done && (tr.st.main_done || tr.eof)) {
                ended = true;
                if (tr.st.main_done) {
                    status = tr.st.main_status;
                    ru.ru_utime.tv_sec = (time_t)tr.st.user;
                    ru.ru_utime.tv_usec = (suseconds_t)((tr.st.user - (double)(time_t)tr.st.user) * 1e6);
                    ru.ru_stime.tv_sec = (time_t)tr.st.sys;
                    ru.ru_stime.tv_usec = (suseconds_t)((tr.st.sys - (double)(time_t)tr.st.sys) * 1e6);
                    obs->run_delay = tr.st.run_delay;
                } else {
                    status = SIGKILL; /* the tracer died, and PTRACE_O_EXITKILL took the program */
                    obs_add_line(obs, now_mono() - t0, STREAM_ERR, "(the grader's tracer stopped)", 29);
                }
            }
        } else {
            siginfo_t si = {0};
            if (!main_done && waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
                obs->run_delay = run_delay_of(pid); /* a zombie still has its scheduler figures */
            }
            ended = !main_done && si.si_pid == pid && wait4(pid, &status, WNOHANG, &ru) == pid;
        }
        if (ended) {
            main_done = true;
            atomic_store(&drive.over, true);
            exit_time = now_mono();
            busy1 = cpus_busy();
            obs->wall = spec->trace && tr.st.main_done ? tr.st.main_exit_t : exit_time - t0;
            pid_t tmp[1024];
            /* What it left behind: running processes, and children never reaped. */
            descendants(tmp, ARRAY_LEN(tmp), &obs->leftover_procs, &obs->zombies);
        }
    }
    drive_end(&drive); /* before the kill: it may still be reading /proc */
    if (!main_done) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        if (spec->trace) {
            trace_read_until(&tr, obs, t0, &tr.st.main_done, 3.0);
            if (tr.st.main_done) {
                status = tr.st.main_status;
                obs->wall = tr.st.main_exit_t;
            }
        } else if (wait4(pid, &status, 0, &ru) == pid) {
            obs->wall = now_mono() - t0;
        }
    }
    obs->cpu_user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    obs->cpu_sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    kill_and_reap(pid, obs);
    if (spec->trace) {
        /* Every task is gone: the tracer writes its last records and exits. */
        trace_read_until(&tr, obs, t0, &tr.st.ended, 3.0);
        if (!tracer_reaped) {
            kill(tracer_pid, SIGKILL);
            waitpid(tracer_pid, NULL, 0);
        }
        close(tr.fd);
        tracer_pid = 0;
    }
    /* What the rest of the machine used meanwhile: all of its busy time, less ours. */
    if (busy0 >= 0 && busy1 >= 0 && busy1 - busy0 > obs->cpu_user + obs->cpu_sys)
        obs->others_cpu = busy1 - busy0 - (obs->cpu_user + obs->cpu_sys);
    /* Whatever is still buffered in the pipes. */
    for (int i = 0; i < 4; i++) {
        if (rd[i].fd < 0)
            continue;
        fcntl(rd[i].fd, F_SETFL, O_NONBLOCK);
        while (!rd[i].eof && obs->out_bytes <= FLOOD_BYTES && pump(&rd[i], obs, t0) > 0)
            ;
        flush_partial(&rd[i], obs, t0);
        close(rd[i].fd);
    }
    if (pidfd >= 0)
        close(pidfd);
    if (spec->valgrind_log)
        obs->valgrind_log = sbuf_take(&log);
    if (WIFEXITED(status)) {
        obs->exited = true;
        obs->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        obs->term_signal = WTERMSIG(status);
        /* Its CPU time limit (RLIMIT_CPU, above the wall limit's longest): a time limit too. */
        if (obs->term_signal == SIGXCPU && !obs->timed_out) {
            obs->timed_out = true;
            obs->term_signal = 0;
        }
    }
    if (obs->traced)
        obs_cross_check(obs);
}

/* --- Clean-up without private mounts ---------------------------------------- */

/* Removes what uid owns under path (not following links, not entering the
 * grader's own folders); counts what it removed. */
static void remove_owned(const char *path, uid_t uid, int depth, long *count)
{
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = xasprintf("%s/%s", path, e->d_name);
        struct stat st;
        bool ours = false;
        for (size_t i = 0; i < nmade; i++)
            ours = ours || (made[i] && !strcmp(made[i], sub));
        if (!ours && lstat(sub, &st) == 0) {
            if (st.st_uid == uid) {
                remove_tree(sub);
                ++*count;
            } else if (S_ISDIR(st.st_mode) && depth > 0) {
                remove_owned(sub, uid, depth - 1, count);
            }
        }
        free(sub);
    }
    if (d)
        closedir(d);
}

/* System V IPC objects of uid, from /proc/sysvipc/KIND (uid in column col). */
static long remove_ipc(const char *kind, int col, uid_t uid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/sysvipc/%s", kind);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[512];
    long n = 0;
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        if (header) {
            header = false;
            continue;
        }
        long v[10] = {0};
        int got = sscanf(line, "%ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                         &v[7]);
        if (got < col || (uid_t)v[col - 1] != uid)
            continue;
        int id = (int)v[1], rc = -1;
        if (!strcmp(kind, "shm"))
            rc = shmctl(id, IPC_RMID, NULL);
        else if (!strcmp(kind, "sem"))
            rc = semctl(id, 0, IPC_RMID);
        else
            rc = msgctl(id, IPC_RMID, NULL);
        n += rc == 0;
    }
    fclose(f);
    return n;
}

void sandbox_clean_up(struct sbuf *said)
{
    if (sbx_uid < 0 || private_tmp)
        return; /* not root: the uid is the user's own; private mounts: nothing outlived the runs */
    struct sbuf what = {0};
    for (size_t i = 0; i < nfresh; i++) {
        long n = 0;
        remove_owned(fresh_dirs[i], (uid_t)sbx_uid, 3, &n);
        if (n)
            sbuf_printf(&what, "%s%ld in %s", what.len ? ", " : "", n, fresh_dirs[i]);
    }
    long ipc = remove_ipc("shm", 8, (uid_t)sbx_uid) + remove_ipc("sem", 5, (uid_t)sbx_uid) +
               remove_ipc("msg", 8, (uid_t)sbx_uid);
    if (ipc)
        sbuf_printf(&what, "%s%ld System V IPC object%s", what.len ? ", " : "", ipc, ipc == 1 ? "" : "s");
    if (what.len)
        sbuf_printf(said, "sandbox clean-up: removed what the sandbox uid had left (this program, or an earlier one "
                    "in this slot): %s\n", what.data);
    sbuf_free(&what);
}
