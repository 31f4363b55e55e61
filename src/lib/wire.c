/* Comm-path frames: encoding, authenticated decoding, sealing and opening (protocol 2,
 * AEAD), session keys, and replay windows (see wire.h). The HMAC (or the AEAD tag) is
 * checked with libsodium's constant-time verification before any field of the
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

/* The 28-byte header of both frame kinds: magic, type, flags and reserved (zero), session,
 * seq, payload length. */
static void put_header(uint8_t *buf, const char *magic, uint8_t type, uint64_t session,
                       uint64_t seq, size_t payload_len)
{
    memcpy(buf, magic, 4);
    buf[4] = type;
    buf[5] = 0;
    put_u16(buf + 6, 0);
    put_u64(buf + 8, session);
    put_u64(buf + 16, seq);
    put_u32(buf + 24, (uint32_t) payload_len);
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
    put_header(buf, LK_WIRE_MAGIC, type, session, seq, payload_len);
    if (payload_len) {
        memcpy(buf + LK_WIRE_HEADER, payload, payload_len);
    }
    crypto_auth_hmacsha256(buf + LK_WIRE_HEADER + payload_len, buf, LK_WIRE_HEADER + payload_len,
                           key);
    *ret_buf = buf;
    *ret_len = total;
    return 0;
}

/* Checks the header of the frame at buf against magic, as far as it has arrived, with
 * trailer bytes after the payload. Returns the frame's total size, 0 when more bytes
 * are needed, -EBADMSG or -EMSGSIZE. */
static int check_header(const char *magic, size_t trailer, const uint8_t *buf, size_t len)
{
    /* Judge what has arrived as early as possible: a bad magic is refused from its first
     * byte, not after waiting for a whole header. */
    size_t check = len < 4 ? len : 4;
    if (memcmp(buf, magic, check) != 0) {
        return -EBADMSG;
    }
    if (len < LK_WIRE_HEADER) {
        return 0;
    }
    uint8_t type = buf[4];
    if (type < 1 || type > LK_WIRE_TYPE_MAX || buf[5] != 0 || buf[6] != 0 || buf[7] != 0) {
        return -EBADMSG;
    }
    if (get_u64(buf + 16) == 0) {
        return -EBADMSG;
    }
    uint32_t payload_len = get_u32(buf + 24);
    if (payload_len > LK_WIRE_MAX_PAYLOAD) {
        return -EMSGSIZE;
    }
    size_t total = LK_WIRE_HEADER + (size_t) payload_len + trailer;
    return len < total ? 0 : (int) total;
}

static void fill_frame(const uint8_t *buf, struct lk_wire_frame *ret_frame)
{
    ret_frame->type = buf[4];
    ret_frame->flags = buf[5];
    ret_frame->session = get_u64(buf + 8);
    ret_frame->seq = get_u64(buf + 16);
    ret_frame->payload = buf + LK_WIRE_HEADER;
    ret_frame->payload_len = get_u32(buf + 24);
}

int lk_wire_decode(const uint8_t key[LK_WIRE_KEY], const uint8_t *buf, size_t len,
                   struct lk_wire_frame *ret_frame)
{
    int total = check_header(LK_WIRE_MAGIC, LK_WIRE_MAC, buf, len);
    if (total <= 0) {
        return total;
    }
    uint32_t payload_len = get_u32(buf + 24);
    if (crypto_auth_hmacsha256_verify(buf + LK_WIRE_HEADER + payload_len, buf,
                                      LK_WIRE_HEADER + payload_len, key) != 0) {
        return -EACCES;
    }
    fill_frame(buf, ret_frame);
    return total;
}

/* The AEAD nonce of a frame: unique per (key, seq), as each direction of a connection
 * has its own key and counts its seq from 1. */
static void aead_nonce(uint64_t session, uint64_t seq,
                       uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES])
{
    memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    memcpy(nonce, LK_WIRE_MAGIC_AEAD, 4);
    put_u64(nonce + 8, session);
    put_u64(nonce + 16, seq);
}

void lk_wire_kx_new(uint8_t ret_public[LK_WIRE_KX], uint8_t ret_secret[LK_WIRE_KX])
{
    randombytes_buf(ret_secret, LK_WIRE_KX);
    (void) crypto_scalarmult_base(ret_public, ret_secret);
}

