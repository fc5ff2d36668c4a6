"""The outputs of a recording of a process tree (--subprocesses, issue #10):
loupe report -p PID, --merge-processes, the processes table of the
summary, and every format read back by its consumer (pstats by Python's
pstats, pprof by `go tool pprof` when go is installed, the JSON formats
by a JSON parser).

The recording is synthetic (tests/unit/gen_tree_recording): a parent PID
4000 waiting, 4 workers 4001-4004 spending 3:1 between work_a and work_b,
each with a feeder thread, written through loupe's raw writer with the
metadata the sampler sets for a tree.  The live side (top's process view,
record --subprocesses on a real Pool) needs the engine.

Run: tests/run --build DIR -k Processes
"""
import gzip
import json
import os
import shutil
import subprocess
import sys

from harness import BUILD, LoupeTestCase, read_collapsed, run_loupe

WORKERS = [4001, 4002, 4003, 4004]
PIDS = [4000] + WORKERS
SAMPLES = 400


class Processes(LoupeTestCase):

    def setUp(self):
        super().setUp()
        gen = os.path.join(BUILD, "tests", "unit", "gen_tree_recording")
        if not os.access(gen, os.X_OK):
            self.fail("tests/unit/gen_tree_recording not built at " + gen)
        self.rec = self.path("tree.loupe")
        res = subprocess.run([gen, self.rec, str(len(WORKERS)), str(SAMPLES)],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)

    def collapsed(self, *args):
        out = self.path("out.txt")
        res = run_loupe("report", self.rec, "-q", "-o", out, *args)
        self.assertEqual(res.returncode, 0, res.stderr)
        return read_collapsed(out)

    def test_summary_lists_processes(self):
        res = run_loupe("report", self.rec, "-q")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("Processes: 5", res.stdout)
        rows = {}
        for line in res.stdout.splitlines():
            f = line.split()
            if len(f) >= 6 and f[0].isdigit():
                rows[int(f[0])] = f
        self.assertEqual(sorted(rows), PIDS, res.stdout)
        self.assertEqual(rows[4000][1], "parent")
        self.assertEqual(rows[4001][1], "worker")
        # no process.4004 metadata: named by its main thread
        self.assertEqual(rows[4004][1], "lastworker")
        self.assertEqual(rows[4002][2], "2")      # threads

    def test_roots_per_process(self):
        stacks = self.collapsed("--mode", "cpu")
        roots = {}
        for k, n in stacks.items():
            roots[k[0]] = roots.get(k[0], 0) + n
        self.assertEqual(sorted(roots), ["process 4001 (worker)",
                                         "process 4002 (worker)",
                                         "process 4003 (worker)",
                                         "process 4004 (lastworker)"])
        for pid in WORKERS:
            a = sum(n for k, n in stacks.items()
                    if k[0].startswith("process %d " % pid) and k[-1].startswith("work_a"))
            b = sum(n for k, n in stacks.items()
                    if k[0].startswith("process %d " % pid) and k[-1].startswith("work_b"))
            self.assertEqual((a, b), (300, 100))
        # with --threads the thread comes under its process
        stacks = self.collapsed("--mode", "wall", "--threads")
        self.assertIn(("process 4002 (worker)", "thread 4502 (feeder)",
                       "feed (/usr/lib/python3/multiprocessing/queues.py:230)"),
                      stacks)

    def test_merge_processes(self):
        stacks = self.collapsed("--mode", "cpu", "--merge-processes")
        self.assertFalse([k for k in stacks if k[0].startswith("process ")])
        a = sum(n for k, n in stacks.items() if k[-1].startswith("work_a"))
        b = sum(n for k, n in stacks.items() if k[-1].startswith("work_b"))
        self.assertEqual((a, b), (1200, 400))

    def test_report_pid(self):
        stacks = self.collapsed("--mode", "wall", "-p", "4003")
        self.assertEqual(set(k[0] for k in stacks), {"process 4003 (worker)"})
        self.assertEqual(sum(stacks.values()), SAMPLES + SAMPLES // 4)
        res = run_loupe("report", self.rec, "-q", "-p", "4003")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("process 4003 (worker) of parent (PID 4000)", res.stdout)
        self.assertIn("wall samples 500,", res.stdout)
        self.assertNotIn("wait_results", res.stdout)
        # the parent alone: only waiting
        stacks = self.collapsed("--mode", "wall", "-p", "4000")
        self.assertEqual([k[-1] for k in stacks], ["wait_results (/srv/pool.py:20)"])
        # a .loupe of one process reads back as that process alone
        one = self.path("one.loupe")
        res = run_loupe("report", self.rec, "-q", "-p", "4001", "-o", one)
        self.assertEqual(res.returncode, 0, res.stderr)
        res = run_loupe("report", one, "-q", "-p", "4002")
        self.assertEqual(res.returncode, 1)
        self.assertIn("its processes are 4001", res.stderr)

    def test_report_unknown_pid(self):
        res = run_loupe("report", self.rec, "-q", "-p", "4242")
        self.assertEqual(res.returncode, 1)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertIn("PID 4242 is not in", lines[0])
        self.assertIn("4000, 4001, 4002, 4003, 4004", lines[0])
        self.assertEqual(res.stdout, "")
        # and not a usage error for a bad number
        res = run_loupe("report", self.rec, "-p", "x")
        self.assertEqual(res.returncode, 2)

    def test_pstats(self):
        out = self.path("tree.prof")
        res = run_loupe("report", self.rec, "-q", "--mode", "cpu", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        code = ("import pstats, json, sys\n"
                "s = pstats.Stats(sys.argv[1])\n"
                "res = {}\n"
                "for (file, line, name), (cc, nc, tt, ct, callers) in s.stats.items():\n"
                "    res[name] = [nc, sorted(c[2] for c in callers)]\n"
                "print(json.dumps(res))\n")
        got = subprocess.run([sys.executable, "-c", code, out], capture_output=True,
                             text=True)
        self.assertEqual(got.returncode, 0, got.stderr)
        stats = json.loads(got.stdout)
        # each worker a synthetic caller of the pool's worker function
        self.assertEqual(stats["process 4002 (worker)"][0], SAMPLES)
        self.assertEqual(stats["worker"][1], ["process 4001 (worker)",
                                              "process 4002 (worker)",
                                              "process 4003 (worker)",
                                              "process 4004 (lastworker)"])

    def test_speedscope_and_chrome(self):
        out = self.path("tree.speedscope.json")
        res = run_loupe("report", self.rec, "-q", "--mode", "wall", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out) as f:
            doc = json.load(f)
        names = sorted(p["name"] for p in doc["profiles"])
        self.assertEqual(len(names), 9)     # parent + 4 x 2 threads
        self.assertIn("worker (PID 4001) / thread 4501 (feeder)", names)
        self.assertIn("parent (PID 4000) / thread 4000 (MainThread)", names)
        out = self.path("tree.trace.json")
        res = run_loupe("report", self.rec, "-q", "--mode", "wall", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out) as f:
            events = json.load(f)["traceEvents"]
        named = {e["pid"]: e["args"]["name"] for e in events
                 if e.get("name") == "process_name"}
        self.assertEqual(named, {4000: "parent", 4001: "worker", 4002: "worker",
                                 4003: "worker", 4004: "lastworker"})
        tracks = set((e["pid"], e["tid"]) for e in events if e["ph"] == "B")
        self.assertIn((4003, 4503), tracks)
        self.assertEqual(len(tracks), 9)
        # -p: one process's tracks only
        res = run_loupe("report", self.rec, "-q", "-p", "4002", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out) as f:
            events = json.load(f)["traceEvents"]
        self.assertEqual(set(e["pid"] for e in events), {4002})

    def test_pprof(self):
        out = self.path("tree.pb.gz")
        res = run_loupe("report", self.rec, "-q", "--mode", "cpu", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with gzip.open(out) as f:
            self.assertTrue(len(f.read()) > 0)
        go = shutil.which("go")
        if not go:
            self.skipTest("go not found: `go tool pprof` reads pprof files "
                          "(apt-get install golang-go)")
        env = dict(os.environ, HOME=self.tmp, GOCACHE=self.path("gocache"),
                   PPROF_TMPDIR=self.tmp)

        def pprof(*args):
            r = subprocess.run([go, "tool", "pprof"] + list(args) + [out],
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout

        # the pid label: -tags lists every process's
        tags = pprof("-tags")
        for pid in WORKERS:
            self.assertIn(str(pid), tags)
        self.assertIn("lastworker", tags)     # the "process" label
        # the process roots, and -tagfocus on one pid
        top = pprof("-top", "-cum")
        self.assertIn("process 4001 (worker)", top)
        top = pprof("-top", "-tagfocus=pid=4002")
        rows = [l.split() for l in top.splitlines() if l.strip() and l.split()[0].isdigit()]
        flat = {r[-1]: int(r[0]) for r in rows}
        self.assertEqual(flat.get("work_a"), 300, top)
        self.assertEqual(flat.get("work_b"), 100, top)


# --- top --subprocesses (tmux) ---
import re
import signal

from test_top import TopTestCase



POOL_SCRIPT = r'''
import multiprocessing, os, sys, time

def task(i):
    # light: the test needs the processes, not their CPU
    time.sleep(0.05)
    return os.getpid()

if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        pids = set(pool.map(task, range(16)))
        sys.stdout.write("ready %d\n" % len(pids))
        sys.stdout.flush()
        while True:
            pool.map(task, range(8))
'''


def children(pid):
    """The child PIDs of pid, from /proc (every thread's list)."""
    found = set()
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                found.update(int(c) for c in f.read().split())
    except (IOError, OSError):
        pass
    return found


class TopProcesses(TopTestCase):
    """top --subprocesses on a multiprocessing.Pool(4) parent: the process
    view (key p) lists the parent and its 4 workers."""

    def test_process_view_shows_the_pool(self):
        script = self.path("pool4.py")
        with open(script, "w") as f:
            f.write(POOL_SCRIPT)
        t = self.start([self.python, script])
        workers = children(t.pid)
        # the workers are killed with the parent: by PID, never by name
        self.addCleanup(lambda: [os.kill(w, signal.SIGKILL) for w in children(t.pid) | workers
                                 if os.path.exists("/proc/%d" % w)])
        self.assertGreaterEqual(len(workers), 4, workers)
        s = self.top("-p", t.pid, "--subprocesses")
        s.wait(lambda l: "processes" in "\n".join(l), "a process count in the header")
        s.keys("p")
        want = set(str(p) for p in workers | {t.pid})

        def shown(lines):
            pids = set()
            for line in lines:
                m = re.match(r"^\s*(\d+)\s+(\d+|-)\s+\S\s+\d+\s", line)
                if m:
                    pids.add(m.group(1))
            return pids

        lines = s.wait(lambda l: want <= shown(l), "the 5 pids of the pool")
        self.assertGreaterEqual(len(shown(lines)), 5)
        self.assertTrue(any("PPID" in l for l in lines))
        header = "\n".join(lines[:3])
        self.assertRegex(header, r"\b5 processes\b")
        s.keys("q")
        self.assertEqual(s.status(), 0)
        self.assert_running(t)
