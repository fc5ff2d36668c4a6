# Profiling target with named threads in known states:
#   busy-1, busy-2     spin in busy_worker()             (on CPU)
#   idle-1, idle-2     sleep in idle_worker(), time.sleep (off CPU)
#   select-1           waits in select_worker() on a pipe that is never
#                      written, through selectors (select.select on 2.7)
# Each thread names itself for the OS (prctl PR_SET_NAME, so that
# /proc/PID/task/TID/comm shows it) and reports "thread NAME TID" on stdout;
# then the main thread prints "ready" and waits.  Runs under 2.7 and 3.6+
# alike until killed.
import ctypes
import os
import select
import sys
import threading
import time

try:
    import selectors
except ImportError:  # 2.7
    selectors = None

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NAME = 15
SYS_gettid = 186  # x86-64
lock = threading.Lock()
started = []


def name_self(name):
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode("ascii")), 0, 0, 0)
    tid = libc.syscall(SYS_gettid)
    with lock:
        started.append((name, tid))


def busy_worker(name):
    name_self(name)
    x = 0
    while True:
        x = (x * 3 + 1) % 1000003


def idle_worker(name):
    name_self(name)
    while True:
        time.sleep(1000)


def select_worker(name):
    name_self(name)
    r, w = os.pipe()
    if selectors is not None:
        sel = selectors.DefaultSelector()
        sel.register(r, selectors.EVENT_READ)
        while True:
            sel.select(1000)
    else:
        while True:
            select.select([r], [], [], 1000)


WORKERS = [
    ("busy-1", busy_worker),
    ("busy-2", busy_worker),
    ("idle-1", idle_worker),
    ("idle-2", idle_worker),
    ("select-1", select_worker),
]


def main():
    for name, fn in WORKERS:
        t = threading.Thread(target=fn, args=(name,), name=name)
        t.daemon = True
        t.start()
    while True:
        with lock:
            if len(started) == len(WORKERS):
                break
        time.sleep(0.01)
    for name, tid in started:
        sys.stdout.write("thread %s %d\n" % (name, tid))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(1000)


if __name__ == "__main__":
    main()
