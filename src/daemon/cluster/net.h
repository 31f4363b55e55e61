/* The built-in comm paths (SPEC §5): TCP links to the peers over libuv, carrying
 * authenticated frames (wire.h), heartbeats and cluster messages; per-path and per-node
 * liveness. This is the transport half of membership: it knows nothing of resources.
 * The cluster coordinator (cluster.c) uses it only as the membership backend
 * lk_membership_tcp (membership.h, which states the contract a Corosync backend will keep
 * too); these calls are that backend's own interface and its unit test's.
 *
 * Connections: for every comm path (peer, address) this node keeps one outbound TCP
 * connection, reconnecting with exponential backoff (100 ms doubling to 5 s). It also
 * accepts inbound connections on its listen address. Every connection is bidirectional:
 * after the HELLO exchange both ends send heartbeats and messages on it. A peer is
 * identified by the name in its authenticated HELLO; an inbound connection from a name
 * that is not a configured peer is kept (it is heard) but reported with known=false.
 *
 * Liveness: a path is ALIVE while a valid frame arrived on it, or a valid pulse of its
 * peer from its remote address (pulse.h: a UDP datagram from the peer's own thread, which
 * does not wait behind the peer's loop), within heartbeat-interval × heartbeat-misses; a
 * node is ALIVE while any of its paths (outbound or inbound) is. Heartbeats go out every
 * heartbeat-interval on every connection.
 *
 * Freshness (SPEC §5, replayed messages are dropped, also across connections): each
 * side's HELLO carries "nonce", 16 hex digits, fresh from randombytes_buf for that
 * connection. Every later frame a side sends carries the OTHER side's nonce in its
 * session field (wire.h), under the HMAC; the acceptor's HELLO already carries the
 * connector's. Only the connector's HELLO is unbound (it carries its own nonce). So a
 * recording replayed on a new connection fails at the first frame after HELLO, whose
 * session is an old nonce: it is counted as "replayed" and the connection closes. On
 * the accepting side a connection becomes ALIVE (on_path, on_node, on_hello) only on the
 * connector's first frame bound to our nonce, not on its HELLO alone, which could be a
 * recording; the connector sends a heartbeat right after the acceptor's HELLO for that.
 * Within a connection, each sequence number is accepted once (lk_replay_accept).
 *
 * Protocols (docs/CLUSTER.md, "Hardening: encryption, versions and key rotation"): each
 * HELLO says "proto" (the newest the sender speaks; none: 1, the previous release),
 * "proto_min" (its min-protocol) and "version" (its software version). Both ends use the
 * newest protocol both speak, or the connection is refused (on_protocol). On protocol 2
 * the HELLO carries no info but an ephemeral X25519 key ("kx"); both ends then derive the
 * session keys (lk_wire_session_keys), seal every later frame (wire.h), and send their
 * info in their first sealed frame, a sealed HELLO {"info":{...}}: a connection becomes
 * ALIVE on the peer's sealed info (the acceptor's proof that the connector is live).
 * Sealed frames must arrive in order. On protocol 1 everything is as before, the info in
 * the HELLO; a connector that sent its HELLO without the info to a peer that answers on
 * protocol 1 reconnects at once with it.
 *
 * Frames that fail any check (malformed, oversized, bad HMAC, replayed, HELLO from
 * ourselves, anything before HELLO) close that connection, are counted per peer/address,
 * reported through on_dropped, and never reach the callbacks' message paths.
 *
 * Freeze detection: the heartbeat timer notices when the loop did not run for longer
 * than the dead time (SIGSTOP, a stalled VM). Then no path is declared dead in that tick:
 * every peer gets one full dead time from the resume to be heard again, and on_resumed
 * is called first. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "membership.h"
#include "wire.h"

struct lk_net;

/* The callbacks and options are the membership contract's (membership.h): this is the
 * TCP backend of that contract. */

/* Binds the listen address and starts connecting to every path. Returns 0 or a negative
 * errno with a one-line message in err (e.g. the address is in use). */
