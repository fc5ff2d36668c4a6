"""CPython 3.15 (and 3.14) beside the others (issue #19): loupe top in a
real terminal (tmux) on split.py, whose hot_three burns 3x what hot_one
burns; loupe trace on async_stall.py, whose coroutine blocks its loop with
time.sleep(0.2) once a second; and the daemon, with a section that
matches a 3.15 service by its command line and a snapshot that names its
functions.  The interpreters are Debian's static, stripped builds that
tools/get-python brings in; one that is missing is a printed skip.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_py315.py -v
"""
import os
import re
import time
import unittest

import test_daemon
from harness import script_path
from interpreters import py314, py315
from test_top import TopTestCase, hot_first, samples_taken, table
from test_trace import TraceTestCase, parse_trace

# (test suffix, finder): each finder gives (path, None) or (None, why)
PYTHONS = [("py315", py315), ("py314", py314)]


def interpreter(test, finder):
    path, why = finder()
    if not path:
        test.skipTest(why)  # tests/run prints it: "SKIP id: why"
    return path


def each_python(cls):
    """One test per interpreter of PYTHONS for every check_NAME(py) of
    cls: test_NAME_py315, test_NAME_py314."""
    for name in [n for n in vars(cls) if n.startswith("check_")]:
        for suffix, finder in PYTHONS:
            def test(self, name=name, finder=finder):
                getattr(self, name)(interpreter(self, finder))
            test.__name__ = "test_%s_%s" % (name[len("check_"):], suffix)
            setattr(cls, test.__name__, test)
    return cls


@each_python
class Top(TopTestCase):

    def check_hot_function_first(self, py):
        t = self.start([py, script_path("split.py")])
        s = self.top("-p", t.pid, "--no-lines", "-r", 300)
        lines = s.wait(lambda l: hot_first(l) and samples_taken(l) >= 300,
                       "hot_three on the first row, from 300 samples")
        text = "\n".join(lines)
        minor = re.search(r"python3\.(\d+)$", py).group(1)
        self.assertRegex(text, r"PID %d \S+ \(CPython 3\.%s\." % (t.pid, minor))
        own = dict((n, float(c[0].rstrip("%"))) for c, n in table(lines))
        self.assertIn("hot_one (split.py)", own, text)
        ratio = own["hot_three (split.py)"] / max(own["hot_one (split.py)"], 0.1)
        self.assertGreater(ratio, 1.8, text)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)


@each_python
class Trace(TraceTestCase):

    def check_asyncio_stalls(self, py):
        script = script_path("async_stall.py")
        t = self.start([py, script, "1"])
        res = self.trace(t)
        found = parse_trace(res.stdout)
        self.assertEqual(list(found), [t.pid], res.stdout)
        # the stalls, at the line of the time.sleep call, under the task
        self.assert_sleep_stalls(found[t.pid], script)


class DaemonPy(test_daemon.Daemon):
    """The daemon's own tests' set-up, with none of their tests: a section
    for one service of the interpreter under test."""

    def check_service(self, py):
        self.py = py
        self.configure(name="svc3", rate=97)
        a = self.target()
        d = self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        # within a deadline, until the snapshot holds 150 samples of the
        # two hot functions
        txt = os.path.join(self.tmp, "now.txt")
        deadline = time.monotonic() + 30
        while True:
            res = self.ctl("snapshot", str(a.pid), "-o", txt)
            self.assertEqual(res.returncode, 0, res.stderr)
            counts = {"hot_three": 0, "hot_one": 0}
            stacks = []
            with open(txt) as f:
                for line in f:
                    stack, n = line.rsplit(" ", 1)
                    stacks.append(stack)
                    leaf = stack.split(";")[-1].split(" ")[0]
                    if leaf in counts:
                        counts[leaf] += int(n)
            if sum(counts.values()) >= 150 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertGreaterEqual(sum(counts.values()), 150, counts)
        self.assertGreater(counts["hot_three"], counts["hot_one"], counts)
        # Python frames named with their file, under the script's work()
        self.assertTrue(any(re.search(r"work \(\S*daemon_split\.py(:\d+)?\);"
                                      r"hot_three \(\S*daemon_split\.py", s)
                            for s in stacks), "\n".join(stacks[:20]))
        res = self.ctl("dump", str(a.pid))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"(?m)^    (work|hot_three|hot_one) "
                                     r"\(.*daemon_split\.py:\d+\)$")
        d.terminate()
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())


# the inherited tests run in test_daemon.py, not once more here
for _name in [n for n in dir(test_daemon.Daemon) if n.startswith("test_")]:
    setattr(DaemonPy, _name, None)
each_python(DaemonPy)


if __name__ == "__main__":
    unittest.main()
