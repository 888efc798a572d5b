/*
 * store_batch — group commit: one write txn per loop turn holding every
 * session's part, one sync at the end; and the writes a part makes in it
 * (expunge, keywords, flag changes, COPY sharing blobs, APPEND from a
 * spooled file), with the walk of a mailbox's records that sees them.
 *
 * The parts are not nested transactions: the environment is opened with
 * MDB_WRITEMAP (blobs are written straight into the file-backed map), and
 * LMDB does not nest transactions then. A part that fails leaves the txn
 * unusable; the caller (conn_commit_run) aborts the batch and runs it again
 * without that part, or, for a full map, after store_make_room.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sysconfig.h"
#include "store_batch.h"
#include "store_int.h"

#define APPEND_CHUNK 65536      /* bytes read from the spool file per pread */

/* Open the batch's write txn. At most one batch per store; *out is not allocated. */
int store_batch_begin(struct store *st, struct store_batch **out)
{
	struct store_batch *b = &st->batch;
	int rc;

	*out = NULL;
	if (b->active)
		return STORE_EBUSY;
	memset(b, 0, sizeof *b);
	b->st = st;
	rc = store_wbegin(st, &b->txn);
	if (rc)
		return rc;
	b->active = 1;
	*out = b;
	return 0;
}

/* Commit the batch (one sync). 0, or the error (the batch is then gone). */
int store_batch_end(struct store_batch *b)
{
	int rc;

	if (!b || !b->active)
		return STORE_EINVAL;
	rc = store_err(mdb_txn_commit(b->txn));
	b->txn = NULL;
	b->active = 0;
	return rc;
}

/* Abort the batch. */
void store_batch_abort(struct store_batch *b)
{
	if (!b || !b->active)
		return;
	mdb_txn_abort(b->txn);
	b->txn = NULL;
	b->active = 0;
}

/* --- the writes of a part ------------------------------------------- */

int store_batch_walk_from(struct store_batch *b, uint32_t mbox, uint32_t from,
                          int (*cb)(void *arg, const struct store_msg *m), void *arg)
{
	if (!b || !b->active)
		return STORE_EINVAL;
	return store_msg_walk_txn(b->st, b->txn, mbox, from, cb, arg);
}

/* Read mailbox id's record and name in the batch. */
static int part_mbox(struct store_batch *b, uint32_t id, struct store_mbox *mb, char *name)
{
	if (!b || !b->active)
		return STORE_EINVAL;
	return store_mrec_get_id(b->st, b->txn, id, mb, name);
}

/* Read message (mbox, uid)'s record in the batch. STORE_ENOTFOUND if it is gone. */
static int part_msg(struct store_batch *b, uint32_t mbox, uint32_t uid, struct store_msg *m)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	store_msgkey(mbox, uid, kb);
	rc = mdb_get(b->txn, b->st->msgs, &k, &v);
	if (rc)
		return store_err(rc);
	return store_msg_decode(&k, &v, m);
}

int store_batch_room(struct store_batch *b, uint64_t size)
{
	if (!b || !b->active)
		return STORE_EINVAL;
	return store_room(b->st, b->added + size);
}

/* Remove the listed UIDs from mbox in the batch; absent UIDs are skipped. */
int store_batch_expunge(struct store_batch *b, uint32_t mbox, const uint32_t *uids, size_t n)
{
	struct store *st;
	struct store_mbox mb;
	struct store_urec r;
	char name[STORE_MBOX_NAME_MAX + 1];
	uint64_t size, bytes = 0;
	uint32_t removed = 0;
	int rc = 0;

	if (!b || !b->active || (!uids && n))
		return STORE_EINVAL;
	st = b->st;
	rc = store_mrec_get_id(st, b->txn, mbox, &mb, name);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = store_msg_remove(st, b->txn, mbox, uids[i], &size);
		if (rc == 0) {
			bytes += size;
			removed++;
		} else if (rc == STORE_ENOTFOUND) {
			rc = 0;         /* already gone (another session, or listed twice) */
		}
	}
	if (rc == 0 && removed) {
		mb.count = mb.count >= removed ? mb.count - removed : 0;
		mb.bytes = mb.bytes >= bytes ? mb.bytes - bytes : 0;
		mb.highestmodseq++;
		rc = store_mrec_put(st, b->txn, &mb, name);
		if (rc == 0)
			rc = store_urec_get_id(st, b->txn, mb.user, &r);
		if (rc == 0) {
			r.u.used_msgs = r.u.used_msgs >= removed ? r.u.used_msgs - removed : 0;
			r.u.used_bytes = r.u.used_bytes >= bytes ? r.u.used_bytes - bytes : 0;
			rc = store_urec_put(st, b->txn, &r);
		}
	}
	return rc;
}

