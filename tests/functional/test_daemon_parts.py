"""The parts of 'loupe daemon' that stand on their own (issue #9), on real
processes and sockets:

- 'loupe ctl' against a ctl server built from the daemon's own server code
  with fake answers (tests/unit/daemon_fakes.c): replies, errors, files,
  no daemon; random, truncated and oversized bytes on the socket get error
  replies and the server goes on serving; the SO_PEERCRED rule refuses
  another user's process to an unprivileged user (run through setpriv)
  and serves their own.
- The HTTP endpoint (libmicrohttpd) with fake callbacks: /metrics parses
  as Prometheus text, bad paths 404, bad parameters 400, and
  'go tool pprof -top' names the hot function of /debug/pprof/profile.
- 'loupe report DIR/NAME-PID [--since S]' merging daemon windows made by
  'loupe record' on a Python target, and 'loupe diff' of two windows.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon_parts.py -v
"""
import gzip
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import BUILD, LOUPE, Target, run_loupe, script_path
from test_top import find_python

FAKES = os.path.join(BUILD, "tests", "unit", "daemon_fakes")
NOBODY = 65534


from harness import skip  # noqa: E402


def frame(kind, body):
    return b"LPCT" + bytes([1, kind, 0, 0]) + struct.pack(">I", len(body)) + body


def read_reply(sock, timeout=10):
    """(type, status, payload) of one reply frame, or None at EOF."""
    sock.settimeout(timeout)
    buf = b""
    while True:
        if len(buf) >= 12:
            n = struct.unpack(">I", buf[8:12])[0]
            if len(buf) >= 12 + n:
                body = buf[12:12 + n]
                return buf[5], struct.unpack(">I", body[:4])[0], body[4:]
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk


class CtlClient(unittest.TestCase):

    def setUp(self):
        if not os.access(FAKES, os.X_OK):
            self.fail("tests/unit/daemon_fakes not built at " + FAKES)
        self.tmp = tempfile.mkdtemp(prefix="loupe-ctl-")
        os.chmod(self.tmp, 0o755)  # the unprivileged test reaches the socket
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.sock = os.path.join(self.tmp, "run", "loupe.sock")
        self.server = Target([FAKES, "ctl", self.sock])
        self.addCleanup(self.server.kill)

    def ctl(self, *args, **kw):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60, **kw)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        self.addCleanup(s.close)
        return s

    def test_replies(self):
        res = self.ctl("echo", "hello", "two words")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "hello two words\n")
        res = self.ctl("nonesuch", "x")
        self.assertEqual(res.returncode, 2)
        self.assertEqual(res.stdout, "")
        self.assertEqual(res.stderr, "loupe: unknown command 'nonesuch' (try echo, file, may, stop)\n")
        res = run_loupe("ctl", "-s", self.sock, "echo", "short", "option")
        self.assertEqual(res.stdout, "short option\n")

    def test_file_reply_to_output(self):
        out = os.path.join(self.tmp, "snap.svg")
        # the client tells the daemon the format from -o's extension
        res = self.ctl("file", "1234", "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "")
        with open(out) as f:
            self.assertEqual(f.read(), "1234 --format flamegraph")
        res = self.ctl("file", "1", "-o", os.path.join(self.tmp, "x.nonesuch"))
        self.assertEqual(res.returncode, 2)
        self.assertIn("cannot tell the format", res.stderr)

    def test_usage_and_no_daemon(self):
        res = run_loupe("ctl", "--socket", os.path.join(self.tmp, "none.sock"), "status")
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stderr, r"^loupe: no daemon listening on \S+none.sock: .*\n$")
        res = run_loupe("ctl", "--socket", self.sock)
        self.assertEqual(res.returncode, 2)
        self.assertIn("no command", res.stderr)
        res = run_loupe("ctl", "--bogus", "status")
        self.assertEqual(res.returncode, 2)
        res = run_loupe("ctl", "--help")
        self.assertEqual(res.returncode, 0)
        self.assertIn("--socket PATH", res.stdout)

    def test_bad_bytes_get_error_replies(self):
        rnd = random.Random(9)
        # random bytes
        for _ in range(20):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(self.sock)
                try:
                    s.sendall(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused from the first bytes, before the rest
                r = read_reply(s)
            self.assertIsNotNone(r, "no reply to random bytes")
            self.assertEqual(r[0], 4)  # CTL_REPLY_ERROR
            self.assertEqual(r[1], 2)
        # a request cut off: the header promises more than comes
        s = self.connect()
        s.sendall(frame(1, b"status\0")[:10])
        s.shutdown(socket.SHUT_WR)
        r = read_reply(s)
        self.assertEqual(r[0], 4)
        self.assertIn(b"truncated", r[2])
        # oversized: refused from its header, before the body is sent
        s = self.connect()
        s.sendall(b"LPCT\x01\x01\x00\x00" + struct.pack(">I", 100 << 20))
        r = read_reply(s)
        self.assertIn(b"over the limit", r[2])
        # not NUL-terminated, and an empty command
        for body in (b"status", b"\0x\0"):
            s = self.connect()
            s.sendall(frame(1, body))
            r = read_reply(s)
            self.assertEqual(r[0], 4, body)
        # a client that says nothing holds no one up
        silent = self.connect()
        silent.sendall(b"LP")
        t0 = time.monotonic()
        res = self.ctl("echo", "still", "here")
        self.assertEqual(res.stdout, "still here\n")
        self.assertLess(time.monotonic() - t0, 3)
        # and is answered at its deadline (5 s)
        r = read_reply(silent, timeout=15)
        self.assertIn(b"timed out", r[2])
        self.assertIsNone(self.server.proc.poll(), "the server died")

    def test_unprivileged_user(self):
        if os.getuid() != 0:
            skip(self, "needs root to run a client as another user")
        if shutil.which("setpriv") is None:
            skip(self, "setpriv not installed (apt-get install util-linux)")
        as_nobody = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                     "--clear-groups"]
        own = subprocess.Popen(as_nobody + ["sleep", "60"])
        self.addCleanup(own.wait)
        self.addCleanup(own.kill)
        # wait until it runs as nobody (setpriv has exec'd sleep)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open("/proc/%d/status" % own.pid) as f:
                if re.search(r"(?m)^Uid:\s+%d\s" % NOBODY, f.read()):
                    break
            time.sleep(0.02)
        # the build may sit where nobody cannot reach (/root): a copy
        loupe = os.path.join(self.tmp, "loupe")
        shutil.copy(LOUPE, loupe)
        os.chmod(loupe, 0o755)
        root_owned = self.server.pid
        res = subprocess.run(as_nobody + [loupe, "ctl", "-s", self.sock, "may", str(root_owned)],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertEqual(res.stderr, "loupe: permission denied: process %d runs as user 0, "
                         "you are user %d\n" % (root_owned, NOBODY))
        res = subprocess.run(as_nobody + [loupe, "ctl", "-s", self.sock, "may", str(own.pid)],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "allowed: uid %d may act on %d\n" % (NOBODY, own.pid))
        # root may act on both
        self.assertEqual(self.ctl("may", str(own.pid)).returncode, 0)
        self.assertEqual(self.ctl("may", str(root_owned)).returncode, 0)

    def test_stop(self):
        res = self.ctl("stop")
        self.assertEqual(res.stdout, "stopping\n")
        self.assertEqual(self.server.proc.wait(timeout=10), 0)
        self.assertFalse(os.path.exists(self.sock), "the socket was not removed")


PROM_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? '
                         r'[-+]?[0-9.eE+-]+$')


