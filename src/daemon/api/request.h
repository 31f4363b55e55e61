/* The transport-neutral request layer: one request per client, whatever carried it (the
 * Unix socket today, HTTP next). A transport creates the request with the caller's role
 * and its own ops table, hands it one request message with lk_req_dispatch, and frees it
 * once its connection is gone. The handlers answer through the reply helpers of
 * api_internal.h, which call the ops; they never see the transport.
 *
 * The request type is still named struct conn (api_internal.h) so that the handlers
 * read as before; it holds no transport field. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "roles.h"

struct conn;
struct lk_api;

/* What a transport does for the requests it carries. tconn is the transport's own
 * connection, given to lk_req_new. The contract:
 * - send() gets one whole JSON message (compact, ASCII, no framing, no newline; msg is
 *   malloc'ed, NUL-terminated at len, and the transport's from the call on, whatever it
 *   returns: it frees msg, so a large reply is never copied). Messages come in order:
 *   zero or more progress or event messages, then at most one final reply. Framing is
 *   the transport's business (the socket adds a newline; HTTP may use chunks or SSE). It
 *   returns 0, or a negative errno when it cannot take the message (the request then
 *   calls close()).
 * - end() follows the final reply: close once everything sent is delivered.
 * - close() closes now, dropping what is not delivered (the client went away, or the
 *   request cannot go on).
 * A transport that closes (through end, close, or on its own: end of input, timeout)
 * calls lk_req_closed at once, and lk_req_free when its connection is gone; in between,
 * the request sends nothing. None of the ops calls back into the request layer except
 * lk_req_closed. */
struct lk_transport_ops {
    int (*send)(void *tconn, char *msg, size_t len);
    void (*end)(void *tconn);
    void (*close)(void *tconn);
};

/* A request of a caller with role (LK_ROLE_NONE: refused), carried by ops and tconn.
 * NULL when out of memory. */
struct conn *lk_req_new(struct lk_api *api, enum lk_role role, const struct lk_transport_ops *ops,
                        void *tconn);

/* The caller's uid as its transport knows it (SO_PEERCRED), for the events that name who
 * asked (remote commands); -1 (the default) = unknown. */
void lk_req_set_uid(struct conn *req, long long uid);

/* Handles one request message (the JSON text of src/lib/proto.h, NUL-terminated): checks
 * the version, finds the command in the route tables, checks the caller's role, and calls
 * the handler, which replies now or later (a waiting command). Malformed requests, a
 * wrong version, unknown commands and missing roles get a one-line error reply. */
void lk_req_dispatch(struct conn *req, const char *line);

/* The transport is closing req's connection: req sends nothing more and waits no more. */
void lk_req_closed(struct conn *req);

/* Frees req (NULL-safe) and what it holds; its transport connection is gone. */
void lk_req_free(struct conn *req);

/* The replies, through c's transport (named for the handlers that use them). */
/* Sends msg (stolen) on c: a progress or event message. NULL closes c. */
void api_send_msg(struct conn *c, json_t *msg);
/* The final reply: c's transport closes once it is delivered. */
void api_reply_final(struct conn *c, json_t *msg);
void api_reply_ok(struct conn *c, json_t *data);
__attribute__((format(printf, 3, 4))) void api_reply_error(struct conn *c, int code,
                                                           const char *fmt, ...);
