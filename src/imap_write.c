/*
 * imap_write — the commands that change messages: STORE, EXPUNGE, UID
 * EXPUNGE, CLOSE, COPY, MOVE, APPEND (and FETCH's implicit \Seen). Each
 * checks its arguments, keeps the command line and queues itself for the
 * group commit; the tagged OK goes out only after the batch is durable.
 * APPEND streams its message literal into an unlinked temporary file in
 * the data directory (O_TMPFILE): the daemon never holds a message whole,
 * and the file is copied into the map inside the commit, a chunk at a
 * time. A spool file rather than a transaction open across poll turns:
 * LMDB has one writer, and a slow client must never hold it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "imap_int.h"
#include "log.h"
#include "store_batch.h"
#include "store_mbox.h"
#include "store_user.h"

#if CONFIG_IMAP

#define EXPUNGE_CHUNK 64        /* UIDs removed per store call */
#define COPYUID_MAX 200         /* bytes of each COPYUID set; longer: no COPYUID */

/* --- walking a set over the session's view (in the commit) ---------------- */

struct set_walk {
	struct conn *c;
	const char *pos, *end;
	uint32_t lo, hi, cur;
	int active, uid;
};

static void walk_init(struct set_walk *w, struct conn *c, const char *set, const char *end, int uid)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	w->pos = set;
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
			if (!imap_set_next(&w->pos, w->end, star, &w->lo, &w->hi))
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
			if (v->e[idx].gone)
				continue;
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
		if (idx == UINT32_MAX || v->e[idx].gone)
			continue;
		*uid = v->e[idx].uid;
		return 1;
	}
}

/* --- flags ---------------------------------------------------------------- */

static uint32_t system_flag(const struct imap_str *f)
{
	static const char *const names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };

	for (unsigned i = 0; i < 5; i++)
		if (imap_str_is(f, names[i]))
			return 1u << i;
	return 0;
}

/*
 * Parse a flag list (or, when allowed, flags separated by spaces). System
 * flags go into *flags; *kw counts keywords (their names stay in the line).
 */
static int flags_parse(struct imap_p *p, int paren_required, uint32_t *flags, unsigned *kw)
{
	struct imap_str f;
	int paren = imap_p_peek(p) == '(';

	*flags = 0;
	*kw = 0;
	if (paren_required && !paren)
		return imap_p_fail(p, "Expected a flag list");
	if (paren && imap_p_open(p))
		return p->err;
	if (paren && imap_p_accept(p, ')')) {
		p->depth--;
		return 0;
	}
	do {
		if (imap_p_flag(p, &f))
			return p->err;
		if (f.s[0] == '\\') {
			uint32_t b = system_flag(&f);
			if (!b && !imap_str_is(&f, "\\Recent"))
				return imap_p_fail(p, "Unknown system flag");
			*flags |= b;
		} else {
			if (f.len > STORE_KW_LEN)
				return imap_p_fail(p, "Keyword too long");
			(*kw)++;
		}
	} while (imap_p_accept(p, ' '));
	if (paren)
		return imap_p_close(p);
	return 0;
}

/* The keyword names of a checked flag list text into names. */
static unsigned keywords_of(const char *s, const char *end, char (*names)[STORE_KW_LEN + 1], unsigned max)
{
	struct imap_p p;
	struct imap_str f;
	unsigned n = 0;

	imap_p_init(&p, s, (size_t)(end - s));
	imap_p_accept(&p, '(');
	while (!p.err && p.p < p.end && n < max) {
		if (imap_p_peek(&p) == ')')
			break;
		if (imap_p_flag(&p, &f))
			break;
		if (f.s[0] != '\\' && f.len <= STORE_KW_LEN) {
			memcpy(names[n], f.s, f.len);
			names[n][f.len] = '\0';
			n++;
		}
		imap_p_accept(&p, ' ');
	}
	return n;
}

/* --- STORE --------------------------------------------------------------- */

