/*
 * loop — the one poll(2) loop of the daemon.
 *
 * Registrations are embedded in their owner's struct (a connection, a
 * listener) so the loop allocates nothing after loop_init(). File
 * descriptors and timers call back into their owner; container_of gets the
 * owner back. At the end of every turn the loop runs the "turn end" hook:
 * the daemon uses it for group commit (one LMDB transaction and one sync
 * for every write that sessions queued during the turn).
 */
#ifndef POSTNOOK_LOOP_H
#define POSTNOOK_LOOP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct loop_fd {
	int fd;
	short events;                 /* POLLIN / POLLOUT wanted */
	int idx;                      /* slot in the poll array, -1 when not registered */
	uint32_t gen;                 /* bumped on every add: stale ready entries are skipped */
	void (*cb)(struct loop_fd *lf, short revents);
};

struct loop_timer {
	int64_t when;                 /* ms on the monotonic clock, 0 = not armed */
	struct loop_timer *prev, *next;
	void (*cb)(struct loop_timer *t);
};

/* Size the poll array for max_fds descriptors. 0 or -ENOMEM. */
int loop_init(size_t max_fds);
/* Register lf (fd, events, cb set by the caller). 0 or -ENOSPC. */
int loop_fd_add(struct loop_fd *lf);
/* Change the events wanted (0 = none, the fd stays registered). */
void loop_fd_events(struct loop_fd *lf, short events);
/* Unregister (does not close the fd). Safe on an unregistered lf. */
void loop_fd_del(struct loop_fd *lf);
/* Arm t to fire in ms milliseconds (re-arming moves it). */
void loop_timer_set(struct loop_timer *t, int64_t ms);
void loop_timer_cancel(struct loop_timer *t);
/* Milliseconds on the monotonic clock, read once per turn. */
int64_t loop_now(void);
/* Called at the end of every turn, after all callbacks. */
void loop_set_turn_end(void (*fn)(void));
/* Run until loop_stop(). Returns 0, or -errno if poll fails hard. */
int loop_run(void);
/* Run one turn, waiting in poll at most timeout_ms (-1: until the next timer
 * is due): due timers, the turn-end hook, the ready descriptors' callbacks,
 * the turn-end hook again. The descriptors that were ready (0 when none, or
 * when stopped or interrupted), or -errno if poll fails hard. */
int loop_run_once(int timeout_ms);
void loop_stop(void);
/* Undo loop_stop(), so that loop_run_once() turns again (the daemon's
 * shutdown lets the sessions' last lines go out). */
void loop_unstop(void);
/* Run the next turn without waiting in poll (work was queued for a turn end). */
void loop_wake(void);

#endif
