/*
 * fuzz_imap — arbitrary bytes as an assembled IMAP command (literals
 * inline) into the IMAP grammar: tag, command name, then every argument
 * form (atoms, flags, quoted strings, literals, nested lists, sequence
 * sets walked with imap_set_next), the literal-announcement check and the
 * mailbox-name check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap.h"

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
			const char *pos;
			uint32_t lo, hi, n = 0;
			if (imap_p_seqset(p, &s))
				break;
			pos = s.s;
			while (n++ < 64 && imap_set_next(&pos, s.s + s.len, 1000, &lo, &hi))
				;
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
	if (imap_p_tag(&p, &tag) == 0 && imap_p_sp(&p) == 0 && imap_p_atom(&p, &name) == 0)
		walk(&p);
	free(copy);
	return 0;
}
