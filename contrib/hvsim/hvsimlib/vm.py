"""vm: one simulated virtual machine (its guest adapter, the KVP items it
publishes, the host items pushed to it) and the two WMI instances it backs,
Msvm_KvpExchangeComponent and Msvm_KvpExchangeComponentSettingData, whose
rendered text is cached and invalidated by a per-VM version counter.
"""

import sys
import threading
import time
import uuid

from . import classes
from .classes import KEYS, KVP_IC_ID, RV_INVALID_PARAM, RV_NOT_FOUND, Instance
from .kvp_items import SOURCE_GUEST, SOURCE_HOST, SOURCE_INTRINSIC, ItemStore
from .render import render_instance


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



class KvpInstance:
    """Msvm_KvpExchangeComponent of one VM, rendered from cached items."""

    cls = "Msvm_KvpExchangeComponent"
    keys = KEYS["Msvm_KvpExchangeComponent"]

    def __init__(self, vm):
        self.vm = vm

    @property
    def props(self):
        self.vm.refresh()
        with self.vm.lock:
            return classes.kvp_props(self.vm, self.vm.guest_store.array(),
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
    """Msvm_KvpExchangeComponentSettingData of one VM (its host items)."""

    cls = "Msvm_KvpExchangeComponentSettingData"
    keys = KEYS["Msvm_KvpExchangeComponentSettingData"]

    @property
    def props(self):
        with self.vm.lock:
            return classes.kvp_sd_props(self.vm, self.vm.host.array())

    def selectors(self):
        return [("InstanceID", "Microsoft:%s\\%s\\0" % (self.vm.guid,
                                                       KVP_IC_ID))]

    def render(self, style, selected=None):
        key = (style, None if selected is None else tuple(sorted(selected)))
        return self.vm.cached(("kvpsd",) + key, lambda: render_instance(
            style, Instance(self.cls, self.props, self.keys), selected))

