/* lkweb's endpoints (docs/WEB.md, HTTP API v1): each path checked (tags with
 * src/lib/validate.c, JSON bodies parsed with jansson and their types checked), the caller
 * authenticated (web_auth.c), then one lkd command run as the caller's role ("as"), its
 * reply given as {"data": …} or its error mapped to an HTTP status. The events endpoint
 * filters and pages lkd's cluster-wide log; /metrics serves lkd's exposition text.
 * Events enter from web_http.c.
 *
 * It never acts on anything itself: every decision, every role check of an action, is
 * lkd's; a path or a value it does not know is refused, never guessed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "validate.h"
#include "web.h"

#define ACTION_TIMEOUT_MS (600 * 1000) /* lkd bounds its own actions; this bounds lkweb's wait */
#define EVENTS_LIMIT      100
#define EVENTS_LIMIT_MAX  1000

static bool is(const char *method, const char *want)
{
    return strcmp(method, want) == 0;
}

/* Answers r: its data (with progress for actions), or its error. */
static enum MHD_Result reply(struct MHD_Connection *conn, struct lk_web_reply *r, bool action)
{
    enum MHD_Result res;
    if (r->http == 200) {
        json_t *j = json_pack("{s:O}", "data", r->data);
        if (action) {
            json_object_set(j, "progress", r->progress ? r->progress : json_array());
        }
        res = lk_web_json(conn, 200, j);
    } else {
        res = lk_web_error(conn, (unsigned) r->http, r->code ? r->code : lk_web_code_of(r->http),
                           "%s", r->error);
    }
    lk_web_reply_clear(r);
    return res;
}

static enum MHD_Result run(struct MHD_Connection *conn, const struct lk_web_who *who,
                           const char *cmd, json_t *args, bool action)
{
    struct lk_web_reply r;
    lk_web_lkd_call(cmd, args, who->role, action ? ACTION_TIMEOUT_MS : lk_web.lkd_timeout_ms, &r);
    return reply(conn, &r, action);
}

/* Parses body as a JSON object (an empty body is {}). NULL after queueing the 400. */
static json_t *parse_body(struct MHD_Connection *conn, const char *body, size_t len,
                          enum MHD_Result *res)
{
    if (!body || len == 0) {
        return json_object();
    }
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        *res = lk_web_error(conn, 400, LK_EXIT_USAGE, "malformed JSON body: %s",
                            j ? "an object expected" : jerr.text);
        return NULL;
    }
    return j;
}

/* Checks that body has only the keys allowed (NULL-terminated), each of its type. */
static bool body_keys(struct MHD_Connection *conn, json_t *body, const char *const *keys,
                      const json_type *types, enum MHD_Result *res)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0) {
            i++;
        }
        if (!keys[i]) {
            *res = lk_web_error(conn, 400, LK_EXIT_USAGE, "unknown field '%.64s' in the body", key);
            return false;
        }
        bool ok = json_typeof(v) == types[i] ||
                  (types[i] == JSON_TRUE && json_typeof(v) == JSON_FALSE);
        if (!ok) {
            *res = lk_web_error(conn, 400, LK_EXIT_USAGE, "field '%s' must be %s", key,
                                types[i] == JSON_STRING ? "a string" : "true or false");
            return false;
        }
    }
    return true;
}

