"""Shared by tests/packaging/test_*.py: where scripts/package.sh left the
packages (HVKVP_PACKAGES_DIR, made by the packaging_build test) and a
runner that fails with the command's output."""
import glob
import os
import subprocess

SRC = os.environ.get("HVKVP_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("HVKVP_BUILD_DIR") or os.path.join(SRC, "build")
OUT = os.environ.get("HVKVP_PACKAGES_DIR") or os.path.join(BUILD, "packages")


def version():
    with open(os.path.join(SRC, "CMakeLists.txt")) as f:
        for line in f:
            if line.startswith("project(hvkvp VERSION "):
                return line.split()[2]
    raise AssertionError("no project(hvkvp VERSION ...) in CMakeLists.txt")


def package(pattern):
    """The one file in OUT matching pattern (a glob)."""
    found = glob.glob(os.path.join(OUT, pattern))
    if len(found) != 1:
        raise AssertionError("expected one %s in %s (packaging_build makes "
                             "them), found %r" % (pattern, OUT, found))
    return found[0]


def run(argv, ok=(0,), **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)
    if r.returncode not in ok:
        raise AssertionError("%s: exit %d\n%s\n%s" % (" ".join(argv), r.returncode,
                                                     r.stdout[-4000:], r.stderr[-4000:]))
    return r
