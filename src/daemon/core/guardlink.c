/* lkd's link to its guard (issue 10): the liveness page's feed, the guard's plan (which
 * cgroups to kill, whom to tell) kept up to date, and the exit at once when the guard says
 * it has fenced this node.
 *
 * The feed: from the comm paths' pulse thread (cluster/pulse.h, lk_guardlink_feed), while
 * the main loop makes progress within the stall limit, so that the guard and the peers see
 * the same "alive"; from this file's timer only while no thread has fed for two periods
 * (before the comm paths start, after they stop, a witness).
 *
 * Events that enter: the timer (every LK_GUARD_FEED_MS, at most every dead time / 8),
 * which also rebuilds the plan when the bus said something it is made of changed (states,
 * definitions, records, peers) and every 5 s anyway (written only when it changed);
 * status
 * requests; lkd's stop. The plan lists the hierarchies that have a live backup node (the
 * engine's has_backup fact): the guard kills those, and leaves a hierarchy with nowhere else
 * to go running, as lkstop -f does.
 *
 * Owns the feed (io/guardfeed.h). Never starts, signals or waits for the guard; never
 * decides where anything runs. */
#include "guardlink.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bisect.h"
#include "cgroup.h"
#include "config.h"
#include "eventlog.h"
#include "guardfeed.h"
#include "log.h"

#define PLAN_EVERY_MS 5000 /* besides every change the bus reports */

struct lk_guardlink {
    struct lk_node *node;
    struct lk_guardfeed *feed;
    uv_timer_t timer;
    uint64_t plan_at_ms; /* uv_now of the last plan built */
    bool plan_dirty;     /* states, definitions, records or peers changed since */
    bool guarding;       /* the guard watches, and containment lets it kill something */
    uint64_t every_ms;   /* the timer's period */
    /* The pulse thread's feed: feed_lock keeps lk_guardlink_stop from unmapping the page
     * under it; thread_fed_ns says when it last fed (0 = never). */
    pthread_mutex_t feed_lock;
    _Atomic uint64_t thread_fed_ns;
};

static uint64_t dead_ms(const struct lk_node *node)
{
    return lk_cluster_settings_dead_ms(&node->config.cluster);
}

/* The index of tag in node->resources (sorted by tag), or SIZE_MAX. */
static size_t index_of(const struct lk_node *node, const char *tag)
{
    bool found = false;
    size_t i = lk_bisect_tag((const void *const *) node->resources, node->count,
                             offsetof(struct lk_resource, tag), tag, &found);
    return found ? i : SIZE_MAX;
}

static size_t find_root(size_t *up, size_t i)
{
    while (up[i] != i) {
        up[i] = up[up[i]];
        i = up[i];
    }
    return i;
}

/* The hierarchies with a live backup node and the cgroups of their resources. */
static int fill_fence(const struct lk_node *node, struct lk_guard_plan *plan)
{
    size_t n = node->count;
    if (!node->cgroups || n == 0) {
        return 0;
    }
    size_t *up = calloc(n, sizeof(*up));
    size_t *slot = calloc(n, sizeof(*slot));
    plan->fence = calloc(n, sizeof(*plan->fence));
    if (!up || !slot || !plan->fence) {
        free(up);
        free(slot);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        up[i] = i;
        slot[i] = SIZE_MAX;
    }
    for (size_t d = 0; d < node->dep_count; d++) {
        size_t a = index_of(node, node->deps[d].parent), b = index_of(node, node->deps[d].child);
        if (a != SIZE_MAX && b != SIZE_MAX) {
            up[find_root(up, a)] = find_root(up, b);
        }
    }
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct lk_resource *res = node->resources[i];
        size_t root = find_root(up, i);
        if (slot[root] == SIZE_MAX) {
            /* Named by its first tag (resources are sorted): a member tag, which is all the
             * peers need to know which of their hierarchies it is. */
            bool backup =
                    node->facts.has_backup && node->facts.has_backup(node->facts.ctx, res->tag);
            if (!backup) {
                slot[root] = SIZE_MAX - 1;
                continue;
            }
            slot[root] = plan->fence_count++;
            struct lk_guard_hier *h = &plan->fence[slot[root]];
            snprintf(h->name, sizeof(h->name), "%s", res->tag);
            h->cgroups = calloc(LK_GUARD_CGROUPS_MAX, sizeof(*h->cgroups));
            if (!h->cgroups) {
                r = -ENOMEM;
                break;
            }
        }
        if (slot[root] == SIZE_MAX - 1) {
            continue;
        }
        struct lk_guard_hier *h = &plan->fence[slot[root]];
        if (h->cgroup_count < LK_GUARD_CGROUPS_MAX) {
            char path[LK_PATH_MAX];
            lk_cgroups_path(node->cgroups, res->tag, path, sizeof(path));
            h->cgroups[h->cgroup_count] = strdup(path);
            r = h->cgroups[h->cgroup_count] ? 0 : -ENOMEM;
            h->cgroup_count += r == 0;
        }
    }
    free(up);
    free(slot);
    return r;
}

