/* lk_webhook: the delivery of a webhook alert hook (docs/ALERTS.md). lkd's alerts
 * (core/alerts.c) run it like an alert executable, in a session of its own, killed at the
 * hook's timeout: the event's JSON on stdin, the hook in the environment (LK_WEBHOOK_URL,
 * LK_WEBHOOK_SECRET, LK_WEBHOOK_TIMEOUT: never in argv, which every user can read). It
 * POSTs the JSON with Content-Type: application/json, X-OpenKeeper-Secret: <secret> and
 * X-OpenKeeper-Signature: sha256=<HMAC-SHA256 of the body keyed with the secret, hex>, and
 * exits 0 on a 2xx answer, 1 otherwise (one line on stderr says why; lkd logs it).
 * It must never print the secret or the URL's path (a chat webhook's URL holds a token),
 * follow a redirect, or speak anything but HTTP and HTTPS. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LK_SOFTWARE_VERSION
#define LK_SOFTWARE_VERSION "unknown"
#endif

#define PROG          "lk_webhook"
#define BODY_MAX      (1024 * 1024)
#define TIMEOUT_MAX_S 300
#define ENV_URL       "LK_WEBHOOK_URL"
#define ENV_SECRET    "LK_WEBHOOK_SECRET"
#define ENV_TIMEOUT   "LK_WEBHOOK_TIMEOUT"

/* The answer's body is not used: read and dropped, so the server is not left writing. */
static size_t discard(char *data, size_t size, size_t n, void *userdata)
{
    (void) data;
    (void) userdata;
    return size * n;
}

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", PROG, what);
    return 1;
}

static char *read_body(size_t *ret_len)
{
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            if (cap >= BODY_MAX) {
                free(buf);
                return NULL;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, stdin);
        len += n;
        if (n == 0) {
            break;
        }
    }
    if (buf && ferror(stdin)) {
        free(buf);
        return NULL;
    }
    *ret_len = len;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--version") == 0) {
            printf("%s %s\n", PROG, LK_SOFTWARE_VERSION);
            return 0;
        }
        printf("usage: %s < event.json\n"
               "POSTs the event on stdin to $%s, signed with $%s (HMAC-SHA256),\n"
               "within $%s seconds; exits 0 on a 2xx answer. lkd runs it for a webhook\n"
               "alert hook (docs/ALERTS.md).\n",
               PROG, ENV_URL, ENV_SECRET, ENV_TIMEOUT);
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    const char *url = getenv(ENV_URL);
    const char *secret = getenv(ENV_SECRET);
    const char *timeout_text = getenv(ENV_TIMEOUT);
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        return fail("no http:// or https:// URL in " ENV_URL);
    }
    if (!secret || !secret[0]) {
        return fail("no secret in " ENV_SECRET);
    }
    long timeout = timeout_text ? strtol(timeout_text, NULL, 10) : 10;
    if (timeout < 1 || timeout > TIMEOUT_MAX_S) {
        timeout = 10;
    }
    if (sodium_init() < 0) {
        return fail("cannot initialise libsodium");
    }
    size_t len = 0;
    char *body = read_body(&len);
    if (!body) {
        return fail("cannot read the event on stdin (at most 1 MiB)");
    }
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *) secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));

    size_t hsize = strlen(secret) + 64;
    char *secret_header = malloc(hsize);
    char signature_header[sizeof(hex) + 64];
    if (!secret_header) {
        return fail("out of memory");
    }
    snprintf(secret_header, hsize, "X-OpenKeeper-Secret: %s", secret);
    snprintf(signature_header, sizeof(signature_header), "X-OpenKeeper-Signature: sha256=%s", hex);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        return fail("cannot initialise libcurl");
    }
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, secret_header);
    headers = curl_slist_append(headers, signature_header);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    if (!curl || !headers) {
        return fail("cannot set up the request: out of memory");
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    (void) curl_easy_setopt(curl, CURLOPT_URL, url);
    (void) curl_easy_setopt(curl, CURLOPT_POST, 1L);
    (void) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    (void) curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
    (void) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    (void) curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    (void) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
    (void) curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    (void) curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    (void) curl_easy_setopt(curl, CURLOPT_USERAGENT, "OpenKeeper-lk_webhook/" LK_SOFTWARE_VERSION);
    (void) curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    (void) curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    sodium_memzero(secret_header, hsize);
    free(secret_header);
    free(body);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s: POST failed: %s\n", PROG, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return 1;
    }
    if (status < 200 || status > 299) {
        fprintf(stderr, "%s: POST answered with HTTP status %ld\n", PROG, status);
        return 1;
    }
    return 0;
}
