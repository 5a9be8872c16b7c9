/* Unit tests of parsers/charset.c: declared-charset conversion (gb2312 and
   gbk read as GB18030, Big5-HKSCS), wrong and missing labels, detection of
   undeclared 8-bit text, and that the result is always valid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "parsers/charset.h"

/* Converts and checks text, the charset used and whether it was detected. */
static void expect_conv(const char *label, const char *bytes, const char *text,
			const char *used, bool detected)
{
	const char *u = NULL;
	bool d = !detected;
	size_t n = 0;
	char *out = charset_to_utf8(label, bytes, strlen(bytes), &n, &u, &d);

	assert_string_equal(out, text);
	assert_int_equal(n, strlen(out));
	assert_string_equal(u, used);
	assert_int_equal(d, detected);
	g_free(out);
}

/* 喆 (86 B4) is in GBK but not in GB2312: senders label GBK "gb2312". */
static void test_gb2312_label_reads_gbk(void **state)
{
	(void)state;
	expect_conv("gb2312", "\xCD\xF5\x86\xB4", "王喆", "gb18030", false);
	expect_conv("GBK", "\xCD\xB6\xCB\xDF", "投诉", "gb18030", false);
	expect_conv("x-gbk", "\xCD\xB6\xCB\xDF", "投诉", "gb18030", false);
}

/* Declared UTF-8 with one broken sequence: the rest stays UTF-8, the bad
   bytes become U+FFFD; the text is not re-read as GB18030. */
static void test_utf8_with_a_bad_sequence(void **state)
{
	(void)state;
	expect_conv("utf-8", "\xE6\x8A\x95\xE8\xAF\x89\xC0\xAF", "投诉\xEF\xBF\xBD\xEF\xBF\xBD",
		    "utf-8", false);
}

static void test_gb18030_four_bytes(void **state)
{
	(void)state;
	expect_conv("gb18030", "\xBB\xC6\x95\x35\xDB\x35", "黄𡈽", "gb18030", false);
	expect_conv("GB2312", "\x95\x32\x82\x36", "𠀀", "gb18030", false);
}

/* 嘅 (9D EF) is an HKSCS character: Hong Kong mailers label it big5. */
static void test_big5_hkscs(void **state)
{
	(void)state;
	expect_conv("big5", "\xB3\xAF\xA4\x6A\xA4\xE5\x9D\xEF", "陳大文嘅", "big5", false);
}

/* Fix: short GBK text is often valid UTF-8 by chance (袁野 = D4AC D2B0 reads
   as "ԬҰ"); a declared CJK label wins unless the UTF-8 reading has three-
   byte characters only. */
static void test_short_gbk_not_taken_for_utf8(void **state)
{
	(void)state;
	expect_conv("gb2312", "\xD4\xAC\xD2\xB0", "袁野", "gb18030", false);
	/* Real UTF-8 labelled gb2312 (a mailer's default label) is UTF-8, by detection. */
	expect_conv("gb2312", "关于投诉", "关于投诉", "utf-8", true);
	/* UTF-8 labelled Latin-1 is UTF-8 too. */
	expect_conv("iso-8859-1", "Straße", "Straße", "utf-8", true);
}

/* Fix: GBK labelled iso-8859-1 or windows-1252 decoded "successfully" as
   Latin mojibake (»ù½ð¶¨Í¶); it is now detected. */
static void test_western_label_on_chinese(void **state)
{
	(void)state;
	expect_conv("iso-8859-1", "\xBB\xF9\xBD\xF0\xB6\xA8\xCD\xB6\xBF\xDB\xBF\xEE", "基金定投扣款",
		    "gb18030", true);
	expect_conv("windows-1252", "\xC7\xAE\xBC\xD1", "钱佳", "gb18030", true);
	/* Real Latin-1 keeps its label. */
	expect_conv("iso-8859-1", "\x47\x72\xF6\xDF\x65\x20\x53\x74\x72\x61\xDF\x65\x20\x63\x61\x66\xE9",
		    "Größe Straße café", "iso-8859-1", false);
	/* Cyrillic in windows-1251 is not switched (not a Western label). */
	expect_conv("windows-1251", "\xCF\xF0\xE8\xE2\xE5\xF2\x20\xEC\xE8\xF0", "Привет мир",
		    "windows-1251", false);
}

