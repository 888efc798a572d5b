/*
 * cmd_deliver — `postnook deliver`: a local delivery agent. Reads one message
 * from stdin, normalises it to CRLF line ends and stores it in the user's
 * INBOX. Exit status follows sysexits(3) so an MTA or fetchmail can tell a
 * temporary failure (keep queued) from a permanent one (bounce).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cmd.h"
#include "sysconfig.h"
#include "log.h"
#include "notify.h"
#include "store.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"

#define DELIVER_MAX ((size_t)SYS_MESSAGE_MAX)
#define DELIVER_CHUNK 65536

/* The message being built: CRLF-normalised bytes and the parser state. */
struct deliver_buf {
	char *data;
	size_t len, cap;
	int prev_cr;            /* the last byte emitted was a CR */
	size_t prefix;          /* bytes of "From " matched at the start (state 0) */
	int state;              /* 0: checking for "From ", 1: skipping it, 2: body */
};

/* Append one byte. 0, or -EFBIG past the size limit, or -ENOMEM. */
static int deliver_put(struct deliver_buf *b, char c)
{
	if (b->len >= DELIVER_MAX + 2)
		return -EFBIG;
	if (b->len == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : DELIVER_CHUNK;
		char *p;
		if (ncap > DELIVER_MAX + 2)
			ncap = DELIVER_MAX + 2;
		p = realloc(b->data, ncap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = ncap;
	}
	b->data[b->len++] = c;
	return 0;
}

/* Emit one byte of the message, turning a bare LF into CRLF. */
static int deliver_emit(struct deliver_buf *b, char c)
{
	int rc = 0;

	if (c == '\n' && !b->prev_cr)
		rc = deliver_put(b, '\r');
	if (rc == 0)
		rc = deliver_put(b, c);
	b->prev_cr = c == '\r';
	return rc;
}

/* Feed raw input bytes: drop a leading mbox "From " line, normalise the rest. */
static int deliver_feed(struct deliver_buf *b, const char *p, size_t n)
{
	static const char from[] = "From ";
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		char c = p[i];
		if (b->state == 0) {
			if (c == from[b->prefix]) {
				if (++b->prefix == sizeof from - 1)
					b->state = 1;
				continue;
			}
			b->state = 2;   /* not an envelope: replay what matched */
			for (size_t j = 0; j < b->prefix && rc == 0; j++)
				rc = deliver_emit(b, from[j]);
		} else if (b->state == 1) {
			if (c == '\n')
				b->state = 2;
			continue;
		}
		if (rc == 0)
			rc = deliver_emit(b, c);
	}
	return rc;
}

/* Read all of fd into b. 0, -EFBIG (too large), or -errno. */
static int deliver_read(int fd, struct deliver_buf *b)
{
	char chunk[DELIVER_CHUNK];
	int rc;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		rc = deliver_feed(b, chunk, (size_t)n);
		if (rc)
			return rc;
	}
	/* input shorter than "From " that matched it so far: keep it as text */
	if (b->state == 0) {
		b->state = 2;
		for (size_t j = 0; j < b->prefix; j++)
			if ((rc = deliver_emit(b, "From "[j])) != 0)
				return rc;
	}
	if (b->len > 0 && !(b->len >= 2 && b->data[b->len - 2] == '\r' && b->data[b->len - 1] == '\n')) {
		if (b->data[b->len - 1] == '\r')
			rc = deliver_put(b, '\n');
		else
			rc = deliver_emit(b, '\n');
		if (rc)
			return rc;
	}
	return b->len > DELIVER_MAX ? -EFBIG : 0;
}

/* Map an address to a user name: local part, lowercased, "+detail" dropped. 0 or -1. */
static int deliver_addr_user(const char *addr, char *out, size_t cap)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);
	const char *plus = memchr(addr, '+', n);

	if (plus)
		n = (size_t)(plus - addr);
	if (n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)addr[i]);
	out[n] = '\0';
	return 0;
}

static void deliver_usage(void)
{
	fprintf(stderr, "usage: postnook deliver [-c FILE] [-a user@domain] [USER] < message\n");
}

