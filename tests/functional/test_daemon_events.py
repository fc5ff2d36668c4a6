"""loupe daemon on a host whose processes come and go (issue #23 points 1
and 5): the processes the kernel's process events name are matched alone,
and /proc is listed whole only as a fallback (every 10 s), so that a host
that forks all the time (a build, a CI runner) does not make the daemon
list /proc ten times a second.  Counted with strace: the daemon's
getdents64 calls while a shell forks and execs some 300 short processes a
second; a Python service started in the middle is still picked up at once,
and a non-Python one never.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon_events.py -v
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

from harness import Target
from test_daemon_hostwide import HostDaemon, PICKUP_S, skip, wait_for

CHURN_S = 4.0
# a thread's start event, read at most EVENT_SCAN_MS (100 ms) after it,
# the next tick at 19 Hz, and a loaded box; without events the fallback
# listing comes every 10 s
THREAD_S = 1.0

THREADS_PY = r"""
import signal, sys, threading, time
def late_worker():
    while True:
        t = time.monotonic()
        while time.monotonic() - t < 0.005:
            pass
        time.sleep(0.005)
def start(*_):
    threading.Thread(target=late_worker, name="late", daemon=True).start()
signal.signal(signal.SIGUSR1, start)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""
# an exit event, the rescan it asks for (100 ms) and a loaded box
FINAL_S = 0.6


