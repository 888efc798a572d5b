/*
 * login — the login sequence that IMAP and POP3 share.
 *
 * A client signs in with a name and a password (IMAP LOGIN, POP3 USER and
 * PASS) or a SASL PLAIN response (IMAP AUTHENTICATE, POP3 AUTH, decoded by
 * sasl_plain_response). The protocol module drives it:
 *   1. login_plain_check: may a password be sent on this connection
 *      (plaintext_auth)? If not, the protocol refuses in its own words,
 *      telling the client to use STARTTLS or the TLS port.
 *   2. login_check: checks the password (store_auth).
 *      - A wrong name or password (login_fail): the delay grows (per
 *        address, per account name, global budget: login_delay_fail), the
 *        connection's failure count too, the failure is logged (one
 *        "auth failed: proto= rhost= user=" line), and the connection is
 *        held (no command taken) with its timer set to the delay. The
 *        protocol answers nothing yet.
 *      - A store error: logged; the protocol answers "try again later".
 *      - Signed in: the address's failures are forgotten (login_delay_ok);
 *        the protocol opens its session (IMAP's default mailboxes, POP3's
 *        [IN-USE] check and maildrop snapshot), logs the login in its own
 *        words, answers and sets its session timer.
 *   3. login_resume, from the protocol's timer callback when the delay is
 *      over: commands are taken again and the timer re-armed to what is left of
 *      login_timeout since the connect (login_timer), or,
 *      after LOGIN_MAX_FAILURES failures (logged, with the protocol's
 *      name), the protocol says so in its answer and closes the connection.
 * This module sends no reply: the wording stays with each protocol.
 * Callers: imap.c and pop3.c. The delays are login_delay.h's.
 */
#ifndef POSTNOOK_LOGIN_H
#define POSTNOOK_LOGIN_H

#include <stddef.h>

struct conn;
struct store_user;

/* Failed logins on one connection before it is closed. */
#define LOGIN_MAX_FAILURES 5

/* Errors of this module (the store's come from store_auth: store.h). */
enum {
	LOGIN_ESTARTTLS = -3000, /* no password in clear: use STARTTLS first */
	LOGIN_ETLSPORT,          /* no password in clear on this port: use the TLS port */
	LOGIN_ETOOMANY,          /* LOGIN_MAX_FAILURES failed logins on this connection */
};

/* May a password be sent on c (the plaintext_auth policy)? 0, LOGIN_ESTARTTLS
 * (the listener offers STARTTLS) or LOGIN_ETLSPORT (it does not). */
int login_plain_check(const struct conn *c);
/*
 * Check a name and password for connection c, whose failed logins so far
 * are *failures; on success *u gets the user's record. Returns 0, or
 * STORE_EAUTH (wrong name or password: the failure is counted and logged,
 * and c is held with its timer set to the delay; the protocol answers when
 * the timer fires, after login_resume), or another store error (logged;
 * the protocol answers at once).
 */
int login_check(struct conn *c, const char *name, const char *pass, size_t passlen,
                unsigned *failures, struct store_user *u);
/* Arm c's timer for what is left of the pre-login deadline: login_timeout
 * counted from the connect, whatever the client did since (an absolute
 * deadline: NOOPs, CAPA or failed logins do not extend it). */
void login_timer(struct conn *c);
/* Count a failed login on c for user name (also one that was refused
 * unread, e.g. too long), log it, and hold c for its delay, as login_check
 * does for a wrong password: the protocol answers when the timer fires. */
void login_fail(struct conn *c, const char *name, unsigned *failures);
/*
 * The delay of a failed login is over (c's timer fired while login_check
 * held it): take commands again. Returns 0 with the login timeout re-armed,
 * or LOGIN_ETOOMANY after LOGIN_MAX_FAILURES failures: the caller closes c
 * after its answer.
 */
int login_resume(struct conn *c, unsigned failures);

#endif
