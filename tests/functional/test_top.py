"""loupe top: the real binary driven in a real terminal (tmux), against a
Python target with a known hot function (split.py: hot_three burns 3x what
hot_one burns).

Every test runs tmux on a private socket (killed in tearDown) and reads the
screen with capture-pane, polling with a deadline, never a fixed sleep.
tmux missing, or no CPython to run the target, is a skip with its reason.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_top.py -v
"""
import glob
import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import unittest

from harness import (LOUPE, LoupeTestCase, read_collapsed, run_loupe,
                     script_path, thread_states)

PYENV = "/root/.pyenv/versions"
DEADLINE = 15.0
_sessions = itertools.count()


def find_python():
    """Debian's python3.11, else the newest pyenv CPython 3."""
    if os.access("/usr/bin/python3.11", os.X_OK):
        return "/usr/bin/python3.11"
    found = sorted(glob.glob(os.path.join(PYENV, "3.*", "bin", "python")))
    return found[-1] if found else None


class Screen:
    """One tmux server on a private socket, one window running a shell
    command; the command's exit status lands in a file."""

    def __init__(self, tmp, argv, width=110, height=30, env=None):
        self.sock = "loupe-test-%d-%d" % (os.getpid(), next(_sessions))
        self.status_path = os.path.join(tmp, "status-%s" % self.sock)
        envs = " ".join("%s=%s" % (k, shlex.quote(v))
                        for k, v in (env or {}).items())
        # The pane stays after loupe ends so that the terminal state it
        # left can be read.
        cmd = "%s %s; echo $? > %s; stty -a > %s.stty; exec sleep 600" % (
            "env " + envs if envs else "",
            " ".join(shlex.quote(a) for a in argv),
            shlex.quote(self.status_path), shlex.quote(self.status_path))
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t",
                  "-x", str(width), "-y", str(height), cmd)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock] + list(args),
                              capture_output=True, text=True, timeout=20)

    def text(self):
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def lines(self):
        return self.text().split("\n")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "t", "-x", str(width),
                  "-y", str(height))

    def wait(self, pred, what, timeout=DEADLINE):
        """Polls the screen until pred(lines) is true; fails with the last
        screen after the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if pred(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError("screen never showed %s:\n%s"
                                     % (what, "\n".join(lines)))
            time.sleep(0.1)

    def status(self, timeout=DEADLINE):
        """loupe's exit status once it ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.status_path) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            except (IOError, OSError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError("loupe did not end:\n" + self.text())

    def stty(self):
        self.status()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open(self.status_path + ".stty") as f:
                    text = f.read()
                if text:
                    return text
            except (IOError, OSError):
                pass
            time.sleep(0.1)
        return ""

    def kill(self):
        self.tmux("kill-server")
        # tmux leaves its socket file behind
        path = os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"),
                            "tmux-%d" % os.getuid(), self.sock)
        try:
            os.unlink(path)
        except OSError:
            pass


def table(lines):
    """The rows of the table: the lines below the heading that have a
    percent figure, as (cells, function text)."""
    rows = []
    heading = heading_line(lines)
    if heading is None:
        return rows
    for line in lines[heading + 1:]:
        m = re.match(r"^\s*((?:\S+%?\s+){2,6}?)\s*([^\d\s].*)$", line)
        if not m or "%" not in line:
            continue
        rows.append((m.group(1).split(), m.group(2).strip()))
    return rows


def heading_line(lines):
    for i, line in enumerate(lines):
        if "%Own" in line and "function" in line:
            return i
    return None


def headings(lines):
    i = heading_line(lines)
    return lines[i].split() if i is not None else []


def first_function(lines):
    rows = table(lines)
    return rows[0][1] if rows else None


def first_is(name):
    def pred(lines):
        f = first_function(lines)
        return f is not None and f.startswith(name)
    return pred


def hot_first(lines):
    """hot_three leads, from enough samples (100) that it is no chance."""
    return first_is("hot_three")(lines) and (samples_taken(lines) or 0) >= 100


def samples_taken(lines):
    for line in lines:
        m = re.search(r"samples (\d+) taken", line)
        if m:
            return int(m.group(1))
    return None


