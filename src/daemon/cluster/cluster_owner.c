/* The cluster coordinator, ownership half: a thin shell around placement (src/lib/
 * placement.c), which decides. It keeps the ownership record of every hierarchy in
 * memory (owners.h: loaded from the store at start, replaced by greater records from the
 * peers),
 * builds placement's view of one hierarchy from the membership (struct lk_cluster) and
 * the node, feeds it one cluster event at a time (reconciliation after anything changed,
 * an operator's or a peer's request, lkstop) and hands the plan to the executor
 * (lk_executor_place), the only writer of records (owners.h) and starter of the fence
 * hook; then it sends the plan's messages to the peers and returns its verdict.
 *
 * It never writes the store, reads no clock but to fill the view (the loop's monotonic
 * time and the wall clock, as numbers), and decides nothing itself beyond validating
 * peers' requests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cluster_internal.h"
#include "eventlog.h"
#include "executor.h"
#include "placement.h"

/* ---------------------------------------------------------------- hierarchies */

static bool in_list(char (*tags)[LK_TAG_MAX + 1], size_t count, const char *tag)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(tags[i], tag) == 0) {
            return true;
        }
    }
    return false;
}

/* lk_cluster_hierarchy, and (ret_verts not NULL) each tag's vertex in the node's index
 * (*ret_verts NULL when the index does not know tag: then the tag is alone). */
static size_t hierarchy_of(struct lk_node *node, const char *tag, char (**ret_tags)[LK_TAG_MAX + 1],
                           size_t **ret_verts)
{
    /* Breadth-first from tag over the index's neighbour lists, which keep the order of
     * the dependency list: the tags come in the order a walk over that list finds them
     * (placement's view lists them so). Tags that dependencies name but the node does
     * not hold are part of it too, as they always were. */
    const struct lk_hier *h = lk_node_hier(node);
    size_t start;
    bool known = h && lk_hier_vertex(h, tag, &start);
    /* Sized by the hierarchy, and marked by rank within it: a lone resource costs
     * nothing more than its own name. */
    size_t cap = known ? h->comp_size[h->comp[start]] : 1;
    char(*tags)[LK_TAG_MAX + 1] = calloc(cap, sizeof(*tags));
    size_t *queue = known ? calloc(cap, sizeof(*queue)) : NULL;
    bool *seen = known ? calloc(cap, sizeof(*seen)) : NULL;
    if (!tags || (known && (!queue || !seen))) {
        free(tags);
        free(queue);
        free(seen);
        *ret_tags = NULL;
        return 0;
    }
    snprintf(tags[0], sizeof(tags[0]), "%s", tag);
    size_t count = 1;
    if (known) {
        queue[0] = start;
        seen[h->rank[start]] = true;
        for (size_t i = 0; i < count; i++) {
            size_t n = 0;
            const size_t *nbr = lk_hier_neighbours(h, queue[i], &n);
            for (size_t k = 0; k < n; k++) {
                if (seen[h->rank[nbr[k]]]) {
                    continue;
                }
                seen[h->rank[nbr[k]]] = true;
                queue[count] = nbr[k];
                snprintf(tags[count++], sizeof(tags[0]), "%s", lk_hier_tag(h, nbr[k]));
            }
        }
    }
    free(seen);
    if (ret_verts) {
        *ret_verts = queue;
    } else {
        free(queue);
    }
    *ret_tags = tags;
    return count;
}

size_t lk_cluster_hierarchy(struct lk_node *node, const char *tag,
                            char (**ret_tags)[LK_TAG_MAX + 1])
{
    return hierarchy_of(node, tag, ret_tags, NULL);
}

static bool has_parent(const struct lk_node *node, const char *tag)
{
    return lk_node_has_parents(node, tag);
}

/* lk_cluster_hier_priority with each tag's root-ness known (roots[i]), or found. */
static uint32_t hier_priority(const struct lk_node *node, char (*tags)[LK_TAG_MAX + 1],
                              size_t count, const char *peer, const bool *roots)
{
    uint32_t prio = 0;
    const char *first_root = NULL;
    for (size_t i = 0; i < count; i++) {
        uint32_t p = lk_node_priority(node, tags[i], peer);
        if (p == 0) {
            return 0;
        }
        bool root = roots ? roots[i] : !has_parent(node, tags[i]);
        if (root && (!first_root || strcmp(tags[i], first_root) < 0)) {
            first_root = tags[i];
            prio = p;
        }
    }
    return prio ? prio : (count ? lk_node_priority(node, tags[0], peer) : 0);
}

uint32_t lk_cluster_hier_priority(const struct lk_node *node, char (*tags)[LK_TAG_MAX + 1],
                                  size_t count, const char *peer)
{
    return hier_priority(node, tags, count, peer, NULL);
}

/* ---------------------------------------------------------------- records */

struct lk_owner_rec *lk_owner_get(struct lk_cluster *cl, const char *tag)
{
    struct lk_owner_entry *e = lk_owners_find(cl->owners, tag);
    return e ? &e->rec : NULL;
}

