/* serve — the daemon: config, certificate, store, listeners, signals, privileges, reload. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "commit.h"
#include "conn.h"
#include "imap.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "pop3.h"
#include "serve_cert.h"
#include "serve_status.h"
#include "store.h"
#include "store_check.h"
#include "sysconfig.h"
#include "tls.h"

#define EX_CONFIG 78
#define EX_SOFTWARE 70

/* The protocols of this build, by the config's protocol names: a
 * listener's sessions speak the ops of its entry. */
static const struct proto_ops *const protos[CFG_PROTO_N] = {
#if CONFIG_POP3
	[CFG_PROTO_POP3] = &pop3_ops,
#endif
#if CONFIG_IMAP
	[CFG_PROTO_IMAP] = &imap_ops,
#endif
};

struct listener {
	struct loop_fd lfd;
	struct cfg_listen cl;
	const struct proto_ops *ops;      /* protos[cl.proto] */
	int active;
};

static struct cfg cfg;                    /* the config in force */
static const char *conf_path;
static struct listener listeners[CFG_MAX_LISTEN];
static int sigpipe[2] = { -1, -1 };
static struct loop_fd sig_lfd, notify_lfd;
static struct tls_creds creds;
static int have_creds;
static int stopping;                      /* shutdown: sessions are saying goodbye */
static int stop_now;                      /* a second SIGTERM: do not wait for them */

/* At shutdown, how long the sessions' last lines (IMAP's * BYE) may take to
 * go out before the remaining connections are closed regardless: a client
 * that never reads does not hold the daemon's exit longer than this. */
#define SERVE_BYE_MS 2000
static struct loop_timer cert_timer;      /* renews the self-made certificate */

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (write(sigpipe[1], &b, 1) < 0) {
		/* the pipe is full: a signal of that kind is already pending */
	}
	errno = saved;
}

static void listener_cb(struct loop_fd *lf, short revents)
{
	struct listener *l = container_of(lf, struct listener, lfd);

	conn_accept(lf->fd, &l->cl, l->ops);
}

static void pause_listeners(int pause)
{
	size_t i;

	for (i = 0; i < CFG_MAX_LISTEN; i++)
		if (listeners[i].active)
			loop_fd_events(&listeners[i].lfd, pause ? 0 : POLLIN);
}

/* Open, bind and listen on one address; returns the fd or -errno. */
static int listen_open(const struct cfg_listen *cl)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, v6 = strchr(cl->addr, ':') != NULL;

	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cl->port);
		if (inet_pton(AF_INET6, cl->addr, &s6->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cl->port);
		if (inet_pton(AF_INET, cl->addr, &s4->sin_addr) != 1)
			return -EINVAL;
		len = sizeof *s4;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int same_listen(const struct cfg_listen *a, const struct cfg_listen *b)
{
	return a->proto == b->proto && a->tls == b->tls && a->port == b->port && !strcmp(a->addr, b->addr);
}

/*
 * Make the open listeners match c: keep those that are unchanged, open the
 * new ones, close the ones no longer wanted. Returns the number that failed.
 */
static int listeners_sync(const struct cfg *c)
{
	size_t i, j;
	int failed = 0;

	for (j = 0; j < CFG_MAX_LISTEN; j++) {
		struct listener *l = &listeners[j];
		int keep = 0;
		if (!l->active)
			continue;
		for (i = 0; i < c->nlisten; i++)
			keep |= same_listen(&l->cl, &c->listen[i]);
		if (!keep) {
			log_info("listener %s %s:%u closed", l->ops->name, l->cl.addr, l->cl.port);
			loop_fd_del(&l->lfd);
			close(l->lfd.fd);
			l->active = 0;
		}
	}
	for (i = 0; i < c->nlisten; i++) {
		const struct cfg_listen *cl = &c->listen[i];
		struct listener *free_l = NULL;
		int have = 0, fd;
		for (j = 0; j < CFG_MAX_LISTEN; j++) {
			if (listeners[j].active && same_listen(&listeners[j].cl, cl))
				have = 1;
			else if (!listeners[j].active && !free_l)
				free_l = &listeners[j];
		}
		if (have || !free_l)
			continue;
		if (!protos[cl->proto]) {
			/* cfg_load refuses such a listener: this is a safety net. */
			log_err("no protocol for listener on %s port %u in this build", cl->addr, cl->port);
			failed++;
			continue;
		}
		fd = listen_open(cl);
		if (fd < 0) {
			log_err("cannot listen on %s port %u: %s", cl->addr, cl->port, strerror(-fd));
			failed++;
			continue;
		}
		free_l->cl = *cl;
		free_l->ops = protos[cl->proto];
		free_l->lfd.fd = fd;
		free_l->lfd.idx = -1;
		free_l->lfd.events = POLLIN;
		free_l->lfd.cb = listener_cb;
		if (loop_fd_add(&free_l->lfd) < 0) {
			close(fd);
			failed++;
			continue;
		}
		free_l->active = 1;
		log_info("listening: %s %s on %s port %u", free_l->ops->name,
		         cl->tls == CFG_TLS_IMPLICIT ? "tls" : cl->tls == CFG_TLS_STARTTLS ? "starttls" : "plain",
		         cl->addr, cl->port);
	}
	return failed;
}

static int wants_tls(const struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls != CFG_TLS_NONE)
			return 1;
	return 0;
}


