/*
 * imap_fetch — FETCH and UID FETCH (and the FETCH responses of STORE),
 * streamed message by message and item by item: a literal is sent in
 * chunks straight from the store, so neither a big message nor a big
 * sequence set is ever held in memory. The item list stays in the kept
 * command line and is re-read for each message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commit.h"
#include "imap_int.h"
#include "log.h"
#include "mime.h"
#include "store_batch.h"
#include "store_mime.h"
#include "store_msg.h"

#if CONFIG_IMAP

enum {
	FI_FLAGS, FI_UID, FI_INTERNALDATE, FI_SIZE, FI_ENVELOPE, FI_BODY, FI_BODYSTRUCTURE,
	FI_SECTION,     /* BODY[...] / BODY.PEEK[...] / RFC822 / RFC822.HEADER / RFC822.TEXT */
};

struct fitem {
	int kind;
	const char *name;           /* response name for RFC822*, else NULL */
	const char *spec;           /* section spec text (between the brackets) */
	size_t speclen;
	int peek;
	int partial;
	uint32_t start, len;
};

#define J_PREFIX 1              /* job.flags: the current item's name is sent */

/* Parse one fetch item at p. 0 or -EINVAL. */
static int item_parse(struct imap_p *p, struct fitem *it)
{
	struct imap_str a;
	const char *s = p->p;

	memset(it, 0, sizeof *it);
	/* the name: letters, digits, '.' */
	while (p->p < p->end && ((*p->p >= 'A' && *p->p <= 'Z') || (*p->p >= 'a' && *p->p <= 'z') ||
	                         (*p->p >= '0' && *p->p <= '9') || *p->p == '.'))
		p->p++;
	a.s = s;
	a.len = (size_t)(p->p - s);
	a.q = 0;
	if (!a.len)
		return imap_p_fail(p, "Expected a FETCH item");
	if (imap_str_is(&a, "FLAGS"))
		it->kind = FI_FLAGS;
	else if (imap_str_is(&a, "UID"))
		it->kind = FI_UID;
	else if (imap_str_is(&a, "INTERNALDATE"))
		it->kind = FI_INTERNALDATE;
	else if (imap_str_is(&a, "RFC822.SIZE"))
		it->kind = FI_SIZE;
	else if (imap_str_is(&a, "ENVELOPE"))
		it->kind = FI_ENVELOPE;
	else if (imap_str_is(&a, "BODYSTRUCTURE"))
		it->kind = FI_BODYSTRUCTURE;
	else if (imap_str_is(&a, "RFC822")) {
		it->kind = FI_SECTION;
		it->name = "RFC822";
		it->spec = "";
	} else if (imap_str_is(&a, "RFC822.HEADER")) {
		it->kind = FI_SECTION;
		it->name = "RFC822.HEADER";
		it->spec = "HEADER";
		it->speclen = 6;
		it->peek = 1;
	} else if (imap_str_is(&a, "RFC822.TEXT")) {
		it->kind = FI_SECTION;
		it->name = "RFC822.TEXT";
		it->spec = "TEXT";
		it->speclen = 4;
	} else if (imap_str_is(&a, "BODY") || imap_str_is(&a, "BODY.PEEK")) {
		if (imap_p_peek(p) != '[') {
			if (a.len != 4)
				return imap_p_fail(p, "BODY.PEEK needs a section");
			it->kind = FI_BODY;
			return 0;
		}
		it->kind = FI_SECTION;
		it->peek = a.len == 9;
		p->p++;
		it->spec = p->p;
		{
			int depth = 0;
			while (p->p < p->end && (*p->p != ']' || depth)) {
				if (*p->p == '(' && ++depth > IMAP_NEST_MAX)
					return imap_p_fail(p, "Section too deeply nested");
				if (*p->p == ')')
					depth--;
				if (*p->p == '\r' || *p->p == '\n')
					return imap_p_fail(p, "Bad section");
				p->p++;
			}
		}
		if (p->p >= p->end)
			return imap_p_fail(p, "Unterminated section");
		it->speclen = (size_t)(p->p - it->spec);
		p->p++;
		if (imap_p_accept(p, '<')) {
			if (imap_p_number(p, &it->start) || !imap_p_accept(p, '.') || imap_p_number(p, &it->len) ||
			    !imap_p_accept(p, '>') || it->len == 0)
				return imap_p_fail(p, "Bad partial range");
			it->partial = 1;
		}
	} else {
		return imap_p_fail(p, "Unknown FETCH item");
	}
	return 0;
}

