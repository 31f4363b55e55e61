/* The cluster coordinator, membership half: the comm paths' callbacks, the peers as this
 * node sees them, quorum (with the witness's vote), the messages between nodes, the
 * cluster data exchange on every new connection, and "settling" — the local start-up
 * waits until this node is up to date with the peers it can reach (SPEC §5: a node that
 * (re)joins receives the definitions before it may restore anything).
 *
 * Messages (JSON objects in MESSAGE frames, field "t"):
 *   sum      {sum}         my data versions; answer with the objects newer for me, then synced
 *   obj      {obj}         one cluster data object (replica.h)
 *   synced   {}            end of the objects sent for a sum
 *   state    {seq,res,own} my resources' states and the ownership records I hold
 *   state?   {}            send me your state (a heartbeat showed I missed one)
 *   settings {settings,ver} the cluster settings, changed by lkcli cluster config
 *   switch   {tag,to}      switch this hierarchy over to node "to" (you hold it)
 *   remove   {tag,whole}   take this out of service (you hold it)
 *   started  {}            I just started: check for orphaned hierarchies once
 *   events?  {id,tag,limit} send me your newest events (of tag's hierarchy) (incident.c)
 *   events   {id,events}   the answer: at most limit records
 * Heartbeats carry {alive:[peers], sseq, vote:[nodes] (witness only)}.
 * Objects received (and the peer's messages after them) and objects to send wait in
 * queues that an idle handle drains a bounded batch per loop turn ("the drain" below): it
 * must never apply or build a whole data set in one turn (docs/CLUSTER.md, "Hardening:
 * applying many definitions"). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "cluster_internal.h"
#include "config.h"
#include "define.h"
#include "eventlog.h"
#include "executor.h"
#include "forward.h"
#include "guard.h"
#include "guardlink.h"
#include "incident.h"
#include "quorum.h"
#include "replica.h"
#include "safeopen.h"
#include "tunwatch.h"

#define TICK_MS 100

/* ---------------------------------------------------------------- peers */

struct peer *lk_cluster_peer(struct lk_cluster *cl, const char *name)
{
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (strcmp(cl->peers[i].name, name) == 0) {
            return &cl->peers[i];
        }
    }
    struct peer *bigger = realloc(cl->peers, (cl->peer_count + 1) * sizeof(*bigger));
    if (!bigger) {
        return NULL;
    }
    cl->peers = bigger;
    struct peer *p = &cl->peers[cl->peer_count++];
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->configured = lk_config_find_peer(&cl->node->config, name) != NULL;
    p->dead_since = uv_now(cl->node->loop);
    return p;
}

static struct peer *find_peer(const struct lk_cluster *cl, const char *name)
{
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (strcmp(cl->peers[i].name, name) == 0) {
            return &cl->peers[i];
        }
    }
    return NULL;
}

uint64_t lk_cluster_dead_ms(const struct lk_cluster *cl)
{
    return lk_cluster_settings_dead_ms(&cl->node->config.cluster);
}

static enum lk_quorum_mode quorum_mode(const struct lk_cluster *cl)
{
    switch (cl->node->config.cluster.quorum) {
    case LK_QUORUM_MAJORITY:
        return LK_QUORUM_MODE_MAJORITY;
    case LK_QUORUM_NONE:
        return LK_QUORUM_MODE_NONE;
    case LK_QUORUM_AUTO:
        break;
    }
    return LK_QUORUM_MODE_UNSET;
}

bool lk_cluster_quorum_mode_none(const struct lk_cluster *cl)
{
    const struct lk_config *config = &cl->node->config;
    size_t voters = 1 + config->peer_count + (config->cluster.witness[0] ? 1 : 0);
    return lk_quorum_mode_none(quorum_mode(cl), (unsigned) voters);
}

static bool json_has_name(const json_t *array, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) {
            return true;
        }
    }
    return false;
}

static size_t json_names(const json_t *array, const char **names)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
    {
        names[i] = json_string_value(v); /* NULL for a non-string: never matches */
    }
    return json_is_array(array) ? json_array_size(array) : 0;
}

