/* auth — PBKDF2-HMAC-SHA256 (RFC 8018) on BearSSL's HMAC, constant-time compare. */
#include <errno.h>
#include <string.h>

#include <bearssl.h>

#include "auth.h"

/*
 * Derive dklen bytes of PBKDF2-HMAC-SHA256 into out. The password's inner and
 * outer HMAC states are computed once (br_hmac_key_init); each iteration then
 * costs two SHA-256 compressions. Returns 0, or -EINVAL for iterations 0.
 */
int auth_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
                       uint32_t iterations, void *out, size_t dklen)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char u[AUTH_HASH_LEN], t[AUTH_HASH_LEN], ctr[4];
	unsigned char *dst = out;
	uint32_t block = 1;

	if (iterations == 0 || (salt == NULL && saltlen > 0) || (pass == NULL && passlen > 0))
		return -EINVAL;
	br_hmac_key_init(&kc, &br_sha256_vtable, pass, passlen);
	while (dklen > 0) {
		size_t take = dklen < sizeof t ? dklen : sizeof t;

		ctr[0] = (unsigned char)(block >> 24);
		ctr[1] = (unsigned char)(block >> 16);
		ctr[2] = (unsigned char)(block >> 8);
		ctr[3] = (unsigned char)block;
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, salt, saltlen);
		br_hmac_update(&hc, ctr, sizeof ctr);
		br_hmac_out(&hc, u);
		memcpy(t, u, sizeof t);
		for (uint32_t i = 1; i < iterations; i++) {
			br_hmac_init(&hc, &kc, 0);
			br_hmac_update(&hc, u, sizeof u);
			br_hmac_out(&hc, u);
			for (size_t j = 0; j < sizeof t; j++)
				t[j] ^= u[j];
		}
		memcpy(dst, t, take);
		dst += take;
		dklen -= take;
		block++;
	}
	memset(u, 0, sizeof u);
	memset(t, 0, sizeof t);
	memset(&kc, 0, sizeof kc);
	memset(&hc, 0, sizeof hc);
	return 0;
}

/* 1 if the len bytes at a and b are equal, else 0; every byte is always examined. */
int auth_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *pa = a, *pb = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= pa[i] ^ pb[i];
	return (int)(1u & (((unsigned)diff - 1u) >> 8));
}
