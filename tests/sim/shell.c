/* The simulator's per-node shell: what lkd does around the deciders, in memory. It owns a
 * node's resources (the real engine, src/lib/engine.c, decides every resource event and
 * the shell applies the plan: COMMIT, then RUN through the simulated runner), its ownership
 * records (merged by the real lk_owner_cmp), its view of the peers (liveness, settling,
 * holding after a freeze: cluster.c's glue, mirrored; quorum and the witness's vote: the
 * real src/lib/quorum.c) and the cluster decisions: the real lk_placement_decide, its plan
 * carried out as lk_executor_place does, or (--decider mirror) a copy of the old
 * cluster_owner.c rules, kept to compare.
 *
 * Events enter from sim.c only: boot, kick, tick, heartbeat, resume, a message, a run,
 * check or fence that ended, an operator command. It never reads the clock or draws a
 * random number itself (W.now is the clock; outcomes come with the events), so a seed
 * replays exactly. It must never look at another node's memory: everything it knows of
 * a peer came in a message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "quorum.h"
#include "sim.h"

/* The mirror of cluster_owner.c (below) stays as --decider mirror, to compare. */
#define SIM_HAVE_PLACEMENT 1

#define FENCE_RETRY_US (5 * SIM_S)

/* ------------------------------------------------------------------ small helpers */

