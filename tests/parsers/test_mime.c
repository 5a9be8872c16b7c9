/* Unit tests of parsers/mime.c and the modules it drives (html.c, sniff.c,
   record.c): the base64 decoder, headers and display names, filenames,
   text selection (alternatives, HTML, reports, encoded messages, broken
   boundaries and headers), forwarded complaints (attached and inline),
   regulator transfers, classification, limits, and risky attachments.
   Messages are written inline; none depends on the extractor's heuristics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "parsers/html.h"
#include "parsers/mime.h"

static const char *const own[] = { "ts@hxqh-demo.cn", NULL };

static int setup(void **state)
{
	GError *error = NULL;
	struct sniff *sn = sniff_new(&error);
	if (sn == NULL) {
		g_error_free(error);
		return -1;
	}
	*state = sn;
	return 0;
}

static int teardown(void **state)
{
	sniff_free(*state);
	return 0;
}

static struct record *parse_with(void **state, const char *msg, size_t len, unsigned depth,
				 unsigned parts, uint64_t bytes)
{
	struct mime_settings s = {
		.max_bytes = bytes, .max_depth = depth, .max_parts = parts,
		.own_addresses = own, .sniff = *state,
	};
	struct record *r = mime_parse(&s, msg, len);
	assert_non_null(r);
	assert_true(g_utf8_validate(r->text, -1, NULL));
	assert_true(g_utf8_validate(r->subject, -1, NULL));
	return r;
}

static struct record *parse(void **state, const char *msg)
{
	return parse_with(state, msg, strlen(msg), 0, 0, 0);
}

static const struct record_attachment *att(const struct record *r, guint i)
{
	assert_true(i < r->attachments->len);
	return r->attachments->pdata[i];
}

/* ---------------------------------------------------------------- base64 */

static void expect_b64(const char *in, const char *want)
{
	GBytes *b = mime_base64_decode(in, strlen(in));
	size_t n = 0;
	const char *d = g_bytes_get_data(b, &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(d, want, n);
	g_bytes_unref(b);
}

/* gmime#150: separately padded chunks, on one line or on several. */
static void test_base64_padded_chunks(void **state)
{
	(void)state;
	expect_b64("Vkk=UlVT=ISE=", "VIRUS!!");
	expect_b64("Vkk=\r\nUlVT\r\nISE=\r\n", "VIRUS!!");
	expect_b64("aGVs\r\nbG8=", "hello");
	/* Fix: text after the padding on the same line is not base64 (Stalwart
	   thirdparty/002: "ecO2dMOkIHZhYW4uCg== ignored"). */
	expect_b64("eWVz== ignored\r\nbm8=", "yesno");
	expect_b64("!!!", "");
}

/* A message with one base64 attachment whose body is b64 as given. */
static char *b64_message(const char *b64, size_t *len_r)
{
	GString *m = g_string_new("From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
				  "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
				  "Content-Type: text/plain\r\n\r\nbody\r\n--B\r\n"
				  "Content-Type: application/octet-stream\r\nContent-Disposition: "
				  "attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	g_string_append(m, b64);
	g_string_append(m, "\r\n--B--\r\n");
	*len_r = m->len;
	return g_string_free(m, FALSE);
}

/* Parts are decoded 64 KiB at a time, and those over 1 MiB go to a file:
   the bytes and their hash are those of the one-shot decoder, whatever the
   layout of the base64 (lines of 76, one long line, padded chunks and text
   after padding across the chunk edges), from memory and from a file. */
static void test_base64_chunked(void **state)
{
	GString *b = g_string_new(NULL);
	unsigned seed = 7;
	for (unsigned layout = 0; layout < 3; layout++) {
		g_string_truncate(b, 0);
		while (b->len < (layout == 2 ? 200000u : 1500000u)) {
			seed = seed * 1103515245u + 12345u;
			char q[5] = { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[seed >> 26],
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(seed >> 20) & 63],
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(seed >> 14) & 63],
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(seed >> 8) & 63], 0 };
			g_string_append(b, q);
			if (layout == 0 && b->len % 78 == 76)
				g_string_append(b, "\r\n");
			if (layout == 2 && (seed & 7) == 0)
				g_string_append(b, "Zg== ignored text\r\n");
		}
		GBytes *want = mime_base64_decode(b->str, b->len);
		g_autofree char *want_sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, want);
		size_t len = 0;
		g_autofree char *msg = b64_message(b->str, &len);
		g_autofree char *path = g_build_filename(g_get_tmp_dir(), "intake-test-b64-XXXXXX", NULL);
		int fd = g_mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, msg, len), (ssize_t)len);
		lseek(fd, 0, SEEK_SET);
		unlink(path);
		struct mime_settings s = { .own_addresses = own, .sniff = *state };
		for (int from_file = 0; from_file < 2; from_file++) {
			struct record *r = from_file ? mime_parse_fd(&s, fd) : mime_parse(&s, msg, len);
			const struct record_attachment *a = att(r, 0);
			assert_int_equal(a->size, g_bytes_get_size(want));
			assert_string_equal(a->sha256, want_sha);
			assert_true(g_bytes_equal(a->content, want));
			/* over 1 MiB: the bytes are a mapping of an unlinked file */
			assert_true((a->fd >= 0) == (g_bytes_get_size(want) > (1u << 20)));
			assert_string_equal(r->text, "body");
			record_free(r);
		}
		close(fd);
		g_bytes_unref(want);
	}
	g_string_free(b, TRUE);
}

