/* login_delay — failed-login delays: per address, per account name, and a global budget. */
#include <netinet/in.h>
#include <string.h>

#include "login_delay.h"

#define FORGET_MS (15 * 60 * 1000)

/* One table per kind of key: addresses, and hashed account names. */
struct fail_slot {
	unsigned char key[16];
	unsigned fails;
	int64_t last;
};

static struct fail_slot addr_tab[LOGIN_DELAY_SLOTS], name_tab[LOGIN_DELAY_SLOTS];
static int64_t global_next;       /* when the global budget next has room */

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

/* A user name as 16 bytes: two FNV-1a hashes (a collision only shares a delay). */
static void name_key(const char *name, unsigned char key[16])
{
	uint64_t h[2] = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };
	int k;

	for (; *name; name++)
		for (k = 0; k < 2; k++)
			h[k] = (h[k] ^ (unsigned char)*name) * 0x100000001b3ull;
	memcpy(key, h, 16);
}

/* Count a failure for key in tab (taking the stalest slot for a new key); the delay it earns. */
static int64_t bump(struct fail_slot *tab, const unsigned char key[16], int64_t now)
{
	size_t i, pick = 0;
	int64_t d;

	for (i = 0; i < LOGIN_DELAY_SLOTS; i++) {
		if (tab[i].fails && !memcmp(tab[i].key, key, 16)) {
			pick = i;
			break;
		}
		if (!tab[i].fails || tab[i].last < tab[pick].last)
			pick = i;
	}
	if (i == LOGIN_DELAY_SLOTS || now - tab[pick].last > FORGET_MS) {
		memcpy(tab[pick].key, key, 16);
		tab[pick].fails = 0;
	}
	tab[pick].fails++;
	tab[pick].last = now;
	d = LOGIN_DELAY_BASE_MS;
	for (i = 1; i < tab[pick].fails && d < LOGIN_DELAY_MAX_MS; i++)
		d *= 2;
	return d < LOGIN_DELAY_MAX_MS ? d : LOGIN_DELAY_MAX_MS;
}

int64_t login_delay_fail(const struct sockaddr_storage *peer, const char *name, int lan, int64_t now)
{
	unsigned char key[16];
	int64_t d, g;

	addr_key(peer, key);
	d = bump(addr_tab, key, now);
	if (!lan && name && *name) {
		name_key(name, key);
		g = bump(name_tab, key, now);
		if (g > d)
			d = g;
	}
	/* The global budget: failure answers go out at most LOGIN_FAIL_PER_S a second. */
	if (global_next < now)
		global_next = now;
	global_next += 1000 / LOGIN_FAIL_PER_S;
	g = global_next - now;
	return g > d ? g : d;
}

void login_delay_ok(const struct sockaddr_storage *peer)
{
	unsigned char key[16];
	size_t i;

	addr_key(peer, key);
	for (i = 0; i < LOGIN_DELAY_SLOTS; i++)
		if (addr_tab[i].fails && !memcmp(addr_tab[i].key, key, 16))
			addr_tab[i].fails = 0;
}
