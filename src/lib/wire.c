/* Comm-path frames: encoding, authenticated decoding, and replay windows (see wire.h).
 * The HMAC is checked with libsodium's constant-time verification before any field of the
 * payload is trusted; the length is bounded from the header alone, so a peer cannot make
 * us buffer more than one maximal frame. */
#include "wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t) (v >> (24 - 8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

int lk_wire_encode(const uint8_t key[LK_WIRE_KEY], uint8_t type, uint64_t session, uint64_t seq,
                   const void *payload, size_t payload_len, uint8_t **ret_buf, size_t *ret_len)
{
    if (type < 1 || type > LK_WIRE_TYPE_MAX || seq == 0 || payload_len > LK_WIRE_MAX_PAYLOAD ||
        (payload_len > 0 && !payload)) {
        return -EINVAL;
    }
    size_t total = LK_WIRE_HEADER + payload_len + LK_WIRE_MAC;
    uint8_t *buf = malloc(total);
    if (!buf) {
        return -ENOMEM;
    }
    memcpy(buf, LK_WIRE_MAGIC, 4);
    buf[4] = type;
    buf[5] = 0;
    put_u16(buf + 6, 0);
    put_u64(buf + 8, session);
    put_u64(buf + 16, seq);
    put_u32(buf + 24, (uint32_t) payload_len);
    if (payload_len) {
        memcpy(buf + LK_WIRE_HEADER, payload, payload_len);
    }
    crypto_auth_hmacsha256(buf + LK_WIRE_HEADER + payload_len, buf, LK_WIRE_HEADER + payload_len,
                           key);
    *ret_buf = buf;
    *ret_len = total;
    return 0;
}

int lk_wire_decode(const uint8_t key[LK_WIRE_KEY], const uint8_t *buf, size_t len,
                   struct lk_wire_frame *ret_frame)
{
    /* Judge what has arrived as early as possible: a bad magic is refused from its first
     * byte, not after waiting for a whole header. */
    size_t check = len < 4 ? len : 4;
    if (memcmp(buf, LK_WIRE_MAGIC, check) != 0) {
        return -EBADMSG;
    }
    if (len < LK_WIRE_HEADER) {
        return 0;
    }
    uint8_t type = buf[4];
    if (type < 1 || type > LK_WIRE_TYPE_MAX || buf[5] != 0 || buf[6] != 0 || buf[7] != 0) {
        return -EBADMSG;
    }
    uint64_t seq = get_u64(buf + 16);
    if (seq == 0) {
        return -EBADMSG;
    }
    uint32_t payload_len = get_u32(buf + 24);
    if (payload_len > LK_WIRE_MAX_PAYLOAD) {
        return -EMSGSIZE;
    }
    size_t total = LK_WIRE_HEADER + (size_t) payload_len + LK_WIRE_MAC;
    if (len < total) {
        return 0;
    }
    if (crypto_auth_hmacsha256_verify(buf + LK_WIRE_HEADER + payload_len, buf,
                                      LK_WIRE_HEADER + payload_len, key) != 0) {
        return -EACCES;
    }
    ret_frame->type = type;
    ret_frame->flags = buf[5];
    ret_frame->session = get_u64(buf + 8);
    ret_frame->seq = seq;
    ret_frame->payload = buf + LK_WIRE_HEADER;
    ret_frame->payload_len = payload_len;
    return (int) total;
}

bool lk_replay_accept(struct lk_replay *r, uint64_t session, uint64_t seq)
{
    if (seq == 0 || session < r->session) {
        return false; /* an older connection of the peer: replayed */
    }
    if (session > r->session) {
        r->session = session;
        r->highest = seq;
        r->window = 1;
        return true;
    }
    if (seq > r->highest) {
        uint64_t shift = seq - r->highest;
        r->window = shift >= 64 ? 1 : (r->window << shift) | 1;
        r->highest = seq;
        return true;
    }
    uint64_t back = r->highest - seq;
    if (back >= 64 || (r->window >> back) & 1) {
        return false;
    }
    r->window |= (uint64_t) 1 << back;
    return true;
}

int lk_wire_key_parse(const char *text, uint8_t key[LK_WIRE_KEY])
{
    size_t len = strcspn(text, "\r\n");
    if (len != 2 * LK_WIRE_KEY ||
        (text[len] && strcmp(text + len, "\n") != 0 && strcmp(text + len, "\r\n") != 0)) {
        return -EINVAL;
    }
    uint8_t bin[LK_WIRE_KEY];
    size_t bin_len = 0;
    if (sodium_hex2bin(bin, sizeof(bin), text, len, NULL, &bin_len, NULL) != 0 ||
        bin_len != LK_WIRE_KEY) {
        return -EINVAL;
    }
    memcpy(key, bin, LK_WIRE_KEY);
    sodium_memzero(bin, sizeof(bin));
    return 0;
}
