/*
 * imap_parse — the IMAP command grammar (RFC 3501 section 9), parsed in
 * place over an assembled command: no allocation, every step bounded by
 * the command's length, nesting bounded by IMAP_NEST_MAX. Errors are
 * sticky: the first one sets p->err and p->msg (the text of the BAD reply)
 * and every later call fails at once.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "imap.h"

#define STR_(x) #x
#define STR(x) STR_(x)

void imap_p_init(struct imap_p *p, const char *s, size_t len)
{
	p->p = s;
	p->end = s + len;
	p->err = 0;
	p->msg = NULL;
	p->depth = 0;
}

int imap_p_fail(struct imap_p *p, const char *msg)
{
	if (!p->err) {
		p->err = -EINVAL;
		p->msg = msg;
	}
	return -EINVAL;
}

int imap_p_no(struct imap_p *p, const char *msg)
{
	if (!p->err) {
		p->err = -EPERM;
		p->msg = msg;
	}
	return -EPERM;
}

int imap_p_peek(const struct imap_p *p)
{
	return p->err || p->p >= p->end ? -1 : (unsigned char)*p->p;
}

int imap_p_accept(struct imap_p *p, char c)
{
	if (imap_p_peek(p) != (unsigned char)c)
		return 0;
	p->p++;
	return 1;
}

int imap_p_sp(struct imap_p *p)
{
	if (p->err)
		return p->err;
	if (!imap_p_accept(p, ' '))
		return imap_p_fail(p, "Missing argument");
	return 0;
}

int imap_p_eol(struct imap_p *p)
{
	return !p->err && p->p == p->end;
}

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ] */
static int atom_char(unsigned char c)
{
	return c < 0x80 && !is_ctl(c) && !strchr("(){ %*\"\\]", c);
}

/* Parse 1* of chars accepted by ok(). */
static int run(struct imap_p *p, int (*ok)(unsigned char c), struct imap_str *out, const char *what)
{
	const char *s = p->p;

	if (p->err)
		return p->err;
	while (p->p < p->end && ok((unsigned char)*p->p))
		p->p++;
	if (p->p == s)
		return imap_p_fail(p, what);
	out->s = s;
	out->len = (size_t)(p->p - s);
	out->q = 0;
	return 0;
}

int imap_p_atom(struct imap_p *p, struct imap_str *out)
{
	return run(p, atom_char, out, "Expected an atom");
}

static int tag_char(unsigned char c)
{
	return atom_char(c) && c != '+';
}

int imap_p_tag(struct imap_p *p, struct imap_str *out)
{
	return run(p, tag_char, out, "Invalid tag");
}

static int astring_char(unsigned char c)
{
	return atom_char(c) || c == ']';
}

static int list_char(unsigned char c)
{
	return atom_char(c) || c == ']' || c == '%' || c == '*';
}

/* {n} or {n+} CRLF, then n bytes. */
static int literal(struct imap_p *p, struct imap_str *out)
{
	uint64_t n = 0;
	int digits = 0;

	p->p++;        /* '{' */
	while (p->p < p->end && *p->p >= '0' && *p->p <= '9') {
		n = n * 10 + (uint64_t)(*p->p++ - '0');
		if (++digits > 10)
			return imap_p_fail(p, "Literal too large");
	}
	if (!digits)
		return imap_p_fail(p, "Bad literal");
	imap_p_accept(p, '+');
	if (!imap_p_accept(p, '}'))
		return imap_p_fail(p, "Bad literal");
	imap_p_accept(p, '\r');
	if (!imap_p_accept(p, '\n'))
		return imap_p_fail(p, "Bad literal");
	if (n > (uint64_t)(p->end - p->p))
		return imap_p_fail(p, "Literal shorter than announced");
	out->s = p->p;
	out->len = (size_t)n;
	out->q = 0;
	p->p += n;
	return 0;
}

/* "..." with \" and \\ escapes; no CR, LF or NUL inside. */
static int quoted(struct imap_p *p, struct imap_str *out)
{
	const char *s;

	p->p++;        /* '"' */
	s = p->p;
	for (;;) {
		if (p->p >= p->end)
			return imap_p_fail(p, "Unterminated quoted string");
		unsigned char c = (unsigned char)*p->p;
		if (c == '"')
			break;
		if (c == '\r' || c == '\n' || c == 0)
			return imap_p_fail(p, "Invalid character in a quoted string");
		if (c == '\\') {
			if (p->p + 1 >= p->end || (p->p[1] != '"' && p->p[1] != '\\'))
				return imap_p_fail(p, "Invalid escape in a quoted string");
			p->p++;
		}
		p->p++;
	}
	out->s = s;
	out->len = (size_t)(p->p - s);
	out->q = 1;
	p->p++;
	return 0;
}

