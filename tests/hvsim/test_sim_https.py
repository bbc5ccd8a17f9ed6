"""HTTPS, start-up and shutdown of the Hyper-V simulator: the printed
certificate verifies the endpoint (and nothing else does), --cert/--key,
non-loopback --listen is refused, SIGINT/SIGTERM stop it cleanly, and a
request larger than MaxEnvelopeSizekb is answered 413."""

import os
import signal
import ssl
import subprocess
import sys
import tempfile
import unittest

from simtest import hc, simproc, CS



class HttpsTest(unittest.TestCase):
    def test_https_with_printed_certificate(self):
        with simproc.running("--synthetic", "2", https=True) as sim:
            self.assertTrue(sim.url.startswith("https://127.0.0.1:"))
            self.assertTrue(os.path.isfile(sim.cert))
            c = sim.client()
            items, _ = c.enumerate_all(CS)
            self.assertEqual(len(items), 3)
            c.close()
            # TLS verification is real: the system CAs do not trust it
            bad = hc.Client(sim.url, sim.user, sim.password, cafile=None)
            with self.assertRaises(ssl.SSLCertVerificationError):
                bad.post(hc.enumerate_req(CS))
            # plain HTTP to the TLS port gets no SOAP answer
            plain = hc.Client(sim.url.replace("https:", "http:"), sim.user,
                              sim.password)
            with self.assertRaises(Exception):
                plain.post(hc.enumerate_req(CS))
            cert = sim.cert
        self.assertFalse(os.path.exists(cert), "temporary cert left behind")

    def test_given_cert_and_key(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-keyout", key, "-out", cert, "-days",
                            "1", "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=IP:127.0.0.1"], check=True,
                           capture_output=True)
            with simproc.running("--cert", cert, "--key", key,
                                 https=True) as sim:
                self.assertEqual(sim.cert, cert)
                c = sim.client()
                self.assertEqual(len(c.enumerate_all(CS)[0]), 1)
                c.close()


class LifecycleTest(unittest.TestCase):
    def run_hvsim(self, *args):
        return subprocess.run([sys.executable, simproc.HVSIM, "--user", "u",
                               "--password", "p"] + list(args),
                              capture_output=True, timeout=60)

    def test_non_loopback_listen_is_refused(self):
        for addr in ("0.0.0.0:0", "192.0.2.1:5985", "example.org:1"):
            p = self.run_hvsim("--listen", addr)
            self.assertEqual(p.returncode, 2, addr)
            self.assertIn(b"hvsim: error: --listen", p.stderr)
            self.assertEqual(p.stdout, b"")

    def test_ipv6_loopback(self):
        p = subprocess.Popen([sys.executable, simproc.HVSIM, "--listen",
                              "[::1]:0", "--user", "u", "--password", "p"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = p.stdout.readline().decode()
            while line and "listening on" not in line:
                line = p.stdout.readline().decode()
            self.assertRegex(line, r"^hvsim: listening on "
                                   r"http://\[::1\]:\d+/wsman$")
            port = int(line.rsplit(":", 1)[1].split("/")[0])
            import http.client
            c = http.client.HTTPConnection("::1", port, timeout=30)
            c.request("POST", "/wsman", hc.enumerate_req(CS),
                      {"Authorization": "Basic dTpw"})
            self.assertEqual(c.getresponse().status, 200)
            c.close()
        finally:
            p.terminate()
            self.assertEqual(p.wait(timeout=30), 0)
            p.stdout.close()
            p.stderr.close()

    def test_sigint_and_sigterm_stop_cleanly(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            sim = simproc.Sim("--synthetic", "4", "--interval", "0.2")
            self.assertEqual(sum(1 for line in sim.lines
                                 if line.startswith("hvsim: listening on ")),
                             1)
            self.assertTrue(any(line.startswith("hvsim: credentials user=")
                                for line in sim.lines))
            self.assertFalse(any("hv pass:1" in line for line in sim.lines))
            c = sim.client()
            c.enumerate_all(CS)
            c.close()
            kids = [int(x) for x in subprocess.run(
                ["pgrep", "-P", str(sim.proc.pid)],
                capture_output=True).stdout.split()]
            if os.environ.get("HVSIM_BUILD_DIR"):
                self.assertTrue(kids, "hvkvp-codec coprocess not running")
            rc, out, err = sim.stop(sig)
            self.assertEqual(rc, 0, err)
            self.assertIn("hvsim: stopped", out)
            for pid in kids:  # no child process (hvkvp-codec) survives
                with self.assertRaises(ProcessLookupError):
                    os.kill(pid, 0)

    def test_oversized_request_is_413(self):
        with simproc.running("--max-envelope-kb", "16") as sim:
            c = sim.client()
            big = hc.enumerate_req(CS, wql=None).replace(
                b"<s:Body>", b"<s:Body><!--" + b"x" * 20000 + b"-->")
            r = c.post(big)
            self.assertEqual(r.status, 413)
            c.close()
            c = sim.client()
            self.assertEqual(c.post(hc.enumerate_req(CS)).status, 200)
            c.close()


if __name__ == "__main__":
    unittest.main()
