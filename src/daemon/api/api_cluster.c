/* The cluster commands of the command socket: node list, comm paths, cluster settings,
 * extend and unextend, and the waits of operations that end on other nodes (a
 * switchover ends when the target holds the hierarchy; an extend when the target
 * reports the resources). Every argument is validated before anything changes; a change
 * to lk.conf is written atomically before it is applied. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "api_internal.h"
#include "cluster.h"
#include "cluster_internal.h"
#include "config.h"
#include "define.h"
#include "eventlog.h"
#include "ownership.h"
#include "proto.h"
#include "safeopen.h"
#include "tunables.h"
#include "tunfile.h"
#include "tunwatch.h"

#define CLUSTER_WAIT_USEC (600ULL * 1000 * 1000)
#define EXTEND_WAIT_USEC  (30ULL * 1000 * 1000) /* from the last step the peer made */

enum cluster_op {
    OP_STATE,      /* restore / remove / switchover: lk_cluster_wait_state */
    OP_EXTEND,     /* the target reports every resource of the hierarchy */
    OP_UNEXTEND,   /* the target no longer reports them */
    OP_SWITCH_OUT, /* lkstop --switchover: nothing in service here any more */
    OP_ROTATE_KEY, /* cluster rotate-key: every live peer acknowledged (or it failed) */
};

/* ---------------------------------------------------------------- waiting */

static void emit_progress(const char *line, void *userdata)
{
    api_send_msg(userdata, lk_proto_progress(line));
}

void api_start_cluster_wait(struct conn *c, const char *tag, const char *want_node,
                            const char *verb)
{
    c->wait = WAIT_CLUSTER;
    c->cluster_op = OP_STATE;
    c->verb = verb;
    snprintf(c->wait_tag, sizeof(c->wait_tag), "%s", tag);
    snprintf(c->want_node, sizeof(c->want_node), "%s", want_node ? want_node : "");
    json_decref(c->seen);
    c->seen = json_object();
    lk_cluster_progress(c->api->cluster, tag, c->seen, emit_progress, NULL);
    c->deadline_usec = lk_mono_usec() + CLUSTER_WAIT_USEC;
    c->start_gen = lk_cluster_generation(c->api->cluster, tag);
    (void) api_cluster_wait_check(c);
}

void api_start_switch_out_wait(struct conn *c)
{
    c->wait = WAIT_CLUSTER;
    c->cluster_op = OP_SWITCH_OUT;
    c->verb = "lkstop --switchover";
    c->deadline_usec = lk_mono_usec() + CLUSTER_WAIT_USEC;
    (void) api_cluster_wait_check(c);
}

static int extend_state(struct conn *c, bool want_present, char *msg, size_t msg_size)
{
    struct lk_node *node = c->api->node;
    if (!lk_cluster_peer_alive(c->api->cluster, c->want_node)) {
        if (!want_present) {
            return 1; /* it learns at its next connection */
        }
        snprintf(msg, msg_size, "node '%s' is no longer ALIVE", c->want_node);
        return -1;
    }
    char(*tags)[LK_TAG_MAX + 1] = NULL;
    size_t n = lk_cluster_hierarchy(node, c->wait_tag, &tags);
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        bool present = lk_cluster_remote_state(c->api->cluster, c->want_node, tags[i])[0] != '\0';
        done += present == want_present;
    }
    free(tags);
    if (n > 0 && done == n) {
        return 1;
    }
    /* A large hierarchy takes the peer a while (a bounded batch per loop turn): the wait
     * lasts as long as it moves, and says how far it got. */
    json_t *before = json_object_get(c->seen, "done");
    if (json_is_object(c->seen) &&
        (!json_is_integer(before) || (size_t) json_integer_value(before) != done)) {
        if (json_is_integer(before)) {
            char line[LK_TAG_MAX * 2 + 64];
            snprintf(line, sizeof(line), "node %s: %zu of %zu resources %s", c->want_node, done, n,
                     want_present ? "defined" : "dropped");
            api_send_msg(c, lk_proto_progress(line));
        }
        json_object_set_new(c->seen, "done", json_integer((json_int_t) done));
        c->deadline_usec = lk_mono_usec() + EXTEND_WAIT_USEC;
    }
    return 0;
}

