/*
 * mime_body — BODY and BODYSTRUCTURE (RFC 3501 7.4.2, with the extension
 * data for BODYSTRUCTURE), and mime_render(), the entry point for the three
 * FETCH items rendered from a record.
 */
#include <errno.h>

#include "mime_int.h"

/* body-fld-dsp: "(" type params ")" or NIL. */
static void mime_out_disposition(struct mime_out *o, const char *msg, const struct mime_ent *e)
{
	uint32_t off = e->fld_off[MIME_FLD_DISP], end, p, te;

	if (off == MIME_ABSENT) {
		mime_out_str(o, "NIL");
		return;
	}
	end = off + e->fld_len[MIME_FLD_DISP];
	p = mime_skip_cfws(msg, off, end);
	te = mime_token_end(msg, p, end);
	if (te == p) {
		mime_out_str(o, "NIL");
		return;
	}
	mime_out_str(o, "(");
	mime_out_string(o, msg, p, te - p, MIME_XF_RAW);
	mime_out_str(o, " ");
	mime_out_params(o, msg, off, e->fld_len[MIME_FLD_DISP], 0);
	mime_out_str(o, ")");
}

/* body-fld-lang: the comma-separated tags as a list, or NIL. */
static void mime_out_language(struct mime_out *o, const char *msg, const struct mime_ent *e)
{
	uint32_t off = e->fld_off[MIME_FLD_LANG], end, p, q;
	unsigned n = 0;

	if (off != MIME_ABSENT) {
		end = off + e->fld_len[MIME_FLD_LANG];
		p = off;
		while (n < MIME_PARAMS_MAX && (p = mime_skip_cfws(msg, p, end)) < end) {
			if (msg[p] == ',') {
				p++;
				continue;
			}
			q = mime_token_end(msg, p, end);
			if (q == p)
				q = p + 1;      /* a stray special: skip it */
			else {
				mime_out_str(o, n++ ? " " : "(");
				mime_out_string(o, msg, p, q - p, MIME_XF_RAW);
			}
			p = q;
		}
	}
	mime_out_str(o, n ? ")" : "NIL");
}

/* body-fld-enc: the token as written, or "7bit" when absent or empty. */
static void mime_out_encoding(struct mime_out *o, const char *msg, const struct mime_ent *e)
{
	uint32_t off = e->fld_off[MIME_FLD_CTE], end, p, te;

	if (off != MIME_ABSENT) {
		end = off + e->fld_len[MIME_FLD_CTE];
		p = mime_skip_cfws(msg, off, end);
		te = mime_token_end(msg, p, end);
		if (te > p) {
			mime_out_string(o, msg, p, te - p, MIME_XF_RAW);
			return;
		}
	}
	mime_out_str(o, "\"7bit\"");
}

/* Which type an entity is served as. */
enum { MIME_T_DEFAULT_TEXT, MIME_T_DEFAULT_MSG, MIME_T_GIVEN };

static int mime_served_type(const struct mime_ent *e)
{
	if (e->flags & MIME_EF_FLAT)
		return MIME_T_DEFAULT_TEXT;
	if (e->flags & MIME_EF_DEFAULT)
		return e->kind == MIME_K_MESSAGE ? MIME_T_DEFAULT_MSG : MIME_T_DEFAULT_TEXT;
	return MIME_T_GIVEN;
}