static int node_by_name(const char *name)
{
    for (int i = 0; i < W.count; i++) {
        if (strcmp(W.node[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

int shell_res_index(const char *tag)
{
    for (int r = 0; r < SIM_RES; r++) {
        if (strcmp(sim_tags[r], tag) == 0) {
            return r;
        }
    }
    return -1;
}

static bool has_parent(int r)
{
    for (size_t d = 0; d < sim_dep_count; d++) {
        if (strcmp(sim_deps[d].child, sim_tags[r]) == 0) {
            return true;
        }
    }
    return false;
}

static uint32_t owner_prio(int r, const struct lk_owner_rec *rec)
{
    int o = rec->owner[0] ? node_by_name(rec->owner) : -1;
    return o >= 0 && !W.node[o].witness ? sim_prio(sim_hier_of(r), o) : 0;
}

bool shell_can_act(const struct sim_node *n)
{
    return n->quorate || W.cfg.quorum_none;
}

static struct sim_peer *peer_of(struct sim_node *n, int i)
{
    return i >= 0 && i != n->idx ? &n->peers[i] : NULL;
}

static bool is_node(int i)
{
    return i >= 0 && i < W.count && !W.node[i].witness;
}

/* ------------------------------------------------------------------ the executor */

static struct lk_view node_view(struct sim_node *n);

bool shell_have_placement(void)
{
    return SIM_HAVE_PLACEMENT;
}

#if SIM_HAVE_PLACEMENT
struct pview;
static struct pview *pview_new(struct sim_node *n, int hier);
static const struct lk_placement_view *pview_view(const struct pview *pv);
static enum lk_pverdict place(struct sim_node *n, int hier, const struct lk_pevent *ev, char *err,
                              size_t size);
#define USE_PLACEMENT (W.cfg.decider == 1)
#else
#define USE_PLACEMENT false
#endif

static void log_plan(struct sim_node *n, const struct lk_event *ev, const struct lk_plan *plan)
{
    if (!W.trace) {
        return;
    }
    sim_trace(n, "engine %s %s", lk_event_type_name(ev->type), ev->tag);
    for (size_t i = 0; i < plan->count; i++) {
        char line[LK_REASON_MAX + 128];
        sim_trace(n, "  %s", lk_act_format(&plan->acts[i], line, sizeof(line)));
    }
}

static int apply(struct sim_node *n, const struct lk_plan *plan, char *err, size_t size)
{
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->acts[i].type == LK_ACT_REFUSE) {
            snprintf(err, size, "%s", plan->acts[i].text);
            return -1;
        }
    }
    bool any_commit = false;
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        int r = shell_res_index(act->tag);
        if (act->type != LK_ACT_COMMIT || r < 0) {
            continue;
        }
        any_commit = true;
        for (int k = 0; k < SIM_RES; k++) {
            n->armed[k] |= sim_hier_of(k) == sim_hier_of(r);
        }
        struct lk_resource *res = &n->res[r];
        if (res->pending != act->pending) {
            n->pending_since[r] = W.now;
        }
        lk_act_apply(act, res);
    }
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_act *act = &plan->acts[i];
        int r = shell_res_index(act->tag);
        if (act->type == LK_ACT_RUN && r >= 0) {
            sim_start_run(n, r, act->action);
        }
    }
    if (any_commit) {
        n->state_dirty = true;
        sim_kick(n);
    }
    return 0;
}

static int handle(struct sim_node *n, const struct lk_event *ev, char *err, size_t size)
{
    if ((ev->type == LK_EV_CHECK_FINISHED || ev->type == LK_EV_PROCESS_EXITED) && n->holding) {
        return 0;
    }
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    struct lk_view view = node_view(n);
    int r = lk_engine_decide(&view, ev, &plan);
    if (r < 0) {
        snprintf(err, size, "cannot handle '%s' (%d)", ev->tag, r);
        sim_trace(n, "engine %s %s: error %d", lk_event_type_name(ev->type), ev->tag, r);
        return r;
    }
    log_plan(n, ev, &plan);
    return apply(n, &plan, err, size);
}

static void handle_quiet(struct sim_node *n, const struct lk_event *ev)
{
    char err[LK_REASON_MAX];
    if (handle(n, ev, err, sizeof(err)) < 0) {
        sim_trace(n, "refused: %s", err);
    }
}

bool shell_busy(const struct sim_node *n)
{
    for (int r = 0; r < SIM_RES; r++) {
        if (n->res[r].pending != LK_PENDING_NONE) {
            return true;
        }
    }
    return false;
}

/* Children before parents, as feed_all. */
static void feed_all(struct sim_node *n, enum lk_event_type type)
{
    static const int order[SIM_RES] = {2, 0, 1}; /* ip, app, db */
    for (int i = 0; i < SIM_RES; i++) {
        struct lk_event ev = {.type = type, .tag = sim_tags[order[i]]};
        handle_quiet(n, &ev);
    }
}

bool shell_monitored(struct sim_node *n, int r)
{
    struct lk_view view = node_view(n);
    const struct lk_resource *res = &n->res[r];
    /* As wants_monitoring: no check before the start-up (settled). */
    return n->armed[r] && n->settled && lk_state_in_service(res->state) && res->settings.monitor &&
           !lk_engine_hierarchy_busy(&view, res->tag);
}

void shell_run_done(struct sim_node *n, int r, enum lk_action action,
                    const struct lk_result *result)
{
    struct lk_event ev = {.type = LK_EV_RUN_FINISHED,
                          .tag = sim_tags[r],
                          .action = action,
                          .result = *result,
                          .now_usec = W.now};
    handle_quiet(n, &ev);
    if (n->stopping) {
        struct lk_event stop = {.type = LK_EV_SHUTDOWN, .tag = sim_tags[r]};
        handle_quiet(n, &stop);
    }
}

void shell_check_done(struct sim_node *n, int r, enum lk_action action,
                      const struct lk_result *result)
{
    struct lk_event ev = {.type = LK_EV_CHECK_FINISHED,
                          .tag = sim_tags[r],
                          .action = action,
                          .result = *result,
                          .now_usec = W.now};
    handle_quiet(n, &ev);
}

/* ------------------------------------------------------------------ hierarchies */

struct hier {
    int h;
    int tags[SIM_RES];
    size_t count;
    bool in_service, all_in, busy, failed;
    struct lk_owner_rec rec;
    bool has_rec, acted;
};

static void load_hier(struct sim_node *n, int hier, struct hier *h)
{
    memset(h, 0, sizeof(*h));
    h->h = hier;
    bool all_in = true;
    const struct lk_owner_rec *best = NULL;
    uint32_t best_prio = 0;
    for (int r = 0; r < SIM_RES; r++) {
        if (sim_hier_of(r) != hier) {
            continue;
        }
        h->tags[h->count++] = r;
        const struct lk_resource *res = &n->res[r];
        bool in = lk_state_in_service(res->state);
        h->in_service |= in;
        all_in &= in;
        h->busy |= res->pending != LK_PENDING_NONE;
        h->failed |= res->state == LK_STATE_OSF;
        const struct sim_own *e = &n->own[r];
        if (e->has) {
            uint32_t p = owner_prio(r, &e->rec);
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
}

static int first_tag(const struct hier *h)
{
    return h->tags[0];
}

/* ------------------------------------------------------------------ records */

static bool merge_rec(struct sim_node *n, int r, const struct lk_owner_rec *rec)
{
    struct sim_own *e = &n->own[r];
    if (e->has && lk_owner_cmp(rec, owner_prio(r, rec), &e->rec, owner_prio(r, &e->rec)) <= 0) {
        return false;
    }
    /* As lk_owner_merge: a newer generation naming a peer as owner was chosen while that
     * peer was up: a fence of it done before is forgotten. */
    for (int k = 0; k < W.count && (!e->has || rec->gen > e->rec.gen); k++) {
        if (k != n->idx && strcmp(W.node[k].name, rec->owner) == 0 && !n->fences[k].running) {
            n->fences[k].ok = false;
            n->fences[k].failed_at = 0;
        }
    }
    struct lk_owner_rec prev = e->rec;
    e->rec = *rec;
    if (e->has) {
        lk_owner_carry_stop_failed(&e->rec, &prev); /* as lk_owner_merge */
    }
    e->has = true;
    e->acted = false;
    return true;
}

static void write_rec(struct sim_node *n, struct hier *h, const struct lk_owner_rec *rec)
{
    for (size_t i = 0; i < h->count; i++) {
        struct sim_own *e = &n->own[h->tags[i]];
        e->rec = *rec;
        e->has = true;
        e->acted = false;
    }
    h->rec = *rec;
    h->has_rec = true;
    h->acted = false;
    n->state_dirty = true;
    sim_kick(n);
    sim_note_record(n, sim_hier_of(first_tag(h)), rec);
    sim_trace(n, "record %s: gen=%llu seq=%llu owner=%s active=%d left=%d tried=%zu (%s)",
              sim_tags[first_tag(h)], (unsigned long long) rec->gen, (unsigned long long) rec->seq,
              rec->owner[0] ? rec->owner : "-", rec->active, rec->left, rec->tried_count,
              rec->reason);
}

static void mark_acted(struct sim_node *n, struct hier *h)
{
    for (size_t i = 0; i < h->count; i++) {
        struct sim_own *e = &n->own[h->tags[i]];
        if (e->has) {
            e->acted = true;
            e->held_gen = e->rec.gen;
        }
    }
    h->acted = true;
}

/* ------------------------------------------------------------------ acting here */

static void restore_here(struct sim_node *n, struct hier *h)
{
    mark_acted(n, h);
    for (size_t i = 0; i < h->count; i++) {
        if (has_parent(h->tags[i])) {
            continue;
        }
        struct lk_event ev = {.type = LK_EV_RESTORE_REQUESTED, .tag = sim_tags[h->tags[i]]};
        handle_quiet(n, &ev);
    }
}

static void fail_here(struct sim_node *n, struct hier *h, const char *why)
{
    for (size_t i = 0; i < h->count; i++) {
        const struct lk_resource *r = &n->res[h->tags[i]];
        if (r->state == LK_STATE_OSF) {
            continue;
        }
        struct lk_event ev = {
                .type = LK_EV_CLUSTER_FAILED, .tag = sim_tags[h->tags[i]], .detail = why};
        char err[LK_REASON_MAX];
        (void) handle(n, &ev, err, sizeof(err));
    }
}

static void remove_here(struct sim_node *n, struct hier *h)
{
    struct lk_event ev = {
            .type = LK_EV_REMOVE_REQUESTED, .tag = sim_tags[first_tag(h)], .whole_hierarchy = true};
    handle_quiet(n, &ev);
}

/* ------------------------------------------------------------------ placement */

static bool peer_ready(const struct sim_node *n, int i)
{
    const struct sim_peer *p = &n->peers[i];
    return p->alive && is_node(i) && p->synced;
}

static const char *best_target(struct sim_node *n, struct hier *h, const struct lk_owner_rec *rec,
                               const char *exclude)
{
    struct lk_candidate c[SIM_NODES_MAX];
    size_t k = 0;
    for (int i = 0; i < W.count; i++) {
        if (!is_node(i)) {
            continue;
        }
        c[k++] = (struct lk_candidate){
                .name = W.node[i].name,
                .priority = sim_prio(h->h, i),
                .alive = i == n->idx ? true : peer_ready(n, i),
        };
    }
    return lk_placement_best(c, k, rec, exclude);
}

static bool failover_rec(struct sim_node *n, const struct hier *h, const char *target,
                         const char *why, struct lk_owner_rec *next)
{
    *next = h->rec;
    next->gen++;
    next->seq = 0;
    next->active = true;
    next->left = false;
    int64_t now = (int64_t) (W.now / SIM_MS);
    size_t recent = lk_owner_failovers_within(next, now, W.cfg.failover_window_ms);
    if (recent >= W.cfg.max_failovers) {
        next->owner[0] = '\0';
        next->active = false;
        snprintf(next->reason, sizeof(next->reason), "failover limit reached (%zu within %llu ms)",
                 recent, (unsigned long long) W.cfg.failover_window_ms);
        sim_trace(n, "1622 failover limit %s", sim_tags[first_tag(h)]);
        return false;
    }
    lk_owner_note_failover(next, now);
    next->failed_over = true;
    snprintf(next->owner, sizeof(next->owner), "%s", target);
    snprintf(next->reason, sizeof(next->reason), "%s", why);
    return true;
}

/* ------------------------------------------------------------------ fencing */

static bool fenced(struct sim_node *n, int target)
{
    if (!W.cfg.fence) {
        return true;
    }
    struct sim_fence *f = &n->fences[target];
    if (f->ok) {
        return true;
    }
    if (f->running || (f->failed_at && W.now - f->failed_at < FENCE_RETRY_US)) {
        return false;
    }
    f->running = true;
    sim_trace(n, "1630 fence %s started", W.node[target].name);
    sim_start_fence(n, target);
    return false;
}

void shell_fence_done(struct sim_node *n, int target, bool ok)
{
    struct sim_fence *f = &n->fences[target];
    f->running = false;
    f->ok = ok;
    if (!ok) {
        f->failed_at = W.now ? W.now : 1;
    }
    sim_trace(n, "%s fence %s", ok ? "1631" : "1632", W.node[target].name);
    sim_kick(n);
}

/* ------------------------------------------------------------------ the rules */

static int holder_peer(struct sim_node *n, const struct hier *h)
{
    for (int i = 0; i < W.count; i++) {
        const struct sim_peer *p = peer_of(n, i);
        if (!p || !p->alive || !p->has_states) {
            continue;
        }
        for (size_t t = 0; t < h->count; t++) {
            int r = h->tags[t];
            if (lk_state_in_service((enum lk_state) p->st[r]) || p->pe[r] != LK_PENDING_NONE) {
                return i;
            }
        }
    }
    return -1;
}

static bool self_fence_pending(struct sim_node *n, int owner)
{
    if (W.cfg.fence || W.cfg.quorum_none) {
        return false;
    }
    uint64_t since = owner >= 0 ? n->peers[owner].dead_since : n->started_at;
    return W.now - since < 2 * sim_dead_us();
}

static bool picture_fresh(struct sim_node *n)
{
    for (int i = 0; i < W.count; i++) {
        const struct sim_peer *p = peer_of(n, i);
        if (p && p->alive && is_node(i) && (!p->synced || !p->has_states || !p->has_alive_set)) {
            n->timed_wait = true;
            return false;
        }
    }
    return true;
}

static void consider_takeover(struct sim_node *n, struct hier *h)
{
    const struct lk_owner_rec *rec = &h->rec;
    if (!rec->active || !rec->owner[0] || !shell_can_act(n)) {
        return;
    }
    int owner = node_by_name(rec->owner);
    if (owner >= 0 && owner != n->idx && n->peers[owner].alive) {
        return;
    }
    if (rec->kept) {
        return;
    }
    if (rec->left && !n->orphan_check) {
        return;
    }
    if (holder_peer(n, h) >= 0) {
        return;
    }
    if (!picture_fresh(n)) {
        return;
    }
    for (int i = 0; i < W.count; i++) {
        const struct sim_peer *p = peer_of(n, i);
        if (!p || !p->alive || !is_node(i)) {
            continue;
        }
        if (owner >= 0 && p->has_alive_set && (p->alive_set & (1u << owner))) {
            n->timed_wait = true;
            return;
        }
    }
    const char *best = best_target(n, h, NULL, NULL);
    if (!best || strcmp(best, n->name) != 0) {
        return;
    }
    if (!rec->left && owner >= 0 && !fenced(n, owner)) {
        n->timed_wait = true;
        return;
    }
    if (!rec->left && self_fence_pending(n, owner)) {
        n->timed_wait = true;
        return;
    }
    char why[LK_OWNER_REASON_MAX];
    snprintf(why, sizeof(why),
             rec->left ? "orphaned: %s stopped and nobody holds it" : "node %s is dead",
             rec->owner);
    struct lk_owner_rec next;
    bool was_left = rec->left;
    bool ok = failover_rec(n, h, n->name, why, &next);
    next.tried_count = 0;
    next.failed_over = next.failed_over && !was_left;
    write_rec(n, h, &next);
    if (ok) {
        sim_trace(n, "1621 takeover %s gen %llu: %s", sim_tags[first_tag(h)],
                  (unsigned long long) next.gen, why);
    } else {
        fail_here(n, h, next.reason);
    }
}

static void fail_over_from_here(struct sim_node *n, struct hier *h)
{
    struct lk_owner_rec tried = h->rec;
    lk_owner_add_tried(&tried, n->name);
    const char *next_node = best_target(n, h, &tried, n->name);
    int failed = -1;
    for (size_t i = 0; i < h->count && failed < 0; i++) {
        if (n->res[h->tags[i]].state == LK_STATE_OSF) {
            failed = h->tags[i];
        }
    }
    char cause[LK_OWNER_REASON_MAX];
    snprintf(cause, sizeof(cause), "%s failed on %s", sim_tags[failed >= 0 ? failed : h->tags[0]],
             n->name);
    struct lk_owner_rec next = tried;
    if (!next_node) {
        next.seq++;
        next.active = false;
        snprintf(next.reason, sizeof(next.reason), "%s; no other node to try", cause);
        sim_trace(n, "1624 no target %s: %s", sim_tags[first_tag(h)], cause);
        write_rec(n, h, &next);
        return;
    }
    struct hier tmp = *h;
    tmp.rec = tried;
    if (failover_rec(n, &tmp, next_node, cause, &next)) {
        sim_trace(n, "1620 failover %s to %s: %s", sim_tags[first_tag(h)], next_node, cause);
    }
    write_rec(n, h, &next);
}

static void start_switch(struct sim_node *n, struct hier *h, int to)
{
    n->sw_to[h->h] = to;
    sim_trace(n, "1625 switchover %s to %s", sim_tags[first_tag(h)], W.node[to].name);
    if (h->in_service || h->busy) {
        remove_here(n, h);
    }
    sim_kick(n);
}

static void switchback(struct sim_node *n, struct hier *h)
{
    int root = -1;
    for (size_t i = 0; i < h->count; i++) {
        int r = h->tags[i];
        if (!has_parent(r) && (root < 0 || strcmp(sim_tags[r], sim_tags[root]) < 0)) {
            root = r;
        }
    }
    if (root < 0 || n->res[root].settings.switchback != LK_SWITCHBACK_AUTOMATIC ||
        !h->rec.failed_over) {
        return;
    }
    const char *best = best_target(n, h, NULL, NULL);
    if (!best || strcmp(best, n->name) == 0) {
        return;
    }
    int b = node_by_name(best);
    uint32_t mine = sim_prio(h->h, n->idx), theirs = sim_prio(h->h, b);
    if (theirs == 0 || theirs >= mine) {
        return;
    }
    sim_trace(n, "1626 switchback %s to %s", sim_tags[first_tag(h)], best);
    start_switch(n, h, b);
}

static void reconcile_one(struct sim_node *n, struct hier *h)
{
    if (h->busy) {
        return;
    }
    struct lk_owner_rec next;
    if (!h->has_rec) {
        if (!h->in_service) {
            return;
        }
        next = (struct lk_owner_rec){.gen = 1, .active = true};
        snprintf(next.owner, sizeof(next.owner), "%s", n->name);
        snprintf(next.reason, sizeof(next.reason), "in service on %s", n->name);
        write_rec(n, h, &next);
        mark_acted(n, h);
        return;
    }
    if (strcmp(h->rec.owner, n->name) != 0) {
        if (h->in_service) {
            sim_trace(n, "%s %s: owner %s gen %llu", h->rec.owner[0] ? "1623" : "1628",
                      sim_tags[first_tag(h)], h->rec.owner[0] ? h->rec.owner : "-",
                      (unsigned long long) h->rec.gen);
            remove_here(n, h);
        } else if (!n->holding) {
            consider_takeover(n, h);
        }
        return;
    }
    if (n->holding) {
        return;
    }
    if (h->in_service) {
        mark_acted(n, h);
    }
    int sw = n->sw_to[h->h];
    if (sw >= 0) {
        if (h->in_service) {
            remove_here(n, h);
            return;
        }
        if (h->failed) {
            sim_trace(n, "1624 the switchover stopped: remove failed here");
            n->sw_to[h->h] = -1;
            next = h->rec;
            next.seq++;
            next.active = false;
            snprintf(next.reason, sizeof(next.reason), "switchover to %s: remove failed on %s",
                     W.node[sw].name, n->name);
            write_rec(n, h, &next);
            return;
        }
        next = h->rec;
        next.gen++;
        next.seq = 0;
        next.active = true;
        next.left = false;
        next.tried_count = 0;
        next.failed_over = false;
        snprintf(next.owner, sizeof(next.owner), "%s", W.node[sw].name);
        snprintf(next.reason, sizeof(next.reason), "switchover from %s", n->name);
        n->sw_to[h->h] = -1;
        write_rec(n, h, &next);
        return;
    }
    if (n->removing[h->h]) {
        n->removing[h->h] = false;
        if (!h->in_service && h->rec.active) {
            next = h->rec;
            next.seq++;
            next.active = false;
            snprintf(next.reason, sizeof(next.reason), "removed by an operator on %s", n->name);
            write_rec(n, h, &next);
        }
        return;
    }
    if (!shell_can_act(n)) {
        if (h->in_service) {
            remove_here(n, h);
        }
        return;
    }
    if (!picture_fresh(n)) {
        return;
    }
    if (h->rec.left || h->rec.kept) {
        next = h->rec;
        next.seq++;
        next.left = false;
        next.kept = false;
        write_rec(n, h, &next);
        return;
    }
    if (!h->rec.active) {
        return;
    }
    if (h->failed && !h->in_service && h->acted) {
        fail_over_from_here(n, h);
        return;
    }
    if (!h->in_service) {
        restore_here(n, h);
        return;
    }
    if (h->all_in) {
        switchback(n, h);
    }
}

static void reconcile(struct sim_node *n)
{
    if (n->witness || n->stopping) {
        return;
    }
    for (int hh = 0; hh < SIM_HIER; hh++) {
#if SIM_HAVE_PLACEMENT
        if (USE_PLACEMENT) {
            struct lk_pevent ev = {.type = LK_PEV_RECONCILE};
            char err[LK_REASON_MAX];
            (void) place(n, hh, &ev, err, sizeof(err));
            continue;
        }
#endif
        struct hier h;
        load_hier(n, hh, &h);
        reconcile_one(n, &h);
    }
    n->orphan_check = false;
}

/* ------------------------------------------------------------------ engine callbacks */

static bool cb_has_backup(const void *ctx, const char *tag)
{
    struct sim_node *n = (struct sim_node *) (uintptr_t) ctx;
    int r = shell_res_index(tag);
    if (r < 0 || n->witness) {
        return false;
    }
#if SIM_HAVE_PLACEMENT
    if (USE_PLACEMENT) {
        struct pview *pv = pview_new(n, sim_hier_of(r));
        bool b = lk_placement_has_backup(pview_view(pv));
        free(pv);
        return b;
    }
#endif
    struct hier h;
    load_hier(n, sim_hier_of(r), &h);
    struct lk_owner_rec tried = h.rec;
    lk_owner_add_tried(&tried, n->name);
    return best_target(n, &h, &tried, n->name) != NULL;
}

static bool cb_owned_elsewhere(const void *ctx, const char *tag)
{
    struct sim_node *n = (struct sim_node *) (uintptr_t) ctx;
    int r = shell_res_index(tag);
    if (r < 0) {
        return false;
    }
#if SIM_HAVE_PLACEMENT
    if (USE_PLACEMENT) {
        struct pview *pv = pview_new(n, sim_hier_of(r));
        /* As lk_cluster_owned_elsewhere: also when start-up may not restore it yet. */
        bool b = lk_placement_owned_elsewhere(pview_view(pv)) ||
                 !lk_placement_startup_may_restore(pview_view(pv));
        free(pv);
        return b;
    }
#endif
    struct hier h;
    load_hier(n, sim_hier_of(r), &h);
    return h.has_rec && strcmp(h.rec.owner, n->name) != 0;
}

static struct lk_view node_view(struct sim_node *n)
{
    return (struct lk_view){
            .resources = n->resp,
            .count = SIM_RES,
            .node = n->name,
            .deps = sim_deps,
            .dep_count = sim_dep_count,
            .sorted = true,
            .has_backup = cb_has_backup,
            .owned_elsewhere = cb_owned_elsewhere,
            .backup_ctx = n,
    };
}

/* ------------------------------------------------------------------ membership */

/* The node's knowledge as the pure quorum decider (src/lib/quorum.h) reads it. */
struct qbuf {
    struct lk_quorum_peer peers[SIM_NODES_MAX];
    const char *alive[SIM_NODES_MAX][SIM_NODES_MAX];
    const char *votes[SIM_NODES_MAX][SIM_NODES_MAX];
    const char *prev[SIM_NODES_MAX];
    int index[SIM_NODES_MAX]; /* peers[k] is node index[k] */
};

static size_t names_of(uint32_t mask, const char **names)
{
    size_t k = 0;
    for (int i = 0; i < W.count; i++) {
        if (mask >> i & 1) {
            names[k++] = W.node[i].name;
        }
    }
    return k;
}

static void quorum_view(const struct sim_node *n, struct qbuf *b, struct lk_quorum_view *v)
{
    size_t k = 0;
    for (int i = 0; i < W.count; i++) {
        if (i == n->idx) {
            continue;
        }
        const struct sim_peer *p = &n->peers[i];
        struct lk_quorum_peer *q = &b->peers[k];
        *q = (struct lk_quorum_peer){
                .name = W.node[i].name,
                .configured = is_node(i),
                .alive = p->alive,
                .witness = W.node[i].witness,
                .alive_set = b->alive[k],
                .alive_count = p->has_alive_set ? names_of(p->alive_set, b->alive[k]) : 0,
                .hello = p->hello,
                .votes = b->votes[k],
                .vote_count = p->has_votes ? names_of(p->votes, b->votes[k]) : 0,
        };
        b->index[k++] = i;
    }
    *v = (struct lk_quorum_view){
            .self = n->name,
            .mode = LK_QUORUM_MODE_UNSET,
            .configured_peers = (size_t) W.cfg.nodes - (n->witness ? 0 : 1),
            .witness_configured = W.cfg.witness,
            .peers = b->peers,
            .peer_count = k,
            .settled = n->settled,
            .known = n->quorum_known,
            .was_quorate = n->quorate,
            .previous_vote = b->prev,
            .previous_count = n->has_last_votes ? names_of(n->last_votes, b->prev) : 0,
    };
}

static void update_quorum(struct sim_node *n)
{
    if (n->witness) {
        return;
    }
    struct qbuf b;
    struct lk_quorum_view v;
    struct lk_quorum_verdict q;
    quorum_view(n, &b, &v);
    lk_quorum_count(&v, &q);
    if (q.change == LK_QUORUM_PENDING) {
        n->quorate = q.quorate;
        return;
    }
    if (q.change == LK_QUORUM_SAME) {
        return;
    }
    n->quorate = q.quorate;
    n->quorum_known = true;
    if (q.change != LK_QUORUM_KNOWN) {
        sim_trace(n, "%s (%u of %u votes)", q.quorate ? "1610 quorum" : "1611 quorum lost", q.votes,
                  q.voters);
    }
}

static void witness_vote(struct sim_node *n)
{
    struct qbuf b;
    struct lk_quorum_view v;
    struct lk_witness_vote vote;
    quorum_view(n, &b, &v);
    lk_quorum_witness_vote(&v, &vote);
    uint32_t group = 0;
    for (size_t k = 0; k < v.peer_count; k++) {
        if (lk_quorum_witness_member(&v, &vote, k)) {
            group |= 1u << b.index[k];
        }
    }
    n->last_votes = group;
    n->has_last_votes = true;
}

static struct sim_msg *new_msg(enum sim_msg_type type)
{
    struct sim_msg *m = calloc(1, sizeof(*m));
    if (!m) {
        abort();
    }
    m->type = type;
    return m;
}

static void send_simple(struct sim_node *n, int to, enum sim_msg_type type)
{
    sim_send(n, to, new_msg(type));
}

static struct sim_msg *state_msg(struct sim_node *n)
{
    struct sim_msg *m = new_msg(MSG_STATE);
    m->seq = n->sseq;
    for (int r = 0; r < SIM_RES; r++) {
        m->st[r] = (uint8_t) n->res[r].state;
        m->pe[r] = (uint8_t) n->res[r].pending;
        m->tgt[r] = n->res[r].target_in_service;
        m->stop_failed[r] = n->res[r].stop_failed;
        m->has_rec[r] = n->own[r].has;
        if (n->own[r].has) {
            m->rec[r] = n->own[r].rec;
        }
    }
    return m;
}

static void send_state_to(struct sim_node *n, int to)
{
    if (!n->witness) {
        sim_send(n, to, state_msg(n));
    }
}

static void send_state(struct sim_node *n)
{
    n->state_dirty = false;
    if (n->witness) {
        return;
    }
    n->sseq++;
    for (int i = 0; i < W.count; i++) {
        if (i != n->idx) {
            sim_send(n, i, state_msg(n));
        }
    }
}

static void on_node(struct sim_node *n, int i, bool alive, const char *why)
{
    struct sim_peer *p = &n->peers[i];
    if (p->alive == alive) {
        return;
    }
    p->alive = alive;
    if (alive) {
        p->alive_since = W.now;
        sim_trace(n, "1602 %s ALIVE", W.node[i].name);
        if (!n->fences[i].running) {
            n->fences[i].ok = false;
            n->fences[i].failed_at = 0;
        }
    } else {
        sim_trace(n, "1603 %s DEAD (%s)", W.node[i].name, why);
        p->synced = false;
        p->dead_since = W.now;
        for (int r = 0; r < SIM_RES; r++) { /* as cluster.c: its last states stay as lost */
            p->lost[r] = p->has_states && (lk_state_in_service((enum lk_state) p->st[r]) ||
                                           p->pe[r] != LK_PENDING_NONE);
        }
        p->has_states = false;
        p->has_votes = false;
        p->has_alive_set = false;
        p->hello = false;
    }
    update_quorum(n);
    sim_kick(n);
}

/* A connection completed its HELLO: exchange data and state again. */
static void on_hello(struct sim_node *n, int i)
{
    if (!n->witness && !W.node[i].witness) {
        send_simple(n, i, MSG_SYNCED);
    }
    send_state_to(n, i);
}

/* When a dead peer was last known alive, here or by a peer that reported it ALIVE (as
 * cluster_owner.c): it keeps its quorum through such a peer until that one loses it. */
static uint64_t dead_since(const struct sim_peer *p)
{
    return !p->alive && p->named_at > p->dead_since ? p->named_at : p->dead_since;
}

/* Whom a peer hears changed: quorum counted again, a change acted on (as cluster.c). */
static void recount(struct sim_node *n)
{
    bool was = n->quorate;
    update_quorum(n);
    if (n->quorate != was) {
        sim_kick(n);
    }
}

static void heard(struct sim_node *n, int i)
{
    struct sim_peer *p = &n->peers[i];
    p->last_heard = W.now;
    if (!p->alive) {
        on_node(n, i, true, NULL);
        send_simple(n, i, MSG_HELLO);
        on_hello(n, i);
    }
}

void shell_receive(struct sim_node *n, const struct sim_msg *m)
{
    int from = m->from;
    struct sim_peer *p = &n->peers[from];
    if (m->type == MSG_CLOSE) {
        on_node(n, from, false, "connection closed");
        return;
    }
    heard(n, from);
    switch (m->type) {
    case MSG_HB:
        for (int i = 0; i < W.count && !W.node[from].witness; i++) {
            if (m->alive_mask >> i & 1) {
                n->peers[i].named_at = W.now; /* as on_heartbeat */
            }
        }
        if (!p->has_alive_set || p->alive_set != m->alive_mask || p->hello) {
            /* as on_heartbeat: whom it hears counts for quorum (a vote goes both ways) */
            p->alive_set = m->alive_mask;
            p->has_alive_set = true;
            /* as on_heartbeat: one without this node soon after its HELLO may be older */
            p->hello = p->hello && !(m->alive_mask >> n->idx & 1) &&
                       W.now - p->hello_at < sim_dead_us();
            recount(n);
        }
        if (p->alive && !W.node[from].witness && !n->fences[from].running) {
            n->fences[from].ok = false; /* as on_heartbeat: heard, the fence counts no more */
            n->fences[from].failed_at = 0;
        }
        if (W.node[from].witness && m->has_vote) {
            bool had = p->has_votes && (p->votes & (1u << n->idx));
            p->votes = m->vote_mask;
            p->has_votes = true;
            if (had != ((m->vote_mask & (1u << n->idx)) != 0)) {
                update_quorum(n);
                sim_kick(n);
            }
        }
        if (!W.node[from].witness && !n->witness && m->seq != p->sseq) {
            send_simple(n, from, MSG_STATEQ);
        }
        if (n->witness) {
            witness_vote(n);
        }
        return;
    case MSG_HELLO:
        /* as cluster.c's on_hello: its HELLO says it hears this node (until its next
         * heartbeat says otherwise) */
        p->hello = true;
        p->hello_at = W.now;
        recount(n);
        if (p->alive && !W.node[from].witness && !n->fences[from].running) {
            n->fences[from].ok = false; /* as cluster.c's on_hello: heard, as by a heartbeat */
            n->fences[from].failed_at = 0;
        }
        on_hello(n, from);
        return;
    default:
        break;
    }
    if (n->witness) {
        return;
    }
    switch (m->type) {
    case MSG_SYNCED:
        p->synced = true;
        p->seen = true; /* as cluster.c: its records arrived */
        break;
    case MSG_STATE:
        memcpy(p->st, m->st, sizeof(p->st));
        memcpy(p->pe, m->pe, sizeof(p->pe));
        memcpy(p->stop_failed, m->stop_failed, sizeof(p->stop_failed));
        memset(p->lost, 0, sizeof(p->lost));
        p->has_states = true;
        p->sseq = m->seq;
        p->heard = true;
        for (int r = 0; r < SIM_RES; r++) {
            if (m->has_rec[r] && merge_rec(n, r, &m->rec[r])) {
                n->state_dirty = true;
            }
        }
        break;
    case MSG_STATEQ:
        send_state_to(n, from);
        break;
    case MSG_SWITCH: {
#if SIM_HAVE_PLACEMENT
        if (USE_PLACEMENT) {
            int to = m->to_node;
            struct lk_pevent ev = {.type = LK_PEV_SWITCH_MESSAGE,
                                   .tag = sim_tags[m->res],
                                   .target = is_node(to) ? W.node[to].name : "?",
                                   .target_priority =
                                           is_node(to) ? sim_prio(sim_hier_of(m->res), to) : 0,
                                   .from = W.node[from].name};
            char err[LK_REASON_MAX];
            (void) place(n, sim_hier_of(m->res), &ev, err, sizeof(err));
            break;
        }
#endif
        struct hier h;
        int to = m->to_node;
        load_hier(n, sim_hier_of(m->res), &h);
        if (to != n->idx && is_node(to)) {
            if (h.in_service || h.busy) {
                start_switch(n, &h, to);
            } else if (h.has_rec && strcmp(h.rec.owner, n->name) == 0) {
                struct lk_owner_rec next = h.rec;
                next.gen++;
                next.seq = 0;
                next.active = true;
                next.tried_count = 0;
                next.failed_over = false;
                snprintf(next.owner, sizeof(next.owner), "%s", W.node[to].name);
                snprintf(next.reason, sizeof(next.reason), "switchover asked by %s",
                         W.node[from].name);
                write_rec(n, &h, &next);
            }
        }
        break;
    }
    case MSG_REMOVE: {
#if SIM_HAVE_PLACEMENT
        if (USE_PLACEMENT) {
            struct lk_pevent ev = {.type = LK_PEV_REMOVE_MESSAGE,
                                   .tag = sim_tags[m->res],
                                   .from = W.node[from].name,
                                   .whole = m->whole};
            char err[LK_REASON_MAX];
            (void) place(n, sim_hier_of(m->res), &ev, err, sizeof(err));
            break;
        }
#endif
        n->removing[sim_hier_of(m->res)] = true;
        struct lk_event ev = {.type = LK_EV_REMOVE_REQUESTED,
                              .tag = sim_tags[m->res],
                              .whole_hierarchy = m->whole};
        handle_quiet(n, &ev);
        break;
    }
    case MSG_STARTED:
        n->orphan_check = true;
        break;
    default:
        return;
    }
    sim_kick(n);
}

void shell_heartbeat(struct sim_node *n)
{
    uint32_t alive = 0;
    for (int i = 0; i < W.count; i++) {
        if (i != n->idx && n->peers[i].alive) {
            alive |= 1u << i;
        }
    }
    if (n->witness) {
        witness_vote(n);
    }
    for (int i = 0; i < W.count; i++) {
        if (i == n->idx) {
            continue;
        }
        struct sim_msg *m = new_msg(MSG_HB);
        m->alive_mask = alive;
        m->seq = n->sseq;
        if (n->witness) {
            m->has_vote = true;
            m->vote_mask = n->last_votes;
        }
        sim_send(n, i, m);
    }
}

/* ------------------------------------------------------------------ settling, ticks */

/* Whether p's last heartbeat names n: its vote counts only then (quorum.c; no matter with
 * quorum none). */
static bool hears_me(const struct sim_node *n, const struct sim_peer *p)
{
    return W.cfg.quorum_none || p->hello || (p->has_alive_set && (p->alive_set >> n->idx & 1));
}

static void check_settled(struct sim_node *n)
{
    if (n->settled || n->witness) {
        return;
    }
    bool window_over = W.now - n->started_at >= sim_dead_us() + SIM_S;
    bool all_synced = true, alive_synced = true, holds = false;
    for (int r = 0; r < SIM_RES; r++) {
        holds |= lk_state_in_service(n->res[r].state);
    }
    for (int i = 0; i < W.count; i++) {
        if (i == n->idx || !is_node(i)) {
            continue;
        }
        const struct sim_peer *p = &n->peers[i];
        bool synced = p->synced && p->has_states;
        /* as cluster.c: every peer synced and hearing this node (its vote counts) */
        all_synced &= synced && hears_me(n, p);
        /* after the window, an alive peer that does not hear this node is no member to
         * wait for (as cluster.c) */
        /* after the window, with a copy left here by a crash, an alive peer that does
         * not hear this node is no member to wait for (as cluster.c) */
        alive_synced &= !p->alive || synced || (holds && p->has_alive_set && !hears_me(n, p));
    }
    if (!all_synced && !(window_over && alive_synced)) {
        return;
    }
    n->settled = true;
    sim_trace(n, "settled");
    update_quorum(n);
    feed_all(n, LK_EV_STARTUP);
    n->orphan_check = true;
    for (int i = 0; i < W.count; i++) {
        if (i != n->idx && n->peers[i].alive) {
            send_simple(n, i, MSG_STARTED);
        }
    }
    n->state_dirty = true;
}

static void check_hold(struct sim_node *n)
{
    if (!n->holding) {
        return;
    }
    bool all_heard = true;
    for (int i = 0; i < W.count; i++) {
        const struct sim_peer *p = peer_of(n, i);
        all_heard &= !p || !is_node(i) || (p->heard && hears_me(n, p)) || !p->alive;
    }
    if (all_heard || W.now >= n->hold_until) {
        n->holding = false;
        sim_trace(n, "holding ends");
    }
}

void shell_kick(struct sim_node *n)
{
    n->kick_queued = false;
    if (n->daemon != DAEMON_UP) {
        return;
    }
    check_settled(n);
    check_hold(n);
    update_quorum(n);
    if (n->settled) {
        n->timed_wait = false;
        reconcile(n);
    }
    if (n->state_dirty) {
        send_state(n);
    }
}

void shell_tick(struct sim_node *n)
{
    for (int i = 0; i < W.count; i++) {
        struct sim_peer *p = peer_of(n, i);
        if (p && p->alive && W.now - p->last_heard > sim_dead_us()) {
            on_node(n, i, false, "no heartbeat");
        }
    }
    if (!n->settled || n->holding || n->timed_wait) {
        shell_kick(n);
    }
}

void shell_resumed(struct sim_node *n, uint64_t frozen_us)
{
    sim_trace(n, "1606 resumed after %llu ms", (unsigned long long) (frozen_us / SIM_MS));
    for (int i = 0; i < W.count; i++) {
        n->peers[i].last_heard = W.now; /* one more dead time for everyone */
    }
    if (n->witness) {
        return;
    }
    n->holding = true;
    n->hold_until = W.now + sim_dead_us() + 500 * SIM_MS;
    for (int i = 0; i < W.count; i++) {
        if (i != n->idx) {
            n->peers[i].heard = false;
            send_simple(n, i, MSG_STATEQ);
        }
    }
}

void shell_boot(struct sim_node *n)
{
    memset(n->peers, 0, sizeof(n->peers));
    memset(n->fences, 0, sizeof(n->fences));
    for (int h = 0; h < SIM_HIER; h++) {
        n->sw_to[h] = -1;
        n->removing[h] = false;
    }
    for (int r = 0; r < SIM_RES; r++) {
        n->own[r].acted = false;
        n->own[r].held_gen = 0;
        n->run_id[r] = 0;
        n->armed[r] = false;
        n->pending_since[r] = W.now;
        memset(n->res[r].recovery_at_usec, 0, sizeof(n->res[r].recovery_at_usec));
        n->res[r].recovery_head = 0;
    }
    n->settled = n->holding = n->quorate = n->quorum_known = false;
    n->orphan_check = n->timed_wait = n->stopping = false;
    n->state_dirty = true;
    n->has_last_votes = false;
    n->started_at = W.now;
    n->up_since = W.now;
    n->sseq = 0;
    /* The daemon connects: each reachable peer hears a HELLO. */
    for (int i = 0; i < W.count; i++) {
        if (i != n->idx) {
            send_simple(n, i, MSG_HELLO);
        }
    }
    sim_kick(n);
}

/* ------------------------------------------------------------------ operator commands */

bool shell_op_restore(struct sim_node *n, int r, int target, char *why, size_t size)
{
#if SIM_HAVE_PLACEMENT
    if (USE_PLACEMENT) {
        /* As lk_cluster_restore: placement judges everything (settled, alive, quorum). */
        struct lk_pevent ev = {.type = LK_PEV_RESTORE_REQUESTED,
                               .tag = sim_tags[r],
                               .target = W.node[target].name,
                               .target_priority = sim_prio(sim_hier_of(r), target)};
        enum lk_pverdict v = place(n, sim_hier_of(r), &ev, why, size);
        if (v == LK_PVERDICT_LOCAL) {
            struct lk_event rev = {.type = LK_EV_RESTORE_REQUESTED, .tag = sim_tags[r]};
            return handle(n, &rev, why, size) == 0;
        }
        return v == LK_PVERDICT_HANDLED;
    }
#endif
    if (!n->settled) {
        snprintf(why, size, "still joining");
        return false;
    }
    struct hier h;
    load_hier(n, sim_hier_of(r), &h);
    int holder = -1;
    const char *me = n->name;
    if (target != n->idx && !n->peers[target].alive) {
        snprintf(why, size, "node '%s' is not ALIVE", W.node[target].name);
    } else if (!shell_can_act(n)) {
        snprintf(why, size, "no quorum");
    } else if (h.in_service || h.busy) {
        if (target == n->idx) {
            struct lk_event ev = {.type = LK_EV_RESTORE_REQUESTED, .tag = sim_tags[r]};
            return handle(n, &ev, why, size) == 0;
        }
        if (h.busy) {
            snprintf(why, size, "busy here");
            return false;
        }
        start_switch(n, &h, target);
        return true;
    } else if ((holder = holder_peer(n, &h)) >= 0) {
        if (holder != target) {
            struct sim_msg *m = new_msg(MSG_SWITCH);
            m->res = r;
            m->to_node = target;
            sim_send(n, holder, m);
        }
        return true;
    } else {
        struct lk_owner_rec next = h.has_rec ? h.rec : (struct lk_owner_rec){0};
        if (!h.has_rec || strcmp(next.owner, W.node[target].name) != 0 || !next.active) {
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
        snprintf(next.owner, sizeof(next.owner), "%s", W.node[target].name);
        snprintf(next.reason, sizeof(next.reason), "restore requested on %s", me);
        write_rec(n, &h, &next);
        if (target == n->idx) {
            mark_acted(n, &h);
            struct lk_event ev = {.type = LK_EV_RESTORE_REQUESTED, .tag = sim_tags[r]};
            return handle(n, &ev, why, size) == 0;
        }
        return true;
    }
    return false;
}

bool shell_op_remove(struct sim_node *n, int r, char *why, size_t size)
{
#if SIM_HAVE_PLACEMENT
    if (USE_PLACEMENT) {
        struct lk_pevent ev = {.type = LK_PEV_REMOVE_REQUESTED, .tag = sim_tags[r], .whole = true};
        enum lk_pverdict v = place(n, sim_hier_of(r), &ev, why, size);
        if (v == LK_PVERDICT_LOCAL) {
            struct lk_event rev = {
                    .type = LK_EV_REMOVE_REQUESTED, .tag = sim_tags[r], .whole_hierarchy = true};
            return handle(n, &rev, why, size) == 0;
        }
        return v == LK_PVERDICT_HANDLED;
    }
#endif
    struct hier h;
    load_hier(n, sim_hier_of(r), &h);
    int holder;
    if (!h.in_service && !h.busy && (holder = holder_peer(n, &h)) >= 0) {
        struct sim_msg *m = new_msg(MSG_REMOVE);
        m->res = r;
        m->whole = true;
        sim_send(n, holder, m);
        return true;
    }
    n->removing[h.h] = true;
    struct lk_event ev = {
            .type = LK_EV_REMOVE_REQUESTED, .tag = sim_tags[r], .whole_hierarchy = true};
    return handle(n, &ev, why, size) == 0;
}

void shell_op_reset(struct sim_node *n, int r)
{
    struct lk_event ev = {.type = LK_EV_RESET, .tag = sim_tags[r]};
    char err[LK_REASON_MAX];
    if (handle(n, &ev, err, sizeof(err)) < 0 || !n->settled) {
        return;
    }
#if SIM_HAVE_PLACEMENT
    if (USE_PLACEMENT) {
        /* As h_reset: the failover budget starts afresh (lk_cluster_reset_budget). */
        struct lk_pevent pev = {.type = LK_PEV_RESET, .tag = sim_tags[r]};
        (void) place(n, sim_hier_of(r), &pev, err, sizeof(err));
    }
#endif
}

void shell_op_lkstop(struct sim_node *n)
{
    if (n->stopping) {
        return;
    }
    n->stopping = true;
    sim_trace(n, "1001 lkstop: taking resources out of service");
    feed_all(n, LK_EV_SHUTDOWN);
}

void shell_stopped(struct sim_node *n)
{
#if SIM_HAVE_PLACEMENT
    if (USE_PLACEMENT && n->settled) {
        for (int hh = 0; hh < SIM_HIER; hh++) {
            struct lk_pevent ev = {.type = LK_PEV_LEAVE, .running = false};
            char err[LK_REASON_MAX];
            (void) place(n, hh, &ev, err, sizeof(err));
        }
        send_state(n);
        return;
    }
#endif
    if (n->settled) {
        for (int hh = 0; hh < SIM_HIER; hh++) {
            struct hier h;
            load_hier(n, hh, &h);
            if (h.has_rec && strcmp(h.rec.owner, n->name) == 0 && !h.rec.left && h.rec.active) {
                struct lk_owner_rec next = h.rec;
                next.seq++;
                next.left = true;
                next.kept = false;
                snprintf(next.reason, sizeof(next.reason), "%s stopped", n->name);
                write_rec(n, &h, &next);
            }
        }
        send_state(n);
    }
}

/* ------------------------------------------------------------------ the pure placement */

#if SIM_HAVE_PLACEMENT
/* The view of one hierarchy as src/lib/placement.h reads it, built from what this node
 * knows (as build_view in cluster_owner.c does). */
struct pview {
    struct lk_placement_view v;
    struct lk_ptag tags[SIM_RES];
    struct lk_ppeer peers[SIM_NODES_MAX];
    struct lk_ppeer_state states[SIM_NODES_MAX][SIM_RES];
    bool stop_failed[SIM_NODES_MAX][SIM_RES];
    const char *alive[SIM_NODES_MAX][SIM_NODES_MAX];
    struct lk_pfence fences[SIM_NODES_MAX];
    char switch_tag[LK_TAG_MAX + 1];
    char removing_tag[LK_TAG_MAX + 1];
};

static void build_pview(struct sim_node *n, int hier, struct pview *pv)
{
    memset(pv, 0, sizeof(*pv));
    struct hier h;
    load_hier(n, hier, &h);
    struct lk_placement_view *v = &pv->v;
    v->node = n->name;
    v->settled = n->settled;
    v->holding = n->holding;
    v->orphan_check = n->orphan_check;
    v->quorate = n->quorate;
    v->quorum_none = W.cfg.quorum_none;
    v->quorum_loss_osu = true;
    v->fence_script = W.cfg.fence;
    v->max_failovers = W.cfg.max_failovers;
    v->failover_window_s = (uint32_t) (W.cfg.failover_window_ms / 1000);
    v->dead_ms = sim_dead_us() / SIM_MS;
    v->now_ms = (int64_t) (W.now / SIM_MS);
    v->mono_ms = W.now / SIM_MS;
    v->started_ms = n->started_at / SIM_MS;
    struct lk_phier *ph = &v->hier;
    ph->tags = pv->tags;
    ph->count = h.count;
    ph->priority = sim_prio(hier, n->idx);
    ph->has_rec = h.has_rec;
    ph->rec = h.rec;
    ph->acted = h.acted;
    for (size_t i = 0; i < h.count; i++) {
        int r = h.tags[i];
        const struct lk_resource *res = &n->res[r];
        pv->tags[i] = (struct lk_ptag){
                .tag = sim_tags[r],
                .exists = true,
                .root = !has_parent(r),
                .clustered = true,
                .state = res->state,
                .busy = res->pending != LK_PENDING_NONE,
                .stop_failed = res->stop_failed,
                .pending = res->pending,
                .reason = res->reason,
        };
        if (!has_parent(r) && !ph->has_root) {
            ph->has_root = true;
            ph->switchback = res->settings.switchback;
        }
        if (n->own[r].held_gen > ph->held_gen) {
            ph->held_gen = n->own[r].held_gen;
        }
    }
    if (n->sw_to[hier] >= 0) {
        snprintf(pv->switch_tag, sizeof(pv->switch_tag), "%s", sim_tags[first_tag(&h)]);
        ph->switch_tag = pv->switch_tag;
        ph->switch_to = W.node[n->sw_to[hier]].name;
    }
    if (n->removing[hier]) {
        snprintf(pv->removing_tag, sizeof(pv->removing_tag), "%s", sim_tags[first_tag(&h)]);
        ph->removing_tag = pv->removing_tag;
    }
    size_t k = 0, f = 0;
    for (int i = 0; i < W.count; i++) {
        if (i == n->idx) {
            continue;
        }
        const struct sim_peer *p = &n->peers[i];
        struct lk_ppeer *q = &pv->peers[k];
        *q = (struct lk_ppeer){
                .name = W.node[i].name,
                .configured = is_node(i),
                .alive = p->alive,
                .witness = W.node[i].witness,
                .synced = p->synced,
                .has_states = p->has_states,
                .has_alive_set = p->has_alive_set,
                .dead_since_ms = dead_since(p) / SIM_MS,
                .alive_since_ms = p->alive_since / SIM_MS,
                .alive_set = pv->alive[k],
                .alive_count = p->has_alive_set ? names_of(p->alive_set, pv->alive[k]) : 0,
                .priority = is_node(i) ? sim_prio(hier, i) : 0,
        };
        q->unseen = !p->seen;
        for (size_t t = 0; !p->alive && t < h.count; t++) {
            q->held_when_lost |= p->lost[h.tags[t]];
        }
        bool any_stop_failed = false;
        for (size_t t = 0; t < h.count; t++) {
            pv->stop_failed[k][t] = p->stop_failed[h.tags[t]];
            any_stop_failed |= pv->stop_failed[k][t];
        }
        if (any_stop_failed) {
            q->stop_failed = pv->stop_failed[k];
        }
        if (p->has_states) {
            for (size_t t = 0; t < h.count; t++) {
                int r = h.tags[t];
                pv->states[k][t] = (struct lk_ppeer_state){
                        .known = true,
                        .in_service = lk_state_in_service((enum lk_state) p->st[r]),
                        .busy = p->pe[r] != LK_PENDING_NONE,
                };
            }
            q->states = pv->states[k];
        }
        k++;
        const struct sim_fence *fe = &n->fences[i];
        if (fe->running || fe->ok || fe->failed_at) {
            pv->fences[f++] = (struct lk_pfence){.node = W.node[i].name,
                                                 .running = fe->running,
                                                 .ok = fe->ok,
                                                 .failed_at_ms = fe->failed_at / SIM_MS};
        }
    }
    v->peers = pv->peers;
    v->peer_count = k;
    v->fences = pv->fences;
    v->fence_count = f;
}

/* Carries a placement plan out, as lk_executor_place does; returns the verdict. */
static enum lk_pverdict place_apply(struct sim_node *n, int hier, const struct lk_pevent *ev,
                                    const struct lk_pplan *plan, char *err, size_t size)
{
    enum lk_pverdict verdict = LK_PVERDICT_LOCAL;
    struct hier h;
    load_hier(n, hier, &h);
    bool telling = false; /* a plan of only MARK_ACTED and WAIT is not traced */
    for (size_t i = 0; i < plan->count; i++) {
        telling |= plan->acts[i].type != LK_PACT_MARK_ACTED && plan->acts[i].type != LK_PACT_WAIT;
    }
    if (W.trace && (telling || ev->type != LK_PEV_RECONCILE)) {
        sim_trace(n, "placement %s %s", lk_pevent_type_name(ev->type), sim_tags[first_tag(&h)]);
        if (plan->view) {
            /* The decider's input, as the decision log writes it: a golden case's view. */
            char view[4096];
            sim_trace(n, "  view: %s", lk_placement_view_format(plan->view, view, sizeof(view)));
        }
        for (size_t i = 0; i < plan->count; i++) {
            char line[LK_REASON_MAX + 256];
            sim_trace(n, "  %s", lk_pact_format(&plan->acts[i], line, sizeof(line)));
        }
    }
    for (size_t i = 0; i < plan->count; i++) {
        if (plan->acts[i].type == LK_PACT_WRITE_REC) {
            write_rec(n, &h, &plan->acts[i].rec);
        }
    }
    for (size_t i = 0; i < plan->count; i++) {
        const struct lk_pact *act = &plan->acts[i];
        int r = shell_res_index(act->tag);
        int node = node_by_name(act->node);
        switch (act->type) {
        case LK_PACT_MARK_ACTED:
            mark_acted(n, &h);
            break;
        case LK_PACT_RESTORE:
            if (r >= 0) {
                struct lk_event rev = {.type = LK_EV_RESTORE_REQUESTED, .tag = sim_tags[r]};
                handle_quiet(n, &rev);
            }
            break;
        case LK_PACT_REMOVE:
            if (r >= 0) {
                struct lk_event rev = {.type = LK_EV_REMOVE_REQUESTED,
                                       .tag = sim_tags[r],
                                       .whole_hierarchy = act->whole,
                                       .preempt = act->preempt};
                handle_quiet(n, &rev);
            }
            break;
        case LK_PACT_FAIL_HERE:
            if (r >= 0) {
                struct lk_event fev = {
                        .type = LK_EV_CLUSTER_FAILED, .tag = sim_tags[r], .detail = act->text};
                char e[LK_REASON_MAX];
                (void) handle(n, &fev, e, sizeof(e));
            }
            break;
        case LK_PACT_FENCE:
            if (node >= 0 && !n->fences[node].running) {
                n->fences[node].running = true;
                sim_start_fence(n, node);
            }
            break;
        case LK_PACT_SEND_SWITCH:
        case LK_PACT_SEND_REMOVE:
            if (node >= 0 && r >= 0 && n->peers[node].alive) {
                struct sim_msg *m =
                        new_msg(act->type == LK_PACT_SEND_SWITCH ? MSG_SWITCH : MSG_REMOVE);
                m->res = r;
                m->to_node = node_by_name(act->to);
                m->whole = act->whole;
                sim_send(n, node, m);
            } else {
                snprintf(err, size, "%s", act->text);
                verdict = LK_PVERDICT_REFUSED;
            }
            break;
        case LK_PACT_START_SWITCH:
            if (node >= 0) {
                n->sw_to[hier] = node;
            }
            break;
        case LK_PACT_DROP_SWITCH:
            n->sw_to[hier] = -1;
            break;
        case LK_PACT_NOTE_REMOVING:
            n->removing[hier] = true;
            break;
        case LK_PACT_DROP_REMOVING:
            n->removing[hier] = false;
            break;
        case LK_PACT_WAIT:
            n->timed_wait = true;
            break;
        case LK_PACT_VERDICT:
            if (verdict != LK_PVERDICT_REFUSED) {
                verdict = act->verdict;
                if (verdict == LK_PVERDICT_REFUSED) {
                    snprintf(err, size, "%s", act->text);
                }
            }
            break;
        default:
            break;
        }
    }
    return verdict;
}

static struct pview *pview_new(struct sim_node *n, int hier)
{
    struct pview *pv = malloc(sizeof(*pv));
    if (!pv) {
        abort();
    }
    build_pview(n, hier, pv);
    return pv;
}

static const struct lk_placement_view *pview_view(const struct pview *pv)
{
    return &pv->v;
}

static enum lk_pverdict place(struct sim_node *n, int hier, const struct lk_pevent *ev, char *err,
                              size_t size)
{
    struct pview pv;
    build_pview(n, hier, &pv);
    LK_CLEANUP_PPLAN struct lk_pplan plan = {0};
    if (lk_placement_decide(&pv.v, ev, &plan) < 0) {
        snprintf(err, size, "placement refused the event");
        sim_trace(n, "placement %s: error", lk_pevent_type_name(ev->type));
        return LK_PVERDICT_REFUSED;
    }
    return place_apply(n, hier, ev, &plan, err, size);
}
#endif
