/* test_mime — MIME records: parse, ENVELOPE/BODY/BODYSTRUCTURE, sections, SEARCH, limits, the store glue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"
#include "store.h"
#include "store_batch.h"
#include "store_check.h"
#include "store_mbox.h"
#include "store_mime.h"
#include "store_msg.h"
#include "store_user.h"
#include "store_int.h"     /* white-box: look at the "mime" database */
#include "check.h"

static unsigned char rec[MIME_REC_MAX];
static size_t reclen;
static char out[1 << 16];

/* Parse msg into rec; returns the record flags. */
static unsigned parse(const char *msg)
{
	int rc = mime_parse(msg, strlen(msg), rec, sizeof rec, &reclen);

	CHECK_RC(rc, 0);
	return rc ? 0xff : mime_rec_flags(rec);
}

/* Render item what in one go, and again through a 7-byte window; both must agree. */
static const char *render(const char *msg, int what)
{
	static char slow[sizeof out];
	uint64_t total = 0, t2, off = 0;
	size_t n;
	int rc;

	rc = mime_render(rec, reclen, msg, strlen(msg), what, 0, out, sizeof out - 1, &n, &total);
	CHECK_RC(rc, 0);
	out[rc ? 0 : n] = '\0';
	CHECK(n == total);
	do {
		rc = mime_render(rec, reclen, msg, strlen(msg), what, off, slow + off, 7, &n, &t2);
		off += n;
	} while (rc == 0 && n > 0 && off < sizeof slow - 8);
	slow[off] = '\0';
	CHECK(rc == 0 && t2 == total && off == total && strcmp(slow, out) == 0);
	return out;
}

/* BODY[spec] as a string, or "ERR<n>". */
static const char *sect(const char *msg, const char *spec)
{
	struct mime_sect s;
	uint64_t total;
	size_t n;
	int rc = mime_section(rec, reclen, strlen(msg), spec, strlen(spec), &s);

	if (rc == 0)
		rc = mime_sect_render(&s, msg, strlen(msg), 0, out, sizeof out - 1, &n, &total);
	if (rc) {
		snprintf(out, sizeof out, "ERR%d", -rc);
		return out;
	}
	out[n] = '\0';
	CHECK(n == total);
	return out;
}

static int search(const char *msg, int where, const char *field, const char *needle)
{
	struct mime_needle nd;

	if (mime_needle_init(&nd, needle, strlen(needle)))
		return -99;
	return mime_search(rec, reclen, msg, strlen(msg), where, field, field ? strlen(field) : 0, &nd);
}

/* RFC 3501's own example message, single part. */
static const char msg_simple[] =
	"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
	"From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
	"Subject: afternoon\r\n meeting\r\n"
	"To: mooch@owatagu.siam.edu.example\r\n"
	"Message-Id: <B27397-0100000@Blurdybloop.example>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
	"\r\n"
	"Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

static void test_simple(void)
{
	CHECK(parse(msg_simple) == 0);
	CHECK(mime_rec_count(rec) == 1);
	CHECK_STR(render(msg_simple, MIME_R_ENVELOPE),
	          "(\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"afternoon meeting\" "
	          "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
	          "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
	          "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
	          "((NIL NIL \"mooch\" \"owatagu.siam.edu.example\")) NIL NIL NIL "
	          "\"<B27397-0100000@Blurdybloop.example>\")");
	CHECK_STR(render(msg_simple, MIME_R_BODYSTRUCTURE),
	          "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" 55 1 NIL NIL NIL NIL)");
	CHECK_STR(render(msg_simple, MIME_R_BODY),
	          "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" 55 1)");
	CHECK_STR(sect(msg_simple, "TEXT"), "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n");
	CHECK_STR(sect(msg_simple, "1"), "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n");
	CHECK_STR(sect(msg_simple, ""), msg_simple);
	CHECK_STR(sect(msg_simple, "HEADER.FIELDS (subject FROM)"),
	          "From: Fred Foobar <foobar@Blurdybloop.example>\r\nSubject: afternoon\r\n meeting\r\n\r\n");
	CHECK_STR(sect(msg_simple, "header.fields.not (Date \"Message-Id\" MIME-Version Content-Type)"),
	          "From: Fred Foobar <foobar@Blurdybloop.example>\r\nSubject: afternoon\r\n meeting\r\n"
	          "To: mooch@owatagu.siam.edu.example\r\n\r\n");
	CHECK_STR(sect(msg_simple, "HEADER.FIELDS (X-None)"), "\r\n");
	CHECK(strncmp(sect(msg_simple, "HEADER"), "Date: Mon", 9) == 0 && strstr(out, "US-ASCII\r\n\r\n") &&
	      !strstr(out, "Hello"));
	CHECK_STR(sect(msg_simple, "2"), "ERR2");           /* ENOENT */
	CHECK_STR(sect(msg_simple, "1.1"), "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n");
	CHECK_STR(sect(msg_simple, "1.2"), "ERR2");
	CHECK_STR(sect(msg_simple, "1.TEXT"), "ERR2");      /* not a message/rfc822 part */
	CHECK_STR(sect(msg_simple, "0"), "ERR22");          /* EINVAL */
	CHECK_STR(sect(msg_simple, "MIME"), "ERR22");
	CHECK_STR(sect(msg_simple, "1."), "ERR22");
	CHECK_STR(sect(msg_simple, "1x"), "ERR22");
	CHECK_STR(sect(msg_simple, "HEADER.FIELDS"), "ERR22");
	CHECK_STR(sect(msg_simple, "HEADER.FIELDS ()"), "ERR22");
	CHECK_STR(sect(msg_simple, "HEADER.FIELDS (a (b))"), "ERR22");
	CHECK_STR(sect(msg_simple, "BODY"), "ERR22");
	{
		static const char *const good[] = { "", "1", "1.2.3", "TEXT", "header", "4.MIME",
		                                    "2.HEADER.FIELDS (A \"b c\")", "HEADER.FIELDS.NOT (X)", "3.TEXT" };
		static const char *const bad[] = { "0", "1.", ".1", "MIME", "1x", "HEADER.FIELDS", "HEADER.FIELDS ()",
		                                   "TEXT.1", "01", "1..2", "HEADER.FIELDS (a", "BODY" };
		for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
			CHECK_MSG(mime_section_check(good[i], strlen(good[i])) == 0, good[i]);
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
			CHECK_MSG(mime_section_check(bad[i], strlen(bad[i])) == -EINVAL, bad[i]);
	}
	CHECK(search(msg_simple, MIME_IN_HEADER, "subject", "NOON MEET") == 1);
	CHECK(search(msg_simple, MIME_IN_HEADER, "subject", "noon  meet") == 0);
	CHECK(search(msg_simple, MIME_IN_HEADER, "from", "blurdybloop") == 1);
	CHECK(search(msg_simple, MIME_IN_HEADER, "cc", "") == 0);
	CHECK(search(msg_simple, MIME_IN_HEADER, "to", "") == 1);
	CHECK(search(msg_simple, MIME_IN_BODY, NULL, "3:30 TOMORROW") == 1);
	CHECK(search(msg_simple, MIME_IN_BODY, NULL, "foobar") == 0);
	CHECK(search(msg_simple, MIME_IN_TEXT, NULL, "foobar") == 1);
	CHECK(search(msg_simple, MIME_IN_TEXT, NULL, "message-id: <b27397") == 1);
	CHECK(search(msg_simple, MIME_IN_TEXT, NULL, "") == 1);
}

