#!/usr/bin/env python3
"""noreap.py - lab 4, wrong (Python, through --exec): the worker processes are never reaped.

The handout's asyncio server (handouts/python/asyncio_server.py), except its
shutdown: to end within 1 s of SIGTERM it prints "Served R requests" and calls
os._exit(0) at once, without terminating or joining the pool's processes,
which outlive it.
Must fail: structure (not-reaped).
Must pass: format, protocol, concurrency, slow, scale, responsive, cpu, errors.

Grade it:  ./grader/grade lab4 --exec 'python3 tests/lab4/noreap.py' --only structure
See also: tests/observations/lab4/noreap-structure.obs (its recorded grading, replayed by
          tests/check_judges.c), handouts/python/asyncio_server.py.
"""
import os
import asyncio
import concurrent.futures
import signal
import sys
import time

MAX_LINE = 1024


def collatz_sum(a, b):
    """Collatz steps summed over a..b-1 (runs in a worker process)."""
    total = 0
    for n in range(a, b):
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            total += 1
    return total


def warm_up():
    """Keeps a worker busy a moment, so that every worker starts at start-up."""
    time.sleep(0.05)


def number(word, lo, hi):
    """A plain decimal integer in [lo, hi], or None."""
    if not word.isascii() or not word.isdigit() or len(word) > 18:
        return None
    value = int(word)
    return value if lo <= value <= hi else None


def usage(why):
    print(f"server: {why}\nusage: server [PORT [WORKERS]]  (0 <= PORT <= 65535, 1 <= WORKERS <= 64)",
          file=sys.stderr)
    sys.exit(2)


class Server:
    def __init__(self, pool):
        self.pool = pool
        self.served = 0
        self.clients = set()

    async def reply(self, writer, text):
        writer.write(text.encode() + b"\n")
        await writer.drain()
        self.served += 1                     # fully handed to the kernel

    async def handle(self, line):
        words = line.split(" ")
        if words == ["PING"]:
            return "PONG"
        if words[0] == "SLEEP":
            ms = number(words[1], 0, 60000) if len(words) == 2 else None
            if ms is None:
                return "ERR usage: SLEEP MS (0 <= MS <= 60000)"
            await asyncio.sleep(ms / 1000)   # a timer of the loop: blocks nobody
            return f"SLEPT {ms}"
        if words[0] == "COLLATZ":
            a = number(words[1], 1, 2000000000) if len(words) == 3 else None
            b = number(words[2], 1, 2000000000) if len(words) == 3 else None
            if a is None or b is None or a >= b or b - a > 100000000:
                return "ERR usage: COLLATZ A B (1 <= A < B <= 2000000000, B - A <= 100000000)"
            loop = asyncio.get_running_loop()
            s = await loop.run_in_executor(self.pool, collatz_sum, a, b)   # a worker computes
            return f"COLLATZ {a} {b} {s}"
        return "ERR unknown request"

    async def client(self, reader, writer):
        task = asyncio.current_task()
        self.clients.add(task)
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\n")
                except asyncio.LimitOverrunError:
                    await self.reply(writer, f"ERR line over {MAX_LINE} bytes")
                    break
                except asyncio.IncompleteReadError:
                    break                    # end of file: no reply is owed
                line = raw[:-1].decode("utf-8", "replace").rstrip("\r")
                await self.reply(writer, await self.handle(line))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.clients.discard(task)
            writer.close()


async def main(port, workers):
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers)
    loop = asyncio.get_running_loop()
    # Start every worker now, not at the first request.
    await asyncio.gather(*(loop.run_in_executor(pool, warm_up) for _ in range(workers)))
    srv = Server(pool)
    try:
        server = await asyncio.start_server(srv.client, "127.0.0.1", port, limit=MAX_LINE + 1, backlog=1024)
    except OSError as e:
        print(f"server: cannot listen on 127.0.0.1:{port}: {e.strerror}", file=sys.stderr)
        pool.shutdown(wait=True)
        return 1
    print(f"Listening on port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for task in list(srv.clients):
        task.cancel()
    await asyncio.gather(*srv.clients, return_exceptions=True)
    print(f"Served {srv.served} requests", flush=True)
    os._exit(0)  # WRONG: fast, but the pool's processes are neither ended nor reaped


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) > 2:
        usage("too many arguments")
    port = number(args[0], 0, 65535) if args else 0
    workers = number(args[1], 1, 64) if len(args) > 1 else 2
    if port is None:
        usage("PORT must be an integer from 0 to 65535")
    if workers is None:
        usage("WORKERS must be an integer from 1 to 64")
    sys.exit(asyncio.run(main(port, workers)))
