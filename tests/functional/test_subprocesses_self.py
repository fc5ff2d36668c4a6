"""record --subprocesses of the process loupe was started from (a shell
running `loupe record -p $$ --subprocesses`): loupe is one of its children
and must not profile itself.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_subprocesses_self.py -v
"""
import subprocess
import sys
import unittest

from harness import LOUPE, LoupeTestCase, read_collapsed

PARENT = r"""
import subprocess, sys
loupe, out = sys.argv[1], sys.argv[2]
child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
res = subprocess.run([loupe, "record", "-p", str(__import__("os").getpid()),
                      "--subprocesses", "--mode", "wall", "-d", "2", "-o", out])
child.kill()
sys.exit(res.returncode)
"""


class FollowsItsOwnParent(LoupeTestCase):

    def test_loupe_not_among_the_children(self):
        out = self.path("self.txt")
        res = subprocess.run([sys.executable, "-c", PARENT, LOUPE, out],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        roots = set(stack[0] for stack in read_collapsed(out))
        comms = [r.rsplit("(", 1)[-1].rstrip(")") for r in roots]
        self.assertNotIn("loupe", comms, roots)
        self.assertEqual(len(roots), 2, roots)   # the parent and its spinner


if __name__ == "__main__":
    unittest.main()
