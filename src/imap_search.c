/*
 * imap_search — SEARCH and UID SEARCH (RFC 3501 6.4.4). The search keys
 * stay in the kept command line: they are checked once, then evaluated
 * for each message by a bounded recursive walk over the text (nesting
 * IMAP_NEST_MAX, at most IMAP_SEARCH_KEYS_MAX keys). The result line is
 * streamed, so a search matching 100,000 messages needs no buffer.
 * Text keys (FROM, SUBJECT, BODY, TEXT, HEADER ...) go to the MIME
 * module, which searches decoded text case-insensitively.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_int.h"
#include "log.h"
#include "mime.h"
#include "store_mbox.h"
#include "store_mime.h"
#include "store_msg.h"

#if CONFIG_IMAP

#define SEARCH_PER_CALL 512     /* messages evaluated per stream call */

/* What one evaluation needs about the message. */
struct sctx {
	struct conn *c;             /* NULL when check */
	const struct store_msg *m;
	uint32_t seq;
	unsigned keys;
	int check;                  /* syntax check only: no session, no message, no store */
	int err;                    /* a store error during evaluation */
};

static int key(struct imap_p *p, struct sctx *x);

/* A date "d-Mon-yyyy" (quoted or not) as the epoch day. */
static int sdate(struct imap_p *p, int64_t *day)
{
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct imap_str s;
	char buf[16], mon[4];
	int d, y;
	struct tm tm;

	if (imap_p_astring(p, &s) || imap_str_copy(&s, buf, sizeof buf))
		return imap_p_fail(p, "Invalid date");
	if (sscanf(buf, "%2d-%3s-%4d", &d, mon, &y) != 3)
		return imap_p_fail(p, "Invalid date");
	const char *m = strcasestr(mons, mon);
	if (!m || (m - mons) % 3 || d < 1 || d > 31 || y < 1900 || y > 9999)
		return imap_p_fail(p, "Invalid date");
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = d;
	tm.tm_mon = (int)((m - mons) / 3);
	tm.tm_year = y - 1900;
	*day = (int64_t)timegm(&tm) / 86400;
	return 0;
}

/* A text key: does the message contain s (where, field)? */
static int text_match(struct sctx *x, int where, const char *field, const struct imap_str *s)
{
	struct mime_needle nd;
	char buf[MIME_NEEDLE_MAX + 1];
	int rc;

	if (x->check)
		return 0;
	if (imap_str_copy(s, buf, sizeof buf) < 0 || mime_needle_init(&nd, buf, strlen(buf)) < 0)
		return 0;
	rc = store_mime_search(conn_env.store, imap_of(x->c)->sv.v->mbox, x->m->uid, where, field,
	                       field ? strlen(field) : 0, &nd);
	if (rc < 0) {
		if (rc != STORE_ENOTFOUND)
			x->err = rc;
		return 0;
	}
	return rc;
}

static int flag(struct sctx *x, uint32_t f)
{
	return !x->check && (x->m->flags & f) != 0;
}

/*
 * The day (epoch days, in the sender's zone as RFC 3501 asks) of the
 * message's Date: header, read through the MIME section renderer. 0, or -1
 * when there is none or it does not parse.
 */
static int sent_day(struct sctx *x, int64_t *day)
{
	static const char spec[] = "HEADER.FIELDS (DATE)";
	static const char mons[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char buf[256], mon[4];
	size_t n = 0;
	uint64_t total;
	int d, y;
	const char *p;
	struct tm tm;

	if (store_mime_section(conn_env.store, imap_of(x->c)->sv.v->mbox, x->m->uid, spec, sizeof spec - 1, 0, buf,
	                       sizeof buf - 1, &n, &total) < 0)
		return -1;
	buf[n] = '\0';
	p = strchr(buf, ':');
	if (!p)
		return -1;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p >= 'A' && *p <= 'z' && (p = strchr(p, ',')) != NULL)
		p++;            /* the optional day of the week */
	if (!p || sscanf(p, "%2d %3s %4d", &d, mon, &y) != 3)
		return -1;
	const char *m = strcasestr(mons, mon);
	if (!m || (m - mons) % 3 || d < 1 || d > 31 || y < 1900 || y > 9999)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = d;
	tm.tm_mon = (int)((m - mons) / 3);
	tm.tm_year = y - 1900;
	*day = (int64_t)timegm(&tm) / 86400;
	return 0;
}

