/* serve_cert — the self-made certificate, kept current (see serve_cert.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "serve_cert.h"
#include "sysconfig.h"
#include "tls.h"

#define NAMES_MAX (CFG_MAX_LISTEN + 32)
#define IFADDRS_MAX 16

/* A derived name: a system host name (at most 64 bytes), a one-label name
 * (at most 63) with ".home.arpa", or an address as text (at most 45). */
#define NAME_BUF 80

struct names {
	const char *v[NAMES_MAX];
	size_t n;
	char buf[8 + IFADDRS_MAX][NAME_BUF]; /* derived host names, then interface addresses */
	size_t nbuf;
	int skipped;                      /* names the CA does not permit */
};

int serve_cert_self(const struct cfg *c)
{
	char cert[CFG_PATH_MAX + 16], key[CFG_PATH_MAX + 16];

	if (!c->cert[0])
		return 1;
	snprintf(cert, sizeof cert, "%s/cert.pem", c->datadir);
	snprintf(key, sizeof key, "%s/key.pem", c->datadir);
	return !strcmp(c->cert, cert) && !strcmp(c->key, key);
}

/* Add name unless it is there already, or (with ca) outside what the CA permits. */
static void names_add(struct names *nm, const struct tls_creds *ca, const char *name)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		if (!strcmp(nm->v[i], name))
			return;
	if (ca && !tls_ca_permits(ca, name)) {
		if (!nm->skipped++)
			log_warn("certificate: %s is outside the household CA's names: left out (remove ca.pem and "
			         "ca-key.pem for a new CA)", name);
		return;
	}
	if (nm->n < NAMES_MAX)
		nm->v[nm->n++] = name;
}

/* A copy of text in the names' own buffer (NULL when full). */
static const char *names_keep(struct names *nm, const char *fmt, const char *s)
{
	if (nm->nbuf == sizeof nm->buf / sizeof nm->buf[0])
		return NULL;
	snprintf(nm->buf[nm->nbuf], sizeof nm->buf[0], fmt, s);
	return nm->buf[nm->nbuf++];
}

/* The router's host names: the configured one and the system's (when it differs). */
static size_t host_names(const struct cfg *c, struct names *nm, const char **hosts)
{
	char sys[NAME_BUF];
	size_t n = 0;

	hosts[n++] = c->hostname;
	if (gethostname(sys, sizeof sys) == 0 && memchr(sys, '\0', 65) && sys[0] && strcmp(sys, c->hostname) &&
	    strcmp(sys, "localhost") && !strchr(sys, ' ') && (hosts[n] = names_keep(nm, "%s", sys)))
		n++;
	return n;
}

/*
 * The names the certificate must hold: each host name (a one-label name
 * also as NAME.lan and NAME.home.arpa), localhost and every configured
 * listen address. Names the CA does not permit are left out.
 */
static void cert_names(const struct cfg *c, const struct tls_creds *ca, const char *const *hosts,
                       size_t nhosts, struct names *nm)
{
	size_t h, l;

	for (h = 0; h < nhosts; h++) {
		names_add(nm, ca, hosts[h]);
		if (!strchr(hosts[h], '.') && strcmp(hosts[h], "localhost")) {
			const char *n1 = names_keep(nm, "%s.lan", hosts[h]), *n2 = names_keep(nm, "%s.home.arpa", hosts[h]);
			if (n1)
				names_add(nm, ca, n1);
			if (n2)
				names_add(nm, ca, n2);
		}
	}
	names_add(nm, ca, "localhost");
	for (l = 0; l < c->nlisten; l++)
		if (strcmp(c->listen[l].addr, "0.0.0.0") && strcmp(c->listen[l].addr, "::"))
			names_add(nm, ca, c->listen[l].addr);
}

/*
 * For a wildcard listener, the host's own private addresses too (so a phone
 * that connects to 192.168.1.1 finds it). They change on their own, so they
 * are added only when a certificate is issued, never a reason to issue one.
 */
