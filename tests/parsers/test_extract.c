/* Unit tests of parsers/extract.c: accounts and the numbers that only look
   like accounts, resident IDs and credit codes with their check characters,
   phones, e-mail addresses, names, references, deduplication, the cap, the
   context, linear time on 10 MB and hostile bytes. Values are asserted, not
   just the absence of a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/extract.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif
#ifndef TEST_SANITIZED
#define TEST_SANITIZED 0
#endif

/* ---- helpers ---- */

static struct extract_result *test_scan_with(const struct extract_settings *s, const char *text)
{
	struct extract_result *r = extract_result_new();

	extract_text_into(r, s, text, strlen(text));
	return r;
}

static struct extract_result *test_scan(const char *text)
{
	return test_scan_with(NULL, text);
}

/* Asserts that list holds exactly the values given (NULL-terminated), in order. */
static void test_expect(const char *text, const char *what, const GPtrArray *list, ...)
{
	va_list ap;
	guint i = 0;
	const char *want;

	va_start(ap, list);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= list->len)
			fail_msg("%s in \"%s\": missing \"%s\" (only %u found)", what, text, want, list->len);
		const struct extract_value *v = list->pdata[i];
		if (strcmp(v->value, want) != 0)
			fail_msg("%s in \"%s\": #%u is \"%s\", expected \"%s\"", what, text, i, v->value, want);
		i++;
	}
	va_end(ap);
	if (i != list->len)
		fail_msg("%s in \"%s\": %u found, expected %u (extra \"%s\")", what, text, list->len, i,
			 ((const struct extract_value *)list->pdata[i])->value);
}

static const char *test_value(const GPtrArray *list, guint i)
{
	assert_true(i < list->len);
	return ((const struct extract_value *)list->pdata[i])->value;
}

static const char *test_context(const GPtrArray *list, guint i)
{
	assert_true(i < list->len);
	return ((const struct extract_value *)list->pdata[i])->context;
}

/* Completes 17 digits with their ISO 7064 MOD 11-2 check character,
   computed here independently of the code under test. */
static void test_id_make(const char *digits17, char out[19])
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int sum = 0;

	for (int i = 0; i < 17; i++)
		sum += (digits17[i] - '0') * w[i];
	memcpy(out, digits17, 17);
	out[17] = "10X98765432"[sum % 11];
	out[18] = '\0';
}

/* The same ID with every wrong check character. */
static void test_id_wrong_checks(const char *id)
{
	static const char checks[] = "0123456789X";
	char bad[19];

	for (size_t k = 0; k < sizeof(checks) - 1; k++) {
		if (checks[k] == id[17])
			continue;
		memcpy(bad, id, 19);
		bad[17] = checks[k];
		if (extract_id_number_valid(bad))
			fail_msg("%s accepted with check %c", bad, checks[k]);
	}
}

/* ---- accounts ---- */

static void test_account_fullwidth_among_decoys(void **state)
{
	(void)state;
	const char *t = "本人资金账号：３１０ ０８８ ６６５２，于2026年3月1日委托买入，"
			"订单号20260301123456，损失金额120000元";
	struct extract_result *r = test_scan(t);

	test_expect(t, "accounts", r->accounts, "3100886652", NULL);
	test_expect(t, "phones", r->phones, NULL);
	test_expect(t, "ids", r->id_numbers, NULL);
	test_expect(t, "names", r->names, NULL);
	extract_result_free(r);
}

static void test_account_labels_and_fillers(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "我的资金帐号为 310088665，请核实。", "310088665" },
		{ "本人陳大文，帳號為417756419208。", "417756419208" },
		{ "資金帳號：３１００８８６６５２，請核實", "3100886652" },
		{ "客戶號：8800-1234 的交易", "88001234" },
		{ "客户号：88001234，开户营业部：福州五四路。", "88001234" },
		{ "资产账号是３１００８８６６５２。", "3100886652" },
		{ "证券账户：0012 3456 78 被冻结", "0012345678" },
		{ "期货账户 8001-2345-6789 无法出金", "800123456789" },
		{ "客户账号３１００－８８６６－５２的交易记录", "3100886652" },
		{ "账号 No. 3100886652 的委托未成交", "3100886652" },
		{ "My account no. 12345678 was charged twice.", "12345678" },
		{ "Account Number: 900088776655, branch Fuzhou", "900088776655" },
		{ "A/C No.: 31008866 (margin)", "31008866" },
		{ "资金账号：\n3100886652", "3100886652" },
		{ "资金账号分别为：3100886652", "3100886652" },
		{ "账户：6222 0212 3456 7890 123", "6222021234567890123" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct extract_result *r = test_scan(cases[i][0]);
		test_expect(cases[i][0], "accounts", r->accounts, cases[i][1], NULL);
		extract_result_free(r);
	}
}