/* One search key (and its arguments); returns 1/0 (match), or -1 on syntax errors. */
static int key(struct imap_p *p, struct sctx *x)
{
	static const struct {
		const char *name;
		uint32_t flag;
		int neg;
	} flags[] = {
		{ "ANSWERED", STORE_F_ANSWERED, 0 }, { "DELETED", STORE_F_DELETED, 0 },
		{ "DRAFT", STORE_F_DRAFT, 0 }, { "FLAGGED", STORE_F_FLAGGED, 0 }, { "SEEN", STORE_F_SEEN, 0 },
		{ "UNANSWERED", STORE_F_ANSWERED, 1 }, { "UNDELETED", STORE_F_DELETED, 1 },
		{ "UNDRAFT", STORE_F_DRAFT, 1 }, { "UNFLAGGED", STORE_F_FLAGGED, 1 }, { "UNSEEN", STORE_F_SEEN, 1 },
	};
	static const char *const hdrs[] = { "BCC", "CC", "FROM", "SUBJECT", "TO" };
	struct imap_str a, v;
	int r;

	if (++x->keys > IMAP_SEARCH_KEYS_MAX)
		return imap_p_fail(p, "Too many search keys"), -1;
	if (imap_p_peek(p) == '(') {
		if (imap_p_open(p))
			return -1;
		r = 1;
		do {
			int k = key(p, x);
			if (k < 0)
				return -1;
			r &= k;
		} while (imap_p_accept(p, ' '));
		return imap_p_close(p) ? -1 : r;
	}
	if (imap_p_peek(p) == '*' || (imap_p_peek(p) >= '0' && imap_p_peek(p) <= '9')) {
		if (imap_p_seqset(p, &a))
			return -1;
		return !x->check && imap_set_has(a.s, a.s + a.len, imap_of(x->c)->sv.exists, x->seq);
	}
	if (imap_p_atom(p, &a))
		return -1;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (imap_str_is(&a, flags[i].name))
			return flags[i].neg ? !x->check && !flag(x, flags[i].flag) : flag(x, flags[i].flag);
	if (imap_str_is(&a, "ALL"))
		return 1;
	if (imap_str_is(&a, "RECENT") || imap_str_is(&a, "NEW") || imap_str_is(&a, "OLD")) {
		int rec = !x->check && imap_view_is_recent(x->c, x->m->uid);
		if (imap_str_is(&a, "OLD"))
			return !rec;
		if (imap_str_is(&a, "NEW"))
			return rec && !flag(x, STORE_F_SEEN);
		return rec;
	}
	if (imap_str_is(&a, "NOT")) {
		if (imap_p_sp(p))
			return -1;
		r = key(p, x);
		return r < 0 ? -1 : !r;
	}
	if (imap_str_is(&a, "OR")) {
		int r1, r2;
		if (imap_p_sp(p) || (r1 = key(p, x)) < 0 || imap_p_sp(p) || (r2 = key(p, x)) < 0)
			return -1;
		return r1 || r2;
	}
	if (imap_str_is(&a, "UID")) {
		if (imap_p_sp(p) || imap_p_seqset(p, &v))
			return -1;
		return !x->check && imap_set_has(v.s, v.s + v.len, imap_view_maxuid(x->c), x->m->uid);
	}
	if (imap_str_is(&a, "KEYWORD") || imap_str_is(&a, "UNKEYWORD")) {
		char names[STORE_KW_MAX][STORE_KW_LEN + 1];
		unsigned n = 0;
		int has = 0;
		if (imap_p_sp(p) || imap_p_atom(p, &v))
			return -1;
		if (x->check)
			return 0;
		store_kw_get(conn_env.store, imap_of(x->c)->sv.v->mbox, names, &n);
		for (unsigned i = 0; i < n; i++)
			if (v.len == strlen(names[i]) && !strncasecmp(v.s, names[i], v.len))
				has = (x->m->flags >> (STORE_F_KW_SHIFT + i)) & 1;
		return imap_str_is(&a, "KEYWORD") ? has : !has;
	}
	if (imap_str_is(&a, "LARGER") || imap_str_is(&a, "SMALLER")) {
		uint64_t n;
		if (imap_p_sp(p) || imap_p_number64(p, &n))
			return -1;
		if (x->check)
			return 0;
		return imap_str_is(&a, "LARGER") ? x->m->size > n : x->m->size < n;
	}
	if (imap_str_is(&a, "BEFORE") || imap_str_is(&a, "ON") || imap_str_is(&a, "SINCE") ||
	    imap_str_is(&a, "SENTBEFORE") || imap_str_is(&a, "SENTON") || imap_str_is(&a, "SENTSINCE")) {
		int64_t day = 0, md;
		if (imap_p_sp(p) || sdate(p, &day))
			return -1;
		if (x->check)
			return 0;
		int sent = a.len > 4 && !strncasecmp(a.s, "SENT", 4);
		md = x->m->internaldate >= 0 ? x->m->internaldate / 86400 : (x->m->internaldate - 86399) / 86400;
		if (sent && sent_day(x, &md) < 0)
			return 0;       /* no usable Date: header: matches no SENT* key */
		const char *n = a.s + (sent ? 4 : 0);
		if (!strncasecmp(n, "BEFORE", 6))
			return md < day;
		if (!strncasecmp(n, "ON", 2))
			return md == day;
		return md >= day;
	}
	for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++)
		if (imap_str_is(&a, hdrs[i])) {
			if (imap_p_sp(p) || imap_p_astring(p, &v))
				return -1;
			char field[8];
			snprintf(field, sizeof field, "%s", hdrs[i]);
			/* addresses are matched as parsed too (RFC 3501: in the field's addresses) */
			return text_match(x, strcmp(field, "SUBJECT") ? MIME_IN_ADDR : MIME_IN_HEADER, field, &v);
		}
	if (imap_str_is(&a, "HEADER")) {
		struct imap_str f;
		char field[128];
		if (imap_p_sp(p) || imap_p_astring(p, &f) || imap_p_sp(p) || imap_p_astring(p, &v))
			return -1;
		if (imap_str_copy(&f, field, sizeof field) < 0)
			return imap_p_fail(p, "Header name too long"), -1;
		return text_match(x, MIME_IN_HEADER, field, &v);
	}
	if (imap_str_is(&a, "BODY") || imap_str_is(&a, "TEXT")) {
		if (imap_p_sp(p) || imap_p_astring(p, &v))
			return -1;
		return text_match(x, imap_str_is(&a, "BODY") ? MIME_IN_BODY : MIME_IN_TEXT, NULL, &v);
	}
	imap_p_fail(p, "Unknown search key");
	return -1;
}

