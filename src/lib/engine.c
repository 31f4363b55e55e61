/* The engine: (view, event) → plan, as a state × event table for one resource.
 *
 * Rows, for the resource the event names:
 *   RESTORE_REQUESTED  busy → refuse; in service → nothing; else commit pending=restore,
 *                      intent=in, run restore
 *   REMOVE_REQUESTED   busy → refuse; OSU → nothing (intent=out); else commit
 *                      pending=remove, intent=out, run remove. preempt (the cluster's):
 *                      never refused; queued restores dropped, running actions finish
 *                      with intent=out (their end then removes), the rest removed
 *   RUN_FINISHED       restore ok → ISP (intent out: then removed), failed → OSF and
 *                      removed (fail-remove); remove ok → OSU, failed → OSF "remove
 *                      failed: may still be running" + stop_failed; fail-remove ok → OSF
 *                      with the cause, failed → the same as a failed remove;
 *                      probe ok → ISP (restore skipped); probe failed → OSF and remove
 *                      first (cleanup), then restore; INIT_OSU: remove, then OSU
 *   STARTUP            interrupted remove of an operator → remove again; in service, or
 *                      interrupted restore, probe or lkstop → probe with quickchk, else
 *                      deepchk, else restore (INIT_OSU: remove, so OSU is true);
 *                      out of service → restore only as the init strategy says
 *   SHUTDOWN           in service and idle → remove, keeping the intent "in service"
 *   CHECK_FINISHED     only while monitored (in service, idle, monitor on), else dropped;
 *                      ok → failures 0; timeout → 1517, and with monitor-timeout-action
 *                      ignore nothing else; failed → 1500, and at check-failures in a row:
 *                      recover (script, local recovery on, within the recovery budget) or
 *                      the failover seam (OSF here, removed before it counts as out of
 *                      service: fail-remove-wait, after whatever depends on it)
 *   PROCESS_EXITED     only while monitored: 1506 (1512 for an empty cgroup, pid 0), then
 *                      as a failed check at its limit
 *   (both)             dropped while the view is holding (resumed after a freeze)
 *   RUN_FINISHED       recover ok → ISP (ISU with monitoring off), restore not run;
 *                      recover failed → 1503 and the failover seam
 *   SETTINGS_CHANGED   in service and idle: monitoring off → ISU (1507), on → ISP (1508)
 *   RESET              counters and the recovery window cleared (1509); stop_failed
 *                      too (1511: the operator vouches the application is stopped)
 *   MARK_IN            (ins_setstate ISP/ISU) busy, a child not in service here, unable
 *                      or not configured → refuse; else in service (ISP, ISU with
 *                      monitoring off), intent in, failures 0, no restore (1745)
 *   MARK_OUT           (ins_setstate OSU) busy, a parent in service here → refuse; else
 *                      OSU, intent out, failures 0, no remove: the application is left as
 *                      it is, and unmonitored since it is out of service (1746)
 * Verdicts (result.h, set by the resource's type; BY_OUTCOME = exit 0 OK, else FAILED):
 *   DEGRADED           a success, with a 1530 WARNING (no recovery); on a remove, a success
 *   NOT_RUNNING        probe: 1533, OSU without the clean-up remove, then the init
 *                      strategy (restore, or INIT_OSU: stay out); check, restore, recover:
 *                      a failure; remove: a success
 *   HARD               check, probe: 1534 and the failover seam at once (not counted, no
 *                      recover); restore, recover, remove: their failure, with 1534
 *   NOT_INSTALLED      as HARD, with 1531, and the resource's flag "unable" (this node
 *                      cannot run it; placement skips it); a remove: a success (flagged);
 *                      the clean-up remove of a failed probe: OSF, no restore here
 *   NOT_CONFIGURED     as HARD, with 1532, the flag "not_configured" (the cluster fails it
 *                      over nowhere) and "no failover" in the reason
 *   PENDING            check: not counted, nothing happens; an action: a failure
 *   RESET clears unable and not_configured too (1535).
 * A queued remove whose parent is in service and idle (it was busy when the remove was
 * queued: a probe at start-up, a restore) pulls that parent into the removal.
 * A finished run must be the run the pending action expects; anything else is refused
 * as an impossible event. It reads the view and writes the plan; nothing else. */
#include "engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "hier.h"
#include "inslist.h"

void lk_plan_done(struct lk_plan *plan)
{
    if (!plan) {
        return;
    }
    free(plan->acts);
    plan->acts = NULL;
    plan->count = plan->capacity = 0;
    lk_hier_done(plan->own_hier);
    free(plan->own_hier);
    plan->own_hier = NULL;
    free(plan->last);
    plan->last = NULL;
    plan->last_size = plan->last_used = 0;
    free(plan->work);
    plan->work = NULL;
    plan->work_count = plan->work_cap = 0;
    free(plan->next);
    plan->next = NULL;
    plan->next_count = plan->next_cap = 0;
    plan->hier = NULL;
}

/* The vertex of res's tag in the decision's index (hier.h); SIZE_MAX when there is no
 * index (the plan is not being decided). */
static size_t vertex_of(const struct lk_plan *plan, const struct lk_resource *res)
{
    size_t v;
    if (plan->hier && lk_hier_vertex(plan->hier, res->tag, &v)) {
        return v;
    }
    return SIZE_MAX;
}

/* ---------------------------------------------------------------- the plan's tables
 *
 * What a decision keeps besides its acts is sized by what it does, never by the view:
 * the latest COMMIT of each vertex it committed (a hash table), and the positions that
 * advance() must look at again (touch()). A decision over a hierarchy of any size so
 * costs the resources it changes and their neighbours. */

/* The slot of vertex v in the table of latest commits: its own, or the empty one where
 * it goes (the table is never full: it grows at half). */
