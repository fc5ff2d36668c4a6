"""record --mode memory target (tests/functional/test_record_memory.py):
one thread alternates 250 ms where grow() allocates
(1000-byte bytes objects kept, with some work between) and
250 ms where compute() only computes.  Prints "ready" once running; stops
growing at 256 MB."""
import time

keep = []


def work(n):
    return sum(range(n))


def grow():
    end = time.monotonic() + 0.25
    while time.monotonic() < end:
        keep.append(bytes(1000))
        work(2000)


def compute():
    end = time.monotonic() + 0.25
    while time.monotonic() < end:
        work(2000)


print("ready", flush=True)
while True:
    if len(keep) < 256 * 1024:
        grow()
    compute()
