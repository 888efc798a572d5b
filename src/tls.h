/*
 * tls — certificates and BearSSL server contexts.
 *
 * The daemon loads one certificate chain and private key at start-up (and on
 * SIGHUP) into a struct tls_creds; every TLS connection's engine is then set
 * up from it with tls_server_init(). BearSSL does no I/O here: the engine is
 * driven by conn.c from the poll loop.
 */
#ifndef POSTNOOK_TLS_H
#define POSTNOOK_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#define TLS_MAX_CHAIN 4

enum {
	TLS_EPEM = -2000,   /* the PEM file is malformed or holds the wrong objects */
	TLS_EKEY,           /* unsupported key type or size */
	TLS_EMISMATCH,      /* the key does not match the certificate */
	TLS_ERNG,           /* no randomness */
	TLS_EENCODE,        /* certificate encoding failed */
};

struct tls_creds {
	br_x509_certificate chain[TLS_MAX_CHAIN];
	size_t chain_len;
	int key_type;                 /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	br_rsa_private_key rsa;       /* when key_type == BR_KEYTYPE_RSA */
	br_ec_private_key ec;         /* when key_type == BR_KEYTYPE_EC */
	int issuer_key_type;          /* key type that signed the leaf (for br_ssl_server_set_single_ec) */
	unsigned char *mem;           /* one allocation backing every pointer above */
	size_t mem_len;
	unsigned char fingerprint[32];/* SHA-256 of the leaf certificate's DER */
};

const char *tls_strerror(int err);

/* Load a PEM chain (leaf first) and a PEM key (RSA, EC: "RSA PRIVATE KEY",
 * "EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY"); checks the key matches the leaf. */
int tls_creds_load(struct tls_creds *c, const char *cert_path, const char *key_path);
void tls_creds_free(struct tls_creds *c);

/*
 * Generate an ECDSA P-256 key and a self-signed X.509 v3 certificate
 * (subject CN=hostname, SANs: hostname plus each IP/DNS name in sans,
 * valid 825 days, CA:TRUE so it verifies as its own root, EKU serverAuth) with BearSSL only.
 * Writes key_path and cert_path as PEM with mode 0600 (temp file + rename).
 */
int tls_selfsigned_create(const char *cert_path, const char *key_path,
                          const char *hostname, const char *const *sans, size_t nsans);
/* DER encoder core, used by the above and by unit tests: cert_der gets up to
 * cert_cap bytes, *cert_len its length. */
int tls_selfsigned_der(const br_ec_private_key *sk, const br_ec_public_key *pk,
                       const char *hostname, const char *const *sans, size_t nsans,
                       int64_t not_before, int64_t not_after, const unsigned char serial[16],
                       unsigned char *cert_der, size_t cert_cap, size_t *cert_len);

/* Format a fingerprint as "AB:CD:..." (out must hold 96 bytes). */
void tls_fingerprint_str(const unsigned char fp[32], char *out);

/*
 * Initialise a server context for one connection: TLS 1.2 only, ECDHE with
 * AES-128/256-GCM and ChaCha20-Poly1305 (server preference, AES-GCM first),
 * the creds' chain and key, the shared session cache (may be NULL), and the
 * given I/O buffers. Then resets it for a new handshake. 0 or a negative error.
 */
int tls_server_init(br_ssl_server_context *sc, const struct tls_creds *c,
                    br_ssl_session_cache_lru *cache,
                    unsigned char *ibuf, size_t ibuf_len, unsigned char *obuf, size_t obuf_len);

#endif
