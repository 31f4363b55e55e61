/* Cluster key rotation (keyroll.h; the protocol is in docs/CLUSTER.md, "Hardening:
 * encryption, versions and key rotation"). Phase 1: the node where `lkcli cluster
 * rotate-key` runs writes etc/authkey.next and sends "key-next" (the key, sealed: only to
 * peers on protocol 2) to every live peer; each writes etc/authkey.next, accepts both keys
 * on new connections, and answers "key-ack". Phase 2, once every live peer acknowledged:
 * "key-commit"; each node renames etc/authkey.next over etc/authkey, sends with the new
 * key from then on, still accepts the old one until no connection uses it, and moves its
 * outbound connections to the new key without losing a peer (net.c, rekey). A node that
 * sees a peer connect with its next key commits by itself (the commit message was lost,
 * or it was restarted in between). A missing ack within LK_KEYROLL_WAIT_MS aborts: every
 * node drops etc/authkey.next and keeps the current key.
 *
 * Events that enter: the api's start and status calls, the peers' key-* messages, the
 * backend's on_next_key. Never: send a key to a peer on protocol 1, send with the next
 * key before every live peer holds it, or leave etc/authkey half written (each file is
 * written to a temporary file, synced, and renamed). */
#include "keyroll.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "cluster_internal.h"
#include "config.h"
#include "eventlog.h"

#define NEXT_NAME LK_AUTHKEY_NAME ".next"
#define KEY_T     "t"
#define KEY_ID    "id"
#define KEY_KEY   "key"
#define KEY_WHY   "why"

static uint64_t mono_usec(void)
{
    return uv_hrtime() / 1000;
}

/* The id of a key: the first LK_KEYROLL_ID hex digits of its BLAKE2b hash (says which key
 * without telling it). */
static void key_id(const uint8_t key[LK_WIRE_KEY], char id[LK_KEYROLL_ID + 1])
{
    uint8_t hash[LK_KEYROLL_ID / 2];
    crypto_generichash(hash, sizeof(hash), key, LK_WIRE_KEY, NULL, 0);
    sodium_bin2hex(id, LK_KEYROLL_ID + 1, hash, sizeof(hash));
}

static void path_of(const struct lk_cluster *cl, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", cl->node->root, name);
}

/* Writes key (hex and a newline) to name under the root: a temporary file, mode 0600,
 * synced, renamed over name, the directory synced. Returns 0 or -errno. */
static int write_key_file(const struct lk_cluster *cl, const char *name,
                          const uint8_t key[LK_WIRE_KEY])
{
    char path[LK_PATH_MAX + 64], tmp[LK_PATH_MAX + 80];
    path_of(cl, name, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    (void) unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -errno;
    }
    char hex[2 * LK_WIRE_KEY + 2];
    sodium_bin2hex(hex, sizeof(hex), key, LK_WIRE_KEY);
    strcat(hex, "\n");
    size_t len = strlen(hex);
    int r = 0;
    if (write(fd, hex, len) != (ssize_t) len || fsync(fd) < 0) {
        r = errno ? -errno : -EIO;
    }
    sodium_memzero(hex, sizeof(hex));
    if (close(fd) < 0 && r == 0) {
        r = -errno;
    }
    if (r == 0 && rename(tmp, path) < 0) {
        r = -errno;
    }
    if (r < 0) {
        (void) unlink(tmp);
        return r;
    }
    char dir[LK_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/etc", cl->node->root);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void) fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Reads a key file under the root. Returns 0, -ENOENT, or -EINVAL when it is not a key. */
static int read_key_file(const struct lk_cluster *cl, const char *name, uint8_t key[LK_WIRE_KEY])
{
    char path[LK_PATH_MAX + 64];
    path_of(cl, name, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL; /* a FIFO or a device: not read (it could block) */
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) {
        return -EINVAL;
    }
    buf[n] = '\0';
    int r = lk_wire_key_parse(buf, key);
    sodium_memzero(buf, sizeof(buf));
    return r;
}

static void set_keys(struct lk_cluster *cl, const uint8_t *alt, bool alt_is_next)
{
    if (cl->net && cl->membership->set_keys) {
        cl->membership->set_keys(cl->net, cl->key, alt, alt_is_next);
    }
}

/* Holds next as the next key: etc/authkey.next, and accepted on new connections. */
static int hold_next(struct lk_cluster *cl, const uint8_t next[LK_WIRE_KEY])
{
    int r = write_key_file(cl, NEXT_NAME, next);
    if (r < 0) {
        return r;
    }
    struct lk_keyroll *kr = &cl->keyroll;
    memcpy(kr->next, next, LK_WIRE_KEY);
    key_id(next, kr->id);
    kr->pending = true;
    set_keys(cl, kr->next, true);
    return 0;
}

/* Drops the next key: this rotation is over without it. */
static void drop_next(struct lk_cluster *cl)
{
    struct lk_keyroll *kr = &cl->keyroll;
    char path[LK_PATH_MAX + 64];
    path_of(cl, NEXT_NAME, path, sizeof(path));
    (void) unlink(path);
    kr->pending = false;
    sodium_memzero(kr->next, sizeof(kr->next));
    set_keys(cl, NULL, false);
}

/* Phase 2 here: the next key becomes the key (etc/authkey), the old one is accepted
 * until no connection uses it. */
static void commit(struct lk_cluster *cl, const char *how)
{
    struct lk_keyroll *kr = &cl->keyroll;
    if (!kr->pending) {
        return;
    }
    char next_path[LK_PATH_MAX + 64], path[LK_PATH_MAX + 64];
    path_of(cl, NEXT_NAME, next_path, sizeof(next_path));
    path_of(cl, LK_AUTHKEY_NAME, path, sizeof(path));
    if (rename(next_path, path) < 0) {
        char why[300];
        snprintf(why, sizeof(why), "cannot rename '%s' to '%s': %s", next_path, path,
                 strerror(errno));
        lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_FAILED, why);
        return;
    }
    uint8_t old[LK_WIRE_KEY];
    memcpy(old, cl->key, LK_WIRE_KEY);
    memcpy(cl->key, kr->next, LK_WIRE_KEY);
    sodium_memzero(kr->next, sizeof(kr->next));
    kr->pending = false;
    set_keys(cl, old, false);
    sodium_memzero(old, sizeof(old));
    lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_REPLACED, kr->id, how);
    /* The guard's plan names the key file: it is read again with the next plan. */
    lk_bus_changed(cl->node->bus, NULL);
}