/* ---------------------------------------------------------------- headers */

static void test_subject_gmime_bug(void **state)
{
	struct record *r = parse(state,
		"From: =?GBK?B?1dQ=?= =?GBK?B?wNo=?= <zl@qq.com>\r\n"
		"Subject: =?GBK?B?udjT2tXLu6e1xA==?= =?GBK?B?zbbL3w==?=\r\n"
		"\r\nbody\r\n");
	assert_string_equal(r->subject, "关于账户的投诉");
	assert_string_equal(r->from.name, "赵磊");
	assert_string_equal(r->from.address, "zl@qq.com");
	record_free(r);
}

/* Fix: the name of "addr (name)" is the comment; a mailbox without '@' is
   a name, not an address; a short GBK name is not taken for UTF-8. */
static void test_display_names(void **state)
{
	struct record *r = parse(state,
		"From: MAILER-DAEMON@mx3.qq.com (Mail Delivery System)\r\n\r\nx\r\n");
	assert_string_equal(r->from.name, "Mail Delivery System");
	assert_string_equal(r->from.address, "MAILER-DAEMON@mx3.qq.com");
	record_free(r);
	r = parse(state, "From: Whomever\r\n\r\nx\r\n");
	assert_null(r->from.address);
	assert_string_equal(r->from.name, "Whomever");
	record_free(r);
	r = parse(state, "From: =?gb2312?B?1KzSsA==?= <yy@tom.com>\r\n\r\nx\r\n");
	assert_string_equal(r->from.name, "袁野");
	record_free(r);
	r = parse(state, "From: \"=?utf-8?B?5byg5Lyf?=\" <ZW@QQ.COM>, other@x.cn\r\n\r\nx\r\n");
	assert_string_equal(r->from.name, "张伟");
	assert_string_equal(r->from.address, "ZW@qq.com");
	record_free(r);
	/* The first From that gives an address. */
	r = parse(state, "From: <<<@@@>>>\r\nFrom: real@example.org\r\n\r\nx\r\n");
	assert_string_equal(r->from.address, "real@example.org");
	record_free(r);
	r = parse(state, "From: \xD6\xEC\xD5\xFD <dpf@21cn.com>\r\n\r\nx\r\n");
	assert_string_equal(r->from.name, "朱正");
	record_free(r);
}

/* ---------------------------------------------------------------- filenames */

#define MIXED_HEAD "From: a@b.cn\r\nSubject: s\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"

