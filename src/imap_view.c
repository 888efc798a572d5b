/*
 * imap_view — one shared view per selected mailbox.
 *
 * A view holds the mailbox's UIDs in order (8 bytes per message, shared
 * by every session that selected it). An expunged message stays in the
 * array as a tombstone marked with an expunge generation until every
 * session on the view has been told (EXPUNGE responses are only allowed at
 * some points), then the array is compacted. A session's view is defined
 * by three numbers: the UIDs announced to it (uid < uid_limit), the
 * expunge generations announced to it (seen_gen), and its message count,
 * so a session costs a few bytes whatever the mailbox size. Sequence
 * numbers are direct indexes while there are no tombstones, else found by
 * a walk cached per session.
 *
 * Changes from anywhere (this daemon's sessions, POP3, `postnook deliver`
 * in another process) are found the same way: the mailbox record's
 * HIGHESTMODSEQ moved, so the view is re-read from the store (one cursor
 * walk) and differences become tombstones, new entries and flag-change
 * ring entries. Views with IDLE sessions are checked every
 * imap_idle_poll ms (config), and at once when a notify datagram names them.
 *
 * \Recent (RFC 3501 2.3.2): a message is \Recent in the one session that
 * first has the mailbox selected read-write and is told of it. The mailbox
 * record keeps a mark, recent_uid: no session has claimed UIDs >= it. A
 * view starts from the mark; SELECT, and a read-write session told of new
 * messages, claim the UIDs up to what they were told and move the view's
 * mark (recent_upto). EXAMINE and STATUS show the unclaimed messages as
 * \Recent without claiming them. Moved marks are written lazily: one
 * transaction for every view at most IMAP_RECENT_FLUSH_MS later, when a
 * view is freed, and at shutdown, so a SELECT never waits for the write.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_int.h"
#include "log.h"
#include "loop.h"
#include "store_mbox.h"
#include "store_msg.h"

#if CONFIG_IMAP

static struct imap_view *views;
static unsigned nkept;            /* views without sessions, kept for the next SELECT */
static uint32_t view_clock;       /* LRU stamps for kept views */
static unsigned nidle_total;
static struct loop_timer poll_timer;
static struct loop_timer recent_timer;  /* armed while a view has an unwritten mark */

/* Update phases (imap_job.phase). */
enum { UPD_START, UPD_EXPUNGE, UPD_RECENT, UPD_EXISTS, UPD_KEYWORDS, UPD_FLAGS, UPD_DONE };

int imap_view_visible(const struct conn *c, uint32_t idx)
{
	const struct imap_sv *sv = &imap_of(c)->sv;
	const struct imap_view_ent *e = &sv->v->e[idx];

	return e->uid < sv->uid_limit && (e->gone == 0 || e->gone > sv->seen_gen);
}

