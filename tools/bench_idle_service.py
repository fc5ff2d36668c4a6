# tools/bench daemon's idle service: what most Python services do most of
# the time, a little work (about a millisecond of pure Python) then a
# sleep (100-400 ms, varying per process), on a main thread and one
# worker thread that waits on a queue.  Runs under 2.7 and 3.6+ alike;
# prints "ready" once running, then runs until killed.
import os
import random
import sys
import threading
import time

try:
    import queue
except ImportError:
    import Queue as queue


def handle(n):
    x = 0
    for i in range(n):
        x = (x * 7 + i) % 1000003
    return x


def serve():
    rnd = random.Random(os.getpid())
    pause = rnd.uniform(0.1, 0.4)
    while True:
        handle(20000)
        time.sleep(pause)


q = queue.Queue()
w = threading.Thread(target=q.get)
w.daemon = True
w.start()
sys.stdout.write("ready\n")
sys.stdout.flush()
serve()
