# Profiling target: two functions with a known 3:1 CPU split.  work() calls
# hot_three() and hot_one() in turn; both run the same pure-Python loop,
# hot_three() for three times the iterations, so a CPU profile must give
# hot_three 75% and hot_one 25% of the samples taken in either.
# Runs under 2.7 and 3.6+ alike; prints "ready" once working, then runs
# until killed.
import sys

# Short calls (about a millisecond) so that periodic sampling cannot lock
# onto one of the two functions.
UNIT = 2000


def hot_three():
    x = 0
    i = 0
    n = 3 * UNIT
    while i < n:
        x = (x * 7 + i) % 1000003
        i += 1
    return x


def hot_one():
    x = 0
    i = 0
    n = UNIT
    while i < n:
        x = (x * 7 + i) % 1000003
        i += 1
    return x


def work():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        hot_three()
        hot_one()


if __name__ == "__main__":
    work()
