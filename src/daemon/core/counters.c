/* The node's counters for /metrics (counters.h): totals since lkd started, kept per
 * resource in a chained hash table by tag (an entry made at a resource's first run or
 * recovery, dropped when its definition is deleted) and per node in plain arrays.
 *
 * Events enter from the bus only: "event" (events by severity; 1502/1503 local
 * recoveries, 1620/1621 failovers, 1625 switchovers, told apart by their numbers and
 * the cause placement wrote into them), "ran" (a check's or an action's run ended),
 * "defined" (a definition changed). lk_counters_write turns them into exposition text
 * for the api's metrics handler.
 *
 * It must never log, publish, change a state or block: a counter that cannot get its
 * entry (out of memory) is simply not counted. */
#include "counters.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "result.h"

#define TABLE_SIZE 4096 /* a power of two; chains stay short up to a few thousand tags */

enum kind {
    KIND_QUICK,
    KIND_DEEP,
    KINDS,
};
static const char *const kind_names[KINDS] = {"quickchk", "deepchk"};

enum act {
    ACT_RESTORE,
    ACT_REMOVE,
    ACT_RECOVER,
    ACTS,
};
static const char *const act_names[ACTS] = {"restore", "remove", "recover"};

enum recovery {
    RECOVERY_SUCCESS,
    RECOVERY_FAILURE,
    RECOVERIES,
};
static const char *const recovery_names[RECOVERIES] = {"success", "failure"};

enum reason {
    REASON_NODE_DEAD,
    REASON_RESOURCE_FAILED,
    REASON_OTHER,
    REASONS,
};
static const char *const reason_names[REASONS] = {"node_dead", "resource_failed", "other"};

/* Checks take milliseconds to their timeout (30 s by default); actions up to minutes. Few
 * buckets: with thousands of resources each one is thousands of lines a scrape. */
static const double check_bounds[] = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30};
static const double act_bounds[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300};
#define CHECK_BUCKETS (sizeof(check_bounds) / sizeof(check_bounds[0]))
#define ACT_BUCKETS   (sizeof(act_bounds) / sizeof(act_bounds[0]))
#define MAX_BUCKETS   CHECK_BUCKETS
_Static_assert(ACT_BUCKETS <= MAX_BUCKETS, "a histogram's buckets fit struct hist");

struct hist {
    uint64_t counts[MAX_BUCKETS + 1]; /* per bucket, the last one above every bound */
    uint64_t count;
    double sum;
};

struct entry {
    struct entry *next;
    char tag[LK_TAG_MAX + 1];
    uint64_t runs[KINDS], failures[KINDS], timeouts[KINDS];
    struct hist check[KINDS];
    struct hist act[ACTS];
    uint64_t recoveries[RECOVERIES];
};

struct lk_counters {
    const struct lk_node *node;
    struct entry *table[TABLE_SIZE];
    size_t entries;
    int64_t start_ms;
    int64_t defined_ms; /* the last definition change heard, else start_ms */
    uint64_t events[LK_SEV_COUNT];
    uint64_t failovers[REASONS];
    uint64_t switchovers;
    /* The same durations for the whole node, written instead of the resources' when the
     * node has more than LK_COUNTERS_TAGGED_HIST_MAX resources. */
    struct hist check[KINDS];
    struct hist act[ACTS];
};

static size_t hash(const char *tag)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *) tag; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h & (TABLE_SIZE - 1);
}

static struct entry *find(const struct lk_counters *c, const char *tag)
{
    for (struct entry *e = c->table[hash(tag)]; e; e = e->next) {
        if (strcmp(e->tag, tag) == 0) {
            return e;
        }
    }
    return NULL;
}

