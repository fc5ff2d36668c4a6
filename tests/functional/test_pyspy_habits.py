"""A py-spy user's habits: py-spy's spellings of the same options work
(-f with its format names, -n, -s, -i, -F/--function, --nolineno, --gil,
dump --json), durations take units, and a misspelt option is answered with
the nearest one this command takes, in one line and exit 2.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_pyspy_habits.py -v
"""
import json
import os
import sys
import tempfile
import time
import unittest

from harness import LoupeTestCase, Target, read_collapsed, run_loupe, script_path


class PySpyHabits(LoupeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.target = Target([sys.executable, script_path("fib_loop.py")])
        cls.work = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.target.kill()
        cls.work.cleanup()

    def out(self, name):
        return os.path.join(self.work.name, name)

    def test_format_short_with_units(self):
        path = self.out("stacks.out")
        t0 = time.monotonic()
        res = run_loupe("record", "-p", self.target.pid, "-d", "700ms",
                        "-f", "collapsed", "-F", "-o", path, "-q")
        took = time.monotonic() - t0
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertLess(took, 30)
        stacks = read_collapsed(path)
        self.assertTrue(stacks)
        # -F: by function, so no frame carries a line
        for stack in stacks:
            for frame in stack:
                self.assertNotRegex(frame, r":\d+\)$", frame)
        self.assertTrue(any(f.startswith("fib") for s in stacks for f in s))

    def test_chrometrace_and_gil(self):
        path = self.out("t.json")
        res = run_loupe("record", "-p", self.target.pid, "-d", "1s", "--gil",
                        "--nolineno", "-f", "chrometrace", "-o", path, "-q")
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(path) as f:
            doc = json.load(f)
        self.assertIn("traceEvents", doc)
        self.assertTrue(any(e.get("name", "").startswith("fib")
                            for e in doc["traceEvents"]))

    def test_short_native_idle_subprocesses(self):
        path = self.out("n.txt")
        res = run_loupe("record", "-p", self.target.pid, "-d", "0.5s",
                        "-n", "-i", "-s", "-o", path, "-q")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(read_collapsed(path))

    def test_record_without_output(self):
        cwd = tempfile.mkdtemp(dir=self.work.name)
        res = run_loupe("record", "-p", self.target.pid, "-d", "0.5s", "-q", cwd=cwd)
        self.assertEqual(res.returncode, 0, res.stderr)
        made = os.listdir(cwd)
        self.assertEqual(len(made), 1, made)
        self.assertRegex(made[0], r"^loupe-%d-\d{8}-\d{6}\.svg$" % self.target.pid)
        self.assertIn("writing %s" % made[0], res.stderr)
        with open(os.path.join(cwd, made[0])) as f:
            self.assertIn("<svg", f.read(200))
        res = run_loupe("record", "-p", self.target.pid, "-d", "0.3", "-q",
                        "--format", "speedscope", cwd=cwd)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(any(n.endswith(".speedscope.json") for n in os.listdir(cwd)))

    def test_dump_json(self):
        res = run_loupe("dump", "-p", self.target.pid, "--json")
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.loads(res.stdout)
        self.assertEqual(doc["pid"], self.target.pid)

    def test_misspelt_option_gets_nearest(self):
        for cmd, bad, good in (("record", "--subprocesess", "--subprocesses"),
                               ("record", "--natvie", "--native"),
                               ("top", "--treads", "--threads"),
                               ("dump", "--tsks", "--tasks")):
            res = run_loupe(cmd, bad, "-p", self.target.pid)
            self.assertEqual(res.returncode, 2, (cmd, bad))
            self.assertEqual(res.stderr.strip().splitlines(),
                             ["loupe: unknown option '%s': did you mean %s? "
                              "(see 'loupe %s --help')" % (bad, good, cmd)])
        res = run_loupe("record", "--xyzzy", "-p", self.target.pid)
        self.assertEqual(res.returncode, 2)
        self.assertNotIn("did you mean", res.stderr)
        # only options the command takes are offered
        res = run_loupe("report", "--subprocesess", "x.loupe")
        self.assertEqual(res.returncode, 2)
        self.assertNotIn("--subprocesses", res.stderr)

    def test_bad_duration_unit(self):
        res = run_loupe("record", "-p", self.target.pid, "-d", "5parsecs",
                        "-o", self.out("x.txt"))
        self.assertEqual(res.returncode, 2)
        self.assertIn("invalid duration '5parsecs'", res.stderr)
        self.assertFalse(os.path.exists(self.out("x.txt")))


if __name__ == "__main__":
    unittest.main()
