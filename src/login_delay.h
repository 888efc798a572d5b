/*
 * login_delay — failed-login delays. Only the answer to a failed login
 * waits (a right password is answered at once); the delay is the largest of:
 *   - per client address: a fixed table of LOGIN_DELAY_SLOTS addresses (the
 *     stalest is reused); the delay doubles with each failure from an
 *     address: 250 ms, 500 ms, ... up to LOGIN_DELAY_MAX_MS, forgotten 15
 *     minutes after the last one or on a successful login from it;
 *   - per account name, the same doubling in a second table, counted and
 *     applied only for clients outside the LAN: guesses at one name from
 *     many Internet addresses slow down for that name, while its owner at
 *     home is never slowed by them (and a right password is never delayed,
 *     so nobody is locked out). Forgotten 15 minutes after the last failure
 *     (not on a success: the guessing may still go on);
 *   - the global budget: failure answers go out at most LOGIN_FAIL_PER_S a
 *     second across all addresses (each waits its turn), so rotating over
 *     more addresses than the table holds gains nothing.
 * The daemon waits on a timer, never sleeps.
 */
#ifndef POSTNOOK_LOGIN_DELAY_H
#define POSTNOOK_LOGIN_DELAY_H

#include <stdint.h>
#include <sys/socket.h>

#define LOGIN_DELAY_SLOTS 64
#define LOGIN_DELAY_BASE_MS 250
#define LOGIN_DELAY_MAX_MS 8000
#define LOGIN_FAIL_PER_S 10

/* Record a failure from peer (lan: it is on the LAN) for user name (may be
 * NULL or empty); returns the delay in ms before answering. */
int64_t login_delay_fail(const struct sockaddr_storage *peer, const char *name, int lan, int64_t now_ms);
/* Forget the failures of peer (a successful login). */
void login_delay_ok(const struct sockaddr_storage *peer);

#endif
