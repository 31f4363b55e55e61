/* The daemon's state: one struct lk_node per lkd process, owned by main.c.
 *
 * It holds this node's view of its resources (the engine's input), the store, the loop,
 * the bus and the checks (monitor). Other files receive it as a pointer
 * and keep no global state of their own. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"
#include "engine.h"
#include "hier.h"
#include "resource.h"
#include "store.h"

struct lk_alerts;
struct lk_bus;
struct lk_catchup;
struct lk_cgroups;
struct lk_eventlog;
struct lk_fdbudget;
struct lk_guardlink;
struct lk_loopwatch;
struct lk_counters;
struct lk_turns;
struct lk_run_spec;

/* The facts the engine's view takes from the cluster, registered by main.c at start
 * (node.c never names the cluster). Each is NULL until then: a lone node. Each is called
 * with ctx (main.c's: the coordinator). */
struct lk_view_facts {
    const void *ctx;
    bool (*has_backup)(const void *ctx, const char *tag);
    bool (*owned_elsewhere)(const void *ctx, const char *tag);
    bool (*holding)(const void *ctx);
};

struct lk_node {
    uv_loop_t *loop;
    char root[LK_PATH_MAX];
    char name[LK_TAG_MAX + 1];
    struct lk_store *store;
    struct lk_bus *bus; /* notifications (bus.h), wired by main.c */
    struct lk_view_facts facts;
    int log_fd;                   /* $LKROOT/log/lk.log, append-only */
    struct lk_eventlog *eventlog; /* eventlog.c's: the folding of repeats, lk.log's size */

    struct lk_resource **resources; /* the view; each owned by this struct */
    size_t count;
    size_t capacity;
    struct lk_dep *deps; /* dependencies, owned */
    size_t dep_count;
    /* The index of resources and deps (hier.h): rebuilt by lk_node_view when a resource
     * or a dependency was added or dropped since (hier_stale), or when it was built from
     * other arrays. */
    struct lk_hier hier;
    bool hier_stale;
    /* The view is settled (engine.h's lk_view.settled) for the index build settled_serial:
     * the executor notes it after applying each plan (the plan's settles); false from the
     * load until the first plan, and after any definition change (a new index build). */
    bool settled;
    uint64_t settled_serial;
    struct lk_extend *extends; /* where each resource is extended, with priorities; owned */
    size_t extend_count;

    struct lk_config config; /* etc/lk.conf as loaded or last written */
    /* Containment (io/cgroup.h): NULL when off, and then containment_why says why. */
    struct lk_cgroups *cgroups;
    char containment_why[256];
    /* The link to lkguard (guardlink.h): the liveness page and plan; NULL without. */
    struct lk_guardlink *guard;
    /* The database when the disk fails it (catchup.h): NULL until lk_catchup_start. */
    struct lk_catchup *catchup;
    /* The descriptor budget (io/fdbudget.h) and the loop-stall recorder (loopwatch.h),
     * main.c's; NULL in tests that build a node without them. */
    struct lk_fdbudget *fdbudget;
    struct lk_loopwatch *loopwatch;
    /* The alert hooks' queues and counters (alerts.h), main.c's; NULL without. */
    struct lk_alerts *alerts;
    /* The totals /metrics reports (counters.h), main.c's; NULL in tests without them. */
    struct lk_counters *counters;
    uint64_t incarnation; /* random at each start: HELLO's "inc", the guard's frame */
    bool witness;         /* lkd --witness: votes, runs no resources */

    uint64_t started_usec; /* monotonic, for uptime */
    bool stopping;         /* lkstop in progress: no new requests */
    bool started_up;       /* the local start-up (LK_EV_STARTUP) ran: the states are current */
    bool stop_apps;        /* lkstop without -f: remove what is in service first */
    uv_signal_t sigterm, sigint;
    /* The executor's work queued for later loop turns (executor.h), and how many items
     * it holds (log lines, run starts and ends, start-up or lkstop events, changes to
     * tell): lk_node_busy_count counts them. */
    struct lk_turns *turns;
    size_t queued_events;
};

/* Puts a run of tag's scripts in tag's cgroup when containment is on (spec->contained,
 * spec->cgroup_fd); without containment, or when the cgroup cannot be made (logged), the
 * run is not contained. */
void lk_node_contain(const struct lk_node *node, const char *tag, struct lk_run_spec *spec);

/* Finds a resource by tag; NULL if none. */
struct lk_resource *lk_node_find(const struct lk_node *node, const char *tag);

/* Finds a resource by id; NULL if none. */
struct lk_resource *lk_node_find_id(const struct lk_node *node, const char *id);

/* Takes ownership of res and adds it to the view. -ENOMEM on failure (res not taken). */
int lk_node_add(struct lk_node *node, struct lk_resource *res);

/* Removes and frees the resource with this tag, if any. */
void lk_node_drop(struct lk_node *node, const char *tag);

/* The engine's read-only view of this node, with its hierarchy index (rebuilt first
 * when a definition changed: O((n + d) log n) once, then lookups). The view is valid
 * until the next change of resources or dependencies. */
struct lk_view lk_node_view(struct lk_node *node);

/* The node's hierarchy index, up to date (see lk_node_view); NULL when out of memory. */
const struct lk_hier *lk_node_hier(struct lk_node *node);

/* The node's hierarchy index when it is up to date, else NULL (for const callers, which
 * then walk the dependency list). */
const struct lk_hier *lk_node_hier_fresh(const struct lk_node *node);

/* Adds or drops a dependency in the view (the store is the caller's). */
int lk_node_add_dep(struct lk_node *node, const char *parent, const char *child);
void lk_node_drop_dep(struct lk_node *node, const char *parent, const char *child);

/* Extends in the view (the store is the caller's): set inserts or updates (tag, peer);
 * drop with peer NULL drops every extend of tag. */
int lk_node_set_extend(struct lk_node *node, const char *tag, const char *peer, uint32_t priority);
void lk_node_drop_extend(struct lk_node *node, const char *tag, const char *peer);
/* The index of tag's first extend (they are sorted by tag, then priority): tag's extends
 * are the entries from there on while their tag matches. */
size_t lk_node_first_extend(const struct lk_node *node, const char *tag);

/* tag's priority on peer; 0 when tag is not extended there. */
uint32_t lk_node_priority(const struct lk_node *node, const char *tag, const char *peer);

/* Whether tag has parents / children. */
bool lk_node_has_parents(const struct lk_node *node, const char *tag);

/* Number of resources with a pending action. */
size_t lk_node_busy_count(const struct lk_node *node);

/* Current wall-clock time in ms since the epoch, and monotonic µs. */
int64_t lk_now_ms(void);
uint64_t lk_mono_usec(void);