json_t *lk_owner_all_json(struct lk_cluster *cl)
{
    json_t *own = json_object();
    const struct lk_owners *o = cl->owners;
    for (size_t i = 0; own && i < o->count; i++) {
        if (lk_node_find(cl->node, o->entries[i].tag)) {
            json_object_set_new(own, o->entries[i].tag, lk_owner_json(&o->entries[i].rec));
        }
    }
    return own;
}

static uint32_t owner_prio(struct lk_cluster *cl, const char *tag, const struct lk_owner_rec *rec)
{
    return rec->owner[0] ? lk_node_priority(cl->node, tag, rec->owner) : 0;
}

bool lk_owner_merge(struct lk_cluster *cl, const char *tag, const struct lk_owner_rec *rec)
{
    const struct lk_owner_entry *e = lk_owners_find(cl->owners, tag);
    if (e &&
        lk_owner_cmp(rec, owner_prio(cl, tag, rec), &e->rec, owner_prio(cl, tag, &e->rec)) <= 0) {
        return false;
    }
    if (rec->owner[0] && (!e || rec->gen > e->rec.gen) && strcmp(rec->owner, cl->node->name) != 0) {
        /* A newer generation naming a peer as owner was chosen while that peer was up: a
         * fence of it done before no longer says its copy is gone. */
        lk_executor_fence_forget(cl->owners, rec->owner);
    }
    struct lk_owner_rec merged = *rec;
    if (e) {
        lk_owner_carry_stop_failed(&merged, &e->rec); /* "remove failed on X" is not lost */
    }
    return lk_executor_save_owner(cl->node, cl->owners, tag, &merged) == 0;
}

/* ---------------------------------------------------------------- the view */

/* Placement's view of one hierarchy and the memory behind it. */
struct pview {
    struct lk_placement_view v;
    char (*names)[LK_TAG_MAX + 1];
    size_t *verts; /* each name's vertex in the node's index; NULL: a tag it does not know */
    bool *roots;   /* whether each name has no parent */
    struct lk_ptag *tags;
    struct lk_ppeer *peers;
    struct lk_ppeer_state *states; /* peer_count × count */
    bool *stop_failed;             /* peer_count × count */
    const char **alive;            /* every peer's alive set, one after the other */
    struct lk_pfence *fences;
};

static void free_view(struct pview *pv)
{
    free(pv->names);
    free(pv->verts);
    free(pv->roots);
    free(pv->tags);
    free(pv->peers);
    free(pv->states);
    free(pv->stop_failed);
    free(pv->alive);
    free(pv->fences);
    memset(pv, 0, sizeof(*pv));
}

static uint32_t max_failovers(const struct lk_cluster *cl)
{
    return lk_owner_max_failovers(cl->node->config.cluster.max_failovers,
                                  1 + cl->node->config.peer_count);
}

static bool in_service_name(const char *st)
{
    return st && (strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0);
}