static int send_to(struct lk_cluster *cl, const char *peer, const char *t, json_t *extra)
{
    json_t *msg = extra ? extra : json_object();
    json_object_set_new(msg, KEY_T, json_string(t));
    json_object_set_new(msg, KEY_ID, json_string(cl->keyroll.id));
    return lk_cluster_send(cl, peer, msg);
}

/* The protocol a live peer's last session speaks (0 unknown), from the backend. */
static int peer_protocol(const struct lk_cluster *cl, const char *peer)
{
    json_t *peers = cl->net ? cl->membership->peers_json(cl->net) : NULL;
    int proto = 0;
    size_t i;
    json_t *e;
    json_array_foreach(peers, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name && strcmp(name, peer) == 0) {
            proto = (int) json_integer_value(json_object_get(e, "protocol"));
        }
    }
    json_decref(peers);
    return proto;
}

static bool member(const struct peer *p)
{
    return p->configured || p->witness;
}

int lk_keyroll_start(struct lk_cluster *cl, const uint8_t *key, char *err, size_t err_size)
{
    struct lk_keyroll *kr = &cl->keyroll;
    if (!cl->net) {
        snprintf(err, err_size, "the comm paths are not running");
        return -ENOTCONN;
    }
    if (kr->leading && !kr->ended) {
        snprintf(err, err_size, "a key rotation (key %s) is already in progress", kr->id);
        return -EBUSY;
    }
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        int proto = p->alive && member(p) ? peer_protocol(cl, p->name) : 2;
        if (proto < 2) {
            snprintf(err, err_size,
                     "node %s speaks protocol %d: the new key would travel in clear; upgrade it "
                     "first, or copy a new etc/authkey to every node by hand",
                     p->name, proto);
            return -EPROTO;
        }
    }
    uint8_t next[LK_WIRE_KEY];
    if (key) {
        memcpy(next, key, LK_WIRE_KEY);
    } else {
        randombytes_buf(next, sizeof(next));
    }
    if (sodium_memcmp(next, cl->key, LK_WIRE_KEY) == 0) {
        sodium_memzero(next, sizeof(next));
        snprintf(err, err_size, "the new key is the current cluster key");
        return -EINVAL;
    }
    int r = hold_next(cl, next);
    sodium_memzero(next, sizeof(next));
    if (r < 0) {
        snprintf(err, err_size, "cannot write '%s/%s': %s", cl->node->root, NEXT_NAME,
                 strerror(-r));
        return r;
    }
    kr->leading = true;
    kr->ended = false;
    kr->failed = false;
    kr->why[0] = '\0';
    kr->started_usec = mono_usec();
    kr->waiting_count = 0;
    json_decref(kr->acked);
    json_decref(kr->down);
    kr->acked = json_array();
    kr->down = json_array();
    char hex[2 * LK_WIRE_KEY + 1];
    sodium_bin2hex(hex, sizeof(hex), kr->next, LK_WIRE_KEY);
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        if (!member(p)) {
            continue;
        }
        if (!p->alive || kr->waiting_count == LK_KEYROLL_PEERS ||
            send_to(cl, p->name, "key-next", json_pack("{s:s}", KEY_KEY, hex)) < 0) {
            json_array_append_new(kr->down, json_string(p->name));
            continue;
        }
        snprintf(kr->waiting[kr->waiting_count++], sizeof(kr->waiting[0]), "%s", p->name);
    }
    sodium_memzero(hex, sizeof(hex));
    char what[128];
    snprintf(what, sizeof(what), "%zu live peer%s to acknowledge", kr->waiting_count,
             kr->waiting_count == 1 ? "" : "s");
    lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_STARTED, kr->id, what);
    size_t i;
    json_t *d;
    json_array_foreach(kr->down, i, d)
    {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_NOT_GIVEN, json_string_value(d));
    }
    return 0;
}

