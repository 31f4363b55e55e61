/* Gathering the other nodes' events, for `lkcli log --cluster` and `lkcli resource why`.
 * A command asks the live peers with an "events?" message ({id, tag?, limit, severity?,
 * number?, before?, node?}: the filters lkd's log applies in SQL); each peer
 * answers with one "events" message ({id, events:[records]}) holding at most limit of
 * its newest records: for a tag, the records of its hierarchy and the node-level events
 * about the hierarchy's nodes. The command waits LK_INCIDENT_ANSWER_MS at most and names
 * the peers that did not answer; merging and reading the timeline is timeline.c's.
 *
 * Events enter from the command socket (a gather starts or is cancelled), from cluster.c
 * (a request or a reply arrived) and from the gather's timer. Every received field is
 * checked: a bad request or reply is logged (1642) and dropped; a peer is only told about
 * a resource extended to it, and only records about the hierarchy asked for are accepted.
 * It must never change a resource, an ownership record or the store. */
#include "incident.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_internal.h"
#include "eventlog.h"
#include "timeline.h"
#include "validate.h"

#define ID_MAX (1LL << 53) /* exact in any JSON reader */

struct lk_gather {
    struct lk_gather *next;
    struct lk_cluster *cl;
    uint64_t id;
    char (*tags)[LK_TAG_MAX + 1]; /* the hierarchy asked about; NULL for every record */
    size_t tag_count;
    char (*asked)[LK_TAG_MAX + 1]; /* peers asked, in config order */
    bool *answered;
    size_t asked_count;
    size_t pending;
    json_t *events;
    json_t *missing;
    struct lk_event_filter filter; /* what the peers were asked to apply */
    uv_timer_t timer;
    lk_gather_cb cb;
    void *userdata;
};

/* ---------------------------------------------------------------- local records */

static bool in_tags(char (*tags)[LK_TAG_MAX + 1], size_t count, const char *tag)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(tags[i], tag) == 0) {
            return true;
        }
    }
    return false;
}

/* Node-level numbers that tell about a hierarchy when they name one of its nodes (or
 * are about this node itself). */
static bool node_level(int number, bool *ret_names_node)
{
    switch (number) {
    case LK_MSG_NODE_ALIVE:
    case LK_MSG_NODE_DEAD:
    case LK_MSG_FENCE_STARTED:
    case LK_MSG_FENCE_OK:
    case LK_MSG_FENCE_FAILED:
        *ret_names_node = true;
        return true;
    case LK_MSG_DAEMON_RESUMED:
    case LK_MSG_QUORUM_GAINED:
    case LK_MSG_QUORUM_LOST:
        *ret_names_node = false;
        return true;
    default:
        return false;
    }
}

struct collect {
    json_t *list;
    struct lk_node *node;
    const char *tag; /* the hierarchy's first tag: NULL keeps everything */
    char (*tags)[LK_TAG_MAX + 1];
    size_t tag_count;
};

/* Whether peer is a node of the hierarchy (this node or one it is extended to). */
static bool hierarchy_node(const struct collect *k, const char *peer)
{
    if (strcmp(peer, k->node->name) == 0) {
        return true;
    }
    for (size_t i = 0; i < k->tag_count; i++) {
        if (lk_node_priority(k->node, k->tags[i], peer) > 0) {
            return true;
        }
    }
    return false;
}

static void collect_cb(const struct lk_event_record *e, void *userdata)
{
    struct collect *k = userdata;
    if (k->tag && !e->tag[0]) {
        bool names_node = false;
        if (!node_level(e->number, &names_node)) {
            return;
        }
        bool about = !names_node;
        for (size_t i = 0; names_node && !about && i < k->node->config.peer_count; i++) {
            const char *peer = k->node->config.peers[i].name;
            about = lk_timeline_mentions(e->message, peer) && hierarchy_node(k, peer);
        }
        if (!about) {
            return;
        }
    }
    json_t *j = lk_eventlog_json(e);
    if (j) {
        json_array_append_new(k->list, j);
    }
}

