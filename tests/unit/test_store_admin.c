/* test_store_admin — the web page's records in the store (src/store_admin.c): admin password, small records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysconfig.h"
#include "store.h"
#include "store_admin.h"
#include "store_user.h"
#include "check.h"

/* Drop records whose first byte is 'x'. */
static int drop_x(void *arg, const void *val, size_t len)
{
	(void)arg;
	return len > 0 && ((const char *)val)[0] == 'x';
}

int main(void)
{
	char dir[] = "/tmp/test_store_admin.XXXXXX", cmd[64], buf[64];
	struct store_opts o;
	struct store *st;
	size_t len = 0;
	unsigned kept = 99;

	if (!mkdtemp(dir))
		return 2;
	memset(&o, 0, sizeof o);
	o.map_size = 1 << 20;
	o.map_max = 1 << 22;
	o.nosync = 1;
	CHECK(store_open(dir, &o, &st) == 0);

	/* admin password: none, first set, only_first refuses, check, replace */
	CHECK(store_admin_isset(st) == 0);
	CHECK(store_admin_auth(st, "x", 1) == STORE_ENOTFOUND);
	CHECK(store_admin_set(st, "", 0, 1) == STORE_EINVAL);
	CHECK(store_admin_set(st, "first-pass", 10, 1) == 0);
	CHECK(store_admin_isset(st) == 1);
	CHECK(store_admin_set(st, "second-pass", 11, 1) == STORE_EEXIST);
	CHECK(store_admin_auth(st, "first-pass", 10) == 0);
	CHECK(store_admin_auth(st, "first-pasS", 10) == STORE_EAUTH);
	CHECK(store_admin_auth(st, "first-pass", 9) == STORE_EAUTH);
	CHECK(store_admin_auth(st, "", 0) == STORE_EAUTH);
	CHECK(store_admin_set(st, "second-pass", 11, 0) == 0);
	CHECK(store_admin_auth(st, "first-pass", 10) == STORE_EAUTH);
	CHECK(store_admin_auth(st, "second-pass", 11) == 0);
	/* the admin is not a user, and a user named admin is not the admin */
	{
		struct store_user u;
		CHECK(store_auth(st, "admin", "second-pass", 11, &u) == STORE_EAUTH);
	}

	/* small records: put, get, overwrite, too small a buffer, delete */
	CHECK(store_kv_get(st, "s/a", buf, sizeof buf, &len) == STORE_ENOTFOUND);
	CHECK(store_kv_put(st, "s/a", "hello", 5) == 0);
	CHECK(store_kv_get(st, "s/a", buf, sizeof buf, &len) == 0 && len == 5 && !memcmp(buf, "hello", 5));
	CHECK(store_kv_put(st, "s/a", "xy", 2) == 0);
	CHECK(store_kv_get(st, "s/a", buf, sizeof buf, &len) == 0 && len == 2 && !memcmp(buf, "xy", 2));
	CHECK(store_kv_get(st, "s/a", buf, 1, &len) == STORE_ECORRUPT);
	CHECK(store_kv_put(st, "s/a", NULL, 0) == 0);
	CHECK(store_kv_get(st, "s/a", buf, sizeof buf, &len) == STORE_ENOTFOUND);
	CHECK(store_kv_put(st, "s/a", NULL, 0) == 0);      /* deleting nothing is fine */
	CHECK(store_kv_put(st, "", "v", 1) == STORE_EINVAL);
	{
		char longkey[200];
		memset(longkey, 'k', sizeof longkey - 1);
		longkey[sizeof longkey - 1] = '\0';
		CHECK(store_kv_put(st, longkey, "v", 1) == STORE_EINVAL);
	}
	/* the records do not touch the store's own meta keys */
	CHECK(store_kv_put(st, "next_user", "x", 1) == 0);
	CHECK(store_user_add(st, "alice", "pw-alice", 8, 0, 0) == 0);

	/* prune walks only its prefix */
	CHECK(store_kv_put(st, "s/1", "x1", 2) == 0);
	CHECK(store_kv_put(st, "s/2", "k2", 2) == 0);
	CHECK(store_kv_put(st, "s/3", "x3", 2) == 0);
	CHECK(store_kv_put(st, "s/4", "k4", 2) == 0);
	CHECK(store_kv_put(st, "t/1", "x1", 2) == 0);
	CHECK(store_kv_prune(st, "s/", drop_x, NULL, &kept) == 0 && kept == 2);
	CHECK(store_kv_get(st, "s/1", buf, sizeof buf, &len) == STORE_ENOTFOUND);
	CHECK(store_kv_get(st, "s/3", buf, sizeof buf, &len) == STORE_ENOTFOUND);
	CHECK(store_kv_get(st, "s/2", buf, sizeof buf, &len) == 0);
	CHECK(store_kv_get(st, "t/1", buf, sizeof buf, &len) == 0);
	CHECK(store_kv_prune(st, "u/", drop_x, NULL, &kept) == 0 && kept == 0);
	/* a failure before the walk (a bad prefix) still sets *kept: 0 */
	kept = 12345;
	CHECK(store_kv_prune(st, "", drop_x, NULL, &kept) == STORE_EINVAL && kept == 0);

	store_close(st);
	/* survives a reopen, read-only too */
	o.readonly = 1;
	CHECK(store_open(dir, &o, &st) == 0);
	CHECK(store_admin_auth(st, "second-pass", 11) == 0);
	CHECK(store_kv_get(st, "s/4", buf, sizeof buf, &len) == 0 && len == 2);
	CHECK(store_kv_put(st, "s/5", "v", 1) != 0);
	store_close(st);

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	return check_done();
}
