/* Unit tests of the comm-path frame format, sealed (protocol 2) frames and the replay
 * window (src/lib/wire.c). */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

static uint8_t key[LK_WIRE_KEY];
static uint8_t other_key[LK_WIRE_KEY];
/* The ephemeral key pairs of a connector (c), an acceptor (a) and a third party (x). */
static uint8_t c_pub[LK_WIRE_KX], c_sec[LK_WIRE_KX], a_pub[LK_WIRE_KX], a_sec[LK_WIRE_KX];
static uint8_t x_pub[LK_WIRE_KX], x_sec[LK_WIRE_KX];

static int setup(void **state)
{
    (void) state;
    if (sodium_init() < 0) {
        return -1;
    }
    memset(key, 0x11, sizeof(key));
    memset(other_key, 0x22, sizeof(other_key));
    lk_wire_kx_new(c_pub, c_sec);
    lk_wire_kx_new(a_pub, a_sec);
    lk_wire_kx_new(x_pub, x_sec);
    return 0;
}

static void encode(const char *payload, uint8_t **buf, size_t *len)
{
    assert_int_equal(
            lk_wire_encode(key, LK_WIRE_MESSAGE, 77, 5, payload, strlen(payload), buf, len), 0);
}

static void lk_wire_encode__rejects_bad_input(void **state)
{
    (void) state;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(lk_wire_encode(key, 0, 1, 1, "x", 1, &buf, &len), -EINVAL);
    assert_int_equal(lk_wire_encode(key, LK_WIRE_TYPE_MAX + 1, 1, 1, "x", 1, &buf, &len), -EINVAL);
    assert_int_equal(lk_wire_encode(key, LK_WIRE_HELLO, 1, 0, "x", 1, &buf, &len), -EINVAL);
    assert_int_equal(
            lk_wire_encode(key, LK_WIRE_HELLO, 1, 1, "x", LK_WIRE_MAX_PAYLOAD + 1, &buf, &len),
            -EINVAL);
    assert_null(buf);
}

static void lk_wire_decode__round_trip(void **state)
{
    (void) state;
    uint8_t *buf;
    size_t len;
    encode("{\"hello\":1}", &buf, &len);
    assert_int_equal(len, LK_WIRE_HEADER + 11 + LK_WIRE_MAC);
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(key, buf, len, &f), (int) len);
    assert_int_equal(f.type, LK_WIRE_MESSAGE);
    assert_int_equal(f.session, 77);
    assert_int_equal(f.seq, 5);
    assert_int_equal(f.payload_len, 11);
    assert_memory_equal(f.payload, "{\"hello\":1}", 11);
    free(buf);
}

static void lk_wire_decode__empty_payload(void **state)
{
    (void) state;
    uint8_t *buf;
    size_t len;
    assert_int_equal(lk_wire_encode(key, LK_WIRE_HEARTBEAT, 1, 1, NULL, 0, &buf, &len), 0);
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(key, buf, len, &f), (int) len);
    assert_int_equal(f.payload_len, 0);
    free(buf);
}

static void lk_wire_decode__partial_needs_more(void **state)
{
    (void) state;
    uint8_t *buf;
    size_t len;
    encode("abcdef", &buf, &len);
    struct lk_wire_frame f;
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(lk_wire_decode(key, buf, n, &f), 0);
    }
    free(buf);
}

static void lk_wire_decode__two_frames_back_to_back(void **state)
{
    (void) state;
    uint8_t *a, *b;
    size_t alen, blen;
    encode("first", &a, &alen);
    encode("second!", &b, &blen);
    uint8_t *both = malloc(alen + blen);
    assert_non_null(both);
    memcpy(both, a, alen);
    memcpy(both + alen, b, blen);
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(key, both, alen + blen, &f), (int) alen);
    assert_int_equal(lk_wire_decode(key, both + alen, blen, &f), (int) blen);
    assert_memory_equal(f.payload, "second!", 7);
    free(a);
    free(b);
    free(both);
}

