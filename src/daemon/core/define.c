/* The definitions writer (define.h): every change to what a resource is — row, settings,
 * script copies, parameters, helper files, dependencies, extends, tombstones — in one
 * transaction with its new version, then the view, then "definitions changed" on the bus.
 *
 * Events enter as calls from the request handlers (local commands, validated there) and
 * from replica.c (objects received from a peer, parsed and validated there, newer than
 * ours). Script copies, the parameter file and helper files are written before the
 * transaction, each atomically: a crash in between leaves unused files, never a definition
 * without its files. This file must
 * never touch a resource's state (the executor's), decide where anything runs, or call
 * up into the cluster or the api: it tells through the bus. */
#include "define.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "catchup.h"
#include "config.h"
#include "eventlog.h"
#include "paramfile.h"
#include "scripts.h"
#include "tunfile.h"
#include "validate.h"

static int db_error(struct lk_node *node, char *err, size_t size)
{
    snprintf(err, size, "cannot write the node database: %s", lk_store_errmsg(node->store));
    return -EIO;
}

/* The one transaction block: every change is lk_store_begin, its writes (each run only
 * while r is 0), then finish(r). Commits when r is 0, else rolls back. Returns 0; r when
 * it is -EEXIST and a write explained it in err (explained: a taken tag or id; those
 * callers empty err first); else -EIO with the database's message. */
static int finish(struct lk_node *node, int r, bool explained, char *err, size_t size)
{
    if (r == 0 && lk_store_commit(node->store) == 0) {
        return 0;
    }
    lk_store_rollback(node->store);
    if (!explained || r != -EEXIST || !err[0]) {
        snprintf(err, size, "cannot write the node database: %s", lk_store_why(node->store));
        r = -EIO;
    }
    /* A failing disk: the node says so and refuses the next changes up front. */
    (void) lk_catchup_failed(node, NULL);
    return r;
}

/* ---- Versions ---- */

uint64_t lk_version_next(uint64_t clock)
{
    /* A hybrid logical clock: past every counter seen (causality), and at least the
     * wall-clock milliseconds, so that of two writes made apart during a partition the
     * later one wins when the clocks are roughly in step. */
    uint64_t next = clock + 1;
    uint64_t now = (uint64_t) lk_now_ms();
    return now > next ? now : next;
}

/* tag's extends in the view as a nodes object. NULL on ENOMEM. */
static json_t *view_nodes(const struct lk_node *node, const char *tag)
{
    json_t *nodes = json_object();
    for (size_t i = 0; nodes && i < node->extend_count; i++) {
        const struct lk_extend *e = &node->extends[i];
        if (strcmp(e->tag, tag) == 0 &&
            json_object_set_new(nodes, e->node, json_integer(e->priority)) < 0) {
            json_decref(nodes);
            return NULL;
        }
    }
    return nodes;
}

