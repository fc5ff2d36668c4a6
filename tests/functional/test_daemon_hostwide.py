"""loupe daemon over a whole host (issue #23 point 3): a section that
matches every Python process (python = all, narrowed here to this test's
own processes by cmdline so that other tests' interpreters are left alone),
by systemd unit (a cgroup NAME.service made for the test), and the service
names the targets get (service = section | unit | cgroup), seen in
/metrics.  Processes start and exit all the time (churn): each is picked up
and finalized within one rescan, and what is not Python is never matched.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon_hostwide.py -v
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from harness import LOUPE, Target, run_loupe
from test_top import find_python

# The daemon's rescan (DAEMON_SCAN_MS): a process is picked up or
# finalized within one, plus a loaded box's slack.
RESCAN_S = 1.0
PICKUP_S = 2 * RESCAN_S + 1.5

SERVICE_PY = r"""
import os, sys, time
NAME = sys.argv[1]
def hot():
    t = time.monotonic()
    while time.monotonic() - t < 0.02:
        pass
exec("def hot_%s():\n    hot()\n" % NAME.replace("-", "_"))
f = globals()["hot_" + NAME.replace("-", "_")]
print("ready", flush=True)
while True:
    f()
    time.sleep(0.01)
"""

# A cgroup hierarchy where the test may make "units": the unified one, or
# name=systemd's in a hybrid setup.
CGROUP_ROOTS = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup"]


def skip(test, reason):
    sys.stderr.write("SKIP %s: %s\n" % (test.id(), reason))
    test.skipTest(reason)


def cgroup_root():
    """A writable cgroup hierarchy that /proc/PID/cgroup shows as the
    unified one or name=systemd, or None."""
    with open("/proc/self/cgroup") as f:
        own = f.read()
    for root in CGROUP_ROOTS:
        procs = os.path.join(root, "cgroup.procs")
        if not os.path.exists(procs) or not os.access(root, os.W_OK):
            continue
        if root.endswith("/systemd") and ":name=systemd:" not in own:
            continue
        if root.endswith("/unified") and "\n0::" not in "\n" + own:
            continue
        if root == "/sys/fs/cgroup" and "\n0::" not in "\n" + own:
            continue
        return root
    return None


class HostDaemon:
    """A daemon with an HTTP endpoint on a config the test writes; a mixin
    (test_daemon_scrape.py uses it too)."""

    def setup_daemon(self, prefix):
        if os.getuid() != 0:
            skip(self, "the daemon test runs as root (it reads other processes)")
        self.py = find_python()
        if not self.py:
            skip(self, "no CPython found (/usr/bin/python3.11 or pyenv)")
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.store = os.path.join(self.tmp, "store")
        self.sock = os.path.join(self.tmp, "loupe.sock")
        self.script = os.path.join(self.tmp, "hostwide_service.py")
        with open(self.script, "w") as f:
            f.write(SERVICE_PY)
        self.conf = os.path.join(self.tmp, "loupe.conf")
        self.token = "hostwide-%s" % os.urandom(12).hex()
        self.token_file = os.path.join(self.tmp, "token")
        with open(os.open(self.token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.token + "\n")
        self.cgroups = []

    def write_config(self, sections, window="2s"):
        with open(self.conf, "w") as f:
            f.write("dir = %s\nwindow = %s\nsocket = %s\nhttp = 127.0.0.1:0\n"
                    "http_token_file = %s\nmax_cpu = 50\nmax_targets = 128\n\n%s"
                    % (self.store, window, self.sock, self.token_file, sections))

    def start_daemon(self):
        self.log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        self.addCleanup(self.log.close)
        d = subprocess.Popen([LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=self.log)
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(self.sock):
            self.assertIsNone(d.poll(), self.read_log())
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = re.search(r"HTTP on port (\d+)", self.read_log())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        else:
            self.fail(self.read_log())
        return d

    def read_log(self):
        self.log.seek(0)
        return self.log.read()

    def get(self, path, timeout=60):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read(), r.headers

    def metrics(self):
        return self.get("/metrics", timeout=20)[0].decode()

    def ctl(self, *args):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60)

    def status_pids(self):
        res = self.ctl("status")
        self.assertEqual(res.returncode, 0, res.stderr)
        return {int(m.group(1)) for m in re.finditer(r"(?m)^ *(\d+)  \S", res.stdout)}

    def service(self, name, cgroup=None):
        """A Python "service" whose hot function is hot_NAME, started in
        cgroup (a path below the writable hierarchy) when given."""
        argv = [self.py, self.script, name]
        if cgroup:
            procs = os.path.join(cgroup, "cgroup.procs")
            argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs] + argv
        t = Target(argv)
        self.addCleanup(t.kill)
        return t

    def make_cgroup(self, rel):
        root = cgroup_root()
        if not root:
            skip(self, "no writable cgroup hierarchy for a test unit")
        path = os.path.join(root, rel)
        os.makedirs(path, exist_ok=True)
        self.addCleanup(self.remove_cgroup, path)
        return path

    def remove_cgroup(self, path):
        # its processes were killed by then; a moment for the kernel
        deadline = time.monotonic() + 5
        while os.path.isdir(path) and time.monotonic() < deadline:
            try:
                os.rmdir(path)
            except OSError:
                time.sleep(0.1)
        try:
            os.rmdir(os.path.dirname(path))
        except OSError:
            pass


def wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class Hostwide(HostDaemon, unittest.TestCase):

    def setUp(self):
        self.setup_daemon("loupe-hostwide-")

    def test_every_python_with_churn(self):
        # python = all, narrowed to this test's script: every Python
        # process running it, nothing else that names it
        self.write_config("[target pyall]\npython = all\ncmdline = %s\nrate = 19\n"
                          % self.script)
        other = subprocess.Popen(["/bin/sh", "-c", "exec sleep 600", self.script])
        self.addCleanup(lambda: (other.kill(), other.wait()))
        first = [self.service("churn%d" % i) for i in range(4)]
        d = self.start_daemon()
        self.assertTrue(wait_for(lambda: {t.pid for t in first} <= self.status_pids(), PICKUP_S),
                        self.read_log())
        live = list(first)
        ended = []
        worst_in = worst_out = 0.0
        for i in range(8):
            t0 = time.monotonic()
            pace = t0 + 1.2	# each target lives about 5 s: windows of 2 s
            new = self.service("churn%d" % (10 + i))
            self.assertTrue(wait_for(lambda: new.pid in self.status_pids(), PICKUP_S),
                            "PID %d not picked up within %.1f s: %s" % (new.pid, PICKUP_S, self.read_log()))
            worst_in = max(worst_in, time.monotonic() - t0)
            old = live.pop(0)
            t0 = time.monotonic()
            old.kill()
            self.assertTrue(wait_for(lambda: old.pid not in self.status_pids(), PICKUP_S),
                            "PID %d not finalized within %.1f s" % (old.pid, PICKUP_S))
            worst_out = max(worst_out, time.monotonic() - t0)
            ended.append(old)
            live.append(new)
            time.sleep(max(0, pace - time.monotonic()))
        sys.stderr.write("churn: picked up within %.2f s, finalized within %.2f s\n"
                         % (worst_in, worst_out))
        self.assertNotIn(other.pid, self.status_pids(), "a process that is not Python was matched")
        log = self.read_log()
        written = 0
        for t in ended:
            m = re.search(r"stopped profiling pyall PID %d \(it exited\): (\d+) windows in (\S+)"
                          % t.pid, log)
            self.assertTrue(m, "PID %d not finalized as exited:\n%s" % (t.pid, log))
            n, path = int(m.group(1)), m.group(2)
            if not n:
                continue	# no sample yet (a target's first ones can be late)
            written += 1
            wins = sorted(os.listdir(path))
            self.assertEqual(len(wins), n, path)
            for w in wins:
                res = run_loupe("report", os.path.join(path, w))
                self.assertEqual(res.returncode, 0, res.stderr)
        self.assertGreaterEqual(written, len(ended) - 2, log)
        m = self.metrics()
        self.assertRegex(m, r'(?m)^loupe_service_targets\{service="pyall"\} 4$')
        self.assertRegex(m, r'(?m)^loupe_service_windows_total\{service="pyall"\} [1-9]\d*$')
        samples = int(re.search(r'(?m)^loupe_service_samples_total\{service="pyall"\} (\d+)$', m).group(1))
        self.assertGreater(samples, 0)
        d.terminate()
        self.assertEqual(d.wait(timeout=30), 0, self.read_log())

    def test_service_names(self):
        tag = "hw%d" % os.getpid()
        unit_dir = self.make_cgroup("hostwide.slice/%s-web.service" % tag)
        ctr_dir = self.make_cgroup("hostwide.slice/%s-ctr.scope" % tag)
        self.write_config(
            "[target byunit]\nunit = %s-*.service\ncmdline = %s\nservice = unit\n\n"
            "[target bycgroup]\npython = yes\ncmdline = %s\ncgroup = /hostwide.slice/%s-ctr.scope\n"
            "service = cgroup\n\n"
            "[target plain]\npython = all\ncmdline = %s\n"
            % (tag, self.script, self.script, tag, self.script))
        web = self.service("web", unit_dir)
        ctr = self.service("ctr", ctr_dir)
        plain = self.service("plain")
        self.start_daemon()
        want = {"%s-web.service" % tag: web, "%s-ctr.scope" % tag: ctr, "plain": plain}
        pat = lambda name: r'(?m)^loupe_service_targets\{service="%s"\} 1$' % re.escape(name)
        self.assertTrue(wait_for(lambda: all(re.search(pat(n), self.metrics()) for n in want),
                                 PICKUP_S + 2), self.metrics() + self.read_log())
        # a restart keeps the service's name: the new PID joins it
        web.kill()
        again = self.service("web", unit_dir)
        self.assertTrue(wait_for(lambda: again.pid in self.status_pids() and
                                 web.pid not in self.status_pids(), PICKUP_S + 2))
        self.assertRegex(self.metrics(), pat("%s-web.service" % tag))
        sampled = r'(?m)^loupe_service_samples_total\{service="%s-web.service"\} [1-9]' % re.escape(tag)
        self.assertTrue(wait_for(lambda: re.search(sampled, self.metrics()), 10), self.metrics())
        # only the services of processes, not the sections' names
        self.assertNotRegex(self.metrics(), r'service="(byunit|bycgroup)"')


if __name__ == "__main__":
    unittest.main()