bool api_cluster_wait_check(struct conn *c)
{
    char msg[512] = "";
    int r;
    if (c->cluster_op == OP_STATE) {
        lk_cluster_progress(c->api->cluster, c->wait_tag, c->seen, emit_progress, c);
        r = lk_cluster_wait_state(c->api->cluster, c->wait_tag,
                                  c->want_node[0] ? c->want_node : NULL, c->start_gen, msg,
                                  sizeof(msg));
    } else if (c->cluster_op == OP_ROTATE_KEY) {
        r = lk_keyroll_status(c->api->cluster, msg, sizeof(msg));
        if (r > 0) {
            json_t *data = lk_keyroll_json(c->api->cluster);
            json_object_set_new(data, "message", json_string(msg));
            api_reply_ok(c, data);
        } else if (r < 0) {
            api_reply_error(c, LK_EXIT_FAILED, "%s", msg);
        }
        return r != 0;
    } else if (c->cluster_op == OP_SWITCH_OUT) {
        r = 0;
        if (lk_cluster_switched_out(c->api->cluster)) {
            api_stop_now(c, "lkstop --switchover: hierarchies moved, applications stopped here",
                         "switchover");
            return true;
        }
    } else {
        r = extend_state(c, c->cluster_op == OP_EXTEND, msg, sizeof(msg));
    }
    if (r == 0 && lk_mono_usec() > c->deadline_usec) {
        snprintf(msg, sizeof(msg), "gave up waiting for the cluster (the operation goes on)");
        r = -1;
    }
    if (r == 0) {
        return false;
    }
    if (r > 0) {
        json_t *data = json_pack("{s:s,s:s}", "tag", c->wait_tag, "node", c->want_node);
        api_reply_ok(c, data);
    } else {
        api_reply_error(c, LK_EXIT_FAILED, "%s of '%s' failed: %s", c->verb, c->wait_tag, msg);
    }
    return true;
}

/* ---------------------------------------------------------------- nodes, paths */

json_t *api_resource_nodes_json(struct lk_api *api, const struct lk_resource *res)
{
    const struct lk_node *node = api->node;
    json_t *list = json_array();
    /* The extends are sorted by tag, then priority (node.c). */
    for (size_t i = lk_node_first_extend(node, res->tag);
         i < node->extend_count && strcmp(node->extends[i].tag, res->tag) == 0; i++) {
        const struct lk_extend *next = &node->extends[i];
        bool self = strcmp(next->node, node->name) == 0;
        const char *state = self ? lk_state_name(res->state)
                                 : lk_cluster_remote_state(api->cluster, next->node, res->tag);
        bool unable =
                self ? res->unable : lk_cluster_remote_unable(api->cluster, next->node, res->tag);
        json_array_append_new(
                list, json_pack("{s:s,s:i,s:s,s:b,s:b,s:b}", "node", next->node, "priority",
                                (int) next->priority, "state", state, "self", self, "alive",
                                lk_cluster_peer_alive(api->cluster, next->node), "unable", unable));
    }
    return list;
}

static void h_node_list(struct conn *c, const json_t *args)
{
    (void) args;
    api_reply_ok(c, lk_cluster_status_json(c->api->cluster));
}

static bool save_config(struct conn *c, const struct lk_config *next)
{
    struct lk_node *node = c->api->node;
    char path[LK_PATH_MAX + 64], err[512];
    snprintf(path, sizeof(path), "%s/%s", node->root, LK_CONF_NAME);
    if (lk_config_save(path, next, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return false;
    }
    node->config = *next;
    return true;
}

static void h_commpath_change(struct conn *c, const json_t *args, bool create)
{
    struct lk_node *node = c->api->node;
    const char *peer = api_arg_str(args, "node");
    const char *address = api_arg_str(args, "address");
    if (!peer || !address) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --node or --address");
        return;
    }
    if (node->witness) {
        api_reply_error(c, LK_EXIT_FAILED,
                        "this node is a witness: nodes connect to it, it has no comm paths");
        return;
    }
    struct lk_config next = node->config;
    char err[512];
    int r = create ? lk_config_add_path(&next, peer, address, err, sizeof(err))
                   : lk_config_drop_path(&next, peer, address, err, sizeof(err));
    if (r < 0) {
        api_reply_error(c, r == -EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILED, "%s", err);
        return;
    }
    if (!save_config(c, &next)) {
        return;
    }
    lk_eventlog_msg(node, NULL, create ? LK_MSG_COMMPATH_CREATED : LK_MSG_COMMPATH_DELETED, peer,
                    address);
    lk_cluster_reconfigure(c->api->cluster, false);
    api_reply_ok(c, json_pack("{s:s,s:s}", "node", peer, "address", address));
}

