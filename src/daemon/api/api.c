/* The handlers of the resource and daemon commands, and the waits: each handler validates
 * every argument, turns operations on resources into engine events through the
 * executor, and keeps its request open while an action runs, streaming the events of
 * that resource as progress messages until the final reply. Requests come from the
 * request layer (request.c), whatever transport carried them; lk_api_start starts the
 * transports (socket.c).
 *
 * Requests are owned by their transport; work that outlives one (a test run) holds a
 * back pointer that api_release clears. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "api_internal.h"
#include "bus.h"
#include "catchup.h"
#include "cgroup.h"
#include "cluster.h"
#include "define.h"
#include "eventlog.h"
#include "executor.h"
#include "guardlink.h"
#include "incident.h"
#include "inslist.h"
#include "loopwatch.h"
#include "paramfile.h"
#include "probe.h"
#include "proto.h"
#include "restype.h"
#include "roles.h"
#include "socket.h"
#include "timeline.h"

struct test_ctx {
    struct conn *conn;      /* NULL once the connection closed */
    enum lk_action action;  /* the action tested */
    struct lk_resource res; /* a copy: its type classifies the result */
};

struct status_job;
static void status_job_detach(struct status_job *job);
static void add_files_json(struct lk_api *api, const struct lk_resource *res, json_t *obj);

/* ---------------------------------------------------------------- requests */

void api_release(struct conn *c)
{
    if (c->test) {
        c->test->conn = NULL;
    }
    api_agent_release(c);
    api_remote_release(c);
    lk_incident_cancel(c->gather);
    status_job_detach(c->status);
    c->status = NULL;
    json_decref(c->gathered);
    json_decref(c->seen);
}

/* ---------------------------------------------------------------- helpers */

const char *api_arg_str(const json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

static json_t *event_json(const struct lk_event_record *e)
{
    return lk_eventlog_json(e);
}

static void collect_event(const struct lk_event_record *e, void *userdata)
{
    json_t *list = userdata;
    json_array_append_new(list, event_json(e));
}

/* Looks up args.tag, replying with an error when it is missing or unknown. */
struct lk_resource *api_want_resource(struct conn *c, const json_t *args)
{
    const char *tag = api_arg_str(args, "tag");
    if (!tag) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --tag");
        return NULL;
    }
    struct lk_resource *res = lk_node_find(c->api->node, tag);
    if (!res) {
        char err[256];
        if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
            api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        } else {
            api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", tag);
        }
        return NULL;
    }
    return res;
}

bool api_refuse_while_stopping(struct conn *c)
{
    if (c->api->node->stopping) {
        api_reply_error(c, LK_EXIT_FAILED, "lkd is stopping");
        return true;
    }
    return false;
}

/* Applies args.settings (an object of name → text) to s; replies on error. */
static bool apply_settings(struct conn *c, const json_t *args, struct lk_settings *s, char *changed,
                           size_t changed_size)
{
    json_t *settings = json_object_get(args, "settings");
    if (!settings) {
        return true;
    }
    if (!json_is_object(settings)) {
        api_reply_error(c, LK_EXIT_USAGE, "settings must be an object");
        return false;
    }
    const char *key;
    json_t *v;
    size_t used = 0;
    if (changed_size) {
        changed[0] = '\0';
    }
    json_object_foreach(settings, key, v)
    {
        const char *value = json_string_value(v);
        char err[512];
        if (!value) {
            api_reply_error(c, LK_EXIT_USAGE, "setting '%s' must be given as text", key);
            return false;
        }
        if (lk_settings_set(s, key, value, err, sizeof(err)) < 0) {
            api_reply_error(c, LK_EXIT_USAGE, "%s", err);
            return false;
        }
        bool needs_cgroup =
                (strcmp(key, "watch") == 0 && s->watch == LK_WATCH_CGROUP) ||
                (strcmp(key, "kill-mode") == 0 && s->kill_mode == LK_KILL_CONTROL_GROUP);
        if (needs_cgroup && !c->api->node->cgroups) {
            /* The defaults stay as they are (they wait for containment); asking for one
             * names what is missing on this node. */
            api_reply_error(c, LK_EXIT_USAGE,
                            "%s %s needs containment, which is off on this node (%s)", key, value,
                            c->api->node->containment_why);
            return false;
        }
        if (changed_size > used) {
            int n = snprintf(changed + used, changed_size - used, "%s%s=%s", used ? ", " : "", key,
                             value);
            used += n > 0 ? (size_t) n : 0;
        }
    }
    /* The built-in process check looks at the pidfile's process, or without one at the
     * cgroup: one of them must be there (docs/CHECKS.md). */
    bool process =
            strcmp(s->quickchk_check, "process") == 0 || strcmp(s->deepchk_check, "process") == 0;
    if (process && !s->pidfile[0] && !c->api->node->cgroups) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "the process check needs --pidfile or containment, which is off on "
                        "this node (%s)",
                        c->api->node->containment_why);
        return false;
    }
    return true;
}

/* Makes c wait for tag's pending action to end, receiving the tag's events as progress
 * meanwhile. Set before the event is handled, so the first steps are seen too; the
 * caller then calls lk_api_on_change, which replies at once if nothing runs. */
void api_start_waiting(struct conn *c, const char *tag, bool want_in_service, const char *verb)
{
    c->wait = WAIT_ACTION;
    c->want_in_service = want_in_service;
    c->verb = verb;
    snprintf(c->wait_tag, sizeof(c->wait_tag), "%s", tag);
}

/* ---------------------------------------------------------------- handlers */

static void h_ping(struct conn *c, const json_t *args)
{
    (void) args;
    api_reply_ok(c, json_pack("{s:s, s:i, s:i}", "node", c->api->node->name, "pid", (int) getpid(),
                              "protocol", LK_PROTO_VERSION));
}

/* What the resource's cgroup holds and has used; null without containment or cgroup. */
static json_t *usage_json(const struct lk_node *node, const char *tag)
{
    struct lk_cgroup_stats st;
    if (!node->cgroups || lk_cgroups_stats(node->cgroups, tag, &st) < 0) {
        return json_null();
    }
    return json_pack("{s:I, s:I, s:o}", "procs", (json_int_t) st.procs, "cpu_usec",
                     (json_int_t) st.cpu_usec, "memory_bytes",
                     st.memory_bytes >= 0 ? json_integer(st.memory_bytes) : json_null());
}

/* The hierarchy's safety against this node's daemon dying, in words (issue 10). NULL
 * where the question does not arise (no peer it could move to). */
static const char *safety_text(const struct lk_node *node, const char *tag)
{
    if (node->config.peer_count == 0 || !lk_cluster_is_clustered(node, tag)) {
        return NULL;
    }
    bool backup = node->facts.has_backup && node->facts.has_backup(node->facts.ctx, tag);
    bool fence_script = node->config.cluster.fence_script[0] != '\0';
    if (!backup) {
        return "no live backup node: if this node's daemon dies it keeps running here";
    }
    if (lk_guardlink_guarding(node)) {
        return "fenced by the guard on daemon failure";
    }
    if (fence_script) {
        return "fenced by the fence script on daemon failure";
    }
    if (!node->cgroups) {
        return "no fencing: a peer may run it twice if this node's daemon dies (containment is "
               "off and there is no fence script)";
    }
    return "no fencing: a peer may run it twice if this node's daemon dies (the guard is not "
           "running and there is no fence script)";
}

/* The resources' states; with their cgroups' figures ("usage") when with_usage, else with
 * "usage": null for fill_usage. */
static json_t *resources_json(struct lk_api *api, const char *only_tag, bool with_usage)
{
    const struct lk_node *node = api->node;
    json_t *list = json_array();
    for (size_t i = 0; list && i < node->count; i++) {
        if (only_tag && strcmp(node->resources[i]->tag, only_tag) != 0) {
            continue;
        }
        json_t *obj = lk_proto_resource_view_json(node->resources[i]);
        if (obj && only_tag) {
            add_files_json(api, node->resources[i], obj);
        }
        if (obj) {
            json_object_set_new(obj, "nodes", api_resource_nodes_json(api, node->resources[i]));
            /* What its type said here (issue 13): not installed, not configured. */
            json_object_set_new(obj, "unable", json_boolean(node->resources[i]->unable));
            json_object_set_new(obj, "not_configured",
                                json_boolean(node->resources[i]->not_configured));
            json_object_set_new(obj, "usage",
                                with_usage ? usage_json(node, node->resources[i]->tag)
                                           : json_null());
        }
        json_array_append_new(list, obj);
    }
    return list;
}

/* ---------------------------------------------------------------- status across turns
 *
 * A status answer's states are built in one turn: they are a snapshot of one moment (the
 * loop is the only writer). What takes time per resource is reading its cgroup's figures
 * (three files): those are read in that turn while it has worked less than
 * STATUS_BUDGET_NS, and the rest on the next turns, the same budget each, by tag (a
 * resource dropped meanwhile has "usage": null); the answer goes when they all are in.
 * They are live figures, each read once, as they always were: not part of the snapshot. */
#define STATUS_BUDGET_NS (4ULL * 1000 * 1000)

struct status_job {
    struct conn *conn; /* NULL once the connection closed */
    struct lk_api *api;
    json_t *reply;
    json_t *resources; /* borrowed from reply */
    size_t next;
    uv_idle_t idle;
};

static void status_job_closed(uv_handle_t *h)
{
    struct status_job *job = h->data;
    json_decref(job->reply);
    free(job);
}

static void status_job_detach(struct status_job *job)
{
    if (job) {
        job->conn = NULL;
    }
}

/* Fills usage from job->next on until done or the budget since start is spent (at least
 * one); true when done. */
