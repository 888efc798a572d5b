/*
 * imap_append — APPEND (RFC 3501 6.3.11, with LITERAL+ and APPENDLIMIT).
 *
 * The command line up to the message literal is checked and the target
 * looked up when the line arrives (imap_cmd_append; the dispatcher hands
 * it over because the table marks APPEND CF_LITERAL); the message literal
 * then streams in raw mode into an unlinked temporary file in the data
 * directory (O_TMPFILE): the daemon never holds a message whole, and the
 * file is copied into the map inside the group commit (imap_write.c), a
 * chunk at a time. A spool file rather than a transaction open across poll
 * turns: LMDB has one writer, and a slow client must never hold it.
 *
 * The keyword names wait in the same file, behind the message: the line
 * is gone once the literal streams, and keeping up to IMAP_KEYWORDS_MAX
 * names of IMAP_KEYWORD_LEN bytes in every session would cost 1.5 KiB of
 * RAM per connection. The session keeps their count only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "imap_int.h"
#include "log.h"
#include "store_batch.h"
#include "store_mbox.h"
#include "store_user.h"

#if CONFIG_IMAP

#define STR_(x) #x
#define STR(x) STR_(x)

/* One keyword name in the spool file (and in the commit). */
typedef char kw_name[IMAP_KEYWORD_LEN + 1];

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

int imap_check_append(struct imap_p *p, struct imap_append_args *a)
{
	struct imap_str kw[IMAP_KEYWORDS_MAX + 1], date;

	memset(a, 0, sizeof *a);
	if (imap_p_mbox(p, a->name))
		return p->err;
	if (imap_p_accept(p, ' ')) {
		if (imap_p_peek(p) == '(') {
			if (imap_p_flags(p, 1, &a->flags, kw, IMAP_KEYWORDS_MAX + 1, &a->nkw))
				return p->err;
			if (imap_p_accept(p, ' ') && imap_p_peek(p) != '"')
				return imap_p_fail(p, NULL);
		}
		if (imap_p_peek(p) == '"') {
			if (imap_p_string(p, &date))
				return p->err;
			if (date_parse(date.s, date.len, &a->date) < 0)
				return imap_p_fail(p, "Invalid date-time");
			a->has_date = 1;
		}
	}
	if (!imap_p_eol(p))
		return imap_p_fail(p, "Unexpected APPEND arguments");
	/* Keywords past the store's limit would be lost: refuse them whole. */
	if (a->nkw > IMAP_KEYWORDS_MAX)
		return imap_p_no(p, "[LIMIT] APPEND: too many keywords (the limit is " STR(IMAP_KEYWORDS_MAX) ")");
	for (unsigned i = 0; i < a->nkw; i++) {
		memcpy(a->kw[i], kw[i].s, kw[i].len);
		a->kw[i][kw[i].len] = '\0';
	}
	return 0;
}

int imap_append_drop(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (s->lit.plus) {
		s->sub = IMAP_SUB_DISCARD;
		s->spool.size = s->lit.n;
		s->spool.got = 0;
		s->spool.fd = -1;
		conn_expect_raw(c, s->lit.n);
		if (s->lit.n == 0)
			s->sub = IMAP_SUB_APPEND_EOL;
	}
	return 0;
}

