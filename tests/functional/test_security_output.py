"""Where loupe's outputs go, and hostile inputs and options (issue #17,
points 2 and 8).

Outputs: a regular file (or a new name) is replaced atomically; "-" and
/dev/stdout write to stdout; a character device or a FIFO is written to and
stays what it was; a symbolic link is refused unless --follow, which writes
its target.  The device cases use device nodes the test makes in its own
directory (mknod c 1 7 is /dev/full, c 1 3 /dev/null), so that a loupe that
replaces them (today's main did) cannot break the machine's own /dev.

Bounds: bad durations, thresholds and rates are one-line usage errors;
report of a FIFO does not block; hostile recordings (written here byte by
byte, raw_format.h) give one-line errors or escaped, bounded output.

Run: tests/run --functional-only -k SecurityOutput
"""
import glob
import os
import stat
import struct
import subprocess
import threading

from harness import BUILD, LOUPE, LoupeTestCase, run_loupe, target_path

RAW_STRING, RAW_FRAME, RAW_STACK, RAW_THREAD, RAW_META, RAW_SAMPLE, RAW_AGG = 1, 2, 3, 4, 5, 6, 7
FRAME_PYTHON = 1
SAMPLE_ON_CPU, SAMPLE_GIL = 1, 2


def uv(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sv(n):
    return uv((n << 1) ^ (n >> 63) if n >= 0 else ((n << 1) ^ -1) & (2**64 - 1))


class Recording:
    """A .loupe file built record by record (profiler/formats/raw_format.h)."""

    def __init__(self):
        self.data = bytearray(b"LOUPE\0" + struct.pack("<HHQ", 0x0102, 0, 0))
        self.nstr = self.nframe = self.nstack = 0
        self.strs = {}

    def rec(self, typ, payload):
        self.data += struct.pack("<BI", typ, len(payload)) + payload

    def string(self, s):
        if isinstance(s, str):
            s = s.encode()
        if s in self.strs:
            return self.strs[s]
        self.nstr += 1
        self.rec(RAW_STRING, uv(self.nstr) + s)
        self.strs[s] = self.nstr
        return self.nstr

    def frame(self, func, file="app.py", line=1):
        f, fi = self.string(func), self.string(file)
        self.nframe += 1
        self.rec(RAW_FRAME, uv(self.nframe) + uv(FRAME_PYTHON) + uv(f) +
                 uv(fi) + uv(0) + sv(line) + uv(0))
        return self.nframe

    def stack(self, frames):
        self.nstack += 1
        self.rec(RAW_STACK, uv(self.nstack) + uv(len(frames)) +
                 b"".join(uv(f) for f in frames))
        return self.nstack

    def meta(self, k, v):
        self.rec(RAW_META, uv(self.string(k)) + uv(self.string(v)))

    def sample(self, stack, flags=SAMPLE_ON_CPU, cpu_ns=0, weight=1,
               pid=100, tid=100):
        p = (sv(1000) + uv(pid) + uv(tid) + uv(stack) + uv(flags) +
             uv(cpu_ns) + uv(0))
        if weight > 1:
            p += uv(weight)
        self.rec(RAW_SAMPLE, p)

    def agg(self, stack, samples, cpu_samples, cpu_ns=0, pid=100, tid=100):
        self.rec(RAW_AGG, uv(stack) + uv(pid) + uv(tid) + uv(0) + uv(samples) +
                 uv(cpu_samples) + uv(0) + uv(0) + uv(cpu_ns))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.data)


def simple_recording(path, func="work"):
    r = Recording()
    r.meta("mode", "cpu")
    st = r.stack([r.frame("main"), r.frame(func, line=7)])
    for _ in range(10):
        r.sample(st, cpu_ns=1000)
    r.write(path)


def one_line_error(test, res, code=1):
    test.assertEqual(res.returncode, code, res.stdout + res.stderr)
    lines = res.stderr.strip().split("\n")
    test.assertEqual(len(lines), 1, res.stderr)
    test.assertTrue(lines[0].startswith("loupe: "), res.stderr)
    return lines[0]


