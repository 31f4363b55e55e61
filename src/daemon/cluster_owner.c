/* The cluster coordinator, ownership half: the ownership record of every hierarchy
 * (ownership.h), and what this node does about each hierarchy given the record, the
 * membership and quorum. One rule at a time, re-run after anything changes
 * (lk_owner_reconcile):
 *
 *   someone else owns it          → never keep it here: remove our copy (a newer
 *                                   generation elsewhere, a stale copy after a freeze or
 *                                   a healed partition); if its owner is dead, the best
 *                                   live node takes it over (quorum, fencing, the
 *                                   failover limit), which is a new generation
 *   we own it and it should run   → restore it here (children first); if it failed here
 *                                   after we tried, hand it to the next node in priority
 *                                   order; without quorum (quorum-loss-action osu) take
 *                                   it out until quorum returns
 *   a switchover from here        → once removed here, the record names the target
 *   switchback automatic          → a better node is back: switch over to it
 *
 * Every record change is committed to the store before anything acts on it and then
 * spreads with the state messages; the greatest record wins everywhere (ownership.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cluster_internal.h"
#include "eventlog.h"
#include "executor.h"
#include "runner.h"

#define FENCE_TIMEOUT_USEC (120ULL * 1000 * 1000)
#define FENCE_RETRY_MS     5000

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

size_t lk_cluster_hierarchy(const struct lk_node *node, const char *tag,
                            char (**ret_tags)[LK_TAG_MAX + 1])
{
    size_t cap = 8, count = 0;
    char(*tags)[LK_TAG_MAX + 1] = calloc(cap, sizeof(*tags));
    if (!tags) {
        *ret_tags = NULL;
        return 0;
    }
    snprintf(tags[count++], sizeof(tags[0]), "%s", tag);
    for (size_t i = 0; i < count; i++) {
        for (size_t d = 0; d < node->dep_count; d++) {
            const char *other = NULL;
            if (strcmp(node->deps[d].parent, tags[i]) == 0) {
                other = node->deps[d].child;
            } else if (strcmp(node->deps[d].child, tags[i]) == 0) {
                other = node->deps[d].parent;
            }
            if (!other || in_list(tags, count, other)) {
                continue;
            }
            if (count == cap) {
                char(*bigger)[LK_TAG_MAX + 1] = realloc(tags, 2 * cap * sizeof(*tags));
                if (!bigger) {
                    break;
                }
                tags = bigger;
                cap *= 2;
            }
            snprintf(tags[count++], sizeof(tags[0]), "%s", other);
        }
    }
    *ret_tags = tags;
    return count;
}

static bool has_parent(const struct lk_node *node, const char *tag)
{
    for (size_t d = 0; d < node->dep_count; d++) {
        if (strcmp(node->deps[d].child, tag) == 0) {
            return true;
        }
    }
    return false;
}

uint32_t lk_cluster_hier_priority(const struct lk_node *node, char (*tags)[LK_TAG_MAX + 1],
                                  size_t count, const char *peer)
{
    uint32_t prio = 0;
    const char *first_root = NULL;
    for (size_t i = 0; i < count; i++) {
        uint32_t p = lk_node_priority(node, tags[i], peer);
        if (p == 0) {
            return 0;
        }
        if (!has_parent(node, tags[i]) && (!first_root || strcmp(tags[i], first_root) < 0)) {
            first_root = tags[i];
            prio = p;
        }
    }
    return prio ? prio : (count ? lk_node_priority(node, tags[0], peer) : 0);
}

/* What this node knows of one hierarchy. */
struct hier {
    char (*tags)[LK_TAG_MAX + 1];
    size_t count;
    bool in_service; /* any of it ISP/ISU here */
    bool all_in;     /* all of it */
    bool busy;       /* an action pending here */
    bool failed;     /* any of it OSF here */
    bool clustered;  /* extended to another node */
    struct lk_owner_rec rec;
    bool has_rec;
    bool acted; /* we restored it (or held it) under this record */
};

/* ---------------------------------------------------------------- records */

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct owner_entry *) a)->tag, ((const struct owner_entry *) b)->tag);
}

static struct owner_entry *find_entry(struct lk_cluster *cl, const char *tag)
{
    if (cl->owner_count == 0) {
        return NULL; /* bsearch wants a non-null array */
    }
    struct owner_entry key;
    snprintf(key.tag, sizeof(key.tag), "%s", tag);
    return bsearch(&key, cl->owners, cl->owner_count, sizeof(*cl->owners), cmp_entry);
}

struct lk_owner_rec *lk_owner_get(struct lk_cluster *cl, const char *tag)
{
    struct owner_entry *e = find_entry(cl, tag);
    return e ? &e->rec : NULL;
}

static struct owner_entry *add_entry(struct lk_cluster *cl, const char *tag)
{
    struct owner_entry *e = find_entry(cl, tag);
    if (e) {
        return e;
    }
    struct owner_entry *bigger = realloc(cl->owners, (cl->owner_count + 1) * sizeof(*bigger));
    if (!bigger) {
        return NULL;
    }
    cl->owners = bigger;
    e = &cl->owners[cl->owner_count++];
    memset(e, 0, sizeof(*e));
    snprintf(e->tag, sizeof(e->tag), "%s", tag);
    qsort(cl->owners, cl->owner_count, sizeof(*cl->owners), cmp_entry);
    return find_entry(cl, tag);
}

static void load_one(const char *tag, const char *json_text, void *userdata)
{
    struct lk_cluster *cl = userdata;
    json_t *json = json_loads(json_text, 0, NULL);
    struct lk_owner_rec rec;
    if (json && lk_owner_parse(json, &rec) == 0) {
        struct owner_entry *e = add_entry(cl, tag);
        if (e) {
            e->rec = rec;
        }
    } else {
        fprintf(stderr, "lkd: ignoring a malformed ownership record of '%s'\n", tag);
    }
    json_decref(json);
}

