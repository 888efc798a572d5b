/*
 * imap_write — the commands that change messages: STORE, EXPUNGE, UID
 * EXPUNGE, CLOSE, COPY, MOVE; and the group commit of every write a
 * session queues (these, FETCH's implicit \Seen and APPEND, whose command
 * is in imap_append.c). Each command checks its arguments, keeps the
 * command line and queues itself for the group commit; the tagged OK goes
 * out only after the batch is durable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "commit.h"
#include "imap_int.h"
#include "log.h"
#include "store_batch.h"
#include "store_mbox.h"
#include "store_user.h"

#if CONFIG_IMAP

#define EXPUNGE_CHUNK 64        /* UIDs removed per store call */
#define IMAP_COPY_ROOM 65536    /* what a COPY asks of the store (records; the blobs are shared) */

/* --- walking a set over the session's view (in the commit) ---------------- */

struct set_walk {
	struct conn *c;
	const char *set, *pos, *end;
	uint32_t lo, hi, cur;
	int active, uid;
	int missed;             /* the set named a message expunged meanwhile */
};

static void walk_init(struct set_walk *w, struct conn *c, const char *set, const char *end, int uid)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	w->set = w->pos = set;
	w->end = end;
	w->uid = uid;
}

/* Next present message of the set in the view: its uid. 1, or 0 at the end. */
static int walk_next(struct set_walk *w, uint32_t *uid)
{
	struct imap_sess *s = imap_of(w->c);
	struct imap_view *v = s->sv.v;

	for (;;) {
		if (!w->active) {
			uint32_t star = w->uid ? imap_view_maxuid(w->c) : s->sv.exists;
			if (!imap_set_next(w->set, &w->pos, w->end, star, &w->lo, &w->hi))
				return 0;
			if (star == 0)
				continue;
			w->cur = w->lo;
			w->active = 1;
		}
		if (w->uid) {
			uint32_t idx = imap_view_lower(v, w->cur);
			while (idx < v->n && !imap_view_visible(w->c, idx))
				idx++;
			if (idx >= v->n || v->e[idx].uid > w->hi || w->cur > w->hi) {
				w->active = 0;
				continue;
			}
			*uid = v->e[idx].uid;
			if (*uid == UINT32_MAX || *uid >= w->hi)
				w->active = 0;
			else
				w->cur = *uid + 1;
			if (v->e[idx].gone) {
				w->missed = 1;
				continue;
			}
			return 1;
		}
		if (w->cur > w->hi || w->cur > s->sv.exists || w->cur == 0) {
			w->active = 0;
			continue;
		}
		uint32_t idx = imap_view_idx(w->c, w->cur);
		if (w->cur == w->hi)
			w->active = 0;
		else
			w->cur++;
		if (idx == UINT32_MAX)
			continue;
		if (v->e[idx].gone) {
			w->missed = 1;
			continue;
		}
		*uid = v->e[idx].uid;
		return 1;
	}
}

/* --- flags ---------------------------------------------------------------- */

_Static_assert(IMAP_KEYWORDS_MAX == STORE_KW_MAX && IMAP_KEYWORD_LEN == STORE_KW_LEN,
               "imap.h's keyword limits are the store's");
_Static_assert(STORE_F_SEEN == 1 && STORE_F_ANSWERED == 2 && STORE_F_FLAGGED == 4 && STORE_F_DELETED == 8 &&
               STORE_F_DRAFT == 16, "imap_p_flags returns the store's system flag bits");

/* The keyword names of a checked flag text into names (at most STORE_KW_MAX). */
static unsigned keywords_of(const char *s, const char *end, char (*names)[STORE_KW_LEN + 1])
{
	struct imap_str kw[STORE_KW_MAX];
	struct imap_p p;
	uint32_t sys;
	unsigned n;

	imap_p_init(&p, s, (size_t)(end - s));
	imap_p_flags(&p, 0, &sys, kw, STORE_KW_MAX, &n);
	if (n > STORE_KW_MAX)
		n = STORE_KW_MAX;
	for (unsigned i = 0; i < n; i++) {
		memcpy(names[i], kw[i].s, kw[i].len);
		names[i][kw[i].len] = '\0';
	}
	return n;
}

/* --- STORE --------------------------------------------------------------- */

