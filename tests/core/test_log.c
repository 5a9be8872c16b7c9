/* Logging: the line format, levels, and the masking that keeps full account
   and ID numbers out of every log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* Runs one log call with stderr redirected to a file; returns what it wrote. */
static char *capture(enum log_level level, const char *source, const char *text)
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	log_msg(level, source, "%s", text);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	char *out = NULL;
	assert_true(g_file_get_contents(path, &out, NULL, NULL));
	unlink(path);
	return out;
}

static void test_mask_number(void **state)
{
	(void)state;
	g_autofree char *a = log_mask_number("3100886652");
	assert_string_equal(a, "******6652");
	g_autofree char *b = log_mask_number("11010519491231002X");
	assert_string_equal(b, "**************002X");
	g_autofree char *c = log_mask_number("123");
	assert_string_equal(c, "***");
	assert_null(log_mask_number(NULL));
}

static void test_mask_text(void **state)
{
	(void)state;
	g_autofree char *t = log_mask_text("资金账号3100886652，身份证11010519491231002X，金额1200元", 8);
	assert_null(strstr(t, "3100886652"));
	assert_null(strstr(t, "11010519491231002X"));
	assert_non_null(strstr(t, "6652"));
	assert_non_null(strstr(t, "002X"));
	assert_non_null(strstr(t, "1200元"));
	assert_non_null(strstr(t, "资金账号"));
}

static void test_reference_kept(void **state)
{
	(void)state;
	g_autofree char *t = log_mask_text("TS20261123-0007 资金账号310088665201 [TS20261124-0012]", 8);
	assert_string_equal(t, "TS20261123-0007 资金账号********5201 [TS20261124-0012]");
	g_autofree char *u = log_mask_text("20261123-0007123", 8);
	assert_null(strstr(u, "20261123"));
}

static void test_line_format(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_INFO);
	g_autofree char *line = capture(LOG_LEVEL_WARN, "imap main uid 42", "server said no");
	assert_non_null(strstr(line, " warn [imap main uid 42] server said no\n"));
	assert_int_equal(strchr(line, '\n') - line + 1, (long)strlen(line));
	g_autofree char *none = capture(LOG_LEVEL_DEBUG, "x", "hidden");
	assert_string_equal(none, "");
	log_set_level(LOG_LEVEL_DEBUG);
	g_autofree char *shown = capture(LOG_LEVEL_DEBUG, "x", "shown");
	assert_non_null(strstr(shown, "shown"));
	log_set_level(LOG_LEVEL_INFO);
}

static void test_line_masks_numbers(void **state)
{
	(void)state;
	g_autofree char *line = capture(LOG_LEVEL_INFO, "ingest",
					"account 3100 8866 5201 and id 11010519491231002X");
	assert_null(strstr(line, "3100 8866 5201"));
	assert_null(strstr(line, "11010519491231002X"));
	assert_non_null(strstr(line, "002X"));
}

static void test_level_parse(void **state)
{
	(void)state;
	enum log_level l;
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("loud", &l), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_number),
		cmocka_unit_test(test_mask_text),
		cmocka_unit_test(test_reference_kept),
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_line_masks_numbers),
		cmocka_unit_test(test_level_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
