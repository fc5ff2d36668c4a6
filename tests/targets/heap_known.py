"""A target for loupe heap (tests/functional/test_heap.py): holds known
numbers of objects and writes what it holds, counted in-process with
gc.get_objects() and sys.getsizeof, to the JSON file given as argv[2].

  heap_known.py known OUT    exact numbers of its own classes, lists, dicts
  heap_known.py many OUT    300000 HeapAlpha, nothing else
  heap_known.py leak OUT     LeakyRecord objects appended by one line, ever
  heap_known.py churn OUT    lists and objects made and dropped, fast
"""
import gc
import json
import sys
import time


class HeapAlpha(object):
    def __init__(self, i):
        self.i = i
        self.name = "a"


class HeapBeta(object):
    __slots__ = ("x", "y")

    def __init__(self, i):
        self.x = i
        self.y = None


class LeakyRecord(object):
    def __init__(self, i):
        self.payload = None


class Churn(object):
    pass


def census():
    gc.collect()
    counts, sizes = {}, {}
    for o in gc.get_objects():
        t = type(o).__name__
        counts[t] = counts.get(t, 0) + 1
        sizes[t] = sizes.get(t, 0) + sys.getsizeof(o)
    return {"counts": counts, "bytes": sizes}


def main():
    mode, out = sys.argv[1], sys.argv[2]
    held = []
    if mode == "known":
        held.append([HeapAlpha(i) for i in range(20000)])
        held.append([HeapBeta(i) for i in range(10000)])
        held.append([[None] * 10 for i in range(5000)])
        held.append([{"k": [], "v": i} for i in range(3000)])
        held.append([set(range(i, i + 100)) for i in range(200)])
        # large objects outside pymalloc, held by a list
        held.append([b"%03d" % i + b"\x02" * 99997 for i in range(50)])
        held.append(["s%099d" % i for i in range(10000)])
        held.append([b"%0100d" % i for i in range(10000)])
        data = census()
        data["str_size"] = sys.getsizeof(held[-2][0])
        data["bytes_size"] = sys.getsizeof(held[-1][0])
        data["large_bytes"] = sum(sys.getsizeof(b) for b in held[-3])
        with open(out + ".tmp", "w") as f:
            json.dump(data, f)
        import os
        os.rename(out + ".tmp", out)
        print("ready", flush=True)
        while True:
            time.sleep(3600)
    elif mode == "many":
        # many small objects: some sit at the very end of a pymalloc arena
        held.append([HeapAlpha(i) for i in range(300000)])
        print("ready", flush=True)
        while True:
            time.sleep(3600)
    elif mode == "leak":
        leak = []
        print("ready", flush=True)
        i = 0
        while True:
            leak.append(LeakyRecord(i))     # the leak: never evicted
            i += 1
            if i % 100 == 0:
                time.sleep(0.005)
    elif mode == "churn":
        keep = [None] * 1000
        print("ready", flush=True)
        i = 0
        while True:
            keep[i % 1000] = [Churn(), Churn(), {"i": [i]}]
            i += 1


if __name__ == "__main__":
    main()
