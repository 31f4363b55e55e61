/* Forwarded requests (forward.h): the asking side's list of requests sent to peers and the
 * serving side's list of requests peers sent here, one timer that ends either when its
 * peer is no longer alive or its deadline passed, and the "req" / "rep" / "req-end"
 * messages. Events enter from cluster.c (a message, the stop), from the api (start, cancel,
 * answer) and from the timer.
 *
 * It never runs a request itself (the api's server does, through request.c), never keeps a
 * request past its deadline or its peer's death, and never sends anything for a request
 * once either side has ended it. */
#include "forward.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cluster_internal.h"
#include "eventlog.h"
#include "proto.h"

#define TICK_MS 200
/* A node that took a request says so at once ("req-ok"); one that does not within this
 * long does not serve forwarded requests (a node of an earlier release ignores "req"). */
#define ACK_MS  10000

struct lk_forward {
    struct lk_forward *next;
    struct fwd_state *st;
    char peer[LK_TAG_MAX + 1];
    char cmd[64];
    uint64_t id;
    uint64_t deadline; /* uv_now */
    uint64_t ack_by;   /* uv_now; 0 once the peer said it took the request */
    bool admin;        /* asked with the admin role (LK_FORWARD_ADMIN_RESERVE) */
    lk_forward_msg_cb cb;
    void *userdata;
};

struct served {
    struct served *next;
    char peer[LK_TAG_MAX + 1];
    uint64_t id;
    uint64_t deadline;
    void *handle;
};

struct fwd_state {
    struct lk_cluster *cl;
    uv_timer_t timer;
    struct lk_forward *asked;
    struct served *served;
    uint64_t seq;
    const struct lk_forward_server *server;
    void *server_data;
    bool stopped;
};

/* cl->forward, made at the first use; lives as long as cl (its timer closed at the stop). */
static struct fwd_state *state_of(struct lk_cluster *cl, bool create)
{
    if (cl->forward || !create) {
        return cl->forward;
    }
    struct fwd_state *st = calloc(1, sizeof(*st));
    if (!st || uv_timer_init(cl->node->loop, &st->timer) < 0) {
        free(st);
        return NULL;
    }
    st->cl = cl;
    st->timer.data = st;
    /* Ids start at a random point, not at 1: a node restarted within the peer's check
     * never has its new requests taken for the old ones (or given their replies). */
    st->seq = (uint64_t) randombytes_uniform(1U << 30) << 16;
    cl->forward = st;
    return st;
}

static void on_tick(uv_timer_t *t);

static void arm(struct fwd_state *st)
{
    if (!st->stopped && (st->asked || st->served) && !uv_is_active((uv_handle_t *) &st->timer)) {
        (void) uv_timer_start(&st->timer, on_tick, TICK_MS, TICK_MS);
    }
}

