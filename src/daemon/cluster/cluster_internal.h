/* What cluster.c (membership, messages, data exchange), cluster_owner.c (ownership records,
 * placement's view), incident.c (the peers' events) and api_cluster.c share. The records
 * and fence runs themselves are in owners.h (core): the executor writes them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cluster.h"
#include "keyroll.h"
#include "membership.h"
#include "owners.h"
#include "ownership.h"
#include "wire.h"

struct peer {
    char name[LK_TAG_MAX + 1];
    bool configured; /* in lk.conf's peers (counts as a voter) */
    bool alive;
    bool witness;
    bool synced;          /* its cluster data exchange with us has finished since it came up */
    bool heard;           /* a state message arrived since our resume (freeze) */
    bool seen;            /* synced at least once since our start (quorum none: wait_for_all) */
    uint64_t dead_since;  /* uv_now when it was declared DEAD (or our start) */
    uint64_t named_at;    /* uv_now when a peer's heartbeat last reported it ALIVE */
    uint64_t alive_since; /* uv_now when it was last declared ALIVE; 0: never */
    uint64_t sseq;        /* sequence of its last state message */
    json_t *states;       /* {tag: [state, pending, target(, stop_failed, unable, not_configured)]}
                           * from its last state message */
    json_t *stop_failed;  /* tags it reported "remove failed: may still be running"; kept after
                           * its death, replaced by its next state message */
    json_t *alive_set;    /* the peers it reports ALIVE (array of names) */
    bool hello;           /* its HELLO came after its last heartbeat: it hears us (quorum.h) */
    uint64_t hello_at;    /* uv_now of that HELLO */
    json_t *lost_states;  /* its states when it was declared DEAD (what may still run there);
                           * dropped at its next state message */
    json_t *votes;        /* a witness: the nodes it gives its vote to (array) */
    char settings_diff[64]; /* the first cluster setting that differs; "" = equal */
    uint64_t inc;           /* the incarnation of its lkd, from its HELLO; 0 = unknown */
    bool guarded;           /* its heartbeats say its guard watches it (issue 10) */
    bool fenced_itself;     /* its guard said "fenced itself" for incarnation inc */
    json_t *fenced_tags;    /* the hierarchies (tags) its guard took down, while fenced_itself */
    json_t *inbox;          /* its messages waiting to be handled, in order (cluster.c's
                             * drain): objects, and whatever came after them; NULL = none */
    size_t inbox_head;      /* the next one to handle */
};

/* An object waiting to leave (cluster.c's drain): built from the store when it leaves. */
enum outgoing_kind {
    OUT_PUSH,   /* to the nodes the object names, and to peer when not "" */
    OUT_ANSWER, /* to peer, part of the answer to its summary */
    OUT_SYNCED, /* to peer: the end of that answer ("synced", objects) */
};

struct outgoing {
    enum outgoing_kind kind;
    char tag[LK_TAG_MAX + 1];
    char peer[LK_TAG_MAX + 1];
    size_t objects; /* OUT_SYNCED: how many the answer listed */
};

struct lk_cluster {
    struct lk_node *node;
    const struct lk_membership_ops *membership; /* the backend's table (lk_cluster_start) */
    void *net;                                  /* the backend's handle; NULL when stopped */
    uint8_t key[LK_WIRE_KEY];

    struct peer *peers;
    size_t peer_count;

    struct lk_owners *owners; /* records, fence runs, switchovers (owners.h): main.c's; the
                               * executor writes it, the cluster reads it */

    uint64_t sseq; /* our state sequence */
    bool state_dirty;
    uv_timer_t kick; /* coalesces state broadcasts and reconciliation */
    uv_timer_t tick; /* periodic reconciliation (settling, fencing retries, hold) */

    uint64_t started_at; /* uv_now at start */
    bool settled;        /* up to date with the peers: start-up has run */
    bool orphan_check;   /* treat owners that left with lkstop as gone, once */
    bool holding;        /* resumed from a freeze: only removals until the peers are heard */
    uint64_t hold_until;
    bool timed_wait; /* a decision waits for time (fencing, self-fence): tick again */
    bool quorate;
    bool quorum_known;
    bool stopping;
    bool net_stopped;     /* the comm paths finished draining and closing */
    bool net_was_started; /* the membership backend started */
    json_t *last_votes;   /* a witness: its current vote (array) */

    struct lk_keyroll keyroll; /* a cluster key rotation (keyroll.c) */

    /* Reconciliation's cache (cluster_owner.c): the components of the node's index that
     * placement may reconcile (a member extended to another node, or with a record),
     * ascending. Valid for the index build live_serial and live_records records, until
     * a definition changes (lk_cluster_on_defined). */
    size_t *live;
    size_t live_count;
    uint64_t live_serial;
    size_t live_records;
    bool live_valid;

    struct lk_gather *gathers; /* commands waiting for the peers' events (incident.c) */
    struct fwd_state *forward; /* requests forwarded to and from peers (forward.c) */
    uint64_t gather_seq;       /* the last gather's id */

    /* Objects received and to send, handled a bounded batch per loop turn (cluster.c). */
    uv_idle_t drain;
    struct outgoing *out; /* FIFO: out[out_head .. out_count) */
    size_t out_head, out_count, out_cap;
    size_t drain_peer;      /* the peer whose inbox is served next (round robin) */
    bool drain_kick;        /* a drained message wants a kick (given at most every 100 ms) */
    uint64_t drain_kick_at; /* uv_now of the last such kick */
};

/* cluster.c */
struct peer *lk_cluster_peer(struct lk_cluster *cl, const char *name);
uint64_t lk_cluster_dead_ms(const struct lk_cluster *cl);
bool lk_cluster_quorum_mode_none(const struct lk_cluster *cl);
void lk_cluster_kick(struct lk_cluster *cl);
void lk_cluster_send_state(struct lk_cluster *cl);
int lk_cluster_send(struct lk_cluster *cl, const char *peer, json_t *msg); /* steals msg */

/* cluster_owner.c */
struct lk_owner_rec *lk_owner_get(struct lk_cluster *cl, const char *tag);
/* Merges a received record for tag; true when it replaced ours. */
bool lk_owner_merge(struct lk_cluster *cl, const char *tag, const struct lk_owner_rec *rec);
json_t *lk_owner_all_json(struct lk_cluster *cl);
void lk_owner_reconcile(struct lk_cluster *cl);
void lk_owner_startup(struct lk_cluster *cl);
void lk_owner_leave(struct lk_cluster *cl, bool running);
void lk_owner_on_switch_message(struct lk_cluster *cl, const char *from, const json_t *msg);
void lk_owner_on_remove_message(struct lk_cluster *cl, const char *from, const json_t *msg);
void lk_owner_node_alive(struct lk_cluster *cl, const char *peer);

/* The connected hierarchy of tag: tags (caller frees) and their count. */
size_t lk_cluster_hierarchy(struct lk_node *node, const char *tag,
                            char (**ret_tags)[LK_TAG_MAX + 1]);
/* The hierarchy's priority on peer: its first root's; 0 when any of it is not extended
 * there. */
uint32_t lk_cluster_hier_priority(const struct lk_node *node, char (*tags)[LK_TAG_MAX + 1],
                                  size_t count, const char *peer);