/* One body (recursively): multipart, message/rfc822, text or basic; ext adds extension data. */
static void mime_out_body(struct mime_out *o, const void *rec, unsigned i, const char *msg, int ext)
{
	struct mime_ent e;
	int st, text;

	mime_rec_ent(rec, i, &e);
	if (e.kind == MIME_K_MULTIPART) {
		mime_out_str(o, "(");
		for (unsigned j = i + 1; j <= i + e.desc;) {
			struct mime_ent c;
			mime_out_body(o, rec, j, msg, ext);
			mime_rec_ent(rec, j, &c);
			j += 1u + c.desc;
		}
		mime_out_str(o, " ");
		mime_out_string(o, msg, e.fld_off[MIME_FLD_SUBTYPE], e.fld_len[MIME_FLD_SUBTYPE], MIME_XF_RAW);
		if (ext) {
			mime_out_str(o, " ");
			mime_out_params(o, msg, e.fld_off[MIME_FLD_CTYPE], e.fld_len[MIME_FLD_CTYPE], 0);
			mime_out_str(o, " ");
			mime_out_disposition(o, msg, &e);
			mime_out_str(o, " ");
			mime_out_language(o, msg, &e);
			mime_out_str(o, " ");
			mime_out_nstring(o, msg, e.fld_off[MIME_FLD_LOC], e.fld_len[MIME_FLD_LOC], MIME_XF_UNFOLD);
		}
		mime_out_str(o, ")");
		return;
	}

	st = mime_served_type(&e);
	mime_out_str(o, "(");
	if (st == MIME_T_DEFAULT_TEXT) {
		mime_out_str(o, "\"text\" \"plain\" (\"charset\" \"us-ascii\")");
		text = 1;
	} else if (st == MIME_T_DEFAULT_MSG) {
		mime_out_str(o, "\"message\" \"rfc822\" NIL");
		text = 0;
	} else if (e.kind == MIME_K_MESSAGE) {
		mime_out_str(o, "\"message\" \"rfc822\" ");  /* its own grammar: written in one case */
		mime_out_params(o, msg, e.fld_off[MIME_FLD_CTYPE], e.fld_len[MIME_FLD_CTYPE], 0);
		text = 0;
	} else {
		mime_out_string(o, msg, e.fld_off[MIME_FLD_TYPE], e.fld_len[MIME_FLD_TYPE], MIME_XF_RAW);
		mime_out_str(o, " ");
		mime_out_string(o, msg, e.fld_off[MIME_FLD_SUBTYPE], e.fld_len[MIME_FLD_SUBTYPE], MIME_XF_RAW);
		mime_out_str(o, " ");
		text = mime_name_eq(msg, e.fld_off[MIME_FLD_TYPE], e.fld_len[MIME_FLD_TYPE], "text", 4);
		mime_out_params(o, msg, e.fld_off[MIME_FLD_CTYPE], e.fld_len[MIME_FLD_CTYPE], text);
	}
	mime_out_str(o, " ");
	mime_out_nstring(o, msg, e.fld_off[MIME_FLD_ID], e.fld_len[MIME_FLD_ID], MIME_XF_UNFOLD);
	mime_out_str(o, " ");
	mime_out_nstring(o, msg, e.fld_off[MIME_FLD_DESC], e.fld_len[MIME_FLD_DESC], MIME_XF_UNFOLD);
	mime_out_str(o, " ");
	mime_out_encoding(o, msg, &e);
	mime_out_str(o, " ");
	mime_out_num(o, e.body_len);
	if (e.kind == MIME_K_MESSAGE) {
		mime_out_str(o, " ");
		mime_out_envelope(o, rec, i + 1, msg);
		mime_out_str(o, " ");
		mime_out_body(o, rec, i + 1, msg, ext);
	}
	if (e.kind == MIME_K_MESSAGE || text) {
		mime_out_str(o, " ");
		mime_out_num(o, e.lines);
	}
	if (ext) {
		mime_out_str(o, " ");
		mime_out_nstring(o, msg, e.fld_off[MIME_FLD_MD5], e.fld_len[MIME_FLD_MD5], MIME_XF_UNFOLD);
		mime_out_str(o, " ");
		mime_out_disposition(o, msg, &e);
		mime_out_str(o, " ");
		mime_out_language(o, msg, &e);
		mime_out_str(o, " ");
		mime_out_nstring(o, msg, e.fld_off[MIME_FLD_LOC], e.fld_len[MIME_FLD_LOC], MIME_XF_UNFOLD);
	}
	mime_out_str(o, ")");
}

/* Render ENVELOPE, BODY or BODYSTRUCTURE, render-and-skip. */
int mime_render(const void *rec, size_t reclen, const char *msg, size_t msglen, int what,
                uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total)
{
	struct mime_out o;
	int rc;

	if (!n || !total || (!msg && msglen) || (!buf && room))
		return -EINVAL;
	*n = 0;
	*total = 0;
	rc = mime_rec_check(rec, reclen, msglen);
	if (rc)
		return rc;
	if (!msg)
		msg = "";
	mime_out_init(&o, off, buf, room);
	switch (what) {
	case MIME_R_ENVELOPE:
		mime_out_envelope(&o, rec, 0, msg);
		break;
	case MIME_R_BODY:
		mime_out_body(&o, rec, 0, msg, 0);
		break;
	case MIME_R_BODYSTRUCTURE:
		mime_out_body(&o, rec, 0, msg, 1);
		break;
	default:
		return -EINVAL;
	}
	*n = o.n;
	*total = o.pos;
	return 0;
}
