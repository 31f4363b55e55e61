/* The comm-path transport (see net.h for the design): TCP connections to and from the
 * peers, the HELLO handshake, heartbeats, liveness per path and per node, cluster
 * messages, and the accounting of every dropped frame.
 *
 * Events that enter: libuv connect/accept/read/write completions, one heartbeat timer per
 * net (which also judges liveness, timeouts and freezes, and stamps the pulse thread) and
 * one reconnect timer per outbound comm path. Everything else is a call from the
 * coordinator. The pulse thread (pulse.h) runs beside the loop: a path counts as heard
 * when its connection or a pulse from its peer's address was heard within the dead time.
 *
 * Ownership: struct lk_net owns the peers (freed with it), the outbound paths (each freed
 * from its timer's close callback) and the connections (each freed from its TCP handle's
 * close callback); the net itself is freed from the last close callback after
 * lk_net_stop. Peers are never freed while running, so a callback may hold a name.
 *
 * Trust: nothing a remote end sends is believed before its frame's HMAC (protocol 2: its
 * AEAD tag under the connection's session keys) checked out,
 * and nothing from another connection is believed at all: every frame after the
 * connector's HELLO must carry the nonce we sent on this connection (net.h,
 * "Freshness"). Until a connection is ALIVE (an inbound one: until the connector's first
 * frame bound to our nonce, as its HELLO may be a recording) it may announce at most
 * PRE_HELLO_MAX_PAYLOAD bytes a frame, and such inbound connections are bounded: from a
 * configured peer's address apart (never refused for strangers), from anyone else at most
 * STRANGERS_PER_SOURCE per address and MAX_STRANGERS in all, the oldest shed for a new
 * one, each closed after max(1 s, 2 heartbeats); so clients without the key can make us
 * buffer little and cannot keep a peer out (issue 11). Every write queue is
 * bounded too (a peer that stops reading is cut off). The accepting side sends its HELLO
 * only after the connector's HELLO was verified, so nothing about us goes to a client
 * that holds neither the key nor a recording.
 *
 * Stopping drains: lk_net_stop shuts every connected connection down after its queued
 * writes and closes it on the peer's EOF or after DRAIN_MS, so the coordinator's last
 * message is not cancelled by uv_close.
 *
 * The coordinator reaches this file through lk_membership_tcp (membership.h, at the
 * end); net.h stays its own interface, for its unit test.
 *
 * Never: log (everything is reported through callbacks), block, or free a peer while
 * running. */
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guard.h"
#include "hello.h"
#include "membership.h"
#include "pulse.h"
#include "settings.h"
#include "validate.h"

#define BACKOFF_MIN_MS        100
#define BACKOFF_MAX_MS        5000
#define HELLO_TIMEOUT_MIN_MS  10000 /* inbound from a peer's address: the dead time, at least */
#define MAX_STRANGERS         256   /* inbound connections before their HELLO, from strangers */
#define STRANGERS_PER_SOURCE  8     /* ... from one remote address */
#define STRANGER_WAIT_MIN_MS  1000  /* a stranger's HELLO: 2 heartbeats, at least this */
#define MAX_PEER_PENDING      64    /* inbound before HELLO from configured peer addresses */
#define REPORT_EVERY_USEC     (10 * 1000 * 1000) /* one event per kind per 10 s at most */
#define MAX_INBOUND           1024
#define MAX_UNKNOWN_PEERS     64
#define MAX_ANONYMOUS         256 /* remote addresses counted separately */
#define MAX_WRITE_QUEUE       ((size_t) 64 * 1024 * 1024)
#define PRE_HELLO_MAX_PAYLOAD (64 * 1024)
#define READ_CHUNK            (64 * 1024)
#define MAX_FRAME             ((size_t) LK_WIRE_HEADER + LK_WIRE_MAX_PAYLOAD + LK_WIRE_MAC)
#define LISTEN_BACKLOG        128
#define DEFAULT_LISTEN        "0.0.0.0:7400"
#define DRAIN_MS              500 /* lk_net_stop: how long queued frames may take to leave */
#define REPLAY_SESSION        1 /* the replay window's session: conn_on_frame checks the real one */

#define KEY_NODE      LK_HELLO_NODE
#define KEY_WITNESS   LK_HELLO_WITNESS
#define KEY_INFO      LK_HELLO_INFO
#define KEY_DEAD_MS   LK_HELLO_DEAD_MS
#define KEY_NONCE     LK_HELLO_NONCE
#define KEY_PROTO     LK_HELLO_PROTO
#define KEY_PROTO_MIN LK_HELLO_PROTO_MIN
#define KEY_VERSION   LK_HELLO_VERSION
#define KEY_KX        LK_HELLO_KX
#define NONCE_HEX     LK_HELLO_NONCE_HEX
#define VERSION_MAX   LK_HELLO_VERSION_MAX

#ifndef LK_SOFTWARE_VERSION
#define LK_SOFTWARE_VERSION "unknown"
#endif

#define STATE_ALIVE      "ALIVE"
#define STATE_DEAD       "DEAD"
#define STATE_CONNECTING "CONNECTING"

enum drop_kind {
    DROP_MALFORMED,
    DROP_OVERSIZED,
    DROP_UNAUTHENTICATED,
    DROP_REPLAYED,
    DROP_OTHER,
    DROP_KINDS,
};

static const char *const drop_kind_name[DROP_KINDS] = {
        "malformed", "oversized", "unauthenticated", "replayed", "other",
};

struct path;
struct conn;

/* A node we have configured or heard from. */
struct peer {
    char name[LK_TAG_MAX + 1];
    bool configured;  /* in config->peers */
    bool via_witness; /* identified on the witness address's connection */
    bool witness;     /* its last HELLO said witness:true */
    bool alive;
    uint64_t last_heard_usec; /* 0 = never */
    uint64_t dead_ms;         /* as its HELLO announced */
    uint64_t dropped[DROP_KINDS];
    uint64_t stalled;
    int proto;                        /* of its last session; 0 = none yet */
    int proto_max;                    /* the newest it speaks, from that HELLO */
    char version[VERSION_MAX];        /* its software version, from that HELLO */
    char reported[VERSION_MAX + 200]; /* what on_protocol last said of it (no repeats) */
    struct path *paths[LK_MAX_PATHS]; /* outbound, best first */
    size_t path_count;
};

/* One outbound comm path: an address we keep a connection to. */
struct path {
    struct lk_net *net;
    struct peer *peer; /* NULL for the witness path until a HELLO names the witness */
    bool is_witness;
    char address[LK_ADDR_MAX];
    struct sockaddr_storage addr;
    bool addr_ok;
    char conn_ip[64];  /* addr's IP as an inbound connection's remote_ip shows it */
    struct conn *conn; /* the current connection, NULL between attempts */
    uv_timer_t retry;
    uint64_t backoff_ms;
    uint64_t since_usec; /* when it last became ALIVE or stopped being ALIVE */
    uint64_t frames_in, frames_out;
    bool removed;
    bool legacy; /* the peer answered with protocol 1: our HELLOs on this path carry the info */
};

/* One TCP connection, outbound (of a path) or inbound (accepted). */
struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    struct lk_net *net;
    struct conn *prev, *next;
    struct path *path; /* outbound and still wanted; NULL otherwise */
    struct peer *peer; /* after its HELLO */
    bool outbound;
    bool counted_inbound;
    bool counted_stranger;     /* before HELLO, from an address that is no configured peer's */
    bool counted_peer_pending; /* before HELLO, from a configured peer's address */
    bool connected;            /* TCP is up */
    bool established;          /* the peer's HELLO was accepted (inbound: not yet confirmed) */
    bool alive;                /* established and confirmed (see conn_on_frame); until it closes */
    bool closing;              /* conn_close ran: nothing is sent or delivered any more */
    bool draining;             /* closing, but the handle stays open while lk_net_stop flushes */
    char address[LK_ADDR_MAX]; /* the path's address, or the remote "ip:port" */
    char remote_ip[64];        /* for counting drops before HELLO */
    uint64_t nonce;            /* ours, in our HELLO: every frame to us must carry it */
    uint64_t peer_nonce;       /* theirs, from their HELLO: every frame we send carries it */
    uint64_t seq;              /* of the last frame we sent */
    struct lk_replay replay;   /* theirs */
    uint8_t key[LK_WIRE_KEY];  /* the cluster key of this connection's HELLOs */
    int proto;                 /* agreed in the HELLO exchange; 0 before */
    int proto_max;             /* the peer's newest, from its HELLO */
    char version[VERSION_MAX]; /* the peer's software version, from its HELLO */
    bool hello_info_sent;      /* our HELLO carried our info (protocol 1 style) */
    bool sealed;               /* protocol 2: every frame from now on is sealed, both ways */
    bool info_pending;         /* protocol 2: waiting for the peer's sealed info frame */
    struct lk_wire_keys keys;  /* the session keys when sealed */
    uint8_t kx_public[LK_WIRE_KX], kx_secret[LK_WIRE_KX]; /* ours, for this connection only */
    uint8_t peer_kx[LK_WIRE_KX];                          /* theirs, from their HELLO */
    uint64_t recv_seq; /* the peer's last seq (sealed frames arrive in order) */
    json_t *hello;     /* inbound: their HELLO, applied when the connection confirms */
    uv_shutdown_t shutdown_req;
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint64_t started_usec, last_heard_usec, since_usec;
    uint64_t frames_in, frames_out;
};

struct write_req {
    uv_write_t req;
    struct conn *conn;
    uint8_t *buf;
    size_t len;
};

/* Drops from a remote address that never identified itself. */
struct anonymous {
    char address[64];
    uint64_t dropped[DROP_KINDS];
};

struct lk_net {
    uv_loop_t *loop;
    struct lk_membership_callbacks cb;
    void *userdata;
    char node[LK_TAG_MAX + 1];
    uint8_t key[LK_WIRE_KEY];     /* the cluster key we send with */
    uint8_t alt_key[LK_WIRE_KEY]; /* also accepted on a connector's HELLO (key rotation) */
    bool has_alt;
    bool alt_is_next; /* alt_key is the next key (else the previous one, dropped once unused) */
    bool witness;
    struct lk_config config;
    json_t *hello_info;

    uv_tcp_t listener;
    uv_timer_t tick;
    uv_timer_t drain; /* lk_net_stop: bounds how long connections flush */
    size_t draining_count;
    bool started;     /* lk_net_start succeeded: on_stopped is due */
    bool drain_armed; /* lk_net_stop closed every connection: drain closes when done */
    uint64_t last_tick_usec;
    uint64_t last_heartbeat_usec; /* when heartbeats last went out */
    bool skipped_judging;         /* the previous tick was late and judged nobody */

