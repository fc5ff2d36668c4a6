"""Whole, true Python stacks (issue #18, points 8-11).

- Torn stacks: fib(25) in a loop at module level, 5 s at 1 kHz,
  nonblocking: at most 1% of the samples kept are not rooted at <module>
  or hold a frame other than fib; the samples that could not be read whole
  are counted as failed (their share is printed), never kept.
- Deep stacks: a 1000-deep recursion is dumped and recorded whole, root
  <module> to leaf spin; a 3000-deep one keeps both ends around a
  "[N frames omitted]" frame.
- Names: a target that makes and drops thousands of code objects a second
  never has a frame named after a code object that is not on its stack.
- dump never prints "(no frames)" for a thread whose walk failed.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_truth_stacks.py -v
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

from harness import (LOUPE, Target, func_of, parse_dump, read_collapsed,
                     run_loupe, thread_states)
from test_python import INTERPRETERS as ALL_INTERPRETERS

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(os.path.dirname(HERE), "targets")
SUMMARY_FAILED = re.compile(r"(\d+) stack samples, (\d+) failed \(([^)]*)\)")
SUMMARY_OK = re.compile(r"(\d+) stack samples")


# the interpreters, found as test_python finds them
INTERPRETERS = [(tag, find) for tag, find in ALL_INTERPRETERS
                if tag in ("py38", "py311", "py312", "py313", "py311_debian_static",
                           "py314_debian_static", "py315_debian_static")]


def per_interpreter(cls):
    """Turns each check_X(self, finder) of cls into test_X_<interpreter>."""
    for name in [n for n in dir(cls) if n.startswith("check_")]:
        for tag, finder in INTERPRETERS:
            def test(self, _check=getattr(cls, name), _finder=finder):
                _check(self, _finder)
            test.__name__ = "test_%s_%s" % (name[len("check_"):], tag)
            setattr(cls, test.__name__, test)
    return cls


class StackTestCase(unittest.TestCase):

    def setUp(self):
        if not os.access(LOUPE, os.X_OK):
            self.fail("loupe binary not built at " + LOUPE)
        self.tmp = tempfile.mkdtemp(prefix="loupe-walktruth-")
        self.targets = []

    def tearDown(self):
        for t in self.targets:
            t.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def skip(self, reason):
        sys.stderr.write("SKIP %s: %s\n" % (self.id(), reason))
        self.skipTest(reason)

    def python(self, finder):
        path, why = finder()
        if path is None:
            self.skip(why)
        return path

    def start(self, finder, script, *args):
        t = Target([self.python(finder), os.path.join(TARGETS, script)] +
                   [str(a) for a in args],
                   os.path.join(self.tmp, script + ".stderr"))
        self.targets.append(t)
        return t

    def path(self, name):
        return os.path.join(self.tmp, name)

    def assert_running(self, t):
        self.assertIsNone(t.proc.poll(), "target died")
        stopped = {k: v for k, v in thread_states(t.pid).items() if v in "tT"}
        self.assertFalse(stopped, "threads left stopped: %r" % stopped)

    def record(self, t, out, *args, duration=2):
        res = run_loupe("record", "-p", t.pid, "-o", out, "-d", duration,
                        *args, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_running(t)
        return read_collapsed(out), res.stderr

    def dump(self, t, *args):
        res = run_loupe("dump", "-p", t.pid, *args, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_running(t)
        return res.stdout


def failed_share(summary):
    """(kept samples, failed samples, reasons) from record's summary."""
    m = SUMMARY_FAILED.search(summary)
    if m:
        return int(m.group(1)), int(m.group(2)), m.group(3)
    m = SUMMARY_OK.search(summary)
    return (int(m.group(1)) if m else 0), 0, ""


@per_interpreter
class TornStacks(StackTestCase):
    """A fast-changing recursion read without pausing: every stack kept is
    whole (rooted at <module>, fib frames only)."""

    def check_fib_rooted(self, finder):
        t = self.start(finder, "fib_loop.py")
        # On a box busier than its CPUs loupe itself may get few of its
        # 5000 deadlines: a run with too few samples to judge is redone.
        for _ in range(3):
            stacks, summary = self.record(t, self.path("fib.txt"), "-r",
                                          "1000", "--nonblocking", duration=5)
            if failed_share(summary)[0] >= 500:
                break
        total = sum(stacks.values())
        bad = {s: c for s, c in stacks.items()
               if func_of(s[0]) != "<module>" or
               any(func_of(f) not in ("<module>", "fib") for f in s)}
        nbad = sum(bad.values())
        kept, failed, why = failed_share(summary)
        share = failed / float(kept + failed) if kept + failed else 0.0
        sys.stderr.write("\n  %s: %d samples kept, %d not whole (%.2f%%); "
                         "%d failed (%.1f%% of %d read%s)\n"
                         % (self.id().rsplit(".", 1)[-1], total, nbad,
                            100.0 * nbad / max(total, 1), failed,
                            100.0 * share, kept + failed,
                            ": " + why if why else ""))
        self.assertGreaterEqual(kept, 100, summary)
        self.assertLessEqual(nbad, 0.01 * total,
                             "not rooted at <module> or foreign frames: %r"
                             % sorted(bad.items(), key=lambda x: -x[1])[:5])
        # Failing every walk would pass the check above: most must be read.
        # From 3.11 a thread's frames are copied in one read and a frame
        # popped during it is known as such (3.14+ clear its code): 15%
        # of these were lost on 3.14 and 3.15 until the eleventh session.
        m = re.search(r"CPython (\d+)\.(\d+)", summary)
        # Up to 3.10 every frame is read on its own and most reads of this
        # recursion tear: 44-52% of samples failed after 3 re-reads, 4-7%
        # after 16 (MAX_PY_OBJ_WALK_RETRIES, session fourteen).
        one_read = m and (int(m.group(1)), int(m.group(2))) >= (3, 11)
        self.assertLess(share, 0.05 if one_read else 0.2, summary)


