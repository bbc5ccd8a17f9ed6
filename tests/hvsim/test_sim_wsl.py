"""Conformance of the Hyper-V simulator with an independent WS-Man client:
Debian's `wsl` (Dell's Wsman Shell commandLine; curl + xmllint). Enumerates
Msvm_ComputerSystem and Msvm_KvpExchangeComponent, gets an instance and
invokes AddKvpItems, over HTTP and HTTPS (with the printed certificate)."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from simtest import hc, simproc

V2 = hc.WMI_V2
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
ITEM = ('&lt;INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"&gt;&lt;PROPERTY '
        'NAME="Name" TYPE="string"&gt;&lt;VALUE&gt;%s&lt;/VALUE&gt;&lt;/'
        'PROPERTY&gt;&lt;PROPERTY NAME="Data" TYPE="string"&gt;&lt;VALUE&gt;'
        '%s&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME="Source" '
        'TYPE="uint16"&gt;&lt;VALUE&gt;0&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/'
        'INSTANCE&gt;')


def build_dir_args():
    bd = os.environ.get("HVSIM_BUILD_DIR")
    return ["--build-dir", bd] if bd else []


class WslBase(unittest.TestCase):
    style = "windows"
    https = False

    @classmethod
    def setUpClass(cls):
        if shutil.which("wsl") is None:
            raise RuntimeError("Debian package wsl is not installed "
                               "(/usr/bin/wsl)")
        cls.sim = simproc.Sim("--synthetic", "3", "--items", "12",
                              "--prefix-style", cls.style, *build_dir_args(),
                              password="wslpass", https=cls.https)
        cls.dir = tempfile.mkdtemp(prefix="hvsim-wsl-")
        cls.endpoint = cls.sim.url.split("/")[2]
        if cls.https:
            shutil.copy(cls.sim.cert, os.path.join(cls.dir,
                                                   cls.endpoint + ".crt"))

    @classmethod
    def tearDownClass(cls):
        rc, out, err = cls.sim.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert rc == 0, (rc, err)

    def wsl(self, *args):
        env = dict(os.environ, HOME=self.dir, WSENDPOINT=self.endpoint,
                   WSUSER="hvuser", WSPASS="wslpass", OUTLEVEL="1")
        env.pop("WSNOSSL", None)
        if not self.https:
            env["WSNOSSL"] = "true"
        p = subprocess.run(["wsl"] + list(args), cwd=self.dir, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        out = re.sub(r"\x1b\[[0-9;]*m", "", p.stdout.decode())
        return p.returncode, out

    def saved(self, name="response.xml"):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def vm_guids(self):
        rc, out = self.wsl("enum", V2 + "/Msvm_ComputerSystem", "-opti", "2")
        self.assertEqual(rc, 0, out)
        return re.findall(r"<\w+:Name>([0-9A-F-]{36})</\w+:Name>", out)


class WslWindowsPrefixes(WslBase):
    def test_enumerate_computer_systems_in_several_pulls(self):
        rc, out = self.wsl("enum", V2 + "/Msvm_ComputerSystem", "-opti", "2")
        self.assertEqual(rc, 0, out)
        # host + 3 VMs: one in the EnumerateResponse, then Pulls of 2, 1
        self.assertEqual(out.count("Msvm_ComputerSystem_Type"), 4)
        self.assertEqual(out.count("<n:PullResponse>"), 2)
        self.assertIn("<p:Description>Microsoft Hosting Computer System"
                      "</p:Description>", out)
        self.assertEqual(out.count("<p:Caption>Virtual Machine</p:Caption>"),
                         3)
        for name in ("synth-0001", "synth-0002", "synth-0003"):
            self.assertIn("<p:ElementName>%s</p:ElementName>" % name, out)

    def test_enumerate_kvp_components_with_wql(self):
        rc, out = self.wsl(
            "enum", V2 + "/*", "-dialect", WQL, "-filter",
            "SELECT SystemName, GuestIntrinsicExchangeItems FROM "
            "Msvm_KvpExchangeComponent")
        self.assertEqual(rc, 0, out)
        # the properties a WQL SELECT names come as an XmlFragment, in no
        # namespace
        self.assertEqual(out.count("<w:XmlFragment "), 3)
        self.assertEqual(out.count("<SystemName>"), 3)
        self.assertNotIn("GuestExchangeItems>", out.replace(
            "GuestIntrinsicExchangeItems>", ""))
        self.assertIn("&lt;INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\""
                      "&gt;", out)
        self.assertIn("IntegrationServicesVersion", out)

    def test_identify(self):
        rc, out = self.wsl("identify", "check")
        self.assertEqual(rc, 0, out)
        self.assertIn("<wsmid:ProductVendor>Microsoft Corporation"
                      "</wsmid:ProductVendor>", out)
        self.assertIn("<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/"
                      "wsman/1/wsman.xsd</wsmid:ProtocolVersion>", out)

    def test_get_one_vm(self):
        guid = self.vm_guids()[1]
        rc, out = self.wsl("get", V2 + "/Msvm_ComputerSystem",
                           "CreationClassName=Msvm_ComputerSystem",
                           "Name=" + guid)
        self.assertEqual(rc, 0, out)
        self.assertIn("<p:Name>%s</p:Name>" % guid, out)
        self.assertIn("<p:ElementName>synth-0002</p:ElementName>", out)
        self.assertIn("<a:Action>http://schemas.xmlsoap.org/ws/2004/09/"
                      "transfer/GetResponse</a:Action>", out)

    def test_get_unknown_vm_is_a_fault(self):
        rc, out = self.wsl("get", V2 + "/Msvm_ComputerSystem",
                           "Name=00000000-0000-0000-0000-000000000000")
        self.assertNotEqual(rc, 0)
        self.assertIn("<s:Value>a:DestinationUnreachable</s:Value>", out)

    def test_invoke_echoes_windows_prefixes_which_are_undeclared(self):
        # wsl copies the selector lines of the EPR it enumerated into its own
        # request verbatim; with WinRM's w: prefix that XML is not
        # namespace-well-formed, and the server must refuse it.
        rc, out = self.wsl("invoke", V2 + "/Msvm_VirtualSystemManagementService",
                           "AddKvpItems", "DataItems=" + ITEM % ("k", "v"))
        self.assertNotEqual(rc, 0)
        self.assertIn("<s:Value>w:SchemaValidationError</s:Value>", out)
        self.assertIn("unbound prefix", out)


class WslAltPrefixes(WslBase):
    """With DMTF prefixes (wsa:, wsman:) wsl's invoke round trip works."""
    style = "alt"

    def test_invoke_add_kvp_items(self):
        guid = self.vm_guids()[2]
        rc, out = self.wsl(
            "enum", V2 + "/*", "-dialect", WQL, "-mode", "epr", "-filter",
            "SELECT * FROM Msvm_ComputerSystem WHERE Name='%s'" % guid)
        self.assertEqual(rc, 0, out)
        shutil.copy(os.path.join(self.dir, "response.xml"),
                    os.path.join(self.dir, "vm.xml"))
        rc, out = self.wsl("invoke", V2 + "/Msvm_VirtualSystemManagementService",
                           "AddKvpItems", "TargetSystem=FILE:vm.xml",
                           "DataItems=" + ITEM % ("hvkvp.cfg.id", "cfg-7"))
        self.assertEqual(rc, 0, out)
        self.assertIn("<n1:ReturnValue>4096</n1:ReturnValue>", out)
        job = re.search(r'<wsman:Selector Name="InstanceID">([0-9A-F-]+)<',
                        out).group(1)
        for _ in range(100):
            rc, out = self.wsl("get", V2 + "/Msvm_ConcreteJob",
                               "InstanceID=" + job)
            self.assertEqual(rc, 0, out)
            if "<n1:JobState>4</n1:JobState>" not in out:
                break
            time.sleep(0.1)
        self.assertIn("<n1:JobState>7</n1:JobState>", out)
        rc, out = self.wsl(
            "enum", V2 + "/*", "-dialect", WQL, "-filter",
            "SELECT HostExchangeItems FROM "
            "Msvm_KvpExchangeComponentSettingData")
        self.assertEqual(rc, 0, out)
        self.assertIn("&lt;VALUE&gt;hvkvp.cfg.id&lt;/VALUE&gt;", out)
        self.assertIn("&lt;VALUE&gt;cfg-7&lt;/VALUE&gt;", out)
        # the embedded item carries Source 0 (host)
        self.assertIn('NAME="Source" TYPE="uint16"&gt;&lt;VALUE&gt;0', out)

    def test_invoke_without_target_is_invalid_parameter(self):
        rc, out = self.wsl("invoke", V2 + "/Msvm_VirtualSystemManagementService",
                           "AddKvpItems", "DataItems=" + ITEM % ("k", "v"))
        self.assertEqual(rc, 0, out)
        self.assertIn("<n1:ReturnValue>32773</n1:ReturnValue>", out)


class WslHttps(WslBase):
    https = True

    def test_enumerate_over_https_with_printed_certificate(self):
        rc, out = self.wsl("enum", V2 + "/Msvm_VirtualSystemManagementService")
        self.assertEqual(rc, 0, out)
        self.assertIn("<p:Name>vmms</p:Name>", out)
        with open(os.path.join(self.dir, "log.txt")) as f:
            self.assertIn("--cacert", f.read())


if __name__ == "__main__":
    unittest.main()