static const char msg_alt[] =
	"From: a@example.com\r\n"
	"Subject: alt\r\n"
	"Content-Type: multipart/alternative; boundary=\"=_b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--=_b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"caf=C3=A9 soft=\r\nbreak\r\n"
	"--=_b1\r\n"
	"Content-Type: text/html; charset=\"iso-8859-1\"\r\n"
	"\r\n"
	"<p>Gr\xfc\xdf" "e</p>\r\n"
	"--=_b1--\r\n"
	"epilogue\r\n";

static void test_alternative(void)
{
	CHECK(parse(msg_alt) == 0);
	CHECK(mime_rec_count(rec) == 3);
	CHECK_STR(render(msg_alt, MIME_R_BODYSTRUCTURE),
	          "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 22 1 NIL NIL NIL NIL)"
	          "(\"text\" \"html\" (\"charset\" \"iso-8859-1\") NIL NIL \"7bit\" 12 0 NIL NIL NIL NIL)"
	          " \"alternative\" (\"boundary\" \"=_b1\") NIL NIL NIL)");
	CHECK_STR(render(msg_alt, MIME_R_BODY),
	          "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 22 1)"
	          "(\"text\" \"html\" (\"charset\" \"iso-8859-1\") NIL NIL \"7bit\" 12 0) \"alternative\")");
	CHECK_STR(sect(msg_alt, "1"), "caf=C3=A9 soft=\r\nbreak");
	CHECK_STR(sect(msg_alt, "2"), "<p>Gr\xfc\xdf" "e</p>");
	CHECK_STR(sect(msg_alt, "2.MIME"), "Content-Type: text/html; charset=\"iso-8859-1\"\r\n\r\n");
	CHECK_STR(sect(msg_alt, "3"), "ERR2");
	CHECK_STR(sect(msg_alt, "1.1"), "caf=C3=A9 soft=\r\nbreak");    /* a leaf's part 1 is itself */
	CHECK_STR(sect(msg_alt, "1.1.MIME"), "Content-Type: text/plain; charset=utf-8\r\n"
	          "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	CHECK_STR(sect(msg_alt, "1.2"), "ERR2");
	CHECK(strncmp(sect(msg_alt, "TEXT"), "preamble\r\n--=_b1", 16) == 0);
	CHECK(search(msg_alt, MIME_IN_BODY, NULL, "CAFÉ SOFTBREAK") == 1);
	CHECK(search(msg_alt, MIME_IN_BODY, NULL, "caf=c3") == 0);
	CHECK(search(msg_alt, MIME_IN_BODY, NULL, "GRÜSSE") == 0);   /* simple folding: ß stays */
	CHECK(search(msg_alt, MIME_IN_BODY, NULL, "GRÜß") == 1);     /* Latin-1 decoded to UTF-8 */
	CHECK(search(msg_alt, MIME_IN_BODY, NULL, "preamble") == 0);
	CHECK(search(msg_alt, MIME_IN_BODY, NULL, "\xe9") == 1);     /* a Latin-1 needle byte is folded too */
}

static const char msg_mixed[] =
	"From: \"Doe, Jane\" <jane@example.org>\r\n"
	"Sender: (nobody)\r\n"
	"Reply-To: list@example.org (The List)\r\n"
	"Subject: =?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6nDqQ==?= ok\r\n"
	"Content-Type: multipart/mixed;\r\n boundary=XyZ (a comment)\r\n"
	"\r\n"
	"--XyZ\r\n"
	"\r\n"
	"default text part\r\n"
	"--XyZ\r\n"
	"Content-Type: application/pdf; name=\"r\\\"x.pdf\"\r\n"
	"Content-Transfer-Encoding: BASE64\r\n"
	"Content-Disposition: attachment; filename=report.pdf; size=12\r\n"
	"Content-Language: en, de\r\n"
	"Content-Location: http://example.org/r.pdf\r\n"
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	"Content-ID: <part2@example.org>\r\n"
	"Content-Description: the\r\n  report\r\n"
	"\r\n"
	"R3LDvMOfZSBhdXMgS8O2bG4=\r\n"
	"--XyZ\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"R3L832UgYXVzIEv2bG4=\r\n"
	"--XyZ--\r\n";

static void test_mixed(void)
{
	CHECK(parse(msg_mixed) == 0);
	CHECK(mime_rec_count(rec) == 4);
	CHECK_STR(render(msg_mixed, MIME_R_BODYSTRUCTURE),
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 17 0 NIL NIL NIL NIL)"
	          "(\"application\" \"pdf\" (\"name\" \"r\\\"x.pdf\") \"<part2@example.org>\" \"the  report\""
	          " \"BASE64\" 24 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"report.pdf\" \"size\" \"12\"))"
	          " (\"en\" \"de\") \"http://example.org/r.pdf\")"
	          "(\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"base64\" 20 0 NIL NIL NIL NIL)"
	          " \"mixed\" (\"boundary\" \"XyZ\") NIL NIL NIL)");
	CHECK_STR(render(msg_mixed, MIME_R_ENVELOPE),
	          "(NIL \"=?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6nDqQ==?= ok\" "
	          "((\"Doe, Jane\" NIL \"jane\" \"example.org\")) "
	          "((\"Doe, Jane\" NIL \"jane\" \"example.org\")) "
	          "((\"The List\" NIL \"list\" \"example.org\")) NIL NIL NIL NIL NIL)");
	CHECK(search(msg_mixed, MIME_IN_HEADER, "Subject", "CAFÉÉÉ OK") == 1);      /* words joined */
	CHECK(search(msg_mixed, MIME_IN_HEADER, "Subject", "café é") == 0);
	CHECK(search(msg_mixed, MIME_IN_HEADER, "subject", "=?iso") == 0);
	CHECK(search(msg_mixed, MIME_IN_BODY, NULL, "grüße aus köln") == 1);      /* latin-1 base64 text */
	CHECK(search(msg_mixed, MIME_IN_BODY, NULL, "DEFAULT TEXT") == 1);
	CHECK(search(msg_mixed, MIME_IN_BODY, NULL, "KÖLN") == 1);
	CHECK(search(msg_mixed, MIME_IN_BODY, NULL, "R3LDvMOf") == 0);            /* attachments not searched */
	CHECK_STR(sect(msg_mixed, "2"), "R3LDvMOfZSBhdXMgS8O2bG4=");
	CHECK_STR(sect(msg_mixed, "1.MIME"), "\r\n");
	CHECK_STR(sect(msg_mixed, "2.HEADER"), "ERR2");
}

