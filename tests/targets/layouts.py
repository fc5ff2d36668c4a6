# Profiling target for the layouts of loupe top (test_top_layouts.py): the
# hot function has a long qualified name (a function defined in another,
# "crunch_report.<locals>.summarize_every_row_of_the_report" from 3.11),
# and the test runs this file from a long directory.  Prints "ready" once
# working, then runs until killed.
import sys


def crunch_report():
    def summarize_every_row_of_the_report():
        x = 0
        for i in range(3000):
            x = (x * 7 + i) % 1000003
        return x

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        summarize_every_row_of_the_report()


if __name__ == "__main__":
    crunch_report()
