/* The request layer: one request per client, created by its transport (socket.c) with the
 * caller's role. It parses the request message, checks the protocol version, finds the
 * command in the route tables (api.c, api_cluster.c, api_web.c), lowers the caller's role to
 * the request's "as" when it names a lesser one (lkweb acts with its token's role), checks
 * the role, and calls the handler; the reply helpers send the handlers' messages through
 * the transport's ops (request.h states the contract). Events enter from the transports
 * only: a message, closing, a delivered final reply.
 *
 * It never touches a socket, a buffer or a framing: what it sends is one JSON message at
 * a time, and a transport's connection belongs to the transport. A request is freed only
 * by lk_req_free, from its transport, once the connection is gone. */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "proto.h"

struct conn *lk_req_new(struct lk_api *api, enum lk_role role, const struct lk_transport_ops *ops,
                        void *tconn)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->api = api;
    c->role = role;
    c->ops = ops;
    c->tconn = tconn;
    c->uid = -1;
    c->next = api->conns;
    if (api->conns) {
        api->conns->prev = c;
    }
    api->conns = c;
    return c;
}

void lk_req_set_uid(struct conn *c, long long uid)
{
    c->uid = uid;
}

void lk_req_closed(struct conn *c)
{
    c->closing = true;
    c->wait = WAIT_NONE;
}

void lk_req_free(struct conn *c)
{
    if (!c) {
        return;
    }
    struct lk_api *api = c->api;
    if (c->prev) {
        c->prev->next = c->next;
    } else if (api->conns == c) {
        api->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    api_release(c);
    free(c);
}

/* ---------------------------------------------------------------- replying */

/* Closes c's connection now, unless its transport is closing it already. */
static void req_abort(struct conn *c)
{
    if (!c->closing) {
        c->ops->close(c->tconn);
    }
}

void api_send_msg(struct conn *c, json_t *msg)
{
    if (!msg) {
        req_abort(c);
        return;
    }
    /* lk_proto_dump's text without its newline: the framing is the transport's. */
    char *text = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(msg);
    if (c->closing || !text) {
        free(text);
        return;
    }
    /* The transport owns text from here: a status of a thousand resources is not copied. */
    if (c->ops->send(c->tconn, text, strlen(text)) < 0) {
        req_abort(c);
    }
}

void api_reply_final(struct conn *c, json_t *msg)
{
    c->wait = WAIT_NONE;
    api_send_msg(c, msg);
    if (!c->closing) {
        c->ops->end(c->tconn);
    }
}

void api_reply_ok(struct conn *c, json_t *data)
{
    api_reply_final(c, lk_proto_ok(data));
}

void api_reply_error(struct conn *c, int code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    api_reply_final(c, lk_proto_error(code, text));
}

/* ---------------------------------------------------------------- dispatching */

int lk_req_as(const json_t *req, enum lk_role *ret_role)
{
    const char *as = json_string_value(json_object_get(req, LK_KEY_AS));
    static const enum lk_role roles[] = {LK_ROLE_GUEST, LK_ROLE_OPERATOR, LK_ROLE_ADMIN};
    for (size_t i = 0; as && i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(as, lk_role_name(roles[i])) == 0) {
            *ret_role = roles[i];
            return 0;
        }
    }
    return -1;
}

static const struct route *find_route(const char *cmd)
{
    static const struct route *const tables[] = {lk_api_routes,         lk_api_cluster_routes,
                                                 lk_api_metrics_routes, lk_api_web_routes,
                                                 lk_api_agent_routes,   lk_api_remote_routes};
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (const struct route *r = tables[t]; r->cmd; r++) {
            if (strcmp(r->cmd, cmd) == 0) {
                return r;
            }
        }
    }
    return NULL;
}