class TopTestCase(LoupeTestCase):

    def setUp(self):
        super().setUp()
        if shutil.which("tmux") is None:
            self.skip("tmux not installed (apt-get install tmux)")
        self.python = find_python()
        if self.python is None:
            self.skip("no CPython 3 at /usr/bin/python3.11 or under %s"
                      % PYENV)
        self.screens = []

    def tearDown(self):
        for s in self.screens:
            s.kill()
        super().tearDown()

    def skip(self, reason):
        sys.stderr.write("SKIP %s: %s\n" % (self.id(), reason))
        self.skipTest(reason)

    def split(self):
        return self.start([self.python, script_path("split.py")])

    def top(self, *args, width=110, height=30, env=None, prefix=None):
        """loupe top ARGS in a new tmux window (prefix=[]: ARGS is the
        whole command)."""
        prefix = [LOUPE, "top"] if prefix is None else prefix
        s = Screen(self.tmp, prefix + [str(a) for a in args],
                   width, height, env)
        self.screens.append(s)
        return s

    def assert_running(self, t):
        self.assertIsNone(t.proc.poll(), "target died")
        self.assertIn(t.state(), "RS")
        stopped = dict((k, v) for k, v in thread_states(t.pid).items()
                       if v in "tT")
        self.assertFalse(stopped, "threads left stopped: %r" % stopped)


