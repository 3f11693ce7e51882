#!/usr/bin/env python3
"""multiprocessing_count.py - Lab 2's example in Python: NPROCS processes count at once.

    python3 handouts/python/multiprocessing_count.py [NPROCS [ITERATIONS]]   (default: 2 10000000)

Each process counts to ITERATIONS on its own CPU and sends its count back
through a queue (a pipe underneath); the parent adds them up. On two cores two
processes take about as long as one, not twice as long. Same output contract
as the C program (solutions/lab2/forkcount.c, in the full kit, not in yours):

    Process k started / Process k finished / Total count: C / Total time: T sec

Python threads could not do this: the interpreter lock lets one thread run
Python code at a time. Processes each have their own interpreter.

See also: handouts/lab2.md, solutions/lab2/forkcount.c (the C counterpart; not in your kit).
"""
import sys
import time
from multiprocessing import Process, Queue


def count(k, iterations, q):
    print(f"Process {k} started", flush=True)
    counter = 0
    for _ in range(iterations):
        counter += 1
    print(f"Process {k} finished", flush=True)
    q.put(counter)                       # to the parent, through a pipe


def positive(arg):
    try:  # int() also takes " 2", "2 " and "1_000": strtoll with an end pointer does not
        value = int(arg, 10) if arg == arg.strip() and "_" not in arg else 0
    except ValueError:
        value = 0
    if value < 1 or value > 2**63 - 1:   # the C program's range: a long long
        print(f"multiprocessing_count: '{arg}' is not a positive integer", file=sys.stderr)
        sys.exit(2)
    return value


def main(args):
    if len(args) > 2:
        print("usage: multiprocessing_count.py [NPROCS [ITERATIONS]]", file=sys.stderr)
        sys.exit(2)
    nprocs = positive(args[0]) if len(args) > 0 else 2
    iterations = positive(args[1]) if len(args) > 1 else 10_000_000
    start = time.monotonic()
    q = Queue()
    procs = [Process(target=count, args=(k, iterations, q)) for k in range(1, nprocs + 1)]
    for p in procs:                      # fork them all first...
        p.start()
    total = sum(q.get() for _ in procs)  # ...read every count...
    for p in procs:                      # ...then reap every child
        p.join()
    print(f"Total count: {total}")
    print(f"Total time: {time.monotonic() - start:.2f} sec")


if __name__ == "__main__":
    main(sys.argv[1:])
