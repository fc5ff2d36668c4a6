# Profiling target for --subprocesses: a multiprocessing pool whose workers
# split their CPU 3:1 between hot_three() and hot_one() (split.py) while the
# parent only waits for results.
#
#   pool.py [--start fork|spawn|forkserver] [--workers N] [--delay S]
#           [--exec PROGRAM]
#
# --delay waits S seconds (printing "waiting") before starting the pool;
# --exec forks one more child that execs PROGRAM (a native target).  Prints
# "workers PID..." once every worker runs its loop, then "ready", and runs
# until killed.  Every child dies with its parent (PR_SET_PDEATHSIG), so a
# killed test leaves nothing spinning.  With LOUPE_SPLIT_LOG=LOG each
# worker keeps LOG.PID holding the CPU ns it spent in hot_three and in
# hot_one (see split.py).  Runs under 2.7 (fork only) and 3.6+.
import ctypes
import multiprocessing
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from split import SplitLog, hot_one, hot_three  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent():
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def init(queue, parent):
    die_with_parent()
    # forked (a replacement, say) just as the pool was killed: the signal
    # was set too late to come, so go now rather than stay behind (fork
    # only: a forkserver's workers are its children, not the pool's)
    if parent and os.getppid() != parent:
        os._exit(0)
    queue.put(os.getpid())


def spin(_):
    path = os.environ.get("LOUPE_SPLIT_LOG")
    if not path:
        while True:
            hot_three()
            hot_one()
    # as split.py does: each worker times the two functions itself, into
    # LOG.PID, so that a test knows the split that really ran
    log = SplitLog("%s.%d" % (path, os.getpid()))
    clock, wall = log.clock, log.wall
    while True:
        # the CPU clock is a system call, where the kernel often preempts
        # (EEVDF checks the time slice there): the wall clock (no system
        # call) is read inside, so that a wait there is in neither
        t0 = clock()
        w0 = wall()
        hot_three()
        w1 = wall()
        t1 = clock()
        w2 = wall()
        hot_one()
        w3 = wall()
        t2 = clock()
        log.add(t1 - t0, t2 - t1, w1 - w0, w3 - w2)


def start_exec(program):
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        die_with_parent()
        if os.getppid() != parent:
            os._exit(0)
        # its own "ready" line must not be taken for ours
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.execv(program, [program])
    return pid


def main():
    args = sys.argv[1:]
    opts = {"--start": "fork", "--workers": "4", "--delay": "0",
            "--exec": None}
    while args:
        key = args.pop(0)
        opts[key] = args.pop(0)
    die_with_parent()
    if float(opts["--delay"]) > 0:
        sys.stdout.write("waiting\n")
        sys.stdout.flush()
        time.sleep(float(opts["--delay"]))
    n = int(opts["--workers"])
    if hasattr(multiprocessing, "get_context"):
        ctx = multiprocessing.get_context(opts["--start"])
    else:
        ctx = multiprocessing
    queue = ctx.Queue()
    parent = os.getpid() if opts["--start"] == "fork" else 0
    pool = ctx.Pool(n, initializer=init, initargs=(queue, parent))
    result = pool.map_async(spin, range(n), chunksize=1)
    pids = [queue.get(timeout=60) for _ in range(n)]
    if opts["--exec"]:
        pids.append(start_exec(opts["--exec"]))
    sys.stdout.write("workers %s\n" % " ".join(str(p) for p in pids))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    result.wait()


if __name__ == "__main__":
    main()
