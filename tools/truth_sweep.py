"""How far cpu mode's split of tests/targets/split.py is from its truth as
the length of split.py's round changes: split.py pinned to the last CPU
beside 3 niced busy processes (so that it is preempted, as on a loaded
box), `loupe record --mode cpu` on the first CPU (or, with --our-cpu, on
the target's), and hot_three's share of the CPU samples against its
share of the CPU time split.py measured itself (LOUPE_SPLIT_LOG).  A
round near the kernel's scheduler tick (4 ms at HZ=250) read 0.53-0.67
for 0.75 before loupe charged a period a tick (sixteenth session).

  python3 tools/truth_sweep.py PYTHON LOUPE UNIT... [--rate HZ]
                               [--seconds S] [--our-cpu]

UNIT is split.py's: a round is 4 x UNIT loop iterations (UNIT 2000 is
about 0.76 ms on CPython 3.12 here).  LOUPE_NO_PERF=1 in the environment
measures loupe without the switch records.  A benchmark, not a test.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def times(log):
    with open(log) as f:
        return [int(x) for x in f.read().split()]


def one(args, unit, tmp, cpus):
    """(hot_three samples, hot_one samples, truth) of one recording."""
    with open(os.path.join(SRC, "tests", "targets", "split.py")) as f:
        src = re.sub(r"(?m)^UNIT = \d+", "UNIT = %d" % unit, f.read())
    path = os.path.join(tmp, "split_%d.py" % unit)
    with open(path, "w") as f:
        f.write(src)
    log = os.path.join(tmp, "split_%d.log" % unit)
    t = subprocess.Popen(["taskset", "-c", str(cpus[-1]), args.python, path],
                         env=dict(os.environ, LOUPE_SPLIT_LOG=log),
                         stdout=subprocess.PIPE)
    try:
        t.stdout.readline()
        time.sleep(0.5)     # the log written once
        before = times(log)
        out = os.path.join(tmp, "split_%d.txt" % unit)
        ours = cpus[-1] if args.our_cpu else cpus[0]
        subprocess.run(["taskset", "-c", str(ours), args.loupe, "record",
                        "--mode", "cpu", "-r", str(args.rate), "-d",
                        str(args.seconds), "-p", str(t.pid), "-o", out, "-q"],
                       check=True)
        time.sleep(0.06)    # a write after the recording's end
        after = times(log)
    finally:
        t.kill()
        t.wait()
    three = one_ = 0
    with open(out) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if "hot_three" in stack:
                three += int(n)
            elif "hot_one" in stack:
                one_ += int(n)
    d3, d1 = after[0] - before[0], after[1] - before[1]
    return three, one_, d3 / float(d3 + d1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("python")
    ap.add_argument("loupe")
    ap.add_argument("units", nargs="+", type=int)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--our-cpu", action="store_true")
    args = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("truth_sweep: needs two CPUs")
    busy = [subprocess.Popen(["taskset", "-c", str(cpus[-1]), "nice", "-n",
                              "5", args.python, "-c", "while 1: pass"])
            for _ in range(3)]
    tmp = tempfile.mkdtemp(prefix="loupe-truth-sweep-")
    try:
        for unit in args.units:
            three, one_, truth = one(args, unit, tmp, cpus)
            share = three / float(three + one_ or 1)
            print("UNIT %6d  hot_three %5d  hot_one %5d  share %.3f  "
                  "truth %.3f  off by %+.3f" % (unit, three, one_, share,
                                                truth, share - truth))
            sys.stdout.flush()
    finally:
        for b in busy:
            b.kill()
            b.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
