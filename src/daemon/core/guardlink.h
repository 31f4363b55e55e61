/* lkd's link to lkguard: feeding the liveness page, the guard's plan, its status, and the
 * exit when the guard fenced this node (guardlink.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "node.h"

/* Opens the liveness page (run/guard.feed) and starts feeding it from the loop. Call after
 * node->facts are set (the plan asks has_backup). Returns 0 or a negative errno. */
int lk_guardlink_start(struct lk_node *node);

/* Bus subscribers (main.c wires them; userdata is the node): the plan is rebuilt at the
 * next feed. */
void lk_guardlink_on_changed(void *userdata, const char *tag);
void lk_guardlink_on_defined(void *userdata, const char *tag);
void lk_guardlink_on_committed(void *userdata, const char *const *tags, size_t count);
void lk_guardlink_on_owners(void *userdata, bool records);

/* Feeds the liveness page from another thread (the pulse thread, cluster/pulse.h), which
 * calls it only while the main loop makes progress; guardlink is its argument (node->guard).
 * Thread-safe, also against lk_guardlink_stop (after which it writes nothing). While it
 * feeds, the loop's timer does not; it feeds again when the thread has not for two
 * periods. */
void lk_guardlink_feed(void *guardlink);

/* Whether a guard watches this node and can fence it (containment on): the heartbeats say
 * so, and the peers then wait for its word before they take over. */
bool lk_guardlink_guarding(const struct lk_node *node);

/* The guard for status: {"running":…} (io/guardfeed.h) or JSON null without a page. */
json_t *lk_guardlink_status(const struct lk_node *node);

/* Exits at once (logged) when the guard has fenced this node: called before anything is
 * started, since after a freeze a timer may fire before the next feed reads the page. */
void lk_guardlink_exit_if_fenced(struct lk_node *node);

/* Stops feeding; clean = true marks the page STOPPED (the guard leaves quietly). */
void lk_guardlink_stop(struct lk_node *node, bool clean);
