"""loupe top's sort follows the mode: in wall mode the blocking call is
the first row, in cpu mode the code that works, and --sort COLUMN chooses
another (plain tables: no terminal).  A bad column is refused, exit 2.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_top_sort.py -v
"""
import sys
import unittest

from harness import LoupeTestCase, Target, run_loupe, script_path


def last_table_rows(out):
    table = out.rsplit("loupe top - ", 1)[1]
    lines = table.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip().endswith("function"))
    rows = []
    for l in lines[start + 1:]:
        if not l.strip() or not l.strip()[0].isdigit():
            break
        rows.append(l.split()[-2])  # function (file): the name
    return rows


class TopSort(LoupeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.target = Target([sys.executable, script_path("wall_split.py")])

    @classmethod
    def tearDownClass(cls):
        cls.target.kill()

    def first(self, *args):
        res = run_loupe("top", "-p", self.target.pid, "-d", "2", "--no-lines", *args)
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = last_table_rows(res.stdout)
        self.assertTrue(rows, res.stdout)
        return rows[0]

    def test_wall_mode_puts_the_blocking_call_first(self):
        self.assertEqual(self.first(), "blocking_call")

    def test_cpu_mode_puts_the_work_first(self):
        self.assertEqual(self.first("--mode", "cpu"), "busy")

    def test_sort_option(self):
        self.assertEqual(self.first("--sort", "OwnCPU"), "busy")
        self.assertEqual(self.first("--mode", "cpu", "--sort", "%ownwall"),
                         "blocking_call")
        # the total share of the mode: the module-level loop holds them all
        self.assertEqual(self.first("--sort", "TotSecs"), "<module>")

    def test_bad_column(self):
        res = run_loupe("top", "-p", self.target.pid, "--sort", "speed")
        self.assertEqual(res.returncode, 2)
        self.assertIn("unknown --sort column 'speed'", res.stderr)


if __name__ == "__main__":
    unittest.main()