static void test_filenames(void **state)
{
	struct record *r = parse(state, MIXED_HEAD
		"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
		"--B\r\nContent-Type: image/jpeg; name=\"\xBD\xBB\xD2\xD7\xBD\xD8\xCD\xBC\x2E\x6A\x70\x67\"\r\n"
		"Content-Disposition: attachment\r\n\r\nxx\r\n"
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
		"\tfilename=\"=?gb18030?B?zbbL37LEwQ==?=\r\n\t=?gb18030?B?z8u1w/cucGRm?=\"\r\n\r\nxx\r\n"
		"--B\r\nContent-Type: application/octet-stream; name=\"../../etc/passwd\"\r\n\r\nroot\r\n"
		"--B\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename*=UTF-8''%E8%B4%A6%E5%8D%95%E2%80%AEfdp.exe\r\n"
		"\r\nxx\r\n"
		"--B\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename=\"..\"\r\n\r\nxx\r\n"
		"--B--\r\n");
	assert_int_equal(r->attachments->len, 5);
	assert_string_equal(att(r, 0)->filename, "交易截图.jpg");          /* raw GBK */
	assert_string_equal(att(r, 1)->filename, "投诉材料说明.pdf");      /* split word */
	assert_string_equal(att(r, 2)->filename, "passwd");                /* no path */
	assert_string_equal(att(r, 3)->filename, "账单fdp.exe");           /* no RLO */
	assert_true(att(r, 3)->risky);
	assert_string_equal(att(r, 4)->filename, "attachment-5");
	assert_string_equal(r->text, "hi");
	record_free(r);
}

/* ---------------------------------------------------------------- text */

/* Fix: CRLF bodies gave "\r\n" in the record text. */
static void test_text_line_ends(void **state)
{
	struct record *r = parse(state, "From: a@b.cn\r\nContent-Type: text/plain; charset=utf-8\r\n"
				 "\r\nline1\r\nline2\rline3\r\n\r\n\r\n");
	assert_string_equal(r->text, "line1\nline2\nline3");
	assert_string_equal(r->body_charset, "utf-8");
	record_free(r);
}

/* Fixes: a blank plain version gives way to the HTML one; the inline image
   of the HTML version (multipart/related) is listed although the plain
   version is read. */
static void test_alternatives(void **state)
{
	struct record *r = parse(state, MIXED_HEAD
		"--B\r\nContent-Type: multipart/alternative; boundary=\"A\"\r\n\r\n"
		"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n \r\n"
		"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>资金账号：31007766</p>\r\n"
		"--A--\r\n--B--\r\n");
	assert_string_equal(r->text, "资金账号：31007766");
	record_free(r);
	r = parse(state, MIXED_HEAD
		"--B\r\nContent-Type: multipart/alternative; boundary=\"A\"\r\n\r\n"
		"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain version\r\n"
		"--A\r\nContent-Type: multipart/related; boundary=\"R\"\r\n\r\n"
		"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html version</p>\r\n"
		"--R\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\nContent-Transfer-Encoding: base64\r\n"
		"\r\niVBORw0KGgo=\r\n--R--\r\n--A--\r\n--B--\r\n");
	assert_string_equal(r->text, "plain version");
	assert_int_equal(r->attachments->len, 1);
	assert_string_equal(att(r, 0)->declared_type, "image/png");
	record_free(r);
}

/* Fix: HTML table cells ran together (资金账号31008812). */
static void test_html_to_text(void **state)
{
	(void)state;
	const char *html = "<html><head><title>T</title><style>p{}</style><script>var x=1;</script>"
			   "</head><body><p>a&nbsp;&amp;&lt;b&gt;&#36164;&#x91D1;</p>"
			   "<table><tr><td>资金账号</td><td>31008812</td></tr>"
			   "<tr><td>电话</td><td>186&nbsp;0755&nbsp;1234</td></tr></table>"
			   "line<br>break<!-- 13800000000 --></body></html>";
	char *t = html_to_text(html, strlen(html));
	assert_string_equal(t, "a &<b>资金\n资金账号 31008812\n电话 186 0755 1234\nline\nbreak");
	g_free(t);
	t = html_to_text(NULL, 0);
	assert_string_equal(t, "");
	g_free(t);
}

