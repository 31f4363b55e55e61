/* The deterministic cluster simulator (docs/SIMULATOR.md): the types shared by the world
 * (sim.c: clock, event queue, PRNG, links, runner, faults, invariants, trace) and the
 * per-node shell (shell.c: what lkd's executor and coordinator do, in memory, around the
 * real deciders of src/lib). Nothing here touches the disk, the network or the real clock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "ownership.h"

#define SIM_NODES_MAX 6 /* up to 5 nodes and a witness */
#define SIM_RES       3 /* "app" depends on "ip" (one hierarchy); "db" alone (another) */
#define SIM_HIER      2
#define SIM_MS        1000ULL /* µs per ms: the clock counts µs */
#define SIM_S         (1000ULL * SIM_MS)

/* ------------------------------------------------------------------ messages */

enum sim_msg_type {
    MSG_HB,      /* heartbeat: the sender's ALIVE peers, its state sequence, a witness's vote */
    MSG_HELLO,   /* a connection came (back): the receiver answers with its state */
    MSG_STATE,   /* every resource's state, pending action, intent; the ownership records */
    MSG_STATEQ,  /* state?: send me your state */
    MSG_SYNCED,  /* the data exchange with the sender is done */
    MSG_STARTED, /* the sender finished settling (orphans are looked at again) */
    MSG_SWITCH,  /* switch res's hierarchy over to node `to` */
    MSG_REMOVE,  /* take res (whole: its hierarchy) out of service */
    MSG_CLOSE,   /* the sender's daemon died: its sockets closed */
    MSG_COUNT,
};

struct sim_msg {
    enum sim_msg_type type;
    int from, to;
    uint64_t epoch; /* the link's epoch when sent: a break in between loses it */
    uint32_t alive_mask;
    uint32_t vote_mask;
    bool has_vote;
    uint64_t seq;
    uint8_t st[SIM_RES], pe[SIM_RES];
    bool tgt[SIM_RES];
    bool stop_failed[SIM_RES];
    bool has_rec[SIM_RES];
    struct lk_owner_rec rec[SIM_RES];
    int res, to_node;
    bool whole;
    bool late; /* it waited for its frozen receiver to resume */
};

/* ------------------------------------------------------------------ nodes */

struct sim_peer {
    bool alive, synced, heard;
    bool seen; /* synced once since this node started (quorum none: wait_for_all) */
    bool has_states, has_alive_set, has_votes;
    bool hello; /* its HELLO came after its last heartbeat: it hears this node (quorum.h) */
    uint32_t alive_set, votes;
    uint64_t last_heard, dead_since, sseq;
    uint64_t named_at;    /* when a peer's heartbeat last reported it ALIVE */
    uint64_t hello_at;    /* when its last HELLO came */
    uint64_t alive_since; /* when it was last declared ALIVE; 0: never */
    uint8_t st[SIM_RES], pe[SIM_RES];
    bool stop_failed[SIM_RES]; /* "may still run there"; kept after its death */
    bool lost[SIM_RES];        /* in service or busy in its last states before its death */
};

struct sim_fence {
    bool running, ok;
    uint64_t failed_at;
};

struct sim_own {
    struct lk_owner_rec rec; /* persistent (the store) */
    bool has;
    bool acted; /* memory: we restored it (or held it) under this record */
    uint64_t held_gen;
};

enum sim_daemon { DAEMON_DOWN, DAEMON_UP };

struct sim_node {
    char name[8];
    int idx;
    bool witness;
    enum sim_daemon daemon;
    bool lkstopped; /* down because of lkstop (restarted by the quiet phase) */
    bool frozen;    /* SIGSTOP: nothing of it runs until resume_at */
    uint64_t resume_at;
    uint64_t up_since; /* last start or resume */
    uint64_t booted_at;
    uint32_t inc; /* incarnation: events of an earlier life are dropped */

    /* The store: kept across crashes. */
    struct lk_resource res[SIM_RES];
    struct lk_resource *resp[SIM_RES];
    struct sim_own own[SIM_RES];

    /* Memory: lost by a crash. */
    struct sim_peer peers[SIM_NODES_MAX];
    struct sim_fence fences[SIM_NODES_MAX];
    int sw_to[SIM_HIER];     /* switchover from here to that node, -1 none */
    bool removing[SIM_HIER]; /* an operator's remove is under way here */
    bool settled, holding, quorate, quorum_known, orphan_check, timed_wait, state_dirty;
    bool stopping; /* lkstop: shutting down */
    bool kick_queued;
    uint64_t started_at, hold_until, sseq;
    uint32_t last_votes; /* witness: the group it voted for */
    bool has_last_votes;
    uint64_t run_id[SIM_RES];        /* the run being waited for, 0 = none */
    uint64_t pending_since[SIM_RES]; /* invariant: since when the pending action is set */
    bool armed[SIM_RES]; /* monitoring follows a commit on the hierarchy (lk_monitor_sync) */
};

/* ------------------------------------------------------------------ the world */

enum app_state { APP_OFF, APP_RUNNING, APP_HUNG };

struct sim_config {
    int nodes;
    bool witness;
    bool fence;       /* a fence script is configured */
    bool quorum_none; /* derived: two nodes without a witness */
    bool local_recovery;
    bool auto_switchback;
    uint64_t hb_interval_ms;
    uint32_t hb_misses;
    uint32_t max_failovers;
    uint64_t failover_window_ms;
    uint64_t action_timeout;
    uint64_t check_interval;
    int fault_level; /* 0 none; 1 no script or application faults; 2 all; 3 as 1 + apps die */
    bool child_ops;  /* operators also restore or remove a child alone */
    int decider;     /* 0: the shell's mirror of cluster_owner.c; 1: src/lib/placement.c */
};

