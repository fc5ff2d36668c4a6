"""A recursion whose stack changes fast: fib(25) again and again at module
level (tests/functional/test_truth_stacks.py).  Every stack is <module>
then fib frames only."""
import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    fib(25)
