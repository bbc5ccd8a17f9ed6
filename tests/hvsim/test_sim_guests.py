"""The Hyper-V simulator in front of real guests: a Linux VM served by the
real hv_kvp_daemon (pool files) and a Windows VM served by a Wine registry.
Host pushes (AddKvpItems / RemoveKvpItems) reach the guest's pool 0 /
External key, guest writes show up in GuestExchangeItems, intrinsic items
come from the daemon / Auto key, and stopping hvsim leaves nothing behind.
Needs the build (HVSIM_BUILD_DIR: libhvsim_vmbus.so, hvsim-winreg.exe)."""

import fcntl
import json
import os
import subprocess
import time
import unittest

from simtest import hc, simproc, ALL, build_dir
from hvsimlib import wine
from hvsimlib.soap import NS_W, q

KEY, VALUE, RECORD = 512, 2048, 2560
VMKEY = r"HKLM\SOFTWARE\Microsoft\Virtual Machine"


def read_pool(path):
    with open(path, "rb") as f:
        data = f.read()
    out = {}
    for i in range(0, len(data) - RECORD + 1, RECORD):
        k = data[i:i + KEY].split(b"\0")[0].decode()
        v = data[i + KEY:i + RECORD].split(b"\0")[0].decode()
        if k:
            out[k] = v
    return out


