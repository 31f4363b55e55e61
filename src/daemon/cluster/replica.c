/* Cluster data: resource definitions as versioned objects (replica.h, docs/REPLICATION.md).
 *
 * It owns the shape of an object, the order of versions, and the one function that lets
 * data from a peer change this node: lk_replica_apply. Objects enter from the coordinator
 * (cluster.c), which moves them between nodes; local commands stamp their changes through
 * the definitions writer (define.c), which also writes what this file accepts.
 *
 * An object from a peer is input from outside: every field is checked here before
 * anything is written, and a bad one changes nothing; only a valid object newer than ours
 * goes to define.c (scripts, then rows in one transaction, then the view). It never writes
 * the store itself, never runs a script and never takes a resource out of service: a
 * received delete or unextend of a resource in service here is refused (-EBUSY).
 *
 * A tombstone names the nodes the resource was extended to. One that does not name this
 * node only records that this node dropped its copy (an unextend): it keeps older
 * versions out, and is never sent, as this node holds nothing to send. */
#include "replica.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "eventlog.h"
#include "paramfile.h"
#include "proto.h"
#include "restype.h"
#include "scripts.h"
#include "validate.h"

#define KEY_TAG      "tag"
#define KEY_VERSION  "version"
#define KEY_DELETED  "deleted"
#define KEY_RESOURCE "resource"
#define KEY_SCRIPTS  "scripts"
#define KEY_CHILDREN "children"
#define KEY_NODES    "nodes"
#define KEY_SETTINGS "settings"
#define KEY_PARAMS   "params"
#define KEY_HELPERS  "helpers"

/* The fields of lk_proto_resource_json that are one node's state, not the definition. */
static const char *const state_keys[] = {
        "state",
        "reason",
        "pending",
        "target_in_service",
        "check_failures_in_row",
        "local_recoveries",
        "stop_failed",
};
#define STATE_KEY_COUNT (sizeof(state_keys) / sizeof(state_keys[0]))

json_t *lk_replica_definition_json(const struct lk_resource *res)
{
    json_t *rj = lk_proto_resource_json(res);
    for (size_t i = 0; rj && i < STATE_KEY_COUNT; i++) {
        (void) json_object_del(rj, state_keys[i]);
    }
    /* Settings newer than the previous releases travel only when they differ from their
     * default: an older parser refuses a key it does not know, a rolling upgrade passes
     * through a mixed cluster, and a peer without the key keeps the default. */
    static const char *const newer[] = {"quickchk-check", "deepchk-check", "script-args"};
    json_t *settings = json_object_get(rj, KEY_SETTINGS);
    for (size_t i = 0; settings && i < sizeof(newer) / sizeof(newer[0]); i++) {
        if (lk_settings_is_default(&res->settings, newer[i])) {
            (void) json_object_del(settings, newer[i]);
        }
    }
    return rj;
}

int lk_version_cmp(const struct lk_version *a, const struct lk_version *b)
{
    if (a->counter != b->counter) {
        return a->counter < b->counter ? -1 : 1;
    }
    int c = strcmp(a->node, b->node);
    return (c > 0) - (c < 0);
}

/* A JSON string without embedded NUL bytes, or NULL. */
static const char *plain_string(const json_t *json)
{
    const char *s = json_string_value(json);
    return s && strlen(s) == json_string_length(json) ? s : NULL;
}

int lk_version_parse(const json_t *json, struct lk_version *ret_version)
{
    if (!json_is_array(json) || json_array_size(json) != 2) {
        return -EINVAL;
    }
    const json_t *counter = json_array_get(json, 0);
    const char *name = plain_string(json_array_get(json, 1));
    char err[256];
    if (!json_is_integer(counter) || json_integer_value(counter) < 1 ||
        (uint64_t) json_integer_value(counter) > LK_VERSION_MAX || !name ||
        lk_validate_tag(name, "node", err, sizeof(err)) < 0) {
        return -EINVAL;
    }
    ret_version->counter = (uint64_t) json_integer_value(counter);
    snprintf(ret_version->node, sizeof(ret_version->node), "%s", name);
    return 0;
}

