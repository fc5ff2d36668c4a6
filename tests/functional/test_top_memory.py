"""loupe top's memory column (issue #25 point 4), in tmux: the growth of
the target's RSS between two ticks is charged to the stacks that ran in
between (profiler/memcharge.c, as record --mode memory does), and shown as
KiB grown and freed per row.  On tests/targets/mem_phases.py, whose grow()
allocates (250 ms phases) and whose compute() only computes, grow()'s row
has >= 80% of the growth charged and compute()'s <= 20%.  Key m shows and
hides the column; --memory and --sort GrowKiB show it from the start; the
header says the unit (KiB of RSS); r resets it.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top_memory.py -v
"""
import re
import unittest

from harness import script_path
from test_top import TopTestCase, heading_line, headings, samples_taken


def mem_cells(lines, name):
    """(GrowKiB, FreeKiB) of the row of function name, or None."""
    i = heading_line(lines)
    if i is None or "GrowKiB" not in lines[i]:
        return None
    cols = lines[i].split()
    g = next(k for k, c in enumerate(cols) if "GrowKiB" in c)
    for line in lines[i + 1:]:
        cells = line.split()
        if len(cells) > g + 2 and re.search(r"\s%s\s" % re.escape(name),
                                            line + " "):
            return int(cells[g]), int(cells[g + 1])
    return None


def charged(lines):
    """The header's totals: (KiB grown, KiB freed) charged."""
    for line in lines:
        m = re.search(r"memory in KiB of RSS: (\d+) grown, (\d+) freed", line)
        if m:
            return int(m.group(1)), int(m.group(2))
    return None


def grew(lines, kib):
    got = mem_cells(lines, "grow")
    return got is not None and got[0] >= kib


class TopMemory(TopTestCase):

    def target(self):
        return self.start([self.python, script_path("mem_phases.py")])

    def check_split(self, lines):
        text = "\n".join(lines)
        g = mem_cells(lines, "grow")
        c = mem_cells(lines, "compute") or (0, 0)
        total = charged(lines)
        self.assertIsNotNone(total, text)
        self.assertGreaterEqual(g[0], 0.80 * total[0], text)
        self.assertLessEqual(c[0], 0.20 * total[0], text)
        return g, c

    def test_key_m_shows_the_growth_under_grow(self):
        t = self.target()
        s = self.top("-p", t.pid, "--no-lines", width=140, height=30)
        s.wait(lambda l: (samples_taken(l) or 0) >= 50, "50 samples")
        self.assertNotIn("GrowKiB", "\n".join(s.lines()))
        s.keys("m")
        lines = s.wait(lambda l: headings(l)[6:8] == ["GrowKiB", "FreeKiB"],
                       "the memory column")
        # the unit, in the header
        self.assertIsNotNone(charged(lines), "\n".join(lines))
        # the target grows by MBs a second while grow() runs
        lines = s.wait(lambda l: grew(l, 2048), "2 MiB grown under grow",
                       timeout=30)
        self.check_split(lines)
        # the help says it
        s.keys("?")
        s.wait(lambda l: any("memory column: RSS KiB" in x and "(now shown)" in x
                             for x in l), "m in the help")
        s.keys("x")
        s.wait(lambda l: "loupe top keys" not in "\n".join(l), "help closed")
        # r: the charge starts again
        s.keys("r")
        s.wait(lambda l: (mem_cells(l, "grow") or (0, 0))[0] < 1024 and
               charged(l) is not None, "the column reset")
        # m again: hidden
        s.keys("m")
        s.wait(lambda l: headings(l) and "GrowKiB" not in headings(l),
               "the column hidden")
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)

    def test_memory_and_sort_options(self):
        t = self.target()
        s = self.top("-p", t.pid, "--no-lines", "--memory", "--sort",
                     "GrowKiB", width=140, height=30)
        lines = s.wait(lambda l: "[GrowKiB]" in headings(l) and
                       grew(l, 2048), "2 MiB grown, sorted by it",
                       timeout=30)
        text = "\n".join(lines)
        self.assertRegex(text, r"top by KiB of RSS grown: ")
        self.check_split(lines)
        # sorted: grow's row before compute's
        rows = [l for l in lines[heading_line(lines) + 1:] if "%" in l]
        names = [r.split()[-2] for r in rows]
        self.assertIn("grow", names, text)
        if "compute" in names:
            self.assertLess(names.index("grow"), names.index("compute"), text)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())


if __name__ == "__main__":
    unittest.main()
