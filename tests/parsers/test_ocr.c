/* Unit tests of parsers/ocr.c: type dispatch, DOCX text (runs, tabs,
   breaks, strict namespace, deleted text, entities, damage, size bound),
   TIFF page counting, the clean-up of OCR output, and the child processes:
   the real pdftotext / pdftoppm / tesseract on a small PDF and its
   rendering, and fake tools (named fake-*) that hang, spin, crash, print
   nothing or leave a grandchild behind; the pages of one document read by
   several tesseract children at once, in order, never more children than
   cores, and pages in a Latin script read again with the fallback
   languages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "parsers/ocr.h"

/* A private folder per test. */
struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	f->dir = g_dir_make_tmp("test_ocr.XXXXXX", NULL);
	assert_non_null(f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* Writes an executable fake tool; returns its path. */
static char *fake_tool(struct fixture *f, const char *name, const char *body)
{
	char *path = g_build_filename(f->dir, name, NULL);
	g_autofree char *script = g_strdup_printf("#!/bin/sh\n%s\n", body);
	assert_true(g_file_set_contents(path, script, -1, NULL));
	assert_int_equal(chmod(path, 0700), 0);
	return path;
}

/* A DOCX made of the given members (name, content pairs, NULL-ended). */
static GBytes *make_zip(struct fixture *f, const char *const *members)
{
	g_autofree char *path = g_build_filename(f->dir, "doc.zip", NULL);
	int err = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	assert_non_null(za);
	for (size_t i = 0; members[i] != NULL; i += 2) {
		zip_source_t *s = zip_source_buffer(za, members[i + 1], strlen(members[i + 1]), 0);
		assert_true(zip_file_add(za, members[i], s, ZIP_FL_OVERWRITE) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	char *data = NULL;
	gsize len = 0;
	assert_true(g_file_get_contents(path, &data, &len, NULL));
	return g_bytes_new_take(data, len);
}

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

static char *docx_text(struct fixture *f, const char *body, uint64_t max, GError **error)
{
	g_autofree char *xml = g_strdup_printf(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<w:document xmlns:w=\"" W_NS "\">"
		"<w:body>%s</w:body></w:document>", body);
	const char *members[] = { "[Content_Types].xml", "<Types/>", "word/document.xml", xml, NULL };
	GBytes *b = make_zip(f, members);
	gsize n = 0;
	const char *data = g_bytes_get_data(b, &n);
	char *text = ocr_docx_text(data, n, max, error);
	g_bytes_unref(b);
	return text;
}

static void test_kind_dispatch(void **state)
{
	(void)state;
	assert_int_equal(ocr_kind_of("application/pdf"), OCR_KIND_PDF);
	assert_int_equal(ocr_kind_of("image/tiff"), OCR_KIND_TIFF);
	assert_int_equal(ocr_kind_of("image/jpeg"), OCR_KIND_IMAGE);
	assert_int_equal(ocr_kind_of("image/png"), OCR_KIND_IMAGE);
	assert_int_equal(ocr_kind_of(
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document"), OCR_KIND_DOCX);
	assert_int_equal(ocr_kind_of("application/zip"), OCR_KIND_DOCX);
	assert_int_equal(ocr_kind_of("text/plain"), OCR_KIND_TEXT);
	assert_int_equal(ocr_kind_of("application/x-executable"), OCR_KIND_UNSUPPORTED);
	assert_int_equal(ocr_kind_of("image/svg+xml"), OCR_KIND_UNSUPPORTED);
	assert_int_equal(ocr_kind_of(NULL), OCR_KIND_UNSUPPORTED);
}

static void test_empty_and_unsupported(void **state)
{
	(void)state;
	struct ocr_result r;
	GError *err = NULL;
	assert_int_equal(ocr_document_text(NULL, "application/pdf", "", 0, &r, &err), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_EMPTY));
	g_clear_error(&err);
	assert_int_equal(ocr_document_text(NULL, "application/x-sharedlib", "\x7f" "ELF", 4, &r, &err), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNSUPPORTED));
	assert_non_null(strstr(err->message, "application/x-sharedlib"));
	g_clear_error(&err);
	assert_null(r.text);
	ocr_result_clear(&r);
}

static void test_docx_paragraphs(void **state)
{
	GError *err = NULL;
	g_autofree char *t = docx_text(*state,
		"<w:p><w:r><w:t>资金账号 3100</w:t></w:r><w:r><w:t>12345678</w:t></w:r></w:p>"
		"<w:p><w:r><w:t xml:space=\"preserve\">姓名 </w:t></w:r><w:r><w:tab/><w:t>张伟</w:t></w:r></w:p>"
		"<w:p/>"
		"<w:p><w:r><w:t>A &amp; B</w:t><w:br/><w:t>next</w:t></w:r>"
		"<w:del><w:r><w:delText>deleted</w:delText></w:r></w:del></w:p>"
		"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell</w:t></w:r></w:p></w:tc></w:tr></w:tbl>", 0, &err);
	assert_null(err);
	assert_string_equal(t, "资金账号 310012345678\n姓名 \t张伟\n\nA & B\nnext\ncell\n");
}

static void test_docx_strict_namespace(void **state)
{
	const char *xml = "<?xml version=\"1.0\"?><w:document "
		"xmlns:w=\"http://purl.oclc.org/ooxml/wordprocessingml/main\"><w:body><w:p><w:r>"
		"<w:t>strict</w:t></w:r></w:p></w:body></w:document>";
	const char *members[] = { "word/document.xml", xml, NULL };
	GBytes *b = make_zip(*state, members);
	gsize n = 0;
	const char *data = g_bytes_get_data(b, &n);
	GError *err = NULL;
	g_autofree char *t = ocr_docx_text(data, n, 0, &err);
	assert_null(err);
	assert_string_equal(t, "strict\n");
	g_bytes_unref(b);
}

static void test_docx_refusals(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	/* A ZIP that is not a Word document. */
	const char *members[] = { "readme.txt", "hello", NULL };
	GBytes *b = make_zip(f, members);
	gsize n = 0;
	const char *data = g_bytes_get_data(b, &n);
	assert_null(ocr_docx_text(data, n, 0, &err));
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNSUPPORTED));
	g_clear_error(&err);
	g_bytes_unref(b);
	/* Damaged XML. */
	assert_null(docx_text(f, "<w:p><w:t>open", 0, &err));
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNREADABLE));
	g_clear_error(&err);
	/* Over the bound on the uncompressed size. */
	assert_null(docx_text(f, "<w:p><w:r><w:t>a long enough paragraph</w:t></w:r></w:p>", 64, &err));
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_TOO_LARGE));
	g_clear_error(&err);
	/* Not a ZIP at all. */
	assert_null(ocr_docx_text("PK\x03\x04garbage", 12, 0, &err));
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNREADABLE));
	g_clear_error(&err);
}

