"""guest_base: what the real guests (linux_guest.py, windows_guest.py)
share: their error type, the host facts Hyper-V gives every guest, default
host names, the build directory, and quoting a log's tail in errors.
"""

import os
import re
import uuid

# Bound on items read from one pool or key: a guest is hostile to the host.
MAX_ITEMS = 100000


class GuestError(Exception):
    """A simulated guest failed; the message names the VM and the cause."""


class ProcessGuest:
    """What both real guests share: a process that serves the guest
    (hv_kvp_daemon, hvsim-winreg.exe) in self._proc, and close() as the
    end of a with block."""

    _proc = None

    @property
    def pid(self):
        return self._proc.pid if self._proc is not None else None

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def tail(path, limit=2000):
    """The last `limit` bytes of a log file as text ("" if unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def build_dir(given):
    return given or os.environ.get("HVSIM_BUILD_DIR")


def vm_guid(name):
    """The GUID of the VM called name: uuid5(NAMESPACE_DNS, "hvsim." +
    name), upper case (the simulator and the guest's VirtualMachineId)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "hvsim." + name)).upper()


def default_hostname(name):
    h = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-").lower()[:63]
    return h or "hvsim-vm"


def default_parameters(name, hostname):
    """Host facts Hyper-V gives a guest (pool 3 / Guest\\Parameters)."""
    return {
        "HostName": "hvsim-host.hvsim.test",
        "PhysicalHostName": "HVSIM-HOST",
        "PhysicalHostNameFullyQualified": "hvsim-host.hvsim.test",
        "VirtualMachineId": vm_guid(name),
        "VirtualMachineName": name,
    }