class Top(TopTestCase):

    def test_hot_function_first_and_quit(self):
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines", "-r", 300)
        lines = s.wait(lambda l: hot_first(l) and samples_taken(l) >= 300,
                       "hot_three on the first row, from 300 samples")
        text = "\n".join(lines)
        # The header: target, interpreter, figures; the footer: keys.
        self.assertRegex(text, r"PID %d python3[.\d]* \(CPython 3\.\d+" % t.pid)
        self.assertRegex(text, r"samples \d+ taken, \d+ missed")
        self.assertRegex(text, r"threads 1, 1 active")
        self.assertRegex(text, r"GIL \d+\.\d%")
        self.assertIn("q quit", lines[-2] + lines[-1] + text)
        rows = table(lines)
        names = [n for _, n in rows]
        self.assertIn("hot_one (split.py)", names)
        # hot_three's own share is about three times hot_one's.
        own = dict((n, float(c[0].rstrip("%"))) for c, n in rows)
        ratio = own["hot_three (split.py)"] / max(own["hot_one (split.py)"], 0.1)
        self.assertGreater(ratio, 1.8, text)
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)
        # The terminal is back as it was: echo and line editing on.
        stty = s.stty()
        self.assertRegex(stty, r"(^|\s)echo(\s|$)", stty)
        self.assertRegex(stty, r"(^|\s)icanon(\s|$)", stty)

    def test_sort_and_mode_keys(self):
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines")
        lines = s.wait(hot_first, "hot_three first")
        # Default: wall first, sorted by the mode's own share (in [ ]).
        self.assertEqual(headings(lines)[:3], ["[%OwnWall]", "%TotWall", "%OwnCPU"])
        # 2: total wall; a caller on every stack comes first.
        s.keys("2")
        lines = s.wait(lambda l: "[%TotWall]" in headings(l), "[%TotWall]")
        self.assertIn(first_function(lines).split(" ")[0], ("<module>", "work"),
                      "\n".join(lines))
        self.assertIn(first_function(lines).split(" ")[0], ("<module>", "work"))
        # c: CPU columns first, the sort stays on total wall.
        s.keys("c")
        lines = s.wait(lambda l: headings(l)[:1] == ["%OwnCPU"], "CPU first")
        self.assertEqual(headings(lines)[:4],
                         ["%OwnCPU", "%TotCPU", "%OwnWall", "[%TotWall]"])
        self.assertIn("mode cpu", "\n".join(lines))
        # < moves the sort one column left: own wall.
        s.keys("<")
        lines = s.wait(lambda l: "[%OwnWall]" in headings(l), "[%OwnWall]")
        s.wait(hot_first, "hot_three first again")
        # w: back to wall first.
        s.keys("w")
        s.wait(lambda l: headings(l)[:1] == ["[%OwnWall]"], "wall first")
        # l: by line, names get their line numbers.
        s.keys("l")
        lines = s.wait(lambda l: re.match(r"hot_three \(split\.py:\d+\)",
                                          first_function(l) or ""),
                       "a row with a line number")
        s.keys("q")
        self.assertEqual(s.status(), 0)
        self.assert_running(t)

    def test_filter_and_help(self):
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines")
        s.wait(hot_first, "hot_three first")
        s.keys("/", "o", "n", "e", "Enter")
        lines = s.wait(lambda l: [n for _, n in table(l)] == ["hot_one (split.py)"],
                       "only hot_one")
        self.assertIn('filter "one"', "\n".join(lines))
        # Esc while editing drops the edit; an empty filter shows all again.
        s.keys("/", "BSpace", "BSpace", "BSpace", "Enter")
        s.wait(lambda l: len(table(l)) >= 4, "every row again")
        # ? shows the help, any key closes it.
        s.keys("?")
        s.wait(lambda l: "loupe top keys" in "\n".join(l), "the help")
        s.keys("x")
        s.wait(lambda l: "loupe top keys" not in "\n".join(l), "help closed")
        # n without --native on Python says what to do.
        s.keys("n")
        s.wait(lambda l: "--native" in "\n".join(l), "the --native hint")
        s.keys("C-c")
        self.assertEqual(s.status(), 0, s.text())
        self.assert_running(t)

    def test_pause_and_reset(self):
        t = self.split()
        s = self.top("-p", t.pid)
        s.wait(lambda l: (samples_taken(l) or 0) >= 150, "150 samples")
        s.keys("Space")
        lines = s.wait(lambda l: "[PAUSED]" in "\n".join(l), "paused")
        frozen = samples_taken(lines)
        time.sleep(1.5)  # the display must not move while paused
        self.assertEqual(samples_taken(s.lines()), frozen)
        s.keys("Space")
        lines = s.wait(lambda l: (samples_taken(l) or 0) > frozen + 100,
                       "sampling went on during the pause")
        before = samples_taken(lines)
        s.keys("r")
        # The footer says so for a few seconds, and the count starts again.
        s.wait(lambda l: "counts reset" in "\n".join(l) and
               (samples_taken(l) or 10 ** 9) < before - 50, "counts reset")
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_narrow_and_resize(self):
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines", width=60, height=16)
        lines = s.wait(hot_first, "hot_three first at 60 columns")
        self.assertTrue(lines[0].startswith("loupe top - PID %d" % t.pid), lines[0])
        self.assertIn("samples", lines[1])
        # The minimal layout (the mode's own and total share), no line
        # wrapped; a name too long for it is cut with an ellipsis.
        self.assertEqual(len(headings(lines)), 3, lines)
        for line in lines:
            self.assertLessEqual(len(line), 60)
        self.assertIn("hot_three (split.py)", [n for _, n in table(lines)])
        # Wider: every column, and file:line in a column of its own.
        s.resize(130, 20)
        lines = s.wait(lambda l: headings(l)[6:] == ["function", "file"] and
                       any(re.search(r"\bhot_three\s+\S*split\.py$", x)
                           for x in l),
                       "six columns and a file column after resizing")
        s.resize(76, 20)
        lines = s.wait(lambda l: len(headings(l)) == 5, "four shares at 76")
        s.resize(36, 12)
        lines = s.wait(lambda l: len(headings(l)) == 3, "two columns at 36")
        cut = [n for _, n in table(lines) if n.startswith("hot_")]
        self.assertTrue(cut and all(n.endswith(("\u2026", "...")) for n in cut),
                        "\n".join(lines))
        self.assertTrue(lines[0].startswith("loupe top"), lines)
        s.keys("q")
        self.assertEqual(s.status(), 0)
        self.assert_running(t)

    def test_scrolling(self):
        t = self.split()
        # 9 lines: 3 rows of table for 4 functions.
        s = self.top("-p", t.pid, "--no-lines", height=9)
        lines = s.wait(lambda l: hot_first(l) and len(table(l)) == 3,
                       "three rows")
        second = table(lines)[1][1]
        s.keys("Down")
        s.wait(lambda l: first_function(l) == second, "scrolled by one")
        s.keys("PPage")
        s.wait(hot_first, "back at the top")
        # A page down goes no further than a full last page.
        s.keys("NPage")
        s.wait(lambda l: len(table(l)) == 3 and
               not first_function(l).startswith("hot_three"), "the last page")
        s.keys("Home")
        s.wait(hot_first, "back at the top")
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_plain_terminal(self):
        """No colours (vt100): the same text, readable."""
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines", env={"TERM": "vt100"})
        lines = s.wait(hot_first, "hot_three first on a vt100")
        self.assertIn("[%OwnWall]", headings(lines))
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_target_exit(self):
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines")
        s.wait(hot_first, "hot_three first")
        t.proc.kill()
        t.proc.wait()
        lines = s.wait(lambda l: "PID %d exited" % t.pid in "\n".join(l),
                       "the exit message")
        # The last figures stay, and top waits for q.
        self.assertTrue(first_function(lines).startswith("hot_three"), lines)
        time.sleep(0.5)
        self.assertIn("PID %d exited" % t.pid, s.text())
        s.keys("q")
        self.assertEqual(s.status(), 0)

    def test_command_writes_output(self):
        out = self.path("top.txt")
        s = self.top("-o", out, "--", self.python, script_path("split.py"))
        lines = s.wait(hot_first, "hot_three first")
        pid = int(re.search(r"PID (\d+)", lines[0]).group(1))
        # The command's output ("ready") does not draw over the view.
        self.assertNotIn("ready", "\n".join(lines))
        os.kill(pid, signal.SIGKILL)
        s.wait(lambda l: "PID %d exited" % pid in "\n".join(l), "the exit")
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        stacks = read_collapsed(out)
        hot = sum(c for st, c in stacks.items()
                  if st[-1].startswith("hot_three"))
        self.assertGreater(hot, 50, stacks)

    def test_blocked_terminal_keeps_sampling(self):
        """A terminal that takes no output (XOFF, Ctrl-S) blocks the
        drawing, never the sampling: the recording of those seconds has
        every sample."""
        t = self.split()
        out = self.path("blocked.txt")
        rate, duration = 200, 5
        s = self.top("-p", t.pid, "-r", rate, "-d", duration, "-o", out,
                     "--no-lines")
        s.wait(lambda l: samples_taken(l) is not None, "the first frame")
        s.keys("C-s")
        time.sleep(0.5)  # what was written before the XOFF lands
        frozen = s.text()
        # Once a second the view redraws (the clock, the figures): it
        # cannot now, so the screen stays as it was.
        time.sleep(duration)
        self.assertEqual(s.text(), frozen)
        s.keys("C-q")
        s.wait(lambda l: "sampling ended after %d s" % duration in "\n".join(l),
               "the end of sampling")
        s.keys("q")
        self.assertEqual(s.status(), 0, s.text())
        total = sum(read_collapsed(out).values())
        # Drawing and sampling in one thread would stop at the XOFF with
        # a fraction of a second sampled; a busy machine can miss some
        # deadlines, hence half, not all.
        self.assertGreater(total, 0.5 * rate * duration,
                           "%d samples in %d s at %d Hz" % (total, duration, rate))
        self.assert_running(t)

    def test_errors_before_the_screen(self):
        # A PID that does not exist: one line, status 1, terminal intact.
        dead = subprocess.Popen(["true"])
        dead.wait()
        s = self.top("-p", dead.pid)
        self.assertEqual(s.status(), 1)
        text = s.text().strip()
        self.assertRegex(text, r"^loupe: .*%d" % dead.pid)
        self.assertEqual(len(text.splitlines()), 1, text)
        stty = s.stty()
        self.assertRegex(stty, r"(^|\s)echo(\s|$)", stty)
        # No permission to trace (an unprivileged user): one line.
        t = self.split()
        if shutil.which("setpriv") is None:
            sys.stderr.write("SKIP permission part of %s: setpriv missing "
                             "(apt-get install util-linux)\n" % self.id())
        else:
            s = self.top("setpriv", "--reuid=65534", "--regid=65534",
                         "--clear-groups", LOUPE, "top", "-p", t.pid,
                         prefix=[])
            status = s.status()
            text = s.text().strip()
            if "failed to execute" in text or "Permission denied" in text:
                sys.stderr.write("SKIP permission part of %s: user nobody "
                                 "cannot run %s\n" % (self.id(), LOUPE))
            else:
                self.assertEqual(status, 1, text)
                self.assertRegex(text, r"^loupe: .*permission")
                self.assertEqual(len(text.splitlines()), 1, text)
            self.assert_running(t)
        # Usage errors: status 2.
        self.assertEqual(run_loupe("top").returncode, 2)
        self.assertEqual(run_loupe("top", "-p", "1", "--bogus").returncode, 2)
        # An unreadable -o: said before attaching.
        res = run_loupe("top", "-p", os.getpid(), "-o", "/nonexistent/x.txt")
        self.assertEqual(res.returncode, 1)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)

    def test_no_terminal_prints_tables(self):
        """Output to a pipe: a plain table every second, then why it
        ended."""
        t = self.split()
        res = run_loupe("top", "-p", t.pid, "--no-lines", "-d", "2.2",
                        stdin=subprocess.DEVNULL, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        tables = [b for b in res.stdout.split("\n\n") if b.strip()]
        self.assertGreaterEqual(len(tables), 2, res.stdout)
        last = tables[-1].split("\n")
        self.assertTrue(last[0].startswith("loupe top - PID %d" % t.pid), last)
        self.assertTrue(first_function(last).startswith("hot_three"), last)
        self.assertEqual(last[-1], "sampling ended after 2.2 s")
        self.assertNotIn("\x1b", res.stdout)  # no escape sequences
        self.assert_running(t)

    def test_dumb_terminal(self):
        """TERM=dumb cannot place the cursor: plain tables, readable."""
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines", "-d", "2.2",
                     env={"TERM": "dumb"}, height=40)
        self.assertEqual(s.status(), 0, s.text())
        text = s.text()
        self.assertIn("sampling ended after 2.2 s", text)
        self.assertRegex(text, r"\[%OwnWall\].*function")
        self.assertRegex(text, r"\d+\.\d%.* hot_three \(split\.py\)")
        self.assert_running(t)

    def test_sigterm_ends_cleanly(self):
        t = self.split()
        s = self.top("-p", t.pid)
        s.wait(lambda l: (samples_taken(l) or 0) >= 20, "samples")
        shell = int(s.tmux("display", "-p", "-t", "t", "#{pane_pid}").stdout)
        pids = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True,
                              text=True).stdout.split()
        self.assertTrue(pids, "no loupe under the pane's shell")
        for pid in pids:
            os.kill(int(pid), signal.SIGTERM)
        self.assertEqual(s.status(), 0, s.text())
        stty = s.stty()
        self.assertRegex(stty, r"(^|\s)echo(\s|$)", stty)
        self.assert_running(t)

    def test_threads_and_native_keys(self):
        t = self.split()
        s = self.top("-p", t.pid, "--no-lines", "--native")
        s.wait(lambda l: (samples_taken(l) or 0) >= 100 and
               "native shown" in "\n".join(l), "native frames")
        # n hides the native frames: only Python functions are left.
        s.keys("n")
        lines = s.wait(lambda l: "native hidden" in "\n".join(l) and
                       hot_first(l), "native hidden")
        names = [n for _, n in table(lines)]
        self.assertEqual(sorted(names), sorted(["hot_three (split.py)",
                                                "hot_one (split.py)",
                                                "work (split.py)",
                                                "<module> (split.py)"]),
                         "\n".join(lines))
        # t: a row per function and thread, the thread first in brackets.
        s.keys("t")
        lines = s.wait(lambda l: first_function(l) ==
                       "[%d] hot_three (split.py)" % t.pid, "per-thread rows")
        # T: only one thread, named in the header; again: all.
        s.keys("T")
        s.wait(lambda l: "threads %d" % t.pid in "\n".join(l), "thread filter")
        s.keys("T")
        s.wait(lambda l: "threads all" in "\n".join(l), "all threads")
        s.keys("q")
        self.assertEqual(s.status(), 0)
        self.assert_running(t)


if __name__ == "__main__":
    unittest.main()
