/* The five script actions of a gen/app resource (SPEC §3) and their names.
 * Pure data: no I/O. */
#pragma once

#include <stdbool.h>

enum lk_action {
    LK_ACTION_RESTORE,
    LK_ACTION_REMOVE,
    LK_ACTION_QUICKCHK,
    LK_ACTION_DEEPCHK,
    LK_ACTION_RECOVER,
    LK_ACTION_COUNT,
    LK_ACTION_NONE = -1,
};

/* The action's name as scripts and users see it ("restore"…); NULL when out of range. */
const char *lk_action_name(enum lk_action action);

/* Parses a name; returns LK_ACTION_NONE for an unknown one. */
enum lk_action lk_action_from_name(const char *name);

/* Whether the action must exist for every resource (restore, remove). */
bool lk_action_required(enum lk_action action);