int lk_owner_load(struct lk_cluster *cl)
{
    return lk_store_each_owner(cl->node->store, load_one, cl);
}

json_t *lk_owner_all_json(struct lk_cluster *cl)
{
    json_t *own = json_object();
    for (size_t i = 0; own && i < cl->owner_count; i++) {
        if (lk_node_find(cl->node, cl->owners[i].tag)) {
            json_object_set_new(own, cl->owners[i].tag, lk_owner_json(&cl->owners[i].rec));
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
    struct owner_entry *e = find_entry(cl, tag);
    if (e &&
        lk_owner_cmp(rec, owner_prio(cl, tag, rec), &e->rec, owner_prio(cl, tag, &e->rec)) <= 0) {
        return false;
    }
    json_t *json = lk_owner_json(rec);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    int r = text ? lk_store_save_owner(cl->node->store, tag, text) : -ENOMEM;
    free(text);
    if (r < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_STORE_FAILED, lk_store_errmsg(cl->node->store));
        return false;
    }
    e = add_entry(cl, tag);
    if (!e) {
        return false;
    }
    e->rec = *rec;
    e->acted = false;
    return true;
}

/* Writes rec for the whole hierarchy, in one transaction, before anything acts on it. */
static bool write_rec(struct lk_cluster *cl, struct hier *h, const struct lk_owner_rec *rec)
{
    struct lk_store *store = cl->node->store;
    json_t *json = lk_owner_json(rec);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    int r = text ? lk_store_begin(store) : -ENOMEM;
    for (size_t i = 0; r == 0 && i < h->count; i++) {
        r = lk_store_save_owner(store, h->tags[i], text);
    }
    if (r == 0) {
        r = lk_store_commit(store);
    } else if (text) {
        lk_store_rollback(store);
    }
    free(text);
    if (r < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_STORE_FAILED, lk_store_errmsg(store));
        return false;
    }
    for (size_t i = 0; i < h->count; i++) {
        struct owner_entry *e = add_entry(cl, h->tags[i]);
        if (e) {
            e->rec = *rec;
            e->acted = false;
        }
    }
    h->rec = *rec;
    h->has_rec = true;
    h->acted = false;
    cl->state_dirty = true;
    lk_cluster_kick(cl);
    lk_bus_changed(cl->node->bus, NULL);
    return true;
}

static void mark_acted(struct lk_cluster *cl, struct hier *h)
{
    for (size_t i = 0; i < h->count; i++) {
        struct owner_entry *e = find_entry(cl, h->tags[i]);
        if (e) {
            e->acted = true;
            e->held_gen = e->rec.gen;
        }
    }
    h->acted = true;
}

/* Fills h for tag's hierarchy. */
static bool load_hier(struct lk_cluster *cl, const char *tag, struct hier *h)
{
    memset(h, 0, sizeof(*h));
    h->count = lk_cluster_hierarchy(cl->node, tag, &h->tags);
    if (!h->tags) {
        return false;
    }
    bool all_in = true;
    const struct lk_owner_rec *best = NULL;
    uint32_t best_prio = 0;
    for (size_t i = 0; i < h->count; i++) {
        const struct lk_resource *res = lk_node_find(cl->node, h->tags[i]);
        if (!res) {
            continue;
        }
        bool in = lk_state_in_service(res->state);
        h->in_service |= in;
        all_in &= in;
        h->busy |= res->pending != LK_PENDING_NONE;
        h->failed |= res->state == LK_STATE_OSF;
        h->clustered |= lk_cluster_is_clustered(cl->node, res->tag);
        const struct owner_entry *e = find_entry(cl, res->tag);
        if (e) {
            uint32_t p = owner_prio(cl, res->tag, &e->rec);
            if (!best || lk_owner_cmp(&e->rec, p, best, best_prio) > 0) {
                best = &e->rec;
                best_prio = p;
                h->acted = e->acted;
            }
        }
    }
    h->all_in = all_in && h->count > 0;
    if (best) {
        h->rec = *best;
        h->has_rec = true;
    }
    return true;
}

static void free_hier(struct hier *h)
{
    free(h->tags);
    h->tags = NULL;
}

/* ---------------------------------------------------------------- acting here */

static void restore_here(struct lk_cluster *cl, struct hier *h)
{
    mark_acted(cl, h);
    for (size_t i = 0; i < h->count; i++) {
        if (has_parent(cl->node, h->tags[i])) {
            continue;
        }
        struct lk_event ev = {.type = LK_EV_RESTORE_REQUESTED, .tag = h->tags[i]};
        char err[LK_REASON_MAX];
        if (lk_executor_handle(cl->node, &ev, err, sizeof(err)) < 0) {
            fprintf(stderr, "lkd: cannot restore '%s': %s\n", h->tags[i], err);
        }
    }
}

/* The cluster leaves h out of service here as failed: OSF with why as the reason. */
static void fail_here(struct lk_cluster *cl, struct hier *h, const char *why)
{
    for (size_t i = 0; i < h->count; i++) {
        const struct lk_resource *r = lk_node_find(cl->node, h->tags[i]);
        if (!r || r->state == LK_STATE_OSF) {
            continue;
        }
        struct lk_event ev = {.type = LK_EV_CLUSTER_FAILED, .tag = h->tags[i], .detail = why};
        char err[LK_REASON_MAX];
        (void) lk_executor_handle(cl->node, &ev, err, sizeof(err));
    }
}

static void remove_here(struct lk_cluster *cl, struct hier *h)
{
    struct lk_event ev = {
            .type = LK_EV_REMOVE_REQUESTED, .tag = h->tags[0], .whole_hierarchy = true};
    char err[LK_REASON_MAX];
    if (lk_executor_handle(cl->node, &ev, err, sizeof(err)) < 0) {
        fprintf(stderr, "lkd: cannot remove '%s': %s\n", h->tags[0], err);
    }
}

