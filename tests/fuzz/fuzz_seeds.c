/* Writes the seeds of tests/fuzz/corpus that the real encoders make, so that the corpus
 * starts from what peers really send: comm-path frames from lk_wire_encode (fuzz_wire),
 * sealed frames from lk_wire_seal, key exchanges and HELLOs as net.c writes them
 * (fuzz_session), and replication objects from lk_proto_resource_json and base64 scripts, in the
 * shape lk_replica_object sends (fuzz_replica). build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
 * It overwrites only its own files (seed-*); hand-written seeds and crash regressions
 * stay. Not a fuzzer: a tool, run when the formats change. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"
#include "proto.h"
#include "resource.h"
#include "wire.h"

static const uint8_t key[LK_WIRE_KEY] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static const char *root;

static void write_seed(const char *target, const char *name, const void *a, size_t alen,
                       const void *b, size_t blen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/seed-%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen) ||
        fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

static uint8_t *frame(uint8_t type, uint64_t session, uint64_t seq, const char *payload,
                      size_t *ret_len)
{
    uint8_t *buf = NULL;
    if (lk_wire_encode(key, type, session, seq, payload, strlen(payload), &buf, ret_len) != 0) {
        fprintf(stderr, "fuzz_seeds: lk_wire_encode failed\n");
        exit(1);
    }
    return buf;
}

/* A frame as fuzz_wire's mode m reads it: the mode byte, then the bytes. */
static void wire_seed(const char *name, uint8_t mode, const uint8_t *buf, size_t len)
{
    write_seed("fuzz_wire", name, &mode, 1, buf, len);
}

static void wire_seeds(void)
{
    static const char hello[] =
            "{\"node\":\"node1\",\"witness\":false,\"info\":{\"settings\":\"3f2a\",\"data\":"
            "\"9c\"},\"dead_ms\":3000,\"nonce\":\"0123456789abcdef\"}";
    static const char heartbeat[] =
            "{\"holds\":[\"app1\",\"ip1\"],\"inc\":\"a1b2c3d4e5f60718\",\"quorate\":true}";
    static const char message[] =
            "{\"type\":\"summary\",\"objects\":{\"app1\":[12,\"node1\"],\"db1\":[3,\"node2\"]}}";
    size_t l1, l2, l3, l4;
    uint8_t *h = frame(LK_WIRE_HELLO, 0x0123456789abcdefULL, 1, hello, &l1);
    uint8_t *b = frame(LK_WIRE_HEARTBEAT, 0xfedcba9876543210ULL, 2, heartbeat, &l2);
    uint8_t *m = frame(LK_WIRE_MESSAGE, 0xfedcba9876543210ULL, 3, message, &l3);
    uint8_t *f = frame(LK_WIRE_FENCED, 7, 1, "{\"node\":\"node2\",\"inc\":\"0011\"}", &l4);
    wire_seed("hello", 0, h, l1);
    wire_seed("heartbeat", 0, b, l2);
    wire_seed("message", 0, m, l3);
    wire_seed("fenced", 0, f, l4);
    wire_seed("hello-truncated", 0, h, l1 - 10);
    uint8_t *two = malloc(l2 + l3);
    memcpy(two, b, l2);
    memcpy(two + l2, m, l3);
    wire_seed("heartbeat-then-message", 0, two, l2 + l3);
    free(two);
    /* Sealed: the header and payload, the MAC left to the target. */
    wire_seed("sealed-hello", 1, h, l1 - LK_WIRE_MAC);
    wire_seed("sealed-message", 1, m, l3 - LK_WIRE_MAC);
    size_t le;
    uint8_t *e = frame(LK_WIRE_HEARTBEAT, 1, 1, "", &le);
    wire_seed("sealed-empty", 1, e, le - LK_WIRE_MAC);
    free(h);
    free(b);
    free(m);
    free(f);
    free(e);
    /* Replay steps: (session, seq) pairs, in order, out of order, repeated, old. */
    static const uint8_t steps[][9] = {
            {1, 0, 0, 0, 0, 0, 0, 0, 1},    {1, 0, 0, 0, 0, 0, 0, 0, 3},
            {1, 0, 0, 0, 0, 0, 0, 0, 2},    {1, 0, 0, 0, 0, 0, 0, 0, 2},
            {1, 0, 0, 0, 0, 0, 0, 0, 200},  {1, 0, 0, 0, 0, 0, 0, 0, 130},
            {1, 0xff, 0, 0, 0, 0, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 0, 0, 1},
            {1, 0, 0, 0, 0, 0, 0, 0, 201},  {2, 0xff, 0, 0, 0, 0, 0, 0, 40},
    };
    uint8_t mode = 2;
    write_seed("fuzz_wire", "replay", &mode, 1, steps, sizeof(steps));
    char hex[2 * LK_WIRE_KEY + 3];
    sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
    strcat(hex, "\n");
    mode = 3;
    write_seed("fuzz_wire", "authkey", &mode, 1, hex, strlen(hex));
}

