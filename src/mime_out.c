/* mime_out — the render-and-skip sink and IMAP strings (quoted or literal) from message bytes. */
#include <string.h>

#include "mime_int.h"

void mime_out_init(struct mime_out *o, uint64_t off, char *buf, size_t room)
{
	o->buf = buf;
	o->room = buf ? room : 0;
	o->n = 0;
	o->skip = off;
	o->pos = 0;
}

/* Account for len bytes; copy the part of them that falls in [skip, skip+room). */
void mime_out_put(struct mime_out *o, const char *p, size_t len)
{
	uint64_t end = o->pos + len;

	if (end > o->skip && o->n < o->room) {
		size_t from = o->pos < o->skip ? (size_t)(o->skip - o->pos) : 0;
		size_t take = len - from;
		if (take > o->room - o->n)
			take = o->room - o->n;
		memcpy(o->buf + o->n, p + from, take);
		o->n += take;
	}
	o->pos = end;
}

void mime_out_str(struct mime_out *o, const char *s)
{
	mime_out_put(o, s, strlen(s));
}

void mime_out_num(struct mime_out *o, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	mime_out_put(o, tmp + i, sizeof tmp - i);
}

static int mime_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Emit the content of a quoted-string or comment p[0..len) minus its delimiters, unescaped. */
static void mime_xf_unescape(const char *p, size_t len, void (*put)(void *, unsigned char), void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 1 < len)
			i++;
		else if (p[i] == '\r' || p[i] == '\n')
			continue;
		put(ctx, (unsigned char)p[i]);
	}
}

/* The text for humans (Dovecot's word): white space runs become one space, none at the ends. */
struct mime_human {
	void (*put)(void *ctx, unsigned char c);
	void *ctx;
	int gap, any;
};

static void mime_human_put(void *arg, unsigned char c)
{
	struct mime_human *h = arg;

	if (mime_wsp((char)c)) {
		h->gap = h->any;
		return;
	}
	if (h->gap)
		h->put(h->ctx, ' ');
	h->gap = 0;
	h->any = 1;
	h->put(h->ctx, c);
}

static void mime_xf_text(const char *p, size_t len, int xf, void (*put)(void *ctx, unsigned char c), void *ctx);

/*
 * Run a transform (MIME_XF_*) over p[0..len). A subject and display names
 * (phrases, comments) are shown as Dovecot shows them: tabs and runs of
 * white space, inside quoted strings too, are one space.
 */
void mime_xf_run(const char *p, size_t len, int xf, void (*put)(void *ctx, unsigned char c), void *ctx)
{
	struct mime_human h = { put, ctx, 0, 0 };

	if (xf == MIME_XF_HUMAN || xf == MIME_XF_PHRASE || xf == MIME_XF_COMMENT)
		mime_xf_text(p, len, xf, mime_human_put, &h);
	else
		mime_xf_text(p, len, xf, put, ctx);
}

