"""loupe --tasks: the asyncio task graph as it is, on every interpreter.

One test per scenario of CPython's Lib/test/test_external_inspection.py
that makes a graph (gather, nested gathers, TaskGroup, a task awaited by two, staggered
race, a loop on another thread, many threads with a loop each, finished
tasks and set tombstones), run by tests/targets/tasks_graph.py on every
CPython 3.8 to 3.13 under /root/.pyenv, 3.14 and 3.15 (tools/get-python)
and Debian's static /usr/bin/python3.11 with and without uvloop; on 3.14
and 3.15, loupe's graph is held against CPython's own reader
(_remote_debugging.RemoteUnwinder.get_all_awaited_by, what `python -m
asyncio pstree` prints) on the same process.  A missing interpreter or
module is a printed skip.

Run: LOUPE=/path/to/loupe python3 tests/functional/test_tasks_graph.py -v
"""
import json
import os
import re
import shutil
import subprocess
import time
import unittest

from interpreters import ASYNC_SETUPS, opt, pyenv
from harness import LOUPE, LoupeTestCase, read_collapsed, run_loupe, thread_states

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "targets", "tasks_graph.py")
DEADLINE = 15


SETUPS = ASYNC_SETUPS


class GraphBase(LoupeTestCase):

    def start(self, finder, extra, *args):
        return self.start_script(finder, SCRIPT, *(list(args) + list(extra)))

    def tids(self, t):
        """{name: native tid} the target printed ("tid NAME TID")."""
        out = {}
        for line in t.lines:
            p = line.split()
            if len(p) >= 3 and p[0] == "tid":
                out[" ".join(p[1:-1])] = int(p[-1])
        return out

    def dump(self, t):
        res = run_loupe("dump", "-p", t.pid, "--tasks", "--format", "json")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr, "", "unexpected warning")
        self.assertIsNone(t.proc.poll(), "target died")
        stopped = {k: v for k, v in thread_states(t.pid).items()
                   if v in "tT"}
        self.assertFalse(stopped, "threads left stopped: %r" % stopped)
        return json.loads(res.stdout)

    def graph_until(self, t, check):
        """loupe's JSON dump, taken again (the target settles, a read
        races the loop) until check(doc) passes or the deadline: then
        the last failure is the test's."""
        deadline = time.time() + DEADLINE
        while True:
            doc = self.dump(t)
            try:
                check(doc)
                return doc
            except AssertionError:
                if time.time() > deadline:
                    raise
            time.sleep(0.2)


def names(doc):
    return {x["id"]: x["name"] for x in doc["tasks"]}


def awaiters(doc):
    """{task name: {names of the tasks awaiting it}}; awaited_by must be a
    list (the JSON of a graph, not of a tree)."""
    by = names(doc)
    out = {}
    for x in doc["tasks"]:
        assert isinstance(x["awaited_by"], list), (
            "awaited_by is not a list: %r" % (x["awaited_by"],))
        out[x["name"]] = {by.get(a, a) for a in x["awaited_by"]}
    return out


def chain(x):
    return [f["func"] for f in x["await_chain"]]


def by_coro(doc, func):
    """The task whose await chain holds func (unnamed tasks are "Task-N"
    whatever N happens to be)."""
    found = [x for x in doc["tasks"] if func in chain(x)]
    assert len(found) == 1, "%d tasks in %s: %s" % (
        len(found), func, json.dumps(doc["tasks"])[:2000])
    return found[0]


