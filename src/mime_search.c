/*
 * mime_search — SEARCH on decoded text: a streaming pipeline
 *   transfer decoding (base64, quoted-printable, RFC 2047 words)
 *   -> charset to code points (UTF-8, ISO-8859-1/-15, windows-1252)
 *   -> simple case folding -> UTF-8 -> substring matcher (KMP)
 * over the message in place. Memory: the needle and a few words of state.
 */
#include <errno.h>
#include <string.h>

#include "mime_int.h"

/* Longest RFC 2047 encoded word recognised (RFC 2047 says 75; some mailers write longer). */
#define MIME_EW_MAX 1024

enum { MIME_CS_UTF8, MIME_CS_CP1252, MIME_CS_LATIN9 };

/* The pipeline's state for one stretch of text. */
struct mime_scan {
	const struct mime_needle *nd;
	size_t state;           /* needle bytes matched so far */
	int found;
	int cs;                 /* MIME_CS_* of the bytes being fed */
	uint32_t cp;            /* UTF-8 decoder: code point so far */
	int need;               /* continuation bytes still expected */
	unsigned char pend[4];  /* the bytes of that sequence so far */
	int npend;
	unsigned char *out;     /* mime_needle_init: collect folded bytes here instead of matching */
	size_t outlen;
	int overflow;
};

/* windows-1252 0x80..0x9f (0: undefined, kept as the C1 code point). */
static const uint16_t mime_cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* Simple case folding: ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic. */
static uint32_t mime_fold(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c + (c & 1);
	if (c == 0x178)
		return 0xff;
	if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
		return c + 32;
	if (c == 0x3c2)
		return 0x3c3;   /* final sigma */
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	return c;
}