int imap_check_store(struct imap_p *p, struct imap_store_args *a)
{
	struct imap_str item, kw[STORE_KW_MAX + 1];     /* one more: to know there are too many */

	memset(a, 0, sizeof *a);
	a->mode = STORE_FLAGS_SET;
	if (imap_p_sp(p) || imap_p_seqset(p, &a->set) || imap_p_sp(p))
		return p->err;
	if (imap_p_accept(p, '+'))
		a->mode = STORE_FLAGS_ADD;
	else if (imap_p_accept(p, '-'))
		a->mode = STORE_FLAGS_DEL;
	if (imap_p_atom(p, &item))
		return p->err;
	if (imap_str_is(&item, "FLAGS"))
		a->silent = 0;
	else if (imap_str_is(&item, "FLAGS.SILENT"))
		a->silent = 1;
	else
		return imap_p_fail(p, "Expected FLAGS or FLAGS.SILENT");
	if (imap_p_sp(p))
		return p->err;
	a->fl = p->p;
	if (imap_p_flags(p, 0, &a->flags, kw, STORE_KW_MAX + 1, &a->nkw) || !imap_p_eol(p))
		return imap_p_fail(p, "Unexpected text after the flags");
	a->fl_end = p->end;
	if (a->nkw > STORE_KW_MAX)      /* as APPEND: refused whole, never cut short */
		return imap_p_no(p, "[LIMIT] STORE: too many keywords (the limit is 24); nothing changed");
	return 0;
}

int imap_cmd_store(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);
	struct imap_wr_flags *w = &s->w.flags;
	struct imap_store_args a;

	s->no_expunge = !s->job.uid;
	if (imap_check_store(p, &a)) {
		imap_reject(c, p);
		return 0;
	}
	if (imap_seq_beyond(c, &a.set, "STORE"))
		return 0;
	if (s->readonly) {
		imap_done(c, "NO [READ-ONLY] The mailbox is open read-only (EXAMINE)");
		return 0;
	}
	memset(w, 0, sizeof *w);
	w->set = a.set.s;
	w->set_end = a.set.s + a.set.len;
	w->kw = a.fl;
	w->kw_end = a.fl_end;
	w->flags = a.flags;
	w->nkw = a.nkw;
	w->mode = a.mode;
	w->silent = a.silent;
	s->wr = WR_STORE;
	conn_keep_line(c);
	commit_queue(c);
	return 0;
}

/* STORE, FETCH's \Seen: change the flags of the set's messages. */
static int commit_flags(struct conn *c, struct store_batch *b)
{
	struct imap_sess *s = imap_of(c);
	const struct imap_wr_flags *wf = &s->w.flags;
	char names[STORE_KW_MAX][STORE_KW_LEN + 1];
	struct set_walk w;
	uint32_t uid, flags = wf->flags, nf;
	uint64_t ms;
	int rc;

	if (wf->nkw) {
		uint32_t bits;
		unsigned n = keywords_of(wf->kw, wf->kw_end, names);
		if (wf->mode == STORE_FLAGS_DEL) {
			/* removing: only keywords that exist already (no new list entries) */
			char have[STORE_KW_MAX][STORE_KW_LEN + 1];
			unsigned nh;
			if (store_kw_get(conn_env.store, s->sv.v->mbox, have, &nh) == 0)
				for (unsigned i = 0; i < nh; i++)
					for (unsigned k = 0; k < n; k++)
						if (!strcasecmp(have[i], names[k]))
							flags |= 1u << (STORE_F_KW_SHIFT + i);
		} else {
			rc = store_batch_kw_bits(b, s->sv.v->mbox, (const char (*)[STORE_KW_LEN + 1])names, n, &bits);
			if (rc)
				return rc;
			flags |= bits;
		}
	}
	walk_init(&w, c, wf->set, wf->set_end, s->job.uid);
	s->own_lo = s->own_hi = 0;
	while (walk_next(&w, &uid)) {
		rc = store_batch_flags(b, s->sv.v->mbox, uid, wf->mode, flags, &nf, &ms);
		if (rc == STORE_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		if (ms) {
			if (!s->own_lo)
				s->own_lo = ms;
			s->own_hi = ms;
		}
	}
	return 0;
}

/* --- EXPUNGE / CLOSE --------------------------------------------------------- */

struct exp_arg {
	struct conn *c;
	uint32_t uids[EXPUNGE_CHUNK];
	unsigned n;
	uint32_t next;
	const char *set, *set_end;
	uint32_t maxuid;
};

static int exp_cb(void *arg, const struct store_msg *m)
{
	struct exp_arg *a = arg;
	struct imap_sv *sv = &imap_of(a->c)->sv;
	uint32_t idx;

	a->next = m->uid + 1;
	if (!(m->flags & STORE_F_DELETED) || m->uid >= sv->uid_limit)
		return 0;
	idx = imap_view_lower(sv->v, m->uid);
	if (idx >= sv->v->n || sv->v->e[idx].uid != m->uid || !imap_view_visible(a->c, idx))
		return 0;
	if (a->set && !imap_set_has(a->set, a->set_end, a->maxuid, m->uid))
		return 0;
	a->uids[a->n++] = m->uid;
	return a->n == EXPUNGE_CHUNK ? 1 : 0;
}

/* EXPUNGE, UID EXPUNGE (only its set), CLOSE: remove the \Deleted messages. */
static int commit_expunge(struct conn *c, struct store_batch *b)
{
	struct imap_sess *s = imap_of(c);
	struct exp_arg a;
	int rc;

	memset(&a, 0, sizeof a);
	a.c = c;
	if (s->w.expunge.set) {
		a.set = s->w.expunge.set;
		a.set_end = s->w.expunge.set_end;
		a.maxuid = imap_view_maxuid(c);
	}
	for (;;) {
		uint32_t from = a.next;
		a.n = 0;
		rc = store_batch_walk_from(b, s->sv.v->mbox, from, exp_cb, &a);
		if (rc < 0)
			return rc;
		if (a.n && (rc = store_batch_expunge(b, s->sv.v->mbox, a.uids, a.n)) < 0)
			return rc;
		if (a.n < EXPUNGE_CHUNK)
			return 0;
	}
}

int imap_cmd_expunge(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);
	struct imap_str set = { NULL, 0, 0 };

	if (s->job.uid && (imap_p_sp(p) || imap_p_seqset(p, &set))) {
		imap_bad(c, p);
		return 0;
	}
	if (!imap_p_eol(p)) {
		imap_p_fail(p, "Unexpected arguments");
		imap_bad(c, p);
		return 0;
	}
	if (s->readonly) {
		imap_done(c, "NO [READ-ONLY] The mailbox is open read-only (EXAMINE)");
		return 0;
	}
	s->w.expunge.set = set.s;
	s->w.expunge.set_end = set.s ? set.s + set.len : NULL;
	s->wr = WR_EXPUNGE;
	conn_keep_line(c);
	commit_queue(c);
	return 0;
}

