/* fuzz_cfg — arbitrary bytes into the config parser and the size parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char err[CFG_ERR_MAX], *s;
	uint64_t n;

	cfg_parse(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	cfg_parse_size(s, &n);
	free(s);
	return 0;
}
