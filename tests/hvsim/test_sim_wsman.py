"""Raw WS-Management conformance of the Hyper-V simulator (contrib/hvsim):
Enumerate/Pull/Release, WQL, envelope cutting, Get, Invoke + jobs, the
protocol faults, authentication and statistics. Starts hvsim on port 0."""

import time
import unittest

from simtest import hc, simproc, ALL, CS, KVP, JOB, SimTestCase
from hvsimlib import wql
from hvsimlib.soap import NS_A, NS_B, NS_N, NS_S, NS_W, NS_XSI, q

MSFT_WMIERROR = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/" \
    "MSFT_WmiError"
NS_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"



prop = hc.props
text = hc.prop_text


items_of = hc.kvp_items  # {Name: (Data, Source)} of a KVP array


class WsmanTest(SimTestCase):
    sim_args = ("--synthetic", "7", "--items", "30", "--interval", "0.5",
                "--job-delay", "0.3")

    def vm_guids(self):
        items, _ = self.c.enumerate_all(
            ALL, "SELECT Name FROM Msvm_ComputerSystem WHERE "
            "Caption = 'Virtual Machine'")
        return [text(i, "Name") for i in items]

    # ---- enumeration ------------------------------------------------------
    def test_enumerate_pull_to_end_of_sequence(self):
        r = self.c.post(hc.enumerate_req(KVP, optimize=True, max_elements=2))
        self.assertEqual(r.status, 200)
        self.assertIn(("Content-Type", "application/soap+xml;charset=UTF-8"),
                      r.headers)
        resp = r.body_el().find(q(NS_N, "EnumerateResponse"))
        # one item in the EnumerateResponse, whatever MaxElements asks
        self.assertEqual(len(resp.find(q(NS_W, "Items"))), 1)
        self.assertIsNone(resp.find(q(NS_W, "EndOfSequence")))
        ctx = resp.find(q(NS_N, "EnumerationContext")).text
        self.assertTrue(ctx.startswith("uuid:"))
        seen = 1
        pulls = 0
        while True:
            r = self.c.post(hc.pull_req(KVP, ctx, 2))
            self.assertEqual(r.status, 200, r.body[:400])
            pr = r.body_el().find(q(NS_N, "PullResponse"))
            its = list(pr.find(q(NS_N, "Items")))
            self.assertLessEqual(len(its), 2)
            seen += len(its)
            pulls += 1
            if pr.find(q(NS_N, "EndOfSequence")) is not None:
                self.assertIsNone(pr.find(q(NS_N, "EnumerationContext")))
                break
            ctx = pr.find(q(NS_N, "EnumerationContext")).text
        self.assertEqual(seen, 7)
        self.assertEqual(pulls, 3)
        # The finished context is gone.
        r = self.c.post(hc.pull_req(KVP, ctx, 2))
        self.assertEqual(r.fault()[0], "n:InvalidEnumerationContext")

    def test_instance_shape_and_items(self):
        items, _ = self.c.enumerate_all(KVP)
        inst = items[0]
        self.assertEqual(inst.tag, "{%s}Msvm_KvpExchangeComponent" % KVP)
        self.assertEqual(inst.get(q(NS_XSI, "type")).split(":")[1],
                         "Msvm_KvpExchangeComponent_Type")
        raw = self.c.post(hc.enumerate_req(KVP, max_elements=1)).body
        self.assertIn(b'<p:Msvm_KvpExchangeComponent xmlns:xsi="%s" '
                      b'xmlns:p="%s"' % (NS_XSI.encode(), KVP.encode()), raw)
        self.assertIn(b"<n:EnumerateResponse>", raw)
        self.assertIn(b"<w:Items>", raw)
        intrinsic = items_of(inst, "GuestIntrinsicExchangeItems")
        self.assertEqual(intrinsic["IntegrationServicesVersion"],
                         ("3.1", "2"))
        self.assertTrue(intrinsic["OSVersion"][0].endswith("\n"))
        guest = items_of(inst, "GuestExchangeItems")
        ours = [k for k in guest if k.startswith("hvkvp.")]
        pads = [k for k in guest if k.startswith("hvsim.pad.")]
        self.assertEqual(len(ours) + len(pads), len(guest))
        self.assertEqual(len(guest), max(30, len(ours)))
        self.assertIn("hvkvp.head", guest)
        self.assertTrue(all(src == "1" for _, src in guest.values()))
        self.assertEqual(text(inst, "SystemName"),
                         text(inst, "SystemName").upper())
        self.assertEqual(text(inst, "CreationClassName"),
                         "Msvm_KvpExchangeComponent")

    def test_null_scalar_and_null_array(self):
        items, _ = self.c.enumerate_all(
            ALL, "SELECT * FROM Msvm_ComputerSystem WHERE "
            "Description = 'Microsoft Hosting Computer System'")
        self.assertEqual(len(items), 1)
        host = items[0]
        self.assertEqual(text(host, "Caption"), "Hosting Computer System")
        nil = prop(host, "ProcessID")[0]
        self.assertEqual(nil.get(q(NS_XSI, "nil")), "true")
        # a null array is left out entirely
        self.assertEqual(prop(host, "Roles"), [])
        self.assertEqual(text(host, "OperationalStatus"), "2")
        # datetime rendering
        dt = prop(host, "TimeOfLastStateChange")[0]
        self.assertRegex(dt[0].text, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_wql_select_limits_properties_and_where(self):
        guids = self.vm_guids()
        self.assertEqual(len(guids), 7)
        target = guids[3]
        items, _ = self.c.enumerate_all(
            ALL, "SELECT SystemName, GuestExchangeItems FROM "
            "Msvm_KvpExchangeComponent WHERE SystemName = '%s'"
            % target.lower())
        self.assertEqual(len(items), 1)
        names = {hc.local_name(c.tag) for c in items[0]}
        self.assertEqual(names, {"SystemName", "GuestExchangeItems"})
        items, _ = self.c.enumerate_all(
            ALL, "select Name from Msvm_ComputerSystem where "
            "Name = '%s' or (Name = '%s' and not EnabledState = 3)"
            % (guids[0], guids[1]))
        self.assertEqual(sorted(text(i, "Name") for i in items),
                         sorted(guids[:2]))

    def test_wql_errors_are_cannot_process_filter(self):
        for query in ("SELEC * FROM Msvm_ComputerSystem",
                      "SELECT * FROM Msvm_Nope",
                      "SELECT Bogus FROM Msvm_ComputerSystem",
                      "SELECT * FROM Msvm_ComputerSystem WHERE Name ="):
            r = self.c.post(hc.enumerate_req(ALL, query))
            self.assertEqual(r.status, 500, query)
            self.assertEqual(r.fault(), ("n:CannotProcessFilter",
                                         "2150858778"), query)
            f = r.body_el().find(q(NS_S, "Fault"))
            err = f.find("%s/{%s}MSFT_WmiError" % (q(NS_S, "Detail"),
                                                   MSFT_WMIERROR))
            self.assertIsNotNone(err, r.body[:600])
            self.assertEqual(err.get(q(NS_B, "IsCIM_Error")), "true")
            self.assertEqual(err.findtext("{%s}CIMStatusCode"
                                          % MSFT_WMIERROR), "15")
            self.assertEqual(err.findtext("{%s}error_Type" % MSFT_WMIERROR),
                             "HRESULT")
            action = r.root.find("%s/%s" % (q(NS_S, "Header"),
                                            q(NS_A, "Action"))).text
            self.assertEqual(action, "http://schemas.xmlsoap.org/ws/2004/09/"
                             "enumeration/fault")
        r = self.c.post(hc.enumerate_req(ALL, "x", dialect="urn:cql"))
        self.assertEqual(r.fault(), ("n:FilterDialectRequestedUnavailable",
                                     "2150858777"))

    def test_envelope_size_cuts_batches(self):
        full = self.c.post(hc.enumerate_req(KVP, max_elements=1))
        one = len(full.body)
        # room for about two instances: batches must be cut below MaxElements
        limit = int(one * 2.5)
        r = self.c.post(hc.enumerate_req(KVP, max_elements=100,
                                         max_envelope=limit))
        self.assertEqual(r.status, 200)
        self.assertLessEqual(len(r.body), limit)
        ctx = r.body_el().find(q(NS_N, "EnumerateResponse")).find(
            q(NS_N, "EnumerationContext")).text
        r = self.c.post(hc.pull_req(KVP, ctx, 100, max_envelope=limit))
        self.assertLessEqual(len(r.body), limit)
        got = len(r.body_el().find(q(NS_N, "PullResponse"))
                  .find(q(NS_N, "Items")))
        self.assertEqual(got, 2)
        # 7 instances: 1 in the EnumerateResponse, then Pulls of 2, 2, 2
        items, trips = self.c.enumerate_all(KVP, max_elements=100,
                                            max_envelope=limit)
        self.assertEqual(len(items), 7)
        self.assertEqual(trips, 4)
        # one instance does not fit at all: EncodingLimit
        r = self.c.post(hc.enumerate_req(KVP, max_elements=5,
                                         max_envelope=one // 2))
        self.assertEqual(r.status, 500)
        self.assertEqual(r.fault(), ("w:EncodingLimit", "2150858824"))
        fd = r.body_el().find(".//" + q(NS_W, "FaultDetail"))
        self.assertTrue(fd.text.endswith("/faultDetail/MaxEnvelopeSize"))

    def test_non_optimized_enumerate_and_release(self):
        r = self.c.post(hc.enumerate_req(CS, optimize=False))
        resp = r.body_el().find(q(NS_N, "EnumerateResponse"))
        self.assertIsNone(resp.find(q(NS_W, "Items")))
        ctx = resp.find(q(NS_N, "EnumerationContext")).text
        r = self.c.post(hc.release_req(CS, ctx))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.root.find("%s/%s" % (q(NS_S, "Header"),
                                                q(NS_A, "Action"))).text,
                         "http://schemas.xmlsoap.org/ws/2004/09/"
                         "enumeration/ReleaseResponse")
        r = self.c.post(hc.pull_req(CS, ctx))
        self.assertEqual(r.fault(), ("n:InvalidEnumerationContext",
                                     "2150858779"))
        r = self.c.post(hc.pull_req(CS, "uuid:NOT-A-CONTEXT"))
        self.assertEqual(r.status, 500)
        self.assertEqual(r.fault(), ("n:InvalidEnumerationContext",
                                     "2150858779"))

    def test_epr_enumeration(self):
        r = self.c.post(hc.enumerate_req(
            hc.class_uri("Msvm_VirtualSystemManagementService"),
            max_elements=10, mode="EnumerateEPR"))
        its = r.body_el().find(q(NS_N, "EnumerateResponse")).find(
            q(NS_W, "Items"))
        epr = its[0]
        self.assertEqual(epr.tag, q(NS_A, "EndpointReference"))
        sels = {s.get("Name"): s.text for s in epr.iter(q(NS_W, "Selector"))}
        self.assertEqual(sels["Name"], "vmms")
        self.assertEqual(sels["SystemName"], "HVSIM-HOST")

    def test_object_and_epr_enumeration_and_get_by_epr(self):
        r = self.c.post(hc.enumerate_req(KVP, max_elements=10,
                                         mode="EnumerateObjectAndEPR"))
        its = r.body_el().find(q(NS_N, "EnumerateResponse")).find(
            q(NS_W, "Items"))
        # (as many as fit in the default 512000-byte envelope)
        self.assertTrue(1 <= len(its) <= 7, len(its))
        item = its[0]
        self.assertEqual(item.tag, q(NS_W, "Item"))
        obj, epr = item[0], item[1]
        self.assertEqual(obj.tag, "{%s}Msvm_KvpExchangeComponent" % KVP)
        self.assertEqual(epr.tag, q(NS_A, "EndpointReference"))
        sels = [(s.get("Name"), s.text) for s in epr.iter(q(NS_W, "Selector"))]
        self.assertIn(("__cimnamespace", "root/virtualization/v2"), sels)
        # the EPR's selectors Get the same instance
        r = self.c.post(hc.get_req(KVP, sels))
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(text(r.body_el()[0], "SystemName"),
                         text(obj, "SystemName"))
        bad = [(n, "root/cimv2" if n == "__cimnamespace" else v)
               for n, v in sels]
        r = self.c.post(hc.get_req(KVP, bad))
        self.assertEqual(r.fault()[0], "w:InvalidSelectors")

    # ---- Get --------------------------------------------------------------
    def test_get_and_selector_faults(self):
        guid = self.vm_guids()[0]
        r = self.c.post(hc.get_req(CS, [("CreationClassName",
                                         "Msvm_ComputerSystem"),
                                        ("Name", guid)]))
        self.assertEqual(r.status, 200)
        inst = r.body_el()[0]
        self.assertEqual(text(inst, "ElementName"), "synth-0001")
        self.assertEqual(text(inst, "Description"),
                         "Microsoft Virtual Machine")
        self.assertEqual(text(inst, "EnabledState"), "2")
        r = self.c.post(hc.get_req(CS, [("Name", "00000000-0000-0000-0000-"
                                                 "000000000000")]))
        self.assertEqual(r.fault(), ("a:DestinationUnreachable",
                                     "2150858752"))
        r = self.c.post(hc.get_req(CS, [("Bogus", "1")]))
        self.assertEqual(r.fault(), ("w:InvalidSelectors", "2150858843"))
        r = self.c.post(hc.get_req(CS, [("CreationClassName",
                                         "Msvm_ComputerSystem")]))
        self.assertEqual(r.fault(), ("w:InvalidSelectors", "2150858846"))

    def test_unknown_class_and_action_and_bad_xml(self):
        r = self.c.post(hc.enumerate_req(hc.class_uri("Msvm_Nope")))
        self.assertEqual(r.status, 500)
        self.assertEqual(r.fault(), ("a:DestinationUnreachable",
                                     "2150858770"))
        svc = hc.class_uri("Msvm_VirtualSystemManagementService")
        r = self.c.post(hc.envelope(svc + "/DefineSystem", svc, "",
                                    hc.selector_set(hc.SERVICE_SELECTORS)))
        self.assertEqual(r.fault(), ("a:ActionNotSupported", "2150858771"))
        r = self.c.post(b"<s:Envelope xmlns:s='%s'><s:Body>" % NS_S.encode())
        self.assertEqual(r.status, 400)
        self.assertEqual(r.fault()[0], "w:SchemaValidationError")
        r = self.c.post(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
        self.assertEqual(r.fault()[0], "w:SchemaValidationError")
        r = self.c.post(hc.envelope(
            "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
            hc.class_uri("Msvm_ComputerSystem"), "").replace(
                b"<wsman:ResourceURI>", b"<wsman:ResourceURIx>").replace(
                b"</wsman:ResourceURI>", b"</wsman:ResourceURIx>"))
        self.assertEqual(r.fault()[0], "w:SchemaValidationError")

    # ---- Invoke + jobs ----------------------------------------------------
    def job_of(self, r):
        out = r.body_el()[0]
        rv = int(text(out, "ReturnValue"))
        job = prop(out, "Job")
        jid = None
        if job:
            jid = [s.text for s in job[0].iter(q(NS_W, "Selector"))
                   if s.get("Name") == "InstanceID"][0]
        return rv, jid

    def wait_job(self, jid):
        for _ in range(100):
            r = self.c.post(hc.get_req(JOB, [("InstanceID", jid)]))
            self.assertEqual(r.status, 200, r.body[:300])
            st = int(text(r.body_el()[0], "JobState"))
            if st != 4:
                return st, r.body_el()[0]
            time.sleep(0.05)
        self.fail("job %s never finished" % jid)

    def host_items(self, guid):
        items, _ = self.c.enumerate_all(
            ALL, "SELECT InstanceID, HostExchangeItems FROM "
            "Msvm_KvpExchangeComponentSettingData WHERE InstanceID = "
            "'Microsoft:%s\\A9A0F4E7-5A45-4D96-B827-8A841E8C03E6\\0'" % guid)
        self.assertEqual(len(items), 1)
        return items_of(items[0], "HostExchangeItems")

    def test_add_modify_remove_with_jobs(self):
        guid = self.vm_guids()[2]
        r = self.c.post(hc.kvp_invoke_req("AddKvpItems", guid, [
            ("hvkvp.cfg.interval", "30"), ("hvkvp.cfg.id", "a&b<1>")]))
        self.assertEqual(r.status, 200, r.body[:500])
        self.assertEqual(r.body_el()[0].tag, "{%s}AddKvpItems_OUTPUT"
                         % hc.class_uri("Msvm_VirtualSystemManagementService"))
        rv, jid = self.job_of(r)
        self.assertEqual(rv, 4096)
        self.assertEqual(self.host_items(guid), {})  # not before completion
        st, job = self.wait_job(jid)
        self.assertEqual(st, 7)
        self.assertEqual(text(job, "ErrorCode"), "0")
        self.assertEqual(self.host_items(guid), {
            "hvkvp.cfg.interval": ("30", "0"), "hvkvp.cfg.id": ("a&b<1>",
                                                                "0")})
        # Add of an existing key: the job fails with 32773
        r = self.c.post(hc.kvp_invoke_req("AddKvpItems", guid, [
            ("hvkvp.cfg.interval", "60")], cdata=True))
        rv, jid = self.job_of(r)
        st, job = self.wait_job(jid)
        self.assertEqual((st, text(job, "ErrorCode")), (10, "32773"))
        self.assertIn("already exists", text(job, "ErrorDescription"))
        # Modify works, Modify of a missing key fails with 32779
        rv, jid = self.job_of(self.c.post(hc.kvp_invoke_req(
            "ModifyKvpItems", guid, [("hvkvp.cfg.interval", "60")])))
        self.assertEqual(self.wait_job(jid)[0], 7)
        rv, jid = self.job_of(self.c.post(hc.kvp_invoke_req(
            "ModifyKvpItems", guid, [("missing", "1")])))
        st, job = self.wait_job(jid)
        self.assertEqual((st, text(job, "ErrorCode")), (10, "32779"))
        self.assertEqual(self.host_items(guid)["hvkvp.cfg.interval"][0], "60")
        rv, jid = self.job_of(self.c.post(hc.kvp_invoke_req(
            "RemoveKvpItems", guid, [("hvkvp.cfg.interval", "")])))
        self.assertEqual(self.wait_job(jid)[0], 7)
        self.assertEqual(list(self.host_items(guid)), ["hvkvp.cfg.id"])

    def test_invalid_parameters_return_32773(self):
        guid = self.vm_guids()[1]
        cases = [
            [("k" * 1025, "v")],
            [("k", "v" * 1025)],
            [("k%d" % i, "v") for i in range(129)],
            [("dup", "1"), ("dup", "2")],
        ]
        for items in cases:
            rv, jid = self.job_of(self.c.post(hc.kvp_invoke_req(
                "AddKvpItems", guid, items)))
            self.assertEqual((rv, jid), (32773, None))
        rv, jid = self.job_of(self.c.post(hc.kvp_invoke_req(
            "AddKvpItems", "11111111-2222-3333-4444-555555555555",
            [("k", "v")])))
        self.assertEqual((rv, jid), (32773, None))
        # exactly 128 items and 1024 characters are accepted
        rv, jid = self.job_of(self.c.post(hc.kvp_invoke_req(
            "AddKvpItems", guid, [("x%03d" % i, "v" * 1024)
                                  for i in range(128)])))
        self.assertEqual(rv, 4096)
        self.assertEqual(self.wait_job(jid)[0], 7)

    # ---- auth and stats -----------------------------------------------------
    def test_auth(self):
        body = hc.enumerate_req(CS)
        for auth in (False, "Basic " + "aHZ1c2VyOndyb25n",
                     "Negotiate TlRMTVNTUAAB"):
            r = self.c.post(body, auth=auth)
            self.assertEqual(r.status, 401)
            self.assertEqual(r.body, b"")
            www = [v for k, v in r.headers if k == "WWW-Authenticate"]
            self.assertIn('Basic realm="WSMAN"', www)
            self.assertIn("Negotiate", www)

    def test_stats(self):
        st, _ = self.c.admin("POST", "/hvsim/stats/reset")
        self.assertEqual(st, 200)
        self.c.enumerate_all(KVP, max_elements=3)
        self.c.enumerate_all(ALL, "SELECT Name FROM Msvm_ComputerSystem")
        guid = self.vm_guids()[0]
        self.c.post(hc.get_req(CS, [("Name", guid)]))
        self.c.post(hc.kvp_invoke_req("RemoveKvpItems", guid, [("n", "")]))
        st, s = self.c.admin("GET", "/hvsim/stats")
        # 7 KVP components by 3: Enumerate (1) + Pulls of 3, 3; the host
        # and 7 VMs twice: Enumerate (1) + one Pull of 7.
        self.assertEqual(s["by_action"], {"Enumerate": 3, "Pull": 4,
                                          "Get": 1,
                                          "Invoke:RemoveKvpItems": 1})
        self.assertEqual(s["by_class"], {
            "Msvm_KvpExchangeComponent": 3, "Msvm_ComputerSystem": 5,
            "Msvm_VirtualSystemManagementService": 1})
        self.assertEqual(s["requests"], 9)
        self.c.admin("POST", "/hvsim/stats/reset")
        st, s = self.c.admin("GET", "/hvsim/stats")
        self.assertEqual((s["requests"], s["by_action"]), (0, {}))

    def test_synthetic_gen_advances(self):
        def head():
            items, _ = self.c.enumerate_all(
                ALL, "SELECT GuestExchangeItems FROM "
                "Msvm_KvpExchangeComponent")
            return items_of(items[0], "GuestExchangeItems")["hvkvp.head"][0]
        first = head()
        self.assertRegex(first, r"^v=1;epoch=\d+;slot=[AB];gen=\d+;n=\d+;"
                                r"len=\d+;crc=[0-9a-f]+;enc=(zd1|z64|json)$")
        deadline = time.monotonic() + 10
        while head() == first:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)


class WqlTest(unittest.TestCase):
    """The WQL conditions the plugin sends (Name='a' OR Name='b' groups):
    AND binds tighter than OR, both left to right, case-insensitive."""

    def match(self, where, **props):
        qry = wql.parse("SELECT * FROM Msvm_ComputerSystem WHERE " + where)
        low = {k.lower(): v for k, v in props.items()}
        return qry.matches(lambda n: low.get(n.lower()))

    def test_and_or(self):
        w = "Name='a' OR Name='b' AND Caption='c'"
        self.assertTrue(self.match(w, Name="A", Caption="x"))
        self.assertTrue(self.match(w, Name="b", Caption="C"))
        self.assertFalse(self.match(w, Name="b", Caption="x"))
        w = "(Name='a' OR Name='b') AND Caption='c'"
        self.assertFalse(self.match(w, Name="a", Caption="x"))
        w = "Name='a' OR Name='b' OR Name='c'"
        self.assertTrue(self.match(w, Name="c"))
        self.assertFalse(self.match(w, Name="d"))
        with self.assertRaises(wql.WqlError):
            self.match("Name='a' OR")


class QuotaTest(unittest.TestCase):
    """Open enumeration contexts are bounded (hostile clients)."""

    def test_context_quota(self):
        with simproc.running("--synthetic", "1", "--enum-timeout",
                             "3600") as sim:
            c = sim.client()
            ctxs = []
            while True:
                r = c.post(hc.enumerate_req(CS, optimize=False))
                if r.status != 200:
                    break
                ctxs.append(r.body_el()[0][0].text)
                self.assertLessEqual(len(ctxs), 1500)
            self.assertEqual(len(ctxs), 1500)
            self.assertEqual(r.fault(), ("w:QuotaLimit", "2150858815"))
            self.assertEqual(c.post(hc.release_req(CS, ctxs[0])).status, 200)
            self.assertEqual(c.post(hc.enumerate_req(CS, optimize=False))
                             .status, 200)
            c.close()


class AltPrefixTest(unittest.TestCase):
    """The other prefix style: same namespaces, other prefixes."""

    def test_provider_style_wmi_faults(self):
        with simproc.running("--synthetic", "1", "--wmi-faults",
                             "provider") as sim:
            c = sim.client()
            r = c.post(hc.enumerate_req(ALL, "SELECT * FROM Msvm_Nope"))
            self.assertEqual(r.fault(), ("n:CannotProcessFilter",
                                         "2150858778"))
            outer = r.body_el().find(".//{%s}WSManFault" % NS_FAULT)
            self.assertEqual(outer.get("Machine"), "HVSIM-HOST")
            inner = outer.find("{%s}Message/{%s}ProviderFault/{%s}WSManFault"
                               % (NS_FAULT, NS_FAULT, NS_FAULT))
            self.assertIn("class does not exist",
                          inner.findtext("{%s}Message" % NS_FAULT))
            c.close()

    def test_alt_prefixes(self):
        with simproc.running("--synthetic", "2", "--prefix-style",
                             "alt") as sim:
            c = sim.client()
            r = c.post(hc.enumerate_req(KVP, max_elements=5))
            self.assertIn(b"<wsen:EnumerateResponse>", r.body)
            self.assertIn(b"<n1:Msvm_KvpExchangeComponent", r.body)
            items, _ = c.enumerate_all(KVP)
            self.assertEqual(len(items), 2)
            r = c.post(hc.pull_req(KVP, "uuid:X"))
            self.assertEqual(r.fault()[0], "wsen:InvalidEnumerationContext")
            c.close()


if __name__ == "__main__":
    unittest.main()
