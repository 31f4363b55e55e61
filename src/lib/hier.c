/* The hierarchy index (hier.h): adjacency lists and connected hierarchies of a view,
 * built in O((n + d) log n) from the resources and the dependency list.
 *
 * Built by its owner from a view (the daemon's node when a definition changed, the
 * engine for a view that brings none); queried by the engine, the monitor and the
 * cluster's view building. It must never be used after the arrays it borrows changed:
 * its owner rebuilds it first. No I/O. */
#include "hier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"

void lk_hier_done(struct lk_hier *h)
{
    if (!h) {
        return;
    }
    free(h->order);
    free(h->extra);
    free(h->down_start);
    free(h->down);
    free(h->up_start);
    free(h->up);
    free(h->nbr_start);
    free(h->nbr);
    free(h->comp);
    free(h->rank);
    free(h->comp_size);
    free(h->member_start);
    free(h->members);
    uint64_t serial = h->serial;
    memset(h, 0, sizeof(*h));
    h->serial = serial;
}

bool lk_hier_matches(const struct lk_hier *h, struct lk_resource *const *resources, size_t count,
                     const struct lk_dep *deps, size_t dep_count)
{
    return h && h->built && h->resources == resources && h->count == count && h->deps == deps &&
           h->dep_count == dep_count;
}

struct order_ctx {
    struct lk_resource *const *resources;
};

/* Positions by their resources' tags, then by position (qsort_r). */
static int order_cmp(const void *a, const void *b, void *ctx)
{
    struct lk_resource *const *res = ((const struct order_ctx *) ctx)->resources;
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    int c = strcmp(res[x]->tag, res[y]->tag);
    return c != 0 ? c : (x < y ? -1 : x > y);
}

static int extra_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The position of tag among the resources (the first one, by position, when the view
 * holds it twice), or false. */
static bool resource_position(const struct lk_hier *h, const char *tag, size_t *ret)
{
    if (!h->order) {
        bool found = false;
        size_t i = lk_bisect_tag((const void *const *) h->resources, h->count,
                                 offsetof(struct lk_resource, tag), tag, &found);
        if (found) {
            *ret = i;
        }
        return found;
    }
    size_t lo = 0, hi = h->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(h->resources[h->order[mid]]->tag, tag) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < h->count && strcmp(h->resources[h->order[lo]]->tag, tag) == 0) {
        *ret = h->order[lo];
        return true;
    }
    return false;
}

static bool extra_position(const struct lk_hier *h, const char *tag, size_t *ret)
{
    size_t n = h->vcount - h->count;
    char(*hit)[LK_TAG_MAX + 1] = n ? bsearch(tag, h->extra, n, sizeof(*h->extra), extra_cmp) : NULL;
    if (!hit) {
        return false;
    }
    *ret = h->count + (size_t) (hit - h->extra);
    return true;
}

bool lk_hier_vertex(const struct lk_hier *h, const char *tag, size_t *ret_vertex)
{
    if (!h || !h->built || !tag) {
        return false;
    }
    return resource_position(h, tag, ret_vertex) || extra_position(h, tag, ret_vertex);
}

const size_t *lk_hier_children(const struct lk_hier *h, size_t v, size_t *ret_n)
{
    *ret_n = h->down_start[v + 1] - h->down_start[v];
    return &h->down[h->down_start[v]];
}

const size_t *lk_hier_parents(const struct lk_hier *h, size_t v, size_t *ret_n)
{
    *ret_n = h->up_start[v + 1] - h->up_start[v];
    return &h->up[h->up_start[v]];
}

const size_t *lk_hier_neighbours(const struct lk_hier *h, size_t v, size_t *ret_n)
{
    *ret_n = h->nbr_start[v + 1] - h->nbr_start[v];
    return &h->nbr[h->nbr_start[v]];
}

const size_t *lk_hier_members(const struct lk_hier *h, size_t v, size_t *ret_n)
{
    size_t c = h->comp[v];
    *ret_n = h->member_start[c + 1] - h->member_start[c];
    return &h->members[h->member_start[c]];
}

static size_t find_root(size_t *parent, size_t v)
{
    while (parent[v] != v) {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    return v;
}

static void unite(size_t *parent, size_t a, size_t b)
{
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a != b) {
        parent[a > b ? a : b] = a < b ? a : b;
    }
}

/* Adjacency in CSR form: for each dependency d, from[d] → to[d], kept in d's order. */
static int csr(size_t vcount, const size_t *from, const size_t *to, size_t n, size_t **ret_start,
               size_t **ret_list)
{
    size_t *start = calloc(vcount + 2, sizeof(*start));
    size_t *list = calloc(n ? n : 1, sizeof(*list));
    if (!start || !list) {
        free(start);
        free(list);
        return -ENOMEM;
    }
    for (size_t d = 0; d < n; d++) {
        start[from[d] + 2]++;
    }
    for (size_t v = 2; v < vcount + 2; v++) {
        start[v] += start[v - 1];
    }
    /* start[v + 1] is now where v's entries begin; filling moves it to v's end, which is
     * where v + 1's begin: start[v] then holds v's beginning. */
    for (size_t d = 0; d < n; d++) {
        list[start[from[d] + 1]++] = to[d];
    }
    *ret_start = start;
    *ret_list = list;
    return 0;
}

