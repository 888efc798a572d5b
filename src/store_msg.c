/* store_msg — messages: record lookup, scans and walks, streaming reads, delivery. */
#include <string.h>

#include "sysconfig.h"
#include "store_int.h"
#include "store_msg.h"
#include "store_user.h"

#define STORE_SCAN_CHUNK 64     /* records copied per read txn in store_msg_scan_below */

/*
 * Call cb for each message of mbox with uid < uid_below (0 = all) in UID
 * order. Records are copied out STORE_SCAN_CHUNK at a time, each chunk in
 * its own read txn, so cb may call other store functions; a message
 * expunged meanwhile may still be reported from the chunk in hand.
 */
int store_msg_scan_below(struct store *st, uint32_t mbox, uint32_t uid_below,
                         int (*cb)(void *arg, const struct store_msg *m), void *arg)
{
	struct store_msg chunk[STORE_SCAN_CHUNK];
	unsigned char kb[8];
	uint32_t next = 0;      /* first uid not yet reported */
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	size_t n;
	int rc, done = 0;

	while (!done) {
		rc = store_rbegin(st, &txn);
		if (rc)
			return rc;
		rc = mdb_cursor_open(txn, st->msgs, &cur);
		if (rc) {
			store_rend(st);
			return store_err(rc);
		}
		store_msgkey(mbox, next, kb);
		k.mv_size = 8;
		k.mv_data = kb;
		n = 0;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (rc == 0 && n < STORE_SCAN_CHUNK) {
			if (k.mv_size != 8 || store_get32(k.mv_data) != mbox) {
				done = 1;
				break;
			}
			rc = store_msg_decode(&k, &v, &chunk[n]);
			if (rc)
				break;
			if (uid_below && chunk[n].uid >= uid_below) {
				done = 1;
				break;
			}
			n++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
		store_rend(st);
		if (rc == MDB_NOTFOUND) {
			done = 1;
			rc = 0;
		}
		if (rc)
			return store_err(rc);
		for (size_t i = 0; i < n; i++) {
			rc = cb(arg, &chunk[i]);
			if (rc)
				return rc;
		}
		if (n > 0) {
			if (chunk[n - 1].uid == UINT32_MAX)
				break;
			next = chunk[n - 1].uid + 1;
		}
	}
	return 0;
}

/* Walk mbox's records from uid `from` in txn (store_msg_walk_from, store_batch_walk_from). */
int store_msg_walk_txn(struct store *st, MDB_txn *txn, uint32_t mbox, uint32_t from,
                       int (*cb)(void *arg, const struct store_msg *m), void *arg)
{
	unsigned char kb[8];
	struct store_msg m;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, cbrc = 0;

	rc = mdb_cursor_open(txn, st->msgs, &cur);
	if (rc)
		return store_err(rc);
	store_msgkey(mbox, from, kb);
	k.mv_size = 8;
	k.mv_data = kb;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size != 8 || store_get32(k.mv_data) != mbox)
			break;
		rc = store_msg_decode(&k, &v, &m);
		if (rc == 0)
			rc = cbrc = cb(arg, &m);
		if (rc)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc > 0 && cbrc)
		return rc;      /* the callback's own stop value */
	return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int store_msg_walk_from(struct store *st, uint32_t mbox, uint32_t from,
                        int (*cb)(void *arg, const struct store_msg *m), void *arg)
{
	MDB_txn *txn;
	int rc = store_rbegin(st, &txn);

	if (rc)
		return rc;
	rc = store_msg_walk_txn(st, txn, mbox, from, cb, arg);
	store_rend(st);
	return rc;
}

/* Copy message (mbox, uid)'s record into out. */
int store_msg_get(struct store *st, uint32_t mbox, uint32_t uid, struct store_msg *out)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	MDB_txn *txn;
	int rc;

	store_msgkey(mbox, uid, kb);
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_get(txn, st->msgs, &k, &v);
	rc = rc ? store_err(rc) : store_msg_decode(&k, &v, out);
	store_rend(st);
	return rc;
}

