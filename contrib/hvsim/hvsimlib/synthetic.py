"""synthetic: in-memory synthetic guests for the simulator.

Each synthetic VM publishes the intrinsic items a Linux guest's hv_kvp_daemon
publishes, a valid hvkvp message (about 150 collectd value lists: cpu,
memory, df, interface, disk, load, processes, ...) framed as KVP items by
the codec (codec.py: one batch for all VMs, a new gen every interval), and
padding items up to the requested item count.
"""

import hashlib
import random
import sys
import threading
import time

def intrinsic_items(name, index):
    """The items hv_kvp_daemon generates for pool 2 (Auto)."""
    return {
        "FullyQualifiedDomainName": "%s.hvsim.test" % name,
        "IntegrationServicesVersion": "3.1",
        "NetworkAddressIPv4": "10.%d.%d.%d" % (
            (index >> 16) & 255, (index >> 8) & 255, (index & 255) or 1),
        "NetworkAddressIPv6": "fe80::215:5dff:fe%02x:%02x%02x" % (
            (index >> 16) & 255, (index >> 8) & 255, index & 255),
        "OSBuildNumber": "6.1.0-18-amd64",
        "OSName": "Debian GNU/Linux",
        "OSMajorVersion": "12",
        "OSMinorVersion": "5",
        "OSVersion": "6.1.0-18-amd64\n",
        "ProcessorArchitecture": "x86_64",
    }


def _vl(plugin, pinst, type_, tinst, dsnames, dstypes):
    return {"values": [0] * len(dsnames), "dstypes": dstypes,
            "dsnames": dsnames, "plugin": plugin, "plugin_instance": pinst,
            "type": type_, "type_instance": tinst}


def value_lists():
    """About 150 value lists shaped like a real collectd guest's."""
    g, d = ["gauge"], ["derive"]
    out = []
    for cpu in range(4):
        for st in ("user", "nice", "system", "idle", "wait", "interrupt",
                   "softirq", "steal"):
            out.append(_vl("cpu", str(cpu), "percent", st, ["value"], g))
    for st in ("used", "buffered", "cached", "free", "slab_recl",
               "slab_unrecl"):
        out.append(_vl("memory", "", "memory", st, ["value"], g))
    for fs in ("root", "boot", "var", "home", "tmp"):
        for st in ("used", "free", "reserved"):
            out.append(_vl("df", fs, "df_complex", st, ["value"], g))
    for ifc in ("eth0", "eth1", "lo"):
        for t in ("if_octets", "if_packets", "if_errors", "if_dropped"):
            out.append(_vl("interface", ifc, t, "", ["rx", "tx"], d + d))
    for disk in ("sda", "sda1", "sdb"):
        for t in ("disk_octets", "disk_ops", "disk_time", "disk_merged",
                  "disk_io_time"):
            out.append(_vl("disk", disk, t, "", ["read", "write"]
                           if t != "disk_io_time" else
                           ["io_time", "weighted_io_time"], d + d))
    out.append(_vl("load", "", "load", "", ["shortterm", "midterm",
                                            "longterm"], g * 3))
    for st in ("running", "sleeping", "zombies", "stopped", "paging",
               "blocked"):
        out.append(_vl("processes", "", "ps_state", st, ["value"], g))
    out.append(_vl("processes", "", "fork_rate", "", ["value"], d))
    for st in ("used", "free", "cached"):
        out.append(_vl("swap", "", "swap", st, ["value"], g))
    for st in ("in", "out"):
        out.append(_vl("swap", "", "swap_io", st, ["value"], d))
    out.append(_vl("uptime", "", "uptime", "", ["value"], g))
    out.append(_vl("users", "", "users", "", ["value"], g))
    out.append(_vl("entropy", "", "entropy", "", ["value"], g))
    out.append(_vl("contextswitch", "", "contextswitch", "", ["value"], d))
    for irq in range(24):
        out.append(_vl("irq", "", "irq", str(irq), ["value"], d))
    for st in ("established", "syn_sent", "time_wait", "listen", "close_wait",
               "closing"):
        out.append(_vl("tcpconns", "22-local", "tcp_connections", st,
                       ["value"], g))
    for fs in ("root", "boot", "var", "home", "tmp"):
        for st in ("used", "free", "reserved"):
            out.append(_vl("df", fs, "df_inodes", st, ["value"], g))
    for cpu in range(4):
        out.append(_vl("cpufreq", str(cpu), "cpufreq", "", ["value"], g))
    for st in ("active", "inactive", "anon", "file"):
        out.append(_vl("vmem", "", "vmpage_number", st, ["value"], g))
    return out


def apply_frame(kvp, frame):
    """The items after a writer applied an encoded frame (hvkvp-codec
    encode's put, del and after): the new slot's chunks and head; the old
    slot's chunks go once the head is set (PROTOCOL.md: one slot at rest).
    The VM's items change at once, so readers never see a torn state."""
    out = dict(kvp)
    for k in frame.get("del", []):
        out.pop(k, None)
    for k, v in frame.get("put", []):
        out[k] = v
    for k in frame.get("after", []):
        out.pop(k, None)
    return out


SLACK = 0.05  # s: a tick this close before an interval boundary belongs to it


