/*
 * cgi_page_proto — protocols and ports: each of IMAP and POP3 with SSL/TLS,
 * STARTTLS or no encryption on/off, its port and its listen address; the
 * plaintext-password policy; presets for the usual ports. Every field is
 * checked (ports 1-65535, no two listeners on one address and port, a
 * numeric address, at least one listener) and errors show next to the
 * field with the submitted values kept; nothing is written on error.
 * Listeners beyond the first of each kind, written by hand, are kept.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "sysconfig.h"
#include "cgi.h"

#if CONFIG_CGI

#define NROWS 6
#define MAX_ADDRS 12

static const struct {
	enum cfg_proto proto;
	enum cfg_tls tls;
	uint16_t port;
	const char *name, *hint;
} rows[NROWS] = {
	{ CFG_PROTO_IMAP, CFG_TLS_IMPLICIT, 993, "IMAP with SSL/TLS", "Recommended: encrypted from the first byte." },
	{ CFG_PROTO_IMAP, CFG_TLS_STARTTLS, 143, "IMAP with STARTTLS", "Starts plain, then switches to encryption." },
	{ CFG_PROTO_POP3, CFG_TLS_IMPLICIT, 995, "POP3 with SSL/TLS", "Recommended for POP3." },
	{ CFG_PROTO_POP3, CFG_TLS_STARTTLS, 110, "POP3 with STARTTLS", "Starts plain, then switches to encryption." },
	{ CFG_PROTO_IMAP, CFG_TLS_NONE, 143, "IMAP without encryption", "Only for old devices on your own network." },
	{ CFG_PROTO_POP3, CFG_TLS_NONE, 110, "POP3 without encryption", "Only for old devices on your own network." },
};

static const char *const proto_words[] = { "pop3", "imap" };
static const char *const mode_words[] = { "none", "starttls", "tls" };
static const char *const plain_words[] = { "never", "loopback", "lan", "always" };

struct row_state {
	int on;
	char port[8];
	char addr[64];
	char err_port[160], err_addr[160];
};

struct proto_state {
	struct row_state row[NROWS];
	int plain;                      /* enum cfg_plain */
	unsigned extra;                 /* listeners beyond the rows, kept as they are */
	struct cfg_listen extras[CFG_MAX_LISTEN];
	char err_plain[120];
	int errors;
};

/* Addresses to offer: loopback, the host's private IPv4 addresses, all. */
struct addr_opt {
	char addr[64];
	char label[128];
};

static size_t addr_options(struct addr_opt *o, size_t max)
{
	struct ifaddrs *ifa = NULL, *i;
	size_t n = 0;

	snprintf(o[n].addr, sizeof o[n].addr, "127.0.0.1");
	snprintf(o[n++].label, sizeof o[0].label, "This router (127.0.0.1)");
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i && n + 2 < max; i = i->ifa_next) {
			unsigned char *a;
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
				continue;
			a = (unsigned char *)&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
			if (!(a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168)))
				continue;
			inet_ntop(AF_INET, a, o[n].addr, sizeof o[n].addr);
			snprintf(o[n].label, sizeof o[n].label, "Home network %s (%.24s)", o[n].addr, i->ifa_name);
			n++;
		}
		freeifaddrs(ifa);
	}
	snprintf(o[n].addr, sizeof o[n].addr, "0.0.0.0");
	snprintf(o[n++].label, sizeof o[0].label, "All networks (0.0.0.0)");
	snprintf(o[n].addr, sizeof o[n].addr, "::");
	snprintf(o[n++].label, sizeof o[0].label, "All networks, IPv6 (::)");
	return n;
}

