"""The committed asyncio and object layouts (profiler/python/
asyncio_layouts_gen.c) are what tools/gen-asyncio-layouts finds by value in
the interpreters of this machine: a patch release that moved a field (as
py-spy met with 3.14) fails here instead of misreading tasks.  Run where
the generator sees another set of interpreters, it is a printed skip."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

from harness import SRC

GEN = os.path.join(SRC, "tools", "gen-asyncio-layouts")
COMMITTED = os.path.join(SRC, "profiler", "python", "asyncio_layouts_gen.c")
# "/* 3.15.2: dicts, ..." and "/* 3.13.0 (FutureIter ..." name each table
VERSION_RE = re.compile(r"(?m)^/\* (3\.\d+)\.\d+(?=[: ])")


def minors(text):
    """The text with each table's patch level left out, and its versions."""
    return VERSION_RE.sub(r"/* \1.x", text), sorted(set(VERSION_RE.findall(text)))


class Layouts(unittest.TestCase):

    def test_committed_tables_are_what_the_probe_finds(self):
        with tempfile.TemporaryDirectory(prefix="loupe-aiolayout-") as tmp:
            out = os.path.join(tmp, "gen.c")
            res = subprocess.run([sys.executable, GEN, out], capture_output=True,
                                 text=True, timeout=300)
            self.assertEqual(res.returncode, 0, res.stderr)
            with open(out) as f:
                fresh = f.read()
        with open(COMMITTED) as f:
            committed = f.read()
        # another patch level of a version is compared: its fields must
        # not have moved
        fresh, have = minors(fresh)
        committed, want = minors(committed)
        if have != want:
            self.skipTest("the committed tables are of %s, this machine has %s"
                          % (", ".join(want), ", ".join(have)))
        self.assertEqual(fresh, committed,
                         "run tools/gen-asyncio-layouts and commit its output")


if __name__ == "__main__":
    unittest.main()
