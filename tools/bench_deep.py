# Target of tools/bench: one thread spinning DEPTH Python frames deep, and
# optionally extra threads sleeping.  Runs under 2.7 and 3.x.  With a third
# argument "distinct", each frame runs a function of its own (a service's
# stack: every frame a different code object, name and line table).
import sys
import threading
import time

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 20
SLEEPERS = int(sys.argv[2]) if len(sys.argv) > 2 else 0
DISTINCT = len(sys.argv) > 3 and sys.argv[3] == "distinct"


def sleeper():
    while True:
        time.sleep(1)


def spin():
    x = 0
    while True:
        x += 1


def descend(n):
    if n <= 1:
        spin()
    else:
        descend(n - 1)


for _ in range(SLEEPERS):
    t = threading.Thread(target=sleeper)
    t.daemon = True
    t.start()
if DISTINCT:
    # level_1 calls spin; level_K calls level_K-1.
    src = "".join("def level_%d():\n    %s()\n" % (
        k, "spin" if k == 1 else "level_%d" % (k - 1))
        for k in range(1, DEPTH - 1))
    exec(compile(src, __file__, "exec"))
sys.stdout.write("ready\n")
sys.stdout.flush()
if DISTINCT:
    globals()["level_%d" % (DEPTH - 2)]()  # with <module> and spin
else:
    descend(DEPTH - 1)  # with <module>, DEPTH frames
