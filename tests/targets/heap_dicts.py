"""A target for loupe heap's dict tables (tests/functional/test_heap_dicts.py):
holds dicts of known sizes (str and object keys, from 1 to 5000 entries,
some after deletions and popitem, defaultdicts) and writes the dicts the GC
tracks, counted in-process with gc.get_objects() and sys.getsizeof (which
counts a combined dict's keys table, not a split one's shared keys), to the
JSON file given as argv[1], then prints "ready" and sleeps.

  heap_dicts.py OUT
"""
import collections
import gc
import json
import os
import sys
import time


def main():
    out = sys.argv[1]
    marker = []     # a container value: the dicts are tracked by the GC
    held = []
    for n, copies in ((1, 2000), (5, 2000), (20, 500), (200, 200),
                      (5000, 20)):
        held.append([{"k%d" % i: marker for i in range(n)}
                     for _ in range(copies)])
    # object keys: general entries (with their hash) from 3.11
    held.append([{i: marker for i in range(200)} for _ in range(200)])
    # tables larger than their entries: deletions and popitem leave the
    # slots allocated
    shrunk = []
    for _ in range(100):
        d = {"k%d" % i: marker for i in range(100)}
        for i in range(90):
            del d["k%d" % i]
        shrunk.append(d)
        d = {"p%d" % i: marker for i in range(50)}
        for _ in range(20):
            d.popitem()
        shrunk.append(d)
    held.append(shrunk)
    dd = []
    for _ in range(100):
        d = collections.defaultdict(list)
        for i in range(100):
            d[i].append(i)
        dd.append(d)
    held.append(dd)
    gc.collect()
    counts, sizes = {}, {}
    for o in gc.get_objects():
        if isinstance(o, dict):
            t = type(o).__name__
            counts[t] = counts.get(t, 0) + 1
            sizes[t] = sizes.get(t, 0) + sys.getsizeof(o)
    with open(out + ".tmp", "w") as f:
        json.dump({"counts": counts, "bytes": sizes}, f)
    os.rename(out + ".tmp", out)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
