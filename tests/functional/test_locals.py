"""loupe dump --locals (issue 22, point 4): each Python frame's local
variables, names from the code object and values from the frame, rendered
short and safe, in text and JSON, on every interpreter present (2.7,
3.6-3.13 from pyenv, Debian's static stripped 3.11, 3.14 and 3.15); and on
a target rebinding its locals as fast as it can, where every dump must
succeed and each value be one the target could hold or <changed>."""
import json
import re
import unittest

from harness import LoupeTestCase, run_loupe, script_path
from interpreters import debian, py314, py315, pyenv

INTERPRETERS = [("py27", lambda: pyenv("2.7"))] + [
    ("py3%d" % m, (lambda m=m: pyenv("3.%d" % m))) for m in range(6, 14)] + [
    ("py311_debian", debian), ("py314", py314), ("py315", py315)]

ADDR = r"0x[0-9a-f]+"


from harness import skip  # noqa: E402


def text_locals(out):
    """{function: {name: repr}} of a dump --locals text output."""
    frames, cur, inside = {}, None, False
    for line in out.splitlines():
        m = re.match(r"^    (\S.*?) \(.*:\d+\)$", line)
        if m:
            cur = frames.setdefault(m.group(1), {})
            inside = False
        elif line.startswith("        Locals:"):
            inside = True
        elif inside and line.startswith("            ") and cur is not None:
            name, _, value = line.strip().partition(": ")
            cur[name] = value
    return frames


class Locals(LoupeTestCase):

    def interpreter(self, finder):
        path, why = finder()
        if not path:
            skip(self, why)
        return path

    def check_known(self, finder, py2=False):
        py = self.interpreter(finder)
        t = self.start([py, script_path("locals.py")])
        res = run_loupe("dump", "--locals", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        frames = text_locals(res.stdout)
        self.assertIn("inner", frames, res.stdout)
        loc = frames["inner"]
        want = {
            "count": "7",               # a cell: a closure shares it
            "label": "'lbl'",
            "neg": "-12345678901",
            "small": "5",
            "ratio": "3.25",
            "text": r"'hello\tworld'",
            "long_text": "'" + "x" * 64 + "'...",
            "raw": r"'\x00ab\xff'" if py2 else r"b'\x00ab\xff'",
            "nothing": "None",
            "yes": "True",
            "no": "False",
        }
        for name, value in want.items():
            self.assertEqual(loc.get(name), value, "%s in\n%s" % (name, res.stdout))
        patterns = {
            "big": r"<(int|long) \(beyond 64 bits\) at %s>" % ADDR,
            "items": r"<list len=3 at %s>" % ADDR,
            "pair": r"<tuple len=2 at %s>" % ADDR,
            "table": r"<dict len=2 at %s>" % ADDR,
            "members": r"<set len=4 at %s>" % ADDR,
            "thing": r"<object at %s>" % ADDR,
            "closure": r"<function at %s>" % ADDR,
        }
        for name, pat in patterns.items():
            self.assertRegex(loc.get(name, ""), "^%s$" % pat, res.stdout)
        self.assertEqual(frames.get("outer"), {"marker": "42"}, res.stdout)

        res = run_loupe("dump", "--locals", "--format", "json", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.loads(res.stdout)
        frames = doc["threads"][0]["frames"]
        inner = [f for f in frames if f["func"] == "inner"][0]
        byname = dict((l["name"], l) for l in inner["locals"])
        self.assertEqual(byname["ratio"], {"name": "ratio", "type": "float",
                                           "repr": "3.25"})
        self.assertEqual(byname["nothing"]["type"], "NoneType")
        self.assertEqual(byname["items"]["type"], "list")
        self.assertEqual(byname["label"]["repr"], "'lbl'")
        self.assertEqual(byname["yes"]["repr"], "True")
        outer = [f for f in frames if f["func"] == "outer"][0]
        self.assertEqual(outer["locals"], [{"name": "marker", "type": "int",
                                            "repr": "42"}])
        # without --locals, no locals
        res = run_loupe("dump", "--format", "json", "-p", t.pid)
        self.assertNotIn('"locals"', res.stdout)

    def check_churn(self, finder):
        py = self.interpreter(finder)
        t = self.start([py, script_path("locals_churn.py")])
        ok = re.compile(r"^(-?\d+|None|'s\d+'|'(s\d+){3}'|"
                        r"-?\d+\.\d+(e[-+]\d+)?|<changed>|"
                        r"<(list|dict|tuple) len=\d+ at %s>)$" % ADDR)
        seen = 0
        for i in range(25):
            res = run_loupe("dump", "--locals", "-p", t.pid)
            self.assertEqual(res.returncode, 0, res.stderr)
            loc = text_locals(res.stdout).get("spin")
            if loc is None:
                # the one stack that changed during the read says so
                self.assertIn("frames changed", res.stdout)
                continue
            seen += 1
            for name, value in loc.items():
                self.assertIn(name, ("i", "a", "b", "c", "d", "e"), res.stdout)
                self.assertRegex(value, ok, "%s in\n%s" % (name, res.stdout))
        self.assertGreater(seen, 0)
        self.assertIsNone(t.proc.poll(), "the target died")


for _name, _finder in INTERPRETERS:
    setattr(Locals, "test_known_" + _name,
            (lambda f, py2: lambda self: self.check_known(f, py2))(
                _finder, _name == "py27"))
    setattr(Locals, "test_churn_" + _name,
            (lambda f: lambda self: self.check_churn(f))(_finder))


if __name__ == "__main__":
    unittest.main()
