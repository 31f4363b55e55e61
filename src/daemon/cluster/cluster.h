/* The cluster coordinator (SPEC §5, issue #5): membership on top of the comm paths
 * (net.h), quorum and the witness's vote, the cluster data exchange (replica.h), the
 * ownership records of the hierarchies (ownership.h), and the decisions that follow from
 * them: takeover, failover, switchover, switchback, removal of a stale copy, fencing.
 *
 * The rest of lkd talks to it through these calls only. Decisions on resources still go
 * through the engine: the coordinator turns "this hierarchy belongs here / not here"
 * into the operator events the engine already knows (restore, remove). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "membership.h"
#include "node.h"
#include "owners.h"

struct lk_cluster;

/* The coordinator of node, not started: main.c creates it first (node->loop set) and
 * hands it to the modules that talk to it (the api, the bus's subscriptions, the engine's
 * view facts); every lk_cluster_* call takes it, never NULL. It reads owners (the
 * executor writes it). NULL when out of memory. */
struct lk_cluster *lk_cluster_new(struct lk_node *node, struct lk_owners *owners,
                                  const struct lk_membership_ops *membership);

/* Starts membership (through the backend given to lk_cluster_new, e.g. &lk_membership_tcp)
 * and the coordinator, after loading the ownership records into owners. The local
 * start-up of resources (lk_executor_startup) is run by the coordinator once the node is
 * up to date with its peers (at once for a node without peers). Returns 0 or a negative
 * errno with a one-line message in err. */
int lk_cluster_start(struct lk_cluster *cl, char *err, size_t err_size);

enum lk_leave {
    LK_LEAVE_CRASH,   /* not on purpose (only the loop ended): say nothing */
    LK_LEAVE_STOPPED, /* lkstop: this node's hierarchies were taken out of service */
    LK_LEAVE_RUNNING, /* lkstop -f, SIGTERM: its applications keep running unmonitored */
};

/* Tells the peers how this node leaves (after lkstop its hierarchies do not fail over;
 * after lkstop -f nobody may start them elsewhere, their applications still run), then
 * closes the comm paths. Only the first call counts. */
void lk_cluster_stop(struct lk_cluster *cl, enum lk_leave how);

/* Whether the comm paths have drained and closed after lk_cluster_stop (true when there
 * is nothing to wait for). */
bool lk_cluster_net_stopped(struct lk_cluster *cl);

/* Whether this node resumed from a freeze and waits to hear its peers (checks are not
 * acted on meanwhile; before the start-up none runs at all: see monitor.c). */
bool lk_cluster_holding(struct lk_cluster *cl);

/* Whether the local start-up has run (lkstart waits for it). */
bool lk_cluster_started_up(struct lk_cluster *cl);

/* Something local changed (a plan was applied): tell the peers and reconsider. */
void lk_cluster_on_local_change(struct lk_cluster *cl);

/* The ownership state changed (the bus's owners topic; userdata: the struct lk_cluster):
 * tell the peers when records changed, and reconsider. */
void lk_cluster_on_owners(void *userdata, bool records);

/* Definitions changed (the bus's defined topic; userdata: the struct lk_cluster): which
 * hierarchies reconciliation must look at is found again. */
void lk_cluster_on_defined(void *userdata, const char *tag);

/* The definition of tags changed (committed): send the new objects to every node
 * concerned. extra_peer (may be NULL) gets them too (an unextended node). */
void lk_cluster_push(struct lk_cluster *cl, const char *const *tags, size_t count,
                     const char *extra_peer);

/* Whether tag is extended to any node but this one. */
bool lk_cluster_is_clustered(const struct lk_node *node, const char *tag);

enum lk_cluster_verdict {
    LK_CLUSTER_LOCAL,   /* go on with the local action */
    LK_CLUSTER_HANDLED, /* the cluster does it; wait with lk_cluster_wait_state */
    LK_CLUSTER_REFUSED, /* err says why */
};

/* restore --tag T [--node N]: a local restore, a switchover, or a takeover. */
enum lk_cluster_verdict lk_cluster_restore(struct lk_cluster *cl, const char *tag,
                                           const char *target, char *err, size_t err_size);

/* remove --tag T: local, or forwarded to the node that holds it. whole: the whole
 * hierarchy (remove --hierarchy). */
enum lk_cluster_verdict lk_cluster_remove(struct lk_cluster *cl, const char *tag, bool whole,
                                          char *err, size_t err_size);

