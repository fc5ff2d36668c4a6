"""record --mode memory target (tests/functional/test_record_memory.py):
one thread alternates a phase where grow() allocates about 500 kB in 100 ms
(1000-byte bytes objects kept, with some work between) and a phase of
100 ms where compute() only computes.  Prints "ready" once running; stops
growing at 256 MB."""
import time

keep = []


def work(n):
    return sum(range(n))


def grow():
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        keep.append(bytes(1000))
        work(2000)


def compute():
    end = time.monotonic() + 0.1
    while time.monotonic() < end:
        work(2000)


print("ready", flush=True)
while True:
    if len(keep) < 256 * 1024:
        grow()
    compute()
