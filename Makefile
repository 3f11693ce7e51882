# Makefile - the concurrency/parallelism lab kit. 'make help' lists the targets.
#
#   make lab1        build the grader, then grade labs/lab1 (your copy)
#   make test        the kit's own tests (Check, valgrind); installs what it needs as root
#
# See also: README.md, grader/grade --help.

CC      ?= cc
CFLAGS  ?= -std=c11 -Wall -Wextra -Werror=implicit-function-declaration -O2 -g
GRADER_CFLAGS = $(CFLAGS)
LABS    := lab1

GRADER_SRC := $(filter-out grader/main.c,$(wildcard grader/*.c)) $(wildcard grader/labs/*.c)
GRADER_HDR := $(wildcard grader/*.h)
GRADER_OBJ := $(patsubst %.c,build/%.o,$(GRADER_SRC))

SUBMISSION ?=
GRADE_FLAGS ?=

.PHONY: all help grader $(LABS) test test-run bench deps deps-run clean
all: grader

help:
	@echo "Targets:"
	@echo "  make lab1 [SUBMISSION=path]   grade labs/lab1 (or SUBMISSION) and print the report"
	@echo "  make test                     the kit's own tests (unit, end to end, valgrind)"
	@echo "  make bench                    timing figures for the reference and the grader"
	@echo "  make grader                   build grader/grade and its probe"
	@echo "  make deps                     install what the kit needs (Check, valgrind, pkg-config)"
	@echo "  make clean                    remove build products"
	@echo "Options: GRADE_FLAGS='--json out.json --only timing ...' (see grader/grade --help)"

grader: grader/grade grader/probe.so

build/%.o: %.c $(GRADER_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(GRADER_CFLAGS) -c $< -o $@

grader/grade: build/grader/main.o $(GRADER_OBJ)
	$(CC) $(GRADER_CFLAGS) -o $@ $^ -lm

grader/probe.so: grader/probe/probe.c
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# CPUS=N pins the grading to the first N CPUs (taskset): parallelism needs cores.
PIN = $(if $(CPUS),taskset -c 0-$(shell echo $$(($(CPUS)-1))) ,)

$(LABS): grader deps-run
	@$(PIN)./grader/grade $@ $(SUBMISSION) $(GRADE_FLAGS)

deps:
	@./tools/need valgrind check pkg-config

deps-run:
	@./tools/need valgrind

# Timing figures for the lab-1 reference and one grading (README.md quotes them).
# RUNS=, GRADINGS=, SEED= change the number of runs, of gradings, the delays.
bench: grader deps-run
	@CC="$(CC)" ./tools/bench/run

# --- The kit's own tests (tests/*.c use Check) ----------------------------------
# 'test' installs what is missing first, then runs 'test-run' in a fresh make so
# that pkg-config is asked only once Check is there.
test: grader
	@./tools/need valgrind check pkg-config
	@$(MAKE) --no-print-directory test-run

CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

tests/bin/%: tests/%.c $(GRADER_OBJ) $(GRADER_HDR)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Igrader -o $@ $< $(GRADER_OBJ) $(CHECK_LIBS) -lm

TEST_PROGRAMS := $(patsubst tests/%.c,tests/bin/%,$(wildcard tests/check_*.c))

test-run: $(TEST_PROGRAMS)
	@for t in $(TEST_PROGRAMS); do echo "== $$t"; $$t || exit 1; done

clean:
	rm -rf build grader/grade grader/probe.so tests/bin
