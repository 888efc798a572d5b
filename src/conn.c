/* conn — connection slots: accept, caps, close, timers and group commit. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "conn_int.h"
#include "log.h"
#include "store.h"
#include "store_batch.h"

struct conn_env conn_env;

static struct conn *slots;        /* max slots; pages are touched only when used */
static unsigned nslots, high;     /* slots [0, high) have been used at least once */
static struct conn *free_list;
static unsigned nopen, nopen_proto[2];
static uint32_t next_id = 1;
static struct conn *commit_head;
static int paused;

/* Allocate the slot arrays once (address space; touched on first use). */
int conn_init(unsigned max, int tls)
{
	slots = calloc(max, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	nslots = max;
	return tls ? conn_tls_init(max) : 0;
}

unsigned conn_count(int proto)
{
	if (proto < 0)
		return nopen;
	return proto < 2 ? nopen_proto[proto] : 0;
}

void conn_foreach(void (*fn)(void *arg, const struct conn *c), void *arg)
{
	unsigned i;

	for (i = 0; i < high; i++)
		if (slots[i].id)
			fn(arg, &slots[i]);
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
		if (slots[i].id && same_ip(&slots[i].peer, peer))
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
	if (high < nslots)
		return &slots[high++];
	return NULL;
}

static void update_pause(void)
{
	int want = nopen >= conn_env.cfg->max_connections;

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

static void io_cb(struct loop_fd *lf, short revents)
{
	struct conn *c = container_of(lf, struct conn, lfd);

	if (revents & (POLLNVAL | POLLERR)) {
		conn_close(c, "socket error");
		return;
	}
	conn_run(c);
}

/* Set up a fresh slot for an accepted socket; 0 or <0 (socket closed). */
static int conn_open(int fd, const struct sockaddr_storage *peer, const struct cfg_listen *lst)
{
	struct conn *c = slot_get();

	if (!c) {
		close(fd);
		return -ENOSPC;
	}
	memset(c, 0, offsetof(struct conn, out));    /* header and session state */
	c->id = next_id++;
	if (!next_id)
		next_id = 1;
	c->peer = *peer;
	c->listen = *lst;
	c->lst = &c->listen;
	c->ops = lst->proto == CFG_PROTO_IMAP ? IMAP_OPS : &pop3_ops;
	peer_classify(c);
	c->lfd.fd = fd;
	c->lfd.idx = -1;
	c->lfd.cb = io_cb;
	c->lfd.events = POLLIN;
	c->timer.cb = timer_cb;
	if (loop_fd_add(&c->lfd) < 0) {
		close(fd);
		c->id = 0;
		c->free_next = free_list;
		free_list = c;
		return -ENOSPC;
	}
	nopen++;
	nopen_proto[lst->proto]++;
	log_info("conn %u %s: connect to %s port %u%s", c->id, c->peer_str, c->ops->name, lst->port,
	         lst->tls == CFG_TLS_IMPLICIT ? " (tls)" : "");
	if (lst->tls == CFG_TLS_IMPLICIT && conn_tls_start(c) < 0) {
		conn_close(c, "no TLS slot");
		return -ENOMEM;
	}
	c->ops->start(c);
	if (c->id)
		conn_run(c);
	update_pause();
	return 0;
}

/* Accept every pending connection on a listening socket, enforcing the caps. */
void conn_accept(int lfd, const struct cfg_listen *lst)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd;

		if (nopen >= conn_env.cfg->max_connections) {
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
			static const char msg[] = "-ERR [SYS/TEMP] Too many connections from your address\r\n";
			static const char imsg[] = "* BYE [UNAVAILABLE] Too many connections from your address\r\n";
			int imap = lst->proto == CFG_PROTO_IMAP;
			struct conn tmp;
			tmp.peer = peer;
			peer_classify(&tmp);
			log_warn("%s: refused: %u connections from this address already", tmp.peer_str,
			         conn_env.cfg->max_per_ip);
			if (lst->tls != CFG_TLS_IMPLICIT &&
			    write(fd, imap ? imsg : msg, imap ? sizeof imsg - 1 : sizeof msg - 1) < 0) {
				/* best effort: the client may already be gone */
			}
			close(fd);
			continue;
		}
		/* Replies and records go out at once: no Nagle delay on a
		 * command/response protocol (a TLS handshake has several flights). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		conn_open(fd, &peer, lst);
	}
}

/* Release a slot now: protocol state, TLS slot, timer, socket. */
void conn_close(struct conn *c, const char *why)
{
	if (!c->id)
		return;
	log_info("conn %u %s: closed (%s)", c->id, c->peer_str, why);
	c->ops->close(c);
	if (c->flags & CONN_F_COMMIT) {
		struct conn **pp;
		for (pp = &commit_head; *pp; pp = &(*pp)->commit_next)
			if (*pp == c) {
				*pp = c->commit_next;
				break;
			}
	}
	loop_timer_cancel(&c->timer);
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

void conn_close_all(void)
{
	unsigned i;

	for (i = 0; i < high; i++)
		if (slots[i].id)
			conn_close(&slots[i], "server shutting down");
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

void conn_queue_commit(struct conn *c)
{
	if (c->flags & CONN_F_COMMIT)
		return;
	c->flags |= CONN_F_COMMIT | CONN_F_HOLD;
	c->commit_next = commit_head;
	commit_head = c;
}

/*
 * Turn end: one write transaction and one sync for every queued session.
 * The sessions' parts share the txn without nesting (MDB_WRITEMAP): when a
 * part fails, the batch is aborted, that session keeps its error and the
 * batch runs again with the others. A full map is grown (at map_max: its
 * freed pages reclaimed once) and the batch run again as it was; when no
 * room can be made, the part that hit it (or, for the commit, the last
 * part) fails with STORE_EFULL. Every round commits, grows the map or drops
 * a part, so this ends. ->commit must therefore be re-runnable.
 */
void conn_commit_run(void)
{
	struct store_batch *b;
	struct conn *c, *last, *list = commit_head;
	int err, rc, tried = 0;

	if (!list)
		return;
	commit_head = NULL;
	for (c = list; c; c = c->commit_next)
		c->commit_rc = CONN_COMMIT_PENDING;
	for (;;) {
		for (c = list; c && c->commit_rc != CONN_COMMIT_PENDING; c = c->commit_next)
			;
		if (!c)
			break;          /* every part failed on its own */
		err = store_batch_begin(conn_env.store, &b);
		if (err)
			break;
		rc = 0;
		last = NULL;
		for (c = list; c && rc == 0; c = c->commit_next) {
			if (c->commit_rc != CONN_COMMIT_PENDING)
				continue;
			last = c;
			rc = c->ops->commit(c, b);
		}
		if (rc == 0) {
			err = store_batch_end(b);
			if (err == 0 || err != STORE_EFULL || !last)
				break;          /* committed, or failed as a whole */
			rc = err;               /* the commit itself found the map full */
			err = 0;
		} else {
			store_batch_abort(b);
		}
		if (rc == STORE_EFULL) {
			rc = store_make_room(conn_env.store, &tried);
			if (rc == 0)
				continue;       /* more room: the same parts again */
		}
		last->commit_rc = rc;   /* this part fails alone; the others run again */
	}
	for (c = list; c; c = c->commit_next)
		if (c->commit_rc == CONN_COMMIT_PENDING)
			c->commit_rc = err;
	if (err)
		log_err("group commit failed: %s", store_strerror(err));
	while (list) {
		c = list;
		list = c->commit_next;
		c->commit_next = NULL;
		c->flags &= ~(unsigned)(CONN_F_COMMIT | CONN_F_HOLD);
		c->ops->committed(c, c->commit_rc);
		if (c->id)
			conn_run(c);
	}
	/* A pipelined command queued a write meanwhile: its input is already
	 * buffered, so no socket event will come; have the loop turn again now. */
	if (commit_head)
		loop_wake();
}
