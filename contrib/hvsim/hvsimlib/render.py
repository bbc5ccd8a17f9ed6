"""render: WMI instances and endpoint references as WinRM renders them:
<p:Class xmlns:p="<class URI>" xmlns:xsi xmlns:cim xsi:type="p:Class_Type">
with one element per property (sorted case-insensitively), arrays as
repeated elements, datetimes and intervals as <cim:Datetime>/<cim:Interval>.
"""

from .classes import NULL_ARRAY, Datetime, Interval, class_uri
from .kvp_items import ItemArray
from .soap import ANONYMOUS, CIM_NAMESPACE, NS_CIM, NS_XSI, PREFIX_STYLES, esc


def _render_value(p, name, value):
    if value is None:
        return '<%s:%s xsi:nil="true"/>' % (p, name)
    if isinstance(value, bool):
        return "<%s:%s>%s</%s:%s>" % (p, name, "true" if value else "false",
                                      p, name)
    if isinstance(value, (Datetime, Interval)):
        tag = "Datetime" if isinstance(value, Datetime) else "Interval"
        return "<%s:%s><cim:%s>%s</cim:%s></%s:%s>" % (
            p, name, tag, value.text(), tag, p, name)
    return "<%s:%s>%s</%s:%s>" % (p, name, esc(str(value)), p, name)




def _render_items(p, name, arr):
    if not arr.escaped:
        return '<%s:%s xsi:nil="true" IsNullArray="true"/>' % (p, name)
    o, c = "<%s:%s>" % (p, name), "</%s:%s>" % (p, name)
    return o + (c + o).join(arr.escaped) + c


def render_props(p, props, selected):
    out = []
    for name in sorted(props, key=str.lower):
        if selected is not None and name.lower() not in selected:
            continue
        value = props[name]
        if value is NULL_ARRAY or (isinstance(value, list) and not value):
            out.append('<%s:%s xsi:nil="true" IsNullArray="true"/>'
                       % (p, name))
        elif isinstance(value, list):
            out.extend(_render_value(p, name, v) for v in value)
        elif isinstance(value, ItemArray):
            out.append(_render_items(p, name, value))
        else:
            out.append(_render_value(p, name, value))
    return "".join(out)



def instance_open(style, cls):
    pf = PREFIX_STYLES[style]
    p = pf["inst"]
    xsi = pf["xsi"]
    cim = pf["cim"]
    return ('<%s:%s xmlns:%s="%s" xmlns:%s="%s" xmlns:%s="%s" '
            '%s:type="%s:%s_Type">' % (p, cls, p, class_uri(cls), xsi, NS_XSI,
                                       cim, NS_CIM, xsi, p, cls))


def fix_prefixes(style, text):
    """Rendering uses xsi:/cim: literally; map them for another style."""
    pf = PREFIX_STYLES[style]
    if pf["xsi"] != "xsi":
        text = text.replace(" xsi:nil=", " %s:nil=" % pf["xsi"])
    if pf["cim"] != "cim":
        text = text.replace("<cim:", "<%s:" % pf["cim"]).replace(
            "</cim:", "</%s:" % pf["cim"])
    return text


def render_instance(style, inst, selected=None):
    p = PREFIX_STYLES[style]["inst"]
    return fix_prefixes(style, "%s%s</%s:%s>" % (
        instance_open(style, inst.cls), render_props(p, inst.props, selected),
        p, inst.cls))


def render_epr(style, cls, selectors, element=None):
    """An EPR (wsa:Address + ReferenceParameters) as WinRM writes it."""
    pf = PREFIX_STYLES[style]
    a, w = pf["a"], pf["w"]
    sel = "".join('<%s:Selector Name="%s">%s</%s:Selector>' % (
        w, esc(k), esc(v), w) for k, v in selectors)
    sel += '<%s:Selector Name="__cimnamespace">%s</%s:Selector>' % (
        w, CIM_NAMESPACE, w)
    inner = ("<%s:Address>%s</%s:Address><%s:ReferenceParameters>"
             "<%s:ResourceURI>%s</%s:ResourceURI><%s:SelectorSet>%s"
             "</%s:SelectorSet></%s:ReferenceParameters>" % (
                 a, ANONYMOUS, a, a, w, class_uri(cls), w, w, sel, w, a))
    tag = element or "%s:EndpointReference" % a
    return "<%s>%s</%s>" % (tag, inner, tag)



def render_any(style, inst, selected=None):
    """An instance of the model: VM-backed ones render (and cache)
    themselves, the others are plain Instances."""
    if hasattr(inst, "render"):
        return inst.render(style, selected)
    return render_instance(style, inst, selected)
