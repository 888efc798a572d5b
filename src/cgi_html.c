/*
 * cgi_html — the CGI's output: a bounded body buffer, the HTML escaper, the
 * page shell (head with the one inline stylesheet, header, navigation,
 * footer) and the small pieces every page uses (notices, field errors,
 * usage bars, the CSRF input).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sysconfig.h"
#include "cgi.h"
#include "cmd.h"

#if CONFIG_CGI

void cgi_buf_init(struct cgi_buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->full = 0;
	if (cap)
		mem[0] = '\0';
}

/* Append n bytes, or mark the buffer full (nothing partial is appended). */
void cgi_putn(struct cgi_buf *b, const char *s, size_t n)
{
	if (b->full || n >= b->cap - b->len) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void cgi_put(struct cgi_buf *b, const char *s)
{
	cgi_putn(b, s, strlen(s));
}

void cgi_printf(struct cgi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->p[b->len] = '\0';
		b->full = 1;
		return;
	}
	b->len += (size_t)n;
}

/* The entity for c, or NULL if c is written as it is. */
static const char *html_entity(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	}
	return NULL;
}

/* Escape into dst; returns the full escaped length (see cgi.h). */
size_t cgi_html_escape(char *dst, size_t cap, const char *src)
{
	size_t need = 0, o = 0;

	for (; src && *src; src++) {
		const char *e = html_entity(*src);
		size_t n = e ? strlen(e) : 1;
		if (o + n < cap) {
			if (e)
				memcpy(dst + o, e, n);
			else
				dst[o] = *src;
			o += n;
		} else {
			cap = o + 1;    /* stop writing: never emit half an entity */
		}
		need += n;
	}
	if (cap)
		dst[o < cap ? o : cap - 1] = '\0';
	return need;
}

/* Append s escaped, a run of plain bytes at a time. */
void cgi_esc(struct cgi_buf *b, const char *s)
{
	const char *run = s;

	for (; s && *s; s++) {
		const char *e = html_entity(*s);
		if (!e)
			continue;
		cgi_putn(b, run, (size_t)(s - run));
		cgi_put(b, e);
		run = s + 1;
	}
	if (s)
		cgi_putn(b, run, (size_t)(s - run));
}

/* Human size in binary units with the names people use. */
void cgi_fmt_size(uint64_t v, char *out, size_t cap)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(out, cap, "%llu bytes", (unsigned long long)v);
		return;
	}
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	if (d < 10 && d != (double)(uint64_t)d)
		snprintf(out, cap, "%.1f %s", d, units[u]);
	else
		snprintf(out, cap, "%.0f %s", d, units[u]);
}

/* "2026-11-23 19:40" in local time ("?" if it cannot be shown). */
void cgi_fmt_time(int64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, cap, "?");
}

