"""loupe daemon on real Python processes (issue #9), sampled by the engine
in the daemon's own loop (ui/daemon/daemon_engine.c): targets picked up by a
name matcher, also one started after the daemon; windows rotate and each holds
the target's hot function; a target that exits is finalized; ctl status,
snapshot -o x.svg; /metrics and go tool pprof over HTTP; SIGTERM leaves
complete windows and exit 0; after SIGKILL of the daemon every target runs
on.  The current window is in snapshots, with the 3:1 split of the target;
each window says what was sampled and missed, and the command line; a
multiprocessing.Pool under subprocesses = on is one target with its 4
workers; the CPU cap lowers rates; a user made by useradd is refused a
root-owned target and served for their own.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon.py -v
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from harness import (LOUPE, Target, cpu_ns, run_loupe, script_path, split_share,
                     split_times)
from test_top import find_python

WINDOW_RE = re.compile(r"^\d{8}T\d{6}Z\.loupe$")
NOBODY = 65534


from harness import skip  # noqa: E402


def target_dir(store, name, pid):
    """The store's directory of pid: NAME-PID-START (START: the process's
    start time, so a reused PID is another directory)."""
    found = glob.glob(os.path.join(glob.escape(store), "%s-%d-*" % (name, pid)))
    return found[0] if len(found) == 1 else os.path.join(store, "%s-%d-?" % (name, pid))


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class Daemon(unittest.TestCase):

    def setUp(self):
        if os.getuid() != 0:
            skip(self, "the daemon test runs as root (it reads other processes)")
        self.py = find_python()
        if not self.py:
            skip(self, "no CPython found (/usr/bin/python3.11 or pyenv)")
        self.tmp = tempfile.mkdtemp(prefix="loupe-daemon-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.store = os.path.join(self.tmp, "store")
        self.sock = os.path.join(self.tmp, "loupe.sock")
        # the script path is this test's own copy: other tests' split.py
        # processes are not matched
        self.script = os.path.join(self.tmp, "daemon_split.py")
        shutil.copy(script_path("split.py"), self.script)
        self.conf = os.path.join(self.tmp, "loupe.conf")
        # HTTP needs a bearer token from a root-owned file no one else reads
        self.token = "daemon-%s" % os.urandom(12).hex()
        self.token_file = os.path.join(self.tmp, "token")
        with open(os.open(self.token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.token + "\n")
        self.configure()
        self.targets = []

    def configure(self, window="2s", rate=49, extra="", cmdline=None, name="split",
                  glob=""):
        with open(self.conf, "w") as f:
            f.write("dir = %s\nwindow = %s\nsocket = %s\nhttp = 127.0.0.1:0\n"
                    "http_token_file = %s\n"
                    "max_cpu = 50\n%s\n[target %s]\nexe = python*\ncmdline = %s\n"
                    "rate = %s\n%s" % (self.store, window, self.sock, self.token_file, glob,
                                        name, cmdline or self.script, rate, extra))

    def row(self, pid):
        """(rate, samples, missed) of pid in ctl status, or None."""
        res = self.ctl("status")
        m = re.search(r"(?m)^ *%d  \S+ +([\d.]+) Hz +(\d+) +(\d+) " % pid, res.stdout)
        return (float(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None

    def target(self, log=None):
        """The split target; with log, it also times its two functions
        there (LOUPE_SPLIT_LOG: what really ran, see split.py)."""
        env = dict(os.environ, LOUPE_SPLIT_LOG=log) if log else None
        t = Target([self.py, self.script], env=env)
        self.addCleanup(t.kill)
        self.targets.append(t)
        return t

    def start_daemon(self):
        self.log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        d = subprocess.Popen([LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=self.log)
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(self.sock):
            self.assertIsNone(d.poll(), self.read_log())
            time.sleep(0.05)
        return d

    def read_log(self):
        self.log.seek(0)
        return self.log.read()

    def ctl(self, *args):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60)

    def listed(self, pid):
        res = self.ctl("status")
        self.assertEqual(res.returncode, 0, res.stderr)
        return re.search(r"(?m)^ *%d  " % pid, res.stdout) is not None

    def wait_listed(self, pid, want, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.listed(pid) == want:
                return True
            time.sleep(0.1)
        return False

    def windows(self, pid):
        d = target_dir(self.store, "split", pid)
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d) if WINDOW_RE.match(n))

    def test_daemon(self):
        a, b = self.target(), self.target()
        d = self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        self.assertTrue(self.wait_listed(b.pid, True, 5), self.read_log())
        t0 = time.monotonic()
        c = self.target()
        self.assertTrue(self.wait_listed(c.pid, True, 4),
                        "a target started after the daemon was not picked up")
        self.assertLess(time.monotonic() - t0, 4)
        # windows rotate, each with the hot function
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(self.windows(a.pid)) < 2:
            time.sleep(0.2)
        wins = self.windows(a.pid)
        self.assertGreaterEqual(len(wins), 2, os.listdir(os.path.dirname(wins[0])) if wins else "")
        for w in wins[:2]:
            res = run_loupe("report", w)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("hot_three", res.stdout)
        st = os.stat(self.store)
        self.assertEqual(st.st_mode & 0o777, 0o750)
        # status, snapshot as SVG
        res = self.ctl("status")
        self.assertRegex(res.stdout, r"(?m)^ *%d  split .*  python3[.0-9]* +CPython 3" % a.pid)
        svg = os.path.join(self.tmp, "snap.svg")
        res = self.ctl("snapshot", str(a.pid), "-o", svg)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(svg) as f:
            text = f.read()
        self.assertTrue(text.lstrip().startswith("<?xml") or "<svg" in text[:500])
        self.assertIn("hot_three", text)
        # dump: every thread's stack now, as loupe dump prints it
        direct = run_loupe("dump", "-p", a.pid)
        res = self.ctl("dump", str(a.pid))
        if direct.returncode == 0:
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertRegex(res.stdout, r"hot_three|hot_one|work")
        else:
            sys.stderr.write("SKIP ctl dump: loupe dump -p itself fails on this build "
                             "(status %d)\n" % direct.returncode)
            self.assertNotEqual(res.returncode, 0)
            self.assertRegex(res.stderr, r"^loupe: dump of PID %d: .*\n$" % a.pid)
        res = self.ctl("dump", "999999999")
        self.assertEqual(res.returncode, 1)
        self.assertIn("no process 999999999", res.stderr)
        # metrics
        m = re.search(r"HTTP on port (\d+)", self.read_log())
        self.assertTrue(m, self.read_log())
        auth = {"Authorization": "Bearer " + self.token}
        with urllib.request.urlopen(urllib.request.Request(
                "http://127.0.0.1:%s/metrics" % m.group(1), headers=auth), timeout=10) as r:
            metrics = r.read().decode()
        self.assertRegex(metrics, r'loupe_samples_total\{pid="%d",target="split"\} \d+' % a.pid)
        hm = re.search(r'(?m)^loupe_daemon_heap_bytes\{state="in_use"\} (\d+)$', metrics)
        self.assertTrue(hm and int(hm.group(1)) > 0, metrics)
        self.assertRegex(metrics, r'(?m)^loupe_daemon_heap_bytes\{state="free"\} \d+$')
        if shutil.which("go"):
            env = dict(os.environ, PPROF_TMPDIR=self.tmp, HOME=self.tmp)
            # go tool pprof sends no Authorization header: fetched with
            # the token, then read from the file
            with urllib.request.urlopen(urllib.request.Request(
                    "http://127.0.0.1:%s/debug/pprof/profile?seconds=3&pid=%d"
                    % (m.group(1), a.pid), headers=auth), timeout=60) as r:
                prof = os.path.join(self.tmp, "profile.pb.gz")
                with open(prof, "wb") as f:
                    f.write(r.read())
            res = subprocess.run(["go", "tool", "pprof", "-top", prof],
                                 capture_output=True, text=True, timeout=120, env=env)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("hot_three", res.stdout)
        else:
            sys.stderr.write("SKIP go tool pprof: go not installed\n")
        # a target that exits is finalized, its windows kept
        b.kill()
        self.assertTrue(self.wait_listed(b.pid, False, 4))
        self.assertGreaterEqual(len(self.windows(b.pid)), 1)
        # SIGTERM: exit 0, every window complete, no temporary left
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())
        for t in (a, c):
            for w in self.windows(t.pid):
                res = run_loupe("report", w)
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertNotIn("warning", res.stderr)
            left = [n for n in os.listdir(target_dir(self.store, "split", t.pid))
                    if not WINDOW_RE.match(n)]
            self.assertEqual(left, [], "left in the store")
            self.assertIn(state(t.pid), "RS")
        self.assertFalse(os.path.exists(self.sock))

    def test_current_window_and_its_figures(self):
        # one long window: what a snapshot holds comes from the current one
        self.configure(window="60s", rate=97)
        log = os.path.join(self.tmp, "split.log")
        a = self.target(log)
        d = self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        before = split_times(log)
        # 2.5 s of the target's CPU (cpu mode: about 240 samples at
        # 97 Hz), however long a busy box takes to give it
        cpu0 = cpu_ns(a.pid)
        deadline = time.monotonic() + 20
        while cpu_ns(a.pid) - cpu0 < 2.5e9 and time.monotonic() < deadline:
            time.sleep(0.1)
        rate, samples, missed = self.row(a.pid)
        self.assertEqual(rate, 97)
        self.assertGreater(samples, 97)
        self.assertEqual(self.windows(a.pid), [])
        txt = os.path.join(self.tmp, "now.txt")
        res = self.ctl("snapshot", str(a.pid), "-o", txt)
        self.assertEqual(res.returncode, 0, res.stderr)
        counts = {"hot_three": 0, "hot_one": 0}
        with open(txt) as f:
            for line in f:
                stack, n = line.rsplit(" ", 1)
                leaf = stack.split(";")[-1].split(" ")[0]
                if leaf in counts:
                    counts[leaf] += int(n)
        after = split_times(log)
        truth = split_share(before, after)
        total = counts["hot_three"] + counts["hot_one"]
        self.assertGreater(total, 150, counts)
        self.assertAlmostEqual(counts["hot_three"] / total, truth, delta=0.1,
                               msg="%r, really %.3f" % (counts, truth))
        # dump from the daemon: the stack now, as loupe dump prints it;
        # work() itself (between the calls, and timing them under
        # LOUPE_SPLIT_LOG) is caught now and then: dumped again, within
        # a deadline, until a hot function is
        hot = r"(?m)^    (hot_three|hot_one) \(.*daemon_split\.py:\d+\)$"
        deadline = time.monotonic() + 10
        while True:
            res = self.ctl("dump", str(a.pid))
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertRegex(res.stdout, r"(?m)^Process %d: " % a.pid)
            self.assertRegex(res.stdout, r"(?m)^    (work|hot_three|hot_one) \(.*daemon_split\.py:\d+\)$")
            if re.search(hot, res.stdout) or time.monotonic() > deadline:
                break
        self.assertRegex(res.stdout, hot)
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())
        wins = self.windows(a.pid)
        self.assertEqual(len(wins), 1)
        res = run_loupe("report", wins[0])
        m = re.search(r"(?m)^loupe daemon: (\d+) samples, (\d+) deadlines missed; "
                      r"command line: (.*)$", res.stdout)
        self.assertTrue(m, res.stdout)
        self.assertGreaterEqual(int(m.group(1)), samples)
        self.assertEqual(m.group(3), "%s %s" % (self.py, self.script))
        self.assertIn("97 Hz", res.stdout)

    def test_tasks(self):
        script = os.path.join(self.tmp, "daemon_tasks.py")
        shutil.copy(script_path("tasks.py"), script)
        self.configure(cmdline=script, name="tasks", extra="tasks = yes\nmode = wall\n")
        t = Target([self.py, script, "tree"])
        self.addCleanup(t.kill)
        self.start_daemon()
        self.assertTrue(self.wait_listed(t.pid, True, 5), self.read_log())
        res = self.ctl("dump", str(t.pid), "--tasks")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"(?m)^asyncio: 6 tasks$")
        self.assertRegex(res.stdout, r"(?m)^ .*\(T\) worker-1$")
        self.assertRegex(res.stdout, r"(?m)^ .*→ handle \(.*daemon_tasks\.py:\d+\)$")
        time.sleep(1)
        txt = os.path.join(self.tmp, "tasks.txt")
        res = self.ctl("snapshot", str(t.pid), "-o", txt)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(txt) as f:
            roots = {line.split(";", 1)[0] for line in f}
        # the two workers of one coroutine are one tower (task_groups.c)
        self.assertTrue({"2 tasks: worker", "task leaf"} <= roots, roots)

    def test_limits_hold_through_ctl(self):
        self.configure(glob="max_snapshot = 2K\nmax_targets = 1\n")
        a = self.target()
        self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        time.sleep(1)
        svg = os.path.join(self.tmp, "big.svg")
        res = self.ctl("snapshot", str(a.pid), "-o", svg)
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertRegex(res.stderr, r"^loupe: .*over max_snapshot \(2048\)")
        self.assertFalse(os.path.exists(svg))
        other = subprocess.Popen(["sleep", "60"])
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        res = self.ctl("add", str(other.pid))
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertIn("max_targets = 1", res.stderr)

    def test_sighup_and_bad_bytes(self):
        a = self.target()
        d = self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        # garbage, a truncated frame and an oversized one: error replies
        import socket
        import struct
        for data in (os.urandom(64), b"LPCT\x01\x01\x00\x00\x00\x00\x00\x20sta",
                     b"LPCT\x01\x01\x00\x00" + struct.pack(">I", 1 << 30)):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(15)
            c.connect(self.sock)
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                reply += chunk
            c.close()
            self.assertTrue(reply.startswith(b"LPCT"), reply[:40])
            self.assertNotEqual(struct.unpack(">I", reply[12:16])[0], 0, reply)
        self.assertIsNone(d.poll())
        # SIGHUP: the new rate applies, the target and its windows stay
        wins = len(self.windows(a.pid))
        with open(self.conf) as f:
            text = f.read().replace("rate = 49", "rate = 29")
        with open(self.conf, "w") as f:
            f.write(text)
        d.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (self.row(a.pid) or (0,))[0] != 29:
            time.sleep(0.1)
        self.assertEqual(self.row(a.pid)[0], 29, self.read_log())
        self.assertIn("reloaded", self.read_log())
        time.sleep(2.5)
        self.assertGreater(len(self.windows(a.pid)), wins)
        self.assertIsNone(d.poll())

    def test_pool_under_subprocesses(self):
        # the pool and its workers share one cmdline (fork): one target
        pool = os.path.join(self.tmp, "daemon_pool.py")
        shutil.copy(script_path("pool.py"), pool)
        shutil.copy(script_path("split.py"), os.path.join(self.tmp, "split.py"))
        self.configure(cmdline=pool, name="pool", extra="subprocesses = on\n")
        t = Target([self.py, pool, "--workers", "4"])
        self.addCleanup(t.kill)
        workers = [int(w) for line in t.lines if line.startswith("workers ")
                   for w in line.split()[1:]]
        self.assertEqual(len(workers), 4, t.lines)
        for w in workers:
            # they die with the pool (PR_SET_PDEATHSIG), and first here
            self.addCleanup(lambda w=w: subprocess.run(["kill", "-9", str(w)],
                                                       capture_output=True))
        d = self.start_daemon()
        self.assertTrue(self.wait_listed(t.pid, True, 5), self.read_log())
        time.sleep(3.5)
        res = self.ctl("status")
        for w in workers:
            self.assertNotRegex(res.stdout, r"(?m)^ *%d  " % w, "a worker is a target of its own")
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())
        pdir = target_dir(self.store, "pool", t.pid)
        wins = sorted(os.path.join(pdir, n) for n in os.listdir(pdir)
                      if WINDOW_RE.match(n))
        self.assertGreaterEqual(len(wins), 1)
        res = run_loupe("report", pdir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("Processes: 5", res.stdout)
        for w in workers:
            self.assertRegex(res.stdout, r"(?m)^ +%d  " % w)
        self.assertIn("hot_three", res.stdout)
        self.assertFalse(glob.glob(os.path.join(self.store, "pool-%d-*" % workers[0])))

    def test_cpu_cap_lowers_rates(self):
        self.configure(rate=1000)
        with open(self.conf) as f:
            text = f.read().replace("max_cpu = 50", "max_cpu = 0.5")
        with open(self.conf, "w") as f:
            f.write(text)
        a = self.target()
        self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "rates set to" not in self.read_log():
            time.sleep(0.5)
        self.assertRegex(self.read_log(), r"own CPU [\d.]+% against max_cpu 0.50%: rates set to \d+%")
        res = self.ctl("status")
        self.assertRegex(res.stdout, r"rates lowered to \d+% of the configured ones")
        self.assertLess(self.row(a.pid)[0], 1000)

    def test_user_made_by_useradd(self):
        if not shutil.which("useradd") or not shutil.which("setpriv"):
            skip(self, "useradd or setpriv missing (apt-get install passwd util-linux)")
        user = "loupe-ctl-test"
        subprocess.run(["userdel", user], capture_output=True)
        res = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.addCleanup(subprocess.run, ["userdel", user], capture_output=True)
        uid = int(subprocess.check_output(["id", "-u", user]))
        as_user = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]
        # its own Python process, and root's, both matched by the config
        os.chmod(self.tmp, 0o755)
        os.chmod(self.script, 0o755)
        mine = Target(as_user + [self.py, self.script])
        self.addCleanup(mine.kill)
        rootst = self.target()
        self.start_daemon()
        os.chmod(self.sock, 0o666)
        for t in (mine, rootst):
            self.assertTrue(self.wait_listed(t.pid, True, 5), self.read_log())
        loupe = os.path.join(self.tmp, "loupe")
        shutil.copy(LOUPE, loupe)
        os.chmod(loupe, 0o755)

        def ctl_as_user(*args):
            return subprocess.run(as_user + [loupe, "ctl", "-s", self.sock] + list(args),
                                  capture_output=True, text=True, timeout=60)
        res = ctl_as_user("dump", str(rootst.pid))
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertEqual(res.stderr, "loupe: permission denied: process %d runs as user 0, "
                         "you are user %d\n" % (rootst.pid, uid))
        res = ctl_as_user("dump", str(mine.pid))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("daemon_split.py", res.stdout)
        res = ctl_as_user("status")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stdout, r"(?m)^ *%d  " % mine.pid)
        self.assertNotRegex(res.stdout, r"(?m)^ *%d  " % rootst.pid)
        self.assertIn("(1 targets of other users not shown)", res.stdout)
        res = ctl_as_user("remove", str(rootst.pid))
        self.assertEqual(res.returncode, 1)
        self.assertIn("permission denied", res.stderr)
        self.assertTrue(self.listed(rootst.pid))

    def test_under_the_units_capabilities(self):
        """The daemon as tools/loupe.service runs it: root with only the
        unit's CapabilityBoundingSet, profiling another user's process."""
        if not shutil.which("setpriv"):
            skip(self, "setpriv missing (apt-get install util-linux)")
        unit = os.path.join(os.path.dirname(script_path("split.py")), "..", "..",
                            "tools", "loupe.service.in")
        with open(unit) as f:
            caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", f.read()).group(1).split()
        bounding = "-all," + ",".join("+" + c.lower()[len("cap_"):] for c in caps)
        os.chmod(self.tmp, 0o755)
        os.chmod(self.script, 0o755)
        t = Target(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                    self.py, self.script])
        self.addCleanup(t.kill)
        self.log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        d = subprocess.Popen(["setpriv", "--bounding-set", bounding, "--",
                              LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=self.log)
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        self.assertTrue(self.wait_listed_when_up(d, t.pid), self.read_log())
        bits = {"CAP_CHOWN": 0, "CAP_DAC_READ_SEARCH": 2, "CAP_SYS_PTRACE": 19, "CAP_PERFMON": 38,
                "CAP_SYS_ADMIN": 21, "CAP_BPF": 39}
        with open("/proc/%d/status" % d.pid) as f:
            bnd = int(re.search(r"(?m)^CapBnd:\s+([0-9a-f]+)$", f.read()).group(1), 16)
        self.assertEqual(bnd, sum(1 << bits[c] for c in caps))
        time.sleep(2.5)
        self.assertGreater(self.row(t.pid)[1], 0, self.read_log())
        res = self.ctl("dump", str(t.pid))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("daemon_split.py", res.stdout)
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())
        res = run_loupe("report", target_dir(self.store, "split", t.pid))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("hot_three", res.stdout)

    def wait_listed_when_up(self, d, pid):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(self.sock):
            if d.poll() is not None:
                return False
            time.sleep(0.05)
        return self.wait_listed(pid, True, 5)

    def test_sigkill_leaves_targets_running(self):
        a = self.target()
        d = self.start_daemon()
        self.assertTrue(self.wait_listed(a.pid, True, 5), self.read_log())
        time.sleep(0.5)
        d.kill()
        d.wait()
        # the record children end too (they got SIGINT), the target runs
        time.sleep(1)
        for _ in range(5):
            self.assertIn(state(a.pid), "RS")
            time.sleep(0.1)

    def test_bad_config(self):
        with open(self.conf, "a") as f:
            f.write("colour = blue\n")
        res = run_loupe("daemon", "--config", self.conf)
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stderr, r"^loupe: \S+loupe.conf:\d+: .*unknown key 'colour'.*\n$")
        res = run_loupe("daemon", "--nonesuch")
        self.assertEqual(res.returncode, 2)


if __name__ == "__main__":
    unittest.main()
