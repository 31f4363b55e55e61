/* lkweb, the web console's HTTP server (docs/WEB.md): what its files share. lkweb is a
 * process of its own that talks to lkd only through $LKROOT/run/lkd.sock, as lkcli does;
 * each file has one concern: lkweb.c (options, start, stop), web_http.c (requests,
 * responses, routing), web_api.c (the /api/v1 endpoints), web_lkd.c (the socket client),
 * web_auth.c (tokens, sessions, CSRF), web_static.c (the dashboard's files), web_sse.c
 * (the live stream). */
#pragma once

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_WEB_BODY_MAX        (64 * 1024) /* bytes of a request body; more: 413 */
#define LK_WEB_STREAMS_MAX     64          /* live streams at once; more: 503 */
#define LK_WEB_HEAD_DEADLINE_S 10          /* a connection's first request head, from its start */

/* The server's settings, fixed once it runs. */
struct lk_web {
    char root[4096];
    char sock[4200]; /* root/run/lkd.sock */
    char ui[4096];   /* the dashboard's files */
    bool tls;
    bool metrics_auth;
    int lkd_timeout_ms; /* a read of lkd's; an action may take longer (web_lkd.c) */
    int rate;           /* a guest or operator token's requests/s (web_limit.c) */
    int quit_fd;        /* readable once lkweb stops: blocking waits end */
};

extern struct lk_web lk_web;

/* ---------------------------------------------------------------- web_lkd.c */

/* One command's outcome. http: 200, or the status its failure maps to (400, 403, 404,
 * 409, 503, 504). data: the reply's data (200). progress: the progress lines (actions). */
struct lk_web_reply {
    int http;
    int code; /* lk exit code */
    json_t *data;
    json_t *progress;
    char error[512];
};

/* Runs cmd with args (stolen, may be NULL) as role as (NULL: lkweb's own, admin), waiting
 * at most timeout_ms for lkd's final reply. Fills *r (free with lk_web_reply_clear). */
void lk_web_lkd_call(const char *cmd, json_t *args, const char *as, int timeout_ms,
                     struct lk_web_reply *r);
void lk_web_reply_clear(struct lk_web_reply *r);

/* A stream of lkd's messages (log --follow). */
struct lk_web_lkd_stream;
/* Opens one: connects and sends the request. NULL with r filled (503) on failure. */
struct lk_web_lkd_stream *lk_web_lkd_open(const char *cmd, json_t *args, const char *as,
                                          struct lk_web_reply *r);
/* The next message within timeout_ms: 1 with *ret (caller decrefs), 0 on timeout, -1 when
 * the stream ended or lkweb stops. */
int lk_web_lkd_next(struct lk_web_lkd_stream *s, int timeout_ms, json_t **ret);
void lk_web_lkd_close(struct lk_web_lkd_stream *s);

/* ---------------------------------------------------------------- web_auth.c */

/* Who is asking: a valid token's identity. */
struct lk_web_who {
    char role[16];
    char name[80];
    char id[24];
    char csrf[64]; /* the session's CSRF token ("" with a Bearer token) */
    char session[64];
    bool cookie;     /* authenticated by the session cookie (CSRF applies) */
    int retry_after; /* with 429: the seconds to wait */
};

/* Authenticates the request (Bearer token, else the session cookie), asking lkd whether
 * the token is still valid. Returns 200 with *who, or 401, 503, 504 with a message, or 429
 * (over the rate, who->retry_after set: lkd was not asked). */
int lk_web_auth(struct MHD_Connection *conn, struct lk_web_who *who, char *err, size_t size);
/* The CSRF checks of an unsafe method: Origin (when present) matches Host; with a cookie,
 * X-CSRF-Token matches the session's. 0 or -1 with a message. */
int lk_web_csrf_check(struct MHD_Connection *conn, const struct lk_web_who *who, char *err,
                      size_t size);
/* A new session for token (valid, of who): fills who->session and who->csrf. -1 when the
 * table is full. */
int lk_web_session_new(const char *token, struct lk_web_who *who);
void lk_web_session_drop(const char *session);
/* Whether the session is still there and its token valid (asked of lkd): the stream's
 * check at each ping. */
bool lk_web_session_valid(const struct lk_web_who *who, const char *bearer);

/* ---------------------------------------------------------------- web_http.c */

/* The access handler (MHD_AccessHandlerCallback) and its completion callback. */
enum MHD_Result lk_web_handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls);
void lk_web_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe);
/* Queues resp (destroyed here) with the security headers every response carries. */
enum MHD_Result lk_web_queue(struct MHD_Connection *conn, unsigned status,
                             struct MHD_Response *resp);
/* Queues {"error":msg,"code":code} with status. */
enum MHD_Result lk_web_error(struct MHD_Connection *conn, unsigned status, int code,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Queues json (stolen) with status. */
enum MHD_Result lk_web_json(struct MHD_Connection *conn, unsigned status, json_t *json);
/* The same with one more header (name and value, or NULL): a cookie, a Retry-After. */
enum MHD_Result lk_web_json_with(struct MHD_Connection *conn, unsigned status, json_t *json,
                                 const char *header, const char *value);
/* The lk exit code that goes with an HTTP status. */
int lk_web_code_of(unsigned status);

/* ---------------------------------------------------------------- web_api.c */

/* The /api/v1 and /metrics endpoints: path after the host, method, body (NULL for GET). */
enum MHD_Result lk_web_api(struct MHD_Connection *conn, const char *url, const char *method,
                           const char *body, size_t body_len);

/* ---------------------------------------------------------------- web_static.c */

/* GET / and /ui/...: the dashboard's files from lk_web.ui. */
enum MHD_Result lk_web_static(struct MHD_Connection *conn, const char *url);

/* ---------------------------------------------------------------- web_sse.c */

/* GET /api/v1/stream for who (token: the Bearer token or NULL). */
enum MHD_Result lk_web_stream(struct MHD_Connection *conn, const struct lk_web_who *who,
                              const char *bearer);

/* ---------------------------------------------------------------- web_limit.c */

/* Takes one request of the client's address (10/s, bursts of 20): 0, or the seconds to
 * wait (over the rate). */
int lk_web_limit_address(struct MHD_Connection *conn);
/* Takes one request of token: a valid token known here pays on its own rate (guest and
 * operator; admin: none) and the total, any other token on the address's (*known false).
 * 0, or the seconds to wait. */
int lk_web_limit_token(struct MHD_Connection *conn, const char *token, bool *known);
/* What lkd said of a token that was not known: valid with role, or not (forgotten). */
void lk_web_limit_learn(const char *token, const char *role, bool valid);
/* MHD's connection notification: records each connection's start and end. */
void lk_web_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);
/* The connection's first request head has arrived (the handler saw it). */
void lk_web_conn_reached(struct MHD_Connection *conn);
/* The thread that shuts down connections without a request head past the deadline; it
 * ends once lk_web.quit_fd is readable. */
int lk_web_reaper_start(void);
void lk_web_reaper_join(void);
/* Queues a 429 error (JSON form) with Retry-After: secs. */
enum MHD_Result lk_web_too_many(struct MHD_Connection *conn, int secs, const char *what);
