/* Known answers for the IMAP parser: sequence sets normalised in place, modified UTF-7 names. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "imap.h"

#if CONFIG_IMAP

/* Parse "SET REST" with imap_p_seqset; check the set text it leaves, that
 * the rest follows it, and that the cursor is at the rest. */
static void set_is(const char *in, const char *want_set, const char *rest, int line)
{
	char buf[IMAP_CMD_MAX + 16];
	struct imap_p p;
	struct imap_str s;
	char what[160];
	int rc;

	snprintf(buf, sizeof buf, "%s %s", in, rest);
	imap_p_init(&p, buf, strlen(buf));
	rc = imap_p_seqset(&p, &s);
	snprintf(what, sizeof what, "seqset %.40s -> %.40s", in, want_set);
	check_at(rc == 0 && s.len == strlen(want_set) && !memcmp(s.s, want_set, s.len) &&
	         (size_t)(p.end - p.p) == strlen(rest) + 1 && p.p[0] == ' ' && !memcmp(p.p + 1, rest, strlen(rest)),
	         __FILE__, line, what);
	if (rc == 0 && (s.len != strlen(want_set) || memcmp(s.s, want_set, s.len)))
		printf("  got %.*s\n", (int)s.len, s.s);
}
#define SET_IS(in, want) set_is(in, want, "FLAGS (x)", __LINE__)

static void test_sets(void)
{
	static char big[16384];      /* not a command line: the parser alone */
	struct imap_p p;
	struct imap_str s;
	size_t o;
	unsigned i;

	/* already normal: left as sent */
	SET_IS("1", "1");
	SET_IS("1:*", "1:*");
	SET_IS("1:5,7,9:*", "1:5,7,9:*");
	SET_IS("*", "*");
	SET_IS("4294967295", "4294967295");
	/* duplicates, overlaps, adjacency, order, reversed ranges */
	SET_IS("1:*,1:*,1:*", "1:*");
	SET_IS("3,1,2", "1:3");
	SET_IS("5:5", "5");
	SET_IS("7:5", "5:7");
	SET_IS("1:3,2:9,20,11:10", "1:11,20");
	SET_IS("10,9,8,1", "1,8:10");
	SET_IS("1,3,5,7", "1,3,5,7");
	/* '*' keeps its meaning: "n:*" reaches whatever '*' is; a lone '*' merges only into one */
	SET_IS("*:5", "5:*");
	SET_IS("*:*", "*");
	SET_IS("*,*,*", "*");
	SET_IS("*,3:*", "3:*");
	SET_IS("*,1:3", "1:3,*");
	SET_IS("1:3,5:*,4", "1:*");
	SET_IS("2:4294967295,*", "2:*");
	SET_IS("100:*,1:50", "1:50,100:*");
	/* syntax still checked */
	imap_p_init(&p, "1,,2", 4);
	CHECK(imap_p_seqset(&p, &s) == -EINVAL);
	imap_p_init(&p, "0:3", 3);
	CHECK(imap_p_seqset(&p, &s) == -EINVAL);
	imap_p_init(&p, "4294967296", 10);
	CHECK(imap_p_seqset(&p, &s) == -EINVAL);
	/* the limit, once merged: IMAP_SET_RANGES_MAX distinct ranges pass, in or out of order,
	 * with duplicates; one more is NO [LIMIT] */
	for (int order = 0; order < 2; order++) {
		for (unsigned extra = 0; extra < 2; extra++) {
			unsigned n = IMAP_SET_RANGES_MAX + extra;
			o = 0;
			for (i = 0; i < n; i++)
				o += (size_t)snprintf(big + o, sizeof big - o, "%u,", order ? 2 * (n - i) - 1 : 2 * i + 1);
			o += (size_t)snprintf(big + o, sizeof big - o, "1,3,5,7");      /* duplicates */
			imap_p_init(&p, big, o);
			if (extra == 0) {
				CHECK(imap_p_seqset(&p, &s) == 0 && imap_p_eol(&p));
				CHECK(s.len >= 4 && !memcmp(s.s, "1,3,", 4));
			} else {
				CHECK(imap_p_seqset(&p, &s) == -EPERM && p.msg && strstr(p.msg, "[LIMIT]"));
			}
		}
	}
	/* a normalised set is normal: parsing it again leaves it as it is */
	{
		char t[64] = "9,1:3,2,*,4:6";
		imap_p_init(&p, t, strlen(t));
		CHECK(imap_p_seqset(&p, &s) == 0 && s.len == 7 && !memcmp(s.s, "1:6,9,*", 7));
		imap_p_init(&p, t, s.len);
		CHECK(imap_p_seqset(&p, &s) == 0 && s.len == 7 && !memcmp(t, "1:6,9,*", 7));
	}
}