/* Check the whole item list text [s, end). 0, or -1 with p's message. */
static int items_check(struct imap_p *p, const char *s, const char *end, int *sets_seen)
{
	struct fitem it;
	struct imap_p q;
	unsigned n = 0;

	imap_p_init(&q, s, (size_t)(end - s));
	*sets_seen = 0;
	do {
		if (item_parse(&q, &it))
			break;
		/* RFC 3501: a malformed section is a syntax error (BAD), checked once
		 * here; a well-formed one naming a missing part is empty, per message. */
		if (it.kind == FI_SECTION && mime_section_check(it.spec, it.speclen) < 0)
			imap_p_fail(&q, "Bad section spec");
		if (it.kind == FI_SECTION && !it.peek)
			*sets_seen = 1;
		if (++n > 2 * IMAP_FETCH_SECT_MAX)
			imap_p_fail(&q, "Too many FETCH items");
	} while (!q.err && imap_p_accept(&q, ' '));
	if (!q.err && q.p != q.end)
		imap_p_fail(&q, "Unexpected text in the FETCH items");
	if (q.err) {
		imap_p_fail(p, q.msg);
		return -1;
	}
	return 0;
}

/* The k-th item of the job's list (0-based). 1 if there is one. */
static int item_get(const struct imap_job *j, unsigned k, struct fitem *it)
{
	struct imap_p q;

	imap_p_init(&q, j->args, (size_t)(j->args_end - j->args));
	for (unsigned i = 0;; i++) {
		if (item_parse(&q, it))
			return 0;
		if (i == k)
			return 1;
		if (!imap_p_accept(&q, ' '))
			return 0;
	}
}

/* Advance to the next message of the set in c's view. 1 with j->m_uid/m_seq set, 0 at the end. */
static int next_message(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_job *j = &s->job;
	struct imap_view *v = s->sv.v;

	for (;;) {
		if (j->done_range || j->cur > j->hi || !j->pos) {
			uint32_t star = j->uid ? imap_view_maxuid(c) : s->sv.exists;
			if (!j->pos)
				j->pos = j->set;
			if (!imap_set_next(j->set, &j->pos, j->set_end, star, &j->lo, &j->hi))
				return 0;
			j->cur = j->lo;
			j->done_range = 0;
			if (star == 0)
				continue;       /* '*' in an empty mailbox */
		}
		if (!j->uid) {
			uint32_t idx;
			if (j->cur > s->sv.exists || j->cur == 0) {
				j->done_range = 1;
				continue;
			}
			idx = imap_view_idx(c, j->cur);
			if (idx == UINT32_MAX) {
				j->done_range = 1;
				continue;
			}
			j->m_seq = j->cur;
			j->m_uid = v->e[idx].uid;
			if (j->cur == j->hi)
				j->done_range = 1;
			else
				j->cur++;
			if (v->e[idx].gone) {
				j->missed = 1;
				continue;
			}
			return 1;
		} else {
			uint32_t idx = imap_view_lower(v, j->cur);
			while (idx < v->n && !imap_view_visible(c, idx))
				idx++;
			if (idx >= v->n || v->e[idx].uid > j->hi) {
				j->done_range = 1;
				continue;
			}
			j->m_uid = v->e[idx].uid;
			j->m_seq = imap_view_seq(c, idx);
			if (j->m_uid >= j->hi)
				j->done_range = 1;
			else
				j->cur = j->m_uid + 1;
			if (v->e[idx].gone)
				continue;
			return 1;
		}
	}
}

