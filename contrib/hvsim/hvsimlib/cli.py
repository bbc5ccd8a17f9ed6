"""cli: the simulator's command line (contrib/hvsim/hvsim): arguments and
the --config file resolved into one Settings object, then start-up
(startup.py), serving until SIGINT/SIGTERM, and a clean stop.

Standard output, one line each: the real VMs, reporters, certificate and
credentials, then `hvsim: listening on URL` (wait for it), and
`hvsim: stopped` at the end. Errors: `hvsim: error: ...` and exit status 2.
"""

import argparse
import ipaddress
import json
import os
import signal
import sys
import threading

from .soap import PREFIX_STYLES
from .startup import Simulator, StartupError, say


class UsageError(Exception):
    pass


def die(msg):
    sys.stderr.write("hvsim: error: %s\n" % msg)
    sys.exit(2)


def _listen_args(ap):
    ap.add_argument("--listen", required=True, help="127.0.0.1:PORT (0=any)")
    ap.add_argument("--https", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--auth", choices=("basic", "negotiate"), default="basic",
                    help="negotiate: also Kerberos/Negotiate/NTLM with "
                    "message sealing (KRB5_KTNAME, NTLM_USER_FILE)")
    ap.add_argument("--allow-unencrypted", action="store_true",
                    help="with --auth negotiate: accept unsealed bodies "
                    "and Basic over HTTP (WinRM AllowUnencrypted)")


def _vm_args(ap):
    ap.add_argument("--synthetic", type=int, default=0, metavar="N")
    ap.add_argument("--items", type=int, default=40, metavar="M",
                    help="GuestExchangeItems per synthetic VM")
    ap.add_argument("--interval", type=float, default=10.0, metavar="S")
    ap.add_argument("--name-prefix", default="synth", metavar="P",
                    help="synthetic VMs are P-0001, P-0002, ... (their GUIDs "
                    "follow from their names)")
    ap.add_argument("--aligned", action="store_true",
                    help="synthetic VMs publish messages that follow from "
                    "their GUID and the wall clock (the same VM in two "
                    "simulators publishes the same messages)")
    ap.add_argument("--linux", type=int, default=0, metavar="N")
    ap.add_argument("--windows", type=int, default=0, metavar="N")
    ap.add_argument("--config")
    ap.add_argument("--build-dir")
    ap.add_argument("--host-name", default="HVSIM-HOST")
    ap.add_argument("--workdir", help="where real guests live (default: a "
                    "temporary directory removed at exit)")
    ap.add_argument("--seed", type=int)


def _wsman_args(ap):
    ap.add_argument("--prefix-style", choices=sorted(PREFIX_STYLES))
    ap.add_argument("--wmi-faults", choices=("cim", "provider"),
                    help="faults WMI causes: p:MSFT_WmiError in s:Detail "
                    "(cim, Server 2012+, default) or f:ProviderFault "
                    "(provider, 2008 R2 style)")
    ap.add_argument("--job-delay", type=float,
                    help="seconds until a KVP job completes (default 0.2)")
    ap.add_argument("--sync-jobs", action="store_true",
                    help="KVP methods return 0 instead of 4096 + job")
    ap.add_argument("--enum-timeout", type=float,
                    help="idle seconds before an enumeration context "
                    "expires (default 60)")
    ap.add_argument("--max-envelope-kb", type=int,
                    help="server MaxEnvelopeSizekb (default 500)")
    ap.add_argument("--verbose", action="store_true")


def _reporter_args(ap):
    ap.add_argument("--reporter", metavar="PATH",
                    help="start this hvkvp-reporter for every Linux VM")
    ap.add_argument("--reporter-exe", metavar="PATH",
                    help="start this hvkvp-reporter.exe under Wine for "
                    "every Windows VM")
    ap.add_argument("--reporter-interval", type=float, default=10.0,
                    metavar="S", help="--interval of the started reporters")


def parser():
    ap = argparse.ArgumentParser(
        prog="hvsim", description="Hyper-V WS-Management simulator "
        "(see contrib/hvsim/README.md)")
    for add in (_listen_args, _vm_args, _wsman_args, _reporter_args):
        add(ap)
    return ap


