"""classes: the Hyper-V WMI v2 classes the simulator serves (names, keys)
and the properties of each instance as Hyper-V reports them,
with the CIM value types they use (datetime, interval, null array).

Every property table is a plain function of the simulated object, so the
model (model.py) stays free of WMI detail and rendering (render.py) free of
class knowledge.
"""

import datetime
import time

from .soap import WMI_V2

KVP_IC_ID = "A9A0F4E7-5A45-4D96-B827-8A841E8C03E6"  # Data Exchange IC

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

JOB_RUNNING, JOB_COMPLETED, JOB_EXCEPTION = 4, 7, 10


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


class Instance:
    """One WMI instance: class, ordered properties, key names."""

    __slots__ = ("cls", "props", "keys")

    def __init__(self, cls, props, keys):
        self.cls = cls
        self.props = props
        self.keys = keys

    def selectors(self):
        return [(k, str(self.props[k])) for k in self.keys]


def host_cs(host_name, boot):
    """The host's own Msvm_ComputerSystem."""
    return Instance("Msvm_ComputerSystem", {
        "AvailableRequestedStates": NULL_ARRAY,
        "Caption": "Hosting Computer System",
        "CommunicationStatus": None,
        "CreationClassName": "Msvm_ComputerSystem",
        "Dedicated": [0],
        "Description": "Microsoft Hosting Computer System",
        "DetailedStatus": None,
        "ElementName": host_name,
        "EnabledDefault": 2,
        "EnabledState": 2,
        "HealthState": 5,
        "IdentifyingDescriptions": NULL_ARRAY,
        "InstallDate": None,
        "Name": host_name,
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
        "TimeOfLastStateChange": Datetime(boot),
        "TransitioningToState": 5,
    }, KEYS["Msvm_ComputerSystem"])


def vm_cs(vm):
    """A VM's Msvm_ComputerSystem."""
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
    }, KEYS["Msvm_ComputerSystem"])



def kvp_props(vm, guest_arr, intrinsic_arr):
    """Msvm_KvpExchangeComponent of a running VM (the guest's items)."""
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


def kvp_sd_props(vm, host_arr):
    """Msvm_KvpExchangeComponentSettingData of a VM (the host's items)."""
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


def vsms(host_name):
    """The host's Msvm_VirtualSystemManagementService."""
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
        "SystemName": host_name,
        "TimeOfLastStateChange": None,
        "TransitioningToState": 5,
    }, KEYS["Msvm_VirtualSystemManagementService"])


def job_props(job):
    """Msvm_ConcreteJob of a KVP method call."""
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


# Msvm_VirtualSystemManagementService method return values and limits
RV_OK, RV_JOB, RV_FAILED, RV_INVALID_PARAM = 0, 4096, 32768, 32773
RV_NOT_FOUND = 32779
KVP_MAX_ITEMS_PER_CALL = 128