static bool configured(const struct lk_config *config, const char *name)
{
    for (size_t i = 0; i < config->peer_count; i++) {
        if (strcmp(config->peers[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* What quorum.c needs to know, as plain data borrowed from cl (valid until the peers
 * change): *ret_block holds every array of it, freed by the caller. -ENOMEM. */
static int quorum_view(const struct lk_cluster *cl, struct lk_quorum_view *ret_view,
                       void **ret_block)
{
    const struct lk_config *config = &cl->node->config;
    size_t names = json_is_array(cl->last_votes) ? json_array_size(cl->last_votes) : 0;
    for (size_t i = 0; i < cl->peer_count; i++) {
        names +=
                json_is_array(cl->peers[i].alive_set) ? json_array_size(cl->peers[i].alive_set) : 0;
        names += json_is_array(cl->peers[i].votes) ? json_array_size(cl->peers[i].votes) : 0;
    }
    void *block = calloc(1, cl->peer_count * sizeof(struct lk_quorum_peer) +
                                    names * sizeof(const char *) + 1);
    if (!block) {
        return -ENOMEM;
    }
    struct lk_quorum_peer *peers = block;
    const char **next = (const char **) (peers + cl->peer_count);
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        struct lk_quorum_peer *q = &peers[i];
        q->name = p->name;
        q->configured = configured(config, p->name);
        q->alive = p->alive;
        q->witness = p->witness;
        q->alive_set = next;
        q->alive_count = json_names(p->alive_set, next);
        q->hello = p->hello;
        next += q->alive_count;
        q->votes = next;
        q->vote_count = json_names(p->votes, next);
        next += q->vote_count;
    }
    *ret_view = (struct lk_quorum_view){
            .self = cl->node->name,
            .mode = quorum_mode(cl),
            .configured_peers = config->peer_count,
            .witness_configured = config->cluster.witness[0] != '\0',
            .peers = peers,
            .peer_count = cl->peer_count,
            .settled = cl->settled,
            .known = cl->quorum_known,
            .was_quorate = cl->quorate,
            .previous_vote = next,
            .previous_count = json_names(cl->last_votes, next),
    };
    *ret_block = block;
    return 0;
}

/* Counts the votes and reports a change of quorum (quorum.c decides). */
static void update_quorum(struct lk_cluster *cl)
{
    if (cl->node->witness) {
        return;
    }
    struct lk_quorum_view view;
    struct lk_quorum_verdict q;
    void *block;
    if (quorum_view(cl, &view, &block) < 0) {
        return; /* out of memory: judged again at the next event */
    }
    lk_quorum_count(&view, &q);
    free(block);
    cl->quorate = q.quorate;
    switch (q.change) {
    case LK_QUORUM_SAME:
    case LK_QUORUM_PENDING:
        break;
    case LK_QUORUM_KNOWN:
        cl->quorum_known = true;
        break;
    case LK_QUORUM_GAINED:
        cl->quorum_known = true;
        lk_eventlog_msg(cl->node, NULL, LK_MSG_QUORUM_GAINED, q.votes, q.voters);
        break;
    case LK_QUORUM_LOST:
        cl->quorum_known = true;
        lk_eventlog_msg(cl->node, NULL, LK_MSG_QUORUM_LOST, q.votes, q.needed,
                        cl->node->config.cluster.quorum_loss_action == LK_QUORUM_LOSS_OSU
                                ? "taking this node's hierarchies out of service"
                                : "hierarchies left running (quorum-loss-action none)");
        break;
    }
}

/* Whom a peer hears changed: quorum counted again, a change acted on at once. */
static void recount(struct lk_cluster *cl)
{
    bool was = cl->quorate;
    update_quorum(cl);
    if (cl->quorate != was) {
        lk_cluster_kick(cl);
    }
}

/* Whether p's vote would count (quorum.h): its last heartbeat names us, or its HELLO came
 * after it; with quorum none nothing hinges on it. */
static bool hears_us(const struct lk_cluster *cl, const struct peer *p)
{
    return lk_cluster_quorum_mode_none(cl) || p->hello ||
           json_has_name(p->alive_set, cl->node->name);
}

/* A witness gives its vote to one group of nodes that can all see each other (quorum.c
 * chooses); the vote goes out in its heartbeats as [leader, members...]. */
static void witness_vote(struct lk_cluster *cl)
{
    struct lk_quorum_view view;
    struct lk_witness_vote vote;
    void *block;
    if (quorum_view(cl, &view, &block) < 0) {
        return; /* out of memory: the last vote stands */
    }
    lk_quorum_witness_vote(&view, &vote);
    json_t *group = json_array();
    if (group && vote.any) {
        json_array_append_new(group, json_string(cl->peers[vote.leader].name));
        for (size_t i = 0; i < cl->peer_count; i++) {
            if (i != vote.leader && lk_quorum_witness_member(&view, &vote, i)) {
                json_array_append_new(group, json_string(cl->peers[i].name));
            }
        }
    }
    free(block);
    if (group) {
        json_decref(cl->last_votes);
        cl->last_votes = group;
    }
}

/* ---------------------------------------------------------------- messages */

int lk_cluster_send(struct lk_cluster *cl, const char *peer, json_t *msg)
{
    if (!msg) {
        return -ENOMEM;
    }
    int r = cl->net ? cl->membership->send(cl->net, peer, msg) : -ENOTCONN;
    json_decref(msg);
    return r;
}

static json_t *state_json(struct lk_cluster *cl)
{
    json_t *res = json_object();
    struct lk_node *node = cl->node;
    for (size_t i = 0; i < node->count; i++) {
        const struct lk_resource *r = node->resources[i];
        /* The 5th and 6th elements (issue 13) only when one is set: a node of the previous
         * release takes 3 or 4 elements, and a rolling upgrade passes through such a
         * cluster. */
        bool flags = r->unable || r->not_configured;
        json_object_set_new(res, r->tag,
                            flags ? json_pack("[s,s,b,b,b,b]", lk_state_name(r->state),
                                              lk_pending_name(r->pending), r->target_in_service,
                                              r->stop_failed, r->unable, r->not_configured)
                                  : json_pack("[s,s,b,b]", lk_state_name(r->state),
                                              lk_pending_name(r->pending), r->target_in_service,
                                              r->stop_failed));
    }
    return json_pack("{s:s,s:I,s:o,s:o}", "t", "state", "seq", (json_int_t) cl->sseq, "res", res,
                     "own", lk_owner_all_json(cl));
}

/* Whether objects wait to leave: a state message waits behind them, as it names
 * resources (and carries their ownership records) the peers may not hold yet. */
static bool out_pending(const struct lk_cluster *cl)
{
    return cl->out_head < cl->out_count;
}

void lk_cluster_send_state(struct lk_cluster *cl)
{
    if (out_pending(cl) && !cl->stopping) {
        cl->state_dirty = true; /* sent when the drain has sent them (it kicks) */
        return;
    }
    cl->state_dirty = false;
    if (!cl->net || cl->node->witness) {
        return;
    }
    cl->sseq++;
    /* Nobody to hear it: nothing is built (the state of every resource, at each commit of
     * a hierarchy's restore, was the loop's biggest cost). A peer that comes gets the
     * state with its HELLO. */
    bool anyone = false;
    for (size_t i = 0; i < cl->peer_count && !anyone; i++) {
        anyone = cl->membership->alive(cl->net, cl->peers[i].name);
    }
    if (!anyone) {
        return;
    }
    json_t *msg = state_json(cl);
    if (msg) {
        cl->membership->broadcast(cl->net, msg);
        json_decref(msg);
    }
}

/* The state to one peer now, or to every peer after the objects queued before it. */
static void send_state_to(struct lk_cluster *cl, const char *peer)
{
    if (out_pending(cl)) {
        cl->state_dirty = true;
        return;
    }
    lk_cluster_send(cl, peer, state_json(cl));
}

static void send_sum(struct lk_cluster *cl, const char *peer)
{
    if (cl->node->witness) {
        return;
    }
    json_t *sum = lk_replica_summary(cl->node, peer);
    lk_cluster_send(cl, peer, json_pack("{s:s,s:o*}", "t", "sum", "sum", sum));
}

/* ---------------------------------------------------------------- the drain
 *
 * Objects are applied and built a bounded batch per loop turn (issue 11 item 7): a peer
 * that receives hundreds of definitions (an extend of a whole hierarchy, a resync after a
 * rejoin) keeps answering its clients, heartbeats and guard between two batches, and so
 * does the node that sends them. Received "obj" messages wait in the sender's inbox, and
 * so does every message of that peer after them (handled in the order they came: a
 * "synced" after its objects, a "switch" after the definitions it names); objects to send
 * wait in one FIFO and are built from the store when they leave (the newest version). */

#define DRAIN_BUDGET_NS (UINT64_C(5) * 1000 * 1000) /* a turn's work on the queues */
#define DRAIN_KICK_MS   100                         /* the kicks (state, reconcile) meanwhile */

static void on_drain(uv_idle_t *h);

static void drain_wake(struct lk_cluster *cl)
{
    if (!cl->stopping && !uv_is_active((uv_handle_t *) &cl->drain)) {
        (void) uv_idle_start(&cl->drain, on_drain);
    }
}

static int out_add(struct lk_cluster *cl, enum outgoing_kind kind, const char *tag,
                   const char *peer, size_t objects)
{
    if (cl->out_head == cl->out_count) {
        cl->out_head = cl->out_count = 0; /* empty: start again at the front */
    }
    if (cl->out_count == cl->out_cap) {
        size_t cap = cl->out_cap ? cl->out_cap * 2 : 64;
        struct outgoing *bigger = realloc(cl->out, cap * sizeof(*bigger));
        if (!bigger) {
            return -ENOMEM;
        }
        cl->out = bigger;
        cl->out_cap = cap;
    }
    struct outgoing *o = &cl->out[cl->out_count++];
    o->kind = kind;
    snprintf(o->tag, sizeof(o->tag), "%s", tag ? tag : "");
    snprintf(o->peer, sizeof(o->peer), "%s", peer ? peer : "");
    o->objects = objects;
    drain_wake(cl);
    return 0;
}

/* Forgets the answers still queued for peer (its connection ended, or a new one will
 * ask again with its summary). */
static void out_forget_answers(struct lk_cluster *cl, const char *peer)
{
    size_t kept = cl->out_head;
    for (size_t i = cl->out_head; i < cl->out_count; i++) {
        if (cl->out[i].kind != OUT_PUSH && strcmp(cl->out[i].peer, peer) == 0) {
            continue;
        }
        cl->out[kept++] = cl->out[i];
    }
    cl->out_count = kept;
}

/* Builds and sends one queued object (or the end of an answer). */
static void out_send(struct lk_cluster *cl, const struct outgoing *o)
{
    if (!cl->net) {
        return;
    }
    if (o->kind == OUT_SYNCED) {
        lk_cluster_send(cl, o->peer,
                        json_pack("{s:s,s:I}", "t", "synced", "objects", (json_int_t) o->objects));
        return;
    }
    json_t *obj = lk_replica_object(cl->node, o->tag);
    if (!obj) {
        return;
    }
    json_t *msg = json_pack("{s:s,s:o}", "t", "obj", "obj", obj);
    if (!msg) {
        return;
    }
    if (o->kind == OUT_ANSWER) {
        (void) cl->membership->send(cl->net, o->peer, msg);
    } else {
        json_t *nodes = json_object_get(obj, "nodes");
        for (size_t i = 0; i < cl->peer_count; i++) {
            const char *peer = cl->peers[i].name;
            if (json_object_get(nodes, peer) || (o->peer[0] && strcmp(o->peer, peer) == 0)) {
                (void) cl->membership->send(cl->net, peer, msg);
            }
        }
    }
    json_decref(msg);
}

static size_t inbox_len(const struct peer *p)
{
    return p->inbox ? json_array_size(p->inbox) - p->inbox_head : 0;
}

/* A peer declared DEAD: what it said after its objects no longer holds (its states, its
 * "synced"); the objects themselves are still data, newer or not, and are applied. The
 * answers queued for it go: it asks again when it comes back. */
static void drain_peer_dead(struct lk_cluster *cl, struct peer *p)
{
    out_forget_answers(cl, p->name);
    if (!p->inbox) {
        return;
    }
    json_t *kept = json_array();
    for (size_t i = p->inbox_head; kept && i < json_array_size(p->inbox); i++) {
        json_t *m = json_array_get(p->inbox, i);
        const char *t = json_string_value(json_object_get(m, "t"));
        if (t && strcmp(t, "obj") == 0 && json_array_append(kept, m) < 0) {
            json_decref(kept);
            kept = NULL;
        }
    }
    json_decref(p->inbox);
    p->inbox = kept;
    p->inbox_head = 0;
}

static void answer_sum(struct lk_cluster *cl, struct peer *p, const json_t *sum)
{
    json_t *tags = json_is_object(sum) ? lk_replica_newer_for(cl->node, p->name, sum) : NULL;
    /* A summary asks again for everything: what an earlier answer still had queued goes. */
    out_forget_answers(cl, p->name);
    size_t i;
    json_t *v;
    json_array_foreach(tags, i, v)
    {
        if (out_add(cl, OUT_ANSWER, json_string_value(v), p->name, 0) < 0) {
            break; /* out of memory: the peer's next summary asks again */
        }
    }
    (void) out_add(cl, OUT_SYNCED, NULL, p->name, tags ? json_array_size(tags) : 0);
    json_decref(tags);
}

static void on_obj(struct lk_cluster *cl, struct peer *p, const json_t *obj)
{
    enum lk_replica_outcome outcome = LK_REPLICA_IGNORED;
    char err[512];
    int r = lk_replica_apply(cl->node, p->name, obj, &outcome, err, sizeof(err));
    if (r < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name,
                        err[0] ? err : "cannot apply a definition");
    }
    if (outcome != LK_REPLICA_IGNORED) {
        cl->state_dirty = true;
        lk_bus_changed(cl->node->bus, NULL);
    }
}

static void on_state(struct lk_cluster *cl, struct peer *p, const json_t *msg)
{
    json_t *res = json_object_get(msg, "res");
    json_t *own = json_object_get(msg, "own");
    json_t *seq = json_object_get(msg, "seq");
    if (!json_is_object(res) || !json_is_object(own) || !json_is_integer(seq)) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name, "malformed state message");
        return;
    }
    /* Validate the resource states before keeping them: status shows them. */
    const char *tag;
    json_t *v;
    json_object_foreach(res, tag, v)
    {
        enum lk_state st;
        enum lk_pending pe;
        /* [state, pending, target] and, since issue 9, "may still run" (a remove failed);
         * since issue 13, "unable" (not installed there) and "not configured". */
        size_t n = json_is_array(v) ? json_array_size(v) : 0;
        bool flags_ok = true;
        for (size_t k = 3; k < n; k++) {
            flags_ok &= json_is_boolean(json_array_get(v, k));
        }
        if (n < 3 || n > 6 || !flags_ok || !json_is_string(json_array_get(v, 0)) ||
            !json_is_string(json_array_get(v, 1)) || !json_is_boolean(json_array_get(v, 2)) ||
            lk_state_from_name(json_string_value(json_array_get(v, 0)), &st) < 0 ||
            lk_pending_from_name(json_string_value(json_array_get(v, 1)), &pe) < 0) {
            lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name,
                            "malformed resource state in a state message");
            return;
        }
    }
    json_decref(p->states);
    p->states = json_incref(res);
    json_decref(p->lost_states);
    p->lost_states = NULL;
    json_decref(p->stop_failed); /* the 4th element: a remove failed there (placement) */
    p->stop_failed = json_array();
    json_object_foreach(res, tag, v)
    {
        if (json_is_true(json_array_get(v, 3))) {
            json_array_append_new(p->stop_failed, json_string(tag));
        }
    }
    p->sseq = (uint64_t) json_integer_value(seq);
    p->heard = true;
    /* One transaction for the message's records, not one (and a disk sync) per tag. */
    lk_executor_begin_owners(cl->owners);
    json_object_foreach(own, tag, v)
    {
        struct lk_owner_rec rec;
        if (lk_owner_parse(v, &rec) < 0) {
            lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name,
                            "malformed ownership record");
            continue;
        }
        if (!lk_node_find(cl->node, tag)) {
            continue; /* not defined here: not ours to judge */
        }
        /* Only a node the resource is extended to speaks about it, and only about owners
         * it is extended to. */
        if (!lk_node_priority(cl->node, tag, p->name) ||
            (rec.owner[0] && !lk_node_priority(cl->node, tag, rec.owner))) {
            char why[LK_TAG_MAX + 96];
            snprintf(why, sizeof(why), "ownership record of '%s' from or naming a node outside it",
                     tag);
            lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name, why);
            continue;
        }
        if (lk_owner_merge(cl, tag, &rec)) {
            cl->state_dirty = true;
        }
    }
    lk_executor_commit_owners(cl->node, cl->owners);
    lk_bus_changed(cl->node->bus, NULL);
}