/* Copy up to len bytes of the message from off into buf; *got = bytes copied (0 at end). */
int store_msg_read(struct store *st, uint32_t mbox, uint32_t uid, uint64_t off,
                   void *buf, size_t len, size_t *got)
{
	unsigned char kb[8], bk[8];
	MDB_val k = { 8, kb }, v;
	struct store_msg m;
	MDB_txn *txn;
	int rc;

	*got = 0;
	store_msgkey(mbox, uid, kb);
	rc = store_rbegin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_get(txn, st->msgs, &k, &v);
	rc = rc ? store_err(rc) : store_msg_decode(&k, &v, &m);
	if (rc == 0) {
		store_put64(bk, m.blob);
		k.mv_data = bk;
		rc = mdb_get(txn, st->blobs, &k, &v);
		if (rc == MDB_NOTFOUND)
			rc = STORE_ECORRUPT;    /* a message without its blob */
		else
			rc = store_err(rc);
	}
	if (rc == 0 && off < v.mv_size) {
		size_t avail = v.mv_size - (size_t)off;
		*got = len < avail ? len : avail;
		memcpy(buf, (const char *)v.mv_data + off, *got);
	}
	store_rend(st);
	return rc;
}

struct store_deliver_arg {
	const char *user;
	const char *mbox;
	const void *msg;
	size_t len;
	int64_t date;
	uint32_t uid;
};

/* Write txn body of store_deliver: quota, uid, blob, refcount, record, counters. */
static int store_deliver_txn(struct store *st, MDB_txn *txn, void *arg)
{
	struct store_deliver_arg *a = arg;
	unsigned char kb[8], rec[STORE_MSGREC_LEN], refs[4];
	struct store_urec r;
	struct store_mbox mb;
	struct store_msg m;
	uint64_t blob;
	MDB_val k, v;
	int rc;

	rc = store_urec_get(st, txn, a->user, &r);
	if (rc == 0)
		rc = store_mrec_get(st, txn, r.u.id, a->mbox, &mb);
	if (rc == 0 && mb.flags & STORE_MBOX_NOSELECT)
		rc = STORE_ENOTFOUND;
	if (rc)
		return rc;
	if ((r.u.quota_bytes && r.u.used_bytes + a->len > r.u.quota_bytes) ||
	    (r.u.quota_msgs && r.u.used_msgs >= r.u.quota_msgs))
		return STORE_EQUOTA;
	if (mb.uidnext == UINT32_MAX || r.u.used_msgs == UINT32_MAX || mb.count == UINT32_MAX)
		return STORE_EFULL;     /* UID space of this mailbox used up */
	rc = store_room(st, a->len);
	if (rc == 0)
		rc = store_meta_next(st, txn, "next_blob", &blob);
	if (rc)
		return rc;

	/* the blob, copied straight into the map */
	store_put64(kb, blob);
	k.mv_size = 8;
	k.mv_data = kb;
	v.mv_size = a->len;
	rc = mdb_put(txn, st->blobs, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc)
		return store_err(rc);
	memcpy(v.mv_data, a->msg, a->len);
	rc = store_mime_index(st, txn, blob);   /* its MIME record, in the same txn */
	if (rc)
		return rc;
	store_put32(refs, 1);
	v.mv_size = 4;
	v.mv_data = refs;
	rc = mdb_put(txn, st->blobrefs, &k, &v, 0);
	if (rc)
		return store_err(rc);

	/* the message record */
	memset(&m, 0, sizeof m);
	m.uid = mb.uidnext;
	m.blob = blob;
	m.size = a->len;
	m.internaldate = a->date;
	m.modseq = ++mb.highestmodseq;
	store_msg_encode(&m, rec);
	store_msgkey(mb.id, m.uid, kb);
	v.mv_size = sizeof rec;
	v.mv_data = rec;
	rc = mdb_put(txn, st->msgs, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_err(rc);

	/* counters */
	mb.uidnext++;
	mb.count++;
	mb.bytes += a->len;
	rc = store_mrec_put(st, txn, &mb, a->mbox);
	if (rc)
		return rc;
	r.u.used_bytes += a->len;
	r.u.used_msgs++;
	rc = store_urec_put(st, txn, &r);
	if (rc == 0)
		a->uid = m.uid;
	return rc;
}

/* Store one message in user's mailbox; *uid gets its UID. All or nothing. */
int store_deliver(struct store *st, const char *user, const char *mbox_name,
                  const void *msg, size_t len, int64_t internaldate, uint32_t *uid)
{
	struct store_deliver_arg a = { user, mbox_name, msg, len, internaldate, 0 };
	int rc;

	if (!user || !mbox_name || (!msg && len))
		return STORE_EINVAL;
	if (store_user_name_check(user))
		return STORE_ENOTFOUND;
	if ((uint64_t)len > SYS_MESSAGE_MAX)
		return STORE_ETOOBIG;
	rc = store_write(st, store_deliver_txn, &a);
	if (rc == 0 && uid)
		*uid = a.uid;
	return rc;
}
