/*
 * tls_server — set up one connection's BearSSL server engine from the loaded
 * credentials. Only the algorithms listed here are referenced, so the linker
 * leaves out the rest of BearSSL (CBC, 3DES, RSA key exchange, TLS 1.0/1.1).
 */
#include <errno.h>

#include "sysconfig.h"
#include "tls.h"

/*
 * Server preference order. AES-GCM comes first because BearSSL's AES-GCM uses
 * AES-NI/PCLMUL (x86) or the ARMv8 crypto extensions where present and is then
 * several times faster than its ChaCha20-Poly1305. On a MIPS router without AES
 * hardware it is the other way round (constant-time software AES is slow), so
 * the order is a choice: a board for such CPUs may want ChaCha20 first.
 * AES-128 before AES-256: strong enough, and about 40% cheaper.
 */
static const uint16_t tls_suites_ec[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
};

static const uint16_t tls_suites_rsa[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

/* Configure sc for TLS 1.2 with c's chain and key, the cache and the buffers; 0 or -EINVAL. */
int tls_server_init(br_ssl_server_context *sc, const struct tls_creds *c,
                    br_ssl_session_cache_lru *cache,
                    unsigned char *ibuf, size_t ibuf_len, unsigned char *obuf, size_t obuf_len)
{
	br_ssl_engine_context *eng;

	if (!sc || !c || c->chain_len == 0 || !ibuf || !obuf)
		return -EINVAL;
	if (c->key_type != BR_KEYTYPE_EC && c->key_type != BR_KEYTYPE_RSA)
		return TLS_EKEY;

	br_ssl_server_zero(sc);
	eng = &sc->eng;
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);

	/*
	 * Hashes: SHA-256 and SHA-384 for the handshake transcript, the PRFs and
	 * the ServerKeyExchange signature; SHA-1 because a TLS 1.2 client that
	 * sends no signature_algorithms extension implies SHA-1 (RFC 5246 7.4.1.4.1).
	 */
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_ec(eng, br_ec_get_default());   /* ECDHE */

	if (c->key_type == BR_KEYTYPE_EC) {
		br_ssl_engine_set_suites(eng, tls_suites_ec, sizeof(tls_suites_ec) / sizeof(tls_suites_ec[0]));
		br_ssl_server_set_single_ec(sc, c->chain, c->chain_len, &c->ec,
		                            BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, (unsigned)c->issuer_key_type,
		                            br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
	} else {
		br_ssl_engine_set_suites(eng, tls_suites_rsa, sizeof(tls_suites_rsa) / sizeof(tls_suites_rsa[0]));
		br_ssl_server_set_single_rsa(sc, c->chain, c->chain_len, &c->rsa, BR_KEYTYPE_SIGN,
		                             br_rsa_private_get_default(), br_rsa_pkcs1_sign_get_default());
	}
	if (cache)
		br_ssl_server_set_cache(sc, &cache->vtable);
	br_ssl_engine_set_buffers_bidi(eng, ibuf, ibuf_len, obuf, obuf_len);
	if (br_ssl_server_reset(sc) != 1)
		return -EINVAL;
	return 0;
}