/* A text part with a name but no "attachment" disposition is read (and
   listed); with the disposition it is only listed and extracted. */
static void test_named_text_parts(void **state)
{
	struct record *r = parse(state, "From: a@b.cn\r\n"
				 "Content-Type: text/plain; charset=iso-8859-1; name=\"/tmp/whoa\"\r\n"
				 "\r\nThis had better not end up in /tmp!\r\n");
	assert_string_equal(r->text, "This had better not end up in /tmp!");
	assert_int_equal(r->attachments->len, 1);
	assert_string_equal(att(r, 0)->filename, "whoa");
	record_free(r);
	r = parse(state, MIXED_HEAD
		"--B\r\nContent-Type: text/plain\r\n\r\ncover note\r\n"
		"--B\r\nContent-Type: text/plain; charset=gb2312\r\n"
		"Content-Disposition: attachment; filename=\"a.txt\"\r\n\r\n\xCD\xB6\xCB\xDF\r\n--B--\r\n");
	assert_string_equal(r->text, "cover note");
	assert_int_equal(r->attachments->len, 1);
	record_free(r);
}

/* Fix: a base64-encoded message/rfc822 stayed an opaque leaf (its text
   lost); a multipart without any boundary found lost its whole text. */
static void test_encoded_message_and_no_boundary(void **state)
{
	struct record *r = parse(state, "From: a@b.cn\r\nMIME-Version: 1.0\r\n"
		"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"Q29udGVudC1UeXBlOiB0ZXh0L3BsYWluOyBjaGFyc2V0PXVzLWFzY2lpDQpDb250ZW50LVRyYW5z\r\n"
		"ZmVyLUVuY29kaW5nOiA3Yml0DQoNClRleHQgYm9keQoNCg==\r\n");
	assert_string_equal(r->text, "Text body");
	record_free(r);
	r = parse(state, "From: a@b.cn\r\nContent-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n"
		  "--other\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--other--\r\n");
	assert_non_null(strstr(r->text, "first part"));
	record_free(r);
}

/* Fix: a header-block line that is no header was dropped by GMime (text
   lost); it now moves to the body, and the headers after it stay headers.
   A broken fold (an encoded-word line without its leading blank) continues
   the header. */
static void test_broken_header_block(void **state)
{
	struct record *r = parse(state, "Subject: s\r\nThis is an invalid header\r\n"
				 "From: a@b.cn\r\nMessage-ID: <m1@b.cn>\r\n\r\nBody text\r\n");
	assert_string_equal(r->subject, "s");
	assert_string_equal(r->from.address, "a@b.cn");
	assert_string_equal(r->message_id, "m1@b.cn");
	assert_string_equal(r->text, "This is an invalid header\nBody text");
	record_free(r);
	/* Headers only, ending in a junk line and no blank line. */
	r = parse(state, "From: a@b.cn\nno header here");
	assert_string_equal(r->from.address, "a@b.cn");
	assert_string_equal(r->text, "no header here");
	record_free(r);
	r = parse(state, "From: a@b.cn\r\nSubject: =?GBK?B?udjT2tXLu6e1xA==?=\r\n"
		  "=?GBK?B?zbbL3w==?=\r\nTo: ts@hxqh-demo.cn\r\n\r\nbody\r\n");
	assert_string_equal(r->subject, "关于账户的投诉");
	assert_string_equal(r->text, "body");
	record_free(r);
}

/* An attached message with a filename is listed, with the bytes it was
   sent with; inside it the text is read. */