static int build_plan(const struct lk_node *node, struct lk_guard_plan *plan)
{
    const struct lk_config *config = &node->config;
    memset(plan, 0, sizeof(*plan));
    snprintf(plan->node, sizeof(plan->node), "%s", node->name);
    plan->incarnation = node->incarnation;
    plan->dead_ms = dead_ms(node);
    snprintf(plan->authkey, sizeof(plan->authkey), "%s/%s", node->root, LK_AUTHKEY_NAME);
    /* A key rotation replaces the file (a rename: a new inode): the plan changes, and the
     * guard reads the key again. */
    struct stat st;
    if (stat(plan->authkey, &st) == 0) {
        snprintf(plan->authkey_stamp, sizeof(plan->authkey_stamp), "%llu:%lld%09ld",
                 (unsigned long long) st.st_ino, (long long) st.st_mtim.tv_sec,
                 (long) st.st_mtim.tv_nsec);
    }
    if (config->watchdog) {
        snprintf(plan->watchdog, sizeof(plan->watchdog), "%s",
                 config->watchdog_device[0] ? config->watchdog_device : "/dev/watchdog");
        /* The kernel resets the node when the guard has not written for this long: longer
         * than a dead time, so the guard's own fencing comes first. */
        uint64_t s = (2 * plan->dead_ms + 999) / 1000;
        plan->watchdog_timeout_s = (uint32_t) (s < 5 ? 5 : s);
    }
    size_t peers =
            config->peer_count < LK_GUARD_PEERS_MAX ? config->peer_count : LK_GUARD_PEERS_MAX;
    plan->peers = calloc(peers ? peers : 1, sizeof(*plan->peers));
    if (!plan->peers) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < peers; i++) {
        struct lk_guard_peer *p = &plan->peers[plan->peer_count++];
        snprintf(p->name, sizeof(p->name), "%s", config->peers[i].name);
        for (size_t k = 0; k < config->peers[i].path_count && k < LK_GUARD_ADDRS_MAX; k++) {
            snprintf(p->addresses[p->address_count++], sizeof(p->addresses[0]), "%s",
                     config->peers[i].paths[k]);
        }
    }
    return fill_fence(node, plan);
}

static void update_plan(struct lk_guardlink *g)
{
    struct lk_guard_plan plan;
    int r = build_plan(g->node, &plan);
    if (r == 0) {
        r = lk_guardfeed_write_plan(g->feed, &plan);
    }
    if (r < 0) {
        lk_log(LK_LOG_WARNING, "cannot write the guard's plan: %s", strerror(-r));
    }
    lk_guard_plan_free(&plan);
}

/* Its applications are gone and the peers were told: this lkd must not act on anything
 * again (a frozen lkd that resumes ends here). */
static void fenced_exit(struct lk_node *node, const char *why)
{
    lk_eventlog_msg(node, NULL, LK_MSG_GUARD_FENCED, why[0] ? why : "no reason given");
    lk_log(LK_LOG_ERR, "the guard fenced this node (%s): exiting", why);
    exit(3);
}

void lk_guardlink_exit_if_fenced(struct lk_node *node)
{
    struct lk_guardlink *g = node->guard;
    if (g && lk_guardfeed_fenced(g->feed)) {
        char why[256] = "";
        (void) lk_guardfeed_feed(g->feed, uv_hrtime(), why, sizeof(why));
        fenced_exit(node, why);
    }
}

void lk_guardlink_feed(void *guardlink)
{
    struct lk_guardlink *g = guardlink;
    pthread_mutex_lock(&g->feed_lock);
    if (g->feed) {
        uint64_t now = uv_hrtime();
        /* Whether the guard fenced is the loop's to act on (on_feed reads the page). */
        (void) lk_guardfeed_feed(g->feed, now, NULL, 0);
        atomic_store(&g->thread_fed_ns, now);
    }
    pthread_mutex_unlock(&g->feed_lock);
}