static const char msg_nested[] =
	"From: outer@example.com\r\n"
	"To: Team: Ed Jones <c@a.test>, joe@where.test, \"John Q.\" <jdoe@one.test>;, x@y.test\r\n"
	"Cc: Undisclosed recipients:;\r\n"
	"Bcc: <@route.test,@r2.test:who@host.test>, bare\r\n"
	"Subject: fwd\r\n"
	"Content-Type: multipart/mixed; boundary=outer\r\n"
	"\r\n"
	"--outer\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"see attached\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: Inner Person <inner@example.net>\r\n"
	"Subject: inner\r\n"
	"Content-Type: multipart/alternative; boundary=inner\r\n"
	"\r\n"
	"--inner\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"inner plain\r\n"
	"--inner\r\n"
	"Content-Type: text/html\r\n"
	"\r\n"
	"<b>inner</b>\r\n"
	"--inner--\r\n"
	"\r\n"
	"--outer--\r\n";

static void test_nested(void)
{
	CHECK(parse(msg_nested) == 0);
	CHECK(mime_rec_count(rec) == 6);
	CHECK_STR(render(msg_nested, MIME_R_ENVELOPE),
	          "(NIL \"fwd\" ((NIL NIL \"outer\" \"example.com\")) ((NIL NIL \"outer\" \"example.com\")) "
	          "((NIL NIL \"outer\" \"example.com\")) "
	          "((NIL NIL \"Team\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")(NIL NIL \"joe\" \"where.test\")"
	          "(\"John Q.\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)(NIL NIL \"x\" \"y.test\")) "
	          "((NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) "
	          "((NIL \"@route.test,@r2.test\" \"who\" \"host.test\")(NIL NIL \"bare\" \"\")) NIL NIL)");
	CHECK_STR(render(msg_nested, MIME_R_BODY),
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 0)"
	          "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 222 "
	          "(NIL \"inner\" ((\"Inner Person\" NIL \"inner\" \"example.net\")) "
	          "((\"Inner Person\" NIL \"inner\" \"example.net\")) ((\"Inner Person\" NIL \"inner\" \"example.net\")) "
	          "NIL NIL NIL NIL NIL) "
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 0) "
	          "\"alternative\") 13) \"mixed\")");
	CHECK_STR(sect(msg_nested, "2.1"), "inner plain");
	CHECK_STR(sect(msg_nested, "2.2"), "<b>inner</b>");
	CHECK_STR(sect(msg_nested, "2.2.MIME"), "Content-Type: text/html\r\n\r\n");
	CHECK_STR(sect(msg_nested, "2.HEADER"),
	          "From: Inner Person <inner@example.net>\r\nSubject: inner\r\n"
	          "Content-Type: multipart/alternative; boundary=inner\r\n\r\n");
	CHECK_STR(sect(msg_nested, "2.HEADER.FIELDS (SUBJECT)"), "Subject: inner\r\n\r\n");
	CHECK(strncmp(sect(msg_nested, "2.TEXT"), "--inner\r\n", 9) == 0);
	CHECK(strncmp(sect(msg_nested, "2"), "From: Inner", 11) == 0 && strlen(out) == 222);
	CHECK_STR(sect(msg_nested, "2.MIME"), "Content-Type: message/rfc822\r\n\r\n");
	CHECK_STR(sect(msg_nested, "2.3"), "ERR2");
	CHECK_STR(sect(msg_nested, "2.1.1"), "inner plain");
	CHECK_STR(sect(msg_nested, "2.1.2"), "ERR2");
	CHECK_STR(sect(msg_nested, "1.HEADER"), "ERR2");
	CHECK(search(msg_nested, MIME_IN_BODY, NULL, "INNER PERSON") == 0);       /* BODY: text parts only */
	CHECK(search(msg_nested, MIME_IN_TEXT, NULL, "INNER PERSON") == 1);       /* TEXT: every header too */
	CHECK(search(msg_nested, MIME_IN_TEXT, NULL, "content-type: text/html") == 1);
	CHECK(search(msg_nested, MIME_IN_BODY, NULL, "content-type") == 0);
	CHECK(search(msg_nested, MIME_IN_HEADER, NULL, "inner person") == 0);
	CHECK(search(msg_nested, MIME_IN_BODY, NULL, "<B>INNER") == 1);
	CHECK(search(msg_nested, MIME_IN_HEADER, "to", "JDOE@one") == 1);
}

/* What other servers do with odd but real mail: repeated address fields, a multipart nested with its parent's boundary. */
static const char msg_same[] =
	"To: a@x.test\r\nCc: b@x.test\r\nCC: c@x.test, d@x.test\r\n"
	"Content-Type: multipart/mixed; boundary=\"s\"\r\n\r\n"
	"--s\r\nContent-Type: multipart/alternative; boundary=s\r\n\r\n"
	"--s\r\nContent-Type: text/plain; format=flowed\r\n\r\nplain\r\n"
	"--s\r\nContent-Type: text/html\r\n\r\nhtml\r\n"
	"--s--\r\n\r\n"
	"--s\r\nContent-Type: MESSAGE/RFC822\r\n\r\nSubject: in\r\n\r\nx\r\n"
	"--s--\r\n";

static void test_quirks(void)
{
	CHECK(parse(msg_same) == 0);
	CHECK(mime_rec_count(rec) == 6);
	CHECK_STR(render(msg_same, MIME_R_ENVELOPE),
	          "(NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"x.test\")) "
	          "((NIL NIL \"b\" \"x.test\")(NIL NIL \"c\" \"x.test\")(NIL NIL \"d\" \"x.test\")) NIL NIL NIL)");
	CHECK_STR(render(msg_same, MIME_R_BODY),
	          "(((\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0)"
	          "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0) \"alternative\")"
	          "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 16 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	          "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) 2) \"mixed\")");
	CHECK_STR(sect(msg_same, "1.2"), "html");
	CHECK_STR(sect(msg_same, "2.TEXT"), "x");
	CHECK_STR(sect(msg_same, "2.1"), "x");
	CHECK(search(msg_same, MIME_IN_HEADER, "cc", "D@X.TEST") == 1);
	CHECK(search(msg_same, MIME_IN_HEADER, "to", "d@x") == 0);

	/* RFC 2231 continuations are joined; a lone section or one without section 0 stays as written */
	static const char cont[] =
		"Content-Type: application/octet-stream; name*1*=%20menu; name*0*=utf-8''caf%C3%A9;\r\n"
		" name*2=\".pdf\"; x*1=lone\r\n"
		"Content-Disposition: attachment; filename*0=\"long \"; filename*1=\"name.txt\"\r\n\r\nbody\r\n";
	CHECK(parse(cont) == 0);
	CHECK_STR(render(cont, MIME_R_BODYSTRUCTURE),
	          "(\"application\" \"octet-stream\" (\"name*\" \"utf-8''caf%C3%A9%20menu.pdf\" \"x*1\" \"lone\") NIL NIL"
	          " \"7bit\" 6 NIL (\"attachment\" (\"filename\" \"long name.txt\")) NIL NIL)");
}

