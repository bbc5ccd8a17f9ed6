"""vmbus: the kernel side of one Linux guest's KVP channel. The LD_PRELOAD
shim libhvsim_vmbus.so (vmbus_shim.c) turns hv_kvp_daemon's
/dev/vmbus/hv_kvp into an AF_UNIX SOCK_SEQPACKET connection to a Vmbus,
which answers the daemon's REGISTER (op 100 with a version) and then sends
it requests (kvp_msg.py, one 7432-byte record per packet), waiting for each
reply. A daemon that reconnects (it does when the connection drops) is
handshaken again.
"""

import errno
import os
import socket
import threading
import time
import uuid

from . import kvp_msg
from .guest_base import GuestError, tail
from .kvp_msg import KVP_MSG_SIZE

QUIET_ERRNOS = (errno.EPIPE, errno.ECONNRESET, errno.EBADF, errno.ENOTCONN)


class Vmbus:
    """check_alive() raises GuestError if the daemon is gone; log_path is
    the daemon's log (quoted in errors, handshake failures appended)."""

    def __init__(self, name, timeout, version, log_path, check_alive):
        self.name = name
        self.timeout = timeout
        self.version = version
        self.log_path = log_path
        self.check_alive = check_alive
        self.connects = 0         # handshakes done (1 + reconnects)
        self.round_trips = 0      # requests answered
        self._conn = None
        self._listener = None
        self.closing = False
        self._cond = threading.Condition()
        self._req_lock = threading.Lock()
        self._thread = None
        self._sock_path = None

    def listen(self, path):
        """Listens at path (an abstract socket if path is too long for
        sun_path); returns the address to give the shim."""
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if len(path.encode()) < 100:
            if os.path.exists(path):
                os.unlink(path)
            self._listener.bind(path)
            self._sock_path = path
            addr = path
        else:  # too long for sun_path: Linux abstract socket
            addr = "@hvsim-vmbus-%d-%s" % (os.getpid(), uuid.uuid4().hex)
            self._listener.bind("\0" + addr[1:])
        self._listener.listen(4)
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept_loop,
                                        name="hvsim-vmbus-" + self.name,
                                        daemon=True)
        self._thread.start()
        return addr

    def wait_connected(self, count, timeout=None):
        """Waits until the daemon has registered `count` times in total."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while self.connects < count:
                self.check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestError(
                        "%s: hv_kvp_daemon did not register on the simulated "
                        "VMBus within %.1f s; log: %s"
                        % (self.name, timeout or self.timeout,
                           tail(self.log_path)))
                self._cond.wait(min(left, 0.1))

    def _accept_loop(self):
        while not self.closing:
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.closing:
                    return
                time.sleep(0.05)
                continue
            try:
                self._handshake(conn)
            except (OSError, GuestError) as e:
                conn.close()
                with open(self.log_path, "a") as f:
                    f.write("hvsim: handshake failed: %s\n" % e)
                continue
            with self._cond:
                old, self._conn = self._conn, conn
                self.connects += 1
                self._cond.notify_all()
            if old is not None:
                old.close()

    def _handshake(self, conn):
        conn.settimeout(self.timeout)
        msg = conn.recv(KVP_MSG_SIZE + 1)
        if not kvp_msg.is_register(msg):
            raise GuestError("expected a %d-byte REGISTER1 message, got %d "
                             "bytes, op %s" % (KVP_MSG_SIZE, len(msg),
                                               msg[0] if msg else None))
        conn.sendall(kvp_msg.register_reply(self.version))

    def drop_connection(self):
        """Closes the connection as a host reset would; the daemon
        reconnects and registers again (see wait_connected)."""
        with self._cond:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def transact(self, msg, what):
        """Sends one request, returns the daemon's 7432-byte reply. If the
        daemon closed the connection, retries once on its new one (every
        request here is idempotent)."""
        deadline = time.monotonic() + self.timeout
        with self._req_lock:
            for attempt in (1, 2):
                conn = self._connection(deadline, what)
                reply = self._exchange(conn, msg, deadline, what)
                if len(reply) == KVP_MSG_SIZE:
                    self.round_trips += 1
                    return reply
                self._forget(conn)
                if len(reply) != 0 or attempt == 2:
                    raise GuestError(
                        "%s: %s: bad reply from hv_kvp_daemon (%d bytes, "
                        "expected %d); log: %s"
                        % (self.name, what, len(reply), KVP_MSG_SIZE,
                           tail(self.log_path)))
        raise AssertionError("unreachable")

    def _connection(self, deadline, what):
        with self._cond:
            while self._conn is None:
                if self.closing:
                    raise GuestError("%s: guest is closed" % self.name)
                self.check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestError(
                        "%s: %s: no connection from hv_kvp_daemon within "
                        "%.1f s; log: %s" % (self.name, what, self.timeout,
                                             tail(self.log_path)))
                self._cond.wait(min(left, 0.1))
            return self._conn

    def _exchange(self, conn, msg, deadline, what):
        """The reply, or b"" if the daemon closed the connection."""
        try:
            conn.settimeout(max(0.01, deadline - time.monotonic()))
            conn.sendall(msg)
            return conn.recv(KVP_MSG_SIZE + 1)
        except socket.timeout:
            self._forget(conn)
            raise GuestError("%s: %s: hv_kvp_daemon did not answer within "
                             "%.1f s" % (self.name, what, self.timeout))
        except OSError as e:
            if e.errno not in QUIET_ERRNOS:
                self._forget(conn)
                raise GuestError("%s: %s: VMBus socket error: %s"
                                 % (self.name, what, e))
            return b""

    def _forget(self, conn):
        with self._cond:
            if self._conn is conn:
                self._conn = None
        conn.close()

    def close(self):
        """Closes the connection and the listener, removes the socket."""
        self.closing = True
        with self._cond:
            conn, self._conn = self._conn, None
            self._cond.notify_all()
        if conn is not None:
            conn.close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._sock_path and os.path.exists(self._sock_path):
            os.unlink(self._sock_path)
