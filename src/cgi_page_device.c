/*
 * cgi_page_device — "set up a device": the exact settings for each enabled
 * protocol, help on choosing IMAP or POP3, Thunderbird's autoconfig file
 * (config-v1.1.xml, public: Thunderbird fetches it before anyone signs in)
 * and an Apple configuration profile (.mobileconfig) for one user.
 *
 * postnook does not send mail, but both files must name an outgoing (SMTP)
 * server (Thunderbird rejects a file without one): the household's provider
 * server is kept in the store ("cgi/smtp" = "host port") and set on this page.
 */
#include <stdio.h>
#include <string.h>

#include "sysconfig.h"
#include "auth.h"
#include "cgi.h"
#include "store_admin.h"
#include "store_user.h"

#if CONFIG_CGI

static const char *const sec_names[] = { "None", "STARTTLS", "SSL/TLS" };

/* The listener a device should use for proto: SSL/TLS first, then STARTTLS, then plain. NULL if none. */
static const struct cfg_listen *best_listener(const struct cfg *c, enum cfg_proto p)
{
	static const enum cfg_tls order[] = { CFG_TLS_IMPLICIT, CFG_TLS_STARTTLS, CFG_TLS_NONE };
	size_t i, k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < c->nlisten; i++)
			if (c->listen[i].proto == p && c->listen[i].tls == order[k] && strcmp(c->listen[i].addr, "127.0.0.1") &&
			    strcmp(c->listen[i].addr, "::1"))
				return &c->listen[i];
	for (k = 0; k < 3; k++)
		for (i = 0; i < c->nlisten; i++)
			if (c->listen[i].proto == p && c->listen[i].tls == order[k])
				return &c->listen[i];
	return NULL;
}

/* 1 if s is a plausible e-mail address of safe characters (it goes into XML and a profile). */
static int email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (!at || at == s || !at[1] || strchr(at + 1, '@') || n > 200)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("._%+-@", *s)))
			return 0;
	return 1;
}

/* Host name typed by people (SMTP server): letters, digits, dots, dashes; at least one dot. */
static int host_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 200 || !strchr(s, '.') || *s == '.' || *s == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-'))
			return 0;
	return 1;
}

struct smtp {
	char host[201];
	uint16_t port;                  /* 465: SSL/TLS, else STARTTLS */
};

/* The saved outgoing server; host "" when none is saved. */
static void smtp_get(struct cgi_req *r, struct smtp *out)
{
	char buf[240], *sp;
	size_t len = 0;

	memset(out, 0, sizeof *out);
	if (!r->st || store_kv_get(r->st, "smtp", buf, sizeof buf - 1, &len) != 0)
		return;
	buf[len] = '\0';
	sp = strchr(buf, ' ');
	if (!sp)
		return;
	*sp = '\0';
	if (!host_ok(buf) || cgi_parse_port(sp + 1, &out->port) < 0)
		return;
	snprintf(out->host, sizeof out->host, "%.200s", buf);
}

struct user_opts {
	struct cgi_req *r;
	unsigned n;
};

static int user_option(void *arg, const struct store_user *u)
{
	struct user_opts *o = arg;

	o->n++;
	cgi_put(&o->r->out, "<option>");
	cgi_esc(&o->r->out, u->name);
	cgi_put(&o->r->out, "</option>");
	return 0;
}