class GraphTest(GraphBase):
    """The checks below, once per interpreter setup (test_diamond_py38...)."""

    def check_gather(self, finder, extra, minor):
        """gather(c1(), c2()): c2's task finished and is not shown, c1's is
        awaited by main, down to deep -> sleep."""
        t = self.start(finder, extra, "gather")

        def check(doc):
            c1 = by_coro(doc, "c1")
            rel = awaiters(doc)
            self.assertEqual(rel, {"main": set(), c1["name"]: {"main"}},
                             json.dumps(doc["tasks"])[:3000])
            self.assertEqual(chain(c1), ["c1", "deep", "sleep"])
        self.graph_until(t, check)

    def check_nested(self, finder, extra, minor):
        """gather(gather(n1(), n2()), n3()): the three tasks are awaited by
        main, through the inner gather too."""
        t = self.start(finder, extra, "nested")

        def check(doc):
            rel = {by_coro(doc, f)["name"]: f for f in ("n1", "n2", "n3")}
            got = awaiters(doc)
            self.assertEqual({rel.get(k, k): v for k, v in got.items()},
                             {"main": set(), "n1": {"main"}, "n2": {"main"},
                              "n3": {"main"}},
                             json.dumps(doc["tasks"])[:3000])
        self.graph_until(t, check)

    def check_taskgroup(self, finder, extra, minor):
        """A TaskGroup's child awaited by two siblings too: c2_root is
        awaited by main (the group's owner) and by sub_main_1 and
        sub_main_2; the tree shows it under each, whole once."""
        if minor < 11:
            self.skip("asyncio.TaskGroup is 3.11+")
        t = self.start(finder, extra, "taskgroup")

        def check(doc):
            self.assertEqual(awaiters(doc), {
                "main": set(),
                "c2_root": {"main", "sub_main_1", "sub_main_2"},
                "sub_main_1": {"main"},
                "sub_main_2": {"main"},
            }, json.dumps(doc["tasks"])[:3000])
            tk = {x["name"]: x for x in doc["tasks"]}
            self.assertEqual(chain(tk["c2_root"]), ["c2_tg", "c3", "c4",
                                                    "sleep"])
            self.assertEqual(chain(tk["sub_main_1"]), ["c1_tg"])
            self.assertIn("taskgroup_main", chain(tk["main"]))
        self.graph_until(t, check)
        res = run_loupe("dump", "-p", t.pid, "--tasks")
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = [l for l in res.stdout.splitlines() if "(T) c2_root" in l]
        self.assertEqual(len(lines), 3, res.stdout)
        self.assertEqual(sum("(see above)" in l for l in lines), 2,
                         res.stdout)

    def check_diamond(self, finder, extra, minor):
        """A and B both await the task child: child has both awaiters."""
        t = self.start(finder, extra, "diamond")

        def check(doc):
            self.assertEqual(awaiters(doc), {
                "main": set(), "A": {"main"}, "B": {"main"},
                "child": {"A", "B"},
            }, json.dumps(doc["tasks"])[:3000])
            tk = {x["name"]: x for x in doc["tasks"]}
            self.assertIn(tk["child"]["parent"], tk["child"]["awaited_by"])
        self.graph_until(t, check)
        res = run_loupe("dump", "-p", t.pid, "--tasks")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout.count("(T) child"), 2, res.stdout)
        self.assertEqual(res.stdout.count("(T) child  (see above)"), 1,
                         res.stdout)

    def check_staggered(self, finder, extra, minor):
        """staggered_race([c1, c2]): the task running c1 is awaited by
        main (through asyncio.wait's done callback up to 3.13)."""
        t = self.start(finder, extra, "staggered")

        def check(doc):
            c1 = by_coro(doc, "c1")
            self.assertEqual(awaiters(doc)[c1["name"]], {"main"},
                             json.dumps(doc["tasks"])[:3000])
            self.assertEqual(chain(c1)[-3:], ["c1", "deep", "sleep"])
            tk = {x["name"]: x for x in doc["tasks"]}
            self.assertIn("staggered_race", chain(tk["main"]))
        self.graph_until(t, check)

    def check_thread(self, finder, extra, minor):
        """A loop on a thread that is not the main one: both of its
        suspended tasks are on that thread (3.13 and older: null)."""
        t = self.start(finder, extra, "thread")
        tid = self.tids(t)["async-worker"]
        self.assertNotEqual(tid, t.pid)

        def check(doc):
            self.assertEqual(awaiters(doc), {"worker_main": set(),
                                             "worker task": {"worker_main"}})
            for x in doc["tasks"]:
                self.assertEqual(x["thread"], tid, x)
        self.graph_until(t, check)

    def check_thread_running(self, finder, extra, minor):
        """The same with the worker task running (blocked in time.sleep):
        it is the running task of that thread."""
        t = self.start(finder, extra, "thread", "running")
        tid = self.tids(t)["async-worker"]

        def check(doc):
            tk = {x["name"]: x for x in doc["tasks"]}
            self.assertTrue(tk["worker task"]["running"], tk)
            self.assertEqual(tk["worker task"]["thread"], tid)
            self.assertEqual(tk["worker_main"]["thread"], tid)
            th = {x["tid"]: x for x in doc["threads"]}
            self.assertEqual(th[tid]["running_task"], tk["worker task"]["id"])
            self.assertIsNone(th[t.pid]["running_task"])
        self.graph_until(t, check)

    def check_threads(self, finder, extra, minor):
        """Four threads, a loop each, each running the same coroutine:
        every task is on its own loop's thread, every thread's running
        task is its own."""
        n = 4
        t = self.start(finder, extra, "threads", str(n))
        tids = self.tids(t)
        self.assertEqual(len(tids), n, t.lines)

        def check(doc):
            tk = {x["name"]: x for x in doc["tasks"]}
            th = {x["tid"]: x for x in doc["threads"]}
            for i in range(n):
                tid = tids["main-%d" % i]
                m, s = tk["main-%d" % i], tk["sleeper-%d" % i]
                self.assertTrue(m["running"], m)
                self.assertFalse(s["running"], s)
                self.assertEqual((m["thread"], s["thread"]), (tid, tid),
                                 "loop %d of %s" % (i, tids))
                self.assertEqual(th[tid]["running_task"], m["id"])
            self.assertEqual(len(doc["tasks"]), 2 * n)
        self.graph_until(t, check)

    def check_crowd(self, finder, extra, minor):
        """A task awaited by 100: MAX_TASK_AWAITERS (64) of them are
        listed, the other 36 counted as left out, said in the text."""
        t = self.start(finder, extra, "crowd", "100")

        def check(doc):
            tk = {x["name"]: x for x in doc["tasks"]}
            self.assertEqual(len(tk), 102)
            child = tk["child"]
            self.assertEqual(len(child["awaited_by"]), 64)
            self.assertEqual(len(set(child["awaited_by"])), 64)
            self.assertTrue(all(names(doc)[a].startswith("w-")
                                for a in child["awaited_by"]))
            self.assertEqual(doc["awaiters_dropped"], 36)
        self.graph_until(t, check)
        res = run_loupe("dump", "-p", t.pid, "--tasks")
        self.assertIn("(36 awaiters left out: at most 64 per task)",
                      res.stdout)

    def check_tombstones(self, finder, extra, minor):
        """Finished and cancelled tasks (still referenced) are not shown
        nor counted as awaiters; 3.14+: a task taken out of an awaited_by
        set (its slot left holding the set's dummy) is not an awaiter."""
        t = self.start(finder, extra, "tombstones")
        want = {"main": set(), "survivor": {"main"}}
        if minor >= 14:
            want.update({"victim": {"remaining"}, "removed": set(),
                         "remaining": set()})

        def check(doc):
            self.assertEqual(awaiters(doc), want,
                             json.dumps(doc["tasks"])[:3000])
        self.graph_until(t, check)


