/*
 * mime_parse — one pass over a message into a structure record (format in
 * mime.h). Bounded by MIME_DEPTH_MAX, MIME_PARTS_MAX and MIME_FIELDS_MAX;
 * never fails on the message's content: whatever is malformed is recorded
 * as the RFC 2045 default (text/plain) and flagged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mime_int.h"

/* Envelope values of one message entity while parsing. */
struct mime_penv {
	uint16_t ent;
	uint32_t off[MIME_ENVF_COUNT], len[MIME_ENVF_COUNT];
};

/* Parser state: the entities and envelopes found so far (about 25 KiB, on the stack; touched as used). */
struct mime_pstate {
	const char *msg;
	unsigned n, nenv;
	unsigned rflags;
	struct mime_ent ent[MIME_PARTS_MAX];
	struct mime_penv env[MIME_PARTS_MAX];
};

/* Header field names of interest, by MIME_FLD_* (NULL: not a header of its own). */
static const char *const mime_fld_names[MIME_FLD_COUNT] = {
	[MIME_FLD_CTYPE] = "content-type",
	[MIME_FLD_CTE] = "content-transfer-encoding",
	[MIME_FLD_ID] = "content-id",
	[MIME_FLD_DESC] = "content-description",
	[MIME_FLD_DISP] = "content-disposition",
	[MIME_FLD_LANG] = "content-language",
	[MIME_FLD_LOC] = "content-location",
	[MIME_FLD_MD5] = "content-md5",
};

static const char *const mime_env_names[MIME_ENVF_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to", "message-id",
};

static const char *const mime_enc_names[] = {
	[MIME_ENC_7BIT] = "7bit",
	[MIME_ENC_8BIT] = "8bit",
	[MIME_ENC_BINARY] = "binary",
	[MIME_ENC_BASE64] = "base64",
	[MIME_ENC_QP] = "quoted-printable",
};

/* Position after the line that starts at pos. */
static uint32_t mime_next_line(const char *msg, uint32_t pos, uint32_t end)
{
	const char *lf = memchr(msg + pos, '\n', end - pos);

	return lf ? (uint32_t)(lf - msg) + 1 : end;
}

/*
 * Body lines: the line ends in it. A part's last line has none (its CRLF
 * belongs to the next boundary), so "one line" of a part counts 0, as
 * Dovecot counts.
 */
static uint32_t mime_count_lines(const char *msg, uint32_t off, uint32_t len)
{
	uint32_t lines = 0, p = off, end = off + len;
	const char *lf;

	while (p < end && (lf = memchr(msg + p, '\n', end - p)) != NULL) {
		lines++;
		p = (uint32_t)(lf - msg) + 1;
	}
	return lines;
}

/* Record the header fields we keep: MIME fields always, envelope fields for a message. */
static void mime_scan_header(struct mime_pstate *ps, struct mime_ent *e, struct mime_penv *env,
                             uint32_t start, uint32_t end, uint32_t *hdr_end)
{
	struct mime_field f;
	uint32_t pos = start, lim = mime_scan_end(start, end - start);
	unsigned nf = 0;
	int r;

	while (nf++ < MIME_FIELDS_MAX && (r = mime_field_next(ps->msg, &pos, lim, &f)) != 0) {
		if (r != 1)
			continue;       /* a line that is no field */
		for (unsigned k = 0; k < MIME_FLD_COUNT; k++) {
			const char *nm = mime_fld_names[k];
			if (nm && e->fld_off[k] == MIME_ABSENT &&
			    mime_name_eq(ps->msg, f.name_off, f.name_len, nm, strlen(nm))) {
				e->fld_off[k] = f.val_off;
				e->fld_len[k] = f.val_len;
			}
		}
		for (unsigned k = 0; env && k < MIME_ENVF_COUNT; k++) {
			const char *nm = mime_env_names[k];
			if (env->off[k] == MIME_ABSENT &&
			    mime_name_eq(ps->msg, f.name_off, f.name_len, nm, strlen(nm))) {
				env->off[k] = f.val_off;
				env->len[k] = f.val_len;
			}
		}
	}
	/* past the limits the header still ends at its blank line */
	if (pos > start && ps->msg[pos - 1] != '\n')
		pos = mime_next_line(ps->msg, pos, end);
	*hdr_end = mime_header_end(ps->msg, pos, end);
	if (*hdr_end > pos)
		ps->rflags |= MIME_RF_LIMIT;
}

