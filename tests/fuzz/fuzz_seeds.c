/* Writes the seeds of tests/fuzz/corpus that the real encoders make, so that the corpus
 * starts from what peers really send: comm-path frames from lk_wire_encode (fuzz_wire)
 * and replication objects from lk_proto_resource_json and base64 scripts, in the shape
 * lk_replica_object sends (fuzz_replica).
 *   build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus
 * It overwrites only its own files (seed-*); hand-written seeds and crash regressions
 * stay. Not a fuzzer: a tool, run when the formats change. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    replica_seeds();
    return 0;
}