static void unlink_asked(struct fwd_state *st, struct lk_forward *f)
{
    for (struct lk_forward **pp = &st->asked; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}

/* Ends f with a final error reply (code LK_FORWARD_EXIT_COMM): the caller's one line. */
static void fail_asked(struct fwd_state *st, struct lk_forward *f, const char *why)
{
    unlink_asked(st, f);
    char text[512];
    snprintf(text, sizeof(text), "communication with %s failed: %s", f->peer, why);
    lk_eventlog_msg(st->cl->node, NULL, LK_MSG_FORWARD_FAILED, f->cmd, f->peer, why);
    f->cb(f->userdata, lk_proto_error(LK_EXIT_COMM, text), true);
    free(f);
}

static void drop_served(struct fwd_state *st, struct served *s, bool tell_server)
{
    for (struct served **pp = &st->served; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    if (tell_server && st->server && s->handle) {
        st->server->cancel(st->server_data, s->handle);
    }
    free(s);
}

static void on_tick(uv_timer_t *t)
{
    struct fwd_state *st = t->data;
    uint64_t now = uv_now(t->loop);
    struct lk_forward *f = st->asked;
    while (f) {
        struct lk_forward *next = f->next;
        if (!lk_cluster_peer_alive(st->cl, f->peer)) {
            fail_asked(st, f, "the node is not alive");
        } else if (now >= f->deadline) {
            fail_asked(st, f, "no reply within the deadline");
        } else if (f->ack_by && now >= f->ack_by) {
            fail_asked(st, f, "it does not answer forwarded requests (an earlier release?)");
        }
        f = next;
    }
    struct served *s = st->served;
    while (s) {
        struct served *next = s->next;
        if (!lk_cluster_peer_alive(st->cl, s->peer) || now >= s->deadline) {
            drop_served(st, s, true);
        }
        s = next;
    }
    if (!st->asked && !st->served) {
        uv_timer_stop(t);
    }
}

int lk_forward_start(struct lk_cluster *cl, const char *peer, const char *role, long long uid,
                     const char *line, uint64_t deadline_ms, lk_forward_msg_cb cb, void *userdata,
                     struct lk_forward **ret, char *err, size_t err_size)
{
    /* Looked up, never added (lk_cluster_peer would make a peer of any name). */
    struct peer *p = NULL;
    for (size_t i = 0; i < cl->peer_count && !p; i++) {
        p = strcmp(cl->peers[i].name, peer) == 0 ? &cl->peers[i] : NULL;
    }
    if (!p) {
        snprintf(err, err_size, "no node '%s'", peer);
        return -ENOENT;
    }
    if (p->witness) {
        snprintf(err, err_size,
                 "communication with %s failed: it is a witness, it runs no "
                 "commands",
                 peer);
        return -EHOSTDOWN;
    }
    if (!p->alive || cl->stopping) {
        snprintf(err, err_size, "communication with %s failed: the node is not alive", peer);
        return -EHOSTDOWN;
    }
    struct fwd_state *st = state_of(cl, true);
    if (!st) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    /* A guest's request may stay for its whole deadline (log --follow): the last slots
     * are the admins', so that lcdremexec and ins_setinfo -d still get through. */
    bool admin = strcmp(role, "admin") == 0;
    unsigned n = 0, others = 0;
    for (struct lk_forward *f = st->asked; f; f = f->next) {
        n += strcmp(f->peer, peer) == 0;
        others += strcmp(f->peer, peer) == 0 && !f->admin;
    }
    if (n >= LK_FORWARD_MAX_PER_PEER ||
        (!admin && others >= LK_FORWARD_MAX_PER_PEER - LK_FORWARD_ADMIN_RESERVE)) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_FORWARD_BUSY, peer, LK_FORWARD_MAX_PER_PEER);
        snprintf(err, err_size, "communication with %s failed: %u requests are in flight to it",
                 peer, n);
        return -EBUSY;
    }
    struct lk_forward *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    if (deadline_ms == 0 || deadline_ms > LK_FORWARD_DEADLINE_MS) {
        deadline_ms = LK_FORWARD_DEADLINE_MS;
    }
    f->st = st;
    f->admin = admin;
    snprintf(f->peer, sizeof(f->peer), "%s", peer);
    f->id = ++st->seq;
    f->deadline = uv_now(cl->node->loop) + deadline_ms;
    f->ack_by = uv_now(cl->node->loop) + ACK_MS;
    f->cb = cb;
    f->userdata = userdata;
    json_t *req = json_loads(line, 0, NULL);
    snprintf(f->cmd, sizeof(f->cmd), "%s",
             json_string_value(json_object_get(req, LK_KEY_CMD))
                     ? json_string_value(json_object_get(req, LK_KEY_CMD))
                     : "?");
    json_decref(req);
    json_t *msg =
            json_pack("{s:s,s:I,s:s,s:I,s:s,s:I}", "t", "req", "id", (json_int_t) f->id, "role",
                      role, "uid", (json_int_t) uid, "line", line, "ms", (json_int_t) deadline_ms);
    if (!msg || lk_cluster_send(cl, peer, msg) < 0) {
        free(f);
        snprintf(err, err_size, "communication with %s failed: cannot send", peer);
        return -EHOSTDOWN;
    }
    f->next = st->asked;
    st->asked = f;
    arm(st);
    *ret = f;
    return 0;
}

void lk_forward_cancel(struct lk_forward *f)
{
    if (!f) {
        return;
    }
    struct fwd_state *st = f->st;
    unlink_asked(st, f);
    if (!st->stopped) {
        (void) lk_cluster_send(st->cl, f->peer,
                               json_pack("{s:s,s:I}", "t", "req-end", "id", (json_int_t) f->id));
    }
    free(f);
}