static enum MHD_Result action(struct MHD_Connection *conn, const struct lk_web_who *who,
                              const char *tag, const char *verb, const char *body, size_t len)
{
    enum MHD_Result res = MHD_NO;
    json_t *b = parse_body(conn, body, len, &res);
    if (!b) {
        return res;
    }
    json_t *args = json_pack("{s:s}", "tag", tag);
    const char *cmd = NULL;
    static const char *const node_keys[] = {"node", NULL};
    static const json_type node_types[] = {JSON_STRING};
    char err[256];
    if (strcmp(verb, "restore") == 0 || strcmp(verb, "switchover") == 0) {
        if (!body_keys(conn, b, node_keys, node_types, &res)) {
            goto out;
        }
        const char *node = json_string_value(json_object_get(b, "node"));
        if (!node && verb[0] == 's') {
            res = lk_web_error(conn, 400, LK_EXIT_USAGE, "switchover needs \"node\"");
            goto out;
        }
        if (node && lk_validate_tag(node, "node name", err, sizeof(err)) < 0) {
            res = lk_web_error(conn, 400, LK_EXIT_USAGE, "%s", err);
            goto out;
        }
        if (node) {
            json_object_set_new(args, "node", json_string(node));
        }
        cmd = LK_CMD_RES_RESTORE;
    } else if (strcmp(verb, "remove") == 0) {
        static const char *const keys[] = {"hierarchy", NULL};
        static const json_type types[] = {JSON_TRUE};
        if (!body_keys(conn, b, keys, types, &res)) {
            goto out;
        }
        if (json_is_true(json_object_get(b, "hierarchy"))) {
            json_object_set_new(args, "hierarchy", json_true());
        }
        cmd = LK_CMD_RES_REMOVE;
    } else if (strcmp(verb, "reset") == 0) {
        static const char *const keys[] = {NULL};
        if (!body_keys(conn, b, keys, NULL, &res)) {
            goto out;
        }
        cmd = LK_CMD_RES_RESET;
    } else {
        static const char *const keys[] = {"on", NULL};
        static const json_type types[] = {JSON_TRUE};
        if (!body_keys(conn, b, keys, types, &res)) {
            goto out;
        }
        json_t *on = json_object_get(b, "on");
        if (!on) {
            res = lk_web_error(conn, 400, LK_EXIT_USAGE, "monitor needs \"on\": true or false");
            goto out;
        }
        json_object_set_new(args, "settings",
                            json_pack("{s:s}", "monitor", json_is_true(on) ? "on" : "off"));
        cmd = LK_CMD_RES_CONFIG;
    }
    json_decref(b);
    return run(conn, who, cmd, args, true);
out:
    json_decref(b);
    json_decref(args);
    return res;
}

/* ---------------------------------------------------------------- events */

struct query {
    const char *node, *tag, *severity, *number, *before, *limit;
    char bad[64];
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void) kind;
    struct query *q = cls;
    const char **slot = strcmp(key, "node") == 0       ? &q->node
                        : strcmp(key, "tag") == 0      ? &q->tag
                        : strcmp(key, "severity") == 0 ? &q->severity
                        : strcmp(key, "number") == 0   ? &q->number
                        : strcmp(key, "before") == 0   ? &q->before
                        : strcmp(key, "limit") == 0    ? &q->limit
                                                       : NULL;
    if (!slot) {
        snprintf(q->bad, sizeof(q->bad), "%.40s", key);
        return MHD_NO;
    }
    *slot = value ? value : "";
    return MHD_YES;
}

