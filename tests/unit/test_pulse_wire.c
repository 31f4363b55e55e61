/* Unit tests of the pulse datagram and its acceptance rule (src/lib/pulse_wire.c). */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pulse_wire.h"

static uint8_t key[LK_PULSE_KEY];
static uint8_t other_key[LK_PULSE_KEY];

static int setup(void **state)
{
    (void) state;
    if (sodium_init() < 0) {
        return -1;
    }
    uint8_t cluster[32], other[32];
    memset(cluster, 0x11, sizeof(cluster));
    memset(other, 0x22, sizeof(other));
    lk_pulse_derive_key(cluster, key);
    lk_pulse_derive_key(other, other_key);
    return 0;
}

static struct lk_pulse_msg msg(uint64_t inc, uint64_t seq, uint64_t clock_ms)
{
    struct lk_pulse_msg m;
    memset(&m, 0, sizeof(m));
    snprintf(m.node, sizeof(m.node), "node1");
    m.flags = LK_PULSE_F_LOOP_LATE;
    m.incarnation = inc;
    m.seq = seq;
    m.clock_ms = clock_ms;
    return m;
}

static void lk_pulse_derive_key__not_the_cluster_key(void **state)
{
    (void) state;
    uint8_t cluster[32], k1[LK_PULSE_KEY], k2[LK_PULSE_KEY];
    memset(cluster, 0x11, sizeof(cluster));
    lk_pulse_derive_key(cluster, k1);
    lk_pulse_derive_key(cluster, k2);
    assert_memory_equal(k1, k2, sizeof(k1));
    assert_memory_not_equal(k1, cluster, sizeof(k1));
    assert_memory_not_equal(key, other_key, sizeof(key));
}

static void lk_pulse_decode__round_trip(void **state)
{
    (void) state;
    struct lk_pulse_msg m = msg(0x0123456789abcdefull, 42, 987654321);
    uint8_t buf[LK_PULSE_MAX];
    int n = lk_pulse_encode(key, &m, buf, sizeof(buf));
    assert_int_equal(n, LK_PULSE_HEADER + 5 + LK_PULSE_MAC);
    struct lk_pulse_msg d;
    assert_int_equal(lk_pulse_decode(key, buf, (size_t) n, &d), 0);
    assert_string_equal(d.node, "node1");
    assert_int_equal(d.version, LK_PULSE_VERSION);
    assert_int_equal(d.flags, LK_PULSE_F_LOOP_LATE);
    assert_int_equal(d.incarnation, 0x0123456789abcdefull);
    assert_int_equal(d.seq, 42);
    assert_int_equal(d.clock_ms, 987654321);
}

static void lk_pulse_encode__rejects_bad_input(void **state)
{
    (void) state;
    uint8_t buf[LK_PULSE_MAX];
    struct lk_pulse_msg m = msg(1, 0, 1);
    assert_int_equal(lk_pulse_encode(key, &m, buf, sizeof(buf)), -EINVAL); /* seq 0 */
    m = msg(1, 1, 1);
    m.node[0] = '\0';
    assert_int_equal(lk_pulse_encode(key, &m, buf, sizeof(buf)), -EINVAL);
    m = msg(1, 1, 1);
    assert_int_equal(lk_pulse_encode(key, &m, buf, LK_PULSE_HEADER + 5), -ENOBUFS);
    /* The longest name fits exactly LK_PULSE_MAX. */
    memset(m.node, 'a', LK_PULSE_NAME_MAX);
    m.node[LK_PULSE_NAME_MAX] = '\0';
    assert_int_equal(lk_pulse_encode(key, &m, buf, sizeof(buf)), LK_PULSE_MAX);
}

static void lk_pulse_decode__every_flipped_bit_is_refused(void **state)
{
    (void) state;
    struct lk_pulse_msg m = msg(7, 9, 11);
    uint8_t buf[LK_PULSE_MAX];
    int n = lk_pulse_encode(key, &m, buf, sizeof(buf));
    assert_true(n > 0);
    for (int i = 0; i < n * 8; i++) {
        buf[i / 8] ^= (uint8_t) (1u << (i % 8));
        struct lk_pulse_msg d;
        int r = lk_pulse_decode(key, buf, (size_t) n, &d);
        assert_true(r == -EACCES || r == -EBADMSG);
        buf[i / 8] ^= (uint8_t) (1u << (i % 8));
    }
    struct lk_pulse_msg d;
    assert_int_equal(lk_pulse_decode(key, buf, (size_t) n, &d), 0);
}