static bool fill_usage(struct status_job *job, uint64_t start_ns)
{
    const struct lk_node *node = job->api->node;
    size_t n = json_array_size(job->resources);
    while (job->next < n) {
        json_t *obj = json_array_get(job->resources, job->next++);
        const char *tag = json_string_value(json_object_get(obj, "tag"));
        if (obj && tag && node->cgroups) {
            json_object_set_new(obj, "usage", usage_json(node, tag));
        }
        if (uv_hrtime() - start_ns >= STATUS_BUDGET_NS) {
            break;
        }
    }
    return job->next >= n;
}

/* Replies with reply once its "resources" have their cgroup figures: at once when they
 * take less than the budget since start_ns, else on the next turns. */
static void reply_with_usage(struct conn *c, json_t *reply, uint64_t start_ns);

static void status_job_turn(uv_idle_t *h)
{
    struct status_job *job = h->data;
    if (job->conn && !fill_usage(job, uv_hrtime())) {
        return;
    }
    if (job->conn) {
        job->conn->status = NULL;
        api_reply_ok(job->conn, job->reply);
        job->reply = NULL;
    }
    uv_idle_stop(&job->idle);
    uv_close((uv_handle_t *) &job->idle, status_job_closed);
}

static void reply_with_usage(struct conn *c, json_t *reply, uint64_t start_ns)
{
    struct lk_node *node = c->api->node;
    struct status_job *job = reply ? calloc(1, sizeof(*job)) : NULL;
    if (!job) {
        api_reply_ok(c, reply);
        return;
    }
    job->conn = c;
    job->api = c->api;
    job->reply = reply;
    job->resources = json_object_get(reply, "resources");
    if (fill_usage(job, start_ns) || !node->loop) {
        while (!fill_usage(job, start_ns)) {
        }
        api_reply_ok(c, reply);
        free(job);
        return;
    }
    /* The rest of the figures on the next turns. */
    c->status = job;
    uv_idle_init(node->loop, &job->idle);
    job->idle.data = job;
    uv_idle_start(&job->idle, status_job_turn);
}

static json_t *deps_json(const struct lk_node *node);

/* One node of the nested hierarchy view: the resource, its state, and its children. */
static json_t *tree_json(const struct lk_node *node, const struct lk_hier *h, size_t v, int depth)
{
    const struct lk_resource *res = node->resources[v];
    json_t *children = json_array();
    size_t n = 0;
    const size_t *child = depth < 1000 ? lk_hier_children(h, v, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (child[i] < h->count) {
            json_array_append_new(children, tree_json(node, h, child[i], depth + 1));
        }
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "tag", res->tag, "state", lk_state_name(res->state),
                     "reason", res->reason, "children", children);
}

static json_t *hierarchies_json(struct lk_api *api)
{
    struct lk_node *node = api->node;
    const struct lk_hier *h = lk_node_hier(node);
    json_t *roots = h ? json_array() : NULL;
    for (size_t i = 0; roots && i < node->count; i++) {
        if (!lk_node_has_parents(node, node->resources[i]->tag)) {
            json_t *tree = tree_json(node, h, i, 0);
            char budget[160];
            if (tree && lk_cluster_budget_text(api->cluster, node->resources[i]->tag, budget,
                                               sizeof(budget))) {
                json_object_set_new(tree, "budget", json_string(budget));
            }
            json_t *own = tree ? lk_cluster_owner_brief_json(api->cluster, node->resources[i]->tag)
                               : NULL;
            if (own) {
                json_object_update(tree, own);
                json_decref(own);
            }
            json_t *marked =
                    tree ? lk_cluster_remove_failed_json(api->cluster, node->resources[i]->tag)
                         : NULL;
            if (marked) {
                json_object_set_new(tree, "remove_failed_on", marked);
            }
            const char *safety = tree ? safety_text(node, node->resources[i]->tag) : NULL;
            if (safety) {
                json_object_set_new(tree, "safety", json_string(safety));
            }
            json_array_append_new(roots, tree);
        }
    }
    return roots;
}

static void h_status(struct conn *c, const json_t *args)
{
    (void) args;
    uint64_t start_ns = uv_hrtime();
    struct lk_node *node = c->api->node;
    json_t *events = json_array();
    (void) lk_store_last_events(node->store, 10, NULL, collect_event, events);
    json_t *containment =
            node->cgroups ? json_pack("{s:b, s:s, s:b}", "on", true, "base",
                                      lk_cgroups_base(node->cgroups), "memory",
                                      lk_cgroups_has_memory(node->cgroups))
                          : json_pack("{s:b, s:s}", "on", false, "why", node->containment_why);
    json_t *reply = json_pack(
            "{s:s, s:s, s:i, s:I, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o*, "
            "s:o*}",
            "node", node->name, "root", node->root, "pid", (int) getpid(), "uptime_s",
            (json_int_t) ((lk_mono_usec() - node->started_usec) / 1000000), "stopping",
            node->stopping, "resources", resources_json(c->api, NULL, false), "dependencies",
            deps_json(node), "hierarchies", hierarchies_json(c->api), "events", events, "cluster",
            lk_cluster_status_json(c->api->cluster), "containment", containment, "guard",
            lk_guardlink_status(node), "loop", lk_loopwatch_json(node->loopwatch), "clients",
            lk_socket_status_json(c->api->socket));
    if (reply) {
        /* Whether the node database is writable (core/catchup.h). */
        json_object_set_new(reply, "store", lk_catchup_status_json(node));
        /* The alert hooks and their counters (core/alerts.h; never a secret). */
        json_object_set_new(reply, "alerts", lk_alerts_json(node->alerts));
    }
    reply_with_usage(c, reply, start_ns);
}

static void h_list(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    const char *tag = api_arg_str(args, "tag");
    if (tag && !lk_node_find(node, tag)) {
        api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", tag);
        return;
    }
    uint64_t start_ns = uv_hrtime();
    reply_with_usage(c,
                     json_pack("{s:s, s:o}", "node", node->name, "resources",
                               resources_json(c->api, tag, false)),
                     start_ns);
}

/* Appends line (n bytes) and a newline to the growing text; on failure frees it and sets
 * it to NULL. Returns whether text is still there. */
static bool append_line(char **text, size_t *used, size_t *cap, const char *line, size_t n)
{
    if (*used + n + 2 > *cap) {
        *cap = (*cap + n + 2) * 2;
        char *bigger = realloc(*text, *cap);
        if (!bigger) {
            free(*text);
            *text = NULL;
            return false;
        }
        *text = bigger;
    }
    memcpy(*text + *used, line, n);
    *used += n;
    (*text)[(*used)++] = '\n';
    return true;
}

/* resource.inslist with every field escaped: the lines and "escaped": true. */
static void inslist_escaped(struct conn *c, const char *tag, char sep)
{
    struct lk_node *node = c->api->node;
    /* An escape is four bytes for one: room for the longest line, every byte escaped. */
    size_t line_size =
            4 * (LK_TAG_MAX * 3 + LK_APP_MAX + LK_TYPE_MAX + LK_INFO_MAX + LK_REASON_MAX + 256);
    size_t cap = 4096, used = 0;
    char *text = malloc(cap);
    char *line = malloc(line_size);
    if (!line) {
        free(text);
        text = NULL;
    }
    for (size_t i = 0; text && i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        if (tag && strcmp(res->tag, tag) != 0) {
            continue;
        }
        int n = lk_inslist_format_escaped(res, node->name, sep, line, line_size);
        if (n < 0) {
            continue; /* cannot happen: the line has room for every byte escaped */
        }
        if (!append_line(&text, &used, &cap, line, (size_t) n)) {
            break;
        }
    }
    free(line);
    if (!text) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    api_reply_ok(c, json_pack("{s:s%, s:b}", "lines", text, used, "escaped", true));
    free(text);
}

/* ins_list's lines, formatted here: one string is far cheaper to send and parse than a
 * thousand resource objects (ins_list must stay fast with many resources). With "escape"
 * (the LifeKeeper commands' ins_list) every field is escaped for the separator and the
 * reply says "escaped"; without it (older commands) a field holding the separator is an
 * error, the reason excepted. */
static void h_inslist(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    const char *tag = api_arg_str(args, "tag");
    const char *sep_text = api_arg_str(args, "separator");
    bool escape = json_is_true(json_object_get(args, "escape"));
    if (!sep_text || strlen(sep_text) != 1 || sep_text[0] == '\n' ||
        (escape && !lk_inslist_separator_ok(sep_text[0]))) {
        api_reply_error(c, LK_EXIT_USAGE,
                        escape ? "the separator must be one character, not a backslash, a "
                                 "newline or a digit 0-7"
                               : "the separator must be exactly one character");
        return;
    }
    if (tag && !lk_node_find(node, tag)) {
        api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", tag);
        return;
    }
    if (escape) {
        inslist_escaped(c, tag, sep_text[0]);
        return;
    }
    size_t cap = 4096, used = 0;
    char *text = malloc(cap);
    char line[LK_TAG_MAX * 3 + LK_APP_MAX + LK_TYPE_MAX + LK_INFO_MAX + LK_REASON_MAX + 256];
    for (size_t i = 0; text && i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        if (tag && strcmp(res->tag, tag) != 0) {
            continue;
        }
        /* The reason is our own free text: a separator in it (a ',' in a script's error,
         * say) is replaced rather than failing every ins_list -f , of the node. The fields
         * users give are checked at creation instead. */
        struct lk_resource shown = *res;
        for (char *p = shown.reason; *p; p++) {
            if (*p == sep_text[0]) {
                *p = sep_text[0] == ';' ? ' ' : ';';
            }
        }
        int bad = 0;
        int n = lk_inslist_format(&shown, node->name, sep_text[0], line, sizeof(line), &bad);
        if (n < 0) {
            free(text);
            api_reply_error(c, LK_EXIT_FAILED,
                            "field %d of resource '%s' contains the separator; choose another "
                            "with -f",
                            bad, res->tag);
            return;
        }
        if (!append_line(&text, &used, &cap, line, (size_t) n)) {
            break;
        }
    }
    if (!text) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    api_reply_ok(c, json_pack("{s:s%}", "lines", text, used));
    free(text);
}