def per_setup(cls):
    for name in [n for n in dir(cls) if n.startswith("check_")]:
        for suffix, finder, extra, minor in SETUPS:
            def test(self, name=name, finder=finder, extra=extra,
                     minor=minor):
                getattr(self, name)(finder, extra, minor)
            setattr(cls, "test_%s_%s" % (name[6:], suffix), test)
    return cls


per_setup(GraphTest)


# CPython's own reader, run in a second interpreter of the target's
# version: every task with its name, the names of its coroutines
# (outermost first) and the ids of the tasks awaiting it.
REMOTE = r"""
import _remote_debugging, json, sys, time
pid = int(sys.argv[1])
for attempt in range(50):
    try:
        infos = _remote_debugging.RemoteUnwinder(pid).get_all_awaited_by()
        break
    except RuntimeError:
        time.sleep(0.1)
else:
    raise SystemExit("get_all_awaited_by kept failing")
out = {}
for info in infos:
    for t in info.awaited_by:
        out["0x%x" % t.task_id] = {
            "name": t.task_name,
            "coros": [[f.funcname for f in reversed(c.call_stack)]
                      for c in t.coroutine_stack],
            "awaited_by": sorted("0x%x" % c.task_name for c in t.awaited_by),
        }
print(json.dumps(out))
"""


