/* Where a configured token's PIN comes from: askpass, pinentry, or a protected file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "pinentry.h"
#include "prompt.h"

static int pin_from_file(const char *path, char *pin, size_t pin_max, struct reason *why)
{
	struct stat st;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return reason_set(why, ERR_PIN_NEEDED, "PIN file %s: %s", path, strerror(errno));
	/* Like ssh's key files: a PIN others can read is refused, not used. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (st.st_uid != getuid() && st.st_uid != 0)) {
		close(fd);
		return reason_set(why, ERR_PIN_NEEDED, "PIN file %s must be a regular file "
		                  "readable only by its owner", path);
	}
	got = read(fd, pin, pin_max - 1);
	close(fd);
	if (got <= 0)
		return reason_set(why, ERR_PIN_NEEDED, "PIN file %s is empty", path);
	pin[got] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	return ERR_OK;
}

int agent_pin_source(void *ctx, const struct p11_token *t, const char *purpose, char *pin,
                     size_t pin_max, struct reason *why)
{
	const struct ks_pin_spec *spec = ctx;
	const struct p11_token_desc *d = p11_token_describe(t);
	char text[640];

	switch (spec->kind) {
	case PIN_SOURCE_FILE:
		/* A stored PIN is never spent on the try that could lock the token. */
		if (d->flags & P11_PIN_FINAL_TRY)
			return reason_set(why, ERR_PIN_FINAL_TRY, "token %s #%s has one PIN try "
			                  "left; the PIN file is not tried on it (reset the retry "
			                  "counter with the token's tool)", d->label, d->serial);
		return pin_from_file(spec->path, pin, pin_max, why);
	case PIN_SOURCE_PINENTRY:
	case PIN_SOURCE_ASKPASS:
		snprintf(text, sizeof(text), "Enter PIN for token %s (%s #%s) to %s%s:", d->label,
		         d->model, d->serial, purpose,
		         d->flags & P11_PIN_FINAL_TRY ? " (LAST TRY: a wrong PIN locks the token)" :
		         d->flags & P11_PIN_COUNT_LOW ? " (few tries left)" : "");
		if (spec->kind == PIN_SOURCE_PINENTRY)
			return pinentry_get_pin(spec->path, text, prompt_get_timeout(), pin, pin_max,
			                        why);
		return prompt_secret(text, pin, pin_max, why);
	case PIN_SOURCE_NONE:
		break;
	}
	return reason_set(why, ERR_PIN_NEEDED, "token %s #%s needs a PIN and its pin source is "
	                  "\"none\"", d->label, d->serial);
}
