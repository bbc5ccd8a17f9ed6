"""Integration test of contrib/hvsim/hvsimlib LinuxGuest: the real Debian
hv_kvp_daemon in a private namespace, driven through the LD_PRELOAD VMBus
shim. Needs HVSIM_BUILD_DIR (for libhvsim_vmbus.so) and HVKVP_SOURCE_DIR;
a missing daemon, shim or privilege makes the test fail, never skip."""

import fcntl
import os
import signal
import struct
import sys
import tempfile
import time
import unittest

SRC = os.environ.get("HVKVP_SOURCE_DIR")
BUILD = os.environ.get("HVSIM_BUILD_DIR")
if not SRC or not BUILD:
    sys.exit("test_guest_linux: set HVKVP_SOURCE_DIR and HVSIM_BUILD_DIR "
             "(ctest does)")
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
from hvsimlib import guests, kvp_msg  # noqa: E402

SHIM = os.path.join(BUILD, "contrib", "hvsim", "libhvsim_vmbus.so")
RECORD = 2560


def write_pool(path, records):
    """Tiny pool writer: whole file rewritten in place under the same
    fcntl write lock hv_kvp_daemon takes (DESIGN.md section 4)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        data = b"".join(records)
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def record(key, value, garbage=b""):
    k, v = key.encode(), value.encode() + b"\0" + garbage
    assert len(k) < 512 and len(v) <= 2048
    return k.ljust(512, b"\0") + v.ljust(2048, b"\0")


def read_pool(path):
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for i in range(0, len(data) - RECORD + 1, RECORD):
        r = data[i:i + RECORD]
        out.append((r[:512].split(b"\0")[0].decode(),
                    r[512:].split(b"\0")[0].decode()))
    return out


def os_release_name():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError("/etc/os-release has no NAME")


def processes_with_env(marker):
    """PIDs of live processes whose environment contains `marker`."""
    pids = []
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent, "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            with open("/proc/%s/environ" % ent, "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(ent))
        except (OSError, IndexError):
            continue
    return pids


class LinuxGuestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for p in (SHIM, "/usr/sbin/hv_kvp_daemon"):
            if not os.path.isfile(p):
                raise AssertionError("%s is missing (build the tree; install "
                                     "hyperv-daemons)" % p)
        cls.tmp = tempfile.TemporaryDirectory(prefix="hvsim-lg-")
        cls.guest = guests.LinuxGuest("vm-linux-1", cls.tmp.name + "/vm1",
                                      SHIM, hostname="vm-linux-1.hvsim.test")

    @classmethod
    def tearDownClass(cls):
        cls.guest.close()
        cls.tmp.cleanup()

    def test_auto_pool_generated_by_daemon(self):
        g = self.guest
        self.assertTrue(g.alive())
        auto = g.intrinsic_items()
        self.assertEqual(auto["FullyQualifiedDomainName"],
                         "vm-linux-1.hvsim.test")
        self.assertEqual(auto["OSName"], os_release_name())
        self.assertEqual(auto["OSBuildNumber"], os.uname().release)
        self.assertEqual(auto["ProcessorArchitecture"], os.uname().machine)
        self.assertEqual(auto["IntegrationServicesVersion"], "3.1")
        self.assertIn("NetworkAddressIPv4", auto)
        # The daemon generates pool 2; it never reads it from a file.
        self.assertEqual(os.path.getsize(g.pool_dir + "/.kvp_pool_2"), 0)
        # The pools live in the private dir, not on the real /var/lib.
        self.assertFalse(os.path.exists("/var/lib/hyperv"))
        self.assertEqual(g.store_spec, "pool:" + g.pool_dir)

    def test_parameters_seeded_in_pool3(self):
        g = self.guest
        params = g.parameters()
        self.assertEqual(params["VirtualMachineName"], "vm-linux-1")
        self.assertEqual(params["HostName"], "hvsim-host.hvsim.test")
        self.assertEqual(len(params["VirtualMachineId"]), 36)
        self.assertEqual(dict(read_pool(g.pool_dir + "/.kvp_pool_3")), params)

    def test_pool1_file_records_enumerate_through_daemon(self):
        g = self.guest
        long_value = "x" * 2047
        recs = [("hvkvp.head", "v=1;epoch=7;slot=A;gen=1"),
                ("cloud-init|foreign", "kept \u00fc\u20ac = ok"),
                ("long", long_value)]
        write_pool(g.pool_dir + "/.kvp_pool_1",
                   [record(k, v, b"GARBAGE" if i == 0 else b"")
                    for i, (k, v) in enumerate(recs)]
                   + [b"partial-record"])
        self.assertEqual(g.enumerate(kvp_msg.POOL_GUEST), recs)
        self.assertEqual(g.guest_items(), dict(recs))
        self.assertEqual(g.get(kvp_msg.POOL_GUEST, "long"), long_value)
        self.assertIsNone(g.get(kvp_msg.POOL_GUEST, "missing"))
        # The daemon re-reads the file on every request.
        write_pool(g.pool_dir + "/.kvp_pool_1", [record("only", "one")])
        self.assertEqual(g.guest_items(), {"only": "one"})

    def test_host_set_and_delete_reach_pool0_file(self):
        g = self.guest
        p0 = g.pool_dir + "/.kvp_pool_0"
        g.publish_host_item("hvkvp.cfg.interval", "10")
        g.publish_host_item("hvkvp.cfg.id", "cfg 1 = \u00e9")
        self.assertEqual(read_pool(p0), [("hvkvp.cfg.interval", "10"),
                                         ("hvkvp.cfg.id", "cfg 1 = \u00e9")])
        g.publish_host_item("hvkvp.cfg.interval", "30")  # modify in place
        self.assertEqual(dict(read_pool(p0))["hvkvp.cfg.interval"], "30")
        self.assertEqual(len(read_pool(p0)), 2)
        self.assertEqual(g.host_items()["hvkvp.cfg.interval"], "30")
        self.assertTrue(g.remove_host_item("hvkvp.cfg.interval"))
        self.assertEqual(read_pool(p0), [("hvkvp.cfg.id", "cfg 1 = \u00e9")])
        self.assertFalse(g.remove_host_item("hvkvp.cfg.interval"))
        self.assertTrue(g.remove_host_item("hvkvp.cfg.id"))
        self.assertEqual(read_pool(p0), [])

    def test_bad_arguments_rejected(self):
        g = self.guest
        with self.assertRaises(ValueError):
            g.set(0, "k" * 512, "v")  # 512 bytes + NUL does not fit
        with self.assertRaises(ValueError):
            g.set(0, "k", "v" * 2048)
        with self.assertRaises(ValueError):
            g.enumerate(5)
        g.set(0, "k" * 511, "v" * 2047)  # the largest that fits
        self.assertEqual(g.get(0, "k" * 511), "v" * 2047)
        self.assertTrue(g.delete(0, "k" * 511))

    def test_round_trip_cost(self):
        g = self.guest
        n = 500
        t0 = time.perf_counter()
        for _ in range(n):
            g.get(kvp_msg.POOL_AUTO_EXTERNAL, "HostName")
        dt = (time.perf_counter() - t0) / n
        print("\nhv_kvp_daemon GET round trip: %.3f ms" % (dt * 1000))
        t0 = time.perf_counter()
        for i in range(100):
            g.set(kvp_msg.POOL_EXTERNAL, "bench", str(i))
        dt = (time.perf_counter() - t0) / 100
        print("hv_kvp_daemon SET round trip: %.3f ms" % (dt * 1000))
        self.assertTrue(g.delete(kvp_msg.POOL_EXTERNAL, "bench"))


class LinuxGuestLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hvsim-lg-")
        self.addCleanup(self.tmp.cleanup)

    def test_reconnect_after_connection_drop(self):
        with guests.LinuxGuest("vm-re", self.tmp.name + "/re", SHIM) as g:
            g.set(0, "before", "1")
            pid = g.pid
            g.drop_connection()
            g.wait_connected(2)
            self.assertEqual(g.pid, pid)  # same daemon, new connection
            self.assertEqual(g.get(0, "before"), "1")
            g.set(0, "after", "2")
            self.assertEqual(g.host_items(), {"before": "1", "after": "2"})

    def test_stuck_daemon_times_out_and_recovers(self):
        with guests.LinuxGuest("vm-to", self.tmp.name + "/to", SHIM,
                               timeout=1.0) as g:
            os.kill(g.pid, signal.SIGSTOP)
            try:
                with self.assertRaises(guests.GuestError) as cm:
                    g.get(0, "x")
                self.assertIn("did not answer", str(cm.exception))
            finally:
                os.kill(g.pid, signal.SIGCONT)
            # The timed-out connection was dropped; the daemon reconnects.
            g.timeout = 10.0
            g.wait_connected(2)
            g.set(0, "k", "v")
            self.assertEqual(g.get(0, "k"), "v")

    def test_close_leaves_no_process_and_no_mount(self):
        work = self.tmp.name + "/cl"
        g = guests.LinuxGuest("vm-close", work, SHIM)
        pid = g.pid
        with open("/proc/%d/mountinfo" % pid) as f:
            ns_mounts = f.read()
        self.assertIn(os.path.join(work, "varlib"), ns_mounts)
        marker = "HVSIM_VMBUS_SOCK=" + os.path.join(work, "vmbus.sock")
        self.assertEqual(processes_with_env(marker), [pid])
        g.close()
        g.close()  # idempotent
        self.assertFalse(g.alive())
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)
        self.assertEqual(processes_with_env(marker), [])
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn(work, f.read())
        self.assertFalse(os.path.exists(os.path.join(work, "vmbus.sock")))
        with self.assertRaises(guests.GuestError):
            g.get(0, "x")

    def test_restart_keeps_pool_files(self):
        work = self.tmp.name + "/rs"
        with guests.open_guest("linux", "vm-rs", work,
                               shim_path=SHIM) as g:
            g.publish_host_item("hvkvp.cfg.id", "kept")
            first_pid = g.pid
        with guests.open_guest("linux", "vm-rs", work,
                               shim_path=SHIM) as g:
            self.assertNotEqual(g.pid, first_pid)
            self.assertEqual(g.host_items(), {"hvkvp.cfg.id": "kept"})
            # Host facts are pushed again at start, not duplicated.
            self.assertEqual(len(read_pool(g.pool_dir + "/.kvp_pool_3")),
                             len(g.parameters()))

    def test_long_workdir_uses_abstract_socket(self):
        work = os.path.join(self.tmp.name, "d" * 120)
        with guests.LinuxGuest("vm-long", work, SHIM) as g:
            self.assertFalse(os.path.exists(os.path.join(work, "vmbus.sock")))
            g.publish_host_item("k", "v")
            self.assertEqual(g.get(kvp_msg.POOL_EXTERNAL, "k"), "v")

    def test_two_guests_are_isolated(self):
        a = guests.LinuxGuest("vm-a", self.tmp.name + "/a", SHIM)
        self.addCleanup(a.close)
        b = guests.LinuxGuest("vm-b", self.tmp.name + "/b", SHIM)
        self.addCleanup(b.close)
        a.publish_host_item("who", "a")
        self.assertEqual(b.host_items(), {})
        self.assertEqual(a.intrinsic_items()["FullyQualifiedDomainName"],
                         "vm-a")
        self.assertEqual(b.intrinsic_items()["FullyQualifiedDomainName"],
                         "vm-b")

    def test_missing_daemon_fails_clearly(self):
        with self.assertRaises(guests.GuestError) as cm:
            guests.LinuxGuest("vm-x", self.tmp.name + "/x", SHIM,
                              daemon="/nonexistent/hv_kvp_daemon")
        self.assertIn("/nonexistent/hv_kvp_daemon", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
