/* The tunables on this node: loaded at start from $LKROOT/etc/default/LifeKeeper, changed
 * by `lkcli cluster tunables` and by an administrator's edit of that file, which is watched
 * (inotify on its directory) and becomes a cluster-wide change like the command's. */
#pragma once

#include <stddef.h>

struct lk_node;
struct lk_tunwatch;

/* Called on the loop after the tunables changed here (a hand edit): the caller tells the
 * peers (lk_cluster_reconfigure). */
typedef void (*lk_tunwatch_changed_cb)(void *userdata);

/* At start, before the cluster starts: the tunables in force are lkd's own copy
 * (LK_TUNFILE_KEPT) or, the first time, the file; a file edited while lkd was stopped is
 * taken as a change (a new version), a bad one is refused with an ERROR event (1732) and the
 * copy stays in force. Never fails: what goes wrong is an event. */
void lk_tunwatch_load(struct lk_node *node);

/* Starts watching the file; cb is called after each change a hand edit made. Returns the
 * watch, or NULL when out of memory (a watch that cannot start is an event, 1734, and the
 * watch then does nothing). */
struct lk_tunwatch *lk_tunwatch_start(struct lk_node *node, lk_tunwatch_changed_cb cb,
                                      void *userdata);

/* Stops watching and frees the watch once its handles are closed (NULL is fine). */
void lk_tunwatch_stop(struct lk_tunwatch *w);

/* Makes text the cluster's tunables from this node: checked (lk_tunables_parse), written (a
 * new settings version, lk_define_cluster_settings: the file, lkd's copy, lk.conf), with
 * the events (1730 naming how, "lkcli cluster tunables" or "edit of FILE"; 1733 for reserved
 * keys it sets). The caller tells the peers. changed receives the keys changed ("" when the
 * text is the same: then nothing is written). Returns 0, -EINVAL (a bad text: err names the
 * line), or another -errno with err. */
int lk_tunwatch_apply(struct lk_node *node, const char *text, const char *how, char *changed,
                      size_t changed_size, char *err, size_t err_size);

/* Says (1734) that the file is about to be written with next_text (a change from `by`: "node
 * X", "lkcli cluster tunables") over something neither in force nor next_text: an
 * administrator's edit the watch has not taken yet, or a refused one. Call it before the
 * change is written (lk_define_cluster_settings); nothing when the tunables do not change. */
void lk_tunwatch_overwriting(struct lk_node *node, const char *next_text, const char *by);
