"""loupe top's header (issue 24, point 2) and snapshot key (point 6), in
tmux: the rate achieved against the rate asked as a bar with the missed
share, the threads by state on a target with known states (one thread
spinning, one sleeping, the main one waiting in join), the top three
functions, at 160, 120, 80 and 60 columns; key s writes what is shown to a
file that 'loupe report' reads, the filter and mode included.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top_header.py -v
"""
import os
import re
import shlex
import sys
import unittest

from harness import LOUPE, run_loupe, script_path
from interpreters import opt, pyenv
from test_top import TopTestCase, samples_taken

# The last tick's threads: spinner running, sleeper and main idle.
STATES = re.compile(r"threads 3: 1 on CPU, 1 holding GIL, 2 idle")
RATE = re.compile(r"rate (\d+\.\d)/100 Hz\s+\[([\u2588\u2591#.]+)\]\s+(\d+\.\d)% missed")


class TopHeader(TopTestCase):

    def states_target(self):
        return self.start([self.python, script_path("thread_states.py")])

    def header_shown(self, lines):
        text = "\n".join(lines)
        return ((samples_taken(lines) or 0) >= 100 and STATES.search(text)
                and RATE.search(text) and "top by %OwnWall:" in text
                and "spin" in text)

    def test_header_at_each_width(self):
        t = self.states_target()
        s = self.top("-p", t.pid, "-r", 100, width=160, height=30)
        for width in (160, 120, 80, 60):
            s.resize(width, 30)
            lines = s.wait(lambda l: self.header_shown(l) and
                           all(len(x) <= width for x in l) and
                           len(l[0]) <= width and
                           any(RATE.search(x) for x in l[:6]),
                           "the header at %d columns" % width, timeout=20)
            text = "\n".join(lines)
            for line in lines:
                self.assertLessEqual(len(line), width, text)
            m = RATE.search(text)
            # the rate achieved on a quiet target is near the rate asked;
            # the bar is full but for the missed share
            self.assertGreater(float(m.group(1)), 50.0, text)
            self.assertGreaterEqual(len(m.group(2)), 5, text)
            # the top three: the three threads' leaf functions, in the
            # order of the table
            top = [l for l in lines if l.startswith("top by %OwnWall:")][0]
            for name in ("spin", "sleep"):
                self.assertIn(name, top, text)
            if width >= 120:
                # every part: idle explained, what is not known said so
                self.assertIn("(idle: system call, lock or GIL wait)", text)
                # the GIL's waiters, counted by glibc (none here: the
                # spinner alone wants it; test_top_state.py)
                self.assertRegex(text, r"\b[01] waiting for GIL")
                self.assertIn("GC n/a", text)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)

    def test_short_terminal_drops_header_lines(self):
        t = self.states_target()
        s = self.top("-p", t.pid, width=80, height=14)
        lines = s.wait(lambda l: (samples_taken(l) or 0) >= 50 and
                       STATES.search("\n".join(l)) is not None,
                       "the states line at 14 lines")
        text = "\n".join(lines)
        # 14 lines: the top three go first, the states and the rate stay
        self.assertNotIn("top by", text)
        self.assertRegex(text, RATE)
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def snap(self, s, before=None):
        def written(lines):
            m = re.search(r"snapshot written to (\S+)", "\n".join(lines))
            return m.group(1) if m and m.group(1) != before else None
        s.keys("s")
        name = written(s.wait(written, "the snapshot's message"))
        path = os.path.join(self.tmp, name)
        self.assertTrue(os.path.isfile(path), path)
        return path

    def top_in_tmp(self, *args, **kw):
        cmd = "cd %s && exec %s top %s" % (
            shlex.quote(self.tmp), shlex.quote(LOUPE),
            " ".join(shlex.quote(str(a)) for a in args))
        return self.top("sh", "-c", cmd, prefix=[], **kw)

    def test_snapshot_key_writes_what_is_shown(self):
        t = self.states_target()
        s = self.top_in_tmp("-p", t.pid, "--format", "loupe", width=120)
        s.wait(lambda l: (samples_taken(l) or 0) >= 100, "100 samples")
        # the name record gives without -o, in the format asked
        path = self.snap(s)
        self.assertRegex(os.path.basename(path),
                         r"^loupe-%d-\d{8}-\d{6}(-\d+)?\.loupe$" % t.pid)
        r = run_loupe("report", path, "--format", "collapsed")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("spin", r.stdout)
        self.assertIn("sleep", r.stdout)
        # a filter and the CPU mode: only the spinner's stacks, counted
        # as the screen counts them
        s.keys("/", "s", "p", "i", "n", "Enter", "c")
        s.wait(lambda l: 'filter "spin"' in "\n".join(l) and
               "mode cpu" in "\n".join(l), "the filter and cpu mode")
        path2 = self.snap(s, before=os.path.basename(path))
        self.assertNotEqual(path, path2)
        r = run_loupe("report", path2, "--format", "collapsed")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("spin", r.stdout)
        self.assertNotIn("sleep", r.stdout, r.stdout)
        r = run_loupe("report", path2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"(?i)\bcpu\b")
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())

    def test_snapshot_default_is_a_flame_graph(self):
        t = self.states_target()
        s = self.top_in_tmp("-p", t.pid, width=80)
        s.wait(lambda l: (samples_taken(l) or 0) >= 50, "50 samples")
        path = self.snap(s)
        self.assertTrue(path.endswith(".svg"), path)
        with open(path) as f:
            svg = f.read()
        self.assertIn("<svg", svg)
        self.assertIn("spin", svg)
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_tasks_by_state_with_their_unit(self):
        # forty request tasks and the main one, asleep in asyncio.sleep
        # but for the one running
        t = self.start([self.python, script_path("many_tasks.py")])
        s = self.top("--tasks", "-p", t.pid, width=120, height=30)
        pat = re.compile(r"tasks 41: ([01]) running, (\d+) ready, (\d+) waiting"
                         r"  threads 1: \d on CPU")
        lines = s.wait(lambda l: pat.search("\n".join(l)) is not None,
                       "the tasks by state", timeout=20)
        m = pat.search("\n".join(lines))
        self.assertEqual(sum(int(x) for x in m.groups()), 41)
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def gc_shown(self, python, label):
        t = self.start([python, script_path("gc_busy.py")], ready="ready")
        s = self.top("-p", t.pid, width=120, height=30)
        # the collection runs most of the time: some tick finds it
        lines = s.wait(lambda l: re.search(r"threads 1: 1 on CPU, 1 holding GIL, "
                                           r"0 idle .* 1 in GC", "\n".join(l)),
                       "1 in GC on %s" % label, timeout=20)
        self.assertNotIn("GC n/a", "\n".join(lines))
        s.keys("q")
        self.assertEqual(s.status(), 0)
        self.assert_running(t)

    def test_gc_state_from_the_debug_offsets(self):
        """3.13+: _Py_DebugOffsets' gc.collecting; before, "GC n/a" (the
        3.11 target of test_header_at_each_width)."""
        tried = 0
        for label, finder in (("3.13", lambda: pyenv("3.13")),
                              ("3.14", opt(14)), ("3.15", opt(15))):
            python, why = finder()
            if python is None:
                sys.stderr.write("SKIP part %s: %s\n" % (label, why))
                continue
            with self.subTest(python=label):
                self.gc_shown(python, label)
            tried += 1
        if not tried:
            self.skip("no CPython 3.13+ found")

    def test_help_names_the_new_keys(self):
        t = self.states_target()
        s = self.top("-p", t.pid, width=100, height=40)
        s.wait(lambda l: (samples_taken(l) or 0) >= 10, "samples")
        s.keys("?")
        lines = s.wait(lambda l: "loupe top keys" in "\n".join(l), "the help")
        text = "\n".join(lines)
        self.assertRegex(text, r"x\s+trends: .*\(now off\)")
        self.assertRegex(text, r"s\s+snapshot")
        s.keys("q")
        self.assertEqual(s.status(), 0)


if __name__ == "__main__":
    unittest.main()
