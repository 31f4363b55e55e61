/* lkguard's two hands when it fences (fence.c): kill the plan's cgroups, tell the peers.
 * Shared between the files of src/guard/ only. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard.h"
#include "wire.h"

/* One line on stderr: "lkguard: " and the formatted text. While deferred, lines are kept
 * in memory (up to 64 KiB) instead, so that a log on a stalled disk cannot hold up a fence;
 * lk__guard_log_defer(false) writes them. */
__attribute__((format(printf, 1, 2))) void lk__guard_log(const char *format, ...);
void lk__guard_log_defer(bool defer);

/* Writes "1" to cgroup.kill of every cgroup of every hierarchy in the plan's fence list (a
 * missing cgroup is fine: nothing runs there), then waits, at most wait_ms in all, until
 * each is empty (cgroup.events "populated 0"). Logs each cgroup's outcome. Returns the
 * number of cgroups still populated when the wait ended (0: all empty). */
int lk__guard_kill_cgroups(const struct lk_guard_plan *plan, int wait_ms);

/* Sends the fenced frame (guard.h) to every address of every peer of the plan, in
 * parallel: a non-blocking connect bounded by connect_ms, the frame, a shutdown, then up
 * to connect_ms more for the peer to close its side (so that the frame is read before the
 * connection ends). Logs one line per address. Nothing is sent when the fence list is
 * empty. Returns the number of addresses the frame was written to. */
int lk__guard_tell_peers(const struct lk_guard_plan *plan, const uint8_t key[LK_WIRE_KEY],
                         const char *why, int connect_ms);
