"""loupe ctl trace PID -d S (issue #9): the real daemon runs loupe trace's
event-loop tracer in a worker thread and answers with its summary, while
its loop goes on serving other clients; no event loop and bad arguments
get loupe trace's errors and statuses; SIGTERM during a trace answers what
was traced and exits 0 at once; a daemon without the tracepoints refuses
rather than fall back to ptrace (which stops the target).

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon_trace.py -v
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import LOUPE, Target, run_loupe, script_path
from test_top import find_python

# "  stalls          3 over 50 ms, 521.0 ms in all, max 200.3 ms"
STALLS_RE = re.compile(r"(?m)^\s+stalls\s+(\d+) over ")
# "    stall at 0.877 s lasting 200.3 ms ... on thread 20748: PATH [...]"
STALL_RE = re.compile(r"(?m)^\s+stall at [\d.]+ s lasting ([\d.]+) ms.*$")


from harness import skip  # noqa: E402


class DaemonTrace(unittest.TestCase):

    def setUp(self):
        if os.getuid() != 0:
            skip(self, "the daemon test runs as root (it traces other processes)")
        self.py = find_python()
        if not self.py:
            skip(self, "no CPython found (/usr/bin/python3.11 or pyenv)")
        self.tmp = tempfile.mkdtemp(prefix="loupe-dtrace-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sock = os.path.join(self.tmp, "loupe.sock")
        self.conf = os.path.join(self.tmp, "loupe.conf")
        with open(self.conf, "w") as f:
            f.write("dir = %s\nwindow = 2s\nsocket = %s\n"
                    % (os.path.join(self.tmp, "store"), self.sock))
        self.log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        self.addCleanup(self.log.close)

    def start_daemon(self, prefix=()):
        self.daemon = subprocess.Popen(list(prefix) + [LOUPE, "daemon", "--config", self.conf],
                                       stdout=subprocess.DEVNULL, stderr=self.log)
        d = self.daemon
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(self.sock):
            self.assertIsNone(d.poll(), self.read_log())
            time.sleep(0.05)

    def read_log(self):
        self.log.seek(0)
        return self.log.read()

    def target(self, argv):
        t = Target(argv)
        self.addCleanup(t.kill)
        return t

    def ctl(self, *args):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60)

    def trace_client(self, pid, seconds):
        p = subprocess.Popen([LOUPE, "ctl", "-s", self.sock, "trace", str(pid),
                              "-d", str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def test_trace_stall_while_serving(self):
        self.start_daemon()
        t = self.target([self.py, script_path("async_stall.py")])
        t0 = time.monotonic()
        tr = self.trace_client(t.pid, 3)
        # the loop serves another client while the trace runs
        time.sleep(0.5)
        for _ in range(2):
            s0 = time.monotonic()
            res = self.ctl("status")
            took = time.monotonic() - s0
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("loupe daemon:", res.stdout)
            self.assertLess(took, 1.0, "status took %.2f s during a trace" % took)
            self.assertIsNone(tr.poll(), "the trace ended before 3 s")
            time.sleep(0.3)
        out, err = tr.communicate(timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(tr.returncode, 0, err + self.read_log())
        # answered as soon as the trace ended (not at the loop's next
        # second, not after the tracer's clean-up)
        self.assertLess(took, 4.5, out)
        self.assertRegex(out, r"(?m)^loupe trace: PID %d .*perf tracepoints" % t.pid)
        self.assertRegex(out, r"(?m)^Event loop on thread %d " % t.pid)
        m = STALLS_RE.search(out)
        self.assertTrue(m, out)
        self.assertGreaterEqual(int(m.group(1)), 2, out)
        blamed = [s for s in STALL_RE.finditer(out)
                  if "blocker (async_stall.py" in s.group(0) and
                  "legacy_sync_call (async_stall.py" in s.group(0)]
        self.assertGreaterEqual(len(blamed), 2, out)
        # never paused: the target runs on
        self.assertIn(t.state(), "RS")

    def test_no_loop_and_bad_arguments(self):
        self.start_daemon()
        t = self.target(["sh", "-c", "echo ready; exec sleep 30"])
        res = self.ctl("trace", t.pid, "-d", "1")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertRegex(res.stderr, r"^loupe: no event loop in PID %d: no thread called "
                         r"epoll_wait, poll or select repeatedly in 1\.\d s\n$" % t.pid)
        self.assertEqual(res.stdout, "")
        for bad, why in ((["-d", "abc"], "invalid duration 'abc'"),
                         (["-d", "301"], "at most 300 s"),
                         (["-d"], "invalid duration"),
                         (["--threshold", "x"], "invalid threshold 'x'"),
                         (["--bogus"], "unexpected argument '--bogus'")):
            res = self.ctl("trace", t.pid, *bad)
            self.assertEqual(res.returncode, 2, (bad, res.stderr))
            self.assertIn(why, res.stderr)
        res = self.ctl("trace", "0")
        self.assertEqual(res.returncode, 2, res.stderr)
        res = self.ctl("trace", self.daemon.pid, "-d", "1")
        self.assertEqual(res.returncode, 1, res.stderr)
        # the daemon still answers
        self.assertEqual(self.ctl("status").returncode, 0)

    def test_sigterm_during_trace(self):
        self.start_daemon()
        t = self.target([self.py, script_path("async_stall.py")])
        tr = self.trace_client(t.pid, 20)
        time.sleep(1.5)
        self.assertIsNone(tr.poll())
        t0 = time.monotonic()
        self.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(self.daemon.wait(timeout=10), 0, self.read_log())
        self.assertLess(time.monotonic() - t0, 3, self.read_log())
        out, err = tr.communicate(timeout=10)
        # what was traced is answered before the daemon exits
        self.assertEqual(tr.returncode, 0, err)
        self.assertIn("the trace was cut short", out)
        self.assertRegex(out, r"(?m)^Event loop on thread %d " % t.pid)
        self.assertIn(t.state(), "RS")

    def test_no_tracepoints_no_ptrace(self):
        # A daemon run by a user who may not read the tracepoints (nobody)
        # refuses: loupe trace could fall back to ptrace, the daemon never.
        setpriv = shutil.which("setpriv")
        if not setpriv:
            skip(self, "needs setpriv to run the daemon as another user")
        nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        os.chown(self.tmp, 65534, 65534)
        self.start_daemon(nobody)
        t = self.target(nobody + [self.py, script_path("async_stall.py")])
        res = self.ctl("trace", t.pid, "-d", "2")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr + self.read_log())
        self.assertRegex(res.stderr, r"^loupe: tracepoints are not available here \(.+\): "
                         r"run loupe trace -p %d yourself, which can fall back to ptrace\n$" % t.pid)
        with open("/proc/%d/status" % t.pid) as f:
            self.assertIn("\nTracerPid:\t0\n", f.read())
        self.assertIn(t.state(), "RS")


if __name__ == "__main__":
    unittest.main()