/* Fill the state from the saved config: the first listener of each kind goes to its row. */
static void state_from_cfg(const struct cfg *c, struct proto_state *s)
{
	size_t i, k;

	memset(s, 0, sizeof *s);
	for (k = 0; k < NROWS; k++) {
		snprintf(s->row[k].port, sizeof s->row[k].port, "%u", rows[k].port);
		snprintf(s->row[k].addr, sizeof s->row[k].addr, "0.0.0.0");
	}
	for (i = 0; i < c->nlisten; i++) {
		const struct cfg_listen *l = &c->listen[i];
		for (k = 0; k < NROWS; k++)
			if (rows[k].proto == l->proto && rows[k].tls == l->tls)
				break;
		if (k < NROWS && !s->row[k].on) {
			s->row[k].on = 1;
			snprintf(s->row[k].port, sizeof s->row[k].port, "%u", l->port);
			snprintf(s->row[k].addr, sizeof s->row[k].addr, "%s", l->addr);
		} else if (s->extra < CFG_MAX_LISTEN) {
			s->extras[s->extra++] = *l;
		}
	}
	s->plain = c->plaintext;
}

/* Presets: which rows are on and their ports; addresses stay as chosen. */
static int apply_preset(struct proto_state *s, const char *name, const int built[CFG_PROTO_N])
{
	static const struct {
		const char *name;
		unsigned char on[NROWS];
	} presets[] = {
		{ "standard", { 1, 1, 1, 1, 0, 0 } },
		{ "tls", { 1, 0, 1, 0, 0, 0 } },
		{ "imap", { 1, 1, 0, 0, 0, 0 } },
		{ "pop3", { 0, 0, 1, 1, 0, 0 } },
	};
	size_t p, k;

	for (p = 0; p < sizeof presets / sizeof presets[0]; p++)
		if (!strcmp(name, presets[p].name))
			break;
	if (p == sizeof presets / sizeof presets[0])
		return -1;
	for (k = 0; k < NROWS; k++) {
		s->row[k].on = presets[p].on[k] && built[rows[k].proto];
		snprintf(s->row[k].port, sizeof s->row[k].port, "%u", rows[k].port);
	}
	return 0;
}

/* Read the submitted form into s (values kept verbatim for redisplay). */
static void state_from_form(const struct cgi_req *r, struct proto_state *s, const int built[CFG_PROTO_N])
{
	char name[16];
	size_t k;
	const char *v;
	int i;

	for (k = 0; k < NROWS; k++) {
		struct row_state *row = &s->row[k];
		if (!built[rows[k].proto])
			continue;               /* keep the saved state */
		snprintf(name, sizeof name, "on%zu", k);
		row->on = cgi_form_get(&r->form, name) != NULL;
		snprintf(name, sizeof name, "port%zu", k);
		v = cgi_form_get(&r->form, name);
		snprintf(row->port, sizeof row->port, "%.7s", v ? v : "");
		if (v && strlen(v) > 7)
			snprintf(row->err_port, sizeof row->err_port, "Ports go from 1 to 65535.");
		snprintf(name, sizeof name, "addr%zu", k);
		v = cgi_form_get(&r->form, name);
		snprintf(row->addr, sizeof row->addr, "%.63s", v ? v : "");
	}
	v = cgi_form_get(&r->form, "plain");
	if (v) {
		for (i = 0; i < 4 && strcmp(v, plain_words[i]); i++)
			;
		if (i < 4)
			s->plain = i;
		else
			snprintf(s->err_plain, sizeof s->err_plain, "Choose one of the options.");
	}
}

/* Two addresses that cannot both be bound on one port: equal, or one is the wildcard of its family. */
static int addr_clash(const char *a, const char *b)
{
	int v6a = strchr(a, ':') != NULL, v6b = strchr(b, ':') != NULL;

	if (!strcmp(a, b))
		return 1;
	if (v6a != v6b)
		return 0;
	return !strcmp(a, v6a ? "::" : "0.0.0.0") || !strcmp(b, v6b ? "::" : "0.0.0.0");
}