/* Load the configured certificate, or the self-made one (made and renewed from the household CA). */
static int creds_setup(const struct cfg *c, struct tls_creds *out)
{
	char cert[CFG_PATH_MAX + 16], key[CFG_PATH_MAX + 16], fp[96];
	int rc, issued;

	if (!CONFIG_TLS)
		return -ENOTSUP;
	if (!serve_cert_self(c)) {
		snprintf(cert, sizeof cert, "%s", c->cert);
		snprintf(key, sizeof key, "%s", c->key);
	} else {
		snprintf(cert, sizeof cert, "%s/cert.pem", c->datadir);
		snprintf(key, sizeof key, "%s/key.pem", c->datadir);
		rc = serve_cert_renew(c, &issued);
		if (rc < 0)
			return rc;
	}
	rc = tls_creds_load(out, cert, key);
	if (rc < 0) {
		log_err("cannot load certificate %s / key %s: %s", cert, key, tls_strerror(rc));
		return rc;
	}
	tls_fingerprint_str(out->fingerprint, fp);
	log_info("certificate %s SHA-256 fingerprint %s", cert, fp);
	return 0;
}

/*
 * Credentials a reload replaced: live TLS engines may still point into them,
 * so they are freed only when no connection is open (checked at each reload)
 * and at shutdown. (More than 8 replacements while sessions stay open are
 * left allocated, as before.)
 */
static struct tls_creds *retired[8];
static size_t nretired;
static struct tls_creds *creds_live = &creds;   /* conn_env.creds, writable */

static void creds_release(int all)
{
	size_t i;

	if (!all && conn_count(-1) != 0)
		return;
	for (i = 0; i < nretired; i++) {
		tls_creds_free(retired[i]);
		if (retired[i] != &creds)
			free(retired[i]);
	}
	nretired = 0;
}

/* Load c's certificate into fresh credentials and use them for new connections. 0 or -1. */
static int creds_swap(const struct cfg *c)
{
	/* Old credentials stay allocated: live TLS engines still point into them. */
	struct tls_creds *fresh = calloc(1, sizeof *fresh);

	if (!fresh || creds_setup(c, fresh) < 0) {
		free(fresh);
		return -1;
	}
	creds_release(0);
	if (have_creds && nretired < sizeof retired / sizeof retired[0])
		retired[nretired++] = creds_live;
	creds_live = fresh;
	conn_env.creds = fresh;
	have_creds = 1;
	return 0;
}

