"""--tasks outputs people can read: forty request tasks of one coroutine
are one tower whose root says "40 tasks: handle_request", the main task
keeps its name, and --per-task gives the old root per task; a .loupe keeps
every task and report groups it the same way.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_task_groups.py -v
"""
import os
import re
import sys
import tempfile
import unittest

from harness import LoupeTestCase, Target, read_collapsed, run_loupe, script_path


def roots(stacks):
    out = {}
    for s, n in stacks.items():
        out[s[0]] = out.get(s[0], 0) + n
    return out


class TaskGroups(LoupeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.TemporaryDirectory()
        cls.rec = os.path.join(cls.work.name, "svc.loupe")
        t = Target([sys.executable, script_path("many_tasks.py")])
        try:
            cls.res = run_loupe("record", "--tasks", "-p", t.pid, "-d", "2",
                                "-o", cls.rec, "-q")
        finally:
            t.kill()

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def collapsed(self, *extra):
        out = os.path.join(self.work.name, "c%d.txt" % len(extra))
        res = run_loupe("report", self.rec, "-o", out, *extra)
        self.assertEqual(res.returncode, 0, res.stderr)
        return read_collapsed(out)

    def test_grouped_by_coroutine(self):
        self.assertEqual(self.res.returncode, 0, self.res.stderr)
        r = roots(self.collapsed())
        self.assertIn("40 tasks: handle_request", r, sorted(r)[:10])
        self.assertFalse([k for k in r if re.match(r"task Task-\d+$", k) and
                          k != "task Task-1"], sorted(r)[:10])
        # the tower holds the chains of all forty
        stacks = self.collapsed()
        tower = [s for s in stacks if s[0] == "40 tasks: handle_request"]
        self.assertTrue(any(f.startswith("parse (") for s in tower for f in s))
        self.assertTrue(any(f.startswith("query (") for s in tower for f in s))

    def test_per_task(self):
        r = roots(self.collapsed("--per-task"))
        tasks = [k for k in r if k.startswith("task Task-")]
        self.assertGreaterEqual(len(tasks), 35, sorted(r)[:10])
        self.assertFalse([k for k in r if "tasks:" in k])

    def test_same_weight(self):
        grouped = sum(self.collapsed().values())
        per_task = sum(self.collapsed("--per-task").values())
        self.assertEqual(grouped, per_task)

    def test_svg_root(self):
        out = os.path.join(self.work.name, "t.svg")
        res = run_loupe("report", self.rec, "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out) as f:
            self.assertIn("40 tasks: handle_request", f.read())


if __name__ == "__main__":
    unittest.main()
