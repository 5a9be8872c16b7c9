/* Field extraction from complaint text: account numbers after their labels,
   resident ID numbers, unified social credit codes, phones, e-mail
   addresses, names and complaint references, each with its context.
   SECURITY: the text is hostile. It is first copied with invalid UTF-8
   dropped and NUL bytes turned into spaces, so that every later step reads
   valid UTF-8 and stops at the length, never at a NUL. No regular
   expressions: each scanner walks the text forward once, and every
   look-behind or look-ahead is bounded by a constant, so the time is linear
   in the length. Each list stops growing at EXTRACT_MAX_VALUES. */
#include "parsers/extract.h"

#include <stdlib.h>
#include <string.h>

#define EXTRACT_NONE ((size_t)-1)
/* Digits kept of one number; longer numbers are counted but not kept (no
   kind of value is that long). */
#define EXTRACT_NUM_KEEP 64
/* Groups recorded of one number ("138 0013 8000" has three). */
#define EXTRACT_NUM_GROUPS 8
/* Groups of digits are joined across a space or hyphen only when both sides
   are at most this long: "310 088 6652" is one account, "3100886652
   3100886653" two. */
#define EXTRACT_JOIN_MAX 8
/* Steps of filler (spaces, "：", "为", "No." ...) between a label and its value. */
#define EXTRACT_FILLER_STEPS 8
/* Bytes that may separate two accounts of one list ("、", " 和 "). */
#define EXTRACT_GAP_MAX 16
#define EXTRACT_EMAIL_LOCAL_MAX 64
#define EXTRACT_EMAIL_DOMAIN_MAX 253
/* Signatures are looked for in this many bytes at the end of a text. */
#define EXTRACT_TAIL_BYTES 600
#define EXTRACT_LATIN_WORD_MAX 30

/* What a label says the number after it is. */
enum extract_kind {
	EXTRACT_KIND_NONE,
	EXTRACT_KIND_ACCOUNT,
	EXTRACT_KIND_PHONE,
	EXTRACT_KIND_ID,
	EXTRACT_KIND_AMOUNT,
	EXTRACT_KIND_DATE,
	EXTRACT_KIND_ORDER,
	EXTRACT_KIND_CREDIT,
};

/* A word to look for (a label, a filler, a unit); its first and last
   characters (folded, lower-case) let most places be rejected at once. */
struct extract_label {
	const char *text;
	size_t len;
	gunichar first, last;
	bool bytes;               /* no ASCII or full-width form: compare bytes */
	enum extract_kind kind;
};

/* One pass over one cleaned text. */
struct extract_scan {
	const char *t;            /* valid UTF-8 without NUL */
	size_t n;
	struct extract_result *r;
	unsigned min_digits, max_digits;
	const char *prefix;
	GArray *labels;           /* struct extract_label: accounts and decoys */
	GArray *fillers, *units, *list_words;
};

/* One run of digits, possibly in groups ("138-0013-8000", "(021)1234 5678"). */
struct extract_num {
	size_t start, end;
	char digits[EXTRACT_NUM_KEEP + 2];  /* the first digits, then X for an ID */
	size_t ndigits;                      /* all digits, X not counted */
	unsigned ngroups;
	unsigned glen[EXTRACT_NUM_GROUPS];
	char sep[EXTRACT_NUM_GROUPS];        /* after group i: ' ', '-' or ')' */
	bool x, plus, paren, glued_before, glued_after;
};

static const char *const extract_default_account_labels[] = {
	"资金账号", "资金帐号", "资产账号", "资产帐号", "客户号", "客户账号", "客户帐号",
	"证券账户", "证券账号", "期货账户", "期货账号", "资金账户", "账户", "帐户", "账号", "帐号",
	/* the same in traditional characters (Hong Kong, Taiwan, Macau) */
	"資金帳號", "資金賬號", "資產帳號", "資產賬號", "客戶號", "客戶帳號", "證券帳戶", "證券帳號",
	"期貨帳戶", "期貨帳號", "資金帳戶", "帳戶", "賬戶", "帳號", "賬號",
	"account no", "account number", "a/c", NULL };

/* Labels of numbers that are not accounts, so that "订单号20260301123456" or
   "联系电话" stop the look-behind with the right answer. */
static const struct {
	const char *text;
	enum extract_kind kind;
} extract_decoy_labels[] = {
	{ "电话", EXTRACT_KIND_PHONE }, { "手机", EXTRACT_KIND_PHONE }, { "传真", EXTRACT_KIND_PHONE },
	{ "热线", EXTRACT_KIND_PHONE }, { "tel", EXTRACT_KIND_PHONE }, { "phone", EXTRACT_KIND_PHONE },
	{ "mobile", EXTRACT_KIND_PHONE }, { "fax", EXTRACT_KIND_PHONE },
	{ "身份证", EXTRACT_KIND_ID }, { "身份", EXTRACT_KIND_ID }, { "证件", EXTRACT_KIND_ID },
	{ "金额", EXTRACT_KIND_AMOUNT }, { "额", EXTRACT_KIND_AMOUNT }, { "人民币", EXTRACT_KIND_AMOUNT },
	{ "损失", EXTRACT_KIND_AMOUNT }, { "共计", EXTRACT_KIND_AMOUNT }, { "合计", EXTRACT_KIND_AMOUNT },
	{ "¥", EXTRACT_KIND_AMOUNT }, { "￥", EXTRACT_KIND_AMOUNT }, { "$", EXTRACT_KIND_AMOUNT },
	{ "rmb", EXTRACT_KIND_AMOUNT }, { "cny", EXTRACT_KIND_AMOUNT },
	{ "日期", EXTRACT_KIND_DATE }, { "时间", EXTRACT_KIND_DATE }, { "date", EXTRACT_KIND_DATE },
	{ "订单", EXTRACT_KIND_ORDER }, { "委托", EXTRACT_KIND_ORDER }, { "合同", EXTRACT_KIND_ORDER },
	{ "成交", EXTRACT_KIND_ORDER }, { "编号", EXTRACT_KIND_ORDER }, { "单号", EXTRACT_KIND_ORDER },
	{ "流水", EXTRACT_KIND_ORDER }, { "工单", EXTRACT_KIND_ORDER }, { "order", EXTRACT_KIND_ORDER },
	{ "信用代码", EXTRACT_KIND_CREDIT }, { "代码", EXTRACT_KIND_CREDIT },
};

/* What may stand between a label and its number; tried after the labels, so
   "订单号" is an order label before "号" is filler. */
static const char *const extract_filler_words[] = {
	"号码", "号", "分别", "如下", "为", "是", "號碼", "號", "為", "no", "number", NULL };

/* Words after a number that make it an amount. */
static const char *const extract_amount_units[] = {
	"元", "万", "块", "圆", "亿", "角", "%", "rmb", "yuan", "cny", "usd", "hkd",
	"美元", "港元", "港币", NULL };

static const char *const extract_list_words[] = {
	"、", ",", ";", "/", "&", "和", "及", "与", "或", "以及", "and", "or", NULL };

/* ---- results ---- */

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

/* ---- characters ---- */

/* Full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space read as
   ASCII: complainants type ３１０ and ＠ as often as 310 and @. */
static gunichar extract_fold(gunichar c)
{
	if (c >= 0xFF01 && c <= 0xFF5E)
		return c - 0xFF01 + 0x21;
	if (c == 0x3000)
		return ' ';
	return c;
}