/* Fill type/subtype tokens from the Content-Type value; 0, or -1 when it is unusable. */
static int mime_scan_ctype(struct mime_pstate *ps, struct mime_ent *e)
{
	const char *msg = ps->msg;
	uint32_t end, p, te, q, se;

	if (e->fld_off[MIME_FLD_CTYPE] == MIME_ABSENT)
		return -1;
	end = e->fld_off[MIME_FLD_CTYPE] + e->fld_len[MIME_FLD_CTYPE];
	p = mime_skip_cfws(msg, e->fld_off[MIME_FLD_CTYPE], end);
	te = mime_token_end(msg, p, end);
	q = mime_skip_cfws(msg, te, end);
	if (te == p || q >= end || msg[q] != '/')
		return -1;
	q = mime_skip_cfws(msg, q + 1, end);
	se = mime_token_end(msg, q, end);
	if (se == q)
		return -1;
	e->fld_off[MIME_FLD_TYPE] = p;
	e->fld_len[MIME_FLD_TYPE] = te - p;
	e->fld_off[MIME_FLD_SUBTYPE] = q;
	e->fld_len[MIME_FLD_SUBTYPE] = se - q;
	return 0;
}

/* Content-Transfer-Encoding token to MIME_ENC_*. */
static uint8_t mime_scan_cte(const char *msg, const struct mime_ent *e)
{
	uint32_t p, end, te;

	if (e->fld_off[MIME_FLD_CTE] == MIME_ABSENT)
		return MIME_ENC_7BIT;
	end = e->fld_off[MIME_FLD_CTE] + e->fld_len[MIME_FLD_CTE];
	p = mime_skip_cfws(msg, e->fld_off[MIME_FLD_CTE], end);
	te = mime_token_end(msg, p, end);
	for (uint8_t k = 0; k < sizeof mime_enc_names / sizeof mime_enc_names[0]; k++)
		if (mime_name_eq(msg, p, te - p, mime_enc_names[k], strlen(mime_enc_names[k])))
			return k;
	return MIME_ENC_OTHER;
}

/*
 * Append parameter value msg[vo, vo+vl) to bnd (*n bytes so far,
 * MIME_BOUNDARY_MAX at most), unquoted and unfolded: a fold in a quoted
 * string loses its (CR)LF only (RFC 5322), so "foo<CRLF> bar" is "foo bar",
 * as Dovecot reads it. 0, or -1 when too long.
 */
static int mime_boundary_add(const char *msg, uint32_t vo, uint32_t vl, char *bnd, size_t *n)
{
	uint32_t e = vo + vl;
	int q = vl && msg[vo] == '"';

	for (uint32_t i = vo + (uint32_t)q; i < e && !(q && msg[i] == '"'); i++) {
		if (q && msg[i] == '\\' && i + 1 < e)
			i++;
		else if (q && (msg[i] == '\n' || (msg[i] == '\r' && i + 1 < e && msg[i + 1] == '\n')))
			continue;
		if (*n == MIME_BOUNDARY_MAX)
			return -1;
		bnd[(*n)++] = msg[i];
	}
	return 0;
}

/*
 * The multipart boundary into bnd (MIME_BOUNDARY_MAX bytes): the
 * "boundary" parameter, else its RFC 2231 sections "boundary*0",
 * "boundary*1", ... joined (as Dovecot does). Its length, or 0 when absent,
 * empty or too long.
 */
