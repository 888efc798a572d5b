/*
 * store_mime — MIME structure records in the "mime" database (u64 blob id
 * -> mime.h record): written by every blob writer in the blob's own txn,
 * shared by the messages that share the blob (COPY), deleted with the
 * blob's last reference. The read side renders FETCH items and runs SEARCH
 * straight from the map within one read txn, so nothing is copied but the
 * caller's output window. A blob without a record (stored before records
 * existed) is parsed on the fly into a stack buffer (MIME_REC_MAX, touched
 * only as far as the record goes); reads never write. Opening a writable
 * store runs store_mime_upgrade() once per record version, so such blobs
 * get their records before the daemon serves them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mime.h"
#include "store_int.h"
#include "store_mime.h"

/* Put blob's record, replacing any. */
int store_mime_put(struct store *st, MDB_txn *txn, uint64_t blob, const void *rec, size_t len)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v = { len, (void *)rec };

	if (!rec || !len)
		return STORE_EINVAL;
	if (!st->mime)
		return 0;       /* cannot happen: a writable store always has the database */
	store_put64(kb, blob);
	return store_err(mdb_put(txn, st->mime, &k, &v, 0));
}

/* Parse blob as written in txn and put its record. */
int store_mime_index(struct store *st, MDB_txn *txn, uint64_t blob)
{
	unsigned char kb[8], rec[MIME_REC_MAX];
	MDB_val k = { 8, kb }, v;
	size_t len;
	int rc;

	store_put64(kb, blob);
	rc = mdb_get(txn, st->blobs, &k, &v);
	if (rc)
		return store_err(rc);
	if (mime_parse(v.mv_data, v.mv_size, rec, sizeof rec, &len))
		return STORE_EINVAL;    /* only for a blob over 2 GiB */
	return store_mime_put(st, txn, blob, rec, len);
}

/* Delete blob's record; one that is not there is fine. */
int store_mime_del(struct store *st, MDB_txn *txn, uint64_t blob)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb };
	int rc;

	if (!st->mime)
		return 0;
	store_put64(kb, blob);
	rc = mdb_del(txn, st->mime, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

#define STORE_MIME_UPGRADE_CHUNK 256     /* blobs looked at per write txn by the upgrade */

/* State of store_mime_upgrade across its write txns. */
struct store_mime_upgrade {
	uint64_t next;          /* first blob id not yet looked at */
	int done;
	unsigned indexed;
};

/* One chunk of the upgrade: index blobs from a->next that have no valid record; at the end, set the version. */
static int store_mime_upgrade_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_mime_upgrade *a = arg;
	unsigned char kb[8], ver[4];
	MDB_val k = { 8, kb }, v, r;
	MDB_cursor *cur;
	unsigned n = 0;
	int rc;

	rc = mdb_cursor_open(txn, st->blobs, &cur);
	if (rc)
		return store_err(rc);
	store_put64(kb, a->next);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && n++ < STORE_MIME_UPGRADE_CHUNK) {
		uint64_t blob = k.mv_size == 8 ? store_get64(k.mv_data) : 0;
		if (mdb_get(txn, st->mime, &k, &r) != 0 || mime_rec_check(r.mv_data, r.mv_size, v.mv_size) != 0) {
			rc = store_mime_index(st, txn, blob);
			if (rc)
				break;
			a->indexed++;
		}
		a->next = blob + 1;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND) {
		store_put32(ver, MIME_REC_VERSION);
		k.mv_size = 12;
		k.mv_data = "mime_version";
		v.mv_size = 4;
		v.mv_data = ver;
		rc = mdb_put(txn, st->meta, &k, &v, 0);
		a->done = rc == 0;
	}
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/*
 * Give every blob a record of this version, once: blobs stored before MIME
 * records existed, or whose records mime_rec_check() refuses (an older
 * format; a version 1 record flagged malformed, which may be a folded
 * boundary that version misread). Only those are parsed. Does nothing
 * when meta "mime_version" already says this version. Chunked, so each
 * write txn stays small. 0 or a store error.
 */
int store_mime_upgrade(struct store *st, unsigned *indexed)
{
	struct store_mime_upgrade a = { 0, 0, 0 };
	MDB_val k = { 12, "mime_version" }, v;
	MDB_txn *txn;
	int rc, current;

	if (indexed)
		*indexed = 0;
	if (st->readonly || !st->mime)
		return 0;
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	current = mdb_get(txn, st->meta, &k, &v) == 0 && v.mv_size == 4 &&
	          store_get32(v.mv_data) == MIME_REC_VERSION;
	store_rend(st);
	while (!current && !a.done) {
		uint64_t before = a.next;
		rc = store_write(st, store_mime_upgrade_txn, &a);
		if (rc)
			break;
		if (!a.done && a.next == before)
			return STORE_ECORRUPT;  /* no progress: a blob key that is not 8 bytes */
	}
	if (indexed)
		*indexed = a.indexed;
	return rc;
}

/* Report one problem of store_mime_check. */
static int store_mime_say(int (*report)(void *arg, const char *line), void *arg, const char *what,
                          uint64_t blob, unsigned *problems)
{
	char line[96];

	snprintf(line, sizeof line, "blob %llu: %s", (unsigned long long)blob, what);
	(*problems)++;
	return report ? report(arg, line) : 0;
}

/*
 * Check the "mime" database in txn against the blobs: a record whose blob
 * is gone, a blob without a valid record of this version. With fix (txn
 * writable) the record is deleted or written. Each problem is reported and
 * counted in *problems. 0 or a store error.
 */