static enum MHD_Result events(struct MHD_Connection *conn, const struct lk_web_who *who)
{
    struct query q = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    char err[256];
    if (q.bad[0]) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE,
                            "unknown parameter: expected node, tag, severity, number, before, "
                            "limit");
    }
    if (q.node && lk_validate_tag(q.node, "node", err, sizeof(err)) < 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "%s", err);
    }
    if (q.tag && lk_validate_tag(q.tag, "tag", err, sizeof(err)) < 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "%s", err);
    }
    if (q.severity && strcmp(q.severity, "ERROR") != 0 && strcmp(q.severity, "WARNING") != 0 &&
        strcmp(q.severity, "INFO") != 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "severity: ERROR, WARNING or INFO expected");
    }
    uint64_t number = 0, before = 0, limit = EVENTS_LIMIT;
    if (q.number && lk_parse_uint(q.number, 0, 999999999, &number) < 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "number: a whole number expected");
    }
    if (q.before && lk_parse_uint(q.before, 1, UINT64_MAX / 2, &before) < 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "before: a time in ms expected");
    }
    if (q.limit && lk_parse_uint(q.limit, 1, EVENTS_LIMIT_MAX, &limit) < 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "limit: 1 to %d expected", EVENTS_LIMIT_MAX);
    }
    /* lkd reads and encodes every event it is asked for on its loop (about 14 us each): it
     * applies the filters itself, in SQL, on every node (the log command's severity,
     * number, before and node), so the newest limit + 1 matching events, merged by time,
     * are this page and tell whether older ones exist (bench/web_load.py). The filtering
     * below stays as a safety net (a peer of an older release ignores the filters). */
    json_t *args = json_pack("{s:I, s:b}", "n", (json_int_t) limit + 1, "cluster", 1);
    if (q.tag) {
        json_object_set_new(args, "tag", json_string(q.tag));
    }
    if (q.node) {
        json_object_set_new(args, "node", json_string(q.node));
    }
    if (q.severity) {
        json_object_set_new(args, "severity", json_string(q.severity));
    }
    if (q.number) {
        json_object_set_new(args, "number", json_integer((json_int_t) number));
    }
    if (q.before) {
        json_object_set_new(args, "before", json_integer((json_int_t) before));
    }
    struct lk_web_reply r;
    lk_web_lkd_call(LK_CMD_LOG, args, who->role, lk_web.lkd_timeout_ms, &r);
    if (r.http != 200) {
        return reply(conn, &r, false);
    }
    json_t *all = json_object_get(r.data, "events");
    json_t *kept = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *node = json_string_value(json_object_get(e, "node"));
        const char *sev = json_string_value(json_object_get(e, "severity"));
        json_int_t t = json_integer_value(json_object_get(e, "time_ms"));
        if ((q.node && (!node || strcmp(node, q.node) != 0)) ||
            (q.severity && (!sev || strcmp(sev, q.severity) != 0)) ||
            (q.number && json_integer_value(json_object_get(e, "number")) != (json_int_t) number) ||
            (q.before && t >= (json_int_t) before)) {
            continue;
        }
        json_array_append(kept, e);
    }
    /* Newest last: the last limit of them; the cursor pages to older ones. */
    size_t n = json_array_size(kept);
    json_t *page = json_array();
    size_t from = n > limit ? n - (size_t) limit : 0;
    for (i = from; i < n; i++) {
        json_array_append(page, json_array_get(kept, i));
    }
    json_t *next = from > 0 ? json_object_get(json_array_get(page, 0), "time_ms") : NULL;
    json_t *missing = json_object_get(r.data, "missing");
    json_t *data = json_pack("{s:o, s:o, s:O}", "events", page, "missing",
                             missing ? json_incref(missing) : json_array(), "next_before",
                             next ? next : json_null());
    json_decref(kept);
    lk_web_reply_clear(&r);
    return lk_web_json(conn, 200, json_pack("{s:o}", "data", data));
}

/* ---------------------------------------------------------------- sessions */

static enum MHD_Result login(struct MHD_Connection *conn, const char *body, size_t len)
{
    char err[256];
    if (lk_web_csrf_check(conn, NULL, err, sizeof(err)) < 0) {
        return lk_web_error(conn, 403, LK_EXIT_DENIED, "%s", err);
    }
    enum MHD_Result res = MHD_NO;
    json_t *b = parse_body(conn, body, len, &res);
    if (!b) {
        return res;
    }
    static const char *const keys[] = {"token", NULL};
    static const json_type types[] = {JSON_STRING};
    if (!body_keys(conn, b, keys, types, &res)) {
        json_decref(b);
        return res;
    }
    const char *token = json_string_value(json_object_get(b, "token"));
    if (!token) {
        json_decref(b);
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "login needs \"token\"");
    }
    /* The token is checked as a Bearer token would be, behind the address's rate (a login
     * flood or a guessing costs lkd nothing). */
    int wait = lk_web_limit_address(conn);
    if (wait) {
        json_decref(b);
        char msg[64];
        snprintf(msg, sizeof(msg), "too many requests: try again in %d s", wait);
        return lk_web_too_many(conn, wait, msg);
    }
    struct lk_web_who who = {0};
    struct lk_web_reply r;
    lk_web_lkd_call(LK_CMD_WEB_TOKEN_CHECK, json_pack("{s:s}", "token", token), NULL,
                    lk_web.lkd_timeout_ms, &r);
    if (r.http != 200) {
        json_decref(b);
        if (r.code == LK_EXIT_DENIED || r.http == 400) {
            lk_web_reply_clear(&r);
            return lk_web_error(conn, 401, LK_EXIT_DENIED, "invalid or revoked token");
        }
        return reply(conn, &r, false);
    }
    snprintf(who.role, sizeof(who.role), "%s", json_string_value(json_object_get(r.data, "role")));
    snprintf(who.name, sizeof(who.name), "%s", json_string_value(json_object_get(r.data, "name")));
    lk_web_reply_clear(&r);
    lk_web_limit_learn(token, who.role, true);
    lk_web_session_new(token, &who);
    json_decref(b);
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "lk_session=%s; HttpOnly; SameSite=Strict; Path=/%s",
             who.session, lk_web.tls ? "; Secure" : "");
    return lk_web_json_with(conn, 200,
                            json_pack("{s:{s:s, s:s, s:s}}", "data", "role", who.role, "name",
                                      who.name, "csrf", who.csrf),
                            "Set-Cookie", cookie);
}