/* Check every field; counts errors into s->errors and fills canon[] with canonical addresses. */
static void state_check(struct proto_state *s, uint16_t ports[NROWS], char canon[NROWS][64])
{
	size_t k, j;
	unsigned on = s->extra;

	for (k = 0; k < NROWS; k++) {
		struct row_state *row = &s->row[k];
		unsigned char bin[16];
		int af = strchr(row->addr, ':') ? AF_INET6 : AF_INET;

		if (!row->on)
			continue;
		on++;
		if (!row->err_port[0] && cgi_parse_port(row->port, &ports[k]) < 0)
			snprintf(row->err_port, sizeof row->err_port, "Ports go from 1 to 65535.");
		if (inet_pton(af, row->addr, bin) != 1 || !inet_ntop(af, bin, canon[k], 64))
			snprintf(row->err_addr, sizeof row->err_addr, "Choose an address from the list.");
		if (row->err_port[0] || row->err_addr[0])
			continue;
		for (j = 0; j < k; j++) {
			if (!s->row[j].on || s->row[j].err_port[0] || s->row[j].err_addr[0] || ports[j] != ports[k] ||
			    !addr_clash(canon[j], canon[k]))
				continue;
			snprintf(row->err_port, sizeof row->err_port, "Port %u is already used by %s on this address.",
			         ports[k], rows[j].name);
			break;
		}
		for (j = 0; !row->err_port[0] && j < s->extra; j++)
			if (s->extras[j].port == ports[k] && addr_clash(s->extras[j].addr, canon[k]))
				snprintf(row->err_port, sizeof row->err_port,
				         "Port %u is already used by another listener in the config file.", ports[k]);
	}
	for (k = 0; k < NROWS; k++)
		s->errors += (s->row[k].on && (s->row[k].err_port[0] || s->row[k].err_addr[0])) ? 1 : 0;
	if (on == 0) {
		snprintf(s->err_plain, sizeof s->err_plain, "Turn at least one protocol on: without one nobody can fetch mail.");
		s->errors++;
	} else if (s->err_plain[0]) {
		s->errors++;
	}
}

/* Render one listen line ("listen = imap tls [::]:993\n") into b. */
static void listen_line(struct cgi_buf *b, enum cfg_proto p, enum cfg_tls t, const char *addr, unsigned port)
{
	int v6 = strchr(addr, ':') != NULL;

	cgi_printf(b, "listen = %s %s %s%s%s:%u\n", proto_words[p], mode_words[t], v6 ? "[" : "", addr, v6 ? "]" : "", port);
}

