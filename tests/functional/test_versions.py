"""CPython versions read from the interpreter's own description: 3.13 to
3.15 through their _Py_DebugOffsets shapes, and every one of them again
through the inference path alone (LOUPE_PY_INFER=1 hides the version's
own shape, so loupe must find the shape that validates against the live
process), for frames and for asyncio tasks."""
import os
import unittest

from harness import LoupeTestCase, expected_lines, parse_dump, run_loupe, script_path
from interpreters import py314, py315, pyenv

DEBUG_OFFSETS = [("py313", lambda: pyenv("3.13"), 13), ("py314", py314, 14),
                 ("py315", py315, 15)]


from harness import skip  # noqa: E402


class Versions(LoupeTestCase):

    def interpreter(self, finder):
        path, why = finder()
        if not path:
            skip(self, why)
        return path

    def check_dump(self, finder, minor, inferred):
        py = self.interpreter(finder)
        t = self.start([py, script_path("parked.py")])
        env = dict(os.environ)
        if inferred:
            env["LOUPE_PY_INFER"] = "1"
        res = run_loupe("dump", "-p", t.pid, env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        note = "[3.%d debug offsets%s]" % (minor, ", inferred" if inferred else "")
        self.assertIn("CPython 3.%d." % minor, res.stdout)
        self.assertIn(note, res.stdout)
        threads = parse_dump(res.stdout)
        self.assertEqual(len(threads), 1, res.stdout)
        marks = expected_lines(script_path("parked.py"))
        frames = threads[0][1]
        want = ["%s (%s:%d)" % (f, script_path("parked.py"), marks[f])
                for f in ("inner", "middle", "outer", "<module>")]
        self.assertEqual(frames, want, res.stdout)

    def check_tasks(self, finder, minor):
        py = self.interpreter(finder)
        t = self.start([py, script_path("tasks.py"), "tree"])
        env = dict(os.environ, LOUPE_PY_INFER="1")
        res = run_loupe("dump", "--tasks", "-p", t.pid, env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("[3.%d debug offsets, inferred]" % minor, res.stdout)
        for name in ("main", "group", "worker-1", "worker-2", "waiter", "leaf"):
            self.assertIn("(T) %s\n" % name, res.stdout)
        # the await chain inside a task is followed: worker -> handle
        self.assertRegex(res.stdout, r"(?s)worker-1.*?worker \(.*?handle \(")


def _add(cls):
    for tag, finder, minor in DEBUG_OFFSETS:
        def dump(self, f=finder, m=minor):
            self.check_dump(f, m, False)

        def inferred(self, f=finder, m=minor):
            self.check_dump(f, m, True)
        setattr(cls, "test_dump_%s" % tag, dump)
        setattr(cls, "test_dump_inferred_%s" % tag, inferred)
        if minor >= 14:
            def tasks(self, f=finder, m=minor):
                self.check_tasks(f, m)
            setattr(cls, "test_tasks_inferred_%s" % tag, tasks)


_add(Versions)

if __name__ == "__main__":
    unittest.main()