static enum MHD_Result session(struct MHD_Connection *conn, const struct lk_web_who *who)
{
    struct lk_web_reply r;
    lk_web_lkd_call(LK_CMD_PING, NULL, who->role, lk_web.lkd_timeout_ms, &r);
    if (r.http != 200) {
        return reply(conn, &r, false);
    }
    json_t *data = json_pack("{s:s, s:s, s:s, s:O}", "role", who->role, "name", who->name, "csrf",
                             who->csrf, "node", json_object_get(r.data, "node"));
    lk_web_reply_clear(&r);
    return lk_web_json(conn, 200, json_pack("{s:o}", "data", data));
}

/* ---------------------------------------------------------------- metrics */

static enum MHD_Result metrics(struct MHD_Connection *conn)
{
    const char *as = "guest";
    if (lk_web.metrics_auth) {
        struct lk_web_who who;
        char err[256];
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (!auth) {
            return lk_web_error(conn, 401, LK_EXIT_DENIED, "/metrics needs a Bearer token");
        }
        int st = lk_web_auth(conn, &who, err, sizeof(err));
        if (st != 200) {
            return lk_web_error(conn, (unsigned) st, lk_web_code_of((unsigned) st), "%s", err);
        }
    }
    struct lk_web_reply r;
    lk_web_lkd_call("metrics", NULL, as, lk_web.lkd_timeout_ms, &r);
    if (r.http != 200) {
        if (r.code == LK_EXIT_USAGE && strstr(r.error, "unknown command")) {
            lk_web_reply_clear(&r);
            return lk_web_error(conn, 503, LK_EXIT_UNREACHABLE,
                                "this lkd does not serve metrics yet");
        }
        return reply(conn, &r, false);
    }
    const char *text = json_string_value(json_object_get(r.data, "text"));
    char *copy = strdup(text ? text : "");
    lk_web_reply_clear(&r);
    if (!copy) {
        return MHD_NO;
    }
    struct MHD_Response *resp =
            MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return lk_web_queue(conn, 200, resp);
}

/* ---------------------------------------------------------------- routing */

static const struct {
    const char *path;
    const char *cmd;
} reads[] = {
        {"/api/v1/status", LK_CMD_STATUS},
        {"/api/v1/nodes", LK_CMD_NODE_LIST},
        {"/api/v1/commpaths", LK_CMD_COMMPATH_LIST},
        {"/api/v1/resources", LK_CMD_RES_LIST},
        {"/api/v1/dependencies", LK_CMD_DEP_LIST},
        {"/api/v1/cluster/config", LK_CMD_CLUSTER_CONFIG},
};

/* Whether url is a known path, and which methods it takes ("GET", "POST"). */
static const char *method_of(const char *url, char *tag, size_t tag_size, const char **verb)
{
    *verb = NULL;
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        if (strcmp(url, reads[i].path) == 0) {
            return "GET";
        }
    }
    if (strcmp(url, "/api/v1/events") == 0 || strcmp(url, "/api/v1/stream") == 0 ||
        strcmp(url, "/api/v1/session") == 0 || strcmp(url, "/metrics") == 0) {
        return "GET";
    }
    if (strcmp(url, "/api/v1/login") == 0 || strcmp(url, "/api/v1/logout") == 0) {
        return "POST";
    }
    static const char prefix[] = "/api/v1/resources/";
    if (strncmp(url, prefix, strlen(prefix)) != 0) {
        return NULL;
    }
    const char *t = url + strlen(prefix);
    const char *slash = strchr(t, '/');
    size_t len = slash ? (size_t) (slash - t) : strlen(t);
    if (len == 0 || len >= tag_size) {
        snprintf(tag, tag_size, "%s", len ? "(too long)" : "");
        return len ? "GET" : NULL;
    }
    memcpy(tag, t, len);
    tag[len] = '\0';
    if (!slash) {
        return "GET";
    }
    static const char *const verbs[] = {"why",        "restore", "remove",
                                        "switchover", "reset",   "monitor"};
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(slash + 1, verbs[i]) == 0) {
            *verb = verbs[i];
            return i == 0 ? "GET" : "POST";
        }
    }
    return NULL;
}