uint32_t imap_view_lower(const struct imap_view *v, uint32_t uid)
{
	uint32_t lo = 0, hi = v->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v->e[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Forget the session's cached seq/index pair. */
static void cache_reset(struct imap_sv *sv)
{
	sv->c_seq = 0;
	sv->c_idx = 0;
}

uint32_t imap_view_idx(struct conn *c, uint32_t seq)
{
	struct imap_sv *sv = &imap_of(c)->sv;
	struct imap_view *v = sv->v;
	uint32_t s, i;

	if (seq == 0 || seq > sv->exists)
		return UINT32_MAX;
	if (v->ntomb == 0)
		return seq - 1;
	if (sv->c_seq && sv->c_layout == v->layout && sv->c_seq <= seq) {
		s = sv->c_seq;
		i = sv->c_idx;
	} else {
		s = 0;
		i = UINT32_MAX;
	}
	while (s < seq) {
		i++;
		if (i >= v->n)
			return UINT32_MAX;
		if (imap_view_visible(c, i))
			s++;
	}
	sv->c_layout = v->layout;
	sv->c_seq = s;
	sv->c_idx = i;
	return i;
}

uint32_t imap_view_seq(struct conn *c, uint32_t idx)
{
	struct imap_sv *sv = &imap_of(c)->sv;
	struct imap_view *v = sv->v;
	uint32_t s, i;

	if (v->ntomb == 0)
		return idx + 1;
	if (sv->c_seq && sv->c_layout == v->layout && sv->c_idx <= idx) {
		s = sv->c_seq;
		i = sv->c_idx;
	} else {
		s = 0;
		i = 0;
		if (imap_view_visible(c, 0))
			s = 1;
	}
	while (i < idx) {
		i++;
		if (imap_view_visible(c, i))
			s++;
	}
	sv->c_layout = v->layout;
	sv->c_seq = s;
	sv->c_idx = i;
	return s;
}

int imap_seq_beyond(struct conn *c, const struct imap_str *set, const char *cmd)
{
	uint32_t n = imap_of(c)->sv.exists;
	const char *p = set->s, *end = p + set->len;
	uint64_t v;
	int bad = 0;

	while (p < end && !imap_of(c)->job.uid && !bad) {
		if (*p < '0' || *p > '9') {
			bad = *p++ == '*' && !n;
			continue;
		}
		for (v = 0; p < end && *p >= '0' && *p <= '9'; p++)
			if (v <= n)
				v = v * 10 + (uint64_t)(*p - '0');
		bad = v == 0 || v > n;
	}
	if (bad)
		imap_done(c, "BAD Error in IMAP command %s: Invalid messageset", cmd);
	return bad;
}

uint32_t imap_view_maxuid(struct conn *c)
{
	struct imap_sv *sv = &imap_of(c)->sv;
	uint32_t i = imap_view_lower(sv->v, sv->uid_limit);

	while (i > 0) {
		i--;
		if (imap_view_visible(c, i))
			return sv->v->e[i].uid;
	}
	return 0;
}

uint32_t imap_view_recent(struct conn *c)
{
	struct imap_sv *sv = &imap_of(c)->sv;
	uint32_t i, n = 0;

	for (uint32_t r = 0; r < sv->nrecent; r++)
		for (i = imap_view_lower(sv->v, sv->recent[r][0]); i < sv->v->n && sv->v->e[i].uid < sv->recent[r][1]; i++)
			n += imap_view_visible(c, i);
	return n;
}

int imap_view_is_recent(const struct conn *c, uint32_t uid)
{
	const struct imap_sv *sv = &imap_of(c)->sv;

	for (uint32_t r = 0; r < sv->nrecent; r++)
		if (uid >= sv->recent[r][0] && uid < sv->recent[r][1])
			return 1;
	return 0;
}

/* Drop tombstones every session has been told of. */
static void compact(struct imap_view *v)
{
	uint32_t min = UINT32_MAX, i, o = 0;
	struct conn *c;

	if (v->ntomb == 0)
		return;
	for (c = v->sessions; c; c = imap_of(c)->sv.next)
		if (imap_of(c)->sv.seen_gen < min)
			min = imap_of(c)->sv.seen_gen;
	for (i = 0; i < v->n; i++) {
		if (v->e[i].gone && v->e[i].gone <= min) {
			v->ntomb--;
			continue;
		}
		v->e[o++] = v->e[i];
	}
	if (o != v->n) {
		v->n = o;
		v->layout++;
	}
}

static int push(struct imap_view *v, uint32_t uid)
{
	if (v->n == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 16;
		struct imap_view_ent *e = realloc(v->e, (size_t)cap * sizeof *e);
		if (!e)
			return -ENOMEM;
		v->e = e;
		v->cap = cap;
	}
	v->e[v->n].uid = uid;
	v->e[v->n].gone = 0;
	v->n++;
	return 0;
}

struct rescan {
	struct imap_view *v;
	uint32_t i, gen;
	uint64_t old_modseq;
	int changed, tombed;
};

/* Mark the entries before uid that the store no longer has. */
static void tomb_until(struct rescan *r, uint32_t uid)
{
	struct imap_view *v = r->v;

	while (r->i < v->n && v->e[r->i].uid < uid) {
		if (!v->e[r->i].gone) {
			v->e[r->i].gone = r->gen;
			v->ntomb++;
			r->changed = r->tombed = 1;
		}
		r->i++;
	}
}

static int rescan_cb(void *arg, const struct store_msg *m)
{
	struct rescan *r = arg;
	struct imap_view *v = r->v;

	tomb_until(r, m->uid);
	if (r->i < v->n && v->e[r->i].uid == m->uid) {
		if (m->modseq > r->old_modseq && !v->e[r->i].gone && v->ring) {
			uint32_t k = v->ring_pos % IMAP_FLAG_RING;
			v->ring[k].uid = m->uid;
			v->ring[k].modseq = m->modseq;
			v->ring_pos++;
			r->changed = 1;
		}
		r->i++;
		return 0;
	}
	if (v->n && m->uid <= v->e[v->n - 1].uid)
		return 0;       /* cannot happen: UIDs only grow */
	r->changed = 1;
	if (push(v, m->uid) < 0)
		return -ENOMEM;
	r->i = v->n;
	return 0;
}

/* Wake the IDLE sessions of v that have something to hear. */
static void wake(struct imap_view *v)
{
	struct conn *c, *next;

	for (c = v->sessions; c; c = next) {
		next = imap_of(c)->sv.next;
		if (imap_of(c)->sub == IMAP_SUB_IDLE && !(c->flags & CONN_F_STREAMING) && imap_updates_pending(c)) {
			imap_job_start(c, NULL);
			conn_kick(c);
		}
	}
}

/* Re-read the view from the store: tombstones, new UIDs, flag changes. */
static int rescan(struct imap_view *v, uint64_t modseq)
{
	struct rescan r = { v, 0, v->gen + 1, v->modseq, 0, 0 };
	int rc;

	rc = store_msg_walk_from(conn_env.store, v->mbox, 0, rescan_cb, &r);
	if (rc < 0)
		return rc;
	tomb_until(&r, UINT32_MAX);
	if (r.tombed)
		v->gen = r.gen;
	v->modseq = modseq;
	{
		/* the keyword list only grows while the daemon runs */
		char names[STORE_KW_MAX][STORE_KW_LEN + 1];
		unsigned nk;
		if (store_kw_get(conn_env.store, v->mbox, names, &nk) == 0 && nk > v->nkw) {
			v->nkw = nk;
			r.changed = 1;
		}
	}
	return r.changed;
}

void imap_view_sync(struct imap_view *v)
{
	struct store_mbox mb;
	int rc;

	if (!v || v->gone)
		return;
	rc = store_mbox_get_id(conn_env.store, v->mbox, &mb, NULL);
	if (rc == STORE_ENOTFOUND || (rc == 0 && mb.uidvalidity != v->uidvalidity)) {
		v->gone = 1;
		return;
	}
	if (rc < 0 || mb.highestmodseq == v->modseq)
		return;
	rc = rescan(v, mb.highestmodseq);
	if (rc < 0)
		log_err("imap: mailbox %" PRIu32 " view not updated: %s", v->mbox, store_strerror(rc));
	else if (rc > 0)
		wake(v);
}

void imap_view_notify(uint32_t mbox)
{
	struct imap_view *v, *next;

	/* A woken session may log out and free its view: take next first. */
	for (v = views; v; v = next) {
		next = v->next;
		if (v->mbox == mbox)
			imap_view_sync(v);
	}
}

/* The IDLE poll: views with IDLE sessions look at the store for outside changes. */
static void poll_cb(struct loop_timer *t)
{
	struct imap_view *v, *next;

	for (v = views; v; v = next) {
		next = v->next;
		if (v->nidle)
			imap_view_sync(v);
	}
	if (nidle_total)
		loop_timer_set(&poll_timer, conn_env.cfg->imap_idle_poll);
}

void imap_view_idle(struct conn *c, int on)
{
	struct imap_view *v = imap_of(c)->sv.v;

	if (!v)
		return;
	if (on) {
		v->nidle++;
		if (nidle_total++ == 0) {
			poll_timer.cb = poll_cb;
			loop_timer_set(&poll_timer, conn_env.cfg->imap_idle_poll);
		}
	} else if (v->nidle) {
		v->nidle--;
		if (--nidle_total == 0)
			loop_timer_cancel(&poll_timer);
	}
}

#define RECENT_BATCH 16     /* marks written per transaction */

/* Write every view's moved \Recent mark, RECENT_BATCH mailboxes per transaction. 0 or <0. */
static int recent_flush(void)
{
	uint32_t ids[RECENT_BATCH], uids[RECENT_BATCH];
	struct imap_view *vs[RECENT_BATCH], *v = views;
	unsigned n;
	int rc;

	do {
		for (n = 0; v && n < RECENT_BATCH; v = v->next) {
			if (v->gone || v->recent_upto <= v->recent_saved)
				continue;
			vs[n] = v;
			ids[n] = v->mbox;
			uids[n++] = v->recent_upto;
		}
		if (n == 0)
			break;
		rc = store_mbox_recent(conn_env.store, ids, uids, n);
		if (rc < 0) {
			log_err("imap: \\Recent marks not written: %s", store_strerror(rc));
			return rc;
		}
		for (unsigned i = 0; i < n; i++)
			vs[i]->recent_saved = uids[i];
	} while (v);
	return 0;
}

static void recent_cb(struct loop_timer *t)
{
	if (recent_flush() < 0)
		loop_timer_set(&recent_timer, IMAP_RECENT_FLUSH_MS);   /* try again later */
}

/* Claim the unclaimed UIDs of v below lim for c (claim=1), or only show them. */
static void recent_claim(struct imap_sv *sv, struct imap_view *v, uint32_t lim, int claim)
{
	uint32_t n = sv->nrecent;

	if (v->recent_upto >= lim)
		return;         /* nothing new is unclaimed */
	if (n && sv->recent[n - 1][1] >= v->recent_upto) {
		sv->recent[n - 1][1] = lim;     /* contiguous with c's last range */
	} else {
		/* a session told in between claimed the UIDs before: a new range */
		if (n == IMAP_RECENT_RANGES) {
			memmove(sv->recent[0], sv->recent[1], (n - 1) * sizeof sv->recent[0]);
			n--;
		}
		sv->recent[n][0] = v->recent_upto;
		sv->recent[n][1] = lim;
		sv->nrecent = n + 1;
	}
	if (!claim)
		return;
	v->recent_upto = lim;
	if (!recent_timer.when) {
		recent_timer.cb = recent_cb;
		loop_timer_set(&recent_timer, IMAP_RECENT_FLUSH_MS);
	}
}

uint32_t imap_view_recent_mark(const struct store_mbox *mb)
{
	for (struct imap_view *v = views; v; v = v->next)
		if (v->mbox == mb->id && !v->gone && v->recent_upto > mb->recent_uid)
			return v->recent_upto;
	return mb->recent_uid;
}

void imap_view_shutdown(void)
{
	loop_timer_cancel(&recent_timer);
	recent_flush();
}

/* Unlink and free a view (no session on it). */
static void view_free(struct imap_view *v)
{
	struct imap_view **pv;

	if (!v->gone && v->recent_upto > v->recent_saved)
		recent_flush();         /* its mark would be lost with it */
	for (pv = &views; *pv; pv = &(*pv)->next)
		if (*pv == v) {
			*pv = v->next;
			break;
		}
	if (v->nsess == 0 && nkept)
		nkept--;
	free(v->ring);
	free(v->e);
	free(v);
}

/* Keep at most IMAP_VIEW_KEEP views without sessions: free the least recently used. */
static void kept_trim(void)
{
	while (nkept > IMAP_VIEW_KEEP) {
		struct imap_view *v, *old = NULL;
		for (v = views; v; v = v->next)
			if (v->nsess == 0 && (!old || v->used < old->used))
				old = v;
		if (!old)
			break;
		view_free(old);
	}
}

int imap_view_open(struct conn *c, const struct store_mbox *mb, int claim)
{
	struct imap_sess *s = imap_of(c);
	struct imap_sv *sv = &s->sv;
	struct imap_view *v, *next;

	for (v = views; v; v = next) {
		next = v->next;
		if (v->nsess == 0 && v->gone)
			view_free(v);       /* a kept view of a deleted mailbox */
	}
	for (v = views; v; v = v->next)
		if (v->mbox == mb->id && !v->gone)
			break;
	if (v && v->nsess == 0)
		nkept--;                /* a kept view comes back into use */
	if (!v) {
		v = calloc(1, sizeof *v);
		if (!v)
			return -ENOMEM;
		v->mbox = mb->id;
		v->user = mb->user;
		v->uidvalidity = mb->uidvalidity;
		v->recent_upto = v->recent_saved = mb->recent_uid;
		if (rescan(v, mb->highestmodseq) < 0) {
			free(v->e);
			free(v);
			return -EIO;
		}
		v->ring_pos = 0;
		v->next = views;
		views = v;
	} else {
		imap_view_sync(v);
	}
	if (v->sessions && !v->ring) {
		v->ring = malloc(IMAP_FLAG_RING * sizeof *v->ring);
		if (!v->ring)
			return -ENOMEM;
	}
	memset(sv, 0, sizeof *sv);
	sv->v = v;
	sv->next = v->sessions;
	v->sessions = c;
	v->nsess++;
	sv->uid_limit = v->n ? v->e[v->n - 1].uid + 1 : 1;
	if (sv->uid_limit < mb->uidnext && mb->highestmodseq == v->modseq)
		sv->uid_limit = mb->uidnext;
	sv->seen_gen = v->gen;
	sv->exists = v->n - v->ntomb;
	sv->ring_seen = v->ring_pos;
	sv->kw_told = v->nkw;           /* SELECT's FLAGS names them */
	/* \Recent: the messages no session has claimed belong to this one. */
	recent_claim(sv, v, sv->uid_limit, claim);
	cache_reset(sv);
	return 0;
}

void imap_view_close(struct conn *c)
{
	struct imap_sv *sv = &imap_of(c)->sv;
	struct imap_view *v = sv->v;
	struct conn **pc;

	if (!v)
		return;
	if (imap_of(c)->sub == IMAP_SUB_IDLE)
		imap_view_idle(c, 0);
	for (pc = &v->sessions; *pc; pc = &imap_of(*pc)->sv.next)
		if (*pc == c) {
			*pc = sv->next;
			break;
		}
	v->nsess--;
	memset(sv, 0, sizeof *sv);
	compact(v);
	if (v->sessions)
		return;
	/* The last session left: keep the view (without its flag ring) for the
	 * next SELECT, which then costs one look at the mailbox record. */
	free(v->ring);
	v->ring = NULL;
	v->used = ++view_clock;
	nkept++;
	if (v->gone)
		view_free(v);
	kept_trim();
}

void imap_view_own(struct conn *c, uint64_t lo, uint64_t hi)
{
	imap_of(c)->own_lo = lo;
	imap_of(c)->own_hi = hi;
}

/* Pending expunges for c (allowed now or not). */
static int expunges_pending(const struct conn *c)
{
	const struct imap_sv *sv = &imap_of(c)->sv;

	return sv->v->gen > sv->seen_gen;
}

/* New messages beyond what c was told. */
static int news_pending(const struct conn *c)
{
	const struct imap_sv *sv = &imap_of(c)->sv;
	const struct imap_view *v = sv->v;

	return v->n && v->e[v->n - 1].uid >= sv->uid_limit;
}

int imap_updates_pending(const struct conn *c)
{
	const struct imap_sv *sv = &imap_of(c)->sv;

	if (!sv->v)
		return 0;
	return expunges_pending(c) || news_pending(c) || sv->ring_seen != sv->v->ring_pos ||
	       sv->kw_told < sv->v->nkw || sv->kw_perm;
}

/* Format a message's flags from the store into buf. 0, or <0 if it is gone. */
static int flags_of(struct conn *c, uint32_t uid, char *buf, size_t cap)
{
	struct imap_sv *sv = &imap_of(c)->sv;
	struct store_msg m;
	int rc = store_msg_get(conn_env.store, sv->v->mbox, uid, &m);

	if (rc < 0)
		return rc;
	imap_flags_fmt(c, m.flags, buf, cap, imap_view_is_recent(c, uid));
	return 0;
}

/* EXPUNGE responses, highest first (each seq is valid when it is sent). 1 done. */
static int upd_expunge(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_sv *sv = &s->sv;
	struct imap_view *v = sv->v;
	struct imap_job *j = &s->job;
	uint32_t idx, seq = 0, i;

	idx = imap_view_lower(v, j->u_cursor);
	for (i = 0; i < idx; i++)
		seq += imap_view_visible(c, i);
	while (idx > 0) {
		idx--;
		const struct imap_view_ent *e = &v->e[idx];
		if (!imap_view_visible(c, idx))
			continue;
		if (e->gone && e->gone <= j->u_gen) {
			if (conn_printf(c, "* %" PRIu32 " EXPUNGE\r\n", seq) < 0)
				return 0;
			sv->exists--;
			if (imap_view_is_recent(c, e->uid))
				j->recent_gone = 1;
		}
		seq--;
		j->u_cursor = e->uid;
	}
	sv->seen_gen = j->u_gen;
	cache_reset(sv);
	compact(v);
	return 1;
}

/* Flag changes from the ring (or all flags when c fell behind). 1 done. */
static int upd_flags(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_sv *sv = &s->sv;
	struct imap_view *v = sv->v;
	char fl[IMAP_FLAGS_BUF];

	if (v->ring_pos - sv->ring_seen > IMAP_FLAG_RING) {
		/* Fell behind the ring: send the flags of every message instead. */
		sv->ring_seen = v->ring_pos;
		s->job.u_count = 1;
		s->job.u_cursor = 0;
	}
	while (s->job.u_count) {
		uint32_t idx = imap_view_lower(v, s->job.u_cursor);
		while (idx < v->n && (!imap_view_visible(c, idx) || v->e[idx].gone))
			idx++;
		if (idx >= v->n) {
			s->job.u_count = 0;
			break;
		}
		if (conn_out_room(c) < sizeof fl + 64)
			return 0;
		if (flags_of(c, v->e[idx].uid, fl, sizeof fl) == 0)
			conn_printf(c, "* %" PRIu32 " FETCH (UID %" PRIu32 " FLAGS (%s))\r\n", imap_view_seq(c, idx),
			            v->e[idx].uid, fl);
		if (v->e[idx].uid == UINT32_MAX)
			s->job.u_count = 0;
		s->job.u_cursor = v->e[idx].uid + 1;
	}
	while (sv->ring_seen != v->ring_pos) {
		uint32_t k = sv->ring_seen % IMAP_FLAG_RING, uid = v->ring[k].uid, idx;
		uint64_t ms = v->ring[k].modseq;
		if (ms >= s->own_lo && ms <= s->own_hi && s->own_hi) {
			sv->ring_seen++;
			continue;
		}
		idx = imap_view_lower(v, uid);
		if (idx < v->n && v->e[idx].uid == uid && imap_view_visible(c, idx) && !v->e[idx].gone &&
		    flags_of(c, uid, fl, sizeof fl) == 0) {
			if (conn_printf(c, "* %" PRIu32 " FETCH (UID %" PRIu32 " FLAGS (%s))\r\n",
			                imap_view_seq(c, idx), uid, fl) < 0)
				return 0;
		}
		sv->ring_seen++;
	}
	return 1;
}

int imap_updates_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_sv *sv = &s->sv;
	struct imap_job *j = &s->job;

	if (s->state != IMAP_SELECTED || !sv->v)
		return 1;
	for (;;) {
		switch (j->phase) {
		case UPD_START:
			if (sv->v->gone) {
				/* The mailbox was deleted under us: RFC 3501 lets us end the session. */
				if (conn_printf(c, "* BYE The selected mailbox was deleted\r\n") < 0)
					return 0;
				s->state = IMAP_LOGOUT;
				return 1;
			}
			j->phase = s->no_expunge ? UPD_EXISTS : UPD_EXPUNGE;
			j->u_cursor = UINT32_MAX;
			j->u_gen = sv->v->gen;
			j->u_count = 0;
			j->recent_gone = 0;
			continue;
		case UPD_EXPUNGE:
			if (expunges_pending(c) && !upd_expunge(c))
				return 0;
			j->phase = UPD_RECENT;
			continue;
		case UPD_RECENT:
			/* \Recent messages expunged: the new count (RFC 3501 7.3.2),
			 * unless EXISTS below brings one anyway */
			if (j->recent_gone && !news_pending(c) &&
			    conn_printf(c, "* %" PRIu32 " RECENT\r\n", imap_view_recent(c)) < 0)
				return 0;
			j->recent_gone = 0;
			j->phase = UPD_EXISTS;
			continue;
		case UPD_EXISTS:
			if (news_pending(c)) {
				struct imap_view *v = sv->v;
				uint32_t i = imap_view_lower(v, sv->uid_limit), add = 0, lim = v->e[v->n - 1].uid + 1;
				for (; i < v->n; i++)
					add += !v->e[i].gone || v->e[i].gone > sv->seen_gen;
				if (conn_out_room(c) < 64)
					return 0;
				sv->exists += add;
				recent_claim(sv, v, lim, !s->readonly);
				sv->uid_limit = lim;
				cache_reset(sv);
				conn_printf(c, "* %" PRIu32 " EXISTS\r\n* %" PRIu32 " RECENT\r\n", sv->exists,
				            imap_view_recent(c));
			}
			j->phase = UPD_KEYWORDS;
			continue;
		case UPD_KEYWORDS:
			if (!imap_kw_announce(c))
				return 0;
			j->phase = UPD_FLAGS;
			continue;
		case UPD_FLAGS:
			if (!upd_flags(c))
				return 0;
			j->phase = UPD_DONE;
			continue;
		default:
			s->own_lo = s->own_hi = 0;
			return 1;
		}
	}
}

#endif
