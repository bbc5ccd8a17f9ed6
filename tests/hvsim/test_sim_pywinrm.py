"""The Hyper-V simulator (--auth negotiate) against a second independent
WS-Man client: Debian's pywinrm (python3-winrm, with python3-requests-ntlm
and python3-requests-kerberos). pywinrm authenticates, seals, unseals and
checks Kerberos mutual authentication by itself; the requests are built
with pywinrm's own SOAP header (its env:/a:/w:/p: prefixes, Locale,
DataLocale, ReplyTo). Cases: NTLM with MS-WSMV sealing over HTTP (a
corrupted sealed response must be refused), Kerberos over HTTPS (the
mutual-authentication token must come on the response that completes the
login), a WQL enumeration to its end rendered as WinRM renders it, and a
sealed answer in UTF-16 (fault kind utf16).
Runs inside a throwaway MIT realm (tests/support/run_with_realm.py; this
file re-runs itself under it)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.request
import xml.etree.ElementTree as ET

from simtest import SRC, hc, simproc
from hvsimlib.soap import NS_N, NS_S, NS_W, q

# ntlm-auth (pywinrm's NTLM) hashes with MD4, which Debian 12's OpenSSL 3
# only offers through its legacy provider: this test process (not the
# simulator) runs with a configuration that loads it.
OPENSSL_LEGACY = """openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
"""


def rerun_in_realm():
    realm = os.path.join(SRC, "tests", "support", "run_with_realm.py")
    with tempfile.TemporaryDirectory(prefix="hvsim-pywinrm-") as d:
        cnf = os.path.join(d, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write(OPENSSL_LEGACY)
        return subprocess.call([sys.executable, realm, sys.executable,
                                os.path.abspath(__file__)] + sys.argv[1:],
                               env=dict(os.environ, OPENSSL_CONF=cnf))


if "KRB5_KTNAME" not in os.environ:
    sys.exit(rerun_in_realm())

try:
    import winrm
    import xmltodict
    from winrm.exceptions import WinRMError
except ImportError as e:
    raise SystemExit("pywinrm is missing (Debian package python3-winrm): %s"
                     % e)

ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
N_VMS = 5


def enumerate_message(proto, wql, max_elements=2):
    """An optimized WQL Enumerate in pywinrm's own envelope."""
    req = {"env:Envelope": proto._get_soap_header(
        action=ENUMERATION + "/Enumerate", resource_uri=hc.WMI_V2 + "/*")}
    req["env:Envelope"]["env:Body"] = {"n:Enumerate": {
        "w:OptimizeEnumeration": None,
        "w:MaxElements": str(max_elements),
        "w:Filter": {"@Dialect": "http://schemas.microsoft.com/wbem/wsman/"
                     "1/WQL", "#text": wql}}}
    return xmltodict.unparse(req)


def pull_message(proto, context, max_elements=2):
    req = {"env:Envelope": proto._get_soap_header(
        action=ENUMERATION + "/Pull", resource_uri=hc.WMI_V2 + "/*")}
    req["env:Envelope"]["env:Body"] = {"n:Pull": {
        "n:EnumerationContext": context, "n:MaxElements": str(max_elements)}}
    return xmltodict.unparse(req)


def enumerate_all(proto, wql):
    """(items, pages): every item of the enumeration, and each page's
    response element."""
    root = ET.fromstring(proto.send_message(enumerate_message(proto, wql)))
    page = root.find("%s/%s" % (q(NS_S, "Body"), q(NS_N,
                                                   "EnumerateResponse")))
    pages = [page]
    items = list(page.find(q(NS_W, "Items")))
    done = page.find(q(NS_W, "EndOfSequence")) is not None
    while not done:
        ctx = page.find(q(NS_N, "EnumerationContext")).text
        root = ET.fromstring(proto.send_message(pull_message(proto, ctx)))
        page = root.find("%s/%s" % (q(NS_S, "Body"), q(NS_N,
                                                       "PullResponse")))
        pages.append(page)
        items.extend(page.find(q(NS_N, "Items")))
        done = page.find(q(NS_N, "EndOfSequence")) is not None
    return items, pages


