"""Fault injection of the Hyper-V simulator: every fault kind set at run time
through POST /hvsim/faults (and from --config) produces the status code,
fault XML or connection behaviour it promises; rule matching by action,
class and method; count / skip."""

import http.client
import json
import os
import tempfile
import time
import unittest

from simtest import hc, simproc, ALL, CS, KVP, JOB, SimTestCase
from hvsimlib.soap import NS_A, NS_S, NS_W, q



text = hc.prop_text


class FaultTest(SimTestCase):
    sim_args = ("--synthetic", "3", "--items", "10", "--seed", "7",
                "--job-delay", "0")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        items, _ = cls.c.enumerate_all(
            ALL, "SELECT Name FROM Msvm_ComputerSystem WHERE "
            "Caption = 'Virtual Machine'")
        cls.guids = [text(i, "Name") for i in items]

    def setUp(self):
        st, _ = self.c.admin("DELETE", "/hvsim/faults")
        self.assertEqual(st, 200)

    def rules(self, *rules):
        st, res = self.c.admin("POST", "/hvsim/faults", list(rules))
        self.assertEqual(st, 200, res)
        return res

    def fired(self):
        st, res = self.c.admin("GET", "/hvsim/faults")
        return [r["fired"] for r in res["rules"]]

    def ok(self, r):
        self.assertEqual(r.status, 200, r.body[:300])

    def test_http500(self):
        self.rules({"kind": "http500", "action": "Pull", "count": 1})
        r = self.c.post(hc.enumerate_req(KVP, max_elements=1))
        self.ok(r)
        ctx = r.body_el()[0][0].text
        r = self.c.post(hc.pull_req(KVP, ctx, 1))
        self.assertEqual((r.status, r.body), (500, b""))
        # the failed Pull did not consume the context
        r = self.c.post(hc.pull_req(KVP, ctx, 5))
        self.ok(r)
        self.assertEqual(self.fired(), [1])

    def test_soap_fault_default_and_custom(self):
        self.rules({"kind": "soap_fault", "action": "Enumerate",
                    "class": "Msvm_KvpExchangeComponent", "count": 1},
                   {"kind": "soap_fault", "action": "Get", "sender": True,
                    "subcode": "w:AccessDenied", "code": 5,
                    "reason": "Access is denied. "})
        r = self.c.post(hc.enumerate_req(CS))  # other class: untouched
        self.ok(r)
        r = self.c.post(hc.enumerate_req(KVP))
        self.assertEqual(r.status, 500)
        self.assertEqual(r.fault(), ("w:TimedOut", "2150858793"))
        code = r.body_el().find("%s/%s/%s" % (q(NS_S, "Fault"),
                                              q(NS_S, "Code"),
                                              q(NS_S, "Value"))).text
        self.assertEqual(code, "s:Receiver")
        act = r.root.find("%s/%s" % (q(NS_S, "Header"), q(NS_A, "Action")))
        self.assertEqual(act.text,
                         "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault")
        self.ok(self.c.post(hc.enumerate_req(KVP)))  # count exhausted
        r = self.c.post(hc.get_req(CS, [("Name", self.guids[0])]))
        self.assertEqual(r.status, 400)
        self.assertEqual(r.fault(), ("w:AccessDenied", "5"))

    def test_truncated_body(self):
        self.rules({"kind": "truncate", "action": "Enumerate", "count": 1})
        with self.assertRaises(http.client.IncompleteRead):
            self.c.post(hc.enumerate_req(KVP, max_elements=3))
        self.ok(self.c.post(hc.enumerate_req(KVP, max_elements=3)))

    def test_connection_reset(self):
        self.rules({"kind": "reset", "action": "Get", "count": 1})
        with self.assertRaises((ConnectionResetError,
                                http.client.RemoteDisconnected)):
            self.c.post(hc.get_req(CS, [("Name", self.guids[0])]))
        self.ok(self.c.post(hc.get_req(CS, [("Name", self.guids[0])])))

    def test_auth_failure(self):
        self.rules({"kind": "auth", "skip": 1, "count": 1})
        self.ok(self.c.post(hc.enumerate_req(CS)))
        r = self.c.post(hc.enumerate_req(CS))
        self.assertEqual(r.status, 401)
        self.assertIn(("WWW-Authenticate", 'Basic realm="WSMAN"'), r.headers)
        self.ok(self.c.post(hc.enumerate_req(CS)))

    def test_latency_fires_and_answers_normally(self):
        self.rules({"kind": "latency", "delay": 0.2, "action": "Enumerate"})
        self.ok(self.c.post(hc.enumerate_req(CS)))
        self.ok(self.c.post(hc.get_req(CS, [("Name", self.guids[0])])))
        self.assertEqual(self.fired(), [1])

    def test_latency_beyond_operation_timeout_is_timed_out(self):
        self.rules({"kind": "latency", "delay": 3, "action": "Enumerate"})
        r = self.c.post(hc.envelope(
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", CS,
            "<wsen:Enumerate/>", hc.op_timeout(0.2)))
        self.assertEqual(r.status, 500)
        self.assertEqual(r.fault(), ("w:TimedOut", "2150858793"))
        r = self.c.post(hc.envelope(
            "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", CS,
            "<wsen:Enumerate/>", "<wsman:OperationTimeout>soon"
            "</wsman:OperationTimeout>"))
        self.assertEqual(r.fault()[0], "w:SchemaValidationError")

    def job(self, method, items, guid=None):
        r = self.c.post(hc.kvp_invoke_req(method, guid or self.guids[0],
                                          items))
        self.ok(r)
        out = r.body_el()[0]
        jid = [s.text for s in out.iter(q(NS_W, "Selector"))
               if s.get("Name") == "InstanceID"][0]
        return int(text(out, "ReturnValue")), jid

    def job_state(self, jid):
        r = self.c.post(hc.get_req(JOB, [("InstanceID", jid)]))
        self.ok(r)
        inst = r.body_el()[0]
        return (int(text(inst, "JobState")), int(text(inst, "ErrorCode")),
                text(inst, "ErrorDescription"))

    def test_slow_job(self):
        self.rules({"kind": "slow_job", "method": "AddKvpItems",
                    "delay": 3})
        rv, jid = self.job("AddKvpItems", [("slow", "1")])
        self.assertEqual(rv, 4096)
        self.assertEqual(self.job_state(jid)[0], 4)
        for _ in range(200):
            st = self.job_state(jid)
            if st[0] != 4:
                break
            time.sleep(0.05)
        self.assertEqual(st[:2], (7, 0))

    def test_failed_job(self):
        self.rules({"kind": "failed_job", "action": "Invoke",
                    "error_code": 32775,
                    "error_description": "The VM is in an invalid state."})
        rv, jid = self.job("AddKvpItems", [("failing", "1")])
        self.assertEqual(rv, 4096)
        self.assertEqual(self.job_state(jid),
                         (10, 32775, "The VM is in an invalid state."))
        # the failed job changed nothing
        self.c.admin("DELETE", "/hvsim/faults")
        st, vms = self.c.admin("GET", "/hvsim/vms")
        self.assertNotIn("failing", vms["vms"][0]["host_items"])

    def test_probability_zero_never_fires(self):
        self.rules({"kind": "http500", "probability": 0.0})
        for _ in range(5):
            self.ok(self.c.post(hc.enumerate_req(CS)))
        self.assertEqual(self.fired(), [0])

    def test_bad_rules_are_refused(self):
        for bad in ([{"kind": "explode"}], [{"kind": "http500",
                                             "action": "Put"}],
                    [{"kind": "latency", "delay": -1}],
                    [{"kind": "soap_fault", "subcode": "Bogus"}],
                    [{"kind": "http500", "colour": "red"}], {"rules": 3}):
            st, res = self.c.admin("POST", "/hvsim/faults", bad)
            self.assertEqual(st, 400, bad)
            self.assertIn("error", res)

    def test_stats_count_injected(self):
        self.c.admin("POST", "/hvsim/stats/reset")
        self.rules({"kind": "http500", "action": "Enumerate", "count": 2})
        for _ in range(3):
            self.c.post(hc.enumerate_req(CS))
        st, s = self.c.admin("GET", "/hvsim/stats")
        self.assertEqual(s["faults_injected"], 2)
        self.assertEqual(s["by_action"], {"Enumerate": 3})


