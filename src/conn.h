/*
 * conn — client connection slots and their byte streams.
 *
 * Slots are allocated once at start-up (conn_init) and reused; TLS state
 * lives in a second pool so plain sessions do not pay for it. The layer
 * knows no protocol: each connection carries the proto_ops of the listener
 * it came in on, and its session state is an opaque block of the size the
 * protocols asked for (conn_sess). A slot owns:
 *   - an input buffer of CONFIG_LINE_MAX bytes: complete lines are handed to
 *     the protocol one at a time; a line that does not fit is discarded up to
 *     its end and reported (the session goes on);
 *   - an output queue of CONFIG_OUTBUF bytes: replies are formatted into it,
 *     and message bodies are produced into it chunk by chunk by the
 *     protocol's stream callback as the socket drains, so a body is never
 *     held whole;
 *   - with TLS, a BearSSL engine driven from the poll loop.
 * Backpressure: no new command is taken while output is pending, and the
 * socket is not read while the input buffer is full, so a client that floods
 * without reading is throttled by TCP. Writes that a protocol queues for the
 * turn's group commit are run by commit.c (commit.h).
 */
#ifndef POSTNOOK_CONN_H
#define POSTNOOK_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cfg.h"
#include "log.h"
#include "loop.h"
#include "sysconfig.h"

struct conn;
struct store;
struct store_batch;

/*
 * What a protocol module provides to the connection layer and the daemon.
 * The daemon's table (serve.c) gives each listener its ops; the connection
 * layer calls only these, so a new protocol needs no edit here.
 */
struct proto_ops {
	const char *name;              /* "imap", "pop3": logs and the status file */
	size_t sess_size;              /* bytes of per-connection session state (conn_sess) */
	/* The line sent, in clear, to a client refused before its greeting
	 * (too many connections from its address). */
	const char *busy;
	/* New connection (after TLS handshake for implicit TLS): send the greeting. */
	void (*start)(struct conn *c);
	/*
	 * One complete command line, CRLF removed, NUL-terminated. 0, or <0 to
	 * close, or 1 + n: the command goes on after an n-byte literal; keep
	 * this line (and its CRLF) in the buffer and hand over the whole
	 * command again, from its start, once the literal and the next line
	 * are in (the protocol checks that they fit the buffer).
	 */
	int (*line)(struct conn *c, char *line, size_t len);
	/* Raw bytes asked for with conn_expect_raw(). 0, or <0 to close. */
	int (*raw)(struct conn *c, const unsigned char *data, size_t len);
	/*
	 * A line longer than CONFIG_LINE_MAX: called with end 0 when it
	 * overflows the input buffer, bytes/len its first CONFIG_LINE_MAX
	 * bytes (not NUL-terminated: e.g. an IMAP tag to answer with); the
	 * rest of the line is then discarded, and once its end has arrived
	 * it is called again with end 1, bytes/len the line's last bytes
	 * before CRLF (up to CONN_TAIL_MAX; e.g. a literal announcement whose
	 * bytes the protocol must skip with conn_expect_raw).
	 */
	void (*too_long)(struct conn *c, const char *bytes, size_t len, int end);
	/* Produce more output (room in the queue). 1 done, 0 more to come, <0 close. */
	int (*stream)(struct conn *c);
	/* Group commit: apply this session's queued writes inside batch b. 0 or <0.
	 * It may run more than once per commit (the batch is run again when
	 * another part fails or the map grows): it must change nothing but the
	 * txn and outputs it fully rewrites; session state changes belong in
	 * ->committed. */
	int (*commit)(struct conn *c, struct store_batch *b);
	/* The batch with this session's writes committed (err 0) or failed. */
	void (*committed)(struct conn *c, int err);
	/* The idle or delay timer fired. */
	void (*timer)(struct conn *c);
	/* The slot is being released: free session resources (no I/O). */
	void (*close)(struct conn *c);
	/* The signed-in user's name, or NULL before login (the status file). */
	const char *(*user)(const struct conn *c);
	/* Daemon-wide, may be NULL: a mailbox changed outside the daemon's
	 * sessions (a notify datagram from deliver or the CGI). */
	void (*mbox_changed)(uint32_t mbox);
	/* Daemon-wide, may be NULL: at exit, after every connection closed. */
	void (*shutdown)(void);
	/* May be NULL: the daemon is shutting down. Queue the session's last
	 * line (IMAP's * BYE); called once, between two replies, with no
	 * command taken any more; the connection closes once it is sent. */
	void (*bye)(struct conn *c);
};

