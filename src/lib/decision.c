/* The decision log as data: encodes one decision of the resource engine or of placement
 * (its view, its event, its formatted acts) as one JSON object, decodes such an object
 * back into a view and an event that decide exactly as the originals did, and replays it.
 *
 * Enters: a decider's inputs and plan (the daemon's debug log), or a JSON object from a
 * log line or a golden file (tests/golden/, scripts/golden-from-log.py) — outside input,
 * so every field is checked: type, range, enum name, length, array sizes.
 *
 * Never: touches the loop, the clock, the disk or the network; keeps a partly decoded
 * decision (a bad field frees everything and returns -EINVAL with one line in err). */
#include "decision.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "result.h"

#define ACT_LINE_MAX (LK_REASON_MAX + 256)

/* ------------------------------------------------------------------ names */

static const char *state_n(int i)
{
    return lk_state_name((enum lk_state) i);
}
static const char *pending_n(int i)
{
    return lk_pending_name((enum lk_pending) i);
}
static const char *init_n(int i)
{
    return lk_init_name((enum lk_init) i);
}
static const char *switchback_n(int i)
{
    return lk_switchback_name((enum lk_switchback) i);
}
static const char *timeout_n(int i)
{
    return lk_timeout_action_name((enum lk_timeout_action) i);
}
static const char *action_n(int i)
{
    return lk_action_name((enum lk_action) i);
}
static const char *outcome_n(int i)
{
    return lk_outcome_name((enum lk_outcome) i);
}
static const char *verdict_n(int i)
{
    return lk_verdict_name((enum lk_verdict) i);
}
static const char *event_n(int i)
{
    return lk_event_type_name((enum lk_event_type) i);
}
static const char *pevent_n(int i)
{
    return lk_pevent_type_name((enum lk_pevent_type) i);
}

/* A name for enum value v, or NULL when out of range. */
static json_t *enum_json(const char *(*name)(int), int count, int v)
{
    const char *n = v >= 0 && v < count ? name(v) : NULL;
    return n ? json_string(n) : json_null();
}

/* ------------------------------------------------------------------ encode */

static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (!value || json_object_set_new(obj, key, value) < 0) {
        *ok = false;
    }
}