@per_interpreter
class DeepStacks(StackTestCase):
    """Stacks deeper than the old 512-frame cut keep their root and leaf."""

    def deep(self, finder, depth):
        t = self.start(finder, "deep.py", depth)
        text = self.dump(t)
        threads = parse_dump(text)
        self.assertEqual(len(threads), 1, text[:2000])
        frames = [func_of(f) for f in threads[0][1]]   # leaf first
        self.assertEqual(frames[0], "spin", frames[:5])
        self.assertEqual(frames[-1], "<module>", frames[-5:])
        stacks, _ = self.record(t, self.path("deep.txt"), "-r", "50",
                                duration=2)
        self.assertTrue(stacks, "nothing recorded")
        for s, c in stacks.items():
            self.assertEqual(func_of(s[0]), "<module>", s[:3])
            self.assertEqual(func_of(s[-1]), "spin", s[-3:])
        return frames, stacks

    def check_deep_1000(self, finder):
        frames, stacks = self.deep(finder, 1000)
        self.assertEqual(frames.count("down"), 1000)
        for s in stacks:
            self.assertEqual(sum(func_of(f) == "down" for f in s), 1000)
            self.assertFalse(any("omitted" in f for f in s), s)

    def check_deep_3000(self, finder):
        frames, stacks = self.deep(finder, 3000)
        marks = [f for f in frames if re.match(r"\[\d+ frames omitted\]$", f)]
        self.assertEqual(len(marks), 1, [f for f in frames if f != "down"])
        omitted = int(marks[0][1:].split()[0])
        # Every frame is either shown or counted in the marker.
        shown = frames.count("down")
        self.assertEqual(shown + omitted, 3000, (shown, omitted))
        self.assertGreaterEqual(len(frames), 2048)
        for s in stacks:
            self.assertTrue(any(re.match(r"\[\d+ frames omitted\]$", f)
                                for f in s), s[:3])


@per_interpreter
class CodeChurn(StackTestCase):
    """code_churn.py makes and drops thousands of code objects a second;
    no frame is ever named after a code object that is not on its stack:
    a_N (file <churn-a>) only ever runs under parent_a, b_N under parent_b,
    never_* and lambdas never run."""

    def check_no_stale_names(self, finder):
        t = self.start(finder, "code_churn.py")
        own = set()
        for line in t.lines:
            text = line.decode() if isinstance(line, bytes) else line
            if text.startswith("expect "):
                own = set(text[len("expect "):].strip().split(";"))
        self.assertTrue(own, t.lines)
        stacks, summary = self.record(t, self.path("churn.txt"), "-r", "1000",
                                      duration=4)
        self.assertGreater(sum(stacks.values()), 300, summary)
        wrong = {}
        for s, c in stacks.items():
            why = self.misnamed(s, own)
            if why:
                why += " in " + ";".join(func_of(f) for f in s)
                wrong[why] = wrong.get(why, 0) + c
        sys.stderr.write("\n  %s: %d samples, %d misnamed\n"
                         % (self.id().rsplit(".", 1)[-1],
                            sum(stacks.values()), sum(wrong.values())))
        self.assertFalse(wrong, "frames named after code objects not on the "
                         "stack: %r" % sorted(wrong.items(),
                                              key=lambda x: -x[1])[:5])

    @staticmethod
    def misnamed(stack, own):
        parent = None
        for i, fr in enumerate(stack):
            func = func_of(fr)
            m = re.match(r"^.*? \((?P<file>.*?)(:\d+)?\)$", fr)
            file = m.group("file") if m else ""
            ctx = ";".join(func_of(f) for f in stack[max(0, i - 2):i + 1])
            if func.startswith("never") or func == "<lambda>":
                return "%s (%s) after %s" % (fr, file, ctx)
            if file.endswith("code_churn.py"):
                if func not in own:
                    return ctx
                if func in ("parent_a", "parent_b"):
                    parent = func[-1]
            elif file.startswith("<churn-"):
                x = file[len("<churn-")]
                # <listcomp>: the lambdas' list before 3.12 (PEP 709)
                if x != parent or not (func in ("<module>", "<listcomp>") or
                                       re.match(x + r"_\d+$", func)):
                    return "%s in %s under parent_%s" % (func, file, parent)
            elif (file.endswith("churnmod.py") and
                  func not in ("<module>", "<listcomp>")):
                return ctx
        return None


@per_interpreter
class DumpSaysWhy(StackTestCase):
    """dump under a fast-changing stack: every Python thread shows its
    frames or why they could not be read, never "(no frames)"."""

    def check_dump_never_empty(self, finder):
        t = self.start(finder, "fib_loop.py")
        for _ in range(30):
            text = self.dump(t)
            threads = parse_dump(text)
            self.assertEqual(len(threads), 1, text)
            frames = threads[0][1]
            self.assertNotIn("(no frames)", frames, text)
            if frames and frames[0].startswith("(stack not readable: "):
                continue
            self.assertEqual(func_of(frames[-1]), "<module>", text)
            self.assertTrue(all(func_of(f) in ("fib", "<module>")
                                for f in frames), text)


if __name__ == "__main__":
    unittest.main()
