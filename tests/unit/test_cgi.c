/* test_cgi — known answers for the CGI's parsers (src/cgi_parse.c) and HTML escaper (src/cgi_html.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysconfig.h"
#include "cgi.h"
#include "check.h"

#if CONFIG_CGI

/* Parse text (copied) as a form; returns the parser's result. */
static int form(struct cgi_form *f, char *buf, size_t cap, const char *text)
{
	size_t n = strlen(text);

	if (n + 1 > cap)
		return -999;
	memcpy(buf, text, n + 1);
	return cgi_form_parse(f, buf, n);
}

static void test_form(void)
{
	struct cgi_form f;
	char buf[8192];
	const char *v;
	int i, rc;

	CHECK(form(&f, buf, sizeof buf, "") == 0 && f.n == 0);
	CHECK(form(&f, buf, sizeof buf, "a=1&b=two+words&c=%41%62%2b%26%3d") == 0 && f.n == 3);
	CHECK(!strcmp(cgi_form_get(&f, "a"), "1"));
	CHECK(!strcmp(cgi_form_get(&f, "b"), "two words"));
	CHECK(!strcmp(cgi_form_get(&f, "c"), "Ab+&="));
	CHECK(cgi_form_get(&f, "d") == NULL);
	/* empty values, names without '=', empty fields */
	CHECK(form(&f, buf, sizeof buf, "x=&&y&z=%7e") == 0 && f.n == 3);
	CHECK(!strcmp(cgi_form_get(&f, "x"), "") && !strcmp(cgi_form_get(&f, "y"), "") && !strcmp(cgi_form_get(&f, "z"), "~"));
	/* the first of repeated names wins */
	CHECK(form(&f, buf, sizeof buf, "k=1&k=2") == 0 && !strcmp(cgi_form_get(&f, "k"), "1"));
	/* encoded names; '=' inside a value */
	CHECK(form(&f, buf, sizeof buf, "a%20b=c=d") == 0 && !strcmp(cgi_form_get(&f, "a b"), "c=d"));
	/* bad escapes and NUL bytes are refused */
	CHECK(form(&f, buf, sizeof buf, "a=%") == -EINVAL);
	CHECK(form(&f, buf, sizeof buf, "a=%4") == -EINVAL);
	CHECK(form(&f, buf, sizeof buf, "a=%zz") == -EINVAL);
	CHECK(form(&f, buf, sizeof buf, "a=%00") == -EINVAL);
	CHECK(form(&f, buf, sizeof buf, "%=1") == -EINVAL);
	/* UTF-8 passes through */
	CHECK(form(&f, buf, sizeof buf, "n=%C3%A9t%C3%A9") == 0 && !strcmp(cgi_form_get(&f, "n"), "\xc3\xa9t\xc3\xa9"));
	/* field cap */
	buf[0] = '\0';
	{
		char text[4096] = "";
		for (i = 0; i < CGI_FIELDS_MAX; i++)
			strcat(text, "f=1&");
		CHECK(form(&f, buf, sizeof buf, text) == 0 && f.n == CGI_FIELDS_MAX);
		strcat(text, "g=2");
		rc = form(&f, buf, sizeof buf, text);
		CHECK(rc == -E2BIG);
	}
	/* a raw NUL inside the length is refused */
	memcpy(buf, "a=1\0b=2", 8);
	CHECK(cgi_form_parse(&f, buf, 7) == -EINVAL);
	v = NULL;
	CHECK(cgi_form_parse(&f, NULL, 0) == 0 && f.n == 0 && v == NULL);
}

static void test_cookie(void)
{
	char out[64];

	CHECK(cgi_cookie_get("pn_sid=abc; other=1", "pn_sid", out, sizeof out) == 0 && !strcmp(out, "abc"));
	CHECK(cgi_cookie_get("other=1;pn_sid=xyz", "pn_sid", out, sizeof out) == 0 && !strcmp(out, "xyz"));
	CHECK(cgi_cookie_get("  a=1 ;  pn_sid=q  ", "pn_sid", out, sizeof out) == 0 && !strcmp(out, "q"));
	CHECK(cgi_cookie_get("pn_sid=\"quoted\"", "pn_sid", out, sizeof out) == 0 && !strcmp(out, "quoted"));
	CHECK(cgi_cookie_get("xpn_sid=1; pn_sidx=2", "pn_sid", out, sizeof out) == -ENOENT);
	CHECK(cgi_cookie_get("pn_sid", "pn_sid", out, sizeof out) == -ENOENT);
	CHECK(cgi_cookie_get("pn_sid=", "pn_sid", out, sizeof out) == 0 && !strcmp(out, ""));
	CHECK(cgi_cookie_get(NULL, "pn_sid", out, sizeof out) == -ENOENT);
	CHECK(cgi_cookie_get("", "pn_sid", out, sizeof out) == -ENOENT);
	CHECK(cgi_cookie_get("pn_sid=0123456789", "pn_sid", out, 10) == -E2BIG);
	CHECK(cgi_cookie_get("pn_sid=012345678", "pn_sid", out, 10) == 0);
}

