"""loupe trace: event-loop ticks and stalls of live processes.

An asyncio loop that a coroutine blocks with time.sleep(0.2) once a second
(on several interpreters, and with two loop threads at once); a loop of
short callbacks with a known busy share; a C program's epoll loop with a
known slow handler; the Chrome trace and .loupe outputs; no event loop; a
target that exits; the ptrace fallback.
"""
import glob
import json
import os
import re
import shutil
import time

import subprocess

from harness import (LOUPE, LoupeTestCase, expected_lines, run_loupe,
                     script_path, target_path, thread_states)

PYENV = "/root/.pyenv/versions"
DEBIAN_PY = "/usr/bin/python3.11"

# "    stall at 0.871 s lasting 200.4 ms on thread 24011: PATH [..]; syscalls: .."
STALL_RE = re.compile(r"^\s+stall at ([\d.]+) s lasting ([\d.]+) ms(?: \(still "
                      r"running at the end\))? on thread (\d+): (.*)$")
LOOP_RE = re.compile(r"^Event loop on thread (\d+)")
UTIL_RE = re.compile(r"^\s+utilization\s+([\d.]+)% busy")


def pyenv(minor):
    found = sorted(glob.glob(os.path.join(PYENV, minor + ".*", "bin", "python")))
    return found[-1] if found else None


def parse_trace(text):
    """{tid: {"util": float, "stalls": [(start s, ms, rest of line)]}}"""
    loops = {}
    cur = None
    for line in text.splitlines():
        m = LOOP_RE.match(line)
        if m:
            cur = loops.setdefault(int(m.group(1)), {"util": None, "stalls": []})
            continue
        if cur is None:
            continue
        m = UTIL_RE.match(line)
        if m:
            cur["util"] = float(m.group(1))
        m = STALL_RE.match(line)
        if m:
            cur["stalls"].append((float(m.group(1)), float(m.group(2)),
                                  m.group(4)))
    return loops


# Targets and loupe run ahead of the rest of the box (SCHED_FIFO, as root):
# these tests time the target's loop in ms, and on a box with more jobs than
# CPUs a process preempted for 50 ms has a real stall, but not the one the
# test looks for; nice alone does not prevent that.  The targets sleep most
# of the time (the kernel's RT throttling caps them anyway).
NICE = ["chrt", "-f", "5"] if os.geteuid() == 0 and shutil.which("chrt") else []


class TraceTestCase(LoupeTestCase):

    def start(self, argv, **kw):
        return super().start(NICE + argv, **kw)

    def trace(self, target, *extra, duration=3.5, expect=0):
        res = subprocess.run(NICE + [LOUPE, "trace", "-p", str(target.pid),
                                     "-d", str(duration)] + [str(a) for a in extra],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, expect,
                         "loupe trace exit %d: %s" % (res.returncode, res.stderr))
        return res

    def python(self, path):
        if not path or not os.access(path, os.X_OK):
            self.skipTest("interpreter %s not installed" % path)
        return path

    def assert_sleep_stalls(self, loop, script, task=True):
        """At least 2 stalls of 150-250 ms blamed on the calling function
        at the line of its time.sleep call, with the sleep as the syscall
        that blocked (select before CPython 3.11).  Only those are counted:
        on a box with more jobs than CPUs the target can also be preempted
        for that long elsewhere."""
        marks = expected_lines(script)
        path = "blocker (async_stall.py:%d) → legacy_sync_call (async_stall.py:%d)" % (
            marks["blocker_call"], marks["sleep_call"])
        sleep = re.compile(r"syscalls: (clock_nanosleep|nanosleep|select|pselect6) "
                           r"1x (1[5-9]|2[0-4])\d\.\d ms")
        good = [s for s in loop["stalls"] if 150 <= s[1] <= 250 and
                path in s[2] and sleep.search(s[2])]
        self.assertGreaterEqual(len(good), 2, "\n".join(map(str, loop["stalls"])))
        # The asyncio task that held the loop leads the path (#6, #7).
        named = re.compile(r"task \S+ → stall_every_second \(async_stall\.py:")
        for s in good:
            if task:
                self.assertRegex(s[2], named)