/* ---------------------------------------------------------------- placement */

static bool peer_ready(const struct peer *p)
{
    return p->alive && !p->witness && p->configured && p->synced;
}

/* The node h goes to: best live extended node not yet tried; exclude may be NULL. */
static const char *best_target(struct lk_cluster *cl, struct hier *h,
                               const struct lk_owner_rec *rec, const char *exclude)
{
    size_t n = 0;
    struct lk_candidate *c = calloc(cl->peer_count + 1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c[n++] = (struct lk_candidate){
            .name = cl->node->name,
            .priority = lk_cluster_hier_priority(cl->node, h->tags, h->count, cl->node->name),
            .alive = true,
    };
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        c[n++] = (struct lk_candidate){
                .name = p->name,
                .priority = lk_cluster_hier_priority(cl->node, h->tags, h->count, p->name),
                .alive = peer_ready(p),
        };
    }
    const char *best = lk_placement_best(c, n, rec, exclude);
    free(c);
    return best;
}

static uint32_t max_failovers(const struct lk_cluster *cl)
{
    uint32_t m = cl->node->config.cluster.max_failovers;
    if (m == 0) {
        size_t nodes = 1 + cl->node->config.peer_count;
        m = nodes > 1 ? (uint32_t) (nodes - 1) : 1;
    }
    return m;
}

/* Fills next for a failover of h to target; false (and next says why) when the failover
 * limit is reached. */
static bool failover_rec(struct lk_cluster *cl, const struct hier *h, const char *target,
                         const char *why, struct lk_owner_rec *next)
{
    *next = h->rec;
    next->gen++;
    next->seq = 0;
    next->active = true;
    next->left = false;
    int64_t now = lk_now_ms();
    uint64_t window = (uint64_t) cl->node->config.cluster.failover_window_s * 1000;
    size_t recent = lk_owner_failovers_within(next, now, window);
    if (recent >= max_failovers(cl)) {
        next->owner[0] = '\0';
        next->active = false;
        snprintf(next->reason, sizeof(next->reason), "failover limit reached (%zu within %u s)",
                 recent, cl->node->config.cluster.failover_window_s);
        lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_FAILOVER_LIMIT, (unsigned) recent,
                        (unsigned long long) cl->node->config.cluster.failover_window_s);
        return false;
    }
    lk_owner_note_failover(next, now);
    next->failed_over = true;
    snprintf(next->owner, sizeof(next->owner), "%s", target);
    snprintf(next->reason, sizeof(next->reason), "%s", why);
    return true;
}

/* ---------------------------------------------------------------- fencing */

struct fence_ctx {
    struct lk_cluster *cl;
    char node[LK_TAG_MAX + 1];
};

static struct fence_run *fence_entry(struct lk_cluster *cl, const char *node)
{
    for (size_t i = 0; i < cl->fence_count; i++) {
        if (strcmp(cl->fences[i].node, node) == 0) {
            return &cl->fences[i];
        }
    }
    struct fence_run *bigger = realloc(cl->fences, (cl->fence_count + 1) * sizeof(*bigger));
    if (!bigger) {
        return NULL;
    }
    cl->fences = bigger;
    struct fence_run *f = &cl->fences[cl->fence_count++];
    memset(f, 0, sizeof(*f));
    snprintf(f->node, sizeof(f->node), "%s", node);
    return f;
}

static void fence_done(struct lk_run *run, const struct lk_result *result, const char *output,
                       size_t output_len, void *userdata)
{
    (void) run;
    struct fence_ctx *ctx = userdata;
    struct lk_cluster *cl = ctx->cl;
    struct fence_run *f = fence_entry(cl, ctx->node);
    if (f) {
        f->running = false;
        f->ok = lk_result_ok(result);
        if (f->ok) {
            lk_eventlog_msg(cl->node, NULL, LK_MSG_FENCE_OK, ctx->node);
        } else {
            char desc[320];
            lk_result_describe(result, desc, sizeof(desc));
            char *detail = output_len ? strndup(output, output_len) : NULL;
            char msg[1024];
            lk_catalog_format(msg, sizeof(msg), LK_MSG_FENCE_FAILED, ctx->node, desc);
            lk_eventlog_write(cl->node, LK_SEV_ERROR, LK_MSG_FENCE_FAILED, NULL, "lkd", msg,
                              detail);
            free(detail);
            f->failed_at = uv_now(cl->node->loop);
        }
    }
    free(ctx);
    if (!cl->stopping) {
        lk_cluster_kick(cl);
    }
}

/* Whether node is fenced; starts the fence script when it is needed and not running. */
static bool fenced(struct lk_cluster *cl, const char *node)
{
    const char *script = cl->node->config.cluster.fence_script;
    if (!script[0]) {
        return true;
    }
    struct fence_run *f = fence_entry(cl, node);
    if (!f) {
        return false;
    }
    if (f->ok) {
        return true;
    }
    if (f->running || (f->failed_at && uv_now(cl->node->loop) - f->failed_at < FENCE_RETRY_MS)) {
        return false;
    }
    struct fence_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx) {
        return false;
    }
    ctx->cl = cl;
    snprintf(ctx->node, sizeof(ctx->node), "%s", node);
    char env[6][LK_PATH_MAX + 64];
    snprintf(env[0], sizeof(env[0]), "LKROOT=%s", cl->node->root);
    snprintf(env[1], sizeof(env[1]), "LK_NODE=%s", cl->node->name);
    snprintf(env[2], sizeof(env[2]), "LK_FENCE_NODE=%s", node);
    snprintf(env[3], sizeof(env[3]),
             "PATH=%s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
             "/usr/bin:/sbin:/bin",
             cl->node->root);
    snprintf(env[4], sizeof(env[4]), "LANG=C");
    char *envp[] = {env[0], env[1], env[2], env[3], env[4], NULL};
    struct lk_run_spec spec = {
            .path = script,
            .cwd = cl->node->root,
            .env = envp,
            .timeout_usec = FENCE_TIMEOUT_USEC,
    };
    lk_eventlog_msg(cl->node, NULL, LK_MSG_FENCE_STARTED, node, script);
    f->running = true;
    if (lk_run_start(cl->node->loop, &spec, fence_done, ctx, NULL) < 0) {
        f->running = false;
        f->failed_at = uv_now(cl->node->loop);
        free(ctx);
    }
    return false;
}

