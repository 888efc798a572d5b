/* login_delay — per-address failed-login counters in a fixed table. */
#include <netinet/in.h>
#include <string.h>

#include "login_delay.h"

#define FORGET_MS (15 * 60 * 1000)

static struct {
	unsigned char addr[16];
	unsigned fails;
	int64_t last;
} tab[LOGIN_DELAY_SLOTS];

/* The address as 16 bytes (IPv4 mapped into IPv6). */
static void addr_key(const struct sockaddr_storage *ss, unsigned char key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr, 16);
	}
}

int64_t login_delay_fail(const struct sockaddr_storage *peer, int64_t now)
{
	unsigned char key[16];
	size_t i, pick = 0;
	int64_t d;

	addr_key(peer, key);
	for (i = 0; i < LOGIN_DELAY_SLOTS; i++) {
		if (tab[i].fails && !memcmp(tab[i].addr, key, 16)) {
			pick = i;
			break;
		}
		if (!tab[i].fails || tab[i].last < tab[pick].last)
			pick = i;
	}
	if (i == LOGIN_DELAY_SLOTS || now - tab[pick].last > FORGET_MS) {
		memcpy(tab[pick].addr, key, 16);
		tab[pick].fails = 0;
	}
	tab[pick].fails++;
	tab[pick].last = now;
	d = LOGIN_DELAY_BASE_MS;
	for (i = 1; i < tab[pick].fails && d < LOGIN_DELAY_MAX_MS; i++)
		d *= 2;
	return d < LOGIN_DELAY_MAX_MS ? d : LOGIN_DELAY_MAX_MS;
}

void login_delay_ok(const struct sockaddr_storage *peer)
{
	unsigned char key[16];
	size_t i;

	addr_key(peer, key);
	for (i = 0; i < LOGIN_DELAY_SLOTS; i++)
		if (tab[i].fails && !memcmp(tab[i].addr, key, 16))
			tab[i].fails = 0;
}
