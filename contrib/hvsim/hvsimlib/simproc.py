"""simproc: runs the simulator (contrib/hvsim/hvsim) as a process for
tests and benchmarks: on a free loopback port, waiting for its
`hvsim: listening on URL` line, and stops it with a signal, returning its
exit status and output.
"""

import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from .client import Client

HVSIM = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "hvsim")


def terminate(proc, sig=signal.SIGTERM, timeout=60):
    """Stops a process started with start_new_session=True: sig, then after
    timeout seconds SIGKILL to its whole process group. Returns its exit
    status; nothing happens to a process that has exited."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    return proc.returncode


class Sim:
    """Runs contrib/hvsim/hvsim (or the script at hvsim) on a free port
    until stop()."""

    def __init__(self, *extra, user="hvuser", password="hv pass:1",
                 https=False, timeout=120, hvsim=None):
        args = [sys.executable, hvsim or HVSIM, "--listen", "127.0.0.1:0",
                "--user", user, "--password", password] + list(extra)
        if https:
            args.append("--https")
        self.user, self.password = user, password
        # bufsize=0: select() must see every line still unread
        self.errfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=self.errfile, bufsize=0,
                                     start_new_session=True)
        self.lines = []
        self.url = None
        self.cert = None
        self._wait_listening(time.monotonic() + timeout, timeout)

    def _wait_listening(self, deadline, timeout):
        """Reads stdout lines until `listening on URL` (noting the
        certificate line); raises RuntimeError if hvsim exits or is late."""
        while self.url is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [],
                                              left)[0]:
                self.stop()
                raise RuntimeError("hvsim did not start in %ds" % timeout)
            line = self.proc.stdout.readline().decode()
            if not line:
                self.proc.wait()
                self.errfile.seek(0)
                err = self.errfile.read().decode(errors="replace")
                raise RuntimeError("hvsim exited (%s): %s"
                                   % (self.proc.wait(), err))
            self.lines.append(line.rstrip("\n"))
            if line.startswith("hvsim: listening on "):
                self.url = line.split()[-1]
            elif line.startswith("hvsim: certificate "):
                self.cert = line.split(" ", 2)[2].strip()

    def client(self, **kw):
        return Client(self.url, self.user, self.password, cafile=self.cert,
                      **kw)

    def processes(self, name):
        """PIDs of this simulator's descendants whose command is `name`
        (its guests' hv_kvp_daemon), whatever other simulators run."""
        parent, comm = {}, {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue  # exited meanwhile
            # "pid (comm) state ppid ...": comm may hold spaces
            rp = stat.rindex(")")
            comm[int(d)] = stat[stat.index("(") + 1:rp]
            parent[int(d)] = int(stat[rp + 2:].split()[1])
        ours = []
        for pid, c in comm.items():
            p = pid
            while c == name and p > 1:
                p = parent.get(p, 0)
                if p == self.proc.pid:
                    ours.append(pid)
                    break
        return sorted(ours)

    def stop(self, sig=signal.SIGTERM):
        terminate(self.proc, sig)
        out = self.proc.stdout.read().decode()
        self.proc.stdout.close()
        self.errfile.seek(0)
        err = self.errfile.read().decode(errors="replace")
        self.errfile.close()
        return self.proc.returncode, out, err


def check_stop(sim, sig=signal.SIGTERM):
    """Stops sim; raises AssertionError unless it exits 0 without a
    traceback or an internal error. Returns (stdout, stderr)."""
    rc, out, err = sim.stop(sig)
    if rc != 0 or "Traceback" in err or "internal error" in err:
        raise AssertionError("hvsim exited %s: %s" % (rc, err[-3000:]))
    return out, err


@contextlib.contextmanager
def running(*args, **kw):
    """A Sim for a with block, stopped at its end with check_stop."""
    sim = Sim(*args, **kw)
    try:
        yield sim
    except BaseException:
        sim.stop()
        raise
    check_stop(sim)