/* Entities of an internal DTD are not expanded (no billion laughs). */
static void test_docx_entities_not_expanded(void **state)
{
	const char *xml = "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
		"<w:document xmlns:w=\"" W_NS "\"><w:body><w:p><w:r><w:t>x&c;y</w:t></w:r></w:p>"
		"</w:body></w:document>";
	const char *members[] = { "word/document.xml", xml, NULL };
	GBytes *b = make_zip(*state, members);
	gsize n = 0;
	const char *data = g_bytes_get_data(b, &n);
	GError *err = NULL;
	g_autofree char *t = ocr_docx_text(data, n, 0, &err);
	/* libxml2 refuses the nested references (its amplification guard), or
	   leaves them unexpanded: either way no 800 bytes of "a". */
	if (t == NULL)
		assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNREADABLE));
	else
		assert_true(strlen(t) < 16);
	g_clear_error(&err);
	g_bytes_unref(b);
}

static void test_normalize(void **state)
{
	(void)state;
	const char *in = "投 诉 人 : 张 伟  \r\n\n\n\n电子邮箱: zhangwei@ example.com\f"
			 "Account  no 123\x01\n姓名    李四\n\n";
	g_autofree char *out = ocr_normalize(in, strlen(in));
	assert_string_equal(out, "投诉人 : 张伟\n\n电子邮箱: zhangwei@example.com\nAccount  no 123\n"
			    "姓名    李四");
	g_autofree char *bad = ocr_normalize("a\xff" "b", 3);
	assert_true(g_utf8_validate(bad, -1, NULL));
}