static void h_commpath_create(struct conn *c, const json_t *args)
{
    h_commpath_change(c, args, true);
}

static void h_commpath_delete(struct conn *c, const json_t *args)
{
    h_commpath_change(c, args, false);
}

static void h_commpath_list(struct conn *c, const json_t *args)
{
    (void) args;
    json_t *status = lk_cluster_status_json(c->api->cluster);
    json_t *peers = json_incref(json_object_get(status, "peers"));
    json_decref(status);
    api_reply_ok(c, json_pack("{s:s,s:o}", "node", c->api->node->name, "peers",
                              peers ? peers : json_array()));
}

/* The cluster settings as they apply (`cluster config`'s "effective"), from the reply's
 * "settings" (so that it shows nothing they do not): an unset quorum is the mode the node
 * count gives, an unset max-failovers the number it stands for, an unset witness or fence
 * script "none". */
static json_t *effective_settings_json(const struct lk_cluster *cl, const json_t *settings)
{
    const struct lk_config *config = &cl->node->config;
    json_t *obj = json_deep_copy(settings);
    if (!obj) {
        return json_object();
    }
    if (config->cluster.quorum == LK_QUORUM_AUTO) {
        json_object_set_new(obj, "quorum",
                            json_string(lk_cluster_quorum_mode_none(cl) ? "none" : "majority"));
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "%u",
             lk_owner_max_failovers(config->cluster.max_failovers, 1 + config->peer_count));
    json_object_set_new(obj, "max-failovers", json_string(buf));
    static const char *const optional[] = {"witness", "fence-script"};
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        const char *v = json_string_value(json_object_get(obj, optional[i]));
        if (!v || !v[0]) {
            json_object_set_new(obj, optional[i], json_string("none"));
        }
    }
    return obj;
}

/* The names of the cluster settings that have their default value. */
static json_t *default_settings_json(const struct lk_cluster_settings *s)
{
    struct lk_cluster_settings d;
    lk_cluster_settings_init(&d);
    json_t *list = json_array();
    char a[1100], b[1100];
    for (size_t i = 0; list && lk_cluster_settings_keys[i]; i++) {
        const char *key = lk_cluster_settings_keys[i];
        const char *va = lk_cluster_settings_get(s, key, a, sizeof(a));
        const char *vb = lk_cluster_settings_get(&d, key, b, sizeof(b));
        if (va && vb && strcmp(va, vb) == 0) {
            json_array_append_new(list, json_string(key));
        }
    }
    return list;
}

