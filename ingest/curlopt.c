/* The libcurl options shared by every IMAP connection; see curlopt.h. */
#include "ingest/curlopt.h"

#include <glib.h>

void curlopt_set_login(CURL *e, const struct curlopt_login *l)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)MIN(l->timeout_s, 30u));
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USE_SSL, l->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, l->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, l->tls_verify ? 2L : 0L);
	if (l->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, l->ca_file);
	curl_easy_setopt(e, CURLOPT_USERNAME, l->user);
	curl_easy_setopt(e, CURLOPT_PASSWORD, l->password);
	curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, l->token);
}
