/* conn_io — moving bytes: socket or TLS engine <-> line input and output queue. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "conn_int.h"

size_t conn_out_room(const struct conn *c)
{
	return CONN_OUT_SIZE - c->out_len;
}

/* Make room by dropping the bytes already sent. */
static void out_compact(struct conn *c)
{
	if (c->out_off == 0)
		return;
	memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
	c->out_len -= c->out_off;
	c->out_off = 0;
}

int conn_write(struct conn *c, const void *data, size_t len)
{
	if (conn_out_room(c) < len)
		out_compact(c);
	if (conn_out_room(c) < len)
		return -ENOSPC;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	if (conn_traced(c))
		conn_trace_out(c, data, len);
	return 0;
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	out_compact(c);
	va_start(ap, fmt);
	n = vsnprintf((char *)c->out + c->out_len, conn_out_room(c), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= conn_out_room(c))
		return -ENOSPC;
	if (conn_traced(c))
		conn_trace_out(c, c->out + c->out_len, (size_t)n);
	c->out_len += (size_t)n;
	return 0;
}

unsigned char *conn_out_tail(struct conn *c)
{
	out_compact(c);
	return c->out + c->out_len;
}

void conn_out_commit(struct conn *c, size_t n)
{
	c->out_len += n;
}

void conn_close_after(struct conn *c)
{
	if (!(c->flags & CONN_F_CLOSE_AFTER))
		loop_timer_set(&c->linger, CONN_LINGER_MS);
	c->flags |= CONN_F_CLOSE_AFTER;
}

/*
 * Bulk buffers for plain streams. A plain connection that streams a body
 * borrows one of a few shared buffers while it has bytes in it, so one
 * write(2) moves up to CONN_BULK_SIZE bytes instead of one output queue
 * (CONFIG_OUTBUF). The pool is static and stays untouched until a download
 * uses it; when every buffer is taken, streams use the output queue as
 * before. TLS does not need it: it streams into the engine's record buffer.
 * Order: bytes in the output queue are always newer than the bulk bytes
 * (a stream only fills the bulk buffer when the queue is empty), so the
 * bulk buffer is written first.
 */
#define CONN_BULK_N 4
#define CONN_BULK_SIZE 65536

static struct conn_bulk {
	struct conn *owner;
	size_t off, len;
	unsigned char buf[CONN_BULK_SIZE];
} bulk[CONN_BULK_N];

/* The bulk buffer c holds, or NULL. */
static struct conn_bulk *bulk_of(const struct conn *c)
{
	size_t i;

	for (i = 0; i < CONN_BULK_N; i++)
		if (bulk[i].owner == c)
			return &bulk[i];
	return NULL;
}

/* c's bulk buffer, borrowing a free one; NULL when all are taken. */
static struct conn_bulk *bulk_get(struct conn *c)
{
	struct conn_bulk *b = bulk_of(c);
	size_t i;

	for (i = 0; !b && i < CONN_BULK_N; i++)
		if (!bulk[i].owner) {
			b = &bulk[i];
			b->owner = c;
			b->off = b->len = 0;
		}
	return b;
}

void conn_bulk_release(struct conn *c)
{
	struct conn_bulk *b = bulk_of(c);

	if (b)
		b->owner = NULL;
}

/* Bytes queued for the socket: the bulk buffer and the output queue. */
static size_t out_pending(const struct conn *c)
{
	const struct conn_bulk *b = bulk_of(c);

	return c->out_len - c->out_off + (b ? b->len - b->off : 0);
}

/* Plain: write the bulk buffer (older bytes), then the output queue. Bytes written, or <0. */
static ssize_t plain_flush(struct conn *c)
{
	struct conn_bulk *b = bulk_of(c);
	ssize_t sent = 0;

	while (b && b->off < b->len) {
		ssize_t n = write(c->lfd.fd, b->buf + b->off, b->len - b->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return sent;
			return -errno;
		}
		b->off += (size_t)n;
		sent += n;
	}
	if (b)
		b->owner = NULL;        /* drained: give it back */
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->lfd.fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return sent;
			return -errno;
		}
		c->out_off += (size_t)n;
		sent += n;
	}
	c->out_off = c->out_len = 0;
	return sent;
}

