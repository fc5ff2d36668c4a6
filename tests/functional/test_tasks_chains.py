"""loupe dump --tasks: whole await chains and what each task waits for.

Targets are tests/targets/chains.py in its modes, on every CPython 3.8+
under /root/.pyenv, 3.14 and 3.15 (/opt/loupe-py31x, tools/get-python),
Debian's static /usr/bin/python3.11 with the default loop and with uvloop
(python3-uvloop); a missing interpreter or module is a printed skip.

- Async generators: a task in `async for` over a generator whose body
  awaits, suspended and running, `async with` over an
  asynccontextmanager, `aclose()` of a generator awaiting in its finally:
  the chain goes through the generator's frame (main stops at the
  outermost coroutine, on every version).
- A running task's chain is whole: recursive coroutines at several levels
  and gather's running child (main: one level up to 3.11; from 3.12 main
  stops short of the frame running now).  Past MAX_AWAIT_DEPTH frames the
  chain is cut and marked truncated.
- What a task waits for ("waits_for" in JSON, the chain's last line in
  text): asyncio.Queue get/put with the queue's address and items, Event,
  Lock, Semaphore, Condition with the primitive's address, asyncio.sleep
  with its time left, socket reads with their fd, wait_for's task (main
  has none of it).

Run: LOUPE=/path/to/loupe python3 tests/functional/test_tasks_chains.py -v
"""
import json
import os
import re
import time
import unittest

from interpreters import ASYNC_SETUPS
from harness import LoupeTestCase, expected_lines, run_loupe

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "targets", "chains.py")
# profiler/bounds.h
MAX_AWAIT_DEPTH = 64


SETUPS = ASYNC_SETUPS

MARKS = expected_lines(SCRIPT)


def funcs(task):
    """The chain's function names, without 3.11+'s class qualifier."""
    return [f["func"].rsplit(".", 1)[-1] for f in task["await_chain"]]


def spinning(task):
    """Whether task runs spin() (which prints the ready line first: a dump
    may find it still in print)."""
    return bool(task and task["running"] and
                (funcs(task)[-1:] == ["spin"] or
                 len(task["await_chain"]) >= MAX_AWAIT_DEPTH))


