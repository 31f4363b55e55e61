/* Requests for another node and the remote commands (issue 14): a request whose envelope
 * names another node ("node") is forwarded through cluster/forward.c and its messages
 * relayed to the client; a request another node forwarded here runs through request.c as
 * the role it came with, carried by a transport of this file's own (forward_ops); and the
 * handlers of remote.exec (a shell command run through the runner in the gen/app script
 * environment, its output returned) and remote.put (a file written atomically), both admin
 * and only with the cluster setting remote-exec = on. Every use and every refusal is an
 * event, here and on the asking node.
 *
 * It never runs a command or writes a file with remote-exec off or for a non-admin, never
 * sends a reply for a client that is gone, and never writes a file but by rename. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "api_internal.h"
#include "atomicfile.h"
#include "eventlog.h"
#include "forward.h"
#include "proto.h"
#include "restype.h"
#include "runner.h"
#include "scripts.h"
#include "validate.h"

#define KEY_COMMAND          "command"
#define KEY_TIMEOUT          "timeout"
#define KEY_TAG              "tag"
#define KEY_PATH             "path"
#define KEY_MODE             "mode"
#define KEY_DATA             "data"
#define KEY_NAME             "name"
#define EXEC_TIMEOUT_DEFAULT 60
#define EXEC_TIMEOUT_MAX     3600
#define EXEC_COMMAND_MAX     (64 * 1024)
#define PUT_MAX              (4 * 1024 * 1024)
#define EVENT_COMMAND_BYTES  200
#define OUTPUT_CUT_MARKER    "\n[lcdremexec: output cut at 1 MiB]\n"

/* ---------------------------------------------------------------- asking side */

static const char *asker_of(struct conn *c)
{
    return c->from_node[0] ? c->from_node : c->api->node->name;
}

/* "uid N, role R" (uid "?" when the transport did not know it), for the events. */
static const char *who_of(const struct conn *c, char *buf, size_t size)
{
    if (c->uid >= 0) {
        snprintf(buf, size, "uid %lld, role %s", c->uid, lk_role_name(c->role));
    } else {
        snprintf(buf, size, "uid ?, role %s", lk_role_name(c->role));
    }
    return buf;
}

static void on_forward_msg(void *userdata, json_t *msg, bool final)
{
    struct conn *c = userdata;
    if (final) {
        c->forward = NULL;
        api_reply_final(c, msg);
    } else {
        api_send_msg(c, msg);
    }
}