def _seed(guid):
    """A 63-bit number of a GUID, the same in every simulator."""
    digest = hashlib.sha256(guid.upper().encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class SyntheticGuest:
    """Guest adapter for a synthetic VM (push model: the generator sets the
    VM's items). Host pushes are kept in memory."""

    push_model = True

    def __init__(self, name, index, items, static_items=None, aligned=None):
        """aligned: the VM's GUID, to make its items a function of the GUID
        and the wall clock (see message)."""
        self.name = name
        self.aligned = aligned
        seed = _seed(aligned) if aligned else None
        self.index = seed % 65534 + 1 if aligned else index
        self.items = items
        self.static = static_items
        self.host_items = {}
        self.intrinsic = intrinsic_items(name, self.index)
        self.epoch = seed if aligned else random.getrandbits(63)
        self.gen = 0
        self.kvp = {}
        self.template = value_lists()
        self.counters = [random.random() * 1e6 for _ in self.template]
        self.applied = {}        # the last valid pushed config (codec cfg)
        self.config_error = ""
        self.cfg_dirty = False
        self._pads = []

    def message(self, now, interval):
        """The next message. An aligned VM's gen is the number of intervals
        since the epoch of the clock, its time that tick, its values drawn
        from its GUID and gen: two simulators serving the same aligned VM
        (two Hyper-V hosts during a live migration) publish the same
        message at the same time."""
        if self.aligned:
            self.gen = max(self.gen + 1, int((now + SLACK) // interval))
            now = self.gen * interval
            self._values(random.Random("%d:%d" % (self.epoch, self.gen)))
        else:
            self.gen += 1
            self._values(random)
        msg = {"v": 1, "host": self.name, "time": round(now, 3),
               "interval": interval, "seq": self.gen,
               "config": self.applied.get("id", ""),
               "values": self.template}
        if self.applied.get("tags"):
            msg["tags"] = self.applied["tags"]
        if self.config_error:
            msg["config_error"] = self.config_error[:255]
        return msg

    def _values(self, rng):
        for i, vl in enumerate(self.template):
            n = len(vl["values"])
            if vl["dstypes"][0] == "derive":
                if self.aligned:  # non-decreasing in gen, same everywhere
                    self.counters[i] = (self.epoch % 1000003 + 2500 *
                                        self.gen + rng.randint(0, 2500))
                else:
                    self.counters[i] += rng.randint(0, 5000)
                vl["values"] = [int(self.counters[i])] * n
            else:
                vl["values"] = [round(rng.random() * 100, 3)] * n

    def apply_pushed(self, codec):
        """Reads the host items as a real guest does: a valid set replaces
        the applied one, an invalid one is reported and the last good set
        stays."""
        if not self.cfg_dirty:
            return
        self.cfg_dirty = False
        res = codec.read_cfg(dict(self.host_items))
        if res.get("ok"):
            self.applied = res if res.get("present") else {}
            self.config_error = ""
        else:
            self.config_error = res.get("detail", "")

    def guest_items(self):
        if self.static is not None:
            return dict(self.static)
        out = dict(self.kvp)
        pad = max(0, self.items - len(out))
        if len(self._pads) < pad:
            self._pads = [("hvsim.pad.%04d" % i, "padding item %04d of %s: %s"
                           % (i, self.name, "x" * 40)) for i in range(pad)]
        out.update(self._pads[:pad])
        return out

    def intrinsic_items(self):
        return dict(self.intrinsic)

    def publish_host_item(self, key, value):
        self.host_items[key] = value
        self.cfg_dirty = True

    def remove_host_item(self, key):
        self.host_items.pop(key, None)
        self.cfg_dirty = True

    def parameters(self):
        return {}

    def close(self):
        pass


class Generator:
    """Publishes a new gen for every synthetic VM when it is due: every
    interval, or every pushed interval once the host pushed a valid
    configuration (as a real reporter applies it). One codec batch per
    tick."""

    def __init__(self, vms, interval, codec):
        self.vms = vms           # list of vm.VM with SyntheticGuest
        self.interval = interval
        self.codec = codec
        self.stop_ev = threading.Event()
        self.thread = None
        self.errors = 0
        self.due = {}

    def vm_interval(self, vm):
        vm.guest.apply_pushed(self.codec)
        return vm.guest.applied.get("interval") or self.interval

    def tick(self, force=False):
        now = time.time()
        live = []
        for vm in self.vms:
            if vm.guest.static is not None or not vm.running:
                continue
            iv = self.vm_interval(vm)
            if force or now >= self.due.get(vm.name, 0) - 0.01:
                # aligned VMs publish on the interval's boundaries
                self.due[vm.name] = (((now + SLACK) // iv + 1) * iv
                                     if vm.guest.aligned else now + iv)
                live.append((vm, iv))
        reqs = [{"msg": vm.guest.message(now, iv),
                 "epoch": vm.guest.epoch, "gen": vm.guest.gen,
                 "current": vm.guest.kvp} for vm, iv in live]
        results = self.codec.encode_batch(reqs) if reqs else []
        for (vm, _), res in zip(live, results):
            if "error" in res:
                self.errors += 1
                sys.stderr.write("hvsim: codec refused the message of %s: "
                                 "%s %s\n" % (vm.name, res.get("error"),
                                              res.get("detail", "")))
                continue
            vm.guest.kvp = apply_frame(vm.guest.kvp, res)
        for vm in (self.vms if force else [v for v, _ in live]):
            vm.set_guest_items(vm.guest.intrinsic_items(),
                               vm.guest.guest_items())

    def start(self):
        self.tick(force=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            now = time.time()
            nxt = min(self.due.values(), default=now + self.interval)
            if self.stop_ev.wait(max(0.05, min(nxt - now, self.interval))):
                return
            try:
                self.tick()
            except Exception as e:  # noqa: BLE001 - keep serving, say why
                self.errors += 1
                sys.stderr.write("hvsim: synthetic generator: %s\n" % e)

    def stop(self):
        self.stop_ev.set()
        if self.thread:
            self.thread.join(timeout=10)
        self.codec.close()