/* The whole stylesheet: small, inline, no external resource. */
static const char cgi_css[] =
	":root{--fg:#17212e;--mut:#5a6676;--bg:#f2f4f7;--line:#dfe4ea;--acc:#1b66c9;--acc2:#13519f;"
	"--ok:#17693c;--okbg:#e8f6ee;--err:#b42318;--errbg:#fdeceb;--inf:#1b4f8a;--infbg:#eaf2fc}"
	"*{box-sizing:border-box}a{color:var(--acc)}"
	"body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,sans-serif;color:var(--fg);background:var(--bg)}"
	"header{background:#132131;color:#fff}"
	".top{max-width:980px;margin:0 auto;padding:14px 16px 6px;display:flex;align-items:center;gap:10px;justify-content:space-between;flex-wrap:wrap}"
	".brand{color:#fff;text-decoration:none;font-weight:700;font-size:19px;letter-spacing:.2px;display:flex;align-items:center;gap:9px}"
	".brand svg{flex:none}.host{color:#9fb3c8;font-size:13px}"
	"nav{max-width:980px;margin:0 auto;padding:0 8px;display:flex;overflow-x:auto}"
	"nav a{color:#c5d2df;text-decoration:none;padding:10px 11px 9px;border-bottom:3px solid transparent;white-space:nowrap;font-size:14px}"
	"nav a:hover{color:#fff}nav a[aria-current]{color:#fff;border-color:#6fb6ff;font-weight:600}"
	"main{max-width:980px;margin:0 auto;padding:22px 16px 36px}"
	"h1{font-size:24px;line-height:1.25;margin:0 0 6px}h2{font-size:17px;margin:0 0 12px}h3{font-size:15px;margin:14px 0 6px}"
	".lead{color:var(--mut);margin:0 0 18px}p{margin:0 0 10px}"
	".card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px;margin:0 0 16px;box-shadow:0 1px 2px rgba(16,24,40,.05)}"
	".grid{display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(min(340px,100%),1fr));margin:0 0 16px}.grid .card{margin:0}"
	"td code{white-space:nowrap}"
	".kv{display:grid;grid-template-columns:max-content 1fr;gap:7px 18px;margin:0}.kv dt{color:var(--mut)}.kv dd{margin:0;overflow-wrap:anywhere}"
	".big{font-size:26px;font-weight:700;line-height:1.2}"
	"label,.lbl{display:block;font-weight:600;margin:0 0 4px;font-size:14px}"
	"input[type=text],input[type=password],input[type=email],select,textarea{width:100%;padding:9px 10px;border:1px solid #c2ccd8;border-radius:7px;font:inherit;background:#fff;color:inherit}"
	"textarea{font:12px/1.45 ui-monospace,Menlo,Consolas,monospace;min-height:130px;resize:vertical}"
	"input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:2px solid #6fb6ff;outline-offset:1px}"
	".field{margin:0 0 14px}.hint{color:var(--mut);font-size:13px;margin:4px 0 0}"
	".ferr{color:var(--err);font-size:13px;margin:4px 0 0;font-weight:600}"
	".bad input,.bad select,.bad textarea{border-color:var(--err);background:#fffafa}"
	"button,.btn{display:inline-block;font:inherit;font-weight:600;font-size:14px;padding:9px 16px;border-radius:7px;border:1px solid var(--acc);background:var(--acc);color:#fff;cursor:pointer;text-decoration:none;line-height:1.3}"
	"button:hover,.btn:hover{background:var(--acc2)}.sec{background:#fff;color:var(--acc)}.sec:hover{background:var(--infbg)}"
	".danger{background:var(--err);border-color:var(--err)}.danger:hover{background:#8f1c13}"
	".acts{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin-top:6px}"
	".note{padding:11px 14px;border-radius:8px;margin:0 0 16px;border:1px solid;font-weight:500}"
	".note.ok{background:var(--okbg);border-color:#b4dfc5;color:var(--ok)}.note.err{background:var(--errbg);border-color:#f3c0bb;color:var(--err)}"
	".note.info{background:var(--infbg);border-color:#c3d8f2;color:var(--inf)}"
	".bar{height:8px;background:#e4e9ef;border-radius:4px;overflow:hidden;margin:6px 0 4px}.bar i{display:block;height:100%;background:var(--acc)}"
	".bar.hi i{background:#d97706}.bar.full i{background:var(--err)}.bar.none i{background:#9db2c8}"
	".small{font-size:13px;color:var(--mut)}.who{list-style:none;padding:0;margin:12px 0 0}.who li{padding:3px 0}"
	".dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:#22a05a;margin:0 6px 1px 8px}"
	"table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:8px 8px 8px 0;border-bottom:1px solid var(--line);vertical-align:top}"
	"th{color:var(--mut);font-weight:600;font-size:13px}tr:last-child td{border-bottom:0}"
	".pill{display:inline-block;padding:1px 10px;border-radius:99px;font-size:13px;font-weight:600}"
	".pill.on{background:var(--okbg);color:var(--ok)}.pill.off{background:#eceff3;color:var(--mut)}.pill.bad{background:var(--errbg);color:var(--err)}"
	"code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;overflow-wrap:anywhere}"
	"details{margin:8px 0 0}summary{cursor:pointer;color:var(--acc);font-weight:600;font-size:14px}details[open] summary{margin-bottom:8px}"
	".row{display:flex;gap:12px;flex-wrap:wrap}.row>.field{flex:1 1 150px}"
	".proto{display:grid;grid-template-columns:minmax(200px,1.4fr) 140px minmax(180px,1.2fr);gap:8px 14px;align-items:start;padding:12px 0;border-bottom:1px solid var(--line)}"
	".proto:last-of-type{border-bottom:0}.proto .field{margin:0}"
	".chk{display:flex;gap:10px;align-items:flex-start;font-weight:600}.chk input{width:20px;height:20px;margin:1px 0 0;flex:none}"
	".chk span{display:block}.chk small{display:block;font-weight:400;color:var(--mut);font-size:13px}"
	".opts label{display:flex;gap:10px;font-weight:400;align-items:flex-start;margin:0 0 8px}.opts input{margin-top:4px;flex:none}"
	".user{padding:14px 0;border-bottom:1px solid var(--line)}.user:last-child{border-bottom:0}"
	".uhead{display:flex;justify-content:space-between;gap:10px;flex-wrap:wrap;align-items:baseline}.uname{font-weight:700;font-size:16px}"
	".uforms{display:flex;gap:4px 22px;flex-wrap:wrap;align-items:center;margin-top:4px}.uforms details{flex:0 1 auto;margin:0}"
	".uforms details[open]{flex:1 1 100%;order:1;background:#f7f9fb;border:1px solid var(--line);border-radius:8px;padding:10px 12px}"
	".udel{margin-left:auto}.udel button{padding:4px 12px;font-size:13px}"
	"footer{max-width:980px;margin:0 auto;padding:0 16px 26px;color:var(--mut);font-size:13px}"
	".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
	".skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;color:var(--acc);padding:6px 10px;z-index:9}"
	"@media(max-width:600px){main{padding:16px 10px 28px}.card{padding:14px;border-radius:8px}h1{font-size:21px}"
	".kv{grid-template-columns:1fr;gap:0}.kv dd{margin:0 0 8px}.proto{grid-template-columns:88px 1fr}.proto .chk{grid-column:1/-1}"
	".top{padding:12px 12px 4px}nav{flex-wrap:wrap;padding:0 4px}nav a{padding:8px 8px 7px}}";