void lk_owner_node_alive(struct lk_cluster *cl, const char *peer)
{
    for (size_t i = 0; i < cl->fence_count; i++) {
        if (strcmp(cl->fences[i].node, peer) == 0 && !cl->fences[i].running) {
            cl->fences[i].ok = false;
            cl->fences[i].failed_at = 0;
        }
    }
}

/* ---------------------------------------------------------------- switchover state */

static struct switch_entry *find_switch(struct lk_cluster *cl, const struct hier *h)
{
    for (size_t i = 0; i < cl->switch_count; i++) {
        if (in_list(h->tags, h->count, cl->switches[i].tag)) {
            return &cl->switches[i];
        }
    }
    return NULL;
}

static void drop_switch(struct lk_cluster *cl, struct switch_entry *s)
{
    size_t i = (size_t) (s - cl->switches);
    memmove(s, s + 1, (cl->switch_count - i - 1) * sizeof(*s));
    cl->switch_count--;
}

static bool start_switch(struct lk_cluster *cl, struct hier *h, const char *to)
{
    struct switch_entry *s = find_switch(cl, h);
    if (!s) {
        struct switch_entry *bigger =
                realloc(cl->switches, (cl->switch_count + 1) * sizeof(*bigger));
        if (!bigger) {
            return false;
        }
        cl->switches = bigger;
        s = &cl->switches[cl->switch_count++];
    }
    snprintf(s->tag, sizeof(s->tag), "%s", h->tags[0]);
    snprintf(s->to, sizeof(s->to), "%s", to);
    lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_SWITCHOVER, cl->node->name, to);
    if (h->in_service || h->busy) {
        remove_here(cl, h);
    }
    lk_cluster_kick(cl);
    return true;
}

static ssize_t find_removing(struct lk_cluster *cl, const struct hier *h)
{
    for (size_t i = 0; i < cl->removing_count; i++) {
        if (in_list(h->tags, h->count, cl->removing[i])) {
            return (ssize_t) i;
        }
    }
    return -1;
}

static void note_removing(struct lk_cluster *cl, const char *tag)
{
    char(*bigger)[LK_TAG_MAX + 1] =
            realloc(cl->removing, (cl->removing_count + 1) * sizeof(*bigger));
    if (bigger) {
        cl->removing = bigger;
        snprintf(cl->removing[cl->removing_count++], sizeof(cl->removing[0]), "%s", tag);
    }
}

/* ---------------------------------------------------------------- the rules */

static bool can_act(const struct lk_cluster *cl)
{
    return cl->quorate || lk_cluster_quorum_mode_none(cl);
}

/* A peer that reports any of h in service (or an action on it), or NULL. */
static const struct peer *holder_peer(struct lk_cluster *cl, const struct hier *h)
{
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        if (!p->alive || !p->states) {
            continue;
        }
        for (size_t t = 0; t < h->count; t++) {
            json_t *s = json_object_get(p->states, h->tags[t]);
            const char *st = json_string_value(json_array_get(s, 0));
            const char *pe = json_string_value(json_array_get(s, 1));
            if ((st && (strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0)) ||
                (pe && strcmp(pe, lk_pending_name(LK_PENDING_NONE)) != 0)) {
                return p;
            }
        }
    }
    return NULL;
}

/* Without a fence script, under majority quorum, a dead owner may be alive on the other
 * side of a partition: it lost quorum at about the same moment (within a heartbeat or
 * two) and removes its copy (quorum-loss-action osu). The takeover waits for that: one
 * more dead time after the owner was declared dead. This wait is the fencing window the
 * documentation promises; a fence script replaces it. */
static bool self_fence_pending(struct lk_cluster *cl, const struct peer *owner)
{
    if (cl->node->config.cluster.fence_script[0] || lk_cluster_quorum_mode_none(cl)) {
        return false;
    }
    uint64_t since = owner ? owner->dead_since : cl->started_at;
    return uv_now(cl->node->loop) - since < 2 * lk_cluster_dead_ms(cl);
}

/* Whether this node knows what its live peers hold: each has finished the data exchange
 * and sent its state and its view of the members since it came (back). Nothing is
 * restored or taken over without that: a node rejoining after a partition may regain
 * quorum from the first peer it meets while its own record of who owns what is stale. */
static bool picture_fresh(struct lk_cluster *cl)
{
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        if (p->alive && !p->witness && p->configured &&
            (!p->synced || !p->states || !p->alive_set)) {
            cl->timed_wait = true;
            return false;
        }
    }
    return true;
}

