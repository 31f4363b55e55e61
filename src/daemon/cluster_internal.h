/* What cluster.c (membership, messages, data exchange), cluster_owner.c (ownership records,
 * placement's view) and the executor's placement half (lk_executor_place, the only writer
 * of records and fence runs) share; nothing else includes this. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cluster.h"
#include "net.h"
#include "ownership.h"

struct peer {
    char name[LK_TAG_MAX + 1];
    bool configured; /* in lk.conf's peers (counts as a voter) */
    bool alive;
    bool witness;
    bool synced;         /* its cluster data exchange with us has finished since it came up */
    bool heard;          /* a state message arrived since our resume (freeze) */
    uint64_t dead_since; /* uv_now when it was declared DEAD (or our start) */
    uint64_t sseq;       /* sequence of its last state message */
    json_t *states; /* {tag: [state, pending, target(, stop_failed)]} from its last state message */
    json_t *stop_failed;    /* tags it reported "remove failed: may still be running"; kept after
                             * its death, replaced by its next state message */
    json_t *alive_set;      /* the peers it reports ALIVE (array of names) */
    json_t *votes;          /* a witness: the nodes it gives its vote to (array) */
    char settings_diff[64]; /* the first cluster setting that differs; "" = equal */
};

struct owner_entry {
    char tag[LK_TAG_MAX + 1];
    struct lk_owner_rec rec;
    bool acted;        /* this node restored or held the hierarchy under this record */
    uint64_t held_gen; /* the generation under which this node last held it */
};

struct fence_run {
    char node[LK_TAG_MAX + 1];
    bool running;
    bool ok;            /* fenced since it was last seen alive */
    uint64_t failed_at; /* uv_now of the last failure; retry after a pause */
};

struct switch_entry {
    char tag[LK_TAG_MAX + 1]; /* any tag of the hierarchy */
    char to[LK_TAG_MAX + 1];
};

struct lk_cluster {
    struct lk_node *node;
    struct lk_net *net;
    uint8_t key[LK_WIRE_KEY];

    struct peer *peers;
    size_t peer_count;

    struct owner_entry *owners; /* one record per tag, sorted by tag */
    size_t owner_count;

    struct switch_entry *switches; /* switchovers in progress from this node */
    size_t switch_count;
    char (*removing)[LK_TAG_MAX + 1]; /* operator removes of whole hierarchies in progress */
    size_t removing_count;

    struct fence_run *fences;
    size_t fence_count;

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
    bool net_was_started; /* lk_net_start succeeded */
    json_t *last_votes;   /* a witness: its current vote (array) */
};

/* cluster.c */
struct peer *lk_cluster_peer(struct lk_cluster *cl, const char *name);
uint64_t lk_cluster_dead_ms(const struct lk_cluster *cl);
bool lk_cluster_quorum_mode_none(const struct lk_cluster *cl);
void lk_cluster_kick(struct lk_cluster *cl);
void lk_cluster_send_state(struct lk_cluster *cl);
int lk_cluster_send(struct lk_cluster *cl, const char *peer, json_t *msg); /* steals msg */

/* cluster_owner.c */
int lk_owner_load(struct lk_cluster *cl);
struct lk_owner_rec *lk_owner_get(struct lk_cluster *cl, const char *tag);
/* The in-memory entry of tag's record (the executor updates it after a commit); _add
 * creates it (zeroed) when missing; NULL when out of memory / not found. */
struct owner_entry *lk_owner_entry_find(struct lk_cluster *cl, const char *tag);
struct owner_entry *lk_owner_entry_add(struct lk_cluster *cl, const char *tag);
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
size_t lk_cluster_hierarchy(const struct lk_node *node, const char *tag,
                            char (**ret_tags)[LK_TAG_MAX + 1]);
/* The hierarchy's priority on peer: its first root's; 0 when any of it is not extended
 * there. */
uint32_t lk_cluster_hier_priority(const struct lk_node *node, char (*tags)[LK_TAG_MAX + 1],
                                  size_t count, const char *peer);