static void on_feed(uv_timer_t *t)
{
    struct lk_guardlink *g = t->data;
    struct lk_node *node = g->node;
    char why[256] = "";
    uint64_t now_ns = uv_hrtime();
    uint64_t fed = atomic_load(&g->thread_fed_ns);
    bool thread_feeds = fed != 0 && now_ns - fed <= 2 * g->every_ms * 1000000ull;
    if (thread_feeds ? lk_guardfeed_fenced(g->feed)
                     : lk_guardfeed_feed(g->feed, now_ns, why, sizeof(why))) {
        if (thread_feeds) {
            /* The reason, read as a feed does (one more feed is harmless now). */
            (void) lk_guardfeed_feed(g->feed, now_ns, why, sizeof(why));
        }
        fenced_exit(node, why);
    }
    uint64_t now = uv_now(node->loop);
    if (g->plan_dirty || now - g->plan_at_ms >= PLAN_EVERY_MS || g->plan_at_ms == 0) {
        g->plan_at_ms = now;
        g->plan_dirty = false;
        update_plan(g);
    }
    /* At every feed: "guarded" goes to the peers in each heartbeat, and the status's
     * safety line says it; both only once the guard runs with the latest plan. */
    json_t *st = lk_guardfeed_status(g->feed);
    g->guarding = node->cgroups && json_is_true(json_object_get(st, "running")) &&
                  json_is_true(json_object_get(st, "plan_current"));
    json_decref(st);
}

int lk_guardlink_start(struct lk_node *node)
{
    struct lk_guardlink *g = calloc(1, sizeof(*g));
    if (!g) {
        return -ENOMEM;
    }
    g->node = node;
    int r = lk_guardfeed_open(node->root, dead_ms(node), &g->feed);
    if (r < 0) {
        free(g);
        return r;
    }
    uint64_t every = dead_ms(node) / 8;
    every = every > LK_GUARD_FEED_MS ? LK_GUARD_FEED_MS : every ? every : 1;
    g->every_ms = every;
    pthread_mutex_init(&g->feed_lock, NULL);
    uv_timer_init(node->loop, &g->timer);
    g->timer.data = g;
    uv_timer_start(&g->timer, on_feed, 0, every);
    node->guard = g;
    return 0;
}

/* Something the plan is made of changed: it is built again at the next feed (at most
 * LK_GUARD_FEED_MS away), not at once, so that a burst of commits costs one plan. */
static void mark_dirty(struct lk_node *node)
{
    if (node->guard) {
        node->guard->plan_dirty = true;
    }
}

void lk_guardlink_on_changed(void *userdata, const char *tag)
{
    /* A tag's own change (a run's end) changes nothing the plan holds; NULL (many: a peer
     * came or went, its records) may change who has a live backup. */
    if (!tag) {
        mark_dirty(userdata);
    }
}

void lk_guardlink_on_defined(void *userdata, const char *tag)
{
    (void) tag;
    mark_dirty(userdata);
}

void lk_guardlink_on_committed(void *userdata, const char *const *tags, size_t count)
{
    (void) tags;
    (void) count;
    mark_dirty(userdata);
}

void lk_guardlink_on_owners(void *userdata, bool records)
{
    (void) records;
    mark_dirty(userdata);
}

bool lk_guardlink_guarding(const struct lk_node *node)
{
    /* Not while a new plan waits to be written: the guard's plan may not hold a hierarchy
     * that just got a live backup yet, and would not fence it. */
    return node->guard && node->guard->guarding && !node->guard->plan_dirty;
}

json_t *lk_guardlink_status(const struct lk_node *node)
{
    return node->guard ? lk_guardfeed_status(node->guard->feed) : json_null();
}

void lk_guardlink_stop(struct lk_node *node, bool clean)
{
    struct lk_guardlink *g = node->guard;
    if (!g) {
        return;
    }
    node->guard = NULL;
    uv_timer_stop(&g->timer);
    uv_close((uv_handle_t *) &g->timer, NULL);
    pthread_mutex_lock(&g->feed_lock);
    lk_guardfeed_close(g->feed, clean);
    g->feed = NULL;
    pthread_mutex_unlock(&g->feed_lock);
    /* g itself stays allocated until exit: the timer's close callback may run later. */
}
