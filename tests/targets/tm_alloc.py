"""tracemalloc target for loupe heap --traces (tests/functional/
test_heap_traces.py).  argv: MODE OUT.
  hold: allocates known amounts at known lines (ALLOC_BIG: 3000 blocks of
        2000 bytes, ALLOC_SMALL: 1000 of 500), writes tracemalloc's own
        statistics('lineno') (file, line, size, count of the top 10) as
        JSON to OUT, prints "ready" and sleeps.
  leak: prints "ready" then adds 10 kB of bytes at LEAK_LINE every 5 ms.
  off:  tracemalloc not started; prints "ready" and sleeps.
Starts tracemalloc itself unless PYTHONTRACEMALLOC did."""
import json
import sys
import time
import tracemalloc

mode, out = sys.argv[1], sys.argv[2]
keep = []


def alloc_big():
    for _ in range(3000):
        keep.append(bytes(2000))  # ALLOC_BIG


def alloc_small():
    for _ in range(1000):
        keep.append(bytes(500))  # ALLOC_SMALL


def leak():
    keep.append(bytes(10000))  # LEAK_LINE


if mode != "off" and not tracemalloc.is_tracing():
    tracemalloc.start()
if mode == "hold":
    alloc_big()
    alloc_small()
    snap = tracemalloc.take_snapshot()
    top = [{"file": s.traceback[0].filename, "line": s.traceback[0].lineno,
            "size": s.size, "count": s.count}
           for s in snap.statistics("lineno")[:10]]
    del snap
    with open(out, "w") as f:
        json.dump(top, f)
print("ready", flush=True)
while True:
    if mode == "leak":
        leak()
        time.sleep(0.005)
    else:
        time.sleep(1)
