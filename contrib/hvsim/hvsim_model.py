"""hvsim_model: the simulated Hyper-V WMI v2 model (host, VMs, KVP items,
jobs) and the rendering of its instances as WinRM renders WMI objects.

Classes served: Msvm_ComputerSystem, Msvm_KvpExchangeComponent,
Msvm_KvpExchangeComponentSettingData, Msvm_VirtualSystemManagementService,
Msvm_ConcreteJob. KVP items are embedded CIM-XML Msvm_KvpExchangeDataItem
instances (Caption/Description/ElementName PROPAGATED and empty, Data, Name,
Source), as Hyper-V emits them. Rendered per-VM fragments are cached and
invalidated by a per-VM version counter.
"""

import datetime
import sys
import threading
import time
import uuid

from hvsim_xml import (CIM_NAMESPACE, NS_CIM, NS_XSI, PREFIX_STYLES, WMI_V2,
                       ANONYMOUS, esc, parse_xml)

KVP_MAXLEN = 1024        # MAXLEN of Msvm_KvpExchangeDataItem Name and Data
KVP_MAX_ITEMS_PER_CALL = 128
DATA_ITEM_MAX_BYTES = 16384  # an embedded INSTANCE larger than this is junk

RV_OK, RV_JOB, RV_FAILED, RV_INVALID_PARAM = 0, 4096, 32768, 32773
RV_NOT_FOUND = 32779

JOB_RUNNING, JOB_COMPLETED, JOB_EXCEPTION = 4, 7, 10

SOURCE_HOST, SOURCE_GUEST, SOURCE_INTRINSIC = 0, 1, 2

MAX_JOBS = 10000  # older finished jobs are dropped beyond this
KVP_IC_ID = "A9A0F4E7-5A45-4D96-B827-8A841E8C03E6"  # Data Exchange IC


