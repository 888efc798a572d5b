/* sasl — base64 decoding and SASL PLAIN parsing, bounded. */
#include <errno.h>
#include <string.h>

#include "sasl.h"

static int b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

int sasl_b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t i, o = 0;

	if (inlen % 4)
		return -EINVAL;
	for (i = 0; i < inlen; i += 4) {
		int v[4], k, pad = 0;
		for (k = 0; k < 4; k++) {
			unsigned char ch = (unsigned char)in[i + k];
			if (ch == '=' && i + 4 == inlen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return -EINVAL;   /* data after padding */
			v[k] = b64_val(ch);
			if (v[k] < 0)
				return -EINVAL;
		}
		if (o + 3 - (size_t)pad > cap)
			return -ENOSPC;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = o;
	return 0;
}

size_t sasl_b64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = tab[in[i] >> 2];
		out[o++] = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o++] = tab[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o++] = tab[in[i + 2] & 63];
	}
	if (i < len) {
		out[o++] = tab[in[i] >> 2];
		if (i + 1 < len) {
			out[o++] = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
			out[o++] = tab[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = tab[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int sasl_plain_split(unsigned char *msg, size_t len, const char **user, const char **pass,
                     size_t *passlen)
{
	unsigned char *z1, *z2;
	size_t authzlen, userlen;

	z1 = memchr(msg, 0, len);
	if (!z1)
		return -EINVAL;
	z2 = memchr(z1 + 1, 0, len - (size_t)(z1 + 1 - msg));
	if (!z2)
		return -EINVAL;
	authzlen = (size_t)(z1 - msg);
	userlen = (size_t)(z2 - z1 - 1);
	if (userlen == 0)
		return -EINVAL;
	if (authzlen && (authzlen != userlen || memcmp(msg, z1 + 1, userlen)))
		return -EINVAL;
	*user = (const char *)z1 + 1;
	*pass = (const char *)z2 + 1;
	*passlen = len - (size_t)(z2 + 1 - msg);
	if (memchr(*pass, 0, *passlen))
		return -EINVAL;
	msg[len] = 0;   /* caller's buffer has room for the terminator */
	return 0;
}

/* A PLAIN response line: cancelled, empty, or base64 of the PLAIN message (sasl.h). */
int sasl_plain_response(const char *line, size_t len, unsigned char *msg, size_t cap,
                        const char **user, const char **pass, size_t *passlen)
{
	size_t n;
	int rc;

	if (len == 1 && line[0] == '*')
		return -ECANCELED;
	if (len == 1 && line[0] == '=')
		len = 0;
	if (cap == 0)
		return -ENOSPC;
	rc = sasl_b64_decode(line, len, msg, cap - 1, &n);
	if (rc == 0)
		rc = sasl_plain_split(msg, n, user, pass, passlen);
	return rc;
}