static void h_cluster_config(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    json_t *settings = json_object_get(args, "settings");
    struct lk_config next = node->config;
    char changed[1024] = "", err[512];
    /* The alert hooks have their own commands, which check the files and read secrets. */
    if (json_object_get(settings, "alerts")) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "alerts are set with lkcli cluster alert add|delete, not cluster config");
        return;
    }
    if (json_object_get(settings, LK_CLUSTER_KEY_TUNABLES)) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "tunables are set with lkcli cluster tunables, not cluster config");
        return;
    }
    if (settings && lk_cluster_settings_apply(&next.cluster, settings, changed, sizeof(changed),
                                              err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    /* A new fence script must exist here and pass the resource scripts' check: lkd runs it
     * as root (safeopen.h). The other nodes check it when they get it and before each run. */
    const char *hook = next.cluster.fence_script;
    if (hook[0] && strcmp(hook, node->config.cluster.fence_script) != 0 &&
        lk_safeopen_check_hook(hook, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    if (changed[0]) {
        if (lk_define_cluster_settings(node, &next.cluster, NULL, 0, err, sizeof(err)) < 0) {
            api_reply_error(c, LK_EXIT_FAILED, "%s", err);
            return;
        }
        lk_eventlog_msg(node, NULL, LK_MSG_CLUSTER_CONFIGURED, changed);
        lk_cluster_reconfigure(c->api->cluster, true);
    }
    json_t *out = lk_cluster_settings_public_json(&node->config.cluster);
    json_t *effective = effective_settings_json(c->api->cluster, out);
    api_reply_ok(c, json_pack("{s:o,s:s,s:o,s:o}", "settings", out, "changed", changed, "effective",
                              effective, "defaults", default_settings_json(&node->config.cluster)));
}

/* lkcli cluster rotate-key: starts a rotation from this node (keyroll.c) and answers when
 * every live peer holds the new key and it replaced the old one, or when it failed. */
static void h_cluster_rotate_key(struct conn *c, const json_t *args)
{
    const json_t *hex = json_object_get(args, "key");
    uint8_t key[LK_WIRE_KEY];
    if (hex && (!json_is_string(hex) || lk_wire_key_parse(json_string_value(hex), key) < 0)) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid key: expected %d hex digits", 2 * LK_WIRE_KEY);
        return;
    }
    char err[512];
    int r = lk_keyroll_start(c->api->cluster, hex ? key : NULL, err, sizeof(err));
    sodium_memzero(key, sizeof(key));
    if (r < 0) {
        api_reply_error(c, r == -EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILED, "%s", err);
        return;
    }
    c->wait = WAIT_CLUSTER;
    c->cluster_op = OP_ROTATE_KEY;
    c->verb = "rotate-key";
    c->deadline_usec = lk_mono_usec() + CLUSTER_WAIT_USEC;
    (void) api_cluster_wait_check(c);
}

/* ---------------------------------------------------------------- tunables */

/* The tunables as the listing shows them: the text, and each key with its value, its line,
 * whether scripts get it, and whether a '$' in it is kept as written. */
static json_t *tunables_json(const char *text)
{
    struct lk_tunables t;
    json_t *list = json_array();
    if (lk_tunables_parse(text, strlen(text), &t, NULL, 0) == 0) {
        for (size_t i = 0; list && i < t.count; i++) {
            const struct lk_tunable *k = &t.items[i];
            json_array_append_new(list, json_pack("{s:s,s:s,s:i,s:b,s:b}", "key", k->key, "value",
                                                  k->value, "line", (int) k->line, "exported",
                                                  !k->reserved, "literal_dollar", k->dollar));
        }
        lk_tunables_done(&t);
    }
    return list;
}

/* The whole new text from args: "text" (--file) replaces, then each "set" ["KEY=VALUE"]
 * and "unset" [KEY] edits, in order. Returns a malloc'ed text or NULL with an exit code and
 * a message. */
static char *tunables_edit(const char *current, const json_t *args, int *ret_exit, char *err,
                           size_t err_size)
{
    const json_t *text = json_object_get(args, "text");
    const json_t *set = json_object_get(args, "set"), *unset = json_object_get(args, "unset");
    *ret_exit = LK_EXIT_USAGE;
    if ((text && !json_is_string(text)) || (set && !json_is_array(set)) ||
        (unset && !json_is_array(unset))) {
        snprintf(err, err_size, "malformed tunables request");
        return NULL;
    }
    char *out = strdup(text ? json_string_value(text) : current);
    if (!out) {
        *ret_exit = LK_EXIT_FAILED;
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (text) {
        struct lk_tunables t;
        char why[300];
        if (lk_tunables_parse(json_string_value(text), json_string_length(text), &t, why,
                              sizeof(why)) < 0) {
            snprintf(err, err_size, "invalid tunables: %s", why);
            free(out);
            return NULL;
        }
        lk_tunables_done(&t);
    }
    size_t i;
    const json_t *v;
    json_array_foreach(set, i, v)
    {
        const char *kv = json_string_value(v);
        const char *eq = kv ? strchr(kv, '=') : NULL;
        char key[LK_TUNABLE_KEY_MAX + 2], *next = NULL;
        if (!eq || (size_t) (eq - kv) > LK_TUNABLE_KEY_MAX) {
            snprintf(err, err_size, "invalid --set: expected KEY=VALUE");
            free(out);
            return NULL;
        }
        snprintf(key, sizeof(key), "%.*s", (int) (eq - kv), kv);
        int r = lk_tunables_set(out, key, eq + 1, &next, err, err_size);
        free(out);
        if (r < 0) {
            *ret_exit = r == -ENOMEM ? LK_EXIT_FAILED : LK_EXIT_USAGE;
            return NULL;
        }
        out = next;
    }
    json_array_foreach(unset, i, v)
    {
        char *next = NULL;
        int r = json_is_string(v)
                        ? lk_tunables_unset(out, json_string_value(v), &next, err, err_size)
                        : -EINVAL;
        if (!json_is_string(v)) {
            snprintf(err, err_size, "invalid --unset: expected a tunable's name");
        }
        free(out);
        if (r < 0) {
            *ret_exit = r == -ENOMEM ? LK_EXIT_FAILED : LK_EXIT_USAGE;
            return NULL;
        }
        out = next;
    }
    return out;
}

/* lkcli cluster tunables: lists them; with --set/--unset/--file changes them on every
 * node (a new settings version, as cluster config). */
static void h_cluster_tunables(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    char err[512], changed[256] = "";
    int code = LK_EXIT_USAGE;
    char *text = tunables_edit(node->config.cluster.tunables, args, &code, err, sizeof(err));
    if (!text) {
        api_reply_error(c, code, "%s", err);
        return;
    }
    int r = lk_tunwatch_apply(node, text, "lkcli cluster tunables", changed, sizeof(changed), err,
                              sizeof(err));
    free(text);
    if (r < 0) {
        api_reply_error(c, r == -EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILED, "%s", err);
        return;
    }
    if (changed[0]) {
        lk_cluster_reconfigure(c->api->cluster, true);
    }
    char path[LK_PATH_MAX + 64];
    lk_tunfile_path(node->root, LK_TUNFILE_NAME, path, sizeof(path));
    api_reply_ok(c, json_pack("{s:s,s:s,s:s,s:o}", "file", path, "text",
                              node->config.cluster.tunables, "changed", changed, "tunables",
                              tunables_json(node->config.cluster.tunables)));
}

/* ---------------------------------------------------------------- alert hooks */

/* lkcli cluster alert add: one hook, checked as a whole (its executable here as the fence
 * script is: root's, not writable by others), written with the cluster settings (a new
 * version, which the peers take) and delivered from now on. */
static void h_alert_add(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    const char *name = api_arg_str(args, "name");
    const char *kind = api_arg_str(args, "kind");
    const char *target = api_arg_str(args, "target");
    const char *secret = api_arg_str(args, "secret");
    const char *events = api_arg_str(args, "events");
    const char *recipient = api_arg_str(args, "recipient");
    const json_t *timeout = json_object_get(args, "timeout");
    char err[LK_PATH_MAX + 256];
    if (!name || !kind || !target) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --name, or --exec FILE or --webhook URL");
        return;
    }
    struct lk_alert_hook hook;
    memset(&hook, 0, sizeof(hook));
    if (lk_validate_tag(name, "alert name", err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    snprintf(hook.name, sizeof(hook.name), "%s", name);
    if (strcmp(kind, "exec") == 0) {
        hook.kind = LK_ALERT_EXEC;
    } else if (strcmp(kind, "webhook") == 0) {
        hook.kind = LK_ALERT_WEBHOOK;
    } else {
        api_reply_error(c, LK_EXIT_USAGE, "invalid alert kind: expected exec or webhook");
        return;
    }
    if (strlen(target) >= sizeof(hook.target) ||
        (secret && strlen(secret) >= sizeof(hook.secret)) ||
        (recipient && strlen(recipient) >= sizeof(hook.recipient))) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid alert '%s': the %s is too long", name,
                        strlen(target) >= sizeof(hook.target) ? (hook.kind ? "URL" : "path")
                        : recipient && strlen(recipient) >= sizeof(hook.recipient) ? "recipient"
                                                                                   : "secret");
        return;
    }
    snprintf(hook.target, sizeof(hook.target), "%s", target);
    if (hook.kind == LK_ALERT_WEBHOOK && !secret) {
        api_reply_error(c, LK_EXIT_USAGE, "a webhook needs a secret (--secret-file FILE)");
        return;
    }
    if (hook.kind == LK_ALERT_EXEC && secret) {
        api_reply_error(c, LK_EXIT_USAGE, "a secret is for a webhook only");
        return;
    }
    snprintf(hook.secret, sizeof(hook.secret), "%s", secret ? secret : "");
    snprintf(hook.recipient, sizeof(hook.recipient), "%s", recipient ? recipient : "");
    if (lk_alert_events_parse(events ? events : "warning,error", &hook.events, err, sizeof(err)) <
        0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    hook.timeout_s = LK_ALERT_TIMEOUT_DEFAULT_S;
    if (timeout) {
        json_int_t t = json_integer_value(timeout);
        if (!json_is_integer(timeout) || t < 1 || t > LK_ALERT_TIMEOUT_MAX_S) {
            api_reply_error(c, LK_EXIT_USAGE, "invalid --timeout: expected 1 to %d seconds",
                            LK_ALERT_TIMEOUT_MAX_S);
            return;
        }
        hook.timeout_s = (uint32_t) t;
    }
    if (lk_alert_hook_check(&hook, err, sizeof(err)) < 0) {
        sodium_memzero(&hook, sizeof(hook));
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    /* The executable must pass here what each run checks again on every node. */
    if (hook.kind == LK_ALERT_EXEC && lk_safeopen_check_hook(hook.target, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    struct lk_cluster_settings *next = malloc(sizeof(*next));
    if (!next) {
        sodium_memzero(&hook, sizeof(hook));
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    *next = node->config.cluster;
    int r = lk_cluster_settings_alert_add(next, &hook, err, sizeof(err));
    if (r == 0) {
        r = lk_define_cluster_settings(node, next, NULL, 0, err, sizeof(err));
        r = r < 0 ? -EIO : 0;
    }
    sodium_memzero(next, sizeof(*next));
    free(next);
    if (r < 0) {
        sodium_memzero(&hook, sizeof(hook));
        api_reply_error(c, r == -EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILED, "%s", err);
        return;
    }
    char what[LK_ALERT_TARGET_MAX + 16];
    snprintf(what, sizeof(what), "%s %s", kind, hook.target);
    lk_eventlog_msg(node, NULL, LK_MSG_ALERT_ADDED, hook.name, what);
    lk_cluster_reconfigure(c->api->cluster, true);
    lk_alerts_reload(node->alerts);
    json_t *shown = lk_alert_hook_json(&hook, false);
    sodium_memzero(&hook, sizeof(hook));
    api_reply_ok(c, json_pack("{s:o}", "alert", shown));
}

static void h_alert_delete(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    const char *name = api_arg_str(args, "name");
    char err[512];
    if (!name) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --name");
        return;
    }
    if (lk_validate_tag(name, "alert name", err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    struct lk_cluster_settings *next = malloc(sizeof(*next));
    if (!next) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    *next = node->config.cluster;
    int r = lk_cluster_settings_alert_delete(next, name, err, sizeof(err));
    if (r == 0 && lk_define_cluster_settings(node, next, NULL, 0, err, sizeof(err)) < 0) {
        r = -EIO;
    }
    sodium_memzero(next, sizeof(*next));
    free(next);
    if (r < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return;
    }
    lk_eventlog_msg(node, NULL, LK_MSG_ALERT_DELETED, name);
    lk_cluster_reconfigure(c->api->cluster, true);
    lk_alerts_reload(node->alerts);
    api_reply_ok(c, json_pack("{s:s}", "name", name));
}

static void h_alert_list(struct conn *c, const json_t *args)
{
    (void) args;
    json_t *list = lk_alerts_json(c->api->node->alerts);
    api_reply_ok(c, json_pack("{s:s,s:o}", "node", c->api->node->name, "alerts",
                              list ? list : json_array()));
}

/* ---------------------------------------------------------------- extend, unextend */

static bool priority_taken(const struct lk_node *node, const char *tag, const char *peer,
                           uint32_t priority)
{
    /* The extends are sorted by tag: tag's own only, not the whole list. */
    for (size_t i = lk_node_first_extend(node, tag);
         i < node->extend_count && strcmp(node->extends[i].tag, tag) == 0; i++) {
        const struct lk_extend *e = &node->extends[i];
        if (strcmp(e->node, peer) != 0 && e->priority == priority) {
            return true;
        }
    }
    return false;
}

static bool known_peer(const struct lk_node *node, const char *peer)
{
    for (size_t i = 0; i < node->config.peer_count; i++) {
        if (strcmp(node->config.peers[i].name, peer) == 0) {
            return true;
        }
    }
    return false;
}

/* Ends the transaction that holds one event per resource of a hierarchy (one disk sync,
 * not one per resource; lk.log and syslog have them whatever happens to it). */
static void events_done(struct lk_node *node, bool tx)
{
    if (tx && lk_store_commit(node->store) < 0) {
        lk_store_rollback(node->store);
    }
}

static void push_hierarchy(struct lk_api *api, char (*tags)[LK_TAG_MAX + 1], size_t n,
                           const char *extra)
{
    /* The cluster sends children before parents (a dependency arrives after both of its
     * ends), a batch per loop turn. */
    const char **list = calloc(n ? n : 1, sizeof(*list));
    for (size_t i = 0; list && i < n; i++) {
        list[i] = tags[i];
    }
    if (list) {
        lk_cluster_push(api->cluster, list, n, extra);
    }
    free(list);
}

/* Makes c wait until peer reports (or no longer reports) tag's hierarchy. */
static void wait_for_peer(struct conn *c, enum cluster_op op, const char *verb, const char *tag,
                          const char *peer)
{
    c->wait = WAIT_CLUSTER;
    c->cluster_op = op;
    c->verb = verb;
    snprintf(c->wait_tag, sizeof(c->wait_tag), "%s", tag);
    snprintf(c->want_node, sizeof(c->want_node), "%s", peer);
    json_decref(c->seen);
    c->seen = json_object(); /* {"done": resources the peer got so far} */
    c->deadline_usec = lk_mono_usec() + EXTEND_WAIT_USEC;
    (void) api_cluster_wait_check(c);
}

static void h_extend(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    const char *peer = api_arg_str(args, "node");
    json_t *prio_arg = json_object_get(args, "priority");
    char err[512];
    if (!peer) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --node");
        return;
    }
    if (lk_validate_tag(peer, "node name", err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    if (prio_arg && (!json_is_integer(prio_arg) || json_integer_value(prio_arg) < 1 ||
                     json_integer_value(prio_arg) > 1024)) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid --priority: expected 1 to 1024");
        return;
    }
    if (strcmp(peer, node->name) == 0) {
        api_reply_error(c, LK_EXIT_FAILED, "'%s' is already defined on this node", res->tag);
        return;
    }
    if (!known_peer(node, peer)) {
        api_reply_error(c, LK_EXIT_FAILED,
                        "node '%s' is not a member of this cluster (lkcli commpath create)", peer);
        return;
    }
    if (!lk_cluster_peer_alive(c->api->cluster, peer)) {
        api_reply_error(c, LK_EXIT_FAILED, "node '%s' is not ALIVE", peer);
        return;
    }
    char(*tags)[LK_TAG_MAX + 1] = NULL;
    size_t n = lk_cluster_hierarchy(node, res->tag, &tags);
    uint32_t priority = prio_arg ? (uint32_t) json_integer_value(prio_arg) : 0;
    if (!priority) {
        /* The next free number after every priority the hierarchy has. */
        for (size_t i = 0; i < n; i++) {
            for (size_t e = lk_node_first_extend(node, tags[i]);
                 e < node->extend_count && strcmp(node->extends[e].tag, tags[i]) == 0; e++) {
                if (strcmp(node->extends[e].node, peer) != 0 &&
                    node->extends[e].priority >= priority) {
                    priority = node->extends[e].priority + 1;
                }
            }
        }
        if (priority == 0 || priority > 1024) {
            priority = priority ? 1024 : 10;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (priority_taken(node, tags[i], peer, priority)) {
            api_reply_error(c, LK_EXIT_FAILED,
                            "priority %u is taken by another node for '%s' (priorities are "
                            "unique per resource)",
                            priority, tags[i]);
            free(tags);
            return;
        }
    }
    if (lk_define_extends(node, tags, n, peer, priority, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        free(tags);
        return;
    }
    bool tx = lk_store_begin(node->store) == 0; /* one disk sync for the n events */
    for (size_t i = 0; i < n; i++) {
        lk_eventlog_msg(node, tags[i], LK_MSG_EXTENDED, peer, priority);
    }
    events_done(node, tx);
    push_hierarchy(c->api, tags, n, NULL);
    free(tags);
    lk_cluster_on_local_change(c->api->cluster);
    wait_for_peer(c, OP_EXTEND, "extend", res->tag, peer);
}

static void h_unextend(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    const char *peer = api_arg_str(args, "node");
    if (!peer) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --node");
        return;
    }
    if (strcmp(peer, node->name) == 0) {
        api_reply_error(c, LK_EXIT_FAILED,
                        "cannot unextend the node the command runs on: run it on another node "
                        "of the hierarchy");
        return;
    }
    if (!lk_node_priority(node, res->tag, peer)) {
        api_reply_error(c, LK_EXIT_FAILED, "'%s' is not extended to node '%s'", res->tag, peer);
        return;
    }
    char(*tags)[LK_TAG_MAX + 1] = NULL;
    size_t n = lk_cluster_hierarchy(node, res->tag, &tags);
    for (size_t i = 0; i < n; i++) {
        const char *st = lk_cluster_remote_state(c->api->cluster, peer, tags[i]);
        if (strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0) {
            api_reply_error(c, LK_EXIT_FAILED,
                            "'%s' is in service on node '%s': switch it over or remove it first",
                            tags[i], peer);
            free(tags);
            return;
        }
    }
    char err[512];
    if (lk_define_extends(node, tags, n, peer, 0, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        free(tags);
        return;
    }
    bool tx = lk_store_begin(node->store) == 0;
    for (size_t i = 0; i < n; i++) {
        lk_eventlog_msg(node, tags[i], LK_MSG_UNEXTENDED, peer);
    }
    events_done(node, tx);
    push_hierarchy(c->api, tags, n, peer);
    free(tags);
    lk_cluster_on_local_change(c->api->cluster);
    wait_for_peer(c, OP_UNEXTEND, "unextend", res->tag, peer);
}

const struct route lk_api_cluster_routes[] = {
        {LK_CMD_NODE_LIST, LK_ROLE_GUEST, h_node_list},
        {LK_CMD_COMMPATH_LIST, LK_ROLE_GUEST, h_commpath_list},
        {LK_CMD_COMMPATH_CREATE, LK_ROLE_ADMIN, h_commpath_create},
        {LK_CMD_COMMPATH_DELETE, LK_ROLE_ADMIN, h_commpath_delete},
        {LK_CMD_CLUSTER_CONFIG, LK_ROLE_ADMIN, h_cluster_config},
        {LK_CMD_ROTATE_KEY, LK_ROLE_ADMIN, h_cluster_rotate_key},
        {LK_CMD_ALERT_ADD, LK_ROLE_ADMIN, h_alert_add},
        {LK_CMD_ALERT_DELETE, LK_ROLE_ADMIN, h_alert_delete},
        {LK_CMD_ALERT_LIST, LK_ROLE_GUEST, h_alert_list},
        {LK_CMD_CLUSTER_TUNABLES, LK_ROLE_ADMIN, h_cluster_tunables},
        {LK_CMD_RES_EXTEND, LK_ROLE_ADMIN, h_extend},
        {LK_CMD_RES_UNEXTEND, LK_ROLE_ADMIN, h_unextend},
        {NULL, LK_ROLE_GUEST, NULL},
};