/* `postnook deliver`: store stdin in USER's INBOX. Returns a sysexits status. */
int cmd_deliver_main(int argc, char **argv)
{
	const char *conf = NULL, *addr = NULL, *user = NULL;
	char name[STORE_NAME_MAX + 1], err[CFG_ERR_MAX];
	struct deliver_buf b;
	struct store_opts opts;
	struct store_user u;
	struct store_mbox mb;
	struct store *st;
	struct cfg cfg;
	uint32_t uid = 0;
	int rc, status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			conf = argv[++i];
		} else if (!strcmp(argv[i], "-a") && i + 1 < argc) {
			addr = argv[++i];
		} else if (argv[i][0] != '-' && !user) {
			user = argv[i];
		} else {
			deliver_usage();
			return EX_USAGE;
		}
	}
	if (user) {
		if (strlen(user) > STORE_NAME_MAX) {
			fprintf(stderr, "postnook deliver: no such user '%.64s...'\n", user);
			return EX_NOUSER;
		}
		strcpy(name, user);
	} else if (addr) {
		if (deliver_addr_user(addr, name, sizeof name) < 0) {
			fprintf(stderr, "postnook deliver: no such user for address '%.200s'\n", addr);
			return EX_NOUSER;
		}
	} else {
		deliver_usage();
		return EX_USAGE;
	}
	if (store_user_name_check(name) != 0) {
		fprintf(stderr, "postnook deliver: no such user '%s'\n", name);
		return EX_NOUSER;
	}
	if (!conf)
		conf = cmd_default_conf();
	if (cfg_load(&cfg, conf, err, sizeof err) < 0) {
		fprintf(stderr, "postnook deliver: %s\n", err);
		return EX_CONFIG;
	}
	log_open("postnook-deliver", cfg.log);

	memset(&b, 0, sizeof b);
	rc = deliver_read(STDIN_FILENO, &b);
	if (rc == -EFBIG) {
		fprintf(stderr, "postnook deliver: message too large (limit %d MiB)\n", CONFIG_MAX_MESSAGE);
		log_warn("user %s: message refused, larger than %d MiB", name, CONFIG_MAX_MESSAGE);
		free(b.data);
		return EX_CANTCREAT;
	}
	if (rc || b.len == 0) {
		fprintf(stderr, "postnook deliver: %s\n", rc ? strerror(-rc) : "empty message on stdin");
		free(b.data);
		return rc ? EX_TEMPFAIL : EX_DATAERR;
	}

	memset(&opts, 0, sizeof opts);
	opts.map_size = cfg.map_size;
	opts.map_max = cfg.map_max;
	opts.nosync = !cfg.sync;
	/* a data directory missing or out of reach is a configuration error: no retry */
	rc = cmd_store_check("deliver", cfg.datadir);
	if (rc == 0 && (rc = store_open(cfg.datadir, &opts, &st)) != 0)
		fprintf(stderr, "postnook deliver: cannot open the store in %s: %s\n", cfg.datadir, store_strerror(rc));
	if (rc) {
		log_err("cannot open the store in %s: %s", cfg.datadir, store_strerror(rc));
		free(b.data);
		return rc == -ENOENT || rc == -ENOTDIR || rc == -EACCES || rc == -EPERM ? EX_CONFIG : EX_TEMPFAIL;
	}
	rc = store_deliver(st, name, "INBOX", b.data, b.len, (int64_t)time(NULL), &uid);
	switch (rc) {
	case 0:
		status = EX_OK;
		break;
	case STORE_ENOTFOUND:
		status = EX_NOUSER;
		fprintf(stderr, "postnook deliver: no such user '%s'\n", name);
		break;
	case STORE_EQUOTA:
		status = cfg.quota_mode == CFG_QUOTA_PERMANENT ? EX_CANTCREAT : EX_TEMPFAIL;
		fprintf(stderr, "postnook deliver: mailbox of '%s' is over quota\n", name);
		break;
	case STORE_ETOOBIG:
		status = EX_CANTCREAT;
		fprintf(stderr, "postnook deliver: message too large (limit %d MiB)\n", CONFIG_MAX_MESSAGE);
		break;
	default:
		status = EX_TEMPFAIL;
		fprintf(stderr, "postnook deliver: cannot store the message: %s\n", store_strerror(rc));
		break;
	}
	if (rc == 0) {
		log_info("delivered to %s uid %u size %zu", name, (unsigned)uid, b.len);
		if (store_user_get(st, name, &u) == 0 && store_mbox_get(st, u.id, "INBOX", &mb) == 0)
			notify_send_mbox(cfg.datadir, u.id, mb.id);
	} else {
		log_warn("user %s: message of %zu bytes not stored: %s", name, b.len, store_strerror(rc));
	}
	store_close(st);
	free(b.data);
	return status;
}