static gunichar extract_lower(gunichar c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool extract_is_digit(gunichar c)
{
	return c >= '0' && c <= '9';
}

static bool extract_is_ascii_alpha(gunichar c)
{
	return c < 0x80 && g_ascii_isalpha((gchar)c);
}

static bool extract_is_ascii_alnum(gunichar c)
{
	return c < 0x80 && g_ascii_isalnum((gchar)c);
}

static bool extract_is_han(gunichar c)
{
	if (c >= 0x4E00 && c <= 0x9FFF)   /* the common block, without a table look-up */
		return true;
	return c >= 0x2E80 && g_unichar_get_script(c) == G_UNICODE_SCRIPT_HAN &&
	       g_unichar_type(c) == G_UNICODE_OTHER_LETTER;
}

/* True if the non-ASCII character c is one of the UTF-8 string set. */
static bool extract_in_chars(const char *set, gunichar c)
{
	char buf[8];
	int n = g_unichar_to_utf8(c, buf);

	buf[n] = '\0';
	return c >= 0x80 && strstr(set, buf) != NULL;
}

static bool extract_is_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* Decodes the character at p, which is valid UTF-8 (the text was cleaned),
   into *c; returns its length. */
static size_t extract_decode(const char *p, gunichar *c)
{
	const unsigned char *u = (const unsigned char *)p;

	if (u[0] < 0x80) {
		*c = u[0];
		return 1;
	}
	if (u[0] < 0xE0) {
		*c = ((gunichar)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
		return 2;
	}
	if (u[0] < 0xF0) {
		*c = ((gunichar)(u[0] & 0x0F) << 12) | ((gunichar)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
		return 3;
	}
	*c = ((gunichar)(u[0] & 0x07) << 18) | ((gunichar)(u[1] & 0x3F) << 12) |
	     ((gunichar)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
	return 4;
}

/* The folded character at pos; returns the position after it, or s->n (and
   c = 0) at the end. */
static size_t extract_get(const struct extract_scan *s, size_t pos, gunichar *c)
{
	if (pos >= s->n) {
		*c = 0;
		return s->n;
	}
	size_t len = extract_decode(s->t + pos, c);
	*c = extract_fold(*c);
	return pos + len;
}

/* The folded character before pos; returns its position, or EXTRACT_NONE
   (and c = 0) at the start. */
static size_t extract_back(const struct extract_scan *s, size_t pos, gunichar *c)
{
	if (pos == 0 || pos == EXTRACT_NONE) {
		*c = 0;
		return EXTRACT_NONE;
	}
	size_t q = pos - 1;
	if ((unsigned char)s->t[q] < 0x80) {
		*c = (gunichar)s->t[q];
		return q;
	}
	while (q > 0 && extract_is_cont(s->t[q]))
		q--;
	extract_decode(s->t + q, c);
	*c = extract_fold(*c);
	return q;
}

/* If the text at pos starts with word (folded, ASCII case ignored), returns
   the position after it, else EXTRACT_NONE. Words starting with an ASCII
   letter must not continue a word of the text. */
static size_t extract_starts_with(const struct extract_scan *s, size_t pos, const char *word)
{
	size_t p = pos;
	/* Most calls fail on the first byte, decided without decoding: only
	   characters led by 0xE3 (U+3000) or 0xEF (full-width forms) fold into
	   others, and only ASCII letters match in either case. */
	unsigned char b = pos < s->n ? (unsigned char)s->t[pos] : 0, w0 = (unsigned char)word[0];
	if (b < 0x80 && w0 < 0x80) {
		if (g_ascii_tolower(b) != g_ascii_tolower(w0))
			return EXTRACT_NONE;
	} else if (b != w0 && b != 0xE3 && b != 0xEF && w0 != 0xE3 && w0 != 0xEF) {
		return EXTRACT_NONE;
	}
	for (const char *w = word; *w != '\0'; w = g_utf8_next_char(w)) {
		gunichar c;
		if (p >= s->n)
			return EXTRACT_NONE;
		p = extract_get(s, p, &c);
		if (extract_lower(c) != extract_lower(extract_fold(g_utf8_get_char(w))))
			return EXTRACT_NONE;
	}
	gunichar before;
	if (extract_is_ascii_alpha((gunichar)word[0]) && extract_back(s, pos, &before) != EXTRACT_NONE &&
	    extract_is_ascii_alpha(before))
		return EXTRACT_NONE;
	return p;
}

/* If the text before pos ends with word (len bytes), returns where the word
   starts, else EXTRACT_NONE. Same rules as extract_starts_with. */
static size_t extract_ends_with(const struct extract_scan *s, size_t pos, const char *word, size_t len)
{
	const char *w = word + len;
	size_t p = pos;
	while (w > word) {
		gunichar c;
		w = g_utf8_prev_char(w);
		p = extract_back(s, p, &c);
		if (p == EXTRACT_NONE ||
		    extract_lower(c) != extract_lower(extract_fold(g_utf8_get_char(w))))
			return EXTRACT_NONE;
	}
	gunichar before;
	if (extract_is_ascii_alpha((gunichar)word[0]) && extract_back(s, p, &before) != EXTRACT_NONE &&
	    extract_is_ascii_alpha(before))
		return EXTRACT_NONE;
	return p;
}

/* Copies the text with invalid UTF-8 dropped and NUL bytes as spaces, so that
   a NUL cannot end a later string early nor join two numbers. */
static GString *extract_clean(const char *text, size_t len)
{
	GString *g = g_string_sized_new(len);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *bad = end;
		g_utf8_validate_len(p, (gsize)(end - p), &bad);
		g_string_append_len(g, p, bad - p);
		if (bad >= end)
			break;
		if (*bad == '\0')
			g_string_append_c(g, ' ');
		p = bad + 1;
	}
	return g;
}

/* ---- values ---- */

/* Appends the character at t[*i] to g, line breaks and controls as one
   space; advances *i past what it consumed. */
static void extract_context_char(GString *g, const char *t, size_t to, size_t *i)
{
	unsigned char ch = (unsigned char)t[*i];

	if (ch == '\r' && *i + 1 < to && t[*i + 1] == '\n')
		(*i)++;
	if (ch < 0x20 || ch == 0x7F) {
		g_string_append_c(g, ' ');
	} else if (ch == 0xE2 && *i + 2 < to && t[*i + 1] == '\x80' &&
		   (t[*i + 2] == '\xA8' || t[*i + 2] == '\xA9')) {
		g_string_append_c(g, ' ');   /* U+2028, U+2029 */
		*i += 2;
	} else if (ch == 0xC2 && *i + 1 < to && t[*i + 1] == '\x85') {
		g_string_append_c(g, ' ');   /* U+0085 */
		(*i)++;
	} else {
		g_string_append_c(g, (char)ch);
	}
	(*i)++;
}

/* The value at [start, end) with up to EXTRACT_CONTEXT_BYTES of whole
   characters on each side. Returns a new string. */
static char *extract_context(const struct extract_scan *s, size_t start, size_t end)
{
	size_t from = start > EXTRACT_CONTEXT_BYTES ? start - EXTRACT_CONTEXT_BYTES : 0;
	size_t to = s->n - end > EXTRACT_CONTEXT_BYTES ? end + EXTRACT_CONTEXT_BYTES : s->n;

	while (from < start && extract_is_cont(s->t[from]))
		from++;
	while (to > end && to < s->n && extract_is_cont(s->t[to]))
		to--;
	GString *g = g_string_sized_new(to - from + 1);
	for (size_t i = from; i < to;)
		extract_context_char(g, s->t, to, &i);
	return g_string_free(g, FALSE);
}

static bool extract_list_has(const GPtrArray *list, const char *value)
{
	for (guint i = 0; i < list->len; i++)
		if (strcmp(((const struct extract_value *)list->pdata[i])->value, value) == 0)
			return true;
	return false;
}

/* Adds a copy of value, found at [start, end), unless the list is full or
   holds it already. The fullness test comes first so that a hostile text
   with endless values costs no comparisons once the list is full. */
static bool extract_add(const struct extract_scan *s, GPtrArray *list, const char *value,
			size_t start, size_t end)
{
	if (list->len >= EXTRACT_MAX_VALUES || extract_list_has(list, value))
		return false;
	struct extract_value *v = g_new0(struct extract_value, 1);
	v->value = g_strdup(value);
	v->context = extract_context(s, start, end);
	g_ptr_array_add(list, v);
	return true;
}

/* ---- check characters ---- */

/* True if the digits are a real date: yyyymmdd (ydigits 4) or yymmdd in
   the 1900s (ydigits 2), the year within 1900..2100. */
static bool extract_date_ok(const char *d, int ydigits)
{
	int y = 0, m, day;

	for (int i = 0; i < ydigits + 4; i++)
		if (!g_ascii_isdigit(d[i]))
			return false;
	for (int i = 0; i < ydigits; i++)
		y = y * 10 + (d[i] - '0');
	if (ydigits == 2)
		y += 1900;
	m = (d[ydigits] - '0') * 10 + (d[ydigits + 1] - '0');
	day = (d[ydigits + 2] - '0') * 10 + (d[ydigits + 3] - '0');
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || day < 1)
		return false;
	return g_date_valid_dmy((GDateDay)day, (GDateMonth)m, (GDateYear)y);
}

bool extract_id_number_valid(const char *id)
{
	static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char checks[] = "10X98765432";
	int sum = 0;

	if (id == NULL || strnlen(id, 19) != 18 || id[0] == '0')
		return false;
	for (int i = 0; i < 17; i++) {
		if (!g_ascii_isdigit(id[i]))
			return false;
		sum += (id[i] - '0') * weights[i];
	}
	if (g_ascii_toupper(id[17]) != checks[sum % 11])
		return false;
	return extract_date_ok(id + 6, 4);
}

/* A 15-digit resident ID of before 1999: area, yymmdd of the 1900s, sequence. */
static bool extract_id15_valid(const char *id)
{
	if (strnlen(id, 16) != 15 || id[0] == '0')
		return false;
	for (int i = 0; i < 15; i++)
		if (!g_ascii_isdigit(id[i]))
			return false;
	return extract_date_ok(id + 6, 2);
}

/* The value of one character of a credit code, or -1 (GB 32100 leaves out
   I, O, Z, S and V). */
static int extract_credit_value(char c)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

bool extract_credit_code_valid(const char *code)
{
	static const int weights[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 };
	int sum = 0;

	if (code == NULL || strnlen(code, 19) != 18)
		return false;
	for (int i = 0; i < 17; i++) {
		int v = extract_credit_value(code[i]);
		if (v < 0)
			return false;
		sum += v * weights[i];
	}
	return extract_credit_value(code[17]) == (31 - sum % 31) % 31;
}

/* ---- labels ---- */

static void extract_label_push(GArray *labels, const char *text, enum extract_kind kind)
{
	size_t len = strlen(text);

	if (len == 0 || !g_utf8_validate(text, (gssize)len, NULL))
		return;
	struct extract_label l = { .text = text, .len = len, .kind = kind };
	l.first = extract_lower(extract_fold(g_utf8_get_char(text)));
	l.last = extract_lower(extract_fold(g_utf8_get_char(g_utf8_prev_char(text + len))));
	l.bytes = true;
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		l.bytes = l.bytes && c >= 0x80 && extract_fold(c) == c;
	}
	g_array_append_val(labels, l);
}

/* Where w ends before pos starts, or EXTRACT_NONE. */
static size_t extract_label_ends(const struct extract_scan *s, size_t pos, const struct extract_label *w)
{
	/* A match of valid UTF-8 that starts with a lead byte starts a character. */
	if (w->bytes)
		return pos >= w->len && memcmp(s->t + pos - w->len, w->text, w->len) == 0 ?
		       pos - w->len : EXTRACT_NONE;
	return extract_ends_with(s, pos, w->text, w->len);
}

/* Where w ends if it starts at pos, or EXTRACT_NONE. */
static size_t extract_label_starts(const struct extract_scan *s, size_t pos, const struct extract_label *w)
{
	if (w->bytes)
		return s->n - pos >= w->len && memcmp(s->t + pos, w->text, w->len) == 0 ?
		       pos + w->len : EXTRACT_NONE;
	return extract_starts_with(s, pos, w->text);
}

static GArray *extract_words_new(const char *const *words)
{
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct extract_label));

	for (size_t i = 0; words[i] != NULL; i++)
		extract_label_push(a, words[i], EXTRACT_KIND_NONE);
	return a;
}

