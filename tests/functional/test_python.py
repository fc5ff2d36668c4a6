"""loupe on CPython targets, once per interpreter.

Every scenario runs as its own test for each interpreter: the pyenv builds
under /root/.pyenv/versions (2.7, 3.6 to 3.13), Debian's static, stripped
/usr/bin/python3.11, and Debian unstable's 3.14 fetched by
tools/get-python 3.14 and 3.15 (LOUPE_PY314, LOUPE_PY315 override their paths).  A missing
interpreter is a skip whose reason says which and how to get it.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_python.py -v
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (LOUPE, Target, expected_lines, func_of, has_func,
                     split_share, split_times,
                     parse_dump, parse_frame, read_collapsed, run_loupe,
                     thread_states, weight_where)

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(os.path.dirname(HERE), "targets")
PYENV = "/root/.pyenv/versions"
READY_DEADLINE = 30.0
LOUPE_TIMEOUT = 60.0


# --- interpreters ---------------------------------------------------------

def _pyenv(minor):
    def find():
        found = sorted(glob.glob(os.path.join(PYENV, minor + ".*", "bin",
                                              "python")))
        if found:
            return found[-1], None
        return None, ("CPython %s not found under %s (pyenv install %s)"
                      % (minor, PYENV, minor))
    return find


def _path(path, hint):
    def find():
        p = path() if callable(path) else path
        if os.access(p, os.X_OK):
            return p, None
        return None, "%s not found (%s)" % (p, hint)
    return find


INTERPRETERS = [("py%s" % m.replace(".", ""), _pyenv(m))
                for m in ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11",
                          "3.12", "3.13")]
INTERPRETERS += [
    ("py311_debian_static",
     _path("/usr/bin/python3.11", "Debian's python3.11-minimal package")),
    ("py314_debian_static",
     _path(lambda: os.environ.get("LOUPE_PY314",
                                  "/opt/loupe-py314/usr/bin/python3.14"),
           "run tools/get-python 3.14 or set LOUPE_PY314")),
    ("py315_debian_static",
     _path(lambda: os.environ.get("LOUPE_PY315",
                                  "/opt/loupe-py315/usr/bin/python3.15"),
           "run tools/get-python 3.15 or set LOUPE_PY315")),
]


# --- helpers ----------------------------------------------------------------

def loupe_binary():
    return LOUPE if os.access(LOUPE, os.X_OK) else None


class PythonTestCase(unittest.TestCase):

    def setUp(self):
        if loupe_binary() is None:
            self.skip("LOUPE does not name an executable loupe binary "
                      "(LOUPE=%r)" % os.environ.get("LOUPE"))
        self.tmp = tempfile.mkdtemp(prefix="loupe-pytest-")
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

    def version(self, finder):
        """(major, minor) of the interpreter."""
        out = subprocess.run([self.python(finder), "-c",
                              "import sys; sys.stdout.write('%d %d' % "
                              "sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
        return tuple(int(x) for x in out.stdout.split())

    def start(self, finder, script, env=None):
        path = os.path.join(TARGETS, script)
        t = Target([self.python(finder), path],
                   os.path.join(self.tmp, "%s.stderr" % script), env=env)
        t.script = path
        self.targets.append(t)
        return t

    def path(self, name):
        return os.path.join(self.tmp, name)

    def assert_running(self, t):
        """The quality bar: loupe leaves no thread of the target stopped."""
        self.assertIsNone(t.proc.poll(), "target died")
        states = thread_states(t.pid)
        stopped = dict((k, v) for k, v in states.items() if v in "tT")
        self.assertFalse(stopped, "threads left stopped: %r" % stopped)

    def record(self, t, out, *args, **kw):
        res = run_loupe("record", "-p", t.pid, "-o", out,
                        "-d", kw.get("duration", 2), *args)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_running(t)
        return read_collapsed(out)

    def dump_until(self, t, ok, *args):
        """Runs `loupe dump` until ok(threads) holds, for a few tries within
        a deadline (a nonblocking read of a live process can be torn)."""
        deadline = time.time() + 10
        last = None
        while True:
            res = run_loupe("dump", "-p", t.pid, *args)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assert_running(t)
            threads = parse_dump(res.stdout)
            if ok(threads):
                return threads, res.stdout
            last = res.stdout
            if time.time() > deadline:
                self.fail("dump never showed the expected stacks:\n" + last)
            time.sleep(0.2)


def per_interpreter(cls):
    """Turns each check_X(self, finder) of cls into test_X_<interpreter>."""
    for name in [n for n in dir(cls) if n.startswith("check_")]:
        for tag, finder in INTERPRETERS:
            def test(self, _check=getattr(cls, name), _finder=finder):
                _check(self, _finder)
            test.__name__ = "test_%s_%s" % (name[len("check_"):], tag)
            setattr(cls, test.__name__, test)
    return cls


# --- scenarios ------------------------------------------------------------

@per_interpreter
class Split(PythonTestCase):
    """split.py: hot_three() burns 3x what hot_one() burns."""

    def start_split(self, finder):
        """split.py, timing its two functions itself (LOUPE_SPLIT_LOG)."""
        self.split_log = self.path("split.log")
        return self.start(finder, "split.py",
                          env=dict(os.environ, LOUPE_SPLIT_LOG=self.split_log))

    def check_cpu_split(self, finder):
        # Within 5 points of what split.py really ran: 3:1 by construction,
        # 0.68-0.75 from one process to the next on Debian's python3.11.
        # A run the box skewed past the tolerance gets a second one, as
        # in test_truth_cpu: one CI run measured 0.695 for a true 0.751,
        # before a thread preempted was no longer charged where it waited
        # (the tenth session).
        t = self.start_split(finder)
        for attempt in range(2):
            before = split_times(self.split_log)
            stacks = self.record(t, self.path("split.txt"), "--mode", "cpu",
                                 "-r", "400", duration=3)
            truth = split_share(before, split_times(self.split_log))
            three = weight_where(stacks, lambda s: has_func(s, "hot_three"))
            one = weight_where(stacks, lambda s: has_func(s, "hot_one"))
            self.assertGreater(three + one, 300, stacks)
            share = three / float(three + one)
            if abs(share - truth) <= 0.05:
                break
        self.assertAlmostEqual(share, truth, delta=0.05,
                               msg="hot_three share %.3f (%d vs %d), really %.3f"
                               % (share, three, one, truth))
        # Root first: <module> -> work -> hot_three, with lines.
        top = max((s for s in stacks if has_func(s, "hot_three")),
                  key=lambda s: stacks[s])
        names = [func_of(f) for f in top]
        self.assertEqual(names[-2:], ["work", "hot_three"], top)
        self.assertIn("<module>", names, top)
        for f in top:
            p = parse_frame(f)
            self.assertTrue(p and p[1] == "split.py" and p[2] > 0, f)

    def check_split_at_top_rate(self, finder):
        """The split stays exact when loupe samples as fast as it can
        (#12): 200,000 Hz in wall mode on 3.11+, where a late sample
        weighs the periods it stands for; 100,000 Hz below.  A wall
        profile against the two functions' wall-clock split: on a loaded
        box the target waits for its CPU inside them, and that is wall
        time too (CPU 0.74, wall 0.85, loupe 0.81 at load 10)."""
        t = self.start_split(finder)
        rate = "200000" if self.version(finder) >= (3, 11) else "100000"
        out = self.path("split.txt")
        # loupe keeps a CPU busy here; ahead of the box's other jobs (as
        # root), so that what is measured is its sampling, not a
        # preemption that makes one late sample weigh thousands.
        ahead = ["nice", "-n", "-10"] if os.geteuid() == 0 else []
        shares = []
        # On this 2-CPU box one long preemption of loupe makes one late
        # sample weigh thousands of periods: a second run is allowed, and
        # both are reported if both are off.
        for _ in range(2):
            before = split_times(self.split_log)
            res = subprocess.run(ahead + [loupe_binary(), "record", "-p",
                                          str(t.pid), "-o", out, "-d", "3",
                                          "--mode", "wall", "-r", rate],
                                 capture_output=True, text=True, timeout=120)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assert_running(t)
            stacks = read_collapsed(out)
            three = weight_where(stacks, lambda s: has_func(s, "hot_three"))
            one = weight_where(stacks, lambda s: has_func(s, "hot_one"))
            self.assertGreater(three + one, 50000, stacks)
            truth = split_share(before, split_times(self.split_log), wall=True)
            shares.append((three / float(three + one), truth))
            if abs(shares[-1][0] - truth) <= 0.05:
                break
        self.assertAlmostEqual(shares[-1][0], shares[-1][1], delta=0.05,
                               msg="hot_three shares (measured, really) %r at %s Hz"
                               % (shares, rate))

    def check_no_lines(self, finder):
        t = self.start(finder, "split.py")
        stacks = self.record(t, self.path("split.txt"), "--mode", "cpu",
                             "--no-lines", duration=1)
        frames = set(f for s in stacks for f in s)
        # The line part goes, the function (and file) stay.
        self.assertIn("hot_three", set(func_of(f) for f in frames))
        self.assertFalse([f for f in frames if parse_frame(f)], frames)


@per_interpreter
class Parked(PythonTestCase):
    """parked.py: dump shows inner/middle/outer on their marked lines."""

    def check_dump_lines(self, finder):
        t = self.start(finder, "parked.py")
        marks = expected_lines(t.script)
        want = [(n, "parked.py", marks[n])
                for n in ("inner", "middle", "outer", "<module>")]

        def main_stack(threads):
            for header, frames in threads:
                parsed = [parse_frame(f) for f in frames]
                if want[0] in parsed:
                    i = parsed.index(want[0])
                    return header, parsed[i:i + len(want)]
            return None

        threads, text = self.dump_until(
            t, lambda th: (main_stack(th) or (0, None))[1] == want)
        header, _ = main_stack(threads)
        self.assertRegex(header, r"\b%d\b" % t.pid, text)


@per_interpreter
class Threads(PythonTestCase):
    """threads.py: busy and idle threads, by tid, in dump and record."""

    WORKER_FUNC = {"busy": "busy_worker", "idle": "idle_worker",
                   "select": "select_worker"}

    def named_tids(self, t):
        tids = {}
        for line in t.lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "thread":
                tids[parts[1]] = int(parts[2])
        self.assertEqual(len(tids), 5, t.lines)
        # They are real threads of the target, under their OS names.
        for name, tid in tids.items():
            with open("/proc/%d/task/%d/comm" % (t.pid, tid)) as f:
                self.assertEqual(f.read().strip(), name)
        self.settle(t, [tid for name, tid in tids.items()
                        if not name.startswith("busy")])
        return tids

    def settle(self, t, tids):
        # A worker names itself before it reaches its blocking call, and
        # a sample of that moment is a true one: wait until the idle and
        # select threads sit in a system call other than the GIL's futex,
        # twice in a row.
        futex, steady = "202", 0
        deadline = time.time() + READY_DEADLINE
        while steady < 2:
            self.assertLess(time.time(), deadline, "threads never blocked")
            calls = []
            for tid in tids:
                with open("/proc/%d/task/%d/syscall" % (t.pid, tid)) as f:
                    calls.append(f.read().split()[0])
            blocked = all(c not in ("running", futex) for c in calls)
            steady = steady + 1 if blocked else 0
            time.sleep(0.05)

    def check_dump_tids(self, finder):
        t = self.start(finder, "threads.py")
        tids = self.named_tids(t)

        def by_tid(threads):
            found = {}
            for header, frames in threads:
                for name, tid in tids.items():
                    if re.search(r"\b%d\b" % tid, header):
                        found[name] = (header, [func_of(f) for f in frames])
            return found

        def ok(threads):
            found = by_tid(threads)
            return len(found) == len(tids) and all(
                self.WORKER_FUNC[n.split("-")[0]] in found[n][1]
                for n in found)

        threads, text = self.dump_until(t, ok)
        found = by_tid(threads)
        for name, (header, _) in found.items():
            self.assertIn(name, header, text)
        # Every thread loupe shows is a thread of the target.
        task = set(int(x) for x in os.listdir("/proc/%d/task" % t.pid))
        for header, _ in threads:
            nums = set(int(x) for x in re.findall(r"\b\d+\b", header))
            self.assertTrue(nums & task, "unknown thread: %s" % header)

    def check_wall_vs_cpu(self, finder):
        t = self.start(finder, "threads.py")
        self.named_tids(t)
        # which threads each mode shows, not how much: a second each
        wall = self.record(t, self.path("wall.txt"), "--mode", "wall", duration=1)
        cpu = self.record(t, self.path("cpu.txt"), "--mode", "cpu", duration=1)
        for func in ("busy_worker", "idle_worker", "select_worker"):
            self.assertGreater(
                weight_where(wall, lambda s: has_func(s, func)), 0,
                "%s missing in wall mode: %r" % (func, wall))
        self.assertGreater(weight_where(cpu, lambda s: has_func(s, "busy_worker")),
                           0, cpu)
        for func in ("idle_worker", "select_worker"):
            self.assertEqual(
                weight_where(cpu, lambda s: has_func(s, func)), 0,
                "%s (off CPU) in cpu mode: %r" % (func, cpu))

    def check_gil_mode(self, finder):
        # Two busy threads take turns at the GIL: in gil mode at most one
        # sample per period counts (a tick after missed deadlines weighs
        # the periods it stands for), and the busy ones hold it most.
        t = self.start(finder, "threads.py")
        self.named_tids(t)
        out = self.path("gil.txt")
        res = run_loupe("record", "-p", t.pid, "-o", out, "-d", 2,
                        "--mode", "gil", "-r", 200)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_running(t)
        ticks = int(re.search(r"took \d+ of (\d+)", res.stderr).group(1))
        gil = read_collapsed(out)
        held = sum(gil.values())
        self.assertLessEqual(held, ticks, gil)
        busy = weight_where(gil, lambda s: has_func(s, "busy_worker"))
        if self.version(finder) < (3, 2):
            # 2.7's GIL is released and taken again every 100 bytecodes
            # (Python/ceval.c), and with a waiter the release is a futex
            # wake-up: on an idle 2-CPU machine that system call is as
            # long as the 100 bytecodes, so nobody holds the GIL for about
            # half of the time (184 of 403 ticks were read held).  What
            # gil mode must show is that the busy threads are the holders.
            self.assertGreater(busy, 0.1 * ticks, "%d of %d ticks: %r"
                               % (busy, ticks, gil))
            self.assertGreaterEqual(busy, 0.95 * held, gil)
        else:
            self.assertGreater(busy, 0.5 * ticks, "%d of %d ticks: %r"
                               % (busy, ticks, gil))
        for func in ("idle_worker", "select_worker"):
            self.assertEqual(weight_where(gil, lambda s: has_func(s, func)), 0, gil)


NATIVE_SORT_RE = re.compile(r"qsort|msort")


@per_interpreter
class NativeMerge(PythonTestCase):
    """native_call.py: Python -> qsort (native) -> Python callback."""

    def check_native_order(self, finder):
        t = self.start(finder, "native_call.py")
        stacks = self.record(t, self.path("native.txt"), "--mode", "cpu",
                             "--native", duration=2)

        def ordered(s):
            funcs = [func_of(f) for f in s]
            if "call_qsort" not in funcs or "py_compare" not in funcs:
                return False
            a = funcs.index("call_qsort")
            b = next((i for i in range(a + 1, len(s))
                      if NATIVE_SORT_RE.search(s[i])), None)
            return b is not None and "py_compare" in funcs[b + 1:]

        in_cb = weight_where(stacks, lambda s: has_func(s, "py_compare"))
        good = weight_where(stacks, ordered)
        self.assertGreater(in_cb, 50, stacks)
        self.assertGreaterEqual(good / float(in_cb), 0.5,
                                "%d of %d callback samples ordered\n%r"
                                % (good, in_cb, stacks))
        best = max((s for s in stacks if ordered(s)), key=lambda s: stacks[s])
        funcs = [func_of(f) for f in best]
        self.assertLess(funcs.index("main"), funcs.index("call_qsort"), best)
        # Python frames keep their lines in a merged stack.
        self.assertTrue(parse_frame(best[funcs.index("py_compare")]), best)


if __name__ == "__main__":
    unittest.main()
