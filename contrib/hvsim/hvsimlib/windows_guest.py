"""windows_guest: a simulated Windows VM: a WINEPREFIX per VM
(<workdir>/wineprefix, ``wineprefix``) whose registry holds
HKLM\\SOFTWARE\\Microsoft\\Virtual Machine\\{Auto, Guest, External,
Guest\\Parameters}. Auto is seeded with the intrinsic items a Windows guest
publishes and Guest\\Parameters with the host facts. The registry is read
and written through hvsim-winreg.exe (wine/hvsim-winreg.c), a mingw-w64
console program that runs under Wine for the VM's lifetime and serves line
commands on stdin/stdout (protocol in that file). A hvkvp-reporter.exe for
this guest runs under Wine with ``wine_env()`` (same WINEPREFIX, so the same
wineserver and registry) and ``--store registry:Auto`` (``store_spec``).
Creating a prefix takes seconds; pass ``template=DIR`` (or set
HVSIM_WINE_TEMPLATE) to create one prefix once and clone it per VM (wine.py).

Helper answer lines are bounded (MAX_LINE bytes) and so are item counts
(MAX_ITEMS): the registry is guest-owned.
"""

import collections
import os
import select
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid

from .guest_base import (MAX_ITEMS, GuestError, ProcessGuest, build_dir,
                         default_hostname, default_parameters, tail)
from .wine import (copy_prefix, ensure_wine_template, run_wine, stop_wine,
                   wine_environment)

SUB_AUTO = "Auto"
SUB_GUEST = "Guest"
SUB_EXTERNAL = "External"
SUB_PARAMETERS = "Guest\\Parameters"

# Bound on one answer line from the helper (the registry is guest-owned).
MAX_LINE = 8 * 1024 * 1024


def _default_intrinsic(name, hostname):
    """What a Windows Server 2022 guest's integration services publish."""
    n = uuid.uuid5(uuid.NAMESPACE_DNS, "hvsim." + name).int
    ipv4 = "192.0.2.%d" % (2 + n % 250)
    ipv6 = "fe80::215:5dff:fe%02x:%x" % ((n >> 8) & 255,
                                        (n >> 16) & 0xffff)
    return {
        "FullyQualifiedDomainName": hostname,
        "OSName": "Windows Server 2022 Datacenter",
        "OSVersion": "10.0.20348",
        "CSDVersion": "",
        "OSMajorVersion": "10",
        "OSMinorVersion": "0",
        "OSBuildNumber": "20348",
        "OSPlatformId": "2",
        "ServicePackMajor": "0",
        "ServicePackMinor": "0",
        "SuiteMask": "400",
        "ProductType": "3",
        "OSEditionId": "8",
        "ProcessorArchitecture": "9",
        "IntegrationServicesVersion": "10.0.20348.1",
        "NetworkAddressIPv4": ipv4,
        "NetworkAddressIPv6": ipv6,
        "RDPAddressIPv4": ipv4,
        "RDPAddressIPv6": ipv6,
    }


def _quote(text):
    """Percent-encodes a field for hvsim-winreg (see hvsim-winreg.c): every
    byte but [A-Za-z0-9._~-] becomes %XX."""
    return urllib.parse.quote(text.encode("utf-8"), safe="")


def _unquote(field):
    return urllib.parse.unquote_to_bytes(field).decode("utf-8", "replace")



def default_winreg_exe(build=None):
    """The Wine registry helper: $HVSIM_WINREG_EXE, else the mingw build
    ($HVKVP_WIN_BUILD_DIR or <repo>/build-win)/contrib/hvsim/wine/
    hvsim-winreg.exe, else the copy the native test build cross-compiles
    (<build>/tests/hvsim/hvsim-winreg.exe). Raises GuestError if none."""
    env = os.environ.get("HVSIM_WINREG_EXE")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.environ.get("HVKVP_SOURCE_DIR") or os.path.dirname(
        os.path.dirname(os.path.dirname(here)))
    cands = []
    win = os.environ.get("HVKVP_WIN_BUILD_DIR") or os.path.join(repo,
                                                                "build-win")
    cands.append(os.path.join(win, "contrib", "hvsim", "wine",
                              "hvsim-winreg.exe"))
    bd = build_dir(build)
    if bd:
        cands.append(os.path.join(bd, "tests", "hvsim", "hvsim-winreg.exe"))
    for c in cands:
        if os.path.isfile(c):
            return c
    raise GuestError("cannot find hvsim-winreg.exe (looked in %s): set "
                     "HVSIM_WINREG_EXE or build it (scripts/build-windows.sh)"
                     % ", ".join(cands))



