/* trace.c - the grader's tracer: ptrace plus a seccomp-BPF filter, so the
 * kernel, not the program, says which tasks ran and which calls they made.
 *
 * Why a process of its own, between the grader and the program, and not a
 * thread of the grader: a ptrace tracer must wait for its tracees' stops, and
 * waitpid() in any thread of the grader would also take those stops (and the
 * grader's run loop reaps the main pid, and kill_and_reap reaps everything with
 * wait4(-1)). In a separate process the grader's loop stays as it was: the
 * tracer is the program's parent, reaps it, and sends its exit status and CPU
 * time as a record; orphans still go to the grader (the subreaper), so
 * zombies and orphans are counted as before. The tracer has PDEATHSIG and
 * PTRACE_O_EXITKILL: if the grader or the tracer dies, the program dies too.
 *
 * The filter (installed by the program's child after the tracer is attached,
 * after PR_SET_NO_NEW_PRIVS, just before exec) returns SECCOMP_RET_TRACE only
 * for the watched calls, so only those stop, once each (for wait4/waitid the
 * tracer also asks for the return, PTRACE_SYSCALL: which child was reaped,
 * when); it writes one record per call. Task creation
 * (fork, vfork, clone, clone3, posix_spawn, every thread library), exec and
 * exit come from ptrace events, which need no filter. Group-stops are left
 * stopped with PTRACE_LISTEN; signals are delivered as they came.
 *
 * open/openat/openat2 stop too (they are rare in these programs): a program
 * that reads its own /proc/self/maps, status or environ is looking for the
 * grader's instruments (ThreadSanitizer's or valgrind's libraries, LD_PRELOAD)
 * to behave well only under them; the tracer reads the path and says so.
 *
 * The probe's pipe (PROBE_FD) is the grader's: every call that writes into
 * it stops (the filter compares the descriptor argument, so other writes
 * cost nothing), and a write counts as the probe's only when the kernel
 * says the probe's own code made it (probe_write_genuine: the instruction
 * pointer in the probe library's unmodified, read-only code, reached by a
 * call from that code). The other ways to write into it are tampering too:
 * a copy of the descriptor (dup, fcntl F_DUPFD, pidfd_getfd, SCM_RIGHTS), a
 * new open of it (/proc/PID/fd/1023, /dev/fd/1023), executable memory the
 * program made itself; io_uring and Linux AIO are refused (ENOSYS).
 * Each is a TR_FORGED record, which trace_take() turns into tampering.
 *
 * Students can see the same with: strace -f --seccomp-bpf -e trace=... ./prog
 *
 * See also: trace.h, sandbox.c (runs it), observe.c (obs_cross_check).
 */
#define _GNU_SOURCE
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449 /* Linux 5.16; older headers lack the name */
#endif

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#define X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#define X32_BIT 0
#else
#error "the tracer knows x86_64 and aarch64"
#endif

/* --- The filter ------------------------------------------------------------ */

struct watched {
    long nr;
    enum sys_kind kind;
};

static const struct watched watched[] = {
#ifdef SYS_select
    {SYS_select, SK_SELECT},
#endif
    {SYS_pselect6, SK_PSELECT},
#ifdef SYS_poll
    {SYS_poll, SK_POLL},
#endif
    {SYS_ppoll, SK_PPOLL},
#ifdef SYS_epoll_wait
    {SYS_epoll_wait, SK_EPOLL},
#endif
    {SYS_epoll_pwait, SK_EPOLL},
#ifdef SYS_epoll_pwait2
    {SYS_epoll_pwait2, SK_EPOLL},
#endif
    {SYS_nanosleep, SK_NANOSLEEP},
    {SYS_clock_nanosleep, SK_CLOCK_NANOSLEEP},
#ifdef SYS_pause
    {SYS_pause, SK_SIGWAIT},
#endif
    {SYS_rt_sigsuspend, SK_SIGWAIT},
    {SYS_rt_sigtimedwait, SK_SIGWAIT},
#ifdef SYS_alarm
    {SYS_alarm, SK_TIMER},
#endif
    {SYS_setitimer, SK_TIMER},
    {SYS_timer_create, SK_TIMER},
    {SYS_timerfd_create, SK_TIMER},
    {SYS_timerfd_settime, SK_TIMER},
#ifdef SYS_signalfd
    {SYS_signalfd, SK_TIMER},
#endif
    {SYS_signalfd4, SK_TIMER},
    {SYS_io_uring_enter, SK_OTHER_WAIT},
    {SYS_semtimedop, SK_OTHER_WAIT},
    {SYS_mq_timedreceive, SK_OTHER_WAIT},
    {SYS_io_getevents, SK_OTHER_WAIT},
    {SYS_io_pgetevents, SK_OTHER_WAIT},
    {SYS_wait4, SK_WAIT},
    {SYS_waitid, SK_WAIT},
    {SYS_kill, SK_KILL},
    {SYS_tkill, SK_KILL},
    {SYS_tgkill, SK_KILL},
    {SYS_setsid, SK_SETSID},
    {SYS_exit_group, SK_EXIT_GROUP},
};

/* Calls that open a path (which the tracer reads: peek_of). */
static const long open_calls[] = {
#ifdef SYS_open
    SYS_open,
#endif
    SYS_openat,
#ifdef SYS_openat2
    SYS_openat2,
#endif
};

#define LD(off) (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4) /* little-endian */
#define RET(v) (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v))
#define JEQ(k, t, f) (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))

/* write and writev: traced only with trace_watch_pipes (lab 2). Not read: a
 * parent that busy-polls a non-blocking pipe would stop millions of times. */
static const long io_calls[] = {SYS_write, SYS_writev};
static pid_t traced_main; /* the program's main pid: whose read ends count */
static bool watch_pipes, watch_opens = true;

/* Every call that writes into a descriptor, with the argument that names it:
 * the filter stops those whose descriptor is the probe's (other writes cost
 * nothing), and the tracer takes such a write as the probe's own only when
 * the kernel says the probe's code made it (probe_write_genuine). */
static const struct {
    long nr;
    int fd_arg;
} fd_writes[] = {
    {SYS_write, 0}, {SYS_writev, 0}, {SYS_pwrite64, 0}, {SYS_pwritev, 0},
#ifdef SYS_pwritev2
    {SYS_pwritev2, 0},
#endif
    {SYS_sendto, 0}, {SYS_sendmsg, 0}, {SYS_sendmmsg, 0}, {SYS_vmsplice, 0}, {SYS_splice, 2}, {SYS_tee, 1},
    {SYS_sendfile, 0}, {SYS_copy_file_range, 2},
};
static char probe_real[4096]; /* the probe's library as /proc/PID/maps names it; "": no probe */

void trace_set_probe(const char *path)
{
    probe_real[0] = '\0';
    if (path && !realpath(path, probe_real))
        snprintf(probe_real, sizeof probe_real, "%s", path);
}

void trace_watch_pipes(bool on)
{
    watch_pipes = on;
}

void trace_watch_opens(bool on)
{
    watch_opens = on;
}

static struct sock_filter filter[512];
static unsigned short filter_len;

static void put(struct sock_filter f)
{
    filter[filter_len++] = f;
}

/* Block: nr with argument i (low word) == fd: TRACE; nr otherwise: ALLOW. */
static void put_fd_arg(long nr, int i, unsigned fd)
{
    put(JEQ((unsigned)nr, 0, 4));
    put(LD(ARG_LO(i)));
    put(JEQ(fd, 0, 1));
    put(RET(SECCOMP_RET_TRACE));
    put(RET(SECCOMP_RET_ALLOW));
}

