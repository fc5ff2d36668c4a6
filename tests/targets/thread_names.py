# py-spy's thread-names scenario (its tests/scripts/thread_names.py):
# ten threads named CustomThreadName-0..9 beside MainThread, all parked.
# Prints "ready" once every thread runs.  3.6+ (2.7: threading too).
import sys
import threading
import time


def park(started):
    started.release()
    while True:
        time.sleep(0.1)


def main():
    started = threading.Semaphore(0)
    for i in range(10):
        t = threading.Thread(target=park, args=(started,),
                             name="CustomThreadName-%d" % i)
        t.daemon = True
        t.start()
    for i in range(10):
        started.acquire()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    main()