/* The end of the first of words that starts at pos, or EXTRACT_NONE. */
static size_t extract_word_at(const struct extract_scan *s, size_t pos, const GArray *words)
{
	gunichar c;

	if (pos >= s->n)
		return EXTRACT_NONE;
	extract_get(s, pos, &c);
	c = extract_lower(c);
	for (guint i = 0; i < words->len; i++) {
		const struct extract_label *w = &g_array_index(words, struct extract_label, i);
		size_t end = w->first == c ? extract_label_starts(s, pos, w) : EXTRACT_NONE;
		if (end != EXTRACT_NONE)
			return end;
	}
	return EXTRACT_NONE;
}

static GArray *extract_labels_new(const struct extract_settings *set)
{
	const char *const *acc = set != NULL && set->account_labels != NULL ?
				 set->account_labels : extract_default_account_labels;
	GArray *labels = g_array_new(FALSE, FALSE, sizeof(struct extract_label));

	for (size_t i = 0; acc[i] != NULL; i++)
		extract_label_push(labels, acc[i], EXTRACT_KIND_ACCOUNT);
	for (size_t i = 0; i < G_N_ELEMENTS(extract_decoy_labels); i++)
		extract_label_push(labels, extract_decoy_labels[i].text, extract_decoy_labels[i].kind);
	return labels;
}

/* The kind of the longest label that ends at pos, or EXTRACT_KIND_NONE. */
static enum extract_kind extract_label_at(const struct extract_scan *s, size_t pos)
{
	enum extract_kind kind = EXTRACT_KIND_NONE;
	size_t best = 0;
	gunichar c;

	if (extract_back(s, pos, &c) == EXTRACT_NONE)
		return kind;
	c = extract_lower(c);
	for (guint i = 0; i < s->labels->len; i++) {
		const struct extract_label *l = &g_array_index(s->labels, struct extract_label, i);
		if (l->last != c || l->len <= best)
			continue;
		if (extract_label_ends(s, pos, l) != EXTRACT_NONE) {
			best = l->len;
			kind = l->kind;
		}
	}
	return kind;
}

/* Where the filler that ends at pos starts, or EXTRACT_NONE if none does. */
static size_t extract_filler_back(const struct extract_scan *s, size_t pos)
{
	gunichar c;
	size_t q = extract_back(s, pos, &c);

	if (q == EXTRACT_NONE)
		return q;
	if (c != 0 && c < 0x80 && strchr(" \t\r\n:#.=", (int)c) != NULL)
		return q;
	c = extract_lower(c);
	for (guint i = 0; i < s->fillers->len; i++) {
		const struct extract_label *w = &g_array_index(s->fillers, struct extract_label, i);
		size_t start = w->last == c ? extract_label_ends(s, pos, w) : EXTRACT_NONE;
		if (start != EXTRACT_NONE)
			return start;
	}
	return EXTRACT_NONE;
}

/* What the label before pos (across a bounded amount of filler) says. */
static enum extract_kind extract_label_before(const struct extract_scan *s, size_t pos)
{
	for (int step = 0; step < EXTRACT_FILLER_STEPS && pos != EXTRACT_NONE && pos > 0; step++) {
		enum extract_kind kind = extract_label_at(s, pos);
		if (kind != EXTRACT_KIND_NONE)
			return kind;
		pos = extract_filler_back(s, pos);
	}
	return EXTRACT_KIND_NONE;
}

/* ---- numbers ---- */

/* Length of the run of digits at pos, counting no further than limit. */
static unsigned extract_run_len(const struct extract_scan *s, size_t pos, unsigned limit)
{
	unsigned len = 0;
	gunichar c;

	while (len < limit && pos < s->n) {
		pos = extract_get(s, pos, &c);
		if (!extract_is_digit(c))
			break;
		len++;
	}
	return len;
}