/* The settings table for one listener. */
static void settings_card(struct cgi_req *r, const struct cfg_listen *l)
{
	struct cgi_buf *b = &r->out;
	const char *host = r->host;
	char hostonly[128];
	size_t n = strcspn(host, ":");

	snprintf(hostonly, sizeof hostonly, "%.*s", (int)(n < sizeof hostonly ? n : sizeof hostonly - 1), host);
	cgi_printf(b, "<section class=\"card\"><h2>%s <span class=\"pill %s\">%s</span></h2><dl class=\"kv\">",
	           l->proto == CFG_PROTO_IMAP ? "IMAP" : "POP3", l->tls == CFG_TLS_NONE ? "bad" : "on", sec_names[l->tls]);
	cgi_put(b, "<dt>Server</dt><dd><code>");
	cgi_esc(b, r->cfg.hostname);
	cgi_put(b, "</code>");
	if (hostonly[0] && strcmp(hostonly, r->cfg.hostname)) {
		cgi_put(b, " <span class=\"small\">(or <code>");
		cgi_esc(b, hostonly);
		cgi_put(b, "</code> if that name is unknown on your network)</span>");
	}
	cgi_printf(b, "</dd><dt>Port</dt><dd><code>%u</code></dd><dt>Security</dt><dd>%s</dd>"
	              "<dt>User name</dt><dd>the user's name as on the Users page, e.g. <code>alice</code> (not the "
	              "whole address)</dd><dt>Password</dt><dd>that user's password</dd>"
	              "<dt>Authentication</dt><dd>Normal password</dd></dl>",
	           l->port, l->tls == CFG_TLS_IMPLICIT ? "SSL/TLS (some apps say \"SSL\")"
	                    : l->tls == CFG_TLS_STARTTLS ? "STARTTLS" : "None");
	if (l->tls == CFG_TLS_NONE)
		cgi_put(b, "<p class=\"hint\">Without encryption the password can be read on the way: use this only if "
		           "the app has no other choice.</p>");
	cgi_put(b, "</section>");
}

/* "Trust this router": the household CA to download, and how each kind of device installs it. */
static void ca_card(struct cgi_req *r)
{
	struct cgi_buf *b = &r->out;
	struct cgi_cert ca;

	if (cgi_cert_ca(r, &ca) != 0)
		return;
	cgi_printf(b, "<section class=\"card\" aria-labelledby=\"h-ca\"><h2 id=\"h-ca\">Trust this router: no "
	              "certificate warnings</h2><p class=\"small\">Install the router's household CA once per device; "
	              "mail apps then accept its certificate, renewals included. It vouches only for this router's "
	              "names and home-network addresses.</p><p><a href=\"%s/ca.crt\">Download the household CA</a> "
	              "(SHA-256 <span class=\"mono\">%s</span>)</p><ul class=\"small\">"
	              "<li><strong>Thunderbird</strong>: Settings, Privacy &amp; Security, Manage Certificates, "
	              "Authorities, Import; tick \"Trust this CA to identify websites\".</li>"
	              "<li><strong>Android</strong>: Settings, Security, Encryption &amp; credentials, Install a "
	              "certificate, CA certificate.</li><li><strong>Windows</strong>: open the file, Install "
	              "Certificate, Trusted Root Certification Authorities.</li><li><strong>iPhone, iPad, Mac</strong>: "
	              "the profile below includes it.</li></ul>", r->script, ca.fingerprint);
	cgi_put(b, "<p class=\"small\">Without it, compare the fingerprint the app shows with the one on the "
	           "Certificate page before accepting.</p></section>");
}

/* POST action=smtp: check and keep the outgoing server. 0, or -1 with the field errors set. */
static int smtp_save(struct cgi_req *r, char *err_host, char *err_port, size_t cap)
{
	const char *host = cgi_form_get(&r->form, "smtp_host"), *port = cgi_form_get(&r->form, "smtp_port");
	char rec[240];
	uint16_t p = 0;
	int rc;

	if (!host || !host_ok(host))
		snprintf(err_host, cap, "Write the server's name, such as smtp.example.net.");
	if (!port || cgi_parse_port(port, &p) < 0)
		snprintf(err_port, cap, "A port is a number from 1 to 65535 (usually 587 or 465).");
	if (*err_host || *err_port)
		return -1;
	snprintf(rec, sizeof rec, "%s %u", host, p);
	rc = store_kv_put(r->st, "smtp", rec, strlen(rec));
	if (rc) {
		snprintf(err_host, cap, "It could not be saved: %s.", store_strerror(rc));
		return -1;
	}
	return 0;
}