def append_pool(path, key, value):
    rec = key.encode().ljust(KEY, b"\0") + value.encode().ljust(VALUE, b"\0")
    with open(path, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        try:
            f.seek(0, os.SEEK_END)
            f.write(rec)
            f.flush()
        finally:
            fcntl.lockf(f, fcntl.LOCK_UN)


items = hc.kvp_items  # {Name: (Data, Source)} of a KVP array


def vm_line(sim, kind):
    for line in sim.lines:
        parts = line.split()
        if line.startswith("hvsim: vm ") and parts[4] == kind:
            return parts[2], parts[3], parts[5].split("=", 1)[1]
    raise AssertionError("no 'hvsim: vm ... %s' line in %r" % (kind,
                                                               sim.lines))


class GuestMixin:
    def kvp(self, c, guid):
        its, _ = c.enumerate_all(
            ALL, "SELECT * FROM Msvm_KvpExchangeComponent WHERE "
            "SystemName = '%s'" % guid)
        self.assertEqual(len(its), 1)
        return its[0]

    def invoke(self, c, method, guid, kv):
        r = c.post(hc.kvp_invoke_req(method, guid, kv))
        self.assertEqual(r.status, 200, r.body[:400])
        out = r.body_el()[0]
        jid = [s.text for s in out.iter(q(NS_W, "Selector"))
               if s.get("Name") == "InstanceID"][0]
        for _ in range(200):
            r = c.post(hc.get_req(hc.class_uri("Msvm_ConcreteJob"),
                                  [("InstanceID", jid)]))
            st = [e.text for e in r.body_el()[0] if e.tag.endswith(
                "}JobState")][0]
            if st != "4":
                return int(st)
            time.sleep(0.05)
        self.fail("job did not finish")

    def wait_for(self, fn, what, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = fn()
            if got:
                return got
            if time.monotonic() > deadline:
                self.fail("timed out waiting for " + what)
            time.sleep(0.2)


class LinuxGuestTest(GuestMixin, unittest.TestCase):
    def test_linux_guest_through_real_daemon(self):
        sim = simproc.Sim("--linux", "1", "--build-dir", build_dir(),
                          "--job-delay", "0.1")
        ours = sim.processes("hv_kvp_daemon")
        try:
            name, guid, pool = vm_line(sim, "linux")
            self.assertEqual(name, "linux-1")
            self.assertTrue(ours, "no hv_kvp_daemon started")
            c = sim.client()
            inst = self.kvp(c, guid)
            intrinsic = items(inst, "GuestIntrinsicExchangeItems")
            self.assertEqual(intrinsic["IntegrationServicesVersion"],
                             ("3.1", "2"))
            self.assertIn("FullyQualifiedDomainName", intrinsic)
            # host facts reach pool 3 with the VM's GUID
            self.assertEqual(read_pool(pool + "/.kvp_pool_3")
                             ["VirtualMachineId"], guid)
            # host -> guest: AddKvpItems lands in pool 0 through the daemon
            self.assertEqual(self.invoke(c, "AddKvpItems", guid, [
                ("hvkvp.cfg.id", "cfg-42"), ("hvkvp.cfg.interval", "15")]),
                7)
            self.assertEqual(read_pool(pool + "/.kvp_pool_0"), {
                "hvkvp.cfg.id": "cfg-42", "hvkvp.cfg.interval": "15"})
            self.assertEqual(self.invoke(c, "ModifyKvpItems", guid, [
                ("hvkvp.cfg.interval", "30")]), 7)
            self.assertEqual(read_pool(pool + "/.kvp_pool_0")
                             ["hvkvp.cfg.interval"], "30")
            self.assertEqual(self.invoke(c, "RemoveKvpItems", guid, [
                ("hvkvp.cfg.id", "")]), 7)
            self.assertEqual(read_pool(pool + "/.kvp_pool_0"),
                             {"hvkvp.cfg.interval": "30"})
            # guest -> host: a record in pool 1 shows in GuestExchangeItems
            append_pool(pool + "/.kvp_pool_1", "hvkvp.head", "v=1;test")
            got = self.wait_for(lambda: items(self.kvp(c, guid),
                                              "GuestExchangeItems"),
                                "the pool 1 record")
            self.assertEqual(got, {"hvkvp.head": ("v=1;test", "1")})
            # the daemon dies: the VM keeps being served with its last items
            for pid in ours:
                os.kill(int(pid), 9)
            time.sleep(0.5)
            inst = self.kvp(c, guid)
            self.assertEqual(items(inst, "GuestExchangeItems"),
                             {"hvkvp.head": ("v=1;test", "1")})
            c.close()
        finally:
            rc, out, err = sim.stop()
        self.assertEqual(rc, 0, err)
        self.assertIn("hvsim: guest linux-1: ", err)
        self.assertIn("serving its last known items", err)
        self.assertFalse(os.path.exists(pool), "pool dir left behind")
        for pid in ours:
            with self.assertRaises(ProcessLookupError):
                os.kill(int(pid), 0)


class LinuxReporterTest(GuestMixin, unittest.TestCase):
    """hvsim --reporter: the real hvkvp-reporter writes pool 1 of a Linux VM,
    its message decodes from GuestExchangeItems, and a pushed hvkvp.cfg.id
    comes back in the message's config field."""

    def decode(self, c, guid):
        kv = {k: v for k, (v, _) in items(self.kvp(c, guid),
                                          "GuestExchangeItems").items()
              if k.startswith("hvkvp.")}
        if "hvkvp.head" not in kv:
            return None
        p = subprocess.run([os.path.join(build_dir(), "protocol",
                                         "hvkvp-codec"), "decode"],
                           input=(json.dumps(kv) + "\n").encode(),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = json.loads(p.stdout)
        return res if res.get("ok") else None

    def test_reporter_message_and_pushed_config(self):
        rep = os.path.join(build_dir(), "guest-reporter", "hvkvp-reporter")
        self.assertTrue(os.access(rep, os.X_OK), rep + " is not built")
        with simproc.running("--linux", "1", "--build-dir", build_dir(),
                             "--reporter", rep, "--reporter-interval", "1",
                             "--job-delay", "0.1") as sim:
            _, guid, pool = vm_line(sim, "linux")
            self.assertTrue(any(line.startswith("hvsim: reporter linux-1 "
                                                "pid=") for line in sim.lines))
            c = sim.client()
            first = self.wait_for(lambda: self.decode(c, guid),
                                  "a decodable hvkvp message")
            self.assertEqual(first["msg"]["v"], 1)
            self.assertGreater(len(first["msg"]["values"]), 10)
            self.assertEqual(self.invoke(c, "AddKvpItems", guid, [
                ("hvkvp.cfg.id", "cfg-e2e")]), 7)
            got = self.wait_for(
                lambda: (self.decode(c, guid) or {}).get("msg", {}).get(
                    "config") == "cfg-e2e", "the config id echoed back")
            self.assertTrue(got)
            c.close()
        self.assertFalse(os.path.exists(pool))


class WindowsGuestTest(GuestMixin, unittest.TestCase):
    def reg(self, prefix, *args):
        p = wine.wine_reg(prefix, *args)
        return p.returncode, p.stdout.decode(errors="replace")

    def test_windows_guest_through_wine_registry(self):
        with simproc.running("--windows", "1", "--build-dir", build_dir(),
                             "--job-delay", "0.1", timeout=400) as sim:
            name, guid, prefix = vm_line(sim, "windows")
            c = sim.client()
            intrinsic = items(self.kvp(c, guid),
                              "GuestIntrinsicExchangeItems")
            self.assertIn("OSName", intrinsic)
            self.assertEqual(self.invoke(c, "AddKvpItems", guid, [
                ("hvkvp.cfg.id", "win-1")]), 7)
            rc, out = self.reg(prefix, "query", VMKEY + r"\External")
            self.assertEqual(rc, 0, out)
            self.assertRegex(out, r"hvkvp\.cfg\.id\s+REG_SZ\s+win-1")
            rc, out = self.reg(prefix, "add", VMKEY + r"\Guest", "/v",
                               "hvkvp.head", "/t", "REG_SZ", "/d", "v=1;w",
                               "/f")
            self.assertEqual(rc, 0, out)
            got = self.wait_for(lambda: items(self.kvp(c, guid),
                                              "GuestExchangeItems"),
                                "the Guest registry value")
            self.assertEqual(got, {"hvkvp.head": ("v=1;w", "1")})
            self.assertEqual(self.invoke(c, "RemoveKvpItems", guid, [
                ("hvkvp.cfg.id", "")]), 7)
            rc, out = self.reg(prefix, "query", VMKEY + r"\External")
            self.assertNotIn("hvkvp.cfg.id", out)
            c.close()
        self.assertEqual(wine.wine_processes(prefix), [])
        self.assertFalse(os.path.exists(prefix), "wineprefix left behind")


if __name__ == "__main__":
    unittest.main()