/* Reads one group of digits at pos into num; returns the position after it
   and its length in *len. */
static size_t extract_num_group(const struct extract_scan *s, size_t pos, struct extract_num *num,
				unsigned *len)
{
	gunichar c;

	*len = 0;
	while (pos < s->n) {
		size_t next = extract_get(s, pos, &c);
		if (!extract_is_digit(c))
			break;
		if (num->ndigits < EXTRACT_NUM_KEEP)
			num->digits[num->ndigits] = (char)c;
		num->ndigits++;
		(*len)++;
		pos = next;
	}
	if (num->ngroups < EXTRACT_NUM_GROUPS)
		num->glen[num->ngroups] = *len;
	num->ngroups++;
	return pos;
}

static bool extract_is_dash(gunichar c)
{
	return c == '-' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212;
}

/* If a separator at pos joins the group just read (len digits) to another,
   returns the position of the next group and sets *sep; else EXTRACT_NONE. */
static size_t extract_num_sep(const struct extract_scan *s, size_t pos, const struct extract_num *num,
			      unsigned len, char *sep)
{
	gunichar c;
	size_t q = extract_get(s, pos, &c);
	unsigned next;

	if ((c == ' ' || extract_is_dash(c)) && len <= EXTRACT_JOIN_MAX) {
		next = extract_run_len(s, q, EXTRACT_JOIN_MAX + 1);
		*sep = c == ' ' ? ' ' : '-';
		return next >= 1 && next <= EXTRACT_JOIN_MAX ? q : EXTRACT_NONE;
	}
	/* "(021)12345678": an area code in brackets. */
	if (c == ')' && num->paren && num->ngroups == 1 && (len == 3 || len == 4) && num->digits[0] == '0') {
		gunichar d;
		size_t r = extract_get(s, q, &d);
		if (d == ' ')
			q = r;
		*sep = ')';
		next = extract_run_len(s, q, EXTRACT_JOIN_MAX + 1);
		return next >= 1 && next <= EXTRACT_JOIN_MAX ? q : EXTRACT_NONE;
	}
	return EXTRACT_NONE;
}

/* Reads the number that starts at pos (a digit). */
static void extract_num_read(const struct extract_scan *s, size_t pos, struct extract_num *num)
{
	gunichar c;

	memset(num, 0, sizeof(*num));
	num->start = pos;
	extract_back(s, pos, &c);
	num->plus = c == '+';
	num->paren = c == '(';
	num->glued_before = extract_is_ascii_alpha(c) || c == '_' || c == '@';
	for (;;) {
		unsigned len;
		char sep = 0;
		pos = extract_num_group(s, pos, num, &len);
		size_t after = extract_get(s, pos, &c);
		if (num->ngroups == 1 && len == 17 && (c == 'X' || c == 'x')) {
			num->x = true;
			pos = after;
			break;
		}
		size_t next = extract_num_sep(s, pos, num, len, &sep);
		if (next == EXTRACT_NONE)
			break;
		if (num->ngroups <= EXTRACT_NUM_GROUPS)
			num->sep[num->ngroups - 1] = sep;
		pos = next;
	}
	size_t kept = MIN(num->ndigits, (size_t)EXTRACT_NUM_KEEP);
	if (num->x)
		num->digits[kept++] = 'X';
	num->digits[kept] = '\0';
	num->end = pos;
	extract_get(s, pos, &c);
	num->glued_after = extract_is_ascii_alnum(c) || c == '_' || c == '@';
}

static bool extract_num_has_sep(const struct extract_num *num, char sep)
{
	for (unsigned i = 0; i + 1 < num->ngroups && i < EXTRACT_NUM_GROUPS; i++)
		if (num->sep[i] == sep)
			return true;
	return false;
}

/* "2026-03-01", "2026-3-1". */
static bool extract_num_is_date(const struct extract_num *num)
{
	if (num->ngroups != 3 || num->glen[0] != 4 || num->glen[1] > 2 || num->glen[2] > 2)
		return false;
	char d[9];
	memcpy(d, num->digits, 4);
	d[4] = num->glen[1] == 2 ? num->digits[4] : '0';
	d[5] = num->digits[4 + num->glen[1] - 1];
	d[6] = num->glen[2] == 2 ? num->digits[4 + num->glen[1]] : '0';
	d[7] = num->digits[num->ndigits - 1];
	d[8] = '\0';
	return extract_date_ok(d, 4);
}

