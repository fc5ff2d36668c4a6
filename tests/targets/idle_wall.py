# Profiling target: a service that is asleep nearly all the time.  The
# main thread does a little work in tick() every half second and sleeps in
# nap(); a worker thread waits on a queue that never gets an item, in
# wait_for_job().  Runs under 2.7 and 3.6+ alike; prints "ready", then runs
# until killed.
import sys
import threading
import time

try:
    import queue
except ImportError:
    import Queue as queue


def wait_for_job(q):
    while True:
        q.get(timeout=3600)


def tick():
    x = 0
    for i in range(2000):
        x = (x * 7 + i) % 1000003
    return x


def nap():
    time.sleep(0.5)


def main():
    t = threading.Thread(target=wait_for_job, args=(queue.Queue(),))
    t.daemon = True
    t.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        tick()
        nap()


if __name__ == "__main__":
    main()