    struct peer **peers;
    size_t peer_count, peer_capacity;
    struct path *witness_path;
    struct conn *conns;
    size_t inbound_count;
    size_t stranger_count;
    size_t peer_pending_count;
    struct port_report {
        uint64_t pending;   /* not reported yet */
        uint64_t last_usec; /* last reported */
        char detail[128];
    } reports[LK_PORT_KINDS];
    struct lk_pulse *pulse; /* the pulse thread (pulse.h) */
    struct anonymous *anonymous;
    size_t anonymous_count;

    uint64_t dropped[DROP_KINDS];
    uint64_t stalled;
    unsigned open_handles;
    bool stopping;
};

static void conn_close(struct conn *c, const char *why, const char *node_why);
static void path_connect(struct path *path);

/* ---------------------------------------------------------------- small helpers */

static uint64_t mono_usec(void)
{
    return uv_hrtime() / 1000;
}

static uint64_t dead_ms(const struct lk_net *net)
{
    return lk_cluster_settings_dead_ms(&net->config.cluster);
}

/* A fresh nonce for one of our connections (see net.h, "Freshness"). */
static uint64_t new_nonce(void)
{
    uint64_t nonce;
    randombytes_buf(&nonce, sizeof(nonce));
    return nonce;
}

/* The address of sa as "ip:port" (ret_text) and "ip" (ret_ip). */
static void format_address(const struct sockaddr_storage *sa, char *ret_text, size_t text_size,
                           char *ret_ip, size_t ip_size)
{
    char ip[64] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        (void) uv_ip4_name(in, ip, sizeof(ip));
        port = ntohs(in->sin_port);
        snprintf(ret_text, text_size, "%s:%d", ip, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        (void) uv_ip6_name(in6, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
        snprintf(ret_text, text_size, "[%s]:%d", ip, port);
    } else {
        snprintf(ret_text, text_size, "?");
    }
    snprintf(ret_ip, ip_size, "%s", ip);
}

/* The payload length a frame header announces (the header must be complete). */
static uint32_t header_payload_len(const uint8_t *buf)
{
    return (uint32_t) buf[24] << 24 | (uint32_t) buf[25] << 16 | (uint32_t) buf[26] << 8 | buf[27];
}

static uint64_t header_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* The session and seq a frame header announces (the header must be complete). */
static uint64_t header_session(const uint8_t *buf)
{
    return header_u64(buf + 8);
}

static uint64_t header_seq(const uint8_t *buf)
{
    return header_u64(buf + 16);
}

/* A payload as a JSON object (a new reference), or NULL. */
static json_t *parse_object(const struct lk_wire_frame *f)
{
    json_error_t error;
    json_t *v =
            json_loadb((const char *) f->payload, f->payload_len, JSON_REJECT_DUPLICATES, &error);
    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* ---------------------------------------------------------------- peers */

static struct peer *find_peer(const struct lk_net *net, const char *name)
{
    for (size_t i = 0; i < net->peer_count; i++) {
        if (strcmp(net->peers[i]->name, name) == 0) {
            return net->peers[i];
        }
    }
    return NULL;
}

static struct peer *peer_new(struct lk_net *net, const char *name)
{
    if (net->peer_count == net->peer_capacity) {
        size_t cap = net->peer_capacity ? net->peer_capacity * 2 : 8;
        struct peer **bigger = realloc(net->peers, cap * sizeof(*bigger));
        if (!bigger) {
            return NULL;
        }
        net->peers = bigger;
        net->peer_capacity = cap;
    }
    struct peer *p = calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    snprintf(p->name, sizeof(p->name), "%s", name);
    net->peers[net->peer_count++] = p;
    return p;
}

static bool peer_known(const struct peer *p)
{
    return p->configured || p->via_witness;
}

static size_t unknown_count(const struct lk_net *net)
{
    size_t n = 0;
    for (size_t i = 0; i < net->peer_count; i++) {
        n += !peer_known(net->peers[i]);
    }
    return n;
}

/* Recomputes whether p is ALIVE (any of its connections is) and reports a change. */
static void peer_update(struct lk_net *net, struct peer *p, const char *why)
{
    bool alive = false;
    for (struct conn *c = net->conns; c; c = c->next) {
        if (c->peer == p && c->alive) {
            alive = true;
            break;
        }
    }
    if (alive == p->alive) {
        return;
    }
    p->alive = alive;
    if (net->cb.on_node) {
        net->cb.on_node(net->userdata, p->name, alive, why);
    }
}

/* The counters of a remote address that never identified itself, or NULL when the table
 * is full (then only the totals count). */
static struct anonymous *anonymous_get(struct lk_net *net, const char *ip)
{
    for (size_t i = 0; i < net->anonymous_count; i++) {
        if (strcmp(net->anonymous[i].address, ip) == 0) {
            return &net->anonymous[i];
        }
    }
    if (!net->anonymous) {
        net->anonymous = calloc(MAX_ANONYMOUS, sizeof(*net->anonymous));
    }
    if (!net->anonymous || net->anonymous_count == MAX_ANONYMOUS) {
        return NULL;
    }
    struct anonymous *a = &net->anonymous[net->anonymous_count++];
    snprintf(a->address, sizeof(a->address), "%s", ip);
    return a;
}

/* c is no longer a connection before its HELLO (confirmed, or closing). */
static void uncount_pending(struct lk_net *net, struct conn *c)
{
    if (c->counted_stranger) {
        c->counted_stranger = false;
        net->stranger_count--;
    }
    if (c->counted_peer_pending) {
        c->counted_peer_pending = false;
        net->peer_pending_count--;
    }
}

/* The pulse thread learns the incarnation p's HELLO carried ("inc" in its info): only
 * its pulses with it count from now. */
static void pulse_learn(struct lk_net *net, const struct peer *p, const json_t *info)
{
    uint64_t inc = 0;
    if (lk_guard_parse_hex64(json_string_value(json_object_get(info, "inc")), &inc) < 0) {
        inc = 0;
    }
    lk_pulse_learn(net->pulse, p->name, inc);
}

/* Counts one refused, shed or timed-out connection of a stranger, and reports the count
 * at most once per REPORT_EVERY_USEC per kind (the rest at a later tick: report_due). */
static void port_report_flush(struct lk_net *net, enum lk_port_kind kind, uint64_t now)
{
    struct port_report *r = &net->reports[kind];
    if (r->pending == 0) {
        return;
    }
    uint64_t count = r->pending;
    r->pending = 0;
    r->last_usec = now;
    if (net->cb.on_comm_port) {
        net->cb.on_comm_port(net->userdata, kind, count, r->detail);
    }
}

static void port_report(struct lk_net *net, enum lk_port_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void port_report(struct lk_net *net, enum lk_port_kind kind, const char *fmt, ...)
{
    struct port_report *r = &net->reports[kind];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    r->pending++;
    uint64_t now = mono_usec();
    if (r->last_usec == 0 || now - r->last_usec >= REPORT_EVERY_USEC) {
        port_report_flush(net, kind, now);
    }
}

static void report_due(struct lk_net *net, uint64_t now)
{
    for (int k = 0; k < LK_PORT_KINDS && !net->stopping; k++) {
        if (now - net->reports[k].last_usec >= REPORT_EVERY_USEC) {
            port_report_flush(net, (enum lk_port_kind) k, now);
        }
    }
}

/* ---------------------------------------------------------------- handles */

static void net_free(struct lk_net *net)
{
    for (size_t i = 0; i < net->peer_count; i++) {
        free(net->peers[i]);
    }
    free(net->peers);
    free(net->anonymous);
    json_decref(net->hello_info);
    sodium_memzero(net->key, sizeof(net->key));
    sodium_memzero(net->alt_key, sizeof(net->alt_key));
    free(net);
}

static void net_handle_closed(struct lk_net *net)
{
    if (--net->open_handles == 0 && net->stopping) {
        if (net->started && net->cb.on_stopped) {
            net->cb.on_stopped(net->userdata);
        }
        net_free(net);
    }
}

static void on_net_handle_closed(uv_handle_t *h)
{
    net_handle_closed(h->data);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct lk_net *net = c->net;
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        net->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    json_decref(c->hello);
    free(c->rbuf);
    sodium_memzero(c->key, sizeof(c->key));
    sodium_memzero(&c->keys, sizeof(c->keys));
    sodium_memzero(c->kx_secret, sizeof(c->kx_secret));
    free(c);
    net_handle_closed(net);
}

static void on_path_closed(uv_handle_t *h)
{
    struct path *path = h->data;
    struct lk_net *net = path->net;
    free(path);
    net_handle_closed(net);
}

/* A new connection, linked into the net, its handle initialised. */
static struct conn *conn_new(struct lk_net *net)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->net = net;
    if (uv_tcp_init(net->loop, &c->tcp) < 0) {
        free(c);
        return NULL;
    }
    c->tcp.data = c;
    c->connect_req.data = c;
    net->open_handles++;
    c->next = net->conns;
    if (net->conns) {
        net->conns->prev = c;
    }
    net->conns = c;
    c->nonce = new_nonce();
    c->started_usec = mono_usec();
    memcpy(c->key, net->key, LK_WIRE_KEY);
    lk_wire_kx_new(c->kx_public, c->kx_secret);
    return c;
}

/* ---------------------------------------------------------------- closing */

static void on_retry(uv_timer_t *t);

/* Arms path's reconnect timer with its backoff, and doubles the backoff (up to
 * BACKOFF_MAX_MS; a HELLO resets it). */
static void path_schedule_retry(struct path *path)
{
    (void) uv_timer_start(&path->retry, on_retry, path->backoff_ms, 0);
    path->backoff_ms =
            path->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : path->backoff_ms * 2;
}

/* Closes the handle of c, whose conn_close ran (or finishes its drain). */
static void conn_close_handle(struct conn *c)
{
    struct lk_net *net = c->net;
    if (c->draining) {
        c->draining = false;
        net->draining_count--;
    }
    if (uv_is_closing((uv_handle_t *) &c->tcp)) {
        return;
    }
    uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
    if (net->drain_armed && net->draining_count == 0 &&
        !uv_is_closing((uv_handle_t *) &net->drain)) {
        uv_close((uv_handle_t *) &net->drain, on_net_handle_closed);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    /* Our frames and our FIN are with the kernel now. Wait for the peer's FIN (on_read):
     * closing while its heartbeats sit unread in our receive queue would make the kernel
     * answer with a reset, and a reset throws away what the peer has not read yet. */
    if (status < 0) {
        conn_close_handle(c);
    }
}

/* lk_net_stop: the connections still draining after DRAIN_MS are closed as they are. */
static void on_drain_timeout(uv_timer_t *t)
{
    struct lk_net *net = t->data;
    struct conn *next;
    for (struct conn *c = net->conns; c; c = next) {
        next = c->next;
        if (c->draining) {
            conn_close_handle(c);
        }
    }
}

/* Closes the handle of c, which conn_close just marked closing. While stopping, a
 * connected c is drained first: uv_close would cancel the writes still queued, and the
 * last thing the coordinator sends before lk_net_stop is that this node leaves on
 * purpose. Draining shuts the write side down after the queued writes and closes on
 * the peer's EOF, or when lk_net_stop's DRAIN_MS are over. */
static void conn_release(struct conn *c)
{
    struct lk_net *net = c->net;
    if (net->stopping && c->connected && !c->draining &&
        uv_is_writable((const uv_stream_t *) &c->tcp) && !uv_is_closing((uv_handle_t *) &c->tcp)) {
        c->shutdown_req.data = c;
        if (uv_shutdown(&c->shutdown_req, (uv_stream_t *) &c->tcp, on_shutdown) == 0) {
            c->draining = true;
            net->draining_count++;
            return;
        }
    }
    conn_close_handle(c);
}

/* Closes c (idempotent). When it was ALIVE, reports the path DEAD with why and the node
 * with node_why (NULL: why) if that was its last ALIVE connection. An outbound path
 * reconnects after its backoff. */
static void conn_close(struct conn *c, const char *why, const char *node_why)
{
    if (c->closing) {
        return;
    }
    struct lk_net *net = c->net;
    c->closing = true;
    bool was_alive = c->alive;
    c->alive = false;
    uint64_t now = mono_usec();
    c->since_usec = now;
    if (c->path) {
        struct path *path = c->path;
        path->conn = NULL;
        c->path = NULL;
        if (was_alive) {
            path->since_usec = now;
        }
        if (!path->removed && !net->stopping) {
            path_schedule_retry(path);
        }
    }
    uncount_pending(net, c);
    if (c->counted_inbound) {
        c->counted_inbound = false;
        net->inbound_count--;
    }
    conn_release(c);
    if (!was_alive || net->stopping) {
        return;
    }
    struct peer *p = c->peer;
    if (net->cb.on_path) {
        net->cb.on_path(net->userdata, p->name, c->address, false, why);
    }
    if (!net->stopping) {
        peer_update(net, p, node_why ? node_why : why);
    }
}

/* Counts a bad frame on c, reports it, and closes c: the stream cannot be trusted or
 * resynchronised after it. */
static void conn_drop(struct conn *c, enum drop_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void conn_drop(struct conn *c, enum drop_kind kind, const char *fmt, ...)
{
    struct lk_net *net = c->net;
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);

    /* Before HELLO an outbound connection is charged to the peer we meant to reach; an
     * inbound one to its remote address. */
    struct peer *p = c->peer ? c->peer : (c->path ? c->path->peer : NULL);
    char from[LK_ADDR_MAX];
    if (p) {
        p->dropped[kind]++;
        snprintf(from, sizeof(from), "%s", p->name);
    } else {
        struct anonymous *a = anonymous_get(net, c->remote_ip);
        if (a) {
            a->dropped[kind]++;
        }
        snprintf(from, sizeof(from), "%s", c->remote_ip);
    }
    net->dropped[kind]++;
    if (net->cb.on_dropped) {
        net->cb.on_dropped(net->userdata, from, why);
    }
    conn_close(c, why, NULL);
}

/* ---------------------------------------------------------------- writing */

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *) req;
    struct conn *c = w->conn;
    free(w->buf);
    free(w);
    if (status < 0 && !c->closing) {
        char why[128];
        snprintf(why, sizeof(why), "cannot write: %s", uv_strerror(status));
        conn_close(c, why, NULL);
    }
}

/* Sends one frame on c. Returns 0, -ENOTCONN when c is closing (or closes now because of
 * a write error), -ENOBUFS when its queue is over MAX_WRITE_QUEUE (c is then closed as
 * stalled), -EMSGSIZE or -ENOMEM. */
static int conn_send(struct conn *c, uint8_t type, const char *text, size_t len)
{
    struct lk_net *net = c->net;
    if (c->closing) {
        return -ENOTCONN;
    }
    if (len > LK_WIRE_MAX_PAYLOAD) {
        return -EMSGSIZE;
    }
    /* What the kernel has not taken yet: a peer that does not read makes it grow. */
    size_t queued = uv_stream_get_write_queue_size((const uv_stream_t *) &c->tcp);
    if (queued + LK_WIRE_HEADER + len + LK_WIRE_MAC > MAX_WRITE_QUEUE) {
        /* The peer does not read: rather than buffer without bound, give up on this
         * connection; the peer resynchronises after it reconnects. */
        net->stalled++;
        if (c->peer) {
            c->peer->stalled++;
        }
        conn_close(c, "stalled: over 64 MiB waiting to be sent", NULL);
        return -ENOBUFS;
    }
    struct write_req *w = calloc(1, sizeof(*w));
    if (!w) {
        return -ENOMEM;
    }
    /* Once we have the peer's HELLO, every frame carries its nonce; only the connector's
     * HELLO goes out before that, and carries our own. */
    uint64_t session = c->established ? c->peer_nonce : c->nonce;
    int r = c->sealed ? lk_wire_seal(c->keys.send, type, session, c->seq + 1, text, len, &w->buf,
                                     &w->len)
                      : lk_wire_encode(c->key, type, session, c->seq + 1, text, len, &w->buf,
                                       &w->len);
    if (r < 0) {
        free(w);
        return r == -EINVAL ? -EMSGSIZE : r;
    }
    w->conn = c;
    uv_buf_t b = uv_buf_init((char *) w->buf, (unsigned) w->len);
    r = uv_write(&w->req, (uv_stream_t *) &c->tcp, &b, 1, on_write);
    if (r < 0) {
        free(w->buf);
        free(w);
        char why[128];
        snprintf(why, sizeof(why), "cannot write: %s", uv_strerror(r));
        conn_close(c, why, NULL);
        return -ENOTCONN;
    }
    c->seq++;
    c->frames_out++;
    if (c->path) {
        c->path->frames_out++;
    }
    return 0;
}

/* The oldest protocol this node accepts: the cluster's min-protocol. */
static int our_min_proto(const struct lk_net *net)
{
    int m = (int) net->config.cluster.min_protocol;
    return m < LK_WIRE_PROTO_MIN ? LK_WIRE_PROTO_MIN : m;
}

/* Sends our HELLO on c. It carries who we are, the nonce, the protocols and the software
 * version, nothing secret: a protocol 2 session sends the info (settings) sealed right
 * after (send_sealed_info). The info goes in the HELLO only to a peer that speaks
 * protocol 1 (with_info), which expects it there. Returns 0 or a negative errno (c may
 * then be closing). */
static int conn_send_hello(struct conn *c, bool with_info)
{
    struct lk_net *net = c->net;
    char nonce[NONCE_HEX + 1], kx[2 * LK_WIRE_KX + 1];
    snprintf(nonce, sizeof(nonce), "%016llx", (unsigned long long) c->nonce);
    sodium_bin2hex(kx, sizeof(kx), c->kx_public, LK_WIRE_KX);
    json_t *hello = json_pack("{s:s, s:b, s:I, s:s, s:i, s:i, s:s, s:s}", KEY_NODE, net->node,
                              KEY_WITNESS, net->witness, KEY_DEAD_MS, (json_int_t) dead_ms(net),
                              KEY_NONCE, nonce, KEY_PROTO, LK_WIRE_PROTO_MAX, KEY_PROTO_MIN,
                              our_min_proto(net), KEY_VERSION, LK_SOFTWARE_VERSION, KEY_KX, kx);
    if (hello && with_info) {
        json_object_set(hello, KEY_INFO, net->hello_info);
    }
    char *text = hello ? json_dumps(hello, JSON_COMPACT) : NULL;
    json_decref(hello);
    if (!text) {
        conn_close(c, "out of memory", NULL);
        return -ENOMEM;
    }
    c->hello_info_sent = with_info;
    int r = conn_send(c, LK_WIRE_HELLO, text, strlen(text));
    free(text);
    if (r < 0) {
        conn_close(c, "cannot send HELLO", NULL);
    }
    return r;
}

/* Protocol 2, right after the HELLOs: derives c's session keys, seals everything from
 * now on, and sends our info (the settings digest, the data version...) in the first
 * sealed frame, a HELLO {"info":{...}}. The peer's own info frame makes c ALIVE
 * (conn_on_frame). Returns 0 or a negative errno (c is then closing). */
static int send_sealed_info(struct conn *c)
{
    struct lk_net *net = c->net;
    int r = lk_wire_session_keys(c->key, c->outbound, c->nonce, c->peer_nonce, c->kx_secret,
                                 c->peer_kx, &c->keys);
    sodium_memzero(c->kx_secret, sizeof(c->kx_secret));
    if (r < 0) {
        conn_drop(c, DROP_MALFORMED, "HELLO with an unusable kx key");
        return r;
    }
    c->sealed = true;
    c->info_pending = true;
    json_t *v = json_pack("{s:O}", KEY_INFO, net->hello_info);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    r = text ? conn_send(c, LK_WIRE_HELLO, text, strlen(text)) : -ENOMEM;
    free(text);
    if (r < 0) {
        conn_close(c, "cannot send the sealed HELLO", NULL);
    }
    return r;
}

/* ---------------------------------------------------------------- receiving */

/* A valid frame arrived on c (and so from its peer). */
static void conn_heard(struct conn *c)
{
    uint64_t now = mono_usec();
    c->last_heard_usec = now;
    c->frames_in++;
    if (c->path) {
        c->path->frames_in++;
    }
    if (c->peer) {
        c->peer->last_heard_usec = now;
    }
}

static char *heartbeat_text(struct lk_net *net);

/* After a key rotation committed (lk_net_set_keys): moves the connections to the new
 * key without losing a peer. Each outbound connection still on another key closes when
 * its peer has another ALIVE connection (it reconnects at once with the new key; one
 * per peer at a time, the next when that one is ALIVE again; between two nodes the one
 * with the smaller name first); inbound ones are the peer's to move. The previous key is forgotten
 * once no connection uses it. */
static void rekey(struct lk_net *net)
{
    if (net->stopping) {
        return;
    }
    for (size_t i = 0; i < net->peer_count; i++) {
        struct peer *p = net->peers[i];
        size_t alive = 0;
        bool has_new = false;
        struct conn *old = NULL;
        for (struct conn *c = net->conns; c; c = c->next) {
            if (c->peer != p || c->closing || !c->alive) {
                continue;
            }
            alive++;
            bool same = sodium_memcmp(c->key, net->key, LK_WIRE_KEY) == 0;
            has_new |= same;
            if (c->outbound && !old && !same) {
                old = c;
            }
        }
        /* Both ends run this: were both to close their outbound connection at once, the
         * peer would have none left. The end with the smaller name moves first; the other
         * once a connection on the new key is ALIVE (the first one's new connection). */
        if (old && alive > 1 && (strcmp(net->node, p->name) < 0 || has_new)) {
            if (old->path) {
                old->path->backoff_ms = BACKOFF_MIN_MS;
            }
            conn_close(old, "the cluster key changed: reconnecting with the new key", NULL);
            if (net->stopping) {
                return;
            }
        }
    }
    if (!net->has_alt || net->alt_is_next) {
        return;
    }
    for (struct conn *c = net->conns; c; c = c->next) {
        if (!c->closing && sodium_memcmp(c->key, net->alt_key, LK_WIRE_KEY) == 0) {
            return;
        }
    }
    sodium_memzero(net->alt_key, sizeof(net->alt_key));
    net->has_alt = false;
}

/* Tells the coordinator which protocol and software version peer p speaks (refused:
 * NULL), or why its session was refused; only what changed since the last report, so a
 * peer that reconnects every few seconds does not repeat itself. */
static void report_protocol(struct lk_net *net, struct peer *p, int proto, const char *version,
                            const char *refused)
{
    char now[sizeof(p->reported)];
    snprintf(now, sizeof(now), "%d %s %s", proto, version, refused ? refused : "");
    if (strcmp(now, p->reported) == 0) {
        return;
    }
    snprintf(p->reported, sizeof(p->reported), "%s", now);
    if (net->cb.on_protocol) {
        net->cb.on_protocol(net->userdata, p->name, proto, version, refused);
    }
}

/* Makes c ALIVE on the HELLO it holds (c->hello, consumed): the peer's settings, the
 * path's backoff, on_path, on_node, on_hello. */
static void conn_confirm(struct conn *c)
{
    struct lk_net *net = c->net;
    struct peer *p = c->peer;
    json_t *hello = c->hello;
    c->hello = NULL;
    const json_t *info = json_object_get(hello, KEY_INFO);
    if (c->path && c->path->is_witness) {
        if (c->path->peer && c->path->peer != p) {
            c->path->peer->via_witness = false;
        }
        c->path->peer = p;
        p->via_witness = true;
    }
    p->witness = json_is_true(json_object_get(hello, KEY_WITNESS));
    const json_t *dead = json_object_get(hello, KEY_DEAD_MS);
    /* Outside 1..LK_GUARD_DEAD_MS_MAX (no node can be configured so): not announced. */
    json_int_t announced = dead ? json_integer_value(dead) : 0;
    p->dead_ms = announced > 0 && announced <= LK_GUARD_DEAD_MS_MAX ? (uint64_t) announced : 0;
    uncount_pending(net, c);
    pulse_learn(net, p, info);
    if (c->path) {
        c->path->backoff_ms = BACKOFF_MIN_MS;
        c->path->since_usec = mono_usec();
    }
    conn_heard(c);
    c->alive = true;
    c->since_usec = mono_usec();
    p->proto = c->proto;
    p->proto_max = c->proto_max;
    snprintf(p->version, sizeof(p->version), "%s", c->version);
    report_protocol(net, p, c->proto, c->version, NULL);
    if (c->closing || net->stopping) {
        json_decref(hello);
        return;
    }

    /* The path is ALIVE before on_hello, so the coordinator can answer on it at once. */
    if (net->cb.on_path) {
        net->cb.on_path(net->userdata, p->name, c->address, true, "HELLO received");
    }
    if (!c->closing && !net->stopping) {
        char why[LK_ADDR_MAX + 64];
        snprintf(why, sizeof(why), "HELLO received on %s", c->address);
        peer_update(net, p, why);
    }
    if (!c->closing && !net->stopping && net->cb.on_hello) {
        json_t *empty = info ? NULL : json_object();
        net->cb.on_hello(net->userdata, p->name, peer_known(p), info ? info : empty);
        json_decref(empty);
    }
    json_decref(hello);
    rekey(net);
}

/* The protocol c's two ends use: the newest both speak. Returns it, or 0 with the reason
 * in why when there is none both accept (the peer's is too old for our min-protocol, or
 * ours too old for its). */
static int negotiate(const struct lk_net *net, const char *name, int their_max, int their_min,
                     const char *their_version, char *why, size_t why_size)
{
    int agreed = their_max < LK_WIRE_PROTO_MAX ? their_max : LK_WIRE_PROTO_MAX;
    int ours_min = our_min_proto(net);
    if (agreed < ours_min) {
        snprintf(why, why_size,
                 "node %s speaks protocol %d at most (version %s); this node (version %s) "
                 "requires protocol %d or newer (min-protocol): connection refused, upgrade it",
                 name, their_max, their_version, LK_SOFTWARE_VERSION, ours_min);
        return 0;
    }
    if (agreed < their_min) {
        snprintf(why, why_size,
                 "node %s (version %s) requires protocol %d or newer; this node (version %s) "
                 "speaks protocols %d to %d: connection refused, upgrade this node",
                 name, their_version, their_min, LK_SOFTWARE_VERSION, LK_WIRE_PROTO_MIN,
                 LK_WIRE_PROTO_MAX);
        return 0;
    }
    return agreed;
}

/* The peer's HELLO on c, authenticated and (outbound) bound to our nonce. Both ends
 * then use the newest protocol both speak (negotiate); a peer with none in common is
 * refused (on_protocol) and c closed.
 *
 * Protocol 1 (a peer of the previous release): an outbound c is ALIVE at once, and
 * confirms with a heartbeat that carries the acceptor's nonce. An inbound c answers
 * with our HELLO and waits for the connector's next frame: its HELLO may be a recording,
 * and only a frame that carries our fresh nonce under a valid HMAC proves the connector
 * is live (conn_on_frame). Our HELLO to such a peer carries our info; when we connected
 * without it (we did not know), c closes and the path reconnects at once with it.
 *
 * Protocol 2: both ends derive the session keys and send their info in a sealed frame
 * (send_sealed_info); each end's c becomes ALIVE on the peer's sealed info, which also
 * proves the connector live (it is bound to our nonce and sealed under keys derived from
 * it). */
static void conn_on_hello(struct conn *c, const struct lk_wire_frame *f)
{
    struct lk_net *net = c->net;
    struct lk_hello h;
    char err[256];
    if (lk_hello_parse(f->payload, f->payload_len, &h, err, sizeof(err)) < 0) {
        conn_drop(c, DROP_MALFORMED, "%s", err);
        return;
    }
    json_t *hello = h.root;
    const char *name = h.node;
    if (strcmp(name, net->node) == 0) {
        conn_drop(c, DROP_OTHER, "HELLO from a node named like this one ('%s')", name);
        goto out;
    }
    if (c->path && !c->path->is_witness && strcmp(name, c->path->peer->name) != 0) {
        conn_drop(c, DROP_OTHER, "HELLO from '%s' on a comm path to '%s'", name,
                  c->path->peer->name);
        goto out;
    }
    struct peer *p = find_peer(net, name);
    if (!p) {
        if (unknown_count(net) >= MAX_UNKNOWN_PEERS) {
            conn_drop(c, DROP_OTHER, "HELLO from '%s': too many unknown nodes", name);
            goto out;
        }
        p = peer_new(net, name);
        if (!p) {
            conn_close(c, "out of memory", NULL);
            goto out;
        }
    }
    char why[512];
    int agreed = negotiate(net, name, h.proto_max, h.proto_min, h.version, why, sizeof(why));
    if (agreed == 0) {
        report_protocol(net, p, 0, h.version, why);
        conn_close(c, why, NULL);
        goto out;
    }
    if (c->outbound && agreed == 1 && !c->hello_info_sent && c->path) {
        /* A peer of the previous release expects our info in our HELLO, which went
         * without it: start again with it, at once. */
        c->path->legacy = true;
        c->path->backoff_ms = BACKOFF_MIN_MS;
        conn_close(c, "the peer speaks protocol 1: reconnecting with a protocol 1 HELLO", NULL);
        goto out;
    }
    if (agreed >= 2) {
        if (!h.has_kx) {
            conn_drop(c, DROP_MALFORMED, "HELLO from '%s' on protocol %d without a valid kx", name,
                      agreed);
            goto out;
        }
        memcpy(c->peer_kx, h.kx, LK_WIRE_KX);
    }
    if (c->path && agreed >= 2) {
        c->path->legacy = false;
    }
    c->proto = agreed;
    c->proto_max = h.proto_max;
    snprintf(c->version, sizeof(c->version), "%s", h.version);
    c->peer = p;
    c->peer_nonce = h.nonce;
    c->established = true;
    c->hello = hello;
    hello = NULL;
    if (!c->outbound) {
        /* The accepting side answers only now, to a connector that proved it holds the
         * key (or replays a HELLO of someone who does: our answer then leads nowhere). */
        if (conn_send_hello(c, agreed == 1) == 0 && agreed >= 2) {
            (void) send_sealed_info(c);
        }
        goto out;
    }
    if (agreed >= 2) {
        (void) send_sealed_info(c);
        goto out;
    }
    char *text = heartbeat_text(net);
    int r = text ? conn_send(c, LK_WIRE_HEARTBEAT, text, strlen(text)) : -ENOMEM;
    free(text);
    if (r < 0) {
        conn_close(c, "cannot send the first heartbeat", NULL);
        goto out;
    }
    conn_confirm(c);
out:
    json_decref(hello);
}

static void conn_on_frame(struct conn *c, const struct lk_wire_frame *f)
{
    struct lk_net *net = c->net;
    /* Freshness across connections (net.h): every frame but the connector's HELLO must
     * carry the nonce we sent in our HELLO on this connection. A frame recorded on
     * another connection carries another nonce, and its HMAC forbids changing it. */
    bool connector_hello = !c->outbound && !c->established;
    if (!connector_hello && f->session != c->nonce) {
        conn_drop(c, DROP_REPLAYED, "frame of another connection (session %016llx, seq %llu)",
                  (unsigned long long) f->session, (unsigned long long) f->seq);
        return;
    }
    /* Within the connection, each sequence number once (the session was checked above);
     * sealed frames strictly in order: TCP does not reorder, someone in between does. */
    if (c->sealed) {
        if (!lk_wire_in_order(&c->recv_seq, f->seq)) {
            conn_drop(c, DROP_REPLAYED, "sealed frame out of order (seq %llu after %llu)",
                      (unsigned long long) f->seq, (unsigned long long) c->recv_seq);
            return;
        }
    } else if (!lk_replay_accept(&c->replay, REPLAY_SESSION, f->seq)) {
        conn_drop(c, DROP_REPLAYED, "replayed frame (seq %llu)", (unsigned long long) f->seq);
        return;
    } else {
        c->recv_seq = f->seq;
    }
    if (connector_hello && f->type == LK_WIRE_FENCED) {
        /* A guard's one frame on a connection of its own (lib/guard.h): authenticated by
         * the HMAC; whether it is fresh is the coordinator's to judge. */
        if (net->cb.on_fenced) {
            net->cb.on_fenced(net->userdata, f->session, f->payload, f->payload_len);
        }
        conn_close(c, "a guard's fenced frame was read", NULL);
        return;
    }
    if (f->type == LK_WIRE_FENCED) {
        conn_drop(c, DROP_OTHER, "a fenced frame inside a session");
        return;
    }
    if (!c->established) {
        if (f->type != LK_WIRE_HELLO) {
            conn_drop(c, DROP_OTHER, "frame of type %u before HELLO", f->type);
            return;
        }
        conn_on_hello(c, f);
        return;
    }
    if (c->info_pending) {
        /* Protocol 2: the peer's sealed HELLO with its info; it makes c ALIVE. */
        json_t *sealed = f->type == LK_WIRE_HELLO ? parse_object(f) : NULL;
        json_t *info = json_object_get(sealed, KEY_INFO);
        if (!json_is_object(info)) {
            json_decref(sealed);
            conn_drop(c, f->type == LK_WIRE_HELLO ? DROP_MALFORMED : DROP_OTHER,
                      "frame of type %u instead of a sealed HELLO with the info", f->type);
            return;
        }
        json_object_set(c->hello, KEY_INFO, info);
        json_decref(sealed);
        c->info_pending = false;
        conn_confirm(c);
        return;
    }
    if (f->type == LK_WIRE_HELLO) {
        conn_drop(c, DROP_OTHER, "second HELLO on one connection");
        return;
    }
    json_t *v = parse_object(f);
    if (!v) {
        conn_drop(c, DROP_MALFORMED, "%s payload is not a JSON object",
                  f->type == LK_WIRE_HEARTBEAT ? "heartbeat" : "message");
        return;
    }
    if (!c->alive) {
        /* The connector's first frame bound to our nonce: it is live, not a recording. */
        conn_confirm(c);
        if (c->closing || net->stopping) {
            json_decref(v);
            return;
        }
    } else {
        conn_heard(c);
    }
    if (f->type == LK_WIRE_HEARTBEAT) {
        if (net->cb.on_heartbeat) {
            net->cb.on_heartbeat(net->userdata, c->peer->name, v);
        }
    } else if (net->cb.on_message) {
        net->cb.on_message(net->userdata, c->peer->name, v);
    }
    json_decref(v);
}

/* Decodes and handles every complete frame in c's buffer; keeps a partial one. */
static void conn_process(struct conn *c)
{
    struct lk_net *net = c->net;
    size_t off = 0;
    while (!c->closing && off < c->rlen) {
        const uint8_t *at = c->rbuf + off;
        size_t avail = c->rlen - off;
        struct lk_wire_frame f;
        if (c->sealed && avail >= LK_WIRE_HEADER && header_session(at) != c->nonce) {
            /* A frame recorded on another connection: its tag cannot verify under this
             * connection's keys, but say what it is (as for protocol 1, conn_on_frame). */
            conn_drop(c, DROP_REPLAYED, "frame of another connection (session %016llx, seq %llu)",
                      (unsigned long long) header_session(at), (unsigned long long) header_seq(at));
            return;
        }
        int r = c->sealed ? lk_wire_open(c->keys.recv, c->rbuf + off, avail, &f)
                          : lk_wire_decode(c->key, at, avail, &f);
        if (r == -EACCES && !c->outbound && !c->established && net->has_alt &&
            lk_wire_decode(net->alt_key, at, avail, &f) > 0) {
            /* A connector's HELLO (or a guard's frame) under the other key of a rotation:
             * this connection uses that key (the answer, the session keys). */
            r = lk_wire_decode(net->alt_key, at, avail, &f);
            memcpy(c->key, net->alt_key, LK_WIRE_KEY);
            if (net->alt_is_next && net->cb.on_next_key) {
                net->cb.on_next_key(net->userdata);
            }
            if (c->closing || net->stopping) {
                return;
            }
        }
        if (r == -EBADMSG) {
            conn_drop(c, DROP_MALFORMED, "malformed frame header");
            return;
        }
        if (r == -EMSGSIZE) {
            conn_drop(c, DROP_OVERSIZED, "frame over %d bytes", LK_WIRE_MAX_PAYLOAD);
            return;
        }
        /* Until the connection is ALIVE nobody proved anything (an inbound HELLO may be a
         * recording): refuse big frames from the header alone, so a stranger cannot make
         * us buffer megabytes. The connector's first frame after HELLO is a heartbeat. */
        if (!c->alive && avail >= LK_WIRE_HEADER &&
            header_payload_len(at) > PRE_HELLO_MAX_PAYLOAD) {
            conn_drop(c, DROP_OVERSIZED, "frame of %u bytes before HELLO",
                      (unsigned) header_payload_len(at));
            return;
        }
        if (r == -EACCES) {
            conn_drop(c, DROP_UNAUTHENTICATED,
                      c->sealed ? "sealed frame that does not verify (altered on the way?)"
                                : "frame with a bad HMAC (another cluster key?)");
            return;
        }
        if (r < 0) {
            conn_drop(c, DROP_OTHER, "cannot decode frame: %s", uv_strerror(r));
            return;
        }
        if (r == 0) {
            break;
        }
        off += (size_t) r;
        conn_on_frame(c, &f);
    }
    if (c->closing) {
        return;
    }
    c->rlen -= off;
    if (c->rlen > 0 && off > 0) {
        memmove(c->rbuf, c->rbuf + off, c->rlen);
    }
    /* Give back the room a large frame needed. */
    if (c->rlen == 0 && c->rcap > 2 * READ_CHUNK) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) suggested;
    struct conn *c = h->data;
    /* The buffer only ever holds the start of one frame here (conn_process consumed the
     * rest), so it never needs to be larger than the largest frame. */
    if (c->rcap - c->rlen < READ_CHUNK / 4 && c->rcap < MAX_FRAME) {
        size_t cap = c->rcap ? c->rcap * 2 : READ_CHUNK;
        if (cap < c->rlen + READ_CHUNK) {
            cap = c->rlen + READ_CHUNK;
        }
        if (cap > MAX_FRAME) {
            cap = MAX_FRAME;
        }
        uint8_t *bigger = realloc(c->rbuf, cap);
        if (!bigger) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->rbuf = bigger;
        c->rcap = cap;
    }
    *buf = uv_buf_init((char *) c->rbuf + c->rlen, (unsigned) (c->rcap - c->rlen));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void) buf;
    struct conn *c = stream->data;
    if (c->closing) {
        /* Draining (lk_net_stop): what arrives is read and dropped, so that our close
         * finds an empty receive queue; the peer's EOF ends the drain. */
        if (nread < 0) {
            conn_close_handle(c);
        }
        return;
    }
    if (nread == 0) {
        return;
    }
    if (nread < 0) {
        char why[128];
        if (nread == UV_EOF) {
            snprintf(why, sizeof(why), "connection closed by the other end");
        } else {
            snprintf(why, sizeof(why), "cannot read: %s", uv_strerror((int) nread));
        }
        conn_close(c, why, NULL);
        return;
    }
    c->rlen += (size_t) nread;
    conn_process(c);
}

