/* The engine: the one place that decides. A pure function from (the node's view of its
 * resources, one event) to a plan: a list of actions for the executor to carry out.
 *
 * It never touches the loop, the disk or the network, so every decision can be replayed
 * and tested from a table (tests/unit/test_engine.c). The executor commits every
 * LK_ACT_COMMIT of a plan to the store in one transaction before it starts any
 * LK_ACT_RUN, which is how "a state is committed before the action that depends on it
 * starts" holds.
 *
 * Monitoring (#3), hierarchies (#4) and the cluster (#5) grow this file by new event
 * types and new rows, not by deciding elsewhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "resource.h"
#include "result.h"

enum lk_event_type {
    LK_EV_RESTORE_REQUESTED, /* an operator asked for in service */
    LK_EV_REMOVE_REQUESTED,  /* an operator asked for out of service */
    LK_EV_RUN_FINISHED,      /* a script run of this resource ended */
    LK_EV_STARTUP,           /* the daemon started: decide what to do with the resource */
    LK_EV_SHUTDOWN,          /* lkstop: take the resource out of service, keep the intent */
    LK_EV_CHECK_FINISHED,    /* a scheduled quickchk or deepchk ended (result, now_usec) */
    LK_EV_PROCESS_EXITED,    /* the watched process (pidfile) exited (pid, detail), or with
                              * pid 0 the resource's cgroup became empty (detail: its path) */
    LK_EV_SETTINGS_CHANGED,  /* resource config changed (monitoring on/off → ISP/ISU) */
    LK_EV_RESET,             /* resource reset: clear failure and recovery counters */
    LK_EV_CLUSTER_FAILED,    /* the cluster leaves it out of service here as failed (detail) */
    LK_EV_MARK_IN,           /* set in service by hand (ins_setstate ISP/ISU): no restore runs;
                              * detail: the reason, or NULL */
    LK_EV_MARK_OUT,          /* set OSU by hand (ins_setstate OSU): no remove runs; the
                              * application is left as it is; detail: the reason, or NULL */
    LK_EV_COUNT,
};

struct lk_event {
    enum lk_event_type type;
    const char *tag;
    /* LK_EV_RUN_FINISHED and LK_EV_CHECK_FINISHED: */
    enum lk_action action;
    struct lk_result result;
    /* LK_EV_CHECK_FINISHED, LK_EV_PROCESS_EXITED, LK_EV_RUN_FINISHED: monotonic now */
    uint64_t now_usec;
    /* LK_EV_REMOVE_REQUESTED: take the whole connected hierarchy out, not only R and
     * what depends on it */
    bool whole_hierarchy;
    /* LK_EV_REMOVE_REQUESTED from the cluster (another node holds the hierarchy now):
     * never refused for busy; queued restores are dropped, what is in service is queued
     * for remove (parents first), and a running action finishes first, then its resource
     * is removed. */
    bool preempt;
    /* LK_EV_PROCESS_EXITED: the process and where its pid came from;
     * LK_EV_CHECK_FINISHED: pid is lkd's own (event 1517 names it: "Process: lkd(PID)");
     * LK_EV_CLUSTER_FAILED, LK_EV_MARK_IN, LK_EV_MARK_OUT: detail is the reason */
    int pid;
    const char *detail;
};

/* A dependency: parent depends on child (SPEC §4). */
struct lk_dep {
    char parent[LK_TAG_MAX + 1];
    char child[LK_TAG_MAX + 1];
};

struct lk_hier;

/* The node's view, read-only for the engine. */
struct lk_view {
    struct lk_resource *const *resources;
    size_t count;
    const char *node; /* this node's name */
    const struct lk_dep *deps;
    size_t dep_count;
    bool sorted; /* resources are in strcmp order of their tags: lookups bisect */
    /* The index of resources and deps (hier.h), built by the view's owner; NULL, or one
     * built from other arrays: the engine builds its own for the decision. */
    const struct lk_hier *hier;
    /* The owner vouches that no queued action of the view could start or fail now (every
     * state it holds came from plans of lk_engine_decide applied whole, each of which said
     * so in plan.settles, with no definition change since): the engine then looks only at
     * what a plan changes and its neighbours, not at every resource. false (a view just
     * loaded, the tables): a full pass first. The decisions are the same either way. */
    bool settled;
    /* Whether tag's hierarchy has a live backup node to fail over to (the cluster's
     * answer, fixed for the decision); NULL = never (a one-node cluster). */
    bool (*has_backup)(const void *ctx, const char *tag);
    /* Whether another node owns tag's hierarchy (the cluster's ownership record): then
     * start-up never restores it here, as if its init strategy were INIT_OSU; a copy
     * found running is left for the cluster to remove. NULL = never. */
    bool (*owned_elsewhere)(const void *ctx, const char *tag);
    const void *backup_ctx; /* ctx of both */
    /* Resumed after a freeze and waiting to hear the peers (the cluster's fact): another
     * node may hold the hierarchy by now, so checks and process exits are dropped. */
    bool holding;
};

