"""No two files of the engine or the tracer call each other (DESIGN.md;
issue #21 point 3), read from the built objects by tools/call-pairs: the
sampler is cut into the work on one process (profiler/sampler_proc.c), the
process tree (sampler_tree.c) and the front end's handle and loop
(sampler.c), whose calls go one way.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_call_pairs.py -v
"""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, SRC  # noqa: E402


class CallPairs(unittest.TestCase):

    def call_pairs(self, *args):
        if not shutil.which("nm"):
            self.skipTest("nm (binutils) not installed")
        return subprocess.run([os.path.join(SRC, "tools", "call-pairs"),
                               "--build", BUILD] + list(args),
                              capture_output=True, text=True, timeout=120)

    def test_engine_and_tracer_have_no_pair(self):
        res = self.call_pairs("profiler", "tracer")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertRegex(res.stdout, r"\b0 pairs calling each other")

    def test_sampler_calls_go_one_way(self):
        res = self.call_pairs("--edges", "profiler")
        uses = set()
        for line in res.stdout.splitlines():
            if " -> " in line:
                a, b = line.split(":", 1)[0].split(" -> ")
                uses.add((os.path.basename(a), os.path.basename(b)))
        for a, b in [("sampler.c", "sampler_tree.c"),
                     ("sampler_tree.c", "sampler_proc.c"),
                     ("sampler.c", "sampler_proc.c"),
                     ("sampler.c", "schedule.c")]:
            self.assertIn((a, b), uses, res.stdout)
            self.assertNotIn((b, a), uses, res.stdout)
        # the process work knows nothing of the tree or the loop
        self.assertFalse([u for u in uses if u[0] == "sampler_proc.c" and
                          u[1] in ("sampler.c", "sampler_tree.c")], uses)

    def test_a_pair_is_found(self):
        # the tool itself: ui/daemon.c and its ctl handlers call each other
        # today; whichever pairs ui has, the exit status says so
        res = self.call_pairs("ui")
        pairs = [l for l in res.stdout.splitlines() if " <-> " in l]
        self.assertEqual(res.returncode, 1 if pairs else 0, res.stdout)


if __name__ == "__main__":
    unittest.main()
