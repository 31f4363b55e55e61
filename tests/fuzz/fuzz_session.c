/* libFuzzer target: what a comm-path connection reads after the HMAC of protocol 1, the
 * sealed frames of protocol 2 (lk_wire_seal/lk_wire_open, src/lib/wire.c), the session
 * keys both ends derive from the HELLOs (lk_wire_session_keys), and the HELLO's JSON
 * itself (lk_hello_parse, src/lib/hello.c).
 *
 * The first input byte picks a mode (its low two bits), the rest is the mode's input:
 *   0  received bytes: lk_wire_open on them with the fixed session key, in a buffer of
 *      exactly their length (ASan sees any read past it);
 *   1  a frame to seal: 17 bytes of header fields (type, session, seq) and a bit
 *      position, then the payload; sealed, opened, and opened again with one bit flipped;
 *   2  a key exchange: a peer public key (32), two secrets (32 each), two nonces (8 each);
 *   3  a HELLO payload through lk_hello_parse.
 * Invariants: open answers only what wire.h lists, a frame that opens re-seals to exactly
 * its bytes, every shorter prefix of it asks for more; a sealed frame opens to its
 * payload and never opens with one bit changed or under another key; a low-order peer
 * key (the seven encodings libsodium lists, checked here on their own) gives -EINVAL and
 * any other key gives session keys; the connector's send key is the acceptor's receive
 * key and the other way round; a HELLO parses or is refused with a non-empty one-line
 * UTF-8 reason that starts with "HELLO ", and a parsed one written back as JSON parses to
 * the same fields, its kx giving session keys exactly when it is not of low order.
 * Never: a socket, a daemon, a key other than the fixed ones. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "hello.h"
#include "validate.h"
#include "wire.h"

static const uint8_t skey[LK_WIRE_KEY] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static bool known_error(int r)
{
    return r == -EBADMSG || r == -EMSGSIZE || r == -EACCES;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint8_t *copy(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        abort();
    }
    if (size) {
        memcpy(buf, data, size);
    }
    return buf;
}

/* ------------------------------------------------------------ mode 0: received bytes */

static void received(const uint8_t *data, size_t size)
{
    uint8_t *buf = copy(data, size);
    struct lk_wire_frame f;
    memset(&f, 0, sizeof(f));
    int r = lk_wire_open(skey, buf, size, &f);
    FUZZ_CHECK(r >= 0 || known_error(r), "unexpected error %d", r);
    if (r > 0) {
        size_t n = (size_t) r;
        FUZZ_CHECK(n <= size, "frame of %zu bytes in %zu", n, size);
        FUZZ_CHECK(n == LK_WIRE_HEADER + f.payload_len + LK_WIRE_TAG, "length %zu", n);
        FUZZ_CHECK(f.type >= 1 && f.type <= LK_WIRE_TYPE_MAX, "type %u", f.type);
        FUZZ_CHECK(f.seq != 0, "seq 0 opened");
        FUZZ_CHECK(f.payload == buf + LK_WIRE_HEADER, "payload not in the buffer");
        /* seal(open(x)) == x: the same key, session and seq give the same bytes. */
        uint8_t *again = NULL;
        size_t again_len = 0;
        int e = lk_wire_seal(skey, f.type, f.session, f.seq, f.payload, f.payload_len, &again,
                             &again_len);
        FUZZ_CHECK(e == 0, "an opened frame does not seal: %d", e);
        FUZZ_CHECK(again_len == n && memcmp(again, data, n) == 0, "re-sealed frame differs");
        free(again);
        /* Every prefix asks for more, and touches nothing. */
        for (size_t k = 0; k < n; k += 1 + k / 4) {
            uint8_t *p = copy(data, k);
            struct lk_wire_frame g;
            int q = lk_wire_open(skey, p, k, &g);
            FUZZ_CHECK(q == 0, "prefix %zu of an opened frame gives %d", k, q);
            FUZZ_CHECK(k == 0 || memcmp(p, data, k) == 0, "a prefix was changed");
            free(p);
        }
    } else if (r < 0 && r != -EACCES) {
        /* Refused on its header: nothing was decrypted in place. */
        FUZZ_CHECK(size == 0 || memcmp(buf, data, size) == 0, "a refused input was changed");
    }
    free(buf);
}

