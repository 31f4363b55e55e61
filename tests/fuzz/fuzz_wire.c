/* libFuzzer target: the comm-path frame format (src/lib/wire.c), the bytes a peer or any
 * stranger on the comm port sends before anything else looks at them.
 *
 * The first input byte picks a mode (its low two bits), the rest is the mode's input:
 *   0  a received stream: lk_wire_decode over the bytes, frame after frame, as net.c does
 *      with what it has buffered, with the fixed test key;
 *   1  a sealed frame: the rest is a header and a payload; the length field is set to the
 *      payload's and the HMAC computed with the key, so the decoder's checks after the
 *      HMAC are reached too (a real peer's frame, whatever it holds);
 *   2  a replay window: 9-byte steps (session 0..255, seq) through lk_replay_accept,
 *      checked against a plain model that remembers every (session, seq);
 *   3  a key file's text through lk_wire_key_parse.
 * Invariants: a decoded frame re-encodes to exactly its bytes; every shorter prefix of a
 * frame asks for more bytes or gives the same error; errors are only those wire.h
 * lists; a sealed frame with a valid header always decodes; the window accepts a
 * (session, seq) once and never an older session; a parsed key prints back as its hex.
 * Never: a socket, a daemon, a key other than the fixed one. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "wire.h"

static const uint8_t key[LK_WIRE_KEY] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static bool known_error(int r)
{
    return r == -EBADMSG || r == -EMSGSIZE || r == -EACCES;
}

/* One decode at the start of buf, with every invariant of its answer; returns it. */
static int decode_checked(const uint8_t *buf, size_t len)
{
    struct lk_wire_frame f;
    memset(&f, 0, sizeof(f));
    int r = lk_wire_decode(key, buf, len, &f);
    FUZZ_CHECK(r >= 0 || known_error(r), "unexpected error %d", r);
    if (r <= 0) {
        return r;
    }
    size_t n = (size_t) r;
    FUZZ_CHECK(n <= len, "frame of %zu bytes in %zu", n, len);
    FUZZ_CHECK(n == LK_WIRE_HEADER + f.payload_len + LK_WIRE_MAC, "length %zu", n);
    FUZZ_CHECK(f.type >= 1 && f.type <= LK_WIRE_TYPE_MAX, "type %u", f.type);
    FUZZ_CHECK(f.seq != 0, "seq 0 accepted");
    FUZZ_CHECK(f.payload_len <= LK_WIRE_MAX_PAYLOAD, "payload %zu", f.payload_len);
    FUZZ_CHECK(f.payload == buf + LK_WIRE_HEADER, "payload not in the buffer");
    /* encode(decode(x)) == x: nothing in a frame the encoder would not write. */
    uint8_t *again = NULL;
    size_t again_len = 0;
    int e = lk_wire_encode(key, f.type, f.session, f.seq, f.payload, f.payload_len, &again,
                           &again_len);
    FUZZ_CHECK(e == 0, "a decoded frame does not encode: %d", e);
    FUZZ_CHECK(again_len == n && memcmp(again, buf, n) == 0, "re-encoded frame differs");
    free(again);
    /* A frame arriving byte by byte: every prefix asks for more (the header checks passed
     * already, so no prefix can fail them). */
    for (size_t k = 0; k < n; k += 1 + k / 4) {
        struct lk_wire_frame g;
        int p = lk_wire_decode(key, buf, k, &g);
        FUZZ_CHECK(p == 0, "prefix %zu of a valid frame gives %d", k, p);
    }
    return r;
}

static void stream(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        int r = decode_checked(data + off, size - off);
        if (r < 0) {
            /* An error judged on a prefix stays the same on the whole. */
            for (size_t k = 1; k <= size - off && k <= LK_WIRE_HEADER; k++) {
                struct lk_wire_frame g;
                int p = lk_wire_decode(key, data + off, k, &g);
                FUZZ_CHECK(p == 0 || p == r, "prefix %zu gives %d, the whole %d", k, p, r);
            }
            return;
        }
        if (r == 0) {
            return;
        }
        off += (size_t) r;
    }
}

