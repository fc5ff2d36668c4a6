"""loupe's output formats read back by their real consumers, and loupe
report / loupe diff.

One recording of tests/targets/split.py (hot_three burns 3x what hot_one
burns) is converted to every format; each file is then opened by what a user
would open it with: the SVG by an XML parser, speedscope JSON by a JSON-schema
validator against speedscope's published schema, the Chrome trace by a JSON
parser (events per thread), pprof by `go tool pprof -top`, pstats by Python's
pstats.Stats.  loupe diff runs on recordings of tests/targets/scaled.py whose
hot function costs once or twice a unit.

External consumers (a missing one is a printed skip):
  go tool pprof     apt-get install golang-go
  speedscope, ajv, jsdom
                    npm install --prefix /opt/loupe-node speedscope ajv jsdom
                    (LOUPE_NODE_MODULES overrides /opt/loupe-node/node_modules)

Run: tests/run --build DIR -k Formats   (or -k Diff)
"""
import collections
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from harness import (BUILD, LOUPE, Target, func_of, run_loupe, script_path, split_share,
                     split_times)

SVG = "{http://www.w3.org/2000/svg}"
NODE_MODULES = os.environ.get("LOUPE_NODE_MODULES",
                              "/opt/loupe-node/node_modules")
SPEEDSCOPE_SCHEMA = os.path.join(NODE_MODULES, "speedscope", "dist",
                                 "release", "file-format-schema.json")
VALIDATE_JS = r"""
const Ajv = require("ajv");
const fs = require("fs");
const schema = JSON.parse(fs.readFileSync(process.argv[1]));
const ajv = new Ajv({strict: false, allErrors: true});
const validate = ajv.compile(schema);
const doc = JSON.parse(fs.readFileSync(process.argv[2]));
if (!validate(doc)) {
    console.log(JSON.stringify(validate.errors).slice(0, 2000));
    process.exit(1);
}
console.log("valid");
"""


# Drives the flame graph's script in jsdom: hover, click to zoom, reset,
# Ctrl-F search (prompt answered by the test).  jsdom runs no SVG <script>
# itself, so its text is evaluated in the window ('use strict' dropped so
# that its functions become globals, as they do in a browser).
SVG_SCRIPT_JS = r"""
const {JSDOM} = require("jsdom");
const fs = require("fs");
const dom = new JSDOM(fs.readFileSync(process.argv[1], "utf8"),
                      {contentType: "image/svg+xml", runScripts: "outside-only"});
const w = dom.window, d = w.document;
w.eval(d.querySelector("script").textContent.replace("'use strict';", ""));
w.init();
const boxes = [...d.getElementById("frames").children];
const title = g => g.querySelector("title").textContent;
const rect = g => g.querySelector("rect");
const hot = boxes.filter(g => title(g).startsWith("hot_three ("))
                 .sort((a, b) => rect(b).getAttribute("width") - rect(a).getAttribute("width"))[0];
const out = {};
rect(hot).dispatchEvent(new w.MouseEvent("mouseover", {bubbles: true}));
out.details = d.getElementById("details").textContent;
out.hot_title = title(hot);
rect(hot).dispatchEvent(new w.MouseEvent("click", {bubbles: true}));
out.zoom_label = hot.querySelector("text").textContent;
out.zoomed = [+rect(hot).getAttribute("x"), +rect(hot).getAttribute("width")];
out.hidden = boxes.filter(g => g.style.display === "none").map(title);
w.unzoom();
out.unzoomed_hidden = boxes.filter(g => g.style.display === "none").length;
w.prompt = () => "^hot_three";
w.dispatchEvent(new w.KeyboardEvent("keydown", {key: "f", ctrlKey: true}));
out.matched = d.getElementById("matched").textContent;
out.highlighted = boxes.filter(g => rect(g).getAttribute("fill") === "rgb(230,0,230)").length;
console.log(JSON.stringify(out));
"""


def python_interpreter():
    """Debian's python3.11, else the newest pyenv CPython 3."""
    if os.access("/usr/bin/python3.11", os.X_OK):
        return "/usr/bin/python3.11", None
    found = sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python"))
    if found:
        return found[-1], None
    return None, ("no CPython 3 at /usr/bin/python3.11 (python3.11-minimal) "
                  "nor under /root/.pyenv/versions")


from harness import skip  # noqa: E402


