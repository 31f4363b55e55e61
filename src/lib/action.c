/* Names of the script actions. Owns the one table that maps enum lk_action to the words
 * used in paths, the environment (LK_ACTION) and the command line. */
#include "action.h"

#include <string.h>

static const char *const action_names[LK_ACTION_COUNT] = {
        [LK_ACTION_RESTORE] = "restore",   [LK_ACTION_REMOVE] = "remove",
        [LK_ACTION_QUICKCHK] = "quickchk", [LK_ACTION_DEEPCHK] = "deepchk",
        [LK_ACTION_RECOVER] = "recover",
};

const char *lk_action_name(enum lk_action action)
{
    if (action < 0 || action >= LK_ACTION_COUNT) {
        return NULL;
    }
    return action_names[action];
}

enum lk_action lk_action_from_name(const char *name)
{
    if (!name) {
        return LK_ACTION_NONE;
    }
    for (int i = 0; i < LK_ACTION_COUNT; i++) {
        if (strcmp(name, action_names[i]) == 0) {
            return (enum lk_action) i;
        }
    }
    return LK_ACTION_NONE;
}

bool lk_action_required(enum lk_action action)
{
    return action == LK_ACTION_RESTORE || action == LK_ACTION_REMOVE;
}
