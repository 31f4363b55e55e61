/* Monitoring: when quickchk and deepchk are due, and the pidfd watch of a resource's
 * process (SPEC §3 "Monitoring and recovery").
 *
 * It decides only *when* to check; the runner runs the check and the engine decides what
 * a result means (LK_EV_CHECK_FINISHED, LK_EV_PROCESS_EXITED through the executor).
 * Owner: main.c creates the one struct lk_monitor and keeps it. */
#pragma once

#include "node.h"

struct lk_monitor;

/* Creates the monitor of node; NULL when out of memory. */
struct lk_monitor *lk_monitor_new(struct lk_node *node);

/* Brings tag's checks and watch in line with its committed state: armed while it is in
 * service, idle, monitored and the daemon is not stopping; otherwise timers stop and
 * running checks are aborted (their results ignored). Follows every commit (bus). */
void lk_monitor_sync(struct lk_monitor *mon, const char *tag);

/* Bus subscribers (userdata: the struct lk_monitor), wired by main.c. A committed plan:
 * every resource on a hierarchy that committed follows (a sibling's action pauses its
 * checks too); tags NULL: every resource. Changed definitions: tag's checks follow its
 * new settings, or are forgotten with it; tag NULL: every resource, and the watches of
 * resources that are gone. */
void lk_monitor_on_committed(void *userdata, const char *const *tags, size_t count);
void lk_monitor_on_defined(void *userdata, const char *tag);

/* Forgets a deleted resource. */
void lk_monitor_forget(struct lk_monitor *mon, const char *tag);

/* Stops every check and watch (daemon stopping). */
void lk_monitor_stop_all(struct lk_monitor *mon);

/* Number of checks running now, for status and benchmarks. */
unsigned lk_monitor_running(const struct lk_monitor *mon);
