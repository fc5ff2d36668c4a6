# Profiling target with threads in known states: "spinner" runs pure
# Python without pause (on a CPU, holding the GIL), "sleeper" sleeps in
# time.sleep (idle in a system call, GIL released), and the main thread
# waits in join (idle on a lock).  Prints "ready" once both run; runs
# until killed.
import sys
import threading
import time


def spin():
    x = 0
    while True:
        for i in range(1000):
            x = (x * 7 + i) % 1000003


def sleep():
    while True:
        time.sleep(0.5)


def main():
    a = threading.Thread(target=spin, name="spinner")
    b = threading.Thread(target=sleep, name="sleeper")
    a.daemon = b.daemon = True
    a.start()
    b.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    a.join()


main()