int imap_cmd_close(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);

	if (!imap_p_eol(p)) {
		imap_p_fail(p, "Unexpected arguments");
		imap_bad(c, p);
		return 0;
	}
	if (s->readonly) {
		imap_view_close(c);
		s->state = IMAP_AUTH;
		imap_done(c, "OK CLOSE completed");
		return 0;
	}
	s->w.expunge.set = s->w.expunge.set_end = NULL;
	s->wr = WR_CLOSE;
	commit_queue(c);
	return 0;
}

/* --- COPY / MOVE ----------------------------------------------------------- */

/* Append uid to a compact set text "a:b,c" in buf; 0 or -1 when full. */
static int set_add(char *buf, size_t cap, uint32_t *last, uint32_t *run, uint32_t uid)
{
	size_t n = strlen(buf);

	if (*last && uid == *last + 1) {
		*last = uid;
		(*run)++;
		return 0;
	}
	if (*run) {
		int k = snprintf(buf + n, cap - n, ":%" PRIu32, *last);
		if (k < 0 || (size_t)k >= cap - n)
			return -1;
		n += (size_t)k;
	}
	int k = snprintf(buf + n, cap - n, "%s%" PRIu32, n ? "," : "", uid);
	if (k < 0 || (size_t)k >= cap - n)
		return -1;
	*last = uid;
	*run = 0;
	return 0;
}

static int set_end(char *buf, size_t cap, uint32_t last, uint32_t run)
{
	size_t n = strlen(buf);

	if (run) {
		int k = snprintf(buf + n, cap - n, ":%" PRIu32, last);
		if (k < 0 || (size_t)k >= cap - n)
			return -1;
	}
	return 0;
}

int imap_check_copy(struct imap_p *p, struct imap_copy_args *a)
{
	if (imap_p_sp(p) || imap_p_seqset(p, &a->set) || imap_p_mbox(p, a->name))
		return p->err;
	if (!imap_p_eol(p))
		return imap_p_fail(p, "Unexpected arguments");
	return 0;
}

