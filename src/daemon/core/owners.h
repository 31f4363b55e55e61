/* The ownership state this node acts on: the in-memory ownership record of every tag
 * (with whether this node acted under it), the fence runs, the switchovers this node
 * started and the operator removes of whole hierarchies in progress.
 *
 * One struct lk_owners per lkd, created by main.c and given to the cluster, which reads
 * it to build placement's view and its status and hands it to the executor
 * (lk_executor_place, lk_executor_save_owner), the only writer after the initial load. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ownership.h"
#include "store.h"

struct lk_owner_entry {
    char tag[LK_TAG_MAX + 1];
    struct lk_owner_rec rec;
    bool acted;        /* this node restored or held the hierarchy under this record */
    uint64_t held_gen; /* the generation under which this node last held it */
};

struct lk_fence_run {
    char node[LK_TAG_MAX + 1];
    bool running;
    bool ok;            /* fenced since it was last seen alive */
    uint64_t failed_at; /* uv_now of the last failure; retry after a pause */
};

struct lk_switch_entry {
    char tag[LK_TAG_MAX + 1]; /* any tag of the hierarchy */
    char to[LK_TAG_MAX + 1];
};

struct lk_owners {
    struct lk_owner_entry *entries; /* one record per tag, sorted by tag */
    size_t count;

    struct lk_switch_entry *switches; /* switchovers in progress from this node */
    size_t switch_count;
    char (*removing)[LK_TAG_MAX + 1]; /* operator removes of whole hierarchies in progress */
    size_t removing_count;

    struct lk_fence_run *fences;
    size_t fence_count;

    /* A batch of records received from a peer (lk_executor_begin_owners): written in one
     * open transaction, copied into entries once it is committed. */
    bool batch, batch_open;
    struct lk_owner_entry *pending;
    size_t pending_count, pending_cap;
};

/* Loads every stored ownership record into o (a malformed one is skipped with a
 * message). 0 or the store's negative errno. */
int lk_owners_load(struct lk_owners *o, struct lk_store *store);

/* tag's entry; NULL when there is none. _add creates it (zeroed) when missing; NULL when
 * out of memory. An _add may move every entry: pointers from before it are stale. */
struct lk_owner_entry *lk_owners_find(struct lk_owners *o, const char *tag);
struct lk_owner_entry *lk_owners_add(struct lk_owners *o, const char *tag);

/* The fence run against node, created when missing; NULL when out of memory. */
struct lk_fence_run *lk_owners_fence(struct lk_owners *o, const char *node);
