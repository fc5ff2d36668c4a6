# Target of dump --locals under change (tests/functional/test_locals.py):
# spin() rebinds its locals to new objects of changing types as fast as it
# can, so that a dump reads values that move under it.  Prints "ready",
# then runs until killed.  2.7 and 3.6+.
import sys


def spin():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    i = 0
    while True:
        i += 1
        a = [i] * (i % 5)
        b = "s%d" % i
        c = float(i) / 3
        d = {i: i} if i % 2 else (i, i)
        e = None if i % 3 else b * 3
        del a
        a = i


if __name__ == "__main__":
    spin()