/* Add the names missing from mbox's keyword list; *bits gets the flag bits of all of them. */
int store_batch_kw_bits(struct store_batch *b, uint32_t mbox, const char (*want)[STORE_KW_LEN + 1],
                        unsigned nwant, uint32_t *bits)
{
	char names[STORE_KW_MAX][STORE_KW_LEN + 1];
	unsigned char kb[7], buf[STORE_KW_MAX * (STORE_KW_LEN + 1)];
	MDB_val k = { sizeof kb, kb }, v;
	unsigned n = 0, i, j, added = 0;
	size_t len = 0;
	int rc;

	*bits = 0;
	if (!b || !b->active)
		return STORE_EINVAL;
	store_kw_key(mbox, kb);
	rc = mdb_get(b->txn, b->st->meta, &k, &v);
	if (rc == 0)
		store_kw_decode(&v, names, &n);
	else if (rc != MDB_NOTFOUND)
		return store_err(rc);
	for (j = 0; j < nwant; j++) {
		for (i = 0; i < n; i++)
			if (!strcasecmp(names[i], want[j]))
				break;
		if (i == n) {
			if (n == STORE_KW_MAX)
				return STORE_ELIMIT;
			snprintf(names[n++], STORE_KW_LEN + 1, "%s", want[j]);
			added = 1;
		}
		*bits |= 1u << (STORE_F_KW_SHIFT + i);
	}
	if (!added)
		return 0;
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		memcpy(buf + len, names[i], l + 1);
		len += l + 1;
	}
	v.mv_size = len;
	v.mv_data = buf;
	return store_err(mdb_put(b->txn, b->st->meta, &k, &v, 0));
}

int store_batch_flags(struct store_batch *b, uint32_t mbox, uint32_t uid, int mode, uint32_t flags,
                      uint32_t *out, uint64_t *modseq)
{
	char name[STORE_MBOX_NAME_MAX + 1];
	unsigned char kb[8], rec[STORE_MSGREC_LEN];
	MDB_val k = { 8, kb }, v = { sizeof rec, rec };
	struct store_mbox mb;
	struct store_msg m;
	uint32_t nf;
	int rc;

	rc = part_mbox(b, mbox, &mb, name);
	if (rc == 0)
		rc = part_msg(b, mbox, uid, &m);
	if (rc)
		return rc;
	nf = mode == STORE_FLAGS_SET ? flags : mode == STORE_FLAGS_ADD ? m.flags | flags : m.flags & ~flags;
	*out = nf;
	*modseq = 0;
	if (nf == m.flags)
		return 0;
	m.flags = nf;
	m.modseq = ++mb.highestmodseq;
	*modseq = m.modseq;
	store_msg_encode(&m, rec);
	store_msgkey(mbox, uid, kb);
	rc = store_err(mdb_put(b->txn, b->st->msgs, &k, &v, 0));
	if (rc == 0)
		rc = store_mrec_put(b->st, b->txn, &mb, name);
	return rc;
}

/* Check the owner's quota for one more message of size bytes and count it. */
static int quota_take(struct store_batch *b, uint32_t user, uint64_t size)
{
	struct store_urec r;
	int rc = store_urec_get_id(b->st, b->txn, user, &r);

	if (rc)
		return rc;
	if ((r.u.quota_bytes && r.u.used_bytes + size > r.u.quota_bytes) ||
	    (r.u.quota_msgs && r.u.used_msgs >= r.u.quota_msgs))
		return STORE_EQUOTA;
	if (r.u.used_msgs == UINT32_MAX)
		return STORE_EFULL;
	r.u.used_bytes += size;
	r.u.used_msgs++;
	return store_urec_put(b->st, b->txn, &r);
}

