# Profiling target for loupe diff: work() calls hot_scaled(), whose cost is
# FACTOR times a unit (the first argument, default 1), and steady(), which
# always costs two units.  With FACTOR 1 hot_scaled takes a third of the CPU,
# with FACTOR 2 a half: a diff of the two must flag hot_scaled.
# Runs under 2.7 and 3.6+; prints "ready" once working, then runs until
# killed.
import sys

# About 0.4 ms a unit: with calls of 40 us (1000), 2 s recordings at 1 kHz
# gave hot_scaled 0.19-0.33 of its 0.333 on a quiet box, further off than
# their draws allow (fifteenth session's note): a question for the
# sampler, not for the diff.
UNIT = 10000


def spin(n):
    x = 0
    i = 0
    while i < n:
        x = (x * 7 + i) % 1000003
        i += 1
    return x


def hot_scaled(factor):
    return spin(factor * UNIT)


def steady():
    return spin(2 * UNIT)


def work(factor):
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        hot_scaled(factor)
        steady()


if __name__ == "__main__":
    work(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