class DaemonEvents(HostDaemon, unittest.TestCase):

    def setUp(self):
        self.setup_daemon("loupe-events-")
        if not shutil.which("strace"):
            skip(self, "strace missing (apt-get install strace)")

    def churn(self, seconds):
        """A shell that runs /bin/true over and over for seconds."""
        p = subprocess.Popen(["/bin/sh", "-c",
                              'end=$(( $(date +%%s) + %d )); '
                              'while [ $(date +%%s) -lt $end ]; do /bin/true; done'
                              % int(seconds + 1)])
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def test_events_are_matched_without_listing_proc(self):
        self.write_config("[target pyall]\npython = all\ncmdline = %s\nrate = 19\n"
                          % self.script)
        d = self.start_daemon()
        first = self.service("ev0")
        self.assertTrue(wait_for(lambda: first.pid in self.status_pids(), PICKUP_S),
                        self.read_log())
        self.assertIn("process events", self.read_log())
        trace = os.path.join(self.tmp, "strace.txt")
        st = subprocess.Popen(["strace", "-f", "-y", "-o", trace, "-e",
                               "trace=getdents64", "-p", str(d.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: st.poll() is None and (st.kill(), st.wait()))
        time.sleep(0.5)	# attached
        sh = self.churn(CHURN_S)
        t0 = time.monotonic()
        time.sleep(CHURN_S / 2)
        new = self.service("ev1")
        self.assertTrue(wait_for(lambda: new.pid in self.status_pids(), PICKUP_S),
                        "PID %d not picked up within %.1f s while the host forks: %s"
                        % (new.pid, PICKUP_S, self.read_log()))
        picked = time.monotonic() - t0 - CHURN_S / 2
        time.sleep(max(0, t0 + CHURN_S - time.monotonic()))
        st.send_signal(signal.SIGINT)
        st.wait(timeout=30)
        sh.kill()
        sh.wait()
        with open(trace) as f:
            text = f.read()
        self.assertIn("getdents64(", text)	# strace saw the daemon list
        calls = len(re.findall(r"getdents64\(\d+</proc>", text))
        # A whole scan of /proc is two getdents64 calls: with events, one
        # scan every 10 s at most (and at the start of this window, the
        # one after the first target was added); before, one every
        # 100-200 ms while the host forked (44-120 calls in 4 s).
        self.assertLessEqual(calls, 6, "the daemon listed /proc %d times in %.0f s "
                             "of forking" % (calls, CHURN_S))
        sys.stderr.write("\n  getdents64: %d calls in %.0f s of forking; picked up in %.2f s\n"
                         % (calls, CHURN_S, picked))
        self.assertNotIn(sh.pid, self.status_pids())
        d.terminate()
        self.assertEqual(d.wait(timeout=30), 0, self.read_log())

    def test_threads_followed_by_events(self):
        # The daemon is told of each thread's start and end by the same
        # events: a target's task directory is not polled (it was an
        # fstat every 100 ms and a listing every second, 2.4 us of a
        # 17 us sample on 8 busy services), and a thread started later
        # is sampled within THREAD_S all the same.
        script = os.path.join(self.tmp, "threads_service.py")
        with open(script, "w") as f:
            f.write(THREADS_PY)
        self.write_config("[target thr]\npython = all\ncmdline = %s\nrate = 19\nmode = wall\n"
                          % script, window="60s")
        d = self.start_daemon()
        t = Target([self.py, script])
        self.addCleanup(t.kill)
        self.assertTrue(wait_for(lambda: t.pid in self.status_pids(), PICKUP_S),
                        self.read_log())
        time.sleep(1.5)	# attached, first ticks
        trace = os.path.join(self.tmp, "strace-threads.txt")
        st = subprocess.Popen(["strace", "-f", "-y", "-o", trace, "-e",
                               "trace=getdents64,fstat,newfstatat,statx",
                               "-p", str(d.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: st.poll() is None and (st.kill(), st.wait()))
        time.sleep(3)
        st.send_signal(signal.SIGINT)
        st.wait(timeout=30)
        with open(trace) as f:
            text = f.read()
        task = "/proc/%d/task>" % t.pid
        polls = sum(1 for line in text.splitlines() if task in line)
        self.assertEqual(polls, 0, "the daemon read PID %d's task directory %d times in "
                         "3 s of a steady thread set:\n%s" % (t.pid, polls, text[:2000]))
        snap = os.path.join(self.tmp, "snap.txt")

        def sampled():
            res = self.ctl("snapshot", str(t.pid), "-o", snap)
            self.assertEqual(res.returncode, 0, res.stderr)
            with open(snap) as f:
                return "late_worker" in f.read()
        self.assertFalse(sampled())
        os.kill(t.pid, signal.SIGUSR1)
        t0 = time.monotonic()
        seen = wait_for(sampled, 15)
        took = time.monotonic() - t0
        self.assertTrue(seen, "a thread started by PID %d was not sampled within 15 s"
                        % t.pid)
        self.assertLess(took, THREAD_S, "a new thread was first sampled %.2f s after it "
                        "started" % took)
        sys.stderr.write("\n  task directory reads in 3 s: %d; new thread sampled after %.2f s\n"
                         % (polls, took))

    def test_exit_finalized_by_its_event(self):
        # At 1 Hz a target's tick finds it gone up to a second late, and
        # the scan its exit event asked for came before: it waited for the
        # next whole scan (the soak saw 3 s). Its exit event is enough.
        self.write_config("[target slow]\npython = all\ncmdline = %s\nrate = 1\n"
                          % self.script)
        self.start_daemon()
        svcs = [self.service("ex%d" % i) for i in range(3)]
        self.assertTrue(wait_for(lambda: {t.pid for t in svcs} <= self.status_pids(),
                                 PICKUP_S), self.read_log())
        late = []
        for t in svcs:
            time.sleep(0.3)	# another phase of its 1 Hz tick
            pid = t.pid
            t0 = time.monotonic()
            t.kill()
            gone = wait_for(lambda: "PID %d (it exited)" % pid in self.read_log(), 5)
            took = time.monotonic() - t0
            self.assertTrue(gone, self.read_log())
            if took > FINAL_S:
                late.append("PID %d %.2f s" % (pid, took))
        self.assertEqual(late, [], "finalized later than %.1f s after its exit "
                         "at 1 Hz: %s" % (FINAL_S, late))


if __name__ == "__main__":
    unittest.main()
