/* Placement: what this node does about one hierarchy, given its ownership record, the
 * membership, quorum, fencing and the time (all in the view), for one cluster event. Pure:
 * no loop, no clock, no I/O; it allocates only the plan. The executor carries the plan out
 * (lk_executor_place). Events: reconcile (re-run after anything changes), an operator's
 * restore, remove or reset, a peer's switch or remove request, lkstop --switchover, lkstop, a
 * state set by hand (ins_setstate: as a restore here that never moves the hierarchy, or as
 * a remove here that runs nothing). The
 * rules, in docs/CLUSTER.md: someone else owns it → never keep it here (remove our copy;
 * take it over when the owner is dead: quorum, fencing, the failover limit); we own it →
 * restore it here, children first, once every other copy is gone (or hand the record to
 * a peer that runs it healthy); failed here → the next node; no quorum (osu) → out until
 * quorum returns; a switchover from here → the record names the target once removed;
 * switchback automatic → back to a better node. A request's answer is its VERDICT act.
 * It must never emit an act that brings the hierarchy in service here while a live peer
 * runs any of it, or while a node where its remove failed is neither fenced nor cleared.
 *
 * The failover budget: failovers count within the window; the nodes tried are forgotten
 * once the hierarchy is in service again; an operator's switchover, restore or reset
 * starts the budget afresh, and handing a hierarchy back after its planned switchover
 * failed on the target is not a failover. */
#include "placement.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the plan */

void lk_pplan_done(struct lk_pplan *plan)
{
    if (!plan) {
        return;
    }
    free(plan->acts);
    plan->acts = NULL;
    plan->count = 0;
    plan->capacity = 0;
}

static struct lk_pact *add(struct lk_pplan *p, enum lk_pact_type type, const char *tag)
{
    if (p->count == p->capacity) {
        size_t cap = p->capacity ? 2 * p->capacity : 8;
        struct lk_pact *bigger = realloc(p->acts, cap * sizeof(*bigger));
        if (!bigger) {
            p->overflow = true;
            return NULL;
        }
        p->acts = bigger;
        p->capacity = cap;
    }
    struct lk_pact *a = &p->acts[p->count++];
    memset(a, 0, sizeof(*a));
    a->type = type;
    snprintf(a->tag, sizeof(a->tag), "%s", tag ? tag : "");
    return a;
}

static void log_msg(struct lk_pplan *p, const char *tag, int number, ...)
{
    const struct lk_catalog_entry *entry = lk_catalog_find(number);
    struct lk_pact *a = entry ? add(p, LK_PACT_LOG, tag) : NULL;
    if (!a) {
        return;
    }
    a->number = number;
    a->severity = entry->severity;
    va_list ap;
    va_start(ap, number);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(a->text, sizeof(a->text), entry->format, ap);
#pragma GCC diagnostic pop
    va_end(ap);
}

static void verdict(struct lk_pplan *p, enum lk_pverdict v, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void verdict(struct lk_pplan *p, enum lk_pverdict v, const char *fmt, ...)
{
    struct lk_pact *a = add(p, LK_PACT_VERDICT, NULL);
    if (!a) {
        return;
    }
    a->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof(a->text), fmt, ap);
    va_end(ap);
}

static bool note_stop_failed(const struct lk_placement_view *v, struct lk_owner_rec *rec);

static void write_rec(struct lk_pplan *p, const struct lk_owner_rec *rec)
{
    struct lk_pact *a = add(p, LK_PACT_WRITE_REC, p->view->hier.tags[0].tag);
    if (a) {
        a->rec = *rec;
        (void) note_stop_failed(p->view, &a->rec); /* every record carries what is known */
    }
}

static void remove_here(struct lk_pplan *p)
{
    struct lk_pact *a = add(p, LK_PACT_REMOVE, p->view->hier.tags[0].tag);
    if (a) {
        a->whole = true;
    }
}

static void wait_for_time(struct lk_pplan *p)
{
    (void) add(p, LK_PACT_WAIT, NULL);
}

/* ---------------------------------------------------------------- facts */

/* What this node knows of the hierarchy here. */
struct facts {
    bool in_service;        /* any of it ISP/ISU here */
    bool all_in;            /* all of it */
    bool busy;              /* an action pending here */
    bool failed;            /* any of it OSF here */
    bool clustered;         /* extended to another node */
    bool queued;            /* a restore waits here for its children (a chain restoring) */
    const char *failed_tag; /* the first OSF resource */
    const char *failed_why; /* its reason (NULL: unknown) */
};

static struct facts facts_of(const struct lk_phier *h)
{
    struct facts f = {0};
    bool all_in = true;
    for (size_t i = 0; i < h->count; i++) {
        const struct lk_ptag *t = &h->tags[i];
        if (!t->exists) {
            continue;
        }
        bool in = lk_state_in_service(t->state);
        f.in_service |= in;
        all_in &= in;
        f.busy |= t->busy;
        f.queued |= t->pending == LK_PENDING_RESTORE_WAIT;
        if (t->state == LK_STATE_OSF) {
            f.failed = true;
            if (!f.failed_tag) {
                f.failed_tag = t->tag;
                f.failed_why = t->reason;
            }
        }
        f.clustered |= t->clustered;
    }
    f.all_in = all_in && h->count > 0;
    return f;
}

static const struct lk_ppeer *find_peer(const struct lk_placement_view *v, const char *name)
{
    const struct lk_ppeer *found = NULL;
    for (size_t i = 0; i < v->peer_count; i++) {
        if (strcmp(v->peers[i].name, name) == 0) {
            found = &v->peers[i];
        }
    }
    return found;
}

static bool is_me(const struct lk_placement_view *v, const char *name)
{
    return strcmp(v->node, name) == 0;
}

static bool node_alive(const struct lk_placement_view *v, const char *name)
{
    const struct lk_ppeer *p = is_me(v, name) ? NULL : find_peer(v, name);
    return is_me(v, name) || (p && p->alive);
}

static bool peer_ready(const struct lk_ppeer *p)
{
    return p->alive && !p->witness && p->configured && p->synced;
}

static bool dead_unfenced(const struct lk_placement_view *v, const struct lk_ppeer *x)
{
    bool ok = false;
    for (size_t f = 0; f < v->fence_count; f++) {
        ok |= strcmp(v->fences[f].node, x->name) == 0 && v->fences[f].ok;
    }
    return !x->alive && !x->witness && x->configured && !ok;
}

/* Whether a live peer still hears a node that is dead to us (and not fenced), or came
 * (back) less than a dead time ago while such a node is dead to us (the members it reports
 * are not final): that node may have taken a hierarchy over while we were cut off (a
 * newer record we have not seen yet). */
static bool peer_hears_a_dead_node(const struct lk_placement_view *v)
{
    bool one_dead = false;
    for (size_t i = 0; i < v->peer_count; i++) {
        one_dead |= dead_unfenced(v, &v->peers[i]);
    }
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (one_dead && q->alive && !q->witness && q->alive_since_ms &&
            v->mono_ms - q->alive_since_ms < v->dead_ms) {
            return true;
        }
        for (size_t k = 0; q->alive && !q->witness && k < q->alive_count; k++) {
            const struct lk_ppeer *x =
                    is_me(v, q->alive_set[k]) ? NULL : find_peer(v, q->alive_set[k]);
            if (x && dead_unfenced(v, x)) {
                return true;
            }
        }
    }
    return false;
}

/* With a fence script: a node the record says it failed on (it handed the hierarchy on)
 * that is dead to us but heard by a live peer, while this node never held it under this
 * generation: its remove may still run, and its state does not reach us. */
static const struct lk_ppeer *handed_by_a_heard_dead_node(const struct lk_placement_view *v)
{
    const struct lk_phier *h = &v->hier;
    if (!v->fence_script || h->held_gen >= h->rec.gen) {
        return NULL;
    }
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        for (size_t k = 0; q->alive && !q->witness && k < q->alive_count; k++) {
            const struct lk_ppeer *x =
                    is_me(v, q->alive_set[k]) ? NULL : find_peer(v, q->alive_set[k]);
            if (x && dead_unfenced(v, x) && lk_owner_tried(&h->rec, x->name)) {
                return x;
            }
        }
    }
    return NULL;
}

bool lk_placement_can_act(const struct lk_placement_view *v)
{
    return v->quorate || v->quorum_none;
}

const struct lk_ppeer *lk_placement_holder(const struct lk_placement_view *v)
{
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *p = &v->peers[i];
        if (!p->alive || !p->states) {
            continue;
        }
        for (size_t t = 0; t < v->hier.count; t++) {
            if (p->states[t].in_service || p->states[t].busy) {
                return p;
            }
        }
    }
    return NULL;
}

/* Whether peer p reports every resource of the hierarchy in service, none busy. */
static bool holds_whole(const struct lk_placement_view *v, const struct lk_ppeer *p)
{
    for (size_t t = 0; t < v->hier.count; t++) {
        if (!p->states || !p->states[t].known || !p->states[t].in_service || p->states[t].busy) {
            return false;
        }
    }
    return v->hier.count > 0;
}

/* Whether this node is unable to run the hierarchy: a resource of it is not installed here
 * (its type said so; cleared by resource reset). */
static bool unable_here(const struct lk_placement_view *v)
{
    for (size_t i = 0; i < v->hier.count; i++) {
        if (v->hier.tags[i].exists && v->hier.tags[i].unable) {
            return true;
        }
    }
    return false;
}

/* Whether a resource of the hierarchy is not configured, here or as a peer reported: then
 * it fails over nowhere and is restored on no node until resource reset clears it. */
static bool not_configured_anywhere(const struct lk_placement_view *v)
{
    for (size_t i = 0; i < v->hier.count; i++) {
        if (v->hier.tags[i].exists && v->hier.tags[i].not_configured) {
            return true;
        }
    }
    for (size_t i = 0; i < v->peer_count; i++) {
        if (v->peers[i].not_configured) {
            return true;
        }
    }
    return false;
}