int lk_incident_filter_parse(const json_t *obj, struct lk_event_filter *ret, char *err,
                             size_t err_size)
{
    *ret = (struct lk_event_filter) LK_EVENT_FILTER_NONE;
    const json_t *sev = json_object_get(obj, "severity"), *num = json_object_get(obj, "number");
    const json_t *before = json_object_get(obj, "before"), *jnode = json_object_get(obj, "node");
    if (sev) {
        enum lk_severity s;
        if (!json_is_string(sev) || lk_severity_from_name(json_string_value(sev), &s) < 0) {
            snprintf(err, err_size, "invalid severity: expected ERROR, WARNING or INFO");
            return -EINVAL;
        }
        ret->severity = (int) s;
    }
    if (num) {
        if (!json_is_integer(num) || json_integer_value(num) < 0 ||
            json_integer_value(num) > 999999999) {
            snprintf(err, err_size, "invalid number: expected 0 to 999999999");
            return -EINVAL;
        }
        ret->number = (int) json_integer_value(num);
    }
    if (before) {
        if (!json_is_integer(before) || json_integer_value(before) < 1) {
            snprintf(err, err_size, "invalid before: expected a time in ms (above 0)");
            return -EINVAL;
        }
        ret->before_ms = json_integer_value(before);
    }
    if (jnode) {
        if (!json_is_string(jnode) ||
            lk_validate_tag(json_string_value(jnode), "node", err, err_size) < 0) {
            if (!json_is_string(jnode)) {
                snprintf(err, err_size, "invalid node: expected a node name");
            }
            return -EINVAL;
        }
        snprintf(ret->node, sizeof(ret->node), "%s", json_string_value(jnode));
    }
    return 0;
}

void lk_incident_filter_put(json_t *msg, const struct lk_event_filter *f)
{
    if (!msg || !f) {
        return;
    }
    if (f->severity >= 0) {
        json_object_set_new(msg, "severity",
                            json_string(lk_severity_name((enum lk_severity) f->severity)));
    }
    if (f->number >= 0) {
        json_object_set_new(msg, "number", json_integer(f->number));
    }
    if (f->before_ms > 0) {
        json_object_set_new(msg, "before", json_integer(f->before_ms));
    }
    if (f->node[0]) {
        json_object_set_new(msg, "node", json_string(f->node));
    }
}

json_t *lk_incident_local(struct lk_node *node, const char *tag, size_t limit,
                          const struct lk_event_filter *filter)
{
    struct collect k = {.list = json_array(), .node = node, .tag = tag};
    if (!k.list) {
        return NULL;
    }
    if (!tag) {
        if (lk_store_last_events_filtered(node->store, limit, NULL, filter, collect_cb, &k) < 0) {
            json_decref(k.list);
            return NULL;
        }
        return k.list;
    }
    k.tag_count = lk_cluster_hierarchy(node, tag, &k.tags);
    if (!k.tags) {
        json_decref(k.list);
        return NULL;
    }
    int r = 0;
    for (size_t i = 0; i < k.tag_count && r >= 0; i++) {
        r = lk_store_last_events_filtered(node->store, LK_INCIDENT_SCAN, k.tags[i], filter,
                                          collect_cb, &k);
    }
    if (r >= 0) {
        r = lk_store_last_events_filtered(node->store, LK_INCIDENT_SCAN, "", filter, collect_cb,
                                          &k);
    }
    free(k.tags);
    if (r < 0) {
        json_decref(k.list);
        return NULL;
    }
    lk_timeline_sort(k.list);
    while (json_array_size(k.list) > limit) {
        json_array_remove(k.list, 0);
    }
    return k.list;
}

/* ---------------------------------------------------------------- gathering */

static void gather_closed(uv_handle_t *h)
{
    struct lk_gather *g = h->data;
    free(g->tags);
    free(g->asked);
    free(g->answered);
    json_decref(g->events);
    json_decref(g->missing);
    free(g);
}

static void unlink_gather(struct lk_gather *g)
{
    for (struct lk_gather **pp = &g->cl->gathers; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    }
}

static void finish(struct lk_gather *g)
{
    unlink_gather(g);
    uv_timer_stop(&g->timer);
    for (size_t i = 0; i < g->asked_count; i++) {
        if (!g->answered[i]) {
            json_array_append_new(g->missing,
                                  json_pack("{s:s, s:s}", "node", g->asked[i], "why", "no answer"));
        }
    }
    g->cb(g->userdata, g->events, g->missing);
    uv_close((uv_handle_t *) &g->timer, gather_closed);
}

static void on_timer(uv_timer_t *t)
{
    finish(t->data);
}

void lk_incident_cancel(struct lk_gather *g)
{
    if (!g) {
        return;
    }
    unlink_gather(g);
    uv_timer_stop(&g->timer);
    uv_close((uv_handle_t *) &g->timer, gather_closed);
}

