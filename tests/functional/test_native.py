"""loupe on native C targets, with and without frame pointers."""
import os
import signal
import subprocess
import time

from harness import (LoupeTestCase, has_func, read_collapsed, run_loupe,
                     target_path, weight_where)


class NativeSplit(LoupeTestCase):
    """split.c: hot_three() burns 3x what hot_one() burns."""

    def check_split(self, binary):
        t = self.start([target_path(binary)])
        out = self.path("split.txt")
        # ~1500 samples: the share's standard error is about 0.011.  A
        # run the busy box skewed past the tolerance (0.694 once in the
        # CI, with the side lane running) gets a second one.
        for attempt in range(2):
            self.record(t, out, "--mode", "cpu", "-r", "500", duration=3)
            stacks = read_collapsed(out)
            three = weight_where(stacks, lambda s: has_func(s, "hot_three"))
            one = weight_where(stacks, lambda s: has_func(s, "hot_one"))
            self.assertGreater(three + one, 100, stacks)
            share = three / float(three + one)
            if abs(share - 0.75) <= 0.05:
                break
        self.assertAlmostEqual(share, 0.75, delta=0.05,
                               msg="hot_three share %.3f" % share)
        total = sum(stacks.values())
        through_main = weight_where(stacks, lambda s: has_func(s, "main"))
        self.assertGreaterEqual(through_main / float(total), 0.95,
                                "only %d of %d samples unwind through main"
                                % (through_main, total))
        # Callers in order, root first.
        some = max((s for s in stacks if has_func(s, "hot_three")),
                   key=lambda s: stacks[s])
        names = [f.split(" (")[0] for f in some]
        order = [names.index(n) for n in ("main", "level1", "level2", "level3", "hot_three")]
        self.assertEqual(order, sorted(order), names)

    def test_split_frame_pointers(self):
        self.check_split("split_fp")

    def test_split_no_frame_pointers(self):
        self.check_split("split_nofp")


