# Profiling target that is collecting garbage most of the time: it keeps
# a few hundred thousand container objects alive (each full collection
# walks them all) and calls gc.collect() in a loop.  Prints "ready" once
# looping; runs until killed.
import gc
import sys

keep = [{"i": i, "l": [i]} for i in range(300000)]


def collect_forever():
    while True:
        gc.collect()


sys.stdout.write("ready\n")
sys.stdout.flush()
collect_forever()
