/* Membership behind one table of operations (as Corosync's totemnet.c puts its
 * transports behind struct transport): the coordinator (cluster.c) starts a backend, is
 * told which peers are up and what they send, and sends through it; it never knows
 * which mechanism carries the messages. Today's backend is lk_membership_tcp (net.c:
 * authenticated TCP comm paths with heartbeats); a Corosync (CPG) backend is planned
 * next to it and must keep the same contract:
 *
 * - Messages: each is one JSON object, delivered whole or not at all. Between two live
 *   nodes, messages arrive in the order they were sent for as long as the peer stays up
 *   (per connection for TCP; CPG's agreed order is stronger and fine). A message may be
 *   lost when the peer goes down or the link breaks; never duplicated, never replayed
 *   from an earlier connection, never altered (authenticated).
 * - Node up/down: on_node reports each change of a peer's liveness once (alive, then
 *   dead, then alive ...), with a reason in words. A peer is never reported dead while
 *   this node's loop was frozen: on_resumed comes first, and every peer gets a full dead
 *   time from the resume to be heard.
 * - Resync on reconnect: on_hello is called for every new session with a peer (after
 *   each reconnect, and for CPG after each configuration change that adds it), before
 *   any on_message of that session, carrying the peer's latest hello info; messages sent
 *   before it may have been lost, so the coordinator sends its whole state again.
 * - Start: a start that fails returns a negative errno with a one-line message and
 *   never calls back (no on_stopped either), and *ret_backend stays NULL.
 * - Stop: after stop, no callback but on_stopped, which comes exactly once when the
 *   backend has drained what was sent before stop (bounded, well under a second) and is
 *   about to free itself; the caller keeps the loop running until then.
 * - Never: log (everything is reported through the callbacks), block the loop, or call
 *   the coordinator from inside one of its calls into the backend (no re-entry). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"

/* What on_comm_port reports. */
enum lk_port_kind {
    LK_PORT_REFUSED, /* over the per-address limit, or over the inbound limit */
    LK_PORT_SHED,    /* the oldest stranger closed to make room for a new one */
    LK_PORT_TIMEOUT, /* no HELLO in time */
    LK_PORT_KINDS,
};

/* What a backend reports; userdata is the coordinator's pointer given to start. */
struct lk_membership_callbacks {
    /* A peer became ALIVE (true) or DEAD (false). why: "no heartbeat for 3000 ms" … */
    void (*on_node)(void *userdata, const char *peer, bool alive, const char *why);
    /* One link to a peer became ALIVE or DEAD (for the event log; node changes come
     * through on_node). Optional for a backend without separate links. */
    void (*on_path)(void *userdata, const char *peer, const char *address, bool alive,
                    const char *why);
    /* A new session with peer began; info is the peer's hello info (set_hello).
     * known: peer is one of the configured peers. */
    void (*on_hello)(void *userdata, const char *peer, bool known, const json_t *info);
    /* The payload of a peer's heartbeat (what its heartbeat_payload returned). */
    void (*on_heartbeat)(void *userdata, const char *peer, const json_t *payload);
    /* A cluster message (a JSON object) from peer. */
    void (*on_message)(void *userdata, const char *peer, const json_t *msg);
    /* Something from a peer (or a remote address when unknown) was refused. */
    void (*on_dropped)(void *userdata, const char *from, const char *why);
    /* The loop did not run for frozen_ms (longer than the dead time). */
    void (*on_resumed)(void *userdata, uint64_t frozen_ms);
    /* This node's next heartbeat payload (a new reference; NULL = {}). */
    json_t *(*heartbeat_payload)(void *userdata);
    /* A guard's "fenced itself" frame (lib/guard.h), authenticated with the cluster key:
     * its session and payload, to be validated by the coordinator. Optional. */
    void (*on_fenced)(void *userdata, uint64_t session, const void *payload, size_t len);
    /* A session with peer speaks protocol proto (version: its software version,
     * "unknown" from a peer of the release before versions were announced), or, when
     * refused is not NULL, the peer was refused (why, in words, naming both versions).
     * Only changes are reported. Optional. */
    void (*on_protocol)(void *userdata, const char *peer, int proto, const char *version,
                        const char *refused);
    /* A peer connected with the next cluster key of a rotation (set_keys): it has
     * committed the rotation. Optional. */
    void (*on_next_key)(void *userdata);
    /* Connections to the comm port that never said HELLO were refused, shed or timed
     * out: count of them since the last report of that kind (at most one per 10 s per
     * kind), detail in words. Optional. */
    void (*on_comm_port)(void *userdata, enum lk_port_kind kind, uint64_t count,
                         const char *detail);
    /* After stop: the backend has drained and is about to be freed (its last call). */
    void (*on_stopped)(void *userdata);
};

struct lk_membership_options {
    const char *node;               /* this node's name */
    const char *listen;             /* "ADDR:PORT"; "" = 0.0.0.0:7400 (where it applies) */
    const uint8_t *key;             /* LK_WIRE_KEY bytes, copied */
    bool witness;                   /* this daemon is a witness: say so to the peers */
    const struct lk_config *config; /* peers, paths, witness address, heartbeat settings */
    /* A backend that judges liveness on a thread of its own (the TCP backend's pulse
     * thread) feeds the guard from there while the loop makes progress: feed(feed_ctx),
     * thread-safe. NULL = no guard to feed. */
    void (*feed)(void *ctx);
    void *feed_ctx;
};

/* A backend. backend is the handle start returned; every call but start takes it. */
struct lk_membership_ops {
    const char *name; /* "tcp", "corosync" */
    /* Starts: joins the cluster and begins reporting. 0, or a negative errno with a
     * one-line message in err and no callback ever (see above). */
    int (*start)(uv_loop_t *loop, const struct lk_membership_options *options,
                 const struct lk_membership_callbacks *callbacks, void *userdata,
                 void **ret_backend, char *err, size_t err_size);
    /* The configuration changed (peers, paths, heartbeat settings): apply it live. */
    void (*reconfigure)(void *backend, const struct lk_config *config);
    /* The info object sent with every new session from now on (copied). */
    void (*set_hello)(void *backend, const json_t *info);
    /* The cluster keys: send with key, accept alt too (NULL: none); alt_is_next: alt is
     * a rotation's next key, else the previous one (net.h's lk_net_set_keys). Optional. */
    void (*set_keys)(void *backend, const uint8_t *key, const uint8_t *alt, bool alt_is_next);
    /* Sends msg to peer: 0, -ENOTCONN when peer is not ALIVE, -EMSGSIZE, -ENOMEM. */
    int (*send)(void *backend, const char *peer, const json_t *msg);
    /* Sends msg to every ALIVE peer; returns how many it went to. */
    size_t (*broadcast)(void *backend, const json_t *msg);
    /* Whether peer is ALIVE now. */
    bool (*alive)(const void *backend, const char *peer);
    /* The peers with their links and counters, for status (a new reference; the form
     * of net.h's lk_net_peers_json). */
    json_t *(*peers_json)(const void *backend);
    /* The transport's own state for status (a new reference; JSON null when it has none).
     * Optional. */
    json_t *(*transport_json)(const void *backend);
    /* Leaves: drains, then on_stopped (see above). NULL-safe. */
    void (*stop)(void *backend);
};

/* The TCP comm paths (net.c). */
extern const struct lk_membership_ops lk_membership_tcp;