json_t *lk_version_json(const struct lk_version *version)
{
    if (version->counter > INT64_MAX) {
        return NULL;
    }
    return json_pack("[I, s]", (json_int_t) version->counter, version->node);
}

/* ---- Reading this node's copy ---- */

static bool nodes_name(const json_t *nodes, const char *name)
{
    return json_object_get(nodes, name) != NULL;
}

/* tag's extends in the store as a nodes object. NULL on error. */
static json_t *store_nodes(struct lk_node *node, const char *tag)
{
    struct lk_extend *list = NULL;
    size_t count = 0;
    if (lk_store_load_extends_of(node->store, tag, &list, &count) < 0) {
        return NULL;
    }
    json_t *nodes = json_object();
    for (size_t i = 0; nodes && i < count; i++) {
        if (json_object_set_new(nodes, list[i].node, json_integer(list[i].priority)) < 0) {
            json_decref(nodes);
            nodes = NULL;
        }
    }
    free(list);
    return nodes;
}

struct tombstone {
    const char *tag; /* wanted */
    bool found;
    json_t *nodes; /* its nodes, parsed */
    struct lk_version version;
};

static void find_tombstone(const char *tag, uint64_t counter, const char *node,
                           const char *nodes_json, void *userdata)
{
    struct tombstone *t = userdata;
    if (t->found || strcmp(tag, t->tag) != 0) {
        return;
    }
    t->found = true;
    t->nodes = json_loads(nodes_json, 0, NULL);
    t->version.counter = counter;
    snprintf(t->version.node, sizeof(t->version.node), "%s", node);
}

/* Reads a script copy (at most LK_SCRIPT_MAX_SIZE) as base64; NULL on failure. */
static json_t *script_base64(const struct lk_node *node, enum lk_action action, const char *tag)
{
    char path[LK_PATH_MAX + 256];
    lk_scripts_path(node->root, action, tag, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        fprintf(stderr, "lkd: cannot read '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    json_t *out = NULL;
    unsigned char *buf = NULL;
    char *b64 = NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > LK_SCRIPT_MAX_SIZE) {
        fprintf(stderr, "lkd: cannot send '%s': not a regular file of at most %d bytes\n", path,
                LK_SCRIPT_MAX_SIZE);
        goto out;
    }
    size_t len = (size_t) st.st_size;
    buf = malloc(len ? len : 1);
    b64 = malloc(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));
    if (!buf || !b64) {
        goto out;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fprintf(stderr, "lkd: cannot read '%s'\n", path);
            goto out;
        }
        got += (size_t) n;
    }
    sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL), buf, len,
                      sodium_base64_VARIANT_ORIGINAL);
    out = json_string(b64);
out:
    free(buf);
    free(b64);
    close(fd);
    return out;
}

static json_t *live_object(struct lk_node *node, const char *tag, const struct lk_version *v)
{
    struct lk_resource *res = calloc(1, sizeof(*res));
    json_t *obj = NULL, *rj = NULL, *scripts = json_object(), *children = json_array();
    json_t *nodes = NULL, *version = lk_version_json(v);
    json_t *params_json = NULL, *helpers = NULL;
    struct lk_params params = {0};
    if (!res || !scripts || !children || !version ||
        lk_store_load_one(node->store, node->name, tag, res) < 0) {
        goto out;
    }
    rj = lk_replica_definition_json(res);
    if (!rj) {
        goto out;
    }
    for (int a = 0; strcmp(res->app, "gen") == 0 && a < LK_ACTION_COUNT; a++) {
        if (!res->has_script[a]) {
            continue;
        }
        json_t *b64 = script_base64(node, (enum lk_action) a, tag);
        if (!b64 || json_object_set_new(scripts, lk_action_name((enum lk_action) a), b64) < 0) {
            goto out;
        }
    }
    for (size_t i = 0; i < node->dep_count; i++) {
        if (strcmp(node->deps[i].parent, tag) == 0 &&
            json_array_append_new(children, json_string(node->deps[i].child)) < 0) {
            goto out;
        }
    }
    nodes = store_nodes(node, tag);
    if (!nodes) {
        goto out;
    }
    char err[512];
    if (lk_params_read(node->root, tag, &params, err, sizeof(err)) < 0 ||
        lk_helpers_read_all(node->root, tag, &helpers, err, sizeof(err)) < 0) {
        fprintf(stderr, "lkd: cannot send resource '%s': %s\n", tag, err);
        goto out;
    }
    params_json = lk_params_json(&params);
    if (!params_json) {
        goto out;
    }
    obj = json_pack("{s:s, s:O, s:b, s:O, s:O, s:O, s:O, s:O, s:O}", KEY_TAG, tag, KEY_VERSION,
                    version, KEY_DELETED, 0, KEY_RESOURCE, rj, KEY_SCRIPTS, scripts, KEY_CHILDREN,
                    children, KEY_NODES, nodes, KEY_PARAMS, params_json, KEY_HELPERS, helpers);
out:
    lk_params_free(&params);
    json_decref(params_json);
    json_decref(helpers);
    free(res);
    json_decref(rj);
    json_decref(scripts);
    json_decref(children);
    json_decref(nodes);
    json_decref(version);
    return obj;
}

