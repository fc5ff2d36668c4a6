"""record --mode memory target for release (tests/functional/
test_record_memory.py): one thread maps 1 MiB anonymous chunks and writes
them during 250 ms in take(), unmaps them one by one during 250 ms in
give() (munmap returns the pages at once, unlike free()), then computes
for 250 ms in compute().  Prints "ready" once running."""
import mmap
import time

MB = 1 << 20
held = []


def work(n):
    return sum(range(n))


def take():
    end = time.monotonic() + 0.25
    while time.monotonic() < end:
        m = mmap.mmap(-1, MB)
        m.write(b"x" * MB)
        held.append(m)
        work(20000)


def give():
    end = time.monotonic() + 0.25
    step = 0.25 / max(len(held), 1)
    while time.monotonic() < end:
        if held:
            held.pop().close()
        t = time.monotonic() + step
        while time.monotonic() < t:
            work(2000)


def compute():
    end = time.monotonic() + 0.25
    while time.monotonic() < end:
        work(2000)


print("ready", flush=True)
while True:
    take()
    give()
    compute()