static void sealed(const uint8_t *data, size_t size)
{
    if (size < LK_WIRE_HEADER || size - LK_WIRE_HEADER > LK_WIRE_MAX_PAYLOAD) {
        return;
    }
    size_t payload_len = size - LK_WIRE_HEADER;
    uint8_t *buf = malloc(size + LK_WIRE_MAC);
    if (!buf) {
        abort();
    }
    memcpy(buf, data, size);
    for (int i = 0; i < 4; i++) {
        buf[24 + i] = (uint8_t) (payload_len >> (24 - 8 * i));
    }
    crypto_auth_hmacsha256(buf + size, buf, size, key);
    bool header_ok = memcmp(buf, LK_WIRE_MAGIC, 4) == 0 && buf[4] >= 1 &&
                     buf[4] <= LK_WIRE_TYPE_MAX && buf[5] == 0 && buf[6] == 0 && buf[7] == 0;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++) {
        seq = seq << 8 | buf[16 + i];
    }
    header_ok = header_ok && seq != 0;
    int r = decode_checked(buf, size + LK_WIRE_MAC);
    if (header_ok) {
        FUZZ_CHECK(r == (int) (size + LK_WIRE_MAC), "a sealed frame gives %d", r);
    } else {
        FUZZ_CHECK(r == -EBADMSG, "a sealed frame with a bad header gives %d", r);
    }
    /* One flipped bit anywhere after the header's checked fields: refused. */
    if (header_ok && payload_len > 0) {
        buf[LK_WIRE_HEADER + data[0] % payload_len] ^= 0x01;
        struct lk_wire_frame g;
        FUZZ_CHECK(lk_wire_decode(key, buf, size + LK_WIRE_MAC, &g) == -EACCES,
                   "a changed payload passes the HMAC");
    }
    free(buf);
}

/* The model: every (session, seq) accepted so far in the current session. */
#define MODEL_MAX 4096
struct model {
    bool started;
    uint64_t session, highest;
    uint64_t seen[MODEL_MAX];
    size_t count;
};

static bool model_accept(struct model *m, uint64_t session, uint64_t seq)
{
    if (seq == 0 || (m->started && session < m->session)) {
        return false;
    }
    if (!m->started || session > m->session) {
        m->started = true;
        m->session = session;
        m->highest = seq;
        m->count = 0;
        m->seen[m->count++] = seq;
        return true;
    }
    for (size_t i = 0; i < m->count; i++) {
        if (m->seen[i] == seq) {
            return false;
        }
    }
    if (seq < m->highest && m->highest - seq >= 64) {
        return false; /* older than the window */
    }
    if (seq > m->highest) {
        m->highest = seq;
    }
    if (m->count < MODEL_MAX) {
        m->seen[m->count++] = seq;
    }
    return true;
}

static void replay(const uint8_t *data, size_t size)
{
    struct lk_replay r = {0};
    static struct model m;
    memset(&m, 0, sizeof(m));
    /* Session 0 is where a fresh window starts: the real one accepts it once seen as a
     * session ("newer" than nothing is not possible), so the model starts there too. */
    m.started = true;
    m.session = 0;
    m.highest = 0;
    for (size_t off = 0; off + 9 <= size && m.count < MODEL_MAX; off += 9) {
        uint64_t session = data[off];
        uint64_t seq = 0;
        for (int i = 1; i < 9; i++) {
            seq = seq << 8 | data[off + (size_t) i];
        }
        /* Small steps are more interesting than random 64-bit ones: the top byte set
         * means "highest + low byte - 32". */
        if (data[off + 1] == 0xff) {
            seq = m.highest + (data[off + 8] & 0x7f) - 32;
        }
        bool want = model_accept(&m, session, seq);
        bool got = lk_replay_accept(&r, session, seq);
        FUZZ_CHECK(want == got, "session %llu seq %llu: window says %d, model %d",
                   (unsigned long long) session, (unsigned long long) seq, got, want);
    }
}

static void key_text(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    uint8_t k[LK_WIRE_KEY];
    memset(k, 0xaa, sizeof(k));
    int r = lk_wire_key_parse(text, k);
    FUZZ_CHECK(r == 0 || r == -EINVAL, "error %d", r);
    if (r == 0) {
        char hex[2 * LK_WIRE_KEY + 1];
        sodium_bin2hex(hex, sizeof(hex), k, sizeof(k));
        FUZZ_CHECK(strncasecmp(hex, text, 2 * LK_WIRE_KEY) == 0, "key %s from '%s'", hex, text);
        size_t len = strlen(text);
        FUZZ_CHECK(len == 64 || (len == 65 && text[64] == '\n') ||
                           (len == 66 && strcmp(text + 64, "\r\n") == 0),
                   "a key file of %zu bytes accepted", len);
    } else {
        for (size_t i = 0; i < sizeof(k); i++) {
            FUZZ_CHECK(k[i] == 0xaa, "a refused key changed the key");
        }
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        FUZZ_CHECK(sodium_init() >= 0, "sodium_init");
        ready = true;
    }
    static fuzz_mode_fn *const modes[4] = {stream, sealed, replay, key_text};
    return fuzz_four_modes(data, size, modes);
}
