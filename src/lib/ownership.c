/* Ownership records and placement (see ownership.h). Every field of a received record is
 * checked before it can replace the local one: a record is what decides where an
 * application runs. */
#include "ownership.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_bool(bool a, bool b)
{
    return (int) a - (int) b;
}

/* Two records equal in generation, sequence and owner but not in content (two nodes
 * wrote the same step): a total order on the content, so every node keeps the same one.
 * The more careful record wins: out of service over in service (an operator's remove is
 * not undone), applications kept running, the owner's lkstop, more nodes where a remove
 * failed (a copy that may still run is not forgotten), then more nodes tried and
 * more failovers counted (a budget is never larger than one side saw); last the rest. */
static int cmp_content(const struct lk_owner_rec *a, const struct lk_owner_rec *b)
{
    int c = cmp_bool(!a->active, !b->active);
    c = c ? c : cmp_bool(a->kept, b->kept);
    c = c ? c : cmp_bool(a->left, b->left);
    c = c ? c : cmp_u64(a->stop_failed_count, b->stop_failed_count);
    c = c ? c : cmp_u64(a->tried_count, b->tried_count);
    c = c ? c : cmp_u64(a->failover_count, b->failover_count);
    c = c ? c : cmp_bool(a->failed_over, b->failed_over);
    c = c ? c : cmp_bool(a->planned, b->planned);
    for (size_t i = 0; !c && i < a->tried_count; i++) {
        c = strcmp(a->tried[i], b->tried[i]);
    }
    for (size_t i = 0; !c && i < a->failover_count; i++) {
        c = a->failovers_ms[i] < b->failovers_ms[i] ? -1 : a->failovers_ms[i] > b->failovers_ms[i];
    }
    for (size_t i = 0; !c && i < a->stop_failed_count; i++) {
        c = strcmp(a->stop_failed[i], b->stop_failed[i]);
    }
    c = c ? c : strcmp(a->reason, b->reason);
    return c < 0 ? -1 : c > 0;
}

int lk_owner_cmp(const struct lk_owner_rec *a, uint32_t a_prio, const struct lk_owner_rec *b,
                 uint32_t b_prio)
{
    int c = cmp_u64(a->gen, b->gen);
    if (c == 0) {
        c = cmp_u64(a->seq, b->seq);
    }
    if (c != 0) {
        return c;
    }
    if (strcmp(a->owner, b->owner) == 0) {
        return cmp_content(a, b);
    }
    /* A better (smaller, known) priority orders after, so it wins. */
    uint64_t pa = a_prio ? a_prio : UINT32_MAX + 1ULL;
    uint64_t pb = b_prio ? b_prio : UINT32_MAX + 1ULL;
    if (pa != pb) {
        return pa < pb ? 1 : -1;
    }
    /* The smaller name wins. */
    return strcmp(a->owner, b->owner) < 0 ? 1 : -1;
}

json_t *lk_owner_json(const struct lk_owner_rec *rec)
{
    json_t *tried = json_array();
    json_t *failovers = json_array();
    for (size_t i = 0; tried && i < rec->tried_count; i++) {
        json_array_append_new(tried, json_string(rec->tried[i]));
    }
    for (size_t i = 0; failovers && i < rec->failover_count; i++) {
        json_array_append_new(failovers, json_integer(rec->failovers_ms[i]));
    }
    json_t *json = json_pack("{s:I,s:I,s:s,s:b,s:b,s:b,s:b,s:o*,s:o*,s:s}", "g",
                             (json_int_t) rec->gen, "s", (json_int_t) rec->seq, "o", rec->owner,
                             "a", rec->active, "l", rec->left, "k", rec->kept, "x",
                             rec->failed_over, "t", tried, "f", failovers, "r", rec->reason);
    if (json && rec->planned && json_object_set_new(json, "p", json_true()) < 0) {
        json_decref(json);
        return NULL;
    }
    json_t *sf = json && rec->stop_failed_count ? json_array() : NULL;
    for (size_t i = 0; sf && i < rec->stop_failed_count; i++) {
        json_array_append_new(sf, json_string(rec->stop_failed[i]));
    }
    if (json && rec->stop_failed_count && (!sf || json_object_set_new(json, "sf", sf) < 0)) {
        json_decref(json);
        return NULL;
    }
    return json;
}

