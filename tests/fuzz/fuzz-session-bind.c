/*
 * libFuzzer target: everything a remote ssh client controls about destinations. The first
 * byte picks session-bind bodies (several in a row), a userauth request, or ssh-add -h
 * constraints checked against the bindings built so far.
 */
#include <stdint.h>
#include <string.h>

#include "dest-constraint.h"
#include "session-bind.h"
#include "userauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
	                               '1', '9', 0, 0, 0, 32, [19 ... 50] = 0x11 };
	struct bindings bs = { 0 };
	struct dest_constraints *dc = NULL;
	struct userauth ua;
	struct reason why;
	struct wbuf in, body;
	int refused = 0;

	if (size < 1)
		return 0;
	wbuf_view(&in, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:         /* a sequence of session-bind bodies, each an SSH string */
		while (wbuf_get_stringb(&in, &body) == ERR_OK)
			refused += session_bind_apply(&bs, &body, &why) != ERR_OK;
		break;
	case 1:
		if (userauth_parse(data + 1, size - 1, key, sizeof(key), &ua) == ERR_OK)
			userauth_free(&ua);
		break;
	default:
		if (dest_constraints_parse(data + 1, size - 1, &dc, &why) == ERR_OK) {
			refused += dest_constraints_permit(dc, &bs, "git", NULL, &why) != ERR_OK;
			refused += dest_constraints_permit(dc, &bs, NULL, NULL, &why) != ERR_OK;
			dest_constraints_unref(dc);
		}
		break;
	}
	bindings_clear(&bs);
	return refused < 0;     /* never: libFuzzer wants 0, and the count must be used */
}
