/* The metrics command (guest): this node's figures in the Prometheus text exposition
 * format 0.0.4 (lib/metrics.h), as {"text": ...}; lkweb serves it at /metrics and
 * `lkcli metrics` prints it (docs/METRICS.md lists every metric).
 *
 * A request enters with no arguments. The states are read from this node's own view in
 * one loop turn (the resources, the cluster's status as `node list` shows it, the
 * ownership records for the failover budget, the loop and the socket), the totals from
 * core/counters.h. It asks no peer anything, so it answers when every peer is gone, and
 * it changes nothing. Its cost is linear in the resources, in one turn: about 14 ms of
 * lkd's CPU at 5,000 (docs/METRICS.md, "Cost"; counters.h bounds the histograms). */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "cluster.h"
#include "cluster_internal.h"
#include "counters.h"
#include "loopwatch.h"
#include "metrics.h"
#include "ownership.h"
#include "proto.h"
#include "socket.h"

static void family(struct lk_metrics *m, const char *name, enum lk_metric_type type,
                   const char *help)
{
    (void) lk_metrics_family(m, name, type, help);
}

static void sample1(struct lk_metrics *m, const char *k, const char *v, double value)
{
    const char *const l[] = {k, v};
    (void) lk_metrics_sample(m, l, 1, value);
}