enum MHD_Result lk_web_api(struct MHD_Connection *conn, const char *url, const char *method,
                           const char *body, size_t body_len)
{
    char tag[LK_TAG_MAX + 2] = "";
    const char *verb = NULL;
    const char *want = method_of(url, tag, sizeof(tag), &verb);
    if (!want) {
        return lk_web_error(conn, 404, LK_EXIT_USAGE, "no such endpoint");
    }
    bool head = is(method, "HEAD") && is(want, "GET");
    if (!is(method, want) && !head) {
        return lk_web_error(conn, 405, LK_EXIT_USAGE, "method %s not allowed: use %s",
                            strlen(method) < 16 ? method : "(long)", want);
    }
    if (strcmp(url, "/metrics") == 0) {
        return metrics(conn);
    }
    if (strcmp(url, "/api/v1/login") == 0) {
        return login(conn, body, body_len);
    }
    char err[512];
    struct lk_web_who who;
    int st = lk_web_auth(conn, &who, err, sizeof(err));
    if (st == 429) {
        return lk_web_too_many(conn, who.retry_after, err);
    }
    if (st != 200) {
        return lk_web_error(conn, (unsigned) st, lk_web_code_of((unsigned) st), "%s", err);
    }
    if (is(want, "POST") && lk_web_csrf_check(conn, &who, err, sizeof(err)) < 0) {
        return lk_web_error(conn, 403, LK_EXIT_DENIED, "%s", err);
    }
    if (strcmp(url, "/api/v1/logout") == 0) {
        if (who.cookie) {
            lk_web_session_drop(who.session);
        }
        static char done[] = "{\"data\":{}}";
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(strlen(done), done, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Set-Cookie",
                                "lk_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
        return lk_web_queue(conn, 200, resp);
    }
    if (strcmp(url, "/api/v1/session") == 0) {
        return session(conn, &who);
    }
    if (strcmp(url, "/api/v1/events") == 0) {
        return events(conn, &who);
    }
    if (strcmp(url, "/api/v1/stream") == 0) {
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        return lk_web_stream(conn, &who, auth && !who.cookie ? auth + 7 : NULL);
    }
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        if (strcmp(url, reads[i].path) == 0) {
            /* cluster.config without arguments only reads; lkd lists it as an admin command
             * because with arguments it changes the settings. */
            bool config = strcmp(reads[i].cmd, LK_CMD_CLUSTER_CONFIG) == 0;
            struct lk_web_reply r;
            lk_web_lkd_call(reads[i].cmd, NULL, config ? NULL : who.role, lk_web.lkd_timeout_ms,
                            &r);
            return reply(conn, &r, false);
        }
    }
    /* /api/v1/resources/{tag}[/verb] */
    if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
        return lk_web_error(conn, 400, LK_EXIT_USAGE, "%s", err);
    }
    if (!verb) {
        struct lk_web_reply r;
        lk_web_lkd_call(LK_CMD_RES_LIST, json_pack("{s:s}", "tag", tag), who.role,
                        lk_web.lkd_timeout_ms, &r);
        json_t *list = json_object_get(r.data, "resources");
        if (r.http == 200 && json_is_array(list) && json_array_size(list) == 0) {
            lk_web_reply_clear(&r);
            return lk_web_error(conn, 404, LK_EXIT_FAILED, "no resource with tag '%s'", tag);
        }
        return reply(conn, &r, false);
    }
    if (strcmp(verb, "why") == 0) {
        return run(conn, &who, LK_CMD_RES_WHY, json_pack("{s:s}", "tag", tag), false);
    }
    return action(conn, &who, tag, verb, body, body_len);
}
