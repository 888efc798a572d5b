/* mime_rec — reading a structure record: validation, entities, envelopes. */
#include <errno.h>

#include "mime_int.h"

#define MIME_ENT(rec, i) ((const unsigned char *)(rec) + MIME_REC_HDR_LEN + (size_t)(i) * MIME_ENT_LEN)

/* Is [off, off+len) inside a message of msglen bytes? */
static int mime_in(uint32_t off, uint32_t len, size_t msglen)
{
	return (uint64_t)off + len <= msglen;
}

/* Decode entity i (no checks beyond the index). */
int mime_rec_ent(const void *rec, unsigned i, struct mime_ent *e)
{
	const unsigned char *p;

	if (i >= mime_rec_count(rec))
		return -ENOENT;
	p = MIME_ENT(rec, i);
	e->hdr_off = mime_get32(p);
	e->hdr_len = mime_get32(p + 4);
	e->body_off = mime_get32(p + 8);
	e->body_len = mime_get32(p + 12);
	e->lines = mime_get32(p + 16);
	e->parent = (uint16_t)mime_get16(p + 20);
	e->desc = (uint16_t)mime_get16(p + 22);
	e->kind = p[24];
	e->enc = p[25];
	e->flags = p[26];
	e->depth = p[27];
	p += 28;
	for (unsigned k = 0; k < MIME_FLD_COUNT; k++, p += 8) {
		e->fld_off[k] = mime_get32(p);
		e->fld_len[k] = mime_get32(p + 4);
	}
	return 0;
}

unsigned mime_rec_count(const void *rec)
{
	return mime_get16((const unsigned char *)rec + 2);
}

unsigned mime_rec_flags(const void *rec)
{
	return ((const unsigned char *)rec)[1];
}

/* The envelope pairs of message entity i, or NULL. */
const unsigned char *mime_rec_env(const void *rec, unsigned i)
{
	const unsigned char *r = rec;
	unsigned n = mime_rec_count(rec), nenv = mime_get16(r + 8);
	const unsigned char *p = MIME_ENT(rec, n);

	for (unsigned j = 0; j < nenv; j++, p += MIME_ENV_LEN)
		if (mime_get16(p) == i)
			return p + 4;
	return NULL;
}

/* Validate a record against its message length: version, sizes, ranges, tree shape. */
int mime_rec_check(const void *rec, size_t reclen, size_t msglen)
{
	const unsigned char *r = rec;
	struct mime_ent e, pe;
	unsigned n, nenv, msgs = 0;
	const unsigned char *ev;

	if (!rec || reclen < MIME_REC_HDR_LEN ||
	    (r[0] != MIME_REC_VERSION && (r[0] != 1 || (r[1] & MIME_RF_MALFORMED))))
		return -EBADMSG;        /* v1 is v2's layout: right unless its parse repaired something */
	n = mime_rec_count(rec);
	nenv = mime_get16(r + 8);
	if (n == 0 || n > MIME_PARTS_MAX || nenv > n || mime_get32(r + 4) != msglen ||
	    reclen != MIME_REC_HDR_LEN + (size_t)n * MIME_ENT_LEN + (size_t)nenv * MIME_ENV_LEN)
		return -EBADMSG;
	for (unsigned i = 0; i < n; i++) {
		mime_rec_ent(rec, i, &e);
		if (!mime_in(e.hdr_off, e.hdr_len, msglen) || !mime_in(e.body_off, e.body_len, msglen) ||
		    e.kind > MIME_K_MESSAGE || e.enc > MIME_ENC_OTHER || e.depth > MIME_DEPTH_MAX ||
		    i + (unsigned)e.desc >= n)
			return -EBADMSG;
		for (unsigned k = 0; k < MIME_FLD_COUNT; k++)
			if (e.fld_off[k] == MIME_ABSENT ? e.fld_len[k] != 0 : !mime_in(e.fld_off[k], e.fld_len[k], msglen))
				return -EBADMSG;
		if (i == 0) {
			if (e.parent != 0xffff || e.depth != 0 || !(e.flags & MIME_EF_MSG))
				return -EBADMSG;
		} else {
			if (e.parent >= i)
				return -EBADMSG;
			mime_rec_ent(rec, e.parent, &pe);
			if (e.depth != pe.depth + 1 || i + (unsigned)e.desc > e.parent + (unsigned)pe.desc ||
			    pe.kind == MIME_K_LEAF)
				return -EBADMSG;
		}
		if (e.kind != MIME_K_LEAF && e.desc == 0)
			return -EBADMSG;
		if (e.kind == MIME_K_MESSAGE) {
			mime_rec_ent(rec, i + 1, &pe);
			if (!(pe.flags & MIME_EF_MSG) || pe.parent != i)
				return -EBADMSG;
		}
		if (e.flags & MIME_EF_MSG) {
			ev = mime_rec_env(rec, i);
			if (!ev)
				return -EBADMSG;
			for (unsigned k = 0; k < MIME_ENVF_COUNT; k++) {
				uint32_t off = mime_get32(ev + 8 * k), len = mime_get32(ev + 8 * k + 4);
				if (off == MIME_ABSENT ? len != 0 : !mime_in(off, len, msglen))
					return -EBADMSG;
			}
			msgs++;
		}
	}
	return msgs == nenv ? 0 : -EBADMSG;
}