/* A little-endian TIFF whose IFDs are at the given offsets (0 ends). */
static void tiff_put(unsigned char *b, size_t off, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static void test_tiff_pages(void **state)
{
	(void)state;
	unsigned char b[256] = { 'I', 'I', 42, 0 };
	tiff_put(b, 4, 16, 4);
	/* IFD at 16: one entry, next at 40; IFD at 40: none, next at 64; at 64: end. */
	tiff_put(b, 16, 1, 2);
	tiff_put(b, 30, 40, 4);
	tiff_put(b, 40, 0, 2);
	tiff_put(b, 42, 64, 4);
	tiff_put(b, 64, 0, 2);
	tiff_put(b, 66, 0, 4);
	assert_int_equal(ocr_tiff_pages((const char *)b, sizeof b), 3);
	/* A loop back to the first IFD is counted once. */
	tiff_put(b, 66, 16, 4);
	assert_int_equal(ocr_tiff_pages((const char *)b, sizeof b), 3);
	/* An entry count past the end stops the walk. */
	tiff_put(b, 64, 60000, 2);
	assert_int_equal(ocr_tiff_pages((const char *)b, sizeof b), 3);
	assert_int_equal(ocr_tiff_pages((const char *)b, 12), 0);
	assert_int_equal(ocr_tiff_pages("%PDF-1.4 not a tiff", 19), 0);
	unsigned char be[32] = { 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(ocr_tiff_pages((const char *)be, sizeof be), 1);
}

/* A one-page PDF in Helvetica. */
static char *make_pdf(size_t *len_r)
{
	const char *content = "BT /F1 24 Tf 72 700 Td (Account 310012345678 Zhang Wei) Tj ET";
	GString *p = g_string_new("%PDF-1.4\n");
	size_t off[6];
	const char *objs[5] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", NULL };
	for (int i = 0; i < 4; i++) {
		off[i] = p->len;
		g_string_append_printf(p, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
	}
	off[4] = p->len;
	g_string_append_printf(p, "5 0 obj\n<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n",
			       strlen(content), content);
	size_t xref = p->len;
	g_string_append(p, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 0; i < 5; i++)
		g_string_append_printf(p, "%010zu 00000 n \n", off[i]);
	g_string_append_printf(p, "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
	*len_r = p->len;
	return g_string_free(p, FALSE);
}

static void test_pdf_text_layer(void **state)
{
	(void)state;
	size_t len = 0;
	g_autofree char *pdf = make_pdf(&len);
	struct ocr_result r;
	GError *err = NULL;
	assert_int_equal(ocr_document_text(NULL, "application/pdf", pdf, len, &r, &err), 0);
	assert_null(err);
	assert_string_equal(r.engine, "pdftotext");
	assert_null(r.language);
	assert_int_equal(r.pages, 1);
	assert_non_null(strstr(r.text, "Account 310012345678"));
	ocr_result_clear(&r);
	/* A damaged PDF: pdfinfo refuses it. */
	assert_int_equal(ocr_document_text(NULL, "application/pdf", "%PDF-1.4 junk", 13, &r, &err), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNREADABLE));
	g_clear_error(&err);
}

/* The PDF rendered by pdftoppm to PNG, then read by the real tesseract. */
static void test_image_ocr(void **state)
{
	struct fixture *f = *state;
	size_t len = 0;
	g_autofree char *pdf = make_pdf(&len);
	g_autofree char *pdf_path = g_build_filename(f->dir, "p.pdf", NULL);
	g_autofree char *prefix = g_build_filename(f->dir, "p", NULL);
	assert_true(g_file_set_contents(pdf_path, pdf, (gssize)len, NULL));
	char *argv[] = { "pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", pdf_path, prefix, NULL };
	int status = 0;
	assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
				 &status, NULL));
	assert_int_equal(status, 0);
	g_autofree char *png_path = g_strconcat(prefix, ".png", NULL);
	g_autofree char *png = NULL;
	gsize n = 0;
	assert_true(g_file_get_contents(png_path, &png, &n, NULL));
	struct ocr_result r;
	GError *err = NULL;
	struct ocr_settings s = { .languages = "eng" };
	assert_int_equal(ocr_document_text(&s, "image/png", png, n, &r, &err), 0);
	assert_string_equal(r.engine, "tesseract");
	assert_string_equal(r.language, "eng");
	assert_non_null(strstr(r.text, "310012345678"));
	ocr_result_clear(&r);
	/* The defaults: chi_sim finds no ideograph on this English page, which
	   is then read with chi_sim+eng. */
	assert_int_equal(ocr_document_text(NULL, "image/png", png, n, &r, &err), 0);
	assert_string_equal(r.language, "chi_sim+eng");
	assert_non_null(strstr(r.text, "Account 310012345678"));
	ocr_result_clear(&r);
}

/* Fake PDF tools: pdfinfo says `pages` pages, pdftotext finds no text
   layer, pdftoppm writes the page number into its "image", and tesseract
   logs "S LANG DPI" when it starts and "E" when it ends to `log`, then
   prints for each image of its list: odd pages as Chinese, even ones as
   Latin (marked "fallback" when read with chi_sim+eng), after `body`. */
struct fake_pdf {
	char *log;
	struct ocr_settings s;
};

static void fake_pdf_tools(struct fixture *f, struct fake_pdf *fp, unsigned pages, const char *body)
{
	fp->log = g_build_filename(f->dir, "tesseract.log", NULL);
	g_autofree char *info = g_strdup_printf("echo 'Pages: %u'", pages);
	g_autofree char *tess = g_strdup_printf(
		"list=$1 lang= dpi=\n"
		"while [ $# -gt 0 ]; do case $1 in -l) lang=$2; shift;; --dpi) dpi=$2; shift;; esac; shift; done\n"
		"echo \"S $lang $dpi $$\" >> '%s'\n"
		"%s\n"
		"while read -r img; do n=$(cat \"$img\")\n"
		"  if [ $((n %% 2)) = 1 ]; then echo \"第${n}页投诉内容\"\n"
		"  elif [ \"$lang\" = chi_sim+eng ]; then echo \"Page $n fallback\"\n"
		"  else echo \"Paqe $n latin\"; fi; printf '\\f'\n"
		"done < \"$list\"\n"
		"echo E >> '%s'", fp->log, body, fp->log);
	fp->s = (struct ocr_settings){
		.seconds = 10,
		.pdfinfo = fake_tool(f, "fake-pdfinfo", info),
		.pdftotext = fake_tool(f, "fake-pdftotext", "exit 0"),
		.pdftoppm = fake_tool(f, "fake-pdftoppm", "echo \"$6\" > \"${10}.pgm\""),
		.tesseract = fake_tool(f, "fake-tesseract-pages", tess),
	};
}

static void fake_pdf_free(struct fake_pdf *fp)
{
	g_free(fp->log);
	g_free((char *)fp->s.pdfinfo);
	g_free((char *)fp->s.pdftotext);
	g_free((char *)fp->s.pdftoppm);
	g_free((char *)fp->s.tesseract);
}

/* The most tesseract children the log shows running at once, and how many
   started with the languages `lang` (NULL: any). */
static unsigned log_max_running(const char *log, const char *lang, unsigned *started_r)
{
	g_autofree char *text = NULL;
	if (!g_file_get_contents(log, &text, NULL, NULL))
		return 0;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	unsigned run = 0, max = 0;
	*started_r = 0;
	for (size_t i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == 'S') {
			run++;
			max = MAX(max, run);
			g_auto(GStrv) w = g_strsplit(lines[i], " ", -1);
			if (lang == NULL || (w[1] != NULL && strcmp(w[1], lang) == 0))
				(*started_r)++;
		} else if (lines[i][0] == 'E') {
			run--;
		}
	}
	return max;
}