struct conn_tls;

enum conn_flag {
	CONN_F_CLOSE_AFTER = 1 << 0,   /* close once the output queue is flushed */
	CONN_F_STREAMING = 1 << 1,     /* proto->stream has more to produce */
	CONN_F_HOLD = 1 << 2,          /* take no command (delayed reply, pending commit) */
	CONN_F_STARTTLS = 1 << 3,      /* switch to TLS once the queue is flushed */
	CONN_F_DISCARD = 1 << 4,       /* discarding the rest of an over-long line */
	CONN_F_COMMIT = 1 << 5,        /* queued for the group commit (commit.c) */
	CONN_F_EOF = 1 << 6,           /* peer closed its side */
	CONN_F_DIRECT = 1 << 7,        /* conn_stream_buf handed out the TLS engine's or a bulk buffer */
	CONN_F_KEEP = 1 << 8,          /* conn_keep_line: the line stays until the stream/hold ends */
	CONN_F_BYE = 1 << 9,           /* shutdown: proto->bye is due at the next reply boundary */
	CONN_F_NOTIFY = 1 << 10,       /* TLS close_notify queued (closing) */
};


struct conn {
	struct loop_fd lfd;
	struct loop_timer timer;       /* idle timeout or delayed reply */
	struct loop_timer linger;      /* closing: the last output's deadline (CONN_LINGER_MS) */
	int64_t since;                 /* connected at (loop_now): the pre-login deadline's start */
	uint32_t id;                   /* connection id for logs; 0 = free slot */
	unsigned flags;
	uint8_t trace;                 /* traced: its trace slot + 1 (conn_trace.c), else 0 */
	const struct proto_ops *ops;   /* the listener's protocol */
	const struct cfg_listen *lst;  /* the listener it came in on (copy below) */
	struct cfg_listen listen;      /* copied: a reload may drop the listener */
	struct sockaddr_storage peer;
	char peer_str[64];             /* "address:port" for logs */
	int loopback;                  /* peer is 127/8 or ::1 */
	int lan;                       /* peer is loopback, RFC 1918, link-local or ULA */
	struct conn_tls *tls;          /* NULL when plain */
	struct conn *commit_next;      /* group-commit list (commit.c) */
	int commit_rc;                 /* this session's part of the batch (commit.c) */
	struct conn *free_next;        /* free-slot list */
	size_t in_len;
	size_t in_scan;                /* a command continued after a literal: look for LF from here */
	size_t in_hold;                /* bytes of a kept command line, dropped when the next is taken */
	uint64_t raw_left;             /* bytes still to hand to proto->raw */
	size_t out_len, out_off;
	/* The slot's memory around this header: the session (ops->sess_size,
	 * zeroed at connect) ends right before it; the output queue
	 * (CONN_OUT_SIZE) and the input buffer (CONN_IN_SIZE) follow it. An
	 * idle session touches only the pages from its session to the start
	 * of its input buffer (the tail of a big input buffer stays untouched),
	 * and each protocol only as many as its own session needs. */
	void *sess;
	unsigned char *out;
	unsigned char *in;
};

/* A closing connection (its last line queued: QUIT, LOGOUT, a timeout)
 * whose client does not take that output, or whose TLS handshake never
 * ends, is closed anyway this long after: no state outlives its deadline
 * because the output is blocked. */
#define CONN_LINGER_MS 5000
/* Bytes of the end of an over-long line kept for proto_ops.too_long. */
#define CONN_TAIL_MAX 32
/* Bytes of a slot's output queue and input buffer. */
#define CONN_OUT_SIZE CONFIG_OUTBUF
#define CONN_IN_SIZE CONFIG_LINE_MAX

/* Allocate max slots, each with sess_size bytes of session state (the
 * largest ops->sess_size of the daemon's protocols), and TLS slots when
 * tls != 0. 0 or -ENOMEM. */
int conn_init(unsigned max, int tls, size_t sess_size);
/* Accept every pending connection on a listening socket; its sessions speak ops. */
void conn_accept(int lfd, const struct cfg_listen *lst, const struct proto_ops *ops);
/*
 * Take fd, a socket already connected (accepted by conn_accept, connected
 * out by the daemon, one end of a socketpair in tests), as a new connection
 * from peer whose session speaks ops: fd is made non-blocking, lst copied,
 * the session started (its greeting sent). No cap is checked here
 * (conn_accept checks them). *out (may be NULL) gets the slot.
 * Returns 0, or <0 with fd closed and *out NULL: -EINVAL (ops->sess_size
 * larger than conn_init's), -ENOSPC (no free slot or poll entry), -ENOMEM (no TLS slot for an implicit-TLS listener),
 * -ECONNRESET (the session ended while it started).
 */
