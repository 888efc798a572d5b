/*
 * tls_cert — ECDSA P-256 keys and X.509 v3 certificates (the household CA
 * and the server certificates it issues), made with BearSSL only (routers
 * have no openssl binary), and written atomically as PEM files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysconfig.h"
#include "auth.h"
#include "tls.h"
#include "tls_der.h"

#define OID_ECDSA_SHA256   "1.2.840.10045.4.3.2"
#define OID_EC_PUBKEY      "1.2.840.10045.2.1"
#define OID_PRIME256V1     "1.2.840.10045.3.1.7"
#define OID_CN             "2.5.4.3"
#define OID_SKI            "2.5.29.14"
#define OID_KEY_USAGE      "2.5.29.15"
#define OID_SAN            "2.5.29.17"
#define OID_BASIC_CONSTR   "2.5.29.19"
#define OID_EXT_KEY_USAGE  "2.5.29.37"
#define OID_KP_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_AKI            "2.5.29.35"
#define OID_NAME_CONSTR    "2.5.29.30"

#define CN_MAX       64      /* ub-common-name, RFC 5280 appendix A */
#define DNS_NAME_MAX 253

/*
 * The address ranges the household CA may vouch for (iPAddress name
 * constraints, RFC 5280 4.2.1.10: address then mask): the private IPv4
 * ranges of RFC 1918, loopback, IPv6 unique local fc00::/7 and ::1.
 */
static const struct { unsigned char len, b[32]; } cert_ip_ranges[] = {
	{ 8, { 10, 0, 0, 0, 255, 0, 0, 0 } },
	{ 8, { 172, 16, 0, 0, 255, 240, 0, 0 } },
	{ 8, { 192, 168, 0, 0, 255, 255, 0, 0 } },
	{ 8, { 127, 0, 0, 0, 255, 0, 0, 0 } },
	{ 32, { 0xfc, [16] = 0xfe } },
	{ 32, { [15] = 1, [16] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
};

/* 1 if the address (4 or 16 bytes) lies in one of the ranges above. */
int tls_ip_private(const unsigned char *ip, size_t len)
{
	size_t i, k;

	for (i = 0; i < sizeof cert_ip_ranges / sizeof cert_ip_ranges[0]; i++) {
		const unsigned char *r = cert_ip_ranges[i].b;
		int in = cert_ip_ranges[i].len == 2 * len;

		for (k = 0; in && k < len; k++)
			in = (ip[k] & r[len + k]) == r[k];
		if (in)
			return 1;
	}
	return 0;
}

/* 1 if s is a usable DNS name (or a wildcard): 1..max bytes of [A-Za-z0-9.*_-]. */
static int cert_name_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (n >= max)
			return 0;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' || ch == '*'))
			return 0;
	}
	return n > 0;
}

/* An address as text into 4 or 16 bytes; returns the length, 0 if name is no address. */
size_t tls_ip_parse(const char *name, unsigned char ip[16])
{
	if (inet_pton(AF_INET, name, ip) == 1)
		return 4;
	return inet_pton(AF_INET6, name, ip) == 1 ? 16 : 0;
}

/* One GeneralName: iPAddress when name parses as IPv4/IPv6, dNSName otherwise. */
static int cert_san_entry(struct tls_der *w, const char *name)
{
	unsigned char ip[16];
	size_t n = tls_ip_parse(name, ip);

	if (n) {
		tls_der_prim(w, DER_CTX_PRIM | 7, ip, n);
		return 0;
	}
	if (!cert_name_ok(name, DNS_NAME_MAX))
		return TLS_EENCODE;
	tls_der_prim(w, DER_CTX_PRIM | 2, name, strlen(name));
	return 0;
}

/* Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String } } } */
static void cert_name(struct tls_der *w, const char *cn)
{
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_begin(w, DER_SET);
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_oid(w, OID_CN);
	tls_der_prim(w, DER_UTF8_STRING, cn, strlen(cn));
	tls_der_end(w);
	tls_der_end(w);
	tls_der_end(w);
}

