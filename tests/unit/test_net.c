/* Unit tests of the comm-path transport (src/daemon/cluster/net.c): real lk_net instances on
 * 127.0.0.1 in one uv loop, with ports picked free at run time, a heartbeat interval of
 * 100 ms and 3 misses. Raw sockets play the hostile client. Every wait runs the loop
 * under a guard (at most GUARD_MS), and only asserts that something happened before it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "net.h"
#include "wire.h"

#define GUARD_MS   10000
#define MAX_EVENTS 256
#define MAX_MSGS   512

struct event {
    char peer[64];
    bool alive;
    char why[160];
};

struct node {
    char name[32];
    char address[64];
    int port;
    uint8_t key[LK_WIRE_KEY];
    bool witness;
    struct lk_config config;
    struct lk_net *net;

    int hellos, hellos_unknown, hellos_witness_known;
    char hello_digest[64];
    struct event nodes[MAX_EVENTS];
    int node_events, node_up, node_down;
    int path_up, path_down;
    int heartbeats;
    char heartbeat_from[64];
    int messages;
    long msg_n[MAX_MSGS];
    char msg_from[64];
    int dropped;
    char dropped_from[64], dropped_why[256];
    int resumed;
    uint64_t frozen_ms;
    int node_down_when_resumed;
    int stopped;
    int port_reports[LK_PORT_KINDS];
    uint64_t port_counts[LK_PORT_KINDS];
};

/* A TCP relay in the loop, so a comm path can be cut without touching the nodes. */
struct relay_conn {
    uv_tcp_t a, b;
    uv_connect_t connect;
    int open;
    struct relay *relay;
    struct relay_conn *next;
};

struct relay {
    uv_tcp_t listener;
    struct sockaddr_in target;
    struct relay_conn *conns;
    int accepted;
    bool record;  /* keep a copy of what the connecting side sends */
    uint8_t *rec; /* the copy (freed by the test) */
    size_t rec_len;
};

struct world {
    uv_loop_t loop;
    uv_timer_t guard;
    struct node nodes[4];
    struct relay relay;
    bool relay_started;
    uv_timer_t freeze;
    bool freeze_started;
};

/* ---------------------------------------------------------------- callbacks */

static void on_node(void *userdata, const char *peer, bool alive, const char *why)
{
    struct node *n = userdata;
    assert_non_null(why);
    assert_true(why[0] != '\0');
    if (n->node_events < MAX_EVENTS) {
        struct event *e = &n->nodes[n->node_events++];
        snprintf(e->peer, sizeof(e->peer), "%s", peer);
        e->alive = alive;
        snprintf(e->why, sizeof(e->why), "%s", why);
    }
    if (alive) {
        n->node_up++;
    } else {
        n->node_down++;
    }
}

static void on_path(void *userdata, const char *peer, const char *address, bool alive,
                    const char *why)
{
    struct node *n = userdata;
    (void) peer;
    assert_non_null(address);
    assert_non_null(why);
    if (alive) {
        n->path_up++;
    } else {
        n->path_down++;
    }
}

static void on_hello(void *userdata, const char *peer, bool known, const json_t *info)
{
    struct node *n = userdata;
    (void) peer;
    assert_true(json_is_object(info));
    n->hellos++;
    if (!known) {
        n->hellos_unknown++;
    }
    const char *digest = json_string_value(json_object_get(info, "digest"));
    snprintf(n->hello_digest, sizeof(n->hello_digest), "%s", digest ? digest : "");
}

static void on_heartbeat(void *userdata, const char *peer, const json_t *payload)
{
    struct node *n = userdata;
    const char *from = json_string_value(json_object_get(payload, "from"));
    assert_non_null(from);
    assert_string_equal(from, peer);
    n->heartbeats++;
    snprintf(n->heartbeat_from, sizeof(n->heartbeat_from), "%s", from);
}

static void on_message(void *userdata, const char *peer, const json_t *msg)
{
    struct node *n = userdata;
    snprintf(n->msg_from, sizeof(n->msg_from), "%s", peer);
    if (n->messages < MAX_MSGS) {
        n->msg_n[n->messages] = (long) json_integer_value(json_object_get(msg, "n"));
    }
    n->messages++;
}

static void on_dropped(void *userdata, const char *from, const char *why)
{
    struct node *n = userdata;
    n->dropped++;
    snprintf(n->dropped_from, sizeof(n->dropped_from), "%s", from);
    snprintf(n->dropped_why, sizeof(n->dropped_why), "%s", why);
}

static void on_resumed(void *userdata, uint64_t frozen_ms)
{
    struct node *n = userdata;
    n->resumed++;
    n->frozen_ms = frozen_ms;
    n->node_down_when_resumed = n->node_down;
}

static void on_comm_port(void *userdata, enum lk_port_kind kind, uint64_t count, const char *detail)
{
    struct node *n = userdata;
    assert_true(kind < LK_PORT_KINDS);
    assert_non_null(detail);
    assert_true(count > 0);
    n->port_reports[kind]++;
    n->port_counts[kind] += count;
}

static void on_stopped(void *userdata)
{
    struct node *n = userdata;
    n->stopped++;
}

static json_t *heartbeat_payload(void *userdata)
{
    struct node *n = userdata;
    return json_pack("{s:s}", "from", n->name);
}

static const struct lk_membership_callbacks callbacks = {
        .on_node = on_node,
        .on_path = on_path,
        .on_hello = on_hello,
        .on_heartbeat = on_heartbeat,
        .on_message = on_message,
        .on_dropped = on_dropped,
        .on_resumed = on_resumed,
        .on_comm_port = on_comm_port,
        .heartbeat_payload = heartbeat_payload,
        .on_stopped = on_stopped,
};

/* ---------------------------------------------------------------- helpers */

/* Ports free right now on 127.0.0.1: all bound at once (so they differ), then released. */
static void pick_ports(int *ports, int count)
{
    int fds[8];
    assert_true(count <= 8);
    for (int i = 0; i < count; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fds[i] >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fds[i], (struct sockaddr *) &sa, sizeof(sa)), 0);
        socklen_t len = sizeof(sa);
        assert_int_equal(getsockname(fds[i], (struct sockaddr *) &sa, &len), 0);
        ports[i] = ntohs(sa.sin_port);
    }
    for (int i = 0; i < count; i++) {
        close(fds[i]);
    }
}

static void node_init(struct node *n, const char *name, int port, uint8_t key_byte)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->name, sizeof(n->name), "%s", name);
    n->port = port;
    snprintf(n->address, sizeof(n->address), "127.0.0.1:%d", port);
    memset(n->key, key_byte, sizeof(n->key));
    snprintf(n->config.node, sizeof(n->config.node), "%s", name);
    snprintf(n->config.listen, sizeof(n->config.listen), "%s", n->address);
    n->config.cluster.heartbeat_interval_ms = 100;
    n->config.cluster.heartbeat_misses = 3;
}

