/* login — the login sequence of IMAP and POP3 (login.h): policy, check, delay. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "login.h"
#include "login_delay.h"
#include "store_user.h"

/* The plaintext_auth policy for c, and what the client must do when it refuses. */
int login_plain_check(const struct conn *c)
{
	if (conn_plain_ok(c, conn_env.cfg->plaintext))
		return 0;
	if (c->lst->tls == CFG_TLS_STARTTLS && conn_env.creds)
		return LOGIN_ESTARTTLS;
	return LOGIN_ETLSPORT;
}

/*
 * A failed login: the delay (login_delay.h) and the count, the log line,
 * and c held until its timer fires. The line is the same for every protocol,
 * for fail2ban or a firewall script:
 *   conn ID PEER: auth failed: proto=imap rhost=ADDRESS user=NAME
 * (NAME cut at 64 bytes, any byte but a-z A-Z 0-9 . _ @ + - shown as '?').
 */
void login_fail(struct conn *c, const char *name, unsigned *failures)
{
	char host[64], user[65];
	const char *p = c->peer_str, *end = strrchr(p, ':');
	size_t i;

	if (*p == '[') {
		p++;
		end = strchr(p, ']');
	}
	if (!end)
		end = p + strlen(p);
	snprintf(host, sizeof host, "%.*s", (int)(end - p), p);
	for (i = 0; name[i] && i < sizeof user - 1; i++)
		user[i] = isalnum((unsigned char)name[i]) || strchr("._@+-", name[i]) ? name[i] : '?';
	user[i] = '\0';
	(*failures)++;
	conn_log(c, LOG_LVL_INFO, "auth failed: proto=%s rhost=%s user=%s", c->ops->name, host, i ? user : "-");
	conn_hold(c, 1);
	conn_set_timer(c, login_delay_fail(&c->peer, name, c->lan, loop_now()));
}

/* store_auth, then the failed-login delay and count, or the delay forgotten. */
int login_check(struct conn *c, const char *name, const char *pass, size_t passlen,
                unsigned *failures, struct store_user *u)
{
	int rc = store_auth(conn_env.store, name, pass, passlen, u);

	if (rc == STORE_EAUTH || rc == STORE_EINVAL) {
		login_fail(c, name, failures);
		return STORE_EAUTH;
	}
	if (rc < 0) {
		conn_log(c, LOG_LVL_ERR, "store error at login: %s", store_strerror(rc));
		return rc;
	}
	login_delay_ok(&c->peer);
	conn_trace_login(c, u->name);
	return 0;
}

/* Arm c's timer for what is left of login_timeout, counted from the connect. */
void login_timer(struct conn *c)
{
	int64_t left = (int64_t)conn_env.cfg->login_timeout * 1000 - (loop_now() - c->since);

	conn_set_timer(c, left > 0 ? left : 0);
}

/* Release a connection held for a failed login; say whether it has failed too often. */
int login_resume(struct conn *c, unsigned failures)
{
	conn_hold(c, 0);
	if (failures >= LOGIN_MAX_FAILURES) {
		conn_log(c, LOG_LVL_INFO, "%s: %u failed logins, closing the connection", c->ops->name, failures);
		return LOGIN_ETOOMANY;
	}
	login_timer(c);
	return 0;
}