static void append(json_t *arr, json_t *value, bool *ok)
{
    if (!value || json_array_append_new(arr, value) < 0) {
        *ok = false;
    }
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *uint_json(uint64_t v)
{
    return json_integer((json_int_t) v);
}

static json_t *settings_json(const struct lk_settings *s, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    put(o, "quickchk_interval_usec", uint_json(s->quickchk_interval_usec), ok);
    put(o, "deepchk_interval_usec", uint_json(s->deepchk_interval_usec), ok);
    put(o, "quickchk_timeout_usec", uint_json(s->quickchk_timeout_usec), ok);
    put(o, "deepchk_timeout_usec", uint_json(s->deepchk_timeout_usec), ok);
    put(o, "action_timeout_usec", uint_json(s->action_timeout_usec), ok);
    put(o, "start_grace_usec", uint_json(s->start_grace_usec), ok);
    put(o, "recovery_window_usec", uint_json(s->recovery_window_usec), ok);
    put(o, "check_failures", uint_json(s->check_failures), ok);
    put(o, "max_recoveries", uint_json(s->max_recoveries), ok);
    put(o, "local_recovery", json_boolean(s->local_recovery), ok);
    put(o, "monitor", json_boolean(s->monitor), ok);
    put(o, "switchback", enum_json(switchback_n, LK_SWITCHBACK_COUNT, (int) s->switchback), ok);
    put(o, "monitor_timeout_action",
        enum_json(timeout_n, LK_TIMEOUT_ACTION_COUNT, (int) s->monitor_timeout_action), ok);
    put(o, "init", enum_json(init_n, LK_INIT_COUNT, (int) s->init), ok);
    put(o, "pidfile", json_string(s->pidfile), ok);
    return o;
}

static json_t *resource_json(const struct lk_resource *r, bool *ok)
{
    json_t *o = json_object();
    json_t *scripts = json_array();
    json_t *rec = json_array();
    if (!o || !scripts || !rec) {
        json_decref(o);
        json_decref(scripts);
        json_decref(rec);
        *ok = false;
        return NULL;
    }
    for (int a = 0; a < LK_ACTION_COUNT; a++) {
        if (r->has_script[a]) {
            append(scripts, json_string(lk_action_name((enum lk_action) a)), ok);
        }
    }
    /* The recovery history, oldest first (only its entries count, not their slots). */
    for (uint32_t i = 0; i < LK_RECOVERY_HISTORY; i++) {
        uint64_t at = r->recovery_at_usec[(r->recovery_head + i) % LK_RECOVERY_HISTORY];
        if (at != 0) {
            append(rec, uint_json(at), ok);
        }
    }
    put(o, "tag", json_string(r->tag), ok);
    put(o, "scripts", scripts, ok);
    put(o, "settings", settings_json(&r->settings, ok), ok);
    put(o, "state", enum_json(state_n, LK_STATE_COUNT, (int) r->state), ok);
    put(o, "reason", json_string(r->reason), ok);
    put(o, "pending", enum_json(pending_n, LK_PENDING_COUNT, (int) r->pending), ok);
    put(o, "target_in_service", json_boolean(r->target_in_service), ok);
    put(o, "check_failures_in_row", uint_json(r->check_failures_in_row), ok);
    put(o, "local_recoveries", uint_json(r->local_recoveries), ok);
    put(o, "stop_failed", json_boolean(r->stop_failed), ok);
    put(o, "unable", json_boolean(r->unable), ok);
    put(o, "not_configured", json_boolean(r->not_configured), ok);
    put(o, "recoveries_usec", rec, ok);
    return o;
}

static json_t *acts_json(size_t count, bool resource, const void *acts, bool *ok)
{
    json_t *arr = json_array();
    char *line = malloc(ACT_LINE_MAX);
    if (!arr || !line) {
        json_decref(arr);
        free(line);
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        if (resource) {
            lk_act_format(&((const struct lk_act *) acts)[i], line, ACT_LINE_MAX);
        } else {
            lk_pact_format(&((const struct lk_pact *) acts)[i], line, ACT_LINE_MAX);
        }
        append(arr, json_string(line), ok);
    }
    free(line);
    return arr;
}

static json_t *finish(const char *engine, json_t *view, json_t *event, json_t *acts, bool ok)
{
    json_t *o = json_object();
    if (o) {
        put(o, "engine", json_string(engine), &ok);
        put(o, "view", view, &ok);
        put(o, "event", event, &ok);
        put(o, "acts", acts, &ok);
    } else {
        json_decref(view);
        json_decref(event);
        json_decref(acts);
    }
    if (!o || !ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lk_decision_engine_json(const struct lk_view *view, const struct lk_event *ev,
                                const struct lk_plan *plan)
{
    bool ok = true;
    json_t *v = json_object();
    json_t *resources = json_array();
    json_t *deps = json_array();
    json_t *backup = json_array();
    json_t *elsewhere = json_array();
    json_t *e = json_object();
    json_t *result = json_object();
    if (!v || !resources || !deps || !backup || !elsewhere || !e || !result) {
        ok = false;
    }
    for (size_t i = 0; ok && i < view->count; i++) {
        const struct lk_resource *r = view->resources[i];
        append(resources, resource_json(r, &ok), &ok);
        /* The callbacks' answers, as data: the engine asks them about tags of the view. */
        if (view->has_backup && view->has_backup(view->backup_ctx, r->tag)) {
            append(backup, json_string(r->tag), &ok);
        }
        if (view->owned_elsewhere && view->owned_elsewhere(view->backup_ctx, r->tag)) {
            append(elsewhere, json_string(r->tag), &ok);
        }
    }
    for (size_t i = 0; ok && i < view->dep_count; i++) {
        append(deps, json_pack("[ss]", view->deps[i].parent, view->deps[i].child), &ok);
    }
    if (ok) {
        put(v, "node", str_or_null(view->node), &ok);
        put(v, "sorted", json_boolean(view->sorted), &ok);
        put(v, "holding", json_boolean(view->holding), &ok);
        put(v, "resources", resources, &ok);
        put(v, "deps", deps, &ok);
        put(v, "has_backup", backup, &ok);
        put(v, "owned_elsewhere", elsewhere, &ok);
        resources = deps = backup = elsewhere = NULL;
        const struct lk_result *res = &ev->result;
        put(result, "outcome", enum_json(outcome_n, LK_OUTCOME_COUNT, (int) res->outcome), &ok);
        put(result, "exit_status", json_integer(res->exit_status), &ok);
        put(result, "term_signal", json_integer(res->term_signal), &ok);
        put(result, "exec_errno", json_integer(res->exec_errno), &ok);
        put(result, "timeout_usec", uint_json(res->timeout_usec), &ok);
        put(result, "duration_usec", uint_json(res->duration_usec), &ok);
        put(result, "pid", json_integer(res->pid), &ok);
        put(result, "message", json_string(res->message), &ok);
        put(result, "verdict", enum_json(verdict_n, LK_VERDICT_COUNT, (int) res->verdict), &ok);
        put(result, "exit_reason", json_string(res->exit_reason), &ok);
        put(e, "type", enum_json(event_n, LK_EV_COUNT, (int) ev->type), &ok);
        put(e, "tag", str_or_null(ev->tag), &ok);
        put(e, "action", enum_json(action_n, LK_ACTION_COUNT, (int) ev->action), &ok);
        put(e, "result", result, &ok);
        result = NULL;
        put(e, "now_usec", uint_json(ev->now_usec), &ok);
        put(e, "whole_hierarchy", json_boolean(ev->whole_hierarchy), &ok);
        put(e, "preempt", json_boolean(ev->preempt), &ok);
        put(e, "pid", json_integer(ev->pid), &ok);
        put(e, "detail", str_or_null(ev->detail), &ok);
    }
    json_decref(resources);
    json_decref(deps);
    json_decref(backup);
    json_decref(elsewhere);
    json_decref(result);
    json_t *acts = acts_json(plan->count, true, plan->acts, &ok);
    return finish("resource", v, e, acts, ok);
}

static json_t *bools_json(const bool *b, size_t count, bool *ok)
{
    if (!b) {
        return json_null();
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++) {
        append(arr, json_boolean(b[i]), ok);
    }
    return arr;
}

static json_t *peer_json(const struct lk_ppeer *p, size_t tag_count, bool *ok)
{
    json_t *o = json_object();
    json_t *alive = json_array();
    if (!o || !alive) {
        json_decref(o);
        json_decref(alive);
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < p->alive_count; i++) {
        append(alive, json_string(p->alive_set[i]), ok);
    }
    json_t *states = json_null();
    if (p->states) {
        states = json_array();
        for (size_t i = 0; states && i < tag_count; i++) {
            append(states,
                   json_pack("{sbsbsb}", "known", p->states[i].known, "in_service",
                             p->states[i].in_service, "busy", p->states[i].busy),
                   ok);
        }
    }
    put(o, "name", str_or_null(p->name), ok);
    put(o, "configured", json_boolean(p->configured), ok);
    put(o, "alive", json_boolean(p->alive), ok);
    put(o, "witness", json_boolean(p->witness), ok);
    put(o, "synced", json_boolean(p->synced), ok);
    put(o, "has_states", json_boolean(p->has_states), ok);
    put(o, "has_alive_set", json_boolean(p->has_alive_set), ok);
    put(o, "dead_since_ms", uint_json(p->dead_since_ms), ok);
    put(o, "alive_since_ms", uint_json(p->alive_since_ms), ok);
    put(o, "unseen", json_boolean(p->unseen), ok);
    put(o, "held_when_lost", json_boolean(p->held_when_lost), ok);
    put(o, "guarded", json_boolean(p->guarded), ok);
    put(o, "alive_set", alive, ok);
    put(o, "priority", uint_json(p->priority), ok);
    put(o, "stop_failed", bools_json(p->stop_failed, tag_count, ok), ok);
    put(o, "unable", json_boolean(p->unable), ok);
    put(o, "not_configured", json_boolean(p->not_configured), ok);
    put(o, "states", states, ok);
    return o;
}

static json_t *ptag_json(const struct lk_ptag *t, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    put(o, "tag", str_or_null(t->tag), ok);
    put(o, "exists", json_boolean(t->exists), ok);
    put(o, "root", json_boolean(t->root), ok);
    put(o, "clustered", json_boolean(t->clustered), ok);
    put(o, "state", enum_json(state_n, LK_STATE_COUNT, (int) t->state), ok);
    put(o, "busy", json_boolean(t->busy), ok);
    put(o, "stop_failed", json_boolean(t->stop_failed), ok);
    put(o, "unable", json_boolean(t->unable), ok);
    put(o, "not_configured", json_boolean(t->not_configured), ok);
    put(o, "pending", enum_json(pending_n, LK_PENDING_COUNT, (int) t->pending), ok);
    put(o, "reason", str_or_null(t->reason), ok);
    return o;
}

static json_t *hier_json(const struct lk_phier *h, bool *ok)
{
    json_t *o = json_object();
    json_t *tags = json_array();
    if (!o || !tags) {
        json_decref(o);
        json_decref(tags);
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < h->count; i++) {
        append(tags, ptag_json(&h->tags[i], ok), ok);
    }
    put(o, "tags", tags, ok);
    put(o, "priority", uint_json(h->priority), ok);
    put(o, "has_rec", json_boolean(h->has_rec), ok);
    put(o, "rec", lk_owner_json(&h->rec), ok);
    put(o, "acted", json_boolean(h->acted), ok);
    put(o, "held_gen", uint_json(h->held_gen), ok);
    put(o, "has_root", json_boolean(h->has_root), ok);
    put(o, "switchback", enum_json(switchback_n, LK_SWITCHBACK_COUNT, (int) h->switchback), ok);
    put(o, "switch_tag", str_or_null(h->switch_tag), ok);
    put(o, "switch_to", str_or_null(h->switch_to), ok);
    put(o, "removing_tag", str_or_null(h->removing_tag), ok);
    return o;
}

json_t *lk_decision_placement_json(const struct lk_placement_view *view, const struct lk_pevent *ev,
                                   const struct lk_pplan *plan)
{
    bool ok = true;
    json_t *v = json_object();
    json_t *peers = json_array();
    json_t *fences = json_array();
    json_t *e = json_object();
    if (!v || !peers || !fences || !e) {
        ok = false;
    }
    for (size_t i = 0; ok && i < view->peer_count; i++) {
        append(peers, peer_json(&view->peers[i], view->hier.count, &ok), &ok);
    }
    for (size_t i = 0; ok && i < view->fence_count; i++) {
        const struct lk_pfence *f = &view->fences[i];
        append(fences,
               json_pack("{s:o,s:b,s:b,s:I}", "node", str_or_null(f->node), "running", f->running,
                         "ok", f->ok, "failed_at_ms", (json_int_t) f->failed_at_ms),
               &ok);
    }
    if (ok) {
        put(v, "node", str_or_null(view->node), &ok);
        put(v, "settled", json_boolean(view->settled), &ok);
        put(v, "holding", json_boolean(view->holding), &ok);
        put(v, "orphan_check", json_boolean(view->orphan_check), &ok);
        put(v, "quorate", json_boolean(view->quorate), &ok);
        put(v, "quorum_none", json_boolean(view->quorum_none), &ok);
        put(v, "quorum_loss_osu", json_boolean(view->quorum_loss_osu), &ok);
        put(v, "fence_script", json_boolean(view->fence_script), &ok);
        put(v, "max_failovers", uint_json(view->max_failovers), &ok);
        put(v, "failover_window_s", uint_json(view->failover_window_s), &ok);
        put(v, "dead_ms", uint_json(view->dead_ms), &ok);
        put(v, "now_ms", json_integer(view->now_ms), &ok);
        put(v, "mono_ms", uint_json(view->mono_ms), &ok);
        put(v, "started_ms", uint_json(view->started_ms), &ok);
        put(v, "peers", peers, &ok);
        put(v, "fences", fences, &ok);
        peers = fences = NULL;
        put(v, "hier", hier_json(&view->hier, &ok), &ok);
        put(e, "type", enum_json(pevent_n, LK_PEV_COUNT, (int) ev->type), &ok);
        put(e, "tag", str_or_null(ev->tag), &ok);
        put(e, "target", str_or_null(ev->target), &ok);
        put(e, "target_priority", uint_json(ev->target_priority), &ok);
        put(e, "from", str_or_null(ev->from), &ok);
        put(e, "whole", json_boolean(ev->whole), &ok);
        put(e, "running", json_boolean(ev->running), &ok);
    }
    json_decref(peers);
    json_decref(fences);
    json_t *acts = acts_json(plan->count, false, plan->acts, &ok);
    return finish("placement", v, e, acts, ok);
}

/* ------------------------------------------------------------------ decode */

struct dec {
    char *err;
    size_t err_size;
    const char *where; /* "view.resources[2]" … for the message */
};

__attribute__((format(printf, 2, 3))) static int fail(struct dec *d, const char *format, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, format);
    vsnprintf(what, sizeof(what), format, ap);
    va_end(ap);
    if (d->err_size) {
        snprintf(d->err, d->err_size, "%s: %s", d->where, what);
    }
    return -EINVAL;
}

static int get(struct dec *d, const json_t *obj, const char *key, const json_t **ret)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return fail(d, "'%s' is missing", key);
    }
    *ret = v;
    return 0;
}

