/* fuzz_cgi_status — arbitrary bytes as DATADIR/status, read back by the CGI's serve_status_read(). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/fuzz_cgi_status.XXXXXX";
	static int made;
	static struct serve_status s;
	char path[sizeof dir + 16];
	FILE *f;

	if (!made) {
		if (!mkdtemp(dir))
			return 0;
		made = 1;
	}
	snprintf(path, sizeof path, "%s/status", dir);
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (serve_status_read(dir, &s) == 0) {
		/* Whatever was read is bounded and terminated. */
		if (s.nlisten > CFG_MAX_LISTEN || s.nusers > SERVE_STATUS_USERS ||
		    strlen(s.reload_msg) >= sizeof s.reload_msg || strlen(s.version) >= sizeof s.version)
			abort();
		for (unsigned i = 0; i < s.nusers; i++)
			if (strlen(s.users[i].name) >= sizeof s.users[i].name || strlen(s.users[i].peer) >= sizeof s.users[i].peer)
				abort();
	}
	return 0;
}