static void test_attached_message_bytes(void **state)
{
	const char *inner = "From: x@y.cn\r\nSubject: inner\r\n\r\ninner text\r\n";
	g_autofree char *msg = g_strdup_printf(MIXED_HEAD
		"--B\r\nContent-Type: text/plain\r\n\r\nnote\r\n"
		"--B\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; "
		"filename=\"c.eml\"\r\n\r\n%s\r\n--B--\r\n", inner);
	struct record *r = parse(state, msg);
	assert_int_equal(r->attachments->len, 1);
	assert_string_equal(att(r, 0)->filename, "c.eml");
	assert_int_equal(att(r, 0)->size, strlen(inner));
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, inner, -1);
	assert_string_equal(att(r, 0)->sha256, sum);
	assert_string_equal(r->text, "note\ninner text");
	record_free(r);
}

/* ---------------------------------------------------------------- forwards */

static void expect_forward(const struct record *r, const char *by, const char *complainant)
{
	if (by == NULL) {
		assert_null(r->forwarded_by);
	} else {
		assert_non_null(r->forwarded_by);
		assert_string_equal(r->forwarded_by->address, by);
	}
	assert_string_equal(r->complainant.address, complainant);
}

static void test_forward_rfc822(void **state)
{
	struct record *r = parse(state,
		"From: =?utf-8?B?5p2O6Z2Z5oCh?= <ljy@sz.hxqh-demo.cn>\r\nSubject: FW: x\r\n"
		"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n请处理。12386热线转来\r\n"
		"--B\r\nContent-Type: message/rfc822\r\n\r\n"
		"From: =?utf-8?B?5a2Z5Li9?= <sunli@163.com>\r\nSubject: c\r\n\r\ncomplaint\r\n--B--\r\n");
	expect_forward(r, "ljy@sz.hxqh-demo.cn", "sunli@163.com");
	assert_string_equal(r->forwarded_by->name, "李静怡");
	assert_string_equal(r->complainant.name, "孙丽");
	assert_true(r->major);                 /* 12386 in the forwarder's note */
	assert_string_equal(r->text, "请处理。12386热线转来\ncomplaint");
	record_free(r);
}

/* Fix: mail from our own staff attached as evidence is not a forward, and
   the message returned in a bounce report is not one either. */
static void test_not_forwards(void **state)
{
	struct record *r = parse(state, "From: c@qq.com\r\nSubject: s\r\n"
		"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
		"--B\r\nContent-Type: message/rfc822\r\n\r\n"
		"From: staff@nj.hxqh-demo.cn\r\nSubject: c\r\n\r\nguaranteed returns\r\n--B--\r\n");
	expect_forward(r, NULL, "c@qq.com");
	assert_non_null(strstr(r->text, "guaranteed returns"));
	record_free(r);
	r = parse(state, "From: MAILER-DAEMON@mx.qq.com\r\nSubject: Undelivered\r\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\n550 no such user\r\n"
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n"
		"--B\r\nContent-Type: message/rfc822\r\n\r\n"
		"From: ts@hxqh-demo.cn\r\nSubject: [TS20261120-0003]\r\n\r\nnotice\r\n--B--\r\n");
	expect_forward(r, NULL, "MAILER-DAEMON@mx.qq.com");
	assert_string_equal(r->auto_submitted, "bounce");
	assert_int_equal(r->attachments->len, 0);
	assert_string_equal(r->text, "550 no such user\nStatus: 5.1.1\nnotice");
	record_free(r);
}