class VmAdminTest(unittest.TestCase):
    def test_state_and_items_at_run_time(self):
        with simproc.running("--synthetic", "2") as sim:
            c = sim.client()
            self.assertEqual(len(c.enumerate_all(KVP)[0]), 2)
            st, res = c.admin("POST", "/hvsim/vms/synth-0002/state",
                              {"running": False})
            self.assertEqual(st, 200, res)
            self.assertEqual(len(c.enumerate_all(KVP)[0]), 1)
            its, _ = c.enumerate_all(
                ALL, "SELECT EnabledState FROM Msvm_ComputerSystem WHERE "
                "ElementName = 'synth-0002'")
            self.assertEqual(text(its[0], "EnabledState"), "3")
            hostile = {"a;b*[c]": "x<y>&z\"q'", "\u00e9t\u00e9": "\u2603",
                       "hvkvp.head": "v=1;garbage"}
            st, res = c.admin("POST", "/hvsim/vms/synth-0001/items",
                              {"guest": hostile, "intrinsic": {}})
            self.assertEqual(st, 200, res)
            inst = c.enumerate_all(KVP)[0][0]
            got = {k: v[0] for k, v in hc.kvp_items(
                inst, "GuestExchangeItems").items()}
            # an empty array is a null array: left out
            self.assertEqual(hc.props(inst, "GuestIntrinsicExchangeItems"),
                             [])
            self.assertEqual(got, hostile)
            for bad in ({"running": "yes"}, [1]):
                st, _ = c.admin("POST", "/hvsim/vms/synth-0002/state", bad)
                self.assertEqual(st, 400)
            st, _ = c.admin("POST", "/hvsim/vms/nope/state",
                            {"running": True})
            self.assertEqual(st, 404)
            c.close()


