"""Helpers for loupe's functional tests: start real target processes, wait
for them to say they are ready, run loupe against them, read its output."""
import os
import re
import select
import shutil
import signal
import sys
import subprocess
import tempfile
import time
import unittest

SRC = os.environ.get("LOUPE_SRC", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("LOUPE_BUILD", SRC)
LOUPE = os.environ.get("LOUPE", os.path.join(BUILD, "loupe"))
READY_TIMEOUT = 20.0


def target_path(name):
    """A C target built by the test build (tests/targets)."""
    return os.path.join(BUILD, "tests", "targets", name)


def script_path(name):
    return os.path.join(SRC, "tests", "targets", name)


def _die_with_parent():
    # A killed test run must not leave targets spinning: PR_SET_PDEATHSIG.
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)


def thread_states(pid):
    """{tid: state letter} of every thread of pid."""
    states = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states[int(tid)] = f.read().rsplit(")", 1)[1].split()[0]
        except (IOError, OSError):
            pass  # the thread ended meanwhile
    return states


class Target:
    """A process started for a test, waited for until it prints its ready
    line (within a deadline, never a fixed sleep); .lines holds what it
    printed before.  Killed when the test ends, or with the test runner."""

    def __init__(self, argv, errlog=None, ready="ready", env=None):
        self.argv = argv
        self.err = open(errlog, "w+") if errlog else tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env,
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self.lines = []
        try:
            self._wait_ready(ready)
        except AssertionError:
            self.kill()
            raise

    def _wait_ready(self, ready):
        deadline = time.monotonic() + READY_TIMEOUT
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%r: no %r within %.0f s"
                                     % (self.argv, ready, READY_TIMEOUT))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self.err.seek(0)
                raise AssertionError("%r exited before %r (status %s): %s"
                                     % (self.argv, ready, self.proc.wait(),
                                        self.err.read()[-2000:]))
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode("ascii", "replace")
                if line.startswith(ready):
                    return
                self.lines.append(line)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.err.close()

    def tids(self):
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % self.pid))

    def state(self):
        with open("/proc/%d/stat" % self.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]


def run_loupe(*args, timeout=120, **kw):
    return subprocess.run([LOUPE] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, **kw)


def read_collapsed(path):
    """{(root frame, ..., leaf frame): count} from a collapsed-stacks file."""
    stacks = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            stack, _, count = line.rpartition(" ")
            key = tuple(stack.split(";"))
            stacks[key] = stacks.get(key, 0) + int(count)
    return stacks


FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*):(?P<line>\d+)\)$")


def func_of(frame):
    return frame.strip().split(" (")[0]


def parse_frame(frame):
    """(func, file basename, line) of "func (file:line)", or None."""
    m = FRAME_RE.match(frame.strip())
    if not m:
        return None
    return (m.group("func"), os.path.basename(m.group("file")),
            int(m.group("line")))


def has_func(stack, name):
    return any(func_of(f) == name for f in stack)


def weight_where(stacks, pred):
    return sum(c for s, c in stacks.items() if pred(s))


def parse_dump(text):
    """[(header line, [frame lines, leaf first])] of `loupe dump` output:
    a line "Thread TID ..." at column 0 starts a thread, the indented lines
    after it are its frames; other lines (process, version) end it."""
    threads = []
    current = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[0] in " \t":
            if current is not None:
                current[1].append(line.strip())
        elif line.startswith("Thread "):
            current = (line, [])
            threads.append(current)
        else:
            current = None
    return threads


def split_times(log, wait=True):
    """What split.py (LOUPE_SPLIT_LOG=log, or pool.py's workers' log.PID)
    last wrote: the CPU ns spent in hot_three and in hot_one so far.  With
    wait, first waits for the file and for a write newer than now (every
    50 ms)."""
    if wait:
        deadline = time.monotonic() + 5
        while not os.path.exists(log) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.06)
    with open(log) as f:
        return [int(x) for x in f.read().split()]


def split_share(before, after, wall=False):
    """hot_three's share of what really ran between two split_times: of
    their CPU time, or with wall of their wall-clock time (preempted time
    included: what a wall-mode profile measures when the target shares its
    CPU, which on a loaded box is not the CPU split)."""
    i = 2 if wall else 0
    three, one = after[i] - before[i], after[i + 1] - before[i + 1]
    return three / float(three + one)


def expected_lines(path):
    """{name: line} from the "# EXPECT: name" markers of a target."""
    marks = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"#\s*EXPECT:\s*(\S+)", line)
            if m:
                marks[m.group(1)] = n
    return marks



def skip(test, reason):
    """A visible skip: the reason is printed, never a silent pass."""
    sys.stderr.write("SKIP %s: %s\n" % (test.id(), reason))
    test.skipTest(reason)


def cpu_ns(pid):
    """What the kernel says every thread of pid ran, in ns (schedstat's
    first field summed over its threads)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (IOError, OSError, ValueError, IndexError):
            pass
    return total


class LoupeTestCase(unittest.TestCase):
    """Gives each test a temporary directory and kills its targets."""

    def setUp(self):
        if not os.access(LOUPE, os.X_OK):
            self.fail("loupe binary not built at " + LOUPE)
        self.tmp = tempfile.mkdtemp(prefix="loupe-test-")
        self.targets = []

    def tearDown(self):
        for t in self.targets:
            t.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, argv, **kw):
        t = Target(argv, **kw)
        self.targets.append(t)
        return t

    def skip(self, reason):
        skip(self, reason)

    def start_script(self, finder, script, *args):
        """script run by the interpreter finder() names (self.exe), its
        stderr kept in the test's directory; a visible skip without it."""
        exe, why = finder()
        if exe is None:
            self.skip(why)
        self.exe = exe
        t = Target([exe, script] + list(args), self.path("target.stderr"))
        self.targets.append(t)
        return t

    def assert_running(self, t):
        """The target lives and none of its threads was left stopped."""
        self.assertIsNone(t.proc.poll(), "target died")
        stopped = {k: v for k, v in thread_states(t.pid).items() if v in "tT"}
        self.assertFalse(stopped, "threads left stopped: %r" % stopped)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def record(self, target, out, *extra, duration=2):
        res = run_loupe("record", "-p", target.pid, "-o", out, "-d", duration, *extra)
        self.assertEqual(res.returncode, 0, "loupe record failed: " + res.stderr)
        return res
