/* Unit tests of parsers/rfc2047.c: encoded-words in headers (the GMime
   3.2.13 bug with adjacent padded base64 words, characters split across
   words, Q encoding, folding, wrong or missing charsets, malformed words)
   and header parameters (RFC 2231 filenames, encoded-words and raw 8-bit
   text in them). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <glib.h>

#include "parsers/rfc2047.h"

static void expect_decode(const char *raw, const char *want)
{
	char *got = rfc2047_decode(raw, strlen(raw));
	assert_string_equal(got, want);
	assert_true(g_utf8_validate(got, -1, NULL));
	g_free(got);
}

static void expect_param(const char *raw, const char *name, const char *want)
{
	char *got = rfc2047_decode_param(raw, strlen(raw), name);
	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	g_free(got);
}

/* shared/PITFALLS.md: GMime gives 关于账户的 for this. */
static void test_adjacent_padded_gbk(void **state)
{
	(void)state;
	expect_decode("=?GBK?B?udjT2tXLu6e1xA==?= =?GBK?B?zbbL3w==?=", "关于账户的投诉");
	expect_decode("=?gb2312?B?udjT2tXLu6e1xA==?=\r\n\t=?gb2312?B?zbbL3w==?=", "关于账户的投诉");
}

/* shared/PITFALLS.md: one character split across two words (GMime: ??). */
static void test_split_character(void **state)
{
	(void)state;
	expect_decode("=?UTF-8?B?5YU=?= =?UTF-8?B?s+S6jg==?=", "关于");
	/* 王 split across two GBK words. */
	expect_decode("=?GBK?B?zQ==?= =?GBK?B?9Q==?=", "王");
}

static void test_q_encoding(void **state)
{
	(void)state;
	expect_decode("=?gb2312?Q?=CD=B6=CB=DF_=BF=CD=BB=A7?=", "投诉 客户");
	expect_decode("=?iso-8859-1?q?caf=E9?=", "café");
	/* An '=' without two hex digits stays. */
	expect_decode("=?utf-8?Q?a=3Db=?=", "a=b=");
}

/* Fix: Outlook folds with CRLF TAB; the tab used to stay in the subject. */
static void test_folding_is_one_space(void **state)
{
	(void)state;
	expect_decode("Re:\r\n\t[TS20261123-0007]\r\n =?UTF-8?B?5oqV6K+J?=", "Re: [TS20261123-0007] 投诉");
	expect_decode("a \r\n  b\tc", "a b c");
	expect_decode("  leading and trailing  ", "leading and trailing");
}

static void test_whitespace_rules(void **state)
{
	(void)state;
	/* Kept between a word and text, dropped between two words. */
	expect_decode("Fwd: =?UTF-8?B?5oqV6K+J?= done", "Fwd: 投诉 done");
	expect_decode("=?UTF-8?B?5oqV?=  =?UTF-8?B?6K+J?=", "投诉");
	/* Words inside a run of text, as real mailers write them. */
	expect_decode("x=?UTF-8?B?5oqV6K+J?=y", "x投诉y");
	/* A word of another charset starts a new run. */
	expect_decode("=?GBK?B?zbbL3w==?= =?UTF-8?B?5a6i5oi3?=", "投诉客户");
}

static void test_charsets(void **state)
{
	(void)state;
	/* gb2312 labelled, GBK-only 喆. */
	expect_decode("=?gb2312?B?zfWGtA==?=", "王喆");
	/* Fix: GBK bytes in a word labelled iso-8859-1 (no mojibake). */
	expect_decode("=?iso-8859-1?B?x6680Q==?=", "钱佳");
	/* Unknown charset: detected. */
	expect_decode("=?x-nonsense?B?zbbL3w==?=", "投诉");
	/* Raw 8-bit GBK and UTF-8 outside words. */
	expect_decode("\xD3\xAA\xD2\xB5\xB2\xBF\xB0\xE1\xC7\xA8", "营业部搬迁");
	expect_decode("手机APP", "手机APP");
	/* RFC 2231 language suffix in a word's charset. */
	expect_decode("=?UTF-8*zh-CN?B?5oqV6K+J?=", "投诉");
}

/* Fix: CR LF decoded from an encoded-word reached the record (header
   injection into notices: "张三\r\nBcc: victim@evil.example"). */