static int get_bool(struct dec *d, const json_t *obj, const char *key, bool *ret)
{
    const json_t *v = NULL;
    int r = get(d, obj, key, &v);
    if (r < 0) {
        return r;
    }
    if (!json_is_boolean(v)) {
        return fail(d, "'%s' must be true or false", key);
    }
    *ret = json_is_true(v);
    return 0;
}

static int get_int_range(struct dec *d, const json_t *obj, const char *key, json_int_t min,
                         json_int_t max, json_int_t *ret)
{
    const json_t *v = NULL;
    int r = get(d, obj, key, &v);
    if (r < 0) {
        return r;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        return fail(d, "'%s' must be an integer from %lld to %lld", key, (long long) min,
                    (long long) max);
    }
    *ret = json_integer_value(v);
    return 0;
}

static int get_u64(struct dec *d, const json_t *obj, const char *key, uint64_t *ret)
{
    json_int_t v = 0;
    int r = get_int_range(d, obj, key, 0, LLONG_MAX, &v);
    if (r == 0) {
        *ret = (uint64_t) v;
    }
    return r;
}

static int get_u32(struct dec *d, const json_t *obj, const char *key, uint32_t *ret)
{
    json_int_t v = 0;
    int r = get_int_range(d, obj, key, 0, UINT32_MAX, &v);
    if (r == 0) {
        *ret = (uint32_t) v;
    }
    return r;
}

