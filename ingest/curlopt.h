/* The libcurl options every IMAP connection of a mailbox shares, the
   poller's transfers (imap.c) and the IDLE watcher's connection (idle.c)
   alike: connect timeout, keepalive, TLS and the login. Set in one place so
   that both connections are secured and logged in the same way. */
#ifndef INTAKE_INGEST_CURLOPT_H
#define INTAKE_INGEST_CURLOPT_H

#include <stdbool.h>
#include <curl/curl.h>

/* How to reach and log in to one mailbox's server. The strings are the
   caller's; libcurl copies them when they are set. */
struct curlopt_login {
	const char *user;
	const char *password;   /* or NULL */
	const char *token;      /* XOAUTH2 / OAUTHBEARER bearer token, or NULL */
	const char *ca_file;    /* or NULL: the system's CAs */
	bool tls_verify;        /* check the certificate and the host name */
	bool starttls;          /* imap:// requires STARTTLS */
	unsigned timeout_s;     /* the connect timeout is at most 30 s of it */
};

/* Sets on e: no signals, the connect timeout, TCP keepalive, STARTTLS
   required (or not), certificate and host name checks, the CA file, user,
   password and bearer token. Other options (URL, callbacks, transfer
   timeouts) are the caller's. */
void curlopt_set_login(CURL *e, const struct curlopt_login *l);

#endif