/* ---------------------------------------------------------------- outbound paths */

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing) {
        return;
    }
    if (status < 0) {
        char why[LK_ADDR_MAX + 64];
        snprintf(why, sizeof(why), "cannot connect to %s: %s", c->address, uv_strerror(status));
        conn_close(c, why, NULL);
        return;
    }
    c->connected = true;
    int r = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read);
    if (r < 0) {
        conn_close(c, "cannot read", NULL);
        return;
    }
    (void) conn_send_hello(c, c->path && c->path->legacy);
}

static void on_retry(uv_timer_t *t)
{
    path_connect(t->data);
}

/* Starts one connection attempt on path (when it has none). A failure that libuv reports
 * at once is handled like a failed connect: retry after the backoff. */
static void path_connect(struct path *path)
{
    struct lk_net *net = path->net;
    if (path->conn || path->removed || net->stopping || !path->addr_ok) {
        return;
    }
    struct conn *c = conn_new(net);
    if (!c) {
        path_schedule_retry(path);
        return;
    }
    c->outbound = true;
    c->path = path;
    path->conn = c;
    snprintf(c->address, sizeof(c->address), "%s", path->address);
    char text[LK_ADDR_MAX];
    format_address(&path->addr, text, sizeof(text), c->remote_ip, sizeof(c->remote_ip));
    (void) uv_tcp_nodelay(&c->tcp, 1);
    int r = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *) &path->addr,
                           on_connect);
    if (r < 0) {
        char why[LK_ADDR_MAX + 64];
        snprintf(why, sizeof(why), "cannot connect to %s: %s", path->address, uv_strerror(r));
        conn_close(c, why, NULL);
    }
}

