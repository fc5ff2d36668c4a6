"""loupe record --mode memory (issue 25, point 4): the growth of the
target's RSS between two ticks is charged to the stacks that ran in
between, by CPU time.  On a target whose grow() allocates (250 ms phases) and
whose compute() only computes, >= 80% of the growth charged must be under
grow(), and the summary line's growth must agree with what /proc says the
RSS grew by.  Growth goes to -o, release to OUT.release.EXT: on a target
that maps memory in take() and unmaps it in give(), >= 80% of each is
charged to its function.  Every
interpreter present (a missing one is a printed skip)."""
import os
import re
import unittest

from harness import (LoupeTestCase, has_func, read_collapsed, run_loupe,
                     script_path, weight_where)
from interpreters import debian, py314, py315, pyenv

INTERPRETERS = [("py3%d" % m, (lambda m=m: pyenv("3.%d" % m)))
                for m in (8, 11, 12, 13)] + [
    ("py311_debian", debian), ("py314", py314), ("py315", py315)]


def skip(test, reason):
    print("SKIP %s: %s" % (test.id(), reason))
    test.skipTest(reason)


def rss(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RecordMemory(LoupeTestCase):

    def check(self, finder):
        py, why = finder()
        if not py:
            skip(self, why)
        t = self.start([py, script_path("mem_phases.py")])
        out = self.path("mem.txt")
        before = rss(t.pid)
        res = run_loupe("record", "--mode", "memory", "-p", t.pid, "-d",
                        "3", "-o", out)
        after = rss(t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        stacks = read_collapsed(out)
        total = sum(stacks.values())
        # the target grows by MBs a second while grow() runs
        self.assertGreater(total, 1 << 20, (res.stderr, stacks))
        in_grow = weight_where(stacks, lambda s: has_func(s, "grow"))
        self.assertGreaterEqual(in_grow, 0.80 * total,
                                "grow %d of %d bytes\n%s" % (
                                    in_grow, total, stacks))
        # what was charged is what the kernel says the RSS grew by (the
        # record's ticks lie between our two reads)
        m = re.search(r"RSS of PID \d+ ([\d.]+) MiB -> ([\d.]+) MiB .*: "
                      r"([\d.]+) MiB of growth", res.stderr)
        self.assertTrue(m, res.stderr)
        first, last = float(m.group(1)), float(m.group(2))
        self.assertLessEqual(before / 2 ** 20 - 0.1, first)
        self.assertLessEqual(last, after / 2 ** 20 + 0.1)
        self.assertLess(abs(total / 2 ** 20 - float(m.group(3))), 0.1)
        self.assertTrue(os.path.exists(self.path("mem.release.txt")))

    def check_release(self, finder):
        """Growth and release are separate weights: mapping memory is
        charged to take(), unmapping it to give()."""
        py, why = finder()
        if not py:
            skip(self, why)
        t = self.start([py, script_path("mem_release.py")])
        out = self.path("rel.txt")
        res = run_loupe("record", "--mode", "memory", "-p", t.pid, "-d",
                        "3", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        for path, func in ((out, "take"), (self.path("rel.release.txt"),
                                           "give")):
            stacks = read_collapsed(path)
            total = sum(stacks.values())
            self.assertGreater(total, 4 << 20, (path, res.stderr))
            mine = weight_where(stacks, lambda s: has_func(s, func))
            self.assertGreaterEqual(mine, 0.80 * total,
                                    "%s: %s %d of %d bytes\n%s" % (
                                        path, func, mine, total, stacks))

    def test_needs_output(self):
        t = self.start(["/bin/sh", "-c", "echo ready; exec sleep 60"])
        res = run_loupe("record", "--mode", "memory", "-p", t.pid,
                        "-o", self.path("x.loupe"))
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1)


for _name, _finder in INTERPRETERS:
    setattr(RecordMemory, "test_grow_charged_%s" % _name,
            (lambda f: lambda self: self.check(f))(_finder))
    setattr(RecordMemory, "test_release_charged_%s" % _name,
            (lambda f: lambda self: self.check_release(f))(_finder))

if __name__ == "__main__":
    unittest.main()