static bool extract_is_mobile(const char *d, size_t n)
{
	return n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

/* True if the number ending at pos is followed by a unit of money:
   "120000元", "12000.50 万元", "3000 RMB". */
static bool extract_amount_after(const struct extract_scan *s, size_t pos)
{
	gunichar c;
	size_t q = extract_get(s, pos, &c);

	if (c == '.' && extract_run_len(s, q, 1) == 1) {
		pos = q;
		for (int i = 0; i < 12; i++) {
			q = extract_get(s, pos, &c);
			if (!extract_is_digit(c))
				break;
			pos = q;
		}
	}
	for (int i = 0; i < 3; i++) {
		q = extract_get(s, pos, &c);
		if (c != ' ')
			break;
		pos = q;
	}
	return extract_word_at(s, pos, s->units) != EXTRACT_NONE;
}

/* Characters that make a number right after an account make it a count, a
   date or a time ("2 笔", "3月", "10时"), not the rest of the account. */
static const char extract_count_chars[] = "年月日时点分秒号个次笔股手张份";

/* If a space or dash at num->end is followed by digits, returns where they
   start, else EXTRACT_NONE. */
static size_t extract_num_split_at(const struct extract_scan *s, const struct extract_num *num)
{
	gunichar c;
	size_t q = extract_get(s, num->end, &c);

	if (num->glued_after || num->x || (c != ' ' && !extract_is_dash(c)))
		return EXTRACT_NONE;
	return extract_run_len(s, q, 1) == 1 ? q : EXTRACT_NONE;
}

/* True if what follows a number ending at pos makes it a value of its own:
   a letter or digit, a decimal or date separator before a digit ("2.5",
   "3-1", "10:30"), a count or date word, a unit of money. */
static bool extract_fragment_ends_badly(const struct extract_scan *s, size_t pos)
{
	gunichar c, d;
	size_t q = extract_get(s, pos, &c);

	if (extract_is_ascii_alnum(c) || c == '_' || c == '@')
		return true;
	extract_get(s, q, &d);
	if ((c == '.' || c == '/' || c == ':' || extract_is_dash(c)) && extract_is_digit(d))
		return true;
	for (int i = 0; i < 3 && c == ' '; i++)
		q = extract_get(s, q, &c);
	if (extract_in_chars(extract_count_chars, c))
		return true;
	return extract_amount_after(s, pos);
}

/* OCR splits a long number with a blank ("31460423881 8"): after an account
   label, num is joined with the digits after one space or dash at its end
   when one of the two is too short to be an account by itself and together
   they fit the account length. Two accounts of full length stay two. */
static void extract_num_mend(const struct extract_scan *s, struct extract_num *num, size_t at)
{
	struct extract_num joined = *num;
	unsigned len;
	gunichar c;

	if (num->ngroups >= EXTRACT_NUM_GROUPS)
		return;
	extract_get(s, num->end, &c);
	joined.sep[num->ngroups - 1] = c == ' ' ? ' ' : '-';
	size_t end = extract_num_group(s, at, &joined, &len);
	if (num->ndigits >= s->min_digits && len >= s->min_digits)
		return;
	if (joined.ndigits < s->min_digits || joined.ndigits > s->max_digits ||
	    extract_fragment_ends_badly(s, end))
		return;
	joined.digits[joined.ndigits] = '\0';
	joined.end = end;
	*num = joined;
}

/* Takes an ID number: 18 characters anywhere, 15 digits after an ID label.
   Returns true if num is one (valid or not, it is then nothing else). */
static bool extract_num_id(const struct extract_scan *s, const struct extract_num *num,
			   enum extract_kind kind)
{
	if (num->ngroups != 1 || num->glued_after)
		return false;
	if ((num->ndigits == 18 && !num->x) || (num->ndigits == 17 && num->x)) {
		if (!extract_id_number_valid(num->digits))
			return false;
		extract_add(s, s->r->id_numbers, num->digits, num->start, num->end);
		return true;
	}
	if (num->ndigits == 15 && !num->x && kind == EXTRACT_KIND_ID && extract_id15_valid(num->digits)) {
		extract_add(s, s->r->id_numbers, num->digits, num->start, num->end);
		return true;
	}
	return false;
}

/* Takes num as an account unless it is an amount, a date, a mobile number
   or out of length. Returns true if it is one. */
static bool extract_num_account(const struct extract_scan *s, const struct extract_num *num)
{
	if (num->glued_after || num->x || num->ngroups > EXTRACT_NUM_GROUPS)
		return false;
	if (num->ndigits < s->min_digits || num->ndigits > s->max_digits)
		return false;
	if (extract_num_has_sep(num, ')') || extract_num_is_date(num) ||
	    extract_is_mobile(num->digits, num->ndigits) || extract_amount_after(s, num->end))
		return false;
	extract_add(s, s->r->accounts, num->digits, num->start, num->end);
	return true;
}

/* Digits of an international prefix (+86, 0086) at the start of num, and the
   index of the first group after it. */
static size_t extract_phone_prefix(const struct extract_num *num, unsigned *group)
{
	*group = 0;
	if (num->ngroups >= 2 && num->glen[0] == 2 && num->plus && strncmp(num->digits, "86", 2) == 0) {
		*group = 1;
		return 2;
	}
	if (num->ngroups >= 2 && num->glen[0] == 4 && strncmp(num->digits, "0086", 4) == 0) {
		*group = 1;
		return 4;
	}
	if (num->ngroups == 1 && num->ndigits == 13 && num->plus && strncmp(num->digits, "86", 2) == 0)
		return 2;
	if (num->ngroups == 1 && num->ndigits == 15 && strncmp(num->digits, "0086", 4) == 0)
		return 4;
	return 0;
}

/* True if d (n digits, in groups groups, the first area digits long) is a
   landline with its area code: 3-digit codes are 010 and 02x, 4-digit ones
   start 03..09. Written without a separator, only after a phone label. */
static bool extract_is_landline(const char *d, size_t n, unsigned groups, unsigned area, bool label)
{
	if (d[0] != '0')
		return false;
	if (groups == 1)
		return label && n >= 10 && n <= 12 && d[1] != '0';
	if (area == 3 && d[1] != '1' && d[1] != '2')
		return false;
	if (area == 4 && (d[1] < '3' || d[1] > '9'))
		return false;
	return (area == 3 || area == 4) && n - area >= 7 && n - area <= 8;
}

static bool extract_phone_taken(const struct extract_scan *s, const char *d)
{
	return extract_list_has(s->r->accounts, d) || extract_list_has(s->r->id_numbers, d);
}

/* Takes num as a phone: a mobile, a landline with area code, a 400/800 number. */
static void extract_num_phone(const struct extract_scan *s, const struct extract_num *num,
			      enum extract_kind kind)
{
	unsigned g0;

	if (kind != EXTRACT_KIND_NONE && kind != EXTRACT_KIND_PHONE && kind != EXTRACT_KIND_ACCOUNT)
		return;
	if (num->glued_after || num->x || num->ngroups > EXTRACT_NUM_GROUPS || num->ndigits > 16 ||
	    (num->glued_before && kind != EXTRACT_KIND_PHONE) || extract_amount_after(s, num->end))
		return;
	size_t skip = extract_phone_prefix(num, &g0);
	const char *d = num->digits + skip;
	size_t n = num->ndigits - skip;
	unsigned groups = num->ngroups - g0;
	if (groups > 3)
		return;
	bool ok = extract_is_mobile(d, n) ||
		  (n == 10 && (strncmp(d, "400", 3) == 0 || strncmp(d, "800", 3) == 0)) ||
		  extract_is_landline(d, n, groups, num->glen[g0], kind == EXTRACT_KIND_PHONE);
	if (ok && !extract_phone_taken(s, d))
		extract_add(s, s->r->phones, d, num->start, num->end);
}

/* Skips spaces from pos, not beyond to. */
static size_t extract_skip_spaces(const struct extract_scan *s, size_t pos, size_t to)
{
	gunichar c;

	while (pos < to) {
		size_t next = extract_get(s, pos, &c);
		if (c != ' ' || next > to)
			break;
		pos = next;
	}
	return pos;
}

/* True if only a list separator lies in [from, to): spaces and at most one
   of 、 , ; / 和 及 与 或 and or. */
static bool extract_list_gap(const struct extract_scan *s, size_t from, size_t to)
{
	if (to - from > EXTRACT_GAP_MAX)
		return false;
	size_t p = extract_skip_spaces(s, from, to);
	size_t q = extract_word_at(s, p, s->list_words);
	if (q != EXTRACT_NONE && q <= to)
		p = q;
	return extract_skip_spaces(s, p, to) == to;
}

/* Decides what one number is. Returns true if it was taken as an account,
   so that another account of the same list may follow it. */
static bool extract_num_classify(const struct extract_scan *s, struct extract_num *num,
				 size_t chain)
{
	size_t split = extract_num_split_at(s, num);
	if (split == EXTRACT_NONE && num->ndigits < MIN(s->min_digits, 10u))
		return false;
	enum extract_kind kind = extract_label_before(s, num->start);
	bool listed = kind == EXTRACT_KIND_NONE && chain != EXTRACT_NONE &&
		      extract_list_gap(s, chain, num->start);
	if (split != EXTRACT_NONE && (kind == EXTRACT_KIND_ACCOUNT || listed))
		extract_num_mend(s, num, split);
	if (num->ndigits < MIN(s->min_digits, 10u) || extract_num_id(s, num, kind))
		return false;
	if ((kind == EXTRACT_KIND_ACCOUNT || listed) && extract_num_account(s, num))
		return true;
	extract_num_phone(s, num, kind);
	return false;
}

static void extract_scan_numbers(const struct extract_scan *s)
{
	size_t pos = 0, chain = EXTRACT_NONE;
	struct extract_num num;

	while (pos < s->n) {
		gunichar c;
		size_t next = extract_get(s, pos, &c);
		if (!extract_is_digit(c)) {
			pos = next;
			continue;
		}
		extract_num_read(s, pos, &num);
		chain = extract_num_classify(s, &num, chain) ? num.end : EXTRACT_NONE;
		pos = num.end;
	}
}

/* ---- credit codes ---- */

/* An 18-character run at start: a credit code if its check is right. One of
   digits only is taken only after a credit label and when it is no ID. */
static void extract_credit_at(const struct extract_scan *s, size_t start)
{
	char code[19];
	bool digits = true;

	memcpy(code, s->t + start, 18);
	code[18] = '\0';
	if (!extract_credit_code_valid(code))
		return;
	for (int i = 0; i < 18; i++)
		digits = digits && g_ascii_isdigit(code[i]);
	if (digits && (extract_id_number_valid(code) ||
		       extract_label_before(s, start) != EXTRACT_KIND_CREDIT))
		return;
	extract_add(s, s->r->credit_codes, code, start, start + 18);
}

static void extract_scan_credit(const struct extract_scan *s)
{
	size_t i = 0;

	while (i < s->n) {
		if (!g_ascii_isalnum(s->t[i])) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < s->n && g_ascii_isalnum(s->t[i]))
			i++;
		if (i - start == 18)
			extract_credit_at(s, start);
	}
}