int cgi_page_device(struct cgi_req *r)
{
	struct cgi_buf *b = &r->out;
	struct user_opts uo = { r, 0 };
	struct smtp smtp;
	char err_host[120] = "", err_port[120] = "";
	const char *action = cgi_form_get(&r->form, "action");
	int saved = 0, failed = 0;
	const struct cfg_listen *imap = best_listener(&r->cfg, CFG_PROTO_IMAP);
	const struct cfg_listen *pop3 = best_listener(&r->cfg, CFG_PROTO_POP3);
	size_t i;
	int rc;

	if (!strcmp(r->method, "POST") && action && !strcmp(action, "smtp")) {
		if (smtp_save(r, err_host, err_port, sizeof err_host) == 0)
			saved = 1;
		else
			failed = 1;
	}
	smtp_get(r, &smtp);
	cgi_page_begin(r, "Set up a device", NAV_DEVICE);
	cgi_put(b, "<h1>Set up a device</h1><p class=\"lead\">What to type into a mail app on a phone, tablet or computer.</p>");
	if (saved)
		cgi_notice(r, "ok", "Outgoing server saved: the Thunderbird file and Apple profiles now name it.");
	if (failed)
		cgi_notice(r, "err", "Nothing was saved: please correct the field marked below.");

	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-which\"><h2 id=\"h-which\">IMAP or POP3?</h2>"
	           "<p><strong>IMAP keeps your mail here on the router</strong> and shows the same mailbox on every device: "
	           "read a message on the phone and it is read on the laptop too; delete it once and it is gone everywhere. "
	           "Choose IMAP if you read mail on more than one device — that is most people.</p>"
	           "<p><strong>POP3 moves mail onto one device.</strong> The app downloads new messages and usually deletes "
	           "them here, so they live only on that device (back it up!). It suits one computer that keeps the archive, "
	           "or a router with little storage. Apps can be told to leave a copy here, but read/unread and folders "
	           "are not shared between devices.</p>"
	           "<p class=\"small\">Either way, pick the <em>SSL/TLS</em> choice when the app offers it, and set the "
	           "outgoing (SMTP) server to the one of your internet or mail provider: postnook keeps and serves mail, "
	           "it does not send it.</p></section>");

	cgi_put(b, "<h2 style=\"margin-top:22px\">Settings to enter</h2>");
	for (i = 0; i < r->cfg.nlisten; i++) {
		const struct cfg_listen *l = &r->cfg.listen[i];
		if (l == imap || l == pop3)
			settings_card(r, l);
	}
	if (!imap && !pop3)
		cgi_notice(r, "info", "No protocol is turned on: see Protocols & ports.");

	/* Outgoing server */
	{
		const char *hv = failed ? cgi_form_get(&r->form, "smtp_host") : smtp.host;
		const char *pv = failed ? cgi_form_get(&r->form, "smtp_port") : NULL;
		char port[8] = "587";
		if (!failed && smtp.port)
			snprintf(port, sizeof port, "%u", smtp.port);
		cgi_printf(b, "<form class=\"card\" method=\"post\" action=\"%s/device\" aria-labelledby=\"h-out\" novalidate>"
		              "<h2 id=\"h-out\">Sending mail</h2><p class=\"small\">postnook keeps and serves your mail; mail apps "
		              "send through your internet or mail provider. Its server goes into the Thunderbird file and the "
		              "Apple profiles below.</p>", r->script);
		cgi_csrf_input(r);
		cgi_printf(b, "<input type=\"hidden\" name=\"action\" value=\"smtp\"><div class=\"row\"><div class=\"field%s\">"
		              "<label for=\"smtp-host\">Outgoing server (SMTP)</label><input type=\"text\" id=\"smtp-host\" "
		              "name=\"smtp_host\" autocapitalize=\"none\" spellcheck=\"false\" placeholder=\"smtp.your-provider.example\" "
		              "value=\"", err_host[0] ? " bad" : "");
		cgi_esc(b, hv ? hv : "");
		cgi_put(b, "\">");
		cgi_field_err(r, "smtp-host-err", err_host);
		cgi_printf(b, "</div><div class=\"field%s\" style=\"flex:0 1 140px\"><label for=\"smtp-port\">Port</label>"
		              "<input type=\"text\" inputmode=\"numeric\" id=\"smtp-port\" name=\"smtp_port\" maxlength=\"7\" value=\"",
		           err_port[0] ? " bad" : "");
		cgi_esc(b, pv ? pv : port);
		cgi_put(b, "\">");
		cgi_field_err(r, "smtp-port-err", err_port);
		cgi_put(b, "<p class=\"hint\">587 (STARTTLS) or 465 (SSL/TLS)</p></div></div><button class=\"sec\">Save</button></form>");
	}

	cgi_printf(b, "<section class=\"card\" aria-labelledby=\"h-tb\"><h2 id=\"h-tb\">Thunderbird</h2><p>Thunderbird "
	              "can fill all of this in by itself when your web server answers its lookup. The file is here: "
	              "<a href=\"%s/mail/config-v1.1.xml\">config-v1.1.xml</a>. The set-up guide explains how to publish it "
	              "at <code>http://autoconfig.<em>your-domain</em>/mail/config-v1.1.xml</code>.</p></section>", r->script);

	ca_card(r);

	cgi_printf(b, "<form class=\"card\" method=\"get\" action=\"%s/device/mobileconfig\" aria-labelledby=\"h-ios\">"
	              "<h2 id=\"h-ios\">iPhone, iPad and Mac</h2><p class=\"small\">Download a profile, open it on the device "
	              "and confirm in Settings; the device asks for the password. The profile also installs the household "
	              "CA: then turn on full trust for it in Settings, General, About, Certificate Trust Settings.</p>"
	              "<div class=\"row\">", r->script);
	cgi_put(b, "<div class=\"field\"><label for=\"mc-user\">User</label><select id=\"mc-user\" name=\"user\">");
	rc = store_user_list(r->st, user_option, &uo);
	if (rc)
		return rc;
	cgi_put(b, "</select></div><div class=\"field\"><label for=\"mc-mail\">E-mail address</label>"
	           "<input type=\"email\" id=\"mc-mail\" name=\"email\" placeholder=\"alice@example.org\" autocapitalize=\"none\">"
	           "</div><div class=\"field\"><label for=\"mc-proto\">Protocol</label><select id=\"mc-proto\" name=\"proto\">");
	if (imap)
		cgi_put(b, "<option value=\"imap\">IMAP (recommended)</option>");
	if (pop3)
		cgi_put(b, "<option value=\"pop3\">POP3</option>");
	cgi_put(b, "</select></div></div>");
	cgi_put(b, uo.n && (imap || pop3) ? "<button>Download profile</button>"
	                                  : "<p class=\"small\">Add a user and turn a protocol on first.</p>");
	cgi_put(b, "</form>");
	cgi_page_end(r);
	return 0;
}

