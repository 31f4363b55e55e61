/* The ownership state this node acts on (owners.h): the ownership entries sorted by tag,
 * the fence runs, the switchovers and removes in progress, as plain arrays that live as
 * long as lkd (main.c's).
 *
 * Nothing enters but calls: the initial load from the store (the cluster, at its start),
 * then the executor's changes after its store writes; the cluster reads the arrays.
 * It never writes the store, talks to no peer, publishes nothing and decides nothing. */
#include "owners.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct lk_owner_entry *) a)->tag,
                  ((const struct lk_owner_entry *) b)->tag);
}

struct lk_owner_entry *lk_owners_find(struct lk_owners *o, const char *tag)
{
    if (o->count == 0) {
        return NULL; /* bsearch wants a non-null array */
    }
    struct lk_owner_entry key;
    snprintf(key.tag, sizeof(key.tag), "%s", tag);
    return bsearch(&key, o->entries, o->count, sizeof(*o->entries), cmp_entry);
}

struct lk_owner_entry *lk_owners_add(struct lk_owners *o, const char *tag)
{
    struct lk_owner_entry *e = lk_owners_find(o, tag);
    if (e) {
        return e;
    }
    struct lk_owner_entry *bigger = realloc(o->entries, (o->count + 1) * sizeof(*bigger));
    if (!bigger) {
        return NULL;
    }
    o->entries = bigger;
    e = &o->entries[o->count++];
    memset(e, 0, sizeof(*e));
    snprintf(e->tag, sizeof(e->tag), "%s", tag);
    qsort(o->entries, o->count, sizeof(*o->entries), cmp_entry);
    return lk_owners_find(o, tag);
}

static void load_one(const char *tag, const char *json_text, void *userdata)
{
    struct lk_owners *o = userdata;
    json_t *json = json_loads(json_text, 0, NULL);
    struct lk_owner_rec rec;
    if (json && lk_owner_parse(json, &rec) == 0) {
        struct lk_owner_entry *e = lk_owners_add(o, tag);
        if (e) {
            e->rec = rec;
        }
    } else {
        fprintf(stderr, "lkd: ignoring a malformed ownership record of '%s'\n", tag);
    }
    json_decref(json);
}

int lk_owners_load(struct lk_owners *o, struct lk_store *store)
{
    return lk_store_each_owner(store, load_one, o);
}

struct lk_fence_run *lk_owners_fence(struct lk_owners *o, const char *node)
{
    for (size_t i = 0; i < o->fence_count; i++) {
        if (strcmp(o->fences[i].node, node) == 0) {
            return &o->fences[i];
        }
    }
    struct lk_fence_run *bigger = realloc(o->fences, (o->fence_count + 1) * sizeof(*bigger));
    if (!bigger) {
        return NULL;
    }
    o->fences = bigger;
    struct lk_fence_run *f = &o->fences[o->fence_count++];
    memset(f, 0, sizeof(*f));
    snprintf(f->node, sizeof(f->node), "%s", node);
    return f;
}
