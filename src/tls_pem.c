/*
 * tls_pem — load a PEM certificate chain and private key into struct tls_creds,
 * check that they belong together, and describe errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysconfig.h"
#include "tls.h"

#define PEM_FILE_MAX (64 * 1024)   /* a chain of four 4096-bit certificates is about 10 KiB */
#define PEM_OBJ_MAX  8             /* objects kept per file */
#define PEM_NAME_MAX 32            /* longest banner kept, with its NUL */

struct pem_obj {
	char name[PEM_NAME_MAX];       /* PEM banner, e.g. "CERTIFICATE" */
	size_t off, len;               /* decoded bytes in pem_file.der */
};

struct pem_file {
	unsigned char *der;            /* decoded objects, back to back */
	size_t der_len, der_cap;
	struct pem_obj obj[PEM_OBJ_MAX];
	size_t nobj;
	int overflow;
};

const char *tls_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case TLS_EPEM: return "malformed PEM file, or it lacks the expected objects";
	case TLS_EKEY: return "unsupported key type or size";
	case TLS_EMISMATCH: return "the private key does not match the certificate";
	case TLS_ERNG: return "no randomness available";
	case TLS_EENCODE: return "certificate encoding failed (name too long or bad SAN?)";
	default:
		if (err < 0 && err > -4096)
			return strerror(-err);
		return "unknown TLS error";
	}
}

/* Format fp as 32 colon-separated upper-case hex pairs; out holds 96 bytes. */
void tls_fingerprint_str(const unsigned char fp[32], char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < 32; i++) {
		out[3 * i] = hex[fp[i] >> 4];
		out[3 * i + 1] = hex[fp[i] & 15];
		out[3 * i + 2] = i < 31 ? ':' : '\0';
	}
}

