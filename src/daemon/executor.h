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