static const struct {
	enum cgi_nav nav;
	const char *path, *label;
} cgi_navs[] = {
	{ NAV_OVERVIEW, "/overview", "Overview" },
	{ NAV_PROTO, "/protocols", "Protocols &amp; ports" },
	{ NAV_USERS, "/users", "Users &amp; quotas" },
	{ NAV_CERT, "/certificate", "Certificate" },
	{ NAV_DEVICE, "/device", "Set up a device" },
#if CONFIG_TRACE
	{ NAV_TRACE, "/trace", "Trace" },
#endif
};

/* Head, header and navigation; the body of the page follows. */
void cgi_page_begin(struct cgi_req *r, const char *title, enum cgi_nav nav)
{
	struct cgi_buf *b = &r->out;
	size_t i;

	cgi_put(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	           "<meta name=\"robots\" content=\"noindex\"><title>");
	cgi_esc(b, title);
	cgi_put(b, " · postnook</title><style>");
	cgi_put(b, cgi_css);
	cgi_put(b, "</style></head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header><div class=\"top\">");
	cgi_printf(b, "<a class=\"brand\" href=\"%s/overview\">", r->script);
	cgi_put(b, "<svg width=\"26\" height=\"20\" viewBox=\"0 0 26 20\" aria-hidden=\"true\"><rect x=\"1\" y=\"1\" width=\"24\" "
	           "height=\"18\" rx=\"3\" fill=\"#1f3a57\" stroke=\"#6fb6ff\" stroke-width=\"2\"/><path d=\"M2 3l11 8 11-8\" "
	           "fill=\"none\" stroke=\"#6fb6ff\" stroke-width=\"2\"/></svg>postnook</a>");
	cgi_put(b, "<span class=\"host\">");
	cgi_esc(b, r->cfg.hostname);
	if (r->signed_in)
		cgi_printf(b, " · <form method=\"post\" action=\"%s/signout\" style=\"display:inline\">"
		              "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"sec\" "
		              "style=\"padding:2px 10px;font-size:13px\">Sign out</button></form>", r->script, r->csrf);
	cgi_put(b, "</span></div>");
	if (nav != NAV_NONE) {
		cgi_put(b, "<nav aria-label=\"Sections\">");
		for (i = 0; i < sizeof cgi_navs / sizeof cgi_navs[0]; i++)
			cgi_printf(b, "<a href=\"%s%s\"%s>%s</a>", r->script, cgi_navs[i].path,
			           cgi_navs[i].nav == nav ? " aria-current=\"page\"" : "", cgi_navs[i].label);
		cgi_put(b, "</nav>");
	}
	cgi_put(b, "</header><main id=\"main\">");
}

/* Close the page. */
void cgi_page_end(struct cgi_req *r)
{
	cgi_printf(&r->out, "</main><footer>postnook %s · mail server for your home network</footer></body></html>\n",
	           POSTNOOK_VERSION);
}

void cgi_notice(struct cgi_req *r, const char *kind, const char *text)
{
	cgi_printf(&r->out, "<div class=\"note %s\" role=\"%s\">", kind, strcmp(kind, "err") ? "status" : "alert");
	cgi_esc(&r->out, text);
	cgi_put(&r->out, "</div>");
}

void cgi_csrf_input(struct cgi_req *r)
{
	cgi_printf(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->csrf);
}

void cgi_field_err(struct cgi_req *r, const char *id, const char *msg)
{
	if (!msg || !*msg)
		return;
	cgi_printf(&r->out, "<p class=\"ferr\" id=\"%s\">", id);
	cgi_esc(&r->out, msg);
	cgi_put(&r->out, "</p>");
}

/* Usage bar with an accessible label (role=meter is not read by every reader: a text label goes along). */
void cgi_bar(struct cgi_req *r, uint64_t used, uint64_t total, const char *label)
{
	unsigned pct = 0;
	const char *cls = "";

	if (total) {
		uint64_t p = used >= total ? 100 : (used * 100 + total - 1) / total;
		pct = (unsigned)p;
		cls = pct >= 100 ? " full" : pct >= 85 ? " hi" : "";
	} else {
		cls = " none";
		pct = used ? 4 : 0;
	}
	cgi_printf(&r->out, "<div class=\"bar%s\" role=\"img\" aria-label=\"", cls);
	cgi_esc(&r->out, label);
	cgi_printf(&r->out, "\"><i style=\"width:%u%%\"></i></div>", pct);
}

#endif
