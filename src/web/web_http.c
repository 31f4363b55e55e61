/* lkweb's HTTP side (web.h): libmicrohttpd's access handler. It collects a request's body
 * (at most LK_WEB_BODY_MAX bytes: a larger one gets 413, read no further), sends the API
 * paths to web_api.c and the rest to web_static.c, and builds every response here, so
 * each one carries the security headers (Content-Security-Policy, nosniff, no referrer)
 * and every error the same JSON form {"error", "code"}. Events enter from MHD's
 * connection threads.
 *
 * It never talks to lkd itself and never trusts a header or a path: the endpoints check
 * what they use. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "web.h"

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* One request's state between MHD's calls. */
struct request {
    char *body;
    size_t len;
    bool too_large;
};

enum MHD_Result lk_web_queue(struct MHD_Connection *conn, unsigned status,
                             struct MHD_Response *resp)
{
    if (!resp) {
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (!MHD_get_response_header(resp, "Cache-Control")) {
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

enum MHD_Result lk_web_json_with(struct MHD_Connection *conn, unsigned status, json_t *json,
                                 const char *header, const char *value)
{
    char *text = json ? json_dumps(json, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(json);
    if (!text) {
        return MHD_NO;
    }
    struct MHD_Response *resp =
            MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (header) {
        MHD_add_response_header(resp, header, value);
    }
    return lk_web_queue(conn, status, resp);
}

enum MHD_Result lk_web_json(struct MHD_Connection *conn, unsigned status, json_t *json)
{
    return lk_web_json_with(conn, status, json, NULL, NULL);
}

int lk_web_code_of(unsigned status)
{
    switch (status) {
    case 400:
    case 404:
    case 405:
    case 413:
        return LK_EXIT_USAGE;
    case 401:
    case 403:
        return LK_EXIT_DENIED;
    case 503:
    case 504:
        return LK_EXIT_UNREACHABLE;
    default:
        return LK_EXIT_FAILED;
    }
}

enum MHD_Result lk_web_error(struct MHD_Connection *conn, unsigned status, int code,
                             const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One line, whatever a message quoted. */
    for (char *p = msg; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    json_t *j = json_pack("{s:s?, s:i}", "error", msg, "code", code);
    if (!json_object_get(j, "error")) {
        json_object_set_new(j, "error", json_string("(message not UTF-8)"));
    }
    return lk_web_json(conn, status, j);
}

enum MHD_Result lk_web_too_many(struct MHD_Connection *conn, int secs, const char *what)
{
    char after[16];
    snprintf(after, sizeof(after), "%d", secs);
    return lk_web_json_with(conn, 429,
                            json_pack("{s:s, s:i}", "error", what, "code", LK_EXIT_FAILED),
                            "Retry-After", after);
}

enum MHD_Result lk_web_handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void) cls;
    (void) version;
    struct request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req) {
            return MHD_NO;
        }
        *con_cls = req;
        lk_web_conn_reached(conn);
        const char *cl =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > LK_WEB_BODY_MAX) {
            return lk_web_error(conn, 413, LK_EXIT_USAGE,
                                "request body too large: at most %d bytes", LK_WEB_BODY_MAX);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->too_large || req->len + n > LK_WEB_BODY_MAX) {
            req->too_large = true;
            return MHD_YES;
        }
        char *b = realloc(req->body, req->len + n + 1);
        if (!b) {
            return MHD_NO;
        }
        memcpy(b + req->len, upload_data, n);
        req->body = b;
        req->len += n;
        req->body[req->len] = '\0';
        return MHD_YES;
    }
    if (req->too_large) {
        return lk_web_error(conn, 413, LK_EXIT_USAGE, "request body too large: at most %d bytes",
                            LK_WEB_BODY_MAX);
    }
    if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/metrics") == 0) {
        return lk_web_api(conn, url, method, req->body, req->len);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return lk_web_error(conn, 405, LK_EXIT_USAGE, "method %s not allowed here",
                            strlen(method) < 16 ? method : "(long)");
    }
    return lk_web_static(conn, url);
}

void lk_web_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void) cls;
    (void) conn;
    (void) toe;
    struct request *req = *con_cls;
    if (req) {
        free(req->body);
        free(req);
        *con_cls = NULL;
    }
}
