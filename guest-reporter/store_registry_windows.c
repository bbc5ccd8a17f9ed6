/*
 * store_registry_windows.c - the Windows KVP store: the Hyper-V data
 * exchange keys under HKLM\SOFTWARE\Microsoft\Virtual Machine. The reporter
 * publishes REG_SZ values to "Auto" (-> GuestIntrinsicExchangeItems, the
 * default) or "Guest" (-> GuestExchangeItems) and reads host-pushed
 * configuration from "External". Names and data go through the wide-char
 * API (UTF-8 <-> UTF-16). Only values whose name starts with "PREFIX." are
 * ever read back, written or deleted; everything else in the keys belongs
 * to Windows or to other programs.
 */
#include "store.h"

#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGSTORE_BASE L"SOFTWARE\\Microsoft\\Virtual Machine"
#define REGSTORE_BASE_TEXT "HKLM\\SOFTWARE\\Microsoft\\Virtual Machine"
/* Longest registry value name (characters, without the NUL). */
#define REGSTORE_NAME_MAX 16383
/* Data buffer: a value of HVKVP_VALUE_LEN - 1 UTF-8 bytes never needs more
 * UTF-16 units than that, plus the NUL. Anything larger is over the limit. */
#define REGSTORE_DATA_UNITS HVKVP_VALUE_LEN
/* Pushed settings read at most (PREFIX.cfg.* values in External). */
#define REGSTORE_MAX_CONFIG_ITEMS 256

typedef struct {
  hvkvp_store_t base;      /* first: the store.h view */
  HKEY pub;                /* Auto or Guest, opened for read and write; NULL
                              until the key exists (created by the first publish,
                              so a dry run creates nothing) */
  const wchar_t *pub_path; /* under HKLM */
  char pub_name[8];        /* "Auto" / "Guest" */
  wchar_t *name_buf;       /* REGSTORE_NAME_MAX + 1 units */
  wchar_t *data_buf;       /* REGSTORE_DATA_UNITS units */
} regstore_t;

/* Writes "what: <system message> (error N)" into err. */
static void regstore_err(char *err, size_t errlen, LONG code, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

static void regstore_err(char *err, size_t errlen, LONG code, const char *fmt,
                         ...) {
  if (err == NULL || errlen == 0)
    return;
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  char sys[256] = "";
  wchar_t wsys[256];
  DWORD n = FormatMessageW(
      FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
      (DWORD)code, 0, wsys, (DWORD)(sizeof(wsys) / sizeof(wsys[0])), NULL);
  if (n > 0) {
    while (n > 0 && (wsys[n - 1] == L'\r' || wsys[n - 1] == L'\n' ||
                     wsys[n - 1] == L' ' || wsys[n - 1] == L'.'))
      n--;
    int k = WideCharToMultiByte(CP_UTF8, 0, wsys, (int)n, sys,
                                (int)sizeof(sys) - 1, NULL, NULL);
    sys[k > 0 ? k : 0] = '\0';
  }
  if (code == ERROR_ACCESS_DENIED)
    snprintf(err, errlen,
             "%s: access denied (error 5): run the reporter as "
             "Administrator or LocalSystem",
             what);
  else
    snprintf(err, errlen, "%s: %s (error %ld)", what,
             sys[0] != '\0' ? sys : "unknown error", (long)code);
}

/* UTF-8 -> newly allocated UTF-16; NULL on invalid UTF-8 or no memory. */
static wchar_t *regstore_wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0)
    return NULL;
  wchar_t *w = malloc((size_t)n * sizeof(wchar_t));
  if (w == NULL)
    return NULL;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
    free(w);
    return NULL;
  }
  return w;
}

/* UTF-16 (nunits, no NUL needed) -> UTF-8 into buf of bufsz bytes. Returns
 * the byte length, or -1 if it is invalid UTF-16 or does not fit. */
static int regstore_utf8(const wchar_t *w, int nunits, char *buf,
                         size_t bufsz) {
  if (nunits == 0) {
    buf[0] = '\0';
    return 0;
  }
  int need = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, nunits, NULL,
                                 0, NULL, NULL);
  if (need <= 0 || (size_t)need >= bufsz)
    return -1;
  int k = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, nunits, buf,
                              need, NULL, NULL);
  if (k != need)
    return -1;
  buf[k] = '\0';
  return k;
}

/* Units of a REG_SZ payload of cb bytes, without trailing NULs. */
static int regstore_sz_units(const wchar_t *data, DWORD cb) {
  int n = (int)(cb / sizeof(wchar_t));
  while (n > 0 && data[n - 1] == L'\0')
    n--;
  return n;
}

