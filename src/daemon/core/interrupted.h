/* Runs cut short by lkd's own death: a note per running action, and the wait for a run
 * that outlived the daemon before the next start-up acts (interrupted.c). */
#pragma once

#include <stddef.h>

#include "action.h"
#include "node.h"

/* Notes that pid runs action for tag (run/actions/<tag>); replaces an older note. */
void lk_interrupted_note(const char *root, const char *tag, enum lk_action action, int pid);

/* The run's end was seen: the note goes. */
void lk_interrupted_clear(const char *root, const char *tag);

/* Finds the runs an earlier lkd left running and waits for each on the loop (until it
 * exits, or its action's timeout, then kills it). Returns how many it waits for; when that
 * is more than 0, cb(node) is called once from the loop after the last one ended. */
typedef void (*lk_interrupted_done_cb)(struct lk_node *node);
size_t lk_interrupted_wait(struct lk_node *node, lk_interrupted_done_cb cb);
