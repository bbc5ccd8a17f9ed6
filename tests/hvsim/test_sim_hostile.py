"""Hostile guests and hostile hosts from the simulator, for the plugin's
isolation tests (issue 11): what a tenant can publish through
POST /hvsim/vms/NAME/items and how WinRM would render it (200 items of 2047
bytes, 5000 items, one 600 KB item: w:EncodingLimit for the page that would
hold it; a control character: that page is not well-formed XML), an
enumeration that never ends (fault kind endless, items repeated or empty
pages with fresh contexts), answers in UTF-16LE without a byte order mark
(fault kind utf16, or a UTF-16 request), and one VM served by two
simulators at once (aligned VMs: the same GUID and the same messages)."""

import json
import os
import re
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from simtest import hc, simproc, ALL, CS, KVP, VSMS, build_args
from hvsimlib.soap import NS_N, NS_W, q

ENCODING_LIMIT = ("w:EncodingLimit", "2150858824")


def context_of(r, wrapper):
    el = r.body_el().find(q(NS_N, wrapper)).find(q(NS_N,
                                                   "EnumerationContext"))
    return el.text if el is not None else None


class SimCase(unittest.TestCase):
    args = ("--synthetic", "3", "--items", "4")

    def setUp(self):
        self.sim = simproc.Sim(*self.args, *build_args())
        self.c = self.sim.client()

    def tearDown(self):
        self.c.close()
        simproc.check_stop(self.sim)

    def guid(self, name):
        st, vms = self.c.admin("GET", "/hvsim/vms")
        return next(v["guid"] for v in vms["vms"] if v["name"] == name)


class HostileItems(SimCase):
    """synth-0002 turns hostile; synth-0001 and synth-0003 stay healthy."""

    def publish(self, items, name="synth-0002"):
        st, res = self.c.admin("POST", "/hvsim/vms/%s/items" % name,
                               {"guest": items})
        self.assertEqual(st, 200, res)

    def assert_page_of_offender_fails(self):
        """The EnumerateResponse holds synth-0001; the Pull that would hold
        synth-0002 is w:EncodingLimit, again on a retry (the context stays
        where it was); the healthy VMs stay readable around it."""
        r = self.c.post(hc.enumerate_req(KVP, max_elements=10))
        self.assertEqual(r.status, 200)
        ctx = context_of(r, "EnumerateResponse")
        for _ in range(2):
            r = self.c.post(hc.pull_req(KVP, ctx, 10))
            self.assertEqual((r.status, r.fault()), (500, ENCODING_LIMIT))
            fd = r.body_el().find(".//" + q(NS_W, "FaultDetail"))
            self.assertTrue(fd.text.endswith("/MaxEnvelopeSize"))
        r = self.c.post(hc.get_req(KVP, [
            ("CreationClassName", "Msvm_KvpExchangeComponent"),
            ("SystemName", self.guid("synth-0002")), ("DeviceID", "Microsoft:"
             "%s\\A9A0F4E7-5A45-4D96-B827-8A841E8C03E6"
             % self.guid("synth-0002")),
            ("SystemCreationClassName", "Msvm_ComputerSystem")]))
        self.assertEqual(r.fault(), ENCODING_LIMIT)
        items, _ = self.c.enumerate_all(
            ALL, "SELECT SystemName, GuestExchangeItems FROM "
            "Msvm_KvpExchangeComponent WHERE SystemName != '%s'"
            % self.guid("synth-0002"))
        self.assertEqual(len(items), 2)
        items, _ = self.c.enumerate_all(
            ALL, "SELECT SystemName, GuestIntrinsicExchangeItems FROM "
            "Msvm_KvpExchangeComponent")
        self.assertEqual(len(items), 3)

    def test_200_items_of_2047_bytes(self):
        self.publish({"wide.%03d" % i: ("%03d" % i) * 682 + "w"
                      for i in range(200)})
        self.assert_page_of_offender_fails()

    def test_5000_items(self):
        self.publish({"many.%04d" % i: "v%d" % i for i in range(5000)})
        self.assert_page_of_offender_fails()

    def test_one_600_kb_item(self):
        self.publish({"huge": "h" * (600 * 1024)})
        self.assert_page_of_offender_fails()

    def test_items_that_fit_are_served_whole(self):
        items = {"fit.%02d" % i: "f" * 2047 for i in range(20)}
        items["q\"uo'te"] = "a<b>&c\"d'e \u00e9\u2603"
        self.publish(items)
        got, _ = self.c.enumerate_all(KVP, max_elements=10)
        guest = hc.kvp_items(got[1], "GuestExchangeItems")
        self.assertEqual({k: v[0] for k, v in guest.items()}, items)

    def test_control_character_makes_the_page_not_xml(self):
        self.publish({"ctrl": "a\x01b"})
        r = self.c.post(hc.enumerate_req(KVP, max_elements=1))
        ctx = context_of(r, "EnumerateResponse")
        r = self.c.post(hc.pull_req(KVP, ctx, 1))  # synth-0002's page
        self.assertEqual(r.status, 200)
        self.assertIn(b"&lt;VALUE&gt;a\x01b&lt;/VALUE&gt;", r.body)
        with self.assertRaisesRegex(ET.ParseError, "not well-formed"):
            ET.fromstring(r.body)
        ctx = re.search(rb"<n:EnumerationContext>(uuid:[^<]+)<",
                        r.body).group(1).decode()
        r = self.c.post(hc.pull_req(KVP, ctx, 1))  # synth-0003: healthy
        self.assertEqual(len(r.body_el().find(q(NS_N, "PullResponse"))
                             .find(q(NS_N, "Items"))), 1)

    def test_what_the_hook_refuses(self):
        for bad in ({"guest": {"k": "\ud800"}}, {"guest": {"k": 1}},
                    {"guest": ["k"]}, {"intrinsic": {"\udfff": "v"}}):
            st, res = self.c.admin("POST", "/hvsim/vms/synth-0001/items",
                                   bad)
            self.assertEqual(st, 400, bad)
            self.assertIn("error", res)
        st, res = self.c.admin("POST", "/hvsim/vms/nope/items", {})
        self.assertEqual(st, 404)