int imap_cmd_store(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);
	struct imap_str set, item;
	uint32_t flags;
	unsigned kw;
	int mode = STORE_FLAGS_SET;
	const char *fl;

	s->no_expunge = !s->job.uid;
	if (imap_p_sp(p) || imap_p_seqset(p, &set) || imap_p_sp(p))
		goto bad;
	if (imap_p_accept(p, '+'))
		mode = STORE_FLAGS_ADD;
	else if (imap_p_accept(p, '-'))
		mode = STORE_FLAGS_DEL;
	if (imap_p_atom(p, &item))
		goto bad;
	if (imap_str_is(&item, "FLAGS"))
		s->silent = 0;
	else if (imap_str_is(&item, "FLAGS.SILENT"))
		s->silent = 1;
	else {
		imap_p_fail(p, "Expected FLAGS or FLAGS.SILENT");
		goto bad;
	}
	if (imap_p_sp(p))
		goto bad;
	fl = p->p;
	if (flags_parse(p, 0, &flags, &kw) || !imap_p_eol(p)) {
		imap_p_fail(p, "Unexpected text after the flags");
		goto bad;
	}
	if (s->readonly) {
		imap_done(c, "NO [READ-ONLY] The mailbox is open read-only (EXAMINE)");
		return 0;
	}
	s->job.set = set.s;
	s->job.set_end = set.s + set.len;
	s->job.args = fl;
	s->job.args_end = p->end;
	s->wr = WR_STORE;
	s->wr_flags = flags;
	s->wr_mode = (uint32_t)mode;
	s->wr_count = kw;
	conn_keep_line(c);
	commit_queue(c);
	return 0;
bad:
	imap_bad(c, p);
	return 0;
}

