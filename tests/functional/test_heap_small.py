"""loupe heap's small objects the GC does not track (issue #25 point 1):
str, bytes, int and float found in pymalloc's arenas, on 3.7 to 3.11
through obmalloc.c's static variables arenas and maxarenas (found by
symbol: pyenv's builds name them) and on 3.12 and 3.13 through the
interpreter's state.  A target (tests/targets/heap_small.py) holds 30000
floats, 20000 two-digit ints, 10000 str of 50 characters and 10000 bytes
of 60: loupe counts at least as many (the interpreter holds some of its
own), floats within 1% + 100, and each type's bytes at least what the
held ones take.  Debian's stripped 3.11, 3.14 and 3.15 (whose
_Py_DebugOffsets do not describe pymalloc) have their pools found by
shape (test_heap_pools.py, which also checks the census that finds
none).  A missing interpreter is a printed skip.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_heap_small.py -v
"""
import json
import unittest

from harness import LoupeTestCase, run_loupe, script_path
from interpreters import debian, py314, py315, pyenv

FOUND = [("py3%d" % m, (lambda m=m: pyenv("3.%d" % m)))
         for m in range(7, 14)]
FOUND += [("py311_debian", debian), ("py314", py314), ("py315", py315)]


class HeapSmallTest(LoupeTestCase):
    def census(self, finder):
        py, why = finder()
        if not py:
            self.skip(why)
        out = self.path("held.json")
        t = self.start([py, script_path("heap_small.py"), out])
        with open(out) as f:
            held = json.load(f)
        res = run_loupe("heap", "-p", t.pid, "--json", "--top", "0")
        self.assertEqual(res.returncode, 0, res.stderr)
        got = json.loads(res.stdout.splitlines()[0])
        return held, got, {ty["type"]: ty for ty in got["types"]}

    def check_found(self, finder):
        held, got, by = self.census(finder)
        self.assertNotIn("are not counted (pymalloc", got["unseen"])
        self.assertEqual(got["changed"], 0, got["unseen"])
        self.assertGreater(got["small_objects"], sum(n for n, _ in held.values()))
        for name, (n, each) in sorted(held.items()):
            self.assertIn(name, by, sorted(by))
            row = by[name]
            self.assertGreaterEqual(row["count"], n, (name, row))
            self.assertGreaterEqual(row["bytes"], n * each, (name, row, each))
        # floats: the interpreter itself holds only a few
        n = held["float"][0]
        self.assertLessEqual(by["float"]["count"], n * 1.01 + 100, by["float"])
        self.assertLessEqual(by["float"]["bytes"],
                             (n * 1.01 + 100) * held["float"][1], by["float"])


for _suffix, _finder in FOUND:
    def _test(self, finder=_finder):
        self.check_found(finder)
    _test.__name__ = "test_heap_small_" + _suffix
    setattr(HeapSmallTest, _test.__name__, _test)


if __name__ == "__main__":
    unittest.main()