/* Read a whole file of at most PEM_FILE_MAX bytes into a malloc'd buffer. 0 or -errno. */
static int pem_slurp(const char *path, unsigned char **data, size_t *len)
{
	unsigned char *buf;
	size_t n = 0;
	int fd, err;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(PEM_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* Read one byte past the cap to tell "exactly the cap" from "too big". */
	while (n <= PEM_FILE_MAX) {
		ssize_t k = read(fd, buf + n, PEM_FILE_MAX + 1 - n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > PEM_FILE_MAX) {
		err = -EFBIG;
		goto fail;
	}
	close(fd);
	*data = buf;
	*len = n;
	return 0;
fail:
	close(fd);
	free(buf);
	return err;
}

/* PEM decoder sink: append decoded bytes to the current object, bounded by der_cap. */
static void pem_sink(void *ctx, const void *src, size_t len)
{
	struct pem_file *pf = ctx;

	if (pf->overflow || len > pf->der_cap - pf->der_len) {
		pf->overflow = 1;
		return;
	}
	memcpy(pf->der + pf->der_len, src, len);
	pf->der_len += len;
}

/* Keep a banner; one too long for any object we use is stored empty. */
static void pem_name_copy(char dst[PEM_NAME_MAX], const char *src)
{
	size_t n = strnlen(src, PEM_NAME_MAX);

	if (n == PEM_NAME_MAX)
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Decode every PEM object in text into pf (pf->der is allocated here). 0 or TLS_EPEM/-ENOMEM. */
static int pem_decode(struct pem_file *pf, const unsigned char *text, size_t len)
{
	br_pem_decoder_context dc;
	int inside = 0, tail = 0;
	const unsigned char *p = text;

	memset(pf, 0, sizeof(*pf));
	pf->der_cap = len;               /* base64 never expands */
	pf->der = malloc(len ? len : 1);
	if (!pf->der)
		return -ENOMEM;
	br_pem_decoder_init(&dc);
	br_pem_decoder_setdest(&dc, pem_sink, pf);
	for (;;) {
		size_t k;

		if (len == 0) {
			if (tail)
				break;
			/* A final newline lets the decoder see an unterminated END line. */
			p = (const unsigned char *)"\n";
			len = 1;
			tail = 1;
		}
		k = br_pem_decoder_push(&dc, p, len);
		p += k;
		len -= k;
		switch (br_pem_decoder_event(&dc)) {
		case BR_PEM_BEGIN_OBJ:
			if (inside || pf->nobj == PEM_OBJ_MAX)
				return TLS_EPEM;
			inside = 1;
			pem_name_copy(pf->obj[pf->nobj].name, br_pem_decoder_name(&dc));
			pf->obj[pf->nobj].off = pf->der_len;
			break;
		case BR_PEM_END_OBJ:
			if (!inside)
				return TLS_EPEM;
			inside = 0;
			pf->obj[pf->nobj].len = pf->der_len - pf->obj[pf->nobj].off;
			pf->nobj++;
			break;
		case BR_PEM_ERROR:
			return TLS_EPEM;
		default:
			break;
		}
	}
	if (inside || pf->overflow || pf->nobj == 0)
		return TLS_EPEM;
	return 0;
}

/* Read and decode one PEM file. 0, -errno or TLS_EPEM. */
static int pem_load(struct pem_file *pf, const char *path)
{
	unsigned char *text;
	size_t len = 0;
	int err;

	memset(pf, 0, sizeof(*pf));
	if (!path)
		return -EINVAL;
	err = pem_slurp(path, &text, &len);
	if (err)
		return err;
	err = pem_decode(pf, text, len);
	explicit_bzero(text, len);       /* may hold a private key */
	free(text);
	return err;
}

static void pem_file_free(struct pem_file *pf)
{
	if (pf->der) {
		explicit_bzero(pf->der, pf->der_cap);
		free(pf->der);
	}
	memset(pf, 0, sizeof(*pf));
}

/* Compare two unsigned big-endian integers, ignoring leading zeros; 1 if equal. */
static int pem_uint_eq(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Check the private key against the leaf's public key: 0 or TLS_EMISMATCH/TLS_EKEY. */
static int pem_key_matches(const br_x509_pkey *pub, const br_skey_decoder_context *kd)
{
	unsigned char buf[BR_EC_KBUF_PUB_MAX_SIZE > 512 ? BR_EC_KBUF_PUB_MAX_SIZE : 512];
	int type = br_skey_decoder_key_type(kd);

	if (pub->key_type != type)
		return TLS_EMISMATCH;
	if (type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(kd);
		br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
		unsigned char sig[512], hash[br_sha256_SIZE], back[br_sha256_SIZE];
		size_t nlen = modulus(NULL, sk);

		if (nlen == 0 || nlen > sizeof(buf) || modulus(buf, sk) != nlen)
			return TLS_EKEY;
		if (!pem_uint_eq(buf, nlen, pub->key.rsa.n, pub->key.rsa.nlen))
			return TLS_EMISMATCH;
		/*
		 * Same modulus; now prove the CRT parts agree with the certificate's
		 * exponent by a signature round trip. (BearSSL 0.6's
		 * br_rsa_compute_pubexp() returns 0 for many valid keys, so it is no help.)
		 */
		memset(hash, 0x5a, sizeof(hash));
		if (!br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, sizeof(hash), sk, sig) ||
		    !br_rsa_pkcs1_vrfy_get_default()(sig, nlen, BR_HASH_OID_SHA256, sizeof(back),
		                                     &pub->key.rsa, back) ||
		    memcmp(hash, back, sizeof(hash)) != 0)
			return TLS_EMISMATCH;
		return 0;
	} else {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(kd);
		size_t qlen;

		if (pub->key.ec.curve != sk->curve)
			return TLS_EMISMATCH;
		qlen = br_ec_compute_pub(br_ec_get_default(), NULL, buf, sk);
		if (qlen == 0)
			return TLS_EKEY;
		if (qlen != pub->key.ec.qlen || memcmp(buf, pub->key.ec.q, qlen) != 0)
			return TLS_EMISMATCH;
		return 0;
	}
}

/* Decode the key object and check it is a supported type and size. 0, TLS_EPEM or TLS_EKEY. */
static int pem_decode_key(br_skey_decoder_context *kd, const struct pem_file *kf)
{
	const struct pem_obj *o = NULL;
	size_t i;
	int err;

	for (i = 0; i < kf->nobj && !o; i++) {
		const char *n = kf->obj[i].name;

		if (!strcmp(n, "RSA PRIVATE KEY") || !strcmp(n, "EC PRIVATE KEY") ||
		    !strcmp(n, "PRIVATE KEY"))
			o = &kf->obj[i];
	}
	if (!o)
		return TLS_EPEM;
	br_skey_decoder_init(kd);
	br_skey_decoder_push(kd, kf->der + o->off, o->len);
	err = br_skey_decoder_last_error(kd);
	if (err == BR_ERR_X509_UNSUPPORTED)
		return TLS_EKEY;
	if (err != 0)
		return TLS_EPEM;
	switch (br_skey_decoder_key_type(kd)) {
	case BR_KEYTYPE_RSA: {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(kd);

		if (sk->n_bitlen < 2048 || sk->n_bitlen > 4096)
			return TLS_EKEY;
		return 0;
	}
	case BR_KEYTYPE_EC: {
		int curve = br_skey_decoder_get_ec(kd)->curve;

		if (curve != BR_EC_secp256r1 && curve != BR_EC_secp384r1 && curve != BR_EC_secp521r1)
			return TLS_EKEY;
		return 0;
	}
	default:
		return TLS_EKEY;
	}
}

/* Copy n bytes to *p and advance it; returns the copy. */
static unsigned char *pem_put(unsigned char **p, const void *src, size_t n)
{
	unsigned char *dst = *p;

	memcpy(dst, src, n);
	*p += n;
	return dst;
}

/* Load chain + key into c (everything in one allocation). 0 or a negative error. */
int tls_creds_load(struct tls_creds *c, const char *cert_path, const char *key_path)
{
	struct pem_file cf, kf;
	br_skey_decoder_context kd;
	br_x509_decoder_context xd;
	br_sha256_context sha;
	const br_x509_pkey *pub;
	const struct pem_obj *certs[TLS_MAX_CHAIN];
	size_t ncert = 0, total = 0, i;
	unsigned char *p;
	int err;

	memset(c, 0, sizeof(*c));
	memset(&kf, 0, sizeof(kf));
	err = pem_load(&cf, cert_path);
	if (err)
		goto out;
	err = pem_load(&kf, key_path);
	if (err)
		goto out;

	err = TLS_EPEM;
	for (i = 0; i < cf.nobj; i++) {
		if (strcmp(cf.obj[i].name, "CERTIFICATE") != 0)
			continue;
		if (ncert == TLS_MAX_CHAIN || cf.obj[i].len == 0)
			goto out;
		certs[ncert++] = &cf.obj[i];
		total += cf.obj[i].len;
	}
	if (ncert == 0)
		goto out;

	err = pem_decode_key(&kd, &kf);
	if (err)
		goto out;

	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, cf.der + certs[0]->off, certs[0]->len);
	pub = br_x509_decoder_get_pkey(&xd);
	if (!pub) {
		err = TLS_EPEM;
		goto out;
	}
	err = pem_key_matches(pub, &kd);
	if (err)
		goto out;

	c->key_type = br_skey_decoder_key_type(&kd);
	c->issuer_key_type = br_x509_decoder_get_signer_key_type(&xd);
	if (c->issuer_key_type == 0)
		c->issuer_key_type = c->key_type;
	if (c->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&kd);

		total += sk->plen + sk->qlen + sk->dplen + sk->dqlen + sk->iqlen;
	} else {
		total += br_skey_decoder_get_ec(&kd)->xlen;
	}

	err = -ENOMEM;
	c->mem = malloc(total);
	if (!c->mem)
		goto out;
	c->mem_len = total;
	p = c->mem;
	for (i = 0; i < ncert; i++) {
		c->chain[i].data = pem_put(&p, cf.der + certs[i]->off, certs[i]->len);
		c->chain[i].data_len = certs[i]->len;
	}
	c->chain_len = ncert;
	if (c->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&kd);

		c->rsa.n_bitlen = sk->n_bitlen;
		c->rsa.p = pem_put(&p, sk->p, c->rsa.plen = sk->plen);
		c->rsa.q = pem_put(&p, sk->q, c->rsa.qlen = sk->qlen);
		c->rsa.dp = pem_put(&p, sk->dp, c->rsa.dplen = sk->dplen);
		c->rsa.dq = pem_put(&p, sk->dq, c->rsa.dqlen = sk->dqlen);
		c->rsa.iq = pem_put(&p, sk->iq, c->rsa.iqlen = sk->iqlen);
	} else {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(&kd);

		c->ec.curve = sk->curve;
		c->ec.x = pem_put(&p, sk->x, c->ec.xlen = sk->xlen);
	}
	br_sha256_init(&sha);
	br_sha256_update(&sha, c->chain[0].data, c->chain[0].data_len);
	br_sha256_out(&sha, c->fingerprint);
	err = 0;
out:
	explicit_bzero(&kd, sizeof(kd));
	pem_file_free(&cf);
	pem_file_free(&kf);
	if (err)
		tls_creds_free(c);
	return err;
}

/* Wipe and free the credentials; safe on a zeroed or already freed struct. */
void tls_creds_free(struct tls_creds *c)
{
	if (c->mem) {
		explicit_bzero(c->mem, c->mem_len);
		free(c->mem);
	}
	explicit_bzero(c, sizeof(*c));
}