static void consider_takeover(struct lk_cluster *cl, struct hier *h)
{
    const struct lk_owner_rec *rec = &h->rec;
    if (!rec->active || !rec->owner[0] || !can_act(cl)) {
        return;
    }
    const struct peer *owner = NULL;
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (strcmp(cl->peers[i].name, rec->owner) == 0) {
            owner = &cl->peers[i];
        }
    }
    if (owner && owner->alive) {
        return; /* its business: it hands the hierarchy on itself if it fails there */
    }
    if (rec->kept) {
        return; /* lkstop -f: its applications still run there, unmonitored */
    }
    if (rec->left && !cl->orphan_check) {
        return; /* stopped on purpose: not a failure */
    }
    if (holder_peer(cl, h)) {
        return; /* someone alive has it: the records will settle who keeps it */
    }
    /* Only with a fresh picture, and when no live peer still hears the owner: a node
     * rejoining after a partition may hear one peer before the owner itself. */
    if (!picture_fresh(cl)) {
        return;
    }
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        if (!p->alive || p->witness || !p->configured) {
            continue;
        }
        size_t k;
        json_t *v;
        json_array_foreach(p->alive_set, k, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), rec->owner) == 0) {
                cl->timed_wait = true;
                return; /* a peer still hears the owner: not dead for the cluster */
            }
        }
    }
    const char *best = best_target(cl, h, NULL, NULL);
    if (!best || strcmp(best, cl->node->name) != 0) {
        return;
    }
    if (!rec->left && !fenced(cl, rec->owner)) {
        cl->timed_wait = true; /* the fence script runs (or failed): the tick comes back */
        return;
    }
    if (!rec->left && self_fence_pending(cl, owner)) {
        cl->timed_wait = true;
        return;
    }
    char why[LK_OWNER_REASON_MAX];
    snprintf(why, sizeof(why),
             rec->left ? "orphaned: %s stopped and nobody holds it" : "node %s is dead",
             rec->owner);
    struct lk_owner_rec next;
    bool was_left = rec->left; /* rec is h->rec, which write_rec replaces */
    bool ok = failover_rec(cl, h, cl->node->name, why, &next);
    next.tried_count = 0;
    next.failed_over = next.failed_over && !was_left; /* an orphan is not a failover */
    if (!write_rec(cl, h, &next)) {
        return;
    }
    if (ok) {
        if (was_left) {
            lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_ORPHAN);
        }
        lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_TAKEOVER, (unsigned long long) next.gen, why);
    } else {
        fail_here(cl, h, next.reason);
    }
}

/* It failed here after we tried: the next node in priority order, or nobody. */
static void fail_over_from_here(struct lk_cluster *cl, struct hier *h)
{
    struct lk_owner_rec tried = h->rec;
    lk_owner_add_tried(&tried, cl->node->name);
    const char *next_node = best_target(cl, h, &tried, cl->node->name);
    const struct lk_resource *failed = NULL;
    for (size_t i = 0; i < h->count && !failed; i++) {
        const struct lk_resource *r = lk_node_find(cl->node, h->tags[i]);
        if (r && r->state == LK_STATE_OSF) {
            failed = r;
        }
    }
    char cause[LK_OWNER_REASON_MAX];
    snprintf(cause, sizeof(cause), "%s failed on %s", failed ? failed->tag : h->tags[0],
             cl->node->name);
    struct lk_owner_rec next = tried;
    if (!next_node) {
        next.seq++;
        next.active = false;
        snprintf(next.reason, sizeof(next.reason), "%s; no other node to try", cause);
        lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_NO_TARGET, cause);
        (void) write_rec(cl, h, &next);
        return;
    }
    struct hier tmp = *h;
    tmp.rec = tried;
    if (failover_rec(cl, &tmp, next_node, cause, &next)) {
        lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_FAILOVER, cl->node->name, next_node, cause);
    }
    (void) write_rec(cl, h, &next);
}

static void switchback(struct lk_cluster *cl, struct hier *h)
{
    const struct lk_resource *root = NULL;
    for (size_t i = 0; i < h->count; i++) {
        const struct lk_resource *r = lk_node_find(cl->node, h->tags[i]);
        if (r && !has_parent(cl->node, r->tag) && (!root || strcmp(r->tag, root->tag) < 0)) {
            root = r;
        }
    }
    if (!root || root->settings.switchback != LK_SWITCHBACK_AUTOMATIC || !h->rec.failed_over) {
        return; /* only a failover is undone; an operator's switchover stays */
    }
    const char *best = best_target(cl, h, NULL, NULL);
    if (!best || strcmp(best, cl->node->name) == 0) {
        return;
    }
    uint32_t mine = lk_cluster_hier_priority(cl->node, h->tags, h->count, cl->node->name);
    uint32_t theirs = lk_cluster_hier_priority(cl->node, h->tags, h->count, best);
    if (theirs == 0 || theirs >= mine) {
        return;
    }
    lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_SWITCHBACK, best);
    (void) start_switch(cl, h, best);
}