int imap_cmd_append(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);
	struct imap_wr_append *w = &s->w.append;
	uint64_t n = s->lit.n;
	struct imap_append_args a;
	struct store_mbox mb;
	struct store_user u;
	int rc;

	if (imap_check_append(p, &a)) {
		imap_reject(c, p);
		return imap_append_drop(c);
	}
	rc = store_mbox_get(conn_env.store, s->user_id, a.name, &mb);
	if (rc == STORE_ENOTFOUND) {
		imap_done(c, "NO [TRYCREATE] APPEND: no such mailbox");
		return imap_append_drop(c);
	}
	if (rc < 0) {
		imap_store_no(c, rc, "APPEND");
		return imap_append_drop(c);
	}
	if (n > imap_appendlimit()) {
		imap_done(c, "NO [TOOBIG] Message larger than the APPENDLIMIT (%" PRIu64 " octets)", imap_appendlimit());
		return imap_append_drop(c);
	}
	if (store_user_get(conn_env.store, s->user, &u) == 0 &&
	    ((u.quota_bytes && u.used_bytes + n > u.quota_bytes) || (u.quota_msgs && u.used_msgs >= u.quota_msgs))) {
		imap_done(c, "NO [OVERQUOTA] APPEND: quota exceeded");
		return imap_append_drop(c);
	}
	s->spool.fd = open(conn_env.cfg->datadir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->spool.fd >= 0 && a.nkw &&
	    pwrite(s->spool.fd, a.kw, a.nkw * sizeof(kw_name), (off_t)n) != (ssize_t)(a.nkw * sizeof(kw_name))) {
		int e = errno ? errno : EIO;
		close(s->spool.fd);
		s->spool.fd = -1;
		errno = e;
	}
	if (s->spool.fd < 0) {
		int e = errno;
		conn_log(c, LOG_LVL_ERR, "APPEND spool file in %s: %s", conn_env.cfg->datadir, strerror(e));
		if (e == ENOSPC || e == EDQUOT)
			imap_done(c, "NO [LIMIT] APPEND: the mail store is full (its disk has no room)");
		else
			imap_done(c, "NO [SERVERBUG] Cannot spool the message");
		return imap_append_drop(c);
	}
	memset(w, 0, sizeof *w);
	w->mbox = mb.id;
	w->uidvalidity = mb.uidvalidity;
	w->flags = a.flags;
	w->nkw = a.nkw;
	w->date = a.has_date ? a.date : (int64_t)time(NULL);
	s->spool.size = n;
	s->spool.got = 0;
	s->sub = n ? IMAP_SUB_APPEND : IMAP_SUB_APPEND_EOL;
	conn_expect_raw(c, n);
	if (!s->lit.plus)
		conn_printf(c, "+ Ready for literal data\r\n");
	return 0;
}

int imap_append_raw(struct conn *c, const unsigned char *data, size_t len)
{
	struct imap_sess *s = imap_of(c);
	size_t off = 0;

	conn_set_timer(c, imap_timeout_ms());
	if (s->sub == IMAP_SUB_APPEND && s->spool.fd >= 0) {
		while (off < len) {
			ssize_t w = write(s->spool.fd, data + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int e = errno;
				conn_log(c, LOG_LVL_ERR, "APPEND spool write: %s", strerror(e));
				close(s->spool.fd);
				s->spool.fd = -1;
				s->sub = IMAP_SUB_DISCARD;
				if (e == ENOSPC || e == EDQUOT)
					imap_done(c, "NO [LIMIT] APPEND: the mail store is full (its disk has no room)");
				else
					imap_done(c, "NO [UNAVAILABLE] APPEND: cannot take the message in now; try again later");
				break;
			}
			off += (size_t)w;
		}
	}
	s->spool.got += len;
	if (s->spool.got >= s->spool.size)
		s->sub = s->toolong ? IMAP_SUB_TOOLONG : IMAP_SUB_APPEND_EOL;
	return 0;
}

void imap_append_eol(struct conn *c, size_t len)
{
	struct imap_sess *s = imap_of(c);

	s->sub = IMAP_SUB_NONE;
	if (s->spool.fd < 0)
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

	if (s->spool.fd > 0)    /* 0: a session closed before its greeting (zeroed) */
		close(s->spool.fd);
	s->spool.fd = -1;
}

int imap_append_commit(struct conn *c, struct store_batch *b)
{
	struct imap_sess *s = imap_of(c);
	struct imap_wr_append *w = &s->w.append;
	uint32_t flags = w->flags, bits = 0;

	if (w->nkw) {
		kw_name names[IMAP_KEYWORDS_MAX];
		size_t len = w->nkw * sizeof(kw_name);
		ssize_t got = pread(s->spool.fd, names, len, (off_t)s->spool.size);
		int rc;
		if (got != (ssize_t)len)
			return got < 0 ? -errno : -EIO;
		rc = store_batch_kw_bits(b, w->mbox, (const char (*)[STORE_KW_LEN + 1])names, w->nkw, &bits);
		if (rc)
			return rc;
		flags |= bits;
	}
	return store_batch_append_fd(b, w->mbox, s->spool.fd, s->spool.size, flags, w->date, &w->uid);
}

void imap_append_committed(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	imap_view_notify(s->w.append.mbox);
	imap_done(c, "OK [APPENDUID %" PRIu32 " %" PRIu32 "] APPEND completed", s->w.append.uidvalidity,
	          s->w.append.uid);
}

#endif