static int read_fake_pdf(struct fake_pdf *fp, struct ocr_result *r, GError **error)
{
	return ocr_document_text(&fp->s, "application/pdf", "%PDF-1.4 fake", 13, r, error);
}

/* Six image-only pages over the cores: the text in page order, the
   rasterisation dpi told to tesseract, the Latin pages (2, 4, 6) read again
   with chi_sim+eng and noted, the Chinese ones not. */
static void test_pages_parallel_fallback(void **state)
{
	struct fake_pdf fp;
	fake_pdf_tools(*state, &fp, 6, "sleep 0.3");
	struct ocr_result r;
	GError *err = NULL;
	if (read_fake_pdf(&fp, &r, &err) < 0)
		fail_msg("%s", err->message);
	assert_string_equal(r.text, "第1页投诉内容\n\nPage 2 fallback\n\n第3页投诉内容\n\n"
			    "Page 4 fallback\n\n第5页投诉内容\n\nPage 6 fallback");
	assert_string_equal(r.engine, "tesseract");
	assert_string_equal(r.language, "chi_sim, chi_sim+eng");
	assert_int_equal(r.pages, 6);
	bool noted = false;
	for (guint i = 0; i < r.notes->len; i++)
		noted |= strstr(r.notes->pdata[i], "page 2, 4, 6 read with chi_sim+eng") != NULL;
	assert_true(noted);
	ocr_result_clear(&r);
	unsigned cores = MIN(g_get_num_processors(), 6), chi = 0, fb = 0, any = 0;
	unsigned max = log_max_running(fp.log, "chi_sim", &chi);
	log_max_running(fp.log, "chi_sim+eng", &fb);
	assert_int_equal(chi, cores);
	assert_int_equal(fb, MIN(cores, 3));
	assert_int_equal(max, cores);
	g_autofree char *log = NULL;
	assert_true(g_file_get_contents(fp.log, &log, NULL, NULL));
	assert_non_null(strstr(log, "S chi_sim 200 "));
	/* jobs = 1: one child, the same text. */
	unlink(fp.log);
	fp.s.jobs = 1;
	assert_int_equal(read_fake_pdf(&fp, &r, &err), 0);
	assert_non_null(strstr(r.text, "第5页投诉内容\n\nPage 6 fallback"));
	ocr_result_clear(&r);
	assert_int_equal(log_max_running(fp.log, NULL, &any), 1);
	assert_int_equal(any, 2);
	/* No fallback languages: the pages as chi_sim read them. */
	unlink(fp.log);
	fp.s.fallback_languages = "";
	assert_int_equal(read_fake_pdf(&fp, &r, &err), 0);
	assert_string_equal(r.language, "chi_sim");
	assert_non_null(strstr(r.text, "Paqe 2 latin"));
	ocr_result_clear(&r);
	fake_pdf_free(&fp);
}