static size_t mime_boundary(const char *msg, const struct mime_ent *e, char *bnd)
{
	uint32_t ctoff = e->fld_off[MIME_FLD_CTYPE], end = ctoff + e->fld_len[MIME_FLD_CTYPE];
	uint32_t ps = mime_params_start(msg, ctoff, end - ctoff), vo, vl;
	char name[16];
	size_t n = 0;

	if (mime_param_find(msg, ps, end, "boundary", &vo, &vl))
		return mime_boundary_add(msg, vo, vl, bnd, &n) ? 0 : n;
	for (unsigned sec = 0; sec < MIME_PARAMS_MAX; sec++) {
		snprintf(name, sizeof name, "boundary*%u", sec);
		if (!mime_param_find(msg, ps, end, name, &vo, &vl))
			break;
		if (mime_boundary_add(msg, vo, vl, bnd, &n))
			return 0;
	}
	return n;
}

/* Is the line [p, le) a delimiter "--bnd" or close delimiter "--bnd--" (white space after allowed)? */
static int mime_is_delim(const char *msg, uint32_t p, uint32_t le, const char *bnd, size_t blen, int *close)
{
	uint32_t q;

	if (le - p < 2 + blen || msg[p] != '-' || msg[p + 1] != '-' || memcmp(msg + p + 2, bnd, blen))
		return 0;
	q = p + 2 + (uint32_t)blen;
	*close = q + 1 < le && msg[q] == '-' && msg[q + 1] == '-';
	if (*close)
		q += 2;
	for (; q < le; q++)
		if (msg[q] != ' ' && msg[q] != '\t' && msg[q] != '\r' && msg[q] != '\n')
			return 0;
	return 1;
}

static int mime_parse_entity(struct mime_pstate *ps, uint32_t start, uint32_t end, unsigned depth,
                             unsigned parent, int msgent, int digest);

/*
 * Does the part starting at start declare itself multipart with the same
 * boundary as its parent? (Some mailers nest that way; the inner multipart
 * then owns the delimiters up to its close delimiter.)
 */
static int mime_peek_same(const struct mime_pstate *ps, uint32_t start, uint32_t end, const char *bnd,
                          size_t blen)
{
	char inner[MIME_BOUNDARY_MAX];
	struct mime_field f;
	struct mime_ent e;
	uint32_t pos = start, p;
	unsigned nf = 0;
	int r;

	/* bounded: stops at the part's blank line or at a line starting "--" (the next delimiter) */
	while (nf++ < MIME_FIELDS_MAX && (r = mime_field_next(ps->msg, &pos, mime_scan_end(start, end - start), &f))) {
		if (r == 2 && f.len >= 2 && ps->msg[f.off] == '-' && ps->msg[f.off + 1] == '-')
			return 0;
		if (r != 1 || !mime_name_eq(ps->msg, f.name_off, f.name_len, "content-type", 12))
			continue;
		p = mime_skip_cfws(ps->msg, f.val_off, f.val_off + f.val_len);
		if (!mime_name_eq(ps->msg, p, mime_token_end(ps->msg, p, f.val_off + f.val_len) - p, "multipart", 9))
			return 0;
		e.fld_off[MIME_FLD_CTYPE] = f.val_off;
		e.fld_len[MIME_FLD_CTYPE] = f.val_len;
		return mime_boundary(ps->msg, &e, inner) == blen && memcmp(inner, bnd, blen) == 0;
	}
	return 0;
}

