/* libFuzzer target: token attribute decoders (EC params, EC points, X.509 certificates). */
#include <stdlib.h>

#include "p11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum key_curve curves[] = { CURVE_P256, CURVE_P384, CURVE_P521 };
	enum key_alg type;
	enum key_curve curve;
	uint8_t *point = NULL;
	size_t n;

	(void)p11_decode_ec_params(data, size, &type, &curve);
	for (size_t i = 0; i < 3; i++) {
		if (p11_decode_ec_point(data, size, KEY_ECDSA, curves[i], &point, &n) == ERR_OK)
			free(point);
	}
	if (p11_decode_ec_point(data, size, KEY_ED25519, CURVE_NONE, &point, &n) == ERR_OK)
		free(point);
	return 0;
}
