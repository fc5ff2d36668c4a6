"""loupe top's source view and report --lines (issue 24, point 4), on a
target whose hottest line is known: tests/targets/hot_line.py spins in
spin(), where the line marked HEAVY runs 20000 iterations for every 1000 of
each of the two LIGHT lines around it; it prints that line's number.

In tmux: Enter on the first row opens its function's source with the heavy
line marked (>) and centred, ? lists the view's keys, Esc goes back to the
list; with the file deleted after the start the figures stay, by line
number, with the reason.  report --lines prints the same for a recording
(exact lines, shares within a tolerance), refuses an unknown function in
one line with exit 2, and the flame graph's tooltip names the hot line.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top_source.py -v
"""
import os
import re
import shutil
import subprocess
import unittest

import interpreters
from harness import run_loupe, script_path
from test_top import TopTestCase, first_function

# The heavy line's share of spin()'s wall samples: 20000 of 22000
# iterations by construction; a loaded box or another interpreter moves it
# a little, so a wide band.
HEAVY_MIN, HEAVY_MAX = 75.0, 99.9


def source_rows(lines):
    """Rows of the source view or of report --lines: (figures, marked, line
    number, source text); figures are the percents before the heat bar."""
    rows = []
    for line in lines:
        m = re.match(r"^((?:\s+[\d.]+%?)*)\s+([#.]*)\s+(>?)\s*(\d+)(?:  (.*))?$",
                     line)
        if not m:
            continue
        figs = [float(x.rstrip("%")) for x in m.group(1).split()]
        rows.append((figs, m.group(3) == ">", int(m.group(4)),
                     m.group(5) or ""))
    return rows


def heavy_line(path):
    with open(path) as f:
        return [i for i, l in enumerate(f, 1)
                if l.rstrip().endswith("# HEAVY")][0]