static void config_add_path(struct lk_config *config, const char *peer, const char *address)
{
    struct lk_peer *p = NULL;
    for (size_t i = 0; i < config->peer_count; i++) {
        if (strcmp(config->peers[i].name, peer) == 0) {
            p = &config->peers[i];
        }
    }
    if (!p) {
        assert_true(config->peer_count < LK_MAX_PEERS);
        p = &config->peers[config->peer_count++];
        memset(p, 0, sizeof(*p));
        snprintf(p->name, sizeof(p->name), "%s", peer);
    }
    if (address) {
        assert_true(p->path_count < LK_MAX_PATHS);
        snprintf(p->paths[p->path_count++], LK_ADDR_MAX, "%s", address);
    }
}

static void link_nodes(struct node *a, struct node *b)
{
    config_add_path(&a->config, b->name, b->address);
    config_add_path(&b->config, a->name, a->address);
}

static void node_start(struct world *w, struct node *n)
{
    struct lk_membership_options options = {
            .node = n->name,
            .listen = n->address,
            .key = n->key,
            .witness = n->witness,
            .config = &n->config,
    };
    char err[256] = "";
    int r = lk_net_start(&w->loop, &options, &callbacks, n, &n->net, err, sizeof(err));
    if (r < 0) {
        fail_msg("lk_net_start %s: %s", n->name, err);
    }
    char digest[64];
    snprintf(digest, sizeof(digest), "d-%s", n->name);
    json_t *info = json_pack("{s:s}", "digest", digest);
    lk_net_set_hello(n->net, info);
    json_decref(info);
}

static void node_stop(struct node *n)
{
    lk_net_stop(n->net);
    n->net = NULL;
}

static void on_guard(uv_timer_t *t)
{
    (void) t;
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* Runs the loop until cond holds or ms passed; the guard timer wakes the loop so the
 * condition is checked at least every 10 ms. */
#define RUN_UNTIL(w, cond, ms)                                                                     \
    do {                                                                                           \
        uint64_t deadline_ = now_ms() + (ms);                                                      \
        while (!(cond) && now_ms() < deadline_) {                                                  \
            uv_run(&(w)->loop, UV_RUN_ONCE);                                                       \
        }                                                                                          \
    } while (0)

#define WAIT_FOR(w, cond)                                                                          \
    do {                                                                                           \
        RUN_UNTIL(w, cond, GUARD_MS);                                                              \
        if (!(cond)) {                                                                             \
            fail_msg("timed out waiting for %s", #cond);                                           \
        }                                                                                          \
    } while (0)

static void run_for(struct world *w, uint64_t ms)
{
    RUN_UNTIL(w, false, ms);
}

static int setup(void **state)
{
    if (sodium_init() < 0) {
        return -1;
    }
    struct world *w = calloc(1, sizeof(*w));
    if (!w || uv_loop_init(&w->loop) < 0) {
        free(w);
        return -1;
    }
    uv_timer_init(&w->loop, &w->guard);
    uv_timer_start(&w->guard, on_guard, 10, 10);
    *state = w;
    return 0;
}

static void relay_stop(struct relay *r);

static int teardown(void **state)
{
    struct world *w = *state;
    for (size_t i = 0; i < sizeof(w->nodes) / sizeof(w->nodes[0]); i++) {
        node_stop(&w->nodes[i]);
    }
    if (w->relay_started) {
        relay_stop(&w->relay);
    }
    if (w->freeze_started) {
        uv_close((uv_handle_t *) &w->freeze, NULL);
    }
    uv_close((uv_handle_t *) &w->guard, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    int r = uv_loop_close(&w->loop);
    free(w);
    return r == 0 ? 0 : -1;
}

/* The JSON entry of peer name in net's peers list, or NULL (borrowed from list). */
static json_t *peer_entry(json_t *list, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (name ? n && strcmp(n, name) == 0 : !n) {
            return e;
        }
    }
    return NULL;
}

static json_int_t dropped_total(const struct node *n, const char *kind)
{
    json_t *d = lk_net_dropped_json(n->net);
    json_int_t v = json_integer_value(json_object_get(d, kind));
    json_decref(d);
    return v;
}

static int count_events(const struct node *n, const char *peer, bool alive)
{
    int count = 0;
    for (int i = 0; i < n->node_events && i < MAX_EVENTS; i++) {
        if (strcmp(n->nodes[i].peer, peer) == 0 && n->nodes[i].alive == alive) {
            count++;
        }
    }
    return count;
}

/* ---------------------------------------------------------------- raw clients */

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The kernel completes the handshake from its backlog; no loop needed. */
    assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const void *buf, size_t len)
{
    assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t) len);
}

/* Whether the daemon closed fd (reads and discards whatever it sent before). */
/* A connection to port from the loopback address ip (127.0.0.x: all of 127/8 is local). */
static int raw_connect_from(const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0};
    assert_int_equal(inet_pton(AF_INET, ip, &from.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *) &from, sizeof(from)), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
        fail_msg("connect from %s: %s", ip, strerror(errno));
    }
    return fd;
}

/* A number of the comm port's counters (lk_net_transport_json). */
static json_int_t port_count(const struct node *n, const char *key)
{
    json_t *t = lk_net_transport_json(n->net);
    json_int_t v = json_integer_value(json_object_get(json_object_get(t, "comm_port"), key));
    json_decref(t);
    return v;
}

static bool raw_closed(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            return true;
        }
        if (n < 0) {
            return false;
        }
    }
}

#define RAW_NONCE     1000 /* the nonce of every raw client's HELLO */
#define RAW_NONCE_HEX "00000000000003e8"

static void raw_frame_session(const uint8_t *key, uint8_t type, uint64_t session, uint64_t seq,
                              const char *payload, uint8_t **ret_buf, size_t *ret_len)
{
    assert_int_equal(
            lk_wire_encode(key, type, session, seq, payload, strlen(payload), ret_buf, ret_len), 0);
}

static void raw_frame(const uint8_t *key, uint8_t type, uint64_t seq, const char *payload,
                      uint8_t **ret_buf, size_t *ret_len)
{
    raw_frame_session(key, type, RAW_NONCE, seq, payload, ret_buf, ret_len);
}

/* Encodes and sends one frame. */
static void raw_send_frame(int fd, const uint8_t *key, uint8_t type, uint64_t session, uint64_t seq,
                           const char *payload)
{
    uint8_t *frame;
    size_t len;
    raw_frame_session(key, type, session, seq, payload, &frame, &len);
    raw_send(fd, frame, len);
    free(frame);
}

/* Reads what is there on fd into buf (*len bytes so far) without blocking; whether a
 * complete frame is there now. */
static bool raw_poll_frame(int fd, uint8_t *buf, size_t size, size_t *len)
{
    ssize_t n = recv(fd, buf + *len, size - *len, MSG_DONTWAIT);
    if (n > 0) {
        *len += (size_t) n;
    }
    if (*len < LK_WIRE_HEADER) {
        return false;
    }
    size_t payload =
            (size_t) buf[24] << 24 | (size_t) buf[25] << 16 | (size_t) buf[26] << 8 | buf[27];
    return *len >= LK_WIRE_HEADER + payload + LK_WIRE_MAC;
}