static void lk_wire_decode__every_flipped_bit_is_refused(void **state)
{
    (void) state;
    uint8_t *buf;
    size_t len;
    encode("payload", &buf, &len);
    struct lk_wire_frame f;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t) (1 << bit);
            int r = lk_wire_decode(key, buf, len, &f);
            /* A damaged length may also just ask for more bytes; never a success. */
            assert_true(r == -EACCES || r == -EBADMSG || r == -EMSGSIZE || r == 0);
            buf[i] ^= (uint8_t) (1 << bit);
        }
    }
    assert_int_equal(lk_wire_decode(key, buf, len, &f), (int) len);
    free(buf);
}

static void lk_wire_decode__wrong_key(void **state)
{
    (void) state;
    uint8_t *buf;
    size_t len;
    encode("secret", &buf, &len);
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(other_key, buf, len, &f), -EACCES);
    free(buf);
}

static void lk_wire_decode__garbage_and_bad_header(void **state)
{
    (void) state;
    struct lk_wire_frame f;
    const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
    assert_int_equal(lk_wire_decode(key, garbage, 1, &f), -EBADMSG);
    assert_int_equal(lk_wire_decode(key, garbage, sizeof(garbage), &f), -EBADMSG);
    uint8_t *buf;
    size_t len;
    encode("x", &buf, &len);
    buf[4] = 9; /* unknown type */
    assert_int_equal(lk_wire_decode(key, buf, len, &f), -EBADMSG);
    buf[4] = LK_WIRE_MESSAGE;
    buf[7] = 1; /* reserved bits */
    assert_int_equal(lk_wire_decode(key, buf, len, &f), -EBADMSG);
    buf[7] = 0;
    memset(buf + 16, 0, 8); /* seq 0 */
    assert_int_equal(lk_wire_decode(key, buf, len, &f), -EBADMSG);
    free(buf);
}

static void lk_wire_decode__oversized_known_from_header(void **state)
{
    (void) state;
    uint8_t header[LK_WIRE_HEADER] = {'O', 'K', 'W', '1', LK_WIRE_MESSAGE};
    header[23] = 1;    /* seq 1 */
    header[24] = 0x7f; /* length ~2 GiB */
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(key, header, sizeof(header), &f), -EMSGSIZE);
}

static void lk_replay_accept__in_order_and_duplicates(void **state)
{
    (void) state;
    struct lk_replay r = {0};
    assert_true(lk_replay_accept(&r, 10, 1));
    assert_true(lk_replay_accept(&r, 10, 2));
    assert_false(lk_replay_accept(&r, 10, 2));
    assert_false(lk_replay_accept(&r, 10, 1));
    assert_false(lk_replay_accept(&r, 10, 0));
}

static void lk_replay_accept__window(void **state)
{
    (void) state;
    struct lk_replay r = {0};
    assert_true(lk_replay_accept(&r, 1, 100));
    assert_true(lk_replay_accept(&r, 1, 90)); /* late but new: inside the window */
    assert_false(lk_replay_accept(&r, 1, 90));
    assert_false(lk_replay_accept(&r, 1, 36)); /* 64 or more behind: too old */
    assert_true(lk_replay_accept(&r, 1, 300));
    assert_false(lk_replay_accept(&r, 1, 100));
}

static void lk_replay_accept__sessions(void **state)
{
    (void) state;
    struct lk_replay r = {0};
    assert_true(lk_replay_accept(&r, 5, 7));
    assert_true(lk_replay_accept(&r, 6, 1));  /* the peer reconnected */
    assert_false(lk_replay_accept(&r, 5, 8)); /* the old connection's frames: replayed */
    assert_true(lk_replay_accept(&r, 6, 2));
}

