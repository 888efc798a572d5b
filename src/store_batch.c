/*
 * store_batch — group commit: one write txn per loop turn, one nested txn per
 * session's part, one sync at the end.
 *
 * Map growth inside a batch: the map cannot be resized while a txn is open.
 * A part that fills the map fails with STORE_EBUSY (the map will be grown
 * when the batch ends; retry the command in the next turn), or STORE_EFULL
 * when the map is already at map_max. The other parts still commit.
 */
#include <string.h>

#include "store_int.h"

/* Translate a map-full inside a batch: remember to grow; EBUSY (retry) or EFULL (at max). */
static int store_batch_full(struct store_batch *b)
{
	uint64_t size, max;

	b->want_grow = 1;
	if (store_mapinfo(b->st, &size, &max, NULL) == 0 && size < max)
		return STORE_EBUSY;
	return STORE_EFULL;
}

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
	rc = store_wbegin(st, NULL, &b->txn);
	if (rc)
		return rc;
	b->active = 1;
	*out = b;
	return 0;
}

/* Start one session's part (a nested txn). */
int store_batch_part_begin(struct store_batch *b)
{
	if (!b || !b->active || b->part)
		return STORE_EINVAL;
	return store_wbegin(b->st, b->txn, &b->part);
}

/* Finish the open part: ok=1 keeps its writes, ok=0 rolls them back. */
int store_batch_part_end(struct store_batch *b, int ok)
{
	int rc = 0;

	if (!b || !b->active || !b->part)
		return STORE_EINVAL;
	if (ok)
		rc = store_err(mdb_txn_commit(b->part));
	else
		mdb_txn_abort(b->part);
	b->part = NULL;
	if (rc == STORE_EFULL)
		rc = store_batch_full(b);
	return rc;
}

/* Remove the listed UIDs from mbox inside the open part; absent UIDs are skipped. */
int store_batch_expunge(struct store_batch *b, uint32_t mbox, const uint32_t *uids, size_t n)
{
	struct store *st;
	struct store_mbox mb;
	struct store_urec r;
	char name[STORE_MBOX_NAME_MAX + 1];
	uint64_t size, bytes = 0;
	uint32_t removed = 0;
	int rc = 0;

	if (!b || !b->active || !b->part || (!uids && n))
		return STORE_EINVAL;
	st = b->st;
	rc = store_mrec_get_id(st, b->part, mbox, &mb, name);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = store_msg_remove(st, b->part, mbox, uids[i], &size);
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
		rc = store_mrec_put(st, b->part, &mb, name);
		if (rc == 0)
			rc = store_urec_get_id(st, b->part, mb.user, &r);
		if (rc == 0) {
			r.u.used_msgs = r.u.used_msgs >= removed ? r.u.used_msgs - removed : 0;
			r.u.used_bytes = r.u.used_bytes >= bytes ? r.u.used_bytes - bytes : 0;
			rc = store_urec_put(st, b->part, &r);
		}
	}
	if (rc == STORE_EFULL)
		rc = store_batch_full(b);
	return rc;
}

/* Commit the batch (one sync). 0, or the error (the batch is then rolled back). */
int store_batch_end(struct store_batch *b)
{
	int rc, grow;

	if (!b || !b->active)
		return STORE_EINVAL;
	if (b->part) {
		mdb_txn_abort(b->part);    /* an unfinished part does not commit */
		b->part = NULL;
	}
	rc = store_err(mdb_txn_commit(b->txn));
	b->txn = NULL;
	b->active = 0;
	grow = b->want_grow || rc == STORE_EFULL;
	if (grow && store_grow(b->st) == 0 && rc == STORE_EFULL)
		rc = STORE_EBUSY;       /* grown now: the whole batch may be retried */
	return rc;
}

/* Abort the batch and every open part. */
void store_batch_abort(struct store_batch *b)
{
	if (!b || !b->active)
		return;
	if (b->part)
		mdb_txn_abort(b->part);
	mdb_txn_abort(b->txn);
	b->part = NULL;
	b->txn = NULL;
	b->active = 0;
}