/* (counter, node) of the cluster settings; <0, 0, >0 as theirs is older, equal, newer. */
static int settings_version_cmp(const struct lk_config *ours, const json_t *ver)
{
    json_int_t c = json_integer_value(json_array_get(ver, 0));
    const char *n = json_string_value(json_array_get(ver, 1));
    if (!json_is_array(ver) || json_array_size(ver) != 2 ||
        !json_is_integer(json_array_get(ver, 0)) || c < 0 || (uint64_t) c > LK_VERSION_MAX || !n) {
        return -2;
    }
    if ((uint64_t) c != ours->settings_version) {
        return (uint64_t) c > ours->settings_version ? 1 : -1;
    }
    return strcmp(n, ours->settings_version_node);
}

/* The cluster settings as they go to the peers: every key but those a node of the
 * previous release does not know (min-protocol) while they have their default, so that
 * such a node accepts them during a rolling upgrade (docs/CLUSTER.md). A receiver takes a
 * key that is not sent as its default (adopt_settings). */
#define KEY_MIN_PROTOCOL "min-protocol"
#define KEY_ALERTS       "alerts"
#define KEY_REMOTE_EXEC  "remote-exec"

/* In a HELLO's settings, instead of the tunables' text (settings_hello_json). */
#define KEY_TUNABLES_DIGEST "tunables-sha256"

#ifndef LK_SOFTWARE_VERSION
#define LK_SOFTWARE_VERSION "unknown"
#endif

static json_t *settings_wire_json(const struct lk_cluster_settings *settings)
{
    json_t *all = lk_cluster_settings_json(settings);
    const json_t *v = json_object_get(all, KEY_MIN_PROTOCOL);
    if (v && strcmp(json_string_value(v), "1") == 0) {
        json_object_del(all, KEY_MIN_PROTOCOL);
    }
    /* The alert hooks (issue 12) likewise, while there are none. */
    v = json_object_get(all, KEY_ALERTS);
    if (v && json_string_value(v)[0] == '\0') {
        json_object_del(all, KEY_ALERTS);
    }
    /* remote-exec (issue 14) likewise, while off. */
    v = json_object_get(all, KEY_REMOTE_EXEC);
    if (v && strcmp(json_string_value(v), "off") == 0) {
        json_object_del(all, KEY_REMOTE_EXEC);
    }
    /* The tunables (issue 14) likewise, while there are none. */
    v = json_object_get(all, LK_CLUSTER_KEY_TUNABLES);
    if (v && json_string_value(v)[0] == '\0') {
        json_object_del(all, LK_CLUSTER_KEY_TUNABLES);
    }
    return all;
}

/* The tunables' digest (hex SHA-256 of the text) as the HELLO carries it. */
static void tunables_digest(const char *text, char hex[2 * crypto_hash_sha256_BYTES + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *) text, strlen(text));
    sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof(h));
}

/* The settings as the HELLO carries them: the tunables (up to 64 KiB) replaced by their
 * digest, so that the HELLO stays within what a connection may send before it is ALIVE
 * (net.c). A node that finds the peer's version newer waits for the peer's settings
 * message, which the peer sends as soon as it sees our older version (sync_settings). */
static json_t *settings_hello_json(const struct lk_cluster_settings *settings)
{
    json_t *all = settings_wire_json(settings);
    if (all && json_object_get(all, LK_CLUSTER_KEY_TUNABLES)) {
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        tunables_digest(settings->tunables, hex);
        json_object_del(all, LK_CLUSTER_KEY_TUNABLES);
        json_object_set_new(all, KEY_TUNABLES_DIGEST, json_string(hex));
    }
    return all;
}

