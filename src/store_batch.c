/*
 * store_batch — group commit: one write txn per loop turn holding every
 * session's part, one sync at the end.
 *
 * The parts are not nested transactions: the environment is opened with
 * MDB_WRITEMAP (blobs are written straight into the file-backed map), and
 * LMDB does not nest transactions then. A part that fails leaves the txn
 * unusable; the caller (conn_commit_run) aborts the batch and runs it again
 * without that part, or, for a full map, after store_make_room.
 */
#include <string.h>

#include "store_int.h"

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
