"""startup: builds a running simulator from Settings (cli.py): the model
and its VMs (synthetic, Linux and Windows guests), the reporters started
for real guests, the synthetic generator, the WS-Man endpoint and the
HTTP(S) server; announces them on standard output; serves until asked to
stop; and closes everything it started, leaving no process, mount or
temporary file behind.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from . import codec, fault_injection, httpserver
from .endpoint import Endpoint
from .guest_base import vm_guid
from .model import Model
from .synthetic import Generator, SyntheticGuest
from .vm import VM


class StartupError(Exception):
    """The simulator cannot start; the message says why."""


def say(line):
    sys.stdout.write("hvsim: %s\n" % line)
    sys.stdout.flush()


def read_items_file(path, what):
    """A JSON object of strings (items served as they are)."""
    try:
        with open(path, encoding="utf-8") as f:
            items = json.load(f)
    except (OSError, ValueError) as e:
        raise StartupError("cannot read %s file %s: %s" % (what, path, e))
    if not isinstance(items, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in items.items()):
        raise StartupError("%s file %s must be a JSON object of strings"
                           % (what, path))
    return items


def make_cert(tmp):
    """A self-signed CA:TRUE certificate for 127.0.0.1, ::1 and localhost."""
    cert = os.path.join(tmp, "hvsim-cert.pem")
    key = os.path.join(tmp, "hvsim-key.pem")
    cmd = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
           "-keyout", key, "-out", cert, "-days", "7", "-subj",
           "/CN=127.0.0.1",
           "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
           "-addext", "basicConstraints=critical,CA:TRUE"]
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    except FileNotFoundError:
        raise StartupError("--https needs the openssl command (Debian "
                           "package openssl)")
    except subprocess.CalledProcessError as e:
        raise StartupError("openssl could not make a certificate: %s"
                           % e.stderr.decode(errors="replace").strip())
    os.chmod(key, 0o600)
    return cert, key


def stop_process(proc, name):
    """SIGTERM, then SIGKILL after 10 s; waits for the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sys.stderr.write("hvsim: reporter of %s ignored SIGTERM; "
                             "killing it\n" % name)
            proc.kill()
            proc.wait()


