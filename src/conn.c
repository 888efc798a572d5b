/* conn — connection slots: accept (or adopt a connected socket), caps, close and timers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "conn.h"
#include "conn_int.h"
#include "log.h"

struct conn_env conn_env;

/* Slots, stride bytes apart: the session area (the largest protocol's
 * session), the header, the output queue and the input buffer; pages are
 * touched only when a slot is used. A connection's session is the end of
 * the area, right before its header: a protocol with a small session (POP3)
 * touches none of what a larger one (IMAP) needs. */
static unsigned char *slots;
static size_t stride, sess_stride;
static unsigned nslots, high;     /* slots [0, high) have been used at least once */
static struct conn *free_list;
static unsigned nopen, nopen_proto[CFG_PROTO_N];
static uint32_t next_id = 1;
static int paused;

/* Round n up to a multiple of the strictest alignment a session may need. */
static size_t align_up(size_t n)
{
	size_t a = _Alignof(max_align_t);

	return (n + a - 1) / a * a;
}

static struct conn *slot_at(unsigned i)
{
	return (struct conn *)(void *)(slots + (size_t)i * stride + sess_stride);
}

/* Allocate the slots once (address space; touched on first use). */
int conn_init(unsigned max, int tls, size_t sess_size)
{
	sess_stride = align_up(sess_size);
	stride = align_up(align_up(sizeof(struct conn)) + sess_stride + CONN_OUT_SIZE + CONN_IN_SIZE);
	slots = calloc(max, stride);
	if (!slots)
		return -ENOMEM;
	nslots = max;
	return tls ? conn_tls_init(max) : 0;
}

unsigned conn_count(int proto)
{
	if (proto < 0)
		return nopen;
	return proto < CFG_PROTO_N ? nopen_proto[proto] : 0;
}

void conn_foreach(void (*fn)(void *arg, const struct conn *c), void *arg)
{
	unsigned i;

	for (i = 0; i < high; i++)
		if (slot_at(i)->id)
			fn(arg, slot_at(i));
}

void conn_log(const struct conn *c, enum log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_msg(lvl, "conn %u %s: %s", c->id, c->peer_str, msg);
}

int conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

/* Classify the peer: loopback (127/8, ::1) and LAN (private, link-local, ULA). */
static void peer_classify(struct conn *c)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	c->loopback = c->lan = 0;
	if (c->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&c->peer;
		const uint8_t *a = s6->sin6_addr.s6_addr;
		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct in_addr v4;
			memcpy(&v4, a + 12, 4);
			inet_ntop(AF_INET, &v4, host, sizeof host);
			c->loopback = a[12] == 127;
			c->lan = c->loopback || a[12] == 10 || (a[12] == 172 && (a[13] & 0xf0) == 16) ||
			         (a[12] == 192 && a[13] == 168) || (a[12] == 169 && a[13] == 254);
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
			c->loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
			c->lan = c->loopback || (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
		}
		snprintf(c->peer_str, sizeof c->peer_str, "[%s]:%u", host, port);
	} else if (c->peer.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)&c->peer;
		const uint8_t *a = (const uint8_t *)&s4->sin_addr.s_addr;
		port = ntohs(s4->sin_port);
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		c->loopback = a[0] == 127;
		c->lan = c->loopback || a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		         (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254);
		snprintf(c->peer_str, sizeof c->peer_str, "%s:%u", host, port);
	} else {
		snprintf(c->peer_str, sizeof c->peer_str, "local");
		c->loopback = c->lan = 1;
	}
}

int conn_plain_ok(const struct conn *c, enum cfg_plain policy)
{
	if (c->tls)
		return 1;
	switch (policy) {
	case CFG_PLAIN_ALWAYS: return 1;
	case CFG_PLAIN_LAN: return c->lan;
	case CFG_PLAIN_LOOPBACK: return c->loopback;
	default: return 0;
	}
}