int imap_p_string(struct imap_p *p, struct imap_str *out)
{
	int c = imap_p_peek(p);

	if (p->err)
		return p->err;
	if (c == '"')
		return quoted(p, out);
	if (c == '{')
		return literal(p, out);
	return imap_p_fail(p, "Expected a string");
}

int imap_p_astring(struct imap_p *p, struct imap_str *out)
{
	int c = imap_p_peek(p);

	if (c == '"' || c == '{')
		return imap_p_string(p, out);
	return run(p, astring_char, out, "Expected a string or an atom");
}

int imap_p_nstring(struct imap_p *p, struct imap_str *out)
{
	int c = imap_p_peek(p);

	if (c == 'N' || c == 'n') {
		struct imap_str a;
		if (imap_p_atom(p, &a) == 0 && imap_str_is(&a, "NIL")) {
			out->s = NULL;
			out->len = 0;
			out->q = 0;
			return 0;
		}
		return imap_p_fail(p, "Expected NIL or a string");
	}
	return imap_p_string(p, out);
}

int imap_p_listmbox(struct imap_p *p, struct imap_str *out)
{
	int c = imap_p_peek(p);

	if (c == '"' || c == '{')
		return imap_p_string(p, out);
	return run(p, list_char, out, "Expected a mailbox pattern");
}

int imap_p_number64(struct imap_p *p, uint64_t *out)
{
	uint64_t n = 0;
	int digits = 0;

	if (p->err)
		return p->err;
	while (p->p < p->end && *p->p >= '0' && *p->p <= '9') {
		n = n * 10 + (uint64_t)(*p->p++ - '0');
		if (++digits > 18)
			return imap_p_fail(p, "Number too large");
	}
	if (!digits)
		return imap_p_fail(p, "Expected a number");
	*out = n;
	return 0;
}

int imap_p_number(struct imap_p *p, uint32_t *out)
{
	uint64_t n;

	if (imap_p_number64(p, &n))
		return p->err;
	if (n > UINT32_MAX)
		return imap_p_fail(p, "Number too large");
	*out = (uint32_t)n;
	return 0;
}

int imap_p_open(struct imap_p *p)
{
	if (p->err)
		return p->err;
	if (!imap_p_accept(p, '('))
		return imap_p_fail(p, "Expected '('");
	if (++p->depth > IMAP_NEST_MAX)
		return imap_p_fail(p, "Too deeply nested");
	return 0;
}

int imap_p_close(struct imap_p *p)
{
	if (p->err)
		return p->err;
	if (!imap_p_accept(p, ')'))
		return imap_p_fail(p, "Expected ')'");
	p->depth--;
	return 0;
}

/* '*' in a set being normalised: above every number. */
#define SET_STAR ((uint64_t)UINT32_MAX + 1)