static int get_int(struct dec *d, const json_t *obj, const char *key, int *ret)
{
    json_int_t v = 0;
    int r = get_int_range(d, obj, key, INT_MIN, INT_MAX, &v);
    if (r == 0) {
        *ret = (int) v;
    }
    return r;
}

/* A string (NULL for null when nullable) of at most max bytes without control bytes. */
static int get_str(struct dec *d, const json_t *obj, const char *key, bool nullable, size_t max,
                   const char **ret)
{
    const json_t *v = NULL;
    int r = get(d, obj, key, &v);
    if (r < 0) {
        return r;
    }
    if (nullable && json_is_null(v)) {
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v)) {
        return fail(d, "'%s' must be a string%s", key, nullable ? " or null" : "");
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v) || strlen(s) > max) {
        return fail(d, "'%s' is too long or holds a NUL byte (at most %zu bytes)", key, max);
    }
    *ret = s;
    return 0;
}

/* A tag or node name: non-empty, at most LK_TAG_MAX bytes, no control bytes. */
static int check_name(struct dec *d, const char *what, const char *s)
{
    char why[160];
    if (lk_validate_tag(s, what, why, sizeof(why)) < 0) {
        return fail(d, "%s", why);
    }
    return 0;
}

static int get_name(struct dec *d, const json_t *obj, const char *key, bool nullable,
                    const char **ret)
{
    int r = get_str(d, obj, key, nullable, LK_TAG_MAX, ret);
    if (r == 0 && *ret) {
        r = check_name(d, key, *ret);
    }
    return r;
}

static int get_copy(struct dec *d, const json_t *obj, const char *key, char *buf, size_t size)
{
    const char *s = NULL;
    int r = get_str(d, obj, key, false, size - 1, &s);
    if (r == 0) {
        snprintf(buf, size, "%s", s);
    }
    return r;
}

static int get_enum(struct dec *d, const json_t *obj, const char *key, const char *(*name)(int),
                    int count, bool nullable, int *ret)
{
    const char *s = NULL;
    int r = get_str(d, obj, key, nullable, 64, &s);
    if (r < 0) {
        return r;
    }
    if (!s) {
        *ret = -1;
        return 0;
    }
    for (int i = 0; i < count; i++) {
        if (name(i) && strcmp(name(i), s) == 0) {
            *ret = i;
            return 0;
        }
    }
    return fail(d, "'%s' has an unknown value '%s'", key, s);
}

static int get_array(struct dec *d, const json_t *obj, const char *key, bool nullable,
                     const json_t **ret)
{
    int r = get(d, obj, key, ret);
    if (r == 0 && !json_is_array(*ret) && !(nullable && json_is_null(*ret))) {
        r = fail(d, "'%s' must be an array%s", key, nullable ? " or null" : "");
    }
    return r;
}

static int get_object(struct dec *d, const json_t *obj, const char *key, const json_t **ret)
{
    int r = get(d, obj, key, ret);
    if (r == 0 && !json_is_object(*ret)) {
        r = fail(d, "'%s' must be an object", key);
    }
    return r;
}

static void *track(struct lk_decision *dc, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    void **grown = p ? realloc(dc->allocs, (dc->alloc_count + 1) * sizeof(*grown)) : NULL;
    if (!grown) {
        free(p);
        return NULL;
    }
    dc->allocs = grown;
    dc->allocs[dc->alloc_count++] = p;
    return p;
}

/* Strings of an array of names into a tracked array. */
static int get_names(struct dec *d, struct lk_decision *dc, const json_t *obj, const char *key,
                     const char ***ret, size_t *ret_count)
{
    const json_t *arr = NULL;
    int r = get_array(d, obj, key, false, &arr);
    if (r < 0) {
        return r;
    }
    size_t n = json_array_size(arr);
    const char **names = track(dc, n, sizeof(*names));
    if (!names) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || check_name(d, key, json_string_value(s)) < 0) {
            return fail(d, "'%s' must hold names only", key);
        }
        names[i] = json_string_value(s);
    }
    *ret = names;
    *ret_count = n;
    return 0;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int try_r_ = (expr);                                                                       \
        if (try_r_ < 0) {                                                                          \
            return try_r_;                                                                         \
        }                                                                                          \
    } while (0)

