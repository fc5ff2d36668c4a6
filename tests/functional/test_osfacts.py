"""One home for each OS fact (#21 point 4), seen from outside.

- /proc/PID/stat is read by one parser (profiler/procfs.c): processes of a
  tree whose command names hold ')', blanks and a fake state are found by
  --subprocesses (proc_watch's stat reads) and named as the kernel has them
  (target's comm), and loupe attaches to such a process directly.
- libunwind's signal masking is skipped by an override of sigprocmask that
  only the loupe program carries (profiler/unwind_sigmask.c): the program
  exports it (so libunwind binds to it), the unit tests linked with the
  same library do not define it.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_osfacts.py -v
"""
import os
import signal
import shutil
import subprocess
import sys
import unittest

from harness import BUILD, LOUPE, LoupeTestCase, read_collapsed, run_loupe

# Names the kernel keeps (15 bytes at most) that a parser splitting on
# blanks, or on the first ')', reads as a zombie or as another parent.
HOSTILE = ["a) Z 1 (b", "c d) R 9 ("]

# A parent that forks one CPU-bound child per name; each child renames
# itself (through /proc/self/comm, as prctl(PR_SET_NAME) does) before the
# parent says it is ready.
TREE = r"""
import ctypes, os, signal, sys, time
names = sys.argv[1:]
parent = os.getpid()
pids = []
for name in names:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        # busy children die with the parent, never left to load the box
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(0)
        with open("/proc/self/comm", "w") as f:
            f.write(name)
        os.write(w, b"x")
        os.close(w)
        n = 0
        while True:
            n += 1
    os.close(w)
    os.read(r, 1)
    os.close(r)
    pids.append(pid)
print("children " + " ".join(str(p) for p in pids), flush=True)
print("ready", flush=True)
while True:
    time.sleep(1)
"""


def by_root(stacks):
    """{root frame: samples}"""
    out = {}
    for stack, count in stacks.items():
        if stack:
            out[stack[0]] = out.get(stack[0], 0) + count
    return out


class HostileNames(LoupeTestCase):
    @staticmethod
    def kill_quietly(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    def start_tree(self):
        t = self.start([sys.executable, "-c", TREE] + HOSTILE)
        for line in t.lines:
            if line.startswith("children "):
                children = [int(p) for p in line.split()[1:]]
                for pid in children:
                    self.addCleanup(self.kill_quietly, pid)
                return t, children
        self.fail("no children line: %r" % t.lines)

    def test_tree_finds_and_names_them(self):
        t, children = self.start_tree()
        for pid, name in zip(children, HOSTILE):
            with open("/proc/%d/comm" % pid) as f:
                self.assertEqual(f.read().rstrip("\n"), name)
        out = self.path("tree.txt")
        res = run_loupe("record", "-p", t.pid, "--subprocesses", "--mode",
                        "wall", "-d", "2", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stderr, r"and 2 subprocesses found by ")
        roots = by_root(read_collapsed(out))
        for pid, name in zip(children, HOSTILE):
            root = "process %d (%s)" % (pid, name)
            self.assertIn(root, roots, sorted(roots))
            self.assertGreater(roots[root], 0)

    def test_attach_to_one(self):
        t, children = self.start_tree()
        out = self.path("one.txt")
        res = run_loupe("record", "-p", children[0], "-d", "1", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertGreater(sum(read_collapsed(out).values()), 0)
        # alive all along: not taken for the zombie its name says
        self.assertNotIn("exited", res.stderr)


class SigprocmaskOverride(unittest.TestCase):
    def dynamic_defines(self, path):
        nm = shutil.which("nm")
        if not nm:
            self.skipTest("no nm (binutils) to list symbols")
        out = subprocess.run([nm, "-D", "--defined-only", path],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return {line.split()[-1] for line in out.stdout.splitlines() if line.split()}

    def all_defines(self, path):
        nm = shutil.which("nm")
        if not nm:
            self.skipTest("no nm (binutils) to list symbols")
        out = subprocess.run([nm, "--defined-only", path],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return {line.split()[-1] for line in out.stdout.splitlines() if line.split()}

    def test_loupe_carries_it(self):
        # exported, so that libunwind.so's calls bind to it
        self.assertIn("sigprocmask", self.dynamic_defines(LOUPE))

    def test_library_users_do_not(self):
        checked = 0
        for name in ("check_unwind", "check_perf_native", "check_target"):
            path = os.path.join(BUILD, "tests", "unit", name)
            if not os.access(path, os.X_OK):
                continue
            checked += 1
            self.assertNotIn("sigprocmask", self.all_defines(path), path)
        if not checked:
            self.skipTest("unit tests not built (make check builds them)")


if __name__ == "__main__":
    unittest.main()
