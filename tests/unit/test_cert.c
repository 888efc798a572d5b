/*
 * test_cert — unit tests for the DER writer, the self-signed certificate,
 * PEM credentials loading and the TLS server setup (in-process handshake).
 *
 *   test_cert                              run the tests
 *   test_cert --generate DIR HOST [SAN...] a household CA (DIR/ca.pem, ca-key.pem) and a server certificate
 *                                          (DIR/cert.pem, key.pem) for HOST and SANs; prints its fingerprint
 *   test_cert --load CERT KEY              load a pair; prints "ok rsa|ec FINGERPRINT" or "error CODE MSG"
 *   test_cert --serve CERT KEY [N]         print a loopback port, serve N TLS connections (default 1):
 *                                          each reads a line, answers "echo: LINE" (blocking br_sslio; tests only)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysconfig.h"
#include "tls.h"
#include "tls_der.h"
#include "check.h"

/* Compare the writer's output with an expected byte string. */
static int der_is(struct tls_der *w, const char *hex)
{
	unsigned char want[512];
	size_t n = 0, len;
	unsigned v;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1 || n == sizeof(want))
			return 0;
		want[n++] = (unsigned char)v;
		hex += 2;
	}
	if (tls_der_finish(w, &len) != 0 || len != n || memcmp(w->buf, want, n) != 0) {
		fprintf(stderr, "  got:");
		for (size_t i = 0; i < w->len && i < 40; i++)
			fprintf(stderr, " %02x", w->buf[i]);
		fprintf(stderr, "\n");
		return 0;
	}
	return 1;
}

static void test_der_lengths(void)
{
	unsigned char buf[600], data[300];
	struct tls_der w;

	memset(data, 0xab, sizeof(data));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_prim(&w, DER_OCTET_STRING, data, 3);
	CHECK(der_is(&w, "04 03 ababab"));

	tls_der_init(&w, buf, sizeof(buf));
	tls_der_prim(&w, DER_OCTET_STRING, data, 127);
	CHECK(tls_der_finish(&w, &(size_t){0}) == 0 && w.len == 129 && buf[1] == 0x7f);

	tls_der_init(&w, buf, sizeof(buf));
	tls_der_prim(&w, DER_OCTET_STRING, data, 128);
	CHECK(w.len == 131 && buf[0] == 0x04 && buf[1] == 0x81 && buf[2] == 0x80 && buf[3] == 0xab);

	tls_der_init(&w, buf, sizeof(buf));
	tls_der_prim(&w, DER_OCTET_STRING, data, 256);
	CHECK(w.len == 260 && buf[1] == 0x82 && buf[2] == 0x01 && buf[3] == 0x00);

	/* Constructed: the length is inserted when the value is closed. */
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_prim(&w, DER_OCTET_STRING, data, 200);
	tls_der_end(&w);
	CHECK(w.len == 206 && buf[0] == 0x30 && buf[1] == 0x81 && buf[2] == 0xcb &&
	      buf[3] == 0x04 && buf[4] == 0x81 && buf[5] == 0xc8);

	tls_der_init(&w, buf, sizeof(buf));
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_begin(&w, DER_CTX_CONS | 3);
	tls_der_end(&w);
	tls_der_bool(&w, 1);
	tls_der_end(&w);
	CHECK(der_is(&w, "30 05 a3 00 01 01 ff"));

	/* Bounds: every write checks capacity; errors are sticky. */
	tls_der_init(&w, buf, 4);
	tls_der_prim(&w, DER_OCTET_STRING, data, 3);
	CHECK(tls_der_finish(&w, &(size_t){0}) == TLS_EENCODE);
	tls_der_init(&w, buf, 5);
	tls_der_prim(&w, DER_OCTET_STRING, data, 3);
	CHECK(tls_der_finish(&w, &(size_t){0}) == 0);
	tls_der_init(&w, buf, 130);                   /* content fits, the long length does not */
	tls_der_begin(&w, DER_SEQUENCE);
	tls_der_prim(&w, DER_OCTET_STRING, data, 126);
	tls_der_end(&w);
	CHECK(tls_der_finish(&w, &(size_t){0}) == TLS_EENCODE);
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_begin(&w, DER_SEQUENCE);             /* left open */
	CHECK(tls_der_finish(&w, &(size_t){0}) == TLS_EENCODE);
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_end(&w);                             /* nothing open */
	CHECK(tls_der_finish(&w, &(size_t){0}) == TLS_EENCODE);
	tls_der_init(&w, buf, sizeof(buf));
	for (int i = 0; i <= TLS_DER_MAX_DEPTH; i++)
		tls_der_begin(&w, DER_SEQUENCE);
	CHECK(w.err == TLS_EENCODE);
	tls_der_init(&w, NULL, 100);
	tls_der_bool(&w, 0);
	CHECK(tls_der_finish(&w, &(size_t){0}) == TLS_EENCODE);
}

