# Event-loop target for trace --subprocesses: forks N workers (default 2),
# each running async_stall.py's loop, which blocks itself with a 200 ms
# time.sleep once a second.  The parent only waits.  Prints "workers
# PID..." and "ready" once every worker's loop runs, then runs until
# killed; the workers die with it (PR_SET_PDEATHSIG).  Python 3.6+.
import ctypes
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import async_stall  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent():
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def worker(w):
    die_with_parent()
    started = threading.Semaphore(0)

    def tell():
        started.acquire()
        os.write(w, b"x")
    threading.Thread(target=tell, daemon=True).start()
    async_stall.run_loop(started)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    r, w = os.pipe()
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                worker(w)
            finally:
                os._exit(0)
        pids.append(pid)
    os.close(w)
    for _ in range(n):
        os.read(r, 1)
    sys.stdout.write("workers %s\nready\n" % " ".join(str(p) for p in pids))
    sys.stdout.flush()
    while True:
        time.sleep(1000)


if __name__ == "__main__":
    main()
