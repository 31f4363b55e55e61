/* Tests of the membership contract (src/daemon/cluster/membership.h) as the coordinator uses it:
 * only through the table lk_membership_tcp, never through net.h. Two real backends on
 * 127.0.0.1 in one uv loop (heartbeat 100 ms, 3 misses): peers come up, messages arrive
 * in order, stop drains and ends with exactly one on_stopped and nothing after it, and a
 * start that fails returns an error, no handle, and never calls back. Every wait runs the
 * loop under a guard and only asserts that something happened before it. */
#include <arpa/inet.h>
#include <errno.h>
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

#include "membership.h"
#include "wire.h"

#define GUARD_MS 10000
#define MSGS     50

struct member {
    char name[32];
    char address[64];
    uint8_t key[LK_WIRE_KEY];
    struct lk_config config;
    void *backend;
    int calls; /* every callback but heartbeat_payload */
    int up, down, hellos, stopped;
    int messages;
    long last_n;
    bool in_order;
};

static void on_node(void *userdata, const char *peer, bool alive, const char *why)
{
    struct member *m = userdata;
    (void) peer;
    assert_non_null(why);
    m->calls++;
    if (alive) {
        m->up++;
    } else {
        m->down++;
    }
}

static void on_path(void *userdata, const char *peer, const char *address, bool alive,
                    const char *why)
{
    struct member *m = userdata;
    (void) peer, (void) address, (void) alive, (void) why;
    m->calls++;
}

static void on_hello(void *userdata, const char *peer, bool known, const json_t *info)
{
    struct member *m = userdata;
    (void) peer;
    assert_true(known);
    assert_true(json_is_object(info));
    m->calls++;
    m->hellos++;
}

static void on_heartbeat(void *userdata, const char *peer, const json_t *payload)
{
    struct member *m = userdata;
    (void) peer, (void) payload;
    m->calls++;
}

static void on_message(void *userdata, const char *peer, const json_t *msg)
{
    struct member *m = userdata;
    (void) peer;
    m->calls++;
    long n = (long) json_integer_value(json_object_get(msg, "n"));
    m->in_order = m->in_order && n == m->last_n + 1;
    m->last_n = n;
    m->messages++;
}

static void on_dropped(void *userdata, const char *from, const char *why)
{
    struct member *m = userdata;
    (void) from, (void) why;
    m->calls++;
}

static void on_resumed(void *userdata, uint64_t frozen_ms)
{
    struct member *m = userdata;
    (void) frozen_ms;
    m->calls++;
}

static json_t *heartbeat_payload(void *userdata)
{
    (void) userdata;
    return NULL;
}

static void on_stopped(void *userdata)
{
    struct member *m = userdata;
    m->calls++;
    m->stopped++;
}

static const struct lk_membership_callbacks callbacks = {
        .on_node = on_node,
        .on_path = on_path,
        .on_hello = on_hello,
        .on_heartbeat = on_heartbeat,
        .on_message = on_message,
        .on_dropped = on_dropped,
        .on_resumed = on_resumed,
        .heartbeat_payload = heartbeat_payload,
        .on_stopped = on_stopped,
};

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void member_init(struct member *m, const char *name, int port)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->address, sizeof(m->address), "127.0.0.1:%d", port);
    memset(m->key, 7, sizeof(m->key));
    snprintf(m->config.node, sizeof(m->config.node), "%s", name);
    snprintf(m->config.listen, sizeof(m->config.listen), "%s", m->address);
    lk_cluster_settings_init(&m->config.cluster);
    m->config.cluster.heartbeat_interval_ms = 100;
    m->config.cluster.heartbeat_misses = 3;
    m->in_order = true;
}

static void add_peer(struct member *m, const struct member *peer)
{
    char err[256];
    assert_int_equal(lk_config_add_path(&m->config, peer->name, peer->address, err, sizeof(err)),
                     0);
}

static int member_start(uv_loop_t *loop, struct member *m, char *err, size_t err_size)
{
    const struct lk_membership_options options = {
            .node = m->name, .listen = m->address, .key = m->key, .config = &m->config};
    return lk_membership_tcp.start(loop, &options, &callbacks, m, &m->backend, err, err_size);
}

