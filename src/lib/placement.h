/* Placement: the one place that decides where each hierarchy runs in the cluster. A pure
 * function from (the cluster as this node sees it, for one hierarchy; one cluster event)
 * to a plan of acts for the executor (src/daemon/core/executor.c, lk_executor_place): write an
 * ownership record, restore or remove the hierarchy here, run the fence hook, send a
 * request to a peer, log.
 *
 * It never touches the loop, the clock, the disk or the network: the view holds every
 * fact as plain data, times included (numbers), so each decision can be replayed and
 * tested from a table (tests/unit/test_placement.c). The executor commits a plan's
 * WRITE_REC to the store, in one transaction for the whole hierarchy, before any other
 * act of the plan is carried out.
 *
 * The rules are listed at the top of placement.c and in docs/CLUSTER.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "ownership.h"
#include "resource.h"

/* A fence hook that failed is tried again after this pause. */
#define LK_FENCE_RETRY_MS 5000

/* One resource of the hierarchy as a peer reports it in its state message. */
struct lk_ppeer_state {
    bool known;      /* the peer reported a state for it */
    bool in_service; /* ISP or ISU there */
    bool busy;       /* an action pending there */
};

/* A cluster member as this node sees it (witnesses and unconfigured nodes included). */
struct lk_ppeer {
    const char *name;
    bool configured; /* in lk.conf's peers */
    bool alive;
    bool witness;
    bool synced;                  /* its data exchange with us finished since it came up */
    bool has_states;              /* a state message arrived since it came */
    bool has_alive_set;           /* it told us whom it sees alive */
    uint64_t dead_since_ms;       /* monotonic ms when it was declared dead (or our start) */
    uint64_t alive_since_ms;      /* monotonic ms when it was last declared alive; 0: never */
    const char *const *alive_set; /* the peers it reports alive */
    size_t alive_count;
    uint32_t priority; /* the hierarchy's priority there; 0 = not extended (all of it) */
    /* It has not synced with us once since this node started: its records are unknown
     * here. With quorum none nothing clustered is restored here before it has (Corosync's
     * wait_for_all); with a fence script, a dead one is fenced before a restore here. */
    bool unseen;
    /* Per tag of the hierarchy (order of lk_phier.tags): it reported "remove failed: may
     * still be running" for it; kept after its death until it reports again. NULL: none. */
    const bool *stop_failed;
    /* It reported a resource of the hierarchy "not installed" there (unable to run it: never
     * a target) or "not configured" (the hierarchy fails over nowhere), as of its last
     * state report (issue 13). */
    bool unable;
    bool not_configured;
    /* Dead: its last report before it was declared dead had some of the hierarchy in
     * service or busy (that copy was never reported gone); false once it reports again. */
    bool held_when_lost;
    /* Its guard (issue 10) kills its copies and says so ("fenced itself") when its lkd
     * dies or freezes: as it last reported. A dead guarded owner is waited for, up to a
     * dead time, unless it fenced itself (a fence entry with ok). */
    bool guarded;
    /* Its report of each resource of the hierarchy, in the order of lk_phier.tags; NULL
     * when it sent no states. */
    const struct lk_ppeer_state *states;
};

/* Fence runs against one node (only nodes this node tried to fence are listed). */
struct lk_pfence {
    const char *node;
    bool running;
    bool ok;               /* fenced since it was last seen alive */
    uint64_t failed_at_ms; /* monotonic ms of the last failure; 0 = none */
};

/* One resource of the hierarchy here. */
struct lk_ptag {
    const char *tag;
    bool exists;    /* defined on this node */
    bool root;      /* no parent: restored as the top of a chain */
    bool clustered; /* extended to another node */
    enum lk_state state;
    bool busy;               /* an action pending here */
    bool stop_failed;        /* a remove of it failed here: it may still run here */
    bool unable;             /* not installed here: this node cannot run the hierarchy */
    bool not_configured;     /* not configured: the hierarchy fails over nowhere */
    enum lk_pending pending; /* which */
    const char *reason;      /* why it is in its state here (what failed); NULL: unknown */
};

