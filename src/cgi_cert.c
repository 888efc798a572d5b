/*
 * cgi_cert — facts about certificates for the pages: the one in use
 * (fingerprint, validity, subject, key type, read from its PEM file without
 * the key, else the fingerprint the daemon reports), and a pasted pair
 * checked with tls_creds_load() before the certificate page installs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cgi.h"
#include "serve_status.h"
#include "tls.h"

#if CONFIG_CGI

/* Days since 0000-01-01 (BearSSL's epoch) to Unix time. */
static int64_t x509_time(uint32_t days, uint32_t secs)
{
	return ((int64_t)days - 719528) * 86400 + secs;
}

struct dn_copy {
	unsigned char buf[256];
	size_t len;
};

static void dn_append(void *ctx, const void *data, size_t len)
{
	struct dn_copy *d = ctx;

	if (len > sizeof d->buf - d->len)
		len = sizeof d->buf - d->len;
	memcpy(d->buf + d->len, data, len);
	d->len += len;
}

/* Pull the commonName (OID 2.5.4.3) out of a DER subject, if printable. */
static void dn_cn(const struct dn_copy *d, char *out, size_t cap)
{
	static const unsigned char oid[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
	size_t i, n, k;

	out[0] = '\0';
	for (i = 0; i + sizeof oid + 2 <= d->len; i++) {
		if (memcmp(d->buf + i, oid, sizeof oid))
			continue;
		i += sizeof oid;
		n = d->buf[i + 1];
		if (n >= 128 || i + 2 + n > d->len || n >= cap)
			return;
		for (k = 0; k < n; k++) {
			unsigned char c = d->buf[i + 2 + k];
			out[k] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		out[n] = '\0';
		return;
	}
}

/* Describe a leaf certificate (DER): fingerprint, validity, subject CN, key type. 0 or TLS_EPEM. */
static int cert_describe(const unsigned char *der, size_t len, struct cgi_cert *out)
{
	br_x509_decoder_context xd;
	br_sha256_context h;
	const br_x509_pkey *pk;
	unsigned char fp[32];
	struct dn_copy dn;

	memset(&dn, 0, sizeof dn);
	br_x509_decoder_init(&xd, dn_append, &dn);
	br_x509_decoder_push(&xd, der, len);
	pk = br_x509_decoder_get_pkey(&xd);
	if (!pk || br_x509_decoder_last_error(&xd) != 0)
		return TLS_EPEM;
	br_sha256_init(&h);
	br_sha256_update(&h, der, len);
	br_sha256_out(&h, fp);
	tls_fingerprint_str(fp, out->fingerprint);
	out->not_before = x509_time(xd.notbefore_days, xd.notbefore_seconds);
	out->not_after = x509_time(xd.notafter_days, xd.notafter_seconds);
	dn_cn(&dn, out->subject, sizeof out->subject);
	if (pk->key_type == BR_KEYTYPE_RSA) {
		const unsigned char *n = pk->key.rsa.n;
		size_t nlen = pk->key.rsa.nlen, bits;
		while (nlen && !*n) {
			n++;
			nlen--;
		}
		bits = nlen * 8;
		for (unsigned char top = nlen ? n[0] : 0; bits && !(top & 0x80); top = (unsigned char)(top << 1))
			bits--;
		snprintf(out->keydesc, sizeof out->keydesc, "RSA %zu-bit", bits);
	} else {
		int c = pk->key.ec.curve;
		snprintf(out->keydesc, sizeof out->keydesc, "ECDSA %s", c == BR_EC_secp256r1 ? "P-256"
		         : c == BR_EC_secp384r1 ? "P-384" : c == BR_EC_secp521r1 ? "P-521" : "");
	}
	out->loaded = 1;
	return 0;
}

struct pem_grab {
	unsigned char der[16384];
	size_t len;
	int overflow;
};

static void cert_pem_sink(void *ctx, const void *data, size_t len)
{
	struct pem_grab *g = ctx;

	if (len > sizeof g->der - g->len) {
		g->overflow = 1;
		return;
	}
	memcpy(g->der + g->len, data, len);
	g->len += len;
}

/*
 * Describe the first certificate of a PEM file without its key: the web
 * server's user may read the certificate but not the daemon's key.
 * 0, -errno, or TLS_EPEM.
 */
static int cert_file_info(const char *path, struct cgi_cert *out)
{
	static unsigned char text[65536];
	static struct pem_grab g;
	br_pem_decoder_context pc;
	size_t len = 0, off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), in_cert = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, text + len, sizeof text - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof text)
			break;
	}
	close(fd);
	memset(&g, 0, sizeof g);
	br_pem_decoder_init(&pc);
	while (off < len) {
		size_t k = br_pem_decoder_push(&pc, text + off, len - off);
		off += k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in_cert = !strcmp(br_pem_decoder_name(&pc), "CERTIFICATE");
			br_pem_decoder_setdest(&pc, in_cert ? cert_pem_sink : NULL, &g);
			break;
		case BR_PEM_END_OBJ:
			if (in_cert && !g.overflow && g.len)
				return cert_describe(g.der, g.len, out);
			in_cert = 0;
			g.len = 0;
			break;
		case BR_PEM_ERROR:
			return TLS_EPEM;
		}
	}
	return TLS_EPEM;
}