static void test_der_integers(void)
{
	static const unsigned char top[] = { 0x80 }, lead[] = { 0x00, 0x00, 0x7f },
		lead_top[] = { 0x00, 0x00, 0xff, 0x01 }, zeros[] = { 0, 0 };
	unsigned char buf[64];
	struct tls_der w;

	tls_der_init(&w, buf, sizeof(buf));
	tls_der_uint(&w, top, sizeof(top));
	CHECK(der_is(&w, "02 02 00 80"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_uint(&w, lead, sizeof(lead));
	CHECK(der_is(&w, "02 01 7f"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_uint(&w, lead_top, sizeof(lead_top));
	CHECK(der_is(&w, "02 03 00 ff 01"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_uint(&w, zeros, sizeof(zeros));
	CHECK(der_is(&w, "02 01 00"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_small_uint(&w, 2);
	tls_der_small_uint(&w, 0);
	tls_der_small_uint(&w, 0x8000);
	CHECK(der_is(&w, "02 01 02  02 01 00  02 03 00 80 00"));
}

static void test_der_oids(void)
{
	unsigned char buf[64];
	struct tls_der w;

	tls_der_init(&w, buf, sizeof(buf));
	tls_der_oid(&w, "1.2.840.10045.4.3.2");
	CHECK(der_is(&w, "06 08 2a 86 48 ce 3d 04 03 02"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_oid(&w, "1.2.840.113549.1.1.11");
	CHECK(der_is(&w, "06 09 2a 86 48 86 f7 0d 01 01 0b"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_oid(&w, "2.5.29.17");
	CHECK(der_is(&w, "06 03 55 1d 11"));
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_oid(&w, "2.999.4294967295");         /* first subidentifier 1079, big arc */
	CHECK(der_is(&w, "06 07 88 37 8f ff ff ff 7f"));

	static const char *const bad[] = { "", "1", "3.1", "1.40", "1.2..3", "1.2.", ".1.2",
	                                   "1.2.x", "1.2.4294967296", "1.2.3 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tls_der_init(&w, buf, sizeof(buf));
		tls_der_oid(&w, bad[i]);
		CHECK(w.err == TLS_EENCODE);
	}
}

static void test_der_times(void)
{
	static const struct { int64_t t; const char *hex; } v[] = {
		{ 0, "17 0d 373030313031303030303030 5a" },                       /* 700101000000Z */
		{ 951827696, "17 0d 303030323239313233343536 5a" },               /* 000229123456Z */
		{ 2524607999LL, "17 0d 343931323331323335393539 5a" },            /* 491231235959Z */
		{ 2524608000LL, "18 0f 3230353030313031303030303030 5a" },        /* 20500101000000Z */
		{ -631152000LL, "17 0d 353030313031303030303030 5a" },            /* 500101000000Z */
		{ -631152001LL, "18 0f 3139343931323331323335393539 5a" },        /* 19491231235959Z */
		{ 253402300799LL, "18 0f 3939393931323331323335393539 5a" },      /* 99991231235959Z */
		{ -62135596800LL, "18 0f 3030303130313031303030303030 5a" },      /* 00010101000000Z */
	};
	unsigned char buf[64];
	struct tls_der w;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tls_der_init(&w, buf, sizeof(buf));
		tls_der_time(&w, v[i].t);
		CHECK(der_is(&w, v[i].hex));
	}
	tls_der_init(&w, buf, sizeof(buf));
	tls_der_time(&w, 253402300800LL);            /* year 10000 */
	CHECK(w.err == TLS_EENCODE);
}

/* A deterministic P-256 key pair for the known-answer tests. */
static void test_key(br_ec_private_key *sk, br_ec_public_key *pk, unsigned char *kbuf,
                     unsigned char *pbuf, const char *seed)
{
	br_hmac_drbg_context drbg;

	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, strlen(seed));
	br_ec_keygen(&drbg.vtable, br_ec_get_default(), sk, kbuf, BR_EC_secp256r1);
	br_ec_compute_pub(br_ec_get_default(), pk, pbuf, sk);
}

/* Read one TLV header at *p (bounded by end); returns the content length or -1. */
static long der_read(const unsigned char **p, const unsigned char *end, unsigned tag)
{
	size_t len, n;

	if (end - *p < 2 || (*p)[0] != tag)
		return -1;
	len = (*p)[1];
	*p += 2;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 2 || (size_t)(end - *p) < n)
			return -1;
		for (len = 0; n > 0; n--)
			len = (len << 8) | *(*p)++;
	}
	if ((size_t)(end - *p) < len)
		return -1;
	return (long)len;
}

struct dn_buf { unsigned char b[256]; size_t n; };

static void dn_append(void *ctx, const void *buf, size_t len)
{
	struct dn_buf *d = ctx;

	if (len <= sizeof(d->b) - d->n) {
		memcpy(d->b + d->n, buf, len);
		d->n += len;
	}
}

/* Check that der's signature verifies with pk (Certificate ::= SEQUENCE { tbs, sigalg, BIT STRING sig }). */
static void check_signed(const unsigned char *der, size_t len, const br_ec_public_key *pk)
{
	const unsigned char *p = der, *end = der + len, *tbs;
	unsigned char hash[32];
	br_sha256_context sha;
	long l;

	l = der_read(&p, end, 0x30);
	CHECK(l >= 0 && p + l == end);
	tbs = p;
	l = der_read(&p, end, 0x30);
	CHECK(l > 0);
	if (l <= 0)
		return;
	p += l;
	br_sha256_init(&sha);
	br_sha256_update(&sha, tbs, (size_t)(p - tbs));
	br_sha256_out(&sha, hash);
	l = der_read(&p, end, 0x30);
	CHECK(l == 10);
	p += l > 0 ? l : 0;
	l = der_read(&p, end, 0x03);
	CHECK(l > 8 && p[0] == 0 && p + l == end);
	if (l > 8) {
		CHECK(br_ecdsa_i31_vrfy_asn1(br_ec_get_default(), hash, sizeof(hash), pk, p + 1, (size_t)l - 1) == 1);
		hash[0] ^= 1;
		CHECK(br_ecdsa_i31_vrfy_asn1(br_ec_get_default(), hash, sizeof(hash), pk, p + 1, (size_t)l - 1) == 0);
	}
}

/* The household CA and a server certificate it issues: known bytes, signatures, bounds. */
static void test_issued(void)
{
	static const char *const sans[] = { "mail.example.org", "192.168.1.1", "fd00::1", "router.lan" };
	static const char *const permitted[] = { "home.arpa", "lan", "router" };
	static const unsigned char serial[16] = { 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char cakbuf[BR_EC_KBUF_PRIV_MAX_SIZE], capbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char der[2048], cader[1024];
	br_ec_private_key sk, cask;
	br_ec_public_key pk, capk;
	br_x509_decoder_context xd;
	br_x509_pkey *pub;
	struct dn_buf dn = { .n = 0 }, cadn = { .n = 0 };
	struct tls_cert_spec s;
	size_t len = 0, calen = 0, cap;
	int err;

	test_key(&cask, &capk, cakbuf, capbuf, "postnook test CA key");
	test_key(&sk, &pk, kbuf, pbuf, "postnook test key 1");
	memset(&s, 0, sizeof s);
	s.cn = "postnook CA router 7F0102";
	s.pk = &capk;
	s.sign = &cask;
	s.ca = 1;
	s.names = permitted;
	s.nnames = 3;
	s.not_before = 1700000000;
	s.not_after = 2000000000;
	s.serial = serial;
	CHECK(tls_cert_der(&s, cader, sizeof(cader), &calen) == 0);
	CHECK(calen > 300 && calen < 800);
	br_x509_decoder_init(&xd, dn_append, &cadn);
	br_x509_decoder_push(&xd, cader, calen);
	CHECK(br_x509_decoder_last_error(&xd) == 0 && br_x509_decoder_isCA(&xd));
	check_signed(cader, calen, &capk);
	/* basicConstraints CA:TRUE pathLen 0, critical; keyUsage keyCertSign+cRLSign; the constraints, critical. */
	CHECK(memmem(cader, calen, "\x06\x03\x55\x1d\x13\x01\x01\xff\x04\x08\x30\x06\x01\x01\xff\x02\x01\x00", 18) != NULL);
	CHECK(memmem(cader, calen, "\x06\x03\x55\x1d\x0f\x01\x01\xff\x04\x04\x03\x02\x01\x06", 14) != NULL);
	CHECK(memmem(cader, calen, "\x06\x03\x55\x1d\x1e\x01\x01\xff", 8) != NULL);
	CHECK(memmem(cader, calen, "\x30\x05\x82\x03lan", 7) != NULL);
	CHECK(memmem(cader, calen, "\x30\x0a\x87\x08\xc0\xa8\x00\x00\xff\xff\x00\x00", 12) != NULL);

	/* The server certificate, issued by it. */
	s.cn = "mail.example.org";
	s.issuer = cadn.b;
	s.issuer_len = cadn.n;
	s.pk = &pk;
	s.sign_pk = &capk;
	s.ca = 0;
	s.names = sans;
	s.nnames = 4;
	s.not_after = 1700000000 + 397 * 86400;
	err = tls_cert_der(&s, der, sizeof(der), &len);
	CHECK(err == 0);
	CHECK(len > 300 && len < 1024);
	br_x509_decoder_init(&xd, dn_append, &dn);
	br_x509_decoder_push(&xd, der, len);
	pub = br_x509_decoder_get_pkey(&xd);
	CHECK(br_x509_decoder_last_error(&xd) == 0);
	CHECK(pub && pub->key_type == BR_KEYTYPE_EC && pub->key.ec.curve == BR_EC_secp256r1 &&
	      pub->key.ec.qlen == pk.qlen && memcmp(pub->key.ec.q, pk.q, pk.qlen) == 0);
	CHECK(br_x509_decoder_get_signer_key_type(&xd) == BR_KEYTYPE_EC);
	CHECK(br_x509_decoder_get_signer_hash_id(&xd) == br_sha256_ID);
	CHECK(!br_x509_decoder_isCA(&xd));
	CHECK(dn.n > 16 && memmem(dn.b, dn.n, "mail.example.org", 16) != NULL);
	CHECK(memmem(der, len, cadn.b, cadn.n) != NULL);            /* issuer = the CA's subject */
	check_signed(der, len, &capk);                               /* signed by the CA's key */
	/* CA:FALSE (an empty SEQUENCE), critical; keyUsage digitalSignature only. */
	CHECK(memmem(der, len, "\x06\x03\x55\x1d\x13\x01\x01\xff\x04\x02\x30\x00", 12) != NULL);
	CHECK(memmem(der, len, "\x06\x03\x55\x1d\x0f\x01\x01\xff\x04\x04\x03\x02\x07\x80", 14) != NULL);
	/* The serial's top bit was clear, so no leading zero; SAN IP bytes present. */
	CHECK(memmem(der, len, "\x02\x10\x7f\x01\x02", 5) != NULL);
	CHECK(memmem(der, len, "\x87\x04\xc0\xa8\x01\x01", 6) != NULL);
	CHECK(memmem(der, len, "\x82\x0arouter.lan", 12) != NULL);

	/* Every capacity short of the full length fails cleanly. */
	for (cap = 0; cap < len; cap++) {
		size_t out = 0;

		err = tls_cert_der(&s, der, cap, &out);
		if (err != TLS_EENCODE)
			break;
	}
	CHECK(cap == len);

	/* Names that cannot be encoded. */
	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	static const char *const badsan[] = { "bad name" };
	s.cn = longname;
	CHECK(tls_cert_der(&s, der, sizeof(der), &len) == TLS_EENCODE);
	s.cn = "";
	CHECK(tls_cert_der(&s, der, sizeof(der), &len) == TLS_EENCODE);
	s.cn = "host";
	s.names = badsan;
	s.nnames = 1;
	CHECK(tls_cert_der(&s, der, sizeof(der), &len) == TLS_EENCODE);
	s.ca = 1;                                   /* an address is no dNSName constraint */
	s.names = sans + 1;
	CHECK(tls_cert_der(&s, der, sizeof(der), &len) == TLS_EENCODE);
	s.ca = 0;
	s.nnames = 0;
	CHECK(tls_cert_der(&s, der, sizeof(der), &len) == 0);
	s.not_after = s.not_before - 1;
	CHECK(tls_cert_der(&s, der, sizeof(der), &len) == TLS_EENCODE);

	/* The permitted address ranges. */
	unsigned char ip[16];
	CHECK(tls_ip_parse("192.168.7.9", ip) == 4 && tls_ip_private(ip, 4));
	CHECK(tls_ip_parse("172.31.255.255", ip) == 4 && tls_ip_private(ip, 4));
	CHECK(tls_ip_parse("172.32.0.1", ip) == 4 && !tls_ip_private(ip, 4));
	CHECK(tls_ip_parse("8.8.8.8", ip) == 4 && !tls_ip_private(ip, 4));
	CHECK(tls_ip_parse("127.0.0.1", ip) == 4 && tls_ip_private(ip, 4));
	CHECK(tls_ip_parse("fd12::5", ip) == 16 && tls_ip_private(ip, 16));
	CHECK(tls_ip_parse("::1", ip) == 16 && tls_ip_private(ip, 16));
	CHECK(tls_ip_parse("2001:db8::1", ip) == 16 && !tls_ip_private(ip, 16));
	CHECK(tls_ip_parse("router.lan", ip) == 0);
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fwrite(data, 1, len, f);
	return fclose(f);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Pump records between a server and a client engine until both can send app data. */
static int handshake(br_ssl_engine_context *srv, br_ssl_engine_context *cli)
{
	br_ssl_engine_context *from, *to;
	int rounds, moved;

	for (rounds = 0; rounds < 1000; rounds++) {
		unsigned ss = br_ssl_engine_current_state(srv), cs = br_ssl_engine_current_state(cli);

		if ((ss & BR_SSL_CLOSED) || (cs & BR_SSL_CLOSED))
			return -1;
		if ((ss & BR_SSL_SENDAPP) && (cs & BR_SSL_SENDAPP))
			return 0;
		moved = 0;
		for (int dir = 0; dir < 2; dir++) {
			from = dir ? cli : srv;
			to = dir ? srv : cli;
			if ((br_ssl_engine_current_state(from) & BR_SSL_SENDREC) &&
			    (br_ssl_engine_current_state(to) & BR_SSL_RECVREC)) {
				size_t slen, rlen;
				unsigned char *s = br_ssl_engine_sendrec_buf(from, &slen);
				unsigned char *r = br_ssl_engine_recvrec_buf(to, &rlen);
				size_t n = slen < rlen ? slen : rlen;

				memcpy(r, s, n);
				br_ssl_engine_sendrec_ack(from, n);
				br_ssl_engine_recvrec_ack(to, n);
				moved = 1;
			}
		}
		if (!moved)
			return -2;
	}
	return -3;
}

/* Handshake a BearSSL client against tls_server_init(); returns the suite or a negative value. */
static int try_handshake(const struct tls_creds *c, const uint16_t *suites, size_t nsuites)
{
	static unsigned char sibuf[BR_SSL_BUFSIZE_INPUT], sobuf[CONFIG_TLS_OUTBUF];
	static unsigned char cbuf[BR_SSL_BUFSIZE_BIDI];
	static br_ssl_server_context sc;
	static br_ssl_client_context cc;
	static br_x509_minimal_context xc;
	br_x509_knownkey_context kk;
	br_x509_decoder_context xd;
	br_x509_pkey *pub;
	int err;

	if (tls_server_init(&sc, c, NULL, sibuf, sizeof(sibuf), sobuf, sizeof(sobuf)) != 0)
		return -10;
	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, c->chain[0].data, c->chain[0].data_len);
	pub = br_x509_decoder_get_pkey(&xd);
	if (!pub)
		return -11;
	br_ssl_client_init_full(&cc, &xc, NULL, 0);
	if (pub->key_type == BR_KEYTYPE_EC)
		br_x509_knownkey_init_ec(&kk, &pub->key.ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	else
		br_x509_knownkey_init_rsa(&kk, &pub->key.rsa, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(&cc.eng, &kk.vtable);
	if (suites)
		br_ssl_engine_set_suites(&cc.eng, suites, nsuites);
	br_ssl_engine_set_buffers_bidi(&cc.eng, cbuf, sizeof(cbuf) / 2, cbuf + sizeof(cbuf) / 2,
	                               sizeof(cbuf) / 2);
	if (!br_ssl_client_reset(&cc, "mail.example.org", 0))
		return -12;
	err = handshake(&sc.eng, &cc.eng);
	if (err)
		return err - 20;
	if (br_ssl_engine_get_version(&sc.eng) != BR_TLS12)
		return -30;
	return sc.eng.session.cipher_suite;
}

/* A household CA for host and a server certificate for names, in dir. 0 or an error. */
static int make_issued(const char *dir, const char *host, const char *const *names, size_t n)
{
	const char *hosts[1] = { host };
	struct tls_creds ca;
	int made = 0, err;

	err = tls_ca_ensure(dir, hosts, 1, &ca, &made);
	if (err)
		return err;
	err = made ? tls_leaf_issue(dir, &ca, names, n) : -EEXIST;
	tls_creds_free(&ca);
	return err;
}

/* The CA's checks: which names it permits, and when a server certificate is stale. */
static void test_ca(const char *d1, const char *d2)
{
	static const char *const host[] = { "mail.example.org" }, *const other[] = { "other.example.org" };
	unsigned char fp[32];
	struct tls_creds ca, ca2;
	int made = 1, have = 0;

	CHECK(tls_ca_ensure(d1, host, 1, &ca, &made) == 0 && made == 0);   /* loaded, not made again */
	CHECK(tls_ca_permits(&ca, "x.lan") && tls_ca_permits(&ca, "lan") && tls_ca_permits(&ca, "nas.home.arpa"));
	CHECK(tls_ca_permits(&ca, "mail.example.org") && tls_ca_permits(&ca, "imap.mail.example.org"));
	CHECK(!tls_ca_permits(&ca, "xmail.example.org") && !tls_ca_permits(&ca, "example.org"));
	CHECK(!tls_ca_permits(&ca, "www.example.com") && !tls_ca_permits(&ca, "lan.example.com"));
	CHECK(tls_ca_permits(&ca, "10.1.2.3") && !tls_ca_permits(&ca, "8.8.8.8"));
	CHECK(tls_leaf_stale(d1, &ca, host, 1, fp, &have) == NULL && have);
	CHECK(tls_leaf_stale(d1, &ca, other, 1, fp, &have) != NULL);
	CHECK(tls_ca_ensure(d2, other, 1, &ca2, &made) == 0 && made == 0);
	CHECK(tls_leaf_stale(d2, &ca, other, 1, fp, &have) != NULL && have);  /* another CA's */
	tls_creds_free(&ca2);
	tls_creds_free(&ca);
}

static void test_creds(void)
{
	char dir[] = "/tmp/test_cert.XXXXXX";
	char cert1[64], key1[64], cert2[64], key2[64], trunc[64], pem[8192], fp[96], d1[48], d2[48];
	struct tls_creds c;
	struct stat st;
	size_t n;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(d1, sizeof(d1), "%s/1", dir);
	snprintf(d2, sizeof(d2), "%s/2", dir);
	mkdir(d1, 0700);
	mkdir(d2, 0700);
	snprintf(cert1, sizeof(cert1), "%s/cert.pem", d1);
	snprintf(key1, sizeof(key1), "%s/key.pem", d1);
	snprintf(cert2, sizeof(cert2), "%s/cert.pem", d2);
	snprintf(key2, sizeof(key2), "%s/key.pem", d2);
	snprintf(trunc, sizeof(trunc), "%s/t.pem", dir);

	static const char *const names1[] = { "mail.example.org", "10.0.0.1" }, *const names2[] = { "other.example.org" };
	CHECK(make_issued(d1, "mail.example.org", names1, 2) == 0);
	CHECK(make_issued(d2, "other.example.org", names2, 1) == 0);
	CHECK(stat(key1, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(cert1, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(trunc, sizeof(trunc), "%s/ca-key.pem", d1);
	CHECK(stat(trunc, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(trunc, sizeof(trunc), "%s/ca.pem", d1);
	CHECK(stat(trunc, &st) == 0 && (st.st_mode & 0777) == 0640);
	snprintf(trunc, sizeof(trunc), "%s/t.pem", dir);
	test_ca(d1, d2);

	CHECK(tls_creds_load(&c, cert1, key1) == 0);
	CHECK(c.chain_len == 2 && c.key_type == BR_KEYTYPE_EC && c.issuer_key_type == BR_KEYTYPE_EC);
	CHECK(c.ec.curve == BR_EC_secp256r1 && c.ec.xlen == 32 && c.mem != NULL);
	if (c.chain_len == 2) {
		unsigned char fp2[32];
		br_sha256_context sha;

		br_sha256_init(&sha);
		br_sha256_update(&sha, c.chain[0].data, c.chain[0].data_len);
		br_sha256_out(&sha, fp2);
		CHECK(memcmp(fp2, c.fingerprint, 32) == 0);
		tls_fingerprint_str(c.fingerprint, fp);
		CHECK(strlen(fp) == 95 && fp[2] == ':' && fp[94] != ':');

		/* Server preference: AES-128-GCM although the client lists ChaCha20 first. */
		CHECK(try_handshake(&c, NULL, 0) == BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
		static const uint16_t chacha[] = { BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 };
		static const uint16_t aes256[] = { BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 };
		static const uint16_t cbc[] = { BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 };
		CHECK(try_handshake(&c, chacha, 1) == BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
		CHECK(try_handshake(&c, aes256, 1) == BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
		CHECK(try_handshake(&c, cbc, 1) < 0);
	}
	tls_creds_free(&c);
	CHECK(c.mem == NULL && c.chain_len == 0);
	tls_creds_free(&c);                          /* twice is harmless */

	CHECK(tls_creds_load(&c, cert1, key2) == TLS_EMISMATCH);
	CHECK(c.mem == NULL);
	CHECK(tls_creds_load(&c, cert2, key1) == TLS_EMISMATCH);
	CHECK(tls_creds_load(&c, cert1, "/nonexistent/key.pem") == -ENOENT);
	CHECK(tls_creds_load(&c, key1, key1) == TLS_EPEM);      /* no CERTIFICATE object */
	CHECK(tls_creds_load(&c, cert1, cert1) == TLS_EPEM);    /* no key object */

	/* Truncated PEM: cut inside the base64 and just before the END line. */
	n = read_file(cert1, pem, sizeof(pem));
	CHECK(n > 100);
	write_file(trunc, pem, n / 2);
	CHECK(tls_creds_load(&c, trunc, key1) == TLS_EPEM);
	char *endl = strstr(pem, "-----END");
	CHECK(endl != NULL);
	if (endl) {
		write_file(trunc, pem, (size_t)(endl - pem));
		CHECK(tls_creds_load(&c, trunc, key1) == TLS_EPEM);
	}
	/* Without the final newline it still loads. */
	write_file(trunc, pem, n - 1);
	CHECK(tls_creds_load(&c, trunc, key1) == 0);
	tls_creds_free(&c);
	/* Base64 damage inside the object. */
	pem[40] = '!';
	write_file(trunc, pem, n);
	CHECK(tls_creds_load(&c, trunc, key1) == TLS_EPEM);
	/* A chain longer than TLS_MAX_CHAIN. */
	n = read_file(cert1, pem, sizeof(pem));
	FILE *f = fopen(trunc, "w");
	for (int i = 0; f && i <= TLS_MAX_CHAIN; i++)
		fwrite(pem, 1, n, f);
	if (f)
		fclose(f);
	CHECK(tls_creds_load(&c, trunc, key1) == TLS_EPEM);
	/* Too big a file. */
	f = fopen(trunc, "w");
	for (size_t total = 0; f && total <= 64 * 1024; total += n)
		fwrite(pem, 1, n, f);
	if (f)
		fclose(f);
	CHECK(tls_creds_load(&c, trunc, key1) == -EFBIG);

	/* A directory that does not exist. */
	CHECK(make_issued("/nonexistent/dir", "h", NULL, 0) == -ENOENT);

	CHECK(strcmp(tls_strerror(TLS_EMISMATCH), tls_strerror(TLS_EPEM)) != 0);
	CHECK(strcmp(tls_strerror(-ENOENT), strerror(ENOENT)) == 0);

	static const char *const files[] = { "cert.pem", "key.pem", "ca.pem", "ca-key.pem" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(pem, sizeof(pem), "%s/%s", d1, files[i]);
		unlink(pem);
		snprintf(pem, sizeof(pem), "%s/%s", d2, files[i]);
		unlink(pem);
	}
	unlink(trunc);
	rmdir(d1);
	rmdir(d2);
	rmdir(dir);
}

/* --load CERT KEY: used by tests/test_cert_openssl.py on openssl-made pairs. */
static int cmd_load(const char *cert, const char *key)
{
	struct tls_creds c;
	char fp[96];
	int err = tls_creds_load(&c, cert, key);

	if (err) {
		printf("error %d %s\n", err, tls_strerror(err));
		return 1;
	}
	tls_fingerprint_str(c.fingerprint, fp);
	err = try_handshake(&c, NULL, 0);
	printf("ok %s %s chain=%zu suite=%04x\n", c.key_type == BR_KEYTYPE_RSA ? "rsa" : "ec", fp,
	       c.chain_len, err > 0 ? (unsigned)err : 0);
	tls_creds_free(&c);
	return err > 0 ? 0 : 1;
}

/* --generate DIR HOST SAN...: a household CA for HOST and a server certificate for HOST and the SANs in DIR. */
static int cmd_generate(const char *dir, const char *host, const char *const *sans, size_t nsans)
{
	const char *names[16];
	char cert[4096], key[4096];
	struct tls_creds c;
	char fp[96];
	size_t n = 0;
	int err;

	if ((size_t)snprintf(cert, sizeof(cert), "%s/cert.pem", dir) >= sizeof(cert) ||
	    (size_t)snprintf(key, sizeof(key), "%s/key.pem", dir) >= sizeof(key))
		return 2;
	names[n++] = host;
	while (nsans > 0 && n < 16) {
		names[n++] = *sans++;
		nsans--;
	}
	err = make_issued(dir, host, names, n);
	if (err == 0)
		err = tls_creds_load(&c, cert, key);
	if (err) {
		printf("error %d %s\n", err, tls_strerror(err));
		return 1;
	}
	tls_fingerprint_str(c.fingerprint, fp);
	printf("%s %zu\n", fp, c.chain[0].data_len);
	tls_creds_free(&c);
	return 0;
}

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = read(*(int *)ctx, buf, len);

	return n > 0 ? (int)n : -1;
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = write(*(int *)ctx, buf, len);

	return n > 0 ? (int)n : -1;
}

/* --serve CERT KEY [N]: N (default 1) TLS connections on 127.0.0.1 for openssl s_client. */
static int cmd_serve(const char *cert, const char *key, int conns)
{
	static unsigned char ibuf[BR_SSL_BUFSIZE_INPUT], obuf[CONFIG_TLS_OUTBUF];
	static unsigned char cache_buf[4096];
	static br_ssl_server_context sc;
	br_ssl_session_cache_lru cache;
	br_sslio_context io;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	struct tls_creds c;
	char line[256], reply[300];
	size_t n = 0;
	int ls, fd, err, rounds;

	err = tls_creds_load(&c, cert, key);
	if (err) {
		printf("error %d %s\n", err, tls_strerror(err));
		return 1;
	}
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &salen) < 0)
		return 1;
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	br_ssl_session_cache_lru_init(&cache, cache_buf, sizeof(cache_buf));
	/* Later connections may resume an earlier session from the cache. */
	for (rounds = 0; rounds < conns; rounds++) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			return 1;
		if (tls_server_init(&sc, &c, &cache, ibuf, sizeof(ibuf), obuf, sizeof(obuf)) != 0)
			return 1;
		br_sslio_init(&io, &sc.eng, sock_read, &fd, sock_write, &fd);
		n = 0;
		while (n < sizeof(line) - 1) {
			if (br_sslio_read(&io, line + n, 1) != 1)
				break;
			if (line[n++] == '\n')
				break;
		}
		line[n] = '\0';
		n = (size_t)snprintf(reply, sizeof(reply), "echo: %s", line);
		br_sslio_write_all(&io, reply, n);
		br_sslio_close(&io);
		fprintf(stderr, "served suite=%04x err=%d\n", sc.eng.session.cipher_suite,
		        br_ssl_engine_last_error(&sc.eng));
		close(fd);
	}
	close(ls);
	tls_creds_free(&c);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "--serve") == 0)
		return cmd_serve(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 1);
	if (argc >= 4 && strcmp(argv[1], "--generate") == 0)
		return cmd_generate(argv[2], argv[3], (const char *const *)argv + 4, (size_t)(argc - 4));
	if (argc == 4 && strcmp(argv[1], "--load") == 0)
		return cmd_load(argv[2], argv[3]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--generate DIR HOST [SAN...] | --load CERT KEY | --serve CERT KEY [N]]\n",
		        argv[0]);
		return 2;
	}
	test_der_lengths();
	test_der_integers();
	test_der_oids();
	test_der_times();
	test_issued();
	test_creds();
	return check_done();
}