/* Encode a code point as UTF-8 into out (4 bytes); returns the length. */
static size_t mime_utf8(uint32_t c, unsigned char *out)
{
	if (c < 0x80) {
		out[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (unsigned char)(0xc0 | c >> 6);
		out[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (unsigned char)(0xe0 | c >> 12);
		out[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | c >> 18);
	out[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

/* One folded UTF-8 byte into the matcher. */
static void mime_match_byte(struct mime_scan *sc, unsigned char b)
{
	const struct mime_needle *nd = sc->nd;

	while (sc->state > 0 && nd->s[sc->state] != b)
		sc->state = nd->fail[sc->state - 1];
	if (nd->s[sc->state] == b && ++sc->state == nd->len) {
		sc->found = 1;
		sc->state = nd->fail[sc->state - 1];
	}
}

/* One code point: fold, encode, match. */
static void mime_scan_cp(struct mime_scan *sc, uint32_t c)
{
	unsigned char u[4];
	size_t n = mime_utf8(mime_fold(c), u);

	if (sc->out) {
		if (sc->outlen + n > MIME_NEEDLE_MAX)
			sc->overflow = 1;
		else
			memcpy(sc->out + sc->outlen, u, n);
		sc->outlen += n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		mime_match_byte(sc, u[i]);
}

/* A byte as windows-1252. */
static uint32_t mime_cp1252_cp(unsigned char b)
{
	return b >= 0x80 && b < 0xa0 && mime_cp1252[b - 0x80] ? mime_cp1252[b - 0x80] : b;
}

/* An unfinished UTF-8 sequence is not UTF-8 after all: its bytes as windows-1252. */
static void mime_scan_flush(struct mime_scan *sc)
{
	int n = sc->npend;

	sc->need = 0;
	sc->npend = 0;
	for (int i = 0; i < n; i++)
		mime_scan_cp(sc, mime_cp1252_cp(sc->pend[i]));
}

/* One byte of text in the current charset; invalid UTF-8 falls back to windows-1252. */
static void mime_scan_byte(struct mime_scan *sc, unsigned char b)
{
	if (b < 0x80 && !sc->need && !sc->out) {
		/* ASCII is itself in every charset here: fold and match without decoding */
		mime_match_byte(sc, (unsigned char)(b >= 'A' && b <= 'Z' ? b + 32 : b));
		return;
	}
	if (sc->cs == MIME_CS_CP1252 || sc->cs == MIME_CS_LATIN9) {
		uint32_t c = b;
		if (b >= 0x80 && b < 0xa0 && sc->cs == MIME_CS_CP1252 && mime_cp1252[b - 0x80])
			c = mime_cp1252[b - 0x80];
		if (sc->cs == MIME_CS_LATIN9) {
			switch (b) {
			case 0xa4: c = 0x20ac; break;
			case 0xa6: c = 0x160; break;
			case 0xa8: c = 0x161; break;
			case 0xb4: c = 0x17d; break;
			case 0xb8: c = 0x17e; break;
			case 0xbc: c = 0x152; break;
			case 0xbd: c = 0x153; break;
			case 0xbe: c = 0x178; break;
			}
		}
		mime_scan_cp(sc, c);
		return;
	}
	if (sc->need) {
		if ((b & 0xc0) == 0x80) {
			sc->pend[sc->npend++] = b;
			sc->cp = sc->cp << 6 | (b & 0x3f);
			if (--sc->need == 0) {
				sc->npend = 0;
				mime_scan_cp(sc, sc->cp);
			}
			return;
		}
		mime_scan_flush(sc);    /* b starts afresh */
	}
	if (b < 0x80) {
		mime_scan_cp(sc, b);
		return;
	}
	sc->need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
	if (!sc->need) {
		mime_scan_cp(sc, mime_cp1252_cp(b));
		return;
	}
	sc->cp = b & (0x3fu >> sc->need);
	sc->pend[0] = b;
	sc->npend = 1;
}

/* Start a new stretch of text (a field, a part): matcher and decoder reset. */
static void mime_scan_reset(struct mime_scan *sc, int cs)
{
	sc->state = 0;
	sc->cs = cs;
	sc->need = 0;
	sc->npend = 0;
}

static void mime_scan_bytes(struct mime_scan *sc, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !sc->found; i++)
		mime_scan_byte(sc, (unsigned char)p[i]);
}

/* A charset name (as written in a parameter or encoded word) to MIME_CS_*. */
static int mime_charset(const char *p, size_t n)
{
	static const struct {
		const char *name;
		int cs;
	} names[] = {
		{ "iso-8859-1", MIME_CS_CP1252 }, { "iso8859-1", MIME_CS_CP1252 },
		{ "latin1", MIME_CS_CP1252 }, { "iso_8859-1", MIME_CS_CP1252 },
		{ "windows-1252", MIME_CS_CP1252 }, { "cp1252", MIME_CS_CP1252 },
		{ "iso-8859-15", MIME_CS_LATIN9 }, { "iso8859-15", MIME_CS_LATIN9 },
		{ "latin-9", MIME_CS_LATIN9 }, { "latin9", MIME_CS_LATIN9 },
	};
	const char *star = memchr(p, '*', n);   /* RFC 2231 language suffix */

	if (star)
		n = (size_t)(star - p);
	if (n && p[0] == '"') {
		p++;
		n = n > 1 && p[n - 2] == '"' ? n - 2 : n - 1;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (mime_name_eq(p, 0, (uint32_t)n, names[i].name, strlen(names[i].name)))
			return names[i].cs;
	return MIME_CS_UTF8;    /* UTF-8, US-ASCII, and unknown charsets */
}

static int mime_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int mime_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)mime_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Base64 text into the scanner; characters outside the alphabet are skipped. */
static void mime_scan_base64(struct mime_scan *sc, const char *p, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n && !sc->found; i++) {
		int v = mime_b64val((unsigned char)p[i]);
		if (v < 0)
			continue;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			mime_scan_byte(sc, (unsigned char)(acc >> bits));
		}
	}
}

/* Quoted-printable (q = 1: the RFC 2047 "Q" form, where '_' is a space). */
static void mime_scan_qp(struct mime_scan *sc, const char *p, size_t n, int q)
{
	for (size_t i = 0; i < n && !sc->found; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '=' && i + 2 < n && mime_hexval((unsigned char)p[i + 1]) >= 0 &&
		    mime_hexval((unsigned char)p[i + 2]) >= 0) {
			mime_scan_byte(sc, (unsigned char)(mime_hexval((unsigned char)p[i + 1]) << 4 |
			                                   mime_hexval((unsigned char)p[i + 2])));
			i += 2;
			continue;
		}
		if (c == '=' && !q) {   /* soft line break: "=", white space, line end */
			size_t j = i + 1;
			while (j < n && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j < n && p[j] == '\r')
				j++;
			if (j < n && p[j] == '\n') {
				i = j;
				continue;
			}
		}
		mime_scan_byte(sc, q && c == '_' ? ' ' : c);
	}
}

/*
 * An RFC 2047 encoded word "=?charset?B|Q?text?=" at p[0..n)? Its length,
 * with the charset and text ranges and the encoding letter, or 0.
 */
static size_t mime_ew(const char *p, size_t n, size_t *cs_len, char *enc, size_t *txt_off, size_t *txt_len)
{
	size_t i = 2, cs_end, t;

	if (n > MIME_EW_MAX)
		n = MIME_EW_MAX;
	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	while (i < n && p[i] != '?' && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127)
		i++;
	if (i == 2 || i + 3 >= n || p[i] != '?' || p[i + 2] != '?')
		return 0;
	cs_end = i;
	*enc = (char)mime_lower((unsigned char)p[i + 1]);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	t = i + 3;
	for (i = t; i + 1 < n; i++) {
		if ((unsigned char)p[i] <= 32 || (unsigned char)p[i] >= 127)
			return 0;
		if (p[i] == '?' && p[i + 1] == '=') {
			*cs_len = cs_end - 2;
			*txt_off = t;
			*txt_len = i - t;
			return i + 2;
		}
	}
	return 0;
}

/*
 * A header value into the scanner as Dovecot searches it: unfolded, every
 * run of white space one space, RFC 2047 words decoded and the white space
 * between two of them dropped. Adjacent words of one charset are decoded
 * as one byte stream, so a character split between them (RFC 2047 forbids
 * it; mailers do it) is found too.
 */
static void mime_scan_hvalue(struct mime_scan *sc, const char *p, size_t n)
{
	size_t i = 0;
	int ws = 0, after_ew = 0;

	while (i < n && !sc->found) {
		size_t cs_len, to, tl, ewl;
		char enc;
		int cs;

		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
			ws = 1;
			i++;
			continue;
		}
		if (p[i] == '=' && (ewl = mime_ew(p + i, n - i, &cs_len, &enc, &to, &tl)) != 0) {
			cs = mime_charset(p + i + 2, cs_len);
			if (!after_ew || cs != sc->cs) {
				mime_scan_flush(sc);
				if (ws && !after_ew)
					mime_scan_byte(sc, ' ');
				sc->cs = cs;
			}
			ws = 0;
			if (enc == 'b')
				mime_scan_base64(sc, p + i + to, tl);
			else
				mime_scan_qp(sc, p + i + to, tl, 1);
			after_ew = 1;
			i += ewl;
			continue;
		}
		if (after_ew) {
			mime_scan_flush(sc);
			sc->cs = MIME_CS_UTF8;
		}
		if (ws)
			mime_scan_byte(sc, ' ');
		ws = 0;
		mime_scan_byte(sc, (unsigned char)p[i++]);
		after_ew = 0;
	}
	mime_scan_flush(sc);
	sc->cs = MIME_CS_UTF8;
}

/* One address's text (mime_addr_text) into the scanner; the matcher runs on across addresses. */
static void mime_scan_addr(void *ctx, const char *p, size_t n)
{
	mime_scan_hvalue(ctx, p, n);
}

/*
 * Search the fields of header [off, off+len): name == NULL: "Name: value"
 * of every field; addr: the field's addresses as parsed, then as written.
 */
static int mime_search_header(struct mime_scan *sc, const char *msg, uint32_t off, uint32_t len,
                              const char *name, size_t nlen, int addr)
{
	struct mime_field f;
	uint32_t pos = off, end = mime_scan_end(off, len);
	unsigned nf = 0;
	int r;

	while (nf++ < MIME_FIELDS_MAX && (r = mime_field_next(msg, &pos, end, &f)) != 0) {
		if (r != 1)
			continue;
		if (name && !mime_name_eq(msg, f.name_off, f.name_len, name, nlen))
			continue;
		if (name && sc->nd->len == 0)
			return 1;
		mime_scan_reset(sc, MIME_CS_UTF8);
		if (!name) {
			mime_scan_bytes(sc, msg + f.name_off, f.name_len);
			mime_scan_bytes(sc, ": ", 2);
		}
		if (addr) {
			mime_addr_text(msg, f.val_off, f.val_len, mime_scan_addr, sc);
			mime_scan_reset(sc, MIME_CS_UTF8);
		}
		mime_scan_hvalue(sc, msg + f.val_off, f.val_len);
		if (sc->found)
			return 1;
	}
	return 0;
}

/* Is entity e served as text (searched as a body)? */
static int mime_is_text(const char *msg, const struct mime_ent *e)
{
	if (e->kind != MIME_K_LEAF)
		return 0;
	if (e->flags & (MIME_EF_FLAT | MIME_EF_DEFAULT))
		return 1;
	return mime_name_eq(msg, e->fld_off[MIME_FLD_TYPE], e->fld_len[MIME_FLD_TYPE], "text", 4);
}

/*
 * Search the decoded text parts; with headers, also every part's MIME
 * header and every encapsulated message's header (SEARCH TEXT: everything,
 * SEARCH BODY: the text only, as Dovecot does).
 */
static int mime_search_body(struct mime_scan *sc, const void *rec, const char *msg, int headers)
{
	unsigned n = mime_rec_count(rec);
	struct mime_ent e;

	for (unsigned i = 0; i < n; i++) {
		mime_rec_ent(rec, i, &e);
		if (headers && i > 0 && mime_search_header(sc, msg, e.hdr_off, e.hdr_len, NULL, 0, 0))
			return 1;
		if (!mime_is_text(msg, &e))
			continue;
		int cs = MIME_CS_UTF8;
		uint32_t vo, vl, ct = e.fld_off[MIME_FLD_CTYPE];
		if (!(e.flags & MIME_EF_FLAT) && ct != MIME_ABSENT &&
		    mime_param_find(msg, mime_params_start(msg, ct, e.fld_len[MIME_FLD_CTYPE]),
		                    ct + e.fld_len[MIME_FLD_CTYPE], "charset", &vo, &vl))
			cs = mime_charset(msg + vo, vl);
		mime_scan_reset(sc, cs);
		if (e.enc == MIME_ENC_BASE64)
			mime_scan_base64(sc, msg + e.body_off, e.body_len);
		else if (e.enc == MIME_ENC_QP)
			mime_scan_qp(sc, msg + e.body_off, e.body_len, 0);
		else
			mime_scan_bytes(sc, msg + e.body_off, e.body_len);
		mime_scan_flush(sc);
		if (sc->found)
			return 1;
	}
	return 0;
}

/* Fold the needle (through the same decoder the text goes through) and build its failure table. */
int mime_needle_init(struct mime_needle *nd, const char *s, size_t len)
{
	struct mime_scan sc;
	size_t k;

	if (!nd || (!s && len))
		return -EINVAL;
	memset(&sc, 0, sizeof sc);
	sc.out = nd->s;
	mime_scan_reset(&sc, MIME_CS_UTF8);
	mime_scan_bytes(&sc, s, len);
	mime_scan_flush(&sc);
	if (sc.overflow)
		return -EINVAL;
	k = nd->len = sc.outlen;
	/* KMP failure table: fail[i] = length of the longest proper border of s[0..i] */
	if (k)
		nd->fail[0] = 0;
	for (size_t i = 1, b = 0; i < k; i++) {
		while (b > 0 && nd->s[i] != nd->s[b])
			b = nd->fail[b - 1];
		if (nd->s[i] == nd->s[b])
			b++;
		nd->fail[i] = (uint16_t)b;
	}
	return 0;
}

/* SEARCH HEADER/BODY/TEXT on one message. */
int mime_search(const void *rec, size_t reclen, const char *msg, size_t msglen, int where,
                const char *field, size_t fieldlen, const struct mime_needle *nd)
{
	struct mime_scan sc;
	struct mime_ent root;
	int rc;

	if (!nd || (!msg && msglen) || (!field && fieldlen) || where < MIME_IN_HEADER || where > MIME_IN_ADDR ||
	    (where == MIME_IN_ADDR && !field))
		return -EINVAL;
	rc = mime_rec_check(rec, reclen, msglen);
	if (rc)
		return rc;
	if (!msg)
		msg = "";
	memset(&sc, 0, sizeof sc);
	sc.nd = nd;
	mime_rec_ent(rec, 0, &root);
	if (nd->len == 0 && !(field && (where == MIME_IN_HEADER || where == MIME_IN_ADDR)))
		return 1;       /* the empty string is in every text */
	if (where == MIME_IN_HEADER || where == MIME_IN_ADDR)
		return mime_search_header(&sc, msg, root.hdr_off, root.hdr_len, field, fieldlen, where == MIME_IN_ADDR);
	if (where == MIME_IN_TEXT && mime_search_header(&sc, msg, root.hdr_off, root.hdr_len, NULL, 0, 0))
		return 1;
	return mime_search_body(&sc, rec, msg, where == MIME_IN_TEXT);
}