/* ---- e-mail addresses ---- */

static bool extract_email_local_char(gunichar c)
{
	return extract_is_ascii_alnum(c) || (c != 0 && c < 0x80 && strchr("._%+-", (int)c) != NULL);
}

/* Reads the local part that ends at `at` backwards into buf; returns where
   it starts, or EXTRACT_NONE when there is none or it is too long. */
static size_t extract_email_local(const struct extract_scan *s, size_t at, char *buf)
{
	char rev[EXTRACT_EMAIL_LOCAL_MAX + 1];
	size_t n = 0, p = at, start = at;
	gunichar c;

	while ((p = extract_back(s, p, &c)) != EXTRACT_NONE && extract_email_local_char(c)) {
		if (n == EXTRACT_EMAIL_LOCAL_MAX)
			return EXTRACT_NONE;
		rev[n++] = (char)c;
		start = p;
	}
	/* Punctuation before an address ("-zhang@") belongs to the sentence. */
	while (n > 0 && strchr(".%+-", rev[n - 1]) != NULL) {
		n--;
		start = extract_get(s, start, &c);
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = rev[n - 1 - i];
	buf[n] = '\0';
	if (n == 0 || buf[n - 1] == '.' || strstr(buf, "..") != NULL)
		return EXTRACT_NONE;
	return start;
}

/* True if d is host names joined by dots, ending in a top-level domain of
   letters. */
static bool extract_email_domain_ok(const char *d)
{
	const char *label = d, *last = NULL;

	for (const char *p = d;; p++) {
		if (*p != '.' && *p != '\0')
			continue;
		size_t len = (size_t)(p - label);
		if (len == 0 || len > 63 || label[0] == '-' || p[-1] == '-')
			return false;
		last = label;
		if (*p == '\0')
			break;
		label = p + 1;
	}
	if (last == d || strlen(last) < 2)
		return false;
	for (const char *p = last; *p != '\0'; p++)
		if (!g_ascii_isalpha(*p))
			return false;
	return true;
}

/* Reads the domain at pos into buf (lower-case), without trailing dots or
   hyphens; returns where it ends, or EXTRACT_NONE. */
static size_t extract_email_domain(const struct extract_scan *s, size_t pos, char *buf)
{
	size_t n = 0, good = 0, end = EXTRACT_NONE;
	gunichar c;

	while (pos < s->n) {
		size_t next = extract_get(s, pos, &c);
		if (!extract_is_ascii_alnum(c) && c != '.' && c != '-')
			break;
		if (n == EXTRACT_EMAIL_DOMAIN_MAX)
			return EXTRACT_NONE;
		buf[n++] = (char)g_ascii_tolower((gchar)c);
		pos = next;
		if (extract_is_ascii_alnum(c)) {
			good = n;
			end = pos;
		}
	}
	buf[good] = '\0';
	return good > 0 && extract_email_domain_ok(buf) ? end : EXTRACT_NONE;
}

static void extract_email_at(const struct extract_scan *s, size_t at, size_t after)
{
	char local[EXTRACT_EMAIL_LOCAL_MAX + 1], domain[EXTRACT_EMAIL_DOMAIN_MAX + 1];
	/* The domain first: most stray @ have no dotted name after them. */
	size_t end = extract_email_domain(s, after, domain);

	if (end == EXTRACT_NONE)
		return;
	size_t start = extract_email_local(s, at, local);
	if (start == EXTRACT_NONE)
		return;
	char *v = g_strconcat(local, "@", domain, NULL);
	extract_add(s, s->r->emails, v, start, end);
	g_free(v);
}

static void extract_scan_emails(const struct extract_scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->t[i] == '@')
			extract_email_at(s, i, i + 1);
		else if (s->t[i] == '\xEF' && i + 2 < s->n && s->t[i + 1] == '\xBC' && s->t[i + 2] == '\xA0')
			extract_email_at(s, i, i + 3);   /* U+FF20 ＠ */
	}
}

/* ---- names ---- */

/* Common single-character surnames, without those that more often begin an
   ordinary word after 本人 (于, 和, 向, 时, 常, 曾, 关 ...). */
static const char extract_surnames[] =
	"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭肖田董袁潘蒋蔡余"
	"杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
	"史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申"
	"欧耿兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛翁冉骆蓝游辛靳管柴蒙鲍华"
	"喻祁蒲房滕屈饶牟艾尤阳穆农卓古吉缪简项芦褚娄窦戚岑党费卜冷晏席卫柏瞿桂佟臧闵苟邬"
	"卞姬栾隋刁巫寇桑郎甄丛仲虞敖巩佘邝";

static const char *const extract_compound_surnames[] = {
	"欧阳", "司马", "诸葛", "上官", "东方", "慕容", "令狐", "皇甫", "尉迟", "公孙", "长孙",
	"宇文", "夏侯", "端木", "独孤", "南宫", "西门", "轩辕", "司徒", "司空", NULL };

/* Characters that end a Chinese name: words that follow a name in a sentence
   ("张三于2026年", "张三对", "张三系本公司客户"). */
static const gunichar extract_name_stops[] = {   /* sorted by code point: bsearch */
	U'与', U'为', U'也', U'买', U'了', U'于', U'从', U'再', U'办', U'又', U'及', U'向', U'和', U'因',
	U'在', U'对', U'将', U'就', U'已', U'希', U'开', U'想', U'把', U'投', U'是', U'曾', U'此', U'现',
	U'申', U'的', U'称', U'等', U'系', U'给', U'自', U'被', U'要', U'认', U'让', U'该', U'说', U'请',
	U'购', U'还', U'通', U'都' };

/* Words that are never a name on their own. */
static const char *const extract_name_stoplist[] = {
	"客户", "先生", "女士", "您好", "你好", "公司", "投诉", "本人", "姓名", "小姐", "经理",
	"同志", "老师", "用户", "股民", "投资者", "本公司", "贵公司", "联系人", "申请人", "投诉人",
	"未知", "匿名", "某某", "签名", "署名", "敬礼", "此致", NULL };

/* Parts that make a run of characters anything but a name. */
static const char *const extract_name_nonparts[] = {
	"账号", "帐号", "账户", "帐户", "资金", "公司", "证券", "期货", "基金", "银行", "电话",
	"手机", "身份", "证件", "地址", "日期", "金额", "投诉", "营业", "客户", "申请", "委托",
	"交易", "订单", "合同", "邮箱", "号码", NULL };

static const char *const extract_latin_stoplist[] = {
	"customer", "client", "sir", "madam", "dear", "mr", "mrs", "ms", "miss", "regards",
	"thanks", "hello", "hi", "complainant", "name", "unknown", "none", "sincerely", NULL };

static int extract_unichar_cmp(const void *a, const void *b)
{
	gunichar x = *(const gunichar *)a, y = *(const gunichar *)b;

	return x < y ? -1 : x > y;
}

static bool extract_is_name_stop(gunichar c)
{
	return bsearch(&c, extract_name_stops, G_N_ELEMENTS(extract_name_stops), sizeof(gunichar),
		       extract_unichar_cmp) != NULL;
}

static bool extract_in_list(const char *const *list, const char *word)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (g_ascii_strcasecmp(list[i], word) == 0)
			return true;
	return false;
}

static bool extract_surname_ok(const char *name)
{
	for (size_t i = 0; extract_compound_surnames[i] != NULL; i++)
		if (g_str_has_prefix(name, extract_compound_surnames[i]))
			return true;
	return extract_in_chars(extract_surnames, g_utf8_get_char(name));
}

static bool extract_han_name_ok(const char *name)
{
	if (extract_in_list(extract_name_stoplist, name))
		return false;
	for (size_t i = 0; extract_name_nonparts[i] != NULL; i++)
		if (strstr(name, extract_name_nonparts[i]) != NULL)
			return false;
	return true;
}