static void test_account_lists(void **state)
{
	(void)state;
	const char *a = "资金账号：3100886652、3100886653和3100886654，均无法登录。";
	const char *b = "account no. 12345678 and 87654321 were both frozen";
	const char *c = "账号 3100886652, 3100886653; 3100886654 / 3100886655";
	const char *d = "资金账号：3100886652 3100886653";
	struct extract_result *r = test_scan(a);

	test_expect(a, "accounts", r->accounts, "3100886652", "3100886653", "3100886654", NULL);
	extract_result_free(r);
	r = test_scan(b);
	test_expect(b, "accounts", r->accounts, "12345678", "87654321", NULL);
	extract_result_free(r);
	r = test_scan(c);
	test_expect(c, "accounts", r->accounts, "3100886652", "3100886653", "3100886654", "3100886655", NULL);
	extract_result_free(r);
	r = test_scan(d);
	test_expect(d, "accounts", r->accounts, "3100886652", "3100886653", NULL);
	extract_result_free(r);
}

static void test_account_list_stops_at_words(void **state)
{
	(void)state;
	const char *t = "资金账号：3100886652，于2026年3月1日买入88001234股，合同编号 55667788，"
			"委托编号：3100886699，成交编号12345678。";
	struct extract_result *r = test_scan(t);

	test_expect(t, "accounts", r->accounts, "3100886652", NULL);
	extract_result_free(r);
}

/* Numbers right after an account label that are something else. */
static void test_account_decoys(void **state)
{
	(void)state;
	static const char *const none[] = {
		"资金账号：120000元",
		"资金账号 3100886652.50元",
		"资金账号：88001234 万元",
		"资金账号：300000 RMB",
		"账号：2026-03-01",
		"账号日期20260301",
		"资金账号：TS20261123-0007",
		"账号：A3100886652",
		"账号：3100886652abc",
		"资金账号：12345",
		"资金账号：123456789012345678901",
		"订单号：3100886652",
		"委托编号3100886652",
		"金额：3100886652",
		"损失￥3100886652",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		struct extract_result *r = test_scan(none[i]);
		test_expect(none[i], "accounts", r->accounts, NULL);
		extract_result_free(r);
	}
}

/* A phone or an ID after an account label is a phone or an ID. */
static void test_account_phone_and_id_decoys(void **state)
{
	(void)state;
	const char *a = "资金账号：13800138000";
	const char *b = "账号 11010519491231002X";
	const char *c = "资金账号：3100886652，2026-03-01委托，138 0013 8000";
	struct extract_result *r = test_scan(a);

	test_expect(a, "accounts", r->accounts, NULL);
	test_expect(a, "phones", r->phones, "13800138000", NULL);
	extract_result_free(r);
	r = test_scan(b);
	test_expect(b, "accounts", r->accounts, NULL);
	test_expect(b, "ids", r->id_numbers, "11010519491231002X", NULL);
	extract_result_free(r);
	r = test_scan(c);
	test_expect(c, "accounts", r->accounts, "3100886652", NULL);
	test_expect(c, "phones", r->phones, "13800138000", NULL);
	extract_result_free(r);
}

