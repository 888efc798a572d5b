/* fuzz_cgi_form — arbitrary bytes into the CGI's form, cookie, size and port parsers and the escaper. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sysconfig.h"
#include "cgi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if CONFIG_CGI
	struct cgi_form f;
	char *buf, out[256], esc[64];
	uint64_t n;
	uint16_t p;
	size_t i;

	if (size > CGI_BODY_MAX)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Text views first (the form parser decodes in place). */
	cgi_cookie_get(buf, "pn_sid", out, sizeof out);
	cgi_parse_size(buf, &n);
	cgi_parse_port(buf, &p);
	cgi_html_escape(esc, sizeof esc, buf);
	memcpy(buf, data, size);
	if (cgi_form_parse(&f, buf, size) == 0) {
		for (i = 0; i < f.n; i++) {
			if (!f.f[i].name || !f.f[i].value || f.f[i].name < buf || f.f[i].value > buf + size)
				abort();
			cgi_html_escape(esc, sizeof esc, f.f[i].value);
		}
		cgi_form_get(&f, "csrf");
	}
	free(buf);
#else
	(void)data;
	(void)size;
#endif
	return 0;
}
