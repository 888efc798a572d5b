/*
 * imap_reply — how a command's reply goes out. A command answers by
 * setting its tagged completion (imap_done and the helpers for parser and
 * store errors) and, when it has responses of its own to stream (FETCH,
 * SEARCH, LIST), by starting a job with its body stream. The connection
 * then calls imap_stream as the socket drains: the body, then the untagged
 * updates the command may carry (imap_view.c), then the tagged completion.
 * Flags are formatted here for FETCH responses and updates alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "imap_int.h"
#include "log.h"
#include "store_mbox.h"

#if CONFIG_IMAP

void imap_job_start(struct conn *c, int (*body)(struct conn *c))
{
	struct imap_sess *s = imap_of(c);

	s->job.kind = body ? JOB_BODY : JOB_UPDATES;
	s->job.body = body;
	s->job.phase = 0;
	c->flags |= CONN_F_STREAMING;
}

void imap_done(struct conn *c, const char *fmt, ...)
{
	struct imap_sess *s = imap_of(c);
	size_t n;
	va_list ap;

	n = (size_t)snprintf(s->done, sizeof s->done, "%s ", s->tag);
	if (n >= sizeof s->done)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->done + n, sizeof s->done - n - 2, fmt, ap);
	va_end(ap);
	strcat(s->done, "\r\n");
	if (s->job.kind == JOB_NONE)
		imap_job_start(c, NULL);
}

void imap_bad(struct conn *c, const struct imap_p *p)
{
	imap_of(c)->no_expunge = 1;
	imap_done(c, "BAD %s", p->msg ? p->msg : "Syntax error");
}

void imap_reject(struct conn *c, const struct imap_p *p)
{
	if (p->err == -EPERM)
		imap_done(c, "NO %s", p->msg);
	else
		imap_bad(c, p);
}

void imap_store_no(struct conn *c, int err, const char *what)
{
	switch (err) {
	case STORE_ENOTFOUND:
		imap_done(c, "NO [NONEXISTENT] %s: no such mailbox", what);
		break;
	case STORE_EEXIST:
		imap_done(c, "NO [ALREADYEXISTS] %s: mailbox already exists", what);
		break;
	case STORE_EQUOTA:
		imap_done(c, "NO [OVERQUOTA] %s: quota exceeded", what);
		break;
	case STORE_ETOOBIG:
		imap_done(c, "NO [TOOBIG] %s: message too large", what);
		break;
	case STORE_EINVAL:
		imap_done(c, "NO [CANNOT] %s: not possible", what);
		break;
	case STORE_EBUSY:
		imap_done(c, "NO [UNAVAILABLE] %s: the store is busy; try again", what);
		break;
	case STORE_ELIMIT:
		imap_done(c, "NO [LIMIT] %s: too many keywords in the mailbox (the limit is %d); nothing changed", what,
		          STORE_KW_MAX);
		break;
	case STORE_EFULL:
	case -ENOSPC:
	case -EDQUOT:
		conn_log(c, LOG_LVL_WARN, "%s: %s", what, store_strerror(err));
		imap_done(c, "NO [LIMIT] %s: the mail store is full; delete some mail to make room", what);
		break;
	case -EIO:
	case -EAGAIN:
	case -ENOMEM:
	case -EINTR:
		conn_log(c, LOG_LVL_ERR, "%s: %s", what, store_strerror(err));
		imap_done(c, "NO [UNAVAILABLE] %s: the mail store failed (%s); try again later", what,
		          store_strerror(err));
		break;
	default:
		conn_log(c, LOG_LVL_ERR, "%s: %s", what, store_strerror(err));
		imap_done(c, "NO [SERVERBUG] %s: %s", what, store_strerror(err));
	}
}

/* The tagged reply. 1 when written. */
static int tagged_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);

	if (conn_printf(c, "%s", s->done) < 0)
		return 0;
	s->job.kind = JOB_NONE;
	s->no_expunge = 0;
	if (s->state == IMAP_LOGOUT)
		conn_close_after(c);
	return 1;
}

int imap_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	int rc;

	if (s->state != IMAP_NOTAUTH)   /* before login the deadline is absolute (login_timer) */
		conn_set_timer(c, imap_timeout_ms());
	for (int rounds = 0; rounds < 8; rounds++) {
		switch (s->job.kind) {
		case JOB_BODY:
			rc = s->job.body(c);
			if (rc != 1)
				return rc;
			s->job.kind = JOB_UPDATES;
			s->job.phase = 0;
			continue;
		case JOB_UPDATES:
			rc = imap_updates_stream(c);
			if (rc == 1 && s->sub == IMAP_SUB_IDLE && !s->idle_done) {
				s->job.kind = JOB_NONE;    /* IDLE goes on */
				return 1;
			}
			if (rc == 1) {
				s->job.kind = JOB_TAGGED;
				continue;
			}
			return rc;
		case JOB_TAGGED:
			if (s->idle_done) {
				s->idle_done = 0;
				s->sub = IMAP_SUB_NONE;
			}
			return tagged_stream(c);
		default:
			return 1;
		}
	}
	return 0;
}

size_t imap_flags_fmt(struct conn *c, uint32_t flags, char *buf, size_t cap, int recent)
{
	static const char *const sys[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 5; i++)
		if (flags & (1u << i))
			n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? " " : "", sys[i]);
	if (recent && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "%s\\Recent", n ? " " : "");
	if (flags >> STORE_F_KW_SHIFT && imap_of(c)->sv.v) {
		char names[STORE_KW_MAX][STORE_KW_LEN + 1];
		unsigned nk;
		if (store_kw_get(conn_env.store, imap_of(c)->sv.v->mbox, names, &nk) == 0)
			for (unsigned i = 0; i < nk; i++)
				if (flags & (1u << (STORE_F_KW_SHIFT + i)) && n < cap)
					n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "", names[i]);
	}
	if (n >= cap) {
		n = cap - 1;
		buf[n] = '\0';
	}
	return n;
}

void imap_flag_list(uint32_t mbox, char *buf, size_t cap, int perm, unsigned *nkw)
{
	char names[STORE_KW_MAX][STORE_KW_LEN + 1];
	unsigned nk = 0;
	size_t n;

	n = (size_t)snprintf(buf, cap, "\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	if (store_kw_get(conn_env.store, mbox, names, &nk) < 0)
		nk = 0;
	for (unsigned i = 0; i < nk && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, " %s", names[i]);
	if (perm && nk < STORE_KW_MAX && n < cap)
		snprintf(buf + n, cap - n, " \\*");
	if (nkw)
		*nkw = nk;
}

int imap_kw_announce(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_sv *sv = &s->sv;
	char fl[IMAP_FLAGS_BUF];
	unsigned nk;

	if (!sv->v)
		return 1;
	if (!sv->kw_perm) {
		if (sv->kw_told >= sv->v->nkw)
			return 1;
		imap_flag_list(sv->v->mbox, fl, sizeof fl, 0, &nk);
		if (conn_printf(c, "* FLAGS (%s)\r\n", fl) < 0)
			return 0;
		sv->kw_told = nk;
		sv->kw_perm = !s->readonly;      /* EXAMINE: PERMANENTFLAGS () stays true */
	}
	if (sv->kw_perm) {
		imap_flag_list(sv->v->mbox, fl, sizeof fl, 1, NULL);
		if (conn_printf(c, "* OK [PERMANENTFLAGS (%s)] Flags permitted\r\n", fl) < 0)
			return 0;
		sv->kw_perm = 0;
	}
	return 1;
}

#endif