/* Timer: renew the self-made certificate in time, without a restart. */
static void cert_tick(struct loop_timer *t)
{
	int renewed = 0;

	if (have_creds && serve_cert_self(&cfg) && serve_cert_renew(&cfg, &renewed) == 0 && renewed &&
	    creds_swap(&cfg) < 0)
		log_err("certificate: the renewed certificate could not be loaded; serving the old one");
	loop_timer_set(t, SERVE_CERT_CHECK_MS);
}

/* SIGHUP: re-read the config; a bad file leaves the old one in force. */
static void reload(void)
{
	static struct cfg next;
	char err[CFG_ERR_MAX];
	int rc, renewed = 0;

	if (cfg_load(&next, conf_path, err, sizeof err) < 0) {
		log_err("reload: %s (keeping the running configuration)", err);
		serve_status_reload(&cfg, 0, err);
		return;
	}
	if (strcmp(next.datadir, cfg.datadir))
		log_warn("reload: datadir changes need a restart; keeping %s", cfg.datadir);
	snprintf(next.datadir, sizeof next.datadir, "%s", cfg.datadir);
	if (next.max_connections > CONFIG_MAX_CONNS)
		next.max_connections = CONFIG_MAX_CONNS;
	/* The self-made certificate is checked at every reload too (the page may have asked for a new one). */
	if (wants_tls(&next) && have_creds && !strcmp(next.cert, cfg.cert) && !strcmp(next.key, cfg.key) &&
	    serve_cert_self(&next))
		serve_cert_renew(&next, &renewed);
	if (wants_tls(&next) && (strcmp(next.cert, cfg.cert) || strcmp(next.key, cfg.key) || !have_creds || renewed) &&
	    creds_swap(&next) < 0) {
		log_err("reload: certificate not loaded (keeping the running configuration)");
		serve_status_reload(&cfg, 0, "the certificate could not be loaded");
		return;
	}
	cfg = next;
	conn_trace_reload();            /* the trace list may have changed */
	rc = listeners_sync(&cfg);
	if (rc)
		log_err("reload: some listeners could not be opened");
	log_info("configuration reloaded from %s", conf_path);
	serve_status_reload(&cfg, rc == 0, rc ? "some listeners could not be opened (port in use?)" : "reloaded");
}

static void signal_cb(struct loop_fd *lf, short revents)
{
	unsigned char b[16];
	ssize_t n, i;

	while ((n = read(lf->fd, b, sizeof b)) > 0)
		for (i = 0; i < n; i++) {
			if (b[i] == SIGHUP && !stopping)
				reload();
			else if (b[i] == SIGTERM || b[i] == SIGINT) {
				stop_now = stopping;
				loop_stop();
			}
		}
}

/* A mailbox changed outside the daemon: tell every protocol that cares. */
static void protos_mbox_changed(uint32_t mbox)
{
	size_t i;

	for (i = 0; i < CFG_PROTO_N; i++)
		if (protos[i] && protos[i]->mbox_changed)
			protos[i]->mbox_changed(mbox);
}

static void notify_cb(struct loop_fd *lf, short revents)
{
	char kind;
	uint32_t user, mbox;
	int rc, n = 0;

	/* Bounded: at most 64 datagrams per turn so a flood cannot starve clients. */
	while (n++ < 64 && (rc = notify_recv(lf->fd, &kind, &user, &mbox)) != -EAGAIN) {
		if (rc == 0 && kind == 'R')
			reload();
		if (rc == 0 && kind == 'M')
			protos_mbox_changed(mbox);
	}
}

/*
 * Shutdown: stop accepting and reloading, let every session say its last
 * line (IMAP * BYE, POP3 -ERR [SYS/TEMP]) and wait up to SERVE_BYE_MS for
 * them to be sent; the caller then closes whatever is left.
 */