/* seq-number: nz-number or '*' (SET_STAR) into *v. 0 or -1. */
static int seqnum(const char **s, const char *end, uint64_t *v)
{
	const char *q = *s;
	uint64_t n = 0;

	if (q < end && *q == '*') {
		*s = q + 1;
		*v = SET_STAR;
		return 0;
	}
	if (q >= end || *q < '1' || *q > '9')
		return -1;
	while (q < end && *q >= '0' && *q <= '9') {
		n = n * 10 + (uint64_t)(*q++ - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*s = q;
	*v = n;
	return 0;
}

/* One range of a set: seq-number [':' seq-number], lo <= hi; *canon = 0
 * when it is not spelt the short way ("5:5", "7:5", "*:5"). 0 or -1. */
static int seqrange(const char **s, const char *end, uint64_t *lo, uint64_t *hi, int *canon)
{
	uint64_t a, b;

	if (seqnum(s, end, &a) < 0)
		return -1;
	b = a;
	if (*s < end && **s == ':') {
		(*s)++;
		if (seqnum(s, end, &b) < 0)
			return -1;
		if (a >= b)
			*canon = 0;
	}
	*lo = a < b ? a : b;
	*hi = a < b ? b : a;
	return 0;
}

/*
 * The ranges of a set being normalised. One loop, one thread, and a set is
 * normalised within one parser call, so one buffer serves every session;
 * it is touched only by a set that is not in order already (most are).
 * A quarter more slots than the limit: ranges are merged each time it
 * fills, so a line of many duplicates costs a few sorts, not one per range.
 */
#define SET_BUF_RANGES (IMAP_SET_RANGES_MAX + IMAP_SET_RANGES_MAX / 4)
static struct set_range {
	uint64_t lo, hi;
} set_buf[SET_BUF_RANGES];

/* Sort r[0..n) by lo (a shell sort: no allocation, no recursion), then
 * merge overlapping and adjacent ranges. The number of ranges left. */
static size_t ranges_merge(struct set_range *r, size_t n)
{
	size_t gap, i, j, o = 0;

	for (gap = n / 2; gap > 0; gap = gap == 2 ? 1 : gap * 5 / 11)
		for (i = gap; i < n; i++) {
			struct set_range t = r[i];
			for (j = i; j >= gap && r[j - gap].lo > t.lo; j -= gap)
				r[j] = r[j - gap];
			r[j] = t;
		}
	for (i = 0; i < n; i++) {
		if (o && r[i].lo <= r[o - 1].hi + 1) {
			if (r[i].hi > r[o - 1].hi)
				r[o - 1].hi = r[i].hi;
		} else {
			r[o++] = r[i];
		}
	}
	return o;
}

/* Write v ('*' for SET_STAR) at o, or only count it when o is NULL. Bytes. */
static size_t num_put(char *o, uint64_t v)
{
	char t[10];
	size_t n = 0, i;

	if (v == SET_STAR) {
		if (o)
			*o = '*';
		return 1;
	}
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; o && i < n; i++)
		o[i] = t[n - 1 - i];
	return n;
}

/*
 * Rewrite the set text [s, s + len) from set_buf[0..n) and move the rest
 * of the command up behind it. The text never grows: each merged range's
 * ends are numbers of the ranges it replaced (a '*' stays a '*'), so it
 * takes no more bytes than they and their commas did.
 */
static void set_rewrite(struct imap_p *p, char *s, size_t len, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += (i ? 1 : 0) + num_put(NULL, set_buf[i].lo) +
		     (set_buf[i].hi != set_buf[i].lo ? 1 + num_put(NULL, set_buf[i].hi) : 0);
	if (k > len)
		return;         /* cannot happen (see above); the set then stays as sent */
	for (i = 0, k = 0; i < n; i++) {
		if (i)
			s[k++] = ',';
		k += num_put(s + k, set_buf[i].lo);
		if (set_buf[i].hi != set_buf[i].lo) {
			s[k++] = ':';
			k += num_put(s + k, set_buf[i].hi);
		}
	}
	memmove(s + k, s + len, (size_t)(p->end - (s + len)));
	memset((char *)p->end - (len - k), ' ', len - k);
	p->p -= len - k;
	p->end -= len - k;
}

/*
 * A sequence set, normalised in place before anyone acts on it: ranges in
 * order, overlapping and adjacent ones merged, each number once, so that
 * "1:*,1:*,..." costs what "1:*" does. '*' keeps its meaning: a range
 * "n:*" still reaches whatever '*' is when the set is used, and a lone
 * '*' merges only into such a range. A set already in that form (most)
 * is left alone. More than IMAP_SET_RANGES_MAX distinct ranges: NO [LIMIT].
 */
int imap_p_seqset(struct imap_p *p, struct imap_str *out)
{
	char *s = (char *)p->p;
	const char *q;
	uint64_t lo, hi, prev = 0;
	size_t n = 0;
	int canon = 1;

	if (p->err)
		return p->err;
	for (;;) {
		if (seqrange(&p->p, p->end, &lo, &hi, &canon) < 0)
			return imap_p_fail(p, "Invalid sequence set");
		if (n++ && lo <= prev + 1)
			canon = 0;      /* out of order, overlapping or adjacent */
		prev = hi;
		if (p->p < p->end && *p->p == ',') {
			p->p++;
			continue;
		}
		break;
	}
	if (!canon) {
		n = 0;
		for (q = s; q < p->p; q += q < p->p && *q == ',') {
			seqrange(&q, p->p, &set_buf[n].lo, &set_buf[n].hi, &canon);
			if (++n == SET_BUF_RANGES)
				n = ranges_merge(set_buf, n);   /* at most every 256 ranges */
			if (n == SET_BUF_RANGES)
				break;                          /* nothing merged: over the limit */
		}
		n = ranges_merge(set_buf, n);
		if (n <= IMAP_SET_RANGES_MAX)
			set_rewrite(p, s, (size_t)(p->p - s), n);
	}
	if (n > IMAP_SET_RANGES_MAX)
		return imap_p_no(p, "[LIMIT] Too many ranges in the sequence set (the limit is "
		                    STR(IMAP_SET_RANGES_MAX) " once merged)");
	out->s = s;
	out->len = (size_t)(p->p - s);
	out->q = 0;
	return 0;
}

int imap_p_flag(struct imap_p *p, struct imap_str *out)
{
	const char *s = p->p;

	if (imap_p_accept(p, '\\')) {
		if (imap_p_accept(p, '*')) {
			out->s = s;
			out->len = 2;
			out->q = 0;
			return 0;
		}
		if (imap_p_atom(p, out))
			return p->err;
		out->s = s;
		out->len++;
		return 0;
	}
	return imap_p_atom(p, out);
}

/* \Seen \Answered \Flagged \Deleted \Draft: bit i is the i-th (the store's order). */
static uint32_t system_flag(const struct imap_str *f)
{
	static const char *const names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };

	for (unsigned i = 0; i < 5; i++)
		if (imap_str_is(f, names[i]))
			return 1u << i;
	return 0;
}