/* A resource's parameters (public form: secrets as "***") and helper file names, for the
 * replies about one resource. Read from its files: only asked for one at a time. */
static void add_files_json(struct lk_api *api, const struct lk_resource *res, json_t *obj)
{
    struct lk_params params = {0};
    char err[512];
    json_t *shown = NULL;
    if (lk_params_read(api->node->root, res->tag, &params, err, sizeof(err)) == 0) {
        shown = lk_params_public_json(&params);
    }
    lk_params_free(&params);
    json_object_set_new(obj, "params", shown ? shown : json_null());
    json_t *helpers = lk_helpers_names(api->node->root, res->tag);
    json_object_set_new(obj, "helpers", helpers ? helpers : json_null());
}

static json_t *resource_detail_json(struct lk_api *api, const struct lk_resource *res)
{
    json_t *obj = lk_proto_resource_view_json(res);
    if (obj) {
        add_files_json(api, res, obj);
    }
    return obj;
}

/* Reads args.params (the full JSON form) into params; replies on error. */
static bool parse_params_arg(struct conn *c, const json_t *args, struct lk_params *params)
{
    char err[512];
    json_t *given = json_object_get(args, "params");
    if (lk_params_from_json(given, params, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return false;
    }
    return true;
}

/* A resource being created: everything the request gave, checked, not yet written.
 * create_build fills it; create_commit hands it to the definitions writer. A type's admit
 * step (restype.h) goes between the two. */
struct create_job {
    struct lk_resource *res; /* heap; taken by lk_define_create */
    struct lk_define_files files;
    json_t *settings; /* the settings the request gave (a reference), or NULL */
    bool in_service;
};

static void create_job_free(struct create_job *job)
{
    free(job->res);
    json_decref(job->settings);
    lk_define_files_free(&job->files);
    free(job);
}

/* The app and type a create names: "app" gen|ocf|systemd (absent: gen) and "type" (gen:
 * "app" or absent; ocf: the agent; systemd: the unit). A request without "app" may name
 * gen in "type", as before types existed. Replies on error. */
static bool create_app_type(struct conn *c, const json_t *args, struct lk_resource *res)
{
    const char *app = api_arg_str(args, "app");
    const char *type = api_arg_str(args, "type");
    char err[512];
    if (!app) {
        if (type && strcmp(type, "gen") != 0) {
            api_reply_error(c, LK_EXIT_USAGE,
                            "unknown resource type '%s': name the app (gen, ocf or systemd)", type);
            return false;
        }
        app = "gen";
        type = "app";
    } else if (strcmp(app, "gen") == 0 && !type) {
        type = "app";
    }
    if (lk_validate_app_type(app, type, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return false;
    }
    snprintf(res->app, sizeof(res->app), "%s", app);
    snprintf(res->type, sizeof(res->type), "%s", type);
    return true;
}

/* Decodes args.scripts into job->files (gen: restore and remove required; other apps run
 * their agent or unit and take none: they have every action). Replies on error. */
static bool create_scripts(struct conn *c, const json_t *args, struct create_job *job)
{
    struct lk_resource *res = job->res;
    json_t *scripts = json_object_get(args, "scripts");
    bool gen = strcmp(res->app, "gen") == 0;
    if (!gen) {
        if (scripts && (!json_is_object(scripts) || json_object_size(scripts) != 0)) {
            api_reply_error(c, LK_EXIT_USAGE, "a %s resource runs its %s: it takes no scripts",
                            res->app, strcmp(res->app, "ocf") == 0 ? "agent" : "unit");
            return false;
        }
        for (int a = 0; a < LK_ACTION_COUNT; a++) {
            res->has_script[a] = true;
        }
        return true;
    }
    if (!json_is_object(scripts)) {
        api_reply_error(c, LK_EXIT_USAGE, "missing scripts");
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach(scripts, key, v)
    {
        enum lk_action a = lk_action_from_name(key);
        if (a == LK_ACTION_NONE) {
            api_reply_error(c, LK_EXIT_USAGE, "unknown action '%s'", key);
            return false;
        }
        const char *b64 = json_string_value(v);
        char serr[256];
        if (!b64 || lk_define_decode_script(b64, &job->files.content[a], &job->files.len[a], serr,
                                            sizeof(serr)) < 0) {
            api_reply_error(c, LK_EXIT_USAGE, "%s script: %s", key, b64 ? serr : "not text");
            return false;
        }
        res->has_script[a] = true;
    }
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (lk_action_required((enum lk_action) a) && !res->has_script[a]) {
            api_reply_error(c, LK_EXIT_USAGE, "missing --%s: a gen/app resource needs one",
                            lk_action_name((enum lk_action) a));
            return false;
        }
    }
    return true;
}

/* Checks every argument of a create and builds the resource and its files; NULL after a
 * reply on error. Nothing is written. */
static struct create_job *create_build(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    char err[512];
    const char *tag = api_arg_str(args, "tag");
    const char *id = api_arg_str(args, "id");
    const char *info = api_arg_str(args, "info");
    if (lk_validate_tag(tag, "tag", err, sizeof(err)) < 0 ||
        lk_validate_tag(id ? id : tag, "id", err, sizeof(err)) < 0 ||
        lk_validate_info(info ? info : "", err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return NULL;
    }
    if (!id) {
        id = tag;
    }
    if (lk_node_find(node, tag)) {
        api_reply_error(c, LK_EXIT_FAILED, "a resource with tag '%s' already exists", tag);
        return NULL;
    }
    if (lk_node_find_id(node, id)) {
        api_reply_error(c, LK_EXIT_FAILED, "a resource with id '%s' already exists", id);
        return NULL;
    }
    struct create_job *job = calloc(1, sizeof(*job));
    struct lk_resource *res = job ? calloc(1, sizeof(*res)) : NULL;
    if (!res) {
        free(job);
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return NULL;
    }
    job->res = res;
    job->settings = json_incref(json_object_get(args, "settings"));
    snprintf(res->tag, sizeof(res->tag), "%s", tag);
    snprintf(res->id, sizeof(res->id), "%s", id);
    snprintf(res->info, sizeof(res->info), "%s", info ? info : "");
    lk_settings_init(&res->settings);
    res->state = LK_STATE_OSU;
    res->pending = LK_PENDING_NONE;
    char changed[16];
    bool ok = create_app_type(c, args, res) &&
              apply_settings(c, args, &res->settings, changed, 0) && create_scripts(c, args, job) &&
              parse_params_arg(c, args, &job->files.params);
    /* The type's say on the settings (script-args is for types that run scripts); the
     * rest of the type's check is admit's, after this. */
    if (ok && res->settings.script_args != LK_SCRIPT_ARGS_NONE &&
        lk_type_check(res, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        ok = false;
    }
    job->files.has_params = true;
    if (ok && job->files.params.count && strcmp(res->app, "gen") == 0) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "parameters are for ocf and systemd resources; a gen resource's scripts "
                        "get --app-info");
        ok = false;
    }
    json_t *helpers = json_object_get(args, "helpers");
    if (ok && helpers && json_object_size(helpers) && strcmp(res->app, "gen") != 0) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "helper files are for a gen resource's scripts, not a %s resource",
                        res->app);
        ok = false;
    }
    if (ok && lk_define_decode_helpers(helpers, &job->files, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        ok = false;
    }
    if (!ok) {
        create_job_free(job);
        return NULL;
    }
    job->in_service = !json_is_false(json_object_get(args, "in_service"));
    res->target_in_service = false;
    snprintf(res->reason, sizeof(res->reason), "%s",
             job->in_service ? "created" : "created; not brought in service (--no-in-service)");
    return job;
}

/* Writes the checked definition (the one place a create reaches define.c), then replies
 * or brings it in service. Takes job. */
static void create_commit(struct conn *c, struct create_job *job)
{
    struct lk_node *node = c->api->node;
    char err[512], tag[LK_TAG_MAX + 1], id[LK_TAG_MAX + 1];
    snprintf(tag, sizeof(tag), "%s", job->res->tag);
    snprintf(id, sizeof(id), "%s", job->res->id);
    bool in_service = job->in_service;
    char shown[1024];
    lk_params_public_text(&job->files.params, shown, sizeof(shown));
    bool has_params = job->files.params.count > 0;
    int r = lk_define_create(node, job->res, &job->files, err, sizeof(err));
    job->res = NULL; /* taken, created or freed */
    create_job_free(job);
    if (r < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return;
    }
    struct lk_resource *res = lk_node_find(node, tag);
    lk_eventlog_msg(node, tag, LK_MSG_RESOURCE_CREATED, id);
    if (has_params) {
        lk_eventlog_msg(node, tag, LK_MSG_PARAMS_CHANGED, shown);
    }
    if (!in_service) {
        api_reply_ok(c, resource_detail_json(c->api, res));
        return;
    }
    struct lk_event ev = {.type = LK_EV_RESTORE_REQUESTED, .tag = tag};
    api_start_waiting(c, tag, true, "created, but restore");
    if (lk_executor_handle(node, &ev, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "resource '%s' was created, but %s", tag, err);
        return;
    }
    lk_api_on_change(c->api, tag);
}

static void create_admitted(struct conn *c, int status, const char *err, void *userdata)
{
    struct create_job *job = userdata;
    if (c && status < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
    }
    if (!c || status < 0) {
        create_job_free(job);
        return;
    }
    create_commit(c, job);
}

static void h_create(struct conn *c, const json_t *args)
{
    if (api_refuse_while_stopping(c)) {
        return;
    }
    if (c->api->node->witness) {
        api_reply_error(c, LK_EXIT_FAILED, "this node is a witness: it runs no resources");
        return;
    }
    struct create_job *job = create_build(c, args);
    if (!job) {
        return;
    }
    /* The type's admission (OCF: meta-data, validate-all) before anything is written. */
    int r = api_admit(c, job->res, &job->files.params, api_admit_given(args), create_admitted, job);
    if (r == 1) {
        create_commit(c, job);
    } else if (r < 0) {
        create_job_free(job);
    }
}

static void h_restore_remove(struct conn *c, const json_t *args, bool restore)
{
    struct lk_node *node = c->api->node;
    if (api_refuse_while_stopping(c)) {
        return;
    }
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    const char *target = api_arg_str(args, "node");
    char verr[256];
    if (target && lk_validate_tag(target, "node name", verr, sizeof(verr)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", verr);
        return;
    }
    bool whole = !restore && json_is_true(json_object_get(args, "hierarchy"));
    char cerr[LK_REASON_MAX];
    /* A remove that failed here may have left the application running here: a remove
     * runs here again, whoever holds the hierarchy (issue 9). */
    bool local_only = !restore && res->stop_failed && !lk_state_in_service(res->state);
    enum lk_cluster_verdict verdict =
            local_only ? LK_CLUSTER_LOCAL
            : restore  ? lk_cluster_restore(c->api->cluster, res->tag, target, cerr, sizeof(cerr))
                       : lk_cluster_remove(c->api->cluster, res->tag, whole, cerr, sizeof(cerr));
    if (verdict == LK_CLUSTER_REFUSED) {
        if (restore && target && strcmp(target, node->name) != 0) {
            /* Kept for `resource why`: a refused switchover is part of an incident. */
            lk_eventlog_msg(node, res->tag, LK_MSG_SWITCH_REFUSED, target, cerr);
        }
        api_reply_error(c, LK_EXIT_FAILED, "%s", cerr);
        return;
    }
    if (verdict == LK_CLUSTER_HANDLED) {
        api_start_cluster_wait(c, res->tag, restore ? (target ? target : node->name) : NULL,
                               restore ? "restore" : "remove");
        return;
    }
    struct lk_event ev = {.type = restore ? LK_EV_RESTORE_REQUESTED : LK_EV_REMOVE_REQUESTED,
                          .tag = res->tag,
                          .whole_hierarchy =
                                  !restore && json_is_true(json_object_get(args, "hierarchy"))};
    char err[LK_REASON_MAX];
    api_start_waiting(c, res->tag, restore, restore ? "restore" : "remove");
    if (lk_executor_handle(node, &ev, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return;
    }
    lk_api_on_change(c->api, ev.tag);
}

static void h_restore(struct conn *c, const json_t *args)
{
    h_restore_remove(c, args, true);
}

static void h_remove(struct conn *c, const json_t *args)
{
    h_restore_remove(c, args, false);
}

/* Collects root and its descendants (each once) into tags. */
/* Appends vertex v and what it depends on (depth first, in the dependency list's order,
 * each once: inside[] marks what is in tags) to tags, at most max. */
static void collect_tree(const struct lk_hier *h, size_t v, bool *inside,
                         char (*tags)[LK_TAG_MAX + 1], size_t *count, size_t max)
{
    if (inside[v] || *count >= max) {
        return;
    }
    inside[v] = true;
    snprintf(tags[(*count)++], LK_TAG_MAX + 1, "%s", lk_hier_tag(h, v));
    size_t n = 0;
    const size_t *children = lk_hier_children(h, v, &n);
    for (size_t i = 0; i < n; i++) {
        collect_tree(h, children[i], inside, tags, count, max);
    }
}

static void h_delete(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    if (api_refuse_while_stopping(c)) {
        return;
    }
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    if (lk_node_has_parents(node, res->tag)) {
        api_reply_error(c, LK_EXIT_FAILED,
                        "resource '%s' has parents; delete them or the dependencies first",
                        res->tag);
        return;
    }
    bool hierarchy = json_is_true(json_object_get(args, "hierarchy"));
    size_t max = node->count ? node->count : 1, count = 0;
    char(*tags)[LK_TAG_MAX + 1] = calloc(max, sizeof(*tags));
    const struct lk_hier *h = lk_node_hier(node);
    bool *inside = h ? calloc(h->vcount ? h->vcount : 1, sizeof(*inside)) : NULL;
    size_t v;
    if (!tags || !inside || !lk_hier_vertex(h, res->tag, &v)) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        free(tags);
        free(inside);
        return;
    }
    if (hierarchy) {
        collect_tree(h, v, inside, tags, &count, max);
    } else {
        snprintf(tags[count++], LK_TAG_MAX + 1, "%s", res->tag);
    }
    /* Every member: idle, out of service, and (for a tree) not also a child of a
     * resource outside the tree. */
    for (size_t i = 0; i < count; i++) {
        const struct lk_resource *m = lk_node_find(node, tags[i]);
        const char *why = NULL;
        if (m && m->pending != LK_PENDING_NONE) {
            why = "is busy";
        } else if (m && lk_state_in_service(m->state)) {
            why = "is in service; take it out of service first";
        }
        char who[LK_TAG_MAX + 1], elsewhere[LK_TAG_MAX + 80];
        if (!why && lk_cluster_in_service_somewhere(c->api->cluster, tags[i], who, sizeof(who))) {
            snprintf(elsewhere, sizeof(elsewhere),
                     "is in service on node '%s'; take it out of service first", who);
            why = elsewhere;
        }
        size_t vi, np = 0;
        const size_t *parents =
                hierarchy && lk_hier_vertex(h, tags[i], &vi) ? lk_hier_parents(h, vi, &np) : NULL;
        for (size_t k = 0; !why && k < np; k++) {
            if (!inside[parents[k]]) {
                why = "is also a child of a resource outside this hierarchy";
            }
        }
        if (why) {
            api_reply_error(c, LK_EXIT_FAILED, "resource '%s' %s%s", tags[i], why,
                            hierarchy ? " (nothing deleted)" : "");
            free(tags);
            free(inside);
            return;
        }
    }
    free(inside);
    char err[512];
    if (lk_define_delete(node, tags, count, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        free(tags);
        return;
    }
    json_t *deleted = json_array();
    for (size_t i = count; i-- > 0;) {
        lk_eventlog_msg(node, tags[i], LK_MSG_RESOURCE_DELETED);
        json_array_append_new(deleted, json_string(tags[i]));
        const char *one = tags[i];
        lk_cluster_push(c->api->cluster, &one, 1, NULL);
    }
    json_t *data = json_pack("{s:s, s:o}", "tag", tags[0], "deleted", deleted);
    free(tags);
    api_reply_ok(c, data);
}

static json_t *deps_json(const struct lk_node *node)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < node->dep_count; i++) {
        json_array_append_new(list, json_pack("{s:s, s:s}", "parent", node->deps[i].parent, "child",
                                              node->deps[i].child));
    }
    return list;
}

static void h_dep_list(struct conn *c, const json_t *args)
{
    (void) args;
    api_reply_ok(c, json_pack("{s:o}", "dependencies", deps_json(c->api->node)));
}

static void h_dep_change(struct conn *c, const json_t *args, bool create)
{
    struct lk_node *node = c->api->node;
    if (api_refuse_while_stopping(c)) {
        return;
    }
    const char *ptag = api_arg_str(args, "parent"), *ctag = api_arg_str(args, "child");
    if (!ptag || !ctag) {
        api_reply_error(c, LK_EXIT_USAGE, "missing --%s", ptag ? "child" : "parent");
        return;
    }
    struct lk_resource *parent = lk_node_find(node, ptag), *child = lk_node_find(node, ctag);
    if (!parent || !child) {
        api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", parent ? ctag : ptag);
        return;
    }
    struct lk_view view = lk_node_view(node);
    const struct lk_resource *busy = lk_engine_hierarchy_busy(&view, ptag);
    if (!busy) {
        busy = lk_engine_hierarchy_busy(&view, ctag);
    }
    if (busy) {
        api_reply_error(c, LK_EXIT_FAILED, "resource '%s' is busy: %s in progress", busy->tag,
                        lk_pending_name(busy->pending));
        return;
    }
    char derr[512];
    bool exists = false;
    size_t pv, cv, n = 0;
    const size_t *children = view.hier && lk_hier_vertex(view.hier, ptag, &pv) &&
                                             lk_hier_vertex(view.hier, ctag, &cv)
                                     ? lk_hier_children(view.hier, pv, &n)
                                     : NULL;
    for (size_t i = 0; i < n; i++) {
        exists |= children[i] == cv;
    }
    for (size_t i = 0; !view.hier && i < node->dep_count; i++) {
        exists |= strcmp(node->deps[i].parent, ptag) == 0 && strcmp(node->deps[i].child, ctag) == 0;
    }
    if (!create) {
        if (!exists) {
            api_reply_error(c, LK_EXIT_FAILED, "'%s' does not depend on '%s'", ptag, ctag);
            return;
        }
        if (lk_define_dep(node, ptag, ctag, false, derr, sizeof(derr)) < 0) {
            api_reply_error(c, LK_EXIT_FAILED, "%s", derr);
            return;
        }
        lk_cluster_push(c->api->cluster, &ptag, 1, NULL);
        lk_eventlog_msg(node, ptag, LK_MSG_DEPENDENCY_DELETED, ptag, ctag);
        api_reply_ok(c, json_pack("{s:s, s:s}", "parent", ptag, "child", ctag));
        return;
    }
    char cycle[1024];
    if (strcmp(ptag, ctag) == 0) {
        api_reply_error(c, LK_EXIT_FAILED, "a resource cannot depend on itself ('%s')", ptag);
        return;
    }
    if (exists) {
        api_reply_error(c, LK_EXIT_FAILED, "'%s' already depends on '%s'", ptag, ctag);
        return;
    }
    if (lk_engine_would_cycle(&view, ptag, ctag, cycle, sizeof(cycle))) {
        api_reply_error(c, LK_EXIT_FAILED, "the dependency would make a cycle: %s", cycle);
        return;
    }
    if (lk_state_in_service(parent->state) && !lk_state_in_service(child->state)) {
        api_reply_error(c, LK_EXIT_FAILED,
                        "'%s' is in service but '%s' is %s: a parent cannot run without its "
                        "child; restore '%s' or remove '%s' first",
                        ptag, ctag, lk_state_name(child->state), ctag, ptag);
        return;
    }
    /* SPEC §4: both ends are defined on the same nodes. The extends are sorted by tag:
     * only the runs of the two tags can say no, read in the order of the whole list. */
    const char *first = strcmp(ptag, ctag) < 0 ? ptag : ctag;
    const char *second = first == ptag ? ctag : ptag;
    for (int k = 0; k < 2; k++) {
        const char *run = k == 0 ? first : second;
        for (size_t e = lk_node_first_extend(node, run);
             e < node->extend_count && strcmp(node->extends[e].tag, run) == 0; e++) {
            const struct lk_extend *x = &node->extends[e];
            bool on_parent = run == ptag;
            if (!lk_node_priority(node, on_parent ? ctag : ptag, x->node)) {
                api_reply_error(c, LK_EXIT_FAILED,
                                "'%s' is defined on node '%s' but '%s' is not: both ends of a "
                                "dependency must be extended to the same nodes",
                                on_parent ? ptag : ctag, x->node, on_parent ? ctag : ptag);
                return;
            }
        }
    }
    if (lk_define_dep(node, ptag, ctag, true, derr, sizeof(derr)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", derr);
        return;
    }
    lk_cluster_push(c->api->cluster, &ptag, 1, NULL);
    lk_eventlog_msg(node, ptag, LK_MSG_DEPENDENCY_CREATED, ptag, ctag);
    api_reply_ok(c, json_pack("{s:s, s:s}", "parent", ptag, "child", ctag));
}

static void h_dep_create(struct conn *c, const json_t *args)
{
    h_dep_change(c, args, true);
}

static void h_dep_delete(struct conn *c, const json_t *args)
{
    h_dep_change(c, args, false);
}

/* update-script: one action's script ("action" and "content"), helper files added or
 * replaced ("helpers": {name: base64}), or both, in one version step. */
static void h_update_script(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    const char *action = api_arg_str(args, "action");
    const char *b64 = api_arg_str(args, "content");
    json_t *helpers = json_object_get(args, "helpers");
    char err[512];
    struct lk_define_files files = {0};
    enum lk_action a = LK_ACTION_NONE;
    if (action || b64 || !helpers) {
        a = lk_action_from_name(action);
        if (a == LK_ACTION_NONE) {
            api_reply_error(c, LK_EXIT_USAGE, "unknown action '%s'", action ? action : "");
            return;
        }
        if (strcmp(res->app, "gen") != 0) {
            api_reply_error(c, LK_EXIT_USAGE, "a %s resource has no scripts to replace", res->app);
            return;
        }
        if (!b64 ||
            lk_define_decode_script(b64, &files.content[a], &files.len[a], err, sizeof(err)) < 0) {
            api_reply_error(c, LK_EXIT_USAGE, "%s", b64 ? err : "missing script content");
            return;
        }
    }
    if (helpers && strcmp(res->app, "gen") != 0) {
        lk_define_files_free(&files);
        api_reply_error(c, LK_EXIT_USAGE,
                        "helper files are for a gen resource's scripts, not a %s resource",
                        res->app);
        return;
    }
    if (helpers && (!json_is_object(helpers) || json_object_size(helpers) == 0)) {
        lk_define_files_free(&files);
        api_reply_error(c, LK_EXIT_USAGE, "helpers must name at least one file");
        return;
    }
    if (lk_define_decode_helpers(helpers, &files, err, sizeof(err)) < 0) {
        lk_define_files_free(&files);
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    int r = lk_define_files(node, res->tag, &files, err, sizeof(err));
    char names[LK_HELPERS_MAX * (LK_HELPER_NAME_MAX + 1) + 1] = "";
    json_t *replaced = json_array();
    for (size_t i = 0; i < files.helper_count; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof(names) - used, "%s%s", used ? " " : "",
                 files.helpers[i].name);
        json_array_append_new(replaced, json_string(files.helpers[i].name));
    }
    lk_define_files_free(&files);
    if (r < 0) {
        json_decref(replaced);
        api_reply_error(c, r == -EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAILED, "%s", err);
        return;
    }
    const char *one = res->tag;
    lk_cluster_push(c->api->cluster, &one, 1, NULL);
    if (a != LK_ACTION_NONE) {
        lk_eventlog_msg(node, res->tag, LK_MSG_SCRIPT_UPDATED, lk_action_name(a));
    }
    if (names[0]) {
        lk_eventlog_msg(node, res->tag, LK_MSG_HELPER_UPDATED, names);
    }
    json_t *data = json_pack("{s:s, s:o}", "tag", res->tag, "helpers", replaced);
    if (a != LK_ACTION_NONE) {
        json_object_set_new(data, "action", json_string(lk_action_name(a)));
    }
    api_reply_ok(c, data);
}

/* The parameters a config asks for, from the current ones: args.params (the full form)
 * set or replaced, args.unset_params (names) removed. *ret_changed: anything asked.
 * Replies on error. */
static bool config_params(struct conn *c, const json_t *args, const struct lk_resource *res,
                          struct lk_params *next, bool *ret_changed)
{
    json_t *set = json_object_get(args, "params");
    json_t *unset = json_object_get(args, "unset_params");
    json_t *marks = json_object_get(args, "secret_params");
    *ret_changed = set || unset || marks;
    if (!*ret_changed) {
        return true;
    }
    if (strcmp(res->app, "gen") == 0) {
        api_reply_error(c, LK_EXIT_USAGE,
                        "parameters are for ocf and systemd resources; a gen resource's scripts "
                        "get --app-info");
        return false;
    }
    char err[512];
    struct lk_params given = {0};
    if (lk_params_read(c->api->node->root, res->tag, next, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return false;
    }
    if (!parse_params_arg(c, args, &given)) {
        return false;
    }
    int r = 0;
    for (size_t i = 0; r == 0 && i < given.count; i++) {
        const struct lk_param *x = &given.items[i];
        r = lk_params_set(next, x->name, x->value, x->secret, err, sizeof(err));
    }
    lk_params_free(&given);
    if (r == 0 && ((unset && !json_is_array(unset)) || (marks && !json_is_array(marks)))) {
        r = lk_fail_einval(err, sizeof(err), "unset_params and secret_params are lists of names");
    }
    size_t k;
    json_t *m;
    json_array_foreach(r == 0 ? marks : NULL, k, m)
    {
        const char *name = json_string_value(m);
        if (!name || lk_params_mark_secret(next, name) < 0) {
            r = lk_fail_einval(err, sizeof(err), "--secret %s: the resource has no such parameter",
                               name ? name : "(not text)");
            break;
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(r == 0 ? unset : NULL, i, v)
    {
        const char *name = json_string_value(v);
        if (!name || lk_params_unset(next, name) < 0) {
            r = lk_fail_einval(err, sizeof(err), "no parameter '%s' to unset",
                               name ? name : "(not text)");
            break;
        }
    }
    if (r < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return false;
    }
    return true;
}

/* A config being made: the new settings, info and parameters, checked, not yet written.
 * config_build fills it; config_commit hands it to the definitions writer. A type's admit
 * step (restype.h: at every parameter change) goes between the two. */
struct config_job {
    char tag[LK_TAG_MAX + 1];
    struct lk_settings next;
    char info[LK_INFO_MAX + 1];
    bool has_info;
    char changed[1024];           /* the settings changed, for event 1102 */
    json_t *settings;             /* the settings the request gave (a reference), or NULL */
    struct lk_define_files files; /* files.has_params: the parameters change */
};

static void config_job_free(struct config_job *job)
{
    json_decref(job->settings);
    lk_define_files_free(&job->files);
    free(job);
}

/* Checks every argument of a config; NULL after a reply on error. Nothing is written. */
static struct config_job *config_build(struct conn *c, const json_t *args)
{
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return NULL;
    }
    struct config_job *job = calloc(1, sizeof(*job));
    if (!job) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return NULL;
    }
    snprintf(job->tag, sizeof(job->tag), "%s", res->tag);
    job->next = res->settings;
    job->settings = json_incref(json_object_get(args, "settings"));
    const char *info = api_arg_str(args, "info");
    char err[512];
    bool ok = apply_settings(c, args, &job->next, job->changed, sizeof(job->changed));
    if (ok && info && lk_validate_info(info, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        ok = false;
    }
    if (ok && lk_settings_check(&job->next, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        ok = false;
    }
    if (ok && res->settings.script_args != job->next.script_args) {
        /* The type's say on the new settings (script-args is for types that run scripts). */
        struct lk_resource *candidate = malloc(sizeof(*candidate));
        if (!candidate) {
            api_reply_error(c, LK_EXIT_FAILED, "out of memory");
            ok = false;
        } else {
            *candidate = *res;
            candidate->settings = job->next;
            if (lk_type_check(candidate, err, sizeof(err)) < 0) {
                api_reply_error(c, LK_EXIT_USAGE, "%s", err);
                ok = false;
            }
            free(candidate);
        }
    }
    ok = ok && config_params(c, args, res, &job->files.params, &job->files.has_params);
    if (!ok) {
        config_job_free(job);
        return NULL;
    }
    job->has_info = info != NULL;
    snprintf(job->info, sizeof(job->info), "%s", info ? info : "");
    return job;
}

/* Writes the checked config (the one place a config reaches define.c: the parameters,
 * then the settings), then replies. Takes job. */
static void config_commit(struct conn *c, struct config_job *job)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = lk_node_find(node, job->tag);
    if (!res) {
        api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", job->tag);
        config_job_free(job);
        return;
    }
    char err[512], shown[1024];
    lk_params_public_text(&job->files.params, shown, sizeof(shown));
    bool params_changed = job->files.has_params;
    int r = params_changed ? lk_define_files(node, res->tag, &job->files, err, sizeof(err)) : 0;
    if (r == 0) {
        r = lk_define_settings(node, res->tag, &job->next, job->has_info ? job->info : NULL, err,
                               sizeof(err));
    }
    if (r < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        config_job_free(job);
        return;
    }
    const char *one = res->tag;
    lk_cluster_push(c->api->cluster, &one, 1, NULL);
    if (job->changed[0]) {
        lk_eventlog_msg(node, res->tag, LK_MSG_RESOURCE_CONFIGURED, job->changed);
    }
    if (params_changed) {
        lk_eventlog_msg(node, res->tag, LK_MSG_PARAMS_CHANGED, shown[0] ? shown : "(none)");
    }
    config_job_free(job);
    /* Monitoring on or off moves an in-service resource between ISP and ISU; new
     * intervals or a new pidfile re-arm the checks. */
    struct lk_event ev = {.type = LK_EV_SETTINGS_CHANGED, .tag = res->tag};
    char eerr[LK_REASON_MAX];
    (void) lk_executor_handle(node, &ev, eerr, sizeof(eerr));
    api_reply_ok(c, resource_detail_json(c->api, res));
}

/* A parameter change waiting for the type's admission: the resource as it would be. */
struct config_admit {
    struct config_job *job;
    struct lk_resource candidate;
};

static void config_admitted(struct conn *c, int status, const char *err, void *userdata)
{
    struct config_admit *ca = userdata;
    struct config_job *job = ca->job;
    free(ca);
    if (c && status < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
    }
    if (!c || status < 0) {
        config_job_free(job);
        return;
    }
    config_commit(c, job);
}

static void h_config(struct conn *c, const json_t *args)
{
    struct config_job *job = config_build(c, args);
    if (!job) {
        return;
    }
    const struct lk_resource *res = lk_node_find(c->api->node, job->tag);
    if (!job->files.has_params || !res) {
        config_commit(c, job);
        return;
    }
    /* At every parameter change the type admits the new definition again (OCF:
     * validate-all); the settings stay the user's. */
    struct config_admit *ca = calloc(1, sizeof(*ca));
    if (!ca) {
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        config_job_free(job);
        return;
    }
    ca->job = job;
    ca->candidate = *res;
    ca->candidate.settings = job->next;
    const unsigned all = LK_TYPE_GIVEN_ACTION_TIMEOUT | LK_TYPE_GIVEN_QUICKCHK_TIMEOUT |
                         LK_TYPE_GIVEN_DEEPCHK_TIMEOUT | LK_TYPE_GIVEN_QUICKCHK_INTERVAL |
                         LK_TYPE_GIVEN_DEEPCHK_INTERVAL;
    int r = api_admit(c, &ca->candidate, &job->files.params, all, config_admitted, ca);
    if (r != 0) {
        free(ca);
    }
    if (r == 1) {
        config_commit(c, job);
    } else if (r < 0) {
        config_job_free(job);
    }
}

static void test_done(struct lk_run *run, const struct lk_result *result, const char *output,
                      size_t output_len, void *userdata)
{
    (void) run;
    struct test_ctx *ctx = userdata;
    struct conn *c = ctx->conn;
    struct lk_result classified = *result;
    result = &classified;
    /* Secrets the run printed are masked here too. */
    char masked[LK_RUN_OUTPUT_MAX];
    if (c) {
        struct lk_type_ctx tctx = {.root = c->api->node->root, .node_name = c->api->node->name};
        output = lk_type_read_run(&tctx, &ctx->res, ctx->action, 0, &classified, output, output_len,
                                  masked);
    }
    free(ctx);
    if (!c) {
        return;
    }
    c->test = NULL;
    char desc[320];
    lk_result_describe(result, desc, sizeof(desc));
    api_reply_ok(c,
                 json_pack("{s:b, s:s, s:s, s:s, s:i, s:i, s:I, s:s%}", "ok", lk_result_ok(result),
                           "outcome", lk_outcome_name(result->outcome), "verdict",
                           lk_verdict_name(lk_result_verdict(result)), "description", desc,
                           "exit_status", result->exit_status, "signal", result->term_signal,
                           "duration_ms", (json_int_t) (result->duration_usec / 1000), "output",
                           output ? output : "", output_len));
}

static void test_probe_done(struct lk_probe *probe, const struct lk_result *result,
                            const char *output, size_t output_len, void *userdata)
{
    (void) probe;
    test_done(NULL, result, output, output_len, userdata);
}

/* resource test of a check with a built-in spec: the probe lkd runs (io/probe.c), answered
 * as a script's run is. Returns false after replying with an error. */
static bool test_builtin(struct conn *c, const struct lk_resource *res, enum lk_action a,
                         struct test_ctx *ctx)
{
    struct lk_node *node = c->api->node;
    struct lk_probe_spec ps;
    int r = lk_probe_spec_for(&ps, res, a, node->cgroups);
    if (r == 0) {
        r = lk_probe_start(node->loop, &ps, test_probe_done, ctx, NULL);
    }
    if (r < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "cannot run the built-in %s: %s", lk_action_name(a),
                        strerror(-r));
        return false;
    }
    return true;
}

static void h_test(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    const char *action = api_arg_str(args, "action");
    enum lk_action a = lk_action_from_name(action);
    if (a == LK_ACTION_NONE) {
        api_reply_error(c, LK_EXIT_USAGE, "unknown action '%s'", action ? action : "");
        return;
    }
    if (!lk_resource_has_check(res, a)) {
        api_reply_error(c, LK_EXIT_FAILED, "resource '%s' has no %s script", res->tag, action);
        return;
    }
    if (lk_resource_builtin_check(res, a)) {
        struct test_ctx *tctx = calloc(1, sizeof(*tctx));
        if (!tctx) {
            api_reply_error(c, LK_EXIT_FAILED, "out of memory");
            return;
        }
        tctx->conn = c;
        if (!test_builtin(c, res, a, tctx)) {
            free(tctx);
            return;
        }
        c->test = tctx;
        c->wait = WAIT_TEST;
        return;
    }
    struct test_ctx *ctx = calloc(1, sizeof(*ctx));
    struct lk_type_run *prep = malloc(sizeof(*prep));
    if (!ctx || !prep) {
        free(ctx);
        free(prep);
        api_reply_error(c, LK_EXIT_FAILED, "out of memory");
        return;
    }
    struct lk_type_ctx tctx = {.root = node->root,
                               .node_name = node->name,
                               .exe_dir = lk_type_exe_dir(),
                               .tunables = node->config.cluster.tunables};
    char why[256];
    int r = lk_type_prepare(&tctx, res, a, 0, prep, why, sizeof(why));
    if (r < 0) {
        free(ctx);
        free(prep);
        api_reply_error(c, LK_EXIT_FAILED, "cannot run the %s action: %s", action, why);
        return;
    }
    lk_node_contain(node, res->tag, &prep->spec);
    ctx->conn = c;
    ctx->action = a;
    ctx->res = *res;
    r = lk_run_start(node->loop, &prep->spec, test_done, ctx, NULL);
    lk_type_run_free(prep);
    free(prep);
    if (r < 0) {
        free(ctx);
        api_reply_error(c, LK_EXIT_FAILED, "cannot run the %s script: %s", action, strerror(-r));
        return;
    }
    c->test = ctx;
    c->wait = WAIT_TEST;
}

/* log --cluster: the records of every node, merged by time, the last gather_limit of
 * them (of wait_tag only, when set), and the nodes that gave none. With --tag the peers
 * the tag's hierarchy is extended to are asked about it; a tag unknown here asks nobody. */
static void log_cluster_reply(struct conn *c, json_t *events, json_t *missing)
{
    lk_timeline_sort(events);
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        const char *tag = json_string_value(json_object_get(e, "tag"));
        if (!c->wait_tag[0] || (tag && strcmp(tag, c->wait_tag) == 0)) {
            json_array_append(out, e);
        }
    }
    while (json_array_size(out) > c->gather_limit) {
        json_array_remove(out, 0);
    }
    api_reply_ok(c, json_pack("{s:o, s:O}", "events", out, "missing", missing));
}

static void log_gathered(void *userdata, json_t *events, json_t *missing)
{
    struct conn *c = userdata;
    c->gather = NULL;
    json_array_extend(c->gathered, events);
    log_cluster_reply(c, c->gathered, missing);
}

static void h_log_cluster(struct conn *c, json_int_t n, const char *tag,
                          const struct lk_event_filter *filter)
{
    struct lk_node *node = c->api->node;
    json_t *local = json_array();
    if (!local || lk_store_last_events_filtered(node->store, (size_t) n, tag, filter, collect_event,
                                                local) < 0) {
        json_decref(local);
        api_reply_error(c, LK_EXIT_FAILED, "cannot read the event log: %s",
                        lk_store_errmsg(node->store));
        return;
    }
    snprintf(c->wait_tag, sizeof(c->wait_tag), "%s", tag ? tag : "");
    c->gather_limit = (size_t) n;
    c->gathered = local;
    struct lk_gather *g = NULL;
    int r = n > 0 ? lk_incident_gather(c->api->cluster, tag, (size_t) n, filter, log_gathered, c,
                                       &g)
                  : 0;
    if (r <= 0) {
        json_t *none = json_array();
        log_cluster_reply(c, local, none);
        json_decref(none);
        return;
    }
    c->gather = g;
}

static void h_log(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    json_int_t n = json_integer_value(json_object_get(args, "n"));
    if (!json_object_get(args, "n")) {
        n = 20;
    }
    if (n < 0 || n > LK_EVENTS_KEPT) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid -n: expected 0 to %d", LK_EVENTS_KEPT);
        return;
    }
    const char *tag = api_arg_str(args, "tag");
    /* Optional filters, applied in SQL here and by each peer (lkweb's filtered pages). */
    struct lk_event_filter filter;
    char err[256];
    if (lk_incident_filter_parse(args, &filter, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    if (json_is_true(json_object_get(args, "cluster"))) {
        if (json_is_true(json_object_get(args, "follow"))) {
            api_reply_error(c, LK_EXIT_USAGE, "--cluster cannot be combined with --follow");
            return;
        }
        h_log_cluster(c, n, tag, &filter);
        return;
    }
    bool filtered =
            filter.severity >= 0 || filter.number >= 0 || filter.before_ms > 0 || filter.node[0];
    if (filtered && json_is_true(json_object_get(args, "follow"))) {
        api_reply_error(c, LK_EXIT_USAGE, "filters cannot be combined with --follow");
        return;
    }
    json_t *events = json_array();
    if (lk_store_last_events_filtered(node->store, (size_t) n, tag, &filter, collect_event,
                                      events) < 0) {
        json_decref(events);
        api_reply_error(c, LK_EXIT_FAILED, "cannot read the event log: %s",
                        lk_store_errmsg(node->store));
        return;
    }
    if (!json_is_true(json_object_get(args, "follow"))) {
        api_reply_ok(c, json_pack("{s:o}", "events", events));
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        api_send_msg(c, json_pack("{s:i, s:O}", LK_KEY_VERSION, LK_PROTO_VERSION, "event", e));
    }
    json_decref(events);
    c->wait = WAIT_FOLLOW;
    snprintf(c->wait_tag, sizeof(c->wait_tag), "%s", tag ? tag : "");
}

static void h_log_write(struct conn *c, const json_t *args)
{
    const char *category = api_arg_str(args, "category");
    const char *message = api_arg_str(args, "message");
    const char *process = api_arg_str(args, "process");
    const char *tag = api_arg_str(args, "tag");
    json_t *jn = json_object_get(args, "number");
    enum lk_severity sev;
    char err[256];
    if (lk_severity_from_name(category, &sev) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "unknown category '%s': expected ERROR, WARNING or INFO",
                        category ? category : "");
        return;
    }
    if (!json_is_integer(jn) || json_integer_value(jn) < 0 || json_integer_value(jn) > 999999999) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid message number");
        return;
    }
    if (!message || lk_validate_info(message, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid message: %s",
                        message ? "control characters or too long" : "missing");
        return;
    }
    if (tag && tag[0] && lk_validate_tag(tag, "tag", err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "%s", process && process[0] ? process : "lk_err");
    for (char *p = proc; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    lk_eventlog_write(c->api->node, sev, (int) json_integer_value(jn), tag, proc, message, NULL);
    api_reply_ok(c, NULL);
}

void api_stop_now(struct conn *c, const char *why, const char *mode)
{
    struct lk_node *node = c->api->node;
    lk_eventlog_msg(node, NULL, LK_MSG_DAEMON_STOPPING, why);
    node->stopping = true;
    /* main.c stops lkd on its own loop turn: the peers hear that this node leaves on
     * purpose, its applications running (-f) or not (after a switchover), so its
     * hierarchies do not fail over (docs/CLUSTER.md); c gets its reply then. */
    c->wait = WAIT_SHUTDOWN;
    c->verb = mode;
    lk_bus_stop_request(node->bus, LK_BUS_STOP_RUNNING);
}

static void h_shutdown(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    const char *mode = api_arg_str(args, "mode");
    if (!mode || (strcmp(mode, "force") != 0 && strcmp(mode, "stop") != 0 &&
                  strcmp(mode, "switchover") != 0)) {
        api_reply_error(c, LK_EXIT_USAGE, "invalid shutdown mode");
        return;
    }
    if (strcmp(mode, "switchover") == 0) {
        /* Hierarchies move to their backups first; then the stop is an lkstop -f on a
         * node that holds nothing (api_cluster.c). */
        char err[LK_REASON_MAX];
        if (!node->stopping && lk_cluster_switch_all(c->api->cluster, err, sizeof(err)) < 0) {
            api_reply_error(c, LK_EXIT_FAILED, "%s", err);
            return;
        }
        api_start_switch_out_wait(c);
        return;
    }
    if (strcmp(mode, "force") == 0) {
        api_stop_now(c, "lkstop -f: applications keep running", "force");
        return;
    }
    c->wait = WAIT_SHUTDOWN;
    c->verb = "stop";
    if (!node->stopping) {
        node->stopping = true;
        node->stop_apps = true;
        lk_eventlog_msg(node, NULL, LK_MSG_DAEMON_STOPPING,
                        "lkstop: taking resources out of service");
        /* main.c takes the resources out of service, waits until nothing is busy, then
         * stops lkd; c gets its reply then. */
        lk_bus_stop_request(node->bus, LK_BUS_STOP_APPS);
    }
}

static void h_reset(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    struct lk_event ev = {.type = LK_EV_RESET, .tag = res->tag};
    char err[LK_REASON_MAX];
    /* A failed remove's "may still be running" goes too: the operator vouches (event 1511). */
    bool stop_failed = res->stop_failed;
    if (lk_executor_handle(node, &ev, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_FAILED, "%s", err);
        return;
    }
    lk_cluster_reset_budget(c->api->cluster, res->tag);
    if (stop_failed) {
        fprintf(stderr, "lkd: '%s': 'may still be running' cleared by an operator (reset)\n",
                res->tag);
    }
    json_t *data = lk_proto_resource_view_json(res);
    if (data) {
        json_object_set_new(data, "stop_failed_cleared", json_boolean(stop_failed));
    }
    api_reply_ok(c, data);
}

/* A hand-set state refused: the event (1747) and the error. */
static void setstate_refused(struct conn *c, const char *tag, const char *state, const char *why)
{
    lk_eventlog_msg(c->api->node, tag, LK_MSG_STATE_SET_REFUSED, state, why);
    api_reply_error(c, LK_EXIT_FAILED, "%s", why);
}

/* resource setstate (ins_setstate): ISP, ISU or OSU set by hand, no script runs. The order
 * keeps a refusal free of traces: the engine's decision first as a dry run (pure: busy, a
 * child out of service, a parent in service), then placement's (the ownership record and
 * the central invariant: refused while another node holds or owns the hierarchy), then the
 * monitoring that tells ISP from ISU (a definition change, as resource config makes it),
 * then the engine's decision carried out. */
static void h_setstate(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    if (api_refuse_while_stopping(c)) {
        return;
    }
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    const char *name = api_arg_str(args, "state");
    enum lk_state want;
    if (!name) {
        api_reply_error(c, LK_EXIT_USAGE, "missing state: ISP, ISU or OSU");
        return;
    }
    if (lk_state_from_name(name, &want) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "unknown state '%.32s': ISP, ISU or OSU", name);
        return;
    }
    if (want == LK_STATE_OSF) {
        api_reply_error(
                c, LK_EXIT_USAGE,
                "OSF cannot be set by hand: only a failed action sets it (ISP, ISU or OSU)");
        return;
    }
    const char *given = api_arg_str(args, "reason");
    char err[LK_REASON_MAX];
    if (json_object_get(args, "reason") && !given) {
        api_reply_error(c, LK_EXIT_USAGE, "the reason must be a string");
        return;
    }
    if (given && lk_validate_hand_reason(given, err, sizeof(err)) < 0) {
        api_reply_error(c, LK_EXIT_USAGE, "%s", err);
        return;
    }
    char tag[LK_TAG_MAX + 1], reason[LK_HAND_REASON_MAX + 1];
    snprintf(tag, sizeof(tag), "%s", res->tag);
    snprintf(reason, sizeof(reason), "%s", given ? given : "set by ins_setstate");
    bool in = want != LK_STATE_OSU;
    struct lk_event ev = {
            .type = in ? LK_EV_MARK_IN : LK_EV_MARK_OUT, .tag = tag, .detail = reason};
    {
        LK_CLEANUP_PLAN struct lk_plan plan = {0};
        struct lk_view view = lk_node_view(node);
        if (lk_engine_decide(&view, &ev, &plan) < 0) {
            api_reply_error(c, LK_EXIT_FAILED, "cannot set the state of '%s'", tag);
            return;
        }
        for (size_t i = 0; i < plan.count; i++) {
            if (plan.acts[i].type == LK_ACT_REFUSE) {
                setstate_refused(c, tag, name, plan.acts[i].text);
                return;
            }
        }
    }
    if (lk_cluster_setstate(c->api->cluster, tag, in, err, sizeof(err)) == LK_CLUSTER_REFUSED) {
        setstate_refused(c, tag, name, err);
        return;
    }
    res = lk_node_find(node, tag); /* found again: nothing borrowed across a decision */
    if (!res) {
        api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", tag);
        return;
    }
    char note[LK_REASON_MAX] = "";
    if (in && res->settings.monitor != (want == LK_STATE_ISP)) {
        struct lk_settings next = res->settings;
        next.monitor = want == LK_STATE_ISP;
        if (lk_define_settings(node, tag, &next, NULL, err, sizeof(err)) < 0) {
            /* The state follows what monitoring is: the operator learns that it did not. */
            snprintf(note, sizeof(note), "monitoring could not be turned %s: %.400s",
                     next.monitor ? "on" : "off", err);
        } else {
            const char *one = tag;
            lk_cluster_push(c->api->cluster, &one, 1, NULL);
            lk_eventlog_msg(node, tag, LK_MSG_RESOURCE_CONFIGURED,
                            next.monitor ? "monitor on" : "monitor off");
        }
    }
    if (lk_executor_handle(node, &ev, err, sizeof(err)) < 0) {
        setstate_refused(c, tag, name, err);
        return;
    }
    res = lk_node_find(node, tag);
    if (!res) {
        api_reply_error(c, LK_EXIT_FAILED, "resource '%s' is gone", tag);
        return;
    }
    if (note[0]) {
        api_reply_error(c, LK_EXIT_FAILED, "state of '%s' set to %s, but %s", tag,
                        lk_state_name(res->state), note);
        return;
    }
    api_reply_ok(c, lk_proto_resource_view_json(res));
}

/* resource why: the last incident of the tag's hierarchy (lk_timeline_incident) on this
 * node and on the live nodes it is extended to, as one timeline, with the root cause
 * first and the nodes that could not tell. */
static void why_reply(struct conn *c, json_t *events, json_t *missing)
{
    struct lk_resource *res = lk_node_find(c->api->node, c->wait_tag);
    if (!res) {
        api_reply_error(c, LK_EXIT_FAILED, "no resource with tag '%s'", c->wait_tag);
        return;
    }
    lk_timeline_sort(events);
    size_t n = json_array_size(events), start = lk_timeline_incident(events);
    json_t *incident = json_array();
    for (size_t i = start; i < n; i++) {
        json_array_append(incident, json_array_get(events, i));
    }
    json_t *root = lk_timeline_root_cause(events, start);
    api_reply_ok(c, json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:b}", "tag", res->tag,
                              "state", lk_state_name(res->state), "reason", res->reason,
                              "check_failures_in_row", (int) res->check_failures_in_row,
                              "local_recoveries", (int) res->local_recoveries, "incident", incident,
                              "root_cause", root ? root : json_null(), "missing",
                              missing ? json_incref(missing) : json_array(), "clustered",
                              lk_cluster_is_clustered(c->api->node, res->tag)));
}

