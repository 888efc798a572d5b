/*
 * mime_param — the parameter list of BODYSTRUCTURE: Content-Type and
 * Content-Disposition parameters, with RFC 2231 continuations
 * ("name*0*=...; name*1*=...") joined into one "name*" parameter as other
 * servers do, and the default charset of text parts made explicit.
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

/* The joined value of a continued parameter, for mime_out_gen. */
struct mime_join {
	const struct mime_plist *pl;
	uint32_t bo, bl;
};

static void mime_join_gen(void *arg, void (*put)(void *ctx, unsigned char c), void *ctx)
{
	const struct mime_join *j = arg;
	uint32_t vo, vl;
	int ext;

	for (unsigned sec = 0; sec < MIME_PARAMS_MAX; sec++) {
		if (!mime_param_find_section(j->pl, j->bo, j->bl, sec, &vo, &vl, &ext))
			break;
		mime_xf_run(j->pl->msg + vo, vl, MIME_XF_VALUE, put, ctx);
	}
}

/* "(" name value ... ")" or NIL; see mime_int.h. */
void mime_out_params(struct mime_out *o, const char *msg, uint32_t off, uint32_t len, int text)
{
	struct mime_plist pl = { msg, 0, 0 };
	uint32_t pos, no, nl, vo, vl, bl, zo, zl;
	unsigned n = 0, seen = 0, sec;
	int charset = 0, ext, zext;

	if (off != MIME_ABSENT) {
		pl.start = pos = mime_params_start(msg, off, len);
		pl.end = off + len;
		while (seen++ < MIME_PARAMS_MAX && mime_param_next(msg, &pos, pl.end, &no, &nl, &vo, &vl)) {
			int cont = mime_param_section(msg, no, nl, &bl, &sec, &ext) &&
			           mime_param_find_section(&pl, no, bl, 0, &zo, &zl, &zext);
			if (cont && sec > 0)
				continue;       /* joined into its section 0 */
			mime_out_str(o, n++ ? " " : "(");
			if (cont) {
				struct mime_join j = { &pl, no, bl };
				mime_out_str(o, "\"");
				mime_out_put(o, msg + no, bl);   /* a token: nothing to escape */
				mime_out_str(o, zext ? "*\" " : "\" ");
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
	if (text && !charset) {
		mime_out_str(o, n++ ? " " : "(");
		mime_out_str(o, "\"charset\" \"us-ascii\"");
	}
	mime_out_str(o, n ? ")" : "NIL");
}