static int add_asked(struct lk_gather *g, const char *peer)
{
    char(*asked)[LK_TAG_MAX + 1] = realloc(g->asked, (g->asked_count + 1) * sizeof(*asked));
    if (!asked) {
        return -ENOMEM;
    }
    g->asked = asked;
    bool *answered = realloc(g->answered, (g->asked_count + 1) * sizeof(*answered));
    if (!answered) {
        return -ENOMEM;
    }
    g->answered = answered;
    snprintf(g->asked[g->asked_count], sizeof(g->asked[0]), "%s", peer);
    g->answered[g->asked_count++] = false;
    g->pending++;
    return 0;
}

static bool is_witness(const struct lk_cluster *cl, const char *name)
{
    for (size_t i = 0; i < cl->peer_count; i++) {
        if (strcmp(cl->peers[i].name, name) == 0) {
            return cl->peers[i].witness;
        }
    }
    return false;
}

int lk_incident_gather(struct lk_cluster *cl, const char *tag, size_t limit,
                       const struct lk_event_filter *filter, lk_gather_cb cb, void *userdata,
                       struct lk_gather **ret_gather)
{
    struct lk_node *node = cl->node;
    if (node->witness || cl->stopping || node->config.peer_count == 0) {
        return 0;
    }
    struct lk_gather *g = calloc(1, sizeof(*g));
    if (!g) {
        return -ENOMEM;
    }
    g->cl = cl;
    g->events = json_array();
    g->missing = json_array();
    if (!g->events || !g->missing) {
        goto out_free;
    }
    if (tag) {
        g->tag_count = lk_cluster_hierarchy(node, tag, &g->tags);
        if (!g->tags) {
            goto out_free;
        }
    }
    for (size_t i = 0; i < node->config.peer_count; i++) {
        const char *peer = node->config.peers[i].name;
        /* The same rule the peer applies to the request: tag is extended there. */
        bool concerned = !tag || lk_node_priority(node, tag, peer) > 0;
        if (!concerned || is_witness(cl, peer)) {
            continue; /* a witness keeps no events of resources */
        }
        if (!lk_cluster_peer_alive(cl, peer)) {
            json_array_append_new(g->missing,
                                  json_pack("{s:s, s:s}", "node", peer, "why", "not alive"));
        } else if (add_asked(g, peer) < 0) {
            goto out_free;
        }
    }
    if (g->asked_count == 0 && json_array_size(g->missing) == 0) {
        free(g->tags);
        free(g->asked);
        free(g->answered);
        json_decref(g->events);
        json_decref(g->missing);
        free(g);
        return 0; /* not a clustered hierarchy: nothing to add */
    }
    g->id = ++cl->gather_seq;
    g->filter = (struct lk_event_filter) LK_EVENT_FILTER_NONE;
    if (filter) {
        g->filter = *filter;
    }
    g->cb = cb;
    g->userdata = userdata;
    if (limit > LK_INCIDENT_EVENTS_MAX) {
        limit = LK_INCIDENT_EVENTS_MAX;
    }
    for (size_t i = 0; i < g->asked_count; i++) {
        json_t *msg = json_pack("{s:s, s:I, s:I}", "t", "events?", "id", (json_int_t) g->id,
                                "limit", (json_int_t) limit);
        if (msg && tag) {
            json_object_set_new(msg, "tag", json_string(tag));
        }
        lk_incident_filter_put(msg, filter);
        if (lk_cluster_send(cl, g->asked[i], msg) < 0) {
            g->answered[i] = true; /* never asked: named "not alive" instead */
            g->pending--;
            json_array_append_new(g->missing,
                                  json_pack("{s:s, s:s}", "node", g->asked[i], "why", "not alive"));
        }
    }
    uv_timer_init(node->loop, &g->timer);
    g->timer.data = g;
    g->next = cl->gathers;
    cl->gathers = g;
    /* Even with nobody to wait for, the callback comes from the loop, never from here. */
    uv_timer_start(&g->timer, on_timer, g->pending ? LK_INCIDENT_ANSWER_MS : 0, 0);
    *ret_gather = g;
    return 1;

out_free:
    free(g->tags);
    free(g->asked);
    free(g->answered);
    json_decref(g->events);
    json_decref(g->missing);
    free(g);
    return -ENOMEM;
}

/* ---------------------------------------------------------------- messages */