/* tag's entry, made when missing; NULL for no tag, a tag too long or no memory. */
static struct entry *get(struct lk_counters *c, const char *tag)
{
    if (!tag || !tag[0] || strlen(tag) > LK_TAG_MAX) {
        return NULL;
    }
    struct entry *e = find(c, tag);
    if (e) {
        return e;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    memcpy(e->tag, tag, strlen(tag) + 1);
    size_t h = hash(tag);
    e->next = c->table[h];
    c->table[h] = e;
    c->entries++;
    return e;
}

struct lk_counters *lk_counters_new(const struct lk_node *node)
{
    struct lk_counters *c = calloc(1, sizeof(*c));
    if (c) {
        c->node = node;
        c->start_ms = c->defined_ms = lk_now_ms();
    }
    return c;
}

struct lk_counters *lk_counters_free(struct lk_counters *c)
{
    for (size_t i = 0; c && i < TABLE_SIZE; i++) {
        while (c->table[i]) {
            struct entry *e = c->table[i];
            c->table[i] = e->next;
            free(e);
        }
    }
    free(c);
    return NULL;
}

int64_t lk_counters_start_ms(const struct lk_counters *c)
{
    return c ? c->start_ms : 0;
}

static void observe(struct hist *h, const double *bounds, size_t bucket_count, double value)
{
    size_t i = 0;
    while (i < bucket_count && value > bounds[i]) {
        i++;
    }
    h->counts[i]++;
    h->count++;
    h->sum += value;
}

/* The index of name in names, or count. */
static size_t index_of(const char *const *names, size_t count, const char *name)
{
    size_t i = 0;
    while (i < count && (!name || strcmp(names[i], name) != 0)) {
        i++;
    }
    return i;
}

void lk_counters_on_ran(void *userdata, const struct lk_bus_run *run)
{
    struct lk_counters *c = userdata;
    size_t kind = index_of(kind_names, KINDS, run->action);
    size_t act = index_of(act_names, ACTS, run->action);
    /* The executor's quickchk and deepchk are start-up probes: "does it run?", where a
     * failure is an answer, not a failed check. They are not counted. */
    if (run->check ? kind == KINDS : act == ACTS) {
        return;
    }
    struct entry *e = get(c, run->tag);
    if (!e) {
        return;
    }
    double seconds = (double) run->result->duration_usec / 1e6;
    if (run->check) {
        e->runs[kind]++;
        /* A pending verdict (issue 13: systemd reloading) is neither; not a failure. */
        e->failures[kind] +=
                !lk_result_ok(run->result) && lk_result_verdict(run->result) != LK_VERDICT_PENDING;
        e->timeouts[kind] += run->result->outcome == LK_OUTCOME_TIMEOUT;
        observe(&e->check[kind], check_bounds, CHECK_BUCKETS, seconds);
        observe(&c->check[kind], check_bounds, CHECK_BUCKETS, seconds);
    } else {
        observe(&e->act[act], act_bounds, ACT_BUCKETS, seconds);
        observe(&c->act[act], act_bounds, ACT_BUCKETS, seconds);
    }
}

/* Why placement moved a hierarchy, from its 1620 or 1621 event's text (placement.c
 * writes the cause after the nodes: "X failed on N: ..." when a resource failed, "node N
 * is dead" when its owner died). REASONS when it was no failover: an orphan taken over
 * after lkstop, a failed switchover handed back. */
static enum reason failover_reason(const struct lk_event_record *e)
{
    if (e->number == LK_MSG_TAKEOVER && strstr(e->message, "orphaned")) {
        return REASONS;
    }
    if (strstr(e->message, "(not a failover)")) {
        return REASONS;
    }
    /* A failed resource's cause comes first in the text; a tag or a node name holds no
     * space, so neither can spell these. */
    if (strstr(e->message, " failed on ")) {
        return REASON_RESOURCE_FAILED;
    }
    if (strstr(e->message, " is dead")) {
        return REASON_NODE_DEAD;
    }
    return REASON_OTHER;
}

void lk_counters_on_event(void *userdata, const struct lk_event_record *e)
{
    struct lk_counters *c = userdata;
    if ((unsigned) e->severity < LK_SEV_COUNT) {
        c->events[e->severity]++;
    }
    /* Only this node's own events: a script's lk_err message may reuse any number. */
    if (strcmp(e->process, "lkd") != 0) {
        return;
    }
    switch (e->number) {
    case LK_MSG_RECOVERED:
    case LK_MSG_RECOVER_FAILED: {
        struct entry *en = get(c, e->tag);
        if (en) {
            en->recoveries[e->number == LK_MSG_RECOVERED ? RECOVERY_SUCCESS : RECOVERY_FAILURE]++;
        }
        break;
    }
    case LK_MSG_FAILOVER:
    case LK_MSG_TAKEOVER: {
        enum reason r = failover_reason(e);
        if (r < REASONS) {
            c->failovers[r]++;
        }
        break;
    }
    case LK_MSG_SWITCHOVER:
        c->switchovers++;
        break;
    default:
        break;
    }
}

void lk_counters_on_defined(void *userdata, const char *tag)
{
    struct lk_counters *c = userdata;
    c->defined_ms = lk_now_ms();
    /* A deleted resource's counters go (one tag, or a sweep when many changed). */
    if (tag) {
        struct entry **p = &c->table[hash(tag)];
        while (*p && strcmp((*p)->tag, tag) != 0) {
            p = &(*p)->next;
        }
        if (*p && !lk_node_find(c->node, tag)) {
            struct entry *gone = *p;
            *p = gone->next;
            free(gone);
            c->entries--;
        }
        return;
    }
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        struct entry **p = &c->table[i];
        while (*p) {
            if (!lk_node_find(c->node, (*p)->tag)) {
                struct entry *gone = *p;
                *p = gone->next;
                free(gone);
                c->entries--;
            } else {
                p = &(*p)->next;
            }
        }
    }
}