/* Whether node (this one or a peer) is unable to run the hierarchy. */
static bool node_unable(const struct lk_placement_view *v, const char *node)
{
    if (is_me(v, node)) {
        return unable_here(v);
    }
    const struct lk_ppeer *q = find_peer(v, node);
    return q && q->unable;
}

const char *lk_placement_target(const struct lk_placement_view *v, const struct lk_owner_rec *rec,
                                const char *exclude)
{
    if (not_configured_anywhere(v)) {
        return NULL;
    }
    /* In batches, carrying the best so far: the choice is a minimum under a filter. */
    enum { BATCH = 16 };
    struct lk_candidate c[BATCH + 1];
    size_t n = 0;
    const char *best = NULL;
    uint32_t best_prio = 0;
    /* A node unable to run the hierarchy (not installed there) is never a target. */
    c[n++] = (struct lk_candidate){
            .name = v->node, .priority = v->hier.priority, .alive = !unable_here(v)};
    for (size_t i = 0; i <= v->peer_count; i++) {
        if (n == BATCH + 1 || i == v->peer_count) {
            best = lk_placement_best(c, n, rec, exclude);
            n = 0;
            const struct lk_ppeer *bp = best && !is_me(v, best) ? find_peer(v, best) : NULL;
            if (best) {
                best_prio = bp ? bp->priority : v->hier.priority;
                c[n++] = (struct lk_candidate){.name = best, .priority = best_prio, .alive = true};
            }
            if (i == v->peer_count) {
                break;
            }
        }
        const struct lk_ppeer *p = &v->peers[i];
        c[n++] = (struct lk_candidate){
                .name = p->name, .priority = p->priority, .alive = peer_ready(p) && !p->unable};
    }
    return best;
}

/* A node other than this one where a resource of the hierarchy may still run after a
 * failed remove, and that was not fenced since; NULL when none. Nothing of the hierarchy
 * is restored anywhere else until that node is fenced or its flag is cleared there (a
 * remove that succeeds, or resource reset). */
static const struct lk_ppeer *stop_failed_peer(const struct lk_placement_view *v)
{
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *p = &v->peers[i];
        bool flagged = false;
        for (size_t t = 0; p->stop_failed && t < v->hier.count; t++) {
            flagged |= p->stop_failed[t];
        }
        /* The record remembers it after the nodes that heard it restarted; a live peer's
         * own report since it came is newer. */
        flagged |= v->hier.has_rec && lk_owner_stop_failed(&v->hier.rec, p->name) &&
                   !(p->alive && p->has_states) && !p->witness;
        bool fenced_ok = false;
        for (size_t f = 0; flagged && f < v->fence_count; f++) {
            fenced_ok |= strcmp(v->fences[f].node, p->name) == 0 && v->fences[f].ok;
        }
        if (flagged && !fenced_ok) {
            return p;
        }
    }
    return NULL;
}

static bool fenced(const struct lk_placement_view *v, struct lk_pplan *p, const char *node);
static const struct lk_ppeer *unseen_dead_peer(const struct lk_placement_view *v);

/* Brings rec's list of nodes where a remove failed up to date with the view: this node
 * by its own resources; a peer marked when it reports a failed remove (kept after its
 * death), cleared when it reports none since it came (alive) or was fenced since it was
 * last seen alive; a node the view does not know stays as it is. Returns whether it
 * changed. */
static bool note_stop_failed(const struct lk_placement_view *v, struct lk_owner_rec *rec)
{
    bool here = false, changed = false;
    for (size_t t = 0; t < v->hier.count; t++) {
        here |= v->hier.tags[t].exists && v->hier.tags[t].stop_failed;
    }
    changed |= lk_owner_set_stop_failed(rec, v->node, here);
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        bool reported = false, fenced_ok = false;
        for (size_t t = 0; q->stop_failed && t < v->hier.count; t++) {
            reported |= q->stop_failed[t];
        }
        for (size_t f = 0; f < v->fence_count; f++) {
            fenced_ok |= strcmp(v->fences[f].node, q->name) == 0 && v->fences[f].ok;
        }
        if (q->witness) {
            continue;
        }
        if (fenced_ok || (!reported && q->alive && q->has_states)) {
            changed |= lk_owner_set_stop_failed(rec, q->name, false);
        } else if (reported) {
            changed |= lk_owner_set_stop_failed(rec, q->name, true);
        }
    }
    return changed;
}

/* Whether a restore here must wait for a failed remove elsewhere; asks for the fence hook
 * against a dead node that may still run it (an alive one clears its flag itself). */
static bool blocked_by_failed_stop(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_ppeer *x = stop_failed_peer(v);
    if (!x) {
        return false;
    }
    if (!x->alive && v->fence_script) {
        (void) fenced(v, p, x->name);
    }
    wait_for_time(p);
    return true;
}

/* A dead peer whose last report had some of the hierarchy in service or busy: that copy
 * was never reported gone. With a fence script ("it closes all three" windows) it is
 * fenced before the hierarchy is restored anywhere else; asks for the fence hook. The
 * first such peer not fenced yet, or NULL (always NULL without a fence script). */
static const struct lk_ppeer *lost_holder_unfenced(const struct lk_placement_view *v,
                                                   struct lk_pplan *p)
{
    for (size_t i = 0; v->fence_script && i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (!q->alive && !q->witness && q->held_when_lost && !fenced(v, p, q->name)) {
            return q;
        }
    }
    return NULL;
}

/* Without a fence script, under majority quorum, a dead owner may be alive on the other
 * side of a partition: it lost quorum at about the same moment (within a heartbeat or
 * two) and removes its copy (quorum-loss-action osu). The takeover waits for that: one
 * more dead time after the owner was declared dead. This wait is the fencing window the
 * documentation promises; a fence script replaces it. */
static bool self_fence_pending(const struct lk_placement_view *v, const struct lk_ppeer *owner)
{
    bool fenced_ok = false;
    for (size_t f = 0; owner && f < v->fence_count; f++) {
        fenced_ok |= strcmp(v->fences[f].node, owner->name) == 0 && v->fences[f].ok;
    }
    if (fenced_ok) {
        return false; /* fenced, by the hook or by its own guard ("fenced itself") */
    }
    /* Its guard kills its copy at once when its lkd dies and tells us: wait for that word,
     * at most a dead time (a node that died whole has no guard left to speak). */
    if (owner && owner->guarded && !owner->alive &&
        v->mono_ms - owner->dead_since_ms < v->dead_ms) {
        return true;
    }
    if (v->fence_script || v->quorum_none) {
        return false;
    }
    uint64_t since = owner ? owner->dead_since_ms : v->started_ms;
    return v->mono_ms - since < 2 * v->dead_ms;
}

/* A live peer whose data exchange, states or view of the members have not arrived since
 * it came (back): it may hold a newer record and run the hierarchy. That peer, or NULL.
 * An operator's restore names it when it waits, as a takeover does. */
static const struct lk_ppeer *peer_not_synced(const struct lk_placement_view *v)
{
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (q->configured && !q->witness && q->alive &&
            (!q->synced || !q->has_states || !q->has_alive_set)) {
            return q;
        }
    }
    return NULL;
}

/* Whether this node knows what its live peers hold: each has finished the data exchange
 * and sent its state and its view of the members since it came (back). Nothing is
 * restored or taken over without that: a node rejoining after a partition may regain
 * quorum from the first peer it meets while its own record of who owns what is stale. */
static bool picture_fresh(const struct lk_placement_view *v)
{
    return peer_not_synced(v) == NULL;
}

/* Whether node is fenced; asks for the fence hook when it is needed and not running. */
static bool fenced(const struct lk_placement_view *v, struct lk_pplan *p, const char *node)
{
    if (!v->fence_script) {
        return true;
    }
    const struct lk_pfence *f = NULL;
    for (size_t i = 0; i < v->fence_count; i++) {
        if (strcmp(v->fences[i].node, node) == 0) {
            f = &v->fences[i];
        }
    }
    if (f && f->ok) {
        return true;
    }
    if (f &&
        (f->running || (f->failed_at_ms && v->mono_ms - f->failed_at_ms < LK_FENCE_RETRY_MS))) {
        return false;
    }
    struct lk_pact *a = add(p, LK_PACT_FENCE, NULL);
    if (a) {
        snprintf(a->node, sizeof(a->node), "%s", node);
    }
    return false;
}

/* ---------------------------------------------------------------- the failover budget */

/* Fills next for a failover of the hierarchy (record base) to target; false (and next
 * says why) when the failover limit is reached. */
static bool failover_rec(const struct lk_placement_view *v, struct lk_pplan *p,
                         const struct lk_owner_rec *base, const char *target, const char *why,
                         struct lk_owner_rec *next)
{
    *next = *base;
    next->gen++;
    next->seq = 0;
    next->active = true;
    next->left = false;
    uint64_t window = (uint64_t) v->failover_window_s * 1000;
    size_t recent = lk_owner_failovers_within(next, v->now_ms, window);
    if (recent >= v->max_failovers) {
        /* The cause first (what failed where), then the budget that stops it. */
        char budget[96], span[32];
        snprintf(budget, sizeof(budget), "%zu of %u failovers used in the last %s", recent,
                 v->max_failovers, lk_owner_window_text(v->failover_window_s, span, sizeof(span)));
        next->owner[0] = '\0';
        next->active = false;
        next->planned = false;
        snprintf(next->reason, sizeof(next->reason), "%s; %s: left out of service", why, budget);
        log_msg(p, v->hier.tags[0].tag, LK_MSG_FAILOVER_LIMIT, why, budget);
        return false;
    }
    lk_owner_note_failover(next, v->now_ms);
    next->failed_over = true;
    next->planned = false;
    snprintf(next->owner, sizeof(next->owner), "%s", target);
    snprintf(next->reason, sizeof(next->reason), "%s", why);
    return true;
}

/* ---------------------------------------------------------------- the rules */