/* Ends the rotation this node leads: commits everywhere (every live peer holds the key)
 * or aborts everywhere with why. */
static void finish(struct lk_cluster *cl, const char *abort_why)
{
    struct lk_keyroll *kr = &cl->keyroll;
    kr->ended = true;
    for (size_t i = 0; i < cl->peer_count; i++) {
        const struct peer *p = &cl->peers[i];
        if (member(p) && p->alive) {
            (void) send_to(cl, p->name, abort_why ? "key-abort" : "key-commit", NULL);
        }
    }
    if (abort_why) {
        kr->failed = true;
        snprintf(kr->why, sizeof(kr->why), "%s: rotation aborted, the current key stays",
                 abort_why);
        drop_next(cl);
        lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_FAILED, kr->why);
        return;
    }
    commit(cl, "every live node acknowledged it");
    snprintf(kr->why, sizeof(kr->why), "cluster key replaced (key %s)", kr->id);
}

int lk_keyroll_status(struct lk_cluster *cl, char *msg, size_t msg_size)
{
    struct lk_keyroll *kr = &cl->keyroll;
    if (!kr->leading) {
        snprintf(msg, msg_size, "no key rotation");
        return -1;
    }
    if (!kr->ended) {
        /* A peer that died meanwhile does not hold the rotation up: if it got the key, it
         * commits when a peer connects with it; else it is given the key by hand. */
        size_t missing = 0;
        const char *first = NULL;
        for (size_t i = 0; i < kr->waiting_count; i++) {
            if (!kr->waiting[i][0]) {
                continue;
            }
            const struct peer *p = lk_cluster_peer(cl, kr->waiting[i]);
            if (p && !p->alive) {
                json_array_append_new(kr->down, json_string(kr->waiting[i]));
                lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_NOT_GIVEN, kr->waiting[i]);
                kr->waiting[i][0] = '\0';
                continue;
            }
            missing++;
            first = first ? first : kr->waiting[i];
        }
        if (missing == 0) {
            finish(cl, NULL);
        } else if (mono_usec() - kr->started_usec > (uint64_t) LK_KEYROLL_WAIT_MS * 1000) {
            char why[256];
            snprintf(why, sizeof(why), "node %s did not acknowledge the new key within %d s", first,
                     LK_KEYROLL_WAIT_MS / 1000);
            finish(cl, why);
        } else {
            return 0;
        }
    }
    snprintf(msg, msg_size, "%s", kr->why);
    return kr->failed ? -1 : 1;
}

json_t *lk_keyroll_json(const struct lk_cluster *cl)
{
    const struct lk_keyroll *kr = &cl->keyroll;
    return json_pack("{s:s,s:O,s:O}", "key_id", kr->id, "acknowledged",
                     kr->acked ? kr->acked : json_null(), "not_given",
                     kr->down ? kr->down : json_null());
}