int imap_p_flags(struct imap_p *p, int paren_required, uint32_t *sys, struct imap_str *kw, unsigned kw_max,
                 unsigned *nkw)
{
	struct imap_str f;
	int paren = imap_p_peek(p) == '(';

	*sys = 0;
	*nkw = 0;
	if (paren_required && !paren)
		return imap_p_fail(p, "Expected a flag list");
	if (paren && imap_p_open(p))
		return p->err;
	if (paren && imap_p_accept(p, ')')) {
		p->depth--;
		return 0;
	}
	do {
		if (imap_p_flag(p, &f))
			return p->err;
		if (f.s[0] == '\\') {
			uint32_t b = system_flag(&f);
			if (!b && !imap_str_is(&f, "\\Recent"))
				return imap_p_fail(p, "Unknown system flag");
			*sys |= b;
		} else {
			unsigned i = 0;
			if (f.len > IMAP_KEYWORD_LEN)
				return imap_p_fail(p, "Keyword too long");
			if (kw) {
				for (i = 0; i < *nkw && i < kw_max; i++)
					if (kw[i].len == f.len && !strncasecmp(kw[i].s, f.s, f.len))
						break;
				if (i < *nkw && i < kw_max)
					continue;       /* named before */
				if (*nkw < kw_max)
					kw[*nkw] = f;
			}
			(*nkw)++;
		}
	} while (imap_p_accept(p, ' '));
	if (paren)
		return imap_p_close(p);
	return 0;
}

int imap_p_mbox(struct imap_p *p, char *buf)
{
	struct imap_str a;

	if (imap_p_sp(p) || imap_p_astring(p, &a))
		return p->err;
	if (imap_str_copy(&a, buf, IMAP_MBOX_NAME_MAX + 1) < 0)
		return imap_p_no(p, "[CANNOT] Mailbox name too long");
	if (!strcasecmp(buf, "INBOX"))
		strcpy(buf, "INBOX");
	else if (!strncasecmp(buf, "INBOX/", 6))
		memcpy(buf, "INBOX", 5);
	return 0;
}

int imap_str_copy(const struct imap_str *s, char *buf, size_t cap)
{
	size_t i, o = 0;

	if (!s->s) {
		if (cap == 0)
			return -ENOSPC;
		buf[0] = '\0';
		return 0;
	}
	for (i = 0; i < s->len; i++) {
		char ch = s->s[i];
		if (s->q && ch == '\\' && i + 1 < s->len)
			ch = s->s[++i];
		if (o + 1 >= cap)
			return -ENOSPC;
		buf[o++] = ch;
	}
	if (o >= cap)
		return -ENOSPC;
	buf[o] = '\0';
	return 0;
}

int imap_str_is(const struct imap_str *s, const char *word)
{
	size_t n = strlen(word);

	return s->s && s->len == n && !strncasecmp(s->s, word, n);
}

/* Parse one seq-number of a checked set; '*' is star. */
static uint32_t setnum(const char **s, uint32_t star)
{
	uint64_t n = 0;

	if (**s == '*') {
		(*s)++;
		return star;
	}
	while (**s >= '0' && **s <= '9')
		n = n * 10 + (uint64_t)(*(*s)++ - '0');
	return (uint32_t)n;
}