/* Fills pv for tag's hierarchy (tag NULL: no hierarchy, only the cluster's facts). */
static bool build_view(struct lk_cluster *cl, const char *tag, struct pview *pv)
{
    struct lk_node *node = cl->node;
    memset(pv, 0, sizeof(*pv));
    size_t count = 0;
    if (tag) {
        count = hierarchy_of(node, tag, &pv->names, &pv->verts);
        if (!pv->names) {
            return false;
        }
    }
    /* The index is current (hierarchy_of asked for it): members by vertex, not by name. */
    const struct lk_hier *hx = pv->verts ? lk_node_hier_fresh(node) : NULL;
    pv->roots = calloc(count ? count : 1, sizeof(*pv->roots));
    if (!pv->roots) {
        free_view(pv);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        size_t np = 1;
        if (hx) {
            (void) lk_hier_parents(hx, pv->verts[i], &np);
        }
        pv->roots[i] = hx ? np == 0 : !has_parent(node, pv->names[i]);
    }
    size_t alive_total = 0;
    for (size_t i = 0; i < cl->peer_count; i++) {
        alive_total += json_array_size(cl->peers[i].alive_set);
    }
    pv->tags = calloc(count ? count : 1, sizeof(*pv->tags));
    pv->peers = calloc(cl->peer_count ? cl->peer_count : 1, sizeof(*pv->peers));
    size_t cells = cl->peer_count * count;
    pv->states = calloc(cells ? cells : 1, sizeof(*pv->states));
    pv->stop_failed = calloc(cells ? cells : 1, sizeof(*pv->stop_failed));
    pv->alive = calloc(alive_total ? alive_total : 1, sizeof(*pv->alive));
    pv->fences = calloc(cl->owners->fence_count + cl->peer_count + 1, sizeof(*pv->fences));
    if (!pv->tags || !pv->peers || !pv->states || !pv->stop_failed || !pv->alive || !pv->fences) {
        free_view(pv);
        return false;
    }
    struct lk_placement_view *v = &pv->v;
    const struct lk_cluster_settings *s = &node->config.cluster;
    v->node = node->name;
    v->settled = cl->settled;
    v->holding = cl->holding;
    v->orphan_check = cl->orphan_check;
    v->quorate = cl->quorate;
    v->quorum_none = lk_cluster_quorum_mode_none(cl);
    v->quorum_loss_osu = s->quorum_loss_action == LK_QUORUM_LOSS_OSU;
    v->fence_script = s->fence_script[0] != '\0';
    v->max_failovers = max_failovers(cl);
    v->failover_window_s = s->failover_window_s;
    v->dead_ms = lk_cluster_dead_ms(cl);
    v->now_ms = lk_now_ms();
    v->mono_ms = uv_now(node->loop);
    v->started_ms = cl->started_at;

    struct lk_phier *h = &v->hier;
    h->tags = pv->tags;
    h->count = count;
    h->priority = count ? hier_priority(node, pv->names, count, node->name, pv->roots) : 0;
    const struct lk_owner_rec *best = NULL;
    uint32_t best_prio = 0;
    const char *root = NULL;
    for (size_t i = 0; i < count; i++) {
        struct lk_ptag *t = &pv->tags[i];
        t->tag = pv->names[i];
        t->root = pv->roots[i];
        const struct lk_resource *res =
                hx ? (pv->verts[i] < hx->count ? node->resources[pv->verts[i]] : NULL)
                   : lk_node_find(node, t->tag);
        if (!res) {
            continue;
        }
        t->exists = true;
        t->state = res->state;
        t->busy = res->pending != LK_PENDING_NONE;
        t->pending = res->pending;
        t->reason = res->reason;
        t->stop_failed = res->stop_failed;       /* "remove failed: may still be running" */
        t->unable = res->unable;                 /* not installed here */
        t->not_configured = res->not_configured; /* fails over nowhere */
        t->clustered = lk_cluster_is_clustered(node, res->tag);
        if (t->root && (!root || strcmp(res->tag, root) < 0)) {
            root = res->tag;
            h->has_root = true;
            h->switchback = res->settings.switchback;
        }
        const struct lk_owner_entry *e = lk_owners_find(cl->owners, res->tag);
        if (e) {
            uint32_t p = owner_prio(cl, res->tag, &e->rec);
            if (!best || lk_owner_cmp(&e->rec, p, best, best_prio) > 0) {
                best = &e->rec;
                best_prio = p;
                h->acted = e->acted;
            }
            h->held_gen = e->held_gen > h->held_gen ? e->held_gen : h->held_gen;
        }
    }
    if (best) {
        h->rec = *best;
        h->has_rec = true;
    }
    for (size_t i = 0; i < cl->owners->switch_count && count; i++) {
        if (in_list(pv->names, count, cl->owners->switches[i].tag)) {
            h->switch_tag = cl->owners->switches[i].tag;
            h->switch_to = cl->owners->switches[i].to;
            break;
        }
    }
    for (size_t i = 0; i < cl->owners->removing_count && count; i++) {
        if (in_list(pv->names, count, cl->owners->removing[i])) {
            h->removing_tag = cl->owners->removing[i];
            break;
        }
    }

    size_t a = 0;
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        struct lk_ppeer *q = &pv->peers[i];
        q->name = p->name;
        q->configured = p->configured;
        q->alive = p->alive;
        q->witness = p->witness;
        q->synced = p->synced;
        q->has_states = p->states != NULL;
        q->has_alive_set = p->alive_set != NULL;
        /* Dead since it was last known alive, here or by a peer: it keeps quorum through
         * such a peer until that one loses it (the self-fencing window counts from then). */
        q->dead_since_ms = !p->alive && p->named_at > p->dead_since ? p->named_at : p->dead_since;
        q->alive_since_ms = p->alive_since;
        q->unseen = !p->seen;
        q->guarded = p->guarded;
        q->priority = count ? hier_priority(node, pv->names, count, p->name, pv->roots) : 0;
        /* Its last report (or, dead, the one before its death): not installed there, or not
         * configured (the 5th and 6th elements, issue 13). */
        const json_t *reported = p->states ? p->states : p->lost_states;
        for (size_t t = 0; reported && t < count; t++) {
            json_t *js = json_object_get(reported, pv->names[t]);
            q->unable |= json_is_true(json_array_get(js, 4));
            q->not_configured |= json_is_true(json_array_get(js, 5));
        }
        for (size_t t = 0; !p->alive && p->lost_states && t < count; t++) {
            json_t *js = json_object_get(p->lost_states, pv->names[t]);
            const char *pe = json_string_value(json_array_get(js, 1));
            q->held_when_lost |= in_service_name(json_string_value(json_array_get(js, 0))) ||
                                 (pe && strcmp(pe, lk_pending_name(LK_PENDING_NONE)) != 0);
        }
        q->alive_set = &pv->alive[a];
        size_t k;
        json_t *n;
        json_array_foreach(p->alive_set, k, n)
        {
            if (json_is_string(n)) {
                pv->alive[a++] = json_string_value(n);
                q->alive_count++;
            }
        }
        if (json_array_size(p->stop_failed) > 0) {
            bool *sf = &pv->stop_failed[i * count];
            q->stop_failed = sf;
            json_t *t;
            json_array_foreach(p->stop_failed, k, t)
            {
                for (size_t x = 0; x < count; x++) {
                    sf[x] |= strcmp(pv->names[x], json_string_value(t)) == 0;
                }
            }
        }
        if (p->states) {
            struct lk_ppeer_state *st = &pv->states[i * count];
            q->states = st;
            for (size_t t = 0; t < count; t++) {
                json_t *js = json_object_get(p->states, pv->names[t]);
                const char *sn = json_string_value(json_array_get(js, 0));
                const char *pe = json_string_value(json_array_get(js, 1));
                st[t].known = js != NULL;
                st[t].in_service = in_service_name(sn);
                st[t].busy = pe && strcmp(pe, lk_pending_name(LK_PENDING_NONE)) != 0;
            }
        }
    }
    v->peers = pv->peers;
    v->peer_count = cl->peer_count;
    for (size_t i = 0; i < cl->owners->fence_count; i++) {
        pv->fences[i] = (struct lk_pfence){
                .node = cl->owners->fences[i].node,
                .running = cl->owners->fences[i].running,
                .ok = cl->owners->fences[i].ok,
                .failed_at_ms = cl->owners->fences[i].failed_at,
        };
    }
    size_t fence_count = cl->owners->fence_count;
    for (size_t i = 0; i < cl->peer_count; i++) {
        /* Its guard took this hierarchy down when its lkd died (cluster.c, on_fenced): as
         * good as a fence hook that succeeded, for this hierarchy only. Listed after the
         * fence runs, so it is the entry placement finds last. */
        const struct peer *p = &cl->peers[i];
        bool named = false;
        size_t k;
        json_t *t;
        json_array_foreach(p->fenced_itself && !p->alive ? p->fenced_tags : NULL, k, t)
        {
            named |= json_is_string(t) && in_list(pv->names, count, json_string_value(t));
        }
        if (named) {
            pv->fences[fence_count++] = (struct lk_pfence){.node = p->name, .ok = true};
        }
    }
    v->fences = pv->fences;
    v->fence_count = fence_count;
    return true;
}