/* COPY (move 0), MOVE (move 1). */
static int copy_cmd(struct conn *c, struct imap_p *p, int move)
{
	struct imap_sess *s = imap_of(c);
	struct imap_wr_copy *w = &s->w.copy;
	struct imap_copy_args a;
	struct store_mbox mb;
	int rc;

	if (imap_check_copy(p, &a)) {
		imap_reject(c, p);
		return 0;
	}
	if (imap_seq_beyond(c, &a.set, move ? "MOVE" : "COPY"))
		return 0;
	if (move && s->readonly) {
		imap_done(c, "NO [READ-ONLY] The mailbox is open read-only (EXAMINE)");
		return 0;
	}
	rc = store_mbox_get(conn_env.store, s->user_id, a.name, &mb);
	if (rc == STORE_ENOTFOUND) {
		imap_done(c, "NO [TRYCREATE] %s: no such mailbox", move ? "MOVE" : "COPY");
		return 0;
	}
	if (rc < 0) {
		imap_store_no(c, rc, move ? "MOVE" : "COPY");
		return 0;
	}
	memset(w, 0, sizeof *w);
	w->set = a.set.s;
	w->set_end = a.set.s + a.set.len;
	w->mbox = mb.id;
	w->uidvalidity = mb.uidvalidity;
	s->wr = move ? WR_MOVE : WR_COPY;
	conn_keep_line(c);
	commit_queue(c);
	return 0;
}

int imap_cmd_copy(struct conn *c, struct imap_p *p)
{
	return copy_cmd(c, p, 0);
}

int imap_cmd_move(struct conn *c, struct imap_p *p)
{
	return copy_cmd(c, p, 1);
}

static int first_uid_cb(void *arg, const struct store_msg *m)
{
	*(uint32_t *)arg = m->uid;
	return 1;
}

/* store_batch_copy said STORE_ENOTFOUND: is message uid of mbox still there
 * (then the target mailbox is the one gone)? */
static int msg_present(struct store_batch *b, uint32_t mbox, uint32_t uid)
{
	uint32_t first = 0;

	store_batch_walk_from(b, mbox, uid, first_uid_cb, &first);
	return first == uid;
}

