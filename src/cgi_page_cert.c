/*
 * cgi_page_cert — the certificate: fingerprint, validity and key type of
 * the one in use; paste a PEM certificate (chain) and key, checked with
 * tls_creds_load() (the key must match) before anything changes; or ask
 * for a new self-made one; the household CA that issues it, with its
 * download and renewal news.
 *
 * The daemon reloads its certificate when the configured path changes, so
 * an upload gets fresh file names (DATADIR/cert-TIME.pem, key-TIME.pem). A
 * new self-made certificate is issued by the daemon itself (only it may
 * read the CA's key): the page removes DATADIR/cert.pem, goes back to the
 * self-made files if the config named others, and asks for a reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysconfig.h"
#include "cgi.h"
#include "tls.h"

#if CONFIG_CGI

#define PEM_FIELD_MAX (20 * 1024)

/* Write a PEM text to path (0600, O_EXCL) without its CRs: browsers send textarea lines as CRLF. 0 or -errno. */
static int write_file(const char *path, const char *text)
{
	static char clean[PEM_FIELD_MAX + 1];
	size_t len = 0, off = 0;
	int fd;

	for (; *text && len < PEM_FIELD_MAX; text++)
		if (*text != '\r')
			clean[len++] = *text;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, clean + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			unlink(path);
			return -EIO;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

/*
 * Make a file we wrote readable by the daemon: as root, give it to the data
 * directory's owner (the daemon's user); otherwise the daemon reads it through
 * the shared group (see the documentation), so 0640.
 */
static void give_to_daemon(const struct cgi_req *r, const char *path)
{
	struct stat st;

	if (geteuid() != 0) {
		chmod(path, 0640);
		return;
	}
	if (stat(r->cfg.datadir, &st) == 0 && chown(path, st.st_uid, st.st_gid) < 0) {
		/* the daemon may then not read it; the reload will say so */
	}
}

/* Errors of the upload form, per field. */
struct cert_errs {
	char cert[200], key[200];
};

/* Check and install a pasted pair; 0 with the new paths in r->cfg, or -1 with errors set. */
static int cert_upload(struct cgi_req *r, const char *cert, const char *key, struct cert_errs *e,
                       struct cgi_reload *rl, struct cgi_cert *info)
{
	char tc[CFG_PATH_MAX + 40], tk[CFG_PATH_MAX + 40], fc[CFG_PATH_MAX + 40], fk[CFG_PATH_MAX + 40];
	char lines[2 * CFG_PATH_MAX + 128], err[CFG_ERR_MAX], oldc[CFG_PATH_MAX], oldk[CFG_PATH_MAX];
	static const char *const keys[] = { "cert", "key" };
	long t = (long)time(NULL);
	int rc;

	if (!strstr(cert, "-----BEGIN CERTIFICATE-----"))
		snprintf(e->cert, sizeof e->cert, "Paste the certificate in PEM form: it starts with -----BEGIN CERTIFICATE-----.");
	if (!strstr(key, "PRIVATE KEY-----"))
		snprintf(e->key, sizeof e->key, "Paste the private key in PEM form: it starts with -----BEGIN ... PRIVATE KEY-----.");
	if (strlen(cert) > PEM_FIELD_MAX)
		snprintf(e->cert, sizeof e->cert, "That is too long for a certificate chain (at most 20 KB).");
	if (strlen(key) > PEM_FIELD_MAX)
		snprintf(e->key, sizeof e->key, "That is too long for a key (at most 20 KB).");
	if (e->cert[0] || e->key[0])
		return -1;
	snprintf(tc, sizeof tc, "%s/cert-upload-%ld.tmp", r->cfg.datadir, (long)getpid());
	snprintf(tk, sizeof tk, "%s/key-upload-%ld.tmp", r->cfg.datadir, (long)getpid());
	unlink(tc);
	unlink(tk);
	if ((rc = write_file(tc, cert)) < 0 || (rc = write_file(tk, key)) < 0) {
		snprintf(e->cert, sizeof e->cert, "Cannot write into %.150s: %s.", r->cfg.datadir, strerror(-rc));
		unlink(tc);
		return -1;
	}
	rc = cgi_cert_load(tc, tk, info);
	if (rc == TLS_EMISMATCH)
		snprintf(e->key, sizeof e->key, "This key does not belong to the certificate.");
	else if (rc == TLS_EKEY)
		snprintf(e->key, sizeof e->key, "This key type is not supported (use RSA 2048+ or ECDSA P-256/P-384).");
	else if (rc)
		snprintf(e->cert, sizeof e->cert, "The certificate or key could not be read (%s).", tls_strerror(rc));
	else if (info->not_after < (int64_t)time(NULL))
		snprintf(e->cert, sizeof e->cert, "This certificate has expired.");
	if (e->cert[0] || e->key[0]) {
		unlink(tc);
		unlink(tk);
		return -1;
	}
	snprintf(fc, sizeof fc, "%s/cert-%ld.pem", r->cfg.datadir, t);
	snprintf(fk, sizeof fk, "%s/key-%ld.pem", r->cfg.datadir, t);
	if (rename(tc, fc) < 0 || rename(tk, fk) < 0) {
		snprintf(e->cert, sizeof e->cert, "Cannot store the files: %s.", strerror(errno));
		unlink(tc);
		unlink(tk);
		unlink(fc);
		return -1;
	}
	give_to_daemon(r, fc);
	give_to_daemon(r, fk);
	snprintf(oldc, sizeof oldc, "%s", r->cfg.cert);
	snprintf(oldk, sizeof oldk, "%s", r->cfg.key);
	snprintf(lines, sizeof lines, "cert = %s\nkey = %s\n", fc, fk);
	if (cgi_conf_update(r, keys, 2, lines, err, sizeof err) < 0) {
		snprintf(e->cert, sizeof e->cert, "%.190s", err);
		unlink(fc);
		unlink(fk);
		return -1;
	}
	cgi_conf_reload(r, rl);
	/* Our previous upload is no longer needed once the server took the new one. */
	if (rl->answered && rl->ok && oldc[0] && strstr(oldc, "/cert-") && !strncmp(oldc, r->cfg.datadir, strlen(r->cfg.datadir))) {
		unlink(oldc);
		unlink(oldk);
	}
	return 0;
}

/* Ask the daemon for a new self-made certificate (see the top of the file). 0 or -1 with msg. */
static int cert_regenerate(struct cgi_req *r, char *msg, size_t cap, struct cgi_reload *rl)
{
	static const char *const keys[] = { "cert", "key" };
	char c[CFG_PATH_MAX + 16], err[CFG_ERR_MAX];
	struct cgi_cert now;

	cgi_cert_info(r, &now);
	snprintf(c, sizeof c, "%s/cert.pem", r->cfg.datadir);
	if (unlink(c) < 0 && errno != ENOENT) {
		snprintf(msg, cap, "The old certificate could not be removed: %s.", strerror(errno));
		return -1;
	}
	if (!now.self_made && cgi_conf_update(r, keys, 2, "", err, sizeof err) < 0) {
		snprintf(msg, cap, "%.280s", err);
		return -1;
	}
	cgi_conf_reload(r, rl);
	return 0;
}

/* The household CA: fingerprint, validity, download, and the last automatic renewal. */
static void ca_card(struct cgi_req *r, const struct cgi_cert *in_use)
{
	struct cgi_buf *b = &r->out;
	struct cgi_cert ca;
	struct cgi_renewal rn;
	char t[48];

	if (in_use->self_made && cgi_cert_renewal(r, &rn) == 0 && !strcmp(rn.new_fp, in_use->fingerprint) &&
	    strcmp(rn.old_fp, "-")) {
		cgi_fmt_time(rn.when, t, sizeof t);
		cgi_printf(b, "<div class=\"note info\" role=\"status\"><p>The server made a new certificate on %s (", t);
		cgi_esc(b, rn.reason);
		cgi_printf(b, "): <strong>its fingerprint changed</strong>. Before: <span class=\"mono\">%s</span>. Devices "
		              "that trust the household CA accept the new one without asking; a device that trusted only "
		              "the old certificate asks once more.</p></div>", rn.old_fp);
	}
	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-ca\"><h2 id=\"h-ca\">Household CA</h2>");
	if (cgi_cert_ca(r, &ca) != 0) {
		cgi_put(b, "<p>None yet: the server makes it when it first starts.</p></section>");
		return;
	}
	cgi_fmt_time(ca.not_after, t, sizeof t);
	cgi_put(b, "<p class=\"small\">Install it once on each phone and computer, and they trust this server's "
	           "certificates from then on, renewals included, without warnings. It can vouch only for this "
	           "router's names (<code>");
	cgi_esc(b, r->cfg.hostname);
	cgi_put(b, "</code>, names ending in <code>.lan</code> or <code>.home.arpa</code>) and home-network addresses, "
	           "so trusting it lets nobody pose as another site.</p><dl class=\"kv\"><dt>Name</dt><dd>");
	cgi_esc(b, ca.subject);
	cgi_printf(b, "</dd><dt>Valid until</dt><dd>%s</dd><dt>SHA-256 fingerprint</dt><dd class=\"mono\">%s</dd></dl>"
	              "<p><a href=\"%s/ca.crt\">Download the CA certificate</a> &middot; <a href=\"%s/device\">how to "
	              "install it</a></p></section>", t, ca.fingerprint, r->script, r->script);
}