static void start_switch(const struct lk_placement_view *v, struct lk_pplan *p,
                         const struct facts *f, const char *to)
{
    const char *tag = v->hier.tags[0].tag;
    struct lk_pact *a = add(p, LK_PACT_START_SWITCH, tag);
    if (a) {
        snprintf(a->node, sizeof(a->node), "%s", to);
    }
    log_msg(p, tag, LK_MSG_SWITCHOVER, v->node, to);
    if (f->in_service || f->busy) {
        remove_here(p);
    }
}

static void restore_here(const struct lk_placement_view *v, struct lk_pplan *p)
{
    (void) add(p, LK_PACT_MARK_ACTED, NULL);
    for (size_t i = 0; i < v->hier.count; i++) {
        if (v->hier.tags[i].root) {
            (void) add(p, LK_PACT_RESTORE, v->hier.tags[i].tag);
        }
    }
}

/* The cluster leaves the hierarchy out of service here as failed: OSF with why. */
static void fail_here(const struct lk_placement_view *v, struct lk_pplan *p, const char *why)
{
    for (size_t i = 0; i < v->hier.count; i++) {
        const struct lk_ptag *t = &v->hier.tags[i];
        if (!t->exists || t->state == LK_STATE_OSF) {
            continue;
        }
        struct lk_pact *a = add(p, LK_PACT_FAIL_HERE, t->tag);
        if (a) {
            snprintf(a->text, sizeof(a->text), "%s", why);
        }
    }
}

static void consider_takeover(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    if (!rec->active || !rec->owner[0] || !lk_placement_can_act(v) ||
        lk_placement_waits_for_all(v)) {
        return;
    }
    const struct lk_ppeer *owner = find_peer(v, rec->owner);
    if (owner && owner->alive) {
        return; /* its business: it hands the hierarchy on itself if it fails there */
    }
    if (rec->kept) {
        return; /* lkstop -f: its applications still run there, unmonitored */
    }
    if (rec->left && !v->orphan_check) {
        return; /* stopped on purpose: not a failure */
    }
    if (lk_placement_holder(v)) {
        return; /* someone alive has it: the records will settle who keeps it */
    }
    /* Only with a fresh picture, and when no live peer still hears the owner: a node
     * rejoining after a partition may hear one peer before the owner itself. */
    if (!picture_fresh(v)) {
        wait_for_time(p);
        return;
    }
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (q->alive && q->witness && q->alive_since_ms &&
            v->mono_ms - q->alive_since_ms < v->dead_ms) {
            /* Quorate through a witness heard again less than a dead time ago: its vote
             * may have kept the owner quorate until just now (X1, lksim 2/1 seed 1531;
             * S2, 2/2 seed 2499, 2/3 seed 1126). */
            wait_for_time(p);
            return;
        }
        if (!q->alive || q->witness || !q->configured) {
            continue;
        }
        if (q->alive_since_ms && v->mono_ms - q->alive_since_ms < v->dead_ms) {
            /* It came (back) less than a dead time ago: it may hear the owner any moment
             * (a heal), and the members it reports are not final yet. */
            wait_for_time(p);
            return;
        }
        for (size_t k = 0; k < q->alive_count; k++) {
            if (strcmp(q->alive_set[k], rec->owner) == 0) {
                wait_for_time(p);
                return; /* a peer still hears the owner: not dead for the cluster */
            }
        }
    }
    const char *best = lk_placement_target(v, NULL, NULL);
    if (!best || !is_me(v, best)) {
        return;
    }
    if (!rec->left && !fenced(v, p, rec->owner)) {
        wait_for_time(p); /* the fence script runs (or failed): the tick comes back */
        return;
    }
    if (!rec->left && self_fence_pending(v, owner)) {
        wait_for_time(p);
        return;
    }
    if (blocked_by_failed_stop(v, p)) {
        return;
    }
    if (lost_holder_unfenced(v, p)) {
        wait_for_time(p); /* another node died holding some of it: fenced first */
        return;
    }
    char why[LK_OWNER_REASON_MAX];
    snprintf(why, sizeof(why),
             rec->left ? "orphaned: %s stopped and nobody holds it" : "node %s is dead",
             rec->owner);
    struct lk_owner_rec next = *rec;
    bool ok = true;
    if (rec->left) {
        /* lkstop is not a failure: an orphan neither counts in the failover budget nor is
         * refused by it. */
        next.gen++;
        next.seq = 0;
        next.left = false;
        next.planned = false;
        snprintf(next.owner, sizeof(next.owner), "%s", v->node);
        snprintf(next.reason, sizeof(next.reason), "%s", why);
    } else {
        ok = failover_rec(v, p, rec, v->node, why, &next);
    }
    next.tried_count = 0;
    next.failed_over = next.failed_over && !rec->left; /* an orphan is not a failover */
    write_rec(p, &next);
    if (ok) {
        if (rec->left) {
            log_msg(p, v->hier.tags[0].tag, LK_MSG_ORPHAN);
        }
        log_msg(p, v->hier.tags[0].tag, LK_MSG_TAKEOVER, (unsigned long long) next.gen, why);
    } else {
        fail_here(v, p, next.reason);
    }
}

/* It failed here after we tried: the next node in priority order, or nobody. */
static void fail_over_from_here(const struct lk_placement_view *v, struct lk_pplan *p,
                                const struct facts *f)
{
    const char *tag = v->hier.tags[0].tag;
    struct lk_owner_rec tried = v->hier.rec;
    lk_owner_add_tried(&tried, v->node);
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (q->unable && q->alive && q->priority > 0 && !lk_owner_tried(&tried, q->name)) {
            log_msg(p, tag, LK_MSG_UNABLE_SKIPPED, q->name,
                    "a resource of it is not installed there");
        }
    }
    const char *next_node = lk_placement_target(v, &tried, v->node);
    char cause[LK_OWNER_REASON_MAX];
    /* The cause, first in every text that follows: which resource, where, and what failed
     * (its reason up to the engine's "; failing over…" tail). */
    int what = f->failed_why ? (int) strcspn(f->failed_why, ";") : 0;
    snprintf(cause, sizeof(cause), "%s failed on %s%s%.*s", f->failed_tag ? f->failed_tag : tag,
             v->node, what ? ": " : "", what, what ? f->failed_why : "");
    struct lk_owner_rec next = tried;
    if (!next_node) {
        next.seq++;
        next.active = false;
        snprintf(next.reason, sizeof(next.reason), "%s; no other node to try", cause);
        log_msg(p, tag, LK_MSG_NO_TARGET, cause);
        write_rec(p, &next);
        return;
    }
    if (v->hier.rec.planned) {
        /* A planned switchover failed on its target (here): the hierarchy goes back, which
         * is not a failover: the budget is for failures of a running hierarchy. Nor is it
         * "failed over", so an automatic switchback does not bring it here again. */
        next.gen++;
        next.seq = 0;
        next.active = true;
        next.left = false;
        next.failed_over = false;
        next.planned = false;
        snprintf(next.owner, sizeof(next.owner), "%s", next_node);
        snprintf(next.reason, sizeof(next.reason),
                 "%s; the switchover is handed back (not a failover)", cause);
        log_msg(p, tag, LK_MSG_FAILOVER, v->node, next_node, next.reason);
        write_rec(p, &next);
        return;
    }
    if (failover_rec(v, p, &tried, next_node, cause, &next)) {
        log_msg(p, tag, LK_MSG_FAILOVER, v->node, next_node, cause);
    }
    write_rec(p, &next);
}

/* Left out of service after it failed on every live node (1624: tried list, inactive)
 * while others were away: a node not tried that is back takes it, as a failover. */
static void retry_untried(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    const char *target = lk_placement_target(v, rec, NULL);
    if (!target || is_me(v, target)) {
        return;
    }
    char cause[LK_OWNER_REASON_MAX];
    snprintf(cause, sizeof(cause), "%.*s", (int) strcspn(rec->reason, ";"), rec->reason);
    struct lk_owner_rec next;
    if (failover_rec(v, p, rec, target, cause, &next)) {
        log_msg(p, v->hier.tags[0].tag, LK_MSG_FAILOVER, v->node, target, cause);
    }
    write_rec(p, &next);
}

/* An operator's switchover or reset starts the failover budget afresh: the record
 * without the failover history and the tried list (nothing when there is none). */
static void reset_budget(const struct lk_placement_view *v, struct lk_pplan *p, const char *why)
{
    struct lk_owner_rec next = v->hier.rec;
    if (!v->hier.has_rec) {
        return;
    }
    (void) lk_owner_budget_reset(&next);
    if (!next.active) {
        /* Left out after it failed on every live node (1624): the nodes tried stay listed,
         * so that one not tried still takes it when it comes back. */
        next.tried_count = v->hier.rec.tried_count;
    }
    if (next.failover_count == v->hier.rec.failover_count &&
        next.tried_count == v->hier.rec.tried_count) {
        return;
    }
    next.seq++;
    snprintf(next.reason, sizeof(next.reason), "%s", why);
    write_rec(p, &next);
}

static void switchback(const struct lk_placement_view *v, struct lk_pplan *p, const struct facts *f)
{
    const struct lk_phier *h = &v->hier;
    if (!h->has_root || h->switchback != LK_SWITCHBACK_AUTOMATIC || !h->rec.failed_over) {
        return; /* only a failover is undone; an operator's switchover stays */
    }
    const char *best = lk_placement_target(v, NULL, NULL);
    if (!best || is_me(v, best)) {
        return;
    }
    const struct lk_ppeer *there = find_peer(v, best);
    uint32_t theirs = there ? there->priority : 0;
    if (theirs == 0 || theirs >= h->priority) {
        return;
    }
    log_msg(p, h->tags[0].tag, LK_MSG_SWITCHBACK, best);
    start_switch(v, p, f, best);
}

/* Whether a remove of the hierarchy failed here: only that stops a switchover (it may
 * still run here); a restore or a check that failed while it waited leaves it out here. */
static bool remove_failed_here(const struct lk_phier *h)
{
    bool stop_failed = false;
    for (size_t i = 0; i < h->count; i++) {
        stop_failed |= h->tags[i].exists && h->tags[i].stop_failed;
    }
    return stop_failed;
}

