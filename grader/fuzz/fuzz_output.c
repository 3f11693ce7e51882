/* fuzz_output.c - fuzz the grader's readers of program output.
 *
 * Everything a student's program prints (and what valgrind and the probe
 * write) reaches the grader's parsers and judges. This target turns one input
 * into an observation: lines of stdout/stderr with made-up times, probe
 * records, a valgrind log; then runs every lab's pure judges on it, with
 * parameters drawn from a seed taken from the input.
 *
 * Built two ways (see the Makefile):
 *   make fuzz        with libFuzzer (clang -fsanitize=fuzzer,address,undefined)
 *   make test        as a replayer (FUZZ_REPLAY): runs every file given on the
 *                    command line once, for tests/fuzz-corpus/ regressions.
 *
 * See also: grader/observe.c, grader/judge.c, tests/fuzz-corpus/README.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../judge.h"
#include "../util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct rng rng = {data[0] | (uint64_t)data[1] << 8};
    struct observation o = {.started = true, .exited = true, .wall = 0.5, .cpu_user = 0.01};
    o.valgrind_log = xstrndup((const char *)data + 2, size - 2);
    const char *s = (const char *)data + 2, *end = (const char *)data + size;
    double t = 0;
    /* Each line: a leading byte picks the stream (even: stdout, odd: stderr,
     * 'P': a probe record); the line's time grows with its position. */
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        t += 0.01 * (len % 7);
        char *line = xstrndup(s, len);
        if (len && line[0] == 'P')
            obs_add_probe_record(&o, line, 0);
        else
            obs_add_line(&o, t, len && (line[0] & 1) ? STREAM_ERR : STREAM_OUT, line, len);
        free(line);
        s += len + 1;
    }
    o.wall = t + 0.1;
    for (size_t l = 0; l < nlabs; l++) {
        const struct lab *lab = all_labs[l];
        struct params p = {.plan = PLAN_RUN, .calibrated = 1000000};
        lab->draw(&rng, &p);
        struct build_result b = {.attempted = true, .ok = true, .log = o.valgrind_log};
        for (size_t c = 0; c < lab->nchecks; c++) {
            struct evidence ev = {.lab = lab, .build = &b, .nruns = 1, .params = &p, .runs = &o, .cpus = 2};
            struct verdict v = {0};
            lab->checks[c].judge(&ev, &v);
            sbuf_free(&v.summary);
            sbuf_free(&v.detail);
        }
    }
    obs_free(&o);
    return 0;
}

#ifdef FUZZ_REPLAY
int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        struct sbuf b = {0};
        if (!read_file(argv[i], &b, (size_t)1 << 20)) {
            fprintf(stderr, "fuzz_output: cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)(b.data ? b.data : ""), b.len);
        sbuf_free(&b);
        n++;
    }
    printf("fuzz_output: %d regression input%s replayed, no crash\n", n, n == 1 ? "" : "s");
    return 0;
}
#endif