class SecurityOutput(LoupeTestCase):
    """-o of record, report and diff (and ctl snapshot, which writes
    through the same atomic_file_open_flags as diff)."""

    def setUp(self):
        super().setUp()
        self.rec = self.path("rec.loupe")
        simple_recording(self.rec)

    def node(self, name, minor):
        """A character device node of our own: c 1 7 is /dev/full, 1 3
        /dev/null."""
        path = self.path(name)
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        except PermissionError:
            self.skipTest("mknod not permitted here (needs CAP_MKNOD)")
        return path

    def target(self):
        exe = target_path("split_fp")
        if not os.access(exe, os.X_OK):
            self.fail("tests/targets/split_fp not built at " + exe)
        return self.start([exe])

    def assert_chr(self, path):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISCHR(st.st_mode), "%s is no longer a character device" % path)

    def test_record_to_full_device_fails_and_leaves_it(self):
        full = self.node("full", 7)
        t = self.target()
        res = run_loupe("record", "-p", t.pid, "-d", 1, "--mode", "wall",
                        "-o", full, "--format", "collapsed", "-q")
        line = one_line_error(self, res)
        self.assertIn("No space left on device", line)
        self.assert_chr(full)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["full", "rec.loupe"])
        # the raw format, streamed, fails the same way
        res = run_loupe("record", "-p", t.pid, "-d", 1, "-o", full,
                        "--format", "loupe", "-q")
        self.assertIn("No space left on device", one_line_error(self, res))
        self.assert_chr(full)

    def test_record_to_null_device(self):
        null = self.node("null", 3)
        t = self.target()
        res = run_loupe("record", "-p", t.pid, "-d", 1, "--mode", "wall",
                        "-o", null, "--format", "collapsed", "-q")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_chr(null)
        res = run_loupe("report", self.rec, "-o", null, "--format", "pstats")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_chr(null)

    def check_link(self, argv_of, ext, expect_start):
        """argv_of(out) runs loupe writing to out: refused through a link,
        the victim untouched; with --follow the victim is written and the
        link stays a link."""
        victim = self.path("victim" + ext)
        with open(victim, "w") as f:
            f.write("precious\n")
        link = self.path("link" + ext)
        os.symlink(victim, link)
        res = run_loupe(*argv_of(link))
        line = one_line_error(self, res)
        self.assertIn("symbolic link", line)
        self.assertIn("--follow", line)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertTrue(os.path.islink(link))
        res = run_loupe(*(argv_of(link) + ["--follow"]))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(os.path.islink(link))
        with open(victim) as f:
            self.assertIn(expect_start, f.read())
        self.assertFalse([n for n in os.listdir(self.tmp) if ".tmp." in n])

    def test_record_symlink_refused_unless_follow(self):
        t = self.target()
        self.check_link(lambda out: ["record", "-p", t.pid, "-d", 1, "--mode",
                                     "wall", "-o", out, "-q"],
                        ".txt", "hot_")

    def test_report_symlink_refused_unless_follow(self):
        self.check_link(lambda out: ["report", self.rec, "-o", out], ".txt",
                        "main")

    def test_diff_symlink_refused_unless_follow(self):
        self.check_link(lambda out: ["diff", self.rec, self.rec, "-q", "-o", out],
                        ".svg", "<?xml")

    def test_dangling_symlink_refused(self):
        link = self.path("dangling.txt")
        os.symlink(self.path("nothing-here"), link)
        one_line_error(self, run_loupe("report", self.rec, "-o", link))
        self.assertFalse(os.path.exists(self.path("nothing-here")))
        self.assertTrue(os.path.islink(link))

    def test_stdout(self):
        for out in ("-", "/dev/stdout"):
            # in our directory: a loupe that takes "-" for a name
            # (today's main) writes a file there
            res = run_loupe("report", self.rec, "-o", out, "--format",
                            "collapsed", cwd=self.tmp)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertEqual(res.stdout, "main (app.py:1);work (app.py:7) 10\n")

    def test_fifo_written_not_replaced(self):
        fifo = self.path("pipe")
        os.mkfifo(fifo)
        got = []

        def reader():
            with open(fifo) as f:
                got.append(f.read())
        th = threading.Thread(target=reader)
        th.start()
        res = run_loupe("report", self.rec, "-o", fifo, "--format", "collapsed",
                        timeout=30)
        th.join(30)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(got, ["main (app.py:1);work (app.py:7) 10\n"])
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_directory_refused(self):
        d = self.path("adir.txt")
        os.mkdir(d)
        line = one_line_error(self, run_loupe("report", self.rec, "-o", d))
        self.assertIn("directory", line)
        self.assertEqual(os.listdir(d), [])

    def test_regular_file_replaced_atomically(self):
        out = self.path("out.txt")
        with open(out, "w") as f:
            f.write("old\n")
        os.link(out, self.path("hardlink.txt"))
        res = run_loupe("report", self.rec, "-o", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out) as f:
            self.assertTrue(f.read().startswith("main"))
        # replaced by rename: the other name keeps the old inode
        with open(self.path("hardlink.txt")) as f:
            self.assertEqual(f.read(), "old\n")


