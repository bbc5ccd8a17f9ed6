"""guests: the real guests behind the Hyper-V simulator, each backed by the
real software a guest runs:

LinuxGuest(name, workdir, shim_path=None, hostname=None, ...)  linux_guest.py
    one real hv_kvp_daemon in its own namespaces; this process plays the
    kernel over a simulated VMBus (vmbus.py, kvp_msg.py).
WindowsGuest(name, workdir, helper_exe=None, ...)            windows_guest.py
    a Wine prefix whose registry is served by hvsim-winreg.exe (wine.py).

The adapter both classes expose to the simulator:
    intrinsic_items() -> dict   Linux: pool 2 via the daemon; Windows: Auto
    guest_items() -> dict       Linux: pool 1 via the daemon; Windows: Guest
    host_items() -> dict        Linux: pool 0 via the daemon; Windows: External
    publish_host_item(key, value) / remove_host_item(key)
                                Linux: SET / DELETE on pool 0 via the daemon;
                                Windows: External
    parameters() -> dict        Linux: pool 3; Windows: Guest\\Parameters
    store_spec                  the --store argument of this guest's reporter
    kind                        "linux" or "windows"
    close()                     stops everything; leaves no process or mount
Note: the Windows reporter's default store is Auto, so on Windows guests the
hvkvp items show up among intrinsic_items() (GuestIntrinsicExchangeItems), as
on real Hyper-V; with ``--store registry:Guest`` they show up in
guest_items(). The simulator must look for them in both.

Values come back as str: bytes that are not valid UTF-8 (a guest may write
anything) are replaced by U+FFFD; item counts are capped at MAX_ITEMS and a
helper answer line at MAX_LINE bytes (exceeding them is a GuestError).
Errors are raised as GuestError with a message naming the VM and what
failed; daemon and Wine output go to <workdir>/*.log and the tail of that log
is quoted in start-up errors. Python standard library only.
"""

from .guest_base import GuestError
from .linux_guest import LinuxGuest
from .windows_guest import WindowsGuest

__all__ = ["GuestError", "LinuxGuest", "WindowsGuest", "open_guest"]


def open_guest(kind, name, workdir, **kwargs):
    """Starts a guest of `kind` ("linux" or "windows"); keyword arguments
    go to LinuxGuest / WindowsGuest."""
    if kind == "linux":
        return LinuxGuest(name, workdir, **kwargs)
    if kind == "windows":
        return WindowsGuest(name, workdir, **kwargs)
    raise ValueError("guest kind must be 'linux' or 'windows', not %r"
                     % (kind,))
