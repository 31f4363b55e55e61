/* Who holds each hierarchy: the ownership record every node keeps per hierarchy, the
 * order in which records replace each other, and the placement rule (SPEC §5). Pure: no
 * loop, no I/O; the coordinator (src/daemon/cluster/cluster.c) feeds it and acts on its answers.
 *
 * A record names the owner — the one node allowed to hold the hierarchy in service —
 * with a generation that every takeover, switchover and failover raises, and a sequence
 * the owner raises for changes within its generation (intent in/out of service, lkstop).
 * Records spread to every node with the cluster's state messages; a node keeps the
 * greatest one it has seen:
 *   (generation, sequence) larger wins; equal: the owner with the better priority
 *   (smaller number) wins; still equal: the smaller owner name; the same owner: a total
 *   order on the content (out of service first; see cmp_content in ownership.c), so two
 *   records written for the same step never leave nodes disagreeing.
 * So after a partition heals, both sides end with the same record, and the side that is
 * not its owner removes its copy: "exactly one side keeps it". */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

#define LK_TRIED_MAX        32
#define LK_FAILOVERS_KEPT   32
#define LK_OWNER_REASON_MAX 160

/* The largest generation or sequence accepted in a record: room to count past it, far
 * below the integer limit (a record is input from other nodes). */
#define LK_GENERATION_MAX (UINT64_C(1) << 62)

struct lk_owner_rec {
    uint64_t gen;
    uint64_t seq;
    char owner[LK_TAG_MAX + 1]; /* "" = nobody */
    bool active;                /* the hierarchy is meant to be in service */
    bool left;                  /* the owner stopped with lkstop: not a failure */
    bool kept;        /* the owner stopped with lkstop -f: the applications still run there */
    bool failed_over; /* it is where it is because of a failover (switchback applies) */
    char tried[LK_TRIED_MAX][LK_TAG_MAX + 1]; /* nodes whose restore failed in this failover */
    size_t tried_count;
    int64_t failovers_ms[LK_FAILOVERS_KEPT]; /* wall-clock ms of recent failovers, oldest first */
    size_t failover_count;
    char reason[LK_OWNER_REASON_MAX]; /* why the last change was made */
    /* A planned switchover that has not come up in service yet: if the restore fails on
     * the target, handing the hierarchy back is not a failover (not counted). Sent as
     * "p" only when set, so records without it stay readable both ways. */
    bool planned;
    /* Nodes where a remove of the hierarchy failed ("may still be running") that have not
     * reported the copy gone (a remove that succeeds, resource reset there) nor been
     * fenced since: nothing of it is restored on another node while one is listed, even
     * after the nodes that heard the failure restarted. Sorted by name. Sent as "sf" only
     * when not empty, so records without it stay readable both ways (missing: none). */
    char stop_failed[LK_TRIED_MAX][LK_TAG_MAX + 1];
    size_t stop_failed_count;
};

/* <0, 0, >0 as a orders before, equal to (the same record), after b (see the top
 * comment); a_prio and b_prio are the priorities of a's and b's owners (0 = unknown:
 * worst). */
int lk_owner_cmp(const struct lk_owner_rec *a, uint32_t a_prio, const struct lk_owner_rec *b,
                 uint32_t b_prio);

/* {"g":gen,"s":seq,"o":owner,"a":active,"l":left,"k":kept,"x":failed_over,"t":[tried],
 *  "f":[ms],"r":reason}, "p":true when planned and "sf":[nodes] when a remove failed. */
json_t *lk_owner_json(const struct lk_owner_rec *rec);
/* Validates every field; -EINVAL (rec untouched) when anything is off. */
int lk_owner_parse(const json_t *json, struct lk_owner_rec *ret_rec);

bool lk_owner_tried(const struct lk_owner_rec *rec, const char *node);
/* Whether rec marks node "remove failed: may still be running" (rec may be NULL). */
bool lk_owner_stop_failed(const struct lk_owner_rec *rec, const char *node);
/* Marks (on) or clears node in rec's stop_failed list; returns whether it changed. */
bool lk_owner_set_stop_failed(struct lk_owner_rec *rec, const char *node, bool on);
/* A record of a newer generation replaces prev: its writer may not have heard of a remove
 * that failed under prev's, so prev's marks stay in it (only the owner clears a mark,
 * within its generation, once that node reported its copy gone or was fenced). */
void lk_owner_carry_stop_failed(struct lk_owner_rec *next, const struct lk_owner_rec *prev);
void lk_owner_add_tried(struct lk_owner_rec *rec, const char *node);
/* Records a failover at now_ms (dropping the oldest beyond LK_FAILOVERS_KEPT). */
void lk_owner_note_failover(struct lk_owner_rec *rec, int64_t now_ms);
/* Failovers within window_ms before now_ms. */
size_t lk_owner_failovers_within(const struct lk_owner_rec *rec, int64_t now_ms,
                                 uint64_t window_ms);

/* The failover budget (docs/CLUSTER.md "Failover limit"). A failover episode is the run of
 * failovers until the hierarchy is in service again: its tried list names the nodes whose
 * restore failed in it. The failover history (failovers_ms) counts failovers within the
 * window; an operator's switchover, restore or reset starts it afresh. */

/* max-failovers as configured, or (0: unset) the nodes but one, at least 1. */
uint32_t lk_owner_max_failovers(uint32_t configured, size_t nodes);

/* An operator action (switchover, restore, reset): clears the failover history and the
 * tried list. Returns whether anything changed. */
bool lk_owner_budget_reset(struct lk_owner_rec *rec);

/* The hierarchy is in service on its owner: the failover episode is over (tried cleared)
 * and a planned switchover has arrived. Returns whether anything changed. */
bool lk_owner_episode_over(struct lk_owner_rec *rec);

/* "W s", "W min" or "W h" for a window of window_s seconds. */
char *lk_owner_window_text(uint32_t window_s, char *buf, size_t size);

/* The budget in words: "1 of 1 failovers used in the last 6 h: the next failure leaves
 * it out of service" ("0 of 2 failovers used in the last 6 h" while there is room).
 * rec may be NULL (nothing used). Returns buf. */
char *lk_owner_budget_text(const struct lk_owner_rec *rec, uint32_t max_failovers,
                           uint32_t window_s, int64_t now_ms, char *buf, size_t size);

/* A node that could hold a hierarchy. */
struct lk_candidate {
    const char *name;
    uint32_t priority; /* the hierarchy's priority there; 0 = not extended (whole of it) */
    bool alive;        /* reachable and up to date */
};

/* The node a hierarchy goes to: alive, extended, not in rec's tried list (rec may be
 * NULL), not exclude (may be NULL); best priority, then smaller name. NULL if none. */
const char *lk_placement_best(const struct lk_candidate *candidates, size_t count,
                              const struct lk_owner_rec *rec, const char *exclude);
