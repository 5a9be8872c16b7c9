/* The configuration: defaults, relative paths, and errors that name the file,
   section, key, value and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/config.h"

static struct config *load(const char *text, GError **err)
{
	return config_load_data(text, strlen(text), "/etc/intake/intake.conf", err);
}

/* Loads text expecting an error; checks that each of the words is in it. */
static void expect_error(const char *text, const char *const *words)
{
	GError *err = NULL;
	struct config *cfg = load(text, &err);
	assert_null(cfg);
	assert_non_null(err);
	for (size_t i = 0; words[i] != NULL; i++) {
		if (strstr(err->message, words[i]) == NULL)
			fail_msg("\"%s\" not in error \"%s\"", words[i], err->message);
	}
	g_error_free(err);
}

static void test_defaults(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("", &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->timezone, "Asia/Shanghai");
	assert_int_equal(cfg->acceptance_days, 3);
	assert_int_equal(cfg->handling_days, 20);
	assert_int_equal(cfg->extension_days, 20);
	assert_int_equal(cfg->close_of_business, -1);
	assert_string_equal(cfg->reference_prefix, "TS");
	assert_int_equal(cfg->limits.mime_depth, 20);
	assert_int_equal(cfg->limits.message_bytes, 50u << 20);
	assert_int_equal(cfg->imap->len, 0);
	assert_null(cfg->smtp.url);
	config_free(cfg);
}

static void test_relative_paths(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("[store]\npath = ../var/x.db\nspool = /srv/spool\n"
				  "[calendar]\nfile = calendar/cn.conf\nclose_of_business = 17:30\n",
				  &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->store_path, "/etc/intake/../var/x.db");
	assert_string_equal(cfg->spool_path, "/srv/spool");
	assert_string_equal(cfg->calendar_file, "/etc/intake/calendar/cn.conf");
	assert_int_equal(cfg->close_of_business, 17 * 60 + 30);
	config_free(cfg);
}

static void test_bad_values_named(void **state)
{
	(void)state;
	expect_error("[calendar]\ntimezone = Mars/Olympus\n",
		     (const char *const[]){ "/etc/intake/intake.conf", "[calendar]", "timezone",
					    "Mars/Olympus", "expected", NULL });
	expect_error("[calendar]\nclose_of_business = 25:99\n",
		     (const char *const[]){ "close_of_business", "25:99", "HH:MM", NULL });
	expect_error("[limits]\nmessage_bytes = lots\n",
		     (const char *const[]){ "[limits]", "message_bytes", "lots", "size", NULL });
	expect_error("[calendar]\nacceptance_days = -3\n",
		     (const char *const[]){ "acceptance_days", "-3", NULL });
	expect_error("[intake]\nlog_level = loud\n",
		     (const char *const[]){ "log_level", "loud", "debug, info, warn or error", NULL });
}

/* [intake] regulator_domains / regulator_phrases: comma-separated lists;
   absent, NULL (the built-in lists); present but empty, an error. */
static void test_regulator_lists(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("[intake]\nregulator_domains = csrc.gov.cn, , sz.csrc.gov.cn\n"
				  "regulator_phrases = 证监局转办,12386\n", &err);
	assert_non_null(cfg);
	assert_int_equal(g_strv_length(cfg->regulator_domains), 2);
	assert_string_equal(cfg->regulator_domains[1], "sz.csrc.gov.cn");
	assert_string_equal(cfg->regulator_phrases[0], "证监局转办");
	assert_string_equal(cfg->regulator_phrases[1], "12386");
	config_free(cfg);
	cfg = load("", &err);
	assert_null(cfg->regulator_domains);
	assert_null(cfg->regulator_phrases);
	config_free(cfg);
	expect_error("[intake]\nregulator_domains = ,\n",
		     (const char *const[]){ "regulator_domains", "words separated by commas", NULL });
}

static void test_unknown_key_and_section(void **state)
{
	(void)state;
	expect_error("[store]\npaht = x.db\n", (const char *const[]){ "[store]", "paht", NULL });
	expect_error("[stroe]\npath = x.db\n", (const char *const[]){ "stroe", NULL });
}