/* Extension ::= SEQUENCE { extnID, critical, OCTET STRING { value } }: opens the value. */
static void cert_ext_begin(struct tls_der *w, const char *oid, int critical)
{
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_oid(w, oid);
	if (critical)
		tls_der_bool(w, 1);
	tls_der_begin(w, DER_OCTET_STRING);
}

static void cert_ext_end(struct tls_der *w)
{
	tls_der_end(w);
	tls_der_end(w);
}

/* A key identifier (RFC 5280 4.2.1.2 method 1): SHA-1 of the subjectPublicKey bits. */
static void cert_keyid(const br_ec_public_key *pk, unsigned char id[br_sha1_SIZE])
{
	br_sha1_context sha1;

	br_sha1_init(&sha1);
	br_sha1_update(&sha1, pk->q, pk->qlen);
	br_sha1_out(&sha1, id);
}

/*
 * The [3] extensions. The household CA: basicConstraints CA:TRUE with
 * pathLen 0, keyUsage keyCertSign+cRLSign, extKeyUsage serverAuth (it may
 * vouch for TLS servers only), nameConstraints (critical, RFC 5280's MUST)
 * permitting s->names as dNSNames and the private address ranges. A server
 * certificate: CA:FALSE, keyUsage digitalSignature, extKeyUsage serverAuth
 * (Apple's clients require it), subjectAltName s->names. Both carry a
 * subjectKeyIdentifier, an issued one an authorityKeyIdentifier.
 */
static int cert_extensions(struct tls_der *w, const struct tls_cert_spec *s)
{
	static const unsigned char ku_ca[] = { 0x03, 0x02, 0x01, 0x06 };   /* keyCertSign, cRLSign */
	static const unsigned char ku_leaf[] = { 0x03, 0x02, 0x07, 0x80 }; /* digitalSignature */
	unsigned char id[br_sha1_SIZE];
	size_t i;
	int err = 0;

	tls_der_begin(w, DER_CTX_CONS | 3);
	tls_der_begin(w, DER_SEQUENCE);

	cert_ext_begin(w, OID_BASIC_CONSTR, 1);
	tls_der_begin(w, DER_SEQUENCE);
	if (s->ca) {
		tls_der_bool(w, 1);           /* cA */
		tls_der_small_uint(w, 0);     /* pathLenConstraint: no CA below it */
	}
	tls_der_end(w);
	cert_ext_end(w);

	cert_ext_begin(w, OID_KEY_USAGE, 1);
	tls_der_raw(w, s->ca ? ku_ca : ku_leaf, sizeof(ku_ca));
	cert_ext_end(w);

	cert_ext_begin(w, OID_EXT_KEY_USAGE, 0);
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_oid(w, OID_KP_SERVER_AUTH);
	tls_der_end(w);
	cert_ext_end(w);

	if (s->ca) {
		cert_ext_begin(w, OID_NAME_CONSTR, 1);
		tls_der_begin(w, DER_SEQUENCE);
		tls_der_begin(w, DER_CTX_CONS | 0);   /* permittedSubtrees */
		for (i = 0; i < s->nnames; i++) {
			tls_der_begin(w, DER_SEQUENCE); /* GeneralSubtree */
			if (tls_ip_parse(s->names[i], id) || !cert_name_ok(s->names[i], DNS_NAME_MAX))
				err = TLS_EENCODE;
			tls_der_prim(w, DER_CTX_PRIM | 2, s->names[i], strlen(s->names[i]));
			tls_der_end(w);
		}
		for (i = 0; i < sizeof cert_ip_ranges / sizeof cert_ip_ranges[0]; i++) {
			tls_der_begin(w, DER_SEQUENCE);
			tls_der_prim(w, DER_CTX_PRIM | 7, cert_ip_ranges[i].b, cert_ip_ranges[i].len);
			tls_der_end(w);
		}
		tls_der_end(w);
		tls_der_end(w);
		cert_ext_end(w);
	} else {
		cert_ext_begin(w, OID_SAN, 0);
		tls_der_begin(w, DER_SEQUENCE);
		for (i = 0; i < s->nnames && !err; i++)
			err = cert_san_entry(w, s->names[i]);
		tls_der_end(w);
		cert_ext_end(w);
	}
	if (err)
		return err;

	cert_keyid(s->pk, id);
	cert_ext_begin(w, OID_SKI, 0);
	tls_der_prim(w, DER_OCTET_STRING, id, sizeof(id));
	cert_ext_end(w);
	if (s->sign_pk) {
		cert_keyid(s->sign_pk, id);
		cert_ext_begin(w, OID_AKI, 0);
		tls_der_begin(w, DER_SEQUENCE);
		tls_der_prim(w, DER_CTX_PRIM | 0, id, sizeof(id));
		tls_der_end(w);
		cert_ext_end(w);
	}

	tls_der_end(w);
	tls_der_end(w);
	return 0;
}