void lk_forward_set_server(struct lk_cluster *cl, const struct lk_forward_server *server,
                           void *userdata)
{
    struct fwd_state *st = state_of(cl, true);
    if (st) {
        st->server = server;
        st->server_data = userdata;
    }
}

static struct served *find_served(struct fwd_state *st, const char *from, uint64_t id)
{
    for (struct served *s = st->served; s; s = s->next) {
        if (s->id == id && strcmp(s->peer, from) == 0) {
            return s;
        }
    }
    return NULL;
}

void lk_forward_answer(struct lk_cluster *cl, const char *from, uint64_t id, const char *text,
                       bool final)
{
    struct fwd_state *st = state_of(cl, false);
    struct served *s = st ? find_served(st, from, id) : NULL;
    if (!s) {
        return;
    }
    int r = 0;
    if (!st->stopped) {
        r = lk_cluster_send(cl, from,
                            json_pack("{s:s,s:I,s:s,s:b}", "t", "rep", "id", (json_int_t) id, "msg",
                                      text, "end", final));
    }
    if (r < 0 && r != -ENOTCONN) {
        /* A message that could not leave (larger than a frame may be, out of memory): the
         * asker gets a short final error instead of waiting for its deadline. */
        char why[160];
        snprintf(why, sizeof(why), "the reply from %s could not be sent: %s", cl->node->name,
                 strerror(-r));
        json_t *e = lk_proto_error(LK_EXIT_FAILED, why);
        char *etext = e ? json_dumps(e, JSON_COMPACT) : NULL;
        json_decref(e);
        if (etext) {
            (void) lk_cluster_send(cl, from,
                                   json_pack("{s:s,s:I,s:s,s:b}", "t", "rep", "id", (json_int_t) id,
                                             "msg", etext, "end", true));
        }
        free(etext);
        final = true;
    }
    if (final) {
        drop_served(st, s, false);
    }
}

static void reject(struct lk_cluster *cl, const char *from, uint64_t id, const char *why)
{
    lk_eventlog_msg(cl->node, NULL, LK_MSG_FORWARD_REJECTED, from, why);
    json_t *e = lk_proto_error(LK_EXIT_FAILED, why);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (text) {
        (void) lk_cluster_send(cl, from,
                               json_pack("{s:s,s:I,s:s,s:b}", "t", "rep", "id", (json_int_t) id,
                                         "msg", text, "end", true));
    }
    free(text);
}

static void on_req(struct lk_cluster *cl, const char *from, const json_t *msg)
{
    json_t *jid = json_object_get(msg, "id");
    const char *role = json_string_value(json_object_get(msg, "role"));
    const char *line = json_string_value(json_object_get(msg, "line"));
    json_t *jms = json_object_get(msg, "ms");
    if (!json_is_integer(jid) || json_integer_value(jid) <= 0 || !role || !line ||
        !json_is_integer(jms) || json_integer_value(jms) <= 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_FORWARD_REJECTED, from, "malformed request");
        return;
    }
    uint64_t id = (uint64_t) json_integer_value(jid);
    struct fwd_state *st = state_of(cl, true);
    if (!st || !st->server || st->stopped) {
        reject(cl, from, id, "this node does not serve forwarded requests now");
        return;
    }
    if (find_served(st, from, id)) {
        return; /* a duplicate: the first one is being served */
    }
    unsigned n = 0;
    for (struct served *s = st->served; s; s = s->next) {
        n += strcmp(s->peer, from) == 0;
    }
    if (n >= LK_FORWARD_MAX_PER_PEER) {
        reject(cl, from, id, "too many requests in flight from that node");
        return;
    }
    struct served *s = calloc(1, sizeof(*s));
    if (!s) {
        reject(cl, from, id, "out of memory");
        return;
    }
    uint64_t ms = (uint64_t) json_integer_value(jms);
    snprintf(s->peer, sizeof(s->peer), "%s", from);
    s->id = id;
    s->deadline =
            uv_now(cl->node->loop) + (ms > LK_FORWARD_DEADLINE_MS ? LK_FORWARD_DEADLINE_MS : ms);
    s->next = st->served;
    st->served = s;
    arm(st);
    (void) lk_cluster_send(cl, from, json_pack("{s:s,s:I}", "t", "req-ok", "id", (json_int_t) id));
    /* The server may answer (and so drop s) before it returns. */
    json_t *juid = json_object_get(msg, "uid");
    long long uid = json_is_integer(juid) && json_integer_value(juid) >= 0 &&
                                    json_integer_value(juid) <= 0xffffffffLL
                            ? (long long) json_integer_value(juid)
                            : -1;
    void *handle = st->server->start(st->server_data, from, id, role, uid, line);
    struct served *still = find_served(st, from, id);
    if (!handle) {
        if (still) {
            drop_served(st, still, false);
            reject(cl, from, id, "cannot serve the request");
        }
        return;
    }
    if (still) {
        still->handle = handle;
    }
}