static int touch(struct lk_node *node, const char *tag, const json_t *nodes)
{
    uint64_t clock = 0;
    if (lk_store_get_clock(node->store, &clock) < 0 || clock >= INT64_MAX) {
        return -EIO;
    }
    uint64_t next = lk_version_next(clock);
    if (!nodes) {
        int r = lk_store_set_version(node->store, tag, next, node->name, false, NULL);
        if (r == 0) {
            return lk_store_drop_tombstone(node->store, tag) < 0 ? -EIO : 0;
        }
        if (r != -ENOENT) {
            return -EIO;
        }
    }
    /* Deleted: the tombstone names the nodes it was extended to, so that they drop it. */
    json_t *own = nodes ? NULL : view_nodes(node, tag);
    char *text = json_dumps(nodes ? nodes : own, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(own);
    if (!text) {
        return -EIO;
    }
    int r = lk_store_set_version(node->store, tag, next, node->name, true, text);
    free(text);
    return r < 0 ? -EIO : 0;
}

int lk_define_touch(struct lk_node *node, const char *tag)
{
    return touch(node, tag, NULL);
}

int lk_define_touch_deleted(struct lk_node *node, const char *tag, const json_t *nodes)
{
    return touch(node, tag, json_is_object(nodes) ? nodes : NULL);
}

/* Decodes base64 of at most max decoded bytes into a malloc'ed *ret. what names the
 * content in messages ("script"). 0, or -EINVAL / -ENOMEM with err. */
static int decode_base64(const char *b64, size_t max, const char *what, unsigned char **ret,
                         size_t *ret_len, char *err, size_t err_size)
{
    size_t b64_len = strlen(b64);
    if (b64_len / 4 * 3 > max + 3) {
        snprintf(err, err_size, "%s is too large: at most %zu bytes", what, max);
        return -EINVAL;
    }
    size_t cap = b64_len / 4 * 3 + 3;
    unsigned char *bin = malloc(cap);
    if (!bin) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    size_t len = 0;
    if (sodium_base642bin(bin, cap, b64, b64_len, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(bin);
        snprintf(err, err_size, "%s content is not valid base64", what);
        return -EINVAL;
    }
    *ret = bin;
    *ret_len = len;
    return 0;
}

int lk_define_decode_script(const char *b64, unsigned char **ret, size_t *ret_len, char *err,
                            size_t err_size)
{
    unsigned char *bin = NULL;
    size_t len = 0;
    int r = decode_base64(b64, LK_SCRIPT_MAX_SIZE, "script", &bin, &len, err, err_size);
    if (r < 0) {
        return r;
    }
    if (lk_validate_script(bin, len, err, err_size) < 0) {
        free(bin);
        return -EINVAL;
    }
    *ret = bin;
    *ret_len = len;
    return 0;
}

void lk_define_files_free(struct lk_define_files *files)
{
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        free(files->content[a]);
    }
    lk_params_free(&files->params);
    for (size_t i = 0; i < files->helper_count; i++) {
        free(files->helpers[i].data);
    }
    free(files->helpers);
    memset(files, 0, sizeof(*files));
}

static size_t helpers_bytes(const struct lk_define_files *files)
{
    size_t total = 0;
    for (size_t i = 0; i < files->helper_count; i++) {
        total += files->helpers[i].len;
    }
    return total;
}

static const struct lk_helper_file *find_helper(const struct lk_define_files *files,
                                                const char *name)
{
    for (size_t i = 0; i < files->helper_count; i++) {
        if (strcmp(files->helpers[i].name, name) == 0) {
            return &files->helpers[i];
        }
    }
    return NULL;
}

/* The one-line refusal of a helper set over the bounds; 0 when within. */
static int helpers_bounds(size_t count, size_t total, char *err, size_t err_size)
{
    if (count > LK_HELPERS_MAX) {
        snprintf(err, err_size, "too many helper files: %zu, at most %d", count, LK_HELPERS_MAX);
        return -EINVAL;
    }
    if (total > LK_HELPERS_TOTAL_MAX) {
        snprintf(err, err_size, "helper files are too large together: %zu bytes, at most %d", total,
                 LK_HELPERS_TOTAL_MAX);
        return -EINVAL;
    }
    return 0;
}

int lk_define_decode_helpers(json_t *helpers, struct lk_define_files *files, char *err,
                             size_t err_size)
{
    if (!helpers) {
        return 0;
    }
    if (!json_is_object(helpers)) {
        snprintf(err, err_size, "helpers must be an object of name: base64 content");
        return -EINVAL;
    }
    size_t count = files->helper_count + json_object_size(helpers);
    if (helpers_bounds(count, 0, err, err_size) < 0) {
        return -EINVAL;
    }
    struct lk_helper_file *list = realloc(files->helpers, (count ? count : 1) * sizeof(*list));
    if (!list) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    files->helpers = list;
    const char *name;
    json_t *v;
    json_object_foreach(helpers, name, v)
    {
        char why[256];
        const char *b64 = json_string_value(v);
        unsigned char *data = NULL;
        size_t len = 0;
        int r = lk_params_check_helper_name(name, why, sizeof(why));
        if (r == 0 && find_helper(files, name)) {
            snprintf(why, sizeof(why), "helper file '%s' is given twice", name);
            r = -EINVAL;
        }
        if (r == 0 && (!b64 || strlen(b64) != json_string_length(v))) {
            snprintf(why, sizeof(why), "helper file '%s': content must be base64 text", name);
            r = -EINVAL;
        }
        if (r == 0) {
            char derr[200];
            r = decode_base64(b64, LK_SCRIPT_MAX_SIZE, "content", &data, &len, derr, sizeof(derr));
            if (r < 0) {
                snprintf(why, sizeof(why), "helper file '%s': %s", name, derr);
            }
        }
        if (r == 0 && len == 0) {
            free(data);
            snprintf(why, sizeof(why), "helper file '%s' is empty", name);
            r = -EINVAL;
        }
        if (r < 0) {
            snprintf(err, err_size, "%s", why);
            return r;
        }
        struct lk_helper_file *h = &files->helpers[files->helper_count++];
        memset(h, 0, sizeof(*h));
        snprintf(h->name, sizeof(h->name), "%s", name);
        h->data = data;
        h->len = len;
        if (helpers_bounds(files->helper_count, helpers_bytes(files), err, err_size) < 0) {
            return -EINVAL;
        }
    }
    return 0;
}

/* Writes files' scripts, parameters (when has_params) and helper files for tag, each
 * atomically. Returns 0 or -errno with err. */
static int write_files(const char *root, const char *tag, const struct lk_define_files *files,
                       char *err, size_t err_size)
{
    int r = 0;
    for (int a = 0; r == 0 && a < LK_ACTION_COUNT; a++) {
        if (files->content[a]) {
            r = lk_scripts_install(root, tag, (enum lk_action) a, files->content[a], files->len[a],
                                   err, err_size);
        }
    }
    if (r == 0 && files->has_params) {
        r = lk_params_write(root, tag, &files->params, err, err_size);
    }
    for (size_t i = 0; r == 0 && i < files->helper_count; i++) {
        const struct lk_helper_file *h = &files->helpers[i];
        r = lk_helpers_install(root, tag, h->name, h->data, h->len, err, err_size);
    }
    return r;
}

/* Removes every file of tag's definition: scripts, parameters, helper files. */
static void remove_files(const char *root, const char *tag)
{
    lk_scripts_remove_all(root, tag);
    lk_params_remove(root, tag);
    lk_helpers_prune(root, tag, NULL);
}

/* The names of files' helpers as an object (for lk_helpers_prune); NULL on ENOMEM. */
static json_t *helper_names(const struct lk_define_files *files)
{
    json_t *names = json_object();
    for (size_t i = 0; names && i < files->helper_count; i++) {
        if (json_object_set_new(names, files->helpers[i].name, json_true()) < 0) {
            json_decref(names);
            names = NULL;
        }
    }
    return names;
}

/* ---- Local changes ---- */

int lk_define_create(struct lk_node *node, struct lk_resource *res,
                     const struct lk_define_files *files, char *err, size_t err_size)
{
    const char *tag = res->tag;
    /* The settings as a whole, before any copy is written (each one alone was checked). */
    int r = lk_catchup_refuse(node, err, err_size);
    if (r == 0) {
        r = lk_settings_check(&res->settings, err, err_size);
    }
    if (r < 0) {
        free(res);
        return r;
    }
    r = write_files(node->root, tag, files, err, err_size);
    if (r == 0) {
        err[0] = '\0';
        r = lk_store_begin(node->store);
        if (r == 0) {
            /* insert says why for a taken tag or id */
            r = lk_store_insert(node->store, node->name, res, err, err_size);
        }
        if (r == 0) {
            r = lk_define_touch(node, tag);
        }
        r = finish(node, r, true, err, err_size);
    }
    if (r < 0) {
        remove_files(node->root, tag);
        free(res);
        return r;
    }
    char copy[LK_TAG_MAX + 1];
    snprintf(copy, sizeof(copy), "%s", tag);
    if (lk_node_add(node, res) < 0) {
        free(res);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    if (lk_node_set_extend(node, copy, node->name, 1) < 0) {
        lk_node_drop(node, copy);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    lk_bus_defined(node->bus, copy);
    return 0;
}

int lk_define_delete(struct lk_node *node, char (*tags)[LK_TAG_MAX + 1], size_t count, char *err,
                     size_t err_size)
{
    /* One transaction for the whole tree, bottom-up: all or nothing. */
    int r = lk_catchup_refuse(node, err, err_size);
    if (r < 0) {
        return r;
    }
    r = lk_store_begin(node->store);
    for (size_t i = count; r == 0 && i-- > 0;) {
        json_t *nodes = view_nodes(node, tags[i]);
        r = lk_store_delete(node->store, tags[i]);
        if (r == 0) {
            r = lk_define_touch_deleted(node, tags[i], nodes);
        }
        json_decref(nodes);
    }
    if ((r = finish(node, r, false, err, err_size)) < 0) {
        return r;
    }
    for (size_t i = count; i-- > 0;) {
        lk_node_drop(node, tags[i]);
        remove_files(node->root, tags[i]);
        lk_bus_defined(node->bus, tags[i]);
    }
    return 0;
}

int lk_define_dep(struct lk_node *node, const char *parent, const char *child, bool add, char *err,
                  size_t err_size)
{
    int r = lk_catchup_refuse(node, err, err_size);
    if (r < 0) {
        return r;
    }
    r = lk_store_begin(node->store);
    if (r == 0) {
        r = add ? lk_store_add_dep(node->store, parent, child)
                : lk_store_delete_dep(node->store, parent, child);
    }
    if (r == 0) {
        r = lk_define_touch(node, parent);
    }
    if ((r = finish(node, r, false, err, err_size)) < 0) {
        return r;
    }
    if (add) {
        if (lk_node_add_dep(node, parent, child) < 0) {
            snprintf(err, err_size, "out of memory");
            return -ENOMEM;
        }
    } else {
        lk_node_drop_dep(node, parent, child);
    }
    lk_bus_defined(node->bus, parent);
    return 0;
}

int lk_define_files(struct lk_node *node, const char *tag, const struct lk_define_files *files,
                    char *err, size_t err_size)
{
    struct lk_resource *res = lk_node_find(node, tag);
    if (!res) {
        snprintf(err, err_size, "no resource with tag '%s'", tag);
        return -ENOENT;
    }
    int r = lk_catchup_refuse(node, err, err_size);
    if (r < 0) {
        return r;
    }
    if (files->helper_count) {
        /* The bounds hold for the set the resource ends with: those kept and the new. */
        size_t count = files->helper_count, total = helpers_bytes(files);
        char dir[LK_PATH_MAX + 256];
        lk_helpers_dir(node->root, tag, dir, sizeof(dir));
        json_t *names = lk_helpers_names(node->root, tag);
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v)
        {
            char path[LK_PATH_MAX + 512];
            struct stat st;
            snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(v));
            if (!find_helper(files, json_string_value(v)) && lstat(path, &st) == 0) {
                count++;
                total += (size_t) st.st_size;
            }
        }
        json_decref(names);
        if (helpers_bounds(count, total, err, err_size) < 0) {
            return -EINVAL;
        }
    }
    r = write_files(node->root, tag, files, err, err_size);
    if (r < 0) {
        return r;
    }
    bool had[LK_ACTION_COUNT];
    memcpy(had, res->has_script, sizeof(had));
    bool more = false;
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        more |= files->content[a] && !had[a];
        res->has_script[a] |= files->content[a] != NULL;
    }
    r = lk_store_begin(node->store);
    if (r == 0 && more) {
        r = lk_store_save_scripts(node->store, res);
    }
    if (r == 0) {
        r = lk_define_touch(node, tag);
    }
    if ((r = finish(node, r, false, err, err_size)) < 0) {
        memcpy(res->has_script, had, sizeof(had));
        return r;
    }
    lk_bus_defined(node->bus, tag);
    return 0;
}