static void date_fmt(int64_t t, char *buf, size_t cap)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, cap, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Render bytes of a section or structure item at offset off into buf. */
static int render(struct conn *c, const struct fitem *it, uint64_t off, char *buf, size_t room, size_t *n,
                  uint64_t *total)
{
	struct imap_job *j = &imap_of(c)->job;
	uint32_t mbox = imap_of(c)->sv.v->mbox;

	if (it->kind == FI_ENVELOPE || it->kind == FI_BODY || it->kind == FI_BODYSTRUCTURE)
		return store_mime_fetch(conn_env.store, mbox, j->m_uid,
		                        it->kind == FI_ENVELOPE ? MIME_R_ENVELOPE
		                        : it->kind == FI_BODY ? MIME_R_BODY : MIME_R_BODYSTRUCTURE,
		                        off, buf, room, n, total);
	if (it->speclen == 0) {
		/* the whole message: straight from the blob */
		struct store_msg m;
		int rc = store_msg_get(conn_env.store, mbox, j->m_uid, &m);
		if (rc < 0)
			return rc;
		*total = m.size;
		*n = 0;
		if (room == 0)
			return 0;
		return store_msg_read(conn_env.store, mbox, j->m_uid, off, buf, room, n);
	}
	return store_mime_section(conn_env.store, mbox, j->m_uid, it->spec, it->speclen, off, buf, room, n, total);
}

/*
 * Send one item of the current message. 1 sent, 0 no room (call again),
 * <0 error (the message vanished: the caller pads and moves on).
 */
static int item_send(struct conn *c, const struct fitem *it, int first)
{
	struct imap_sess *s = imap_of(c);
	struct imap_job *j = &s->job;
	const char *sp = first ? "" : " ";
	struct store_msg m;
	char buf[IMAP_FLAGS_BUF];
	int rc;

	switch (it->kind) {
	case FI_UID:
		return conn_printf(c, "%sUID %" PRIu32, sp, j->m_uid) < 0 ? 0 : 1;
	case FI_FLAGS:
	case FI_INTERNALDATE:
	case FI_SIZE:
		rc = store_msg_get(conn_env.store, s->sv.v->mbox, j->m_uid, &m);
		if (rc < 0)
			return rc;
		if (it->kind == FI_FLAGS) {
			imap_flags_fmt(c, m.flags, buf, sizeof buf, imap_view_is_recent(c, j->m_uid));
			return conn_printf(c, "%sFLAGS (%s)", sp, buf) < 0 ? 0 : 1;
		}
		if (it->kind == FI_SIZE)
			return conn_printf(c, "%sRFC822.SIZE %" PRIu64, sp, m.size) < 0 ? 0 : 1;
		date_fmt(m.internaldate, buf, sizeof buf);
		return conn_printf(c, "%sINTERNALDATE \"%s\"", sp, buf) < 0 ? 0 : 1;
	default:
		break;
	}
	/* Long items: a name, then the rendering or literal in chunks. */
	if (!(j->flags & J_PREFIX)) {
		uint64_t total = 0, start = it->partial ? it->start : 0;
		size_t n;
		rc = render(c, it, 0, buf, 0, &n, &total);
		if (rc == -ENOENT && it->kind == FI_SECTION) {
			/* a part that does not exist is an empty string */
			total = 0;
		} else if (rc == -EINVAL) {
			return rc;
		} else if (rc < 0) {
			return rc;
		}
		if (it->kind == FI_SECTION) {
			uint64_t len = total > start ? total - start : 0;
			if (it->partial && len > it->len)
				len = it->len;
			if (it->name)
				n = (size_t)snprintf(buf, sizeof buf, "%s%s {%" PRIu64 "}\r\n", sp, it->name, len);
			else if (it->partial)
				n = (size_t)snprintf(buf, sizeof buf, "%sBODY[%.*s]<%" PRIu32 "> {%" PRIu64 "}\r\n", sp,
				                     (int)(it->speclen > 400 ? 400 : it->speclen), it->spec, it->start, len);
			else
				n = (size_t)snprintf(buf, sizeof buf, "%sBODY[%.*s] {%" PRIu64 "}\r\n", sp,
				                     (int)(it->speclen > 400 ? 400 : it->speclen), it->spec, len);
			j->total = len;
		} else {
			n = (size_t)snprintf(buf, sizeof buf, "%s%s ", sp,
			                     it->kind == FI_ENVELOPE ? "ENVELOPE" : it->kind == FI_BODY ? "BODY" : "BODYSTRUCTURE");
			j->total = total;
		}
		if (conn_write(c, buf, n) < 0)
			return 0;
		j->flags |= J_PREFIX;
		j->off = 0;
	}
	while (j->off < j->total) {
		size_t room, n = 0;
		uint64_t total, base = it->kind == FI_SECTION && it->partial ? it->start : 0;
		unsigned char *out = conn_stream_buf(c, &room);
		if (room < 64) {
			conn_stream_commit(c, 0);
			return 0;
		}
		if (room > j->total - j->off)
			room = (size_t)(j->total - j->off);
		rc = render(c, it, base + j->off, (char *)out, room, &n, &total);
		if (rc < 0 || n == 0) {
			/* vanished or shorter than announced: pad to keep the stream in sync */
			memset(out, ' ', room);
			n = room;
			j->missed = 1;
		}
		conn_stream_commit(c, n);
		j->off += n;
		if (c->tls)
			return 0;       /* one record at a time: let the engine send it */
	}
	return 1;
}

