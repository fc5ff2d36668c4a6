# Target of tools/bench's slowdown section: prints "ready", waits for a line
# on stdin, runs a fixed piece of pure-Python work 20 frames deep, prints
# the seconds it took, and exits.  Runs under 2.7 and 3.x.
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000000


def work(n):
    x = 0
    for i in range(n):
        x = (x * 7 + i) % 1000003
    return x


def descend(depth, n):
    if depth <= 1:
        return work(n)
    return descend(depth - 1, n)


sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
t0 = time.time()
descend(19, N)
sys.stdout.write("%.6f\n" % (time.time() - t0))
sys.stdout.flush()