static int parse_settings(struct dec *d, const json_t *o, struct lk_settings *s)
{
    int e = 0;
    TRY(get_u64(d, o, "quickchk_interval_usec", &s->quickchk_interval_usec));
    TRY(get_u64(d, o, "deepchk_interval_usec", &s->deepchk_interval_usec));
    TRY(get_u64(d, o, "quickchk_timeout_usec", &s->quickchk_timeout_usec));
    TRY(get_u64(d, o, "deepchk_timeout_usec", &s->deepchk_timeout_usec));
    TRY(get_u64(d, o, "action_timeout_usec", &s->action_timeout_usec));
    TRY(get_u64(d, o, "start_grace_usec", &s->start_grace_usec));
    TRY(get_u64(d, o, "recovery_window_usec", &s->recovery_window_usec));
    TRY(get_u32(d, o, "check_failures", &s->check_failures));
    TRY(get_u32(d, o, "max_recoveries", &s->max_recoveries));
    TRY(get_bool(d, o, "local_recovery", &s->local_recovery));
    TRY(get_bool(d, o, "monitor", &s->monitor));
    TRY(get_enum(d, o, "switchback", switchback_n, LK_SWITCHBACK_COUNT, false, &e));
    s->switchback = (enum lk_switchback) e;
    TRY(get_enum(d, o, "monitor_timeout_action", timeout_n, LK_TIMEOUT_ACTION_COUNT, false, &e));
    s->monitor_timeout_action = (enum lk_timeout_action) e;
    TRY(get_enum(d, o, "init", init_n, LK_INIT_COUNT, false, &e));
    s->init = (enum lk_init) e;
    TRY(get_copy(d, o, "pidfile", s->pidfile, sizeof(s->pidfile)));
    return 0;
}

static int parse_resource(struct dec *d, const json_t *o, struct lk_resource *r)
{
    if (!json_is_object(o)) {
        return fail(d, "must be an object");
    }
    const char *tag = NULL;
    const json_t *arr = NULL, *settings = NULL;
    int e = 0;
    TRY(get_name(d, o, "tag", false, &tag));
    snprintf(r->tag, sizeof(r->tag), "%s", tag);
    TRY(get_array(d, o, "scripts", false, &arr));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *s = json_array_get(arr, i);
        enum lk_action a =
                json_is_string(s) ? lk_action_from_name(json_string_value(s)) : LK_ACTION_NONE;
        if (a == LK_ACTION_NONE) {
            return fail(d, "'scripts' must hold action names only");
        }
        r->has_script[a] = true;
    }
    TRY(get_object(d, o, "settings", &settings));
    TRY(parse_settings(d, settings, &r->settings));
    TRY(get_enum(d, o, "state", state_n, LK_STATE_COUNT, false, &e));
    r->state = (enum lk_state) e;
    TRY(get_copy(d, o, "reason", r->reason, sizeof(r->reason)));
    TRY(get_enum(d, o, "pending", pending_n, LK_PENDING_COUNT, false, &e));
    r->pending = (enum lk_pending) e;
    TRY(get_bool(d, o, "target_in_service", &r->target_in_service));
    TRY(get_u32(d, o, "check_failures_in_row", &r->check_failures_in_row));
    TRY(get_u32(d, o, "local_recoveries", &r->local_recoveries));
    TRY(get_bool(d, o, "stop_failed", &r->stop_failed));
    /* Since issue 13; older logs have neither. */
    if (json_object_get(o, "unable")) {
        TRY(get_bool(d, o, "unable", &r->unable));
    }
    if (json_object_get(o, "not_configured")) {
        TRY(get_bool(d, o, "not_configured", &r->not_configured));
    }
    TRY(get_array(d, o, "recoveries_usec", false, &arr));
    if (json_array_size(arr) > LK_RECOVERY_HISTORY) {
        return fail(d, "'recoveries_usec' holds more than %d entries", LK_RECOVERY_HISTORY);
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *at = json_array_get(arr, i);
        if (!json_is_integer(at) || json_integer_value(at) <= 0) {
            return fail(d, "'recoveries_usec' must hold positive integers");
        }
        lk_resource_note_recovery(r, (uint64_t) json_integer_value(at));
    }
    return 0;
}

static bool answers(const char *const *tags, size_t count, const char *tag)
{
    for (size_t i = 0; tag && i < count; i++) {
        if (strcmp(tags[i], tag) == 0) {
            return true;
        }
    }
    return false;
}

static bool recorded_backup(const void *ctx, const char *tag)
{
    const struct lk_decision *dc = ctx;
    return answers(dc->backup_tags, dc->backup_count, tag);
}

static bool recorded_elsewhere(const void *ctx, const char *tag)
{
    const struct lk_decision *dc = ctx;
    return answers(dc->elsewhere_tags, dc->elsewhere_count, tag);
}