static void test_imap_section(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("[imap main]\nurl = imaps://127.0.0.1:993/INBOX\nuser = ts\n"
				  "password_file = imap.pass\nafter = move:Processed\n"
				  "poll_interval = 2m\n", &err);
	assert_non_null(cfg);
	assert_int_equal(cfg->imap->len, 1);
	const struct config_imap *m = cfg->imap->pdata[0];
	assert_string_equal(m->name, "main");
	assert_string_equal(m->after, "move:Processed");
	assert_int_equal(m->poll_interval_s, 120);
	assert_string_equal(m->password_file, "/etc/intake/imap.pass");
	assert_true(m->tls_verify);
	assert_true(m->idle);
	config_free(cfg);
	expect_error("[imap main]\nurl = http://x/INBOX\nuser = ts\npassword_file = p\n",
		     (const char *const[]){ "[imap main]", "url", "http://x/INBOX", NULL });
	expect_error("[imap main]\nurl = imaps://x/INBOX\nuser = ts\npassword_file = p\n"
		     "after = delete\n",
		     (const char *const[]){ "after", "delete", "move:FOLDER or flag", NULL });
}

/* idle = false: that mailbox is polled only; anything but a boolean is refused. */
static void test_imap_idle(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("[imap a]\nurl = imaps://x/INBOX\nuser = ts\npassword_file = p\n"
				  "idle = false\n"
				  "[imap b]\nurl = imaps://x/INBOX\nuser = ts\npassword_file = p\n"
				  "idle = yes\n", &err);
	assert_non_null(cfg);
	assert_int_equal(cfg->imap->len, 2);
	assert_false(((const struct config_imap *)cfg->imap->pdata[0])->idle);
	assert_true(((const struct config_imap *)cfg->imap->pdata[1])->idle);
	config_free(cfg);
	expect_error("[imap main]\nurl = imaps://x/INBOX\nuser = ts\npassword_file = p\n"
		     "idle = sometimes\n",
		     (const char *const[]){ "[imap main]", "idle", "sometimes", "true or false",
					    NULL });
}

static void test_reminders(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("[reminders]\ntime = 09:00\nto = a@x.cn, b@y.cn;c@z.cn\n", &err);
	assert_non_null(cfg);
	assert_int_equal(cfg->reminders.time, 9 * 60);
	assert_int_equal(g_strv_length(cfg->reminders.to), 3);
	assert_string_equal(cfg->reminders.to[2], "c@z.cn");
	config_free(cfg);
	expect_error("[reminders]\ntime = 09:00\nto = nobody\n",
		     (const char *const[]){ "[reminders] to", "nobody", NULL });
	expect_error("[reminders]\ntime = 09:00\nto = \xff\xfe\n",
		     (const char *const[]){ "[reminders] to", NULL });
	expect_error("[reminders]\nto = a@x.cn\n", (const char *const[]){ "time", "HH:MM", NULL });
}