/* After the implicit \Seen: "FLAGS (...)" first in the response of a
 * message whose flags this command changed. 2 sent, 1 nothing to send, 0 no room. */
static int seen_flags(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_job *j = &s->job;
	char fl[IMAP_FLAGS_BUF];
	struct store_msg m;

	if (!s->own_hi || store_msg_get(conn_env.store, s->sv.v->mbox, j->m_uid, &m) < 0 ||
	    m.modseq < s->own_lo || m.modseq > s->own_hi)
		return 1;
	imap_flags_fmt(c, m.flags, fl, sizeof fl, imap_view_is_recent(c, j->m_uid));
	return conn_printf(c, "%sFLAGS (%s)", j->uid ? " " : "", fl) < 0 ? 0 : 2;
}

/* The FETCH responses, message by message. */
static int fetch_stream(struct conn *c)
{
	struct imap_sess *s = imap_of(c);
	struct imap_job *j = &s->job;
	struct fitem it;
	int rc;

	for (int msgs = 0; msgs < 256; msgs++) {
		if (!j->open) {
			if (!imap_kw_announce(c))
				return 0;       /* a keyword is named in FLAGS before a FETCH carries it */
			if (conn_out_room(c) < 128 + 32)
				return 0;       /* before advancing: the message must not be skipped */
			if (!next_message(c)) {
				/* RFC 2180 4.1.1 leaves OK or NO: OK with Dovecot's words, as
				 * clients know them (STORE's own FETCH responses keep its OK) */
				if (j->missed && !j->store)
					imap_done(c, "OK [EXPUNGEISSUED] Some messages were already expunged");
				return 1;
			}
			if (j->uid)
				conn_printf(c, "* %" PRIu32 " FETCH (UID %" PRIu32, j->m_seq, j->m_uid);
			else
				conn_printf(c, "* %" PRIu32 " FETCH (", j->m_seq);
			j->open = 1;
			j->item = 0;
			j->flags = 0;
			j->lead = 0;
		}
		if (j->open == 1 && j->seen) {
			/* RFC 3501 6.4.5: the \Seen this FETCH set is reported in its response */
			if ((rc = seen_flags(c)) == 0)
				return 0;
			j->lead = rc > 1;
		}
		j->open = 2;
		while (item_get(j, j->item, &it)) {
			if (j->uid && it.kind == FI_UID) {
				j->item++;
				continue;
			}
			rc = item_send(c, &it, j->item == 0 && !j->uid && !j->lead);
			if (rc == 0)
				return 0;
			if (rc < 0 && !(j->flags & J_PREFIX)) {
				j->missed = 1;   /* gone before anything of it was sent: leave it out */
			}
			j->flags = 0;
			j->item++;
			if (j->item > 2 * IMAP_FETCH_SECT_MAX)
				break;
		}
		if (conn_write(c, ")\r\n", 3) < 0)
			return 0;
		j->open = 0;
		if (c->tls && conn_out_room(c) < 512)
			return 0;
	}
	return 0;
}