static void reconcile_one(struct lk_cluster *cl, struct hier *h)
{
    const char *me = cl->node->name;
    if ((!h->clustered && !h->has_rec) || h->busy) {
        return;
    }
    struct lk_owner_rec next;
    if (!h->has_rec) {
        if (!h->in_service) {
            return;
        }
        next = (struct lk_owner_rec){.gen = 1, .active = true};
        snprintf(next.owner, sizeof(next.owner), "%s", me);
        snprintf(next.reason, sizeof(next.reason), "in service on %s", me);
        (void) write_rec(cl, h, &next);
        mark_acted(cl, h);
        return;
    }
    if (strcmp(h->rec.owner, me) != 0) {
        if (h->in_service) {
            uint64_t held = 0;
            for (size_t i = 0; i < h->count; i++) {
                const struct owner_entry *e = find_entry(cl, h->tags[i]);
                held = e && e->held_gen > held ? e->held_gen : held;
            }
            if (h->rec.owner[0]) {
                lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_NEWER_GENERATION, h->rec.owner,
                                (unsigned long long) h->rec.gen, (unsigned long long) held);
            } else {
                lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_CLUSTER_REMOVED,
                                (unsigned long long) h->rec.gen, h->rec.reason);
            }
            remove_here(cl, h);
        } else if (!cl->holding) {
            consider_takeover(cl, h);
        }
        return;
    }
    if (cl->holding) {
        return;
    }
    if (h->in_service) {
        mark_acted(cl, h);
    }
    struct switch_entry *sw = find_switch(cl, h);
    if (sw) {
        if (h->in_service) {
            remove_here(cl, h); /* a remove refused while busy: try again */
            return;
        }
        if (h->failed) {
            lk_eventlog_msg(cl->node, h->tags[0], LK_MSG_NO_TARGET,
                            "the switchover stopped: remove failed here");
            drop_switch(cl, sw);
            next = h->rec;
            next.seq++;
            next.active = false;
            snprintf(next.reason, sizeof(next.reason), "switchover to %s: remove failed on %s",
                     sw->to, me);
            (void) write_rec(cl, h, &next);
            return;
        }
        next = h->rec;
        next.gen++;
        next.seq = 0;
        next.active = true;
        next.left = false;
        next.tried_count = 0;
        next.failed_over = false;
        snprintf(next.owner, sizeof(next.owner), "%s", sw->to);
        snprintf(next.reason, sizeof(next.reason), "switchover from %s", me);
        drop_switch(cl, sw);
        (void) write_rec(cl, h, &next);
        return;
    }
    ssize_t rm = find_removing(cl, h);
    if (rm >= 0) {
        memmove(&cl->removing[rm], &cl->removing[rm + 1],
                (cl->removing_count - (size_t) rm - 1) * sizeof(cl->removing[0]));
        cl->removing_count--;
        if (!h->in_service && h->rec.active) {
            next = h->rec;
            next.seq++;
            next.active = false;
            snprintf(next.reason, sizeof(next.reason), "removed by an operator on %s", me);
            (void) write_rec(cl, h, &next);
        }
        return;
    }
    if (!can_act(cl)) {
        if (h->in_service && cl->node->config.cluster.quorum_loss_action == LK_QUORUM_LOSS_OSU) {
            remove_here(cl, h); /* the record keeps it ours: back in service with quorum */
        }
        return;
    }
    if (!picture_fresh(cl)) {
        return; /* a peer that just came (back) may hold a newer record */
    }
    if (h->rec.left || h->rec.kept) {
        next = h->rec;
        next.seq++;
        next.left = false;
        next.kept = false;
        (void) write_rec(cl, h, &next);
        return;
    }
    if (!h->rec.active) {
        return;
    }
    if (h->failed && !h->in_service && h->acted) {
        fail_over_from_here(cl, h);
        return;
    }
    if (!h->in_service) {
        restore_here(cl, h);
        return;
    }
    if (h->all_in) {
        switchback(cl, h);
    }
}

void lk_owner_reconcile(struct lk_cluster *cl)
{
    struct lk_node *node = cl->node;
    if (node->witness || node->stopping) {
        return;
    }
    size_t n = node->count;
    char(*done)[LK_TAG_MAX + 1] = calloc(n ? n : 1, sizeof(*done));
    char(*tags)[LK_TAG_MAX + 1] = calloc(n ? n : 1, sizeof(*tags));
    if (!done || !tags) {
        free(done);
        free(tags);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(tags[i], sizeof(tags[i]), "%s", node->resources[i]->tag);
    }
    size_t done_count = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_list(done, done_count, tags[i]) || !lk_node_find(node, tags[i])) {
            continue;
        }
        struct hier h;
        if (!load_hier(cl, tags[i], &h)) {
            continue;
        }
        for (size_t t = 0; t < h.count && done_count < n; t++) {
            snprintf(done[done_count++], sizeof(done[0]), "%s", h.tags[t]);
        }
        reconcile_one(cl, &h);
        free_hier(&h);
    }
    free(tags);
    free(done);
    cl->orphan_check = false;
}

/* ---------------------------------------------------------------- start, stop */

void lk_owner_startup(struct lk_cluster *cl)
{
    /* The engine asks lk_cluster_owned_elsewhere for every hierarchy: one that another
     * node owns starts as INIT_OSU here (probe; never restored by start-up; a copy found
     * running is removed by the next reconciliation). */
    lk_executor_startup(cl->node);
}

bool lk_cluster_owned_elsewhere(const void *ctx, const char *tag)
{
    const struct lk_node *node = ctx;
    struct lk_cluster *cl = node->cluster;
    if (!cl || !lk_cluster_is_clustered(node, tag)) {
        return false;
    }
    struct hier h;
    if (!load_hier(cl, tag, &h)) {
        return false;
    }
    bool elsewhere = h.has_rec && strcmp(h.rec.owner, node->name) != 0;
    free_hier(&h);
    return elsewhere;
}

void lk_owner_leave(struct lk_cluster *cl, bool running)
{
    struct lk_node *node = cl->node;
    for (size_t i = 0; i < node->count; i++) {
        struct hier h;
        if (!load_hier(cl, node->resources[i]->tag, &h)) {
            continue;
        }
        if (h.has_rec && strcmp(h.rec.owner, node->name) == 0 && !h.rec.left && h.rec.active) {
            struct lk_owner_rec next = h.rec;
            next.seq++;
            next.left = true;
            next.kept = running && h.in_service;
            snprintf(next.reason, sizeof(next.reason), "%s stopped", node->name);
            (void) write_rec(cl, &h, &next);
        }
        free_hier(&h);
    }
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
    struct hier h;
    if (!load_hier(cl, tag, &h)) {
        return;
    }
    if (strcmp(to, cl->node->name) != 0 &&
        lk_cluster_hier_priority(cl->node, h.tags, h.count, to) != 0) {
        if (h.in_service || h.busy) {
            (void) start_switch(cl, &h, to);
        } else if (h.has_rec && strcmp(h.rec.owner, cl->node->name) == 0) {
            struct lk_owner_rec next = h.rec;
            next.gen++;
            next.seq = 0;
            next.active = true;
            next.tried_count = 0;
            next.failed_over = false;
            snprintf(next.owner, sizeof(next.owner), "%s", to);
            snprintf(next.reason, sizeof(next.reason), "switchover asked by %s", from);
            (void) write_rec(cl, &h, &next);
        }
    }
    free_hier(&h);
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
    note_removing(cl, tag);
    struct lk_event ev = {.type = LK_EV_REMOVE_REQUESTED,
                          .tag = tag,
                          .whole_hierarchy = json_is_true(json_object_get(msg, "whole"))};
    char err[LK_REASON_MAX];
    (void) lk_executor_handle(cl->node, &ev, err, sizeof(err));
}

