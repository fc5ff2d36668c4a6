"""Where the functional tests find their interpreters: each finder returns
(path, None), or (None, why) for a printed skip.  PyEnv's 3.x, Debian's
static /usr/bin/python3.11 (optionally with a module, such as uvloop), and
Debian unstable's static 3.14 and 3.15 unpacked by tools/get-python."""
import glob
import os
import subprocess

PYENV = "/root/.pyenv/versions"
DEBIAN = "/usr/bin/python3.11"


def pyenv(minor):
    found = sorted(glob.glob(os.path.join(PYENV, minor + ".*", "bin",
                                          "python" + minor)))
    if found:
        return found[-1], None
    return None, "CPython %s not found under %s (pyenv install %s)" % (
        minor, PYENV, minor)


def debian(module=None):
    if not os.access(DEBIAN, os.X_OK):
        return None, "%s not found (Debian's python3.11-minimal)" % DEBIAN
    if module and subprocess.run([DEBIAN, "-c", "import " + module],
                                 capture_output=True).returncode != 0:
        return None, "%s cannot import %s (apt-get install python3-%s)" % (
            DEBIAN, module, module)
    return DEBIAN, None


def opt(minor):
    """A finder for Debian's 3.<minor> under /opt (LOUPE_PY3<minor>)."""
    def find():
        p = os.environ.get("LOUPE_PY3%d" % minor,
                           "/opt/loupe-py3%d/usr/bin/python3.%d"
                           % (minor, minor))
        if os.access(p, os.X_OK):
            return p, None
        return None, ("%s not found (run tools/get-python 3.%d or set "
                      "LOUPE_PY3%d)" % (p, minor, minor))
    return find


# The asyncio graph's and chains' setups: (test suffix, finder, extra
# target arguments, minor version).
ASYNC_SETUPS = [("py3%d" % m, (lambda m=m: pyenv("3.%d" % m)), [], m)
                for m in range(8, 14)]
ASYNC_SETUPS += [
    ("py314", opt(14), [], 14),
    ("py315", opt(15), [], 15),
    ("py311_debian", debian, [], 11),
    ("py311_debian_uvloop", lambda: debian("uvloop"), ["--uvloop"], 11),
]

# Debian unstable's static 3.14 and 3.15 (tools/get-python)
py314 = opt(14)
py315 = opt(15)
