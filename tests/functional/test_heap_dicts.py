"""loupe heap counts a dict's keys object (issue #25 point 1): a target
(tests/targets/heap_dicts.py) holds dicts of known sizes (str and object
keys, 1 to 5000 entries, some after deletions and popitem, defaultdicts)
and writes the dicts the GC tracks, counted in-process with
gc.get_objects() and sys.getsizeof (which counts a combined dict's keys
table); loupe's dict and defaultdict rows must be within 1% in count and
10% in bytes, on 3.8 to 3.15 (pyenv, Debian's static 3.11, 3.14 and 3.15
from tools/get-python).  A missing interpreter is a printed skip.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_heap_dicts.py -v
"""
import json
import unittest

from harness import LoupeTestCase, run_loupe, script_path
from interpreters import debian, py314, py315, pyenv

PYTHONS = [("py3%d" % m, (lambda m=m: pyenv("3.%d" % m)))
           for m in range(8, 14)]
PYTHONS += [("py311_debian", debian), ("py314", py314), ("py315", py315)]


class HeapDictsTest(LoupeTestCase):
    def check(self, finder):
        py, why = finder()
        if not py:
            self.skip(why)
        out = self.path("held.json")
        t = self.start([py, script_path("heap_dicts.py"), out])
        with open(out) as f:
            held = json.load(f)
        res = run_loupe("heap", "-p", t.pid, "--json", "--top", "0")
        self.assertEqual(res.returncode, 0, res.stderr)
        got = json.loads(res.stdout.splitlines()[0])
        by = {ty["type"]: ty for ty in got["types"]}
        self.assertNotIn("dict key tables are not counted", got["unseen"])
        for name, row in (("dict", "dict"),
                          ("defaultdict", "collections.defaultdict")):
            want_n, want_b = held["counts"][name], held["bytes"][name]
            self.assertIn(row, by, sorted(by))
            n, b = by[row]["count"], by[row]["bytes"]
            self.assertLessEqual(abs(n - want_n), want_n * 0.01,
                                 "%s: %d objects, want %d" % (row, n, want_n))
            self.assertLessEqual(abs(b - want_b), want_b * 0.10,
                                 "%s: %d bytes, want %d (%.1f%%)"
                                 % (row, b, want_b, 100.0 * b / want_b))


for _suffix, _finder in PYTHONS:
    def _test(self, finder=_finder):
        self.check(finder)
    _test.__name__ = "test_heap_dicts_" + _suffix
    setattr(HeapDictsTest, _test.__name__, _test)


if __name__ == "__main__":
    unittest.main()