class ChainsTestCase(LoupeTestCase):
    """The checks below, once per interpreter setup (test_agen_py38...)."""

    def start(self, finder, *args):
        return self.start_script(finder, SCRIPT, *args)

    def said(self, t, word):
        """{name: [values...]} of the target's "WORD NAME VALUE..." lines."""
        return {p[1]: p[2:] for p in (l.split() for l in t.lines)
                if p and p[0] == word}

    def dump(self, t, want):
        """dump --tasks --format json until want(tasks by name) holds
        (tasks are created by the loop as it runs), within a deadline; a
        failure past it."""
        deadline = time.time() + 10
        while True:
            res = run_loupe("dump", "-p", t.pid, "--tasks", "--format",
                            "json")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertEqual(res.stderr, "", "unexpected warning")
            self.assert_running(t)
            doc = json.loads(res.stdout)
            tasks = {}
            for x in doc["tasks"]:
                tasks.setdefault(x["name"], x)
            if want(tasks):
                return tasks, doc
            if time.time() > deadline:
                self.fail("the tasks awaited did not show within 10 s: %s"
                          % json.dumps(doc.get("tasks"), indent=1)[:4000])
            time.sleep(0.2)

    def text(self, t):
        res = run_loupe("dump", "-p", t.pid, "--tasks")
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def by_root(self, tasks, root):
        """The task whose chain starts in coroutine root."""
        found = [x for x in tasks.values() if funcs(x)[:1] == [root]]
        self.assertEqual(len(found), 1, json.dumps(tasks, indent=1)[:3000])
        return found[0]

    # -- async generators ------------------------------------------------

    def check_agen(self, finder, extra, minor):
        t = self.start(finder, "agen", *extra)
        names = ("consume", "ctx", "closer")
        tasks, _ = self.dump(t, lambda ts: all(n in ts for n in names))
        dump = json.dumps(tasks, indent=1)[:4000]
        c = tasks["consume"]
        # main: ['consume_gen'] and nothing below
        self.assertEqual(funcs(c), ["consume_gen", "gen", "gen_nested_call",
                                    "sleep"], dump)
        self.assertEqual([f["line"] for f in c["await_chain"][:3]],
                         [MARKS["consume"], MARKS["gen"], MARKS["nested"]])
        self.assertFalse(c["truncated"])
        self.assertEqual(c["waits_for"]["kind"], "sleep", dump)
        # async with over an asynccontextmanager: __aenter__ -> anext of
        # its generator (main: in_cm, __aenter__)
        x = tasks["ctx"]
        self.assertEqual(funcs(x), ["in_cm", "__aenter__", "cm_body",
                                    "sleep"], dump)
        self.assertEqual(x["await_chain"][2]["line"], MARKS["cm"])
        # aclose(): its athrow awaitable -> the generator's finally
        # (main: closer)
        x = tasks["closer"]
        self.assertEqual(funcs(x), ["closer", "fin_gen", "sleep"], dump)
        self.assertEqual([f["line"] for f in x["await_chain"][:2]],
                         [MARKS["closer"], MARKS["fin"]])

    def check_agen_running(self, finder, extra, minor):
        """The generator's body is running: the chain is the thread's
        frames from consume_gen up (main: consume_gen alone)."""
        t = self.start(finder, "agen_run", *extra)
        tasks, _ = self.dump(t, lambda ts: spinning(ts.get("consume")))
        c = tasks["consume"]
        self.assertTrue(c["running"], c)
        self.assertEqual(funcs(c), ["consume_gen", "gen", "gen_nested_call",
                                    "spin"], json.dumps(c, indent=1))
        self.assertIsNone(c["waits_for"])

    # -- whole chains ----------------------------------------------------

    def check_recursive(self, finder, extra, minor):
        """rec(5) .. rec(0) -> sleep, suspended (main right too: the
        regression guard) and running (main: [rec] up to 3.11; no spin
        from 3.12)."""
        t = self.start(finder, "rec", *extra)
        tasks, _ = self.dump(t, lambda ts: "rec" in ts)
        r = tasks["rec"]
        self.assertEqual(funcs(r), ["rec"] * 6 + ["sleep"], r)
        self.assertEqual([f["line"] for f in r["await_chain"][:6]],
                         [MARKS["rec"]] * 5 + [MARKS["rec0"]])
        t = self.start(finder, "rec_run", *extra)
        tasks, _ = self.dump(t, lambda ts: spinning(ts.get("rec")))
        r = tasks["rec"]
        self.assertTrue(r["running"], r)
        self.assertEqual(funcs(r), ["rec"] * 6 + ["spin"], r)
        self.assertEqual([f["line"] for f in r["await_chain"][:5]],
                         [MARKS["rec"]] * 5)
        self.assertFalse(r["truncated"])
        text = self.text(t)
        self.assertEqual(len(re.findall(r"→ rec \(", text)), 5, text)

    def check_deep_truncated(self, finder, extra, minor):
        """100 levels, running: cut at MAX_AWAIT_DEPTH and marked (main:
        one level, not marked, up to 3.11)."""
        t = self.start(finder, "rec_run", "100", *extra)
        tasks, _ = self.dump(t, lambda ts: spinning(ts.get("rec")))
        r = tasks["rec"]
        self.assertEqual(len(r["await_chain"]), MAX_AWAIT_DEPTH)
        self.assertEqual(set(funcs(r)), {"rec"})
        self.assertTrue(r["truncated"])
        self.assertRegex(self.text(t), r"\(T\) rec  \[running on thread "
                         r"\d+\]  \[truncated\]\n")

    def check_gather_running(self, finder, extra, minor):
        """gather(c1(), c2()): c1's task runs deep() -> spin() (main: c1
        alone up to 3.11, no spin from 3.12)."""
        t = self.start(finder, "gather", *extra)
        tasks, _ = self.dump(t, lambda ts: any(
            spinning(x) for x in ts.values()))
        c1 = self.by_root(tasks, "c1")
        self.assertTrue(c1["running"], c1)
        self.assertEqual(funcs(c1), ["c1", "deep", "spin"], c1)
        self.assertEqual([f["line"] for f in c1["await_chain"][:2]],
                         [MARKS["c1"], MARKS["deep"]])
        c2 = self.by_root(tasks, "c2")
        self.assertEqual(funcs(c2), ["c2", "sleep"])
        self.assertEqual(c2["waits_for"]["kind"], "sleep")

    # -- what a task waits for -------------------------------------------

    def check_queue(self, finder, extra, minor):
        """Producers blocked on the full "jobs" queue, consumers on the
        empty "results": which queue and how many items (main: no
        waits_for)."""
        t = self.start(finder, "queue", *extra)
        q = self.said(t, "queue")
        jobs, results = int(q["jobs"][0], 16), int(q["results"][0], 16)
        names = ("prod-1", "prod-2", "cons-1", "cons-2")
        tasks, _ = self.dump(t, lambda ts: all(n in ts for n in names))
        dump = json.dumps(tasks, indent=1)[:4000]
        for n in ("prod-1", "prod-2"):
            w = tasks[n]["waits_for"]
            self.assertIsNotNone(w, dump)
            self.assertEqual(w["kind"], "queue_put", dump)
            self.assertEqual(int(w["object"], 16), jobs)
            self.assertEqual(w["type"], "Queue")
            self.assertEqual((w["items"], w["maxsize"]), (2, 2), w)
        for n in ("cons-1", "cons-2"):
            w = tasks[n]["waits_for"]
            self.assertIsNotNone(w, dump)
            self.assertEqual(w["kind"], "queue_get", dump)
            self.assertEqual(int(w["object"], 16), results)
            self.assertEqual((w["items"], w["maxsize"]), (0, 0), w)
        text = self.text(t)
        self.assertIn("→ waiting: put into Queue at 0x%x (2 items, maxsize "
                      "2)\n" % jobs, text)
        self.assertIn("→ waiting: get from Queue at 0x%x (0 items)\n"
                      % results, text)

    def check_sync(self, finder, extra, minor):
        """Event.wait, Lock.acquire, Semaphore.acquire, Condition.wait:
        which primitive; a future no task owns (main: no waits_for)."""
        t = self.start(finder, "sync", *extra)
        prim = {k: int(v[0], 16) for k, v in self.said(t, "prim").items()}
        want = {"ev": ("event", "Event"), "lock": ("lock", "Lock"),
                "sem": ("semaphore", "Semaphore"),
                "cond": ("condition", "Condition"),
                "orphan": ("future", "_asyncio.Future")}
        tasks, _ = self.dump(t, lambda ts: all(n in ts for n in want))
        dump = json.dumps(tasks, indent=1)[:4000]
        for n, (kind, typ) in want.items():
            w = tasks[n]["waits_for"]
            self.assertIsNotNone(w, dump)
            self.assertEqual((w["kind"], w["type"]), (kind, typ), dump)
            self.assertEqual(int(w["object"], 16), prim[n], n)
        self.assertEqual(tasks["sem"]["waits_for"]["value"], 0)
        text = self.text(t)
        self.assertIn("→ waiting: Event at 0x%x\n" % prim["ev"], text)
        self.assertIn("→ waiting: Semaphore at 0x%x (value 0)\n"
                      % prim["sem"], text)
        self.assertIn("→ waiting: _asyncio.Future at 0x%x (no task owns "
                      "it)\n" % prim["orphan"], text)

    def check_sleep(self, finder, extra, minor):
        """asyncio.sleep(100): its time left, against the clock the
        target printed when it began (main: no waits_for)."""
        t = self.start(finder, "sleep", "100", *extra)
        at = float([l.split()[1] for l in t.lines
                    if l.startswith("slept_at ")][0])
        tasks, _ = self.dump(t, lambda ts: "sleeper" in ts)
        after = time.monotonic()
        w = tasks["sleeper"]["waits_for"]
        self.assertIsNotNone(w, tasks["sleeper"])
        self.assertEqual(w["kind"], "sleep")
        self.assertEqual(w["delay"], 100.0)
        # between what is left now and what was left when dump began;
        # uvloop's clock is the loop's cached millisecond time
        self.assertGreaterEqual(w["seconds_left"], 100 - (after - at) - 0.05)
        self.assertLessEqual(w["seconds_left"], 100.0 + 0.002)
        m = re.search(r"(?m)^ +→ sleep (\d+\.\d\d)s left$", self.text(t))
        self.assertIsNotNone(m)
        self.assertLess(float(m.group(1)), 100.0)

    def check_socket(self, finder, extra, minor):
        """loop.sock_recv and StreamReader.read: the fd read (uvloop's
        own sockets and transports are C: not told)."""
        if extra:
            self.skip("uvloop's sock_recv and transports keep the fd in C")
        t = self.start(finder, "sock", *extra)
        fds = {k: int(v[0]) for k, v in self.said(t, "fd").items()}
        tasks, _ = self.dump(t, lambda ts: "reader" in ts and "stream" in ts)
        dump = json.dumps(tasks, indent=1)[:3000]
        for n in ("reader", "stream"):
            w = tasks[n]["waits_for"]
            self.assertIsNotNone(w, dump)
            self.assertEqual((w["kind"], w["fd"]), ("socket", fds[n]), dump)
        self.assertIn("→ waiting: sock_recv on fd %d\n" % fds["reader"],
                      self.text(t))

    def check_wait_for(self, finder, extra, minor):
        """wait_for(ev.wait()): up to 3.11 the task it made (its name);
        from 3.12 the coroutine is awaited inside asyncio.timeout, so
        the chain goes on to Event.wait (main: no waits_for)."""
        t = self.start(finder, "timeout", *extra)
        tasks, _ = self.dump(t, lambda ts: "wf" in ts)
        dump = json.dumps(tasks, indent=1)[:3000]
        wf = tasks["wf"]
        w = wf["waits_for"]
        self.assertIsNotNone(w, dump)
        if minor <= 11:
            self.assertEqual(funcs(wf), ["in_wait_for", "wait_for"])
            self.assertEqual(w["kind"], "task", dump)
            inner = tasks.get(w.get("task"))
            self.assertIsNotNone(inner, dump)
            self.assertEqual(funcs(inner), ["wait"])
            self.assertEqual(inner["waits_for"]["kind"], "event")
        else:
            self.assertEqual(funcs(wf), ["in_wait_for", "wait_for", "wait"])
            self.assertEqual(w["kind"], "event", dump)
        if minor >= 11:
            self.assertEqual(funcs(tasks["to"]), ["in_timeout", "wait"])
            self.assertEqual(tasks["to"]["waits_for"]["kind"], "event")


def per_setup(cls):
    for name in [n for n in dir(cls) if n.startswith("check_")]:
        for suffix, finder, extra, minor in SETUPS:
            def test(self, name=name, finder=finder, extra=extra,
                     minor=minor):
                getattr(self, name)(finder, extra, minor)
            setattr(cls, "test_%s_%s" % (name[6:], suffix), test)
    return cls


per_setup(ChainsTestCase)


if __name__ == "__main__":
    unittest.main()
