/* Field extraction from complaint text (stub while the scanner is written). */
#include "parsers/extract.h"

static void extract_value_free(gpointer p)
{
	struct extract_value *v = p;

	g_free(v->value);
	g_free(v->context);
	g_free(v);
}

struct extract_result *extract_result_new(void)
{
	struct extract_result *r = g_new0(struct extract_result, 1);

	r->accounts = g_ptr_array_new_with_free_func(extract_value_free);
	r->id_numbers = g_ptr_array_new_with_free_func(extract_value_free);
	r->credit_codes = g_ptr_array_new_with_free_func(extract_value_free);
	r->phones = g_ptr_array_new_with_free_func(extract_value_free);
	r->emails = g_ptr_array_new_with_free_func(extract_value_free);
	r->names = g_ptr_array_new_with_free_func(extract_value_free);
	r->references = g_ptr_array_new_with_free_func(extract_value_free);
	return r;
}

void extract_result_free(struct extract_result *r)
{
	if (r == NULL)
		return;
	g_ptr_array_unref(r->accounts);
	g_ptr_array_unref(r->id_numbers);
	g_ptr_array_unref(r->credit_codes);
	g_ptr_array_unref(r->phones);
	g_ptr_array_unref(r->emails);
	g_ptr_array_unref(r->names);
	g_ptr_array_unref(r->references);
	g_free(r);
}

void extract_text_into(struct extract_result *r, const struct extract_settings *s,
		       const char *text, size_t len)
{
	(void)r; (void)s; (void)text; (void)len;
}

bool extract_id_number_valid(const char *id)
{
	(void)id;
	return false;
}

bool extract_credit_code_valid(const char *code)
{
	(void)code;
	return false;
}
