/*
 * hvsim-winreg.c: registry helper for the Hyper-V simulator's Windows
 * guests (contrib/hvsim/hvsimlib/windows_guest.py). A mingw-w64 console
 * program that runs under Wine for a simulated VM's lifetime and reads and
 * writes HKLM\SOFTWARE\Microsoft\Virtual Machine\<subkey> with the Win32
 * wide-char registry API, so the simulator need not start `wine reg` per
 * poll.
 *
 * Protocol, on stdin/stdout, one line per request and per answer line,
 * terminated by LF (a CR before it is ignored). Fields are separated by one
 * space; every field is UTF-8, percent-encoded: "%XX" stands for the byte
 * 0xXX, every other byte stands for itself (the helper escapes every byte
 * but [A-Za-z0-9._~-] when it writes). Names and subkeys are never empty; a
 * missing trailing value field means the empty string. <subkey> is relative
 * to HKLM\SOFTWARE\Microsoft\Virtual Machine (e.g. "Auto",
 * "Guest%5CParameters").
 *
 *   at start                 -> READY hvsim-winreg 1
 *   PING                     -> OK
 *   MKKEY <subkey>           -> OK                    (creates the key)
 *   LIST <subkey>            -> ITEM <name> [<value>] per value, then
 *                               OK <count> <skipped>  (values of other types
 *                               than REG_SZ, REG_EXPAND_SZ, REG_DWORD,
 *                               REG_QWORD are counted in <skipped>)
 *   GET <subkey> <name>      -> OK [<value>]
 *   SET <subkey> <name> [<value>] -> OK               (REG_SZ; creates key)
 *   DEL <subkey> <name>      -> OK
 *   QUIT                     -> OK, then the program exits with status 0
 *   any failure              -> ERR <win32 error code> <message>
 * A missing key or value is ERR 2 (ERROR_FILE_NOT_FOUND). End of input ends
 * the program. Request lines longer than HVSIM_LINE_MAX are refused.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define HVSIM_LINE_MAX (64 * 1024)
#define HVSIM_FIELDS_MAX 4
#define HVSIM_ROOT L"SOFTWARE\\Microsoft\\Virtual Machine\\"
#define HVSIM_LIST_RETRIES 5

/* A growable output buffer; one answer is written with one WriteFile. */
typedef struct {
  char *data;
  size_t len, cap;
  int failed;
} hvsim_buf;

static void hvsim_buf_add(hvsim_buf *b, const char *s, size_t n) {
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->len + n + 1)
      cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) {
      b->failed = 1;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void hvsim_buf_str(hvsim_buf *b, const char *s) {
  hvsim_buf_add(b, s, strlen(s));
}

/* Appends " " + the percent-encoded bytes. */
static void hvsim_buf_field(hvsim_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  hvsim_buf_add(b, " ", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
        c == '-') {
      hvsim_buf_add(b, (const char *)&c, 1);
    } else {
      char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
      hvsim_buf_add(b, esc, 3);
    }
  }
}

static int hvsim_write_all(const char *data, size_t len) {
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  while (len > 0) {
    DWORD chunk = len > 65536 ? 65536 : (DWORD)len, done = 0;
    if (!WriteFile(out, data, chunk, &done, NULL) || done == 0)
      return -1;
    data += done;
    len -= done;
  }
  return 0;
}

/* UTF-16 (n units) -> UTF-8 appended as a field. */
static int hvsim_buf_wfield(hvsim_buf *b, const wchar_t *w, int n) {
  int len;
  char *s;
  if (n == 0) {
    hvsim_buf_field(b, "", 0);
    return 0;
  }
  len = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
  if (len <= 0)
    return -1;
  s = malloc((size_t)len);
  if (s == NULL)
    return -1;
  WideCharToMultiByte(CP_UTF8, 0, w, n, s, len, NULL, NULL);
  hvsim_buf_field(b, s, (size_t)len);
  free(s);
  return 0;
}

static void hvsim_error(hvsim_buf *b, DWORD code, const char *what) {
  char num[32];
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
  snprintf(num, sizeof(num), "ERR %lu", (unsigned long)code);
  hvsim_buf_str(b, num);
  hvsim_buf_field(b, what, strlen(what));
  hvsim_buf_str(b, "\n");
}