static struct path *path_new(struct lk_net *net, struct peer *peer, const char *address,
                             bool is_witness)
{
    struct path *path = calloc(1, sizeof(*path));
    if (!path) {
        return NULL;
    }
    path->net = net;
    path->peer = peer;
    path->is_witness = is_witness;
    path->backoff_ms = BACKOFF_MIN_MS;
    path->since_usec = mono_usec();
    snprintf(path->address, sizeof(path->address), "%s", address);
    path->addr_ok = lk_address_parse(address, &path->addr, NULL, 0) == 0;
    if (path->addr_ok) {
        char text[LK_ADDR_MAX];
        format_address(&path->addr, text, sizeof(text), path->conn_ip, sizeof(path->conn_ip));
    }
    (void) uv_timer_init(net->loop, &path->retry);
    path->retry.data = path;
    net->open_handles++;
    return path;
}

/* Drops path: closes its connection (reported as "comm path removed") and frees it from
 * its timer's close callback. */
static void path_remove(struct path *path)
{
    if (path->removed) {
        return;
    }
    path->removed = true;
    if (path->is_witness && path->peer) {
        path->peer->via_witness = false;
    }
    (void) uv_timer_stop(&path->retry);
    uv_close((uv_handle_t *) &path->retry, on_path_closed);
    if (path->conn) {
        conn_close(path->conn, "comm path removed", NULL);
    }
}

