/*
 * mime_env — ENVELOPE (RFC 3501 7.4.2): the header values recorded at parse
 * time, address lists split into (name adl mailbox host) with RFC 5322
 * groups. Lenient: what does not parse as an address still becomes one
 * (its text as the mailbox) rather than an error.
 */
#include <string.h>

#include "mime_int.h"

/* One item of an address list. */
enum { MIME_A_ADDR, MIME_A_GROUP, MIME_A_GROUP_END };

struct mime_addr {
	int kind;
	uint32_t name_off, name_len;    /* MIME_ABSENT: NIL */
	int name_xf;                    /* MIME_XF_PHRASE, or MIME_XF_COMMENT for "addr (Name)" */
	uint32_t adl_off, adl_len;      /* source route, MIME_ABSENT: NIL */
	uint32_t mbox_off, mbox_len;
	uint32_t host_off, host_len;    /* MIME_ABSENT: "" (no domain) */
};

/* An address being collected: the tokens seen since the last ',' / ':' / ';'. */
struct mime_acoll {
	uint32_t ph_s, ph_e;            /* phrase or bare addr-spec text, ph_s == MIME_ABSENT: none */
	uint32_t cm_s, cm_e;            /* first comment, cm_s == MIME_ABSENT: none */
	uint32_t ang_s, ang_e;          /* inside <...>, ang_s == MIME_ABSENT: none */
};

typedef void (*mime_addr_cb)(void *ctx, const struct mime_addr *a);

static void mime_acoll_reset(struct mime_acoll *c)
{
	c->ph_s = c->cm_s = c->ang_s = MIME_ABSENT;
	c->ph_e = c->cm_e = c->ang_e = 0;
}

/* Extend the phrase over [s, e). */
static void mime_acoll_word(struct mime_acoll *c, uint32_t s, uint32_t e)
{
	if (c->ph_s == MIME_ABSENT)
		c->ph_s = s;
	c->ph_e = e;
}

/* Split an addr-spec [s, e) at its last '@' outside quotes into mailbox and host. */
static void mime_addr_spec(const char *msg, uint32_t s, uint32_t e, struct mime_addr *a)
{
	uint32_t at = MIME_ABSENT, p = s;

	while (p < e) {
		if (msg[p] == '"') {
			p = mime_quoted_end(msg, p, e);
			continue;
		}
		if (msg[p] == '(') {
			p = mime_comment_end(msg, p, e);
			continue;
		}
		if (msg[p] == '@')
			at = p;
		p++;
	}
	a->mbox_off = s;
	a->mbox_len = (at == MIME_ABSENT ? e : at) - s;
	if (at != MIME_ABSENT) {
		a->host_off = at + 1;
		a->host_len = e - at - 1;
	}
}

/* Turn a collected address into an item; nothing for an empty one. */
static int mime_acoll_flush(const char *msg, struct mime_acoll *c, mime_addr_cb cb, void *ctx)
{
	struct mime_addr a;

	memset(&a, 0, sizeof a);
	a.kind = MIME_A_ADDR;
	a.name_off = a.adl_off = a.host_off = MIME_ABSENT;
	a.name_xf = MIME_XF_PHRASE;
	if (c->ang_s != MIME_ABSENT) {
		uint32_t s = mime_skip_cfws(msg, c->ang_s, c->ang_e), e = c->ang_e;
		if (c->ph_s != MIME_ABSENT) {
			a.name_off = c->ph_s;
			a.name_len = c->ph_e - c->ph_s;
		}
		if (s < e && msg[s] == '@') {   /* obsolete route "@a,@b:" */
			const char *colon = memchr(msg + s, ':', e - s);
			if (colon) {
				a.adl_off = s;
				a.adl_len = (uint32_t)(colon - msg) - s;
				s = (uint32_t)(colon - msg) + 1;
			}
		}
		mime_addr_spec(msg, s, e, &a);
	} else if (c->ph_s != MIME_ABSENT) {
		mime_addr_spec(msg, c->ph_s, c->ph_e, &a);
	} else {
		mime_acoll_reset(c);
		return 0;
	}
	if (a.name_off == MIME_ABSENT && c->cm_s != MIME_ABSENT) {
		a.name_off = c->cm_s;
		a.name_len = c->cm_e - c->cm_s;
		a.name_xf = MIME_XF_COMMENT;
	}
	cb(ctx, &a);
	mime_acoll_reset(c);
	return 1;
}

