/* test_auth — PBKDF2-HMAC-SHA256 known answers (RFC 7914 s.11 and the common RFC 6070-style set). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "sysconfig.h"
#include "check.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode hex into out (at most cap bytes); returns the length or -1. */
static int unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

struct vec {
	const char *pass;
	size_t passlen;
	const char *salt;
	size_t saltlen;
	uint32_t c;
	const char *dk;
};

#define S(x) x, sizeof(x) - 1

static const struct vec vecs[] = {
	{ S("password"), S("salt"), 1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b" },
	{ S("password"), S("salt"), 2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43" },
	{ S("password"), S("salt"), 4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a" },
	{ S("passwordPASSWORDpassword"), S("saltSALTsaltSALTsaltSALTsaltSALTsalt"), 4096,
	  "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9" },
	{ S("pass\0word"), S("sa\0lt"), 4096, "89b69d0516f829893c696226650a8687" },
	/* RFC 7914 section 11 */
	{ S("passwd"), S("salt"), 1,
	  "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	  "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783" },
	{ S("Password"), S("NaCl"), 80000,
	  "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	  "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d" },
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	unsigned char want[64], got[64];
	char name[96];

	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
		const struct vec *v = &vecs[i];
		int n = unhex(v->dk, want, sizeof want);

		snprintf(name, sizeof name, "vector %zu (c=%u dkLen=%d)", i, (unsigned)v->c, n);
		memset(got, 0xAA, sizeof got);
		CHECK_MSG(n > 0 && auth_pbkdf2_sha256(v->pass, v->passlen, v->salt, v->saltlen, v->c, got,
		                                      (size_t)n) == 0 &&
		                  memcmp(got, want, (size_t)n) == 0 && (n == 64 || got[n] == 0xAA),
		          name);
	}
	CHECK_MSG(auth_pbkdf2_sha256("x", 1, "y", 1, 0, got, 32) < 0, "iterations 0 refused");
	CHECK_MSG(auth_pbkdf2_sha256("", 0, "", 0, 1, got, 32) == 0, "empty password and salt");

	CHECK_MSG(auth_equal("abcd", "abcd", 4) == 1, "equal");
	CHECK_MSG(auth_equal("abcd", "abce", 4) == 0, "last byte differs");
	CHECK_MSG(auth_equal("\x00", "\x80", 1) == 0, "high bit differs");
	CHECK_MSG(auth_equal("", "", 0) == 1, "empty equal");

	unsigned char r1[16], r2[16];
	CHECK_MSG(auth_random(r1, sizeof r1) == 0 && auth_random(r2, sizeof r2) == 0 &&
	          memcmp(r1, r2, sizeof r1) != 0, "auth_random gives fresh bytes");

	double t0 = now_ms();
	int reps = 20;
	for (int i = 0; i < reps; i++)
		auth_pbkdf2_sha256("correct horse", 13, r1, sizeof r1, 4096, got, 32);
	double t1 = now_ms();
	printf("PBKDF2-HMAC-SHA256 4096 iterations: %.2f ms per derivation\n", (t1 - t0) / reps);
	t0 = now_ms();
	auth_pbkdf2_sha256("correct horse", 13, r1, sizeof r1, CONFIG_PBKDF2_ITERATIONS, got, 32);
	printf("CONFIG_PBKDF2_ITERATIONS=%d: %.2f ms per check\n", CONFIG_PBKDF2_ITERATIONS, now_ms() - t0);

	return check_done();
}
