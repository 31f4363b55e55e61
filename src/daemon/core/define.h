/* Definitions: the one writer of what a resource *is* — its row and settings, its script
 * copies, its dependencies, where it is extended — whether the change is a local command
 * (api.c, api_cluster.c) or an object received from a peer (replica.c). Each change is
 * one transaction that also stamps the resource's new version (docs/REPLICATION.md);
 * then the in-memory view follows, and "definitions changed" is published on the bus
 * (the checks follow from there). Callers validate their input first; nothing here
 * decides where anything runs, and states are the executor's.
 *
 * Errors: -EEXIST (a taken tag or id, with err), -EIO (the database, with err), -ENOMEM,
 * -EBUSY (a received drop of a resource busy or in service here, with err), -EROFS (a
 * local change while the node database is not writable, catchup.h: "the node database is
 * not writable: <why>" in err, nothing changed). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"
#include "params.h"

/* A version: Lamport counter and the node that wrote it (replica.h compares them). */
struct lk_version {
    uint64_t counter;
    char node[LK_TAG_MAX + 1];
};

/* The counter of a new local version given the clock (the largest counter seen): the
 * larger of clock + 1 and the wall-clock milliseconds (a hybrid logical clock, see
 * docs/REPLICATION.md). */
uint64_t lk_version_next(uint64_t clock);

/* Stamps tag with a new version written by this node. Call it inside the transaction
 * that makes the change (after the change). Also works for a tag that was just deleted
 * (writes its tombstone, naming the nodes node->extends still lists for it). A resource
 * is replicated only once stamped. Returns 0 or -EIO. */
int lk_define_touch(struct lk_node *node, const char *tag);
/* The same for a tag deleted from the store (after lk_store_delete), whose tombstone names
 * nodes ({"node1":1,…}, the extends it had; borrowed) rather than node->extends. */
int lk_define_touch_deleted(struct lk_node *node, const char *tag, const json_t *nodes);

/* Decodes a base64 script and checks it as every script is checked (size, content).
 * 0 with a malloc'ed *ret (the caller frees it) and *ret_len; -EINVAL or -ENOMEM with a
 * one-line reason in err. */
int lk_define_decode_script(const char *b64, unsigned char **ret, size_t *ret_len, char *err,
                            size_t err_size);

/* One helper file a definition carries (validated name, content of len bytes). */
struct lk_helper_file {
    char name[LK_HELPER_NAME_MAX + 1];
    unsigned char *data; /* heap */
    size_t len;
};

/* What a definition carries besides its row: script contents, parameters, helper files.
 * Written as files before the transaction that stamps the version, in the same step. */
struct lk_define_files {
    unsigned char *content[LK_ACTION_COUNT]; /* heap; NULL: no script (or unchanged) */
    size_t len[LK_ACTION_COUNT];
    bool has_params; /* params is what the parameters become (else they are unchanged) */
    struct lk_params params;
    struct lk_helper_file *helpers; /* heap; at create and from a peer the whole set, in an
                                     * update those added or replaced */
    size_t helper_count;
};

/* Frees what files holds; files is empty afterwards. */
void lk_define_files_free(struct lk_define_files *files);

/* Decodes {name: base64} (a user's or a peer's) into files->helpers, adding to those it
 * holds: every name checked (lk_params_check_helper_name, none twice), each file at most
 * LK_SCRIPT_MAX_SIZE and not empty, at most LK_HELPERS_MAX files and LK_HELPERS_TOTAL_MAX
 * bytes together. NULL helpers is none. 0, or -EINVAL / -ENOMEM with a one-line reason. */
int lk_define_decode_helpers(json_t *helpers, struct lk_define_files *files, char *err,
                             size_t err_size);

/* ---- Local changes ---- */

/* Creates res (taken on success, freed on failure) with its files (borrowed: scripts for
 * each action it has, parameters, helper files): its settings checked as a whole
 * (lk_settings_check), files first, then the row and its version, then the view
 * (extended to this node with priority 1). */
int lk_define_create(struct lk_node *node, struct lk_resource *res,
                     const struct lk_define_files *files, char *err, size_t err_size);

/* Changes tag's files in one version step (files borrowed): the scripts it holds
 * (installed, and recorded as actions the resource has), the helper files it holds (added
 * or replaced; the others stay, all of them together at most LK_HELPERS_MAX files and
 * LK_HELPERS_TOTAL_MAX bytes), its parameters when has_params. -EINVAL with err when the
 * helpers would exceed the bounds (nothing changed). */
int lk_define_files(struct lk_node *node, const char *tag, const struct lk_define_files *files,
                    char *err, size_t err_size);

/* Deletes the count tags (children before parents in tags[count-1..0] order: all or
 * nothing, in one transaction), leaving tombstones that name the nodes each was extended
 * to; then drops them from the view and their script copies. */
int lk_define_delete(struct lk_node *node, char (*tags)[LK_TAG_MAX + 1], size_t count, char *err,
                     size_t err_size);

/* Adds (add) or drops the dependency parent → child; the parent's version changes. */
int lk_define_dep(struct lk_node *node, const char *parent, const char *child, bool add, char *err,
                  size_t err_size);

/* Installs tag's script for action (content borrowed) and records that it has one. */
int lk_define_script(struct lk_node *node, const char *tag, enum lk_action action,
                     const unsigned char *content, size_t len, char *err, size_t err_size);

/* Writes tag's settings (refused, -EINVAL, when lk_settings_check refuses them as a whole)
 * and info (NULL: unchanged). */
int lk_define_settings(struct lk_node *node, const char *tag, const struct lk_settings *settings,
                       const char *info, char *err, size_t err_size);

/* Writes (or, with priority 0, drops) the extends of the n tags on peer, in one
 * transaction. */
int lk_define_extends(struct lk_node *node, char (*tags)[LK_TAG_MAX + 1], size_t n,
                      const char *peer, uint32_t priority, char *err, size_t err_size);

/* Writes the cluster settings (validated by the caller) to lk.conf atomically (the
 * tunables, when they changed, first to their own file, io/tunfile.h) and into node->config, with
 * their version: a new one by this node when version_node is NULL (a local command), else the
 * peer's (version_counter, version_node), which the clock then passes. The caller applies them live
 * (lk_cluster_reconfigure). 0, or -EIO with err. */
int lk_define_cluster_settings(struct lk_node *node, const struct lk_cluster_settings *settings,
                               const char *version_node, uint64_t version_counter, char *err,
                               size_t err_size);

/* ---- Changes received from a peer (replica.c parses and validates them) ---- */

/* A received definition object, parsed (replica.c owns it). */
struct lk_definition {
    char tag[LK_TAG_MAX + 1];
    struct lk_version version;
    bool deleted;
    bool here;                    /* its nodes name this node */
    json_t *nodes;                /* borrowed from the object */
    json_t *children;             /* borrowed; live objects only */
    struct lk_resource *res;      /* live objects only */
    struct lk_define_files files; /* live objects only: scripts, parameters, every helper */
};

/* A delete, or an unextend from this node, newer than ours: drops the copy and keeps a
 * tombstone. exists: this node has the resource's rows. -EBUSY when it is busy or in
 * service here (nothing changes but the clock). */
int lk_define_received_drop(struct lk_node *node, const char *peer, const struct lk_definition *d,
                            bool exists, char *err, size_t err_size);

/* A created or changed resource, newer than ours: script copies, parameters and helper files
 * (those it no longer carries removed), rows, version, view. */
int lk_define_received_live(struct lk_node *node, const char *peer, const struct lk_definition *d,
                            bool exists, char *err, size_t err_size);
