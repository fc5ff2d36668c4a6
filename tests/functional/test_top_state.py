"""loupe top's header, issue 24 point 2: the threads waiting for the GIL
(the waiters glibc counts on the GIL's condition variable) and, with
--tasks, the tasks ready (their step or wakeup in the loop's ready queue),
both printed as "n/a" before.  In tmux, on every interpreter they apply
to: three threads spinning in pure Python (two wait for the GIL at any
time), and thirty tasks looping on `await asyncio.sleep(0)` while one
task holds the loop in time.sleep (the thirty pile up ready).

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top_state.py -v
"""
import re
import sys
import time
import unittest

from harness import script_path
from interpreters import debian, opt, pyenv
from test_top import TopTestCase

SETUPS = [("3.8", lambda: pyenv("3.8")), ("3.11", lambda: pyenv("3.11")),
          ("3.12", lambda: pyenv("3.12")), ("3.13", lambda: pyenv("3.13")),
          ("3.14", opt(14)), ("3.15", opt(15)), ("3.11 Debian", debian)]

GIL_WAIT = re.compile(r"threads 4: \d on CPU, [01] holding GIL, \d idle.*?"
                      r"  (\d+) waiting for GIL")
READY = re.compile(r"tasks (\d+): ([01]) running, (\d+) ready, (\d+) waiting")
SPINNERS = 30


class TopState(TopTestCase):

    def figures(self, s, pat, what, seconds=3.0):
        """The figures pat finds over several refreshes (one a second)."""
        lines = s.wait(lambda l: pat.search("\n".join(l)) is not None,
                       what, timeout=30)
        seen = [pat.search("\n".join(lines)).groups()]
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.5)
            m = pat.search("\n".join(s.lines()))
            if m and m.groups() != seen[-1]:
                seen.append(m.groups())
        got = [tuple(int(x) for x in g) for g in seen]
        sys.stderr.write("%s: %r\n" % (what, got))
        return got, "\n".join(s.lines())

    def each(self, check):
        tried = 0
        for label, finder in SETUPS:
            python, why = finder()
            if python is None:
                sys.stderr.write("SKIP part %s: %s\n" % (label, why))
                continue
            with self.subTest(python=label):
                check(python, label)
            tried += 1
        if not tried:
            self.skip("no CPython found")

    def gil_waiters(self, python, label):
        t = self.start([python, script_path("gil_contend.py"), "3"])
        s = self.top("-p", t.pid, width=160, height=30)
        # on a busy box a waiter whose timed wait ended may wait for a CPU
        # (not counted) through several refreshes in a row: 8 s of them
        # (the CI saw 1, 1, 1 on Debian's 3.11 in 3 s)
        seen, text = self.figures(s, GIL_WAIT, "the GIL waiters on " + label,
                                  seconds=8.0)
        waits = [w for (w,) in seen]
        # one of the three spinners holds the GIL, the two others sleep
        # on its cond (one may be between two timed waits at a tick)
        self.assertIn(2, waits, "%s: %r\n%s" % (label, waits, text))
        self.assertLessEqual(max(waits), 3, "%s: %r\n%s" % (label, waits, text))
        self.assertNotIn("GIL wait n/a", text)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)

    def test_threads_waiting_for_the_gil(self):
        self.each(self.gil_waiters)

    def ready_tasks(self, python, label, *extra):
        t = self.start([python, script_path("ready_pile.py"), str(SPINNERS)]
                       + list(extra))
        s = self.top("--tasks", "-p", t.pid, width=160, height=30)
        seen, text = self.figures(s, READY, "the ready tasks on " + label)
        for total, running, ready, waiting in seen:
            # the spinners, the blocker and the sleeper
            self.assertEqual(total, SPINNERS + 2, text)
            self.assertEqual(running + ready + waiting, total, text)
        # the blocker runs (time.sleep) with every spinner queued: a tick
        # in a spinner's own short step sees one fewer
        best = max(ready for _, _, ready, _ in seen)
        self.assertGreaterEqual(best, SPINNERS - 2, "%s: %r\n%s" % (label, seen, text))
        self.assertLessEqual(best, SPINNERS, "%s: %r\n%s" % (label, seen, text))
        self.assertTrue(all(w >= 1 for _, _, _, w in seen),
                        "the sleeper waits: %r\n%s" % (seen, text))
        self.assertNotIn("ready n/a", text)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)

    def test_tasks_ready(self):
        self.each(self.ready_tasks)

    def test_pure_python_tasks_ready(self):
        """asyncio.tasks._PyTask: bound methods in the queue."""
        python, why = pyenv("3.11")
        if python is None:
            self.skip(why)
        self.ready_tasks(python, "3.11 _PyTask", "py")

    def test_uvloop_ready_is_not_known(self):
        python, why = debian("uvloop")
        if python is None:
            self.skip(why)
        t = self.start([python, script_path("ready_pile.py"), str(SPINNERS),
                        "uvloop"])
        s = self.top("--tasks", "-p", t.pid, width=160, height=30)
        pat = re.compile(r"tasks (\d+): [01] running, \d+ waiting  ready n/a")
        lines = s.wait(lambda l: pat.search("\n".join(l)) is not None,
                       "ready n/a on uvloop", timeout=30)
        self.assertEqual(int(pat.search("\n".join(lines)).group(1)),
                         SPINNERS + 2)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())


if __name__ == "__main__":
    unittest.main()
