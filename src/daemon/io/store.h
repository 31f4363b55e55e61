/* The node database: the only code that calls sqlite3_*. Schema, migrations,
 * transactions. SQLite in WAL mode with foreign keys; synchronous=FULL so that a commit
 * that returned is on disk before the daemon acts on it.
 *
 * Owner: the daemon (struct lk_node) owns the one struct lk_store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "engine.h"
#include "resource.h"

#define LK_DB_NAME                  "db/lk.db"
/* Events kept in the database: the newest LK_EVENTS_KEPT_PER_SEVERITY of each severity
 * (older ones are dropped), so at most LK_EVENTS_KEPT in all. */
#define LK_EVENTS_KEPT_PER_SEVERITY 10000
#define LK_EVENTS_KEPT              (LK_SEV_COUNT * LK_EVENTS_KEPT_PER_SEVERITY)
#define LK_RUNS_KEPT                20 /* script runs kept per resource in the action log */

struct lk_store;

struct lk_event_record {
    int64_t seq;
    int64_t time_ms; /* UTC, milliseconds since the epoch */
    char node[LK_TAG_MAX + 1];
    enum lk_severity severity;
    int number;
    char tag[LK_TAG_MAX + 1];
    char process[64]; /* who wrote it: "lkd" or the -p of lk_err */
    char message[1024];
    char detail[4200]; /* e.g. the tail of a failed script's output */
};

struct lk_run_record {
    char tag[LK_TAG_MAX + 1];
    char action[16];
    int64_t start_ms;
    int64_t duration_ms;
    char outcome[16];
    int exit_status;
    int term_signal;
    char description[320];
    const char *output; /* borrowed */
    size_t output_len;
};

/* Opens (creating it if the file does not exist) and migrates the database at path.
 * An existing file that is not a valid OpenKeeper database is never written: the error
 * is returned with a one-line message in err. Returns 0 or a negative errno. */
int lk_store_open(const char *path, struct lk_store **ret_store, char *err, size_t err_size);
struct lk_store *lk_store_close(struct lk_store *store);

/* The last SQLite error message, for logging. */
const char *lk_store_errmsg(const struct lk_store *store);

int lk_store_begin(struct lk_store *store);
int lk_store_commit(struct lk_store *store);
/* Rolls back the open transaction, if SQLite has not done so itself (it may, on a full
 * disk or an I/O error); the failure that led here stays in lk_store_why. */
void lk_store_rollback(struct lk_store *store);

/* Why the last write failed (kept across the rollback that followed it); SQLite's current
 * message when no failure is kept. A commit that succeeds forgets the failure. */
const char *lk_store_why(const struct lk_store *store);
/* Whether the last failed write failed because of the disk, not of the data: full (or
 * over quota), an I/O error, a read-only file or directory, a file that cannot be opened.
 * Then the node goes on from memory (core/catchup.h). _full: the disk is full. */
bool lk_store_disk_failed(const struct lk_store *store);
bool lk_store_full(const struct lk_store *store);

/* The reserve: a file of bytes really allocated (posix_fallocate) next to the database,
 * on the same filesystem, freed when the disk is full so that the state table and the
 * event log can still be written. _make creates it at path (through path.tmp, renamed
 * once complete; 0 at once when it exists at its size); _free deletes it. 0 or -errno
 * (-ENOSPC: no room for it). */
int lk_store_reserve_make(const char *path, uint64_t bytes);
int lk_store_reserve_free(const char *path);

/* Loads every resource defined on node, with its settings and this node's state.
 * *ret_resources is a calloc'd array of calloc'd resources (caller frees both). */
int lk_store_load(struct lk_store *store, const char *node, struct lk_resource ***ret_resources,
                  size_t *ret_count);

/* -EEXIST when the tag or the id is taken (err says which). */
int lk_store_insert(struct lk_store *store, const char *node, const struct lk_resource *res,
                    char *err, size_t err_size);
/* Deletes the resource and everything that cascades (states, extends, dependencies, runs);
 * writes no tombstone (lk_replica_touch does). */
int lk_store_delete(struct lk_store *store, const char *tag);
/* Writes res's id, info and settings (-EEXIST when the id belongs to another tag). */
int lk_store_save_settings(struct lk_store *store, const struct lk_resource *res);
int lk_store_save_scripts(struct lk_store *store, const struct lk_resource *res);
int lk_store_save_state(struct lk_store *store, const char *node, const struct lk_resource *res);

/* Appends an event and drops the oldest of each severity beyond
 * LK_EVENTS_KEPT_PER_SEVERITY. Sets record->seq. */
int lk_store_add_event(struct lk_store *store, struct lk_event_record *record);

/* Calls cb for the last n events in time order (n = 0: none). */
typedef void (*lk_store_event_cb)(const struct lk_event_record *record, void *userdata);
int lk_store_last_events(struct lk_store *store, size_t n, const char *tag, lk_store_event_cb cb,
                         void *userdata);

/* Optional filters of the last-events query, applied in SQL (so that only matching rows are
 * read): severity < 0, number < 0, before_ms <= 0 or node "" means no such filter. */
struct lk_event_filter {
    int severity;      /* an enum lk_severity */
    int number;        /* 0..999999999 */
    int64_t before_ms; /* time_ms strictly before */
    char node[LK_TAG_MAX + 1];
};
#define LK_EVENT_FILTER_NONE                                                                       \
    {                                                                                              \
        .severity = -1, .number = -1, .before_ms = 0, .node = ""                                   \
    }

