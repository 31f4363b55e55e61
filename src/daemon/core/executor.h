/* The executor: feeds one event to the engine and carries out the plan it returns.
 *
 * Order within a plan: every COMMIT in one store transaction (then the in-memory view is
 * updated), then every LOG, then every RUN. If the transaction fails because of the data,
 * nothing is logged as done and nothing runs. If the disk failed it (full, I/O error,
 * read-only: catchup.h), the plan is carried out from memory all the same and the states
 * are written when the disk takes them again. A finished run comes back here as an
 * LK_EV_RUN_FINISHED event. The executor decides nothing itself. */
#pragma once

#include <stddef.h>

#include "engine.h"
#include "node.h"
#include "owners.h"
#include "placement.h"

/* Handles one event. Returns 0 when the plan was carried out (or was empty);
 * -EBUSY/-EPERM-like refusals come back as -EAGAIN with the engine's text in err;
 * -EIO when the store could not be written (err says so); -ENOENT for an unknown tag. */
int lk_executor_handle(struct lk_node *node, const struct lk_event *event, char *err,
                       size_t err_size);

/* The same, attaching detail (e.g. a failed check's output tail) to the first warning or
 * error event of the plan. */
int lk_executor_handle_detail(struct lk_node *node, const struct lk_event *event,
                              const char *detail, char *err, size_t err_size);

/* Feeds LK_EV_STARTUP for every resource, children before parents (else in tag order),
 * across loop turns when they are many (see lk_executor_stop); until each had its
 * event, lk_node_busy_count counts it. */
void lk_executor_startup(struct lk_node *node);

/* Feeds LK_EV_SHUTDOWN for every resource (lkstop without -f), the same way. */
void lk_executor_shutdown(struct lk_node *node);

/* Work across loop turns: a plan's log lines and runs, a run's end and start-up's and
 * lkstop's events are done at once while the loop's current turn has worked less than a
 * few milliseconds, else queued in order and done on the next turns (an idle handle),
 * the same budget a turn. lk_executor_stop drops what is still queued (the next start
 * finds those actions interrupted, as after a crash) and closes the handles; main.c
 * calls it after the loop ended. */
void lk_executor_stop(struct lk_node *node);

/* Placement (src/lib/placement.h): carries out this node's acts of a plan decided for
 * ev. The plan's WRITE_REC is committed to the store for every tag of the view's
 * hierarchy, in one transaction, before any other act, then copied into owners; if that
 * fails because of the data, nothing else is done and it returns -EIO (err says why);
 * a failing disk keeps the records in memory (catchup.h) and goes on. Then the acts in
 * order: restores, removes and failures become engine events (lk_executor_handle),
 * FENCE starts the fence hook through the runner, LOG goes to the event log, MARK_ACTED
 * and the switchover and remove entries change owners. SEND_*, WAIT and the VERDICT are
 * left to the caller (the cluster), to do after this returned 0 or -ENOMEM (a switchover
 * entry could not be kept: err says so, the request is refused). */
int lk_executor_place(struct lk_node *node, struct lk_owners *owners, const struct lk_pevent *ev,
                      const struct lk_pplan *plan, char *err, size_t err_size);

/* Saves one ownership record received from a peer, in the store then in owners; <0 when
 * the store could not be written (logged) or out of memory. Inside a batch the record is
 * written in the batch's transaction and reaches owners when the batch commits. */
int lk_executor_save_owner(struct lk_node *node, struct lk_owners *owners, const char *tag,
                           const struct lk_owner_rec *rec);

/* A batch: the records one peer message carries (one per tag of a hierarchy) are saved
 * in one transaction, not one each (a sync of the disk each). _begin starts it; its first
 * save opens the transaction (when it cannot, the saves commit one by one as outside a
 * batch); _commit commits it, if anything was saved, and copies the records into owners,
 * or, when the commit fails, logs it and drops them all, so that owners never holds a
 * record the store does not. */
void lk_executor_begin_owners(struct lk_owners *owners);
void lk_executor_commit_owners(struct lk_node *node, struct lk_owners *owners);

/* peer is alive again: its past fence runs no longer count. */
void lk_executor_fence_forget(struct lk_owners *owners, const char *peer);
