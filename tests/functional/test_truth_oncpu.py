"""Truth on a busy machine: a thread that works in short bursts and sleeps
between them (a service), pinned to a CPU that two spinners keep busy, is
often found in state R right after it wakes up, waiting for the CPU while
still inside the call it slept in.  cpu mode must charge its bursts to
burn() and never to nap() (tests/targets/bursts.py), and charge as many
CPU samples as the kernel says it used CPU seconds (schedstat) x the rate.
loupe knows whether a thread was on a CPU when its stack was read from the
kernel's context-switch records (profiler/oncpu.c); without perf events
(LOUPE_NO_PERF=1) it falls back to /proc's states and says so once.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_truth_oncpu.py -v
"""
import os
import sys
import unittest

from harness import (LoupeTestCase, cpu_ns, read_collapsed, run_loupe, script_path,
                     has_func, skip)
from interpreters import debian, pyenv

RATE = 100
DURATION = 4
BUSY = "import sys; print('ready'); sys.stdout.flush()\nwhile 1: pass\n"
NOTE = "on-CPU detection uses /proc states"


def interpreter():
    for finder in (lambda: pyenv("3.12"), lambda: pyenv("3.11"), debian):
        exe, why = finder()
        if exe:
            return exe, None
    return None, why


class OnCpuTruth(LoupeTestCase):

    def busy_cpu(self, exe, burst, pause):
        """bursts.py and two spinners on the last CPU: (the target, its
        CPU)."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            self.skip("one CPU only: loupe would share the target's")
        cpu = str(cpus[-1])
        t = self.start(["taskset", "-c", cpu, exe,
                        script_path("bursts.py"), str(burst), str(pause)])
        for _ in range(2):
            self.start(["taskset", "-c", cpu, exe, "-c", BUSY])
        return t

    def record(self, t, out, env=None):
        before = cpu_ns(t.pid)
        res = run_loupe("record", "-p", t.pid, "--mode", "cpu", "-r", RATE,
                        "-d", DURATION, "-o", out, env=env)
        after = cpu_ns(t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res, (after - before) / 1e9

    def check_bursts(self, burst, pause):
        exe, why = interpreter()
        if not exe:
            self.skip(why)
        t = self.busy_cpu(exe, burst, pause)
        out = self.path("bursts.txt")
        # A second recording when the box skewed the first (another
        # job's burst of load): both must be wrong to fail.
        for attempt in range(2):
            res, secs = self.record(t, out)
            self.assertNotIn(NOTE, res.stderr)
            stacks = read_collapsed(out)
            total = sum(stacks.values())
            nap = sum(n for s, n in stacks.items() if has_func(s, "nap"))
            burn = sum(n for s, n in stacks.items() if has_func(s, "burn"))
            expect = secs * RATE
            print("bursts %g/%g: %d CPU samples (burn %d, nap %d) for "
                  "%.3f s of CPU (x %d Hz = %.1f)" % (
                      burst, pause, total, burn, nap, secs, RATE, expect),
                  file=sys.stderr)
            if expect < 20:
                skip(self, "machine overloaded: the target got %.2f s of "
                     "CPU in %d s (load %.1f)" % (secs, DURATION,
                                                  os.getloadavg()[0]))
            share_ok = total > 0 and nap < 0.05 * total
            # the last period and the first reading, as test_truth_cpu
            slack = 2.0 / expect
            ratio = total / expect
            count_ok = 0.9 - slack <= ratio <= 1.1 + slack
            if share_ok and count_ok:
                break
        self.assertGreater(total, 0)
        self.assertLess(nap, 0.05 * total,
                        "nap() got %d of %d CPU samples: a thread waiting "
                        "for a CPU inside its sleep was charged" % (nap, total))
        self.assertTrue(count_ok, "%d CPU samples for %.3f s of CPU at %d "
                        "Hz (%.1f): ratio %.3f" % (total, secs, RATE, expect,
                                                   ratio))

    def test_bursts_2_3_ms(self):
        self.check_bursts(0.002, 0.003)

    def test_bursts_3_7_ms(self):
        self.check_bursts(0.003, 0.007)

    def test_fallback_without_perf(self):
        """LOUPE_NO_PERF=1: the /proc states, as before, said once."""
        exe, why = interpreter()
        if not exe:
            self.skip(why)
        t = self.busy_cpu(exe, 0.003, 0.007)
        out = self.path("noperf.txt")
        env = dict(os.environ, LOUPE_NO_PERF="1")
        res, secs = self.record(t, out, env=env)
        self.assertEqual(res.stderr.count(NOTE), 1, res.stderr)
        self.assertIn("LOUPE_NO_PERF", res.stderr)
        stacks = read_collapsed(out)
        burn = sum(n for s, n in stacks.items() if has_func(s, "burn"))
        self.assertGreater(burn, 0, stacks)
        # --quiet says nothing
        res = run_loupe("record", "-q", "-p", t.pid, "--mode", "cpu",
                        "-d", 1, "-o", out, env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn(NOTE, res.stderr)


if __name__ == "__main__":
    unittest.main()
