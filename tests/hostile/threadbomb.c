/* threadbomb.c - hostile submission: creates threads until it cannot, keeps
 * them all, then waits forever. The process limit (RLIMIT_NPROC counts
 * threads) stops the creating and the time limit the waiting.
 * See also: tests/check_hostile.c.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    prctl(PR_SET_NAME, "hostile-thread");
    int n = 0;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    while (n < 100000 && pthread_create(&t, &attr, idle, NULL) == 0)
        n++;
    printf("Task 1 started\n");
    fprintf(stderr, "threadbomb: %d threads\n", n);
    fflush(stdout);
    for (;;)
        pause();
}