struct reader {
	struct fake_pdf *fp;
	int rc;
};

static void *read_in_thread(void *p)
{
	struct reader *rd = p;
	struct ocr_result r;
	GError *err = NULL;
	rd->rc = read_fake_pdf(rd->fp, &r, &err);
	if (rd->rc == 0)
		ocr_result_clear(&r);
	g_clear_error(&err);
	return NULL;
}

/* Three documents read at once by three threads: never more tesseract
   children in the process than cores. */
static void test_pages_cores_shared(void **state)
{
	struct fake_pdf fp;
	fake_pdf_tools(*state, &fp, 4, "sleep 0.3");
	struct reader rd[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		rd[i] = (struct reader){ .fp = &fp, .rc = -2 };
		assert_int_equal(pthread_create(&th[i], NULL, read_in_thread, &rd[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rd[i].rc, 0);
	}
	unsigned started = 0;
	unsigned max = log_max_running(fp.log, NULL, &started);
	assert_true(max >= 1 && max <= g_get_num_processors());
	assert_true(started >= 3);
	fake_pdf_free(&fp);
}

/* One child of a document crashes, or hangs past its time, while another
   still runs: the document fails with that reason at once and the other
   child is killed. */
static void test_pages_child_fails(void **state)
{
	struct fixture *f = *state;
	g_autofree char *pidfile = g_build_filename(f->dir, "sibling.pid", NULL);
	g_autofree char *body = g_strdup_printf(
		"if grep -qx 3 $(cat \"$list\"); then kill -SEGV $$; fi\n"
		"if grep -qx 1 $(cat \"$list\"); then echo $$ > '%s'; exec sleep 30; fi", pidfile);
	struct fake_pdf fp;
	fake_pdf_tools(f, &fp, 4, body);
	struct ocr_result r;
	GError *err = NULL;
	gint64 t0 = g_get_monotonic_time();
	assert_int_equal(read_fake_pdf(&fp, &r, &err), -1);
	assert_true(g_get_monotonic_time() - t0 < 3 * G_USEC_PER_SEC);
	bool two = g_get_num_processors() >= 2;
	/* One core: a single child has every page and crashes. */
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_CRASHED));
	assert_non_null(strstr(err->message, "signal 11"));
	g_clear_error(&err);
	g_autofree char *pid = NULL;
	if (two && g_file_get_contents(pidfile, &pid, NULL, NULL)) {
		g_usleep(100000);
		g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", atoi(pid));
		g_autofree char *stat = NULL;
		if (g_file_get_contents(stat_path, &stat, NULL, NULL))
			assert_non_null(strstr(stat, ") Z "));
	}
	fake_pdf_free(&fp);
	/* Page 1's child hangs (1 s limit), the others are fine. */
	fake_pdf_tools(f, &fp, 4, "if grep -qx 1 $(cat \"$list\"); then exec sleep 30; fi");
	fp.s.seconds = 1;
	t0 = g_get_monotonic_time();
	assert_int_equal(read_fake_pdf(&fp, &r, &err), -1);
	assert_true(g_get_monotonic_time() - t0 < 3 * G_USEC_PER_SEC);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_TIMEOUT));
	g_clear_error(&err);
	fake_pdf_free(&fp);
}