json_t *lk_replica_object(struct lk_node *node, const char *tag)
{
    struct lk_version v = {0};
    bool deleted = false;
    if (lk_store_get_version(node->store, tag, &v.counter, v.node, sizeof(v.node), &deleted) < 0 ||
        v.counter == 0) {
        /* None, or a resource never stamped: not an object yet. */
        return NULL;
    }
    if (!deleted) {
        return live_object(node, tag, &v);
    }
    struct tombstone t = {.tag = tag};
    if (lk_store_each_tombstone(node->store, find_tombstone, &t) < 0 || !t.found ||
        !nodes_name(t.nodes, node->name)) {
        json_decref(t.nodes);
        return NULL;
    }
    json_t *version = lk_version_json(&v);
    json_t *obj = version && t.nodes ? json_pack("{s:s, s:O, s:b, s:O}", KEY_TAG, tag, KEY_VERSION,
                                                 version, KEY_DELETED, 1, KEY_NODES, t.nodes)
                                     : NULL;
    json_decref(version);
    json_decref(t.nodes);
    return obj;
}

/* ---- What to send ---- */

struct entry {
    char tag[LK_TAG_MAX + 1];
    struct lk_version version;
    bool deleted;
    json_t *nodes; /* tombstones only */
};

struct entries {
    struct entry *list;
    size_t count, cap;
    int error;
};

static struct entry *entries_add(struct entries *e, const char *tag)
{
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        struct entry *bigger = realloc(e->list, cap * sizeof(*bigger));
        if (!bigger) {
            e->error = -ENOMEM;
            return NULL;
        }
        e->list = bigger;
        e->cap = cap;
    }
    struct entry *x = &e->list[e->count++];
    memset(x, 0, sizeof(*x));
    snprintf(x->tag, sizeof(x->tag), "%s", tag);
    return x;
}

static void collect_live(const char *tag, uint64_t counter, const char *node, void *userdata)
{
    struct entry *x = counter ? entries_add(userdata, tag) : NULL;
    if (x) {
        x->version.counter = counter;
        snprintf(x->version.node, sizeof(x->version.node), "%s", node);
    }
}

static void collect_tombstone(const char *tag, uint64_t counter, const char *node,
                              const char *nodes_json, void *userdata)
{
    struct entry *x = entries_add(userdata, tag);
    if (x) {
        x->deleted = true;
        x->version.counter = counter;
        snprintf(x->version.node, sizeof(x->version.node), "%s", node);
        x->nodes = json_loads(nodes_json, 0, NULL);
        if (!x->nodes) {
            ((struct entries *) userdata)->error = -ENOMEM;
        }
    }
}

static void entries_free(struct entries *e)
{
    for (size_t i = 0; i < e->count; i++) {
        json_decref(e->list[i].nodes);
    }
    free(e->list);
}

/* Every object this node knows: resource rows (stamped) first, then tombstones of tags
 * that have no row. Returns 0 or a negative errno. */