/* Check a certificate and key pair (the key must match) and describe the certificate. 0 or the tls error. */
int cgi_cert_load(const char *cert, const char *key, struct cgi_cert *out)
{
	struct tls_creds c;
	int rc = tls_creds_load(&c, cert, key);

	if (rc == 0) {
		rc = cert_describe(c.chain[0].data, c.chain[0].data_len, out);
		tls_creds_free(&c);
	}
	return rc;
}

/* Read a small file into buf (cap bytes with the NUL). Its length, -errno, or -EFBIG when it does not fit. */
static long file_read(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	buf[len] = '\0';
	return (long)len;
}

int cgi_cert_ca(const struct cgi_req *r, struct cgi_cert *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->cert_path, sizeof out->cert_path, "%s/ca.pem", r->cfg.datadir);
	return cert_file_info(out->cert_path, out);
}

long cgi_cert_ca_pem(const struct cgi_req *r, char *buf, size_t cap)
{
	char path[CFG_PATH_MAX + 16];

	snprintf(path, sizeof path, "%s/ca.pem", r->cfg.datadir);
	return file_read(path, buf, cap);
}

int cgi_cert_renewal(const struct cgi_req *r, struct cgi_renewal *out)
{
	char path[CFG_PATH_MAX + 32], line[512];
	long long when;
	int n = 0;
	long rc;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s/cert.renewed", r->cfg.datadir);
	rc = file_read(path, line, sizeof line);
	if (rc < 0)
		return rc == -ENOENT ? -ENOENT : -EINVAL;
	if (sscanf(line, "%lld %95s %95s %n", &when, out->old_fp, out->new_fp, &n) != 3 || n == 0 ||
	    strlen(out->new_fp) != 95)
		return -EINVAL;
	out->when = when;
	snprintf(out->reason, sizeof out->reason, "%.*s", (int)strcspn(line + n, "\n"), line + n);
	return 0;
}

/* Describe the certificate in use (see cgi.h). 0, -errno, -ENOTSUP (no TLS) or a tls error, with out->err set. */
int cgi_cert_info(const struct cgi_req *r, struct cgi_cert *out)
{
	char self[CFG_PATH_MAX + 16];
	int rc;

	memset(out, 0, sizeof *out);
	snprintf(self, sizeof self, "%s/cert.pem", r->cfg.datadir);
	if (r->cfg.cert[0]) {
		snprintf(out->cert_path, sizeof out->cert_path, "%s", r->cfg.cert);
		snprintf(out->key_path, sizeof out->key_path, "%s", r->cfg.key);
	} else {
		snprintf(out->cert_path, sizeof out->cert_path, "%s", self);
		snprintf(out->key_path, sizeof out->key_path, "%s/key.pem", r->cfg.datadir);
	}
	out->self_made = !strcmp(out->cert_path, self);
	if (!CONFIG_TLS) {
		snprintf(out->err, sizeof out->err, "This build has no TLS.");
		return -ENOTSUP;
	}
	rc = cert_file_info(out->cert_path, out);
	if (rc && cgi_daemon_pid(r)) {
		static struct serve_status s;
		if (serve_status_read(r->cfg.datadir, &s) == 0 && s.fingerprint[0]) {
			snprintf(out->fingerprint, sizeof out->fingerprint, "%s", s.fingerprint);
			out->from_daemon = 1;
		}
	}
	if (rc == -ENOENT)
		snprintf(out->err, sizeof out->err, "No certificate yet: the server makes one when it first starts.");
	else if (rc)
		snprintf(out->err, sizeof out->err, "The certificate cannot be read: %s.", tls_strerror(rc));
	return rc;
}

#endif
