/*
 * regacl_windows.c - test helper for test_reporter_windows.py, built with
 * mingw-w64 by the test and run under Wine: takes all access away from one
 * key under HKLM\SOFTWARE\Microsoft\Virtual Machine (an empty DACL), or gives
 * it back (no DACL), so the test can check the reporter's access-denied
 * error.   regacl_windows.exe deny|allow Auto|Guest|External
 */
#include <windows.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 3 ||
      (strcmp(argv[1], "deny") != 0 && strcmp(argv[1], "allow") != 0)) {
    fprintf(stderr, "usage: regacl_windows deny|allow SUBKEY\n");
    return 2;
  }
  wchar_t path[256];
  swprintf(path, 256, L"SOFTWARE\\Microsoft\\Virtual Machine\\%hs", argv[2]);
  HKEY h;
  LONG rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, path, 0, NULL, 0,
                            WRITE_DAC | READ_CONTROL, NULL, &h, NULL);
  if (rc != ERROR_SUCCESS) {
    fprintf(stderr, "regacl_windows: opening %s: error %ld\n", argv[2],
            (long)rc);
    return 1;
  }
  SECURITY_DESCRIPTOR sd;
  ACL empty;
  InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
  InitializeAcl(&empty, sizeof(empty), ACL_REVISION);
  /* deny: a DACL without entries grants nothing; allow: no DACL at all
   * grants everything. */
  SetSecurityDescriptorDacl(
      &sd, TRUE, strcmp(argv[1], "deny") == 0 ? &empty : NULL, FALSE);
  rc = RegSetKeySecurity(h, DACL_SECURITY_INFORMATION, &sd);
  RegCloseKey(h);
  if (rc != ERROR_SUCCESS) {
    fprintf(stderr, "regacl_windows: setting the DACL of %s: error %ld\n",
            argv[2], (long)rc);
    return 1;
  }
  return 0;
}