/* Same address (port ignored)? */
static int same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
		               &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16);
	return 0;
}

/* Open connections from the same address as peer. */
static unsigned count_ip(const struct sockaddr_storage *peer)
{
	unsigned i, n = 0;

	for (i = 0; i < high; i++)
		if (slot_at(i)->id && same_ip(&slot_at(i)->peer, peer))
			n++;
	return n;
}

static struct conn *slot_get(void)
{
	struct conn *c;

	if (free_list) {
		c = free_list;
		free_list = c->free_next;
		return c;
	}
	if (high < nslots) {
		/* First use of this slot: point into its memory. */
		c = slot_at(high++);
		c->out = (unsigned char *)c + align_up(sizeof(struct conn));
		c->in = c->out + CONN_OUT_SIZE;
		return c;
	}
	return NULL;
}

/* The oldest connection not signed in (nor closing), or NULL: the one a new
 * connection takes the slot of when all are in use (logged-in sessions are
 * never evicted for that). */
static struct conn *evictable(void)
{
	struct conn *old = NULL;
	unsigned i;

	for (i = 0; i < high; i++) {
		struct conn *c = slot_at(i);
		if (c->id && !c->ops->user(c) && !(c->flags & CONN_F_CLOSE_AFTER) &&
		    (!old || c->since < old->since))
			old = c;
	}
	return old;
}

/* Stop accepting while every slot is in use by a signed-in (or closing) session. */
static void update_pause(void)
{
	int want = nopen >= conn_env.cfg->max_connections && !evictable();

	if (want != paused) {
		paused = want;
		if (conn_env.pause_listeners)
			conn_env.pause_listeners(want);
		if (want)
			log_warn("connection cap %u reached: not accepting until one closes",
			         conn_env.cfg->max_connections);
	}
}

static void timer_cb(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, timer);

	c->ops->timer(c);
	if (c->id)
		conn_run(c);
}

/* The last output was not taken in time: close now. */
static void linger_cb(struct loop_timer *t)
{
	conn_close(container_of(t, struct conn, linger), "last output not taken in time");
}

static void io_cb(struct loop_fd *lf, short revents)
{
	struct conn *c = container_of(lf, struct conn, lfd);

	if (revents & (POLLNVAL | POLLERR)) {
		conn_close(c, "socket error");
		return;
	}
	conn_run(c);
}

/* Take a connected socket into a fresh slot and start its session (conn.h). */
int conn_adopt(int fd, const struct sockaddr_storage *peer, const struct cfg_listen *lst,
               const struct proto_ops *ops, struct conn **out)
{
	struct conn *c;
	int fl;

	if (out)
		*out = NULL;
	if (ops->sess_size > sess_stride) {
		/* a protocol conn_init was not sized for */
		close(fd);
		return -EINVAL;
	}
	c = slot_get();
	if (!c) {
		close(fd);
		return -ENOSPC;
	}
	/* accept4 made it non-blocking already; a socket from elsewhere may not be. */
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	/* Replies and records go out at once: no Nagle delay on a
	 * command/response protocol (a TLS handshake has several flights).
	 * Not TCP (a socketpair): nothing to do. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	memset(c, 0, offsetof(struct conn, sess));   /* the header ... */
	c->sess = (unsigned char *)c - align_up(ops->sess_size);
	memset(c->sess, 0, ops->sess_size);           /* ... and the session state */
	c->id = next_id++;
	if (!next_id)
		next_id = 1;
	c->peer = *peer;
	c->listen = *lst;
	c->lst = &c->listen;
	c->ops = ops;
	peer_classify(c);
	c->lfd.fd = fd;
	c->lfd.idx = -1;
	c->lfd.cb = io_cb;
	c->lfd.events = POLLIN;
	c->timer.cb = timer_cb;
	c->linger.cb = linger_cb;
	c->since = loop_now();
	if (loop_fd_add(&c->lfd) < 0) {
		close(fd);
		c->id = 0;
		c->free_next = free_list;
		free_list = c;
		return -ENOSPC;
	}
	nopen++;
	nopen_proto[lst->proto]++;
	conn_log(c, LOG_LVL_INFO, "connect to %s port %u%s", ops->name, lst->port,
	         lst->tls == CFG_TLS_IMPLICIT ? " (tls)" : "");
	conn_trace_connect(c);
	if (lst->tls == CFG_TLS_IMPLICIT && conn_tls_start(c) < 0) {
		conn_close(c, "no TLS slot");
		return -ENOMEM;
	}
	c->ops->start(c);
	if (c->id)
		conn_run(c);
	update_pause();
	if (!c->id)
		return -ECONNRESET;
	if (out)
		*out = c;
	return 0;
}