static int collect(struct lk_node *node, struct entries *e)
{
    memset(e, 0, sizeof(*e));
    int r = lk_store_each_version(node->store, collect_live, e);
    size_t live = e->count;
    if (r == 0 && e->error == 0) {
        r = lk_store_each_tombstone(node->store, collect_tombstone, e);
    }
    if (r == 0) {
        r = e->error;
    }
    /* A tag with a row and a tombstone (a crash between the two writes of a re-creation)
     * is the row: it is what lk_store_get_version reads. Both lists are in tag order. */
    size_t kept = live;
    for (size_t i = live, j = 0; r == 0 && i < e->count; i++) {
        while (j < live && strcmp(e->list[j].tag, e->list[i].tag) < 0) {
            j++;
        }
        if (j < live && strcmp(e->list[j].tag, e->list[i].tag) == 0) {
            json_decref(e->list[i].nodes);
            continue;
        }
        e->list[kept++] = e->list[i];
    }
    if (r == 0) {
        e->count = kept;
    }
    if (r < 0) {
        entries_free(e);
        memset(e, 0, sizeof(*e));
    }
    return r;
}

json_t *lk_replica_summary(struct lk_node *node, const char *peer)
{
    /* Every object is listed, not only those that name peer: a peer that still holds a
     * copy we no longer extend to it learns our version and sends us nothing older, and
     * one that holds a newer version of anything we hold sends it. */
    (void) peer;
    struct entries e;
    if (collect(node, &e) < 0) {
        return NULL;
    }
    json_t *summary = json_object();
    for (size_t i = 0; summary && i < e.count; i++) {
        json_t *v = lk_version_json(&e.list[i].version);
        if (!v || json_object_set_new(summary, e.list[i].tag, v) < 0) {
            json_decref(summary);
            summary = NULL;
        }
    }
    entries_free(&e);
    return summary;
}

static bool extends_name(const struct lk_extend *list, size_t count, const char *tag,
                         const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(list[i].tag, tag) == 0 && strcmp(list[i].node, name) == 0) {
            return true;
        }
    }
    return false;
}

/* tag -> its index in tags, as a hash (jansson's); NULL on ENOMEM. */
static json_t *index_of(const char *const *tags, size_t count)
{
    json_t *idx = json_object();
    for (size_t i = 0; idx && i < count; i++) {
        if (!json_object_get(idx, tags[i]) &&
            json_object_set_new(idx, tags[i], json_integer((json_int_t) i)) < 0) {
            json_decref(idx);
            idx = NULL;
        }
    }
    return idx;
}

static bool lookup(const json_t *idx, const char *tag, size_t *ret)
{
    const json_t *v = json_object_get(idx, tag);
    if (!json_is_integer(v)) {
        return false;
    }
    *ret = (size_t) json_integer_value(v);
    return true;
}

size_t *lk_replica_order(const struct lk_node *node, const char *const *tags, size_t count)
{
    /* Depth first from each tag in turn, children before their parent, the children in
     * the order of the dependency list: the dependencies become per-parent lists once
     * (first/next), so that the walk is O(count + dependencies), not a scan per tag. */
    size_t n = count ? count : 1, d = node->dep_count ? node->dep_count : 1;
    json_t *idx = index_of(tags, count);
    size_t *first = malloc(n * sizeof(*first)), *last = malloc(n * sizeof(*last));
    size_t *next = malloc(d * sizeof(*next)), *child = malloc(d * sizeof(*child));
    size_t *stack = malloc(n * sizeof(*stack)), *edge = malloc(n * sizeof(*edge));
    size_t *out = malloc(n * sizeof(*out));
    bool *seen = calloc(n, sizeof(*seen));
    size_t done = 0;
    if (!idx || !first || !last || !next || !child || !stack || !edge || !out || !seen) {
        free(out);
        out = NULL;
        goto out;
    }
    const size_t none = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        first[i] = last[i] = none;
    }
    for (size_t k = 0; k < node->dep_count; k++) {
        size_t p, c;
        next[k] = none;
        if (!lookup(idx, node->deps[k].parent, &p) || !lookup(idx, node->deps[k].child, &c)) {
            continue;
        }
        child[k] = c;
        if (last[p] == none) {
            first[p] = k;
        } else {
            next[last[p]] = k;
        }
        last[p] = k;
    }
    for (size_t i = 0; i < count; i++) {
        if (seen[i]) {
            continue;
        }
        size_t top = 0;
        seen[i] = true;
        stack[top] = i;
        edge[top++] = first[i];
        while (top > 0) {
            size_t k = edge[top - 1];
            if (k == none) {
                out[done++] = stack[--top];
                continue;
            }
            edge[top - 1] = next[k];
            if (!seen[child[k]]) {
                seen[child[k]] = true;
                stack[top] = child[k];
                edge[top++] = first[child[k]];
            }
        }
    }
    /* A tag named twice came once: its other places go last, where they change nothing. */
    for (size_t i = 0; i < count; i++) {
        if (!seen[i]) {
            out[done++] = i;
        }
    }