static void lk_wire_key_parse__hex_with_or_without_line_end(void **state)
{
    (void) state;
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    char text[80];
    uint8_t parsed[LK_WIRE_KEY];
    for (int variant = 0; variant < 3; variant++) {
        snprintf(text, sizeof(text), "%s%s", hex, variant == 0 ? "" : variant == 1 ? "\n" : "\r\n");
        memset(parsed, 0xff, sizeof(parsed));
        assert_int_equal(lk_wire_key_parse(text, parsed), 0);
        for (int i = 0; i < LK_WIRE_KEY; i++) {
            assert_int_equal(parsed[i], i);
        }
    }
    const char *bad[] = {
            "",
            "00",
            "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nextra",
            "000102030405060708090a0b0c0d0e0f 01112131415161718191a1b1c1d1e1f",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(parsed, 0xab, sizeof(parsed));
        assert_int_equal(lk_wire_key_parse(bad[i], parsed), -EINVAL);
        assert_int_equal(parsed[0], 0xab); /* untouched */
    }
}

/* ------------------------------------------------------------ protocol 2: sealed frames */

/* Both ends of one connection: the connector's nonce 0x1111, the acceptor's 0x2222. */
static void two_ends(const uint8_t *k, struct lk_wire_keys *connector,
                     struct lk_wire_keys *acceptor)
{
    assert_int_equal(lk_wire_session_keys(k, true, 0x1111, 0x2222, c_sec, a_pub, connector), 0);
    assert_int_equal(lk_wire_session_keys(k, false, 0x2222, 0x1111, a_sec, c_pub, acceptor), 0);
}

static void lk_wire_session_keys__directions_pair_up(void **state)
{
    (void) state;
    struct lk_wire_keys c, a;
    two_ends(key, &c, &a);
    assert_memory_equal(c.send, a.recv, LK_WIRE_KEY);
    assert_memory_equal(a.send, c.recv, LK_WIRE_KEY);
    assert_memory_not_equal(c.send, c.recv, LK_WIRE_KEY);
    assert_memory_not_equal(c.send, key, LK_WIRE_KEY);
    /* Another nonce, or another cluster key: other keys. */
    struct lk_wire_keys other;
    assert_int_equal(lk_wire_session_keys(key, true, 0x1111, 0x2223, c_sec, a_pub, &other), 0);
    assert_memory_not_equal(other.send, c.send, LK_WIRE_KEY);
    assert_int_equal(lk_wire_session_keys(other_key, true, 0x1111, 0x2222, c_sec, a_pub, &other),
                     0);
    assert_memory_not_equal(other.send, c.send, LK_WIRE_KEY);
    /* Another ephemeral key on the other end (a recorded HELLO answered afresh). */
    assert_int_equal(lk_wire_session_keys(key, true, 0x1111, 0x2222, c_sec, x_pub, &other), 0);
    assert_memory_not_equal(other.send, c.send, LK_WIRE_KEY);
    /* A public key that gives no shared secret is refused. */
    uint8_t zero[LK_WIRE_KX] = {0};
    assert_int_equal(lk_wire_session_keys(key, true, 0x1111, 0x2222, c_sec, zero, &other), -EINVAL);
}

