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
#include <sys/types.h>
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
 * The self-made certificate (tls_cert.c, tls_ca.c). On first start the
 * daemon makes a small household CA in the data directory (ca.pem, and
 * ca-key.pem mode 0600), name-constrained to the router's own names,
 * home.arpa, lan, localhost and the private address ranges, and issues
 * from it the server certificate (cert.pem: the server's certificate then
 * the CA's; key.pem 0600): an end-entity certificate (CA:FALSE,
 * digitalSignature, serverAuth) for every name it should answer to. A
 * device that trusts the CA accepts each renewed server certificate.
 */
#define TLS_LEAF_DAYS 397   /* server certificate: under the 398 days Apple and browsers accept */
#define TLS_CA_DAYS 3652    /* household CA: 10 years */
#define TLS_RENEW_DAYS 30   /* renewed when fewer days than this remain (the CA likewise) */

struct tls_key {
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
};

struct tls_cert_spec {
	const char *cn;                     /* subject commonName, 1..64 printable ASCII bytes */
	const unsigned char *issuer;        /* the issuer's Name (DER); NULL: self-issued (cn) */
	size_t issuer_len;
	const br_ec_public_key *pk;         /* the subject's key (P-256) */
	const br_ec_private_key *sign;      /* the key that signs (the issuer's) */
	const br_ec_public_key *sign_pk;    /* the issuer's public key for authorityKeyIdentifier, or NULL */
	int ca;                             /* 1: a household CA, 0: a server certificate */
	const char *const *names;           /* CA: permitted dNSName subtrees; server: its subjectAltNames */
	size_t nnames;                      /* (IPv4/IPv6 text becomes an iPAddress SAN) */
	int64_t not_before, not_after;      /* Unix time */
	const unsigned char *serial;        /* 16 bytes, positive */
};

/* Encode and sign a certificate into out (cap bytes), its length in *len. 0, TLS_EENCODE or TLS_EKEY. */
int tls_cert_der(const struct tls_cert_spec *s, unsigned char *out, size_t cap, size_t *len);
/* A fresh ECDSA P-256 key and a random positive 16-byte serial. 0, TLS_ERNG or TLS_EKEY. */
int tls_key_new(struct tls_key *k, unsigned char serial[16]);
/*
 * Write key_path (PEM "EC PRIVATE KEY", mode 0600) and cert_path (the n DER
 * certificates as PEM, mode cert_mode), each through a temp file, fsync and
 * rename, the key first. 0 or a negative error.
 */
int tls_pair_write(const char *cert_path, mode_t cert_mode, const unsigned char *const *der,
                   const size_t *len, size_t n, const char *key_path, const struct tls_key *k);
/* An address as text into 4 or 16 bytes: the length, or 0 when name is no address. */
size_t tls_ip_parse(const char *name, unsigned char ip[16]);
/* 1 if the address is in the ranges the household CA permits (RFC 1918, 127/8, fc00::/7, ::1). */
int tls_ip_private(const unsigned char *ip, size_t len);

/*
 * Load the household CA of dir (ca.pem, ca-key.pem) into ca, making a new
 * one when there is none, or it cannot be decoded, or fewer than
 * TLS_RENEW_DAYS remain (*made = 1 then). hosts are the names it permits
 * besides home.arpa, lan and localhost. 0 or a negative error.
 */
int tls_ca_ensure(const char *dir, const char *const *hosts, size_t nhosts, struct tls_creds *ca, int *made);
/* 1 if the CA's name constraints permit name (a DNS name, or an address). */
int tls_ca_permits(const struct tls_creds *ca, const char *name);
/*
 * Why dir's server certificate must be issued again: NULL when cert.pem and
 * key.pem load, the certificate is one of ca's, holds every name in want and
 * has TLS_RENEW_DAYS left; else a short reason ("it expires soon", ...).
 * *have_old says whether the old one loaded; its fingerprint is then in oldfp.
 */
const char *tls_leaf_stale(const char *dir, const struct tls_creds *ca, const char *const *want,
                           size_t nwant, unsigned char oldfp[32], int *have_old);
/*
 * Issue a new server certificate from ca for names (the first DNS name is
 * its commonName) into dir's key.pem and cert.pem (with the CA's
 * certificate after it), valid TLS_LEAF_DAYS but not past the CA. 0 or a
 * negative error.
 */
int tls_leaf_issue(const char *dir, const struct tls_creds *ca, const char *const *names, size_t n);

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