class TopSource(TopTestCase):

    def hot_target(self):
        """hot_line.py run from a copy in the test's directory (so that a
        test may delete it): the target and the heavy line's number."""
        path = os.path.join(self.tmp, "hot_line.py")
        shutil.copy(script_path("hot_line.py"), path)
        heavy = heavy_line(path)
        t = self.start([self.python, path])
        return t, path, heavy

    def spin_first(self, lines):
        f = first_function(lines)
        return f is not None and f.startswith("spin")

    def open_source(self, t, heavy, height=30):
        s = self.top("-p", t.pid, "-r", 200, width=140, height=height)
        s.wait(self.spin_first, "spin on the first row")
        s.keys("Enter")
        lines = s.wait(lambda l: any("hottest line %d" % heavy in x for x in l)
                       and any(r[1] for r in source_rows(l)),
                       "the source view with line %d the hottest" % heavy)
        return s, lines

    def test_hot_line_marked_then_esc_back(self):
        t, path, heavy = self.hot_target()
        s, lines = self.open_source(t, heavy)
        text = "\n".join(lines)
        self.assertIn("spin (%s)" % path, text)
        self.assertIn("%OwnWall", text)
        self.assertIn("%TotCPU", text)
        rows = source_rows(lines)
        marked = [r for r in rows if r[1]]
        self.assertEqual(len(marked), 1, text)
        figs, _, number, src = marked[0]
        self.assertEqual(number, heavy, text)
        self.assertIn("# HEAVY", src)
        self.assertEqual(len(figs), 4, text)
        # the heavy line holds nearly all of spin's wall samples, own and
        # total alike (the function is the leaf there)
        self.assertGreater(figs[0], 50.0, text)
        self.assertAlmostEqual(figs[0], figs[1], delta=0.11)
        # the source is the file's, around the hot line: its neighbours
        # read as the file does
        with open(path) as f:
            file_lines = f.read().split("\n")
        by_number = dict((r[2], r[3]) for r in rows)
        for n in (heavy - 3, heavy - 1, heavy + 1):
            shown = by_number.get(n, "").rstrip().rstrip("\u2026")
            self.assertTrue(shown, text)
            self.assertTrue(file_lines[n - 1].startswith(shown), text)
        # opened centred on the hottest line: it is in the middle third of
        # the rows shown
        at = [i for i, r in enumerate(rows) if r[1]][0]
        self.assertTrue(len(rows) // 3 <= at <= 2 * len(rows) // 3 + 1,
                        "hot line at row %d of %d:\n%s" % (at, len(rows), text))
        # live: the figures move on at each refresh
        before = sum(figs)
        s.wait(lambda l: any(r[1] and r[0] != figs for r in source_rows(l)),
               "the figures updated")
        # scrolling moves the lines; Home goes to the first
        s.keys("Home")
        s.wait(lambda l: source_rows(l) and source_rows(l)[0][2] == 1,
               "line 1 at the top after Home")
        self.assertTrue(before > 0)
        # ? lists this view's keys, any key closes the help
        s.keys("?")
        help_lines = s.wait(lambda l: "source view keys" in "\n".join(l),
                            "the source view's help")
        help_text = "\n".join(help_lines)
        for key in ("Esc", "arrows", "PgUp", "PgDn", "q"):
            self.assertIn(key, help_text)
        s.keys("x")
        s.wait(lambda l: "source view keys" not in "\n".join(l), "help closed")
        # Esc: back to the list of functions
        s.keys("Escape")
        s.wait(lambda l: self.spin_first(l) and
               not any("hottest line" in x for x in l), "back to the list")
        s.keys("q")
        self.assertEqual(s.status(), 0)
        self.assert_running(t)

    def test_unreadable_file_figures_by_line_number(self):
        t, path, heavy = self.hot_target()
        os.unlink(path)
        s, lines = self.open_source(t, heavy)
        text = "\n".join(lines)
        self.assertRegex(text, r"source not shown: cannot read .*hot_line\.py: "
                         r"No such file or directory")
        rows = source_rows(lines)
        marked = [r for r in rows if r[1]]
        self.assertEqual([r[2] for r in marked], [heavy], text)
        # only the lines with figures, and no source text
        self.assertTrue(all(r[0] for r in rows), text)
        self.assertTrue(all(not r[3].strip() for r in rows), text)
        s.keys("Escape")
        s.wait(lambda l: self.spin_first(l) and
               not any("source not shown" in x for x in l), "back to the list")
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_file_from_the_target_filesystem(self):
        """A target in a mount namespace of its own (as in a container)
        sees another file at the path its code names: the view shows the
        target's, read through /proc/PID/root, not ours."""
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skip("needs root and unshare(1) for a mount namespace")
        real = os.path.join(self.tmp, "real")
        app = os.path.join(self.tmp, "app")
        os.mkdir(real)
        os.mkdir(app)
        shutil.copy(script_path("hot_line.py"), real)
        heavy = heavy_line(os.path.join(real, "hot_line.py"))
        path = os.path.join(app, "hot_line.py")
        with open(path, "w") as f:
            for n in range(1, heavy + 10):
                f.write("# decoy line %d of the host\n" % n)
        probe = subprocess.run(["unshare", "-m", "--propagation", "private",
                                "true"], capture_output=True)
        if probe.returncode != 0:
            self.skip("unshare -m refused here: %s" % probe.stderr.strip())
        t = self.start(["unshare", "-m", "--propagation", "private", "sh",
                        "-c", 'mount --bind "$1" "$2" && exec "$3" "$2"',
                        "sh", os.path.join(real, "hot_line.py"), path,
                        self.python])
        s, lines = self.open_source(t, heavy)
        text = "\n".join(lines)
        self.assertNotIn("decoy", text)
        marked = [r for r in source_rows(lines) if r[1]]
        self.assertEqual([r[2] for r in marked], [heavy], text)
        self.assertIn("# HEAVY", marked[0][3])
        s.keys("q")
        self.assertEqual(s.status(), 0)


