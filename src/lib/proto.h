/* The local command protocol between the commands and lkd over $LKROOT/run/lkd.sock.
 *
 * Newline-delimited JSON, one request per connection:
 *   request   {"v":1, "cmd":"resource.restore", "args":{...}, "as":"operator"}
 *             ("as" optional: the request runs with the lesser of the caller's role and it)
 *   progress  {"v":1, "progress":"text"}            zero or more, while a long operation runs
 *   reply     {"v":1, "ok":true, "data":{...}}  or  {"v":1, "ok":false, "code":N, "error":"…"}
 * code is the command's exit status (SPEC §6: 1 failed, 2 usage, 4 permission denied).
 * A daemon that receives a version it does not speak answers code 2. Every name on the
 * wire is a constant here. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define LK_PROTO_VERSION  1
#define LK_PROTO_MAX_LINE (16 * 1024 * 1024)
#define LK_SOCKET_NAME    "run/lkd.sock"
#define LK_PIDFILE_NAME   "run/lkd.pid"

#define LK_KEY_VERSION  "v"
#define LK_KEY_CMD      "cmd"
#define LK_KEY_ARGS     "args"
#define LK_KEY_PROGRESS "progress"
#define LK_KEY_OK       "ok"
#define LK_KEY_DATA     "data"
#define LK_KEY_CODE     "code"
#define LK_KEY_ERROR    "error"
/* Optional in a request: run it with this lesser role (guest, operator, admin). */
#define LK_KEY_AS       "as"
/* Optional in a request: the node whose lkd runs it (issue 14, `-d NODE`); absent, "" or
 * this node's own name = here. Another node's: forwarded over the comm paths. */
#define LK_KEY_NODE     "node"

/* Exit statuses (SPEC §6). */
enum lk_exit {
    LK_EXIT_OK = 0,
    LK_EXIT_FAILED = 1,
    LK_EXIT_USAGE = 2,
    LK_EXIT_UNREACHABLE = 3,
    LK_EXIT_DENIED = 4,
    /* A forwarded request (LK_KEY_NODE) that could not reach its node, or lost it before the
     * reply; lk_client_call reports it as 1, lk_client_call_on as 9 (LCDI's status). */
    LK_EXIT_COMM = 9,
};

/* Commands. */
#define LK_CMD_STATUS          "status"
#define LK_CMD_PING            "ping"
#define LK_CMD_METRICS         "metrics"
#define LK_CMD_WAIT_IDLE       "wait-idle"
#define LK_CMD_SHUTDOWN        "shutdown"
#define LK_CMD_LOG             "log"
#define LK_CMD_LOG_WRITE       "log.write"
#define LK_CMD_RES_LIST        "resource.list"
#define LK_CMD_RES_INSLIST     "resource.inslist"
#define LK_CMD_RES_CREATE      "resource.create"
#define LK_CMD_RES_RESTORE     "resource.restore"
#define LK_CMD_RES_REMOVE      "resource.remove"
#define LK_CMD_RES_DELETE      "resource.delete"
#define LK_CMD_RES_UPDATE      "resource.update-script"
#define LK_CMD_RES_CONFIG      "resource.config"
#define LK_CMD_RES_TEST        "resource.test"
#define LK_CMD_RES_AGENT       "resource.describe-agent"
#define LK_CMD_RES_WHY         "resource.why"
#define LK_CMD_RES_RESET       "resource.reset"
#define LK_CMD_RES_SETSTATE    "resource.setstate"
#define LK_CMD_DEP_LIST        "dependency.list"
#define LK_CMD_DEP_CREATE      "dependency.create"
#define LK_CMD_DEP_DELETE      "dependency.delete"
#define LK_CMD_RES_EXTEND      "resource.extend"
#define LK_CMD_RES_UNEXTEND    "resource.unextend"
#define LK_CMD_NODE_LIST       "node.list"
#define LK_CMD_COMMPATH_LIST   "commpath.list"
#define LK_CMD_COMMPATH_CREATE "commpath.create"
#define LK_CMD_COMMPATH_DELETE "commpath.delete"
#define LK_CMD_CLUSTER_CONFIG  "cluster.config"
#define LK_CMD_ROTATE_KEY      "cluster.rotate-key"
#define LK_CMD_ALERT_ADD       "cluster.alert.add"
#define LK_CMD_ALERT_DELETE    "cluster.alert.delete"
#define LK_CMD_ALERT_LIST      "cluster.alert.list"

/* Remote commands (issue 14: lcdremexec, lcdrcp), admin, only with remote-exec = on. */
#define LK_CMD_REMOTE_EXEC      "remote.exec"
#define LK_CMD_REMOTE_PUT       "remote.put"
/* The tunables (issue 14): list, and with set/unset/text change them. */
#define LK_CMD_CLUSTER_TUNABLES "cluster.tunables"

/* The web console's tokens (docs/WEB.md), admin only. */
#define LK_CMD_WEB_TOKEN_CREATE "web.token.create"
#define LK_CMD_WEB_TOKEN_LIST   "web.token.list"
#define LK_CMD_WEB_TOKEN_REVOKE "web.token.revoke"
#define LK_CMD_WEB_TOKEN_CHECK  "web.token.check"

/* Builds {"v":1,"cmd":cmd,"args":args}; steals args (which may be NULL). */
json_t *lk_proto_request(const char *cmd, json_t *args);

/* lk_proto_request with the envelope's "node" (NULL or "": none); NULL on ENOMEM or a node
 * that is not valid UTF-8. */
json_t *lk_proto_request_on(const char *cmd, json_t *args, const char *node);

/* Builds a reply; lk_proto_ok steals data (NULL → {}). */
json_t *lk_proto_ok(json_t *data);
json_t *lk_proto_error(int code, const char *error);
json_t *lk_proto_progress(const char *text);

/* Serializes to one compact line with a trailing newline; caller frees. NULL on ENOMEM. */
char *lk_proto_dump(const json_t *msg);

struct lk_resource;

/* A resource as the protocol carries it: identity, state, settings (durations as
 * seconds in text, as users write them). NULL on ENOMEM. */
json_t *lk_proto_resource_json(const struct lk_resource *res);

/* lk_proto_resource_json for a reader (lkcli, lkweb; never replicated): also
 * "effective", every setting's value that applies as text (a check timeout of 0 is the
 * one derived from its interval), and "defaults", the names of the settings that have the
 * value a new resource gets. */
json_t *lk_proto_resource_view_json(const struct lk_resource *res);

/* The reverse, validating every field. Returns 0 or -EINVAL. */
int lk_proto_resource_parse(const json_t *obj, struct lk_resource *res);
