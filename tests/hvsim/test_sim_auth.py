"""hvsim --auth negotiate: WinRM's Kerberos / NTLM authentication with
MS-WSMV message sealing (contrib/hvsim/hvsimlib/gss.py) inside the simulator,
driven by our GSSAPI client (tests/collectd-plugin/wsman hva_client) in a real MIT Kerberos
realm (tests/support/run_with_realm.py; this file re-runs itself under it).
hva_client posts a non-SOAP body, so a correct exchange is a sealed
w:SchemaValidationError fault that the client unseals."""

import os
import subprocess
import sys
import unittest

from simtest import SRC, simproc

if "KRB5_KTNAME" not in os.environ:
    realm = os.path.join(SRC, "tests", "support", "run_with_realm.py")
    sys.exit(subprocess.call([sys.executable, realm, sys.executable,
                              os.path.abspath(__file__)] + sys.argv[1:]))


def client_path():
    bd = os.environ.get("HVSIM_BUILD_DIR")
    if not bd:
        raise RuntimeError("HVSIM_BUILD_DIR is not set (run through ctest)")
    path = os.path.join(bd, "tests", "collectd-plugin", "wsman", "hva_client")
    if not os.access(path, os.X_OK):
        raise RuntimeError(path + " is not built (libkrb5-dev, gss-ntlmssp)")
    return path


class AuthBase(unittest.TestCase):
    extra = ()
    https = False

    @classmethod
    def setUpClass(cls):
        cls.client = client_path()
        cls.sim = simproc.Sim("--synthetic", "1", "--auth", "negotiate",
                              *cls.extra, password="basicpw", https=cls.https)
        port = cls.sim.url.split(":")[2].split("/")[0]
        cls.url = "%s://localhost:%s/wsman" % (
            "https" if cls.https else "http", port)

    @classmethod
    def tearDownClass(cls):
        rc, out, err = cls.sim.stop()
        assert rc == 0, (rc, err)

    def run_client(self, auth, *args):
        env = dict(os.environ, HVSIM_BASIC_PW="basicpw")
        extra = ["--cacert", self.sim.cert] if self.https else []
        p = subprocess.run([self.client, self.url, auth] + extra + list(args),
                           capture_output=True, text=True, env=env,
                           timeout=120)
        lines = p.stdout.splitlines()
        self.assertTrue(lines, p.stderr)
        return lines[0]

    def assert_fault(self, line, sealed):
        self.assertTrue(line.startswith("error status=400 sealed=%d body="
                                        % sealed), line[:300])
        self.assertIn("<s:Value>w:SchemaValidationError</s:Value>", line)


class HttpNegotiate(AuthBase):
    def test_kerberos_sealed(self):
        self.assert_fault(self.run_client("kerberos"), 1)

    def test_negotiate_sealed(self):
        self.assert_fault(self.run_client("negotiate"), 1)

    def test_ntlm_sealed(self):
        self.assert_fault(self.run_client(
            "ntlm", "--user", os.environ["HVKVP_TEST_NTLM_USER"],
            "--password-env", "HVKVP_TEST_NTLM_PASSWORD"), 1)

    def test_basic_over_http_refused(self):
        line = self.run_client("basic", "--user", "hvuser", "--password-env",
                               "HVSIM_BASIC_PW")
        self.assertTrue(line.startswith("error status=401"), line)

    def test_unsealed_over_http_refused(self):
        line = self.run_client("kerberos", "--encryption", "off")
        self.assertTrue(line.startswith("error "), line)
        self.assertNotIn("SchemaValidationError", line)

    def test_wrong_ntlm_password(self):
        env_name = "HVSIM_WRONG_PW"
        os.environ[env_name] = "not-the-password"
        line = self.run_client(
            "ntlm", "--user", os.environ["HVKVP_TEST_NTLM_USER"],
            "--password-env", env_name)
        self.assertTrue(line.startswith("error"), line)
        self.assertNotIn("SchemaValidationError", line)


class HttpAllowUnencrypted(AuthBase):
    extra = ("--allow-unencrypted",)

    def test_basic_over_http_allowed(self):
        self.assert_fault(self.run_client(
            "basic", "--user", "hvuser", "--password-env", "HVSIM_BASIC_PW"),
            0)


class HttpsNegotiate(AuthBase):
    https = True

    def test_kerberos_over_tls_unsealed(self):
        self.assert_fault(self.run_client("kerberos"), 0)

    def test_basic_over_tls(self):
        self.assert_fault(self.run_client(
            "basic", "--user", "hvuser", "--password-env", "HVSIM_BASIC_PW"),
            0)


if __name__ == "__main__":
    unittest.main()
