/* The watcher of the LifeKeeper names of the script copies (scriptwatch.c): a write to
 * $LKROOT/subsys/gen/resources/app/actions/!restore/TAG (and !remove, !quickCheck,
 * !deepCheck, recovery/!recover) becomes an update-script of that action.
 *
 * Owner: main.c (lk_scriptwatch_start after the cluster starts, lk_scriptwatch_stop after
 * the loop; the struct is freed from the last close callback). */
#pragma once

#include "node.h"

struct lk_scriptwatch;

/* A definition was changed by the watcher (committed): the caller sends it to the peers,
 * as the update-script command does (main.c: lk_cluster_push). */
typedef void (*lk_scriptwatch_push_cb)(void *userdata, const char *tag);

/* Debounce after the last notification of a name, before its file is read. */
#define LK_SCRIPTWATCH_SETTLE_MS 200

/* Makes the LifeKeeper directories, writes a missing LifeKeeper file of every gen resource
 * defined here from its copy (idempotent), then watches the directories: a file written
 * there whose content differs from the copy is, once its writer closed it and it stopped
 * changing, an update-script (validated as the command validates; push is called after
 * each commit). A refused file is put back, a stray one removed, a removed one put back,
 * each with an event (1755-1759). When the directories cannot be watched, event 1759 says
 * so and lkd goes on without the watch. Returns the watcher (also when unwatched), or NULL
 * when out of memory. */
struct lk_scriptwatch *lk_scriptwatch_start(struct lk_node *node, lk_scriptwatch_push_cb push,
                                            void *userdata);

/* Stops watching and closes the handles; the struct is freed from the last close callback
 * (the loop must turn). NULL is fine. */
void lk_scriptwatch_stop(struct lk_scriptwatch *w);
