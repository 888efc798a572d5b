/* test_login_delay — failed-login delays (src/login_delay.c): per address, per account name, global budget. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "login_delay.h"
#include "check.h"

static struct sockaddr_storage addr(unsigned n)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;

	memset(&ss, 0, sizeof ss);
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0xcb007100u + n);   /* 203.0.113.n */
	return ss;
}

int main(void)
{
	struct sockaddr_storage a;
	int64_t now = 1000000, d = 0;
	unsigned i;

	/* Per address: 250 ms, doubling, capped at 8 s (spaced 1 s: no global wait). */
	a = addr(1);
	CHECK(login_delay_fail(&a, "x1", 1, now) == LOGIN_DELAY_BASE_MS);
	now += 1000;
	CHECK(login_delay_fail(&a, "x2", 1, now) == 2 * LOGIN_DELAY_BASE_MS);
	for (i = 0; i < 10; i++) {
		now += 1000;
		d = login_delay_fail(&a, "x3", 1, now);
	}
	CHECK(d == LOGIN_DELAY_MAX_MS);
	login_delay_ok(&a);
	now += 1000;
	CHECK(login_delay_fail(&a, "x4", 1, now) == LOGIN_DELAY_BASE_MS);

	/* Per account: one name from 100 Internet addresses slows down for that name. */
	for (i = 0; i < 100; i++) {
		now += 1000;
		a = addr(10 + i);
		d = login_delay_fail(&a, "alice", 0, now);
	}
	CHECK_MSG(d == LOGIN_DELAY_MAX_MS, "guesses at one name from 100 addresses are not slowed");
	/* ... not another name from a fresh address, nor the owner on the LAN. */
	now += 1000;
	a = addr(200);
	CHECK(login_delay_fail(&a, "bob", 0, now) == LOGIN_DELAY_BASE_MS);
	now += 1000;
	a = addr(201);
	CHECK_MSG(login_delay_fail(&a, "alice", 1, now) == LOGIN_DELAY_BASE_MS,
	          "the owner on the LAN is slowed by guesses from the Internet");
	/* forgotten after 15 quiet minutes */
	now += 16 * 60 * 1000;
	a = addr(202);
	CHECK(login_delay_fail(&a, "alice", 0, now) == LOGIN_DELAY_BASE_MS);

	/* Global budget: 60 failures in one second from 60 addresses, 60 names:
	 * answers spaced to LOGIN_FAIL_PER_S a second. */
	now += 60 * 60 * 1000;
	for (i = 0; i < 60; i++) {
		char name[16];
		a = addr(i);
		snprintf(name, sizeof name, "n%u", i);
		d = login_delay_fail(&a, name, 0, now + i * 1000 / 60);
	}
	CHECK_MSG(d >= (int64_t)60 * 1000 / LOGIN_FAIL_PER_S - 1000 - 100,
	          "60 failures a second over 60 addresses all answered at the minimum delay");
	return check_done();
}
