/* The executor: feeds one event to the engine and carries out the plan it returns.
 *
 * Order within a plan: every COMMIT in one store transaction (then the in-memory view is
 * updated), then every LOG, then every RUN. If the transaction fails, nothing is logged
 * as done and nothing runs. A finished run comes back here as an LK_EV_RUN_FINISHED
 * event. The executor decides nothing itself. */
#pragma once

#include <stddef.h>

#include "engine.h"
#include "node.h"
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

/* Feeds LK_EV_STARTUP for every resource, children before parents (else in tag order). */
void lk_executor_startup(struct lk_node *node);

/* Feeds LK_EV_SHUTDOWN for every resource (lkstop without -f). */
void lk_executor_shutdown(struct lk_node *node);

/* Placement (src/lib/placement.h): carries out a plan decided for ev. The plan's
 * WRITE_REC is committed to the store for every tag of the view's hierarchy, in one
 * transaction, before any other act; if that fails, nothing else is done and the verdict
 * is REFUSED. Then the acts in order: restores, removes and failures become engine
 * events (lk_executor_handle), FENCE starts the fence hook through the runner, SEND_*
 * go to the peer, LOG to the event log. Returns the plan's verdict (LOCAL when it has
 * none); err says why when REFUSED. */
enum lk_pverdict lk_executor_place(struct lk_node *node, const struct lk_pevent *ev,
                                   const struct lk_pplan *plan, char *err, size_t err_size);

/* Saves one ownership record received from a peer (the in-memory copy is the caller's);
 * <0 when the store could not be written (logged). */
int lk_executor_save_owner(struct lk_node *node, const char *tag, const struct lk_owner_rec *rec);

/* peer is alive again: its past fence runs no longer count. */
void lk_executor_fence_forget(struct lk_node *node, const char *peer);
