"""Everyday use: what 'make install' puts where, the man page against every
command's --help, bash completion, the live status line of record (in a
real terminal, tmux) and its absence without one, the progress bar of
report, and 'loupe --version'.

The Debian package and 'make distcheck' take minutes: they run as steps of
their own in .ci/run (tools/deb-check, tools/dist-check).

Run: LOUPE_BUILD=/path/to/build python3 tests/functional/test_install.py -v
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BUILD, LOUPE, SRC, LoupeTestCase, run_loupe, script_path
from test_top import Screen, find_python

MAN = os.path.join(SRC, "man", "loupe.1")
MAN_CONF = os.path.join(SRC, "man", "loupe.conf.5")
COMPLETION = os.path.join(SRC, "tools", "loupe.bash-completion")
UNAVAILABLE = "Not available in this version"


from harness import skip  # noqa: E402


def commands():
    """The commands 'loupe --help' lists."""
    out = run_loupe("--help").stdout
    block = out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]*)  ", block, re.M)]


def help_options(cmd):
    """[(long option, text of its entry)] of 'loupe CMD --help': an entry is
    a line starting with -x, --long or both, with its continuation lines."""
    res = run_loupe(cmd, "--help")
    assert res.returncode == 0, "%s --help: %s" % (cmd, res.stderr)
    entries = []
    for line in res.stdout.splitlines():
        m = re.match(r"^ +(?:-[a-zA-Z], )?(--[a-z][a-z-]*)", line)
        if m:
            entries.append([m.group(1), line])
        elif entries and re.match(r"^ {8,}\S", line) and not line.strip().startswith("-"):
            entries[-1][1] += " " + line.strip()
        elif not line.strip():
            pass
    return [(o, t) for o, t in entries]


def man_text(roff):
    """Roff source to searchable text: \\- is a hyphen, fonts dropped."""
    t = roff.replace("\\-", "-").replace("\\(em", "--")
    t = re.sub(r"\\f[BIRP]", "", t)
    return t


def man_sections():
    """{command: text of its .SS "loupe CMD ..." section}."""
    with open(MAN) as f:
        roff = f.read()
    sections = {}
    parts = re.split(r'^(\.S[SH] .*)$', roff, flags=re.M)
    for head, body in zip(parts[1::2], parts[2::2]):
        m = re.match(r'^\.SS "loupe ([a-z][a-z-]*)', head)
        if m:
            sections[m.group(1)] = man_text(body)
    return sections


def man_paragraph(section, option):
    """The .TP entry of option in a man section: from its tag line to the
    next .TP/.PP."""
    items = re.split(r"^\.(?:TP|PP)\s*$", section, flags=re.M)
    for item in items:
        lines = item.strip().splitlines()
        if lines and re.search(r"(^|[\s\"])%s(\s|\"|$)" % re.escape(option), lines[0]):
            return item
    return None


class ManPage(unittest.TestCase):

    def setUp(self):
        if not os.access(LOUPE, os.X_OK):
            self.fail("loupe binary not built at " + LOUPE)
        self.sections = man_sections()
        self.commands = commands()

    def test_every_command_has_a_section_with_every_option(self):
        self.assertGreaterEqual(len(self.commands), 5)
        for cmd in self.commands:
            self.assertIn(cmd, self.sections,
                          "man/loupe.1 has no section .SS \"loupe %s ...\"" % cmd)
            section = self.sections[cmd]
            self.assertNotIn(UNAVAILABLE, section,
                             "loupe %s exists now: its man section still says "
                             "it is not available" % cmd)
            for opt, entry in help_options(cmd):
                para = man_paragraph(section, opt)
                self.assertIsNotNone(para, "man/loupe.1: 'loupe %s' has no "
                                     "entry for %s (from --help: %r)"
                                     % (cmd, opt, entry.strip()))
                short = re.match(r"^ +(-[a-zA-Z]),", entry)
                if short:
                    self.assertIn(short.group(1), para.splitlines()[1],
                                  "man: %s %s lacks its short form" % (cmd, opt))

    def test_synopsis_lists_every_command(self):
        with open(MAN) as f:
            roff = f.read()
        synopsis = roff.split(".SH SYNOPSIS", 1)[1].split(".SH ", 1)[0]
        listed = re.findall(r"^\.SY loupe\n\.B (\S+)", synopsis, re.M)
        self.assertEqual(sorted(listed), sorted(self.commands))

    def test_defaults_agree_with_help(self):
        """Where --help names a default, the man entry names the same."""
        for cmd in self.commands:
            section = self.sections.get(cmd, "")
            for opt, entry in help_options(cmd):
                para = man_paragraph(section, opt)
                if para is None:
                    continue  # reported by the test above
                m = re.search(r"\(default:?\s*([^);]*)", entry)
                if not m:
                    continue
                word = re.match(r"[\w.]*", m.group(1).strip()).group(0)
                if word:
                    self.assertRegex(para, r"(?is)default.*\b%s\b" % re.escape(word),
                                     "loupe %s %s: --help says default %r, the man "
                                     "page does not" % (cmd, opt, m.group(1)))
                else:
                    self.assertRegex(para, r"(?i)\bdefault\b")

    def test_every_option_entry_names_its_default(self):
        for cmd in self.commands:
            section = self.sections.get(cmd, "")
            for opt, _ in help_options(cmd):
                para = man_paragraph(section, opt) or ""
                self.assertRegex(para, r"(?i)\bdefault\b|\brequired\b",
                                 "man: loupe %s %s says no default" % (cmd, opt))

    def test_unavailable_commands_are_rejected(self):
        """A section marked not available must be a command the binary
        refuses (and is in DESIGN.md's command line), so the page claims
        nothing that does not work and drops the mark when it lands."""
        marked = [c for c, t in self.sections.items() if UNAVAILABLE in t]
        for cmd in marked:
            self.assertNotIn(cmd, self.commands)
            res = run_loupe(cmd, "--help")
            self.assertEqual(res.returncode, 2, "loupe %s now exists: update "
                             "its man section" % cmd)
            self.assertIn("unknown command", res.stderr)
        for cmd in self.sections:
            self.assertTrue(cmd in self.commands or cmd in marked,
                            "man section for unknown command %s" % cmd)

    def test_renders_without_warnings(self):
        if shutil.which("groff") is None:
            skip(self, "groff not installed (apt-get install groff-base)")
        for page in (MAN, MAN_CONF):
            res = subprocess.run(["groff", "-man", "-ww", "-z", page],
                                 capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertEqual(res.stderr.strip(), "", page)

    def test_config_keys_documented(self):
        """Every key the config parser accepts has an entry in loupe.conf(5)
        naming its default, and the page documents no other key."""
        with open(os.path.join(SRC, "ui", "daemon", "daemon_config.c")) as f:
            src = f.read()
        keys = []
        for table in ("global_keys", "target_keys"):
            body = re.search(r"%s\[\] = \{(.*?)\};" % table, src, re.S).group(1)
            keys += re.findall(r'"([a-z_]+)"', body)
        self.assertIn("retention_size", keys)
        with open(MAN_CONF) as f:
            page = man_text(f.read())
        items = re.split(r"^\.(?:TP|PP|SH .*)\s*$", page, flags=re.M)
        documented = {}
        for item in items:
            m = re.match(r'\s*\.BI (\w+) " = ', item)
            if m:
                documented[m.group(1)] = item
        self.assertEqual(sorted(documented), sorted(keys))
        for key, item in documented.items():
            self.assertRegex(item, r"Default:", "loupe.conf(5): %s names no default" % key)


class Install(unittest.TestCase):

    def dirs(self):
        res = subprocess.run(["make", "-s", "-C", BUILD, "print-install-dirs"],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        return dict(l.split("=", 1) for l in res.stdout.split())

    def test_destdir_install_and_uninstall(self):
        d = self.dirs()
        dest = tempfile.mkdtemp(prefix="loupe-destdir-")
        self.addCleanup(shutil.rmtree, dest, True)
        res = subprocess.run(["make", "-s", "-C", BUILD, "install",
                              "DESTDIR=" + dest], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        files = sorted(os.path.relpath(os.path.join(r, f), dest)
                       for r, _, fs in os.walk(dest) for f in fs)
        want = sorted(os.path.join(d[k], name).lstrip("/") for k, name in (
            ("bindir", "loupe"), ("man1dir", "loupe.1"),
            ("man5dir", "loupe.conf.5"),
            ("bashcompletiondir", "loupe"),
            ("systemdsystemunitdir", "loupe.service")))
        self.assertEqual(files, want)
        # The unit names the installed binary and is not enabled.
        unit = open(os.path.join(dest, d["systemdsystemunitdir"].lstrip("/"),
                                 "loupe.service")).read()
        self.assertIn("ExecStart=%s/loupe daemon" % d["bindir"], unit)
        self.assertRegex(unit, r"(?m)^Type=simple$")
        self.assertIn("CAP_SYS_PTRACE", unit)
        self.assertFalse([r for r, _, _ in os.walk(dest) if r.endswith(".wants")],
                         "the unit must be installed disabled")
        # The installed binary runs.
        res = subprocess.run([os.path.join(dest, d["bindir"].lstrip("/"), "loupe"),
                              "--version"], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        res = subprocess.run(["make", "-s", "-C", BUILD, "uninstall",
                              "DESTDIR=" + dest], capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        left = [os.path.join(r, f) for r, _, fs in os.walk(dest) for f in fs]
        self.assertEqual(left, [], "make uninstall left files behind")

    def test_unit_file_is_valid(self):
        if shutil.which("systemd-analyze") is None:
            skip(self, "systemd-analyze not installed")
        unit = os.path.join(BUILD, "tools", "loupe.service")
        tmp = tempfile.mkdtemp(prefix="loupe-unit-")
        self.addCleanup(shutil.rmtree, tmp, True)
        # verify checks that ExecStart names an executable: point it at
        # this build's loupe.
        text = re.sub(r"(?m)^ExecStart=\S+", "ExecStart=" + LOUPE, open(unit).read())
        path = os.path.join(tmp, "loupe.service")
        with open(path, "w") as f:
            f.write(text)
        # and Documentation=man:loupe(1) at this checkout's page
        man1 = os.path.join(tmp, "man", "man1")
        os.makedirs(man1)
        shutil.copy(MAN, man1)
        res = subprocess.run(["systemd-analyze", "verify", path],
                             capture_output=True, text=True,
                             env=dict(os.environ, MANPATH=os.path.join(tmp, "man")))
        errors = [l for l in res.stderr.splitlines()
                  if "loupe.service" in l and "ignoring" not in l.lower()]
        self.assertEqual(errors, [], res.stderr)


class Completion(unittest.TestCase):
    """The completion script sourced in a non-interactive bash, its
    function called the way readline would call it."""

    def setUp(self):
        if shutil.which("bash") is None:
            skip(self, "bash not installed")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()
            p.wait()

    def complete(self, line, bash_completion=False):
        """COMPREPLY for the command line `line` (cursor at its end; a
        trailing space starts a new word)."""
        words = line.split()
        if line.endswith(" "):
            words.append("")
        words[0] = LOUPE
        script = ""
        if bash_completion:
            script += "source /usr/share/bash-completion/bash_completion\n"
        script += "source %s\n" % shlex.quote(COMPLETION)
        script += "COMP_WORDS=(%s)\n" % " ".join(shlex.quote(w) for w in words)
        script += "COMP_CWORD=%d\n" % (len(words) - 1)
        script += "COMP_LINE=%s\nCOMP_POINT=${#COMP_LINE}\n" % shlex.quote(
            " ".join(words))
        script += "_loupe %s %s %s\n" % (shlex.quote(LOUPE), shlex.quote(words[-1]),
                                         shlex.quote(words[-2]))
        script += 'printf "%s\\n" "${COMPREPLY[@]}"\n'
        res = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        return [l for l in res.stdout.split("\n") if l]

    def test_command(self):
        self.assertEqual(self.complete("loupe rec"), ["record"])
        self.assertEqual(sorted(self.complete("loupe ")), sorted(commands()))

    def test_formats_are_loupes(self):
        res = run_loupe("report", "x.loupe", "--format", "nonesuch")
        self.assertEqual(res.returncode, 2)
        m = re.search(r"use (.*?) \(see", res.stderr)
        accepted = re.split(r",\s*|\s+or\s+", m.group(1).strip())
        got = self.complete("loupe record --format ")
        self.assertEqual(sorted(got), sorted(accepted))
        self.assertEqual(self.complete("loupe record --format fl"), ["flamegraph"])
        # every command that takes --format accepts what completion offers
        for cmd in commands():
            if "--format" not in [o for o, _ in help_options(cmd)]:
                continue
            for f in self.complete("loupe %s --format " % cmd):
                res = run_loupe(cmd, "--format", f, "--nonesuch-option")
                self.assertNotIn("format", res.stderr,
                                 "loupe %s rejects --format %s" % (cmd, f))

    def test_modes(self):
        res = run_loupe("record", "-o", "x.txt", "--mode", "nonesuch", "-p", "1")
        m = re.search(r"use (.*?) \(see", res.stderr)
        accepted = re.split(r",\s*|\s+or\s+", m.group(1).strip())
        self.assertEqual(sorted(self.complete("loupe top --mode ")), sorted(accepted))

    def test_options_per_command(self):
        for cmd in commands():
            want = sorted(set(o for o, _ in help_options(cmd)))
            got = sorted(set(self.complete("loupe %s --" % cmd)))
            self.assertEqual(got, want, cmd)
        self.assertEqual(self.complete("loupe diff --thresh"), ["--threshold"])
        self.assertNotIn("--threshold", self.complete("loupe record --"))

    def test_pids_with_names(self):
        p = subprocess.Popen(["sleep", "60"])
        self.procs.append(p)
        listed = self.complete("loupe top -p ")
        self.assertIn("%d (sleep)" % p.pid, listed)
        # A single match is the bare PID: what the shell inserts.
        self.assertEqual(self.complete("loupe record -p %d" % p.pid), [str(p.pid)])
        self.assertEqual(self.complete("loupe dump --pid %d" % p.pid), [str(p.pid)])

    def test_recordings_with_bash_completion(self):
        if not os.path.exists("/usr/share/bash-completion/bash_completion"):
            skip(self, "bash-completion not installed (apt-get install bash-completion)")
        tmp = tempfile.mkdtemp(prefix="loupe-compl-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for name in ("a.loupe", "b.loupe", "notes.txt"):
            open(os.path.join(tmp, name), "w").close()
        got = self.complete("loupe report %s/" % tmp, bash_completion=True)
        self.assertEqual(sorted(os.path.basename(g) for g in got),
                         ["a.loupe", "b.loupe"])
        got = self.complete("loupe record -o %s/n" % tmp, bash_completion=True)
        self.assertEqual([os.path.basename(g) for g in got], ["notes.txt"])

    def test_report_pids_of_the_recording(self):
        """report -p offers the PIDs the recording holds, not live ones."""
        gen = os.path.join(BUILD, "tests", "unit", "gen_tree_recording")
        if not os.access(gen, os.X_OK):
            self.fail("tests/unit/gen_tree_recording not built at " + gen)
        tmp = tempfile.mkdtemp(prefix="loupe-compl-")
        self.addCleanup(shutil.rmtree, tmp, True)
        rec = os.path.join(tmp, "tree.loupe")
        subprocess.run([gen, rec, "2", "10"], check=True)
        self.assertEqual(sorted(self.complete("loupe report %s -p " % rec)),
                         ["4000", "4001", "4002"])
        self.assertEqual(self.complete("loupe report %s -p 4002" % rec), ["4002"])

    def test_command_after_dashdash(self):
        # what follows -- is a command line of its own
        self.assertIn("sleep", self.complete("loupe record -o x.txt -- slee"))
        if os.path.exists("/usr/share/bash-completion/bash_completion"):
            self.assertIn("sleep", self.complete("loupe top -- slee",
                                                 bash_completion=True))
        self.assertEqual(self.complete("loupe --ver"), ["--version"])


class StatusLine(LoupeTestCase):
    """record's live status line: on a terminal (a tmux pane), updated while
    it samples, gone when it ends; nothing of it when stderr is a file."""

    STATUS = re.compile(r"loupe record (\d\d):(\d\d) of 4 s \| (\d+) samples \| "
                        r"([\d.]+)/50 Hz \| (\d+) missed \| (\d+) threads? \| "
                        r"[\d.]+ (?:B|KiB|MiB) (written|in memory) \| Ctrl-C to stop")

    def setUp(self):
        super().setUp()
        if shutil.which("tmux") is None:
            skip(self, "tmux not installed (apt-get install tmux)")
        self.python = find_python()
        if self.python is None:
            skip(self, "no CPython 3 to run the target")
        self.screens = []

    def tearDown(self):
        for s in self.screens:
            s.kill()
        super().tearDown()

    def screen(self, argv, height=10):
        s = Screen(self.tmp, argv, width=150, height=height)
        self.screens.append(s)
        return s

    def test_status_line_on_a_terminal(self):
        t = self.start([self.python, script_path("split.py")])
        out = os.path.join(self.tmp, "out.loupe")
        s = self.screen([LOUPE, "record", "-p", str(t.pid), "-r", "50", "-d", "4",
                         "-o", out])
        seen = []

        def status(lines):
            for l in lines:
                m = self.STATUS.search(l)
                if m and (not seen or seen[-1] != m.groups()):
                    seen.append(m.groups())
            return len(seen) >= 3
        s.wait(status, "a status line updated three times", timeout=10)
        first, last = seen[0], seen[-1]
        self.assertGreater(int(last[2]), int(first[2]), "samples do not grow")
        self.assertEqual(last[6], "written")  # .loupe streams to the file
        self.assertEqual(s.status(), 0)
        lines = s.wait(lambda l: any("loupe: took" in x for x in l), "the summary")
        text = "\n".join(lines)
        self.assertNotIn("Ctrl-C to stop", text, "status line not erased")
        self.assertTrue(os.path.exists(out))

    def test_trace_status_line(self):
        """loupe trace's line: stalls found so far and syscalls read, no
        rate (it samples only busy loops); erased before the summary."""
        if "trace" not in commands():
            skip(self, "this build has no loupe trace")
        t = self.start([self.python, script_path("async_stall.py")])
        s = self.screen([LOUPE, "trace", "-p", str(t.pid), "-d", "4"], height=80)
        line = re.compile(r"loupe trace (\d\d):(\d\d) of 4 s \| (\d+) samples \| "
                          r"(\d+) threads? \| (\d+) stalls?, (\d+) syscalls \| "
                          r"Ctrl-C to stop")

        def stalls_seen(lines):
            return any(m and int(m.group(5)) >= 1
                       for m in map(line.search, lines))
        s.wait(stalls_seen, "a trace status line with a stall", timeout=10)
        self.assertEqual(s.status(), 0)
        lines = s.wait(lambda l: any("Event loop on thread" in x for x in l),
                       "the summary")
        self.assertNotIn("Ctrl-C to stop", "\n".join(lines))

    def test_a_warning_goes_above_the_line(self):
        """A message printed while recording (here: the rate cannot be
        kept) starts on a line of its own, and the status line comes back
        below it."""
        t = self.start([self.python, script_path("split.py")])
        out = os.path.join(self.tmp, "out.txt")
        # wall mode: every tick reads the stacks, which 1 MHz cannot keep
        # (cpu mode reads them only for ticks that ran a period)
        s = self.screen([LOUPE, "record", "--mode", "wall", "-p", str(t.pid),
                         "-r", "1000000", "-d", "6", "-o", out])

        def warned_then_status(lines):
            text = [l for l in lines if l.strip()]
            w = [i for i, l in enumerate(text) if l.startswith("loupe: warning: cannot keep")]
            return w and any("Ctrl-C to stop" in l for l in text[w[0] + 1:])
        lines = s.wait(warned_then_status, "the warning, then the status line below it")
        self.assertFalse([l for l in lines if "Ctrl-C to stoploupe" in l])
        self.assertEqual(s.status(), 0)

    def test_quiet_and_file_show_none(self):
        t = self.start([self.python, script_path("split.py")])
        out = os.path.join(self.tmp, "out.txt")
        # stderr to a file: only the summary, no status, no carriage return
        err = os.path.join(self.tmp, "err")
        with open(err, "w") as f:
            res = subprocess.run([LOUPE, "record", "-p", str(t.pid), "-d", "1.5",
                                  "-o", out], stderr=f, timeout=30)
        self.assertEqual(res.returncode, 0)
        text = open(err).read()
        self.assertNotIn("\r", text)
        self.assertNotIn("Ctrl-C", text)
        self.assertRegex(text, r"(?m)^loupe: took \d+ of \d+ samples")
        # -q on a terminal: nothing at all while it runs
        s = self.screen([LOUPE, "record", "-q", "-p", str(t.pid), "-d", "1.5",
                         "-o", out])
        deadline = time.monotonic() + 10
        while True:
            screen = s.text()
            self.assertNotIn("Ctrl-C", screen)
            if os.path.exists(s.status_path) and open(s.status_path).read().strip():
                break
            self.assertLess(time.monotonic(), deadline, "record -q did not end")
            time.sleep(0.1)
        self.assertEqual(s.status(), 0)
        self.assertEqual(s.text().strip(), "")

    def test_ctrl_c_ends_it_at_once(self):
        """Ctrl-C reaches the sampler, not the status thread: a recording
        at one sample every 10 s still stops at once."""
        t = self.start([self.python, script_path("split.py")])
        out = os.path.join(self.tmp, "out.txt")
        s = self.screen([LOUPE, "record", "-p", str(t.pid), "-r", "0.1", "-o", out])
        s.wait(lambda l: any("Ctrl-C to stop" in x for x in l), "the status line")
        start = time.monotonic()
        s.keys("C-c")
        self.assertEqual(s.status(), 0)
        self.assertLess(time.monotonic() - start, 3.0)
        self.assertIsNone(t.proc.poll())


class ProgressBar(LoupeTestCase):
    """report and diff on a large recording: a bar on stderr when it is a
    terminal (a pty), none when it is a pipe or the input is small."""

    def recording(self, name, seconds):
        gen = os.path.join(BUILD, "tests", "unit", "gen_recording")
        if not os.access(gen, os.X_OK):
            self.fail("tests/unit/gen_recording not built at " + gen)
        path = os.path.join(self.tmp, name)
        # 8 threads at 100 Hz: about 18 bytes a sample, 1500 s ~ 21 MiB
        res = subprocess.run([gen, path, str(seconds), "100", "8", "500"],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        return path

    def on_pty(self, *args):
        """Runs loupe ARGS with stderr on a pty; (status, what the pty got)."""
        import pty
        master, slave = pty.openpty()
        out = open(os.path.join(self.tmp, "stdout"), "w")
        p = subprocess.Popen([LOUPE] + list(args), stdout=out, stderr=slave)
        os.close(slave)
        got = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            got += chunk
        os.close(master)
        out.close()
        return p.wait(timeout=60), got.decode(errors="replace")

    BAR = re.compile(r"\r(loupe (?:report|diff): reading \[[#.]+\] +\d+% "
                     r"[\d.]+ \w+ of [\d.]+ MiB)")

    def test_report_and_diff_of_a_large_recording(self):
        big = self.recording("big.loupe", 1500)
        self.assertGreater(os.path.getsize(big), 16 << 20)
        status, err = self.on_pty("report", big, "-o", os.path.join(self.tmp, "o.txt"))
        self.assertEqual(status, 0, err)
        bars = self.BAR.findall(err)
        self.assertTrue(bars, "no progress bar in %r" % err[:300])
        # erased at the end: the last thing written blanks the line
        self.assertRegex(err, r"\r +\r$")
        status, err = self.on_pty("diff", big, big)
        self.assertEqual(status, 0, err)
        bars = self.BAR.findall(err)
        self.assertTrue(bars and bars[0].startswith("loupe diff"), err[:300])
        # -q, a pipe, a small input: no bar
        status, err = self.on_pty("report", "-q", big, "-o",
                                  os.path.join(self.tmp, "o.txt"))
        self.assertEqual((status, err), (0, ""))
        res = run_loupe("report", big, "-o", os.path.join(self.tmp, "o.txt"))
        self.assertEqual((res.returncode, res.stderr), (0, ""))
        small = self.recording("small.loupe", 10)
        status, err = self.on_pty("report", small, "-o", os.path.join(self.tmp, "o.txt"))
        self.assertEqual((status, err), (0, ""))


class Version(unittest.TestCase):

    def test_version(self):
        res = run_loupe("--version")
        self.assertEqual(res.returncode, 0)
        with open(os.path.join(SRC, "configure.ac")) as f:
            version = re.search(r"AC_INIT\(\[loupe\], \[([^]]+)\]", f.read()).group(1)
        lines = res.stdout.splitlines()
        self.assertEqual(lines[0], "loupe " + version)
        text = res.stdout
        self.assertRegex(text, r"libunwind \d+\.\d+")
        self.assertRegex(text, r"libelf \(elfutils\) \d+\.\d+")
        if shutil.which("pkg-config"):
            for pc, label in (("libunwind", "libunwind"), ("libelf", "libelf (elfutils)")):
                v = subprocess.run(["pkg-config", "--modversion", pc],
                                   capture_output=True, text=True).stdout.strip()
                if v:
                    self.assertIn("%s %s" % (label, v), text)
        m = re.search(r"CPython: (.*) from built-in offset tables", text)
        self.assertIsNotNone(m, text)
        builtin = m.group(1).split(", ")
        self.assertEqual(builtin[0], "2.7")
        self.assertIn("3.6", builtin)
        self.assertIn("3.12", builtin)
        self.assertNotIn("3.13", builtin)  # read from the process instead
        self.assertIn("3.13 and later from the interpreter's own _Py_DebugOffsets",
                      text)
        self.assertEqual(run_loupe("-V").stdout, res.stdout)

    def test_debian_changelog_matches(self):
        with open(os.path.join(SRC, "configure.ac")) as f:
            version = re.search(r"AC_INIT\(\[loupe\], \[([^]]+)\]", f.read()).group(1)
        with open(os.path.join(SRC, "debian", "changelog")) as f:
            first = f.readline()
        m = re.match(r"loupe \(([^)]+)\)", first)
        self.assertIsNotNone(m)
        self.assertEqual(m.group(1).split("-")[0], version,
                         "debian/changelog and configure.ac disagree on the version")


if __name__ == "__main__":
    unittest.main()