/* Decodes one percent-encoded field in place; returns -1 on a bad escape. */
static int hvsim_unescape(char *s, size_t *out_len) {
  char *r = s, *w = s;
  while (*r) {
    if (*r == '%') {
      int hi, lo;
      char h[3] = {r[1], r[1] ? r[2] : '\0', '\0'};
      if (h[0] == '\0' || h[1] == '\0')
        return -1;
      hi = (h[0] >= '0' && h[0] <= '9')   ? h[0] - '0'
           : (h[0] >= 'A' && h[0] <= 'F') ? h[0] - 'A' + 10
           : (h[0] >= 'a' && h[0] <= 'f') ? h[0] - 'a' + 10
                                          : -1;
      lo = (h[1] >= '0' && h[1] <= '9')   ? h[1] - '0'
           : (h[1] >= 'A' && h[1] <= 'F') ? h[1] - 'A' + 10
           : (h[1] >= 'a' && h[1] <= 'f') ? h[1] - 'a' + 10
                                          : -1;
      if (hi < 0 || lo < 0)
        return -1;
      *w++ = (char)(hi * 16 + lo);
      r += 3;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  *out_len = (size_t)(w - s);
  return 0;
}

/* UTF-8 (n bytes, no NUL inside) -> newly allocated NUL-terminated UTF-16
 * with an optional prefix; NULL on invalid UTF-8 or an embedded NUL. */
static wchar_t *hvsim_wide(const wchar_t *prefix, const char *s, size_t n) {
  size_t plen = prefix ? wcslen(prefix) : 0;
  int len = 0;
  wchar_t *w;
  if (memchr(s, '\0', n) != NULL || n > HVSIM_LINE_MAX)
    return NULL;
  if (n > 0) {
    len =
        MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n, NULL, 0);
    if (len <= 0)
      return NULL;
  }
  w = malloc((plen + (size_t)len + 1) * sizeof(wchar_t));
  if (w == NULL)
    return NULL;
  if (plen)
    memcpy(w, prefix, plen * sizeof(wchar_t));
  if (n > 0)
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n, w + plen,
                        len);
  w[plen + (size_t)len] = L'\0';
  return w;
}

static LONG hvsim_open(const wchar_t *path, int create, REGSAM sam, HKEY *key) {
  if (create)
    return RegCreateKeyExW(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, sam, NULL, key,
                           NULL);
  return RegOpenKeyExW(HKEY_LOCAL_MACHINE, path, 0, sam, key);
}

/* Appends the value's text (REG_SZ/EXPAND_SZ/DWORD/QWORD) as a field;
 * returns 1 if the type is not one of those. */
static int hvsim_value_field(hvsim_buf *b, DWORD type, const BYTE *data,
                             DWORD size) {
  char num[32];
  if (type == REG_SZ || type == REG_EXPAND_SZ) {
    const wchar_t *w = (const wchar_t *)data;
    int n = (int)(size / sizeof(wchar_t));
    while (n > 0 && w[n - 1] == L'\0')
      n--;
    if (n > 0 && hvsim_buf_wfield(b, w, n) != 0)
      b->failed = 1;
    return 0;
  }
  if (type == REG_DWORD && size >= 4) {
    DWORD v;
    memcpy(&v, data, 4);
    snprintf(num, sizeof(num), "%lu", (unsigned long)v);
    hvsim_buf_field(b, num, strlen(num));
    return 0;
  }
  if (type == REG_QWORD && size >= 8) {
    unsigned long long v;
    memcpy(&v, data, 8);
    snprintf(num, sizeof(num), "%llu", v);
    hvsim_buf_field(b, num, strlen(num));
    return 0;
  }
  return 1;
}

static void hvsim_list(hvsim_buf *b, const wchar_t *path) {
  HKEY key;
  LONG rc = hvsim_open(path, 0, KEY_READ, &key);
  int attempt;
  if (rc != ERROR_SUCCESS) {
    hvsim_error(b, (DWORD)rc, "cannot open the key");
    return;
  }
  for (attempt = 0; attempt < HVSIM_LIST_RETRIES; attempt++) {
    DWORD max_name = 0, max_data = 0, i, count = 0, skipped = 0;
    wchar_t *name;
    BYTE *data;
    char tail[64];
    b->len = 0;
    rc = RegQueryInfoKeyW(key, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                          &max_name, &max_data, NULL, NULL);
    if (rc != ERROR_SUCCESS)
      break;
    name = malloc((max_name + 2) * sizeof(wchar_t));
    data = malloc(max_data + 2 * sizeof(wchar_t));
    if (name == NULL || data == NULL) {
      free(name);
      free(data);
      rc = ERROR_NOT_ENOUGH_MEMORY;
      break;
    }
    for (i = 0;; i++) {
      DWORD nlen = max_name + 1, dlen = max_data, type = 0;
      rc = RegEnumValueW(key, i, name, &nlen, NULL, &type, data, &dlen);
      if (rc != ERROR_SUCCESS)
        break;
      if (nlen == 0) { /* the unnamed default value is no KVP item */
        skipped++;
        continue;
      }
      hvsim_buf_str(b, "ITEM");
      if (hvsim_buf_wfield(b, name, (int)nlen) != 0) {
        rc = ERROR_INVALID_DATA;
        break;
      }
      if (hvsim_value_field(b, type, data, dlen)) {
        /* Drop the half-written line of an unsupported type. */
        while (b->len > 0 && b->data[b->len - 1] != '\n')
          b->len--;
        skipped++;
        continue;
      }
      hvsim_buf_str(b, "\n");
      count++;
    }
    free(name);
    free(data);
    if (rc == ERROR_MORE_DATA)
      continue; /* a value grew while we listed: list again */
    if (rc == ERROR_NO_MORE_ITEMS) {
      snprintf(tail, sizeof(tail), "OK %lu %lu\n", (unsigned long)count,
               (unsigned long)skipped);
      hvsim_buf_str(b, tail);
      RegCloseKey(key);
      return;
    }
    break;
  }
  RegCloseKey(key);
  hvsim_error(b, (DWORD)rc, "cannot list the key");
}

