/* When the node database cannot be written (a full disk, an I/O error, a read-only file):
 * the node goes on from memory, says so loudly, refuses what needs the database, and
 * catches up when it can write again (catchup.c).
 *
 * One struct lk_catchup per lkd, made by lk_catchup_start and hung on node->catchup.
 * Without it (NULL: unit tests, before the start), the store counts as writable and a
 * failure is only reported. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "owners.h"

#define LK_RESERVE_NAME     "var/reserve"
#define LK_RESERVE_BYTES    (4ULL << 20)
/* While the database is not writable, the catch-up is tried this often. */
#define LK_CATCHUP_RETRY_MS 1000

/* Makes the catch-up state and the disk reserve ($LKROOT/var/reserve; when there is no
 * room for it, the database counts as not writable from the start), and arms nothing
 * until a write fails. 0 or -ENOMEM. */
int lk_catchup_start(struct lk_node *node, struct lk_owners *owners);
/* Stops the retry timer and frees the state (closing the timer on the loop). */
void lk_catchup_stop(struct lk_node *node);

/* Called right after a store write failed (before anything else uses the store). When the
 * disk is the cause (lk_store_disk_failed), the database becomes not writable (event 1011
 * once, the retry timer armed) and true is returned: the caller goes on from memory.
 * retry, when not NULL, is set when the disk was full and the reserve was there: it is
 * freed now (event 1013), and the caller tries its write once more. false: the failure is
 * not the disk's (a constraint, a bug): the caller reports it as before. */
bool lk_catchup_failed(struct lk_node *node, bool *retry);

/* What memory holds that the disk does not, written at the catch-up: every state, every
 * ownership record, a run's record (copied; the oldest dropped beyond a bound), an event
 * the database did not take (the same). */
void lk_catchup_dirty_states(struct lk_node *node);
void lk_catchup_dirty_owners(struct lk_node *node);
void lk_catchup_keep_run(struct lk_node *node, const struct lk_run_record *run);
void lk_catchup_keep_event(struct lk_node *node, const struct lk_event_record *event);

/* Whether the database is writable; when it is not, since when (ms since the epoch) and
 * why (borrowed). */
bool lk_catchup_writable(const struct lk_node *node);

/* For a change that needs the database: 0 when it is writable; else -EROFS with
 * "the node database is not writable: <why>" in err. Nothing is changed either way. */
int lk_catchup_refuse(const struct lk_node *node, char *err, size_t err_size);

/* {"writable": bool, "since": ms (0 when writable), "why": text, "reserve": bool,
 * "dirty": bool, "kept_events": n, "kept_runs": n}; NULL for ENOMEM. */
json_t *lk_catchup_status_json(const struct lk_node *node);