/* ---------------------------------------------------------------- the heartbeat tick */

/* How long a stranger may take to confirm its connection: two heartbeats, at least
 * STRANGER_WAIT_MIN_MS (a peer's HELLO and first heartbeat follow its connect at once). */
static uint64_t stranger_timeout_ms(const struct lk_net *net)
{
    uint64_t t = 2 * (uint64_t) net->config.cluster.heartbeat_interval_ms;
    return t > STRANGER_WAIT_MIN_MS ? t : STRANGER_WAIT_MIN_MS;
}

/* When c's path was last heard: a frame on c, or a pulse of its peer from its remote
 * address (pulse.h), whichever is later. */
static uint64_t heard_usec(const struct lk_net *net, const struct conn *c)
{
    uint64_t pulse = c->peer ? lk_pulse_heard_usec(net->pulse, c->peer->name, c->remote_ip) : 0;
    return pulse > c->last_heard_usec ? pulse : c->last_heard_usec;
}

/* The dead time c's peer is judged by: ours, or the longer one its HELLO announced (its
 * heartbeats come that far apart: a node whose settings differ, say during a rolling
 * upgrade from a release with a slower default, is not declared dead between two of its
 * heartbeats; 1605 tells the settings differ). */
static uint64_t peer_dead_ms(const struct lk_net *net, const struct conn *c)
{
    uint64_t dead = dead_ms(net);
    uint64_t theirs = c->peer ? c->peer->dead_ms : 0;
    return theirs > dead ? theirs : dead;
}