static json_t *settings_message(const struct lk_cluster *cl)
{
    const struct lk_config *config = &cl->node->config;
    return json_pack("{s:s,s:o,s:[I,s]}", "t", "settings", "settings",
                     settings_wire_json(&config->cluster), "ver",
                     (json_int_t) config->settings_version, config->settings_version_node);
}

/* Says (1521) when the cluster's fence script cannot run on this node: the settings are the
 * same on every node, but the hook is a file of each node's own. Called at start and when a
 * peer's settings name another one; the node that took `cluster config` refused it there. */
static void check_fence_hook(struct lk_cluster *cl)
{
    const char *hook = cl->node->config.cluster.fence_script;
    char why[LK_PATH_MAX + 256];
    /* A witness takes nothing over: it never runs the hook. */
    if (!cl->node->witness && hook[0] && lk_safeopen_check_hook(hook, why, sizeof(why)) < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_FENCE_UNUSABLE, why);
    }
}

/* Takes the peer's cluster settings (a newer version): validated as a whole, written to
 * lk.conf atomically, applied live. */
static void adopt_settings(struct lk_cluster *cl, struct peer *p, const json_t *settings,
                           const json_t *ver)
{
    const char *vnode = json_string_value(json_array_get(ver, 1));
    char err[256], changed[512] = "";
    if (!json_is_object(settings) || !vnode ||
        lk_validate_tag(vnode, "node name", err, sizeof(err)) < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name,
                        "malformed cluster settings");
        return;
    }
    struct lk_cluster_settings next = cl->node->config.cluster;
    char old_hook[sizeof(next.fence_script)];
    snprintf(old_hook, sizeof(old_hook), "%s", next.fence_script);
    char tun_diff[256];
    (void) lk_tunables_diff(next.tunables,
                            json_string_value(json_object_get(settings, LK_CLUSTER_KEY_TUNABLES)),
                            tun_diff, sizeof(tun_diff));
    uint64_t counter = (uint64_t) json_integer_value(json_array_get(ver, 0));
    /* The settings are whole: a key left out (settings_wire_json) is its default. */
    struct lk_cluster_settings defaults;
    lk_cluster_settings_init(&defaults);
    json_t *whole = json_deep_copy(settings);
    json_t *default_json = lk_cluster_settings_json(&defaults);
    if (whole && default_json) {
        (void) json_object_update_missing(whole, default_json);
    }
    json_decref(default_json);
    int r = whole ? lk_cluster_settings_apply(&next, whole, changed, sizeof(changed), err,
                                              sizeof(err))
                  : -ENOMEM;
    json_decref(whole);
    if (r == -ENOMEM) {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (r == 0) {
        char by[LK_TAG_MAX + 16];
        snprintf(by, sizeof(by), "node %s", p->name);
        lk_tunwatch_overwriting(cl->node, next.tunables, by);
        r = lk_define_cluster_settings(cl->node, &next, vnode, counter, err, sizeof(err));
    }
    if (r < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name, err);
        return;
    }
    if (changed[0]) {
        char from[600];
        snprintf(from, sizeof(from), "%s (from %s)", changed, p->name);
        lk_eventlog_msg(cl->node, NULL, LK_MSG_CLUSTER_CONFIGURED, from);
    }
    if (strcmp(old_hook, cl->node->config.cluster.fence_script) != 0) {
        check_fence_hook(cl);
    }
    if (tun_diff[0]) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_TUNABLES_FROM_PEER, p->name, tun_diff);
    }
    /* Tell everyone: peers that compared against our old settings compare again. */
    lk_cluster_reconfigure(cl, true);
}

static void compare_settings(struct lk_cluster *cl, struct peer *p, const json_t *theirs)
{
    char was[64];
    snprintf(was, sizeof(was), "%s", p->settings_diff);
    p->settings_diff[0] = '\0';
    json_t *ours = lk_cluster_settings_json(&cl->node->config.cluster);
    /* A peer of an older release does not know the newer keys (min-protocol): a key it
     * does not send is equal when ours has the default. */
    struct lk_cluster_settings defaults;
    lk_cluster_settings_init(&defaults);
    json_t *default_json = lk_cluster_settings_json(&defaults);
    const char *key;
    json_t *v;
    /* A HELLO carries the tunables' digest: compared as a digest. */
    const char *their_digest = json_string_value(json_object_get(theirs, KEY_TUNABLES_DIGEST));
    char our_digest[2 * crypto_hash_sha256_BYTES + 1];
    tunables_digest(cl->node->config.cluster.tunables, our_digest);
    json_object_foreach(ours, key, v)
    {
        if (their_digest && strcmp(key, LK_CLUSTER_KEY_TUNABLES) == 0) {
            if (strcmp(their_digest, our_digest) != 0) {
                snprintf(p->settings_diff, sizeof(p->settings_diff), "%s", key);
                break;
            }
            continue;
        }
        json_t *t = json_object_get(theirs, key);
        if (!t && json_is_object(theirs)) {
            t = json_object_get(default_json, key);
        }
        if (!json_is_string(t) || strcmp(json_string_value(t), json_string_value(v)) != 0) {
            snprintf(p->settings_diff, sizeof(p->settings_diff), "%s", key);
            break;
        }
    }
    json_decref(ours);
    json_decref(default_json);
    if (p->settings_diff[0] && strcmp(was, p->settings_diff) != 0) {
        char what[200];
        snprintf(what, sizeof(what),
                 "%s differs (edited by hand? lkcli cluster config sets it on every node)",
                 p->settings_diff);
        lk_eventlog_msg(cl->node, NULL, LK_MSG_SETTINGS_MISMATCH, p->name, what);
    }
}

/* The peer's settings and their version (HELLO or a settings message): the newer version
 * wins on both sides; equal versions with different settings are reported. */
static void sync_settings(struct lk_cluster *cl, struct peer *p, const json_t *settings,
                          const json_t *ver)
{
    int c = settings_version_cmp(&cl->node->config, ver);
    if (c == -2) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, p->name,
                        "malformed cluster settings version");
        return;
    }
    if (c > 0 && json_object_get(settings, KEY_TUNABLES_DIGEST)) {
        /* A HELLO without the tunables' text: the peer sends its settings message as soon
         * as it sees our older version; they are adopted from that, and compared then (now
         * they would be reported as different, which they are only until then). */
        return;
    }
    if (c > 0) {
        adopt_settings(cl, p, settings, ver);
    } else if (c < 0) {
        /* The peer's are older: it takes ours and says so (its settings message, compared
         * then); they differ only until then, which is no mismatch to report (a peer that
         * refuses them reports it). */
        lk_cluster_send(cl, p->name, settings_message(cl));
        p->settings_diff[0] = '\0';
        return;
    }
    compare_settings(cl, p, settings);
}

/* ---------------------------------------------------------------- membership callbacks */

static void on_node(void *userdata, const char *name, bool alive, const char *why)
{
    struct lk_cluster *cl = userdata;
    struct peer *p = lk_cluster_peer(cl, name);
    if (!p) {
        return;
    }
    if (p->alive == alive) {
        return;
    }
    p->alive = alive;
    if (alive) {
        p->alive_since = uv_now(cl->node->loop);
        lk_eventlog_msg(cl->node, NULL, LK_MSG_NODE_ALIVE, name);
        lk_owner_node_alive(cl, name);
    } else {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_NODE_DEAD, name, why ? why : "no heartbeat");
        p->synced = false;
        drain_peer_dead(cl, p);
        lk_forward_peer_dead(cl, name); /* its forwarded requests end now (forward.c) */
        p->dead_since = uv_now(cl->node->loop);
        /* What it held is unknown from now on; its last records stay, and its last states
         * as what may still run there (placement fences it first, issue 9). */
        json_decref(p->lost_states);
        p->lost_states = p->states;
        p->states = NULL;
        json_decref(p->votes);
        p->votes = NULL;
        json_decref(p->alive_set); /* its view of the members is unknown until it speaks */
        p->alive_set = NULL;
        p->hello = false;
    }
    update_quorum(cl);
    lk_cluster_kick(cl);
    /* A peer came or went: a command waiting on it (an extend) learns it now, not at the
     * next change (one that never came left an extend to a fenced peer without answer). */
    lk_bus_changed(cl->node->bus, NULL);
}