/* Copy (and for MOVE expunge) the set; the COPYUID goes to s->w.copy. */
static int commit_copy(struct conn *c, struct store_batch *b, int move)
{
	struct imap_sess *s = imap_of(c);
	struct imap_wr_copy *wc = &s->w.copy;
	uint32_t sl = 0, sr = 0, uid, nu, moved[EXPUNGE_CHUNK], n = 0, count = 0;
	struct set_walk w;
	int rc, full = 0;

	wc->src[0] = '\0';
	wc->dst_lo = wc->dst_hi = 0;
	if (wc->mbox == s->sv.v->mbox && move)
		return 0;       /* MOVE into the same mailbox: nothing to do */
	if (!move && (rc = store_batch_room(b, IMAP_COPY_ROOM)) != 0)
		return rc;      /* a full store keeps its reserve for deletions (MOVE frees as it adds) */
	walk_init(&w, c, wc->set, wc->set_end, s->job.uid);
	while (walk_next(&w, &uid)) {
		rc = store_batch_copy(b, s->sv.v->mbox, uid, wc->mbox, &nu);
		if (rc == STORE_ENOTFOUND && msg_present(b, s->sv.v->mbox, uid))
			return rc;              /* the target mailbox was deleted meanwhile */
		if (rc == STORE_ENOTFOUND && !s->job.uid)
			return -ESTALE;         /* expunged, the view not yet synced */
		if (rc == STORE_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		count++;
		if (wc->dst_lo && nu != wc->dst_hi + 1)
			full = 1;       /* not in a row: cannot happen inside one part */
		if (!wc->dst_lo)
			wc->dst_lo = nu;
		wc->dst_hi = nu;
		if (!full && set_add(wc->src, sizeof wc->src, &sl, &sr, uid))
			full = 1;
		if (move) {
			moved[n++] = uid;
			if (n == EXPUNGE_CHUNK) {
				if ((rc = store_batch_expunge(b, s->sv.v->mbox, moved, n)) < 0)
					return rc;
				n = 0;
			}
		}
	}
	if (w.missed)
		return -ESTALE;         /* as Dovecot: nothing copied (RFC 2180 4.4.1 lets us choose) */
	if (n && (rc = store_batch_expunge(b, s->sv.v->mbox, moved, n)) < 0)
		return rc;
	if (full || !count || set_end(wc->src, sizeof wc->src, sl, sr))
		wc->src[0] = '\0';
	return 0;
}

/* "[COPYUID v src dst] " for a committed COPY or MOVE, or "". */
static void copyuid_fmt(const struct imap_wr_copy *wc, char *buf, size_t cap)
{
	if (!wc->src[0])
		buf[0] = '\0';
	else if (wc->dst_lo == wc->dst_hi)
		snprintf(buf, cap, "[COPYUID %" PRIu32 " %s %" PRIu32 "] ", wc->uidvalidity, wc->src, wc->dst_lo);
	else
		snprintf(buf, cap, "[COPYUID %" PRIu32 " %s %" PRIu32 ":%" PRIu32 "] ", wc->uidvalidity, wc->src,
		         wc->dst_lo, wc->dst_hi);
}

/* --- group commit ------------------------------------------------------------- */

/*
 * The commit may run more than once (commit_run runs the batch again
 * without a failed part, or after growing the map), so it only reads the
 * session and rewrites outputs whole: own_lo/own_hi (reset first in
 * commit_flags), the COPYUID in s->w.copy, the UID in s->w.append; the
 * spool file is read with pread at absolute offsets. Everything else
 * changes in imap_write_committed.
 */
int imap_write_commit(struct conn *c, struct store_batch *b)
{
	struct imap_sess *s = imap_of(c);

	switch (s->wr) {
	case WR_SEEN:
	case WR_STORE:
		return commit_flags(c, b);
	case WR_EXPUNGE:
	case WR_CLOSE:
		return commit_expunge(c, b);
	case WR_COPY:
	case WR_MOVE:
		return commit_copy(c, b, s->wr == WR_MOVE);
	case WR_APPEND:
		return imap_append_commit(c, b);
	}
	return 0;
}

void imap_write_committed(struct conn *c, int err)
{
	struct imap_sess *s = imap_of(c);
	static const char *const what[] = { "", "FETCH", "STORE", "EXPUNGE", "CLOSE", "COPY", "MOVE", "APPEND" };
	int wr = s->wr;
	char copyuid[2 * IMAP_COPYUID_MAX];

	if (err)
		s->own_lo = s->own_hi = 0;     /* the modseqs commit_flags noted were not committed */
	if (err == STORE_EBUSY && s->wr_retries < IMAP_COMMIT_RETRIES) {
		/* The store was busy (e.g. its readers table full): run the write
		 * again in a moment (the line and the spool file are still here). */
		s->wr_retries++;
		conn_hold(c, 1);
		conn_set_timer(c, 1);
		return;
	}
	s->wr = WR_NONE;
	s->wr_retries = 0;
	if (wr == WR_APPEND)
		imap_append_abort(c);
	if (err == -ESTALE) {
		/* COPY, MOVE naming messages expunged meanwhile: Dovecot's answer */
		imap_done(c, "NO [EXPUNGEISSUED] Some of the requested messages no longer exist");
		return;
	}
	if (err) {
		s->no_expunge = 1;
		imap_store_no(c, err, what[wr]);
		return;
	}
	if (s->state == IMAP_SELECTED)
		imap_view_sync(s->sv.v);
	switch (wr) {
	case WR_SEEN:
		imap_fetch_after_seen(c);
		break;
	case WR_STORE:
		if (!s->w.flags.silent) {
			struct imap_str set = { s->w.flags.set, (size_t)(s->w.flags.set_end - s->w.flags.set), 0 };
			imap_fetch_flags_job(c, &set);
			c->flags &= ~(unsigned)CONN_F_KEEP;
		}
		imap_done(c, "OK %sSTORE completed", s->job.uid ? "UID " : "");
		break;
	case WR_EXPUNGE:
		imap_done(c, "OK %sEXPUNGE completed", s->job.uid ? "UID " : "");
		break;
	case WR_CLOSE:
		imap_view_close(c);
		s->state = IMAP_AUTH;
		imap_done(c, "OK CLOSE completed");
		break;
	case WR_COPY:
	case WR_MOVE:
		if (!s->w.copy.dst_lo && !(s->w.copy.mbox == s->sv.v->mbox && wr == WR_MOVE)) {
			imap_done(c, "OK No messages found");   /* Dovecot's words */
			break;
		}
		copyuid_fmt(&s->w.copy, copyuid, sizeof copyuid);
		imap_view_notify(s->w.copy.mbox);
		if (wr == WR_COPY) {
			imap_done(c, "OK %sCOPY completed", copyuid);
			break;
		}
		if (copyuid[0])
			conn_printf(c, "* OK %sMoved\r\n", copyuid);
		imap_done(c, "OK %sMOVE completed", s->job.uid ? "UID " : "");
		break;
	case WR_APPEND:
		imap_append_committed(c);
		break;
	}
}

#endif