static int parse_engine(struct dec *d, struct lk_decision *dc, const json_t *v, const json_t *e)
{
    struct lk_view *view = &dc->view;
    const json_t *arr = NULL;
    d->where = "view";
    TRY(get_name(d, v, "node", true, &view->node));
    TRY(get_bool(d, v, "sorted", &view->sorted));
    TRY(get_bool(d, v, "holding", &view->holding));
    TRY(get_array(d, v, "resources", false, &arr));
    size_t n = json_array_size(arr);
    dc->res_store = calloc(n ? n : 1, sizeof(*dc->res_store));
    dc->res_ptrs = calloc(n ? n : 1, sizeof(*dc->res_ptrs));
    if (!dc->res_store || !dc->res_ptrs) {
        return -ENOMEM;
    }
    char where[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(where, sizeof(where), "view.resources[%zu]", i);
        d->where = where;
        TRY(parse_resource(d, json_array_get(arr, i), &dc->res_store[i]));
        dc->res_ptrs[i] = &dc->res_store[i];
        for (size_t j = 0; j < i; j++) {
            int c = strcmp(dc->res_store[j].tag, dc->res_store[i].tag);
            if (c == 0 || (view->sorted && j == i - 1 && c > 0)) {
                return fail(d, "tag '%s' is repeated or out of order", dc->res_store[i].tag);
            }
        }
    }
    view->resources = dc->res_ptrs;
    view->count = n;
    d->where = "view";
    TRY(get_array(d, v, "deps", false, &arr));
    n = json_array_size(arr);
    dc->deps = calloc(n ? n : 1, sizeof(*dc->deps));
    if (!dc->deps) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *pair = json_array_get(arr, i);
        const json_t *p = json_array_get(pair, 0), *c = json_array_get(pair, 1);
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(p) ||
            !json_is_string(c) || check_name(d, "a dependency's parent", json_string_value(p)) ||
            check_name(d, "a dependency's child", json_string_value(c))) {
            return fail(d, "'deps' must hold [parent, child] pairs of tags");
        }
        snprintf(dc->deps[i].parent, sizeof(dc->deps[i].parent), "%s", json_string_value(p));
        snprintf(dc->deps[i].child, sizeof(dc->deps[i].child), "%s", json_string_value(c));
    }
    view->deps = dc->deps;
    view->dep_count = n;
    TRY(get_names(d, dc, v, "has_backup", &dc->backup_tags, &dc->backup_count));
    TRY(get_names(d, dc, v, "owned_elsewhere", &dc->elsewhere_tags, &dc->elsewhere_count));
    view->has_backup = recorded_backup;
    view->owned_elsewhere = recorded_elsewhere;
    view->backup_ctx = dc;

    struct lk_event *ev = &dc->event;
    const json_t *result = NULL;
    int x = 0;
    d->where = "event";
    TRY(get_enum(d, e, "type", event_n, LK_EV_COUNT, false, &x));
    ev->type = (enum lk_event_type) x;
    TRY(get_name(d, e, "tag", false, &ev->tag));
    TRY(get_enum(d, e, "action", action_n, LK_ACTION_COUNT, true, &x));
    ev->action = (enum lk_action) x;
    TRY(get_u64(d, e, "now_usec", &ev->now_usec));
    TRY(get_bool(d, e, "whole_hierarchy", &ev->whole_hierarchy));
    TRY(get_bool(d, e, "preempt", &ev->preempt));
    TRY(get_int(d, e, "pid", &ev->pid));
    TRY(get_str(d, e, "detail", true, LK_REASON_MAX, &ev->detail));
    TRY(get_object(d, e, "result", &result));
    d->where = "event.result";
    struct lk_result *res = &ev->result;
    TRY(get_enum(d, result, "outcome", outcome_n, LK_OUTCOME_COUNT, false, &x));
    res->outcome = (enum lk_outcome) x;
    TRY(get_int(d, result, "exit_status", &res->exit_status));
    TRY(get_int(d, result, "term_signal", &res->term_signal));
    TRY(get_int(d, result, "exec_errno", &res->exec_errno));
    TRY(get_u64(d, result, "timeout_usec", &res->timeout_usec));
    TRY(get_u64(d, result, "duration_usec", &res->duration_usec));
    TRY(get_int(d, result, "pid", &res->pid));
    TRY(get_copy(d, result, "message", res->message, sizeof(res->message)));
    /* Since issue 13; older logs have neither (BY_OUTCOME, no reason). */
    if (json_object_get(result, "verdict")) {
        TRY(get_enum(d, result, "verdict", verdict_n, LK_VERDICT_COUNT, false, &x));
        res->verdict = (enum lk_verdict) x;
    }
    if (json_object_get(result, "exit_reason")) {
        TRY(get_copy(d, result, "exit_reason", res->exit_reason, sizeof(res->exit_reason)));
    }
    return 0;
}

static int parse_bools(struct dec *d, struct lk_decision *dc, const json_t *o, const char *key,
                       size_t count, const bool **ret)
{
    const json_t *arr = NULL;
    TRY(get_array(d, o, key, true, &arr));
    if (json_is_null(arr)) {
        *ret = NULL;
        return 0;
    }
    if (json_array_size(arr) != count) {
        return fail(d, "'%s' must hold one entry per tag of the hierarchy (%zu)", key, count);
    }
    bool *b = track(dc, count, sizeof(*b));
    if (!b) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *x = json_array_get(arr, i);
        if (!json_is_boolean(x)) {
            return fail(d, "'%s' must hold true or false", key);
        }
        b[i] = json_is_true(x);
    }
    *ret = b;
    return 0;
}

static int parse_peer(struct dec *d, struct lk_decision *dc, const json_t *o, size_t tag_count,
                      struct lk_ppeer *p)
{
    if (!json_is_object(o)) {
        return fail(d, "must be an object");
    }
    const json_t *arr = NULL;
    TRY(get_name(d, o, "name", false, &p->name));
    TRY(get_bool(d, o, "configured", &p->configured));
    TRY(get_bool(d, o, "alive", &p->alive));
    TRY(get_bool(d, o, "witness", &p->witness));
    TRY(get_bool(d, o, "synced", &p->synced));
    TRY(get_bool(d, o, "has_states", &p->has_states));
    TRY(get_bool(d, o, "has_alive_set", &p->has_alive_set));
    TRY(get_u64(d, o, "dead_since_ms", &p->dead_since_ms));
    /* Optional: decision logs written before the field existed leave it out (0: never). */
    if (json_object_get(o, "alive_since_ms")) {
        TRY(get_u64(d, o, "alive_since_ms", &p->alive_since_ms));
    }
    if (json_object_get(o, "unseen")) {
        TRY(get_bool(d, o, "unseen", &p->unseen));
    }
    if (json_object_get(o, "guarded")) {
        TRY(get_bool(d, o, "guarded", &p->guarded));
    }
    if (json_object_get(o, "held_when_lost")) {
        TRY(get_bool(d, o, "held_when_lost", &p->held_when_lost));
    }
    const char **alive = NULL;
    TRY(get_names(d, dc, o, "alive_set", &alive, &p->alive_count));
    p->alive_set = alive;
    TRY(get_u32(d, o, "priority", &p->priority));
    TRY(parse_bools(d, dc, o, "stop_failed", tag_count, &p->stop_failed));
    /* Since issue 13; older logs have neither. */
    if (json_object_get(o, "unable")) {
        TRY(get_bool(d, o, "unable", &p->unable));
    }
    if (json_object_get(o, "not_configured")) {
        TRY(get_bool(d, o, "not_configured", &p->not_configured));
    }
    TRY(get_array(d, o, "states", true, &arr));
    if (json_is_null(arr)) {
        return 0;
    }
    if (json_array_size(arr) != tag_count) {
        return fail(d, "'states' must hold one entry per tag of the hierarchy (%zu)", tag_count);
    }
    struct lk_ppeer_state *states = track(dc, tag_count, sizeof(*states));
    if (!states) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < tag_count; i++) {
        const json_t *s = json_array_get(arr, i);
        if (!json_is_object(s)) {
            return fail(d, "'states' must hold objects");
        }
        TRY(get_bool(d, s, "known", &states[i].known));
        TRY(get_bool(d, s, "in_service", &states[i].in_service));
        TRY(get_bool(d, s, "busy", &states[i].busy));
    }
    p->states = states;
    return 0;
}