int lk_define_script(struct lk_node *node, const char *tag, enum lk_action action,
                     const unsigned char *content, size_t len, char *err, size_t err_size)
{
    struct lk_define_files files = {0};
    /* Borrowed for the call: files is not freed here. */
    files.content[action] = (unsigned char *) (uintptr_t) content;
    files.len[action] = len;
    return lk_define_files(node, tag, &files, err, err_size);
}

int lk_define_settings(struct lk_node *node, const char *tag, const struct lk_settings *settings,
                       const char *info, char *err, size_t err_size)
{
    struct lk_resource *res = lk_node_find(node, tag);
    if (!res) {
        snprintf(err, err_size, "no resource with tag '%s'", tag);
        return -ENOENT;
    }
    int r = lk_catchup_refuse(node, err, err_size);
    if (r < 0) {
        return r;
    }
    r = lk_settings_check(settings, err, err_size);
    if (r < 0) {
        return r;
    }
    struct lk_resource next = *res;
    next.settings = *settings;
    if (info) {
        snprintf(next.info, sizeof(next.info), "%s", info);
    }
    r = lk_store_begin(node->store);
    if (r == 0) {
        r = lk_store_save_settings(node->store, &next);
    }
    if (r == 0) {
        r = lk_define_touch(node, tag);
    }
    if ((r = finish(node, r, false, err, err_size)) < 0) {
        return r;
    }
    res->settings = next.settings;
    snprintf(res->info, sizeof(res->info), "%s", next.info);
    lk_bus_defined(node->bus, tag);
    return 0;
}

