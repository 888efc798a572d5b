/* loop — poll(2) over embedded registrations, with timers and a turn-end hook. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "loop.h"

struct ready {
	struct loop_fd *lf;
	uint32_t gen;
	short revents;
};

static struct {
	struct pollfd *pfd;
	struct loop_fd **owner;
	struct ready *ready;
	size_t n, cap;
	uint32_t gen;
	struct loop_timer timers;     /* list head (sentinel) */
	int64_t now;
	int stop;
	void (*turn_end)(void);
	int wake;                     /* loop_wake(): turn again without waiting */
} L;

static int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Allocate the poll array once; 0 or -ENOMEM. */
int loop_init(size_t max_fds)
{
	L.pfd = calloc(max_fds, sizeof *L.pfd);
	L.owner = calloc(max_fds, sizeof *L.owner);
	L.ready = calloc(max_fds, sizeof *L.ready);
	if (!L.pfd || !L.owner || !L.ready)
		return -ENOMEM;
	L.cap = max_fds;
	L.timers.next = L.timers.prev = &L.timers;
	L.now = clock_ms();
	return 0;
}

int loop_fd_add(struct loop_fd *lf)
{
	if (L.n == L.cap)
		return -ENOSPC;
	lf->idx = (int)L.n;
	lf->gen = ++L.gen;
	L.pfd[L.n].fd = lf->fd;
	L.pfd[L.n].events = lf->events;
	L.pfd[L.n].revents = 0;
	L.owner[L.n] = lf;
	L.n++;
	return 0;
}

void loop_fd_events(struct loop_fd *lf, short events)
{
	lf->events = events;
	if (lf->idx >= 0)
		L.pfd[lf->idx].events = events;
}

/* Remove by moving the last entry into the hole. */
void loop_fd_del(struct loop_fd *lf)
{
	size_t i, last;

	if (lf->idx < 0)
		return;
	i = (size_t)lf->idx;
	last = L.n - 1;
	if (i != last) {
		L.pfd[i] = L.pfd[last];
		L.owner[i] = L.owner[last];
		L.owner[i]->idx = (int)i;
	}
	L.n--;
	lf->idx = -1;
	lf->gen = 0;
}

void loop_timer_cancel(struct loop_timer *t)
{
	if (!t->when)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
	t->when = 0;
}

void loop_timer_set(struct loop_timer *t, int64_t ms)
{
	loop_timer_cancel(t);
	t->when = L.now + (ms > 0 ? ms : 0);
	if (t->when == 0)
		t->when = 1;
	t->next = L.timers.next;
	t->prev = &L.timers;
	L.timers.next->prev = t;
	L.timers.next = t;
}

int64_t loop_now(void)
{
	return L.now;
}

void loop_set_turn_end(void (*fn)(void))
{
	L.turn_end = fn;
}

void loop_wake(void)
{
	L.wake = 1;
}

void loop_stop(void)
{
	L.stop = 1;
}

void loop_unstop(void)
{
	L.stop = 0;
}

/* Fire every due timer; return ms until the next one (-1: none). */
static int run_timers(void)
{
	struct loop_timer *t, *next;
	int64_t soonest = -1;
	int again = 1;

	/* A callback may arm or cancel other timers: rescan until no timer is due. */
	while (again) {
		again = 0;
		for (t = L.timers.next; t != &L.timers; t = next) {
			next = t->next;
			if (t->when <= L.now) {
				loop_timer_cancel(t);
				t->cb(t);
				again = 1;
				break;
			}
		}
	}
	for (t = L.timers.next; t != &L.timers; t = t->next)
		if (soonest < 0 || t->when - L.now < soonest)
			soonest = t->when - L.now;
	if (soonest > 60000)
		soonest = 60000;
	return (int)soonest;
}

/* One turn: due timers, turn-end hook, poll, the ready descriptors' callbacks, turn-end hook. */
int loop_run_once(int timeout_ms)
{
	size_t i, nready = 0;
	int timeout, rc;

	L.now = clock_ms();
	timeout = run_timers();
	if (L.turn_end)
		L.turn_end();
	if (L.stop)
		return 0;
	if (timeout_ms >= 0 && (timeout < 0 || timeout_ms < timeout))
		timeout = timeout_ms;
	rc = poll(L.pfd, L.n, L.wake ? 0 : timeout);
	L.wake = 0;
	L.now = clock_ms();
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	/* Snapshot first: callbacks add and remove registrations. */
	for (i = 0; i < L.n && nready < L.cap; i++) {
		if (!L.pfd[i].revents)
			continue;
		L.ready[nready].lf = L.owner[i];
		L.ready[nready].gen = L.owner[i]->gen;
		L.ready[nready].revents = L.pfd[i].revents;
		nready++;
	}
	for (i = 0; i < nready; i++) {
		struct loop_fd *lf = L.ready[i].lf;
		if (lf->idx < 0 || lf->gen != L.ready[i].gen)
			continue;
		lf->cb(lf, L.ready[i].revents);
	}
	if (L.turn_end)
		L.turn_end();
	return (int)nready;
}

/* The loop: turns until loop_stop(). */
int loop_run(void)
{
	while (!L.stop) {
		int rc = loop_run_once(-1);
		if (rc < 0)
			return rc;
	}
	return 0;
}