/* The record after a switchover from this node to h->switch_to, once out here. */
static void hand_over_switched(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_phier *h = &v->hier;
    struct lk_owner_rec next = h->rec;
    next.gen++;
    next.seq = 0;
    next.active = true;
    next.left = false;
    next.tried_count = 0;
    next.failed_over = false;
    next.planned = true;
    snprintf(next.owner, sizeof(next.owner), "%s", h->switch_to);
    snprintf(next.reason, sizeof(next.reason), "switchover from %s", v->node);
    write_rec(p, &next);
}

/* We own it (and are not holding). */
static void reconcile_owned(const struct lk_placement_view *v, struct lk_pplan *p,
                            const struct facts *f)
{
    const struct lk_phier *h = &v->hier;
    const char *me = v->node;
    struct lk_owner_rec next;
    if (h->switch_tag) {
        if (f->in_service) {
            remove_here(p); /* a remove refused while busy: try again */
            return;
        }
        (void) add(p, LK_PACT_DROP_SWITCH, h->switch_tag);
        if (f->failed && remove_failed_here(h)) {
            log_msg(p, h->tags[0].tag, LK_MSG_NO_TARGET,
                    "the switchover stopped: remove failed here");
            next = h->rec;
            next.seq++;
            next.active = false;
            snprintf(next.reason, sizeof(next.reason), "switchover to %s: remove failed on %s",
                     h->switch_to, me);
            write_rec(p, &next);
            return;
        }
        hand_over_switched(v, p);
        return;
    }
    if (h->removing_tag) {
        (void) add(p, LK_PACT_DROP_REMOVING, h->removing_tag);
        if (!f->in_service && (h->rec.active || h->rec.tried_count > 0)) {
            next = h->rec;
            next.seq++;
            next.active = false;
            next.tried_count = 0; /* out on purpose: no node is retried */
            snprintf(next.reason, sizeof(next.reason), "removed by an operator on %s", me);
            write_rec(p, &next);
        }
        return;
    }
    if (!lk_placement_can_act(v)) {
        if (f->in_service && v->quorum_loss_osu) {
            remove_here(p); /* the record keeps it ours: back in service with quorum */
        }
        return;
    }
    if (!picture_fresh(v)) {
        wait_for_time(p);
        return; /* a peer that just came (back) may hold a newer record */
    }
    if (h->rec.left || h->rec.kept) {
        next = h->rec;
        next.seq++;
        next.left = false;
        next.kept = false;
        write_rec(p, &next);
        return;
    }
    if (!h->rec.active) {
        if (h->rec.tried_count > 0 && f->in_service) {
            remove_here(p); /* what stayed up of it after it failed: out, whole */
        } else if (h->rec.tried_count > 0) {
            retry_untried(v, p);
        }
        return;
    }
    if (f->failed && h->acted) {
        /* Also half in service (a member's restore failed after its child came up): in
         * service whole or not at all. The new record removes what runs here. */
        fail_over_from_here(v, p, f);
        return;
    }
    if (f->failed && f->in_service) {
        remove_here(p); /* never ran under this record: out here, then restored afresh */
        return;
    }
    if (!f->in_service && lk_placement_waits_for_all(v)) {
        return; /* quorum none: the other node was not heard since the start */
    }
    if (!f->in_service) {
        /* Restored here only once every other copy is gone: a live peer that reports any
         * of it in service or busy removes it first (it sees this record), or, when this
         * node never ran it under the record and the peer holds all of it healthy, the
         * record goes to the peer instead of moving a healthy hierarchy (a node that took
         * it over while being cut off, at heal). */
        const struct lk_ppeer *holder = lk_placement_holder(v);
        if (!holder && blocked_by_failed_stop(v, p)) {
            return;
        }
        if (!holder && lost_holder_unfenced(v, p)) {
            wait_for_time(p); /* a copy of a peer that died holding it: fenced first */
            return;
        }
        const struct lk_ppeer *unseen = holder ? NULL : unseen_dead_peer(v);
        if (unseen) {
            (void) fenced(v, p, unseen->name); /* it may hold a newer record: fence first */
            wait_for_time(p);
            return;
        }
        const struct lk_ppeer *gone = holder ? NULL : handed_by_a_heard_dead_node(v);
        if (gone) {
            /* It handed the hierarchy here and may still remove it (a one-way link: dead
             * to us, not to the others): fenced first, as in a takeover. */
            (void) fenced(v, p, gone->name);
            wait_for_time(p);
        } else if (!holder && peer_hears_a_dead_node(v)) {
            /* It may own it by now: its record comes, or it dies. (Also with a fence
             * script: an operator's restore there fenced nobody, as this node had reported
             * nothing in service; a takeover waits the same way, X7.) */
            wait_for_time(p);
        } else if (!holder && not_configured_anywhere(v)) {
            return; /* restored nowhere until resource reset clears it */
        } else if (!holder && unable_here(v)) {
            /* Not installed here: the next node, naming what is missing. */
            struct facts g = *f;
            for (size_t i = 0; i < h->count && !g.failed_tag; i++) {
                if (h->tags[i].exists && h->tags[i].unable) {
                    g.failed_tag = h->tags[i].tag;
                    g.failed_why = "not installed on this node";
                }
            }
            fail_over_from_here(v, p, &g);
        } else if (!holder) {
            restore_here(v, p);
        } else if (!h->acted && holds_whole(v, holder)) {
            next = h->rec;
            next.gen++;
            next.seq = 0;
            next.active = true;
            next.left = false;
            next.kept = false;
            next.failed_over = false;
            next.tried_count = 0;
            snprintf(next.owner, sizeof(next.owner), "%s", holder->name);
            snprintf(next.reason, sizeof(next.reason),
                     "%s holds it in service; %s never ran it under generation %llu", holder->name,
                     me, (unsigned long long) h->rec.gen);
            log_msg(p, h->tags[0].tag, LK_MSG_RECORD_HANDED, holder->name, holder->name,
                    (unsigned long long) next.gen);
            write_rec(p, &next);
        } else {
            wait_for_time(p);
        }
        return;
    }
    if (f->all_in) {
        next = h->rec;
        if (lk_owner_episode_over(&next)) {
            /* In service again: that failover (or planned switchover) is over. */
            next.seq++;
            write_rec(p, &next);
            return;
        }
        switchback(v, p, f);
    }
}

/* An action runs here. A chain being restored (restores queued behind a running one)
 * while the record names another node, while this node lost quorum under
 * quorum-loss-action osu, or while a node reports a failed remove of the hierarchy (it
 * came back after this node took it over blind: nothing more is restored), is stopped: a
 * remove that drops the queued restores and removes what runs once the running action
 * ends. Anything else waits for the action. */
static void busy_here(const struct lk_placement_view *v, struct lk_pplan *p, const struct facts *f)
{
    const struct lk_phier *h = &v->hier;
    if (!h->has_rec || !f->queued) {
        return;
    }
    if (!is_me(v, h->rec.owner)) {
        if (h->rec.owner[0]) {
            log_msg(p, h->tags[0].tag, LK_MSG_NEWER_GENERATION, h->rec.owner,
                    (unsigned long long) h->rec.gen, (unsigned long long) h->held_gen);
        } else {
            log_msg(p, h->tags[0].tag, LK_MSG_CLUSTER_REMOVED, (unsigned long long) h->rec.gen,
                    h->rec.reason);
        }
    } else if (v->holding ||
               ((lk_placement_can_act(v) || !v->quorum_loss_osu) && !stop_failed_peer(v))) {
        return;
    }
    struct lk_pact *a = add(p, LK_PACT_REMOVE, h->tags[0].tag);
    if (a) {
        a->whole = true;
        a->preempt = true;
    }
}

/* A node that did not hold the hierarchy found its owner dead and the failover budget
 * used: its record leaves the hierarchy out of service (nobody, generation + 1) although
 * the owner was only cut off from it (quorum none) and still runs it. Such a record takes
 * no copy down: the only node that runs it, all of it healthy (under the generation just
 * before, when it knows), writes the next generation naming itself (it never handed the
 * hierarchy over). */
static bool kept_through_refused_takeover(const struct lk_placement_view *v, struct lk_pplan *p,
                                          const struct facts *f)
{
    const struct lk_phier *h = &v->hier;
    /* Also when an operator's reset emptied its failover history: it still says it
     * failed over (X12, lksim seed 366). */
    if (h->rec.owner[0] || h->rec.active || h->rec.tried_count > 0 ||
        (h->rec.failover_count == 0 && !h->rec.failed_over) ||
        (h->held_gen != 0 && h->held_gen + 1 != h->rec.gen) || !f->all_in || f->failed ||
        v->holding || !lk_placement_can_act(v) || lk_placement_holder(v)) {
        return false;
    }
    struct lk_owner_rec next = h->rec;
    next.gen++;
    next.seq = 0;
    next.active = true;
    next.left = false;
    next.kept = false;
    next.planned = false;
    snprintf(next.owner, sizeof(next.owner), "%s", v->node);
    snprintf(next.reason, sizeof(next.reason),
             "in service on %s all along: a takeover refused by the failover limit while it was "
             "cut off moves nothing",
             v->node);
    write_rec(p, &next);
    (void) add(p, LK_PACT_MARK_ACTED, NULL);
    return true;
}