static void cert_ifaddrs(const struct cfg *c, const struct tls_creds *ca, struct names *nm)
{
	struct ifaddrs *ifa, *i;
	size_t l, added = 0;
	int wildcard = 0;

	for (l = 0; l < c->nlisten; l++)
		wildcard |= !strcmp(c->listen[l].addr, "0.0.0.0") || !strcmp(c->listen[l].addr, "::");
	if (!wildcard || getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && added < IFADDRS_MAX; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN];
		const void *p;
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : 0;

		if (fam == AF_INET)
			p = &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
		else if (fam == AF_INET6)
			p = &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(fam, p, a, sizeof a)) {
			unsigned char ip[16];
			size_t len = tls_ip_parse(a, ip);
			/* Public addresses are outside the CA's ranges: not worth a warning. */
			const char *kept;
			if (len && tls_ip_private(ip, len) && (kept = names_keep(nm, "%s", a))) {
				names_add(nm, ca, kept);
				added++;
			}
		}
	}
	freeifaddrs(ifa);
}

/* Note a renewal for the web page (DATADIR/cert.renewed, temp file + rename). */
static void cert_record(const struct cfg *c, const unsigned char *oldfp, const char *reason)
{
	char path[CFG_PATH_MAX + 32], tmp[CFG_PATH_MAX + 40], cert[CFG_PATH_MAX + 16], key[CFG_PATH_MAX + 16];
	char fo[96] = "-", fn[96], line[512];
	struct tls_creds now;
	int fd, n;

	snprintf(cert, sizeof cert, "%s/cert.pem", c->datadir);
	snprintf(key, sizeof key, "%s/key.pem", c->datadir);
	if (tls_creds_load(&now, cert, key))
		return;
	tls_fingerprint_str(now.fingerprint, fn);
	tls_creds_free(&now);
	if (oldfp)
		tls_fingerprint_str(oldfp, fo);
	log_info("certificate: issued a new server certificate (%s); SHA-256 fingerprint %s", reason, fn);
	snprintf(path, sizeof path, "%s/" SERVE_CERT_RECORD, c->datadir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	n = snprintf(line, sizeof line, "%lld %s %s %s\n", (long long)time(NULL), fo, fn, reason);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return;
	if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) == n && close(fd) == 0) {
		if (rename(tmp, path) < 0)
			unlink(tmp);
		return;
	}
	close(fd);
	unlink(tmp);
}

int serve_cert_renew(const struct cfg *c, int *issued)
{
	static struct names nm;             /* 2.3 KiB */
	const char *hosts[2];
	unsigned char oldfp[32];
	struct tls_creds ca;
	const char *why;
	size_t nhosts;
	int rc, made, have_old;

	*issued = 0;
	memset(&nm, 0, sizeof nm);
	nhosts = host_names(c, &nm, hosts);
	rc = tls_ca_ensure(c->datadir, hosts, nhosts, &ca, &made);
	if (rc) {
		log_err("certificate: no household CA in %s: %s", c->datadir, tls_strerror(rc));
		return rc;
	}
	if (made)
		log_info("certificate: made a new household CA %s/ca.pem, valid %d days", c->datadir, TLS_CA_DAYS);
	cert_names(c, &ca, hosts, nhosts, &nm);
	why = tls_leaf_stale(c->datadir, &ca, nm.v, nm.n, oldfp, &have_old);
	if (why) {
		cert_ifaddrs(c, &ca, &nm);
		rc = tls_leaf_issue(c->datadir, &ca, nm.v, nm.n);
		if (rc)
			log_err("certificate: cannot issue a server certificate in %s: %s", c->datadir, tls_strerror(rc));
		else {
			*issued = 1;
			cert_record(c, have_old ? oldfp : NULL, why);
		}
	}
	tls_creds_free(&ca);
	return rc;
}
