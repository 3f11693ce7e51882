/* hints.c - the hint catalogue. Each hint names the mistake, then the fix.
 * Keep them short: they are printed under a failing test.
 * See also: hints.h, handouts/hints.md.
 */
#include "hints.h"

#include <string.h>

const struct hint hint_catalogue[] = {
    /* Any lab */
    {"build-failed", "Fix the first compiler error shown above; later ones often follow from it."},
    {"not-built", "This test needs a program that builds; fix the build first."},
    {"cannot-start", "The program could not be started: check the command (with --exec, the "
                     "interpreter and the script's path)."},
    {"crash", "The program was killed by a signal: run it under gdb or valgrind to find the bad "
              "memory access."},
    {"exit-status", "A program that worked must return 0 from main (or call exit(0))."},
    {"time-limit", "The program never finished: a loop whose exit condition is never met, or a "
                   "wait for something that never comes."},
    {"fork-bomb", "The program kept creating processes: every fork() needs a check of its result and "
                  "a child that ends (_exit) instead of running the parent's loop."},
    {"output-flood", "The program printed without end: look for a loop that prints and never stops."},
    {"format", "Print exactly the lines of the contract, one per line, nothing else on stdout "
               "(use stderr for debugging)."},
    {"replayed-output", "The output does not follow this run's arguments: compute the lines from "
                        "argv, do not print a fixed example."},
    {"bad-args", "Check every argument (strtod/strtol with an end pointer, errno == ERANGE, sign); "
                 "on a bad one print a message to stderr and exit(2) before doing any work."},
    {"invalid-access", "valgrind saw memory used wrongly: read the first error's stack, from the top "
                       "frame in your file."},
    {"leak", "Memory was allocated and never freed: free what you malloc before returning."},
    {"integrity", "The program tampered with the grader (its probe, valgrind's log, the race detector) or "
                  "changes under it. Remove that code: the whole score is 0 while it is there."},
    {"fd-leak", "A descriptor stayed open: close every fd you open or create (pipes: both ends)."},
    /* Compiler warnings (shown under the build check) */
    {"implicit-declaration", "A function was called without a declaration: include its header (man 3 NAME "
                             "says which) and, for POSIX functions, the feature macro its man page names "
                             "(#define _POSIX_C_SOURCE 200809L before the first #include): -std=c11 hides them."},
    {"unused", "Something is declared but never used: a leftover, or a value you meant to use and did not."},
    {"uninitialized", "A variable may be read before it is given a value: its content is whatever was in "
                      "memory. Initialise it on every path."},
    {"format-string", "A printf format does not match its argument (%d for a long long needs %lld, %zu "
                      "for size_t): the value printed is garbage."},
    {"return-type", "A function can reach its end without returning a value: every path of a non-void "
                    "function must return one."},
    {"sign-compare", "A signed and an unsigned value are compared: -1 becomes a huge number. Make both the "
                     "same type (ssize_t for read()'s result)."},
    {"unused-result", "A result the library says must be used was ignored (realloc's new pointer; read, write "
                      "and pipe where the C library marks them): use it, check it and handle the error."},
    /* Lab 1: concurrency */
    {"sequential-wait", "Total time is about the SUM of the delays: the tasks ran one after another. "
                        "Wait for all of them in ONE select() loop: each turn, sleep until the "
                        "nearest deadline, then finish every task that is due."},
    {"busy-wait", "The program was busy (on a CPU, or ready and waiting for one) nearly the whole "
                  "time: it spins instead of sleeping. Give select() a timeout until the next deadline "
                  "so the process sleeps in the kernel."},
    {"wrong-wait-call", "The program waits with sleep/usleep/nanosleep (or threads/processes). The "
                        "lab's point is one thread waiting in select()/pselect() for the nearest "
                        "deadline."},
    {"no-select", "The program never waited in select()/pselect(): the event loop's one waiting call is "
                  "select() with a timeout until the nearest deadline."},
    {"timeout-not-rebuilt", "select() may change its timeout and fd_sets: rebuild both before every "
                            "call, from the deadline that is now nearest."},
    {"eintr", "select() can return -1 with errno == EINTR when a signal arrives: retry the loop, "
              "do not treat it as the end."},
    {"late-finish", "A task finished long after its deadline: compute each deadline once (start + "
                    "delay) and the timeout from the clock now, not by adding up past timeouts."},
    {"early-finish", "A task finished before its delay had passed: compare against a monotonic "
                     "clock (clock_gettime(CLOCK_MONOTONIC)) and never round a deadline down."},
    {"order-started", "Print every 'started' line before waiting for anything: the tasks all start "
                      "at once."},
    {"order-finished", "Tasks must finish in order of their delays: the shortest first."},
    {"wrong-total", "The 'Total time' line must be the wall time you measured, from the start to the "
                    "end, with two decimals."},
    /* Lab 2: processes */
    {"lines-after-total", "Lines came after the total: the parent printed before its children "
                          "finished. wait() (or waitpid()) for every child before the totals."},
    {"zombie", "A child was never reaped (a zombie): call wait()/waitpid() once per child."},
    {"orphan", "A child was still running when the parent exited: wait for every child."},
    {"fork-duplicates", "Lines appeared twice with stdout a pipe but once on a terminal: stdio "
                        "buffers were copied by fork(). fflush(stdout) before fork(), and end the "
                        "child with _exit() after fflush, or exit() once."},
    {"global-counter", "The total was 0: each child counted in its own copy of memory. Processes "
                       "share nothing: send the count back through a pipe."},
    {"sequential-fork", "The children ran one after another (wall ~ sum, or a wait before the next "
                        "fork): fork all children first, then wait for all of them."},
    {"loop-removed", "A child used almost no CPU time: the compiler removed the counting loop. "
                     "Count in a volatile variable."},
    {"not-parallel", "CPU/wall stayed near 1: the work did not run on two CPUs at once."},
    {"children-took-turns", "The children took turns at the count: with one stopped, another waited for it "
                            "(spinning or asleep on something they share). Each child counts on its own and "
                            "shares nothing with the others until it sends its count to the parent."},
    {"threads-not-processes", "The program created threads: this lab is about processes (fork)."},
    /* Lab 3: threads */
    {"lost-updates", "The total is short: increments were lost because two threads did "
                     "read-modify-write on the same counter at once. Protect it."},
    {"data-race", "A race detector saw two threads touch the same memory without synchronisation, "
                  "even if the total came out right this time."},
    {"volatile-not-atomic", "volatile does not make ++ atomic: it still loads, adds and stores. Use "
                            "a mutex or <stdatomic.h>."},
    {"lock-around-loop", "A lock held around the whole loop lets one thread run at a time (CPU/wall "
                         "near 1), and in mutex mode it is not what the mode asks: there, lock and unlock "
                         "around each increment. To be fast, count locally and add once (local mode)."},
    {"load-then-store", "Increments were lost in atomic mode: a load then a store is two steps "
                        "(x = x + 1 on an _Atomic is an atomic load, then an atomic store), and another "
                        "thread's increment between them is overwritten. Make it ONE read-modify-write: "
                        "atomic_fetch_add(&x, 1), or x++ / x += 1 on the _Atomic itself."},
    {"atomic-not-lock", "Atomic mode took a lock per increment: that is mutex mode again. One atomic "
                        "read-modify-write (atomic_fetch_add) needs no lock."},
    {"atomic-waited", "Atomic mode made one thread wait for another: the grader stopped one thread and the "
                      "other could not finish. A lock of your own (a spinlock on an atomic_flag, a "
                      "compare-and-swap loop, a futex) is still a lock; one atomic_fetch_add per increment "
                      "never waits for anyone."},
    {"atomic-per-increment", "Atomic mode was too fast for one atomic read-modify-write per increment: "
                             "each increment must be its own atomic_fetch_add(&total, 1) (or total++ on an "
                             "_Atomic). Adding a subtotal once is local mode, not atomic mode."},
    {"lock-tally-missing", "A thread ended without returning from its function (or calling pthread_exit), "
                           "so the grader could not see which locks it took. Let each thread function return."},
    {"lock-per-increment", "Local mode locked far more than once per thread: count in the thread's own "
                           "variable, then lock once to add the subtotal."},
    {"sequential-join", "Threads were joined before the next one was created: create all, then join all."},
    {"no-threads", "No threads were created: start NTHREADS threads with pthread_create."},
    {"processes-not-threads", "The program created processes: this lab is about threads (pthread_create)."},
    /* Lab 2, more */
    {"no-fork", "No child process was created: call fork() NPROCS times in the parent; each child "
                "does its part and ends with _exit()."},
    {"child-continues", "More processes than NPROCS were created: a child went on round the parent's "
                        "fork loop. End each child with _exit() right after its work."},
    {"partial-total", "The total is not NPROCS x ITERATIONS: each child must send exactly its own count, "
                      "and the parent must read one whole count per child (check read()'s return value) "
                      "and add them all."},
    {"no-pipe", "The total must be the sum the children sent: each child writes its count to the pipe "
                "(write_all), the parent reads one count per child (read_all) and adds them. A total "
                "computed from the arguments is not the children's work."},
    /* Lab 3, more */
    {"mode-missing", "This mode added nothing to the total: write it (see its TODO and the comment "
                     "above it), or check that its threads add to the same total main prints."},
    {"wrong-count", "The total is off, and no race explains it (too large, or short by the same one or two per "
                    "thread): each thread must do exactly ITERATIONS increments (check the loop's bounds), and "
                    "each local subtotal is added once."},
    {"total-before-join", "A thread's line came after the total: main printed before every thread was "
                          "joined. pthread_join every thread, then print the totals."},
    {"not-joined", "Not every thread was joined: call pthread_join once per thread created, before "
                   "using the total."},
    {"total-time", "'Total time' must be the wall time (clock_gettime(CLOCK_MONOTONIC)) from before "
                   "the first pthread_create to after the last pthread_join, not CPU time (clock())."},
    {"thread-loop-removed", "The threads used almost no CPU: at -O2 the compiler replaced the counting "
                            "loop by one addition. Count in a volatile local variable: it is the "
                            "thread's own, so volatile is all it needs."},
    /* Lab 4: an event loop for I/O, workers for CPU */
    {"protocol", "A request went unanswered or was refused: one reply line per request line, in the "
                 "contract's words; ERR only for a malformed request."},
    {"wrong-reply", "A valid request got the wrong reply: check the words, the numbers (64-bit sums) "
                    "and that each reply goes to the client that asked."},
    {"malformed-accepted", "A malformed request got a normal reply: check each word strictly (digits only, "
                           "the range, A < B, B - A), not with atoi or sscanf alone."},
    {"served-count", "Served R counts the replies fully written (ERR included) before the signal: add one "
                     "when the last byte of a reply is written."},
    {"slow-shutdown", "On SIGTERM, stop the loop at once (a self-pipe or signalfd it polls), tell the workers "
                      "to stop even mid-sum, join or reap them, and exit within 1 s."},
    {"sequential-server", "The clients were served one after another: the loop must poll every socket and "
                          "answer SLEEP from a timer (the poll timeout), never wait for one client."},
    {"blocked-loop", "A request got no reply while others waited: the loop was stuck on something "
                     "(a blocking read, a sleep, a computation)."},
    {"late-reply", "A SLEEP reply came late: take the poll timeout from the nearest deadline, and answer "
                   "every due timer after each wake-up."},
    {"early-reply", "A SLEEP reply came before its time: a timer's deadline is the time the request came "
                    "plus MS milliseconds, on the monotonic clock."},
    {"server-died", "After slow or vanished clients, the server no longer answered: ignore SIGPIPE (or send "
                    "with MSG_NOSIGNAL) and close a client on end of file or an error, nothing more."},
    {"partial-line", "A request that arrived in pieces was lost: keep a buffer per connection and handle a "
                     "line only once its '\\n' has arrived."},
    {"scale", "Not every one of 500 clients was answered: accept in a loop until EAGAIN, listen with a large "
              "backlog, and make room for 500+ descriptors."},
    {"fd-leak-loop", "Connections that closed left descriptors open: close(fd) and free the state on end of "
                     "file, on an error, and after a reply to a closed client."},
    {"compute-in-loop", "PING waited while COLLATZ jobs were queued: the loop computed (or waited for a "
                        "worker). Hand each job to the pool and go back to poll(); the result comes back "
                        "through a pipe the loop watches."},
    {"task-per-request", "Threads or processes were created after start-up: start WORKERS workers once and "
                         "queue the jobs for them, never a thread per request or per client."},
    {"too-few-workers", "Fewer workers computed than WORKERS: start exactly WORKERS workers, each taking "
                        "jobs from the one queue."},
    {"blocking-socket", "A thread was blocked reading or writing a client socket: make every socket "
                        "non-blocking and touch it only when poll() says it is ready."},
    {"io-thread-not-loop", "The thread that read and wrote the sockets never waited in select()/poll()/"
                           "epoll_wait() (a helper thread polled for it, or it waited for a signal): the event loop "
                           "is one thread that waits in poll() and does the socket I/O itself."},
    {"io-outside-loop", "Several threads read and wrote the sockets: one event-loop thread does all the "
                        "network I/O; workers only compute."},
    {"not-reaped", "Worker processes outlived the server or were never reaped: on shutdown, tell them to stop "
                   "and waitpid() each one."},
};
const size_t nhints = sizeof hint_catalogue / sizeof hint_catalogue[0];

const struct hint *hint_find(const char *id)
{
    for (size_t i = 0; id && i < nhints; i++)
        if (!strcmp(hint_catalogue[i].id, id))
            return &hint_catalogue[i];
    return NULL;
}