/* Emit a group start or end item. */
static void mime_addr_group(int kind, uint32_t s, uint32_t e, mime_addr_cb cb, void *ctx)
{
	struct mime_addr a;

	memset(&a, 0, sizeof a);
	a.kind = kind;
	a.name_off = s;
	a.name_len = e - s;
	cb(ctx, &a);
}

/* Walk the address list msg[off, off+len), calling cb for each item; at most MIME_ADDRS_MAX addresses. */
static void mime_addr_walk(const char *msg, uint32_t off, uint32_t len, mime_addr_cb cb, void *ctx)
{
	uint32_t p = off, end = off + len;
	struct mime_acoll c;
	unsigned count = 0;
	int in_group = 0;

	mime_acoll_reset(&c);
	while (p < end && count < MIME_ADDRS_MAX) {
		char ch = msg[p];
		uint32_t q;

		switch (ch) {
		case ' ': case '\t': case '\r': case '\n':
			p++;
			break;
		case '(':
			q = mime_comment_end(msg, p, end);
			if (c.cm_s == MIME_ABSENT) {
				c.cm_s = p;
				c.cm_e = q;
			}
			p = q;
			break;
		case '"':
			q = mime_quoted_end(msg, p, end);
			mime_acoll_word(&c, p, q);
			p = q;
			break;
		case '<':
			q = p + 1;
			while (q < end && msg[q] != '>') {
				if (msg[q] == '"')
					q = mime_quoted_end(msg, q, end);
				else if (msg[q] == '(')
					q = mime_comment_end(msg, q, end);
				else
					q++;
			}
			if (c.ang_s == MIME_ABSENT) {
				c.ang_s = p + 1;
				c.ang_e = q;
			}
			p = q < end ? q + 1 : end;
			break;
		case ':':
			if (!in_group && c.ang_s == MIME_ABSENT) {
				uint32_t s = c.ph_s == MIME_ABSENT ? p : c.ph_s, e = c.ph_s == MIME_ABSENT ? p : c.ph_e;
				mime_addr_group(MIME_A_GROUP, s, e, cb, ctx);
				in_group = 1;
				mime_acoll_reset(&c);
			} else {
				mime_acoll_word(&c, p, p + 1);
			}
			p++;
			break;
		case ';':
		case ',':
			count += (unsigned)mime_acoll_flush(msg, &c, cb, ctx);
			if (ch == ';' && in_group) {
				mime_addr_group(MIME_A_GROUP_END, 0, 0, cb, ctx);
				in_group = 0;
			}
			p++;
			break;
		default:
			q = p + 1;
			while (q < end && !strchr(" \t\r\n(\"<:;,", msg[q]))
				q++;
			mime_acoll_word(&c, p, q);
			p = q;
			break;
		}
	}
	if (count < MIME_ADDRS_MAX)
		mime_acoll_flush(msg, &c, cb, ctx);
	if (in_group)
		mime_addr_group(MIME_A_GROUP_END, 0, 0, cb, ctx);
}

/* One address's search text being built (mime_addr_text). */
struct mime_addr_buf {
	char b[MIME_ADDR_TEXT_MAX];
	size_t n;
	const char *msg;
	void (*put)(void *ctx, const char *p, size_t n);
	void *ctx;
	int items, group;               /* items so far; the last was a group's start */
};

static void mime_abuf_put(void *arg, unsigned char c)
{
	struct mime_addr_buf *ab = arg;

	if (ab->n < sizeof ab->b && c)
		ab->b[ab->n++] = (char)c;
}

static void mime_abuf_str(struct mime_addr_buf *ab, const char *s)
{
	while (*s)
		mime_abuf_put(ab, (unsigned char)*s++);
}

