/*
 * cgi_page_trace — the protocol trace (trace.h): the config key `trace`
 * (users and client addresses whose sessions are recorded) and the end of
 * DATADIR/trace.log. Saving rewrites only the trace line of the config
 * (checked by the daemon's parser first) and asks the daemon to reload,
 * which starts or stops the trace of open connections too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cgi.h"
#include "trace.h"

#if CONFIG_CGI && CONFIG_TRACE

/* Bytes of the end of trace.log shown on the page (about 50 lines). */
#define TAIL_MAX 12288

/* The last TAIL_MAX bytes of DATADIR/trace.log, whole lines, escaped in a <pre>. */
static void show_tail(struct cgi_req *r)
{
	static char buf[TAIL_MAX + 1];
	char path[CFG_PATH_MAX + 16];
	struct stat st;
	ssize_t n;
	off_t off;
	char *p = buf;
	int fd;

	snprintf(path, sizeof path, "%s/" TRACE_FILE, r->cfg.datadir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		cgi_put(&r->out, "<p class=\"small\">No trace has been written yet.</p>");
		if (fd >= 0)
			close(fd);
		return;
	}
	off = st.st_size > TAIL_MAX ? st.st_size - TAIL_MAX : 0;
	n = pread(fd, buf, TAIL_MAX, off);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	if (off > 0 && (p = strchr(buf, '\n')) != NULL)
		p++;                    /* start at a whole line */
	else
		p = buf;
	cgi_printf(&r->out, "<p class=\"small\">The end of <code>");
	cgi_esc(&r->out, path);
	cgi_printf(&r->out, "</code> (%lld bytes; the file before it is <code>" TRACE_FILE ".1</code>). "
	                    "C: is what the app sent, S: what the server answered.</p>",
	           (long long)st.st_size);
	cgi_put(&r->out, "<pre class=\"trace\" style=\"white-space:pre-wrap;word-break:break-all;font-size:12px;"
	                 "max-height:60vh;overflow:auto\" tabindex=\"0\" aria-label=\"Trace lines\">");
	cgi_esc(&r->out, p);
	cgi_put(&r->out, "</pre>");
}

int cgi_page_trace(struct cgi_req *r)
{
	static const char *const keys[] = { "trace" };
	char value[CFG_TRACE_MAX * 80], line[sizeof value + 16], err[CFG_ERR_MAX], field_err[CFG_ERR_MAX];
	struct cgi_reload rl;
	const char *v, *s;
	int saved = 0;

	snprintf(value, sizeof value, "%s", r->cfg.trace);
	err[0] = field_err[0] = '\0';
	if (!strcmp(r->method, "POST")) {
		v = cgi_form_get(&r->form, "trace");
		snprintf(value, sizeof value, "%s", v ? v : "");
		for (s = value; *s && (unsigned char)*s >= 0x20 && *s != 0x7f; s++)
			;
		if (*s || (v && strlen(v) >= sizeof value))
			snprintf(field_err, sizeof field_err, "Use only user names and addresses separated by commas.");
		else {
			/* The daemon's parser checks the value and makes it canonical. */
			static struct cfg one;
			int n = snprintf(line, sizeof line, "trace = %s\n", value);
			if (cfg_parse(&one, "trace", line, (size_t)n, err, sizeof err) == 0) {
				if (one.trace[0])
					snprintf(line, sizeof line, "trace = %s\n", one.trace);
				else
					line[0] = '\0';
				if (cgi_conf_update(r, keys, 1, line, err, sizeof err) == 0)
					saved = 1;
			}
			if (!saved) {
				/* "FILE:LINE: trace: ..." from the parser: the part after the line number */
				const char *m = strstr(err, ": trace");
				snprintf(field_err, sizeof field_err, "%s", m ? m + 2 : err);
			}
		}
	}
	if (saved) {
		cgi_conf_reload(r, &rl);
		snprintf(value, sizeof value, "%s", r->cfg.trace);
	}
	cgi_page_begin(r, "Protocol trace", NAV_TRACE);
	cgi_put(&r->out, "<h1>Protocol trace</h1><p class=\"lead\">When a mail app misbehaves, record what it and the "
	                 "server say to each other. Passwords are hidden and messages are not written, only their size.</p>");
	if (saved)
		cgi_reload_notice(r, "Trace settings", &rl);
	else if (field_err[0])
		cgi_notice(r, "err", "Nothing was saved: please correct the field marked below.");
	cgi_printf(&r->out, "<form method=\"post\" action=\"%s/trace\" novalidate>", r->script);
	cgi_csrf_input(r);
	cgi_printf(&r->out, "<section class=\"card\" aria-labelledby=\"h-who\"><h2 id=\"h-who\">Whom to trace</h2>"
	                    "<div class=\"field%s\"><label for=\"trace\">User names and device addresses</label>"
	                    "<input type=\"text\" id=\"trace\" name=\"trace\" autocomplete=\"off\" spellcheck=\"false\" "
	                    "maxlength=\"%zu\" value=\"", field_err[0] ? " bad" : "", sizeof value - 1);
	cgi_esc(&r->out, value);
	cgi_put(&r->out, "\" aria-describedby=\"trace-hint");
	cgi_put(&r->out, field_err[0] ? " trace-err\" aria-invalid=\"true\">" : "\">");
	cgi_field_err(r, "trace-err", field_err);
	cgi_printf(&r->out, "<p class=\"hint\" id=\"trace-hint\">Separate them with commas, e.g. <code>alice, "
	                    "192.168.1.23</code> (at most %d). A device's address is traced from when it connects, a "
	                    "user from their login. Leave it empty to stop tracing.</p></div>"
	                    "<div class=\"acts\"><button>Save and apply</button></div></section></form>", CFG_TRACE_MAX);
	cgi_put(&r->out, "<section class=\"card\" aria-labelledby=\"h-tr\"><h2 id=\"h-tr\">Latest lines</h2>");
	show_tail(r);
	cgi_put(&r->out, "</section>");
	cgi_page_end(r);
	return 0;
}

#endif
