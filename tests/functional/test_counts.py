"""Counts that agree: one recording's sample counts are the same in
record's summary ("profile: wall samples W, CPU samples C"), loupe report's
header, the flame graph's subtitle, the collapsed counts, speedscope's and
pprof's weights, in wall mode and in cpu mode.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_counts.py -v
"""
import gzip
import json
import os
import re
import sys
import tempfile
import unittest

from harness import LoupeTestCase, Target, run_loupe, script_path

SUMMARY = re.compile(r"profile: wall samples (\d+), CPU samples (\d+), CPU time ([\d.]+) s")
REPORT = re.compile(r"wall samples (\d+), CPU samples (\d+), CPU time ([\d.]+) s")


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield f, wt, v


def pprof_totals(path):
    """{sample type name: sum of its values} of a gzipped profile.proto."""
    with gzip.open(path) as f:
        data = f.read()
    strings, types, sums = [], [], []
    samples = []
    for f, wt, v in fields(data):
        if f == 6:
            strings.append(v.decode())
        elif f == 1:
            types.append(dict((ff, vv) for ff, _, vv in fields(v)).get(1, 0))
        elif f == 2:
            samples.append(v)
    sums = [0] * len(types)
    for s in samples:
        vals = []
        for f, wt, v in fields(s):
            if f == 2 and wt == 2:
                j = 0
                while j < len(v):
                    x, j = varint(v, j)
                    vals.append(x)
            elif f == 2:
                vals.append(v)
        for k, x in enumerate(vals[:len(sums)]):
            sums[k] += x
    return dict((strings[t], sums[k]) for k, t in enumerate(types))


class Counts(LoupeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.target = Target([sys.executable, script_path("fib_loop.py")])
        cls.work = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.target.kill()
        cls.work.cleanup()

    def check_mode(self, mode):
        d = self.work.name
        rec = os.path.join(d, mode + ".loupe")
        res = run_loupe("record", "-p", self.target.pid, "-d", "2", "--mode",
                        mode, "-o", rec)
        self.assertEqual(res.returncode, 0, res.stderr)
        m = SUMMARY.search(res.stderr)
        self.assertTrue(m, res.stderr)
        wall, cpu = int(m.group(1)), int(m.group(2))
        self.assertGreater(wall, 0)
        # report's header
        rep = run_loupe("report", rec)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        self.assertEqual(REPORT.search(rep.stdout).groups(), m.groups())
        # the mode's own count in each format
        want = wall if mode == "wall" else cpu
        for ext in ("svg", "txt", "speedscope.json", "pb.gz"):
            out = os.path.join(d, "%s.%s" % (mode, ext))
            r = run_loupe("report", rec, "--mode", mode, "-o", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            if ext == "svg":
                with open(out) as f:
                    sub = re.search(r'id="subtitle"[^>]*>([^<]*)<', f.read()).group(1)
                self.assertIn(", %d samples" % want, sub, sub)
            elif ext == "txt":
                with open(out) as f:
                    total = sum(int(l.rsplit(" ", 1)[1]) for l in f if l.strip())
                self.assertEqual(total, want)
            elif ext == "speedscope.json":
                with open(out) as f:
                    doc = json.load(f)
                self.assertEqual(sum(sum(p["weights"]) for p in doc["profiles"]), want)
            else:
                sums = pprof_totals(out)
                self.assertEqual(sums.get("wall_samples"), wall, sums)
                self.assertEqual(sums.get("cpu_samples"), cpu, sums)

    def test_wall(self):
        self.check_mode("wall")

    def test_cpu(self):
        self.check_mode("cpu")


if __name__ == "__main__":
    unittest.main()
