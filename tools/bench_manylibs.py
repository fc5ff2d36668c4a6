# tools/bench lowrate's many-library target: loads every shared library
# named on the command line with ctypes (tools/bench makes 100 copies of
# one small library, so that the process maps 100 more files), then runs
# a pure-Python loop 20 calls deep.  Prints "ready" once they are loaded.
import ctypes
import sys

libs = [ctypes.CDLL(p) for p in sys.argv[1:]]


def deep(n):
    if n:
        return deep(n - 1)
    x = 0
    while True:
        x = (x * 7 + 1) % 1000003


sys.stdout.write("ready %d\n" % len(libs))
sys.stdout.flush()
deep(20)
