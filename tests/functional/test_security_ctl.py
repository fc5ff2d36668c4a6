"""Who may ask the daemon what over its control socket (issue #17, points 1
and 5), as ordinary users made with useradd and run through setpriv:

- root in a user namespace of the user's own (unshare -Ur) is that user:
  dump of root's process and stop are refused;
- a client that connects, then execs a set-user-ID-root program (su,
  blocked on its password) while a forked child sends the request over the
  inherited socket, is still the user: refused;
- a user's dump and snapshot of another user's process are refused, and
  ctl status lists only their own targets;
- per-user limits: a user's 'add --match exe=sleep' with 8 sleeps does not
  keep root's configured target from being profiled; max_targets_per_user
  and max_sections_per_user hold, and root's add --match still works
  after a user used up their sections;
- 16 silent connections from a user leave 20 ctl status of root answered,
  and a refused client gets a "busy" reply, not a broken pipe;
- the socket's group and mode: 0600 without a loupe group (0660 with it),
  socket_group and socket_mode as configured.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_security_ctl.py -v
"""
import grp
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import textwrap
import time
import unittest

from harness import LOUPE, run_loupe

USERS = ("ctlsec-a", "ctlsec-b")


from harness import skip  # noqa: E402


class CtlSecurity(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.uids = {}
        if os.getuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"):
            return
        for u in USERS:
            subprocess.run(["userdel", u], capture_output=True)
            res = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", u],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError("useradd %s: %s" % (u, res.stderr))
            cls.uids[u] = pwd.getpwnam(u).pw_uid

    @classmethod
    def tearDownClass(cls):
        for u in cls.uids:
            subprocess.run(["userdel", u], capture_output=True)

    def setUp(self):
        if os.getuid() != 0:
            skip(self, "runs the daemon as root and clients as users made by useradd")
        if not self.uids:
            skip(self, "useradd or setpriv missing (apt-get install passwd util-linux)")
        self.tmp = tempfile.mkdtemp(prefix="loupe-ctlsec-")
        os.chmod(self.tmp, 0o755)  # the users reach the socket and the binary
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sock = os.path.join(self.tmp, "loupe.sock")
        self.store = os.path.join(self.tmp, "store")
        self.conf = os.path.join(self.tmp, "loupe.conf")
        # the build may sit where users cannot reach (/root): a copy
        self.loupe = os.path.join(self.tmp, "loupe")
        shutil.copy(LOUPE, self.loupe)
        os.chmod(self.loupe, 0o755)
        # an interpreter the users may run (not one under /root)
        self.python = next((p for p in ("/usr/bin/python3.11", "/usr/bin/python3")
                            if os.access(p, os.X_OK)), None)
        # an argument of sleep that no other test uses
        self.tag = "%d.%d" % (7000 + os.getpid() % 1000, int(time.time()) % 100000)

    # -- helpers ----------------------------------------------------------

    def as_user(self, user):
        uid = self.uids[user]
        return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]

    def configure(self, extra="", sections=""):
        with open(self.conf, "w") as f:
            f.write("dir = %s\nsocket = %s\nwindow = 5s\nmax_cpu = 50\n%s\n%s"
                    % (self.store, self.sock, extra, sections))

    def start_daemon(self):
        self.log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        d = subprocess.Popen([LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=self.log)
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(self.sock):
            self.assertIsNone(d.poll(), self.read_log())
            time.sleep(0.05)
        self.assertTrue(os.path.exists(self.sock), self.read_log())
        # The socket exists from bind(); its group and mode are set before
        # listen(), so a connection says they are final (a chmod of the
        # test's own before then would be undone: open_socket).
        while time.monotonic() < deadline and self.ctl("status").returncode:
            self.assertIsNone(d.poll(), self.read_log())
            time.sleep(0.05)
        self.daemon = d
        return d

    def read_log(self):
        self.log.seek(0)
        return self.log.read()

    def sleeper(self, user=None, arg=None):
        """A sleep of root's or of user's, running as them when it is
        returned (setpriv has exec'd it)."""
        argv = (self.as_user(user) if user else []) + ["sleep", arg or "%s1" % self.tag]
        p = subprocess.Popen(argv)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        want = self.uids[user] if user else 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open("/proc/%d/status" % p.pid) as f:
                st = f.read()
            if re.search(r"(?m)^Uid:\s+%d\s" % want, st) and st.startswith("Name:\tsleep\n"):
                return p
            time.sleep(0.02)
        self.fail("sleep %d did not start" % p.pid)

    def ctl(self, *args):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60)

    def ctl_as(self, user, *args, wrap=()):
        return subprocess.run(self.as_user(user) + list(wrap) + [self.loupe, "ctl", "-s", self.sock]
                              + [str(a) for a in args], capture_output=True, text=True, timeout=60)

    def listed(self, pid, user=None):
        res = self.ctl_as(user, "status") if user else self.ctl("status")
        self.assertEqual(res.returncode, 0, res.stderr)
        return re.search(r"(?m)^ *%d  " % pid, res.stdout) is not None

    def wait_listed(self, pid, seconds=8, user=None):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.listed(pid, user):
                return True
            time.sleep(0.2)
        return False

    def open_socket(self):
        os.chmod(self.sock, 0o666)

    def root_target(self):
        """A sleep of root's matched by the config's section 'rootst'."""
        return self.sleeper(arg="%s9" % self.tag)

    def root_section(self):
        return "[target rootst]\nexe = sleep\ncmdline = sleep %s9\nrate = 19\n" % self.tag

    # -- 1: who may ask what ----------------------------------------------

    def test_user_namespace_root_is_the_user(self):
        if subprocess.run(self.as_user("ctlsec-a") + ["unshare", "-Ur", "true"],
                          capture_output=True).returncode != 0:
            skip(self, "unprivileged user namespaces are not available here")
        self.configure(sections=self.root_section())
        rootst = self.root_target()
        self.start_daemon()
        self.open_socket()
        self.assertTrue(self.wait_listed(rootst.pid), self.read_log())
        # root itself is served (the refusal below is not an accident)
        res = self.ctl("snapshot", rootst.pid, "--format", "collapsed")
        self.assertEqual(res.returncode, 0, res.stderr)
        uid = self.uids["ctlsec-a"]
        wrap = ["unshare", "-Ur"]
        for cmd in (["dump", rootst.pid], ["snapshot", rootst.pid, "--format", "collapsed"],
                    ["remove", rootst.pid]):
            res = self.ctl_as("ctlsec-a", *cmd, wrap=wrap)
            self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
            self.assertEqual(res.stderr, "loupe: permission denied: process %d runs as user 0, "
                             "you are user %d\n" % (rootst.pid, uid))
        for cmd in ("stop", "reload"):
            res = self.ctl_as("ctlsec-a", cmd, wrap=wrap)
            self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
            self.assertEqual(res.stderr, "loupe: permission denied: only root may %s the daemon\n" % cmd)
        res = self.ctl_as("ctlsec-a", "status", wrap=wrap)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotRegex(res.stdout, r"(?m)^ *%d  " % rootst.pid)
        self.assertIsNone(self.daemon.poll(), "the daemon stopped")
        self.assertTrue(self.listed(rootst.pid))

    SETUID_CLIENT = textwrap.dedent("""\
        import os, socket, struct, sys, time
        sock_path, out_path = sys.argv[1], sys.argv[2]
        reqs = [a.split(",") for a in sys.argv[3:]]
        s = [socket.socket(socket.AF_UNIX) for _ in reqs]
        for c in s:
            c.connect(sock_path)          # as the user
        r, w = os.pipe()
        parent = os.getpid()
        if os.fork() == 0:
            os.close(r)
            # wait until the parent is su, set-user-ID root
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with open("/proc/%d/status" % parent) as f:
                    st = f.read()
                if st.startswith("Name:\\tsu\\n") and "\\nUid:\\t%d\\t0\\t" % os.getuid() in st:
                    break
                time.sleep(0.01)
            out = []
            for c, argv in zip(s, reqs):
                body = b"".join(a.encode() + b"\\0" for a in argv)
                c.sendall(b"LPCT" + bytes([1, 1, 0, 0]) + struct.pack(">I", len(body)) + body)
                buf = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                out.append("%s: %d %r" % (argv[0], buf[5] if len(buf) > 5 else -1, buf[16:]))
            with open(out_path, "w") as f:
                f.write("\\n".join(out) + "\\n")
            os.close(w)                     # su reads EOF and gives up
            os._exit(0)
        os.close(w)
        os.dup2(r, 0)
        os.execv("/usr/bin/su", ["su", "root", "-c", "true"])
        """)

    def test_setuid_exec_after_connect_is_the_user(self):
        if not self.python:
            skip(self, "no /usr/bin/python3 for the user's client")
        su = "/usr/bin/su"
        if not os.path.exists(su) or not os.stat(su).st_mode & stat.S_ISUID:
            skip(self, "no set-user-ID /usr/bin/su to exec")
        self.configure(sections=self.root_section())
        rootst = self.root_target()
        self.start_daemon()
        self.open_socket()
        self.assertTrue(self.wait_listed(rootst.pid), self.read_log())
        script = os.path.join(self.tmp, "client.py")
        with open(script, "w") as f:
            f.write(self.SETUID_CLIENT)
        out = os.path.join(self.tmp, "client.out")
        open(out, "w").close()
        os.chown(out, self.uids["ctlsec-a"], -1)
        res = subprocess.run(self.as_user("ctlsec-a") + [self.python, script, self.sock, out,
                                                         "dump,%d" % rootst.pid,
                                                         "snapshot,%d,--format,collapsed" % rootst.pid,
                                                         "stop"],
                             capture_output=True, text=True, timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and os.path.getsize(out) == 0:
            time.sleep(0.05)
        with open(out) as f:
            got = f.read()
        self.assertIn("Password", res.stdout + res.stderr)  # su ran, and waited
        lines = got.splitlines()
        self.assertEqual(len(lines), 3, got + res.stderr)
        for line in lines[:2]:
            self.assertRegex(line, r"^\w+: 4 b'permission denied: process %d runs as user 0, you are user %d'$"
                             % (rootst.pid, self.uids["ctlsec-a"]))
        self.assertEqual(lines[2], "stop: 4 b'permission denied: only root may stop the daemon'")
        self.assertIsNone(self.daemon.poll(), "the daemon stopped")

    def test_other_users_processes(self):
        self.configure(sections=self.root_section())
        rootst = self.root_target()
        a = self.sleeper("ctlsec-a")
        b = self.sleeper("ctlsec-b")
        self.start_daemon()
        self.open_socket()
        self.assertTrue(self.wait_listed(rootst.pid), self.read_log())
        res = self.ctl_as("ctlsec-a", "add", a.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        res = self.ctl_as("ctlsec-b", "add", b.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        # a sees and snapshots their own
        res = self.ctl_as("ctlsec-a", "snapshot", a.pid, "--format", "collapsed")
        self.assertEqual(res.returncode, 0, res.stderr)
        # b may not touch a's, nor root's
        for pid, owner in ((a.pid, self.uids["ctlsec-a"]), (rootst.pid, 0)):
            for cmd in (["dump", pid], ["snapshot", pid, "--format", "collapsed"], ["remove", pid],
                        ["trace", pid, "-d", "1"]):
                res = self.ctl_as("ctlsec-b", *cmd)
                self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
                self.assertEqual(res.stderr, "loupe: permission denied: process %d runs as user %d, "
                                 "you are user %d\n" % (pid, owner, self.uids["ctlsec-b"]))
        res = self.ctl_as("ctlsec-b", "add", a.pid)
        self.assertEqual(res.returncode, 1)
        # status: each user sees their own target only; root sees all
        res = self.ctl_as("ctlsec-b", "status")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = re.findall(r"(?m)^ *(\d+)  ", res.stdout)
        self.assertEqual(rows, [str(b.pid)], res.stdout)
        self.assertIn("(2 targets of other users not shown)", res.stdout)
        res = self.ctl("status")
        self.assertEqual(sorted(re.findall(r"(?m)^ *(\d+)  ", res.stdout)),
                         sorted(str(p) for p in (a.pid, b.pid, rootst.pid)), res.stdout)

    # -- 5: one user cannot starve everyone --------------------------------

    def test_users_cannot_crowd_out_roots_target(self):
        self.configure(extra="max_targets = 8\n", sections=self.root_section())
        self.start_daemon()
        self.open_socket()
        res = self.ctl_as("ctlsec-a", "add", "--match", "exe=sleep", "name=ctlsec-mine")
        self.assertEqual(res.returncode, 0, res.stderr)
        mine = [self.sleeper("ctlsec-a", "%s2" % self.tag) for _ in range(8)]
        # the user's 8 fill max_targets = 8 (their quota is 8 too)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            res = self.ctl_as("ctlsec-a", "status")
            if len(re.findall(r"(?m)^ *\d+  ctlsec-mine ", res.stdout)) == 8:
                break
            time.sleep(0.2)
        self.assertEqual(len(re.findall(r"(?m)^ *\d+  ctlsec-mine ", res.stdout)), 8,
                         res.stdout + self.read_log())
        # root's configured target still gets a slot, within two scans
        rootst = self.root_target()
        self.assertTrue(self.wait_listed(rootst.pid, 8), self.read_log())
        self.assertRegex(self.read_log(), r"gives its slot to root's target")
        res = self.ctl("status")
        self.assertIn("8 of at most 8 targets", res.stdout)
        self.assertEqual(len(re.findall(r"(?m)^ *\d+  ctlsec-mine ", res.stdout)), 7, res.stdout)
        # and it stays
        time.sleep(3)
        self.assertTrue(self.listed(rootst.pid))
        self.assertTrue(all(p.poll() is None for p in mine))

    def test_per_user_quotas(self):
        self.configure(extra="max_targets_per_user = 3\nmax_sections_per_user = 2\n")
        self.start_daemon()
        self.open_socket()
        for i in range(2):
            res = self.ctl_as("ctlsec-a", "add", "--match", "exe=sleep", "cmdline=%s%d" % (self.tag, i + 3))
            self.assertEqual(res.returncode, 0, res.stderr)
        res = self.ctl_as("ctlsec-a", "add", "--match", "exe=sleep", "cmdline=%s5" % self.tag)
        self.assertEqual(res.returncode, 1)
        self.assertEqual(res.stderr, "loupe: you already have max_sections_per_user = 2 sections "
                         "added by ctl: remove one (loupe ctl remove NAME)\n")
        # another user's room, and root's, are their own
        res = self.ctl_as("ctlsec-b", "add", "--match", "exe=sleep", "cmdline=%s6" % self.tag)
        self.assertEqual(res.returncode, 0, res.stderr)
        res = self.ctl("add", "--match", "exe=sleep", "cmdline=%s7" % self.tag, "name=ctlsec-root")
        self.assertEqual(res.returncode, 0, res.stderr)
        # 5 sleeps of the user's: 3 profiled
        for _ in range(5):
            self.sleeper("ctlsec-a", "%s3" % self.tag)
        deadline = time.monotonic() + 8
        n = 0
        while time.monotonic() < deadline:
            res = self.ctl_as("ctlsec-a", "status")
            n = len(re.findall(r"(?m)^ *\d+  ctl-", res.stdout))
            if n >= 3:
                break
            time.sleep(0.2)
        time.sleep(2.5)  # more than a scan: no fourth comes
        res = self.ctl_as("ctlsec-a", "status")
        self.assertEqual(len(re.findall(r"(?m)^ *\d+  ctl-", res.stdout)), 3, res.stdout)
        extra = self.sleeper("ctlsec-a")
        res = self.ctl_as("ctlsec-a", "add", extra.pid)
        self.assertEqual(res.returncode, 1)
        self.assertIn("max_targets_per_user = 3", res.stderr)
        # root's own ctl add is not counted against anyone
        res = self.ctl("add", extra.pid)
        self.assertEqual(res.returncode, 0, res.stderr)

    def test_users_sections_leave_root_room(self):
        # defaults: a user adds sections until refused, root still adds
        self.configure()
        self.start_daemon()
        self.open_socket()
        added = 0
        for i in range(70):
            res = self.ctl_as("ctlsec-a", "add", "--match", "exe=sleep", "cmdline=%s-%d" % (self.tag, i))
            if res.returncode != 0:
                self.assertIn("max_sections_per_user = 4", res.stderr)
                break
            added += 1
        self.assertEqual(added, 4)
        res = self.ctl("add", "--match", "exe=sleep", "cmdline=%s-root" % self.tag)
        self.assertEqual(res.returncode, 0, res.stderr)

    # -- connections --------------------------------------------------------

    SILENT = textwrap.dedent("""\
        import select, socket, sys, time
        path, n = sys.argv[1], int(sys.argv[2])
        held = []
        for _ in range(n):
            c = socket.socket(socket.AF_UNIX)
            c.connect(path)
            held.append(c)
        # the refused ones are answered "busy" and closed: wait for them
        # (a deadline, not a sleep), the others stay silent
        busy, deadline = set(), time.monotonic() + 4
        while time.monotonic() < deadline and len(busy) < n - 4:
            ready, _, _ = select.select([c for c in held if c not in busy], [], [], 0.1)
            for c in ready:
                buf = c.recv(4096)
                if buf[:4] == b"LPCT" and buf[5] == 4 and b"busy" in buf:
                    busy.add(c)
        print("ready %d busy" % len(busy), flush=True)
        time.sleep(120)
        """)

    def test_silent_connections_do_not_lock_others_out(self):
        self.configure()
        self.start_daemon()
        self.open_socket()
        if not self.python:
            skip(self, "no /usr/bin/python3 for the user's client")
        script = os.path.join(self.tmp, "silent.py")
        with open(script, "w") as f:
            f.write(self.SILENT)
        silent = subprocess.Popen(self.as_user("ctlsec-a") + [self.python, script, self.sock, "16"],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (silent.kill(), silent.wait()))
        # the user holds 4 connections; the 12 others were told "busy"
        self.assertEqual(silent.stdout.readline(), "ready 12 busy\n")
        # the same user's next client: a one-line busy reply, no EPIPE
        res = self.ctl_as("ctlsec-a", "status")
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertEqual(res.stderr, "loupe: busy: your user has as many connections to the daemon "
                         "as it may have: let one finish\n")
        # root and another user are served meanwhile
        for _ in range(20):
            res = self.ctl("status")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("loupe daemon:", res.stdout)
        res = self.ctl_as("ctlsec-b", "status")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIsNone(silent.poll())

    # -- the socket's mode and group ---------------------------------------

    def test_socket_mode_and_group(self):
        self.configure()
        self.start_daemon()
        st = os.stat(self.sock)
        try:
            g = grp.getgrnam("loupe")
        except KeyError:
            g = None
        if g:
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o660, 0, g.gr_gid))
        else:
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid), (0o600, 0))
            res = self.ctl_as("ctlsec-a", "status")
            self.assertEqual(res.returncode, 1)
            self.assertIn("permission denied", res.stderr)
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=20), 0, self.read_log())
        # socket_group: the user's own group, 0660 by default then
        self.configure(extra="socket_group = ctlsec-b\n")
        self.start_daemon()
        st = os.stat(self.sock)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid),
                         (0o660, 0, grp.getgrnam("ctlsec-b").gr_gid))
        self.assertEqual(self.ctl_as("ctlsec-b", "status").returncode, 0)
        res = self.ctl_as("ctlsec-a", "status")
        self.assertEqual(res.returncode, 1)
        self.assertIn("permission denied", res.stderr)
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=20), 0, self.read_log())
        self.configure(extra="socket_group = ctlsec-b\nsocket_mode = 0640\n")
        self.start_daemon()
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o640)
        self.daemon.terminate()
        self.daemon.wait(timeout=20)
        self.configure(extra="socket_group = ctlsec-nosuchgroup\n")
        res = run_loupe("daemon", "--config", self.conf, timeout=30)
        self.assertEqual(res.returncode, 1)
        self.assertIn("socket_group ctlsec-nosuchgroup: no such group", res.stderr)

    def test_socket_group_under_the_units_capabilities(self):
        """The daemon as tools/loupe.service runs it (root with only the
        unit's capabilities) can give the socket its group."""
        unit = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                            "tools", "loupe.service.in")
        with open(unit) as f:
            caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", f.read()).group(1).split()
        bounding = "-all," + ",".join("+" + c.lower()[len("cap_"):] for c in caps)
        self.configure(extra="socket_group = ctlsec-b\n")
        self.log = open(os.path.join(self.tmp, "daemon.log"), "w+")
        d = subprocess.Popen(["setpriv", "--bounding-set", bounding, "--inh-caps", "-all",
                              LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=self.log)
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(self.sock) and d.poll() is None:
            time.sleep(0.05)
        self.assertIsNone(d.poll(), self.read_log())
        st = os.stat(self.sock)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid),
                         (0o660, grp.getgrnam("ctlsec-b").gr_gid))
        self.assertEqual(self.ctl_as("ctlsec-b", "status").returncode, 0)
        d.terminate()
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())


if __name__ == "__main__":
    unittest.main()