/* A key-next from peer: hold the key it gives, answer key-ack (or key-nack). */
static void on_next(struct lk_cluster *cl, const char *peer, const json_t *msg)
{
    struct lk_keyroll *kr = &cl->keyroll;
    const char *hex = json_string_value(json_object_get(msg, KEY_KEY));
    const char *id = json_string_value(json_object_get(msg, KEY_ID));
    uint8_t next[LK_WIRE_KEY];
    char why[256] = "";
    char want[LK_KEYROLL_ID + 1];
    if (!hex || !id || lk_wire_key_parse(hex, next) < 0) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, peer, "malformed key-next");
        return;
    }
    key_id(next, want);
    if (strcmp(want, id) != 0) {
        snprintf(why, sizeof(why), "the key does not match its id");
    } else if (kr->leading && !kr->ended) {
        snprintf(why, sizeof(why), "node %s rotates the key itself (key %s)", cl->node->name,
                 kr->id);
    } else if (sodium_memcmp(next, cl->key, LK_WIRE_KEY) == 0) {
        snprintf(why, sizeof(why), "the new key is the current key here");
    } else {
        int r = hold_next(cl, next);
        if (r < 0) {
            snprintf(why, sizeof(why), "cannot write '%s/%s': %s", cl->node->root, NEXT_NAME,
                     strerror(-r));
        }
    }
    sodium_memzero(next, sizeof(next));
    if (why[0]) {
        json_t *nack = json_pack("{s:s,s:s,s:s}", KEY_T, "key-nack", KEY_ID, id, KEY_WHY, why);
        (void) lk_cluster_send(cl, peer, nack);
        return;
    }
    char what[128];
    snprintf(what, sizeof(what), "given by %s", peer);
    lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_STARTED, kr->id, what);
    (void) send_to(cl, peer, "key-ack", NULL);
}

void lk_keyroll_on_message(struct lk_cluster *cl, const char *peer, const char *t,
                           const json_t *msg)
{
    struct lk_keyroll *kr = &cl->keyroll;
    const char *id = json_string_value(json_object_get(msg, KEY_ID));
    if (!id) {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, peer, "key message without an id");
        return;
    }
    if (strcmp(t, "key-next") == 0) {
        on_next(cl, peer, msg);
        return;
    }
    bool ours = strcmp(id, kr->id) == 0;
    if (strcmp(t, "key-ack") == 0 || strcmp(t, "key-nack") == 0) {
        if (!ours || !kr->leading || kr->ended) {
            return; /* late: that rotation is over */
        }
        for (size_t i = 0; i < kr->waiting_count; i++) {
            if (strcmp(kr->waiting[i], peer) == 0) {
                kr->waiting[i][0] = '\0';
            }
        }
        if (strcmp(t, "key-nack") == 0) {
            const char *why = json_string_value(json_object_get(msg, KEY_WHY));
            char all[400];
            snprintf(all, sizeof(all), "node %s refused the new key (%.200s)", peer,
                     why ? why : "no reason");
            finish(cl, all);
        } else {
            json_array_append_new(kr->acked, json_string(peer));
        }
        lk_bus_changed(cl->node->bus, NULL);
        return;
    }
    if (!ours || !kr->pending) {
        return;
    }
    if (strcmp(t, "key-commit") == 0) {
        char how[128];
        snprintf(how, sizeof(how), "committed by %s", peer);
        commit(cl, how);
    } else if (strcmp(t, "key-abort") == 0) {
        drop_next(cl);
        char why[128];
        snprintf(why, sizeof(why), "aborted by %s: the current key stays", peer);
        lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_FAILED, why);
    } else {
        lk_eventlog_msg(cl->node, NULL, LK_MSG_DATA_REJECTED, peer, "unknown key message");
    }
}

void lk_keyroll_on_next_key(void *userdata)
{
    struct lk_cluster *cl = userdata;
    struct lk_keyroll *kr = &cl->keyroll;
    /* Nobody sends with the next key before every live node holds it: the rotation was
     * committed (that message was lost here, or this node restarted meanwhile). The node
     * that leads commits through finish only. */
    if (kr->pending && !(kr->leading && !kr->ended)) {
        commit(cl, "a peer connected with it");
    }
}

void lk_keyroll_load(struct lk_cluster *cl)
{
    uint8_t next[LK_WIRE_KEY];
    int r = read_key_file(cl, NEXT_NAME, next);
    if (r == -ENOENT) {
        return;
    }
    char path[LK_PATH_MAX + 64];
    path_of(cl, NEXT_NAME, path, sizeof(path));
    if (r < 0 || sodium_memcmp(next, cl->key, LK_WIRE_KEY) == 0) {
        char why[LK_PATH_MAX + 128];
        snprintf(why, sizeof(why), "'%s' is %s: ignoring it", path,
                 r < 0 ? "not a cluster key" : "the current key");
        lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_FAILED, why);
        sodium_memzero(next, sizeof(next));
        return;
    }
    struct lk_keyroll *kr = &cl->keyroll;
    memcpy(kr->next, next, LK_WIRE_KEY);
    sodium_memzero(next, sizeof(next));
    key_id(kr->next, kr->id);
    kr->pending = true;
    set_keys(cl, kr->next, true);
    lk_eventlog_msg(cl->node, NULL, LK_MSG_KEY_ROTATION_STARTED, kr->id,
                    "left in etc/authkey.next by a rotation that did not end here: accepted, "
                    "committed when a peer uses it");
}