/* ins_setstate: tag set in service here (in: ISP/ISU) or out of service here (OSU) by
 * hand, without a script: LOCAL (go on with the engine's MARK_IN / MARK_OUT) or REFUSED
 * (err says why: the hierarchy is in service or owned on another node, no quorum, …).
 * In: as a restore here that never moves the hierarchy, the ownership record then names
 * this node; out: as a remove here, the record leaves the hierarchy out of service once
 * nothing of it is in service here. Never HANDLED. */
enum lk_cluster_verdict lk_cluster_setstate(struct lk_cluster *cl, const char *tag, bool in,
                                            char *err, size_t err_size);

/* The generation of tag's hierarchy's ownership record (0 = none). */
uint64_t lk_cluster_generation(struct lk_cluster *cl, const char *tag);

/* For a HANDLED restore/remove: 1 done, 0 not yet, -1 failed (why in msg). want_node:
 * the node that must end up holding it (restore), or NULL (remove: nowhere). start_gen:
 * the generation when the request began (moving on past it elsewhere is a failure). */
int lk_cluster_wait_state(struct lk_cluster *cl, const char *tag, const char *want_node,
                          uint64_t start_gen, char *msg, size_t msg_size);

/* Where each resource of tag's hierarchy stands on every node, as progress lines that
 * differ from the previous call's (prev: the caller's snapshot object, updated). */
void lk_cluster_progress(struct lk_cluster *cl, const char *tag, json_t *prev,
                         void (*emit)(const char *line, void *userdata), void *userdata);

/* lkstop --switchover: starts a switchover of every hierarchy in service here to its
 * best other node; a hierarchy with no such node is removed. -EAGAIN with err when this
 * node cannot do it now (joining, no quorum). */
int lk_cluster_switch_all(struct lk_cluster *cl, char *err, size_t err_size);

/* Whether nothing is in service or pending here and no switchover is under way (a
 * hierarchy whose remove failed is OSF here, its failure in the event log). */
bool lk_cluster_switched_out(struct lk_cluster *cl);

/* Whether tag is in service (ISP/ISU) on any node, and which. */
bool lk_cluster_in_service_somewhere(struct lk_cluster *cl, const char *tag, char *who,
                                     size_t who_size);

/* The state of tag on peer as last reported ("" when unknown). */
const char *lk_cluster_remote_state(struct lk_cluster *cl, const char *peer, const char *tag);
/* Whether peer reported tag not installed there (unable to run it; issue 13). */
bool lk_cluster_remote_unable(struct lk_cluster *cl, const char *peer, const char *tag);

/* Whether tag's hierarchy has a live node to fail over to (ctx: the struct lk_cluster);
 * the engine's view asks it when a resource cannot be repaired here. */
bool lk_cluster_has_backup(const void *ctx, const char *tag);

/* Whether tag's hierarchy has an ownership record that names another node, or nobody
 * (ctx: the struct lk_cluster; the engine's view: start-up does not restore it here). */
bool lk_cluster_owned_elsewhere(const void *ctx, const char *tag);

/* Whether peer is ALIVE now. */
bool lk_cluster_peer_alive(struct lk_cluster *cl, const char *peer);

/* The configuration changed (comm paths, cluster settings): apply it live. broadcast:
 * the cluster settings changed here and must reach the other nodes. */
void lk_cluster_reconfigure(struct lk_cluster *cl, bool broadcast);

/* lkcli resource reset: tag's hierarchy's failover budget starts afresh (its failover
 * history and the nodes tried are cleared in its ownership record). */
void lk_cluster_reset_budget(struct lk_cluster *cl, const char *tag);

/* The failover budget of tag's hierarchy in words ("1 of 1 failovers used in the last 6 h:
 * the next failure leaves it out of service"); false (buf empty) when tag is not
 * clustered. */
bool lk_cluster_budget_text(struct lk_cluster *cl, const char *tag, char *buf, size_t size);

/* Who holds tag's hierarchy by its ownership record and the record's generation, for the
 * dashboard: a new {"owner": name or "", "generation": n, "owner_reason": text}, or NULL
 * when tag is not clustered or has no record yet. */
json_t *lk_cluster_owner_brief_json(struct lk_cluster *cl, const char *tag);

/* The nodes where a remove of tag's hierarchy failed ("may still be running"), as its
 * ownership record marks them: a new JSON array, or NULL when none is marked. */
json_t *lk_cluster_remove_failed_json(struct lk_cluster *cl, const char *tag);

/* {"node":…, "quorum":{…}, "warnings":[…], "nodes":[…], "paths":[…]} for status and
 * node list. */
json_t *lk_cluster_status_json(struct lk_cluster *cl);