static void test_wrong_label_detected(void **state)
{
	(void)state;
	/* GBK labelled UTF-8: invalid there, detected. */
	expect_conv("utf-8", "\xD7\xCA\xBD\xF0\xD5\xCB\xBA\xC5", "资金账号", "gb18030", true);
	/* Unknown and empty labels. */
	expect_conv("x-unknown-charset", "\xCD\xB6\xCB\xDF", "投诉", "gb18030", true);
	expect_conv("", "\xCD\xB6\xCB\xDF", "投诉", "gb18030", true);
	expect_conv(NULL, "plain text", "plain text", "us-ascii", true);
}

static void test_detect(void **state)
{
	(void)state;
	assert_string_equal(charset_detect("abc", 3), "us-ascii");
	assert_string_equal(charset_detect("关于", strlen("关于")), "utf-8");
	assert_string_equal(charset_detect("\xB9\xD8\xD3\xDA\xD5\xCB\xBB\xA7", 8), "gb18030");
	assert_string_equal(charset_detect("\xB3\xAF\xA4\x6A\xA4\xE5", 6), "big5");
	assert_string_equal(charset_detect("caf\xE9", 4), "iso-8859-1");
	assert_string_equal(charset_detect("\x93quoted\x94", 8), "windows-1252");
	assert_string_equal(charset_detect(NULL, 0), "us-ascii");
}

/* Whatever the bytes, the result is valid UTF-8 without NUL bytes. */
static void test_always_valid(void **state)
{
	static const char junk[] = "a\0b\xFF\xFE\x80\xC3(\xE2\x82";
	size_t n = 0;
	const char *used = NULL;
	(void)state;
	for (size_t len = 0; len < sizeof junk; len++) {
		const char *labels[] = { NULL, "utf-8", "gb2312", "big5", "us-ascii", "iso-8859-1",
					 "utf-16", "shift_jis", "koi8-r", NULL };
		for (size_t i = 0; i < G_N_ELEMENTS(labels); i++) {
			char *out = charset_to_utf8(labels[i], junk, len, &n, &used, NULL);
			assert_true(g_utf8_validate(out, (gssize)n, NULL));
			assert_int_equal(strlen(out), n);
			assert_non_null(used);
			g_free(out);
		}
	}
	char *out = charset_to_utf8("utf-8", NULL, 0, &n, NULL, NULL);
	assert_string_equal(out, "");
	g_free(out);
}

static void test_canonical(void **state)
{
	(void)state;
	assert_string_equal(charset_canonical("GB2312"), "GB18030");
	assert_string_equal(charset_canonical(" \"gbk\" "), "GB18030");
	assert_string_equal(charset_canonical("big5"), "BIG5-HKSCS");
	assert_string_equal(charset_canonical("ISO8859_1"), "ISO-8859-1");
	assert_string_equal(charset_canonical("utf-8*zh-cn"), "UTF-8");
	assert_null(charset_canonical("../../etc/passwd"));
	assert_null(charset_canonical(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gb2312_label_reads_gbk),
		cmocka_unit_test(test_gb18030_four_bytes),
		cmocka_unit_test(test_big5_hkscs),
		cmocka_unit_test(test_short_gbk_not_taken_for_utf8),
		cmocka_unit_test(test_western_label_on_chinese),
		cmocka_unit_test(test_wrong_label_detected),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_utf8_with_a_bad_sequence),
		cmocka_unit_test(test_always_valid),
		cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
