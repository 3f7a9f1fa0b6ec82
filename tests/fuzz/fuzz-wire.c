/* libFuzzer target: the wire buffer readers, driven by the input's own first bytes. */
#include <stdlib.h>

#include "err.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbuf b, sub, out;
	const uint8_t *p;
	uint32_t u;
	uint8_t op;
	size_t n;
	char *s;
	int eq;

	wbuf_view(&b, data, size);
	wbuf_init(&out, 4096);
	while (wbuf_get_u8(&b, &op) == ERR_OK) {
		switch (op % 6) {
		case 0: (void)wbuf_get_u32(&b, &u); break;
		case 1:
			if (wbuf_get_string(&b, &p, &n) == ERR_OK && wbuf_put_string(&out, p, n) != ERR_OK)
				wbuf_reset(&out);
			break;
		case 2: if (wbuf_get_cstring(&b, &s) == ERR_OK) free(s); break;
		case 3:
			if (wbuf_get_mpint_unsigned(&b, &p, &n) == ERR_OK &&
			    wbuf_put_mpint_unsigned(&out, p, n) != ERR_OK)
				wbuf_reset(&out);
			break;
		case 4: if (wbuf_get_stringb(&b, &sub) == ERR_OK) (void)wbuf_get_u32(&sub, &u); break;
		case 5: (void)wbuf_get_string_eq(&b, "ssh-ed25519", &eq); break;
		}
	}
	wbuf_free(&out);
	return 0;
}