enum lk_cluster_verdict lk_cluster_restore(struct lk_node *node, const char *tag,
                                           const char *target, char *err, size_t err_size)
{
    struct lk_cluster *cl = node->cluster;
    const char *me = node->name;
    if (node->witness) {
        snprintf(err, err_size, "this node is a witness: it runs no resources");
        return LK_CLUSTER_REFUSED;
    }
    if (!target) {
        target = me;
    }
    if (!cl || !lk_cluster_is_clustered(node, tag)) {
        if (strcmp(target, me) != 0) {
            snprintf(err, err_size, "resource '%s' is not extended to node '%s'", tag, target);
            return LK_CLUSTER_REFUSED;
        }
        return LK_CLUSTER_LOCAL;
    }
    if (!cl->settled) {
        snprintf(err, err_size,
                 "this node is still joining the cluster (waiting for its peers' data); try "
                 "again in a moment");
        return LK_CLUSTER_REFUSED;
    }
    struct hier h;
    if (!load_hier(cl, tag, &h)) {
        snprintf(err, err_size, "out of memory");
        return LK_CLUSTER_REFUSED;
    }
    enum lk_cluster_verdict verdict = LK_CLUSTER_REFUSED;
    const struct peer *holder = NULL;
    if (lk_cluster_hier_priority(node, h.tags, h.count, target) == 0) {
        snprintf(err, err_size,
                 "the hierarchy of '%s' is not extended to node '%s' (lkcli resource extend)", tag,
                 target);
    } else if (!lk_cluster_peer_alive(node, target)) {
        snprintf(err, err_size, "node '%s' is not ALIVE", target);
    } else if (!can_act(cl)) {
        snprintf(err, err_size, "this node has no quorum: nothing is brought in service");
    } else if (h.has_rec && h.rec.kept && strcmp(h.rec.owner, target) != 0 &&
               !lk_cluster_peer_alive(node, h.rec.owner)) {
        snprintf(err, err_size,
                 "node '%s' stopped with lkstop -f and its applications may still run there: "
                 "start lkd on '%s' first (or stop them there by hand and restore on '%s')",
                 h.rec.owner, h.rec.owner, h.rec.owner);
    } else if (h.in_service || h.busy) {
        if (strcmp(target, me) == 0) {
            verdict = LK_CLUSTER_LOCAL;
        } else if (h.busy) {
            snprintf(err, err_size, "the hierarchy of '%s' is busy here; try again when it is idle",
                     tag);
        } else if (start_switch(cl, &h, target)) {
            verdict = LK_CLUSTER_HANDLED;
        }
    } else if ((holder = holder_peer(cl, &h))) {
        if (strcmp(holder->name, target) == 0) {
            verdict = LK_CLUSTER_HANDLED; /* already there: the wait ends at once */
        } else {
            int r = lk_cluster_send(
                    cl, holder->name,
                    json_pack("{s:s,s:s,s:s}", "t", "switch", "tag", tag, "to", target));
            if (r < 0) {
                snprintf(err, err_size, "cannot reach node '%s', which holds '%s'", holder->name,
                         tag);
            } else {
                verdict = LK_CLUSTER_HANDLED;
            }
        }
    } else {
        struct lk_owner_rec next = h.has_rec ? h.rec : (struct lk_owner_rec){0};
        if (!h.has_rec || strcmp(next.owner, target) != 0 || !next.active) {
            next.gen++;
            next.seq = 0;
        } else {
            next.seq++;
        }
        next.active = true;
        next.left = false;
        next.kept = false;
        next.failed_over = false;
        next.tried_count = 0;
        snprintf(next.owner, sizeof(next.owner), "%s", target);
        snprintf(next.reason, sizeof(next.reason), "restore requested on %s", me);
        if (!write_rec(cl, &h, &next)) {
            snprintf(err, err_size, "cannot write the node database");
        } else if (strcmp(target, me) == 0) {
            mark_acted(cl, &h);
            verdict = LK_CLUSTER_LOCAL;
        } else {
            verdict = LK_CLUSTER_HANDLED;
        }
    }
    free_hier(&h);
    return verdict;
}

enum lk_cluster_verdict lk_cluster_remove(struct lk_node *node, const char *tag, bool whole,
                                          char *err, size_t err_size)
{
    struct lk_cluster *cl = node->cluster;
    if (!cl || node->witness || !lk_cluster_is_clustered(node, tag)) {
        return LK_CLUSTER_LOCAL;
    }
    struct hier h;
    if (!load_hier(cl, tag, &h)) {
        snprintf(err, err_size, "out of memory");
        return LK_CLUSTER_REFUSED;
    }
    enum lk_cluster_verdict verdict = LK_CLUSTER_LOCAL;
    const struct peer *holder = NULL;
    if (!h.in_service && !h.busy && (holder = holder_peer(cl, &h))) {
        int r = lk_cluster_send(
                cl, holder->name,
                json_pack("{s:s,s:s,s:b}", "t", "remove", "tag", tag, "whole", whole));
        if (r < 0) {
            snprintf(err, err_size, "cannot reach node '%s', which holds '%s'", holder->name, tag);
            verdict = LK_CLUSTER_REFUSED;
        } else {
            verdict = LK_CLUSTER_HANDLED;
        }
    } else {
        note_removing(cl, tag);
    }
    free_hier(&h);
    return verdict;
}

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

uint64_t lk_cluster_generation(struct lk_node *node, const char *tag)
{
    struct hier h;
    if (!node->cluster || !load_hier(node->cluster, tag, &h)) {
        return 0;
    }
    uint64_t gen = h.has_rec ? h.rec.gen : 0;
    free_hier(&h);
    return gen;
}

