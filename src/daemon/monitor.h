/* Monitoring: when quickchk and deepchk are due, and the pidfd watch of a resource's
 * process (SPEC §3 "Monitoring and recovery").
 *
 * It decides only *when* to check; the runner runs the check and the engine decides what
 * a result means (LK_EV_CHECK_FINISHED, LK_EV_PROCESS_EXITED through the executor).
 * Owner: struct lk_node holds the one struct lk_monitor. */
#pragma once

#include "node.h"

struct lk_monitor;

/* Creates the monitor of node (node->monitor). -ENOMEM on failure. */
int lk_monitor_new(struct lk_node *node);

/* Brings tag's checks and watch in line with its committed state: armed while it is in
 * service, idle, monitored and the daemon is not stopping; otherwise timers stop and
 * running checks are aborted (their results ignored). Called after every commit. */
void lk_monitor_sync(struct lk_node *node, const char *tag);

/* Forgets a deleted resource. */
void lk_monitor_forget(struct lk_node *node, const char *tag);

/* Stops every check and watch (daemon stopping). */
void lk_monitor_stop_all(struct lk_node *node);

/* Number of checks running now, for status and benchmarks. */
unsigned lk_monitor_running(const struct lk_node *node);
