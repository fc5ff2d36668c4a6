"""Every daemon configuration the documentation shows is one the daemon
reads: each ```ini block of README.md and each EXAMPLE of loupe.conf(5) is
given to 'loupe daemon --check', which must accept it and name its target
sections; trailing comments are comments; a bad file is refused with its
line and exit 1, and nothing is created.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_config_docs.py -v
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import LOUPE, SRC, LoupeTestCase, run_loupe


def readme_blocks():
    with open(os.path.join(SRC, "README.md")) as f:
        text = f.read()
    return re.findall(r"^```ini\n(.*?)^```", text, re.S | re.M)


def roff_plain(line):
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\(aq", "'")
    return re.sub(r"\\f[BIRP]", "", line)


def man_example_blocks():
    """The .EX/.EE blocks under .SH EXAMPLE of loupe.conf.5, as plain text."""
    with open(os.path.join(SRC, "man", "loupe.conf.5")) as f:
        lines = f.read().splitlines()
    blocks, cur, section = [], None, ""
    for line in lines:
        if line.startswith(".SH"):
            section = line[3:].strip().strip('"')
        elif line.startswith(".EX") and section.startswith("EXAMPLE"):
            cur = []
        elif line.startswith(".EE") and cur is not None:
            blocks.append("\n".join(cur) + "\n")
            cur = None
        elif cur is not None:
            cur.append(roff_plain(line))
    return blocks


class ConfigDocs(LoupeTestCase):
    def check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(text)
        try:
            return run_loupe("daemon", "--check", "--config", f.name)
        finally:
            os.unlink(f.name)

    def assert_valid(self, text, where):
        res = self.check(text)
        self.assertEqual(res.returncode, 0, "%s: %s" % (where, res.stderr))
        names = re.findall(r"^\s*\[\s*target\s+([^\]\s]+)\s*\]", text, re.M)
        self.assertTrue(names, "%s shows no [target] section" % where)
        self.assertIn("%d target section" % len(names), res.stdout)
        for n in names:
            self.assertIn(n, res.stdout.split("target section", 1)[1])

    def test_readme_blocks_parse(self):
        blocks = readme_blocks()
        self.assertTrue(blocks, "README.md has no ```ini block")
        for i, b in enumerate(blocks):
            self.assert_valid(b, "README.md ini block %d" % (i + 1))

    def test_man_examples_parse(self):
        blocks = man_example_blocks()
        self.assertTrue(blocks, "loupe.conf(5) has no EXAMPLE block")
        for i, b in enumerate(blocks):
            self.assert_valid(b, "loupe.conf(5) EXAMPLE block %d" % (i + 1))

    def test_trailing_comments_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            rec = os.path.join(d, "rec")
            res = self.check("dir = %s      # recordings, mode 0750\n"
                             "http = 127.0.0.1:6060   # /debug/pprof/profile\n"
                             "[target web]   # the web tier\n"
                             "exe = python3*\n" % rec)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("dir %s," % rec, res.stdout)
            self.assertIn("http 127.0.0.1:6060,", res.stdout)
            res = self.check("dir = %s\nwindow = soon # never\n" % rec)
            self.assertEqual(res.returncode, 1)
            self.assertRegex(res.stderr.strip(), r"^loupe: \S+\.conf:2: invalid window 'soon'")
            self.assertEqual(len(res.stderr.strip().splitlines()), 1)
            self.assertEqual(os.listdir(d), [], "--check created something")


class CtlFindsSocket(LoupeTestCase):
    """loupe ctl asks the daemon its configuration names, without -s."""

    def test_ctl_config(self):
        if os.getuid() != 0:
            self.skipTest("the daemon runs as root")
        tmp = tempfile.mkdtemp(prefix="loupe-ctlconf-")
        self.addCleanup(shutil.rmtree, tmp, True)
        sock = os.path.join(tmp, "d.sock")
        conf = os.path.join(tmp, "loupe.conf")
        with open(conf, "w") as f:
            f.write("dir = %s/store   # windows\nsocket = %s   # ctl\n"
                    % (tmp, sock))
        with open(os.path.join(tmp, "log"), "w+") as log:
            d = subprocess.Popen([LOUPE, "daemon", "--config", conf],
                                 stdout=subprocess.DEVNULL, stderr=log)
            self.addCleanup(lambda: d.poll() is None and (d.kill(), d.wait()))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not os.path.exists(sock):
                self.assertIsNone(d.poll(), "daemon exited")
                time.sleep(0.05)
            res = run_loupe("ctl", "--config", conf, "status")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("targets", res.stdout.lower())
            res = run_loupe("ctl", "-c", os.path.join(tmp, "none.conf"), "status")
            self.assertEqual(res.returncode, 1)
            self.assertIn("cannot read config", res.stderr)
            res = run_loupe("ctl", "-c", conf, "-s", sock, "status")
            self.assertEqual(res.returncode, 2)
            d.terminate()
            d.wait(timeout=30)


if __name__ == "__main__":
    unittest.main()