static void build_filter(void)
{
    if (filter_len)
        return;
    put(LD(offsetof(struct seccomp_data, arch)));
    put(JEQ(THIS_ARCH, 1, 0));
    put(RET(SECCOMP_RET_TRACE)); /* another ABI (int 0x80): every call stops */
    put(LD(offsetof(struct seccomp_data, nr)));
    if (X32_BIT) {
        put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1));
        put(RET(SECCOMP_RET_TRACE));
    }
    /* io_uring and Linux AIO write into any descriptor (the probe's too) from the kernel's side,
     * where no stop can say who asked: no lab needs them; refused, as Docker's default profile does. */
    put(JEQ(SYS_io_uring_setup, 0, 1));
    put(RET(SECCOMP_RET_ERRNO | ENOSYS));
    put(JEQ(SYS_io_setup, 0, 1));
    put(RET(SECCOMP_RET_ERRNO | ENOSYS));
    /* sendmsg may pass the probe's descriptor to another process (SCM_RIGHTS): rare, always stops. */
    put(JEQ(SYS_sendmsg, 0, 1));
    put(RET(SECCOMP_RET_TRACE));
    put(JEQ(SYS_sendmmsg, 0, 1));
    put(RET(SECCOMP_RET_TRACE));
    for (size_t i = 0; i < ARRAY_LEN(watched); i++) {
        put(JEQ((unsigned)watched[i].nr, 0, 1));
        put(RET(SECCOMP_RET_TRACE));
    }
    for (size_t i = 0; watch_opens && i < ARRAY_LEN(open_calls); i++) {
        put(JEQ((unsigned)open_calls[i], 0, 1));
        put(RET(SECCOMP_RET_TRACE));
    }
    for (size_t i = 0; watch_pipes && i < ARRAY_LEN(io_calls); i++) {
        put(JEQ((unsigned)io_calls[i], 0, 1));
        put(RET(SECCOMP_RET_TRACE));
    }
    if (watch_pipes) { /* every close: a pipe closed unread (report_unread) */
        put(JEQ((unsigned)SYS_close, 0, 1));
        put(RET(SECCOMP_RET_TRACE));
    }
    /* futex: only a wait with a time-out (a timed sleep); lock waits (no time-out) run free. */
    put(JEQ(SYS_futex, 0, 11));
    put(LD(ARG_LO(1)));
    put((struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, FUTEX_CMD_MASK & 0x7f));
    put(JEQ(FUTEX_WAIT, 1, 0));
    put(JEQ(FUTEX_WAIT_BITSET, 0, 6));
    put(LD(ARG_LO(3)));
    put(JEQ(0, 0, 3));
    put(LD(ARG_HI(3)));
    put(JEQ(0, 0, 1));
    put(RET(SECCOMP_RET_ALLOW));
    put(RET(SECCOMP_RET_TRACE));
    put(RET(SECCOMP_RET_ALLOW)); /* (never reached: keeps the block's length fixed) */
    /* Code of the program's own making (a program the grader built: watch_opens): memory made
     * executable from anything but a library it could not have written (exec_memory_ok). */
    for (int i = 0; watch_opens && i < 3; i++) {
        long nr = i == 0 ? SYS_mmap : i == 1 ? SYS_mprotect : SYS_pkey_mprotect;
        put(JEQ((unsigned)nr, 0, 4));
        put(LD(ARG_LO(2)));
        put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1));
        put(RET(SECCOMP_RET_TRACE));
        put(RET(SECCOMP_RET_ALLOW));
    }
    if (watch_opens) {
        put(JEQ(SYS_shmat, 0, 4));
        put(LD(ARG_LO(2)));
        put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SHM_EXEC, 0, 1));
        put(RET(SECCOMP_RET_TRACE));
        put(RET(SECCOMP_RET_ALLOW));
    }
    /* Writes into the probe's descriptor (after io_calls: with watch_pipes every write stops). */
    for (size_t i = 0; probe_real[0] && i < ARRAY_LEN(fd_writes); i++)
        if (fd_writes[i].nr != SYS_sendmsg && fd_writes[i].nr != SYS_sendmmsg)
            put_fd_arg(fd_writes[i].nr, fd_writes[i].fd_arg, PROBE_FD);
    /* The probe's descriptor: copied, replaced or closed. */
#ifdef SYS_dup2
    put_fd_arg(SYS_dup2, 1, PROBE_FD);
#endif
    put_fd_arg(SYS_dup3, 1, PROBE_FD);
    put_fd_arg(SYS_dup, 0, PROBE_FD);
#ifdef SYS_pidfd_getfd
    put_fd_arg(SYS_pidfd_getfd, 1, PROBE_FD);
#endif
    put_fd_arg(SYS_close, 0, PROBE_FD);
    /* fcntl(PROBE_FD, F_DUPFD or F_DUPFD_CLOEXEC, ...): a copy under another number. */
    put(JEQ(SYS_fcntl, 0, 7));
    put(LD(ARG_LO(0)));
    put(JEQ(PROBE_FD, 0, 4));
    put(LD(ARG_LO(1)));
    put(JEQ(F_DUPFD, 1, 0));
    put(JEQ(F_DUPFD_CLOEXEC, 0, 1));
    put(RET(SECCOMP_RET_TRACE));
    put(RET(SECCOMP_RET_ALLOW));
    /* close_range(first, last): first <= PROBE_FD <= last. */
    put(JEQ(SYS_close_range, 0, 6));
    put(LD(ARG_LO(0)));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, PROBE_FD, 2, 0));
    put(LD(ARG_LO(1)));
    put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, PROBE_FD, 1, 0));
    put(RET(SECCOMP_RET_ALLOW));
    put(RET(SECCOMP_RET_TRACE));
    put(RET(SECCOMP_RET_ALLOW));
}

/* A close of the probe's descriptor by a program that closes every descriptor it inherited (a
 * common tidy-up: "for (fd = 3; fd < max; fd++) close(fd)", closefrom's close_range) is no
 * tampering: the call is made to leave that one open (close(PROBE_FD) returns 0 without closing;
 * close_range stops below it), so the probe goes on. True if it did that (x86-64). Replacing the
 * descriptor (dup2 onto it) or copying it stays tampering. */
static bool keep_probe_fd(pid_t tid, const struct __ptrace_syscall_info *si)
{
#if defined(__x86_64__)
    long nr = (long)si->seccomp.nr;
    bool close_it = nr == SYS_close && (int)si->seccomp.args[0] == PROBE_FD;
    bool range = nr == SYS_close_range && si->seccomp.args[0] <= PROBE_FD && si->seccomp.args[1] >= PROBE_FD;
    if (!close_it && !range)
        return false;
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
        return false;
    if (close_it || regs.rdi == PROBE_FD) {
        regs.orig_rax = (unsigned long long)-1; /* skipped: the call returns rax */
        regs.rax = 0;
    } else {
        regs.rsi = PROBE_FD - 1; /* the range below it (the sandbox's descriptors end at it) */
    }
    return ptrace(PTRACE_SETREGS, tid, 0, &regs) == 0;
#else
    (void)tid;
    (void)si;
    return false;
#endif
}

static enum sys_kind kind_of(const struct __ptrace_syscall_info *si)
{
    if (si->arch != THIS_ARCH || (X32_BIT && (si->seccomp.nr & X32_BIT)))
        return SK_FOREIGN;
    long nr = (long)si->seccomp.nr;
    for (size_t i = 0; i < ARRAY_LEN(watched); i++)
        if (watched[i].nr == nr)
            return watched[i].kind;
    if (nr == SYS_futex)
        return SK_FUTEX_TIMED;
    return SK_PROBE_FD;
}

bool trace_wait_attach(int sync_fd)
{
    char go = 0;
    while (read(sync_fd, &go, 1) < 0 && errno == EINTR)
        ;
    close(sync_fd);
    return go == 'Y';
}

int trace_install_filter(void)
{
    struct sock_fprog prog = {.len = filter_len, .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return errno;
    return 0;
}

/* --- The tracer process -------------------------------------------------------- */

static int out_fd = -1;
static char outbuf[64 * sizeof(struct trace_rec)];
static size_t outlen;

static void flush_out(void)
{
    size_t off = 0;
    while (off < outlen) {
        ssize_t n = write(out_fd, outbuf + off, outlen - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    outlen = 0;
}

static void emit(const struct trace_rec *r)
{
    if (outlen + sizeof *r > sizeof outbuf)
        flush_out();
    memcpy(outbuf + outlen, r, sizeof *r);
    outlen += sizeof *r;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct ttask {
    pid_t tid;
    bool in_call;            /* stopped at a watched call's entry, its return not yet seen */
    struct trace_rec call;
    uintptr_t waitid_info;   /* waitid's siginfo pointer, read at its return */
    long counts[SK_N];
    bool live;
    bool exit_sent;          /* TR_EXIT written (at PTRACE_EVENT_EXIT, before it wakes a joiner) */
    bool in_open;            /* stopped at an open's entry: its result is checked at its return */
    long open_nr;            /* which open call */
    bool open_named_probe;   /* its path named the probe's descriptor */
};

static struct ttask *tasks;
static size_t ntasks, cap;

static struct ttask *ttask(pid_t tid)
{
    for (size_t i = 0; i < ntasks; i++)
        if (tasks[i].tid == tid && tasks[i].live)
            return &tasks[i];
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks[i].live) {
            tasks[i] = (struct ttask){.tid = tid, .live = true};
            return &tasks[i];
        }
    if (ntasks == cap) {
        cap = cap ? cap * 2 : 64;
        tasks = xrealloc(tasks, cap * sizeof *tasks);
    }
    tasks[ntasks] = (struct ttask){.tid = tid, .live = true};
    return &tasks[ntasks++];
}

/* A /proc/TID/status field as a number, or -1. */
static long status_field(pid_t tid, const char *name)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    size_t len = strlen(name);
    for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, name, len) && p[len] == ':')
            return atol(p + len + 1);
    return -1;
}

static void read_comm(pid_t tid, int64_t *a)
{
    char path[64], buf[17] = {0};
    snprintf(path, sizeof path, "/proc/%d/comm", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, 16);
        close(fd);
        if (n > 0 && buf[n - 1] == '\n')
            buf[n - 1] = '\0';
    }
    memcpy(a, buf, 16);
}

/* A task's nanoseconds on a CPU and waiting for one, from /proc/TID/schedstat; -1 unknown. */
static void schedstat_of(pid_t tid, int64_t *on, int64_t *waited)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unsigned long long a, b;
    if (n <= 0)
        return;
    buf[n] = '\0';
    if (sscanf(buf, "%llu %llu", &a, &b) == 2) {
        *on = (int64_t)a;
        *waited = (int64_t)b;
    }
}

static int64_t run_delay_ns(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unsigned long long on, wait;
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return sscanf(buf, "%llu %llu", &on, &wait) == 2 ? (int64_t)wait : -1;
}