struct sim_world {
    struct sim_config cfg;
    uint64_t seed, rng;
    uint64_t now;
    uint64_t steps;
    bool trace;
    int count; /* nodes, the witness last */
    struct sim_node node[SIM_NODES_MAX];
    enum app_state app[SIM_NODES_MAX][SIM_RES];
    bool powered_off[SIM_NODES_MAX];
    bool link[SIM_NODES_MAX][SIM_NODES_MAX]; /* from → to delivers */
    uint64_t epoch[SIM_NODES_MAX][SIM_NODES_MAX];
    uint64_t last_delivery[SIM_NODES_MAX][SIM_NODES_MAX];
    uint64_t link_up_since[SIM_NODES_MAX][SIM_NODES_MAX];
    int fence_fails[SIM_NODES_MAX]; /* the fence hook against node fails this many times */
    uint64_t next_run_id;
    /* oracle */
    bool intent_in[SIM_HIER];           /* the operator wants it in service */
    uint64_t failures_at[SIM_HIER][64]; /* failure events since the last operator act */
    size_t failure_count[SIM_HIER];
    bool limit_excused[SIM_HIER];
    bool op_forwarded; /* the operator's restore went to the holder as a switch message */
    bool failing_counted[SIM_NODES_MAX][SIM_HIER]; /* its last crash or freeze counted */

    /* An operator's remove typed on a node with a link down (node + 1), and a restore
     * typed after it on a node that does not hear it: the record there after the restore
     * (a restore that learned the remove's record writes a greater one). */
    int removed_cut_off[SIM_HIER];
    int split_excused[SIM_HIER];
    uint64_t split_gen[SIM_HIER], split_seq[SIM_HIER];

    bool quiet;
    uint64_t quiet_since, phase_end;
    uint32_t episode_failed[SIM_HIER]; /* nodes where it failed since it was last in service */
    uint64_t restore_at[SIM_NODES_MAX][SIM_HIER];        /* last restore run started */
    uint64_t remove_failed_at[SIM_NODES_MAX][SIM_HIER];  /* last remove run that failed */
    bool remove_failed_cut_off[SIM_NODES_MAX][SIM_HIER]; /* ... while nobody could hear of it */
    uint32_t restore_blind[SIM_NODES_MAX][SIM_HIER];     /* nodes dead to it at its last restore */
    char violation[1024];
    const char *label; /* which known sequence the violation looks like */
    uint64_t violation_step;
};

extern struct sim_world W;

/* Tags, dependencies, hierarchies: fixed. */
extern const char *const sim_tags[SIM_RES];
extern const struct lk_dep sim_deps[];
extern const size_t sim_dep_count;
int sim_hier_of(int res);
uint32_t sim_prio(int hier, int node); /* the hierarchy's priority on node (1 is best) */

/* PRNG and trace (sim.c). */
uint64_t sim_rand(void);
uint64_t sim_range(uint64_t lo, uint64_t hi); /* lo..hi inclusive */
bool sim_chance(unsigned percent);
__attribute__((format(printf, 2, 3))) void sim_trace(const struct sim_node *n, const char *fmt,
                                                     ...);
uint64_t sim_dead_us(void);

/* Effects the shell asks of the world (sim.c). */
void sim_send(struct sim_node *n, int to, struct sim_msg *msg); /* takes msg */
void sim_start_run(struct sim_node *n, int res, enum lk_action action);
void sim_start_fence(struct sim_node *n, int target);
void sim_kick(struct sim_node *n);
void sim_note_restore_start(struct sim_node *n, int res);
void sim_note_record(const struct sim_node *n, int hier, const struct lk_owner_rec *rec);

/* The shell (shell.c). */
void shell_boot(struct sim_node *n); /* the daemon starts (memory empty, store kept) */
void shell_kick(struct sim_node *n); /* on_kick: settle, hold, quorum, reconcile, state */
void shell_tick(struct sim_node *n); /* the 100 ms timer: liveness and timed waits */
void shell_heartbeat(struct sim_node *n);
void shell_resumed(struct sim_node *n, uint64_t frozen_us);
void shell_receive(struct sim_node *n, const struct sim_msg *msg);
void shell_run_done(struct sim_node *n, int res, enum lk_action action,
                    const struct lk_result *result);
void shell_check_done(struct sim_node *n, int res, enum lk_action action,
                      const struct lk_result *result);
void shell_fence_done(struct sim_node *n, int target, bool ok);
bool shell_monitored(struct sim_node *n, int res);
bool shell_can_act(const struct sim_node *n);
/* Operator commands; return false (and why) when refused. */
bool shell_op_restore(struct sim_node *n, int res, int target, char *why, size_t size);
bool shell_op_remove(struct sim_node *n, int res, char *why, size_t size);
void shell_op_reset(struct sim_node *n, int res);
void shell_op_lkstop(struct sim_node *n);
void shell_stopped(struct sim_node *n); /* lkstop finished: record left, state sent */
bool shell_busy(const struct sim_node *n);
int shell_res_index(const char *tag);
bool shell_have_placement(void); /* src/lib/placement.h was there at build time */