static void hvsim_get(hvsim_buf *b, const wchar_t *path, const wchar_t *name) {
  HKEY key;
  DWORD type = 0, size = 0;
  BYTE *data;
  LONG rc = hvsim_open(path, 0, KEY_READ, &key);
  if (rc != ERROR_SUCCESS) {
    hvsim_error(b, (DWORD)rc, "cannot open the key");
    return;
  }
  for (;;) {
    rc = RegQueryValueExW(key, name, NULL, &type, NULL, &size);
    if (rc != ERROR_SUCCESS)
      break;
    data = malloc(size + 2 * sizeof(wchar_t));
    if (data == NULL) {
      rc = ERROR_NOT_ENOUGH_MEMORY;
      break;
    }
    rc = RegQueryValueExW(key, name, NULL, &type, data, &size);
    if (rc == ERROR_SUCCESS) {
      hvsim_buf_str(b, "OK");
      if (hvsim_value_field(b, type, data, size))
        rc = ERROR_UNSUPPORTED_TYPE;
      else
        hvsim_buf_str(b, "\n");
    }
    free(data);
    if (rc != ERROR_MORE_DATA)
      break;
    b->len = 0;
  }
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS)
    hvsim_error(b, (DWORD)rc, "cannot read the value");
}

static void hvsim_set(hvsim_buf *b, const wchar_t *path, const wchar_t *name,
                      const wchar_t *value) {
  HKEY key;
  LONG rc = hvsim_open(path, 1, KEY_SET_VALUE, &key);
  if (rc != ERROR_SUCCESS) {
    hvsim_error(b, (DWORD)rc, "cannot create the key");
    return;
  }
  rc = RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value,
                      (DWORD)((wcslen(value) + 1) * sizeof(wchar_t)));
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS)
    hvsim_error(b, (DWORD)rc, "cannot set the value");
  else
    hvsim_buf_str(b, "OK\n");
}

static void hvsim_del(hvsim_buf *b, const wchar_t *path, const wchar_t *name) {
  HKEY key;
  LONG rc = hvsim_open(path, 0, KEY_SET_VALUE, &key);
  if (rc != ERROR_SUCCESS) {
    hvsim_error(b, (DWORD)rc, "cannot open the key");
    return;
  }
  rc = RegDeleteValueW(key, name);
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS)
    hvsim_error(b, (DWORD)rc, "cannot delete the value");
  else
    hvsim_buf_str(b, "OK\n");
}

static void hvsim_mkkey(hvsim_buf *b, const wchar_t *path) {
  HKEY key;
  LONG rc = hvsim_open(path, 1, KEY_READ, &key);
  if (rc != ERROR_SUCCESS) {
    hvsim_error(b, (DWORD)rc, "cannot create the key");
    return;
  }
  RegCloseKey(key);
  hvsim_buf_str(b, "OK\n");
}