out:
    json_decref(idx);
    free(first);
    free(last);
    free(next);
    free(child);
    free(stack);
    free(edge);
    free(seen);
    return out;
}

json_t *lk_replica_newer_for(struct lk_node *node, const char *peer, const json_t *peer_summary)
{
    struct entries e;
    if (collect(node, &e) < 0) {
        return NULL;
    }
    struct lk_extend *extends = NULL;
    size_t extend_count = 0;
    bool *selected = calloc(e.count ? e.count : 1, sizeof(*selected));
    json_t *out = NULL;
    if (!selected || lk_store_load_extends(node->store, &extends, &extend_count) < 0) {
        goto out;
    }
    for (size_t i = 0; i < e.count; i++) {
        struct entry *x = &e.list[i];
        if (x->deleted && !nodes_name(x->nodes, node->name)) {
            continue; /* only a record that this node dropped its copy */
        }
        struct lk_version theirs;
        if (lk_version_parse(json_object_get(peer_summary, x->tag), &theirs) == 0) {
            selected[i] = lk_version_cmp(&x->version, &theirs) > 0;
        } else {
            selected[i] = x->deleted ? nodes_name(x->nodes, peer)
                                     : extends_name(extends, extend_count, x->tag, peer);
        }
    }
    /* Children before their parent: a parent's object names its children, and the
     * receiver links only children it already has. Deletions last: by then every object
     * that still names a deleted child has arrived. */
    const char **live = calloc(e.count ? e.count : 1, sizeof(*live));
    size_t *live_at = calloc(e.count ? e.count : 1, sizeof(*live_at));
    size_t nlive = 0;
    for (size_t i = 0; live && live_at && i < e.count; i++) {
        if (!e.list[i].deleted) {
            live_at[nlive] = i;
            live[nlive++] = e.list[i].tag;
        }
    }
    size_t *order = live && live_at ? lk_replica_order(node, live, nlive) : NULL;
    json_t *tags = order ? json_array() : NULL;
    for (size_t k = 0; tags && k < nlive; k++) {
        size_t i = live_at[order[k]];
        if (selected[i] && json_array_append_new(tags, json_string(e.list[i].tag)) < 0) {
            json_decref(tags);
            tags = NULL;
        }
    }
    for (size_t i = 0; tags && i < e.count; i++) {
        if (e.list[i].deleted && selected[i] &&
            json_array_append_new(tags, json_string(e.list[i].tag)) < 0) {
            json_decref(tags);
            tags = NULL;
        }
    }
    out = tags;
    free(order);
    free(live);
    free(live_at);
out:
    free(extends);
    free(selected);
    entries_free(&e);
    return out;
}

size_t lk_replica_nodes(struct lk_node *node, const char *tag, char (*names)[LK_TAG_MAX + 1],
                        uint32_t *priorities, size_t max)
{
    struct lk_extend *list = NULL;
    size_t count = 0;
    if (lk_store_load_extends_of(node->store, tag, &list, &count) < 0) {
        return 0;
    }
    size_t n = count < max ? count : max;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "%s", list[i].node);
        priorities[i] = list[i].priority;
    }
    free(list);
    return n;
}

/* ---- Applying a received object ---- */

static void parsed_done(struct lk_definition *p)
{
    free(p->res);
    lk_define_files_free(&p->files);
}

/* s itself when it can be quoted in a one-line reason, else a placeholder. */
static const char *quotable(const char *s)
{
    for (const char *p = s; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            return "(with a control character)";
        }
    }
    return s;
}

