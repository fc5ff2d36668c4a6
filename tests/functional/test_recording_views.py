"""A .loupe recording keeps every sample with whether its thread was on
CPU, whatever --mode says: report --mode wall and --mode cpu of one file
give both answers (a blocking call in the first, absent from the second),
and a view a file cannot give (wall from a cpu recording of an older
loupe, gil without GIL data) is refused in one line, exit 1.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_recording_views.py -v
"""
import os
import sys
import tempfile
import unittest

from harness import (LoupeTestCase, Target, read_collapsed, run_loupe,
                     script_path, target_path)


def share(stacks, func):
    total = sum(stacks.values())
    hit = sum(n for s, n in stacks.items() if s[-1].startswith(func + " ("))
    return hit / total if total else 0.0


class RecordingViews(LoupeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.TemporaryDirectory()
        cls.rec = os.path.join(cls.work.name, "svc.loupe")
        t = Target([sys.executable, script_path("wall_split.py")])
        try:
            # the default mode (cpu), as a user records a service; at
            # 200 Hz for some 60 CPU samples, so that one charged at a
            # burst's end does not weigh 3%
            cls.res = run_loupe("record", "-p", t.pid, "-d", "3", "-r", "200",
                                "-o", cls.rec)
        finally:
            t.kill()

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def view(self, mode):
        out = os.path.join(self.work.name, "%s.txt" % mode)
        args = ["report", self.rec, "-o", out] + (["--mode", mode] if mode else [])
        res = run_loupe(*args)
        self.assertEqual(res.returncode, 0, res.stderr)
        return read_collapsed(out)

    def test_both_views_of_one_file(self):
        self.assertEqual(self.res.returncode, 0, self.res.stderr)
        wall = self.view("wall")
        cpu = self.view("cpu")
        default = self.view(None)
        # 0.4 s asleep after each 0.05 s of CPU: most of the wall time,
        # none of the CPU
        self.assertGreater(share(wall, "blocking_call"), 0.5, wall)
        self.assertGreater(share(wall, "busy"), 0.03, wall)
        self.assertLess(share(cpu, "blocking_call"), 0.05, cpu)
        self.assertGreater(share(cpu, "busy"), 0.9, cpu)
        # the recording's mode is the default view
        self.assertEqual(default, cpu)
        rep = run_loupe("report", self.rec, "--mode", "wall", "--no-lines")
        self.assertEqual(rep.returncode, 0, rep.stderr)
        self.assertIn("blocking_call", rep.stdout)

    def test_old_cpu_recording_has_no_wall_view(self):
        with open(self.rec, "rb") as f:
            data = f.read()
        # an older loupe's file: the same without the "samples: all" mark
        self.assertEqual(data.count(b"samples\x01"), 1)
        old = os.path.join(self.work.name, "old.loupe")
        with open(old, "wb") as f:
            f.write(data.replace(b"samples\x01", b"xamples\x01"))
        res = run_loupe("report", old, "--mode", "wall")
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertIn("has no wall view", res.stderr)
        self.assertEqual(res.stdout, "")
        # its own view is still given
        self.assertEqual(run_loupe("report", old).returncode, 0)

    def test_gil_view_needs_gil_data(self):
        rec = os.path.join(self.work.name, "native.loupe")
        t = Target([target_path("split_fp")])
        try:
            res = run_loupe("record", "-p", t.pid, "-d", "1", "-o", rec, "-q")
        finally:
            t.kill()
        self.assertEqual(res.returncode, 0, res.stderr)
        res = run_loupe("report", rec, "--mode", "gil")
        self.assertEqual(res.returncode, 1)
        self.assertIn("no GIL data", res.stderr)
        self.assertEqual(run_loupe("report", rec, "--mode", "wall").returncode, 0)
        # a Python recording has one
        res = run_loupe("report", self.rec, "--mode", "gil", "-o",
                        os.path.join(self.work.name, "gil.txt"))
        self.assertEqual(res.returncode, 0, res.stderr)


if __name__ == "__main__":
    unittest.main()
