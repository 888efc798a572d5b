/* tls_der — bounded DER writer (see tls_der.h). */
#include <string.h>

#include "tls.h"
#include "tls_der.h"

/* Longest length field we write: 0x84 plus four bytes. */
#define DER_LEN_MAX 5

void tls_der_init(struct tls_der *w, unsigned char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = buf ? cap : 0;
}

/* 0 and the encoded length, or the sticky error; open values are an error too. */
int tls_der_finish(struct tls_der *w, size_t *len)
{
	if (!w->err && w->depth != 0)
		w->err = TLS_EENCODE;
	if (w->err)
		return w->err;
	*len = w->len;
	return 0;
}

/* Reserve n bytes at the end; NULL (and the sticky error) when they do not fit. */
static unsigned char *der_room(struct tls_der *w, size_t n)
{
	unsigned char *p;

	if (w->err)
		return NULL;
	if (n > w->cap - w->len) {
		w->err = TLS_EENCODE;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

/* Encode a length into out (DER_LEN_MAX bytes); returns the bytes used. */
static size_t der_len_encode(unsigned char *out, size_t len)
{
	size_t n = 0, i;

	if (len < 0x80) {
		out[0] = (unsigned char)len;
		return 1;
	}
	for (size_t t = len; t > 0; t >>= 8)
		n++;
	out[0] = (unsigned char)(0x80 | n);
	for (i = 0; i < n; i++)
		out[1 + i] = (unsigned char)(len >> (8 * (n - 1 - i)));
	return 1 + n;
}

static void der_header(struct tls_der *w, unsigned tag, size_t len)
{
	unsigned char hdr[1 + DER_LEN_MAX];
	unsigned char *p;
	size_t n;

	if ((uint64_t)len >> 32 != 0) {  /* "> 0xffffffff" warns where size_t is 32 bits */
		w->err = TLS_EENCODE;
		return;
	}
	hdr[0] = (unsigned char)tag;
	n = 1 + der_len_encode(hdr + 1, len);
	p = der_room(w, n);
	if (p)
		memcpy(p, hdr, n);
}

void tls_der_raw(struct tls_der *w, const void *data, size_t len)
{
	unsigned char *p = der_room(w, len);

	if (p && len)
		memcpy(p, data, len);
}

void tls_der_prim(struct tls_der *w, unsigned tag, const void *data, size_t len)
{
	der_header(w, tag, len);
	tls_der_raw(w, data, len);
}

/* Open a constructed value; its length is filled in by tls_der_end(). */
void tls_der_begin(struct tls_der *w, unsigned tag)
{
	unsigned char *p;

	if (w->err)
		return;
	if (w->depth >= TLS_DER_MAX_DEPTH) {
		w->err = TLS_EENCODE;
		return;
	}
	p = der_room(w, 1);
	if (!p)
		return;
	*p = (unsigned char)tag;
	w->open[w->depth++] = w->len;
}

/* Close the innermost value: shift its contents up and insert the length. */
void tls_der_end(struct tls_der *w)
{
	unsigned char lenbuf[DER_LEN_MAX];
	size_t start, clen, n;

	if (w->err)
		return;
	if (w->depth == 0) {
		w->err = TLS_EENCODE;
		return;
	}
	start = w->open[--w->depth];
	clen = w->len - start;
	if ((uint64_t)clen >> 32 != 0) {
		w->err = TLS_EENCODE;
		return;
	}
	n = der_len_encode(lenbuf, clen);
	if (!der_room(w, n))
		return;
	memmove(w->buf + start + n, w->buf + start, clen);
	memcpy(w->buf + start, lenbuf, n);
}

void tls_der_uint(struct tls_der *w, const unsigned char *mag, size_t len)
{
	unsigned char zero = 0;

	while (len > 1 && mag[0] == 0) {
		mag++;
		len--;
	}
	if (len == 0) {
		mag = &zero;
		len = 1;
	}
	if (mag[0] & 0x80) {
		der_header(w, DER_INTEGER, len + 1);
		tls_der_raw(w, &zero, 1);
		tls_der_raw(w, mag, len);
	} else {
		tls_der_prim(w, DER_INTEGER, mag, len);
	}
}

void tls_der_small_uint(struct tls_der *w, uint32_t v)
{
	unsigned char be[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                        (unsigned char)(v >> 8), (unsigned char)v };

	tls_der_uint(w, be, sizeof(be));
}

/* Append one base-128 OID arc. */
static void der_oid_arc(unsigned char *out, size_t *n, size_t cap, uint64_t v, int *err)
{
	unsigned char tmp[10];
	size_t k = 0;

	do {
		tmp[k++] = (unsigned char)(v & 0x7f);
		v >>= 7;
	} while (v && k < sizeof(tmp));
	if (k > cap - *n) {
		*err = 1;
		return;
	}
	while (k > 0) {
		k--;
		out[(*n)++] = (unsigned char)(tmp[k] | (k ? 0x80 : 0));
	}
}

/* OBJECT IDENTIFIER from dotted text; at most 32 arcs of 32 bits each. */
void tls_der_oid(struct tls_der *w, const char *dotted)
{
	unsigned char body[64];
	uint32_t arcs[32];
	size_t narcs = 0, n = 0, i;
	const char *s = dotted;
	int err = 0;

	if (w->err)
		return;
	while (*s) {
		uint64_t v = 0;

		if (*s < '0' || *s > '9' || narcs == 32)
			goto bad;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > 0xffffffffu)
				goto bad;
		}
		arcs[narcs++] = (uint32_t)v;
		if (*s == '.' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			goto bad;
	}
	if (narcs < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
		goto bad;
	der_oid_arc(body, &n, sizeof(body), (uint64_t)arcs[0] * 40 + arcs[1], &err);
	for (i = 2; i < narcs && !err; i++)
		der_oid_arc(body, &n, sizeof(body), arcs[i], &err);
	if (err)
		goto bad;
	tls_der_prim(w, DER_OID, body, n);
	return;
bad:
	w->err = TLS_EENCODE;
}

void tls_der_bits(struct tls_der *w, const void *data, size_t len)
{
	unsigned char unused = 0;

	if (len == SIZE_MAX) {
		w->err = TLS_EENCODE;
		return;
	}
	der_header(w, DER_BIT_STRING, len + 1);
	tls_der_raw(w, &unused, 1);
	tls_der_raw(w, data, len);
}

void tls_der_bool(struct tls_der *w, int v)
{
	unsigned char b = v ? 0xff : 0x00;

	tls_der_prim(w, DER_BOOLEAN, &b, 1);
}

/* Days since 1970-01-01 to a proleptic Gregorian date (eras of 400 years). */
static void der_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                       /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from March 1st */
	int64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void der_digits(char *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime (YYYYMMDDHHMMSSZ) after (RFC 5280 4.1.2.5). */
void tls_der_time(struct tls_der *w, int64_t t)
{
	/* 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
	const int64_t tmin = -62167219200LL, tmax = 253402300799LL;
	char s[16];
	int64_t days, secs, year;
	unsigned mon, mday;
	size_t n = 0;

	if (w->err)
		return;
	if (t < tmin || t > tmax) {
		w->err = TLS_EENCODE;
		return;
	}
	days = (t >= 0 ? t : t - 86399) / 86400;
	secs = t - days * 86400;
	der_civil(days, &year, &mon, &mday);
	if (year >= 1950 && year <= 2049) {
		der_digits(s, (unsigned)(year % 100), 2);
		n = 2;
	} else {
		der_digits(s, (unsigned)year, 4);
		n = 4;
	}
	der_digits(s + n, mon, 2);
	der_digits(s + n + 2, mday, 2);
	der_digits(s + n + 4, (unsigned)(secs / 3600), 2);
	der_digits(s + n + 6, (unsigned)(secs / 60 % 60), 2);
	der_digits(s + n + 8, (unsigned)(secs % 60), 2);
	s[n + 10] = 'Z';
	tls_der_prim(w, n == 2 ? DER_UTC_TIME : DER_GENERALIZED_TIME, s, n + 11);
}
