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
json_t *lk_incident_local(struct lk_node *node, const char *tag, size_t limit,
                          const struct lk_event_filter *filter);

/* The optional filters of a `log` command or an "events?" message: "severity" ("ERROR",
 * "WARNING" or "INFO"), "number" (0..999999999), "before" (time_ms > 0), "node" (a node
 * name). Sets *ret (LK_EVENT_FILTER_NONE for the absent ones); a bad one: -EINVAL and a
 * one-line err. lk_incident_filter_put adds the set ones to a message. */
int lk_incident_filter_parse(const json_t *obj, struct lk_event_filter *ret, char *err,
                             size_t err_size);
void lk_incident_filter_put(json_t *msg, const struct lk_event_filter *filter);

/* Asks the live peers (those tag's hierarchy is extended to; every peer for tag NULL) for
 * their records passing filter (NULL: all), at most limit each (capped at
 * LK_INCIDENT_EVENTS_MAX); a peer of an older release ignores the filter. Returns 1 when
 * the gather started: cb fires once, from the loop, when every peer answered or after
 * LK_INCIDENT_ANSWER_MS; *ret_gather is set. Returns 0 when there is no peer to ask (cb
 * never fires), or a negative errno. */
int lk_incident_gather(struct lk_cluster *cl, const char *tag, size_t limit,
                       const struct lk_event_filter *filter, lk_gather_cb cb, void *userdata,
                       struct lk_gather **ret_gather);

/* Forgets a gather that has not ended: its callback never fires. */
void lk_incident_cancel(struct lk_gather *gather);

/* A peer's "events?" request and "events" reply (cluster.c's message switch): checked,
 * a bad one logged as 1642 and dropped. */
void lk_incident_on_request(struct lk_cluster *cl, const char *from, const json_t *msg);
void lk_incident_on_reply(struct lk_cluster *cl, const char *from, const json_t *msg);
