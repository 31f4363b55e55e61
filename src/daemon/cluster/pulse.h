/* The pulse thread: liveness off the main loop (issue 11, item 2). One thread per comm
 * listener, with its own tiny loop (epoll on one UDP socket bound to the listen address
 * and port, a timerfd and an eventfd), that every heartbeat interval sends a pulse
 * (lib/pulse_wire.h) to every comm-path address of every configured peer, to the witness's
 * address, and to where the last pulse of a peer known by its HELLO only came from (so a
 * witness answers its members), receives the peers' pulses (from peers whose HELLO told
 * their incarnation), and records per (peer, source address) when a valid one was last
 * heard.
 * net.c's sweep counts a comm path as heard when its TCP connection or a pulse from its
 * address was heard within the dead time.
 *
 * The stall limit: the main loop stamps the thread at each of its ticks (lk_pulse_stamp).
 * When it has not for max(5 s, 2 × the dead time), the thread stops pulsing and stops
 * feeding the guard (the feed callback), so that a truly frozen lkd is still declared dead
 * by its peers and fenced by its guard. A main loop that is only late (a slow request, a
 * fsync) keeps its node alive up to that limit.
 *
 * Threads: the lk_pulse_* calls are the main loop's; the thread takes the object's mutex
 * only for short copies, never calls back into the loop, never allocates, never logs.
 * The feed callback runs on the thread and must be thread-safe. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define LK_PULSE_STALL_MIN_MS 5000

struct lk_pulse;

struct lk_pulse_options {
    const char *node;        /* this node's name */
    const uint8_t *key;      /* the cluster key (32 bytes), copied (a pulse key is derived) */
    const char *listen;      /* "ADDR:PORT": the UDP socket binds here */
    bool witness;            /* say so in the pulses' flags */
    void (*feed)(void *ctx); /* the guard's feed, called on the thread; NULL = none */
    void *feed_ctx;
};

/* The stall limit for a dead time: max(LK_PULSE_STALL_MIN_MS, 2 × dead_ms). */
uint64_t lk_pulse_stall_limit_ms(uint64_t dead_ms);

/* Binds the UDP socket and starts the thread. Returns 0, or a negative errno with a
 * one-line message in err (the address in use for UDP, no thread). */
int lk_pulse_start(const struct lk_pulse_options *options, const struct lk_config *config,
                   struct lk_pulse **ret, char *err, size_t err_size);

/* The configured peers, their comm paths and the heartbeat settings changed (or at
 * start): pulses go to every path of every configured peer; what was learned of a peer
 * that stays is kept. */
void lk_pulse_configure(struct lk_pulse *pulse, const struct lk_config *config);

/* This node's incarnation (its HELLO's "inc"); no pulse goes out before it is known. */
void lk_pulse_set_incarnation(struct lk_pulse *pulse, uint64_t incarnation);

/* A key rotation (lk_net_set_keys): pulses go out under key (the cluster key in use, 32
 * bytes) and are accepted under key or, while alt is not NULL, under alt (the rotation's
 * other key). */
void lk_pulse_set_keys(struct lk_pulse *pulse, const uint8_t key[32], const uint8_t *alt);

/* The incarnation a peer's HELLO carried: only its pulses with it count from now. A peer
 * that is not configured (the witness, or on a witness its members) is added, up to 64. */
void lk_pulse_learn(struct lk_pulse *pulse, const char *peer, uint64_t incarnation);

/* The main loop made progress (called at each of its ticks). */
void lk_pulse_stamp(struct lk_pulse *pulse);

/* When a valid pulse from peer was last heard from address ip ("127.0.0.1"; a v4-mapped
 * v6 address counts as its v4 form), in the monotonic usec of uv_hrtime() / 1000; 0 when
 * never. */
uint64_t lk_pulse_heard_usec(struct lk_pulse *pulse, const char *peer, const char *ip);

/* The peer's pulse counters for status: {"last_heard_ms":N|null,"accepted":N,
 * "refused":{"incarnation":N,"replayed":N,"stale":N}} (a new reference). */
json_t *lk_pulse_peer_json(struct lk_pulse *pulse, const char *peer, uint64_t now_usec);

/* The thread for status: {"address":"…","sched":"rr"|"nice"|"normal","sent":N,
 * "send_errors":N,"stall_limit_ms":N,"stalled":bool,"stalls":N,
 * "dropped":{"malformed":N,"unauthenticated":N,"unknown":N}} (a new reference). */
json_t *lk_pulse_json(struct lk_pulse *pulse);

/* Stops and joins the thread (at once: it is woken), closes the sockets, frees. After it
 * the feed callback is never called again. NULL-safe. */
void lk_pulse_stop(struct lk_pulse *pulse);
