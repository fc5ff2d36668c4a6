# Profiling target for the source view (loupe top's Enter, report --lines):
# one function, spin(), whose line marked HEAVY runs a long loop on one
# line while the lines marked LIGHT do a little arithmetic, so that the
# heavy line takes nearly all of the function's samples, wall and CPU.
# Prints "ready LINE" (the heavy line's number, found in this file so that
# an edit cannot make the test wrong) once working, then runs until killed.
import sys


def heavy_line():
    with open(__file__) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith("# HEAVY"):
                return n
    raise SystemExit("no HEAVY line")


def spin():
    acc = 0
    while True:
        for j in range(1000): acc = (acc * 31 + j) % 1000003  # LIGHT
        for i in range(20000): acc = (acc + i * i) % 1000003  # HEAVY
        for j in range(1000): acc = (acc ^ j) % 1000003  # LIGHT


if __name__ == "__main__":
    sys.stdout.write("ready %d\n" % heavy_line())
    sys.stdout.flush()
    spin()
