"""client: a small raw WS-Management client for the simulator's tests and
benchmark (tests/hvsim/test_sim_*.py, bench/bench_hvsim.py): builds request
envelopes by hand, sends them over one keep-alive HTTP(S) connection and
parses answers by namespace URI. simproc.py runs the simulator itself.
"""

import base64
import http.client
import json
import re
import ssl
import uuid
import xml.etree.ElementTree as ET

from .soap import DIALECT_WQL, NS_A, NS_F, NS_N, NS_S, NS_W, WMI_V2, q

ENV_NS = ('xmlns:s="%s" xmlns:wsa="%s" xmlns:wsman="%s" xmlns:wsen="%s"'
          % (NS_S, NS_A, NS_W, NS_N))


def class_uri(cls):
    return WMI_V2 + "/" + cls


def _hdr(action, uri, extra=""):
    return ("<s:Header><wsa:Action>%s</wsa:Action><wsa:MessageID>uuid:%s"
            "</wsa:MessageID><wsa:To>http://localhost/wsman</wsa:To>"
            "<wsman:ResourceURI>%s</wsman:ResourceURI>%s</s:Header>" % (
                action, str(uuid.uuid4()).upper(), uri, extra))


def envelope(action, uri, body, extra=""):
    return ("<s:Envelope %s>%s<s:Body>%s</s:Body></s:Envelope>" % (
        ENV_NS, _hdr(action, uri, extra), body)).encode()


def op_timeout(seconds):
    return "<wsman:OperationTimeout>PT%.3fS</wsman:OperationTimeout>" % \
        seconds


def max_env(n):
    return "<wsman:MaxEnvelopeSize>%d</wsman:MaxEnvelopeSize>" % n if n \
        else ""


def enumerate_req(uri, wql=None, optimize=True, max_elements=None,
                  max_envelope=None, mode=None, dialect=DIALECT_WQL):
    body = "<wsen:Enumerate>"
    if optimize:
        body += "<wsman:OptimizeEnumeration/>"
        if max_elements:
            body += "<wsman:MaxElements>%d</wsman:MaxElements>" % max_elements
    if mode:
        body += "<wsman:EnumerationMode>%s</wsman:EnumerationMode>" % mode
    if wql is not None:
        body += '<wsman:Filter Dialect="%s">%s</wsman:Filter>' % (
            dialect, wql.replace("&", "&amp;").replace("<", "&lt;"))
    body += "</wsen:Enumerate>"
    return envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
                    "Enumerate", uri, body, max_env(max_envelope))


def pull_req(uri, context, max_elements=None, max_envelope=None):
    body = "<wsen:Pull><wsen:EnumerationContext>%s</wsen:EnumerationContext>"\
        % context
    if max_elements:
        body += "<wsen:MaxElements>%d</wsen:MaxElements>" % max_elements
    body += "</wsen:Pull>"
    return envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull",
                    uri, body, max_env(max_envelope))


def release_req(uri, context):
    return envelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/"
                    "Release", uri, "<wsen:Release><wsen:EnumerationContext>"
                    "%s</wsen:EnumerationContext></wsen:Release>" % context)


def selector_set(selectors):
    return "<wsman:SelectorSet>%s</wsman:SelectorSet>" % "".join(
        '<wsman:Selector Name="%s">%s</wsman:Selector>' % kv
        for kv in selectors)


def get_req(uri, selectors):
    return envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                    uri, "", selector_set(selectors))


def data_item(name, data, source=0, cdata=False):
    inst = ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
            '<PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>%d</VALUE>'
            "</PROPERTY></INSTANCE>" % (_e(data), _e(name), source))
    return "<![CDATA[%s]]>" % inst if cdata else _e(inst)


def _e(t):
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SERVICE_SELECTORS = [("CreationClassName",
                      "Msvm_VirtualSystemManagementService"),
                     ("Name", "vmms")]


def kvp_invoke_req(method, vm_guid, items, selectors=None, cdata=False,
                   target_class="Msvm_ComputerSystem"):
    uri = class_uri("Msvm_VirtualSystemManagementService")
    target = ("<p:TargetSystem><wsa:Address>http://schemas.xmlsoap.org/ws/"
              "2004/08/addressing/role/anonymous</wsa:Address>"
              "<wsa:ReferenceParameters><wsman:ResourceURI>%s"
              "</wsman:ResourceURI>%s</wsa:ReferenceParameters>"
              "</p:TargetSystem>" % (
                  class_uri(target_class),
                  selector_set([("CreationClassName", "Msvm_ComputerSystem"),
                                ("Name", vm_guid)])))
    dis = "".join("<p:DataItems>%s</p:DataItems>" % data_item(
        k, v, cdata=cdata) for k, v in items)
    body = '<p:%s_INPUT xmlns:p="%s">%s%s</p:%s_INPUT>' % (
        method, uri, target, dis, method)
    return envelope(uri + "/" + method, uri, body,
                    selector_set(selectors or SERVICE_SELECTORS))