/* Reads every value of key h whose UTF-8 name starts with `match` into out.
 * strict = 0 (own items): a value over the size limit, of another type or
 * not valid UTF-16 is listed with an empty value, so the encoder sees it and
 * deletes it. strict = 1 (pushed configuration): such a value, or more than
 * REGSTORE_MAX_CONFIG_ITEMS matching values, is an error that names it. */
static int regstore_read_matching(regstore_t *rs, HKEY h, const char *keyname,
                                  const char *match, int strict,
                                  hvkvp_items_t *out, char *err,
                                  size_t errlen) {
  size_t mlen = strlen(match);
  char name[HVKVP_KEY_LEN];
  char value[HVKVP_VALUE_LEN];
  for (DWORD i = 0;; i++) {
    DWORD nlen = REGSTORE_NAME_MAX + 1;
    DWORD type = 0;
    DWORD cb = REGSTORE_DATA_UNITS * sizeof(wchar_t);
    LONG rc = RegEnumValueW(h, i, rs->name_buf, &nlen, NULL, &type,
                            (BYTE *)rs->data_buf, &cb);
    int too_big = 0;
    if (rc == ERROR_NO_MORE_ITEMS)
      return 0;
    if (rc == ERROR_MORE_DATA) {
      /* The name buffer holds any name: the data is over the limit. Fetch
       * the name alone. */
      too_big = 1;
      nlen = REGSTORE_NAME_MAX + 1;
      rc = RegEnumValueW(h, i, rs->name_buf, &nlen, NULL, &type, NULL, NULL);
    }
    if (rc != ERROR_SUCCESS) {
      regstore_err(err, errlen, rc, "reading the values of %s\\%s",
                   REGSTORE_BASE_TEXT, keyname);
      return -1;
    }
    /* Names that are not valid UTF-16 or too long are not ours: ours are
     * ASCII and short. */
    if (regstore_utf8(rs->name_buf, (int)nlen, name, sizeof(name)) < 0)
      continue;
    if (strncmp(name, match, mlen) != 0)
      continue;
    const char *bad = NULL;
    if (too_big)
      bad = "is longer than the limit of 2047 bytes";
    else if (type != REG_SZ && type != REG_EXPAND_SZ)
      bad = "is not a string (REG_SZ)";
    else if (regstore_utf8(rs->data_buf, regstore_sz_units(rs->data_buf, cb),
                           value, sizeof(value)) < 0)
      bad = "is not valid UTF-16 or is longer than the limit of 2047 bytes";
    if (strict && out->n >= REGSTORE_MAX_CONFIG_ITEMS) {
      snprintf(err, errlen, "%s\\%s: more than %d '%s*' values",
               REGSTORE_BASE_TEXT, keyname, REGSTORE_MAX_CONFIG_ITEMS, match);
      return -1;
    }
    if (bad != NULL) {
      if (strict) {
        snprintf(err, errlen, "%s\\%s value '%s' %s", REGSTORE_BASE_TEXT,
                 keyname, name, bad);
        return -1;
      }
      value[0] = '\0';
    }
    if (hvkvp_items_set(out, name, value) != 0) {
      snprintf(err, errlen, "out of memory reading %s\\%s", REGSTORE_BASE_TEXT,
               keyname);
      return -1;
    }
  }
}

static int regstore_prefix_ok(const char *prefix, char *err, size_t errlen) {
  if (prefix == NULL || prefix[0] == '\0' ||
      strlen(prefix) >= HVKVP_PREFIX_LEN) {
    snprintf(err, errlen, "registry store: invalid item prefix");
    return -1;
  }
  return 0;
}

/* Opens the publish key if it exists (create = 0) or opens or creates it
 * (create = 1). 0 with rs->pub set, 0 with rs->pub NULL when the key does not
 * exist and create = 0, -1 with err. */
static int regstore_pub_key(regstore_t *rs, int create, char *err,
                            size_t errlen) {
  if (rs->pub != NULL)
    return 0;
  const REGSAM sam = KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_WOW64_64KEY;
  HKEY h = NULL;
  LONG rc;
  if (create)
    rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, rs->pub_path, 0, NULL,
                         REG_OPTION_NON_VOLATILE, sam, NULL, &h, NULL);
  else
    rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, rs->pub_path, 0, sam, &h);
  if (rc == ERROR_FILE_NOT_FOUND && !create)
    return 0;
  if (rc != ERROR_SUCCESS) {
    regstore_err(err, errlen, rc, "%s %s\\%s",
                 create ? "opening or creating" : "opening", REGSTORE_BASE_TEXT,
                 rs->pub_name);
    return -1;
  }
  rs->pub = h;
  return 0;
}