static void cert_sigalg(struct tls_der *w)
{
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_oid(w, OID_ECDSA_SHA256);
	tls_der_end(w);
}

static int ec_p256(const br_ec_public_key *pk)
{
	return pk && pk->curve == BR_EC_secp256r1 && pk->qlen == 65 && pk->q[0] == 0x04;
}

/* Encode and sign a certificate into out (see tls.h); 0 or TLS_EENCODE/TLS_EKEY. */
int tls_cert_der(const struct tls_cert_spec *s, unsigned char *out, size_t cap, size_t *len)
{
	unsigned char sig[80], hash[br_sha256_SIZE];
	br_sha256_context sha;
	struct tls_der w;
	size_t tbs_start, siglen, i;
	int err;

	if (!s->sign || s->sign->curve != BR_EC_secp256r1 || !ec_p256(s->pk) ||
	    (s->sign_pk && !ec_p256(s->sign_pk)))
		return TLS_EKEY;
	for (i = 0; s->cn && s->cn[i] >= 0x20 && s->cn[i] < 0x7f; i++)
		;
	if (!s->cn || i == 0 || i > CN_MAX || s->cn[i])
		return TLS_EENCODE;
	if ((s->nnames && !s->names) || s->not_after < s->not_before || !s->serial)
		return TLS_EENCODE;

	tls_der_init(&w, out, cap);
	tls_der_begin(&w, DER_SEQUENCE);              /* Certificate */
	tbs_start = w.len;
	tls_der_begin(&w, DER_SEQUENCE);              /* TBSCertificate */
	tls_der_begin(&w, DER_CTX_CONS | 0);
	tls_der_small_uint(&w, 2);                    /* v3 */
	tls_der_end(&w);
	tls_der_uint(&w, s->serial, 16);
	cert_sigalg(&w);
	if (s->issuer)
		tls_der_raw(&w, s->issuer, s->issuer_len);
	else
		cert_name(&w, s->cn);                 /* self-issued */
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_time(&w, s->not_before);
	tls_der_time(&w, s->not_after);
	tls_der_end(&w);
	cert_name(&w, s->cn);                         /* subject */
	tls_der_begin(&w, DER_SEQUENCE);              /* SubjectPublicKeyInfo */
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_oid(&w, OID_EC_PUBKEY);
	tls_der_oid(&w, OID_PRIME256V1);
	tls_der_end(&w);
	tls_der_bits(&w, s->pk->q, s->pk->qlen);
	tls_der_end(&w);
	err = cert_extensions(&w, s);
	if (err)
		return err;
	tls_der_end(&w);                              /* TBSCertificate done */
	if (w.err)
		return w.err;

	br_sha256_init(&sha);
	br_sha256_update(&sha, w.buf + tbs_start, w.len - tbs_start);
	br_sha256_out(&sha, hash);
	siglen = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable,
	                                          hash, s->sign, sig);
	if (siglen == 0)
		return TLS_EKEY;

	cert_sigalg(&w);
	tls_der_bits(&w, sig, siglen);
	tls_der_end(&w);
	return tls_der_finish(&w, len);
}

/* fsync the directory holding path so a rename survives power loss. 0 or -errno. */
static int cert_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, err = 0;

	if (!slash) {
		strcpy(dir, ".");
	} else {
		n = (size_t)(slash - path);
		if (n == 0)
			n = 1;                         /* "/file" lives in "/" */
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		err = -errno;
	close(fd);
	return err;
}