/* Plays the connector's side of the handshake with a, as node name: sends a HELLO
 * carrying RAW_NONCE (seq 1), reads a's HELLO, checks that it is bound to RAW_NONCE,
 * and returns a's nonce. When confirm, also sends the heartbeat (seq 2) that makes the
 * connection ALIVE on a. */
static uint64_t raw_handshake(struct world *w, struct node *a, int fd, const char *name,
                              bool confirm)
{
    char hello[256];
    snprintf(hello, sizeof(hello), "{\"node\":\"%s\",\"info\":{},\"nonce\":\"%s\"}", name,
             RAW_NONCE_HEX);
    raw_send_frame(fd, a->key, LK_WIRE_HELLO, RAW_NONCE, 1, hello);
    uint8_t buf[4096];
    size_t len = 0;
    WAIT_FOR(w, raw_poll_frame(fd, buf, sizeof(buf), &len));
    struct lk_wire_frame f;
    assert_true(lk_wire_decode(a->key, buf, len, &f) > 0);
    assert_int_equal(f.type, LK_WIRE_HELLO);
    assert_int_equal(f.session, RAW_NONCE);
    json_t *v = json_loadb((const char *) f.payload, f.payload_len, 0, NULL);
    const char *text = json_string_value(json_object_get(v, "nonce"));
    assert_non_null(text);
    assert_int_equal(strlen(text), 16);
    uint64_t nonce = strtoull(text, NULL, 16);
    json_decref(v);
    if (confirm) {
        char hb[128];
        snprintf(hb, sizeof(hb), "{\"from\":\"%s\"}", name);
        raw_send_frame(fd, a->key, LK_WIRE_HEARTBEAT, nonce, 2, hb);
    }
    return nonce;
}

/* ---------------------------------------------------------------- tests: errors first */

static void lk_net_start__refuses_a_port_in_use(void **state)
{
    struct world *w = *state;
    int ports[1];
    pick_ports(ports, 1);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[0], 0x11);
    node_start(w, a);

    struct lk_membership_options options = {
            .node = b->name, .listen = b->address, .key = b->key, .config = &b->config};
    char err[256] = "";
    struct lk_net *net = NULL;
    assert_int_equal(lk_net_start(&w->loop, &options, &callbacks, b, &net, err, sizeof(err)),
                     -EADDRINUSE);
    assert_null(net);
    char want[128];
    snprintf(want, sizeof(want), "cannot listen on %s: address already in use", b->address);
    assert_string_equal(err, want);

    options.listen = "127.0.0.1";
    assert_int_equal(lk_net_start(&w->loop, &options, &callbacks, b, &net, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "invalid listen address '127.0.0.1'");
    options.listen = "localhost:7400";
    assert_int_equal(lk_net_start(&w->loop, &options, &callbacks, b, &net, err, sizeof(err)),
                     -EINVAL);
    assert_null(net);
}

static void lk_net_send__not_connected(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0];
    node_init(a, "node1", ports[0], 0x11);
    char b_address[64];
    snprintf(b_address, sizeof(b_address), "127.0.0.1:%d", ports[1]);
    config_add_path(&a->config, "node2", b_address); /* nobody listens there */
    node_start(w, a);
    json_t *msg = json_pack("{s:i}", "n", 1);
    assert_int_equal(lk_net_send(a->net, "node2", msg), -ENOTCONN);
    assert_int_equal(lk_net_send(a->net, "nobody", msg), -ENOTCONN);
    assert_int_equal(lk_net_broadcast(a->net, msg), 0);
    json_decref(msg);
    assert_false(lk_net_alive(a->net, "node2"));

    /* The path keeps retrying; it shows as DEAD or CONNECTING, never ALIVE. */
    run_for(w, 300);
    json_t *peers = lk_net_peers_json(a->net);
    json_t *e = peer_entry(peers, "node2");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "state")), "DEAD");
    assert_true(json_is_true(json_object_get(e, "known")));
    assert_true(json_is_null(json_object_get(e, "last_heard_ms")));
    json_t *path = json_array_get(json_object_get(e, "paths"), 0);
    assert_string_equal(json_string_value(json_object_get(path, "address")), b_address);
    assert_string_equal(json_string_value(json_object_get(path, "direction")), "out");
    assert_int_equal(json_integer_value(json_object_get(path, "priority")), 1);
    assert_string_not_equal(json_string_value(json_object_get(path, "state")), "ALIVE");
    json_decref(peers);
    assert_int_equal(a->node_up, 0);
}

static void lk_net__wrong_key_is_unauthenticated(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x22);
    link_nodes(a, b);
    node_start(w, a);
    node_start(w, b);
    WAIT_FOR(w,
             dropped_total(a, "unauthenticated") >= 1 && dropped_total(b, "unauthenticated") >= 1);
    run_for(w, 300);
    assert_int_equal(a->hellos + b->hellos, 0);
    assert_int_equal(a->node_up + b->node_up, 0);
    assert_int_equal(a->heartbeats + b->heartbeats, 0);
    assert_int_equal(a->messages + b->messages, 0);
    assert_string_equal(b->dropped_from, "127.0.0.1");
    /* Counted under the remote address, which never identified itself. */
    json_t *peers = lk_net_peers_json(b->net);
    json_t *anon = peer_entry(peers, NULL);
    assert_non_null(anon);
    assert_string_equal(json_string_value(json_object_get(anon, "address")), "127.0.0.1");
    assert_true(json_integer_value(
                        json_object_get(json_object_get(anon, "dropped"), "unauthenticated")) >= 1);
    json_decref(peers);
}

/* Runs until raw's fd is closed by a and a's count of kind grew by one. */
static void expect_drop(struct world *w, struct node *a, int fd, const char *kind)
{
    json_int_t before = dropped_total(a, kind);
    WAIT_FOR(w, dropped_total(a, kind) == before + 1);
    WAIT_FOR(w, raw_closed(fd));
    close(fd);
}

