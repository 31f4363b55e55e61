/* lkd's side of the guard's contract (lib/guard.h): the liveness page lkd feeds from its
 * loop, the plan it writes for the guard, and what it reads back (has the guard fenced,
 * is the guard there). lkguard (src/guard/) is the other side.
 *
 * Owned by main.c: one per lkd, opened at start (before the loop runs), fed from the loop
 * (every LK_GUARD_FEED_MS at most, and at least every dead time / 8), closed at exit with
 * clean = true on a clean stop (lkstop, lkstop -f: the guard then leaves quietly) and
 * clean = false otherwise (the guard then fences as for a crash). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard.h"

#define LK_GUARDFEED_NAME "run/guard.feed"
#define LK_GUARDPLAN_NAME "run/guard.plan"

struct lk_guardfeed;

/* Creates root/run/guard.feed afresh (4096 bytes, mode 0600, replacing the last lkd's
 * page: a guard still watching that one keeps its own mapping), maps it shared and fills
 * it: magic, version, this process's pid, dead_ms, state STARTING. Returns 0 with *ret
 * set, or a negative errno (nothing left behind but possibly run/guard.feed.new). */
int lk_guardfeed_open(const char *root, uint64_t dead_ms, struct lk_guardfeed **ret);

/* Feeds the page: stores fed_mono_ns (CLOCK_MONOTONIC in ns, as uv_hrtime gives it), then
 * one more seq, and turns STARTING into RUNNING. Returns whether the guard has fenced this
 * node; then its reason is copied to why (when why_size > 0) and lkd must exit at once:
 * its applications are gone and the peers were told. */
bool lk_guardfeed_feed(struct lk_guardfeed *f, uint64_t now_mono_ns, char *why, size_t why_size);

/* Whether the guard has fenced this node: one atomic load, cheap enough to ask before
 * every spawn. After a freeze (SIGSTOP, a paused node) lkd's timers may all fire before
 * its next feed; whatever would act on a resource asks this first and does nothing once
 * it is true. */
bool lk_guardfeed_fenced(const struct lk_guardfeed *f);

/* Writes plan to root/run/guard.plan (tmp + rename, mode 0600) when its JSON differs from
 * the last one written, then bumps plan_gen so that the guard reloads it, and stores the
 * plan's dead_ms in the page. Returns 0 (also when nothing changed), -ENOMEM, or the
 * negative errno of the failed file operation (the previous plan stays in place). */
int lk_guardfeed_write_plan(struct lk_guardfeed *f, const struct lk_guard_plan *plan);

/* The guard as lkd sees it, for status (a new reference, NULL without memory):
 *   {"running":bool,"plan_current":bool,"pid":N|null,"last_look_ms":N|null,"watchdog":bool,"fenced":bool,
 *    "why":"..."}
 * running: the guard's pid exists and it looked at the page within max(2 s, 2 poll
 * periods); plan_current: it runs with the plan lkd wrote last; last_look_ms: how long ago it last
 * looked; why: "" unless fenced. */
json_t *lk_guardfeed_status(const struct lk_guardfeed *f);

/* clean: marks the page STOPPED, so that the guard exits quietly once lkd has exited;
 * otherwise the state is left as it is (the guard fences when lkd exits). Unmaps and
 * frees. NULL-safe. */
void lk_guardfeed_close(struct lk_guardfeed *f, bool clean);
