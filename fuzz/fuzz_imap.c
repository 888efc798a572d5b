/*
 * fuzz_imap — arbitrary bytes as an assembled IMAP command (literals
 * inline) into the IMAP grammar: tag, command name, then every argument
 * form (atoms, flags, quoted strings, literals, nested lists, sequence
 * sets walked with imap_set_next), the literal-announcement check and the
 * mailbox-name check; then the same arguments through the check half of
 * every command that has one (STORE, COPY/MOVE, FETCH, SEARCH, SELECT/
 * EXAMINE, APPEND), which run without a store or a session.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_int.h"

/* Walk the arguments generically, as the command handlers do. */
static void walk(struct imap_p *p)
{
	struct imap_str s;
	char buf[300];
	unsigned steps = 0;

	while (!p->err && p->p < p->end && steps++ < 4096) {
		int c = imap_p_peek(p);
		if (c == ' ') {
			imap_p_sp(p);
		} else if (c == '(') {
			imap_p_open(p);
		} else if (c == ')') {
			imap_p_close(p);
		} else if (c == '"' || c == '{') {
			if (imap_p_string(p, &s) == 0)
				imap_str_copy(&s, buf, sizeof buf);
		} else if (c == '*' || (c >= '0' && c <= '9')) {
			const char *pos, *end = p->end;
			uint32_t lo = 0, hi = 0, prev = 0, n = 0;
			int star_given = 0;
			struct imap_p again;
			struct imap_str s2;
			if (imap_p_seqset(p, &s))
				break;
			/* normalised: the rest moved up behind it, the text shorter or
			 * the same, and a second pass leaves it as it is */
			if (p->end > end || s.len == 0)
				abort();
			imap_p_init(&again, s.s, s.len);
			if (imap_p_seqset(&again, &s2) || s2.len != s.len || !imap_p_eol(&again))
				abort();
			/* walked with any '*', no number comes twice */
			pos = s.s;
			while (n++ < 64 && imap_set_next(s.s, &pos, s.s + s.len, 1000, &lo, &hi)) {
				/* below the range before: only '*' alone, in a gap, once */
				if (lo > hi || (prev && lo <= prev && (lo != 1000 || hi != 1000 || star_given)))
					abort();
				if (lo <= 1000 && hi >= 1000)
					star_given = 1;
				prev = hi;
			}
			imap_set_has(s.s, s.s + s.len, 7, 5);
		} else if (c == '\\') {
			imap_p_flag(p, &s);
		} else if (c == 'N') {
			imap_p_nstring(p, &s);
		} else if (c == '%') {
			imap_p_listmbox(p, &s);
		} else {
			if (imap_p_astring(p, &s) == 0 && imap_str_copy(&s, buf, sizeof buf) == 0)
				imap_mbox_name_check(buf);
		}
	}
}

/* The arguments [s, end) through every check half. A check that passes
 * must leave its results inside the arguments (or in its own buffers). */
static void checks(const char *s, const char *end)
{
	struct imap_p p;
	struct imap_store_args st;
	struct imap_copy_args cp;
	struct imap_fetch_args fe;
	struct imap_search_args se;
	struct imap_append_args ap;
	char name[IMAP_MBOX_NAME_MAX + 1];
	size_t len = (size_t)(end - s);
	char *a = malloc(len + 1);

	/* each check on a fresh copy: a sequence set is normalised in place */
#define FRESH() (memcpy(a, s, len), a[len] = '\0', imap_p_init(&p, a, len), (void)0)
	if (!a)
		return;
	FRESH();
	if (imap_check_store(&p, &st) == 0 && (st.fl < a || st.fl_end > a + len || st.fl > st.fl_end))
		abort();
	FRESH();
	if (imap_check_copy(&p, &cp) == 0 && (cp.set.s < a || cp.set.s + cp.set.len > a + len))
		abort();
	FRESH();
	if (imap_check_fetch(&p, &fe) == 0 && fe.items > fe.items_end)
		abort();
	FRESH();
	if (imap_check_search(&p, &se) == 0 && (se.keys < a || se.keys_end > a + len || se.keys > se.keys_end))
		abort();
	FRESH();
	imap_check_select(&p, name);
	FRESH();
	if (imap_check_append(&p, &ap) == 0 && ap.nkw > IMAP_KEYWORDS_MAX)
		abort();
#undef FRESH
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_p p;
	struct imap_str tag, name;
	uint64_t n;
	int plus;
	char *copy;

	if (size > IMAP_CMD_MAX)
		return 0;
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	imap_literal_tail(copy, size, &n, &plus);
	imap_p_init(&p, copy, size);
	if (imap_p_tag(&p, &tag) == 0 && imap_p_sp(&p) == 0 && imap_p_atom(&p, &name) == 0) {
		const char *args = p.p;
		walk(&p);
		checks(args, copy + size);
	}
	free(copy);
	return 0;
}
