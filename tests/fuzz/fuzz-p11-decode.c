/* libFuzzer target: token attribute decoders (EC params, EC points, X.509 certificates). */
#include <stdlib.h>

#include "p11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum p11_curve curves[] = { P11_CURVE_P256, P11_CURVE_P384, P11_CURVE_P521 };
	enum p11_keytype type;
	enum p11_curve curve;
	uint8_t *point = NULL;
	size_t n;

	(void)p11_decode_ec_params(data, size, &type, &curve);
	for (size_t i = 0; i < 3; i++) {
		if (p11_decode_ec_point(data, size, P11_KEY_ECDSA, curves[i], &point, &n) == ERR_OK)
			free(point);
	}
	if (p11_decode_ec_point(data, size, P11_KEY_ED25519, P11_CURVE_NONE, &point, &n) == ERR_OK)
		free(point);
	return 0;
}