static size_t slot_of(const struct lk_plan *plan, size_t v)
{
    size_t mask = plan->last_size - 1;
    size_t i = (size_t) (((uint64_t) v * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
    while (plan->last[i].vertex != 0 && plan->last[i].vertex != v + 1) {
        i = (i + 1) & mask;
    }
    return i;
}

/* The latest COMMIT of vertex v: act index + 1, or 0. */
static size_t last_get(const struct lk_plan *plan, size_t v)
{
    return plan->last_size ? plan->last[slot_of(plan, v)].act : 0;
}

static void last_set(struct lk_plan *plan, size_t v, size_t act)
{
    if (2 * (plan->last_used + 1) > plan->last_size) {
        size_t size = plan->last_size ? 2 * plan->last_size : 16;
        struct lk_plan_slot *old = plan->last;
        size_t old_size = plan->last_size;
        struct lk_plan_slot *bigger = calloc(size, sizeof(*bigger));
        if (!bigger) {
            plan->overflow = true;
            return;
        }
        plan->last = bigger;
        plan->last_size = size;
        for (size_t i = 0; i < old_size; i++) {
            if (old[i].vertex) {
                plan->last[slot_of(plan, old[i].vertex - 1)] = old[i];
            }
        }
        free(old);
    }
    struct lk_plan_slot *slot = &plan->last[slot_of(plan, v)];
    if (!slot->vertex) {
        slot->vertex = v + 1;
        plan->last_used++;
    }
    slot->act = act;
}

static void append(struct lk_plan *plan, size_t **list, size_t *count, size_t *cap, size_t x)
{
    if (*count == *cap) {
        size_t bigger_cap = *cap ? 2 * *cap : 16;
        size_t *bigger = realloc(*list, bigger_cap * sizeof(*bigger));
        if (!bigger) {
            plan->overflow = true;
            return;
        }
        *list = bigger;
        *cap = bigger_cap;
    }
    (*list)[(*count)++] = x;
}

/* The current round's positions: a min-heap, so they come in the view's order. */
static void heap_push(struct lk_plan *plan, size_t x)
{
    append(plan, &plan->work, &plan->work_count, &plan->work_cap, x);
    if (plan->overflow) {
        return;
    }
    size_t *a = plan->work;
    for (size_t i = plan->work_count - 1; i > 0 && a[(i - 1) / 2] > a[i]; i = (i - 1) / 2) {
        size_t t = a[i];
        a[i] = a[(i - 1) / 2];
        a[(i - 1) / 2] = t;
    }
}

static size_t heap_pop(struct lk_plan *plan)
{
    size_t *a = plan->work;
    size_t top = a[0], n = --plan->work_count;
    a[0] = a[n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && a[l] < a[m]) {
            m = l;
        }
        if (r < n && a[r] < a[m]) {
            m = r;
        }
        if (m == i) {
            break;
        }
        size_t t = a[i];
        a[i] = a[m];
        a[m] = t;
        i = m;
    }
    return top;
}

/* Position p must be looked at again: later in this round when advance() has not passed
 * it yet (nothing to note in a round that looks at every position), else in the next. */
static void mark(struct lk_plan *plan, size_t p)
{
    if (plan->cursor != SIZE_MAX && p > plan->cursor) {
        if (!plan->scan) {
            heap_push(plan, p);
        }
        return;
    }
    append(plan, &plan->next, &plan->next_count, &plan->next_cap, p);
}

/* Vertex v's state, pending action or intent changed in the plan: whether a queued action
 * may start now can change for v, its parents (they wait for their children) and its
 * children (they wait for their parents), and for nothing else. Only over a sorted view,
 * where positions are vertices (advance() looks at every position otherwise). */
static void touch(struct lk_plan *plan, size_t v)
{
    const struct lk_hier *h = plan->hier;
    if (v == SIZE_MAX || !h || h->order || v >= plan->view->count) {
        return;
    }
    mark(plan, v);
    size_t n = 0;
    const size_t *up = lk_hier_parents(h, v, &n);
    for (size_t i = 0; i < n; i++) {
        if (up[i] < plan->view->count) {
            mark(plan, up[i]);
        }
    }
    const size_t *down = lk_hier_children(h, v, &n);
    for (size_t i = 0; i < n; i++) {
        if (down[i] < plan->view->count) {
            mark(plan, down[i]);
        }
    }
}

static struct lk_act *last_commit(const struct lk_plan *plan, const struct lk_resource *res);

static struct lk_act *plan_add(struct lk_plan *plan, enum lk_act_type type, const char *tag)
{
    if (plan->count == plan->capacity) {
        size_t cap = plan->capacity ? plan->capacity * 2 : 16;
        struct lk_act *bigger = realloc(plan->acts, cap * sizeof(*bigger));
        if (!bigger) {
            plan->overflow = true;
            return NULL;
        }
        plan->acts = bigger;
        plan->capacity = cap;
    }
    struct lk_act *act = &plan->acts[plan->count++];
    memset(act, 0, sizeof(*act));
    act->type = type;
    act->action = LK_ACTION_NONE;
    snprintf(act->tag, sizeof(act->tag), "%s", tag);
    return act;
}

/* Adds a COMMIT; the counters are carried over from res unless the caller changes them
 * in the returned act (which is NULL only when the plan is full). */
__attribute__((format(printf, 6, 7))) static struct lk_act *
commit(struct lk_plan *plan, const struct lk_resource *res, enum lk_state state,
       enum lk_pending pending, bool target, const char *fmt, ...)
{
    static struct lk_act overflow;
    /* The flag follows the plan's latest word on it (a remove that just succeeded cleared
     * it), else the view's. */
    const struct lk_act *prev = last_commit(plan, res);
    bool stop_failed = prev ? prev->stop_failed : res->stop_failed;
    bool unable = prev ? prev->unable : res->unable;
    bool not_configured = prev ? prev->not_configured : res->not_configured;
    struct lk_act *act = plan_add(plan, LK_ACT_COMMIT, res->tag);
    if (!act) {
        return &overflow;
    }
    size_t v = vertex_of(plan, res);
    if (v != SIZE_MAX) {
        last_set(plan, v, plan->count);
        touch(plan, v);
    }
    act->state = state;
    act->pending = pending;
    act->target_in_service = target;
    act->check_failures_in_row = res->check_failures_in_row;
    act->local_recoveries = res->local_recoveries;
    act->stop_failed = stop_failed;
    act->unable = unable;
    act->not_configured = not_configured;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(act->text, sizeof(act->text), fmt, ap);
    va_end(ap);
    return act;
}

static void run(struct lk_plan *plan, const struct lk_resource *res, enum lk_action action)
{
    struct lk_act *act = plan_add(plan, LK_ACT_RUN, res->tag);
    if (act) {
        act->action = action;
    }
}

static void log_msg(struct lk_plan *plan, const struct lk_resource *res, int number, ...)
{
    struct lk_act *act = plan_add(plan, LK_ACT_LOG, res->tag);
    if (!act) {
        return;
    }
    const struct lk_catalog_entry *e = lk_catalog_find(number);
    act->number = number;
    act->severity = e ? e->severity : LK_SEV_INFO;
    if (!e) {
        return;
    }
    va_list ap;
    va_start(ap, number);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(act->text, sizeof(act->text), e->format, ap);
#pragma GCC diagnostic pop
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
refuse(struct lk_plan *plan, const struct lk_resource *res, const char *fmt, ...)
{
    struct lk_act *act = plan_add(plan, LK_ACT_REFUSE, res->tag);
    if (!act) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(act->text, sizeof(act->text), fmt, ap);
    va_end(ap);
}

static const struct lk_resource *find(const struct lk_view *view, const char *tag)
{
    if (!tag) {
        return NULL;
    }
    if (view->sorted) {
        bool found = false;
        size_t i = lk_bisect_tag((const void *const *) view->resources, view->count,
                                 offsetof(struct lk_resource, tag), tag, &found);
        return found ? view->resources[i] : NULL;
    }
    for (size_t i = 0; i < view->count; i++) {
        if (strcmp(view->resources[i]->tag, tag) == 0) {
            return view->resources[i];
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- hierarchies
 *
 * Restores and removes are queued (RESTORE_WAIT, REMOVE_WAIT) and started by advance()
 * once their order allows: a resource is restored when all its children are in service,
 * removed when all its parents are out of service. Independent branches so start
 * together, and a shared child is handled once. What the plan already committed counts:
 * effective() reads the latest COMMIT of a resource in the plan, else the view. */

struct eff {
    enum lk_state state;
    enum lk_pending pending;
    bool target;
};

/* The latest COMMIT of res's tag in the plan, or NULL: kept by vertex during a decision
 * (commit() notes each), found by a scan otherwise. */
static struct lk_act *last_commit_at(const struct lk_plan *plan, const struct lk_resource *res,
                                     size_t v)
{
    if (v != SIZE_MAX) {
        size_t a = last_get(plan, v);
        return a ? &plan->acts[a - 1] : NULL;
    }
    for (size_t i = plan->count; i-- > 0;) {
        if (plan->acts[i].type == LK_ACT_COMMIT && strcmp(plan->acts[i].tag, res->tag) == 0) {
            return &plan->acts[i];
        }
    }
    return NULL;
}

static struct lk_act *last_commit(const struct lk_plan *plan, const struct lk_resource *res)
{
    return last_commit_at(plan, res, vertex_of(plan, res));
}

/* The state, pending action and intent of res (at vertex v) as the plan leaves them. */
static struct eff effective_at(const struct lk_plan *plan, const struct lk_resource *res, size_t v)
{
    const struct lk_act *act = last_commit_at(plan, res, v);
    if (act) {
        return (struct eff){act->state, act->pending, act->target_in_service};
    }
    return (struct eff){res->state, res->pending, res->target_in_service};
}

static struct eff effective(const struct lk_plan *plan, const struct lk_resource *res)
{
    return effective_at(plan, res, vertex_of(plan, res));
}

/* Whether a pending action may be replaced by a queued one: nothing pending, or a
 * probe or cleanup that just ended, or an action a crash cut short (at start-up). */
static bool replaceable(const struct lk_plan *plan, const struct lk_resource *res,
                        enum lk_pending pending)
{
    if (pending == LK_PENDING_NONE || pending == LK_PENDING_CLEANUP ||
        pending == LK_PENDING_PROBE) {
        return true;
    }
    /* At start-up nothing runs: what the view says is pending was interrupted. */
    return !last_commit(plan, res) && pending == res->pending && plan->startup;
}

/* Queues a restore of res alone (no-op when something is pending for it already). */
static void queue_restore(struct lk_plan *plan, const struct lk_resource *res)
{
    struct eff e = effective(plan, res);
    if (!replaceable(plan, res, e.pending)) {
        return;
    }
    commit(plan, res, e.state, LK_PENDING_RESTORE_WAIT, true, "waiting to restore");
}

/* Queues a remove of res alone. */
static void queue_remove(struct lk_plan *plan, const struct lk_resource *res, bool target)
{
    struct eff e = effective(plan, res);
    if (!replaceable(plan, res, e.pending)) {
        return;
    }
    commit(plan, res, e.state, LK_PENDING_REMOVE_WAIT, target, "waiting to remove");
}

/* Queues res and every descendant that is not in service: restoring res needs them. */
static void queue_restore_tree(struct lk_plan *plan, const struct lk_resource *res)
{
    queue_restore(plan, res);
    const struct lk_view *view = plan->view;
    size_t v = vertex_of(plan, res), n = 0;
    const size_t *children = v != SIZE_MAX ? lk_hier_children(plan->hier, v, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (children[i] >= view->count) {
            continue; /* a tag the view does not hold */
        }
        const struct lk_resource *child = view->resources[children[i]];
        struct eff e = effective(plan, child);
        /* A start-up does not retry a failed resource on its own, not even for its
         * parents: they wait for it and become OSF naming it (advance). */
        bool failed_at_startup = plan->startup && e.state == LK_STATE_OSF;
        if (!lk_state_in_service(e.state) && e.pending == LK_PENDING_NONE && !failed_at_startup) {
            queue_restore_tree(plan, child);
        }
    }
}

/* Queues res and every ancestor that is not out of service: they depend on res. */
static void queue_remove_up(struct lk_plan *plan, const struct lk_resource *res, bool target)
{
    struct eff e = effective(plan, res);
    /* OSU and idle is already removed; anything else (in service, failed, or an action
     * cut short) may hold running parts. */
    if (e.state != LK_STATE_OSU || e.pending != LK_PENDING_NONE) {
        queue_remove(plan, res, target);
    }
    const struct lk_view *view = plan->view;
    size_t v = vertex_of(plan, res), n = 0;
    const size_t *parents = v != SIZE_MAX ? lk_hier_parents(plan->hier, v, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (parents[i] >= view->count) {
            continue;
        }
        const struct lk_resource *parent = view->resources[parents[i]];
        struct eff pe = effective(plan, parent);
        if (pe.pending == LK_PENDING_NONE && pe.state != LK_STATE_OSU) {
            queue_remove_up(plan, parent, target && pe.target);
        }
    }
}

/* Queues every member of res's hierarchy that is in service: the whole connected tree
 * goes down, parents before children (advance() orders them). keep_target: each keeps
 * its intent (a failure); otherwise the intent becomes "out of service" (an operator). */
static void queue_remove_hierarchy(struct lk_plan *plan, const struct lk_resource *res,
                                   bool keep_target)
{
    /* The members of its hierarchy, in the view's order. */
    const struct lk_view *view = plan->view;
    size_t v = vertex_of(plan, res), n = 0;
    const size_t *members = v != SIZE_MAX ? lk_hier_members(plan->hier, v, &n) : NULL;
    for (size_t k = 0; k < n; k++) {
        const struct lk_resource *m = view->resources[members[k]];
        struct eff e = effective(plan, m);
        if (e.pending == LK_PENDING_NONE && lk_state_in_service(e.state)) {
            queue_remove(plan, m, keep_target ? e.target : false);
        }
    }
}

/* Turns a queued action of res into a running one: the latest COMMIT in the plan is
 * changed in place when it is the queueing one, so a lone resource's plan reads as
 * before hierarchies existed. text NULL: the reason stays. */
static void start_now(struct lk_plan *plan, const struct lk_resource *res, enum lk_pending running,
                      enum lk_action action, int started_msg, const char *text)
{
    struct eff e = effective(plan, res);
    struct lk_act *act = last_commit(plan, res);
    if (!act) {
        act = commit(plan, res, e.state, running, e.target, "%s", text ? text : res->reason);
    } else {
        act->pending = running;
        if (text) {
            snprintf(act->text, sizeof(act->text), "%s", text);
        }
        touch(plan, vertex_of(plan, res));
    }
    log_msg(plan, res, started_msg);
    run(plan, res, action);
}

/* Looks at position r: starts its queued action when the order allows, or fails it
 * when it can no longer happen (*changed then). */
static void look(struct lk_plan *plan, size_t r, bool *changed)
{
    const struct lk_view *view = plan->view;
    plan->visits++;
    const struct lk_resource *res = view->resources[r];
    /* Without a sorted copy, the view is sorted and its positions are vertices. */
    size_t v = plan->hier->order ? vertex_of(plan, res) : r;
    struct eff e = effective_at(plan, res, v);
    if (e.pending != LK_PENDING_RESTORE_WAIT && e.pending != LK_PENDING_REMOVE_WAIT &&
        e.pending != LK_PENDING_FAIL_REMOVE_WAIT) {
        return;
    }
    if (e.pending == LK_PENDING_RESTORE_WAIT) {
        bool ready = true;
        const struct lk_resource *blocker = NULL;
        size_t n = 0;
        const size_t *children = lk_hier_children(plan->hier, v, &n);
        for (size_t i = 0; i < n; i++) {
            if (children[i] >= view->count) {
                continue;
            }
            const struct lk_resource *child = view->resources[children[i]];
            struct eff ce = effective_at(plan, child, children[i]);
            if (lk_state_in_service(ce.state) && ce.pending == LK_PENDING_NONE) {
                continue;
            }
            ready = false;
            if (ce.pending == LK_PENDING_NONE && !blocker) {
                blocker = child;
            }
        }
        if (ready) {
            start_now(plan, res, LK_PENDING_RESTORE, LK_ACTION_RESTORE, LK_MSG_RESTORE_STARTED,
                      "restore in progress");
            *changed = true;
        } else if (blocker) {
            struct eff be = effective(plan, blocker);
            commit(plan, res, LK_STATE_OSF, LK_PENDING_NONE, e.target,
                   "restore not attempted: child '%s' is %s", blocker->tag,
                   be.state == LK_STATE_OSF ? "OSF (failed)" : lk_state_name(be.state));
            log_msg(plan, res, LK_MSG_RESTORE_FAILED, last_commit(plan, res)->text);
            *changed = true;
        }
    } else if (e.pending == LK_PENDING_REMOVE_WAIT || e.pending == LK_PENDING_FAIL_REMOVE_WAIT) {
        bool ready = true;
        size_t n = 0;
        const size_t *parents = lk_hier_parents(plan->hier, v, &n);
        for (size_t i = 0; i < n; i++) {
            if (parents[i] >= view->count) {
                continue;
            }
            const struct lk_resource *parent = view->resources[parents[i]];
            struct eff pe = effective_at(plan, parent, parents[i]);
            /* A parent out of service whose restore waits (for res, say) runs
             * nothing: no reason to wait for it. */
            if (!lk_state_in_service(pe.state) &&
                (pe.pending == LK_PENDING_NONE || pe.pending == LK_PENDING_RESTORE_WAIT)) {
                continue;
            }
            ready = false;
            /* A parent in service and idle was busy when res was queued (a probe
             * at start-up, a restore): it goes first now, or res waits forever. */
            if (pe.pending == LK_PENDING_NONE) {
                queue_remove(plan, parent, pe.target && e.target);
                *changed = true;
            }
        }
        if (ready && e.pending == LK_PENDING_FAIL_REMOVE_WAIT) {
            /* The reason keeps the failure's cause: it is the reason once the
             * remove has run. */
            start_now(plan, res, LK_PENDING_FAIL_REMOVE, LK_ACTION_REMOVE, LK_MSG_REMOVE_STARTED,
                      NULL);
            *changed = true;
        } else if (ready) {
            start_now(plan, res, LK_PENDING_REMOVE, LK_ACTION_REMOVE, LK_MSG_REMOVE_STARTED,
                      "remove in progress");
            *changed = true;
        }
    }
}

/* Starts what the order now allows and fails what can no longer happen, until nothing
 * changes: a restore whose child failed becomes OSF naming the child, and so on up.
 *
 * In rounds, each looking at positions in the view's order, as long as a round changed
 * something. A position whose inputs (its own effective state and its neighbours') did
 * not change since it was last looked at cannot act now either, so a round looks only
 * at the positions touch() noted: those after the one it looks at join the round, the
 * others the next. The first round looks at every position unless the view is settled
 * (nothing in it could act before this plan). The same positions act, in the same
 * order, as when every round looked at every position; over a settled view a decision
 * costs what it changes, not the size of the hierarchy. */
static void advance(struct lk_plan *plan)
{
    const struct lk_view *view = plan->view;
    bool changed = true;
    for (size_t round = 0; changed && round <= 2 * view->count + 1 && !plan->overflow; round++) {
        changed = false;
        plan->scan = plan->hier->order || (round == 0 && !view->settled);
        plan->work_count = 0;
        for (size_t i = 0; !plan->scan && i < plan->next_count; i++) {
            heap_push(plan, plan->next[i]);
        }
        plan->next_count = 0;
        if (plan->scan) {
            for (size_t r = 0; r < view->count; r++) {
                plan->cursor = r;
                look(plan, r, &changed);
            }
        } else {
            for (size_t prev = SIZE_MAX; plan->work_count > 0;) {
                size_t r = heap_pop(plan);
                if (r != prev) {
                    plan->cursor = prev = r;
                    look(plan, r, &changed);
                }
            }
        }
        plan->cursor = SIZE_MAX;
    }
    plan->scan = false;
    plan->settles = !changed && !plan->overflow;
}

/* The view's own index when it brings one built from its arrays, else one built into
 * *tmp (released by the caller with lk_hier_done); NULL when out of memory. */
static const struct lk_hier *view_hier(const struct lk_view *view, struct lk_hier *tmp)
{
    if (view->hier &&
        lk_hier_matches(view->hier, view->resources, view->count, view->deps, view->dep_count)) {
        return view->hier;
    }
    if (lk_hier_build(tmp, view->resources, view->count, view->sorted, view->deps,
                      view->dep_count) < 0) {
        return NULL;
    }
    return tmp;
}

bool lk_engine_connected(const struct lk_view *view, const char *a, const char *b)
{
    if (strcmp(a, b) == 0) {
        return true;
    }
    struct lk_hier tmp = {0};
    const struct lk_hier *h = view_hier(view, &tmp);
    size_t va, vb;
    bool r = h && lk_hier_vertex(h, a, &va) && lk_hier_vertex(h, b, &vb) &&
             h->comp[va] == h->comp[vb];
    lk_hier_done(&tmp);
    return r;
}

/* The first resource of vertex v's hierarchy, in the view's order, with an action
 * pending; NULL when none, or when v has no dependency at all. */
static const struct lk_resource *busy_member(const struct lk_view *view, const struct lk_hier *h,
                                             size_t v)
{
    size_t nc = 0, np = 0, n = 0;
    (void) lk_hier_children(h, v, &nc);
    (void) lk_hier_parents(h, v, &np);
    if (nc + np == 0) {
        return NULL;
    }
    const size_t *members = lk_hier_members(h, v, &n);
    for (size_t k = 0; k < n; k++) {
        const struct lk_resource *res = view->resources[members[k]];
        if (res->pending != LK_PENDING_NONE) {
            return res;
        }
    }
    return NULL;
}

/* lk_engine_hierarchy_busy over the decision's index. */
static const struct lk_resource *plan_busy(const struct lk_plan *plan, const char *tag)
{
    const struct lk_resource *self = find(plan->view, tag);
    if (self && self->pending != LK_PENDING_NONE) {
        return self;
    }
    size_t v;
    return lk_hier_vertex(plan->hier, tag, &v) ? busy_member(plan->view, plan->hier, v) : NULL;
}

const struct lk_resource *lk_engine_hierarchy_busy(const struct lk_view *view, const char *tag)
{
    const struct lk_resource *self = find(view, tag);
    if (self && self->pending != LK_PENDING_NONE) {
        return self;
    }
    struct lk_hier tmp = {0};
    const struct lk_hier *h = view_hier(view, &tmp);
    size_t v;
    const struct lk_resource *busy =
            h && lk_hier_vertex(h, tag, &v) ? busy_member(view, h, v) : NULL;
    lk_hier_done(&tmp);
    return busy;
}

/* Depth-first search for a path from vertex `from` to `to` along parent → child edges,
 * each edge taken once (seen, by edge: the children lists keep the dependency list's
 * order, so edge k of v is down_start[v] + k); the path is appended to buf as " -> tag"
 * steps. A vertex whose search failed fails again (its edges are all seen by then):
 * dead[] remembers it, so the search is linear. */
static bool path_down(const struct lk_hier *h, size_t from, size_t to, bool *seen, bool *dead,
                      char *buf, size_t size)
{
    if (from == to) {
        return true;
    }
    if (dead[from]) {
        return false;
    }
    size_t n = 0;
    const size_t *children = lk_hier_children(h, from, &n);
    for (size_t k = 0; k < n; k++) {
        size_t edge = h->down_start[from] + k;
        if (seen[edge]) {
            continue;
        }
        seen[edge] = true;
        size_t len = strlen(buf);
        snprintf(buf + len, size > len ? size - len : 0, " -> %s", lk_hier_tag(h, children[k]));
        if (path_down(h, children[k], to, seen, dead, buf, size)) {
            return true;
        }
        buf[len < size ? len : size - 1] = '\0';
    }
    dead[from] = true;
    return false;
}

bool lk_engine_would_cycle(const struct lk_view *view, const char *parent, const char *child,
                           char *buf, size_t size)
{
    /* parent → child closes a cycle when parent is already reachable from child. */
    if (size == 0) {
        return false;
    }
    snprintf(buf, size, "%s -> %s", parent, child);
    if (strcmp(parent, child) == 0) {
        return true;
    }
    struct lk_hier tmp = {0};
    const struct lk_hier *h = view_hier(view, &tmp);
    size_t from, to;
    bool cycle = false;
    if (h && lk_hier_vertex(h, child, &from) && lk_hier_vertex(h, parent, &to) &&
        h->comp[from] == h->comp[to]) {
        bool *seen = calloc(view->dep_count ? view->dep_count : 1, sizeof(*seen));
        bool *dead = calloc(h->vcount ? h->vcount : 1, sizeof(*dead));
        if (seen && dead) {
            cycle = path_down(h, from, to, seen, dead, buf, size);
        }
        free(seen);
        free(dead);
    }
    lk_hier_done(&tmp);
    return cycle;
}

/* The check used to find out at start-up whether the application already runs: a script
 * or a built-in check. */
static enum lk_action probe_action(const struct lk_resource *res)
{
    if (lk_resource_has_check(res, LK_ACTION_QUICKCHK)) {
        return LK_ACTION_QUICKCHK;
    }
    if (lk_resource_has_check(res, LK_ACTION_DEEPCHK)) {
        return LK_ACTION_DEEPCHK;
    }
    return LK_ACTION_NONE;
}

static bool refuse_if_busy(struct lk_plan *plan, const struct lk_resource *res)
{
    const struct lk_resource *busy = plan_busy(plan, res->tag);
    if (!busy) {
        return false;
    }
    if (busy == res) {
        refuse(plan, res, "resource '%s' is busy: %s in progress", res->tag,
               lk_pending_name(res->pending));
    } else {
        refuse(plan, res, "the hierarchy of '%s' is busy: %s in progress on '%s'", res->tag,
               lk_pending_name(busy->pending), busy->tag);
    }
    return true;
}

static void on_restore_requested(struct lk_plan *plan, const struct lk_resource *res)
{
    if (refuse_if_busy(plan, res)) {
        return;
    }
    if (lk_state_in_service(res->state)) {
        if (!res->target_in_service) {
            commit(plan, res, res->state, LK_PENDING_NONE, true, "%s", res->reason);
        }
        return;
    }
    queue_restore_tree(plan, res);
}

/* The cluster takes the hierarchy away (another node holds it now): nothing of it may
 * come (back) in service here. Queued restores are dropped; a running action finishes
 * first, with the intent "out", so its end leads to a remove (on_run_finished); what is
 * in service and idle is queued for remove, parents first. */
static void preempt_hierarchy(struct lk_plan *plan, const struct lk_resource *res)
{
    const struct lk_view *view = plan->view;
    size_t v = vertex_of(plan, res), n = 0;
    const size_t *members = v != SIZE_MAX ? lk_hier_members(plan->hier, v, &n) : NULL;
    for (size_t k = 0; k < n; k++) {
        const struct lk_resource *m = view->resources[members[k]];
        struct eff e = effective(plan, m);
        switch (e.pending) {
        case LK_PENDING_RESTORE_WAIT:
            commit(plan, m, e.state, LK_PENDING_NONE, false,
                   "restore not started: the hierarchy was removed");
            break;
        case LK_PENDING_RESTORE:
        case LK_PENDING_CLEANUP:
        case LK_PENDING_RECOVER:
        case LK_PENDING_REMOVE:
        case LK_PENDING_REMOVE_WAIT:
            if (e.target) {
                commit(plan, m, e.state, e.pending, false, "%s", m->reason);
            }
            break;
        case LK_PENDING_NONE:
        case LK_PENDING_PROBE:       /* ends in service or removed; the cluster removes it then */
        case LK_PENDING_FAIL_REMOVE: /* a failure's remove keeps its intent */
        case LK_PENDING_FAIL_REMOVE_WAIT:
        case LK_PENDING_COUNT:
            break;
        }
    }
    struct eff e = effective(plan, res);
    if (e.pending == LK_PENDING_NONE && e.state == LK_STATE_OSU && e.target) {
        commit(plan, res, e.state, LK_PENDING_NONE, false, "%s", res->reason);
    } else if (e.pending == LK_PENDING_NONE && e.state != LK_STATE_OSU) {
        queue_remove_up(plan, res, false);
    }
    queue_remove_hierarchy(plan, res, false);
}

static void on_remove_requested(struct lk_plan *plan, const struct lk_resource *res)
{
    if (plan->preempt) {
        preempt_hierarchy(plan, res);
        return;
    }
    if (refuse_if_busy(plan, res)) {
        return;
    }
    if (res->state == LK_STATE_OSU) {
        if (res->target_in_service) {
            commit(plan, res, res->state, LK_PENDING_NONE, false, "%s", res->reason);
        }
        if (plan->whole_hierarchy) {
            /* Out here, but the rest of its hierarchy may still be in service (a child
             * found running at start-up while another node owns the hierarchy). */
            queue_remove_hierarchy(plan, res, false);
        }
        return;
    }
    /* OSF too: the failed application may be half up, and remove is how it is cleaned.
     * Whatever depends on it goes first. */
    queue_remove_up(plan, res, false);
    if (plan->whole_hierarchy) {
        queue_remove_hierarchy(plan, res, false);
    }
}

/* The init strategy start-up follows: the resource's, or INIT_OSU when another node owns
 * its hierarchy. */
static enum lk_init effective_init(const struct lk_plan *plan, const struct lk_resource *res)
{
    const struct lk_view *view = plan->view;
    if (view->owned_elsewhere && view->owned_elsewhere(view->backup_ctx, res->tag)) {
        return LK_INIT_INIT_OSU;
    }
    return res->settings.init;
}

static void start_probe_or_restore(struct lk_plan *plan, const struct lk_resource *res)
{
    enum lk_action check = probe_action(res);
    if (check != LK_ACTION_NONE) {
        commit(plan, res, res->state, LK_PENDING_PROBE, true, "probing with %s after start",
               lk_action_name(check));
        run(plan, res, check);
        return;
    }
    if (effective_init(plan, res) == LK_INIT_INIT_OSU) {
        /* No way to tell whether it runs, and no wish to start it: remove, so that OSU
         * is the truth and not a guess. */
        queue_remove_up(plan, res, false);
        return;
    }
    log_msg(plan, res, LK_MSG_PROBE_IMPOSSIBLE);
    queue_restore_tree(plan, res);
}

static void on_startup(struct lk_plan *plan, const struct lk_resource *res)
{
    if (res->pending == LK_PENDING_RESTORE_WAIT ||
        (res->pending == LK_PENDING_REMOVE_WAIT && !res->target_in_service)) {
        return; /* never started: still queued, advance() takes it up in order */
    }
    if (res->pending == LK_PENDING_FAIL_REMOVE || res->pending == LK_PENDING_FAIL_REMOVE_WAIT) {
        /* The remove after a failure: run (again) in order, whatever its parents' fate;
         * the resource stays OSF with its cause. */
        if (res->pending == LK_PENDING_FAIL_REMOVE) {
            log_msg(plan, res, LK_MSG_ACTION_INTERRUPTED, "remove");
        }
        commit(plan, res, res->state, LK_PENDING_FAIL_REMOVE_WAIT, res->target_in_service, "%s",
               res->reason);
        return;
    }
    if (res->pending == LK_PENDING_REMOVE && !res->target_in_service) {
        log_msg(plan, res, LK_MSG_ACTION_INTERRUPTED, "remove");
        commit(plan, res, res->state, LK_PENDING_REMOVE_WAIT, false, "waiting to remove");
        return;
    }
    if (res->pending != LK_PENDING_NONE) {
        /* An interrupted restore, probe or cleanup, or a remove of lkstop (intent still
         * "in service"): find out what runs, then act as for a resource in service. */
        log_msg(plan, res, LK_MSG_ACTION_INTERRUPTED, lk_pending_name(res->pending));
        start_probe_or_restore(plan, res);
        return;
    }
    if (lk_state_in_service(res->state)) {
        start_probe_or_restore(plan, res);
        return;
    }
    enum lk_init init = effective_init(plan, res);
    bool wanted =
            init == LK_INIT_INIT_ISP ||
            (init == LK_INIT_AUTORES_ISP && res->target_in_service && res->state == LK_STATE_OSU);
    if (wanted) {
        queue_restore_tree(plan, res);
    }
}

static void on_shutdown(struct lk_plan *plan, const struct lk_resource *res)
{
    /* Nothing new is restored once the daemon stops: queued restores are dropped, keeping
     * the intent, so that the next start brings them back. Left queued, a parent would
     * wait for its child while the child, queued for removal, waits for the parent. */
    const struct lk_view *view = plan->view;
    for (size_t i = 0; i < view->count; i++) {
        const struct lk_resource *r = view->resources[i];
        struct eff e = effective(plan, r);
        if (e.pending == LK_PENDING_RESTORE_WAIT) {
            commit(plan, r, e.state, LK_PENDING_NONE, e.target,
                   "restore not started: the daemon is stopping");
        }
    }
    struct eff e = effective(plan, res);
    if (e.pending != LK_PENDING_NONE || !lk_state_in_service(e.state)) {
        return;
    }
    queue_remove_up(plan, res, res->target_in_service);
}

/* The failover seam: a resource that cannot be repaired here. It becomes OSF with the
 * cause as its reason and is removed, after the resources that depend on it (#4); once
 * that is done the cluster (#5) moves its hierarchy to the best live node, if any. */
static struct lk_act *fail_over_to(struct lk_plan *plan, const struct lk_resource *res,
                                   const char *cause, bool nowhere);

static struct lk_act *fail_over(struct lk_plan *plan, const struct lk_resource *res,
                                const char *cause)
{
    return fail_over_to(plan, res, cause, false);
}

/* nowhere: the resource can run on no node as defined (LK_VERDICT_NOT_CONFIGURED): the
 * same, but the reason says there is no failover (the flag makes the cluster hold it). */
static struct lk_act *fail_over_to(struct lk_plan *plan, const struct lk_resource *res,
                                   const char *cause, bool nowhere)
{
    const struct lk_view *view = plan->view;
    bool backup = !nowhere && view->has_backup && view->has_backup(view->backup_ctx, res->tag);
    /* OSF, but not out of service yet: the failed application may still run (a hung
     * application fails its check while running), so it is removed here, after whatever
     * depends on it, before the hierarchy counts as out of service (advance starts it). */
    struct lk_act *act =
            commit(plan, res, LK_STATE_OSF, LK_PENDING_FAIL_REMOVE_WAIT, res->target_in_service,
                   backup    ? "%s; failing over to a backup node"
                   : nowhere ? "%s; no failover: not configured"
                             : "%s; no backup node to fail over to",
                   cause);
    size_t index = plan->count - 1;
    log_msg(plan, res, backup ? LK_MSG_FAILING_OVER : LK_MSG_RESOURCE_FAILED, cause);
    /* The whole connected hierarchy is handled together (SPEC §4): everything of it
     * still in service is taken out, parents before children, keeping its intent. This
     * is what makes trees bundled under a generic root fail together. */
    queue_remove_hierarchy(plan, res, true);
    /* The caller may adjust the OSF commit; the plan may have grown since. */
    return plan->overflow ? act : &plan->acts[index];
}

/* A remove failed: the application may still run here. OSF with the flag that says so
 * (the cluster restores the hierarchy nowhere else until this node is fenced or an
 * operator clears it); cause: the failure the remove followed, or NULL. */
static void remove_failed(struct lk_plan *plan, const struct lk_resource *res, const char *why,
                          const char *cause)
{
    commit(plan, res, LK_STATE_OSF, LK_PENDING_NONE, res->target_in_service,
           "remove failed: may still be running (%s)%s%s", why, cause ? "; after: " : "",
           cause ? cause : "")
            ->stop_failed = true;
    log_msg(plan, res, LK_MSG_REMOVE_FAILED, why);
}

/* What a run's result says, for reasons and events: its description, after the words of
 * its verdict when that is more than a plain failure ("not installed on this node: exit
 * status 5: ..."). */
static void verdict_what(const struct lk_result *result, char *buf, size_t size)
{
    char desc[320];
    lk_result_describe(result, desc, sizeof(desc));
    const char *words = NULL;
    switch (lk_result_verdict(result)) {
    case LK_VERDICT_NOT_INSTALLED:
        words = "not installed on this node";
        break;
    case LK_VERDICT_NOT_CONFIGURED:
        words = "not configured";
        break;
    case LK_VERDICT_HARD:
        words = "hard error";
        break;
    case LK_VERDICT_NOT_RUNNING:
        words = "not running";
        break;
    case LK_VERDICT_DEGRADED:
        words = "degraded";
        break;
    default:
        break;
    }
    if (words) {
        snprintf(buf, size, "%s: %s", words, desc);
    } else {
        snprintf(buf, size, "%s", desc);
    }
}

/* Whether the verdict forbids any local retry or recovery: the resource fails over (or,
 * not configured, stays failed everywhere) at once. */
static bool verdict_final(enum lk_verdict v)
{
    return v == LK_VERDICT_HARD || v == LK_VERDICT_NOT_INSTALLED || v == LK_VERDICT_NOT_CONFIGURED;
}

/* The event a verdict adds to the usual ones (degraded, hard, not installed, not
 * configured), for a run of action (its name). A remove that says "degraded" has removed:
 * nothing to warn about. */
static void log_verdict(struct lk_plan *plan, const struct lk_resource *res, const char *action,
                        const struct lk_result *result)
{
    char what[320];
    lk_result_describe(result, what, sizeof(what));
    switch (lk_result_verdict(result)) {
    case LK_VERDICT_DEGRADED:
        if (strcmp(action, lk_action_name(LK_ACTION_REMOVE)) == 0) {
            break;
        }
        log_msg(plan, res, LK_MSG_DEGRADED, action, what);
        break;
    case LK_VERDICT_HARD:
        log_msg(plan, res, LK_MSG_HARD_ERROR, action, what);
        break;
    case LK_VERDICT_NOT_INSTALLED:
        log_msg(plan, res, LK_MSG_NOT_INSTALLED, action, what);
        break;
    case LK_VERDICT_NOT_CONFIGURED:
        log_msg(plan, res, LK_MSG_NOT_CONFIGURED, action, what);
        break;
    default:
        break;
    }
}

/* Puts the flag a verdict leaves (unable, not configured) on res's latest commit in the
 * plan; later commits carry it (commit()). */
static void mark_verdict(struct lk_plan *plan, const struct lk_resource *res, enum lk_verdict v)
{
    if (v != LK_VERDICT_NOT_INSTALLED && v != LK_VERDICT_NOT_CONFIGURED) {
        return;
    }
    struct lk_act *act = last_commit(plan, res);
    if (!act) {
        struct eff e = effective(plan, res);
        act = commit(plan, res, e.state, e.pending, e.target, "%s", res->reason);
    }
    if (v == LK_VERDICT_NOT_INSTALLED) {
        act->unable = true;
    } else {
        act->not_configured = true;
    }
}

/* What a resource's reason ends with while its recover runs. */
#define RECOVER_IN_PROGRESS "; recover in progress"

static void on_run_finished(struct lk_plan *plan, const struct lk_resource *res,
                            const struct lk_event *ev)
{
    char why[400];
    verdict_what(&ev->result, why, sizeof(why));
    enum lk_verdict verdict = lk_result_verdict(&ev->result);
    bool ok = lk_result_ok(&ev->result);
    /* A stop that finds the application not running, or not even installed here, has
     * left it stopped. */
    bool stopped = ok || verdict == LK_VERDICT_NOT_RUNNING || verdict == LK_VERDICT_NOT_INSTALLED;
    const char *action = lk_action_name(ev->action);
    unsigned long long ms = (unsigned long long) (ev->result.duration_usec / 1000);
    log_verdict(plan, res, action, &ev->result);

    switch (res->pending) {
    case LK_PENDING_RESTORE:
        if (ok && !res->target_in_service) {
            /* The cluster removed the hierarchy while this restore ran: out again. */
            commit(plan, res, lk_resource_in_service_state(res), LK_PENDING_REMOVE_WAIT, false,
                   "restore action has succeeded; removing: the hierarchy was removed")
                    ->check_failures_in_row = 0;
            log_msg(plan, res, LK_MSG_RESTORE_OK, ms);
        } else if (ok) {
            commit(plan, res, lk_resource_in_service_state(res), LK_PENDING_NONE,
                   res->target_in_service, "restore action has succeeded")
                    ->check_failures_in_row = 0;
            log_msg(plan, res, LK_MSG_RESTORE_OK, ms);
        } else {
            /* It may have done half of its work (an address added): removed, then OSF. */
            commit(plan, res, LK_STATE_OSF, LK_PENDING_FAIL_REMOVE_WAIT, res->target_in_service,
                   "restore action failed: %s", why);
            log_msg(plan, res, LK_MSG_RESTORE_FAILED, why);
            mark_verdict(plan, res, verdict);
        }
        return;
    case LK_PENDING_REMOVE:
        if (stopped) {
            commit(plan, res, LK_STATE_OSU, LK_PENDING_NONE, res->target_in_service,
                   "remove action has succeeded")
                    ->stop_failed = false;
            log_msg(plan, res, LK_MSG_REMOVE_OK, ms);
            mark_verdict(plan, res, verdict);
        } else {
            remove_failed(plan, res, why, NULL);
            mark_verdict(plan, res, verdict);
        }
        return;
    case LK_PENDING_FAIL_REMOVE:
        if (stopped) {
            /* Out of service now; the reason stays the failure's cause. */
            commit(plan, res, LK_STATE_OSF, LK_PENDING_NONE, res->target_in_service, "%s",
                   res->reason)
                    ->stop_failed = false;
            log_msg(plan, res, LK_MSG_REMOVE_OK, ms);
            mark_verdict(plan, res, verdict);
        } else {
            remove_failed(plan, res, why, res->reason);
            mark_verdict(plan, res, verdict);
        }
        return;
    case LK_PENDING_PROBE:
        if (ok) {
            commit(plan, res, lk_resource_in_service_state(res), LK_PENDING_NONE, true,
                   "in service: %s at start-up succeeded; restore not needed",
                   lk_action_name(ev->action));
            log_msg(plan, res, LK_MSG_PROBE_OK, lk_action_name(ev->action));
            return;
        }
        if (verdict == LK_VERDICT_NOT_RUNNING) {
            /* Cleanly stopped (OCF 7 on a probe): nothing half up to clean; out of
             * service, then what the init strategy says. */
            log_msg(plan, res, LK_MSG_STOPPED_AT_PROBE, action);
            if (effective_init(plan, res) == LK_INIT_INIT_OSU) {
                commit(plan, res, LK_STATE_OSU, LK_PENDING_NONE, false,
                       "out of service: %s at start-up found it stopped", action);
                queue_remove_up(plan, res, false);
                return;
            }
            commit(plan, res, LK_STATE_OSU, LK_PENDING_NONE, true,
                   "%s at start-up found it stopped; restoring", action);
            queue_restore_tree(plan, res);
            return;
        }
        log_msg(plan, res, LK_MSG_PROBE_FAILED, action, why);
        if (verdict_final(verdict)) {
            /* No local retry: failed here, removed, and the cluster's to move (or, not
             * configured, to hold everywhere). */
            char cause[LK_REASON_MAX];
            snprintf(cause, sizeof(cause), "%s at start-up failed: %.400s", action, why);
            fail_over_to(plan, res, cause, verdict == LK_VERDICT_NOT_CONFIGURED);
            mark_verdict(plan, res, verdict);
            return;
        }
        /* The check failed or hung: the application may be half up, so it is removed
         * before anything else; restore follows unless the init strategy says no. */
        if (effective_init(plan, res) == LK_INIT_INIT_OSU) {
            queue_remove_up(plan, res, false);
            return;
        }
        commit(plan, res, LK_STATE_OSF, LK_PENDING_CLEANUP, true,
               "%s at start-up failed: %s; removing before restore", lk_action_name(ev->action),
               why);
        log_msg(plan, res, LK_MSG_REMOVE_STARTED);
        run(plan, res, LK_ACTION_REMOVE);
        return;
    case LK_PENDING_CLEANUP:
        ok = stopped;
        if (verdict == LK_VERDICT_NOT_INSTALLED) {
            /* Nothing to restore here: this node cannot run it (the cluster's to move). */
            log_msg(plan, res, LK_MSG_REMOVE_OK, ms);
            commit(plan, res, LK_STATE_OSF, LK_PENDING_NONE, res->target_in_service,
                   "remove before restore: %s", why)
                    ->unable = true;
            return;
        }
        if (ok && !res->target_in_service) {
            commit(plan, res, LK_STATE_OSU, LK_PENDING_NONE, false, "remove action has succeeded")
                    ->stop_failed = false;
            log_msg(plan, res, LK_MSG_REMOVE_OK, ms);
        } else if (ok && effective_init(plan, res) == LK_INIT_INIT_OSU) {
            /* Its owner became known while the clean-up ran (a peer's records arrived):
             * no restore here; whatever depends on it goes too, as after a failed probe. */
            commit(plan, res, LK_STATE_OSU, LK_PENDING_NONE, false, "remove action has succeeded")
                    ->stop_failed = false;
            log_msg(plan, res, LK_MSG_REMOVE_OK, ms);
            queue_remove_up(plan, res, false);
        } else if (ok) {
            log_msg(plan, res, LK_MSG_REMOVE_OK, ms);
            queue_restore_tree(plan, res);
            struct lk_act *queued = last_commit(plan, res);
            if (queued) {
                queued->stop_failed = false;
            }
        } else {
            remove_failed(plan, res, why, NULL);
        }
        return;
    case LK_PENDING_RECOVER:
        if (ok && !res->target_in_service) {
            commit(plan, res, lk_resource_in_service_state(res), LK_PENDING_REMOVE_WAIT, false,
                   "recovered in place by recover; removing: the hierarchy was removed")
                    ->check_failures_in_row = 0;
            log_msg(plan, res, LK_MSG_RECOVERED, ms);
        } else if (ok) {
            commit(plan, res, lk_resource_in_service_state(res), LK_PENDING_NONE,
                   res->target_in_service, "recovered in place by recover; restore not run")
                    ->check_failures_in_row = 0;
            log_msg(plan, res, LK_MSG_RECOVERED, ms);
        } else {
            log_msg(plan, res, LK_MSG_RECOVER_FAILED, why);
            /* The reason says which check failed, then "; recover in progress", which is
             * no longer true: keep the check, say what recover did. */
            char cause[LK_REASON_MAX];
            size_t keep = strlen(res->reason);
            size_t suffix = strlen(RECOVER_IN_PROGRESS);
            if (keep >= suffix && strcmp(res->reason + keep - suffix, RECOVER_IN_PROGRESS) == 0) {
                keep -= suffix;
            }
            snprintf(cause, sizeof(cause), "%.*s; recover failed: %s", (int) keep, res->reason,
                     why);
            fail_over_to(plan, res, cause, verdict == LK_VERDICT_NOT_CONFIGURED);
            mark_verdict(plan, res, verdict);
        }
        return;
    case LK_PENDING_NONE:
    case LK_PENDING_RESTORE_WAIT:
    case LK_PENDING_REMOVE_WAIT:
    case LK_PENDING_FAIL_REMOVE_WAIT:
    case LK_PENDING_COUNT:
        break;
    }
}

/* Whether scheduled checks apply to res now: in service, monitored, and its whole
 * hierarchy idle (no check judges a resource while an action runs on its hierarchy). */
static bool monitored(const struct lk_plan *plan, const struct lk_resource *res)
{
    return lk_state_in_service(res->state) && res->settings.monitor && !plan_busy(plan, res->tag);
}

/* A check failed for good (or the process died): recover in place when allowed and
 * within the recovery budget, else the failover path. cause says which check and how;
 * failures is the count of failed checks in a row that a failover records. */
static void recover_or_fail_over(struct lk_plan *plan, const struct lk_resource *res,
                                 const char *cause, uint64_t now_usec, uint32_t failures)
{
    if (!res->has_script[LK_ACTION_RECOVER] || !res->settings.local_recovery) {
        fail_over(plan, res, cause)->check_failures_in_row = failures;
        return;
    }
    uint32_t recent = lk_resource_recoveries_in_window(res, now_usec);
    if (recent >= res->settings.max_recoveries) {
        char window[32];
        lk_format_seconds(res->settings.recovery_window_usec, window, sizeof(window));
        log_msg(plan, res, LK_MSG_RECOVERY_LIMIT, recent, window);
        char why[LK_REASON_MAX];
        snprintf(why, sizeof(why), "%s; %u local recoveries within %s s", cause, recent, window);
        fail_over(plan, res, why)->check_failures_in_row = failures;
        return;
    }
    struct lk_act *act = commit(plan, res, res->state, LK_PENDING_RECOVER, res->target_in_service,
                                "%s" RECOVER_IN_PROGRESS, cause);
    act->check_failures_in_row = 0;
    act->local_recoveries = res->local_recoveries + 1;
    act->recovery_at_usec = now_usec ? now_usec : 1;
    log_msg(plan, res, LK_MSG_RECOVER_STARTED, cause);
    run(plan, res, LK_ACTION_RECOVER);
}

static void on_check_finished(struct lk_plan *plan, const struct lk_resource *res,
                              const struct lk_event *ev)
{
    /* A result that arrives after the resource left service, or while an action took
     * over, no longer describes it: ignored. */
    if (!monitored(plan, res)) {
        return;
    }
    const char *check = lk_action_name(ev->action);
    enum lk_verdict verdict = lk_result_verdict(&ev->result);
    if (verdict == LK_VERDICT_PENDING) {
        return; /* neither success nor failure (systemd reloading): not counted */
    }
    if (lk_result_ok(&ev->result)) {
        log_verdict(plan, res, check, &ev->result); /* degraded: a warning */
        if (res->check_failures_in_row > 0) {
            commit(plan, res, res->state, LK_PENDING_NONE, res->target_in_service, "%s",
                   res->reason)
                    ->check_failures_in_row = 0;
        }
        return;
    }
    char why[400];
    verdict_what(&ev->result, why, sizeof(why));
    if (verdict_final(verdict)) {
        /* Not counted, not recovered: failed here at once (hard error, not installed), or
         * failed everywhere (not configured). */
        log_verdict(plan, res, check, &ev->result);
        char cause[LK_REASON_MAX];
        snprintf(cause, sizeof(cause), "%s failed: %.400s", check, why);
        fail_over_to(plan, res, cause, verdict == LK_VERDICT_NOT_CONFIGURED)
                ->check_failures_in_row = res->check_failures_in_row;
        mark_verdict(plan, res, verdict);
        return;
    }
    if (ev->result.outcome == LK_OUTCOME_TIMEOUT) {
        char secs[32];
        lk_format_seconds(ev->result.timeout_usec, secs, sizeof(secs));
        log_msg(plan, res, LK_MSG_CHECK_TIMEOUT, ev->pid,
                ev->action == LK_ACTION_DEEPCHK ? "deep" : "quick", ev->result.pid, secs, res->tag);
        if (res->settings.monitor_timeout_action == LK_TIMEOUT_ACTION_IGNORE) {
            return;
        }
    }
    uint32_t failures = res->check_failures_in_row + 1;
    uint32_t limit = res->settings.check_failures ? res->settings.check_failures : 1;
    log_msg(plan, res, LK_MSG_CHECK_FAILED, check, why, failures, limit);
    char cause[LK_REASON_MAX];
    snprintf(cause, sizeof(cause), "%s failed: %s", check, why);
    if (failures < limit) {
        commit(plan, res, res->state, LK_PENDING_NONE, res->target_in_service, "%s", res->reason)
                ->check_failures_in_row = failures;
        return;
    }
    recover_or_fail_over(plan, res, cause, ev->now_usec, failures);
}

static void on_process_exited(struct lk_plan *plan, const struct lk_resource *res,
                              const struct lk_event *ev)
{
    if (!monitored(plan, res)) {
        return;
    }
    char cause[LK_REASON_MAX];
    if (ev->pid == 0) {
        /* The cgroup watch: every process of the resource is gone (detail: the cgroup). */
        log_msg(plan, res, LK_MSG_CGROUP_EMPTY, ev->detail ? ev->detail : "");
        snprintf(cause, sizeof(cause), "every process of the resource exited");
    } else {
        log_msg(plan, res, LK_MSG_PROCESS_EXITED, ev->pid, ev->detail ? ev->detail : "");
        snprintf(cause, sizeof(cause), "process %d from pidfile exited", ev->pid);
    }
    recover_or_fail_over(plan, res, cause, ev->now_usec, res->check_failures_in_row);
}

static void on_settings_changed(struct lk_plan *plan, const struct lk_resource *res)
{
    if (!lk_state_in_service(res->state) || res->pending != LK_PENDING_NONE) {
        return;
    }
    enum lk_state want = lk_resource_in_service_state(res);
    if (want == res->state) {
        return;
    }
    if (want == LK_STATE_ISU) {
        commit(plan, res, want, LK_PENDING_NONE, res->target_in_service,
               "in service, unprotected: monitoring suspended");
        log_msg(plan, res, LK_MSG_MONITOR_SUSPENDED);
    } else {
        commit(plan, res, want, LK_PENDING_NONE, res->target_in_service,
               "in service, protected: monitoring resumed");
        log_msg(plan, res, LK_MSG_MONITOR_RESUMED);
    }
}

static void on_reset(struct lk_plan *plan, const struct lk_resource *res)
{
    struct lk_act *act =
            commit(plan, res, res->state, res->pending, res->target_in_service, "%s", res->reason);
    act->check_failures_in_row = 0;
    act->local_recoveries = 0;
    /* The recovery window starts afresh too, or the next failure would still meet the
     * recovery-loop limit that the operator just cleared. */
    act->forget_recoveries = true;
    log_msg(plan, res, LK_MSG_COUNTERS_RESET);
    if (res->stop_failed) {
        /* The operator vouches that the application no longer runs here. */
        act->stop_failed = false;
        snprintf(act->text, sizeof(act->text), "%.400s; cleared by an operator: taken as stopped",
                 res->reason);
        log_msg(plan, res, LK_MSG_STOP_FAILED_CLEARED);
    }
    /* The operator says the type is installed (or configured) now. */
    if (res->unable) {
        act->unable = false;
        log_msg(plan, res, LK_MSG_UNABLE_CLEARED, "not installed on this node: unable");
    }
    if (res->not_configured) {
        act->not_configured = false;
        log_msg(plan, res, LK_MSG_UNABLE_CLEARED, "not configured: no failover");
    }
}

/* The reason a state set by hand gets: the operator's, or a default. */
static const char *hand_reason(const struct lk_event *ev)
{
    return ev->detail && ev->detail[0] ? ev->detail : "set by hand";
}

/* ins_setstate ISP/ISU: the operator says the application runs here. Nothing runs; the
 * order of a hierarchy still holds (a resource is in service only over children in
 * service), so a child out of service refuses it. */
static void on_mark_in(struct lk_plan *plan, const struct lk_resource *res,
                       const struct lk_event *ev)
{
    if (refuse_if_busy(plan, res)) {
        return;
    }
    if (res->unable || res->not_configured) {
        refuse(plan, res,
               "resource '%s' is marked %s: it cannot be in service here; 'lkcli resource "
               "reset' first",
               res->tag, res->unable ? "not installed on this node" : "not configured");
        return;
    }
    const struct lk_view *view = plan->view;
    size_t v = vertex_of(plan, res), n = 0;
    const size_t *children = v != SIZE_MAX ? lk_hier_children(plan->hier, v, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (children[i] >= view->count) {
            refuse(plan, res, "resource '%s' depends on '%s', which is not defined here", res->tag,
                   lk_hier_tag(plan->hier, children[i]));
            return;
        }
        const struct lk_resource *child = view->resources[children[i]];
        if (!lk_state_in_service(child->state)) {
            refuse(plan, res,
                   "resource '%s' depends on '%s', which is %s here: set it in service first",
                   res->tag, child->tag, lk_state_name(child->state));
            return;
        }
    }
    enum lk_state want = lk_resource_in_service_state(res);
    commit(plan, res, want, LK_PENDING_NONE, true, "%s", hand_reason(ev))->check_failures_in_row =
            0;
    log_msg(plan, res, LK_MSG_STATE_SET_IN, lk_state_name(want), hand_reason(ev));
}

/* ins_setstate OSU: the operator takes the resource out of the cluster's hands here
 * (maintenance): nothing runs, the application is left as it is. A parent in service
 * here refuses it (it would run over a child out of service). */
static void on_mark_out(struct lk_plan *plan, const struct lk_resource *res,
                        const struct lk_event *ev)
{
    if (refuse_if_busy(plan, res)) {
        return;
    }
    const struct lk_view *view = plan->view;
    size_t v = vertex_of(plan, res), n = 0;
    const size_t *parents = v != SIZE_MAX ? lk_hier_parents(plan->hier, v, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct lk_resource *parent =
                parents[i] < view->count ? view->resources[parents[i]] : NULL;
        if (parent && lk_state_in_service(parent->state)) {
            refuse(plan, res, "resource '%s' depends on '%s' and is %s here: set it OSU first",
                   parent->tag, res->tag, lk_state_name(parent->state));
            return;
        }
    }
    commit(plan, res, LK_STATE_OSU, LK_PENDING_NONE, false, "%s", hand_reason(ev))
            ->check_failures_in_row = 0;
    log_msg(plan, res, LK_MSG_STATE_SET_OUT, hand_reason(ev));
}

/* Whether a finished run of action is the one res's pending action waits for. */
static bool run_expected(const struct lk_resource *res, enum lk_action action)
{
    switch (res->pending) {
    case LK_PENDING_RESTORE:
        return action == LK_ACTION_RESTORE;
    case LK_PENDING_REMOVE:
    case LK_PENDING_CLEANUP:
    case LK_PENDING_FAIL_REMOVE:
        return action == LK_ACTION_REMOVE;
    case LK_PENDING_RECOVER:
        return action == LK_ACTION_RECOVER;
    case LK_PENDING_PROBE:
        return action == LK_ACTION_QUICKCHK || action == LK_ACTION_DEEPCHK;
    case LK_PENDING_NONE:
    case LK_PENDING_RESTORE_WAIT: /* queued: nothing of it runs */
    case LK_PENDING_REMOVE_WAIT:
    case LK_PENDING_FAIL_REMOVE_WAIT:
    case LK_PENDING_COUNT:
        break;
    }
    return false;
}

static int decide_one(struct lk_plan *ret_plan, const struct lk_resource *res,
                      const struct lk_event *ev);

/* The decision's index (the view's, or the plan's own built for it) and an empty table
 * of latest commits, one per vertex. -ENOMEM. */
static int plan_index(struct lk_plan *plan, const struct lk_view *view)
{
    if (!plan->own_hier && !(plan->own_hier = calloc(1, sizeof(*plan->own_hier)))) {
        return -ENOMEM;
    }
    const struct lk_hier *h = view_hier(view, plan->own_hier);
    if (!h) {
        return -ENOMEM;
    }
    if (plan->last_used > 0) {
        memset(plan->last, 0, plan->last_size * sizeof(*plan->last));
        plan->last_used = 0;
    }
    plan->work_count = plan->next_count = 0;
    plan->cursor = SIZE_MAX;
    plan->scan = false;
    plan->hier = h;
    return 0;
}

int lk_engine_decide(const struct lk_view *view, const struct lk_event *ev,
                     struct lk_plan *ret_plan)
{
    ret_plan->count = 0;
    ret_plan->view = view;
    ret_plan->overflow = false;
    ret_plan->startup = ev->type == LK_EV_STARTUP;
    ret_plan->whole_hierarchy = ev->whole_hierarchy;
    ret_plan->preempt = ev->preempt && ev->type == LK_EV_REMOVE_REQUESTED;
    ret_plan->hier = NULL;
    ret_plan->settles = view->settled;
    if (view->holding && (ev->type == LK_EV_CHECK_FINISHED || ev->type == LK_EV_PROCESS_EXITED)) {
        /* A failed check must not start a recovery or a failover before the peers are
         * heard: it may be about a copy another node has taken over meanwhile. */
        return 0;
    }
    const struct lk_resource *res = find(view, ev->tag);
    if (!res) {
        return -ENOENT;
    }
    int r = plan_index(ret_plan, view);
    if (r < 0) {
        return r;
    }
    r = decide_one(ret_plan, res, ev);
    bool refused = false, committed = false;
    for (size_t i = 0; i < ret_plan->count; i++) {
        refused |= ret_plan->acts[i].type == LK_ACT_REFUSE;
        committed |= ret_plan->acts[i].type == LK_ACT_COMMIT;
    }
    /* Only a commit can make a queued action ready (or impossible); a passing check,
     * the common event, commits nothing and needs no walk over the view. */
    if (r == 0 && !refused && committed) {
        advance(ret_plan); /* says whether the view is settled after it */
    } else if (committed) {
        ret_plan->settles = false;
    }
    if (ret_plan->overflow) {
        ret_plan->count = 0;
        ret_plan->settles = false;
        return -ENOMEM;
    }
    if (r < 0) {
        ret_plan->count = 0;
        ret_plan->settles = false;
    }
    return r;
}

static int decide_one(struct lk_plan *ret_plan, const struct lk_resource *res,
                      const struct lk_event *ev)
{
    switch (ev->type) {
    case LK_EV_RESTORE_REQUESTED:
        on_restore_requested(ret_plan, res);
        return 0;
    case LK_EV_REMOVE_REQUESTED:
        on_remove_requested(ret_plan, res);
        return 0;
    case LK_EV_RUN_FINISHED:
        if (!run_expected(res, ev->action)) {
            return -EINVAL;
        }
        on_run_finished(ret_plan, res, ev);
        return 0;
    case LK_EV_STARTUP:
        on_startup(ret_plan, res);
        return 0;
    case LK_EV_SHUTDOWN:
        on_shutdown(ret_plan, res);
        return 0;
    case LK_EV_CHECK_FINISHED:
        if (ev->action != LK_ACTION_QUICKCHK && ev->action != LK_ACTION_DEEPCHK) {
            return -EINVAL;
        }
        on_check_finished(ret_plan, res, ev);
        return 0;
    case LK_EV_PROCESS_EXITED:
        on_process_exited(ret_plan, res, ev);
        return 0;
    case LK_EV_SETTINGS_CHANGED:
        on_settings_changed(ret_plan, res);
        return 0;
    case LK_EV_RESET:
        on_reset(ret_plan, res);
        return 0;
    case LK_EV_CLUSTER_FAILED:
        /* E.g. the failover limit: nothing runs here, the state says why. */
        if (res->pending != LK_PENDING_NONE || lk_state_in_service(res->state) || !ev->detail) {
            return -EINVAL;
        }
        commit(ret_plan, res, LK_STATE_OSF, LK_PENDING_NONE, res->target_in_service, "%s",
               ev->detail);
        return 0;
    case LK_EV_MARK_IN:
        on_mark_in(ret_plan, res, ev);
        return 0;
    case LK_EV_MARK_OUT:
        on_mark_out(ret_plan, res, ev);
        return 0;
    case LK_EV_COUNT:
        break;
    }
    return -EINVAL;
}

void lk_act_apply(const struct lk_act *act, struct lk_resource *res)
{
    if (act->type != LK_ACT_COMMIT) {
        return;
    }
    res->state = act->state;
    res->pending = act->pending;
    res->target_in_service = act->target_in_service;
    res->check_failures_in_row = act->check_failures_in_row;
    res->local_recoveries = act->local_recoveries;
    res->stop_failed = act->stop_failed;
    res->unable = act->unable;
    res->not_configured = act->not_configured;
    if (act->forget_recoveries) {
        memset(res->recovery_at_usec, 0, sizeof(res->recovery_at_usec));
        res->recovery_head = 0;
    }
    if (act->recovery_at_usec) {
        lk_resource_note_recovery(res, act->recovery_at_usec);
    }
    snprintf(res->reason, sizeof(res->reason), "%s", act->text);
}

char *lk_act_format(const struct lk_act *act, char *buf, size_t size)
{
    char counters[48] = "";
    if (act->check_failures_in_row || act->local_recoveries) {
        snprintf(counters, sizeof(counters), " failures=%u recoveries=%u",
                 act->check_failures_in_row, act->local_recoveries);
    }
    switch (act->type) {
    case LK_ACT_COMMIT:
        snprintf(buf, size, "COMMIT %s %s pending=%s target=%s%s%s%s%s%s%s reason=%s", act->tag,
                 lk_state_name(act->state),
                 act->pending == LK_PENDING_NONE ? "-" : lk_pending_name(act->pending),
                 act->target_in_service ? "in" : "out", counters,
                 act->forget_recoveries ? " -recoveries" : "",
                 act->recovery_at_usec ? " +recovery" : "", act->stop_failed ? " stop-failed" : "",
                 act->unable ? " unable" : "", act->not_configured ? " not-configured" : "",
                 act->text);
        break;
    case LK_ACT_RUN:
        snprintf(buf, size, "RUN %s %s", act->tag, lk_action_name(act->action));
        break;
    case LK_ACT_LOG:
        snprintf(buf, size, "LOG %s %d %s %s", act->tag, act->number,
                 lk_severity_name(act->severity), act->text);
        break;
    case LK_ACT_REFUSE:
        snprintf(buf, size, "REFUSE %s %s", act->tag, act->text);
        break;
    default:
        snprintf(buf, size, "?");
        break;
    }
    return buf;
}

static const char *const event_names[LK_EV_COUNT] = {
        "restore-requested", "remove-requested", "run-finished",     "startup", "shutdown",
        "check-finished",    "process-exited",   "settings-changed", "reset",   "cluster-failed",
        "mark-in",           "mark-out",
};

const char *lk_event_type_name(enum lk_event_type type)
{
    return type < LK_EV_COUNT ? event_names[type] : "?";
}