static void on_path(void *userdata, const char *peer, const char *address, bool alive,
                    const char *why)
{
    struct lk_cluster *cl = userdata;
    if (alive) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_PATH_ALIVE, peer, address);
    } else {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_PATH_DEAD, peer, address, why ? why : "");
    }
}

static void on_hello(void *userdata, const char *name, bool known, const json_t *info)
{
    struct lk_cluster *cl = userdata;
    struct peer *p = lk_cluster_peer(cl, name);
    if (!p) {
        return;
    }
    p->witness = json_is_true(json_object_get(info, "witness"));
    if (!known && !p->witness && !cl->node->witness && !p->configured) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_UNKNOWN_PEER, name,
                        "lkcli commpath create adds one");
    }
    sync_settings(cl, p, json_object_get(info, "settings"), json_object_get(info, "ver"));
    uint64_t inc = 0;
    if (lk_guard_parse_hex64(json_string_value(json_object_get(info, "inc")), &inc) < 0) {
        inc = 0;
    }
    if (inc != p->inc) {
        /* A new lkd there: what its predecessor's guard said is history. */
        p->inc = inc;
        p->fenced_itself = false;
        json_decref(p->fenced_tags);
        p->fenced_tags = NULL;
    }
    /* Its HELLO answered ours: it hears us, until its next heartbeat says otherwise. */
    p->hello = true;
    p->hello_at = uv_now(cl->node->loop);
    recount(cl);
    if (p->alive && !p->witness) {
        /* Heard, as by a heartbeat: a fence that finished before (it restarted, and may
         * restore what it owns before its first heartbeat) counts no more. */
        lk_owner_node_alive(cl, name);
    }
    /* Every new connection may follow a gap: exchange data and state again. */
    send_sum(cl, name);
    if (!cl->node->witness) {
        send_state_to(cl, name);
    }
}

static void on_heartbeat(void *userdata, const char *name, const json_t *payload)
{
    struct lk_cluster *cl = userdata;
    struct peer *p = lk_cluster_peer(cl, name);
    if (!p || !json_is_object(payload)) {
        return;
    }
    json_t *alive = json_object_get(payload, "alive");
    size_t i;
    json_t *v;
    json_array_foreach(p->witness ? NULL : alive, i, v)
    {
        struct peer *named = json_is_string(v) ? find_peer(cl, json_string_value(v)) : NULL;
        if (named) {
            named->named_at = uv_now(cl->node->loop); /* still a member for p */
        }
    }
    if (json_is_array(alive)) {
        bool changed = p->hello || !json_equal(alive, p->alive_set);
        json_decref(p->alive_set);
        p->alive_set = json_incref(alive);
        /* A heartbeat without us within a dead time of its HELLO may have left before it
         * (on another comm path): the HELLO still says it hears us. */
        p->hello = p->hello && !json_has_name(alive, cl->node->name) &&
                   uv_now(cl->node->loop) - p->hello_at < lk_cluster_dead_ms(cl);
        if (changed) {
            recount(cl); /* whom it hears decides whether its vote counts (quorum.h) */
        }
    }
    p->guarded = json_is_true(json_object_get(payload, "g"));
    if (p->alive && !p->witness) {
        /* Heard: a fence that finished while it was ALIVE here (it restarted before it was
         * declared dead) counts no more. */
        lk_owner_node_alive(cl, name);
    }
    json_t *vote = json_object_get(payload, "vote");
    if (p->witness && json_is_array(vote)) {
        bool had = json_has_name(p->votes, cl->node->name);
        json_decref(p->votes);
        p->votes = json_incref(vote);
        if (had != json_has_name(vote, cl->node->name)) {
            update_quorum(cl);
            lk_cluster_kick(cl);
        }
    }
    json_t *sseq = json_object_get(payload, "sseq");
    if (!p->witness && json_is_integer(sseq) && (uint64_t) json_integer_value(sseq) != p->sseq) {
        lk_cluster_send(cl, name, json_pack("{s:s}", "t", "state?"));
    }
    if (cl->node->witness) {
        witness_vote(cl);
    }
}

/* Handles one message of peer p; true when it may have changed what the kick looks at. */
static bool handle_message(struct lk_cluster *cl, struct peer *p, const char *t, const json_t *msg)
{
    const char *name = p->name;
    if (strcmp(t, "sum") == 0) {
        answer_sum(cl, p, json_object_get(msg, "sum"));
    } else if (strcmp(t, "obj") == 0) {
        on_obj(cl, p, json_object_get(msg, "obj"));
    } else if (strcmp(t, "synced") == 0) {
        if (!p->synced) {
            json_t *n = json_object_get(msg, "objects");
            lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_SYNCED, name,
                            (unsigned) (json_is_integer(n) ? json_integer_value(n) : 0));
        }
        p->synced = true;
        p->seen = true; /* its records arrived: wait_for_all is over for it */
    } else if (strcmp(t, "state") == 0) {
        on_state(cl, p, msg);
    } else if (strcmp(t, "state?") == 0) {
        send_state_to(cl, name);
    } else if (strcmp(t, "switch") == 0) {
        lk_owner_on_switch_message(cl, name, msg);
    } else if (strcmp(t, "remove") == 0) {
        lk_owner_on_remove_message(cl, name, msg);
    } else if (strcmp(t, "started") == 0) {
        cl->orphan_check = true;
    } else if (strcmp(t, "events?") == 0) {
        lk_incident_on_request(cl, name, msg);
        return false; /* nothing changed here */
    } else if (strcmp(t, "events") == 0) {
        lk_incident_on_reply(cl, name, msg);
        return false;
    } else if (strcmp(t, "req") == 0 || strcmp(t, "req-ok") == 0 || strcmp(t, "rep") == 0 ||
               strcmp(t, "req-end") == 0) {
        lk_forward_on_message(cl, name, t, msg); /* a forwarded request (forward.c) */
        return false;
    } else {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, name, "unknown message type");
        return false;
    }
    return true;
}

static void on_message(void *userdata, const char *name, const json_t *msg)
{
    struct lk_cluster *cl = userdata;
    struct peer *p = lk_cluster_peer(cl, name);
    const char *t = json_string_value(json_object_get(msg, "t"));
    if (!p) {
        return;
    }
    if (!t) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, name, "message without a type");
        return;
    }
    if (strcmp(t, "settings") == 0) {
        sync_settings(cl, p, json_object_get(msg, "settings"), json_object_get(msg, "ver"));
        return;
    }
    if (strncmp(t, "key-", 4) == 0) {
        lk_keyroll_on_message(cl, name, t, msg); /* a key rotation (keyroll.c) */
        return;
    }
    if (cl->node->witness) {
        /* A witness keeps no cluster data and holds nothing, but its clients may forward a
         * request to a node (`ins_list -d`): it hears the answers (forward.c). It is never
         * sent one to serve (lk_forward_start refuses a witness). */
        if (strcmp(t, "rep") == 0 || strcmp(t, "req-ok") == 0) {
            lk_forward_on_message(cl, name, t, msg);
        }
        return;
    }
    if (strcmp(t, "obj") == 0 || inbox_len(p) > 0) {
        /* Applied by the drain, a batch a turn, in the order they came. */
        if (!p->inbox) {
            p->inbox = json_array();
        }
        if (p->inbox && json_array_append_new(p->inbox, json_deep_copy(msg)) == 0) {
            drain_wake(cl);
            return;
        }
        /* Out of memory: handled now, as before (the queue is empty or gone). */
    }
    if (handle_message(cl, p, t, msg)) {
        lk_cluster_kick(cl);
    }
}

/* Handles the next queued message of some peer (round robin); false when none waits. */
static bool drain_inbox(struct lk_cluster *cl)
{
    for (size_t k = 0; k < cl->peer_count; k++) {
        size_t i = (cl->drain_peer + k) % cl->peer_count;
        struct peer *p = &cl->peers[i];
        if (inbox_len(p) == 0) {
            continue;
        }
        json_t *msg = json_incref(json_array_get(p->inbox, p->inbox_head++));
        if (inbox_len(p) == 0) {
            json_array_clear(p->inbox);
            p->inbox_head = 0;
        }
        cl->drain_peer = (i + 1) % cl->peer_count;
        const char *t = json_string_value(json_object_get(msg, "t"));
        if (t && handle_message(cl, p, t, msg)) {
            cl->drain_kick = true;
        }
        json_decref(msg);
        return true;
    }
    return false;
}