def parse_listen(text):
    """HOST:PORT -> (loopback address, port); UsageError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep:
        raise UsageError("--listen %r is not HOST:PORT" % text)
    host = host.strip("[]")
    try:
        addr = ipaddress.ip_address(host if host != "localhost"
                                    else "127.0.0.1")
    except ValueError:
        raise UsageError("--listen host %r is not an IP address" % host)
    if not addr.is_loopback:
        raise UsageError("--listen %s is not a loopback address; the "
                         "simulator only serves the local machine" % host)
    try:
        port = int(port)
    except ValueError:
        raise UsageError("--listen port %r is not a number" % port)
    if not 0 <= port <= 65535:
        raise UsageError("--listen port %d is out of range" % port)
    return str(addr), port


def load_config(path):
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError("cannot read --config %s: %s" % (path, e))
    if not isinstance(cfg, dict):
        raise UsageError("--config %s: the top level must be a JSON object"
                         % path)
    return cfg


class Settings:
    """Everything start-up needs, from the arguments and the config file
    (an argument given wins over the file, except host_name)."""

    def __init__(self, args, cfg):
        self.args = args
        self.cfg = cfg
        self.listen = parse_listen(args.listen)
        self.build_dir = args.build_dir or cfg.get("build_dir") or \
            os.environ.get("HVSIM_BUILD_DIR")
        self.host_name = cfg.get("host_name", args.host_name)
        self.style = args.prefix_style or cfg.get("prefixes", "windows")
        if self.style not in PREFIX_STYLES:
            raise UsageError("prefix style %r is not one of %s"
                             % (self.style, sorted(PREFIX_STYLES)))
        self._jobs_and_enumeration(args, cfg)
        self._synthetic(args, cfg.get("synthetic", {}))
        self._reporters(args, cfg.get("reporter", {}))
        self.vm_specs = list(cfg.get("vms", []))
        self.vm_specs += [{"name": "%s-%04d" % (args.name_prefix, i),
                           "kind": "synthetic", "aligned": args.aligned}
                          for i in range(1, self.n_synth + 1)]
        self.vm_specs += [{"name": "linux-%d" % i, "kind": "linux"}
                          for i in range(1, args.linux + 1)]
        self.vm_specs += [{"name": "windows-%d" % i, "kind": "windows"}
                          for i in range(1, args.windows + 1)]

    def _jobs_and_enumeration(self, args, cfg):
        jobs = cfg.get("jobs", {})
        enum = cfg.get("enumeration", {})
        self.job_delay = args.job_delay if args.job_delay is not None \
            else float(jobs.get("delay", 0.2))
        self.sync_jobs = args.sync_jobs or bool(jobs.get("sync", False))
        self.enum_timeout = args.enum_timeout or float(enum.get("timeout",
                                                                60.0))
        self.max_batch_items = int(enum.get("max_batch_items", 32000))
        self.max_envelope = 1024 * (args.max_envelope_kb or
                                    int(enum.get("max_envelope_kb", 500)))
        self.wmi_faults = args.wmi_faults or cfg.get("wmi_faults", "cim")
        self.fault_rules = cfg.get("faults", [])

    def _synthetic(self, args, synth):
        self.n_synth = args.synthetic or int(synth.get("count", 0))
        if args.synthetic:
            self.n_items, self.interval = args.items, args.interval
        else:
            self.n_items = int(synth.get("items", args.items))
            self.interval = float(synth.get("interval", args.interval))
        if self.interval <= 0:
            raise UsageError("--interval must be > 0")

    def _reporters(self, args, rep):
        self.linux_reporter = args.reporter or rep.get("linux")
        self.windows_reporter = args.reporter_exe or rep.get("windows")
        self.reporter_interval = str(rep.get("interval",
                                             args.reporter_interval))


def settings(argv=None):
    args = parser().parse_args(argv)
    try:
        cfg = load_config(args.config) if args.config else {}
        return Settings(args, cfg)
    except UsageError as e:
        die(str(e))


def main(argv=None):
    s = settings(argv)
    if s.build_dir:
        os.environ.setdefault("HVSIM_BUILD_DIR", os.path.abspath(s.build_dir))
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    sim = Simulator(s)
    failure = None
    try:
        sim.start()
        sim.serve(stopping)
    except StartupError as e:
        failure = str(e)
    finally:
        sim.close()
    if failure is not None:
        die(failure)
    say("stopped")
    return 0