static void end_task(struct ttask *t, int64_t now)
{
    if (t->in_call) {
        emit(&t->call); /* t2 == 0: it never returned */
        t->in_call = false;
    }
    for (int k = 0; k < SK_N; k++)
        if (t->counts[k] > TRACE_KEEP)
            emit(&(struct trace_rec){.kind = TR_COUNT, .t = now, .tid = t->tid, .other = k, .a = {t->counts[k]}});
    t->live = false;
}

/* What of a process /proc tells about its instruments: its mappings (the
 * sanitizer's and valgrind's libraries), its status (TracerPid) and its
 * environment (LD_PRELOAD); and whether the tracer holds one of its tasks
 * stopped (the stall tests): its state, scheduler figures, the call it waits in. */
static bool peek_name(const char *name)
{
    static const char *const names[] = {"maps", "smaps",   "smaps_rollup", "numa_maps", "status",
                                        "environ", "stat", "schedstat",    "wchan",     "syscall"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

/* Whether a name after /proc/PID/ is fd/N of the probe's descriptor: a new open of its pipe. */
static bool probe_fd_name(const char *name)
{
    if (strncmp(name, "fd/", 3) || name[3] < '0' || name[3] > '9')
        return false;
    char *end;
    long fd = strtol(name + 3, &end, 10);
    return fd == PROBE_FD && (*end == '\0' || *end == '/');
}

static bool probe_fd_seen; /* set by peek_in_proc: the path named the probe's descriptor */

/* After "/proc/": "self/", "thread-self/" or "DIGITS/" (then maybe "task/DIGITS/"), then
 * a peek_name: that name, else NULL. */
static const char *peek_in_proc(const char *p)
{
    if (!strncmp(p, "self/", 5))
        p += 5;
    else if (!strncmp(p, "thread-self/", 12))
        p += 12;
    else {
        if (*p < '0' || *p > '9')
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != '/')
            return NULL;
    }
    if (!strncmp(p, "task/", 5)) {
        p += 5;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p++ != '/')
            return NULL;
    }
    probe_fd_seen = probe_fd_seen || probe_fd_name(p);
    return peek_name(p) ? p : NULL;
}

/* The /proc/self file an open/openat/openat2 call of task tid opens, if it is one
 * that peeks at the instruments, into name[16]; false otherwise. */
static bool peek_of(pid_t tid, const struct __ptrace_syscall_info *si, char name[16])
{
    long nr = (long)si->seccomp.nr;
    int pi = 1;
#ifdef SYS_open
    if (nr == SYS_open)
        pi = 0;
#endif
    char path[128] = {0};
    uintptr_t addr = (uintptr_t)si->seccomp.args[pi];
    for (size_t off = 0; off + sizeof(long) < sizeof path; off += sizeof(long)) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + off), 0);
        if (errno)
            break;
        memcpy(path + off, &word, sizeof word);
        if (memchr(&word, '\0', sizeof word))
            break;
    }
    path[sizeof path - 1] = '\0';
    const char *hit = NULL;
    while (!strncmp(path, "//", 2))
        memmove(path, path + 1, strlen(path));
    if (!strncmp(path, "/dev/fd/", 8)) {
        probe_fd_seen = probe_fd_name(path + 5);
    } else if (!strncmp(path, "/proc/", 6)) {
        hit = peek_in_proc(path + 6);
    } else if (path[0] != '/' && nr != (long)SYS_open && (int)si->seccomp.args[0] != AT_FDCWD) {
        /* Relative to a descriptor: openat(open("/proc/self"), "maps"). */
        char fdpath[64], dir[128] = {0};
        snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", (int)tid, (int)si->seccomp.args[0]);
        ssize_t n = readlink(fdpath, dir, sizeof dir - 1);
        if (n > 6 && !strncmp(dir, "/proc/", 6)) {
            char joined[256];
            snprintf(joined, sizeof joined, "%s/%s", dir + 6, path);
            hit = peek_in_proc(joined);
        }
    }
    if (!hit)
        return false;
    memset(name, 0, 16);
    memcpy(name, hit, strnlen(hit, 15));
    return true;
}

/* --- Who writes into the probe's pipe ------------------------------------------
 * The probe writes each record with one system call instruction of its own
 * (grader/probe/probe.c, probe_sys_write), reached by a direct call from the
 * probe's code. At a write into the probe's descriptor the kernel gives the
 * instruction pointer (just past the instruction) and the stack pointer; the
 * write is the probe's when that instruction lies in the probe library's
 * executable mapping (read from /proc/TID/maps now: a program cannot have
 * moved it since) and, on x86_64, the return address on the stack is right
 * after a call of probe_sys_write in that same code. Anything else (libc's
 * write(), syscall(), inline assembly, a jump into the probe's code from
 * the program's) is the program's own code writing records. */

/* bytes bytes of task tid's memory at addr into out; false if unreadable. */
static bool peek_bytes(pid_t tid, uintptr_t addr, void *out, size_t bytes)
{
    struct iovec local = {out, bytes}, remote = {(void *)addr, bytes};
    return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)bytes;
}

/* The probe's code as the kernel maps it in task tid: its read-only executable mappings of the probe's
 * library, as [lo, hi) and the file offset they show; how many (at most max). A mapping of it that is
 * or was writable (rwxp, or private pages written to) is not the probe's code: see probe_text_intact. */
struct span {
    uintptr_t lo, hi;
    unsigned long long off;
};

static size_t probe_text(pid_t tid, struct span *out, size_t max)
{
    static char buf[1 << 16];
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t len = 0, n = 0, plen = strlen(probe_real);
    ssize_t got;
    while (len < sizeof buf - 1 && ((got = read(fd, buf + len, sizeof buf - 1 - len)) > 0 || (got < 0 && errno == EINTR)))
        len += got > 0 ? (size_t)got : 0;
    close(fd);
    buf[len] = '\0';
    for (char *line = buf; line && *line && n < max; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        unsigned long lo, hi;
        unsigned long long off;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &name_at) < 4 || !name_at)
            continue;
        const char *name = line + name_at;
        if (!strcmp(perms, "r-xp") && !strncmp(name, probe_real, plen) && (name[plen] == '\n' || !name[plen]))
            out[n++] = (struct span){lo, hi, off};
    }
    return n;
}

/* The span of s[0..n) holding addr, or NULL. */
static const struct span *span_of(const struct span *s, size_t n, uintptr_t addr)
{
    for (size_t i = 0; i < n; i++)
        if (addr >= s[i].lo && addr < s[i].hi)
            return &s[i];
    return NULL;
}

/* Whether the code in mapping sp of task tid is byte for byte the probe library's file (the probe's
 * code has no relocations in it): a program that mapped the file writable, changed its code and made it
 * executable again has a mapping of the right name with other code in it. */
static bool probe_text_intact(pid_t tid, const struct span *sp)
{
    static unsigned char *file;
    static size_t file_len;
    static bool loaded;
    if (!loaded) {
        loaded = true;
        int fd = open(probe_real, O_RDONLY | O_CLOEXEC);
        size_t cap = 0;
        ssize_t got;
        while (fd >= 0 && file_len < (16u << 20)) {
            if (file_len == cap)
                file = xrealloc(file, cap = cap ? cap * 2 : 1 << 16);
            got = read(fd, file + file_len, cap - file_len);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break;
            file_len += (size_t)got;
        }
        if (fd >= 0)
            close(fd);
    }
    if (sp->off >= file_len)
        return false;
    size_t len = sp->hi - sp->lo;
    if (len > file_len - sp->off)
        len = file_len - sp->off;
    static unsigned char mem[1 << 20];
    for (size_t done = 0; done < len;) {
        size_t part = len - done < sizeof mem ? len - done : sizeof mem;
        if (!peek_bytes(tid, sp->lo + done, mem, part) || memcmp(mem, file + sp->off + done, part))
            return false;
        done += part;
    }
    return true;
}

enum { PF_OUTSIDE, PF_NOT_PROBE_CALL, PF_OTHER_CALL, PF_REOPENED, PF_PASSED, PF_EXEC_MEMORY };

/* Whether mmap/mprotect/pkey_mprotect/shmat si (asking for executable memory) is a library's code
 * being loaded: a private, read-only mapping of a file owned by root that no one else may write
 * (the dynamic loader's). Anything else (anonymous or writable memory, a file of the program's, a
 * memfd, SysV shared memory, memory made executable afterwards) is code the program made itself,
 * which could write "the probe's" records from any address it likes. */
static bool exec_memory_ok(pid_t tid, const struct __ptrace_syscall_info *si)
{
    if ((long)si->seccomp.nr != SYS_mmap)
        return false;
    unsigned long prot = si->seccomp.args[2], flags = si->seccomp.args[3];
    if ((prot & PROT_WRITE) || (flags & MAP_ANONYMOUS) || (flags & MAP_TYPE) != MAP_PRIVATE)
        return false;
    char path[64], file[4096];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)tid, (int)si->seccomp.args[4]);
    ssize_t n = readlink(path, file, sizeof file - 1);
    struct stat st;
    if (n <= 0 || file[0] != '/' || stat(path, &st) < 0)
        return false;
    file[n] = '\0';
    if (probe_real[0] && !strcmp(file, probe_real))
        return true; /* the probe's own (a grader not root owns it) */
    return st.st_uid == 0 && !(st.st_mode & 022) && S_ISREG(st.st_mode);
}