/* Split multipart entity i's body at its delimiters; returns the number of parts recorded. */
static unsigned mime_parse_parts(struct mime_pstate *ps, unsigned i, const char *bnd, size_t blen)
{
	const char *msg = ps->msg;
	uint32_t p = ps->ent[i].body_off, end = p + ps->ent[i].body_len, part = 0;
	unsigned depth = ps->ent[i].depth, nparts = 0, same = 0;
	int in_part = 0, closed = 0, close, digest;

	digest = mime_name_eq(msg, ps->ent[i].fld_off[MIME_FLD_SUBTYPE], ps->ent[i].fld_len[MIME_FLD_SUBTYPE],
	                      "digest", 6);
	while (p < end && !closed) {
		uint32_t le = mime_next_line(msg, p, end);
		int delim = mime_is_delim(msg, p, le, bnd, blen, &close);
		if (delim && same) {
			/* inside a part that is a multipart with our boundary: its delimiters */
			if (close)
				same--;
			else if (same < MIME_DEPTH_MAX && mime_peek_same(ps, le, end, bnd, blen))
				same++;
		} else if (delim) {
			if (in_part) {
				uint32_t pe = p;        /* the line end before a delimiter belongs to it */
				if (pe > part && msg[pe - 1] == '\n')
					pe--;
				if (pe > part && msg[pe - 1] == '\r')
					pe--;
				if (mime_parse_entity(ps, part, pe, depth + 1, i, 0, digest) < 0)
					return nparts;
				nparts++;
			}
			closed = close;
			in_part = 1;
			part = le;
			if (!close && mime_peek_same(ps, le, end, bnd, blen))
				same = 1;
		}
		p = le;
	}
	if (!closed) {
		ps->rflags |= MIME_RF_MALFORMED;        /* no close delimiter: the last part runs to the end */
		if (in_part && mime_parse_entity(ps, part, end, depth + 1, i, 0, digest) >= 0)
			nparts++;
	}
	return nparts;
}

/*
 * Parse the entity msg[start, end) at depth under parent: header, type,
 * encoding, body, then its children. Returns its index, or -1 when
 * MIME_PARTS_MAX entities are already recorded.
 */
static int mime_parse_entity(struct mime_pstate *ps, uint32_t start, uint32_t end, unsigned depth,
                             unsigned parent, int msgent, int digest)
{
	const char *msg = ps->msg;
	struct mime_penv *env = NULL;
	struct mime_ent *e;
	char bnd[MIME_BOUNDARY_MAX];
	uint32_t hend;
	size_t blen;
	unsigned i;
	int typed;

	if (ps->n >= MIME_PARTS_MAX) {
		ps->rflags |= MIME_RF_LIMIT;
		return -1;
	}
	i = ps->n++;
	e = &ps->ent[i];
	memset(e, 0, sizeof *e);
	for (unsigned k = 0; k < MIME_FLD_COUNT; k++)
		e->fld_off[k] = MIME_ABSENT;
	e->parent = (uint16_t)parent;
	e->depth = (uint8_t)depth;
	if (msgent) {
		env = &ps->env[ps->nenv++];
		env->ent = (uint16_t)i;
		for (unsigned k = 0; k < MIME_ENVF_COUNT; k++) {
			env->off[k] = MIME_ABSENT;
			env->len[k] = 0;
		}
		e->flags |= MIME_EF_MSG;
	}
	if (digest)
		e->flags |= MIME_EF_DIGEST;

	/* header, up to and including the blank line */
	mime_scan_header(ps, e, env, start, end, &hend);
	if (hend < end)
		hend += msg[hend] == '\r' ? 2 : 1;
	else if (start < end && msg[end - 1] != '\n')
		ps->rflags |= MIME_RF_MALFORMED;
	e->hdr_off = start;
	e->hdr_len = hend - start;
	e->body_off = hend;
	e->body_len = end - hend;
	e->lines = mime_count_lines(msg, e->body_off, e->body_len);
	e->enc = mime_scan_cte(msg, e);

	/* type: what it says, or the default */
	typed = mime_scan_ctype(ps, e) == 0;
	if (!typed) {
		e->flags |= MIME_EF_DEFAULT;
		if (e->fld_off[MIME_FLD_CTYPE] != MIME_ABSENT)
			ps->rflags |= MIME_RF_MALFORMED;
	}
	if (typed && mime_name_eq(msg, e->fld_off[MIME_FLD_TYPE], e->fld_len[MIME_FLD_TYPE], "multipart", 9)) {
		blen = mime_boundary(msg, e, bnd);
		if (blen == 0 || depth >= MIME_DEPTH_MAX) {
			ps->rflags |= blen ? MIME_RF_LIMIT : MIME_RF_MALFORMED;
			e->flags |= MIME_EF_FLAT;
		} else {
			e->kind = MIME_K_MULTIPART;
			if (mime_parse_parts(ps, i, bnd, blen) == 0) {
				e->kind = MIME_K_LEAF;   /* no parts at all: one text leaf */
				e->flags |= MIME_EF_FLAT;
				ps->rflags |= MIME_RF_MALFORMED;
			}
		}
	} else if (typed ? mime_name_eq(msg, e->fld_off[MIME_FLD_TYPE], e->fld_len[MIME_FLD_TYPE], "message", 7) &&
	                   mime_name_eq(msg, e->fld_off[MIME_FLD_SUBTYPE], e->fld_len[MIME_FLD_SUBTYPE], "rfc822", 6)
	                 : digest) {
		if (depth >= MIME_DEPTH_MAX || e->enc == MIME_ENC_BASE64 || e->enc == MIME_ENC_QP) {
			ps->rflags |= depth >= MIME_DEPTH_MAX ? MIME_RF_LIMIT : MIME_RF_MALFORMED;
			e->flags |= MIME_EF_FLAT;
		} else {
			e->kind = MIME_K_MESSAGE;
			if (mime_parse_entity(ps, e->body_off, end, depth + 1, i, 1, 0) < 0) {
				e->kind = MIME_K_LEAF;
				e->flags |= MIME_EF_FLAT;
			}
		}
	}
	e->desc = (uint16_t)(ps->n - i - 1);
	return (int)i;
}