/* Reads a Chinese name of 2-4 characters at pos. strong: the label says a
   name follows (姓名, "投诉人："), so any characters may form it; otherwise it
   must start with a surname. Returns the end, or EXTRACT_NONE. */
static size_t extract_han_name_end(const struct extract_scan *s, size_t pos, bool strong)
{
	size_t p = pos;
	unsigned count = 0;
	gunichar c;

	while (count < 5 && p < s->n) {
		size_t next = extract_get(s, p, &c);
		if (!extract_is_han(c) || (count >= (strong ? 2u : 1u) && extract_is_name_stop(c)))
			break;
		p = next;
		count++;
	}
	return count >= 2 && count <= 4 ? p : EXTRACT_NONE;
}

static bool extract_han_name(const struct extract_scan *s, size_t pos, bool strong)
{
	size_t end = extract_han_name_end(s, pos, strong);

	if (end == EXTRACT_NONE)
		return false;
	char *name = g_strndup(s->t + pos, end - pos);
	bool ok = (strong || extract_surname_ok(name)) && extract_han_name_ok(name);
	if (ok)
		extract_add(s, s->r->names, name, pos, end);
	g_free(name);
	return ok;
}

/* Reads one capitalised Latin word at pos; returns its end or EXTRACT_NONE. */
static size_t extract_latin_word(const struct extract_scan *s, size_t pos)
{
	gunichar c;
	size_t p = extract_get(s, pos, &c), len = 1;

	if (c < 'A' || c > 'Z')
		return EXTRACT_NONE;
	for (;;) {
		size_t next = extract_get(s, p, &c);
		if (!extract_is_ascii_alpha(c) && c != '\'' && c != '-' && c != '.')
			break;
		if (++len > EXTRACT_LATIN_WORD_MAX)
			return EXTRACT_NONE;
		p = next;
	}
	return p;
}

/* Reads a Latin name of 1-4 capitalised words at pos; returns its end (past
   no trailing punctuation) or EXTRACT_NONE. */
static size_t extract_latin_name_end(const struct extract_scan *s, size_t pos)
{
	size_t p = pos, end = EXTRACT_NONE;
	gunichar c;

	for (unsigned words = 0; words < 4; words++) {
		size_t w = extract_latin_word(s, p);
		if (w == EXTRACT_NONE)
			break;
		end = w;
		size_t next = extract_get(s, w, &c);
		if (c != ' ')
			break;
		p = next;
	}
	while (end != EXTRACT_NONE && end > pos && strchr(".'-", s->t[end - 1]) != NULL)
		end--;
	return end != EXTRACT_NONE && end - pos >= 2 ? end : EXTRACT_NONE;
}

static bool extract_latin_name_add(const struct extract_scan *s, size_t pos, size_t end)
{
	char *name = g_strndup(s->t + pos, end - pos);
	bool ok = !extract_in_list(extract_latin_stoplist, name) && !g_str_has_prefix(name, "Dear ");

	if (ok)
		extract_add(s, s->r->names, name, pos, end);
	g_free(name);
	return ok;
}

struct extract_name_label {
	const char *text;
	bool strong;      /* a name follows even without a colon */
	bool latin;       /* an English label: needs a colon or "is" */
};

static const struct extract_name_label extract_name_labels[] = {
	/* 姓名 without a colon is often a word of a sentence ("姓名生僻字无法显示"):
	   then the name must start with a surname, as after 我叫. */
	{ "投诉人", false, false }, { "姓名", false, false }, { "联系人", false, false },
	{ "申请人", false, false }, { "本人", false, false }, { "我叫", false, false },
	{ "签名", true, false },
	{ "name", true, true },
};

/* Skips spaces and one colon or 为/是/叫/is after a name label; returns the
   position after them, *colon if there was a colon, *word if a word. */
static size_t extract_name_filler(const struct extract_scan *s, size_t pos, bool *colon, bool *word)
{
	gunichar c;

	*colon = *word = false;
	for (int i = 0; i < 6 && pos < s->n; i++) {
		size_t next = extract_get(s, pos, &c), is = EXTRACT_NONE;
		bool first = !*colon && !*word;
		if (first && (c == 'i' || c == 'I'))
			is = extract_starts_with(s, pos, "is");
		if (c == ' ' || c == '\t') {
			pos = next;
		} else if (first && c == ':') {
			*colon = true;
			pos = next;
		} else if (first && (c == U'为' || c == U'為' || c == U'是' || c == U'叫' || is != EXTRACT_NONE)) {
			*word = true;
			pos = is != EXTRACT_NONE ? is : next;
		} else {
			break;
		}
	}
	return pos;
}

static void extract_name_after(const struct extract_scan *s, size_t pos, const struct extract_name_label *l)
{
	bool colon, word;
	gunichar c;

	pos = extract_name_filler(s, pos, &colon, &word);
	extract_get(s, pos, &c);
	if (extract_is_han(c)) {
		extract_han_name(s, pos, (l->strong && !l->latin) || colon);
	} else if (c >= 'A' && c <= 'Z' && (!l->latin || colon || word)) {
		size_t end = extract_latin_name_end(s, pos);
		if (end != EXTRACT_NONE)
			extract_latin_name_add(s, pos, end);
	}
}

/* True if the name label at [pos, end) stands as a label: not 被投诉人 (the
   one complained about), not part of an English word. */
static bool extract_name_label_ok(const struct extract_scan *s, size_t pos, size_t end,
				  const struct extract_name_label *l)
{
	gunichar c;

	if (l->latin) {
		extract_get(s, end, &c);
		return !extract_is_ascii_alpha(c);
	}
	extract_back(s, pos, &c);
	return c != 0x88AB;   /* 被 */
}

static void extract_scan_name_labels(const struct extract_scan *s)
{
	bool first[256] = { false };

	for (size_t k = 0; k < G_N_ELEMENTS(extract_name_labels); k++)
		first[(unsigned char)extract_name_labels[k].text[0]] = true;
	for (size_t i = 0; i < s->n; i++) {
		char b = (char)extract_lower((unsigned char)s->t[i]);
		if (!first[(unsigned char)b])
			continue;
		for (size_t k = 0; k < G_N_ELEMENTS(extract_name_labels); k++) {
			const struct extract_name_label *l = &extract_name_labels[k];
			size_t end = EXTRACT_NONE;
			if (b != l->text[0])
				continue;
			/* Chinese labels are compared as bytes: their first byte is
			   that of thousands of other characters. */
			if (l->latin)
				end = extract_starts_with(s, i, l->text);
			else if (s->n - i >= strlen(l->text) && memcmp(s->t + i, l->text, strlen(l->text)) == 0)
				end = i + strlen(l->text);
			if (end != EXTRACT_NONE && extract_name_label_ok(s, i, end, l))
				extract_name_after(s, end, l);
		}
	}
}

/* ---- signatures ---- */

/* Closing words of a Chinese letter, and labels met between 此致 and the name. */
static const char *const extract_sign_skip[] = {
	"敬礼", "致敬", "顺颂商祺", "顺祝商祺", "商祺", "祝好", "谢谢", "感谢", "投诉人", "申请人",
	"客户", "签名", "署名", "姓名", "本人", "此致", "特此投诉", NULL };

static const char *const extract_sign_suffixes[] = { "敬上", "谨上", "敬呈", "谨呈", "敬启", "拜上", NULL };

static const char *const extract_closings[] = {
	"regards", "sincerely", "best wishes", "thank you", "thanks", "yours truly",
	"yours faithfully", "cheers", NULL };

static bool extract_is_sign_sep(gunichar c)
{
	return g_unichar_isspace(c) || g_unichar_ispunct(c);
}

/* True if [start, end) is 2-4 Chinese characters and nothing else. */
static bool extract_han_run(const struct extract_scan *s, size_t start, size_t end)
{
	unsigned count = 0;
	gunichar c;

	while (start < end) {
		start = extract_get(s, start, &c);
		if (!extract_is_han(c) || ++count > 4)
			return false;
	}
	return count >= 2;
}