static void test_account_digit_limits(void **state)
{
	(void)state;
	const struct extract_settings s = { .account_min_digits = 8, .account_max_digits = 10 };
	const char *t = "资金账号：1234567，资金账号：12345678，资金账号：1234567890，资金账号：12345678901";
	struct extract_result *r = test_scan(t);

	test_expect(t, "accounts", r->accounts, "1234567", "12345678", "1234567890", "12345678901", NULL);
	extract_result_free(r);
	r = test_scan_with(&s, t);
	test_expect(t, "accounts (8..10)", r->accounts, "12345678", "1234567890", NULL);
	extract_result_free(r);
	r = test_scan("账号：123456 账号：12345678901234567890 账号：123456789012345678901");
	test_expect("6 / 20 / 21 digits", "accounts", r->accounts, "123456", "12345678901234567890", NULL);
	extract_result_free(r);
}

/* OCR splits long numbers with a blank: after an account label the parts
   are joined when one is too short to be an account and together they fit
   the length; what follows the short part may make it a value of its own. */
static void test_account_split_by_ocr(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{ "资金账号 31460423881 8、314106728234，", "314604238818", "314106728234" },
		{ "资金账号：3 14604238818，请核实", "314604238818", NULL },
		{ "资金账号\u300031460423881\u30008。", "314604238818", NULL },
		{ "资金账号：3146042388-18 被冻结", "314604238818", NULL },
		{ "资金账号：3146042388－18", "314604238818", NULL },
		{ "账号 314604238818、31410672823 4 均无法登录", "314604238818", "314106728234" },
		{ "资金账号 3100886652 3100886653", "3100886652", "3100886653" },
		{ "资金账号 3100886652 2026年3月1日委托", "3100886652", NULL },
		{ "资金账号 3100886652 2026-03-01 委托", "3100886652", NULL },
		{ "资金账号 3100886652 10:30 登录失败", "3100886652", NULL },
		{ "资金账号 3100886652 2 笔委托", "3100886652", NULL },
		{ "资金账号 3100886652 2笔委托", "3100886652", NULL },
		{ "资金账号 31460423881 8000元", "31460423881", NULL },
		{ "资金账号 31460423881 8.5 万元", "31460423881", NULL },
		{ "资金账号 3100886652 8abc", "3100886652", NULL },
		{ "资金账号：1234567890123456789 01", "1234567890123456789", NULL },
		{ "订单号 31460423881 8", NULL, NULL },
		{ "成交 3 14604238818", NULL, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct extract_result *r = test_scan(cases[i][0]);
		test_expect(cases[i][0], "accounts", r->accounts, cases[i][1], cases[i][2], NULL);
		extract_result_free(r);
	}
}

/* The joined length is the configured one; a mobile number made whole is a phone. */
static void test_account_split_limits(void **state)
{
	(void)state;
	const struct extract_settings s = { .account_min_digits = 8, .account_max_digits = 10 };
	const char *a = "资金账号：123456789 01，资金账号：7654321 89";
	const char *b = "资金账号 1 3800138000";
	struct extract_result *r = test_scan_with(&s, a);

	test_expect(a, "accounts (8..10)", r->accounts, "123456789", "765432189", NULL);
	extract_result_free(r);
	r = test_scan(b);
	test_expect(b, "accounts", r->accounts, NULL);
	test_expect(b, "phones", r->phones, "13800138000", NULL);
	extract_result_free(r);
}

static void test_account_custom_labels(void **state)
{
	(void)state;
	static const char *const labels[] = { "基金账户", "TA Account", NULL };
	const struct extract_settings s = { .account_labels = labels };
	const char *t = "资金账号：3100886652，基金账户：880012345678，ta account 99887766";
	struct extract_result *r = test_scan_with(&s, t);

	test_expect(t, "accounts", r->accounts, "880012345678", "99887766", NULL);
	extract_result_free(r);
}

/* ---- ID numbers and credit codes ---- */

static void test_id_check_digits(void **state)
{
	(void)state;
	static const char *const prefixes[] = {
		"11010519491231002", "44030419900307123", "35010219851111001", "51010820000229456",
		"62010219700101999", "32050319991231777", "11010120000101003", "65010219560615010",
	};
	char id[19];

	assert_true(extract_id_number_valid("11010519491231002X"));
	assert_true(extract_id_number_valid("11010519491231002x"));
	test_id_wrong_checks("11010519491231002X");
	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		test_id_make(prefixes[i], id);
		if (!extract_id_number_valid(id))
			fail_msg("%s (check computed here) rejected", id);
		test_id_wrong_checks(id);
	}
}

