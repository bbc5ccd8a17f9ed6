"""hvsimlib: the Hyper-V host simulator (contrib/hvsim/hvsim) as a package,
one module per purpose:

  cli            the command line: arguments and --config -> Settings, main()
  startup        builds, announces, serves and stops a simulator
  httpserver     HTTP(S), Basic auth, /wsman with fault injection
  admin          the /hvsim/ admin API and request statistics
  gss            Kerberos / Negotiate / NTLM and MS-WSMV message sealing
  fault_injection  fault rules (--config, POST /hvsim/faults)
  request        parsing WS-Man requests
  endpoint       Get, Invoke (KVP methods), Identify; dispatch
  enumeration    Enumerate / Pull / Release, contexts, WQL, pages
  wql            the WQL subset
  soap           namespaces, prefixes, escaping, envelopes
  wsman_faults   SOAP faults as WinRM renders them, and their catalogue
  render         WMI instances and EPRs as WinRM renders them
  classes        the WMI classes served and their properties
  kvp_items      embedded Msvm_KvpExchangeDataItem (CIM-XML) items
  model, vm, jobs  the simulated host, its VMs and its jobs
  synthetic, codec   synthetic guests and how they frame their messages
  guests         real guests: linux_guest (hv_kvp_daemon behind vmbus,
                 kvp_msg), windows_guest (a Wine registry, wine)
  client, simproc  a raw WS-Man client and a process runner for tests
"""
