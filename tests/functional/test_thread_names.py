"""Python's thread names (issue 22, point 5): threading.Thread(name=...)
shows as its Python name, with the OS name and TID beside it, in dump
(text and JSON) and in --threads roots (which top's thread rows share),
on py-spy's thread-names scenario (MainThread and CustomThreadName-0..9)
on every interpreter present; 2.7 is a printed skip (its objects are not
read)."""
import json
import os
import re
import unittest

from harness import LoupeTestCase, run_loupe, script_path
from interpreters import debian, py314, py315, pyenv

INTERPRETERS = [("py3%d" % m, (lambda m=m: pyenv("3.%d" % m)))
                for m in range(6, 14)] + [
    ("py311_debian", debian), ("py314", py314), ("py315", py315)]

WANT = set(["MainThread"] + ["CustomThreadName-%d" % i for i in range(10)])


from harness import skip  # noqa: E402


class ThreadNames(LoupeTestCase):

    def target(self, finder):
        py, why = finder()
        if not py:
            skip(self, why)
        return self.start([py, script_path("thread_names.py")])

    def os_names(self, pid):
        names = {}
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                names[int(tid)] = f.read().rstrip("\n")
        return names

    def check(self, finder):
        t = self.target(finder)
        comm = self.os_names(t.pid)
        res = run_loupe("dump", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        heads = re.findall(r'(?m)^Thread (\d+) \([^)]*\): "([^"]*)"'
                           r'(?: \(OS name "([^"]*)"\))? state', res.stdout)
        self.assertEqual(set(h[1] for h in heads), WANT, res.stdout)
        for tid, name, osname in heads:
            # the TID is the OS thread's, its OS name beside the Python
            # name where they differ
            self.assertIn(int(tid), comm)
            self.assertEqual(osname or name, comm[int(tid)], res.stdout)
        main = [h for h in heads if h[1] == "MainThread"][0]
        self.assertEqual(int(main[0]), t.pid)

        res = run_loupe("dump", "--format", "json", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        threads = json.loads(res.stdout)["threads"]
        self.assertEqual(set(x["name"] for x in threads), WANT)
        for x in threads:
            self.assertEqual(x["os_name"], comm[x["tid"]])

        out = self.path("threads.txt")
        res = run_loupe("record", "-p", t.pid, "-d", "0.5", "--mode", "wall",
                        "--threads", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out) as f:
            roots = set(line.split(";", 1)[0] for line in f)
        named = {}
        for r in roots:
            m = re.match(r"^thread (\d+) \((\S+)(?: \[(.*)\])?\)$", r)
            self.assertTrue(m, r)
            named[m.group(2)] = (int(m.group(1)), m.group(3))
        self.assertEqual(set(named), WANT, roots)
        for name, (tid, osname) in named.items():
            self.assertEqual(osname or name[:15], comm[tid])

    def test_py27_skip(self):
        py, why = pyenv("2.7")
        skip(self, "CPython 2.7: thread names are not read (no object "
             "layout for 2.7's dicts)" if py else why)


for _name, _finder in INTERPRETERS:
    setattr(ThreadNames, "test_names_" + _name,
            (lambda f: lambda self: self.check(f))(_finder))


if __name__ == "__main__":
    unittest.main()