static void test_id_birth_dates_and_shape(void **state)
{
	(void)state;
	static const char *const bad_dates[] = {
		"11010518991231002", "11010521010101002", "11010519490230002", "11010519491301002",
		"11010519490000002", "11010519010229002", "11010520230229002",
	};
	char id[19];

	for (size_t i = 0; i < G_N_ELEMENTS(bad_dates); i++) {
		test_id_make(bad_dates[i], id);
		if (extract_id_number_valid(id))
			fail_msg("%s accepted: no such birth date", id);
	}
	test_id_make("11010520000229002", id);   /* 2000 was a leap year */
	assert_true(extract_id_number_valid(id));
	test_id_make("01010519491231002", id);   /* no area code starts with 0 */
	assert_false(extract_id_number_valid(id));
	assert_false(extract_id_number_valid(NULL));
	assert_false(extract_id_number_valid(""));
	assert_false(extract_id_number_valid("11010519491231002"));
	assert_false(extract_id_number_valid("11010519491231002XX"));
	assert_false(extract_id_number_valid("1101051949123100AX"));
	assert_false(extract_id_number_valid("11010519491231002Y"));
}

static void test_id_in_text(void **state)
{
	(void)state;
	char id[19], text[256];
	test_id_make("44030419900307123", id);
	snprintf(text, sizeof(text), "投诉人张三，身份证号码：11010519491231002x，代理人身份证%s。", id);
	struct extract_result *r = test_scan(text);

	test_expect(text, "ids", r->id_numbers, "11010519491231002X", id, NULL);
	test_expect(text, "accounts", r->accounts, NULL);
	test_expect(text, "phones", r->phones, NULL);
	extract_result_free(r);

	static const char *const none[] = {
		"编号911010519491231002X",     /* inside a longer run of digits */
		"编号11010519491231002X5",
		"证件 11010519491231002Xa",
		"身份证号：110105194912310021",  /* wrong check digit */
		"110105491231002",               /* 15 digits without an ID label */
		"身份证号：110105491331002",     /* 15 digits, no 13th month */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		r = test_scan(none[i]);
		test_expect(none[i], "ids", r->id_numbers, NULL);
		test_expect(none[i], "accounts", r->accounts, NULL);
		extract_result_free(r);
	}
	r = test_scan("老身份证号码：110105491231002");
	test_expect("15-digit legacy", "ids", r->id_numbers, "110105491231002", NULL);
	extract_result_free(r);
}

static void test_credit_codes(void **state)
{
	(void)state;
	const char *t = "投诉单位统一社会信用代码：91350100M000100Y43，法定代表人李四。";
	struct extract_result *r;

	assert_true(extract_credit_code_valid("91350100M000100Y43"));
	assert_false(extract_credit_code_valid("91350100M000100Y44"));
	assert_false(extract_credit_code_valid("91350100M000100Y4"));
	assert_false(extract_credit_code_valid("91350100m000100y43"));
	assert_false(extract_credit_code_valid("9135010OM000100Y43"));   /* O is not used */
	assert_false(extract_credit_code_valid(NULL));
	assert_false(extract_credit_code_valid(""));
	r = test_scan(t);
	test_expect(t, "credit codes", r->credit_codes, "91350100M000100Y43", NULL);
	test_expect(t, "accounts", r->accounts, NULL);
	extract_result_free(r);
	static const char *const none[] = {
		"代码A91350100M000100Y43", "代码91350100M000100Y43B", "代码91350100M000100Y44",
		"代码91350100m000100y43",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		r = test_scan(none[i]);
		test_expect(none[i], "credit codes", r->credit_codes, NULL);
		extract_result_free(r);
	}
}

/* ---- phones ---- */

static void test_phones_mobile_forms(void **state)
{
	(void)state;
	static const char *const forms[] = {
		"手机13800138000", "电话：138 0013 8000", "联系方式 138-0013-8000", "tel +86 138 0013 8000",
		"+8613800138000", "0086 138-0013-8000", "请回电１３８００１３８０００。", "Phone: +86-138-0013-8000",
		"有事打13800138000找我", "手机号码：１３８－００１３－８０００",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		struct extract_result *r = test_scan(forms[i]);
		test_expect(forms[i], "phones", r->phones, "13800138000", NULL);
		test_expect(forms[i], "accounts", r->accounts, NULL);
		extract_result_free(r);
	}
}

