"""A target for loupe heap's large objects held only by dict values and
instance attributes (tests/functional/test_heap_values.py): prints
"base" and waits for SIGUSR1 (a census then is the interpreter's own),
then makes N large bytes held as instance attributes (an attribute
each, on instances whose dict is managed or inline where the version
has that), N as the attributes of instances whose __dict__ was asked
for (a dict of their own), N as the values of a dict the GC tracks (it
holds a list too), and N large str as the values of this module's
globals; none is in a list or tuple.  Writes how many and how large
(sys.getsizeof) to the JSON file argv[1], prints "ready" and sleeps.

  heap_values.py OUT
"""
import gc
import json
import os
import signal
import sys
import time

N = 20


class Plain:
    pass


def main():
    out = sys.argv[1]
    json.dumps({"bytes": [1, 2]})
    g = globals()
    for i in range(N):
        g["TEXT%d" % i] = None  # the names before the census of base
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    # the start-up's garbage goes now, not between the two censuses (a
    # collection then freed small str of the base census: 19 of 20 counted)
    gc.collect()
    gc.disable()
    print("base", flush=True)
    signal.sigwait([signal.SIGUSR1])
    plain = []
    for i in range(N):
        o = Plain()
        o.a = 1
        o.blob = (b"%06d" % i) * 20000
        plain.append(o)
    dicted = []
    for i in range(N):
        o = Plain()
        o.__dict__["x"] = 1
        o.blob = (b"d%05d" % i) * 20000
        dicted.append(o)
    tracked = {i: (b"t%05d" % i) * 20000 for i in range(N)}
    tracked["list"] = []
    for i in range(N):
        g["TEXT%d" % i] = ("s%05d" % i) * 10000
    held = {
        "bytes": [3 * N, sys.getsizeof(plain[0].blob)],
        "str": [N, sys.getsizeof(g["TEXT0"])],
    }
    with open(out + ".tmp", "w") as f:
        json.dump(held, f)
    os.rename(out + ".tmp", out)
    print("ready", flush=True)
    while True:
        time.sleep(3600)
    return plain, dicted, tracked


if __name__ == "__main__":
    main()