int lk_hier_build(struct lk_hier *h, struct lk_resource *const *resources, size_t count,
                  bool sorted, const struct lk_dep *deps, size_t dep_count)
{
    lk_hier_done(h);
    h->serial++;
    h->resources = resources;
    h->count = count;
    h->deps = deps;
    h->dep_count = dep_count;
    h->vcount = count;
    size_t *pv = calloc(dep_count ? dep_count : 1, sizeof(*pv));
    size_t *cv = calloc(dep_count ? dep_count : 1, sizeof(*cv));
    size_t *uf = NULL, *ends = NULL, *others = NULL;
    if (!pv || !cv) {
        goto fail;
    }
    if (!sorted && count > 0) {
        h->order = calloc(count, sizeof(*h->order));
        if (!h->order) {
            goto fail;
        }
        for (size_t i = 0; i < count; i++) {
            h->order[i] = i;
        }
        struct order_ctx ctx = {resources};
        qsort_r(h->order, count, sizeof(*h->order), order_cmp, &ctx);
    }
    /* The tags dependencies name that the view does not hold: vertices too. */
    size_t missing = 0;
    for (size_t d = 0; d < dep_count; d++) {
        size_t i;
        missing += !resource_position(h, deps[d].parent, &i);
        missing += !resource_position(h, deps[d].child, &i);
    }
    if (missing > 0) {
        h->extra = calloc(missing, sizeof(*h->extra));
        if (!h->extra) {
            goto fail;
        }
        size_t k = 0;
        for (size_t d = 0; d < dep_count; d++) {
            size_t i;
            if (!resource_position(h, deps[d].parent, &i)) {
                memcpy(h->extra[k++], deps[d].parent, sizeof(*h->extra));
            }
            if (!resource_position(h, deps[d].child, &i)) {
                memcpy(h->extra[k++], deps[d].child, sizeof(*h->extra));
            }
        }
        qsort(h->extra, missing, sizeof(*h->extra), extra_cmp);
        size_t unique = 0;
        for (size_t i = 0; i < missing; i++) {
            if (unique == 0 || strcmp(h->extra[unique - 1], h->extra[i]) != 0) {
                memmove(h->extra[unique++], h->extra[i], sizeof(*h->extra));
            }
        }
        h->vcount = count + unique;
    }
    for (size_t d = 0; d < dep_count; d++) {
        if (!resource_position(h, deps[d].parent, &pv[d])) {
            (void) extra_position(h, deps[d].parent, &pv[d]);
        }
        if (!resource_position(h, deps[d].child, &cv[d])) {
            (void) extra_position(h, deps[d].child, &cv[d]);
        }
    }
    if (csr(h->vcount, pv, cv, dep_count, &h->down_start, &h->down) < 0 ||
        csr(h->vcount, cv, pv, dep_count, &h->up_start, &h->up) < 0) {
        goto fail;
    }
    /* Both directions in one list, in dependency order: dependency d is a neighbour of
     * its parent (the child) and of its child (the parent). */
    ends = calloc(2 * dep_count + 1, sizeof(*ends));
    others = calloc(2 * dep_count + 1, sizeof(*others));
    if (!ends || !others) {
        goto fail;
    }
    for (size_t d = 0; d < dep_count; d++) {
        ends[2 * d] = pv[d];
        others[2 * d] = cv[d];
        ends[2 * d + 1] = cv[d];
        others[2 * d + 1] = pv[d];
    }
    if (csr(h->vcount, ends, others, 2 * dep_count, &h->nbr_start, &h->nbr) < 0) {
        goto fail;
    }
    /* Components by union-find, numbered in the order of their first vertex. */
    uf = calloc(h->vcount ? h->vcount : 1, sizeof(*uf));
    h->comp = calloc(h->vcount ? h->vcount : 1, sizeof(*h->comp));
    if (!uf || !h->comp) {
        goto fail;
    }
    for (size_t v = 0; v < h->vcount; v++) {
        uf[v] = v;
    }
    for (size_t d = 0; d < dep_count; d++) {
        unite(uf, pv[d], cv[d]);
    }
    /* A tag the view holds twice (possible in a hand-made view, never in the daemon's)
     * is one vertex by tag: its other positions join that vertex's hierarchy. */
    for (size_t i = 1; h->order && i < count; i++) {
        if (strcmp(resources[h->order[i - 1]]->tag, resources[h->order[i]]->tag) == 0) {
            unite(uf, h->order[i - 1], h->order[i]);
        }
    }
    for (size_t v = 0; v < h->vcount; v++) {
        size_t root = find_root(uf, v);
        h->comp[v] = root == v ? h->comp_count++ : h->comp[root];
    }
    /* Each vertex's rank among its component's vertices, and each component's size. */
    h->rank = calloc(h->vcount ? h->vcount : 1, sizeof(*h->rank));
    h->comp_size = calloc(h->comp_count ? h->comp_count : 1, sizeof(*h->comp_size));
    if (!h->rank || !h->comp_size) {
        goto fail;
    }
    for (size_t v = 0; v < h->vcount; v++) {
        h->rank[v] = h->comp_size[h->comp[v]]++;
    }
    /* A vertex's root is never after it (the smaller one wins each union), so its
     * component number is known when the vertex is reached. */
    h->member_start = calloc(h->comp_count + 2, sizeof(*h->member_start));
    h->members = calloc(count ? count : 1, sizeof(*h->members));
    if (!h->member_start || !h->members) {
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        h->member_start[h->comp[i] + 2]++;
    }
    for (size_t c = 2; c < h->comp_count + 2; c++) {
        h->member_start[c] += h->member_start[c - 1];
    }
    for (size_t i = 0; i < count; i++) {
        h->members[h->member_start[h->comp[i] + 1]++] = i;
    }
    free(pv);
    free(cv);
    free(uf);
    free(ends);
    free(others);
    h->built = true;
    return 0;
fail:
    free(pv);
    free(cv);
    free(uf);
    free(ends);
    free(others);
    lk_hier_done(h);
    return -ENOMEM;
}

const char *lk_hier_tag(const struct lk_hier *h, size_t v)
{
    return v < h->count ? h->resources[v]->tag : h->extra[v - h->count];
}
