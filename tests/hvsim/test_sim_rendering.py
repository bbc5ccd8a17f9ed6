"""The simulator renders responses as real WinRM does (DESIGN.md section 4,
from captures of Windows Server 2008 R2 and 2012), asserted on the raw
bytes of each answer: one item in an optimized EnumerateResponse, the
shape of the last Pull and of a result that fits one response,
<w:XmlFragment> with unprefixed properties for a WQL property list,
<p:Class> otherwise, null arrays left out, " and ' escaped, no XML
declaration, xml:lang and the s/a/n/w prefixes, no whitespace between
elements, raw UTF-8, and the embedded Msvm_KvpExchangeDataItem shape."""

import json
import os
import re
import tempfile
import unittest
import xml.etree.ElementTree as ET

from simtest import hc, ALL, CS, KVP, VSMS, SimTestCase
from hvsimlib.soap import (NS_A, NS_CIM, NS_N, NS_S, NS_W,
                           NS_XSI, q)

QUOTED = "vm \"quoted\" it's"
UNICODE = "vm-\u00e9t\u00e9-\u2603"
ENV_START = (b'<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" '
             b'xmlns:n="%s" xmlns:w="%s"><s:Header>'
             % tuple(ns.encode() for ns in (NS_S, NS_A, NS_N, NS_W)))
CONTEXT = rb"<n:EnumerationContext>uuid:[0-9A-F-]{36}</n:EnumerationContext>"


def body_of(raw):
    """The bytes between <s:Body> and </s:Body>."""
    return raw.split(b"<s:Body>", 1)[1].rsplit(b"</s:Body>", 1)[0]


def items_of(raw, wrapper, ns):
    """The item elements of an EnumerateResponse / PullResponse."""
    resp = ET.fromstring(raw).find("%s/%s" % (q(NS_S, "Body"),
                                              q(NS_N, wrapper)))
    return list(resp.find(q(ns, "Items")))


class RenderingTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hvsim-render-")
        cfg = os.path.join(cls.tmp.name, "cfg.json")
        with open(cfg, "w") as f:
            json.dump({"vms": [{"name": QUOTED, "kind": "synthetic"},
                               {"name": UNICODE, "kind": "synthetic"}],
                       "synthetic": {"count": 3, "items": 6}}, f)
        cls.sim_args = ("--config", cfg)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.tmp.cleanup()

    def post(self, req):
        r = self.c.post(req)
        self.assertEqual(r.status, 200, r.body[:500])
        return r.body

    # ---- paging -------------------------------------------------------------
    def test_optimized_enumerate_carries_exactly_one_item(self):
        for max_elements in (1, 2, 100, 32000):
            raw = self.post(hc.enumerate_req(CS, max_elements=max_elements))
            self.assertRegex(body_of(raw), rb"^<n:EnumerateResponse>"
                             + CONTEXT + rb"<w:Items><p:Msvm_ComputerSystem "
                             rb".*</p:Msvm_ComputerSystem></w:Items>"
                             rb"</n:EnumerateResponse>$")
            self.assertEqual(len(items_of(raw, "EnumerateResponse", NS_W)),
                             1, max_elements)
            self.assertNotIn(b"EndOfSequence", raw)

    def test_pulls_then_a_last_pull_without_context(self):
        raw = self.post(hc.enumerate_req(CS, max_elements=2))
        ctx = re.search(rb"uuid:[0-9A-F-]{36}(?=</n:Enum)", raw).group()
        pages = []
        while True:
            raw = self.post(hc.pull_req(CS, ctx.decode(), 2))
            pages.append(body_of(raw))
            m = re.search(rb"<n:EnumerationContext>(uuid:[^<]+)<", raw)
            if not m:
                break
            ctx = m.group(1)
        # host + 5 VMs: 1 in the EnumerateResponse, then 2, 2, 1
        self.assertEqual(len(pages), 3)
        for page in pages[:-1]:
            self.assertRegex(page, rb"^<n:PullResponse>" + CONTEXT +
                             rb"<n:Items>(<p:Msvm_ComputerSystem .*?"
                             rb"</p:Msvm_ComputerSystem>){2}</n:Items>"
                             rb"</n:PullResponse>$")
        self.assertRegex(pages[-1], rb"^<n:PullResponse><n:Items>"
                         rb"<p:Msvm_ComputerSystem .*</p:Msvm_ComputerSystem>"
                         rb"</n:Items><n:EndOfSequence/></n:PullResponse>$")

    def test_a_result_that_fits_one_response(self):
        raw = self.post(hc.enumerate_req(VSMS, max_elements=10))
        self.assertRegex(body_of(raw), rb"^<n:EnumerateResponse>"
                         rb"<n:EnumerationContext></n:EnumerationContext>"
                         rb"<w:Items><p:Msvm_VirtualSystemManagementService "
                         rb".*</w:Items><w:EndOfSequence/>"
                         rb"</n:EnumerateResponse>$")
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT Name FROM Msvm_ComputerSystem WHERE "
            "ElementName = 'nobody'"))
        self.assertEqual(body_of(raw), b"<n:EnumerateResponse>"
                         b"<n:EnumerationContext></n:EnumerationContext>"
                         b"<w:Items></w:Items><w:EndOfSequence/>"
                         b"</n:EnumerateResponse>")

    # ---- instances ----------------------------------------------------------
    def test_wql_property_list_is_an_xml_fragment(self):
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT ElementName, InstallDate, ProcessID FROM "
            "Msvm_ComputerSystem WHERE ElementName = 'synth-0002'"))
        frag = re.search(rb"<w:Items>(.*)</w:Items>", raw).group(1)
        self.assertRegex(frag, rb'^<w:XmlFragment xmlns:xsi="%s" '
                         rb'xmlns:w="%s"><ElementName>synth-0002'
                         rb"</ElementName><InstallDate><Datetime>[-0-9T:.]+Z"
                         rb"</Datetime></InstallDate><ProcessID>\d+"
                         rb"</ProcessID></w:XmlFragment>$"
                         % (NS_XSI.encode(), NS_W.encode()))
        el = items_of(raw, "EnumerateResponse", NS_W)[0]
        self.assertEqual([c.tag for c in el],
                         ["ElementName", "InstallDate", "ProcessID"])
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT Name, ProcessID FROM Msvm_ComputerSystem WHERE "
            "Caption = 'Hosting Computer System'"))
        self.assertIn(b'<ProcessID xsi:nil="true"/></w:XmlFragment>', raw)

    def test_select_star_and_class_uri_are_whole_instances(self):
        for req in (hc.enumerate_req(ALL, "SELECT * FROM "
                                     "Msvm_VirtualSystemManagementService"),
                    hc.enumerate_req(VSMS)):
            raw = self.post(req)
            self.assertIn(b'<w:Items><p:Msvm_VirtualSystemManagementService '
                          b'xmlns:xsi="%s" xmlns:p="%s" xmlns:cim="%s" '
                          b'xsi:type="p:Msvm_VirtualSystemManagementService'
                          b'_Type"><p:' % (NS_XSI.encode(), VSMS.encode(),
                                           NS_CIM.encode()), raw)
            self.assertIn(b"<p:Name>vmms</p:Name>", raw)
            self.assertNotIn(b"XmlFragment", raw)

    def test_null_arrays_are_left_out(self):
        host = "WHERE Caption = 'Hosting Computer System'"
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT * FROM Msvm_ComputerSystem " + host))
        self.assertNotIn(b"<p:Roles", raw)
        self.assertNotIn(b"IsNullArray", raw)
        self.assertIn(b"<p:Dedicated>0</p:Dedicated>", raw)
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT Roles, Name FROM Msvm_ComputerSystem " + host))
        self.assertRegex(raw, rb"<w:XmlFragment [^>]*><Name>[^<]+</Name>"
                         rb"</w:XmlFragment>")

    def test_quotes_are_escaped_and_non_ascii_is_raw_utf8(self):
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT ElementName FROM Msvm_ComputerSystem"))
        raw += self.post(hc.pull_req(ALL, re.search(
            rb"uuid:[0-9A-F-]{36}(?=</n:Enum)", raw).group().decode(), 10))
        self.assertIn(b"<ElementName>vm &quot;quoted&quot; it&apos;s"
                      b"</ElementName>", raw)
        self.assertIn(b"<ElementName>" + UNICODE.encode("utf-8") +
                      b"</ElementName>", raw)
        self.assertNotIn(b"&#", raw)

    # ---- envelope -----------------------------------------------------------
    def test_envelope_as_winrm_writes_it(self):
        for req in (hc.enumerate_req(CS, max_elements=3),
                    hc.enumerate_req(KVP, max_elements=3)):
            raw = self.post(req)
            self.assertTrue(raw.startswith(ENV_START), raw[:300])
            self.assertNotIn(b"<?xml", raw)
            self.assertIsNone(re.search(rb">\s+<", raw))
        r = self.c.post(hc.pull_req(CS, "uuid:NOT-A-CONTEXT"))
        self.assertTrue(r.body.startswith(
            b'<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" '
            b'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
            b'xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" '
            b'xmlns:n="%s" xmlns:w="%s" xmlns:p=' % (
                NS_S.encode(), NS_A.encode(), NS_N.encode(),
                NS_W.encode())), r.body[:400])

    # ---- embedded KVP items -------------------------------------------------
    def test_embedded_kvp_data_item(self):
        items, _ = self.c.enumerate_all(
            ALL, "SELECT GuestIntrinsicExchangeItems FROM "
            "Msvm_KvpExchangeComponent", max_elements=10)
        arr = hc.props(items[0], "GuestIntrinsicExchangeItems")
        self.assertTrue(arr)
        raw = self.post(hc.enumerate_req(
            ALL, "SELECT GuestIntrinsicExchangeItems FROM "
            "Msvm_KvpExchangeComponent"))
        # on the wire the embedded instance is escaped text, quotes too
        self.assertIn(b"<GuestIntrinsicExchangeItems>&lt;INSTANCE "
                      b"CLASSNAME=&quot;Msvm_KvpExchangeDataItem&quot;&gt;"
                      b"&lt;PROPERTY NAME=&quot;Caption&quot; PROPAGATED="
                      b"&quot;true&quot; TYPE=&quot;string&quot;&gt;"
                      b"&lt;/PROPERTY&gt;&lt;PROPERTY NAME=&quot;Data&quot; "
                      b"TYPE=&quot;string&quot;&gt;&lt;VALUE&gt;", raw)
        for e in arr:
            inst = ET.fromstring(e.text)
            self.assertEqual(inst.tag, "INSTANCE")
            self.assertEqual(inst.get("CLASSNAME"),
                             "Msvm_KvpExchangeDataItem")
            props = [(p.get("NAME"), p.get("TYPE"), p.get("PROPAGATED"),
                      p.find("VALUE") is not None) for p in inst]
            self.assertEqual(props, [
                ("Caption", "string", "true", False),
                ("Data", "string", None, True),
                ("Description", "string", "true", False),
                ("ElementName", "string", "true", False),
                ("Name", "string", None, True),
                ("Source", "uint16", None, True)])
            self.assertEqual(inst.findtext("PROPERTY[@NAME='Source']/VALUE"),
                             "2")


if __name__ == "__main__":
    unittest.main()