int lk_req_parse(const char *line, enum lk_role role, json_t **ret_req,
                 const struct route **ret_route, char *err, size_t err_size)
{
    json_error_t jerr;
    json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    *ret_req = NULL;
    *ret_route = NULL;
    if (!json_is_object(req)) {
        json_decref(req);
        /* jansson quotes the input near the error: printable ASCII only, so that the
         * message is one line and a reply can carry it. */
        for (char *p = jerr.text; *p; p++) {
            if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f) {
                *p = '?';
            }
        }
        snprintf(err, err_size, "malformed request: %s", jerr.text);
        return LK_EXIT_USAGE;
    }
    *ret_req = req;
    json_t *v = json_object_get(req, LK_KEY_VERSION);
    const char *cmd = json_string_value(json_object_get(req, LK_KEY_CMD));
    json_t *args = json_object_get(req, LK_KEY_ARGS);
    if (!json_is_integer(v) || json_integer_value(v) != LK_PROTO_VERSION) {
        snprintf(err, err_size, "unsupported protocol version (this lkd speaks %d)",
                 LK_PROTO_VERSION);
        return LK_EXIT_USAGE;
    }
    if (!cmd || (args && !json_is_object(args))) {
        snprintf(err, err_size, "malformed request: missing cmd or args");
        return LK_EXIT_USAGE;
    }
    enum lk_role as = LK_ROLE_ADMIN;
    if (json_object_get(req, LK_KEY_AS) && lk_req_as(req, &as) < 0) {
        snprintf(err, err_size, "malformed request: '%s' must be guest, operator or admin",
                 LK_KEY_AS);
        return LK_EXIT_USAGE;
    }
    if (as < role) {
        role = as; /* a caller may act with less than its own role, never with more */
    }
    const struct route *route = find_route(cmd);
    if (!route) {
        /* Quoted only when printable: the message stays one line. */
        bool printable = true;
        for (const char *p = cmd; *p; p++) {
            printable = printable && (unsigned char) *p >= 0x20 && *p != 0x7f;
        }
        /* At most 64 bytes of it, cut between two characters: a reply must stay UTF-8. */
        size_t len = strlen(cmd), n = len > 64 ? 64 : len;
        while (n < len && n > 0 && ((unsigned char) cmd[n] & 0xc0) == 0x80) {
            n--;
        }
        if (printable) {
            snprintf(err, err_size, "unknown command '%.*s%s'", (int) n, cmd, n < len ? "..." : "");
        } else {
            snprintf(err, err_size, "unknown command: its name contains a control character");
        }
        return LK_EXIT_USAGE;
    }
    if (role < route->role) {
        snprintf(err, err_size, "permission denied: '%s' needs the %s role", cmd,
                 lk_role_name(route->role));
        return LK_EXIT_DENIED;
    }
    *ret_route = route;
    return LK_EXIT_OK;
}

void lk_req_dispatch(struct conn *c, const char *line)
{
    json_t *req = NULL;
    const struct route *route = NULL;
    char err[1024];
    int code = lk_req_parse(line, c->role, &req, &route, err, sizeof(err));
    if (code != LK_EXIT_OK) {
        api_reply_error(c, code, "%s", err);
    } else {
        enum lk_role as;
        if (lk_req_as(req, &as) == 0 && as < c->role) {
            c->role = as; /* what the handlers see is the lowered role */
        }
        /* Another node's request goes there (api_remote.c), as this caller's role. */
        json_t *node = json_object_get(req, LK_KEY_NODE);
        if (node && !json_is_string(node)) {
            api_reply_error(c, LK_EXIT_USAGE, "malformed request: '%s' must be a node name",
                            LK_KEY_NODE);
        } else if (node && json_string_value(node)[0] &&
                   strcmp(json_string_value(node), c->api->node->name) != 0) {
            api_forward_request(c, req, json_string_value(node));
        } else {
            json_t *args = json_object_get(req, LK_KEY_ARGS);
            json_t *empty = args ? NULL : json_object();
            route->handler(c, args ? args : empty);
            json_decref(empty);
        }
    }
    json_decref(req);
}