static int parse_ptag(struct dec *d, const json_t *o, struct lk_ptag *t)
{
    if (!json_is_object(o)) {
        return fail(d, "must be an object");
    }
    int e = 0;
    TRY(get_name(d, o, "tag", false, &t->tag));
    TRY(get_bool(d, o, "exists", &t->exists));
    TRY(get_bool(d, o, "root", &t->root));
    TRY(get_bool(d, o, "clustered", &t->clustered));
    TRY(get_enum(d, o, "state", state_n, LK_STATE_COUNT, false, &e));
    t->state = (enum lk_state) e;
    TRY(get_bool(d, o, "busy", &t->busy));
    TRY(get_bool(d, o, "stop_failed", &t->stop_failed));
    if (json_object_get(o, "unable")) {
        TRY(get_bool(d, o, "unable", &t->unable));
    }
    if (json_object_get(o, "not_configured")) {
        TRY(get_bool(d, o, "not_configured", &t->not_configured));
    }
    TRY(get_enum(d, o, "pending", pending_n, LK_PENDING_COUNT, false, &e));
    t->pending = (enum lk_pending) e;
    TRY(get_str(d, o, "reason", true, LK_REASON_MAX - 1, &t->reason));
    return 0;
}

static int parse_placement(struct dec *d, struct lk_decision *dc, const json_t *v, const json_t *e)
{
    struct lk_placement_view *pv = &dc->pview;
    struct lk_phier *h = &pv->hier;
    const json_t *arr = NULL, *hier = NULL, *rec = NULL;
    int x = 0;
    char where[64];
    d->where = "view";
    TRY(get_name(d, v, "node", false, &pv->node));
    TRY(get_bool(d, v, "settled", &pv->settled));
    TRY(get_bool(d, v, "holding", &pv->holding));
    TRY(get_bool(d, v, "orphan_check", &pv->orphan_check));
    TRY(get_bool(d, v, "quorate", &pv->quorate));
    TRY(get_bool(d, v, "quorum_none", &pv->quorum_none));
    TRY(get_bool(d, v, "quorum_loss_osu", &pv->quorum_loss_osu));
    TRY(get_bool(d, v, "fence_script", &pv->fence_script));
    TRY(get_u32(d, v, "max_failovers", &pv->max_failovers));
    TRY(get_u32(d, v, "failover_window_s", &pv->failover_window_s));
    TRY(get_u64(d, v, "dead_ms", &pv->dead_ms));
    json_int_t now = 0;
    TRY(get_int_range(d, v, "now_ms", LLONG_MIN, LLONG_MAX, &now));
    pv->now_ms = now;
    TRY(get_u64(d, v, "mono_ms", &pv->mono_ms));
    TRY(get_u64(d, v, "started_ms", &pv->started_ms));

    /* The hierarchy first: the peers' per-tag arrays are sized by it. */
    TRY(get_object(d, v, "hier", &hier));
    d->where = "view.hier";
    TRY(get_array(d, hier, "tags", false, &arr));
    size_t n = json_array_size(arr);
    if (n == 0) {
        return fail(d, "'tags' must not be empty");
    }
    dc->ptags = calloc(n, sizeof(*dc->ptags));
    if (!dc->ptags) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(where, sizeof(where), "view.hier.tags[%zu]", i);
        d->where = where;
        TRY(parse_ptag(d, json_array_get(arr, i), &dc->ptags[i]));
    }
    h->tags = dc->ptags;
    h->count = n;
    d->where = "view.hier";
    TRY(get_u32(d, hier, "priority", &h->priority));
    TRY(get_bool(d, hier, "has_rec", &h->has_rec));
    TRY(get_object(d, hier, "rec", &rec));
    if (lk_owner_parse(rec, &h->rec) < 0) {
        return fail(d, "'rec' is not a valid ownership record");
    }
    TRY(get_bool(d, hier, "acted", &h->acted));
    TRY(get_u64(d, hier, "held_gen", &h->held_gen));
    TRY(get_bool(d, hier, "has_root", &h->has_root));
    TRY(get_enum(d, hier, "switchback", switchback_n, LK_SWITCHBACK_COUNT, false, &x));
    h->switchback = (enum lk_switchback) x;
    TRY(get_name(d, hier, "switch_tag", true, &h->switch_tag));
    TRY(get_name(d, hier, "switch_to", true, &h->switch_to));
    TRY(get_name(d, hier, "removing_tag", true, &h->removing_tag));

    d->where = "view";
    TRY(get_array(d, v, "peers", false, &arr));
    size_t np = json_array_size(arr);
    dc->peers = calloc(np ? np : 1, sizeof(*dc->peers));
    if (!dc->peers) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < np; i++) {
        snprintf(where, sizeof(where), "view.peers[%zu]", i);
        d->where = where;
        TRY(parse_peer(d, dc, json_array_get(arr, i), n, &dc->peers[i]));
    }
    pv->peers = dc->peers;
    pv->peer_count = np;
    d->where = "view";
    TRY(get_array(d, v, "fences", false, &arr));
    size_t nf = json_array_size(arr);
    dc->fences = calloc(nf ? nf : 1, sizeof(*dc->fences));
    if (!dc->fences) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < nf; i++) {
        snprintf(where, sizeof(where), "view.fences[%zu]", i);
        d->where = where;
        const json_t *f = json_array_get(arr, i);
        if (!json_is_object(f)) {
            return fail(d, "must be an object");
        }
        TRY(get_name(d, f, "node", false, &dc->fences[i].node));
        TRY(get_bool(d, f, "running", &dc->fences[i].running));
        TRY(get_bool(d, f, "ok", &dc->fences[i].ok));
        TRY(get_u64(d, f, "failed_at_ms", &dc->fences[i].failed_at_ms));
    }
    pv->fences = dc->fences;
    pv->fence_count = nf;

    struct lk_pevent *ev = &dc->pevent;
    d->where = "event";
    TRY(get_enum(d, e, "type", pevent_n, LK_PEV_COUNT, false, &x));
    ev->type = (enum lk_pevent_type) x;
    TRY(get_name(d, e, "tag", true, &ev->tag));
    TRY(get_name(d, e, "target", true, &ev->target));
    TRY(get_u32(d, e, "target_priority", &ev->target_priority));
    TRY(get_name(d, e, "from", true, &ev->from));
    TRY(get_bool(d, e, "whole", &ev->whole));
    TRY(get_bool(d, e, "running", &ev->running));
    return 0;
}

