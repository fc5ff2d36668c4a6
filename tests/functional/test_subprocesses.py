"""--subprocesses: one loupe follows a process and every process it forks.

The target is tests/targets/pool.py, a multiprocessing pool whose workers
split their CPU 3:1 between hot_three and hot_one while the parent waits.
The split check runs on every interpreter (skips printed); the other
scenarios on one.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_subprocesses.py -v
"""
import os
import re
import signal
import subprocess
import time
import unittest

from harness import (LOUPE, Target, has_func, read_collapsed,
                     split_share, split_times,
                     run_loupe, target_path, thread_states, weight_where)
from test_python import TARGETS, PythonTestCase, _pyenv

ROOT_RE = re.compile(r"^process (\d+) \((.*)\)$")


def by_process(stacks):
    """{pid: {stack without its process root: count}}"""
    out = {}
    for stack, count in stacks.items():
        m = ROOT_RE.match(stack[0]) if stack else None
        if not m:
            raise AssertionError("stack without a process root: %r" % (stack,))
        rest = stack[1:]
        d = out.setdefault(int(m.group(1)), {})
        d[rest] = d.get(rest, 0) + count
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return ""


def descendants(pid):
    """Every live descendant of pid (from /proc's ppids)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (IOError, OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


PY_DEFAULT = _pyenv("3.12")


class Subprocesses(PythonTestCase):

    def start_pool(self, finder, *args):
        script = os.path.join(TARGETS, "pool.py")
        self.split_log = self.path("split.log")
        t = Target([self.python(finder), script] + [str(a) for a in args],
                   self.path("pool.stderr"),
                   ready="waiting" if "--delay" in args else "ready",
                   env=dict(os.environ, LOUPE_SPLIT_LOG=self.split_log))
        self.targets.append(t)
        return t

    def tearDown(self):
        # The workers die with their parent (PR_SET_PDEATHSIG); kill them
        # first all the same, so that nothing outlives a failed test.
        for t in self.targets:
            for pid in descendants(t.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        super().tearDown()

    def workers(self, t):
        for line in t.lines:
            if line.startswith("workers "):
                return [int(p) for p in line.split()[1:]]
        self.fail("no workers line: %r" % t.lines)

    def assert_tree_running(self, t):
        self.assert_running(t)
        for pid in descendants(t.pid):
            stopped = [s for s in thread_states(pid).values() if s in "tT"]
            self.assertFalse(stopped, "PID %d left stopped" % pid)

    def record_tree(self, t, out, *args, **kw):
        res = run_loupe("record", "-p", t.pid, "--subprocesses", "-o", out,
                        "-d", kw.get("duration", 3), *args)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_tree_running(t)
        return res

    def split_logs(self, workers):
        return dict((pid, split_times("%s.%d" % (self.split_log, pid)))
                    for pid in workers)

    def recorded_split(self, workers, out, record):
        """Runs record(out) (a wall-mode recording of the pool) and checks
        hot_three's share of the workers' samples against the share of
        wall time they really spent in it over the recording.  Four
        workers share two CPUs: a worker kept waiting for one sits still
        for a whole time slice, so its samples come in runs and vary more
        from one recording to the next than their number says; a share
        off by more than the tolerance is recorded again (twice at most),
        and a sampler that is really off fails every time."""
        for attempt in range(3):
            before = self.split_logs(workers)
            record(out)
            after = self.split_logs(workers)
            procs = by_process(read_collapsed(out))
            try:
                self.assert_split(procs, workers, None, (before, after))
                return procs
            except AssertionError:
                if attempt == 2:
                    raise

    def assert_split(self, procs, workers, parent, window):
        three = one = 0
        for pid in workers:
            self.assertIn(pid, procs, "worker %d not sampled: %r"
                          % (pid, sorted(procs)))
            stacks = procs[pid]
            three += weight_where(stacks, lambda s: has_func(s, "hot_three"))
            one += weight_where(stacks, lambda s: has_func(s, "hot_one"))
            self.assertGreater(weight_where(stacks, lambda s: has_func(s, "spin")),
                               0, stacks)
        self.assertGreater(three + one, 100 * len(workers), (three, one))
        share = three / float(three + one)
        # what the workers really ran in the recording's window (3:1 by
        # construction, less on Debian's python3.11: see split.py); wall
        # time in each function (a wall profile), which split.py logs
        # after its CPU times
        real = [0, 0, 0, 0]
        for pid in workers:
            b, a = window[0][pid], window[1][pid]
            times = [y - x for x, y in zip(b, a)]
            for k, v in enumerate(times):
                real[k] += v
        truth = split_share((0, 0), real[2:] if real[2] + real[3] else real)
        # Up to 3.7, hot_three's share comes out over the truth by
        # 0.07-0.11 (2.7, by hand; 0.106 once in the CI), paused or not,
        # in cpu mode as in wall mode.  It needs the idle thread that the
        # Queue init() puts its PID on leaves in every worker: the same
        # pool without that Queue is within 0.02 (fifteenth session's
        # note).  Not found yet; the bound keeps it from growing unseen.
        old = any(re.search(r"python(2\.7|3\.[67])$", exe_of(pid))
                  for pid in workers)
        self.assertAlmostEqual(share, truth, delta=0.12 if old else 0.05,
                               msg="hot_three %d, hot_one %d, really %.3f"
                               % (three, one, truth))
        if parent is not None:
            self.assert_parent_waits(procs, parent)

    def assert_parent_waits(self, procs, parent):
        # The parent only waits: sampled, and never in the workers' code.
        self.assertIn(parent, procs, sorted(procs))
        self.assertGreater(sum(procs[parent].values()), 0)
        hot = weight_where(procs[parent], lambda s: has_func(s, "hot_three") or
                           has_func(s, "hot_one") or has_func(s, "spin"))
        self.assertEqual(hot, 0, procs[parent])

    def check_pool_split(self, finder):
        # wall mode: the parent's waiting threads are sampled too
        t = self.start_pool(finder)
        workers = self.workers(t)
        self.assertEqual(len(workers), 4)
        out = self.path("pool.txt")
        res = []
        procs = self.recorded_split(workers, out, lambda o: res.append(
            self.record_tree(t, o, "--mode", "wall")))
        self.assertRegex(res[-1].stderr, r"and \d+ subprocesses found by "
                         r"(netlink process events|/proc scan)")
        self.assert_parent_waits(procs, t.pid)


def _per_interpreter(cls):
    from test_python import INTERPRETERS
    for tag, finder in INTERPRETERS:
        def test(self, _finder=finder):
            self.check_pool_split(_finder)
        test.__name__ = "test_pool_split_%s" % tag
        setattr(cls, test.__name__, test)
    return cls


@_per_interpreter
class PoolEveryInterpreter(Subprocesses):
    pass


class SubprocessScenarios(Subprocesses):

    def test_workers_started_after_attach(self):
        # the pool starts 2 s after loupe attached; its workers are found
        t = self.start_pool(PY_DEFAULT, "--delay", 2)
        out = self.path("late.txt")
        proc = subprocess.Popen([LOUPE, "record", "-p", str(t.pid),
                                 "--subprocesses", "-d", "5", "-o", out],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        t._wait_ready("ready")
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        procs = by_process(read_collapsed(out))
        workers = self.workers(t)
        for pid in workers:
            self.assertIn(pid, procs, sorted(procs))
            self.assertGreater(weight_where(procs[pid],
                                            lambda s: has_func(s, "hot_three")), 0)

    def check_start_method(self, method):
        t = self.start_pool(PY_DEFAULT, "--start", method)
        workers = self.workers(t)
        out = self.path("%s.txt" % method)
        procs = self.recorded_split(workers, out, lambda o: self.record_tree(
            t, o, "--mode", "wall"))
        self.assert_parent_waits(procs, t.pid)

    def test_spawn(self):
        self.check_start_method("spawn")

    def test_forkserver(self):
        self.check_start_method("forkserver")

    def test_proc_scan_fallback(self):
        # without the netlink connector, the /proc scan finds them
        t = self.start_pool(PY_DEFAULT)
        out = self.path("scan.txt")
        env = dict(os.environ, LOUPE_NO_NETLINK="1")

        def record(o):
            res = run_loupe("record", "-p", t.pid, "--subprocesses", "-o", o,
                            "-d", 3, "--mode", "wall", env=env)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("found by /proc scan", res.stderr)
        procs = self.recorded_split(self.workers(t), out, record)
        self.assert_parent_waits(procs, t.pid)

    def test_child_execs_native_program(self):
        # a forked child that execs a C program is profiled natively
        prog = target_path("split_nofp")
        if not os.access(prog, os.X_OK):
            self.skip("%s not built" % prog)
        t = self.start_pool(PY_DEFAULT, "--workers", 1, "--exec", prog)
        child = self.workers(t)[-1]
        out = self.path("exec.txt")
        self.record_tree(t, out, "--mode", "wall")
        procs = by_process(read_collapsed(out))
        self.assertIn(child, procs, sorted(procs))
        stacks = procs[child]
        native = weight_where(stacks, lambda s: has_func(s, "hot_three") and
                              has_func(s, "main"))
        self.assertGreater(native, 0.5 * sum(stacks.values()), stacks)
        self.assertFalse([s for s in stacks if any(".py:" in f for f in s)],
                         "Python frames in the exec'd child")

    def test_killed_worker_loses_nothing_else(self):
        t = self.start_pool(PY_DEFAULT)
        workers = self.workers(t)
        out = self.path("killed.loupe")
        proc = subprocess.Popen([LOUPE, "record", "-p", str(t.pid),
                                 "--subprocesses", "-d", "4", "--mode", "wall",
                                 "-o", out],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        time.sleep(1.5)
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assert_tree_running(t)
        txt = self.path("killed.txt")
        res = run_loupe("report", out, "-o", txt)
        self.assertEqual(res.returncode, 0, res.stderr)
        procs = by_process(read_collapsed(txt))
        # the killed one has what it did before; the others all of it; the
        # pool's replacement worker (idle: the killed one's task is lost
        # with it) is found too
        for pid in workers:
            self.assertIn(pid, procs)
        full = [sum(procs[p].values()) for p in workers[1:]]
        self.assertLess(sum(procs[workers[0]].values()), 0.7 * min(full))
        new = set(procs) - set(workers) - {t.pid}
        self.assertTrue(any(sum(procs[p].values()) > 0 for p in new),
                        sorted(procs))

    def test_dump_lists_every_process(self):
        t = self.start_pool(PY_DEFAULT)
        workers = self.workers(t)
        res = run_loupe("dump", "-p", t.pid, "--subprocesses")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_tree_running(t)
        shown = set(int(p) for p in re.findall(r"^Process (\d+)", res.stdout, re.M))
        self.assertTrue({t.pid} | set(workers) <= shown, res.stdout)
        # each worker's stack is its loop
        for pid in workers:
            part = res.stdout.split("Process %d:" % pid, 1)[1].split("\nProcess ", 1)[0]
            self.assertIn("spin", part)

    def test_merge_processes(self):
        # without the roots, the workers add up into one tree
        t = self.start_pool(PY_DEFAULT, "--workers", 2)
        out = self.path("merged.txt")
        self.record_tree(t, out, "--merge-processes", duration=2)
        stacks = read_collapsed(out)
        self.assertFalse([s for s in stacks if ROOT_RE.match(s[0])], stacks)
        self.assertGreater(weight_where(stacks, lambda s: has_func(s, "hot_three")), 0)

    def test_without_subprocesses_only_the_parent(self):
        t = self.start_pool(PY_DEFAULT, "--workers", 2)
        out = self.path("parent.txt")
        res = run_loupe("record", "-p", t.pid, "-o", out, "-d", 1,
                        "--mode", "wall")
        self.assertEqual(res.returncode, 0, res.stderr)
        stacks = read_collapsed(out)
        self.assertFalse([s for s in stacks if ROOT_RE.match(s[0])], stacks)
        self.assertEqual(weight_where(stacks, lambda s: has_func(s, "hot_three")), 0)


if __name__ == "__main__":
    unittest.main()