/* The first EVENT_COMMAND_BYTES of a command, on one line, for an event. */
static void command_excerpt(const char *cmd, char *buf, size_t size)
{
    size_t n = 0;
    for (const char *p = cmd; *p && n + 1 < size && n < EVENT_COMMAND_BYTES; p++) {
        buf[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
    }
    /* Never end inside a UTF-8 character. */
    while (n > 0 && ((unsigned char) buf[n - 1] & 0x80) && cmd[n] &&
           ((unsigned char) cmd[n] & 0xc0) == 0x80) {
        n--;
    }
    buf[n] = '\0';
}

/* A refusal on the asking node: the event every refusal is (docs/LIFEKEEPER.md), then the
 * caller's one line. */
static void refuse_here(struct conn *c, const char *what, const char *why)
{
    char who[96];
    lk_eventlog_msg(c->api->node, NULL, LK_MSG_REMOTE_REFUSED, what, asker_of(c),
                    who_of(c, who, sizeof(who)), why);
    api_reply_error(c, LK_EXIT_FAILED, "refused: %s", why);
}

/* With "tag" (a script's LK_TAG), node must be one the resource is extended to. */
static bool tag_allows(struct conn *c, const char *what, const char *tag, const char *node)
{
    char why[256];
    struct lk_resource *res = lk_node_find(c->api->node, tag);
    if (!res) {
        snprintf(why, sizeof(why), "resource '%s' does not exist here", tag);
        refuse_here(c, what, why);
        return false;
    }
    json_t *nodes = api_resource_nodes_json(c->api, res);
    size_t i;
    json_t *n;
    bool ok = false;
    json_array_foreach(nodes, i, n)
    {
        const char *name = json_string_value(json_object_get(n, "node"));
        ok = ok || (name && strcmp(name, node) == 0);
    }
    json_decref(nodes);
    if (!ok) {
        snprintf(why, sizeof(why), "resource '%s' is not extended to %s", tag, node);
        refuse_here(c, what, why);
    }
    return ok;
}

void api_forward_request(struct conn *c, const json_t *req, const char *node)
{
    struct lk_api *api = c->api;
    if (!api->cluster) {
        api_reply_error(c, LK_EXIT_COMM, "no node '%s'", node);
        return;
    }
    const char *cmd = json_string_value(json_object_get(req, LK_KEY_CMD));
    const json_t *args = json_object_get(req, LK_KEY_ARGS);
    const char *tag = api_arg_str(args, KEY_TAG);
    uint64_t deadline_ms = 0;
    bool remote = strcmp(cmd, LK_CMD_REMOTE_EXEC) == 0 || strcmp(cmd, LK_CMD_REMOTE_PUT) == 0;
    if (remote && tag &&
        !tag_allows(c, strcmp(cmd, LK_CMD_REMOTE_EXEC) == 0 ? "command" : "file", tag, node)) {
        return;
    }
    if (strcmp(cmd, LK_CMD_REMOTE_EXEC) == 0) {
        json_t *t = json_object_get(args, KEY_TIMEOUT);
        uint64_t s = json_is_integer(t) && json_integer_value(t) > 0
                             ? (uint64_t) json_integer_value(t)
                             : EXEC_TIMEOUT_DEFAULT;
        deadline_ms = (s + 60) * 1000;
    }
    json_t *copy = json_deep_copy(req);
    char *line = NULL;
    if (copy) {
        json_object_del(copy, LK_KEY_NODE);
        json_object_set_new(copy, LK_KEY_AS, json_string(lk_role_name(c->role)));
        line = json_dumps(copy, JSON_COMPACT);
    }
    json_decref(copy);
    if (!line) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    char err[512];
    int r = lk_forward_start(api->cluster, node, lk_role_name(c->role), c->uid, line, deadline_ms,
                             on_forward_msg, c, &c->forward, err, sizeof(err));
    free(line);
    if (r < 0) {
        api_reply_error(c, r == -ENOMEM ? LK_EXIT_FAILED : LK_EXIT_COMM, "%s", err);
        return;
    }
    if (strcmp(cmd, LK_CMD_REMOTE_EXEC) == 0) {
        char excerpt[EVENT_COMMAND_BYTES + 8];
        const char *command = api_arg_str(args, KEY_COMMAND);
        command_excerpt(command ? command : "", excerpt, sizeof(excerpt));
        char who[96];
        lk_eventlog_msg(api->node, tag, LK_MSG_REMOTE_EXEC_ASKED, node, who_of(c, who, sizeof(who)),
                        tag ? tag : "-", excerpt);
    } else if (strcmp(cmd, LK_CMD_REMOTE_PUT) == 0) {
        const char *path = api_arg_str(args, KEY_PATH);
        const char *data = api_arg_str(args, KEY_DATA);
        char who[96];
        lk_eventlog_msg(api->node, tag, LK_MSG_REMOTE_PUT_ASKED, node, path ? path : "",
                        (unsigned long long) (data ? strlen(data) / 4 * 3 : 0),
                        who_of(c, who, sizeof(who)));
    }
}

/* ---------------------------------------------------------------- serving side */

/* The transport of a request another node forwarded here: each message goes back through
 * the forward module; the last one sent before end() is the final reply. A final reply is
 * sent and ended in one go (api_reply_final), so a message still held when the loop turns
 * was progress: it leaves then, not when the next one comes (a follow would lag one
 * event behind, a restore's last progress line until its reply). */
struct fconn {
    struct lk_api *api;
    struct conn *req;
    char from[LK_TAG_MAX + 1];
    uint64_t id;
    char *held; /* the last message, sent at the next loop turn (progress) or at end (final) */
    bool finished;
    uv_timer_t closer; /* flushes held (0 ms); closed to free the request on a later turn */
};

static void fconn_flush(uv_timer_t *t)
{
    struct fconn *f = t->data;
    if (f->held && !f->finished) {
        lk_forward_answer(f->api->cluster, f->from, f->id, f->held, false);
        free(f->held);
        f->held = NULL;
    }
}

static void fconn_closed(uv_handle_t *h)
{
    struct fconn *f = h->data;
    lk_req_free(f->req);
    free(f->held);
    free(f);
}

static void fconn_finish(struct fconn *f)
{
    if (f->finished) {
        return;
    }
    f->finished = true;
    lk_req_closed(f->req);
    uv_close((uv_handle_t *) &f->closer, fconn_closed);
}

static int fconn_send(void *tconn, char *msg, size_t len)
{
    struct fconn *f = tconn;
    (void) len;
    if (f->finished) {
        free(msg);
        return 0;
    }
    if (f->held) {
        lk_forward_answer(f->api->cluster, f->from, f->id, f->held, false);
        free(f->held);
    }
    f->held = msg;
    (void) uv_timer_start(&f->closer, fconn_flush, 0, 0);
    return 0;
}

static void fconn_end(void *tconn)
{
    struct fconn *f = tconn;
    if (f->finished) {
        return;
    }
    uv_timer_stop(&f->closer);
    lk_forward_answer(f->api->cluster, f->from, f->id,
                      f->held ? f->held : "{\"v\":1,\"ok\":true,\"data\":{}}", true);
    free(f->held);
    f->held = NULL;
    fconn_finish(f);
}

static void fconn_close(void *tconn)
{
    struct fconn *f = tconn;
    if (f->finished) {
        return;
    }
    lk_forward_answer(f->api->cluster, f->from, f->id,
                      "{\"v\":1,\"ok\":false,\"code\":1,\"error\":\"the request was closed on the "
                      "node that ran it\"}",
                      true);
    fconn_finish(f);
}

static const struct lk_transport_ops forward_ops = {
        .send = fconn_send,
        .end = fconn_end,
        .close = fconn_close,
};

static void *serve_start(void *userdata, const char *from, uint64_t id, const char *role,
                         long long uid, const char *line)
{
    struct lk_api *api = userdata;
    json_t *as = json_pack("{s:s}", LK_KEY_AS, role);
    enum lk_role r = LK_ROLE_NONE;
    int ok = as ? lk_req_as(as, &r) : -1;
    json_decref(as);
    if (ok < 0) {
        return NULL;
    }
    struct fconn *f = calloc(1, sizeof(*f));
    if (!f || uv_timer_init(api->node->loop, &f->closer) < 0) {
        free(f);
        return NULL;
    }
    f->closer.data = f;
    f->api = api;
    f->id = id;
    snprintf(f->from, sizeof(f->from), "%s", from);
    f->req = lk_req_new(api, r, &forward_ops, f);
    if (!f->req) {
        uv_close((uv_handle_t *) &f->closer, fconn_closed);
        return NULL;
    }
    snprintf(f->req->from_node, sizeof(f->req->from_node), "%s", from);
    lk_req_set_uid(f->req, uid);
    /* A forwarded request names no other node: it runs here, never forwarded again. */
    json_t *req = json_loads(line, 0, NULL);
    if (json_is_object(req)) {
        json_object_del(req, LK_KEY_NODE);
    }
    char *text = json_is_object(req) ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    lk_req_dispatch(f->req, text ? text : line);
    free(text);
    return f;
}

static void serve_cancel(void *userdata, void *handle)
{
    (void) userdata;
    fconn_finish(handle);
}

static const struct lk_forward_server forward_server = {
        .start = serve_start,
        .cancel = serve_cancel,
};

void api_remote_start(struct lk_api *api)
{
    if (api->cluster) {
        lk_forward_set_server(api->cluster, &forward_server, api);
    }
}

/* ---------------------------------------------------------------- remote.exec, remote.put */

struct remote_job {
    struct conn *c; /* NULL once the client is gone */
    struct lk_run *run;
    char asker[LK_TAG_MAX + 1];
};

void api_remote_release(struct conn *c)
{
    if (c->forward) {
        lk_forward_cancel(c->forward);
        c->forward = NULL;
    }
    if (c->remote) {
        c->remote->c = NULL;
        lk_run_abort(c->remote->run); /* the command does not outlive whoever asked */
        c->remote = NULL;
    }
}

/* The checks both commands share; false after replying (and the refusal's event). */
static bool remote_allowed(struct conn *c, const char *what)
{
    const char *why = NULL;
    int code = LK_EXIT_FAILED;
    if (c->role < LK_ROLE_ADMIN) {
        why = "it needs the admin role";
        code = LK_EXIT_DENIED;
    } else if (!c->api->node->config.cluster.remote_exec) {
        why = "remote-exec is off (lkcli cluster config --remote-exec on)";
    } else if (c->api->node->witness) {
        why = "a witness runs no commands";
    }
    if (!why) {
        return true;
    }
    char who[96];
    lk_eventlog_msg(c->api->node, NULL, LK_MSG_REMOTE_REFUSED, what, asker_of(c),
                    who_of(c, who, sizeof(who)), why);
    api_reply_error(c, code, "remote %s refused on %s: %s", what, c->api->node->name, why);
    return false;
}

static void exec_done(struct lk_run *run, const struct lk_result *result, const char *output,
                      size_t output_len, void *userdata)
{
    struct remote_job *job = userdata;
    (void) output;
    (void) output_len;
    size_t len = 0;
    uint64_t total = 0;
    const char *head = lk_run_captured(run, &len, &total);
    char how[128];
    int status = result->exit_status;
    if (result->outcome == LK_OUTCOME_TIMEOUT) {
        snprintf(how, sizeof(how), "timed out after %llus",
                 (unsigned long long) (result->timeout_usec / 1000000));
        status = 124;
    } else if (result->term_signal) {
        snprintf(how, sizeof(how), "signal %d", result->term_signal);
        status = 128 + result->term_signal;
    } else if (result->outcome == LK_OUTCOME_EXEC_FAILED || result->outcome == LK_OUTCOME_REFUSED) {
        snprintf(how, sizeof(how), "could not run: %s",
                 result->message[0] ? result->message : strerror(result->exec_errno));
        status = 127;
    } else {
        snprintf(how, sizeof(how), "exit status %d", status);
    }
    struct conn *c = job->c;
    struct lk_node *node = c ? c->api->node : NULL;
    if (c) {
        c->remote = NULL;
        bool cut = total > len;
        if (cut) {
            lk_eventlog_msg(node, NULL, LK_MSG_REMOTE_OUTPUT_CUT, job->asker,
                            (unsigned long long) total, (unsigned long long) len);
        }
        lk_eventlog_msg(node, NULL, LK_MSG_REMOTE_EXEC_ENDED, job->asker, how);
        size_t out_len = len + (cut ? strlen(OUTPUT_CUT_MARKER) : 0);
        char *out = malloc(out_len + 1);
        size_t b64_len = sodium_base64_encoded_len(out_len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(b64_len);
        if (!out || !b64) {
            api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        } else {
            if (len) {
                memcpy(out, head, len);
            }
            if (cut) {
                memcpy(out + len, OUTPUT_CUT_MARKER, strlen(OUTPUT_CUT_MARKER));
            }
            sodium_bin2base64(b64, b64_len, (const unsigned char *) out, out_len,
                              sodium_base64_VARIANT_ORIGINAL);
            api_reply_ok(c, json_pack("{s:s,s:i,s:i,s:b,s:b,s:I,s:s}", "output", b64, "status",
                                      status, "signal", result->term_signal, "timed_out",
                                      result->outcome == LK_OUTCOME_TIMEOUT, "cut", cut, "bytes",
                                      (json_int_t) total, "how", how));
        }
        free(out);
        free(b64);
    }
    free(job);
}

static int env_add_tunable(const char *name, const char *value, void *userdata)
{
    return lk_type_run_env(userdata, name, value);
}

/* The gen/app script environment (scripts.c's) without what names one resource's run, then
 * the tunables as every gen/app script gets them (reserved keys skipped), into env (the
 * type layer's heap environment). Returns 0 or -ENOMEM. */
static int exec_env(struct lk_node *node, const char *tag, struct lk_type_run *env)
{
    struct lk_script_run *run = calloc(1, sizeof(*run));
    if (!run) {
        return -ENOMEM;
    }
    struct lk_resource res;
    memset(&res, 0, sizeof(res));
    snprintf(res.tag, sizeof(res.tag), "%s", tag ? tag : "");
    lk_scripts_prepare(node->root, node->name, &res, LK_ACTION_RESTORE, run);
    static const char *const drop[] = {"LK_ID=", "LK_APP_INFO=", "LK_ACTION=", "LK_HELPERS=", NULL};
    int r = 0;
    for (size_t i = 0; r == 0 && run->env[i]; i++) {
        bool keep = !(strncmp(run->env[i], "LK_TAG=", 7) == 0 && !tag);
        for (size_t d = 0; keep && drop[d]; d++) {
            keep = strncmp(run->env[i], drop[d], strlen(drop[d])) != 0;
        }
        char *eq = strchr(run->env[i], '=');
        if (keep && eq) {
            *eq = '\0';
            r = lk_type_run_env(env, run->env[i], eq + 1);
        }
    }
    free(run);
    if (r == 0) {
        r = lk_scripts_env_tunables(node->config.cluster.tunables, env_add_tunable, env);
    }
    return r < 0 ? r : 0;
}

static void h_remote_exec(struct conn *c, const json_t *args)
{
    if (!remote_allowed(c, "command")) {
        return;
    }
    const char *command = api_arg_str(args, KEY_COMMAND);
    const char *tag = api_arg_str(args, KEY_TAG);
    json_t *t = json_object_get(args, KEY_TIMEOUT);
    char err[256];
    if (!command || !command[0]) {
        api_reply_error(c, LK_EXIT_USAGE, "remote.exec: 'command' is missing or empty");
        return;
    }
    if (strlen(command) > EXEC_COMMAND_MAX) {
        api_reply_error(c, LK_EXIT_USAGE, "remote.exec: the command is longer than %d bytes",
                        EXEC_COMMAND_MAX);
        return;
    }
    if (tag && lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "remote.exec: %s", err);
        return;
    }
    json_int_t timeout = EXEC_TIMEOUT_DEFAULT;
    if (t) {
        timeout = json_is_integer(t) ? json_integer_value(t) : -1;
        if (timeout < 1 || timeout > EXEC_TIMEOUT_MAX) {
            api_reply_error(c, LK_EXIT_USAGE,
                            "remote.exec: invalid timeout: expected 1 to %d seconds",
                            EXEC_TIMEOUT_MAX);
            return;
        }
    }
    struct remote_job *job = calloc(1, sizeof(*job));
    struct lk_type_run env = {0};
    if (!job || exec_env(c->api->node, tag, &env) < 0) {
        lk_type_run_free(&env);
        free(job);
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    /* The runner copies argv's pointers, and the strings live until it returns. */
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *cmd_copy = strdup(command);
    char *const argv[] = {sh, dash_c, cmd_copy, NULL};
    if (!cmd_copy) {
        lk_type_run_free(&env);
        free(job);
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    struct lk_run_spec spec = {
            .path = "/bin/sh",
            .argv = argv,
            .cwd = c->api->node->root,
            .env = env.env,
            .timeout_usec = (uint64_t) timeout * 1000000,
            .capture_max = LK_RUN_CAPTURE_MAX,
    };
    snprintf(job->asker, sizeof(job->asker), "%s", asker_of(c));
    job->c = c;
    char excerpt[EVENT_COMMAND_BYTES + 8];
    command_excerpt(command, excerpt, sizeof(excerpt));
    char who[96];
    lk_eventlog_msg(c->api->node, tag, LK_MSG_REMOTE_EXEC_RAN, job->asker,
                    who_of(c, who, sizeof(who)), tag ? tag : "-", (unsigned) timeout, excerpt);
    int r = lk_run_start(c->api->node->loop, &spec, exec_done, job, &job->run);
    lk_type_run_free(&env);
    free(cmd_copy);
    if (r < 0) {
        free(job);
        api_reply_error(c, LK_EXIT_FAILED, "cannot start the command: %s", strerror(-r));
        return;
    }
    c->remote = job;
}

/* A path remote.put may write: absolute, no "." or ".." component, no control character. */
static bool put_path_ok(const char *path)
{
    if (path[0] != '/' || strlen(path) >= PATH_MAX - 32) {
        return false;
    }
    for (const char *p = path; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    const char *p = path;
    while (*p) {
        while (*p == '/') {
            p++;
        }
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            return false;
        }
        p += n;
    }
    return true;
}

static void h_remote_put(struct conn *c, const json_t *args)
{
    if (!remote_allowed(c, "file")) {
        return;
    }
    const char *path = api_arg_str(args, KEY_PATH);
    const char *data = api_arg_str(args, KEY_DATA);
    const char *name = api_arg_str(args, KEY_NAME);
    json_t *jmode = json_object_get(args, KEY_MODE);
    if (!path || !put_path_ok(path)) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "remote.put: the path must be absolute, without '.' or '..' components");
        return;
    }
    if (!data || !json_is_integer(jmode) || json_integer_value(jmode) < 0 ||
        json_integer_value(jmode) > 0777) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "remote.put: 'data' (base64) and 'mode' (0 to 0777) "
                        "are required");
        return;
    }
    if (name && (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
                 strcmp(name, "..") == 0 || strlen(name) > 255)) {
        api_reply_error(c, LK_EXIT_USAGE, "remote.put: invalid file name");
        return;
    }
    /* Base64 of n bytes is 4 * ceil(n / 3) characters: 4 MiB exactly is 5592408 of them,
     * which decode to at most 3 * 5592408 / 4 = PUT_MAX + 2 bytes before the padding is
     * taken off (the decoded length is checked again below). */
    size_t cap = strlen(data) / 4 * 3 + 3;
    if (strlen(data) / 4 * 3 > PUT_MAX + 2) {
        api_reply_error(c, LK_EXIT_USAGE, "remote.put: the file is larger than 4 MiB");
        return;
    }
    unsigned char *bin = malloc(cap ? cap : 1);
    size_t len = 0;
    if (!bin) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    if (sodium_base642bin(bin, cap, data, strlen(data), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) < 0 ||
        len > PUT_MAX) {
        free(bin);
        api_reply_error(c, LK_EXIT_USAGE, "remote.put: 'data' is not base64 of at most 4 MiB");
        return;
    }
    char target[PATH_MAX];
    struct stat st;
    if (json_is_true(json_object_get(args, "dir")) &&
        (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))) {
        free(bin);
        api_reply_error(c, LK_EXIT_FAILED,
                        "remote.put: '%s' is not a directory on %s (several files)", path,
                        c->api->node->name);
        return;
    }
    /* A directory (lcdrcp FILE NODE:DIR) keeps the file's name. */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (name && strlen(path) + 1 + strlen(name) >= sizeof(target) - 32) {
            free(bin);
            api_reply_error(c, LK_EXIT_USAGE, "remote.put: the path is too long");
            return;
        }
        if (!name) {
            free(bin);
            api_reply_error(c, LK_EXIT_FAILED, "remote.put: '%s' is a directory", path);
            return;
        }
        snprintf(target, sizeof(target), "%s/%s", strcmp(path, "/") == 0 ? "" : path, name);
    } else {
        snprintf(target, sizeof(target), "%s", path);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", target);
    char *slash = strrchr(dir, '/');
    *(slash == dir ? slash + 1 : slash) = '\0';
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        free(bin);
        api_reply_error(c, LK_EXIT_FAILED, "remote.put: directory '%s' does not exist on %s", dir,
                        c->api->node->name);
        return;
    }
    if (lstat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
        free(bin);
        api_reply_error(c, LK_EXIT_FAILED, "remote.put: '%s' exists and is not a regular file",
                        target);
        return;
    }
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.lkput.XXXXXX", target);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(bin);
        api_reply_error(c, LK_EXIT_FAILED, "remote.put: cannot create a file in '%s': %s", dir,
                        strerror(e));
        return;
    }
    mode_t mode = (mode_t) json_integer_value(jmode);
    const char *step = NULL;
    int r = lk_atomicfile_commit(fd, tmp, target, mode, bin, len, &step);
    free(bin);
    if (r < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "remote.put: cannot write '%s' (%s): %s", target, step,
                        strerror(-r));
        return;
    }
    (void) lk_atomicfile_sync_dir(target);
    char who[96];
    lk_eventlog_msg(c->api->node, api_arg_str(args, KEY_TAG), LK_MSG_REMOTE_PUT, target,
                    (unsigned) mode, (unsigned long long) len, asker_of(c),
                    who_of(c, who, sizeof(who)));
    api_reply_ok(c, json_pack("{s:s,s:I}", "path", target, "bytes", (json_int_t) len));
}

const struct route lk_api_remote_routes[] = {
        /* guest: the handlers refuse a non-admin themselves, so that the refusal is an
         * event (issue 14: every refusal is logged) */
        {LK_CMD_REMOTE_EXEC, LK_ROLE_GUEST, h_remote_exec},
        {LK_CMD_REMOTE_PUT, LK_ROLE_GUEST, h_remote_put},
        {NULL, 0, NULL},
};
