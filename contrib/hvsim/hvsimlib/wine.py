"""wine: Wine prefixes for simulated Windows guests: the environment every
Wine program of a guest runs with, creating a prefix (wineboot) or cloning
a template prefix, finding and stopping every process of a prefix (its
wineserver included), and Wine's own `reg` tool for cross-checks.
"""

import fcntl
import os
import re
import shutil
import signal
import subprocess
import time

from .guest_base import GuestError, tail

def wine_environment(prefix):
    """The environment for any Wine program of a simulated Windows guest
    (the helper, wineboot, a hvkvp-reporter.exe): no display, no debug
    output, no Mono/Gecko install dialogs, no menu entries."""
    env = dict(os.environ)
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "LD_PRELOAD"):
        env.pop(k, None)
    env.update(WINEPREFIX=prefix, WINEDEBUG="-all", WINEARCH="win64",
               WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d")
    return env


def wine_reg(prefix, *args, timeout=120):
    """Runs Wine's own `reg` tool in a guest's prefix (tests cross-check the
    helper with it). reg.exe now and then crashes in the loader's exit path
    after doing its work ("Inconsistency detected by ld.so: dl-fini.c",
    rc 127); its operations are idempotent, so that case is run again."""
    for _ in range(3):
        p = subprocess.run(["wine", "reg"] + list(args),
                           env=wine_environment(prefix),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        if not (p.returncode == 127 and
                b"Inconsistency detected by ld.so" in p.stderr):
            break
    return p


def run_wine(args, prefix, log_path, timeout, what):
    with open(log_path, "ab") as log:
        try:
            rc = subprocess.run(args, env=wine_environment(prefix),
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise GuestError("%s did not finish within %.0f s; log: %s"
                             % (what, timeout, tail(log_path)))
        except OSError as e:
            raise GuestError("%s: cannot run %s: %s" % (what, args[0], e))
    if rc != 0:
        raise GuestError("%s failed with status %d; log: %s"
                         % (what, rc, tail(log_path)))


def _server_dir(prefix):
    """The directory this prefix's wineserver runs in (its cwd): Debian's
    Wine records a /tmp/wine-XXXXXX name in <prefix>/wineserver, the server
    dir inside it is server-<dev>-<inode> of the prefix."""
    try:
        st = os.stat(prefix)
        with open(os.path.join(prefix, "wineserver")) as f:
            base = f.read().strip()
    except OSError:
        return None
    if not re.fullmatch(r"[A-Za-z0-9._-]+", base):
        return None
    return os.path.join(os.environ.get("TMPDIR", "/tmp"), base,
                        "server-%x-%x" % (st.st_dev, st.st_ino))


def wine_processes(prefix):
    """PIDs of live (non-zombie) processes of this prefix: its wineserver
    (cwd = the server dir) and every Wine process with WINEPREFIX=prefix."""
    prefix = os.path.abspath(prefix)
    sdir = _server_dir(prefix)
    marker = ("WINEPREFIX=" + prefix).encode() + b"\0"
    pids = []
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent, "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state in (b"Z", b"X"):
                continue
            hit = sdir is not None and os.readlink(
                "/proc/%s/cwd" % ent) == sdir
            if not hit:
                with open("/proc/%s/environ" % ent, "rb") as f:
                    hit = marker in b"\0" + f.read()
        except (OSError, IndexError):
            continue
        if hit:
            pids.append(int(ent))
    return pids


def copy_prefix(template, prefix):
    """Clones a Wine prefix: drive_c/windows (Wine's ~700 MB of system
    files, never written in place) is hard-linked, the rest copied; the
    registry files are thus private. The template's `wineserver` file is
    left out so the clone gets its own server directory."""
    os.makedirs(prefix)
    for ent in os.listdir(template):
        src, dst = os.path.join(template, ent), os.path.join(prefix, ent)
        if ent == "wineserver":
            continue
        if ent == "drive_c":
            os.makedirs(dst)
            for sub in os.listdir(src):
                s, d = os.path.join(src, sub), os.path.join(dst, sub)
                if sub == "windows":
                    shutil.copytree(s, d, symlinks=True,
                                    copy_function=os.link)
                elif os.path.isdir(s) and not os.path.islink(s):
                    shutil.copytree(s, d, symlinks=True)
                else:
                    shutil.copy2(s, d, follow_symlinks=False)
        elif os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)


def stop_wine(prefix, log_path, timeout=15.0):
    """Stops every process of a prefix (wineserver -k, then SIGKILL for
    stragglers of this prefix); raises GuestError if any survive."""
    if os.path.isdir(prefix) and wine_processes(prefix):
        try:
            run_wine(["wineserver", "-k"], prefix, log_path, timeout,
                      "wineserver -k")
        except GuestError:
            pass  # checked below by looking at the processes
    deadline = time.monotonic() + timeout
    while True:
        left = wine_processes(prefix)
        if not left:
            break
        if time.monotonic() > deadline:
            raise GuestError("Wine processes of %s survive: %s"
                             % (prefix, left))
        if time.monotonic() > deadline - timeout / 2:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
    # No process of the prefix is left: remove its server directory (the
    # wineserver leaves its lock file there) and the /tmp/wine-XXXXXX
    # directory holding it if that is then empty.
    sdir = _server_dir(prefix)
    if sdir and os.path.isdir(sdir):
        for ent in ("lock", "socket"):
            try:
                os.unlink(os.path.join(sdir, ent))
            except FileNotFoundError:
                pass
        for d in (sdir, os.path.dirname(sdir)):
            try:
                os.rmdir(d)
            except OSError:
                break


def ensure_wine_template(template, log_path=None, timeout=300.0):
    """Creates the Wine prefix `template` once (wineboot), under a lock so
    concurrent simulators share it; returns its path."""
    template = os.path.abspath(template)
    os.makedirs(os.path.dirname(template), exist_ok=True)
    log_path = log_path or template + ".log"
    done = os.path.join(template, ".hvsim-template-ok")
    with open(template + ".lock", "w") as lk:
        fcntl.lockf(lk, fcntl.LOCK_EX)
        if not os.path.exists(done):
            if os.path.exists(template):
                shutil.rmtree(template)
            run_wine(["wine", "wineboot", "--init"], template, log_path,
                      timeout, "wineboot --init (template %s)" % template)
            stop_wine(template, log_path)
            open(done, "w").close()
    return template

