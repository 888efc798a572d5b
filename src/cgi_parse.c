/*
 * cgi_parse — the CGI's bounded parsers: urlencoded forms and query
 * strings (decoded in place), the Cookie header, sizes with units, ports.
 * Nothing here allocates; every loop is bounded by the input length.
 */
#include <errno.h>
#include <string.h>

#include "sysconfig.h"
#include "cgi.h"

#if CONFIG_CGI

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode s[0..len) in place ('+' and %XX); NUL-terminates. Decoded length or -EINVAL. */
static long form_decode(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				return -EINVAL;
			i += 2;
		} else if (c == '\0') {
			return -EINVAL;
		}
		s[o++] = c;
	}
	s[o] = '\0';
	return (long)o;
}

/* Parse a urlencoded form in place (see cgi.h). 0, -EINVAL or -E2BIG. */
int cgi_form_parse(struct cgi_form *form, char *buf, size_t len)
{
	size_t pos = 0;

	form->n = 0;
	if (!buf)
		return len ? -EINVAL : 0;
	buf[len] = '\0';
	while (pos < len) {
		char *start = buf + pos, *amp = memchr(start, '&', len - pos), *eq;
		size_t flen = amp ? (size_t)(amp - start) : len - pos;
		char *val;

		pos += flen + (amp != NULL);
		if (flen == 0)
			continue;               /* "a=1&&b=2" */
		eq = memchr(start, '=', flen);
		if (eq) {
			*eq = '\0';
			val = eq + 1;
			if (form_decode(start, (size_t)(eq - start)) < 0 ||
			    form_decode(val, flen - (size_t)(val - start)) < 0)
				return -EINVAL;
		} else {
			if (form_decode(start, flen) < 0)
				return -EINVAL;
			val = start + strlen(start);   /* "" (the terminator) */
		}
		if (form->n >= CGI_FIELDS_MAX)
			return -E2BIG;
		form->f[form->n].name = start;
		form->f[form->n].value = val;
		form->n++;
	}
	return 0;
}

/* The first value of name, or NULL. */
const char *cgi_form_get(const struct cgi_form *form, const char *name)
{
	size_t i;

	for (i = 0; i < form->n; i++)
		if (!strcmp(form->f[i].name, name))
			return form->f[i].value;
	return NULL;
}

/* Find one cookie in a Cookie header (RFC 6265 "name=value; name=value"). */
int cgi_cookie_get(const char *h, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);

	if (!h || !nlen || !cap)
		return -ENOENT;
	while (*h) {
		const char *end, *v;
		size_t vlen;

		while (*h == ' ' || *h == '\t' || *h == ';')
			h++;
		end = strchr(h, ';');
		if (!end)
			end = h + strlen(h);
		if ((size_t)(end - h) > nlen && !memcmp(h, name, nlen) && h[nlen] == '=') {
			v = h + nlen + 1;
			vlen = (size_t)(end - v);
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen >= cap)
				return -E2BIG;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		h = end;
	}
	return -ENOENT;
}

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Case-insensitive compare of the whole of s with word. */
static int word_is(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return 0;
	for (i = 0; i < n; i++)
		if ((s[i] | 0x20) != word[i])
			return 0;
	return 1;
}

/* Parse a size with an optional fraction and unit (see cgi.h). */
int cgi_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "bkmgt";
	uint64_t whole = 0, frac = 0, fdiv = 1, mult;
	const char *p, *u;
	size_t ulen, nd = 0;
	int shift;

	if (!s)
		return -EINVAL;
	s = skip_spaces(s);
	ulen = strlen(s);
	while (ulen && (s[ulen - 1] == ' ' || s[ulen - 1] == '\t'))
		ulen--;
	if (ulen == 0 || word_is(s, ulen, "none") || word_is(s, ulen, "unlimited")) {
		*out = 0;
		return 0;
	}
	if (ulen > 32)
		return -EINVAL;
	for (p = s; *p >= '0' && *p <= '9'; p++, nd++) {
		if (nd >= 15)
			return -EINVAL;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (nd == 0)
		return -EINVAL;
	if (*p == '.' || *p == ',') {
		size_t fd = 0;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (fd < 6) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdiv *= 10;
			}
			fd++;
		}
		if (fd == 0)
			return -EINVAL;
	}
	p = skip_spaces(p);
	ulen = (size_t)(s + ulen - p);
	shift = 0;
	if (ulen > 0) {
		u = strchr(units, *p | 0x20);
		if (!u || *p == '\0')
			return -EINVAL;
		shift = 10 * (int)(u - units);
		if (!(ulen == 1 || (ulen == 2 && (p[1] | 0x20) == 'b' && shift) ||
		      (ulen == 3 && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'b' && shift) ||
		      (shift == 0 && word_is(p, ulen, "bytes"))))
			return -EINVAL;
	}
	mult = (uint64_t)1 << shift;
	if (whole > (UINT64_MAX >> 1) / mult)
		return -EINVAL;
	*out = whole * mult + (frac * mult) / fdiv;
	return 0;
}

/* A port number 1..65535. */
int cgi_parse_port(const char *s, uint16_t *out)
{
	unsigned v = 0;
	size_t nd = 0;

	if (!s)
		return -EINVAL;
	s = skip_spaces(s);
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++nd > 5)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	s = skip_spaces(s);
	if (nd == 0 || *s || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

#endif