static void reconcile(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_phier *h = &v->hier;
    const char *me = v->node;
    struct facts f = facts_of(h);
    if (!f.clustered && !h->has_rec) {
        return;
    }
    if (f.busy) {
        busy_here(v, p, &f);
        return;
    }
    if (!h->has_rec) {
        if (!f.in_service) {
            return;
        }
        struct lk_owner_rec next = {.gen = 1, .active = true};
        snprintf(next.owner, sizeof(next.owner), "%s", me);
        snprintf(next.reason, sizeof(next.reason), "in service on %s", me);
        write_rec(p, &next);
        (void) add(p, LK_PACT_MARK_ACTED, NULL);
        return;
    }
    if (!is_me(v, h->rec.owner)) {
        if (kept_through_refused_takeover(v, p, &f)) {
            return;
        }
        if (h->switch_tag && !f.in_service && !v->holding) {
            /* A switchover asked of a node that held a copy it did not own (the cluster
             * had left the hierarchy out, or the record names another node): once out
             * here, the record names the target as after the owner's switchover, unless
             * the remove failed here (it may still run here). */
            (void) add(p, LK_PACT_DROP_SWITCH, h->switch_tag);
            if (!remove_failed_here(h)) {
                hand_over_switched(v, p);
            }
            return;
        }
        if (!h->rec.owner[0] && !v->holding && remove_failed_here(h) &&
            !lk_owner_stop_failed(&h->rec, me)) {
            /* No owner to keep "remove failed here" in the record: this node writes it
             * (seq + 1), so that a node that restarts without having heard its report
             * still holds the hierarchy (S1, lksim 2/2 seeds 2319 2979). */
            struct lk_owner_rec marked = h->rec;
            marked.seq++;
            write_rec(p, &marked);
            return;
        }
        if (h->removing_tag && !f.in_service) {
            (void) add(p, LK_PACT_DROP_REMOVING, h->removing_tag); /* out here: done */
        }
        if (f.in_service) {
            if (h->rec.owner[0]) {
                log_msg(p, h->tags[0].tag, LK_MSG_NEWER_GENERATION, h->rec.owner,
                        (unsigned long long) h->rec.gen, (unsigned long long) h->held_gen);
            } else {
                log_msg(p, h->tags[0].tag, LK_MSG_CLUSTER_REMOVED, (unsigned long long) h->rec.gen,
                        h->rec.reason);
            }
            remove_here(p);
        } else if (!v->holding) {
            consider_takeover(v, p);
        }
        return;
    }
    if (v->holding) {
        return;
    }
    size_t before = p->count;
    reconcile_owned(v, p, &f);
    bool wrote = false;
    for (size_t i = before; i < p->count; i++) {
        wrote |= p->acts[i].type == LK_PACT_WRITE_REC;
    }
    struct lk_owner_rec marked = h->rec;
    if (!wrote && note_stop_failed(v, &marked)) {
        /* The owner keeps "remove failed on X" in the record (seq + 1, the rest as it
         * is), so that it outlives a restart of the nodes that heard it. */
        marked.seq++;
        write_rec(p, &marked); /* still held here under it: marked acted below */
    }
    if (f.in_service && !wrote) {
        /* Held here under this record; first (a new record would replace it). */
        if (add(p, LK_PACT_MARK_ACTED, NULL)) {
            struct lk_pact mark = p->acts[p->count - 1];
            memmove(&p->acts[before + 1], &p->acts[before],
                    (p->count - 1 - before) * sizeof(*p->acts));
            p->acts[before] = mark;
        }
    }
}

/* ---------------------------------------------------------------- requests */

/* The owner the record names when it is another node, dead, not stopped with lkstop, and
 * not yet known to be gone: not fenced (asks for the fence hook), or without a fence
 * script still inside the fencing window. An operator's restore waits for it as a
 * takeover does. NULL when there is none. */
static const char *owner_not_gone(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    /* Also a record not meant to run (X7): its owner, cut off before it was declared dead,
     * may have restored it there by an operator's restore of its own (with quorum none,
     * dead_peer_not_fenced covers every dead peer). */
    if (!v->hier.has_rec || rec->left || !rec->owner[0] || node_alive(v, rec->owner) ||
        (!rec->active && v->quorum_none)) {
        return NULL;
    }
    if (v->fence_script) {
        return fenced(v, p, rec->owner) ? NULL : rec->owner;
    }
    return self_fence_pending(v, find_peer(v, rec->owner)) ? rec->owner : NULL;
}

/* While waiting for all (quorum none, a peer not heard since the start) an operator's
 * restore is the override; with a fence script a dead peer is fenced first, as it may
 * hold a newer record and run the hierarchy. The first such peer not fenced, or NULL. */
static const char *unseen_not_fenced(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_ppeer *q = unseen_dead_peer(v);
    if (!q) {
        return NULL;
    }
    (void) fenced(v, p, q->name); /* asks for the fence hook unless it runs */
    return q->name;
}

/* With quorum none nothing stops a peer cut off from this node from restoring the
 * hierarchy on its side (window (b) of the fencing window); a fence script closes it: an
 * operator's restore fences every dead peer the hierarchy is extended to first (not the
 * owner that left with lkstop). The first such peer not fenced, or NULL. */
static const char *dead_peer_not_fenced(const struct lk_placement_view *v, struct lk_pplan *p)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    for (size_t i = 0; v->quorum_none && v->fence_script && i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        bool left = v->hier.has_rec && rec->left && strcmp(rec->owner, q->name) == 0;
        if (q->configured && !q->witness && !q->alive && q->priority > 0 && !left &&
            !fenced(v, p, q->name)) {
            return q->name;
        }
    }
    return NULL;
}

/* A live peer that still hears the owner the record names (dead here, a one-way or partial
 * cut): the owner is not dead for the cluster and may still run the hierarchy. That peer,
 * or NULL. */
static const struct lk_ppeer *owner_heard(const struct lk_placement_view *v)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    if (!v->hier.has_rec || !rec->active || rec->left || !rec->owner[0] ||
        node_alive(v, rec->owner)) {
        return NULL;
    }
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        for (size_t k = 0; q->alive && !q->witness && q->configured && k < q->alive_count; k++) {
            if (strcmp(q->alive_set[k], rec->owner) == 0) {
                return q;
            }
        }
    }
    return NULL;
}

/* The owner the record names when it is another live node than target and the record
 * has it run there (active, not left): it may restore the hierarchy itself at any moment,
 * so an operator's restore elsewhere asks it to hand the hierarchy over (a switchover)
 * instead of writing a record of its own. NULL when there is none. */
static const struct lk_ppeer *owner_alive_elsewhere(const struct lk_placement_view *v,
                                                    const char *target)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    if (!v->hier.has_rec || !rec->active || rec->left || !rec->owner[0] || is_me(v, rec->owner) ||
        strcmp(rec->owner, target) == 0) {
        return NULL;
    }
    const struct lk_ppeer *q = find_peer(v, rec->owner);
    return q && q->alive && !q->witness ? q : NULL;
}

/* X7: the record names a dead owner and a live peer other than target is the node that
 * takes it over (the best one, as consider_takeover picks it): it may be writing its
 * record right now (on the way, or cut off unnoticed), so an operator's restore elsewhere
 * would race with it. That peer, or NULL. */
static const struct lk_ppeer *takeover_elsewhere(const struct lk_placement_view *v,
                                                 const char *target)
{
    const struct lk_owner_rec *rec = &v->hier.rec;
    if (!v->hier.has_rec || !rec->active || rec->left || rec->kept || !rec->owner[0] ||
        node_alive(v, rec->owner) || lk_placement_waits_for_all(v)) {
        return NULL;
    }
    const char *best = lk_placement_target(v, NULL, NULL);
    if (!best || is_me(v, best) || strcmp(best, target) == 0) {
        return NULL;
    }
    return find_peer(v, best);
}

/* Whether peer q reports name among the nodes it hears (it told us whom it sees). */
static bool peer_hears(const struct lk_ppeer *q, const char *name)
{
    for (size_t k = 0; k < q->alive_count; k++) {
        if (strcmp(q->alive_set[k], name) == 0) {
            return true;
        }
    }
    return !q->has_alive_set;
}

/* Whether peer q reports an action pending on a resource of the hierarchy. */
static bool peer_busy(const struct lk_placement_view *v, const struct lk_ppeer *q)
{
    for (size_t t = 0; q->states && t < v->hier.count; t++) {
        if (q->states[t].busy) {
            return true;
        }
    }
    return false;
}

/* An operator's restore that node (which holds or owns tag's hierarchy: verb) must act
 * on: a switch request to target, sent to node; the request is handled here. */
static void ask_to_switch(struct lk_pplan *p, const char *tag, const char *node, const char *target,
                          const char *verb)
{
    struct lk_pact *a = add(p, LK_PACT_SEND_SWITCH, tag);
    if (a) {
        snprintf(a->node, sizeof(a->node), "%s", node);
        snprintf(a->to, sizeof(a->to), "%s", target);
        snprintf(a->text, sizeof(a->text), "cannot reach node '%s', which %s '%s'", node, verb,
                 tag);
    }
    verdict(p, LK_PVERDICT_HANDLED, "%s", "");
}

/* An operator's restore on ev->target, or (MARK_IN, ins_setstate ISP/ISU) the operator's
 * word that the hierarchy runs here: the same rules, with target this node, except that
 * a hand-set state never moves the hierarchy: where a restore would ask another node to
 * switch it over (it holds or owns it), MARK_IN is refused. */
