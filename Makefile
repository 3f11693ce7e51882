# Makefile - the concurrency/parallelism lab kit. 'make help' lists the targets.
#
#   make lab1        build the grader, then grade labs/lab1 (your copy)
#   make test        the kit's own tests (Check, valgrind); installs what it needs as root
#
# See also: README.md, grader/grade --help.

CC      ?= cc
CFLAGS  ?= -std=c11 -Wall -Wextra -Werror=implicit-function-declaration -O2 -g
GRADER_CFLAGS = $(CFLAGS)
LABS    := lab1 lab2 lab3 lab4

GRADER_SRC := $(filter-out grader/main.c,$(wildcard grader/*.c)) $(wildcard grader/labs/*.c)
GRADER_HDR := $(wildcard grader/*.h)
GRADER_OBJ := $(patsubst %.c,build/%.o,$(GRADER_SRC))

SUBMISSION ?=
GRADE_FLAGS ?=

.PHONY: all help grader $(LABS) test test-build test-run test-valgrind test-sanitizers test-docs docs hints stress fuzz bench deps deps-run clean dist gradescope classroom mutate
all: grader

# The full kit (this repository) has the instructors' part; the students'
# copy (make dist) has not: its 'make help' lists only what works there.
FULL_KIT := $(wildcard tests/e2e.c)

help:
	@echo "Targets:"
	@echo "  make lab1 [SUBMISSION=path]   grade labs/lab1 (or SUBMISSION) and print the report"
	@echo "  make lab2, make lab3, lab4    the same for labs 2-4; CPUS=1 pins a grading to one CPU"
	@echo "  make grader                   build grader/grade and its probe"
	@echo "  make deps                     install what the labs need (valgrind)"
	@echo "  make clean                    remove build products"
ifneq ($(FULL_KIT),)
	@echo "Instructors (the full kit):"
	@echo "  make test                     the kit's own tests (unit, end to end, valgrind)"
	@echo "  make bench                    timing figures for the reference and the grader"
	@echo "  make dist                     the students' tarball (no solutions, no tests)"
	@echo "  make docs                     regrade the report excerpts in handouts/ (make test checks them)"
	@echo "  make gradescope LAB=lab1      a Gradescope autograder zip for one lab [HIDDEN=checks LEADERBOARD=1]"
	@echo "  make classroom LAB=lab1       a GitHub Classroom workflow for one lab (prints it, or OUT=file)"
	@echo "  make stress                   verdict steadiness: references x30, wrong programs x10, busy loop"
	@echo "  make fuzz [FUZZ_SECONDS=60]   fuzz the grader's output readers (libFuzzer)"
	@echo "  make mutate                   mutation run: does the suite notice a broken judge? (killed K/N)"
endif
	@echo "Options: GRADE_FLAGS='--json out.json --only timing ...' (see grader/grade --help)"

grader: grader/grade grader/probe.so

build/%.o: %.c $(GRADER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(GRADER_CFLAGS) -c $< -o $@

# Built aside, then renamed: a grader that is running keeps its old file.
grader/grade: build/grader/main.o $(GRADER_OBJ)
	$(CC) $(GRADER_CFLAGS) -o $@.new $^ -lm -pthread && mv -f $@.new $@

grader/probe.so: grader/probe/probe.c
	$(CC) $(CFLAGS) -fPIC -shared -o $@.new $< -ldl && mv -f $@.new $@

# CPUS=N pins the grading to the first N CPUs (taskset): parallelism needs cores.
PIN = $(if $(CPUS),taskset -c 0-$(shell echo $$(($(CPUS)-1))) ,)

$(LABS): grader deps-run
	@$(PIN)./grader/grade $@ $(SUBMISSION) $(GRADE_FLAGS)

deps:
	@./tools/need valgrind $(if $(FULL_KIT),check pkg-config)

deps-run:
	@./tools/need valgrind

ifneq ($(FULL_KIT),)
# Timing figures for the lab-1 reference and one grading (README.md quotes them).
# RUNS=, GRADINGS=, SEED= change the number of runs, of gradings, the delays.
bench: grader deps-run
	@CC="$(CC)" ./tools/bench/run
	@echo; ./tools/bench/lab2
	@echo; ./tools/bench/lab3
	@echo; ./tools/bench/lab4
	@echo; ./tools/bench/batch
	@echo; CC="$(CC)" RUNS=$${RUNS:-10} ./tools/bench/tracer
	@echo; ./tools/bench/hostile
	@echo; ./tools/bench/verdicts

# --- The kit's own tests (tests/*.c use Check) ----------------------------------
# 'test' installs what is missing first, then builds in a fresh make (test-build) so
# that pkg-config is asked only once Check is there. Its last line says PASSED
# or FAILED; the failed step's log is printed above it.
# The bounded stress grades one wrong program per lab once, whole, beside a busy loop (make
# stress: every one and the references, many times; make test's end-to-end suites grade each
# reference whole beside the other steps); the sanitized grader grades the references and
# SAN_SAMPLE (make test-sanitizers: every wrong and hostile program). Its hostile programs are
# ones that do not name themselves hostile-*: check_hostile, beside it, counts those left behind.
# 'test' builds everything at once (make -j), then tools/testrun runs the steps whose verdicts
# do not need quiet CPUs side by side, then the rows that do (lab 2 parallel, lab 3 cpu, lab 4
# parallel) alone, then the stress; it ends with the time of each step and phase.
STRESS_WRONG_SAMPLE = tests/lab1/busywait.c tests/lab2/globalcount.c tests/lab3/offbyone.c tests/lab4/atoi.c
SAN_SAMPLE = tests/lab1/nuljunk.c tests/lab2/childleak.c tests/lab3/forgedlock.c tests/lab4/decoy.c \
             tests/hostile/flood.c tests/hostile/fdbomb.c
TEST_JOBS ?= $(shell nproc)
test:
	@./tools/need valgrind check pkg-config zip unzip chromium python3
	@t0=$$(date +%s); \
	if $(MAKE) --no-print-directory -j$(TEST_JOBS) test-build; then \
	    TEST_T0=$$t0 TEST_BUILD_S=$$(( $$(date +%s) - t0 )) TEST_JOBS=$(TEST_JOBS) \
	    STRESS_WRONG="$(STRESS_WRONG_SAMPLE)" SAN_SAMPLE="$(SAN_SAMPLE)" ./tools/testrun; \
	else \
	    echo "make test: FAILED after $$(( $$(date +%s) - t0 )) s (the build; the first error is above)"; exit 1; \
	fi

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

# tests/e2e.c: the end-to-end tests' pool, results reader and assertions (tests/e2e.h).
TEST_LIB_OBJ := build/tests/e2e.o
$(TEST_LIB_OBJ): tests/e2e.c tests/e2e.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Igrader -c $< -o $@

tests/bin/%: tests/%.c $(TEST_LIB_OBJ) tests/e2e.h $(GRADER_OBJ) $(GRADER_HDR)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Igrader -o $@ $< $(TEST_LIB_OBJ) $(GRADER_OBJ) $(CHECK_LIBS) -lm -pthread

TEST_PROGRAMS := $(patsubst tests/%.c,tests/bin/%,$(wildcard tests/check_*.c))

# Everything make test runs, built at once (make -j).
test-build: grader $(TEST_PROGRAMS) build/asan/grade build/fuzz/replay

# Every tests/check_*.c program, then valgrind.
test-run: $(TEST_PROGRAMS) grader
	@for t in $(TEST_PROGRAMS); do echo "== $$t"; $$t || { echo "== $$t: FAILED"; exit 1; }; done
	@$(MAKE) --no-print-directory test-valgrind

# valgrind memcheck on the grader itself (a build, runs in pty and pipe, the
# probe, a memcheck run, bad arguments) and on the unit tests in one process;
# any error or definite leak, also in a forked child, fails (tools/vgrun).
test-valgrind: grader tests/bin/check_unit tests/bin/check_judges
	@echo "== valgrind on the grader (logs in build/vg/)"
	@./tools/vgrun grade-format ./grader/grade lab1 solutions/lab1 --only format --no-color
	@VG_OK="0 1" ./tools/vgrun grade-lab1 ./grader/grade lab1 solutions/lab1 --no-color
	@CK_FORK=no ./tools/vgrun check_unit tests/bin/check_unit
	@CK_FORK=no ./tools/vgrun check_judges tests/bin/check_judges

# --- Sanitizers and fuzzing (issue: a grader that survives anything) -------------
# The grader built with ASan+UBSan (its probe stays plain: it lives in student code), from
# objects of its own (build/asan/), which the fuzz replayer shares.
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(GRADER_SRC))
build/asan/%.o: %.c $(GRADER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

build/asan/grade: build/asan/grader/main.o $(ASAN_OBJ) grader/probe.so
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ build/asan/grader/main.o $(ASAN_OBJ) -lm
	cp grader/probe.so build/asan/probe.so

# The fuzz target as a replayer of tests/fuzz-corpus/ (regressions), under ASan+UBSan.
build/asan/fuzz_replay.o: grader/fuzz/fuzz_output.c $(GRADER_HDR)
	@mkdir -p build/asan
	$(CC) $(CFLAGS) $(SAN_FLAGS) -DFUZZ_REPLAY -c $< -o $@

build/fuzz/replay: build/asan/fuzz_replay.o $(ASAN_OBJ)
	@mkdir -p build/fuzz
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lm

# The sanitized grader grades the references, every wrong and every hostile program
# (tools/santest): ASan exits 86, UBSan 87, their reports go to build/asan/reports/.
# make test grades the references and SAN_SAMPLE; make test-sanitizers SAN_EVERY=1 all of them
# (SAN_EVERY=N: every Nth).
SAN_EVERY ?= 1
test-sanitizers: build/asan/grade build/fuzz/replay
	@echo "== sanitizers: fuzz regressions, then gradings by an ASan+UBSan grader"
	@UBSAN_OPTIONS=exitcode=87:halt_on_error=1 ASAN_OPTIONS=exitcode=86 ./build/fuzz/replay tests/fuzz-corpus/*
	@SAN_EVERY=$(SAN_EVERY) ./tools/santest build/asan/grade

# --- Instructors: the student copy, Gradescope, GitHub Classroom ---------------------
# build/kit-student.tar.gz: labs, handouts, grader; no solutions, no tests.
dist: grader
	@./tools/dist

# build/gradescope-LAB.zip: setup.sh + run_autograder + the student kit.
# HIDDEN=check,check: those tests are shown to students after the due date;
# LEADERBOARD=1: the lab's leaderboard figure (lab 3: local-mode speedup).
LAB ?=
NEED_LAB = $(if $(filter $(LABS),$(LAB)),,$(error which lab? make $@ LAB=lab1 (one of: $(LABS))))
gradescope:
	$(NEED_LAB)
	@$(MAKE) --no-print-directory -s grader >&2
	@./tools/need zip
	@HIDDEN="$(HIDDEN)" LEADERBOARD="$(LEADERBOARD)" ./tools/gradescope/make-zip $(LAB) $(OUT)

# A GitHub Classroom workflow for one lab, on standard output and nothing else
# there (or into OUT=FILE). KIT_REPO/KIT_REF or KIT_URL/KIT_SHA256: where the
# workflow takes the grader from (tools/classroom/workflow says more).
classroom:
	$(NEED_LAB)
	@$(MAKE) --no-print-directory -s grader >&2
	@./tools/classroom/workflow $(LAB) $(OUT)

# handouts/hints.md is the grader's hint catalogue (grade --list-hints) under a
# hand-written head; 'make hints' rewrites it, 'make test' fails when it is stale.
hints: grader
	@mkdir -p build
	@(sed '/^```text$$/q' handouts/hints.md; ./grader/grade --list-hints; echo '```') >build/hints.md
	@mv build/hints.md handouts/hints.md && echo "handouts/hints.md regenerated"

# The handouts' report excerpts (between <!-- docs: ... --> markers) regraded for
# real: 'make docs' rewrites them (a few minutes); 'make test' checks them (tools/docs).
docs: grader
	@./tools/need python3
	@./tools/need python3
	@./tools/docs --write

test-docs: grader
	@(sed '/^```text$$/q' handouts/hints.md; ./grader/grade --list-hints; echo '```') | \
	    cmp -s - handouts/hints.md || { echo "handouts/hints.md is stale: run 'make hints'"; exit 1; }
	@echo "handouts/hints.md matches the grader's hint catalogue"
	@./tools/docs

# Verdicts that do not flicker: every reference 30 times and every wrong program
# 10 times beside a busy loop; fails unless no false failure and no false pass.
stress: grader
	@./tools/stress 30 10

# libFuzzer on the output readers: FUZZ_SECONDS=60 by default. Crashes land in
# build/fuzz/; once fixed, copy the input to tests/fuzz-corpus/ as a regression.
FUZZ_SECONDS ?= 60
fuzz: grader/fuzz/fuzz_output.c $(GRADER_SRC) $(GRADER_HDR)
	@./tools/need clang libfuzzer
	@mkdir -p build/fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -o build/fuzz/fuzz_output grader/fuzz/fuzz_output.c $(GRADER_SRC) -lm
	cp tests/fuzz-corpus/* build/fuzz/corpus/
	./build/fuzz/fuzz_output -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	    -artifact_prefix=build/fuzz/ build/fuzz/corpus

# Mutations of the judges and the engine (tools/mutate.list), each built in a
# scratch copy and run against the recorded-evidence tests: prints killed K/N.
mutate: grader
	@./tools/mutate
else
# The students' copy: the instructors' targets are not here.
test bench dist gradescope classroom stress fuzz hints mutate:
	@echo "make $@: only in the instructors' full kit, not in this students' copy (make help lists what is here)" >&2
	@exit 2
endif

clean:
	rm -rf build grader/grade grader/probe.so tests/bin
