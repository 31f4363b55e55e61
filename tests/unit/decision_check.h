/* For the table tests of both deciders (test_engine.c, test_placement.c): every case's
 * decision, written as the daemon's decision log writes it (src/lib/decision.h), read
 * back and decided again, must give the same acts: decode(encode(x)) decides like x. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"

/* json: the encoded decision (consumed); its "acts" are what the case decided. Prints why
 * and returns false when the text does not decode or the replay differs. */
static inline bool lk_test_replays_alike(json_t *json, const char *name)
{
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    json_t *back = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    struct lk_decision *dc = NULL;
    char err[512] = "cannot encode";
    int r = back ? lk_decision_parse(back, &dc, err, sizeof(err)) : -EINVAL;
    json_decref(back);
    if (r < 0) {
        printf("case '%s': its decision log does not decode: %s\n", name, err);
        return false;
    }
    char **acts = NULL;
    size_t count = 0;
    r = lk_decision_replay(dc, &acts, &count);
    bool same = r == 0 && count == dc->act_count;
    for (size_t i = 0; same && i < count; i++) {
        same = strcmp(acts[i], dc->acts[i]) == 0;
    }
    if (!same) {
        printf("case '%s': replayed from its decision log, it decides otherwise (%d)\n", name, r);
        for (size_t i = 0; i < dc->act_count; i++) {
            printf("  logged:   %s\n", dc->acts[i]);
        }
        for (size_t i = 0; r == 0 && i < count; i++) {
            printf("  replayed: %s\n", acts[i]);
        }
    }
    for (size_t i = 0; r == 0 && i < count; i++) {
        free(acts[i]);
    }
    free(acts);
    lk_decision_free(dc);
    return same;
}