static int run_fake(struct fixture *f, const char *name, const char *body, unsigned seconds,
		    GError **error, double *elapsed_r)
{
	g_autofree char *tool = fake_tool(f, name, body);
	struct ocr_settings s = { .tesseract = tool, .seconds = seconds };
	struct ocr_result r;
	gint64 t0 = g_get_monotonic_time();
	int rc = ocr_document_text(&s, "image/png", "\x89PNG fake", 9, &r, error);
	if (elapsed_r != NULL)
		*elapsed_r = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	if (rc == 0)
		ocr_result_clear(&r);
	return rc;
}

/* A child that hangs is killed at its time limit, and its whole process
   group with it (the grandchild sleep too). */
static void test_fake_hang_times_out(void **state)
{
	struct fixture *f = *state;
	g_autofree char *pidfile = g_build_filename(f->dir, "grandchild.pid", NULL);
	g_autofree char *body = g_strdup_printf("sleep 60 & echo $! > '%s'\nwait", pidfile);
	GError *err = NULL;
	double secs = 0;
	assert_int_equal(run_fake(f, "fake-tesseract-hang", body, 1, &err, &secs), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_TIMEOUT));
	assert_non_null(strstr(err->message, "time limit"));
	assert_true(secs < 3.0);
	g_clear_error(&err);
	g_autofree char *pid = NULL;
	assert_true(g_file_get_contents(pidfile, &pid, NULL, NULL));
	g_usleep(200000);
	/* Gone, or a zombie waiting for init to reap it: not sleeping any more. */
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", atoi(pid));
	g_autofree char *stat = NULL;
	if (g_file_get_contents(stat_path, &stat, NULL, NULL))
		assert_non_null(strstr(stat, ") Z "));
}