static int parse(struct dec *d, struct lk_decision *dc, const json_t *json)
{
    const json_t *v = NULL, *e = NULL, *acts = NULL;
    const char *engine = NULL;
    d->where = "decision";
    if (!json_is_object(json)) {
        return fail(d, "must be a JSON object");
    }
    TRY(get_str(d, json, "engine", false, 32, &engine));
    if (json_object_get(json, "name")) {
        TRY(get_str(d, json, "name", false, 200, &dc->name));
    }
    if (json_object_get(json, "why")) {
        TRY(get_str(d, json, "why", false, 2000, &dc->why));
    }
    TRY(get_object(d, json, "view", &v));
    TRY(get_object(d, json, "event", &e));
    TRY(get_array(d, json, "acts", false, &acts));
    size_t n = json_array_size(acts);
    dc->acts = track(dc, n, sizeof(*dc->acts));
    if (!dc->acts) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(acts, i);
        if (!json_is_string(a)) {
            return fail(d, "'acts' must hold strings");
        }
        dc->acts[i] = json_string_value(a);
    }
    dc->act_count = n;
    if (strcmp(engine, "resource") == 0) {
        dc->kind = LK_DECISION_RESOURCE;
        return parse_engine(d, dc, v, e);
    }
    if (strcmp(engine, "placement") == 0) {
        dc->kind = LK_DECISION_PLACEMENT;
        return parse_placement(d, dc, v, e);
    }
    return fail(d, "'engine' must be \"resource\" or \"placement\"");
}

void lk_decision_free(struct lk_decision *dc)
{
    if (!dc) {
        return;
    }
    for (size_t i = 0; i < dc->alloc_count; i++) {
        free(dc->allocs[i]);
    }
    free(dc->allocs);
    free(dc->res_store);
    free(dc->res_ptrs);
    free(dc->deps);
    free(dc->peers);
    free(dc->fences);
    free(dc->ptags);
    json_decref(dc->root);
    free(dc);
}

int lk_decision_parse(const json_t *json, struct lk_decision **ret_decision, char *err,
                      size_t err_size)
{
    struct lk_decision *dc = calloc(1, sizeof(*dc));
    if (!dc) {
        return -ENOMEM;
    }
    /* The strings of the decoded view point into the JSON: keep a copy of it. */
    dc->root = json_deep_copy(json);
    if (!dc->root) {
        free(dc);
        return -ENOMEM;
    }
    struct dec d = {.err = err, .err_size = err_size, .where = "decision"};
    int r = parse(&d, dc, dc->root);
    if (r < 0) {
        if (r == -ENOMEM && err_size) {
            snprintf(err, err_size, "out of memory");
        }
        lk_decision_free(dc);
        return r;
    }
    *ret_decision = dc;
    return 0;
}

int lk_decision_replay(const struct lk_decision *dc, char ***ret_acts, size_t *ret_count)
{
    LK_CLEANUP_PLAN struct lk_plan plan = {0};
    LK_CLEANUP_PPLAN struct lk_pplan pplan = {0};
    int r;
    size_t n;
    if (dc->kind == LK_DECISION_RESOURCE) {
        r = lk_engine_decide(&dc->view, &dc->event, &plan);
        n = plan.count;
    } else {
        r = lk_placement_decide(&dc->pview, &dc->pevent, &pplan);
        n = pplan.count;
    }
    if (r < 0) {
        return r;
    }
    char **acts = calloc(n ? n : 1, sizeof(*acts));
    if (!acts) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        acts[i] = malloc(ACT_LINE_MAX);
        if (!acts[i]) {
            for (size_t j = 0; j < i; j++) {
                free(acts[j]);
            }
            free(acts);
            return -ENOMEM;
        }
        if (dc->kind == LK_DECISION_RESOURCE) {
            lk_act_format(&plan.acts[i], acts[i], ACT_LINE_MAX);
        } else {
            lk_pact_format(&pplan.acts[i], acts[i], ACT_LINE_MAX);
        }
    }
    *ret_acts = acts;
    *ret_count = n;
    return 0;
}
