/* Cluster key rotation without downtime (docs/CLUSTER.md, "Hardening: encryption, versions
 * and key rotation"): the two-phase exchange that gives every node the next key
 * (etc/authkey.next) before any node sends with it, then makes it the key (etc/authkey)
 * everywhere. keyroll.c owns both files' writes after the start; cluster.c routes the
 * "key-*" messages and the backend's on_next_key here; api_cluster.c starts a rotation
 * and waits for its end. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "validate.h"
#include "wire.h"

#define LK_KEYROLL_ID      16 /* hex digits of a key's id (the start of its BLAKE2b hash) */
#define LK_KEYROLL_PEERS   64
#define LK_KEYROLL_WAIT_MS 15000 /* how long the node that rotates waits for every ack */

struct lk_cluster;

/* A rotation's state on one node (embedded in struct lk_cluster). */
struct lk_keyroll {
    bool pending;               /* a next key is held (etc/authkey.next) */
    uint8_t next[LK_WIRE_KEY];  /* when pending */
    char id[LK_KEYROLL_ID + 1]; /* the next key's id (when pending, or the last one) */
    bool leading;               /* this node started the rotation and waits for acks */
    bool ended;                 /* the rotation this node led has ended (done or failed) */
    bool failed;                /* ... and failed: why */
    char why[512];              /* failed: why; done: what to tell the operator */
    uint64_t started_usec;      /* monotonic, when this node started it */
    char waiting[LK_KEYROLL_PEERS][LK_TAG_MAX + 1]; /* peers whose ack is missing ("" = got) */
    size_t waiting_count;
    json_t *acked; /* names that acknowledged (array) */
    json_t *down;  /* configured peers that were DEAD: they must be given the key by hand */
};

/* At start, after the backend started: a next key left in etc/authkey.next (a rotation
 * that did not end here) is accepted again beside the key. Logs what it finds. */
void lk_keyroll_load(struct lk_cluster *cl);

/* Starts a rotation from this node with key (NULL: a new random key). Returns 0, or a
 * negative errno with a one-line message in err (nothing changed): a rotation already
 * running, a peer that speaks protocol 1 (the key would travel in clear), the key equal
 * to the current one, the file not writable. */
int lk_keyroll_start(struct lk_cluster *cl, const uint8_t *key, char *err, size_t err_size);

/* Where the rotation this node leads stands: 0 running, 1 done (msg: what to tell), -1
 * failed (msg: why; the current key stays everywhere). Aborts it when the wait is over. */
int lk_keyroll_status(struct lk_cluster *cl, char *msg, size_t msg_size);

/* The rotation's reply for lkcli (a new reference). */
json_t *lk_keyroll_json(const struct lk_cluster *cl);

/* A "key-next", "key-ack", "key-nack", "key-commit" or "key-abort" message from peer. */
void lk_keyroll_on_message(struct lk_cluster *cl, const char *peer, const char *t,
                           const json_t *msg);

/* The backend saw a peer use the next key: the rotation was committed; commit here. */
void lk_keyroll_on_next_key(void *userdata);