class AsyncioStall(TraceTestCase):
    """async_stall.py: time.sleep(0.2) in a coroutine once a second."""

    def check(self, py, loops=1, *extra):
        script = script_path("async_stall.py")
        t = self.start([self.python(py), script, str(loops)])
        res = self.trace(t, *extra)
        found = parse_trace(res.stdout)
        self.assertEqual(len(found), loops, res.stdout)
        self.assertTrue(set(found) <= set(t.tids()), res.stdout)
        if loops == 1:
            self.assertEqual(list(found), [t.pid], res.stdout)
        for tid, loop in found.items():
            # With several loops in one process the running task is not
            # always tied to its thread yet (see the #6 note).
            self.assert_sleep_stalls(loop, script, task=loops == 1)
        return t, res

    def test_python312_two_loop_threads(self):
        # each loop thread tracked and its stalls found on its own
        self.check(pyenv("3.12"), 2)

    def test_debian_python311(self):
        # static, stripped interpreter
        self.check(DEBIAN_PY)

    def test_python38_sleeps_in_select(self):
        # up to 3.10 time.sleep is select(0, ...): a sleep inside the
        # tick, not the loop's own wait
        self.check(pyenv("3.8"))

    def test_subprocesses_each_worker_loop(self):
        # trace --subprocesses: the loop of every forked worker is found
        # and its stalls blamed on it; the parent, which has no loop, is
        # not listed
        py = self.python(pyenv("3.12"))
        script = script_path("async_stall.py")
        t = self.start([py, script_path("async_workers.py"), "2"])
        workers = [int(p) for line in t.lines if line.startswith("workers ")
                   for p in line.split()[1:]]
        self.assertEqual(len(workers), 2, t.lines)
        res = self.trace(t, "--subprocesses")
        found = parse_trace(res.stdout)
        self.assertEqual(sorted(found), sorted(workers), res.stdout)
        for tid, loop in found.items():
            self.assert_sleep_stalls(loop, script)
        for pid in [t.pid] + workers:
            states = thread_states(pid)
            self.assertFalse([s for s in states.values() if s in "tT"], states)

    def test_ptrace_fallback(self):
        t, res = self.check(pyenv("3.12"), 1, "--ptrace")
        self.assertIn("tracing with ptrace", res.stderr)
        self.assertIn(", ptrace,", res.stdout)
        # detached: nobody traces the target, nothing left stopped
        with open("/proc/%d/status" % t.pid) as f:
            self.assertIn("TracerPid:\t0\n", f.read())
        self.assertNotIn("t", thread_states(t.pid).values())


class AsyncioBusyShare(TraceTestCase):

    def test_short_callbacks_utilization(self):
        # a callback spins 3 ms every 10 ms: 30% busy, no stall
        log = self.path("busy.log")
        t = self.start([self.python(pyenv("3.12")), script_path("async_busy.py"),
                        "0.3", log])
        for attempt in range(3):
            t0 = time.monotonic()
            res = self.trace(t, duration=3)
            t1 = time.monotonic()
            found = parse_trace(res.stdout)
            # On a box with more jobs than CPUs the target can be
            # preempted in a callback for 50 ms and more: a real stall of
            # the loop, but not one of the target's making.  Retried.
            if not found.get(t.pid, {}).get("stalls"):
                break
        self.assertEqual(list(found), [t.pid], res.stdout)
        loop = found[t.pid]
        self.assertEqual(loop["stalls"], [])
        self.assertIn("stalls          0 over 50 ms", res.stdout)
        # The share the callbacks really had over the seconds traced: 30%
        # on an idle box, more when they were preempted in their spin.
        busy = span = 0.0
        with open(log) as f:
            for line in f:
                end, b, s = (float(x) for x in line.split())
                if end - s >= t0 and end <= t1:
                    busy += b
                    span += s
        self.assertGreater(span, 1.0, "the target logged no full second")
        real = 100.0 * busy / span
        msg = "loupe %.1f%%, callbacks %.1f%% of the time: %s" % (
            loop["util"], real, res.stdout)
        self.assertAlmostEqual(loop["util"], real, delta=10.0, msg=msg)
        if real < 35.0:     # not preempted much: the share it was built for
            self.assertAlmostEqual(loop["util"], 30.0, delta=10.0, msg=msg)