static bool valid_node(const char *name, bool empty_ok)
{
    char err[128];
    if (!name[0]) {
        return empty_ok;
    }
    return lk_validate_tag(name, "node name", err, sizeof(err)) == 0;
}

int lk_owner_parse(const json_t *json, struct lk_owner_rec *ret_rec)
{
    struct lk_owner_rec rec = {0};
    json_int_t gen = 0, seq = 0;
    const char *owner = NULL, *reason = NULL;
    int active = 0, left = 0, kept = 0, failed_over = 0;
    json_t *tried = NULL, *failovers = NULL;
    json_t *planned = json_object_get(json, "p");
    json_t *sf = json_object_get(json, "sf"); /* absent (older records): none */
    if ((planned && !json_is_boolean(planned)) ||
        (sf && (!json_is_array(sf) || json_array_size(sf) > LK_TRIED_MAX))) {
        return -EINVAL;
    }
    if (!json_is_object(json) || json_object_size(json) != 10u + !!planned + !!sf ||
        json_unpack((json_t *) (uintptr_t) json, "{s:I,s:I,s:s,s:b,s:b,s:b,s:b,s:o,s:o,s:s}", "g",
                    &gen, "s", &seq, "o", &owner, "a", &active, "l", &left, "k", &kept, "x",
                    &failed_over, "t", &tried, "f", &failovers, "r", &reason) != 0) {
        return -EINVAL;
    }
    if (gen < 0 || seq < 0 || (uint64_t) gen > LK_GENERATION_MAX ||
        (uint64_t) seq > LK_GENERATION_MAX || !valid_node(owner, true) || !json_is_array(tried) ||
        json_array_size(tried) > LK_TRIED_MAX || !json_is_array(failovers) ||
        json_array_size(failovers) > LK_FAILOVERS_KEPT || strlen(reason) >= sizeof(rec.reason)) {
        return -EINVAL;
    }
    rec.gen = (uint64_t) gen;
    rec.seq = (uint64_t) seq;
    snprintf(rec.owner, sizeof(rec.owner), "%s", owner);
    rec.active = active;
    rec.left = left;
    rec.kept = kept;
    rec.failed_over = failed_over;
    rec.planned = json_is_true(planned);
    snprintf(rec.reason, sizeof(rec.reason), "%s", reason);
    size_t i;
    json_t *v;
    json_array_foreach(tried, i, v)
    {
        if (!json_is_string(v) || !valid_node(json_string_value(v), false)) {
            return -EINVAL;
        }
        snprintf(rec.tried[rec.tried_count++], sizeof(rec.tried[0]), "%s", json_string_value(v));
    }
    json_array_foreach(failovers, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (i > 0 && json_integer_value(v) < rec.failovers_ms[i - 1])) {
            return -EINVAL;
        }
        rec.failovers_ms[rec.failover_count++] = json_integer_value(v);
    }
    json_array_foreach(sf, i, v)
    {
        if (!json_is_string(v) || !valid_node(json_string_value(v), false)) {
            return -EINVAL;
        }
        (void) lk_owner_set_stop_failed(&rec, json_string_value(v), true);
    }
    *ret_rec = rec;
    return 0;
}

bool lk_owner_tried(const struct lk_owner_rec *rec, const char *node)
{
    for (size_t i = 0; rec && i < rec->tried_count; i++) {
        if (strcmp(rec->tried[i], node) == 0) {
            return true;
        }
    }
    return false;
}

bool lk_owner_stop_failed(const struct lk_owner_rec *rec, const char *node)
{
    for (size_t i = 0; rec && i < rec->stop_failed_count; i++) {
        if (strcmp(rec->stop_failed[i], node) == 0) {
            return true;
        }
    }
    return false;
}

bool lk_owner_set_stop_failed(struct lk_owner_rec *rec, const char *node, bool on)
{
    size_t i = 0;
    while (i < rec->stop_failed_count && strcmp(rec->stop_failed[i], node) < 0) {
        i++;
    }
    bool there = i < rec->stop_failed_count && strcmp(rec->stop_failed[i], node) == 0;
    if (on == there || (on && rec->stop_failed_count == LK_TRIED_MAX)) {
        return false;
    }
    size_t tail = rec->stop_failed_count - i - (there ? 1 : 0);
    if (on) {
        memmove(rec->stop_failed[i + 1], rec->stop_failed[i], tail * sizeof(rec->stop_failed[0]));
        snprintf(rec->stop_failed[i], sizeof(rec->stop_failed[0]), "%s", node);
        rec->stop_failed_count++;
    } else {
        memmove(rec->stop_failed[i], rec->stop_failed[i + 1], tail * sizeof(rec->stop_failed[0]));
        rec->stop_failed_count--;
    }
    return true;
}

