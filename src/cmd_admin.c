/*
 * cmd_admin — `postnook admin passwd`: set the password of the web page
 * (postnook.cgi). Read from stdin (first line) or, on a terminal, prompted
 * twice without echo; never from argv. `postnook admin status` says
 * whether one is set.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "cfg.h"
#include "cmd.h"
#include "store.h"
#include "store_admin.h"

#if CONFIG_CGI

#define ADMIN_PASS_MAX 1024
#define ADMIN_PASS_MIN 8

static void admin_usage(void)
{
	fprintf(stderr, "usage: postnook admin [-c FILE] passwd    set the web page's admin password (stdin or prompt)\n"
	                "       postnook admin [-c FILE] status    is a password set?\n");
}

/* One line from fd (newline stripped). Length, or -1 on error/EOF/too long. */
static int admin_read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return n > 0 ? (int)n : -1;
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return -1;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

/* Prompt without echo; length or -1. */
static int admin_prompt(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int n;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return -1;
	n = admin_read_line(STDIN_FILENO, buf, cap);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return n;
}

/* `admin passwd` on an open store: exit status. */
static int admin_passwd(struct store *st)
{
	char pass[ADMIN_PASS_MAX], again[ADMIN_PASS_MAX];
	int n, rc;

	if (isatty(STDIN_FILENO)) {
		n = admin_prompt("New admin password: ", pass, sizeof pass);
		if (n > 0 && (admin_prompt("Repeat password: ", again, sizeof again) != n || memcmp(pass, again, (size_t)n))) {
			memset(again, 0, sizeof again);
			fprintf(stderr, "postnook admin: passwords do not match\n");
			return 1;
		}
		memset(again, 0, sizeof again);
	} else {
		n = admin_read_line(STDIN_FILENO, pass, sizeof pass);
	}
	if (n < ADMIN_PASS_MIN) {
		memset(pass, 0, sizeof pass);
		fprintf(stderr, "postnook admin: %s\n", n < 0 ? "no password on stdin (or longer than 1023 bytes)"
		                                              : "the password needs at least 8 characters");
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
