"""A target for loupe heap's small untracked objects
(tests/functional/test_heap_small.py): holds 30000 floats, 20000 ints
of two digits, 10000 str of 50 characters and 10000 bytes of 60, none
tracked by the GC (they are found in pymalloc's arenas), and writes how
many and how large (sys.getsizeof) to the JSON file given as argv[1], then
prints "ready" and sleeps.  With --base it first prints "base" and waits
for SIGUSR1 before it allocates them, so that a census taken then is the
interpreter's own (tests/functional/test_heap_pools.py subtracts it).

  heap_small.py OUT [--base]
"""
import json
import os
import signal
import sys
import time

N_FLOAT, N_INT, N_STR, N_BYTES = 30000, 20000, 10000, 10000


def main():
    out = sys.argv[1]
    if sys.argv[2:] == ["--base"]:
        # what the census after the signal adds to the interpreter's own
        # is only what main holds: everything else made before
        json.dumps({"float": [1, 2]})
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
        print("base", flush=True)
        signal.sigwait([signal.SIGUSR1])
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