/* An item as text: separators lead, so the pieces join into one list. */
static void mime_addr_text_item(void *ctx, const struct mime_addr *a)
{
	struct mime_addr_buf *ab = ctx;
	int angle = a->name_off != MIME_ABSENT || a->adl_off != MIME_ABSENT;

	ab->n = 0;
	if (a->kind == MIME_A_GROUP_END) {
		mime_abuf_str(ab, ";");
	} else {
		if (ab->items)
			mime_abuf_str(ab, ab->group ? " " : ", ");
		if (a->kind == MIME_A_GROUP) {
			mime_xf_run(ab->msg + a->name_off, a->name_len, MIME_XF_PHRASE, mime_abuf_put, ab);
			mime_abuf_str(ab, ":");
		} else {
			if (a->name_off != MIME_ABSENT) {
				mime_xf_run(ab->msg + a->name_off, a->name_len, a->name_xf, mime_abuf_put, ab);
				mime_abuf_str(ab, " ");
			}
			if (angle)
				mime_abuf_str(ab, "<");
			if (a->adl_off != MIME_ABSENT) {
				mime_xf_run(ab->msg + a->adl_off, a->adl_len, MIME_XF_ATOMS, mime_abuf_put, ab);
				mime_abuf_str(ab, ":");
			}
			mime_xf_run(ab->msg + a->mbox_off, a->mbox_len, MIME_XF_ATOMS, mime_abuf_put, ab);
			if (a->host_off != MIME_ABSENT) {
				mime_abuf_str(ab, "@");
				mime_xf_run(ab->msg + a->host_off, a->host_len, MIME_XF_ATOMS, mime_abuf_put, ab);
			}
			if (angle)
				mime_abuf_str(ab, ">");
		}
	}
	ab->items++;
	ab->group = a->kind == MIME_A_GROUP;
	ab->put(ab->ctx, ab->b, ab->n);
}

/* The address list as SEARCH text, one address at a time; see mime_int.h. */
void mime_addr_text(const char *msg, uint32_t off, uint32_t len, void (*put)(void *ctx, const char *p, size_t n),
                    void *ctx)
{
	struct mime_addr_buf ab;

	ab.msg = msg;
	ab.put = put;
	ab.ctx = ctx;
	ab.items = ab.group = 0;
	mime_addr_walk(msg, off, len, mime_addr_text_item, &ab);
}

struct mime_addr_out {
	struct mime_out *o;
	const char *msg;
	unsigned items;
};

static void mime_addr_count(void *ctx, const struct mime_addr *a)
{
	(void)a;
	((struct mime_addr_out *)ctx)->items++;
}

/* One item as "(name adl mailbox host)"; groups as (NIL NIL name NIL) ... (NIL NIL NIL NIL). */
static void mime_addr_emit(void *ctx, const struct mime_addr *a)
{
	struct mime_addr_out *ao = ctx;
	struct mime_out *o = ao->o;
	const char *msg = ao->msg;

	if (a->kind == MIME_A_GROUP_END) {
		mime_out_str(o, "(NIL NIL NIL NIL)");
		return;
	}
	if (a->kind == MIME_A_GROUP) {
		mime_out_str(o, "(NIL NIL ");
		mime_out_string(o, msg, a->name_off, a->name_len, MIME_XF_PHRASE);
		mime_out_str(o, " NIL)");
		return;
	}
	mime_out_str(o, "(");
	mime_out_nstring(o, msg, a->name_off, a->name_len, a->name_xf);
	mime_out_str(o, " ");
	mime_out_nstring(o, msg, a->adl_off, a->adl_len, MIME_XF_ATOMS);
	mime_out_str(o, " ");
	mime_out_string(o, msg, a->mbox_off, a->mbox_len, MIME_XF_ATOMS);
	mime_out_str(o, " ");
	if (a->host_off == MIME_ABSENT)
		mime_out_str(o, "\"\"");
	else
		mime_out_string(o, msg, a->host_off, a->host_len, MIME_XF_ATOMS);
	mime_out_str(o, ")");
}

