"""loupe top's trends (issue 24, point 3), in tmux: key x sorts by the
change of each row's share over the last 10 s and draws its last minute as
a sparkline, so that on a target whose hot function changes halfway
(tests/targets/switch_hot.py, switched by a signal) the new one leads
within 10 s of the switch while the share since the start still puts the
old one first; the sparkline is dropped before anything else on a narrow
terminal (160, 120, 80, 60 columns) and is ASCII outside a UTF-8 locale.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top_trends.py -v
"""
import os
import re
import signal
import sys
import time
import unittest

from harness import script_path
from test_top import TopTestCase, headings, heading_line, samples_taken

BLOCKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


def rows(lines):
    i = heading_line(lines)
    if i is None:
        return []
    return [l for l in lines[i + 1:] if re.match(r"^\s+[\d.]+%", l)]


def first_row(lines):
    r = rows(lines)
    return r[0] if r else ""


def own_share(lines, name):
    """%OwnWall of the row of function name (its first cell)."""
    for l in rows(lines):
        if re.search(r"\s%s\s" % re.escape(name), l + " "):
            return float(l.split()[0].rstrip("%"))
    return 0.0


class TopTrends(TopTestCase):

    def switch_target(self):
        return self.start([self.python, script_path("switch_hot.py")])

    def elapsed(self, lines):
        m = re.search(r"elapsed (\d+):(\d\d)", lines[0]) if lines else None
        return int(m.group(1)) * 60 + int(m.group(2)) if m else 0

    def test_trend_sort_shows_the_new_hot_function_within_10s(self):
        t = self.switch_target()
        s = self.top("-p", t.pid, "--no-lines", "-r", 100, width=160, height=30)
        s.wait(lambda l: "before_hot" in first_row(l)
               and (samples_taken(l) or 0) >= 100, "before_hot first")
        s.keys("x")
        lines = s.wait(lambda l: "[Chg10s]" in headings(l), "the trend sort")
        self.assertIn("trend 60s", lines[heading_line(lines)])
        # 15 s of before_hot (the time since the start, as the target has
        # had it: the view's elapsed clock)
        s.wait(lambda l: self.elapsed(l) >= 15, "15 s of before_hot", timeout=40)
        os.kill(t.pid, signal.SIGUSR1)
        switched_at = time.monotonic()
        line = t.proc.stdout.readline().decode()
        self.assertTrue(line.startswith("switched"), line)
        # first, and rising (a tie at 0.0 would not say it rose)
        lines = s.wait(lambda l: "after_hot" in first_row(l) and
                       first_row(l).split()[6].startswith("+"),
                       "after_hot first", timeout=12)
        took = time.monotonic() - switched_at
        sys.stderr.write("after_hot first %.1f s after the switch\n" % took)
        text = "\n".join(lines)
        self.assertLess(took, 10.0, text)
        # the share since the start would still put before_hot first
        self.assertGreater(own_share(lines, "before_hot"),
                           own_share(lines, "after_hot"), text)
        # the rising row's change is positive, the falling one's negative
        up = first_row(lines).split()
        self.assertTrue(up[6].startswith("+"), text)
        down = [l for l in rows(lines) if "before_hot" in l][0].split()
        self.assertTrue(down[6].startswith("-"), text)
        # before_hot's sparkline: full before the switch, lower after
        spark = [l for l in rows(lines) if "before_hot" in l][0]
        self.assertTrue(any(c in spark for c in BLOCKS), text)
        # the header's top three follow the sort
        self.assertRegex(text, r"top by change of %OwnWall:\s+after_hot \+\d")
        # x again: back to the column sort, the trend block gone
        s.keys("x")
        lines = s.wait(lambda l: "[%OwnWall]" in headings(l) and
                       "Chg10s" not in "\n".join(l[:8]), "the column sort again")
        self.assertIn("before_hot", first_row(lines))
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)

    def test_narrow_terminal_drops_the_sparkline_first(self):
        t = self.switch_target()
        s = self.top("-p", t.pid, "--no-lines", width=160, height=30)
        s.wait(lambda l: (samples_taken(l) or 0) >= 100, "100 samples")
        s.keys("x")
        expect = {
            160: (["%OwnWall", "%TotWall", "%OwnCPU", "%TotCPU", "OwnSecs",
                   "TotSecs", "[Chg10s]", "trend", "60s", "function"]),
            120: (["%OwnWall", "%TotWall", "%OwnCPU", "%TotCPU", "OwnSecs",
                   "TotSecs", "[Chg10s]", "function"]),
            80: ["%OwnWall", "%TotWall", "%OwnCPU", "%TotCPU", "[Chg10s]",
                 "function"],
            60: ["%OwnWall", "%TotWall", "[Chg10s]", "function"],
        }
        for width in (160, 120, 80, 60):
            s.resize(width, 30)
            # (the sparkline has cells after the row's first seconds)
            lines = s.wait(lambda l: headings(l) == expect[width] and
                           all(len(x) <= width for x in l) and
                           any(c in first_row(l) for c in BLOCKS) == (width == 160),
                           "the trend layout at %d columns" % width)
            text = "\n".join(lines)
            hot = first_row(lines)
            self.assertIn("before_hot", hot, text)
            self.assertEqual(any(c in hot for c in BLOCKS), width == 160, text)
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_ascii_sparkline_outside_utf8(self):
        t = self.switch_target()
        s = self.top("-p", t.pid, "--no-lines", width=160, height=30,
                     env={"LC_ALL": "C", "LANG": "C"})
        s.wait(lambda l: (samples_taken(l) or 0) >= 100, "100 samples")
        s.keys("x")
        lines = s.wait(lambda l: "#" in first_row(l), "an ASCII sparkline")
        text = "\n".join(lines)
        self.assertFalse(any(c in text for c in BLOCKS), text)
        self.assertNotIn("\u2591", text)
        s.keys("q")
        self.assertEqual(s.status(), 0)


if __name__ == "__main__":
    unittest.main()
