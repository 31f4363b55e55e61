/* The comm-path frame format (SPEC §5): the unit every message between nodes travels in.
 * Pure encode/decode with authentication; no sockets (the daemon's comm paths, net.c,
 * own those).
 *
 * A frame, all integers big-endian:
 *   magic "OKW1" (4) | type (1) | flags (1) | reserved, 0 (2) | session (8) | seq (8) |
 *   payload length (4) | payload | HMAC-SHA-256 of everything before it (32)
 * session binds the frame to one connection: it is the random 64-bit nonce the RECEIVER
 * sent in its HELLO on that connection, so a frame recorded on one connection is refused
 * on any other (net.h, "Freshness"). The one exception is the connector's HELLO, the
 * first frame of a connection, which carries the connector's own nonce. seq counts the
 * sender's frames on the connection from 1. The HMAC, keyed with the 32-byte cluster
 * key, covers both. Frames are refused when malformed, oversized, unauthenticated, or
 * replayed (wrong session, or a seq seen before). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_WIRE_MAGIC       "OKW1"
#define LK_WIRE_HEADER      28
#define LK_WIRE_MAC         32
#define LK_WIRE_KEY         32
#define LK_WIRE_MAX_PAYLOAD (8 * 1024 * 1024) /* room for a resource's five scripts */

enum lk_wire_type {
    LK_WIRE_HELLO = 1,     /* first frame of a connection: who I am, my settings */
    LK_WIRE_HEARTBEAT = 2, /* I am alive, and what I hold */
    LK_WIRE_MESSAGE = 3,   /* a cluster message (JSON payload) */
    LK_WIRE_FENCED = 4,    /* lkguard: this node has fenced itself (guard.h); own connection */
    LK_WIRE_TYPE_MAX = 4,
};

struct lk_wire_frame {
    uint8_t type;
    uint8_t flags;
    uint64_t session;
    uint64_t seq;
    const uint8_t *payload; /* borrowed: points into the decoded buffer */
    size_t payload_len;
};

/* Parses the cluster key as etc/authkey holds it: LK_WIRE_KEY * 2 hex digits, optionally
 * followed by a line end. Returns 0, or -EINVAL (key untouched). */
int lk_wire_key_parse(const char *text, uint8_t key[LK_WIRE_KEY]);

/* Encodes one frame into a malloc'd buffer (*ret_buf, *ret_len). Returns 0, -EINVAL for a
 * bad type or a payload over LK_WIRE_MAX_PAYLOAD, or -ENOMEM. */
int lk_wire_encode(const uint8_t key[LK_WIRE_KEY], uint8_t type, uint64_t session, uint64_t seq,
                   const void *payload, size_t payload_len, uint8_t **ret_buf, size_t *ret_len);

/* Decodes the frame at the start of buf (len bytes received so far). Returns the number
 * of bytes the frame takes (> 0) and fills *ret_frame; 0 when more bytes are needed;
 * -EBADMSG for a malformed header (bad magic, type, reserved bits, seq 0), -EMSGSIZE for
 * a length over the limit (known from the header alone, before the payload arrives), or
 * -EACCES when the HMAC does not match. On error the stream cannot be resynchronised:
 * drop the connection. */
int lk_wire_decode(const uint8_t key[LK_WIRE_KEY], const uint8_t *buf, size_t len,
                   struct lk_wire_frame *ret_frame);

/* Replay protection for the frames of one peer: a newer session replaces the current
 * one; within a session, a sequence number is accepted once, in a window of the last 64
 * below the highest seen. Start from {0}. (net.c checks the session against its nonce
 * itself and passes a constant here: only the window applies.) */
struct lk_replay {
    uint64_t session;
    uint64_t highest;
    uint64_t window; /* bit i set: highest - i was seen */
};

/* Whether (session, seq) is new; records it when it is. */
bool lk_replay_accept(struct lk_replay *replay, uint64_t session, uint64_t seq);