static void restore_requested(const struct lk_placement_view *v, struct lk_pplan *p,
                              const struct lk_pevent *ev, const char *tag)
{
    const struct lk_phier *h = &v->hier;
    const char *me = v->node;
    bool by_hand = ev->type == LK_PEV_MARK_IN;
    const char *target = ev->target && !by_hand ? ev->target : me;
    struct facts f = facts_of(h);
    const struct lk_ppeer *holder = NULL, *failed_stop = NULL, *unsynced = NULL, *hears = NULL;
    const struct lk_ppeer *owner = NULL, *lost = NULL;
    const char *dead_owner = NULL;
    bool failed_here = false;        /* a remove failed here: the application may still run here */
    const char *failed_other = NULL; /* MARK_IN: another member failed (OSF) here */
    for (size_t i = 0; i < h->count; i++) {
        failed_here |= h->tags[i].exists && h->tags[i].stop_failed;
        if (by_hand && !failed_other && h->tags[i].exists && h->tags[i].state == LK_STATE_OSF &&
            strcmp(h->tags[i].tag, tag) != 0) {
            failed_other = h->tags[i].tag;
        }
    }
    if (!v->settled) {
        verdict(p, LK_PVERDICT_REFUSED,
                "this node is still joining the cluster (waiting for its peers' data); try "
                "again in a moment");
    } else if (ev->target_priority == 0) {
        verdict(p, LK_PVERDICT_REFUSED,
                "the hierarchy of '%s' is not extended to node '%s' (lkcli resource extend)", tag,
                target);
    } else if (!node_alive(v, target)) {
        verdict(p, LK_PVERDICT_REFUSED, "node '%s' is not ALIVE", target);
    } else if (not_configured_anywhere(v)) {
        verdict(p, LK_PVERDICT_REFUSED,
                "a resource of the hierarchy of '%s' is not configured correctly: it is restored "
                "on no node; fix its definition, then 'lkcli resource reset' where it failed",
                tag);
    } else if (node_unable(v, target)) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' is unable to run the hierarchy of '%s': a resource of it is not "
                "installed there; install it, then 'lkcli resource reset' on '%s'",
                target, tag, target);
    } else if (!lk_placement_can_act(v)) {
        verdict(p, LK_PVERDICT_REFUSED, "this node has no quorum: nothing is brought in service");
    } else if (v->holding) {
        verdict(p, LK_PVERDICT_REFUSED,
                "this node has just resumed after a freeze and has not heard its peers since: "
                "nothing is brought in service; try again in a moment");
    } else if (h->has_rec && h->rec.kept && strcmp(h->rec.owner, target) != 0 &&
               !node_alive(v, h->rec.owner)) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' stopped with lkstop -f and its applications may still run there: "
                "start lkd on '%s' first (or stop them there by hand and restore on '%s')",
                h->rec.owner, h->rec.owner, h->rec.owner);
    } else if (!f.in_service && !f.busy && (failed_stop = stop_failed_peer(v)) &&
               strcmp(failed_stop->name, target) != 0) {
        verdict(p, LK_PVERDICT_REFUSED,
                "a remove of the hierarchy of '%s' failed on node '%s': it may still run there; "
                "stop it there and run 'lkcli resource reset' there, or let the fence hook "
                "fence '%s'",
                tag, failed_stop->name, failed_stop->name);
    } else if (!f.in_service && !f.busy && failed_here && !is_me(v, target)) {
        verdict(p, LK_PVERDICT_REFUSED,
                "a remove of the hierarchy of '%s' failed on this node ('%s'): it may still run "
                "here; stop it here first ('lkcli resource remove --tag %s', or by hand and "
                "'lkcli resource reset')",
                tag, me, tag);
    } else if (failed_other) {
        /* Under an active record this node acted on, a member failed here fails the
         * hierarchy over: a state set by hand would move it to another node. */
        verdict(p, LK_PVERDICT_REFUSED,
                "resource '%s' of the hierarchy of '%s' is OSF here: in service by hand, the "
                "cluster would fail the hierarchy over; set '%s' OSU first (or restore the "
                "hierarchy with 'lkcli resource restore')",
                failed_other, tag, failed_other);
    } else if (by_hand && h->switch_tag) {
        /* The switchover removes whatever is in service here until it is out: a state set
         * in service by hand now would be removed again at once (a remove runs). */
        verdict(p, LK_PVERDICT_REFUSED,
                "the hierarchy of '%s' is being switched over to node '%s'; try again once it "
                "is done",
                tag, h->switch_to ? h->switch_to : "?");
    } else if ((f.in_service || f.busy) &&
               (!by_hand || !h->has_rec || (is_me(v, h->rec.owner) && h->rec.active))) {
        /* By hand, in service here is enough only under this node's active record (or
         * none, which the reconciliation writes): under another node's, or an inactive
         * one, what is in service here is removed at the next reconciliation, so a state
         * set by hand takes the rules below (refused where another node owns it, else
         * the record names this node). */
        if (is_me(v, target)) {
            if (!f.busy && h->has_rec && is_me(v, h->rec.owner)) {
                /* Already here: an operator's restore still starts the budget afresh. */
                char why[LK_OWNER_REASON_MAX];
                snprintf(why, sizeof(why), "failover budget reset by a restore on %s", me);
                reset_budget(v, p, why);
            }
            verdict(p, LK_PVERDICT_LOCAL, "%s", "");
        } else if (f.busy) {
            verdict(p, LK_PVERDICT_REFUSED,
                    "the hierarchy of '%s' is busy here; try again when it is idle", tag);
        } else {
            char why[LK_OWNER_REASON_MAX];
            snprintf(why, sizeof(why), "failover budget reset by a switchover to %s", target);
            reset_budget(v, p, why);
            start_switch(v, p, &f, target);
            verdict(p, LK_PVERDICT_HANDLED, "%s", "");
        }
    } else if ((unsynced = peer_not_synced(v))) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' has just come back and its data has not arrived yet: it may run the "
                "hierarchy of '%s'; try again in a moment",
                unsynced->name, tag);
    } else if ((holder = lk_placement_holder(v)) && strcmp(holder->name, target) == 0 &&
               peer_busy(v, holder)) {
        /* S5: the holder ignores a restore to itself while an action runs there (as a
         * restore typed there is refused while busy): the budget would not start afresh. */
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' is busy with the hierarchy of '%s'; try again in a moment", holder->name,
                tag);
    } else if (holder && by_hand) {
        /* The central invariant: at most one node holds a hierarchy in service. */
        verdict(p, LK_PVERDICT_REFUSED,
                "the hierarchy of '%s' is in service or busy on node '%s': at most one node holds "
                "it in service; take it out of service there first",
                tag, holder->name);
    } else if (holder) {
        /* Already on the target: the switch asks the holder to start the failover budget
         * afresh (an operator's restore does, wherever it is typed); the wait ends at once. */
        ask_to_switch(p, tag, holder->name, target, "holds");
    } else if ((owner = owner_alive_elsewhere(v, target)) && by_hand) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' owns the hierarchy of '%s' and may restore it at any moment: take it "
                "out of service there first, or move it here with 'lkcli resource restore'",
                owner->name, tag);
    } else if (owner) {
        /* X7: the owner may restore it itself at any moment (it lost quorum, or it waits):
         * a record written here would race with it. Only the owner hands it over. */
        if (!peer_hears(owner, me)) {
            verdict(p, LK_PVERDICT_REFUSED,
                    "node '%s' owns the hierarchy of '%s' and does not hear this node: it may "
                    "restore it itself; try again once it hears this node",
                    owner->name, tag);
        } else {
            ask_to_switch(p, tag, owner->name, target, "owns");
        }
    } else if ((hears = owner_heard(v))) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' owns the hierarchy of '%s' and node '%s' still hears it: it may still "
                "run it; try again once it is gone",
                v->hier.rec.owner, tag, hears->name);
    } else if ((dead_owner = owner_not_gone(v, p))) {
        if (v->fence_script) {
            verdict(p, LK_PVERDICT_REFUSED,
                    "node '%s' owns the hierarchy of '%s' and is not fenced: it may still run "
                    "it; the fence hook runs against '%s' first: try again once it is fenced",
                    dead_owner, tag, dead_owner);
        } else {
            verdict(p, LK_PVERDICT_REFUSED,
                    "node '%s' owns the hierarchy of '%s' and was declared dead less than the "
                    "fencing window (%llu ms) ago: it may still run it; try again then",
                    dead_owner, tag, (unsigned long long) (2 * v->dead_ms));
        }
    } else if ((dead_owner = unseen_not_fenced(v, p))) {
        verdict(p, LK_PVERDICT_REFUSED,
                "this node has not heard node '%s' since it started and it is not fenced: it "
                "may run the hierarchy of '%s'; the fence hook runs against '%s' first: try "
                "again once it is fenced",
                dead_owner, tag, dead_owner);
    } else if ((dead_owner = dead_peer_not_fenced(v, p))) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' is DEAD and not fenced: with quorum none it may run the hierarchy of "
                "'%s'; the fence hook runs against '%s' first: try again once it is fenced",
                dead_owner, tag, dead_owner);
    } else if ((lost = lost_holder_unfenced(v, p))) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' held the hierarchy of '%s' when it was declared DEAD and is not "
                "fenced: it may still run it; the fence hook runs against '%s' first: try again "
                "once it is fenced",
                lost->name, tag, lost->name);
    } else if ((owner = takeover_elsewhere(v, target))) {
        verdict(p, LK_PVERDICT_REFUSED,
                "node '%s' owns the hierarchy of '%s' and is DEAD: node '%s' takes it over; try "
                "again once it has (the restore then moves it)",
                v->hier.rec.owner, tag, owner->name);
    } else {
        struct lk_owner_rec next = h->has_rec ? h->rec : (struct lk_owner_rec){0};
        if (!h->has_rec || strcmp(next.owner, target) != 0 || !next.active) {
            next.gen++;
            next.seq = 0;
        } else {
            next.seq++;
        }
        next.active = true;
        next.left = false;
        next.kept = false;
        next.failed_over = false;
        next.planned = false;
        (void) lk_owner_budget_reset(&next); /* an operator's restore starts afresh */
        snprintf(next.owner, sizeof(next.owner), "%s", target);
        snprintf(next.reason, sizeof(next.reason),
                 by_hand ? "set in service by hand on %s" : "restore requested on %s", me);
        write_rec(p, &next);
        if (is_me(v, target)) {
            (void) add(p, LK_PACT_MARK_ACTED, NULL);
            verdict(p, LK_PVERDICT_LOCAL, "%s", "");
        } else {
            verdict(p, LK_PVERDICT_HANDLED, "%s", "");
        }
    }
}

