/* The daemon's view of this node's resources: lookup, add, drop, and the engine's view.
 * Pure bookkeeping on struct lk_node; the store is written by the callers (executor and
 * api), never from here. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bisect.h"
#include "cgroup.h"
#include "log.h"
#include "runner.h"

/* The resources are kept sorted by tag (as the store loads them), so lookups are binary
 * searches: a thousand resources checked every few seconds make this the hottest path. */
static size_t position(const struct lk_node *node, const char *tag, bool *ret_found)
{
    return lk_bisect_tag((const void *const *) node->resources, node->count,
                         offsetof(struct lk_resource, tag), tag, ret_found);
}

struct lk_resource *lk_node_find(const struct lk_node *node, const char *tag)
{
    bool found = false;
    size_t i = tag ? position(node, tag, &found) : 0;
    return found ? node->resources[i] : NULL;
}

void lk_node_contain(const struct lk_node *node, const char *tag, struct lk_run_spec *spec)
{
    spec->contained = false;
    spec->cgroup_fd = -1;
    if (!node->cgroups) {
        return;
    }
    int fd = lk_cgroups_fd(node->cgroups, tag);
    if (fd < 0) {
        lk_log(LK_LOG_WARNING, "cannot make the cgroup of '%s': %s; this run is not contained", tag,
               strerror(-fd));
        return;
    }
    spec->contained = true;
    spec->cgroup_fd = fd;
}

struct lk_resource *lk_node_find_id(const struct lk_node *node, const char *id)
{
    for (size_t i = 0; id && i < node->count; i++) {
        if (strcmp(node->resources[i]->id, id) == 0) {
            return node->resources[i];
        }
    }
    return NULL;
}

int lk_node_add(struct lk_node *node, struct lk_resource *res)
{
    if (node->count == node->capacity) {
        size_t cap = node->capacity ? node->capacity * 2 : 64;
        struct lk_resource **bigger = realloc(node->resources, cap * sizeof(*bigger));
        if (!bigger) {
            return -ENOMEM;
        }
        node->resources = bigger;
        node->capacity = cap;
    }
    bool found = false;
    size_t at = position(node, res->tag, &found);
    memmove(&node->resources[at + 1], &node->resources[at],
            (node->count - at) * sizeof(node->resources[0]));
    node->resources[at] = res;
    node->count++;
    node->hier_stale = true;
    return 0;
}

int lk_node_add_dep(struct lk_node *node, const char *parent, const char *child)
{
    struct lk_dep *bigger = realloc(node->deps, (node->dep_count + 1) * sizeof(*bigger));
    if (!bigger) {
        return -ENOMEM;
    }
    node->deps = bigger;
    struct lk_dep *d = &node->deps[node->dep_count++];
    snprintf(d->parent, sizeof(d->parent), "%s", parent);
    snprintf(d->child, sizeof(d->child), "%s", child);
    node->hier_stale = true;
    return 0;
}

void lk_node_drop_dep(struct lk_node *node, const char *parent, const char *child)
{
    node->hier_stale = true;
    for (size_t i = 0; i < node->dep_count;) {
        struct lk_dep *d = &node->deps[i];
        bool match = (!parent || strcmp(d->parent, parent) == 0) &&
                     (!child || strcmp(d->child, child) == 0);
        if (match) {
            memmove(d, d + 1, (node->dep_count - i - 1) * sizeof(*d));
            node->dep_count--;
        } else {
            i++;
        }
    }
}

bool lk_node_has_parents(const struct lk_node *node, const char *tag)
{
    const struct lk_hier *h = lk_node_hier_fresh(node);
    size_t v, n = 0;
    if (h) {
        return lk_hier_vertex(h, tag, &v) && (lk_hier_parents(h, v, &n), n > 0);
    }
    for (size_t i = 0; i < node->dep_count; i++) {
        if (strcmp(node->deps[i].child, tag) == 0) {
            return true;
        }
    }
    return false;
}

/* The extends are kept sorted by tag, then priority, as the store loads them, so that a
 * tag's nodes read best first. */
static int extend_cmp(const void *a, const void *b)
{
    const struct lk_extend *x = a, *y = b;
    int c = strcmp(x->tag, y->tag);
    if (c != 0) {
        return c;
    }
    return x->priority < y->priority   ? -1
           : x->priority > y->priority ? 1
                                       : strcmp(x->node, y->node);
}