/* ------------------------------------------------------------ mode 1: seal and open */

static void sealed(const uint8_t *data, size_t size)
{
    if (size < 17) {
        return;
    }
    uint8_t type = (uint8_t) (1 + data[0] % LK_WIRE_TYPE_MAX);
    uint64_t session = get_u64(data + 1);
    uint64_t seq = get_u64(data + 9);
    const uint8_t *payload = data + 17;
    size_t payload_len = size - 17;
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = lk_wire_seal(skey, type, session, seq, payload, payload_len, &buf, &len);
    if (seq == 0) {
        FUZZ_CHECK(r == -EINVAL, "seq 0 sealed: %d", r);
        return;
    }
    FUZZ_CHECK(r == 0, "seal: %d", r);
    FUZZ_CHECK(len == LK_WIRE_HEADER + payload_len + LK_WIRE_TAG, "sealed length %zu", len);
    FUZZ_CHECK(memcmp(buf, LK_WIRE_MAGIC_AEAD, 4) == 0, "magic");
    /* The plaintext never shows in the frame (a payload of 8 bytes or more: shorter ones
     * may match by chance). */
    if (payload_len >= 8) {
        FUZZ_CHECK(memcmp(buf + LK_WIRE_HEADER, payload, payload_len) != 0, "not encrypted");
    }
    uint8_t *flipped = copy(buf, len);
    uint8_t *other = copy(buf, len);
    struct lk_wire_frame f;
    int o = lk_wire_open(skey, buf, len, &f);
    FUZZ_CHECK(o == (int) len, "a sealed frame opens with %d", o);
    FUZZ_CHECK(f.type == type && f.session == session && f.seq == seq, "header changed");
    FUZZ_CHECK(f.payload_len == payload_len &&
                       (payload_len == 0 || memcmp(f.payload, payload, payload_len) == 0),
               "payload changed");
    /* One flipped bit anywhere: never opens (the header is the additional data). */
    size_t bit = (size_t) (get_u64(data + 1) ^ get_u64(data + 9)) % (len * 8);
    flipped[bit / 8] ^= (uint8_t) (1u << (bit % 8));
    struct lk_wire_frame g;
    int p = lk_wire_open(skey, flipped, len, &g);
    FUZZ_CHECK(p == 0 || known_error(p), "flipped bit %zu: unexpected %d", bit, p);
    FUZZ_CHECK(p <= 0, "a frame with bit %zu flipped opens", bit);
    /* Another key: refused by the tag. */
    uint8_t wrong[LK_WIRE_KEY];
    memcpy(wrong, skey, sizeof(wrong));
    wrong[data[0] % LK_WIRE_KEY] ^= 0x80;
    FUZZ_CHECK(lk_wire_open(wrong, other, len, &g) == -EACCES, "opens under another key");
    free(flipped);
    free(other);
    free(buf);
}

/* ------------------------------------------------------------ mode 2: session keys */

/* The encodings of the points of order 1, 2, 4 and 8 (on the curve and its twist) with
 * the top bit cleared, as libsodium refuses them: 0, 1, two of order 8, p - 1, p, p + 1. */