int lk_cluster_wait_state(struct lk_node *node, const char *tag, const char *want_node,
                          uint64_t start_gen, char *msg, size_t msg_size)
{
    struct lk_cluster *cl = node->cluster;
    if (!cl || !lk_node_find(node, tag)) {
        snprintf(msg, msg_size, "resource '%s' is gone", tag);
        return -1;
    }
    struct hier h;
    if (!load_hier(cl, tag, &h)) {
        return 0;
    }
    int result = 0;
    if (want_node) {
        bool all = true, any_busy = false;
        for (size_t i = 0; i < h.count; i++) {
            bool busy;
            const char *st = state_on(cl, want_node, h.tags[i], &busy);
            all &= strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0;
            any_busy |= busy;
        }
        if (all && !any_busy) {
            result = 1;
        } else if (!lk_cluster_peer_alive(node, want_node)) {
            snprintf(msg, msg_size, "node '%s' is no longer ALIVE", want_node);
            result = -1;
        } else if (h.has_rec && !h.rec.active) {
            /* Stopped: a remove failed during the switchover, or nobody could restore. */
            snprintf(msg, msg_size, "%s", h.rec.reason[0] ? h.rec.reason : "out of service");
            result = -1;
        } else if (h.has_rec && h.rec.gen > start_gen && strcmp(h.rec.owner, want_node) != 0) {
            /* It went on to another node: a failed restore there, or a switchback. */
            snprintf(msg, msg_size, "the cluster moved it to %s: %s",
                     h.rec.owner[0] ? h.rec.owner : "nobody", h.rec.reason);
            result = -1;
        }
    } else {
        bool any_in = h.in_service || h.busy || holder_peer(cl, &h);
        result = any_in ? 0 : 1;
        if (!any_in && h.failed) {
            snprintf(msg, msg_size, "remove failed");
            result = -1;
        }
    }
    free_hier(&h);
    return result;
}

void lk_cluster_progress(struct lk_node *node, const char *tag, json_t *prev,
                         void (*emit)(const char *line, void *userdata), void *userdata)
{
    struct lk_cluster *cl = node->cluster;
    struct hier h;
    if (!cl || !json_is_object(prev) || !load_hier(cl, tag, &h)) {
        return;
    }
    for (size_t n = 0; n <= cl->peer_count; n++) {
        const char *name = n == 0 ? node->name : cl->peers[n - 1].name;
        if (n > 0 && (cl->peers[n - 1].witness || !cl->peers[n - 1].alive)) {
            continue;
        }
        for (size_t i = 0; i < h.count; i++) {
            bool busy;
            const char *st = state_on(cl, name, h.tags[i], &busy);
            if (!st[0]) {
                continue;
            }
            char key[2 * LK_TAG_MAX + 4], now[64];
            snprintf(key, sizeof(key), "%s/%s", name, h.tags[i]);
            snprintf(now, sizeof(now), "%s%s", st, busy ? " (action running)" : "");
            const char *was = json_string_value(json_object_get(prev, key));
            if (was && strcmp(was, now) == 0) {
                continue;
            }
            if (was) {
                char line[256];
                snprintf(line, sizeof(line), "%s: %s %s", name, h.tags[i], now);
                emit(line, userdata);
            }
            json_object_set_new(prev, key, json_string(now));
        }
    }
    free_hier(&h);
}

bool lk_cluster_in_service_somewhere(const struct lk_node *node, const char *tag, char *who,
                                     size_t who_size)
{
    const struct lk_resource *r = lk_node_find(node, tag);
    if (r && lk_state_in_service(r->state)) {
        snprintf(who, who_size, "%s", node->name);
        return true;
    }
    struct lk_cluster *cl = node->cluster;
    for (size_t i = 0; cl && i < cl->peer_count; i++) {
        const char *st = lk_cluster_remote_state(node, cl->peers[i].name, tag);
        if (strcmp(st, "ISP") == 0 || strcmp(st, "ISU") == 0) {
            snprintf(who, who_size, "%s", cl->peers[i].name);
            return true;
        }
    }
    return false;
}

int lk_cluster_switch_all(struct lk_node *node, char *err, size_t err_size)
{
    struct lk_cluster *cl = node->cluster;
    if (!cl || !cl->settled) {
        snprintf(err, err_size, "this node is still joining the cluster; try again in a moment");
        return -EAGAIN;
    }
    if (!can_act(cl)) {
        snprintf(err, err_size, "this node has no quorum: nothing can be switched over");
        return -EAGAIN;
    }
    for (size_t i = 0; i < node->count; i++) {
        struct hier h;
        if (!load_hier(cl, node->resources[i]->tag, &h)) {
            continue;
        }
        if (h.in_service && !find_switch(cl, &h) && find_removing(cl, &h) < 0) {
            const char *to = h.clustered ? best_target(cl, &h, NULL, node->name) : NULL;
            if (to) {
                (void) start_switch(cl, &h, to);
            } else {
                /* No backup: out of service here, as plain lkstop does. */
                note_removing(cl, h.tags[0]);
                remove_here(cl, &h);
            }
        }
        free_hier(&h);
    }
    return 0;
}

bool lk_cluster_switched_out(const struct lk_node *node)
{
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *r = node->resources[i];
        if (r->pending != LK_PENDING_NONE || lk_state_in_service(r->state)) {
            return false;
        }
    }
    return !node->cluster || node->cluster->switch_count == 0;
}

bool lk_cluster_has_backup(const void *ctx, const char *tag)
{
    struct lk_node *node = (struct lk_node *) (uintptr_t) ctx;
    struct lk_cluster *cl = node->cluster;
    if (!cl || node->witness || !lk_cluster_is_clustered(node, tag)) {
        return false;
    }
    struct hier h;
    if (!load_hier(cl, tag, &h)) {
        return false;
    }
    struct lk_owner_rec tried = h.rec;
    lk_owner_add_tried(&tried, node->name);
    bool backup = best_target(cl, &h, &tried, node->name) != NULL;
    free_hier(&h);
    return backup;
}