static void lk_wire_seal__round_trip_hides_the_payload(void **state)
{
    (void) state;
    struct lk_wire_keys c, a;
    two_ends(key, &c, &a);
    const char *secret = "{\"script\":\"#!/bin/sh\\necho password=hunter2\"}";
    uint8_t *buf;
    size_t len;
    assert_int_equal(
            lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, 1, secret, strlen(secret), &buf, &len),
            0);
    assert_int_equal(len, LK_WIRE_HEADER + strlen(secret) + LK_WIRE_TAG);
    assert_memory_equal(buf, LK_WIRE_MAGIC_AEAD, 4);
    assert_null(memmem(buf, len, "hunter2", 7));
    assert_null(memmem(buf, len, "script", 6));
    /* A protocol 1 decoder refuses it from its magic. */
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_decode(key, buf, len, &f), -EBADMSG);
    /* Partial: more needed. */
    assert_int_equal(lk_wire_open(a.recv, buf, LK_WIRE_HEADER - 1, &f), 0);
    assert_int_equal(lk_wire_open(a.recv, buf, len - 1, &f), 0);
    assert_int_equal(lk_wire_open(a.recv, buf, len, &f), (int) len);
    assert_int_equal(f.type, LK_WIRE_MESSAGE);
    assert_int_equal(f.session, 0x2222);
    assert_int_equal(f.seq, 1);
    assert_int_equal(f.payload_len, strlen(secret));
    assert_memory_equal(f.payload, secret, strlen(secret));
    free(buf);
    /* An empty payload. */
    assert_int_equal(lk_wire_seal(a.send, LK_WIRE_HEARTBEAT, 0x1111, 1, NULL, 0, &buf, &len), 0);
    assert_int_equal(lk_wire_open(c.recv, buf, len, &f), (int) len);
    assert_int_equal(f.payload_len, 0);
    free(buf);
}

static void lk_wire_seal__rejects_bad_input(void **state)
{
    (void) state;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(lk_wire_seal(key, 0, 1, 1, "x", 1, &buf, &len), -EINVAL);
    assert_int_equal(lk_wire_seal(key, LK_WIRE_MESSAGE, 1, 0, "x", 1, &buf, &len), -EINVAL);
    assert_int_equal(
            lk_wire_seal(key, LK_WIRE_MESSAGE, 1, 1, "x", LK_WIRE_MAX_PAYLOAD + 1, &buf, &len),
            -EINVAL);
    assert_null(buf);
}

static void lk_wire_open__every_flipped_bit_is_refused(void **state)
{
    (void) state;
    struct lk_wire_keys c, a;
    two_ends(key, &c, &a);
    uint8_t *buf;
    size_t len;
    assert_int_equal(lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, 3, "{\"a\":1}", 7, &buf, &len),
                     0);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        struct lk_wire_frame f;
        int r = lk_wire_open(a.recv, copy, len, &f);
        /* A flipped length may ask for more bytes (0) or be refused; nothing is accepted. */
        assert_true(r == -EACCES || r == -EBADMSG || r == 0 || r == -EMSGSIZE);
    }
    free(copy);
    free(buf);
}

static void lk_wire_open__wrong_key_or_direction(void **state)
{
    (void) state;
    struct lk_wire_keys c, a, other;
    two_ends(key, &c, &a);
    assert_int_equal(lk_wire_session_keys(other_key, false, 0x2222, 0x1111, a_sec, c_pub, &other),
                     0);
    uint8_t *buf;
    size_t len;
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, 1, "{}", 2, &buf, &len), 0);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    assert_int_equal(lk_wire_open(other.recv, copy, len, &f), -EACCES); /* another cluster key */
    memcpy(copy, buf, len);
    assert_int_equal(lk_wire_open(c.recv, copy, len, &f), -EACCES); /* reflected back */
    memcpy(copy, buf, len);
    assert_int_equal(lk_wire_open(a.send, copy, len, &f), -EACCES);
    /* Replayed on another connection (new nonces, new keys). */
    struct lk_wire_keys later;
    assert_int_equal(lk_wire_session_keys(key, false, 0x3333, 0x1111, x_sec, c_pub, &later), 0);
    memcpy(copy, buf, len);
    assert_int_equal(lk_wire_open(later.recv, copy, len, &f), -EACCES);
    memcpy(copy, buf, len);
    assert_int_equal(lk_wire_open(a.recv, copy, len, &f), (int) len);
    free(copy);
    free(buf);
}