class ReportLines(TopTestCase):

    def setUp(self):
        super().setUp()
        path = os.path.join(self.tmp, "hot_line.py")
        shutil.copy(script_path("hot_line.py"), path)
        self.src = path
        self.heavy = heavy_line(path)
        t = self.start([self.python, path])
        self.rec = os.path.join(self.tmp, "hot.loupe")
        self.record(t, self.rec, "-r", 200, duration=3)

    def lines_of(self, *extra):
        res = run_loupe("report", self.rec, "--lines", "spin", *extra)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout.split("\n")

    def test_report_lines(self):
        out = self.lines_of("--mode", "wall")
        text = "\n".join(out)
        self.assertIn("spin (%s): hottest line %d by wall own"
                      % (self.src, self.heavy), text)
        rows = source_rows(out)
        with open(self.src) as f:
            file_lines = f.read().split("\n")
        # every line printed is the file's, from two before the first
        # sampled line to two after the last
        for _, _, n, src in rows:
            self.assertEqual(src.rstrip(), file_lines[n - 1].rstrip(), text)
        sampled = dict((r[2], r[0]) for r in rows if r[0])
        # exact lines: the heavy one, the light ones and at most the loop's
        # own line (the interpreter may stop on the while)
        self.assertIn(self.heavy, sampled, text)
        self.assertLessEqual(set(sampled),
                             {self.heavy - 2, self.heavy - 1, self.heavy,
                              self.heavy + 1}, text)
        self.assertEqual([r[2] for r in rows if r[1]], [self.heavy], text)
        # shares: columns %Own CPU, %Total CPU, %Own wall, %Total wall, of
        # all samples; the heavy line's part of spin's own wall samples
        own_wall = dict((n, f[2]) for n, f in sampled.items())
        share = 100.0 * own_wall[self.heavy] / sum(own_wall.values())
        self.assertTrue(HEAVY_MIN <= share <= HEAVY_MAX,
                        "heavy line %.1f%% of spin:\n%s" % (share, text))
        # spin is nearly every sample of the recording (wall)
        self.assertGreater(sum(own_wall.values()), 90.0, text)
        # CPU mode (the recording's): the same hottest line
        out = self.lines_of()
        self.assertIn("hottest line %d by CPU own" % self.heavy, "\n".join(out))

    def test_report_lines_unreadable_and_bad_inputs(self):
        os.unlink(self.src)
        out = self.lines_of()
        text = "\n".join(out)
        self.assertRegex(text, r"source not shown: cannot read .*hot_line\.py: "
                         r"No such file or directory; figures by line number")
        rows = source_rows(out)
        self.assertEqual([r[2] for r in rows if r[1]], [self.heavy], text)
        self.assertTrue(all(r[0] for r in rows), text)
        # an unknown function: one line, exit 2
        res = run_loupe("report", self.rec, "--lines", "no_such_function")
        self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
        self.assertEqual(len(res.stderr.strip().split("\n")), 1, res.stderr)
        self.assertIn("no Python function named 'no_such_function'", res.stderr)
        self.assertEqual(res.stdout, "")
        # a hostile name is escaped in that line
        res = run_loupe("report", self.rec, "--lines", "a\x1b[2Jb")
        self.assertEqual(res.returncode, 2)
        self.assertNotIn("\x1b", res.stderr)
        self.assertIn("\\e[2Jb", res.stderr)
        # --lines prints: no -o with it; an empty name
        res = run_loupe("report", self.rec, "--lines", "spin", "-o",
                        os.path.join(self.tmp, "x.svg"))
        self.assertEqual(res.returncode, 2, res.stderr)
        res = run_loupe("report", self.rec, "--lines", "")
        self.assertEqual(res.returncode, 2, res.stderr)

    def test_flamegraph_tooltip_names_hot_line(self):
        svg = os.path.join(self.tmp, "hot.svg")
        res = run_loupe("report", self.rec, "-o", svg, "--mode", "wall")
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(svg) as f:
            titles = re.findall(r"<title>(spin \([^<]*)</title>", f.read())
        self.assertTrue(titles, "no box of spin")
        for title in titles:
            m = re.search(r"; hottest lines: line (\d+): ([\d.]+)%", title)
            self.assertTrue(m, title)
            self.assertEqual(int(m.group(1)), self.heavy, title)
            self.assertTrue(HEAVY_MIN <= float(m.group(2)) <= HEAVY_MAX, title)
            self.assertLessEqual(title.count("line "), 3, title)


class LinesEveryInterpreter(TopTestCase):
    """The line a frame is at, as every supported interpreter keeps it
    (co_lnotab to 3.9, co_linetable after, 3.11's and 3.13's changes):
    report --lines finds the heavy line on each."""

    FINDERS = ([("2.7", lambda: interpreters.pyenv("2.7"))] +
               [("3.%d" % m, (lambda m=m: interpreters.pyenv("3.%d" % m)))
                for m in range(6, 14)] +
               [("3.11 Debian", interpreters.debian),
                ("3.14", interpreters.py314), ("3.15", interpreters.py315)])

    def test_hot_line_on_every_interpreter(self):
        path = os.path.join(self.tmp, "hot_line.py")
        shutil.copy(script_path("hot_line.py"), path)
        heavy = heavy_line(path)
        ran = 0
        for name, find in self.FINDERS:
            py, why = find()
            if py is None:
                print("SKIP %s: %s" % (name, why))
                continue
            with self.subTest(interpreter=name):
                t = self.start([py, path])
                rec = os.path.join(self.tmp, "hot-%s.loupe" % name.replace(" ", "_"))
                self.record(t, rec, "-r", 200, duration=1.5)
                t.kill()
                res = run_loupe("report", rec, "--lines", "spin", "--mode",
                                "wall")
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertIn("hottest line %d by wall own" % heavy,
                              res.stdout, name)
                marked = [r for r in source_rows(res.stdout.split("\n"))
                          if r[1]]
                self.assertEqual([r[2] for r in marked], [heavy], res.stdout)
                ran += 1
        if not ran:
            self.skip("no interpreter found")


if __name__ == "__main__":
    unittest.main()
