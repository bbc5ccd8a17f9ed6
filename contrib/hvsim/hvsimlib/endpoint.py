"""endpoint: the WS-Management operations of the simulator.
Endpoint.handle() answers a parsed Request (request.py): Enumerate / Pull /
Release (enumeration.py), Get (WS-Transfer), Invoke of AddKvpItems /
ModifyKvpItems / RemoveKvpItems on Msvm_VirtualSystemManagementService, and
WS-Management Identify, with the faults WinRM answers (wsman_faults.py).
Every response is cut to the request's wsman:MaxEnvelopeSize.
"""

from .classes import KVP_MAX_ITEMS_PER_CALL, RV_INVALID_PARAM, class_uri
from .enumeration import Enumerations, class_check
from .kvp_items import DataItemError, parse_data_item
from .render import render_any, render_epr
from .request import text_of
from .soap import (ACT_GET, CIM_NAMESPACE, NS_A, NS_CIM, NS_S, NS_W,
                   NS_WSMID, NS_X, NS_XSI, PREFIX_STYLES, WMI_V2, q, reply)
from .wsman_faults import (RequestError, fault_action_not_supported,
                           fault_destination_unreachable, fault_encoding_limit,
                           fault_invalid_selectors, fault_not_found,
                           fault_schema)

DEFAULT_MAX_ENVELOPE = 512000   # Windows MaxEnvelopeSizekb default 500
MIN_MAX_ENVELOPE = 8192
METHODS = ("AddKvpItems", "ModifyKvpItems", "RemoveKvpItems")
SERVICE = "Msvm_VirtualSystemManagementService"


