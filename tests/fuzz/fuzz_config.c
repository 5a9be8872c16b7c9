/* libFuzzer target for core/config.c: arbitrary bytes as intake.conf. Every
   value is validated at start, so every path through the validation (sizes,
   durations, clocks, URLs, lists of addresses, named sections) must end in a
   configuration or an error, never a crash or a leak.
   SECURITY: the file is edited by hand and may come from anywhere. */
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	struct config *cfg = config_load_data((const char *)data, size, "/etc/intake/fuzz.conf",
					      &error);
	g_clear_error(&error);
	config_free(cfg);
	return 0;
}
