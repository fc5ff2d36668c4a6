"""Programs loupe starts are Python from their first samples: `loupe record
-- python script.py` waits for the interpreter to be readable instead of
racing its start-up.  Each interpreter is started 10 times; every run must
be read as CPython, with main -> longsleep sampled through its sleep, and
every sample either a Python stack, a native one rooted at
"[python start-up]" or the thread's "<no stack>" before the script's first
frame and after its last (none sampled as a native program, none named
after code that is not on the stack)."""
import unittest

from harness import LoupeTestCase, read_collapsed, run_loupe, script_path
from test_python import INTERPRETERS

RUNS = 10
RATE = 200
SLEEP = 0.3  # startup.py's default


from harness import skip  # noqa: E402


class Startup(LoupeTestCase):

    def check(self, finder):
        py, why = finder()
        if not py:
            skip(self, why)
        script = script_path("startup.py")
        bad = []
        for run in range(RUNS):
            out = self.path("run%d.txt" % run)
            res = run_loupe("record", "--mode", "wall", "-r", str(RATE), "-o", out,
                            "--", py, script)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("(CPython ", res.stderr)
            stacks = read_collapsed(out)
            total = sum(stacks.values())
            sleep = 0
            for stack, n in stacks.items():
                funcs = [f.split(" (")[0] for f in stack]
                if stack[0] == "[python start-up]":
                    continue
                if stack == ("<no stack>",):
                    # a Python thread with no frame yet (the runtime
                    # before the script) or any more (finalization)
                    continue
                # a Python frame names its file in parentheses (with its
                # line once it has run an instruction; "<frozen os>" for a
                # frozen module); a native one does not
                self.assertTrue(any(" (" in f and f.endswith(")") for f in stack),
                                "run %d: a sample with no Python frame: %r" % (run, stack))
                if "longsleep" in funcs:
                    # named right: longsleep under main under <module>
                    # (and what it calls: os.environ.get, time.sleep)
                    upto = funcs[:funcs.index("longsleep") + 1]
                    self.assertEqual(upto[-3:],
                                     ["<module>", "main", "longsleep"][-len(upto[-3:]):],
                                     stack)
                    sleep += n
            # the sleep's own periods, not a share of the run: a start-up
            # slowed by a busy box (345 ms once in the CI) takes more
            # samples but never fewer of longsleep
            if sleep < 0.7 * SLEEP * RATE:
                bad.append("run %d: longsleep %d of %d samples" % (run, sleep, total))
        self.assertEqual(bad, [], "\n".join(bad))


def _add():
    for tag, finder in INTERPRETERS:
        def test(self, f=finder):
            self.check(f)
        setattr(Startup, "test_startup_%s" % tag, test)


_add()

if __name__ == "__main__":
    unittest.main()
