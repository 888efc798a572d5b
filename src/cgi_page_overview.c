/*
 * cgi_page_overview — the start page: is the server running (status file
 * and kill(pid, 0)), since when, sessions per protocol, the store's size
 * against its map, users and their mail, the certificate fingerprint, the
 * listeners in force and the last reload.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sysconfig.h"
#include "cgi.h"
#include "cmd.h"
#include "serve_status.h"
#include "store_user.h"

#if CONFIG_CGI

static const char *const proto_names[] = { "POP3", "IMAP" };
static const char *const mode_names[] = { "no encryption", "STARTTLS", "SSL/TLS" };

/* "3 days 4 h", "2 h 5 min", "42 s". */
static void fmt_uptime(int64_t s, char *out, size_t cap)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, cap, "%lld day%s %lld h", (long long)(s / 86400), s >= 2 * 86400 ? "s" : "",
		         (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, cap, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, cap, "%lld min", (long long)(s / 60));
	else
		snprintf(out, cap, "%lld s", (long long)s);
}

struct user_sum {
	unsigned n;
	uint64_t bytes;
	uint32_t msgs;
};

static int sum_user(void *arg, const struct store_user *u)
{
	struct user_sum *s = arg;

	s->n++;
	s->bytes += u->used_bytes;
	s->msgs += u->used_msgs;
	return 0;
}

/* The same listeners (order aside) in the status file and the saved config? */
static int listeners_match(const struct serve_status *s, const struct cfg *c)
{
	size_t i, j;

	if (s->nlisten != c->nlisten)
		return 0;
	for (i = 0; i < c->nlisten; i++) {
		int found = 0;
		for (j = 0; j < s->nlisten; j++)
			found |= s->listen[j].proto == c->listen[i].proto && s->listen[j].tls == c->listen[i].tls &&
			         s->listen[j].port == c->listen[i].port && !strcmp(s->listen[j].addr, c->listen[i].addr);
		if (!found)
			return 0;
	}
	return 1;
}