static void lk_net__hostile_clients_are_dropped(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    config_add_path(&b->config, "node1", a->address); /* a does not know b */
    node_start(w, a);

    /* One client connects and says nothing: closed after 10 s (checked at the end). */
    int silent = raw_connect(a->port);
    uint64_t silent_since = now_ms();

    int fd = raw_connect(a->port);
    raw_send(fd, "GET / HTTP/1.0\r\n\r\n", 18);
    expect_drop(w, a, fd, "malformed");
    assert_string_equal(a->dropped_from, "127.0.0.1");

    /* A header announcing 4 GiB: refused from the header alone. */
    uint8_t header[LK_WIRE_HEADER] = {'O', 'K', 'W', '1', LK_WIRE_MESSAGE};
    header[23] = 1;                                           /* seq 1 */
    header[24] = header[25] = header[26] = header[27] = 0xff; /* length */
    fd = raw_connect(a->port);
    raw_send(fd, header, sizeof(header));
    expect_drop(w, a, fd, "oversized");

    /* 1 MiB is within the frame limit, but not before HELLO. */
    header[24] = header[26] = header[27] = 0;
    header[25] = 0x10;
    fd = raw_connect(a->port);
    raw_send(fd, header, sizeof(header));
    expect_drop(w, a, fd, "oversized");

    uint8_t other_key[LK_WIRE_KEY];
    memset(other_key, 0x33, sizeof(other_key));
    uint8_t *frame;
    size_t len;
    raw_frame(other_key, LK_WIRE_HELLO, 1, "{\"node\":\"intruder\"}", &frame, &len);
    fd = raw_connect(a->port);
    raw_send(fd, frame, len);
    free(frame);
    expect_drop(w, a, fd, "unauthenticated");

    raw_frame(a->key, LK_WIRE_MESSAGE, 1, "{\"n\":1}", &frame, &len);
    fd = raw_connect(a->port);
    raw_send(fd, frame, len);
    free(frame);
    expect_drop(w, a, fd, "other"); /* a message before HELLO */

    raw_frame(a->key, LK_WIRE_HELLO, 1, "{\"node\":\"node1\",\"nonce\":\"" RAW_NONCE_HEX "\"}",
              &frame, &len);
    fd = raw_connect(a->port);
    raw_send(fd, frame, len);
    free(frame);
    expect_drop(w, a, fd, "other"); /* a HELLO naming a itself */

    raw_frame(a->key, LK_WIRE_HELLO, 1, "{\"node\":\"raw\",\"nonce\":\"3e8\"}", &frame, &len);
    fd = raw_connect(a->port);
    raw_send(fd, frame, len);
    free(frame);
    expect_drop(w, a, fd, "malformed"); /* a nonce must have 16 hex digits */

    raw_frame(a->key, LK_WIRE_HELLO, 1, "[1,2]", &frame, &len);
    fd = raw_connect(a->port);
    raw_send(fd, frame, len);
    free(frame);
    expect_drop(w, a, fd, "malformed");

    /* The same good HELLO twice: the first is accepted (an unknown node), the copy is a
     * replay (it does not carry a's nonce), counted under the name it gave. */
    raw_frame(a->key, LK_WIRE_HELLO, 1,
              "{\"node\":\"raw\",\"info\":{},\"nonce\":\"" RAW_NONCE_HEX "\"}", &frame, &len);
    uint8_t twice[512];
    assert_true(2 * len <= sizeof(twice));
    memcpy(twice, frame, len);
    memcpy(twice + len, frame, len);
    free(frame);
    fd = raw_connect(a->port);
    raw_send(fd, twice, 2 * len);
    expect_drop(w, a, fd, "replayed");
    assert_string_equal(a->dropped_from, "raw");
    /* raw never sent a frame bound to a's nonce: it was never ALIVE, never announced. */
    assert_int_equal(a->hellos_unknown, 0);
    assert_false(lk_net_alive(a->net, "raw"));
    assert_int_equal(count_events(a, "raw", true), 0);

    /* A well-formed message that is not a JSON object, after a good handshake. */
    fd = raw_connect(a->port);
    uint64_t nonce = raw_handshake(w, a, fd, "raw", false);
    raw_send_frame(fd, a->key, LK_WIRE_MESSAGE, nonce, 2, "not json");
    expect_drop(w, a, fd, "malformed");
    assert_int_equal(a->messages, 0);

    json_t *peers = lk_net_peers_json(a->net);
    json_t *raw = peer_entry(peers, "raw");
    assert_non_null(raw);
    assert_false(json_is_true(json_object_get(raw, "known")));
    json_t *dropped = json_object_get(raw, "dropped");
    assert_int_equal(json_integer_value(json_object_get(dropped, "replayed")), 1);
    assert_int_equal(json_integer_value(json_object_get(dropped, "malformed")), 1);
    json_t *anon = peer_entry(peers, NULL);
    assert_non_null(anon);
    dropped = json_object_get(anon, "dropped");
    assert_int_equal(json_integer_value(json_object_get(dropped, "malformed")), 3);
    assert_int_equal(json_integer_value(json_object_get(dropped, "oversized")), 2);
    assert_int_equal(json_integer_value(json_object_get(dropped, "unauthenticated")), 1);
    assert_int_equal(json_integer_value(json_object_get(dropped, "other")), 2);
    json_decref(peers);

    /* After all that, a good peer still gets in (a does not know it: known=false). */
    node_start(w, b);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    WAIT_FOR(w, a->heartbeat_from[0] && strcmp(a->heartbeat_from, "node2") == 0);
    assert_int_equal(a->hellos_unknown, 1);
    assert_int_equal(b->hellos_unknown, 0);

    /* The silent client, a stranger (a has no peer at its address), is closed after the
     * strangers' timeout without HELLO (2 heartbeats, at least 1 s: issue 11), and is
     * counted nowhere. */
    json_int_t other = dropped_total(a, "other");
    RUN_UNTIL(w, raw_closed(silent), 1000 + GUARD_MS);
    assert_true(raw_closed(silent));
    assert_true(now_ms() - silent_since >= 900);
    close(silent);
    assert_int_equal(dropped_total(a, "other"), other);
    assert_true(lk_net_alive(a->net, "node2"));
}

/* Strangers before HELLO (issue 11): at most STRANGERS_PER_SOURCE (8) from one address,
 * MAX_STRANGERS (256) in all with the oldest shed for a new one, reported at most once per
 * kind per 10 s; a configured peer's address is counted apart and its node gets in. */
static void lk_net__strangers_are_bounded_and_peers_get_in(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    link_nodes(a, b); /* node2 is a configured peer of node1 at 127.0.0.1 */
    node_start(w, a);

    enum { FROM_ONE = 9, OTHERS = 31 };
    int one[FROM_ONE];
    for (int i = 0; i < FROM_ONE; i++) {
        one[i] = raw_connect_from("127.0.0.2", a->port);
        run_for(w, 5); /* accepted in this order: one[0] is the oldest */
    }
    WAIT_FOR(w, raw_closed(one[FROM_ONE - 1]));
    for (int i = 0; i < FROM_ONE - 1; i++) {
        assert_false(raw_closed(one[i]));
    }
    assert_int_equal(port_count(a, "strangers"), 8);
    assert_int_equal(a->port_reports[LK_PORT_REFUSED], 1);

    int many[OTHERS * 8];
    for (int i = 0; i < OTHERS * 8; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "127.0.0.%d", 3 + i / 8);
        many[i] = raw_connect_from(ip, a->port);
        if (i % 8 == 7) {
            run_for(w, 2); /* accept them: the listen backlog is 128 */
        }
    }
    WAIT_FOR(w, port_count(a, "strangers") == 256);
    /* The table is full: a new stranger takes the place of the oldest. */
    int late = raw_connect_from("127.0.0.200", a->port);
    WAIT_FOR(w, raw_closed(one[0]));
    run_for(w, 50);
    assert_false(raw_closed(late));
    assert_int_equal(port_count(a, "strangers"), 256);
    assert_int_equal(a->port_reports[LK_PORT_SHED], 1);

    /* From the configured peer's address: never refused for the strangers. */
    int peer_side[10];
    for (int i = 0; i < 10; i++) {
        peer_side[i] = raw_connect_from("127.0.0.1", a->port);
    }
    WAIT_FOR(w, port_count(a, "peer_pending") == 10);
    for (int i = 0; i < 10; i++) {
        assert_false(raw_closed(peer_side[i]));
    }
    assert_int_equal(port_count(a, "strangers"), 256);
    /* node2 gets in at once, both ways. */
    node_start(w, b);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    /* More refusals within 10 s were counted, not reported. */
    int more = raw_connect_from("127.0.0.2", a->port);
    WAIT_FOR(w, raw_closed(more));
    assert_int_equal(a->port_reports[LK_PORT_REFUSED], 1);
    close(more);

    /* The strangers time out after max(1 s, 2 heartbeats), the peer's address after 10 s. */
    WAIT_FOR(w, port_count(a, "strangers") == 0);
    assert_true(raw_closed(late));
    assert_int_equal(port_count(a, "peer_pending"), 10);
    for (int i = 0; i < FROM_ONE; i++) {
        close(one[i]);
    }
    for (int i = 0; i < OTHERS * 8; i++) {
        close(many[i]);
    }
    close(late);
    for (int i = 0; i < 10; i++) {
        close(peer_side[i]);
    }
}

