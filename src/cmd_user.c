/*
 * cmd_user — `postnook user`: add, delete and list accounts, set passwords
 * and quotas. Passwords come from stdin (first line) or, on a terminal, a
 * prompt without echo; never from argv.
 */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cmd.h"
#include "notify.h"
#include "store.h"
#include "store_user.h"

static void user_usage(void)
{
	fprintf(stderr,
	        "usage: postnook user [-c FILE] add NAME [--quota SIZE] [--max-messages N]\n"
	        "       postnook user [-c FILE] passwd NAME\n"
	        "       postnook user [-c FILE] del NAME\n"
	        "       postnook user [-c FILE] list\n"
	        "       postnook user [-c FILE] quota NAME SIZE [--max-messages N]\n"
	        "SIZE: bytes with K/M/G/T suffix (500M, 2G); 0 or none = unlimited.\n"
	        "The password is read from stdin, or prompted for on a terminal.\n");
}

/* Parse a quota size: "none"/"0" or cfg_parse_size. 0 or -1. */
static int user_parse_quota(const char *s, uint64_t *out)
{
	if (!strcmp(s, "none") || !strcmp(s, "unlimited")) {
		*out = 0;
		return 0;
	}
	return cfg_parse_size(s, out);
}

/* Format a byte count like 512, 1.2K, 34M, 2.0G. */
static void user_human(uint64_t v, char *out, size_t cap)
{
	static const char units[] = "KMGTP";
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(out, cap, "%llu", (unsigned long long)v);
		return;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (d < 10)
		snprintf(out, cap, "%.1f%c", d, units[u]);
	else
		snprintf(out, cap, "%.0f%c", d, units[u]);
}

/* Print one row of `user list`. */
static int user_list_row(void *arg, const struct store_user *u)
{
	char used[16], quota[40], pct[8] = "-";
	double p = -1;

	(void)arg;
	user_human(u->used_bytes, used, sizeof used);
	if (u->quota_bytes) {
		user_human(u->quota_bytes, quota, sizeof quota);
		p = 100.0 * (double)u->used_bytes / (double)u->quota_bytes;
	} else {
		strcpy(quota, "none");
	}
	if (u->quota_msgs) {
		double pm = 100.0 * u->used_msgs / u->quota_msgs;
		size_t l = strlen(quota);
		snprintf(quota + l, sizeof quota - l, "/%u msgs", (unsigned)u->quota_msgs);
		if (pm > p)
			p = pm;
	}
	if (p >= 0)
		snprintf(pct, sizeof pct, "%.0f%%", p);
	printf("%-24s %8u %8s  %-16s %5s\n", u->name, (unsigned)u->used_msgs, used, quota, pct);
	return 0;
}

/* Parse "--max-messages N" at argv[*i]; 1 if consumed, 0 if not this option, -1 on error. */
static int user_opt_maxmsgs(int argc, char **argv, int *i, uint32_t *out, int *given)
{
	unsigned long long n;

	if (strcmp(argv[*i], "--max-messages") != 0)
		return 0;
	if (*i + 1 >= argc || cfg_parse_uint(argv[*i + 1], 0, UINT32_MAX, &n) < 0) {
		fprintf(stderr, "postnook user: --max-messages needs a number 0..%u\n", (unsigned)UINT32_MAX);
		return -1;
	}
	*out = (uint32_t)n;
	*given = 1;
	*i += 1;
	return 1;
}

/*
 * Open the store once the command line is known good; only `add` (create)
 * may make the first one. 0, or 1 after saying why.
 */
static int user_open(const struct cfg *cfg, int create, struct store **st)
{
	struct store_opts opts;
	int rc;

	if (!create && cmd_store_check("user", cfg->datadir) != 0)
		return 1;
	memset(&opts, 0, sizeof opts);
	opts.map_size = cfg->map_size;
	opts.map_max = cfg->map_max;
	opts.nosync = !cfg->sync;
	rc = store_open(cfg->datadir, &opts, st);
	if (rc)
		fprintf(stderr, "postnook user: cannot open the store in %s: %s\n", cfg->datadir, store_strerror(rc));
	return rc ? 1 : 0;
}

