/*
 * tls_der — a small bounded DER writer for the self-signed certificate.
 *
 * The writer fills a caller-owned buffer front to back. Constructed values are
 * opened with tls_der_begin() and closed with tls_der_end(), which inserts the
 * length once the contents are known (certificates are small, so the memmove
 * costs nothing). Errors are sticky, as in BearSSL: after the first failure
 * every call is a no-op and tls_der_finish() returns the error.
 */
#ifndef POSTNOOK_TLS_DER_H
#define POSTNOOK_TLS_DER_H

#include <stddef.h>
#include <stdint.h>

#define TLS_DER_MAX_DEPTH 10      /* Certificate .. nameConstraints GeneralSubtree: 9 */

enum {
	DER_BOOLEAN = 0x01, DER_INTEGER = 0x02, DER_BIT_STRING = 0x03,
	DER_OCTET_STRING = 0x04, DER_OID = 0x06, DER_UTF8_STRING = 0x0c,
	DER_UTC_TIME = 0x17, DER_GENERALIZED_TIME = 0x18,
	DER_SEQUENCE = 0x30, DER_SET = 0x31,
	DER_CTX_CONS = 0xa0,          /* [n] EXPLICIT: DER_CTX_CONS | n */
	DER_CTX_PRIM = 0x80,          /* [n] IMPLICIT primitive: DER_CTX_PRIM | n */
};

struct tls_der {
	unsigned char *buf;
	size_t cap;
	size_t len;
	int err;                          /* 0 or TLS_EENCODE, sticky */
	size_t open[TLS_DER_MAX_DEPTH];   /* content start of each open value */
	unsigned depth;
};

void tls_der_init(struct tls_der *w, unsigned char *buf, size_t cap);
/* 0 and the total length in *len, or the first error (TLS_EENCODE). */
int tls_der_finish(struct tls_der *w, size_t *len);

void tls_der_begin(struct tls_der *w, unsigned tag);
void tls_der_end(struct tls_der *w);
/* A primitive value: tag, length, then len bytes of data. */
void tls_der_prim(struct tls_der *w, unsigned tag, const void *data, size_t len);
/* Bytes copied as they are (an already encoded value). */
void tls_der_raw(struct tls_der *w, const void *data, size_t len);
/* INTEGER from an unsigned big-endian magnitude (leading zeros dropped, one added if the top bit is set). */
void tls_der_uint(struct tls_der *w, const unsigned char *mag, size_t len);
void tls_der_small_uint(struct tls_der *w, uint32_t v);
/* OBJECT IDENTIFIER from dotted text such as "1.2.840.10045.4.3.2". */
void tls_der_oid(struct tls_der *w, const char *dotted);
/* BIT STRING with no unused bits. */
void tls_der_bits(struct tls_der *w, const void *data, size_t len);
void tls_der_bool(struct tls_der *w, int v);
/* RFC 5280 Time: UTCTime for 1950..2049, GeneralizedTime otherwise (years 0..9999). */
void tls_der_time(struct tls_der *w, int64_t unix_seconds);

#endif