static void on_guard(uv_timer_t *t)
{
    (void) t;
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

#define RUN_UNTIL(loop, cond, ms)                                                                  \
    do {                                                                                           \
        uint64_t deadline_ = now_ms() + (ms);                                                      \
        while (!(cond) && now_ms() < deadline_) {                                                  \
            uv_run((loop), UV_RUN_ONCE);                                                           \
        }                                                                                          \
    } while (0)

#define WAIT_FOR(loop, cond)                                                                       \
    do {                                                                                           \
        RUN_UNTIL(loop, cond, GUARD_MS);                                                           \
        if (!(cond)) {                                                                             \
            fail_msg("timed out waiting for %s", #cond);                                           \
        }                                                                                          \
    } while (0)

static void close_loop(uv_loop_t *loop, uv_timer_t *guard)
{
    uv_close((uv_handle_t *) guard, NULL);
    RUN_UNTIL(loop, uv_loop_alive(loop) == 0, GUARD_MS);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void lk_membership_tcp__peers_messages_and_stop(void **state)
{
    (void) state;
    uv_loop_t loop;
    uv_timer_t guard;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, on_guard, 10, 10);

    static struct member a, b;
    member_init(&a, "a", free_port());
    member_init(&b, "b", free_port());
    add_peer(&a, &b);
    add_peer(&b, &a);
    assert_string_equal(lk_membership_tcp.name, "tcp");
    char err[256] = "";
    assert_int_equal(member_start(&loop, &a, err, sizeof(err)), 0);
    assert_int_equal(member_start(&loop, &b, err, sizeof(err)), 0);
    json_t *info = json_object();
    lk_membership_tcp.set_hello(a.backend, info);
    lk_membership_tcp.set_hello(b.backend, info);
    json_decref(info);

    WAIT_FOR(&loop, a.up == 1 && b.up == 1 && a.hellos > 0 && b.hellos > 0);
    assert_true(lk_membership_tcp.alive(a.backend, "b"));
    assert_false(lk_membership_tcp.alive(a.backend, "nobody"));

    /* Ordered messages on one session. */
    for (long n = 1; n <= MSGS; n++) {
        json_t *msg = json_pack("{s:s,s:I}", "t", "test", "n", (json_int_t) n);
        assert_int_equal(lk_membership_tcp.send(a.backend, "b", msg), 0);
        json_decref(msg);
    }
    json_t *msg = json_pack("{s:s,s:I}", "t", "test", "n", (json_int_t) 1);
    assert_int_equal(lk_membership_tcp.send(a.backend, "nobody", msg), -ENOTCONN);
    assert_int_equal(lk_membership_tcp.broadcast(b.backend, msg), 1);
    json_decref(msg);
    WAIT_FOR(&loop, b.messages == MSGS && a.messages == 1);
    assert_true(b.in_order);
    assert_int_equal(b.last_n, MSGS);

    json_t *peers = lk_membership_tcp.peers_json(a.backend);
    assert_true(json_is_array(peers));
    assert_string_equal(json_string_value(json_object_get(json_array_get(peers, 0), "name")), "b");
    json_decref(peers);

    /* Stop: exactly one on_stopped, nothing after it (not even b's death). */
    lk_membership_tcp.stop(a.backend);
    a.backend = NULL;
    int calls_at_stop = a.calls;
    WAIT_FOR(&loop, a.stopped == 1);
    assert_int_equal(a.calls, calls_at_stop + 1);
    WAIT_FOR(&loop, b.down == 1);
    lk_membership_tcp.stop(b.backend);
    b.backend = NULL;
    WAIT_FOR(&loop, b.stopped == 1);
    RUN_UNTIL(&loop, false, 300);
    assert_int_equal(a.stopped, 1);
    assert_int_equal(b.stopped, 1);
    assert_int_equal(a.calls, calls_at_stop + 1);
    lk_membership_tcp.stop(NULL); /* NULL-safe */
    close_loop(&loop, &guard);
}

static void lk_membership_tcp__failing_start_never_calls_back(void **state)
{
    (void) state;
    uv_loop_t loop;
    uv_timer_t guard;
    assert_int_equal(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, on_guard, 10, 10);

    static struct member a, b;
    int port = free_port();
    member_init(&a, "a", port);
    member_init(&b, "b", port); /* the same listen address: b cannot bind it */
    add_peer(&b, &a);
    char err[256] = "";
    assert_int_equal(member_start(&loop, &a, err, sizeof(err)), 0);
    b.backend = &b; /* must come back NULL */
    err[0] = '\0';
    assert_int_equal(member_start(&loop, &b, err, sizeof(err)), -EADDRINUSE);
    assert_null(b.backend);
    assert_non_null(strstr(err, "address already in use"));
    assert_null(strchr(err, '\n'));
    RUN_UNTIL(&loop, false, 500);
    assert_int_equal(b.calls, 0);

    lk_membership_tcp.stop(a.backend);
    WAIT_FOR(&loop, a.stopped == 1);
    RUN_UNTIL(&loop, false, 100);
    assert_int_equal(b.calls, 0);
    close_loop(&loop, &guard);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_membership_tcp__peers_messages_and_stop),
            cmocka_unit_test(lk_membership_tcp__failing_start_never_calls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