static void test_parsers(void **state)
{
	(void)state;
	uint64_t v = 0;
	int m = 0;
	assert_int_equal(config_parse_duration("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(config_parse_duration("5m", &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(config_parse_duration("1d", &v), 0);
	assert_int_equal(v, 86400);
	assert_int_equal(config_parse_duration("5x", &v), -1);
	assert_int_equal(config_parse_duration("", &v), -1);
	assert_int_equal(config_parse_size("25M", &v), 0);
	assert_int_equal(v, 25u << 20);
	assert_int_equal(config_parse_size("10k", &v), 0);
	assert_int_equal(v, 10240);
	assert_int_equal(config_parse_size("99999999999999999999G", &v), -1);
	assert_int_equal(config_parse_clock("17:30", &m), 0);
	assert_int_equal(m, 1050);
	assert_int_equal(config_parse_clock("24:00", &m), -1);
	assert_int_equal(config_parse_clock("7:3", &m), -1);
}

/* [dropdir] settle_time: whole seconds as before, and sub-second values;
   the default stays 2 s; below 100 ms or above 1 h is refused. */
static void test_dropdir_settle_time(void **state)
{
	(void)state;
	const struct { const char *text; uint64_t ms; } ok[] = {
		{ "500ms", 500 }, { "0.5", 500 }, { "0.25s", 250 }, { "1.5", 1500 }, { "2", 2000 },
		{ "2s", 2000 }, { "1m", 60000 }, { "100ms", 100 }, { "0.125", 125 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
		uint64_t v = 0;
		if (config_parse_millis(ok[i].text, &v) != 0 || v != ok[i].ms)
			fail_msg("%s: %d, %" G_GUINT64_FORMAT " ms", ok[i].text,
				 config_parse_millis(ok[i].text, &v), v);
	}
	const char *bad[] = { "", "ms", ".5", "1.", "1.2345", "0.5ms", "1.5m", "-1", "5x", "1 s",
			      "99999999999ms", NULL };
	for (size_t i = 0; bad[i] != NULL; i++) {
		uint64_t v = 0;
		if (config_parse_millis(bad[i], &v) != -1)
			fail_msg("\"%s\" accepted as %" G_GUINT64_FORMAT " ms", bad[i], v);
	}
	const char *base = "[dropdir scans]\npath = /srv/scans\nchannel = letter\n";
	GError *err = NULL;
	struct config *cfg = load(base, &err);
	assert_non_null(cfg);
	assert_int_equal(((const struct config_dropdir *)cfg->dropdirs->pdata[0])->settle_ms, 2000);
	config_free(cfg);
	g_autofree char *half = g_strconcat(base, "settle_time = 0.5\n", NULL);
	cfg = load(half, &err);
	assert_non_null(cfg);
	assert_int_equal(((const struct config_dropdir *)cfg->dropdirs->pdata[0])->settle_ms, 500);
	config_free(cfg);
	const char *refused[] = { "settle_time = 50ms\n", "settle_time = 2h\n", "settle_time = soon\n",
				  NULL };
	for (size_t i = 0; refused[i] != NULL; i++) {
		g_autofree char *text = g_strconcat(base, refused[i], NULL);
		expect_error(text, (const char *const[]){ "[dropdir scans]", "settle_time",
							  "from 100ms to 1h", NULL });
	}
}

/* [limits] OCR languages and children per document: defaults, the
   fallback off when the languages are set alone or with "none", and
   malformed values refused. */
static void test_ocr_limits(void **state)
{
	(void)state;
	GError *err = NULL;
	struct config *cfg = load("", &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->limits.ocr_languages, "chi_sim");
	assert_string_equal(cfg->limits.ocr_fallback_languages, "chi_sim+eng");
	assert_int_equal(cfg->limits.ocr_jobs, MAX(1u, g_get_num_processors()));
	config_free(cfg);
	cfg = load("[limits]\nocr_languages = eng\nocr_jobs = 1\n", &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->limits.ocr_languages, "eng");
	assert_string_equal(cfg->limits.ocr_fallback_languages, "");
	assert_int_equal(cfg->limits.ocr_jobs, 1);
	config_free(cfg);
	cfg = load("[limits]\nocr_languages = chi_sim+chi_tra\nocr_fallback_languages = eng\n", &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->limits.ocr_fallback_languages, "eng");
	config_free(cfg);
	cfg = load("[limits]\nocr_fallback_languages = none\n", &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->limits.ocr_languages, "chi_sim");
	assert_string_equal(cfg->limits.ocr_fallback_languages, "");
	config_free(cfg);
	expect_error("[limits]\nocr_languages = chi_sim eng\n",
		     (const char *const[]){ "[limits]", "ocr_languages", "chi_sim eng", "joined by '+'", NULL });
	expect_error("[limits]\nocr_languages = chi_sim+\n",
		     (const char *const[]){ "ocr_languages", "joined by '+'", NULL });
	expect_error("[limits]\nocr_languages = -c\n", (const char *const[]){ "ocr_languages", NULL });
	expect_error("[limits]\nocr_fallback_languages = ../eng\n",
		     (const char *const[]){ "ocr_fallback_languages", "none, or", NULL });
	expect_error("[limits]\nocr_jobs = 0\n",
		     (const char *const[]){ "[limits]", "ocr_jobs", "from 1 to 1024", NULL });
}

static void test_default_path(void **state)
{
	(void)state;
	assert_string_equal(config_default_path("/x.conf"), "/x.conf");
	setenv("INTAKE_CONFIG", "/env.conf", 1);
	assert_string_equal(config_default_path(NULL), "/env.conf");
	unsetenv("INTAKE_CONFIG");
	assert_string_equal(config_default_path(NULL), "config/intake.conf");
}

static void test_missing_file(void **state)
{
	(void)state;
	GError *err = NULL;
	assert_null(config_load("/nonexistent/intake.conf", &err));
	assert_non_null(strstr(err->message, "/nonexistent/intake.conf"));
	g_error_free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_bad_values_named),
		cmocka_unit_test(test_regulator_lists),
		cmocka_unit_test(test_unknown_key_and_section),
		cmocka_unit_test(test_imap_section),
		cmocka_unit_test(test_imap_idle),
		cmocka_unit_test(test_reminders),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_dropdir_settle_time),
		cmocka_unit_test(test_ocr_limits),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