/* The form. */
static void proto_render(struct cgi_req *r, const struct proto_state *s, const int built[CFG_PROTO_N])
{
	static const char *const plain_text[4] = {
		"Never — passwords only over encrypted connections (safest)",
		"Only from this router itself (for local tools such as fetchmail)",
		"From your home network too (for old devices that cannot encrypt)",
		"From anywhere (not recommended: passwords can be read on the way)",
	};
	struct cgi_buf *b = &r->out;
	struct addr_opt opts[MAX_ADDRS];
	size_t nopt = addr_options(opts, MAX_ADDRS), k, i;

	cgi_printf(b, "<form method=\"post\" action=\"%s/protocols\" novalidate>", r->script);
	cgi_csrf_input(r);
	/* The first submit button is what Enter in a field presses: make it Save, not a preset. */
	cgi_put(b, "<button class=\"sr\" name=\"action\" value=\"save\" tabindex=\"-1\" aria-hidden=\"true\">Save</button>");
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-pre\"><h2 id=\"h-pre\">Quick choices</h2>"
	           "<p class=\"small\">Fill in the usual ports; nothing is saved until you press Save.</p><div class=\"acts\">"
	           "<button class=\"sec\" name=\"preset\" value=\"standard\">Standard (993, 143, 995, 110)</button>"
	           "<button class=\"sec\" name=\"preset\" value=\"tls\">SSL/TLS only (993, 995)</button>");
	if (built[CFG_PROTO_IMAP])
		cgi_put(b, "<button class=\"sec\" name=\"preset\" value=\"imap\">IMAP only</button>");
	if (built[CFG_PROTO_POP3])
		cgi_put(b, "<button class=\"sec\" name=\"preset\" value=\"pop3\">POP3 only</button>");
	cgi_put(b, "</div></section>");

	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-lis\"><h2 id=\"h-lis\">Protocols</h2>");
	if (!built[CFG_PROTO_IMAP])
		cgi_put(b, "<p class=\"note info\">IMAP is not part of this build of postnook; only POP3 can be turned on.</p>");
	if (!built[CFG_PROTO_POP3])
		cgi_put(b, "<p class=\"note info\">POP3 is not part of this build of postnook; only IMAP can be turned on.</p>");
	for (k = 0; k < NROWS; k++) {
		const struct row_state *row = &s->row[k];
		int dis = !built[rows[k].proto], known = 0;
		if (k == 4)
			cgi_put(b, "<h3>Without encryption</h3>");
		cgi_printf(b, "<div class=\"proto\"><label class=\"chk\" for=\"on%zu\"><input type=\"checkbox\" id=\"on%zu\" "
		              "name=\"on%zu\" value=\"1\"%s%s><span>%s<small>%s</small></span></label>",
		           k, k, k, row->on ? " checked" : "", dis ? " disabled" : "", rows[k].name, rows[k].hint);
		cgi_printf(b, "<div class=\"field%s\"><label for=\"port%zu\">Port</label><input type=\"text\" inputmode=\"numeric\" "
		              "id=\"port%zu\" name=\"port%zu\" value=\"",
		           row->err_port[0] ? " bad" : "", k, k, k);
		cgi_esc(b, row->port);
		cgi_printf(b, "\" maxlength=\"7\"%s", dis ? " disabled" : "");
		if (row->err_port[0])
			cgi_printf(b, " aria-invalid=\"true\" aria-describedby=\"port%zu-err\"", k);
		cgi_put(b, ">");
		if (row->err_port[0]) {
			char id[16];
			snprintf(id, sizeof id, "port%zu-err", k);
			cgi_field_err(r, id, row->err_port);
		}
		cgi_printf(b, "</div><div class=\"field%s\"><label for=\"addr%zu\">Listen on</label><select id=\"addr%zu\" "
		              "name=\"addr%zu\"%s", row->err_addr[0] ? " bad" : "", k, k, k, dis ? " disabled" : "");
		if (row->err_addr[0])
			cgi_printf(b, " aria-invalid=\"true\" aria-describedby=\"addr%zu-err\"", k);
		cgi_put(b, ">");
		for (i = 0; i < nopt; i++) {
			int sel = !strcmp(opts[i].addr, row->addr);
			known |= sel;
			cgi_printf(b, "<option value=\"%s\"%s>", opts[i].addr, sel ? " selected" : "");
			cgi_esc(b, opts[i].label);
			cgi_put(b, "</option>");
		}
		if (!known && row->addr[0]) {
			cgi_put(b, "<option value=\"");
			cgi_esc(b, row->addr);
			cgi_put(b, "\" selected>");
			cgi_esc(b, row->addr);
			cgi_put(b, "</option>");
		}
		cgi_put(b, "</select>");
		if (row->err_addr[0]) {
			char id[16];
			snprintf(id, sizeof id, "addr%zu-err", k);
			cgi_field_err(r, id, row->err_addr);
		}
		cgi_put(b, "</div></div>");
	}
	if (s->extra) {
		cgi_printf(b, "<p class=\"hint\">Also in the config file and kept as they are: ");
		for (i = 0; i < s->extra; i++)
			cgi_printf(b, "%s<code>%s %s %s:%u</code>", i ? ", " : "", proto_words[s->extras[i].proto],
			           mode_words[s->extras[i].tls], s->extras[i].addr, s->extras[i].port);
		cgi_put(b, ".</p>");
	}
	cgi_put(b, "</section>");

	cgi_printf(b, "<fieldset class=\"card%s\" style=\"margin:0 0 16px\"><legend class=\"sr\">Password policy</legend>"
	              "<h2 aria-hidden=\"true\">Passwords without encryption</h2><p class=\"small\">When may a mail app send its "
	              "password over a connection that is not encrypted (a STARTTLS port before it switches, or a port "
	              "without encryption)?</p><div class=\"opts\">", s->err_plain[0] ? " bad" : "");
	for (i = 0; i < 4; i++)
		cgi_printf(b, "<label><input type=\"radio\" name=\"plain\" value=\"%s\"%s><span>%s</span></label>",
		           plain_words[i], (int)i == s->plain ? " checked" : "", plain_text[i]);
	cgi_put(b, "</div>");
	cgi_field_err(r, "plain-err", s->err_plain);
	cgi_put(b, "</fieldset><div class=\"acts\"><button name=\"action\" value=\"save\">Save and apply</button>");
	cgi_printf(b, "<a class=\"btn sec\" href=\"%s/protocols\">Undo changes</a></div></form>", r->script);
}