enum lk_act_type {
    LK_ACT_COMMIT, /* write state, reason, pending and intent of tag, before anything runs */
    LK_ACT_RUN,    /* run a script of tag */
    LK_ACT_LOG,    /* write an event to the event log */
    LK_ACT_REFUSE, /* the request cannot be done; text says why, nothing else happens */
    LK_ACT_COUNT,
};

struct lk_act {
    enum lk_act_type type;
    char tag[LK_TAG_MAX + 1];
    /* COMMIT */
    enum lk_state state;
    enum lk_pending pending;
    bool target_in_service;
    uint32_t check_failures_in_row;
    uint32_t local_recoveries;
    uint64_t recovery_at_usec; /* non-zero: a local recovery starts now, note it */
    bool forget_recoveries;    /* clear the recovery history (the recovery window) first */
    bool stop_failed;          /* a remove failed: the application may still run here */
    bool unable;               /* its type is not installed here (LK_VERDICT_NOT_INSTALLED) */
    bool not_configured;       /* its type says it is misconfigured: no failover anywhere */
    /* RUN */
    enum lk_action action;
    /* LOG */
    int number;
    enum lk_severity severity;
    /* COMMIT: the reason; LOG: the message; REFUSE: the error */
    char text[LK_REASON_MAX];
};

/* One vertex's latest COMMIT in a plan (the engine's). */
struct lk_plan_slot {
    size_t vertex; /* + 1; 0: empty */
    size_t act;    /* + 1 */
};

/* A plan: the actions decided for one event, in order. Owned by the caller: start from
 * {0}, let lk_engine_decide fill it (it empties it first and reuses its memory), and
 * release it with lk_plan_done. */
struct lk_plan {
    struct lk_act *acts;
    size_t count;
    size_t capacity;
    const struct lk_view *view; /* the view being decided on; set during lk_engine_decide */
    bool overflow;              /* an act could not be added (out of memory) */
    bool startup;               /* deciding LK_EV_STARTUP: nothing runs yet */
    bool whole_hierarchy;       /* the event's whole_hierarchy, for the rows */
    bool preempt;               /* the event's preempt, for the rows */
    /* The engine's, during lk_engine_decide: the view's index (or its own, own_hier),
     * and the latest COMMIT of each vertex that has one, in a hash table by vertex sized
     * by the plan, not by the view (slots of {vertex + 1, act index + 1}; 0: empty). */
    const struct lk_hier *hier;
    struct lk_hier *own_hier;
    struct lk_plan_slot *last;
    size_t last_size; /* slots: 0 or a power of two */
    size_t last_used;
    /* The positions whose queued action may start (or fail) now, because they or a
     * neighbour changed: those of the current round of advance() (a min-heap) and of the
     * next one. */
    size_t *work, work_count, work_cap;
    size_t *next, next_count, next_cap;
    size_t cursor; /* the position advance() looks at (SIZE_MAX: not looking) */
    bool scan;     /* this round looks at every position */
    /* Out: whether the view, once this plan is applied, is settled (lk_view.settled). */
    bool settles;
    /* For the tests: the positions advance() looked at, over the plan's life. */
    size_t visits;
};

/* Frees the plan's memory; the plan can be reused afterwards. NULL-safe. */
void lk_plan_done(struct lk_plan *plan);

#define LK_CLEANUP_PLAN __attribute__((cleanup(lk_plan_done)))

/* Decides what to do about one event. Fills *ret_plan (emptied first); returns 0, or
 * -ENOENT when the event names a resource the view does not hold, -EINVAL for an event
 * that makes no sense (e.g. a run finished for a resource with nothing pending), or
 * -ENOMEM when the plan could not grow; then the plan holds nothing to act on. */
int lk_engine_decide(const struct lk_view *view, const struct lk_event *event,
                     struct lk_plan *ret_plan);

/* Applies a COMMIT act to res (state, pending, intent, counters, stop_failed, unable,
 * not_configured, recovery
 * history, reason): what the executor does to its view once the commit is in the store,
 * and what the tables and the simulator do to theirs. Other acts are ignored. */
void lk_act_apply(const struct lk_act *act, struct lk_resource *res);

/* One line of text per action ("COMMIT app1 ISP pending=- target=in reason=…",
 * "RUN app1 restore", "LOG app1 1201 INFO …", "REFUSE app1 …"), for the table tests and
 * the daemon's decision log. Returns buf. */
char *lk_act_format(const struct lk_act *act, char *buf, size_t size);

const char *lk_event_type_name(enum lk_event_type type);

/* Whether a and b belong to one hierarchy (are connected by dependencies, in either
 * direction, possibly through others). */
bool lk_engine_connected(const struct lk_view *view, const char *a, const char *b);

/* The first resource of tag's hierarchy that has an action pending, or NULL. */
const struct lk_resource *lk_engine_hierarchy_busy(const struct lk_view *view, const char *tag);

/* Whether adding parent → child would close a cycle; if so, the cycle is written into
 * buf as "a -> b -> c -> a". */
bool lk_engine_would_cycle(const struct lk_view *view, const char *parent, const char *child,
                           char *buf, size_t size);
