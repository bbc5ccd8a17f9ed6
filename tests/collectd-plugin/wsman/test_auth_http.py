#!/usr/bin/env python3
"""test_auth_http.py - our GSSAPI client (collectd-plugin/wsman/gss.c, driven
by the hva_client test program) against a real HTTP(S) endpoint that
authenticates with contrib/hvsim/hvsimlib/gss.py, in a real MIT Kerberos realm.

Run under run_with_realm.py (KRB5_CONFIG, KRB5_KTNAME, NTLM_USER_FILE, ...
set) with HVKVP_AUTH_CLIENT = the hva_client binary. Loopback only.
"""
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "contrib", "hvsim"))
from hvsimlib import gss  # noqa: E402
from hvsimlib.gss import gssapi, graw  # noqa: E402


def need(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit("%s not set: run under tests/support/run_with_realm.py "
                         "with HVKVP_AUTH_CLIENT set" % name)
    return v


CLIENT = need("HVKVP_AUTH_CLIENT")
REALM_DIR = need("HVKVP_REALM_DIR")
PRINC = need("HVKVP_TEST_PRINCIPAL")
NTLM_USER = need("HVKVP_TEST_NTLM_USER")


class Server:
    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "authsrv.py"), "--port", "0"]
            + list(extra), stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise AssertionError("authsrv did not start: %r" % line)
        self.url = line.split()[-1]
        self.admin = self.url.replace("https:", "http:").rsplit("/", 1)[0]

    def tamper(self, what="tamper"):
        req = urllib.request.Request(self.admin + "/admin/" + what, data=b"",
                                     method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(url, auth, *args, env=None, expect_ok=True):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([CLIENT, url, auth] + list(args), capture_output=True,
                       text=True, env=e, timeout=60)
    lines = p.stdout.splitlines()
    if expect_ok and p.returncode != 0:
        raise AssertionError("hva_client %s %s failed: %s %s"
                             % (auth, args, p.stdout[-2000:], p.stderr))
    return p.returncode, lines


class HttpSealed(unittest.TestCase):
    """WinRM defaults over plain HTTP: Kerberos/Negotiate/NTLM, sealed."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def check_ok(self, lines, n, user, sealed=1):
        self.assertEqual(len(lines), n, lines)
        for i, line in enumerate(lines):
            self.assertTrue(line.startswith("ok status=200 sealed=%d " % sealed),
                            line)
            self.assertIn('user="%s' % user, line)
            self.assertIn("<s:Envelope>request %d</s:Envelope>" % i, line)

    def test_kerberos_ticket_cache(self):
        _, lines = run(self.srv.url, "kerberos", "--count", "3")
        self.check_ok(lines, 3, PRINC)

    def test_kerberos_keytab_no_ccache(self):
        _, lines = run(self.srv.url, "kerberos", "--keytab",
                       os.environ["HVKVP_TEST_CLIENT_KEYTAB"], "--principal",
                       PRINC, "--count", "2",
                       env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.check_ok(lines, 2, PRINC)

    def test_kerberos_password(self):
        _, lines = run(self.srv.url, "kerberos", "--user", PRINC,
                       "--password-env", "HVKVP_TEST_PASSWORD",
                       env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.check_ok(lines, 1, PRINC)

    def test_negotiate(self):
        _, lines = run(self.srv.url, "negotiate", "--count", "2")
        self.check_ok(lines, 2, PRINC)

    def test_negotiate_password_kerberos_or_ntlm(self):
        # user@REALM + password: Kerberos through SPNEGO
        _, lines = run(self.srv.url, "negotiate", "--user", PRINC,
                       "--password-env", "HVKVP_TEST_PASSWORD",
                       env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.check_ok(lines, 1, PRINC)
        # DOMAIN\user + password and no ticket: SPNEGO falls back to NTLM
        _, lines = run(self.srv.url, "negotiate", "--user", NTLM_USER,
                       "--password-env", "HVKVP_TEST_NTLM_PASSWORD",
                       "--count", "2",
                       env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.check_ok(lines, 2, NTLM_USER)

    def test_ntlm_domain_user(self):
        _, lines = run(self.srv.url, "ntlm", "--user", NTLM_USER,
                       "--password-env", "HVKVP_TEST_NTLM_PASSWORD",
                       "--count", "3")
        self.check_ok(lines, 3, NTLM_USER)

    def test_ntlm_user_at_domain(self):
        _, lines = run(self.srv.url, "ntlm", "--user", "alice@HVKVP",
                       "--password-env", "HVKVP_TEST_NTLM_PASSWORD")
        self.check_ok(lines, 1, "HVKVP\\alice")

    def test_large_sealed_body(self):
        _, lines = run(self.srv.url, "kerberos", "--size", "400000")
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("ok status=200 sealed=1"))
        self.assertGreater(len(lines[0]), 400000)
        _, lines = run(self.srv.url, "ntlm", "--user", NTLM_USER,
                       "--password-env", "HVKVP_TEST_NTLM_PASSWORD",
                       "--size", "200000")
        self.assertGreater(len(lines[0]), 200000)

    def test_encryption_off_refused(self):
        rc, lines = run(self.srv.url, "kerberos", "--encryption", "off",
                        expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("localhost refused unencrypted traffic", lines[0])
        self.assertIn('Encryption "auto"', lines[0])
        # the fix: back to auto, the next request works
        _, lines = run(self.srv.url, "kerberos", "--encryption", "auto")
        self.check_ok(lines, 1, PRINC)

    def test_ntlm_wrong_password(self):
        rc, lines = run(self.srv.url, "ntlm", "--user", NTLM_USER,
                        "--password-env", "BAD_PW",
                        env={"BAD_PW": "Not-The-Password"}, expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("localhost rejected the credentials", lines[0])
        self.assertNotIn("Not-The-Password", lines[0])

    def test_kerberos_wrong_password(self):
        rc, lines = run(self.srv.url, "kerberos", "--user", PRINC,
                        "--password-env", "BAD_PW",
                        env={"BAD_PW": "Not-The-Password"}, expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("wrong password", lines[0])
        self.assertIn("localhost", lines[0])
        self.assertNotIn("Not-The-Password", lines[0])

    def test_no_ticket(self):
        rc, lines = run(self.srv.url, "kerberos", expect_ok=False,
                        env={"KRB5CCNAME": "FILE:/nonexistent/none"})
        self.assertEqual(rc, 1)
        self.assertIn("no Kerberos ticket", lines[0])
        self.assertIn("localhost", lines[0])

    def test_kdc_unreachable(self):
        conf = os.path.join(REALM_DIR, "dead.conf")
        with open(conf, "w") as f:
            f.write("[libdefaults]\n default_realm = HVKVP.TEST\n"
                    " udp_preference_limit = 1\n[realms]\n HVKVP.TEST = {\n"
                    "  kdc = 127.0.0.1:9\n }\n")
        rc, lines = run(self.srv.url, "kerberos", "--user", PRINC,
                        "--password-env", "HVKVP_TEST_PASSWORD",
                        expect_ok=False, env={"KRB5_CONFIG": conf})
        self.assertEqual(rc, 1)
        self.assertIn("KDC unreachable", lines[0])
        self.assertIn("localhost", lines[0])

    def test_tampered_response_then_recovers(self):
        for auth, extra in (("kerberos", []),
                            ("ntlm", ["--user", NTLM_USER, "--password-env",
                                      "HVKVP_TEST_NTLM_PASSWORD"])):
            self.srv.tamper()
            rc, lines = run(self.srv.url, auth, "--count", "2", *extra,
                            expect_ok=False)
            self.assertEqual(rc, 1)
            self.assertEqual(len(lines), 2, lines)
            self.assertIn("decryption failure", lines[0])
            self.assertIn("localhost", lines[0])
            self.assertTrue(lines[1].startswith("ok status=200 sealed=1"),
                            lines[1])

    def test_undecryptable_request_then_recovers(self):
        self.srv.tamper("corrupt-request")
        rc, lines = run(self.srv.url, "kerberos", "--count", "2",
                        expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("localhost could not decrypt the sealed request",
                      lines[0])
        self.assertTrue(lines[1].startswith("ok status=200 sealed=1"),
                        lines[1])


class ServerSide(unittest.TestCase):
    """gss.ConnAuth against a Python GSSAPI initiator: tampered and
    mismatched requests are refused with 400, plaintext with 401."""

    def establish(self, mech, scheme="Negotiate", creds=None):
        conn = gss.ConnAuth(allow_unencrypted=False)
        name = gssapi.Name("HTTP@localhost",
                           gssapi.NameType.hostbased_service)
        cli = gssapi.SecurityContext(name=name, mech=mech, usage="initiate",
                                     creds=creds)
        res = conn.process({}, b"")
        self.assertEqual(res.status, 401)
        self.assertIn(("WWW-Authenticate", "Kerberos"), res.headers)
        tok = cli.step()
        while True:
            res = conn.process({"Authorization": "%s %s" % (
                scheme, base64.b64encode(tok).decode())}, b"")
            www = [v for k, v in res.headers if k == "WWW-Authenticate"]
            if res.status == 200:
                if www:
                    cli.step(base64.b64decode(www[0].split()[1]))
                break
            self.assertEqual(res.status, 401)
            tok = cli.step(base64.b64decode(www[0].split()[1]))
        self.assertTrue(cli.complete)
        self.assertTrue(conn.complete)
        return conn, cli

    def sealed_request(self, conn, cli, soap, tamper=False):
        if conn.is_ntlm:
            tok = graw.wrap(cli, soap, True).message
            sig, data = tok[:16], tok[16:]
        else:
            iov = graw.IOV(graw.IOVBufferType.header, soap,
                           graw.IOVBufferType.padding, std_layout=False)
            graw.wrap_iov(cli, iov, confidential=True)
            sig, data = iov[0].value, iov[1].value + (iov[2].value or b"")
        if tamper:
            data = data[:-1] + bytes([data[-1] ^ 1])
        body = gss.build(conn.protocol, len(soap), sig, data)
        return conn.process(
            {"Content-Type": gss.content_type(conn.protocol)}, body)

    def test_kerberos_tampered_request(self):
        krb5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
        conn, cli = self.establish(krb5, "Kerberos")
        self.assertEqual(conn.protocol, gss.PROTO_KERBEROS)
        res = self.sealed_request(conn, cli, b"<a/>")
        self.assertFalse(res.respond)
        self.assertEqual(res.soap, b"<a/>")
        self.assertTrue(res.sealed)
        res = self.sealed_request(conn, cli, b"<b/>", tamper=True)
        self.assertTrue(res.respond)
        self.assertEqual(res.status, 400)

    def test_ntlm_plaintext_refused_and_reply_sealed(self):
        user = gssapi.Name(NTLM_USER, gssapi.NameType.user)
        creds = graw.acquire_cred_with_password(
            user, os.environ["HVKVP_TEST_NTLM_PASSWORD"].encode(),
            mechs=[gss.NTLM_OID], usage="initiate").creds
        conn, cli = self.establish(gss.NTLM_OID, creds=creds)
        self.assertTrue(conn.is_ntlm)
        res = self.sealed_request(conn, cli, b"<x/>" * 100)
        self.assertEqual(res.soap, b"<x/>" * 100)
        hdrs, body = conn.reply(res, b"<reply/>")
        proto, n, sig, data = gss.parse(hdrs[0][1], body)
        self.assertEqual(n, 8)
        self.assertEqual(len(sig), 16)
        self.assertEqual(graw.unwrap(cli, sig + data).message, b"<reply/>")
        res = conn.process({"Content-Type": gss.SOAP_CTYPE}, b"<p/>")
        self.assertEqual(res.status, 401)

    def test_parse_rejects(self):
        ct = gss.content_type(gss.PROTO_SPNEGO)
        good = gss.build(gss.PROTO_SPNEGO, 3, b"S" * 16, b"abc")
        self.assertEqual(gss.parse(ct, good)[1:], (3, b"S" * 16, b"abc"))
        for bad in (good[:-30], good.replace(b"Length=3", b"Length=x"),
                    good.replace(b"\x10\x00\x00\x00", b"\xff\x00\x00\x00"),
                    good.replace(b"octet-stream", b"octet-streak")):
            with self.assertRaises(gss.SealError):
                gss.parse(ct, bad)


class Https(unittest.TestCase):
    """Over TLS: Basic, NTLM and Negotiate as plain HTTP auth (no sealing),
    and sealing on request (Encryption "required")."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hvkvp-auth-tls-")
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        key = os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", key, "-out", cls.cert], check=True,
                       capture_output=True)
        cls.srv = Server("--https", cls.cert, key, "--user", "basicuser",
                         "--password", "Basic-Pass-1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.tmp)

    def test_basic(self):
        _, lines = run(self.srv.url, "basic", "--user", "basicuser",
                       "--password-env", "BPW", "--cacert", self.cert,
                       env={"BPW": "Basic-Pass-1"})
        self.assertTrue(lines[0].startswith("ok status=200 sealed=0"), lines)
        self.assertIn('user="basicuser"', lines[0])
        rc, lines = run(self.srv.url, "basic", "--user", "basicuser",
                        "--password-env", "BPW", "--cacert", self.cert,
                        env={"BPW": "wrong"}, expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertTrue(lines[0].startswith("error status=401"), lines)

    def test_ntlm_and_negotiate_unsealed(self):
        _, lines = run(self.srv.url, "ntlm", "--user", NTLM_USER,
                       "--password-env", "HVKVP_TEST_NTLM_PASSWORD",
                       "--cacert", self.cert, "--count", "2")
        for line in lines:
            self.assertTrue(line.startswith("ok status=200 sealed=0"), line)
        _, lines = run(self.srv.url, "negotiate", "--cacert", self.cert)
        self.assertTrue(lines[0].startswith("ok status=200 sealed=0"), lines)
        self.assertIn('user="%s' % PRINC, lines[0])

    def test_sealing_required_over_tls(self):
        _, lines = run(self.srv.url, "kerberos", "--encryption", "required",
                       "--cacert", self.cert)
        self.assertTrue(lines[0].startswith("ok status=200 sealed=1"), lines)

    def test_tls_verification_on_by_default(self):
        rc, lines = run(self.srv.url, "negotiate", expect_ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("request to localhost failed", lines[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