/* ---------------------------------------------------------------- tests: the good path */

static bool all_got(const struct node *n, int count)
{
    return n->messages >= count;
}

static void lk_net__two_nodes_hello_heartbeat_messages_death(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    link_nodes(a, b);
    node_start(w, a);
    node_start(w, b);

    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    assert_int_equal(count_events(a, "node2", true), 1);
    assert_int_equal(count_events(b, "node1", true), 1);
    WAIT_FOR(w, a->hellos >= 2 && b->hellos >= 2); /* one per connection: in and out */
    assert_int_equal(a->hellos_unknown + b->hellos_unknown, 0);
    assert_string_equal(a->hello_digest, "d-node2");
    assert_string_equal(b->hello_digest, "d-node1");

    WAIT_FOR(w, a->heartbeats >= 3 && b->heartbeats >= 3);
    assert_string_equal(a->heartbeat_from, "node2");

    for (int i = 1; i <= 200; i++) {
        json_t *msg = json_pack("{s:i, s:s}", "n", i, "pad", "some text to make it longer");
        assert_int_equal(lk_net_send(a->net, "node2", msg), 0);
        json_decref(msg);
    }
    WAIT_FOR(w, all_got(b, 200));
    assert_int_equal(b->messages, 200);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(b->msg_n[i], i + 1);
    }
    assert_string_equal(b->msg_from, "node1");

    json_t *msg = json_pack("{s:i}", "n", 7);
    assert_int_equal(lk_net_broadcast(b->net, msg), 1);
    json_decref(msg);
    WAIT_FOR(w, a->messages == 1);
    assert_int_equal(a->msg_n[0], 7);

    /* Too big for a frame. */
    char *big = malloc(LK_WIRE_MAX_PAYLOAD + 1);
    assert_non_null(big);
    memset(big, 'x', LK_WIRE_MAX_PAYLOAD);
    big[LK_WIRE_MAX_PAYLOAD] = '\0';
    msg = json_pack("{s:s}", "big", big);
    free(big);
    assert_int_equal(lk_net_send(a->net, "node2", msg), -EMSGSIZE);
    json_decref(msg);

    json_t *peers = lk_net_peers_json(a->net);
    json_t *e = peer_entry(peers, "node2");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "state")), "ALIVE");
    assert_true(json_is_true(json_object_get(e, "known")));
    assert_false(json_is_true(json_object_get(e, "witness")));
    assert_true(json_is_integer(json_object_get(e, "last_heard_ms")));
    json_t *paths = json_object_get(e, "paths");
    assert_int_equal(json_array_size(paths), 2); /* out, and b's connection in */
    json_t *out = json_array_get(paths, 0);
    assert_string_equal(json_string_value(json_object_get(out, "direction")), "out");
    assert_string_equal(json_string_value(json_object_get(out, "state")), "ALIVE");
    assert_true(json_integer_value(json_object_get(out, "frames_out")) >= 200);
    json_t *in = json_array_get(paths, 1);
    assert_string_equal(json_string_value(json_object_get(in, "direction")), "in");
    assert_true(json_is_null(json_object_get(in, "priority"))); /* the CLI prints "-" */
    assert_true(json_integer_value(json_object_get(in, "frames_in")) >= 1);
    json_t *dropped = json_object_get(e, "dropped");
    const char *kinds[] = {"malformed", "oversized", "unauthenticated", "replayed", "other"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(json_integer_value(json_object_get(dropped, kinds[i])), 0);
    }
    json_decref(peers);

    /* b goes away: a reports it DEAD (both of its connections close at once here). */
    node_stop(b);
    WAIT_FOR(w, !lk_net_alive(a->net, "node2"));
    assert_int_equal(count_events(a, "node2", false), 1);
    assert_int_equal(a->nodes[a->node_events - 1].alive, false);
    assert_int_equal(b->node_down, 0); /* stopping reports nothing */
}

static void lk_net__three_nodes_broadcast_and_death(void **state)
{
    struct world *w = *state;
    int ports[3];
    pick_ports(ports, 3);
    struct node *a = &w->nodes[0], *b = &w->nodes[1], *c = &w->nodes[2];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    node_init(c, "node3", ports[2], 0x11);
    link_nodes(a, b);
    link_nodes(a, c);
    link_nodes(b, c);
    node_start(w, a);
    node_start(w, b);
    node_start(w, c);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(a->net, "node3") &&
                        lk_net_alive(b->net, "node1") && lk_net_alive(b->net, "node3") &&
                        lk_net_alive(c->net, "node1") && lk_net_alive(c->net, "node2"));
    json_t *msg = json_pack("{s:i}", "n", 3);
    assert_int_equal(lk_net_broadcast(a->net, msg), 2);
    json_decref(msg);
    WAIT_FOR(w, b->messages == 1 && c->messages == 1);
    assert_int_equal(b->msg_n[0], 3);

    node_stop(c);
    WAIT_FOR(w, !lk_net_alive(a->net, "node3") && !lk_net_alive(b->net, "node3"));
    run_for(w, 500);
    assert_true(lk_net_alive(a->net, "node2"));
    assert_true(lk_net_alive(b->net, "node1"));
    assert_int_equal(count_events(a, "node2", false) + count_events(b, "node1", false), 0);
    assert_int_equal(count_events(a, "node3", false), 1);
}

/* A peer that said HELLO and then fell silent (its kernel still holds the connection
 * open, as with SIGSTOP) dies of missed heartbeats. */
static void lk_net__silent_peer_dies_of_missed_heartbeats(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0];
    node_init(a, "node1", ports[0], 0x11);
    char nobody[64];
    snprintf(nobody, sizeof(nobody), "127.0.0.1:%d", ports[1]);
    config_add_path(&a->config, "node3", nobody);
    node_start(w, a);

    int fd = raw_connect(a->port);
    (void) raw_handshake(w, a, fd, "node3", true);
    WAIT_FOR(w, lk_net_alive(a->net, "node3"));
    assert_int_equal(a->hellos_unknown, 0);
    WAIT_FOR(w, !lk_net_alive(a->net, "node3"));
    assert_string_equal(a->nodes[a->node_events - 1].why,
                        "no heartbeat for 300 ms on any comm path");
    WAIT_FOR(w, raw_closed(fd));
    close(fd);
    assert_int_equal(dropped_total(a, "other") + dropped_total(a, "malformed"), 0);
}