class EpollSlowHandler(TraceTestCase):
    """epoll_slow.c: every second slow_handler() spins 60 ms, sleeps 60 ms."""

    def test_stalls_and_chrome_trace(self):
        t = self.start([target_path("epoll_slow")])
        out = self.path("epoll.trace.json")
        res = self.trace(t, "-o", out)
        found = parse_trace(res.stdout)
        self.assertEqual(list(found), [t.pid], res.stdout)
        # 120 ms, longer when the box is overloaded and the target
        # preempted
        sleep = re.compile(r"syscalls: clock_nanosleep 1x [56]\d\.\d ms")
        stalls = [s for s in found[t.pid]["stalls"] if 100 <= s[1] <= 250 and
                  "handle_tick → slow_handler" in s[2] and sleep.search(s[2])]
        self.assertGreaterEqual(len(stalls), 2, res.stdout)
        # the CPU part as the second path (when loupe got to sample it)
        self.assertTrue(any("→ spin_ms" in s[2] or "spin_ms →" in s[2] for s in stalls),
                        res.stdout)
        # the Chrome trace: ticks as slices, stalls among them, samples
        with open(out) as f:
            doc = json.load(f)
        ev = doc["traceEvents"]
        ticks = [e for e in ev if e["ph"] == "X" and e["cat"] == "tick"]
        stall = [e for e in ev if e["ph"] == "X" and e["cat"] == "stall"]
        self.assertGreater(len(ticks), 200)   # a tick every 10 ms
        self.assertGreaterEqual(len(stall), 2)
        self.assertGreaterEqual(sum(1 for e in stall if 100000 <= e["dur"] <= 250000 and
                                    "slow_handler" in e["args"]["detail"]), 2)
        self.assertTrue(all(e["tid"] == ticks[0]["tid"] for e in ticks + stall))
        names = [e for e in ev if e["ph"] == "M" and e["tid"] == ticks[0]["tid"]]
        self.assertEqual(names[0]["args"]["name"], "loop %d" % t.pid)
        begins = [e for e in ev if e["ph"] == "B" and e["tid"] == t.pid]
        self.assertTrue(any(e["name"] == "slow_handler" for e in begins))


class TraceOutputs(TraceTestCase):

    def test_raw_recording_keeps_ticks(self):
        t = self.start([target_path("epoll_slow")])
        raw = self.path("epoll.loupe")
        self.trace(t, "-o", raw, duration=2.5)
        conv = self.path("again.trace.json")
        res = run_loupe("report", raw, "-o", conv)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(conv) as f:
            ev = json.load(f)["traceEvents"]
        self.assertGreater(sum(1 for e in ev if e.get("cat") == "tick"), 100)
        self.assertGreaterEqual(sum(1 for e in ev if e.get("cat") == "stall"), 1)
        # and its summary lists the stalls
        res = run_loupe("report", raw)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"Event-loop trace: \d+ ticks, [1-9]\d* stalls")
        self.assertRegex(res.stdout, r"stall [\d.]+ ms at [\d.]+ s on thread %d: .*slow_handler" % t.pid)


class TraceBadCases(TraceTestCase):

    def test_no_event_loop(self):
        t = self.start([self.python(pyenv("3.12")), script_path("split.py")])
        res = self.trace(t, duration=1.5, expect=1)
        self.assertRegex(res.stderr, r"^loupe: no event loop in PID %d: " % t.pid)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)

    def test_target_exits(self):
        # the summary is still printed when the target exits mid-trace
        code = ("import asyncio, sys, time\n"
                "async def main():\n"
                "    for i in range(150):\n"
                "        await asyncio.sleep(0.01)\n"
                "    time.sleep(0.1)\n"
                "    await asyncio.sleep(0.1)\n"
                "asyncio.run(main())\n")
        py = self.python(pyenv("3.12"))
        res = subprocess.run(NICE + [LOUPE, "trace", "--", py, "-c", code],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("the target exited", res.stdout)
        found = parse_trace(res.stdout)
        self.assertEqual(len(found), 1, res.stdout)
        loop = list(found.values())[0]
        # the time.sleep(0.1) in main, and no stall "still running" for the
        # interpreter's shutdown after the loop
        self.assertEqual([s for s in loop["stalls"] if 80 <= s[1] <= 200 and
                          "main (<string>:5)" in s[2]] != [], True, res.stdout)
        self.assertNotIn("still running", res.stdout)

    def test_no_permission_for_tracepoints(self):
        # An unprivileged user may not read the tracepoints: loupe says so
        # and traces its own process with ptrace instead.
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or not setpriv:
            self.skipTest("needs root and setpriv to run as another user")
        nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        t = self.start(nobody + [self.python(DEBIAN_PY), script_path("async_stall.py")])
        res = subprocess.run(nobody + [LOUPE, "trace", "-p", str(t.pid), "-d", "2.5"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stderr, r"^loupe: warning: syscall tracepoints unavailable "
                         r"\(.*permission denied.*\): tracing with ptrace")
        found = parse_trace(res.stdout)
        self.assertEqual(list(found), [t.pid], res.stdout)
        self.assertGreaterEqual(len([s for s in found[t.pid]["stalls"]
                                     if "legacy_sync_call" in s[2]]), 1, res.stdout)
        # and a process it may not trace at all: one line, exit 1
        other = super().start([self.python(DEBIAN_PY), script_path("async_stall.py")])
        res = subprocess.run(nobody + [LOUPE, "trace", "-p", str(other.pid), "-d", "1"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 1)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertIn("permission denied", res.stderr)

    def test_bad_threshold(self):
        res = run_loupe("trace", "-p", "1", "--threshold", "fast")
        self.assertEqual(res.returncode, 2)
        self.assertIn("invalid threshold 'fast'", res.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