/* Decides ev about pv's hierarchy and carries the plan out; the verdict (LOCAL when the
 * plan has none), err filled when REFUSED. */
static enum lk_pverdict decide(struct lk_cluster *cl, struct pview *pv, const struct lk_pevent *ev,
                               char *err, size_t err_size)
{
    LK_CLEANUP_PPLAN struct lk_pplan plan = {0};
    if (lk_placement_decide(&pv->v, ev, &plan) < 0) {
        snprintf(err, err_size, "out of memory");
        return LK_PVERDICT_REFUSED;
    }
    /* This node's acts first (the executor), then the peers' and the verdict. */
    int r = lk_executor_place(cl->node, cl->owners, ev, &plan, err, err_size);
    if (r == -EIO) {
        return LK_PVERDICT_REFUSED;
    }
    enum lk_pverdict verdict = LK_PVERDICT_LOCAL;
    bool failed = r < 0; /* a send or a switchover entry failed: the request is refused */
    for (size_t i = 0; i < plan.count; i++) {
        const struct lk_pact *act = &plan.acts[i];
        switch (act->type) {
        case LK_PACT_SEND_SWITCH:
        case LK_PACT_SEND_REMOVE: {
            json_t *msg = act->type == LK_PACT_SEND_SWITCH
                                  ? json_pack("{s:s,s:s,s:s}", "t", "switch", "tag", act->tag, "to",
                                              act->to)
                                  : json_pack("{s:s,s:s,s:b}", "t", "remove", "tag", act->tag,
                                              "whole", act->whole);
            if (lk_cluster_send(cl, act->node, msg) < 0) {
                snprintf(err, err_size, "%s", act->text);
                failed = true;
            }
            break;
        }
        case LK_PACT_WAIT:
            cl->timed_wait = true;
            break;
        case LK_PACT_VERDICT:
            verdict = act->verdict;
            if (verdict == LK_PVERDICT_REFUSED) {
                snprintf(err, err_size, "%s", act->text);
            }
            break;
        default:
            break;
        }
    }
    return failed ? LK_PVERDICT_REFUSED : verdict;
}

/* Decides ev about tag's hierarchy. */
static enum lk_pverdict decide_tag(struct lk_cluster *cl, const char *tag,
                                   const struct lk_pevent *ev, char *err, size_t err_size)
{
    struct pview pv;
    if (!build_view(cl, tag, &pv)) {
        snprintf(err, err_size, "out of memory");
        return LK_PVERDICT_REFUSED;
    }
    enum lk_pverdict v = decide(cl, &pv, ev, err, err_size);
    free_view(&pv);
    return v;
}