int conn_adopt(int fd, const struct sockaddr_storage *peer, const struct cfg_listen *lst,
               const struct proto_ops *ops, struct conn **out);
/* The session state of c (the protocol's own struct, ops->sess_size bytes). */
static inline void *conn_sess(const struct conn *c)
{
	return c->sess;
}
/* Log one line about c, prefixed "conn ID PEER: ". */
void conn_log(const struct conn *c, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Number of connections open now, per protocol or all (-1). */
unsigned conn_count(int proto);
/* Call fn for every open connection, for reports (the daemon's status file). */
void conn_foreach(void (*fn)(void *arg, const struct conn *c), void *arg);
/* Shutdown, first step: every connection takes no more commands, gets its
 * protocol's last line (ops->bye, once the reply in progress is out) and
 * closes when its output is sent (TLS: then a close_notify). */
void conn_bye_all(void);
/* Close every connection (shutdown): no protocol commit runs. */
void conn_close_all(void);
/* Is the connection encrypted (TLS handshake done or in progress)? */
int conn_is_tls(const struct conn *c);
/* May a password be sent on this connection under the policy? */
int conn_plain_ok(const struct conn *c, enum cfg_plain policy);

/* Room left in the output queue. */
size_t conn_out_room(const struct conn *c);
/* Queue bytes; -ENOSPC (nothing queued) if they do not fit. */
int conn_write(struct conn *c, const void *data, size_t len);
/* Queue a formatted reply; -ENOSPC if it does not fit. */
int conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Pointer to the free tail of the queue; then conn_out_commit(n). */
unsigned char *conn_out_tail(struct conn *c);
void conn_out_commit(struct conn *c, size_t n);
/*
 * Bulk output for stream callbacks: a buffer of *room bytes to fill, then
 * conn_stream_commit(n). With nothing queued it is the TLS engine's own
 * record buffer (up to 16 KiB) or, for plain connections, a shared 64 KiB
 * bulk buffer while one is free; else the tail of the output queue.
 */
unsigned char *conn_stream_buf(struct conn *c, size_t *room);
void conn_stream_commit(struct conn *c, size_t n);
/* Close after the queued output is sent, or CONN_LINGER_MS from now at the latest. */
void conn_close_after(struct conn *c);
/* Close now (no more output). */
void conn_close(struct conn *c, const char *why);
/* Begin STARTTLS: discard buffered input; TLS starts once the queue drains. 0 or <0. */
int conn_starttls(struct conn *c);
/*
 * Keep the command line just handed over in the input buffer (it does not
 * move) until the stream or hold that the command started has ended, so
 * the protocol may point into it meanwhile.
 */
void conn_keep_line(struct conn *c);
/* Hand the next n input bytes to proto->raw instead of taking lines. */
void conn_expect_raw(struct conn *c, uint64_t n);
/* Stop or resume taking commands (delayed replies, pending commits). */
void conn_hold(struct conn *c, int on);
/* Arm the connection's one timer (idle timeout or delayed reply), in ms. */
void conn_set_timer(struct conn *c, int64_t ms);
/* Output state changed (new reply or stream started): send on the loop's next turn. */
void conn_kick(struct conn *c);

/*
 * The protocol trace (trace.h). A protocol hands over each command line it
 * takes, masked: the first show bytes of text, then " ***" when masked
 * (a password, SASL data, the rest of a LOGIN). Replies and message data
 * are traced by the connection layer. No-ops when c is not traced.
 */
void conn_trace_in(struct conn *c, const char *text, size_t show, int masked);
/* c signed in as user: trace it from now on when the config names the user. */
void conn_trace_login(struct conn *c, const char *user);
/* The config was reloaded: start or stop tracing open connections to match. */
void conn_trace_reload(void);

/* The daemon's shared state that connections use (set by serve.c). */
struct conn_env {
	const struct cfg *cfg;
	struct store *store;
	const struct tls_creds *creds;   /* NULL when no TLS */
	/* Called when the connection count reaches or leaves the cap. */
	void (*pause_listeners)(int pause);
};
extern struct conn_env conn_env;

#endif
