"""A target for loupe heap's small untracked objects
(tests/functional/test_heap_small.py): holds 30000 floats, 20000 ints
of two digits, 10000 str of 50 characters and 10000 bytes of 60, none
tracked by the GC (they are found in pymalloc's arenas), and writes how
many and how large (sys.getsizeof) to the JSON file given as argv[1], then
prints "ready" and sleeps.

  heap_small.py OUT
"""
import json
import os
import sys
import time

N_FLOAT, N_INT, N_STR, N_BYTES = 30000, 20000, 10000, 10000


def main():
    out = sys.argv[1]
    floats = [i + 0.5 for i in range(N_FLOAT)]
    ints = [(1 << 40) + i for i in range(N_INT)]
    strs = ["t%049d" % i for i in range(N_STR)]
    byts = [b"%060d" % i for i in range(N_BYTES)]
    held = {
        "float": [N_FLOAT, sys.getsizeof(floats[0])],
        "int": [N_INT, sys.getsizeof(ints[0])],
        "str": [N_STR, sys.getsizeof(strs[0])],
        "bytes": [N_BYTES, sys.getsizeof(byts[0])],
    }
    with open(out + ".tmp", "w") as f:
        json.dump(held, f)
    os.rename(out + ".tmp", out)
    print("ready", flush=True)
    while True:
        time.sleep(3600)
    return floats, ints, strs, byts


if __name__ == "__main__":
    main()
