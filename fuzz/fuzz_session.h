/*
 * fuzz_session — the harness of the session fuzzers (fuzz_imap_session.c,
 * fuzz_pop3_session.c), header only: each input is the bytes one client
 * sends to a whole protocol (its proto_ops) on a real connection slot, as
 * Dropbear's fuzzer-preauth drives its whole server.
 *
 * Built from the daemon's own parts: the store (LMDB in a temp directory,
 * nosync), the loop, the connection layer (conn_adopt takes the server's
 * end of a socketpair, from 127.0.0.1, so plaintext logins are allowed)
 * and the group commit as the loop's turn-end hook, so writes really
 * happen. Per input:
 *   - the store starts as the same file: the fixture (the user "fuzz",
 *     password "secret", three messages in INBOX and one in Archive) is
 *     made once and its data.mdb kept in memory; each input ends by
 *     closing the store and writing those bytes back, so the store never
 *     grows and UIDs, ids and flags are the same for every input. Before
 *     that the user is deleted and every mailbox id it had is announced
 *     as changed (ops->mbox_changed): the views IMAP keeps after the last
 *     session then see their mailbox gone and are dropped, so none can be
 *     taken for the same id in the restored file. (Deleting and adding the
 *     user instead costs a PBKDF2 per input: half the inputs a second.)
 *   - the input goes to the socket FUZZ_CHUNK bytes per loop turn, so lines
 *     and literals also arrive split; the client side is read and dropped
 *     every turn, so the server is never blocked by a full socket.
 *   - turns run with timeout 0: nothing sleeps. When nothing moves for two
 *     turns, the session waits for something: if it is held (a failed
 *     login's delayed answer, a commit retried later) its timer is made
 *     due at once, skipping the delay; else the client's write side is
 *     shut (EOF). Other timers (idle timeouts, IDLE keepalives, the IDLE
 *     poll, the \Recent flush) are never waited for; they may fire only if
 *     an input runs for seconds, and change nothing a later input sees.
 *   - after at most FUZZ_TURNS turns every connection is closed, the
 *     protocol's shutdown hook runs (IMAP writes its \Recent marks and
 *     cancels its timer), and the file descriptors open are compared with
 *     those before the input: a descriptor left open (a socket, an APPEND
 *     spool file) aborts, as LeakSanitizer does for memory. A session still
 *     open after FUZZ_TURNS turns aborts too: the server went round in
 *     circles.
 * The daemon's log lines go to stderr; the harness asks libFuzzer to
 * close the target's stderr (-close_fd_mask=2, added in
 * LLVMFuzzerInitialize unless given) so runs stay readable;
 * POSTNOOK_FUZZ_LOG=1 keeps them, POSTNOOK_FUZZ_LOG=2 also writes what the
 * server sent (to read a reproducer's session). Sanitizer reports and
 * libFuzzer's own lines still show.
 */
#ifndef POSTNOOK_FUZZ_SESSION_H
#define POSTNOOK_FUZZ_SESSION_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg.h"
#include "commit.h"
#include "conn.h"
#include "loop.h"
#include "store.h"
#include "store_mbox.h"
#include "store_msg.h"
#include "store_user.h"

#define FUZZ_CHUNK 512          /* input bytes written per loop turn */
#define FUZZ_TURNS 20000        /* loop turns an input may take */
#define FUZZ_FD_SCAN 256        /* descriptors compared for leaks */

static struct {
	int ready;
	char dir[64];
	char path[96];              /* dir/data.mdb */
	struct store *st;
	struct store_opts opts;
	unsigned char *snap;        /* the fixture's data.mdb */
	size_t snap_len;
	struct cfg cfg;
	int echo;                   /* POSTNOOK_FUZZ_LOG=2: copy the server's output to stderr */
	unsigned char scratch[1 << 16];
} fs;

/* The fixture's messages: plain text with a line starting with a dot,
 * a multipart with a base64 attachment, headers only. */
