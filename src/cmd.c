/* cmd — what every face of the multi-call binary shares. */
#include <stdlib.h>

#include "cmd.h"

/* The config path to use when -c was not given: $POSTNOOK_CONF, else the default. */
const char *cmd_default_conf(void)
{
	const char *env = getenv("POSTNOOK_CONF");

	return env && *env ? env : CMD_DEFAULT_CONF;
}