def local_name(tag):
    """The local name of an ElementTree tag ({ns}name or name)."""
    return tag.rsplit("}", 1)[-1]


def props(inst, name):
    """The elements of property `name` of an instance, whether it is a
    <p:Class> (properties in the class namespace) or a <w:XmlFragment>
    (properties in no namespace)."""
    return [c for c in inst if local_name(c.tag) == name]


def prop_text(inst, name):
    """The text of a scalar property; None if it is missing or nil."""
    found = props(inst, name)
    return found[0].text if found else None


def kvp_items(inst, name):
    """{Name: (Data, Source)} of a KVP array property (GuestExchangeItems,
    GuestIntrinsicExchangeItems, HostExchangeItems): each element's text
    is one embedded CIM-XML Msvm_KvpExchangeDataItem."""
    out = {}
    for e in props(inst, name):
        if not e.text:
            continue
        ci = ET.fromstring(e.text)
        p = {x.get("NAME"): x.findtext("VALUE") for x in ci}
        out[p["Name"]] = (p["Data"] or "", p["Source"])
    return out


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self._root = None

    @property
    def root(self):
        if self._root is None:
            self._root = ET.fromstring(self.body)
        return self._root

    def body_el(self):
        return self.root.find(q(NS_S, "Body"))

    def fault(self):
        """(subcode QName text resolved to (ns, local), WSManFault Code)."""
        f = self.body_el().find(q(NS_S, "Fault"))
        if f is None:
            return None
        sub = f.find("%s/%s/%s" % (q(NS_S, "Code"), q(NS_S, "Subcode"),
                                   q(NS_S, "Value"))).text
        wf = f.find("%s/%s" % (q(NS_S, "Detail"), q(NS_F, "WSManFault")))
        if wf is not None:
            return sub, wf.get("Code")
        # WMI as the source (Server 2012+): p:MSFT_WmiError/p:error_Code
        for el in f.iter():
            if el.tag.endswith("/MSFT_WmiError}error_Code"):
                return sub, el.text
        return sub, None


class Client:
    def __init__(self, url, user, password, cafile=None, timeout=60):
        m = re.match(r"(https?)://([^/:]+):(\d+)(/.*)", url)
        self.scheme, self.host, self.port, self.path = (
            m.group(1), m.group(2), int(m.group(3)), m.group(4))
        self.auth = "Basic " + base64.b64encode(
            ("%s:%s" % (user, password)).encode()).decode()
        self.cafile = cafile
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port,
                                               timeout=self.timeout,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)

    def post(self, body, auth=True, path=None,
             content_type="application/soap+xml;charset=UTF-8"):
        if self.conn is None:
            self.conn = self._connect()
        headers = {"Content-Type": content_type}
        if auth:
            headers["Authorization"] = self.auth if auth is True else auth
        try:
            self.conn.request("POST", path or self.path, body, headers)
            r = self.conn.getresponse()
            data = r.read()
        except Exception:
            self.close()
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        return Response(r.status, r.getheaders(), data)

    def admin(self, method, path, obj=None):
        c = self._connect()
        try:
            c.request(method, path, None if obj is None else json.dumps(obj),
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            c.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def enumerate_all(self, uri, wql=None, max_elements=50,
                      max_envelope=None):
        """Enumerate + Pull loop; returns (items, round_trips)."""
        r = self.post(enumerate_req(uri, wql, True, max_elements,
                                    max_envelope))
        if r.status != 200:
            raise RuntimeError("Enumerate: HTTP %d %r" % (r.status,
                                                          r.body[:500]))
        resp = r.body_el().find(q(NS_N, "EnumerateResponse"))
        items = list(resp.find(q(NS_W, "Items")))
        done = resp.find(q(NS_W, "EndOfSequence")) is not None
        ctx = resp.find(q(NS_N, "EnumerationContext")).text
        trips = 1
        while not done:
            r = self.post(pull_req(uri, ctx, max_elements, max_envelope))
            trips += 1
            if r.status != 200:
                raise RuntimeError("Pull: HTTP %d %r" % (r.status,
                                                         r.body[:500]))
            resp = r.body_el().find(q(NS_N, "PullResponse"))
            items.extend(resp.find(q(NS_N, "Items")))
            done = resp.find(q(NS_N, "EndOfSequence")) is not None
            c = resp.find(q(NS_N, "EnumerationContext"))
            ctx = c.text if c is not None else None
        return items, trips