class NativeThreads(LoupeTestCase):

    def test_dump_shows_every_thread(self):
        t = self.start([target_path("split_nofp"), "1", "2"])
        res = run_loupe("dump", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        for tid in t.tids():
            self.assertIn("Thread %d " % tid, res.stdout)
        self.assertIn("sleep-1", res.stdout)
        self.assertIn("busy-1", res.stdout)
        self.assertIn("hot_", res.stdout)

    def test_cpu_mode_only_busy_threads(self):
        # main + busy-1 spin, sleep-1 and sleep-2 sleep.
        t = self.start([target_path("split_nofp"), "1", "2"])
        out = self.path("threads.txt")
        self.record(t, out, "--mode", "cpu", "--threads", duration=2)
        stacks = read_collapsed(out)
        roots = {}
        for s, c in stacks.items():
            roots[s[0]] = roots.get(s[0], 0) + c
        busy = [r for r in roots if "busy-1" in r or "(split_nofp)" in r]
        self.assertEqual(len(busy), 2, roots)
        # A sleeper wakes once a second and may be caught runnable, rarely
        # (longer on a loaded machine, where it waits for a CPU).
        asleep = sum(c for r, c in roots.items() if "sleep-" in r)
        self.assertLess(asleep, 0.05 * sum(roots.values()), roots)

    def test_threads_that_come_and_go(self):
        t = self.start([target_path("churn")])
        out = self.path("churn.txt")
        self.record(t, out, "--mode", "wall", "--threads", "-r", "500", duration=2)
        stacks = read_collapsed(out)
        workers = {s[0] for s in stacks if has_func(s, "short_worker")}
        self.assertGreater(len(workers), 4, "short-lived threads not sampled: %r" % workers)
        self.assertEqual(t.state() in "RS", True)

    def test_wall_mode_shows_sleeping_threads(self):
        t = self.start([target_path("split_nofp"), "0", "2"])
        out = self.path("wall.txt")
        self.record(t, out, "--mode", "wall", "--threads", duration=1)
        roots = {s[0] for s in read_collapsed(out)}
        self.assertEqual(len([r for r in roots if "sleep-" in r]), 2, roots)


class Robustness(LoupeTestCase):

    def test_kill_9_during_blocking_leaves_target_running(self):
        t = self.start([target_path("split_nofp"), "1", "1"])
        out = self.path("killed.txt")
        rec = subprocess.Popen(["%s" % os.environ.get("LOUPE"), "record", "-p",
                                str(t.pid), "-o", out, "--blocking", "-r", "1000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        rec.kill()
        rec.wait()
        rec.stderr.close()
        time.sleep(0.2)
        for _ in range(10):
            for tid in t.tids():
                with open("/proc/%d/task/%d/stat" % (t.pid, tid)) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                self.assertIn(state, "RS", "thread %d left in state %s" % (tid, state))
            with open("/proc/%d/status" % t.pid) as f:
                self.assertIn("TracerPid:\t0\n", f.read())
            time.sleep(0.05)
        # Still making progress.
        def cpu():
            with open("/proc/%d/stat" % t.pid) as f:
                return sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        before = cpu()
        time.sleep(0.3)
        self.assertGreater(cpu(), before)

    def test_sigint_writes_recording(self):
        t = self.start([target_path("split_fp")])
        out = self.path("int.txt")
        rec = subprocess.Popen([os.environ.get("LOUPE"), "record", "-p", str(t.pid),
                                "-o", out], stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        rec.send_signal(signal.SIGINT)
        _, err = rec.communicate(timeout=20)
        self.assertEqual(rec.returncode, 0, err)
        self.assertTrue(any(has_func(s, "hot_three") for s in read_collapsed(out)))
        self.assertEqual(t.state(), "R")

    def test_target_exit_mid_recording_writes(self):
        out = self.path("exit.txt")
        res = run_loupe("record", "-o", out, "--", "/bin/sh", "-c",
                        "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("target exited", res.stderr)
        self.assertTrue(os.path.getsize(out) > 0)

    def test_raw_recording_and_report(self):
        t = self.start([target_path("split_nofp")])
        raw = self.path("rec.loupe")
        self.record(t, raw, "-r", "1000", duration=2)
        res = run_loupe("report", raw, "--format", "collapsed")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("hot_three", res.stdout)
        txt = self.path("rec.txt")
        res = run_loupe("report", raw, "-o", txt)
        self.assertEqual(res.returncode, 0, res.stderr)
        stacks = read_collapsed(txt)
        three = weight_where(stacks, lambda s: has_func(s, "hot_three"))
        one = weight_where(stacks, lambda s: has_func(s, "hot_one"))
        self.assertAlmostEqual(three / float(three + one), 0.75, delta=0.07)
        res = run_loupe("report", raw)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("burn", res.stdout)


class Errors(LoupeTestCase):

    def assert_error(self, res, code, *fragments):
        self.assertEqual(res.returncode, code, res.stderr)
        lines = res.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertTrue(lines[0].startswith("loupe: "), lines[0])
        for frag in fragments:
            self.assertIn(frag, lines[0])

    def test_no_such_pid(self):
        res = run_loupe("record", "-p", "999999", "-o", self.path("x.txt"))
        self.assert_error(res, 1, "no such process", "999999")
        res = run_loupe("dump", "-p", "999999")
        self.assert_error(res, 1, "no such process")

    def test_permission_denied(self):
        t = self.start([target_path("split_fp")])
        res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                              "--clear-groups", os.environ.get("LOUPE"), "dump",
                              "-p", str(t.pid)], capture_output=True, text=True)
        self.assert_error(res, 1, "permission denied", "CAP_SYS_PTRACE")

    def test_bad_option_values(self):
        out = self.path("x.txt")
        for args, frag in ((["-r", "abc"], "rate"), (["-r", "0"], "rate"),
                           (["-d", "-1"], "duration"), (["--mode", "fast"], "mode"),
                           (["--format", "gif"], "format"), (["--bogus"], "--bogus")):
            res = run_loupe("record", "-p", "1", "-o", out, *args)
            self.assert_error(res, 2, frag)
        self.assert_error(run_loupe("record", "-p", "abc", "-o", out), 2, "PID")
        # without -o the name is made up (py-spy's habit), and said only
        # once there is a target: an error is its one line, no file
        res = run_loupe("record", "-p", "999999", cwd=self.tmp)
        self.assert_error(res, 1, "no such process")
        self.assertFalse([n for n in os.listdir(self.tmp) if n.startswith("loupe-")])
        self.assert_error(run_loupe("record", "-o", out), 2, "-p PID")
        self.assert_error(run_loupe("record", "-p", "1", "-o", self.path("x.gif")), 2, "format")
        self.assert_error(run_loupe("frobnicate"), 2, "unknown command")

    def test_unwritable_output(self):
        t = self.start([target_path("split_fp")])
        res = run_loupe("record", "-p", t.pid, "-o", "/nonexistent-dir/out.txt", "-d", "1")
        self.assert_error(res, 1, "/nonexistent-dir/out.txt")

    def test_target_exits_before_first_sample(self):
        # A process that has exited but is not yet reaped: nothing to read.
        zombie = subprocess.Popen(["/bin/true"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open("/proc/%d/stat" % zombie.pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        out = self.path("x.txt")
        res = run_loupe("record", "-p", zombie.pid, "-o", out)
        zombie.wait()
        self.assert_error(res, 1, str(zombie.pid), "exited")
        self.assertFalse(os.path.exists(out))
        # A command that ends at once: either it ends before the first
        # tick (an error, no file) or the one tick that saw it is written.
        for _ in range(5):
            res = run_loupe("record", "-o", out, "--", "/bin/true")
            if res.returncode == 1:
                self.assert_error(res, 1, "before the first sample")
                self.assertFalse(os.path.exists(out))
            else:
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertIn("target exited", res.stderr)
                self.assertTrue(os.path.exists(out))
                os.unlink(out)

    def test_command_not_found(self):
        res = run_loupe("record", "-o", self.path("x.txt"), "--", "/no/such/program")
        self.assert_error(res, 1, "/no/such/program")

    def test_help_and_version(self):
        for args in (["--help"], ["record", "--help"], ["dump", "--help"],
                     ["report", "--help"], ["--version"]):
            res = run_loupe(*args)
            self.assertEqual(res.returncode, 0, args)
            self.assertTrue(res.stdout.startswith(("usage:", "loupe ")), res.stdout)