static void test_no_control_characters(void **state)
{
	(void)state;
	/* 张三\r\nBcc: v@evil.example */
	expect_decode("=?UTF-8?B?5byg5LiJDQpCY2M6IHZAZXZpbC5leGFtcGxl?=", "张三 Bcc: v@evil.example");
	expect_decode("=?UTF-8?Q?a=07=1B[31m_=C2=85b?=", "a [31m b");
	expect_decode("a =?UTF-8?Q?=0D=0A?= b", "a b");
}

static void test_malformed_words(void **state)
{
	(void)state;
	expect_decode("=?UTF-8?B?5oqV6K+J", "=?UTF-8?B?5oqV6K+J");
	expect_decode("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	expect_decode("=??B?abc?=", "=??B?abc?=");
	expect_decode("=?UTF-8?B?!!!?=", "=?UTF-8?B?!!!?=");
	expect_decode("", "");
	char *got = rfc2047_decode(NULL, 0);
	assert_string_equal(got, "");
	g_free(got);
	/* NUL bytes never reach the result. */
	got = rfc2047_decode("a\0b", 3);
	assert_null(memchr(got, '\0', strlen(got)));
	assert_true(g_utf8_validate(got, -1, NULL));
	g_free(got);
}

/* Fix: GMime decodes raw 8-bit parameters as Latin-1 (½»Ò×½ØÍ¼.jpg) and
   split encoded-words in them with the bug above (投诉材). */
static void test_param_gmime_failures(void **state)
{
	(void)state;
	expect_param("image/jpeg; name=\"\xBD\xBB\xD2\xD7\xBD\xD8\xCD\xBC\x2E\x6A\x70\x67\"", "name",
		     "交易截图.jpg");
	expect_param("attachment;\r\n\tfilename=\"=?gb18030?B?zbbL37LEwQ==?=\r\n\t=?gb18030?B?z8u1w/cucGRm?=\"",
		     "filename", "投诉材料说明.pdf");
	expect_param("text/plain; name==?koi8-r?B?89DJ08/LLmRvYw==?=", "name", "Список.doc");
}

static void test_param_rfc2231(void **state)
{
	(void)state;
	expect_param("attachment; filename*=UTF-8''%E6%8A%95%E8%AF%89.pdf", "filename", "投诉.pdf");
	/* gb2312 label, GBK-only 喆: read as GB18030. */
	expect_param("attachment; filename*=gb2312''%CD%F5%86%B4.jpg", "filename", "王喆.jpg");
	/* Continuations, extended and plain, out of order. */
	expect_param("attachment;\r\n filename*1*=%E8%AF%89;\r\n filename*0*=UTF-8''%E6%8A%95;\r\n"
		     " filename*2=\".pdf\"", "filename", "投诉.pdf");
	/* No charset: detected. */
	expect_param("attachment; filename*=''%CD%B6%CB%DF.txt", "filename", "投诉.txt");
	/* The RFC 2231 form wins over the plain one. */
	expect_param("attachment; filename=\"old.pdf\"; filename*=UTF-8''new.pdf", "filename", "new.pdf");
}

static void test_param_syntax(void **state)
{
	(void)state;
	expect_param("attachment; FileName=\"a b.pdf\"", "filename", "a b.pdf");
	expect_param("attachment; filename=plain name.pdf ; size=3", "filename", "plain name.pdf");
	expect_param("attachment; filename=\"a\\\"b\\\\c.pdf\"", "filename", "a\"b\\c.pdf");
	expect_param("attachment; filename=\"unterminated.pdf", "filename", "unterminated.pdf");
	expect_param("attachment; filename=\"first.pdf\"; filename=\"second.pdf\"", "filename",
		     "first.pdf");
	/* "filename" inside the type or another attribute is not the parameter. */
	expect_param("attachment; filenamex=\"no.pdf\"", "filename", NULL);
	expect_param("text/plain; a=\";filename=no.pdf\"", "filename", NULL);
	expect_param("attachment", "filename", NULL);
	expect_param("attachment; filename", "filename", NULL);
	expect_param("attachment; filename*99*=x", "filename", NULL);
	assert_null(rfc2047_decode_param(NULL, 0, "filename"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjacent_padded_gbk),
		cmocka_unit_test(test_split_character),
		cmocka_unit_test(test_q_encoding),
		cmocka_unit_test(test_folding_is_one_space),
		cmocka_unit_test(test_whitespace_rules),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_no_control_characters),
		cmocka_unit_test(test_malformed_words),
		cmocka_unit_test(test_param_gmime_failures),
		cmocka_unit_test(test_param_rfc2231),
		cmocka_unit_test(test_param_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
