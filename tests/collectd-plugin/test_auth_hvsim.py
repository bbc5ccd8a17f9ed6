#!/usr/bin/env python3
"""test_auth_hvsim.py - hvkvpctl and the hyperv_kvp plugin (in a real
collectd) against the Hyper-V simulator (contrib/hvsim/hvsim --auth
negotiate) with WinRM's default security: Kerberos, Negotiate and NTLM,
messages sealed over plain HTTP (MS-WSMV 2.2.9.1); over HTTPS Basic, NTLM
and Negotiate; the negatives (wrong password, no ticket, tampered sealed
body, Encryption "off" against a server that requires it) give clear errors
and the next poll after the fix works. Runs under run_with_realm.py (a real
MIT KDC). Loopback only.

Environment: HVKVP_BUILD_DIR, HVKVP_SOURCE_DIR, HVKVP_REALM_DIR and the
realm's variables (KRB5_CONFIG, KRB5_KTNAME, NTLM_USER_FILE, ...).
"""
import os
import ssl
import subprocess
import sys
import time
import unittest
import urllib.request

SRC = os.environ.get("HVKVP_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("HVKVP_BUILD_DIR", "")
CTL = os.path.join(BUILD, "collectd-plugin", "hvkvpctl", "hvkvpctl")
sys.path.insert(0, os.path.join(SRC, "contrib", "hvsim"))
sys.path.insert(0, os.path.join(SRC, "tests", "collectd-plugin"))
from hvsimlib import simproc  # noqa: E402
from test_collectd_sim import CollectdRun, csv_rows  # noqa: E402

N_VMS = 3


def need(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit("%s is not set: run under tests/support/"
                         "run_with_realm.py" % name)
    return v


PRINC = need("HVKVP_TEST_PRINCIPAL")
KEYTAB = need("HVKVP_TEST_CLIENT_KEYTAB")
NTLM_USER = need("HVKVP_TEST_NTLM_USER")
NTLM_PW = need("HVKVP_TEST_NTLM_PASSWORD")
need("KRB5_KTNAME")


def sim(**kw):
    return simproc.Sim("--synthetic", str(N_VMS), "--interval", "2",
                       "--build-dir", BUILD, "--auth", "negotiate",
                       "--job-delay", "0.02", **kw)


def ctl(url, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([CTL, "--url", url] + list(args), capture_output=True,
                       text=True, env=e, timeout=120)
    return p.returncode, p.stdout, p.stderr


def tamper(s):
    base = s.url.replace("/wsman", "")
    ctx = ssl.create_default_context(cafile=s.cert) if s.cert else None
    req = urllib.request.Request(base + "/hvsim/gss/tamper", data=b"",
                                 method="POST")
    urllib.request.urlopen(req, timeout=10, context=ctx).read()


class Http(unittest.TestCase):
    """WinRM defaults over http://: everything sealed."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CTL):
            raise RuntimeError("%s is missing" % CTL)
        cls.sim = sim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def vms_ok(self, *args, env=None):
        rc, out, err = ctl(self.sim.url, *args, "vms", env=env)
        self.assertEqual(rc, 0, err)
        for i in range(1, N_VMS + 1):
            self.assertIn("synth-%04d" % i, out)
        return out

    def test_kerberos_ccache_keytab_password(self):
        self.vms_ok("--auth", "kerberos")
        self.vms_ok("--auth", "kerberos", "--keytab", KEYTAB, "--principal",
                    PRINC, env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.vms_ok("--auth", "kerberos", "--user", PRINC,
                    env={"HVKVP_PASSWORD": need("HVKVP_TEST_PASSWORD"),
                         "KRB5CCNAME": "FILE:/nonexistent/none"})

    def test_ntlm_and_negotiate(self):
        self.vms_ok("--auth", "ntlm", "--user", NTLM_USER,
                    env={"HVKVP_PASSWORD": NTLM_PW})
        self.vms_ok("--auth", "negotiate")

    def test_push_sealed(self):
        for auth, env in (("kerberos", {}),
                          ("ntlm", {"HVKVP_PASSWORD": NTLM_PW})):
            extra = ["--user", NTLM_USER] if auth == "ntlm" else []
            rc, _, err = ctl(self.sim.url, "--auth", auth, *extra, "set",
                             "synth-0002", "hvkvp.cfg.note=sealed-" + auth,
                             env=env)
            self.assertEqual(rc, 0, err)
            rc, out, err = ctl(self.sim.url, "--auth", auth, *extra, "items",
                               "synth-0002", "--host", env=env)
            self.assertEqual(rc, 0, err)
            self.assertIn("sealed-" + auth, out)

    def test_encryption_off_refused_then_auto_works(self):
        rc, _, err = ctl(self.sim.url, "--auth", "kerberos", "--encryption",
                         "off", "vms")
        self.assertEqual(rc, 3, err)
        self.assertIn("127.0.0.1 refused unencrypted traffic", err)
        self.vms_ok("--auth", "kerberos", "--encryption", "auto")

    def test_wrong_ntlm_password(self):
        rc, _, err = ctl(self.sim.url, "--auth", "ntlm", "--user", NTLM_USER,
                         "vms", env={"HVKVP_PASSWORD": "Wrong-Pass-9"})
        self.assertEqual(rc, 3, err)
        self.assertIn("127.0.0.1 rejected the credentials", err)
        self.assertNotIn("Wrong-Pass-9", err)

    def test_no_ticket(self):
        rc, _, err = ctl(self.sim.url, "--auth", "kerberos", "vms",
                         env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.assertEqual(rc, 3, err)
        self.assertIn("no Kerberos ticket", err)
        self.assertIn("127.0.0.1", err)

    def test_tampered_response(self):
        tamper(self.sim)
        rc, _, err = ctl(self.sim.url, "--auth", "kerberos", "vms")
        self.assertEqual(rc, 3, err)
        self.assertIn("decryption failure", err)
        self.assertIn("127.0.0.1", err)
        self.vms_ok("--auth", "kerberos")


class Https(unittest.TestCase):
    """Over https:// TLS protects the body: Basic, NTLM and Negotiate as
    plain HTTP authentication; sealing on request."""

    @classmethod
    def setUpClass(cls):
        cls.sim = sim(https=True, user="basic-user", password="Basic-Pass-1")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_basic_ntlm_negotiate(self):
        for args, env in (
                (["--auth", "basic", "--user", "basic-user"],
                 {"HVKVP_PASSWORD": "Basic-Pass-1"}),
                (["--auth", "ntlm", "--user", NTLM_USER],
                 {"HVKVP_PASSWORD": NTLM_PW}),
                (["--auth", "negotiate"], {}),
                (["--auth", "kerberos", "--encryption", "required"], {})):
            rc, out, err = ctl(self.sim.url, "--cacert", self.sim.cert,
                               *args, "vms", env=env)
            self.assertEqual(rc, 0, "%s: %s" % (args, err))
            self.assertIn("synth-0003", out)


class Plugin(unittest.TestCase):
    """The plugin in a real collectd: Kerberos from a keytab and NTLM, both
    sealed over http; a tampered response fails one poll with a clear error
    and the next poll works; Encryption "off" is refused by the server with a
    clear error in collectd's log."""

    @classmethod
    def setUpClass(cls):
        cls.sim = sim()
        block = """  <Host "krb">
    URL "{url}"
    Auth "kerberos"
    KerberosKeytab "{kt}"
    KerberosPrincipal "{pr}"
    Encryption "auto"
    Interval 2
    Timeout 20
    HostnameFormat "name"
  </Host>
  <Host "ntlm">
    URL "{url}"
    Auth "ntlm"
    User "{nu}"
    Password "{npw}"
    Interval 2
    Timeout 20
    HostnameFormat "uuid"
  </Host>
  <Host "plain">
    URL "{url}"
    Auth "negotiate"
    Encryption "off"
    Interval 2
    Timeout 20
  </Host>""".format(url=cls.sim.url, kt=KEYTAB, pr=PRINC,
                    nu=NTLM_USER.replace("\\", "\\\\"), npw=NTLM_PW)
        cls.cd = CollectdRun(block, interval=2)
        cls.cd.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.cd.stop()
        cls.sim.stop()
        log = cls.cd.log_text()
        cls.cd.cleanup()
        if rc != 0:
            raise AssertionError("collectd exited %r:\n%s" % (rc, log[-2000:]))

    def wait_for(self, what, cond, timeout=60):
        deadline = time.monotonic() + timeout
        while not cond():
            if self.cd.proc.poll() is not None:
                self.fail("collectd exited: " + self.cd.log_text()[-2000:])
            if time.monotonic() > deadline:
                self.fail("%s did not happen; log:\n%s"
                          % (what, self.cd.log_text()[-3000:]))
            time.sleep(0.5)

    def test_values_and_tamper_recovery(self):
        pat = os.path.join(self.cd.csv, "synth-0001", "cpu-0",
                           "percent-user-*")
        self.wait_for("values of synth-0001 (Kerberos, sealed)",
                      lambda: csv_rows(pat))
        # The NTLM block names VMs by GUID.
        self.wait_for("values under a VM GUID (NTLM, sealed)", lambda: [
            d for d in os.listdir(self.cd.csv) if d.count("-") == 4])
        tamper(self.sim)
        self.wait_for("a decryption failure in the log",
                      lambda: "decryption failure" in self.cd.log_text())
        rows = len(csv_rows(pat))
        self.wait_for("new values after the decryption failure",
                      lambda: len(csv_rows(pat)) >= rows + 2)

    def test_unencrypted_refused_clearly(self):
        self.wait_for("the refusal of unencrypted traffic in the log",
                      lambda: "refused unencrypted traffic" in
                      self.cd.log_text())
        self.assertIn('Host "plain"', self.cd.log_text())
        self.assertNotIn(NTLM_PW, self.cd.log_text())


class PluginConfig(unittest.TestCase):
    """Bad auth options stop collectd at start-up with the option named."""

    def refused(self, block, words):
        cd = CollectdRun(block, interval=2)
        try:
            rc, out = cd.run_to_exit(timeout=60)
        finally:
            cd.cleanup()
        self.assertNotEqual(rc, 0, out[-2000:])
        for w in words:
            self.assertIn(w, out)

    def test_bad_options(self):
        self.refused("""  <Host "a">
    URL "http://127.0.0.1:9/wsman"
    Auth "kerberos"
    Encryption "sometimes"
  </Host>""", ["Encryption", "sometimes"])
        self.refused("""  <Host "b">
    URL "https://127.0.0.1:9/wsman"
    User "u"
    Password "p"
    Auth "basic"
    Encryption "required"
  </Host>""", ["Encryption", "required", "Basic cannot seal"])
        self.refused("""  <Host "c">
    URL "https://127.0.0.1:9/wsman"
    User "u"
    Password "p"
    Auth "basic"
    KerberosKeytab "/etc/krb5.keytab"
  </Host>""", ["KerberosKeytab"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