static void test_forward_inline(void **state)
{
	struct record *r = parse(state, "From: zm@gz.hxqh-demo.cn\r\nSubject: FW: complaint\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\nplease follow up\r\n\r\n"
		"-----Original Message-----\r\nFrom: Zhao [mailto:zhao88@126.com]\r\n"
		"Sent: Thursday, November 19, 2026 9:12 AM\r\nTo: zm@gz.hxqh-demo.cn\r\n"
		"Subject: complaint\r\n\r\nmy account was stolen\r\n");
	expect_forward(r, "zm@gz.hxqh-demo.cn", "zhao88@126.com");
	assert_string_equal(r->complainant.name, "Zhao");
	assert_string_equal(r->forward_note, "please follow up\n\n");
	record_free(r);
	r = parse(state, "From: zq@bj.hxqh-demo.cn\r\nSubject: =?utf-8?B?6L2s5Y+R77ya?= x\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"
		"------------------ 原始邮件 ------------------\r\n"
		"发件人: \"吴芳\"<wufang@foxmail.com>;\r\n发送时间: 2026年11月18日 晚上8:15\r\n"
		"收件人: \"郑强\"<zq@bj.hxqh-demo.cn>;\r\n主题: x\r\n\r\n佣金不符\r\n");
	expect_forward(r, "zq@bj.hxqh-demo.cn", "wufang@foxmail.com");
	assert_string_equal(r->complainant.name, "吴芳");
	record_free(r);
	/* No subject prefix, but the note says 转发. */
	r = parse(state, "From: e@hz.hxqh-demo.cn\r\nSubject: x\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\n转发客户邮件如下：\r\n"
		"发件人：贾敏 <jm@163.com>\r\n主题：投诉\r\n\r\n投诉内容\r\n");
	expect_forward(r, "e@hz.hxqh-demo.cn", "jm@163.com");
	record_free(r);
}

static void test_reply_is_not_forward(void **state)
{
	struct record *r = parse(state, "From: hb@sina.com\r\nSubject: Re: [TS20261123-0007] x\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\nmore facts\r\n\r\n"
		"-----原始邮件-----\r\n发件人: 投诉中心 <ts@hxqh-demo.cn>\r\n发送时间: 2026-11-23\r\n"
		"主题: x\r\n\r\nnotice\r\n");
	expect_forward(r, NULL, "hb@sina.com");
	record_free(r);
	/* Nor is a mail looking "forward" to an answer, without Re:. */
	r = parse(state, "From: hb@sina.com\r\nSubject: x\r\n\r\nI look forward to it\r\n\r\n"
		  "From: friend@qq.com\r\nSent: today\r\nSubject: x\r\n\r\nhello\r\n");
	expect_forward(r, NULL, "hb@sina.com");
	record_free(r);
	/* A reply quoting someone else is still not a forward. */
	r = parse(state, "From: hb@sina.com\r\nSubject: Re: x\r\n\r\nyes\r\n\r\n"
		  "From: friend@qq.com\r\nSent: today\r\nSubject: x\r\n\r\nhello\r\n");
	expect_forward(r, NULL, "hb@sina.com");
	record_free(r);
}

/* ---------------------------------------------------------------- regulators */

static void test_regulator(void **state)
{
	struct record *r = parse(state, "From: =?utf-8?B?MTIzODY=?= <rx12386@csrc.gov.cn>\r\n"
				 "Subject: transfer\r\n\r\ninvestor complaint\r\n");
	assert_true(r->major);
	assert_non_null(r->forwarded_by);
	assert_string_equal(r->forwarded_by->address, "rx12386@csrc.gov.cn");
	assert_null(r->complainant.address);   /* the text names no e-mail here */
	record_free(r);
	/* A customer threatening to call 12386 is not major. */
	r = parse(state, "From: lzq@163.com\r\nSubject: =?utf-8?B?5omTMTIzODY=?=\r\n\r\n"
		  "I will call 12386\r\n");
	assert_false(r->major);
	assert_null(r->forwarded_by);
	record_free(r);
	/* Nor is a personal address that contains 12386. */
	r = parse(state, "From: wang12386@qq.com\r\nSubject: s\r\n\r\nx\r\n");
	assert_false(r->major);
	record_free(r);
	/* A bounce from a regulator's server is no transfer. */
	r = parse(state, "From: postmaster@csrc.gov.cn\r\nSubject: Undeliverable\r\n\r\nx\r\n");
	assert_false(r->major);
	assert_string_equal(r->auto_submitted, "bounce");
	record_free(r);
}

/* ---------------------------------------------------------------- classification */

static void expect_kind(void **state, const char *msg, const char *kind)
{
	struct record *r = parse(state, msg);
	if (kind == NULL)
		assert_null(r->auto_submitted);
	else
		assert_string_equal(r->auto_submitted, kind);
	record_free(r);
}