/* The hierarchy under decision. */
struct lk_phier {
    const struct lk_ptag *tags; /* tags[0]: the tag it is known by (the request's) */
    size_t count;
    uint32_t priority;       /* the hierarchy's priority on this node */
    bool has_rec;            /* an ownership record is known */
    struct lk_owner_rec rec; /* the greatest record among its tags */
    bool acted;              /* this node restored or held it under rec */
    uint64_t held_gen;       /* the generation under which this node last held it */
    bool has_root;           /* switchback: the setting of its first root here */
    enum lk_switchback switchback;
    const char *switch_tag; /* a switchover from here in progress: its entry, or NULL */
    const char *switch_to;
    const char *removing_tag; /* an operator's remove in progress: its entry, or NULL */
};

/* Everything one decision reads. */
struct lk_placement_view {
    const char *node;  /* this node's name */
    bool settled;      /* up to date with the peers: start-up has run */
    bool holding;      /* resumed from a freeze: only removals until the peers are heard */
    bool orphan_check; /* owners that left with lkstop count as gone, this once */
    bool quorate;
    bool quorum_none;       /* quorum = none (or none in effect) */
    bool quorum_loss_osu;   /* quorum-loss-action osu */
    bool fence_script;      /* a fence hook is configured */
    uint32_t max_failovers; /* resolved (never 0) */
    uint32_t failover_window_s;
    uint64_t dead_ms;    /* the dead time: heartbeat interval × misses */
    int64_t now_ms;      /* wall clock, for the failover window */
    uint64_t mono_ms;    /* monotonic, for dead_since, the start and fence retries */
    uint64_t started_ms; /* monotonic ms of this node's start */
    const struct lk_ppeer *peers;
    size_t peer_count;
    const struct lk_pfence *fences;
    size_t fence_count;
    struct lk_phier hier;
};

enum lk_pevent_type {
    LK_PEV_RECONCILE,         /* re-evaluate the hierarchy (after anything changed) */
    LK_PEV_RESTORE_REQUESTED, /* an operator: in service on target */
    LK_PEV_REMOVE_REQUESTED,  /* an operator: out of service (whole) */
    LK_PEV_SWITCH_MESSAGE,    /* a peer (from) asks this holder to switch over to (to) */
    LK_PEV_REMOVE_MESSAGE,    /* a peer (from) asks this holder to remove (whole) */
    LK_PEV_SWITCH_ALL,        /* lkstop --switchover: hand everything held here on */
    LK_PEV_LEAVE,             /* lkstop (running: lkstop -f) */
    LK_PEV_RESET,             /* lkcli resource reset: the failover budget starts afresh */
    LK_PEV_MARK_IN,           /* ins_setstate ISP/ISU: in service here, no restore runs */
    LK_PEV_MARK_OUT,          /* ins_setstate OSU: out of service here, no remove runs */
    LK_PEV_COUNT,
};

struct lk_pevent {
    enum lk_pevent_type type;
    const char *tag;          /* the request's tag; NULL: hier.tags[0] */
    const char *target;       /* RESTORE_REQUESTED, SWITCH_MESSAGE: the node it goes to */
    uint32_t target_priority; /* the hierarchy's priority on target (0: not extended);
                               * MARK_IN: on this node */
    const char *from;         /* SWITCH_MESSAGE, REMOVE_MESSAGE: the peer that asks */
    bool whole;               /* REMOVE_*: the whole connected hierarchy */
    bool running;             /* LEAVE: the applications keep running (lkstop -f) */
};

enum lk_pact_type {
    LK_PACT_WRITE_REC,     /* record for every tag of the hierarchy (first, one transaction) */
    LK_PACT_MARK_ACTED,    /* this node acts under the current record */
    LK_PACT_RESTORE,       /* restore tag here (a root: its children come first) */
    LK_PACT_REMOVE,        /* remove tag here (whole, preempt) */
    LK_PACT_FAIL_HERE,     /* leave tag out of service here as failed (text: why) */
    LK_PACT_FENCE,         /* run the fence hook against node */
    LK_PACT_SEND_SWITCH,   /* ask node to switch tag over to `to` */
    LK_PACT_SEND_REMOVE,   /* ask node to remove tag (whole) */
    LK_PACT_LOG,           /* event number with text */
    LK_PACT_START_SWITCH,  /* note a switchover of the hierarchy (tag) to `to` */
    LK_PACT_DROP_SWITCH,   /* the switchover entry tag is done */
    LK_PACT_NOTE_REMOVING, /* an operator's remove of tag's hierarchy is in progress */
    LK_PACT_DROP_REMOVING, /* that entry (tag) is done */
    LK_PACT_WAIT,          /* a decision waits for time: evaluate again at the next tick */
    LK_PACT_VERDICT,       /* the answer to a request: verdict, text */
    LK_PACT_COUNT,
};