int lk_net_start(uv_loop_t *loop, const struct lk_membership_options *options,
                 const struct lk_membership_callbacks *callbacks, void *userdata,
                 struct lk_net **ret_net, char *err, size_t err_size);

/* Applies a changed configuration live: new paths connect, dropped paths close, the
 * heartbeat interval and misses take effect at the next tick, a changed witness address
 * reconnects. The listen address does not change while running. */
void lk_net_reconfigure(struct lk_net *net, const struct lk_config *config);

/* The cluster keys (key rotation, docs/CLUSTER.md): new connections send with key; a
 * connector's HELLO under alt (NULL: none) is accepted too, and its connection then uses
 * alt. alt_is_next: alt is the next key of a rotation in progress (a peer using it calls
 * on_next_key: that peer committed); otherwise it is the previous key, forgotten once no
 * connection uses it. Outbound connections on another key than key move to it, one per
 * peer at a time, while the peer has another ALIVE connection. Copied. */
void lk_net_set_keys(struct lk_net *net, const uint8_t key[LK_WIRE_KEY],
                     const uint8_t alt[LK_WIRE_KEY], bool alt_is_next);

/* The "info" object sent in every HELLO from now on (e.g. the settings digest, the data
 * version); copied. */
void lk_net_set_hello(struct lk_net *net, const json_t *info);

/* Sends a message to peer on its best ALIVE connection (the first configured path
 * first). Returns 0, -ENOTCONN when no connection to peer is ALIVE, -EMSGSIZE when the
 * message is larger than LK_WIRE_MAX_PAYLOAD, -ENOMEM. Messages on one connection arrive
 * in order; a message may be lost when its connection breaks (the coordinator
 * resynchronises on the next on_hello). */
int lk_net_send(struct lk_net *net, const char *peer, const json_t *msg);

/* Sends to every ALIVE peer; returns how many it was sent to. */
size_t lk_net_broadcast(struct lk_net *net, const json_t *msg);

/* Whether the node is ALIVE now. */
bool lk_net_alive(const struct lk_net *net, const char *peer);

/* Every peer this node heard of or has configured, with its paths:
 * [{"name":"node2","state":"ALIVE","known":true,"witness":false,
 *   "last_heard_ms": 120,            (ms ago; null if never)
 *   "paths":[{"address":"127.0.0.1:7402","priority":1,"direction":"out",
 *             "state":"ALIVE"|"DEAD"|"CONNECTING",
 *             "frames_in":N,"frames_out":N,"since_ms":N}],
 *   "dropped":{"malformed":N,"oversized":N,"unauthenticated":N,"replayed":N,"other":N}}]
 * Each peer also has "protocol" (of its last session; null before any), "protocol_max"
 * and "version" (from its HELLO; "unknown" from protocol 1), each path "protocol" (null
 * unless ALIVE) and "encrypted".
 * Inbound paths ("direction":"in") have "priority": null (the peer chooses them), and are
 * CONNECTING between the peer's HELLO and its first frame bound to our nonce.
 * plus one entry per unidentified remote address that sent bad frames (name null). A new
 * reference. */
json_t *lk_net_peers_json(const struct lk_net *net);

/* The pulse thread and the comm port's connections before HELLO, for status:
 * {"pulse": lk_pulse_json (pulse.h), "comm_port": {"strangers":N,"strangers_max":N,
 *  "per_source_max":N,"peer_pending":N,"stranger_timeout_ms":N}} (a new reference). */
json_t *lk_net_transport_json(const struct lk_net *net);

/* Total frames dropped since start, by kind, as in lk_net_peers_json's "dropped". */
json_t *lk_net_dropped_json(const struct lk_net *net);

/* Closes every connection and the listener, and reports nothing more (no on_node,
 * on_path, ...). Connections are drained first, so what was sent just before arrives
 * (e.g. the coordinator's "this node leaves" state): each shuts its write side down once
 * its queued frames are written and closes on the peer's EOF, or after at most 500 ms.
 * The caller must keep running the loop until on_stopped fires (at most ~500 ms), after
 * which the memory is freed. NULL-safe. */
void lk_net_stop(struct lk_net *net);