static bool drain_pending(const struct lk_cluster *cl)
{
    if (cl->out_head < cl->out_count) {
        return true;
    }
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (inbox_len(&cl->peers[i]) > 0) {
            return true;
        }
    }
    return false;
}

static void on_drain(uv_idle_t *h)
{
    struct lk_cluster *cl = h->data;
    uint64_t start = uv_hrtime();
    bool more = true, emptied = false;
    while (more && !cl->stopping) {
        bool sent = false;
        if (cl->out_head < cl->out_count) {
            struct outgoing o = cl->out[cl->out_head++];
            out_send(cl, &o);
            sent = true;
            /* The last one out: the state that waited behind them goes now. */
            emptied = !out_pending(cl) && cl->state_dirty;
        }
        more = drain_inbox(cl) || sent;
        if (uv_hrtime() - start >= DRAIN_BUDGET_NS) {
            break;
        }
    }
    more = more && drain_pending(cl);
    uint64_t now = uv_now(cl->node->loop);
    cl->drain_kick |= emptied;
    if (cl->drain_kick && (!more || emptied || now - cl->drain_kick_at >= DRAIN_KICK_MS)) {
        cl->drain_kick = false;
        cl->drain_kick_at = now;
        lk_cluster_kick(cl);
    }
    if (!more || cl->stopping) {
        uv_idle_stop(h);
    }
}

static void on_dropped(void *userdata, const char *from, const char *why)
{
    struct lk_cluster *cl = userdata;
    lk_eventlog_msg(cl->node, NULL, LK_MSG_FRAME_DROPPED, from, why);
}

/* Which protocol a peer's sessions speak (net.c reports changes only): protocol 1 is a
 * peer of the previous release, in clear; refused is a peer with no protocol in common. */
static void on_protocol(void *userdata, const char *peer, int proto, const char *version,
                        const char *refused)
{
    struct lk_cluster *cl = userdata;
    if (refused) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_PROTOCOL_REFUSED, refused);
    } else if (proto < 2) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_PEER_PROTOCOL_OLD, peer, proto, version);
    } else {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_PEER_PROTOCOL, peer, proto, version);
    }
}

static void on_resumed(void *userdata, uint64_t frozen_ms)
{
    struct lk_cluster *cl = userdata;
    lk_eventlog_msg(cl->node, NULL, LK_MSG_DAEMON_RESUMED, (unsigned long long) frozen_ms);
    cl->holding = true;
    cl->hold_until = uv_now(cl->node->loop) + lk_cluster_dead_ms(cl) + 500;
    for (size_t i = 0; i < cl->peer_count; i++) {
        cl->peers[i].heard = false;
        /* Ask for fresh state: ours may be long out of date. */
        lk_cluster_send(cl, cl->peers[i].name, json_pack("{s:s}", "t", "state?"));
    }
}

/* The comm port's strangers (net.c reports at most one per kind per 10 s). */
static void on_comm_port(void *userdata, enum lk_port_kind kind, uint64_t count, const char *detail)
{
    struct lk_cluster *cl = userdata;
    static const enum lk_msg msgs[LK_PORT_KINDS] = {
            [LK_PORT_REFUSED] = LK_MSG_PORT_REFUSED,
            [LK_PORT_SHED] = LK_MSG_PORT_SHED,
            [LK_PORT_TIMEOUT] = LK_MSG_PORT_TIMEOUT,
    };
    if (kind < LK_PORT_KINDS) {
        lk_eventlog_msg(cl->node, NULL, msgs[kind], (unsigned long long) count, detail);
    }
}

static void on_net_stopped(void *userdata)
{
    struct lk_cluster *cl = userdata;
    cl->net_stopped = true;
}

static json_t *heartbeat_payload(void *userdata)
{
    struct lk_cluster *cl = userdata;
    json_t *alive = json_array();
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (cl->peers[i].alive) {
            json_array_append_new(alive, json_string(cl->peers[i].name));
        }
    }
    json_t *hb = json_pack("{s:o,s:I,s:b}", "alive", alive, "sseq", (json_int_t) cl->sseq, "g",
                           lk_guardlink_guarding(cl->node));
    if (hb && cl->node->witness) {
        witness_vote(cl);
        json_object_set(hb, "vote", cl->last_votes);
    }
    return hb;
}

/* ---------------------------------------------------------------- settling and ticks */

static void check_settled(struct lk_cluster *cl)
{
    if (cl->settled || cl->node->witness) {
        return;
    }
    uint64_t now = uv_now(cl->node->loop);
    bool window_over = now - cl->started_at >= lk_cluster_dead_ms(cl) + 1000;
    bool all_synced = true, alive_synced = true, holds = false;
    for (size_t i = 0; i < cl->node->count; i++) {
        holds |= lk_state_in_service(cl->node->resources[i]->state); /* left by a crash */
    }
    const struct lk_config *config = &cl->node->config;
    for (size_t i = 0; i < config->peer_count; i++) {
        const struct peer *p = find_peer(cl, config->peers[i].name);
        bool synced = p && p->synced && p->states;
        all_synced &= synced && hears_us(cl, p); /* its vote counts from the start */
        /* After the window, with a copy a crash left here, an alive peer that does not
         * hear us is no member to wait for: settled without its vote, this node cleans
         * up as one cut off (without quorum it removes the copy). */
        alive_synced &= !(p && p->alive) || synced || (holds && p->alive_set && !hears_us(cl, p));
    }
    if (!all_synced && !(window_over && alive_synced)) {
        return;
    }
    cl->settled = true;
    update_quorum(cl);
    lk_owner_startup(cl); /* runs lk_executor_startup */
    cl->orphan_check = true;
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (cl->peers[i].alive) {
            lk_cluster_send(cl, cl->peers[i].name, json_pack("{s:s}", "t", "started"));
        }
    }
    cl->state_dirty = true;
    lk_bus_changed(cl->node->bus, NULL);
}

static void check_hold(struct lk_cluster *cl)
{
    if (!cl->holding) {
        return;
    }
    bool all_heard = true;
    for (size_t i = 0; i < cl->peer_count; i++) {
        all_heard &= !cl->peers[i].configured ||
                     (cl->peers[i].heard && hears_us(cl, &cl->peers[i])) || !cl->peers[i].alive;
    }
    if (all_heard || uv_now(cl->node->loop) >= cl->hold_until) {
        cl->holding = false;
    }
}

static void on_kick(uv_timer_t *t)
{
    struct lk_cluster *cl = t->data;
    if (cl->stopping) {
        return;
    }
    check_settled(cl);
    check_hold(cl);
    update_quorum(cl);
    if (cl->settled) {
        cl->timed_wait = false;
        lk_owner_reconcile(cl);
    }
    if (cl->state_dirty) {
        lk_cluster_send_state(cl);
    }
}

void lk_cluster_kick(struct lk_cluster *cl)
{
    if (!cl->stopping && !uv_is_active((uv_handle_t *) &cl->kick)) {
        uv_timer_start(&cl->kick, on_kick, 0, 0);
    }
}

static void on_tick(uv_timer_t *t)
{
    /* Only what waits for time: settling, the hold after a freeze, a takeover waiting
     * for the fence script or the self-fence wait. Everything else is kicked by events. */
    struct lk_cluster *cl = t->data;
    if (!cl->settled || cl->holding || cl->timed_wait) {
        on_kick(t);
    }
}

/* ---------------------------------------------------------------- the public calls */

