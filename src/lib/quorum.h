/* Quorum and the witness's vote (SPEC §5, docs/CLUSTER.md "Quorum"). Pure: no loop, no
 * I/O, no clock, no allocation; the coordinator (src/daemon/cluster/cluster.c) describes what it
 * knows as plain data and acts on the answer (logs the change, takes hierarchies out of
 * service, sends the witness's vote in its heartbeats).
 *
 * The voters are this node, the peers configured in lk.conf and, when one is configured,
 * the witness. Every configured peer that is ALIVE (and not a witness) and hears this node
 * (its last heartbeat names it, or its HELLO came after that heartbeat) gives its vote: a
 * one-way link is no membership, as in Corosync, whose members agree both ways. The
 * witness gives its vote to this node only while its heartbeats name it. Majority: more
 * than half of the voters. None: always quorate. Unset: majority with three or more
 * voters, none with fewer.
 *
 * The witness votes for one group of nodes that all see each other: the largest; on a
 * tie the group whose first node it voted for before (sticky), else the one whose first
 * node has the smallest name. A group is "a node and every alive node that it and they
 * both report ALIVE". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum lk_quorum_mode {
    LK_QUORUM_MODE_UNSET,    /* majority with three or more voters, else none */
    LK_QUORUM_MODE_MAJORITY, /* more than half of the voters */
    LK_QUORUM_MODE_NONE,     /* always quorate */
};

/* A peer as this node knows it; every pointer borrowed for the duration of one call. */
struct lk_quorum_peer {
    const char *name;
    bool configured; /* in lk.conf's peers: a voter */
    bool alive;
    bool witness;                 /* it said it is a witness */
    const char *const *alive_set; /* the peers its heartbeats report ALIVE */
    size_t alive_count;
    bool hello;               /* its HELLO came after its last heartbeat: it heard this node then */
    const char *const *votes; /* a witness: the nodes its heartbeats give the vote to */
    size_t vote_count;
};

struct lk_quorum_view {
    const char *self;
    enum lk_quorum_mode mode;
    size_t configured_peers; /* the peers in lk.conf (voters besides this node) */
    bool witness_configured; /* a witness is configured (one more voter) */
    const struct lk_quorum_peer *peers;
    size_t peer_count;
    /* What this node said before (for the change it has to report). */
    bool settled; /* up to date with the peers: before that nothing is reported */
    bool known;   /* a quorum decision was made (and reported) since settling */
    bool was_quorate;
    /* A witness: the group it voted for last (for stickiness). */
    const char *const *previous_vote;
    size_t previous_count;
};

enum lk_quorum_change {
    LK_QUORUM_SAME,    /* nothing to report */
    LK_QUORUM_PENDING, /* not settled: keep the value, report nothing, not known yet */
    LK_QUORUM_KNOWN,   /* first decision after settling, quorate: nothing to report */
    LK_QUORUM_GAINED,  /* report "quorum gained" */
    LK_QUORUM_LOST,    /* report "quorum lost" (also the first decision, when not quorate) */
};

struct lk_quorum_verdict {
    unsigned votes;
    unsigned voters;
    unsigned needed;       /* votes a majority needs: voters / 2 + 1 */
    bool none;             /* the mode works out to none: always quorate */
    bool quorate;          /* none, or votes > voters / 2 */
    bool witness_for_self; /* an alive witness names this node in its vote */
    enum lk_quorum_change change;
};

/* Whether the mode works out to none with this many voters. */
bool lk_quorum_mode_none(enum lk_quorum_mode mode, unsigned voters);

/* Counts this node's votes and decides whether it is quorate and what changed. */
void lk_quorum_count(const struct lk_quorum_view *view, struct lk_quorum_verdict *ret);

/* The witness's choice: the group led by peers[leader] (see the top comment), of size
 * members; any false when no node is alive. */
struct lk_witness_vote {
    bool any;
    size_t leader;
    size_t size;
};

/* Chooses the group the witness (this node) votes for. */
void lk_quorum_witness_vote(const struct lk_quorum_view *view, struct lk_witness_vote *ret);

/* Whether peers[i] belongs to the chosen group (the leader first, then the others in the
 * order of view->peers). */
bool lk_quorum_witness_member(const struct lk_quorum_view *view, const struct lk_witness_vote *vote,
                              size_t i);
