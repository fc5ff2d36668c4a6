# Profiling target: the main thread sits in outer() -> middle() -> inner(),
# and inner() spins on a single line forever, so that any dump shows the
# same stack.  The comments "# EXPECT: name" mark the line each frame of
# that stack is on; the functional test reads them from this file.
# Runs under 2.7 and 3.6+ alike; prints "ready", then runs until killed.
import sys


def inner():
    x = 0
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True: x = (x + 1) % 7  # EXPECT: inner


def middle():
    inner()  # EXPECT: middle


def outer():
    middle()  # EXPECT: outer


if __name__ == "__main__":
    outer()  # EXPECT: <module>