static void test_phones_landline_and_service(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "营业部电话010-12345678", "01012345678" },
		{ "请致电(021)12345678", "02112345678" },
		{ "传真（0591）8765 4321", "059187654321" },
		{ "电话 0755 1234 5678 转人工", "075512345678" },
		{ "客服热线400-820-8820", "4008208820" },
		{ "拨打 800 820 8820", "8008208820" },
		{ "tel: 02112345678", "02112345678" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct extract_result *r = test_scan(cases[i][0]);
		test_expect(cases[i][0], "phones", r->phones, cases[i][1], NULL);
		extract_result_free(r);
	}
}

static void test_phones_not(void **state)
{
	(void)state;
	static const char *const none[] = {
		"流水2138001380001",            /* inside a longer run of digits */
		"用户名abc13800138000",
		"13800138000abc",
		"订单号13800138000",
		"损失13800138000元",
		"02112345678",                  /* no separator, no label: not sure */
		"11010519491231002X",
		"call 13800138000@163.com",     /* an address, not a phone */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		struct extract_result *r = test_scan(none[i]);
		test_expect(none[i], "phones", r->phones, NULL);
		extract_result_free(r);
	}
}

/* An account already taken is not a phone when it comes again unlabelled. */
static void test_phones_not_taken_account(void **state)
{
	(void)state;
	struct extract_result *r = extract_result_new();
	const char *a = "资金账号：4008208820";
	const char *b = "请查4008208820的流水";

	extract_text_into(r, NULL, a, strlen(a));
	extract_text_into(r, NULL, b, strlen(b));
	test_expect(b, "accounts", r->accounts, "4008208820", NULL);
	test_expect(b, "phones", r->phones, NULL);
	extract_result_free(r);
}

/* ---- e-mail, names, references ---- */

static void test_emails(void **state)
{
	(void)state;
	const char *t = "邮箱：ZhangSan＠Example．COM。备用 li.si+complaint@Mail.Example.com.cn, "
			"或 (wang_wu@163.com)。请勿回复 noreply@x.y、a@b、@example.com、c@d..com、e@-f.com";
	struct extract_result *r = test_scan(t);

	test_expect(t, "emails", r->emails, "ZhangSan@example.com", "li.si+complaint@mail.example.com.cn",
		    "wang_wu@163.com", NULL);
	extract_result_free(r);
	r = test_scan("Reply to john.smith@example.org.");
	test_expect("trailing dot", "emails", r->emails, "john.smith@example.org", NULL);
	test_expect("trailing dot", "names", r->names, NULL);
	extract_result_free(r);
}

static void test_names_after_labels(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "投诉人：张三，身份证号码11010519491231002X", "张三" },
		{ "客户姓名：欧阳娜娜 资金账号3100886652", "欧阳娜娜" },
		{ "姓名 李四", "李四" },
		{ "联系人王五，电话13800138000", "王五" },
		{ "申请人：赵小六的代理人", "赵小六" },
		{ "本人张三于2026年3月1日在贵公司开户", "张三" },
		{ "投诉人：王向东对处理结果不满", "王向东" },
		{ "Name: John Smith, account no. 12345678", "John Smith" },
		{ "My name is Mary Jane Watson and I complain", "Mary Jane Watson" },
		{ "姓名：Li Wei", "Li Wei" },
		{ "我叫黄𡈽，“𡈽”是扩展B区的字", "黄𡈽" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct extract_result *r = test_scan(cases[i][0]);
		test_expect(cases[i][0], "names", r->names, cases[i][1], NULL);
		extract_result_free(r);
	}
}