int cgi_page_overview(struct cgi_req *r)
{
	struct cgi_buf *b = &r->out;
	struct serve_status s;
	struct user_sum us = { 0, 0, 0 };
	struct cgi_cert cert;
	uint64_t map_size = 0, map_max = 0, used = 0, ceiling = 0;
	unsigned pct;
	char t1[48], t2[48], t3[48];
	long pid = cgi_daemon_pid(r);
	int have_status = serve_status_read(r->cfg.datadir, &s) == 0 && pid && s.pid == pid;
	size_t i;
	int rc;

	rc = store_mapinfo(r->st, &map_size, &map_max, NULL);
	if (rc == 0)
		rc = store_fill(r->st, &used, &ceiling);
	if (rc)
		return rc;
	pct = ceiling ? (unsigned)(used >= ceiling ? 100 : used * 100 / ceiling) : 0;
	rc = store_user_list(r->st, sum_user, &us);
	if (rc)
		return rc;
	cgi_cert_info(r, &cert);

	cgi_page_begin(r, "Overview", NAV_OVERVIEW);
	cgi_put(b, "<h1>Overview</h1><p class=\"lead\">How your mail server is doing.</p>");
	if (have_status && !listeners_match(&s, &r->cfg))
		cgi_notice(r, "info", "The saved protocol settings differ from the ones the server is using: "
		                      "it has not applied them yet (see the last reload below).");
	if (pct >= 90) {
		char warn[256];
		snprintf(warn, sizeof warn, "The mail store is %u %% full. Near the top it takes no new mail (the rest "
		         "is kept for deleting mail): delete mail, or give it more room (map_max, disk space).", pct);
		cgi_notice(r, "err", warn);
	}
	cgi_put(b, "<div class=\"grid\">");

	/* Server */
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-srv\"><h2 id=\"h-srv\">Mail server</h2>");
	if (pid) {
		cgi_put(b, "<p><span class=\"pill on\">Running</span></p><dl class=\"kv\">");
		if (have_status) {
			fmt_uptime((int64_t)time(NULL) - s.started, t1, sizeof t1);
			cgi_fmt_time(s.started, t2, sizeof t2);
			cgi_printf(b, "<dt>Up for</dt><dd>%s <span class=\"small\">(since %s)</span></dd>", t1, t2);
			cgi_put(b, "<dt>Version</dt><dd>");
			cgi_esc(b, s.version);
			cgi_put(b, "</dd>");
		} else {
			cgi_printf(b, "<dt>Version</dt><dd>%s</dd>", POSTNOOK_VERSION);
		}
		cgi_printf(b, "<dt>Process</dt><dd>%ld</dd></dl>", pid);
	} else {
		cgi_printf(b, "<p><span class=\"pill bad\">Not running</span></p><p class=\"small\">Start it on the router "
		              "(for example <code>/etc/init.d/postnook start</code>). Version %s.</p>", POSTNOOK_VERSION);
	}
	cgi_put(b, "</section>");

	/* Sessions */
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-ses\"><h2 id=\"h-ses\">Connected now</h2>");
	if (have_status) {
		cgi_printf(b, "<div class=\"row\"><div><div class=\"big\">%u</div><div class=\"small\">IMAP session%s</div></div>"
		              "<div><div class=\"big\">%u</div><div class=\"small\">POP3 session%s</div></div></div>",
		           s.sessions[CFG_PROTO_IMAP], s.sessions[CFG_PROTO_IMAP] == 1 ? "" : "s",
		           s.sessions[CFG_PROTO_POP3], s.sessions[CFG_PROTO_POP3] == 1 ? "" : "s");
		if (s.nusers) {
			cgi_put(b, "<ul class=\"who\" aria-label=\"Signed-in sessions\">");
			for (i = 0; i < s.nusers; i++) {
				char peer[64];
				size_t n = strlen(s.users[i].peer);
				const char *colon = strrchr(s.users[i].peer, ':');
				/* "address:port": the address is what people recognise */
				snprintf(peer, sizeof peer, "%.*s", (int)(colon ? (size_t)(colon - s.users[i].peer) : n),
				         s.users[i].peer);
				cgi_put(b, "<li><strong>");
				cgi_esc(b, s.users[i].name);
				cgi_printf(b, "</strong> <span class=\"small\">%s from ", proto_names[s.users[i].proto & 1]);
				cgi_esc(b, peer);
				cgi_put(b, "</span></li>");
			}
			cgi_put(b, "</ul>");
		}
		cgi_fmt_time(s.updated, t1, sizeof t1);
		cgi_printf(b, "<p class=\"hint\">Reported by the server at %s.</p>", t1);
	} else {
		cgi_put(b, "<p class=\"small\">Not known: the server is not running or does not report its state.</p>");
	}
	cgi_put(b, "</section>");

	/* Storage */
	cgi_fmt_size(used, t1, sizeof t1);
	cgi_fmt_size(ceiling, t2, sizeof t2);
	cgi_fmt_size(map_max, t3, sizeof t3);
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-sto\"><h2 id=\"h-sto\">Storage</h2>");
	{
		char label[160];
		snprintf(label, sizeof label, "%s used of %s", t1, t2);
		cgi_printf(b, "<p><strong>%u %% full</strong>: %s used of %s</p>", pct, t1, t2);
		cgi_bar(r, used, ceiling, label);
	}
	cgi_fmt_size(map_size, t1, sizeof t1);
	if (ceiling < map_max)
		cgi_printf(b, "<p class=\"hint\">The store is %s now; it grows by itself up to %s, as much as the disk "
		              "has room for (map_max is %s).</p>", t1, t2, t3);
	else
		cgi_printf(b, "<p class=\"hint\">The store is %s now; it grows by itself up to %s (map_max).</p>", t1, t3);
	cgi_fmt_size(us.bytes, t1, sizeof t1);
	cgi_printf(b, "<dl class=\"kv\" style=\"margin-top:10px\"><dt>Users</dt><dd>%u</dd><dt>Mail</dt>"
	              "<dd>%u message%s, %s</dd></dl></section>", us.n, (unsigned)us.msgs, us.msgs == 1 ? "" : "s", t1);

	/* Certificate */
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-crt\"><h2 id=\"h-crt\">Certificate</h2>");
	if (cert.loaded) {
		cgi_fmt_time(cert.not_after, t1, sizeof t1);
		cgi_printf(b, "<p>%s, valid until %s.</p><p class=\"lbl\">SHA-256 fingerprint</p><p class=\"mono\">%s</p>",
		           cert.self_made ? "Made by postnook" : "Your own certificate", t1, cert.fingerprint);
	} else if (cert.from_daemon) {
		cgi_printf(b, "<p>In use by the server.</p><p class=\"lbl\">SHA-256 fingerprint</p><p class=\"mono\">%s</p>",
		           cert.fingerprint);
	} else {
		cgi_put(b, "<p class=\"small\">");
		cgi_esc(b, cert.err);
		cgi_put(b, "</p>");
	}
	cgi_printf(b, "<p><a href=\"%s/certificate\">Certificate details</a></p></section>", r->script);
	cgi_put(b, "</div>");

	/* Listeners and the last reload */
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-lst\"><h2 id=\"h-lst\">Listening</h2>");
	if (have_status && s.nlisten) {
		cgi_put(b, "<table><thead><tr><th scope=\"col\">Protocol</th><th scope=\"col\">Security</th>"
		           "<th scope=\"col\">Address</th><th scope=\"col\">Port</th></tr></thead><tbody>");
		for (i = 0; i < s.nlisten; i++) {
			cgi_printf(b, "<tr><td>%s</td><td>%s</td><td><code>", proto_names[s.listen[i].proto & 1],
			           mode_names[s.listen[i].tls <= CFG_TLS_IMPLICIT ? s.listen[i].tls : 0]);
			cgi_esc(b, s.listen[i].addr);
			cgi_printf(b, "</code></td><td>%u</td></tr>", s.listen[i].port);
		}
		cgi_put(b, "</tbody></table>");
		if (s.reloads) {
			cgi_fmt_time(s.reload_time, t1, sizeof t1);
			cgi_printf(b, "<p class=\"hint\">Last reload at %s: <span class=\"pill %s\">%s</span> ", t1,
			           s.reload_ok ? "on" : "bad", s.reload_ok ? "OK" : "failed");
			cgi_esc(b, s.reload_msg);
			cgi_put(b, "</p>");
		}
	} else {
		cgi_put(b, "<p class=\"small\">Nothing is listening: the server is not running.</p>");
	}
	cgi_printf(b, "<p><a href=\"%s/protocols\">Change protocols and ports</a></p></section>", r->script);
	cgi_page_end(r);
	return 0;
}

#endif
