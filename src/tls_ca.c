/*
 * tls_ca — the household CA in the data directory and the server
 * certificate it issues: made when missing, checked (issuer, names, time
 * left) and issued again when stale. See tls.h for the files and rules.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sysconfig.h"
#include "tls.h"

#define DAY 86400

struct ca_dn {
	unsigned char b[256];
	size_t n;
};

static void ca_dn_append(void *ctx, const void *data, size_t len)
{
	struct ca_dn *d = ctx;

	if (len > sizeof d->b - d->n) {
		d->n = sizeof d->b + 1;           /* too long: marked unusable */
		return;
	}
	memcpy(d->b + d->n, data, len);
	d->n += len;
}

/* Decode one certificate: its end (Unix time), CA flag, public key (into pk, backed by xd) and subject DN. 0 or TLS_EPEM. */
static int ca_decode(const br_x509_certificate *c, br_x509_decoder_context *xd, struct ca_dn *dn,
                     int64_t *end, const br_x509_pkey **pk)
{
	if (dn)
		dn->n = 0;
	br_x509_decoder_init(xd, dn ? ca_dn_append : NULL, dn);
	br_x509_decoder_push(xd, c->data, c->data_len);
	*pk = br_x509_decoder_get_pkey(xd);
	if (!*pk || br_x509_decoder_last_error(xd) != 0 || (dn && (dn->n == 0 || dn->n > sizeof dn->b)))
		return TLS_EPEM;
	*end = ((int64_t)xd->notafter_days - 719528) * DAY + xd->notafter_seconds;
	return 0;
}

/* A GeneralName as DER (dNSName [2] or iPAddress [7]) into out (260 bytes); its length, 0 if too long. */
static size_t ca_general_name(const char *name, unsigned char *out)
{
	unsigned char ip[16];
	size_t n = tls_ip_parse(name, ip), k = 1;
	const void *v = ip;

	out[0] = 0x87;
	if (!n) {
		out[0] = 0x82;
		n = strlen(name);
		v = name;
		if (n > 253)
			return 0;
	}
	if (n >= 0x80)
		out[k++] = 0x81;
	out[k++] = (unsigned char)n;
	memcpy(out + k, v, n);
	return k + n;
}

/* 1 if der holds the GeneralName of name (the constraints and SANs are the only such bytes we write). */
static int ca_has_name(const br_x509_certificate *c, const char *name)
{
	unsigned char gn[260];
	size_t n = ca_general_name(name, gn);

	return n && memmem(c->data, c->data_len, gn, n) != NULL;
}

int tls_ca_permits(const struct tls_creds *ca, const char *name)
{
	unsigned char ip[16];
	size_t n = tls_ip_parse(name, ip);
	const char *s;

	if (n)
		return tls_ip_private(ip, n);
	/* A dNSName constraint permits the name and every name below it (RFC 5280 4.2.1.10). */
	for (s = name; s && *s; s = strchr(s, '.') ? strchr(s, '.') + 1 : NULL)
		if (ca_has_name(&ca->chain[0], s))
			return 1;
	return 0;
}

/* 1 if name is list[i] or below one of list[0..n). */
static int ca_covered(const char *name, const char *const *list, size_t n)
{
	size_t i, ln = strlen(name), li;

	for (i = 0; i < n; i++) {
		li = strlen(list[i]);
		if (ln >= li && !strcmp(name + ln - li, list[i]) && (ln == li || name[ln - li - 1] == '.'))
			return 1;
	}
	return 0;
}

/* Make a new household CA into cert/key. 0 or a negative error. */
static int ca_make(const char *cert, const char *key, const char *const *hosts, size_t nhosts)
{
	const char *names[8] = { "home.arpa", "lan", "localhost" };
	unsigned char serial[16], der[1024];
	const unsigned char *ders[1] = { der };
	struct tls_cert_spec s;
	struct tls_key k;
	size_t n = 3, i, len = 0;
	char cn[65];
	int64_t now = (int64_t)time(NULL);
	int rc;

	for (i = 0; i < nhosts && n < sizeof names / sizeof names[0]; i++) {
		unsigned char ip[16];
		if (hosts[i] && *hosts[i] && !tls_ip_parse(hosts[i], ip) && !ca_covered(hosts[i], names, n))
			names[n++] = hosts[i];
	}
	rc = tls_key_new(&k, serial);
	if (rc)
		goto out;
	snprintf(cn, sizeof cn, "postnook CA %.32s %02X%02X%02X", nhosts && hosts[0] ? hosts[0] : "",
	         serial[1], serial[2], serial[3]);
	memset(&s, 0, sizeof s);
	s.cn = cn;
	s.pk = &k.pk;
	s.sign = &k.sk;
	s.ca = 1;
	s.names = names;
	s.nnames = n;
	s.not_before = now - DAY;
	s.not_after = now + (int64_t)TLS_CA_DAYS * DAY;
	s.serial = serial;
	rc = tls_cert_der(&s, der, sizeof der, &len);
	if (!rc)
		rc = tls_pair_write(cert, 0640, ders, &len, 1, key, &k);
out:
	explicit_bzero(&k, sizeof k);
	return rc;
}