static void test_classification(void **state)
{
	expect_kind(state, "From: a@qq.com\r\nAuto-Submitted: auto-replied\r\nSubject: x\r\n\r\nx\r\n",
		    "auto_reply");
	expect_kind(state, "From: a@163.com\r\nSubject: =?GBK?B?19S2r7vYuLQ=?=\r\n\r\nx\r\n",
		    "auto_reply");
	expect_kind(state, "From: a@163.com\r\nAuto-Submitted: no\r\nSubject: =?utf-8?B?"
		    "5oqV6K+J77ya6Ieq5Yqo5Zue5aSN?=\r\n\r\nx\r\n", NULL);
	expect_kind(state, "From: n@x.com\r\nList-Id: <l.x.com>\r\nSubject: x\r\n\r\nx\r\n", "list");
	expect_kind(state, "From: n@x.com\r\nPrecedence: bulk\r\nSubject: x\r\n\r\nx\r\n", "list");
	expect_kind(state, "From: ts@hxqh-demo.cn\r\nSubject: x\r\n\r\nx\r\n", "own_notice");
	expect_kind(state, "From: a@x.cn\r\nReturn-Path: <>\r\nSubject: x\r\n\r\nx\r\n", "bounce");
	expect_kind(state, "From: MAILER-DAEMON\r\nSubject: x\r\n\r\nx\r\n", "bounce");
	/* Fix: a read receipt (disposition-notification report) is no bounce. */
	expect_kind(state, "From: a@qq.com\r\nSubject: Read: x\r\nContent-Type: multipart/report; "
		    "report-type=disposition-notification; boundary=\"B\"\r\n\r\n--B\r\n"
		    "Content-Type: text/plain\r\n\r\nread\r\n--B--\r\n", "receipt");
	expect_kind(state, "From: a@qq.com\r\nSubject: x\r\n\r\nx\r\n", NULL);
}

/* ---------------------------------------------------------------- limits */

static void expect_note(const struct record *r, const char *part)
{
	for (guint i = 0; i < r->notes->len; i++)
		if (strstr(r->notes->pdata[i], part) != NULL)
			return;
	fail_msg("no note containing \"%s\"", part);
}

