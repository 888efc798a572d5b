/* pop3_parse — split a POP3 command line in place (bounded, no allocation). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "pop3.h"
#include "sysconfig.h"

#if CONFIG_POP3

static const struct {
	const char *name;
	enum pop3_cmd cmd;
} names[] = {
	{ "CAPA", POP3_C_CAPA }, { "USER", POP3_C_USER }, { "PASS", POP3_C_PASS },
	{ "AUTH", POP3_C_AUTH }, { "STLS", POP3_C_STLS }, { "STAT", POP3_C_STAT },
	{ "LIST", POP3_C_LIST }, { "RETR", POP3_C_RETR }, { "DELE", POP3_C_DELE },
	{ "NOOP", POP3_C_NOOP }, { "RSET", POP3_C_RSET }, { "QUIT", POP3_C_QUIT },
	{ "TOP", POP3_C_TOP },   { "UIDL", POP3_C_UIDL }, { "APOP", POP3_C_APOP },
};

/*
 * Parse "NAME[ ARG[ ARG]]". The name is case-insensitive; arguments are
 * separated by single spaces (RFC 1939). PASS keeps its whole rest as one
 * argument (passwords may contain spaces). A NUL inside the line, or more
 * arguments than POP3_MAX_ARGS, is -EINVAL.
 */
int pop3_parse(char *line, size_t len, struct pop3_parsed *out)
{
	char *p, *sp;
	size_t i, namelen;

	memset(out, 0, sizeof *out);
	out->cmd = POP3_C_UNKNOWN;
	out->rest = line + len;
	if (len == 0 || memchr(line, '\0', len))
		return -EINVAL;
	sp = memchr(line, ' ', len);
	namelen = sp ? (size_t)(sp - line) : len;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == namelen && !strncasecmp(line, names[i].name, namelen))
			out->cmd = names[i].cmd;
	if (out->cmd == POP3_C_UNKNOWN)
		return -EINVAL;
	if (!sp)
		return 0;
	*sp = '\0';
	out->rest = sp + 1;
	if (out->cmd == POP3_C_PASS) {
		out->args[0] = out->rest;
		out->nargs = 1;
		return 0;
	}
	p = out->rest;
	while (*p) {
		if (out->nargs == POP3_MAX_ARGS)
			return -EINVAL;
		out->args[out->nargs++] = p;
		sp = strchr(p, ' ');
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
		if (!*p)
			return -EINVAL;   /* trailing space */
	}
	if (out->nargs && !*out->args[0])
		return -EINVAL;       /* "CMD  x": empty argument */
	return 0;
}

#endif
