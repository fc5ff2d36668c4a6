"""loupe daemon's cpu mode on a busy machine (issue #23 point 1): the
daemon reads each thread's state and CPU time from its context-switch
records (profiler/oncpu.c, oncpu_track_cut), not from /proc at every tick.
It must stay as true as /proc was: a service that works in short bursts
and sleeps between them, pinned to a CPU that two spinners keep busy (it
is often runnable, waiting for that CPU inside the call it slept in), gets
burn() charged and never nap(), and as many CPU samples as the kernel says
it used CPU seconds (schedstat) x the rate.  Its windows are read back
with ctl snapshot.  With LOUPE_NO_PERF=1 the daemon falls back to /proc,
and the CPU samples still add up.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon_switches.py -v
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (LOUPE, Target, cpu_ns, has_func, read_collapsed,
                     run_loupe, script_path, skip)
from interpreters import debian, pyenv

RATE = 100
WORK_S = 5.0
BUSY = "import sys; print('ready'); sys.stdout.flush()\nwhile 1: pass\n"


def interpreter():
    why = "no CPython found"
    for finder in (lambda: pyenv("3.12"), lambda: pyenv("3.11"), debian):
        exe, why = finder()
        if exe:
            return exe, None
    return None, why


class DaemonSwitches(unittest.TestCase):

    def setUp(self):
        if os.getuid() != 0:
            skip(self, "the daemon test runs as root (it reads other processes)")
        self.exe, why = interpreter()
        if not self.exe:
            skip(self, why)
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            skip(self, "one CPU only: the daemon would share the target's")
        self.cpu = str(cpus[-1])
        self.tmp = tempfile.mkdtemp(prefix="loupe-daemon-switches-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sock = os.path.join(self.tmp, "loupe.sock")
        self.script = script_path("bursts.py")
        self.conf = os.path.join(self.tmp, "loupe.conf")
        with open(self.conf, "w") as f:
            f.write("dir = %s/store\nwindow = 60s\nsocket = %s\nmax_cpu = 50\n"
                    "[target bursts]\nexe = python*\ncmdline = %s\nrate = %d\n"
                    "mode = cpu\n" % (self.tmp, self.sock, self.tmp, RATE))

    def start(self, argv):
        t = Target(argv)
        self.addCleanup(t.kill)
        return t

    def daemon(self, env=None):
        log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        self.addCleanup(log.close)
        d = subprocess.Popen([LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=log, env=env)

        def stop():
            if d.poll() is None:
                d.terminate()
                d.wait()
        self.addCleanup(stop)
        return d, log

    def listed(self, pid, within=20):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            out = run_loupe("ctl", "--socket", self.sock, "status").stdout
            if re.search(r"(?m)^ *%d  bursts " % pid, out or ""):
                return True
            time.sleep(0.2)
        return False

    def run_bursts(self, burst, nap, env=None):
        """(CPU samples, of which nap(), burn(), the target's CPU s)."""
        go = os.path.join(self.tmp, "go-%g" % burst)
        done = os.path.join(self.tmp, "done-%g" % burst)
        t = self.start(["taskset", "-c", self.cpu, self.exe, self.script,
                        str(burst), str(nap), go, done, str(WORK_S)])
        for _ in range(2):
            self.start(["taskset", "-c", self.cpu, self.exe, "-c", BUSY])
        d, log = self.daemon(env)
        self.assertTrue(self.listed(t.pid), log.seek(0) or log.read())
        before = cpu_ns(t.pid)
        with open(go, "w"):
            pass
        deadline = time.monotonic() + WORK_S + 30
        while not os.path.exists(done) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(done), "the target never finished")
        time.sleep(0.2)     # the ticks that read its last burst
        secs = (cpu_ns(t.pid) - before) / 1e9
        out = os.path.join(self.tmp, "bursts-%g.txt" % burst)
        res = run_loupe("ctl", "--socket", self.sock, "snapshot", str(t.pid), "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        stacks = read_collapsed(out)
        total = sum(stacks.values())
        nap_n = sum(n for s, n in stacks.items() if has_func(s, "nap"))
        burn_n = sum(n for s, n in stacks.items() if has_func(s, "burn"))
        d.terminate()
        d.wait()
        log.seek(0)
        return total, nap_n, burn_n, secs, log.read()

    def check(self, burst, nap, env=None, nap_check=True):
        for attempt in range(2):
            total, nap_n, burn_n, secs, log = self.run_bursts(burst, nap, env)
            expect = secs * RATE
            print("daemon, bursts %g/%g: %d CPU samples (burn %d, nap %d) for "
                  "%.3f s of CPU (x %d Hz = %.1f)" % (burst, nap, total, burn_n,
                                                     nap_n, secs, RATE, expect),
                  file=sys.stderr)
            if expect < 10:
                skip(self, "machine overloaded: the target got %.2f s of CPU "
                     "in %g s (load %.1f)" % (secs, WORK_S, os.getloadavg()[0]))
            slack = 3.0 / expect
            ratio = total / expect
            ok = (burn_n > 0 and (nap_n < 0.05 * total or not nap_check) and
                  0.9 - slack <= ratio <= 1.1 + slack)
            if ok:
                break
            self.doCleanups()
            self.setUp()
        self.assertGreater(burn_n, 0, log)
        if nap_check:
            self.assertLess(nap_n, 0.05 * total,
                            "nap() got %d of %d CPU samples: a thread waiting "
                            "for a CPU inside its sleep was charged" % (nap_n, total))
        self.assertTrue(0.9 - slack <= ratio <= 1.1 + slack,
                        "%d CPU samples for %.3f s of CPU at %d Hz (%.1f): "
                        "ratio %.3f" % (total, secs, RATE, expect, ratio))

    def test_bursts_2_3_ms(self):
        self.check(0.002, 0.003)

    def test_bursts_3_7_ms(self):
        self.check(0.003, 0.007)

    def test_fallback_without_perf(self):
        # /proc's states: the CPU counted as the kernel says, but a
        # thread woken and waiting for its CPU reads as running (what the
        # switch records are for): nap()'s share is not checked
        env = dict(os.environ, LOUPE_NO_PERF="1")
        self.check(0.003, 0.007, env, nap_check=False)


if __name__ == "__main__":
    unittest.main()