int store_mime_check(struct store *st, MDB_txn *txn, int fix, int (*report)(void *arg, const char *line),
                     void *arg, unsigned *problems)
{
	MDB_cursor *cur;
	MDB_val k, v, b;
	int rc;

	if (!st->mime)
		return 0;
	/* records whose blob is gone */
	rc = mdb_cursor_open(txn, st->mime, &cur);
	if (rc)
		return store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || mdb_get(txn, st->blobs, &k, &b) == 0)
			continue;
		rc = store_mime_say(report, arg, "MIME record without its message", store_get64(k.mv_data), problems);
		if (rc == 0 && fix)
			rc = mdb_cursor_del(cur, 0);
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return store_err(rc);
	/* blobs without a valid record */
	rc = mdb_cursor_open(txn, st->blobs, &cur);
	if (rc)
		return store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &b, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &b, MDB_NEXT)) {
		if (k.mv_size != 8 ||
		    (mdb_get(txn, st->mime, &k, &v) == 0 && mime_rec_check(v.mv_data, v.mv_size, b.mv_size) == 0))
			continue;
		rc = store_mime_say(report, arg, "no valid MIME record", store_get64(k.mv_data), problems);
		if (rc == 0 && fix)
			rc = store_mime_index(st, txn, store_get64(k.mv_data));
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* A message's bytes and record, valid until the read txn ends. */
struct store_mime_view {
	const char *msg;
	size_t msglen;
	const void *rec;
	size_t reclen;
};

/*
 * Find message (mbox, uid)'s blob and record in txn; a blob without a valid
 * record is parsed into buf (MIME_REC_MAX bytes).
 */
static int store_mime_open(struct store *st, MDB_txn *txn, uint32_t mbox, uint32_t uid,
                           struct store_mime_view *vw, unsigned char *buf)
{
	unsigned char kb[8], bk[8];
	MDB_val k = { 8, kb }, v;
	struct store_msg m;
	int rc;

	store_msgkey(mbox, uid, kb);
	rc = mdb_get(txn, st->msgs, &k, &v);
	rc = rc ? store_err(rc) : store_msg_decode(&k, &v, &m);
	if (rc)
		return rc;
	store_put64(bk, m.blob);
	k.mv_data = bk;
	rc = mdb_get(txn, st->blobs, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? STORE_ECORRUPT : store_err(rc);
	vw->msg = v.mv_data;
	vw->msglen = v.mv_size;
	if (st->mime && mdb_get(txn, st->mime, &k, &v) == 0 &&
	    mime_rec_check(v.mv_data, v.mv_size, vw->msglen) == 0) {
		vw->rec = v.mv_data;
		vw->reclen = v.mv_size;
		return 0;
	}
	if (mime_parse(vw->msg, vw->msglen, buf, MIME_REC_MAX, &vw->reclen))
		return STORE_ECORRUPT;
	vw->rec = buf;
	return 0;
}

/* Copy the record of (mbox, uid) into buf. */
int store_mime_get(struct store *st, uint32_t mbox, uint32_t uid, void *buf, size_t cap, size_t *len)
{
	unsigned char tmp[MIME_REC_MAX];
	struct store_mime_view vw;
	MDB_txn *txn;
	int rc;

	if (!buf || !len)
		return STORE_EINVAL;
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_mime_open(st, txn, mbox, uid, &vw, tmp);
	if (rc == 0 && vw.reclen > cap)
		rc = -ENOSPC;
	if (rc == 0) {
		memcpy(buf, vw.rec, vw.reclen);
		*len = vw.reclen;
	}
	store_rend(st);
	return rc;
}

/* ENVELOPE, BODY or BODYSTRUCTURE of (mbox, uid), render-and-skip. */
int store_mime_fetch(struct store *st, uint32_t mbox, uint32_t uid, int what, uint64_t off,
                     char *buf, size_t room, size_t *n, uint64_t *total)
{
	unsigned char tmp[MIME_REC_MAX];
	struct store_mime_view vw;
	MDB_txn *txn;
	int rc;

	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_mime_open(st, txn, mbox, uid, &vw, tmp);
	if (rc == 0)
		rc = mime_render(vw.rec, vw.reclen, vw.msg, vw.msglen, what, off, buf, room, n, total);
	store_rend(st);
	return rc;
}

/* BODY[spec] of (mbox, uid), render-and-skip. */
int store_mime_section(struct store *st, uint32_t mbox, uint32_t uid, const char *spec, size_t speclen,
                       uint64_t off, char *buf, size_t room, size_t *n, uint64_t *total)
{
	unsigned char tmp[MIME_REC_MAX];
	struct store_mime_view vw;
	struct mime_sect s;
	MDB_txn *txn;
	int rc;

	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_mime_open(st, txn, mbox, uid, &vw, tmp);
	if (rc == 0)
		rc = mime_section(vw.rec, vw.reclen, vw.msglen, spec, speclen, &s);
	if (rc == 0)
		rc = mime_sect_render(&s, vw.msg, vw.msglen, off, buf, room, n, total);
	store_rend(st);
	return rc;
}

/* SEARCH text of (mbox, uid): 1, 0 or an error. */
int store_mime_search(struct store *st, uint32_t mbox, uint32_t uid, int where, const char *field,
                      size_t fieldlen, const struct mime_needle *nd)
{
	unsigned char tmp[MIME_REC_MAX];
	struct store_mime_view vw;
	MDB_txn *txn;
	int rc;

	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = store_mime_open(st, txn, mbox, uid, &vw, tmp);
	if (rc == 0)
		rc = mime_search(vw.rec, vw.reclen, vw.msg, vw.msglen, where, field, fieldlen, nd);
	store_rend(st);
	return rc;
}
