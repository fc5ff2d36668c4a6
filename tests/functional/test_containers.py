"""CPython in a container: a process in its own PID namespace (what
`unshare -p -f -r --mount-proc` makes, the shape of every Docker
container), attached from the host by its host PID.  Its threads are
numbered in its namespace, so what CPython records of them must be mapped
(NSpid) for dump, record, --tasks and trace to see its Python stacks.  And
an interpreter whose file was deleted after it started (a package
upgrade) is read through /proc/PID/map_files."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import LOUPE, parse_dump, read_collapsed, run_loupe, script_path
from test_python import INTERPRETERS
from test_trace import TraceTestCase, parse_trace

UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--map-root-user",
           "--mount-proc"]
CHOSEN = ("py38", "py311", "py313", "py311_debian_static",
          "py314_debian_static", "py315_debian_static")


from harness import skip  # noqa: E402


def inner_python(pid):
    """The host PID of the python process under unshare's fork."""
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/comm" % p) as f:
                if f.read().startswith("python"):
                    return p
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return None


class Containers(TraceTestCase):

    def setUp(self):
        super().setUp()
        self.inner = []

    def tearDown(self):
        # the namespace's init first: unshare alone may outlive a SIGKILL
        # of the test's target while its child runs
        for pid in self.inner:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        super().tearDown()

    def contained(self, finder, script, *args):
        if not shutil.which("unshare"):
            skip(self, "unshare missing (apt-get install util-linux)")
        py, why = finder()
        if not py:
            skip(self, why)
        t = self.start(UNSHARE + [py, script_path(script)] + list(args))
        pid = inner_python(t.pid)
        self.assertIsNotNone(pid, "no python under unshare %d" % t.pid)
        self.inner.append(pid)
        with open("/proc/%d/status" % pid) as f:
            nspid = [l for l in f if l.startswith("NSpid:")][0].split()[1:]
        self.assertEqual(len(nspid), 2, nspid)   # host and namespace ids
        self.assertNotEqual(nspid[0], nspid[1])
        return pid

    def check_stacks(self, finder):
        pid = self.contained(finder, "parked.py")
        res = run_loupe("dump", "-p", pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        threads = parse_dump(res.stdout)
        self.assertEqual(len(threads), 1, res.stdout)
        self.assertEqual([f.split(" (")[0] for f in threads[0][1]],
                         ["inner", "middle", "outer", "<module>"], res.stdout)
        out = self.path("c.txt")
        res = run_loupe("record", "-p", pid, "-d", "1", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        stacks = read_collapsed(out)
        inner = sum(n for s, n in stacks.items() if s[-1].startswith("inner ("))
        self.assertGreater(inner, 0.8 * sum(stacks.values()), stacks)

    def check_tasks(self, finder):
        pid = self.contained(finder, "tasks.py", "tree")
        res = run_loupe("dump", "--tasks", "-p", pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        for name in ("main", "group", "waiter", "leaf"):
            self.assertIn("(T) %s\n" % name, res.stdout)
        out = self.path("t.txt")
        res = run_loupe("record", "--tasks", "-p", pid, "-d", "1", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        roots = {s[0] for s in read_collapsed(out)}
        self.assertTrue({"2 tasks: worker", "task leaf"} <= roots, roots)

    def test_trace_py311(self):
        finder = dict(INTERPRETERS)["py311"]
        pid = self.contained(finder, "async_stall.py")
        res = subprocess.run([LOUPE, "trace", "-p", str(pid), "-d", "3.5"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        found = parse_trace(res.stdout)
        self.assertEqual(list(found), [pid], res.stdout)
        blamed = [s for s in found[pid]["stalls"] if "legacy_sync_call" in s[2]]
        self.assertGreaterEqual(len(blamed), 2, res.stdout)

    def test_deleted_interpreter(self):
        """A static interpreter deleted after it started, under another
        name: still CPython, read through map_files."""
        py = "/usr/bin/python3.11"
        if not os.access(py, os.X_OK):
            skip(self, "%s not found (Debian's python3.11-minimal)" % py)
        d = tempfile.mkdtemp(prefix="loupe-del-")
        copy = os.path.join(d, "svc-runtime")
        shutil.copy(py, copy)
        t = self.start([copy, script_path("parked.py")])
        os.unlink(copy)
        os.rmdir(d)
        res = run_loupe("dump", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("CPython 3.11", res.stdout)
        self.assertIn("(deleted)", res.stdout)
        self.assertEqual([f.split(" (")[0] for f in parse_dump(res.stdout)[0][1]],
                         ["inner", "middle", "outer", "<module>"], res.stdout)


def _add():
    finders = dict(INTERPRETERS)
    for tag in CHOSEN:
        def stacks(self, f=finders[tag]):
            self.check_stacks(f)
        setattr(Containers, "test_stacks_%s" % tag, stacks)
        if tag not in ("py38",):
            def tasks(self, f=finders[tag]):
                self.check_tasks(f)
            setattr(Containers, "test_tasks_%s" % tag, tasks)


_add()

if __name__ == "__main__":
    unittest.main()