/* Runs one request line; returns 1 when the program should exit. */
static int hvsim_request(hvsim_buf *b, char *line) {
  char *f[HVSIM_FIELDS_MAX + 1];
  size_t flen[HVSIM_FIELDS_MAX + 1];
  int nf = 0, i, quit = 0;
  wchar_t *path = NULL, *name = NULL, *value = NULL;
  char *p = line;

  for (;;) {
    char *sp = strchr(p, ' ');
    if (nf > HVSIM_FIELDS_MAX) {
      hvsim_error(b, ERROR_INVALID_PARAMETER, "too many fields");
      return 0;
    }
    f[nf++] = p;
    if (sp == NULL)
      break;
    *sp = '\0';
    p = sp + 1;
  }
  for (i = 1; i < nf; i++) {
    if (hvsim_unescape(f[i], &flen[i]) != 0) {
      hvsim_error(b, ERROR_INVALID_PARAMETER, "bad %-escape in a field");
      return 0;
    }
  }
  if (nf >= 2) {
    if (flen[1] == 0 ||
        (path = hvsim_wide(HVSIM_ROOT, f[1], flen[1])) == NULL) {
      hvsim_error(b, ERROR_INVALID_PARAMETER,
                  "subkey is empty or not valid UTF-8");
      goto out;
    }
  }
  if (nf >= 3) {
    if (flen[2] == 0 || (name = hvsim_wide(NULL, f[2], flen[2])) == NULL) {
      hvsim_error(b, ERROR_INVALID_PARAMETER,
                  "name is empty or not valid UTF-8");
      goto out;
    }
  }
  if (nf >= 4 && (value = hvsim_wide(NULL, f[3], flen[3])) == NULL) {
    hvsim_error(b, ERROR_INVALID_PARAMETER,
                "value is not valid UTF-8 or holds a NUL");
    goto out;
  }

  if (strcmp(f[0], "PING") == 0 && nf == 1) {
    hvsim_buf_str(b, "OK\n");
  } else if (strcmp(f[0], "QUIT") == 0 && nf == 1) {
    hvsim_buf_str(b, "OK\n");
    quit = 1;
  } else if (strcmp(f[0], "MKKEY") == 0 && nf == 2) {
    hvsim_mkkey(b, path);
  } else if (strcmp(f[0], "LIST") == 0 && nf == 2) {
    hvsim_list(b, path);
  } else if (strcmp(f[0], "GET") == 0 && nf == 3) {
    hvsim_get(b, path, name);
  } else if (strcmp(f[0], "SET") == 0 && (nf == 3 || nf == 4)) {
    hvsim_set(b, path, name, value ? value : L"");
  } else if (strcmp(f[0], "DEL") == 0 && nf == 3) {
    hvsim_del(b, path, name);
  } else {
    hvsim_error(b, ERROR_INVALID_FUNCTION,
                "unknown command or wrong number of fields");
  }
out:
  free(path);
  free(name);
  free(value);
  return quit;
}

int wmain(int argc, wchar_t **argv);

int wmain(int argc, wchar_t **argv) {
  static char line[HVSIM_LINE_MAX + 1];
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  size_t used = 0;
  int discarding = 0;
  hvsim_buf b = {NULL, 0, 0, 0};
  static const char ready[] = "READY hvsim-winreg 1\n";

  if (argc > 1) {
    fwprintf(stderr, L"usage: %ls (line commands on stdin; see source)\n",
             argv[0]);
    return 2;
  }
  if (hvsim_write_all(ready, sizeof(ready) - 1) != 0)
    return 1;
  for (;;) {
    DWORD got = 0;
    char *nl;
    if (used >= HVSIM_LINE_MAX) { /* over-long line: refuse it */
      used = 0;
      discarding = 1;
    }
    if (!ReadFile(in, line + used, (DWORD)(HVSIM_LINE_MAX - used), &got,
                  NULL) ||
        got == 0)
      break; /* end of input */
    used += got;
    line[used] = '\0';
    while ((nl = memchr(line, '\n', used)) != NULL) {
      size_t n = (size_t)(nl - line);
      int quit = 0;
      int has_nul = memchr(line, '\0', n) != NULL;
      *nl = '\0';
      if (n > 0 && line[n - 1] == '\r')
        line[n - 1] = '\0';
      b.len = 0;
      if (discarding) {
        hvsim_error(&b, ERROR_INVALID_PARAMETER, "request line too long");
        discarding = 0;
      } else if (has_nul) {
        hvsim_error(&b, ERROR_INVALID_PARAMETER, "NUL byte in request line");
      } else {
        quit = hvsim_request(&b, line);
      }
      if (b.failed) { /* out of memory: no answer can be written */
        fwprintf(stderr, L"hvsim-winreg: out of memory\n");
        return 1;
      }
      if (hvsim_write_all(b.data, b.len) != 0)
        return 1;
      memmove(line, nl + 1, used - n - 1);
      used -= n + 1;
      line[used] = '\0';
      if (quit) {
        free(b.data);
        return 0;
      }
    }
  }
  free(b.data);
  return 0;
}
