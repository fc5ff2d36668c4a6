# Target of tools/bench's memory section: THREADS threads, each running
# short bursts of pure-Python work at varying depths through a few
# functions, then sleeping a little, for a bounded but large set of
# distinct stacks.  Runs under 2.7 and 3.x; prints "ready" once started.
import random
import sys
import threading
import time

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 16


def burn(n):
    x = 0
    for i in range(n):
        x = (x * 7 + i) % 1000003
    return x


def step_a(depth, n):
    return burn(n) if depth <= 0 else step_b(depth - 1, n)


def step_b(depth, n):
    return burn(n) if depth <= 0 else step_c(depth - 1, n)


def step_c(depth, n):
    return burn(n) if depth <= 0 else step_a(depth - 1, n)


def worker(seed):
    rnd = random.Random(seed)
    while True:
        step_a(rnd.randint(0, 24), rnd.randint(200, 4000))
        time.sleep(rnd.random() * 0.004)


for k in range(THREADS - 1):
    t = threading.Thread(target=worker, args=(k,))
    t.daemon = True
    t.start()
sys.stdout.write("ready\n")
sys.stdout.flush()
worker(THREADS)