def record_target(tmp, script, args, out, rate, duration=2):
    """Starts script, records it in cpu mode to out, stops it.  For
    split.py, returns hot_three's real share of the two functions' CPU
    time while it was recorded (3:1 by construction, 0.68-0.75 from one
    process to the next on Debian's python3.11)."""
    py, _ = python_interpreter()
    log = os.path.join(tmp, os.path.basename(out) + ".split")
    t = Target([py, script_path(script)] + list(args),
               os.path.join(tmp, os.path.basename(out) + ".stderr"),
               env=dict(os.environ, LOUPE_SPLIT_LOG=log))
    try:
        before = split_times(log) if script == "split.py" else None
        res = run_loupe("record", "-p", t.pid, "-o", out, "-d", duration,
                        "-r", rate, "--mode", "cpu", "-q")
        after = split_times(log) if script == "split.py" else None
    finally:
        t.kill()
    if res.returncode != 0:
        raise AssertionError("loupe record failed: " + res.stderr)
    if before is None:
        return None
    return split_share(before, after)


def share_of(counts, hot, other):
    return counts[hot] / float(counts[hot] + counts[other])


class Formats(unittest.TestCase):
    """Every format of one recording of split.py, read by its consumer."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="loupe-formats-")
        cls.py, cls.why = python_interpreter()
        if cls.py is None or not os.access(LOUPE, os.X_OK):
            return
        cls.rec = os.path.join(cls.tmp, "split.loupe")
        cls.truth = record_target(cls.tmp, "split.py", [], cls.rec, 400)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if not os.access(LOUPE, os.X_OK):
            self.fail("loupe binary not built at " + LOUPE)
        if self.py is None:
            skip(self, self.why)

    def convert(self, name, *extra):
        out = os.path.join(self.tmp, name)
        res = run_loupe("report", self.rec, "-o", out, *extra)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(os.path.getsize(out) > 0, out)
        return out

    # --- flamegraph ----------------------------------------------------------

    def frames_of_svg(self, path):
        """[(title text, x, y, width)] of the frame boxes of a flame graph."""
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, SVG + "svg")
        self.assertIsNotNone(root.find(SVG + "script"), "no script")
        frames = []
        group = [g for g in root.iter(SVG + "g") if g.get("id") == "frames"]
        self.assertEqual(len(group), 1)
        for g in group[0]:
            title = g.find(SVG + "title").text
            r = g.find(SVG + "rect")
            frames.append((title, float(r.get("x")), float(r.get("y")),
                           float(r.get("width"))))
        return root, frames

    def check_split_svg(self, frames):
        width = collections.Counter()
        count = collections.Counter()
        for title, x, y, w in frames:
            name = func_of(title.split(" \u2014 ")[0])
            width[name] += w
            count[name] += int(title.split(" \u2014 ")[1].split()[0])
        self.assertIn("hot_three", width, frames)
        self.assertAlmostEqual(share_of(count, "hot_three", "hot_one"), self.truth,
                               delta=0.07, msg=count)
        # widths follow samples
        self.assertAlmostEqual(share_of(width, "hot_three", "hot_one"),
                               share_of(count, "hot_three", "hot_one"),
                               delta=0.01)

    def test_flamegraph_svg(self):
        root, frames = self.frames_of_svg(self.convert("split.svg"))
        self.check_split_svg(frames)
        texts = dict((t.get("id"), "".join(t.itertext()))
                     for t in root.iter(SVG + "text") if t.get("id"))
        self.assertIn("cpu mode", texts["subtitle"])
        self.assertIn("samples", texts["subtitle"])
        self.assertIn("Search", texts["search"])
        # hover text: "function (file:line) — N samples, P%", and a
        # Python function's hottest lines (issue #24 point 4)
        hot = [t for t, _, _, _ in frames if t.startswith("hot_three (")]
        self.assertTrue(hot)
        self.assertRegex(hot[0], r"^hot_three \(.*split\.py:\d+\) \u2014 "
                         r"\d+ samples?, [\d.]+%; hottest lines: "
                         r"line \d+: [\d.]+%(, line \d+: [\d.]+%){0,2}$")
        # the label names the file by its base name, the tooltip by its path
        labels = {}
        for g in [g for g in root.iter(SVG + "g") if g.get("id") == "frames"][0]:
            labels[g.find(SVG + "title").text] = "".join(g.find(SVG + "text").itertext())
        widest = max((f for f in frames if f[0].startswith("hot_three (")),
                     key=lambda f: f[3])
        self.assertIn("/", widest[0].split(" \u2014 ")[0])
        self.assertRegex(labels[widest[0]], r"^hot_three \(split\.py:\d+\)$")
        # flame: the root ("all") is the lowest box
        ys = dict((func_of(t.split(" \u2014 ")[0]), y) for t, _, y, _ in frames)
        self.assertGreater(ys["all"], ys["work"])
        self.assertGreater(ys["work"], ys["hot_three"])

    def test_flamegraph_inverted(self):
        _, frames = self.frames_of_svg(self.convert("icicle.svg", "--inverted"))
        ys = dict((func_of(t.split(" \u2014 ")[0]), y) for t, _, y, _ in frames)
        self.assertLess(ys["all"], ys["work"])
        self.assertLess(ys["work"], ys["hot_three"])

    def test_flamegraph_script(self):
        out = self.convert("script.svg")
        node = shutil.which("node")
        if not node:
            skip(self, "node not found (apt-get install nodejs)")
        if not os.path.isdir(os.path.join(NODE_MODULES, "jsdom")):
            skip(self, "jsdom not under %s (npm install --prefix %s jsdom)"
                 % (NODE_MODULES, os.path.dirname(NODE_MODULES)))
        res = subprocess.run([node, "-e", SVG_SCRIPT_JS, out],
                             capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, NODE_PATH=NODE_MODULES))
        self.assertEqual(res.returncode, 0, res.stderr)
        got = json.loads(res.stdout)
        # hover shows the box's text
        self.assertEqual(got["details"], got["hot_title"])
        # click: the box fills the width, hot_one's boxes go
        self.assertAlmostEqual(got["zoomed"][0], 10, delta=0.01)
        self.assertAlmostEqual(got["zoomed"][1], 1180, delta=0.01)
        self.assertTrue(any(t.startswith("hot_one") for t in got["hidden"]), got)
        self.assertEqual(got["unzoomed_hidden"], 0)
        # a zoomed box is labelled again, by the file's base name
        self.assertRegex(got["zoom_label"], r"^hot_three \(split\.py:\d+\)$")
        # Ctrl-F: every hot_three box highlighted, their share shown
        self.assertGreaterEqual(got["highlighted"], 1)
        matched = float(got["matched"].split()[1].rstrip("%"))
        _, frames = self.frames_of_svg(out)
        count = collections.Counter()
        for title, _, _, _ in frames:
            count[func_of(title.split(" \u2014 ")[0])] += int(
                title.split(" \u2014 ")[1].split()[0])
        self.assertAlmostEqual(matched, 100.0 * count["hot_three"] / count["all"],
                               delta=0.2)

    # --- speedscope ----------------------------------------------------------

    def test_speedscope_schema(self):
        out = self.convert("split.speedscope.json")
        with open(out) as f:
            doc = json.load(f)
        frames = doc["shared"]["frames"]
        weights = collections.Counter()
        for prof in doc["profiles"]:
            self.assertEqual(prof["type"], "sampled")
            self.assertEqual(len(prof["samples"]), len(prof["weights"]))
            for stack, w in zip(prof["samples"], prof["weights"]):
                weights[frames[stack[-1]]["name"]] += w
            self.assertEqual(prof["endValue"], sum(prof["weights"]))
        self.assertAlmostEqual(share_of(weights, "hot_three", "hot_one"), self.truth,
                               delta=0.07, msg=weights)
        hot = [f for f in frames if f["name"] == "hot_three"]
        self.assertTrue(all(f["file"].endswith("split.py") and f["line"] > 0
                            for f in hot), hot)

        node = shutil.which("node")
        if not node:
            skip(self, "node not found (apt-get install nodejs)")
        if not os.path.exists(SPEEDSCOPE_SCHEMA) or not os.path.isdir(
                os.path.join(NODE_MODULES, "ajv")):
            skip(self, "speedscope's schema or ajv not under %s (npm install "
                 "--prefix %s speedscope ajv)" % (NODE_MODULES,
                                                  os.path.dirname(NODE_MODULES)))
        env = dict(os.environ, NODE_PATH=NODE_MODULES)
        res = subprocess.run([node, "-e", VALIDATE_JS, SPEEDSCOPE_SCHEMA, out],
                             capture_output=True, text=True, env=env,
                             timeout=60)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        # the validator does reject a file that breaks the schema
        bad = os.path.join(self.tmp, "bad.speedscope.json")
        doc["profiles"][0]["type"] = "sampledd"
        with open(bad, "w") as f:
            json.dump(doc, f)
        res = subprocess.run([node, "-e", VALIDATE_JS, SPEEDSCOPE_SCHEMA, bad],
                             capture_output=True, text=True, env=env,
                             timeout=60)
        self.assertNotEqual(res.returncode, 0, res.stdout)

    # --- chrome trace --------------------------------------------------------

    def check_trace(self, path, hot="hot_three"):
        with open(path) as f:
            doc = json.load(f)
        events = doc["traceEvents"]
        begins = collections.Counter(e["tid"] for e in events if e["ph"] == "B")
        ends = collections.Counter(e["tid"] for e in events if e["ph"] == "E")
        self.assertTrue(begins, events[:10])
        self.assertEqual(begins, ends)
        names = set(e["name"] for e in events if e["ph"] == "B")
        self.assertTrue(any(func_of(n) == hot for n in names), names)
        # per thread, time never goes back and slices nest
        for tid in begins:
            depth, last = 0, -1.0
            for e in events:
                if e.get("tid") != tid or e["ph"] not in "BE":
                    continue
                self.assertGreaterEqual(e["ts"], last)
                last = e["ts"]
                depth += 1 if e["ph"] == "B" else -1
                self.assertGreaterEqual(depth, 0)
            self.assertEqual(depth, 0)
        meta = [e for e in events if e["ph"] == "M"]
        self.assertTrue(any(e["name"] == "thread_name" for e in meta), meta)
        return begins

    def test_chrome_trace_from_recording(self):
        begins = self.check_trace(self.convert("split.trace.json"))
        self.assertEqual(len(begins), 1, begins)

    def test_chrome_trace_recorded_directly(self):
        out = os.path.join(self.tmp, "direct.trace.json")
        record_target(self.tmp, "threads.py", [], out, 200, duration=1)
        begins = self.check_trace(out, hot="busy_worker")
        # threads.py runs two busy threads: a track each
        self.assertGreaterEqual(len(begins), 2, begins)

    def test_chrome_needs_timeline(self):
        # a recording converted to aggregates keeps no timeline
        agg = os.path.join(self.tmp, "agg.loupe")
        self.assertEqual(run_loupe("report", self.rec, "-o", agg).returncode, 0)
        res = run_loupe("report", agg, "-o", os.path.join(self.tmp, "x.trace.json"))
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertIn("timeline", res.stderr)

    # --- pprof ---------------------------------------------------------------

    def test_pprof_top(self):
        out = self.convert("split.pb.gz")
        with gzip.open(out) as f:
            self.assertTrue(len(f.read()) > 0)
        go = shutil.which("go")
        if not go:
            skip(self, "go not found: `go tool pprof` reads pprof files "
                 "(apt-get install golang-go)")
        env = dict(os.environ, HOME=self.tmp, GOCACHE=os.path.join(self.tmp, "gocache"),
                   PPROF_TMPDIR=self.tmp)
        res = subprocess.run([go, "tool", "pprof", "-top", out],
                             capture_output=True, text=True, env=env,
                             timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("Type: cpu_samples", res.stdout + res.stderr)
        rows = [l.split() for l in res.stdout.splitlines()
                if l.strip() and l.split()[0].isdigit()]
        self.assertTrue(rows, res.stdout)
        self.assertEqual(rows[0][-1], "hot_three", res.stdout)
        # Python's "<module>" keeps its name (pprof demangles no Python)
        self.assertIn("<module>", [r[-1] for r in rows], res.stdout)
        flat = dict((r[-1], int(r[0])) for r in rows)
        self.assertAlmostEqual(share_of(flat, "hot_three", "hot_one"), self.truth,
                               delta=0.07, msg=res.stdout)
        # the other sample types are there too
        res = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=cpu",
                              out], capture_output=True, text=True, env=env,
                             timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("hot_three", res.stdout)

    # --- pstats --------------------------------------------------------------

    def test_pstats(self):
        out = self.convert("split.prof")
        code = ("import pstats, json, sys\n"
                "s = pstats.Stats(sys.argv[1])\n"
                "res = {}\n"
                "for (file, line, name), (cc, nc, tt, ct, callers) in s.stats.items():\n"
                "    res[name] = [tt, ct, nc, [c[2] for c in callers], file, line]\n"
                "print(json.dumps([s.total_tt, res]))\n")
        res = subprocess.run([sys.executable, "-c", code, out],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        total, funcs = json.loads(res.stdout)
        self.assertGreater(total, 0)
        tt = dict((k, v[0]) for k, v in funcs.items())
        self.assertAlmostEqual(share_of(tt, "hot_three", "hot_one"), self.truth,
                               delta=0.07, msg=funcs)
        # callers: work calls hot_three; work's cumulative covers both
        self.assertEqual(funcs["hot_three"][3], ["work"])
        self.assertGreaterEqual(funcs["work"][1] + 1e-9,
                                tt["hot_three"] + tt["hot_one"])
        self.assertLessEqual(funcs["work"][1], total + 1e-9)
        self.assertTrue(funcs["hot_three"][4].endswith("split.py"))
        self.assertGreater(funcs["hot_three"][5], 0)

    # --- report's table ------------------------------------------------------

    def test_report_table(self):
        res = run_loupe("report", self.rec, "--no-lines")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = [l for l in res.stdout.splitlines() if "split.py" in l]
        self.assertTrue(rows, res.stdout)
        self.assertIn("hot_three", rows[0])
        # hot_three against hot_one, as the target timed them (work's
        # own share, its clock calls and log writes, is in neither)
        own = dict((r.split()[4], float(r.split()[0])) for r in rows)
        self.assertAlmostEqual(share_of(own, "hot_three", "hot_one"), self.truth,
                               delta=0.07, msg=res.stdout)
        self.assertIn("%Own CPU", res.stdout)

    def test_report_usage(self):
        res = run_loupe("report", self.rec, "-o", os.path.join(self.tmp, "x.unknown"))
        self.assertEqual(res.returncode, 2)
        res = run_loupe("report", os.path.join(self.tmp, "missing.loupe"))
        self.assertEqual(res.returncode, 1)
        self.assertTrue(res.stderr.startswith("loupe: "), res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)


class Diff(unittest.TestCase):
    """loupe diff on scaled.py: hot_scaled costs one unit (a third of the
    CPU) or two (a half)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="loupe-diff-")
        cls.py, cls.why = python_interpreter()
        if cls.py is None or not os.access(LOUPE, os.X_OK):
            return
        # 1000 Hz for 2 s: about 2000 samples, so that two runs of the same
        # workload differ by well under the 5-point threshold
        cls.base = os.path.join(cls.tmp, "base.loupe")
        cls.same = os.path.join(cls.tmp, "same.loupe")
        cls.slow = os.path.join(cls.tmp, "slow.loupe")
        record_target(cls.tmp, "scaled.py", ["1"], cls.base, 1000)
        record_target(cls.tmp, "scaled.py", ["1"], cls.same, 1000)
        record_target(cls.tmp, "scaled.py", ["2"], cls.slow, 1000)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if not os.access(LOUPE, os.X_OK):
            self.fail("loupe binary not built at " + LOUPE)
        if self.py is None:
            skip(self, self.why)

    def test_regression_exits_1(self):
        out = os.path.join(self.tmp, "diff.svg")
        base, slow = self.base, self.slow
        for attempt in range(2):
            res = run_loupe("diff", base, slow, "-o", out)
            self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
            self.assertRegex(res.stderr, r"^loupe: regression: .*hot_scaled")
            grew = res.stdout.split("Grew most:")[1].split("Shrank most:")[0]
            first = grew.strip().splitlines()[0]
            self.assertIn("hot_scaled", first)
            delta = float(first.split()[0])
            if abs(delta - (100 / 2.0 - 100 / 3.0)) <= 6 or attempt:
                break
            # one second pair of recordings when the box skewed the first
            # (a CI run once measured 10.4 points for 16.7)
            base = os.path.join(self.tmp, "base2.loupe")
            slow = os.path.join(self.tmp, "slow2.loupe")
            record_target(self.tmp, "scaled.py", ["1"], base, 1000)
            record_target(self.tmp, "scaled.py", ["2"], slow, 1000)
        self.assertAlmostEqual(delta, 100 / 2.0 - 100 / 3.0, delta=6)
        shrank = res.stdout.split("Shrank most:")[1]
        self.assertIn("steady", shrank.strip().splitlines()[0])
        # the differential flame graph: hot_scaled red, steady blue
        root = ET.parse(out).getroot()
        fills = {}
        for g in root.iter(SVG + "g"):
            title = g.find(SVG + "title")
            if title is None:
                continue
            name = func_of(title.text.split(" \u2014 ")[0])
            fills[name] = g.find(SVG + "rect").get("fill")
        r, g_, b = [int(v) for v in fills["hot_scaled"][4:-1].split(",")]
        self.assertTrue(r == 255 and b < 200, fills)
        r, g_, b = [int(v) for v in fills["steady"][4:-1].split(",")]
        self.assertTrue(b == 255 and r < 200, fills)

    def test_same_workload_exits_0(self):
        res = run_loupe("diff", self.base, self.same)
        if res.returncode == 1:
            # one second pair when the box skewed the first: on a busy
            # machine the sampler's own wake-ups come late and charge the
            # CPU in lumps, so two runs of 2000 samples can differ by
            # more than the binomial spread (a CI run once measured 37.2%
            # and 29.3% for a true 33.3%); a diff that is really off
            # fails both
            base = os.path.join(self.tmp, "base3.loupe")
            same = os.path.join(self.tmp, "same3.loupe")
            record_target(self.tmp, "scaled.py", ["1"], base, 1000)
            record_target(self.tmp, "scaled.py", ["1"], same, 1000)
            res = run_loupe("diff", base, same)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("no function grew by more than 5.0 points", res.stdout)

    def test_threshold(self):
        # a threshold above the change: no regression
        res = run_loupe("diff", self.base, self.slow, "--threshold", "40")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        # the other way round hot_scaled shrank most (shares add up to
        # 100%, so steady grew: with the default threshold that fails)
        res = run_loupe("diff", self.slow, self.base, "--threshold", "40")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        shrank = res.stdout.split("Shrank most:")[1]
        self.assertIn("hot_scaled", shrank.strip().splitlines()[0])

    def test_noise_guard(self):
        # two synthetic recordings whose hot stacks differ (seeds 1 and
        # 7): on 7 samples each every growth is within sampling noise,
        # said and not failed; on 1400 the same change is a regression.
        # Samples that carry 20 CPU periods each (cpu mode's credit of a
        # thread that waited for its CPU) are ~35 looks at the stacks,
        # not 700: within noise too (the guard counted their weights
        # and failed the gate on 89 functions)
        gen = os.path.join(BUILD, "tests", "unit", "gen_recording")
        if not os.access(gen, os.X_OK):
            self.fail("tests/unit/gen_recording not built at " + gen)
        rows = {}
        for secs, rate, cw in (("0.5", "20", "1"), ("20", "100", "1"), ("0.5", "100", "20")):
            pair = []
            for seed in ("1", "7"):
                path = os.path.join(self.tmp, "gen-%s-%s-%s.loupe" % (secs, cw, seed))
                subprocess.run([gen, path, secs, rate, "1", "50", seed, cw],
                               check=True, stdout=subprocess.DEVNULL)
                pair.append(path)
            rows[secs, cw] = run_loupe("diff", pair[0], pair[1], "-q")
        few, many, lumpy = rows["0.5", "1"], rows["20", "1"], rows["0.5", "20"]
        self.assertEqual(lumpy.returncode, 0, lumpy.stdout + lumpy.stderr)
        self.assertRegex(lumpy.stdout, r"cpu samples: base [5-9]\d\d ")
        m = re.search(r"with (\d+) and (\d+) independent samples", lumpy.stdout)
        self.assertTrue(m, lumpy.stdout)
        self.assertLess(max(int(m.group(1)), int(m.group(2))), 60, lumpy.stdout)
        self.assertEqual(few.returncode, 0, few.stdout + few.stderr)
        self.assertRegex(few.stdout, r"grew by more than 5\.0 points within "
                         r"sampling noise, not counted: most func_\d+ .*with 7 "
                         r"and 7 independent samples")
        self.assertIn("no function grew by more than 5.0 points beyond "
                      "sampling noise", few.stdout)
        self.assertEqual(many.returncode, 1, many.stdout + many.stderr)
        self.assertRegex(many.stderr, r"^loupe: regression: .*func_4 ")

    def test_errors(self):
        res = run_loupe("diff", self.base)
        self.assertEqual(res.returncode, 2, res.stderr)
        res = run_loupe("diff", self.base, self.slow, "--threshold", "x")
        self.assertEqual(res.returncode, 2, res.stderr)
        res = run_loupe("diff", self.base, self.slow, "-o",
                        os.path.join(self.tmp, "d.txt"))
        self.assertEqual(res.returncode, 2, res.stderr)
        res = run_loupe("diff", self.base, os.path.join(self.tmp, "none.loupe"))
        self.assertEqual(res.returncode, 1)
        self.assertTrue(res.stderr.startswith("loupe: "), res.stderr)
        self.assertNotIn("regression", res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        help_ = run_loupe("diff", "--help")
        self.assertEqual(help_.returncode, 0)
        self.assertIn("Exit status", help_.stdout)


if __name__ == "__main__":
    unittest.main()
