# Target of tools/bench: one thread spinning DEPTH Python frames deep, and
# optionally extra threads sleeping.  Runs under 2.7 and 3.x.
import sys
import threading
import time

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 20
SLEEPERS = int(sys.argv[2]) if len(sys.argv) > 2 else 0


def sleeper():
    while True:
        time.sleep(1)


def spin():
    x = 0
    while True:
        x += 1


def descend(n):
    if n <= 1:
        spin()
    else:
        descend(n - 1)


for _ in range(SLEEPERS):
    t = threading.Thread(target=sleeper)
    t.daemon = True
    t.start()
sys.stdout.write("ready\n")
sys.stdout.flush()
descend(DEPTH - 1)  # with <module>, DEPTH frames
