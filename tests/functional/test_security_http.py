"""The daemon's HTTP endpoint as an attacker and an SRE meet it (issue 17,
points 3 and 4), against the real `loupe daemon`, as root and as a user
made with useradd:

- no token, a wrong token: 401 with WWW-Authenticate: Bearer; the right
  token: /metrics and the profile of a target of the configuration file;
  a process added over the control socket (by a user or by root) is not
  served, nor listed in /metrics.
- the token file must be root's, mode 0600, a regular file: the daemon
  refuses to start otherwise, with one line; without a token only a Unix
  socket or loopback with http_open's acknowledgement start.
- TLS with http_tls_cert / http_tls_key.
- slow clients (a header line every 2 s) and abandoned seconds=60 requests
  do not keep /metrics from answering within 1 s, and the abandoned
  requests' connections are closed at once, not after 60 s; 1000 /metrics
  from 50 threads without a reset.
"""
import gzip
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import BUILD, LOUPE, Target, script_path, target_path
from test_top import find_python

USER = "httpsec%d" % (os.getpid() % 100000)


from harness import skip  # noqa: E402


def write_secret(path, text, mode=0o600):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
        f.write(text)
    os.chmod(path, mode)


def get(port, path, token=None, scheme=None, timeout=10, host="127.0.0.1", ctx=None):
    """(status, headers, body) of GET path."""
    if ctx:
        c = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    else:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = {}
    if token is not None:
        headers["Authorization"] = "%s %s" % (scheme or "Bearer", token)
    try:
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        return r.status, r, r.read()
    finally:
        c.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def daemon_sockets(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def daemon_threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


class HttpSecurity(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.uid = None
        if os.getuid() != 0 or not shutil.which("useradd"):
            return
        subprocess.run(["userdel", USER], capture_output=True)
        res = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
                             capture_output=True, text=True)
        if res.returncode == 0:
            cls.uid = int(subprocess.check_output(["id", "-u", USER]))

    @classmethod
    def tearDownClass(cls):
        if cls.uid is not None:
            subprocess.run(["userdel", USER], capture_output=True)

    def setUp(self):
        if os.getuid() != 0:
            skip(self, "the daemon runs as root (it reads other processes)")
        if self.uid is None:
            skip(self, "useradd missing or failed (apt-get install passwd)")
        if not shutil.which("setpriv"):
            skip(self, "setpriv missing (apt-get install util-linux)")
        self.tmp = tempfile.mkdtemp(prefix="loupe-httpsec-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.as_user = ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.uid,
                        "--clear-groups"]
        self.sock = os.path.join(self.tmp, "loupe.sock")
        self.token = "httpsec-%s" % os.urandom(16).hex()
        self.token_file = os.path.join(self.tmp, "token")
        write_secret(self.token_file, self.token + "\n")
        # the configuration's target: root's Python spinner (the daemon
        # samples Python; native-only targets get no samples in the daemon
        # today, with or without this change)
        py = find_python()
        if not py:
            skip(self, "no CPython found (/usr/bin/python3.11 or pyenv)")
        self.cfg_target = Target([py, script_path("split.py")])
        self.addCleanup(self.cfg_target.kill)
        self.daemon = None

    def conf(self, http_lines, path=None):
        path = path or os.path.join(self.tmp, "loupe.conf")
        with open(path, "w") as f:
            f.write("dir = %s\nwindow = 2s\nsocket = %s\nsocket_mode = 0666\nmax_cpu = 50\n%s\n"
                    "[target cfgsvc]\npid = %d\nrate = 49\n"
                    % (os.path.join(self.tmp, "store"), self.sock, http_lines,
                       self.cfg_target.pid))
        return path

    def start(self, http_lines):
        """Starts the daemon; its HTTP port (0 on a Unix socket)."""
        conf = self.conf(http_lines)
        self.log = os.path.join(self.tmp, "daemon.log")
        log = open(self.log, "w")
        d = subprocess.Popen([LOUPE, "daemon", "--config", conf],
                             stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        self.daemon = d
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = self.read_log()
            m = re.search(r"HTTP on port (\d+)", text)
            if m:
                return int(m.group(1))
            self.assertIsNone(d.poll(), text)
            time.sleep(0.05)
        self.fail("the daemon did not start: " + self.read_log())

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def refused(self, http_lines, want):
        """The daemon refuses to start, with one line containing want."""
        conf = self.conf(http_lines, os.path.join(self.tmp, "refused.conf"))
        res = subprocess.run([LOUPE, "daemon", "--config", conf], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(res.returncode, 1, "%s: started (%s)" % (http_lines, res.stderr))
        self.assertEqual(len(res.stderr.splitlines()), 1, res.stderr)
        self.assertRegex(res.stderr, r"^loupe: ")
        self.assertIn(want, res.stderr)

    def ctl(self, *args, user=False):
        return subprocess.run((self.as_user if user else []) + [self.loupe_copy(), "ctl", "-s", self.sock]
                              + list(args), capture_output=True, text=True, timeout=60)

    def loupe_copy(self):
        path = os.path.join(self.tmp, "loupe")
        if not os.path.exists(path):
            shutil.copy(LOUPE, path)
            os.chmod(path, 0o755)
        return path

    def wait_listed(self, pid, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            res = self.ctl("status")
            if re.search(r"(?m)^ *%d  " % pid, res.stdout):
                return True
            time.sleep(0.1)
        return False

    def curl_as_user(self, url, token=None):
        """(status, body) of url fetched by curl as the useradd user."""
        if not shutil.which("curl"):
            return None
        cmd = self.as_user + ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20", url]
        if token is not None:
            cmd += ["-H", "Authorization: Bearer " + token]
        res = subprocess.run(cmd, capture_output=True, timeout=60)
        body, _, code = res.stdout.rpartition(b"\n")
        return int(code or 0), body

    # -- who may ask --------------------------------------------------------

    def test_token_required_and_only_config_targets_served(self):
        port = self.start("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.token_file)
        self.assertTrue(self.wait_listed(self.cfg_target.pid), self.read_log())
        # a user's own process added over the socket, and one root added
        own = os.path.join(self.tmp, "split_fp")
        shutil.copy(target_path("split_fp"), own)
        os.chmod(own, 0o755)
        mine = Target(self.as_user + [own])
        self.addCleanup(mine.kill)
        rootadd = Target([target_path("split_fp")])
        self.addCleanup(rootadd.kill)
        res = self.ctl("add", str(mine.pid), user=True)
        if res.returncode != 0:
            sys.stderr.write("SKIP %s (user's ctl add): %s" % (self.id(), res.stderr))
            added = [rootadd.pid]
        else:
            added = [rootadd.pid, mine.pid]
        res = self.ctl("add", str(rootadd.pid))
        self.assertEqual(res.returncode, 0, res.stderr)
        for pid in added:
            self.assertTrue(self.wait_listed(pid), self.read_log())
        prof = "/debug/pprof/profile?seconds=1&pid=%d"
        # as root, with http.client
        for path in ("/metrics", prof % self.cfg_target.pid):
            code, r, body = get(port, path)
            self.assertEqual(code, 401, body)
            self.assertTrue(r.getheader("WWW-Authenticate", "").startswith("Bearer"), r.getheaders())
            for bad in ("wrong-token-0123456789", self.token[:-1], self.token + "x", ""):
                self.assertEqual(get(port, path, bad)[0], 401, bad)
            self.assertEqual(get(port, path, self.token, scheme="Basic")[0], 401)
        code, _, body = get(port, "/metrics", self.token)
        self.assertEqual(code, 200, body)
        text = body.decode()
        self.assertRegex(text, r'loupe_samples_total\{pid="%d",target="cfgsvc"\}' % self.cfg_target.pid)
        for pid in added:
            self.assertNotIn('pid="%d"' % pid, text)
        self.assertRegex(text, r"(?m)^loupe_targets 1$")
        # 3 s: over a window (2 s), so that one ended in the period
        code, r, body = get(port, "/debug/pprof/profile?seconds=3&pid=%d" % self.cfg_target.pid,
                            self.token, timeout=60)
        self.assertEqual(code, 200, body)
        self.assertIn(b"hot_three", gzip.decompress(body))
        for pid in added:
            code, _, body = get(port, prof % pid, self.token, timeout=60)
            self.assertEqual(code, 404, "PID %d added over ctl was served: %s" % (pid, body[:200]))
        # as the user, with curl
        got = self.curl_as_user("http://127.0.0.1:%d/debug/pprof/profile?seconds=1&pid=%d"
                                % (port, self.cfg_target.pid))
        if got is None:
            sys.stderr.write("SKIP %s (as the user): curl missing\n" % self.id())
            return
        self.assertEqual(got[0], 401, got)
        self.assertEqual(self.curl_as_user("http://127.0.0.1:%d/metrics" % port, "nope-0123456789abcdef")[0], 401)
        code, body = self.curl_as_user("http://127.0.0.1:%d/metrics" % port, self.token)
        self.assertEqual(code, 200, body)
        if mine.pid in added:
            code, body = self.curl_as_user("http://127.0.0.1:%d/debug/pprof/profile?seconds=1&pid=%d"
                                           % (port, mine.pid), self.token)
            self.assertEqual(code, 404, body)

    def test_bad_token_files_refused(self):
        os.chmod(self.token_file, 0o644)
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.token_file, "mode 0644")
        os.chmod(self.token_file, 0o640)
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.token_file, "mode 0640")
        os.chmod(self.token_file, 0o600)
        os.chown(self.token_file, self.uid, self.uid)
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.token_file,
                     "owned by uid %d" % self.uid)
        os.chown(self.token_file, 0, 0)
        link = os.path.join(self.tmp, "token-link")
        os.symlink(self.token_file, link)
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\n" % link, "symbolic link")
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.tmp, "not a regular file")
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s/none\n" % self.tmp, "No such file")
        short = os.path.join(self.tmp, "short")
        write_secret(short, "abc\n")
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\n" % short, "at least 16")
        # no token: refused unless said out loud, and only on loopback
        self.refused("http = 127.0.0.1:0\n", "needs http_token_file")
        self.refused("http = 0.0.0.0:0\nhttp_open = yes-any-local-user-may-read-all-profiles\n",
                     "not a loopback address")
        self.refused("http = 127.0.0.1:0\nhttp_open = yes\n", "http_open is")
        self.refused("http = 127.0.0.1:0\nhttp_token_file = %s\nhttp_tls_cert = %s\n"
                     % (self.token_file, self.token_file), "go together")

    def test_open_only_when_explicit(self):
        # loopback, acknowledged: no token needed
        port = self.start("http = 127.0.0.1:0\nhttp_open = yes-any-local-user-may-read-all-profiles\n")
        self.assertEqual(get(port, "/metrics")[0], 200)
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(20), 0)
        # a Unix socket of mode 0600: root gets in without a token, the
        # user does not get in at all
        path = os.path.join(self.tmp, "http.sock")
        self.start("http = unix:%s\n" % path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        c = UnixHTTPConnection(path)
        c.request("GET", "/metrics")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn(b'target="cfgsvc"', r.read())
        c.close()
        if shutil.which("curl"):
            res = subprocess.run(self.as_user + ["curl", "-s", "--unix-socket", path,
                                                 "http://localhost/metrics"],
                                 capture_output=True, timeout=30)
            self.assertNotEqual(res.returncode, 0)
            self.assertNotIn(b"loupe_", res.stdout)
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(20), 0)
        self.assertFalse(os.path.exists(path), "the socket was left behind")

    def test_tls(self):
        if not shutil.which("openssl"):
            skip(self, "openssl missing (apt-get install openssl)")
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        res = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                              "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                              "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        os.chmod(key, 0o644)
        tls = "http = 127.0.0.1:0\nhttp_token_file = %s\nhttp_tls_cert = %s\nhttp_tls_key = %s\n" % (
            self.token_file, cert, key)
        self.refused(tls, "http_tls_key %s has mode 0644" % key)
        os.chmod(key, 0o600)
        port = self.start(tls)
        ctx = ssl.create_default_context(cafile=cert)
        self.assertEqual(get(port, "/metrics", ctx=ctx)[0], 401)
        code, _, body = get(port, "/metrics", self.token, ctx=ctx)
        self.assertEqual(code, 200, body)
        self.assertIn(b'target="cfgsvc"', body)
        # plain HTTP to the TLS port gets no answer
        with self.assertRaises((http.client.HTTPException, OSError)):
            get(port, "/metrics", self.token, timeout=5)

    # -- slow and many clients --------------------------------------------

    def metrics_times(self, port, n):
        times = []
        for _ in range(n):
            t0 = time.monotonic()
            code, _, body = get(port, "/metrics", self.token, timeout=10)
            times.append(time.monotonic() - t0)
            self.assertEqual(code, 200, body)
            time.sleep(0.5)
        return times

    def test_slow_and_abandoned_clients(self):
        port = self.start("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.token_file)
        self.assertTrue(self.wait_listed(self.cfg_target.pid), self.read_log())
        dpid = self.daemon.pid
        base_socks, base_threads = daemon_sockets(dpid), daemon_threads(dpid)
        stop = threading.Event()
        slow = []
        for i in range(10):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        self.addCleanup(lambda: [s.close() for s in slow])

        def trickle():
            while not stop.wait(2):
                for i, s in enumerate(slow):
                    try:
                        s.sendall(b"X-Slow-%d: 1\r\n" % i)
                    except OSError:
                        pass
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        self.addCleanup(stop.set)
        # 8 requests for 60 s whose clients hang up
        req = ("GET /debug/pprof/profile?seconds=60&pid=%d HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer %s\r\n\r\n" % (self.cfg_target.pid, self.token)).encode()
        gone = []
        for _ in range(8):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(req)
            gone.append(s)
        times = self.metrics_times(port, 2)
        t_close = time.monotonic()
        for s in gone:
            s.close()
        # their connections are closed by the daemon at once (not in 60 s)
        deadline = time.monotonic() + 10
        while daemon_sockets(dpid) > base_socks + len(slow) and time.monotonic() < deadline:
            time.sleep(0.05)
        dropped = time.monotonic() - t_close
        self.assertLessEqual(daemon_sockets(dpid), base_socks + len(slow),
                             "abandoned profile requests still hold their connections")
        times += self.metrics_times(port, 6)
        sys.stderr.write("\n%s: /metrics under 10 slow clients and 8 abandoned requests: max %.3f s; "
                         "abandoned requests dropped in %.2f s; threads %d -> %d\n"
                         % (self.id(), max(times), dropped, base_threads, daemon_threads(dpid)))
        self.assertLess(max(times), 1.0, times)
        self.assertLessEqual(daemon_threads(dpid), base_threads + 1, "a thread per request")
        # the slow clients are still connected (the loop did not drop them
        # to make room), and still cost nothing
        self.assertGreaterEqual(daemon_sockets(dpid), base_socks + len(slow) - 1)
        # SIGTERM with a profile request waiting and the slow clients on:
        # the daemon exits 0 at once and the waiting client sees the close
        waiting = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(waiting.close)
        waiting.sendall(req)
        self.assertEqual(get(port, "/metrics", self.token)[0], 200)
        t0 = time.monotonic()
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(30), 0, self.read_log())
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(waiting.recv(100), b"")

    def test_many_clients(self):
        port = self.start("http = 127.0.0.1:0\nhttp_token_file = %s\n" % self.token_file)
        errors, codes = [], []
        lock = threading.Lock()

        def worker():
            for _ in range(20):
                try:
                    code = get(port, "/metrics", self.token, timeout=30)[0]
                    with lock:
                        codes.append(code)
                except Exception as e:  # a reset, a refusal, a timeout
                    with lock:
                        errors.append(repr(e))
        t0 = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        took = time.monotonic() - t0
        sys.stderr.write("\n%s: 1000 /metrics from 50 threads in %.2f s: %d errors, %d not 200\n"
                         % (self.id(), took, len(errors), sum(c != 200 for c in codes)))
        self.assertEqual(errors, [])
        self.assertEqual(codes, [200] * 1000)