/* Like lk_store_last_events: the last n events that pass filter (NULL: every event). */
int lk_store_last_events_filtered(struct lk_store *store, size_t n, const char *tag,
                                  const struct lk_event_filter *filter, lk_store_event_cb cb,
                                  void *userdata);

int lk_store_add_run(struct lk_store *store, const struct lk_run_record *run);

/* Dependencies (parent depends on child). The array is malloc'd (caller frees). */
int lk_store_load_deps(struct lk_store *store, struct lk_dep **ret_deps, size_t *ret_count);
/* -EEXIST when the pair exists already. */
int lk_store_add_dep(struct lk_store *store, const char *parent, const char *child);
/* -ENOENT when there is no such pair. */
int lk_store_delete_dep(struct lk_store *store, const char *parent, const char *child);

/* ---- Cluster data (migration 3, issue #5) ----
 * extends(tag, node, priority): where each resource is defined; priority 1..1024, unique
 * per tag. A resource is loaded by lk_store_load(node) only when extended to node;
 * lk_store_insert extends it to node with priority 1. Existing databases are migrated by
 * extending every resource to the nodes its states rows name.
 * Each resource row has a version (counter, node) (replica.h); deleted resources leave a
 * tombstone row. meta holds the Lamport clock. ownership(tag, generation, owner,
 * failovers) is the cluster's record of who holds each hierarchy. */

#define LK_PRIORITY_MAX 1024

struct lk_extend {
    char tag[LK_TAG_MAX + 1];
    char node[LK_TAG_MAX + 1];
    uint32_t priority;
};

/* Every extends row, ordered by tag then priority. Caller frees the array. */
int lk_store_load_extends(struct lk_store *store, struct lk_extend **ret, size_t *ret_count);
/* Inserts or updates (tag, node). -EEXIST (nothing written) when another node of tag has
 * that priority. */
int lk_store_set_extend(struct lk_store *store, const char *tag, const char *node,
                        uint32_t priority);
/* -ENOENT when there is no such row. node NULL: every row of tag (0 even when none). */
int lk_store_drop_extend(struct lk_store *store, const char *tag, const char *node);
/* The extends rows of one tag, best priority first. Caller frees the array. */
int lk_store_load_extends_of(struct lk_store *store, const char *tag, struct lk_extend **ret,
                             size_t *ret_count);

/* A resource's version; a deleted resource's tombstone version. -ENOENT when neither. */
int lk_store_get_version(struct lk_store *store, const char *tag, uint64_t *ret_counter,
                         char *ret_node, size_t node_size, bool *ret_deleted);
/* Sets the version of a live resource (-ENOENT if none), or writes/replaces the tombstone
 * of a deleted one (tombstone = true; nodes_json: the nodes it was extended to, as the
 * object's "nodes" text). */
int lk_store_set_version(struct lk_store *store, const char *tag, uint64_t counter,
                         const char *node, bool tombstone, const char *nodes_json);
/* Drops a tombstone (a re-created resource). */
int lk_store_drop_tombstone(struct lk_store *store, const char *tag);
/* The tombstones: tag, version and nodes text. Callback per row. */
typedef void (*lk_store_tombstone_cb)(const char *tag, uint64_t counter, const char *node,
                                      const char *nodes_json, void *userdata);
int lk_store_each_tombstone(struct lk_store *store, lk_store_tombstone_cb cb, void *userdata);
/* Every resource row's tag and version ((0, "") for one never stamped), in tag order,
 * whether or not it is extended to this node. */
typedef void (*lk_store_version_cb)(const char *tag, uint64_t counter, const char *node,
                                    void *userdata);
int lk_store_each_version(struct lk_store *store, lk_store_version_cb cb, void *userdata);

/* The Lamport clock: the largest counter seen or written. */
int lk_store_get_clock(struct lk_store *store, uint64_t *ret_counter);
/* Raises the clock to counter when it is larger. */
int lk_store_see_clock(struct lk_store *store, uint64_t counter);

/* The same rows as the coordinator's record (ownership.h, lk_owner_json) in JSON text:
 * save replaces tag's row (its generation, owner and failovers columns taken from the
 * record's "g", "o" and "f"); each calls cb per row in tag order, the text borrowed for
 * the call. A row that is not a JSON object fails with -EINVAL. */
typedef void (*lk_store_owner_cb)(const char *tag, const char *json_text, void *userdata);
int lk_store_each_owner(struct lk_store *store, lk_store_owner_cb cb, void *userdata);
int lk_store_save_owner(struct lk_store *store, const char *tag, const char *json_text);
/* The states of resources on other nodes are not stored: they arrive with the peers'
 * state messages and live in memory (cluster.c). */

/* Loads one resource row (definition and this node's state, if any) into res; -ENOENT
 * when there is none. For applying a received definition over an existing one. */
int lk_store_load_one(struct lk_store *store, const char *node, const char *tag,
                      struct lk_resource *res);
/* Adds node's state row for res (its state fields) unless there is one already. */
int lk_store_add_state(struct lk_store *store, const char *node, const struct lk_resource *res);
/* Deletes every dependency whose parent is parent (0 even when none). */
int lk_store_drop_children(struct lk_store *store, const char *parent);