/* Whether the write si (nr SYS_write into the probe's descriptor) of task tid is the probe's own;
 * if not, *why (PF_*). */
static bool probe_write_genuine(pid_t tid, const struct __ptrace_syscall_info *si, int *why)
{
    uintptr_t ip = (uintptr_t)si->instruction_pointer;
    *why = PF_OTHER_CALL;
    if ((long)si->seccomp.nr != SYS_write)
        return false; /* the probe only ever calls write */
#if defined(__x86_64__)
    static const unsigned char code[7] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05}; /* movl $1,%eax; syscall */
#elif defined(__aarch64__)
    static const unsigned char code[8] = {0x08, 0x08, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4}; /* mov x8,#64; svc #0 */
#endif
    unsigned char at[sizeof code];
    uintptr_t entry = ip - sizeof code; /* probe_sys_write */
    struct span text[4];
    size_t ntext = probe_text(tid, text, ARRAY_LEN(text));
    const struct span *sp = span_of(text, ntext, entry);
    *why = PF_OUTSIDE;
    if (!sp || !probe_text_intact(tid, sp))
        return false;
    *why = PF_NOT_PROBE_CALL;
    if (!peek_bytes(tid, entry, at, sizeof at) || memcmp(at, code, sizeof code))
        return false;
#if defined(__x86_64__)
    /* At the syscall, probe_sys_write has pushed nothing: its return address is on top of the stack. */
    uint64_t ret;
    unsigned char call[5];
    int32_t rel;
    if (!peek_bytes(tid, (uintptr_t)si->stack_pointer, &ret, sizeof ret) || span_of(text, ntext, ret - 5) != sp ||
        !peek_bytes(tid, ret - 5, call, sizeof call) || call[0] != 0xe8)
        return false;
    memcpy(&rel, call + 1, sizeof rel);
    if (ret + (uint64_t)(int64_t)rel != entry)
        return false;
#endif
    return true;
}

/* Whether sendmsg/sendmmsg si passes the probe's descriptor (SCM_RIGHTS) in any of its first messages. */
static bool passes_probe_fd(pid_t tid, const struct __ptrace_syscall_info *si)
{
    bool many = (long)si->seccomp.nr == SYS_sendmmsg;
    size_t nmsg = many ? (size_t)si->seccomp.args[2] : 1;
    for (size_t m = 0; m < nmsg && m < 16; m++) {
        struct msghdr h;
        uintptr_t at = (uintptr_t)si->seccomp.args[1] + m * (many ? sizeof(struct mmsghdr) : sizeof h);
        if (!peek_bytes(tid, at, &h, sizeof h) || !h.msg_control || h.msg_controllen < CMSG_LEN(sizeof(int)))
            continue;
        unsigned char ctl[1024] __attribute__((aligned(8)));
        size_t len = h.msg_controllen < sizeof ctl ? h.msg_controllen : sizeof ctl;
        if (!peek_bytes(tid, (uintptr_t)h.msg_control, ctl, len))
            continue;
        h.msg_control = ctl;
        h.msg_controllen = len;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
                continue;
            size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < nfd && (unsigned char *)CMSG_DATA(c) + (i + 1) * sizeof(int) <= ctl + len; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (fd == PROBE_FD)
                    return true;
            }
        }
    }
    return false;
}

/* Whether descriptor fd of task tid is the probe's pipe (another open file of it: /proc/self/fd/N). */
static bool is_probe_pipe(pid_t tid, long fd)
{
    char a[64], b[64], la[64], lb[64];
    snprintf(a, sizeof a, "/proc/%d/fd/%ld", (int)tid, fd);
    snprintf(b, sizeof b, "/proc/%d/fd/%d", (int)tid, PROBE_FD);
    ssize_t na = readlink(a, la, sizeof la - 1), nb = readlink(b, lb, sizeof lb - 1);
    return na > 0 && na == nb && !memcmp(la, lb, (size_t)na) && !strncmp(la, "pipe:", 5);
}

/* The inode of the pipe behind descriptor fd of task tid, or 0 if it is not a pipe. */
static int64_t pipe_inode(pid_t tid, long fd)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)tid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return 0;
    link[n] = '\0';
    unsigned long long ino;
    return sscanf(link, "pipe:[%llu]", &ino) == 1 ? (int64_t)ino : 0;
}

/* What a write() of count bytes at addr in task tid says, as one number: 4 or 8
 * bytes as a native int32/int64, or up to 24 bytes of decimal text (a
 * newline or spaces around it); PIPE_VALUE_UNKNOWN for anything else. */
static int64_t written_value(pid_t tid, uintptr_t addr, size_t count)
{
    unsigned char buf[32] = {0};
    if (count == 0 || count > 24)
        return PIPE_VALUE_UNKNOWN;
    for (size_t off = 0; off < count; off += sizeof(long)) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + off), 0);
        if (errno)
            return PIPE_VALUE_UNKNOWN;
        memcpy(buf + off, &word, sizeof word);
    }
    if (count == 8) {
        int64_t v;
        memcpy(&v, buf, 8);
        return v;
    }
    if (count == 4) {
        int32_t v;
        memcpy(&v, buf, 4);
        return v;
    }
    size_t i = 0;
    while (i < count && buf[i] == ' ')
        i++;
    int64_t v = 0;
    size_t digits = 0;
    for (; i < count && buf[i] >= '0' && buf[i] <= '9' && digits < 18; i++, digits++)
        v = v * 10 + (buf[i] - '0');
    while (i < count && (buf[i] == ' ' || buf[i] == '\n'))
        i++;
    return digits > 0 && i == count ? v : PIPE_VALUE_UNKNOWN;
}

/* Whether the main process holds the read end of pipe inode ino (a descriptor
 * on it opened for reading: /proc/PID/fd and fdinfo's flags). */
static bool main_reads_pipe(int64_t ino)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)traced_main);
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    while (d && !found && (e = readdir(d))) {
        char path[320], link[64], info[320], buf[256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        unsigned long long i;
        if (sscanf(link, "pipe:[%llu]", &i) != 1 || (int64_t)i != ino)
            continue;
        snprintf(info, sizeof info, "/proc/%d/fdinfo/%s", (int)traced_main, e->d_name);
        int fd = open(info, O_RDONLY | O_CLOEXEC);
        ssize_t m = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (m <= 0)
            continue;
        buf[m] = '\0';
        const char *f = strstr(buf, "flags:");
        found = f && (strtol(f + 6, NULL, 8) & O_ACCMODE) == O_RDONLY;
    }
    if (d)
        closedir(d);
    return found;
}

/* --- Unread pipes (lab 2) -------------------------------------------------------
 * A parent that holds the read end of its children's pipe but never reads it,
 * and prints a total it computed itself, leaves their bytes in the pipe. The
 * tracer adds up what the other processes write into each pipe (write() only:
 * writev's size is not read), and, when the main process closes its last
 * descriptor on such a pipe (close() stops in lab 2: a few per process) or
 * ends (its descriptors still open), asks the pipe how much is still in it
 * (FIONREAD on a fresh descriptor opened through /proc/PID/fd). Every byte
 * still there: nobody read it, one SK_PIPE_READ record. (Reads are not
 * traced: a parent that busy-polls a non-blocking pipe would stop millions of
 * times.) */

#define MAX_SENT_PIPES 64
struct sent_pipe {
    int64_t ino, bytes;
    bool unknown; /* a writev: its size was not read */
    bool reported;
};
static struct sent_pipe sent[MAX_SENT_PIPES];
static size_t nsent;

static void note_sent(pid_t w, int64_t ino, long nr, uint64_t count)
{
    if (w == traced_main || ino <= 0)
        return;
    size_t i = 0;
    while (i < nsent && sent[i].ino != ino)
        i++;
    if (i == nsent) {
        if (nsent == MAX_SENT_PIPES)
            return;
        sent[nsent++] = (struct sent_pipe){.ino = ino};
    }
    if (nr == SYS_write)
        sent[i].bytes += (int64_t)count;
    else
        sent[i].unknown = true;
}

/* Bytes waiting in pipe inode ino, through a descriptor of the main process other than
 * skip_fd; -1: it holds none. */
static int64_t pipe_unread(int64_t ino, int skip_fd)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)traced_main);
    DIR *d = opendir(dir);
    struct dirent *e;
    int64_t unread = -1;
    while (d && unread < 0 && (e = readdir(d))) {
        char path[320], link[64];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        unsigned long long i;
        if (sscanf(link, "pipe:[%llu]", &i) != 1 || (int64_t)i != ino || atoi(e->d_name) == skip_fd)
            continue;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a new reader; nothing is read */
        int bytes = 0;
        if (fd >= 0 && ioctl(fd, FIONREAD, &bytes) == 0)
            unread = bytes;
        if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
    return unread;
}

static void unread_record(struct sent_pipe *sp, int64_t unread, int64_t now)
{
    if (sp->unknown || sp->bytes <= 0 || sp->reported || unread < sp->bytes)
        return;
    emit(&(struct trace_rec){.kind = TR_CALL, .t = now, .t2 = now, .tid = traced_main, .other = SK_PIPE_READ,
                             .a = {sp->ino, unread, -1}});
    sp->reported = true;
}

