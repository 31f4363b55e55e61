/* The HELLO (net.h, "Protocols"): the first frame of a comm-path connection, a JSON
 * object that says who the sender is and how it speaks. This module parses and validates
 * it, field by field, as it arrives from anyone holding the cluster key (or a recording):
 *   node       the sender's node name (lk_validate_tag), required
 *   info       its settings digest, an object (protocol 1 only; protocol 2 seals it)
 *   witness    a boolean, whether it is a witness
 *   dead_ms    an integer, its dead time
 *   nonce      NONCE_HEX lower-case hex digits, the session its frames must carry
 *   proto      the newest protocol it speaks, 1..LK_HELLO_PROTO_LIMIT (absent: 1)
 *   proto_min  the oldest it accepts, 1..proto (absent: 1)
 *   version    its software version, printable ASCII without spaces (absent: "unknown")
 *   kx         protocol 2: its ephemeral X25519 public key, 2 * LK_WIRE_KX hex digits
 * What depends on the receiver (its own name, the path's peer, the negotiated protocol,
 * whether a kx is required) is net.c's to judge. Pure: no sockets, no logging. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define LK_HELLO_NODE        "node"
#define LK_HELLO_WITNESS     "witness"
#define LK_HELLO_INFO        "info"
#define LK_HELLO_DEAD_MS     "dead_ms"
#define LK_HELLO_NONCE       "nonce"
#define LK_HELLO_PROTO       "proto"
#define LK_HELLO_PROTO_MIN   "proto_min"
#define LK_HELLO_VERSION     "version"
#define LK_HELLO_KX          "kx"
#define LK_HELLO_NONCE_HEX   16   /* a nonce in a HELLO: 16 lower-case hex digits */
#define LK_HELLO_VERSION_MAX 32   /* a software version's text, NUL included */
#define LK_HELLO_PROTO_LIMIT 1000 /* a HELLO announcing a protocol above this is malformed */

struct lk_hello {
    json_t *root;     /* the whole object (owned; every pointer below borrows from it) */
    const char *node; /* the sender's node name */
    json_t *info;     /* its info object, NULL when absent */
    bool witness;     /* true only when present and true */
    bool has_dead_ms;
    int64_t dead_ms;
    uint64_t nonce;
    int proto_max;       /* 1 when absent */
    int proto_min;       /* 1 when absent */
    const char *version; /* "unknown" when absent (a static string then) */
    bool has_kx;         /* kx present and valid; an invalid kx counts as absent */
    uint8_t kx[LK_WIRE_KX];
};

/* Parses the HELLO payload (len bytes, not NUL-terminated, JSON with no duplicate keys)
 * into *ret. Returns 0 (free it with lk_hello_free), or -EINVAL with a one-line reason in
 * err, the one net.c reports when it drops the connection (*ret then holds nothing to
 * free). A kx that is absent or malformed is not an error here: only protocol 2 needs
 * it, and only the receiver knows the protocol (has_kx tells). */
int lk_hello_parse(const void *payload, size_t len, struct lk_hello *ret, char *err,
                   size_t err_size);

/* Releases what lk_hello_parse allocated and clears *hello (safe on a cleared one). */
void lk_hello_free(struct lk_hello *hello);