static void ca_paths(const char *dir, const char *c, const char *k, char cert[PATH_MAX], char key[PATH_MAX])
{
	snprintf(cert, PATH_MAX, "%s/%s", dir, c);
	snprintf(key, PATH_MAX, "%s/%s", dir, k);
}

int tls_ca_ensure(const char *dir, const char *const *hosts, size_t nhosts, struct tls_creds *ca, int *made)
{
	char cert[PATH_MAX], key[PATH_MAX];
	br_x509_decoder_context xd;
	const br_x509_pkey *pk;
	int64_t end;
	int rc;

	*made = 0;
	ca_paths(dir, "ca.pem", "ca-key.pem", cert, key);
	rc = tls_creds_load(ca, cert, key);
	if (rc == 0) {
		if (ca->key_type == BR_KEYTYPE_EC && ca->ec.curve == BR_EC_secp256r1 &&
		    ca_decode(&ca->chain[0], &xd, NULL, &end, &pk) == 0 && br_x509_decoder_isCA(&xd) &&
		    end - (int64_t)time(NULL) >= (int64_t)TLS_RENEW_DAYS * DAY)
			return 0;
		tls_creds_free(ca);
	} else if (rc != -ENOENT && rc != TLS_EPEM && rc != TLS_EMISMATCH && rc != TLS_EKEY) {
		return rc;                        /* unreadable (permissions?): never replace it then */
	}
	rc = ca_make(cert, key, hosts, nhosts);
	if (rc)
		return rc;
	*made = 1;
	return tls_creds_load(ca, cert, key);
}

const char *tls_leaf_stale(const char *dir, const struct tls_creds *ca, const char *const *want,
                           size_t nwant, unsigned char oldfp[32], int *have_old)
{
	static char why[300];
	char cert[PATH_MAX], key[PATH_MAX];
	br_x509_decoder_context xd;
	const br_x509_pkey *pk;
	struct tls_creds c;
	int64_t end;
	size_t i;
	int rc;

	*have_old = 0;
	ca_paths(dir, "cert.pem", "key.pem", cert, key);
	rc = tls_creds_load(&c, cert, key);
	if (rc)
		return rc == -ENOENT ? "there is none" : "it cannot be loaded";
	memcpy(oldfp, c.fingerprint, 32);
	*have_old = 1;
	if (c.chain_len != 2 || c.chain[1].data_len != ca->chain[0].data_len ||
	    memcmp(c.chain[1].data, ca->chain[0].data, c.chain[1].data_len))
		snprintf(why, sizeof why, "it was not issued by the household CA");
	else if (ca_decode(&c.chain[0], &xd, NULL, &end, &pk) || br_x509_decoder_isCA(&xd))
		snprintf(why, sizeof why, "it is not a server certificate");
	else if (end - (int64_t)time(NULL) < (int64_t)TLS_RENEW_DAYS * DAY)
		snprintf(why, sizeof why, "it expires in less than %d days", TLS_RENEW_DAYS);
	else
		why[0] = '\0';
	for (i = 0; i < nwant && !why[0]; i++)
		if (!ca_has_name(&c.chain[0], want[i]))
			snprintf(why, sizeof why, "it does not name %.250s", want[i]);
	tls_creds_free(&c);
	return why[0] ? why : NULL;
}

int tls_leaf_issue(const char *dir, const struct tls_creds *ca, const char *const *names, size_t n)
{
	char cert[PATH_MAX], key[PATH_MAX];
	unsigned char serial[16], der[2048], ip[16];
	const unsigned char *ders[2];
	size_t lens[2], i;
	br_x509_decoder_context xd;
	const br_x509_pkey *pk;
	struct tls_cert_spec s;
	struct tls_key k;
	struct ca_dn dn;
	int64_t now = (int64_t)time(NULL), end;
	int rc;

	rc = ca_decode(&ca->chain[0], &xd, &dn, &end, &pk);
	if (rc)
		return rc;
	if (pk->key_type != BR_KEYTYPE_EC || ca->key_type != BR_KEYTYPE_EC)
		return TLS_EKEY;
	memset(&s, 0, sizeof s);
	for (i = 0; i < n && !s.cn; i++)
		if (!tls_ip_parse(names[i], ip))
			s.cn = names[i];
	if (!s.cn)
		s.cn = "localhost";
	rc = tls_key_new(&k, serial);
	if (rc)
		goto out;
	s.issuer = dn.b;
	s.issuer_len = dn.n;
	s.pk = &k.pk;
	s.sign = &ca->ec;
	s.sign_pk = &pk->key.ec;
	s.names = names;
	s.nnames = n;
	/* 397 days in all, starting a day back for clocks behind ours; never past the CA. */
	s.not_before = now - DAY;
	s.not_after = s.not_before + (int64_t)TLS_LEAF_DAYS * DAY;
	if (s.not_after > end)
		s.not_after = end;
	s.serial = serial;
	rc = tls_cert_der(&s, der, sizeof der, &lens[0]);
	if (rc)
		goto out;
	ders[0] = der;
	ders[1] = ca->chain[0].data;
	lens[1] = ca->chain[0].data_len;
	ca_paths(dir, "cert.pem", "key.pem", cert, key);
	rc = tls_pair_write(cert, 0600, ders, lens, 2, key, &k);
out:
	explicit_bzero(&k, sizeof k);
	return rc;
}
