/* The pulse: the small authenticated UDP datagram a node's pulse thread sends to every
 * comm-path address of every peer each heartbeat interval (daemon/cluster/pulse.c), so
 * that liveness does not wait behind the main loop. Pure: encoding, authenticated
 * decoding and the acceptance rule; no sockets, no clock of its own.
 *
 * A pulse, all integers big-endian:
 *   magic "OKP1" (4) | version (1) | flags (1) | name length n (1) | reserved, 0 (1) |
 *   incarnation (8) | seq (8) | sender's CLOCK_MONOTONIC in ms (8) | name (n) |
 *   MAC (32): BLAKE2b-256 keyed with a key derived from the cluster key
 *             (crypto_kdf, context "okpulse1", subkey 1), over everything before it.
 * incarnation is the 64-bit number the sender's lkd puts in every HELLO ("inc"), fresh at
 * each start; seq counts the datagrams the sender sent since it started (each datagram,
 * to any address, has its own).
 *
 * A pulse counts (lk_pulse_accept) only when its MAC checks out, its sender is a peer whose
 * incarnation the receiver learned from that peer's HELLO and the pulse carries that
 * incarnation, its seq is greater than the last one accepted from that peer on that
 * source address, and it is fresh: (local clock - sender clock) is at most half the dead
 * time above the smallest such offset seen from that peer (raised by 1 ms per second of
 * local time, for clocks that drift apart). So a datagram delayed or replayed by more
 * than half the dead time cannot keep a dead node alive. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_PULSE_MAGIC       "OKP1"
#define LK_PULSE_VERSION     1
#define LK_PULSE_HEADER      32
#define LK_PULSE_MAC         32
#define LK_PULSE_KEY         32
#define LK_PULSE_NAME_MAX    63
#define LK_PULSE_MAX         (LK_PULSE_HEADER + LK_PULSE_NAME_MAX + LK_PULSE_MAC)
/* The minimum offset may rise by this many ms per second of local time (1000 ppm). */
#define LK_PULSE_DRIFT_PER_S 1

/* flags */
#define LK_PULSE_F_LOOP_LATE 0x01 /* the sender's main loop is late (over a dead time) */
#define LK_PULSE_F_WITNESS   0x02 /* the sender is a witness */

struct lk_pulse_msg {
    uint8_t version;
    uint8_t flags;
    char node[LK_PULSE_NAME_MAX + 1];
    uint64_t incarnation;
    uint64_t seq;
    uint64_t clock_ms;
};

/* The pulse key, derived from the cluster key (never the cluster key itself, so a pulse
 * MAC can be no frame's HMAC). */
void lk_pulse_derive_key(const uint8_t cluster_key[32], uint8_t ret_key[LK_PULSE_KEY]);

/* Encodes msg into buf (size bytes). Returns the datagram's length, or -EINVAL (a node name
 * empty or over LK_PULSE_NAME_MAX, seq 0) or -ENOBUFS (buf too small). */
int lk_pulse_encode(const uint8_t key[LK_PULSE_KEY], const struct lk_pulse_msg *msg, uint8_t *buf,
                    size_t size);

/* Decodes and authenticates one datagram. Returns 0 and fills *ret, -EBADMSG when
 * malformed (length, magic, version, name length, reserved byte, seq 0, a name that is not a
 * plain tag), or -EACCES when the MAC does not match (nothing of it is to be trusted). */
int lk_pulse_decode(const uint8_t key[LK_PULSE_KEY], const uint8_t *buf, size_t len,
                    struct lk_pulse_msg *ret);

/* What the receiver remembers of one peer (zeroed = knows nothing; set incarnation from
 * its HELLO with lk_pulse_peer_learn). */
struct lk_pulse_peer {
    uint64_t incarnation;  /* from its HELLO; 0 = unknown: nothing is accepted */
    bool have_offset;      /* min_offset_ms is set */
    int64_t min_offset_ms; /* smallest (local - sender) clock seen */
    uint64_t offset_at_ms; /* local clock when min_offset_ms was set (drift counts from it) */
};

/* The incarnation learned from the peer's HELLO; a new one forgets the offset (a new lkd,
 * perhaps after a reboot with another clock). */
void lk_pulse_peer_learn(struct lk_pulse_peer *peer, uint64_t incarnation);

enum lk_pulse_verdict {
    LK_PULSE_OK,
    LK_PULSE_INCARNATION, /* unknown, or not the one its HELLO said */
    LK_PULSE_REPLAYED,    /* seq not above the last accepted on that source */
    LK_PULSE_STALE,       /* delayed by more than half the dead time */
    LK_PULSE_VERDICTS,
};

/* The names of the verdicts, for counters ("ok", "incarnation", "replayed", "stale"). */
const char *lk_pulse_verdict_name(enum lk_pulse_verdict verdict);

/* Judges an authenticated pulse from peer received at local_ms (the receiver's
 * CLOCK_MONOTONIC in ms) on a source whose last accepted seq is *last_seq (0 = none).
 * On LK_PULSE_OK updates *last_seq and the peer's offset; otherwise changes nothing. */
enum lk_pulse_verdict lk_pulse_accept(struct lk_pulse_peer *peer, uint64_t *last_seq,
                                      const struct lk_pulse_msg *msg, uint64_t local_ms,
                                      uint64_t dead_ms);
