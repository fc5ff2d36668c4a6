"""Creates and drops thousands of code objects a second while its hot
functions stay the same (tests/functional/test_truth_stacks.py):
parent_a and parent_b take turns compiling and running fresh source, whose
function a_N (file <churn-a>) or b_N (file <churn-b>) does a little work
and is then dropped, so that the next one's code object is often made at
the address of the last; lambdas and never_* functions are made and never
called; a small module is reloaded now and then.

Every stack is therefore: <module>, main, then hot, or parent_X then
<module> (<churn-X>) then X_N, or the reload's frames.  Prints the names of
this file's functions on a line "expect NAME;NAME;...", then "ready"."""
import importlib
import os
import sys
import tempfile

moddir = tempfile.mkdtemp(prefix="loupe-churn-")
with open(os.path.join(moddir, "churnmod.py"), "w") as f:
    f.write("def never_in_module(x):\n    return x + 1\n\n"
            "VALUE = [lambda: %d for _ in range(20)]\n" % os.getpid())
sys.path.insert(0, moddir)
import churnmod  # noqa: E402

SRC = ("def %(x)s_%(i)d(n):\n"
       "    s = 0\n"
       "    for k in range(n):\n"
       "        s += k * %(i)d\n"
       "    return s\n"
       "never_l%(i)d = [lambda q: q + %(i)d for _ in range(3)]\n"
       "def never_%(x)s%(i)d():\n"
       "    return 0\n"
       "r = %(x)s_%(i)d(400)\n")


def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def parent_a(i):
    ns = {}
    exec(compile(SRC % {"x": "a", "i": i}, "<churn-a>", "exec"), ns)


def parent_b(i):
    ns = {}
    exec(compile(SRC % {"x": "b", "i": i}, "<churn-b>", "exec"), ns)


def main():
    i = 0
    while True:
        hot(300)
        parent_a(i)
        parent_b(i + 1)
        if i % 100 == 0:
            importlib.reload(churnmod)
        i += 2


print("expect <module>;main;hot;parent_a;parent_b")
print("ready")
sys.stdout.flush()
main()