/* A peer that says HELLO and then never reads: its connection is closed as stalled once
 * 64 MiB wait to be sent, instead of buffering without bound. */
static void lk_net_send__stalled_peer_is_cut_off(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0];
    node_init(a, "node1", ports[0], 0x11);
    char nobody[64];
    snprintf(nobody, sizeof(nobody), "127.0.0.1:%d", ports[1]);
    config_add_path(&a->config, "node3", nobody);
    node_start(w, a);

    int fd = raw_connect(a->port);
    (void) raw_handshake(w, a, fd, "node3", true);
    WAIT_FOR(w, lk_net_alive(a->net, "node3"));

    size_t size = LK_WIRE_MAX_PAYLOAD - 64;
    char *text = malloc(size + 1);
    assert_non_null(text);
    memset(text, 'x', size);
    text[size] = '\0';
    json_t *msg = json_pack("{s:s}", "blob", text);
    free(text);
    int r = 0;
    int sent = 0;
    for (int i = 0; i < 20 && r == 0; i++) {
        r = lk_net_send(a->net, "node3", msg);
        sent += r == 0;
    }
    json_decref(msg);
    assert_int_equal(r, -ENOTCONN);
    /* 64 MiB, less what the kernel took */
    assert_true(sent >= (int) (64 * 1024 * 1024 / LK_WIRE_MAX_PAYLOAD) - 1);
    assert_false(lk_net_alive(a->net, "node3"));
    json_t *peers = lk_net_peers_json(a->net);
    assert_int_equal(json_integer_value(json_object_get(peer_entry(peers, "node3"), "stalled")), 1);
    json_decref(peers);
    close(fd);
}

static void relay_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void relay_conn_closed(uv_handle_t *h)
{
    struct relay_conn *rc = h->data;
    if (--rc->open == 0) {
        struct relay_conn **pp = &rc->relay->conns;
        while (*pp != rc) {
            pp = &(*pp)->next;
        }
        *pp = rc->next;
        free(rc);
    }
}

static void relay_conn_close(struct relay_conn *rc)
{
    if (!uv_is_closing((uv_handle_t *) &rc->a)) {
        uv_close((uv_handle_t *) &rc->a, relay_conn_closed);
    }
    if (!uv_is_closing((uv_handle_t *) &rc->b)) {
        uv_close((uv_handle_t *) &rc->b, relay_conn_closed);
    }
}

static void relay_written(uv_write_t *req, int status)
{
    (void) status;
    free(req->data);
    free(req);
}

static void relay_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct relay_conn *rc = s->data;
    uv_stream_t *to = s == (uv_stream_t *) &rc->a ? (uv_stream_t *) &rc->b : (uv_stream_t *) &rc->a;
    if (nread < 0) {
        free(buf->base);
        relay_conn_close(rc);
        return;
    }
    if (nread == 0) {
        free(buf->base);
        return;
    }
    struct relay *r = rc->relay;
    if (r->record && s == (uv_stream_t *) &rc->a) {
        uint8_t *bigger = realloc(r->rec, r->rec_len + (size_t) nread);
        assert_non_null(bigger);
        memcpy(bigger + r->rec_len, buf->base, (size_t) nread);
        r->rec = bigger;
        r->rec_len += (size_t) nread;
    }
    uv_write_t *req = malloc(sizeof(*req));
    assert_non_null(req);
    req->data = buf->base;
    uv_buf_t out = uv_buf_init(buf->base, (unsigned) nread);
    if (uv_write(req, to, &out, 1, relay_written) < 0) {
        free(buf->base);
        free(req);
        relay_conn_close(rc);
    }
}

static void relay_connected(uv_connect_t *req, int status)
{
    struct relay_conn *rc = req->data;
    if (status < 0) {
        if (status != UV_ECANCELED) {
            relay_conn_close(rc);
        }
        return;
    }
    uv_read_start((uv_stream_t *) &rc->a, relay_alloc, relay_read);
    uv_read_start((uv_stream_t *) &rc->b, relay_alloc, relay_read);
}

static void relay_accept(uv_stream_t *server, int status)
{
    struct relay *r = server->data;
    assert_int_equal(status, 0);
    struct relay_conn *rc = calloc(1, sizeof(*rc));
    assert_non_null(rc);
    rc->relay = r;
    uv_tcp_init(server->loop, &rc->a);
    uv_tcp_init(server->loop, &rc->b);
    rc->a.data = rc->b.data = rc->connect.data = rc;
    rc->open = 2;
    rc->next = r->conns;
    r->conns = rc;
    assert_int_equal(uv_accept(server, (uv_stream_t *) &rc->a), 0);
    r->accepted++;
    uv_tcp_connect(&rc->connect, &rc->b, (const struct sockaddr *) &r->target, relay_connected);
}

static void relay_start(uv_loop_t *loop, struct relay *r, int port, int target_port)
{
    memset(r, 0, sizeof(*r));
    uv_ip4_addr("127.0.0.1", target_port, &r->target);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_tcp_init(loop, &r->listener);
    r->listener.data = r;
    assert_int_equal(uv_tcp_bind(&r->listener, (const struct sockaddr *) &sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *) &r->listener, 16, relay_accept), 0);
}

static void relay_stop(struct relay *r)
{
    if (!uv_is_closing((uv_handle_t *) &r->listener)) {
        uv_close((uv_handle_t *) &r->listener, NULL);
    }
    for (struct relay_conn *rc = r->conns; rc; rc = rc->next) {
        relay_conn_close(rc);
    }
}

static void lk_net__one_of_two_paths_fails(void **state)
{
    struct world *w = *state;
    int ports[3];
    pick_ports(ports, 3);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    relay_start(&w->loop, &w->relay, ports[2], b->port);
    w->relay_started = true;
    char via_relay[64];
    snprintf(via_relay, sizeof(via_relay), "127.0.0.1:%d", ports[2]);
    /* a reaches b directly (best) and through the relay; b reaches a directly. */
    config_add_path(&a->config, "node2", b->address);
    config_add_path(&a->config, "node2", via_relay);
    config_add_path(&b->config, "node1", a->address);
    node_start(w, a);
    node_start(w, b);
    WAIT_FOR(w, a->path_up >= 3 && b->path_up >= 3); /* a: 2 out + 1 in; b: 1 out + 2 in */
    assert_true(lk_net_alive(a->net, "node2"));

    json_t *peers = lk_net_peers_json(a->net);
    json_t *paths = json_object_get(peer_entry(peers, "node2"), "paths");
    assert_int_equal(json_array_size(paths), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(paths, 1), "address")),
                        via_relay);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(paths, 1), "priority")), 2);
    json_decref(peers);

    int down_before = a->path_down;
    relay_stop(&w->relay);
    WAIT_FOR(w, a->path_down > down_before && b->path_down >= 1);
    run_for(w, 500); /* longer than the dead time: the other paths carry the heartbeats */
    assert_true(lk_net_alive(a->net, "node2"));
    assert_true(lk_net_alive(b->net, "node1"));
    assert_int_equal(a->node_down + b->node_down, 0);

    peers = lk_net_peers_json(a->net);
    paths = json_object_get(peer_entry(peers, "node2"), "paths");
    assert_string_equal(json_string_value(json_object_get(json_array_get(paths, 0), "state")),
                        "ALIVE");
    assert_string_not_equal(json_string_value(json_object_get(json_array_get(paths, 1), "state")),
                            "ALIVE");
    json_decref(peers);

    /* Messages still flow on the best path that is left. */
    json_t *msg = json_pack("{s:i}", "n", 42);
    assert_int_equal(lk_net_send(a->net, "node2", msg), 0);
    json_decref(msg);
    WAIT_FOR(w, b->messages == 1);
}

