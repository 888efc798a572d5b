/*
 * mime_sect — BODY[section]: an IMAP section spec resolved against a record
 * to a byte range, and the HEADER.FIELDS(.NOT) filter.
 */
#include <errno.h>
#include <string.h>

#include "mime_int.h"

/* Case-insensitive: does spec[p..] start with word? */
static int mime_spec_is(const char *spec, size_t len, size_t p, const char *word)
{
	size_t n = strlen(word);

	if (len - p < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (mime_lower((unsigned char)spec[p + i]) != mime_lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* Child number v (1-based) of multipart entity x, or -1. */
static int mime_child(const void *rec, unsigned x, uint32_t v)
{
	struct mime_ent e, c;
	uint32_t k = 1;

	mime_rec_ent(rec, x, &e);
	for (unsigned j = x + 1; j <= x + e.desc; k++) {
		if (k == v)
			return (int)j;
		mime_rec_ent(rec, j, &c);
		j += 1u + c.desc;
	}
	return -1;
}

/*
 * Validate a header list "(" name *(SP name) ")" at spec[p..] running to the
 * end; names are atoms or quoted strings. 0 and the inside range, or -EINVAL.
 */
static int mime_spec_names(const char *spec, size_t len, size_t p, struct mime_sect *out)
{
	size_t q, names = 0;

	if (p >= len || spec[p] != ' ')
		return -EINVAL;
	p++;
	if (p >= len || spec[p] != '(' || spec[len - 1] != ')')
		return -EINVAL;
	out->names = spec + p + 1;
	out->names_len = len - 1 - (p + 1);
	for (q = p + 1; q < len - 1;) {
		if (spec[q] == ' ' && names) {
			q++;
			continue;
		}
		if (spec[q] == '"') {
			q++;
			while (q < len - 1 && spec[q] != '"')
				q += spec[q] == '\\' ? 2 : 1;
			if (q >= len - 1)
				return -EINVAL;
			q++;
		} else {
			size_t s = q;
			while (q < len - 1 && spec[q] != ' ' && (unsigned char)spec[q] > 32 &&
			       (unsigned char)spec[q] < 127 && !strchr("()\"{", spec[q]))
				q++;
			if (q == s)
				return -EINVAL;
		}
		names++;
		if (q < len - 1 && spec[q] != ' ')
			return -EINVAL;
	}
	return names ? 0 : -EINVAL;
}

/* Resolve an IMAP section spec to a byte range (see mime.h). */
int mime_section(const void *rec, size_t reclen, size_t msglen, const char *spec, size_t speclen,
                 struct mime_sect *out)
{
	struct mime_ent t, m;
	size_t p = 0;
	unsigned nums = 0, target = 0;
	int dot = 0, rc, gone = 0;

	if (!out || (!spec && speclen))
		return -EINVAL;
	memset(out, 0, sizeof *out);
	rc = mime_rec_check(rec, reclen, msglen);
	if (rc)
		return rc;

	/* part numbers: "1.2.3" */
	while (p < speclen && spec[p] >= '0' && spec[p] <= '9') {
		uint32_t v = 0;
		unsigned x;
		if (spec[p] == '0')
			return -EINVAL;         /* nz-number */
		while (p < speclen && spec[p] >= '0' && spec[p] <= '9') {
			if (v > 100000000)
				return -EINVAL;
			v = v * 10 + (uint32_t)(spec[p++] - '0');
		}
		dot = 0;
		if (!gone) {
			if (nums == 0) {
				x = 0;
			} else {
				/* a leaf's part 1 is itself, as a message's is (lenient, like Dovecot) */
				mime_rec_ent(rec, target, &t);
				x = t.kind == MIME_K_MESSAGE ? target + 1 : target;
			}
			if (!gone) {
				mime_rec_ent(rec, x, &m);
				if (m.kind == MIME_K_MULTIPART) {
					int c = mime_child(rec, x, v);
					if (c < 0)
						gone = 1;
					else
						target = (unsigned)c;
				} else if (v == 1) {
					target = x;
				} else {
					gone = 1;
				}
			}
		}
		nums++;
		if (p < speclen && spec[p] == '.') {
			p++;
			dot = 1;
		} else {
			break;
		}
	}
	if (p < speclen && nums && !dot)
		return -EINVAL;
	if (dot && p == speclen)
		return -EINVAL;

	/* the text part: "", MIME, HEADER, TEXT, HEADER.FIELDS[.NOT] (list) */
	out->kind = MIME_S_BYTES;
	if (p == speclen) {
		if (gone)
			return -ENOENT;
		if (nums == 0) {
			out->off = 0;
			out->len = (uint32_t)msglen;
		} else {
			mime_rec_ent(rec, target, &t);
			out->off = t.body_off;
			out->len = t.body_len;
		}
		return 0;
	}
	if (mime_spec_is(spec, speclen, p, "MIME") && speclen - p == 4) {
		if (nums == 0)
			return -EINVAL;
		if (gone)
			return -ENOENT;
		mime_rec_ent(rec, target, &t);
		out->off = t.hdr_off;
		out->len = t.hdr_len;
		return 0;
	}
	if (mime_spec_is(spec, speclen, p, "HEADER.FIELDS.NOT")) {
		out->kind = MIME_S_FIELDS_NOT;
		rc = mime_spec_names(spec, speclen, p + 17, out);
	} else if (mime_spec_is(spec, speclen, p, "HEADER.FIELDS")) {
		out->kind = MIME_S_FIELDS;
		rc = mime_spec_names(spec, speclen, p + 13, out);
	} else if (mime_spec_is(spec, speclen, p, "HEADER") && speclen - p == 6) {
		rc = 0;
	} else if (mime_spec_is(spec, speclen, p, "TEXT") && speclen - p == 4) {
		rc = 1;
	} else {
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	if (gone)
		return -ENOENT;
	if (nums) {     /* HEADER/TEXT of a part: only of a message/rfc822 part */
		mime_rec_ent(rec, target, &t);
		if (t.kind != MIME_K_MESSAGE)
			return -ENOENT;
		target++;
	}
	mime_rec_ent(rec, target, &m);
	if (rc == 1) {
		out->off = m.body_off;
		out->len = m.body_len;
	} else {
		out->off = m.hdr_off;
		out->len = m.hdr_len;
	}
	return 0;
}

/* Syntax only: resolve against the record of an empty message, where every part number is missing. */
int mime_section_check(const char *spec, size_t speclen)
{
	unsigned char rec[MIME_REC_HDR_LEN + MIME_ENT_LEN + MIME_ENV_LEN];
	struct mime_sect s;
	size_t reclen;
	int rc;

	rc = mime_parse("", 0, rec, sizeof rec, &reclen);
	if (rc == 0)
		rc = mime_section(rec, reclen, 0, spec, speclen, &s);
	return rc == -ENOENT ? 0 : rc;
}

/* Is msg[off, off+len) one of the names in the list (atoms or quoted strings)? */
static int mime_names_has(const char *names, size_t nlen, const char *msg, uint32_t off, uint32_t len)
{
	size_t q = 0;

	while (q < nlen) {
		size_t k = 0;
		int match = 1;
		if (names[q] == ' ') {
			q++;
			continue;
		}
		if (names[q] == '"') {
			for (q++; q < nlen && names[q] != '"'; q++, k++) {
				if (names[q] == '\\' && q + 1 < nlen)
					q++;
				if (k >= len || mime_lower((unsigned char)names[q]) != mime_lower((unsigned char)msg[off + k]))
					match = 0;
			}
			q++;
		} else {
			for (; q < nlen && names[q] != ' '; q++, k++)
				if (k >= len || mime_lower((unsigned char)names[q]) != mime_lower((unsigned char)msg[off + k]))
					match = 0;
		}
		if (match && k == len)
			return 1;
	}
	return 0;
}

/* Render a resolved section, render-and-skip. */
int mime_sect_render(const struct mime_sect *s, const char *msg, size_t msglen,
                     uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total)
{
	struct mime_out o;
	struct mime_field f;
	uint32_t pos, end;

	if (!s || !n || !total || (!msg && msglen) || (!buf && room) || (uint64_t)s->off + s->len > msglen)
		return -EINVAL;
	mime_out_init(&o, off, buf, room);
	if (s->kind == MIME_S_BYTES) {
		mime_out_put(&o, msg + s->off, s->len);
	} else if (s->kind == MIME_S_FIELDS || s->kind == MIME_S_FIELDS_NOT) {
		unsigned nf = 0;
		int r;

		pos = s->off;
		end = mime_scan_end(s->off, s->len);
		while (nf++ < MIME_FIELDS_MAX && (r = mime_field_next(msg, &pos, end, &f)) != 0) {
			/* a line that is no field is in no list: FIELDS.NOT keeps it */
			int listed = r == 1 && mime_names_has(s->names, s->names_len, msg, f.name_off, f.name_len);
			if (listed != (s->kind == MIME_S_FIELDS))
				continue;
			mime_out_put(&o, msg + f.off, f.len);
			if (msg[f.off + f.len - 1] != '\n')
				mime_out_str(&o, "\r\n");
		}
		mime_out_str(&o, "\r\n");
	} else {
		return -EINVAL;
	}
	*n = o.n;
	*total = o.pos;
	return 0;
}
