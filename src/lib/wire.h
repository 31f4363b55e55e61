/* The comm-path frame format (SPEC §5): the unit every message between nodes travels in.
 * Pure encode/decode with authentication and encryption; no sockets (the daemon's comm
 * paths, net.c, own those).
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
 * replayed (wrong session, or a seq seen before).
 *
 * Protocol 2 (net.h, "Protocols"): after the HELLO exchange every frame is sealed with
 * XChaCha20-Poly1305 (libsodium's crypto_aead_xchacha20poly1305_ietf) under a session
 * key of its connection and direction (lk_wire_session_keys): magic "OKW2", the same
 * header, then the ciphertext of the payload and its 16-byte tag instead of the HMAC.
 * The header is the additional data (authenticated, not encrypted: the length must be
 * readable before the payload arrives); the 24-byte AEAD nonce is "OKW2" | 0 (4) |
 * session | seq, and seq counts each direction's frames from 1, so a key never sees the
 * same nonce twice. The HELLOs stay protocol 1 frames (HMAC): they carry the nonces the
 * session keys come from, and nothing secret. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_WIRE_MAGIC       "OKW1"
#define LK_WIRE_MAGIC_AEAD  "OKW2"
#define LK_WIRE_HEADER      28
#define LK_WIRE_MAC         32
#define LK_WIRE_TAG         16 /* the AEAD's tag, after the ciphertext */
#define LK_WIRE_KEY         32
#define LK_WIRE_PROTO_MIN   1 /* the oldest protocol this build speaks: authenticated only */
#define LK_WIRE_PROTO_MAX   2 /* the newest: authenticated and encrypted */
#define LK_WIRE_MAX_PAYLOAD (12 * 1024 * 1024) /* a resource: five scripts, helpers, parameters */

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

/* The session keys of one connection: derived from the cluster key and both HELLO
 * nonces, one per direction. */
struct lk_wire_keys {
    uint8_t send[LK_WIRE_KEY];
    uint8_t recv[LK_WIRE_KEY];
};

#define LK_WIRE_KX 32 /* an X25519 public or secret key (the HELLO's "kx") */

/* A fresh X25519 key pair for one connection's HELLO. */
void lk_wire_kx_new(uint8_t ret_public[LK_WIRE_KX], uint8_t ret_secret[LK_WIRE_KX]);

/* Derives the session keys of a connection: BLAKE2b keyed with the cluster key over a
 * context string, the direction, both HELLO nonces, both ephemeral X25519 public keys and
 * their shared secret. The connector's send key is the acceptor's receive key and the
 * other way round; a new nonce or key pair on either side gives new keys; and a recording
 * cannot be decrypted later even with the cluster key (the secrets are never sent, and
 * forgotten with the connection). connector: this end opened the connection. Returns 0,
 * or -EINVAL for a peer public key that gives no shared secret (a low-order point). */
int lk_wire_session_keys(const uint8_t key[LK_WIRE_KEY], bool connector, uint64_t own_nonce,
                         uint64_t peer_nonce, const uint8_t own_secret[LK_WIRE_KX],
                         const uint8_t peer_public[LK_WIRE_KX], struct lk_wire_keys *ret_keys);

/* Encodes one sealed (protocol 2) frame with the session key skey (a send key) into a
 * malloc'd buffer. Returns 0, -EINVAL (bad type, seq 0, payload over the limit) or
 * -ENOMEM. Never call twice with the same skey and seq. */
int lk_wire_seal(const uint8_t skey[LK_WIRE_KEY], uint8_t type, uint64_t session, uint64_t seq,
                 const void *payload, size_t payload_len, uint8_t **ret_buf, size_t *ret_len);

/* Decodes and decrypts, in place, the sealed frame at the start of buf with the session
 * key skey (a receive key). Returns as lk_wire_decode: the frame's size, 0 when more
 * bytes are needed, -EBADMSG, -EMSGSIZE, or -EACCES when the tag does not verify
 * (tampered, another key, or another frame's seq or session); ret_frame's payload then
 * points at the plaintext inside buf. On -EACCES the bytes of the frame are garbage. */
int lk_wire_open(const uint8_t skey[LK_WIRE_KEY], uint8_t *buf, size_t len,
                 struct lk_wire_frame *ret_frame);

/* Sealed frames arrive in order (TCP, one key per direction): accepts seq only when it
 * is the one after *last (then records it). A repeated, skipped or earlier seq is a
 * replay or a reordering: refused. */
bool lk_wire_in_order(uint64_t *last, uint64_t seq);

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
