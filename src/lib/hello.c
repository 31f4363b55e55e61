/* The HELLO's parsing and validation (see hello.h): the JSON of a comm-path connection's
 * first frame, from anyone who holds the cluster key or recorded a frame of someone who
 * does, turned into checked fields or refused with the one-line reason net.c reports.
 *
 * Enters: the payload of an authenticated HELLO frame (net.c's conn_on_hello), and the
 * fuzz target and unit test of tests/.
 *
 * Never: trust a field before its check, read past the payload's length, log, or judge
 * what needs the receiver's state (its own name, the path's peer, the negotiated
 * protocol, the unknown-peer limit): net.c does. */
#include "hello.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"

/* A nonce parsed from its HELLO form (LK_HELLO_NONCE_HEX lower-case hex digits). Returns
 * 0 or -EINVAL. */
static int parse_nonce(const char *text, uint64_t *ret_nonce)
{
    if (!text || strlen(text) != LK_HELLO_NONCE_HEX) {
        return -EINVAL;
    }
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9') {
            d = *p - '0';
        } else if (*p >= 'a' && *p <= 'f') {
            d = *p - 'a' + 10;
        } else {
            return -EINVAL;
        }
        v = v << 4 | (uint64_t) d;
    }
    *ret_nonce = v;
    return 0;
}

/* The protocol and version fields: the newest and oldest protocol the sender speaks (1
 * and 1 when absent: the release before protocols were announced) and its software
 * version ("unknown" when absent). Returns 0 or -EINVAL for a malformed field. */
static int parse_protocol(const json_t *hello, struct lk_hello *h)
{
    const json_t *max = json_object_get(hello, LK_HELLO_PROTO);
    const json_t *min = json_object_get(hello, LK_HELLO_PROTO_MIN);
    const json_t *version = json_object_get(hello, LK_HELLO_VERSION);
    if ((max && (!json_is_integer(max) || json_integer_value(max) < 1 ||
                 json_integer_value(max) > LK_HELLO_PROTO_LIMIT)) ||
        (min && (!json_is_integer(min) || json_integer_value(min) < 1 ||
                 json_integer_value(min) > (max ? json_integer_value(max) : 1)))) {
        return -EINVAL;
    }
    const char *v = version ? json_string_value(version) : "unknown";
    if (!v || !v[0] || strlen(v) >= LK_HELLO_VERSION_MAX) {
        return -EINVAL;
    }
    for (const char *q = v; *q; q++) {
        if (*q <= ' ' || *q > '~') {
            return -EINVAL;
        }
    }
    h->proto_max = max ? (int) json_integer_value(max) : 1;
    h->proto_min = min ? (int) json_integer_value(min) : 1;
    h->version = v;
    return 0;
}

/* The kx field, when it holds exactly LK_WIRE_KX bytes in hex. */
static void parse_kx(const json_t *hello, struct lk_hello *h)
{
    const char *kx = json_string_value(json_object_get(hello, LK_HELLO_KX));
    size_t kx_len = 0;
    h->has_kx = kx && strlen(kx) == 2 * LK_WIRE_KX &&
                sodium_hex2bin(h->kx, LK_WIRE_KX, kx, strlen(kx), NULL, &kx_len, NULL) == 0 &&
                kx_len == LK_WIRE_KX;
    if (!h->has_kx) {
        memset(h->kx, 0, sizeof(h->kx));
    }
}

int lk_hello_parse(const void *payload, size_t len, struct lk_hello *ret, char *err,
                   size_t err_size)
{
    struct lk_hello h;
    memset(&h, 0, sizeof(h));
    memset(ret, 0, sizeof(*ret));
    json_error_t error;
    h.root = payload ? json_loadb(payload, len, JSON_REJECT_DUPLICATES, &error) : NULL;
    if (!json_is_object(h.root)) {
        json_decref(h.root);
        return lk_fail_einval(err, err_size, "HELLO payload is not a JSON object");
    }
    const json_t *hello = h.root;
    h.node = json_string_value(json_object_get(hello, LK_HELLO_NODE));
    h.info = json_object_get(hello, LK_HELLO_INFO);
    const json_t *witness = json_object_get(hello, LK_HELLO_WITNESS);
    const json_t *dead = json_object_get(hello, LK_HELLO_DEAD_MS);
    char why[256];
    if (!h.node) {
        lk_fail_einval(err, err_size, "HELLO without a node name");
        goto fail;
    }
    if (lk_validate_tag(h.node, "node name", why, sizeof(why)) < 0) {
        lk_fail_einval(err, err_size, "HELLO with a bad node name: %s", why);
        goto fail;
    }
    if ((h.info && !json_is_object(h.info)) || (witness && !json_is_boolean(witness)) ||
        (dead && !json_is_integer(dead))) {
        lk_fail_einval(err, err_size, "HELLO from '%s' with a malformed info, witness or dead_ms",
                       h.node);
        goto fail;
    }
    h.witness = json_is_true(witness);
    h.has_dead_ms = dead != NULL;
    h.dead_ms = dead ? (int64_t) json_integer_value(dead) : 0;
    if (parse_nonce(json_string_value(json_object_get(hello, LK_HELLO_NONCE)), &h.nonce) < 0) {
        lk_fail_einval(err, err_size, "HELLO from '%s' without a valid nonce", h.node);
        goto fail;
    }
    if (parse_protocol(hello, &h) < 0) {
        lk_fail_einval(err, err_size,
                       "HELLO from '%s' with a malformed proto, proto_min or version", h.node);
        goto fail;
    }
    parse_kx(hello, &h);
    *ret = h;
    return 0;
fail:
    json_decref(h.root);
    return -EINVAL;
}

void lk_hello_free(struct lk_hello *hello)
{
    json_decref(hello->root);
    memset(hello, 0, sizeof(*hello));
}
