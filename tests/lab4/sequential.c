/* sequential.c - lab 4, wrong: a sequential server. It accepts one client,
 * serves it with blocking reads until it leaves (SLEEP with nanosleep,
 * COLLATZ computed inline), then takes the next: every other client waits.
 * No workers, no event loop. SIGTERM interrupts the blocking call.
 *
 * Must fail: concurrency, slow, scale, responsive, structure, parallel (one client at a time, blocking calls).
 * Must pass: build, errors.
 *
 * See also: tests/check_lab4.c (the verdicts it must get).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t sum(uint64_t a, uint64_t b)
{
    uint64_t s = 0;
    for (uint64_t n = a; n < b && !stop; n++)
        for (uint64_t x = n; x != 1; s++)
            x = x % 2 ? 3 * x + 1 : x / 2;
    return s;
}

static int digits(const char *s, long long hi, long long *v)
{
    char *end;
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return 0;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && *v <= hi;
}

int main(int argc, char *argv[])
{
    long long port = 0, workers = 2;
    if (argc > 3 || (argc > 1 && !digits(argv[1], 65535, &port)) ||
        (argc > 2 && (!digits(argv[2], 64, &workers) || workers < 1))) {
        fprintf(stderr, "usage: server [PORT [WORKERS]]\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: accept/read return EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, SOMAXCONN) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
        perror("server");
        return 1;
    }
    printf("Listening on port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    unsigned long long served = 0;
    while (!stop) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        char buf[2048];
        size_t have = 0;
        while (!stop) {
            char *nl = memchr(buf, '\n', have);
            if (!nl) {
                if (have >= sizeof buf)
                    break;
                ssize_t n = read(fd, buf + have, sizeof buf - have);
                if (n <= 0)
                    break;
                have += (size_t)n;
                continue;
            }
            *nl = '\0';
            char out[160], w[4][64] = {{0}};
            long long x, y;
            int k = sscanf(buf, "%63s %63s %63s %63s", w[0], w[1], w[2], w[3]);
            if (k == 1 && !strcmp(w[0], "PING")) {
                snprintf(out, sizeof out, "PONG\n");
            } else if (k == 2 && !strcmp(w[0], "SLEEP") && digits(w[1], 60000, &x)) {
                struct timespec ts = {x / 1000, x % 1000 * 1000000};
                nanosleep(&ts, NULL);
                snprintf(out, sizeof out, "SLEPT %lld\n", x);
            } else if (k == 3 && !strcmp(w[0], "COLLATZ") && digits(w[1], 2000000000, &x) &&
                       digits(w[2], 2000000000, &y) && x >= 1 && x < y && y - x <= 100000000) {
                snprintf(out, sizeof out, "COLLATZ %lld %lld %llu\n", x, y,
                         (unsigned long long)sum((uint64_t)x, (uint64_t)y));
            } else {
                snprintf(out, sizeof out, "ERR bad request\n");
            }
            if (write(fd, out, strlen(out)) == (ssize_t)strlen(out))
                served++;
            size_t used = (size_t)(nl - buf) + 1;
            have -= used;
            memmove(buf, nl + 1, have);
        }
        close(fd);
    }
    close(lfd);
    printf("Served %llu requests\n", served);
    return 0;
}
