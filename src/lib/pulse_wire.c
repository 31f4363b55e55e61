/* Pulses: encoding, authenticated decoding and the acceptance rule (see pulse_wire.h).
 * The MAC is checked with libsodium's constant-time comparison before any field is
 * trusted; the datagram's length is bounded (LK_PULSE_MAX), so nothing a stranger sends
 * makes us allocate. Pure: no sockets, no clock (the caller gives the time), no logging. */
#include "pulse_wire.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "validate.h"

#define KDF_CONTEXT "okpulse1"
#define KDF_SUBKEY  1

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void mac(const uint8_t key[LK_PULSE_KEY], const uint8_t *buf, size_t len,
                uint8_t out[LK_PULSE_MAC])
{
    crypto_generichash(out, LK_PULSE_MAC, buf, len, key, LK_PULSE_KEY);
}

void lk_pulse_derive_key(const uint8_t cluster_key[32], uint8_t ret_key[LK_PULSE_KEY])
{
    _Static_assert(crypto_kdf_KEYBYTES == 32, "the cluster key is a kdf master key");
    crypto_kdf_derive_from_key(ret_key, LK_PULSE_KEY, KDF_SUBKEY, KDF_CONTEXT, cluster_key);
}

int lk_pulse_encode(const uint8_t key[LK_PULSE_KEY], const struct lk_pulse_msg *msg, uint8_t *buf,
                    size_t size)
{
    size_t n = strnlen(msg->node, sizeof(msg->node));
    if (n == 0 || n > LK_PULSE_NAME_MAX || msg->seq == 0) {
        return -EINVAL;
    }
    size_t len = LK_PULSE_HEADER + n + LK_PULSE_MAC;
    if (size < len) {
        return -ENOBUFS;
    }
    memcpy(buf, LK_PULSE_MAGIC, 4);
    buf[4] = LK_PULSE_VERSION;
    buf[5] = msg->flags;
    buf[6] = (uint8_t) n;
    buf[7] = 0;
    put_u64(buf + 8, msg->incarnation);
    put_u64(buf + 16, msg->seq);
    put_u64(buf + 24, msg->clock_ms);
    memcpy(buf + LK_PULSE_HEADER, msg->node, n);
    mac(key, buf, LK_PULSE_HEADER + n, buf + LK_PULSE_HEADER + n);
    return (int) len;
}

int lk_pulse_decode(const uint8_t key[LK_PULSE_KEY], const uint8_t *buf, size_t len,
                    struct lk_pulse_msg *ret)
{
    if (len < LK_PULSE_HEADER + 1 + LK_PULSE_MAC || len > LK_PULSE_MAX ||
        memcmp(buf, LK_PULSE_MAGIC, 4) != 0 || buf[4] != LK_PULSE_VERSION || buf[7] != 0) {
        return -EBADMSG;
    }
    size_t n = buf[6];
    if (n == 0 || n > LK_PULSE_NAME_MAX || len != LK_PULSE_HEADER + n + LK_PULSE_MAC) {
        return -EBADMSG;
    }
    uint8_t want[LK_PULSE_MAC];
    mac(key, buf, LK_PULSE_HEADER + n, want);
    if (sodium_memcmp(want, buf + LK_PULSE_HEADER + n, LK_PULSE_MAC) != 0) {
        return -EACCES;
    }
    struct lk_pulse_msg m;
    memset(&m, 0, sizeof(m));
    m.version = buf[4];
    m.flags = buf[5];
    m.incarnation = get_u64(buf + 8);
    m.seq = get_u64(buf + 16);
    m.clock_ms = get_u64(buf + 24);
    memcpy(m.node, buf + LK_PULSE_HEADER, n);
    m.node[n] = '\0';
    if (m.seq == 0 || lk_validate_tag(m.node, "node name", NULL, 0) < 0) {
        return -EBADMSG;
    }
    *ret = m;
    return 0;
}

void lk_pulse_peer_learn(struct lk_pulse_peer *peer, uint64_t incarnation)
{
    if (peer->incarnation != incarnation) {
        memset(peer, 0, sizeof(*peer));
        peer->incarnation = incarnation;
    }
}

static const char *const verdict_names[LK_PULSE_VERDICTS] = {
        "ok",
        "incarnation",
        "replayed",
        "stale",
};

const char *lk_pulse_verdict_name(enum lk_pulse_verdict verdict)
{
    return verdict < LK_PULSE_VERDICTS ? verdict_names[verdict] : "?";
}

enum lk_pulse_verdict lk_pulse_accept(struct lk_pulse_peer *peer, uint64_t *last_seq,
                                      const struct lk_pulse_msg *msg, uint64_t local_ms,
                                      uint64_t dead_ms)
{
    if (peer->incarnation == 0 || msg->incarnation != peer->incarnation) {
        return LK_PULSE_INCARNATION;
    }
    if (msg->seq <= *last_seq) {
        return LK_PULSE_REPLAYED;
    }
    /* Both clocks are monotonic in ms since their own boot: the difference is the clocks'
     * offset plus this datagram's delay. Its smallest value is the offset plus the
     * shortest delay; a datagram whose difference is far above it was delayed (or held
     * back and replayed). */
    int64_t offset = (int64_t) (local_ms - msg->clock_ms);
    int64_t floor = peer->min_offset_ms;
    if (peer->have_offset && local_ms > peer->offset_at_ms) {
        /* Clocks drift apart a little (ppm): the floor rises slowly with the time since it
         * was set. */
        floor += (int64_t) ((local_ms - peer->offset_at_ms) * LK_PULSE_DRIFT_PER_S / 1000);
    }
    if (peer->have_offset && offset > floor && (uint64_t) (offset - floor) > dead_ms / 2) {
        return LK_PULSE_STALE;
    }
    *last_seq = msg->seq;
    if (!peer->have_offset || offset < floor) {
        /* A new floor: the drift allowance counts from now. */
        peer->min_offset_ms = offset;
        peer->offset_at_ms = local_ms;
        peer->have_offset = true;
    }
    return LK_PULSE_OK;
}