class EndlessEnumeration(SimCase):
    def rules(self, *rules):
        st, res = self.c.admin("POST", "/hvsim/faults", list(rules))
        self.assertEqual(st, 200, res)

    def names(self, r, wrapper, ns):
        its = r.body_el().find(q(NS_N, wrapper)).find(q(ns, "Items"))
        return [hc.prop_text(i, "ElementName") for i in its]

    def test_items_keep_coming(self):
        self.rules({"kind": "endless", "action": "Pull"})
        r = self.c.post(hc.enumerate_req(CS, max_elements=3))
        ctx = context_of(r, "EnumerateResponse")
        seen = self.names(r, "EnumerateResponse", NS_W)
        for _ in range(20):
            r = self.c.post(hc.pull_req(CS, ctx, 3))
            self.assertEqual(r.status, 200, r.body[:300])
            self.assertNotIn(b"EndOfSequence", r.body)
            self.assertEqual(context_of(r, "PullResponse"), ctx)
            got = self.names(r, "PullResponse", NS_N)
            self.assertEqual(len(got), 3)
            seen += got
        # host + 3 VMs over and over
        cycle = seen[:4]
        self.assertEqual(sorted(cycle), sorted(set(cycle)))
        self.assertEqual(seen, (cycle * 20)[:len(seen)])

    def test_empty_pages_with_fresh_contexts(self):
        self.rules({"kind": "endless", "pages": "empty", "action": "Pull"})
        r = self.c.post(hc.enumerate_req(CS, max_elements=2))
        ctx = context_of(r, "EnumerateResponse")
        contexts = {ctx}
        for _ in range(20):
            r = self.c.post(hc.pull_req(CS, ctx, 2))
            self.assertEqual(r.status, 200)
            self.assertEqual(self.names(r, "PullResponse", NS_N), [])
            self.assertNotIn(b"EndOfSequence", r.body)
            old, ctx = ctx, context_of(r, "PullResponse")
            self.assertNotIn(ctx, contexts)
            contexts.add(ctx)
        r = self.c.post(hc.pull_req(CS, old, 2))
        self.assertEqual(r.fault()[0], "n:InvalidEnumerationContext")

    def test_count_lets_it_end(self):
        self.rules({"kind": "endless", "action": "Pull", "count": 5})
        items, trips = self.c.enumerate_all(CS, max_elements=2)
        # 5 endless Pulls of 2, then 1 + 2 + 1 from where they left off
        self.assertEqual(trips, 1 + 5 + 1)
        self.assertEqual(len(items), 1 + 5 * 2 + 1)

    def test_bad_rules(self):
        for bad in ({"kind": "endless", "pages": "some"},
                    {"kind": "http500", "pages": "empty"}):
            st, res = self.c.admin("POST", "/hvsim/faults", [bad])
            self.assertEqual(st, 400, bad)


