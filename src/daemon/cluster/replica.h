/* Cluster data (SPEC §5, issue #5 item 4): resource definitions as versioned objects that
 * every node where the resource is extended holds the same copy of.
 *
 * One object per resource tag:
 *   {"tag":"app1",
 *    "version":[12,"node1"],           Lamport counter, and the node that wrote it
 *    "deleted":false,                  true: a tombstone (the resource was deleted)
 *    "resource":{...},                 lk_proto_resource_json without the state fields
 *    "scripts":{"restore":"<base64>",…},  the script copies' contents
 *    "children":["db1","ip1"],          its dependencies (this resource is the parent)
 *    "nodes":{"node1":1,"node2":10}}    where it is extended, with priorities (1 = best)
 * A change anywhere (create, config, update-script, dependency, extend, unextend, delete)
 * writes a new version (counter = the largest counter this node has seen + 1) in the same
 * transaction as the change itself. A received object replaces the local one only when
 * its version is newer: (counter, node) compared in that order, so two nodes that changed
 * the same resource during a partition both end with the same winner when it heals —
 * the whole object of the later write (last writer wins per resource; docs/REPLICATION.md).
 *
 * Versions are stamped, and received objects written, by the definitions writer
 * (define.h); this file builds, compares, parses and validates the objects.
 *
 * Objects travel to every node in "nodes" of the new and of the previous version, so an
 * unextended node learns it and drops its copy. Deletes leave a tombstone (tag, version)
 * so a node that was away cannot bring the resource back.
 *
 * The coordinator (cluster.c) moves the objects; this file builds and applies them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "define.h"
#include "node.h"

/* The largest counter accepted from anywhere: far beyond any clock (2^62 ms is 146
 * million years), far below the integer limit, so that no received version can pin a
 * node's clock at a value it cannot count past. */
#define LK_VERSION_MAX (UINT64_C(1) << 62)

/* <0, 0, >0 as a is older than, equal to, newer than b. */
int lk_version_cmp(const struct lk_version *a, const struct lk_version *b);

/* Parses [counter, "node"]; -EINVAL when it is not that. */
int lk_version_parse(const json_t *json, struct lk_version *ret_version);
json_t *lk_version_json(const struct lk_version *version);

/* The object for tag (live or tombstone) as above; NULL when this node has neither, when
 * it is a tombstone that does not name this node (this node only dropped its copy), when
 * the resource was never stamped, or on ENOMEM. Reads the definition from the store
 * (extended here or not), the scripts from the copies on disk, children from node->deps. */
json_t *lk_replica_object(struct lk_node *node, const char *tag);

/* A resource's definition as the replication object carries it: lk_proto_resource_json
 * without the fields that are one node's state (NULL when out of memory). */
json_t *lk_replica_definition_json(const struct lk_resource *res);

/* {"tag":[counter,"node"], …} for every object this node knows, tombstones included (a
 * superset of those that concern peer: an entry peer does not need only stops it from
 * sending something older). A new reference; NULL on a store error or ENOMEM. */
json_t *lk_replica_summary(struct lk_node *node, const char *peer);

/* The tags of objects this node should send to peer given the peer's summary: those the
 * peer lacks or holds older, and that concern it (peer is in their nodes now or was in
 * the version the peer holds). Ordered children before parents, so dependencies can be
 * applied on arrival. A new reference (array of strings). */
json_t *lk_replica_newer_for(struct lk_node *node, const char *peer, const json_t *peer_summary);

/* The order in which tags' objects travel: children before their parent (node->deps),
 * each parent's children in the order of the dependency list; tags not linked to one
 * another keep their order. Returns count indexes into tags (caller frees), or NULL on
 * ENOMEM. O(count + dependencies). */
size_t *lk_replica_order(const struct lk_node *node, const char *const *tags, size_t count);

enum lk_replica_outcome {
    LK_REPLICA_IGNORED, /* not newer than ours: nothing changed */
    LK_REPLICA_APPLIED, /* created or changed here */
    LK_REPLICA_DROPPED, /* deleted here, or unextended from this node */
};

/* Applies an object received from peer: validates every field (a bad object changes
 * nothing and returns -EINVAL with a one-line reason), compares versions, and when newer
 * hands it to the definitions writer (define.h: scripts, rows in one transaction, view,
 * "definitions changed"). A resource
 * in service here is never dropped by a received delete or unextend: -EBUSY (the sender
 * refuses those while it is in service anywhere; a partition can still cross them, see
 * docs/REPLICATION.md). Always advances the Lamport clock past the object's counter. */
int lk_replica_apply(struct lk_node *node, const char *peer, const json_t *object,
                     enum lk_replica_outcome *ret_outcome, char *err, size_t err_size);

/* The checks of lk_replica_apply alone, with nothing read or written (also the entry
 * point of tests/fuzz/fuzz_replica.c): parses and validates object as received from peer
 * into *ret_parsed, whose nodes and children borrow from object. Returns 0 (free it with
 * lk_replica_parsed_free), or -EINVAL / -ENOMEM with a one-line reason (nothing to free). */
int lk_replica_parse(const struct lk_node *node, const char *peer, const json_t *object,
                     struct lk_definition *ret_parsed, char *err, size_t err_size);
void lk_replica_parsed_free(struct lk_definition *parsed);

/* The nodes and priorities tag is extended to, from the store (this node included).
 * *ret_count entries in names/priorities, best priority first; at most max. */
size_t lk_replica_nodes(struct lk_node *node, const char *tag, char (*names)[LK_TAG_MAX + 1],
                        uint32_t *priorities, size_t max);
