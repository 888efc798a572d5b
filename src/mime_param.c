/*
 * mime_param — the parameter list of BODYSTRUCTURE: Content-Type and
 * Content-Disposition parameters, with RFC 2231 continuations
 * ("name*0*=...; name*1*=...", on folded lines or not) joined into one
 * "name*" parameter by Dovecot's rules (not decoded: clients decode
 * "name*" values), and the default charset of text parts made explicit.
 */
#include <string.h>

#include "mime_int.h"

/* Parameters of one value: where they start and end. */
struct mime_plist {
	const char *msg;
	uint32_t start, end;
};

/*
 * Is name msg[no, no+nl) an RFC 2231 section "base*N" or "base*N*"? 1 with
 * the base length, N and whether it is extended (the trailing '*'), or 0.
 */
static int mime_param_section(const char *msg, uint32_t no, uint32_t nl, uint32_t *blen, unsigned *sec,
                              int *ext)
{
	const char *star = memchr(msg + no, '*', nl);
	uint32_t p;

	if (!star || star == msg + no)
		return 0;
	*blen = (uint32_t)(star - (msg + no));
	p = *blen + 1;
	if (p >= nl || msg[no + p] < '0' || msg[no + p] > '9')
		return 0;
	*sec = 0;
	while (p < nl && msg[no + p] >= '0' && msg[no + p] <= '9') {
		*sec = *sec * 10 + (unsigned)(msg[no + p] - '0');
		if (*sec >= MIME_PARAMS_MAX)
			return 0;
		p++;
	}
	*ext = p < nl && msg[no + p] == '*';
	return p + (uint32_t)*ext == nl;
}

/* Find section sec of base msg[bo, bo+bl) in the list; 1 with its value range and extended flag. */
static int mime_param_find_section(const struct mime_plist *pl, uint32_t bo, uint32_t bl, unsigned sec,
                                   uint32_t *vo, uint32_t *vl, int *ext)
{
	uint32_t pos = pl->start, no, nl, sbl;
	unsigned n = 0, s;

	while (n++ < MIME_PARAMS_MAX && mime_param_next(pl->msg, &pos, pl->end, &no, &nl, vo, vl))
		if (mime_param_section(pl->msg, no, nl, &sbl, &s, ext) && s == sec && sbl == bl &&
		    mime_name_eq(pl->msg, no, sbl, pl->msg + bo, bl))
			return 1;
	return 0;
}

/*
 * The sections of base msg[bo, bo+bl): 1 when their numbers are exactly
 * 0..n-1 (RFC 2231 asks for no gaps and no repeats), with n, whether any
 * is extended and where the first of them is named; 0 otherwise.
 */
static int mime_param_group(const struct mime_plist *pl, uint32_t bo, uint32_t bl, unsigned *count, int *ext,
                            uint32_t *first)
{
	uint32_t pos = pl->start, no, nl, vo, vl, sbl;
	unsigned n = 0, seen = 0, s;
	int e;

	*ext = 0;
	*first = MIME_ABSENT;
	while (seen++ < MIME_PARAMS_MAX && mime_param_next(pl->msg, &pos, pl->end, &no, &nl, &vo, &vl))
		if (mime_param_section(pl->msg, no, nl, &sbl, &s, &e) && sbl == bl &&
		    mime_name_eq(pl->msg, no, sbl, pl->msg + bo, bl)) {
			if (*first == MIME_ABSENT)
				*first = no;
			*ext |= e;
			n++;
		}
	*count = n;
	for (s = 0; s < n; s++)
		if (!mime_param_find_section(pl, bo, bl, s, &vo, &vl, &e))
			return 0;
	return n > 0;
}

/* The joined value of a continued parameter, for mime_out_gen. */
struct mime_join {
	const struct mime_plist *pl;
	uint32_t bo, bl;
	unsigned count;
	int ext;                /* some section is extended: the others are percent-escaped */
	void (*put)(void *ctx, unsigned char c);
	void *ctx;
};

/* A byte of an unextended section joined to extended ones: '%' becomes "%25". */
static void mime_join_escape(void *arg, unsigned char c)
{
	const struct mime_join *j = arg;

	j->put(j->ctx, c);
	if (c == '%') {
		j->put(j->ctx, '2');
		j->put(j->ctx, '5');
	}
}

static void mime_join_gen(void *arg, void (*put)(void *ctx, unsigned char c), void *ctx)
{
	struct mime_join *j = arg;
	uint32_t vo, vl;
	int ext;

	j->put = put;
	j->ctx = ctx;
	for (unsigned sec = 0; sec < j->count; sec++) {
		mime_param_find_section(j->pl, j->bo, j->bl, sec, &vo, &vl, &ext);
		if (j->ext && !ext) {
			if (sec == 0) {         /* no charset, no language */
				put(ctx, '\'');
				put(ctx, '\'');
			}
			mime_xf_run(j->pl->msg + vo, vl, MIME_XF_VALUE, mime_join_escape, j);
		} else {
			mime_xf_run(j->pl->msg + vo, vl, MIME_XF_VALUE, put, ctx);
		}
	}
}

/*
 * "(" name value ... ")" or NIL; see mime_int.h. As Dovecot: the plain
 * parameters first, then the RFC 2231 ones, each complete set of sections
 * joined where its first section is ("name", or "name*" when a section is
 * extended); sections with a gap or a repeat are listed as written.
 */
void mime_out_params(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int text)
{
	struct mime_plist pl = { msg, 0, 0 };
	uint32_t pos, no, nl, vo, vl, bl, first;
	unsigned n = 0, seen, sec, count;
	int charset = 0, ext, gext;

	if (off != MIME_ABSENT) {
		pl.start = mime_params_start(msg, off, len);
		pl.end = off + len;
		for (int pass = 0; pass < 2; pass++) {
			pos = pl.start;
			seen = 0;
			while (seen++ < MIME_PARAMS_MAX && mime_param_next(msg, &pos, pl.end, &no, &nl, &vo, &vl)) {
				int cont = mime_param_section(msg, no, nl, &bl, &sec, &ext);
				if (cont != pass)
					continue;
				cont = cont && mime_param_group(&pl, no, bl, &count, &gext, &first);
				if (cont && first != no)
					continue;       /* joined into the group's first section */
				mime_out_str(o, n++ ? " " : "(");
				if (cont) {
					struct mime_join j = { &pl, no, bl, count, gext, NULL, NULL };
					mime_out_str(o, "\"");
					mime_out_put(o, msg + no, bl);   /* a token: nothing to escape */
					mime_out_str(o, gext ? "*\" " : "\" ");
					mime_out_gen(o, mime_join_gen, &j);
					charset |= mime_name_eq(msg, no, bl, "charset", 7);
				} else {
					mime_out_string(o, msg, no, nl, MIME_XF_RAW);
					mime_out_str(o, " ");
					mime_out_string(o, msg, vo, vl, MIME_XF_VALUE);
					charset |= mime_name_eq(msg, no, nl, "charset", 7);
				}
			}
		}
	}
	if (text && !charset) {
		mime_out_str(o, n++ ? " " : "(");
		mime_out_str(o, "\"charset\" \"us-ascii\"");
	}
	mime_out_str(o, n ? ")" : "NIL");
}