static const char *const fs_msgs[] = {
	"From: Alice <alice@example.org>\r\nTo: fuzz@example.org\r\nSubject: hello\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\n"
	"Hello.\r\n.hidden dot line\r\n\r\nBye.\r\n",
	"From: Bob <bob@example.org>\r\nTo: fuzz@example.org, Carol <c@example.org>\r\n"
	"Subject: =?UTF-8?Q?r=C3=A9sum=C3=A9?=\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--b1\r\n"
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\nAAECAwQFBgc=\r\n--b1--\r\n",
	"Subject: empty\r\n\r\n",
};

static void fs_cleanup(void)
{
	char cmd[96];

	store_close(fs.st);
	fs.st = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf %s", fs.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_session: could not remove %s\n", fs.dir);
}

/* The user "fuzz" with the fixture's messages, in a fresh store. Aborts on failure. */
static void fs_fixture(void)
{
	if (store_user_add(fs.st, "fuzz", "secret", 6, 0, 0) != 0)
		abort();
	for (size_t i = 0; i < sizeof fs_msgs / sizeof fs_msgs[0]; i++)
		if (store_deliver(fs.st, "fuzz", "INBOX", fs_msgs[i], strlen(fs_msgs[i]), 1704103200 + (int64_t)i,
		                  NULL) != 0)
			abort();
	if (store_deliver(fs.st, "fuzz", "Archive", fs_msgs[0], strlen(fs_msgs[0]), 1704103200, NULL) != 0)
		abort();
}

/* Once: the fixture and its snapshot, the loop, the slots, the group commit. Aborts on failure. */
static void fs_init(const struct proto_ops *ops)
{
	FILE *f;
	long len;

	signal(SIGPIPE, SIG_IGN);       /* as the daemon: a closed peer is an error return */
	snprintf(fs.dir, sizeof fs.dir, "/tmp/fuzz_session.XXXXXX");
	fs.opts.map_size = 256 << 10;   /* grows (doubling) when an input needs more */
	fs.opts.map_max = 256 << 20;
	fs.opts.nosync = 1;
	if (!mkdtemp(fs.dir) || store_open(fs.dir, &fs.opts, &fs.st) != 0) {
		fprintf(stderr, "fuzz_session: cannot open a store in %s\n", fs.dir);
		abort();
	}
	atexit(fs_cleanup);
	fs_fixture();
	store_close(fs.st);
	fs.st = NULL;
	snprintf(fs.path, sizeof fs.path, "%s/data.mdb", fs.dir);
	f = fopen(fs.path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(fs.snap = malloc((size_t)len)) || fread(fs.snap, 1, (size_t)len, f) != (size_t)len)
		abort();
	fclose(f);
	fs.snap_len = (size_t)len;
	cfg_defaults(&fs.cfg);
	snprintf(fs.cfg.datadir, sizeof fs.cfg.datadir, "%s", fs.dir);
	conn_env.cfg = &fs.cfg;
	if (loop_init(16) < 0 || conn_init(4, 0, ops->sess_size) < 0)
		abort();
	loop_set_turn_end(commit_run);
	fs.ready = 1;
}

static int fs_max_id(void *arg, const char *name, const struct store_mbox *mb)
{
	if (mb->id > *(uint32_t *)arg)
		*(uint32_t *)arg = mb->id;
	return 0;
}

/* After an input: the user and its views gone, the store closed. */
static void fs_forget(const struct proto_ops *ops)
{
	struct store_user u;
	uint32_t max = 0;

	if (!fs.st)
		return;
	if (store_user_get(fs.st, "fuzz", &u) == 0)
		store_mbox_list(fs.st, u.id, fs_max_id, &max);
	if (store_user_del(fs.st, "fuzz") != 0)
		abort();
	/* Ids are given in order: every mailbox the input saw is at most max. */
	for (uint32_t id = 1; ops->mbox_changed && id <= max; id++)
		ops->mbox_changed(id);
	store_close(fs.st);
	fs.st = NULL;
}

/* Before an input: the fixture's bytes back in data.mdb, the store open. */
static void fs_restore(void)
{
	int fd = open(fs.path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0 || write(fd, fs.snap, fs.snap_len) != (ssize_t)fs.snap_len || close(fd) != 0)
		abort();
	if (store_open(fs.dir, &fs.opts, &fs.st) != 0)
		abort();
	conn_env.store = fs.st;
	commit_init(fs.st);
}

