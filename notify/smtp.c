/* SMTP submission with libcurl; see notify.h. One easy handle per session,
   so that libcurl keeps the connection open from one notice to the next.
   TLS is required: smtps:// (implicit) or smtp:// with STARTTLS
   (CURLUSESSL_ALL); `[smtp] starttls = no` exists for tests only and says
   so in the log. */
#include "notify/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"

struct notify_smtp {
	CURL *curl;
	const struct config_smtp *cfg;
	char *password;
	const atomic_int *cancel;   /* >= NOTIFY_CANCEL_NOW aborts the exchange */
	char errbuf[CURL_ERROR_SIZE];
};

/* Called by libcurl while an exchange runs: non-zero aborts it. */
static int notify_smtp_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
				curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	const struct notify_smtp *s = ctx;
	return s->cancel != NULL && atomic_load(s->cancel) >= NOTIFY_CANCEL_NOW;
}

void notify_smtp_set_cancel(struct notify_smtp *s, const atomic_int *cancel)
{
	s->cancel = cancel;
	curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, notify_smtp_progress);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, cancel != NULL ? 0L : 1L);
}

/* The message being uploaded. */
struct notify_upload {
	const char *data;
	size_t len, pos;
};

static size_t notify_smtp_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct notify_upload *u = ctx;
	size_t want = size * n, left = u->len - u->pos;
	size_t take = want < left ? want : left;
	memcpy(buf, u->data + u->pos, take);
	u->pos += take;
	return take;
}

int notify_smtp_check(const struct config *cfg, GError **error)
{
	const char *path = cfg->smtp.password_file;
	struct stat sb;
	if (cfg->smtp.url == NULL || path == NULL)
		return 0;
	const char *what = NULL;
	g_autofree char *owned = NULL;
	if (stat(path, &sb) < 0)
		what = owned = g_strdup_printf("a readable file (%s)", g_strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		what = "a regular file";
	else if ((sb.st_mode & 077) != 0)
		what = owned = g_strdup_printf("a file only its owner can read (mode 0600 or stricter), "
					       "not mode %04o: chmod 600 %s",
					       (unsigned)(sb.st_mode & 07777), path);
	if (what == NULL)
		return 0;
	g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_INVALID,
		    "%s: [smtp] password_file = \"%s\": expected %s", cfg->path, path, what);
	return -1;
}

static char *notify_smtp_password(const char *path, GError **error)
{
	struct stat sb;
	if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG,
			    "[smtp] password_file %s: readable by others (mode %04o): chmod 600 %s",
			    path, (unsigned)(sb.st_mode & 07777), path);
		return NULL;
	}
	char *data = NULL;
	GError *ferr = NULL;
	if (!g_file_get_contents(path, &data, NULL, &ferr)) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG, "[smtp] password_file: %s",
			    ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	g_strchomp(data);
	return data;
}

void notify_smtp_free(struct notify_smtp *s)
{
	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	if (s->password != NULL) {
		memset(s->password, 0, strlen(s->password));
		g_free(s->password);
	}
	g_free(s);
}

/* The settings that stay the same for every notice of the session. */
static void notify_smtp_setup(struct notify_smtp *s)
{
	const struct config_smtp *c = s->cfg;
	CURL *h = s->curl;
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (g_ascii_strncasecmp(c->url, "smtp://", 7) == 0)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)(c->starttls ? CURLUSESSL_ALL :
							    CURLUSESSL_NONE));
	if (c->user != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s->password);
	}
	if (c->tls_ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->tls_ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout_s);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, notify_smtp_read);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
}

struct notify_smtp *notify_smtp_new(const struct config_smtp *cfg, GError **error)
{
	static gsize curl_ready = 0;
	if (cfg->url == NULL) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG,
			    "no [smtp] section: notices by e-mail cannot be sent");
		return NULL;
	}
	if (cfg->user != NULL && cfg->password_file == NULL) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG,
			    "[smtp] user is set but password_file is not");
		return NULL;
	}
	if (g_once_init_enter(&curl_ready))
		g_once_init_leave(&curl_ready, curl_global_init(CURL_GLOBAL_DEFAULT) == 0 ? 1 : 2);
	struct notify_smtp *s = g_new0(struct notify_smtp, 1);
	s->cfg = cfg;
	if (cfg->password_file != NULL &&
	    (s->password = notify_smtp_password(cfg->password_file, error)) == NULL) {
		notify_smtp_free(s);
		return NULL;
	}
	if ((s->curl = curl_easy_init()) == NULL) {
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_CONFIG, "curl_easy_init() failed");
		notify_smtp_free(s);
		return NULL;
	}
	if (!cfg->starttls && g_ascii_strncasecmp(cfg->url, "smtp://", 7) == 0)
		log_warn("smtp", "%s: starttls = no: notices go in clear text (for tests only)",
			 cfg->url);
	notify_smtp_setup(s);
	return s;
}

/* The error of a failed exchange, naming the server's last answer. */
static void notify_smtp_error(struct notify_smtp *s, CURLcode rc, long code, GError **error)
{
	const char *why = s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(rc);
	if (rc == CURLE_OK)
		why = "the server did not answer 250 to the message";
	if (code >= 400)
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_SMTP, "%s answered %ld (%s)",
			    s->cfg->url, code, why);
	else
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_SMTP, "%s: %s (last reply %ld)",
			    s->cfg->url, why, code);
}

/* What kind of failure a finished exchange was. */
static enum notify_smtp_failure notify_smtp_classify(CURLcode rc, long code)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
	case CURLE_SSL_CACERT_BADFILE:
		return NOTIFY_SMTP_UNREACHABLE;
	default:
		return code >= 500 && code < 600 ? NOTIFY_SMTP_PERMANENT : NOTIFY_SMTP_TEMPORARY;
	}
}

int notify_smtp_send(struct notify_smtp *s, const char *from_address, const char *to,
		     GBytes *message, enum notify_smtp_failure *failure_r, GError **error)
{
	*failure_r = NOTIFY_SMTP_TEMPORARY;
	if (!notify_address_valid(from_address) || !notify_address_valid(to)) {
		*failure_r = NOTIFY_SMTP_PERMANENT;
		g_set_error(error, NOTIFY_ERROR, NOTIFY_ERROR_SMTP,
			    "refusing to send from \"%s\" to \"%s\": not plain e-mail addresses",
			    from_address != NULL ? from_address : "", to != NULL ? to : "");
		return -1;
	}
	size_t len = 0;
	struct notify_upload up = { .data = g_bytes_get_data(message, &len) };
	up.len = len;
	g_autofree char *mail_from = g_strdup_printf("<%s>", from_address);
	g_autofree char *rcpt_to = g_strdup_printf("<%s>", to);
	struct curl_slist *rcpt = curl_slist_append(NULL, rcpt_to);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	CURLcode rc = curl_easy_perform(s->curl);
	long code = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	if (rc == CURLE_OK && code == 250)
		return 0;
	*failure_r = notify_smtp_classify(rc, code);
	notify_smtp_error(s, rc, code, error);
	return -1;
}
