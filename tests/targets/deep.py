"""A deep stack: down(DEPTH) recursion, then spin() at the bottom forever.
argv[1] is DEPTH; the recursion limit is raised to fit.  Prints "ready"
once at the bottom (tests/functional/test_truth_stacks.py)."""
import sys

DEPTH = int(sys.argv[1])
sys.setrecursionlimit(DEPTH + 200)


def spin():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    x = 0
    while True:
        x += 1


def down(n):
    if n <= 1:
        spin()
    down(n - 1)


down(DEPTH)