static const char *const mime_addr_fields[MIME_ENVF_COUNT] = {
	[MIME_ENVF_FROM] = "from", [MIME_ENVF_SENDER] = "sender", [MIME_ENVF_REPLY_TO] = "reply-to",
	[MIME_ENVF_TO] = "to", [MIME_ENVF_CC] = "cc", [MIME_ENVF_BCC] = "bcc",
};

/*
 * Walk every field of envelope address field k in the header (a message
 * may have several To: or Cc: lines; they are one list), or nothing when
 * the record says the field is absent.
 */
static void mime_addr_walk_all(const char *msg, const struct mime_ent *e, uint32_t first, unsigned k,
                               mime_addr_cb cb, void *ctx)
{
	const char *name = mime_addr_fields[k];
	struct mime_field f;
	uint32_t pos = e->hdr_off, end = mime_scan_end(e->hdr_off, e->hdr_len);
	unsigned nf = 0;
	int r;

	if (first == MIME_ABSENT)
		return;
	while (nf++ < MIME_FIELDS_MAX && (r = mime_field_next(msg, &pos, end, &f)) != 0)
		if (r == 1 && mime_name_eq(msg, f.name_off, f.name_len, name, strlen(name)))
			mime_addr_walk(msg, f.val_off, f.val_len, cb, ctx);
}

/* Number of items in address field k (0 when absent or empty). */
static unsigned mime_addr_items(const char *msg, const struct mime_ent *e, uint32_t first, unsigned k)
{
	struct mime_addr_out ao = { NULL, msg, 0 };

	mime_addr_walk_all(msg, e, first, k, mime_addr_count, &ao);
	return ao.items;
}

/* An address list: "(" items ")" or NIL. */
static void mime_out_addrs(struct mime_out *o, const char *msg, const struct mime_ent *e, uint32_t first,
                           unsigned k)
{
	struct mime_addr_out ao = { o, msg, 0 };

	if (mime_addr_items(msg, e, first, k) == 0) {
		mime_out_str(o, "NIL");
		return;
	}
	mime_out_str(o, "(");
	mime_addr_walk_all(msg, e, first, k, mime_addr_emit, &ao);
	mime_out_str(o, ")");
}

/* ENVELOPE of message entity ent; a missing envelope renders as all NIL. */
void mime_out_envelope(struct mime_out *o, const void *rec, unsigned ent, const char *msg)
{
	const unsigned char *ev = mime_rec_env(rec, ent);
	uint32_t off[MIME_ENVF_COUNT], len[MIME_ENVF_COUNT];
	unsigned src[MIME_ENVF_COUNT];
	struct mime_ent e;

	mime_rec_ent(rec, ent, &e);
	for (unsigned k = 0; k < MIME_ENVF_COUNT; k++) {
		off[k] = ev ? mime_get32(ev + 8 * k) : MIME_ABSENT;
		len[k] = ev ? mime_get32(ev + 8 * k + 4) : 0;
		src[k] = k;
	}
	/* RFC 3501: an absent or empty Sender or Reply-To is the From */
	for (unsigned k = MIME_ENVF_SENDER; k <= MIME_ENVF_REPLY_TO; k++) {
		if (mime_addr_items(msg, &e, off[k], k) == 0) {
			off[k] = off[MIME_ENVF_FROM];
			src[k] = MIME_ENVF_FROM;
		}
	}
	mime_out_str(o, "(");
	for (unsigned k = 0; k < MIME_ENVF_COUNT; k++) {
		if (k)
			mime_out_str(o, " ");
		if (k >= MIME_ENVF_FROM && k <= MIME_ENVF_BCC)
			mime_out_addrs(o, msg, &e, off[k], src[k]);
		else
			mime_out_nstring(o, msg, off[k], len[k], k == MIME_ENVF_SUBJECT ? MIME_XF_HUMAN : MIME_XF_UNFOLD);
	}
	mime_out_str(o, ")");
}