int cgi_page_cert(struct cgi_req *r)
{
	struct cgi_buf *b = &r->out;
	struct cgi_cert info;
	struct cert_errs e;
	struct cgi_reload rl;
	const char *action = cgi_form_get(&r->form, "action");
	const char *pc = cgi_form_get(&r->form, "cert"), *pk = cgi_form_get(&r->form, "key");
	char msg[300], t1[48], t2[48];
	int done = 0, failed = 0;

	memset(&e, 0, sizeof e);
	msg[0] = '\0';
	if (action && !strcmp(action, "upload")) {
		struct cgi_cert up;
		memset(&up, 0, sizeof up);
		if (cert_upload(r, pc ? pc : "", pk ? pk : "", &e, &rl, &up) == 0)
			done = 1;
		else
			failed = 1;
	} else if (action && !strcmp(action, "regenerate")) {
		if (cert_regenerate(r, msg, sizeof msg, &rl) == 0)
			done = 2;
		else
			failed = 1;
	}
	cgi_cert_info(r, &info);
	cgi_page_begin(r, "Certificate", NAV_CERT);
	cgi_put(b, "<h1>Certificate</h1><p class=\"lead\">Mail apps check this certificate before they send a password. "
	           "Compare the fingerprint when a phone asks whether to trust it.</p>");
	if (done)
		cgi_reload_notice(r, done == 1 ? "Your certificate is" : "A new certificate is", &rl);
	if (failed)
		cgi_notice(r, "err", msg[0] ? msg : "Nothing was changed: please correct the fields marked below.");

	cgi_put(b, "<section class=\"card\" aria-labelledby=\"h-cur\"><h2 id=\"h-cur\">In use</h2>");
	if (info.loaded) {
		int64_t now = (int64_t)time(NULL);
		cgi_fmt_time(info.not_before, t1, sizeof t1);
		cgi_fmt_time(info.not_after, t2, sizeof t2);
		cgi_put(b, "<dl class=\"kv\"><dt>Kind</dt><dd>");
		cgi_put(b, info.self_made ? "Made by postnook, issued by the household CA" : "Your own certificate");
		if (info.subject[0]) {
			cgi_put(b, "</dd><dt>Issued to</dt><dd>");
			cgi_esc(b, info.subject);
		}
		cgi_printf(b, "</dd><dt>Valid</dt><dd>%s to %s %s</dd><dt>Key</dt><dd>%s</dd>"
		              "<dt>SHA-256 fingerprint</dt><dd class=\"mono\">%s</dd><dt>File</dt><dd><code>",
		           t1, t2, info.not_after < now ? "<span class=\"pill bad\">expired</span>"
		                   : info.not_after < now + TLS_RENEW_DAYS * 86400 ? "<span class=\"pill bad\">expires soon</span>"
		                   : "<span class=\"pill on\">valid</span>",
		           info.keydesc, info.fingerprint);
		cgi_esc(b, info.cert_path);
		cgi_put(b, "</code></dd></dl>");
	} else {
		cgi_put(b, "<p>");
		cgi_esc(b, info.err);
		cgi_put(b, "</p>");
		if (info.from_daemon)
			cgi_printf(b, "<p class=\"lbl\">SHA-256 fingerprint, as the server reports it</p><p class=\"mono\">%s</p>",
			           info.fingerprint);
	}
	cgi_put(b, "</section>");
	ca_card(r, &info);

	cgi_printf(b, "<form class=\"card\" method=\"post\" action=\"%s/certificate\" aria-labelledby=\"h-up\">"
	              "<h2 id=\"h-up\">Use your own certificate</h2><p class=\"small\">For example one from Let's Encrypt "
	              "(acme.sh writes <code>fullchain.cer</code> and the <code>.key</code> file). Paste both as text; the key "
	              "must belong to the certificate.</p>", r->script);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"upload\">");
	cgi_printf(b, "<div class=\"field%s\"><label for=\"pem-cert\">Certificate (PEM, the server's first, then the chain)</label>"
	              "<textarea id=\"pem-cert\" name=\"cert\" spellcheck=\"false\" placeholder=\"-----BEGIN CERTIFICATE-----\"%s>",
	           e.cert[0] ? " bad" : "", e.cert[0] ? " aria-invalid=\"true\" aria-describedby=\"cert-err\"" : "");
	if (failed && pc)
		cgi_esc(b, pc);
	cgi_put(b, "</textarea>");
	cgi_field_err(r, "cert-err", e.cert);
	cgi_printf(b, "</div><div class=\"field%s\"><label for=\"pem-key\">Private key (PEM)</label>"
	              "<textarea id=\"pem-key\" name=\"key\" spellcheck=\"false\" placeholder=\"-----BEGIN PRIVATE KEY-----\"%s>",
	           e.key[0] ? " bad" : "", e.key[0] ? " aria-invalid=\"true\" aria-describedby=\"key-err\"" : "");
	cgi_put(b, "</textarea>");
	cgi_field_err(r, "key-err", e.key);
	cgi_put(b, "<p class=\"hint\">The key is never shown again and is stored readable only by the mail server.</p></div>"
	           "<button>Check and use</button></form>");

	cgi_printf(b, "<form class=\"card\" method=\"post\" action=\"%s/certificate\" aria-labelledby=\"h-gen\">"
	              "<h2 id=\"h-gen\">Make a new certificate</h2><p class=\"small\">The server issues one from the "
	              "household CA for ", r->script);
	cgi_esc(b, r->cfg.hostname);
	cgi_printf(b, ", valid %d days, and renews it by itself %d days before it ends. Devices that trust the "
	              "household CA accept the new one; others ask once more.</p>", TLS_LEAF_DAYS, TLS_RENEW_DAYS);
	cgi_csrf_input(r);
	cgi_put(b, "<input type=\"hidden\" name=\"action\" value=\"regenerate\"><button class=\"sec\">Make a new certificate</button></form>");
	cgi_page_end(r);
	return 0;
}

#endif