/* Malformed input: served with defaults, never an error. */
static void test_malformed(void)
{
	static const char noboundary[] =
		"Content-Type: multipart/mixed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n--x\r\nbody\r\n";
	static const char noend[] =
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
		"--b\r\nContent-Type: multipart/related; boundary=c\r\n\r\n--c\r\n\r\ntwo\r\n--b\r\n\r\nthree\r\n";
	static const char badlines[] =
		"From me Mon Jan  1 00:00:00 2024\r\nthis is no header\r\n: empty name\r\nSubject: ok\r\n"
		" continued\r\nContent-Type: ;;\r\n\r\nbody\r\n";
	static const char eightbit[] =
		"From: J\xc3\xbcrgen <j@example.de>\r\nSubject: Gr\xc3\xbc\xc3\x9f" "e \"quoted\" \\ back\r\n\r\nx";
	static const char lfonly[] =
		"From: lf@example.com\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\n"
		"line one\nline two\n--q--\n";
	static const char noheader[] = "just a body line\r\n";
	static const char blankfirst[] = "\r\nbody only\r\n";

	CHECK(parse(noboundary) == MIME_RF_MALFORMED);
	CHECK_STR(render(noboundary, MIME_R_BODYSTRUCTURE),
	          "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 11 2 NIL NIL NIL NIL)");
	CHECK_STR(render(noboundary, MIME_R_ENVELOPE), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	CHECK_STR(sect(noboundary, "1"), "--x\r\nbody\r\n");

	CHECK(parse(noend) == MIME_RF_MALFORMED);
	CHECK(mime_rec_count(rec) == 5);
	CHECK_STR(render(noend, MIME_R_BODY),
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	          " \"7bit\" 3 0) \"related\")(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1) \"mixed\")");
	CHECK_STR(sect(noend, "2.1"), "two");
	CHECK_STR(sect(noend, "3"), "three\r\n");

	CHECK(parse(badlines) == MIME_RF_MALFORMED);
	CHECK_STR(render(badlines, MIME_R_ENVELOPE), "(NIL \"ok continued\" NIL NIL NIL NIL NIL NIL NIL NIL)");
	CHECK_STR(render(badlines, MIME_R_BODY), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)");
	CHECK_STR(sect(badlines, "HEADER.FIELDS.NOT (Content-Type)"),      /* lines that are no field stay */
	          "From me Mon Jan  1 00:00:00 2024\r\nthis is no header\r\n: empty name\r\nSubject: ok\r\n continued\r\n\r\n");
	CHECK_STR(sect(badlines, "HEADER.FIELDS (Content-Type)"), "Content-Type: ;;\r\n\r\n");

	CHECK(parse(eightbit) == 0);                        /* a last line without its end is fine */
	CHECK_STR(render(eightbit, MIME_R_ENVELOPE),
	          "(NIL {23}\r\nGr\xc3\xbc\xc3\x9f" "e \"quoted\" \\ back (({7}\r\nJ\xc3\xbcrgen NIL \"j\" \"example.de\")) "
	          "(({7}\r\nJ\xc3\xbcrgen NIL \"j\" \"example.de\")) (({7}\r\nJ\xc3\xbcrgen NIL \"j\" \"example.de\")) "
	          "NIL NIL NIL NIL NIL)");
	CHECK(search(eightbit, MIME_IN_HEADER, "from", "JÜRGEN") == 1);
	CHECK(search(eightbit, MIME_IN_HEADER, "subject", "GRÜßE \"QUOTED\"") == 1);
	CHECK(search(eightbit, MIME_IN_BODY, NULL, "X") == 1);

	CHECK(parse(lfonly) == 0);
	CHECK(mime_rec_count(rec) == 2);
	CHECK_STR(render(lfonly, MIME_R_BODY), "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 17 1) \"mixed\")");
	CHECK_STR(sect(lfonly, "1"), "line one\nline two");
	CHECK_STR(sect(lfonly, "HEADER.FIELDS (FROM)"), "From: lf@example.com\n\r\n");

	CHECK(parse(noheader) == 0);                        /* no blank line: all header, no body */
	CHECK_STR(render(noheader, MIME_R_BODY), "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
	CHECK(parse(blankfirst) == 0);
	CHECK_STR(sect(blankfirst, "TEXT"), "body only\r\n");
	CHECK_STR(sect(blankfirst, "HEADER"), "\r\n");
	CHECK(parse("") == 0);
	CHECK_STR(render("", MIME_R_BODYSTRUCTURE),
	          "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)");
	CHECK_STR(sect("", "HEADER.FIELDS (A)"), "\r\n");
}

/* SEARCH decoding: transfer encodings, encoded words, charsets, folding. */
static void test_search_decoding(void)
{
	static const char m[] =
		"Subject: =?utf-8?q?hello_w=C3=B6rld?= and =?utf-8?x?not-a-word?=\r\n"
		"From: =?iso-8859-15?b?pCAxMA==?= <euro@example.org>\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		"=93quoted=94 soft=  \r\nbreak =3D=\nend\r\n"
		"--b\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"zrHOuM63zr3OsSDQvNC+0YHQutCy0LA=\r\n"        /* "αθηνα москва" */
		"--b\r\nContent-Type: text/plain; charset=iso-8859-15\r\n\r\n"
		"price \xa4 5, \xbd\xbe\r\n"
		"--b\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n"
		"caf\xe9 and caf\xc3\xa9\r\n"
		"--b--\r\n";

	CHECK(parse(m) == 0);
	CHECK(search(m, MIME_IN_HEADER, "subject", "HELLO WÖRLD") == 1);       /* Q: '_' is a space */
	CHECK(search(m, MIME_IN_HEADER, "subject", "=?utf-8?x?not-a-word?=") == 1);   /* not a word: as is */
	CHECK(search(m, MIME_IN_HEADER, "from", "€ 10") == 1);                 /* ISO-8859-15 in B */
	CHECK(search(m, MIME_IN_BODY, NULL, "\xe2\x80\x9cquoted\xe2\x80\x9d") == 1);  /* windows-1252 quotes */
	CHECK(search(m, MIME_IN_BODY, NULL, "softbreak =end") == 1);            /* QP soft breaks, =3D */
	CHECK(search(m, MIME_IN_BODY, NULL, "ΑΘΗΝΑ МОСКВА") == 1);              /* Greek and Cyrillic folding */
	CHECK(search(m, MIME_IN_BODY, NULL, "price € 5, œŸ") == 1);            /* ISO-8859-15 specials */
	CHECK(search(m, MIME_IN_BODY, NULL, "CAFÉ AND CAFÉ") == 1);            /* unknown: UTF-8, else 1252 */
	CHECK(search(m, MIME_IN_BODY, NULL, "zrHOuM63") == 0);                  /* base64 is not searched raw */
	CHECK(search(m, MIME_IN_TEXT, NULL, "charset=windows-1252") == 1);      /* TEXT: part headers too */
	CHECK(search(m, MIME_IN_BODY, NULL, "charset=windows-1252") == 0);
}

/*
 * Folded header values (issue 14): a quoted boundary folded across lines,
 * RFC 2231 continuations by Dovecot's rules, ENVELOPE white space, SEARCH
 * on unfolded values and on parsed addresses. The answers are Dovecot 2.3's.
 */
static void test_unfold(void)
{
	static const char fold_sp[] =
		"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"foo\r\n bar\"\r\n\r\n"
		"pre\r\n--foo bar\r\nContent-Type: text/plain\r\n\r\none\r\n--foo bar\r\n\r\ntwo\r\n--foo bar--\r\n";
	static const char fold_lf[] =
		"Content-Type: multipart/mixed;\n boundary=\"foo\n\tbar\"\n\n--foo\tbar\n\none\n--foo\tbar--\n";
	static const char sections[] =
		"Content-Type: multipart/\r\n mixed; boundary*0=\"ab\r\n c\";\r\n boundary*1\r\n =\r\n de\r\n\r\n"
		"--ab cde\r\n\r\none\r\n--ab cde--\r\n";
	static const char bare_cr[] =
		"Content-Type: multipart/mixed; boundary=\"foo\r bar\"\r\n\r\n--foo bar\r\n\r\none\r\n--foo bar--\r\n";
	static const char cont[] =
		"Content-Type: application/x; a*0=\"50%\";\r\n a*1*=%41%42; b*0*=us-ascii''%41;\r\n"
		" b*2=zz; plain=p; c*0=x; C*0=y; d*0=\r\n \"q\r\n r\"; d*1=\r\n s\r\n\r\nzz\r\n";
	static const char hdrs[] =
		"From: \"Tab\tand  spaces\" <a@b.example>, c@d.example (a\r\n  comment)\r\n"
		"To: \"Name\" <user-from (comment) @ domain.org>, Team: x (y) @ b.example, \"q\" <c @ d . example>;\r\n"
		"Cc: =?UTF-8?Q?Jos=C3?=\r\n =?UTF-8?Q?=A9?= <jose@x.example>\r\n"
		"Subject: =?UTF-8?B?w6k=?=\r\n =?UTF-8?Q?t=C3?=\r\n\t=?UTF-8?Q?=A9?= =?ISO-8859-1?Q?_No=EBl?=\r\n"
		"\tand  more\r\n\r\nbody\r\n";

	CHECK(parse(fold_sp) == 0);     /* no repair needed */
	CHECK(mime_rec_count(rec) == 3);
	CHECK_STR(render(fold_sp, MIME_R_BODYSTRUCTURE),
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL)"
	          "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL)"
	          " \"mixed\" (\"boundary\" \"foo bar\") NIL NIL NIL)");
	CHECK_STR(sect(fold_sp, "1"), "one");
	CHECK_STR(sect(fold_sp, "2"), "two");
	CHECK(parse(fold_lf) == 0);     /* bare LF, a tab kept */
	CHECK_STR(render(fold_lf, MIME_R_BODY),
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0) \"mixed\")");

	CHECK(parse(sections) == 0);    /* the boundary as RFC 2231 sections, joined */
	CHECK_STR(render(sections, MIME_R_BODY),
	          "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0) \"mixed\")");
	CHECK_STR(sect(sections, "1"), "one");
	CHECK(parse(bare_cr) == MIME_RF_MALFORMED);     /* a bare CR is no fold: no delimiter matches */
	CHECK(mime_rec_count(rec) == 1);

	CHECK(parse(cont) == 0);
	CHECK_STR(render(cont, MIME_R_BODYSTRUCTURE),
	          "(\"application\" \"x\" (\"plain\" \"p\" \"a*\" \"''50%25%41%42\" \"b*0*\" \"us-ascii''%41\""
	          " \"b*2\" \"zz\" \"c*0\" \"x\" \"C*0\" \"y\" \"d\" \"q rs\") NIL NIL \"7bit\" 4 NIL NIL NIL NIL)");

	CHECK(parse(hdrs) == 0);
	CHECK_STR(render(hdrs, MIME_R_ENVELOPE),
	          "(NIL \"=?UTF-8?B?w6k=?= =?UTF-8?Q?t=C3?= =?UTF-8?Q?=A9?= =?ISO-8859-1?Q?_No=EBl?= and more\" "
	          "((\"Tab and spaces\" NIL \"a\" \"b.example\")(\"a comment\" NIL \"c\" \"d.example\")) "
	          "((\"Tab and spaces\" NIL \"a\" \"b.example\")(\"a comment\" NIL \"c\" \"d.example\")) "
	          "((\"Tab and spaces\" NIL \"a\" \"b.example\")(\"a comment\" NIL \"c\" \"d.example\")) "
	          "((\"Name\" NIL \"user-from\" \"domain.org\")(NIL NIL \"Team\" NIL)(\"y\" NIL \"x\" \"b.example\")"
	          "(\"q\" NIL \"c\" \"d.example\")(NIL NIL NIL NIL)) "
	          "((\"=?UTF-8?Q?Jos=C3?= =?UTF-8?Q?=A9?=\" NIL \"jose\" \"x.example\")) NIL NIL NIL)");
	/* header values: unfolded, white space runs one space, words of one charset joined */
	CHECK(search(hdrs, MIME_IN_HEADER, "subject", "été noël and more") == 1);
	CHECK(search(hdrs, MIME_IN_HEADER, "subject", "and  more") == 0);
	CHECK(search(hdrs, MIME_IN_HEADER, "cc", "josé") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, "cc", "josé <jose@x.example>") == 1);
	/* addresses as parsed, then as written */
	CHECK(search(hdrs, MIME_IN_HEADER, "to", "user-from@domain.org") == 0);
	CHECK(search(hdrs, MIME_IN_ADDR, "to", "user-from@domain.org") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, "to", "Name <user-from@domain.org>, Team: y <x@b.example>, q <c@d.") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, "to", "c@d.example>;") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, "to", "(comment) @ domain") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, "from", "tab and spaces <a@b.example>, a comment <c@d") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, "from", "user-from") == 0);
	CHECK(search(hdrs, MIME_IN_ADDR, "bcc", "") == 0);
	CHECK(search(hdrs, MIME_IN_ADDR, "to", "") == 1);
	CHECK(search(hdrs, MIME_IN_ADDR, NULL, "a") == -EINVAL);
	{
		/* MIME_ADDR_TEXT_MAX: one address's text is cut there (the header as written still counts) */
		static char m[MIME_ADDR_TEXT_MAX + 100];
		for (size_t name = MIME_ADDR_TEXT_MAX - 14; name <= MIME_ADDR_TEXT_MAX - 13; name++) {
			size_t n = (size_t)snprintf(m, sizeof m, "To: ");
			memset(m + n, 'n', name);
			snprintf(m + n + name, sizeof m - n - name, " <x @ y.example>\r\n\r\n");
			CHECK(parse(m) == 0);
			CHECK(search(m, MIME_IN_ADDR, "to", "x@y.example>") == (name == MIME_ADDR_TEXT_MAX - 14));
			CHECK(search(m, MIME_IN_ADDR, "to", "<x @ y.example>") == 1);
		}
	}
	{
		/* MIME_BOUNDARY_MAX counts the boundary unfolded: len 'b's and the space */
		static char m[4 * MIME_BOUNDARY_MAX], b[MIME_BOUNDARY_MAX + 2];
		for (size_t len = MIME_BOUNDARY_MAX - 1; len <= MIME_BOUNDARY_MAX; len++) {
			memset(b, 'b', len);
			b[len] = '\0';
			snprintf(m, sizeof m, "Content-Type: multipart/mixed; boundary=\"%.100s\r\n %s\"\r\n\r\n"
			         "--%.100s %s\r\n\r\npart\r\n--%.100s %s--\r\n", b, b + 100, b, b + 100, b, b + 100);
			CHECK(parse(m) == (len < MIME_BOUNDARY_MAX ? 0 : MIME_RF_MALFORMED));
			CHECK(mime_rec_count(rec) == (len < MIME_BOUNDARY_MAX ? 2 : 1));
		}
	}
}