/* Accept every pending connection on a listening socket, enforcing the caps. */
void conn_accept(int lfd, const struct cfg_listen *lst, const struct proto_ops *ops)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd;

		if (nopen >= conn_env.cfg->max_connections && !evictable()) {
			update_pause();
			return;
		}
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on port %u: %s", lst->port, strerror(errno));
			return;
		}
		if (count_ip(&peer) >= conn_env.cfg->max_per_ip) {
			struct conn tmp;
			tmp.peer = peer;
			peer_classify(&tmp);
			log_warn("%s: refused: %u connections from this address already", tmp.peer_str,
			         conn_env.cfg->max_per_ip);
			if (lst->tls != CFG_TLS_IMPLICIT && ops->busy && write(fd, ops->busy, strlen(ops->busy)) < 0) {
				/* best effort: the client may already be gone */
			}
			close(fd);
			continue;
		}
		if (nopen >= conn_env.cfg->max_connections) {
			struct conn *old = evictable();
			if (old)
				conn_close(old, "evicted: every slot in use, the oldest not signed in");
		}
		conn_adopt(fd, &peer, lst, ops, NULL);
	}
}

/* Release a slot now: protocol state, TLS slot, timer, socket. */
void conn_close(struct conn *c, const char *why)
{
	if (!c->id)
		return;
	conn_log(c, LOG_LVL_INFO, "closed (%s)", why);
	conn_trace_stop(c, why);
	c->ops->close(c);
	if (c->flags & CONN_F_COMMIT)
		commit_cancel(c);
	loop_timer_cancel(&c->timer);
	loop_timer_cancel(&c->linger);
	loop_fd_del(&c->lfd);
	close(c->lfd.fd);
	conn_tls_release(c);
	conn_bulk_release(c);
	nopen--;
	nopen_proto[c->listen.proto]--;
	c->id = 0;
	c->flags = 0;
	c->free_next = free_list;
	free_list = c;
	update_pause();
}

void conn_bye_all(void)
{
	unsigned i;

	for (i = 0; i < high; i++) {
		struct conn *c = slot_at(i);
		if (!c->id)
			continue;
		loop_timer_cancel(&c->timer);   /* no keepalive or delayed answer after the last line */
		if (!(c->flags & CONN_F_CLOSE_AFTER))
			c->flags |= CONN_F_BYE;     /* not after a QUIT's or LOGOUT's own last words */
		c->flags |= CONN_F_CLOSE_AFTER;   /* bounded by SERVE_BYE_MS, not the linger */
		conn_run(c);
	}
}

void conn_close_all(void)
{
	unsigned i;

	for (i = 0; i < high; i++)
		if (slot_at(i)->id)
			conn_close(slot_at(i), "server shutting down");
}

void conn_set_timer(struct conn *c, int64_t ms)
{
	loop_timer_set(&c->timer, ms);
}

void conn_hold(struct conn *c, int on)
{
	if (on)
		c->flags |= CONN_F_HOLD;
	else
		c->flags &= ~(unsigned)CONN_F_HOLD;
}