/* Serialise the parsed entities and envelopes into rec. */
static int mime_write_rec(const struct mime_pstate *ps, uint32_t msglen, unsigned char *rec, size_t cap,
                          size_t *reclen)
{
	size_t need = MIME_REC_HDR_LEN + ps->n * (size_t)MIME_ENT_LEN + ps->nenv * (size_t)MIME_ENV_LEN;
	unsigned char *p = rec;

	if (cap < need)
		return -ENOSPC;
	p[0] = MIME_REC_VERSION;
	p[1] = (unsigned char)ps->rflags;
	mime_put16(p + 2, ps->n);
	mime_put32(p + 4, msglen);
	mime_put16(p + 8, ps->nenv);
	mime_put16(p + 10, 0);
	p += MIME_REC_HDR_LEN;
	for (unsigned i = 0; i < ps->n; i++) {
		const struct mime_ent *e = &ps->ent[i];
		mime_put32(p, e->hdr_off);
		mime_put32(p + 4, e->hdr_len);
		mime_put32(p + 8, e->body_off);
		mime_put32(p + 12, e->body_len);
		mime_put32(p + 16, e->lines);
		mime_put16(p + 20, e->parent);
		mime_put16(p + 22, e->desc);
		p[24] = e->kind;
		p[25] = e->enc;
		p[26] = e->flags;
		p[27] = e->depth;
		p += 28;
		for (unsigned k = 0; k < MIME_FLD_COUNT; k++, p += 8) {
			mime_put32(p, e->fld_off[k]);
			mime_put32(p + 4, e->fld_len[k]);
		}
	}
	for (unsigned j = 0; j < ps->nenv; j++) {
		const struct mime_penv *v = &ps->env[j];
		mime_put16(p, v->ent);
		mime_put16(p + 2, 0);
		p += 4;
		for (unsigned k = 0; k < MIME_ENVF_COUNT; k++, p += 8) {
			mime_put32(p, v->off[k]);
			mime_put32(p + 4, v->len[k]);
		}
	}
	*reclen = need;
	return 0;
}

/* Parse a whole message into a structure record. */
int mime_parse(const char *msg, size_t len, void *rec, size_t cap, size_t *reclen)
{
	struct mime_pstate ps;

	if ((!msg && len) || !rec || !reclen || len > 0x7fffffffu)
		return -EINVAL;
	ps.msg = msg ? msg : "";
	ps.n = 0;
	ps.nenv = 0;
	ps.rflags = 0;
	mime_parse_entity(&ps, 0, (uint32_t)len, 0, 0xffff, 1, 0);
	return mime_write_rec(&ps, (uint32_t)len, rec, cap, reclen);
}
