/* The events of the other nodes, for `lkcli log --cluster` and `lkcli resource why`: the
 * "events?" request and "events" reply between nodes (docs/CLUSTER.md), and the local
 * selection of a hierarchy's records that both sides use. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "node.h"

struct lk_cluster;

#define LK_INCIDENT_EVENTS_MAX 200  /* records in one "events" reply */
#define LK_INCIDENT_ANSWER_MS  2000 /* how long a command waits for the peers' replies */
#define LK_INCIDENT_SCAN       500  /* records read per tag for a hierarchy */

struct lk_gather;

/* A gather ended: events holds the peers' records (borrowed for the call, unsorted),
 * missing the peers that gave none: [{"node":…, "why":"no answer" | "not alive"}]. */
typedef void (*lk_gather_cb)(void *userdata, json_t *events, json_t *missing);

/* This node's records of tag's hierarchy (every tag of it, and the node-level events
 * about its nodes: a node dead or alive, quorum, fencing), at most limit, the newest, in
 * time order. With tag NULL, the last limit records of any kind. NULL for ENOMEM or a
 * store error. */
json_t *lk_incident_local(struct lk_node *node, const char *tag, size_t limit);

/* Asks the live peers (those tag's hierarchy is extended to; every peer for tag NULL) for
 * their records, at most limit each (capped at LK_INCIDENT_EVENTS_MAX). Returns 1 when
 * the gather started: cb fires once, from the loop, when every peer answered or after
 * LK_INCIDENT_ANSWER_MS; *ret_gather is set. Returns 0 when there is no peer to ask (cb
 * never fires), or a negative errno. */
int lk_incident_gather(struct lk_cluster *cl, const char *tag, size_t limit, lk_gather_cb cb,
                       void *userdata, struct lk_gather **ret_gather);

/* Forgets a gather that has not ended: its callback never fires. */
void lk_incident_cancel(struct lk_gather *gather);

/* A peer's "events?" request and "events" reply (cluster.c's message switch): checked,
 * a bad one logged as 1642 and dropped. */
void lk_incident_on_request(struct lk_cluster *cl, const char *from, const json_t *msg);
void lk_incident_on_reply(struct lk_cluster *cl, const char *from, const json_t *msg);
