/*
 * cmd_admin — `postnook admin passwd`: set the password of the web page
 * (postnook.cgi). Read from stdin (first line) or, on a terminal, prompted
 * twice without echo; never from argv. `postnook admin status` says
 * whether one is set.
 */
#include <stdio.h>
#include <string.h>

#include "sysconfig.h"
#include "cfg.h"
#include "cmd.h"
#include "store.h"
#include "store_admin.h"

#if CONFIG_CGI

#define ADMIN_PASS_MIN 8

static void admin_usage(void)
{
	fprintf(stderr, "usage: postnook admin [-c FILE] passwd    set the web page's admin password (stdin or prompt)\n"
	                "       postnook admin [-c FILE] status    is a password set?\n");
}

/* `admin passwd` on an open store: exit status. */
static int admin_passwd(struct store *st)
{
	char pass[CMD_PASS_MAX];
	int n, rc;

	n = cmd_password_read("admin", "New admin password: ", pass, sizeof pass);
	if (n < 0)
		return 1;
	if (n < ADMIN_PASS_MIN) {
		memset(pass, 0, sizeof pass);
		fprintf(stderr, "postnook admin: the password needs at least 8 characters\n");
		return 1;
	}
	rc = store_admin_set(st, pass, (size_t)n, 0);
	memset(pass, 0, sizeof pass);
	if (rc) {
		fprintf(stderr, "postnook admin: %s\n", store_strerror(rc));
		return 1;
	}
	printf("admin password set\n");
	return 0;
}

/* `postnook admin ...`: 0 ok, 1 failure, 2 usage. */
int cmd_admin_main(int argc, char **argv)
{
	const char *conf = NULL, *cmd;
	char err[CFG_ERR_MAX];
	struct cfg cfg;
	struct store_opts opts;
	struct store *st;
	int i = 1, rc;

	if (i + 1 < argc && !strcmp(argv[i], "-c")) {
		conf = argv[i + 1];
		i += 2;
	}
	if (i + 1 != argc || (strcmp(argv[i], "passwd") && strcmp(argv[i], "status"))) {
		admin_usage();
		return 2;
	}
	cmd = argv[i];
	if (cfg_load(&cfg, conf ? conf : cmd_default_conf(), err, sizeof err) < 0) {
		fprintf(stderr, "postnook admin: %s\n", err);
		return 1;
	}
	memset(&opts, 0, sizeof opts);
	opts.map_size = cfg.map_size;
	opts.map_max = cfg.map_max;
	opts.nosync = !cfg.sync;
	if (!strcmp(cmd, "status") && cmd_store_check("admin", cfg.datadir) != 0)
		return 1;
	rc = store_open(cfg.datadir, &opts, &st);
	if (rc) {
		fprintf(stderr, "postnook admin: cannot open the store in %s: %s\n", cfg.datadir, store_strerror(rc));
		return 1;
	}
	if (!strcmp(cmd, "passwd")) {
		rc = admin_passwd(st);
	} else {
		rc = store_admin_isset(st);
		if (rc >= 0)
			printf("%s\n", rc ? "an admin password is set" : "no admin password yet");
		rc = rc < 0 ? 1 : 0;
	}
	store_close(st);
	return rc;
}

#endif
