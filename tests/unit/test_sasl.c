/* test_sasl — SASL PLAIN responses (src/sasl.c): cancel, empty, base64, the PLAIN message. */
#include <errno.h>
#include <string.h>

#include "sasl.h"
#include "check.h"

/* Decode line as a client's PLAIN response into a buffer of cap bytes. */
static int response(const char *line, size_t cap, const char **user, const char **pass, size_t *passlen)
{
	static unsigned char msg[64];

	memset(msg, 0xaa, sizeof msg);
	return sasl_plain_response(line, strlen(line), msg, cap, user, pass, passlen);
}

static void test_plain_response(void)
{
	const char *user = NULL, *pass = NULL;
	size_t passlen = 0;

	/* "\0alice\0secret" and "alice\0alice\0secret" */
	CHECK_RC(response("AGFsaWNlAHNlY3JldA==", 64, &user, &pass, &passlen), 0);
	CHECK_STR(user, "alice");
	CHECK_STR(pass, "secret");
	CHECK(passlen == 6);
	CHECK_RC(response("YWxpY2UAYWxpY2UAc2VjcmV0", 64, &user, &pass, &passlen), 0);
	CHECK_STR(user, "alice");
	CHECK_STR(pass, "secret");
	/* an empty password is the store's to refuse */
	CHECK_RC(response("AGFsaWNlAA==", 64, &user, &pass, &passlen), 0);
	CHECK(passlen == 0 && pass[0] == '\0');

	CHECK_RC(response("*", 64, &user, &pass, &passlen), -ECANCELED);
	CHECK_RC(response("=", 64, &user, &pass, &passlen), -EINVAL);      /* empty: no PLAIN message */
	CHECK_RC(response("", 64, &user, &pass, &passlen), -EINVAL);
	CHECK_RC(response("**", 64, &user, &pass, &passlen), -EINVAL);
	CHECK_RC(response("!!!notbase64", 64, &user, &pass, &passlen), -EINVAL);
	CHECK_RC(response("AGFsaWNlAHNlY3JldA", 64, &user, &pass, &passlen), -EINVAL);   /* no padding */
	/* "bob\0alice\0secret": a proxy login (authzid differs) is refused */
	CHECK_RC(response("Ym9iAGFsaWNlAHNlY3JldA==", 64, &user, &pass, &passlen), -EINVAL);
	/* "alicesecret": no NULs */
	CHECK_RC(response("YWxpY2VzZWNyZXQ=", 64, &user, &pass, &passlen), -EINVAL);
	/* "\0\0secret": no user name */
	CHECK_RC(response("AABzZWNyZXQ=", 64, &user, &pass, &passlen), -EINVAL);
	/* 13 bytes decoded need 14 with the terminator */
	CHECK_RC(response("AGFsaWNlAHNlY3JldA==", 13, &user, &pass, &passlen), -ENOSPC);
	CHECK_RC(response("AGFsaWNlAHNlY3JldA==", 14, &user, &pass, &passlen), 0);
	CHECK_STR(pass, "secret");
	CHECK_RC(response("AGFsaWNlAHNlY3JldA==", 0, &user, &pass, &passlen), -ENOSPC);
}

int main(void)
{
	test_plain_response();
	return check_done();
}