static void lk_pulse_decode__wrong_key_and_garbage(void **state)
{
    (void) state;
    struct lk_pulse_msg m = msg(7, 9, 11);
    uint8_t buf[LK_PULSE_MAX + 8];
    int n = lk_pulse_encode(key, &m, buf, sizeof(buf));
    struct lk_pulse_msg d;
    assert_int_equal(lk_pulse_decode(other_key, buf, (size_t) n, &d), -EACCES);
    /* Truncated, extended, empty. */
    assert_int_equal(lk_pulse_decode(key, buf, (size_t) n - 1, &d), -EBADMSG);
    assert_int_equal(lk_pulse_decode(key, buf, (size_t) n + 1, &d), -EBADMSG);
    assert_int_equal(lk_pulse_decode(key, buf, 0, &d), -EBADMSG);
    /* A TCP frame's magic, and random bytes. */
    uint8_t junk[LK_PULSE_MAX];
    memcpy(junk, "OKW1", 4);
    memset(junk + 4, 0, sizeof(junk) - 4);
    assert_int_equal(lk_pulse_decode(key, junk, sizeof(junk), &d), -EBADMSG);
    for (int i = 0; i < 1000; i++) {
        size_t len = 1 + randombytes_uniform(sizeof(junk));
        randombytes_buf(junk, len);
        if (i % 2) {
            memcpy(junk, LK_PULSE_MAGIC, 4);
        }
        int r = lk_pulse_decode(key, junk, len, &d);
        assert_true(r == -EACCES || r == -EBADMSG);
    }
}

static void lk_pulse_decode__name_must_be_a_tag(void **state)
{
    (void) state;
    struct lk_pulse_msg m = msg(7, 9, 11);
    snprintf(m.node, sizeof(m.node), "a\nb");
    uint8_t buf[LK_PULSE_MAX];
    int n = lk_pulse_encode(key, &m, buf, sizeof(buf));
    assert_true(n > 0);
    struct lk_pulse_msg d;
    assert_int_equal(lk_pulse_decode(key, buf, (size_t) n, &d), -EBADMSG);
}

static void lk_pulse_accept__incarnation_and_seq(void **state)
{
    (void) state;
    struct lk_pulse_peer peer;
    memset(&peer, 0, sizeof(peer));
    uint64_t last = 0;
    struct lk_pulse_msg m = msg(5, 1, 1000);
    /* Nothing before the HELLO told the incarnation. */
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 5000, 600), LK_PULSE_INCARNATION);
    lk_pulse_peer_learn(&peer, 4);
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 5000, 600), LK_PULSE_INCARNATION);
    lk_pulse_peer_learn(&peer, 5);
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 5000, 600), LK_PULSE_OK);
    assert_int_equal(last, 1);
    /* The same again, and an older one: replayed. */
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 5001, 600), LK_PULSE_REPLAYED);
    m.seq = 3;
    m.clock_ms = 1100;
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 5100, 600), LK_PULSE_OK);
    m.seq = 2;
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 5100, 600), LK_PULSE_REPLAYED);
    assert_int_equal(last, 3);
    /* A new incarnation forgets the offset. */
    lk_pulse_peer_learn(&peer, 6);
    assert_false(peer.have_offset);
}

static void lk_pulse_accept__delayed_datagram_is_stale(void **state)
{
    (void) state;
    struct lk_pulse_peer peer;
    memset(&peer, 0, sizeof(peer));
    lk_pulse_peer_learn(&peer, 9);
    uint64_t last = 0;
    /* The sender's clock is 1,000,000 ms behind ours; 2 ms of delay. */
    struct lk_pulse_msg m = msg(9, 1, 10000);
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 1010002, 600), LK_PULSE_OK);
    /* 300 ms late (half the dead time above the floor, exactly): still accepted. */
    m.seq = 2;
    m.clock_ms = 10100;
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 1010402, 600), LK_PULSE_OK);
    /* 301 ms late: refused, and nothing is changed by it. */
    m.seq = 3;
    m.clock_ms = 10200;
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 1010503, 600), LK_PULSE_STALE);
    assert_int_equal(last, 2);
    /* A faster datagram lowers the floor. */
    m.seq = 4;
    m.clock_ms = 10300;
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 1010301, 600), LK_PULSE_OK);
    assert_int_equal(peer.min_offset_ms, 1000001);
}

static void lk_pulse_accept__floor_follows_slow_drift(void **state)
{
    (void) state;
    struct lk_pulse_peer peer;
    memset(&peer, 0, sizeof(peer));
    lk_pulse_peer_learn(&peer, 9);
    uint64_t last = 0;
    struct lk_pulse_msg m = msg(9, 1, 0);
    assert_int_equal(lk_pulse_accept(&peer, &last, &m, 1000, 600), LK_PULSE_OK);
    /* Over 10 hours the sender's clock falls 100 ppm behind (3.6 s): every pulse on the
     * way is still accepted, as the floor may rise 1 ms per second. */
    uint64_t seq = 1;
    for (uint64_t t = 1000; t <= 36000000; t += 100000) {
        uint64_t lag = (t - 1000) / 10000;
        m.seq = ++seq;
        m.clock_ms = t - 1000 - lag;
        assert_int_equal(lk_pulse_accept(&peer, &last, &m, t, 600), LK_PULSE_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_pulse_derive_key__not_the_cluster_key),
            cmocka_unit_test(lk_pulse_decode__round_trip),
            cmocka_unit_test(lk_pulse_encode__rejects_bad_input),
            cmocka_unit_test(lk_pulse_decode__every_flipped_bit_is_refused),
            cmocka_unit_test(lk_pulse_decode__wrong_key_and_garbage),
            cmocka_unit_test(lk_pulse_decode__name_must_be_a_tag),
            cmocka_unit_test(lk_pulse_accept__incarnation_and_seq),
            cmocka_unit_test(lk_pulse_accept__delayed_datagram_is_stale),
            cmocka_unit_test(lk_pulse_accept__floor_follows_slow_drift),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