/* The main process ends (its descriptors still open): every pipe the others wrote into. */
static void report_unread(int64_t now)
{
    for (size_t i = 0; i < nsent; i++)
        unread_record(&sent[i], pipe_unread(sent[i].ino, -1), now);
}

/* The main process closes fd (the close not yet done): if it is its last descriptor on a pipe
 * the others wrote into, what is left in it now is never read. */
static void report_unread_close(int fd, int64_t now)
{
    int64_t ino = pipe_inode(traced_main, fd);
    for (size_t i = 0; ino > 0 && i < nsent; i++)
        if (sent[i].ino == ino && pipe_unread(ino, fd) < 0)
            unread_record(&sent[i], pipe_unread(ino, -1), now);
}

/* --- The stall test (trace_stall) ------------------------------------------------
 * A lock-free increment never makes one thread wait for another: stop one
 * counting thread anywhere and the other still finishes. With a lock of the
 * program's own (a spinlock, a CAS loop, a futex), a thread stopped while it
 * holds the lock keeps the other from finishing: it spins (its CPU grows) or
 * sleeps. Judged from the watched thread's CPU and its schedstat run delay,
 * not from wall time: a thread waiting for a CPU is not the program's fault. */

enum { ST_OFF, ST_WAITING, ST_STOPPING, ST_STOPPED, ST_DONE };
#define STALL_PROBES 32          /* short stops at most (each when the watched thread was seen asleep) */
#define STALL_PROBE_CPU 2000000  /* ns of CPU the watched thread uses in a short stop: it counts again */
#define STALL_RESTOPS 6          /* stops given up at most because the first was in a library (0.25 s each) */
static struct {
    int phase;
    int64_t at, budget, sleep, wall; /* ns */
    pid_t stopped, watched;          /* the first and second thread of the main process */
    int64_t ready_cpu;               /* the first's CPU ns when both had used at: 0 not yet */
    bool probe;                      /* this stop is a short one: the watched thread was asleep */
    int probes;                      /* short stops so far */
    int64_t t_stop, cpu0, delay0, stopped_cpu;
    bool in_exe;                     /* the stopped thread was stopped in the executable's code */
    int restops;                     /* stops given up: the first was in a library, the other asleep on its lock */
    unsigned long long thread_pointer; /* the stopped thread's (x86-64 fs base): a stdio lock's owner */
    bool swap;                       /* the second worker is the one stopped */
    bool processes;                  /* the workers are the first process's children, not its threads */
    bool continuous;                 /* a sleep counts only in one stretch */
    int64_t last_cpu, last_delay, active_t; /* the watched one's figures when last seen to change, and when */
    int64_t watch_at;                /* ns of CPU the watched thread must have used first */
} stall;
static volatile sig_atomic_t stall_due;

void trace_stall(const struct stall_plan *sp)
{
    stall.swap = sp->swap;
    stall.processes = sp->processes;
    stall.continuous = sp->continuous;
    stall.phase = sp->at > 0 ? ST_WAITING : ST_OFF;
    stall.at = (int64_t)(sp->at * 1e9);
    stall.watch_at = (int64_t)((sp->watch_at > 0 ? sp->watch_at : sp->at) * 1e9);
    stall.budget = (int64_t)(sp->budget * 1e9);
    stall.sleep = (int64_t)(sp->sleep * 1e9);
    stall.wall = (int64_t)(sp->wall * 1e9);
}

static void stall_alarm(int sig)
{
    (void)sig;
    stall_due = 1;
}

/* Every 2 ms while the test is on: the tracer's wait4 returns EINTR, the loop ticks. */
static void stall_timer(bool on)
{
    if (on) {
        struct sigaction sa = {.sa_handler = stall_alarm}; /* no SA_RESTART: wait4 must return */
        sigaction(SIGALRM, &sa, NULL);
    }
    struct itimerval it = {{0, on ? 2000 : 0}, {0, on ? 2000 : 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void stall_end(enum stall_outcome outcome, int64_t now, int64_t cpu, int64_t delay)
{
    if (stall.phase == ST_OFF || stall.phase == ST_DONE)
        return;
    if (stall.phase == ST_STOPPED)
        ptrace(PTRACE_CONT, stall.stopped, 0, 0); /* let it finish its count: the run ends as it would have */
    /* ST_STOPPING: its stop is still to come; the loop continues it then (a new task's stop). */
    emit(&(struct trace_rec){.kind = TR_STALL, .t = stall.t_stop, .t2 = now, .tid = stall.watched,
                             .tgid = stall.stopped, .other = (int32_t)outcome | stall.probes << 8,
                             .a = {cpu, delay, stall.stopped_cpu, stall.phase == ST_STOPPED ? stall.cpu0 : 0}});
    stall.phase = ST_DONE;
    stall_timer(false);
}

/* A new task tid (of process tgid) made by task by: the main process's first two threads
 * are the test's, or with stall.processes the first two processes it forks. */
static void stall_note_task(pid_t main_pid, pid_t tid, long tgid, pid_t by, int64_t now)
{
    if (stall.phase == ST_STOPPED && by == stall.watched) {
        /* A worker of a right program makes no task while it counts: this one hands its wait on
         * (to a task the test does not watch) instead of counting on. */
        int64_t c = -1, d = -1;
        schedstat_of(stall.watched, &c, &d);
        stall_end(STALL_HANDED, now, c >= 0 ? c - stall.cpu0 : 0, d >= 0 ? d - stall.delay0 : 0);
        return;
    }
    if (stall.phase != ST_WAITING || tid == main_pid)
        return;
    if (stall.processes ? (by != main_pid || tgid != tid) : tgid != main_pid)
        return;
    pid_t *first = stall.swap ? &stall.watched : &stall.stopped, *second = stall.swap ? &stall.stopped : &stall.watched;
    if (!*first)
        *first = tid;
    else if (!*second)
        *second = tid;
}

/* Whether task tid is asleep (state S in /proc/TID/stat: blocked in a call, a futex wait). */
static bool task_asleep(pid_t tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    return paren && paren[1] == ' ' && paren[2] == 'S';
}

/* Whether address addr of task tid is the program's own: kind 'x' its executable's code, 'd' its
 * executable's code or data, or its heap. */
static bool in_own_memory(pid_t tid, unsigned long long addr, char kind)
{
    char path[64], exe[PATH_MAX], line[PATH_MAX + 128];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)tid);
    ssize_t len = readlink(path, exe, sizeof exe - 1);
    if (len <= 0)
        return false;
    exe[len] = '\0';
    snprintf(path, sizeof path, "/proc/%d/maps", (int)tid);
    FILE *f = fopen(path, "re");
    bool own = false;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perms[8] = "";
        int at = 0;
        if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &lo, &hi, perms, &at) < 3 || addr < lo || addr >= hi)
            continue;
        line[strcspn(line, "\n")] = '\0';
        const char *file = at > 0 ? line + at : "";
        bool exe_map = !strcmp(file, exe);
        own = exe_map && (kind == 'd' || strchr(perms, 'x'));
        if (kind == 'd' && !strcmp(file, "[heap]"))
            own = true;
        break;
    }
    if (f)
        fclose(f);
    return own;
}

/* Whether task tid sleeps waiting for a lock of the program's own. A futex in its executable's
 * data or heap: always (a lock the program made). When the stopped thread was in the program's
 * own code (stopped_in_exe), it held none of the C library's internal locks (they are held only
 * inside the library: a malloc arena's lock, in anonymous memory, once kept a thread asleep while
 * the other was stopped inside malloc), so then any futex counts (its own lock anywhere, or a
 * library lock it chose to hold: flockfile), and so does a wait on a pipe, a semaphore, a file
 * lock. No evidence against it: a stop inside a library (the engine stops again), or a call that
 * is no wait for another thread (a stop of the tracer's own: a thread that ended and writes its
 * probe record, which a make test run caught "asleep"). */
static bool held_by_stopped(unsigned long long addr);

static bool sleeps_in_own_lock(pid_t tid, bool stopped_in_exe)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    long nr;
    unsigned long long addr;
    if (sscanf(buf, "%ld %llx", &nr, &addr) != 2)
        return false;
    if (nr == SYS_futex)
        return in_own_memory(tid, addr, 'd') || stopped_in_exe || held_by_stopped(addr);
    /* A lock made of something else (a pipe or eventfd token, a System V semaphore or message, a
     * file lock), waited for while the stopped thread was in the program's own code: only another
     * thread of the program could have released it. */
    switch (nr) {
    case SYS_read: case SYS_readv: case SYS_pread64: case SYS_recvfrom: case SYS_recvmsg:
    case SYS_semop: case SYS_semtimedop: case SYS_msgrcv: case SYS_flock: case SYS_fcntl:
    case SYS_ppoll: case SYS_pselect6: case SYS_epoll_pwait: case SYS_rt_sigtimedwait:
    case SYS_clock_nanosleep: case SYS_nanosleep: /* a spinlock that backs off asleep */
    case SYS_futex_waitv: /* futexes by the array: wherever they are, only another thread wakes them */
#ifdef SYS_poll
    case SYS_poll: case SYS_select: case SYS_epoll_wait: case SYS_pause:
#endif
        return stopped_in_exe;
    default:
        return false;
    }
}