class CPythonReaderTest(GraphBase):
    """On 3.14 and 3.15, loupe's graph is CPython's: the same tasks, the
    same awaiters, the same coroutine names."""

    def check_same(self, finder):
        t = self.start(finder, [], "all")
        last = [None, None]

        def check(doc):
            res = subprocess.run([self.exe, "-c", REMOTE, str(t.pid)],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(res.returncode, 0, res.stderr)
            theirs = json.loads(res.stdout)
            ours = {x["id"]: {"name": x["name"], "coros": [chain(x)],
                              "awaited_by": sorted(x["awaited_by"])}
                    for x in doc["tasks"]}
            last[:] = [ours, theirs]
            self.assertEqual(ours, theirs)
            # gather, diamond, taskgroup: the graph is not a tree
            self.assertTrue(any(len(x["awaited_by"]) > 1
                                for x in ours.values()))
        self.graph_until(t, check)

    def test_same_as_cpython_py314(self):
        self.check_same(opt(14))

    def test_same_as_cpython_py315(self):
        self.check_same(opt(15))


class ChargeOnceTest(GraphBase):
    """record --tasks: a task awaited by two is charged once per tick,
    as much as each of its awaiters, never once per awaiter."""

    def check_record(self, finder):
        t = self.start(finder, [], "diamond")
        out = os.path.join(self.tmp, "diamond.txt")
        res = run_loupe("record", "-p", t.pid, "-o", out, "-d", 1,
                        "--tasks", "--per-task")
        self.assertEqual(res.returncode, 0, res.stderr)
        roots = {}
        for s, c in read_collapsed(out).items():
            roots[s[0]] = roots.get(s[0], 0) + c
        self.assertGreater(roots.get("task child", 0), 20, roots)
        for name in ("A", "B", "main"):
            self.assertEqual(roots["task child"], roots["task " + name],
                             roots)

    def test_top_charges_once(self):
        """top --tasks, key a: child_work (one task, awaited by two) has
        the wall time of one task: as much as diamond_main, half of
        awaiter (two tasks)."""
        from test_top import Screen, samples_taken
        if shutil.which("tmux") is None:
            self.skip("tmux not installed (apt-get install tmux)")
        t = self.start(lambda: pyenv("3.12"), [], "diamond")
        s = Screen(self.tmp, [LOUPE, "top", "-p", str(t.pid), "--tasks",
                              "--no-lines"], 110, 30)
        row = re.compile(r"\s+([\d.]+)%\s+([\d.]+)%.*\[(\d+)\] (\S+) \(")

        def rows(lines):
            out = {}
            for line in lines:
                m = row.match(line)
                if m:
                    out[m.group(4)] = (float(m.group(2)), int(m.group(3)))
            return out
        try:
            s.wait(lambda l: (samples_taken(l) or 0) >= 50, "50 samples")
            s.keys("a")
            lines = s.wait(lambda l: {"child_work", "awaiter",
                                      "diamond_main"} <= set(rows(l)),
                           "the task view")
            r = rows(lines)
            self.assertEqual(r["child_work"][1], 1, lines)
            self.assertEqual(r["awaiter"][1], 2, lines)
            self.assertAlmostEqual(r["child_work"][0], r["diamond_main"][0],
                                   delta=0.2, msg="\n".join(lines))
            self.assertAlmostEqual(2 * r["child_work"][0], r["awaiter"][0],
                                   delta=0.4, msg="\n".join(lines))
            s.keys("q")
            self.assertEqual(s.status(), 0)
        finally:
            s.kill()

    def test_record_charges_once_py312(self):
        self.check_record(lambda: pyenv("3.12"))

    def test_record_charges_once_py314(self):
        self.check_record(opt(14))


if __name__ == "__main__":
    unittest.main()