/* fuzz_session's seeds: what its mode m reads, the mode byte then the bytes. */
static void session_seed(const char *name, uint8_t mode, const void *buf, size_t len)
{
    write_seed("fuzz_session", name, &mode, 1, buf, len);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}

/* A HELLO as net.c's conn_send_hello writes it (protocol 2: with the kx, without info). */
static char *hello_json(const char *node, bool witness, uint64_t nonce, int proto, int proto_min,
                        const uint8_t *kx_public, const char *info)
{
    char n[LK_HELLO_NONCE_HEX + 1], kx[2 * LK_WIRE_KX + 1];
    snprintf(n, sizeof(n), "%016llx", (unsigned long long) nonce);
    json_t *o = json_pack("{s:s, s:b, s:I, s:s, s:i, s:i, s:s}", LK_HELLO_NODE, node,
                          LK_HELLO_WITNESS, witness, LK_HELLO_DEAD_MS, (json_int_t) 3000,
                          LK_HELLO_NONCE, n, LK_HELLO_PROTO, proto, LK_HELLO_PROTO_MIN, proto_min,
                          LK_HELLO_VERSION, "0.9.0");
    if (kx_public) {
        sodium_bin2hex(kx, sizeof(kx), kx_public, LK_WIRE_KX);
        json_object_set_new(o, LK_HELLO_KX, json_string(kx));
    }
    if (info) {
        json_object_set_new(o, LK_HELLO_INFO, json_loads(info, 0, NULL));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void session_seeds(void)
{
    static const char heartbeat[] =
            "{\"holds\":[\"app1\",\"ip1\"],\"inc\":\"a1b2c3d4e5f60718\",\"quorate\":true}";
    static const char message[] =
            "{\"type\":\"summary\",\"objects\":{\"app1\":[12,\"node1\"],\"db1\":[3,\"node2\"]}}";
    static const char info[] = "{\"settings\":\"3f2a\",\"data\":\"9c\"}";
    /* Mode 0: sealed frames under the fixed key (the key of fuzz_wire), whole, cut, two in
     * a row, and a protocol 1 frame, which a sealed connection refuses. */
    uint8_t *b = NULL, *m = NULL, *i = NULL;
    size_t lb, lm, li;
    char sealed_info[128];
    snprintf(sealed_info, sizeof(sealed_info), "{\"info\":%s}", info);
    if (lk_wire_seal(key, LK_WIRE_HEARTBEAT, 0xfedcba9876543210ULL, 2, heartbeat, strlen(heartbeat),
                     &b, &lb) != 0 ||
        lk_wire_seal(key, LK_WIRE_MESSAGE, 0xfedcba9876543210ULL, 3, message, strlen(message), &m,
                     &lm) != 0 ||
        lk_wire_seal(key, LK_WIRE_HELLO, 0x0123456789abcdefULL, 1, sealed_info, strlen(sealed_info),
                     &i, &li) != 0) {
        fprintf(stderr, "fuzz_seeds: lk_wire_seal failed\n");
        exit(1);
    }
    session_seed("open-heartbeat", 0, b, lb);
    session_seed("open-message", 0, m, lm);
    session_seed("open-info", 0, i, li);
    session_seed("open-truncated", 0, m, lm - 5);
    uint8_t *two = malloc(lb + lm);
    memcpy(two, b, lb);
    memcpy(two + lb, m, lm);
    session_seed("open-two", 0, two, lb + lm);
    free(two);
    size_t lp;
    uint8_t *p1 = frame(LK_WIRE_HEARTBEAT, 5, 1, heartbeat, &lp);
    session_seed("open-protocol1", 0, p1, lp);
    free(p1);
    free(b);
    free(m);
    free(i);
    /* Mode 1: type, session, seq, then the payload. */
    uint8_t fields[17 + sizeof(message)];
    fields[0] = LK_WIRE_MESSAGE - 1;
    put_u64(fields + 1, 0xfedcba9876543210ULL);
    put_u64(fields + 9, 7);
    memcpy(fields + 17, message, strlen(message));
    session_seed("seal-message", 1, fields, 17 + strlen(message));
    session_seed("seal-empty", 1, fields, 17);
    /* Mode 2: a peer public key, the two secrets, the two nonces, a payload. */
    uint8_t kx[3 * LK_WIRE_KX + 16 + 12];
    for (size_t k = 0; k < 2 * LK_WIRE_KX; k++) {
        kx[LK_WIRE_KX + k] = (uint8_t) (k * 7 + 3);
    }
    crypto_scalarmult_base(kx, kx + 2 * LK_WIRE_KX);
    put_u64(kx + 3 * LK_WIRE_KX, 0x0123456789abcdefULL);
    put_u64(kx + 3 * LK_WIRE_KX + 8, 0xfedcba9876543210ULL);
    memcpy(kx + 3 * LK_WIRE_KX + 16, "{\"type\":\"x\"}", 12);
    session_seed("kx", 2, kx, sizeof(kx));
    memset(kx, 0, LK_WIRE_KX);
    kx[0] = 1;
    session_seed("kx-low-order", 2, kx, 3 * LK_WIRE_KX + 16);
    /* Mode 3: HELLOs, protocol 2 and 1, a witness, and the sealed info (no node: refused). */
    uint8_t pub[LK_WIRE_KX];
    crypto_scalarmult_base(pub, kx + LK_WIRE_KX);
    char *h2 = hello_json("node1", false, 0x0123456789abcdefULL, 2, 1, pub, NULL);
    char *h1 = hello_json("node2", false, 0xfedcba9876543210ULL, 1, 1, NULL, info);
    char *hw = hello_json("witness1", true, 42, 2, 2, pub, NULL);
    session_seed("hello-proto2", 3, h2, strlen(h2));
    session_seed("hello-proto1", 3, h1, strlen(h1));
    session_seed("hello-witness", 3, hw, strlen(hw));
    session_seed("hello-sealed-info", 3, sealed_info, strlen(sealed_info));
    uint8_t low[LK_WIRE_KX];
    memset(low, 0xff, sizeof(low));
    low[0] = 0xec; /* p - 1 with the top bit set, which X25519 ignores */
    char *hl = hello_json("node3", false, 7, 2, 2, low, NULL);
    session_seed("hello-low-order-kx", 3, hl, strlen(hl));
    free(hl);
    free(h2);
    free(h1);
    free(hw);
}

static char *base64(const char *text)
{
    size_t n = sodium_base64_ENCODED_LEN(strlen(text), sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(n);
    sodium_bin2base64(out, n, (const unsigned char *) text, strlen(text),
                      sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* The object lk_replica_object would send for a resource like the tests' app1. */
static json_t *live_object(const char *tag, const char *pidfile, json_t *children, json_t *nodes)
{
    struct lk_resource res;
    memset(&res, 0, sizeof(res));
    snprintf(res.tag, sizeof(res.tag), "%s", tag);
    snprintf(res.id, sizeof(res.id), "%s-id", tag);
    snprintf(res.app, sizeof(res.app), "gen");
    snprintf(res.type, sizeof(res.type), "app");
    snprintf(res.info, sizeof(res.info), "an application");
    lk_settings_init(&res.settings);
    if (pidfile) {
        snprintf(res.settings.pidfile, sizeof(res.settings.pidfile), "%s", pidfile);
        res.settings.watch = LK_WATCH_PIDFILE;
    }
    res.has_script[LK_ACTION_RESTORE] = true;
    res.has_script[LK_ACTION_REMOVE] = true;
    res.has_script[LK_ACTION_QUICKCHK] = true;
    json_t *r = lk_proto_resource_json(&res);
    static const char *const state_keys[] = {"state",
                                             "reason",
                                             "pending",
                                             "target_in_service",
                                             "check_failures_in_row",
                                             "local_recoveries",
                                             "stop_failed"};
    for (size_t i = 0; i < sizeof(state_keys) / sizeof(state_keys[0]); i++) {
        json_object_del(r, state_keys[i]);
    }
    char *restore = base64("#!/bin/sh\nexec /usr/bin/app --daemon\n");
    char *remove = base64("#!/bin/sh\npkill -F /run/app.pid\n");
    char *quick = base64("#!/bin/sh\n[ -e /run/app.pid ]\n");
    json_t *o = json_pack("{s:s, s:[I, s], s:b, s:o, s:{s:s, s:s, s:s}, s:o, s:o}", "tag", tag,
                          "version", (json_int_t) 12, "node1", "deleted", 0, "resource", r,
                          "scripts", "restore", restore, "remove", remove, "quickchk", quick,
                          "children", children, "nodes", nodes);
    free(restore);
    free(remove);
    free(quick);
    return o;
}

static void replica_seed(const char *name, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    if (!text) {
        fprintf(stderr, "fuzz_seeds: cannot print %s\n", name);
        exit(1);
    }
    write_seed("fuzz_replica", name, text, strlen(text), NULL, 0);
    free(text);
    json_decref(o);
}

static void replica_seeds(void)
{
    replica_seed("live", live_object("app1", NULL, json_pack("[]"),
                                     json_pack("{s:i, s:i}", "node1", 1, "node2", 10)));
    replica_seed("live-children-pidfile",
                 live_object("web1", "/run/web.pid", json_pack("[s, s]", "db1", "ip1"),
                             json_pack("{s:i, s:i, s:i}", "node1", 2, "node2", 1, "node3", 3)));
    replica_seed("unextended",
                 live_object("app2", NULL, json_pack("[]"), json_pack("{s:i}", "node2", 1)));
    replica_seed("tombstone", json_pack("{s:s, s:[I, s], s:b, s:{s:i, s:i}}", "tag", "app1",
                                        "version", (json_int_t) 13, "node2", "deleted", 1, "nodes",
                                        "node1", 1, "node2", 10));
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR (tests/fuzz/corpus)\n");
        return 2;
    }
    root = argv[1];
    wire_seeds();
    session_seeds();
    replica_seeds();
    return 0;
}