static void lk_net_reconfigure__adds_and_drops_paths(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    config_add_path(&a->config, "node2", NULL); /* a peer, no paths yet */
    node_start(w, a);
    node_start(w, b);
    run_for(w, 400);
    assert_false(lk_net_alive(a->net, "node2"));

    config_add_path(&a->config, "node2", b->address);
    lk_net_reconfigure(a->net, &a->config);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    assert_int_equal(b->hellos_unknown, 1); /* b has no node1 configured */

    /* Adding b's side keeps a's connection (no path goes down). */
    int down = a->path_down;
    config_add_path(&b->config, "node1", a->address);
    lk_net_reconfigure(b->net, &b->config);
    WAIT_FOR(w, a->path_up >= 2);
    assert_int_equal(a->path_down, down);

    /* Dropping node2 from both: the connections close and each side sees the other die. */
    a->config.peer_count = 0;
    b->config.peer_count = 0;
    lk_net_reconfigure(a->net, &a->config);
    lk_net_reconfigure(b->net, &b->config);
    WAIT_FOR(w, !lk_net_alive(a->net, "node2") && !lk_net_alive(b->net, "node1"));
    run_for(w, 300);
    assert_false(lk_net_alive(a->net, "node2"));
    json_t *peers = lk_net_peers_json(a->net);
    json_t *e = peer_entry(peers, "node2");
    assert_non_null(e); /* heard of, so still listed */
    assert_false(json_is_true(json_object_get(e, "known")));
    assert_int_equal(json_array_size(json_object_get(e, "paths")), 0);
    json_decref(peers);
}

static void lk_net__witness_is_known(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *q = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(q, "quorum", ports[1], 0x11);
    q->witness = true;
    snprintf(a->config.cluster.witness, LK_ADDR_MAX, "%s", q->address);
    node_start(w, a);
    node_start(w, q);
    WAIT_FOR(w, lk_net_alive(a->net, "quorum") && lk_net_alive(q->net, "node1"));
    assert_int_equal(a->hellos_unknown, 0);
    assert_int_equal(q->hellos_unknown, 1);
    json_t *peers = lk_net_peers_json(a->net);
    json_t *e = peer_entry(peers, "quorum");
    assert_non_null(e);
    assert_true(json_is_true(json_object_get(e, "known")));
    assert_true(json_is_true(json_object_get(e, "witness")));
    assert_int_equal(json_array_size(json_object_get(e, "paths")), 1);
    assert_null(peer_entry(peers, NULL));
    json_decref(peers);

    /* Dropping the witness address closes that connection. */
    a->config.cluster.witness[0] = '\0';
    lk_net_reconfigure(a->net, &a->config);
    WAIT_FOR(w, !lk_net_alive(a->net, "quorum"));
}

static void on_freeze(uv_timer_t *t)
{
    (void) t;
    usleep(700 * 1000); /* over twice the dead time of 300 ms */
}

static void lk_net__freeze_is_not_death(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    link_nodes(a, b);
    node_start(w, a);
    node_start(w, b);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1") &&
                        a->heartbeats > 2 && b->heartbeats > 2);

    uv_timer_init(&w->loop, &w->freeze);
    w->freeze_started = true;
    uv_timer_start(&w->freeze, on_freeze, 0, 0);
    WAIT_FOR(w, a->resumed == 1 && b->resumed == 1);
    assert_true(a->frozen_ms >= 300);
    assert_true(b->frozen_ms >= 300);
    assert_int_equal(a->node_down_when_resumed, 0);
    run_for(w, 600); /* two dead times after the resume */
    assert_int_equal(a->node_down + b->node_down, 0);
    assert_true(lk_net_alive(a->net, "node2"));
    assert_true(lk_net_alive(b->net, "node1"));
}

/* A peer whose settings differ (a slower heartbeat: say a node of a release with a
 * slower default during a rolling upgrade) is judged by the longer dead time its HELLO
 * announced, not declared dead between two of its heartbeats. */
static void lk_net__peer_with_a_longer_dead_time_is_not_dead(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    b->config.cluster.heartbeat_interval_ms = 1000; /* dead time 3 s; node1's is 300 ms */
    link_nodes(a, b);
    node_start(w, a);
    node_start(w, b);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    run_for(w, 2500); /* over two of node2's heartbeat intervals, eight of node1's dead times */
    assert_int_equal(a->node_down + b->node_down, 0);
    assert_true(lk_net_alive(a->net, "node2"));
    assert_true(lk_net_alive(b->net, "node1"));
}

/* SPEC §5: replayed messages are dropped, also on a new connection. Everything node1
 * sent on one connection (recorded by the relay) is replayed to node2 on new ones after
 * node1 stopped: node2 answers the recorded HELLO, but the next recorded frame carries
 * the nonce node2 gave the old connection, so it is refused as replayed; nothing reaches
 * the callbacks, and node1 never looks ALIVE. */
