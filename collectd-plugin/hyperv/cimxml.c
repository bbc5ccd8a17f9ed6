/*
 * cimxml.c - decoder and encoder for embedded Msvm_KvpExchangeDataItem
 * instances (rules in cimxml.h). The decoder walks the string once, copies
 * only the Name, Data and Source values, and allocates nothing.
 */
#include "cimxml.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const char *p, *end;
  ws_err_t *err;
} cimx_in_t;

enum { PROP_OTHER = 0, PROP_NAME, PROP_DATA, PROP_SOURCE };

static cimx_rc_t cimx_fail(cimx_in_t *in, cimx_rc_t rc, const char *what) {
  ws_err_set(in->err, WS_ERR_PARSE, "%s", what);
  if (in->err != NULL)
    in->err->code = (uint32_t)rc;
  return rc;
}

static int cimx_is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void cimx_skip_ws(cimx_in_t *in) {
  while (in->p < in->end && cimx_is_ws(*in->p))
    in->p++;
}

static int cimx_name_start(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         c == ':' || c >= 0x80;
}

static int cimx_name_char(unsigned char c) {
  return cimx_name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* Reads an XML name; returns its length (0 if none). */
static size_t cimx_read_name(cimx_in_t *in, const char **name) {
  const char *s = in->p;
  if (s >= in->end || !cimx_name_start((unsigned char)*s))
    return 0;
  while (in->p < in->end && cimx_name_char((unsigned char)*in->p))
    in->p++;
  *name = s;
  return (size_t)(in->p - s);
}

static inline int cimx_eq(const char *s, size_t n, const char *lit) {
  size_t l = __builtin_strlen(lit);
  return n == l && memcmp(s, lit, n) == 0;
}

/* An output sink for decoded text: buf may be NULL (validate only). */
typedef struct {
  char *buf;
  size_t cap; /* usable bytes incl. the NUL */
  size_t len;
  int over;
} cimx_sink_t;

static void cimx_put(cimx_sink_t *o, const char *s, size_t n) {
  if (o == NULL || o->buf == NULL)
    return;
  if (o->len + n + 1 > o->cap) {
    o->over = 1;
    return;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

static int cimx_xml_char_ok(unsigned long cp) {
  if (cp == 0x9 || cp == 0xa || cp == 0xd)
    return 1;
  if (cp < 0x20)
    return 0;
  if (cp >= 0xd800 && cp <= 0xdfff)
    return 0;
  if (cp == 0xfffe || cp == 0xffff || cp > 0x10ffff)
    return 0;
  return 1;
}

/* Decodes an entity or character reference at in->p ('&'). */
static cimx_rc_t cimx_entity(cimx_in_t *in, cimx_sink_t *o) {
  const char *s = in->p + 1;
  const char *semi = memchr(s, ';', (size_t)(in->end - s));
  if (semi == NULL || semi - s > 12)
    return cimx_fail(in, CIMX_E_ENCODING, "unterminated entity reference");
  size_t n = (size_t)(semi - s);
  const char *rep = NULL;
  char u8[4];
  size_t u8n = 0;
  if (cimx_eq(s, n, "lt"))
    rep = "<";
  else if (cimx_eq(s, n, "gt"))
    rep = ">";
  else if (cimx_eq(s, n, "amp"))
    rep = "&";
  else if (cimx_eq(s, n, "quot"))
    rep = "\"";
  else if (cimx_eq(s, n, "apos"))
    rep = "'";
  else if (n >= 2 && s[0] == '#') {
    unsigned long cp = 0;
    size_t i = 1;
    int hex = 0;
    if (s[1] == 'x') {
      hex = 1;
      i = 2;
    }
    if (i >= n)
      return cimx_fail(in, CIMX_E_ENCODING, "empty character reference");
    for (; i < n; i++) {
      char c = s[i];
      unsigned d;
      if (c >= '0' && c <= '9')
        d = (unsigned)(c - '0');
      else if (hex && c >= 'a' && c <= 'f')
        d = (unsigned)(c - 'a' + 10);
      else if (hex && c >= 'A' && c <= 'F')
        d = (unsigned)(c - 'A' + 10);
      else
        return cimx_fail(in, CIMX_E_ENCODING, "bad character reference");
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10ffff)
        return cimx_fail(in, CIMX_E_ENCODING,
                         "character reference out of range");
    }
    if (!cimx_xml_char_ok(cp))
      return cimx_fail(in, CIMX_E_ENCODING,
                       "character reference to a forbidden character");
    if (cp < 0x80) {
      u8[0] = (char)cp;
      u8n = 1;
    } else if (cp < 0x800) {
      u8[0] = (char)(0xc0 | (cp >> 6));
      u8[1] = (char)(0x80 | (cp & 0x3f));
      u8n = 2;
    } else if (cp < 0x10000) {
      u8[0] = (char)(0xe0 | (cp >> 12));
      u8[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
      u8[2] = (char)(0x80 | (cp & 0x3f));
      u8n = 3;
    } else {
      u8[0] = (char)(0xf0 | (cp >> 18));
      u8[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
      u8[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
      u8[3] = (char)(0x80 | (cp & 0x3f));
      u8n = 4;
    }
  } else {
    return cimx_fail(in, CIMX_E_ENCODING, "undefined entity reference");
  }
  if (rep != NULL)
    cimx_put(o, rep, 1);
  else
    cimx_put(o, u8, u8n);
  in->p = semi + 1;
  return CIMX_OK;
}

/* Copies raw characters [s, e) after checking UTF-8 and XML characters. */
static cimx_rc_t cimx_chars(cimx_in_t *in, const char *s, const char *e,
                            cimx_sink_t *o) {
  const unsigned char *p = (const unsigned char *)s;
  const unsigned char *pe = (const unsigned char *)e;
  while (p < pe) {
    if (*p < 0x80) {
      if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
        return cimx_fail(in, CIMX_E_ENCODING, "forbidden control character");
      p++;
      continue;
    }
    size_t n = hvsb_utf8_len(p, (size_t)(pe - p));
    if (n == 0)
      return cimx_fail(in, CIMX_E_ENCODING, "invalid UTF-8");
    p += n;
  }
  cimx_put(o, s, (size_t)(e - s));
  return CIMX_OK;
}

/* Byte classes for the one-pass text scanner. */
enum { C_OK = 0, C_LT, C_AMP, C_RSB, C_BAD, C_HI };
static const unsigned char cimx_cls[256] = {
    [0 ... 8] = C_BAD,    [9 ... 10] = C_OK,   [11 ... 12] = C_BAD,
    [13] = C_OK,          [14 ... 31] = C_BAD, [32 ... 37] = C_OK,
    ['&'] = C_AMP,        [39 ... 59] = C_OK,  ['<'] = C_LT,
    [61 ... 92] = C_OK,   [']'] = C_RSB,       [94 ... 127] = C_OK,
    [128 ... 255] = C_HI,
};

/* Character data up to the next '<' (entities decoded), validated and
 * copied in one pass. */
static cimx_rc_t cimx_text(cimx_in_t *in, cimx_sink_t *o) {
  const unsigned char *p = (const unsigned char *)in->p;
  const unsigned char *e = (const unsigned char *)in->end;
  const unsigned char *run = p;
  while (p < e) {
    unsigned char c = cimx_cls[*p];
    if (c == C_OK) {
      p++;
      continue;
    }
    if (c == C_LT)
      break;
    if (c == C_HI) {
      size_t n = hvsb_utf8_len(p, (size_t)(e - p));
      if (n == 0)
        return cimx_fail(in, CIMX_E_ENCODING, "invalid UTF-8");
      p += n;
      continue;
    }
    if (c == C_RSB) {
      if (e - p >= 3 && p[1] == ']' && p[2] == '>')
        return cimx_fail(in, CIMX_E_SYNTAX, "']]>' in character data");
      p++;
      continue;
    }
    if (c == C_BAD)
      return cimx_fail(in, CIMX_E_ENCODING, "forbidden control character");
    /* '&' */
    cimx_put(o, (const char *)run, (size_t)(p - run));
    in->p = (const char *)p;
    cimx_rc_t rc = cimx_entity(in, o);
    if (rc != CIMX_OK)
      return rc;
    p = (const unsigned char *)in->p;
    run = p;
  }
  cimx_put(o, (const char *)run, (size_t)(p - run));
  in->p = (const char *)p;
  return CIMX_OK;
}

static inline int cimx_starts(const cimx_in_t *in, const char *lit) {
  size_t l = __builtin_strlen(lit);
  return (size_t)(in->end - in->p) >= l && memcmp(in->p, lit, l) == 0;
}

static const char *cimx_find(const char *s, const char *end, const char *lit) {
  size_t l = strlen(lit);
  while ((size_t)(end - s) >= l) {
    const char *q = memchr(s, lit[0], (size_t)(end - s) - l + 1);
    if (q == NULL)
      return NULL;
    if (memcmp(q, lit, l) == 0)
      return q;
    s = q + 1;
  }
  return NULL;
}

/* Comments, and the XML declaration when allow_decl. */
static cimx_rc_t cimx_misc(cimx_in_t *in, int allow_decl) {
  for (;;) {
    cimx_skip_ws(in);
    if (cimx_starts(in, "<!--")) {
      const char *e = cimx_find(in->p + 4, in->end, "--");
      if (e == NULL || e + 2 >= in->end || e[2] != '>')
        return cimx_fail(in, CIMX_E_SYNTAX, "bad comment");
      cimx_rc_t rc = cimx_chars(in, in->p + 4, e, NULL);
      if (rc != CIMX_OK)
        return rc;
      in->p = e + 3;
    } else if (allow_decl && cimx_starts(in, "<?xml") && in->end - in->p > 5 &&
               cimx_is_ws(in->p[5])) {
      const char *e = cimx_find(in->p, in->end, "?>");
      if (e == NULL)
        return cimx_fail(in, CIMX_E_SYNTAX, "unterminated XML declaration");
      in->p = e + 2;
    } else if (cimx_starts(in, "<!")) {
      return cimx_fail(in, CIMX_E_SYNTAX, "DOCTYPE or declaration refused");
    } else if (cimx_starts(in, "<?")) {
      return cimx_fail(in, CIMX_E_SYNTAX, "processing instruction refused");
    } else {
      return CIMX_OK;
    }
    allow_decl = 0;
  }
}

typedef struct {
  const char *name;
  size_t name_len;
  int selfclose;
  char attr_class[64]; /* CLASSNAME (cut) */
  int has_class;
  char attr_name[32]; /* NAME (cut) */
  int has_name;
} cimx_tag_t;

/* Parses a start tag at in->p ('<'): name and the attributes we use. */
static cimx_rc_t cimx_start_tag(cimx_in_t *in, cimx_tag_t *t) {
  in->p++;
  t->name_len = cimx_read_name(in, &t->name);
  if (t->name_len == 0)
    return cimx_fail(in, CIMX_E_SYNTAX, "bad element name");
  t->selfclose = 0;
  t->has_class = t->has_name = 0;
  t->attr_class[0] = t->attr_name[0] = '\0';
  for (;;) {
    const char *before = in->p;
    cimx_skip_ws(in);
    if (in->p >= in->end)
      return cimx_fail(in, CIMX_E_SYNTAX, "unterminated start tag");
    if (*in->p == '>') {
      in->p++;
      return CIMX_OK;
    }
    if (*in->p == '/') {
      if (in->p + 1 >= in->end || in->p[1] != '>')
        return cimx_fail(in, CIMX_E_SYNTAX, "bad empty-element tag");
      in->p += 2;
      t->selfclose = 1;
      return CIMX_OK;
    }
    if (in->p == before)
      return cimx_fail(in, CIMX_E_SYNTAX, "missing space before attribute");
    const char *an;
    size_t anl = cimx_read_name(in, &an);
    if (anl == 0)
      return cimx_fail(in, CIMX_E_SYNTAX, "bad attribute name");
    cimx_skip_ws(in);
    if (in->p >= in->end || *in->p != '=')
      return cimx_fail(in, CIMX_E_SYNTAX, "attribute without value");
    in->p++;
    cimx_skip_ws(in);
    if (in->p >= in->end || (*in->p != '"' && *in->p != '\''))
      return cimx_fail(in, CIMX_E_SYNTAX, "unquoted attribute value");
    char q = *in->p++;
    const char *ve = memchr(in->p, q, (size_t)(in->end - in->p));
    if (ve == NULL)
      return cimx_fail(in, CIMX_E_SYNTAX, "unterminated attribute value");
    if (memchr(in->p, '<', (size_t)(ve - in->p)) != NULL)
      return cimx_fail(in, CIMX_E_SYNTAX, "'<' in attribute value");
    char *dst = NULL;
    size_t dstsz = 0;
    if (cimx_eq(an, anl, "CLASSNAME")) {
      if (t->has_class)
        return cimx_fail(in, CIMX_E_SYNTAX, "duplicate attribute CLASSNAME");
      t->has_class = 1;
      dst = t->attr_class;
      dstsz = sizeof(t->attr_class);
    } else if (cimx_eq(an, anl, "NAME")) {
      if (t->has_name)
        return cimx_fail(in, CIMX_E_SYNTAX, "duplicate attribute NAME");
      t->has_name = 1;
      dst = t->attr_name;
      dstsz = sizeof(t->attr_name);
    }
    cimx_sink_t o = {dst, dstsz, 0, 0};
    cimx_in_t sub = {in->p, ve, in->err};
    cimx_rc_t rc = cimx_text(&sub, dst != NULL ? &o : NULL);
    if (rc != CIMX_OK)
      return rc;
    if (dst != NULL)
      dst[o.over ? 0 : o.len] = '\0';
    in->p = ve + 1;
  }
}

typedef struct {
  int seen[4];
  int value_seen;
  int cur; /* PROP_* of the open PROPERTY */
  int have_value[4];
  char source[16];
  cimx_item_t *out;
} cimx_state_t;

cimx_rc_t cimx_decode(const char *s, size_t len, cimx_item_t *out,
                      ws_err_t *err) {
  cimx_in_t in = {s, s + len, err};
  out->name[0] = out->data[0] = '\0';
  out->name_len = out->data_len = 0;
  out->source = -1;
  if (len > CIMX_MAX_INPUT)
    return cimx_fail(&in, CIMX_E_TOOBIG, "embedded instance over 16 KiB");
  if (s == NULL || len == 0)
    return cimx_fail(&in, CIMX_E_SYNTAX, "empty embedded instance");

  cimx_state_t st;
  memset(&st, 0, sizeof(st));
  st.out = out;

  cimx_rc_t rc = cimx_misc(&in, 1);
  if (rc != CIMX_OK)
    return rc;
  if (in.p >= in.end || *in.p != '<')
    return cimx_fail(&in, CIMX_E_SYNTAX, "no root element");

  const char *stack[CIMX_MAX_DEPTH];
  size_t stack_len[CIMX_MAX_DEPTH];
  int depth = 0;
  int done = 0;
  cimx_sink_t sink;
  cimx_sink_t *text_to = NULL;

  while (!done) {
    if (in.p >= in.end)
      return cimx_fail(&in, CIMX_E_SYNTAX, "unexpected end of instance");
    if (*in.p != '<') {
      if (depth == 0)
        return cimx_fail(&in, CIMX_E_SYNTAX, "text outside the root");
      rc = cimx_text(&in, text_to);
      if (rc != CIMX_OK)
        return rc;
      continue;
    }
    char next = in.p + 1 < in.end ? in.p[1] : '\0';
    if (next == '!' && cimx_starts(&in, "<![CDATA[")) {
      if (depth == 0)
        return cimx_fail(&in, CIMX_E_SYNTAX, "CDATA outside the root");
      const char *cs = in.p + 9;
      const char *ce = cimx_find(cs, in.end, "]]>");
      if (ce == NULL)
        return cimx_fail(&in, CIMX_E_SYNTAX, "unterminated CDATA");
      rc = cimx_chars(&in, cs, ce, text_to);
      if (rc != CIMX_OK)
        return rc;
      in.p = ce + 3;
      continue;
    }
    if (next == '!' && cimx_starts(&in, "<!--")) {
      rc = cimx_misc(&in, 0);
      if (rc != CIMX_OK)
        return rc;
      continue;
    }
    if (next == '!' || next == '?')
      return cimx_fail(&in, CIMX_E_SYNTAX,
                       "declaration or processing instruction refused");
    if (next == '/') {
      in.p += 2;
      const char *n;
      size_t nl = cimx_read_name(&in, &n);
      cimx_skip_ws(&in);
      if (nl == 0 || in.p >= in.end || *in.p != '>')
        return cimx_fail(&in, CIMX_E_SYNTAX, "bad end tag");
      in.p++;
      if (depth == 0 || stack_len[depth - 1] != nl ||
          memcmp(stack[depth - 1], n, nl) != 0)
        return cimx_fail(&in, CIMX_E_SYNTAX, "mismatched end tag");
      depth--;
      if (depth == 2 && text_to != NULL) { /* </VALUE> of a wanted property */
        if (text_to->over && st.cur == PROP_SOURCE) {
          text_to->len = 0; /* not a uint16: Source stays -1 */
          text_to->over = 0;
        }
        if (text_to->over)
          return cimx_fail(&in, CIMX_E_TOOBIG,
                           st.cur == PROP_NAME ? "Name over 511 bytes"
                                               : "Data over 2047 bytes");
        text_to->buf[text_to->len] = '\0';
        if (st.cur == PROP_NAME)
          out->name_len = text_to->len;
        else if (st.cur == PROP_DATA)
          out->data_len = text_to->len;
        text_to = NULL;
      }
      if (depth == 0)
        done = 1;
      continue;
    }
    cimx_tag_t t;
    rc = cimx_start_tag(&in, &t);
    if (rc != CIMX_OK)
      return rc;
    if (text_to != NULL)
      return cimx_fail(&in, CIMX_E_SYNTAX, "element inside a VALUE");
    if (depth == 0) {
      if (!cimx_eq(t.name, t.name_len, "INSTANCE"))
        return cimx_fail(&in, CIMX_E_SYNTAX, "root element is not INSTANCE");
      if (!t.has_class || strcmp(t.attr_class, CIMX_CLASS) != 0)
        return cimx_fail(&in, CIMX_E_CLASS,
                         "CLASSNAME is not Msvm_KvpExchangeDataItem");
    } else if (depth == 1 && cimx_eq(t.name, t.name_len, "PROPERTY")) {
      st.cur = PROP_OTHER;
      st.value_seen = 0;
      if (t.has_name) {
        if (strcmp(t.attr_name, "Name") == 0)
          st.cur = PROP_NAME;
        else if (strcmp(t.attr_name, "Data") == 0)
          st.cur = PROP_DATA;
        else if (strcmp(t.attr_name, "Source") == 0)
          st.cur = PROP_SOURCE;
      }
      if (st.cur != PROP_OTHER) {
        if (st.seen[st.cur])
          return cimx_fail(&in, CIMX_E_DUP, "property given twice");
        st.seen[st.cur] = 1;
      }
    } else if (depth == 2 && cimx_eq(t.name, t.name_len, "VALUE") &&
               cimx_eq(stack[1], stack_len[1], "PROPERTY")) {
      if (st.value_seen)
        return cimx_fail(&in, CIMX_E_DUP, "VALUE given twice in a PROPERTY");
      st.value_seen = 1;
      if (st.cur != PROP_OTHER) {
        st.have_value[st.cur] = 1;
        if (st.cur == PROP_NAME)
          sink = (cimx_sink_t){out->name, sizeof(out->name), 0, 0};
        else if (st.cur == PROP_DATA)
          sink = (cimx_sink_t){out->data, sizeof(out->data), 0, 0};
        else
          sink = (cimx_sink_t){st.source, sizeof(st.source), 0, 0};
        if (!t.selfclose)
          text_to = &sink;
      }
    }
    if (t.selfclose) {
      if (depth == 0)
        done = 1;
      continue;
    }
    if (depth >= CIMX_MAX_DEPTH)
      return cimx_fail(&in, CIMX_E_SYNTAX, "elements nested too deep");
    stack[depth] = t.name;
    stack_len[depth] = t.name_len;
    depth++;
  }
  rc = cimx_misc(&in, 0);
  if (rc != CIMX_OK)
    return rc;
  if (in.p != in.end)
    return cimx_fail(&in, CIMX_E_SYNTAX, "content after the root element");
  if (out->name_len == 0)
    return cimx_fail(&in, CIMX_E_NONAME, "no Name property value");
  if (st.have_value[PROP_SOURCE]) {
    /* uint16: digits only; anything else leaves -1 */
    int v = 0, ok = st.source[0] != '\0';
    for (const char *p = st.source; *p; p++) {
      if (*p < '0' || *p > '9' || v > 6553) {
        ok = 0;
        break;
      }
      v = v * 10 + (*p - '0');
    }
    out->source = ok && v <= 65535 ? v : -1;
  }
  return CIMX_OK;
}

const char *cimx_strerror(cimx_rc_t rc) {
  switch (rc) {
  case CIMX_OK:
    return "ok";
  case CIMX_E_SYNTAX:
    return "malformed instance";
  case CIMX_E_CLASS:
    return "wrong class";
  case CIMX_E_NONAME:
    return "no Name";
  case CIMX_E_DUP:
    return "duplicate property";
  case CIMX_E_TOOBIG:
    return "too big";
  case CIMX_E_ENCODING:
    return "bad encoding";
  }
  return "unknown";
}

int cimx_encode(hvsb_t *b, const char *name, const char *data, int source) {
  if (name == NULL || name[0] == '\0' || strlen(name) >= HVKVP_KEY_LEN)
    return -1;
  if (data == NULL)
    data = "";
  if (strlen(data) >= HVKVP_VALUE_LEN)
    return -1;
  hvsb_adds(b, "<INSTANCE CLASSNAME=\"" CIMX_CLASS "\">"
               "<PROPERTY NAME=\"Data\" TYPE=\"string\"><VALUE>");
  if (hvsb_add_xml(b, data) != 0)
    return -1;
  hvsb_adds(b, "</VALUE></PROPERTY><PROPERTY NAME=\"Name\" TYPE=\"string\">"
               "<VALUE>");
  if (hvsb_add_xml(b, name) != 0)
    return -1;
  hvsb_addf(b,
            "</VALUE></PROPERTY><PROPERTY NAME=\"Source\" TYPE=\"uint16\">"
            "<VALUE>%d</VALUE></PROPERTY></INSTANCE>",
            source < 0 ? 0 : source);
  return hvsb_failed(b) ? -1 : 0;
}