class Http(unittest.TestCase):

    def setUp(self):
        if not os.access(FAKES, os.X_OK):
            self.fail("tests/unit/daemon_fakes not built at " + FAKES)
        # the endpoint needs a bearer token from a file only its owner reads
        tmp = tempfile.mkdtemp(prefix="loupe-http-")
        self.addCleanup(shutil.rmtree, tmp, True)
        self.token = "parts-%s" % os.urandom(12).hex()
        token_file = os.path.join(tmp, "token")
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.token + "\n")
        self.server = Target([FAKES, "http", "127.0.0.1:0", token_file])
        self.addCleanup(self.server.kill)
        port = [l for l in self.server.lines if l.startswith("port ")][0].split()[1]
        self.base = "http://127.0.0.1:%s" % port

    def get(self, path, method="GET"):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers.get("Content-Type"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read()

    def test_metrics_is_prometheus_text(self):
        code, ctype, body = self.get("/metrics")
        self.assertEqual(code, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
        lines = body.decode().splitlines()
        self.assertTrue(lines)
        for line in lines:
            if line.startswith("# HELP ") or line.startswith("# TYPE "):
                continue
            self.assertRegex(line, PROM_SAMPLE)

    def test_errors(self):
        for path, want in (("/", 404), ("/debug/pprof/heap", 404), ("/metrics/x", 404),
                           ("/debug/pprof/profile", 400),
                           ("/debug/pprof/profile?pid=x", 400),
                           ("/debug/pprof/profile?pid=1&seconds=0", 400),
                           ("/debug/pprof/profile?pid=1&seconds=abc", 400),
                           ("/debug/pprof/profile?pid=1&seconds=99999", 400),
                           ("/debug/pprof/profile?pid=404&seconds=0.1", 404),
                           ("/debug/pprof/profile?pid=403&seconds=0.1", 403)):
            code, _, body = self.get(path)
            self.assertEqual(code, want, "%s: %s" % (path, body))
            self.assertTrue(body.strip(), path)
        self.assertEqual(self.get("/metrics", method="POST")[0], 405)

    def test_profile_while_metrics_answer(self):
        got = {}

        def fetch():
            got["profile"] = self.get("/debug/pprof/profile?seconds=2&pid=77")
        t = threading.Thread(target=fetch)
        t0 = time.monotonic()
        t.start()
        time.sleep(0.2)
        self.assertEqual(self.get("/metrics")[0], 200)
        self.assertLess(time.monotonic() - t0, 1.5, "/metrics waited for the profile")
        t.join(30)
        code, ctype, body = got["profile"]
        self.assertEqual(code, 200)
        self.assertEqual(ctype, "application/octet-stream")
        self.assertGreaterEqual(time.monotonic() - t0, 2)
        self.assertIn(b"hot_function", gzip.decompress(body))

    def test_go_tool_pprof(self):
        if shutil.which("go") is None:
            skip(self, "go not installed (apt-get install golang-go)")
        tmp = tempfile.mkdtemp(prefix="loupe-pprof-")
        self.addCleanup(shutil.rmtree, tmp, True)
        # go tool pprof sends no Authorization header: fetched with the
        # token, then read from the file
        code, _, body = self.get("/debug/pprof/profile?seconds=1&pid=77")
        self.assertEqual(code, 200, body)
        prof = os.path.join(tmp, "profile.pb.gz")
        with open(prof, "wb") as f:
            f.write(body)
        res = subprocess.run(["go", "tool", "pprof", "-top", prof],
                             capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, PPROF_TMPDIR=tmp, HOME=tmp))
        self.assertEqual(res.returncode, 0, res.stderr)
        top = [l for l in res.stdout.splitlines() if l.strip().endswith("hot_function")]
        self.assertTrue(top, res.stdout)
        self.assertIn("75.00%", top[0])


def summary_samples(text):
    m = re.search(r"wall samples (\d+), CPU samples (\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


class ReportWindows(unittest.TestCase):
    """Two windows of one process, placed as the daemon names them."""

    @classmethod
    def setUpClass(cls):
        cls.py = find_python()
        cls.tmp = tempfile.mkdtemp(prefix="loupe-windows-")
        if not cls.py:
            return
        target = Target([cls.py, script_path("split.py")])
        try:
            cls.files = []
            for i in range(2):
                path = os.path.join(cls.tmp, "w%d.loupe" % i)
                res = run_loupe("record", "-p", target.pid, "-d", "1", "-r", "200",
                                "--mode", "wall", "-q", "-o", path)
                assert res.returncode == 0, res.stderr
                cls.files.append(path)
            cls.pid = target.pid
        finally:
            target.kill()
        cls.samples = [summary_samples(run_loupe("report", f).stdout) for f in cls.files]
        # windows of "split-PID": one that started 1 h ago, one that ended
        # a minute ago
        cls.dir = os.path.join(cls.tmp, "store", "split-%d" % cls.pid)
        os.makedirs(cls.dir)
        now = time.time()
        cls.windows = []
        for f, start in zip(cls.files, (now - 3600, now - 120)):
            name = time.strftime("%Y%m%dT%H%M%SZ.loupe", time.gmtime(start))
            dst = os.path.join(cls.dir, name)
            shutil.copy(f, dst)
            os.utime(dst, (start + 60, start + 60))  # closed a window later
            cls.windows.append(dst)
        # the raw writer's temporary and a stray file are not windows
        for stray in (cls.windows[1] + ".tmp.99", os.path.join(cls.dir, "notes.txt")):
            with open(stray, "w") as f:
                f.write("not a recording")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def setUp(self):
        if not self.py:
            skip(self, "no CPython found (/usr/bin/python3.11 or pyenv)")

    def test_merges_every_window(self):
        res = run_loupe("report", self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        wall, cpu = summary_samples(res.stdout)
        self.assertEqual(wall, self.samples[0][0] + self.samples[1][0])
        self.assertEqual(cpu, self.samples[0][1] + self.samples[1][1])
        self.assertIn("hot_three", res.stdout)

    def test_since_takes_the_recent_ones(self):
        res = run_loupe("report", self.dir, "--since", "10m")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(summary_samples(res.stdout), self.samples[1])
        res = run_loupe("report", self.dir, "--since", "2h", "-o",
                        os.path.join(self.tmp, "merged.txt"))
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(os.path.join(self.tmp, "merged.txt")) as f:
            total = sum(int(l.rsplit(" ", 1)[1]) for l in f if l.strip())
        self.assertEqual(total, self.samples[0][0] + self.samples[1][0])

    def test_empty_range_and_bad_use(self):
        res = run_loupe("report", self.dir, "--since", "5s")
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stderr, r"^loupe: \S+ holds no window that ended in that time .*\n$")
        res = run_loupe("report", self.windows[0], "--since", "10m")
        self.assertEqual(res.returncode, 2)
        self.assertIn("--since takes a directory", res.stderr)
        res = run_loupe("report", self.dir, "--since", "soon")
        self.assertEqual(res.returncode, 2)
        self.assertIn("invalid --since 'soon'", res.stderr)

    def test_window_files_read_unchanged(self):
        res = run_loupe("report", self.windows[1])
        self.assertEqual(summary_samples(res.stdout), self.samples[1])
        res = run_loupe("diff", self.windows[0], self.windows[1], "--threshold", "100")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("hot_three", res.stdout)


if __name__ == "__main__":
    unittest.main()
