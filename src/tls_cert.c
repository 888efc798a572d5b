/*
 * tls_cert — ECDSA P-256 key and self-signed X.509 v3 certificate, made with
 * BearSSL only (routers have no openssl binary).
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

#define CN_MAX       64      /* ub-common-name, RFC 5280 appendix A */
#define DNS_NAME_MAX 253
#define CERT_DER_MAX 4096
#define VALIDITY_BEFORE (24 * 3600)
/* 825 days: the longest validity Apple's clients accept for a TLS server
 * certificate (iOS 13 / macOS 10.15 rules); serve.c renews it in time. */
#define VALIDITY_AFTER  ((int64_t)825 * 24 * 3600)

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

/* One GeneralName: iPAddress when name parses as IPv4/IPv6, dNSName otherwise. */
static int cert_san_entry(struct tls_der *w, const char *name)
{
	unsigned char ip[16];

	if (name && inet_pton(AF_INET, name, ip) == 1) {
		tls_der_prim(w, DER_CTX_PRIM | 7, ip, 4);
		return 0;
	}
	if (name && inet_pton(AF_INET6, name, ip) == 1) {
		tls_der_prim(w, DER_CTX_PRIM | 7, ip, 16);
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

/* The [3] extensions: basicConstraints, keyUsage, extKeyUsage (serverAuth, which
 * Apple's clients require), subjectAltName, subjectKeyIdentifier. */
static int cert_extensions(struct tls_der *w, const br_ec_public_key *pk, const char *hostname,
                           const char *const *sans, size_t nsans)
{
	static const unsigned char key_usage[] = { 0x03, 0x02, 0x02, 0x84 }; /* digitalSignature, keyCertSign */
	unsigned char ski[br_sha1_SIZE];
	br_sha1_context sha1;
	size_t i;
	int err;

	tls_der_begin(w, DER_CTX_CONS | 3);
	tls_der_begin(w, DER_SEQUENCE);

	cert_ext_begin(w, OID_BASIC_CONSTR, 1);
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_bool(w, 1);                   /* cA */
	tls_der_end(w);
	cert_ext_end(w);

	cert_ext_begin(w, OID_KEY_USAGE, 1);
	tls_der_raw(w, key_usage, sizeof(key_usage));
	cert_ext_end(w);

	cert_ext_begin(w, OID_EXT_KEY_USAGE, 0);
	tls_der_begin(w, DER_SEQUENCE);
	tls_der_oid(w, OID_KP_SERVER_AUTH);
	tls_der_end(w);
	cert_ext_end(w);

	cert_ext_begin(w, OID_SAN, 0);
	tls_der_begin(w, DER_SEQUENCE);
	err = cert_san_entry(w, hostname);
	for (i = 0; i < nsans && !err; i++) {
		if (sans[i] && strcmp(sans[i], hostname) == 0)
			continue;
		err = cert_san_entry(w, sans[i]);
	}
	if (err)
		return err;
	tls_der_end(w);
	cert_ext_end(w);

	/* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
	br_sha1_init(&sha1);
	br_sha1_update(&sha1, pk->q, pk->qlen);
	br_sha1_out(&sha1, ski);
	cert_ext_begin(w, OID_SKI, 0);
	tls_der_prim(w, DER_OCTET_STRING, ski, sizeof(ski));
	cert_ext_end(w);

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

/* Encode and sign the certificate into cert_der; 0 or TLS_EENCODE/TLS_EKEY. */
int tls_selfsigned_der(const br_ec_private_key *sk, const br_ec_public_key *pk,
                       const char *hostname, const char *const *sans, size_t nsans,
                       int64_t not_before, int64_t not_after, const unsigned char serial[16],
                       unsigned char *cert_der, size_t cert_cap, size_t *cert_len)
{
	unsigned char sig[80], hash[br_sha256_SIZE];
	br_sha256_context sha;
	struct tls_der w;
	size_t tbs_start, siglen;
	int err;

	if (!sk || !pk || sk->curve != BR_EC_secp256r1 || pk->curve != BR_EC_secp256r1 ||
	    pk->qlen != 65 || pk->q[0] != 0x04)
		return TLS_EKEY;
	if (!cert_name_ok(hostname, CN_MAX) || (nsans && !sans) || not_after < not_before)
		return TLS_EENCODE;

	tls_der_init(&w, cert_der, cert_cap);
	tls_der_begin(&w, DER_SEQUENCE);              /* Certificate */
	tbs_start = w.len;
	tls_der_begin(&w, DER_SEQUENCE);              /* TBSCertificate */
	tls_der_begin(&w, DER_CTX_CONS | 0);
	tls_der_small_uint(&w, 2);                    /* v3 */
	tls_der_end(&w);
	tls_der_uint(&w, serial, 16);
	cert_sigalg(&w);
	cert_name(&w, hostname);                      /* issuer */
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_time(&w, not_before);
	tls_der_time(&w, not_after);
	tls_der_end(&w);
	cert_name(&w, hostname);                      /* subject */
	tls_der_begin(&w, DER_SEQUENCE);              /* SubjectPublicKeyInfo */
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_oid(&w, OID_EC_PUBKEY);
	tls_der_oid(&w, OID_PRIME256V1);
	tls_der_end(&w);
	tls_der_bits(&w, pk->q, pk->qlen);
	tls_der_end(&w);
	err = cert_extensions(&w, pk, hostname, sans, nsans);
	if (err)
		return err;
	tls_der_end(&w);                              /* TBSCertificate done */
	if (w.err)
		return w.err;

	br_sha256_init(&sha);
	br_sha256_update(&sha, w.buf + tbs_start, w.len - tbs_start);
	br_sha256_out(&sha, hash);
	siglen = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable,
	                                          hash, sk, sig);
	if (siglen == 0)
		return TLS_EKEY;

	cert_sigalg(&w);
	tls_der_bits(&w, sig, siglen);
	tls_der_end(&w);
	return tls_der_finish(&w, cert_len);
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

/* Write data to a 0600 temp file beside path and fsync it; the temp name goes to tmp. 0 or -errno. */
static int cert_write_tmp(const char *path, const void *data, size_t len, char *tmp, size_t tmpcap)
{
	const unsigned char *p = data;
	int fd, n;

	n = snprintf(tmp, tmpcap, "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= tmpcap)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0)
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

/* PEM-encode der under banner into a malloc'd buffer; NULL when out of memory. */
static char *cert_pem(const void *der, size_t len, const char *banner, size_t *pem_len)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);
	char *pem = malloc(n + 1);

	if (!pem)
		return NULL;
	*pem_len = br_pem_encode(pem, der, len, banner, BR_PEM_LINE64);
	return pem;
}

/* Generate key + certificate and store both atomically (key first). 0 or a negative error. */
int tls_selfsigned_create(const char *cert_path, const char *key_path,
                          const char *hostname, const char *const *sans, size_t nsans)
{
	unsigned char seed[48], serial[16], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char cert_der[CERT_DER_MAX], key_der[160];
	char cert_tmp[PATH_MAX], key_tmp[PATH_MAX];
	const br_ec_impl *ec = br_ec_get_default();
	br_hmac_drbg_context drbg;
	br_ec_private_key sk;
	br_ec_public_key pk;
	char *cert_pem_buf = NULL, *key_pem_buf = NULL;
	size_t cert_len = 0, key_len, cert_pem_len = 0, key_pem_len = 0, i;
	int64_t now = (int64_t)time(NULL);
	int err, nonzero = 0;

	if (!cert_path || !key_path)
		return -EINVAL;
	err = auth_random(seed, sizeof(seed));
	if (err)
		return TLS_ERNG;
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));

	err = TLS_EKEY;
	if (br_ec_keygen(&drbg.vtable, ec, &sk, kbuf, BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(ec, &pk, pbuf, &sk) == 0)
		goto out;

	br_hmac_drbg_generate(&drbg, serial, sizeof(serial));
	serial[0] &= 0x7f;                     /* a positive INTEGER (RFC 5280 4.1.2.2) */
	for (i = 0; i < sizeof(serial); i++)
		nonzero |= serial[i];
	if (!nonzero)
		serial[15] = 1;

	err = tls_selfsigned_der(&sk, &pk, hostname, sans, nsans, now - VALIDITY_BEFORE,
	                         now + VALIDITY_AFTER, serial, cert_der, sizeof(cert_der), &cert_len);
	if (err)
		goto out;
	key_len = br_encode_ec_raw_der(NULL, &sk, &pk);
	err = TLS_EENCODE;
	if (key_len == 0 || key_len > sizeof(key_der))
		goto out;
	br_encode_ec_raw_der(key_der, &sk, &pk);

	err = -ENOMEM;
	key_pem_buf = cert_pem(key_der, key_len, "EC PRIVATE KEY", &key_pem_len);
	cert_pem_buf = cert_pem(cert_der, cert_len, "CERTIFICATE", &cert_pem_len);
	if (!key_pem_buf || !cert_pem_buf)
		goto out;

	err = cert_write_tmp(key_path, key_pem_buf, key_pem_len, key_tmp, sizeof(key_tmp));
	if (err)
		goto out;
	err = cert_write_tmp(cert_path, cert_pem_buf, cert_pem_len, cert_tmp, sizeof(cert_tmp));
	if (err) {
		unlink(key_tmp);
		goto out;
	}
	/* Key first: a crash in between leaves no certificate, so the next start regenerates. */
	if (rename(key_tmp, key_path) < 0) {
		err = -errno;
		unlink(key_tmp);
		unlink(cert_tmp);
		goto out;
	}
	if (rename(cert_tmp, cert_path) < 0) {
		err = -errno;
		unlink(cert_tmp);
		goto out;
	}
	err = cert_sync_dir(key_path);
	if (!err)
		err = cert_sync_dir(cert_path);
out:
	explicit_bzero(kbuf, sizeof(kbuf));
	explicit_bzero(key_der, sizeof(key_der));
	explicit_bzero(&drbg, sizeof(drbg));
	if (key_pem_buf) {
		explicit_bzero(key_pem_buf, key_pem_len);
		free(key_pem_buf);
	}
	free(cert_pem_buf);
	return err;
}
