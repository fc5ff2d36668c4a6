"""loupe heap's small objects where neither a layout nor a symbol says
where pymalloc keeps its arenas (issue #25 point 1): Debian's static,
stripped 3.11, 3.14 and 3.15 (whose _Py_DebugOffsets do not describe
pymalloc), with pyenv's 3.11 (symbols) and 3.12 (layout) beside them.
loupe finds the pools by the shape of pymalloc's state and says so.
tests/targets/heap_small.py --base: a census of the interpreter's own
objects, then the target makes 30000 floats, 20000 ints, 10000 str and
10000 bytes, writes their count and sys.getsizeof, and a second census
counts them: each type's added count within 1%, its added bytes within
10% of count x size.  Under PYTHONMALLOC=malloc (no pools) the small
objects are said to be not counted.  A missing interpreter is a printed
skip.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_heap_pools.py -v
"""
import json
import os
import signal
import unittest

from harness import LoupeTestCase, run_loupe, script_path
from interpreters import debian, py314, py315, pyenv

SETUPS = [("py311_debian", debian, "found by their shape"),
          ("py314", py314, "found by their shape"),
          ("py315", py315, "found by their shape"),
          ("py311", lambda: pyenv("3.11"), "named by the symbols"),
          ("py312", lambda: pyenv("3.12"), "named by the layout")]


class HeapPoolsTest(LoupeTestCase):
    def census(self, pid):
        res = run_loupe("heap", "-p", pid, "--json", "--top", "0")
        self.assertEqual(res.returncode, 0, res.stderr)
        got = json.loads(res.stdout.splitlines()[0])
        return got, {ty["type"]: ty for ty in got["types"]}

    def check(self, finder, how):
        py, why = finder()
        if not py:
            self.skip(why)
        out = self.path("held.json")
        t = self.start([py, script_path("heap_small.py"), out, "--base"],
                       ready="base")
        base, bby = self.census(t.pid)
        os.kill(t.pid, signal.SIGUSR1)
        t._wait_ready("ready")
        with open(out) as f:
            held = json.load(f)
        got, by = self.census(t.pid)
        print("\n%s: %s" % (py, got.get("pools")))
        self.assertEqual(got["changed"], 0, got["unseen"])
        for name, (n, each) in sorted(held.items()):
            self.assertIn(name, by, sorted(by))
            count = by[name]["count"] - bby.get(name, {"count": 0})["count"]
            size = by[name]["bytes"] - bby.get(name, {"bytes": 0})["bytes"]
            print("  %-6s held %6d x %3d B; counted %6d, %8d B"
                  % (name, n, each, count, size))
            self.assertLessEqual(abs(count - n), n * 0.01, (name, count, n))
            self.assertLessEqual(abs(size - n * each), n * each * 0.1,
                                 (name, size, n * each))
        self.assertIn(how, got["pools"])
        self.assertNotIn("are not counted (pymalloc", got["unseen"])

    def test_heap_pools_malloc(self):
        """PYTHONMALLOC=malloc: no pools to find, said so."""
        py, why = debian()
        if not py:
            self.skip(why)
        out = self.path("held.json")
        env = dict(os.environ, PYTHONMALLOC="malloc")
        t = self.start([py, script_path("heap_small.py"), out], env=env)
        got, by = self.census(t.pid)
        self.assertEqual(got["small_objects"], 0, got)
        self.assertEqual(got.get("pools"), "")
        self.assertIn("small objects the GC does not track (str, bytes, "
                      "int, float) are not counted", got["unseen"])
        self.assertIn("usedpools", got["unseen"])
        self.assertNotIn("float", by)


for _suffix, _finder, _how in SETUPS:
    def _test(self, finder=_finder, how=_how):
        self.check(finder, how)
    _test.__name__ = "test_heap_pools_" + _suffix
    setattr(HeapPoolsTest, _test.__name__, _test)


if __name__ == "__main__":
    unittest.main()
