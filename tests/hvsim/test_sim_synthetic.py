"""Synthetic guests of the Hyper-V simulator: their GuestExchangeItems carry
a valid hvkvp message framed by the real `hvkvp-codec encode` (enc=zd1, the writers' default),
which `hvkvp-codec decode` accepts, with about 150 collectd value lists, a
gen that advances every --interval, and padding up to --items."""

import json
import os
import re
import subprocess
import time
import unittest

from simtest import hc, KVP, SimTestCase, build_dir



def guest_items(inst):
    """{Name: Data} of the instance's GuestExchangeItems."""
    return {k: v[0] for k, v in hc.kvp_items(inst,
                                             "GuestExchangeItems").items()}


class SyntheticTest(SimTestCase):
    sim_args = ("--synthetic", "5", "--items", "60", "--interval", "0.5",
                "--build-dir", build_dir())
    stderr_must_not_hold = ("warning",)

    @classmethod
    def setUpClass(cls):
        cls.codec = os.path.join(build_dir(), "protocol", "hvkvp-codec")
        if not os.access(cls.codec, os.X_OK):
            raise RuntimeError(cls.codec + " is not built")
        super().setUpClass()

    def decode_all(self):
        its, _ = self.c.enumerate_all(KVP, max_elements=10)
        lines = []
        for inst in its:
            kv = guest_items(inst)
            self.assertEqual(len(kv), 60)
            lines.append(json.dumps({k: v for k, v in kv.items()
                                     if k.startswith("hvkvp.")}))
        p = subprocess.run([self.codec, "decode"],
                           input=("\n".join(lines) + "\n").encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines()]

    def test_messages_decode(self):
        res = self.decode_all()
        self.assertEqual(len(res), 5)
        hosts = set()
        for r in res:
            self.assertTrue(r["ok"], r)
            msg = r["msg"]
            hosts.add(msg["host"])
            self.assertEqual(msg["v"], 1)
            self.assertGreaterEqual(len(msg["values"]), 140)
            plugins = {v["plugin"] for v in msg["values"]}
            self.assertTrue({"cpu", "memory", "df", "interface", "disk",
                             "load"} <= plugins, plugins)
        self.assertEqual(hosts, {"synth-%04d" % i for i in range(1, 6)})
        its, _ = self.c.enumerate_all(KVP)
        self.assertTrue(guest_items(its[0])["hvkvp.head"].endswith(
            ";enc=zd1"))

    def test_pushed_interval_and_config_id_are_applied(self):
        its, _ = self.c.enumerate_all(
            hc.WMI_V2 + "/*", "SELECT Name FROM Msvm_ComputerSystem WHERE "
            "ElementName = 'synth-0003'")
        guid = hc.prop_text(its[0], "Name")
        r = self.c.post(hc.kvp_invoke_req("AddKvpItems", guid, [
            ("hvkvp.cfg.interval", "1"), ("hvkvp.cfg.tags", "site.dc=eu"),
            ("hvkvp.cfg.id", "syn-cfg-1")]))
        self.assertEqual(r.status, 200)
        m = self.wait_msg("synth-0003", lambda m: m["config"] == "syn-cfg-1")
        self.assertEqual(m["interval"], 1)
        self.assertEqual(m["tags"], {"site.dc": "eu"})
        msg = {r["msg"]["host"]: r["msg"] for r in self.decode_all()}
        self.assertEqual(msg["synth-0001"]["interval"], 0.5)
        # An invalid set (PROTOCOL.md 11: strict decimal) is refused as a
        # real guest refuses it: the last good id stays, the reason is sent.
        r = self.c.post(hc.kvp_invoke_req("ModifyKvpItems", guid, [
            ("hvkvp.cfg.interval", "0x10")]))
        self.assertEqual(r.status, 200)
        m = self.wait_msg("synth-0003", lambda m: m.get("config_error"))
        self.assertEqual(m["config"], "syn-cfg-1")
        self.assertEqual(m["config_error"], 'item hvkvp.cfg.interval: "0x10" '
                         "is not seconds 1..3600")

    def wait_msg(self, host, cond):
        deadline = time.monotonic() + 20
        while True:
            m = {r["msg"]["host"]: r["msg"] for r in self.decode_all()}[host]
            if cond(m):
                return m
            self.assertLess(time.monotonic(), deadline, m)
            time.sleep(0.2)

    def test_one_slot_at_rest(self):
        """Like a real reporter, a synthetic guest keeps only the slot its
        head names (the old slot's chunks go once the new head is set)."""
        first = self.decode_all()[0]["gen"]
        deadline = time.monotonic() + 20
        while self.decode_all()[0]["gen"] < first + 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        its, _ = self.c.enumerate_all(KVP)
        for inst in its:
            kv = guest_items(inst)
            slot = re.search(r";slot=([AB]);", kv["hvkvp.head"]).group(1)
            slots = {k.split(".")[1] for k in kv
                     if re.match(r"hvkvp\.[AB]\.\d+$", k)}
            self.assertEqual(slots, {slot}, sorted(kv))

    def test_gen_advances_and_stays_decodable(self):
        first = {r["msg"]["host"]: r["gen"] for r in self.decode_all()}
        deadline = time.monotonic() + 20
        while True:
            now = {r["msg"]["host"]: r["gen"] for r in self.decode_all()}
            if all(now[h] > first[h] for h in first):
                break
            self.assertLess(time.monotonic(), deadline, (first, now))
            time.sleep(0.3)


if __name__ == "__main__":
    unittest.main()
