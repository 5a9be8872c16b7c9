/* libFuzzer target for parsers/extract.c: arbitrary bytes as complaint text,
   scanned with the default and with narrow settings, twice into one result
   (the deduplication path), and the check-character functions on the first
   18 bytes. Invariants are checked, not just the absence of a crash.
   SECURITY: exercises the scanner of hostile complaint text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/extract.h"

/* Every list is capped, holds no duplicates, and every value and context is
   non-empty valid UTF-8 without NUL or line breaks in the context. */
static void fuzz_extract_check_list(const GPtrArray *list)
{
	if (list->len > EXTRACT_MAX_VALUES)
		abort();
	for (guint i = 0; i < list->len; i++) {
		const struct extract_value *v = list->pdata[i];
		if (v->value == NULL || v->value[0] == '\0' || v->context == NULL ||
		    !g_utf8_validate(v->value, -1, NULL) || !g_utf8_validate(v->context, -1, NULL) ||
		    strchr(v->context, '\n') != NULL || strchr(v->context, '\r') != NULL)
			abort();
		for (guint k = 0; k < i; k++)
			if (strcmp(v->value, ((const struct extract_value *)list->pdata[k])->value) == 0)
				abort();
	}
}

/* Values of the kinds with a check character pass their own validator. */
static void fuzz_extract_check(const struct extract_result *r)
{
	const GPtrArray *lists[] = { r->accounts, r->id_numbers, r->credit_codes, r->phones,
				     r->emails, r->names, r->references };

	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		fuzz_extract_check_list(lists[i]);
	for (guint i = 0; i < r->id_numbers->len; i++) {
		const char *id = ((const struct extract_value *)r->id_numbers->pdata[i])->value;
		if (strlen(id) == 18 && !extract_id_number_valid(id))
			abort();
	}
	for (guint i = 0; i < r->credit_codes->len; i++)
		if (!extract_credit_code_valid(((const struct extract_value *)r->credit_codes->pdata[i])->value))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const labels[] = { "号", "no", "账户号码", NULL };
	const struct extract_settings narrow = {
		.account_labels = labels, .account_min_digits = 3, .account_max_digits = 200,
		.reference_prefix = "A" };
	const char *text = (const char *)data;
	struct extract_result *r = extract_result_new();

	extract_text_into(r, NULL, text, size);
	extract_text_into(r, NULL, text, size);
	fuzz_extract_check(r);
	extract_result_free(r);

	r = extract_result_new();
	extract_text_into(r, &narrow, text, size);
	extract_text_into(r, NULL, text, size / 2);
	fuzz_extract_check(r);
	extract_result_free(r);

	char head[19] = { 0 };
	memcpy(head, data, size < 18 ? size : 18);
	(void)extract_id_number_valid(head);
	(void)extract_credit_code_valid(head);
	return 0;
}
