/* auth_rand — randomness from the kernel's CSPRNG. */
#include <errno.h>
#include <sys/random.h>

#include "auth.h"

/* Fill buf with len random bytes; 0 or -errno. Blocks only until the pool is initialised. */
int auth_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
