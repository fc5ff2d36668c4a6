"""The daemon's window store against a hostile local user (issue #17,
points 6 and 7), on real processes and a real loupe daemon:

- a store directory handed to an ordinary user (made with useradd; made
  and filled inside unshare -Ur, where the user is root) in which the user
  planted DIR/<target dir> -> a root-owned victim: the daemon
  refuses to start with a one-line error naming the fix, and the victim
  keeps its mode and contents; a group-writable one and a link are refused
  too;
- a sticky shared store (root's, mode 1777) where the user planted the
  link: the daemon starts, refuses that target's directory, logs it, and
  the victim is untouched;
- a link put in place of a target's directory after the daemon made it:
  the next windows are refused, logged and counted (ctl status), nothing
  is written through it,
  retention deletes nothing behind it, the daemon goes on;
- PID reuse: a target that exits and another program given the same PID
  (through /proc/sys/kernel/ns_last_pid) land in two directories, report
  on each shows its own command line and hot function only, ctl snapshot
  of the second has none of the first; an older loupe's NAME-PID directory
  holding both is reported with both command lines and a warning.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_security_store.py -v
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

from harness import LOUPE, Target, run_loupe
from test_top import find_python

WINDOW_RE = re.compile(r"^\d{8}T\d{6}Z\.loupe$")

# A target whose hot function is named for it, so that a profile shows
# which program it was taken of.
PROGRAM = """import sys
def %s():
    x = 0
    for i in range(20000):
        x = (x * 7 + i) %% 1000003
    return x
sys.stdout.write("ready\\n")
sys.stdout.flush()
while True:
    %s()
"""


from harness import skip  # noqa: E402


def start_time(pid):
    """/proc/PID/stat field 22: clock ticks after boot."""
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def snapshot_tree(path):
    """Every entry under path with its mode and contents (files)."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            data = None
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "rb") as f:
                    data = f.read()
            out[os.path.relpath(p, path)] = (st.st_mode, st.st_uid, data)
    out["."] = (os.lstat(path).st_mode, os.lstat(path).st_uid, None)
    return out