class SecurityInput(LoupeTestCase):
    """Hostile inputs of report: a FIFO, a 16 MiB function name."""

    def test_report_fifo_refused_not_blocking(self):
        fifo = self.path("rec.loupe")
        os.mkfifo(fifo)
        try:
            res = run_loupe("report", fifo, timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("loupe report blocked on a FIFO")
        self.assertIn("FIFO", one_line_error(self, res))
        try:
            res = run_loupe("diff", fifo, fifo, timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("loupe diff blocked on a FIFO")
        self.assertIn("FIFO", one_line_error(self, res))

    def test_report_stdin(self):
        rec = self.path("rec.loupe")
        simple_recording(rec)
        with open(rec, "rb") as f:
            data = f.read()
        res = subprocess.run([LOUPE, "report", "-", "--format", "collapsed"],
                             input=data, capture_output=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, b"main (app.py:1);work (app.py:7) 10\n")

    def test_huge_function_name_is_cut(self):
        rec = self.path("big.loupe")
        huge = "f" * (16 * 1024 * 1024 - 64)
        simple_recording(rec, func=huge)
        res = run_loupe("report", rec, "--format", "collapsed")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertLess(len(res.stdout), 70000)
        self.assertIn("fff... (app.py:7) 10", res.stdout)
        res = run_loupe("report", rec)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertLess(len(res.stdout), 70000)

    def test_counts_that_wrap_are_refused(self):
        """Aggregates whose sum passes 2^64 gave shares far above 100%."""
        rec = self.path("wrap.loupe")
        r = Recording()
        r.meta("mode", "cpu")
        a = r.stack([r.frame("main"), r.frame("huge", line=2)])
        b = r.stack([r.frame("main"), r.frame("small", line=3)])
        r.agg(a, 2**64 - 10, 2**64 - 10)
        r.agg(b, 20, 20)
        r.write(rec)
        res = run_loupe("report", rec)
        if res.returncode == 0:
            shares = [float(x) for line in res.stdout.splitlines()[4:]
                      for x in line.split()[:4] if x[0].isdigit()]
            self.assertTrue(all(0 <= x <= 100 for x in shares), res.stdout)
        else:
            self.assertIn("corrupt aggregate", one_line_error(self, res))
        # CPU ns: two samples of 2^63 ns
        r = Recording()
        st = r.stack([r.frame("main")])
        r.sample(st, cpu_ns=2**63)
        r.sample(st, cpu_ns=2**63)
        r.write(rec)
        res = run_loupe("report", rec)
        self.assertIn("corrupt sample", one_line_error(self, res))
        # and a CPU count beyond any recording's (CPU samples weigh CPU
        # time and may outnumber the samples, within PROFILE_MAX_AGG_CPU)
        r = Recording()
        st = r.stack([r.frame("main")])
        r.agg(st, 5, 2**41)
        r.write(rec)
        res = run_loupe("report", rec)
        self.assertIn("corrupt aggregate", one_line_error(self, res))


EVIL = "evil\n\x1b[2Jfake\xc2\x9b"	# newline, ESC clear-screen, C1 CSI
EVIL_SHOWN = "evil\\n\\e[2Jfake\\u009b"

EVIL_TARGET = r"""
import sys, time
def spin():
    while True:
        time.sleep(0.005)
name = "evil\n\x1b[2Jfake\u009b"
kw = {"co_name": name}
if hasattr(spin.__code__, "co_qualname"):
    kw["co_qualname"] = name
spin.__code__ = spin.__code__.replace(**kw)
print("ready", flush=True)
spin()
"""


def python3():
    for exe in ("/usr/bin/python3.11", "/root/.pyenv/versions/3.12/bin/python3"):
        if os.access(exe, os.X_OK):
            return exe
    for d in sorted(glob.glob("/root/.pyenv/versions/3.1[0-9]*")):
        exe = os.path.join(d, "bin", "python3")
        if os.access(exe, os.X_OK):
            return exe
    return None


class SecurityNames(LoupeTestCase):
    """Function names with newlines and terminal escapes are printed
    escaped (dump, report, diff, top) and cannot break collapsed lines."""

    def evil_recording(self):
        rec = self.path("evil.loupe")
        r = Recording()
        r.meta("mode", "cpu")
        r.meta("target.comm", "comm\x1b]0;title\x07")
        st = r.stack([r.frame("main"), r.frame(EVIL.encode("latin-1"), line=7)])
        for _ in range(10):
            r.sample(st, cpu_ns=1000)
        r.write(rec)
        return rec

    def assert_inert(self, text):
        for bad in ("\x1b", "\x07", "\x9b", "\u009b"):
            self.assertNotIn(bad, text)

    def test_report_text_escaped(self):
        rec = self.evil_recording()
        res = run_loupe("report", rec)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_inert(res.stdout)
        self.assertIn(EVIL_SHOWN + " (app.py:7)", res.stdout)
        self.assertNotIn("\nfake", res.stdout)
        res = run_loupe("diff", rec, rec)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_inert(res.stdout)

    def test_collapsed_keeps_one_line_per_stack(self):
        rec = self.evil_recording()
        res = run_loupe("report", rec, "--format", "collapsed")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_inert(res.stdout)
        self.assertIn("evil ?[2Jfake? (app.py:7)", res.stdout)
        lines = res.stdout.splitlines()
        self.assertEqual(len(lines), 1, res.stdout)
        self.assertTrue(lines[0].endswith(" 10"), lines)
        self.assertEqual(lines[0].count(";"), 1, lines)

    def test_dump_escaped(self):
        exe = python3()
        if not exe:
            self.skipTest("no CPython 3.10+ found (/usr/bin/python3.11 or pyenv)")
        t = self.start([exe, "-c", EVIL_TARGET])
        res = run_loupe("dump", "-p", t.pid)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_inert(res.stdout)
        self.assertIn(EVIL_SHOWN, res.stdout)
        # top's plain table (not a terminal) shows no raw control either
        res = run_loupe("top", "-p", t.pid, "-d", 1, "--mode", "wall")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assert_inert(res.stdout)
        self.assertNotIn("\nfake", res.stdout)


class SecurityBounds(LoupeTestCase):
    """Options out of range are usage errors; loupe does not attach to
    itself; a refusal tells root the truth; stale temporaries go."""

    def test_bad_durations_are_usage_errors(self):
        t = self.start([target_path("split_fp")])
        out = self.path("x.txt")
        for d in ("inf", "1e30", "2e10", "nan", "-1", "0", "31536001"):
            res = run_loupe("record", "-p", t.pid, "-d", d, "-o", out, timeout=30)
            self.assertIn("invalid duration", one_line_error(self, res, 2), d)
        for th in ("inf", "1e30s", "nan", "-5ms", "2h"):
            res = run_loupe("trace", "-p", t.pid, "--threshold", th, "-d", 1,
                            timeout=30)
            self.assertIn("invalid threshold", one_line_error(self, res, 2), th)
        for r in ("inf", "nan", "-100", "1e7"):
            res = run_loupe("record", "-p", t.pid, "-r", r, "-o", out, timeout=30)
            self.assertIn("invalid rate", one_line_error(self, res, 2), r)
        res = run_loupe("report", self.tmp, "--since", "1e306d", timeout=30)
        self.assertIn("invalid --since", one_line_error(self, res, 2))
        self.assertFalse(os.path.exists(out))
        # a year is accepted (stopped at once by the target's exit)
        res = run_loupe("record", "-d", "31536000", "-o", out, "-q", "--",
                        "/bin/true", timeout=60)
        self.assertIn(res.returncode, (0, 1), res.stderr)
        self.assertNotIn("invalid", res.stderr)

    def test_self_attach_refused(self):
        res = subprocess.run(["/bin/sh", "-c", 'exec "$0" record -p $$ -d 1 -o "$1"',
                              LOUPE, self.path("self.txt")],
                             capture_output=True, text=True, timeout=60)
        self.assertIn("itself", one_line_error(self, res))
        self.assertFalse(os.path.exists(self.path("self.txt")))

    def test_pid1_refusal_tells_root_the_truth(self):
        if os.geteuid() != 0:
            self.skipTest("runs as root only")
        res = run_loupe("dump", "-p", 1)
        if res.returncode == 0:
            self.skipTest("PID 1 can be attached on this machine: no refusal to check")
        line = one_line_error(self, res)
        self.assertNotIn("run as root", line)

    def test_stale_temporaries_removed(self):
        rec = self.path("rec.loupe")
        simple_recording(rec)
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        dead = child.pid
        stale = ["out.txt.tmp.%d" % dead, "other.svg.tmp.%d" % dead]
        kept = ["notes.tmp.%d" % dead,		# not a loupe output name
                "live.txt.tmp.%d" % os.getpid()]	# a live run's
        for n in stale + kept:
            with open(self.path(n), "w") as f:
                f.write("partial")
        # a killed record's raw temporary with samples is its recording
        with open(rec, "rb") as f:
            data = f.read()
        with open(self.path("run.loupe.tmp.%d" % dead), "wb") as f:
            f.write(data)
        kept.append("run.loupe.tmp.%d" % dead)
        res = run_loupe("report", rec, "-o", self.path("out.txt"))
        self.assertEqual(res.returncode, 0, res.stderr)
        left = set(os.listdir(self.tmp))
        for n in stale:
            self.assertNotIn(n, left)
        for n in kept:
            self.assertIn(n, left)


class SecurityCtlOutput(LoupeTestCase):
    """ctl snapshot's -o is written by the client (cmd_ctl.c) through the
    same atomic_file_open_flags as diff's: against the fake ctl server of
    tests/unit/daemon_fakes, whose "file ARGS" answers a file."""

    def setUp(self):
        super().setUp()
        fakes = os.path.join(BUILD, "tests", "unit", "daemon_fakes")
        if not os.access(fakes, os.X_OK):
            self.fail("tests/unit/daemon_fakes not built at " + fakes)
        self.sock = self.path("loupe.sock")
        self.start([fakes, "ctl", self.sock])

    def ctl(self, *args):
        return run_loupe("ctl", "--socket", self.sock, *args, timeout=60)

    def test_link_refused_unless_follow(self):
        victim = self.path("victim.svg")
        with open(victim, "w") as f:
            f.write("precious\n")
        link = self.path("link.svg")
        os.symlink(victim, link)
        res = self.ctl("file", "1234", "-o", link)
        self.assertIn("symbolic link", one_line_error(self, res))
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        res = self.ctl("file", "1234", "-o", link, "--follow")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(os.path.islink(link))
        with open(victim) as f:
            self.assertEqual(f.read(), "1234 --format flamegraph")

    def test_full_device(self):
        full = self.path("full")
        try:
            os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        except PermissionError:
            self.skipTest("mknod not permitted here (needs CAP_MKNOD)")
        res = self.ctl("file", "1234", "-o", full, "--format", "collapsed")
        self.assertIn("No space left on device", one_line_error(self, res))
        self.assertTrue(stat.S_ISCHR(os.lstat(full).st_mode))


if __name__ == "__main__":
    import unittest
    unittest.main()
