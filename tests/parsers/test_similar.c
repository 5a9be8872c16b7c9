/* Character-pair similarity: a complaint re-sent with a few words changed
   scores high, a different complaint from the same person low, short texts
   never match, invalid UTF-8 is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>

#include "parsers/similar.h"

static const char first[] =
	"委托未成交，资金被冻结\n本人王芳，资金账号 310088665201，于2026年12月3日上午通过贵公司手机交易软件"
	"委托买入股票，软件显示委托成功但一直未成交，随后资金被冻结两个交易日无法使用，客服电话多次无人接听。"
	"请贵公司核实原因，解冻资金并赔偿由此造成的损失。";
static const char again[] =
	"再次投诉：委托未成交，资金被冻结\n本人王芳，资金账号 310088665201，于2026年12月3日上午通过贵公司"
	"手机交易软件委托买入股票，软件显示委托成功但一直未成交，随后资金被冻结两个交易日无法使用，客服电话多次"
	"无人接听。再次请贵公司尽快核实原因，解冻资金并赔偿由此造成的损失。";
static const char other[] =
	"佣金被擅自调高\n本人王芳，资金账号 310088665201。贵公司营业部在未告知的情况下将我的佣金费率从万分之二点五"
	"调整为万分之五，本月多收手续费约一千二百元，要求退还多收费用并说明调整依据。";

static double score(const char *a, const char *b)
{
	struct similar *x = similar_new(a), *y = similar_new(b);
	double s = similar_score(x, y);
	similar_free(x);
	similar_free(y);
	return s;
}

static void test_resent_scores_high(void **state)
{
	(void)state;
	double s = score(first, again);
	print_message("# re-sent: %.3f\n", s);
	assert_true(s >= 0.8);
	assert_true(score(first, first) > 0.999);
}

static void test_different_scores_low(void **state)
{
	(void)state;
	double s = score(first, other);
	print_message("# different: %.3f\n", s);
	assert_true(s < 0.4);
}

static void test_short_and_latin(void **state)
{
	(void)state;
	assert_true(score("见附件", "见附件") == 0);
	assert_true(score("", "") == 0);
	assert_true(score(NULL, first) == 0);
	/* case and punctuation do not matter */
	assert_true(score("My account 12345678 was frozen without any notice, please help me now",
			  "my ACCOUNT 12345678 was frozen -- without any notice; please help me now!") > 0.999);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	g_autofree char *bad = g_strconcat("\xff\xfe", first, "\xc3", NULL);
	assert_true(score(bad, first) > 0.99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resent_scores_high),
		cmocka_unit_test(test_different_scores_low),
		cmocka_unit_test(test_short_and_latin),
		cmocka_unit_test(test_invalid_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
