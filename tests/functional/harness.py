"""Helpers for loupe's functional tests: start real target processes, wait
for them to say they are ready, run loupe against them, read its output."""
import glob
import os
import shutil
import signal
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


def interpreters():
    """Every CPython the suite runs against: (label, path or None, reason)."""
    found = []
    for d in sorted(glob.glob("/root/.pyenv/versions/*")):
        ver = os.path.basename(d)
        major_minor = ".".join(ver.split(".")[:2])
        exe = os.path.join(d, "bin", "python" + major_minor)
        found.append(("pyenv-" + ver, exe if os.access(exe, os.X_OK) else None,
                      exe + " not installed"))
    for exe in ("/usr/bin/python3.11",):
        found.append(("debian-" + os.path.basename(exe),
                      exe if os.access(exe, os.X_OK) else None,
                      exe + " not installed"))
    for exe in ("/opt/loupe-py314/usr/bin/python3.14",):
        found.append(("debian-python3.14", exe if os.access(exe, os.X_OK) else None,
                      exe + " not installed (tools/get-python3.14 brings it)"))
    return found


class Target:
    """A process started for a test; killed when the test ends."""

    def __init__(self, argv, ready="ready", env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env,
                                     start_new_session=True)
        self.pid = self.proc.pid
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.decode(errors="replace").startswith(ready):
                return
        err = self.proc.stderr.read1(4096) if self.proc.poll() is not None else b""
        self.kill()
        raise AssertionError("target %r did not get ready: %r %r" % (argv, line, err))

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def tids(self):
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % self.pid))

    def state(self):
        with open("/proc/%d/stat" % self.pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]


def run_loupe(*args, timeout=120, **kw):
    return subprocess.run([LOUPE] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, **kw)


def read_collapsed(path):
    """{tuple(frames root first): count}"""
    stacks = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, count = line.rsplit(" ", 1)
            key = tuple(stack.split(";"))
            stacks[key] = stacks.get(key, 0) + int(count)
    return stacks


def frame_func(frame):
    """'func (file:line)' -> 'func'"""
    return frame.split(" (", 1)[0]


def weight_where(stacks, pred):
    return sum(c for s, c in stacks.items() if pred(s))


def has_func(stack, name):
    return any(frame_func(f) == name for f in stack)


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

    def path(self, name):
        return os.path.join(self.tmp, name)

    def record(self, target, out, *extra, duration=2):
        res = run_loupe("record", "-p", target.pid, "-o", out, "-d", duration, *extra)
        self.assertEqual(res.returncode, 0, "loupe record failed: " + res.stderr)
        return res
