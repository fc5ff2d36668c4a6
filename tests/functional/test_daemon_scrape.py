"""One scrape per host (issue #23 point 4): GET /debug/pprof/profile?seconds=N
without pid returns every target of the daemon's config in one gzipped
pprof whose samples are labelled service, pid, comm and thread, read back
by `go tool pprof -tags` and split by `-tagfocus service=NAME`;
?service=NAME selects one service, pid= keeps working, a bad service is a
400 and an unknown one a 404.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_daemon_scrape.py -v
"""
import os
import shutil
import subprocess
import unittest
import urllib.error

from test_daemon_hostwide import HostDaemon, PICKUP_S, skip, wait_for


class Scrape(HostDaemon, unittest.TestCase):

    def setUp(self):
        self.setup_daemon("loupe-scrape-")

    def pprof(self, *args):
        env = dict(os.environ, PPROF_TMPDIR=self.tmp, HOME=self.tmp)
        res = subprocess.run(["go", "tool", "pprof"] + list(args), capture_output=True,
                             text=True, timeout=180, env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def scrape(self, query, name):
        data, headers = self.get("/debug/pprof/profile?" + query, timeout=90)
        self.assertEqual(data[:2], b"\x1f\x8b", "not gzip")
        self.assertEqual(headers.get("Content-Type"), "application/octet-stream")
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_labelled_scrape(self):
        if not shutil.which("go"):
            skip(self, "go not installed (tools/setup installs golang-go)")
        self.write_config("[target alpha]\npython = all\ncmdline = %s alpha\n\n"
                          "[target beta]\npython = all\ncmdline = %s beta\n"
                          % (self.script, self.script))
        a1, a2 = self.service("alpha"), self.service("alpha")
        b = self.service("beta")
        self.start_daemon()
        self.assertTrue(wait_for(lambda: {a1.pid, a2.pid, b.pid} <= self.status_pids(), PICKUP_S),
                        self.read_log())
        # every target, one profile
        prof = self.scrape("seconds=3", "all.pb.gz")
        tags = self.pprof("-tags", prof)
        for want in ("service", "pid", "comm", "thread"):
            self.assertRegex(tags, r"(?m)^ *%s:" % want, tags)
        self.assertRegex(tags, r"\balpha\b")
        self.assertRegex(tags, r"\bbeta\b")
        for t in (a1, a2, b):
            self.assertIn(str(t.pid), tags)
        top = self.pprof("-top", "-tagfocus", "service=alpha", prof)
        self.assertIn("hot_alpha", top)
        self.assertNotIn("hot_beta", top)
        top = self.pprof("-top", "-tagfocus", "service=beta", prof)
        self.assertIn("hot_beta", top)
        self.assertNotIn("hot_alpha", top)
        # ?service= alone
        prof = self.scrape("seconds=2&service=beta", "beta.pb.gz")
        top = self.pprof("-top", prof)
        self.assertIn("hot_beta", top)
        self.assertNotIn("hot_alpha", top)
        # pid= as before, labelled too
        prof = self.scrape("seconds=2&pid=%d" % a1.pid, "pid.pb.gz")
        tags = self.pprof("-tags", prof)
        self.assertIn(str(a1.pid), tags)
        self.assertNotIn(str(a2.pid), tags)
        # a name no service can have: 400; a service with no target: 404
        for query, code in (("service=a%2Fb", 400), ("service=nosuch&seconds=1", 404)):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                self.get("/debug/pprof/profile?" + query)
            self.assertEqual(cm.exception.code, code, query)


if __name__ == "__main__":
    unittest.main()