size_t lk_node_first_extend(const struct lk_node *node, const char *tag)
{
    /* The extends are sorted by tag, then priority: the first of tag's by bisection. */
    size_t lo = 0, hi = node->extend_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(node->extends[mid].tag, tag) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static struct lk_extend *find_extend(const struct lk_node *node, const char *tag, const char *peer)
{
    for (size_t i = lk_node_first_extend(node, tag);
         i < node->extend_count && strcmp(node->extends[i].tag, tag) == 0; i++) {
        if (strcmp(node->extends[i].node, peer) == 0) {
            return &node->extends[i];
        }
    }
    return NULL;
}

int lk_node_set_extend(struct lk_node *node, const char *tag, const char *peer, uint32_t priority)
{
    /* Taken out if there, then put back where the order wants it: a bisection and a
     * move, not a sort of every extend (a thousand resources on two nodes are two
     * thousand of them). */
    struct lk_extend x = {0};
    struct lk_extend *e = find_extend(node, tag, peer);
    if (e) {
        x = *e;
        size_t i = (size_t) (e - node->extends);
        memmove(e, e + 1, (node->extend_count - i - 1) * sizeof(*e));
        node->extend_count--;
    } else {
        struct lk_extend *bigger =
                realloc(node->extends, (node->extend_count + 1) * sizeof(*bigger));
        if (!bigger) {
            return -ENOMEM;
        }
        node->extends = bigger;
        snprintf(x.tag, sizeof(x.tag), "%s", tag);
        snprintf(x.node, sizeof(x.node), "%s", peer);
    }
    x.priority = priority;
    size_t lo = 0, hi = node->extend_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (extend_cmp(&node->extends[mid], &x) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    memmove(&node->extends[lo + 1], &node->extends[lo],
            (node->extend_count - lo) * sizeof(*node->extends));
    node->extends[lo] = x;
    node->extend_count++;
    return 0;
}

/* Drops (tag, peer), or every extend of tag when peer is NULL. */
static void drop_extends(struct lk_node *node, const char *tag, const char *peer)
{
    size_t kept = 0;
    for (size_t i = 0; i < node->extend_count; i++) {
        const struct lk_extend *e = &node->extends[i];
        if (strcmp(e->tag, tag) == 0 && (!peer || strcmp(e->node, peer) == 0)) {
            continue;
        }
        node->extends[kept++] = *e;
    }
    node->extend_count = kept;
}

void lk_node_drop_extend(struct lk_node *node, const char *tag, const char *peer)
{
    drop_extends(node, tag, peer);
}

uint32_t lk_node_priority(const struct lk_node *node, const char *tag, const char *peer)
{
    const struct lk_extend *e = find_extend(node, tag, peer);
    return e ? e->priority : 0;
}

void lk_node_drop(struct lk_node *node, const char *tag)
{
    /* Its dependencies and extends go with it (the store cascades the same). */
    lk_node_drop_dep(node, tag, NULL);
    lk_node_drop_dep(node, NULL, tag);
    drop_extends(node, tag, NULL);
    bool found = false;
    size_t i = position(node, tag, &found);
    if (found) {
        free(node->resources[i]);
        memmove(&node->resources[i], &node->resources[i + 1],
                (node->count - i - 1) * sizeof(node->resources[0]));
        node->count--;
    }
    node->hier_stale = true;
}

const struct lk_hier *lk_node_hier_fresh(const struct lk_node *node)
{
    bool fresh = !node->hier_stale && lk_hier_matches(&node->hier, node->resources, node->count,
                                                      node->deps, node->dep_count);
    return fresh ? &node->hier : NULL;
}

const struct lk_hier *lk_node_hier(struct lk_node *node)
{
    if (node->hier_stale ||
        !lk_hier_matches(&node->hier, node->resources, node->count, node->deps, node->dep_count)) {
        if (lk_hier_build(&node->hier, node->resources, node->count, true, node->deps,
                          node->dep_count) < 0) {
            lk_log(LK_LOG_ERR, "cannot index the hierarchies of %zu resources: out of memory",
                   node->count);
            return NULL;
        }
        node->hier_stale = false;
    }
    return &node->hier;
}

struct lk_view lk_node_view(struct lk_node *node)
{
    const struct lk_hier *h = lk_node_hier(node);
    return (struct lk_view){
            .hier = h,
            .settled = h && node->settled && h->serial == node->settled_serial,
            .resources = node->resources,
            .count = node->count,
            .node = node->name,
            .sorted = true,
            .deps = node->deps,
            .dep_count = node->dep_count,
            .has_backup = node->facts.has_backup,
            .owned_elsewhere = node->facts.owned_elsewhere,
            .backup_ctx = node->facts.ctx,
            .holding = node->facts.holding && node->facts.holding(node->facts.ctx),
    };
}

size_t lk_node_busy_count(const struct lk_node *node)
{
    size_t n = node->queued_events; /* the executor's work still queued */
    for (size_t i = 0; i < node->count; i++) {
        n += node->resources[i]->pending != LK_PENDING_NONE;
    }
    return n;
}

int64_t lk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t lk_mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}
