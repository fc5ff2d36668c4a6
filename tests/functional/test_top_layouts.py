"""loupe top's layouts by width (issue 24, point 5), in tmux: at 160 and
120 columns file:line is a column of its own, at 80 the four share columns
stay and the function keeps "name (file:line)" with the middle of its long
qualified name cut, at 60 the minimal layout (the mode's own and total
share); Esc clears a filter; ? lists every key that top handles.

The target (tests/targets/layouts.py) runs from a long directory, its hot
function named crunch_report.<locals>.summarize_every_row_of_the_report.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top_layouts.py -v
"""
import os
import re
import shutil
import unittest

from harness import SRC, script_path
from test_top import TopTestCase, headings, heading_line, samples_taken

HOT = "crunch_report.<locals>.summarize_every_row_of_the_report"
LONG_DIR = ("a_rather_long_directory_for_the_layouts_of_loupe_top/"
            "with_one_more_level_of_nesting")
SHARES = ["%OwnWall", "%TotWall", "%OwnCPU", "%TotCPU"]


def bare(cols):
    return [c.strip("[]") for c in cols]


def rows(lines):
    """Lines below the heading that start with a percent figure."""
    i = heading_line(lines)
    if i is None:
        return []
    return [l for l in lines[i + 1:] if re.match(r"^\s+[\d.]+%", l)]