/* Thunderbird's autoconfig XML (public). */
int cgi_page_autoconfig(struct cgi_req *r)
{
	static const char *const socket_types[] = { "plain", "STARTTLS", "SSL" };
	struct cgi_buf *b = &r->out;
	const char *email = cgi_form_get(&r->query, "emailaddress");
	const char *domain = r->cfg.hostname;
	const char *order[2] = { "imap", "pop3" };
	enum cfg_proto po[2] = { CFG_PROTO_IMAP, CFG_PROTO_POP3 };
	size_t i, k;

	if (email && email_ok(email))
		domain = strchr(email, '@') + 1;
	r->ctype = "application/xml; charset=utf-8";
	cgi_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  <emailProvider id=\"");
	cgi_esc(b, r->cfg.hostname);
	cgi_put(b, "\">\n    <domain>");
	cgi_esc(b, domain);
	cgi_put(b, "</domain>\n    <displayName>postnook on ");
	cgi_esc(b, r->cfg.hostname);
	cgi_put(b, "</displayName>\n    <displayShortName>postnook</displayShortName>\n");
	/* Thunderbird tries the servers in order: IMAP first, SSL/TLS before STARTTLS. */
	for (k = 0; k < 2; k++) {
		static const enum cfg_tls modes[] = { CFG_TLS_IMPLICIT, CFG_TLS_STARTTLS };
		for (size_t m = 0; m < 2; m++)
			for (i = 0; i < r->cfg.nlisten; i++) {
				const struct cfg_listen *l = &r->cfg.listen[i];
				if (l->proto != po[k] || l->tls != modes[m])
					continue;
				cgi_printf(b, "    <incomingServer type=\"%s\">\n      <hostname>", order[k]);
				cgi_esc(b, r->cfg.hostname);
				cgi_printf(b, "</hostname>\n      <port>%u</port>\n      <socketType>%s</socketType>\n"
				              "      <username>%%EMAILLOCALPART%%</username>\n"
				              "      <authentication>password-cleartext</authentication>\n", l->port,
				           socket_types[l->tls]);
				if (l->proto == CFG_PROTO_POP3)
					cgi_put(b, "      <pop3>\n        <leaveMessagesOnServer>true</leaveMessagesOnServer>\n"
					           "      </pop3>\n");
				cgi_put(b, "    </incomingServer>\n");
			}
	}
	/* Thunderbird rejects a file without an outgoing server: the saved one, else a guess to edit. */
	{
		struct smtp smtp;
		smtp_get(r, &smtp);             /* r->st is NULL when the store could not be opened */
		cgi_put(b, "    <outgoingServer type=\"smtp\">\n      <hostname>");
		if (smtp.host[0])
			cgi_esc(b, smtp.host);
		else
			cgi_put(b, "smtp.%EMAILDOMAIN%");
		cgi_printf(b, "</hostname>\n      <port>%u</port>\n      <socketType>%s</socketType>\n"
		              "      <username>%%EMAILADDRESS%%</username>\n"
		              "      <authentication>password-cleartext</authentication>\n    </outgoingServer>\n",
		           smtp.port ? smtp.port : 587, smtp.port == 465 ? "SSL" : "STARTTLS");
	}
	cgi_put(b, "  </emailProvider>\n</clientConfig>\n");
	return 0;
}