/* Nest n multiparts (boundaries b0, b1, ...) around one text part into buf. */
static void nest(char *buf, size_t cap, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n",
		                        i, i);
	len += (size_t)snprintf(buf + len, cap - len, "Content-Type: text/plain\r\n\r\ndeep\r\n");
	for (int i = n - 1; i >= 0; i--)
		len += (size_t)snprintf(buf + len, cap - len, "--b%d--\r\n", i);
}

/* Depth, part and header-field limits at their boundaries. */
static void test_limits(void)
{
	static char buf[1 << 16];
	struct mime_ent e;
	size_t len;
	char spec[64];

	nest(buf, sizeof buf, MIME_DEPTH_MAX);          /* text part at depth MIME_DEPTH_MAX: fine */
	CHECK(parse(buf) == 0);
	CHECK(mime_rec_count(rec) == MIME_DEPTH_MAX + 1);
	CHECK(mime_rec_ent(rec, MIME_DEPTH_MAX, &e) == 0 && e.depth == MIME_DEPTH_MAX && e.kind == MIME_K_LEAF &&
	      !(e.flags & MIME_EF_FLAT));
	len = 0;
	for (int i = 0; i < MIME_DEPTH_MAX; i++)
		len += (size_t)snprintf(spec + len, sizeof spec - len, "1.");
	spec[len - 1] = '\0';
	CHECK_STR(sect(buf, spec), "deep");
	nest(buf, sizeof buf, MIME_DEPTH_MAX + 1);      /* one more: the deepest multipart is not split */
	CHECK(parse(buf) == MIME_RF_LIMIT);
	CHECK(mime_rec_count(rec) == MIME_DEPTH_MAX + 1);
	CHECK(mime_rec_ent(rec, MIME_DEPTH_MAX, &e) == 0 && (e.flags & MIME_EF_FLAT) && e.kind == MIME_K_LEAF);
	CHECK(render(buf, MIME_R_BODY) != NULL);
	CHECK(search(buf, MIME_IN_BODY, NULL, "deep") == 1);

	/* parts: the message plus MIME_PARTS_MAX - 1 parts fit; one more is dropped */
	for (int extra = 0; extra <= 1; extra++) {
		int parts = MIME_PARTS_MAX - 1 + extra;
		len = (size_t)snprintf(buf, sizeof buf, "Content-Type: multipart/mixed; boundary=p\r\n\r\n");
		for (int i = 0; i < parts; i++)
			len += (size_t)snprintf(buf + len, sizeof buf - len, "--p\r\n\r\npart %d\r\n", i + 1);
		len += (size_t)snprintf(buf + len, sizeof buf - len, "--p--\r\n");
		CHECK(parse(buf) == (extra ? MIME_RF_LIMIT : 0u));
		CHECK(mime_rec_count(rec) == MIME_PARTS_MAX);
		CHECK(reclen <= MIME_REC_MAX);
		snprintf(spec, sizeof spec, "%d", MIME_PARTS_MAX - 1);
		snprintf(buf + sizeof buf / 2, 32, "part %d", MIME_PARTS_MAX - 1);
		CHECK_STR(sect(buf, spec), buf + sizeof buf / 2);
		snprintf(spec, sizeof spec, "%d", MIME_PARTS_MAX);
		CHECK_STR(sect(buf, spec), "ERR2");
	}

	/* header fields: Subject as field MIME_FIELDS_MAX counts, one later does not */
	for (int extra = 0; extra <= 1; extra++) {
		len = 0;
		for (int i = 0; i < MIME_FIELDS_MAX - 1 + extra; i++)
			len += (size_t)snprintf(buf + len, sizeof buf - len, "X-F%d: v\r\n", i);
		len += (size_t)snprintf(buf + len, sizeof buf - len, "Subject: late\r\n\r\nbody\r\n");
		CHECK(parse(buf) == (extra ? MIME_RF_LIMIT : 0u));
		CHECK_STR(sect(buf, "TEXT"), "body\r\n");      /* the header still ends at the blank line */
		CHECK((strstr(render(buf, MIME_R_ENVELOPE), "\"late\"") != NULL) == !extra);
	}

	/* header bytes: a field past MIME_HEADER_SCAN_MAX is not seen, the header still ends right */
	{
		static char hbig[MIME_HEADER_SCAN_MAX + 4096];
		len = (size_t)snprintf(hbig, sizeof hbig, "X-Big: ");
		memset(hbig + len, 'x', MIME_HEADER_SCAN_MAX);
		len += MIME_HEADER_SCAN_MAX;
		snprintf(hbig + len, sizeof hbig - len, "\r\nSubject: hidden\r\n\r\nthe body\r\n");
		CHECK(parse(hbig) == MIME_RF_LIMIT);
		CHECK_STR(sect(hbig, "TEXT"), "the body\r\n");
		CHECK(strstr(render(hbig, MIME_R_ENVELOPE), "hidden") == NULL);
		CHECK(search(hbig, MIME_IN_HEADER, "subject", "hidden") == 0);
		CHECK_STR(sect(hbig, "HEADER.FIELDS (Subject)"), "\r\n");
	}

	/* many delimiters and no blank lines: linear, every part a default leaf */
	{
		static char dl[1 << 20];
		len = (size_t)snprintf(dl, sizeof dl, "Content-Type: multipart/mixed; boundary=d\r\n\r\n");
		while (len + 16 < sizeof dl)
			len += (size_t)snprintf(dl + len, sizeof dl - len, "--d\r\nX\r\n");
		CHECK(parse(dl) == (MIME_RF_LIMIT | MIME_RF_MALFORMED));
		CHECK(mime_rec_count(rec) == MIME_PARTS_MAX);
		CHECK_STR(sect(dl, "2"), "");
		CHECK_STR(sect(dl, "2.MIME"), "X");
	}

	/* a buffer too small, records refused */
	CHECK_RC(mime_parse(msg_simple, strlen(msg_simple), rec, 20, &len), -ENOSPC);
	CHECK_RC(mime_parse(NULL, 5, rec, sizeof rec, &len), -EINVAL);
	parse(msg_simple);
	CHECK_RC(mime_rec_check(rec, reclen, strlen(msg_simple)), 0);
	CHECK_RC(mime_rec_check(rec, reclen, strlen(msg_simple) - 1), -EBADMSG);
	CHECK_RC(mime_rec_check(rec, reclen - 1, strlen(msg_simple)), -EBADMSG);
	rec[0] = MIME_REC_VERSION + 1;
	CHECK_RC(mime_rec_check(rec, reclen, strlen(msg_simple)), -EBADMSG);
	{
		uint64_t total;
		size_t n;
		CHECK_RC(mime_render(rec, reclen, msg_simple, strlen(msg_simple), MIME_R_BODY, 0, out, 10, &n, &total),
		         -EBADMSG);
	}
	rec[0] = MIME_REC_VERSION;
	rec[MIME_REC_HDR_LEN + 3] = 0xff;       /* header length far past the message */
	CHECK_RC(mime_rec_check(rec, reclen, strlen(msg_simple)), -EBADMSG);
	{
		struct mime_needle nd;
		static char big[MIME_NEEDLE_MAX + 1];
		memset(big, 'a', sizeof big);
		CHECK_RC(mime_needle_init(&nd, big, MIME_NEEDLE_MAX), 0);
		CHECK_RC(mime_needle_init(&nd, big, MIME_NEEDLE_MAX + 1), -EINVAL);
		CHECK_RC(mime_needle_init(&nd, "\xc3\xa9", 2), 0);
		CHECK(nd.len == 2);
	}
}