class Simulator:
    def __init__(self, settings):
        self.s = settings
        self.model = Model(host_name=settings.host_name,
                           job_delay=settings.job_delay,
                           sync_jobs=settings.sync_jobs)
        self.tmp = tempfile.mkdtemp(prefix="hvsim-")
        self.workdir = settings.args.workdir or self.tmp
        self.guests = []        # real guests, to close
        self.reporters = []     # (vm name, Popen, log file)
        self.generator = None
        self.server = None
        self.url = None
        self.cert = None

    # ---- start-up -----------------------------------------------------------
    def start(self):
        synth_vms = self._add_vms()
        self._start_reporters()
        if synth_vms:
            self.generator = Generator(synth_vms, self.s.interval,
                                       self._codec())
            self.generator.start()
        self._start_server()
        self._announce()

    def _add_vms(self):
        """Adds every VM the settings name; returns the synthetic ones."""
        synth, real = [], []
        for idx, spec in enumerate(self.s.vm_specs, 1):
            name = spec.get("name")
            kind = spec.get("kind", "synthetic")
            if not isinstance(name, str) or not name:
                raise StartupError("every VM in --config needs a name")
            guid = spec.get("guid", vm_guid(name))
            running = spec.get("state", "running") == "running"
            if kind == "synthetic":
                guest = self._synthetic_guest(name, idx, guid, spec)
                vm = VM(name, guid, kind, guest, running)
                synth.append(vm)
                self._add(vm)
            elif kind in ("linux", "windows"):
                real.append((name, guid, kind, running))
            else:
                raise StartupError("VM %s: kind %r is not linux, windows or "
                                   "synthetic" % (name, kind))
        for name, guid, kind, running in real:
            guest = self._real_guest(name, guid, kind)
            self._add(VM(name, guid, kind, guest, running))
        return synth

    def _add(self, vm):
        try:
            self.model.add_vm(vm)
        except ValueError as e:
            raise StartupError("VM %s: %s" % (vm.name, e))

    def _synthetic_guest(self, name, idx, guid, spec):
        static = None
        if spec.get("items_file"):
            static = read_items_file(spec["items_file"], "items")
        guest = SyntheticGuest(name, idx, int(spec.get("items",
                                                       self.s.n_items)),
                               static, guid if spec.get("aligned") else None)
        if spec.get("intrinsic_file"):
            guest.intrinsic = read_items_file(spec["intrinsic_file"],
                                              "intrinsic")
        return guest

    def _real_guest(self, name, guid, kind):
        from . import guests
        vdir = os.path.join(self.workdir, name)
        os.makedirs(vdir, exist_ok=True)
        params = {"VirtualMachineId": guid, "VirtualMachineName": name,
                  "PhysicalHostName": self.model.host_name}
        try:
            g = guests.open_guest(kind, name, vdir, parameters=params)
        except Exception as e:  # noqa: BLE001 - report and stop
            raise StartupError("cannot start %s guest %s: %s"
                               % (kind, name, e))
        self.guests.append(g)
        return g

    def _start_reporters(self):
        paths = {"linux": self.s.linux_reporter,
                 "windows": self.s.windows_reporter}
        for vm in self.model.vms:
            path = paths.get(vm.kind)
            if path and vm.running:
                self._start_reporter(vm, path)

    def _start_reporter(self, vm, path):
        cmd = [path, "--foreground", "--store", vm.guest.store_spec,
               "--interval", self.s.reporter_interval]
        env = None
        if vm.kind == "windows":
            cmd = ["wine"] + cmd
            env = vm.guest.wine_env()
        log = open(os.path.join(self.workdir, vm.name, "reporter.log"), "ab")
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, env=env)
        except OSError as e:
            log.close()
            raise StartupError("cannot start reporter %s for %s: %s"
                               % (path, vm.name, e))
        self.reporters.append((vm.name, proc, log))

    def _codec(self):
        path = codec.find_codec(self.s.build_dir)
        if path:
            return codec.Codec(path)
        sys.stderr.write(
            "hvsim: warning: hvkvp-codec not found under --build-dir "
            "%s/protocol; synthetic guests use the built-in enc=json "
            "framing\n" % self.s.build_dir)
        return codec.BuiltinCodec()

    def _endpoint(self):
        s = self.s
        return Endpoint(self.model, style=s.style,
                        enum_timeout=s.enum_timeout,
                        max_batch_items=s.max_batch_items,
                        max_envelope=s.max_envelope,
                        wmi_fault_style=s.wmi_faults)

    def _faults(self):
        faults = fault_injection.FaultSet(seed=self.s.args.seed)
        try:
            faults.replace(self.s.fault_rules)
        except fault_injection.RuleError as e:
            raise StartupError("--config fault rule: %s" % e)
        return faults

    def _start_server(self):
        a = self.s.args
        host, port = self.s.listen
        try:
            self.server = httpserver.Server(
                (host, port), self._endpoint(), self._faults(), a.user,
                a.password, self.model.host_name, self.model,
                verbose=a.verbose, auth=a.auth,
                allow_unencrypted=a.allow_unencrypted)
        except ImportError as e:
            raise StartupError("--auth negotiate needs python3-gssapi: %s"
                               % e)
        except OSError as e:
            raise StartupError("cannot listen on %s:%d: %s" % (host, port, e))
        scheme = "https" if a.https else "http"
        if a.https:
            self._enable_tls()
        shown = host if ":" not in host else "[%s]" % host
        self.url = "%s://%s:%d/wsman" % (scheme, shown,
                                         self.server.server_address[1])

    def _enable_tls(self):
        a = self.s.args
        if bool(a.cert) != bool(a.key):
            raise StartupError("--cert and --key go together")
        cert, key = (a.cert, a.key) if a.cert else make_cert(self.tmp)
        try:
            self.server.enable_tls(cert, key)
        except (OSError, ValueError) as e:
            raise StartupError("cannot use certificate %s / key %s: %s"
                               % (cert, key, e))
        self.cert = cert

    def _announce(self):
        for vm in self.model.vms:
            if vm.kind == "linux":
                say("vm %s %s linux pool=%s" % (vm.name, vm.guid,
                                                 vm.guest.pool_dir))
            elif vm.kind == "windows":
                say("vm %s %s windows wineprefix=%s" % (
                    vm.name, vm.guid, vm.guest.wineprefix))
        for name, proc, _ in self.reporters:
            say("reporter %s pid=%d" % (name, proc.pid))
        if self.cert:
            say("certificate %s" % self.cert)
        say("credentials user=%s password=(as given by --password)"
            % self.s.args.user)
        say("listening on %s" % self.url)

    # ---- running and stopping -----------------------------------------------
    def serve(self, stopping):
        """Serves until the stopping event is set."""
        thread = threading.Thread(target=self.server.serve_forever,
                                  kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        while not stopping.wait(0.5):
            pass
        self.server.shutdown()
        thread.join(timeout=10)

    def close(self):
        if self.server is not None:
            self.server.server_close()
        if self.generator is not None:
            self.generator.stop()
        for name, proc, log in self.reporters:
            stop_process(proc, name)
            log.close()
        for g in reversed(self.guests):
            try:
                g.close()
            except Exception as e:  # noqa: BLE001 - close the others too
                sys.stderr.write("hvsim: closing %s: %s\n"
                                 % (getattr(g, "name", g), e))
        shutil.rmtree(self.tmp, ignore_errors=True)