/* Decodes and checks one script as resource create does; -EINVAL with err. */
static int decode_script(const json_t *json, unsigned char **ret, size_t *ret_len, char *err,
                         size_t size)
{
    const char *b64 = plain_string(json);
    if (!b64) {
        snprintf(err, size, "not text");
        return -EINVAL;
    }
    return lk_define_decode_script(b64, ret, ret_len, err, size);
}

static int parse_nodes(const struct lk_node *node, json_t *nodes, struct lk_definition *p,
                       char *err, size_t size)
{
    if (!json_is_object(nodes)) {
        snprintf(err, size, "'%s' must be an object", KEY_NODES);
        return -EINVAL;
    }
    bool used[LK_PRIORITY_MAX + 1] = {false};
    const char *name;
    const json_t *v;
    json_object_foreach(nodes, name, v)
    {
        char verr[256];
        /* lk_validate_tag refuses "" too, with its message (verr is always written). */
        if (lk_validate_tag(name, "node name", verr, sizeof(verr)) < 0) {
            snprintf(err, size, "%s", verr);
            return -EINVAL;
        }
        json_int_t prio = json_integer_value(v);
        if (!json_is_integer(v) || prio < 1 || prio > LK_PRIORITY_MAX) {
            snprintf(err, size, "priority of node '%s' must be a whole number 1..%d", name,
                     LK_PRIORITY_MAX);
            return -EINVAL;
        }
        if (used[prio]) {
            snprintf(err, size, "priority %d is given to two nodes", (int) prio);
            return -EINVAL;
        }
        used[prio] = true;
    }
    p->nodes = nodes;
    p->here = nodes_name(nodes, node->name);
    return 0;
}

/* A gen resource's scripts: the definition's list and the scripts carried must be the same
 * set, with every required action; -EINVAL with err. */
static int parse_scripts(const json_t *declared, json_t *scripts, struct lk_definition *p,
                         char *err, size_t size)
{
    struct lk_resource *res = p->res;
    int r;
    /* The script list of the definition and the scripts carried must be the same set. */
    bool listed[LK_ACTION_COUNT] = {false};
    size_t i;
    const json_t *v;
    json_array_foreach(declared, i, v)
    {
        const char *name = plain_string(v);
        enum lk_action a = name ? lk_action_from_name(name) : LK_ACTION_NONE;
        if (a == LK_ACTION_NONE || listed[a]) {
            snprintf(err, size, "invalid script list in '%s'", KEY_RESOURCE);
            return -EINVAL;
        }
        listed[a] = true;
    }
    memset(res->has_script, 0, sizeof(res->has_script));
    const char *key;
    json_object_foreach(scripts, key, v)
    {
        enum lk_action a = lk_action_from_name(key);
        if (a == LK_ACTION_NONE) {
            snprintf(err, size, "unknown action '%s'", quotable(key));
            return -EINVAL;
        }
        char serr[256];
        r = decode_script(v, &p->files.content[a], &p->files.len[a], serr, sizeof(serr));
        if (r < 0) {
            snprintf(err, size, "%s script: %s", key, serr);
            return r;
        }
        res->has_script[a] = true;
    }
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (listed[a] != res->has_script[a]) {
            snprintf(err, size, "%s script is %s", lk_action_name((enum lk_action) a),
                     listed[a] ? "listed but missing" : "carried but not listed");
            return -EINVAL;
        }
        if (lk_action_required((enum lk_action) a) && !res->has_script[a]) {
            snprintf(err, size, "missing %s script: a gen/app resource needs one",
                     lk_action_name((enum lk_action) a));
            return -EINVAL;
        }
    }
    return 0;
}