static int count_lines(void *arg, const char *line)
{
	printf("  check: %s\n", line);
	(*(int *)arg)++;
	return 0;
}

/* Records in the store: written with the blob, shared, deleted with the last reference, fallback parse. */
static void test_store(const char *dir)
{
	struct store_opts o = { .map_size = 1 << 20, .map_max = 16 << 20, .nosync = 1 };
	struct store *st;
	struct store_user u;
	struct store_mbox mb;
	struct store_msg m;
	struct mime_needle nd;
	uint64_t total;
	size_t n, len;
	uint32_t uid;
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	MDB_txn *txn;

	CHECK_RC(store_open(dir, &o, &st), 0);
	if (!st)
		return;
	CHECK_RC(store_user_add(st, "alice", "pw", 2, 0, 0), 0);
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg_nested, strlen(msg_nested), 1700000000, &uid), 0);
	CHECK_RC(store_user_get(st, "alice", &u), 0);
	CHECK_RC(store_mbox_get(st, u.id, "INBOX", &mb), 0);
	CHECK_RC(store_msg_get(st, mb.id, uid, &m), 0);

	CHECK_RC(store_mime_get(st, mb.id, uid, rec, sizeof rec, &len), 0);
	{
		static unsigned char want[MIME_REC_MAX];
		size_t wl;
		mime_parse(msg_nested, strlen(msg_nested), want, sizeof want, &wl);
		CHECK(len == wl && memcmp(rec, want, wl) == 0);
	}
	CHECK_RC(store_mime_get(st, mb.id, uid, rec, 10, &len), -ENOSPC);
	CHECK_RC(store_mime_get(st, mb.id, uid + 1, rec, sizeof rec, &len), STORE_ENOTFOUND);
	CHECK_RC(store_mime_fetch(st, mb.id, uid, MIME_R_BODY, 0, NULL, 0, &n, &total), 0);
	CHECK(n == 0 && total > 100);
	CHECK_RC(store_mime_fetch(st, mb.id, uid, MIME_R_BODY, 1, out, 5, &n, &total), 0);
	CHECK(n == 5 && memcmp(out, "(\"tex", 5) == 0);
	CHECK_RC(store_mime_section(st, mb.id, uid, "2.1", 3, 0, out, sizeof out, &n, &total), 0);
	CHECK(n == 11 && total == 11 && memcmp(out, "inner plain", 11) == 0);
	CHECK_RC(store_mime_section(st, mb.id, uid, "2.9", 3, 0, out, sizeof out, &n, &total), -ENOENT);
	CHECK_RC(store_mime_section(st, mb.id, uid, "2.x", 3, 0, out, sizeof out, &n, &total), -EINVAL);
	mime_needle_init(&nd, "Inner Plain", 11);
	CHECK_RC(store_mime_search(st, mb.id, uid, MIME_IN_BODY, NULL, 0, &nd), 1);
	CHECK_RC(store_mime_search(st, mb.id, uid, MIME_IN_HEADER, "subject", 7, &nd), 0);

	/* a blob without its record (stored before records existed) is parsed on the fly */
	store_put64(kb, m.blob);
	CHECK_RC(store_wbegin(st, &txn), 0);
	CHECK(mdb_get(txn, st->mime, &k, &v) == 0);
	CHECK(mdb_del(txn, st->mime, &k, NULL) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	CHECK_RC(store_mime_section(st, mb.id, uid, "2.2", 3, 0, out, sizeof out, &n, &total), 0);
	CHECK(n == 12 && memcmp(out, "<b>inner</b>", 12) == 0);
	CHECK_RC(store_mime_get(st, mb.id, uid, rec, sizeof rec, &len), 0);
	CHECK_RC(mime_rec_check(rec, len, strlen(msg_nested)), 0);
	{
		/* the upgrade pass gives it a record again, once per record version */
		unsigned indexed = 99;
		MDB_val mk = { 12, "mime_version" };
		CHECK_RC(store_mime_upgrade(st, &indexed), 0);
		CHECK(indexed == 0);                    /* this version already done at open */
		CHECK_RC(store_wbegin(st, &txn), 0);
		CHECK(mdb_del(txn, st->meta, &mk, NULL) == 0);
		CHECK(mdb_txn_commit(txn) == 0);
		CHECK_RC(store_mime_upgrade(st, &indexed), 0);
		CHECK(indexed == 1);
		CHECK_RC(store_rbegin(st, &txn), 0);
		CHECK(mdb_get(txn, st->mime, &k, &v) == 0 && mime_rec_check(v.mv_data, v.mv_size, strlen(msg_nested)) == 0);
		CHECK(mdb_get(txn, st->meta, &mk, &v) == 0 && v.mv_size == 4);
		store_rend(st);
		CHECK_RC(store_mime_upgrade(st, &indexed), 0);
		CHECK(indexed == 0);
	}

	/*
	 * A store written by record version 1: its record of a folded-boundary
	 * message (one text/plain part, flagged malformed) is refused, parsed on
	 * the fly, and rewritten by the upgrade; a v1 record without the flag is
	 * right as it is and kept.
	 */
	{
		static const char fold[] =
			"Subject: f\r\nContent-Type: multipart/mixed; boundary=\"foo\r\n bar\"\r\n\r\n"
			"--foo bar\r\n\r\none\r\n--foo bar\r\n\r\ntwo\r\n--foo bar--\r\n";
		static char old[sizeof fold];
		static unsigned char r1[MIME_REC_MAX];
		unsigned char fk[8];
		MDB_val fkv = { 8, fk }, mk = { 12, "mime_version" }, ver, fv, nv;
		unsigned char one[4] = { 0, 0, 0, 1 };
		struct store_msg fm;
		uint32_t fuid;
		size_t r1len;
		unsigned indexed = 99;

		CHECK_RC(store_deliver(st, "alice", "INBOX", fold, strlen(fold), 1700000002, &fuid), 0);
		CHECK_RC(store_msg_get(st, mb.id, fuid, &fm), 0);
		CHECK_RC(store_mime_section(st, mb.id, fuid, "2", 1, 0, out, sizeof out, &n, &total), 0);
		CHECK(n == 3 && memcmp(out, "two", 3) == 0);
		/* what version 1 wrote: the same offsets, no delimiter found */
		memcpy(old, fold, sizeof fold);
		memcpy(strstr(old, "\r\n bar\""), "xx", 2);
		CHECK_RC(mime_parse(old, strlen(old), r1, sizeof r1, &r1len), 0);
		CHECK(mime_rec_count(r1) == 1 && (mime_rec_flags(r1) & MIME_RF_MALFORMED));
		r1[0] = 1;
		CHECK_RC(mime_rec_check(r1, r1len, strlen(fold)), -EBADMSG);
		store_put64(fk, fm.blob);
		fv.mv_size = r1len;
		fv.mv_data = r1;
		ver.mv_size = 4;
		ver.mv_data = one;
		CHECK_RC(store_wbegin(st, &txn), 0);
		CHECK(mdb_put(txn, st->mime, &fkv, &fv, 0) == 0);
		CHECK(mdb_put(txn, st->meta, &mk, &ver, 0) == 0);
		CHECK(mdb_get(txn, st->mime, &k, &nv) == 0);          /* the nested message's: v1, clean */
		{
			static unsigned char cp[MIME_REC_MAX];
			size_t cl = nv.mv_size;
			memcpy(cp, nv.mv_data, cl);
			cp[0] = 1;
			nv.mv_data = cp;
			CHECK(mdb_put(txn, st->mime, &k, &nv, 0) == 0);
		}
		CHECK(mdb_txn_commit(txn) == 0);
		CHECK_RC(store_mime_section(st, mb.id, fuid, "2", 1, 0, out, sizeof out, &n, &total), 0);
		CHECK(n == 3 && memcmp(out, "two", 3) == 0);            /* parsed on the fly */
		CHECK_RC(store_mime_upgrade(st, &indexed), 0);
		CHECK(indexed == 1);                                    /* only the wrong one */
		CHECK_RC(store_rbegin(st, &txn), 0);
		CHECK(mdb_get(txn, st->mime, &fkv, &fv) == 0 && ((unsigned char *)fv.mv_data)[0] == MIME_REC_VERSION &&
		      mime_rec_count(fv.mv_data) == 3);
		CHECK(mdb_get(txn, st->mime, &k, &nv) == 0 && ((unsigned char *)nv.mv_data)[0] == 1 &&
		      mime_rec_check(nv.mv_data, nv.mv_size, strlen(msg_nested)) == 0);
		CHECK(mdb_get(txn, st->meta, &mk, &ver) == 0 && store_get32(ver.mv_data) == MIME_REC_VERSION);
		store_rend(st);
		CHECK_RC(store_mime_section(st, mb.id, uid, "2.1", 3, 0, out, sizeof out, &n, &total), 0);
		CHECK(n == 11 && memcmp(out, "inner plain", 11) == 0);  /* the kept v1 record serves */
		{
			/* expunge it again, so the checks below see the store they expect */
			struct store_batch *b;
			CHECK_RC(store_batch_begin(st, &b), 0);
			CHECK_RC(store_batch_expunge(b, mb.id, &fuid, 1), 0);
			CHECK_RC(store_batch_end(b), 0);
		}
	}

	/* store_check: an orphan record and a blob without one are reported, then fixed */
	{
		unsigned char orphan[8];
		MDB_val ok = { 8, orphan }, ov = { reclen, rec };
		int n1 = 0, n2 = 0, n3 = 0;
		store_put64(orphan, 999999);
		parse(msg_simple);
		CHECK_RC(store_wbegin(st, &txn), 0);
		CHECK(mdb_put(txn, st->mime, &ok, &ov, 0) == 0);
		CHECK(mdb_del(txn, st->mime, &k, NULL) == 0);   /* k: the nested message's blob */
		CHECK(mdb_txn_commit(txn) == 0);
		CHECK_RC(store_check(st, 0, count_lines, &n1), 0);
		CHECK(n1 == 2);
		CHECK_RC(store_check(st, 1, count_lines, &n2), 0);
		CHECK(n2 == 2);
		CHECK_RC(store_check(st, 0, count_lines, &n3), 0);
		CHECK(n3 == 0);
		CHECK_RC(store_mime_section(st, mb.id, 1, "2.1", 3, 0, out, sizeof out, &n, &total), 0);
		CHECK(n == 11 && memcmp(out, "inner plain", 11) == 0);
	}

	/* deliver again; expunge drops the blob and its record */
	CHECK_RC(store_deliver(st, "alice", "INBOX", msg_simple, strlen(msg_simple), 1700000001, &uid), 0);
	CHECK_RC(store_msg_get(st, mb.id, uid, &m), 0);
	store_put64(kb, m.blob);
	CHECK_RC(store_rbegin(st, &txn), 0);
	CHECK(mdb_get(txn, st->mime, &k, &v) == 0);
	store_rend(st);
	{
		struct store_batch *b;
		CHECK_RC(store_batch_begin(st, &b), 0);
		CHECK_RC(store_batch_expunge(b, mb.id, &uid, 1), 0);
		CHECK_RC(store_batch_end(b), 0);
	}
	CHECK_RC(store_rbegin(st, &txn), 0);
	CHECK(mdb_get(txn, st->mime, &k, &v) == MDB_NOTFOUND);
	CHECK(mdb_get(txn, st->blobs, &k, &v) == MDB_NOTFOUND);
	store_rend(st);
	store_close(st);

	/* read-only open of the same store sees the records */
	o.readonly = 1;
	CHECK_RC(store_open(dir, &o, &st), 0);
	if (st) {
		CHECK_RC(store_msg_get(st, mb.id, 1, &m), 0);
		CHECK_RC(store_mime_fetch(st, mb.id, 1, MIME_R_ENVELOPE, 0, out, sizeof out, &n, &total), 0);
		CHECK(n == total && memcmp(out, "(NIL \"fwd\"", 10) == 0);
		store_close(st);
	}
}

static void rmtree(const char *dir)
{
	char p[512];

	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

int main(void)
{
	char dir[] = "/tmp/pn-mime-XXXXXX";
	char sub[64];

	test_simple();
	test_alternative();
	test_mixed();
	test_nested();
	test_quirks();
	test_search_decoding();
	test_unfold();
	test_malformed();
	test_limits();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sub, sizeof sub, "%s/data", dir);
	test_store(sub);
	rmtree(sub);
	rmdir(dir);
	return check_done();
}