static int regstore_read_own(hvkvp_store_t *s, const char *prefix,
                             hvkvp_items_t *out, char *err, size_t errlen) {
  regstore_t *rs = (regstore_t *)s;
  hvkvp_items_init(out);
  if (regstore_prefix_ok(prefix, err, errlen) != 0)
    return -1;
  char match[HVKVP_PREFIX_LEN + 1];
  snprintf(match, sizeof(match), "%s.", prefix);
  if (regstore_pub_key(rs, 0, err, errlen) != 0)
    return -1;
  if (rs->pub == NULL)
    return 0; /* no key yet: nothing of ours */
  if (regstore_read_matching(rs, rs->pub, rs->pub_name, match, 0, out, err,
                             errlen) != 0) {
    hvkvp_items_free(out);
    return -1;
  }
  return 0;
}

static int regstore_read_config(hvkvp_store_t *s, const char *prefix,
                                hvkvp_items_t *out, char *err, size_t errlen) {
  regstore_t *rs = (regstore_t *)s;
  hvkvp_items_init(out);
  if (regstore_prefix_ok(prefix, err, errlen) != 0)
    return -1;
  char match[HVKVP_PREFIX_LEN + 8];
  snprintf(match, sizeof(match), "%s.cfg.", prefix);
  HKEY ext;
  LONG rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, REGSTORE_BASE L"\\External", 0,
                          KEY_QUERY_VALUE | KEY_WOW64_64KEY, &ext);
  if (rc == ERROR_FILE_NOT_FOUND)
    return 0; /* nothing pushed yet (or not a Hyper-V guest) */
  if (rc != ERROR_SUCCESS) {
    regstore_err(err, errlen, rc, "opening %s\\External", REGSTORE_BASE_TEXT);
    return -1;
  }
  int r =
      regstore_read_matching(rs, ext, "External", match, 1, out, err, errlen);
  RegCloseKey(ext);
  if (r != 0)
    hvkvp_items_free(out);
  return r;
}

static int regstore_set(regstore_t *rs, const char *key, const char *value,
                        char *err, size_t errlen) {
  wchar_t *wk = regstore_wide(key);
  wchar_t *wv = regstore_wide(value);
  if (wk == NULL || wv == NULL) {
    free(wk);
    free(wv);
    snprintf(err, errlen, "registry store: item '%s' is not valid UTF-8", key);
    return -1;
  }
  DWORD cb = (DWORD)((wcslen(wv) + 1) * sizeof(wchar_t));
  LONG rc = RegSetValueExW(rs->pub, wk, 0, REG_SZ, (const BYTE *)wv, cb);
  free(wk);
  free(wv);
  if (rc != ERROR_SUCCESS) {
    regstore_err(err, errlen, rc, "writing %s\\%s value '%s'",
                 REGSTORE_BASE_TEXT, rs->pub_name, key);
    return -1;
  }
  return 0;
}

static int regstore_delete(regstore_t *rs, const char *key, char *err,
                           size_t errlen) {
  wchar_t *wk = regstore_wide(key);
  if (wk == NULL) {
    snprintf(err, errlen, "registry store: item '%s' is not valid UTF-8", key);
    return -1;
  }
  LONG rc = RegDeleteValueW(rs->pub, wk);
  free(wk);
  if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
    regstore_err(err, errlen, rc, "deleting %s\\%s value '%s'",
                 REGSTORE_BASE_TEXT, rs->pub_name, key);
    return -1;
  }
  return 0;
}

/* The frame's head key is "PREFIX.head"; every key the frame names must
 * start with "PREFIX." so that a bad frame can never touch foreign values.
 * Returns the length of "PREFIX." or 0. */
static size_t regstore_frame_prefix(const hvkvp_frame_t *f, char *err,
                                    size_t errlen) {
  static const char head[] = "head";
  if (f->put.n == 0) {
    snprintf(err, errlen, "registry store: frame without a head item");
    return 0;
  }
  const char *hk = f->put.v[f->put.n - 1].key;
  size_t hl = strlen(hk);
  size_t tl = sizeof(head) - 1;
  if (hl < tl + 2 || strcmp(hk + hl - tl, head) != 0 ||
      hk[hl - tl - 1] != '.') {
    snprintf(err, errlen,
             "registry store: last frame item '%s' is not PREFIX.head", hk);
    return 0;
  }
  size_t pl = hl - tl; /* includes the dot */
  for (size_t i = 0; i < f->put.n; i++)
    if (strncmp(f->put.v[i].key, hk, pl) != 0) {
      snprintf(err, errlen, "registry store: item '%s' is outside '%.*s'",
               f->put.v[i].key, (int)pl, hk);
      return 0;
    }
  for (size_t i = 0; i < f->n_del; i++)
    if (strncmp(f->del[i], hk, pl) != 0) {
      snprintf(err, errlen,
               "registry store: refusing to delete '%s' outside '%.*s'",
               f->del[i], (int)pl, hk);
      return 0;
    }
  return pl;
}

