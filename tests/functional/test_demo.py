"""tools/demo, the README's first command, end to end: the bundled asyncio
service is shown by top (plain tables without a terminal), record (a flame
graph), dump --tasks and trace, which must name the service's deliberate
blocking call, then the native demo.

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_demo.py -v
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

from harness import BUILD, LOUPE, SRC, LoupeTestCase


class Demo(LoupeTestCase):
    def test_demo(self):
        py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LOUPE=LOUPE, TMPDIR=tmp,
                       LOUPE_DEMO_APP=os.path.join(BUILD, "tools", "demo-app"),
                       LOUPE_DEMO_PYTHON=py)
            res = subprocess.run(["sh", os.path.join(SRC, "tools", "demo")],
                                 capture_output=True, text=True, timeout=180,
                                 env=env, stdin=subprocess.DEVNULL)
            out = res.stdout
            self.assertEqual(res.returncode, 0, out[-3000:] + res.stderr[-2000:])
            sections = {}
            for cmd, text in re.findall(r"(?ms)^== loupe (\w+) (.*?)(?=^== |\Z)", out):
                sections.setdefault(cmd, text)  # the service's, before the native demo's
            # top: a plain table with the service's hot function
            self.assertRegex(sections["top"], r"(?m)^loupe top - PID \d+")
            self.assertRegex(sections["top"], r"score \(demo_service\.py:\d+\)")
            # record: a flame graph written, the blocking call in wall time
            svg = os.path.join(tmp, "loupe-demo", "service.svg")
            self.assertTrue(os.path.getsize(svg) > 1000)
            with open(svg) as f:
                self.assertIn("refresh_config_cache", f.read())
            self.assertIn("refresh_config_cache", sections["report"])
            # dump --tasks: requests waiting on the slow database
            self.assertRegex(sections["dump"], r"asyncio: \d+ tasks")
            self.assertIn("fetch_orders", sections["dump"])
            # (or over, when the loaded event loop is late for its timers)
            self.assertRegex(sections["dump"],
                             r"→ sleep ([\d.]+s left|over [\d.]+s ago)")
            # trace: the stall is named, from the housekeeping task
            self.assertRegex(sections["trace"], r"stalls +\d+ over 50 ms")
            self.assertRegex(sections["trace"],
                             r"housekeeping \(demo_service\.py:\d+\) → "
                             r"refresh_config_cache \(demo_service\.py:\d+\)")
            # the native demo
            self.assertIn("checksum_payload", out)
            self.assertNotRegex(res.stderr, r"(?i)traceback|error")
        # nothing left running
        left = subprocess.run(["pgrep", "-f", "demo_service.py"], capture_output=True)
        self.assertEqual(left.stdout, b"")


if __name__ == "__main__":
    unittest.main()
