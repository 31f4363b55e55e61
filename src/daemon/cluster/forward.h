/* Requests forwarded to another node (issue 14, `-d NODE` of the LifeKeeper commands): the
 * "req", "rep" and "req-end" messages between lkd's (docs/CLUSTER.md). The asking side
 * sends a request line with the caller's role and a deadline, and hears back every message
 * the other node's request layer sends (progress, then one final reply); the serving side
 * hands the line to whoever serves it (the api, through lk_forward_set_server) and sends its
 * messages back. A peer that dies, leaves or misses the deadline ends the request on both
 * sides: the asker gets a final error reply built here, the server's request is cancelled. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct lk_cluster;
struct lk_forward;

#define LK_FORWARD_MAX_PER_PEER  16 /* requests in flight to one peer */
#define LK_FORWARD_ADMIN_RESERVE 4  /* of those, held for admins (a guest's log --follow stays) */
#define LK_FORWARD_DEADLINE_MS   (3660ULL * 1000) /* default: remote.exec's limit + 1 min */
#define LK_FORWARD_EXIT_COMM     9                /* the reply code of a failed forward */

/* A message of the forwarded request (a JSON message of src/lib/proto.h, stolen), final
 * once; after the final one the forward is gone. */
typedef void (*lk_forward_msg_cb)(void *userdata, json_t *msg, bool final);

/* Sends line (a request, NUL-terminated) to peer, to run there as role ("guest",
 * "operator", "admin"; uid: the caller's, for the events there, -1 unknown) within deadline_ms (0:
 * LK_FORWARD_DEADLINE_MS). Returns 0 and sets *ret (valid until the final message or
 * lk_forward_cancel): cb fires from the loop for each message, the last with final = true (an error
 * reply with code LK_FORWARD_EXIT_COMM when the peer died, left or missed the deadline). Or, with
 * cb never called and a one-line reason in err: -ENOENT (no such node), -EHOSTDOWN (not alive, or a
 * witness), -EBUSY (too many in flight to it: LK_FORWARD_MAX_PER_PEER, of which callers
 * without the admin role may hold all but LK_FORWARD_ADMIN_RESERVE), -ENOMEM. */
int lk_forward_start(struct lk_cluster *cl, const char *peer, const char *role, long long uid,
                     const char *line, uint64_t deadline_ms, lk_forward_msg_cb cb, void *userdata,
                     struct lk_forward **ret, char *err, size_t err_size);

/* The asker went away: cb never fires again, the peer is told to drop the request. */
void lk_forward_cancel(struct lk_forward *f);

/* What serves the requests other nodes forward here (the api). start gets the asking peer,
 * the role and the line; it returns its handle for the request, or NULL after which the
 * forward module answers an error. cancel tells it the asker is gone (nothing more may be
 * answered for it). */
struct lk_forward_server {
    void *(*start)(void *userdata, const char *from, uint64_t id, const char *role, long long uid,
                   const char *line);
    void (*cancel)(void *userdata, void *handle);
};
void lk_forward_set_server(struct lk_cluster *cl, const struct lk_forward_server *server,
                           void *userdata);

/* The server's message for the request (from, id): final = the last. text is one JSON
 * message, borrowed. Nothing is sent when the request was cancelled meanwhile. */
void lk_forward_answer(struct lk_cluster *cl, const char *from, uint64_t id, const char *text,
                       bool final);

/* cluster.c: the messages, and the stop (every forward fails, every served one is
 * cancelled). */
void lk_forward_on_message(struct lk_cluster *cl, const char *from, const char *t,
                           const json_t *msg);
/* peer was declared dead: what was asked of it fails (9) and what it asked here is dropped. */
void lk_forward_peer_dead(struct lk_cluster *cl, const char *peer);
void lk_forward_stop(struct lk_cluster *cl);