/* Judges one segment of a closing: 1 a name was found, 0 skip it, -1 stop. */
static int extract_sign_segment(const struct extract_scan *s, size_t start, size_t end)
{
	char *seg = g_strndup(s->t + start, end - start);
	int verdict = -1;

	for (size_t i = 0; extract_sign_suffixes[i] != NULL; i++) {
		size_t n = strlen(extract_sign_suffixes[i]);
		if (end - start > n && g_str_has_suffix(seg, extract_sign_suffixes[i])) {
			end -= n;
			seg[end - start] = '\0';
			break;
		}
	}
	if (extract_in_list(extract_sign_skip, seg)) {
		verdict = 0;
	} else if (extract_han_run(s, start, end) && extract_han_name_ok(seg)) {
		extract_add(s, s->r->names, seg, start, end);
		verdict = 1;
	}
	g_free(seg);
	return verdict;
}

/* Skips characters from pos while they are (sep) or are not (!sep)
   separators of a closing. */
static size_t extract_skip_sign(const struct extract_scan *s, size_t pos, bool sep)
{
	gunichar c;

	while (pos < s->n) {
		size_t next = extract_get(s, pos, &c);
		if (extract_is_sign_sep(c) != sep)
			break;
		pos = next;
	}
	return pos;
}

/* Walks the segments after 此致 (split at spaces and punctuation): closing
   words and labels are skipped, the first name is taken. */
static void extract_sign_cn(const struct extract_scan *s, size_t pos)
{
	for (int seg = 0; seg < 8 && pos < s->n; seg++) {
		size_t start = extract_skip_sign(s, pos, true);
		pos = extract_skip_sign(s, start, false);
		if (start == pos || extract_sign_segment(s, start, pos) != 0)
			return;
	}
}

/* If the rest of the line at pos holds only spaces and punctuation, returns
   the start of the next non-blank line, else EXTRACT_NONE. */
static size_t extract_line_rest_empty(const struct extract_scan *s, size_t pos)
{
	gunichar c;

	while (pos < s->n) {
		size_t next = extract_get(s, pos, &c);
		if (c == '\n')
			break;
		if (!extract_is_sign_sep(c))
			return EXTRACT_NONE;
		pos = next;
	}
	while (pos < s->n) {
		size_t next = extract_get(s, pos, &c);
		if (!g_unichar_isspace(c))
			break;
		pos = next;
	}
	return pos;
}

/* "Regards,\nJohn Smith": the line after the closing word holds only a name. */
static void extract_sign_en(const struct extract_scan *s, size_t pos)
{
	size_t line = extract_line_rest_empty(s, pos);

	if (line == EXTRACT_NONE || line >= s->n)
		return;
	size_t end = extract_latin_name_end(s, line);
	if (end != EXTRACT_NONE && extract_line_rest_empty(s, end) != EXTRACT_NONE) {
		extract_latin_name_add(s, line, end);
		return;
	}
	end = extract_skip_sign(s, line, false);
	if (extract_line_rest_empty(s, end) != EXTRACT_NONE)
		extract_sign_segment(s, line, end);
}

/* Looks for the last 此致 or closing word in the tail of the text. */
static void extract_scan_signature(const struct extract_scan *s)
{
	size_t tail = s->n > EXTRACT_TAIL_BYTES ? s->n - EXTRACT_TAIL_BYTES : 0;
	size_t cn = EXTRACT_NONE, en = EXTRACT_NONE;

	while (tail < s->n && extract_is_cont(s->t[tail]))
		tail++;
	for (size_t i = tail; i < s->n; i++) {
		size_t e;
		if (extract_is_cont(s->t[i]))
			continue;
		if ((e = extract_starts_with(s, i, "此致")) != EXTRACT_NONE)
			cn = e;
		for (size_t k = 0; extract_closings[k] != NULL; k++)
			if ((e = extract_starts_with(s, i, extract_closings[k])) != EXTRACT_NONE)
				en = e;
	}
	if (cn != EXTRACT_NONE)
		extract_sign_cn(s, cn);
	if (en != EXTRACT_NONE)
		extract_sign_en(s, en);
}

/* ---- references ---- */

static void extract_ref_at(const struct extract_scan *s, size_t pos, size_t plen)
{
	const char *t = s->t + pos + plen;
	size_t end = pos + plen + 13;
	char ref[32];

	if (end > s->n || (pos > 0 && g_ascii_isalnum(s->t[pos - 1])) ||
	    (end < s->n && g_ascii_isalnum(s->t[end])))
		return;
	for (int i = 0; i < 13; i++)
		if (i == 8 ? t[i] != '-' : !g_ascii_isdigit(t[i]))
			return;
	if (!extract_date_ok(t, 4) || end - pos >= sizeof(ref))
		return;
	memcpy(ref, s->t + pos, end - pos);
	ref[end - pos] = '\0';
	extract_add(s, s->r->references, ref, pos, end);
}

/* Not memmem in a loop: sanitizers check the whole remaining range on each
   call, which makes a text full of prefixes quadratic. */
static void extract_scan_refs(const struct extract_scan *s)
{
	size_t plen = strlen(s->prefix);

	for (size_t i = 0; i + plen <= s->n; i++)
		if (s->t[i] == s->prefix[0] && memcmp(s->t + i, s->prefix, plen) == 0)
			extract_ref_at(s, i, plen);
}

/* ---- the entry point ---- */

/* The word tables that do not depend on the settings, built once per process
   (they were rebuilt for every text, 6% of a message's parse). */
struct extract_tables {
	GArray *default_labels, *fillers, *units, *list_words;
};

static const struct extract_tables *extract_tables(void)
{
	static struct extract_tables t;
	static gsize done = 0;
	if (g_once_init_enter(&done)) {
		t.default_labels = extract_labels_new(NULL);
		t.fillers = extract_words_new(extract_filler_words);
		t.units = extract_words_new(extract_amount_units);
		t.list_words = extract_words_new(extract_list_words);
		g_once_init_leave(&done, 1);
	}
	return &t;
}

static void extract_scan_init(struct extract_scan *s, struct extract_result *r,
			      const struct extract_settings *set, const GString *clean)
{
	s->t = clean->str;
	s->n = clean->len;
	s->r = r;
	s->min_digits = set != NULL && set->account_min_digits > 0 ? set->account_min_digits : 6;
	s->max_digits = set != NULL && set->account_max_digits > 0 ? set->account_max_digits : 20;
	s->max_digits = MIN(s->max_digits, (unsigned)EXTRACT_NUM_KEEP);
	s->prefix = set != NULL && set->reference_prefix != NULL && set->reference_prefix[0] != '\0' &&
		    strlen(set->reference_prefix) <= 16 ? set->reference_prefix : "TS";
	s->labels = set != NULL && set->account_labels != NULL ? extract_labels_new(set) :
		    g_array_ref(extract_tables()->default_labels);
	s->fillers = g_array_ref(extract_tables()->fillers);
	s->units = g_array_ref(extract_tables()->units);
	s->list_words = g_array_ref(extract_tables()->list_words);
}

void extract_text_into(struct extract_result *r, const struct extract_settings *s,
		       const char *text, size_t len)
{
	struct extract_scan scan;

	if (r == NULL || text == NULL || len == 0)
		return;
	GString *clean = extract_clean(text, len);
	extract_scan_init(&scan, r, s, clean);
	extract_scan_numbers(&scan);
	extract_scan_credit(&scan);
	extract_scan_emails(&scan);
	extract_scan_name_labels(&scan);
	extract_scan_signature(&scan);
	extract_scan_refs(&scan);
	g_array_unref(scan.labels);
	g_array_unref(scan.fillers);
	g_array_unref(scan.units);
	g_array_unref(scan.list_words);
	g_string_free(clean, TRUE);
}