class ConfigFileTest(unittest.TestCase):
    def test_config_vms_and_faults(self):
        with tempfile.TemporaryDirectory() as d:
            items = os.path.join(d, "items.json")
            with open(items, "w") as f:
                json.dump({"a": "1", "b": "two & <three>"}, f)
            cfg = os.path.join(d, "cfg.json")
            with open(cfg, "w") as f:
                json.dump({"host_name": "HV-CFG",
                           "vms": [{"name": "static-vm", "kind": "synthetic",
                                    "items_file": items},
                                   {"name": "off-vm", "kind": "synthetic",
                                    "state": "off"}],
                           "faults": [{"kind": "http500", "action": "Get"}],
                           "jobs": {"sync": True}}, f)
            with simproc.running("--config", cfg) as sim:
                c = sim.client()
                its, _ = c.enumerate_all(CS)
                by_name = {text(i, "ElementName"): i for i in its}
                self.assertEqual(set(by_name), {"HV-CFG", "static-vm",
                                                "off-vm"})
                self.assertEqual(text(by_name["off-vm"], "EnabledState"), "3")
                kvp, _ = c.enumerate_all(KVP)
                self.assertEqual(len(kvp), 1)  # only the running VM
                got = {k: v[0] for k, v in hc.kvp_items(
                    kvp[0], "GuestExchangeItems").items()}
                self.assertEqual(got, {"a": "1", "b": "two & <three>"})
                r = c.post(hc.get_req(CS, [("Name", "x")]))
                self.assertEqual(r.status, 500)
                guid = text(by_name["static-vm"], "Name")
                r = c.post(hc.kvp_invoke_req("AddKvpItems", guid,
                                             [("k", "v")]))
                out = r.body_el()[0]
                self.assertEqual(text(out, "ReturnValue"), "0")
                self.assertIsNone(text(out, "Job"))
                c.close()


if __name__ == "__main__":
    unittest.main()