/* A random UUID (version 4) as text. */
static void uuid4(char out[37])
{
	unsigned char u[16];

	if (auth_random(u, sizeof u) != 0)
		memset(u, 0x5a, sizeof u);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0], u[1], u[2], u[3],
	         u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* The household CA as the profile's com.apple.security.root payload (nothing when there is none). */
static void ca_payload(struct cgi_req *r)
{
	static char pem[8192];
	struct cgi_buf *b = &r->out;
	const char *beg, *end;
	char u[37];

	if (cgi_cert_ca_pem(r, pem, sizeof pem) <= 0 || !(beg = strstr(pem, "-----BEGIN CERTIFICATE-----\n")) ||
	    !(end = strstr(beg, "-----END CERTIFICATE-----")))
		return;
	beg += 28;                      /* past the BEGIN line: the base64 lines are the plist's <data> */
	uuid4(u);
	cgi_put(b, "<dict>\n<key>PayloadCertificateFileName</key><string>postnook-ca.crt</string>\n"
	           "<key>PayloadContent</key><data>\n");
	cgi_putn(b, beg, (size_t)(end - beg));
	cgi_put(b, "</data>\n<key>PayloadDescription</key><string>The household CA of ");
	cgi_esc(b, r->cfg.hostname);
	cgi_put(b, ": it vouches only for its own names.</string>\n<key>PayloadDisplayName</key><string>postnook CA ");
	cgi_esc(b, r->cfg.hostname);
	cgi_printf(b, "</string>\n<key>PayloadIdentifier</key><string>postnook.ca.%s</string>\n"
	              "<key>PayloadType</key><string>com.apple.security.root</string>\n"
	              "<key>PayloadUUID</key><string>%s</string>\n<key>PayloadVersion</key><integer>1</integer>\n"
	              "</dict>\n", u, u);
}

/* GET /ca.crt (public: the CA is in every TLS handshake anyway): the household CA as PEM. */
int cgi_page_cacert(struct cgi_req *r)
{
	static char pem[8192];
	long n = cgi_cert_ca_pem(r, pem, sizeof pem);

	if (n <= 0)
		return cgi_error(r, 404, "No household CA yet", "The mail server makes it when it first starts.");
	r->ctype = "application/x-x509-ca-cert";
	cgi_put(&r->head, "Content-Disposition: attachment; filename=\"postnook-ca.crt\"\r\n");
	cgi_putn(&r->out, pem, (size_t)n);
	return 0;
}