/* A child that spins on the CPU hits RLIMIT_CPU or the wall clock. */
static void test_fake_spin_limited(void **state)
{
	GError *err = NULL;
	double secs = 0;
	assert_int_equal(run_fake(*state, "fake-tesseract-spin", "while :; do :; done", 1, &err, &secs), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_TIMEOUT));
	assert_true(secs < 3.0);
	g_clear_error(&err);
}

static void test_fake_crash(void **state)
{
	GError *err = NULL;
	assert_int_equal(run_fake(*state, "fake-tesseract-crash", "kill -SEGV $$", 10, &err, NULL), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_CRASHED));
	assert_non_null(strstr(err->message, "signal 11"));
	g_clear_error(&err);
}

static void test_fake_failures(void **state)
{
	struct fixture *f = *state;
	GError *err = NULL;
	assert_int_equal(run_fake(f, "fake-tesseract-silent", "exit 0", 10, &err, NULL), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_NO_TEXT));
	g_clear_error(&err);
	assert_int_equal(run_fake(f, "fake-tesseract-refuses", "echo 'Error in pixRead' >&2; exit 1",
				  10, &err, NULL), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_UNREADABLE));
	assert_non_null(strstr(err->message, "pixRead"));
	g_clear_error(&err);
	/* Limits are in force in the child: no core dumps, bounded files. */
	assert_int_equal(run_fake(f, "fake-tesseract-limits",
				  "[ \"$(ulimit -c)\" = 0 ] && [ \"$(ulimit -f)\" != unlimited ] && "
				  "echo limited", 10, &err, NULL), 0);
	struct ocr_settings s = { .tesseract = "/nonexistent/fake-tesseract" };
	struct ocr_result r;
	assert_int_equal(ocr_document_text(&s, "image/png", "\x89PNG", 4, &r, &err), -1);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_SYSTEM));
	g_clear_error(&err);
}

static void *cancel_later(void *p)
{
	g_usleep(200000);
	g_atomic_int_set((gint *)p, 1);
	return NULL;
}

static void test_fake_cancelled(void **state)
{
	g_autofree char *tool = fake_tool(*state, "fake-tesseract-slow", "exec sleep 30");
	gint cancel = 0;
	struct ocr_settings s = { .tesseract = tool, .seconds = 30, .cancel = &cancel };
	struct ocr_result r;
	GError *err = NULL;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, cancel_later, &cancel), 0);
	gint64 t0 = g_get_monotonic_time();
	assert_int_equal(ocr_document_text(&s, "image/png", "\x89PNG", 4, &r, &err), -1);
	assert_true(g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC);
	assert_true(g_error_matches(err, OCR_ERROR, OCR_ERROR_CANCELLED));
	g_clear_error(&err);
	pthread_join(th, NULL);
}

static void test_plain_text(void **state)
{
	(void)state;
	struct ocr_result r;
	GError *err = NULL;
	const char *gbk = "\xd7\xca\xbd\xf0\xd5\xcb\xba\xc5 310012345678\r\n";   /* 资金账号 in GBK */
	assert_int_equal(ocr_document_text(NULL, "text/plain", gbk, strlen(gbk), &r, &err), 0);
	assert_string_equal(r.engine, "text");
	assert_string_equal(r.text, "资金账号 310012345678");
	ocr_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_dispatch),
		cmocka_unit_test(test_empty_and_unsupported),
		cmocka_unit_test_setup_teardown(test_docx_paragraphs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docx_strict_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docx_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docx_entities_not_expanded, setup, teardown),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_tiff_pages),
		cmocka_unit_test(test_pdf_text_layer),
		cmocka_unit_test_setup_teardown(test_image_ocr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_hang_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_spin_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_parallel_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_cores_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_child_fails, setup, teardown),
		cmocka_unit_test(test_plain_text),
	};
	return cmocka_run_group_tests_name("parsers/ocr", tests, NULL, NULL);
}