static int read_key(const char *root, uint8_t key[LK_WIRE_KEY], char *err, size_t err_size)
{
    char path[LK_PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", root, LK_AUTHKEY_NAME);
    /* A regular file of root's or ours that only its owner can change, read without
     * blocking (safeopen.h). */
    char *buf = NULL, why[LK_PATH_MAX + 128];
    size_t n = 0;
    int r = lk_safeopen_read(path, &lk_safeopen_key, 0, &buf, &n, NULL, why, sizeof(why));
    if (r < 0) {
        snprintf(err, err_size, "cannot use the cluster key: %s", why);
        return r;
    }
    r = lk_wire_key_parse(buf, key);
    sodium_memzero(buf, n);
    free(buf);
    if (r < 0) {
        snprintf(err, err_size, "'%s' is not a cluster key (expected %d hex digits)", path,
                 2 * LK_WIRE_KEY);
        return -EINVAL;
    }
    return 0;
}

static json_t *hello_info(const struct lk_cluster *cl)
{
    const struct lk_config *config = &cl->node->config;
    char inc[17];
    lk_guard_hex64(cl->node->incarnation, inc);
    return json_pack("{s:b,s:o,s:[I,s],s:s}", "witness", cl->node->witness, "settings",
                     settings_hello_json(&config->cluster), "ver",
                     (json_int_t) config->settings_version, config->settings_version_node, "inc",
                     inc);
}

/* A peer's guard says its node fenced itself (lib/guard.h): its lkd died or froze, and
 * the cgroups of the hierarchies it names were killed. Believed only for the incarnation
 * of that node's lkd we last heard (a recording of an earlier one is worthless); then the
 * node is dead here at once and fenced for those hierarchies (cluster_owner.c). */
static void on_fenced(void *userdata, uint64_t session, const void *payload, size_t len)
{
    struct lk_cluster *cl = userdata;
    struct lk_guard_fenced f;
    char err[256];
    if (lk_guard_fenced_parse(payload, len, session, &f, err, sizeof(err)) < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_FRAME_DROPPED, "a guard", err);
        return;
    }
    struct peer *p = find_peer(cl, f.node);
    const char *refuse = !p || p->witness                         ? "not a peer"
                         : p->inc == 0 || p->inc != f.incarnation ? "not the incarnation last heard"
                                                                  : NULL;
    if (refuse) {
        char why[320];
        snprintf(why, sizeof(why), "fenced frame for '%s': %s", f.node, refuse);
        lk_eventlog_msg(cl->node, NULL, LK_MSG_FRAME_DROPPED, "a guard", why);
        lk_guard_fenced_free(&f);
        return;
    }
    if (!p->fenced_itself) {
        json_t *tags = json_array();
        char list[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < f.hier_count; i++) {
            json_array_append_new(tags, json_string(f.hiers[i]));
            int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", f.hiers[i]);
            used += w > 0 && (size_t) w < sizeof(list) - used ? (size_t) w : 0;
        }
        p->fenced_itself = true;
        json_decref(p->fenced_tags);
        p->fenced_tags = tags;
        lk_eventlog_msg(cl->node, NULL, LK_MSG_PEER_FENCED_ITSELF, f.node, f.why,
                        list[0] ? list : "nothing");
        on_node(cl, f.node, false, "it fenced itself (its guard)");
        lk_cluster_kick(cl);
    }
    lk_guard_fenced_free(&f);
}

struct lk_cluster *lk_cluster_new(struct lk_node *node, struct lk_owners *owners,
                                  const struct lk_membership_ops *membership)
{
    struct lk_cluster *cl = calloc(1, sizeof(*cl));
    if (cl) {
        cl->node = node;
        cl->owners = owners;
        cl->membership = membership;
        uv_timer_init(node->loop, &cl->kick);
        uv_timer_init(node->loop, &cl->tick);
        uv_idle_init(node->loop, &cl->drain);
        cl->kick.data = cl->tick.data = cl;
        cl->drain.data = cl;
    }
    return cl;
}

int lk_cluster_start(struct lk_cluster *cl, char *err, size_t err_size)
{
    struct lk_node *node = cl->node;
    struct lk_owners *owners = cl->owners;
    if (!cl->membership) {
        snprintf(err, err_size, "no membership backend");
        return -EINVAL;
    }
    int r = read_key(node->root, cl->key, err, err_size);
    if (r < 0) {
        return r;
    }
    r = lk_owners_load(owners, node->store);
    if (r < 0) {
        snprintf(err, err_size, "cannot load the ownership records: %s",
                 lk_store_errmsg(node->store));
        return r;
    }
    cl->started_at = uv_now(node->loop);
    for (size_t i = 0; i < node->config.peer_count; i++) {
        (void) lk_cluster_peer(cl, node->config.peers[i].name);
    }
    static const struct lk_membership_callbacks callbacks = {
            .on_node = on_node,
            .on_path = on_path,
            .on_hello = on_hello,
            .on_fenced = on_fenced,
            .on_heartbeat = on_heartbeat,
            .on_message = on_message,
            .on_dropped = on_dropped,
            .on_protocol = on_protocol,
            .on_next_key = lk_keyroll_on_next_key,
            .on_resumed = on_resumed,
            .on_comm_port = on_comm_port,
            .heartbeat_payload = heartbeat_payload,
            .on_stopped = on_net_stopped,
    };
    struct lk_membership_options options = {
            .node = node->name,
            .listen = node->config.listen,
            .key = cl->key,
            .witness = node->witness,
            .config = &node->config,
            .feed = node->guard ? lk_guardlink_feed : NULL,
            .feed_ctx = node->guard,
    };
    r = cl->membership->start(node->loop, &options, &callbacks, cl, &cl->net, err, err_size);
    if (r < 0) {
        return r;
    }
    cl->net_was_started = true;
    json_t *info = hello_info(cl);
    cl->membership->set_hello(cl->net, info);
    json_decref(info);
    lk_keyroll_load(cl);
    uv_timer_start(&cl->tick, on_tick, TICK_MS, TICK_MS);
    check_fence_hook(cl);
    lk_cluster_kick(cl);
    return 0;
}

void lk_cluster_stop(struct lk_cluster *cl, enum lk_leave how)
{
    if (cl->stopping) {
        return;
    }
    /* Changes made here still go out, before the last state (the peers would learn them
     * at the next exchange anyway); objects received and not applied yet wait for that
     * exchange. */
    while (how != LK_LEAVE_CRASH && cl->net && out_pending(cl)) {
        struct outgoing o = cl->out[cl->out_head++];
        out_send(cl, &o);
    }
    if (how != LK_LEAVE_CRASH && cl->settled) {
        lk_owner_leave(cl, how == LK_LEAVE_RUNNING);
        lk_cluster_send_state(cl);
    }
    lk_forward_stop(cl);
    cl->stopping = true;
    uv_timer_stop(&cl->kick);
    uv_timer_stop(&cl->tick);
    uv_idle_stop(&cl->drain);
    uv_close((uv_handle_t *) &cl->kick, NULL);
    uv_close((uv_handle_t *) &cl->tick, NULL);
    uv_close((uv_handle_t *) &cl->drain, NULL);
    cl->membership->stop(cl->net);
    cl->net = NULL;
}

bool lk_cluster_net_stopped(struct lk_cluster *cl)
{
    return !cl->stopping || cl->net_stopped || !cl->net_was_started;
}

bool lk_cluster_holding(struct lk_cluster *cl)
{
    /* Before start-up has run no check runs at all (the monitor waits for
     * node->started_up), so only the freeze counts here. */
    return cl && cl->holding;
}

bool lk_cluster_started_up(struct lk_cluster *cl)
{
    struct lk_node *node = cl->node;
    return cl->settled || node->witness;
}

void lk_cluster_on_local_change(struct lk_cluster *cl)
{
    if (!cl) {
        return;
    }
    cl->state_dirty = true;
    lk_cluster_kick(cl);
}

void lk_cluster_on_owners(void *userdata, bool records)
{
    struct lk_cluster *cl = userdata;
    if (!cl) {
        return;
    }
    if (records) {
        cl->state_dirty = true;
    }
    lk_cluster_kick(cl);
}

bool lk_cluster_is_clustered(const struct lk_node *node, const char *tag)
{
    for (size_t i = lk_node_first_extend(node, tag);
         i < node->extend_count && strcmp(node->extends[i].tag, tag) == 0; i++) {
        if (strcmp(node->extends[i].node, node->name) != 0) {
            return true;
        }
    }
    return false;
}