/* Does a range of the set before upto contain n? */
static int set_covers(const char *set, const char *upto, uint32_t star, uint32_t n)
{
	uint32_t a, b;

	while (set < upto) {
		a = b = setnum(&set, star);
		if (set < upto && *set == ':') {
			set++;
			b = setnum(&set, star);
		}
		if (set < upto && *set == ',')
			set++;
		if (n >= (a < b ? a : b) && n <= (a < b ? b : a))
			return 1;
	}
	return 0;
}

int imap_set_next(const char *set, const char **pos, const char *end, uint32_t star, uint32_t *lo, uint32_t *hi)
{
	const char *s = *pos, *r;
	uint32_t a, b, prev = *hi;

	for (;;) {
		if (s >= end)
			return 0;
		r = s;
		a = setnum(&s, star);
		b = a;
		if (s < end && *s == ':') {
			s++;
			b = setnum(&s, star);
		}
		if (s < end && *s == ',')
			s++;
		*pos = s;
		*lo = a < b ? a : b;
		*hi = a < b ? b : a;
		if (!prev || *lo > prev)
			return 1;
		/* Only the '*' range of a normalised set (its last) reaches back
		 * below the range before ("1:3,7:9,20:*" with 5 the highest). When
		 * star is below that range's end, no message lies above star: the
		 * range brings star alone, unless an earlier range gave it. */
		if (star >= *lo && star <= prev && star <= *hi) {
			if (set_covers(set, r, star, star))
				continue;
			*lo = *hi = star;
			return 1;
		}
		if (*hi > prev) {
			*lo = prev + 1;
			return 1;
		}
	}
}

int imap_set_has(const char *set, const char *end, uint32_t star, uint32_t n)
{
	uint32_t lo = 0, hi = 0;

	const char *pos = set;

	while (imap_set_next(set, &pos, end, star, &lo, &hi))
		if (n >= lo && n <= hi)
			return 1;
	return 0;
}

int imap_literal_tail(const char *line, size_t len, uint64_t *n, int *plus)
{
	size_t i;
	uint64_t v = 0, mul = 1;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	i = len - 1;
	*plus = 0;
	if (line[i - 1] == '+') {
		*plus = 1;
		i--;
	}
	if (i < 2)
		return 0;
	size_t end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') {
		if (end - i >= 12)
			return -EINVAL;
		v += (uint64_t)(line[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == end || i == 0 || line[i - 1] != '{')
		return 0;
	*n = v;
	return 1;
}

/* The value of a modified BASE64 character (',' for '/'), or -1. */
static int mb64(unsigned char b)
{
	if (b >= 'A' && b <= 'Z')
		return b - 'A';
	if (b >= 'a' && b <= 'z')
		return b - 'a' + 26;
	if (b >= '0' && b <= '9')
		return b - '0' + 52;
	return b == '+' ? 62 : b == ',' ? 63 : -1;
}

/*
 * Mailbox names: 1..STORE_MBOX_NAME_MAX (255) bytes of printable US-ASCII
 * in modified UTF-7 (RFC 3501 5.1.3): '&' starts a base64 run (the
 * modified alphabet with ',' for '/') ended by '-', "&-" is '&'; no empty
 * hierarchy level ("a//b", "/a", "a/"), no '*' or '%' (LIST wildcards).
 * A run must decode to whole UTF-16 units with zero padding bits, pair
 * its surrogates, and encode nothing below U+0080: a printable character
 * must stand for itself (an encoded "a", "/" or a fake "INBOX" would be a
 * second spelling of another name), and controls have no place in names.
 */
int imap_mbox_name_check(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 255 || name[0] == '/' || name[n - 1] == '/')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c >= 0x7f || c == '*' || c == '%')
			return -EINVAL;
		if (c == '/' && name[i + 1] == '/')
			return -EINVAL;
		if (c == '&') {
			uint32_t acc = 0, u;
			unsigned bits = 0, high = 0;
			size_t j;
			for (j = i + 1; j < n && name[j] != '-'; j++) {
				int v = mb64((unsigned char)name[j]);
				if (v < 0)
					return -EINVAL;
				acc = acc << 6 | (uint32_t)v;
				if ((bits += 6) < 16)
					continue;
				bits -= 16;
				u = acc >> bits & 0xffff;
				if (high != (u >= 0xdc00 && u <= 0xdfff))
					return -EINVAL;     /* a surrogate without its pair */
				high = u >= 0xd800 && u <= 0xdbff;
				if (u < 0x80)
					return -EINVAL;
			}
			/* unterminated, a pair left open, padding of 6 bits or more or not zero */
			if (j >= n || high || bits >= 6 || (acc & ((1u << bits) - 1)))
				return -EINVAL;
			i = j;
		}
	}
	return 0;
}