/* Add a message record to dst (next UID) and count it in the mailbox. */
static int add_record(struct store_batch *b, struct store_mbox *dst, const char *dname, struct store_msg *m,
                      uint32_t *newuid)
{
	unsigned char kb[8], rec[STORE_MSGREC_LEN];
	MDB_val k = { 8, kb }, v = { sizeof rec, rec };
	int rc;

	if (dst->uidnext == UINT32_MAX || dst->count == UINT32_MAX)
		return STORE_EFULL;
	m->uid = dst->uidnext;
	m->modseq = ++dst->highestmodseq;
	store_msg_encode(m, rec);
	store_msgkey(dst->id, m->uid, kb);
	rc = mdb_put(b->txn, b->st->msgs, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_err(rc);
	dst->uidnext++;
	dst->count++;
	dst->bytes += m->size;
	*newuid = m->uid;
	return store_mrec_put(b->st, b->txn, dst, dname);
}

/* The keyword list of mbox as the batch sees it. */
static int part_kw(struct store_batch *b, uint32_t mbox, char (*names)[STORE_KW_LEN + 1], unsigned *n)
{
	unsigned char kb[7];
	MDB_val k = { sizeof kb, kb }, v;
	int rc;

	*n = 0;
	store_kw_key(mbox, kb);
	rc = mdb_get(b->txn, b->st->meta, &k, &v);
	if (rc == 0)
		store_kw_decode(&v, names, n);
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Renumber the keyword bits of *flags from src's list to dst's (adding names to dst's). */
static int copy_keywords(struct store_batch *b, uint32_t src, uint32_t dst, uint32_t *flags)
{
	char have[STORE_KW_MAX][STORE_KW_LEN + 1], want[STORE_KW_MAX][STORE_KW_LEN + 1];
	unsigned nh, nw = 0;
	uint32_t bits = 0;
	int rc;

	if (src == dst)
		return 0;
	rc = part_kw(b, src, have, &nh);
	for (unsigned i = 0; i < nh && rc == 0; i++)
		if (*flags & (1u << (STORE_F_KW_SHIFT + i)))
			memcpy(want[nw++], have[i], sizeof want[0]);
	if (rc == 0 && nw)
		rc = store_batch_kw_bits(b, dst, (const char (*)[STORE_KW_LEN + 1])want, nw, &bits);
	*flags = (*flags & STORE_F_SYSTEM) | bits;
	return rc;
}

int store_batch_copy(struct store_batch *b, uint32_t src, uint32_t uid, uint32_t dst, uint32_t *newuid)
{
	char dname[STORE_MBOX_NAME_MAX + 1];
	unsigned char bk[8], refs[4];
	MDB_val k = { 8, bk }, v;
	struct store_mbox mb;
	struct store_msg m;
	uint32_t n;
	int rc;

	rc = part_mbox(b, dst, &mb, dname);
	if (rc == 0)
		rc = part_msg(b, src, uid, &m);
	if (rc == 0 && m.flags >> STORE_F_KW_SHIFT)
		rc = copy_keywords(b, src, dst, &m.flags);
	if (rc)
		return rc;
	rc = quota_take(b, mb.user, m.size);
	if (rc)
		return rc;
	/* one more reference to the same blob */
	store_put64(bk, m.blob);
	rc = mdb_get(b->txn, b->st->blobrefs, &k, &v);
	if (rc == 0 && v.mv_size != 4)
		return STORE_ECORRUPT;
	n = rc == 0 ? store_get32(v.mv_data) : 1;
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc);
	store_put32(refs, n + 1);
	v.mv_size = 4;
	v.mv_data = refs;
	rc = mdb_put(b->txn, b->st->blobrefs, &k, &v, 0);
	if (rc)
		return store_err(rc);
	return add_record(b, &mb, dname, &m, newuid);
}

int store_batch_append_fd(struct store_batch *b, uint32_t mbox, int fd, uint64_t size, uint32_t flags,
                          int64_t date, uint32_t *uid)
{
	char dname[STORE_MBOX_NAME_MAX + 1];
	unsigned char kb[8], refs[4];
	MDB_val k = { 8, kb }, v;
	struct store_mbox mb;
	struct store_msg m;
	uint64_t blob, off = 0;
	int rc;

	if (size > SYS_MESSAGE_MAX || (size_t)size != size)
		return STORE_ETOOBIG;
	rc = part_mbox(b, mbox, &mb, dname);
	if (rc == 0)
		rc = quota_take(b, mb.user, size);
	if (rc == 0)
		rc = store_room(b->st, b->added + size);
	if (rc == 0)
		rc = store_meta_next(b->st, b->txn, "next_blob", &blob);
	if (rc == 0)
		b->added += size;       /* the next part's check counts it (the map shows only commits) */
	if (rc)
		return rc;
	/* The blob is reserved in the map and filled from the file a chunk at a
	 * time: the message is never whole in this process's heap. */
	store_put64(kb, blob);
	v.mv_size = (size_t)size;
	rc = mdb_put(b->txn, b->st->blobs, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc)
		return store_err(rc);
	while (off < size) {
		size_t want = size - off > APPEND_CHUNK ? APPEND_CHUNK : (size_t)(size - off);
		ssize_t n = pread(fd, (char *)v.mv_data + off, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (uint64_t)n;
	}
	rc = store_mime_index(b->st, b->txn, blob);   /* the MIME record, same txn */
	if (rc)
		return rc;
	store_put32(refs, 1);
	v.mv_size = 4;
	v.mv_data = refs;
	rc = mdb_put(b->txn, b->st->blobrefs, &k, &v, 0);
	if (rc)
		return store_err(rc);
	memset(&m, 0, sizeof m);
	m.blob = blob;
	m.size = size;
	m.flags = flags;
	m.internaldate = date;
	return add_record(b, &mb, dname, &m, uid);
}