/* Closes what timed out: connections not ALIVE yet (no HELLO, or inbound: no frame after
 * it; a stranger's after stranger_timeout_ms), and ALIVE paths heard neither on their
 * connection nor by a pulse for the dead time (when judge; the longer of ours and the
 * peer's, peer_dead_ms). A connection that has carried
 * nothing for the stall limit plus the dead time while pulses still arrive is broken
 * (a peer whose loop is stalled that long stops pulsing, pulse.h): it is closed too. */
static void sweep(struct lk_net *net, uint64_t now, bool judge)
{
    uint64_t dead = dead_ms(net);
    uint64_t hello_limit = dead > HELLO_TIMEOUT_MIN_MS ? dead : HELLO_TIMEOUT_MIN_MS;
    uint64_t stranger_limit = stranger_timeout_ms(net);
    uint64_t tcp_limit = lk_pulse_stall_limit_ms(dead) + dead;
    struct conn *next;
    /* conn_close keeps c linked until its close callback (a later loop phase), and new
     * connections go to the head of the list, so walking with next is safe even when
     * callbacks reconfigure. */
    for (struct conn *c = net->conns; c && !net->stopping; c = next) {
        next = c->next;
        if (c->closing) {
            continue;
        }
        char why[128];
        if (!c->alive) {
            uint64_t limit = c->outbound           ? dead
                             : c->counted_stranger ? stranger_limit
                                                   : hello_limit;
            if (now - c->started_usec > limit * 1000) {
                if (c->counted_stranger) {
                    port_report(net, LK_PORT_TIMEOUT, "the last from %s", c->remote_ip);
                }
                snprintf(why, sizeof(why), "%s within %llu ms",
                         !c->connected     ? "no connection"
                         : !c->established ? "no HELLO"
                                           : "no frame after HELLO",
                         (unsigned long long) limit);
                conn_close(c, why, NULL);
            }
            continue;
        }
        /* The pulse thread may have heard the path after now was read: not in the past. */
        uint64_t heard = heard_usec(net, c);
        uint64_t silent = heard > now ? 0 : now - heard;
        uint64_t judged = peer_dead_ms(net, c);
        if (judge && c->alive && silent > judged * 1000) {
            char node_why[128];
            snprintf(why, sizeof(why), "no heartbeat for %llu ms", (unsigned long long) judged);
            snprintf(node_why, sizeof(node_why), "no heartbeat for %llu ms on any comm path",
                     (unsigned long long) judged);
            conn_close(c, why, node_why);
        } else if (judge && c->alive && now - c->last_heard_usec > tcp_limit * 1000) {
            snprintf(why, sizeof(why),
                     "no heartbeat on the connection for %llu ms while pulses arrive",
                     (unsigned long long) tcp_limit);
            conn_close(c, why, NULL);
        }
    }
}

/* A heartbeat's payload text (malloc'd); "{}" when the coordinator gives none or
 * something that is not an object. */
static char *heartbeat_text(struct lk_net *net)
{
    json_t *v = net->cb.heartbeat_payload ? net->cb.heartbeat_payload(net->userdata) : NULL;
    char *text = json_is_object(v) ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text || strlen(text) > LK_WIRE_MAX_PAYLOAD) {
        free(text);
        text = strdup("{}");
    }
    return text;
}

/* The tick runs ten times per heartbeat interval (10–100 ms apart): a silent peer is
 * declared dead within one tick of its deadline, not up to an interval late. Heartbeats
 * go out every interval. */
static uint64_t tick_ms(const struct lk_config *config)
{
    uint64_t t = config->cluster.heartbeat_interval_ms / 10;
    return t < 10 ? 10 : t > 100 ? 100 : t;
}

static void on_tick(uv_timer_t *t)
{
    struct lk_net *net = t->data;
    uint64_t now = mono_usec();
    /* The pulse thread pulses and feeds the guard only while this loop makes progress. */
    lk_pulse_stamp(net->pulse);
    report_due(net, now);
    uint64_t dead_usec = dead_ms(net) * 1000;
    uint64_t gap = now - net->last_tick_usec;
    net->last_tick_usec = now;

    bool judge = true;
    if (gap > dead_usec) {
        /* The loop did not run for longer than the dead time (SIGSTOP, a stalled VM):
         * whatever the peers sent meanwhile is still unread. Give every path a full dead
         * time from now instead of declaring the whole cluster dead. */
        if (net->cb.on_resumed) {
            net->cb.on_resumed(net->userdata, gap / 1000);
        }
        if (net->stopping) {
            return;
        }
        for (struct conn *c = net->conns; c; c = c->next) {
            c->last_heard_usec = now;
            c->started_usec = now;
        }
        judge = false;
    } else if (gap > tick_ms(&net->config) * 1500 + 20000 && !net->skipped_judging) {
        /* A late tick: timers run before the loop reads sockets, so heartbeats that
         * arrived while we were busy are not counted yet. Judge at the next tick, but
         * never skip two in a row, so a loop that is always late still judges. */
        judge = false;
        net->skipped_judging = true;
    }
    if (judge) {
        net->skipped_judging = false;
    }
    sweep(net, now, judge);
    if (net->stopping) {
        return;
    }
    if (now - net->last_heartbeat_usec + 500 <
        (uint64_t) net->config.cluster.heartbeat_interval_ms * 1000) {
        return;
    }
    net->last_heartbeat_usec = now;

    char *text = heartbeat_text(net);
    if (!text) {
        return;
    }
    size_t len = strlen(text);
    struct conn *next;
    for (struct conn *c = net->conns; c && !net->stopping; c = next) {
        next = c->next;
        if (c->alive && !c->closing) {
            (void) conn_send(c, LK_WIRE_HEARTBEAT, text, len);
        }
    }
    free(text);
}

/* ---------------------------------------------------------------- inbound */

/* Whether ip is the address of one of the configured peers' comm paths (or of the
 * witness): its connections before HELLO are counted apart from the strangers'. */
static bool peer_address(const struct lk_net *net, const char *ip)
{
    static const char mapped[] = "::ffff:";
    if (strncmp(ip, mapped, sizeof(mapped) - 1) == 0 && strchr(ip, '.')) {
        ip += sizeof(mapped) - 1;
    }
    for (size_t i = 0; i < net->peer_count; i++) {
        const struct peer *p = net->peers[i];
        for (size_t k = 0; p->configured && k < p->path_count; k++) {
            if (p->paths[k]->addr_ok && strcmp(p->paths[k]->conn_ip, ip) == 0) {
                return true;
            }
        }
    }
    return net->witness_path && net->witness_path->addr_ok &&
           strcmp(net->witness_path->conn_ip, ip) == 0;
}

/* The stranger connection before its HELLO that is the oldest, or NULL. */
static struct conn *oldest_pending(const struct lk_net *net, bool stranger)
{
    struct conn *oldest = NULL;
    for (struct conn *c = net->conns; c; c = c->next) {
        bool counted = stranger ? c->counted_stranger : c->counted_peer_pending;
        if (counted && !c->closing && (!oldest || c->started_usec < oldest->started_usec)) {
            oldest = c;
        }
    }
    return oldest;
}

/* How many strangers' connections before HELLO come from ip. */
static size_t strangers_from(const struct lk_net *net, const char *ip)
{
    size_t n = 0;
    for (const struct conn *c = net->conns; c; c = c->next) {
        n += c->counted_stranger && !c->closing && strcmp(c->remote_ip, ip) == 0;
    }
    return n;
}

/* Makes room for one more connection before HELLO (stranger or not): from a configured
 * peer's address it is never refused for the strangers, and the oldest of its own kind
 * goes when MAX_PEER_PENDING are waiting; a stranger is refused over
 * STRANGERS_PER_SOURCE from its address, and the oldest stranger goes when MAX_STRANGERS
 * are waiting. Returns whether c may stay. */
static bool admit(struct lk_net *net, struct conn *c)
{
    if (peer_address(net, c->remote_ip)) {
        if (net->peer_pending_count >= MAX_PEER_PENDING) {
            struct conn *old = oldest_pending(net, false);
            if (old) {
                conn_close(old, "too many connections before HELLO from peer addresses", NULL);
            }
        }
        c->counted_peer_pending = true;
        net->peer_pending_count++;
        return true;
    }
    if (strangers_from(net, c->remote_ip) >= STRANGERS_PER_SOURCE) {
        port_report(net, LK_PORT_REFUSED, "over %d waiting for their HELLO from %s",
                    STRANGERS_PER_SOURCE, c->remote_ip);
        return false;
    }
    if (net->stranger_count >= MAX_STRANGERS) {
        struct conn *old = oldest_pending(net, true);
        if (!old) {
            return false;
        }
        port_report(net, LK_PORT_SHED, "%d waiting for their HELLO; the last from %s",
                    MAX_STRANGERS, old->remote_ip);
        conn_close(old, "the oldest connection before HELLO, to make room", NULL);
    }
    c->counted_stranger = true;
    net->stranger_count++;
    return true;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct lk_net *net = server->data;
    if (status < 0 || net->stopping) {
        return;
    }
    struct conn *c = conn_new(net);
    if (!c) {
        return;
    }
    int r = uv_accept(server, (uv_stream_t *) &c->tcp);
    if (r < 0) {
        conn_close(c, "cannot accept", NULL);
        return;
    }
    struct sockaddr_storage sa;
    int sa_len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *) &sa, &sa_len) == 0) {
        format_address(&sa, c->address, sizeof(c->address), c->remote_ip, sizeof(c->remote_ip));
    } else {
        snprintf(c->address, sizeof(c->address), "?");
        snprintf(c->remote_ip, sizeof(c->remote_ip), "?");
    }
    /* Accept and close at once over the limit: leaving the connection unaccepted would
     * make libuv stop listening altogether. */
    if (net->inbound_count >= MAX_INBOUND) {
        port_report(net, LK_PORT_REFUSED, "%d inbound connections open", MAX_INBOUND);
        conn_close(c, "too many inbound connections", NULL);
        return;
    }
    if (!admit(net, c)) {
        conn_close(c, "too many connections before HELLO", NULL);
        return;
    }
    c->counted_inbound = true;
    net->inbound_count++;
    c->connected = true;
    (void) uv_tcp_nodelay(&c->tcp, 1);
    r = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read);
    if (r < 0) {
        conn_close(c, "cannot read", NULL);
    }
}