/* Evaluate the whole key list (an implicit AND) for one message. 1/0, or -1. */
static int eval(struct conn *c, struct sctx *x)
{
	struct imap_job *j = &imap_of(c)->job;
	struct imap_p p;
	int r = 1;

	imap_p_init(&p, j->args, (size_t)(j->args_end - j->args));
	do {
		int k = key(&p, x);
		if (k < 0)
			return -1;
		r &= k;
	} while (imap_p_accept(&p, ' '));
	return p.p == p.end ? r : -1;
}

/* The SEARCH response, a message at a time. */
static int search_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_job *j = &s->job;
	struct imap_view *v = s->sv.v;
	int n = 0;

	if (!j->open) {
		if (conn_printf(c, "* SEARCH") < 0)
			return 0;
		j->open = 1;
		j->cur = 0;             /* next UID to look at */
	}
	for (;;) {
		uint32_t idx = imap_view_lower(v, j->cur);
		struct store_msg m;
		struct sctx x;
		while (idx < v->n && (!imap_view_visible(c, idx) || v->e[idx].gone))
			idx++;
		if (idx >= v->n)
			break;
		if (conn_out_room(c) < 16)
			return 0;
		if (n++ >= SEARCH_PER_CALL)
			return 0;
		j->cur = v->e[idx].uid + 1;
		if (store_msg_get(conn_env.store, v->mbox, v->e[idx].uid, &m) < 0)
			goto next;
		memset(&x, 0, sizeof x);
		x.c = c;
		x.m = &m;
		x.seq = imap_view_seq(c, idx);
		if (eval(c, &x) == 1)
			conn_printf(c, " %" PRIu32, j->uid ? m.uid : x.seq);
	next:
		if (v->e[idx].uid == UINT32_MAX)
			break;
	}
	if (conn_write(c, "\r\n", 2) < 0)
		return 0;
	return 1;
}

int imap_check_search(struct imap_p *p, struct imap_search_args *a)
{
	struct sctx x;
	struct imap_str cs;

	if (imap_p_sp(p))
		return p->err;
	if ((imap_p_peek(p) == 'C' || imap_p_peek(p) == 'c') && p->end - p->p > 8 &&
	    !strncasecmp(p->p, "CHARSET ", 8)) {
		p->p += 8;
		if (imap_p_astring(p, &cs) || imap_p_sp(p))
			return p->err;
		if (!imap_str_is(&cs, "US-ASCII") && !imap_str_is(&cs, "UTF-8"))
			return imap_p_no(p, "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
	}
	a->keys = p->p;
	memset(&x, 0, sizeof x);
	x.check = 1;
	do {
		if (key(p, &x) < 0)
			return p->err ? p->err : imap_p_fail(p, NULL);
	} while (imap_p_accept(p, ' '));
	if (!imap_p_eol(p))
		return imap_p_fail(p, "Unexpected text after the search keys");
	a->keys_end = p->end;
	return 0;
}

int imap_cmd_search(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);
	struct imap_search_args a;

	s->no_expunge = !s->job.uid;
	if (imap_check_search(p, &a)) {
		imap_reject(c, p);
		return 0;
	}
	s->job.args = a.keys;
	s->job.args_end = a.keys_end;
	s->job.open = 0;
	conn_keep_line(c);
	imap_job_start(c, search_stream);
	imap_done(c, "OK %sSEARCH completed", s->job.uid ? "UID " : "");
	return 0;
}

#endif