class Datetime:
    """A CIM datetime, rendered as <cim:Datetime>."""

    def __init__(self, ts):
        self.ts = ts

    def text(self):
        d = datetime.datetime.fromtimestamp(self.ts, datetime.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % d.microsecond


class Interval:
    """A CIM interval, rendered as <cim:Interval>."""

    def __init__(self, seconds):
        self.seconds = seconds

    def text(self):
        s = self.seconds
        days = int(s // 86400)
        s -= days * 86400
        h = int(s // 3600)
        s -= h * 3600
        m = int(s // 60)
        s -= m * 60
        return "P%dDT%dH%dM%.6fS" % (days, h, m, s)


class NullArray:
    """A NULL array property."""


NULL_ARRAY = NullArray()


def class_uri(cls):
    return WMI_V2 + "/" + cls


def cimxml_item(name, data, source):
    """One Msvm_KvpExchangeDataItem as Hyper-V embeds it (CIM-XML)."""
    return ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
            '<PROPERTY NAME="Caption" PROPAGATED="true" TYPE="string">'
            "</PROPERTY>"
            '<PROPERTY NAME="Data" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Description" PROPAGATED="true" TYPE="string">'
            "</PROPERTY>"
            '<PROPERTY NAME="ElementName" PROPAGATED="true" TYPE="string">'
            "</PROPERTY>"
            '<PROPERTY NAME="Name" TYPE="string"><VALUE>%s</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>%d</VALUE>'
            "</PROPERTY></INSTANCE>" % (esc(data), esc(name), source))


class DataItemError(ValueError):
    pass


def parse_data_item(text):
    """Parses one embedded CIM-XML Msvm_KvpExchangeDataItem (hostile input).

    Returns (name, data). Raises DataItemError naming what is wrong."""
    if text is None or not text.strip():
        raise DataItemError("empty DataItems element")
    raw = text.encode("utf-8")
    if len(raw) > DATA_ITEM_MAX_BYTES:
        raise DataItemError("DataItems element larger than %d bytes"
                            % DATA_ITEM_MAX_BYTES)
    try:
        inst = parse_xml(raw)
    except Exception as e:  # noqa: BLE001 - any parse failure is the answer
        raise DataItemError("DataItems is not CIM-XML: %s" % e)
    if inst.tag != "INSTANCE":
        raise DataItemError("DataItems root is <%s>, not <INSTANCE>"
                            % inst.tag)
    if inst.get("CLASSNAME") != "Msvm_KvpExchangeDataItem":
        raise DataItemError("INSTANCE CLASSNAME is %r, not "
                            "Msvm_KvpExchangeDataItem" % inst.get("CLASSNAME"))
    props = {}
    for p in inst:
        if p.tag != "PROPERTY":
            continue
        v = p.find("VALUE")
        props[p.get("NAME")] = None if v is None else (v.text or "")
    name, data = props.get("Name"), props.get("Data")
    if not name:
        raise DataItemError("data item has no Name")
    if data is None:
        data = ""
    if len(name) > KVP_MAXLEN or len(data) > KVP_MAXLEN:
        raise DataItemError("data item Name or Data longer than %d characters"
                            % KVP_MAXLEN)
    return name, data


class Instance:
    """One WMI instance: class, ordered properties, key names."""

    __slots__ = ("cls", "props", "keys")

    def __init__(self, cls, props, keys):
        self.cls = cls
        self.props = props
        self.keys = keys

    def selectors(self):
        return [(k, str(self.props[k])) for k in self.keys]


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
            out.append(value.render(p, name))
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


class ItemArray:
    """A string array of embedded data items, rendered from cached strings."""

    __slots__ = ("escaped",)

    def __init__(self, escaped):
        self.escaped = escaped  # list of already-escaped CIM-XML strings

    def render(self, p, name):
        if not self.escaped:
            return '<%s:%s xsi:nil="true" IsNullArray="true"/>' % (p, name)
        o, c = "<%s:%s>" % (p, name), "</%s:%s>" % (p, name)
        return o + (c + o).join(self.escaped) + c


class ItemStore:
    """Items of one source with their rendered (escaped) CIM-XML cached."""

    def __init__(self, source):
        self.source = source
        self.items = {}
        self.rendered = {}

    def set_all(self, items):
        """Replaces the whole set; returns True if anything changed."""
        if items == self.items:
            return False
        new_rendered = {}
        for k, v in items.items():
            old = self.items.get(k)
            if old == v and k in self.rendered:
                new_rendered[k] = self.rendered[k]
            else:
                new_rendered[k] = esc(cimxml_item(k, v, self.source))
        self.items = dict(items)
        self.rendered = new_rendered
        return True

    def array(self):
        return ItemArray([self.rendered[k] for k in self.items])


class VM:
    """One simulated virtual machine and its guest adapter."""

    def __init__(self, name, guid, kind, guest=None, running=True,
                 extra=None):
        self.name = name
        self.guid = guid.upper()
        self.kind = kind
        self.guest = guest
        self.running = running
        self.extra = extra or {}
        self.created = time.time() - 86400
        self.started = time.time() - 3600
        self.pid = 4000 + (uuid.UUID(self.guid).int % 50000)
        self.lock = threading.RLock()
        self.version = 0
        self.intrinsic = ItemStore(SOURCE_INTRINSIC)
        self.guest_store = ItemStore(SOURCE_GUEST)
        self.host = ItemStore(SOURCE_HOST)
        self.host_items = {}
        self._polled = 0.0
        self._guest_failed = False
        self._cache = {}

    # ---- guest side -------------------------------------------------------
    def refresh(self, max_age=0.25):
        """Reads the guest's items (real guests: at most every max_age s)."""
        g = self.guest
        if g is None:
            return
        if getattr(g, "push_model", False):
            return  # synthetic guests call set_guest_items themselves
        now = time.monotonic()
        if now - self._polled < max_age:
            return
        self._polled = now
        try:
            intrinsic = g.intrinsic_items()
            guest = g.guest_items()
        except Exception as e:  # noqa: BLE001 - a dead guest is not fatal
            if not self._guest_failed:
                sys.stderr.write("hvsim: guest %s: %s; serving its last known "
                                 "items\n" % (self.name, e))
            self._guest_failed = True
            return
        self._guest_failed = False
        self.set_guest_items(intrinsic, guest)

    def set_guest_items(self, intrinsic, guest):
        with self.lock:
            changed = self.intrinsic.set_all(intrinsic)
            changed = self.guest_store.set_all(guest) or changed
            if changed:
                self.version += 1

    # ---- host side --------------------------------------------------------
    def apply_host(self, op, items):
        """Applies a completed Add/Modify/Remove; returns (ok, code, text)."""
        with self.lock:
            for name, data in items:
                exists = name in self.host_items
                if op == "AddKvpItems" and exists:
                    return (False, RV_INVALID_PARAM,
                            "The KVP item '%s' already exists." % name)
                if op in ("ModifyKvpItems", "RemoveKvpItems") and not exists:
                    return (False, RV_NOT_FOUND,
                            "The KVP item '%s' was not found." % name)
            for name, data in items:
                if op == "RemoveKvpItems":
                    del self.host_items[name]
                    if self.guest is not None:
                        self.guest.remove_host_item(name)
                else:
                    self.host_items[name] = data
                    if self.guest is not None:
                        self.guest.publish_host_item(name, data)
            self.host.set_all(self.host_items)
            self.version += 1
        return (True, 0, "")

    # ---- rendering ---------------------------------------------------------
    def cached(self, key, build):
        """Rendered text for key, rebuilt when the VM's version changed."""
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == self.version:
                return hit[1]
            version = self.version
        text = build()
        with self.lock:
            self._cache[key] = (version, text)
        return text


class Job:
    def __init__(self, op, vm, items, delay, fail=None):
        self.id = str(uuid.uuid4()).upper()
        self.op = op
        self.vm = vm
        self.items = items
        self.submitted = time.time()
        self.finished = None
        self.state = JOB_RUNNING
        self.error_code = 0
        self.error_text = ""
        self.delay = delay
        self.fail = fail


class Model:
    """The host and its VMs; answers instance queries for each class."""

    CLASSES = ("Msvm_ComputerSystem", "Msvm_KvpExchangeComponent",
               "Msvm_KvpExchangeComponentSettingData",
               "Msvm_VirtualSystemManagementService", "Msvm_ConcreteJob")
    KEYS = {
        "Msvm_ComputerSystem": ("CreationClassName", "Name"),
        "Msvm_KvpExchangeComponent": ("CreationClassName", "DeviceID",
                                      "SystemCreationClassName",
                                      "SystemName"),
        "Msvm_KvpExchangeComponentSettingData": ("InstanceID",),
        "Msvm_VirtualSystemManagementService": ("CreationClassName", "Name",
                                                "SystemCreationClassName",
                                                "SystemName"),
        "Msvm_ConcreteJob": ("InstanceID",),
    }

    def __init__(self, host_name="HVSIM-HOST", job_delay=0.2, sync_jobs=False,
                 job_keep=600.0):
        self.host_name = host_name
        self.vms = []
        self.by_guid = {}
        self.lock = threading.RLock()
        self.jobs = {}
        self.job_delay = job_delay
        self.sync_jobs = sync_jobs
        self.job_keep = job_keep
        self.boot = time.time() - 7 * 86400

    def add_vm(self, vm):
        with self.lock:
            if vm.guid in self.by_guid:
                raise ValueError("duplicate VM GUID %s" % vm.guid)
            self.vms.append(vm)
            self.by_guid[vm.guid] = vm

    def property_names(self, cls):
        """Property names of a class (for WQL validation)."""
        if cls == "Msvm_ComputerSystem":
            return list(self._host_cs().props)
        if cls == "Msvm_KvpExchangeComponent":
            return list(self._kvp_props(VM("x", str(uuid.UUID(int=0)),
                                           "synthetic"),
                                        ItemArray([]), ItemArray([])))
        if cls == "Msvm_KvpExchangeComponentSettingData":
            return list(self._kvp_sd_props(VM("x", str(uuid.UUID(int=0)),
                                              "synthetic"), ItemArray([])))
        if cls == "Msvm_VirtualSystemManagementService":
            return list(self._vsms().props)
        if cls == "Msvm_ConcreteJob":
            return list(self._job_props(Job("AddKvpItems", None, [], 0)))
        return []

    # ---- Msvm_ComputerSystem ----------------------------------------------
    def _host_cs(self):
        return Instance("Msvm_ComputerSystem", {
            "AvailableRequestedStates": NULL_ARRAY,
            "Caption": "Hosting Computer System",
            "CommunicationStatus": None,
            "CreationClassName": "Msvm_ComputerSystem",
            "Dedicated": [0],
            "Description": "Microsoft Hosting Computer System",
            "DetailedStatus": None,
            "ElementName": self.host_name,
            "EnabledDefault": 2,
            "EnabledState": 2,
            "HealthState": 5,
            "IdentifyingDescriptions": NULL_ARRAY,
            "InstallDate": None,
            "Name": self.host_name,
            "NameFormat": None,
            "OnTimeInMilliseconds": None,
            "OperatingStatus": None,
            "OperationalStatus": [2],
            "OtherDedicatedDescriptions": NULL_ARRAY,
            "OtherEnabledState": None,
            "OtherIdentifyingInfo": NULL_ARRAY,
            "PowerManagementCapabilities": NULL_ARRAY,
            "PrimaryOwnerContact": None,
            "PrimaryOwnerName": "Administrator",
            "PrimaryStatus": None,
            "ProcessID": None,
            "RequestedState": 12,
            "ResetCapability": 1,
            "Roles": NULL_ARRAY,
            "Status": None,
            "StatusDescriptions": NULL_ARRAY,
            "TimeOfLastConfigurationChange": None,
            "TimeOfLastStateChange": Datetime(self.boot),
            "TransitioningToState": 5,
        }, self.KEYS["Msvm_ComputerSystem"])

    def _vm_cs(self, vm):
        now = time.time()
        on = vm.running
        return Instance("Msvm_ComputerSystem", {
            "AvailableRequestedStates": NULL_ARRAY,
            "Caption": "Virtual Machine",
            "CommunicationStatus": None,
            "CreationClassName": "Msvm_ComputerSystem",
            "Dedicated": NULL_ARRAY,
            "Description": "Microsoft Virtual Machine",
            "DetailedStatus": None,
            "ElementName": vm.name,
            "EnabledDefault": 2,
            "EnabledState": 2 if on else 3,
            "EnhancedSessionModeState": 3,
            "FailedOverReplicationType": 0,
            "HealthState": 5,
            "HwThreadsPerCoreRealized": 1 if on else None,
            "IdentifyingDescriptions": NULL_ARRAY,
            "InstallDate": Datetime(vm.created),
            "InstanceID": None,
            "LastApplicationConsistentReplicationTime": Datetime(0),
            "LastReplicationTime": Datetime(0),
            "LastReplicationType": 0,
            "LastSuccessfulBackupTime": None,
            "Name": vm.guid,
            "NameFormat": None,
            "NumberOfNumaNodes": 1,
            "OnTimeInMilliseconds": int((now - vm.started) * 1000) if on
            else 0,
            "OperatingStatus": None,
            "OperationalStatus": [2],
            "OtherDedicatedDescriptions": NULL_ARRAY,
            "OtherEnabledState": None,
            "OtherIdentifyingInfo": NULL_ARRAY,
            "PowerManagementCapabilities": NULL_ARRAY,
            "PrimaryOwnerContact": None,
            "PrimaryOwnerName": None,
            "PrimaryStatus": None,
            "ProcessID": vm.pid if on else None,
            "ReplicationHealth": 0,
            "ReplicationMode": 0,
            "ReplicationState": 0,
            "RequestedState": 2 if on else 3,
            "ResetCapability": 1,
            "Roles": NULL_ARRAY,
            "Status": None,
            "StatusDescriptions": ["Operating normally"],
            "TimeOfLastConfigurationChange": Datetime(vm.created),
            "TimeOfLastStateChange": Datetime(vm.started),
            "TransitioningToState": 5,
        }, self.KEYS["Msvm_ComputerSystem"])

    # ---- KVP component / setting data ------------------------------------
    def _kvp_props(self, vm, guest_arr, intrinsic_arr):
        return {
            "AvailableRequestedStates": NULL_ARRAY,
            "Caption": "Key-Value Pair Exchange",
            "CommunicationStatus": None,
            "CreationClassName": "Msvm_KvpExchangeComponent",
            "Description": "Microsoft Virtual Machine Key-Value Pair "
                           "Exchange",
            "DetailedStatus": None,
            "DeviceID": "Microsoft:%s\\%s" % (vm.guid, KVP_IC_ID),
            "ElementName": "Key-Value Pair Exchange",
            "EnabledDefault": 2,
            "EnabledState": 2,
            "ErrorCleared": None,
            "ErrorDescription": None,
            "GuestExchangeItems": guest_arr,
            "GuestIntrinsicExchangeItems": intrinsic_arr,
            "HealthState": 5,
            "IdentifyingDescriptions": NULL_ARRAY,
            "InstallDate": None,
            "LastErrorCode": None,
            "Name": KVP_IC_ID,
            "OperatingStatus": None,
            "OperationalStatus": [2],
            "OtherEnabledState": None,
            "PrimaryStatus": None,
            "RequestedState": 12,
            "Status": None,
            "StatusDescriptions": ["OK"],
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": vm.guid,
            "TimeOfLastStateChange": None,
            "TransitioningToState": 5,
        }

    def _kvp_sd_props(self, vm, host_arr):
        return {
            "Address": None,
            "AddressOnParent": None,
            "AllocationUnits": None,
            "AutomaticAllocation": True,
            "AutomaticDeallocation": True,
            "Caption": "Key-Value Pair Exchange",
            "Connection": NULL_ARRAY,
            "ConsumerVisibility": None,
            "Description": "Microsoft Virtual Machine Key-Value Pair "
                           "Exchange Settings",
            "DisableHostKVPItems": False,
            "ElementName": "Key-Value Pair Exchange",
            "EnabledState": 2,
            "HostExchangeItems": host_arr,
            "HostResource": NULL_ARRAY,
            "InstanceID": "Microsoft:%s\\%s\\0" % (vm.guid, KVP_IC_ID),
            "Limit": None,
            "MappingBehavior": None,
            "OtherResourceType": None,
            "Parent": None,
            "PoolID": None,
            "Reservation": None,
            "ResourceSubType": "Microsoft:Hyper-V:Key Value Pair Exchange",
            "ResourceType": 31,
            "VirtualQuantity": None,
            "VirtualQuantityUnits": "count",
            "Weight": None,
        }

    def _vsms(self):
        return Instance("Msvm_VirtualSystemManagementService", {
            "AvailableRequestedStates": NULL_ARRAY,
            "Caption": "Hyper-V Virtual System Management Service",
            "CommunicationStatus": None,
            "CreationClassName": "Msvm_VirtualSystemManagementService",
            "Description": "Service for creating and managing virtual "
                           "machines",
            "DetailedStatus": None,
            "ElementName": "Virtual Machine Management Service",
            "EnabledDefault": 2,
            "EnabledState": 2,
            "HealthState": 5,
            "InstallDate": None,
            "Name": "vmms",
            "OperatingStatus": None,
            "OperationalStatus": [2],
            "OtherEnabledState": None,
            "PrimaryOwnerContact": None,
            "PrimaryOwnerName": None,
            "PrimaryStatus": None,
            "RequestedState": 12,
            "Started": True,
            "StartMode": "Automatic",
            "Status": "OK",
            "StatusDescriptions": ["The service is running normally."],
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": self.host_name,
            "TimeOfLastStateChange": None,
            "TransitioningToState": 5,
        }, self.KEYS["Msvm_VirtualSystemManagementService"])

    def _job_props(self, job):
        end = job.finished or time.time()
        done = job.state != JOB_RUNNING
        return {
            "Cancellable": False,
            "Caption": "Modifying KVP items",
            "CommunicationStatus": 2,
            "DeleteOnCompletion": False,
            "Description": "Modifying Key-Value Pair items (%s)" % job.op,
            "DetailedStatus": None,
            "ElapsedTime": Interval(end - job.submitted),
            "ElementName": "Modifying Key-Value Pair items",
            "ErrorCode": job.error_code,
            "ErrorDescription": job.error_text if job.error_text else None,
            "ErrorSummaryDescription": job.error_text if job.error_text
            else None,
            "HealthState": 5,
            "InstallDate": None,
            "InstanceID": job.id,
            "JobRunTimes": 1,
            "JobState": job.state,
            "JobStatus": ("Job is running" if not done else
                          "Job completed successfully"
                          if job.state == JOB_COMPLETED else "Job failed"),
            "JobType": 94,
            "LocalOrUtcTime": 2,
            "Name": None,
            "OperatingStatus": None,
            "OperationalStatus": [2] if job.state != JOB_EXCEPTION else [6],
            "OtherRecoveryAction": None,
            "Owner": None,
            "PercentComplete": 100 if done else 50,
            "PrimaryStatus": None,
            "Priority": 0,
            "RecoveryAction": None,
            "StartTime": Datetime(job.submitted),
            "Status": "OK" if job.state != JOB_EXCEPTION else "Error",
            "StatusDescriptions": ["Job is running" if not done else
                                   "Job completed"],
            "TimeBeforeRemoval": Interval(300),
            "TimeOfLastStateChange": Datetime(end),
            "TimeSubmitted": Datetime(job.submitted),
            "UntilTime": None,
        }

    # ---- queries -----------------------------------------------------------
    def instances(self, cls):
        """Yields Instance objects or Lazy VM-backed instances for a class."""
        with self.lock:
            vms = list(self.vms)
        if cls == "Msvm_ComputerSystem":
            return [self._host_cs()] + [self._vm_cs(vm) for vm in vms]
        if cls == "Msvm_KvpExchangeComponent":
            return [KvpInstance(self, vm) for vm in vms if vm.running]
        if cls == "Msvm_KvpExchangeComponentSettingData":
            return [KvpSdInstance(self, vm) for vm in vms]
        if cls == "Msvm_VirtualSystemManagementService":
            return [self._vsms()]
        if cls == "Msvm_ConcreteJob":
            self._expire_jobs()
            with self.lock:
                jobs = list(self.jobs.values())
            return [Instance("Msvm_ConcreteJob", self._job_props(j),
                             self.KEYS["Msvm_ConcreteJob"]) for j in jobs]
        return None

    def _expire_jobs(self):
        now = time.time()
        with self.lock:
            for jid in [j.id for j in self.jobs.values()
                        if j.finished and now - j.finished > self.job_keep]:
                del self.jobs[jid]

    # ---- jobs ---------------------------------------------------------------
    def start_job(self, op, vm, items, delay=None, fail=None):
        """Runs Add/Modify/Remove; returns (return_value, job or None)."""
        if self.sync_jobs and delay is None and fail is None:
            ok, code, _ = vm.apply_host(op, items)
            return (RV_OK if ok else code), None
        job = Job(op, vm, items, self.job_delay if delay is None else delay,
                  fail)
        with self.lock:
            if len(self.jobs) >= MAX_JOBS:
                done = sorted((j for j in self.jobs.values() if j.finished),
                              key=lambda j: j.finished)
                for old in done[:len(self.jobs) - MAX_JOBS + 1]:
                    del self.jobs[old.id]
            self.jobs[job.id] = job
        if job.delay <= 0:
            self._finish(job)
        else:
            t = threading.Timer(job.delay, self._finish, (job,))
            t.daemon = True
            t.start()
        return RV_JOB, job

    def _finish(self, job):
        if job.fail is not None:
            code, text = job.fail
            ok = False
        else:
            try:
                ok, code, text = job.vm.apply_host(job.op, job.items)
            except Exception as e:  # noqa: BLE001 - a guest failed: job fails
                ok, code, text = False, RV_FAILED, "guest error: %s" % e
        with self.lock:
            job.state = JOB_COMPLETED if ok else JOB_EXCEPTION
            job.error_code = 0 if ok else code
            job.error_text = "" if ok else text
            job.finished = time.time()


class KvpInstance:
    """Msvm_KvpExchangeComponent of one VM, rendered from cached items."""

    cls = "Msvm_KvpExchangeComponent"
    keys = Model.KEYS["Msvm_KvpExchangeComponent"]

    def __init__(self, model, vm):
        self.model = model
        self.vm = vm

    @property
    def props(self):
        self.vm.refresh()
        with self.vm.lock:
            return self.model._kvp_props(self.vm, self.vm.guest_store.array(),
                                         self.vm.intrinsic.array())

    def selectors(self):
        return [("CreationClassName", "Msvm_KvpExchangeComponent"),
                ("DeviceID", "Microsoft:%s\\%s" % (self.vm.guid, KVP_IC_ID)),
                ("SystemCreationClassName", "Msvm_ComputerSystem"),
                ("SystemName", self.vm.guid)]

    def render(self, style, selected=None):
        self.vm.refresh()
        key = (style, None if selected is None else tuple(sorted(selected)))
        return self.vm.cached(("kvp",) + key, lambda: render_instance(
            style, Instance(self.cls, self.props, self.keys), selected))


class KvpSdInstance(KvpInstance):
    cls = "Msvm_KvpExchangeComponentSettingData"
    keys = Model.KEYS["Msvm_KvpExchangeComponentSettingData"]

    @property
    def props(self):
        with self.vm.lock:
            return self.model._kvp_sd_props(self.vm, self.vm.host.array())

    def selectors(self):
        return [("InstanceID", "Microsoft:%s\\%s\\0" % (self.vm.guid,
                                                       KVP_IC_ID))]

    def render(self, style, selected=None):
        key = (style, None if selected is None else tuple(sorted(selected)))
        return self.vm.cached(("kvpsd",) + key, lambda: render_instance(
            style, Instance(self.cls, self.props, self.keys), selected))


def render_any(style, inst, selected=None):
    if isinstance(inst, KvpInstance):
        return inst.render(style, selected)
    return render_instance(style, inst, selected)
