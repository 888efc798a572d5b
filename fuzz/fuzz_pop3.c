/* fuzz_pop3 — arbitrary bytes, split into lines, into the POP3 command parser and the SASL PLAIN response decoder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3.h"
#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[POP3_LINE_MAX + 1];
	unsigned char dec[768];
	size_t start = 0, i;

	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		size_t len = i - start;
		if (len <= POP3_LINE_MAX - 2) {
			struct pop3_parsed p;
			const char *u, *pw;
			size_t pwlen;
			memcpy(line, data + start, len);
			line[len] = '\0';
			sasl_plain_response(line, len, dec, sizeof dec, &u, &pw, &pwlen);
			pop3_parse(line, len, &p);
		}
		start = i + 1;
	}
	return 0;
}
