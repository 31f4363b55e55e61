/* The decision log as data: one JSON object per decision of either decider, holding its
 * inputs (the view and the event) and its output (the formatted acts), so that a real
 * incident's decision can be read back and decided again (a golden case, tests/golden/).
 *
 *   {"engine":"resource"|"placement","view":{…},"event":{…},"acts":["<act>",…]}
 *
 * The resource engine's view is written whole (every resource with what the engine reads,
 * the dependencies, the node, holding); its two callbacks (has_backup, owned_elsewhere)
 * are written as their answers for every tag of the view, and a decoded view answers
 * from that data. Placement's view is plain data already and is written whole.
 *
 * Pure: libc and jansson only. Decoding validates every field; bad input is -EINVAL with
 * a one-line message, and nothing is kept. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "placement.h"

enum lk_decision_kind {
    LK_DECISION_RESOURCE,
    LK_DECISION_PLACEMENT,
};

/* A decoded decision: the inputs, ready to decide again, and the recorded acts. Owns all
 * its memory (release with lk_decision_free). */
struct lk_decision {
    enum lk_decision_kind kind;
    const char *name; /* the golden case's "name" and "why"; NULL when absent */
    const char *why;
    /* LK_DECISION_RESOURCE */
    struct lk_view view;
    struct lk_event event;
    /* LK_DECISION_PLACEMENT */
    struct lk_placement_view pview;
    struct lk_pevent pevent;
    /* The recorded output, one formatted act per line. */
    const char **acts;
    size_t act_count;
    /* Storage behind the pointers above. */
    json_t *root;
    struct lk_resource *res_store;
    struct lk_resource **res_ptrs;
    struct lk_dep *deps;
    const char **backup_tags; /* tags whose has_backup answer is true */
    size_t backup_count;
    const char **elsewhere_tags; /* tags whose owned_elsewhere answer is true */
    size_t elsewhere_count;
    struct lk_ppeer *peers;
    struct lk_pfence *fences;
    struct lk_ptag *ptags;
    void **allocs; /* per-peer arrays */
    size_t alloc_count;
};

/* The JSON object of one resource engine decision (view, event, the plan's acts), or NULL
 * when out of memory. Calls the view's callbacks once per resource to record them. */
json_t *lk_decision_engine_json(const struct lk_view *view, const struct lk_event *event,
                                const struct lk_plan *plan);

/* The JSON object of one placement decision, or NULL when out of memory. */
json_t *lk_decision_placement_json(const struct lk_placement_view *view,
                                   const struct lk_pevent *event, const struct lk_pplan *plan);

/* Decodes one decision object. Returns 0 and *ret_decision (free with lk_decision_free),
 * -EINVAL with a one-line message in err when anything is off (nothing allocated), or
 * -ENOMEM. */
int lk_decision_parse(const json_t *json, struct lk_decision **ret_decision, char *err,
                      size_t err_size);

void lk_decision_free(struct lk_decision *decision);

/* Decides the decoded inputs again. Returns the decider's return value; on 0, *ret_acts
 * holds *ret_count formatted acts (free each, then the array). */
int lk_decision_replay(const struct lk_decision *decision, char ***ret_acts, size_t *ret_count);
