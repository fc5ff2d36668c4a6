# -*- coding: utf-8 -*-
# Target of dump --locals (tests/functional/test_locals.py): inner() holds
# locals of every kind the short rendering knows, then parks; prints
# "ready" once they are all bound.  Runs under 2.7 and 3.6+ alike.
import sys
import time


def inner(count, label):
    big = 2 ** 70
    neg = -12345678901
    small = 5
    ratio = 3.25
    text = "hello\tworld"
    long_text = "x" * 200
    raw = b"\x00ab\xff"
    nothing = None
    yes = True
    no = False
    items = [1, 2, 3]
    pair = (1, 2)
    table = {"a": 1, "b": 2}
    members = set([1, 2, 3, 4])
    thing = object()

    def closure():
        return count
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(0.05)


def outer():
    marker = 42
    inner(7, "lbl")


if __name__ == "__main__":
    outer()
