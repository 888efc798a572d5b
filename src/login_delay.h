/*
 * login_delay — failed-login delays per client address.
 * A fixed table of LOGIN_DELAY_SLOTS addresses (the oldest is reused);
 * the delay doubles with each failure from an address: 250 ms, 500 ms, ...
 * up to LOGIN_DELAY_MAX_MS, and is forgotten 15 minutes after the last one
 * or on a successful login. The daemon waits on a timer, never sleeps.
 */
#ifndef POSTNOOK_LOGIN_DELAY_H
#define POSTNOOK_LOGIN_DELAY_H

#include <stdint.h>
#include <sys/socket.h>

#define LOGIN_DELAY_SLOTS 64
#define LOGIN_DELAY_BASE_MS 250
#define LOGIN_DELAY_MAX_MS 8000

/* Record a failure from peer; returns the delay in ms before answering. */
int64_t login_delay_fail(const struct sockaddr_storage *peer, int64_t now_ms);
/* Forget the failures of peer (a successful login). */
void login_delay_ok(const struct sockaddr_storage *peer);

#endif
