"""wsman_faults: SOAP faults as WinRM renders them, and the catalogue of
the faults the simulator answers with (codes from the Windows SDK's
ERROR_WSMAN_* list; shapes from captured WinRM faults: f:WSManFault with
Code and Machine, WMI as the source as p:MSFT_WmiError (Server 2012+) or
f:ProviderFault (2008 R2))."""

from .soap import (ACT_ADDR_FAULT, ACT_ENUM_FAULT, ACT_WSMAN_FAULT,
                   FAULT_DETAIL, NS_B, NS_CIM, NS_E, NS_F, NS_N, NS_X, NS_XSI,
                   PREFIX_STYLES, envelope, esc)

FAULT_NS = [("x", NS_X), ("e", NS_E), ("n", NS_N)]

class RequestError(Exception):
    """A request that cannot be parsed; carries the fault to answer with."""

    def __init__(self, fault):
        super().__init__(fault.reason)
        self.fault = fault


class Fault:
    """A SOAP fault as WinRM renders it.

    code: "Sender" or "Receiver"; subcode: (ns-key, local) with ns-key one of
    the envelope prefixes ("w", "n", "a"); wsman_code: the numeric
    f:WSManFault Code; provider: optional (wsman_code, message, extended_xml)
    rendered as f:ProviderFault inside f:Message (WMI as the source);
    detail: optional w:FaultDetail URI suffix.
    """

    def __init__(self, http_status, code, subcode, reason, wsman_code,
                 message=None, action=ACT_WSMAN_FAULT, provider=None,
                 detail=None, wmi=None):
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.wsman_code = wsman_code
        self.message = message if message is not None else reason
        self.action = action
        self.provider = provider
        # WMI as the source: (CIMStatusCode, error_Category). Rendered as
        # p:MSFT_WmiError in s:Detail (Windows Server 2012 and later), or
        # with wmi_style "provider" as f:WSManFault/f:ProviderFault (2008 R2).
        self.wmi = wmi
        self.detail = detail

    def _wmi_error(self, style):
        pf = PREFIX_STYLES[style]
        xsi = pf["xsi"]
        status, category = self.wmi
        message = self.provider[1] if self.provider else self.message
        props = [("CIMStatusCode", "cimUnsignedInt", str(status)),
                 ("CIMStatusCodeDescription", "cimString", None),
                 ("ErrorSource", "cimString", None),
                 ("ErrorSourceFormat", "cimUnsignedShort", "0"),
                 ("ErrorType", "cimUnsignedShort", "0"),
                 ("Message", "cimString", message),
                 ("MessageID", "cimString", "HRESULT 0x%08x"
                  % self.wsman_code),
                 ("OtherErrorSourceFormat", "cimString", None),
                 ("OtherErrorType", "cimString", None),
                 ("OwningEntity", "cimString", None),
                 ("PerceivedSeverity", "cimUnsignedShort", "0"),
                 ("ProbableCause", "cimUnsignedShort", "0"),
                 ("ProbableCauseDescription", "cimString", None),
                 ("error_Category", "cimUnsignedInt", str(category)),
                 ("error_Code", "cimUnsignedInt", str(self.wsman_code)),
                 ("error_Type", "cimString", "HRESULT"),
                 ("error_WindowsErrorMessage", "cimString", message)]
        out = ['<p:MSFT_WmiError b:IsCIM_Error="true" xmlns:b="%s" '
               'xmlns:cim="%s" xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/'
               'cim-schema/2/MSFT_WmiError" %s:type="p:MSFT_WmiError_Type" '
               'xmlns:%s="%s">' % (NS_B, NS_CIM, xsi, xsi, NS_XSI)]
        for name, typ, val in props:
            if val is None:
                out.append('<p:%s %s:nil="true" %s:type="cim:%s"/>'
                           % (name, xsi, xsi, typ))
            else:
                out.append('<p:%s %s:type="cim:%s">%s</p:%s>'
                           % (name, xsi, typ, esc(val), name))
        out.append("</p:MSFT_WmiError>")
        return "".join(out)

    def render(self, style, machine, relates_to=None, operation_id=None,
               wmi_style="cim"):
        pf = PREFIX_STYLES[style]
        s, w = pf["s"], pf["w"]
        sub_prefix = pf[self.subcode[0]]
        if self.wmi and wmi_style == "cim":
            body = ("<{s}:Fault><{s}:Code><{s}:Value>{s}:{code}</{s}:Value>"
                    "<{s}:Subcode><{s}:Value>{sp}:{sub}</{s}:Value>"
                    "</{s}:Subcode></{s}:Code><{s}:Reason>"
                    "<{s}:Text xml:lang=\"en-US\">{reason}</{s}:Text>"
                    "</{s}:Reason><{s}:Detail>{err}</{s}:Detail></{s}:Fault>"
                    ).format(s=s, code=self.code, sp=sub_prefix,
                             sub=self.subcode[1], reason=esc(self.reason),
                             err=self._wmi_error(style))
            return envelope(style, self.action, body, relates_to,
                            operation_id, extra_ns=FAULT_NS, with_p=True)
        if self.provider:
            pcode, pmsg, pext = self.provider
            inner = ('<f:ProviderFault provider="WMI Provider" '
                     'path="%%systemroot%%\\system32\\WsmWmiPl.dll">'
                     '<f:WSManFault xmlns:f="%s" Code="%d" Machine="%s">'
                     "<f:Message>%s</f:Message></f:WSManFault>%s"
                     "</f:ProviderFault>" % (NS_F, pcode, esc(machine),
                                             esc(pmsg), pext or ""))
        else:
            inner = esc(self.message)
        detail = ""
        if self.detail:
            detail = "<%s:FaultDetail>%s%s</%s:FaultDetail>" % (
                w, FAULT_DETAIL, self.detail, w)
        body = ("<{s}:Fault><{s}:Code><{s}:Value>{s}:{code}</{s}:Value>"
                "<{s}:Subcode><{s}:Value>{sp}:{sub}</{s}:Value></{s}:Subcode>"
                "</{s}:Code><{s}:Reason><{s}:Text xml:lang=\"en-US\">{reason}"
                "</{s}:Text></{s}:Reason><{s}:Detail>{detail}"
                '<f:WSManFault xmlns:f="{nsf}" Code="{wc}" Machine="{m}">'
                "<f:Message>{inner}</f:Message></f:WSManFault></{s}:Detail>"
                "</{s}:Fault>").format(
                    s=s, code=self.code, sp=sub_prefix, sub=self.subcode[1],
                    reason=esc(self.reason), detail=detail, nsf=NS_F,
                    wc=self.wsman_code, m=esc(machine), inner=inner)
        return envelope(style, self.action, body, relates_to, operation_id,
                        extra_ns=FAULT_NS, with_p=True)


