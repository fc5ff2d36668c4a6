"""loupe trace groups stalls by code path without the task's name and with
lines folded to the function: three named tasks stalling in one call, from
two lines, are one path; each stall listed keeps its task and lines.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_trace_groups.py -v
"""
import re
import sys
import unittest

from harness import LoupeTestCase, Target, run_loupe, script_path


class TraceGroups(LoupeTestCase):
    def test_one_path_for_many_tasks(self):
        t = Target([sys.executable, script_path("async_stall_tasks.py")])
        try:
            res = run_loupe("trace", "-p", t.pid, "-d", "3", "--threshold", "50ms")
        finally:
            t.kill()
        self.assertEqual(res.returncode, 0, res.stderr)
        out = res.stdout
        stalls = re.findall(r"(?m)^    stall at .*$", out)
        self.assertGreaterEqual(len(stalls), 4, out)
        # each stall keeps its task's name and lines
        with_stack = [s for s in stalls if "blocker (" in s]
        self.assertTrue(with_stack, out)
        for s in with_stack:
            self.assertRegex(s, r"task worker-\d → worker \(async_stall_tasks\.py:\d+\)", s)
        self.assertGreaterEqual(len(set(re.findall(r"task (worker-\d)", out))), 2, out)
        # one group for all of them
        table = out.split("stalls by code path", 1)[1].split("syscalls while busy", 1)[0]
        rows = [l for l in table.splitlines()[2:] if l.strip()]
        blocker_rows = [r for r in rows if "blocker" in r]
        self.assertEqual(len(blocker_rows), 1, table)
        self.assertRegex(blocker_rows[0],
                         r"^ +(\d+) .*  worker \(async_stall_tasks\.py\) → "
                         r"blocker \(async_stall_tasks\.py\)")
        self.assertEqual(int(blocker_rows[0].split()[0]), len(with_stack), table)
        self.assertNotIn("task ", table)


if __name__ == "__main__":
    unittest.main()
