"""Threads that contend for the GIL: argv[1] (default 3) threads spin in
pure Python without a pause, so at any moment one holds the GIL and the
others wait for it (asleep on its condition variable, Python/ceval_gil.c
take_gil); the main thread waits in join (idle on a lock, not on the
GIL).  Prints "ready" once all spin; runs until killed."""
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3
started = []


def spin():
    started.append(1)
    x = 0
    while True:
        for i in range(1000):
            x = (x * 7 + i) % 1000003


def main():
    ts = [threading.Thread(target=spin, name="spin%d" % k) for k in range(N)]
    for t in ts:
        t.daemon = True
        t.start()
    while len(started) < N:
        pass
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    ts[0].join()


main()