int lk_wire_session_keys(const uint8_t key[LK_WIRE_KEY], bool connector, uint64_t own_nonce,
                         uint64_t peer_nonce, const uint8_t own_secret[LK_WIRE_KX],
                         const uint8_t peer_public[LK_WIRE_KX], struct lk_wire_keys *ret_keys)
{
    static const char context[] = "openkeeper comm path session key v2";
    uint8_t own_public[LK_WIRE_KX], shared[crypto_scalarmult_BYTES];
    (void) crypto_scalarmult_base(own_public, own_secret);
    if (crypto_scalarmult(shared, own_secret, peer_public) != 0) {
        return -EINVAL;
    }
    uint64_t connector_nonce = connector ? own_nonce : peer_nonce;
    uint64_t acceptor_nonce = connector ? peer_nonce : own_nonce;
    const uint8_t *connector_public = connector ? own_public : peer_public;
    const uint8_t *acceptor_public = connector ? peer_public : own_public;
    for (int dir = 0; dir < 2; dir++) {
        /* dir 0: connector to acceptor; dir 1: acceptor to connector. */
        uint8_t in[sizeof(context) + 1 + 16 + 2 * LK_WIRE_KX + sizeof(shared)];
        uint8_t *p = in;
        memcpy(p, context, sizeof(context));
        p += sizeof(context);
        *p++ = (uint8_t) dir;
        put_u64(p, connector_nonce);
        put_u64(p + 8, acceptor_nonce);
        p += 16;
        memcpy(p, connector_public, LK_WIRE_KX);
        memcpy(p + LK_WIRE_KX, acceptor_public, LK_WIRE_KX);
        p += 2 * LK_WIRE_KX;
        memcpy(p, shared, sizeof(shared));
        bool to_us = (dir == 0) != connector;
        uint8_t *out = to_us ? ret_keys->recv : ret_keys->send;
        crypto_generichash(out, LK_WIRE_KEY, in, sizeof(in), key, LK_WIRE_KEY);
        sodium_memzero(in, sizeof(in));
    }
    sodium_memzero(shared, sizeof(shared));
    return 0;
}

int lk_wire_seal(const uint8_t skey[LK_WIRE_KEY], uint8_t type, uint64_t session, uint64_t seq,
                 const void *payload, size_t payload_len, uint8_t **ret_buf, size_t *ret_len)
{
    if (type < 1 || type > LK_WIRE_TYPE_MAX || seq == 0 || payload_len > LK_WIRE_MAX_PAYLOAD ||
        (payload_len > 0 && !payload)) {
        return -EINVAL;
    }
    size_t total = LK_WIRE_HEADER + payload_len + LK_WIRE_TAG;
    uint8_t *buf = malloc(total);
    if (!buf) {
        return -ENOMEM;
    }
    put_header(buf, LK_WIRE_MAGIC_AEAD, type, session, seq, payload_len);
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    aead_nonce(session, seq, nonce);
    unsigned long long clen = 0;
    static const uint8_t empty[1];
    (void) crypto_aead_xchacha20poly1305_ietf_encrypt(buf + LK_WIRE_HEADER, &clen,
                                                      payload_len ? payload : empty, payload_len,
                                                      buf, LK_WIRE_HEADER, NULL, nonce, skey);
    *ret_buf = buf;
    *ret_len = total;
    return 0;
}

int lk_wire_open(const uint8_t skey[LK_WIRE_KEY], uint8_t *buf, size_t len,
                 struct lk_wire_frame *ret_frame)
{
    int total = check_header(LK_WIRE_MAGIC_AEAD, LK_WIRE_TAG, buf, len);
    if (total <= 0) {
        return total;
    }
    uint32_t payload_len = get_u32(buf + 24);
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    aead_nonce(get_u64(buf + 8), get_u64(buf + 16), nonce);
    unsigned long long mlen = 0;
    /* In place: libsodium allows the plaintext to overwrite the ciphertext. */
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf + LK_WIRE_HEADER, &mlen, NULL,
                                                   buf + LK_WIRE_HEADER,
                                                   (unsigned long long) payload_len + LK_WIRE_TAG,
                                                   buf, LK_WIRE_HEADER, nonce, skey) != 0 ||
        mlen != payload_len) {
        return -EACCES;
    }
    fill_frame(buf, ret_frame);
    return total;
}

bool lk_wire_in_order(uint64_t *last, uint64_t seq)
{
    if (seq == 0 || seq != *last + 1) {
        return false;
    }
    *last = seq;
    return true;
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