static void why_gathered(void *userdata, json_t *events, json_t *missing)
{
    struct conn *c = userdata;
    c->gather = NULL;
    json_array_extend(c->gathered, events);
    why_reply(c, c->gathered, missing);
}

static void h_why(struct conn *c, const json_t *args)
{
    struct lk_node *node = c->api->node;
    struct lk_resource *res = api_want_resource(c, args);
    if (!res) {
        return;
    }
    json_t *events = lk_incident_local(node, res->tag, LK_INCIDENT_SCAN, NULL);
    if (!events) {
        api_reply_error(c, LK_EXIT_FAILED, "cannot read the event log: %s",
                        lk_store_errmsg(node->store));
        return;
    }
    snprintf(c->wait_tag, sizeof(c->wait_tag), "%s", res->tag);
    c->gathered = events;
    struct lk_gather *g = NULL;
    if (lk_incident_gather(c->api->cluster, res->tag, LK_INCIDENT_EVENTS_MAX, NULL, why_gathered, c,
                           &g) <= 0) {
        why_reply(c, events, NULL);
        return;
    }
    c->gather = g;
}

static void h_wait_idle(struct conn *c, const json_t *args)
{
    (void) args;
    c->wait = WAIT_IDLE;
    lk_api_on_change(c->api, NULL);
}