/* The resource and its scripts; -EINVAL with err on anything wrong. */
static int parse_definition(const json_t *object, const char *peer, struct lk_definition *p,
                            char *err, size_t size)
{
    json_t *rj = json_object_get(object, KEY_RESOURCE);
    json_t *scripts = json_object_get(object, KEY_SCRIPTS);
    const json_t *declared = json_object_get(rj, KEY_SCRIPTS);
    if (!json_is_object(rj) || !json_is_object(json_object_get(rj, KEY_SETTINGS)) ||
        !json_is_array(declared)) {
        snprintf(err, size, "'%s' must be an object with settings and a script list", KEY_RESOURCE);
        return -EINVAL;
    }
    if (!json_is_object(scripts)) {
        snprintf(err, size, "'%s' must be an object", KEY_SCRIPTS);
        return -EINVAL;
    }
    p->res = calloc(1, sizeof(*p->res));
    json_t *copy = json_copy(rj);
    if (!p->res || !copy ||
        json_object_set_new(copy, "state", json_string(lk_state_name(LK_STATE_OSU))) < 0 ||
        json_object_set_new(copy, "reason", json_string("")) < 0 ||
        json_object_set_new(copy, "pending", json_string(lk_pending_name(LK_PENDING_NONE))) < 0) {
        json_decref(copy);
        snprintf(err, size, "out of memory");
        return -ENOMEM;
    }
    int r = lk_proto_resource_parse(copy, p->res);
    json_decref(copy);
    struct lk_resource *res = p->res;
    char verr[256];
    if (r < 0) {
        snprintf(err, size, "'%s' has a missing or invalid field", KEY_RESOURCE);
        return -EINVAL;
    }
    if (strcmp(res->tag, p->tag) != 0) {
        snprintf(err, size, "resource tag '%s' differs from the object's", quotable(res->tag));
        return -EINVAL;
    }
    if (lk_validate_tag(res->id, "id", verr, sizeof(verr)) < 0 ||
        lk_validate_info(res->info, verr, sizeof(verr)) < 0) {
        snprintf(err, size, "%s", verr);
        return -EINVAL;
    }
    if (lk_validate_app_type(res->app, res->type, verr, sizeof(verr)) < 0 ||
        lk_type_check(res, verr, sizeof(verr)) < 0) {
        snprintf(err, size, "%s", verr);
        return -EINVAL;
    }
    if (strcmp(res->app, "gen") != 0) {
        /* Another type runs its agent or unit, no script of ours: it carries none, and it
         * has every action (the type prepares each). */
        if (json_object_size(scripts) != 0) {
            snprintf(err, size, "a %s resource carries no scripts", res->app);
            return -EINVAL;
        }
        for (int a = 0; a < LK_ACTION_COUNT; a++) {
            res->has_script[a] = true;
        }
    } else if ((r = parse_scripts(declared, scripts, p, err, size)) < 0) {
        return r;
    }
    /* Parameters and helper files: every one checked as a user's are. An object without
     * them (a peer from before they existed) has none. */
    char perr[300];
    json_t *params = json_object_get(object, KEY_PARAMS);
    p->files.has_params = true;
    if ((r = lk_params_from_json(params, &p->files.params, perr, sizeof(perr))) < 0 ||
        (r = lk_define_decode_helpers(json_object_get(object, KEY_HELPERS), &p->files, perr,
                                      sizeof(perr))) < 0) {
        snprintf(err, size, "%s", perr);
        return r;
    }
    res->state = LK_STATE_OSU;
    res->pending = LK_PENDING_NONE;
    res->target_in_service = false;
    res->check_failures_in_row = 0;
    res->local_recoveries = 0;
    snprintf(res->reason, sizeof(res->reason), "extended from %s", peer);
    return 0;
}

static int parse_children(json_t *children, struct lk_definition *p, char *err, size_t size)
{
    if (!json_is_array(children)) {
        snprintf(err, size, "'%s' must be an array", KEY_CHILDREN);
        return -EINVAL;
    }
    size_t i, j;
    const json_t *v, *w;
    json_array_foreach(children, i, v)
    {
        const char *child = plain_string(v);
        char verr[256];
        if (!child || lk_validate_tag(child, "child", verr, sizeof(verr)) < 0) {
            snprintf(err, size, "%s", child ? verr : "a child must be a tag");
            return -EINVAL;
        }
        if (strcmp(child, p->tag) == 0) {
            snprintf(err, size, "resource '%s' cannot depend on itself", p->tag);
            return -EINVAL;
        }
        json_array_foreach(children, j, w)
        {
            if (j < i && json_equal(v, w)) {
                snprintf(err, size, "child '%s' is named twice", child);
                return -EINVAL;
            }
        }
    }
    p->children = children;
    return 0;
}

