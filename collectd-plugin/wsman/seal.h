/*
 * seal.h - WinRM's encrypted message format (MS-WSMV 2.2.9.1,
 * NegotiateEncryptedMessage / KerberosEncryptedMessage): builds the
 * multipart/encrypted body around a sealed SOAP message and parses one
 * strictly (every length bounded, every byte hostile).
 *
 * HTTP Content-Type:
 *   multipart/encrypted;protocol="<PROTO>";boundary="Encrypted Boundary"
 * Body:
 *   --Encrypted Boundary\r\n
 *   \tContent-Type: <PROTO>\r\n
 *   \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<n>\r\n
 *   --Encrypted Boundary\r\n
 *   \tContent-Type: application/octet-stream\r\n
 *   <u32 LE signature length><signature><encrypted data>
 *   --Encrypted Boundary--\r\n
 * The signature is the RFC 4121 wrap token header for Kerberos, the 16-byte
 * NTLM message signature for NTLM.
 */
#ifndef HVKVP_WSMAN_SEAL_H
#define HVKVP_WSMAN_SEAL_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define WSEAL_BOUNDARY "Encrypted Boundary"
#define WSEAL_PROTO_SPNEGO "application/HTTP-SPNEGO-session-encrypted"
#define WSEAL_PROTO_KERBEROS "application/HTTP-Kerberos-session-encrypted"
#define WSEAL_SOAP_CTYPE "application/soap+xml;charset=UTF-8"
#define WSEAL_NTLM_SIG_LEN 16
#define WSEAL_MAX_SIG 4096         /* signature bytes accepted */
#define WSEAL_MAX_BODY (16u << 20) /* sealed payload bytes accepted */

typedef struct {
  char protocol[64];   /* one of WSEAL_PROTO_* */
  char orig_type[128]; /* OriginalContent type (with charset) */
  size_t orig_len;     /* OriginalContent Length */
  const uint8_t *sig;  /* points into the parsed body */
  size_t siglen;
  const uint8_t *data; /* points into the parsed body */
  size_t datalen;
} wseal_parts_t;

/* 1 if the Content-Type header value is multipart/encrypted. */
int wseal_is_sealed(const char *content_type);

/* Writes the HTTP Content-Type value for `protocol`; -1 if it does not fit. */
int wseal_content_type(const char *protocol, char *out, size_t outsz);

/* Builds the body from its parts (sig/data as produced by hva_wrap). */
int wseal_build(const char *protocol, size_t orig_len, const uint8_t *sig,
                size_t siglen, const uint8_t *data, size_t datalen,
                uint8_t **out, size_t *outlen);

/* Parses a body strictly against the HTTP Content-Type value. Returns 0, or
 * -1 with `why` saying what is wrong (no secret is ever in it). */
int wseal_parse(const char *content_type, const uint8_t *body, size_t len,
                wseal_parts_t *out, char *why, size_t whysz);

#endif