class EndlessFromConfig(SimCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hvsim-endless-")
        cfg = os.path.join(self.tmp.name, "cfg.json")
        with open(cfg, "w") as f:
            json.dump({"faults": [{"kind": "endless", "class":
                                   "Msvm_VirtualSystemManagementService"}]},
                      f)
        self.args = ("--config", cfg)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        self.tmp.cleanup()

    def test_one_instance_never_ends(self):
        r = self.c.post(hc.enumerate_req(VSMS, max_elements=5))
        ctx = context_of(r, "EnumerateResponse")
        self.assertTrue(ctx.startswith("uuid:"))
        for _ in range(5):
            r = self.c.post(hc.pull_req(VSMS, ctx, 5))
            self.assertNotIn(b"EndOfSequence", r.body)
            self.assertEqual(r.body.count(b"<p:Name>vmms</p:Name>"), 5)


class Utf16(SimCase):
    CT16 = "application/soap+xml;charset=UTF-16"

    def test_fault_kind_utf16(self):
        st, _ = self.c.admin("POST", "/hvsim/faults", [
            {"kind": "utf16", "action": "Enumerate"}])
        self.assertEqual(st, 200)
        r = self.c.post(hc.enumerate_req(CS, max_elements=2))
        self.assertIn(("Content-Type", self.CT16), r.headers)
        self.assertTrue(r.body.startswith("<s:Envelope".encode("utf-16-le")))
        text = r.body.decode("utf-16-le")
        ctx = re.search(r"uuid:[0-9A-F-]{36}(?=</n:Enum)", text).group()
        self.assertIn("<w:Items><p:Msvm_ComputerSystem ", text)
        r = self.c.post(hc.pull_req(CS, ctx, 2))  # not matched: UTF-8
        self.assertIn(("Content-Type", "application/soap+xml;charset=UTF-8"),
                      r.headers)
        self.assertTrue(r.body.startswith(b"<s:Envelope"))

    def test_a_utf16_request_is_answered_in_utf16(self):
        req = hc.enumerate_req(ALL, "SELECT ElementName FROM "
                               "Msvm_ComputerSystem WHERE ElementName = "
                               "'synth-0003'").decode()
        for body in (req.encode("utf-16-le"),
                     b"\xff\xfe" + req.encode("utf-16-le")):
            r = self.c.post(body, content_type=self.CT16)
            self.assertEqual(r.status, 200, r.body[:200])
            self.assertIn(("Content-Type", self.CT16), r.headers)
            self.assertFalse(r.body.startswith(b"\xff\xfe"))
            self.assertIn("<ElementName>synth-0003</ElementName>",
                          r.body.decode("utf-16-le"))


class TwoHosts(unittest.TestCase):
    """One VM (aligned, same GUID) in two simulators at once, as a live
    migration between two polled hosts shows it; the other VMs differ."""

    def test_same_vm_same_messages_on_two_hosts(self):
        with tempfile.TemporaryDirectory(prefix="hvsim-twins-") as d:
            cfg = os.path.join(d, "shared.json")
            with open(cfg, "w") as f:
                json.dump({"vms": [{"name": "migrating", "kind": "synthetic",
                                    "aligned": True}]}, f)
            sims = [simproc.Sim("--config", cfg, "--synthetic", "2",
                                "--name-prefix", p, "--interval", "1",
                                *build_args()) for p in ("hva", "hvb")]
            try:
                self.check(*sims)
            finally:
                for s in sims:
                    rc, _, err = s.stop()
                    self.assertEqual(rc, 0, err)

    def vms(self, c):
        items, _ = c.enumerate_all(ALL, "SELECT Name, ElementName FROM "
                                   "Msvm_ComputerSystem WHERE Caption = "
                                   "'Virtual Machine'")
        return {hc.prop_text(i, "ElementName"): hc.prop_text(i, "Name")
                for i in items}

    def heads(self, c, guid):
        items, _ = c.enumerate_all(ALL, "SELECT GuestExchangeItems FROM "
                                   "Msvm_KvpExchangeComponent WHERE "
                                   "SystemName = '%s'" % guid)
        kv = {k: v[0] for k, v in hc.kvp_items(
            items[0], "GuestExchangeItems").items()}
        # the slot a message went to may differ; the message may not
        head = re.sub(r"slot=[AB];", "", kv["hvkvp.head"])
        slot = re.search(r"slot=([AB])", kv["hvkvp.head"]).group(1)
        chunks = [v for k, v in sorted(kv.items())
                  if k.startswith("hvkvp.%s." % slot)]
        return head, chunks

    def check(self, a, b):
        ca, cb = a.client(), b.client()
        va, vb = self.vms(ca), self.vms(cb)
        self.assertEqual(set(va), {"migrating", "hva-0001", "hva-0002"})
        self.assertEqual(set(vb), {"migrating", "hvb-0001", "hvb-0002"})
        self.assertEqual(va["migrating"], vb["migrating"])
        self.assertFalse(set(va.values()) & set(vb.values()) -
                         {va["migrating"]})
        guid = va["migrating"]
        deadline = time.monotonic() + 20
        same = []  # messages both hosts served at once
        while len(same) < 2:
            self.assertLess(time.monotonic(), deadline, same)
            ha, hb = self.heads(ca, guid), self.heads(cb, guid)
            if ha == hb and ha not in same:
                same.append(ha)  # then wait for the next gen
            time.sleep(0.1)
        gens = [int(re.search(r";gen=(\d+);", h[0]).group(1)) for h in same]
        self.assertLess(gens[0], gens[1])
        ca.close()
        cb.close()


if __name__ == "__main__":
    unittest.main()