class TopLayouts(TopTestCase):

    def target(self):
        d = os.path.join(self.tmp, LONG_DIR)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "layouts.py")
        shutil.copy(script_path("layouts.py"), path)
        return self.start([self.python, path]), path

    def hot_shown(self, lines):
        return (samples_taken(lines) or 0) >= 50 and any(
            "summar" in l or "\u2026" in l for l in rows(lines))

    def screen_at(self, width, height=16):
        t, path = self.target()
        s = self.top("-p", t.pid, width=width, height=height)
        lines = s.wait(self.hot_shown, "the hot function at %d columns" % width)
        return t, s, lines, path

    def test_wide_has_a_file_line_column(self):
        for width in (160, 120):
            t, s, lines, path = self.screen_at(width)
            text = "\n".join(lines)
            h = headings(lines)
            self.assertEqual(bare(h[:6]), SHARES + ["OwnSecs", "TotSecs"], text)
            self.assertEqual(h[6:], ["function", "file:line"], text)
            # the hot function's lines (11-14 of layouts.py)
            hot = [l for l in rows(lines) if re.search(r"layouts\.py:1[1-4]$", l)]
            self.assertTrue(hot, text)
            for l in hot:
                self.assertLessEqual(len(l), width)
                # function | file:line: no "(file" after the name, and the
                # place column ends with the base name and the line
                self.assertNotIn("(layouts.py", l, text)
                self.assertRegex(l, r"\s\S*layouts\.py:1[0-9]$", text)
                self.assertRegex(l, r"crunch\S*(\.\.\.|\u2026|\.)\S*_the_report ", text)
            if width == 160:
                # room for the whole name and a directory
                self.assertTrue(any("summarize_every_row_of_the_report" in l for l in hot), text)
                self.assertTrue(any("/layouts.py:" in l for l in hot), text)
            s.keys("q")
            self.assertEqual(s.status(), 0, s.text())

    def test_80_keeps_the_four_shares_and_the_line(self):
        t, s, lines, path = self.screen_at(80)
        text = "\n".join(lines)
        self.assertEqual(bare(headings(lines)), SHARES + ["function"], text)
        hot = [l for l in rows(lines) if "crunch" in l and "(layouts.py:" in l
               and not l.rstrip().endswith("crunch_report (layouts.py:19)")]
        self.assertTrue(hot, text)
        for l in hot:
            self.assertLessEqual(len(l), 80)
            # the middle of the qualified name cut, the line kept
            self.assertRegex(l, r"crunch\S*(\u2026|\.\.\.)\S*_the_report \(layouts\.py:\d+\)$", text)
        # a short name is shown whole, with its line
        self.assertTrue(any(l.rstrip().endswith("crunch_report (layouts.py:19)")
                            for l in rows(lines)), text)
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_60_minimal_layout(self):
        t, s, lines, path = self.screen_at(60)
        text = "\n".join(lines)
        self.assertEqual(bare(headings(lines)), ["%OwnWall", "%TotWall", "function"], text)
        for line in lines:
            self.assertLessEqual(len(line), 60)
        self.assertTrue(any(re.search(r"\(layouts\.py:\d+\)$", l) and "\u2026" in l
                            for l in rows(lines)), text)
        # c: the minimal layout shows the CPU shares
        s.keys("c")
        s.wait(lambda l: bare(headings(l))[:2] == ["%OwnCPU", "%TotCPU"], "CPU shares")
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_esc_clears_a_filter(self):
        t, s, lines, path = self.screen_at(100)

        def filtered(l, word):
            """A filter on word shown, every row it keeps on screen, and
            fewer than all of them (the rows themselves vary: by line, a
            busy box shows a function at a second line now and then)."""
            m = re.search(r'filter "%s" \((\d+) of (\d+)\)' % word,
                          "\n".join(l))
            return bool(m) and len(rows(l)) == int(m.group(1)) and \
                int(m.group(1)) < int(m.group(2))

        def unfiltered(l):
            return "filter \"" not in "\n".join(l) and len(rows(l)) >= 4

        s.keys("/", "r", "e", "p", "o", "r", "t", "Enter")
        s.wait(lambda l: filtered(l, "report"), "the filter set")
        # / then Esc: the filter already set goes too
        s.keys("/")
        s.wait(lambda l: any(x.startswith("filter: report") for x in l), "the prompt")
        s.keys("Escape")
        s.wait(unfiltered, "every row again after / Esc")
        # Esc alone clears a filter too
        s.keys("/", "m", "o", "d", "Enter")
        s.wait(lambda l: filtered(l, "mod"), "the filter set again")
        s.keys("Escape")
        s.wait(unfiltered, "every row again after Esc")
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_help_lists_every_key_handled(self):
        t, path = self.target()
        s = self.top("-p", t.pid, width=100, height=30)
        s.wait(self.hot_shown, "the hot function")
        s.keys("?")
        lines = s.wait(lambda l: "loupe top keys" in "\n".join(l) and
                       any("Ctrl-C" in x for x in l), "the help")
        text = "\n".join(lines)
        shown = set()
        x = [l.find("loupe top keys") for l in lines if "loupe top keys" in l][0]
        for line in lines:
            # the help's box: 64 columns from its title
            inner = line[x:x + 64].strip()
            m = re.match(r"^(.*?)\s{3,}\S", inner)
            if not m:
                continue
            for k in re.split(r",?\s+", m.group(1)):
                shown.add(k.strip(","))
        # what the help says a key does now
        self.assertIn("(now wall)", text)
        self.assertIn("(now per line)", text)
        # the keys the code handles (handle_key and filter_key), as the
        # help names them
        src = open(os.path.join(SRC, "ui", "top", "top_view.c")).read()
        body = src[src.index("static bool filter_key("):src.index("/* ---- setup ----")]
        names = {"KEY_UP": "arrows", "KEY_DOWN": "arrows", "KEY_PPAGE": "PgUp",
                 "KEY_NPAGE": "PgDn", "KEY_HOME": "Home", "KEY_END": "End",
                 "3": "Ctrl-C", "27": "Esc", "' '": "space"}
        handled = set()
        for m in re.finditer(r"case ([^:]+?):", body):
            label = m.group(1).strip()
            if label in ("'\\n'", "'\\r'", "KEY_ENTER", "KEY_BACKSPACE",
                         "127", "8", "KEY_RESIZE"):
                continue  # Enter and Backspace belong to the prompt
            if label in names:
                handled.add(names[label])
            elif re.match(r"^'.'$", label):
                handled.add(label[1])
            else:
                self.fail("a key the test cannot name: %s" % label)
        keyed = set()
        for k in shown:
            if re.match(r"^1-6$", k):
                keyed.update("123456")
            else:
                keyed.add(k)
        missing = handled - keyed
        self.assertFalse(missing, "keys handled but not in the help: %r\n%s"
                         % (sorted(missing), text))
        extra = {k for k in keyed if len(k) == 1 or k in names.values()} - handled
        self.assertFalse(extra, "keys in the help not handled: %r\n%s"
                         % (sorted(extra), text))
        s.keys("x")
        s.wait(lambda l: "loupe top keys" not in "\n".join(l), "help closed")
        s.keys("q")
        self.assertEqual(s.status(), 0)


if __name__ == "__main__":
    unittest.main()