# ---- the fault catalogue (codes from the Windows SDK's ERROR_WSMAN_* list) --

def fault_schema(detail_text):
    return Fault(400, "Sender", ("w", "SchemaValidationError"),
                 "The SOAP XML in the message does not match the "
                 "corresponding XML schema definition. Change the XML and "
                 "retry. ", 2150858817, message=detail_text)


def fault_invalid_xml(detail_text):
    return Fault(400, "Sender", ("w", "SchemaValidationError"),
                 "The SOAP XML in the message does not match the "
                 "corresponding XML schema definition. Change the XML and "
                 "retry. ", 2150858819,
                 message="The WS-Management service cannot process the "
                 "request because the XML is invalid: " + detail_text)


def fault_action_not_supported(action):
    return Fault(500, "Sender", ("a", "ActionNotSupported"),
                 "The action is not supported by the service. ",
                 2150858771, action=ACT_ADDR_FAULT,
                 message="The WS-Management service cannot process the "
                 "request because the WS-Addressing Action URI %s is not "
                 "supported by the resource. " % action,
                 detail="ActionMismatch")


def fault_destination_unreachable(resource_uri, wmi_message):
    return Fault(500, "Sender", ("a", "DestinationUnreachable"),
                 "No route can be determined to reach the destination role "
                 "defined by the WS-Addressing To header. ", 2150858770,
                 action=ACT_ADDR_FAULT,
                 provider=(2150858770, wmi_message, None),
                 message=resource_uri, detail="InvalidResourceURI",
                 wmi=(5, 13))  # CIM_ERR_INVALID_CLASS, ObjectNotFound