static void lk_wire_open__moved_seq_or_session_is_refused(void **state)
{
    (void) state;
    struct lk_wire_keys c, a;
    two_ends(key, &c, &a);
    uint8_t *buf;
    size_t len;
    struct lk_wire_frame f;
    assert_int_equal(lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, 5, "{}", 2, &buf, &len), 0);
    buf[23] = 6; /* seq 5 -> 6: a frame cannot be moved to another place in the stream */
    assert_int_equal(lk_wire_open(a.recv, buf, len, &f), -EACCES);
    free(buf);
    assert_int_equal(lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, 5, "{}", 2, &buf, &len), 0);
    buf[15] ^= 1; /* session */
    assert_int_equal(lk_wire_open(a.recv, buf, len, &f), -EACCES);
    free(buf);
    assert_int_equal(lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, 5, "{}", 2, &buf, &len), 0);
    buf[4] = LK_WIRE_HEARTBEAT; /* type */
    assert_int_equal(lk_wire_open(a.recv, buf, len, &f), -EACCES);
    free(buf);
}

static void lk_wire_in_order__replayed_and_reordered_are_refused(void **state)
{
    (void) state;
    struct lk_wire_keys c, a;
    two_ends(key, &c, &a);
    uint8_t *frames[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lk_wire_seal(c.send, LK_WIRE_MESSAGE, 0x2222, (uint64_t) i + 1, "{}", 2,
                                      &frames[i], &lens[i]),
                         0);
    }
    uint64_t last = 0;
    struct lk_wire_frame f;
    /* Frame 2 before frame 1: valid by itself, out of order. */
    uint8_t *copy = malloc(lens[1]);
    assert_non_null(copy);
    memcpy(copy, frames[1], lens[1]);
    assert_int_equal(lk_wire_open(a.recv, copy, lens[1], &f), (int) lens[1]);
    assert_false(lk_wire_in_order(&last, f.seq));
    assert_int_equal(last, 0);
    memcpy(copy, frames[0], lens[0]);
    assert_int_equal(lk_wire_open(a.recv, copy, lens[0], &f), (int) lens[0]);
    assert_true(lk_wire_in_order(&last, f.seq));
    /* Frame 1 again: replayed. */
    assert_false(lk_wire_in_order(&last, f.seq));
    assert_true(lk_wire_in_order(&last, 2));
    /* 3 follows 2; a skip (4) is refused. */
    assert_false(lk_wire_in_order(&last, 4));
    assert_true(lk_wire_in_order(&last, 3));
    assert_false(lk_wire_in_order(&last, 0));
    free(copy);
    for (int i = 0; i < 3; i++) {
        free(frames[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(lk_wire_encode__rejects_bad_input),
            cmocka_unit_test(lk_wire_decode__round_trip),
            cmocka_unit_test(lk_wire_decode__empty_payload),
            cmocka_unit_test(lk_wire_decode__partial_needs_more),
            cmocka_unit_test(lk_wire_decode__two_frames_back_to_back),
            cmocka_unit_test(lk_wire_decode__every_flipped_bit_is_refused),
            cmocka_unit_test(lk_wire_decode__wrong_key),
            cmocka_unit_test(lk_wire_decode__garbage_and_bad_header),
            cmocka_unit_test(lk_wire_decode__oversized_known_from_header),
            cmocka_unit_test(lk_replay_accept__in_order_and_duplicates),
            cmocka_unit_test(lk_replay_accept__window),
            cmocka_unit_test(lk_replay_accept__sessions),
            cmocka_unit_test(lk_wire_key_parse__hex_with_or_without_line_end),
            cmocka_unit_test(lk_wire_session_keys__directions_pair_up),
            cmocka_unit_test(lk_wire_seal__round_trip_hides_the_payload),
            cmocka_unit_test(lk_wire_seal__rejects_bad_input),
            cmocka_unit_test(lk_wire_open__every_flipped_bit_is_refused),
            cmocka_unit_test(lk_wire_open__wrong_key_or_direction),
            cmocka_unit_test(lk_wire_open__moved_seq_or_session_is_refused),
            cmocka_unit_test(lk_wire_in_order__replayed_and_reordered_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