/* Write data to a temp file (mode) beside path and fsync it; the temp name goes to tmp. 0 or -errno. */
static int cert_write_tmp(const char *path, const void *data, size_t len, char *tmp, size_t tmpcap,
                          mode_t mode)
{
	const unsigned char *p = data;
	int fd, n;

	n = snprintf(tmp, tmpcap, "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= tmpcap)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (len > 0) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += k;
		len -= (size_t)k;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	n = -errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return n;
}

/* PEM-encode der under banner and append it to buf (cap bytes); 0 or TLS_EENCODE. */
static int cert_pem(char *buf, size_t cap, size_t *len, const void *der, size_t dlen, const char *banner)
{
	size_t n = br_pem_encode(NULL, der, dlen, banner, BR_PEM_LINE64);

	if (n >= cap - *len)
		return TLS_EENCODE;
	*len += br_pem_encode(buf + *len, der, dlen, banner, BR_PEM_LINE64);
	return 0;
}

/* A fresh P-256 key pair and a random positive serial (see tls.h). */
int tls_key_new(struct tls_key *k, unsigned char serial[16])
{
	unsigned char seed[48];
	const br_ec_impl *ec = br_ec_get_default();
	br_hmac_drbg_context drbg;
	size_t i;
	int nonzero = 0, err = 0;

	if (auth_random(seed, sizeof(seed)))
		return TLS_ERNG;
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	if (br_ec_keygen(&drbg.vtable, ec, &k->sk, k->kbuf, BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(ec, &k->pk, k->pbuf, &k->sk) == 0)
		err = TLS_EKEY;
	br_hmac_drbg_generate(&drbg, serial, 16);
	explicit_bzero(&drbg, sizeof(drbg));
	serial[0] &= 0x7f;                     /* a positive INTEGER (RFC 5280 4.1.2.2) */
	for (i = 0; i < 16; i++)
		nonzero |= serial[i];
	if (!nonzero)
		serial[15] = 1;
	return err;
}

/* Store the key, then the certificates (see tls.h). 0 or a negative error. */
int tls_pair_write(const char *cert_path, mode_t cert_mode, const unsigned char *const *der,
                   const size_t *len, size_t n, const char *key_path, const struct tls_key *k)
{
	static char pem[4096];
	unsigned char key_der[160];
	char cert_tmp[PATH_MAX], key_tmp[PATH_MAX];
	size_t key_len, pem_len = 0, i;
	int err;

	key_len = br_encode_ec_raw_der(NULL, &k->sk, &k->pk);
	if (key_len == 0 || key_len > sizeof(key_der))
		return TLS_EENCODE;
	br_encode_ec_raw_der(key_der, &k->sk, &k->pk);
	err = cert_pem(pem, sizeof(pem), &pem_len, key_der, key_len, "EC PRIVATE KEY");
	explicit_bzero(key_der, sizeof(key_der));
	if (!err)
		err = cert_write_tmp(key_path, pem, pem_len, key_tmp, sizeof(key_tmp), 0600);
	explicit_bzero(pem, pem_len);
	if (err)
		return err;
	pem_len = 0;
	for (i = 0; i < n && !err; i++)
		err = cert_pem(pem, sizeof(pem), &pem_len, der[i], len[i], "CERTIFICATE");
	if (!err)
		err = cert_write_tmp(cert_path, pem, pem_len, cert_tmp, sizeof(cert_tmp), cert_mode);
	if (err) {
		unlink(key_tmp);
		return err;
	}
	/* Key first: a crash in between leaves a key that does not match, so the next start makes a new pair. */
	if (rename(key_tmp, key_path) < 0) {
		err = -errno;
		unlink(key_tmp);
		unlink(cert_tmp);
		return err;
	}
	if (rename(cert_tmp, cert_path) < 0) {
		err = -errno;
		unlink(cert_tmp);
		return err;
	}
	err = cert_sync_dir(key_path);
	if (!err)
		err = cert_sync_dir(cert_path);
	return err;
}