static int regstore_publish(hvkvp_store_t *s, const hvkvp_frame_t *f, char *err,
                            size_t errlen) {
  regstore_t *rs = (regstore_t *)s;
  if (regstore_frame_prefix(f, err, errlen) == 0)
    return -1;
  if (regstore_pub_key(rs, 1, err, errlen) != 0)
    return -1;
  for (size_t i = 0; i + 1 < f->put.n; i++)
    if (regstore_set(rs, f->put.v[i].key, f->put.v[i].value, err, errlen) != 0)
      return -1;
  for (size_t i = 0; i < f->n_del; i++)
    if (regstore_delete(rs, f->del[i], err, errlen) != 0)
      return -1;
  const hvkvp_item_t *h = &f->put.v[f->put.n - 1];
  if (regstore_set(rs, h->key, h->value, err, errlen) != 0)
    return -1;
  for (size_t i = 0; i < f->n_after; i++) /* the old slot, no longer named */
    if (regstore_delete(rs, f->after[i], err, errlen) != 0)
      return -1;
  return 0;
}

static int regstore_unpublish(hvkvp_store_t *s, const char *prefix, char *err,
                              size_t errlen) {
  regstore_t *rs = (regstore_t *)s;
  hvkvp_items_t own;
  if (regstore_read_own(s, prefix, &own, err, errlen) != 0)
    return -1;
  char head[HVKVP_PREFIX_LEN + 8];
  snprintf(head, sizeof(head), "%s.head", prefix);
  int rc = 0;
  /* The head first (pass 0), then the chunks and anything else of ours. */
  for (int pass = 0; pass < 2 && rc == 0; pass++)
    for (size_t i = 0; i < own.n && rc == 0; i++)
      if ((strcmp(own.v[i].key, head) == 0) == (pass == 0))
        rc = regstore_delete(rs, own.v[i].key, err, errlen);
  hvkvp_items_free(&own);
  return rc;
}

static void regstore_close(hvkvp_store_t *s) {
  regstore_t *rs = (regstore_t *)s;
  if (rs == NULL)
    return;
  if (rs->pub != NULL)
    RegCloseKey(rs->pub);
  free(rs->name_buf);
  free(rs->data_buf);
  free(rs);
}

hvkvp_store_t *store_registry_open(const char *subkey, char *err,
                                   size_t errlen) {
  const wchar_t *wsub;
  if (subkey == NULL || subkey[0] == '\0' || strcmp(subkey, "Auto") == 0) {
    subkey = "Auto";
    wsub = REGSTORE_BASE L"\\Auto";
  } else if (strcmp(subkey, "Guest") == 0) {
    wsub = REGSTORE_BASE L"\\Guest";
  } else {
    snprintf(err, errlen,
             "registry store: unknown key '%s' (use Auto or Guest)", subkey);
    return NULL;
  }
  regstore_t *rs = calloc(1, sizeof(*rs));
  if (rs == NULL) {
    snprintf(err, errlen, "registry store: out of memory");
    return NULL;
  }
  rs->name_buf = malloc((REGSTORE_NAME_MAX + 1) * sizeof(wchar_t));
  rs->data_buf = malloc(REGSTORE_DATA_UNITS * sizeof(wchar_t));
  if (rs->name_buf == NULL || rs->data_buf == NULL) {
    regstore_close(&rs->base);
    snprintf(err, errlen, "registry store: out of memory");
    return NULL;
  }
  snprintf(rs->pub_name, sizeof(rs->pub_name), "%s", subkey);
  rs->pub_path = wsub;
  /* An existing key is opened now, so that missing rights show at start. */
  if (regstore_pub_key(rs, 0, err, errlen) != 0) {
    regstore_close(&rs->base);
    return NULL;
  }
  rs->base.kind = "registry";
  rs->base.read_own = regstore_read_own;
  rs->base.unpublish = regstore_unpublish;
  rs->base.publish = regstore_publish;
  rs->base.read_config = regstore_read_config;
  rs->base.close = regstore_close;
  return &rs->base;
}