static void remove_requested(const struct lk_placement_view *v, struct lk_pplan *p,
                             const struct lk_pevent *ev, const char *tag)
{
    struct facts f = facts_of(&v->hier);
    const struct lk_ppeer *holder = NULL;
    bool may_run_here = false; /* a remove failed here: the remove is for this copy */
    for (size_t i = 0; i < v->hier.count; i++) {
        may_run_here |= v->hier.tags[i].exists && v->hier.tags[i].stop_failed;
    }
    if (!f.in_service && !f.busy && !may_run_here && (holder = lk_placement_holder(v))) {
        struct lk_pact *a = add(p, LK_PACT_SEND_REMOVE, tag);
        if (a) {
            snprintf(a->node, sizeof(a->node), "%s", holder->name);
            a->whole = ev->whole;
            snprintf(a->text, sizeof(a->text), "cannot reach node '%s', which holds '%s'",
                     holder->name, tag);
        }
        verdict(p, LK_PVERDICT_HANDLED, "%s", "");
        return;
    }
    /* The record follows once it is out: noted only when this remove does something here
     * (a busy hierarchy refuses it; a node that neither holds nor owns it has nothing to
     * take out), so that a later takeover does not take it out of service. */
    bool owner_here = v->hier.has_rec && is_me(v, v->hier.rec.owner);
    if (!f.busy && !f.in_service && owner_here && !may_run_here && !v->hier.rec.active &&
        v->hier.rec.tried_count == 0) {
        /* X4: out already, and the record says so: nothing to note. A note would wait for
         * the next reconciliation and take out a restore asked meanwhile on another node. */
        verdict(p, LK_PVERDICT_LOCAL, "%s", "");
        return;
    }
    if (!f.busy && (f.in_service || owner_here) && (!may_run_here || owner_here)) {
        (void) add(p, LK_PACT_NOTE_REMOVING, tag);
    }
    verdict(p, LK_PVERDICT_LOCAL, "%s", "");
}

/* ins_setstate OSU: out of service here without a remove. As an operator's remove here:
 * when this node held the hierarchy (or owns it, meant to run), the removal is noted, so
 * that once nothing of it is in service here the record leaves it out of service (the
 * reconciliation writes it: no failover, no restore anywhere). Never forwarded: a copy
 * elsewhere is that node's. */
static void mark_out(const struct lk_placement_view *v, struct lk_pplan *p, const char *tag)
{
    struct facts f = facts_of(&v->hier);
    bool owner_here = v->hier.has_rec && is_me(v, v->hier.rec.owner) && v->hier.rec.active;
    if (!f.busy && (f.in_service || owner_here)) {
        (void) add(p, LK_PACT_NOTE_REMOVING, tag);
    }
    verdict(p, LK_PVERDICT_LOCAL, "%s", "");
}

static void switch_message(const struct lk_placement_view *v, struct lk_pplan *p,
                           const struct lk_pevent *ev)
{
    const struct lk_phier *h = &v->hier;
    const char *to = ev->target;
    if (ev->target_priority == 0) {
        return;
    }
    struct facts f = facts_of(h);
    if (is_me(v, to)) {
        if (!f.busy && h->has_rec && is_me(v, h->rec.owner) && !h->rec.active &&
            lk_placement_can_act(v) && !v->holding) {
            /* X4: a restore asked for this node, which owns the hierarchy but left it out
             * (an operator's remove here ended before the request arrived): meant to run
             * here again. Out of service, the reconciliation restores it once the record
             * is written; half in service (a child left up), the rest is restored now. */
            struct lk_owner_rec next = h->rec;
            next.gen++;
            next.seq = 0;
            next.active = true;
            next.left = false;
            next.kept = false;
            next.failed_over = false;
            next.planned = false;
            (void) lk_owner_budget_reset(&next); /* asked by an operator on ev->from */
            snprintf(next.reason, sizeof(next.reason), "restore requested on %s", ev->from);
            write_rec(p, &next);
            if (f.in_service) {
                restore_here(v, p);
            }
            return;
        }
        if (f.in_service && !f.busy && h->has_rec && is_me(v, h->rec.owner)) {
            /* A restore asked on ev->from for the node that holds it: starts afresh. */
            char why[LK_OWNER_REASON_MAX];
            snprintf(why, sizeof(why), "failover budget reset by a restore on %s asked by %s", to,
                     ev->from);
            reset_budget(v, p, why);
        }
        return;
    }
    if (f.in_service || f.busy) {
        char why[LK_OWNER_REASON_MAX];
        snprintf(why, sizeof(why), "failover budget reset by a switchover to %s asked by %s", to,
                 ev->from);
        reset_budget(v, p, why);
        start_switch(v, p, &f, to);
    } else if (h->has_rec && is_me(v, h->rec.owner)) {
        struct lk_owner_rec next = h->rec;
        next.gen++;
        next.seq = 0;
        next.active = true;
        next.failed_over = false;
        next.planned = true;
        (void) lk_owner_budget_reset(&next); /* asked by an operator on ev->from */
        snprintf(next.owner, sizeof(next.owner), "%s", to);
        snprintf(next.reason, sizeof(next.reason), "switchover asked by %s", ev->from);
        write_rec(p, &next);
    }
}

static void remove_message(struct lk_pplan *p, const struct lk_pevent *ev, const char *tag)
{
    (void) ev;
    (void) add(p, LK_PACT_NOTE_REMOVING, tag);
    struct lk_pact *a = add(p, LK_PACT_REMOVE, tag);
    if (a) {
        a->whole = ev->whole;
    }
}

static void switch_all(const struct lk_placement_view *v, struct lk_pplan *p)
{
    if (!v->settled) {
        verdict(p, LK_PVERDICT_REFUSED,
                "this node is still joining the cluster; try again in a moment");
        return;
    }
    if (!lk_placement_can_act(v)) {
        verdict(p, LK_PVERDICT_REFUSED, "this node has no quorum: nothing can be switched over");
        return;
    }
    const struct lk_phier *h = &v->hier;
    struct facts f = facts_of(h);
    if (h->count > 0 && f.in_service && !h->switch_tag && !h->removing_tag) {
        const char *to = f.clustered ? lk_placement_target(v, NULL, v->node) : NULL;
        if (to) {
            start_switch(v, p, &f, to);
        } else {
            /* No backup: out of service here, as plain lkstop does. */
            (void) add(p, LK_PACT_NOTE_REMOVING, h->tags[0].tag);
            remove_here(p);
        }
    }
    verdict(p, LK_PVERDICT_HANDLED, "%s", "");
}

static void leave(const struct lk_placement_view *v, struct lk_pplan *p, const struct lk_pevent *ev)
{
    const struct lk_phier *h = &v->hier;
    if (h->has_rec && is_me(v, h->rec.owner) && !h->rec.left && h->rec.active) {
        struct facts f = facts_of(h);
        struct lk_owner_rec next = h->rec;
        next.seq++;
        next.left = true;
        next.kept = ev->running && f.in_service;
        snprintf(next.reason, sizeof(next.reason), "%s stopped", v->node);
        write_rec(p, &next);
    }
}

int lk_placement_decide(const struct lk_placement_view *view, const struct lk_pevent *ev,
                        struct lk_pplan *ret_plan)
{
    ret_plan->count = 0;
    ret_plan->overflow = false;
    ret_plan->view = view;
    if (!view || !ev || !view->node || ev->type >= LK_PEV_COUNT ||
        (view->hier.count == 0 && ev->type != LK_PEV_SWITCH_ALL) ||
        (view->hier.count > 0 && !view->hier.tags)) {
        return -EINVAL;
    }
    const char *tag = ev->tag ? ev->tag : view->hier.count ? view->hier.tags[0].tag : "";
    switch (ev->type) {
    case LK_PEV_RECONCILE:
        reconcile(view, ret_plan);
        break;
    case LK_PEV_RESTORE_REQUESTED:
    case LK_PEV_MARK_IN:
        restore_requested(view, ret_plan, ev, tag);
        break;
    case LK_PEV_MARK_OUT:
        mark_out(view, ret_plan, tag);
        break;
    case LK_PEV_REMOVE_REQUESTED:
        remove_requested(view, ret_plan, ev, tag);
        break;
    case LK_PEV_SWITCH_MESSAGE:
        if (!ev->target || !ev->from) {
            return -EINVAL;
        }
        switch_message(view, ret_plan, ev);
        break;
    case LK_PEV_REMOVE_MESSAGE:
        remove_message(ret_plan, ev, tag);
        break;
    case LK_PEV_SWITCH_ALL:
        switch_all(view, ret_plan);
        break;
    case LK_PEV_LEAVE:
        leave(view, ret_plan, ev);
        break;
    case LK_PEV_RESET: {
        char why[LK_OWNER_REASON_MAX];
        snprintf(why, sizeof(why), "failover budget reset by an operator on %s", view->node);
        reset_budget(view, ret_plan, why);
        break;
    }
    default:
        return -EINVAL;
    }
    if (ret_plan->overflow) {
        ret_plan->count = 0;
        return -ENOMEM;
    }
    return 0;
}

/* ---------------------------------------------------------------- queries */

bool lk_placement_has_backup(const struct lk_placement_view *v)
{
    struct lk_owner_rec tried = v->hier.has_rec ? v->hier.rec : (struct lk_owner_rec){0};
    lk_owner_add_tried(&tried, v->node);
    return lk_placement_target(v, &tried, v->node) != NULL;
}

bool lk_placement_owned_elsewhere(const struct lk_placement_view *v)
{
    /* A live peer that runs any of it, or a node where its remove failed (neither fenced
     * nor cleared): not restored here before that copy is gone. */
    return (v->hier.has_rec && !is_me(v, v->hier.rec.owner)) || lk_placement_holder(v) ||
           stop_failed_peer(v);
}

bool lk_placement_waits_for_all(const struct lk_placement_view *v)
{
    for (size_t i = 0; v->quorum_none && i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (q->configured && !q->witness && q->unseen) {
            return true;
        }
    }
    return false;
}

/* A dead configured peer not heard since this node started and not fenced: it may hold a
 * newer record and run the hierarchy. With a fence script it is fenced before this node
 * restores anything on its own old record. NULL when there is none (or no script). */
static const struct lk_ppeer *unseen_dead_peer(const struct lk_placement_view *v)
{
    for (size_t i = 0; v->fence_script && i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        bool ok = false;
        for (size_t f = 0; f < v->fence_count; f++) {
            ok |= strcmp(v->fences[f].node, q->name) == 0 && v->fences[f].ok;
        }
        if (q->configured && !q->witness && q->unseen && !q->alive && !ok) {
            return q;
        }
    }
    return NULL;
}

