"""soap: namespaces, prefix styles, escaping, safe request parsing and SOAP
envelope rendering for the Hyper-V WS-Management simulator.

Wire shapes follow captures of real WinRM responses (envelope declares s, a,
n, w, p; instances re-bind p to the class URI) and MS-WSMV / DSP0226 for
element names. Faults: wsman_faults.
"""

import uuid
import xml.etree.ElementTree as ET

NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
NS_X = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_E = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
NS_P = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_B = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
NS_F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
NS_WSMID = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
WMI_V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
CIM_NAMESPACE = "root/virtualization/v2"
DIALECT_WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"

ACT_ENUMERATE = NS_N + "/Enumerate"
ACT_PULL = NS_N + "/Pull"
ACT_RELEASE = NS_N + "/Release"
ACT_GET = NS_X + "/Get"
ACT_WSMAN_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ACT_ENUM_FAULT = NS_N + "/fault"
ACT_ADDR_FAULT = NS_A + "/fault"
FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

# Prefix styles. "windows" is what WinRM emits; "alt" uses the DMTF/openwsman
# prefixes and another instance prefix so clients that depend on prefixes break.
PREFIX_STYLES = {
    "windows": {"s": "s", "a": "a", "n": "n", "w": "w", "x": "x", "e": "e",
                "p": "p", "inst": "p", "xsi": "xsi", "cim": "cim", "b": "b"},
    "alt": {"s": "env", "a": "wsa", "n": "wsen", "w": "wsman", "x": "wxf",
            "e": "wse", "p": "msw", "inst": "n1", "xsi": "xs", "cim": "cc",
            "b": "wsmb"},
}

MAX_REQUEST_DEPTH = 64


def esc(text):
    """Escapes text (element content or attribute value) as WinRM does:
    & < > " ' become entity references; everything else, non-ASCII and
    control characters included, is written as it is (UTF-8)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&apos;"))


def esc_cimxml(text):
    """Escapes the VALUE text of an embedded CIM-XML instance: & < > only
    (the escaping WMI applies inside is not in any capture we have)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def new_uuid():
    return "uuid:" + str(uuid.uuid4()).upper()


def parse_xml(data):
    """Parses untrusted XML: no DTDs (hence no entities), bounded depth."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError("DTDs and entity declarations are not accepted")
    root = ET.fromstring(data)
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > MAX_REQUEST_DEPTH:
            raise ValueError("XML nested deeper than %d" % MAX_REQUEST_DEPTH)
        stack.extend((c, depth + 1) for c in el)
    return root


def q(ns, local):
    return "{%s}%s" % (ns, local)


def envelope_open(style, extra_ns=(), with_p=False):
    """Envelope start tag as WinRM writes it: xml:lang, then s, a, the
    operation's namespaces (n for enumerations, x for transfer), w, and p
    only where it is used (OperationID, faults)."""
    pf = PREFIX_STYLES[style]
    decl = [("s", NS_S), ("a", NS_A)]
    decl += list(extra_ns)
    decl += [("w", NS_W)]
    if with_p:
        decl.append(("p", NS_P))
    attrs = "".join(' xmlns:%s="%s"' % (pf[k], ns) for k, ns in decl)
    return '<%s:Envelope xml:lang="en-US"%s>' % (pf["s"], attrs)


def header(style, action, relates_to, operation_id=None):
    pf = PREFIX_STYLES[style]
    s, a, p = pf["s"], pf["a"], pf["p"]
    parts = ["<%s:Header>" % s,
             "<%s:Action>%s</%s:Action>" % (a, esc(action), a),
             "<%s:MessageID>%s</%s:MessageID>" % (a, new_uuid(), a)]
    if operation_id:
        parts.append('<%s:OperationID %s:mustUnderstand="false">%s'
                     "</%s:OperationID>" % (p, s, esc(operation_id), p))
        parts.append("<%s:SequenceId>1</%s:SequenceId>" % (p, p))
    parts.append("<%s:To>%s</%s:To>" % (a, ANONYMOUS, a))
    if relates_to:
        parts.append("<%s:RelatesTo>%s</%s:RelatesTo>" % (a, esc(relates_to),
                                                          a))
    parts.append("</%s:Header>" % s)
    return "".join(parts)


def envelope(style, action, body, relates_to=None, operation_id=None,
             extra_ns=(), with_p=False):
    """A complete response envelope (str)."""
    s = PREFIX_STYLES[style]["s"]
    return "%s%s<%s:Body>%s</%s:Body></%s:Envelope>" % (
        envelope_open(style, extra_ns, with_p or bool(operation_id)),
        header(style, action, relates_to, operation_id), s, body, s, s)


def reply(style, request, action, body, extra_ns=()):
    """The response envelope (bytes) to a parsed request: RelatesTo its
    MessageID, echoing its OperationID."""
    return envelope(style, action, body, request.message_id,
                    request.operation_id, extra_ns).encode("utf-8")