/* Whether the lock whose futex word is at addr names the stopped thread as its owner, wherever
 * that thread was stopped: a pthread mutex keeps its owner's tid 8 bytes in, a stdio stream's
 * lock its owner's thread pointer (a program that makes fputc on a stream of its own its lock).
 * A malloc arena's lock names no owner. */
static bool held_by_stopped(unsigned long long addr)
{
    unsigned char word[16];
    if (!peek_bytes(stall.stopped, (uintptr_t)addr, word, sizeof word))
        return false;
    int32_t owner_tid;
    uint64_t owner_tp;
    memcpy(&owner_tid, word + 8, sizeof owner_tid);
    memcpy(&owner_tp, word + 8, sizeof owner_tp);
    return owner_tid == stall.stopped || (stall.thread_pointer && owner_tp == stall.thread_pointer);
}

/* Whether stopped task tid was stopped in its executable's code (not in a library's). */
static bool stopped_in_own_code(pid_t tid, unsigned long long *thread_pointer)
{
    *thread_pointer = 0;
#if defined(__x86_64__) || defined(__aarch64__)
    struct user_regs_struct regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0)
        return false;
#if defined(__x86_64__)
    unsigned long long ip = regs.rip;
    *thread_pointer = regs.fs_base;
#else
    unsigned long long ip = regs.pc;
#endif
    return in_own_memory(tid, ip, 'x');
#else
    (void)tid;
    return false;
#endif
}

static void stall_tick(int64_t now)
{
    stall_due = 0;
    int64_t c1 = -1, d1 = -1, c2 = -1, d2 = -1;
    if (stall.phase == ST_WAITING && stall.watched && stall.stopped) {
        schedstat_of(stall.stopped, &c1, &d1);
        schedstat_of(stall.watched, &c2, &d2);
        if (c1 < 0 || c2 < 0) {
            stall_end(STALL_LATE, now, 0, 0);
        } else if (c1 >= stall.at && c2 >= stall.watch_at && !stall.ready_cpu) {
            stall.ready_cpu = c1;
        }
        /* Both are counting. A counting thread that sleeps waits for a lock the other holds (or
         * to be woken by it once released): each tick it is seen asleep, a short stop of the
         * first (if the watched one then sleeps on, it waited; if it counts again, the first
         * goes on: STALL_PROBES such tries). The long stop comes once the first has used half
         * as much CPU again: a random point of its count. */
        bool due = stall.phase == ST_WAITING && stall.ready_cpu && c1 >= stall.ready_cpu + stall.at / 2;
        bool asleep = stall.phase == ST_WAITING && stall.ready_cpu && !due && stall.probes < STALL_PROBES &&
                      task_asleep(stall.watched);
        if (due || asleep) {
            stall.probe = asleep;
            if (ptrace(PTRACE_INTERRUPT, stall.stopped, 0, 0) < 0)
                stall_end(STALL_FAILED, now, 0, 0);
            else
                stall.phase = ST_STOPPING;
        }
    } else if (stall.phase == ST_STOPPED) {
        schedstat_of(stall.watched, &c2, &d2);
        if (c2 < 0)
            return; /* gone: its exit event ends the test */
        int64_t cpu = c2 - stall.cpu0, delay = d2 - stall.delay0, elapsed = now - stall.t_stop;
        if (c2 != stall.last_cpu || d2 != stall.last_delay) {
            stall.last_cpu = c2;
            stall.last_delay = d2;
            stall.active_t = now;
        }
        /* Asleep: so long off the CPUs in all, or (stall.continuous) in one stretch, so that a
         * waiter that naps and spins by turns is no sleeper. */
        int64_t asleep = stall.continuous ? now - stall.active_t : elapsed - cpu - delay;
        if (cpu >= stall.budget)
            stall_end(STALL_SPUN, now, cpu, delay);
        else if (asleep >= stall.sleep && sleeps_in_own_lock(stall.watched, stall.in_exe))
            stall_end(STALL_SLEPT, now, cpu, delay);
        else if (asleep >= stall.sleep && !stall.in_exe && stall.restops < STALL_RESTOPS) {
            /* Stopped inside a library, the other asleep on something of a library's (a malloc
             * arena's lock, the stdout lock printf holds): that tells nothing. Let it go on and
             * stop it again later (the next tick for the long stop, the next time the other is
             * seen asleep for a short one). */
            ptrace(PTRACE_CONT, stall.stopped, 0, 0);
            stall.phase = ST_WAITING;
            stall.restops++;
            if (stall.probe)
                stall.probes++;
        } else if (asleep >= stall.sleep)
            stall_end(STALL_LIBRARY, now, cpu, delay);
        else if (elapsed >= stall.wall)
            stall_end(STALL_CUT, now, cpu, delay);
        else if (stall.probe && cpu >= STALL_PROBE_CPU) {
            /* It counts again with the first stopped: that one held no lock then. Let it go on. */
            ptrace(PTRACE_CONT, stall.stopped, 0, 0);
            stall.phase = ST_WAITING;
            stall.probes++;
        }
    }
}

/* A stop of task w: true if it is the test's (the thread stays stopped; the loop must not continue it). */
static bool stall_took_stop(pid_t w, int sig, int64_t now)
{
    if (stall.phase != ST_STOPPING || w != stall.stopped || sig != SIGTRAP)
        return false;
    stall.phase = ST_STOPPED;
    stall.t_stop = now;
    int64_t d = 0;
    schedstat_of(stall.stopped, &stall.stopped_cpu, &d);
    stall.in_exe = stopped_in_own_code(stall.stopped, &stall.thread_pointer);
    schedstat_of(stall.watched, &stall.cpu0, &stall.delay0);
    stall.last_cpu = stall.cpu0;
    stall.last_delay = stall.delay0;
    stall.active_t = now;
    return true;
}

/* Task w is ending (PTRACE_EVENT_EXIT; on, waited: its schedstat). */
static void stall_note_exit(pid_t w, int64_t on, int64_t waited, int64_t now)
{
    if (stall.phase == ST_OFF || stall.phase == ST_DONE)
        return;
    if (stall.phase == ST_STOPPED && w == stall.watched)
        stall_end(STALL_FINISHED, now, on >= 0 ? on - stall.cpu0 : 0, waited >= 0 ? waited - stall.delay0 : 0);
    else if (w == stall.stopped || w == stall.watched)
        stall_end(STALL_LATE, now, 0, 0); /* before both had counted (or the program ended) */
}