static void test_size(void)
{
	uint64_t v;

	CHECK(cgi_parse_size("500 MB", &v) == 0 && v == 500ull << 20);
	CHECK(cgi_parse_size("2 GB", &v) == 0 && v == 2ull << 30);
	CHECK(cgi_parse_size("2G", &v) == 0 && v == 2ull << 30);
	CHECK(cgi_parse_size("1.5 GB", &v) == 0 && v == 3ull << 29);
	CHECK(cgi_parse_size("1,5 gb", &v) == 0 && v == 3ull << 29);
	CHECK(cgi_parse_size("750m", &v) == 0 && v == 750ull << 20);
	CHECK(cgi_parse_size("2048 KiB", &v) == 0 && v == 2ull << 20);
	CHECK(cgi_parse_size("1 TB", &v) == 0 && v == 1ull << 40);
	CHECK(cgi_parse_size("4096", &v) == 0 && v == 4096);
	CHECK(cgi_parse_size("4096 bytes", &v) == 0 && v == 4096);
	CHECK(cgi_parse_size("  ", &v) == 0 && v == 0);
	CHECK(cgi_parse_size("unlimited", &v) == 0 && v == 0);
	CHECK(cgi_parse_size("None", &v) == 0 && v == 0);
	CHECK(cgi_parse_size("0", &v) == 0 && v == 0);
	CHECK(cgi_parse_size("-1 GB", &v) < 0);
	CHECK(cgi_parse_size("2 XB", &v) < 0);
	CHECK(cgi_parse_size("GB", &v) < 0);
	CHECK(cgi_parse_size("1.", &v) < 0);
	CHECK(cgi_parse_size("1 G B", &v) < 0);
	CHECK(cgi_parse_size("99999999999999999999 GB", &v) < 0);
	CHECK(cgi_parse_size("9999999999 TB", &v) < 0);
	CHECK(cgi_parse_size("2 bytesx", &v) < 0);
	CHECK(cgi_parse_size(NULL, &v) < 0);
}

static void test_port(void)
{
	uint16_t p;

	CHECK(cgi_parse_port("993", &p) == 0 && p == 993);
	CHECK(cgi_parse_port(" 1 ", &p) == 0 && p == 1);
	CHECK(cgi_parse_port("65535", &p) == 0 && p == 65535);
	CHECK(cgi_parse_port("65536", &p) < 0);
	CHECK(cgi_parse_port("0", &p) < 0);
	CHECK(cgi_parse_port("", &p) < 0);
	CHECK(cgi_parse_port("99a", &p) < 0);
	CHECK(cgi_parse_port("-1", &p) < 0);
	CHECK(cgi_parse_port("000993", &p) < 0);
	CHECK(cgi_parse_port("1 2", &p) < 0);
}

static void test_escape(void)
{
	char out[64], big[4096];
	struct cgi_buf b;

	CHECK(cgi_html_escape(out, sizeof out, "plain text") == 10 && !strcmp(out, "plain text"));
	CHECK(cgi_html_escape(out, sizeof out, "<a href=\"x\">&'</a>") == 48);
	CHECK(!strcmp(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"));
	CHECK(cgi_html_escape(out, sizeof out, "") == 0 && out[0] == '\0');
	/* cut: never half an entity, always terminated */
	CHECK(cgi_html_escape(out, 6, "ab&cd") == 9 && !strcmp(out, "ab"));
	CHECK(cgi_html_escape(out, 8, "ab&cd") == 9 && !strcmp(out, "ab&amp;"));
	CHECK(cgi_html_escape(out, 1, "x") == 1 && out[0] == '\0');
	CHECK(cgi_html_escape(out, sizeof out, "\xc3\xa9<") == 6 && !strcmp(out, "\xc3\xa9&lt;"));
	/* cgi_esc into a buffer, and a full buffer stays marked full */
	cgi_buf_init(&b, big, sizeof big);
	cgi_esc(&b, "1 < 2 & \"3\"");
	CHECK(!strcmp(big, "1 &lt; 2 &amp; &quot;3&quot;") && !b.full);
	cgi_buf_init(&b, out, 8);
	cgi_esc(&b, "<<<");
	CHECK(b.full && strlen(out) < 8);
	cgi_buf_init(&b, out, 8);
	cgi_printf(&b, "%s", "0123456789");
	CHECK(b.full && b.len == 0 && out[0] == '\0');
	cgi_fmt_size(512, out, sizeof out);
	CHECK(!strcmp(out, "512 bytes"));
	cgi_fmt_size(1536, out, sizeof out);
	CHECK(!strcmp(out, "1.5 KB"));
	cgi_fmt_size(2ull << 30, out, sizeof out);
	CHECK(!strcmp(out, "2 GB"));
	cgi_fmt_size(500ull << 20, out, sizeof out);
	CHECK(!strcmp(out, "500 MB"));
}

int main(void)
{
	test_form();
	test_cookie();
	test_size();
	test_port();
	test_escape();
	return check_done();
}

#else

int main(void)
{
	CHECK(1);
	printf("test_cgi: CONFIG_CGI is off, nothing to test (%d)\n", passed + failed);
	return 0;
}

#endif