static void test_names_rejected(void **state)
{
	(void)state;
	static const char *const none[] = {
		"投诉人：客户", "联系人：先生", "姓名：女士", "投诉人：您好", "申请人：公司",
		"本人于2026年3月1日开户", "本人资金账号：3100886652", "本人认为处理不公",
		"本人在贵公司开户多年", "被投诉人：李四", "投诉人是本公司的客户",
		"姓名：张三丰李四王五", "username: Admin", "name: customer", "请提供姓名、身份证号",
		"姓名生僻字“𡈽”显示为问号",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		struct extract_result *r = test_scan(none[i]);
		test_expect(none[i], "names", r->names, NULL);
		extract_result_free(r);
	}
}

static void test_names_signatures(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "贵公司营业部拖延处理，特此投诉。\n\n此致\n敬礼！\n\n张三\n2026年3月1日\n", "张三" },
		{ "要求赔偿损失。此致 敬礼 李四敬上", "李四" },
		{ "请尽快处理。\n此致\n敬礼\n投诉人：王五\n2026-03-01", "王五" },
		{ "Please refund the fee.\n\nRegards,\nJohn Smith\n", "John Smith" },
		{ "I expect an answer.\nBest regards,\n\n  Mary Jane Watson  \n", "Mary Jane Watson" },
		{ "Thanks,\n张伟", "张伟" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct extract_result *r = test_scan(cases[i][0]);
		test_expect(cases[i][0], "names", r->names, cases[i][1], NULL);
		extract_result_free(r);
	}
	static const char *const none[] = {
		"此致\n敬礼！\n客户\n", "此致\n敬礼！\n某某证券营业部的一位老客户\n",
		"Thanks for your help with John Smith\n", "Regards,\nthe customer service team\n",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
		struct extract_result *r = test_scan(none[i]);
		test_expect(none[i], "names", r->names, NULL);
		extract_result_free(r);
	}
}

static void test_references(void **state)
{
	(void)state;
	const char *t = "回复：[TS20261123-0007] 关于投诉TS20261124-0100的补充，另见ts20261123-0008、"
			"XTS20261123-0009、TS20261123-00101、TS20261399-0001、TS2026112-0001";
	struct extract_result *r = test_scan(t);

	test_expect(t, "references", r->references, "TS20261123-0007", "TS20261124-0100", NULL);
	test_expect(t, "accounts", r->accounts, NULL);
	test_expect(t, "phones", r->phones, NULL);
	extract_result_free(r);

	const struct extract_settings s = { .reference_prefix = "ZX" };
	r = test_scan_with(&s, "Re: [ZX20260105-0001] TS20261123-0007");
	test_expect("prefix ZX", "references", r->references, "ZX20260105-0001", NULL);
	extract_result_free(r);
}

/* ---- lists ---- */

static void test_dedup(void **state)
{
	(void)state;
	const char *t = "资金账号：3100886652，再说一遍资金账号3100886652，手机138 0013 8000，"
			"手机13800138000，邮箱a.b@Example.com，a.b@example.COM。投诉人：张三，姓名：张三。"
			"身份证11010519491231002X，11010519491231002x";
	struct extract_result *r = test_scan(t);

	extract_text_into(r, NULL, t, strlen(t));
	extract_text_into(r, NULL, "账号3100886652", strlen("账号3100886652"));
	test_expect(t, "accounts", r->accounts, "3100886652", NULL);
	test_expect(t, "phones", r->phones, "13800138000", NULL);
	test_expect(t, "emails", r->emails, "a.b@example.com", NULL);
	test_expect(t, "names", r->names, "张三", NULL);
	test_expect(t, "ids", r->id_numbers, "11010519491231002X", NULL);
	extract_result_free(r);
}

static void test_cap(void **state)
{
	(void)state;
	GString *g = g_string_new(NULL);
	struct extract_result *r = extract_result_new();

	for (int i = 0; i < 100; i++)
		g_string_append_printf(g, "资金账号：%d，手机139%08d。\n", 31008800 + i, i);
	extract_text_into(r, NULL, g->str, g->len);
	assert_int_equal(r->accounts->len, EXTRACT_MAX_VALUES);
	assert_int_equal(r->phones->len, EXTRACT_MAX_VALUES);
	assert_string_equal(test_value(r->accounts, 0), "31008800");
	assert_string_equal(test_value(r->accounts, 63), "31008863");
	assert_string_equal(test_value(r->phones, 63), "13900000063");
	/* A full list stays full: another text adds nothing. */
	extract_text_into(r, NULL, "资金账号：99990000", strlen("资金账号：99990000"));
	assert_int_equal(r->accounts->len, EXTRACT_MAX_VALUES);
	extract_result_free(r);
	g_string_free(g, TRUE);
}