class StoreSecurity(unittest.TestCase):

    def setUp(self):
        if os.getuid() != 0:
            skip(self, "the daemon test runs as root (it reads other processes)")
        self.py = find_python()
        if not self.py:
            skip(self, "no CPython found (/usr/bin/python3.11 or pyenv)")
        self.tmp = tempfile.mkdtemp(prefix="loupe-storesec-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)  # the user reaches the store in it
        self.sock = os.path.join(self.tmp, "loupe.sock")
        self.conf = os.path.join(self.tmp, "loupe.conf")
        self.store = os.path.join(self.tmp, "store")
        self.programs = {}
        for name in ("hot_first", "hot_second"):
            path = os.path.join(self.tmp, "reuse_%s.py" % name)
            with open(path, "w") as f:
                f.write(PROGRAM % (name, name))
            self.programs[name] = path
        # the victim: a root-owned directory (as /etc), a file in it
        self.victim = os.path.join(self.tmp, "victim")
        os.mkdir(self.victim)
        os.chmod(self.victim, 0o755)
        with open(os.path.join(self.victim, "secret"), "w") as f:
            f.write("root's\n")
        os.chmod(os.path.join(self.victim, "secret"), 0o600)
        # an old window-named file in it: retention must not delete it
        old = os.path.join(self.victim, "20200101T000000Z.loupe")
        with open(old, "w") as f:
            f.write("not a window of ours\n")
        os.utime(old, (1577836800, 1577836800))
        self.victim_before = snapshot_tree(self.victim)

    def configure(self, store, extra=""):
        with open(self.conf, "w") as f:
            f.write("dir = %s\nwindow = 1s\nsocket = %s\nmax_cpu = 50\n"
                    "retention_age = 1h\n%s\n[target reuse]\nexe = python*\n"
                    "cmdline = %s/reuse_\nrate = 49\n"
                    % (store, self.sock, extra, self.tmp))

    def target(self, name):
        t = Target([self.py, self.programs[name]])
        self.addCleanup(t.kill)
        return t

    def start_daemon(self, wait_socket=True):
        self.log = open(os.path.join(self.tmp, "daemon-%d.log" % time.monotonic_ns()), "w+")
        self.addCleanup(self.log.close)
        d = subprocess.Popen([LOUPE, "daemon", "--config", self.conf],
                             stdout=subprocess.DEVNULL, stderr=self.log)
        self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
        if wait_socket:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not os.path.exists(self.sock):
                self.assertIsNone(d.poll(), self.read_log())
                time.sleep(0.05)
        return d

    def read_log(self):
        self.log.seek(0)
        return self.log.read()

    def wait_log(self, pattern, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if re.search(pattern, self.read_log()):
                return True
            time.sleep(0.1)
        return False

    def ctl(self, *args):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60)

    def wait_listed(self, pid, want, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            res = self.ctl("status")
            if (re.search(r"(?m)^ *%d  " % pid, res.stdout) is not None) == want:
                return True
            time.sleep(0.1)
        return False

    def windows(self, d):
        if not os.path.isdir(d) or os.path.islink(d):
            return []
        return sorted(n for n in os.listdir(d) if WINDOW_RE.match(n))

    def wait_windows(self, d, n, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.windows(d)) < n:
            time.sleep(0.1)
        return len(self.windows(d)) >= n

    def user(self):
        """An ordinary user made with useradd (removed at the end), and the
        setpriv prefix that runs a command as them."""
        if not shutil.which("useradd") or not shutil.which("setpriv"):
            skip(self, "useradd or setpriv missing (apt-get install passwd util-linux)")
        name = "storesec%d" % (os.getpid() % 100000)
        subprocess.run(["userdel", name], capture_output=True)
        res = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.addCleanup(subprocess.run, ["userdel", name], capture_output=True)
        uid = int(subprocess.check_output(["id", "-u", name]))
        return uid, ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"]

    def plant(self, as_user, pid):
        """As the user: links named as the daemon names pid's directory,
        now (NAME-PID-START) and before (NAME-PID), to the victim."""
        for name in ("reuse-%d-%d" % (pid, start_time(pid)), "reuse-%d" % pid):
            res = subprocess.run(as_user + ["ln", "-s", self.victim, os.path.join(self.store, name)],
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stderr)

    def assert_victim_untouched(self):
        self.assertEqual(snapshot_tree(self.victim), self.victim_before,
                         "the victim was changed through a link")

    def test_user_owned_dir_refused(self):
        uid, as_user = self.user()
        # the user makes the store and plants the links inside unshare -Ur,
        # where they are root: the daemon sees their own uid on it
        home = os.path.join(self.tmp, "home")
        os.mkdir(home)
        os.chown(home, uid, uid)
        self.store = os.path.join(home, "store")
        userns = as_user + ["unshare", "-Ur"]
        if subprocess.run(userns + ["true"], capture_output=True).returncode != 0:
            sys.stderr.write("note %s: unshare -Ur refused to the user: planted without it\n"
                             % self.id())
            userns = as_user
        res = subprocess.run(userns + ["mkdir", "-m", "755", self.store], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(os.stat(self.store).st_uid, uid)
        t = self.target("hot_first")
        self.plant(userns, t.pid)
        self.configure(self.store)
        d = self.start_daemon(wait_socket=False)
        try:
            d.wait(timeout=4)
        except subprocess.TimeoutExpired:
            pass
        running = d.poll() is None
        if running:
            d.kill()
            d.wait()
        self.assert_victim_untouched()
        self.assertFalse(running, "the daemon started in a user's dir: " + self.read_log())
        self.assertNotEqual(d.returncode, 0)
        log = self.read_log()
        self.assertRegex(log, r"^loupe: [^\n]*belongs to uid %d[^\n]*chown root %s[^\n]*\n$"
                         % (uid, re.escape(self.store)))
        self.assertFalse(os.path.exists(self.sock))

    def test_writable_dir_and_link_refused(self):
        os.mkdir(self.store, 0o775)
        os.chmod(self.store, 0o775)
        self.configure(self.store)
        d = self.start_daemon(wait_socket=False)
        self.assertNotEqual(d.wait(timeout=10), 0)
        self.assertRegex(self.read_log(),
                         r"^loupe: [^\n]*writable by other users[^\n]*chmod go-w %s[^\n]*\n$"
                         % re.escape(self.store))
        self.assertEqual(os.stat(self.store).st_mode & 0o7777, 0o775)  # left as it was
        # the store given as a link to a directory: not followed
        link = os.path.join(self.tmp, "store-link")
        os.symlink(self.victim, link)
        self.configure(link)
        d = self.start_daemon(wait_socket=False)
        self.assertNotEqual(d.wait(timeout=10), 0)
        self.assertRegex(self.read_log(), r"^loupe: [^\n]*symbolic link[^\n]*\n$")
        self.assert_victim_untouched()

    def test_sticky_shared_dir(self):
        uid, as_user = self.user()
        os.mkdir(self.store)
        os.chmod(self.store, 0o1777)
        t = self.target("hot_first")
        self.plant(as_user, t.pid)
        other = self.target("hot_second")
        self.configure(self.store)
        d = self.start_daemon()
        refused = self.wait_log(r"cannot profile PID %d [^\n]*symbolic link \(not followed\)"
                                % t.pid, 10)
        # the other target is profiled as usual meanwhile
        deadline = time.monotonic() + 15
        found = []
        while time.monotonic() < deadline and not found:
            found = [x for x in glob.glob(os.path.join(self.store, "reuse-%d*" % other.pid))
                     if len(self.windows(x)) >= 2]
            time.sleep(0.1)
        self.assert_victim_untouched()
        self.assertTrue(refused, self.read_log())
        self.assertEqual(found, [os.path.join(self.store, "reuse-%d-%d"
                                              % (other.pid, start_time(other.pid)))],
                         self.read_log())
        self.assertEqual(os.stat(found[0]).st_uid, 0)
        self.assertEqual(os.stat(found[0]).st_mode & 0o777, 0o750)
        self.assertEqual(os.stat(self.store).st_mode & 0o7777, 0o1777)
        self.assertIsNone(d.poll())
        self.assertEqual(self.ctl("status").returncode, 0)

    def test_link_after_start(self):
        self.configure(self.store)
        t = self.target("hot_first")
        d = self.start_daemon()
        deadline = time.monotonic() + 15
        found = []
        while time.monotonic() < deadline and not found:
            found = [x for x in glob.glob(os.path.join(self.store, "reuse-%d*" % t.pid))
                     if self.windows(x)]
            time.sleep(0.1)
        self.assertEqual(len(found), 1, self.read_log())
        tdir = found[0]
        # root's own mistake or a race: the directory moved, a link in
        # its place
        os.rename(tdir, os.path.join(self.tmp, "moved"))
        os.symlink(self.victim, tdir)
        refused = self.wait_log(r"PID %d: cannot write window \S+ in %s: it is a symbolic link"
                                % (t.pid, re.escape(tdir)), 10)
        self.assert_victim_untouched()
        self.assertTrue(refused, self.read_log())
        # retention runs every window: give it two more
        n = self.read_log().count("symbolic link")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.read_log().count("symbolic link") < n + 2:
            time.sleep(0.1)
        self.assertGreaterEqual(self.read_log().count("symbolic link"), n + 2)
        self.assertTrue(self.wait_listed(t.pid, True, 1), "the target was dropped")
        self.assertRegex(self.ctl("status").stdout, r"(?m)^store: [1-9]\d* windows or directories refused")
        res = self.ctl("snapshot", str(t.pid), "--format", "collapsed")
        self.assertNotEqual(res.returncode, 0)  # its windows cannot be listed
        self.assertIn("symbolic link", res.stdout + res.stderr)
        self.assertIsNone(d.poll())
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())
        self.assert_victim_untouched()

    def set_last_pid(self, pid):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid))

    def test_pid_reuse_two_directories(self):
        if not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
            skip(self, "/proc/sys/kernel/ns_last_pid is not writable (a kernel without checkpoint/restore)")
        os.mkdir(self.store, 0o700)
        self.configure(self.store)
        first = self.target("hot_first")
        d = self.start_daemon()
        pid = first.pid

        def dirs():
            return sorted(glob.glob(os.path.join(self.store, "reuse-%d*" % pid)))

        def nwindows():
            return sum(len(self.windows(x)) for x in dirs())

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and nwindows() < 2:
            time.sleep(0.1)
        self.assertEqual(len(dirs()), 1, self.read_log())
        first_dir = dirs()[0]
        first_name = "reuse-%d-%d" % (pid, start_time(pid))
        self.assertGreaterEqual(len(self.windows(first_dir)), 2, self.read_log())
        first.kill()
        self.assertTrue(self.wait_listed(pid, False, 5), self.read_log())
        before = nwindows()
        # the next program gets the same PID: the kernel hands out
        # ns_last_pid + 1 next; on a busy machine another fork may take
        # it first, so try again
        second = None
        for attempt in range(50):
            self.set_last_pid(pid - 1)
            t = Target([self.py, self.programs["hot_second"]])
            if t.pid == pid:
                second = t
                break
            t.kill()
        if second is None:
            skip(self, "PID %d was taken by other processes 50 times" % pid)
        self.addCleanup(second.kill)
        self.assertTrue(self.wait_listed(pid, True, 5), self.read_log())
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and nwindows() < before + 2:
            time.sleep(0.1)
        self.assertGreaterEqual(nwindows(), before + 2, self.read_log())
        # ctl snapshot: the second program only
        res = self.ctl("snapshot", str(pid), "--format", "collapsed")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("hot_second", res.stdout)
        self.assertNotIn("hot_first", res.stdout, "the snapshot merged two programs")
        # a directory of its own, named by its start time
        second_dir = os.path.join(self.store, "reuse-%d-%d" % (pid, start_time(pid)))
        self.assertEqual(dirs(), sorted([first_dir, second_dir]))
        self.assertEqual(os.path.basename(first_dir), first_name)
        self.assertGreaterEqual(len(self.windows(second_dir)), 2)
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=20), 0, self.read_log())
        self.assertEqual(dirs(), sorted([first_dir, second_dir]))
        # report DIR: each directory its own program and command line
        for tdir, mine, other in ((first_dir, "hot_first", "hot_second"),
                                  (second_dir, "hot_second", "hot_first")):
            res = run_loupe("report", tdir)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertRegex(res.stdout, r"command line: \S*python\S* %s\n"
                             % re.escape(self.programs[mine]))
            self.assertIn(mine, res.stdout)
            self.assertNotIn(other, res.stdout)
            self.assertNotIn("warning", res.stderr)
        # the store itself is not a target's directory: the message says so
        res = run_loupe("report", self.store)
        self.assertEqual(res.returncode, 1)
        self.assertRegex(res.stderr, r"^loupe: [^\n]*the daemon's store[^\n]*e\.g\. %s/reuse-[^\n]*\n$"
                         % re.escape(self.store))
        # an older loupe's directory (NAME-PID) that holds both: read, and
        # both command lines said, not one
        old = os.path.join(self.tmp, "old", "reuse-%d" % pid)
        os.makedirs(old)
        for tdir in (first_dir, second_dir):
            for n in self.windows(tdir):
                shutil.copy2(os.path.join(tdir, n), os.path.join(old, n))
        res = run_loupe("report", old)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stderr, r"warning: [^\n]*2 processes that had the same PID")
        self.assertIn("2 processes had this PID", res.stdout)
        for name in ("hot_first", "hot_second"):
            self.assertIn(self.programs[name], res.stdout)


if __name__ == "__main__":
    unittest.main()