void lk_owner_node_alive(struct lk_cluster *cl, const char *peer)
{
    lk_executor_fence_forget(cl->owners, peer);
}

/* ---------------------------------------------------------------- events */

static int tag_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Decides ev once for each hierarchy, with the view built from its first tag in the
 * node's order; the other members are skipped (their views hold the same hierarchy,
 * and a decision made for it already holds for them). */
static void each_hierarchy(struct lk_cluster *cl, const struct lk_pevent *ev)
{
    struct lk_node *node = cl->node;
    size_t n = node->count;
    bool *done = calloc(n ? n : 1, sizeof(*done));
    char(*tags)[LK_TAG_MAX + 1] = calloc(n ? n : 1, sizeof(*tags));
    if (!done || !tags) {
        free(done);
        free(tags);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(tags[i], sizeof(tags[i]), "%s", node->resources[i]->tag);
    }
    for (size_t i = 0; i < n; i++) {
        if (done[i] || !lk_node_find(node, tags[i])) {
            continue;
        }
        struct pview pv;
        if (!build_view(cl, tags[i], &pv)) {
            continue;
        }
        /* tags is sorted (a copy of the node's tags): each member is found by bisection. */
        for (size_t t = 0; t < pv.v.hier.count; t++) {
            char(*hit)[LK_TAG_MAX + 1] = bsearch(pv.names[t], tags, n, sizeof(*tags), tag_cmp);
            if (hit) {
                done[hit - tags] = true;
            }
        }
        char err[LK_REASON_MAX];
        (void) decide(cl, &pv, ev, err, sizeof(err));
        free_view(&pv);
    }
    free(tags);
    free(done);
}

void lk_cluster_on_defined(void *userdata, const char *tag)
{
    (void) tag;
    struct lk_cluster *cl = userdata;
    if (cl) {
        cl->live_valid = false; /* an extend, a dependency or a resource came or went */
    }
}

/* The components of index h that placement may reconcile (cl->live), found again when the
 * index was rebuilt, a record was added (records are never dropped) or a definition
 * changed since: O(n log n) then, nothing otherwise. False when out of memory. */
static bool find_live(struct lk_cluster *cl, const struct lk_hier *h)
{
    if (cl->live_valid && cl->live_serial == h->serial && cl->live_records == cl->owners->count) {
        return true;
    }
    struct lk_node *node = cl->node;
    bool *mark = calloc(h->comp_count ? h->comp_count : 1, sizeof(*mark));
    size_t *live = calloc(h->comp_count ? h->comp_count : 1, sizeof(*live));
    if (!mark || !live) {
        free(mark);
        free(live);
        return false;
    }
    for (size_t i = 0; i < h->count; i++) {
        const char *t = h->resources[i]->tag;
        mark[h->comp[i]] |= lk_cluster_is_clustered(node, t) || lk_owners_find(cl->owners, t);
    }
    size_t n = 0;
    for (size_t c = 0; c < h->comp_count; c++) {
        if (mark[c]) {
            live[n++] = c;
        }
    }
    free(mark);
    free(cl->live);
    cl->live = live;
    cl->live_count = n;
    cl->live_serial = h->serial;
    cl->live_records = cl->owners->count;
    cl->live_valid = true;
    return true;
}

/* Reconciles every hierarchy placement may act on, as each_hierarchy does, without
 * building a view for the others (placement's reconcile() returns at once for a
 * hierarchy with no member extended to another node and no record): a lone node's
 * hierarchy costs nothing at each kick, and a kick costs what the clustered hierarchies
 * cost, not a pass over every resource. The components are numbered in the order of their
 * first member, so they come in each_hierarchy's order, each from its first member.
 * False when the index or the cache cannot be had: then each_hierarchy does it. */
static bool reconcile_live(struct lk_cluster *cl, const struct lk_pevent *ev)
{
    struct lk_node *node = cl->node;
    const struct lk_hier *h = lk_node_hier(node);
    if (!h || !find_live(cl, h)) {
        return false;
    }
    uint64_t serial = h->serial;
    size_t n = cl->live_count;
    size_t *live = malloc((n ? n : 1) * sizeof(*live));
    if (!live) {
        return false;
    }
    memcpy(live, cl->live, n * sizeof(*live));
    for (size_t k = 0; k < n; k++) {
        if (h->serial != serial || !h->built) {
            /* A decision changed the definitions (never seen): the rest at the next kick,
             * over the new index. */
            lk_cluster_kick(cl);
            break;
        }
        char tag[LK_TAG_MAX + 1];
        snprintf(tag, sizeof(tag), "%s", h->resources[h->members[h->member_start[live[k]]]]->tag);
        struct pview pv;
        if (!lk_node_find(node, tag) || !build_view(cl, tag, &pv)) {
            continue;
        }
        char err[LK_REASON_MAX];
        (void) decide(cl, &pv, ev, err, sizeof(err));
        free_view(&pv);
    }
    free(live);
    return true;
}