class LongRequest(unittest.TestCase):
    """A profile longer than the 10 s inactivity timeout is answered: the
    wait is the server's, not the client's silence (daemon_fakes: the
    real endpoint over fake profiles)."""

    def test_profile_longer_than_the_timeout(self):
        fakes = os.path.join(BUILD, "tests", "unit", "daemon_fakes")
        if not os.access(fakes, os.X_OK):
            self.fail("tests/unit/daemon_fakes not built at " + fakes)
        tmp = tempfile.mkdtemp(prefix="loupe-httpsec-")
        self.addCleanup(shutil.rmtree, tmp, True)
        token = "long-%s" % os.urandom(12).hex()
        write_secret(os.path.join(tmp, "token"), token)
        server = Target([fakes, "http", "127.0.0.1:0", os.path.join(tmp, "token")])
        self.addCleanup(server.kill)
        port = int([l for l in server.lines if l.startswith("port ")][0].split()[1])
        t0 = time.monotonic()
        code, _, body = get(port, "/debug/pprof/profile?seconds=11&pid=77", token, timeout=60)
        self.assertEqual(code, 200, body)
        self.assertGreaterEqual(time.monotonic() - t0, 11)
        self.assertIn(b"hot_function", gzip.decompress(body))


if __name__ == "__main__":
    unittest.main()