/* Set up a FETCH job over set with the item text [items, items_end). */
static void fetch_job(struct conn *c, const struct imap_str *set, const char *items, const char *items_end)
{
	struct imap_job *j = &imap_of(c)->job;

	j->set = set->s;
	j->set_end = set->s + set->len;
	j->pos = NULL;
	j->args = items;
	j->args_end = items_end;
	j->open = 0;
	j->missed = 0;
	j->done_range = 0;
	j->seen = 0;
	j->store = 0;
	conn_keep_line(c);
	imap_job_start(c, fetch_stream);
}

void imap_fetch_flags_job(struct conn *c, const struct imap_str *set)
{
	static const char flags[] = "FLAGS";

	fetch_job(c, set, flags, flags + 5);
	imap_of(c)->job.store = 1;
}

int imap_check_fetch(struct imap_p *p, struct imap_fetch_args *a)
{
	static const char all[] = "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE";
	static const char fast[] = "FLAGS INTERNALDATE RFC822.SIZE";
	static const char full[] = "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY";

	if (imap_p_sp(p) || imap_p_seqset(p, &a->set) || imap_p_sp(p))
		return p->err;
	if (imap_p_peek(p) == '(') {
		const char *close = p->end;
		if (close - p->p < 2 || close[-1] != ')')
			return imap_p_fail(p, "Unbalanced parentheses in the FETCH items");
		a->items = p->p + 1;
		a->items_end = close - 1;
	} else {
		struct imap_str m = { p->p, (size_t)(p->end - p->p), 0 };
		a->items = p->p;
		a->items_end = p->end;
		if (imap_str_is(&m, "ALL"))
			a->items = all, a->items_end = all + sizeof all - 1;
		else if (imap_str_is(&m, "FAST"))
			a->items = fast, a->items_end = fast + sizeof fast - 1;
		else if (imap_str_is(&m, "FULL"))
			a->items = full, a->items_end = full + sizeof full - 1;
	}
	if (items_check(p, a->items, a->items_end, &a->seen))
		return p->err;
	return 0;
}

int imap_cmd_fetch(struct conn *c, struct imap_p *p)
{
	struct imap_sess *s = imap_of(c);
	struct imap_fetch_args a;

	s->no_expunge = !s->job.uid;
	if (imap_check_fetch(p, &a)) {
		imap_reject(c, p);
		return 0;
	}
	if (imap_seq_beyond(c, &a.set, "FETCH"))
		return 0;
	if (a.seen && !s->readonly) {
		/* Non-PEEK body items set \Seen: a group-commit write first, then
		 * the stream (its job waits in s->job meanwhile). */
		s->job.set = a.set.s;
		s->job.set_end = a.set.s + a.set.len;
		s->job.args = a.items;
		s->job.args_end = a.items_end;
		memset(&s->w.flags, 0, sizeof s->w.flags);
		s->w.flags.set = s->job.set;
		s->w.flags.set_end = s->job.set_end;
		s->w.flags.flags = STORE_F_SEEN;
		s->w.flags.mode = STORE_FLAGS_ADD;
		s->wr = WR_SEEN;
		conn_keep_line(c);
		commit_queue(c);
		return 0;
	}
	fetch_job(c, &a.set, a.items, a.items_end);
	imap_done(c, "OK %sFETCH completed", s->job.uid ? "UID " : "");
	return 0;
}

/* Does the item list name FLAGS? */
static int items_have_flags(const char *s, const char *end)
{
	struct imap_job j = { .args = s, .args_end = end };
	struct fitem it;

	for (unsigned k = 0; item_get(&j, k, &it); k++)
		if (it.kind == FI_FLAGS)
			return 1;
	return 0;
}

/* After the \Seen commit of a FETCH: start its stream. */
void imap_fetch_after_seen(struct conn *c)
{
	struct imap_job *j = &imap_of(c)->job;
	struct imap_str set = { j->set, (size_t)(j->set_end - j->set), 0 };

	fetch_job(c, &set, j->args, j->args_end);
	j->seen = !items_have_flags(j->args, j->args_end);
	c->flags &= ~(unsigned)CONN_F_KEEP;     /* the line is already held since the command */
	imap_done(c, "OK %sFETCH completed", j->uid ? "UID " : "");
}

#endif