/* Walk a normalised set with '*' as star: the numbers it yields, "a-b,c,...". */
static void walk_is(const char *set, uint32_t star, const char *want, int line)
{
	char got[256] = "";
	const char *pos = set;
	uint32_t lo = 0, hi = 0;
	size_t o = 0;
	char what[160];

	while (imap_set_next(set, &pos, set + strlen(set), star, &lo, &hi) && o < sizeof got - 24)
		o += (size_t)(lo == hi ? snprintf(got + o, sizeof got - o, "%s%u", o ? "," : "", lo)
		                       : snprintf(got + o, sizeof got - o, "%s%u-%u", o ? "," : "", lo, hi));
	snprintf(what, sizeof what, "walk %.40s, * = %u -> %.40s", set, star, want);
	check_at(!strcmp(got, want), __FILE__, line, what);
	if (strcmp(got, want))
		printf("  got %s\n", got);
}
#define WALK_IS(set, star, want) walk_is(set, star, want, __LINE__)

/* '*' is the highest number there is: wherever it falls, it comes once, and nothing is lost. */
static void test_walk(void)
{
	WALK_IS("1:3,7:9", 20, "1-3,7-9");
	WALK_IS("1:3,7:9,20:*", 30, "1-3,7-9,20-30");
	WALK_IS("1:3,7:9,20:*", 5, "1-3,7-9,5");        /* '*' in a gap: 5:20 brings 5 */
	WALK_IS("1:3,7:9,20:*", 8, "1-3,7-9");          /* inside a range: not twice */
	WALK_IS("1:3,7:9,20:*", 12, "1-3,7-9,12-20");   /* above every range: cut above 9 */
	WALK_IS("1:6,9,*", 8, "1-6,9,8");
	WALK_IS("1:6,9,*", 4, "1-6,9");
	WALK_IS("1:6,9,*", 12, "1-6,9,12");
	WALK_IS("1:5,*", 3, "1-5");
	WALK_IS("5:*", 2, "2-5");
	CHECK(imap_set_has("1:3,7:9,20:*", "1:3,7:9,20:*" + 12, 5, 5));
	CHECK(!imap_set_has("1:3,7:9,20:*", "1:3,7:9,20:*" + 12, 5, 4));
}

static void test_names(void)
{
	static const char *const good[] = {
		"INBOX", "a", "Tom &- Jerry", "&ZeVnLIqe-", "&AOQ-", "&2D3eAA-", "Caf&AOk-/M&APw-nchen", "&AIA-",
	};
	static const char *const bad[] = {
		"", "/a", "a/", "a//b", "a*b", "a%b", "&AGE-", "&AC8-", "&AEkATgBCAE8AWA-", "&AAA-", "&AH8-",
		"&2AA-", "&3AA-", "&2D3YPQ-", "&2D0-x", "&,,,-", "&AOQA-", "x&AOQ", "&AOQ-&ACY-", "&A-", "&AO!-",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK_MSG(imap_mbox_name_check(good[i]) == 0, good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_MSG(imap_mbox_name_check(bad[i]) == -EINVAL, bad[i]);
}

int main(void)
{
	test_sets();
	test_walk();
	test_names();
	return check_done();
}

#else

int main(void)
{
	printf("0 passed, 0 failed (no IMAP in this build)\n");
	return 0;
}

#endif