static void test_context_window(void **state)
{
	(void)state;
	GString *g = g_string_new(NULL);

	for (int i = 0; i < 40; i++)
		g_string_append(g, "这是一段很长的投诉说明，");
	g_string_append(g, "本人资金账号：\r\n3100886652\n，请核实");
	for (int i = 0; i < 40; i++)
		g_string_append(g, "。后面还有很多话");
	struct extract_result *r = test_scan(g->str);
	const char *ctx = test_context(r->accounts, 0);

	test_expect("long text", "accounts", r->accounts, "3100886652", NULL);
	assert_non_null(strstr(ctx, "资金账号："));
	assert_non_null(strstr(ctx, "3100886652"));
	assert_true(g_utf8_validate(ctx, -1, NULL));
	assert_null(strchr(ctx, '\n'));
	assert_null(strchr(ctx, '\r'));
	assert_non_null(strstr(ctx, "： 3100886652 ，"));   /* each line break one space */
	assert_true(strlen(ctx) <= 2 * EXTRACT_CONTEXT_BYTES + strlen("3100886652"));
	assert_true(strlen(ctx) >= 2 * (EXTRACT_CONTEXT_BYTES - 3));
	extract_result_free(r);
	g_string_free(g, TRUE);

	r = test_scan("姓名：张三");
	assert_string_equal(test_context(r->names, 0), "姓名：张三");
	extract_result_free(r);
}

/* ---- hostile input ---- */

