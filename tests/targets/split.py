# Profiling target: two functions with a known 3:1 CPU split.  work() calls
# hot_three() and hot_one() in turn; both run the same pure-Python loop,
# hot_three() for three times the iterations, so a CPU profile must give
# hot_three 75% and hot_one 25% of the samples taken in either.
# Runs under 2.7 and 3.6+ alike; prints "ready" once working, then runs
# until killed.
#
# The split is 3:1 by construction, but not exactly on every interpreter
# and every run: on Debian's PGO-built python3.11 it measured 0.68-0.75
# from one process to the next.  With LOUPE_SPLIT_LOG=FILE the target
# also times both functions in its own CPU time and keeps FILE holding
# "THREE_NS ONE_NS" so far, rewritten every 50 ms, so that a test can
# compare a profile with what really ran.  Two more fields follow: the
# wall-clock ns spent in each (preempted time included), the truth of a
# wall-mode profile when the target shares its CPU.
import os
import sys
import time

# Short calls (about a millisecond) so that periodic sampling cannot lock
# onto one of the two functions.  LOUPE_SPLIT_LOOP_MS=M: instead, as many
# as make one round of both take M ms of CPU, measured at the start (a
# round as long as the kernel's scheduler tick: test_truth_cpu).
UNIT = 2000


def hot_three():
    x = 0
    i = 0
    n = 3 * UNIT
    while i < n:
        x = (x * 7 + i) % 1000003
        i += 1
    return x


def hot_one():
    x = 0
    i = 0
    n = UNIT
    while i < n:
        x = (x * 7 + i) % 1000003
        i += 1
    return x


def wall_clock():
    return getattr(time, "perf_counter", time.time)


def cpu_clock():
    if hasattr(time, "thread_time"):
        return time.thread_time
    if hasattr(time, "process_time"):
        return time.process_time
    return time.clock  # 2.7: the process's CPU time (one thread)


class SplitLog(object):
    """Keeps path holding "THREE_NS ONE_NS WALL_THREE_NS WALL_ONE_NS" so
    far, rewritten every 50 ms (through a temporary name: a reader never
    sees half of it)."""

    def __init__(self, path):
        self.path = path
        self.clock = cpu_clock()
        self.wall = wall_clock()
        self.three = self.one = self.wthree = self.wone = 0.0
        self.written = time.time()

    def add(self, three, one, wthree=0.0, wone=0.0):
        self.three += three
        self.one += one
        self.wthree += wthree
        self.wone += wone
        if time.time() - self.written >= 0.05:
            self.written = time.time()
            with open(self.path + ".tmp", "w") as f:
                f.write("%d %d %d %d\n" % (self.three * 1e9, self.one * 1e9,
                                            self.wthree * 1e9, self.wone * 1e9))
            os.rename(self.path + ".tmp", self.path)


def calibrate(loop_ms):
    """The UNIT that makes hot_three() + hot_one() take loop_ms of CPU."""
    global UNIT
    clock = cpu_clock()
    UNIT = 20000
    t = clock()
    for _ in range(5):
        hot_three()
        hot_one()
    per_round = (clock() - t) / 5
    UNIT = max(1, int(20000 * loop_ms / 1e3 / per_round))


def work():
    loop_ms = os.environ.get("LOUPE_SPLIT_LOOP_MS")
    if loop_ms:
        calibrate(float(loop_ms))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    path = os.environ.get("LOUPE_SPLIT_LOG")
    if not path:
        while True:
            hot_three()
            hot_one()
    # the same calls from the same function (profiles show work ->
    # hot_three either way), timed
    log = SplitLog(path)
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


if __name__ == "__main__":
    work()