static void shutdown_drain(void)
{
	int64_t end;
	size_t i;

	stopping = 1;
	for (i = 0; i < CFG_MAX_LISTEN; i++)
		if (listeners[i].active) {
			loop_fd_del(&listeners[i].lfd);
			close(listeners[i].lfd.fd);
			listeners[i].active = 0;
		}
	if (notify_lfd.fd >= 0)
		loop_fd_del(&notify_lfd);
	loop_unstop();
	conn_bye_all();
	end = loop_now() + SERVE_BYE_MS;
	while (conn_count(-1) && !stop_now && loop_now() < end)
		if (loop_run_once((int)(end - loop_now())) < 0)
			break;
}

static int setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_lfd.fd = sigpipe[0];
	sig_lfd.idx = -1;
	sig_lfd.events = POLLIN;
	sig_lfd.cb = signal_cb;
	return loop_fd_add(&sig_lfd);
}

/* Give the data directory to the run-as user, then drop root for good. */
static int drop_privileges(const struct cfg *c)
{
	static const char *files[] = { "", "/data.mdb", "/lock.mdb", "/cert.pem", "/key.pem", "/notify.sock",
	                               "/ca.pem", "/ca-key.pem", "/" SERVE_CERT_RECORD };
	struct passwd *pw;
	size_t i;

	if (!c->run_as[0] || getuid() != 0)
		return 0;
	pw = getpwnam(c->run_as);
	if (!pw) {
		log_err("user '%s' (config key user) does not exist", c->run_as);
		return -ENOENT;
	}
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[CFG_PATH_MAX + 16];
		snprintf(path, sizeof path, "%s%s", c->datadir, files[i]);
		if (chown(path, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
			log_warn("chown %s: %s", path, strerror(errno));
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot drop privileges to '%s': %s", c->run_as, strerror(errno));
		return -errno;
	}
	if (setuid(0) == 0) {
		log_err("privileges could be regained after dropping them");
		return -EPERM;
	}
	log_info("running as user '%s'", c->run_as);
	return 0;
}

static void write_pidfile(const char *path)
{
	FILE *f;

	if (!path[0])
		return;
	f = fopen(path, "w");
	if (!f) {
		log_warn("pidfile %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static void usage(void)
{
	fprintf(stderr, "usage: postnook serve [-c FILE] [-f]\n"
	                "  -c FILE  configuration file (default %s)\n"
	                "  -f       stay in the foreground\n", cmd_default_conf());
}

/* postnook serve: run the daemon until SIGTERM. Returns the exit status. */
int cmd_serve_main(int argc, char **argv)
{
	struct store_opts so;
	char err[CFG_ERR_MAX];
	size_t i, sess_size = 0;
	int opt, foreground = 0, rc, nfd;

	conf_path = cmd_default_conf();
	while ((opt = getopt(argc, argv, "c:f")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		default: usage(); return 64;
		}
	}
	if (optind != argc) {
		usage();
		return 64;
	}
	umask(007);
	if (cfg_load(&cfg, conf_path, err, sizeof err) < 0) {
		fprintf(stderr, "postnook: %s\n", err);
		return EX_CONFIG;
	}
	if (cfg.max_connections > CONFIG_MAX_CONNS)
		cfg.max_connections = CONFIG_MAX_CONNS;
	log_open("postnook", cfg.log);
	if (mkdir(cfg.datadir, 0750) < 0 && errno != EEXIST) {
		log_err("cannot create data directory %s: %s", cfg.datadir, strerror(errno));
		return EX_CONFIG;
	}
	if (wants_tls(&cfg)) {
		if (creds_setup(&cfg, &creds) < 0)
			return EX_CONFIG;
		have_creds = 1;
		conn_env.creds = &creds;
	}
	memset(&so, 0, sizeof so);
	so.map_size = cfg.map_size;
	so.map_max = cfg.map_max;
	so.nosync = !cfg.sync;
	rc = store_open(cfg.datadir, &so, &conn_env.store);
	if (rc < 0) {
		log_err("cannot open the store in %s: %s", cfg.datadir, store_strerror(rc));
		return 75;
	}
	{
		/* The map bounds the store: say how far it may grow (on a 32-bit board
		 * the address space caps map_max at 1G, see cfg.c). */
		uint64_t map_now, map_max;

		if (store_mapinfo(conn_env.store, &map_now, &map_max, NULL) == 0)
			log_info("store %s: map %" PRIu64 " MiB, grows up to map_max = %" PRIu64 " MiB%s",
			         cfg.datadir, map_now >> 20, map_max >> 20,
			         sizeof(void *) < 8 ? " (a 32-bit system allows at most 1024 MiB)" : "");
	}
	{
		/* keyword names that are not atoms (a FETCH could once store "BODY[") */
		char kw[STORE_KW_LEN + 1];
		unsigned removed, mboxes;

		rc = store_check_keywords(conn_env.store, &removed, &mboxes, kw);
		if (rc < 0)
			log_err("store %s: keyword check failed: %s", cfg.datadir, store_strerror(rc));
		else if (removed)
			log_warn("store %s: removed %u invalid keyword name%s (e.g. \"%s\") from %u mailbox%s",
			         cfg.datadir, removed, removed == 1 ? "" : "s", kw, mboxes, mboxes == 1 ? "" : "es");
	}
	conn_env.cfg = &cfg;
	conn_env.pause_listeners = pause_listeners;
	nfd = CONFIG_MAX_CONNS + CFG_MAX_LISTEN + 4;
	for (i = 0; i < CFG_PROTO_N; i++)
		if (protos[i] && protos[i]->sess_size > sess_size)
			sess_size = protos[i]->sess_size;
	if (loop_init((size_t)nfd) < 0 || conn_init(CONFIG_MAX_CONNS, CONFIG_TLS, sess_size) < 0) {
		log_err("out of memory for %d connection slots", CONFIG_MAX_CONNS);
		return EX_SOFTWARE;
	}
	commit_init(conn_env.store);
	loop_set_turn_end(commit_run);
	if (setup_signals() < 0) {
		log_err("cannot set up signal handling: %s", strerror(errno));
		return EX_SOFTWARE;
	}
	if (listeners_sync(&cfg)) {
		log_err("not starting: a listener could not be opened");
		return EX_CONFIG;
	}
	notify_lfd.fd = notify_listen(cfg.datadir);
	if (notify_lfd.fd >= 0) {
		notify_lfd.idx = -1;
		notify_lfd.events = POLLIN;
		notify_lfd.cb = notify_cb;
		loop_fd_add(&notify_lfd);
	} else {
		log_warn("no notification socket in %s: %s", cfg.datadir, strerror(-notify_lfd.fd));
	}
	if (drop_privileges(&cfg) < 0)
		return EX_CONFIG;
	if (!foreground && daemon(0, 0) < 0) {
		log_err("cannot detach: %s", strerror(errno));
		return EX_SOFTWARE;
	}
	write_pidfile(cfg.pidfile);
	serve_status_start(&cfg);
	cert_timer.cb = cert_tick;
	loop_timer_set(&cert_timer, SERVE_CERT_CHECK_MS);
	log_info("postnook ready: %zu listeners, up to %u connections", cfg.nlisten, cfg.max_connections);
	rc = loop_run();
	log_info("shutting down%s", rc < 0 ? " after a poll error" : "");
	if (rc == 0)
		shutdown_drain();
	conn_close_all();
	for (i = 0; i < CFG_PROTO_N; i++)
		if (protos[i] && protos[i]->shutdown)
			protos[i]->shutdown();
	creds_release(1);
	store_close(conn_env.store);
	serve_status_stop();
	if (cfg.pidfile[0])
		unlink(cfg.pidfile);
	return rc < 0 ? EX_SOFTWARE : 0;
}