static void on_rep(struct lk_cluster *cl, const char *from, const json_t *msg)
{
    struct fwd_state *st = state_of(cl, false);
    json_t *jid = json_object_get(msg, "id");
    const char *text = json_string_value(json_object_get(msg, "msg"));
    bool final = json_is_true(json_object_get(msg, "end"));
    if (!st || !json_is_integer(jid) || !text) {
        return;
    }
    uint64_t id = (uint64_t) json_integer_value(jid);
    struct lk_forward *f = st->asked;
    while (f && !(f->id == id && strcmp(f->peer, from) == 0)) {
        f = f->next;
    }
    if (!f) {
        return; /* cancelled meanwhile */
    }
    json_t *m = json_loads(text, 0, NULL);
    if (!json_is_object(m)) {
        json_decref(m);
        fail_asked(st, f, "malformed reply");
        return;
    }
    if (final) {
        unlink_asked(st, f);
        f->cb(f->userdata, m, true);
        free(f);
    } else {
        f->cb(f->userdata, m, false);
    }
}

void lk_forward_on_message(struct lk_cluster *cl, const char *from, const char *t,
                           const json_t *msg)
{
    if (strcmp(t, "req") == 0) {
        on_req(cl, from, msg);
    } else if (strcmp(t, "rep") == 0) {
        on_rep(cl, from, msg);
    } else if (strcmp(t, "req-ok") == 0) {
        struct fwd_state *st = state_of(cl, false);
        json_t *jid = json_object_get(msg, "id");
        for (struct lk_forward *f = st ? st->asked : NULL; f && json_is_integer(jid); f = f->next) {
            if (f->id == (uint64_t) json_integer_value(jid) && strcmp(f->peer, from) == 0) {
                f->ack_by = 0;
            }
        }
    } else if (strcmp(t, "req-end") == 0) {
        struct fwd_state *st = state_of(cl, false);
        json_t *jid = json_object_get(msg, "id");
        struct served *s = st && json_is_integer(jid)
                                   ? find_served(st, from, (uint64_t) json_integer_value(jid))
                                   : NULL;
        if (s) {
            drop_served(st, s, true);
        }
    }
}

void lk_forward_peer_dead(struct lk_cluster *cl, const char *peer)
{
    struct fwd_state *st = state_of(cl, false);
    if (!st || st->stopped) {
        return;
    }
    /* At once, not at the next tick: a peer restarted faster than the tick is alive again
     * by then, and what was asked of its old lkd would wait for the deadline. */
    for (struct lk_forward *f = st->asked, *next; f; f = next) {
        next = f->next;
        if (strcmp(f->peer, peer) == 0) {
            fail_asked(st, f, "the node is not alive");
        }
    }
    for (struct served *s = st->served, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->peer, peer) == 0) {
            drop_served(st, s, true);
        }
    }
}

void lk_forward_stop(struct lk_cluster *cl)
{
    struct fwd_state *st = state_of(cl, false);
    if (!st || st->stopped) {
        return;
    }
    while (st->asked) {
        fail_asked(st, st->asked, "lkd is stopping");
    }
    while (st->served) {
        drop_served(st, st->served, true);
    }
    st->stopped = true;
    uv_timer_stop(&st->timer);
    uv_close((uv_handle_t *) &st->timer, NULL);
}