static int commit_flags(struct conn *c, struct store_batch *b)
{
	struct imap_sess *s = imap_of(c);
	char names[STORE_KW_MAX][STORE_KW_LEN + 1];
	struct set_walk w;
	uint32_t uid, flags = s->wr_flags, nf;
	uint64_t ms;
	int rc;

	if (s->wr_count) {
		uint32_t bits;
		unsigned n = keywords_of(s->job.args, s->job.args_end, names, STORE_KW_MAX);
		if (s->wr_mode == STORE_FLAGS_DEL) {
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
	walk_init(&w, c, s->job.set, s->job.set_end, s->job.uid);
	s->own_lo = s->own_hi = 0;
	while (walk_next(&w, &uid)) {
		rc = store_batch_flags(b, s->sv.v->mbox, uid, (int)s->wr_mode, flags, &nf, &ms);
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

static int commit_expunge(struct conn *c, struct store_batch *b, int uidset)
{
	struct imap_sess *s = imap_of(c);
	struct exp_arg a;
	int rc;

	memset(&a, 0, sizeof a);
	a.c = c;
	if (uidset) {
		a.set = s->job.set;
		a.set_end = s->job.set_end;
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
	s->job.set = set.s;
	s->job.set_end = set.s ? set.s + set.len : NULL;
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

static int copy_cmd(struct conn *c, struct imap_p *p, int move)
{
	struct imap_sess *s = imap_of(c);
	char name[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;
	struct imap_str set;
	int rc;

	if (imap_p_sp(p) || imap_p_seqset(p, &set)) {
		imap_bad(c, p);
		return 0;
	}
	if (imap_mbox_arg(c, p, name))
		return 0;
	if (!imap_p_eol(p)) {
		imap_p_fail(p, "Unexpected arguments");
		imap_bad(c, p);
		return 0;
	}
	if (move && s->readonly) {
		imap_done(c, "NO [READ-ONLY] The mailbox is open read-only (EXAMINE)");
		return 0;
	}
	rc = store_mbox_get(conn_env.store, s->user_id, name, &mb);
	if (rc == STORE_ENOTFOUND) {
		imap_done(c, "NO [TRYCREATE] %s: no such mailbox", move ? "MOVE" : "COPY");
		return 0;
	}
	if (rc < 0) {
		imap_store_no(c, rc, move ? "MOVE" : "COPY");
		return 0;
	}
	s->job.set = set.s;
	s->job.set_end = set.s + set.len;
	s->wr = move ? WR_MOVE : WR_COPY;
	s->wr_mbox = mb.id;
	s->wr_uidvalidity = mb.uidvalidity;
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

/* Copy (and for MOVE expunge) the set; the COPYUID text goes to s->done. */
static int commit_copy(struct conn *c, struct store_batch *b, int move)
{
	struct imap_sess *s = imap_of(c);
	char src[COPYUID_MAX], dst[COPYUID_MAX];
	uint32_t sl = 0, sr = 0, dl = 0, dr = 0, uid, nu, moved[EXPUNGE_CHUNK], n = 0, count = 0;
	struct set_walk w;
	int rc, full = 0;

	src[0] = dst[0] = '\0';
	if (s->wr_mbox == s->sv.v->mbox && move) {
		s->done[0] = '\0';
		return 0;       /* MOVE into the same mailbox: nothing to do */
	}
	walk_init(&w, c, s->job.set, s->job.set_end, s->job.uid);
	while (walk_next(&w, &uid)) {
		rc = store_batch_copy(b, s->sv.v->mbox, uid, s->wr_mbox, &nu);
		if (rc == STORE_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		count++;
		if (!full && (set_add(src, sizeof src, &sl, &sr, uid) || set_add(dst, sizeof dst, &dl, &dr, nu)))
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
	if (n && (rc = store_batch_expunge(b, s->sv.v->mbox, moved, n)) < 0)
		return rc;
	if (!full && count && !set_end(src, sizeof src, sl, sr) && !set_end(dst, sizeof dst, dl, dr))
		snprintf(s->done, sizeof s->done, "[COPYUID %" PRIu32 " %s %s] ", s->wr_uidvalidity, src, dst);
	else
		s->done[0] = '\0';
	return 0;
}

/* --- APPEND ------------------------------------------------------------------ */

/* "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be space-padded). 0 or -1. */
static int date_parse(const char *s, size_t len, int64_t *out)
{
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char buf[40];
	int d, y, H, M, S_, z;
	char mon[4], sign;
	struct tm tm;

	if (len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%2d-%3s-%4d %2d:%2d:%2d %c%4d", &d, mon, &y, &H, &M, &S_, &sign, &z) != 8)
		return -1;
	const char *m = strstr(mons, mon);
	if (!m || (m - mons) % 3 || strlen(mon) != 3 || d < 1 || d > 31 || y < 1900 || H > 23 || M > 59 ||
	    S_ > 60 || (sign != '+' && sign != '-') || z % 100 > 59 || z > 2359)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = d;
	tm.tm_mon = (int)((m - mons) / 3);
	tm.tm_year = y - 1900;
	tm.tm_hour = H;
	tm.tm_min = M;
	tm.tm_sec = S_;
	*out = (int64_t)timegm(&tm) - (sign == '+' ? 1 : -1) * (int64_t)((z / 100) * 3600 + (z % 100) * 60);
	return 0;
}

/* Refuse an APPEND; a non-synchronizing literal is on its way and is dropped. */
static int append_refuse(struct conn *c, uint64_t n, int plus)
{
	struct imap_sess *s = imap_of(c);

	if (plus) {
		s->sub = IMAP_SUB_DISCARD;
		s->app_size = n;
		s->app_got = 0;
		s->app_fd = -1;
		conn_expect_raw(c, n);
		if (n == 0)
			s->sub = IMAP_SUB_APPEND_EOL;
	}
	return 0;
}

int imap_append_start(struct conn *c, char *line, size_t len, uint64_t n, int plus)
{
	struct imap_sess *s = imap_of(c);
	char name[STORE_MBOX_NAME_MAX + 1];
	struct store_mbox mb;
	struct store_user u;
	struct imap_p p;
	struct imap_str tag, cmd, date;
	uint32_t flags = 0;
	unsigned kw = 0;
	const char *fl = NULL, *fl_end = NULL;
	int rc;

	memset(&s->job, 0, sizeof s->job);
	s->no_expunge = 0;
	s->app_date = (int64_t)time(NULL);
	imap_p_init(&p, line, len);
	imap_p_tag(&p, &tag);
	imap_p_sp(&p);
	imap_p_atom(&p, &cmd);
	if (s->state != IMAP_AUTH && s->state != IMAP_SELECTED) {
		imap_done(c, "BAD Log in first");
		return append_refuse(c, n, plus);
	}
	if (imap_mbox_arg(c, &p, name))
		return append_refuse(c, n, plus);
	if (imap_p_accept(&p, ' ')) {
		if (imap_p_peek(&p) == '(') {
			fl = p.p;
			if (flags_parse(&p, 1, &flags, &kw))
				goto bad;
			fl_end = p.p;
			if (imap_p_accept(&p, ' ') && imap_p_peek(&p) != '"')
				goto bad;
		}
		if (imap_p_peek(&p) == '"') {
			if (imap_p_string(&p, &date))
				goto bad;
			if (date_parse(date.s, date.len, &s->app_date) < 0) {
				imap_p_fail(&p, "Invalid date-time");
				goto bad;
			}
		}
	}
	if (!imap_p_eol(&p)) {
		imap_p_fail(&p, "Unexpected APPEND arguments");
		goto bad;
	}
	rc = store_mbox_get(conn_env.store, s->user_id, name, &mb);
	if (rc == STORE_ENOTFOUND) {
		imap_done(c, "NO [TRYCREATE] APPEND: no such mailbox");
		return append_refuse(c, n, plus);
	}
	if (rc < 0) {
		imap_store_no(c, rc, "APPEND");
		return append_refuse(c, n, plus);
	}
	if (n > imap_appendlimit()) {
		imap_done(c, "NO [TOOBIG] Message larger than the APPENDLIMIT (%" PRIu64 " octets)", imap_appendlimit());
		return append_refuse(c, n, plus);
	}
	if (store_user_get(conn_env.store, s->user, &u) == 0 &&
	    ((u.quota_bytes && u.used_bytes + n > u.quota_bytes) || (u.quota_msgs && u.used_msgs >= u.quota_msgs))) {
		imap_done(c, "NO [OVERQUOTA] APPEND: quota exceeded");
		return append_refuse(c, n, plus);
	}
	s->app_fd = open(conn_env.cfg->datadir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->app_fd < 0) {
		conn_log(c, LOG_LVL_ERR, "APPEND spool file in %s: %s", conn_env.cfg->datadir, strerror(errno));
		imap_done(c, "NO [SERVERBUG] Cannot spool the message");
		return append_refuse(c, n, plus);
	}
	s->wr_mbox = mb.id;
	s->wr_uidvalidity = mb.uidvalidity;
	s->wr_flags = flags;
	s->wr_count = 0;
	if (kw && fl) {
		/* The line is gone once the literal streams: the keyword names wait
		 * in s->done (NUL-separated) until the commit; the reply comes after. */
		char names[STORE_KW_MAX][STORE_KW_LEN + 1];
		unsigned nk = keywords_of(fl, fl_end, names, STORE_KW_MAX);
		size_t off = 0;
		for (unsigned i = 0; i < nk; i++) {
			size_t l = strlen(names[i]) + 1;
			if (off + l > sizeof s->done)
				break;
			memcpy(s->done + off, names[i], l);
			off += l;
			s->wr_count++;
		}
	}
	s->app_size = n;
	s->app_got = 0;
	s->sub = n ? IMAP_SUB_APPEND : IMAP_SUB_APPEND_EOL;
	conn_expect_raw(c, n);
	if (!plus)
		conn_printf(c, "+ Ready for literal data\r\n");
	return 0;
bad:
	imap_bad(c, &p);
	return append_refuse(c, n, plus);
}

int imap_append_raw(struct conn *c, const unsigned char *data, size_t len)
{
	struct imap_sess *s = imap_of(c);
	size_t off = 0;

	conn_set_timer(c, (int64_t)IMAP_TIMEOUT_S * 1000);
	if (s->sub == IMAP_SUB_APPEND && s->app_fd >= 0) {
		while (off < len) {
			ssize_t w = write(s->app_fd, data + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				conn_log(c, LOG_LVL_ERR, "APPEND spool write: %s", strerror(errno));
				close(s->app_fd);
				s->app_fd = -1;
				s->sub = IMAP_SUB_DISCARD;
				imap_done(c, "NO [SERVERBUG] Cannot spool the message (disk full?)");
				break;
			}
			off += (size_t)w;
		}
	}
	s->app_got += len;
	if (s->app_got >= s->app_size)
		s->sub = IMAP_SUB_APPEND_EOL;
	return 0;
}

void imap_append_eol(struct conn *c, size_t len)
{
	struct imap_sess *s = imap_of(c);

	s->sub = IMAP_SUB_NONE;
	if (s->app_fd < 0)
		return;         /* refused: the answer is out already */
	if (len != 0) {
		imap_append_abort(c);
		imap_done(c, "BAD Expected the end of the APPEND command (MULTIAPPEND is not supported)");
		return;
	}
	s->wr = WR_APPEND;
	commit_queue(c);
}

void imap_append_abort(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (s->app_fd > 0)
		close(s->app_fd);
	s->app_fd = -1;
}

/* --- group commit ------------------------------------------------------------- */

/*
 * The commit may run more than once (commit_run runs the batch again
 * without a failed part, or after growing the map), so it only reads the
 * session and rewrites outputs whole: own_lo/own_hi (reset first in
 * commit_flags), s->done for COPY/MOVE, wr_uid for APPEND; the spool file is
 * read with pread at absolute offsets. Everything else changes in
 * imap_write_committed.
 */

int imap_write_commit(struct conn *c, struct store_batch *b)
{
	struct imap_sess *s = imap_of(c);

	switch (s->wr) {
	case WR_SEEN:
	case WR_STORE:
		return commit_flags(c, b);
	case WR_EXPUNGE:
		return commit_expunge(c, b, s->job.uid && s->job.set);
	case WR_CLOSE:
		return commit_expunge(c, b, 0);
	case WR_COPY:
	case WR_MOVE:
		return commit_copy(c, b, s->wr == WR_MOVE);
	case WR_APPEND: {
		uint32_t flags = s->wr_flags, bits = 0;
		if (s->wr_count) {
			char names[STORE_KW_MAX][STORE_KW_LEN + 1];
			const char *q = s->done;
			unsigned n;
			for (n = 0; n < s->wr_count && n < STORE_KW_MAX; n++) {
				snprintf(names[n], sizeof names[n], "%.64s", q);
				q += strlen(q) + 1;
			}
			int rc = store_batch_kw_bits(b, s->wr_mbox, (const char (*)[STORE_KW_LEN + 1])names, n, &bits);
			if (rc)
				return rc;
			flags |= bits;
		}
		return store_batch_append_fd(b, s->wr_mbox, s->app_fd, s->app_size, flags, s->app_date, &s->wr_uid);
	}
	}
	return 0;
}

void imap_write_committed(struct conn *c, int err)
{
	struct imap_sess *s = imap_of(c);
	static const char *const what[] = { "", "FETCH", "STORE", "EXPUNGE", "CLOSE", "COPY", "MOVE", "APPEND" };
	int wr = s->wr;
	char copyuid[sizeof s->done];

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
		if (!s->silent) {
			struct imap_str set = { s->job.set, (size_t)(s->job.set_end - s->job.set), 0 };
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
		memcpy(copyuid, s->done, sizeof copyuid);
		imap_view_notify(s->wr_mbox);
		imap_done(c, "OK %sCOPY completed", copyuid);
		break;
	case WR_MOVE:
		if (s->done[0])
			conn_printf(c, "* OK %sMoved\r\n", s->done);
		imap_view_notify(s->wr_mbox);
		imap_done(c, "OK %sMOVE completed", s->job.uid ? "UID " : "");
		break;
	case WR_APPEND:
		imap_view_notify(s->wr_mbox);
		imap_done(c, "OK [APPENDUID %" PRIu32 " %" PRIu32 "] APPEND completed", s->wr_uidvalidity, s->wr_uid);
		break;
	}
}

#endif