/* The transform itself (white space as it is). */
static void mime_xf_text(const char *p, size_t len, int xf, void (*put)(void *ctx, unsigned char c), void *ctx)
{
	size_t i = 0, e = len;
	int words = 0, gap = 0;

	if (xf != MIME_XF_RAW) {
		while (i < e && mime_wsp(p[i]))
			i++;
		while (e > i && mime_wsp(p[e - 1]))
			e--;
	}
	switch (xf) {
	case MIME_XF_RAW:
	case MIME_XF_UNFOLD:
	case MIME_XF_HUMAN:
		for (; i < e; i++)
			if (p[i] && (xf == MIME_XF_RAW || (p[i] != '\r' && p[i] != '\n')))
				put(ctx, (unsigned char)p[i]);
		return;
	case MIME_XF_VALUE:
		if (i < e && p[i] == '"') {
			size_t q = mime_quoted_end(p, (uint32_t)i, (uint32_t)e);
			size_t inner = q - i - 1 - (q > i + 1 && p[q - 1] == '"');
			mime_xf_unescape(p + i + 1, inner, put, ctx);
			return;
		}
		mime_xf_text(p + i, e - i, MIME_XF_UNFOLD, put, ctx);
		return;
	case MIME_XF_COMMENT:
		if (i < e && p[i] == '(') {
			i++;
			if (e > i && p[e - 1] == ')')
				e--;
		}
		mime_xf_unescape(p + i, e - i, put, ctx);
		return;
	}
	/* PHRASE and ATOMS: walk words, quoted strings and comments */
	while (i < e) {
		if (mime_wsp(p[i])) {
			gap = 1;
			i++;
		} else if (p[i] == '(') {
			gap = 1;
			i = mime_comment_end(p, (uint32_t)i, (uint32_t)e);
		} else {
			size_t j = p[i] == '"' ? mime_quoted_end(p, (uint32_t)i, (uint32_t)e) : i + 1;
			if (xf == MIME_XF_PHRASE && gap && words)
				put(ctx, ' ');
			gap = 0;
			words = 1;
			if (xf == MIME_XF_PHRASE && p[i] == '"') {
				size_t inner = j - i - 1 - (j > i + 1 && p[j - 1] == '"');
				mime_xf_unescape(p + i + 1, inner, put, ctx);
			} else {
				for (size_t k = i; k < j; k++)
					if (p[k] != '\r' && p[k] != '\n' && p[k])
						put(ctx, (unsigned char)p[k]);
			}
			i = j;
		}
	}
}

/* Measuring pass: length and whether a literal is needed. */
struct mime_measure {
	uint64_t len;
	int literal;
};

static void mime_measure_put(void *ctx, unsigned char c)
{
	struct mime_measure *m = ctx;

	if (!c)
		return;         /* dropped when emitted too */
	m->len++;
	if (c >= 0x80 || c == '\r' || c == '\n')
		m->literal = 1;
}

/* Emitting pass: a byte into the sink, escaped when inside a quoted string. */
struct mime_emit {
	struct mime_out *o;
	int quoted;
};

static void mime_emit_put(void *ctx, unsigned char c)
{
	struct mime_emit *em = ctx;
	char b[2] = { '\\', (char)c };

	if (!c)
		return;
	if (em->quoted && (c == '"' || c == '\\'))
		mime_out_put(em->o, b, 2);
	else
		mime_out_put(em->o, b + 1, 1);
}

/* The bytes gen produces as an IMAP quoted string, or a literal when they hold 8-bit or CR/LF. */
void mime_out_gen(struct mime_out *o, mime_gen_fn gen, void *arg)
{
	struct mime_measure m = { 0, 0 };
	struct mime_emit em = { o, 0 };

	gen(arg, mime_measure_put, &m);
	if (m.literal) {
		mime_out_str(o, "{");
		mime_out_num(o, m.len);
		mime_out_str(o, "}\r\n");
	} else {
		em.quoted = 1;
		mime_out_str(o, "\"");
	}
	gen(arg, mime_emit_put, &em);
	if (em.quoted)
		mime_out_str(o, "\"");
}

struct mime_xf_arg {
	const char *p;
	size_t len;
	int xf;
};

static void mime_xf_gen(void *arg, void (*put)(void *ctx, unsigned char c), void *ctx)
{
	const struct mime_xf_arg *a = arg;

	mime_xf_run(a->p, a->len, a->xf, put, ctx);
}

/* msg[off, off+len) through transform xf as an IMAP string; "" when off is MIME_ABSENT. */
void mime_out_string(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int xf)
{
	struct mime_xf_arg a;

	if (off == MIME_ABSENT) {
		mime_out_str(o, "\"\"");     /* a required string that is not there */
		return;
	}
	a.p = msg + off;
	a.len = len;
	a.xf = xf;
	mime_out_gen(o, mime_xf_gen, &a);
}

void mime_out_nstring(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int xf)
{
	if (off == MIME_ABSENT)
		mime_out_str(o, "NIL");
	else
		mime_out_string(o, msg, off, len, xf);
}