int cgi_page_proto(struct cgi_req *r)
{
	static struct proto_state s;
	static const char *const keys[] = { "listen", "plaintext_auth" };
	uint16_t ports[NROWS] = { 0 };
	char canon[NROWS][64], lines[4096], err[CFG_ERR_MAX];
	const char *preset = cgi_form_get(&r->form, "preset");
	int built[CFG_PROTO_N] = { 0 }, saved = 0;
	struct cgi_reload rl;
	struct cgi_buf lb;
	size_t k, i;

	built[CFG_PROTO_POP3] = cgi_proto_built(CFG_PROTO_POP3);
	built[CFG_PROTO_IMAP] = cgi_proto_built(CFG_PROTO_IMAP);
	state_from_cfg(&r->cfg, &s);
	err[0] = '\0';
	if (!strcmp(r->method, "POST")) {
		state_from_form(r, &s, built);
		if (preset) {
			if (apply_preset(&s, preset, built) < 0)
				snprintf(err, sizeof err, "unknown preset");
		} else {
			state_check(&s, ports, canon);
			if (!s.errors) {
				cgi_buf_init(&lb, lines, sizeof lines);
				for (k = 0; k < NROWS; k++)
					if (s.row[k].on)
						listen_line(&lb, rows[k].proto, rows[k].tls, canon[k], ports[k]);
				for (i = 0; i < s.extra; i++)
					listen_line(&lb, s.extras[i].proto, s.extras[i].tls, s.extras[i].addr, s.extras[i].port);
				cgi_printf(&lb, "plaintext_auth = %s\n", plain_words[s.plain & 3]);
				if (lb.full)
					snprintf(err, sizeof err, "too many listeners");
				else if (cgi_conf_update(r, keys, 2, lines, err, sizeof err) == 0)
					saved = 1;
			}
		}
	}
	if (saved) {
		cgi_conf_reload(r, &rl);
		state_from_cfg(&r->cfg, &s);
	}
	cgi_page_begin(r, "Protocols and ports", NAV_PROTO);
	cgi_put(&r->out, "<h1>Protocols and ports</h1><p class=\"lead\">Which ways mail apps may connect. "
	                 "Most apps use IMAP with SSL/TLS on port 993.</p>");
	if (saved)
		cgi_reload_notice(r, "Protocol settings", &rl);
	else if (preset && !err[0])
		cgi_notice(r, "info", "Preset filled in. Check it, then press Save and apply.");
	else if (s.errors)
		cgi_notice(r, "err", "Nothing was saved: please correct the fields marked below.");
	else if (err[0]) {
		char msg[CFG_ERR_MAX + 40];
		snprintf(msg, sizeof msg, "Nothing was saved: %s", err);
		cgi_notice(r, "err", msg);
	}
	proto_render(r, &s, built);
	cgi_page_end(r);
	return 0;
}

#endif