bool lk_placement_startup_may_restore(const struct lk_placement_view *v)
{
    /* A node that restarts cut off knows only its old record: the others may have taken
     * the hierarchy over since. Start-up restores it only with quorum, and with quorum
     * none once the other nodes were heard; reconciliation brings it in service then. */
    if (!facts_of(&v->hier).clustered && !v->hier.has_rec) {
        return true;
    }
    /* Nor while an alive peer's records and states have not arrived since it came (it
     * was heard just after this node settled: it may own and run the hierarchy), nor
     * while a remove of it failed on another node that is not fenced since. */
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *q = &v->peers[i];
        if (q->alive && !q->witness && q->configured && (!q->synced || !q->has_states)) {
            return false;
        }
    }
    return lk_placement_can_act(v) && !lk_placement_waits_for_all(v) && !stop_failed_peer(v) &&
           !unseen_dead_peer(v);
}

/* ---------------------------------------------------------------- text */

static const char *const act_names[LK_PACT_COUNT] = {
        "WRITE_REC",   "MARK_ACTED",    "RESTORE",       "REMOVE", "FAIL_HERE",
        "FENCE",       "SEND_SWITCH",   "SEND_REMOVE",   "LOG",    "START_SWITCH",
        "DROP_SWITCH", "NOTE_REMOVING", "DROP_REMOVING", "WAIT",   "VERDICT",
};

static const char *const verdict_names[] = {"LOCAL", "HANDLED", "REFUSED"};

char *lk_pact_format(const struct lk_pact *act, char *buf, size_t size)
{
    const char *name = act->type < LK_PACT_COUNT ? act_names[act->type] : "?";
    switch (act->type) {
    case LK_PACT_WRITE_REC: {
        const struct lk_owner_rec *r = &act->rec;
        char tried[LK_TRIED_MAX * (LK_TAG_MAX + 1) + 2] = "-";
        size_t len = 0;
        for (size_t i = 0; i < r->tried_count && i < LK_TRIED_MAX; i++) {
            int w = snprintf(tried + len, sizeof(tried) - len, "%s%s", i ? "," : "", r->tried[i]);
            len += w > 0 ? (size_t) w : 0;
            len = len < sizeof(tried) ? len : sizeof(tried) - 1;
        }
        char sf[LK_TRIED_MAX * (LK_TAG_MAX + 1) + 16] = "";
        len = 0;
        for (size_t i = 0; i < r->stop_failed_count && i < LK_TRIED_MAX; i++) {
            int w = snprintf(sf + len, sizeof(sf) - len, "%s%s",
                             i ? "," : " stop_failed=", r->stop_failed[i]);
            len += w > 0 ? (size_t) w : 0;
            len = len < sizeof(sf) ? len : sizeof(sf) - 1;
        }
        snprintf(buf, size,
                 "WRITE_REC gen=%" PRIu64 " seq=%" PRIu64 " owner=%s %s%s%s%s%s tried=%s "
                 "failovers=%zu%s reason=%s",
                 r->gen, r->seq, r->owner[0] ? r->owner : "-", r->active ? "active" : "inactive",
                 r->left ? " left" : "", r->kept ? " kept" : "",
                 r->failed_over ? " failed_over" : "", r->planned ? " planned" : "", tried,
                 r->failover_count, sf, r->reason);
        break;
    }
    case LK_PACT_MARK_ACTED:
    case LK_PACT_WAIT:
        snprintf(buf, size, "%s", name);
        break;
    case LK_PACT_REMOVE:
        snprintf(buf, size, "REMOVE %s%s%s", act->tag, act->whole ? " whole" : "",
                 act->preempt ? " preempt" : "");
        break;
    case LK_PACT_FAIL_HERE:
        snprintf(buf, size, "FAIL_HERE %s %s", act->tag, act->text);
        break;
    case LK_PACT_FENCE:
        snprintf(buf, size, "FENCE %s", act->node);
        break;
    case LK_PACT_SEND_SWITCH:
        snprintf(buf, size, "SEND_SWITCH %s %s to=%s", act->node, act->tag, act->to);
        break;
    case LK_PACT_SEND_REMOVE:
        snprintf(buf, size, "SEND_REMOVE %s %s%s", act->node, act->tag, act->whole ? " whole" : "");
        break;
    case LK_PACT_LOG:
        snprintf(buf, size, "LOG %s %d %s %s", act->tag, act->number,
                 lk_severity_name(act->severity), act->text);
        break;
    case LK_PACT_START_SWITCH:
        snprintf(buf, size, "START_SWITCH %s to=%s", act->tag, act->node);
        break;
    case LK_PACT_VERDICT:
        snprintf(buf, size, "VERDICT %s%s%s",
                 act->verdict <= LK_PVERDICT_REFUSED ? verdict_names[act->verdict] : "?",
                 act->text[0] ? " " : "", act->text);
        break;
    default:
        snprintf(buf, size, "%s %s", name, act->tag);
        break;
    }
    return buf;
}

static const char *const event_names[LK_PEV_COUNT] = {
        "reconcile",
        "restore-requested",
        "remove-requested",
        "switch-message",
        "remove-message",
        "switch-all",
        "leave",
        "reset",
        "mark-in",
        "mark-out",
};

const char *lk_pevent_type_name(enum lk_pevent_type type)
{
    return type < LK_PEV_COUNT ? event_names[type] : "?";
}

/* Appends to buf at *len, truncating. */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= size) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (w > 0) {
        *len += (size_t) w;
    }
    if (*len >= size) {
        *len = size - 1;
    }
}

char *lk_placement_view_format(const struct lk_placement_view *v, char *buf, size_t size)
{
    size_t len = 0;
    const struct lk_phier *h = &v->hier;
    if (size == 0) {
        return buf;
    }
    buf[0] = '\0';
    put(buf, size, &len,
        "node=%s%s%s%s quorum=%s%s%s fence=%s max=%u window=%us dead=%" PRIu64 "ms now=%" PRId64
        " mono=%" PRIu64 " start=%" PRIu64,
        v->node, v->settled ? "" : " unsettled", v->holding ? " holding" : "",
        v->orphan_check ? " orphan-check" : "", v->quorate ? "yes" : "no",
        v->quorum_none ? "(none)" : "", v->quorum_loss_osu ? " loss=osu" : "",
        v->fence_script ? "yes" : "no", v->max_failovers, v->failover_window_s, v->dead_ms,
        v->now_ms, v->mono_ms, v->started_ms);
    put(buf, size, &len, " | hier prio=%u", h->priority);
    for (size_t i = 0; i < h->count; i++) {
        const struct lk_ptag *t = &h->tags[i];
        put(buf, size, &len, " %s=%s%s%s%s%s%s%s", t->tag,
            t->exists ? lk_state_name(t->state) : "?", t->busy ? "+busy" : "",
            t->stop_failed ? "+stop-failed" : "", t->unable ? "+unable" : "",
            t->not_configured ? "+not-configured" : "", t->root ? "+root" : "",
            t->clustered ? "+ext" : "");
    }
    if (h->has_rec) {
        put(buf, size, &len,
            " rec=g%" PRIu64 ".s%" PRIu64
            " owner=%s%s%s%s%s tried=%zu failovers=%zu%s held=%" PRIu64,
            h->rec.gen, h->rec.seq, h->rec.owner[0] ? h->rec.owner : "-",
            h->rec.active ? " active" : " inactive", h->rec.left ? " left" : "",
            h->rec.kept ? " kept" : "", h->rec.failed_over ? " failed_over" : "",
            h->rec.tried_count, h->rec.failover_count, h->acted ? " acted" : "", h->held_gen);
        for (size_t i = 0; i < h->rec.stop_failed_count; i++) {
            put(buf, size, &len, "%s%s", i ? "," : " stop_failed=", h->rec.stop_failed[i]);
        }
    } else {
        put(buf, size, &len, " rec=none");
    }
    if (h->has_root && h->switchback == LK_SWITCHBACK_AUTOMATIC) {
        put(buf, size, &len, " switchback=automatic");
    }
    if (h->switch_tag) {
        put(buf, size, &len, " switching=%s->%s", h->switch_tag, h->switch_to);
    }
    if (h->removing_tag) {
        put(buf, size, &len, " removing=%s", h->removing_tag);
    }
    for (size_t i = 0; i < v->peer_count; i++) {
        const struct lk_ppeer *p = &v->peers[i];
        put(buf, size, &len, " | peer %s %s%s%s%s%s%s%s prio=%u dead_since=%" PRIu64, p->name,
            p->alive ? "alive" : "dead", p->configured ? "" : " unconfigured",
            p->witness ? " witness" : "", p->synced ? " synced" : "",
            p->has_states ? " states" : "", p->has_alive_set ? " sees" : "",
            p->held_when_lost ? (p->guarded ? " lost-holding guarded" : " lost-holding")
                              : (p->guarded ? " guarded" : ""),
            p->priority, p->dead_since_ms);
        for (size_t k = 0; k < p->alive_count; k++) {
            put(buf, size, &len, "%s%s", k ? "," : " sees=", p->alive_set[k]);
        }
        for (size_t t = 0; p->stop_failed && t < h->count; t++) {
            if (p->stop_failed[t]) {
                put(buf, size, &len, " %s=stop-failed", h->tags[t].tag);
            }
        }
        put(buf, size, &len, "%s%s", p->unable ? " unable" : "",
            p->not_configured ? " not-configured" : "");
        for (size_t t = 0; p->states && t < h->count; t++) {
            if (p->states[t].known) {
                put(buf, size, &len, " %s=%s%s", h->tags[t].tag,
                    p->states[t].in_service ? "in" : "out", p->states[t].busy ? "+busy" : "");
            }
        }
    }
    for (size_t i = 0; i < v->fence_count; i++) {
        const struct lk_pfence *f = &v->fences[i];
        put(buf, size, &len, " | fence %s%s%s failed_at=%" PRIu64, f->node,
            f->running ? " running" : "", f->ok ? " ok" : "", f->failed_at_ms);
    }
    return buf;
}