const struct route lk_api_routes[] = {
        {LK_CMD_PING, LK_ROLE_GUEST, h_ping},
        {LK_CMD_WAIT_IDLE, LK_ROLE_GUEST, h_wait_idle},
        {LK_CMD_STATUS, LK_ROLE_GUEST, h_status},
        {LK_CMD_RES_LIST, LK_ROLE_GUEST, h_list},
        {LK_CMD_RES_INSLIST, LK_ROLE_GUEST, h_inslist},
        {LK_CMD_LOG, LK_ROLE_GUEST, h_log},
        {LK_CMD_LOG_WRITE, LK_ROLE_OPERATOR, h_log_write},
        {LK_CMD_RES_RESTORE, LK_ROLE_OPERATOR, h_restore},
        {LK_CMD_RES_REMOVE, LK_ROLE_OPERATOR, h_remove},
        {LK_CMD_RES_CREATE, LK_ROLE_ADMIN, h_create},
        {LK_CMD_RES_DELETE, LK_ROLE_ADMIN, h_delete},
        {LK_CMD_RES_UPDATE, LK_ROLE_ADMIN, h_update_script},
        {LK_CMD_RES_CONFIG, LK_ROLE_ADMIN, h_config},
        {LK_CMD_RES_TEST, LK_ROLE_ADMIN, h_test},
        {LK_CMD_DEP_LIST, LK_ROLE_GUEST, h_dep_list},
        {LK_CMD_DEP_CREATE, LK_ROLE_ADMIN, h_dep_create},
        {LK_CMD_DEP_DELETE, LK_ROLE_ADMIN, h_dep_delete},
        {LK_CMD_RES_WHY, LK_ROLE_GUEST, h_why},
        {LK_CMD_RES_RESET, LK_ROLE_OPERATOR, h_reset},
        {LK_CMD_RES_SETSTATE, LK_ROLE_OPERATOR, h_setstate},
        {LK_CMD_SHUTDOWN, LK_ROLE_ADMIN, h_shutdown},
        {NULL, LK_ROLE_GUEST, NULL},
};

