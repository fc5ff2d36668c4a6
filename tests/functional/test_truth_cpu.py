"""cpu mode counts what the kernel says each thread used (issue #18, points
1, 3 and 7): samples / (rate x CPU seconds) within 0.9-1.1, where CPU
seconds are the target's utime + stime from /proc/PID/stat over the
recording.  The targets share CPUs (taskset), so that a thread spends most
of its time runnable but not running: in state R, which is not CPU time.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_truth_cpu.py -v
"""
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import time
import unittest

from harness import (LOUPE, LoupeTestCase, read_collapsed, run_loupe,
                     script_path, target_path, weight_where, has_func,
                     split_share, split_times)

PYENV = "/root/.pyenv/versions"
DEBIAN = "/usr/bin/python3.11"
RATE = 100
CLK_TCK = os.sysconf("SC_CLK_TCK")
BUSY = "import sys; print('ready'); sys.stdout.flush()\nwhile 1: pass\n"


from harness import skip  # noqa: E402


def pyenv(minor):
    found = sorted(glob.glob(os.path.join(PYENV, minor + ".*", "bin",
                                          "python" + minor)))
    return found[-1] if found else None


def cpu_ticks(pid):
    """The CPU time of a process, in clock ticks (floats): its threads'
    schedstat (ns, the count /proc/PID/stat's utime + stime round to
    ticks: 10 ms either way is 4% of a second of CPU on a loaded box),
    else utime + stime."""
    total, ok = 0, False
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
                    ok = True
            except (IOError, OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    if ok:
        return total * CLK_TCK / 1e9
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpus():
    return sorted(os.sched_getaffinity(0))


def pb_fields(buf):
    """(field number, wire type, value) of one protobuf message."""
    i = 0

    def varint():
        nonlocal i
        v = shift = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7f) << shift
            shift += 7
            if b < 0x80:
                return v
    while i < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            yield num, wt, varint()
        elif wt == 2:
            n = varint()
            yield num, wt, buf[i:i + n]
            i += n
        elif wt == 1:
            yield num, wt, buf[i:i + 8]
            i += 8
        elif wt == 5:
            yield num, wt, buf[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)


def pb_varints(buf):
    out, v, shift = [], 0, 0
    for b in buf:
        v |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            out.append(v)
            v = shift = 0
    return out


