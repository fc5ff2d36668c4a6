"""dump --tasks of an event loop behind its timers: a sleep that is over
but whose task the blocked loop has not resumed is said to be over (and
how long ago), never "-0.5s left"; its JSON keeps the negative
seconds_left as read.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_tasks_late.py -v
"""
import json
import os
import re
import time
import unittest

from harness import LoupeTestCase, run_loupe
from interpreters import debian, pyenv

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "targets", "late_loop.py")


class LateLoop(LoupeTestCase):

    def check(self, finder):
        t = self.start_script(finder, SCRIPT)   # "ready": the loop is held
        time.sleep(0.5)     # the sleeper's 0.2 s are over
        res = run_loupe("dump", "-p", t.pid, "--tasks")
        self.assertEqual(res.returncode, 0, res.stderr)
        m = re.search(r"→ sleep over (\d+\.\d\d)s ago, not resumed yet "
                      r"\(the event loop is behind\)", res.stdout)
        self.assertIsNotNone(m, res.stdout)
        self.assertGreater(float(m.group(1)), 0.2)
        self.assertNotIn("s left", res.stdout)
        res = run_loupe("dump", "-p", t.pid, "--tasks", "--format", "json")
        self.assertEqual(res.returncode, 0, res.stderr)
        tasks = {t_["name"]: t_ for t_ in json.loads(res.stdout)["tasks"]}
        self.assertLess(tasks["sleeper"]["waits_for"]["seconds_left"], -0.2)

    def test_pyenv_312(self):
        self.check(lambda: pyenv("3.12"))

    def test_debian_311(self):
        self.check(debian)


if __name__ == "__main__":
    unittest.main()