/* ---------------------------------------------------------------- notifications */

void lk_api_on_event(void *userdata, const struct lk_event_record *e)
{
    struct lk_api *api = userdata;
    /* The view (and its index, rebuilt after a definition changed) only when a command
     * waits on a hierarchy: creating a thousand resources rebuilds nothing here. */
    struct lk_view view = {0};
    bool have_view = false;
    for (struct conn *c = api->conns; c; c = c->next) {
        if (c->closing) {
            continue;
        }
        if (!have_view && (c->wait == WAIT_ACTION || c->wait == WAIT_CLUSTER) && e->tag[0]) {
            view = lk_node_view(api->node);
            have_view = true;
        }
        if (c->wait == WAIT_FOLLOW && (!c->wait_tag[0] || strcmp(c->wait_tag, e->tag) == 0)) {
            api_send_msg(c, json_pack("{s:i, s:o}", LK_KEY_VERSION, LK_PROTO_VERSION, "event",
                                      event_json(e)));
        } else if (((c->wait == WAIT_ACTION || c->wait == WAIT_CLUSTER) && e->tag[0] &&
                    lk_engine_connected(&view, c->wait_tag, e->tag)) ||
                   ((c->wait == WAIT_SHUTDOWN || c->wait == WAIT_IDLE) && e->tag[0])) {
            char line[1200];
            snprintf(line, sizeof(line), "%s: %s", e->tag, e->message);
            api_send_msg(c, lk_proto_progress(line));
        }
    }
}