class Endpoint:
    """Answers WS-Man requests against a Model."""

    def __init__(self, model, style="windows", enum_timeout=60.0,
                 max_batch_items=32000, max_envelope=DEFAULT_MAX_ENVELOPE,
                 wmi_fault_style="cim"):
        self.model = model
        self.wmi_fault_style = wmi_fault_style
        self.style = style
        self.server_max_envelope = max_envelope
        self.enumerations = Enumerations(model, style, enum_timeout,
                                         max_batch_items, self.limit)

    def context_class(self, ctx_id):
        return self.enumerations.context_class(ctx_id)

    def limit(self, r):
        """The envelope size a response to r must fit."""
        lim = r.max_envelope or DEFAULT_MAX_ENVELOPE
        lim = min(lim, self.server_max_envelope)
        return max(lim, MIN_MAX_ENVELOPE)

    def handle(self, r, injection=None):
        """Returns (http_status, body bytes). Raises RequestError.
        injection (fault_injection.Injection): endless enumerations and
        job overrides for this request."""
        if r.label == "Identify":
            return 200, self._identify()
        if not r.resource_uri.startswith(WMI_V2 + "/"):
            raise RequestError(fault_destination_unreachable(
                r.resource_uri, "The WS-Management service cannot process "
                "the request. The resource URI is not in the "
                "root/virtualization/v2 namespace. "))
        endless = injection.endless if injection else None
        if r.label == "Enumerate":
            return 200, self.enumerations.enumerate(r, endless)
        if r.label == "Pull":
            return 200, self.enumerations.pull(r, endless)
        if r.label == "Release":
            return 200, self.enumerations.release(r)
        if r.label == "Get":
            return 200, self._get(r)
        if r.label.startswith("Invoke:"):
            jobs = injection.job_override if injection else None
            return 200, self._invoke(r, jobs or None)
        raise RequestError(fault_action_not_supported(r.action))

    def _identify(self):
        body = ('<wsmid:IdentifyResponse xmlns:wsmid="%s"><wsmid:'
                "ProtocolVersion>%s</wsmid:ProtocolVersion>"
                "<wsmid:ProductVendor>"
                "Microsoft Corporation</wsmid:ProductVendor><wsmid:"
                "ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:"
                "ProductVersion></wsmid:IdentifyResponse>" % (NS_WSMID, NS_W))
        s = PREFIX_STYLES[self.style]["s"]
        return ('<%s:Envelope xml:lang="en-US" xmlns:%s="%s"><%s:Header/>'
                "<%s:Body>%s</%s:Body></%s:Envelope>" % (
                    s, s, NS_S, s, s, body, s, s)).encode("utf-8")

    # ---- Get ----------------------------------------------------------------
    def _select_instance(self, r, cls):
        """The one instance of cls the request's selectors name."""
        given = _given_selectors(r, cls, self.model.KEYS[cls])
        found = []
        for inst in self.model.instances(cls):
            sel = {k.lower(): v.lower() for k, v in inst.selectors()}
            if all(sel.get(k) == v for k, v in given):
                found.append(inst)
        if not found:
            raise RequestError(fault_not_found())
        if len(found) > 1:
            raise RequestError(fault_invalid_selectors(
                "AmbiguousSelectors",
                "The selectors match %d instances of %s." % (len(found),
                                                            cls)))
        return found[0]

    def _get(self, r):
        cls = r.cls
        if cls is None:
            raise RequestError(fault_action_not_supported(r.action))
        class_check(self.model, r, cls)
        inst = self._select_instance(r, cls)
        body = reply(self.style, r, ACT_GET + "Response",
                     render_any(self.style, inst), [("x", NS_X)])
        if len(body) > self.limit(r):
            raise RequestError(fault_encoding_limit(self.limit(r)))
        return body

    # ---- Invoke -------------------------------------------------------------
    def _invoke(self, r, job_override):
        cls = r.cls
        if cls is None:
            raise RequestError(fault_action_not_supported(r.action))
        class_check(self.model, r, cls)
        if cls != SERVICE or r.method not in METHODS:
            raise RequestError(fault_action_not_supported(r.action))
        self._select_instance(r, cls)
        uri = class_uri(cls)
        inp = r.body.find(q(uri, r.method + "_INPUT"))
        if inp is None:
            raise RequestError(fault_schema(
                "The body of %s must be %s_INPUT in namespace %s."
                % (r.method, r.method, uri)))
        rv, job = self._kvp_method(r.method, uri, inp, job_override)
        pf = PREFIX_STYLES[self.style]
        p, xsi, cim = pf["inst"], pf["xsi"], pf["cim"]
        out = ['<%s:%s_OUTPUT xmlns:%s="%s" xmlns:%s="%s" xmlns:%s="%s">' % (
            p, r.method, p, uri, xsi, NS_XSI, cim, NS_CIM)]
        if job is not None:
            out.append(render_epr(self.style, "Msvm_ConcreteJob",
                                  [("InstanceID", job.id)],
                                  element="%s:Job" % p))
        out.append("<%s:ReturnValue>%d</%s:ReturnValue>" % (p, rv, p))
        out.append("</%s:%s_OUTPUT>" % (p, r.method))
        return reply(self.style, r, r.action + "Response", "".join(out))

    def _kvp_method(self, method, uri, inp, job_override):
        target = inp.find(q(uri, "TargetSystem"))
        if target is None:
            return RV_INVALID_PARAM, None
        vm = self._target_vm(target)
        if vm is None:
            return RV_INVALID_PARAM, None
        items = _data_items(inp.findall(q(uri, "DataItems")))
        if items is None:
            return RV_INVALID_PARAM, None
        names = [n for n, _ in items]
        if len(set(names)) != len(names):
            return RV_INVALID_PARAM, None
        delay, fail = None, None
        if job_override:
            delay = job_override.get("delay")
            fail = job_override.get("fail")
        return self.model.start_job(method, vm, items, delay, fail)

    def _target_vm(self, target):
        refp = target.find(q(NS_A, "ReferenceParameters"))
        if refp is None:
            return None
        ruri = text_of(refp.find(q(NS_W, "ResourceURI")))
        if ruri != class_uri("Msvm_ComputerSystem"):
            return None
        ss = refp.find(q(NS_W, "SelectorSet"))
        if ss is None:
            return None
        sel = {}
        for s in ss.findall(q(NS_W, "Selector")):
            sel[(s.get("Name") or "").lower()] = text_of(s)
        ccn = sel.get("creationclassname")
        if ccn is not None and ccn != "Msvm_ComputerSystem":
            return None
        name = (sel.get("name") or "").upper()
        with self.model.lock:
            return self.model.by_guid.get(name)



def _given_selectors(r, cls, keys):
    """[(key, value)] (lower case) of the request's selectors of cls;
    __cimnamespace must be root/virtualization/v2."""
    keys = [k.lower() for k in keys]
    given = []
    for name, value in r.selectors:
        if name == "__cimnamespace":
            if (value or "").lower() != CIM_NAMESPACE:
                raise RequestError(fault_invalid_selectors(
                    "UnexpectedSelectors",
                    "__cimnamespace %s is not %s." % (value, CIM_NAMESPACE)))
            continue
        if name.lower() not in keys:
            raise RequestError(fault_invalid_selectors(
                "UnexpectedSelectors", "%s is not a key of %s." % (name, cls)))
        if not isinstance(value, str):
            raise RequestError(fault_invalid_selectors(
                "UnexpectedSelectors", "Selector %s must be text." % name))
        given.append((name.lower(), value.lower()))
    if not given:
        raise RequestError(fault_invalid_selectors(
            "InsufficientSelectors",
            "The request names no selectors of %s." % cls))
    return given


def _data_items(elements):
    """[(name, data)] of the DataItems elements of a KVP method, None if
    any is invalid (ReturnValue 32773)."""
    if not elements or len(elements) > KVP_MAX_ITEMS_PER_CALL:
        return None
    items = []
    for el in elements:
        if el.get(q(NS_XSI, "nil")) == "true":
            return None
        try:
            items.append(parse_data_item(el.text))
        except DataItemError:
            return None
    return items