/* Binds and listens on address with a plain socket first, so that every error is known
 * before a libuv handle exists (nothing to close on failure). Returns the fd or a
 * negative errno with the message in err. */
static int listen_socket(const char *address, char *err, size_t err_size)
{
    struct sockaddr_storage sa;
    if (lk_address_parse(address, &sa, NULL, 0) < 0) {
        snprintf(err, err_size, "invalid listen address '%s'", address);
        return -EINVAL;
    }
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int r = -errno;
        snprintf(err, err_size, "cannot listen on %s: %s", address, uv_strerror(r));
        return r;
    }
    int on = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    socklen_t len =
            sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int r = -errno;
        close(fd);
        snprintf(err, err_size, "cannot listen on %s: %s", address, uv_strerror(r));
        return r;
    }
    return fd;
}

/* ---------------------------------------------------------------- configuration */

/* Makes peer p's outbound paths those of cfg (best first), keeping the connections of
 * addresses that stay. */
static void peer_set_paths(struct lk_net *net, struct peer *p, const struct lk_peer *cfg)
{
    struct path *old[LK_MAX_PATHS];
    size_t old_count = p->path_count;
    memcpy(old, p->paths, sizeof(old));
    struct path *fresh[LK_MAX_PATHS];
    size_t count = 0;
    size_t n = cfg ? cfg->path_count : 0;
    for (size_t i = 0; i < n && i < LK_MAX_PATHS; i++) {
        struct path *keep = NULL;
        for (size_t j = 0; j < old_count; j++) {
            if (old[j] && strcmp(old[j]->address, cfg->paths[i]) == 0) {
                keep = old[j];
                old[j] = NULL;
                break;
            }
        }
        if (!keep) {
            keep = path_new(net, p, cfg->paths[i], false);
        }
        if (keep) {
            fresh[count++] = keep;
        }
    }
    memcpy(p->paths, fresh, count * sizeof(*fresh));
    p->path_count = count;
    for (size_t i = 0; i < count; i++) {
        path_connect(p->paths[i]);
    }
    for (size_t j = 0; j < old_count; j++) {
        if (old[j]) {
            path_remove(old[j]);
        }
    }
}

static const struct lk_peer *config_find(const struct lk_config *config, const char *name)
{
    for (size_t i = 0; i < config->peer_count; i++) {
        if (strcmp(config->peers[i].name, name) == 0) {
            return &config->peers[i];
        }
    }
    return NULL;
}

/* Makes the peers, their paths and the witness path those of config. */
static void apply_config(struct lk_net *net, const struct lk_config *config)
{
    char old_witness[LK_ADDR_MAX];
    snprintf(old_witness, sizeof(old_witness), "%s", net->config.cluster.witness);
    net->config = *config;

    /* First every configured peer exists (creating them may move net->peers, so it is
     * indexed afresh below), then the paths, whose removal calls back. */
    for (size_t i = 0; i < config->peer_count; i++) {
        const char *name = config->peers[i].name;
        if (strcmp(name, net->node) != 0 && !find_peer(net, name)) {
            (void) peer_new(net, name);
        }
    }
    for (size_t i = 0; i < net->peer_count && !net->stopping; i++) {
        struct peer *p = net->peers[i];
        const struct lk_peer *cfg = config_find(config, p->name);
        p->configured = cfg != NULL;
        peer_set_paths(net, p, cfg);
    }

    const char *witness = net->config.cluster.witness;
    if (net->witness_path && (net->stopping || strcmp(old_witness, witness) != 0)) {
        struct path *old = net->witness_path;
        net->witness_path = NULL;
        path_remove(old);
    }
    if (!net->witness_path && witness[0] && !net->stopping) {
        net->witness_path = path_new(net, NULL, witness, true);
        if (net->witness_path) {
            path_connect(net->witness_path);
        }
    }
    lk_pulse_configure(net->pulse, config);
}

/* ---------------------------------------------------------------- the API */

int lk_net_start(uv_loop_t *loop, const struct lk_membership_options *options,
                 const struct lk_membership_callbacks *callbacks, void *userdata,
                 struct lk_net **ret_net, char *err, size_t err_size)
{
    if (!loop || !options || !options->node || !options->key || !options->config || !callbacks ||
        !ret_net) {
        snprintf(err, err_size, "invalid arguments to lk_net_start");
        return -EINVAL;
    }
    const struct lk_config *config = options->config;
    if (config->cluster.heartbeat_interval_ms == 0 || config->cluster.heartbeat_misses == 0) {
        snprintf(err, err_size, "heartbeat interval and misses must be positive");
        return -EINVAL;
    }
    struct lk_net *net = calloc(1, sizeof(*net));
    if (!net) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    net->hello_info = json_object();
    if (!net->hello_info) {
        free(net);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    net->loop = loop;
    net->cb = *callbacks;
    net->userdata = userdata;
    snprintf(net->node, sizeof(net->node), "%s", options->node);
    memcpy(net->key, options->key, LK_WIRE_KEY);
    net->witness = options->witness;

    const char *address = options->listen && options->listen[0] ? options->listen : DEFAULT_LISTEN;
    int fd = listen_socket(address, err, err_size);
    if (fd < 0) {
        net_free(net);
        return fd;
    }
    /* From here on the handles exist: a failure closes them, and the net is freed from
     * the last close callback like after lk_net_stop. */
    (void) uv_tcp_init(loop, &net->listener);
    net->listener.data = net;
    net->open_handles++;
    (void) uv_timer_init(loop, &net->tick);
    net->tick.data = net;
    net->open_handles++;
    (void) uv_timer_init(loop, &net->drain);
    net->drain.data = net;
    net->open_handles++;
    int r = uv_tcp_open(&net->listener, fd);
    if (r < 0) {
        close(fd);
    }
    if (r >= 0) {
        r = uv_listen((uv_stream_t *) &net->listener, LISTEN_BACKLOG, on_connection);
    }
    if (r < 0) {
        snprintf(err, err_size, "cannot listen on %s: %s", address, uv_strerror(r));
        lk_net_stop(net);
        return r;
    }
    struct lk_pulse_options pulse = {
            .node = net->node,
            .key = net->key,
            .listen = address,
            .witness = net->witness,
            .feed = options->feed,
            .feed_ctx = options->feed_ctx,
    };
    r = lk_pulse_start(&pulse, config, &net->pulse, err, err_size);
    if (r < 0) {
        lk_net_stop(net);
        return r;
    }
    apply_config(net, config);
    net->last_tick_usec = mono_usec();
    uint64_t period = tick_ms(config);
    (void) uv_timer_start(&net->tick, on_tick, period, period);
    net->started = true;
    *ret_net = net;
    return 0;
}

void lk_net_reconfigure(struct lk_net *net, const struct lk_config *config)
{
    if (!net || !config || net->stopping || config->cluster.heartbeat_interval_ms == 0 ||
        config->cluster.heartbeat_misses == 0) {
        return;
    }
    uint32_t old_interval = net->config.cluster.heartbeat_interval_ms;
    apply_config(net, config);
    /* A raised min-protocol ends the sessions it no longer allows; they reconnect and are
     * refused, with the event that says why (conn_on_hello). */
    struct conn *next;
    for (struct conn *c = net->conns; c && !net->stopping; c = next) {
        next = c->next;
        if (!c->closing && c->established && c->proto < our_min_proto(net)) {
            conn_close(c, "below the cluster's min-protocol", NULL);
        }
    }
    uint32_t interval = net->config.cluster.heartbeat_interval_ms;
    if (interval != old_interval && !net->stopping) {
        /* Restart from now, so the first tick at the new pace is not mistaken for a
         * freeze (nor late) when the interval shrinks. */
        net->last_tick_usec = mono_usec();
        uint64_t period = tick_ms(&net->config);
        (void) uv_timer_start(&net->tick, on_tick, period, period);
    }
}

void lk_net_set_keys(struct lk_net *net, const uint8_t key[LK_WIRE_KEY],
                     const uint8_t alt[LK_WIRE_KEY], bool alt_is_next)
{
    if (!net || !key || net->stopping) {
        return;
    }
    memcpy(net->key, key, LK_WIRE_KEY);
    net->has_alt = alt != NULL;
    net->alt_is_next = alt && alt_is_next;
    if (alt) {
        memcpy(net->alt_key, alt, LK_WIRE_KEY);
    } else {
        sodium_memzero(net->alt_key, sizeof(net->alt_key));
    }
    lk_pulse_set_keys(net->pulse, net->key, alt ? net->alt_key : NULL);
    rekey(net);
}

void lk_net_set_hello(struct lk_net *net, const json_t *info)
{
    if (!net) {
        return;
    }
    json_t *copy = info ? json_deep_copy(info) : json_object();
    if (!copy) {
        return;
    }
    json_decref(net->hello_info);
    net->hello_info = copy;
    /* Our pulses carry the incarnation our HELLO does. */
    uint64_t inc = 0;
    if (lk_guard_parse_hex64(json_string_value(json_object_get(copy, "inc")), &inc) == 0) {
        lk_pulse_set_incarnation(net->pulse, inc);
    }
}

/* The rank of c for sending: outbound paths in configured order first, then inbound. */
static size_t conn_rank(const struct conn *c)
{
    if (c->path) {
        if (c->path->is_witness) {
            return 0;
        }
        for (size_t i = 0; i < c->peer->path_count; i++) {
            if (c->peer->paths[i] == c->path) {
                return i;
            }
        }
    }
    return LK_MAX_PATHS;
}

static struct conn *best_conn(const struct lk_net *net, const struct peer *p)
{
    struct conn *best = NULL;
    size_t best_rank = SIZE_MAX;
    for (struct conn *c = net->conns; c; c = c->next) {
        if (c->peer != p || !c->alive || c->closing) {
            continue;
        }
        size_t rank = conn_rank(c);
        if (rank < best_rank) {
            best = c;
            best_rank = rank;
        }
    }
    return best;
}

/* Sends text to p on its best ALIVE connection, falling back to the next one when a
 * connection turns out stalled or broken. */
static int send_text(struct lk_net *net, struct peer *p, const char *text, size_t len)
{
    if (len > LK_WIRE_MAX_PAYLOAD) {
        return -EMSGSIZE;
    }
    for (;;) {
        struct conn *c = best_conn(net, p);
        if (!c || net->stopping) {
            return -ENOTCONN;
        }
        int r = conn_send(c, LK_WIRE_MESSAGE, text, len);
        if (r != -ENOBUFS && r != -ENOTCONN) {
            return r;
        }
    }
}

int lk_net_send(struct lk_net *net, const char *peer, const json_t *msg)
{
    if (!net || !peer || !json_is_object(msg)) {
        return -EINVAL;
    }
    struct peer *p = find_peer(net, peer);
    if (!p || !p->alive) {
        return -ENOTCONN;
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) {
        return -ENOMEM;
    }
    int r = send_text(net, p, text, strlen(text));
    free(text);
    return r;
}

size_t lk_net_broadcast(struct lk_net *net, const json_t *msg)
{
    if (!net || !json_is_object(msg)) {
        return 0;
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) {
        return 0;
    }
    size_t len = strlen(text);
    size_t sent = 0;
    for (size_t i = 0; i < net->peer_count; i++) {
        struct peer *p = net->peers[i];
        if (p->alive && send_text(net, p, text, len) == 0) {
            sent++;
        }
    }
    free(text);
    return sent;
}

bool lk_net_alive(const struct lk_net *net, const char *peer)
{
    if (!net || !peer) {
        return false;
    }
    const struct peer *p = find_peer(net, peer);
    return p && p->alive;
}

static json_t *dropped_json(const uint64_t dropped[DROP_KINDS])
{
    json_t *o = json_object();
    for (int k = 0; k < DROP_KINDS && o; k++) {
        json_object_set_new(o, drop_kind_name[k], json_integer((json_int_t) dropped[k]));
    }
    return o;
}

static json_int_t ms_ago(uint64_t now, uint64_t then_usec)
{
    return (json_int_t) ((now > then_usec ? now - then_usec : 0) / 1000);
}

/* The protocol of an ALIVE connection (null otherwise) and whether it is encrypted. */
static json_t *conn_protocol_json(const struct conn *c)
{
    return c && c->alive ? json_integer(c->proto) : json_null();
}

static json_t *path_json(const struct path *path, size_t priority, uint64_t now)
{
    const char *state = STATE_DEAD;
    if (path->conn && path->conn->alive) {
        state = STATE_ALIVE;
    } else if (path->conn && !path->conn->closing) {
        state = STATE_CONNECTING;
    }
    return json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:o, s:b}", "address", path->address,
                     "priority", (json_int_t) priority, "direction", "out", "state", state,
                     "frames_in", (json_int_t) path->frames_in, "frames_out",
                     (json_int_t) path->frames_out, "since_ms", ms_ago(now, path->since_usec),
                     "protocol", conn_protocol_json(path->conn), "encrypted",
                     path->conn && path->conn->alive && path->conn->sealed);
}