void lk_cluster_push(struct lk_cluster *cl, const char *const *tags, size_t count,
                     const char *extra_peer)
{
    if (!cl->net) {
        return;
    }
    /* Children before their parent, whatever order the caller has; built and sent by the
     * drain, a batch a turn. */
    size_t *order = lk_replica_order(cl->node, tags, count);
    for (size_t t = 0; t < count; t++) {
        const char *tag = tags[order ? order[t] : t];
        if (out_add(cl, OUT_PUSH, tag, extra_peer, 0) < 0) {
            /* Out of memory: sent now, as before. */
            struct outgoing o = {.kind = OUT_PUSH};
            snprintf(o.tag, sizeof(o.tag), "%s", tag);
            snprintf(o.peer, sizeof(o.peer), "%s", extra_peer ? extra_peer : "");
            out_send(cl, &o);
        }
    }
    free(order);
}

bool lk_cluster_peer_alive(struct lk_cluster *cl, const char *peer)
{
    struct lk_node *node = cl->node;
    if (strcmp(peer, node->name) == 0) {
        return true;
    }
    const struct peer *p = find_peer(cl, peer);
    return p && p->alive;
}

const char *lk_cluster_remote_state(struct lk_cluster *cl, const char *peer, const char *tag)
{
    const struct peer *p = find_peer(cl, peer);
    json_t *s = p ? json_object_get(p->states, tag) : NULL;
    const char *v = json_string_value(json_array_get(s, 0));
    return v ? v : "";
}

bool lk_cluster_remote_unable(struct lk_cluster *cl, const char *peer, const char *tag)
{
    const struct peer *p = find_peer(cl, peer);
    json_t *s = p ? json_object_get(p->states, tag) : NULL;
    return json_is_true(json_array_get(s, 4));
}

void lk_cluster_reconfigure(struct lk_cluster *cl, bool broadcast)
{
    struct lk_node *node = cl->node;
    if (!cl->net) {
        return;
    }
    for (size_t i = 0; i < cl->peer_count; i++) {
        cl->peers[i].configured = lk_config_find_peer(&node->config, cl->peers[i].name) != NULL;
    }
    for (size_t i = 0; i < node->config.peer_count; i++) {
        (void) lk_cluster_peer(cl, node->config.peers[i].name);
    }
    cl->membership->reconfigure(cl->net, &node->config);
    json_t *info = hello_info(cl);
    cl->membership->set_hello(cl->net, info);
    if (broadcast) {
        json_t *msg = settings_message(cl);
        if (msg) {
            cl->membership->broadcast(cl->net, msg);
            json_decref(msg);
        }
    }
    json_decref(info);
    update_quorum(cl);
    lk_cluster_kick(cl);
}

bool lk_cluster_budget_text(struct lk_cluster *cl, const char *tag, char *buf, size_t size)
{
    struct lk_node *node = cl->node;
    buf[0] = '\0';
    if (node->witness || !lk_cluster_is_clustered(node, tag)) {
        return false;
    }
    const struct lk_cluster_settings *s = &node->config.cluster;
    (void) lk_owner_budget_text(
            lk_owner_get(cl, tag),
            lk_owner_max_failovers(s->max_failovers, 1 + node->config.peer_count),
            s->failover_window_s, lk_now_ms(), buf, size);
    return true;
}

json_t *lk_cluster_owner_brief_json(struct lk_cluster *cl, const char *tag)
{
    const struct lk_owner_rec *rec = cl ? lk_owner_get(cl, tag) : NULL;
    if (!rec || cl->node->witness || !lk_cluster_is_clustered(cl->node, tag)) {
        return NULL;
    }
    return json_pack("{s:s, s:I, s:s}", "owner", rec->owner, "generation", (json_int_t) rec->gen,
                     "owner_reason", rec->reason);
}

json_t *lk_cluster_remove_failed_json(struct lk_cluster *cl, const char *tag)
{
    const struct lk_owner_rec *rec = cl ? lk_owner_get(cl, tag) : NULL;
    if (!rec || rec->stop_failed_count == 0) {
        return NULL;
    }
    json_t *nodes = json_array();
    for (size_t i = 0; nodes && i < rec->stop_failed_count; i++) {
        json_array_append_new(nodes, json_string(rec->stop_failed[i]));
    }
    return nodes;
}

json_t *lk_cluster_status_json(struct lk_cluster *cl)
{
    struct lk_node *node = cl->node;
    json_t *warnings = json_array();
    unsigned votes = 1, voters = 1;
    bool none = true;
    if (cl) {
        struct lk_quorum_view view;
        struct lk_quorum_verdict q;
        void *block;
        if (quorum_view(cl, &view, &block) == 0) {
            lk_quorum_count(&view, &q);
            free(block);
            votes = q.votes;
            voters = q.voters;
        }
        none = lk_cluster_quorum_mode_none(cl);
        if (none && voters == 2 && !node->witness) {
            json_array_append_new(
                    warnings,
                    json_string("quorum is none: two nodes without a witness can both take over "
                                "during a partition (set a witness or a fence-script)"));
        }
        for (size_t i = 0; i < cl->peer_count; i++) {
            if (cl->peers[i].settings_diff[0]) {
                char w[256];
                snprintf(w, sizeof(w), "node %s has a different %s", cl->peers[i].name,
                         cl->peers[i].settings_diff);
                json_array_append_new(warnings, json_string(w));
            }
        }
        if (cl->holding) {
            json_array_append_new(warnings,
                                  json_string("resumed after a freeze: holding actions until "
                                              "the peers are heard"));
        }
        if (!cl->settled && !node->witness) {
            json_array_append_new(warnings,
                                  json_string("joining: waiting for the peers' cluster data"));
        }
        for (size_t i = 0; none && !node->witness && i < cl->peer_count; i++) {
            if (cl->peers[i].configured && !cl->peers[i].witness && !cl->peers[i].seen) {
                char w[512];
                snprintf(w, sizeof(w),
                         "waiting for node %s: with quorum none nothing clustered is restored "
                         "or taken over here before this node has heard it once since it "
                         "started ('lkcli resource restore --tag TAG' restores one anyway)",
                         cl->peers[i].name);
                json_array_append_new(warnings, json_string(w));
            }
        }
    }
    json_t *paths = cl && cl->net ? cl->membership->peers_json(cl->net) : json_array();
    json_t *nodes = json_array();
    json_array_append_new(nodes,
                          json_pack("{s:s,s:s,s:b,s:b,s:b,s:i,s:s}", "name", node->name, "state",
                                    "ALIVE", "self", true, "witness", node->witness, "synced", true,
                                    "protocol", LK_WIRE_PROTO_MAX, "version", LK_SOFTWARE_VERSION));
    for (size_t i = 0; cl && i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        /* Synced: what placement waits for before it restores or takes anything over
         * (placement.c, peer_not_synced): the data exchange done, its states and its view
         * of the members heard since it came (back). Until then `node list` says pending. */
        bool synced = p->synced && p->states && p->alive_set;
        /* guarded: its last heartbeat said its guard holds a current plan (a takeover from
         * it, once it is DEAD, waits for the guard's word: placement.c, self_fence_pending). */
        json_t *n = json_pack("{s:s,s:s,s:b,s:b,s:b,s:b,s:b}", "name", p->name, "state",
                              p->alive ? "ALIVE" : "DEAD", "self", false, "witness", p->witness,
                              "synced", synced, "configured", p->configured, "guarded", p->guarded);
        /* The protocol and software version of its last session (the comm paths'). */
        size_t j;
        json_t *e;
        json_array_foreach(paths, j, e)
        {
            const char *name = json_string_value(json_object_get(e, "name"));
            if (n && name && strcmp(name, p->name) == 0) {
                json_object_set(n, "protocol", json_object_get(e, "protocol"));
                json_object_set(n, "version", json_object_get(e, "version"));
            }
        }
        json_array_append_new(nodes, n);
    }
    json_t *transport = cl && cl->net && cl->membership->transport_json
                                ? cl->membership->transport_json(cl->net)
                                : json_null();
    return json_pack("{s:s,s:b,s:{s:s,s:i,s:i,s:b},s:o,s:o,s:o,s:b,s:o}", "node", node->name,
                     "witness", node->witness, "quorum", "mode", none ? "none" : "majority",
                     "votes", (int) votes, "voters", (int) voters, "quorate", cl->quorate || none,
                     "warnings", warnings, "nodes", nodes, "peers", paths, "settled", cl->settled,
                     "transport", transport ? transport : json_null());
}