/* Which of the first FUZZ_FD_SCAN descriptors are open. */
static void fs_fds(unsigned char open[FUZZ_FD_SCAN])
{
	for (int fd = 0; fd < FUZZ_FD_SCAN; fd++)
		open[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* Read and drop what the server sent; the bytes read. */
static size_t fs_drain(int fd)
{
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, fs.scratch, sizeof fs.scratch)) > 0) {
		got += (size_t)n;
		if (fs.echo && fwrite(fs.scratch, 1, (size_t)n, stderr) != (size_t)n)
			fs.echo = 0;
	}
	return got;
}

/* One input: the bytes a client sends to a session speaking ops. */
static int fs_run(const struct proto_ops *ops, enum cfg_proto proto, const uint8_t *data, size_t size)
{
	struct cfg_listen lst = { .proto = proto, .tls = CFG_TLS_NONE, .addr = "127.0.0.1", .port = 1 };
	struct sockaddr_storage peer;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&peer;
	unsigned char before[FUZZ_FD_SCAN], after[FUZZ_FD_SCAN];
	struct conn *c;
	size_t off = 0;
	int sv[2], turn, quiet = 0, shut = 0;

	if (!fs.ready)
		fs_init(ops);
	fs_restore();
	fs_fds(before);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	memset(&peer, 0, sizeof peer);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(0x7f000001);
	if (conn_adopt(sv[1], &peer, &lst, ops, &c) < 0) {
		close(sv[0]);
		return 0;
	}
	for (turn = 0; turn < FUZZ_TURNS && conn_count(-1); turn++) {
		int moved = 0;
		if (off < size) {
			size_t n = size - off < FUZZ_CHUNK ? size - off : FUZZ_CHUNK;
			ssize_t w = write(sv[0], data + off, n);
			if (w > 0) {
				off += (size_t)w;
				moved = 1;
			}
		}
		moved |= loop_run_once(0) > 0;
		moved |= fs_drain(sv[0]) > 0;
		if (moved || off < size) {
			quiet = 0;
			continue;
		}
		if (++quiet < 2)
			continue;
		quiet = 0;
		/* Nothing moves: the session waits for its timer or for more input. */
		if (c->id && (c->flags & CONN_F_HOLD) && c->timer.when)
			loop_timer_set(&c->timer, 0);   /* a delayed answer: skip the delay */
		else if (!shut && shutdown(sv[0], SHUT_WR) == 0)
			shut = 1;
		else if (c->id && c->timer.when)
			loop_timer_set(&c->timer, 0);   /* after EOF, still open: its timeout */
		else
			break;
	}
	if (conn_count(-1) && turn == FUZZ_TURNS) {
		fprintf(stderr, "fuzz_session: the session is still open after %d loop turns\n", FUZZ_TURNS);
		abort();
	}
	conn_close_all();
	if (ops->shutdown)
		ops->shutdown();
	close(sv[0]);
	fs_forget(ops);
	fs_fds(after);
	for (int fd = 0; fd < FUZZ_FD_SCAN; fd++)
		if (after[fd] && !before[fd]) {
			fprintf(stderr, "fuzz_session: descriptor %d was left open by the input\n", fd);
			abort();
		}
	return 0;
}

/* Add -close_fd_mask=2 (the daemon's log lines off) unless asked to keep them. */
static void fs_quiet_argv(int *argc, char ***argv)
{
	static char flag[] = "-close_fd_mask=2";
	static char **nargv;
	const char *keep = getenv("POSTNOOK_FUZZ_LOG");

	fs.echo = keep && !strcmp(keep, "2");
	if (keep && *keep && strcmp(keep, "0"))
		return;
	for (int i = 1; i < *argc; i++)
		if (!strncmp((*argv)[i], "-close_fd_mask=", 15))
			return;
	nargv = calloc((size_t)*argc + 2, sizeof *nargv);
	if (!nargv)
		return;
	memcpy(nargv, *argv, (size_t)*argc * sizeof *nargv);
	nargv[(*argc)++] = flag;
	nargv[*argc] = NULL;
	*argv = nargv;
}

#endif