/* Run one sub-command, opening the store. Returns the exit status. */
static int user_run(const struct cfg *cfg, int argc, char **argv)
{
	struct store *st = NULL;
	const char *cmd = argv[0], *name = argc > 1 ? argv[1] : NULL;
	char pass[CMD_PASS_MAX];
	struct store_user u;
	uint64_t qbytes = 0;
	uint32_t qmsgs = 0;
	int rc, n, given = 0;

	if (!strcmp(cmd, "list")) {
		if (argc != 1) {
			user_usage();
			return 2;
		}
		if (user_open(cfg, 0, &st))
			return 1;
		printf("%-24s %8s %8s  %-16s %5s\n", "NAME", "MESSAGES", "USED", "QUOTA", "USE%");
		rc = store_user_list(st, user_list_row, NULL);
		goto done;
	}
	if (!name) {
		user_usage();
		return 2;
	}
	if (!strcmp(cmd, "add") || !strcmp(cmd, "quota")) {
		int first = 2;
		if (!strcmp(cmd, "quota")) {
			if (argc < 3 || user_parse_quota(argv[2], &qbytes) < 0) {
				fprintf(stderr, "postnook user: bad SIZE (try 500M, 2G, none)\n");
				return 2;
			}
			first = 3;
		}
		for (int i = first; i < argc; i++) {
			n = user_opt_maxmsgs(argc, argv, &i, &qmsgs, &given);
			if (n < 0)
				return 2;
			if (n > 0)
				continue;
			if (!strcmp(cmd, "add") && !strcmp(argv[i], "--quota") && i + 1 < argc) {
				if (user_parse_quota(argv[++i], &qbytes) < 0) {
					fprintf(stderr, "postnook user: bad --quota SIZE '%s' (try 500M, 2G, none)\n", argv[i]);
					return 2;
				}
				continue;
			}
			user_usage();
			return 2;
		}
	} else if (argc != 2) {
		user_usage();
		return 2;
	}
	if (strcmp(cmd, "del") && strcmp(cmd, "passwd") && strcmp(cmd, "add") && strcmp(cmd, "quota")) {
		fprintf(stderr, "postnook user: unknown command '%s'\n", cmd);
		user_usage();
		return 2;
	}
	if (!strcmp(cmd, "add") && store_user_name_check(name) != 0) {
		fprintf(stderr, "postnook user: bad user name '%s' (1..%d of a-z 0-9 . _ -, starting with a letter or digit)\n",
		        name, STORE_NAME_MAX);
		return 1;
	}
	if (user_open(cfg, !strcmp(cmd, "add"), &st))
		return 1;

	if (!strcmp(cmd, "add") || !strcmp(cmd, "passwd")) {
		if (!strcmp(cmd, "passwd") && (rc = store_user_get(st, name, &u)) != 0)
			goto done;
		n = cmd_password_read("user", "New password: ", pass, sizeof pass);
		if (n == 0)
			fprintf(stderr, "postnook user: empty password refused\n");
		if (n <= 0) {
			store_close(st);
			return 1;
		}
		if (!strcmp(cmd, "add"))
			rc = store_user_add(st, name, pass, (size_t)n, qbytes, qmsgs);
		else
			rc = store_user_passwd(st, name, pass, (size_t)n);
		memset(pass, 0, sizeof pass);
		if (rc == 0)
			printf("%s %s\n", !strcmp(cmd, "add") ? "added user" : "password changed for", name);
	} else if (!strcmp(cmd, "del")) {
		rc = store_user_get(st, name, &u);
		if (rc == 0)
			rc = store_user_del(st, name);
		if (rc == 0) {
			notify_send_mbox(cfg->datadir, u.id, 0);
			printf("deleted user %s and all their mail\n", name);
		}
	} else {
		rc = store_user_get(st, name, &u);
		if (rc == 0)
			rc = store_user_set_quota(st, name, qbytes, given ? qmsgs : u.quota_msgs);
		if (rc == 0)
			printf("quota of %s set\n", name);
	}
done:
	store_close(st);
	if (rc == 0)
		return 0;
	if (rc == STORE_ENOTFOUND && name)
		fprintf(stderr, "postnook user: no such user '%s'\n", name);
	else if (rc == STORE_EEXIST)
		fprintf(stderr, "postnook user: user '%s' already exists\n", name);
	else
		fprintf(stderr, "postnook user: %s\n", store_strerror(rc));
	return 1;
}

/* `postnook user ...`: 0 on success, 1 on failure, 2 on a usage error. */
int cmd_user_main(int argc, char **argv)
{
	const char *conf = NULL;
	char err[CFG_ERR_MAX];
	struct cfg cfg;
	int i = 1;

	if (i + 1 < argc && !strcmp(argv[i], "-c")) {
		conf = argv[i + 1];
		i += 2;
	}
	if (i >= argc || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
		user_usage();
		return i >= argc ? 2 : 0;
	}
	if (!conf)
		conf = cmd_default_conf();
	if (cfg_load(&cfg, conf, err, sizeof err) < 0) {
		fprintf(stderr, "postnook user: %s\n", err);
		return 1;
	}
	return user_run(&cfg, argc - i, argv + i);
}