/* ---------------------------------------------------------------- writing */

typedef void (*write_entry_fn)(const struct entry *e, struct lk_metrics *m);

/* Calls fn for the entry of each resource of the view that has one, in the view's order. */
static void each_entry(const struct lk_counters *c, struct lk_metrics *m, write_entry_fn fn)
{
    for (size_t i = 0; c && i < c->node->count && c->entries > 0; i++) {
        const struct entry *e = find(c, c->node->resources[i]->tag);
        if (e) {
            fn(e, m);
        }
    }
}

static void write_runs(const struct entry *e, struct lk_metrics *m)
{
    for (size_t k = 0; k < KINDS; k++) {
        if (e->runs[k]) {
            const char *const l[] = {"tag", e->tag, "kind", kind_names[k]};
            (void) lk_metrics_sample(m, l, 2, (double) e->runs[k]);
        }
    }
}

static void write_failures(const struct entry *e, struct lk_metrics *m)
{
    for (size_t k = 0; k < KINDS; k++) {
        if (e->runs[k]) {
            const char *const l[] = {"tag", e->tag, "kind", kind_names[k]};
            (void) lk_metrics_sample(m, l, 2, (double) e->failures[k]);
        }
    }
}

static void write_timeouts(const struct entry *e, struct lk_metrics *m)
{
    for (size_t k = 0; k < KINDS; k++) {
        if (e->runs[k]) {
            const char *const l[] = {"tag", e->tag, "kind", kind_names[k]};
            (void) lk_metrics_sample(m, l, 2, (double) e->timeouts[k]);
        }
    }
}

static void write_check_hist(const struct entry *e, struct lk_metrics *m)
{
    for (size_t k = 0; k < KINDS; k++) {
        if (e->check[k].count) {
            const char *const l[] = {"tag", e->tag, "kind", kind_names[k]};
            struct lk_histogram h = {.bounds = check_bounds,
                                     .bucket_count = CHECK_BUCKETS,
                                     .counts = e->check[k].counts,
                                     .count = e->check[k].count,
                                     .sum = e->check[k].sum};
            (void) lk_metrics_histogram(m, l, 2, &h);
        }
    }
}

static void write_recoveries(const struct entry *e, struct lk_metrics *m)
{
    if (e->recoveries[RECOVERY_SUCCESS] + e->recoveries[RECOVERY_FAILURE] == 0) {
        return;
    }
    for (size_t r = 0; r < RECOVERIES; r++) {
        const char *const l[] = {"tag", e->tag, "result", recovery_names[r]};
        (void) lk_metrics_sample(m, l, 2, (double) e->recoveries[r]);
    }
}

static void write_act_hist(const struct entry *e, struct lk_metrics *m)
{
    for (size_t a = 0; a < ACTS; a++) {
        if (e->act[a].count) {
            const char *const l[] = {"tag", e->tag, "action", act_names[a]};
            struct lk_histogram h = {.bounds = act_bounds,
                                     .bucket_count = ACT_BUCKETS,
                                     .counts = e->act[a].counts,
                                     .count = e->act[a].count,
                                     .sum = e->act[a].sum};
            (void) lk_metrics_histogram(m, l, 2, &h);
        }
    }
}