static int parse_object(const struct lk_node *node, const char *peer, const json_t *object,
                        struct lk_definition *p, char *err, size_t size)
{
    if (!json_is_object(object)) {
        snprintf(err, size, "an object must be a JSON object");
        return -EINVAL;
    }
    const char *tag = plain_string(json_object_get(object, KEY_TAG));
    char verr[256];
    if (!tag || lk_validate_tag(tag, "tag", verr, sizeof(verr)) < 0) {
        snprintf(err, size, "%s", tag ? verr : "missing tag");
        return -EINVAL;
    }
    snprintf(p->tag, sizeof(p->tag), "%s", tag);
    if (lk_version_parse(json_object_get(object, KEY_VERSION), &p->version) < 0) {
        snprintf(err, size, "resource '%s': invalid version", tag);
        return -EINVAL;
    }
    const json_t *deleted = json_object_get(object, KEY_DELETED);
    if (!json_is_boolean(deleted)) {
        snprintf(err, size, "resource '%s': '%s' must be true or false", tag, KEY_DELETED);
        return -EINVAL;
    }
    p->deleted = json_is_true(deleted);
    char what[384];
    int r = parse_nodes(node, json_object_get(object, KEY_NODES), p, what, sizeof(what));
    if (r == 0 && !p->deleted) {
        r = parse_definition(object, peer, p, what, sizeof(what));
    }
    if (r == 0 && !p->deleted) {
        r = parse_children(json_object_get(object, KEY_CHILDREN), p, what, sizeof(what));
    }
    if (r < 0) {
        snprintf(err, size, "resource '%s': %s", tag, what);
    }
    return r;
}

int lk_replica_parse(const struct lk_node *node, const char *peer, const json_t *object,
                     struct lk_definition *ret_parsed, char *err, size_t err_size)
{
    memset(ret_parsed, 0, sizeof(*ret_parsed));
    int r = parse_object(node, peer, object, ret_parsed, err, err_size);
    if (r < 0) {
        parsed_done(ret_parsed);
        memset(ret_parsed, 0, sizeof(*ret_parsed));
    }
    return r;
}

void lk_replica_parsed_free(struct lk_definition *parsed)
{
    parsed_done(parsed);
}

static int db_error(struct lk_node *node, char *err, size_t size)
{
    snprintf(err, size, "cannot write the node database: %s", lk_store_errmsg(node->store));
    return -EIO;
}

int lk_replica_apply(struct lk_node *node, const char *peer, const json_t *object,
                     enum lk_replica_outcome *ret_outcome, char *err, size_t err_size)
{
    struct lk_definition p;
    memset(&p, 0, sizeof(p));
    int r = parse_object(node, peer, object, &p, err, err_size);
    if (r < 0) {
        goto out;
    }
    struct lk_version local = {0};
    bool deleted = false;
    r = lk_store_get_version(node->store, p.tag, &local.counter, local.node, sizeof(local.node),
                             &deleted);
    if (r < 0 && r != -ENOENT) {
        snprintf(err, err_size, "cannot read the node database: %s", lk_store_errmsg(node->store));
        r = -EIO;
        goto out;
    }
    bool known = r == 0;
    bool exists = known && !deleted;
    if (known && lk_version_cmp(&p.version, &local) <= 0) {
        r = lk_store_see_clock(node->store, p.version.counter) < 0 ? db_error(node, err, err_size)
                                                                   : 0;
        if (r == 0) {
            *ret_outcome = LK_REPLICA_IGNORED;
        }
        goto out;
    }
    /* Newer than ours: the definitions writer applies it. */
    if (p.deleted || !p.here) {
        r = lk_define_received_drop(node, peer, &p, exists, err, err_size);
        if (r == 0) {
            *ret_outcome = LK_REPLICA_DROPPED;
        }
    } else {
        r = lk_define_received_live(node, peer, &p, exists, err, err_size);
        if (r == 0) {
            *ret_outcome = LK_REPLICA_APPLIED;
        }
    }
out:
    parsed_done(&p);
    return r;
}