_Noreturn void trace_program(int fd, void (*child)(void *arg, int sync_fd), void *arg, const int *close_fds,
                             size_t nclose)
{
    out_fd = fd;
    build_filter();
    pid_t grader = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != grader)
        _exit(1);
    int sync[2];
    if (pipe2(sync, O_CLOEXEC) < 0)
        _exit(1);
    pid_t pid = fork();
    if (pid < 0)
        _exit(1);
    traced_main = pid;
    if (pid == 0) {
        close(sync[1]);
        child(arg, sync[0]); /* does not return */
        _exit(127);
    }
    close(sync[0]);
    /* Every stop waits for the tracer to run: on a crowded machine it should come first
     * (root only; after the fork, so the program keeps its own priority). */
    (void)setpriority(PRIO_PROCESS, 0, -10);
    for (size_t i = 0; i < nclose; i++)
        if (close_fds[i] >= 0)
            close(close_fds[i]); /* the program's ends of its pipes: EOF must come when it ends */
    int opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
               PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
    int64_t t0 = mono_ns();
    long seized = ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)opts);
    int why = seized < 0 ? errno : 0;
    emit(&(struct trace_rec){.kind = TR_INFO, .t = t0, .tid = pid, .a = {why, why ? TI_NO_PTRACE : TI_SEIZED}});
    if (!why)
        emit(&(struct trace_rec){.kind = TR_START, .t = t0, .tid = pid, .tgid = pid});
    flush_out();
    (void)!write(sync[1], why ? "N" : "Y", 1);
    close(sync[1]);
    if (!why)
        ttask(pid);
    if (why)
        stall.phase = ST_OFF;
    if (stall.phase == ST_WAITING)
        stall_timer(true);
    int64_t main_delay = -1;
    bool main_exec_seen = false;
    long stops = 0; /* what the program paid: each stop is two context switches and our work */
    for (;;) {
        int st;
        struct rusage ru;
        if (stall_due)
            stall_tick(mono_ns());
        pid_t w = wait4(-1, &st, __WALL | WNOHANG, &ru);
        if (w == 0) {
            flush_out();
            w = wait4(-1, &st, __WALL, &ru);
        }
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break; /* ECHILD: no tracee and no child left */
        }
        int64_t now = mono_ns();
        struct ttask *t = ttask(w);
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (!t->exit_sent)
                emit(&(struct trace_rec){.kind = TR_EXIT, .t = now, .tid = w, .a = {st}});
            end_task(t, now);
            if (w == pid) {
                if (main_delay < 0)
                    main_delay = run_delay_ns(pid);
                emit(&(struct trace_rec){.kind = TR_MAIN, .t = now, .t2 = main_delay, .tid = w,
                                         .a = {st, (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
                                               (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec}});
                flush_out();
            }
            continue;
        }
        if (!WIFSTOPPED(st))
            continue;
        stops++;
        int sig = WSTOPSIG(st), event = st >> 16;
        unsigned long msg = 0;
        if (sig == (SIGTRAP | 0x80)) {
            /* The return of a watched call (we asked with PTRACE_SYSCALL at its entry). */
            struct __ptrace_syscall_info si = {0}; /* valgrind cannot see the kernel fill it */
            if (t->in_open && ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) > 0 &&
                si.op == PTRACE_SYSCALL_INFO_EXIT) {
                /* An open that gave a new descriptor of the probe's pipe (/proc/self/fd/1023, /dev/fd/1023,
                 * a symlink to them, ...): whatever the path said, the result tells. */
                if (si.exit.rval >= 0 && si.exit.rval != PROBE_FD && !t->open_named_probe &&
                    is_probe_pipe(w, (long)si.exit.rval))
                    emit(&(struct trace_rec){.kind = TR_FORGED, .t = now, .tid = w,
                                             .a = {si.exit.rval, t->open_nr, PF_REOPENED}});
                t->in_open = false;
                ptrace(PTRACE_CONT, w, 0, 0);
                continue;
            }
            t->in_open = false;
            if (t->in_call && ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) > 0 &&
                si.op == PTRACE_SYSCALL_INFO_EXIT) {
                t->call.t2 = now;
                t->call.a[1] = si.exit.rval;
                /* waitid returns 0 whether or not it reaped: the child's pid is in its siginfo. */
                if (t->call.a[2] == SYS_waitid && si.exit.rval == 0) {
                    errno = 0;
                    long word = ptrace(PTRACE_PEEKDATA, w, (void *)(t->waitid_info + 16), 0);
                    t->call.a[1] = errno ? 0 : (int32_t)(word & 0xffffffff); /* si_pid, 0: nothing reaped */
                }
                if (t->counts[t->call.other] <= TRACE_KEEP)
                    emit(&t->call);
                t->in_call = false;
            }
            ptrace(PTRACE_CONT, w, 0, 0);
            continue;
        }
        switch (event) {
        case PTRACE_EVENT_SECCOMP: {
            struct __ptrace_syscall_info si = {0}; /* valgrind cannot see the kernel fill it */
            if (ptrace(PTRACE_GET_SYSCALL_INFO, w, sizeof si, &si) <= 0 || si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            long nr = (long)si.seccomp.nr;
            int fd_arg = -1;
            for (size_t i = 0; si.arch == THIS_ARCH && i < ARRAY_LEN(fd_writes); i++)
                if (fd_writes[i].nr == nr)
                    fd_arg = fd_writes[i].fd_arg;
            if (fd_arg >= 0 && probe_real[0] && (int)si.seccomp.args[fd_arg] == PROBE_FD) {
                int why;
                if (!probe_write_genuine(w, &si, &why))
                    emit(&(struct trace_rec){.kind = TR_FORGED, .t = now, .tid = w,
                                             .a = {(int64_t)si.instruction_pointer, nr, why}});
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            if (si.arch == THIS_ARCH && keep_probe_fd(w, &si)) {
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            if (si.arch == THIS_ARCH && (nr == SYS_mmap || nr == SYS_mprotect || nr == SYS_pkey_mprotect ||
                                         nr == SYS_shmat)) {
                if (!exec_memory_ok(w, &si))
                    emit(&(struct trace_rec){.kind = TR_FORGED, .t = now, .tid = w,
                                             .a = {(int64_t)si.instruction_pointer, nr, PF_EXEC_MEMORY}});
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            if (si.arch == THIS_ARCH && (nr == SYS_sendmsg || nr == SYS_sendmmsg)) {
                if (passes_probe_fd(w, &si))
                    emit(&(struct trace_rec){.kind = TR_FORGED, .t = now, .tid = w,
                                             .a = {(int64_t)si.instruction_pointer, nr, PF_PASSED}});
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            if (watch_pipes && si.arch == THIS_ARCH && (nr == SYS_write || nr == SYS_writev)) {
                int64_t ino = pipe_inode(w, (long)si.seccomp.args[0]);
                enum sys_kind pk = SK_PIPE_WRITE;
                int64_t value = PIPE_VALUE_UNKNOWN;
                if (ino && nr == SYS_write)
                    value = written_value(w, (uintptr_t)si.seccomp.args[1], (size_t)si.seccomp.args[2]);
                if (ino && !main_reads_pipe(ino))
                    ino = -ino; /* nobody in the main process can read it */
                note_sent(w, ino, nr, si.seccomp.args[2]);
                if (ino && ++t->counts[pk] <= TRACE_KEEP)
                    emit(&(struct trace_rec){.kind = TR_CALL, .t = now, .tid = w, .other = pk, .a = {ino, value, nr}});
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            if (watch_pipes && si.arch == THIS_ARCH && nr == SYS_close && (int)si.seccomp.args[0] != PROBE_FD) {
                if (w == traced_main)
                    report_unread_close((int)si.seccomp.args[0], now);
                ptrace(PTRACE_CONT, w, 0, 0);
                break;
            }
            bool opening = false;
            for (size_t i = 0; i < ARRAY_LEN(open_calls); i++)
                opening = opening || (long)si.seccomp.nr == open_calls[i];
            if (opening && si.arch == THIS_ARCH) {
                struct trace_rec r = {.kind = TR_PEEK, .t = now, .tid = w};
                probe_fd_seen = false;
                if (peek_of(w, &si, (char *)r.a))
                    emit(&r);
                if (probe_fd_seen && probe_real[0]) /* refused or not (the pipe is root's): it tried */
                    emit(&(struct trace_rec){.kind = TR_FORGED, .t = now, .tid = w, .a = {-1, nr, PF_REOPENED}});
                if (probe_real[0] && geteuid() != 0) {
                    /* Its result is checked at its return: a new descriptor of the probe's pipe? (Not when
                     * the grader is root: the pipe is root's, mode 0600, and the program never is.) */
                    t->in_open = true;
                    t->open_nr = nr;
                    t->open_named_probe = probe_fd_seen; /* (told already) */
                    ptrace(PTRACE_SYSCALL, w, 0, 0);
                } else {
                    ptrace(PTRACE_CONT, w, 0, 0);
                }
                break;
            }
            enum sys_kind k = kind_of(&si);
            t->counts[k]++;
            if (t->in_call && t->counts[t->call.other] <= TRACE_KEEP)
                emit(&t->call); /* a call whose return we missed (a restarted one) */
            t->call = (struct trace_rec){.kind = TR_CALL, .t = now, .tid = w, .other = k,
                                         .a = {(int64_t)si.seccomp.args[0], 0, (int64_t)si.seccomp.nr}};
            t->waitid_info = (uintptr_t)si.seccomp.args[2];
            if (k != SK_WAIT) {
                /* Only wait4/waitid's result is judged (which child was reaped, when): the
                 * others go on at once, one stop each, not two. */
                if (t->counts[k] <= TRACE_KEEP)
                    emit(&t->call);
                t->in_call = false;
                ptrace(PTRACE_CONT, w, 0, 0);
            } else {
                t->in_call = true;
                ptrace(PTRACE_SYSCALL, w, 0, 0);
            }
            break;
        }
        case PTRACE_EVENT_FORK:
        case PTRACE_EVENT_VFORK:
        case PTRACE_EVENT_CLONE:
            if (ptrace(PTRACE_GETEVENTMSG, w, 0, &msg) == 0) {
                pid_t kid = (pid_t)msg;
                long tgid = status_field(kid, "Tgid");
                emit(&(struct trace_rec){.kind = TR_START, .t = now, .tid = kid, .tgid = tgid > 0 ? (int)tgid : kid,
                                         .other = w});
                ttask(kid);
                stall_note_task(pid, kid, tgid, w, now);
            }
            ptrace(PTRACE_CONT, w, 0, 0);
            break;
        case PTRACE_EVENT_EXEC: {
            if (ptrace(PTRACE_GETEVENTMSG, w, 0, &msg) == 0 && (pid_t)msg != w) {
                /* A thread ran exec: it took the leader's tid; its own tid is gone. */
                for (size_t i = 0; i < ntasks; i++)
                    if (tasks[i].live && tasks[i].tid == (pid_t)msg)
                        end_task(&tasks[i], now);
            }
            struct trace_rec r = {.kind = TR_EXEC, .t = now, .tid = w};
            read_comm(w, r.a);
            emit(&r);
            if (w == pid && !main_exec_seen) {
                main_exec_seen = true;
                /* Our filter on top of any it inherited: one more than the tracer has (or, on
                 * kernels before 5.9 without the count, at least filter mode). */
                long mine = status_field(getpid(), "Seccomp_filters"), its = status_field(w, "Seccomp_filters");
                bool filtered = mine >= 0 && its >= 0 ? its > mine
                                                      : status_field(w, "Seccomp") == SECCOMP_MODE_FILTER;
                if (!filtered)
                    emit(&(struct trace_rec){.kind = TR_INFO, .t = now, .tid = pid, .a = {ENOSYS, TI_NO_SECCOMP}});
            }
            ptrace(PTRACE_CONT, w, 0, 0);
            break;
        }
        case PTRACE_EVENT_EXIT:
            /* Its end: before it wakes a pthread_join (CLONE_CHILD_CLEARTID comes later in exit). */
            if (ptrace(PTRACE_GETEVENTMSG, w, 0, &msg) == 0) {
                /* Its final CPU time, read while it still exists (the work of one worker). */
                int64_t on = -1, waited = -1;
                schedstat_of(w, &on, &waited);
                emit(&(struct trace_rec){.kind = TR_EXIT, .t = now, .tid = w, .a = {(int64_t)msg, on, waited}});
                t->exit_sent = true;
                stall_note_exit(w, on, waited, now);
            }
            if (w == pid)
                main_delay = run_delay_ns(pid);
            if (w == pid && watch_pipes)
                report_unread(now);
            ptrace(PTRACE_CONT, w, 0, 0);
            break;
        case PTRACE_EVENT_STOP:
            if (stall_took_stop(w, sig, now))
                break; /* stays stopped: the stall test watches the other thread */
            if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                ptrace(PTRACE_LISTEN, w, 0, 0); /* a group-stop: it stays stopped, as untraced */
            else
                ptrace(PTRACE_CONT, w, 0, 0);   /* a new task's first stop */
            break;
        case 0:
            ptrace(PTRACE_CONT, w, 0, (void *)(long)sig); /* deliver the signal it was to get */
            break;
        default:
            ptrace(PTRACE_CONT, w, 0, 0);
            break;
        }
    }
    stall_end(STALL_LATE, mono_ns(), 0, 0); /* still waiting when everything ended: no test */
    emit(&(struct trace_rec){.kind = TR_END, .t = mono_ns(), .a = {stops}});
    flush_out();
    _exit(0);
}

/* --- In the grader -------------------------------------------------------------- */

/* What a TR_FORGED record says, in one line (a static buffer). */
static const char *forged_evidence(const struct trace_rec *r)
{
    static char line[320];
    const char *call = r->a[1] == SYS_write ? "write" : r->a[1] == SYS_writev ? "writev"
                       : r->a[1] == SYS_sendmsg ? "sendmsg" : r->a[1] == SYS_sendmmsg ? "sendmmsg"
                       : r->a[1] == SYS_splice ? "splice" : r->a[1] == SYS_tee ? "tee"
                       : r->a[1] == SYS_vmsplice ? "vmsplice" : r->a[1] == SYS_sendfile ? "sendfile"
                       : r->a[1] == SYS_copy_file_range ? "copy_file_range" : r->a[1] == SYS_sendto ? "sendto"
                       : r->a[1] == SYS_openat ? "openat" : r->a[1] == SYS_mmap ? "mmap"
                       : r->a[1] == SYS_mprotect ? "mprotect" : r->a[1] == SYS_pkey_mprotect ? "pkey_mprotect"
                       : r->a[1] == SYS_shmat ? "shmat" : "another call";
    switch (r->a[2]) {
    case PF_OUTSIDE:
    case PF_NOT_PROBE_CALL:
        snprintf(line, sizeof line, "a record was written into the grader's probe pipe (fd %d) by the program's "
                 "own code%s at %#llx (task %d, %s; seen by the kernel): forged probe records", PROBE_FD,
                 r->a[2] == PF_NOT_PROBE_CALL ? ", which called into the probe's write" : "",
                 (unsigned long long)r->a[0], r->tid, call);
        break;
    case PF_OTHER_CALL:
        snprintf(line, sizeof line, "task %d wrote into the grader's probe pipe (fd %d) with %s at %#llx (seen by the "
                 "kernel; the probe only ever calls write): forged probe records", r->tid, PROBE_FD, call,
                 (unsigned long long)r->a[0]);
        break;
    case PF_REOPENED:
        if (r->a[0] < 0)
            snprintf(line, sizeof line, "task %d opened /proc/PID/fd/%d or /dev/fd/%d, the grader's probe pipe (seen "
                     "by the kernel): a way to write forged probe records", r->tid, PROBE_FD, PROBE_FD);
        else
            snprintf(line, sizeof line, "task %d opened the grader's probe pipe again, as fd %lld (seen by the "
                     "kernel): a way to write forged probe records", r->tid, (long long)r->a[0]);
        break;
    case PF_EXEC_MEMORY:
        snprintf(line, sizeof line, "task %d made memory executable with %s (seen by the kernel): code of the "
                 "program's own making (anonymous or writable memory, or a file it could write), which no lab "
                 "needs and which can forge the probe's records (a nested function needs an executable stack "
                 "too: write an ordinary function)", r->tid, call);
        break;
    default:
        snprintf(line, sizeof line, "task %d passed the grader's probe descriptor (fd %d) to another process with "
                 "%s (SCM_RIGHTS; seen by the kernel): a way to write forged probe records", r->tid, PROBE_FD, call);
        break;
    }
    return line;
}

size_t trace_take(struct observation *o, struct trace_state *st, const char *buf, size_t n, double t0)
{
    size_t used = 0;
    while (n - used >= sizeof(struct trace_rec)) {
        struct trace_rec r;
        memcpy(&r, buf + used, sizeof r);
        used += sizeof r;
        double t = (double)r.t / 1e9 - t0;
        struct task *k;
        switch (r.kind) {
        case TR_INFO:
            st->main_pid = r.tid;
            if (r.a[0] == 0) {
                o->traced = true;
            } else {
                o->traced = false;
                free(o->trace_off);
                o->trace_off = r.a[1] == TI_NO_SECCOMP
                                   ? xstrdup("seccomp filters are not allowed here, so the tracer cannot stop "
                                             "at the watched calls")
                                   : xasprintf("ptrace is not allowed here (%s), so the tracer cannot watch "
                                               "the program", strerror((int)r.a[0]));
            }
            break;
        case TR_START:
            k = obs_task(o, r.tid, true);
            k->tgid = r.tgid ? r.tgid : r.tid;
            k->parent = r.other;
            k->is_thread = k->tgid != r.tid;
            k->start = t;
            break;
        case TR_EXEC:
            k = obs_task(o, r.tid, true);
            k->execs++;
            memcpy(k->comm, r.a, 16);
            k->comm[16] = '\0';
            break;
        case TR_CALL:
            if (r.other < 0 || r.other >= SK_N)
                break;
            k = obs_task(o, r.tid, true);
            k->calls[r.other]++;
            if (r.other == SK_EXIT_GROUP && k->exit_group_t < 0)
                k->exit_group_t = t;
            if ((o->ncalls & (o->ncalls - 1)) == 0)
                o->calls = xrealloc(o->calls, (o->ncalls ? o->ncalls * 2 : 64) * sizeof *o->calls);
            o->calls[o->ncalls++] = (struct sys_call){.t = t, .t_end = r.t2 ? (double)r.t2 / 1e9 - t0 : -1,
                                                      .tid = r.tid, .tgid = k->tgid, .kind = (enum sys_kind)r.other,
                                                      .arg = (long)r.a[0], .ret = (long)r.a[1]};
            break;
        case TR_COUNT:
            if (r.other >= 0 && r.other < SK_N && (k = obs_task(o, r.tid, false)))
                k->calls[r.other] = r.a[0];
            break;
        case TR_EXIT:
            k = obs_task(o, r.tid, true);
            k->end = t;
            k->wait_status = (int)r.a[0];
            if (r.a[1] > 0)
                k->cpu = (double)r.a[1] / 1e9;
            break;
        case TR_MAIN:
            st->main_done = 1;
            st->main_status = (int)r.a[0];
            st->user = (double)r.a[1] / 1e6;
            st->sys = (double)r.a[2] / 1e6;
            st->run_delay = r.t2 >= 0 ? (double)r.t2 / 1e9 : -1;
            st->main_exit_t = t;
            break;
        case TR_PEEK:
            /* Only a program the grader built from C: under --exec an interpreter may read them. */
            if (o->probe_must_speak && !st->peek_told) {
                char name[17] = {0};
                memcpy(name, r.a, 16);
                obs_tamper(o, "read /proc/self/%s (seen by the kernel): how a program looks for the grader's "
                           "instruments, or for a task of its own the grader stopped, to behave well only under "
                           "them", name);
                st->peek_told = true;
            }
            break;
        case TR_FORGED:
            /* Any program, --exec too: nothing but the probe has a reason to write into its pipe. */
            if (st->forged_told++ < 3)
                obs_tamper(o, "%s", forged_evidence(&r));
            break;
        case TR_END:
            st->ended = 1;
            o->trace_stops = r.a[0];
            break;
        case TR_STALL:
            o->stall = (struct stall_test){
                .outcome = (r.other & 0xff) < STALL_N ? (enum stall_outcome)(r.other & 0xff) : STALL_NONE,
                .probes = r.other >> 8,
                .stopped_tid = r.tgid, .watched_tid = r.tid, .t = r.t ? t : -1, .t_end = (double)r.t2 / 1e9 - t0,
                .cpu = (double)r.a[0] / 1e9, .delay = (double)r.a[1] / 1e9, .stopped_cpu = (double)r.a[2] / 1e9,
                .watched_cpu = (double)r.a[3] / 1e9};
            break;
        }
    }
    return used;
}
