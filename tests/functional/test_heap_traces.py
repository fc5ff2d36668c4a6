"""loupe heap --traces (issue 25, point 3): tracemalloc's traces read from
a live process.  The target allocates known amounts at known lines and
writes tracemalloc's own statistics('lineno'); loupe's top line must be
the same line, its size within 10%.  A leaking line is at the top of
--traces --interval; --traceback shows the allocating function's call;
-o writes a flame graph and a pprof profile; without tracemalloc, a
one-line hint and exit 1.  Every interpreter present from 3.6; a missing one is a
printed skip.  Debian's stripped static 3.11 keeps tracemalloc's state in
static variables its binary does not name: the test checks the one-line
error."""
import gzip
import json
import os
import re
import unittest

from harness import LoupeTestCase, run_loupe, script_path
from interpreters import debian, py314, py315, pyenv

INTERPRETERS = [("py3%d" % m, (lambda m=m: pyenv("3.%d" % m)))
                for m in range(6, 14)] + [("py314", py314), ("py315", py315)]

SCRIPT = script_path("tm_alloc.py")
LINE = re.compile(r"^(.*):(\d+): size=([\d.]+) (B|KiB|MiB|GiB), "
                  r"count=(\d+)")
UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def skip(test, reason):
    print("SKIP %s: %s" % (test.id(), reason))
    test.skipTest(reason)


def line_of(marker):
    with open(SCRIPT) as f:
        for i, text in enumerate(f, 1):
            if "# " + marker in text:
                return i
    raise AssertionError(marker)


def parse_lines(out):
    rows = []
    for text in out.splitlines():
        m = LINE.match(text)
        if m:
            rows.append((m.group(1), int(m.group(2)),
                         float(m.group(3)) * UNITS[m.group(4)],
                         int(m.group(5))))
    return rows


class HeapTraces(LoupeTestCase):

    def target(self, finder, mode, env=None):
        py, why = finder()
        if not py:
            skip(self, why)
        e = dict(os.environ)
        e.update(env or {})
        out = self.path("tm.json")
        return self.start([py, SCRIPT, mode, out], env=e), out

    def check_hold(self, finder):
        t, out = self.target(finder, "hold")
        with open(out) as f:
            want = json.load(f)
        res = run_loupe("heap", "-p", t.pid, "--traces", "--top", "5")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = parse_lines(res.stdout)
        self.assertTrue(rows, res.stdout)
        big = line_of("ALLOC_BIG")
        self.assertEqual((want[0]["file"], want[0]["line"]), (SCRIPT, big))
        self.assertEqual(rows[0][:2], (SCRIPT, big), res.stdout)
        # the size printed with 3 significant digits: within 10% of
        # tracemalloc's own count; the number of blocks exactly
        self.assertLess(abs(rows[0][2] - want[0]["size"]),
                        0.10 * want[0]["size"], res.stdout)
        self.assertEqual(rows[0][3], want[0]["count"], res.stdout)
        small = [w for w in want if w["line"] == line_of("ALLOC_SMALL")
                 and w["file"] == SCRIPT][0]
        mine = [r for r in rows if r[:2] == (SCRIPT, small["line"])]
        self.assertTrue(mine, res.stdout)
        self.assertLess(abs(mine[0][2] - small["size"]),
                        0.10 * small["size"], res.stdout)

        # --traceback: frames of the allocating call, oldest first
        res = run_loupe("heap", "-p", t.pid, "--traces", "--traceback",
                        "--top", "1")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"#1: \d+ memory blocks: ")
        self.assertIn('File "%s", line %d' % (SCRIPT, big), res.stdout)

        # flame graph and pprof of the tracebacks weighted by bytes
        svg, pb = self.path("t.svg"), self.path("t.pb.gz")
        for o in (svg, pb):
            res = run_loupe("heap", "-p", t.pid, "--traces", "-o", o)
            self.assertEqual(res.returncode, 0, res.stderr)
        with open(svg) as f:
            self.assertIn("tm_alloc.py:%d" % big, f.read())
        with gzip.open(pb) as f:
            data = f.read()
        self.assertIn(b"tm_alloc.py:%d" % big, data)
        # its sample type says bytes, as heap profiles do
        self.assertIn(b"inuse_space", data)
        self.assertIn(b"bytes", data)

    def check_leak(self, finder):
        t, _ = self.target(finder, "leak", {"PYTHONTRACEMALLOC": "1"})
        res = run_loupe("heap", "-p", t.pid, "--traces", "--interval",
                        "1.5", "--top", "3")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("by growth", res.stdout)
        first = [x for x in res.stdout.splitlines()
                 if re.match(r"^.*:\d+: size=", x)][0]
        self.assertTrue(first.startswith("%s:%d: " % (SCRIPT,
                                                       line_of("LEAK_LINE"))),
                        res.stdout)
        self.assertRegex(first, r"size=[\d.]+ \w+ \(\+[\d.]+ \w+\), "
                         r"count=\d+ \(\+\d+\)")

    def check_off(self, finder):
        t, _ = self.target(finder, "off")
        res = run_loupe("heap", "-p", t.pid, "--traces")
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertEqual(res.stdout, "")
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertIn("tracemalloc is not tracing", lines[0])
        self.assertIn("PYTHONTRACEMALLOC=1", lines[0])
        self.assertIn("tracemalloc.start()", lines[0])

    def test_debian_311_stripped(self):
        t, _ = self.target(debian, "hold")
        res = run_loupe("heap", "-p", t.pid, "--traces")
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertIn("stripped", res.stderr)

    def test_bad_pid(self):
        res = run_loupe("heap", "-p", "999999999", "--traces")
        self.assertNotEqual(res.returncode, 0)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)

    def test_not_python(self):
        t = self.start(["/bin/sh", "-c", "echo ready; exec sleep 60"])
        res = run_loupe("heap", "-p", t.pid, "--traces")
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)


for _name, _finder in INTERPRETERS:
    for _kind in ("hold", "leak", "off"):
        setattr(HeapTraces, "test_%s_%s" % (_kind, _name),
                (lambda f, k: lambda self: getattr(self, "check_" + k)(f))(
                    _finder, _kind))

if __name__ == "__main__":
    unittest.main()