void lk_owner_reconcile(struct lk_cluster *cl)
{
    struct lk_node *node = cl->node;
    if (node->witness || node->stopping) {
        return;
    }
    struct lk_pevent ev = {.type = LK_PEV_RECONCILE};
    if (!reconcile_live(cl, &ev)) {
        each_hierarchy(cl, &ev);
    }
    cl->orphan_check = false;
}

void lk_owner_startup(struct lk_cluster *cl)
{
    /* The engine asks lk_cluster_owned_elsewhere for every hierarchy: one that another
     * node owns starts as INIT_OSU here (probe; never restored by start-up; a copy found
     * running is removed by the next reconciliation). */
    lk_executor_startup(cl->node);
}

bool lk_cluster_owned_elsewhere(const void *ctx, const char *tag)
{
    struct lk_cluster *cl = (struct lk_cluster *) (uintptr_t) ctx;
    const struct lk_node *node = cl->node;
    struct pview pv;
    if (!lk_cluster_is_clustered(node, tag) || !build_view(cl, tag, &pv)) {
        return false;
    }
    /* Start-up also leaves it out when it may not restore it here yet (no quorum, or
     * quorum none before the other nodes were heard): reconciliation restores it then. */
    bool elsewhere =
            lk_placement_owned_elsewhere(&pv.v) || !lk_placement_startup_may_restore(&pv.v);
    free_view(&pv);
    return elsewhere;
}

bool lk_cluster_has_backup(const void *ctx, const char *tag)
{
    struct lk_cluster *cl = (struct lk_cluster *) (uintptr_t) ctx;
    struct lk_node *node = cl->node;
    struct pview pv;
    if (node->witness || !lk_cluster_is_clustered(node, tag) || !build_view(cl, tag, &pv)) {
        return false;
    }
    bool backup = lk_placement_has_backup(&pv.v);
    free_view(&pv);
    return backup;
}

void lk_owner_leave(struct lk_cluster *cl, bool running)
{
    /* Once per hierarchy: the record "left" written for its first member answers for
     * every other one (placement writes it only while the record is not "left" yet). */
    struct lk_pevent ev = {.type = LK_PEV_LEAVE, .running = running};
    each_hierarchy(cl, &ev);
}

/* ---------------------------------------------------------------- requests */

static const char *arg(const json_t *msg, const char *key)
{
    return json_string_value(json_object_get(msg, key));
}

void lk_owner_on_switch_message(struct lk_cluster *cl, const char *from, const json_t *msg)
{
    const char *tag = arg(msg, "tag"), *to = arg(msg, "to");
    char verr[256];
    if (!tag || !to || !lk_node_find(cl->node, tag) ||
        lk_validate_tag(to, "node name", verr, sizeof(verr)) < 0 ||
        !lk_node_priority(cl->node, tag, from)) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, from, "malformed switch request");
        return;
    }
    struct pview pv;
    if (!build_view(cl, tag, &pv)) {
        return;
    }
    struct lk_pevent ev = {
            .type = LK_PEV_SWITCH_MESSAGE,
            .tag = tag,
            .target = to,
            .target_priority = lk_cluster_hier_priority(cl->node, pv.names, pv.v.hier.count, to),
            .from = from,
    };
    char err[LK_REASON_MAX];
    (void) decide(cl, &pv, &ev, err, sizeof(err));
    free_view(&pv);
}

void lk_owner_on_remove_message(struct lk_cluster *cl, const char *from, const json_t *msg)
{
    const char *tag = arg(msg, "tag");
    json_t *whole = json_object_get(msg, "whole");
    if (!tag || !lk_node_find(cl->node, tag) || !lk_node_priority(cl->node, tag, from) ||
        (whole && !json_is_boolean(whole))) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, from, "malformed remove request");
        return;
    }
    struct lk_pevent ev = {
            .type = LK_PEV_REMOVE_MESSAGE, .tag = tag, .from = from, .whole = json_is_true(whole)};
    char err[LK_REASON_MAX];
    (void) decide_tag(cl, tag, &ev, err, sizeof(err));
}

static enum lk_cluster_verdict to_verdict(enum lk_pverdict v)
{
    return v == LK_PVERDICT_LOCAL     ? LK_CLUSTER_LOCAL
           : v == LK_PVERDICT_HANDLED ? LK_CLUSTER_HANDLED
                                      : LK_CLUSTER_REFUSED;
}