static bool test_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* 10 MB of digits, labels and separators at random. */
static GString *test_random_text(size_t size)
{
	static const char *const pieces[] = {
		"资金账号：", "账号", "电话", "身份证号", "、", "和", " ", "-", "，", "元", "@", "a", "TS",
		"本人", "姓名：", "张三", "X", "\n", "(", ")", "+86", "此致", "Regards,\n", "日期", "０",
		"－", "．", "＠", ".com", "订单号", "\xff", "Name: ", "Li ",
	};
	GRand *rand = g_rand_new_with_seed(20261123);
	GString *g = g_string_sized_new(size + 64);

	while (g->len < size) {
		if (g_rand_int_range(rand, 0, 3) == 0) {
			g_string_append(g, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
			continue;
		}
		for (int n = g_rand_int_range(rand, 1, 21); n > 0; n--)
			g_string_append_c(g, (char)('0' + g_rand_int_range(rand, 0, 10)));
	}
	g_rand_free(rand);
	return g;
}

/* Scans g and fails if it takes longer than the budget: 1 s for 10 MB, or
   4 s for 4 MB under sanitizers, where a quadratic scan (memmem in a loop,
   say) still takes minutes. Not timed under valgrind. */
static struct extract_result *test_timed_scan(const GString *g, const char *what)
{
	double budget = TEST_SANITIZED ? 4.0 : 1.0;
	struct extract_result *r = extract_result_new();
	gint64 t0 = g_get_monotonic_time();

	extract_text_into(r, NULL, g->str, g->len);
	double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
	print_message("# %s: %zu bytes in %.3f s\n", what, g->len, secs);
	if (!test_under_valgrind() && secs > budget) {
		extract_result_free(r);
		fail_msg("%s: %zu bytes took %.3f s (budget %.1f s)", what, g->len, secs, budget);
	}
	return r;
}

static void test_linear_time(void **state)
{
	(void)state;
	size_t size = test_under_valgrind() ? (1u << 20) : TEST_SANITIZED ? (4u << 20) : (10u << 20);
	GString *g = test_random_text(size);
	struct extract_result *r = test_timed_scan(g, "random digits and labels");

	assert_true(r->accounts->len > 0 && r->accounts->len <= EXTRACT_MAX_VALUES);
	assert_true(r->phones->len > 0 && r->phones->len <= EXTRACT_MAX_VALUES);
	assert_true(r->names->len <= EXTRACT_MAX_VALUES && r->emails->len <= EXTRACT_MAX_VALUES);
	for (guint i = 0; i < r->accounts->len; i++)
		assert_true(g_utf8_validate(test_context(r->accounts, i), -1, NULL));
	extract_result_free(r);

	/* Shapes that would be quadratic for a backtracking matcher. */
	static const char *const shapes[] = {
		"1 ", "1-", "a@", "账号：1", "本人", "TS2026", "(0", "此致", "1.", "资金账号：123456、",
		"+86 ", "．＠", "账号账号", "Regards,\nA ", "账号 123456789 1 ",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
		g_string_truncate(g, 0);
		while (g->len < size)
			g_string_append(g, shapes[i]);
		char what[32];
		snprintf(what, sizeof(what), "repeated shape %zu", i);
		r = test_timed_scan(g, what);
		assert_true(r->accounts->len <= 1);
		extract_result_free(r);
	}
	g_string_free(g, TRUE);
}

static void test_invalid_utf8_and_nul(void **state)
{
	(void)state;
	static const char t[] = "投诉人：张三\0身份证号：11010519491231002X\xff\xfe"
				"资金账号：\xc3" "3100886652\x80，手机\xe6\x8a"
				"138\0" "0013 8000 邮箱 a\xff" "b@example.com\xf0\x9f";
	struct extract_result *r = extract_result_new();

	extract_text_into(r, NULL, t, sizeof(t) - 1);
	test_expect("hostile", "names", r->names, "张三", NULL);
	test_expect("hostile", "ids", r->id_numbers, "11010519491231002X", NULL);
	test_expect("hostile", "accounts", r->accounts, "3100886652", NULL);
	test_expect("hostile", "phones", r->phones, "13800138000", NULL);
	test_expect("hostile", "emails", r->emails, "ab@example.com", NULL);
	GPtrArray *lists[] = { r->names, r->id_numbers, r->accounts, r->phones, r->emails };
	for (size_t k = 0; k < G_N_ELEMENTS(lists); k++)
		for (guint i = 0; i < lists[k]->len; i++)
			assert_true(g_utf8_validate(test_context(lists[k], i), -1, NULL));
	extract_result_free(r);
}

static void test_empty_and_null(void **state)
{
	(void)state;
	struct extract_result *r = extract_result_new();

	extract_text_into(r, NULL, NULL, 0);
	extract_text_into(r, NULL, "", 0);
	extract_text_into(r, NULL, "\0\0\0", 3);
	extract_text_into(r, NULL, "\xff\xfe\xfd", 3);
	extract_text_into(NULL, NULL, "资金账号：3100886652", 10);
	assert_int_equal(r->accounts->len + r->phones->len + r->names->len + r->emails->len, 0);
	extract_result_free(r);
	extract_result_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_fullwidth_among_decoys),
		cmocka_unit_test(test_account_labels_and_fillers),
		cmocka_unit_test(test_account_lists),
		cmocka_unit_test(test_account_list_stops_at_words),
		cmocka_unit_test(test_account_decoys),
		cmocka_unit_test(test_account_phone_and_id_decoys),
		cmocka_unit_test(test_account_digit_limits),
		cmocka_unit_test(test_account_split_by_ocr),
		cmocka_unit_test(test_account_split_limits),
		cmocka_unit_test(test_account_custom_labels),
		cmocka_unit_test(test_id_check_digits),
		cmocka_unit_test(test_id_birth_dates_and_shape),
		cmocka_unit_test(test_id_in_text),
		cmocka_unit_test(test_credit_codes),
		cmocka_unit_test(test_phones_mobile_forms),
		cmocka_unit_test(test_phones_landline_and_service),
		cmocka_unit_test(test_phones_not),
		cmocka_unit_test(test_phones_not_taken_account),
		cmocka_unit_test(test_emails),
		cmocka_unit_test(test_names_after_labels),
		cmocka_unit_test(test_names_rejected),
		cmocka_unit_test(test_names_signatures),
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_context_window),
		cmocka_unit_test(test_linear_time),
		cmocka_unit_test(test_invalid_utf8_and_nul),
		cmocka_unit_test(test_empty_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
