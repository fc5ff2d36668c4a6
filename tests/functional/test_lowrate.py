"""The cost of a tick at a low rate (issue #23 point 2): at 100 Hz each tick
finds the caches cold, so what loupe asks the kernel per tick is what it
costs.  A steady tick of `loupe record` on one busy Python thread (and two
that sleep) reads no /proc file where the kernel's switch records say the
thread states (cpu mode, every .loupe recording): one read of the stacks
and the process clock; and `loupe top` reads the GC's flag from its stacks'
read, with a view thread asleep until its next table.  Counted with strace
(system calls are what a tick pays for, CPU figures are tools/bench's), and
the CPU samples still what the kernel says the target used.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_lowrate.py -v
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

from harness import (LOUPE, SRC, LoupeTestCase, cpu_ns, has_func,
                     read_collapsed, skip)
from interpreters import debian, pyenv

RATE = 100
NOTE = "on-CPU detection uses /proc states"
# the target: one thread spinning 20 frames deep, two asleep in time.sleep
DEEP = os.path.join(SRC, "tools", "bench_deep.py")
LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)$")
# the sampler's sleep: to an absolute deadline on the monotonic clock
TICK = "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME"
PROC_READS = ("pread64", "read", "openat", "getdents64")


def interpreter():
    for finder in (lambda: pyenv("3.13"), lambda: pyenv("3.12"), debian):
        exe, why = finder()
        if exe:
            return exe, None
    return None, why


def per_tick(trace, skip_ticks=20):
    """From `strace -f` output: the sampler thread's ticks (each ends at its
    sleep to the next deadline), the first skip_ticks left out (attach,
    symbols, the first readings); returns (ticks, {syscall: calls}) of the
    sampler thread and {syscall: calls} of the other threads over the
    same span."""
    lines = []
    with open(trace) as f:
        for raw in f:
            m = LINE.match(raw)
            if m:
                lines.append((m.group(1), m.group(2), raw))
    sampler = next((tid for tid, _, raw in lines if TICK in raw), None)
    ticks, counts, others, seen = 0, {}, {}, 0
    for tid, call, raw in lines:
        if tid == sampler and TICK in raw:
            seen += 1
            if seen > skip_ticks:
                ticks += 1
            continue
        if seen <= skip_ticks:
            continue
        if "resumed>" in raw:
            continue	# the end of a call counted at its start
        d = counts if tid == sampler else others
        d[call] = d.get(call, 0) + 1
    # the calls after the last sleep are the run's end (the output)
    return ticks, counts, others


class LowRate(LoupeTestCase):

    def setUp(self):
        super().setUp()
        if not shutil.which("strace"):
            self.skip("strace is not installed: the system calls of a "
                      "tick cannot be counted")
        exe, why = interpreter()
        if not exe:
            self.skip(why)
        self.exe = exe

    def traced(self, *args, seconds):
        trace = self.path("strace.out")
        res = subprocess.run(["strace", "-f", "-qq", "-o", trace, LOUPE] +
                             [str(a) for a in args], capture_output=True,
                             text=True, timeout=60 + seconds)
        return res, trace

    def test_record_tick_reads_no_proc_file(self):
        """record -r 100 into .loupe (the kernel's switch records on):
        a steady tick is one process_vm_readv and at most the process
        clock, no /proc read but the once-a-second check; the CPU samples
        are still what schedstat says the target used, x the rate."""
        t = self.start([self.exe, DEEP, "20", "2"])
        out = self.path("rec.loupe")
        for attempt in range(2):
            before = cpu_ns(t.pid)
            res, trace = self.traced("record", "-p", t.pid, "-r", RATE,
                                     "-d", 4, "-o", out, seconds=4)
            secs = (cpu_ns(t.pid) - before) / 1e9
            self.assertEqual(res.returncode, 0, res.stderr)
            if NOTE in res.stderr:
                skip(self, "perf events refused here: the /proc states are "
                     "the only ones (%s)" % res.stderr.strip())
            ticks, calls, _ = per_tick(trace)
            self.assertGreater(ticks, 100, calls)
            proc = sum(calls.get(c, 0) for c in PROC_READS)
            pvr = calls.get("process_vm_readv", 0)
            print("record: %d ticks: %.2f /proc reads, %.2f stack reads, "
                  "%.2f clock_gettime a tick; %s" % (
                      ticks, proc / ticks, pvr / ticks,
                      calls.get("clock_gettime", 0) / ticks, calls),
                  file=sys.stderr)
            # stacks and CPU samples, read back from the recording
            txt = self.path("rec.txt")
            rep = subprocess.run([LOUPE, "report", out, "-o", txt],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(rep.returncode, 0, rep.stderr)
            cpu_samples = re.search(r"CPU samples (\d+)", res.stderr)
            self.assertTrue(cpu_samples, res.stderr)
            got = int(cpu_samples.group(1))
            expect = secs * RATE
            ok = proc / ticks <= 0.5 and pvr / ticks <= 1.5
            if ok and expect > 0 and 0.85 <= got / expect <= 1.15:
                break
        # left: a /proc reading of every thread once a second and at a
        # tick in which two threads ran (a sleeper's wake-up), the task
        # directory's link count; 3.4 reads a tick before
        self.assertLessEqual(proc / ticks, 0.5,
                             "%d /proc reads in %d ticks: %s" % (proc, ticks, calls))
        self.assertLessEqual(pvr / ticks, 1.5,
                             "%d stack reads in %d ticks" % (pvr, ticks))
        if expect < 20:
            skip(self, "machine overloaded: the target got %.2f s of CPU "
                 "in 4 s (load %.1f)" % (secs, os.getloadavg()[0]))
        self.assertTrue(0.85 <= got / expect <= 1.15,
                        "%d CPU samples for %.3f s of CPU at %d Hz" % (
                            got, secs, RATE))
        stacks = read_collapsed(txt)
        self.assertTrue(any(has_func(s, "spin") for s in stacks), list(stacks)[:5])

    def test_idle_wall_reads_only_when_it_ran(self):
        """record --mode wall -r 100 of a service asleep but for a little
        work twice a second: a tick that finds the process clock where it
        was when the last stacks were read gives every thread those stacks
        again without reading its memory (one read a tick before); no
        tick loses its samples, and they are the threads' true stacks."""
        t = self.start([self.exe, os.path.join(SRC, "tests", "targets",
                                               "idle_wall.py")])
        txt = self.path("idle.txt")
        res, trace = self.traced("record", "-p", t.pid, "-r", RATE,
                                 "--mode", "wall", "-d", 4, "-o", txt,
                                 seconds=4)
        self.assertEqual(res.returncode, 0, res.stderr)
        ticks, calls, _ = per_tick(trace)
        self.assertGreater(ticks, 100, calls)
        pvr = calls.get("process_vm_readv", 0)
        print("idle wall: %d ticks: %.2f stack reads a tick; %s" % (
            ticks, pvr / ticks, calls), file=sys.stderr)
        # two wake-ups a second, and what reads a woken thread's stacks
        self.assertLessEqual(pvr / ticks, 0.25,
                             "%d stack reads in %d ticks" % (pvr, ticks))
        took = re.search(r"took (\d+) of", res.stderr)
        wall = re.search(r"wall samples (\d+)", res.stderr)
        self.assertTrue(took and wall, res.stderr)
        # two threads, a sample each every tick
        self.assertAlmostEqual(int(wall.group(1)) / (2.0 * int(took.group(1))),
                               1.0, delta=0.03, msg=res.stderr)
        stacks = read_collapsed(txt)
        total = sum(stacks.values())
        nap = sum(c for s, c in stacks.items() if has_func(s, "nap"))
        job = sum(c for s, c in stacks.items() if has_func(s, "wait_for_job"))
        self.assertGreater(nap, 0.45 * total, stacks)
        self.assertGreater(job, 0.49 * total, stacks)
        self.assertGreater(nap + job, 0.97 * total, stacks)

    def test_top_tick_and_view_wakeups(self):
        """top -r 100 (wall mode, GC column on): a tick reads the GC's
        flag from its one stacks' read (no read of its own), and the view
        thread wakes for its table once a second, not ten times."""
        t = self.start([self.exe, DEEP, "20", "2"])
        res, trace = self.traced("top", "-p", t.pid, "-r", RATE, "-d", 4,
                                 seconds=4)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("spin", res.stdout)
        ticks, calls, others = per_tick(trace)
        self.assertGreater(ticks, 100, calls)
        pvr = calls.get("process_vm_readv", 0)
        sleeps = others.get("clock_nanosleep", 0) + others.get("nanosleep", 0)
        secs = ticks / RATE
        print("top: %d ticks: %.2f stack reads a tick; view thread: %d "
              "sleeps in %.1f s: %s" % (ticks, pvr / ticks, sleeps, secs,
                                        others), file=sys.stderr)
        # the sleepers wake once a second: their stacks are read again
        self.assertLessEqual(pvr / ticks, 1.6,
                             "%d stack reads in %d ticks" % (pvr, ticks))
        self.assertLessEqual(sleeps, 2 * secs + 2,
                             "the view thread slept %d times in %.1f s" % (
                                 sleeps, secs))


if __name__ == "__main__":
    unittest.main()
