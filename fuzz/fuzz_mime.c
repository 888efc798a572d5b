/*
 * fuzz_mime — arbitrary bytes as a message (optionally "spec\0message"): parse, check the record,
 * render ENVELOPE/BODY/BODYSTRUCTURE whole and through a small window, resolve and render
 * sections, SEARCH; then damage the record and make sure the checker or the renderers cope.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

static unsigned char rec[MIME_REC_MAX];
static char out[1 << 16], win[1 << 16];

/* Render whole and in 61-byte windows; the two must agree (abort otherwise). */
static void fuzz_render(const char *msg, size_t len, size_t reclen, int what)
{
	uint64_t total, t2, off = 0;
	size_t n;

	if (mime_render(rec, reclen, msg, len, what, 0, out, sizeof out, &n, &total))
		return;
	if (total > sizeof out)
		return;         /* too long to compare here */
	if (n != total)
		abort();
	while (off < total) {
		if (mime_render(rec, reclen, msg, len, what, off, win + off, 61, &n, &t2) || t2 != total || n == 0)
			abort();
		off += n;
	}
	if (memcmp(out, win, (size_t)total))
		abort();
}

static void fuzz_section(const char *msg, size_t len, size_t reclen, const char *spec, size_t speclen)
{
	struct mime_sect s;
	uint64_t total;
	size_t n;
	int rc = mime_section(rec, reclen, len, spec, speclen, &s);

	if ((rc == -EINVAL) != (mime_section_check(spec, speclen) == -EINVAL))
		abort();        /* syntax is judged the same with and without a message */
	if (rc)
		return;
	if ((uint64_t)s.off + s.len > len)
		abort();
	if (mime_sect_render(&s, msg, len, 0, out, sizeof out, &n, &total))
		abort();
	if (total > 3)
		mime_sect_render(&s, msg, len, total - 3, out, 2, &n, &total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const specs[] = {
		"", "1", "2", "3", "1.1", "1.2", "2.1", "2.2.1", "1.MIME", "2.MIME", "HEADER", "TEXT",
		"1.HEADER", "2.HEADER", "2.TEXT", "HEADER.FIELDS (From Subject)", "2.HEADER.FIELDS.NOT (To \"cc\")",
	};
	static const char *const needles[] = { "a", "caf\xc3\xa9", "\xe9t\xe9", "From: ", "=?", "a@b.c>, " };
	const char *spec = NULL, *msg = (const char *)data;
	const char *nul = memchr(data, 0, size < 64 ? size : 64);
	size_t speclen = 0, len = size, reclen;
	struct mime_needle nd;

	if (nul) {
		spec = msg;
		speclen = (size_t)(nul - msg);
		msg = nul + 1;
		len = size - speclen - 1;
	}
	if (mime_parse(msg, len, rec, sizeof rec, &reclen))
		abort();        /* never fails on content */
	if (mime_rec_check(rec, reclen, len))
		abort();
	for (int what = MIME_R_ENVELOPE; what <= MIME_R_BODYSTRUCTURE; what++)
		fuzz_render(msg, len, reclen, what);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		fuzz_section(msg, len, reclen, specs[i], strlen(specs[i]));
	if (spec)
		fuzz_section(msg, len, reclen, spec, speclen);
	for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
		mime_needle_init(&nd, needles[i], strlen(needles[i]));
		for (int where = MIME_IN_HEADER; where <= MIME_IN_TEXT; where++)
			if (mime_search(rec, reclen, msg, len, where, NULL, 0, &nd) < 0)
				abort();
		mime_search(rec, reclen, msg, len, MIME_IN_HEADER, "subject", 7, &nd);
		if (mime_search(rec, reclen, msg, len, MIME_IN_ADDR, "to", 2, &nd) < 0 ||
		    mime_search(rec, reclen, msg, len, MIME_IN_ADDR, "from", 4, &nd) < 0)
			abort();
	}
	if (spec && mime_needle_init(&nd, spec, speclen) == 0)
		mime_search(rec, reclen, msg, len, MIME_IN_TEXT, NULL, 0, &nd);

	/* a damaged record: refused, or safe to use */
	if (reclen > 1 && size > 0) {
		size_t at = 1 + data[0] % (reclen - 1);
		rec[at] ^= (unsigned char)(data[size - 1] | 1);
		if (mime_rec_check(rec, reclen, len) == 0) {
			for (int what = MIME_R_ENVELOPE; what <= MIME_R_BODYSTRUCTURE; what++)
				fuzz_render(msg, len, reclen, what);
			for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
				fuzz_section(msg, len, reclen, specs[i], strlen(specs[i]));
			mime_search(rec, reclen, msg, len, MIME_IN_TEXT, NULL, 0, &nd);
		}
	}
	return 0;
}