int lk_define_extends(struct lk_node *node, char (*tags)[LK_TAG_MAX + 1], size_t n,
                      const char *peer, uint32_t priority, char *err, size_t err_size)
{
    int r = lk_catchup_refuse(node, err, err_size);
    if (r < 0) {
        return r;
    }
    r = lk_store_begin(node->store);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (priority) {
            r = lk_store_set_extend(node->store, tags[i], peer, priority);
        } else if (lk_node_priority(node, tags[i], peer)) {
            r = lk_store_drop_extend(node->store, tags[i], peer);
        }
        if (r == 0) {
            r = lk_define_touch(node, tags[i]);
        }
    }
    if ((r = finish(node, r, false, err, err_size)) < 0) {
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        if (priority) {
            (void) lk_node_set_extend(node, tags[i], peer, priority);
        } else {
            lk_node_drop_extend(node, tags[i], peer);
        }
        lk_bus_defined(node->bus, tags[i]);
    }
    return 0;
}

int lk_define_cluster_settings(struct lk_node *node, const struct lk_cluster_settings *settings,
                               const char *version_node, uint64_t version_counter, char *err,
                               size_t err_size)
{
    struct lk_config next = node->config;
    next.cluster = *settings;
    if (!version_node && lk_catchup_refuse(node, err, err_size) < 0) {
        return -EROFS;
    }
    if (!version_node) {
        /* A new version of the settings: the newer wins when nodes meet again. */
        uint64_t clock = 0;
        int r = lk_store_get_clock(node->store, &clock);
        version_counter = lk_version_next(clock);
        if (r < 0 || lk_store_see_clock(node->store, version_counter) < 0) {
            return db_error(node, err, err_size);
        }
        version_node = node->name;
    }
    next.settings_version = version_counter;
    snprintf(next.settings_version_node, sizeof(next.settings_version_node), "%s", version_node);
    /* The tunables are their own file (LifeKeeper's), written before lk.conf takes the
     * version: a crash between the two leaves the new text under the old version, which the
     * peers' newer one then replaces or the mismatch report names. lkd's copy first: a file
     * older than the copy is then known at start for one a crash left behind, not an
     * administrator's edit (lk_tunwatch_load). */
    if (strcmp(next.cluster.tunables, node->config.cluster.tunables) != 0 &&
        (lk_tunfile_write(node->root, LK_TUNFILE_KEPT, next.cluster.tunables, err, err_size) < 0 ||
         lk_tunfile_write(node->root, LK_TUNFILE_NAME, next.cluster.tunables, err, err_size) < 0)) {
        return -EIO;
    }
    char path[LK_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", node->root, LK_CONF_NAME);
    if (lk_config_save(path, &next, err, err_size) < 0) {
        return -EIO;
    }
    node->config = next;
    (void) lk_store_see_clock(node->store, next.settings_version);
    return 0;
}

/* ---- Changes received from a peer ---- */

/* Whether tag is reachable from child through the view's dependencies, i.e. whether
 * making tag depend on child would close a cycle: a walk over the index, each vertex
 * once (or, out of memory, the walk over the list). */
static bool reaches_slow(const struct lk_node *node, const char *child, const char *tag,
                         size_t depth);

static bool reaches(struct lk_node *node, const char *child, const char *tag)
{
    if (strcmp(child, tag) == 0) {
        return true;
    }
    const struct lk_hier *h = lk_node_hier(node);
    size_t from, to;
    if (h && (!lk_hier_vertex(h, child, &from) || !lk_hier_vertex(h, tag, &to))) {
        return false; /* no dependency names one of them */
    }
    size_t *stack = h ? calloc(h->vcount ? h->vcount : 1, sizeof(*stack)) : NULL;
    bool *seen = h ? calloc(h->vcount ? h->vcount : 1, sizeof(*seen)) : NULL;
    if (!stack || !seen) {
        free(stack);
        free(seen);
        return reaches_slow(node, child, tag, 0);
    }
    size_t top = 0;
    bool found = false;
    stack[top++] = from;
    seen[from] = true;
    while (top > 0 && !found) {
        size_t n = 0;
        const size_t *children = lk_hier_children(h, stack[--top], &n);
        for (size_t i = 0; i < n && !found; i++) {
            found = children[i] == to;
            if (!seen[children[i]]) {
                seen[children[i]] = true;
                stack[top++] = children[i];
            }
        }
    }
    free(stack);
    free(seen);
    return found;
}

static bool reaches_slow(const struct lk_node *node, const char *child, const char *tag,
                         size_t depth)
{
    if (strcmp(child, tag) == 0) {
        return true;
    }
    if (depth > node->dep_count) {
        return false; /* a cycle already there; not ours to report */
    }
    for (size_t i = 0; i < node->dep_count; i++) {
        if (strcmp(node->deps[i].parent, child) == 0 &&
            reaches_slow(node, node->deps[i].child, tag, depth + 1)) {
            return true;
        }
    }
    return false;
}

static void log_received(struct lk_node *node, const char *peer, const struct lk_definition *d)
{
    char what[LK_TAG_MAX + 64];
    snprintf(what, sizeof(what), "version %" PRIu64 " by %s", d->version.counter, d->version.node);
    lk_eventlog_msg(node, d->tag, LK_MSG_DATA_RECEIVED, peer, what);
}

int lk_define_received_drop(struct lk_node *node, const char *peer, const struct lk_definition *d,
                            bool exists, char *err, size_t size)
{
    const struct lk_resource *res = lk_node_find(node, d->tag);
    if (res && (lk_state_in_service(res->state) || res->pending != LK_PENDING_NONE)) {
        (void) lk_store_see_clock(node->store, d->version.counter);
        snprintf(err, size, "resource '%s' is %s on this node: not %s", d->tag,
                 res->pending != LK_PENDING_NONE ? "busy" : "in service",
                 d->deleted ? "deleted" : "unextended");
        return -EBUSY;
    }
    char *nodes = json_dumps(d->nodes, JSON_COMPACT | JSON_SORT_KEYS);
    if (!nodes) {
        snprintf(err, size, "out of memory");
        return -ENOMEM;
    }
    int r = lk_store_begin(node->store);
    if (r == 0 && exists) {
        r = lk_store_delete(node->store, d->tag);
    }
    if (r == 0) {
        r = lk_store_set_version(node->store, d->tag, d->version.counter, d->version.node, true,
                                 nodes);
    }
    free(nodes);
    if ((r = finish(node, r, false, err, size)) < 0) {
        return r;
    }
    if (exists) {
        remove_files(node->root, d->tag);
    }
    if (res) {
        lk_node_drop(node, d->tag);
        lk_bus_defined(node->bus, d->tag);
    }
    log_received(node, peer, d);
    return 0;
}

/* Writes the rows of a created or changed resource; inside the caller's transaction.
 * applied[i] tells which children were linked. */
static int write_rows(struct lk_node *node, const struct lk_definition *d, bool exists,
                      bool *applied, char *err, size_t size)
{
    struct lk_store *store = node->store;
    int r;
    if (!exists) {
        r = lk_store_insert(store, node->name, d->res, err, size);
        if (r < 0) {
            return r;
        }
    } else {
        r = lk_store_save_settings(store, d->res);
        if (r == -EEXIST) {
            snprintf(err, size, "a resource with id '%s' already exists", d->res->id);
            return r;
        }
        if (r < 0 || lk_store_save_scripts(store, d->res) < 0 ||
            lk_store_add_state(store, node->name, d->res) < 0) {
            return db_error(node, err, size);
        }
    }
    if (lk_store_drop_extend(store, d->tag, NULL) < 0) {
        return db_error(node, err, size);
    }
    const char *name;
    const json_t *v;
    json_object_foreach(d->nodes, name, v)
    {
        if (lk_store_set_extend(store, d->tag, name, (uint32_t) json_integer_value(v)) < 0) {
            return db_error(node, err, size);
        }
    }
    if (lk_store_drop_children(store, d->tag) < 0) {
        return db_error(node, err, size);
    }
    size_t i;
    json_array_foreach(d->children, i, v)
    {
        const char *child = json_string_value(v);
        bool deleted = true;
        uint64_t counter;
        /* A child this node does not hold is skipped: children travel first, and one that
         * is not extended here cannot be linked (both ends live on the same nodes). A link
         * that would close a cycle here (two partitions linking the other way) is too. */
        applied[i] = lk_store_get_version(store, child, &counter, NULL, 0, &deleted) == 0 &&
                     !deleted && !reaches(node, child, d->tag);
        if (applied[i] && lk_store_add_dep(store, d->tag, child) < 0) {
            return db_error(node, err, size);
        }
    }
    if (lk_store_set_version(store, d->tag, d->version.counter, d->version.node, false, NULL) < 0 ||
        lk_store_drop_tombstone(store, d->tag) < 0) {
        return db_error(node, err, size);
    }
    return 0;
}

/* Brings the view in line with the rows just committed. */
static int update_view(struct lk_node *node, const struct lk_definition *d, const bool *applied)
{
    struct lk_resource *res = lk_node_find(node, d->tag);
    if (res) {
        /* Its state on this node is this node's own; only the definition changes. */
        snprintf(res->id, sizeof(res->id), "%s", d->res->id);
        snprintf(res->info, sizeof(res->info), "%s", d->res->info);
        res->settings = d->res->settings;
        memcpy(res->has_script, d->res->has_script, sizeof(res->has_script));
    } else {
        res = calloc(1, sizeof(*res));
        if (!res) {
            return -ENOMEM;
        }
        int r = lk_store_load_one(node->store, node->name, d->tag, res);
        if (r < 0 || (r = lk_node_add(node, res)) < 0) {
            free(res);
            return r;
        }
    }
    lk_node_drop_extend(node, d->tag, NULL);
    const char *name;
    const json_t *v;
    json_object_foreach(d->nodes, name, v)
    {
        if (lk_node_set_extend(node, d->tag, name, (uint32_t) json_integer_value(v)) < 0) {
            return -ENOMEM;
        }
    }
    lk_node_drop_dep(node, d->tag, NULL);
    size_t i;
    json_array_foreach(d->children, i, v)
    {
        const char *child = json_string_value(v);
        if (applied[i] && lk_node_find(node, child) && lk_node_add_dep(node, d->tag, child) < 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

int lk_define_received_live(struct lk_node *node, const char *peer, const struct lk_definition *d,
                            bool exists, char *err, size_t size)
{
    bool *applied = calloc(json_array_size(d->children) + 1, sizeof(*applied));
    if (!applied) {
        snprintf(err, size, "out of memory");
        return -ENOMEM;
    }
    /* Copies first, each atomic: a crash before the commit leaves unused files (or, for
     * a resource we hold, newer scripts under the older definition, which the next sync
     * completes), never a definition without its scripts. */
    int r = write_files(node->root, d->tag, &d->files, err, size);
    if (r == 0) {
        err[0] = '\0';
        r = lk_store_begin(node->store);
        if (r == 0) {
            r = write_rows(node, d, exists, applied, err, size);
        }
        r = finish(node, r, true, err, size);
    }
    if (r < 0) {
        if (!exists) {
            remove_files(node->root, d->tag);
        }
        free(applied);
        return r;
    }
    /* Helper files the new definition no longer carries go. */
    json_t *keep = helper_names(&d->files);
    if (keep) {
        lk_helpers_prune(node->root, d->tag, keep);
        json_decref(keep);
    }
    /* Actions the new definition no longer has lose their copies. */
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (!d->res->has_script[a]) {
            lk_scripts_remove(node->root, (enum lk_action) a, d->tag);
        }
    }
    r = update_view(node, d, applied);
    free(applied);
    if (r < 0) {
        snprintf(err, size, "resource '%s' was written, but the daemon's view of it was not: %s",
                 d->tag, strerror(-r));
        return r;
    }
    lk_bus_defined(node->bus, d->tag);
    log_received(node, peer, d);
    return 0;
}