enum lk_cluster_verdict lk_cluster_restore(struct lk_cluster *cl, const char *tag,
                                           const char *target, char *err, size_t err_size)
{
    struct lk_node *node = cl->node;
    const char *me = node->name;
    if (node->witness) {
        snprintf(err, err_size, "this node is a witness: it runs no resources");
        return LK_CLUSTER_REFUSED;
    }
    if (!target) {
        target = me;
    }
    if (!lk_cluster_is_clustered(node, tag)) {
        if (strcmp(target, me) != 0) {
            snprintf(err, err_size, "resource '%s' is not extended to node '%s'", tag, target);
            return LK_CLUSTER_REFUSED;
        }
        return LK_CLUSTER_LOCAL;
    }
    struct pview pv;
    if (!build_view(cl, tag, &pv)) {
        snprintf(err, err_size, "out of memory");
        return LK_CLUSTER_REFUSED;
    }
    struct lk_pevent ev = {
            .type = LK_PEV_RESTORE_REQUESTED,
            .tag = tag,
            .target = target,
            .target_priority = lk_cluster_hier_priority(node, pv.names, pv.v.hier.count, target),
    };
    enum lk_pverdict v = decide(cl, &pv, &ev, err, err_size);
    free_view(&pv);
    return to_verdict(v);
}

enum lk_cluster_verdict lk_cluster_remove(struct lk_cluster *cl, const char *tag, bool whole,
                                          char *err, size_t err_size)
{
    struct lk_node *node = cl->node;
    if (node->witness || !lk_cluster_is_clustered(node, tag)) {
        return LK_CLUSTER_LOCAL;
    }
    struct lk_pevent ev = {.type = LK_PEV_REMOVE_REQUESTED, .tag = tag, .whole = whole};
    return to_verdict(decide_tag(cl, tag, &ev, err, err_size));
}

enum lk_cluster_verdict lk_cluster_setstate(struct lk_cluster *cl, const char *tag, bool in,
                                            char *err, size_t err_size)
{
    struct lk_node *node = cl->node;
    if (node->witness) {
        snprintf(err, err_size, "this node is a witness: it runs no resources");
        return LK_CLUSTER_REFUSED;
    }
    if (!lk_cluster_is_clustered(node, tag)) {
        return LK_CLUSTER_LOCAL;
    }
    struct pview pv;
    if (!build_view(cl, tag, &pv)) {
        snprintf(err, err_size, "out of memory");
        return LK_CLUSTER_REFUSED;
    }
    struct lk_pevent ev = {
            .type = in ? LK_PEV_MARK_IN : LK_PEV_MARK_OUT,
            .tag = tag,
            .target = node->name,
            .target_priority =
                    lk_cluster_hier_priority(node, pv.names, pv.v.hier.count, node->name),
    };
    enum lk_pverdict v = decide(cl, &pv, &ev, err, err_size);
    free_view(&pv);
    if (v == LK_PVERDICT_HANDLED) {
        /* Placement never hands a state set by hand to another node. */
        snprintf(err, err_size, "the cluster would move the hierarchy of '%s'", tag);
        return LK_CLUSTER_REFUSED;
    }
    return to_verdict(v);
}

void lk_cluster_reset_budget(struct lk_cluster *cl, const char *tag)
{
    struct lk_node *node = cl->node;
    if (node->witness || !cl->settled || !lk_cluster_is_clustered(node, tag)) {
        return;
    }
    struct lk_pevent ev = {.type = LK_PEV_RESET, .tag = tag};
    char ignored[LK_REASON_MAX];
    (void) decide_tag(cl, tag, &ev, ignored, sizeof(ignored));
}

int lk_cluster_switch_all(struct lk_cluster *cl, char *err, size_t err_size)
{
    struct lk_node *node = cl->node;
    struct lk_pevent ev = {.type = LK_PEV_SWITCH_ALL};
    /* First the cluster's own facts (no hierarchy): can this node hand anything on? */
    if (decide_tag(cl, NULL, &ev, err, err_size) == LK_PVERDICT_REFUSED) {
        return -EAGAIN;
    }
    for (size_t i = 0; i < node->count; i++) {
        char ignored[LK_REASON_MAX];
        (void) decide_tag(cl, node->resources[i]->tag, &ev, ignored, sizeof(ignored));
    }
    return 0;
}

/* ---------------------------------------------------------------- waiting, progress */

/* The state of tag on node n ("" unknown) and whether an action is pending there. */
static const char *state_on(struct lk_cluster *cl, const char *n, const char *tag, bool *busy)
{
    if (strcmp(n, cl->node->name) == 0) {
        const struct lk_resource *r = lk_node_find(cl->node, tag);
        *busy = r && r->pending != LK_PENDING_NONE;
        return r ? lk_state_name(r->state) : "";
    }
    const struct peer *p = NULL;
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (strcmp(cl->peers[i].name, n) == 0) {
            p = &cl->peers[i];
        }
    }
    json_t *s = p && p->alive ? json_object_get(p->states, tag) : NULL;
    const char *pe = json_string_value(json_array_get(s, 1));
    *busy = pe && strcmp(pe, lk_pending_name(LK_PENDING_NONE)) != 0;
    const char *st = json_string_value(json_array_get(s, 0));
    return st ? st : "";
}