static void test_limits(void **state)
{
	GString *m = g_string_new("From: a@b.cn\r\nSubject: deep\r\n");
	for (int i = 0; i < 30; i++)
		g_string_append_printf(m, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
				       "--b%d\r\n", i, i);
	g_string_append(m, "Content-Type: text/plain\r\n\r\ndeepest\r\n");
	struct record *r = parse_with(state, m->str, m->len, 5, 0, 0);
	expect_note(r, "MIME nesting deeper than 5 levels");
	assert_null(strstr(r->text, "deepest"));
	assert_string_equal(r->subject, "deep");
	record_free(r);
	g_string_assign(m, MIXED_HEAD);
	for (int i = 0; i < 20; i++)
		g_string_append_printf(m, "--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
	g_string_append(m, "--B--\r\n");
	r = parse_with(state, m->str, m->len, 0, 10, 0);
	expect_note(r, "more than 10 MIME parts");
	assert_non_null(strstr(r->text, "part 8"));
	assert_null(strstr(r->text, "part 9"));
	record_free(r);
	/* Fix: GMime built every part first (300,000 parts: 400 MB); it now gets
	   the bytes before the (4 * max_parts)-th boundary line. */
	g_string_assign(m, MIXED_HEAD);
	for (int i = 0; i < 100; i++)
		g_string_append_printf(m, "--B\r\n\r\nx%d\r\n", i);
	r = parse_with(state, m->str, m->len, 0, 10, 0);
	expect_note(r, "more than 40 boundary lines");
	expect_note(r, "more than 10 MIME parts");
	record_free(r);
	r = parse_with(state, m->str, m->len, 0, 0, 100);
	expect_note(r, "over the limit of 100 bytes");
	assert_string_equal(r->subject, "s");
	assert_string_equal(r->text, "");
	record_free(r);
	g_string_free(m, TRUE);
}

/* Not a message at all: kept as text, with a note, never dropped. */
static void test_garbage(void **state)
{
	static const char junk[] = "\0\xFF\xFE--\r\n\r\n=?x?B?\xCD\xB6\xCB\xDF";
	struct record *r = parse_with(state, junk, sizeof junk - 1, 0, 0, 0);
	assert_non_null(r->text);
	record_free(r);
	r = parse_with(state, "", 0, 0, 0, 0);
	assert_non_null(r->text);
	record_free(r);
}

/* ---------------------------------------------------------------- sniff, record */

static void test_sniff_risky(void **state)
{
	static const unsigned char zip_vba[] = "PK\x03\x04" "\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" "\x13\x00\x00\x00"
		"word/vbaProject.bin";
	static const unsigned char zip_plain[] = "PK\x03\x04" "\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" "\x11\x00\x00\x00"
		"word/document.xml";
	static const unsigned char zip_bad_len[] = "PK\x03\x04" "\x14\x00\x00\x00\x08\x00\x00\x00"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" "\xFF\xFF\x00\x00" "a.exe";
	static const char ole_vba[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" "....M\0a\0c\0r\0o\0s\0"
		"_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T\0";
	(void)state;
	assert_true(sniff_is_risky("application/vnd.microsoft.portable-executable", "a.pdf"));
	assert_true(sniff_is_risky(NULL, "x.DOCM"));
	assert_false(sniff_is_risky("application/pdf", "a.pdf"));
	assert_true(sniff_is_risky_content("application/zip", "a.docx", zip_vba, sizeof zip_vba - 1));
	assert_false(sniff_is_risky_content("application/zip", "a.docx", zip_plain, sizeof zip_plain - 1));
	assert_false(sniff_is_risky_content("application/zip", "a.zip", zip_bad_len,
					    sizeof zip_bad_len - 1));
	assert_true(sniff_is_risky_content("application/msword", "a.doc", ole_vba, sizeof ole_vba - 1));
	assert_false(sniff_is_risky_content("application/octet-stream", "a.bin", NULL, 0));
}

static struct extract_value *value(const char *v, const char *context)
{
	struct extract_value *x = g_new0(struct extract_value, 1);
	x->value = g_strdup(v);
	x->context = g_strdup(context);
	return x;
}

static void free_value(gpointer p)
{
	struct extract_value *x = p;
	g_free(x->value);
	g_free(x->context);
	g_free(x);
}

/* Fix: the complainant's phone was the first one found, even when it was
   the number of the staff member complained about. */
static void test_complainant_phone(void **state)
{
	GPtrArray *phones = g_ptr_array_new_with_free_func(free_value);
	(void)state;
	assert_null(record_complainant_phone(phones));
	g_ptr_array_add(phones, value("13911112222", "客户经理用 139-1111-2222 给我打电话推销"));
	assert_string_equal(record_complainant_phone(phones), "13911112222");
	g_ptr_array_add(phones, value("15812345678", "少了一位数） 本人手机：１５８１２３４５６７８  谭静"));
	assert_string_equal(record_complainant_phone(phones), "15812345678");
	g_ptr_array_unref(phones);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_padded_chunks),
		cmocka_unit_test(test_base64_chunked),
		cmocka_unit_test(test_subject_gmime_bug),
		cmocka_unit_test(test_display_names),
		cmocka_unit_test(test_filenames),
		cmocka_unit_test(test_text_line_ends),
		cmocka_unit_test(test_alternatives),
		cmocka_unit_test(test_html_to_text),
		cmocka_unit_test(test_named_text_parts),
		cmocka_unit_test(test_encoded_message_and_no_boundary),
		cmocka_unit_test(test_broken_header_block),
		cmocka_unit_test(test_attached_message_bytes),
		cmocka_unit_test(test_forward_rfc822),
		cmocka_unit_test(test_not_forwards),
		cmocka_unit_test(test_forward_inline),
		cmocka_unit_test(test_reply_is_not_forward),
		cmocka_unit_test(test_regulator),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_sniff_risky),
		cmocka_unit_test(test_complainant_phone),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