/* The node's histograms, one per name that has observations, labelled key=names[i]. */
static void write_node_hist(const struct hist *h, size_t count, const char *key,
                            const char *const *names, const double *bounds, size_t bucket_count,
                            struct lk_metrics *m)
{
    for (size_t i = 0; i < count; i++) {
        if (h[i].count) {
            const char *const l[] = {key, names[i]};
            struct lk_histogram out = {.bounds = bounds,
                                       .bucket_count = bucket_count,
                                       .counts = h[i].counts,
                                       .count = h[i].count,
                                       .sum = h[i].sum};
            (void) lk_metrics_histogram(m, l, 1, &out);
        }
    }
}

int lk_counters_write(const struct lk_counters *c, struct lk_metrics *m)
{
    (void) lk_metrics_family(m, "openkeeper_check_runs_total", LK_METRIC_COUNTER,
                             "Scheduled check runs (quickchk, deepchk) of a resource on this "
                             "node since lkd started; a series appears at its first run.");
    each_entry(c, m, write_runs);
    (void) lk_metrics_family(m, "openkeeper_check_failures_total", LK_METRIC_COUNTER,
                             "Check runs that did not succeed (timeouts included) since lkd "
                             "started.");
    each_entry(c, m, write_failures);
    (void) lk_metrics_family(m, "openkeeper_check_timeouts_total", LK_METRIC_COUNTER,
                             "Check runs killed at their timeout since lkd started.");
    each_entry(c, m, write_timeouts);
    (void) lk_metrics_family(m, "openkeeper_check_duration_seconds", LK_METRIC_HISTOGRAM,
                             "How long the check runs took, since lkd started (per node, "
                             "without tag, on a node of more than 1000 resources).");
    bool tagged = !c || c->node->count <= LK_COUNTERS_TAGGED_HIST_MAX;
    if (tagged) {
        each_entry(c, m, write_check_hist);
    } else {
        write_node_hist(c->check, KINDS, "kind", kind_names, check_bounds, CHECK_BUCKETS, m);
    }
    (void) lk_metrics_family(m, "openkeeper_local_recoveries_total", LK_METRIC_COUNTER,
                             "Local recoveries (the recover script after a failed check) by "
                             "result since lkd started.");
    each_entry(c, m, write_recoveries);
    (void) lk_metrics_family(m, "openkeeper_action_duration_seconds", LK_METRIC_HISTOGRAM,
                             "How long the restore, remove and recover runs took, since lkd "
                             "started (per node, without tag, on a node of more than 1000 "
                             "resources).");
    if (tagged) {
        each_entry(c, m, write_act_hist);
    } else {
        write_node_hist(c->act, ACTS, "action", act_names, act_bounds, ACT_BUCKETS, m);
    }
    (void) lk_metrics_family(m, "openkeeper_failovers_total", LK_METRIC_COUNTER,
                             "Failovers this node decided since lkd started, by reason: "
                             "node_dead (it took over from a dead owner), resource_failed (a "
                             "resource failed here and its hierarchy moved), other.");
    for (size_t r = 0; r < REASONS; r++) {
        const char *const l[] = {"reason", reason_names[r]};
        (void) lk_metrics_sample(m, l, 1, c ? (double) c->failovers[r] : 0);
    }
    (void) lk_metrics_family(m, "openkeeper_switchovers_total", LK_METRIC_COUNTER,
                             "Switchovers started from this node since lkd started.");
    (void) lk_metrics_sample(m, NULL, 0, c ? (double) c->switchovers : 0);
    (void) lk_metrics_family(m, "openkeeper_events_total", LK_METRIC_COUNTER,
                             "Events this node logged since lkd started, by severity.");
    static const char *const severity_names[LK_SEV_COUNT] = {"info", "warning", "error"};
    for (int s = 0; s < LK_SEV_COUNT; s++) {
        const char *const l[] = {"severity", severity_names[s]};
        (void) lk_metrics_sample(m, l, 1, c ? (double) c->events[s] : 0);
    }
    (void) lk_metrics_family(m, "openkeeper_last_config_change_timestamp_seconds", LK_METRIC_GAUGE,
                             "When a resource definition or the cluster settings last changed "
                             "on this node (here or from a peer), in seconds since the epoch; "
                             "lkd's start time when nothing changed since.");
    (void) lk_metrics_sample(m, NULL, 0, c ? (double) c->defined_ms / 1000.0 : 0);
    return m->err;
}
