"""model: the simulated Hyper-V host as WMI sees it: its VMs (vm.py), its
jobs (jobs.py) and the instances of every class it serves (classes.py),
which the WS-Man endpoint enumerates, gets and invokes methods on.

Classes served: Msvm_ComputerSystem (the host and every VM),
Msvm_KvpExchangeComponent (running VMs), Msvm_KvpExchangeComponentSettingData
(every VM), Msvm_VirtualSystemManagementService, Msvm_ConcreteJob.
"""

import threading
import time
import uuid

from . import classes
from .classes import CLASSES, KEYS, Instance
from .jobs import Job, Jobs
from .kvp_items import ItemArray
from .vm import VM, KvpInstance, KvpSdInstance


class Model:
    """The host and its VMs; answers instance queries for each class."""

    CLASSES = CLASSES
    KEYS = KEYS

    def __init__(self, host_name="HVSIM-HOST", job_delay=0.2, sync_jobs=False,
                 job_keep=600.0):
        self.host_name = host_name
        self.vms = []
        self.by_guid = {}
        self.lock = threading.RLock()
        self.jobs = Jobs(job_delay, sync_jobs, job_keep)
        self.boot = time.time() - 7 * 86400

    def add_vm(self, vm):
        with self.lock:
            if vm.guid in self.by_guid:
                raise ValueError("duplicate VM GUID %s" % vm.guid)
            self.vms.append(vm)
            self.by_guid[vm.guid] = vm

    def vm_named(self, name):
        with self.lock:
            return next((v for v in self.vms if v.name == name), None)

    def property_names(self, cls):
        """Property names of a class (for WQL validation)."""
        probe = VM("x", str(uuid.UUID(int=0)), "synthetic")
        if cls == "Msvm_ComputerSystem":
            host = classes.host_cs(self.host_name, self.boot).props
            return sorted(set(host) | set(classes.vm_cs(probe).props))
        if cls == "Msvm_KvpExchangeComponent":
            return list(classes.kvp_props(probe, ItemArray([]),
                                          ItemArray([])))
        if cls == "Msvm_KvpExchangeComponentSettingData":
            return list(classes.kvp_sd_props(probe, ItemArray([])))
        if cls == "Msvm_VirtualSystemManagementService":
            return list(classes.vsms(self.host_name).props)
        if cls == "Msvm_ConcreteJob":
            return list(classes.job_props(Job("AddKvpItems", None, [], 0)))
        return []

    def instances(self, cls):
        """The instances of a class: Instance objects, or VM-backed ones
        that render themselves from cached items. None for other classes."""
        with self.lock:
            vms = list(self.vms)
        if cls == "Msvm_ComputerSystem":
            return [classes.host_cs(self.host_name, self.boot)] + [
                classes.vm_cs(vm) for vm in vms]
        if cls == "Msvm_KvpExchangeComponent":
            return [KvpInstance(vm) for vm in vms if vm.running]
        if cls == "Msvm_KvpExchangeComponentSettingData":
            return [KvpSdInstance(vm) for vm in vms]
        if cls == "Msvm_VirtualSystemManagementService":
            return [classes.vsms(self.host_name)]
        if cls == "Msvm_ConcreteJob":
            return [Instance("Msvm_ConcreteJob", classes.job_props(j),
                             KEYS["Msvm_ConcreteJob"])
                    for j in self.jobs.current()]
        return None

    def start_job(self, op, vm, items, delay=None, fail=None):
        """Runs Add/Modify/Remove; returns (return_value, job or None)."""
        return self.jobs.start(op, vm, items, delay, fail)