class WindowsGuest(ProcessGuest):
    """A Windows VM: a Wine registry, served by hvsim-winreg.exe."""

    kind = "windows"

    def __init__(self, name, workdir, helper_exe=None, hostname=None,
                 intrinsic=None, parameters=None, template=None,
                 timeout=30.0, boot_timeout=300.0):
        self.name = name
        self.workdir = os.path.abspath(workdir)
        self.hostname = hostname or default_hostname(name)
        self.helper_exe = os.path.abspath(helper_exe or default_winreg_exe())
        self.timeout = float(timeout)
        self.wineprefix = os.path.join(self.workdir, "wineprefix")
        self.store_spec = "registry:Auto"
        self.pool_dir = None
        self.log_path = os.path.join(self.workdir, "wine.log")
        self.template = template or os.environ.get("HVSIM_WINE_TEMPLATE")
        self.round_trips = 0
        self._proc = None
        self._buf = b""  # partial line from the helper
        self._lines = collections.deque()  # complete lines not yet read
        self._lock = threading.Lock()
        self._intrinsic = _default_intrinsic(name, self.hostname)
        if intrinsic:
            self._intrinsic.update(intrinsic)
        self._params = default_parameters(name, self.hostname)
        if parameters:
            self._params.update(parameters)
        if not os.path.isfile(self.helper_exe):
            raise GuestError("%s: helper %s does not exist"
                             % (name, self.helper_exe))
        try:
            self._start(boot_timeout)
        except BaseException:
            self.close()
            raise

    def wine_env(self):
        """Environment for Wine programs of this guest (e.g. the reporter:
        `wine hvkvp-reporter.exe --store registry:Auto`)."""
        return wine_environment(self.wineprefix)

    def _start(self, boot_timeout):
        os.makedirs(self.workdir, exist_ok=True)
        if not os.path.exists(os.path.join(self.wineprefix, "system.reg")):
            if os.path.exists(self.wineprefix):
                shutil.rmtree(self.wineprefix)
            if self.template:
                ensure_wine_template(self.template, timeout=boot_timeout)
                copy_prefix(self.template, self.wineprefix)
            else:
                run_wine(["wine", "wineboot", "--init"], self.wineprefix,
                          self.log_path, boot_timeout,
                          "%s: wineboot --init" % self.name)
        log = open(self.log_path, "ab")
        try:
            self._proc = subprocess.Popen(
                ["wine", self.helper_exe], env=self.wine_env(),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True)
        finally:
            log.close()
        line = self._readline(time.monotonic() + max(self.timeout, 60.0),
                              "start-up")
        if not line.startswith("READY hvsim-winreg 1"):
            raise GuestError("%s: unexpected greeting from %s: %r"
                             % (self.name, self.helper_exe, line))
        for sub in (SUB_AUTO, SUB_GUEST, SUB_EXTERNAL, SUB_PARAMETERS):
            self._command(["MKKEY", sub])
        for k, v in self._intrinsic.items():
            self.set(SUB_AUTO, k, v)
        for k, v in self._params.items():
            self.set(SUB_PARAMETERS, k, v)

    # -- helper protocol -----------------------------------------------------

    def _readline(self, deadline, what):
        fd = self._proc.stdout.fileno()
        while not self._lines:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("%s: %s: hvsim-winreg did not answer within "
                                 "%.1f s" % (self.name, what, self.timeout))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise GuestError("%s: %s: hvsim-winreg exited (status %s); "
                                 "log: %s" % (self.name, what,
                                              self._proc.poll(),
                                              tail(self.log_path)))
            parts = (self._buf + chunk).split(b"\n")
            self._buf = parts.pop()
            self._lines.extend(parts)
            if len(self._buf) > MAX_LINE:
                raise GuestError("%s: %s: answer line over %d bytes"
                                 % (self.name, what, MAX_LINE))
        return self._lines.popleft().decode("ascii", "replace")

    def _command(self, fields, limit=MAX_ITEMS):
        """Sends one request; returns (ok_fields, item_lines) or raises
        GuestError; an ERR 2 (not found) answer returns None."""
        what = " ".join(fields[:3])
        line = " ".join([fields[0]] + [_quote(f) for f in fields[1:]])
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                raise GuestError("%s: %s: hvsim-winreg is not running"
                                 % (self.name, what))
            deadline = time.monotonic() + self.timeout
            try:
                self._proc.stdin.write(line.encode("ascii") + b"\n")
                self._proc.stdin.flush()
            except OSError as e:
                raise GuestError("%s: %s: cannot write to hvsim-winreg: %s"
                                 % (self.name, what, e))
            items = []
            while True:
                ans = self._readline(deadline, what).split(" ")
                if ans[0] == "ITEM":
                    if len(items) >= limit:
                        raise GuestError("%s: %s: more than %d items"
                                         % (self.name, what, limit))
                    items.append([_unquote(a) for a in ans[1:]])
                    continue
                self.round_trips += 1
                if ans[0] == "OK":
                    return [_unquote(a) for a in ans[1:]], items
                if ans[0] == "ERR" and len(ans) >= 2:
                    if ans[1] == "2":
                        return None
                    raise GuestError("%s: %s: %s (Win32 error %s)"
                                     % (self.name, what,
                                        _unquote(" ".join(ans[2:])), ans[1]))
                raise GuestError("%s: %s: unexpected answer %r"
                                 % (self.name, what, " ".join(ans)))

    def list_key(self, sub):
        """{name: value} of HKLM\\...\\Virtual Machine\\<sub>; {} if the key
        does not exist."""
        res = self._command(["LIST", sub])
        if res is None:
            return {}
        return {it[0]: (it[1] if len(it) > 1 else "") for it in res[1]}

    def get(self, sub, name):
        res = self._command(["GET", sub, name])
        if res is None:
            return None
        return res[0][0] if res[0] else ""

    def set(self, sub, name, value):
        for what, text in (("name", name), ("value", value)):
            if not isinstance(text, str) or "\0" in text:
                raise ValueError("%s must be a str without NUL" % what)
        if not name:
            raise ValueError("name must not be empty")
        if value == "":
            self._command(["SET", sub, name])
        else:
            self._command(["SET", sub, name, value])

    def delete(self, sub, name):
        """Removes a value; returns False if it was not there."""
        return self._command(["DEL", sub, name]) is not None

    # -- simulator adapter ----------------------------------------------------

    def intrinsic_items(self):
        return self.list_key(SUB_AUTO)

    def guest_items(self):
        return self.list_key(SUB_GUEST)

    def host_items(self):
        return self.list_key(SUB_EXTERNAL)

    def publish_host_item(self, key, value):
        self.set(SUB_EXTERNAL, key, value)

    def remove_host_item(self, key):
        return self.delete(SUB_EXTERNAL, key)

    def parameters(self):
        return self.list_key(SUB_PARAMETERS)

    def close(self):
        """Stops the helper and every Wine process of this prefix (its
        wineserver included, so the registry is saved). Safe to call
        twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.poll() is None:
                    proc.stdin.write(b"QUIT\n")
                    proc.stdin.flush()
                proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        if os.path.isdir(self.wineprefix):
            stop_wine(self.wineprefix, self.log_path)

    def __repr__(self):
        return "WindowsGuest(%r, wineprefix=%r)" % (self.name,
                                                    self.wineprefix)