/* An inbound path has no priority (null: we do not choose it, the peer does); it is
 * CONNECTING between the peer's HELLO and its first frame after ours. */
static json_t *inbound_json(const struct conn *c, uint64_t now)
{
    return json_pack("{s:s, s:n, s:s, s:s, s:I, s:I, s:I, s:o, s:b}", "address", c->address,
                     "priority", "direction", "in", "state",
                     c->alive ? STATE_ALIVE : STATE_CONNECTING, "frames_in",
                     (json_int_t) c->frames_in, "frames_out", (json_int_t) c->frames_out,
                     "since_ms", ms_ago(now, c->since_usec), "protocol", conn_protocol_json(c),
                     "encrypted", c->alive && c->sealed);
}

static json_t *peer_json(const struct lk_net *net, const struct peer *p, uint64_t now)
{
    json_t *paths = json_array();
    for (size_t i = 0; i < p->path_count; i++) {
        json_array_append_new(paths, path_json(p->paths[i], i + 1, now));
    }
    if (net->witness_path && net->witness_path->peer == p) {
        json_array_append_new(paths, path_json(net->witness_path, 1, now));
    }
    for (const struct conn *c = net->conns; c; c = c->next) {
        if (!c->outbound && c->peer == p && !c->closing) {
            json_array_append_new(paths, inbound_json(c, now));
        }
    }
    json_t *last_heard =
            p->last_heard_usec ? json_integer(ms_ago(now, p->last_heard_usec)) : json_null();
    json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:I, s:o}", "name", p->name, "state",
                          p->alive ? STATE_ALIVE : STATE_DEAD, "known", peer_known(p), "witness",
                          p->witness, "last_heard_ms", last_heard, "paths", paths, "dropped",
                          dropped_json(p->dropped), "stalled", (json_int_t) p->stalled, "pulse",
                          lk_pulse_peer_json(net->pulse, p->name, now));
    /* What its last session said: the protocol in use, the newest it speaks and its
     * software version ("unknown" from a peer of the release before versions); null
     * before any session. */
    if (o) {
        json_object_set_new(o, "protocol", p->proto ? json_integer(p->proto) : json_null());
        json_object_set_new(o, "protocol_max", p->proto ? json_integer(p->proto_max) : json_null());
        json_object_set_new(o, "version", p->proto ? json_string(p->version) : json_null());
    }
    return o;
}

json_t *lk_net_peers_json(const struct lk_net *net)
{
    json_t *list = json_array();
    if (!net || !list) {
        return list;
    }
    uint64_t now = mono_usec();
    for (size_t i = 0; i < net->peer_count; i++) {
        json_array_append_new(list, peer_json(net, net->peers[i], now));
    }
    static const uint64_t none[DROP_KINDS];
    if (net->witness_path && !net->witness_path->peer) {
        json_t *paths = json_array();
        json_array_append_new(paths, path_json(net->witness_path, 1, now));
        json_array_append_new(list, json_pack("{s:n, s:s, s:s, s:b, s:b, s:n, s:o, s:o, s:I}",
                                              "name", "address", net->witness_path->address,
                                              "state", STATE_DEAD, "known", true, "witness", true,
                                              "last_heard_ms", "paths", paths, "dropped",
                                              dropped_json(none), "stalled", (json_int_t) 0));
    }
    for (size_t i = 0; i < net->anonymous_count; i++) {
        const struct anonymous *a = &net->anonymous[i];
        json_array_append_new(list,
                              json_pack("{s:n, s:s, s:s, s:b, s:b, s:n, s:[], s:o, s:I}", "name",
                                        "address", a->address, "state", STATE_DEAD, "known", false,
                                        "witness", false, "last_heard_ms", "paths", "dropped",
                                        dropped_json(a->dropped), "stalled", (json_int_t) 0));
    }
    return list;
}

json_t *lk_net_transport_json(const struct lk_net *net)
{
    if (!net) {
        return json_null();
    }
    return json_pack("{s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "pulse", lk_pulse_json(net->pulse),
                     "comm_port", "strangers", (json_int_t) net->stranger_count, "strangers_max",
                     (json_int_t) MAX_STRANGERS, "per_source_max",
                     (json_int_t) STRANGERS_PER_SOURCE, "peer_pending",
                     (json_int_t) net->peer_pending_count, "stranger_timeout_ms",
                     (json_int_t) stranger_timeout_ms(net));
}

json_t *lk_net_dropped_json(const struct lk_net *net)
{
    static const uint64_t none[DROP_KINDS];
    return dropped_json(net ? net->dropped : none);
}

void lk_net_stop(struct lk_net *net)
{
    if (!net || net->stopping) {
        return;
    }
    net->stopping = true;
    /* No pulse, and no feed of the guard from the thread, after this (guardlink's own
     * timer feeds again until lkd exits). */
    lk_pulse_stop(net->pulse);
    net->pulse = NULL;
    uv_close((uv_handle_t *) &net->tick, on_net_handle_closed);
    uv_close((uv_handle_t *) &net->listener, on_net_handle_closed);
    for (size_t i = 0; i < net->peer_count; i++) {
        struct peer *p = net->peers[i];
        for (size_t j = 0; j < p->path_count; j++) {
            path_remove(p->paths[j]);
        }
        p->path_count = 0;
    }
    if (net->witness_path) {
        path_remove(net->witness_path);
        net->witness_path = NULL;
    }
    for (struct conn *c = net->conns; c; c = c->next) {
        conn_close(c, "stopping", NULL);
    }
    net->drain_armed = true;
    if (net->draining_count == 0) {
        uv_close((uv_handle_t *) &net->drain, on_net_handle_closed);
    } else {
        /* From now, not from when this loop iteration began: the caller may have been
         * busy for a while (encoding what it just sent). */
        uv_update_time(net->loop);
        (void) uv_timer_start(&net->drain, on_drain_timeout, DRAIN_MS, 0);
    }
}

/* ---------------------------------------------------------------- membership backend */

/* lk_membership_tcp: this transport behind the membership table (membership.h). The
 * contract's callbacks and options are the ones lk_net_start takes. */

static int tcp_start(uv_loop_t *loop, const struct lk_membership_options *options,
                     const struct lk_membership_callbacks *callbacks, void *userdata,
                     void **ret_backend, char *err, size_t err_size)
{
    if (!options || !callbacks || !ret_backend) {
        snprintf(err, err_size, "cannot start the comm paths: invalid arguments");
        return -EINVAL;
    }
    *ret_backend = NULL;
    struct lk_net *net = NULL;
    int r = lk_net_start(loop, options, callbacks, userdata, &net, err, err_size);
    if (r == 0) {
        *ret_backend = net;
    }
    return r;
}

static void tcp_reconfigure(void *backend, const struct lk_config *config)
{
    lk_net_reconfigure(backend, config);
}

static void tcp_set_hello(void *backend, const json_t *info)
{
    lk_net_set_hello(backend, info);
}

static void tcp_set_keys(void *backend, const uint8_t *key, const uint8_t *alt, bool alt_is_next)
{
    lk_net_set_keys(backend, key, alt, alt_is_next);
}

static int tcp_send(void *backend, const char *peer, const json_t *msg)
{
    return lk_net_send(backend, peer, msg);
}

static size_t tcp_broadcast(void *backend, const json_t *msg)
{
    return lk_net_broadcast(backend, msg);
}

static bool tcp_alive(const void *backend, const char *peer)
{
    return lk_net_alive(backend, peer);
}

static json_t *tcp_peers_json(const void *backend)
{
    return lk_net_peers_json(backend);
}

static json_t *tcp_transport_json(const void *backend)
{
    return lk_net_transport_json(backend);
}

static void tcp_stop(void *backend)
{
    lk_net_stop(backend);
}

const struct lk_membership_ops lk_membership_tcp = {
        .name = "tcp",
        .start = tcp_start,
        .reconfigure = tcp_reconfigure,
        .set_hello = tcp_set_hello,
        .set_keys = tcp_set_keys,
        .send = tcp_send,
        .broadcast = tcp_broadcast,
        .alive = tcp_alive,
        .peers_json = tcp_peers_json,
        .transport_json = tcp_transport_json,
        .stop = tcp_stop,
};
