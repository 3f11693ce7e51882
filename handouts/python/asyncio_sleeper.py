#!/usr/bin/env python3
"""asyncio_sleeper.py - Lab 1's example in Python: three tasks, one event loop.

    python3 handouts/python/asyncio_sleeper.py [SECONDS...]    (default: 2 3 1)

Tasks of 2, 3 and 1 s take about 3 s (the longest), not 6 s (the sum): while
one task waits, the loop runs the others. Same output contract as the C
program, so the grader can judge it:

    ./grader/grade lab1 --exec 'python3 handouts/python/asyncio_sleeper.py' --defaults

See also: handouts/lab1.md, solutions/lab1/sleeper.c (the C counterpart; not in your kit).
"""
import asyncio
import math
import sys
import time


async def task(i, arg, delay):
    print(f"Task {i} started", flush=True)
    await asyncio.sleep(delay)          # gives the loop back to the other tasks
    print(f"Task {i} finished after {arg} sec", flush=True)


async def main(args):
    start = time.monotonic()
    delays = []
    for arg in args:
        try:  # float() also takes " 2", "2 " and "1_0": strtod with an end pointer does not
            d = float(arg) if arg == arg.strip() and "_" not in arg else -1.0
        except ValueError:
            d = -1.0
        if not math.isfinite(d) or d < 0:
            print(f"sleeper: '{arg}' is not a non-negative number of seconds", file=sys.stderr)
            return 2
        delays.append(d)
    await asyncio.gather(*(task(i + 1, a, d) for i, (a, d) in enumerate(zip(args, delays))))
    print(f"Total time: {time.monotonic() - start:.2f} sec")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:] or ["2", "3", "1"])))