def pprof_totals(path):
    """{sample type name: sum of values} of a .pb.gz profile."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    strings, types, sums = [], [], None
    samples = []
    for num, wt, v in pb_fields(data):
        if num == 6:
            strings.append(v.decode("utf-8", "replace"))
        elif num == 1:
            types.append(dict((n, x) for n, _, x in pb_fields(v)).get(1, 0))
        elif num == 2:
            for n, w, x in pb_fields(v):
                if n == 2:
                    samples.append(pb_varints(x) if w == 2 else [x])
    sums = [0] * len(types)
    for vals in samples:
        for k, x in enumerate(vals[:len(types)]):
            sums[k] += x
    return dict((strings[t], s) for t, s in zip(types, sums))


class CpuTruth(LoupeTestCase):

    def busy_on(self, python, cpu, n=3, nice=0):
        ts = []
        for _ in range(n):
            ts.append(self.start(["nice", "-n", str(nice), "taskset", "-c",
                                  str(cpu), python, "-c", BUSY]))
        return ts

    def assert_ratio(self, samples, ticks, what, lo=0.9, hi=1.1, rate=RATE):
        expect = rate * ticks / float(CLK_TCK)
        self.assertGreater(ticks, 0, what)
        ratio = samples / expect
        print("%s: %d samples for %.2f s of CPU: %.3f"
              % (what, samples, ticks / float(CLK_TCK), ratio),
              file=sys.stderr)
        if expect < 30:
            # a box with far more jobs than CPUs: too few samples for a
            # ratio (each thread keeps up to a period uncharged)
            skip(self, "machine overloaded: %s got %.2f s of CPU (load %.1f)"
                 % (what, expect / rate, os.getloadavg()[0]))
        slack = 2.0 / expect  # the last period and the first reading
        self.assertTrue(lo - slack <= ratio <= hi + slack,
                        "%s: %d samples, %.2f s of CPU (x %d Hz = %.0f): "
                        "ratio %.3f" % (what, samples, ticks / float(CLK_TCK),
                                        rate, expect, ratio))

    def check_three_on_one_cpu(self, python):
        if not python or not os.access(python, os.X_OK):
            skip(self, "no interpreter %s" % python)
        ts = self.busy_on(python, cpus()[-1])
        raw = self.path("busy.loupe")
        before = cpu_ticks(ts[0].pid)
        res = run_loupe("record", "--mode", "cpu", "-r", RATE, "-d", 5,
                        "-p", ts[0].pid, "-o", raw)
        after = cpu_ticks(ts[0].pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        ticks = after - before
        # Every output of the recording says the same.
        txt = self.path("busy.txt")
        res = run_loupe("report", raw, "--format", "collapsed", "-o", txt)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_ratio(sum(read_collapsed(txt).values()), ticks,
                          "collapsed")
        pb = self.path("busy.pb.gz")
        res = run_loupe("report", raw, "-o", pb)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_ratio(pprof_totals(pb)["cpu_samples"], ticks, "pprof")
        sp = self.path("busy.speedscope.json")
        res = run_loupe("report", raw, "-o", sp)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(sp) as f:
            doc = json.load(f)
        self.assert_ratio(sum(sum(p["weights"]) for p in doc["profiles"]),
                          ticks, "speedscope")
        res = run_loupe("report", raw)
        self.assertEqual(res.returncode, 0, res.stderr)
        m = re.search(r"CPU samples (\d+), CPU time ([\d.]+) s", res.stdout)
        self.assertTrue(m, res.stdout)
        self.assert_ratio(int(m.group(1)), ticks, "report")
        self.assert_ratio(float(m.group(2)) * RATE, ticks, "report CPU time")

    def test_three_on_one_cpu_pyenv(self):
        self.check_three_on_one_cpu(pyenv("3.12") or pyenv("3.11"))

    def test_three_on_one_cpu_debian(self):
        self.check_three_on_one_cpu(DEBIAN)

    def test_pool_on_two_cpus(self):
        """A multiprocessing.Pool(4) on 2 CPUs, --subprocesses: each
        worker's samples are its own CPU time."""
        python = DEBIAN if os.access(DEBIAN, os.X_OK) else pyenv("3.12")
        if not python:
            skip(self, "no CPython")
        two = ",".join(str(c) for c in cpus()[-2:])
        t = self.start(["taskset", "-c", two, python,
                        script_path("pool.py"), "--workers", "4"])
        workers = [int(x) for line in t.lines if line.startswith("workers")
                   for x in line.split()[1:]]
        self.assertEqual(len(workers), 4, t.lines)
        raw = self.path("pool.loupe")
        before = dict((w, cpu_ticks(w)) for w in workers)
        res = run_loupe("record", "--mode", "cpu", "-r", RATE, "-d", 5,
                        "--subprocesses", "-p", t.pid, "-o", raw)
        after = dict((w, cpu_ticks(w)) for w in workers)
        self.assertEqual(res.returncode, 0, res.stderr)
        for w in workers:
            txt = self.path("w%d.txt" % w)
            res = run_loupe("report", raw, "-p", w, "--format", "collapsed",
                            "-o", txt)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assert_ratio(sum(read_collapsed(txt).values()),
                              after[w] - before[w], "worker %d" % w)

    def test_top_cpu_seconds(self):
        """top --mode cpu (its plain table, output to a pipe): the own CPU
        seconds of every row add up to the kernel's, within 10%."""
        python = DEBIAN if os.access(DEBIAN, os.X_OK) else pyenv("3.12")
        if not python:
            skip(self, "no CPython")
        ts = self.busy_on(python, cpus()[-1])
        before = cpu_ticks(ts[0].pid)
        res = run_loupe("top", "--mode", "cpu", "-r", RATE, "-d", 5,
                        "-p", ts[0].pid, env=dict(os.environ, TERM="dumb"))
        after = cpu_ticks(ts[0].pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        # The last table: its rows' OwnSecs (the 5th figure).
        table = res.stdout.rsplit("OwnSecs", 1)[1].split("\n")[1:]
        own = 0.0
        for line in table:
            fields = line.split()
            if len(fields) >= 7 and fields[0].endswith("%"):
                own += float(fields[4])
        self.assert_ratio(own * RATE, after - before, "top OwnSecs")

    def test_native_child_of_driver(self):
        """--subprocesses on a native child (split_fp, sampled by perf
        events) that a Python driver starts: its samples within 10% of
        100 x its CPU seconds, and the summary agrees with itself."""
        python = DEBIAN if os.access(DEBIAN, os.X_OK) else pyenv("3.12")
        if not python:
            skip(self, "no CPython")
        prog = target_path("split_fp")
        if not os.access(prog, os.X_OK):
            skip(self, "%s not built" % prog)
        raw = self.path("drv.loupe")
        res = run_loupe("record", "--mode", "cpu", "-r", RATE,
                        "--subprocesses", "-o", raw, "--", python,
                        script_path("native_driver.py"), 5, prog)
        self.assertEqual(res.returncode, 0, res.stderr)
        m = re.search(r"child (\d+) cpu_ns (\d+)", res.stdout + res.stderr)
        self.assertTrue(m, res.stdout + res.stderr)
        child, ns = int(m.group(1)), int(m.group(2))
        txt = self.path("child.txt")
        rep = run_loupe("report", raw, "-p", child, "--format", "collapsed",
                        "-o", txt)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        self.assert_ratio(sum(read_collapsed(txt).values()),
                          ns * CLK_TCK / 1e9, "native child", lo=0.9, hi=1.1)
        # "took A of B samples (C missed)": B = A + C, and C is not 0
        # after a warning that deadlines were missed.
        m = re.search(r"took (\d+) of (\d+) samples \((\d+) missed\)",
                      res.stderr)
        self.assertTrue(m, res.stderr)
        took, of, missed = (int(x) for x in m.groups())
        self.assertEqual(took + missed, of, res.stderr)
        if "deadlines missed" in res.stderr:
            self.assertGreater(missed, 0, res.stderr)

    def check_split_beside_busy(self, python, share_our_cpu=False,
                                loop_ms=None):
        """The 3:1 split of split.py holds when it shares its CPU with 3
        busy processes (it is then preempted three quarters of the time),
        and when loupe runs on that CPU too (share_our_cpu): our own
        wake-ups then preempt the target and start its next runs (pinned
        by hand: 0.78-0.81 for 0.765; the CI once saw 0.94 unpinned, with
        the other CPU busy, fifteenth session's note).  loop_ms: a round
        of the two functions takes that much CPU (split.py calibrates)."""
        if not python or not os.access(python, os.X_OK):
            skip(self, "no interpreter %s" % python)
        cpu = cpus()[-1]
        # niced, so that split.py gets half of the CPU (enough samples on
        # a loaded box) and still waits for it half of the time
        self.busy_on(python, cpu, nice=5)
        log = self.path("split.log")
        env = dict(os.environ, LOUPE_SPLIT_LOG=log)
        if loop_ms:
            env["LOUPE_SPLIT_LOOP_MS"] = str(loop_ms)
        t = self.start(["taskset", "-c", str(cpu), python,
                        script_path("split.py")], env=env)
        out = self.path("split.txt")
        # A thread kept waiting for its CPU sits where it was preempted,
        # most often at a system call's return: work()'s own clock calls
        # (2% of its CPU) had 21-29% of the samples when a preempted
        # thread was charged there.  A run the box skewed past the
        # tolerance gets a second one.
        for attempt in range(2):
            start = cpu_ticks(t.pid)
            b = split_times(log)
            # 1 kHz: a quarter of a shared CPU is few samples at 100 Hz
            pin = {}
            if share_our_cpu:
                pin["preexec_fn"] = lambda: os.sched_setaffinity(0, {cpu})
            res = run_loupe("record", "--mode", "cpu", "-r", 1000, "-d", 5,
                            "-p", t.pid, "-o", out, **pin)
            after = split_times(log)
            truth = split_share(b, after)
            ticks = cpu_ticks(t.pid) - start
            self.assertEqual(res.returncode, 0, res.stderr)
            stacks = read_collapsed(out)
            three = weight_where(stacks, lambda s: has_func(s, "hot_three"))
            one = weight_where(stacks, lambda s: has_func(s, "hot_one"))
            self.assert_ratio(sum(stacks.values()), ticks, "split.py", rate=1000)
            self.assertGreater(three + one, 200, stacks)
            share = three / float(three + one)
            # work()'s own share: what its CPU clock did not put in the
            # two functions
            hot_s = (after[0] - b[0] + after[1] - b[1]) / 1e9
            own_truth = max(0.0, 1 - hot_s / (ticks / float(CLK_TCK)))
            own = weight_where(stacks, lambda s: s[-1].startswith("work ")) / \
                float(sum(stacks.values()))
            if abs(share - truth) <= 0.07 and own <= own_truth + 0.06:
                break
            sys.stderr.write("note: hot_three share %.3f, really %.3f; work() "
                             "itself %.3f, really %.3f: a second run\n"
                             % (share, truth, own, own_truth))
        self.assertAlmostEqual(share, truth, delta=0.07,
                               msg="hot_three share %.3f (%d vs %d), "
                               "really %.3f" % (share, three, one, truth))
        self.assertLessEqual(own, own_truth + 0.06,
                             "work() itself has %.3f of the CPU samples, really "
                             "%.3f: charged where it was preempted" % (own, own_truth))

    def test_split_beside_busy_pyenv(self):
        self.check_split_beside_busy(pyenv("3.12") or pyenv("3.11"))

    def test_split_beside_busy_kernel_tick(self):
        """A round of split.py about as long as the kernel's scheduler tick
        (4 ms at HZ=250), when a running thread's CPU time moves: charged
        whole at the first tick after each move, loops of 3.4 to 7.6 ms
        read hot_three 0.07 to 0.22 under the truth (sixteenth session);
        charged a period a tick, within 0.01."""
        self.check_split_beside_busy(pyenv("3.12") or pyenv("3.11"),
                                     loop_ms=4.5)

    def test_split_beside_busy_on_our_cpu(self):
        self.check_split_beside_busy(pyenv("3.12") or pyenv("3.11"),
                                     share_our_cpu=True)

    def test_split_beside_busy_debian(self):
        self.check_split_beside_busy(DEBIAN)


def loupe_reads(loupe_pid, pid):
    """Whether loupe (loupe_pid) holds a file of /proc/pid/task open: its
    sampler took the thread list, so sampling has begun."""
    try:
        for fd in os.listdir("/proc/%d/fd" % loupe_pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (loupe_pid, fd))
            except OSError:
                continue
            if link.startswith("/proc/%d/task/" % pid):
                return True
    except OSError:
        pass
    return False


class TaskCpu(LoupeTestCase):
    """record --tasks on yappi's classic example: foo's CPU within 20% of
    yappi's cpu clock, its wall within 5% of yappi's wall clock."""

    def need_yappi(self, python):
        res = subprocess.run([python, "-c", "import yappi"],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            skip(self, "no yappi for %s (apt-get install python3-yappi): "
                 "%s" % (python, res.stderr.strip()[-200:]))

    def record_tasks(self, python, script, *args):
        """loupe record --tasks -r 1000 attached to the script, started
        once it samples; returns report --tasks's (wall s, CPU s) of foo
        and what the script printed."""
        t = subprocess.Popen([python, script] + list(args) + ["wait"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        rec = None
        out = self.path("yappi.loupe")
        try:
            self.assertTrue(t.stdout.readline().startswith(b"ready"))
            rec = subprocess.Popen([LOUPE, "record", "-q", "--tasks", "-r",
                                    "1000", "-p", str(t.pid), "-o", out],
                                   stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while not loupe_reads(rec.pid, t.pid):
                self.assertLess(time.monotonic(), deadline,
                                "loupe never started sampling")
                time.sleep(0.01)
            t.stdin.write(b"go\n")
            t.stdin.flush()
            printed = t.stdout.read().decode()
            t.wait(timeout=60)
            _, err = rec.communicate(timeout=60)
            self.assertEqual(rec.returncode, 0, err)
        finally:
            for p in (t, rec):
                if p and p.poll() is None:
                    p.kill()
                    p.wait()
        rep = run_loupe("report", out, "--tasks")
        self.assertEqual(rep.returncode, 0, rep.stderr)
        m = re.search(r"(?m)^ +([\d.]+) +[\d.]+ +([\d.]+) +[\d.]+ +(\d+) "
                      r"+[\d.]+  foo ", rep.stdout)
        self.assertTrue(m, rep.stdout)
        # and its CPU samples (cpu mode's figure: flame graphs, top) over
        # the rate, which counted every tick its thread was runnable
        txt = self.path("yappi.txt")
        rep = run_loupe("report", out, "--mode", "cpu", "--format",
                        "collapsed", "-o", txt)
        self.assertEqual(rep.returncode, 0, rep.stderr)
        stacks = read_collapsed(txt)
        self.cpu_samples_s = weight_where(
            stacks, lambda s: has_func(s, "foo")) / 1000.0
        return float(m.group(1)), float(m.group(2)), printed

    def test_task_cpu_like_yappi(self):
        python = DEBIAN
        if not os.access(python, os.X_OK):
            skip(self, "no %s (its python3-yappi is the reference)" % python)
        script = script_path("yappi_classic.py")
        self.need_yappi(python)
        # Each clock of yappi's on a run of its own, loupe attached to the
        # same run: on a loaded box a burst's CPU time varies by a third
        # and a sleep(1) by seconds from one run to the next.
        for attempt in range(2):
            _, lcpu, printed = self.record_tasks(python, script, "yappi", "cpu")
            m = re.search(r"yappi foo: 5 calls, ([\d.]+) s", printed)
            self.assertTrue(m, printed)
            cpu = float(m.group(1))
            lcpu_samples = self.cpu_samples_s
            # 25 ms of bursts: a second run when one was skewed (a CI run
            # once read 0.040 s against yappi's 0.053 s)
            if (abs(lcpu / cpu - 1) <= 0.2 and
                    abs(lcpu_samples / cpu - 1) <= 0.2):
                break
        lwall, _, printed = self.record_tasks(python, script, "yappi", "wall")
        m = re.search(r"yappi foo: 5 calls, ([\d.]+) s", printed)
        self.assertTrue(m, printed)
        wall = float(m.group(1))
        print("foo: loupe %.3f s wall, %.3f s CPU, CPU samples / rate "
              "%.3f s; yappi %.3f s wall, %.3f s CPU"
              % (lwall, lcpu, lcpu_samples, wall, cpu), file=sys.stderr)
        self.assertAlmostEqual(lcpu / cpu, 1, delta=0.2,
                               msg="CPU %.3f s, yappi %.3f s" % (lcpu, cpu))
        self.assertAlmostEqual(lcpu_samples / cpu, 1, delta=0.2,
                               msg="CPU samples / rate %.3f s, yappi %.3f s"
                               % (lcpu_samples, cpu))
        self.assertAlmostEqual(lwall / wall, 1, delta=0.05,
                               msg="wall %.3f s, yappi %.3f s" % (lwall, wall))


if __name__ == "__main__":
    unittest.main()