static void lk_net__replay_on_a_new_connection_is_refused(void **state)
{
    struct world *w = *state;
    int ports[3];
    pick_ports(ports, 3);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    relay_start(&w->loop, &w->relay, ports[2], b->port);
    w->relay_started = true;
    w->relay.record = true;
    char via_relay[64];
    snprintf(via_relay, sizeof(via_relay), "127.0.0.1:%d", ports[2]);
    config_add_path(&a->config, "node2", via_relay); /* the only connection */
    config_add_path(&b->config, "node1", NULL);
    node_start(w, a);
    node_start(w, b);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    for (int i = 1; i <= 3; i++) {
        json_t *msg = json_pack("{s:i}", "n", i);
        assert_int_equal(lk_net_send(a->net, "node2", msg), 0);
        json_decref(msg);
    }
    WAIT_FOR(w, b->messages == 3 && b->heartbeats >= 2);
    w->relay.record = false;
    node_stop(a);
    WAIT_FOR(w, !lk_net_alive(b->net, "node1") && a->stopped == 1);

    int hellos = b->hellos, heartbeats = b->heartbeats, messages = b->messages;
    int node_up = b->node_up, path_up = b->path_up;
    json_int_t replayed = dropped_total(b, "replayed");

    /* All of it at once. */
    int fd = raw_connect(b->port);
    raw_send(fd, w->relay.rec, w->relay.rec_len);
    expect_drop(w, b, fd, "replayed");
    assert_string_equal(b->dropped_from, "node1");
    assert_non_null(strstr(b->dropped_why, "another connection"));

    /* The HELLO alone, then silence for longer than the dead time. */
    size_t hello_len =
            LK_WIRE_HEADER + LK_WIRE_MAC + ((size_t) w->relay.rec[26] << 8 | w->relay.rec[27]);
    assert_true(w->relay.rec[4] == LK_WIRE_HELLO && hello_len < w->relay.rec_len);
    fd = raw_connect(b->port);
    raw_send(fd, w->relay.rec, hello_len);
    run_for(w, 500);
    assert_false(lk_net_alive(b->net, "node1"));
    close(fd);

    assert_int_equal(dropped_total(b, "replayed"), replayed + 1);
    assert_int_equal(b->hellos, hellos);
    assert_int_equal(b->heartbeats, heartbeats);
    assert_int_equal(b->messages, messages);
    assert_int_equal(b->node_up, node_up);
    assert_int_equal(b->path_up, path_up);
    free(w->relay.rec);
    w->relay.rec = NULL;

    /* The real node1 comes back and is heard as before. */
    node_start(w, a);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));
    json_t *msg = json_pack("{s:i}", "n", 4);
    assert_int_equal(lk_net_send(a->net, "node2", msg), 0);
    json_decref(msg);
    WAIT_FOR(w, b->messages == 4);
    assert_int_equal(b->msg_n[3], 4);
    assert_int_equal(dropped_total(b, "replayed"), replayed + 1);
}

/* The acceptor's side: a HELLO answering our connection must carry our nonce, so a
 * recorded answer (bound to another connection's nonce) is refused. */
static void lk_net__replayed_answer_is_refused(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0];
    node_init(a, "node1", ports[0], 0x11);
    char fake[64];
    snprintf(fake, sizeof(fake), "127.0.0.1:%d", ports[1]);
    config_add_path(&a->config, "node2", fake);

    /* "node2" listens with a plain socket and answers with a HELLO bound to a nonce of
     * some other connection. */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    int on = 1;
    (void) setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) ports[1])};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    node_start(w, a);
    int fd = -1;
    RUN_UNTIL(w, (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0, GUARD_MS);
    assert_true(fd >= 0);
    raw_send_frame(fd, a->key, LK_WIRE_HELLO, 12345, 1,
                   "{\"node\":\"node2\",\"nonce\":\"" RAW_NONCE_HEX "\"}");
    json_int_t before = dropped_total(a, "replayed");
    WAIT_FOR(w, dropped_total(a, "replayed") == before + 1);
    assert_string_equal(a->dropped_from, "node2");
    assert_int_equal(a->hellos + a->node_up, 0);
    close(fd);
    close(lfd);
}

/* lk_net_stop flushes: a large message (more than the kernel takes at once) and a small
 * one sent just before it both arrive, and the stop completes on the peer's EOF. */
static void lk_net_stop__flushes_what_was_sent(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0], *b = &w->nodes[1];
    node_init(a, "node1", ports[0], 0x11);
    node_init(b, "node2", ports[1], 0x11);
    link_nodes(a, b);
    node_start(w, a);
    node_start(w, b);
    WAIT_FOR(w, lk_net_alive(a->net, "node2") && lk_net_alive(b->net, "node1"));

    size_t size = 4 * 1024 * 1024;
    char *text = malloc(size + 1);
    assert_non_null(text);
    memset(text, 'x', size);
    text[size] = '\0';
    json_t *msg = json_pack("{s:i, s:s}", "n", 1, "blob", text);
    free(text);
    assert_int_equal(lk_net_send(a->net, "node2", msg), 0);
    json_decref(msg);
    msg = json_pack("{s:i, s:s}", "n", 2, "bye", "leaving");
    assert_int_equal(lk_net_send(a->net, "node2", msg), 0);
    json_decref(msg);
    node_stop(a);
    WAIT_FOR(w, a->stopped == 1);
    /* Both arrived whole: the stop waited for the flush (a stop ended by the drain limit
     * would have cut the large one). No bound on its time: a loaded machine takes longer
     * to seal and send 4 MiB, and this once failed at 500 ms under load 16. */
    WAIT_FOR(w, b->messages == 2);
    assert_int_equal(b->msg_n[0], 1);
    assert_int_equal(b->msg_n[1], 2);
}

/* A peer that neither reads nor closes holds lk_net_stop up for at most 500 ms. */
static void lk_net_stop__drain_is_bounded(void **state)
{
    struct world *w = *state;
    int ports[2];
    pick_ports(ports, 2);
    struct node *a = &w->nodes[0];
    node_init(a, "node1", ports[0], 0x11);
    char nobody[64];
    snprintf(nobody, sizeof(nobody), "127.0.0.1:%d", ports[1]);
    config_add_path(&a->config, "node3", nobody);
    node_start(w, a);
    int fd = raw_connect(a->port);
    (void) raw_handshake(w, a, fd, "node3", true);
    WAIT_FOR(w, lk_net_alive(a->net, "node3"));

    size_t size = 4 * 1024 * 1024;
    char *text = malloc(size + 1);
    assert_non_null(text);
    memset(text, 'x', size);
    text[size] = '\0';
    json_t *msg = json_pack("{s:s}", "blob", text);
    free(text);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lk_net_send(a->net, "node3", msg), 0);
    }
    json_decref(msg);
    uint64_t t0 = now_ms();
    node_stop(a);
    WAIT_FOR(w, a->stopped == 1);
    uint64_t took = now_ms() - t0;
    assert_true(took >= 450);
    assert_true(took < 2000);
    close(fd);
}

static void lk_net_stop__null_and_json_without_net(void **state)
{
    (void) state;
    lk_net_stop(NULL);
    json_t *d = lk_net_dropped_json(NULL);
    assert_int_equal(json_object_size(d), 5);
    json_decref(d);
    assert_false(lk_net_alive(NULL, "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_net_stop__null_and_json_without_net),
            cmocka_unit_test_setup_teardown(lk_net_start__refuses_a_port_in_use, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net_send__not_connected, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net__wrong_key_is_unauthenticated, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net__hostile_clients_are_dropped, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net__strangers_are_bounded_and_peers_get_in, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net__two_nodes_hello_heartbeat_messages_death, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net__three_nodes_broadcast_and_death, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net__silent_peer_dies_of_missed_heartbeats, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net_send__stalled_peer_is_cut_off, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net__one_of_two_paths_fails, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net_reconfigure__adds_and_drops_paths, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net__witness_is_known, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net__freeze_is_not_death, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net__peer_with_a_longer_dead_time_is_not_dead, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net__replay_on_a_new_connection_is_refused, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(lk_net__replayed_answer_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net_stop__flushes_what_was_sent, setup, teardown),
            cmocka_unit_test_setup_teardown(lk_net_stop__drain_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