def fault_not_found():
    return Fault(500, "Sender", ("a", "DestinationUnreachable"),
                 "The WS-Management service cannot process the request. The "
                 "service cannot find the resource identified by the "
                 "resource URI and selectors. ", 2150858752,
                 action=ACT_ADDR_FAULT,
                 provider=(2150858752, "The WMI service reported that the "
                           "requested instance was not found. ", None),
                 wmi=(6, 13))  # CIM_ERR_NOT_FOUND, ObjectNotFound


def fault_invalid_selectors(detail, text):
    codes = {"InsufficientSelectors": 2150858842,
             "UnexpectedSelectors": 2150858843,
             "AmbiguousSelectors": 2150858846,
             "DuplicateSelectors": 2150858847}
    return Fault(500, "Sender", ("w", "InvalidSelectors"),
                 "The WS-Management service cannot process the request "
                 "because the request contained invalid selectors for the "
                 "resource. ", codes.get(detail, 2150858813), message=text,
                 detail=detail)


def fault_cannot_process_filter(wmi_message, query):
    ext = ('<f:ExtendedError><p:__ExtendedStatus xmlns:p="http://schemas.'
           'microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/'
           '__ExtendedStatus" xmlns:xsi="%s" xmlns:cim="%s" '
           'xsi:type="p:__ExtendedStatus_Type"><p:Description xsi:nil="true"'
           '/><p:Operation>ExecQuery</p:Operation><p:ParameterInfo>%s'
           "</p:ParameterInfo><p:ProviderName>WinMgmt</p:ProviderName>"
           '<p:StatusCode xsi:nil="true"/></p:__ExtendedStatus>'
           "</f:ExtendedError>" % (NS_XSI, NS_CIM, esc(query)))
    return Fault(500, "Sender", ("n", "CannotProcessFilter"),
                 "The data source could not process the filter. The filter "
                 "might be missing or it might be invalid. Change the filter "
                 "and try the request again.  ", 2150858778,
                 action=ACT_ENUM_FAULT, provider=(2150858778, wmi_message,
                                                  ext),
                 wmi=(15, 5))  # CIM_ERR_INVALID_QUERY, InvalidArgument


def fault_dialect_unavailable(dialect):
    return Fault(500, "Sender", ("n", "FilterDialectRequestedUnavailable"),
                 "The requested filtering dialect is not supported. ",
                 2150858777, action=ACT_ENUM_FAULT,
                 message="The filter dialect %s is not supported for this "
                 "resource. " % dialect)


def fault_invalid_context():
    return Fault(500, "Sender", ("n", "InvalidEnumerationContext"),
                 "The enumeration context supplied in the message is not "
                 "valid. This can be caused by an expired enumeration "
                 "context or by supplying the same enumeration context to "
                 "multiple operations. Retry the operation after "
                 "enumerating again. ", 2150858779, action=ACT_ENUM_FAULT)


def fault_encoding_limit(limit):
    return Fault(500, "Sender", ("w", "EncodingLimit"),
                 "An internal encoding limit was exceeded in a request or "
                 "would be violated if the message were processed. ",
                 2150858824,
                 message="The response that the WS-Management service "
                 "computed exceeds the maximum envelope size in the request "
                 "(%d bytes). " % limit, detail="MaxEnvelopeSize")


def fault_timed_out():
    return Fault(500, "Receiver", ("w", "TimedOut"),
                 "The WS-Management service cannot complete the operation "
                 "within the time specified in OperationTimeout.  ",
                 2150858793)


def fault_internal(text):
    return Fault(500, "Receiver", ("w", "InternalError"),
                 "The service cannot comply with the request due to internal "
                 "processing errors. ", 2150858755, message=text)


def fault_invalid_parameter(text):
    return Fault(500, "Sender", ("w", "InvalidParameter"),
                 "The WS-Management service cannot process the request "
                 "because a parameter is invalid. ", 2150858810,
                 message=text)


def fault_quota(text):
    return Fault(500, "Receiver", ("w", "QuotaLimit"),
                 "The service is busy servicing other requests. ",
                 2150858815, message=text)
