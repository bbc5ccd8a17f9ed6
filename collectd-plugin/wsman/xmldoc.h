/*
 * xmldoc.h - safe libxml2 parsing and navigation helpers for the host side:
 * bounded parse of untrusted documents (no network, no DTD, no external
 * entities, no DOCTYPE at all) and element lookup by namespace URI + local
 * name, never by prefix.
 */
#ifndef HVKVP_XMLUTIL_H
#define HVKVP_XMLUTIL_H

#include <libxml/tree.h>
#include <stddef.h>

/* Parses buf[0..len) in `encoding` (NULL: UTF-8 or as declared) if len <=
 * max_len and it holds no DOCTYPE. Returns the document or NULL with a
 * reason in errbuf. */
xmlDocPtr hvx_parse(const char *buf, size_t len, size_t max_len,
                    const char *encoding, char *errbuf, size_t errsz);

/* 1 if node is an element with this namespace URI (NULL: any) and local
 * name. */
int hvx_is(const xmlNode *node, const char *ns, const char *local);
/* First element child (after `after`, or the first if NULL) matching. */
xmlNodePtr hvx_child(const xmlNode *parent, const char *ns, const char *local);
xmlNodePtr hvx_next(const xmlNode *after, const char *ns, const char *local);
/* First element child of any name, and the next element sibling. */
xmlNodePtr hvx_first_elem(const xmlNode *parent);
xmlNodePtr hvx_next_elem(const xmlNode *node);
/* Follows a path of children in one namespace: hvx_path(n, ns, "A", "B",
 * NULL). */
xmlNodePtr hvx_path(const xmlNode *node, const char *ns, ...);

/* Text of an element without copying when it is one text/CDATA node:
 * returns a pointer valid while the document lives, and sets *tofree to a
 * malloc'd copy (to free with xmlFree) only when the content had to be
 * joined. Element without text: "". */
const char *hvx_text(const xmlNode *node, xmlChar **tofree);
/* Copies the text into buf (cut to bufsz - 1); returns the full length. */
size_t hvx_text_copy(const xmlNode *node, char *buf, size_t bufsz);
/* 1 if the element carries xsi:nil="true". */
int hvx_is_nil(const xmlNode *node);
/* Attribute by local name (any or no namespace); NULL if absent. The result
 * is xmlFree'd by the caller. */
xmlChar *hvx_attr(const xmlNode *node, const char *local);

#define HVX_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

#endif