/* Plain: read what fits into the input buffer. 0, or <0 when the socket failed. */
static int plain_fill(struct conn *c)
{
	while (c->in_len < CONN_IN_SIZE && !(c->flags & (CONN_F_EOF | CONN_F_STARTTLS))) {
		ssize_t n = read(c->lfd.fd, c->in + c->in_len, CONN_IN_SIZE - c->in_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		if (n == 0) {
			c->flags |= CONN_F_EOF;
			return 0;
		}
		c->in_len += (size_t)n;
	}
	return 0;
}

int conn_starttls(struct conn *c)
{
	if (!conn_env.creds || c->tls)
		return -ENOTSUP;
	/* Anything the client pipelined after the command is plaintext that
	 * must never be executed once TLS is up (CVE-2021-33515 class). */
	c->flags |= CONN_F_STARTTLS;
	return 0;
}

void conn_keep_line(struct conn *c)
{
	c->flags |= CONN_F_KEEP;
}

void conn_expect_raw(struct conn *c, uint64_t n)
{
	c->raw_left = n;
}

/* Drop n bytes from the front of the input buffer. */
static void in_drop(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Raw mode: hand buffered bytes to proto->raw. 1 if some were handed over. */
static int take_raw(struct conn *c)
{
	size_t n = c->in_len;

	if (n == 0)
		return 0;
	if ((uint64_t)n > c->raw_left)
		n = (size_t)c->raw_left;
	c->raw_left -= n;
	if (conn_traced(c))
		conn_trace_data(c, n, 1);
	if (c->ops->raw(c, c->in, n) < 0) {
		conn_close(c, "protocol error");
		return 1;
	}
	if (c->id)
		in_drop(c, n);
	return 1;
}

/* Hand complete lines to the protocol while it can take a command. 1 if one was taken. */
static int take_line(struct conn *c)
{
	unsigned char *nl;
	size_t len, used;
	int rc;

	if (c->flags & (CONN_F_HOLD | CONN_F_STREAMING | CONN_F_STARTTLS | CONN_F_CLOSE_AFTER))
		return 0;
	if (c->in_hold) {
		in_drop(c, c->in_hold);  /* the kept command is finished */
		c->in_hold = 0;
	}
	if (c->raw_left && c->ops->raw)
		return take_raw(c);
	if (out_pending(c))
		return 0;               /* reply pending: let the client read first */
	nl = c->in_len > c->in_scan ? memchr(c->in + c->in_scan, '\n', c->in_len - c->in_scan) : NULL;
	if (c->flags & CONN_F_DISCARD) {
		if (!nl) {
			/* drop all but the last bytes: the line's end may announce a literal */
			if (c->in_len > CONN_TAIL_MAX)
				in_drop(c, c->in_len - CONN_TAIL_MAX);
			c->in_scan = c->in_len;
			return 0;
		}
		used = (size_t)(nl - c->in) + 1;
		len = used - 1;
		if (len > 0 && c->in[len - 1] == '\r')
			len--;
		c->flags &= ~(unsigned)CONN_F_DISCARD;
		c->in_scan = 0;
		c->ops->too_long(c, (const char *)c->in + (len > CONN_TAIL_MAX ? len - CONN_TAIL_MAX : 0),
		                 len > CONN_TAIL_MAX ? CONN_TAIL_MAX : len, 1);
		if (c->id)
			in_drop(c, used);
		return 1;
	}
	if (!nl) {
		if (c->in_len == CONN_IN_SIZE) {
			c->flags |= CONN_F_DISCARD;
			conn_trace_note(c, "the client's line is longer than CONFIG_LINE_MAX: discarded");
			c->ops->too_long(c, (const char *)c->in, CONN_IN_SIZE, 0);
			if (c->id) {
				in_drop(c, CONN_IN_SIZE - CONN_TAIL_MAX);
				c->in_scan = c->in_len;
			}
			return 1;
		}
		return 0;
	}
	used = (size_t)(nl - c->in) + 1;
	len = used - 1;
	if (len > 0 && c->in[len - 1] == '\r')
		len--;
	{
		unsigned char saved = c->in[len];
		c->in[len] = '\0';
		rc = c->ops->line(c, (char *)c->in, len);
		if (rc > 0 && c->id) {
			/* The command goes on after a literal: keep it whole. */
			c->in[len] = saved;
			if ((uint64_t)used + (uint64_t)rc + 1 > CONN_IN_SIZE) {
				conn_close(c, "literal does not fit");
				return 1;
			}
			c->in_scan = used + (size_t)rc - 1;
			return 1;
		}
	}
	c->in_scan = 0;
	if (rc < 0) {
		conn_close(c, "protocol error");
		return 1;
	}
	if (!c->id)
		return 1;
	if (c->flags & CONN_F_STARTTLS) {
		c->in_len = 0;
		c->flags &= ~(unsigned)CONN_F_KEEP;
		return 1;
	}
	if (c->flags & CONN_F_KEEP) {
		c->flags &= ~(unsigned)CONN_F_KEEP;
		c->in_hold = used;
		return 1;
	}
	in_drop(c, used);
	return 1;
}

/* Let the protocol produce streamed output while there is room. Calls made, or <0. */
static int produce(struct conn *c)
{
	int calls = 0;

	while ((c->flags & CONN_F_STREAMING) && calls < 64 &&
	       (conn_out_room(c) + c->out_off >= CONN_OUT_SIZE / 2 ||
	        (c->tls && c->out_off == c->out_len && conn_tls_sendapp(c, NULL)))) {
		int rc = c->ops->stream(c);
		if (rc < 0)
			return rc;
		if (rc > 0)
			c->flags &= ~(unsigned)CONN_F_STREAMING;
		calls++;
		if (c->tls || bulk_of(c))
			break;          /* let the engine or the socket take what was produced */
	}
	return calls;
}

unsigned char *conn_stream_buf(struct conn *c, size_t *room)
{
	unsigned char *buf;

	/* TLS with nothing queued: produce straight into the engine's record
	 * buffer (one copy less, full-size records). */
	if (c->tls && c->out_off == c->out_len && (buf = conn_tls_sendapp(c, room)) != NULL) {
		c->out_off = c->out_len = 0;
		c->flags |= CONN_F_DIRECT;
		return buf;
	}
	c->flags &= ~(unsigned)CONN_F_DIRECT;
	/* Plain with nothing queued: a bulk buffer, for big writes. */
	if (!c->tls && c->out_off == c->out_len) {
		struct conn_bulk *b = bulk_get(c);
		if (b && CONN_BULK_SIZE - b->len >= CONN_BULK_SIZE / 4) {
			c->out_off = c->out_len = 0;
			c->flags |= CONN_F_DIRECT;
			*room = CONN_BULK_SIZE - b->len;
			return b->buf + b->len;
		}
		if (b && b->off == b->len)
			b->owner = NULL;
	}
	buf = conn_out_tail(c);
	*room = conn_out_room(c);
	return buf;
}

void conn_stream_commit(struct conn *c, size_t n)
{
	struct conn_bulk *b;

	if (conn_traced(c))
		conn_trace_data(c, n, 0);
	if ((c->flags & CONN_F_DIRECT) && !c->tls) {
		c->flags &= ~(unsigned)CONN_F_DIRECT;
		b = bulk_of(c);
		b->len += n;
		if (b->off == b->len)
			b->owner = NULL;
	} else if (c->flags & CONN_F_DIRECT) {
		c->flags &= ~(unsigned)CONN_F_DIRECT;
		conn_tls_sendapp_ack(c, n);
	} else {
		conn_out_commit(c, n);
	}
}

/*
 * After the peer's EOF: is a reply still to go out (queued, streaming, or
 * records in the TLS engine)? A peer that closed only its sending side
 * still reads: it gets its replies, those of the commands it sent before
 * the EOF included, then the close. A held session's delayed answer is not
 * waited for.
 */
static int reply_left(struct conn *c)
{
	if (c->flags & CONN_F_HOLD)
		return 0;
	return out_pending(c) || (c->flags & CONN_F_STREAMING) || (c->tls && (conn_tls_events(c) & POLLOUT));
}

/* Move bytes until nothing moves: read, take lines, produce, write. Closes on error. */
void conn_run(struct conn *c)
{
	int rounds, rc = 0;
	short ev;

	for (rounds = 0; rounds < 256 && c->id; rounds++) {
		size_t in0 = c->in_len, out0 = out_pending(c);
		unsigned f0 = c->flags;
		int took, made;
		ssize_t moved;

		if ((made = produce(c)) < 0) {
			conn_close(c, "store error");
			return;
		}
		if ((c->flags & (CONN_F_BYE | CONN_F_STREAMING)) == CONN_F_BYE) {
			/* Shutdown, between two replies: the protocol's last line. */
			c->flags &= ~(unsigned)CONN_F_BYE;
			if (c->ops->bye)
				c->ops->bye(c);
		}
		moved = c->tls ? conn_tls_pump(c) : plain_flush(c);
		if (moved < 0) {
			rc = (int)moved;
			break;
		}
		if (!out_pending(c) && !(c->flags & CONN_F_STREAMING)) {
			if (c->flags & CONN_F_CLOSE_AFTER) {
				if (!c->tls || !(conn_tls_events(c) & POLLOUT)) {
					if (c->tls && !(c->flags & CONN_F_NOTIFY)) {
						/* Every record is out: end TLS with a close_notify. */
						c->flags |= CONN_F_NOTIFY;
						conn_tls_close_notify(c);
						continue;
					}
					conn_close(c, "done");
					return;
				}
			} else if ((c->flags & CONN_F_STARTTLS) && !c->tls) {
				c->flags &= ~(unsigned)CONN_F_STARTTLS;
				c->in_len = c->in_scan = c->in_hold = 0;
				conn_trace_note(c, "TLS handshake starts");
				if (conn_tls_start(c) < 0) {
					conn_close(c, "no TLS slot");
					return;
				}
				continue;
			}
		}
		if (!c->tls && (rc = plain_fill(c)) < 0)
			break;
		took = take_line(c);
		if (!c->id)
			return;
		/* Stop when nothing moved: no bytes in or out, nothing produced or taken. */
		if (!took && !made && !moved && c->in_len == in0 && out_pending(c) == out0 &&
		    c->flags == f0)
			break;
	}
	if (!c->id)
		return;
	if (rc < 0) {
		conn_close(c, rc == -EPIPE ? "peer closed" : "I/O error");
		return;
	}
	if ((c->flags & CONN_F_EOF) && !(c->flags & CONN_F_COMMIT) && !reply_left(c)) {
		conn_close(c, "peer closed");
		return;
	}
	if (c->tls) {
		ev = conn_tls_events(c);
	} else {
		ev = 0;
		if (c->in_len < CONN_IN_SIZE && !(c->flags & (CONN_F_STARTTLS | CONN_F_EOF)))
			ev |= POLLIN;
		if (out_pending(c))
			ev |= POLLOUT;
	}
	if (c->flags & CONN_F_STREAMING)
		ev |= POLLOUT;          /* more to produce once the socket takes it */
	if (rounds == 256)
		ev |= POLLOUT;          /* stopped for fairness with work left (input the TLS
		                         * engine holds wakes no poll): come back next turn */
	loop_fd_events(&c->lfd, ev);
}

void conn_kick(struct conn *c)
{
	/* Not conn_run() here: the caller is usually another session's work
	 * (a view rescan waking IDLE sessions), and running c now could read
	 * and execute c's next command in the middle of it. Ask poll for the
	 * next turn instead (a connected socket is writable at once). */
	if (c->id)
		loop_fd_events(&c->lfd, (short)(c->lfd.events | POLLOUT));
}