/* Apple configuration profile for one user (GET, signed in). */
int cgi_page_mobileconfig(struct cgi_req *r)
{
	struct cgi_buf *b = &r->out;
	const char *user = cgi_form_get(&r->query, "user"), *email = cgi_form_get(&r->query, "email");
	const char *proto = cgi_form_get(&r->query, "proto");
	struct smtp smtp;
	const struct cfg_listen *l;
	struct store_user u;
	char u1[37], u2[37];
	int rc;

	rc = user ? store_user_get(r->st, user, &u) : STORE_ENOTFOUND;
	if (rc == STORE_ENOTFOUND)
		return cgi_error(r, 400, "No such user", "Choose a user from the list on the device page.");
	if (rc)
		return rc;
	if (email && *email && !email_ok(email))
		return cgi_error(r, 400, "Check the e-mail address", "The e-mail address does not look right.");
	smtp_get(r, &smtp);
	l = best_listener(&r->cfg, proto && !strcmp(proto, "pop3") ? CFG_PROTO_POP3 : CFG_PROTO_IMAP);
	if (!l)
		return cgi_error(r, 400, "Protocol not turned on", "Turn the protocol on in Protocols & ports first.");
	uuid4(u1);
	uuid4(u2);
	r->ctype = "application/x-apple-aspen-config";
	cgi_printf(&r->head, "Content-Disposition: attachment; filename=\"%s-mail.mobileconfig\"\r\n", u.name);
	cgi_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	           "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n"
	           "<key>PayloadContent</key>\n<array>\n<dict>\n<key>EmailAccountDescription</key><string>");
	cgi_esc(b, u.name);
	cgi_put(b, " on ");
	cgi_esc(b, r->cfg.hostname);
	cgi_printf(b, "</string>\n<key>EmailAccountName</key><string>%s</string>\n<key>EmailAccountType</key><string>%s</string>\n",
	           u.name, l->proto == CFG_PROTO_POP3 ? "EmailTypePOP" : "EmailTypeIMAP");
	if (email && *email) {
		cgi_put(b, "<key>EmailAddress</key><string>");
		cgi_esc(b, email);
		cgi_put(b, "</string>\n");
	}
	cgi_put(b, "<key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>\n"
	           "<key>IncomingMailServerHostName</key><string>");
	cgi_esc(b, r->cfg.hostname);
	cgi_printf(b, "</string>\n<key>IncomingMailServerPortNumber</key><integer>%u</integer>\n"
	              "<key>IncomingMailServerUseSSL</key><%s/>\n<key>IncomingMailServerUsername</key><string>%s</string>\n",
	           l->port, l->tls != CFG_TLS_NONE ? "true" : "false", u.name);
	cgi_put(b, "<key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>\n"
	           "<key>OutgoingMailServerHostName</key><string>");
	if (smtp.host[0])
		cgi_esc(b, smtp.host);
	else if (email && *email)
		cgi_printf(b, "smtp.%s", strchr(email, '@') + 1);      /* a guess the device lets one edit */
	else
		cgi_esc(b, r->cfg.hostname);
	cgi_printf(b, "</string>\n<key>OutgoingMailServerPortNumber</key><integer>%u</integer>\n"
	              "<key>OutgoingMailServerUseSSL</key><true/>\n<key>OutgoingPasswordSameAsIncomingPassword</key><false/>\n"
	              "<key>PayloadDescription</key><string>Mail account</string>\n<key>PayloadDisplayName</key><string>",
	           smtp.port ? smtp.port : 587);
	cgi_esc(b, u.name);
	cgi_put(b, "'s mail</string>\n<key>PayloadIdentifier</key><string>postnook.mail.");
	cgi_esc(b, u.name);
	cgi_printf(b, "</string>\n<key>PayloadType</key><string>com.apple.mail.managed</string>\n"
	              "<key>PayloadUUID</key><string>%s</string>\n<key>PayloadVersion</key><integer>1</integer>\n"
	              "<key>PreventMove</key><false/>\n</dict>\n", u1);
	ca_payload(r);
	cgi_put(b, "</array>\n<key>PayloadDescription</key><string>Sets up mail from postnook on ");
	cgi_esc(b, r->cfg.hostname);
	cgi_put(b, ".</string>\n<key>PayloadDisplayName</key><string>Mail: ");
	cgi_esc(b, u.name);
	cgi_put(b, "</string>\n<key>PayloadIdentifier</key><string>postnook.profile.");
	cgi_esc(b, u.name);
	cgi_printf(b, "</string>\n<key>PayloadRemovalDisallowed</key><false/>\n<key>PayloadType</key><string>Configuration</string>\n"
	              "<key>PayloadUUID</key><string>%s</string>\n<key>PayloadVersion</key><integer>1</integer>\n"
	              "</dict>\n</plist>\n", u2);
	return 0;
}

#endif