class PywinrmBase(unittest.TestCase):
    https = False

    @classmethod
    def setUpClass(cls):
        cls.sim = simproc.Sim("--synthetic", str(N_VMS), "--items", "4",
                              "--auth", "negotiate", https=cls.https)
        port = cls.sim.url.split(":")[2].split("/")[0]
        # localhost: the service principal is HTTP/localhost
        cls.endpoint = "%s://localhost:%s/wsman" % (
            "https" if cls.https else "http", port)
        cls.admin = "http://127.0.0.1:%s" % port

    @classmethod
    def tearDownClass(cls):
        rc, out, err = cls.sim.stop()
        assert rc == 0, (rc, err)
        assert "Traceback" not in err, err

    def protocol(self, **kw):
        """A pywinrm Protocol whose HTTP session is closed after the test."""
        proto = winrm.Protocol(self.endpoint, **kw)
        self.addCleanup(lambda: proto.transport.session and
                        proto.transport.session.close())
        return proto

    def check_vms(self, proto):
        items, pages = enumerate_all(
            proto, "SELECT Name, ElementName FROM Msvm_ComputerSystem "
            "WHERE Caption = 'Virtual Machine'")
        self.assertEqual(sorted(hc.prop_text(i, "ElementName")
                                for i in items),
                         ["synth-%04d" % i for i in range(1, N_VMS + 1)])
        # the named properties come as XmlFragments, in no namespace
        self.assertTrue(all(i.tag == q(NS_W, "XmlFragment") for i in items))
        self.assertTrue(all(c.tag == "Name" or c.tag == "ElementName"
                            for i in items for c in i))
        # one item in the EnumerateResponse, then Pulls of 2
        self.assertEqual([len(p.find(q(NS_W if i == 0 else NS_N, "Items")))
                          for i, p in enumerate(pages)], [1, 2, 2])


class NtlmSealedOverHttp(PywinrmBase):
    def ntlm(self):
        return self.protocol(transport="ntlm",
                             username=os.environ["HVKVP_TEST_NTLM_USER"],
                             password=os.environ["HVKVP_TEST_NTLM_PASSWORD"],
                             message_encryption="always")

    def test_enumerate_sealed(self):
        self.check_vms(self.ntlm())

    def test_utf16_answer_sealed(self):
        """A utf16 fault: the sealed answer is UTF-16LE without a byte order
        mark, and the OriginalContent type carries the charset."""
        proto = self.ntlm()
        self.check_vms(proto)  # logs in
        raw = []
        proto.transport.session.hooks["response"].append(
            lambda r, *a, **kw: raw.append(r.content))
        self.faults([{"kind": "utf16", "action": "Enumerate"}])
        try:
            msg = proto.send_message(enumerate_message(
                proto, "SELECT Name FROM Msvm_VirtualSystemManagementService"))
        finally:
            self.faults([])
        self.assertIn(b"\tOriginalContent: type=application/soap+xml;"
                      b"charset=UTF-16;Length=", raw[-1])
        self.assertTrue(msg.startswith("<s:Envelope".encode("utf-16-le")))
        text = msg.decode("utf-16-le")
        self.assertIn("<Name>vmms</Name></w:XmlFragment></w:Items>"
                      "<w:EndOfSequence/>", text)

    def faults(self, rules):
        req = urllib.request.Request(self.admin + "/hvsim/faults",
                                     data=json.dumps(rules).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            self.assertEqual(r.status, 200)

    def test_corrupted_sealed_response_is_refused(self):
        proto = self.ntlm()
        self.check_vms(proto)
        req = urllib.request.Request(self.admin + "/hvsim/gss/tamper",
                                     data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            self.assertEqual(r.status, 200)
        # pywinrm (ntlm-auth) checks the seal's signature itself
        with self.assertRaisesRegex(Exception, "signature checksum does not "
                                    "match"):
            enumerate_all(proto, "SELECT Name FROM Msvm_ComputerSystem")


class KerberosOverHttps(PywinrmBase):
    https = True

    def kerberos(self):
        return self.protocol(transport="kerberos",
                             ca_trust_path=self.sim.cert,
                             message_encryption="never")

    def test_enumerate_with_mutual_authentication(self):
        # requests-kerberos requires the server's mutual-authentication
        # token on the answer that completes the login
        # (MutualAuthenticationError otherwise).
        self.check_vms(self.kerberos())

    def test_unknown_class_is_a_wsman_fault(self):
        proto = self.kerberos()
        with self.assertRaises(WinRMError) as cm:
            proto.send_message(enumerate_message(
                proto, "SELECT * FROM Msvm_Nope"))
        # pywinrm's own fault parsing: status, code and subcode (WMI's
        # detail is a p:MSFT_WmiError here, not an f:WSManFault)
        text = str(cm.exception)
        self.assertIn("'http_status_code': 500", text)
        self.assertIn("'fault_code': 's:Sender'", text)
        self.assertIn("'fault_subcode': 'n:CannotProcessFilter'", text)


if __name__ == "__main__":
    unittest.main()
