/* main — the multi-call binary: dispatch on argv[0] or the first argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "sysconfig.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} faces[] = {
	{ "serve", cmd_serve_main, "run the IMAP/POP3 daemon" },
	{ "deliver", cmd_deliver_main, "store one message from stdin (an MDA)" },
	{ "user", cmd_user_main, "add, remove and list users; passwords and quotas" },
#if CONFIG_CGI
	{ "admin", cmd_admin_main, "set the password of the web page (postnook.cgi)" },
#endif
};

/* The faces and what they do, on f: 0 when asked for (stdout), else 64 (EX_USAGE). */
static int main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "postnook %s — a mail server for routers and NAS boxes\nusage: postnook COMMAND [ARGS]\n",
	        POSTNOOK_VERSION);
	for (i = 0; i < sizeof faces / sizeof faces[0]; i++)
		fprintf(f, "  %-8s %s\n", faces[i].name, faces[i].help);
	return f == stdout ? 0 : 64;
}

int main(int argc, char **argv)
{
	size_t i;
#if CONFIG_CGI
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : argc > 0 ? argv[0] : "";
	if (!strcmp(base, "postnook.cgi"))
		return cgi_main(argc, argv);
#endif
	if (argc < 2)
		return main_usage(stderr);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("postnook %s\n", POSTNOOK_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return main_usage(stdout);
	for (i = 0; i < sizeof faces / sizeof faces[0]; i++)
		if (!strcmp(argv[1], faces[i].name))
			return faces[i].main(argc - 1, argv + 1);
	fprintf(stderr, "postnook: unknown command '%s'\n", argv[1]);
	return main_usage(stderr);
}
