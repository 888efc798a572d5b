/*
 * conn_tls — the per-connection BearSSL engine, driven from the poll loop.
 * RAM per TLS connection: the server context (4128 bytes on x86-64), a full
 * input record buffer (BR_SSL_BUFSIZE_INPUT = 16709 bytes: a peer may send
 * 16 KiB records) and CONFIG_TLS_OUTBUF bytes for outgoing records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "conn_int.h"
#include "log.h"

#if CONFIG_TLS
#include <bearssl.h>

#include "tls.h"

struct conn_tls {
	br_ssl_server_context sc;
	struct conn_tls *free_next;
	unsigned char obuf[CONFIG_TLS_OUTBUF];
	unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];   /* last: tail pages stay untouched for small records */
};

static struct conn_tls *pool, *free_tls;
static unsigned npool, high;
static br_ssl_session_cache_lru cache;
static unsigned char cache_buf[CONFIG_TLS_SESSION_CACHE > 0 ? CONFIG_TLS_SESSION_CACHE : 1];

/* Reserve the TLS pool (address space only) and the shared session cache. */
int conn_tls_init(unsigned max)
{
	pool = calloc(max, sizeof *pool);
	if (!pool)
		return -ENOMEM;
	npool = max;
	if (CONFIG_TLS_SESSION_CACHE > 0)
		br_ssl_session_cache_lru_init(&cache, cache_buf, sizeof cache_buf);
	return 0;
}

/* Give c a TLS slot and a fresh server engine. 0 or <0. */
int conn_tls_start(struct conn *c)
{
	struct conn_tls *t;
	int rc;

	if (!conn_env.creds)
		return -ENOTSUP;
	if (free_tls) {
		t = free_tls;
		free_tls = t->free_next;
	} else if (high < npool) {
		t = &pool[high++];
	} else {
		return -ENOSPC;
	}
	rc = tls_server_init(&t->sc, conn_env.creds, CONFIG_TLS_SESSION_CACHE > 0 ? &cache : NULL,
	                     t->ibuf, sizeof t->ibuf, t->obuf, sizeof t->obuf);
	if (rc < 0) {
		t->free_next = free_tls;
		free_tls = t;
		conn_log(c, LOG_LVL_ERR, "TLS engine setup failed (%d)", rc);
		return rc;
	}
	c->tls = t;
	return 0;
}

void conn_tls_release(struct conn *c)
{
	if (!c->tls)
		return;
	c->tls->free_next = free_tls;
	free_tls = c->tls;
	c->tls = NULL;
}

/* Move bytes between the socket, the engine and the connection's buffers.
 * How many steps moved something (0: nothing could move), or <0. */
int conn_tls_pump(struct conn *c)
{
	br_ssl_engine_context *e = &c->tls->sc.eng;
	int steps = 0;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(e);
		unsigned char *buf;
		size_t len;
		int moved = 0;

		if (st == BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(e);
			if (err != BR_ERR_OK && err != BR_ERR_IO)
				conn_log(c, LOG_LVL_INFO, "TLS error %d", err);
			return -EPIPE;
		}
		/* Nothing more to write for now: send the partial record. */
		if (c->out_off == c->out_len && !(c->flags & CONN_F_STREAMING) && (st & BR_SSL_SENDAPP)) {
			br_ssl_engine_flush(e, 0);
			st = br_ssl_engine_current_state(e);
		}
		if (st & BR_SSL_SENDREC) {
			ssize_t n;
			buf = br_ssl_engine_sendrec_buf(e, &len);
			n = write(c->lfd.fd, buf, len);
			if (n > 0) {
				br_ssl_engine_sendrec_ack(e, (size_t)n);
				moved = 1;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -errno;
			}
		}
		if (st & BR_SSL_RECVAPP) {
			size_t room = CONN_IN_SIZE - c->in_len;
			buf = br_ssl_engine_recvapp_buf(e, &len);
			if (c->flags & CONN_F_STARTTLS) {
				br_ssl_engine_recvapp_ack(e, len);   /* never happens: STLS inside TLS is refused */
				moved = 1;
			} else if (room > 0) {
				if (len > room)
					len = room;
				memcpy(c->in + c->in_len, buf, len);
				c->in_len += len;
				br_ssl_engine_recvapp_ack(e, len);
				moved = 1;
			}
		}
		if ((st & BR_SSL_SENDAPP) && c->out_off < c->out_len) {
			buf = br_ssl_engine_sendapp_buf(e, &len);
			if (len > c->out_len - c->out_off)
				len = c->out_len - c->out_off;
			memcpy(buf, c->out + c->out_off, len);
			br_ssl_engine_sendapp_ack(e, len);
			c->out_off += len;
			if (c->out_off == c->out_len)
				c->out_off = c->out_len = 0;
			moved = 1;
		}
		if ((st & BR_SSL_RECVREC) && !(c->flags & CONN_F_EOF)) {
			ssize_t n;
			buf = br_ssl_engine_recvrec_buf(e, &len);
			n = read(c->lfd.fd, buf, len);
			if (n > 0) {
				br_ssl_engine_recvrec_ack(e, (size_t)n);
				moved = 1;
			} else if (n == 0) {
				c->flags |= CONN_F_EOF;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -errno;
			}
		}
		if (!moved)
			return steps;
		steps++;
	}
}

unsigned char *conn_tls_sendapp(struct conn *c, size_t *room)
{
	br_ssl_engine_context *e = &c->tls->sc.eng;
	size_t len;
	unsigned char *buf;

	if (!(br_ssl_engine_current_state(e) & BR_SSL_SENDAPP))
		return NULL;
	buf = br_ssl_engine_sendapp_buf(e, &len);
	if (!buf || len < 64)
		return NULL;            /* nearly full: let the record go first */
	if (room)
		*room = len;
	return buf;
}

void conn_tls_sendapp_ack(struct conn *c, size_t n)
{
	if (n)
		br_ssl_engine_sendapp_ack(&c->tls->sc.eng, n);
}

void conn_tls_close_notify(struct conn *c)
{
	br_ssl_engine_close(&c->tls->sc.eng);
}

short conn_tls_events(struct conn *c)
{
	unsigned st = br_ssl_engine_current_state(&c->tls->sc.eng);
	short ev = 0;

	if ((st & BR_SSL_RECVREC) && !(c->flags & CONN_F_EOF))
		ev |= POLLIN;
	if (st & BR_SSL_SENDREC)
		ev |= POLLOUT;
	return ev;
}

#else /* !CONFIG_TLS */

int conn_tls_init(unsigned max) { (void)max; return 0; }
int conn_tls_start(struct conn *c) { (void)c; return -ENOTSUP; }
void conn_tls_release(struct conn *c) { (void)c; }
int conn_tls_pump(struct conn *c) { (void)c; return -ENOTSUP; }
unsigned char *conn_tls_sendapp(struct conn *c, size_t *room) { (void)c; (void)room; return NULL; }
void conn_tls_sendapp_ack(struct conn *c, size_t n) { (void)c; (void)n; }
short conn_tls_events(struct conn *c) { (void)c; return 0; }
void conn_tls_close_notify(struct conn *c) { (void)c; }

#endif
