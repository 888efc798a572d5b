/* commit — the group commit: one transaction and one sync per loop turn. */
#include <stddef.h>

#include "commit.h"
#include "conn.h"
#include "conn_int.h"
#include "log.h"
#include "store.h"
#include "store_batch.h"

/* conn.commit_rc while the session's part is still to be committed. */
#define COMMIT_PENDING 1

static struct store *store;
static struct conn *head;         /* queued this turn, newest first */

void commit_init(struct store *st)
{
	store = st;
}

void commit_queue(struct conn *c)
{
	if (c->flags & CONN_F_COMMIT)
		return;
	c->flags |= CONN_F_COMMIT;
	conn_hold(c, 1);
	c->commit_next = head;
	head = c;
}

void commit_cancel(struct conn *c)
{
	struct conn **pp;

	for (pp = &head; *pp; pp = &(*pp)->commit_next)
		if (*pp == c) {
			*pp = c->commit_next;
			break;
		}
	c->flags &= ~(unsigned)CONN_F_COMMIT;
}

/*
 * One round: run every pending part in one batch. 0 when it committed;
 * else the part that failed (or, when the commit itself found the map
 * full, the last part) is in *failed with the error returned.
 */
static int batch_round(struct conn *list, struct conn **failed)
{
	struct store_batch *b;
	struct conn *c, *last = NULL;
	int rc, err;

	*failed = NULL;
	err = store_batch_begin(store, &b);
	if (err)
		return err;
	for (c = list; c; c = c->commit_next) {
		if (c->commit_rc != COMMIT_PENDING)
			continue;
		last = c;
		rc = c->ops->commit(c, b);
		if (rc) {
			store_batch_abort(b);
			*failed = c;
			return rc;
		}
	}
	err = store_batch_end(b);
	if (err == STORE_EFULL)
		*failed = last;         /* the commit itself found the map full */
	return err;
}

/*
 * Turn end: one write transaction and one sync for every queued session.
 * When a part fails, that session keeps its error and the batch runs again
 * with the others. A full map is grown (at map_max: its freed pages
 * reclaimed once) and the batch run again as it was; when no room can be
 * made, the part that hit it fails with STORE_EFULL. Every round commits,
 * grows the map or drops a part, so this ends.
 */
void commit_run(void)
{
	struct conn *c, *failed, *list = head;
	int err = 0, tried = 0;

	if (!list)
		return;
	head = NULL;
	for (c = list; c; c = c->commit_next)
		c->commit_rc = COMMIT_PENDING;
	for (;;) {
		for (c = list; c && c->commit_rc != COMMIT_PENDING; c = c->commit_next)
			;
		if (!c) {
			err = 0;        /* every part failed on its own */
			break;
		}
		err = batch_round(list, &failed);
		if (err == 0 || !failed)
			break;          /* committed, or failed as a whole */
		if (err == STORE_EFULL) {
			int room = store_make_room(store, &tried);
			if (room == 0)
				continue;       /* more room: the same parts again */
			err = room;             /* STORE_EFULL, -ENOSPC, ... */
		}
		failed->commit_rc = err;  /* this part fails alone; the others run again */
	}
	for (c = list; c; c = c->commit_next)
		if (c->commit_rc == COMMIT_PENDING)
			c->commit_rc = err;
	if (err)
		log_err("group commit failed: %s", store_strerror(err));
	while (list) {
		c = list;
		list = c->commit_next;
		c->commit_next = NULL;
		c->flags &= ~(unsigned)CONN_F_COMMIT;
		conn_hold(c, 0);
		c->ops->committed(c, c->commit_rc);
		if (c->id)
			conn_run(c);
	}
	/* A pipelined command queued a write meanwhile: its input is already
	 * buffered, so no socket event will come; have the loop turn again now. */
	if (head)
		loop_wake();
}