void lk_owner_carry_stop_failed(struct lk_owner_rec *next, const struct lk_owner_rec *prev)
{
    for (size_t i = 0; next->gen > prev->gen && i < prev->stop_failed_count; i++) {
        (void) lk_owner_set_stop_failed(next, prev->stop_failed[i], true);
    }
}

void lk_owner_add_tried(struct lk_owner_rec *rec, const char *node)
{
    if (lk_owner_tried(rec, node) || rec->tried_count == LK_TRIED_MAX) {
        return;
    }
    snprintf(rec->tried[rec->tried_count++], sizeof(rec->tried[0]), "%s", node);
}

void lk_owner_note_failover(struct lk_owner_rec *rec, int64_t now_ms)
{
    if (rec->failover_count == LK_FAILOVERS_KEPT) {
        memmove(rec->failovers_ms, rec->failovers_ms + 1,
                (LK_FAILOVERS_KEPT - 1) * sizeof(rec->failovers_ms[0]));
        rec->failover_count--;
    }
    rec->failovers_ms[rec->failover_count++] = now_ms;
}

size_t lk_owner_failovers_within(const struct lk_owner_rec *rec, int64_t now_ms, uint64_t window_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < rec->failover_count; i++) {
        n += rec->failovers_ms[i] <= now_ms &&
             (uint64_t) (now_ms - rec->failovers_ms[i]) < window_ms;
    }
    return n;
}

uint32_t lk_owner_max_failovers(uint32_t configured, size_t nodes)
{
    if (configured) {
        return configured;
    }
    return nodes > 1 ? (uint32_t) (nodes - 1 < UINT32_MAX ? nodes - 1 : UINT32_MAX) : 1;
}

bool lk_owner_budget_reset(struct lk_owner_rec *rec)
{
    bool changed = rec->failover_count > 0 || rec->tried_count > 0;
    rec->failover_count = 0;
    rec->tried_count = 0;
    return changed;
}

bool lk_owner_episode_over(struct lk_owner_rec *rec)
{
    bool changed = rec->tried_count > 0 || rec->planned;
    rec->tried_count = 0;
    rec->planned = false;
    return changed;
}

char *lk_owner_window_text(uint32_t window_s, char *buf, size_t size)
{
    if (window_s >= 3600 && window_s % 3600 == 0) {
        snprintf(buf, size, "%u h", window_s / 3600);
    } else if (window_s >= 60 && window_s % 60 == 0) {
        snprintf(buf, size, "%u min", window_s / 60);
    } else {
        snprintf(buf, size, "%u s", window_s);
    }
    return buf;
}

char *lk_owner_budget_text(const struct lk_owner_rec *rec, uint32_t max_failovers,
                           uint32_t window_s, int64_t now_ms, char *buf, size_t size)
{
    char window[32];
    size_t used = rec ? lk_owner_failovers_within(rec, now_ms, (uint64_t) window_s * 1000) : 0;
    snprintf(buf, size, "%zu of %u failovers used in the last %s%s", used, max_failovers,
             lk_owner_window_text(window_s, window, sizeof(window)),
             used >= max_failovers ? ": the next failure leaves it out of service" : "");
    return buf;
}

const char *lk_placement_best(const struct lk_candidate *candidates, size_t count,
                              const struct lk_owner_rec *rec, const char *exclude)
{
    const struct lk_candidate *best = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct lk_candidate *c = &candidates[i];
        if (!c->alive || c->priority == 0 || lk_owner_tried(rec, c->name) ||
            (exclude && strcmp(exclude, c->name) == 0)) {
            continue;
        }
        if (!best || c->priority < best->priority ||
            (c->priority == best->priority && strcmp(c->name, best->name) < 0)) {
            best = c;
        }
    }
    return best ? best->name : NULL;
}
