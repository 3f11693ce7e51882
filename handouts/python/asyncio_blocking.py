#!/usr/bin/env python3
"""asyncio_blocking.py - the classic asyncio mistake: time.sleep() in a coroutine.

    python3 handouts/python/asyncio_blocking.py [SECONDS...]    (default: 2 3 1)

The same program as asyncio_sleeper.py but for one line: each task calls
time.sleep(), which blocks the whole thread, so the event loop cannot run
the other tasks while one waits. Tasks of 2, 3 and 1 s now take 6 s (the sum),
and each task finishes before the next one starts. Grade both and compare:

    ./grader/grade lab1 --exec 'python3 handouts/python/asyncio_sleeper.py' --defaults
    ./grader/grade lab1 --exec 'python3 handouts/python/asyncio_blocking.py' --defaults

The second fails order and timing (≈ sum), and structure (clock_nanosleep).

See also: asyncio_sleeper.py, handouts/lab1.md.
"""
import asyncio
import math
import sys
import time


async def task(i, arg, delay):
    print(f"Task {i} started", flush=True)
    time.sleep(delay)                   # WRONG: blocks the loop; use await asyncio.sleep(delay)
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