uint64_t lk_cluster_generation(struct lk_cluster *cl, const char *tag)
{
    struct pview pv;
    if (!build_view(cl, tag, &pv)) {
        return 0;
    }
    uint64_t gen = pv.v.hier.has_rec ? pv.v.hier.rec.gen : 0;
    free_view(&pv);
    return gen;
}

int lk_cluster_wait_state(struct lk_cluster *cl, const char *tag, const char *want_node,
                          uint64_t start_gen, char *msg, size_t msg_size)
{
    struct lk_node *node = cl->node;
    if (!lk_node_find(node, tag)) {
        snprintf(msg, msg_size, "resource '%s' is gone", tag);
        return -1;
    }
    struct pview pv;
    if (!build_view(cl, tag, &pv)) {
        return 0;
    }
    const struct lk_phier *h = &pv.v.hier;
    int result = 0;
    if (want_node) {
        bool all = true, any_busy = false;
        for (size_t i = 0; i < h->count; i++) {
            bool busy;
            const char *st = state_on(cl, want_node, h->tags[i].tag, &busy);
            all &= strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0;
            any_busy |= busy;
        }
        if (all && !any_busy) {
            result = 1;
        } else if (!lk_cluster_peer_alive(cl, want_node)) {
            snprintf(msg, msg_size, "node '%s' is no longer ALIVE", want_node);
            result = -1;
        } else if (h->has_rec && !h->rec.active) {
            /* Stopped: a remove failed during the switchover, or nobody could restore. */
            snprintf(msg, msg_size, "%s", h->rec.reason[0] ? h->rec.reason : "out of service");
            result = -1;
        } else if (h->has_rec && h->rec.gen > start_gen && strcmp(h->rec.owner, want_node) != 0) {
            /* It went on to another node: a failed restore there, or a switchback. */
            snprintf(msg, msg_size, "the cluster moved it to %s: %s",
                     h->rec.owner[0] ? h->rec.owner : "nobody", h->rec.reason);
            result = -1;
        }
    } else {
        bool here = false, busy = false, failed = false;
        for (size_t i = 0; i < h->count; i++) {
            const struct lk_ptag *t = &h->tags[i];
            here |= t->exists && lk_state_in_service(t->state);
            busy |= t->exists && t->busy;
            failed |= t->exists && t->state == LK_STATE_OSF;
        }
        bool any_in = here || busy || lk_placement_holder(&pv.v);
        result = any_in ? 0 : 1;
        if (!any_in && failed) {
            snprintf(msg, msg_size, "remove failed");
            result = -1;
        }
    }
    free_view(&pv);
    return result;
}

void lk_cluster_progress(struct lk_cluster *cl, const char *tag, json_t *prev,
                         void (*emit)(const char *line, void *userdata), void *userdata)
{
    struct lk_node *node = cl->node;
    struct pview pv;
    if (!json_is_object(prev) || !build_view(cl, tag, &pv)) {
        return;
    }
    const struct lk_phier *h = &pv.v.hier;
    for (size_t n = 0; n <= cl->peer_count; n++) {
        const char *name = n == 0 ? node->name : cl->peers[n - 1].name;
        if (n > 0 && (cl->peers[n - 1].witness || !cl->peers[n - 1].alive)) {
            continue;
        }
        for (size_t i = 0; i < h->count; i++) {
            bool busy;
            const char *st = state_on(cl, name, h->tags[i].tag, &busy);
            if (!st[0]) {
                continue;
            }
            char key[2 * LK_TAG_MAX + 4], now[64];
            snprintf(key, sizeof(key), "%s/%s", name, h->tags[i].tag);
            snprintf(now, sizeof(now), "%s%s", st, busy ? " (action running)" : "");
            const char *was = json_string_value(json_object_get(prev, key));
            if (was && strcmp(was, now) == 0) {
                continue;
            }
            if (was) {
                char line[256];
                snprintf(line, sizeof(line), "%s: %s %s", name, h->tags[i].tag, now);
                emit(line, userdata);
            }
            json_object_set_new(prev, key, json_string(now));
        }
    }
    free_view(&pv);
}

bool lk_cluster_in_service_somewhere(struct lk_cluster *cl, const char *tag, char *who,
                                     size_t who_size)
{
    struct lk_node *node = cl->node;
    const struct lk_resource *r = lk_node_find(node, tag);
    if (r && lk_state_in_service(r->state)) {
        snprintf(who, who_size, "%s", node->name);
        return true;
    }
    for (size_t i = 0; cl && i < cl->peer_count; i++) {
        const char *st = lk_cluster_remote_state(cl, cl->peers[i].name, tag);
        if (strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0) {
            snprintf(who, who_size, "%s", cl->peers[i].name);
            return true;
        }
    }
    return false;
}

bool lk_cluster_switched_out(struct lk_cluster *cl)
{
    struct lk_node *node = cl->node;
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *r = node->resources[i];
        if (r->pending != LK_PENDING_NONE || lk_state_in_service(r->state)) {
            return false;
        }
    }
    return cl->owners->switch_count == 0;
}
