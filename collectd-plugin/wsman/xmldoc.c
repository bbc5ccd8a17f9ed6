/*
 * xmldoc.c - safe libxml2 parsing and navigation helpers (see xmldoc.h).
 * Parsing never loads a DTD, never substitutes external entities, never
 * touches the network, refuses documents with a DOCTYPE and refuses inputs
 * larger than the caller's cap before libxml2 sees them.
 */
#include "xmldoc.h"

#include <libxml/parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int hvx_has_doctype(const char *buf, size_t len) {
  /* A DOCTYPE must come before the root element; any "<!DOCTYPE" anywhere is
   * refused (it cannot legally appear later either). */
  return memmem(buf, len, "<!DOCTYPE", 9) != NULL;
}

static void hvx_silent(void *ctx, const char *msg, ...) {}

xmlDocPtr hvx_parse(const char *buf, size_t len, size_t max_len,
                    const char *encoding, char *errbuf, size_t errsz) {
  if (buf == NULL || len == 0) {
    snprintf(errbuf, errsz, "empty XML document");
    return NULL;
  }
  if (len > max_len) {
    snprintf(errbuf, errsz, "XML document of %zu bytes exceeds the limit %zu",
             len, max_len);
    return NULL;
  }
  if (len > (size_t)0x7fffffff) {
    snprintf(errbuf, errsz, "XML document too large");
    return NULL;
  }
  if (hvx_has_doctype(buf, len)) {
    snprintf(errbuf, errsz, "XML document has a DOCTYPE (refused)");
    return NULL;
  }
  xmlSetGenericErrorFunc(NULL, hvx_silent);
  xmlDocPtr doc = xmlReadMemory(buf, (int)len, "noname.xml", encoding,
                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
  if (doc == NULL) {
    const xmlError *e = xmlGetLastError();
    if (e != NULL && e->message != NULL) {
      char m[200];
      snprintf(m, sizeof(m), "%s", e->message);
      size_t ml = strlen(m);
      while (ml > 0 && (m[ml - 1] == '\n' || m[ml - 1] == ' '))
        m[--ml] = '\0';
      snprintf(errbuf, errsz, "malformed XML at line %d: %s", e->line, m);
    } else {
      snprintf(errbuf, errsz, "malformed XML");
    }
    return NULL;
  }
  if (doc->intSubset != NULL || doc->extSubset != NULL ||
      xmlDocGetRootElement(doc) == NULL) {
    xmlFreeDoc(doc);
    snprintf(errbuf, errsz, "XML document has a DTD or no root (refused)");
    return NULL;
  }
  return doc;
}

int hvx_is(const xmlNode *node, const char *ns, const char *local) {
  if (node == NULL || node->type != XML_ELEMENT_NODE)
    return 0;
  if (strcmp((const char *)node->name, local) != 0)
    return 0;
  if (ns == NULL)
    return 1;
  return node->ns != NULL && node->ns->href != NULL &&
         strcmp((const char *)node->ns->href, ns) == 0;
}

xmlNodePtr hvx_first_elem(const xmlNode *parent) {
  if (parent == NULL)
    return NULL;
  for (xmlNodePtr c = parent->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return c;
  return NULL;
}

xmlNodePtr hvx_next_elem(const xmlNode *node) {
  if (node == NULL)
    return NULL;
  for (xmlNodePtr c = node->next; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return c;
  return NULL;
}

xmlNodePtr hvx_child(const xmlNode *parent, const char *ns, const char *local) {
  if (parent == NULL)
    return NULL;
  for (xmlNodePtr c = parent->children; c != NULL; c = c->next)
    if (hvx_is(c, ns, local))
      return c;
  return NULL;
}

xmlNodePtr hvx_next(const xmlNode *after, const char *ns, const char *local) {
  if (after == NULL)
    return NULL;
  for (xmlNodePtr c = after->next; c != NULL; c = c->next)
    if (hvx_is(c, ns, local))
      return c;
  return NULL;
}

xmlNodePtr hvx_path(const xmlNode *node, const char *ns, ...) {
  va_list ap;
  va_start(ap, ns);
  const xmlNode *cur = node;
  const char *name;
  while (cur != NULL && (name = va_arg(ap, const char *)) != NULL)
    cur = hvx_child(cur, ns, name);
  va_end(ap);
  return (xmlNodePtr)cur;
}

const char *hvx_text(const xmlNode *node, xmlChar **tofree) {
  *tofree = NULL;
  if (node == NULL)
    return "";
  const xmlNode *c = node->children;
  if (c == NULL)
    return "";
  if (c->next == NULL &&
      (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE))
    return c->content != NULL ? (const char *)c->content : "";
  *tofree = xmlNodeGetContent(node);
  return *tofree != NULL ? (const char *)*tofree : "";
}

size_t hvx_text_copy(const xmlNode *node, char *buf, size_t bufsz) {
  xmlChar *tofree;
  const char *t = hvx_text(node, &tofree);
  size_t n = strlen(t);
  if (bufsz > 0) {
    size_t c = n < bufsz - 1 ? n : bufsz - 1;
    memcpy(buf, t, c);
    buf[c] = '\0';
  }
  xmlFree(tofree);
  return n;
}

int hvx_is_nil(const xmlNode *node) {
  if (node == NULL || node->type != XML_ELEMENT_NODE)
    return 0;
  xmlChar *v =
      xmlGetNsProp(node, (const xmlChar *)"nil", (const xmlChar *)HVX_NS_XSI);
  int nil = v != NULL && (strcmp((const char *)v, "true") == 0 ||
                          strcmp((const char *)v, "1") == 0);
  xmlFree(v);
  return nil;
}

xmlChar *hvx_attr(const xmlNode *node, const char *local) {
  if (node == NULL || node->type != XML_ELEMENT_NODE)
    return NULL;
  for (xmlAttrPtr a = node->properties; a != NULL; a = a->next)
    if (strcmp((const char *)a->name, local) == 0)
      return xmlNodeGetContent((const xmlNode *)a);
  return NULL;
}