static const uint8_t low_order[7][32] = {
        {0},
        {1},
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
         0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
         0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
        {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
         0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
         0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
        {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

static bool is_low_order(const uint8_t point[LK_WIRE_KX])
{
    uint8_t u[LK_WIRE_KX];
    memcpy(u, point, sizeof(u));
    u[31] &= 0x7f;
    for (size_t i = 0; i < 7; i++) {
        if (memcmp(u, low_order[i], sizeof(u)) == 0) {
            return true;
        }
    }
    return false;
}

static void exchange(const uint8_t *data, size_t size)
{
    if (size < 3 * LK_WIRE_KX + 16) {
        return;
    }
    const uint8_t *peer = data;
    const uint8_t *a = data + LK_WIRE_KX; /* the connector's secret */
    const uint8_t *b = data + 2 * LK_WIRE_KX;
    uint64_t na = get_u64(data + 3 * LK_WIRE_KX), nb = get_u64(data + 3 * LK_WIRE_KX + 8);
    /* A fuzzed peer key: refused exactly when it has a low order. */
    struct lk_wire_keys k;
    memset(&k, 0, sizeof(k));
    int r = lk_wire_session_keys(skey, true, na, nb, a, peer, &k);
    if (is_low_order(peer)) {
        FUZZ_CHECK(r == -EINVAL, "a low-order peer key gives %d", r);
    } else {
        FUZZ_CHECK(r == 0, "a peer key of high order refused: %d", r);
        FUZZ_CHECK(memcmp(k.send, k.recv, LK_WIRE_KEY) != 0, "both directions share a key");
    }
    /* Both ends of one connection, with their own key pairs. */
    uint8_t pa[LK_WIRE_KX], pb[LK_WIRE_KX];
    crypto_scalarmult_base(pa, a);
    crypto_scalarmult_base(pb, b);
    struct lk_wire_keys kc, ka;
    FUZZ_CHECK(lk_wire_session_keys(skey, true, na, nb, a, pb, &kc) == 0, "connector");
    FUZZ_CHECK(lk_wire_session_keys(skey, false, nb, na, b, pa, &ka) == 0, "acceptor");
    FUZZ_CHECK(memcmp(kc.send, ka.recv, LK_WIRE_KEY) == 0, "connector send != acceptor recv");
    FUZZ_CHECK(memcmp(kc.recv, ka.send, LK_WIRE_KEY) == 0, "connector recv != acceptor send");
    FUZZ_CHECK(memcmp(kc.send, kc.recv, LK_WIRE_KEY) != 0, "both directions share a key");
    /* A frame sealed by one end opens at the other, and only in its direction. */
    const uint8_t *payload = data + 3 * LK_WIRE_KX + 16;
    size_t payload_len = size - (3 * LK_WIRE_KX + 16);
    uint8_t *buf = NULL;
    size_t len = 0;
    FUZZ_CHECK(lk_wire_seal(kc.send, LK_WIRE_MESSAGE, nb, 1, payload, payload_len, &buf, &len) == 0,
               "seal");
    uint8_t *back = copy(buf, len);
    struct lk_wire_frame f;
    FUZZ_CHECK(lk_wire_open(ka.recv, buf, len, &f) == (int) len, "the acceptor cannot open");
    FUZZ_CHECK(f.payload_len == payload_len &&
                       (payload_len == 0 || memcmp(f.payload, payload, payload_len) == 0),
               "payload changed");
    FUZZ_CHECK(lk_wire_open(ka.send, back, len, &f) == -EACCES, "opens in the other direction");
    free(back);
    free(buf);
    /* Another nonce on one side: other keys. */
    struct lk_wire_keys k2;
    FUZZ_CHECK(lk_wire_session_keys(skey, true, na ^ 1, nb, a, pb, &k2) == 0, "connector 2");
    FUZZ_CHECK(memcmp(k2.send, kc.send, LK_WIRE_KEY) != 0, "a new nonce gives the same key");
}

/* ------------------------------------------------------------ mode 3: HELLO */

/* h written back as JSON, the way a peer would send it. */
static char *hello_text(const struct lk_hello *h)
{
    char nonce[LK_HELLO_NONCE_HEX + 1], kx[2 * LK_WIRE_KX + 1];
    snprintf(nonce, sizeof(nonce), "%016" PRIx64, h->nonce);
    json_t *o =
            json_pack("{s:s, s:b, s:s, s:i, s:i, s:s}", LK_HELLO_NODE, h->node, LK_HELLO_WITNESS,
                      h->witness, LK_HELLO_NONCE, nonce, LK_HELLO_PROTO, h->proto_max,
                      LK_HELLO_PROTO_MIN, h->proto_min, LK_HELLO_VERSION, h->version);
    FUZZ_CHECK(o != NULL, "json_pack");
    if (h->info) {
        json_object_set_new(o, LK_HELLO_INFO, json_deep_copy(h->info));
    }
    if (h->has_dead_ms) {
        json_object_set_new(o, LK_HELLO_DEAD_MS, json_integer(h->dead_ms));
    }
    if (h->has_kx) {
        sodium_bin2hex(kx, sizeof(kx), h->kx, LK_WIRE_KX);
        json_object_set_new(o, LK_HELLO_KX, json_string(kx));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "json_dumps");
    json_decref(o);
    return text;
}

static void hello_checked(const struct lk_hello *h)
{
    char err[256];
    FUZZ_CHECK(h->root && json_is_object(h->root), "no object");
    FUZZ_CHECK(h->node && lk_validate_tag(h->node, "node name", err, sizeof(err)) == 0,
               "a bad node name accepted");
    FUZZ_CHECK(!h->info || json_is_object(h->info), "info not an object");
    FUZZ_CHECK(h->proto_max >= 1 && h->proto_max <= LK_HELLO_PROTO_LIMIT, "proto %d", h->proto_max);
    FUZZ_CHECK(h->proto_min >= 1 && h->proto_min <= h->proto_max, "proto_min %d of %d",
               h->proto_min, h->proto_max);
    size_t vlen = strlen(h->version);
    FUZZ_CHECK(vlen > 0 && vlen < LK_HELLO_VERSION_MAX, "version of %zu bytes", vlen);
    for (const char *q = h->version; *q; q++) {
        FUZZ_CHECK(*q > ' ' && *q <= '~', "version byte 0x%02x", (unsigned char) *q);
    }
}

static void hello(const uint8_t *data, size_t size)
{
    uint8_t *buf = copy(data, size);
    struct lk_hello h;
    char err[256];
    err[0] = '\0';
    int r = lk_hello_parse(buf, size, &h, err, sizeof(err));
    FUZZ_CHECK(r == 0 || r == -EINVAL, "error %d", r);
    FUZZ_CHECK(memcmp(buf, data, size) == 0, "the payload was changed");
    if (r < 0) {
        FUZZ_CHECK(strncmp(err, "HELLO ", 6) == 0, "a refusal that does not say HELLO: %s", err);
        FUZZ_CHECK(fuzz_one_line(err), "reason on several lines: %s", err);
        FUZZ_CHECK(fuzz_utf8(err), "reason not UTF-8");
        FUZZ_CHECK(h.root == NULL, "a refused HELLO holds an object");
        free(buf);
        return;
    }
    hello_checked(&h);
    char *text = hello_text(&h);
    struct lk_hello g;
    r = lk_hello_parse(text, strlen(text), &g, err, sizeof(err));
    FUZZ_CHECK(r == 0, "a written-back HELLO is refused: %s (%s)", err, text);
    FUZZ_CHECK(strcmp(g.node, h.node) == 0, "node");
    FUZZ_CHECK(g.witness == h.witness, "witness");
    FUZZ_CHECK(g.has_dead_ms == h.has_dead_ms && g.dead_ms == h.dead_ms, "dead_ms");
    FUZZ_CHECK(g.nonce == h.nonce, "nonce");
    FUZZ_CHECK(g.proto_max == h.proto_max && g.proto_min == h.proto_min, "proto");
    FUZZ_CHECK(strcmp(g.version, h.version) == 0, "version");
    FUZZ_CHECK(g.has_kx == h.has_kx && memcmp(g.kx, h.kx, LK_WIRE_KX) == 0, "kx");
    FUZZ_CHECK((g.info == NULL) == (h.info == NULL) && (!g.info || json_equal(g.info, h.info)),
               "info");
    /* Its kx, as net.c hands it to the session keys: refused exactly when low-order. */
    if (h.has_kx) {
        struct lk_wire_keys k;
        int kr = lk_wire_session_keys(skey, false, 1, h.nonce, skey, h.kx, &k);
        FUZZ_CHECK(kr == (is_low_order(h.kx) ? -EINVAL : 0), "the HELLO's kx gives %d", kr);
    }
    free(text);
    lk_hello_free(&g);
    lk_hello_free(&h);
    FUZZ_CHECK(h.root == NULL, "lk_hello_free left the object");
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        FUZZ_CHECK(sodium_init() >= 0, "sodium_init");
        ready = true;
    }
    static fuzz_mode_fn *const modes[4] = {received, sealed, exchange, hello};
    return fuzz_four_modes(data, size, modes);
}