void lk_api_on_stopping(void *userdata, enum lk_bus_stop why)
{
    struct lk_api *api = userdata;
    (void) why;
    for (struct conn *c = api->conns; c; c = c->next) {
        if (!c->closing && c->wait == WAIT_SHUTDOWN) {
            api_reply_ok(c, json_pack("{s:s}", "mode", c->verb ? c->verb : "stop"));
        }
    }
}

void lk_api_on_change(void *userdata, const char *tag)
{
    struct lk_api *api = userdata;
    struct lk_node *node = api->node;
    struct lk_view view = lk_node_view(node);
    for (struct conn *c = api->conns; c; c = c->next) {
        if (c->closing) {
            continue;
        }
        if (c->wait == WAIT_IDLE && lk_node_busy_count(node) == 0 &&
            lk_cluster_started_up(c->api->cluster)) {
            api_reply_ok(c, NULL);
            continue;
        }
        if (c->wait == WAIT_CLUSTER) {
            (void) api_cluster_wait_check(c);
            continue;
        }
        /* A change anywhere on the hierarchy may settle the resource waited for: a
         * child's failed restore makes its waiting ancestors OSF without running them. */
        if (c->wait != WAIT_ACTION || (tag && !lk_engine_connected(&view, c->wait_tag, tag))) {
            continue;
        }
        struct lk_resource *res = lk_node_find(node, c->wait_tag);
        if (!res) {
            api_reply_error(c, LK_EXIT_FAILED, "resource '%s' was deleted", c->wait_tag);
            continue;
        }
        /* The request is done when its whole hierarchy is: branches that do not depend
         * on a failed child still finish, and the next request would be refused until
         * then. */
        if (lk_engine_hierarchy_busy(&view, res->tag)) {
            continue;
        }
        bool done =
                c->want_in_service ? lk_state_in_service(res->state) : res->state == LK_STATE_OSU;
        size_t verb_len = strlen(c->verb);
        if (done) {
            api_reply_ok(c, lk_proto_resource_view_json(res));
        } else if (strncmp(res->reason, c->verb, verb_len) == 0 && res->reason[verb_len] == ' ') {
            /* The reason names the action already ("remove failed: may still be running"):
             * it is not said twice. */
            api_reply_error(c, LK_EXIT_FAILED, "resource '%s': %s (%s)", res->tag, res->reason,
                            lk_state_name(res->state));
        } else {
            api_reply_error(c, LK_EXIT_FAILED, "resource '%s' %s failed: %s (%s)", res->tag,
                            c->verb, res->reason, lk_state_name(res->state));
        }
    }
}

/* ---------------------------------------------------------------- lifecycle */

int lk_api_start(struct lk_node *node, struct lk_cluster *cluster, struct lk_api **ret_api,
                 char *err, size_t err_size)
{
    *ret_api = NULL;
    struct lk_api *api = calloc(1, sizeof(*api));
    if (!api) {
        return -ENOMEM;
    }
    api->node = node;
    api->cluster = cluster;
    int r = lk_socket_start(api, node, &api->socket, err, err_size);
    if (r < 0) {
        free(api);
        return r;
    }
    api_remote_start(api); /* requests the peers forward here (issue 14) */
    *ret_api = api;
    return 0;
}

void lk_api_stop(struct lk_api *api)
{
    if (!api) {
        return;
    }
    lk_socket_stop(api->socket);
}

void lk_api_free(struct lk_api *api)
{
    if (api) {
        lk_socket_free(api->socket);
    }
    free(api);
}