enum lk_pverdict {
    LK_PVERDICT_LOCAL,   /* go on locally (the engine handles the request here) */
    LK_PVERDICT_HANDLED, /* the cluster takes care of it */
    LK_PVERDICT_REFUSED, /* text says why */
};

struct lk_pact {
    enum lk_pact_type type;
    char tag[LK_TAG_MAX + 1];
    char node[LK_TAG_MAX + 1]; /* FENCE, SEND_*: the node; START_SWITCH: the target */
    char to[LK_TAG_MAX + 1];   /* SEND_SWITCH: where it goes */
    struct lk_owner_rec rec;   /* WRITE_REC */
    bool whole;                /* REMOVE, SEND_REMOVE */
    bool preempt;              /* REMOVE: drop queued restores that have not started */
    int number;                /* LOG */
    enum lk_severity severity; /* LOG */
    enum lk_pverdict verdict;  /* VERDICT */
    /* LOG: the message; FAIL_HERE: the reason; VERDICT: the error when refused;
     * SEND_*: the error when the peer cannot be reached */
    char text[LK_REASON_MAX];
};

/* A plan: start from {0}, let lk_placement_decide fill it (it empties it first and reuses
 * its memory), release it with lk_pplan_done. */
struct lk_pplan {
    struct lk_pact *acts;
    size_t count;
    size_t capacity;
    const struct lk_placement_view *view; /* the view decided on */
    bool overflow;                        /* an act could not be added (out of memory) */
};

void lk_pplan_done(struct lk_pplan *plan);

#define LK_CLEANUP_PPLAN __attribute__((cleanup(lk_pplan_done)))

/* Decides one event about view->hier. Returns 0, -EINVAL for an event that lacks what
 * its type needs, -ENOMEM when the plan could not grow (then it holds nothing). */
int lk_placement_decide(const struct lk_placement_view *view, const struct lk_pevent *ev,
                        struct lk_pplan *ret_plan);

/* One line per act ("WRITE_REC gen=2 seq=0 owner=b active …", "RESTORE app", "LOG app
 * 1621 INFO …", "VERDICT REFUSED …"), for the table tests and the decision log. */
char *lk_pact_format(const struct lk_pact *act, char *buf, size_t size);

/* A one-line summary of the view's facts (the decision log's input line). */
char *lk_placement_view_format(const struct lk_placement_view *view, char *buf, size_t size);

const char *lk_pevent_type_name(enum lk_pevent_type type);

/* Queries the resource engine's view asks (pure): whether the hierarchy has a live
 * backup node to fail over to, and whether another node owns it. */
bool lk_placement_has_backup(const struct lk_placement_view *view);
bool lk_placement_owned_elsewhere(const struct lk_placement_view *view);

/* Whether this node's start-up may restore the hierarchy here: not without quorum, and
 * with quorum none not before every configured peer was heard once since the start. */
bool lk_placement_startup_may_restore(const struct lk_placement_view *view);

/* Quorum none and a configured peer not heard once since this node started: nothing
 * clustered comes in service here but by an operator's restore. */
bool lk_placement_waits_for_all(const struct lk_placement_view *view);

/* A live peer that reports any of the hierarchy in service or with an action pending, or
 * NULL. */
const struct lk_ppeer *lk_placement_holder(const struct lk_placement_view *view);

/* The node the hierarchy goes to: the best live extended node (this one included), not
 * in rec's tried list (rec may be NULL), not exclude (may be NULL); NULL when none. */
const char *lk_placement_target(const struct lk_placement_view *view,
                                const struct lk_owner_rec *rec, const char *exclude);

/* Whether decisions that bring something in service may be made: quorate, or quorum
 * none. */
bool lk_placement_can_act(const struct lk_placement_view *view);