/* Whether a checked record (lk_timeline_check_event) passes f. */
static bool filter_match(const struct lk_event_filter *f, const json_t *e)
{
    const char *sev = json_string_value(json_object_get(e, "severity"));
    const char *name = json_string_value(json_object_get(e, "node"));
    if (f->severity >= 0 &&
        (!sev || strcmp(sev, lk_severity_name((enum lk_severity) f->severity)) != 0)) {
        return false;
    }
    if (f->number >= 0 && json_integer_value(json_object_get(e, "number")) != f->number) {
        return false;
    }
    if (f->before_ms > 0 && json_integer_value(json_object_get(e, "time_ms")) >= f->before_ms) {
        return false;
    }
    return !f->node[0] || (name && strcmp(name, f->node) == 0);
}

static void reject(struct lk_node *node, const char *from, const char *why)
{
    lk_eventlog_msg(node, NULL, LK_MSG_DATA_REJECTED, from, why);
}

static bool id_ok(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= ID_MAX;
}

void lk_incident_on_request(struct lk_cluster *cl, const char *from, const json_t *msg)
{
    struct lk_node *node = cl->node;
    const json_t *id = json_object_get(msg, "id"), *limit = json_object_get(msg, "limit");
    const json_t *jtag = json_object_get(msg, "tag");
    if (!id_ok(id) || !json_is_integer(limit) || json_integer_value(limit) < 1 ||
        json_integer_value(limit) > LK_INCIDENT_EVENTS_MAX || (jtag && !json_is_string(jtag))) {
        reject(node, from, "malformed events request");
        return;
    }
    const char *tag = json_string_value(jtag);
    if (tag && (!lk_node_find(node, tag) || lk_node_priority(node, tag, from) == 0)) {
        reject(node, from, "events request about a resource not extended to the sender");
        return;
    }
    if (!tag && !lk_config_find_peer(&node->config, from)) {
        reject(node, from, "events request from a node without a comm path here");
        return;
    }
    struct lk_event_filter filter;
    char err[256];
    if (lk_incident_filter_parse(msg, &filter, err, sizeof(err)) < 0) {
        reject(node, from, "malformed events request filter");
        return;
    }
    json_t *events = lk_incident_local(node, tag, (size_t) json_integer_value(limit), &filter);
    if (!events) {
        return; /* the store failed: the asker names us "no answer" */
    }
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        lk_timeline_clean_event(e); /* what a script printed must not make us refused */
    }
    json_t *reply = json_pack("{s:s, s:O, s:o}", "t", "events", "id", id, "events", events);
    (void) lk_cluster_send(cl, from, reply);
}

void lk_incident_on_reply(struct lk_cluster *cl, const char *from, const json_t *msg)
{
    struct lk_node *node = cl->node;
    const json_t *id = json_object_get(msg, "id"), *events = json_object_get(msg, "events");
    if (!id_ok(id) || !json_is_array(events) || json_array_size(events) > LK_INCIDENT_EVENTS_MAX) {
        reject(node, from, "malformed events reply");
        return;
    }
    char err[256], why[300];
    size_t i;
    const json_t *e;
    json_array_foreach(events, i, e)
    {
        if (lk_timeline_check_event(e, from, err, sizeof(err)) < 0) {
            snprintf(why, sizeof(why), "events reply refused: %s", err);
            reject(node, from, why);
            return;
        }
    }
    struct lk_gather *g = cl->gathers;
    while (g && g->id != (uint64_t) json_integer_value(id)) {
        g = g->next;
    }
    size_t k = 0;
    while (g && k < g->asked_count && strcmp(g->asked[k], from) != 0) {
        k++;
    }
    if (!g || k == g->asked_count || g->answered[k]) {
        return; /* an answer after the wait ended, or one nobody asked for: not harmful */
    }
    json_array_foreach(events, i, e)
    {
        const char *tag = json_string_value(json_object_get(e, "tag"));
        if (g->tags && tag[0] && !in_tags(g->tags, g->tag_count, tag)) {
            reject(node, from, "events reply about a resource outside the hierarchy asked for");
            return;
        }
    }
    for (i = 0; i < json_array_size(events); i++) {
        /* A peer of an earlier release ignores the filters: its other records are dropped. */
        if (filter_match(&g->filter, json_array_get(events, i))) {
            json_array_append(g->events, json_array_get(events, i));
        }
    }
    g->answered[k] = true;
    if (--g->pending == 0) {
        finish(g);
    }
}