static void sample2(struct lk_metrics *m, const char *k1, const char *v1, const char *k2,
                    const char *v2, double value)
{
    const char *const l[] = {k1, v1, k2, v2};
    (void) lk_metrics_sample(m, l, 2, value);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void write_daemon(struct lk_api *api, struct lk_metrics *m)
{
    struct lk_node *node = api->node;
    family(m, "openkeeper_build_info", LK_METRIC_GAUGE,
           "Always 1: the software version of this node's lkd and the node's name.");
    sample2(m, "version", LK_SOFTWARE_VERSION, "node", node->name, 1);
    family(m, "openkeeper_start_time_seconds", LK_METRIC_GAUGE,
           "When this lkd started, in seconds since the epoch (the counters count from here).");
    (void) lk_metrics_sample(m, NULL, 0, (double) lk_counters_start_ms(node->counters) / 1000.0);
    const struct lk_loopwatch *w = node->loopwatch;
    family(m, "openkeeper_loop_worst_turn_seconds", LK_METRIC_GAUGE,
           "The longest turn of lkd's loop since it started (heartbeats wait behind it).");
    (void) lk_metrics_sample(m, NULL, 0, w ? (double) w->max_ns / 1e9 : 0);
    family(m, "openkeeper_loop_stalls_total", LK_METRIC_COUNTER,
           "Turns of lkd's loop over 20 ms since it started.");
    (void) lk_metrics_sample(m, NULL, 0, w ? (double) w->stalls : 0);
    json_t *sock = lk_socket_status_json(api->socket);
    family(m, "openkeeper_socket_clients", LK_METRIC_GAUGE,
           "Clients connected to lkd's command socket now (this scrape's included).");
    (void) lk_metrics_sample(m, NULL, 0,
                             (double) json_integer_value(json_object_get(sock, "connections")));
    json_decref(sock);
}

/* Nodes, comm paths, witness and quorum, from the cluster's status (`node list`). */
static void write_cluster(struct lk_api *api, struct lk_metrics *m)
{
    json_t *st = lk_cluster_status_json(api->cluster);
    json_t *nodes = json_object_get(st, "nodes");
    json_t *peers = json_object_get(st, "peers");
    size_t i, j;
    json_t *n, *p, *path;

    family(m, "openkeeper_node_up", LK_METRIC_GAUGE,
           "1 when this node sees the node ALIVE, 0 when DEAD (this node itself: 1).");
    json_array_foreach(nodes, i, n)
    {
        sample1(m, "node", str(n, "name"), strcmp(str(n, "state"), "ALIVE") == 0);
    }
    family(m, "openkeeper_node_synced", LK_METRIC_GAUGE,
           "1 when placement acts with the node: its data, states and view of the members "
           "arrived since it came (back); 0 while pending.");
    json_array_foreach(nodes, i, n)
    {
        sample1(m, "node", str(n, "name"), json_is_true(json_object_get(n, "synced")));
    }
    family(m, "openkeeper_witness_up", LK_METRIC_GAUGE,
           "1 when the cluster's witness is ALIVE for this node, 0 when not (no series "
           "without a witness); labelled by its name, or its address before it was heard.");
    json_array_foreach(peers, i, p)
    {
        if (json_is_true(json_object_get(p, "witness"))) {
            const char *name = str(p, "name");
            sample1(m, "witness", name[0] ? name : str(p, "address"),
                    strcmp(str(p, "state"), "ALIVE") == 0);
        }
    }
    family(m, "openkeeper_commpath_up", LK_METRIC_GAUGE,
           "1 when the configured comm path (this node connects out) is ALIVE, else 0.");
    json_array_foreach(peers, i, p)
    {
        const char *name = str(p, "name");
        json_array_foreach(json_object_get(p, "paths"), j, path)
        {
            if (name[0] && strcmp(str(path, "direction"), "out") == 0) {
                sample2(m, "peer", name, "address", str(path, "address"),
                        strcmp(str(path, "state"), "ALIVE") == 0);
            }
        }
    }
    family(m, "openkeeper_commpath_frames_dropped_total", LK_METRIC_COUNTER,
           "Frames dropped from a peer since lkd started, by reason: malformed, oversized, "
           "unauthenticated, replayed, other; from a source that never said who it is: "
           "peer=\"\" and its address as source.");
    json_array_foreach(peers, i, p)
    {
        const char *name = str(p, "name");
        const char *address = str(p, "address");
        const char *reason;
        json_t *count;
        /* The witness's path before it was heard has no name and counts nothing. */
        if (!name[0] && json_is_true(json_object_get(p, "witness"))) {
            continue;
        }
        json_object_foreach(json_object_get(p, "dropped"), reason, count)
        {
            const char *const l[] = {"peer", name, "reason", reason, "source", address};
            (void) lk_metrics_sample(m, l, name[0] ? 2 : 3, (double) json_integer_value(count));
        }
    }

    json_t *q = json_object_get(st, "quorum");
    const char *mode = str(q, "mode");
    unsigned voters = (unsigned) json_integer_value(json_object_get(q, "voters"));
    family(m, "openkeeper_quorum", LK_METRIC_GAUGE,
           "1 when this node has quorum (always with mode none), 0 when it lost it.");
    sample1(m, "mode", mode, json_is_true(json_object_get(q, "quorate")));
    family(m, "openkeeper_quorum_votes", LK_METRIC_GAUGE, "The votes this node counts now.");
    (void) lk_metrics_sample(m, NULL, 0, (double) json_integer_value(json_object_get(q, "votes")));
    family(m, "openkeeper_quorum_voters", LK_METRIC_GAUGE,
           "The voters of the cluster (the nodes, and the witness when there is one).");
    (void) lk_metrics_sample(m, NULL, 0, voters);
    family(m, "openkeeper_quorum_votes_needed", LK_METRIC_GAUGE,
           "The votes quorum needs (a majority of the voters; 0 with mode none).");
    (void) lk_metrics_sample(m, NULL, 0, strcmp(mode, "none") == 0 ? 0 : voters / 2 + 1);
    json_decref(st);
}

/* States, busy, and the failover budget of each clustered hierarchy. */
static void write_resources(struct lk_api *api, struct lk_metrics *m)
{
    struct lk_node *node = api->node;
    family(m, "openkeeper_resource_state", LK_METRIC_GAUGE,
           "1 for the resource's state on this node (ISP in service protected, ISU in service "
           "unprotected, OSU out of service, OSF out of service failed), 0 for the others.");
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        for (int s = 0; s < LK_STATE_COUNT; s++) {
            sample2(m, "tag", res->tag, "state", lk_state_name((enum lk_state) s),
                    res->state == (enum lk_state) s);
        }
    }
    family(m, "openkeeper_resource_busy", LK_METRIC_GAUGE,
           "1 while an action of the resource is pending or running on this node.");
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *res = node->resources[i];
        sample1(m, "tag", res->tag, res->pending != LK_PENDING_NONE);
    }
    family(m, "openkeeper_failover_budget_remaining", LK_METRIC_GAUGE,
           "Failovers the hierarchy (named by its top resource) may still make within the "
           "failover window before the next failure leaves it out of service.");
    if (node->witness) {
        return;
    }
    const struct lk_cluster_settings *s = &node->config.cluster;
    uint32_t max = lk_owner_max_failovers(s->max_failovers, 1 + node->config.peer_count);
    int64_t now_ms = lk_now_ms();
    for (size_t i = 0; i < node->count; i++) {
        const char *tag = node->resources[i]->tag;
        if (lk_node_has_parents(node, tag) || !lk_cluster_is_clustered(node, tag)) {
            continue;
        }
        const struct lk_owner_rec *rec = lk_owner_get(api->cluster, tag);
        size_t used =
                rec ? lk_owner_failovers_within(rec, now_ms, (uint64_t) s->failover_window_s * 1000)
                    : 0;
        sample1(m, "hierarchy", tag, used >= max ? 0 : (double) (max - used));
    }
}

static void h_metrics(struct conn *c, const json_t *args)
{
    (void) args;
    struct lk_metrics m;
    lk_metrics_init(&m);
    write_daemon(c->api, &m);
    write_cluster(c->api, &m);
    write_resources(c->api, &m);
    (void) lk_counters_write(c->api->node->counters, &m);
    size_t len = 0;
    char *text = lk_metrics_take(&m, &len);
    lk_metrics_done(&m);
    if (!text) {
        api_reply_error(c, LK_EXIT_FAILED, "cannot build the metrics: out of memory");
        return;
    }
    json_t *data = json_object();
    json_t *t = json_stringn(text, len);
    free(text);
    if (!data || !t || json_object_set_new(data, "text", t) < 0) {
        json_decref(data);
        api_reply_error(c, LK_EXIT_FAILED, "cannot build the metrics: out of memory");
        return;
    }
    api_reply_ok(c, data);
}

const struct route lk_api_metrics_routes[] = {
        {LK_CMD_METRICS, LK_ROLE_GUEST, h_metrics},
        {NULL, LK_ROLE_GUEST, NULL},
};
