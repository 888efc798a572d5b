/* mime_hdr — header fields, RFC 2045/5322 tokens, comments, quoted strings and parameters. */
#include <string.h>

#include "mime_int.h"

/* Position after the line that starts at pos (after its LF, or end). */
static uint32_t mime_line_end(const char *msg, uint32_t pos, uint32_t end)
{
	const char *lf = memchr(msg + pos, '\n', end - pos);

	return lf ? (uint32_t)(lf - msg) + 1 : end;
}

/* Is the line at pos blank (CRLF or a bare LF)? */
static int mime_blank_line(const char *msg, uint32_t pos, uint32_t end)
{
	return msg[pos] == '\n' || (msg[pos] == '\r' && pos + 1 < end && msg[pos + 1] == '\n');
}

/* Position of the blank line ending the header from pos (or end). */
uint32_t mime_header_end(const char *msg, uint32_t pos, uint32_t end)
{
	while (pos < end && !mime_blank_line(msg, pos, end))
		pos = mime_line_end(msg, pos, end);
	return pos;
}

/* Next item of the header: a "name: value" field (1) or a line that is none (2), with continuations. */
int mime_field_next(const char *msg, uint32_t *pos, uint32_t end, struct mime_field *f)
{
	uint32_t p = *pos;

	if (p < end && !mime_blank_line(msg, p, end)) {
		uint32_t le = mime_line_end(msg, p, end), fe = le, ne = p, vs, ve;
		const char *colon;
		int ok = 1;

		while (fe < end && (msg[fe] == ' ' || msg[fe] == '\t'))
			fe = mime_line_end(msg, fe, end);
		colon = memchr(msg + p, ':', le - p);
		if (colon) {
			ne = (uint32_t)(colon - msg);
			while (ne > p && (msg[ne - 1] == ' ' || msg[ne - 1] == '\t'))
				ne--;   /* obsolete "Name :" */
			for (uint32_t i = p; i < ne && ok; i++)
				ok = (unsigned char)msg[i] > 32 && (unsigned char)msg[i] < 127;
		}
		if (!colon || !ok || ne == p) {
			memset(f, 0, sizeof *f);
			f->off = p;
			f->len = fe - p;
			*pos = fe;
			return 2;
		}
		vs = (uint32_t)(colon - msg) + 1;
		ve = fe;
		if (ve > vs && msg[ve - 1] == '\n')
			ve--;
		if (ve > vs && msg[ve - 1] == '\r')
			ve--;
		while (vs < ve && (msg[vs] == ' ' || msg[vs] == '\t'))
			vs++;
		f->off = p;
		f->len = fe - p;
		f->name_off = p;
		f->name_len = ne - p;
		f->val_off = vs;
		f->val_len = ve - vs;
		*pos = fe;
		return 1;
	}
	*pos = p;
	return 0;
}

/* Case-insensitive compare of a message range with a name. */
int mime_name_eq(const char *msg, uint32_t off, uint32_t len, const char *name, size_t nlen)
{
	if (len != nlen)
		return 0;
	for (uint32_t i = 0; i < len; i++)
		if (mime_lower((unsigned char)msg[off + i]) != mime_lower((unsigned char)name[i]))
			return 0;
	return 1;
}

/* Skip a comment (nested, with quoted pairs); returns the position after it or end. */
uint32_t mime_comment_end(const char *msg, uint32_t pos, uint32_t end)
{
	unsigned depth = 0;

	while (pos < end) {
		char c = msg[pos++];
		if (c == '\\')
			pos = pos < end ? pos + 1 : end;
		else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return pos;
	}
	return end;
}

/* Skip a quoted-string; returns the position after the closing quote or end. */
uint32_t mime_quoted_end(const char *msg, uint32_t pos, uint32_t end)
{
	pos++;
	while (pos < end) {
		char c = msg[pos++];
		if (c == '\\')
			pos = pos < end ? pos + 1 : end;
		else if (c == '"')
			return pos;
	}
	return end;
}

/* Skip white space, line folds and comments. */
uint32_t mime_skip_cfws(const char *msg, uint32_t pos, uint32_t end)
{
	while (pos < end) {
		char c = msg[pos];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			pos++;
		else if (c == '(')
			pos = mime_comment_end(msg, pos, end);
		else
			break;
	}
	return pos;
}

/* End of an RFC 2045 token (printable ASCII except tspecials) at pos. */
uint32_t mime_token_end(const char *msg, uint32_t pos, uint32_t end)
{
	while (pos < end) {
		unsigned char c = (unsigned char)msg[pos];
		if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c))
			break;
		pos++;
	}
	return pos;
}

/* Skip to the next ';' outside quoted strings and comments (or end). */
static uint32_t mime_skip_param(const char *msg, uint32_t pos, uint32_t end)
{
	while (pos < end && msg[pos] != ';') {
		if (msg[pos] == '"')
			pos = mime_quoted_end(msg, pos, end);
		else if (msg[pos] == '(')
			pos = mime_comment_end(msg, pos, end);
		else
			pos++;
	}
	return pos;
}

/* Next "; name=value" parameter; values may be quoted strings or (leniently) any text up to ';'. */
int mime_param_next(const char *msg, uint32_t *pos, uint32_t end, uint32_t *name_off,
                    uint32_t *name_len, uint32_t *val_off, uint32_t *val_len)
{
	uint32_t p = mime_skip_cfws(msg, *pos, end);

	while (p < end) {
		uint32_t ne, q, ve;

		if (msg[p] != ';') {
			p = mime_skip_param(msg, p, end);   /* junk before the next ';' */
			continue;
		}
		p = mime_skip_cfws(msg, p + 1, end);
		ne = mime_token_end(msg, p, end);
		q = mime_skip_cfws(msg, ne, end);
		if (ne == p || q >= end || msg[q] != '=') {
			p = mime_skip_param(msg, p, end);
			continue;
		}
		q = mime_skip_cfws(msg, q + 1, end);
		if (q < end && msg[q] == '"') {
			ve = mime_quoted_end(msg, q, end);
		} else {
			/* lenient: unquoted values with '=' or '/' in them are common */
			ve = q;
			while (ve < end && msg[ve] != ';' && msg[ve] != '(' && msg[ve] != '\r' && msg[ve] != '\n')
				ve++;
			while (ve > q && (msg[ve - 1] == ' ' || msg[ve - 1] == '\t'))
				ve--;
		}
		*name_off = p;
		*name_len = ne - p;
		*val_off = q;
		*val_len = ve - q;
		*pos = ve;
		return 1;
	}
	*pos = end;
	return 0;
}

/* Find one parameter by name (case-insensitive). */
int mime_param_find(const char *msg, uint32_t pos, uint32_t end, const char *name,
                    uint32_t *val_off, uint32_t *val_len)
{
	uint32_t no, nl;
	size_t want = strlen(name);
	unsigned n = 0;

	while (n++ < MIME_PARAMS_MAX && mime_param_next(msg, &pos, end, &no, &nl, val_off, val_len))
		if (mime_name_eq(msg, no, nl, name, want))
			return 1;
	return 0;
}

/* Position after "type[/subtype]" of a Content-Type or Content-Disposition value. */
uint32_t mime_params_start(const char *msg, uint32_t off, uint32_t len)
{
	uint32_t end = off + len, p = mime_skip_cfws(msg, off, end);

	p = mime_skip_cfws(msg, mime_token_end(msg, p, end), end);
	if (p < end && msg[p] == '/')
		p = mime_token_end(msg, mime_skip_cfws(msg, p + 1, end), end);
	return p;
}
